"""How PyTorch's CPU kernels turn the Mersenne Twister's words into samples, on arrays.

Each function takes the ``MersenneTwister`` engine of a generator and returns a NumPy array,
drawing the same words in the same order as PyTorch and applying the same arithmetic
(``aten/src/ATen/core/TransformationHelper.h``, ``DistributionsHelper.h``,
``native/cpu/DistributionTemplates.h``), so the samples equal PyTorch's for the same seed:

- uniform float32 (and float16): one word, its low 24 bits · 2^-24; float64: one 64-bit value,
  its low 53 bits · 2^-53; then x · (to - from) + from, fused into one rounding.
- normal: for 16 or more contiguous elements, uniforms first, then Box-Muller on blocks of 16
  (element j with element j + 8), the last block redrawn when 16 does not divide the size;
  for fewer, or a tensor not contiguous, each element from two 53-bit uniforms, the second
  sample kept for the next draw.
- integers in [from, to): word % (to - from) + from, a 64-bit value once the range reaches 2^28.
"""
import math

from chainrule import avx_mathfun
from chainrule.backend import c_library_math, ignoring_float_errors, xp

float32, float64 = xp.float32, xp.float64
_WIDE_RANGE = 1 << 28  # from this range on, integers come from 64-bit values


def _mantissa_digits(dtype):
    return xp.finfo(dtype).nmant + 1


def _fused64(a, b, c):
    """a · b + c rounded once, in float64 (the fused multiply-add PyTorch's compiled code uses):
    the product's rounding error is recovered exactly by Dekker's splitting, then added back."""
    if not xp.isfinite(b).all():  # an infinite scale (normal(0, inf)): no error to recover, the splitting would give nan
        with ignoring_float_errors():
            return a * b + c
    product = a * b
    split = 134217729.0  # 2^27 + 1
    a_high = (split * a) - ((split * a) - a)
    b_high = (split * b) - ((split * b) - b)
    product_error = (((a_high * b_high - product) + a_high * (b - b_high)) + (a - a_high) * b_high) + (a - a_high) * (b - b_high)
    total = product + c
    virtual = total - product
    sum_error = (product - (total - virtual)) + (c - virtual)
    return total + (sum_error + product_error)


def standard_uniform(engine, count, dtype):
    """``count`` samples of U[0, 1) as float64: for float64, the low 53 bits of 64-bit values
    times 2^-53; for the other dtypes (float16 too), the low 24 bits of one word times 2^-24."""
    if xp.dtype(dtype) == float64:
        return (engine.words64(count) & xp.uint64((1 << 53) - 1)).astype(float64) * 2.0**-53
    return (engine.words(count) & xp.uint64((1 << 24) - 1)).astype(float64) * 2.0**-24


def uniform(engine, shape, low, high, dtype):
    """Samples of U[low, high) (``uniform_``, ``rand``): x · (high - low) + low, with low, high and
    the arithmetic in ``dtype`` (float16 in float32). A sample that rounds up to ``high`` in
    ``dtype`` (float16 often: 24 random bits, 11 kept) becomes ``low``, as in PyTorch: the
    interval stays half-open."""
    count = math.prod(shape)
    x = standard_uniform(engine, count, dtype)
    if xp.dtype(dtype) == float64:
        values = _fused64(x, float64(high) - float64(low), float64(low))
    else:
        low, high = float32(xp.dtype(dtype).type(low)), float32(xp.dtype(dtype).type(high))
        values = avx_mathfun.fused(x, high - low, low)  # x has at most 24 bits: the product is exact
    values = values.astype(dtype)
    values[values == xp.dtype(dtype).type(high)] = low
    return values.reshape(shape)


def normal(engine, shape, mean, std, dtype):
    """Samples of N(mean, std²) (``normal_``, ``randn``) for a contiguous tensor, by PyTorch's two
    paths (see the module): in blocks of 16 from 16 elements on, else one by one."""
    count = math.prod(shape)
    if count >= 16:
        return _normal_in_blocks(engine, count, mean, std, dtype).reshape(shape)
    return normal_one_by_one(engine, shape, mean, std, dtype)


