"""scaled_dot_product_attention and MultiheadAttention against PyTorch: values, gradients (and float64
gradcheck) over random shapes, masks of both kinds, the causal form, grouped-query attention, every
MultiheadAttention option from identical weights, and errors."""
import numpy as np
import pytest
import torch
from hypothesis import strategies as st
import torch.nn.attention.bias  # noqa: F401 - PyTorch does not import it with torch.nn.attention
from torch.nn.attention import SDPBackend, sdpa_kernel

import chainrule
from chainrule import nn
from tests.nn.pairs import assert_close, error_of, module_pair, normal
from tests.ops.oracle import library_case, sizes, table_test
from tests.ops.second_order import second_order_test


@st.composite
def attention_shapes(draw, float_mask=False, heads=None):
    """query (*, L, E), key (*', S, E), value (*', S, Ev), * and *' broadcasting, empty ones
    included; with ``float_mask`` a fourth (L, S) or (1, S) mask."""
    batch = draw(sizes(0, 2, min_side=0, max_side=3))
    key_batch = tuple(1 if draw(st.booleans()) else side for side in batch)
    length, source_length = draw(st.tuples(st.integers(0, 4), st.integers(0, 4)))
    features, value_features = draw(st.tuples(st.integers(1, 4), st.integers(1, 4)))
    if heads is not None:
        batch, key_batch = (2, heads * 2), (2, heads)
    shapes = ((*batch, length, features), (*key_batch, source_length, features), (*key_batch, source_length, value_features))
    if float_mask:
        shapes += ((draw(st.sampled_from([1, length])), source_length),)
    return shapes


def sdpa(lib):
    """The library's scaled_dot_product_attention; PyTorch's through its MATH kernel, the formula
    itself, which (unlike its fused CPU kernel, picked by shape) has second derivatives."""
    if lib is chainrule:
        return lib.nn.functional.scaled_dot_product_attention

    def by_formula(*args, **kwargs):
        with sdpa_kernel(SDPBackend.MATH):
            return torch.nn.functional.scaled_dot_product_attention(*args, **kwargs)

    return by_formula


def some_keys_hidden(lib, q, k):
    """A bool mask (True: may attend) from the inputs themselves, so both libraries draw the same one;
    some rows hide every key, which must give zeros."""
    return (q[..., :1] @ k[..., :1].transpose(-2, -1)) > 0


TABLE = [
    library_case("sdpa", lambda lib, q, k, v: sdpa(lib)(q, k, v), attention_shapes()),
    library_case("sdpa_scale", lambda lib, q, k, v: sdpa(lib)(q, k, v, scale=0.3), attention_shapes()),
    library_case("sdpa_causal", lambda lib, q, k, v: sdpa(lib)(q, k, v, is_causal=True), attention_shapes()),
    library_case("sdpa_float_mask", lambda lib, q, k, v, m: sdpa(lib)(q, k, v, attn_mask=m), attention_shapes(True)),
    library_case(
        "sdpa_bool_mask", lambda lib, q, k, v: sdpa(lib)(q, k, v, attn_mask=some_keys_hidden(lib, q, k)), attention_shapes()
    ),
    library_case("sdpa_gqa", lambda lib, q, k, v: sdpa(lib)(q, k, v, enable_gqa=True), attention_shapes(heads=2)),
]

test_op = table_test(TABLE, max_examples=5)
test_second_order = second_order_test(TABLE, max_examples=3)


def test_attention_with_every_key_hidden_gives_zeros_and_zero_gradients():
    query = chainrule.randn(2, 3, 4, requires_grad=True)
    output = nn.functional.scaled_dot_product_attention(query, query, query, attn_mask=chainrule.zeros(3, 3, dtype=chainrule.bool))
    output.sum().backward()
    assert (output._array == 0).all() and (query.grad._array == 0).all()


