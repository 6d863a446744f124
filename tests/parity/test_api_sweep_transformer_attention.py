"""A sweep of attention and transformer layers against PyTorch (the oracle): ``nn.MultiheadAttention``
(batch_first, kdim/vdim, bias, add_bias_kv, add_zero_attn, bool and float masks of 2 and 3
dimensions, key padding masks, need_weights, average_attn_weights, is_causal, unbatched inputs),
the Transformer layers and stacks (norm_first, activations, batch_first, bias, masks, the nested
tensor path's zeros, enable_nested_tensor warnings), ``F.scaled_dot_product_attention`` and
``F.multi_head_attention_forward``.

Each test builds the same module in both libraries, copies PyTorch's weights into chainrule's through
numpy (state_dict), runs the same inputs in evaluation mode and compares outputs, attention weights,
gradients, state_dict keys, reprs and exception types. Tests marked ``xfail(strict=True,
reason="BUG: ...")`` are differences found: each turns into an XPASS failure the day it is fixed,
and the mark must go.
"""
import inspect
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import chainrule
import chainrule.nn.functional
from tests.parity.sweep import outcome, raises_as_torch


def plain(value):
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return str(value.dtype).split(".")[-1], tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64)
    if isinstance(value, (tuple, list)):
        return [plain(each) for each in value]
    if isinstance(value, dict):
        return {key: plain(each) for key, each in value.items()}
    return value


def assert_same(actual, expected, rtol=1e-5, atol=1e-5):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), (actual, expected)
        for each_actual, each_expected in zip(actual, expected):
            assert_same(each_actual, each_expected, rtol, atol)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected), (list(actual), list(expected))
        for key in expected:
            assert_same(actual[key], expected[key], rtol, atol)
    elif isinstance(expected, tuple):
        assert actual[:2] == expected[:2], (actual[:2], expected[:2])
        np.testing.assert_allclose(actual[2], expected[2], rtol=rtol, atol=atol)
    else:
        assert actual == expected


def same_in_both(run, rtol=1e-5, atol=1e-5):
    torch.manual_seed(0)
    expected = plain(run(torch))
    chainrule.manual_seed(0)
    actual = plain(run(chainrule))
    assert_same(actual, expected, rtol, atol)


def to_lib(lib, value, requires_grad=False):
    """A numpy array (or a nested list/tuple/dict of them) as ``lib`` tensors."""
    if isinstance(value, np.ndarray):
        tensor = lib.tensor(value)
        return tensor.requires_grad_() if requires_grad and value.dtype.kind == "f" else tensor
    if isinstance(value, (list, tuple)):
        return type(value)(to_lib(lib, each, requires_grad) for each in value)
    if isinstance(value, dict):
        return {key: to_lib(lib, each, requires_grad) for key, each in value.items()}
    return value