def normal_one_by_one(engine, shape, mean, std, dtype):
    """Samples of N(mean, std²) each from PyTorch's single-sample normal (``standard_normal_pairs``)
    in float64, then cast: its path for fewer than 16 elements and for a tensor not contiguous."""
    values = _fused64(standard_normal_pairs(engine, math.prod(shape)), float64(std), float64(mean))
    return values.astype(dtype).reshape(shape)


def standard_normal_pairs(engine, count):
    """``count`` samples of N(0, 1) as float64, PyTorch's ``normal_distribution<double>``: each
    pair from u1, u2 of U[0, 1) (53 bits): r = √(-2 log1p(-u2)), θ = 2π u1, r cos θ first, then
    r sin θ, which the engine keeps (``next_double_normal``) when the count ends inside a pair."""
    values = []
    if count and engine.next_double_normal is not None:
        values.append(xp.asarray([engine.next_double_normal]))
        engine.next_double_normal = None
        count -= 1
    pairs = (count + 1) // 2
    uniforms = standard_uniform(engine, 2 * pairs, float64).reshape(pairs, 2)
    radius = xp.sqrt(-2.0 * c_library_math("log1p", -uniforms[:, 1]))
    theta = 2.0 * math.pi * uniforms[:, 0]
    both = xp.stack([radius * c_library_math("cos", theta), radius * c_library_math("sin", theta)], axis=1).reshape(-1)
    if count % 2:
        engine.next_double_normal = float(both[-1])
        both = both[:-1]
    values.append(both)
    return xp.concatenate(values)


_BOX_MULLER_AT_ONCE = 16 * 2**12  # uniforms turned into normal samples together (blocks are independent)


def _normal_in_blocks(engine, count, mean, std, dtype):
    """PyTorch's ``normal_fill``: count uniforms, Box-Muller on each block of 16 (u1 = 1 - x[j],
    u2 = x[j + 8]), and, when 16 does not divide count, 16 fresh uniforms for a last block that
    overlaps the one before. float16 is computed as float32, then rounded; its kernel draws the
    uniforms block by block: none for the elements that the last block covers again."""
    working = xp.dtype(float64 if xp.dtype(dtype) == float64 else float32)
    whole = count - count % 16
    first_pass = whole if xp.dtype(dtype) == xp.float16 else count
    uniforms = standard_uniform(engine, first_pass + (16 if count % 16 else 0), working).astype(working)
    values = xp.empty(count, working)
    for start in range(0, whole, _BOX_MULLER_AT_ONCE):  # a part at a time: its temporaries stay in cache
        end = min(start + _BOX_MULLER_AT_ONCE, whole)
        values[start:end] = _box_muller_blocks(uniforms[start:end], mean, std, working)
    if count % 16:
        values[count - 16:] = _box_muller_blocks(uniforms[first_pass:], mean, std, working)
    return values.astype(dtype)


def _box_muller_blocks(uniforms, mean, std, dtype):
    """Normal samples from blocks of 16 uniforms: element j and j + 8 of a block become
    r cos θ and r sin θ with r = √(-2 log(1 - x[j])) and θ = 2π x[j + 8]; then · std + mean.
    float32 uses PyTorch's vectorized float32 log and sincos, float64 the C library's."""
    blocks = uniforms.reshape(-1, 2, 8)
    if dtype == float32:
        radius = xp.sqrt(float32(-2) * avx_mathfun.log(float32(1) - blocks[:, 0]))
        sin, cos = avx_mathfun.sincos(float32(2 * math.pi) * blocks[:, 1])
        scaled = [avx_mathfun.fused(radius * value, float32(std), float32(mean)) for value in (cos, sin)]
    else:
        radius = xp.sqrt(-2 * c_library_math("log", 1 - blocks[:, 0]))
        theta = 2 * math.pi * blocks[:, 1]
        scaled = [_fused64(radius * c_library_math(name, theta), float64(std), float64(mean)) for name in ("cos", "sin")]
    return xp.stack(scaled, axis=1).reshape(-1)


