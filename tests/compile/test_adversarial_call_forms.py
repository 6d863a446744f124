"""chainrule.compile against eager execution over HOW a compiled function is called: methods of
several instances (hashable by value, unhashable, with __slots__), staticmethods, classmethods,
__call__, callable objects, lambdas and closures made in a loop, a new compiled function per
iteration, positional-or-keyword arguments passed both ways, Python values of changing types,
containers of tensors with an item swapped, the same tensor in two positions, nesting and
recursion, threads (each with its own model, and one model shared under a lock), reset,
set_stance, cache_size_limit, fullgraph, deep copies and pickles, functools.wraps, a compiled
forward assigned on the instance, model.compile() with train()/eval() switches, generators and
coroutines.

Each scenario is run eagerly and compiled once, from the same
seed, and what each call returns, the parameters, gradients and exceptions must be the same bits.
A compiled run may record anew or fall back to eager (with a warning), never differ.
"""
import asyncio
import collections
import copy
import dataclasses
import functools
import pickle
import threading
import types
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def observe(value):
    """What is observable of ``value`` as NumPy arrays and plain containers."""
    if isinstance(value, torch.Tensor):
        grad = value.grad if value.is_leaf else None
        return {"array": arr(value), "grad": None if grad is None else arr(grad)}
    if isinstance(value, nn.Module):
        return [observe(p) for p in value.parameters()] + [arr(b) for b in value.buffers()]
    if isinstance(value, BaseException):
        return {"raised": type(value).__name__, "message": str(value)[:40]}
    if isinstance(value, (list, tuple)):
        return [observe(item) for item in value]
    if isinstance(value, dict):
        return {key: observe(item) for key, item in value.items()}
    return value


def compare(scenario, allow_warnings=True):
    """``scenario(compile)`` -> observations; ``compile`` is ``torch.compile`` or the identity.
    Eager, then compiled: the same bits. Returns the warnings of the compiled run."""
    eager = scenario(lambda f=None, **kw: (lambda g: g) if f is None else f)
    torch.compiler.reset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = scenario(torch.compile)
    assert_identical(compiled, eager, "compiled")
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    if not allow_warnings:
        assert not messages, messages
    return messages


def make_model(seed=0, width=6):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, width), nn.Tanh(), nn.Linear(width, 2))


def batches(seed=0, n=5, rows=8):
    g = np.random.default_rng(seed)
    return [(torch.from_numpy(g.standard_normal((rows, 4)).astype(np.float32)),
             torch.from_numpy(g.standard_normal((rows, 2)).astype(np.float32))) for _ in range(n)]


def guarded(call):
    try:
        return observe(call())
    except Exception as error:  # noqa: BLE001
        return observe(error)


# ----------------------------------------------------------------------------- methods
def test_method_on_several_instances_each_with_its_own_state_and_changed_attributes():
    def scenario(compile):
        class Trainer:
            def __init__(self, seed, lr):
                self.model = make_model(seed)
                self.opt = optim.SGD(self.model.parameters(), lr=lr)
                self.scale = 1.0

            @compile
            def step(self, x, y):
                self.opt.zero_grad()
                loss = ((self.model(x) - y) ** 2).mean() * self.scale
                loss.backward()
                self.opt.step()
                return loss

        trainers = [Trainer(0, 0.1), Trainer(1, 0.05), Trainer(2, 0.2)]
        out = []
        for i, (x, y) in enumerate(batches(0, 6)):
            if i == 3:
                trainers[1].scale = 0.5
                trainers[2].opt.param_groups[0]["lr"] = 0.01
            for t in trainers:
                out.append(observe(t.step(x, y)))
        return out + [observe(t.model) for t in trainers]

    compare(scenario)


def test_method_on_two_distinct_instances_that_compare_equal():
    def scenario(compile):
        class Named:
            def __init__(self, name, seed):
                self.name = name
                self.model = make_model(seed)

            def __eq__(self, other):
                return isinstance(other, Named) and other.name == self.name

            def __hash__(self):
                return hash(self.name)

            @compile
            def evaluate(self, x):
                return self.model(x).sum()

        a, b = Named("run", 0), Named("run", 1)  # equal by name, different models
        x = batches(0, 1)[0][0]
        return [observe(obj.evaluate(x)) for _ in range(4) for obj in (a, b)]

    compare(scenario)


