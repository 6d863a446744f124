# miniai/accel.py (MixedPrecision), https://github.com/fastai/course22p2 (from nbs/17_DDPM_v2.ipynb), run in
# float32: the float16 autocast and the GradScaler are left out (no float16 matmuls in NumPy; a CPU run).
from .learner import *

class MixedPrecision(TrainCB):
    order = DeviceCB.order+10
