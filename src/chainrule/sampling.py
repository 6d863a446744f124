"""Random samples from distributions: ``normal`` and ``bernoulli`` with tensor parameters,
``multinomial``, ``poisson``, ``binomial``, ``randint_like``, and the in-place fills (``x.normal_()``, ``x.uniform_()``, ``x.random_()``,
``x.exponential_()``, ``x.bernoulli_()``, ``x.geometric_()``, ``x.log_normal_()``, ``x.cauchy_()``).

Every sampler draws from the generator seeded by ``manual_seed``, or from ``generator=`` when given,
with PyTorch's CPU algorithms (``sampling_algorithms.py``), so the samples equal PyTorch's for the
same seed. No sample has a gradient: drawing is not differentiable.
"""
import functools
import math

from chainrule import creation, dtypes, memory_layout, sampling_algorithms
from chainrule.autograd.function import checked, read_into_python
from chainrule.backend import MetaArray, as_array, xp
from chainrule.ops.elementwise import copy_from
from chainrule.ops.broadcast import common_shape
from chainrule.ops.complex_numbers import view_as_real
from chainrule.ops.inplace import write_in_place
from chainrule.ops.op import Op
from chainrule.ops.registry import SAME_DTYPE, install_method, public
from chainrule.ops.special_extra import standard_gamma
from chainrule.ops.sort import top_positions
from chainrule.random import drawn, engine_of
from chainrule.device import on_meta
from chainrule.tensor import Tensor, tensor_from_array


def _values(parameter):
    return parameter._array if isinstance(parameter, Tensor) else parameter


#: The forms of ``normal`` PyTorch has, as its TypeError for any other lists them.
NORMAL_FORMS = (
    "(Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None), "
    "(Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None), "
    "(float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None), "
    "(float mean, float std, tuple of ints size, *, torch.Generator generator = None, Tensor out = None, "
    "torch.dtype dtype = None, torch.layout layout = None, torch.device device = None, bool pin_memory = False, "
    "bool requires_grad = False)"
)


def _as_float(value):
    """``value`` as a float where PyTorch takes it for one (a number, or a 0-d tensor not requiring
    grad); None otherwise."""
    if isinstance(value, Tensor):
        if value._array.ndim != 0 or value.requires_grad:
            return None
        read_into_python("a 0-d tensor taken as a float")
        return float(value._array)
    if isinstance(value, (int, float, xp.integer, xp.floating)) and not isinstance(value, bool):
        return float(value)
    return None


def _invalid_normal(*arguments, **keywords):
    given = [creation.argument_type_name(value) for value in arguments] + [f"{key}={creation.argument_type_name(value)}" for key, value in keywords.items()]
    return TypeError(f"normal() received an invalid combination of arguments - got ({', '.join(given)}), but expected one of: {NORMAL_FORMS}")


def _check_std(std):
    if isinstance(std, Tensor):  # (checked again on each call of a compiled step)
        checked(std.detach() >= 0, functools.partial(RuntimeError, "normal expects all elements of std >= 0.0"))
    elif not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_c_float(std)}")


def _c_float(value):
    """A float as PyTorch's C++ messages print it: ``-1``, ``0.5``, ``nan``."""
    return f"{float(value):g}"


def _floating_or_refused(dtype):
    dtype = xp.dtype(dtype)
    if dtype.kind not in "fc":
        raise NotImplementedError(
            f"\"normal_kernel_cpu\" not implemented for '{dtypes.scalar_type_name(dtype)}'; "
            f"normal samples need a floating dtype, e.g. .float()"
        )
    return dtype