def full_64_bit_integers(engine, shape, dtype):
    """``random_(-2**63, None)``: integers of the whole int64 range, a 64-bit value each read as
    int64, then cast (rounded for a floating dtype)."""
    return engine.words64(math.prod(shape)).view(xp.int64).astype(dtype).reshape(shape)


def integers(engine, shape, low, high, dtype):
    """Integers of U{low, ..., high - 1} (``random_(from, to)``, ``randint``): word % range + low,
    the word a 64-bit value once the range reaches 2^28."""
    count, span = math.prod(shape), high - low
    words = engine.words64(count) if span >= _WIDE_RANGE else engine.words(count)
    offsets = words % xp.uint64(span)
    return _offset_to_dtype(offsets, low, dtype).reshape(shape)


def _offset_to_dtype(offsets, low, dtype):
    """low + offsets (uint64, below 2^64) as ``dtype``, computed in 64-bit integers as PyTorch's
    ``static_cast<int64_t>(val % range + base)``: wrapping modulo 2^64."""
    values = (offsets + xp.uint64(low % 2**64)).view(xp.int64)
    return values.astype(dtype)


def full_range_integers(engine, shape, dtype):
    """``random_()`` without bounds: integers of [0, max] for an integer dtype (one word, two for
    int64), of [0, 2^digits] for a floating one (two words for float64), 0 or 1 for bool."""
    dtype, count = xp.dtype(dtype), math.prod(shape)
    if dtype == xp.bool_:
        return (engine.words(count) & xp.uint64(1)).astype(dtype).reshape(shape)
    wide = dtype in (xp.dtype(xp.int64), xp.dtype(float64))
    words = engine.words64(count) if wide else engine.words(count)
    bound = 2 ** _mantissa_digits(dtype) + 1 if dtype.kind == "f" else int(xp.iinfo(dtype).max) + 1
    return (words % xp.uint64(bound)).astype(dtype).reshape(shape)


def permutation(engine, n):
    """A random permutation of 0..n-1 (``randperm``), PyTorch's Fisher-Yates shuffle: for i = 0 ..
    n-2, swap element i with element i + (word % (n - i)). The swaps depend on one another, so
    they run one by one; the words and offsets are drawn at once."""
    if n >= 2**32 // 20:
        raise NotImplementedError(f"randperm: n = {n} is too large (PyTorch switches to another shuffle above 2^32 / 20)")
    offsets = (engine.words(max(n - 1, 0)) % xp.arange(n, 1, -1, dtype=xp.uint64)).tolist()
    order = list(range(n))
    for i, offset in enumerate(offsets):
        j = i + offset
        order[i], order[j] = order[j], order[i]
    return xp.asarray(order, dtype=xp.int64)


def bernoulli(engine, probabilities, double_precision):
    """1 where a uniform sample falls below the probability, else 0, elementwise: the uniform of
    float64 precision (two words) when the probabilities are float64 or a number, else of float32
    (one word), compared in that precision."""
    probabilities = xp.asarray(probabilities)
    count = probabilities.size
    if double_precision:
        return standard_uniform(engine, count, float64).reshape(probabilities.shape) < probabilities.astype(float64)
    return standard_uniform(engine, count, float32).astype(float32).reshape(probabilities.shape) < probabilities.astype(float32)


def exponential(engine, shape, rate, dtype):
    """Samples of the exponential distribution (``exponential_``): -log1p(-u) / rate, u of U[0, 1)
    with 53 bits, in float64, then cast."""
    u = standard_uniform(engine, math.prod(shape), float64)
    return (-1.0 / rate * c_library_math("log1p", -u)).astype(dtype).reshape(shape)