def test_method_of_an_unhashable_dataclass():
    def scenario(compile):
        @dataclasses.dataclass
        class Config:
            k: float

            @compile
            def apply(self, x):
                return (x * self.k).sum()

        x = torch.ones(3)
        return [guarded(lambda: Config(float(i)).apply(x)) for i in range(4)]

    compare(scenario)


def test_method_of_a_class_with_slots():
    def scenario(compile):
        class Slotted:
            __slots__ = ("k",)

            def __init__(self, k):
                self.k = k

            @compile
            def apply(self, x):
                return (x * self.k).sum()

        x = torch.ones(3)
        objs = [Slotted(1.0), Slotted(2.0)]
        return [guarded(lambda: o.apply(x)) for _ in range(3) for o in objs]

    compare(scenario)


def test_cache_size_limit_set_on_a_compiled_method():
    class Stepper:
        @torch.compile
        def step(self, x, n):
            return (x * n).sum()

    Stepper.step.cache_size_limit = 1
    s = Stepper()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3):
            s.step(torch.ones(3), float(i))
    assert any("runs eagerly" in str(w.message) for w in caught)


def test_staticmethod_and_classmethod_and_dunder_call():
    def scenario(compile):
        model = make_model(0)

        class Ops:
            factor = 2.0

            @staticmethod
            @compile
            def s(x):
                return model(x).sum()

            @classmethod
            @compile
            def c(cls, x):
                return (model(x) * cls.factor).sum()

            @compile
            def __call__(self, x):
                return model(x).mean()

        out = []
        for x, _ in batches(1, 5):
            o = Ops()
            out += [observe(Ops.s(x)), observe(o.s(x)), observe(Ops.c(x)), observe(o.c(x)), observe(o(x))]
        return out

    compare(scenario)


@pytest.mark.parametrize("form", ["classmethod", "class_argument", "type_of_self"])
def test_class_attribute_changed_between_calls_read_through_cls(form):
    def scenario(compile):
        model = make_model(0)

        class Ops:
            factor = 2.0

            @classmethod
            @compile
            def c(cls, x):
                return model(x).sum() * cls.factor

            @compile
            def m(self, x):
                return model(x).sum() * type(self).factor

        @compile
        def f(cls, x):
            return model(x).sum() * cls.factor

        call = {"classmethod": lambda x: Ops.c(x), "class_argument": lambda x: f(Ops, x),
                "type_of_self": lambda x, o=Ops(): o.m(x)}[form]
        out = []
        for i, (x, _) in enumerate(batches(1, 5)):
            Ops.factor = [2.0, 2.0, 3.0, 3.0, 2.0][i]
            out.append(observe(call(x)))
        return out

    compare(scenario)


def test_callable_object_compiled_with_attributes_changing():
    def scenario(compile):
        class Scaler:
            def __init__(self):
                self.k = 1.0
                self.model = make_model(3)

            def __call__(self, x):
                return (self.model(x) * self.k).sum()

        s = Scaler()
        f = compile(s)
        out = []
        for i, (x, _) in enumerate(batches(2, 6)):
            s.k = [1.0, 2.0, 2.0, -0.0, 0.0, 1.0][i]
            if i == 4:
                s.model = make_model(4)
            out.append(observe(f(x)))
        return out

    compare(scenario)


# ----------------------------------------------------------------------------- closures, lambdas
def test_closures_and_lambdas_made_in_a_loop_with_late_binding():
    def scenario(compile):
        model = make_model(0)
        fns = []
        for k in (1.0, 2.0, 3.0):
            fns.append(compile(lambda x: model(x).sum() * k))  # late binding: every lambda sees k == 3.0
        out = []
        for x, _ in batches(0, 4):
            out += [observe(f(x)) for f in fns]
        k = None  # noqa: F841  (the cell is the loop's; nothing changes it now)
        return out

    compare(scenario)


def test_loop_variable_cell_changes_between_calls_of_one_compiled_closure():
    def scenario(compile):
        model = make_model(0)
        fns = []
        out = []
        for k in (1.0, 2.0, -0.0, 0.0, 5.0):
            if not fns:
                fns.append(compile(lambda x: model(x).sum() * k))
            out.append(observe(fns[0](batches(0, 1)[0][0])))  # the one closure sees the current k
        return out

    compare(scenario)


