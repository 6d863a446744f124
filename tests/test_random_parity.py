"""chainrule's random numbers are PyTorch's CPU generator's, bit for bit, for the same seed.

Each case runs the same calls in both libraries after the same ``manual_seed`` (or on generators
seeded alike), compares every value exactly, then draws once more to check that both streams
advanced by the same number of words.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule

SEEDS = [0, 1, 42, 2**32 + 5, 2**63 - 1]
SIZES = [0, 1, 5, 15, 16, 17, 100, 1000]
FLOATS = ["float32", "float64"]


def same_draws(calls, seed=0):
    """``calls(lib)`` -> tensors, run after ``lib.manual_seed(seed)`` in both libraries; asserts
    the values (and dtypes) equal, and that the next draw does too."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tensors = [value.detach() for value in calls(lib)]
        results.append(([value.numpy() for value in tensors], [str(value.dtype).split(".")[-1] for value in tensors], lib.rand(2).tolist()))
    (ours, our_dtypes, our_next), (theirs, their_dtypes, their_next) = results
    assert our_dtypes == their_dtypes
    for position, (mine, expected) in enumerate(zip(ours, theirs)):
        assert mine.shape == expected.shape, position
        np.testing.assert_array_equal(mine, expected, err_msg=f"call {position}")
    assert our_next == their_next, "the streams drew different numbers of words"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_factories_and_fills_match(seed, size, dtype):
    def calls(lib):
        d = getattr(lib, dtype)
        return [
            lib.rand(size, dtype=d), lib.randn(size, dtype=d), lib.randn(3, dtype=d), lib.randn(1, dtype=d),
            lib.rand_like(lib.empty(size, 2, dtype=d)), lib.randn_like(lib.empty(2, size, dtype=d)),
            lib.randint(0, 10, (size,)), lib.randint(-3, 2**40, (size,)), lib.randint(5, (size, 2), dtype=lib.int32),
            lib.randperm(size), lib.empty(size, dtype=d).normal_(0.3, 2.7), lib.empty(size, dtype=d).uniform_(-0.37, 1.91),
            lib.empty(size, dtype=d).random_(3, 9), lib.empty(size, dtype=d).random_(),
            lib.empty(size, dtype=lib.int64).random_(), lib.empty(size, dtype=lib.int32).random_(),
            lib.empty(size, dtype=lib.uint8).random_(), lib.empty(size, dtype=lib.bool).random_(),
            lib.empty(size, dtype=d).exponential_(1.7), lib.empty(size, dtype=d).geometric_(0.3),
            lib.empty(size, dtype=d).log_normal_(0.2, 0.9), lib.empty(size, dtype=d).cauchy_(0.1, 2.0),
            lib.normal(0.5, 2.0, (size,), dtype=d), lib.normal(lib.zeros(size, dtype=d), lib.ones(size, dtype=d) * 2),
            lib.normal(1.5, lib.ones(size, dtype=d) * 2), lib.normal(lib.ones(size, dtype=d), 0.5),
        ]

    same_draws(calls, seed)


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("dtype", FLOATS)
def test_bernoulli_and_multinomial_match(seed, dtype):
    def calls(lib):
        d = getattr(lib, dtype)
        weights = lib.rand(3, 40, dtype=d) + 0.01
        return [
            lib.bernoulli(lib.rand(37, dtype=d)), lib.bernoulli(lib.rand(5, dtype=d), 0.3), lib.empty(20, dtype=d).bernoulli_(0.3),
            lib.empty(20).bernoulli_(lib.rand(20, dtype=d)), lib.multinomial(weights, 50, replacement=True),
            lib.multinomial(weights, 7), lib.multinomial(weights[0], 1), lib.multinomial(weights[1], 1, replacement=True),
        ]

    same_draws(calls, seed)


def test_multinomial_without_replacement_draws_categories_of_weight_zero_last():
    """PyTorch draws more samples than there are categories of nonzero weight (transformers' beam
    sampling after top-k filtering): those come first, then the others, all in PyTorch's order."""
    results = {}
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        weights = lib.tensor([[0.5, 0.0, 0.5, 0.0, 0.0], [0.2, 0.3, 0.0, 0.5, 0.0]])
        results[lib] = lib.multinomial(weights, 4).tolist(), lib.rand(2).tolist()
    assert results[chainrule] == results[torch]  # the order among weight 0 is PyTorch's topk's