def twin(make):
    """(torch module, chainrule module) from ``make(lib)``, chainrule's holding PyTorch's weights, both in eval."""
    torch.manual_seed(0)
    theirs = make(torch)
    ours = make(chainrule)
    state = {key: chainrule.tensor(value.detach().numpy().copy()) for key, value in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return theirs.eval(), ours.eval()


def run_both(make, call, inputs, grad=True, rtol=1e-5, atol=1e-5):
    """Runs ``call(module, lib, *tensors)`` in both libraries with the same weights and inputs; compares
    the outputs and (with ``grad``) the gradients of the float inputs and of every parameter."""
    theirs, ours = twin(make)
    results = []
    for lib, module in ((torch, theirs), (chainrule, ours)):
        tensors = to_lib(lib, inputs, requires_grad=grad)
        out = call(module, lib, *tensors)
        outs = [each for each in (out if isinstance(out, (tuple, list)) else [out]) if each is not None]
        record = {"out": plain(list(out) if isinstance(out, (tuple, list)) else out)}
        if grad:
            total = sum((each.float() * (index + 1.5)).sin().sum() for index, each in enumerate(outs))
            total.backward()
            record["input_grads"] = [plain(t.grad) for t in tensors if isinstance(t, lib.Tensor) and t.requires_grad]
            record["param_grads"] = {name: plain(p.grad) for name, p in module.named_parameters()}
        results.append(record)
    assert_same(results[1], results[0], rtol, atol)


RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _numbers_of_each_test_its_own():
    """Each test draws the same numbers whichever tests ran before it in its worker (pytest-xdist
    hands tests out in varying order; float32 tolerances were met for some draws only)."""
    global RNG
    RNG = np.random.default_rng(0)


def randn(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# --- nn.MultiheadAttention --------------------------------------------------------------------

MHA_CONFIGS = {
    "default": dict(),
    "batch_first": dict(batch_first=True),
    "kdim_vdim": dict(kdim=5, vdim=3),
    "kdim_only": dict(kdim=6),
    "no_bias": dict(bias=False),
    "bias_kv": dict(add_bias_kv=True),
    "zero_attn": dict(add_zero_attn=True),
    "bias_kv_zero_attn_batch_first": dict(add_bias_kv=True, add_zero_attn=True, batch_first=True),
    "one_head": dict(num_heads=1),
    "four_heads_kdim": dict(num_heads=4, kdim=5, vdim=7, batch_first=True),
}


def _mha_inputs(config, length=3, source=4, batch=2, embed=8):
    kdim, vdim = config.get("kdim", embed), config.get("vdim", embed)
    if config.get("batch_first"):
        return randn(batch, length, embed), randn(batch, source, kdim), randn(batch, source, vdim)
    return randn(length, batch, embed), randn(source, batch, kdim), randn(source, batch, vdim)


def _make_mha(config, embed=8):
    config = dict(config)
    heads = config.pop("num_heads", 2)
    return lambda lib: lib.nn.MultiheadAttention(embed, heads, **config)


@pytest.mark.parametrize("name", MHA_CONFIGS)
def test_multihead_attention_forward_weights_and_gradients(name):
    config = MHA_CONFIGS[name]
    run_both(_make_mha(config), lambda m, lib, q, k, v: m(q, k, v), _mha_inputs(config))


@pytest.mark.parametrize("name", MHA_CONFIGS)
def test_multihead_attention_state_dict_keys_shapes_and_attributes(name):
    config = MHA_CONFIGS[name]

    def run(lib):
        module = _make_mha(config)(lib)
        keys = [(key, tuple(value.shape), str(value.dtype).split(".")[-1]) for key, value in module.state_dict().items()]
        attrs = [module.embed_dim, module.kdim, module.vdim, module.num_heads, module.head_dim, module.batch_first,
                 module._qkv_same_embed_dim, module.add_zero_attn, module.dropout]
        nones = [name for name in ("in_proj_weight", "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                                   "bias_k", "bias_v") if getattr(module, name) is None]
        return keys, attrs, nones, [name for name, _ in module.named_parameters()]

    same_in_both(run)


MASKS = {
    "attn_bool_2d": lambda: dict(attn_mask=np.triu(np.ones((3, 4), bool), 1)),
    "attn_float_2d": lambda: dict(attn_mask=randn(3, 4)),
    "attn_float_2d_neg_inf": lambda: dict(attn_mask=np.where(np.triu(np.ones((3, 4), bool), 2), -np.inf, 0).astype(np.float32)),
    "attn_bool_3d": lambda: dict(attn_mask=RNG.random((4, 3, 4)) < 0.3),
    "attn_float_3d": lambda: dict(attn_mask=randn(4, 3, 4)),
    "kpm_bool": lambda: dict(key_padding_mask=np.array([[False, False, False, True], [False, True, True, True]])),
    "kpm_float": lambda: dict(key_padding_mask=np.array([[0, 0, 0, -np.inf], [0, -1.0, 2.0, -np.inf]], np.float32)),
    "both_bool": lambda: dict(attn_mask=np.triu(np.ones((3, 4), bool), 2),
                              key_padding_mask=np.array([[False, False, False, True], [False, False, True, True]])),
    "both_float": lambda: dict(attn_mask=randn(3, 4), key_padding_mask=randn(2, 4)),
}


@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("mask", MASKS)
def test_multihead_attention_masks(mask, need_weights, average):
    masks = MASKS[mask]()
    q, k, v = _mha_inputs({})

    def call(m, lib, q, k, v, masks):
        return m(q, k, v, need_weights=need_weights, average_attn_weights=average, **masks)

    run_both(_make_mha({}), call, (q, k, v, masks))


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("config", ["default", "batch_first"])
def test_multihead_attention_self_attention_in_eval_without_grad_masks(config, need_weights):
    # batch-first self-attention with no_grad takes PyTorch's fast path
    cfg = MHA_CONFIGS[config]
    x = _mha_inputs(cfg, length=4)[0]
    kpm = np.array([[False, False, True, True], [False, False, False, False]])

    def call(m, lib, x, kpm):
        with lib.no_grad():
            return m(x, x, x, key_padding_mask=kpm, need_weights=need_weights)

    run_both(_make_mha(cfg), call, (x, kpm), grad=False)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_is_causal_hint_with_causal_mask(need_weights):
    q, k, v = _mha_inputs({}, length=4, source=4)
    mask = np.triu(np.ones((4, 4), bool), 1)
    run_both(_make_mha({}), lambda m, lib, q, k, v, mask: m(q, k, v, attn_mask=mask, is_causal=True, need_weights=need_weights),
             (q, k, v, mask))


@pytest.mark.parametrize("masks", ["none", "kpm", "attn3d", "attn2d_bool"])
def test_multihead_attention_unbatched(masks):
    q, k, v = randn(3, 8), randn(4, 8), randn(4, 8)
    given = {"none": {}, "kpm": dict(key_padding_mask=np.array([False, True, False, False])),
             "attn3d": dict(attn_mask=randn(2, 3, 4)), "attn2d_bool": dict(attn_mask=np.eye(3, 4, dtype=bool))}[masks]
    run_both(_make_mha({}), lambda m, lib, q, k, v, masks: m(q, k, v, average_attn_weights=False, **masks), (q, k, v, given))


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_fully_masked_query_row(need_weights):
    q, k, v = _mha_inputs({})
    mask = np.zeros((3, 4), bool)
    mask[1] = True

    def run(lib):
        theirs_or_ours = _make_mha({})(lib).eval()
        with lib.no_grad():
            out, weights = theirs_or_ours(*to_lib(lib, (q, k, v)), attn_mask=lib.tensor(mask), need_weights=need_weights)
        return [np.isnan(out.numpy()).tolist(), None if weights is None else np.isnan(weights.numpy()).tolist()]

    same_in_both(run)


def test_multihead_attention_float64_module():
    make = lambda lib: lib.nn.MultiheadAttention(6, 3, dtype=lib.float64, add_bias_kv=True)
    q = RNG.standard_normal((2, 1, 6))
    run_both(make, lambda m, lib, q: m(q, q, q), (q,))


def test_multihead_attention_repr():
    same_in_both(lambda lib: [repr(lib.nn.MultiheadAttention(8, 2)), repr(lib.nn.MultiheadAttention(8, 2, kdim=4, bias=False))])


def test_multihead_attention_mismatched_mask_types_warn():
    def run(lib):
        module = lib.nn.MultiheadAttention(8, 2)
        q = lib.zeros(3, 2, 8)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            module(q, q, q, key_padding_mask=lib.zeros(2, 3), attn_mask=lib.zeros(3, 3, dtype=lib.bool))
        return sorted({(w.category.__name__, str(w.message)) for w in caught})

    same_in_both(run)


MHA_ERRORS = {
    "embed_not_divisible": lambda lib: lib.nn.MultiheadAttention(7, 2),
    "zero_heads": lambda lib: lib.nn.MultiheadAttention(8, 0),
    "is_causal_without_mask": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, is_causal=True),
    "attn_mask_2d_shape": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(3, 4)),
    "attn_mask_3d_shape": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(2, 3, 3)),
    "attn_mask_4d": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(1, 4, 3, 3)),
    "attn_mask_int": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, attn_mask=lib.zeros(3, 3, dtype=lib.int64)),
    "kpm_shape": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, key_padding_mask=lib.zeros(2, 4, dtype=lib.bool)),
    "kpm_ndim": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 8)] * 3, key_padding_mask=lib.zeros(2, dtype=lib.bool)),
    "query_4d": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(1, 3, 2, 8)] * 3),
    "key_ndim_differs": lambda lib: lib.nn.MultiheadAttention(8, 2)(lib.zeros(3, 2, 8), lib.zeros(3, 8), lib.zeros(3, 8)),
    "embed_mismatch": lambda lib: lib.nn.MultiheadAttention(8, 2)(*[lib.zeros(3, 2, 6)] * 3),
    "key_value_shapes": lambda lib: lib.nn.MultiheadAttention(8, 2)(lib.zeros(3, 2, 8), lib.zeros(4, 2, 8), lib.zeros(5, 2, 8)),
}


