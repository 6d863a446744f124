# models/__init__.py of https://github.com/kuangliu/pytorch-cifar, limited to the model files the cifar_* scripts use.
from .densenet import *
from .shufflenetv2 import *
from .efficientnet import *
