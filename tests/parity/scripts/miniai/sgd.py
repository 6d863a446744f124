# miniai/sgd.py (BaseSchedCB, BatchSchedCB, EpochSchedCB), https://github.com/fastai/course22p2 (from nbs/12_accel_sgd.ipynb).
from .learner import *

class BaseSchedCB(Callback):
    def __init__(self, sched): self.sched = sched
    def before_fit(self, learn): self.schedo = self.sched(learn.opt)
    def _step(self, learn):
        if learn.training: self.schedo.step()

class BatchSchedCB(BaseSchedCB):
    def after_batch(self, learn): self._step(learn)

class EpochSchedCB(BaseSchedCB):
    def after_epoch(self, learn): self._step(learn)
