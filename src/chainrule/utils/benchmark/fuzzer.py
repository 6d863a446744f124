"""``Fuzzer``: random but reproducible inputs for benchmarks, so that a timing is not tuned to the
one shape somebody happened to try.

A fuzzer is given parameters (``FuzzedParameter``: a name and a distribution to draw it from) and
tensors (``FuzzedTensor``: a size written with those names, and limits on the number of elements).
Each step of ``take(n)`` draws a value for every parameter, draws again when the values break a
limit, then builds each tensor: random values, and, by chance, a memory layout that is not
contiguous (a permuted copy) or strided (a slice with steps). All draws come from one
``numpy.random.RandomState`` seeded by ``seed``, and the tensors' values from chainrule's generator
seeded from it, in the order PyTorch draws them: the same seed gives the same sizes, layouts and
values as ``torch.utils.benchmark.Fuzzer``.
"""
import itertools
import math

import chainrule
from chainrule.backend import xp

__all__ = ["Fuzzer", "FuzzedParameter", "ParameterAlias", "FuzzedTensor"]

#: Tries per step before a fuzzer gives up finding parameters that meet every limit.
_MOST_TRIES = 1000


class _LogUniform:
    """Integers between ``low`` and ``high`` whose logarithm is uniform: 2 to a power drawn
    uniformly between log2(low) and log2(high), rounded down and kept within the bounds (rounding
    down can fall just below ``low``)."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, state):
        exponent = state.uniform(
            low=None if self.low is None else xp.log2(self.low),
            high=None if self.high is None else xp.log2(self.high),
        )
        value = int(2**exponent)
        if self.low is not None:
            value = max(value, self.low)
        if self.high is not None:
            value = min(value, self.high)
        return value


class _Uniform:
    """Uniform between ``low`` and ``high``: over the integers (both included) when both are ints,
    otherwise over the reals."""

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, state):
        if isinstance(self.low, int) and isinstance(self.high, int):
            return int(state.randint(low=self.low, high=self.high + 1))
        return state.uniform(low=self.low, high=self.high)


class _Choice:
    """One key of ``{value: probability}``, drawn with its probability."""

    def __init__(self, probabilities):
        if any(probability < 0 for probability in probabilities.values()):
            raise AssertionError("Probabilities cannot be negative")
        # PyTorch 2.13 inverts this test (it refuses exactly the dicts that sum to one, and then
        # NumPy refuses the others); chainrule applies the documented rule.
        if abs(sum(probabilities.values()) - 1) > 1e-5:
            raise AssertionError("Distribution is not normalized")
        self.values = list(probabilities)
        self.probabilities = tuple(probabilities.values())

    def __call__(self, state):
        # Drawing a position rather than a key keeps the keys as they are (NumPy would turn them
        # into its own scalars, and cannot hold a ParameterAlias).
        return self.values[state.choice(xp.arange(len(self.values)), p=self.probabilities)]


def _distribution(distribution, minval, maxval):
    """The drawing function for a ``FuzzedParameter``'s arguments (checked as PyTorch checks them)."""
    if isinstance(distribution, dict):
        choice = _Choice(distribution)
        for bound, value in (("minval", minval), ("maxval", maxval)):
            if value is not None:
                raise AssertionError(f"When passing a custom distribution, '{bound}' must be None")
        return choice
    kinds = {"loguniform": _LogUniform, "uniform": _Uniform}
    if distribution not in kinds:
        raise AssertionError(f"Unknown distribution: {distribution}")
    return kinds[distribution](minval, maxval)


class FuzzedParameter:
    """A parameter drawn afresh at each step of a ``Fuzzer``.

    ``distribution`` is one of:

    * ``"loguniform"``: an integer between ``minval`` and ``maxval`` (inclusive), uniform in its
      logarithm, so that [1, 10) is as likely as [10, 100): sizes of every magnitude appear;
    * ``"uniform"``: uniform between ``minval`` and ``maxval``, over the integers when both are
      ints (both ends included), else over the reals;
    * a dict ``{value: probability}`` (probabilities summing to one; ``minval`` and ``maxval``
      left unset): one of its keys. A key can be a ``ParameterAlias``, to copy another parameter.

    A ``strict`` parameter keeps its first draw of a step while the fuzzer draws the others again
    to meet the tensors' limits, so that those limits do not skew its distribution (a tight
    element limit would otherwise favour tensors of few dimensions).
    """

    def __init__(self, name, minval=None, maxval=None, distribution=None, strict=False):
        self._name = name
        self._draw = _distribution(distribution, minval, maxval)
        self.strict = strict

    @property
    def name(self):
        return self._name

    def sample(self, state):
        """One value, drawn from ``state`` (a ``numpy.random.RandomState``)."""
        return self._draw(state)