def test_attention_dropout_drops_weights_and_keeps_their_mean():
    chainrule.manual_seed(0)
    value = chainrule.ones(1, 200, 1)
    query = chainrule.zeros(1, 2000, 1)  # uniform weights 1/200: the output is the kept share
    output = nn.functional.scaled_dot_product_attention(query, value, value, dropout_p=0.25)
    assert abs(output._array.mean() - 1.0) < 0.02
    assert (nn.functional.scaled_dot_product_attention(query, value, value, dropout_p=1.0)._array == 0).all()


SDPA_ERRORS = [
    ("mask_and_causal", lambda lib, q: sdpa(lib)(q, q, q, attn_mask=lib.ones(3, 3, dtype=lib.bool), is_causal=True)),
    ("one_dimensional", lambda lib, q: sdpa(lib)(q[0, 0], q[0, 0], q[0, 0])),
    ("dtypes_differ", lambda lib, q: sdpa(lib)(q, q, q.double())),
    ("integer_mask", lambda lib, q: sdpa(lib)(q, q, q, attn_mask=lib.ones(3, 3, dtype=lib.int64))),
    ("mask_of_other_float_dtype", lambda lib, q: sdpa(lib)(q, q, q, attn_mask=lib.zeros(3, 3, dtype=lib.float64))),
]


@pytest.mark.parametrize("call", [case[1] for case in SDPA_ERRORS], ids=[case[0] for case in SDPA_ERRORS])
def test_sdpa_errors_match_torch(call):
    values = normal(2, 3, 4).astype(np.float32)
    ours, theirs = error_of(lambda: call(chainrule, chainrule.tensor(values))), error_of(lambda: call(torch, torch.tensor(values)))
    assert ours is not None and ours[0] is theirs[0]


# ----------------------------------------------------------------------------- MultiheadAttention
def causal(length, source_length):
    return np.triu(np.ones((length, source_length), bool), 1)


PADDING = np.array([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]], bool)

MODULES = [
    ("plain", dict(embed_dim=4, num_heads=2), {}),
    ("bias_kv_zero_attn", dict(embed_dim=4, num_heads=2, add_bias_kv=True, add_zero_attn=True), {"key_padding_mask": PADDING}),
    ("kdim_vdim_batch_first", dict(embed_dim=4, num_heads=2, kdim=3, vdim=5, batch_first=True), {}),
    ("no_bias_no_weights", dict(embed_dim=4, num_heads=1, bias=False), {"need_weights": False}),
    ("weights_per_head", dict(embed_dim=6, num_heads=3), {"average_attn_weights": False}),
    ("masks", dict(embed_dim=4, num_heads=2), {"attn_mask": causal(5, 6), "key_padding_mask": PADDING}),
    ("float_masks", dict(embed_dim=4, num_heads=2), {"attn_mask": normal(4, 5, 6), "key_padding_mask": normal(2, 6)}),
    ("causal_hint", dict(embed_dim=4, num_heads=2), {"attn_mask": causal(5, 6), "is_causal": True, "need_weights": False}),
    ("masks_no_weights", dict(embed_dim=4, num_heads=2), {"attn_mask": causal(5, 6), "key_padding_mask": PADDING, "need_weights": False}),
    ("unbatched", dict(embed_dim=4, num_heads=2), {"attn_mask": causal(5, 6), "unbatched": True}),
]


def attention_inputs(settings, unbatched):
    batch_first = settings.get("batch_first", False)
    shapes = [(5, settings["embed_dim"]), (6, settings.get("kdim", settings["embed_dim"])), (6, settings.get("vdim", settings["embed_dim"]))]
    if unbatched:
        return [normal(*shape, seed=seed) for seed, shape in enumerate(shapes)]
    return [normal(*((2, *shape) if batch_first else (shape[0], 2, shape[1])), seed=seed) for seed, shape in enumerate(shapes)]


