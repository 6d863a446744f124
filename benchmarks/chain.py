"""A long chain of tiny elementwise operations: pure per-operation overhead, graph building and the
backward walk, with almost no arithmetic (one element)."""


def library_chain(lib, length, compiled=False):
    """``compiled``: the build and backward are ``chainrule.compile``d, replayed on each new ``x``."""

    def build_and_backward(x):
        y = x
        for _ in range(length // 2):
            y = y * 0.9999
            y = y + 0.0001
        y.sum().backward()
        return x.grad

    replay = lib.compile(build_and_backward) if compiled else build_and_backward

    def run():
        return replay(lib.tensor([0.5], requires_grad=True)).item()

    return run


def numpy_chain(length):
    """Forward and backward of the same chain by hand: the multipliers are the local derivatives."""
    import numpy as np

    def run():
        x = np.array([0.5], dtype=np.float32)
        y = x
        local_derivatives = []
        for _ in range(length // 2):
            local_derivatives.append(np.float32(0.9999))
            y = y * np.float32(0.9999)
            y = y + np.float32(0.0001)
        grad = np.ones(1, dtype=np.float32)
        for derivative in reversed(local_derivatives):
            grad = grad * derivative
        return float(grad[0])

    return run
