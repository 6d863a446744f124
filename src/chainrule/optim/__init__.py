"""Optimizers, which update parameters from their gradients, and learning-rate schedules.

``SGD``, ``Adam``, ``AdamW``, ``RMSprop`` and ``Adagrad`` follow ``torch.optim``'s formulas and
options; ``lr_scheduler`` holds the schedules (``StepLR``, ``CosineAnnealingLR``,
``ReduceLROnPlateau``...).
"""
from chainrule.optim import lr_scheduler
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam
from chainrule.optim.adamw import AdamW
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD

__all__ = ["Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "SGD", "lr_scheduler"]
