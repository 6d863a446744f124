"""A sweep of tensor views and memory layout against PyTorch (the oracle): view/reshape and the
error for viewing a non-contiguous tensor, expand, as_strided, contiguous / memory formats, stride()
and storage_offset() of every view op, the split family, dimension shuffles, squeeze/unsqueeze,
diagonal/select/narrow/unfold, view(dtype), writes through views reaching the base, in-place ops on
views of leaves, ``_version`` counters, backward through views, detach / ``.data`` / ``_base``,
clone(memory_format=...), resize_, keyword names and reprs of views.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, strides, exception types or reprs. Tests marked ``xfail(strict=True, reason="BUG: ...")``
are differences found: each turns into an XPASS failure the day it is fixed, and the mark must go.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (torch.Size, chainrule.Size)):
        return ("Size", tuple(value))
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, tuple) and len(expected) == 3 and isinstance(expected[2], np.ndarray):
        assert isinstance(actual, tuple) and actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-6):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = plain(run(torch))
    chainrule.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def layout(t):
    """Value plus the memory facts a view exposes. Strides of size-1 dimensions are left out (PyTorch
    does not pin them down); empty tensors' strides and offsets are tested on their own below."""
    if t.numel() == 0:
        return [t, ("layout-empty", t.is_contiguous())]
    strides = tuple(None if size == 1 else stride for size, stride in zip(t.shape, t.stride()))
    return [t, ("layout", strides, t.storage_offset(), t.is_contiguous())]


def base(lib):
    return lib.arange(24.0).reshape(2, 3, 4)


# --- every view op: values, strides, storage offsets, contiguity ---------------------------------

