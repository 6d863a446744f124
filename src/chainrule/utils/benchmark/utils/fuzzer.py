"""``Fuzzer``: random sizes, and random tensors of those sizes, to time an operation on many shapes.

A ``FuzzedParameter`` draws a number (uniform, log-uniform, or from a table of choices); a
``FuzzedTensor`` builds a tensor whose size names those numbers, sometimes laid out in memory in
another order (so that it is not contiguous) or sliced with steps. ``Fuzzer.take(n)`` yields n sets,
each ``(tensors, tensor_properties, params)``, redrawing the numbers until every tensor's limits
(``min_elements``, ``max_elements``, ``max_allocation_bytes``) and every constraint hold::

    fuzzer = Fuzzer(
        parameters=[FuzzedParameter("k0", minval=1, maxval=1000, distribution="loguniform")],
        tensors=[FuzzedTensor("x", size=("k0", 64), min_elements=128, probability_contiguous=0.6)],
        seed=0,
    )
    for tensors, properties, params in fuzzer.take(10):
        ...  # tensors["x"]: (params["k0"], 64); properties["x"]["is_contiguous"]

The numbers come from NumPy's legacy ``RandomState`` seeded with ``seed``, as PyTorch's do, and the
tensors from chainrule's generator seeded from it (PyTorch's algorithm): the same seed gives the
same sizes, layouts and values as ``torch.utils.benchmark.Fuzzer``.
"""
import functools
import itertools

import chainrule
from chainrule.backend import fresh_seed, xp

__all__ = ["Fuzzer", "FuzzedParameter", "ParameterAlias", "FuzzedTensor"]

_DISTRIBUTIONS = ("loguniform", "uniform")


class FuzzedParameter:
    """A number each set draws anew, named ``name`` (tensors' sizes refer to it by that name).

    ``distribution``:
      - "loguniform": an integer in [minval, maxval], uniform in log space (as likely in [1, 10) as
        in [10, 100]);
      - "uniform": uniform in [minval, maxval]: integers when both are ints, else real numbers;
      - a dict {choice: probability} (probabilities summing to one; minval and maxval left None).
        A choice may be a ``ParameterAlias``: the value another parameter drew.
    ``strict``: drawn once and kept while the Fuzzer redraws the others to meet the limits (so the
    limits do not bias it, e.g. towards fewer dimensions).
    """

    def __init__(self, name, minval=None, maxval=None, distribution=None, strict=False):
        self._name = name
        self._minval = minval
        self._maxval = maxval
        self._distribution = self._check_distribution(distribution)
        self.strict = strict

    @property
    def name(self):
        return self._name

    def sample(self, state):
        """One value, drawn from ``state`` (a NumPy ``RandomState``)."""
        if self._distribution == "loguniform":
            return self._loguniform(state)
        if self._distribution == "uniform":
            return self._uniform(state)
        return self._custom_distribution(state)

    def _check_distribution(self, distribution):
        if not isinstance(distribution, dict):
            if distribution not in _DISTRIBUTIONS:
                raise AssertionError(f"Unknown distribution: {distribution}")
            return distribution
        # PyTorch 2.13 tests this the wrong way round (it refuses a table whose probabilities sum
        # to one, its own op_fuzzers' included); this is the check its documentation describes.
        if any(probability < 0 for probability in distribution.values()):
            raise AssertionError("Probabilities cannot be negative")
        if abs(sum(distribution.values()) - 1) > 1e-5:
            raise AssertionError("Distribution is not normalized")
        if self._minval is not None:
            raise AssertionError("When passing a custom distribution, 'minval' must be None")
        if self._maxval is not None:
            raise AssertionError("When passing a custom distribution, 'maxval' must be None")
        return distribution

    def _loguniform(self, state):
        """2 ** uniform(log2 minval, log2 maxval), truncated to an integer and kept within bounds."""
        output = int(2 ** state.uniform(
            low=xp.log2(self._minval) if self._minval is not None else None,
            high=xp.log2(self._maxval) if self._maxval is not None else None,
        ))
        if self._minval is not None and output < self._minval:
            return self._minval
        if self._maxval is not None and output > self._maxval:
            return self._maxval
        return output

    def _uniform(self, state):
        if isinstance(self._minval, int) and isinstance(self._maxval, int):
            return int(state.randint(low=self._minval, high=self._maxval + 1))
        return state.uniform(low=self._minval, high=self._maxval)

    def _custom_distribution(self, state):
        # Drawing a position, not a choice, keeps the choices as given (NumPy would convert them).
        index = state.choice(xp.arange(len(self._distribution)), p=tuple(self._distribution.values()))
        return list(self._distribution.keys())[index]


