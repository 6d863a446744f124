"""``chainrule.compile``: a training step recorded once and replayed as straight-line NumPy.

::

    @chainrule.compile
    def train_step(inputs, targets):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss

The first call runs eagerly and records every array computation it makes: each operation's
``forward``, each node's ``backward`` with the gradients summed and fitted as the engine does, what
is added into each ``.grad``, and the optimizer's and scheduler's steps. The recording becomes one
Python function (``train_step.code`` shows it, each operation commented with its formula or
derivative) that later calls run instead: the same operations in the same order, so the results are
the same bit for bit, without the graph, the nodes and the tensors an eager step makes. Each
operation's ``forward`` and ``backward`` are written into it as statements on the program's arrays
(``inline.py``), with the tests that the recording decides (which inputs need a gradient, an
argument that is None) already taken: the hand-written backprop of the course, in NumPy.

A call whose tensor shapes, dtypes or ``requires_grad``, Python arguments, grad mode, train/eval
mode or parameters differ from every recording's is recorded anew. Values that change from step to
step inside state (a scheduler's learning rate, a parameter's values) are read on every call.
Random numbers drawn by an operation (dropout's mask) or a random factory (``randint``, ``randn``)
are drawn anew on every call, from the same generator, so the random stream advances as in eager; so are changes an operation makes in place
(batch norm's running statistics). What a recording cannot repeat (``.item()`` or ``print`` of a
tensor mid-step, random numbers drawn outside an operation, a change made in place outside an
operation)
makes the function run eagerly from then on, with one warning naming the line; ``fullgraph=True``
raises ``Unsupported`` there instead.

A call that returns tensors whose backward comes later (``model = chainrule.compile(model)``, then
``loss_fn(model(x), y).backward()``) has that backward recorded too, from stand-in gradients, and
its outputs get one node that runs it (``deferred_backward.py``).
"""
from chainrule.compile.compiled import CompiledFunction
from chainrule.compile.optimized_module import OptimizedModule
from chainrule.compile.recorder import Unsupported
from chainrule.nn.module import Module


def compile(model=None, *, fullgraph=False, dynamic=None, backend="chainrule", mode=None, options=None, disable=False):  # noqa: A001
    """Compile ``model`` (a function or a Module), as ``torch.compile``; usable as a decorator,
    with or without arguments (``@chainrule.compile(fullgraph=True)``). A Module comes back as an
    ``OptimizedModule`` holding it (its parameters, train/eval, state dict, attributes), as in PyTorch.

    ``fullgraph=True`` raises ``Unsupported`` where eager execution would be needed. ``dynamic``
    is accepted for PyTorch's signature; shapes are always specialized (a new shape records anew).
    ``backend`` (one of PyTorch's names, or a callable), ``mode`` and ``options`` are checked as
    PyTorch checks them and change nothing; ``disable=True`` returns ``model`` unchanged.
    """
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if isinstance(backend, str) and backend not in BACKENDS:
        raise InvalidBackend(f"Invalid backend: {backend!r}, see `chainrule._dynamo.list_backends()` for available backends.")

    def compile_one(function):
        if not callable(function):
            raise AssertionError(f"A callable function is expected, but {type(function)} is provided.")
        if disable:
            return function
        compiled = CompiledFunction(function, fullgraph=fullgraph, dynamic=dynamic)
        return OptimizedModule(function, compiled) if isinstance(function, Module) else compiled

    return compile_one if model is None else compile_one(model)


MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")
#: the backend names PyTorch takes (all mean chainrule's recording here), and chainrule's own
BACKENDS = frozenset({
    "chainrule", "eager", "aot_eager", "aot_eager_decomp_partition", "aot_eager_default_partitioner", "aot_ts",
    "cudagraphs", "inductor", "openxla", "openxla_eval", "tvm", "ts", "onnxrt", "eager_noexcept", "eager_debug",
    "pre_dispatch_eager", "invoke_subgraph",
})


class InvalidBackend(RuntimeError):
    """A backend name ``compile`` does not know, as ``torch._dynamo.exc.InvalidBackend``."""


Module._compile_function = staticmethod(compile)  # what Module.compile() compiles with