VIEWS = {
    "view": lambda x, lib: x.view(6, 4),
    "view_minus1": lambda x, lib: x.view(-1, 2),
    "view_tuple": lambda x, lib: x.view((4, 6)),
    "reshape_view": lambda x, lib: x.reshape(3, 8),
    "reshape_copy": lambda x, lib: x.transpose(0, 1).reshape(-1),
    "expand": lambda x, lib: x[:, :1].expand(2, 5, 4),
    "expand_new_dim": lambda x, lib: x[0, 0].expand(3, -1),
    "expand_as": lambda x, lib: x[:, :, :1].expand_as(x),
    "as_strided": lambda x, lib: x.as_strided((3, 3), (4, 1), 2),
    "as_strided_view_default_offset": lambda x, lib: x[1].as_strided((2, 2), (1, 4)),
    "contiguous_of_t": lambda x, lib: x[0].t().contiguous(),
    "unfold": lambda x, lib: x.unfold(2, 2, 1),
    "unfold_step": lambda x, lib: x.unfold(1, 2, 2),
    "narrow": lambda x, lib: x.narrow(2, 1, 2),
    "narrow_negative_start": lambda x, lib: x.narrow(-1, -3, 2),
    "permute": lambda x, lib: x.permute(2, 0, 1),
    "permute_negative": lambda x, lib: x.permute(-1, -3, -2),
    "movedim": lambda x, lib: x.movedim(0, -1),
    "movedim_tuple": lambda x, lib: x.movedim((0, 1), (2, 0)),
    "moveaxis": lambda x, lib: lib.moveaxis(x, 2, 0),
    "swapaxes": lambda x, lib: x.swapaxes(0, 2),
    "swapdims": lambda x, lib: lib.swapdims(x, 1, 2),
    "transpose": lambda x, lib: x.transpose(-1, 0),
    "t": lambda x, lib: x[1].t(),
    "t_1d": lambda x, lib: x[0, 0].t(),
    "mT": lambda x, lib: x.mT,
    "mH_real": lambda x, lib: x.mH,
    "adjoint": lambda x, lib: x[0].adjoint(),
    "T_2d": lambda x, lib: x[0].T,
    "flatten": lambda x, lib: x.flatten(),
    "flatten_range": lambda x, lib: x.flatten(1),
    "flatten_noncontig": lambda x, lib: x.transpose(1, 2).flatten(0, 1),
    "unflatten": lambda x, lib: x.unflatten(2, (2, -1)),
    "squeeze_multi": lambda x, lib: x[:, :1, None, :1].squeeze((1, 3)),
    "squeeze_all": lambda x, lib: x[:1, :, None].squeeze(),
    "squeeze_nonsingleton": lambda x, lib: x.squeeze(1),
    "unsqueeze_mid": lambda x, lib: x.unsqueeze(1),
    "unsqueeze_end": lambda x, lib: x.unsqueeze(-1),
    "diagonal": lambda x, lib: x.diagonal(),
    "diagonal_offset": lambda x, lib: x.diagonal(offset=1, dim1=1, dim2=2),
    "diagonal_negative_offset": lambda x, lib: x.diagonal(-1, 2, 1),
    "diagonal_empty": lambda x, lib: x.diagonal(5, 1, 2),
    "select": lambda x, lib: x.select(1, -1),
    "index_int": lambda x, lib: x[1],
    "index_slices": lambda x, lib: x[:, 1:3, ::2],
    "index_none_front": lambda x, lib: x[None, 1:, ..., ::3],
    "index_empty": lambda x, lib: x[:, 2:2],
    "view_dtype_same_size": lambda x, lib: x.view(lib.int32),
    "view_dtype_smaller": lambda x, lib: x.view(lib.int16),
    "view_dtype_larger": lambda x, lib: x.view(lib.float64),
    "zero_d_view": lambda x, lib: lib.tensor(3.0).view(1, 1),
    "zero_d_expand": lambda x, lib: lib.tensor(3.0).expand(2, 3),
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_layout(name):
    same_in_both(lambda lib: layout(VIEWS[name](base(lib), lib)))


SPLITS = {
    "split_int": lambda x, lib: x.split(3, dim=2),
    "split_sizes": lambda x, lib: x.split([1, 3], 2),
    "split_zero_size_pieces": lambda x, lib: lib.split(x, [0, 3, 0], dim=1),
    "chunk": lambda x, lib: x.chunk(3, dim=2),
    "chunk_fewer": lambda x, lib: lib.arange(6.0).chunk(4),
    "chunk_empty": lambda x, lib: lib.ones(0, 2).chunk(3),
    "tensor_split_sections": lambda x, lib: x.tensor_split(3, dim=2),
    "tensor_split_indices": lambda x, lib: x.tensor_split([1, 3], dim=2),
    "tensor_split_tensor": lambda x, lib: x.tensor_split(lib.tensor([1, 3]), dim=-1),
    "tensor_split_0d_tensor": lambda x, lib: x.tensor_split(lib.tensor(2), dim=2),
    "tensor_split_out_of_range_index": lambda x, lib: lib.arange(5.0).tensor_split([2, 9]),
    "hsplit": lambda x, lib: lib.hsplit(x, 3),
    "hsplit_1d": lambda x, lib: lib.hsplit(lib.arange(6.0), [2]),
    "vsplit": lambda x, lib: x.vsplit([1]),
    "dsplit": lambda x, lib: x.dsplit(2),
    "unbind": lambda x, lib: x.unbind(1),
    "unbind_negative": lambda x, lib: lib.unbind(x, dim=-1),
}


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_split_family_layout(name):
    same_in_both(lambda lib: [layout(piece) for piece in SPLITS[name](base(lib), lib)])


def test_split_family_returns_tuples():
    def run(lib):
        x = base(lib)
        return [type(fn(x)).__name__ for fn in (lambda x: x.split(2), lambda x: x.chunk(2), lambda x: x.tensor_split(2),
                                                  lambda x: x.unbind(), lambda x: lib.hsplit(x, 3))]
    same_in_both(run)


# --- writes through views reach the base --------------------------------------------------------

WRITES = {
    "index_add_": lambda x, lib: x[0].add_(1),
    "t_setitem": lambda x, lib: x[0].t().__setitem__((0, 1), 5.0),
    "diagonal_fill_": lambda x, lib: x.diagonal(dim1=1, dim2=2).fill_(-1),
    "select_mul_": lambda x, lib: x.select(2, 3).mul_(10),
    "narrow_zero_": lambda x, lib: x.narrow(1, 1, 1).zero_(),
    "strided_iadd": lambda x, lib: x[:, ::2].__iadd__(100),
    "split_sub_": lambda x, lib: x.split([1, 3], dim=2)[1].sub_(1),
    "chunk_copy_": lambda x, lib: x.chunk(2)[1].copy_(lib.zeros(1, 3, 4)),
    "unbind_fill_": lambda x, lib: [piece.fill_(i) for i, piece in enumerate(x.unbind(1))],
    "unfold_fill_": lambda x, lib: x.unfold(2, 2, 2)[..., 0].fill_(7),
    "view_dtype_setitem": lambda x, lib: x.view(lib.int32).__setitem__((0, 0, 0), 1065353216),
    "permute_movedim_flatten": lambda x, lib: (x.permute(2, 0, 1)[3, 1, 2].fill_(-5), x.movedim(0, 1)[2, 0, 0].fill_(9),
                                               x.flatten()[1].fill_(4)),
    "as_strided_fill_": lambda x, lib: x.as_strided((2,), (5,), 1).fill_(-2),
    "detach_setitem": lambda x, lib: x.detach().__setitem__(0, 0.5),
    "expand_then_index_write": lambda x, lib: x[:, :1].expand(2, 3, 4)[0, 0].fill_(8),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_write_through_view_reaches_base(name):
    def run(lib):
        x = base(lib)
        WRITES[name](x, lib)
        return [x, x._version]
    same_in_both(run)


def test_inplace_on_expanded_view_raises():
    raises_as_torch(lambda lib: lib.arange(3.0).expand(2, 3).add_(1))


def test_version_counter_shared_between_view_and_base():
    def run(lib):
        x = lib.ones(3)
        v = x[1:]
        seen = [(x._version, v._version)]
        x.add_(1)
        seen.append((x._version, v._version))
        v.mul_(2)
        seen.append((x._version, v._version))
        x[0] = 3
        seen.append((x._version, v._version))
        d = x.detach()
        d.zero_()
        seen.append((x._version, v._version, d._version))
        x.data.add_(1)  # .data does not share the version counter
        seen.append((x._version, v._version))
        return [seen, x]
    same_in_both(run)


# --- autograd and views -----------------------------------------------------------------------------


@pytest.mark.parametrize("make", ["index", "t", "view", "diagonal", "narrow", "unbind", "expand"])
def test_inplace_on_view_of_leaf_requiring_grad_raises(make):
    ops = {"index": lambda w: w[0], "t": lambda w: w.t(), "view": lambda w: w.view(6), "diagonal": lambda w: w.diagonal(),
           "narrow": lambda w: w.narrow(1, 0, 1), "unbind": lambda w: w.unbind()[0], "expand": lambda w: w[:1].expand(3, 3)}

    def run(lib):
        w = lib.ones(2, 3, requires_grad=True)
        ops[make](w).add_(1)
    raises_as_torch(run)


def test_inplace_on_leaf_view_allowed_under_no_grad():
    def run(lib):
        w = lib.ones(2, 3, requires_grad=True)
        with lib.no_grad():
            w[0].add_(1)
            w.t()[2].mul_(3)
        return [w, w.requires_grad, w.is_leaf, w._version]
    same_in_both(run)


BACKWARD = {
    "t": lambda y, lib: y.t() * lib.arange(2.0),
    "permute_unfold": lambda y, lib: y.permute(1, 0).unfold(0, 2, 1) ** 2,
    "expand": lambda y, lib: y[:, :1].expand(2, 5) * lib.arange(5.0),
    "as_strided": lambda y, lib: y.as_strided((2, 2), (1, 2), 1) * 3,
    "diagonal_select": lambda y, lib: y.diagonal() * 2 + y.select(1, 2),
    "split_chunk": lambda y, lib: y.split([1, 2], 1)[1] * 4 + y.chunk(3, 1)[0].sum(),
    "unbind": lambda y, lib: lib.stack(y.unbind(1)[::-1]) ** 2,
    "flatten_unflatten": lambda y, lib: y.flatten().unflatten(0, (3, 2)) * lib.arange(6.0).view(3, 2),
    "squeeze_unsqueeze": lambda y, lib: y.unsqueeze(0).unsqueeze(-1).squeeze((0, 3)) * 5,
}


@pytest.mark.parametrize("name", sorted(BACKWARD))
def test_backward_through_views(name):
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        out = BACKWARD[name](x, lib)
        out.sum().backward()
        return [out, x.grad]
    same_in_both(run)


INPLACE_BACKWARD = {
    "setitem_constant": lambda y, lib, w: y.__setitem__((slice(None), 1), 5.0),
    "setitem_tensor": lambda y, lib, w: y.__setitem__((0, slice(1, 3)), w * 3),
    "view_mul_": lambda y, lib, w: y[1].mul_(w[0]),
    "t_view_add_": lambda y, lib, w: y.t()[2].add_(w),
    "diagonal_copy_": lambda y, lib, w: y.diagonal().copy_(w ** 2),
    "narrow_relu_": lambda y, lib, w: y.narrow(1, 0, 2).sub_(3).relu_(),
}


@pytest.mark.parametrize("name", sorted(INPLACE_BACKWARD))
def test_backward_through_inplace_on_view(name):
    def run(lib):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        w = lib.tensor([2.0, -1.0], requires_grad=True)
        y = x * 1
        INPLACE_BACKWARD[name](y, lib, w)
        (y * lib.arange(1.0, 7.0).view(2, 3)).sum().backward()
        return [y, x.grad, w.grad if w.grad is not None else "no grad", y._version, type(y.grad_fn).__name__]
    same_in_both(run)


def test_modified_view_of_saved_tensor_fails_backward():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = x.sigmoid()
        y[:2].add_(1)
        y.sum().backward()
    raises_as_torch(run)


def test_inplace_on_view_of_saved_output_message_names_version():
    messages = []
    for lib in (torch, chainrule):
        x = lib.ones(3, requires_grad=True)
        y = x.exp()
        y.detach().add_(1)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        messages.append(str(info.value))
    for message in messages:
        assert "modified by an inplace operation" in message and "is at version 1; expected version 0 instead" in message


# --- view() errors and messages -------------------------------------------------------------------


def test_view_of_noncontiguous_raises_with_pytorch_message():
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError) as info:
            lib.arange(6.0).reshape(2, 3).t().view(6)
        message = str(info.value)
        assert message.startswith("view size is not compatible with input tensor's size and stride "
                                  "(at least one dimension spans across two contiguous subspaces)"), message
        assert "Use .reshape(...) instead." in message, message


ERRORS = {
    "view_noncontiguous": lambda lib: lib.ones(2, 3).t().view(6),
    "view_bad_numel": lambda lib: lib.ones(6).view(4, -1),
    "view_two_minus1": lambda lib: lib.ones(6).view(-1, -1),
    "reshape_ambiguous_empty": lambda lib: lib.ones(0, 3).reshape(-1, 0),
    "view_dtype_odd_last_dim": lambda lib: lib.ones(3).view(lib.float64),
    "view_dtype_strided_last_dim": lambda lib: lib.ones(3, 2).t().view(lib.float16),
    "expand_mismatch": lambda lib: lib.arange(3.0).expand(2),
    "expand_minus1_new_dim": lambda lib: lib.arange(3.0).expand(-1, 3),
    "as_strided_out_of_bounds": lambda lib: lib.ones(2, 3).as_strided((2, 3), (3, 1), 1),
    "unfold_too_big": lambda lib: lib.ones(2, 3).unfold(1, 4, 1),
    "unfold_zero_step": lambda lib: lib.ones(2, 3).unfold(1, 2, 0),
    "narrow_past_end": lambda lib: lib.ones(3, 4).narrow(1, 3, 2),
    "narrow_bad_dim": lambda lib: lib.ones(3, 4).narrow(2, 0, 1),
    "select_out_of_range": lambda lib: lib.ones(3, 4).select(1, 4),
    "select_0d": lambda lib: lib.tensor(1.0).select(0, 0),
    "unbind_0d": lambda lib: lib.tensor(1.0).unbind(0),
    "split_sizes_wrong_sum": lambda lib: lib.ones(5).split([2, 2]),
    "split_zero": lambda lib: lib.ones(2, 3).split(0),
    "chunk_zero": lambda lib: lib.ones(2, 3).chunk(0),
    "hsplit_indivisible": lambda lib: lib.hsplit(lib.ones(5), 2),
    "vsplit_1d": lambda lib: lib.vsplit(lib.ones(6), 2),
    "dsplit_2d": lambda lib: lib.dsplit(lib.ones(2, 6), 2),
    "transpose_bad_dim": lambda lib: lib.ones(2, 3).transpose(0, 2),
    "t_3d": lambda lib: lib.ones(2, 3, 4).t(),
    "mT_1d": lambda lib: lib.ones(3).mT,
    "H_1d": lambda lib: lib.ones(3).H,
    "squeeze_bad_dim": lambda lib: lib.ones(2, 3).squeeze(2),
    "unsqueeze_bad_dim": lambda lib: lib.ones(2, 3).unsqueeze(3),
    "unsqueeze_tuple": lambda lib: lib.ones(2, 3).unsqueeze((0, 2)),
    "permute_duplicate": lambda lib: lib.ones(2, 3).permute(0, 0),
    "permute_wrong_len": lambda lib: lib.ones(2, 3).permute(0),
    "movedim_repeated": lambda lib: lib.ones(2, 3).movedim((0, 0), (1, 0)),
    "diagonal_same_dims": lambda lib: lib.ones(2, 3).diagonal(dim1=0, dim2=0),
    "flatten_reversed": lambda lib: lib.ones(2, 3).flatten(1, 0),
    "unflatten_bad_sizes": lambda lib: lib.ones(2, 6).unflatten(1, (4, 2)),
    "negative_step_slice": lambda lib: lib.ones(3, 4)[:, ::-1],
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_types(name):
    raises_as_torch(ERRORS[name])


# --- keyword names ----------------------------------------------------------------------------------

KEYWORDS = {
    "narrow": lambda x, lib: x.narrow(dim=2, start=1, length=2),
    "unfold": lambda x, lib: x.unfold(dimension=2, size=2, step=2),
    "diagonal": lambda x, lib: x.diagonal(offset=0, dim1=0, dim2=2),
    "movedim": lambda x, lib: x.movedim(source=0, destination=2),
    "moveaxis": lambda x, lib: lib.moveaxis(x, source=0, destination=2),
    "transpose": lambda x, lib: x.transpose(dim0=0, dim1=1),
    "swapdims": lambda x, lib: x.swapdims(dim0=0, dim1=1),
    "permute": lambda x, lib: x.permute(dims=(2, 0, 1)),
    "expand": lambda x, lib: x.expand(size=(2, 2, 3, 4)),
    "view": lambda x, lib: x.view(size=(6, 4)),
    "reshape": lambda x, lib: x.reshape(shape=(6, 4)),
    "flatten": lambda x, lib: lib.flatten(x, start_dim=1, end_dim=2),
    "unflatten": lambda x, lib: x.unflatten(dim=2, sizes=(2, 2)),
    "select": lambda x, lib: lib.select(x, dim=1, index=0),
    "as_strided": lambda x, lib: x.as_strided(size=(2, 2), stride=(1, 1), storage_offset=1),
    "chunk": lambda x, lib: x.chunk(chunks=2, dim=2),
    "split_fn": lambda x, lib: lib.split(x, split_size_or_sections=2, dim=2),
    "squeeze": lambda x, lib: x[:1].squeeze(dim=0),
    "unsqueeze": lambda x, lib: lib.unsqueeze(x, dim=0),
    "unbind": lambda x, lib: x.unbind(dim=1),
    "tensor_split_tensor": lambda x, lib: x.tensor_split(lib.tensor([1]), dim=2),
    "swapaxes": lambda x, lib: x.swapaxes(axis0=0, axis1=1),
    "split_method": lambda x, lib: x.split(split_size=2, dim=2),
    "tensor_split_sections": lambda x, lib: lib.tensor_split(x, sections=2, dim=2),
    "tensor_split_indices": lambda x, lib: x.tensor_split(indices=[1, 3], dim=2),
    "tensor_split_tensor_kw": lambda x, lib: lib.tensor_split(x, tensor_indices_or_sections=lib.tensor([1]), dim=2),
    "hsplit_sections": lambda x, lib: lib.hsplit(x, sections=3),
    "dsplit_indices": lambda x, lib: x.dsplit(indices=[1]),
}


@pytest.mark.parametrize("name", sorted(KEYWORDS))
def test_keyword_names(name):
    same_in_both(lambda lib: KEYWORDS[name](base(lib), lib))


# --- empty tensors: strides and storage offsets ------------------------------------------------------


def test_empty_factory_strides():
    same_in_both(lambda lib: [lib.ones(0, 2).stride(), lib.empty(2, 0).stride(), lib.zeros(3, 0, 2).stride(),
                              lib.ones(0, 2).chunk(3)[0].stride()])


def test_empty_slice_storage_offset():
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        return [x[:, 2:2].storage_offset(), x.view(-1)[24:].storage_offset(),
                x.narrow(2, 1, 0).storage_offset()]
    same_in_both(run)


def test_empty_slice_storage_offset_clamps_and_composes():
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        flat = x.view(-1)
        return [flat[30:].storage_offset(), flat[5:2].storage_offset(), x[1, 3:].storage_offset(),
                x[..., 4:].storage_offset(), x[:, None, 2:2].storage_offset(), x[1][:, -1:-1].storage_offset(),
                x[1:1].narrow(1, 2, 0).storage_offset(), x[[]].storage_offset()]
    same_in_both(run)


def test_empty_views_shapes_and_contiguity():
    def run(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        return [layout(x[:, 2:2]), layout(x.narrow(2, 1, 0)), layout(lib.ones(0, 3).view(3, -1)),
                layout(lib.ones(0, 3).reshape(-1)), layout(lib.ones(0, 3).t()), lib.ones(0, 3).t().is_contiguous()]
    same_in_both(run)


# --- memory formats and clone -------------------------------------------------------------------


def test_contiguous_channels_last_strides():
    def run(lib):
        c = lib.arange(120.0).reshape(2, 3, 4, 5).contiguous(memory_format=lib.channels_last)
        return [c, tuple(c.stride()), c.is_contiguous(), c.is_contiguous(memory_format=lib.channels_last)]
    same_in_both(run)


def test_clone_channels_last_strides():
    same_in_both(lambda lib: layout(lib.arange(120.0).reshape(2, 3, 4, 5).clone(memory_format=lib.channels_last)))


@pytest.mark.parametrize("make", ["t", "permute"])
def test_clone_preserves_dense_strides(make):
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4).t() if make == "t" else lib.arange(120.0).reshape(2, 3, 4, 5).permute(0, 2, 3, 1)
        return [layout(x.clone()), layout(x.clone(memory_format=lib.preserve_format))]
    same_in_both(run)


def test_clone_contiguous_format_and_nondense_input():
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        return [layout(x.t().clone(memory_format=lib.contiguous_format)), layout(x[:, ::2].clone()),
                layout(x.t().contiguous()), x.contiguous() is x, layout(x.t().contiguous(memory_format=lib.contiguous_format))]
    same_in_both(run)


# --- detach, .data, _base, data_ptr, resize_ --------------------------------------------------------


def test_detach_shares_memory():
    def run(lib):
        x = lib.arange(4.0, requires_grad=True)
        d = x.detach()
        d[0] = 5
        return [x, d.requires_grad, d.data_ptr() == x.data_ptr(), d.is_leaf, d.grad_fn is None]
    same_in_both(run)


def test_base_of_views():
    def run(lib):
        x = lib.arange(6.0)
        v = x.view(2, 3)
        return [x._base is None, v._base is x, v.t()._base is x, x[1:]._base is x, x.reshape(3, 2)._base is x,
                x.clone()._base is None, x.split(2)[1]._base is x, x.chunk(3)[0]._base is x]
    same_in_both(run)


def test_unbind_pieces_have_base():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0])
        return [piece._base is x for piece in x.unbind()]
    same_in_both(run)