def multinomial_with_replacement(engine, weights, num_samples):
    """PyTorch's multinomial with replacement: for each row, the running sum of the weights
    (in the weights' dtype) divided by the total, the last set to 1; each sample is the first
    category whose cumulative value is not below a U[0, 1) draw (53 bits)."""
    cumulative = xp.cumsum(weights, axis=1, dtype=weights.dtype)
    totals = cumulative[:, -1:].copy()
    cumulative = cumulative / totals
    cumulative[:, -1] = 1
    draws = standard_uniform(engine, weights.shape[0] * num_samples, float64).reshape(weights.shape[0], num_samples)
    return xp.stack([xp.searchsorted(row, draw, side="left") for row, draw in zip(cumulative.astype(float64), draws)]).astype(xp.int64)


def geometric(engine, shape, p, dtype):
    """Samples of the geometric distribution (``geometric_``): ⌈log u / log1p(-p)⌉, u of U[0, 1)
    with 53 bits, in float64, then cast."""
    u = standard_uniform(engine, math.prod(shape), float64)
    with ignoring_float_errors():  # u = 0 gives log 0 = -inf and the sample inf, as PyTorch's
        return xp.ceil(c_library_math("log", u) / math.log1p(-p)).astype(dtype).reshape(shape)


def log_normal(engine, shape, mean, std, dtype):
    """Samples of e^N(mean, std²) (``log_normal_``): each from PyTorch's single-sample normal
    (``standard_normal_pairs``), in float64, then cast."""
    normal_values = _fused64(standard_normal_pairs(engine, math.prod(shape)), float64(std), float64(mean))
    return c_library_math("exp", normal_values).astype(dtype).reshape(shape)


def cauchy(engine, shape, median, sigma, dtype):
    """Samples of the Cauchy distribution (``cauchy_``): median + sigma · tan(π (u - ½)), u of
    U[0, 1) with 53 bits, in float64, then cast."""
    u = standard_uniform(engine, math.prod(shape), float64)
    return (median + sigma * c_library_math("tan", math.pi * (u - 0.5))).astype(dtype).reshape(shape)


def dropout_mask(engine, shape, p, dtype):
    """PyTorch's CPU dropout noise for 0 < p < 1: ``bernoulli_(1 - p)`` (keep where a 53-bit uniform
    falls below 1 - p), then divided by 1 - p in ``dtype``."""
    keep = (standard_uniform(engine, math.prod(shape), float64) < 1.0 - p).reshape(shape).astype(dtype)
    return keep / xp.dtype(dtype).type(1.0 - p)


def rrelu_slopes(engine, x, lower, upper):
    """PyTorch's CPU ``rrelu`` noise in training: for each element x ≤ 0, in row-major order, a
    slope from U(lower, upper) as its ``uniform_real_distribution<double>`` draws it (53 bits of a
    64-bit value, · (upper - lower) + lower in float64 with the bounds first rounded to x's dtype),
    then rounded to x's dtype; every other element (x > 0, nan) draws nothing and keeps slope 1.
    An array of x's shape and dtype (float32 or float64)."""
    dtype = x.dtype.type
    low, high = float64(dtype(lower)), float64(dtype(upper))
    drawing = (x <= 0).reshape(-1)
    slopes = xp.ones(x.size, dtype)
    slopes[drawing] = standard_uniform(engine, int(drawing.sum()), float64) * (high - low) + low
    return slopes.reshape(x.shape)


def _each_element(engine, sample, shaped_as, *columns):
    """``sample(draws, *values)`` for each element, ``columns`` holding its values in row-major
    order, as ATen's serial kernels visit them (a flattened array's NumPy scalars, where a sampler
    computes in the parameters' dtype; a list's Python floats), all from one ``_Draws``: an array
    of the shape and dtype of ``shaped_as``."""
    draws = _Draws(engine)
    samples = [sample(draws, *values) for values in zip(*columns)]
    draws.done()
    return xp.asarray(samples, dtype=shaped_as.dtype).reshape(shaped_as.shape)


