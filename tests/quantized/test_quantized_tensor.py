"""Quantized tensors: integers, parameters, printing, errors and saving, compared with PyTorch."""
import numpy as np
import pytest
import torch

import chainrule
from tests.quantized.pytorch_errors import assert_raises_as_pytorch

pytestmark = pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor, torch.quantize_per_channel")
DTYPES = ["quint8", "qint8", "qint32"]


def on_ties(scale, count=300):
    """float32 values whose products with 1/scale are exact halves, then random ones."""
    inverse = np.float32(1) / np.float32(scale)
    halves = (np.arange(-count, count) + 0.5).astype(np.float32) / inverse
    return np.concatenate([halves, np.random.default_rng(0).standard_normal(500).astype(np.float32) * 3])


def both(name):
    return getattr(chainrule, name), getattr(torch, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("scale, zero_point", [(0.5, 7), (0.0123, 3), (1 / 3, 0), (2.7, 100)])
def test_per_tensor_integers_and_values_agree_to_the_bit(dtype, scale, zero_point):
    values = on_ties(scale)
    ours_dtype, their_dtype = both(dtype)
    ours = chainrule.quantize_per_tensor(chainrule.tensor(values), scale, zero_point, ours_dtype)
    theirs = torch.quantize_per_tensor(torch.tensor(values), scale, zero_point, their_dtype)
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    assert ours.int_repr().dtype == getattr(chainrule, str(theirs.int_repr().dtype).split(".")[1])
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())
    assert (ours.q_scale(), ours.q_zero_point()) == (theirs.q_scale(), theirs.q_zero_point())
    assert ours.dtype is ours_dtype and ours.is_quantized and ours.qscheme() is chainrule.per_tensor_affine


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("zero_points_as", ["int64", "float32"])
def test_per_channel_integers_and_values_agree_to_the_bit(dtype, zero_points_as):
    if dtype == "qint32" and zero_points_as == "float32":
        pytest.skip("PyTorch 2.13 dies of an illegal instruction on qint32 with float zero points")
    values = on_ties(0.5, 60).reshape(-1, 4, 5)[:, :, :3]
    scales = [0.5, 0.0123, 1 / 3]
    zero_points = [7, 3, 0]
    ours = chainrule.quantize_per_channel(chainrule.tensor(values), chainrule.tensor(scales, dtype=chainrule.float64),
                                          chainrule.tensor(zero_points, dtype=getattr(chainrule, zero_points_as)), 2, getattr(chainrule, dtype))
    theirs = torch.quantize_per_channel(torch.tensor(values), torch.tensor(scales, dtype=torch.float64),
                                        torch.tensor(zero_points, dtype=getattr(torch, zero_points_as)), 2, getattr(torch, dtype))
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())
    np.testing.assert_array_equal(ours.dequantize().numpy(), theirs.dequantize().numpy())
    np.testing.assert_array_equal(ours.q_per_channel_scales().numpy(), theirs.q_per_channel_scales().numpy())
    np.testing.assert_array_equal(ours.q_per_channel_zero_points().numpy(), theirs.q_per_channel_zero_points().numpy())
    assert ours.q_per_channel_axis() == theirs.q_per_channel_axis()
    assert repr(ours.qscheme()) == repr(theirs.qscheme()).replace("torch.", "chainrule.")
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


@pytest.mark.parametrize("dtype", ["quint8", "qint8"])
@pytest.mark.parametrize("reduce_range", [False, True])
@pytest.mark.parametrize("values", [[-1.0, 2.0, 3.0], [0.5, 2.0], [-4.0, -0.1], [0.0, 0.0], [1e-6, 2e-6], [-300.0, 7.0, 0.01]])
def test_dynamic_quantization_chooses_pytorchs_parameters(dtype, reduce_range, values):
    ours = chainrule.quantize_per_tensor_dynamic(chainrule.tensor(values), getattr(chainrule, dtype), reduce_range)
    theirs = torch.quantize_per_tensor_dynamic(torch.tensor(values), getattr(torch, dtype), reduce_range)
    assert (ours.q_scale(), ours.q_zero_point()) == (theirs.q_scale(), theirs.q_zero_point())
    np.testing.assert_array_equal(ours.int_repr().numpy(), theirs.int_repr().numpy())