class Normal(Op):
    """Drawing is not differentiable: the gradient with respect to mean and std is 0, as PyTorch's."""

    formula = "a sample of N(mean, std²), elementwise"
    derivatives = ("0", "0", None, None, None)

    @staticmethod
    def forward(ctx, mean, std, shape, dtype, generator):
        # PyTorch: N(0, std) then + mean for a number std; N(0, 1) then · std + mean for a tensor std
        if xp.ndim(std) == 0 and not isinstance(std, xp.ndarray):
            return sampling_algorithms.normal(engine_of(generator), shape, 0.0, std, dtype) + as_array(mean, dtype)
        return sampling_algorithms.normal(engine_of(generator), shape, 0.0, 1.0, dtype) * as_array(std, dtype) + as_array(mean, dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0, grad_output * 0, None, None, None


@public(method=False, out=True)
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=None):
    """Samples of N(mean, std²), in PyTorch's four forms: ``normal(mean_tensor, std_tensor)``
    (broadcast together), ``normal(mean_tensor, std=1.0)``, ``normal(mean, std_tensor)`` (the
    output has the tensor's shape and dtype; its gradient is 0), and
    ``normal(mean, std, size)`` with numbers (0-d tensors count as numbers), which alone takes
    ``dtype`` and ``requires_grad``."""
    meta = on_meta(device)
    if size is not None:
        mean_value, std_value = _as_float(mean), _as_float(std)
        if mean_value is None or std_value is None or not isinstance(size, (tuple, list)):
            raise _invalid_normal(mean, std, size=size)
        shape = creation.size_argument((size,), "normal", 3)
        dtype = _floating_or_refused(dtype if dtype is not None else dtypes.get_default_dtype())
        _check_std(std_value)
        if meta:
            return creation.on_meta_device(shape, dtype, requires_grad)
        result = tensor_from_array(drawn(sampling_algorithms.normal, generator, shape, mean_value, std_value, dtype))
        if requires_grad:
            result.requires_grad = True
        return result
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):
        raise _invalid_normal(mean, std)
    if dtype is not None or layout is not None or requires_grad is not None or pin_memory:
        keywords = {"dtype": dtype, "layout": layout, "requires_grad": requires_grad, "pin_memory": pin_memory}
        raise _invalid_normal(mean, std, **{key: value for key, value in keywords.items() if value is not None and value is not False})
    for value in (mean, std):
        if not isinstance(value, Tensor) and _as_float(value) is None:
            raise _invalid_normal(mean, std)
    like = mean if isinstance(mean, Tensor) else std
    dtype = _floating_or_refused(like._array.dtype)
    _check_std(std)
    shape = common_shape((xp.shape(_values(mean)), xp.shape(_values(std))), "normal")
    if meta or type(like._array) is MetaArray:  # (mixing a meta tensor with another is PyTorch's error)
        return creation.on_meta_device(shape, dtype, False)
    form = "NormalBackward3" if isinstance(mean, Tensor) and isinstance(std, Tensor) else (
        "NormalBackward1" if isinstance(mean, Tensor) else "NormalBackward2")
    return Normal.shown_as(form).apply(mean, std, shape, dtype, generator)


class Bernoulli(Op):
    """Drawing is not differentiable: probabilities that require grad get the gradient 0, and the
    sample requires grad, as PyTorch's (``BernoulliBackward0``)."""

    formula = "1 with probability p, else 0, elementwise"
    derivatives = ("0", None)

    @staticmethod
    def forward(ctx, p, sample):
        return sample

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0, None


@public(out=True)
def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``), else 0, elementwise; the output has input's dtype.
    As PyTorch's, a uniform sample of float64 precision is compared with a number ``p`` or float64
    probabilities, one of float32 precision with other probabilities."""
    if p is None:
        _require_floating_probabilities(input)
    elif not isinstance(p, Tensor):
        _check_probability(p)
    # a meta tensor's sample is one too: nothing is drawn
    sample = input._array if type(input._array) is MetaArray else drawn(_bernoulli_draws, generator, input._array, _values(p))
    if input.requires_grad:
        return Bernoulli.apply(input, sample)
    return tensor_from_array(sample)


def _bernoulli_draws(engine, input, p):
    """``bernoulli``'s draws (a compiled program draws them again, with the check, on each call)."""
    probabilities = input if p is None else xp.broadcast_to(as_array(p), input.shape)
    _check_probabilities(probabilities)
    double_precision = (p is not None and not isinstance(p, xp.ndarray)) or probabilities.dtype == xp.float64
    return sampling_algorithms.bernoulli(engine, probabilities, double_precision).astype(input.dtype)


def _check_probability(p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_c_float(p)}")


def _check_probabilities(probabilities):
    if not ((probabilities >= 0) & (probabilities <= 1)).all():  # nan fails both
        raise RuntimeError("bernoulli: all elements of the probabilities must be in [0, 1] (Expected p_in >= 0 && p_in <= 1); one is not, or is nan")


