"""A sweep of storages and of rare top-level names against PyTorch (the oracle):

- storages: ``Tensor.untyped_storage()`` (bytes: ``nbytes``, ``data_ptr`` shared by every view of one
  memory, indexing that reads and writes through to the tensors, ``fill_``, ``copy_``, ``clone``,
  ``resize_``), ``Tensor.storage()`` (TypedStorage, with PyTorch's deprecation warning),
  ``storage_type``, ``torch.is_storage``, the legacy ``FloatStorage``..., ``Tensor.set_`` and ``is_set_to``;
- DLPack: ``from_dlpack`` (arrays, tensors, capsules), ``utils.dlpack.to_dlpack``, ``numpy.from_dlpack(tensor)``;
- small names: ``detach_``, ``set_flush_denormal``, ``to_dense``, the ``is_xpu``... properties, the
  ``*_copy`` forms of the views (with ``out=``), ``empty_permuted``, ``max_pool1d_with_indices``,
  ``cond``, ``nn.CrossMapLRN2d``;

the error types PyTorch raises for bad input, and float64 gradients of the differentiable ones.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names or exception types. Tests marked ``xfail(strict=True, reason="BUG: ...")`` are
differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch
import torch.utils.dlpack

import chainrule
import chainrule.utils.dlpack
from tests.parity.sweep import bundle, raises_as_torch, same_in_both, warning_categories

A = [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]


def named(value):
    """A dtype or device by its name alone (``torch.float32`` and ``chainrule.float32`` alike)."""
    return str(value).split(".")[-1]


def without_library(text):
    """PyTorch's text of a storage with the library's name taken out."""
    return text.replace("torch.", "").replace("chainrule.", "")


def grid(L, dtype=None):
    return L.tensor(A, dtype=dtype or L.float32)


def views(x):
    """Tensors that view x's memory (x is 3 x 4 and contiguous)."""
    return [x.t(), x[1:], x[:, 2], x.view(4, 3), x.expand(2, 3, 4), x.detach(), x.reshape(12), x.unsqueeze(0),
            x.narrow(1, 1, 2), x.as_strided((2, 2), (1, 4), 1), x[1:].view(2, 4), x.select(1, 3), x.data]


def shares_storage(L):
    x = grid(L)
    start = x.untyped_storage().data_ptr()
    shared = [view.untyped_storage().data_ptr() == start for view in views(x)]
    offsets = [view.data_ptr() - view.untyped_storage().data_ptr() == view.storage_offset() * view.element_size()
               for view in views(x)]
    others = [x.clone(), x + 0, x.t().contiguous(), x.to(L.float64), L.tensor(A)]
    return shared, offsets, [other.untyped_storage().data_ptr() == start for other in others]


def write_byte(L):
    x = grid(L)
    storage = x.untyped_storage()
    storage[7] = 64  # the top byte of element 1: 1.0 becomes 2.0 (0x40000000)
    storage[8:12] = 0  # element 2 becomes 0.0
    view = x[1:].untyped_storage()
    view[16] = 0  # the storage of x[1:] is all of x's: byte 16 is element 4's
    return x


