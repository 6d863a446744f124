"""The autograd engine: Function, backward, grad, grad mode, gradcheck, anomaly detection, ``Variable``,
``functional`` (Jacobians, Hessians and their products), ``graph`` (nodes, edges, saved-tensor hooks)
and ``forward_ad`` (forward mode: tangents carried with the values)."""
import importlib
import sys

from chainrule.autograd.anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from chainrule.autograd.function import AccumulateGrad, BackwardNode, Function, FunctionCtx, SavedTensor
from chainrule.autograd.backward_pass import backward, grad
from chainrule.autograd.grad_mode import (
    enable_grad, enforce_grad_layout_policy, inference_mode, is_grad_enabled, no_grad, set_grad_enabled,
    set_multithreading_enabled,
)
from chainrule.autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck, numerical_gradient
from chainrule.autograd import forward_ad, functional, graph
from chainrule.autograd.variable import Variable

sys.modules[f"{__name__}.anomaly_mode"] = anomaly_mode = importlib.import_module("chainrule.autograd.anomaly")  # PyTorch's path

__all__ = [
    "AccumulateGrad",
    "BackwardNode",
    "Function",
    "forward_ad",
    "functional",
    "graph",
    "FunctionCtx",
    "GradcheckError",
    "SavedTensor",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "enforce_grad_layout_policy",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "numerical_gradient",
    "set_detect_anomaly",
    "set_grad_enabled",
    "set_multithreading_enabled",
]


def __getattr__(name):
    if name == "profiler":  # imported when first used: it times the optimizers, which load after autograd
        return importlib.import_module(f"{__name__}.profiler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