class ParameterAlias:
    """A choice of a custom distribution that takes the value parameter ``alias_to`` drew: with
    ``FuzzedParameter("y_len", distribution={1: 0.5, ParameterAlias("x_len"): 0.5})``, y is either
    of length 1 or as long as x (so that the two sometimes broadcast). Chains are allowed, cycles not."""

    def __init__(self, alias_to):
        self.alias_to = alias_to

    def __repr__(self):
        return f"ParameterAlias[alias_to: {self.alias_to}]"


def dtype_size(dtype):
    """Bytes per element of ``dtype``."""
    if dtype == chainrule.bool:
        return 1
    if dtype.is_floating_point or dtype.is_complex:
        return int(chainrule.finfo(dtype).bits / 8)
    return int(chainrule.iinfo(dtype).bits / 8)


def prod(values, base=1):
    """The product of ``values`` (times ``base``) in Python integers, which cannot overflow as a
    NumPy int64 product can (a negative size would pass the limits, then fail to allocate)."""
    return functools.reduce(lambda x, y: int(x) * int(y), values, base)


class FuzzedTensor:
    """A tensor each set builds, named ``name``.

    ``size``: its sizes, ints or names of FuzzedParameters. ``steps``: per dimension, build a tensor
    ``step`` times larger and take every step-th element (a strided view). ``probability_contiguous``:
    the chance its memory is in the usual order; otherwise its dimensions are laid out in a random
    other order (permute, ``contiguous``, permute back). ``min_elements`` / ``max_elements`` /
    ``max_allocation_bytes``: the limits a set must meet (the allocation counts the steps).
    ``dim_parameter``: a parameter giving the number of dimensions (sizes and steps cut or padded
    with 1); ``roll_parameter`` is accepted and unused, as in PyTorch.
    ``tensor_constructor(size=, dtype=, **params)``: builds the values instead of ``rand``
    (floating types) or ``randint(1, 127)`` (integer types).
    """

    def __init__(
        self, name, size, steps=None, probability_contiguous=0.5, min_elements=None, max_elements=None,
        max_allocation_bytes=None, dim_parameter=None, roll_parameter=None, dtype=chainrule.float32, cuda=False,
        tensor_constructor=None,
    ):
        self._name = name
        self._size = size
        self._steps = steps
        self._probability_contiguous = probability_contiguous
        self._min_elements = min_elements
        self._max_elements = max_elements
        self._max_allocation_bytes = max_allocation_bytes
        self._dim_parameter = dim_parameter
        self._dtype = dtype
        self._cuda = cuda
        self._tensor_constructor = tensor_constructor

    @property
    def name(self):
        return self._name

    @staticmethod
    def default_tensor_constructor(size, dtype, **kwargs):
        if dtype.is_floating_point or dtype.is_complex:
            return chainrule.rand(size=size, dtype=dtype, device="cpu")
        return chainrule.randint(1, 127, size=size, dtype=dtype, device="cpu")

    def _make_tensor(self, params, state):
        """The tensor for one set of ``params``, and its properties: numel, the memory ``order`` of
        its dimensions, ``steps``, ``is_contiguous`` and ``dtype``."""
        size, steps, allocation_size = self._get_size_and_steps(params)
        constructor = self._tensor_constructor or self.default_tensor_constructor
        raw_tensor = constructor(size=allocation_size, dtype=self._dtype, **params)
        if self._cuda:
            raw_tensor = raw_tensor.cuda()

        dim = len(size)
        order = xp.arange(dim)
        if state.rand() > self._probability_contiguous:
            while dim > 1 and (order == xp.arange(dim)).all():
                order = state.permutation(raw_tensor.dim())
            raw_tensor = raw_tensor.permute(tuple(order)).contiguous()
            raw_tensor = raw_tensor.permute(tuple(xp.argsort(order)))

        tensor = raw_tensor[tuple(slice(0, size_i * step, step) for size_i, step in zip(size, steps))]
        properties = {
            "numel": int(tensor.numel()),
            "order": order,
            "steps": steps,
            "is_contiguous": tensor.is_contiguous(),
            "dtype": str(self._dtype),
        }
        return tensor, properties

    def _get_size_and_steps(self, params):
        """Sizes and steps with parameter names replaced by their values, and the size to allocate."""
        dim = params[self._dim_parameter] if self._dim_parameter is not None else len(self._size)

        def resolve(values):
            values = tuple(params.get(value, value) for value in values)[:dim]
            return values + (1,) * (dim - len(values))

        size = resolve(self._size)
        steps = resolve(self._steps or ())
        allocation_size = tuple(size_i * step for size_i, step in zip(size, steps))
        return size, steps, allocation_size

    def satisfies_constraints(self, params):
        """Whether ``params`` give this tensor a number of elements and an allocation within its limits."""
        size, _, allocation_size = self._get_size_and_steps(params)
        num_elements = prod(size)
        if num_elements < 0:
            raise AssertionError("Computed number of elements is negative")
        allocation_bytes = prod(allocation_size, base=dtype_size(self._dtype))

        def nullable_greater(left, right):
            return left is not None and right is not None and left > right

        return not (
            nullable_greater(num_elements, self._max_elements)
            or nullable_greater(self._min_elements, num_elements)
            or nullable_greater(allocation_bytes, self._max_allocation_bytes)
        )


