"""Every public PyTorch name in the groups course code uses exists in chainrule, or is listed here.

The groups (``pytorch_api.py``): top-level functions of torch's reference sections (creation,
indexing, random sampling, pointwise, reduction, comparison, other, BLAS/LAPACK), the Tensor class
reference, ``nn.functional``, the ``nn`` modules, the methods of ``nn.Module`` and ``optim.Optimizer``, and the ``__all__`` of ``nn.init``, ``nn.utils`` (with
``rnn``, ``parametrize``, ``parametrizations``), ``utils.data``, ``autograd.graph``, ``autograd.forward_ad``, ``nn.attention``, ``nn.utils.prune``,
``testing``, ``profiler``, ``compiler`` and the methods of ``utils.tensorboard.SummaryWriter``. A name chainrule lacks must be in

- ``DELIBERATELY_MISSING``, with the reason it will not come (it cannot mean anything on dense real
  NumPy arrays on one CPU, or PyTorch itself deprecates it), or
- ``NOT_YET``: the known gaps, to shrink as the names land.

The test fails on a new unlisted gap, and on a listed name that now exists (remove it from the list).
"""
import operator

import pytest
import torch
import torch.autograd.forward_ad
import torch.nn.attention
import torch.autograd.graph
import torch.nn.utils.parametrizations
import torch.nn.utils.parametrize
import torch.nn.utils.prune
import torch.compiler
import torch.profiler
import torch.utils.tensorboard

import chainrule
import chainrule.autograd.forward_ad
import chainrule.nn.attention
import chainrule.autograd.graph
import chainrule.nn.functional
import chainrule.nn.utils.parametrizations
import chainrule.nn.utils.parametrize
import chainrule.nn.utils.prune
import chainrule.compiler
import chainrule.profiler
import chainrule.utils.tensorboard
import chainrule.nn.utils.rnn
import chainrule.utils.data

from tests.parity import pytorch_api


def _because(reason, names):
    return dict.fromkeys(names.split(), reason)


_SPARSE = "the sparse-times-dense products that PyTorch returns sparse (sspaddmm, smm): chainrule's are dense"
_QUANTIZED = "quantized kernels of batch norm and max pooling: chainrule quantizes linear and convolution layers"
_MEMORY = "storage, pointers, pinning, sharing and strided views of raw memory: NumPy owns the memory"
_DEVICES = "devices other than the CPU (XPU, MKL-DNN, meta): chainrule computes with NumPy on the CPU"

DELIBERATELY_MISSING = {
    "torch": {
        **_because(
            _QUANTIZED,
            "quantized_batch_norm quantized_max_pool1d quantized_max_pool2d",
        ),
        **_because("the C++ ABI PyTorch's binaries were built with: chainrule has no C++ part", "compiled_with_cxx11_abi"),
    },
    "Tensor": {
        **_because(
            _SPARSE,
            "sspaddmm smm",
        ),
        **_because(_MEMORY, "record_stream"),
        **_because(_DEVICES, "xpu to_mkldnn"),
    },
    "nn.functional": {},
    "nn": {},
    "nn.init": {},
    "nn.utils": {},
    "nn.utils.rnn": {},
    "nn.utils.parametrize": {},
    "nn.utils.parametrizations": {},
    "nn.utils.prune": {},
    "autograd.forward_ad": {},
    "nn.attention": {
        **_because(
            _DEVICES + " (registries of fused GPU flash-attention kernels)",
            "WARN_FOR_UNFUSED_KERNELS register_flash_attention_impl activate_flash_attention_impl "
            "list_flash_attention_impls current_flash_attention_impl restore_flash_attention_impl",
        ),
    },
    "testing": {**_because("TorchScript's IR pattern checker: chainrule has no TorchScript", "FileCheck")},
    "compiler": {
        **_because(
            "Dynamo's internals (guard filtering, cache artifacts, CUDA graphs, export, nested regions, numpy "
            "tracing): chainrule records a call, with no graph compiler behind it",
            "config set_default_backend get_default_backend set_enable_guard_collectives "
            "load_compiled_function wrap_numpy save_cache_artifacts load_cache_artifacts keep_portable_guards_unsafe "
            "skip_guard_on_inbuilt_nn_modules_unsafe skip_guard_on_all_nn_modules_unsafe keep_tensor_guards_unsafe "
            "skip_guard_on_globals_unsafe skip_all_guards_unsafe nested_compile_region",
        ),
    },
    "profiler": {
        **_because("PyTorch's operator execution traces, for its own replay tools", "ExecutionTraceObserver"),
        **_because(_DEVICES + " (the device kinds of Kineto's events)", "DeviceType"),
    },
    "utils.tensorboard.SummaryWriter": {},
    "autograd.graph": {
        **_because(_DEVICES + " (CUDA streams)", "set_warn_on_accumulate_grad_stream_mismatch set_override_stale_capture_stream"),
    },
    "nn.Module": {
        **_because(_DEVICES, "ipu mtia xpu"),
    },
    "optim.Optimizer": {},
    "utils.data": {
        **_because(
            "DataPipes: deprecated by PyTorch itself (torchdata stopped them); course code uses Dataset and DataLoader",
            "DFIterDataPipe DataChunk IterDataPipe MapDataPipe argument_validation functional_datapipe "
            "guaranteed_datapipes_determinism non_deterministic runtime_validation runtime_validation_disabled",
        ),
    },
}

