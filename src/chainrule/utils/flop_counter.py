"""``FlopCounterMode``, as ``torch.utils.flop_counter``: count the floating-point operations of the
matrix products and convolutions a block runs, forward and backward, per module::

    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    counter.get_total_flops()       # 4480
    counter.get_flop_counts()       # {"Global": {aten.addmm: 1920, aten.mm: 2560}, "Sequential.0": {...}, ...}
    print(counter.get_table())      # the table printed on leaving the block when display=True

A product of (m, k) and (k, n) counts 2·m·n·k (a multiplication and an addition per term), a
convolution 2 · batch · out_channels · in_channels/groups · kernel size · output positions; the
rest (additions, activations, softmax, pooling) counts nothing, as in PyTorch.

The counts are PyTorch's to the last digit, filed under the names of the ATen operations PyTorch
runs (``aten.mm``, ``aten.addmm``, ``aten.bmm``, ``aten.baddbmm``, ``aten.convolution``,
``aten.convolution_backward``). PyTorch counts those operations as its dispatcher sees them;
chainrule has no dispatcher, so it works out, for each of its own operations a block runs (an
``OperationMode`` sees them), which ATen operations PyTorch's CPU would run in its place: a linear
layer is ``addmm`` on the input's rows or a ``matmul``; a ``matmul`` folds its batch into a matrix
product (``mm``), multiplies batches (``bmm``) or is ``mv``/``dot`` (which PyTorch does not count),
by PyTorch's rules, strides and ``requires_grad`` included. Backward counts, when each node runs,
the products PyTorch's backward formulas run for the inputs that pass needs a gradient of: a
matrix product gives two ``mm`` (or ``bmm``), a convolution one ``convolution_backward``.

PyTorch's CPU also runs some computations as fused kernels that it does not count:
``scaled_dot_product_attention``'s flash kernel (4-D inputs, no dropout), and the inference paths
of ``MultiheadAttention`` and ``TransformerEncoderLayer`` (evaluation, no gradient wanted). Their
products are left out here too (a ``TorchFunctionMode`` sees the attention calls, module hooks the
layers).

Modules: ``ModuleTracker`` (``utils/module_tracker.py``) names the modules running; each count is
filed under "Global" and under every module running then. ``register_flop_formula`` adds a formula
for an operation of ``aten``; a formula gets the shapes of the operation's tensors.
"""
import inspect
import warnings
from collections import defaultdict, namedtuple
from functools import wraps
from math import prod

from chainrule import dtypes
from chainrule.autograd.engine import BackwardPass
from chainrule.backends import cuda as cuda_backends
from chainrule.backends import mha as mha_backends
from chainrule.nn import functional as F
from chainrule.nn.module import register_module_forward_hook, register_module_forward_pre_hook
from chainrule.nn.multihead_attention import MultiheadAttention
from chainrule.nn.transformer import TransformerEncoderLayer
from chainrule.ops.broadcast import broadcast_shapes
from chainrule.ops.conv import Convolution
from chainrule.ops.matmul import Addbmm, Baddbmm, Bmm, Linear, Matmul
from chainrule.overrides import TorchFunctionMode
from chainrule.tensor import Size, Tensor
from chainrule.utils._pytree import tree_map, tree_map_
from chainrule.utils.module_tracker import ModuleTracker
from chainrule.utils.operation_mode import OperationMode

__all__ = ["FlopCounterMode", "register_flop_formula"]


# ----------------------------------------------------------------------------- the operations' names
class OpOverloadPacket:
    """An ATen operation by name, as ``torch.ops.aten.mm`` is: the key a count is filed under,
    printed ``aten.mm``."""

    def __init__(self, qualified_name):
        self._qualified_op_name = qualified_name
        self.__name__ = qualified_name.split(".")[-1]

    def __str__(self):
        return self._qualified_op_name

    def __repr__(self):
        return f"<OpOverloadPacket(op='{self._qualified_op_name}')>"