@pytest.mark.parametrize("case", MHA_ERRORS)
def test_multihead_attention_errors(case):
    raises_as_torch(MHA_ERRORS[case])


@pytest.mark.parametrize("shapes", [
    pytest.param(((3, 0, 8), (4, 0, 8)), id="empty_batch"),
    pytest.param(((0, 2, 8), (4, 2, 8)), id="empty_query"),
    pytest.param(((2, 2, 8), (0, 2, 8)), id="empty_keys"),
])
def test_multihead_attention_empty_inputs(shapes):
    query_shape, key_shape = shapes

    def run(lib):
        module = lib.nn.MultiheadAttention(8, 2)
        query, key = lib.ones(*query_shape), lib.ones(*key_shape)
        return list(module(query, key, key))

    same_in_both(run)


# --- F.multi_head_attention_forward -----------------------------------------------------------


@pytest.mark.parametrize("static", [False, True])
def test_functional_multi_head_attention_forward(static):
    embed, heads = 8, 2
    q, k, v = randn(3, 2, embed), randn(4, 2, embed), randn(4, 2, embed)
    w_in, b_in, w_out, b_out = randn(3 * embed, embed), randn(3 * embed), randn(embed, embed), randn(embed)
    mask = np.triu(np.ones((3, 4), bool), 1)
    static_k = randn(2 * heads, 4, embed // heads)

    def run(lib):
        F = lib.nn.functional
        t = to_lib(lib, (q, k, v, w_in, b_in, w_out, b_out, mask, static_k))
        extra = dict(static_k=t[8], static_v=t[8]) if static else {}
        return list(F.multi_head_attention_forward(t[0], t[1], t[2], embed, heads, t[3], t[4], None, None, False, 0.0,
                                                   t[5], t[6], training=False, attn_mask=t[7], average_attn_weights=False,
                                                   **extra))

    same_in_both(run)


# --- F.scaled_dot_product_attention -----------------------------------------------------------

SDPA_CASES = {
    "plain_4d": lambda: (dict(q=randn(2, 3, 5, 4), k=randn(2, 3, 6, 4), v=randn(2, 3, 6, 7)), {}),
    "plain_3d": lambda: (dict(q=randn(3, 5, 4), k=randn(3, 6, 4), v=randn(3, 6, 4)), {}),
    "plain_2d": lambda: (dict(q=randn(5, 4), k=randn(6, 4), v=randn(6, 4)), {}),
    "bool_mask_broadcast": lambda: (dict(q=randn(2, 3, 5, 4), k=randn(2, 3, 6, 4), v=randn(2, 3, 6, 4),
                                         attn_mask=RNG.random((5, 6)) < 0.7), {}),
    "float_mask": lambda: (dict(q=randn(2, 3, 5, 4), k=randn(2, 3, 6, 4), v=randn(2, 3, 6, 4), attn_mask=randn(2, 1, 5, 6)), {}),
    "causal_square": lambda: (dict(q=randn(2, 5, 4), k=randn(2, 5, 4), v=randn(2, 5, 4)), dict(is_causal=True)),
    "causal_rectangular": lambda: (dict(q=randn(2, 3, 4), k=randn(2, 5, 4), v=randn(2, 5, 4)), dict(is_causal=True)),
    "scale": lambda: (dict(q=randn(2, 5, 4), k=randn(2, 6, 4), v=randn(2, 6, 4)), dict(scale=0.3)),
    "gqa": lambda: (dict(q=randn(2, 4, 5, 4), k=randn(2, 2, 6, 4), v=randn(2, 2, 6, 4)), dict(enable_gqa=True)),
    "broadcast_batch": lambda: (dict(q=randn(2, 3, 5, 4), k=randn(1, 3, 6, 4), v=randn(1, 3, 6, 4)), {}),
}


@pytest.mark.parametrize("case", SDPA_CASES)
def test_scaled_dot_product_attention_values_and_gradients(case):
    tensors, options = SDPA_CASES[case]()

    def run(lib):
        t = to_lib(lib, tensors, requires_grad=True)
        out = lib.nn.functional.scaled_dot_product_attention(t["q"], t["k"], t["v"], attn_mask=t.get("attn_mask"),
                                                             dropout_p=0.0, **options)
        out.pow(2).sum().backward()
        return [out, t["q"].grad, t["k"].grad, t["v"].grad]

    same_in_both(run)


def test_scaled_dot_product_attention_fully_masked_row_and_empty():
    q, k, v = randn(1, 3, 4), randn(1, 5, 4), randn(1, 5, 4)
    mask = np.ones((3, 5), bool)
    mask[1] = False

    def run(lib):
        F = lib.nn.functional
        masked = F.scaled_dot_product_attention(*to_lib(lib, (q, k, v)), attn_mask=lib.tensor(mask))
        empty = F.scaled_dot_product_attention(lib.zeros(2, 0, 4), lib.zeros(2, 5, 4), lib.zeros(2, 5, 3))
        return [masked, empty]

    same_in_both(run)


def test_scaled_dot_product_attention_dtypes():
    def run(lib):
        F = lib.nn.functional
        q = lib.ones(2, 3, 4, dtype=lib.float64)
        return [F.scaled_dot_product_attention(q, q, q), F.scaled_dot_product_attention(q, q, q, attn_mask=lib.zeros(3, 3, dtype=lib.float64))]

    same_in_both(run)


SDPA_ERRORS = {
    "mask_and_is_causal": lambda lib, F: F.scaled_dot_product_attention(*[lib.zeros(2, 3, 4)] * 3, attn_mask=lib.zeros(3, 3), is_causal=True),
    "dtype_mismatch": lambda lib, F: F.scaled_dot_product_attention(lib.zeros(2, 3, 4), lib.zeros(2, 3, 4, dtype=lib.float64), lib.zeros(2, 3, 4)),
    "int_mask": lambda lib, F: F.scaled_dot_product_attention(*[lib.zeros(2, 3, 4)] * 3, attn_mask=lib.zeros(3, 3, dtype=lib.int64)),
    "float64_mask_float32_query": lambda lib, F: F.scaled_dot_product_attention(*[lib.zeros(2, 3, 4)] * 3, attn_mask=lib.zeros(3, 3, dtype=lib.float64)),
    "one_dimensional": lambda lib, F: F.scaled_dot_product_attention(*[lib.zeros(4)] * 3),
    "head_dim_mismatch": lambda lib, F: F.scaled_dot_product_attention(lib.zeros(2, 3, 4), lib.zeros(2, 3, 5), lib.zeros(2, 3, 4)),
    "mask_not_broadcastable": lambda lib, F: F.scaled_dot_product_attention(*[lib.zeros(2, 3, 4)] * 3, attn_mask=lib.zeros(4, 4, dtype=lib.bool)),
    "int_inputs": lambda lib, F: F.scaled_dot_product_attention(*[lib.zeros(2, 3, 4, dtype=lib.int64)] * 3),
}


@pytest.mark.parametrize("case", SDPA_ERRORS)
def test_scaled_dot_product_attention_errors(case):
    raises_as_torch(lambda lib: SDPA_ERRORS[case](lib, lib.nn.functional))


# --- Transformer layers -----------------------------------------------------------------------

LAYER_CONFIGS = {
    "default": dict(),
    "norm_first": dict(norm_first=True),
    "gelu_string": dict(activation="gelu"),
    "gelu_function": dict(activation="F.gelu"),
    "gelu_module": dict(activation="nn.GELU"),
    "lambda": dict(activation="lambda"),
    "batch_first": dict(batch_first=True),
    "no_bias": dict(bias=False),
    "eps_ff": dict(layer_norm_eps=1e-3, dim_feedforward=6),
    "batch_first_norm_first_gelu": dict(batch_first=True, norm_first=True, activation="gelu"),
}


def _layer_kwargs(lib, config):
    config = dict(config)
    activation = config.get("activation")
    if activation == "F.gelu":
        config["activation"] = lib.nn.functional.gelu
    elif activation == "nn.GELU":
        config["activation"] = lib.nn.GELU()
    elif activation == "lambda":
        config["activation"] = lambda x: x.tanh() * 2
    config.setdefault("dim_feedforward", 16)
    return dict(config, dropout=0.1)


def _encoder_inputs(config, batch=2, length=4, d_model=8):
    return randn(batch, length, d_model) if config.get("batch_first") else randn(length, batch, d_model)


@pytest.mark.parametrize("name", LAYER_CONFIGS)
def test_transformer_encoder_layer_forward_and_gradients(name):
    config = LAYER_CONFIGS[name]
    src = _encoder_inputs(config)
    mask = np.where(np.triu(np.ones((4, 4), bool), 1), -np.inf, 0).astype(np.float32)
    kpm = np.array([[False, False, False, True], [False, False, False, False]])
    make = lambda lib: lib.nn.TransformerEncoderLayer(8, 2, **_layer_kwargs(lib, config))
    run_both(make, lambda m, lib, src, mask, kpm: m(src, src_mask=mask, src_key_padding_mask=kpm), (src, mask, kpm))


@pytest.mark.parametrize("name", LAYER_CONFIGS)
def test_transformer_decoder_layer_forward_and_gradients(name):
    config = LAYER_CONFIGS[name]
    tgt, memory = _encoder_inputs(config, length=3), _encoder_inputs(config, length=5)
    tgt_mask = np.triu(np.ones((3, 3), bool), 1)
    memory_kpm = np.array([[False, False, False, False, True], [False, False, True, True, True]])
    make = lambda lib: lib.nn.TransformerDecoderLayer(8, 2, **_layer_kwargs(lib, config))
    call = lambda m, lib, tgt, memory, tgt_mask, kpm: m(tgt, memory, tgt_mask=tgt_mask, memory_key_padding_mask=kpm)
    run_both(make, call, (tgt, memory, tgt_mask, memory_kpm))


@pytest.mark.parametrize("name", ["default", "norm_first", "gelu_module", "no_bias", "batch_first"])
def test_transformer_layer_state_dict_keys(name):
    config = LAYER_CONFIGS[name]

    def run(lib):
        keys = []
        for cls in (lib.nn.TransformerEncoderLayer, lib.nn.TransformerDecoderLayer):
            module = cls(8, 2, **_layer_kwargs(lib, config))
            keys.append([(key, tuple(value.shape)) for key, value in module.state_dict().items()])
            keys.append([name for name, _ in module.named_children()])
        return keys

    same_in_both(run)


def test_transformer_layer_reprs():
    def run(lib):
        return [repr(lib.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)),
                repr(lib.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, activation=lib.nn.GELU(), bias=False)),
                repr(lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2, norm=lib.nn.LayerNorm(8)))]

    same_in_both(run)


