"""chainrule.compile against eager execution where a tensor's VALUES escape into Python or NumPy by
a route other than ``.item()`` / ``bool()`` / ``print()``: ``np.asarray``, ``.numpy()``, ``.tolist()``,
iteration, ``int``/``float``/``complex``, ``operator.index``, ``math.exp``, f-strings, comparisons
of 0-d tensors through ``max``/``sorted``, pickling, deep copies, ``chainrule.save``, in-place
writes through NumPy, ``apply_``/``map_``, ``nonzero``/``unique`` used as Python ints.

Each step is run eagerly and compiled (several calls, values change between calls, shapes do not)
from the same seed; returned values, parameters and gradients must be the same bits. Falling back to
eager (with a warning) is correct; a silent difference is a bug."""
import copy
import io
import math
import operator
import pickle
import struct
from array import array as py_array
import warnings
import zlib

import numpy as np
import pytest

import chainrule as torch
import chainrule.nn.functional as F
from chainrule import nn
from tests.compile.bitwise import assert_identical

CALLS = 5


def _arr(t):
    return np.array(t.detach().numpy(), copy=True)


def _snap(value):
    if isinstance(value, torch.Tensor):
        return _arr(value)
    if isinstance(value, (list, tuple)):
        return tuple(_snap(item) for item in value)
    if isinstance(value, dict):
        return {key: _snap(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


def _outcome(function, *args):
    try:
        out = function(*args)
    except Exception as error:  # noqa: BLE001 - the exception is what is compared
        return ("raised", type(error).__name__, str(error)[:40])
    return _snap(out)


def _run(step, compiled, inputs):
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def call(x):
        return step(model, opt, x)

    function = torch.compile(call) if compiled else call
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in inputs():
            out = _outcome(function, x)
            rows.append((out, [_arr(p) for p in model.parameters()],
                         [None if p.grad is None else _arr(p.grad) for p in model.parameters()]))
    return rows


def _float_inputs():
    rng = np.random.default_rng(7)
    return [torch.tensor(rng.standard_normal((5, 4)).astype(np.float32)) for _ in range(CALLS)]


def _check(step, inputs=_float_inputs):
    eager = _run(step, False, inputs)
    assert_identical(_run(step, False, inputs), eager, "eager again")  # eager is deterministic
    assert_identical(_run(step, True, inputs), eager, "compiled")


def _train(model, opt, x, scale=1.0):
    opt.zero_grad()
    loss = (model(x) * scale).pow(2).mean()
    loss.backward()
    opt.step()
    return loss


CASES = {}
BUGS = {}


def _bug(reason):
    def mark(step):
        BUGS[step.__name__] = reason
        return step

    return mark


def case(step):
    CASES[step.__name__] = step
    return step


# ----------------------------------------------------------------------------- NumPy conversions
@case
def asarray_decides(model, opt, x):
    m = float(np.asarray(x).mean())
    return _train(model, opt, x, 2.0 if m > 0 else 0.5), m


@case
def np_array_copy_scale(model, opt, x):
    s = np.array(x).std()
    return _train(model, opt, x, float(s))


@case
def numpy_math_then_float(model, opt, x):
    a = x.numpy()
    return _train(model, opt, x, float(np.abs(a).max()))


@case
def numpy_values_made_a_tensor(model, opt, x):
    """Values taken out by NumPy come back as a tensor: a constant baked at recording."""
    a = np.tanh(x.numpy()) * 3
    return _train(model, opt, torch.tensor(a))


@case
def from_numpy_round_trip(model, opt, x):
    y = torch.from_numpy(x.numpy() * 2)
    return _train(model, opt, y)


@case
def from_numpy_shared_view(model, opt, x):
    y = torch.from_numpy(x.numpy())
    return _train(model, opt, y + 1)


@case
def numpy_written_in_place(model, opt, x):
    """Mutating the input through its NumPy view: eager sees the clipped values."""
    a = x.numpy()
    a[a < 0] = 0
    return _train(model, opt, x)


@case
def numpy_force_of_parameter(model, opt, x):
    w = model.weight.numpy(force=True)
    return _train(model, opt, x, float(w.sum()))


@case
def numpy_force_of_parameter_written(model, opt, x):
    """Weight decay by hand through the NumPy view of a parameter."""
    loss = _train(model, opt, x)
    model.weight.numpy(force=True)[...] *= 0.9
    return loss


@case
def memoryview_of_numpy(model, opt, x):
    view = memoryview(x.numpy())
    first = view.tolist()[0][0]
    return _train(model, opt, x, first)


@case
def bytes_of_numpy(model, opt, x):
    raw = bytes(x.numpy())
    scale = float(np.frombuffer(raw, dtype=np.float32)[0])
    return _train(model, opt, x, scale)


@case
def np_float32_of_scalar(model, opt, x):
    s = np.float32(x.sum())
    return _train(model, opt, x, float(s))


@case
def ufunc_on_tensor(model, opt, x):
    """np.exp(tensor) goes through __array__ (or gives a tensor): its use decides the scale."""
    e = np.exp(x)
    s = float(np.asarray(e).sum()) if isinstance(e, np.ndarray) else float(e.sum())
    return _train(model, opt, x, s / 100)


# ----------------------------------------------------------------------------- Python conversions
@case
def tolist_decides(model, opt, x):
    values = x.tolist()
    n = sum(1 for row in values for v in row if v > 0)
    return _train(model, opt, x, n / 10), n


@case
def list_of_rows_iterated(model, opt, x):
    rows = list(x.sum(1))
    chosen = [i for i, v in enumerate(rows) if v > 0]
    return _train(model, opt, x, len(chosen) + 1.0), chosen


@case
def for_loop_over_1d(model, opt, x):
    total = 0.0
    for v in x[:, 0]:
        if v > 0:
            total = total + 1
    return _train(model, opt, x, total + 0.5), total


@case
def for_loop_tensor_accumulation(model, opt, x):
    """Iteration that keeps tensors (no read): must replay fine with the new values."""
    acc = 0
    for row in x:
        acc = acc + row.relu().sum()
    loss = _train(model, opt, x)
    return loss + acc


@case
def int_of_scalar(model, opt, x):
    k = int(x.abs().sum() * 3)
    return _train(model, opt, x, float(k)), k


@case
def float_of_scalar(model, opt, x):
    f = float(x.mean())
    return _train(model, opt, x, f), f


@case
def complex_of_scalar(model, opt, x):
    c = complex(x[0, 0])
    return _train(model, opt, x, c.real), c.real


@case
def math_exp_of_scalar(model, opt, x):
    e = math.exp(x[0, 0])
    return _train(model, opt, x, e), e


@case
def math_floor_of_scalar(model, opt, x):
    k = math.floor(x.sum())
    return _train(model, opt, x, float(k)), k


@case
def round_of_scalar(model, opt, x):
    k = round(float(x.sum()) * 2)
    return _train(model, opt, x, float(k)), k


def _int_inputs():
    rng = np.random.default_rng(3)
    return [(torch.tensor(rng.standard_normal((5, 4)).astype(np.float32)), torch.tensor(int(rng.integers(0, 3))))
            for _ in range(CALLS)]


def _int_case(step):
    CASES[step.__name__] = (step, _int_inputs)
    return step


def _pair_runner(step):
    return lambda model, opt, pair: step(model, opt, *pair)


@_int_case
def operator_index(model, opt, x, k):
    i = operator.index(k)
    return _train(model, opt, x[i:i + 2]), i


@_int_case
def range_of_tensor(model, opt, x, k):
    total = 0
    for i in range(k + 1):
        total += i
    return _train(model, opt, x, total + 1.0), total


@_int_case
def list_indexed_by_tensor(model, opt, x, k):
    scale = [0.5, 1.0, 2.0][k]
    return _train(model, opt, x, scale), scale


@_int_case
def python_list_slice_by_tensor(model, opt, x, k):
    rows = [x[i] for i in range(5)][k:]
    return _train(model, opt, torch.stack(rows)), len(rows)


@_int_case
def tensor_indexed_by_0d(model, opt, x, k):
    """Indexing a tensor by a 0-d int tensor: an op, may replay with the new index."""
    return _train(model, opt, x[k].unsqueeze(0))


@_int_case
def shape_of_data_dependent(model, opt, x, k):
    n = (x[:, 0] > 0).nonzero().shape[0]
    return _train(model, opt, x, n + 0.5), n


# ----------------------------------------------------------------------------- text and identity
@case
def fstring_decides(model, opt, x):
    text = f"{x.mean():.3f}"
    return _train(model, opt, x, 2.0 if text.startswith("-") else 0.5), text


@case
def format_builtin(model, opt, x):
    text = format(x[0, 0], ".2f")
    return _train(model, opt, x, float(text)), text


@case
def str_decides(model, opt, x):
    text = str(x[0])
    return _train(model, opt, x, float(text.count("-")) + 1), text


@case
def repr_decides(model, opt, x):
    text = repr(x.sum())
    return _train(model, opt, x, 2.0 if "-" in text else 0.5)


@case
def hash_is_identity(model, opt, x):
    """hash() of a tensor is its identity: no value read; must replay fine."""
    seen = {hash(model.weight): 2.0}
    return _train(model, opt, x, seen[hash(model.weight)])


@case
def in_list_of_numbers(model, opt, x):
    found = x[0, 0] in [float(v) for v in range(-1, 2)]
    return _train(model, opt, x, 2.0 if found else 1.0), bool(found)


@case
def in_tensor(model, opt, x):
    found = 0.0 in (x[:, 0] > 0).float()
    return _train(model, opt, x, 2.0 if found else 1.0), bool(found)


@case
def max_of_scalars(model, opt, x):
    a, b = x[:, 0].sum(), x[:, 1].sum()
    best = max([a, b])
    return _train(model, opt, x, 1.0) + best


@case
def sorted_scalars(model, opt, x):
    values = sorted([x[:, i].sum() for i in range(4)])
    return _train(model, opt, x) + values[0] * 2 + values[-1]


@case
def min_key_python(model, opt, x):
    i = min(range(4), key=lambda j: x[:, j].sum())
    return _train(model, opt, x[:, [i, i, i, i]]), i


@case
def comparison_chain(model, opt, x):
    s = x.sum()
    return _train(model, opt, x, 2.0 if -1 < s < 1 else 0.5)


@case
def data_ptr_is_address(model, opt, x):
    """data_ptr is an address, not values: the step may replay (compared only for equality)."""
    same = x.data_ptr() == x.view(-1).data_ptr()
    return _train(model, opt, x), same


# ----------------------------------------------------------------------------- copies and files
@case
def pickle_round_trip_read(model, opt, x):
    y = pickle.loads(pickle.dumps(x))
    return _train(model, opt, y)


@case
def pickle_bytes_decide(model, opt, x):
    raw = pickle.dumps(x.sum())
    return _train(model, opt, x, float(len(set(raw))) / 50)


@case
def pickle_of_parameter(model, opt, x):
    loss = _train(model, opt, x)
    w = pickle.loads(pickle.dumps(model.weight))
    return loss, w * 1


@case
def deepcopy_of_input(model, opt, x):
    y = copy.deepcopy(x)
    return _train(model, opt, y * 2)


@case
def deepcopy_of_weight_used(model, opt, x):
    """A snapshot of the weight before the step: used after it (an EMA-like difference)."""
    before = copy.deepcopy(model.weight.detach())
    loss = _train(model, opt, x)
    return loss, model.weight.detach() - before


@case
def deepcopy_of_model(model, opt, x):
    twin = copy.deepcopy(model)
    loss = _train(model, opt, x)
    return loss, twin(x)


@case
def save_and_load_bytesio(model, opt, x):
    buffer = io.BytesIO()
    torch.save(x, buffer)
    buffer.seek(0)
    y = torch.load(buffer)
    return _train(model, opt, y)


@case
def save_state_dict_then_load(model, opt, x):
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    loss = _train(model, opt, x)
    buffer.seek(0)
    model.load_state_dict(torch.load(buffer))
    return loss


# ----------------------------------------------------------------------------- in-place Python maps
@case
def apply_on_input(model, opt, x):
    y = x.clone()
    y.apply_(lambda v: v * 2 if v > 0 else 0.0)
    return _train(model, opt, y)


@case
def apply_decides_python(model, opt, x):
    seen = []
    y = x.clone()
    y.apply_(lambda v: seen.append(v) or v)
    return _train(model, opt, x, 1.0 + (seen[0] > 0)), len(seen)


@case
def map_on_input(model, opt, x):
    y = x.clone()
    y.map_(x.flip(0), lambda a, b: max(a, b))
    return _train(model, opt, y)


@case
def apply_on_parameter_data(model, opt, x):
    loss = _train(model, opt, x)
    with torch.no_grad():
        model.bias.data.apply_(lambda v: min(max(v, -0.05), 0.05))
    return loss


# ----------------------------------------------------------------------------- data-dependent results
@case
def nonzero_loop(model, opt, x):
    total = 0
    for index in (x[:, 0] > 0).nonzero():
        total += int(index)
    return _train(model, opt, x, total + 1.0), total


@case
def nonzero_as_tuple_index(model, opt, x):
    rows = (x[:, 0] > 0).nonzero(as_tuple=True)[0]
    return _train(model, opt, x[rows] if rows.numel() else x)


@case
def unique_as_python_ints(model, opt, x):
    labels = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    classes = [int(c) for c in torch.unique(labels)]
    return _train(model, opt, x, float(len(classes)) + sum(classes)), classes


@case
def argmax_item(model, opt, x):
    i = x.sum(1).argmax().item()
    return _train(model, opt, x[i:i + 1]), i


@case
def int_argmax(model, opt, x):
    i = int(x.sum(1).argmax())
    return _train(model, opt, x[i:i + 1]), i


@case
def argmax_as_index(model, opt, x):
    """Indexing by the argmax tensor (no Python read): may replay with the new index."""
    i = x.sum(1).argmax()
    return _train(model, opt, x[i].unsqueeze(0))


@case
def masked_select_len(model, opt, x):
    n = len(x[x > 0])
    return _train(model, opt, x, n / 10), n


@case
def shape_of_masked(model, opt, x):
    picked = x[x[:, 0] > 0]
    return _train(model, opt, picked if picked.shape[0] else x), picked.shape[0]


# ----------------------------------------------------------------------------- more shapes of values
@case
def nonzero_count_scales_loss(model, opt, x):
    n = (x[:, 0] > 0).nonzero().size(0)
    return _train(model, opt, x, n + 0.5)


@case
def nonzero_len_returned(model, opt, x):
    return _train(model, opt, x), len((x[:, 1] > 0).nonzero())


@case
def where_single_argument_count(model, opt, x):
    n = torch.where(x[:, 0] > 0)[0].numel()
    return _train(model, opt, x, n + 0.5), n


@case
def unique_count(model, opt, x):
    labels = (x > 0).long().sum(1)
    n = len(torch.unique(labels))
    return _train(model, opt, x, float(n)), n


@case
def tensor_of_scalar_list(model, opt, x):
    y = torch.tensor([x[0, 0], x[1, 1]])
    return _train(model, opt, x) + y.sum()


@case
def new_tensor_of_values(model, opt, x):
    y = x.new_tensor(x)
    return _train(model, opt, y)


@case
def size_from_tensor(model, opt, x):
    k = (x[0, :2].abs() * 2).long() + 1
    return _train(model, opt, x), tuple(torch.Size(k))


@case
def copy_then_pickle_hash(model, opt, x):
    raw = pickle.dumps(copy.copy(x[0]))
    return _train(model, opt, x), zlib.crc32(raw)


@case
def save_bytes_decide(model, opt, x):
    buffer = io.BytesIO()
    torch.save(x[0], buffer)
    return _train(model, opt, x), len(buffer.getvalue())


_CAPTURED = ("known limit: the recorder hears value reads by replacing Tensor's class attributes while recording: a method "
             "taken from the class before (torch.Tensor.item aliased at import) reads unheard, its value is baked in")
_UNBOUND_ITEM = torch.Tensor.item
_UNBOUND_TOLIST = torch.Tensor.tolist


@case
@_bug(_CAPTURED)
def method_captured_before_recording(model, opt, x):
    """Tensor.item taken from the class before the recording (a helper module's alias)."""
    value = _UNBOUND_ITEM(x.sum())
    return _train(model, opt, x, value), value


@case
@_bug(_CAPTURED)
def tolist_captured_before_recording(model, opt, x):
    values = _UNBOUND_TOLIST(x[0])
    return _train(model, opt, x, 2.0 if values[0] > 0 else 0.5)


@case
def math_isfinite_guard(model, opt, x):
    loss = (model(x) * 100).pow(2).mean()
    if not math.isfinite(loss):
        return loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss


@case
def np_testing_assert(model, opt, x):
    try:
        np.testing.assert_array_less(x[0], 1.0)
        scale = 1.0
    except AssertionError:
        scale = 3.0
    return _train(model, opt, x, scale), scale


@case
def numpy_of_grad_after_backward(model, opt, x):
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    norm = float(np.linalg.norm(model.weight.grad.numpy()))
    if norm > 1.0:
        model.weight.grad.mul_(1.0 / norm)
    opt.step()
    return loss, norm


@case
def grad_numpy_clipped_in_place(model, opt, x):
    opt.zero_grad()
    loss = model(x).pow(2).mean()
    loss.backward()
    np.clip(model.weight.grad.numpy(), -0.1, 0.1, out=model.weight.grad.numpy())
    opt.step()
    return loss


@case
def struct_pack_decides(model, opt, x):
    raw = struct.pack("f", x[0, 0])
    return _train(model, opt, x, 2.0 if raw[-1] & 0x80 else 0.5), raw


@case
def array_module_of_row(model, opt, x):
    values = py_array("f", x[0])
    return _train(model, opt, x, float(values[1])), values.tolist()


@case
def sorted_1d_tensor(model, opt, x):
    order = sorted(x[0])
    return _train(model, opt, x) + order[0]


@case
def gradient_hook_decides(model, opt, x):
    opt.zero_grad()
    handle = model.weight.register_hook(lambda g: g * 2 if g.sum() > 0 else g)
    loss = model(x).pow(2).mean()
    loss.backward()
    handle.remove()
    opt.step()
    return loss


class _NumpySin(torch.autograd.Function):
    """A custom op written in NumPy, as course code writes them."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.tensor(np.sin(x.detach().numpy()))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.tensor(np.cos(x.detach().numpy()))


@case
def custom_function_in_numpy(model, opt, x):
    opt.zero_grad()
    loss = _NumpySin.apply(model(x)).pow(2).mean()
    loss.backward()
    opt.step()
    return loss


class _ScaledByMean(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.scale = float(x.mean())
        return x * ctx.scale

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale


@case
def custom_function_python_scale(model, opt, x):
    opt.zero_grad()
    loss = _ScaledByMean.apply(model(x)).pow(2).mean()
    loss.backward()
    opt.step()
    return loss


@case
def any_builtin_over_1d(model, opt, x):
    flag = any(x[:, 0] > 1)
    return _train(model, opt, x, 2.0 if flag else 0.5), bool(flag)


@case
def sum_builtin_over_rows(model, opt, x):
    """sum() of the rows adds tensors: no value read, replays with the new values."""
    return _train(model, opt, x) + sum(x)


@case
def percent_formatting(model, opt, x):
    text = "%.2f|%s" % (x[0, 0], x[0, 1])
    return _train(model, opt, x, 2.0 if "-" in text else 0.5), text


@case
def np_where_of_mask(model, opt, x):
    rows = np.where(x[:, 0] > 0)[0]
    return _train(model, opt, x, len(rows) + 0.5), rows


@case
def pickle_state_dict_checksum(model, opt, x):
    loss = _train(model, opt, x)
    return loss, zlib.crc32(pickle.dumps(model.state_dict()))


# ----------------------------------------------------------------------------- library calls given 0-d tensors
LIBRARY = {
    "repeat": lambda x, k, s: x.repeat(k, 1).sum(0),
    "zeros": lambda x, k, s: torch.zeros(k).sum() + x.sum() * k,
    "arange": lambda x, k, s: torch.arange(k).float().sum(),
    "narrow": lambda x, k, s: x.narrow(0, k, 2),
    "topk": lambda x, k, s: x[0].topk(k).values.sum(),
    "roll": lambda x, k, s: x.roll(k, 0),
    "full": lambda x, k, s: torch.full((2,), s) + x[0, :2],
    "clamp": lambda x, k, s: x.clamp(min=s, max=s + 1),
    "pow": lambda x, k, s: x ** k,
    "linspace": lambda x, k, s: torch.linspace(0, s, 3),
    "chunk": lambda x, k, s: x.chunk(k)[0].sum(),
    "split": lambda x, k, s: x.split(k)[0].sum(),
    "tensor_split": lambda x, k, s: x.tensor_split(k)[0].sum(),
    "is_nonzero": lambda x, k, s: x.sum() * (2 if torch.is_nonzero(s > 0) else 1),
    "equal": lambda x, k, s: x.sum() * (2 if torch.equal(x[0] > 0, x[1] > 0) else 1),
    "allclose": lambda x, k, s: x.sum() * (2 if torch.allclose(x[0], x[1], atol=1.5) else 1),
    "slice_by_tensor": lambda x, k, s: x[k:].sum(0),
    "histc": lambda x, k, s: torch.histc(x, bins=4, min=s, max=s + 2),
    "bincount": lambda x, k, s: torch.bincount(k.view(1)).float(),
    "one_hot": lambda x, k, s: torch.nn.functional.one_hot(k.view(1)),
    "one_hot_classes": lambda x, k, s: torch.nn.functional.one_hot(k.view(1), 5),
    "diagonal": lambda x, k, s: x.diagonal(k - 1),
    "triu": lambda x, k, s: x.triu(k),
    "expand": lambda x, k, s: x[:1].expand(k, 4).sum(0),
    "dropout_p": lambda x, k, s: torch.nn.functional.dropout(x, p=s.sigmoid()),
    "round_builtin": lambda x, k, s: x.sum() + round(s, 2),
    "trunc_builtin": lambda x, k, s: x.sum() + math.trunc(s),
    "ceil_builtin": lambda x, k, s: x.sum() + math.ceil(s),
    "divmod_builtin": lambda x, k, s: x.sum() * divmod(k, 2)[1],
    "in_range": lambda x, k, s: x.sum() * (2 if k in range(2) else 1),
    "new_full": lambda x, k, s: x.new_full((2,), s),
    "new_zeros": lambda x, k, s: x.new_zeros(k).sum() + k,
    "index_fill": lambda x, k, s: x.index_fill(0, k.view(1), s),
    "masked_fill": lambda x, k, s: x.masked_fill(x > 0, s),
    "add_alpha": lambda x, k, s: x.add(x, alpha=s),
    "lerp": lambda x, k, s: x.lerp(x * 2, s),
    "pad_value": lambda x, k, s: torch.nn.functional.pad(x, (1, 1), value=s),
    "pad_width": lambda x, k, s: torch.nn.functional.pad(x, (k, 0)),
    "normal_std": lambda x, k, s: torch.normal(0.0, s.abs(), size=(2,)),
    "quantile": lambda x, k, s: x.quantile(s.sigmoid()),
    "kthvalue": lambda x, k, s: x[0].kthvalue(k).values,
    "softmax_dim": lambda x, k, s: x.softmax(k % 2),
    "std_correction": lambda x, k, s: x.std(correction=k),
    "norm_p": lambda x, k, s: x.norm(p=k),
    "multinomial": lambda x, k, s: torch.multinomial(x[0].abs(), k).float(),
    "randperm": lambda x, k, s: torch.randperm(k + 2).float().sum(),
}
LIBRARY.update({
    "one_hot_width": lambda x, k, s: F.one_hot(k.view(1)).shape[1],
    "unique_consecutive_len": lambda x, k, s: len(torch.unique_consecutive((x[:, 0] > 0).long())),
    "unique_counts_len": lambda x, k, s: x.sum() * torch.unique((x > 0).long().sum(1), return_counts=True)[1].shape[0],
    "unique_dim_rows": lambda x, k, s: torch.unique((x > 0).long(), dim=0).shape[0],
    "argwhere_rows": lambda x, k, s: torch.argwhere(x > 0).shape[0],
    "ones_of_nonzero_shape": lambda x, k, s: torch.ones((x[:, 0] > 0).nonzero().shape).sum(),
    "nonzero_numel_scales": lambda x, k, s: x.sum() * (x > 0).nonzero().numel(),
    "repeat_interleave_rows": lambda x, k, s: torch.repeat_interleave(x[:2], torch.stack([k, k]), dim=0).shape[0],
    "masked_select_len": lambda x, k, s: torch.masked_select(x, x > 0).shape[0],
    "bincount_len": lambda x, k, s: torch.bincount(k.view(1)).shape[0],
    "histogram_bins": lambda x, k, s: torch.histogram(x, bins=3)[0],
    "nonzero_static": lambda x, k, s: torch.nonzero_static(x[:, 0] > 0, size=3).float(),
    "ones_like_nonzero": lambda x, k, s: torch.ones_like((x[:, 0] > 0).nonzero()).float().sum(),
})


def _library_run(function, compiled):
    torch.manual_seed(0)
    rng = np.random.default_rng(7)
    call = torch.compile(function) if compiled else function
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k in (1, 2, 3, 1, 2):
            x = torch.tensor(rng.standard_normal((6, 4)).astype(np.float32))
            s = torch.tensor(float(rng.standard_normal()))
            rows.append(_outcome(call, x, torch.tensor(k), s))
    return rows


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_call_given_0d_tensor(name):
    eager = _library_run(LIBRARY[name], False)
    assert_identical(_library_run(LIBRARY[name], False), eager, "eager again")
    assert_identical(_library_run(LIBRARY[name], True), eager, "compiled")


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=BUGS[name])) if name in BUGS else name
    for name in sorted(CASES)
])
def test_escape_hatch(name):
    entry = CASES[name]
    if isinstance(entry, tuple):
        step, inputs = entry
        _check(_pair_runner(step), inputs)
    else:
        _check(entry)