class ParameterAlias:
    """A parameter value that copies another parameter's value (named by ``alias_to``).

    As a choice in a dict distribution it lets tensors sometimes share a size, for instance to
    produce broadcasting and non-broadcasting pairs from one fuzzer::

        FuzzedParameter("y_len", distribution={1: 0.5, ParameterAlias("x_len"): 0.5})

    Aliases may point at aliases, but not in a cycle.
    """

    def __init__(self, alias_to):
        self.alias_to = alias_to

    def __repr__(self):
        return f"ParameterAlias[alias_to: {self.alias_to}]"


def _is_inexact(dtype):
    return dtype.is_floating_point or dtype.is_complex


def _bytes_per_element(dtype):
    """Bytes per element of ``dtype``, as the fuzzer's allocation limit counts them (PyTorch counts
    a complex element by its real part's size)."""
    if dtype == chainrule.bool:
        return 1
    return (chainrule.finfo(dtype) if _is_inexact(dtype) else chainrule.iinfo(dtype)).bits // 8


def _over(value, bound):
    """Whether ``value`` is over ``bound``; nothing is over a missing bound (None)."""
    return value is not None and bound is not None and value > bound


def _product(lengths):
    return math.prod(int(length) for length in lengths)  # Python ints: no overflow


class FuzzedTensor:
    """A tensor made at each step of a ``Fuzzer``, from the step's parameters.

    ``size`` (and ``steps``, the stride of a slice per dimension) hold ints and parameter names.
    With steps, a tensor of ``size * steps`` is made and sliced with those steps, so its memory
    is strided. ``dim_parameter`` names a parameter that gives the number of dimensions: ``size``
    and ``steps`` are cut to it, or padded with ones. With probability
    ``1 - probability_contiguous`` the tensor is copied in a random order of dimensions and
    permuted back, so that it has the same shape and values but is not contiguous.

    ``min_elements``, ``max_elements`` and ``max_allocation_bytes`` (the tensor before slicing)
    are limits that make the fuzzer draw the parameters again. ``tensor_constructor(size=...,
    dtype=..., **params)`` replaces the default values (``rand`` for floating dtypes, integers in
    [1, 127) otherwise). chainrule computes on the CPU, so ``cuda`` is accepted and has no
    effect; ``roll_parameter`` is accepted and unused, as in PyTorch.
    """

    def __init__(
        self,
        name,
        size,
        steps=None,
        probability_contiguous=0.5,
        min_elements=None,
        max_elements=None,
        max_allocation_bytes=None,
        dim_parameter=None,
        roll_parameter=None,
        dtype=chainrule.float32,
        cuda=False,
        tensor_constructor=None,
    ):
        self._name = name
        self._dtype = dtype
        self._shape_entries = (size, steps or (), dim_parameter)
        self._chance_contiguous = probability_contiguous
        self._limits = (min_elements, max_elements, max_allocation_bytes)
        self._construct = tensor_constructor or self.default_tensor_constructor

    @property
    def name(self):
        return self._name

    @staticmethod
    def default_tensor_constructor(size, dtype, **kwargs):
        """Uniform values in [0, 1) for a floating dtype, integers from 1 to 126 otherwise."""
        if _is_inexact(dtype):
            return chainrule.rand(size=size, dtype=dtype, device="cpu")
        return chainrule.randint(1, 127, size=size, dtype=dtype, device="cpu")

    def _shape(self, params):
        """The concrete size, steps, and size before slicing (size times steps) for ``params``."""
        size, steps, dim_parameter = self._shape_entries
        dims = len(size) if dim_parameter is None else params[dim_parameter]

        def concrete(entries):
            values = tuple(params.get(entry, entry) for entry in entries)[:dims]
            return values + (1,) * (dims - len(values))

        size, steps = concrete(size), concrete(steps)
        return size, steps, tuple(length * step for length, step in zip(size, steps))

    def satisfies_constraints(self, params):
        """Whether ``params`` give this tensor a size within its limits."""
        size, _, allocated = self._shape(params)
        elements = _product(size)
        if elements < 0:
            raise AssertionError("Computed number of elements is negative")
        allocated_bytes = _product(allocated) * _bytes_per_element(self._dtype)
        least, most, most_bytes = self._limits
        return not (_over(elements, most) or _over(least, elements) or _over(allocated_bytes, most_bytes))

    def _build(self, params, state):
        """This step's tensor and its properties: ``numel``, ``order`` (the dimensions' order in
        memory), ``steps``, ``is_contiguous`` and ``dtype``."""
        size, steps, allocated = self._shape(params)
        tensor = self._construct(size=allocated, dtype=self._dtype, **params)

        dims = len(size)
        order = xp.arange(dims)
        if state.rand() > self._chance_contiguous:
            # Lay the memory out in a random order of dimensions (never the given one), keeping
            # the shape: copy a permutation of the tensor, then view it permuted back.
            while dims > 1 and (order == xp.arange(dims)).all():
                order = state.permutation(tensor.dim())
            tensor = tensor.permute(tuple(order)).contiguous().permute(tuple(xp.argsort(order)))

        sliced = tensor[tuple(slice(0, length * step, step) for length, step in zip(size, steps))]
        return sliced, dict(
            numel=sliced.numel(), order=order, steps=steps, is_contiguous=sliced.is_contiguous(), dtype=str(self._dtype)
        )