def _require_floating_probabilities(p):
    if p._array.dtype.kind != "f":
        raise NotImplementedError(
            f"\"bernoulli_tensor_cpu_p_\" not implemented for '{dtypes.scalar_type_name(p._array.dtype)}': "
            f"probabilities must be floating point, e.g. p.float()"
        )


@public(out=SAME_DTYPE)
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices of categories drawn with the (unnormalised, non-negative) weights in each row of
    ``input``: (categories,) -> (num_samples,), (rows, categories) -> (rows, num_samples), int64.

    Without ``replacement`` a category is drawn at most once, so ``num_samples`` may not exceed the
    number of categories; the categories of weight zero come last, once every other one is drawn, in
    the order PyTorch's CPU topk leaves them (PyTorch does not refuse them, though its documentation
    says so).
    """
    num_samples = creation.integer_argument(num_samples, "multinomial", "num_samples", 2)
    if num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (num_samples={num_samples})")
    weights = input._array
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim (multinomial: got shape {tuple(weights.shape)})")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {dtypes.scalar_type_name(weights.dtype)}")
    categories = weights.shape[-1]
    if not replacement and num_samples > categories:
        raise RuntimeError(f"cannot sample n_sample > prob_dist.size(-1) samples without replacement (multinomial: {num_samples} samples of {categories} categories)")
    if categories > 2**24:
        raise RuntimeError(f"number of categories cannot exceed 2^24 (got {categories}): multinomial draws in float32 precision")
    if weights.ndim == 2 and weights.shape[0] == 0:  # no rows: nothing to draw
        return tensor_from_array(xp.zeros((0, num_samples), dtype=xp.int64))
    return tensor_from_array(drawn(_multinomial_draws, generator, weights, num_samples, replacement))


def _multinomial_draws(engine, weights, num_samples, replacement):
    """``multinomial``'s draws, after its checks of the weights' values (a compiled program draws
    them again, with the checks, on each call)."""
    rows = weights.reshape(-1, weights.shape[-1]).astype(xp.float64)
    if not (xp.isfinite(rows).all() and (rows >= 0).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rows = weights.reshape(-1, weights.shape[-1])
    if replacement and num_samples > 1:
        samples = sampling_algorithms.multinomial_with_replacement(engine, rows, num_samples)
    else:
        # PyTorch's way without replacement: the num_samples largest of weight / Exp(1) (a
        # Gumbel-max trick), as its CPU topk picks them (the categories of weight 0 tie)
        keys = rows / sampling_algorithms.exponential(engine, rows.shape, 1.0, rows.dtype)
        if num_samples == 1:  # PyTorch's argmax: the first largest key
            samples = xp.argmax(keys, axis=1)[:, None]
        else:
            samples = top_positions(keys, 1, num_samples, largest=True)
    return samples.astype(dtypes.int64).reshape(weights.shape[:-1] + (num_samples,))


class Poisson(Op):
    """Drawing is not differentiable: the gradient with respect to the rates is 0, as PyTorch's."""

    formula = "a sample of Poisson(rate), elementwise"
    derivatives = ("0", None)

    @staticmethod
    def forward(ctx, rate, generator):
        return sampling_algorithms.poisson(engine_of(generator), rate)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0, None


@public(method=False)
def poisson(input, generator=None):
    """A count drawn from the Poisson distribution of rate (mean) ``input[i]`` for each element:
    input's shape and floating dtype. Rates must be non-negative."""
    if input._array.dtype.kind != "f":
        raise NotImplementedError(f'"poisson_cpu" not implemented for {input._array.dtype.name} tensors; convert it first, e.g. x.float()')
    checked(input.detach() >= 0, functools.partial(RuntimeError, "invalid Poisson rate, expected rate to be non-negative (nan is not)"))
    return Poisson.apply(input, generator)


@public(method=False)
def binomial(count, prob, generator=None):
    """The number of successes in ``count[i]`` trials of probability ``prob[i]``, drawn for each
    element of the broadcast shape (PyTorch's algorithms: ``sampling_algorithms.binomial``). Both
    floating, of one dtype; a probability of 1 or more gives the count."""
    if count._array.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: {dtypes.scalar_type_name(count._array.dtype)}")
    if prob._array.dtype != count._array.dtype:
        raise RuntimeError(
            f"Found dtype {dtypes.scalar_type_name(prob._array.dtype)} but expected {dtypes.scalar_type_name(count._array.dtype)} "
            f"(binomial: convert prob to count's dtype)"
        )
    counts, probabilities = xp.broadcast_arrays(count._array, prob._array)
    return tensor_from_array(drawn(sampling_algorithms.binomial, generator, counts, probabilities))