@pytest.mark.parametrize("unbatched", [False, True])
def test_transformer_layers_unbatched_and_float64(unbatched):
    def make(lib):
        return lib.nn.ModuleDict({"enc": lib.nn.TransformerEncoderLayer(6, 3, 12, dtype=lib.float64),
                                  "dec": lib.nn.TransformerDecoderLayer(6, 3, 12, dtype=lib.float64)})

    src = RNG.standard_normal((4, 6) if unbatched else (4, 2, 6))
    tgt = RNG.standard_normal((3, 6) if unbatched else (3, 2, 6))
    run_both(make, lambda m, lib, src, tgt: [m["enc"](src), m["dec"](tgt, src)], (src, tgt))


# --- stacks and the whole Transformer -----------------------------------------------------------


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_stack_with_padding(batch_first, norm_first):
    kpm = np.array([[False, False, False, True], [False, False, True, True]])
    src = _encoder_inputs(dict(batch_first=batch_first))

    def make(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=batch_first, norm_first=norm_first)
        return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8), enable_nested_tensor=not norm_first)

    run_both(make, lambda m, lib, src, kpm: m(src, src_key_padding_mask=kpm), (src, kpm))


@pytest.mark.parametrize("kpm_kind", ["bool_trailing", "bool_leading", "float"])
def test_transformer_encoder_inference_no_grad_padding(kpm_kind):
    # PyTorch's nested tensor path (batch-first, eval, no grad): padded positions come out as zeros
    kpm = {"bool_trailing": np.array([[False, False, False, True], [False, False, True, True]]),
           "bool_leading": np.array([[True, False, False, False], [False, False, True, True]]),
           "float": np.array([[0, 0, 0, -np.inf], [0, 0, -np.inf, -np.inf]], np.float32)}[kpm_kind]
    src = randn(2, 4, 8)

    def make(lib):
        return lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)

    def call(m, lib, src, kpm):
        with lib.no_grad():
            return m(src, src_key_padding_mask=kpm)

    run_both(make, call, (src, kpm), grad=False)