def write_typed(L):
    x = grid(L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        typed = x[1:].storage()
        typed[0] = -1.0
        typed[-1] = 100.0
        typed[2:4] = 7.0
    return x


def set_layouts(L):
    source = L.arange(12.0)
    results = []
    for args in [(source,), (source, 1, (2, 2), (1, 2)), (source, 2, (3, 3)), (source.untyped_storage(),),
                 (source.untyped_storage(), 8, (2,)), (source.untyped_storage(), 1, [2, 2], [3, 1]),
                 (source.view(3, 4).t(),), (source[3:].view(3, 3),)]:
        target = L.zeros(2)
        returned = target.set_(*args)
        results.append((returned is target, target.clone(), tuple(target.shape), target.stride(), target.storage_offset(),
                        target.is_set_to(args[0]) if isinstance(args[0], L.Tensor) else None))
    return results


def set_shares_memory(L):
    source = L.arange(6.0)
    target = L.zeros(2)
    target.set_(source, 2, (2,))
    target[0] = 100.0
    source[3] = -1.0
    return source, target, target.is_set_to(source), source.is_set_to(target), target._version, source._version


def set_empty(L):
    target = L.arange(4.0)
    target.set_()
    return target, tuple(target.shape), target.untyped_storage().nbytes(), target._version


def set_under_no_grad(L):
    weight = L.ones(3, requires_grad=True)
    with L.no_grad():
        weight.set_(L.arange(3.0))
    return weight.detach(), weight.requires_grad, weight.is_leaf


def set_from_typed(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source = L.arange(6.0)
        target = L.zeros(1)
        target.set_(source.storage(), 2, (3,))
    return target


def set_other_dtype_from_bytes(L):
    source = L.tensor([1.0, 2.0, 3.0])
    return (L.zeros(1, dtype=L.int16).set_(source.untyped_storage()),
            L.zeros(1, dtype=L.float32).set_(L.zeros(3, dtype=L.uint8).untyped_storage()))


def is_set_to_cases(L):
    y = L.arange(6.0)
    return [y.is_set_to(y), y.is_set_to(y[:]), y.is_set_to(y.view(2, 3)), y.is_set_to(y[1:]), y.is_set_to(y.clone()),
            L.empty(0).is_set_to(L.empty(0)), y.detach().is_set_to(y)]


def storage_copies(L):
    x = L.tensor([1.0, 2.0])
    storage = x.untyped_storage()
    clone = storage.clone()
    clone[0] = 9
    other = L.zeros(2)
    returned = other.untyped_storage().copy_(storage)
    return (x, other, returned is other.untyped_storage(), clone.data_ptr() != storage.data_ptr(), storage.cpu() is storage,
            copy.copy(storage).data_ptr() != storage.data_ptr(), copy.deepcopy(storage).tolist() == storage.tolist())


def storage_fill(L):
    x = L.zeros(2, dtype=L.int16)
    x.untyped_storage().fill_(1)
    y = L.zeros(2, dtype=L.uint8)
    y.untyped_storage().fill_(256 + 3)
    z = L.zeros(2, dtype=L.uint8)
    z.untyped_storage().fill_(-1)
    w = L.zeros(2, dtype=L.uint8)
    w.untyped_storage().fill_(True)
    return x, y, z, w


def byte_values(L):
    storage = L.UntypedStorage(4)
    storage.fill_(0)
    storage[0] = 300
    storage[1] = -300
    storage[2] = True
    return storage.tolist(), storage[-1], storage[-4], L.UntypedStorage([1, 2, 300]).tolist(), L.UntypedStorage(b"abc").tolist()


def storage_slices(L):
    storage = grid(L).untyped_storage()
    part = storage[4:8]
    return (part.nbytes(), part.data_ptr() - storage.data_ptr(), part.tolist(), storage[-4:].tolist(), storage[10:4].nbytes(),
            storage[44:100].nbytes(), type(part).__name__)


def storage_facts(L):
    x = grid(L, L.float64)
    storage = x[1:].untyped_storage()
    return (storage.nbytes(), storage.size(), len(storage), storage.element_size(), named(storage.device),
            storage.get_device(), storage.is_shared(), storage.is_pinned(), storage.is_cuda, storage.is_sparse,
            storage.untyped() is storage, storage is x.t().untyped_storage(), type(storage).__name__)


def storage_text(L):
    return [without_library(str(L.tensor([1, 2], dtype=L.int16).untyped_storage())),
            without_library(repr(L.UntypedStorage(0))),
            without_library(str(L.zeros(2).to("meta").untyped_storage()))]


def typed_facts(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = grid(L)
        typed = x[1:].storage()
        return (len(typed), typed.size(), named(typed.dtype), named(typed.device), typed[1], typed[-1], typed.tolist(),
                typed.data_ptr() == x.data_ptr(), typed.nbytes(), typed.element_size(),
                typed.untyped().data_ptr() == x.data_ptr(), typed._untyped_storage.nbytes(), typed.type().split(".")[-1],
                isinstance(typed, L.FloatStorage), isinstance(typed, L.LongStorage), type(typed).__name__,
                without_library(str(L.tensor([1, 2]).storage())), L.tensor([True]).storage()[0], L.tensor([3]).storage()[0])


def typed_values(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = L.zeros(3)
        x.storage().fill_(1.5)
        y = L.zeros(2)
        y.storage().copy_(L.ones(2).untyped_storage())
        wrapped = L.TypedStorage(wrap_storage=L.tensor([1.0, 2.0]).untyped_storage(), dtype=L.int16).tolist()
        return (x, y, wrapped, L.FloatStorage([1, 2]).tolist(), L.TypedStorage([1, 2], dtype=L.int64).tolist(),
                len(L.TypedStorage(wrap_storage=L.UntypedStorage(3), dtype=L.float32)), len(L.FloatStorage(3)),
                named(L.TypedStorage().dtype), pickle.loads(pickle.dumps(x.storage())).tolist(),
                type(x.storage().clone()).__name__, x.storage().clone().data_ptr() != x.data_ptr())


def storage_types(L):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [named(L.tensor([1.0], dtype=dtype).storage_type()) for dtype in
                (L.float32, L.float64, L.float16, L.int64, L.int32, L.int16, L.int8, L.uint8, L.bool)] + [
            L.tensor([1], dtype=L.uint16).storage_type()]


def is_storage_cases(L):
    x = L.arange(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [L.is_storage(x.untyped_storage()), L.is_storage(x.storage()), L.is_storage(x), L.is_storage(L.UntypedStorage),
                L.is_storage(L.FloatStorage(1)), L.is_storage([1]), L.storage.__name__.split(".")[-1]]


def resizing(L):
    storage = L.UntypedStorage(4)
    storage.fill_(7)
    storage.resize_(8)
    kept = storage.tolist()[:4]
    storage.resize_(2)
    return storage.resizable(), kept, storage.nbytes(), storage.tolist()


def meta_storage(L):
    storage = L.zeros(2, 3).to("meta").untyped_storage()
    made = L.UntypedStorage(5, device="meta")
    return storage.nbytes(), named(storage.device), storage.data_ptr(), made.nbytes(), named(made.device)


# --- DLPack --------------------------------------------------------------------------------------

def from_numpy_via_dlpack(L):
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    tensor = L.from_dlpack(array)
    tensor[0, 0] = 9.0
    transposed = L.from_dlpack(array.T)
    return (tensor, float(array[0, 0]), tensor.data_ptr() == array.ctypes.data, transposed, transposed.stride(),
            L.from_dlpack(ext_tensor=array).shape, L.from_dlpack(array, device="cpu").shape,
            L.from_dlpack(array, copy=True).data_ptr() == array.ctypes.data,
            L.from_dlpack(array, copy=False).data_ptr() == array.ctypes.data)


def dlpack_dtypes(L):
    return [L.from_dlpack(np.array(values, dtype=dtype)) for values, dtype in
            (([True, False], np.bool_), ([1.5], np.float16), ([1, 2], np.uint16), ([1, 2], np.int8), (3.0, np.float64))]


def dlpack_read_only_array(L):
    array = np.arange(3.0)
    array.setflags(write=False)
    tensor = L.from_dlpack(array)
    tensor.add_(1.0)  # PyTorch writes into the memory of a read-only array (as its docs warn)
    return tensor, array.tolist()


def dlpack_capsules(L):
    x = L.arange(4.0)
    capsule = L.utils.dlpack.to_dlpack(x)
    again = L.utils.dlpack.from_dlpack(capsule)
    again[0] = -5.0
    from_array_capsule = L.from_dlpack(np.arange(3.0).__dlpack__())
    return x, again.data_ptr() == x.data_ptr(), type(capsule).__name__, from_array_capsule


def dlpack_to_numpy(L):
    x = L.arange(3.0)
    array = np.from_dlpack(x)
    array[1] = 10.0
    return x, array.tolist(), L.from_dlpack(x).data_ptr() == x.data_ptr(), x.__dlpack_device__()


def dlpack_other_library():
    """A chainrule tensor made from a PyTorch tensor shares its memory, and back."""
    source = torch.arange(3.0)
    tensor = chainrule.from_dlpack(source)
    tensor[0] = 7.0
    back = torch.from_dlpack(chainrule.arange(2.0))
    return source.tolist(), back.tolist(), tensor.data_ptr() == source.data_ptr()


def test_dlpack_shares_memory_with_pytorch():
    assert dlpack_other_library() == ([7.0, 1.0, 2.0], [0.0, 1.0], True)


# --- small names ---------------------------------------------------------------------------------

def flush_denormal(L):
    try:
        flushed = L.set_flush_denormal(True)
        tiny = L.tensor([1e-39]) * 1, L.tensor([1e-310], dtype=L.float64) * 1.0
    finally:
        restored = L.set_flush_denormal(False)
    return flushed, tiny, restored, L.tensor([1e-39]) * 1


def detach_in_place(L):
    x = L.ones(2, requires_grad=True)
    y = x * 2
    returned = L.detach_(y)
    return returned is y, y.requires_grad, y.grad_fn is None, y.is_leaf, L.detach_(input=L.ones(2))


def to_dense_cases(L):
    x = L.tensor(A, requires_grad=True)
    converted = x.to_dense(L.float64)
    return (x.to_dense() is x, x.to_dense(L.float32) is x, x.to_dense(masked_grad=True) is x, converted,
            converted.requires_grad, L.tensor([1, 2]).to_dense(L.float32))


def device_kinds(L):
    x = L.ones(2)
    meta = L.ones(2).to("meta")
    return [getattr(tensor, name) for tensor in (x, meta)
            for name in ("is_xpu", "is_xla", "is_ipu", "is_mtia", "is_maia", "is_vulkan", "is_nested")]


def copies_are_fresh(L):
    x = grid(L).reshape(3, 4)
    results = [L.permute_copy(x, (1, 0)), L.transpose_copy(x, 0, 1), L.t_copy(x), L.squeeze_copy(x[:1]),
               L.squeeze_copy(x[:1], 0), L.squeeze_copy(x[:1], (0, 1)), L.unsqueeze_copy(x, 1), L.expand_copy(x[:1], (2, 4)),
               L.expand_copy(x, (2, 3, 4), implicit=True), L.select_copy(x, 1, -1), L.slice_copy(x, 1, 1, None, 2),
               L.slice_copy(x), L.slice_copy(x, 0, -10, 10), L.slice_copy(x, 1, 3, 1), L.diagonal_copy(x, 1),
               L.unfold_copy(x, 1, 2, 1), L.alias_copy(x), L.detach_copy(x), L.as_strided_copy(x, (2, 2), (1, 4), 1),
               L.view_copy(x, (4, 3)), L.view_copy(x.t(), (12,)), L.view_copy(x, L.int32), L.view_copy(x, dtype=L.int32),
               L.view_copy(x, size=(2, 6))]
    several = [*L.unbind_copy(x, 1), *L.split_copy(x, 3, 1), *L.split_with_sizes_copy(x, [1, 2], 0)]
    every = results + several
    return (every, [each.stride() for each in every], [each.is_contiguous() for each in every],
            [each.data_ptr() != x.data_ptr() for each in every], type(L.unbind_copy(x)).__name__)


def copies_with_keywords(L):
    x = grid(L)
    return [L.select_copy(input=x, dim=1, index=0), L.diagonal_copy(x, offset=1, dim1=1, dim2=0),
            L.unfold_copy(x, dimension=1, size=2, step=2), L.as_strided_copy(x, size=(2,), stride=(2,), storage_offset=1),
            L.permute_copy(x, dims=(1, 0)), L.split_copy(x, split_size=2, dim=0)[1], L.unsqueeze_copy(input=x, dim=0)]


def copies_into_out(L):
    x = grid(L)
    single = L.empty(0)
    returned = L.permute_copy(x, (1, 0), out=single)
    resized = L.empty(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L.unsqueeze_copy(x, 0, out=resized)
        unbound = [L.empty(0), L.empty(7), L.empty(0)]
        nothing = L.unbind_copy(x, 0, out=unbound)
    split = [L.empty(3, 2), L.empty(3, 2, dtype=L.int64)]
    L.split_copy(x, 2, 1, out=split)
    broadcast = [L.empty(3, 3), L.empty(3, 3)]
    L.split_copy(x, 3, 1, out=broadcast)
    sized = [L.empty(0), L.empty(0)]
    L.split_with_sizes_copy(x, [1, 3], 1, out=sized)
    grad_input = L.tensor(A, requires_grad=True)
    outs_of_graph = [L.empty(0), L.empty(0), L.empty(0)]
    L.unbind_copy(grad_input, 0, out=outs_of_graph)
    return (returned is single, single, single.stride(), resized, nothing, unbound, split, broadcast, sized,
            outs_of_graph, [each.requires_grad for each in outs_of_graph])


def permuted_layouts(L):
    made = [L.empty_permuted((2, 3, 4, 5), (0, 2, 3, 1)), L.empty_permuted((2, 3), (0, 1)), L.empty_permuted((2, 3, 4), (2, 1, 0)),
            L.empty_permuted(L.Size([2, 3]), [1, 0]), L.empty_permuted((), ()), L.empty_permuted((0, 3), (1, 0)),
            L.empty_permuted(size=(2, 3), physical_layout=(1, 0), dtype=L.float64, requires_grad=True)]
    return ([tuple(each.shape) for each in made], [each.stride() for each in made], [named(each.dtype) for each in made],
            [each.requires_grad for each in made], [each.is_contiguous() for each in made])


def pool_with_indices(L):
    x = L.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0, 0.0, 6.0], [0.5, -1.0, 2.5, 2.0, 7.0, 1.0, 3.0]]])
    return [L.max_pool1d_with_indices(x, 3), L.max_pool1d_with_indices(x, 3, ()), L.max_pool1d_with_indices(x, 3, [], 1, 1, True),
            L.max_pool1d_with_indices(x, 2, 1, 0, 2), L.max_pool1d_with_indices(x[0], 3, 2)]


def cond_cases(L):
    x = L.tensor([1.0, 2.0])
    plus, minus = (lambda a: a + 1), (lambda a: a - 1)
    return [L.cond(True, plus, minus, (x,)), L.cond(0, plus, minus, (x,)), L.cond(L.tensor(False), plus, minus, (x,)),
            L.cond(L.tensor(1.0), plus, minus, [x]), L.cond(L.tensor([0]), plus, minus, (x,)),
            L.cond(L.tensor(True), lambda d: d["a"] * 2, lambda d: d["a"] * 3, ({"a": x},)),
            L.cond(pred=L.tensor(True), true_fn=lambda: L.ones(2), false_fn=lambda: L.zeros(2), operands=()),
            L.cond(True, plus, minus, (x, x)[:1])]


def cross_map_lrn(size, alpha=1e-2, beta=0.75, k=1.0, dtype="float64"):
    data = np.random.default_rng(size + 10).standard_normal((2, 6, 3, 2)).astype(dtype) * 2

    def run(L):
        layer = L.nn.CrossMapLRN2d(size, alpha, beta, k)
        return layer(L.tensor(data)), repr(layer), list(layer.state_dict())

    return run


VALUE_CASES = {
    "storage_shared_by_views": shares_storage,
    "storage_identity": lambda L: [grid(L).untyped_storage() is grid(L).untyped_storage(),
                                   (lambda x: x.untyped_storage() is x[1:].t().untyped_storage())(grid(L))],
    "storage_write_through": write_byte,
    "storage_byte_values": byte_values,
    "storage_slices": storage_slices,
    "storage_facts": storage_facts,
    "storage_text": storage_text,
    "storage_copies": storage_copies,
    "storage_fill": storage_fill,
    "storage_resize_own": resizing,
    "storage_meta": meta_storage,
    "storage_of_parameter": lambda L: (L.nn.Linear(2, 3).weight.untyped_storage().nbytes(),
                                       L.nn.Linear(2, 3).weight.untyped_storage().element_size()),
    "storage_bytes_of_dtypes": bundle(
        lambda L: L.tensor([1, -2], dtype=L.int16).untyped_storage().tolist(),
        lambda L: L.tensor([True, False]).untyped_storage().tolist(),
        lambda L: L.tensor([1.0, -2.5], dtype=L.float64).untyped_storage().tolist(),
        lambda L: L.tensor([1.5], dtype=L.float16).untyped_storage().tolist(),
        lambda L: L.zeros(0).untyped_storage().nbytes(),
        lambda L: L.zeros(0).untyped_storage().data_ptr(),
        lambda L: L.UntypedStorage().nbytes(),
        lambda L: L.UntypedStorage(3).nbytes(),
    ),
    "typed_storage_facts": typed_facts,
    "typed_storage_write_through": write_typed,
    "typed_storage_values": typed_values,
    "storage_type": storage_types,
    "is_storage": is_storage_cases,
    "set_layouts": set_layouts,
    "set_shares_memory": set_shares_memory,
    "set_empty": set_empty,
    "set_under_no_grad": set_under_no_grad,
    "set_from_typed_storage": set_from_typed,
    "set_other_dtype_from_bytes": set_other_dtype_from_bytes,
    "set_keywords": bundle(
        lambda L: L.zeros(2).set_(source=L.arange(6.0), storage_offset=1, size=(2,), stride=(2,)),
        lambda L: L.zeros(2).set_(L.arange(6.0), storage_offset=1, size=(2,)),
        lambda L: L.zeros(2).set_(L.arange(6.0).untyped_storage(), storage_offset=1, size=(2,)),
    ),
    "is_set_to": is_set_to_cases,
    "from_dlpack_numpy": from_numpy_via_dlpack,
    "from_dlpack_dtypes": dlpack_dtypes,
    "from_dlpack_read_only": dlpack_read_only_array,
    "dlpack_capsules": dlpack_capsules,
    "dlpack_to_numpy": dlpack_to_numpy,
    "dlpack_device_types": lambda L: [int(L.utils.dlpack.DLDeviceType.kDLCPU), int(L.utils.dlpack.DLDeviceType.kDLCUDA),
                                      L.utils.dlpack.__all__],
    "set_flush_denormal": flush_denormal,
    "detach_": detach_in_place,
    "to_dense": to_dense_cases,
    "device_kind_properties": device_kinds,
    "view_copies": copies_are_fresh,
    "view_copies_keywords": copies_with_keywords,
    "view_copies_out": copies_into_out,
    "empty_permuted": permuted_layouts,
    "max_pool1d_with_indices": pool_with_indices,
    "cond": cond_cases,
    **{f"cross_map_lrn_size{size}": cross_map_lrn(size) for size in (1, 2, 3, 4, 5, 7)},
    "cross_map_lrn_float32_wide": cross_map_lrn(3, alpha=0.5, beta=0.5, k=2.0, dtype="float32"),
    "cross_map_lrn_defaults_empty_batch": lambda L: (L.nn.CrossMapLRN2d(3)(L.ones(0, 5, 3, 3)).shape,
                                                     L.nn.CrossMapLRN2d(3)(L.ones(1, 2, 2, 2, dtype=L.float16)),
                                                     L.nn.CrossMapLRN2d(-1)(L.ones(1, 2, 3, 3)),
                                                     repr(L.nn.CrossMapLRN2d(3, 1e-3, 0.5, 2))),
}


@pytest.mark.parametrize("run", list(VALUE_CASES.values()), ids=list(VALUE_CASES))
def test_same_values(run):
    same_in_both(run)


def test_pickled_untyped_storage_comes_back():
    """chainrule's check alone: PyTorch 2.13 pickles an UntypedStorage that it cannot load back
    (AttributeError: UntypedStorage has no attribute 'dtype')."""
    storage = chainrule.tensor([1.0, 2.0]).untyped_storage()
    loaded = pickle.loads(pickle.dumps(storage))
    assert loaded.tolist() == storage.tolist() and loaded.data_ptr() != storage.data_ptr()


def test_storage_of_a_tensor_set_to_a_storage_is_not_resizable():
    """PyTorch moves the memory under the tensor; chainrule's NumPy memory cannot move under the array
    that views it, so the storage refuses while the tensor lives (as PyTorch refuses a storage that is
    not resizable), and resizes once it is gone."""
    storage = chainrule.UntypedStorage(8)
    tensor = chainrule.zeros(0).set_(storage)
    with pytest.raises(RuntimeError, match="not resizable"):
        storage.resize_(16)
    del tensor
    assert storage.resize_(16).nbytes() == 16


# --- warnings -----------------------------------------------------------------------------------

def test_typed_storage_warns_of_its_deprecation_at_the_callers_line():
    torch.storage._warn_typed_storage_removal.__dict__["has_warned"] = False  # PyTorch warns once per process
    expected = [warning_categories(lambda: torch.arange(3.0).storage())[0]]
    torch.storage._warn_typed_storage_removal.__dict__["has_warned"] = False
    expected.append(warning_categories(lambda: torch.arange(3.0).storage_type())[0])
    torch.storage._warn_typed_storage_removal.__dict__["has_warned"] = False
    expected.append(warning_categories(lambda: torch.FloatStorage(2))[0])
    chainrule.set_warn_always(True)  # chainrule's once-per-process warnings, every time
    try:
        actual = [warning_categories(lambda: chainrule.arange(3.0).storage())[0],
                  warning_categories(lambda: chainrule.arange(3.0).storage_type())[0],
                  warning_categories(lambda: chainrule.FloatStorage(2))[0]]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            chainrule.arange(3.0).storage()
    finally:
        chainrule.set_warn_always(False)
    assert actual == expected == [["UserWarning"]] * 3
    assert caught[0].filename == __file__ and "TypedStorage is deprecated" in str(caught[0].message)
    assert warning_categories(lambda: chainrule.arange(3.0).untyped_storage())[0] == []


# --- bad input: PyTorch's exception type --------------------------------------------------------

RAISES_CASES = {
    # untyped storages
    "storage_index_past_end": lambda L: grid(L).untyped_storage()[48],
    "storage_negative_index_past_start": lambda L: grid(L).untyped_storage()[-49],
    "storage_index_float": lambda L: grid(L).untyped_storage()[1.5],
    "storage_index_str": lambda L: grid(L).untyped_storage()["a"],
    "storage_slice_step": lambda L: grid(L).untyped_storage()[::2],
    "storage_set_float": lambda L: grid(L).untyped_storage().__setitem__(0, 1.5),
    "storage_set_tensor": lambda L: grid(L).untyped_storage().__setitem__(0, L.tensor(5)),
    "storage_set_storage": lambda L: grid(L).untyped_storage().__setitem__(slice(0, 4), L.UntypedStorage(4)),
    "storage_set_past_end": lambda L: grid(L).untyped_storage().__setitem__(99, 1),
    "storage_set_negative_index": lambda L: grid(L).untyped_storage().__setitem__(-1, 1),
    "storage_set_slice_step": lambda L: grid(L).untyped_storage().__setitem__(slice(0, 8, 2), 1),
    "storage_fill_float": lambda L: grid(L).untyped_storage().fill_(1.5),
    "storage_fill_str": lambda L: grid(L).untyped_storage().fill_("a"),
    "storage_copy_sizes_differ": lambda L: L.zeros(2).untyped_storage().copy_(L.ones(3).untyped_storage()),
    "storage_copy_tensor": lambda L: L.zeros(2).untyped_storage().copy_(L.ones(2)),
    "storage_copy_list": lambda L: L.zeros(2).untyped_storage().copy_([1] * 8),
    "storage_resize_of_numpy_memory": lambda L: L.from_numpy(np.zeros(2, np.float32)).untyped_storage().resize_(16),
    "storage_made_negative": lambda L: L.UntypedStorage(-1),
    "storage_made_of_float": lambda L: L.UntypedStorage(1.5),
    "storage_meta_read": lambda L: L.zeros(2).to("meta").untyped_storage()[0],
    # typed storages
    "typed_index_past_end": lambda L: grid(L).storage()[12],
    "typed_slice": lambda L: grid(L).storage()[1:3],
    "typed_index_float": lambda L: grid(L).storage()[1.5],
    "typed_set_str": lambda L: grid(L).storage().__setitem__(0, "a"),
    "typed_set_past_end": lambda L: L.zeros(3).storage().__setitem__(9, 1.0),
    "typed_fill_str": lambda L: L.zeros(2).storage().fill_("a"),
    "typed_copy_sizes_differ": lambda L: L.zeros(2).storage().copy_(L.ones(2, dtype=L.float64).storage()),
    # set_ and is_set_to
    "set_other_dtype_tensor": lambda L: L.zeros(2, dtype=L.float64).set_(L.arange(3.0)),
    "set_other_dtype_typed": lambda L: L.zeros(2, dtype=L.float64).set_(L.arange(3.0).storage()),
    "set_negative_offset": lambda L: L.zeros(2).set_(L.arange(6.0), -1, (2,)),
    "set_negative_size": lambda L: L.zeros(2).set_(L.arange(6.0), 0, (-2,)),
    "set_negative_stride": lambda L: L.zeros(2).set_(L.arange(6.0), 0, (2,), (-1,)),
    "set_stride_length": lambda L: L.zeros(2).set_(L.arange(6.0), 0, (2,), (1, 1)),
    "set_past_numpy_memory": lambda L: L.zeros(2).set_(L.from_numpy(np.zeros(2, np.float32)), 0, (10,)),
    "set_leaf_requiring_grad": lambda L: L.zeros(2, requires_grad=True).set_(L.arange(3.0)),
    "set_list": lambda L: L.zeros(2).set_([1.0, 2.0]),
    "set_int_size": lambda L: L.zeros(2).set_(L.arange(6.0), 0, 3),
    "set_meta_storage": lambda L: L.zeros(2).set_(L.zeros(2).to("meta")),
    "set_backward": lambda L: L.zeros(3).set_(L.ones(3, requires_grad=True)).sum().backward(),
    "is_set_to_number": lambda L: L.arange(3.0).is_set_to(3),
    # DLPack
    "from_dlpack_list": lambda L: L.from_dlpack([1, 2]),
    "from_dlpack_number": lambda L: L.from_dlpack(3),
    "from_dlpack_capsule_twice": lambda L: (lambda capsule: (L.from_dlpack(capsule), L.from_dlpack(capsule)))(np.arange(2.0).__dlpack__()),
    "from_dlpack_requires_grad": lambda L: L.from_dlpack(L.ones(2, requires_grad=True)),
    "numpy_from_dlpack_requires_grad": lambda L: np.from_dlpack(L.ones(2, requires_grad=True)),
    "from_dlpack_on_meta": lambda L: L.from_dlpack(np.arange(2.0), device="meta"),
    "to_dlpack_of_array": lambda L: L.utils.dlpack.to_dlpack(np.ones(2)),
    # small names
    "set_flush_denormal_int": lambda L: L.set_flush_denormal(1),
    "set_flush_denormal_str": lambda L: L.set_flush_denormal("yes"),
    "set_flush_denormal_nothing": lambda L: L.set_flush_denormal(),
    "set_flush_denormal_keyword": lambda L: L.set_flush_denormal(mode=False),
    "detach_list": lambda L: L.detach_([1.0]),
    "detach_view": lambda L: L.detach_(L.ones(2, requires_grad=True)[0:]),
    "view_copy_int_size": lambda L: L.view_copy(grid(L), 12),
    "view_copy_wrong_numel": lambda L: L.view_copy(grid(L), (5,)),
    "slice_copy_0d": lambda L: L.slice_copy(L.tensor(1.0)),
    "slice_copy_zero_step": lambda L: L.slice_copy(grid(L), 1, 0, 2, 0),
    "slice_copy_negative_step": lambda L: L.slice_copy(grid(L), 1, 0, 2, -1),
    "slice_copy_dim": lambda L: L.slice_copy(grid(L), 2),
    "split_copy_list": lambda L: L.split_copy(grid(L), [1, 3], 1),
    "split_copy_zero": lambda L: L.split_copy(grid(L), 0, 1),
    "split_copy_negative": lambda L: L.split_copy(grid(L), -1, 1),
    "split_with_sizes_copy_sum": lambda L: L.split_with_sizes_copy(grid(L), [1, 1], 1),
    "select_copy_index": lambda L: L.select_copy(grid(L), 0, 5),
    "permute_copy_repeated": lambda L: L.permute_copy(grid(L), (0, 0)),
    "expand_copy_size": lambda L: L.expand_copy(grid(L), (3, 3)),
    "unfold_copy_size": lambda L: L.unfold_copy(grid(L), 1, 5, 1),
    "as_strided_copy_past_memory": lambda L: L.as_strided_copy(grid(L), (4, 4), (4, 1)),
    "diagonal_copy_same_dims": lambda L: L.diagonal_copy(grid(L), 0, 0, 0),
    "t_copy_3d": lambda L: L.t_copy(L.ones(2, 2, 2)),
    "transpose_copy_dim": lambda L: L.transpose_copy(grid(L), 0, 2),
    "unsqueeze_copy_dim": lambda L: L.unsqueeze_copy(grid(L), 3),
    "squeeze_copy_dim": lambda L: L.squeeze_copy(grid(L), 3),
    "t_copy_list": lambda L: L.t_copy([1.0]),
    "unbind_copy_0d": lambda L: L.unbind_copy(L.tensor(1.0)),
    "copy_out_dtype": lambda L: L.permute_copy(grid(L), (1, 0), out=L.empty(0, dtype=L.float64)),
    "copy_out_int_dtype": lambda L: L.t_copy(grid(L), out=L.empty(0, dtype=L.int64)),
    "unbind_copy_out_count": lambda L: L.unbind_copy(grid(L), 0, out=[L.empty(0)]),
    "unbind_copy_out_tensor": lambda L: L.unbind_copy(grid(L), 0, out=L.empty(0)),
    "unbind_copy_out_dtype": lambda L: L.unbind_copy(grid(L), 0, out=[L.empty(0, dtype=L.int64)] * 3),
    "split_copy_out_count": lambda L: L.split_copy(grid(L), 2, 1, out=[L.empty(3, 2)]),
    "split_copy_out_shape": lambda L: L.split_copy(grid(L), 2, 1, out=[L.empty(0), L.empty(0)]),
    "empty_permuted_repeated": lambda L: L.empty_permuted((2, 3), (0, 0)),
    "empty_permuted_dim_range": lambda L: L.empty_permuted((2, 3), (0, 2)),
    "empty_permuted_negative_dim": lambda L: L.empty_permuted((2, 3), (-1, 0)),
    "empty_permuted_lengths": lambda L: L.empty_permuted((2, 3), (0,)),
    "empty_permuted_negative_size": lambda L: L.empty_permuted((-2, 3), (1, 0)),
    "empty_permuted_sizes_one_by_one": lambda L: L.empty_permuted(2, 3, (1, 0)),
    "empty_permuted_out": lambda L: L.empty_permuted((2, 3), (1, 0), out=L.empty(0)),
    "empty_permuted_pinned": lambda L: L.empty_permuted((2, 3), (1, 0), pin_memory=True),
    "empty_permuted_int_requires_grad": lambda L: L.empty_permuted((2, 3), (1, 0), dtype=L.int64, requires_grad=True),
    "max_pool1d_with_indices_return_indices": lambda L: L.max_pool1d_with_indices(L.ones(1, 2, 7), 3, return_indices=True),
    "max_pool1d_with_indices_too_small": lambda L: L.max_pool1d_with_indices(L.ones(1, 2, 2), 3),
    "cond_two_element_pred": lambda L: L.cond(L.tensor([True, False]), lambda: L.ones(1), lambda: L.zeros(1)),
    "cond_str_pred": lambda L: L.cond("a", lambda: L.ones(1), lambda: L.zeros(1)),
    "cond_none_pred": lambda L: L.cond(None, lambda: L.ones(1), lambda: L.zeros(1)),
    "cond_branch_not_callable": lambda L: L.cond(L.tensor(True), 1, lambda: L.zeros(1)),
    "cond_operands_not_tuple": lambda L: L.cond(L.tensor(True), lambda a: a, lambda a: a, L.ones(1)),
    "cond_operand_number": lambda L: L.cond(L.tensor(True), lambda a, b: a, lambda a, b: a, (L.ones(1), 1)),
    "cond_constant_branch_not_callable": lambda L: L.cond(True, 1, 2, ()),
    "cross_map_lrn_3d": lambda L: L.nn.CrossMapLRN2d(3)(L.ones(5, 3, 3)),
    "cross_map_lrn_integers": lambda L: L.nn.CrossMapLRN2d(3)(L.ones(1, 5, 3, 3, dtype=L.int64)),
    "cross_map_lrn_bools": lambda L: L.nn.CrossMapLRN2d(3)(L.ones(1, 5, 3, 3, dtype=L.bool)),
    "cross_map_lrn_no_channels": lambda L: L.nn.CrossMapLRN2d(3)(L.ones(1, 0, 3, 3)),
    "cross_map_lrn_size_0": lambda L: L.nn.CrossMapLRN2d(0)(L.ones(1, 2, 3, 3)),
    "cross_map_lrn_window_past_channels": lambda L: L.nn.CrossMapLRN2d(-3)(L.ones(1, 2, 3, 3)),
    "cross_map_lrn_size_1_backward": lambda L: L.nn.CrossMapLRN2d(1)(L.ones(1, 3, 2, 2, requires_grad=True)).sum().backward(),
    "cross_map_lrn_double_backward": lambda L: (lambda x: L.autograd.grad(L.nn.CrossMapLRN2d(3)(x).sum(), x, create_graph=True))(
        L.ones(1, 3, 2, 2, dtype=L.float64, requires_grad=True)),
}


@pytest.mark.parametrize("run", list(RAISES_CASES.values()), ids=list(RAISES_CASES))
def test_raises_as_torch(run):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raises_as_torch(run)


# --- gradients (float64) ------------------------------------------------------------------------

D = [[0.3, -1.2, 2.0, 0.7], [1.5, 0.0, -0.4, 2.2], [-0.8, 1.1, 0.9, -2.5]]


def grad_of(function, data=D):
    """The gradient of ``sum(w * function(x))`` with distinct weights ``w``, so misrouting shows."""
    def run(L):
        x = L.tensor(data, dtype=L.float64, requires_grad=True)
        y = function(x, L)
        w = L.tensor(np.arange(1, y.numel() + 1, dtype=np.float64).reshape(tuple(y.shape)))
        (y * w).sum().backward()
        return x.grad
    return run


def lrn_input(x, L):
    return (x.reshape(1, 3, 4, 1) * L.tensor([1.0, -2.0], dtype=L.float64)).reshape(1, 6, 2, 2)


GRAD_CASES = {
    "permute_transpose_t": grad_of(lambda x, L: L.cat([L.permute_copy(x, (1, 0)).flatten(), L.transpose_copy(x, 0, 1).flatten(),
                                                       L.t_copy(x).flatten()])),
    "squeeze_unsqueeze_expand": grad_of(lambda x, L: L.cat([L.squeeze_copy(x[:1]).flatten(), L.unsqueeze_copy(x, 2).flatten(),
                                                            L.expand_copy(x[1:2], (3, 4)).flatten()])),
    "select_slice_diagonal": grad_of(lambda x, L: L.cat([L.select_copy(x, 1, 2), L.slice_copy(x, 1, 0, None, 2).flatten(),
                                                         L.diagonal_copy(x, 1)])),
    "unbind_split": grad_of(lambda x, L: L.cat([*L.unbind_copy(x, 1), *[each.flatten() for each in L.split_copy(x, 3, 1)],
                                                *[each.flatten() for each in L.split_with_sizes_copy(x, [2, 1], 0)]])),
    "unfold_as_strided_view_alias": grad_of(lambda x, L: L.cat([L.unfold_copy(x, 1, 2, 1).flatten(),
                                                                L.as_strided_copy(x, (3, 3), (1, 2), 1).flatten(),
                                                                L.view_copy(x.t(), (12,)), L.alias_copy(x).flatten()])),
    "to_dense": grad_of(lambda x, L: L.cat([x.to_dense().flatten(), x.to_dense(L.float32).double().flatten() * 2])),
    "cond_branches": grad_of(lambda x, L: L.cat([L.cond(L.tensor(True), lambda a: (a * a).flatten(), lambda a: (a + 1).flatten(), (x,)),
                                                 L.cond(x.sum() > 100, lambda a: a.exp().flatten(), lambda a: (3 * a).flatten(), (x,))])),
    "max_pool1d_with_indices": grad_of(lambda x, L: L.max_pool1d_with_indices(x.unsqueeze(0), 2, 1, 1)[0]),
    **{f"cross_map_lrn_size{size}": grad_of(lambda x, L, size=size: L.nn.CrossMapLRN2d(size, 0.3, 0.75, 1.0)(lrn_input(x, L)))
       for size in (2, 3, 4, 5)},
    "cross_map_lrn_beta_half": grad_of(lambda x, L: L.nn.CrossMapLRN2d(3, 1.0, 0.5, 2.0)(lrn_input(x, L))),
}


@pytest.mark.parametrize("run", list(GRAD_CASES.values()), ids=list(GRAD_CASES))
def test_same_gradients(run):
    same_in_both(run, rtol=1e-7, atol=1e-9)


def test_getsizeof_a_storage_counts_its_bytes_as_pytorch():
    """torchinfo's summary adds up ``sys.getsizeof(x.untyped_storage())`` of its inputs."""
    import sys

    def run(lib):
        x = lib.zeros(2, 1, 28, 28)
        return [sys.getsizeof(x.untyped_storage()), sys.getsizeof(x[1:].untyped_storage()), sys.getsizeof(lib.UntypedStorage(0))]

    same_in_both(run)


def test_storage_is_the_float_storage_type_as_in_pytorch():
    def run(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            made = lib.Storage(3)
        return (
            lib.Storage is lib.FloatStorage, named(made.dtype), made.size(),
            isinstance(lib.ones(2).storage(), lib.Storage), isinstance(lib.ones(2).double().storage(), lib.Storage),
        )

    same_in_both(run)