@pytest.mark.parametrize("settings, arguments", [case[1:] for case in MODULES], ids=[case[0] for case in MODULES])
def test_multihead_attention_matches_torch(settings, arguments):
    ours, theirs = module_pair(lambda lib: lib.nn.MultiheadAttention(**settings))
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]
    arguments = dict(arguments)
    arrays = attention_inputs(settings, arguments.pop("unbatched", False))
    results = []
    for lib, module in ((chainrule, ours), (torch, theirs)):
        inputs = [lib.tensor(array.copy(), requires_grad=True) for array in arrays]
        given = {name: lib.tensor(value) if isinstance(value, np.ndarray) else value for name, value in arguments.items()}
        output, weights = module(*inputs, **given)
        (output * lib.tensor(normal(*output.shape, seed=9))).sum().backward()
        results.append((inputs, output, weights, dict(module.named_parameters())))
    (inputs, output, weights, parameters), (their_inputs, their_output, their_weights, their_parameters) = results
    assert_close(output, their_output, "output")
    assert (weights is None) == (their_weights is None)
    if weights is not None:
        assert_close(weights, their_weights, "attention weights")
    for position, (mine, reference) in enumerate(zip(inputs, their_inputs)):
        assert_close(mine.grad, reference.grad, f"gradient of input {position}")
    for name, parameter in parameters.items():
        assert_close(parameter.grad, their_parameters[name].grad, f"gradient of {name}")


def test_multihead_attention_with_every_key_padded_gives_nan_as_torch():
    ours, theirs = module_pair(lambda lib: lib.nn.MultiheadAttention(4, 2))
    x = normal(3, 2, 4)
    padded = np.ones((2, 3), bool)
    output, weights = ours(*[chainrule.tensor(x)] * 3, key_padding_mask=chainrule.tensor(padded))
    their_output, their_weights = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(padded))
    assert np.isnan(output._array).all() and np.isnan(their_output.detach().numpy()).all()


def test_multihead_attention_dropout_only_in_training():
    chainrule.manual_seed(0)
    layer = nn.MultiheadAttention(4, 2, dropout=0.5)
    x = chainrule.randn(3, 2, 4)
    _, weights = layer(x, x, x, average_attn_weights=False)
    assert (weights._array == 0).any()
    layer.eval()
    _, weights = layer(x, x, x)
    np.testing.assert_allclose(weights._array.sum(-1), 1.0, rtol=1e-6)


MHA_ERRORS = [
    ("one_dimensional_query", lambda lib, m, x: m(x[0, 0], x, x)),
    ("causal_without_mask", lambda lib, m, x: m(x, x, x, is_causal=True)),
    ("wrong_2d_mask", lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(2, 2))),
    ("wrong_3d_mask", lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(3, 3, 3))),
    ("integer_mask", lambda lib, m, x: m(x, x, x, attn_mask=lib.ones(3, 3, dtype=lib.int64))),
    ("wrong_embed_dim", lambda lib, m, x: m(lib.ones(3, 2, 6), lib.ones(3, 2, 6), lib.ones(3, 2, 6))),
    ("wrong_padding_mask", lambda lib, m, x: m(x, x, x, key_padding_mask=lib.ones(3, 2, dtype=lib.bool))),
    ("indivisible_heads", lambda lib, m, x: lib.nn.MultiheadAttention(5, 2)),
    ("no_heads", lambda lib, m, x: lib.nn.MultiheadAttention(4, 0)),
]


@pytest.mark.parametrize("call", [case[1] for case in MHA_ERRORS], ids=[case[0] for case in MHA_ERRORS])
def test_multihead_attention_errors_match_torch(call):
    values = normal(3, 2, 4).astype(np.float32)
    ours = error_of(lambda: call(chainrule, nn.MultiheadAttention(4, 2), chainrule.tensor(values)))
    theirs = error_of(lambda: call(torch, torch.nn.MultiheadAttention(4, 2), torch.tensor(values)))
    assert ours is not None and ours[0] is theirs[0], (ours, theirs)