def test_transformer_encoder_causal_mask_detection():
    src = randn(5, 2, 8)
    mask = np.where(np.triu(np.ones((5, 5), bool), 1), -np.inf, 0).astype(np.float32)

    def make(lib):
        return lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)

    run_both(make, lambda m, lib, src, mask: [m(src, mask=mask), m(src, mask=mask, is_causal=True)], (src, mask))


def test_transformer_decoder_stack():
    tgt, memory = randn(3, 2, 8), randn(5, 2, 8)
    tgt_mask = np.where(np.triu(np.ones((3, 3), bool), 1), -np.inf, 0).astype(np.float32)
    tgt_kpm = np.array([[False, False, True], [False, False, False]])

    def make(lib):
        return lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(8, 2, 16), 2, norm=lib.nn.LayerNorm(8))

    run_both(make, lambda m, lib, t, mem, mask, kpm: m(t, mem, tgt_mask=mask, tgt_key_padding_mask=kpm, tgt_is_causal=None),
             (tgt, memory, tgt_mask, tgt_kpm))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_full_model(batch_first):
    src, tgt = _encoder_inputs(dict(batch_first=batch_first), length=5), _encoder_inputs(dict(batch_first=batch_first), length=3)
    src_kpm = np.array([[False] * 5, [False, False, False, True, True]])

    def make(lib):
        return lib.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16,
                                  batch_first=batch_first)

    def call(m, lib, src, tgt, kpm):
        mask = m.generate_square_subsequent_mask(3)
        return m(src, tgt, tgt_mask=mask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm)

    run_both(make, call, (src, tgt, src_kpm))


