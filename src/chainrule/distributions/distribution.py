"""``Distribution``, the base of every distribution, as ``torch.distributions.Distribution``.

Shapes: a distribution holds a batch of independent distributions (``batch_shape``), each over
events of ``event_shape``. ``sample(sample_shape)`` has shape sample_shape + batch_shape +
event_shape, and ``log_prob(value)`` one entry per event: value's shape less event_shape.

With argument validation on (the default, as PyTorch's under ``__debug__``), parameters outside
their constraint and values outside the support raise PyTorch's ValueError, naming the parameter,
its shape, the distribution and the constraint.
"""
import functools
from numbers import Number

from chainrule.autograd import no_grad
from chainrule.autograd.function import checked
from chainrule.caller_warnings import warn_at_caller
from chainrule.distributions import constraints
from chainrule.distributions.utils import broadcast_all
from chainrule.functional import exp, sqrt
from chainrule.tensor import Size, Tensor


class Distribution:
    """A batch of probability distributions; subclasses give arg_constraints, support and the
    methods they can compute (the others raise NotImplementedError, as in PyTorch)."""

    has_rsample = False
    has_enumerate_support = False
    _validate_args = True

    @property
    def arg_constraints(self):
        """{parameter name: the constraint it must satisfy}; each subclass gives its own ({} for none)."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint every value of the distribution satisfies; each subclass gives its own."""
        raise NotImplementedError

    @staticmethod
    def set_default_validate_args(value):
        """Turn argument validation on or off for every distribution made afterwards."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args expects True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_parameters()
        super().__init__()  # as PyTorch's: a class that is a Module too (pyro's) has Module's set up

    def _check_parameters(self):
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warn_at_caller(f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                           "initialize the distribution with `validate_args=False` to turn off validation.")
        for name, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue
            if name not in self.__dict__ and not isinstance(getattr(type(self), name, None), property):
                continue  # a lazy parameter (probs made from logits) is valid when its source is
            value = getattr(self, name)
            checked(constraint.check(value), functools.partial(self._invalid_parameter, name, constraint), value)

    def _invalid_parameter(self, name, constraint, value):
        return ValueError(
            f"Expected parameter {name} ({type(value).__name__} of shape {tuple(value.shape)}) of distribution "
            f"{self!r} to satisfy the constraint {constraint!r}, but found invalid values:\n{value}"
        )

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _set_parameters(self, validate_args, **parameters):
        """Keep ``parameters`` (numbers or tensors) as tensors broadcast together, and initialise
        with the batch shape they give (() when all are numbers)."""
        tensors = broadcast_all(*parameters.values())
        for name, value in zip(parameters, tensors):
            setattr(self, name, value)
        numbers_only = all(isinstance(value, Number) for value in parameters.values())
        Distribution.__init__(self, Size() if numbers_only else tensors[0].shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        """The distribution with its parameters broadcast (as views) to ``batch_shape``; filled into
        ``_instance`` where a subclass's ``expand`` made it (``_get_checked_instance``)."""
        return self._expanded_copy(batch_shape, tuple(self.arg_constraints), _instance)

    def _get_checked_instance(self, cls, _instance=None):
        """What a subclass's ``expand`` fills, as PyTorch's: ``_instance`` when given, else a new
        object of this distribution's class; NotImplementedError where that class has an
        ``__init__`` of its own (its expand must say how its parameters expand)."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom __init__ method "
                f"must also define a custom .expand() method."
            )
        return self.__new__(type(self)) if _instance is None else _instance

    def _same_class_copy(self, instance=None):
        """What ``expand`` fills: ``instance`` (a subclass's ``expand`` passes its own) or a new
        object of this distribution's class, subclass included, holding its attributes (those an
        ``instance`` holds already are kept)."""
        new = type(self).__new__(type(self)) if instance is None else instance
        for key, value in self.__dict__.items():
            new.__dict__.setdefault(key, value)
        return new

    def _expanded_copy(self, batch_shape, names, instance=None):
        """A copy (``_same_class_copy``) with those tensors of ``names`` it holds expanded to
        ``batch_shape`` (their event dims kept)."""
        batch_shape = Size(batch_shape)
        new = self._same_class_copy(instance)
        for name in names:
            if name in self.__dict__:
                value = self.__dict__[name]
                setattr(new, name, value.expand(batch_shape + value.shape[len(self.batch_shape):]))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        raise NotImplementedError(f"{type(self).__name__} has no mean")

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self).__name__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError(f"{type(self).__name__} has no variance")

    @property
    def stddev(self):
        return sqrt(self.variance)

    def sample(self, sample_shape=Size()):
        """Samples of shape sample_shape + batch_shape + event_shape, with no gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def sample_n(self, n):
        """``sample((n,))``, under its old name (with PyTorch's FutureWarning)."""
        warn_at_caller("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.", FutureWarning)
        return self.sample(Size((n,)))

    def rsample(self, sample_shape=Size()):
        """Reparameterized samples: gradients flow from them back to the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no rsample: its samples cannot carry gradients")

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        raise NotImplementedError

    def perplexity(self):
        """e^entropy: the number of equally likely outcomes with the same entropy."""
        return exp(self.entropy())

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + self.batch_shape + self.event_shape)

    def _validate_sample(self, value):
        """PyTorch's checks of a value given to log_prob, cdf...: a tensor, of a shape that
        broadcasts with batch_shape + event_shape, inside the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dims = len(self.event_shape)
        if tuple(value.shape[value.dim() - event_dims:]) != tuple(self.event_shape):
            raise ValueError(f"The right-most size of value must match event_shape: {value.shape} vs {self.event_shape}.")
        expected = Size(self.batch_shape + self.event_shape)
        for mine, theirs in zip(reversed(value.shape), reversed(expected)):
            if mine != 1 and theirs != 1 and mine != theirs:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {value.shape} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warn_at_caller(f"{type(self)} does not define `support` to enable sample validation. Please initialize "
                           "the distribution with `validate_args=False` to turn off validation.")
            return
        checked(support.check(value), self._value_outside_support, value)

    def _value_outside_support(self, value):
        return ValueError(
            f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to be within the support "
            f"({self.support!r}) of the distribution {self!r}, but found invalid values:\n{value}"
        )

    def __repr__(self):
        """The parameters: one-element ones by value (a 0-d one as a number), others by shape."""
        shown = []
        for name in self.arg_constraints:
            if name in self.__dict__:
                value = self.__dict__[name]
                shown.append(f"{name}: {(value.item() if value.dim() == 0 else value) if value.numel() == 1 else value.size()}")
        return f"{type(self).__name__}({', '.join(shown)})"


class SymmetricAboutLoc(Distribution):
    """A distribution symmetric about its single peak at ``loc``: its mean and mode are both loc."""

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc


class LocationScale(SymmetricAboutLoc):
    """Distributions of loc + scale · ε for a fixed symmetric ε (Normal, Laplace): ``loc`` any
    real, ``scale`` > 0, numbers or tensors broadcast together to the batch shape."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self._set_parameters(validate_args, loc=loc, scale=scale)
