"""A sweep of the Tensor object model against PyTorch (the oracle): strides and storage offsets of
views, copies, pickles and checkpoints; Python operators with operands that are not tensors; NumPy
interoperation; ``torch.Size``, ``torch.dtype``, ``finfo``/``iinfo``; legacy constructors; subclass
propagation; and a few Tensor attributes chainrule lacks.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares Python values or
exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are differences found: each
turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import io
import operator
import pickle
import warnings

import numpy as np
import pytest
import torch

import chainrule

def plain(value):
    """A result as Python data, comparable across the two libraries."""
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return ("Tensor", type(value).__name__, str(value.dtype).split(".")[-1], tuple(value.shape), value.detach().tolist())
    if isinstance(value, (torch.dtype, chainrule.dtype)):
        return ("dtype", str(value).split(".")[-1])
    if isinstance(value, (torch.Size, chainrule.Size)):
        return ("Size", tuple(value))
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [plain(each) for each in value]
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.tolist())
    if isinstance(value, str):
        return "str", value.replace("chainrule.", "torch.")
    return type(value).__name__, value


def same_in_both(run):
    """``run(lib)`` for both libraries gives the same Python values (results kinds included)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = plain(run(torch))
        actual = plain(run(chainrule))
    assert actual == expected


def raises_as_torch(run):
    """``run(lib)`` raises in PyTorch; chainrule must raise the same exception type (or a subclass)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as expected:
            run(torch)
        with pytest.raises(Exception) as actual:
            run(chainrule)
    assert isinstance(actual.value, expected.type), (
        f"PyTorch raises {expected.type.__name__}({expected.value}); "
        f"chainrule raises {type(actual.value).__name__}({actual.value})"
    )


def bug(reason):
    return pytest.mark.xfail(strict=True, reason="BUG: " + reason)


# --- strides and storage offsets of views (PyTorch's, passing) -------------------------------------

VIEW_LAYOUTS = {
    "transpose": lambda t: t.transpose(0, 2),
    "steps": lambda t: t[:, 1:, ::2],
    "unfold": lambda t: t.unfold(2, 2, 1),
    "diagonal": lambda t: t.diagonal(dim1=1, dim2=2),
    "expand": lambda t: t[:, :1].expand(2, 5, 4),
    "as_strided with offset": lambda t: t.as_strided((2, 2), (1, 2), 2),
}


@pytest.mark.parametrize("view", sorted(VIEW_LAYOUTS))
def test_layout_of_a_view(view):
    def run(lib):
        t = lib.arange(24.0).reshape(2, 3, 4)
        v = VIEW_LAYOUTS[view](t)
        return (v.shape, v.size(), v.dim(), v.ndim, v.numel(), v.nelement(), v.stride(), v.storage_offset(),
                v.is_contiguous(), (v.data_ptr() - t.data_ptr()) // v.element_size(), v.nbytes, v.itemsize)
    same_in_both(run)


@pytest.mark.parametrize("index", ["[..., None]", "[None]", "[:, None]", "[:, ::2][None]", ".T[None]", "[0].expand(1, 3)"])
def test_stride_of_a_dimension_added_by_none(index):
    same_in_both(lambda lib: eval("lib.zeros(2, 3)" + index).stride())


@pytest.mark.parametrize("make", [
    "clone", "empty_like", "zeros_like",
])
def test_copies_preserve_the_strides_of_a_dense_permuted_tensor(make):
    def run(lib):
        t = lib.arange(12.0).reshape(3, 4).T
        return (t.clone() if make == "clone" else getattr(lib, make)(t)).stride()
    same_in_both(run)


def test_channels_last_strides():
    same_in_both(lambda lib: (
        lib.arange(16.0).reshape(1, 4, 2, 2).contiguous(memory_format=lib.channels_last).stride(),
        lib.arange(16.0).reshape(1, 4, 2, 2).is_contiguous(memory_format=lib.channels_last),
    ))


def test_base_of_tensors_that_are_not_views():
    same_in_both(lambda lib: (
        lib.zeros(2).detach()._base is None,
        lib.arange(6.0).reshape(2, 3).T.reshape(6)._base is None,
        lib.arange(6.0).reshape(2, 3).T.flatten()._base is None,
    ))


def test_view_and_base_of_a_view():
    same_in_both(lambda lib: (lambda t: (t.view(2)._base is t, t[0]._base is t, t.clone()._base))(lib.zeros(2)))


# --- copies, pickles and checkpoints ---------------------------------------------------------------

def test_deepcopy_keeps_views_sharing_memory():
    def run(lib):
        t = lib.arange(6.0)
        copied_base, copied_view = copy.deepcopy([t, t[:3]])
        copied_base[0] = 100
        return copied_view
    same_in_both(run)


def test_pickle_keeps_views_sharing_memory():
    def run(lib):
        t = lib.arange(6.0)
        copied_base, copied_view = pickle.loads(pickle.dumps([t, t[:3]]))
        copied_base[0] = 100
        return copied_view
    same_in_both(run)


def test_deepcopy_keeps_strides_and_offset():
    same_in_both(lambda lib: [
        (d.stride(), d.storage_offset(), d.is_contiguous())
        for d in (copy.deepcopy(lib.arange(6.0)[::2]), copy.deepcopy(lib.arange(6.0)[2:]),
                  copy.deepcopy(lib.arange(6.0).reshape(2, 3).T))
    ])


@bug("a pickled transposed tensor comes back with stride (1, 3) yet is_contiguous() True and .view(6) succeeds")
def test_pickled_transposed_tensor_is_not_contiguous():
    same_in_both(lambda lib: (lambda d: (d.stride(), d.is_contiguous(), d.contiguous().stride()))(
        pickle.loads(pickle.dumps(lib.arange(6.0).reshape(2, 3).T))))


def test_save_and_load_keep_views_sharing_memory():
    def run(lib):
        t = lib.arange(6.0).reshape(2, 3)
        buffer = io.BytesIO()
        lib.save([t, t[1], t.T], buffer)
        buffer.seek(0)
        base, row, transposed = lib.load(buffer)
        base[0, 0] = 99
        return row, row.storage_offset(), transposed, transposed.stride()
    same_in_both(run)


def test_save_and_load_keep_one_tensor_saved_twice_the_same_object():
    def run(lib):
        t = lib.arange(6.0)
        buffer = io.BytesIO()
        lib.save({"a": t, "b": t}, buffer)
        buffer.seek(0)
        loaded = lib.load(buffer)
        return loaded["a"] is loaded["b"]
    same_in_both(run)


@bug("torch.save/torch.load drop the Python attributes set on a tensor or Parameter (t.foo = ...); PyTorch keeps them")
@pytest.mark.parametrize("kind", ["tensor", "Parameter"])
def test_save_and_load_keep_tensor_attributes(kind):
    def run(lib):
        t = lib.arange(3.0, requires_grad=True)
        if kind == "Parameter":
            t = lib.nn.Parameter(t.detach())
        t.foo = "x"
        buffer = io.BytesIO()
        lib.save(t, buffer)
        buffer.seek(0)
        return getattr(lib.load(buffer), "foo", None)
    same_in_both(run)


def test_deepcopy_and_pickle_of_a_leaf_with_grad_and_attributes():
    def run(lib):
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        t.foo = 3
        (t * 2).sum().backward()
        return [(c, c.grad, c.foo, c.requires_grad, c.is_leaf) for c in (copy.deepcopy(t), pickle.loads(pickle.dumps(t)))]
    same_in_both(run)


# --- Python operators with operands that are not tensors -------------------------------------------

@pytest.mark.parametrize("op", ["+", "*", "<"])
def test_operators_with_none_raise_type_error(op):
    raises_as_torch(lambda lib: eval(f"lib.ones(2) {op} None"))


@pytest.mark.parametrize("op", ["+", "@"])
def test_arithmetic_with_a_list_raises_type_error(op):
    raises_as_torch(lambda lib: eval(f"lib.ones(2) {op} [1, 2]"))


@pytest.mark.parametrize("other", ["[1, 2]", "(1, 2)"])
def test_equality_with_a_sequence_is_python_equality(other):
    same_in_both(lambda lib: (lib.tensor([1, 2]) == eval(other), lib.tensor([1, 2]) != eval(other)))


def test_equality_with_none_and_strings():
    same_in_both(lambda lib: (lib.ones(2) == None, lib.ones(2) != None, lib.ones(2) == "a"))  # noqa: E711


# --- NumPy interoperation --------------------------------------------------------------------------

@pytest.mark.parametrize("call", ["np.exp(t)", "np.add(t, 1)", "np.maximum(t, lib.ones(2))", "np.sqrt(t[1])"])
def test_numpy_ufuncs_return_tensors(call):
    same_in_both(lambda lib: eval(call, {"np": np, "lib": lib, "t": lib.arange(2.0)}))


@pytest.mark.parametrize("make", ["from_numpy", "as_tensor", "tensor"])
def test_negative_numpy_strides_are_refused(make):
    raises_as_torch(lambda lib: getattr(lib, make)(np.arange(3, dtype=np.float32)[::-1]))


def test_numpy_memory_sharing():
    def run(lib):
        n = np.zeros(3, dtype=np.float32)
        shared, copied = lib.as_tensor(n), lib.tensor(n)
        from_numpy = lib.from_numpy(n)
        n[1] = 7
        t = lib.arange(4.0)
        np.asarray(t)[0] = 9
        v = t[1:3].numpy()
        v[0] = 50
        return shared, copied, from_numpy, t, lib.as_tensor(n, dtype=lib.float64)
    same_in_both(run)


@pytest.mark.parametrize("data", ["2**63", "[2**64]", "-2**63 - 1", "[1, 2**63]", "[[0], [2**63]]"])
def test_integers_out_of_int64_raise_value_error(data):
    raises_as_torch(lambda lib: lib.tensor(eval(data)))


# --- Python conversions and protocols (passing) ----------------------------------------------------

def test_scalar_conversions_and_index():
    same_in_both(lambda lib: (
        int(lib.tensor(-3.7)), float(lib.tensor(3)), complex(lib.tensor(2.0)), bool(lib.tensor([0.0])),
        operator.index(lib.tensor(3)), [10, 20, 30][lib.tensor(2)], list(range(5))[lib.tensor(1):lib.tensor(3)],
        hex(lib.tensor(255)), "abc" * lib.tensor(2),
        format(lib.tensor(3.14159), ".2f"), f"{lib.tensor(7):>5}", "%.2f" % lib.tensor(1.234),
        lib.zeros(lib.tensor(3)).shape, lib.zeros(2, 3).view(lib.tensor(3), 2).shape,
    ))


@pytest.mark.parametrize("call", [
    "operator.index(lib.tensor(3.))", "round(lib.tensor(2.5))", "int(lib.tensor([1, 2]))",
    "format(lib.tensor([3.1]), '.2f')", "len(lib.tensor(3.))", "lib.zeros(2, 3)[lib.tensor(1.)]", "lib.arange(5)[::-1]",
])
def test_conversion_errors(call):
    raises_as_torch(lambda lib: eval(call, {"lib": lib, "operator": operator}))


def test_bool_of_an_empty_tensor_message():
    with pytest.raises(RuntimeError, match="with no values is ambiguous"):
        bool(chainrule.tensor([]))


def test_unpacking_iteration_and_builtins():
    def run(lib):
        a, *rest = lib.arange(4.0)
        return (a, rest, sorted(lib.tensor([3, 1, 2])), max(lib.tensor([1.0, 3.0])), sum(lib.tensor([1.0, 2.0])),
                [x.shape for x in lib.zeros(2, 0)], list(lib.zeros(0, 3)), [z for z in zip(*lib.arange(6).reshape(3, 2))])
    same_in_both(run)


def test_requires_grad_must_be_a_bool():
    raises_as_torch(lambda lib: setattr(lib.zeros(2), "requires_grad", 1))


# --- torch.Size, legacy constructors, Tensor.to ----------------------------------------------------


def test_size_of_a_0d_tensor_holds_an_int():
    same_in_both(lambda lib: [type(each).__name__ for each in lib.Size([lib.tensor(3)])])


def test_size_of_a_float_is_refused():
    raises_as_torch(lambda lib: lib.Size([2.5]))


def test_size_arithmetic():
    same_in_both(lambda lib: (lib.Size([2, 3]) * 2, (1,) + lib.Size([2]), lib.Size([2, 3])[1:], lib.Size([2, 3]).numel(),
                              lib.zeros(2, 3).shape == (2, 3), lib.zeros(2, 3).shape == [2, 3],
                              pickle.loads(pickle.dumps(lib.Size([2, 3])))))


def test_legacy_constructor_with_a_size():
    same_in_both(lambda lib: lib.Tensor(lib.Size([2, 3])).shape)


def test_legacy_constructor_with_a_float():
    raises_as_torch(lambda lib: lib.Tensor(3.5))


def test_to_with_copy_returns_a_new_tensor():
    same_in_both(lambda lib: (lambda t: (t.to("cpu", copy=True) is t, t.to(lib.float32, copy=True) is t, t.to("cpu") is t))(lib.zeros(2)))


def test_operations_keep_the_subclass():
    def run(lib):
        class Sub(lib.Tensor):
            pass
        t = lib.arange(3.0).as_subclass(Sub)
        return [type(x).__name__ for x in (t, t * 2, t[0], t.sum(), lib.exp(t))]
    same_in_both(run)


@pytest.mark.parametrize("call", [
    "type(lib.Tensor._make_subclass(lib.nn.Parameter, t)).__name__", "t.is_nested",
    "t.clone().as_strided_((2, 2), (1, 2)).stride()", "t.new_empty_strided((2, 2), (1, 2)).stride()",
])
def test_missing_tensor_attributes(call):
    same_in_both(lambda lib: eval(call, {"lib": lib, "t": lib.arange(6.0)}))


# --- dtypes, finfo, iinfo, default dtype -----------------------------------------------------------

@bug("dtypes are NumPy dtypes: torch.float32 == 'float32' and == np.float32 are True; PyTorch gives False")
@pytest.mark.parametrize("other", ["'float32'", "np.float32", "np.dtype('float32')"])
def test_dtype_equals_only_dtypes(other):
    same_in_both(lambda lib: lib.float32 == eval(other))


def test_dtype_to_real_and_to_complex():
    same_in_both(lambda lib: (lib.float64.to_real(), lib.int32.to_real(), str(lib.float32.to_complex()).split(".")[-1]))


def test_dtype_identities_and_properties():
    same_in_both(lambda lib: (
        lib.float is lib.float32, lib.double is lib.float64, lib.long is lib.int64, lib.half is lib.float16,
        lib.zeros(2).dtype == lib.float32, hash(lib.float32) == hash(lib.float), {lib.float32: 1}[lib.float],
        lib.float32.is_floating_point, lib.int64.is_floating_point, lib.uint8.is_signed, lib.float32.is_complex,
        lib.float64.itemsize, lib.bool.itemsize, pickle.loads(pickle.dumps(lib.float32)) is lib.float32,
    ))


def test_finfo_and_iinfo_equality():
    same_in_both(lambda lib: (lib.finfo(lib.float32) == lib.finfo(lib.float), lib.iinfo(lib.int32) == lib.iinfo(lib.int32),
                              lib.finfo(lib.float32) != lib.finfo(lib.float64)))


def test_out_of_int64_integers_among_floats_are_floats():
    same_in_both(lambda lib: lib.tensor([1.5, 2**64, 2**63]))


def test_finfo_and_iinfo_fields():
    same_in_both(lambda lib: [
        (f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, str(f.dtype))
        for f in (lib.finfo(lib.float32), lib.finfo(lib.float16), lib.finfo(lib.float64), lib.finfo())
    ] + [(i.bits, i.max, i.min, str(i.dtype)) for i in (lib.iinfo(lib.int64), lib.iinfo(lib.uint8), lib.iinfo(lib.int8))])


@pytest.mark.parametrize("call", ["lib.finfo('float32')", "lib.set_default_dtype('float64')"])
def test_dtype_arguments_must_be_dtypes(call):
    try:
        raises_as_torch(lambda lib: eval(call, {"lib": lib}))
    finally:
        torch.set_default_dtype(torch.float32)
        chainrule.set_default_dtype(chainrule.float32)


@pytest.mark.parametrize("call", ["lib.finfo(lib.int32)", "lib.iinfo(lib.float32)", "lib.iinfo(lib.bool)",
                                  "lib.set_default_dtype(lib.int64)", "lib.is_nonzero(lib.tensor([]))"])
def test_dtype_query_errors(call):
    raises_as_torch(lambda lib: eval(call, {"lib": lib}))


def test_default_dtype_float64():
    def run(lib):
        lib.set_default_dtype(lib.float64)
        try:
            return (lib.get_default_dtype(), lib.tensor([1.5]).dtype, lib.arange(3.0).dtype, lib.tensor([1]).dtype,
                    lib.randn(2).dtype, lib.finfo().bits, lib.nn.Linear(2, 3).weight.dtype, lib.full((2,), 1.5).dtype)
        finally:
            lib.set_default_dtype(lib.float32)
    same_in_both(run)


def test_tensor_queries():
    same_in_both(lambda lib: (
        lib.is_tensor(lib.nn.Parameter(lib.zeros(1))), lib.is_tensor(np.zeros(1)), lib.is_nonzero(lib.tensor([[False]])),
        lib.is_floating_point(lib.zeros(1, dtype=lib.float16)), lib.typename(lib.zeros(1, dtype=lib.int64)),
        lib.zeros(1).type(), lib.tensor([True]).type(), lib.tensor([1.5]).type("torch.LongTensor"),
        isinstance(lib.tensor([1]), lib.LongTensor), lib.zeros(2, 3).dim_order(), lib.zeros(2, 3).T.dim_order(),
    ))