def test_the_cached_second_normal_sample_carries_over_between_calls_and_is_reset_by_seeding():
    def calls(lib):
        first = [lib.randn(1, dtype=lib.float64), lib.randn(1), lib.randn(3), lib.randn(20), lib.randn(1)]
        lib.manual_seed(7)
        return first + [lib.randn(1), lib.randn(2, dtype=lib.float64), lib.randn(1)]

    same_draws(calls)


def test_generators_seed_like_pytorch_and_leave_the_global_stream_alone():
    def calls(lib):
        generator = lib.Generator().manual_seed(2**32 + 5)
        fresh = lib.Generator()  # PyTorch's default seed
        values = [lib.rand(4, generator=generator), lib.randn(20, generator=fresh), lib.randint(0, 7, (5,), generator=generator),
                  lib.randperm(9, generator=fresh), lib.empty(6).normal_(generator=generator), lib.randn(2)]
        return values + [lib.tensor([generator.initial_seed() % 2**62, fresh.initial_seed()])]

    same_draws(calls)
    for seed in SEEDS + [-1, 2**64 - 1]:
        assert chainrule.manual_seed(seed).initial_seed() == torch.manual_seed(seed).initial_seed()


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_default_layer_weights_match(seed):
    def calls(lib):
        nn = lib.nn
        modules = [nn.Linear(20, 7), nn.Linear(2, 1), nn.Conv2d(3, 8, 3), nn.Conv1d(2, 4, 5), nn.Embedding(10, 4), nn.LSTM(5, 6, 2),
                   nn.GRU(3, 4), nn.RNN(3, 2, bidirectional=True), nn.MultiheadAttention(8, 2), nn.TransformerEncoderLayer(8, 2, 16)]
        return [parameter for module in modules for parameter in module.parameters()]

    same_draws(calls, seed)


@pytest.mark.parametrize("name, keywords", [
    ("uniform_", {"a": -2, "b": 3}), ("normal_", {"mean": 1, "std": 0.5}), ("xavier_uniform_", {"gain": 2.0}),
    ("xavier_normal_", {}), ("kaiming_uniform_", {"nonlinearity": "relu"}), ("kaiming_normal_", {"mode": "fan_out"}),
    ("trunc_normal_", {}), ("trunc_normal_", {"std": 0.02}), ("trunc_normal_", {"mean": 5, "a": 4, "b": 4.5}),
    ("trunc_normal_", {"a": 5.0, "b": 5.1}), ("trunc_normal_", {"a": -0.1, "b": 0.3}), ("sparse_", {"sparsity": 0.3}),
])
@pytest.mark.parametrize("shape", [(6, 9), (64, 32)])
def test_initializers_match(name, keywords, shape):
    same_draws(lambda lib: [getattr(lib.nn.init, name)(lib.empty(*shape), **keywords)], seed=3)


def test_orthogonal_draws_the_same_matrix():
    """The same normal draws; the QR decomposition itself runs in float64 here, LAPACK's float32 there."""
    for shape in [(6, 9), (9, 6), (8, 4, 3)]:
        values = []
        for lib in (chainrule, torch):
            lib.manual_seed(3)
            values.append((lib.nn.init.orthogonal_(lib.empty(*shape), gain=2).numpy(), lib.rand(1).item()))
        np.testing.assert_allclose(values[0][0], values[1][0], atol=2e-6)
        assert values[0][1] == values[1][1]


def test_data_loading_shuffles_like_pytorch():
    def calls(lib):
        data = lib.utils.data
        dataset = data.TensorDataset(lib.arange(23))
        epochs = [batch[0] for _ in range(2) for batch in data.DataLoader(dataset, batch_size=4, shuffle=True)]
        seeded = [batch[0] for batch in data.DataLoader(dataset, batch_size=5, shuffle=True, generator=lib.Generator().manual_seed(3))]
        parts = [lib.tensor(list(part.indices)) for part in data.random_split(range(10), [0.3, 0.7])]
        samplers = [data.RandomSampler(range(7), replacement=True, num_samples=40), data.RandomSampler(range(7), num_samples=14),
                    data.RandomSampler(range(7)), data.SubsetRandomSampler([3, 5, 9, 11]),
                    data.WeightedRandomSampler([0.1, 0.5, 0.2, 0.9], 6), data.WeightedRandomSampler([0.1, 0.5, 0.2, 0.9], 3, replacement=False)]
        return epochs + seeded + parts + [lib.tensor(list(sampler)) for sampler in samplers]

    same_draws(calls, seed=5)