class _OpNamespace:
    """``aten.NAME``: the one packet of each name (``torch.ops.aten``)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, op_name):
        if op_name.startswith("__"):
            raise AttributeError(op_name)
        packet = OpOverloadPacket(f"{self._name}.{op_name}")
        setattr(self, op_name, packet)
        return packet


aten = _OpNamespace("aten")


# ----------------------------------------------------------------------------- the formulas
def get_shape(i):
    if isinstance(i, Tensor):
        return i.shape
    return i


flop_registry = {}


def shape_wrapper(f):
    """``f`` called with the shapes of the tensors it is given (and of the output, ``out_shape``)."""

    @wraps(f)
    def nf(*args, out_val=None, **kwargs):
        args, kwargs, out_shape = tree_map(get_shape, (args, kwargs, out_val))
        return f(*args, out_shape=out_shape, **kwargs)

    return nf


def register_flop_formula(targets, get_raw=False):
    """A decorator: the function counts the flops of each operation of ``targets`` (a packet of
    ``aten``, or a list of them), called with the shapes of the operation's arguments and
    ``out_shape`` (with ``get_raw``, with the arguments themselves and ``out_val``)."""

    def register_fun(flop_formula):
        if not get_raw:
            flop_formula = shape_wrapper(flop_formula)

        def register(target):
            if not isinstance(target, OpOverloadPacket):
                raise ValueError(
                    f"register_flop_formula(targets): expected each target to be "
                    f"OpOverloadPacket (i.e. torch.ops.mylib.foo), JitFunction, "
                    f"or HigherOrderOperator, got {target} which is of type {type(target)}"
                )
            if target in flop_registry:
                raise RuntimeError(f"duplicate registrations for {target}")
            flop_registry[target] = flop_formula

        tree_map_(register, targets)
        return flop_formula

    return register_fun


@register_flop_formula(aten.mm)
def mm_flop(a_shape, b_shape, *args, out_shape=None, **kwargs):
    """Count flops for matmul: (m, k) @ (k, n) is 2·m·n·k."""
    m, k = a_shape
    k2, n = b_shape
    if k != k2:
        raise AssertionError(f"matmul: inner dimensions must match (k == k2), got {k} and {k2}")
    return m * n * 2 * k


@register_flop_formula(aten.addmm)
def addmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs):
    """Count flops for addmm: its product's."""
    return mm_flop(a_shape, b_shape)


@register_flop_formula(aten.bmm)
def bmm_flop(a_shape, b_shape, out_shape=None, **kwargs):
    """Count flops for the bmm operation: (b, m, k) @ (b, k, n) is 2·b·m·n·k."""
    b, m, k = a_shape
    b2, k2, n = b_shape
    if b != b2:
        raise AssertionError(f"bmm: batch dimensions must match (b == b2), got {b} and {b2}")
    if k != k2:
        raise AssertionError(f"bmm: inner dimensions must match (k == k2), got {k} and {k2}")
    return b * m * n * 2 * k


@register_flop_formula(aten.baddbmm)
def baddbmm_flop(self_shape, a_shape, b_shape, out_shape=None, **kwargs):
    """Count flops for the baddbmm operation: its product's."""
    return bmm_flop(a_shape, b_shape)


def conv_flop_count(x_shape, w_shape, out_shape, transposed=False):
    """Count flops for convolution: only the multiplications and their sums, not the bias.

    For each place of the output (of the input, for a transposed convolution), the filter meets
    the input: ``prod(conv_shape) * prod(filter_size)`` products, times the batch size and the
    pairs of input and output channels (the weight's first two sizes)."""
    batch_size = x_shape[0]
    conv_shape = (x_shape if transposed else out_shape)[2:]
    c_out, c_in, *filter_size = w_shape
    return prod(conv_shape) * prod(filter_size) * batch_size * c_out * c_in * 2


@register_flop_formula([aten.convolution, aten._convolution, aten.cudnn_convolution, aten._slow_conv2d_forward,
                        aten.convolution_overrideable])
def conv_flop(x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed, *args, out_shape=None, **kwargs):
    """Count flops for convolution."""
    return conv_flop_count(x_shape, w_shape, out_shape, transposed=transposed)


