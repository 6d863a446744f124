"""Optimizers, which update parameters from their gradients, and learning-rate schedules.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` follow ``torch.optim``'s formulas and
options; ``lr_scheduler`` holds the schedules (``StepLR``, ``CosineAnnealingLR``,
``ReduceLROnPlateau``...).
"""
from chainrule.optim import lr_scheduler, swa_utils
from chainrule.optim.adadelta import Adadelta
from chainrule.optim.adafactor import Adafactor
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam
from chainrule.optim.adamax import Adamax
from chainrule.optim.adamw import AdamW
from chainrule.optim.asgd import ASGD
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim.muon import Muon
from chainrule.optim.nadam import NAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.radam import RAdam
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.rprop import Rprop
from chainrule.optim.sgd import SGD

__all__ = [
    "ASGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LBFGS",
    "Muon",
    "NAdam",
    "Optimizer",
    "RAdam",
    "RMSprop",
    "Rprop",
    "SGD",
    "lr_scheduler",
    "swa_utils",
]
