"""What course and tutorial code meets when it leaves the happy path, as PyTorch does it: the
exceptions for mixed dtypes and shapes that do not broadcast, the dtypes reductions and tensor()
choose, NumPy's keywords, ``out=``, memory formats, warnings, and Python's operators."""
import pickle
import warnings

import numpy as np
import pytest
import torch

import chainrule

F_OURS, F_THEIRS = chainrule.nn.functional, torch.nn.functional


def outcome(lib, call):
    """``(kind, value)``: the exception type's name, or the result as a NumPy array with its dtype name."""
    try:
        result = call(lib, F_OURS if lib is chainrule else F_THEIRS)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error).__name__, None
    if isinstance(result, (lib.Tensor,)):
        return str(result.dtype).split(".")[-1], np.asarray(result.detach().numpy())
    return type(result).__name__, result


SAME_AS_PYTORCH = {
    "int @ float": lambda t, F: t.arange(4).reshape(2, 2) @ t.ones(2, 2),
    "mm int float": lambda t, F: t.mm(t.arange(4).reshape(2, 2), t.ones(2, 2)),
    "int @ int": lambda t, F: t.arange(4).reshape(2, 2) @ t.arange(4).reshape(2, 2),
    "linear of ints": lambda t, F: F.linear(t.tensor([[1, 2]]), t.ones(1, 2)),
    "dot int float": lambda t, F: t.dot(t.arange(3), t.ones(3)),
    "mv float int": lambda t, F: t.mv(t.ones(2, 3), t.arange(3)),
    "conv2d double input": lambda t, F: F.conv2d(t.ones(1, 1, 5, 5, dtype=t.float64), t.ones(1, 1, 3, 3)),
    "conv2d double bias": lambda t, F: F.conv2d(t.ones(1, 1, 5, 5), t.ones(1, 1, 3, 3), t.ones(1, dtype=t.float64)),
    "conv2d of ints": lambda t, F: F.conv2d(t.ones(1, 1, 4, 4, dtype=t.int64), t.ones(1, 1, 3, 3, dtype=t.int64)),
    "conv2d stride 0": lambda t, F: F.conv2d(t.ones(1, 1, 5, 5), t.ones(1, 1, 3, 3), stride=0),
    "conv2d empty kernel": lambda t, F: F.conv2d(t.ones(1, 1, 5, 5), t.ones(1, 1, 0, 0)),
    "conv2d same strided": lambda t, F: F.conv2d(t.ones(1, 1, 5, 5), t.ones(1, 1, 3, 3), stride=2, padding="same"),
    "conv numpy kernel size": lambda t, F: t.nn.Conv2d(1, 1, kernel_size=np.int64(3))(t.ones(1, 1, 5, 5)).shape[-1],
    "max_pool numpy size": lambda t, F: t.nn.MaxPool2d(np.int64(2))(t.ones(1, 1, 5, 5)).shape[-1],
    "cross_entropy int32 target": lambda t, F: F.cross_entropy(t.ones(2, 3), t.tensor([0, 1], dtype=t.int32)),
    "cross_entropy uint8 target": lambda t, F: F.cross_entropy(t.ones(2, 3), t.tensor([0, 1], dtype=t.uint8)),
    "nll_loss int32 target": lambda t, F: F.nll_loss(t.ones(2, 3), t.tensor([0, 1], dtype=t.int32)),
    "cross_entropy double weight": lambda t, F: F.cross_entropy(t.ones(2, 3), t.tensor([0, 1]), weight=t.ones(3, dtype=t.float64)),
    "cross_entropy probabilities ignore_index": lambda t, F: F.cross_entropy(t.ones(2, 3), t.ones(2, 3) / 3, ignore_index=1),
    "mse of ints": lambda t, F: F.mse_loss(t.tensor([1, 2]), t.tensor([1, 3])),
    "mse float int": lambda t, F: F.mse_loss(t.tensor([1.0, 2]), t.tensor([1, 3])),
    "mse shapes": lambda t, F: F.mse_loss(t.ones(2, 3), t.ones(2, 4)),
    "bce long target": lambda t, F: F.binary_cross_entropy(t.full((2,), 0.5), t.tensor([1, 0])),
    "bce logits long target": lambda t, F: F.binary_cross_entropy_with_logits(t.zeros(2), t.tensor([1, 0])),
    "masked_fill shapes": lambda t, F: t.zeros(2, 4, 5).masked_fill(t.ones(2, 4, dtype=t.bool), -1e9),
    "where shapes": lambda t, F: t.where(t.ones(2, 4, dtype=t.bool), t.ones(2, 4, 5), 0.0),
    "add_ grows": lambda t, F: t.ones(2, 1).add_(t.ones(2, 3)),
    "copy_ grows": lambda t, F: t.ones(2, 1).copy_(t.ones(2, 3)),
    "masked_fill_ grows": lambda t, F: t.ones(3).masked_fill_(t.ones(2, 3, dtype=t.bool), 1),
    "float of two": lambda t, F: float(t.ones(2)),
    "int of two": lambda t, F: int(t.ones(2)),
    "tensor(None)": lambda t, F: t.tensor(None),
    "numpy float64 scalars": lambda t, F: t.tensor([np.float64(0.5), np.float64(1.5)]),
    "numpy float32 and a float": lambda t, F: t.tensor([np.float32(0.5), 1.5]),
    "an int and numpy float64": lambda t, F: t.tensor([1, np.float64(0.5)]),
    "numpy int32 scalars": lambda t, F: t.tensor([np.int32(1), np.int32(2)]),
    "sum dtype": lambda t, F: t.ones(3).sum(dtype=t.float64),
    "sum dim dtype": lambda t, F: t.sum(t.ones(2, 3), 0, dtype=t.float64),
    "mean dtype of ints": lambda t, F: t.ones(3, dtype=t.int64).mean(dtype=t.float64),
    "prod dtype": lambda t, F: t.ones(3).prod(dtype=t.int64),
    "uint8 sum": lambda t, F: t.tensor([200, 100], dtype=t.uint8).sum(),
    "int32 sum": lambda t, F: t.tensor([200, 100], dtype=t.int32).sum(0),
    "uint8 cumsum": lambda t, F: t.tensor([200, 100], dtype=t.uint8).cumsum(0),
    "int16 prod": lambda t, F: t.tensor([200, 100], dtype=t.int16).prod(),
    "uint8 trace": lambda t, F: t.full((2, 2), 200, dtype=t.uint8).trace(),
    "int median along a dim": lambda t, F: t.tensor([[3, 1, 2]]).median(dim=1).values,
    "cat axis": lambda t, F: t.cat([t.ones(2, 2), t.zeros(2, 2)], axis=1),
    "stack axis": lambda t, F: t.stack([t.ones(2, 2), t.zeros(2, 2)], axis=1),
    "softmax axis": lambda t, F: t.softmax(t.arange(4.0), axis=0),
    "unsqueeze axis": lambda t, F: t.ones(2).unsqueeze(axis=1),
    "sum keepdims": lambda t, F: t.ones(2, 3).sum(axis=1, keepdims=True),
    "bool sign": lambda t, F: t.tensor([True, False]).sign(),
    "reflected %": lambda t, F: 2 % t.tensor([1.0, 3.0]),
    "reflected &": lambda t, F: True & t.tensor([True, False]),
    "reflected |": lambda t, F: False | t.tensor([True, False]),
    "reflected ^": lambda t, F: 1 ^ t.tensor([1, 2]),
    "== None": lambda t, F: t.tensor([1.0]) == None,  # noqa: E711
    "!= None": lambda t, F: t.tensor([1.0]) != None,  # noqa: E711
    "== a string": lambda t, F: t.tensor([1.0]) == "a",
    "list times tensor": lambda t, F: [0.0] * t.tensor(3),
    "tensor times tuple": lambda t, F: t.tensor(2) * (1,),
    "string times tensor": lambda t, F: "ab" * t.tensor(2),
    "flip dims one by one": lambda t, F: t.arange(6).reshape(2, 3).flip(0, 1),
    "flip of a 0-d tensor": lambda t, F: t.tensor(3.0).flip(0),
    "view as int32": lambda t, F: t.ones(2, 2).view(t.int32),
    "view as uint8": lambda t, F: t.ones(2, 3).view(t.uint8),
    "view transposed as half": lambda t, F: t.ones(2, 3).t().view(t.float16),
    "nuclear norm": lambda t, F: t.arange(9.0).reshape(3, 3).norm(p="nuc"),
    "norm dtype": lambda t, F: t.ones(3).norm(dtype=t.float64),
    "cuda": lambda t, F: t.ones(1).cuda(),
    "to cuda": lambda t, F: t.ones(1).to("cuda"),
    "legacy constructor on cuda": lambda t, F: t.FloatTensor([1.0], device="cuda"),
    "torch.dropout": lambda t, F: t.dropout(t.ones(3), 0.5, False),
    "torch.batch_norm": lambda t, F: t.batch_norm(t.arange(6.0).reshape(3, 2), None, None, t.zeros(2), t.ones(2), False, 0.1, 1e-5, False),
    "torch.layer_norm": lambda t, F: t.layer_norm(t.arange(6.0).reshape(3, 2), [2]),
    "torch.embedding": lambda t, F: t.embedding(t.arange(10.0).reshape(5, 2), t.tensor([1, 3])),
    "torch.kl_div mean": lambda t, F: t.kl_div(t.tensor([0.2, 0.8]).log(), t.tensor([0.5, 0.5]), 1),
    "torch.hinge_embedding_loss sum": lambda t, F: t.hinge_embedding_loss(t.tensor([0.2, 1.5]), t.tensor([1.0, -1.0]), 1.0, 2),
    "torch.binary_cross_entropy_with_logits none": lambda t, F: t.binary_cross_entropy_with_logits(t.tensor([0.3, -1.0]), t.tensor([1.0, 0.0]), None, None, 0),
    "torch.rsub": lambda t, F: t.rsub(t.ones(2), 3, alpha=2),
    "torch.nuclear_norm": lambda t, F: t.nuclear_norm(t.arange(4.0).reshape(2, 2)),
    "torch.frobenius_norm": lambda t, F: t.frobenius_norm(t.arange(4.0).reshape(2, 2), (0, 1)),
    "torch.version.cuda": lambda t, F: t.version.cuda,
    "layout": lambda t, F: repr(t.ones(1).layout).split(".")[-1],
    "clone memory_format": lambda t, F: t.ones(2).clone(memory_format=t.contiguous_format),
    "float memory_format": lambda t, F: t.ones(2, dtype=t.int64).float(memory_format=t.preserve_format),
    "to memory_format": lambda t, F: t.ones(2).to(memory_format=t.preserve_format),
    "take_along_dim flattens": lambda t, F: t.take_along_dim(t.tensor([[1, 2], [3, 4]]), t.tensor([[1]])),
    "batched product over nothing": lambda t, F: t.ones(5, 2, 0) @ t.ones(0, 3),
    "Tensor() is empty": lambda t, F: t.Tensor(),
    "tensor of tensors of two elements": lambda t, F: t.tensor([t.ones(2), t.ones(2)]),
    "tensor of one-element tensors": lambda t, F: t.tensor([t.tensor(1.5, dtype=t.float64), t.ones(1)]),
    "index_select float index": lambda t, F: t.ones(3).index_select(0, t.tensor([0.0, 1.0])),
    "index_select of a 0-d tensor": lambda t, F: t.tensor(5.0).index_select(0, t.tensor([0])),
    "gradient of atan2 at the origin": lambda t, F: gradients(t, lambda a, b: t.atan2(a, b), [0.0, 1.0], [0.0, 2.0]),
    "clamp with crossed bounds: high wins": lambda t, F: gradients(t, lambda lo, hi: t.clamp(t.tensor([1.0, 2.0, 3.0]), lo, hi), [2.0, 2.0, 2.0], [1.0, 1.0, 1.0]),
    "gradient of 0 ** e": lambda t, F: gradients(t, lambda b, e: b**e, [0.0, 2.0], [2.0, 0.5]),
    "in place after a product with a constant": lambda t, F: in_place_after_product(t),
    "exp of a float": lambda t, F: t.exp(2.0),
    "sigmoid of a list": lambda t, F: t.sigmoid([1.0, 2.0]),
    "expand -1 in a new dim": lambda t, F: t.ones(3, 1).expand(-1, 3, 4),
    "expand -1 in an old dim": lambda t, F: t.ones(3, 1).expand(2, -1, 4),
    "searchsorted int32 sorter": lambda t, F: t.searchsorted(t.tensor([3.0, 1.0, 2.0]), t.tensor([2.0]), sorter=t.tensor([1, 2, 0], dtype=t.int32)),
    "searchsorted short sorter": lambda t, F: t.searchsorted(t.tensor([3.0, 1.0, 2.0]), t.tensor([2.0]), sorter=t.tensor([1, 2])),
    "searchsorted sorter": lambda t, F: t.searchsorted(t.tensor([3.0, 1.0, 2.0]), t.tensor([2.0, 0.5]), sorter=t.tensor([1, 2, 0])),
    "cholesky_solve vector": lambda t, F: t.cholesky_solve(t.ones(2), t.eye(2)),
    "xlogy at x = 0": lambda t, F: t.xlogy(t.tensor([0.0, 0.0, 0.0, 1.0]), t.tensor([float("nan"), 2.0, -1.0, 0.0])),
    "xlogy gradients": lambda t, F: gradients(t, t.xlogy, [0.0, 0.0, 0.0, 0.0, 2.0], [float("nan"), 2.0, -1.0, 0.0, 3.0]),
    "view of leaf in place": lambda t, F: t.ones(2, 2, requires_grad=True)[0].mul_(2),
    "softmax of ints": lambda t, F: t.softmax(t.ones(2, dtype=t.int64), 0),
    "log_softmax of bools": lambda t, F: F.log_softmax(t.ones(2, dtype=t.bool), 0),
    "softmax of ints to float": lambda t, F: t.softmax(t.ones(2, dtype=t.int64), 0, dtype=t.float32),
}


