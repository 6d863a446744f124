"""Optimizers, which update parameters from their gradients, learning-rate schedules, and weight averaging.

The optimizers follow ``torch.optim``'s formulas, signatures, defaults, error messages and state
layout: ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``, ``NAdam``,
``RAdam``, ``ASGD``, ``Rprop``, ``Adafactor``, ``Muon``, ``SparseAdam`` (one file each) and ``LBFGS``
(with the strong Wolfe line search in ``strong_wolfe.py``). ``lr_scheduler`` holds the schedules (``StepLR``,
``OneCycleLR``, ``SequentialLR``...), ``swa_utils`` the averaged models (SWA, EMA) and ``SWALR``;
``swap_in_optimizer_params_and_state`` runs an optimizer on other parameters and state for a while.

A sparse gradient (``nn.Embedding(sparse=True)``'s) is taken by ``SGD``, ``Adagrad`` and
``SparseAdam``, which update only the rows it lists (``LBFGS`` reads it as dense); the others raise
PyTorch's RuntimeError.
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
from chainrule.optim.sparse_adam import SparseAdam
from chainrule.optim.swap_in import swap_in_optimizer_params_and_state

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
    "SparseAdam",
    "lr_scheduler",
    "swa_utils",
    "swap_in_optimizer_params_and_state",
]