def test_detach_base_is_none():
    same_in_both(lambda lib: lib.arange(6.0).detach()._base is None)


def test_is_view_is_a_method():
    same_in_both(lambda lib: [lib.arange(6.0).view(2, 3)._is_view(), lib.arange(6.0)._is_view()])


def test_data_ptr_offsets_of_views():
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        return [x[1:].data_ptr() - x.data_ptr(), x[:, 2].data_ptr() - x.data_ptr(), x.t().data_ptr() == x.data_ptr(),
                x.view(lib.int32).data_ptr() == x.data_ptr(), x.reshape(12).data_ptr() == x.data_ptr(),
                x.t().reshape(12).data_ptr() == x.data_ptr(), x.element_size()]
    same_in_both(run)


def test_data_assignment():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        x.data = lib.zeros(4, dtype=lib.float64)
        y = lib.ones(3, requires_grad=True)
        y.data.add_(1)
        return [x, x.requires_grad, x.is_leaf, y, y._version, repr(x).replace("chainrule.", "torch.")]
    same_in_both(run)


def test_resize_():
    def run(lib):
        x = lib.arange(6.0)
        x.resize_(2, 2)
        y = lib.arange(6.0)
        y.resize_as_(lib.ones(2, 3))
        z = lib.arange(6.0)
        z.resize_(3)
        return [x, layout(y), z]
    same_in_both(run)


