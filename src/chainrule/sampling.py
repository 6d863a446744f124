"""Random samples from distributions: ``normal`` and ``bernoulli`` with tensor parameters,
``multinomial``, ``poisson``, ``randint_like``, and the in-place fills (``x.normal_()``, ``x.uniform_()``, ``x.random_()``,
``x.exponential_()``, ``x.bernoulli_()``, ``x.geometric_()``, ``x.log_normal_()``, ``x.cauchy_()``).

Every sampler draws from the generator seeded by ``manual_seed``, or from ``generator=`` when given
(the numbers differ from PyTorch's: the generators are different algorithms). No sample has a
gradient: drawing is not differentiable.
"""
from chainrule import dtypes
from chainrule.backend import as_array, xp
from chainrule.ops.elementwise import copy_from
from chainrule.ops.inplace import write_in_place
from chainrule.ops.op import Op
from chainrule.ops.registry import install_method, public
from chainrule.random import numpy_generator
from chainrule.device import check_device
from chainrule.tensor import Tensor, tensor_from_array


def _values(parameter):
    return parameter.array if isinstance(parameter, Tensor) else parameter


@public(method=False)
def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False, device=None):
    """Samples of N(mean, std²): ``mean`` and ``std`` numbers (then ``size`` is needed) or tensors
    (broadcast together; the output has their shape and floating dtype)."""
    check_device(device)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if isinstance(std, Tensor) and (std.array < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        like = mean if isinstance(mean, Tensor) else std
        shape = xp.broadcast_shapes(xp.shape(_values(mean)), xp.shape(_values(std)))
        dtype = dtype or (like.array.dtype if like.array.dtype.kind == "f" else dtypes.get_default_dtype())
    else:
        if size is None:
            raise TypeError("normal() with number mean and std needs a size, e.g. normal(0.0, 1.0, size=(2, 3))")
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
        shape = tuple(size)
        dtype = dtype or dtypes.get_default_dtype()
    samples = numpy_generator(generator).normal(_values(mean), _values(std), shape)
    result = tensor_from_array(as_array(samples, dtype))
    if requires_grad:
        result.requires_grad = True
    return result


@public
def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (or ``p``), else 0, elementwise; the output has input's dtype."""
    probabilities = input.array if p is None else xp.broadcast_to(as_array(_values(p)), input.array.shape)
    if ((probabilities < 0) | (probabilities > 1)).any():
        raise RuntimeError("bernoulli: all elements of the probabilities must be in [0, 1]")
    draws = numpy_generator(generator).random(input.array.shape) < probabilities
    return tensor_from_array(draws.astype(input.array.dtype))


@public
def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices of categories drawn with the (unnormalised, non-negative) weights in each row of
    ``input``: (categories,) -> (num_samples,), (rows, categories) -> (rows, num_samples), int64.

    Without ``replacement`` a category is drawn at most once, so ``num_samples`` may not exceed the
    number of categories with a nonzero weight.
    """
    weights = input.array
    if weights.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(weights.shape)}")
    if weights.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {dtypes.dtype_name(weights.dtype)}")
    rows = weights.reshape(-1, weights.shape[-1]).astype(xp.float64)
    if not (xp.isfinite(rows).all() and (rows >= 0).all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement:
        available = int((rows > 0).sum(axis=1).min())
        if num_samples > available:
            raise RuntimeError(
                f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                f"({num_samples} samples asked, a row has {available} categories with nonzero weight)"
            )
    draw = numpy_generator(generator).choice
    samples = [draw(row.size, size=num_samples, replace=replacement, p=row / row.sum()) for row in rows]
    result = xp.asarray(samples, dtype=dtypes.int64).reshape(weights.shape[:-1] + (num_samples,))
    return tensor_from_array(result)


class Poisson(Op):
    """Drawing is not differentiable: the gradient with respect to the rates is 0, as PyTorch's."""

    formula = "a sample of Poisson(rate), elementwise"
    derivatives = ("0", None)

    @staticmethod
    def forward(ctx, rate, generator):
        return as_array(numpy_generator(generator).poisson(rate), rate.dtype)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * 0, None


@public(method=False)
def poisson(input, generator=None):
    """A count drawn from the Poisson distribution of rate (mean) ``input[i]`` for each element:
    input's shape and floating dtype. Rates must be non-negative."""
    if input.array.dtype.kind != "f":
        raise NotImplementedError(f'"poisson_cpu" not implemented for {input.array.dtype.name} tensors; convert it first, e.g. x.float()')
    if (input.array < 0).any():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return Poisson.apply(input, generator)


@public(method=False)
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None, device=None, requires_grad=False, memory_format=None):
    """Integers drawn uniformly from [low, high) in input's shape and dtype (or ``dtype``):
    ``randint_like(x, high)`` or ``randint_like(x, low, high)``."""
    check_device(device)
    if high is None:
        low, high = 0, low
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    values = numpy_generator(generator).integers(low, high, input.array.shape)
    result = tensor_from_array(as_array(values, dtype or input.array.dtype))
    if requires_grad:
        result.requires_grad = True
    return result


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` as an in-place change (recorded, so its old values get no gradient)."""
    return write_in_place(tensor, copy_from, tensor_from_array(as_array(values, tensor.array.dtype)))


def normal_(self, mean=0.0, std=1.0, generator=None):
    """Fill with samples of N(mean, std²)."""
    return _fill(self, numpy_generator(generator).normal(mean, std, self.array.shape))


def uniform_(self, low=0.0, high=1.0, generator=None):
    """Fill with samples of U(low, high)."""
    return _fill(self, numpy_generator(generator).uniform(low, high, self.array.shape))


def random_(self, low=0, high=None, *, generator=None):
    """Fill with integers drawn uniformly from [low, high) (``random_(high)`` for [0, high); without
    bounds, [0, 2^mantissa] for floats as PyTorch)."""
    if high is None:
        low, high = (0, low) if low else (0, _default_random_bound(self.array.dtype))
    return _fill(self, numpy_generator(generator).integers(low, high, self.array.shape))


def _default_random_bound(dtype):
    if dtype.kind == "f":
        return 2 ** (xp.finfo(dtype).nmant + 1) + 1
    if dtype.kind == "b":
        return 2
    return int(xp.iinfo(dtype).max)


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of the exponential distribution of rate ``lambd`` (mean 1 / lambd)."""
    return _fill(self, numpy_generator(generator).exponential(1.0 / lambd, self.array.shape))


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 at probability ``p`` (a number or a tensor), else 0."""
    return _fill(self, bernoulli(self, p, generator=generator).array)


def geometric_(self, p, *, generator=None):
    """Fill with samples of the geometric distribution: the number of Bernoulli(p) trials up to and
    including the first success (1, 2, 3, ...; mean 1 / p)."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    return _fill(self, numpy_generator(generator).geometric(p, self.array.shape))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with samples of e^N(mean, std²): ``mean`` and ``std`` are those of the logarithm."""
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    _require_floating(self, "log_normal_")
    return _fill(self, numpy_generator(generator).lognormal(mean, std, self.array.shape))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with samples of the Cauchy distribution median + sigma · tan(π (U - ½)) (no mean:
    its tails are too heavy)."""
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    _require_floating(self, "cauchy_")
    return _fill(self, median + sigma * numpy_generator(generator).standard_cauchy(self.array.shape))


def _require_floating(tensor, operation):
    if tensor.array.dtype.kind != "f":
        raise RuntimeError(
            f"{operation}: a continuous distribution needs a floating point tensor, but it has dtype "
            f"{dtypes.dtype_name(tensor.array.dtype)}; convert it first with .float()"
        )


for _sampler in (normal_, uniform_, random_, exponential_, bernoulli_, geometric_, log_normal_, cauchy_):
    install_method(_sampler.__name__, _sampler)