def test_a_new_compiled_nested_function_each_iteration():
    def scenario(compile):
        model = make_model(1)
        opt = optim.Adam(model.parameters(), lr=0.01)
        out = []
        for i, (x, y) in enumerate(batches(3, 5)):
            def step(x, y, w=float(i + 1)):
                opt.zero_grad()
                loss = ((model(x) - y) ** 2).mean() * w
                loss.backward()
                opt.step()
                return loss

            step = compile(step)
            out.append(observe(step(x, y)))
            out.append(observe(step(x, y)))
        return out + [observe(model)]

    compare(scenario)


def test_functools_wraps_decorated_step_reading_a_changed_global():
    def scenario(compile):
        settings = {"scale": 1.0}
        model = make_model(2)

        def logged(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                return fn(*args, **kwargs)
            return wrapper

        @compile
        @logged
        def step(x):
            return model(x).sum() * settings["scale"]

        out = []
        for i, (x, _) in enumerate(batches(4, 5)):
            settings["scale"] = [1.0, 1.0, 2.0, 2.0, 0.5][i]
            out.append(observe(step(x)))
        return out

    compare(scenario)


_STEP_NAMED_AS_ITS_OPTIMIZERS_METHOD = """
@compile
def step(x, y):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss
"""


def test_a_global_step_whose_name_its_body_reads_as_an_attribute_is_recorded_once():
    """``@compile def step(...)`` calling ``optimizer.step()``: the name ``step`` the body reads (an
    attribute) is also the global holding the compiled function, whose function's globals its
    guard reads through it; each call used to record anew, then run eagerly after eight."""
    def scenario(compile):
        model = make_model(6)
        namespace = {"compile": compile, "model": model, "optimizer": optim.Adam(model.parameters(), lr=0.01)}
        exec(_STEP_NAMED_AS_ITS_OPTIMIZERS_METHOD, namespace)  # noqa: S102 (a module's globals, as a script has them)
        out = [observe(namespace["step"](x, y)) for x, y in batches(6, 12)]
        recordings = getattr(namespace["step"], "recordings", None)
        return out + [observe(model), recordings is None or sum(map(len, recordings.values())) <= 2]

    assert not compare(scenario, allow_warnings=False)


_LOOP_VARIABLE_NAMED_AS_AN_ATTRIBUTE = """
@compile
def train_step(x, y):
    optimizer.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    optimizer.step()
    return loss

out = []
for step, (x, y) in enumerate(data):
    out.append(train_step(x, y))
"""


def test_a_global_loop_variable_named_as_an_attribute_the_step_reads_is_not_guarded():
    """``for step, batch in enumerate(loader)`` beside ``optimizer.step()`` in the step: only the
    global variables a function reads are looked up in its globals, not its attribute names (the
    loop's int ``step`` made each call record anew, then run eagerly after eight)."""
    def scenario(compile):
        model = make_model(7)
        namespace = {"compile": compile, "model": model, "optimizer": optim.SGD(model.parameters(), lr=0.1), "data": batches(7, 12)}
        exec(_LOOP_VARIABLE_NAMED_AS_AN_ATTRIBUTE, namespace)  # noqa: S102
        recordings = getattr(namespace["train_step"], "recordings", None)
        return [observe(loss) for loss in namespace["out"]] + [observe(model), recordings is None or sum(map(len, recordings.values())) == 1]

    assert not compare(scenario, allow_warnings=False)


def test_a_config_answering_any_attribute_is_no_optimizer():
    """A dict whose ``__getattr__`` is ``__getitem__`` (or that answers None for any name) read in
    the step: asking it for ``param_groups`` raised (KeyError, TypeError) in the compiled call."""
    class AttrDict(dict):
        __getattr__ = dict.__getitem__

    class Defaults:
        def __getattr__(self, name):
            return None

    def scenario(compile):
        model = make_model(8)
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        cfg, other = AttrDict(scale=2.0), Defaults()

        @compile
        def step(x, y):
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean() * cfg.scale * (1.0 if other.flag is None else 2.0)
            loss.backward()
            optimizer.step()
            return loss

        out = []
        for i, (x, y) in enumerate(batches(8, 6)):
            cfg["scale"] = 2.0 if i < 3 else 0.5
            out.append(guarded(lambda: step(x, y)))
        return out + [observe(model)]

    compare(scenario)


_HELPERS_READING_A_GLOBAL = """
SCALE = 2.0

class Trainer:
    @staticmethod
    def criterion(out, target):
        return ((out - target) ** 2).mean() * SCALE

    @classmethod
    def penalty(cls, out):
        return out.abs().mean() * SCALE

    @compile
    def helper(self, out):
        return out.sum() * SCALE

    @compile
    def step(self, x, y):
        out = model(x)
        return self.criterion(out, y) + self.penalty(out) + Trainer.criterion(out, y) + self.helper(out)


class Scaled:
    def __init__(self):
        self.scale = 2.0

    def __call__(self, x):
        return model(x).sum() * self.scale * SCALE
"""


def test_static_and_class_methods_callable_objects_and_compiled_helpers_read_a_changed_global():
    """What a staticmethod, a classmethod or a compiled method of the step's class reads, and
    what a compiled callable object (or a partial of one) holds and reads, are checked on each
    call: a replay used the values of the first call."""
    def scenario(compile):
        model = make_model(9)
        namespace = {"__name__": "training_script", "compile": compile, "model": model}  # a script's classes are its own
        exec(_HELPERS_READING_A_GLOBAL, namespace)  # noqa: S102
        trainer, scaled = namespace["Trainer"](), namespace["Scaled"]()
        calls = [trainer.step, compile(scaled), compile(functools.partial(scaled))]
        out = []
        for i, (x, y) in enumerate(batches(9, 6)):
            namespace["SCALE"] = 2.0 if i < 2 else 0.5
            scaled.scale = 2.0 if i < 4 else 3.0
            out.append([observe(calls[0](x, y))] + [observe(call(x)) for call in calls[1:]])
        return out

    compare(scenario)


def test_what_a_module_of_the_callers_holds_is_checked_on_each_call():
    """``config.CFG["scale"]``, ``config.args.k`` and ``utils.loss`` reading ``utils.SCALE``, from
    modules of the caller's own (a config.py beside the script): a change to them recorded nothing
    and the replay kept the old values."""
    config, utils = types.ModuleType("config"), types.ModuleType("utils")
    exec("SCALE = 2.0\ndef loss(x):\n    return x.sum() * SCALE\n", vars(utils))  # noqa: S102

    def scenario(compile):
        config.CFG, config.args, utils.SCALE = {"scale": 2.0}, types.SimpleNamespace(k=3.0), 2.0
        model = make_model(10)
        namespace = {"compile": compile, "model": model, "config": config, "utils": utils}
        exec("@compile\ndef f(x):\n    out = model(x)\n    return out.sum() * config.CFG['scale'] * config.args.k + utils.loss(out)\n", namespace)  # noqa: S102
        out = []
        for i, (x, _) in enumerate(batches(10, 6)):
            config.CFG["scale"] = 2.0 if i < 2 else 0.5
            config.args.k = 3.0 if i < 3 else 1.0
            utils.SCALE = 2.0 if i < 4 else 0.0
            out.append(observe(namespace["f"](x)))
        return out

    compare(scenario)


def test_a_list_the_step_never_reads_is_not_guarded_one_it_reads_is():
    """A trainer's history the loop appends to, which the step never reads: each call recorded
    anew (the list's length and items were guarded), then ran eagerly after eight. A list the step
    does read (its weights, the history's length) is still checked on each call."""
    def scenario(compile):
        model = make_model(11)

        class Trainer:
            def __init__(self):
                self.optimizer = optim.SGD(model.parameters(), lr=0.1)
                self.history, self.weights = [], [1.0, 1.0]

            @compile
            def step(self, x, y):
                self.optimizer.zero_grad()
                loss = ((model(x) - y) ** 2).mean() * self.weights[0]
                loss.backward()
                self.optimizer.step()
                return loss

            @compile
            def scaled_by_history(self, x):
                return model(x).sum() * (len(self.history) + 1)

        trainer, out = Trainer(), []
        for i, (x, y) in enumerate(batches(11, 10)):
            trainer.weights[0] = 1.0 if i < 5 else 0.5
            out.append(observe(trainer.step(x, y)))
            trainer.history.append(out[-1]["array"].item())
            out.append(observe(trainer.scaled_by_history(x)))
        recordings = getattr(trainer.step, "recordings", None)  # (a compiled method's, per instance)
        return out + [observe(model), recordings is None or sum(map(len, recordings.values())) == 2]

    messages = compare(scenario)  # (scaled_by_history, whose result the history decides, records anew each call)
    assert not [message for message in messages if " step runs eagerly" in message]


def test_a_global_read_by_name_through_globals_is_checked_on_each_call():
    """``globals()["SCALE"]`` in the step: the module's numbers are read by a name in a string, so
    each is checked (a replay kept the first call's value)."""
    def scenario(compile):
        model = make_model(12)
        namespace = {"__name__": "training_script", "compile": compile, "model": model, "SCALE": 2.0}
        exec("@compile\ndef f(x):\n    return model(x).sum() * globals()['SCALE']\n", namespace)  # noqa: S102
        out = []
        for i, (x, _) in enumerate(batches(12, 5)):
            namespace["SCALE"] = 2.0 if i < 2 else 0.5
            out.append(observe(namespace["f"](x)))
        return out

    compare(scenario)


# ----------------------------------------------------------------------------- argument forms
def test_positional_or_keyword_passed_every_way():
    def scenario(compile):
        model = make_model(0)

        @compile
        def f(x, y, *, scale=1.0, shift=None):
            out = model(x) * scale - y
            if shift is not None:
                out = out + shift
            return out.pow(2).mean()

        out = []
        for i, (x, y) in enumerate(batches(5, 8)):
            calls = [lambda: f(x, y), lambda: f(x, y=y), lambda: f(y=y, x=x), lambda: f(x, y, scale=2.0),
                     lambda: f(x, y, shift=y), lambda: f(x, y, scale=2, shift=None),
                     lambda: f(x, y, scale=True), lambda: f(x)]
            out.append(guarded(calls[i]))
            out.append(guarded(calls[(i + 3) % 8]))
        return out

    compare(scenario)


def test_python_argument_changing_type_int_float_bool_none():
    def scenario(compile):
        model = make_model(1)

        @compile
        def f(x, n):
            if n is None:
                return model(x).sum()
            if n is True:
                return model(x).max()
            return model(x).sum() * n

        x = batches(1, 1)[0][0]
        return [guarded(lambda: f(x, n)) for n in (1, 1.0, True, None, 0, False, -0.0, 0.0, 1, True, None, "s")]

    compare(scenario)


def test_containers_of_tensors_with_an_item_swapped_between_calls():
    Pair = collections.namedtuple("Pair", "x y")

    @dataclasses.dataclass
    class Batch:
        x: object
        y: object

    def scenario(compile):
        model = make_model(2)

        @compile
        def f(batch):
            if isinstance(batch, dict):
                x, y = batch["inputs"][0], batch["inputs"][1]["y"]
            elif isinstance(batch, (Pair, Batch)):
                x, y = batch.x, batch.y
            else:
                x, y = batch[0], batch[1][0]
            return ((model(x) - y) ** 2).mean()

        data = batches(6, 5)
        nested_list = [data[0][0], [data[0][1]]]
        nested_dict = {"inputs": (data[0][0], {"y": data[0][1]})}
        nt = Pair(*data[0])
        dc = Batch(*data[0])
        out = []
        for x, y in data:
            out.append(observe(f(nested_list)))
            out.append(observe(f(nested_dict)))
            out.append(observe(f(nt)))
            out.append(observe(f(dc)))
            nested_list[0] = x
            nested_list[1][0] = y
            nested_dict["inputs"] = (x, {"y": y})
            nt = Pair(x, y)
            dc.x, dc.y = x, y  # the same dataclass object, its tensors swapped
        return out

    compare(scenario)


def test_same_tensor_in_two_positions_written_in_place():
    def scenario(compile):
        @compile
        def f(a, b):
            with torch.no_grad():
                a.mul_(2.0)
            return a + b

        out = []
        base = torch.arange(4.0)
        other = torch.ones(4)
        for i in range(6):
            if i % 2 == 0:
                out.append(observe(f(base, base)))
            else:
                out.append(observe(f(base, other)))
            out.append(observe(base))
        return out

    compare(scenario)


def test_star_args_and_kwargs_with_tensor_in_two_places():
    def scenario(compile):
        model = make_model(3)

        @compile
        def f(*args, **kwargs):
            total = sum(model(a).sum() for a in args)
            for key in sorted(kwargs):
                total = total + model(kwargs[key]).mean()
            return total

        data = [x for x, _ in batches(7, 4)]
        return [observe(f(data[0], data[i], w=data[i])) for i in range(4)] + [observe(f(z=data[1])), observe(f())]

    compare(scenario)


# ----------------------------------------------------------------------------- nesting, recursion
def test_compiled_calling_compiled_and_recursion():
    def scenario(compile):
        model = make_model(0)

        @compile
        def inner(x):
            return model(x).tanh()

        @compile
        def outer(x):
            return inner(x).sum() + inner(x * 2).mean()

        @compile
        def rec(x, depth):
            if depth == 0:
                return model(x).sum()
            return rec(x[: x.shape[0] - 1], depth - 1) + x.sum()

        out = []
        for i, (x, _) in enumerate(batches(8, 5)):
            out += [observe(outer(x)), observe(inner(x)), observe(rec(x, i % 3))]
        return out

    compare(scenario)


# ----------------------------------------------------------------------------- threads
def _thread_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.xfail(strict=False, reason="(not strict: the race depends on the threads' timing, and a run where they do not interleave passes) known limit (README): recording is process-global (_install patches Tensor/Optimizer/Module methods, "
                   "function_module._recorder and _hearing are globals): compiled steps of separate models recording "
                   "at once in several threads hear each other's calls; one thread's _uninstall/_install interleaves "
                   "with another's and Recorder.call raises AttributeError: 'function' object has no attribute "
                   "'zero_grad' in a thread where eager runs cleanly; afterwards Tensor.item, Optimizer.zero_grad... "
                   "stay patched with the recorder's wrappers for the rest of the process")
def test_threads_each_with_its_own_model_recording_at_once():
    import sys

    def scenario(compile):
        models = [make_model(seed) for seed in range(4)]  # built in one thread: the global stream is shared
        opts = [optim.SGD(m.parameters(), lr=0.1) for m in models]
        data = [batches(seed, 12) for seed in range(4)]
        steps = [compile(_thread_step(m, o)) for m, o in zip(models, opts)]
        results = [None] * 4
        barrier = threading.Barrier(4)

        def work(k):
            barrier.wait()
            results[k] = [guarded(lambda: steps[k](x, y)) for x, y in data[k]]

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results + [observe(m) for m in models]

    from chainrule.compile.compiled import _REPLAYED_CALLS
    from chainrule.optim.lr_scheduler import LRScheduler

    # every class _install patches: the replayed calls' owners (SequentialLR... among them) and Tensor
    patched = {torch.Tensor, optim.Optimizer, nn.Module, LRScheduler, *(owner for owner, _ in _REPLAYED_CALLS)}
    saved = {cls: dict(vars(cls)) for cls in patched}  # the race leaves the recorder's wrappers installed
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads switch often, as on a busy machine: the recordings overlap
    try:
        for _ in range(3):
            compare(scenario)
    finally:
        sys.setswitchinterval(interval)
        for cls, attributes in saved.items():  # put the classes back for the tests after this one
            for name in set(vars(cls)) - set(attributes):
                delattr(cls, name)
            for name, value in attributes.items():
                if name not in ("__dict__", "__weakref__", "__doc__") and vars(cls).get(name) is not value:
                    setattr(cls, name, value)


def test_threads_sharing_one_model_under_a_lock_in_a_fixed_order():
    def scenario(compile):
        model = make_model(5)
        opt = optim.SGD(model.parameters(), lr=0.05)
        step = compile(_thread_step(model, opt))
        data = batches(9, 12)
        turn = threading.Condition()
        state = {"next": 0}
        results = {}

        def work(k):
            for i in range(k, 12, 3):
                with turn:
                    assert turn.wait_for(lambda: state["next"] == i, timeout=20)
                    try:
                        results[i] = guarded(lambda: step(*data[i]))
                    finally:
                        state["next"] += 1
                        turn.notify_all()

        threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [results[i] for i in range(12)] + [observe(model)]

    compare(scenario)


# ----------------------------------------------------------------------------- compiler controls
def test_reset_stance_and_cache_limit_between_calls():
    def scenario(compile):
        model = make_model(6)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def raw(x, y, k):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean() * k
            loss.backward()
            opt.step()
            return loss

        step = compile(raw)
        out = []
        for i, (x, y) in enumerate(batches(10, 10)):
            if i == 2:
                torch.compiler.reset()
            if i == 4 and hasattr(step, "cache_size_limit"):
                step.cache_size_limit = 1
            if i == 6:
                torch.compiler.set_stance("force_eager")
            if i == 7:
                torch.compiler.set_stance("eager_on_recompile")
            if i == 9:
                torch.compiler.set_stance("default")
            out.append(observe(step(x, y, float(i % 3 + 1))))
        torch.compiler.set_stance("default")
        return out + [observe(model)]

    compare(scenario)


def test_fail_on_recompile_and_fullgraph_raise_where_eager_does_not():
    model = make_model(0)
    x = batches(0, 1)[0][0]
    step = torch.compile(lambda x, k: model(x).sum() * k)
    step(x, 1.0)
    step(x, 1.0)
    torch.compiler.set_stance("fail_on_recompile")
    try:
        with pytest.raises(RuntimeError, match="fail_on_recompile"):
            step(x, 2.0)
        step(x, 1.0)  # an existing recording still replays
    finally:
        torch.compiler.set_stance("default")

    def reads(x):
        return model(x).sum().item()

    full = torch.compile(reads, fullgraph=True)
    with pytest.raises(Exception):
        full(x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loose = torch.compile(reads)
        assert [loose(x) for _ in range(3)] == [reads(x)] * 3
    assert len([w for w in caught if "runs eagerly" in str(w.message)]) == 1


def test_dynamic_flags_with_changing_batch_sizes():
    def scenario(compile):
        model = make_model(7)
        f_true = compile(lambda x: model(x).sum(), dynamic=True) if compile is torch.compile else compile(lambda x: model(x).sum())
        f_false = compile(lambda x: model(x).mean(), dynamic=False) if compile is torch.compile else compile(lambda x: model(x).mean())
        out = []
        for rows in (8, 3, 8, 1, 5, 3):
            x = batches(rows, 1, rows)[0][0]
            out += [observe(f_true(x)), observe(f_false(x))]
        return out

    compare(scenario)


# ----------------------------------------------------------------------------- modules, copies
def test_forward_assigned_compiled_on_the_instance_then_deepcopied_and_pickled():
    def scenario(compile):
        model = make_model(8)
        model.forward = compile(model.forward)
        twin = copy.deepcopy(model)
        with torch.no_grad():
            for p in twin.parameters():
                p.mul_(0.5)
        out = []
        for x, y in batches(11, 4):
            for m in (model, twin):
                loss = ((m(x) - y) ** 2).mean()
                loss.backward()
                out.append(observe(loss))
        out += [observe(model), observe(twin)]
        clone = pickle.loads(pickle.dumps(compile(make_model(9))))
        out += [observe(clone(x)) for x, _ in batches(12, 3)]
        return out

    compare(scenario)


def test_model_compile_with_train_eval_switches():
    def scenario(compile):
        torch.manual_seed(3)
        model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Dropout(0.3), nn.Linear(6, 2))
        if compile is torch.compile:
            model.compile()
        opt = optim.SGD(model.parameters(), lr=0.1)
        out = []
        for i, (x, y) in enumerate(batches(13, 8)):
            model.train(i % 3 != 2)
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            if model.training:
                loss.backward()
                opt.step()
            out.append(observe(loss))
        return out + [observe(model)]

    compare(scenario)


# ----------------------------------------------------------------------------- generators, coroutines
def test_generator_and_coroutine_functions_run_as_eagerly():
    def scenario(compile):
        model = make_model(10)

        @compile
        def gen(x):
            yield model(x).sum()
            yield model(x * 2).sum()

        @compile
        async def coro(x):
            return model(x).mean()

        out = []
        for x, _ in batches(14, 4):
            out.append([observe(v) for v in gen(x)])
            out.append(observe(asyncio.run(coro(x))))
        return out

    compare(scenario)