@pytest.mark.parametrize("p", [0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("dtype", FLOATS)
def test_dropout_draws_pytorchs_masks(p, dtype):
    """F.dropout, dropout2d and nn.Dropout give PyTorch's masks for the same seed (bernoulli_(1 - p)
    / (1 - p)), and leave the stream where PyTorch's leave it (p = 0 and p = 1 draw nothing)."""
    outputs = []
    for lib in (chainrule, torch):
        lib.manual_seed(1)
        x = lib.randn(30, 20, dtype=getattr(lib, dtype))
        layer = lib.nn.Dropout(p)
        outputs.append([lib.nn.functional.dropout(x, p), lib.nn.functional.dropout2d(x.reshape(3, 10, 4, 5), p),
                        layer(x), lib.rand(2)])
    for ours, theirs in zip(*outputs):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("dtype", FLOATS)
def test_rrelu_draws_pytorchs_slopes(seed, dtype):
    """rrelu in training draws one slope per element x <= 0 (a nan draws none) in row-major order, of
    a transposed input too, with bounds that float32 rounds (1/3); in place and as a module alike."""
    def calls(lib):
        x = lib.randn(4, 6, 5, dtype=getattr(lib, dtype)).transpose(0, 2)
        x[1, 2, 3] = float("nan")
        return [lib.nn.functional.rrelu(x, training=True), lib.nn.functional.rrelu(x, 0.1, 0.7, training=True),
                lib.rrelu_(x.clone(), -0.5, 0.25, training=True), lib.nn.RReLU(0.2, 0.2)(x), lib.rand(2)]

    same_draws(calls, seed)


def test_rrelu_refuses_float16_in_training_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(NotImplementedError, match="rrelu_with_noise_out_cpu.*Half"):
            lib.nn.functional.rrelu(lib.randn(3).half(), training=True)


def test_states_are_pytorchs_bytes_and_can_be_exchanged():
    for seed in SEEDS:
        chainrule.manual_seed(seed)
        torch.manual_seed(seed)
        assert bytes(chainrule.get_rng_state().numpy()) == bytes(torch.get_rng_state().numpy())
        chainrule.randn(3, dtype=chainrule.float64)  # leaves a cached normal sample
        torch.randn(3, dtype=torch.float64)
        chainrule.rand(700)
        torch.rand(700)
        assert bytes(chainrule.get_rng_state().numpy()) == bytes(torch.get_rng_state().numpy())
    torch.manual_seed(11)
    torch.randn(5, dtype=torch.float64)
    chainrule.set_rng_state(chainrule.tensor(torch.get_rng_state().numpy()))
    assert chainrule.randn(4).tolist() == torch.randn(4).tolist()
    torch.set_rng_state(torch.from_numpy(chainrule.get_rng_state().numpy()))
    assert chainrule.rand(3).tolist() == torch.rand(3).tolist()
    generator = chainrule.Generator()
    generator.set_state(chainrule.get_rng_state())
    assert chainrule.rand(2, generator=generator).tolist() == chainrule.rand(2).tolist()
    with pytest.raises(RuntimeError, match="5056"):
        chainrule.set_rng_state(chainrule.zeros(10, dtype=chainrule.uint8))


def test_a_generators_state_is_a_uint8_tensor_as_in_pytorch():
    ours, theirs = chainrule.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    state, expected = ours.get_state(), theirs.get_state()
    assert isinstance(state, chainrule.Tensor) and state.dtype == chainrule.uint8 and tuple(state.shape) == tuple(expected.shape)
    assert bytes(state.numpy()) == bytes(expected.numpy())
    kept = state.clone()
    first = chainrule.rand(3, generator=ours).tolist()
    assert not chainrule.equal(ours.get_state(), kept)
    ours.set_state(kept)
    assert chainrule.rand(3, generator=ours).tolist() == first == torch.rand(3, generator=theirs).tolist()
    assert chainrule.equal(chainrule.default_generator.get_state(), chainrule.get_rng_state())


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_gamma_family_draws_pytorchs_numbers(seed):
    """Marsaglia-Tsang as ATen runs it (α < 1 boosted; float32 and float64 constants as its
    literals give them), and the distributions built on it: Dirichlet and Beta (float64 gammas,
    side by side), Chi2, StudentT, FisherSnedecor, NegativeBinomial (then Poisson), Wishart (then
    PyTorch's redraw of the samples its inverted test flags). Dirichlet and Beta: below."""
    distributions = lambda lib: lib.distributions  # noqa: E731

    def calls(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [
                lib._standard_gamma(lib.tensor([0.3, 0.9, 1.0, 2.5, 7.0, 50.0]).expand(3, 6)),
                lib._standard_gamma(lib.tensor([0.3, 2.5], dtype=lib.float64)),
                distributions(lib).Gamma(lib.tensor([0.5, 9.0]), lib.tensor([2.0, 0.5])).sample((3,)),
                distributions(lib).Chi2(lib.tensor([3.0])).sample((4,)),
                distributions(lib).StudentT(lib.tensor([4.0])).sample((4,)),
                distributions(lib).FisherSnedecor(lib.tensor([3.0]), lib.tensor([5.0])).sample((3,)),
                distributions(lib).NegativeBinomial(lib.tensor([3.0, 10.0]), logits=lib.tensor([0.2, -0.5])).sample((4,)),
            ]

    same_draws(calls, seed)


def test_dirichlet_beta_and_wishart_draw_pytorchs_numbers():
    """PyTorch's _sample_dirichlet draws float64 gammas side by side and normalizes them in float64;
    chainrule draws the same gammas and normalizes in the sample's dtype (its gradient flows through
    the gammas); Wishart's Bartlett factor is drawn alike (then PyTorch's redraw of the samples its
    inverted test flags), its products rounded by another BLAS: the same numbers to float32's last
    bits, and the same words drawn."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(3)
        values = [
            lib.distributions.Dirichlet(lib.tensor([0.5, 2.0, 1.0])).sample((3,)),
            lib.distributions.Beta(lib.tensor([0.5, 2.0]), lib.tensor([3.0, 1.5])).sample((4,)),
            lib.distributions.Wishart(df=lib.tensor(5.0), covariance_matrix=lib.eye(3) * 2).sample((2,)),
        ]
        results.append(([value.numpy() for value in values], lib.rand(3).tolist()))
    (ours, our_next), (theirs, their_next) = results
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-6)
    assert our_next == their_next


@pytest.mark.parametrize("seed", SEEDS[:3])
@pytest.mark.parametrize("dtype", FLOATS)
def test_binomial_and_poisson_draw_pytorchs_counts(seed, dtype):
    """Inversion and BTRS (binomial, both sides of p = 1/2), the product method and PTRS (Poisson,
    both sides of rate 10): each uses as many uniforms as PyTorch's."""
    counts = [0.0, 1.0, 5.0, 20.0, 50.0, 100.0, 1000.0, 30.0]
    probs = [0.3, 0.9, 0.3, 0.7, 0.95, 0.4, 0.01, 1.2]
    rates = [0.0, 0.5, 3.0, 9.9, 10.0, 25.0, 300.0]
    same_draws(lambda lib: [
        lib.binomial(lib.tensor(counts, dtype=getattr(lib, dtype)).expand(6, 8), lib.tensor(probs, dtype=getattr(lib, dtype))),
        lib.poisson(lib.tensor(rates, dtype=getattr(lib, dtype)).expand(4, 7)),
        lib.distributions.Binomial(lib.tensor([5.0, 50.0]), logits=lib.tensor([0.3, -1.0])).sample((3,)),
        lib.distributions.Binomial(probs=0.9).sample((10,)),
        lib.distributions.Poisson(lib.tensor([1.5, 30.0])).sample((4,)),
    ], seed)


def test_low_rank_factorizations_draw_their_test_matrix_as_pytorch():
    """The Gaussian test matrix comes from the global stream: the values agree to rounding (LAPACK's
    QR and SVD may round otherwise) and the numbers drawn after them exactly."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        values = [
            lib.svd_lowrank(lib.rand(5, 4) @ lib.rand(4, 5), q=2)[1],
            lib.svd_lowrank(lib.randn(3, 7, dtype=lib.float64), q=2, niter=1, M=lib.ones(3, 7, dtype=lib.float64))[1],
            lib.pca_lowrank(lib.randn(10, 5), q=3)[1],
        ]
        results.append(([value.numpy() for value in values], lib.rand(3).tolist()))
    (ours, our_next), (theirs, their_next) = results
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-5)
    assert our_next == their_next


def test_uniform_refuses_a_reversed_range_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match=r"uniform_ expects to return a \[from, to\) range, but found from=2 > to=1"):
            lib.empty(3).uniform_(2, 1)


def test_gumbel_softmax_draws_pytorchs_noise():
    """gumbel_softmax's Gumbel noise is -log of PyTorch's exponential_ draws."""
    outputs = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        logits = lib.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
        outputs.append([lib.nn.functional.gumbel_softmax(logits, tau=0.5), lib.nn.functional.gumbel_softmax(logits, hard=True), lib.rand(2)])
    for ours, theirs in zip(*outputs):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