def test_resize_into_a_memory_format():
    """The kept elements first in memory order, laid out channels-last; resize_as_ preserving the
    template's format; too large a size PyTorch's overflow error."""
    def run(lib):
        x = lib.arange(12.0)
        x.resize_((1, 3, 2, 2), memory_format=lib.channels_last)
        y = lib.randn(2, 3)
        y.resize_as_(lib.ones(1, 3, 2, 2).contiguous(memory_format=lib.channels_last), memory_format=lib.preserve_format)
        refused = outcome(lambda: lib.arange(4.0).resize_((2, 2), memory_format=lib.channels_last))
        overflow = outcome(lambda: lib.empty((), dtype=lib.float64).resize_([2, 4, 2**29, 2**29]))
        return [layout(x), x.flatten(), y.stride(), refused[0], overflow[0]]
    same_in_both(run)


def test_inplace_shape_methods():
    def run(lib):
        a = lib.arange(6.0).reshape(2, 3)
        a.t_()
        b = lib.arange(24.0).reshape(2, 3, 4)
        b.transpose_(0, 2)
        b.unsqueeze_(1)
        lay = layout(b)
        b.squeeze_()
        c = lib.ones(2, 1, 3, 1)
        c.squeeze_((1, 3))
        return [layout(a), lay, layout(b), c.shape]
    same_in_both(run)