def test_transformer_state_dict_and_initialisation_statistics():
    def run(lib):
        lib.manual_seed(0)
        model = lib.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
        keys = [(key, tuple(value.shape)) for key, value in model.state_dict().items()]
        # xavier_uniform on every matrix: the bound is a property of the shape, not of the random draw
        bounds = {key: round(float(value.abs().max()) / (6 / sum(value.shape[:2])) ** 0.5, 1)
                  for key, value in model.state_dict().items() if value.ndim > 1}
        zero_biases = sorted(key for key, value in model.state_dict().items() if value.ndim == 1 and float(value.abs().sum()) == 0)
        return keys, bounds, zero_biases, [model.d_model, model.nhead, model.batch_first]

    same_in_both(run)


def test_generate_square_subsequent_mask():
    def run(lib):
        Transformer = lib.nn.Transformer
        return [Transformer.generate_square_subsequent_mask(4), Transformer.generate_square_subsequent_mask(1),
                Transformer.generate_square_subsequent_mask(3, dtype=lib.float64), Transformer.generate_square_subsequent_mask(0)]

    same_in_both(run)


def test_transformer_encoder_enable_nested_tensor_warnings_and_flag():
    def run(lib):
        results = []
        for layer_kwargs, encoder_kwargs in [(dict(), dict()), (dict(batch_first=True), dict()),
                                             (dict(batch_first=True, norm_first=True), dict()),
                                             (dict(batch_first=True, nhead=1), dict()),
                                             (dict(), dict(enable_nested_tensor=False)),
                                             (dict(batch_first=True, activation=lambda x: x), dict())]:
            kwargs = dict(dict(nhead=2), **layer_kwargs)
            layer = lib.nn.TransformerEncoderLayer(8, dim_feedforward=16, **kwargs)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                encoder = lib.nn.TransformerEncoder(layer, 1, **encoder_kwargs)
            results.append(([(w.category.__name__, str(w.message)) for w in caught], encoder.use_nested_tensor,
                            encoder.enable_nested_tensor, encoder.mask_check))
        return results

    same_in_both(run)