def gradients(t, function, *values):
    """The gradients of function(*values).sum() with respect to each value, stacked."""
    leaves = [t.tensor(value, requires_grad=True) for value in values]
    function(*leaves).sum().backward()
    return t.stack([leaf.grad for leaf in leaves])


def in_place_after_product(t):
    """h @ constant saves only the constant, so changing h afterwards is allowed (as in PyTorch)."""
    x = t.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    h = x * 2
    out = h @ t.ones(3, 4)
    h[0, 0] = 0
    out.sum().backward()
    return x.grad


@pytest.mark.parametrize("name", list(SAME_AS_PYTORCH))
def test_behaves_as_pytorch(name):
    call = SAME_AS_PYTORCH[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = outcome(chainrule, call), outcome(torch, call)
    assert ours[0] == theirs[0], f"{name}: chainrule gave {ours}, PyTorch {theirs}"
    if isinstance(theirs[1], np.ndarray):
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
        assert ours[1].shape == theirs[1].shape
    else:
        assert ours[1] == theirs[1]


def test_errors_say_what_to_change():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(4\) must match the size of tensor b \(5\) at non-singleton dimension 2"):
        chainrule.zeros(2, 4, 5).masked_fill(chainrule.ones(2, 4, dtype=chainrule.bool), -1e9)
    with pytest.raises(RuntimeError, match=r"output with shape \[2, 1\] doesn't match the broadcast shape \[2, 3\]"):
        x = chainrule.ones(2, 1)
        x += chainrule.ones(2, 3)
    with pytest.raises(RuntimeError, match=r"expected m1 and m2 to have the same dtype, but got: long int != float \(matmul: convert one first"):
        chainrule.arange(4).reshape(2, 2) @ chainrule.ones(2, 2)
    with pytest.raises(RuntimeError, match=r"expected target dtype to be Long or Byte, but got Int.*target.long\(\)"):
        F_OURS.cross_entropy(chainrule.ones(2, 3), chainrule.tensor([0, 1], dtype=chainrule.int32))
    with pytest.raises(RuntimeError, match=r"Input type \(double\) and bias type \(float\) should be the same"):
        F_OURS.conv2d(chainrule.ones(1, 1, 5, 5, dtype=chainrule.float64), chainrule.ones(1, 1, 3, 3, dtype=chainrule.float64), chainrule.ones(1))


def test_gradients_through_reductions_with_a_dtype_reach_the_input():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    x.sum(dtype=chainrule.float64).backward()
    assert x.grad.dtype == chainrule.float32 and x.grad.tolist() == [1.0, 1.0]


def test_out_writes_single_results_and_pairs():
    x = chainrule.arange(6.0).reshape(2, 3)
    total = chainrule.empty(0)
    assert chainrule.sum(x, 0, out=total) is total and total.tolist() == [3.0, 5.0, 7.0]
    values, indices = chainrule.empty(0), chainrule.empty(0, dtype=chainrule.int64)
    result = chainrule.max(x, 1, out=(values, indices))
    assert result.values is values and result.indices is indices and indices.tolist() == [2, 2]
    joined = chainrule.empty(0)
    chainrule.cat([x, x], out=joined)
    assert joined.shape == (4, 3)


def test_warnings_as_pytorch_gives_them():
    x = chainrule.ones(2, requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="not a leaf Tensor is being accessed"):
        assert y.grad is None
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None  # retained: no warning
        assert x.grad is None  # a leaf: no warning
    with pytest.warns(UserWarning, match="x.T` on tensors of dimension other than 2"):
        chainrule.caller_warnings.settings.set_warn_always(True)
        try:
            assert chainrule.ones(2, 3, 4).T.shape == (4, 3, 2)
        finally:
            chainrule.caller_warnings.settings.set_warn_always(False)


def test_numpy_refuses_a_tensor_that_requires_grad_as_numpy_does():
    x = chainrule.arange(3.0, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Can't call numpy\(\) on Tensor that requires grad"):
        np.asarray(x)
    assert np.asarray(x.detach()).tolist() == [0.0, 1.0, 2.0]


def test_a_view_as_another_dtype_shares_memory():
    x = chainrule.zeros(2, 2)
    bits = x.view(chainrule.int32)
    bits[0, 0] = 1065353216  # the bits of 1.0f
    assert x[0, 0].item() == 1.0 and bits.grad_fn is None


def test_memory_formats_and_layouts_pickle_as_themselves():
    for value in (chainrule.preserve_format, chainrule.contiguous_format, chainrule.channels_last, chainrule.strided):
        assert pickle.loads(pickle.dumps(value)) is value
    assert repr(chainrule.channels_last) == "chainrule.channels_last"
    assert chainrule.zeros_like(chainrule.ones(2), memory_format=chainrule.preserve_format).shape == (2,)


PYTORCH_WORDS = {
    "conv channels": lambda t: t.nn.Conv2d(3, 8, 3)(t.ones(1, 1, 28, 28)),
    "unbatched conv channels": lambda t: t.nn.Conv2d(3, 8, 3)(t.ones(1, 28, 28)),
    "grouped conv channels": lambda t: t.nn.Conv1d(4, 8, 3, groups=2)(t.ones(2, 3, 5)),
    "transposed conv channels": lambda t: t.nn.ConvTranspose2d(3, 8, 3)(t.ones(2, 1, 5, 5)),
    "expand a non-singleton dim": lambda t: t.ones(3).expand(2, 4),
    "expand into more dims": lambda t: t.ones(2, 3).expand(4, 2, 5),
    "linear shapes": lambda t: t.nn.Linear(3, 4)(t.ones(2, 2)),
    "batch norm channels": lambda t: t.nn.BatchNorm1d(4)(t.ones(2, 3)),
    "ragged data": lambda t: t.tensor([[1, 2], [3]]),
}


@pytest.mark.parametrize("name", list(PYTORCH_WORDS))
def test_errors_beginners_meet_start_with_pytorchs_words(name):
    """Learners search for PyTorch's message: ours starts with it, then says what to do."""
    with pytest.raises(Exception) as theirs:
        PYTORCH_WORDS[name](torch)
    with pytest.raises(Exception) as ours:
        PYTORCH_WORDS[name](chainrule)
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).startswith(str(theirs.value))


def test_python_protocols_and_old_names_as_pytorch():
    """``element in t`` compares every element (a 2-D tensor too), ``reversed(t)`` flips the first
    dimension, ``Variable.volatile`` reads False and ignores writes, and the deprecated out-of-place
    ``resize``/``resize_as`` reshape keeping the element count: values, errors and warnings as PyTorch's."""
    for lib in (chainrule, torch):
        t = lib.arange(6.0).reshape(2, 3)
        assert (2.0 in t, lib.tensor(5.0) in t, 7 in t) == (True, True, False)
        with pytest.raises(RuntimeError, match="Tensor.__contains__ only supports Tensor or scalar"):
            "a" in t
        assert reversed(t).tolist() == [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]] and reversed(lib.tensor(3.0)).item() == 3.0
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            variable = lib.autograd.Variable(lib.ones(2))
            assert variable.volatile is False
            variable.volatile = True
            assert t.resize(3, 2).tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]] and t.resize_as(lib.zeros(6)).shape == (6,)
        assert [str(w.message) for w in caught] == [
            "volatile was removed (Variable.volatile is always False)",
            "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
            "non-inplace resize is deprecated", "non-inplace resize_as is deprecated",
        ]
        with pytest.raises(RuntimeError, match=r"requested resize to 4 \(4 elements in total\), but the given tensor has a size of 2x3"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t.resize(4)
        x = lib.ones(2, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x.resize(2, 1).sum().backward()
        assert x.grad.tolist() == [1.0, 1.0]


def test_the_version_compares_as_pytorch_213s_does():
    """Course helpers pick their calls by version (STAT 453's ``torch.__version__ <= Version("1.7")``,
    ``>= "2.0"``): chainrule follows PyTorch 2.13's API, and its version compares as a version."""
    import pickle
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            from distutils.version import LooseVersion  # the helpers' own import (gone in Python 3.12)
        except ImportError:
            LooseVersion = None
    for lib in (chainrule, torch):
        version = lib.__version__
        assert isinstance(version, str) and version.startswith("2.13.0+")
        assert version >= "2.9" and version > "2.13" and version < "2.14" and version >= (2, 9) and version < (3,)
        assert version == str(version) and version != "2.13.0"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert LooseVersion is None or not version <= LooseVersion("1.7")
        assert lib.version.__version__ == version and pickle.loads(pickle.dumps(version)) == version
    assert chainrule.version.release == "0.1.0"


def test_onnx_is_importable_and_export_refuses_clearly():
    import pytest

    assert chainrule.onnx.is_in_onnx_export() is False
    with pytest.raises(NotImplementedError, match="cannot export Linear to ONNX"):
        chainrule.onnx.export(chainrule.nn.Linear(2, 2), (chainrule.ones(1, 2),), "model.onnx")


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor([1.0, -2.0]).view(dtype=lib.int32).tolist(),
        lambda lib: tuple(lib.tensor([]).new(size=(3, 4)).shape),
        lambda lib: (lib.is_signed(lib.tensor(0, dtype=lib.complex64)), lib.tensor(0j).is_signed()),
        lambda lib: (tuple(lib.multinomial(lib.ones(0, 3), 2, replacement=True).shape), lib.multinomial(lib.ones(0, 3), 2).dtype is lib.int64),
        lambda lib: lib.masked_select(lib.tensor([1.0, 2.0, 3.0]), lib.tensor([True, False, True]), out=lib.empty(0)).tolist(),
    ],
)
def test_keywords_and_edge_cases_third_party_tests_use(call):
    """(view(dtype=), new(size=), is_signed of complex, multinomial of no rows, masked_select's out=)"""
    assert call(chainrule) == call(torch)


@pytest.mark.parametrize(
    "array",
    [
        np.lib.stride_tricks.as_strided(np.array([3.0, 5.0, 8.0]), shape=(2,), strides=(3,)),  # strides of no whole element
        np.arange(4.0)[::-1],
        np.arange(4.0).astype(">f8"),
    ],
)
def test_from_numpy_refuses_the_arrays_pytorch_refuses(array):
    with pytest.raises(ValueError) as expected:
        torch.from_numpy(array)
    with pytest.raises(ValueError) as got:
        chainrule.from_numpy(array)
    assert str(got.value).startswith(str(expected.value).split(". ")[0])


@pytest.mark.parametrize("question", ["size", "stride"])
def test_a_0d_tensor_has_no_dimension_to_ask_about(question):
    for lib in (chainrule, torch):
        with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
            getattr(lib.tensor(3.0), question)(0)