class Fuzzer:
    """Draws parameters and makes tensors from them, reproducibly for a given ``seed``.

    ``parameters`` and ``tensors`` are lists of ``FuzzedParameter`` and ``FuzzedTensor`` (or of
    lists of them, which are flattened). ``constraints`` are functions of the parameter dict that
    return False to reject a draw. ``take(n)`` yields ``n`` steps of ``(tensors,
    tensor_properties, params)``, dicts keyed by name. Without a seed one is drawn at random.
    """

    def __init__(self, parameters, tensors, constraints=None, seed=None):
        if seed is None:
            seed = int(xp.random.RandomState().randint(0, 2**32 - 1, dtype=xp.int64))
        self._seed = seed
        self._parameters = self._flattened(parameters, FuzzedParameter)
        self._tensors = self._flattened(tensors, FuzzedTensor)
        self._constraints = tuple(constraints or ())
        shared_names = {p.name for p in self._parameters} & {t.name for t in self._tensors}
        if shared_names:
            raise ValueError(f"Duplicate names in parameters and tensors: {shared_names}")
        self._drawn = self._rejected = 0

    @staticmethod
    def _flattened(items, kind):
        return tuple(itertools.chain.from_iterable([item] if isinstance(item, kind) else item for item in items))

    def take(self, n):
        """``n`` steps of ``(tensors, tensor_properties, params)``; every call starts again from
        the seed, so it yields the same steps."""
        state = xp.random.RandomState(self._seed)
        chainrule.manual_seed(state.randint(low=0, high=2**63, dtype=xp.int64))
        for _ in range(n):
            params = self._draw_params(state)
            tensors, properties = {}, {}
            for fuzzed in self._tensors:
                tensors[fuzzed.name], properties[fuzzed.name] = fuzzed._build(params, state)
            yield tensors, properties, params

    @property
    def rejection_rate(self):
        """The share of drawn parameter sets rejected so far by a constraint or a tensor's limits."""
        return self._rejected / self._drawn if self._drawn else 0.0

    def _acceptable(self, params):
        return all(constraint(params) for constraint in self._constraints) and all(
            fuzzed.satisfies_constraints(params) for fuzzed in self._tensors
        )

    def _draw_params(self, state):
        """Draw parameters until they meet every constraint and every tensor's limits (strict
        parameters are drawn once per step)."""
        kept = {}
        for _ in range(_MOST_TRIES):
            params = {}
            for parameter in self._parameters:
                if not parameter.strict:
                    params[parameter.name] = parameter.sample(state)
                else:
                    if parameter.name not in kept:
                        kept[parameter.name] = parameter.sample(state)
                    params[parameter.name] = kept[parameter.name]
            params = _with_aliases_resolved(params)
            self._drawn += 1
            if self._acceptable(params):
                return params
            self._rejected += 1
        raise ValueError("Failed to generate a set of valid parameters.")


def _with_aliases_resolved(params):
    """``params`` with every ``ParameterAlias`` replaced by the value it points at.

    In rounds: each alias takes what its target holds now (perhaps another alias, resolved in a
    later round). A round that resolves no alias means they point at one another.
    """
    resolved = dict(params)

    def aliases_left():
        return sum(isinstance(value, ParameterAlias) for value in resolved.values())

    left = aliases_left()
    while left:
        for name, value in resolved.items():
            if isinstance(value, ParameterAlias):
                resolved[name] = resolved[value.alias_to]
        if aliases_left() == left:
            raise ValueError(f"ParameterAlias cycle detected\n{resolved}")
        left = aliases_left()
    return resolved