@register_flop_formula(aten.convolution_backward)
def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                       _output_padding, _groups, output_mask, out_shape, **kwargs):
    """Count flops for a convolution's backward: the input's gradient is the transposed
    convolution of the output's gradient with the weight (a transposed one's, a convolution);
    the weight's is a convolution of the input with the output's gradient, batch and channels
    exchanged (a transposed one's, of the output's gradient with the input)."""

    def t(shape):
        return [shape[1], shape[0]] + list(shape[2:])

    flop_count = 0
    if output_mask[0]:
        grad_input_shape = get_shape(out_shape[0])
        flop_count += conv_flop_count(grad_out_shape, w_shape, grad_input_shape, not transposed)
    if output_mask[1]:
        grad_weight_shape = get_shape(out_shape[1])
        if transposed:
            flop_count += conv_flop_count(t(grad_out_shape), t(x_shape), t(grad_weight_shape), transposed=False)
        else:
            flop_count += conv_flop_count(t(x_shape), t(grad_out_shape), t(grad_weight_shape), transposed=False)
    return flop_count


def sdpa_flop_count(query_shape, key_shape, value_shape):
    """Count flops for self-attention: scores Q Kᵀ and output scores V, two batched products
    (grouped-query attention: key and value with fewer heads, each serving a group of queries)."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    if not (b == _b2 == _b3 and h_kv == _h3 and d_q == _d2 and s_k == _s3):
        raise AssertionError(
            f"sdpa_flop_count: query/key/value shapes are incompatible: q={query_shape}, k={key_shape}, v={value_shape}"
        )
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(f"sdpa_flop_count: query heads ({h_q}) must be a multiple of key/value heads ({h_kv})")
    return bmm_flop((b * h_q, s_q, d_q), (b * h_q, d_q, s_k)) + bmm_flop((b * h_q, s_q, s_k), (b * h_q, s_k, d_v))


@register_flop_formula([aten._scaled_dot_product_efficient_attention, aten._scaled_dot_product_flash_attention,
                        aten._scaled_dot_product_cudnn_attention])
def sdpa_flop(query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
    """Count flops for self-attention (PyTorch's GPU kernels; causal attention counted in full)."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape):
    """Count flops for self-attention's backward: the scores again, then the gradients of the
    scores, of V, of Q and of K, five batched products."""
    b, h_q, s_q, d_q = query_shape
    _b2, h_kv, s_k, _d2 = key_shape
    _b3, _h3, _s3, d_v = value_shape
    _b4, _h4, _s4, _d4 = grad_out_shape
    if not (b == _b2 == _b3 == _b4 and h_kv == _h3 and h_q == _h4):
        raise AssertionError("sdpa_backward_flop_count: batch/heads mismatch among tensors")
    if h_q < h_kv or h_q % h_kv != 0:
        raise AssertionError(
            f"sdpa_backward_flop_count: query heads ({h_q}) must be a multiple of key/value heads ({h_kv})"
        )
    if not (d_q == _d2 and d_v == _d4 and s_k == _s3 and s_q == _s4):
        raise AssertionError("sdpa_backward_flop_count: grad_out/value/key/query shapes are incompatible")
    batch = b * h_q
    return (
        bmm_flop((batch, s_q, d_q), (batch, d_q, s_k))
        + bmm_flop((batch, s_q, d_v), (batch, d_v, s_k))
        + bmm_flop((batch, s_k, s_q), (batch, s_q, d_v))
        + bmm_flop((batch, s_q, s_k), (batch, s_k, d_q))
        + bmm_flop((batch, d_q, s_q), (batch, s_q, s_k))
    )


@register_flop_formula([aten._scaled_dot_product_efficient_attention_backward,
                        aten._scaled_dot_product_flash_attention_backward,
                        aten._scaled_dot_product_cudnn_attention_backward])
def sdpa_backward_flop(grad_out_shape, query_shape, key_shape, value_shape, *args, out_shape=None, **kwargs):
    """Count flops for self-attention backward."""
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


# ----------------------------------------------------------------------------- the table
suffixes = ["", "K", "M", "B", "T"]


def get_suffix_str(number):
    """The suffix the table writes a count with, from its number of digits, one digit of overflow
    allowed (1.01B is written 1001M)."""
    index = max(0, min(len(suffixes) - 1, (len(str(number)) - 2) // 3))
    return suffixes[index]


def convert_num_with_suffix(number, suffix):
    index = suffixes.index(suffix)
    value = f"{number / 1000 ** index:.3f}"
    return value + suffixes[index]


def convert_to_percent_str(num, denom):
    if denom == 0:
        return "0%"
    return f"{num / denom:.2%}"


# ----------------------------------------------------------------------------- the counter
class FlopCounterMode:
    """A context manager that counts the flops run inside it, per module (see the module's
    docstring). ``depth``: the module levels the table shows; ``display``: print the table on
    leaving; ``custom_mapping``: {packet: formula} taking the place of the registered formulas;
    ``mods`` is no longer needed (a warning)."""

    def __init__(self, mods=None, depth=2, display=True, custom_mapping=None):
        super().__init__()
        self.flop_counts = defaultdict(lambda: defaultdict(int))
        self.depth = depth
        self.display = display
        self.mode = None
        if custom_mapping is None:
            custom_mapping = {}
        if mods is not None:
            warnings.warn("mods argument is not needed anymore, you can stop passing it", stacklevel=2)
        self.flop_registry = {
            **flop_registry,
            **{k: v if getattr(v, "_get_raw", False) else shape_wrapper(v) for k, v in custom_mapping.items()},
        }
        self.mod_tracker = ModuleTracker()

    def get_total_flops(self):
        return sum(self.flop_counts["Global"].values())

    def get_flop_counts(self):
        """The counts as {module name: {operation: flops}}, "Global" holding every count."""
        return {k: dict(v) for k, v in self.flop_counts.items()}

    def get_table(self, depth=None):
        """The counts as a table: each module down to ``depth`` levels (by default the mode's),
        its total and its operations, with their share of the total."""
        if depth is None:
            depth = self.depth
        if depth is None:
            depth = 999999

        import tabulate

        tabulate.PRESERVE_WHITESPACE = True
        header = ["Module", "FLOP", "% Total"]
        values = []
        global_flops = self.get_total_flops()
        global_suffix = get_suffix_str(global_flops)
        is_global_subsumed = False

        def process_mod(mod_name, depth):
            nonlocal is_global_subsumed
            total_flops = sum(self.flop_counts[mod_name].values())
            is_global_subsumed |= total_flops >= global_flops
            padding = " " * depth
            values = [[
                padding + mod_name,
                convert_num_with_suffix(total_flops, global_suffix),
                convert_to_percent_str(total_flops, global_flops),
            ]]
            for k, v in self.flop_counts[mod_name].items():
                values.append([
                    padding + " - " + str(k),
                    convert_num_with_suffix(v, global_suffix),
                    convert_to_percent_str(v, global_flops),
                ])
            return values

        for mod in sorted(self.flop_counts.keys()):
            if mod == "Global":
                continue
            mod_depth = mod.count(".") + 1
            if mod_depth > depth:
                continue
            values.extend(process_mod(mod, mod_depth - 1))

        # "Global" only when some flops ran outside every module
        if "Global" in self.flop_counts and not is_global_subsumed:
            for value in values:
                value[0] = " " + value[0]
            values = process_mod("Global", 0) + values

        if len(values) == 0:
            values = [["Global", "0", "0%"]]

        return tabulate.tabulate(values, headers=header, colalign=("left", "right", "right"))

    # NB: not reentrant, as PyTorch's
    def __enter__(self):
        self.flop_counts.clear()
        self.mod_tracker.__enter__()
        self.mode = _FlopCounterMode(self)
        self.mode.__enter__()
        return self

    def __exit__(self, *args):
        if self.mode is None:
            raise AssertionError("Internal error: FlopCounter.__exit__ called but mode is None")
        b = self.mode.__exit__(*args)
        self.mode = None
        self.mod_tracker.__exit__()
        if self.display:
            print(self.get_table(self.depth))
        return b

    def _count_flops(self, func_packet, out, args, kwargs):
        if func_packet in self.flop_registry:
            flop_count = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
            for par in set(self.mod_tracker.parents):
                self.flop_counts[par][func_packet] += flop_count
        return out


class _FlopCounterMode:
    """What a ``FlopCounterMode`` enters: the operations' watch (``_OperationCounter``), the
    attention calls' (``_AttentionCalls``) and the fused layers' hooks."""

    def __init__(self, counter):
        self.counter = counter
        self.operations = _OperationCounter(counter)
        self.attention_calls = _AttentionCalls(self.operations)
        self.layer_snapshots = []  # per candidate layer entered: the counts before it

    def __enter__(self):
        self.handles = [
            register_module_forward_pre_hook(self._enter_layer),
            register_module_forward_hook(self._leave_layer, with_kwargs=True, always_call=True),
        ]
        self.operations.__enter__()
        self.attention_calls.__enter__()
        return self

    def __exit__(self, *args):
        self.attention_calls.__exit__(*args)
        self.operations.__exit__(*args)
        for handle in self.handles:
            handle.remove()
        return False

    def _enter_layer(self, module, args):
        if isinstance(module, (MultiheadAttention, TransformerEncoderLayer)):
            counts = self.counter.flop_counts
            self.layer_snapshots.append([(name, dict(ops)) for name, ops in counts.items()])

    def _leave_layer(self, module, args, *kwargs_and_output):
        """After a layer PyTorch may run fused: its products uncounted where PyTorch's CPU runs
        it as one kernel (``kwargs_and_output`` is (kwargs, output), or (output,) after an error)."""
        if not isinstance(module, (MultiheadAttention, TransformerEncoderLayer)):
            return
        snapshot = self.layer_snapshots.pop()
        if len(kwargs_and_output) == 2 and _runs_fused_in_pytorch(module, args, kwargs_and_output[0]):
            counts = self.counter.flop_counts
            counts.clear()
            for name, ops in snapshot:
                counts[name].update(ops)


def _runs_fused_in_pytorch(layer, args, kwargs):
    """Whether PyTorch runs ``layer`` (called with ``args`` and ``kwargs``) as one inference
    kernel (``torch._native_multi_head_attention``, ``torch._transformer_encoder_layer_fwd``),
    whose products its flop counter does not see."""
    if not mha_backends.get_fastpath_enabled():
        return False
    call = inspect.signature(layer.forward).bind(*args, **kwargs)
    call.apply_defaults()
    given = call.arguments
    if isinstance(layer, TransformerEncoderLayer):
        return layer._runs_fused_in_pytorch(given["src"])
    return layer._takes_pytorchs_inference_path(
        given["query"], given["key"], given["value"], given["key_padding_mask"], given["attn_mask"]
    )


# ----------------------------------------------------------------------------- PyTorch's ATen calls
#: One ATen operation PyTorch runs: its packet, its arguments (tensors as their shapes), its
#: output's shape, and for each argument the position among the chainrule operation's inputs
#: that it was made from (None for the others), which tells backward whose gradient it gives.
AtenCall = namedtuple("AtenCall", "packet args out sources")

_MATRIX_PRODUCTS = {"mm": "mm", "addmm": "mm", "bmm": "bmm", "baddbmm": "bmm", "addbmm": "bmm"}


class _Factor(namedtuple("_Factor", "shape strides requires_grad source")):
    """A factor of a product as PyTorch's matmul reads it: shape, strides, whether it requires
    grad, and which input of the chainrule operation it is."""

    @classmethod
    def of(cls, tensor, source):
        return cls(tuple(tensor.shape), tuple(tensor.stride()), tensor.requires_grad, source)

    @property
    def mT(self):  # noqa: N802 (PyTorch's name)
        swap = slice(None, -2), slice(-1, None), slice(-2, -1)
        return self._replace(
            shape=sum((self.shape[part] for part in swap), ()), strides=sum((self.strides[part] for part in swap), ())
        )


def _matmul_calls(a, b):
    """What PyTorch's ``matmul(a, b)`` runs (ATen's ``_matmul_impl``): ``dot`` (1-D @ 1-D), ``mv``
    (2-D @ 1-D), ``mm`` (1-D or 2-D @ 2-D, or a batch folded into a matrix's rows), or ``bmm``
    on the batches broadcast and flattened."""
    a_dims, b_dims = len(a.shape), len(b.shape)
    sources = (a.source, b.source)
    if a_dims == b_dims == 1:
        return [AtenCall(aten.dot, (Size(a.shape), Size(b.shape)), Size(()), sources)]
    if a_dims == 2 and b_dims == 1:
        return [AtenCall(aten.mv, (Size(a.shape), Size(b.shape)), Size(a.shape[:1]), sources)]
    if a_dims == 1 and b_dims == 2:
        return [_product(aten.mm, (1,) + a.shape, b.shape, sources)]
    if a_dims == b_dims == 2:
        return [_product(aten.mm, a.shape, b.shape, sources)]
    if _should_fold(a, b):
        # the larger one's batch folded into rows: (*, n, k) @ (k, m) as (rows, k) @ (k, m)
        larger, other = (b.mT, a.mT if a_dims == 2 else a) if b_dims > a_dims else (a, b)
        folded = (prod(larger.shape[:-1]), larger.shape[-1])
        if len(other.shape) == 2:
            return [_product(aten.mm, folded, other.shape, (larger.source, other.source))]
        return [AtenCall(aten.mv, (Size(folded), Size(other.shape)), Size(folded[:1]), (larger.source, other.source))]
    rows = a.shape[-2] if a_dims > 1 else 1
    columns = b.shape[-1] if b_dims > 1 else 1
    batch = prod(broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    inner = b.shape[-2] if b_dims > 1 else b.shape[0]
    return [_product(aten.bmm, (batch, rows, a.shape[-1]), (batch, inner, columns), sources)]


def _should_fold(a, b):
    """ATen's ``should_fold``: whether matmul folds the batch of the larger factor (3-D or more,
    the other 1-D or 2-D) into the rows of one matrix product, which it does where the other factor
    requires grad (a batched gradient of it would be a large tensor to sum), or where the rows
    come without a copy (not when the first factor is the 2-D one)."""
    a_larger = len(a.shape) >= len(b.shape)
    larger, smaller = (a, b) if a_larger else (b.mT, a)
    if not (len(larger.shape) >= 3 and len(smaller.shape) <= 2):
        return False
    if smaller.requires_grad:
        return True
    if len(a.shape) == 2:
        return False
    if prod(larger.shape) == 0:
        return True
    shape, strides = larger.shape, larger.strides
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _product(packet, a_shape, b_shape, sources, added=None):
    """A matrix product's call, (.., m, k) @ (.., k, n) -> (.., m, n); ``added``: the shape of the
    term ``addmm`` and ``baddbmm`` add (their first argument)."""
    out = Size(tuple(a_shape[:-1]) + tuple(b_shape[-1:]))
    if added is None:
        return AtenCall(packet, (Size(a_shape), Size(b_shape)), out, sources)
    return AtenCall(packet, (Size(added), Size(a_shape), Size(b_shape)), out, (None,) + tuple(sources))


def _linear_calls(x, weight, bias, weight_transposed=False, *scales):
    """What PyTorch runs for chainrule's fused linear: ``addmm(input, mat1, mat2)`` itself, or for
    ``linear(x, weight, bias)`` (ATen's Linear.cpp) ``addmm`` on the input's rows where it has a
    bias and is 2-D, or contiguous and 3-D or with a 1-D bias; ``matmul(x, weightᵀ)`` otherwise."""
    if weight_transposed:
        return [_product(aten.addmm, tuple(x.shape), tuple(weight.shape), (0, 1), added=tuple(bias.shape))]
    flattened = bias is not None and (x.ndim == 2 or x.is_contiguous() and (x.ndim == 3 or bias.ndim == 1))
    if flattened:
        rows = (prod(x.shape[:-1]), x.shape[-1])
        return [_product(aten.addmm, rows, tuple(weight.shape[::-1]), (0, 1), added=tuple(bias.shape))]
    return _matmul_calls(_Factor.of(x, 0), _Factor.of(weight, 1).mT)


def _forward_calls(op, args, output):
    """The ATen calls PyTorch's CPU runs for the chainrule operation ``op`` applied to ``args``
    (None: none that counts)."""
    if issubclass(op, Linear):
        return _linear_calls(*args)
    if issubclass(op, Baddbmm):
        packet = aten.addbmm if issubclass(op, Addbmm) else aten.baddbmm
        input, batch1, batch2 = args[:3]
        return [_product(packet, tuple(batch1.shape), tuple(batch2.shape), (1, 2), added=tuple(input.shape))]
    if issubclass(op, Bmm):
        return [_product(aten.bmm, tuple(args[0].shape), tuple(args[1].shape), (0, 1))]
    if issubclass(op, Matmul):
        return _matmul_calls(_Factor.of(args[0], 0), _Factor.of(args[1], 1))
    if issubclass(op, Convolution):
        input, weight, bias = args[:3]
        shapes = tuple(None if tensor is None else Size(tensor.shape) for tensor in (input, weight, bias))
        return [AtenCall(aten.convolution, shapes + tuple(args[3:]), Size(output.shape), (0, 1, 2) + (None,) * 6)]
    return None


def _backward_calls(call, needed):
    """The ATen calls of PyTorch's backward formula for ``call``, for the gradients of the inputs
    in ``needed`` (positions among the chainrule operation's inputs): a matrix product's gradients
    are products with the output's gradient, grad @ bᵀ and aᵀ @ grad."""
    packet, args, sources = call.packet, call.args, call.sources
    name = packet.__name__
    if name in _MATRIX_PRODUCTS:
        product = getattr(aten, _MATRIX_PRODUCTS[name])
        (*batch, m, k), n = args[-2], args[-1][-1]
        calls = []
        if sources[-2] in needed:
            calls.append(_product(product, (*batch, m, n), (*batch, n, k), (None, None)))
        if sources[-1] in needed:
            calls.append(_product(product, (*batch, k, m), (*batch, m, n), (None, None)))
        return calls
    if packet is aten.mv and sources[1] in needed:  # the vector's gradient, matᵀ @ grad
        (n, k) = args[0]
        return [AtenCall(aten.mv, (Size((k, n)), Size((n,))), Size((k,)), (None, None))]
    if packet is aten.convolution:
        input, weight, bias = args[:3]
        output_mask = [0 in needed, 1 in needed, bias is not None and 2 in needed]
        if not any(output_mask):
            return []
        grads = tuple(shape if wanted else None for shape, wanted in zip((input, weight, bias), output_mask))
        bias_sizes = None if bias is None else list(bias)
        return [AtenCall(aten.convolution_backward, (call.out, input, weight, bias_sizes, *args[3:], output_mask), grads, ())]
    return []


def _needed_inputs(needs_input_grad, next_nodes):
    """The positions of the inputs whose gradient the running backward pass computes: those that
    require it and lead to what the pass differentiates for (all of them for ``backward()``)."""
    current = BackwardPass.current
    return {
        position
        for position, (needs, node) in enumerate(zip(needs_input_grad, next_nodes))
        if needs and node is not None and (current is None or current.reaches(node))
    }


#: In a Matmul's place in ``_OperationCounter.planned``: a product PyTorch runs in a fused kernel.
_NOT_COUNTED = object()


class _OperationCounter(OperationMode):
    """Sees each chainrule operation, counts the ATen calls PyTorch would run for it, and hooks
    its node to count those of its backward when the node runs."""

    def __init__(self, counter):
        self.counter = counter
        self.planned = []  # for the next Matmuls: _NOT_COUNTED, or the packet PyTorch runs instead
        self.node_hooks = []
        self.nodes_running = 0  # counted nodes whose backward runs now (create_graph records its operations)

    def run_operation(self, op, args, kwargs, run):
        output = run()
        if self.nodes_running:
            return output
        calls = _forward_calls(op, args, output)
        if not calls:
            return output
        if issubclass(op, Matmul) and self.planned:
            plan = self.planned.pop(0)
            if plan is _NOT_COUNTED:
                return output
            call = calls[0]
            calls = [call._replace(packet=plan, args=(call.out,) + call.args, sources=(None,) + call.sources)]
        for call in calls:
            self.counter._count_flops(call.packet, call.out, call.args, {})
        node = getattr(output, "grad_fn", None)
        if node is not None:
            self._count_backward(node, calls)
        return output

    def _count_backward(self, node, calls):
        needs_input_grad, next_nodes = node.needs_input_grad, node.next_nodes

        def before(grad_outputs):
            self.nodes_running += 1
            needed = _needed_inputs(needs_input_grad, next_nodes)
            for call in calls:
                for backward_call in _backward_calls(call, needed):
                    self.counter._count_flops(backward_call.packet, backward_call.out, backward_call.args, {})

        def after(grad_inputs, grad_outputs):
            self.nodes_running -= 1

        self.node_hooks += [node.register_prehook(before), node.register_hook(after)]

    def __exit__(self, *exception):
        for handle in self.node_hooks:
            handle.remove()
        self.node_hooks.clear()
        self.planned.clear()
        self.nodes_running = 0
        return super().__exit__(*exception)


class _AttentionCalls(TorchFunctionMode):
    """Sees the attention calls, to tell the operation counter what PyTorch's CPU runs for their
    two products (scores = Q Kᵀ, output = scores V): nothing it counts in the flash kernel, a
    ``baddbmm`` for the scores of ``multi_head_attention_forward`` with a mask."""

    def __init__(self, operations):
        super().__init__()
        self.operations = operations

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.scaled_dot_product_attention:
            plan = _scaled_dot_product_plan(**_arguments(func, args, kwargs))
        elif func is F.multi_head_attention_forward:
            plan = _multi_head_attention_plan(**_arguments(func, args, kwargs))
        else:
            return func(*args, **kwargs)
        planned, self.operations.planned = self.operations.planned, plan
        try:
            return func(*args, **kwargs)
        finally:
            self.operations.planned = planned


def _arguments(func, args, kwargs):
    call = inspect.signature(func).bind(*args, **kwargs)
    call.apply_defaults()
    return call.arguments


_FLASH_DTYPES = (dtypes.float32, dtypes.float64, dtypes.bfloat16, dtypes.float16)


def _scaled_dot_product_plan(query, key, value, attn_mask, dropout_p, enable_gqa, **others):
    """Both products uncounted where PyTorch's CPU picks its flash kernel (ATen's
    ``use_flash_attention_cpp``), counted otherwise (its math path multiplies with matmul)."""
    tensors = (query, key, value)
    if not all(isinstance(tensor, Tensor) for tensor in tensors) or not (attn_mask is None or isinstance(attn_mask, Tensor)):
        return []
    flash = (
        cuda_backends.flash_sdp_enabled()
        and dropout_p == 0.0
        and all(tensor.ndim == 4 for tensor in tensors)
        and query.shape[0] == key.shape[0] == value.shape[0]
        and query.shape[1] == key.shape[1] == value.shape[1]
        and (attn_mask is None or _flash_takes_mask(attn_mask, query, key))
        and query.shape[-1] == key.shape[-1] == value.shape[-1]
        and query.shape[-2] != 0
        and key.shape[-2] != 0
        and all(tensor.stride(-1) == 1 for tensor in tensors)
        and query.dtype in _FLASH_DTYPES
    )
    return [_NOT_COUNTED, _NOT_COUNTED] if flash else []


def _flash_takes_mask(mask, query, key):
    """ATen's ``check_attn_mask_shape``: a mask needing no gradient, (L or 1, S or 1) in its last
    two sizes, 2-D or 4-D with batch and heads 1 or the query's."""
    if mask.requires_grad or mask.shape[-2] not in (query.shape[2], 1) or mask.shape[-1] not in (key.shape[2], 1):
        return False
    return mask.ndim == 2 or mask.ndim == 4 and mask.shape[0] in (1, query.shape[0]) and mask.shape[1] in (1, query.shape[1])


def _multi_head_attention_plan(query, key, value, training, dropout_p, need_weights, attn_mask, key_padding_mask,
                               is_causal, **others):
    """What PyTorch's ``multi_head_attention_forward`` runs for the attention: with
    ``need_weights``, ``baddbmm`` (with a mask) or ``bmm`` and ``bmm``; without,
    ``scaled_dot_product_attention`` on (N, heads, L, head_dim) views, flash without dropout."""
    if need_weights:
        return [aten.baddbmm] if attn_mask is not None or key_padding_mask is not None else []
    if is_causal and key_padding_mask is None:
        attn_mask = None
    masks = [mask for mask in (attn_mask, key_padding_mask) if mask is not None]
    flash = (
        cuda_backends.flash_sdp_enabled()
        and (dropout_p if training else 0.0) == 0.0
        and query.dtype in _FLASH_DTYPES
        and query.shape[0] != 0
        and key.shape[0] != 0
        and not any(mask.requires_grad for mask in masks)
    )
    return [_NOT_COUNTED, _NOT_COUNTED] if flash else []