class _Draws:
    """PyTorch's single draws, one at a time, for samplers that use an unknown number of them
    (binomial, Poisson, gamma): ``uniform()`` (53 bits of a 64-bit value) and ``normal()`` (its
    ``normal_distribution<double>``: Box-Muller on two uniforms, r = √(-2 log1p(-u2)), θ = 2π u1,
    r cos θ returned and r sin θ kept for the next). The values are read ahead in blocks without
    advancing the engine (``read_ahead``); ``done()`` advances it by exactly the values used and
    leaves the kept normal in it, as PyTorch's generator keeps it."""

    _BLOCK = 1024

    def __init__(self, engine):
        self.engine, self.used, self.values = engine, 0, []
        self.read = engine.read_ahead()
        self.kept_normal = engine.next_double_normal

    def uniform(self):
        if self.used == len(self.values):  # the next block: each value's low 53 bits times 2^-53 (exact in float64)
            self.values += ((self.read(self._BLOCK) & xp.uint64((1 << 53) - 1)).astype(xp.float64) * 2.0**-53).tolist()
        self.used += 1
        return self.values[self.used - 1]

    def normal(self):
        if self.kept_normal is not None:
            value, self.kept_normal = self.kept_normal, None
            return value
        u1, u2 = self.uniform(), self.uniform()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self.kept_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    def done(self):
        self.engine.words64(self.used)
        self.engine.next_double_normal = self.kept_normal


def binomial(engine, counts, probabilities):
    """PyTorch's ``binomial`` on the CPU: element after element (row-major), inversion when
    count · min(p, 1 - p) < 10 (the number of geometric waiting times, ⌈log u / log(1 - p)⌉, that
    fit in count trials), else Kachitvichyanukul and Schmeiser's BTRS rejection; for p > ½ the
    failures are drawn. Count and p in their dtype, the rest in float64, as ATen computes them."""
    counts, probabilities = xp.asarray(counts), xp.asarray(probabilities)
    return _each_element(engine, _binomial_one, counts, counts.reshape(-1), probabilities.reshape(-1))


def _binomial_one(draws, count, p):
    if count <= 0 or p <= 0:
        return 0.0
    if p >= 1:
        return float(count)
    if p <= 0.5:
        return _btrs(count, p, draws) if count * p >= 10 else _inversion(count, p, draws)
    q = type(p)(1.0 - float(p))
    return float(count) - (_btrs(count, q, draws) if count * q >= 10 else _inversion(count, q, draws))


def _inversion(count, p, draws):
    log_q = math.log1p(-float(p))
    waited, successes = 0.0, 0
    while True:
        u = draws.uniform()
        waited += math.ceil(math.log(u) / log_q) if u > 0 else math.inf
        if waited > count:
            return float(successes)
        successes += 1


#: log k! - (k + ½) log(k + 1) + (k + 1) - ½ log 2π for k = 0..9 (PyTorch's stirling_approx_tail table).
_STIRLING_TAILS = (0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509, 0.0166446911898211,
                   0.0138761288230707, 0.0118967099458917, 0.0104112652619720, 0.00925546218271273, 0.00833056343336287)


def _stirling_tail(k):
    if k <= 9:
        return _STIRLING_TAILS[int(k)]
    square = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / square) / square) / (k + 1)