def test_transformer_encoder_layer_mismatched_mask_types_warn():
    def run(lib):
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer(lib.zeros(3, 2, 8), src_mask=lib.zeros(3, 3), src_key_padding_mask=lib.zeros(2, 3, dtype=lib.bool))
        return sorted({(w.category.__name__, str(w.message)) for w in caught})

    same_in_both(run)


def test_transformer_encoder_layer_activation_relu_or_gelu():
    def run(lib):
        return [lib.nn.TransformerEncoderLayer(8, 2, 16, activation=a).activation_relu_or_gelu
                for a in ("relu", "gelu", lib.nn.functional.relu, lib.nn.ReLU(), lib.nn.GELU(), lib.tanh)]

    same_in_both(run)


TRANSFORMER_ERRORS = {
    "bad_activation": lambda lib: lib.nn.TransformerEncoderLayer(8, 2, activation="tanh"),
    "nhead_not_divisor": lambda lib: lib.nn.TransformerEncoderLayer(8, 3),
    "batch_mismatch": lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(3, 2, 8), lib.zeros(3, 3, 8)),
    "d_model_mismatch": lambda lib: lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(3, 2, 6), lib.zeros(3, 2, 6)),
    "encoder_layer_wrong_width": lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16)(lib.zeros(3, 2, 6)),
    "decoder_memory_batch": lambda lib: lib.nn.TransformerDecoderLayer(8, 2, 16)(lib.zeros(3, 2, 8), lib.zeros(4, 3, 8)),
    "encoder_mask_shape": lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 1)(
        lib.zeros(3, 2, 8), mask=lib.zeros(4, 4)),
    "encoder_int_src_mask": lambda lib: lib.nn.TransformerEncoderLayer(8, 2, 16)(lib.zeros(3, 2, 8), src_mask=lib.zeros(3, 3, dtype=lib.int64)),
    "encoder_int_key_padding_mask": lambda lib: lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 1, enable_nested_tensor=False)(
        lib.zeros(3, 2, 8), src_key_padding_mask=lib.zeros(2, 3, dtype=lib.int64)),
}


@pytest.mark.parametrize("case", [
    case for case in TRANSFORMER_ERRORS])
def test_transformer_errors(case):
    raises_as_torch(TRANSFORMER_ERRORS[case])


# --- signatures ------------------------------------------------------------------------------


def _signature(function):
    return [(name, p.kind, repr(p.default) if not callable(p.default) else getattr(p.default, "__name__", "?"))
            for name, p in inspect.signature(function).parameters.items()]


@pytest.mark.parametrize("path", ["nn.MultiheadAttention.forward", "nn.TransformerEncoderLayer.forward",
                                  "nn.TransformerDecoderLayer.forward", "nn.TransformerEncoder.forward",
                                  "nn.TransformerDecoder.forward", "nn.Transformer.forward",
                                  "nn.Transformer.generate_square_subsequent_mask",
                                  "nn.functional.multi_head_attention_forward"])
def test_signatures(path):
    def resolve(lib):
        value = lib
        for part in path.split("."):
            value = getattr(value, part)
        return value

    assert _signature(resolve(chainrule)) == _signature(resolve(torch))
