"""``chainrule.futures``, as ``torch.futures``: a ``Future`` holds a value (or an exception) that
is set once; ``wait()`` returns it (raising the exception), ``then(callback)`` makes the Future of
``callback(future)``. chainrule computes everything when it is asked for (``jit.fork`` runs its
function at once), so a Future is set by the time anyone waits on it.
"""
import types

_UNSET = object()


class Future:
    """A value set once: ``set_result(value)`` or ``set_exception(error)``, read by ``wait()``.
    Generic as PyTorch's (``Future[Tensor]`` in annotations); ``chainrule.Future`` is this class."""

    __class_getitem__ = classmethod(types.GenericAlias)

    def __init__(self, *, devices=None):
        self._value, self._error, self._callbacks = _UNSET, None, []

    def done(self):
        return self._value is not _UNSET or self._error is not None

    def set_result(self, result):
        self._settle(result, None)

    def set_exception(self, result):
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._settle(_UNSET, result)

    def _settle(self, value, error):
        if self.done():
            raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a Future can only be marked completed once.")
        self._value, self._error = value, error
        for callback in self._callbacks:
            callback(self)
        self._callbacks = []

    def wait(self):
        """The value (the exception set instead is raised); the future must be done: chainrule's are
        set by whoever made them before they are handed out."""
        if not self.done():
            raise RuntimeError("wait on a Future that nothing will complete: chainrule runs the work when it is forked")
        return self.value()

    def value(self):
        if self._error is not None:
            raise self._error
        return self._value

    def then(self, callback):
        """The Future of ``callback(self)`` once this one is done (at once where it is)."""
        following = Future()

        def run(done):
            try:
                following.set_result(callback(done))
            except Exception as error:  # noqa: BLE001 (the callback's error is the next future's)
                following.set_exception(error)

        self.add_done_callback(run)
        return following

    def add_done_callback(self, callback):
        if self.done():
            callback(self)
        else:
            self._callbacks.append(callback)


def collect_all(futures):
    """The Future of the list of ``futures``, done when all of them are."""
    futures, collected = list(futures), Future()
    pending = [len(futures)]

    def one_done(_):
        pending[0] -= 1
        if pending[0] == 0:
            collected.set_result(futures)

    for future in futures:
        future.add_done_callback(one_done)
    if not futures:
        collected.set_result(futures)
    return collected


def wait_all(futures):
    """The values of ``futures`` (waited on in order)."""
    return [future.wait() for future in futures]


__all__ = ["Future", "collect_all", "wait_all"]