@pytest.mark.parametrize("shape", [(), (0,), (0, 2), (1,), (3,), (4, 5), (2, 3, 4), (30, 30)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_prints_as_pytorch(shape, dtype):
    values = np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 4
    for scale, zero_point in [(0.1, 10), (1 / 3, 3), (0.1234567, 0)]:
        ours = chainrule.quantize_per_tensor(chainrule.tensor(values), scale, zero_point, getattr(chainrule, dtype))
        theirs = torch.quantize_per_tensor(torch.tensor(values), scale, zero_point, getattr(torch, dtype))
        assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


def test_views_and_indexing_keep_the_parameters_as_pytorch():
    values = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10
    ours = chainrule.quantize_per_tensor(chainrule.tensor(values), 0.1, 3, chainrule.quint8)
    theirs = torch.quantize_per_tensor(torch.tensor(values), 0.1, 3, torch.quint8)
    calls = [lambda t: t[1], lambda t: t[:, 1:], lambda t: t.reshape(4, 6), lambda t: t.view(-1), lambda t: t.flatten(),
             lambda t: t.permute(2, 0, 1), lambda t: t.transpose(0, 1), lambda t: t.unsqueeze(0), lambda t: t.clone()]
    for call in calls:
        assert repr(call(ours)) == repr(call(theirs)).replace("torch.", "chainrule.")
    assert ours.shape == theirs.shape and ours.dim() == 3 and ours.numel() == 24 and len(ours) == 2


def test_qschemes_print_as_pytorchs():
    for name in ["per_tensor_affine", "per_channel_affine", "per_tensor_symmetric", "per_channel_symmetric", "per_channel_affine_float_qparams"]:
        assert repr(getattr(chainrule, name)) == repr(getattr(torch, name)).replace("torch.", "chainrule.")
        assert isinstance(getattr(chainrule, name), chainrule.qscheme)


def test_plain_tensors_answer_as_pytorchs():
    x = chainrule.tensor([1.0, 2.0])
    assert x.dequantize() is x and chainrule.dequantize(x) is x and not x.is_quantized
    for method in ["int_repr", "q_scale", "q_zero_point", "q_per_channel_scales", "qscheme"]:
        with pytest.raises(NotImplementedError, match=f"Could not run 'aten::{method}' with arguments from the 'CPU' backend"):
            getattr(x, method)()


def test_dequantize_of_a_list_gives_a_tuple():
    q = chainrule.quantize_per_tensor(chainrule.tensor([1.0, 2.5]), 0.5, 0, chainrule.qint8)
    result = chainrule.dequantize([q, q])
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_array_equal(result[1].numpy(), [1.0, 2.5])


@pytest.mark.parametrize("call", [lambda q: q + q, lambda q: q * 2, lambda q: q.sum(), lambda q: chainrule.sin(q),
                                  lambda q: q.exp(), lambda q: q @ q])
def test_arithmetic_is_refused_with_pytorchs_error_saying_what_to_do(call):
    q = chainrule.quantize_per_tensor(chainrule.tensor([1.0, 2.0]), 0.1, 0, chainrule.quint8)
    with pytest.raises(NotImplementedError, match=r"Could not run 'aten::\w+' with arguments from the 'QuantizedCPU' backend.*Dequantize"):
        call(q)


def bad_calls(library):
    x = library.tensor([1.0, 2.0])
    per_channel = library.quantize_per_channel(library.ones(2, 2), library.tensor([0.1, 0.2]), library.tensor([0, 0]), 0, library.qint8)
    return [
        lambda: library.quantize_per_tensor(x.int(), 0.1, 0, library.qint8),
        lambda: library.quantize_per_tensor(x.double(), 0.1, 0, library.qint8),
        lambda: library.quantize_per_tensor(x, 0.1, 0, library.float32),
        lambda: per_channel.q_scale(),
        lambda: library.quantize_per_tensor(x, 0.1, 0, library.quint8).q_per_channel_axis(),
    ]


@pytest.mark.parametrize("position", range(len(bad_calls(torch))))
def test_bad_input_raises_pytorchs_error(position):
    assert_raises_as_pytorch(bad_calls(chainrule)[position], bad_calls(torch)[position])


def test_the_first_quantized_tensor_warns_that_pytorch_deprecated_them():
    from chainrule.quantized import quantize

    quantize._warned.clear()
    with pytest.warns(UserWarning, match="quantized tensor creation functions .* are deprecated"):
        chainrule.quantize_per_tensor(chainrule.tensor([1.0]), 0.1, 0, chainrule.quint8)


def test_saves_and_loads_with_weights_only(tmp_path):
    per_tensor = chainrule.quantize_per_tensor(chainrule.tensor([1.0, -2.0, 3.5]), 0.1, 3, chainrule.qint8)
    per_channel = chainrule.quantize_per_channel(chainrule.randn(2, 3), chainrule.tensor([0.1, 0.2, 0.3]), chainrule.tensor([0, 1, 2]), 1, chainrule.quint8)
    path = tmp_path / "q.pt"
    chainrule.save({"a": per_tensor, "b": per_channel, "c": chainrule.ones(2)}, path)
    loaded = chainrule.load(path)
    for name in ("a", "b"):
        assert repr(loaded[name]) == repr({"a": per_tensor, "b": per_channel}[name])
        np.testing.assert_array_equal(loaded[name].int_repr().numpy(), {"a": per_tensor, "b": per_channel}[name].int_repr().numpy())