@pytest.mark.parametrize(
    "backends",
    [SDPBackend.MATH, [SDPBackend.FLASH_ATTENTION], [SDPBackend.EFFICIENT_ATTENTION], [SDPBackend.CUDNN_ATTENTION, SDPBackend.MATH]],
)
@pytest.mark.parametrize("shape", [(2, 3, 4), (1, 2, 3, 4)])
def test_sdpa_kernel_allows_and_refuses_as_pytorch_does_on_the_cpu(backends, shape):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(shape) for _ in range(3))
    results = []
    for lib in (torch, chainrule):
        attention = __import__(f"{lib.__name__}.nn.attention", fromlist=["sdpa_kernel"])
        chosen = getattr(attention.SDPBackend, backends.name) if not isinstance(backends, list) else [
            getattr(attention.SDPBackend, backend.name) for backend in backends
        ]
        with attention.sdpa_kernel(chosen):
            try:
                results.append(lib.nn.functional.scaled_dot_product_attention(*(lib.tensor(a) for a in (q, k, v))).numpy())
            except RuntimeError as error:
                results.append(type(error))
    if isinstance(results[0], type):
        assert results[1] is results[0]
    else:
        np.testing.assert_allclose(results[1], results[0], rtol=1e-10)
    assert chainrule.nn.functional.scaled_dot_product_attention(*(chainrule.tensor(a) for a in (q, k, v))).shape == shape


def test_sdp_backend_members_print_and_convert_as_pytorchs():
    """PyTorch's SDPBackend is an enum that is no int: it prints as ``SDPBackend.MATH`` (the
    scaled dot product attention tutorial prints the backend it times) and converts with int()."""
    facts = []
    for lib in (torch, chainrule):
        backend = __import__(f"{lib.__name__}.nn.attention", fromlist=["SDPBackend"]).SDPBackend
        member = backend.FLASH_ATTENTION
        facts.append((str(member), f"{member}", repr(member), int(member), member == 1, member.name, member.value, list(backend.__members__)))
    assert facts[1] == facts[0]
    assert facts[1][:5] == ("SDPBackend.FLASH_ATTENTION", "SDPBackend.FLASH_ATTENTION", "<SDPBackend.FLASH_ATTENTION: 1>", 1, False)


@pytest.mark.parametrize("make", ["causal_lower_right", "causal_upper_left"])
@pytest.mark.parametrize("lengths", [(3, 5), (4, 4)])
def test_causal_bias_masks_as_pytorchs(make, lengths):
    import chainrule.nn.attention.bias  # (neither library loads the module on its own import)
    import torch.nn.attention.bias

    queries, keys = lengths
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((1, 2, queries, 4)), rng.standard_normal((1, 2, keys, 4))
    results = []
    for lib in (chainrule, torch):
        bias = getattr(lib.nn.attention.bias, make)(queries, keys)
        assert isinstance(bias, lib.Tensor)  # as PyTorch's, a Tensor subclass (the SDPA tutorial asserts it)
        query, key = lib.tensor(q, requires_grad=True), lib.tensor(k, requires_grad=True)
        output = lib.nn.functional.scaled_dot_product_attention(query, key, key, attn_mask=bias)
        output.sum().backward()
        with pytest.raises(ValueError, match="CausalBias should not be used with causal=True"):
            lib.nn.functional.scaled_dot_product_attention(query, key, key, attn_mask=bias, is_causal=True)
        results.append((bias._materialize().tolist(), output.detach().numpy(), query.grad.numpy(), key.grad.numpy()))
    assert results[0][0] == results[1][0]
    for ours, theirs in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_a_float32_mask_is_read_in_the_querys_dtype_and_mha_words_are_pytorchs():
    results = []
    for lib in (chainrule, torch):
        query = lib.tensor(np.random.default_rng(1).standard_normal((1, 1, 3, 4)))
        mask = lib.tensor(np.random.default_rng(2).standard_normal((3, 3)), dtype=lib.float32)
        output = lib.nn.functional.scaled_dot_product_attention(query, query, query, attn_mask=mask)
        results.append((str(output.dtype).split(".")[1], output.numpy()))
        attention = lib.nn.MultiheadAttention(4, 4)
        batch = lib.randn(4, 4, 4)
        with pytest.raises(AssertionError, match="expected `key_padding_mask` to be `None` or 2-D"):
            attention(batch, batch, batch, key_padding_mask=lib.zeros(4, dtype=lib.bool))
        assert lib.backends.mha.get_fastpath_enabled()
    assert results[0][0] == results[1][0] == "float64"
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)