class Fuzzer:
    """Sets of random parameters and the tensors they size (see the module's description).

    ``parameters`` / ``tensors``: FuzzedParameters / FuzzedTensors (lists among them are unpacked
    one level). ``constraints``: functions of the dict of parameters that must all return True.
    ``seed``: seeds NumPy's ``RandomState`` for the parameters and, from it, ``chainrule.manual_seed``
    for the tensors' values (random when None).
    """

    def __init__(self, parameters, tensors, constraints=None, seed=None):
        if seed is None:
            seed = fresh_seed() % (2**32 - 1)
        self._seed = seed
        self._parameters = Fuzzer._unpack(parameters, FuzzedParameter)
        self._tensors = Fuzzer._unpack(tensors, FuzzedTensor)
        self._constraints = constraints or ()

        name_overlap = {p.name for p in self._parameters} & {t.name for t in self._tensors}
        if name_overlap:
            raise ValueError(f"Duplicate names in parameters and tensors: {name_overlap}")

        self._rejections = 0
        self._total_generated = 0

    @staticmethod
    def _unpack(values, cls):
        return tuple(itertools.chain.from_iterable([value] if isinstance(value, cls) else value for value in values))

    def take(self, n):
        """Yield ``n`` sets ``(tensors, tensor_properties, params)``, each a dict by name."""
        state = xp.random.RandomState(self._seed)
        chainrule.manual_seed(state.randint(low=0, high=2**63, dtype="int64"))
        for _ in range(n):
            params = self._generate(state)
            tensors = {}
            tensor_properties = {}
            for t in self._tensors:
                tensors[t.name], tensor_properties[t.name] = t._make_tensor(params, state)
            yield tensors, tensor_properties, params

    @property
    def rejection_rate(self):
        """The share of drawn parameter sets that failed a limit or constraint."""
        if not self._total_generated:
            return 0.0
        return self._rejections / self._total_generated

    def _generate(self, state):
        """Parameters meeting every constraint and tensor limit: redrawn up to 1000 times (strict
        parameters drawn once)."""
        strict_params = {}
        for _ in range(1000):
            candidate_params = {}
            for p in self._parameters:
                if p.strict:
                    if p.name not in strict_params:
                        strict_params[p.name] = p.sample(state)
                    candidate_params[p.name] = strict_params[p.name]
                else:
                    candidate_params[p.name] = p.sample(state)
            candidate_params = self._resolve_aliases(candidate_params)

            self._total_generated += 1
            if not all(f(candidate_params) for f in self._constraints):
                self._rejections += 1
                continue
            if not all(t.satisfies_constraints(candidate_params) for t in self._tensors):
                self._rejections += 1
                continue
            return candidate_params
        raise ValueError("Failed to generate a set of valid parameters.")

    @staticmethod
    def _resolve_aliases(params):
        """``params`` with each ParameterAlias replaced by the value it names (following chains)."""
        params = dict(params)
        alias_count = sum(isinstance(v, ParameterAlias) for v in params.values())
        while alias_count:
            for key, value in params.items():
                if isinstance(value, ParameterAlias):
                    params[key] = params[value.alias_to]
            new_alias_count = sum(isinstance(v, ParameterAlias) for v in params.values())
            if alias_count == new_alias_count:
                raise ValueError(f"ParameterAlias cycle detected\n{params}")
            alias_count = new_alias_count
        return params
