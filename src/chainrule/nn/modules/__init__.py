"""PyTorch's import paths of the layers, for code that imports from them: ``torch.nn.modules.X``
is chainrule's ``chainrule.nn.X`` file of the same layers (``from chainrule.nn.modules.loss import
_Loss``, ``from chainrule.nn.modules.module import register_module_forward_hook``), and the layers
themselves are found here as in ``chainrule.nn`` (``from chainrule.nn.modules import Linear``).

Nothing is defined here: each name below is the file where chainrule keeps those layers (PyTorch's
``batchnorm`` and ``instancenorm`` layers are in ``normalization``). chainrule keeps a few layers
in files of their own where PyTorch does not (the Lazy layers in ``lazy``, MultiheadAttention in
``multihead_attention``): those are also found in the file PyTorch keeps them in.
"""
import importlib
import sys

_FILES = {
    "activation": "activation",
    "adaptive": "adaptive",
    "batchnorm": "normalization",
    "channelshuffle": "channelshuffle",
    "container": "container",
    "conv": "conv",
    "distance": "distance",
    "dropout": "dropout",
    "flatten": "flatten",
    "fold": "fold",
    "instancenorm": "normalization",
    "lazy": "lazy",
    "linear": "linear",
    "linear_cross_entropy_options": "linear_cross_entropy",
    "loss": "loss",
    "module": "module",
    "normalization": "normalization",
    "padding": "padding",
    "pixelshuffle": "pixelshuffle",
    "pooling": "pooling",
    "rnn": "rnn",
    "sparse": "sparse",
    "transformer": "transformer",
    "upsampling": "upsampling",
}

for _name, _file in _FILES.items():
    sys.modules[f"{__name__}.{_name}"] = globals()[_name] = importlib.import_module(f"chainrule.nn.{_file}")

#: The layers chainrule keeps in files of their own, also found in the file where PyTorch keeps them
#: (``torch.nn.modules.activation.MultiheadAttention`` in a ``safe_globals`` list, ``torch.nn.modules.conv.LazyConv2d``).
_ALSO_WHERE_PYTORCH_KEEPS_THEM = {
    "multihead_attention": {"activation": ["MultiheadAttention"]},
    "lazy": {
        "linear": ["LazyLinear"],
        "conv": [f"Lazy{kind}{n}d" for kind in ("Conv", "ConvTranspose") for n in (1, 2, 3)],
        "batchnorm": [f"LazyBatchNorm{n}d" for n in (1, 2, 3)],
        "instancenorm": [f"LazyInstanceNorm{n}d" for n in (1, 2, 3)],
    },
    "linear_cross_entropy": {"loss": ["LinearCrossEntropyLoss"]},
    "cross_map_lrn": {"normalization": ["CrossMapLRN2d"]},
}

for _file, _places in _ALSO_WHERE_PYTORCH_KEEPS_THEM.items():
    _home = importlib.import_module(f"chainrule.nn.{_file}")
    for _name, _layers in _places.items():
        for _layer in _layers:
            setattr(globals()[_name], _layer, getattr(_home, _layer))


def __getattr__(name):
    """A layer, as ``chainrule.nn`` has it (looked up when asked: ``chainrule.nn`` imports this package)."""
    try:
        return getattr(importlib.import_module("chainrule.nn"), name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
