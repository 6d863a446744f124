"""Grad mode: whether operations record the graph that ``backward()`` walks.

Under ``no_grad()`` nothing is recorded at all: results have no ``grad_fn`` and hold no references
to their inputs, so evaluation costs no memory for a graph. The mode is per thread, as in PyTorch.
"""
import contextlib
import functools
import inspect
import sys
import threading


class _GradMode(threading.local):
    enabled = True  # operations on tensors that require grad record the graph: never inside inference_mode()
    inference = False  # inside inference_mode(): new tensors are marked as inference tensors
    inference_grad = False  # inside inference_mode(): the grad mode set there (enable_grad()), which records nothing
    transforming = False  # inside a torch.func transform's differentiation, which may save inference tensors


_state = _GradMode()


def is_grad_enabled():
    """Whether grad mode is on: operations on tensors that require grad record the graph, except
    inside ``inference_mode()``, where ``enable_grad()`` switches the mode on and nothing records,
    as in PyTorch."""
    return _state.enabled or _state.inference_grad


def set_enabled(mode):
    """Switch grad mode on or off for this thread (the context managers below restore it for you)."""
    inference = _state.inference
    _state.enabled = mode and not inference
    _state.inference_grad = mode and inference


class _GradModeContext:
    """Base of the grad-mode switches: usable as ``with`` block and as decorator, with or without
    parentheses (``@no_grad()`` and ``@no_grad``, as PyTorch 2 allows)."""

    mode = None

    def __new__(cls, function=None):
        if callable(function):
            return cls()(function)
        return super().__new__(cls)

    def __enter__(self):
        self._previous = is_grad_enabled()
        set_enabled(self.mode)

    def __exit__(self, *exc_info):
        set_enabled(self._previous)
        return False

    def __call__(self, function):
        if inspect.isgeneratorfunction(function):
            return _wrap_generator(self.clone, function)
        mode = self.mode

        @functools.wraps(function)
        def run_in_mode(*args, **kwargs):
            previous = is_grad_enabled()
            set_enabled(mode)
            try:
                return function(*args, **kwargs)
            finally:
                set_enabled(previous)

        return run_in_mode

    def clone(self):
        """A fresh context of the same mode (PyTorch's ``clone``): a decorated generator enters one
        each time it resumes."""
        return type(self)()


def _wrap_generator(make_context, function):
    """``function``, a generator function, with the mode applied while its body runs, as PyTorch's
    decorators do: the generator pauses at each ``yield``, and the caller's mode must hold between
    them, so the mode is entered afresh each time it resumes and left each time it yields."""

    @functools.wraps(function)
    def generator_in_mode(*args, **kwargs):
        generator = function(*args, **kwargs)
        try:
            with make_context():
                response = generator.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_context():
                        generator.close()
                    raise
                except BaseException:
                    with make_context():
                        response = generator.throw(*sys.exc_info())
                else:
                    with make_context():
                        response = generator.send(request)
        except StopIteration as stop:
            return stop.value

    return generator_in_mode


class no_grad(_GradModeContext):
    """Record no graph inside the block (or the decorated function).

    >>> with chainrule.no_grad():
    ...     w -= 0.01 * w.grad      # an update that must not become part of the graph
    """

    mode = False


class enable_grad(_GradModeContext):
    """Record the graph inside the block, even within ``no_grad``."""

    mode = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(False)`` is ``no_grad()``; takes effect at once, and also works as ``with``."""

    def __new__(cls, mode):
        return object.__new__(cls)  # a mode, never a function to decorate without parentheses

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(
                f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}"
            )
        self.mode = mode
        self._previous = is_grad_enabled()
        set_enabled(self.mode)

    def __enter__(self):
        pass

    def __call__(self, function):
        set_enabled(self._previous)
        if inspect.isgeneratorfunction(function):
            return _wrap_generator(self.clone, function)

        @functools.wraps(function)
        def run_in_mode(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return function(*args, **kwargs)

        return run_in_mode

    def clone(self):
        return set_grad_enabled(self.mode)


class inference_mode(no_grad):
    """``no_grad`` that also marks every tensor made inside as an inference tensor
    (``x.is_inference()`` is True): PyTorch's promise that such a tensor never joins a graph, so
    it may not be made to require grad later. ``inference_mode(False)`` switches it off inside."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return object.__new__(cls)
        return cls()(mode)  # @inference_mode, without parentheses

    def __init__(self, mode=True):
        self.mode = not mode
        self.inference = bool(mode)

    def __enter__(self):
        self._previous_inference = _state.inference
        self._previous = is_grad_enabled()
        _state.inference = self.inference
        set_enabled(self.mode)

    def __exit__(self, *exc_info):
        _state.inference = self._previous_inference
        set_enabled(self._previous)
        return False

    def __call__(self, function):
        if inspect.isgeneratorfunction(function):
            return _wrap_generator(self.clone, function)

        @functools.wraps(function)
        def run_in_mode(*args, **kwargs):
            with inference_mode(self.inference):
                return function(*args, **kwargs)

        return run_in_mode

    def clone(self):
        return inference_mode(self.inference)


@contextlib.contextmanager
def transform_recording():
    """What a ``torch.func`` transform differentiates in: grad mode on and inference mode off, and
    inference tensors may be saved for backward, so that a transform works inside ``no_grad()`` and
    ``inference_mode()`` as PyTorch's do (what it returns is detached)."""
    previous = _state.transforming
    _state.transforming = True
    try:
        with inference_mode(False):
            yield
    finally:
        _state.transforming = previous


def is_inference_mode_enabled():
    """True inside ``inference_mode()``."""
    return _state.inference


class _SwitchWithoutEffect:
    """Base of PyTorch's switches of how its backward runs that chainrule's backward honours by what
    it always does. The mode is checked, and the switch works as a ``with`` block, a call and a
    decorator, as PyTorch's, changing nothing."""

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(
                f"{type(self).__name__}(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}"
            )
        self.mode = mode

    def __enter__(self):
        pass

    def __exit__(self, *exc_info):
        return False

    def __call__(self, function):
        return function

    def clone(self):
        return type(self)(self.mode)


class set_multithreading_enabled(_SwitchWithoutEffect):
    """``False`` runs backward on the calling thread, where PyTorch runs it on a worker thread per
    accelerator device. chainrule's backward always runs on the calling thread: either mode gives it."""


class enforce_grad_layout_policy(_SwitchWithoutEffect):
    """``False`` relaxes PyTorch's contract that an accumulated ``.grad`` has its parameter's strides
    (a gradient of another layout may then be kept as it comes). chainrule does not keep that
    contract: an accumulated gradient is always row-major, whatever the mode."""

    def __init__(self, enable=True):
        super().__init__(enable)
