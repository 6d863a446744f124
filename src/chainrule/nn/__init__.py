"""Neural-network building blocks, as ``torch.nn``: Module and Parameter, containers, layers,
activations and losses, plus ``functional`` (the same operations as functions), ``init`` and
``utils`` (gradient clipping).

    import chainrule as torch
    from chainrule import nn

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""
from chainrule.nn import functional, init, parallel, utils
from chainrule.nn.activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from chainrule.nn.container import ModuleDict, ModuleList, Sequential
from chainrule.nn.dropout import Dropout
from chainrule.nn.flatten import Flatten, Unflatten
from chainrule.nn.linear import Identity, Linear
from chainrule.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.module import Module
from chainrule.nn.normalization import BatchNorm1d, LayerNorm
from chainrule.nn.parameter import Parameter
from chainrule.nn.sparse import Embedding

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
    "parallel",
    "utils",
]
