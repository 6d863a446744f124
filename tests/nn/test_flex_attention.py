"""flex_attention, create_block_mask, BlockMask and the mask combinators against PyTorch: values and
log-sum-exp of PyTorch's eager CPU run (float32, float64), block-mask fields and printing; gradients
(through score_mod and a tensor it reads, too) against PyTorch's autograd of the same formula, since
PyTorch's CPU refuses inputs that require grad."""
import math
import warnings

import numpy as np
import pytest
import torch
from torch.nn.attention import flex_attention as torch_flex

import chainrule
from chainrule.nn.attention import flex_attention as flex


def causal(b, h, q_idx, kv_idx):
    return q_idx >= kv_idx


def relative_bias(score, b, h, q_idx, kv_idx):
    return score + (q_idx - kv_idx) * 0.1


def inputs(dtype, shapes=((2, 4, 5, 4), (2, 2, 6, 4), (2, 2, 6, 3)), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in shapes]


def run_torch(arrays, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch_flex.flex_attention(*(torch.from_numpy(array) for array in arrays), **kwargs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_values_and_lse_match_pytorch_eager(dtype):
    arrays = inputs(dtype)
    masks = {name: (module.create_block_mask(causal, None, None, 5, 6, device="cpu", BLOCK_SIZE=2)) for name, module in (("torch", torch_flex), ("chainrule", flex))}
    expected, expected_lse = run_torch(arrays, score_mod=relative_bias, block_mask=masks["torch"], enable_gqa=True, scale=0.3, return_aux=torch_flex.AuxRequest(lse=True))
    out, aux = flex.flex_attention(*(chainrule.tensor(array) for array in arrays), score_mod=relative_bias, block_mask=masks["chainrule"], enable_gqa=True, scale=0.3, return_aux=flex.AuxRequest(lse=True))
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(aux.lse.numpy(), expected_lse.lse.numpy(), rtol=tolerance, atol=tolerance)
    assert out.dtype == getattr(chainrule, np.dtype(dtype).name) and aux.max_scores is None


def test_plain_attention_equals_sdpa_and_hidden_rows_give_zeros():
    q, k, v = (chainrule.tensor(array) for array in inputs(np.float64, ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 2))))
    expected = chainrule.nn.functional.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(flex.flex_attention(q, k, v).numpy(), expected.numpy(), rtol=1e-12)
    nothing = flex.create_block_mask(lambda b, h, q_idx, kv_idx: q_idx < 0, 1, 1, 3, 5, device="cpu")
    out, (lse, _) = flex.flex_attention(q, k, v, block_mask=nothing, return_aux=flex.AuxRequest(lse=True))
    assert out.abs().sum().item() == 0 and bool(lse.isneginf().all())


def reference_formula(lib, q, k, v, bias, scale):
    """The eager formula, written out: what flex_attention computes, for PyTorch's autograd."""
    scores = q @ k.transpose(-2, -1) * scale
    L, S = scores.shape[-2:]
    rows, cols = lib.arange(L).view(L, 1), lib.arange(S).view(1, S)
    scores = scores + bias[rows - cols + S]
    scores = scores.masked_fill(~(rows >= cols), -math.inf)
    return scores.softmax(-1) @ v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_through_score_mod_and_captured_tensor(dtype):
    arrays = inputs(dtype, ((2, 2, 4, 3), (2, 2, 4, 3), (2, 2, 4, 2))) + [np.linspace(-1, 1, 9).astype(dtype)]
    grad_out = np.random.default_rng(1).standard_normal((2, 2, 4, 2)).astype(dtype)
    ours = [chainrule.tensor(array, requires_grad=True) for array in arrays]
    theirs = [torch.tensor(array, requires_grad=True) for array in arrays]
    bias = ours[3]

    def score_mod(score, b, h, q_idx, kv_idx):
        return score + bias[q_idx - kv_idx + 4]

    block_mask = flex.create_block_mask(causal, None, None, 4, 4, device="cpu", BLOCK_SIZE=2)
    out = flex.flex_attention(*ours[:3], score_mod=score_mod, block_mask=block_mask, scale=0.5)
    out.backward(chainrule.tensor(grad_out))
    reference_formula(torch, *theirs[:3], theirs[3], 0.5).backward(torch.tensor(grad_out))
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=tolerance, atol=tolerance)