@pytest.mark.parametrize("op", ["t_", "transpose_"])
def test_inplace_transpose_of_base_updates_contiguity(op):
    def run(lib):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        a.t_() if op == "t_" else a.transpose_(0, 1)
        return [layout(a), outcome(lambda: a.view(-1))[0], tuple(a.contiguous().stride())]
    same_in_both(run)


def test_as_strided_inplace():
    def run(lib):
        a = lib.arange(6.0).reshape(2, 3)
        a.as_strided_((3, 2), (1, 3))
        return layout(a)
    same_in_both(run)


# --- warnings and reprs -------------------------------------------------------------------------------


def _warned(run):
    """The warnings ``run`` gives, those both libraries give once per process included."""
    torch.set_warn_always(True)
    chainrule.set_warn_always(True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
    finally:
        torch.set_warn_always(False)
        chainrule.set_warn_always(False)
    return [type(w.message).__name__ for w in caught]


def test_T_on_3d_warns():
    assert _warned(lambda: chainrule.ones(2, 3, 4).T) == _warned(lambda: torch.ones(2, 3, 4).T) != []


def test_T_on_0d_warns():
    assert _warned(lambda: chainrule.tensor(1.0).T) == _warned(lambda: torch.tensor(1.0).T) != []


def test_no_warning_for_plain_views():
    for lib in (torch, chainrule):
        assert _warned(lambda: (lib.ones(2, 3).T, lib.ones(2, 3, 4).mT, lib.ones(2, 3).view(6))) == []


def test_T_on_1d_warns():
    assert _warned(lambda: chainrule.ones(3).T) == _warned(lambda: torch.ones(3).T) != []


def test_repr_of_views():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True)
        ints = lib.arange(6).view(2, 3)
        return [repr(x.t()), repr(x[:0]), repr(x[0, :0]), repr(x.expand(2, 2, 3)[0]), repr(ints[:, 1:]),
                str(x.detach()[1]), repr(ints.t()), repr(x.view(6)),
                repr(x.unfold(1, 2, 1)), repr(lib.arange(4.0).view(lib.int32))]
    expected = [each.replace("torch.", "LIB.") for each in run(torch)]
    assert [each.replace("chainrule.", "LIB.") for each in run(chainrule)] == expected