NOT_YET = {
    "torch": set(),
    "Tensor": set(
        """
        """.split()
    ),
    "nn.functional": set(
        """
        """.split()
    ),
    "nn": set(
        """
        """.split()
    ),
    "nn.init": set(),
    "nn.utils": set(),
    "nn.utils.rnn": set(),
    "nn.utils.parametrize": set(),
    "nn.utils.parametrizations": set(),
    "utils.data": set(),
    "nn.utils.prune": set(),
    "autograd.forward_ad": set(),
    "nn.attention": set(),
    "testing": set(),
    "profiler": set(),
    "compiler": set(),
    "utils.tensorboard.SummaryWriter": set(),
    "autograd.graph": set("region_activation_memory_budget".split()),
    "nn.Module": set(),
    "optim.Optimizer": set(),
}


def _groups():
    """Each group: its PyTorch names (those the installed torch has) and where chainrule keeps them."""
    top_level = [name for section in pytorch_api.TOP_LEVEL.values() for name in section.split()]
    return {
        "torch": ([name for name in top_level if hasattr(torch, name)], chainrule),
        "Tensor": ([name for name in pytorch_api.TENSOR_METHODS.split() if hasattr(torch.Tensor, name)], chainrule.Tensor),
        "nn.functional": (
            [name for name in pytorch_api.NN_FUNCTIONAL.split() if hasattr(torch.nn.functional, name)],
            chainrule.nn.functional,
        ),
        "nn": (list(torch.nn.modules.__all__), chainrule.nn),
        "nn.Module": ([name for name in dir(torch.nn.Module) if not name.startswith("_")], chainrule.nn.Module),
        "testing": (["assert_close", "make_tensor", "assert_allclose", "FileCheck"], chainrule.testing),  # no __all__
        "utils.tensorboard.SummaryWriter": (
            [name for name in dir(torch.utils.tensorboard.SummaryWriter) if not name.startswith("_")],
            chainrule.utils.tensorboard.SummaryWriter,
        ),
        "nn.utils.prune": (  # no __all__: the names it defines
            [
                name for name, value in vars(torch.nn.utils.prune).items()
                if not name.startswith("_") and getattr(value, "__module__", None) == "torch.nn.utils.prune"
            ],
            chainrule.nn.utils.prune,
        ),
        "optim.Optimizer": ([name for name in dir(torch.optim.Optimizer) if not name.startswith("_")], chainrule.optim.Optimizer),
        **{
            name: (
                [item for item in operator.attrgetter(name)(torch).__all__ if not item.startswith("_")],
                operator.attrgetter(name)(chainrule),
            )
            for name in (
                "nn.init", "nn.utils", "nn.utils.rnn", "nn.utils.parametrize", "nn.utils.parametrizations", "utils.data",
                "autograd.graph", "autograd.forward_ad", "nn.attention", "profiler", "compiler",
            )
        },
    }


GROUPS = _groups()


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_pytorch_name_exists_or_is_listed_as_missing(group):
    names, namespace = GROUPS[group]
    missing = {name for name in names if not hasattr(namespace, name)}
    unlisted = missing - set(DELIBERATELY_MISSING[group]) - NOT_YET[group]
    assert not unlisted, (
        f"chainrule lacks these PyTorch names of group {group!r}: {sorted(unlisted)}. Add them, or list them in "
        f"NOT_YET (a gap to close) or DELIBERATELY_MISSING (with the reason they will not come)."
    )


@pytest.mark.parametrize("group", list(GROUPS))
def test_the_lists_name_only_names_that_are_still_missing(group):
    names, namespace = GROUPS[group]
    present = {name for name in set(DELIBERATELY_MISSING[group]) | NOT_YET[group] if hasattr(namespace, name)}
    assert not present, f"now in chainrule, remove them from NOT_YET / DELIBERATELY_MISSING[{group!r}]: {sorted(present)}"
    unknown = (set(DELIBERATELY_MISSING[group]) | NOT_YET[group]) - set(names)
    assert not unknown, f"not PyTorch names of group {group!r} (typos?): {sorted(unknown)}"


def test_nothing_is_both_deliberately_missing_and_not_yet():
    for group in GROUPS:
        assert not set(DELIBERATELY_MISSING[group]) & NOT_YET[group], group