def test_block_mask_fields_repr_and_str_match_pytorch():
    for B, H, block in [(None, None, 2), (2, 1, (2, 3))]:
        ours = flex.create_block_mask(causal, B, H, 5, 6, device="cpu", BLOCK_SIZE=block)
        theirs = torch_flex.create_block_mask(causal, B, H, 5, 6, device="cpu", BLOCK_SIZE=block)
        for name in ["kv_num_blocks", "kv_indices", "full_kv_num_blocks", "full_kv_indices", "q_num_blocks", "q_indices", "full_q_num_blocks", "full_q_indices"]:
            assert getattr(ours, name).tolist() == getattr(theirs, name).tolist(), name
        assert ours.shape == theirs.shape and ours.BLOCK_SIZE == theirs.BLOCK_SIZE and ours.sparsity() == theirs.sparsity()
        assert ours.to_dense().tolist() == theirs.to_dense().tolist() and str(ours) == str(theirs)
        assert repr(ours).replace("chainrule.", "torch.") == repr(theirs)
        assert ours[0].kv_num_blocks.tolist() == theirs[0].kv_num_blocks.tolist()
        assert ours._adjust(3, 4).kv_indices.tolist() == theirs._adjust(3, 4).kv_indices.tolist()


def test_create_mask_and_combinators_match_pytorch():
    def window(b, h, q_idx, kv_idx):
        return (q_idx - kv_idx).abs() <= 1

    def head_offset(b, h, q_idx, kv_idx):
        return kv_idx >= h

    for name in ["and_masks", "or_masks"]:
        ours = flex.create_mask(getattr(flex, name)(causal, window, head_offset), 2, 3, 4, 5, device="cpu")
        theirs = torch_flex.create_mask(getattr(torch_flex, name)(causal, window, head_offset), 2, 3, 4, 5, device="cpu")
        assert ours.tolist() == theirs.tolist() and ours.dtype == chainrule.bool
    assert flex.create_mask(flex.noop_mask, None, None, 2, 3).tolist() == [[[[True] * 3] * 2]]
    ours = flex.create_mask(lambda score, b, h, q, kv: score - (kv > q) * math.inf, 1, 1, 3, 3)
    assert ours.tolist() == torch_flex.create_mask(lambda score, b, h, q, kv: score - (kv > q) * math.inf, 1, 1, 3, 3, device="cpu").tolist()


@pytest.mark.parametrize("case", ["heads", "embed", "batch", "gqa", "length", "sliced", "both_lse"])
def test_errors_match_pytorch(case):
    def call(lib, module):
        q, k, v = (lib.ones(2, 2, 4, 3), lib.ones(2, 2, 4, 3), lib.ones(2, 2, 4, 3))
        mask = module.create_block_mask(causal, None, None, 4, 4, device="cpu", BLOCK_SIZE=2)
        if case == "heads":
            return module.flex_attention(q, lib.ones(2, 1, 4, 3), lib.ones(2, 1, 4, 3))
        if case == "embed":
            return module.flex_attention(q, lib.ones(2, 2, 4, 2), v)
        if case == "batch":
            return module.flex_attention(q, lib.ones(1, 2, 4, 3), lib.ones(1, 2, 4, 3))
        if case == "gqa":
            return module.flex_attention(lib.ones(2, 3, 4, 3), k, v, enable_gqa=True)
        if case == "length":
            return module.flex_attention(lib.ones(2, 2, 3, 3), k, v, block_mask=mask)
        if case == "sliced":
            return module.flex_attention(q, k, v, block_mask=mask[0])
        return module.flex_attention(q, k, v, return_lse=True, return_aux=module.AuxRequest(lse=True))

    with pytest.raises(Exception) as expected:
        call(torch, torch_flex)
    with pytest.raises(type(expected.value)) as raised:
        call(chainrule, flex)
    assert str(raised.value) == str(expected.value)


def test_names_diffusers_imports():
    from chainrule.nn.attention.flex_attention import BlockMask, create_block_mask, flex_attention  # noqa: F401

    assert set(flex.__all__) == set(torch_flex.__all__)