@public(method=False)
def _standard_gamma(input, generator=None):
    """``torch._standard_gamma``: a Gamma(input[i], 1) sample for each element, PyTorch's numbers,
    differentiable in ``input`` by the implicit gradient (see ``standard_gamma_samples``)."""
    return standard_gamma_samples(input, generator=generator)


def standard_gamma_samples(concentration, in_float64=False, generator=None):
    """Samples of Gamma(concentration, 1), one per entry, with the implicit gradient in concentration
    (kept at least the smallest positive float, as PyTorch does, so that their logarithm is finite).
    Drawn as PyTorch's ``_standard_gamma`` draws them (``sampling_algorithms.standard_gamma``), in
    float64 with ``in_float64`` (as its ``_sample_dirichlet`` does: the Dirichlet's and the Beta's)."""
    array = concentration.detach().numpy()
    draws = drawn(sampling_algorithms.standard_gamma, generator, array.astype(xp.float64) if in_float64 else array)
    draws = xp.asarray(xp.maximum(draws.astype(array.dtype), xp.finfo(array.dtype).tiny))  # (an array when 0-d too)
    return standard_gamma(concentration, draws)


@public(method=False)
def randint_like(input, low=None, high=None, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Integers drawn uniformly from [low, high) in input's shape and dtype (or ``dtype``):
    ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    if low is None and high is None:
        raise TypeError(
            f"randint_like() received an invalid combination of arguments - got ({type(input).__name__}), but expected "
            f"one of: (Tensor input, int low, int high, ...) or (Tensor input, int high, ...)"
        )
    if high is None:
        low, high = 0, creation.integer_argument(low, "randint_like", "high", 2)
    else:
        low = creation.integer_argument(0 if low is None else low, "randint_like", "low", 2)
        high = creation.integer_argument(high, "randint_like", "high", 3)
    shape, dtype = creation.like_shape_and_dtype(input, dtype, memory_format, "randint_like")
    low, high = creation.random_bounds(low, high, dtype)
    if creation.like_on_meta(input, device):
        return creation.on_meta_device(shape, dtype, requires_grad)

    def make(sizes):
        result = tensor_from_array(drawn(sampling_algorithms.integers, generator, sizes, low, high, dtype))
        if requires_grad:
            result.requires_grad = True
        return result

    return creation.made_like(input, memory_format, make, shape)


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` as an in-place change (recorded, so its old values get no gradient)."""
    return write_in_place(tensor, copy_from, tensor_from_array(as_array(values, tensor._array.dtype)))


def _fill_drawn(tensor, sample, generator, *arguments):
    """Fill ``tensor`` with ``sample(engine, shape, *arguments, dtype)``, drawn in the order its
    elements lie in memory, as PyTorch's kernels walk a tensor: ``x.t().uniform_()`` gives x the
    numbers ``x.uniform_()`` would. A meta tensor has no values to fill: nothing is drawn."""
    if type(tensor._array) is MetaArray:
        return tensor
    shape, dtype = tensor._array.shape, tensor._array.dtype
    order = memory_layout.dimension_order(tensor, memory_layout.preserve_format)
    if order is None:
        return _fill(tensor, drawn(sample, generator, shape, *arguments, dtype))
    return _fill(tensor, drawn(_drawn_in_order, generator, order, sample, shape, *arguments, dtype))


def _drawn_in_order(engine, order, sample, shape, *arguments):
    """``sample``'s numbers for a tensor of ``shape`` whose dimensions lie in memory in ``order``
    (outermost first): drawn in memory order, then read with the dimensions in shape's order. An
    array argument (``bernoulli_``'s probabilities) is expanded to the shape and read in that order too."""
    arguments = [xp.broadcast_to(argument, shape).transpose(order) if isinstance(argument, xp.ndarray) else argument for argument in arguments]
    in_memory = sample(engine, tuple(shape[dim] for dim in order), *arguments)
    return in_memory.transpose(xp.argsort(order))


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std²); a tensor not contiguous draws them one by one, as PyTorch's.
    Complex numbers get both parts drawn, each of N(mean, std²/2), as PyTorch draws them."""
    if self.is_complex():
        _check_std(std)
        normal_(view_as_real(self), mean, std / math.sqrt(2), generator)
        return self
    _require_floating(self, "normal_", NotImplementedError)
    _check_std(std)
    sample = sampling_algorithms.normal if self.is_contiguous() else sampling_algorithms.normal_one_by_one
    return _fill_drawn(self, sample, generator, mean, std)


def uniform_(self, low=0.0, high=1.0, generator=None):
    """Fill with samples of U(low, high); both bounds finite within the dtype, as PyTorch's.
    Complex numbers get both parts drawn from U(low, high), as PyTorch draws them."""
    if self.is_complex():
        uniform_(view_as_real(self), low, high, generator)
        return self
    _require_floating(self, "uniform_", NotImplementedError)
    largest = float(xp.finfo(self._array.dtype).max)
    name = creation.c_type_name(self._array.dtype)
    for label, bound in (("from", low), ("to", high)):
        if not -largest <= bound <= largest:
            raise RuntimeError(f"{label} is out of bounds for {name}: uniform_ takes finite bounds the dtype holds, got {label}={_c_float(bound)}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_c_float(low)} > to={_c_float(high)}")
    if high - low > largest:
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{dtypes.scalar_type_name(self._array.dtype)}>::max(), but found "
            f"to={_c_float(high)} and from={_c_float(low)} which result in to-from to exceed the limit"
        )
    return _fill_drawn(self, sampling_algorithms.uniform, generator, low, high)


#: PyTorch's forms of ``random_``, as its TypeError for any other lists them.
RANDOM_FORMS = "(*, torch.Generator generator = None), (int from, int to, *, torch.Generator generator = None), (int to, *, torch.Generator generator = None)"


def random_(self, *bounds, generator=None, **named_bounds):
    """Fill with integers drawn uniformly, in PyTorch's forms: ``random_(to)`` from [0, to),
    ``random_(from, to)`` from [from, to) (also as keywords ``to=`` and ``from=``), ``random_(from,
    None)`` from [from, the largest integer the dtype holds], and ``random_()`` from [0, max]
    for an integer dtype, [0, 2^mantissa digits] for a floating one."""
    low, high = _random_bounds_arguments(bounds, named_bounds)
    dtype = self._array.dtype
    if low is None:
        return _fill_drawn(self, sampling_algorithms.full_range_integers, generator)
    if high is None and low == -(2**63):
        if dtype in (xp.dtype(xp.float16), xp.dtype(xp.bool_)):
            raise NotImplementedError(f"\"random_full_64_bits_range_kernel_cpu\" not implemented for '{dtypes.scalar_type_name(dtype)}'")
        if dtype not in (xp.dtype(xp.int64), xp.dtype(xp.float32), xp.dtype(xp.float64)):
            raise RuntimeError(f"random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16, not {dtypes.dtype_name(dtype)}")
        return _fill_drawn(self, sampling_algorithms.full_64_bit_integers, generator)
    low, high = creation.random_bounds(low, high, dtype)
    return _fill_drawn(self, sampling_algorithms.integers, generator, low, high)


def _random_bounds_arguments(bounds, named_bounds):
    """``random_``'s (from, to) from its arguments: (None, None) for ``random_()``, to None for
    ``random_(from, None)``; PyTorch's TypeError for any other form or a bound that is no int."""
    if len(bounds) > 2:
        raise TypeError(f"random_() takes 2 positional arguments but {len(bounds)} were given")
    given = [*bounds, *(named_bounds[key] for key in ("from", "to") if key in named_bounds)]
    if not given and not named_bounds:
        return None, None
    low, high = given if len(given) == 2 else (0, given[-1] if given else None)  # random_(to)
    low, high = creation.as_integer(low), high if high is None and len(given) == 2 else creation.as_integer(high)
    from_without_to = "from" in named_bounds and (bounds or "to" not in named_bounds)
    if set(named_bounds) - {"from", "to"} or len(given) > 2 or from_without_to or low is None or (high is None and len(given) < 2):
        shown = [creation.argument_type_name(value) for value in bounds] + [f"{key}={creation.argument_type_name(value)}" for key, value in named_bounds.items()]
        raise TypeError(f"random_() received an invalid combination of arguments - got ({', '.join(shown)}), but expected one of: {RANDOM_FORMS}")
    for bound in (low, high):
        if bound is not None and not -(2**63) <= bound < 2**63:
            raise ValueError(f"Overflow when unpacking long long: random_'s bound {bound} does not fit in 64 bits")
    return low, high


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of the exponential distribution of rate ``lambd`` > 0 (mean 1 / lambd)."""
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_c_float(lambd)}")
    _require_floating(self, "exponential_")
    return _fill_drawn(self, sampling_algorithms.exponential, generator, lambd)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 at probability ``p`` (a number, or a tensor that broadcasts to this one's shape), else 0."""
    if not isinstance(p, Tensor):
        _check_probability(p)
        return _fill_drawn(self, _bernoulli_in_shape, generator, p)
    _require_floating_probabilities(p)
    if p._array.ndim > self._array.ndim or any(size not in (1, target) for size, target in zip(p._array.shape[::-1], self._array.shape[::-1])):
        raise RuntimeError(
            f"bernoulli_: the probabilities' shape {tuple(p._array.shape)} does not expand to the tensor's shape "
            f"{tuple(self._array.shape)}: the expanded size must match the existing size at each non-singleton dimension"
        )
    return _fill_drawn(self, _bernoulli_in_shape, generator, p._array)


def _bernoulli_in_shape(engine, shape, p, dtype):
    """``bernoulli_``'s draws for a tensor of ``shape``: a number ``p`` compared with uniforms of
    float64 precision; probabilities (an array of that shape) with ones of their own precision."""
    if not isinstance(p, xp.ndarray):
        return sampling_algorithms.bernoulli(engine, xp.full(shape, float(p)), True).astype(dtype)
    probabilities = xp.broadcast_to(p, shape)
    _check_probabilities(probabilities)
    return sampling_algorithms.bernoulli(engine, probabilities, p.dtype == xp.float64).astype(dtype)


def geometric_(self, p, *, generator=None):
    """Fill with samples of the geometric distribution: the number of Bernoulli(p) trials up to and
    including the first success (1, 2, 3, ...; mean 1 / p)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    if self._array.dtype.kind == "b":
        raise NotImplementedError("geometric_ is not implemented for 'Bool' tensors: its samples are counts 1, 2, 3...; use an integer or floating point tensor")
    return _fill_drawn(self, sampling_algorithms.geometric, generator, p)


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples of e^N(mean, std²): ``mean`` and ``std`` are those of the logarithm."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _require_floating(self, "log_normal_", NotImplementedError)
    return _fill_drawn(self, sampling_algorithms.log_normal, generator, mean, std)


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution median + sigma · tan(π (U - ½)) (no mean:
    its tails are too heavy)."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _require_floating(self, "cauchy_")
    return _fill_drawn(self, sampling_algorithms.cauchy, generator, median, sigma)


def _require_floating(tensor, operation, error=RuntimeError):
    """``error`` (the type PyTorch raises for this sampler) unless ``tensor`` is floating point, in
    PyTorch's words for the sampler."""
    dtype = tensor._array.dtype
    if dtype.kind != "f":
        words = _NOT_FLOATING_WORDS.get(operation, f"\"{operation[:-1]}_cpu\" not implemented for '{{type}}'")
        raise error(
            f"{words.format(type=dtypes.scalar_type_name(dtype), cpp=dtypes.cpp_type_name(dtype))} ({operation}: a "
            f"continuous distribution fills floating point tensors only; convert it first with .float())"
        )


_NOT_FLOATING_WORDS = {  # what PyTorch says where a continuous sampler meets an integer or bool tensor
    "normal_": "\"normal_kernel_cpu\" not implemented for '{type}'",
    "uniform_": "\"check_uniform_bounds\" not implemented for '{type}'",
    "exponential_": "Exponential distribution is a continuous probability distribution. dtype must be a floating point but you specified {type}",
    "cauchy_": "Cauchy distribution is a continuous probability distribution. dtype must be a floating point but you specified {cpp}",
}


for _sampler in (normal_, uniform_, random_, exponential_, bernoulli_, geometric_, log_normal_, cauchy_):
    install_method(_sampler.__name__, _sampler)