def _btrs(count, p, draws):
    one = type(p)(1)
    spread = float(xp.sqrt(count * p * (one - p)))  # in the parameters' dtype, as ATen's
    b = 1.15 + 2.53 * spread
    a = -0.0873 + 0.0248 * b + 0.01 * float(p)
    c = float(count * p) + 0.5
    v_r = 0.92 - 4.2 / b
    r = float(p / (one - p))
    alpha = (2.83 + 5.1 / b) * spread
    m = math.floor(float((count + one) * p))
    n = float(count)
    while True:
        u = draws.uniform() - 0.5
        v = draws.uniform()
        us = 0.5 - abs(u)
        k = float(type(p)(math.floor((2 * a / us + b) * u + c)))
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b))
        upper = ((m + 0.5) * math.log((m + 1) / (r * (n - m + 1))) + (n + 1) * math.log((n - m + 1) / (n - k + 1))
                 + (k + 0.5) * math.log(r * (n - k + 1) / (k + 1)) + _stirling_tail(m) + _stirling_tail(n - m)
                 - _stirling_tail(k) - _stirling_tail(n - k))
        if v <= upper:
            return k


def poisson(engine, rates):
    """PyTorch's ``poisson`` on the CPU: element after element (row-major), each in float64 from
    its rate λ: for λ ≥ 10 Hörmann's transformed rejection (PTRS), else the count of uniforms
    whose running product stays above e^-λ."""
    rates = xp.asarray(rates)
    return _each_element(engine, _poisson_one, rates, rates.reshape(-1).tolist())  # (all of it in float64)


def _poisson_one(draws, rate):
    if rate >= 10:
        root, log_rate = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * root
        a = -0.059 + 0.02483 * b
        inverse_alpha = 1.1239 + 1.1328 / (b - 3.4)
        v_r = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = draws.uniform() - 0.5
            v = draws.uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + rate + 0.43)
            if us >= 0.07 and v <= v_r:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + math.log(inverse_alpha) - math.log(a / (us * us) + b) <= -rate + k * log_rate - math.lgamma(k + 1):
                return k
    if rate == 0:
        return 0
    threshold, product, count = math.exp(-rate), 1.0, 0
    while True:
        product *= draws.uniform()
        if product <= threshold:
            return count
        count += 1


def standard_gamma(engine, concentrations):
    """PyTorch's ``_standard_gamma`` on the CPU: Gamma(α, 1) for each α, element after element
    (row-major), by Marsaglia and Tsang's method (a normal x and a uniform u per try; α < 1 is
    boosted to α + 1 and scaled by u^(1/α)), the uniforms 53-bit, the normals PyTorch's single
    ``normal_distribution<double>`` draws; α and the constants computed from it in α's dtype (here
    for all elements at once: the same correctly rounded operations), the rest in float64, as ATen
    computes them; at least the dtype's smallest normal number."""
    alphas = xp.asarray(concentrations)
    kind = alphas.dtype.type
    flat = alphas.reshape(-1)
    boosted = flat < 1
    with ignoring_float_errors():  # 1/α for α = 0, whose sample is 0 without a draw
        exponents = (kind(1.0) / flat).astype(xp.float64)  # of the uniform that scales a boosted α's sample
        d = (xp.where(boosted, flat + kind(1.0), flat) - kind(_ONE_THIRD)).astype(xp.float64)
    constants = (boosted.tolist(), (flat == 0).tolist(), exponents.tolist(), d.tolist())
    samples = _each_element(engine, _gamma_one, alphas, *constants)
    return xp.maximum(samples, xp.finfo(samples.dtype).tiny)


# ATen's float literals (1.0f / 3.0f, 0.0331f), float32 whatever the dtype computed in
_ONE_THIRD = float(float32(1.0) / float32(3.0))
_SQUEEZE = float(float32(0.0331))


def _gamma_one(draws, boosted, zero, exponent, d):
    """One sample of Gamma(α, 1), from what ``standard_gamma`` computed of α: whether α < 1 was
    boosted, whether α is 0, 1/α, and d = α (boosted) - 1/3."""
    scale = 1.0
    if boosted:
        if zero:
            return 0.0
        scale *= (1.0 - draws.uniform()) ** exponent
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1.0 - draws.uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v
