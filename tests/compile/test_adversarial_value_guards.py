"""chainrule.compile against eager execution where the PYTHON VALUES a step reads change between
calls (``_value_guard``/``float_condition`` in recorder.py, ``_argument_guards`` in compiled.py,
reachable.py): ints, bools, floats (inf, nan, -0.0, subnormals), NumPy scalars, complex numbers,
fractions, decimals, strings, bytes, None/0/False, sets, ranges, slices, enums, tuples and lists,
dataclasses, namedtuples, properties, class attributes, another module's globals, defaults,
partial keywords, optimizer settings, loss and layer settings. Each value changes the arithmetic.

Each case builds fresh state from the same seed, runs the values eagerly and compiled, and compares bit for bit what each call returns and the parameters
and gradients after it. A fall-back to eager with a warning is fine; a different result is not."""
import decimal
import enum
import fractions
import functools
import math
import sys
import types
import warnings
from collections import namedtuple
from dataclasses import dataclass, field

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from tests.compile.bitwise import assert_identical

NAN = float("nan")
INF = float("inf")


class Fresh:
    """A value made anew for each call (and dropped after it), so that an identity guard may meet
    a new object at the address of a freed one."""

    def __init__(self, factory):
        self.factory = factory


def _arr(t):
    return np.array(t.detach().numpy(), copy=True)


def _snap(value):
    if isinstance(value, torch.Tensor):
        return _arr(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_snap(item) for item in value) if type(value) in (list, tuple) else tuple(_snap(i) for i in value)
    if isinstance(value, dict):
        return {key: _snap(item) for key, item in value.items()}
    return value


def _state(params):
    return [(_arr(p), None if p.grad is None else _arr(p.grad)) for p in params]


def _call_fresh(call, factory, previous):
    """Calls with a new value from ``factory``, placed where possible at the address of the
    previous call's freed value (as CPython often does by itself): an identity guard sees the same id."""
    spare = []
    value = factory()
    while previous is not None and id(value) != previous and len(spare) < 2000:
        spare.append(value)
        value = factory()
    spare.clear()
    where = id(value)
    out = call(value)
    del value
    return out, where


def _run(case, compiled):
    torch.manual_seed(0)
    call, values, params = case(torch.compile if compiled else (lambda function: function))
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        previous = None
        for value in values:
            if isinstance(value, Fresh):
                out, previous = _call_fresh(call, value.factory, previous)
            else:
                out = call(value)
            log.append((_snap(out), _state(params())))
            del out
    return log, [str(w.message) for w in caught]


CASES = {}


def case(values):
    def register(build):
        CASES[build.__name__] = (build, values)
        return build

    return register


def _params(*modules):
    return lambda: [p for m in modules for p in m.parameters()]


def _trainer(compile, loss_of, model=None, opt_kind="sgd", **opt_kwargs):
    """A linear model trained by ``loss_of(out, v)``: returns (call, params)."""
    model = model or nn.Linear(3, 2)
    x = torch.randn(4, 3)
    opt = (torch.optim.SGD if opt_kind == "sgd" else torch.optim.Adam)(model.parameters(), **(opt_kwargs or {"lr": 0.1}))

    @compile
    def step(v):
        out = model(x)
        loss = loss_of(out, v)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, out

    return step, _params(model), model, opt


# ------------------------------------------------------------------ values given as arguments
@case([2, 3, 2, -1, True, 1, 2])
def arg_int_and_bool(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * v).sum() + (out.sum() if type(v) is bool else 0.0))
    return step, None, params


@case([0, False, None, 0.0, -0.0, 0, None, False])
def arg_none_zero_false(compile):
    def loss_of(out, v):
        if v is None:
            return out.sum()
        if type(v) is bool:
            return (out * 2).sum()
        if type(v) is float:
            return (out * v).sum() + (out * math.copysign(1.0, v)).sum()
        return (out * 3).sum()

    step, params, _, _ = _trainer(compile, loss_of)
    return step, None, params


@case([1.0, INF, -INF, NAN, -0.0, 0.0, 5e-324, 1e308, 1.0, -0.0, NAN, 2.0])
def arg_float_specials(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * v).sum() + (out / (1.0 + abs(v) if v == v else 1.0)).sum())
    return step, None, params


@case([np.float32(-0.0), np.float32(0.0), np.float16(1.5), np.float32(1.5), np.int8(3), np.int16(3), np.bool_(True),
       np.float64(1.5), np.float32(-0.0), np.float16(1.5)])
def arg_numpy_scalars(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * v).sum() + (out * float(v.dtype.itemsize)).sum())
    return step, None, params


@case([Fresh(lambda: complex(1.0, 0.0)), Fresh(lambda: complex(2.0, 0.0)), Fresh(lambda: complex(3.0, 1.0)),
       Fresh(lambda: complex(1.0, 0.0))])
def arg_complex_fresh(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * v.real).sum() + (out.sum() if v.imag else 0.0))
    return step, None, params


@case([Fresh(lambda: fractions.Fraction(1, 3)), Fresh(lambda: fractions.Fraction(1, 2)), Fresh(lambda: fractions.Fraction(2, 3)),
       Fresh(lambda: fractions.Fraction(1, 3))])
def arg_fraction_fresh(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * float(v)).sum())
    return step, None, params


@case([Fresh(lambda: decimal.Decimal("0.5")), Fresh(lambda: decimal.Decimal("1.5")), Fresh(lambda: decimal.Decimal("0.5"))])
def arg_decimal_fresh(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * float(v)).sum())
    return step, None, params


@case(["mean", "sum", "mean", "none"])
def arg_string_reduction(compile):
    def loss_of(out, v):
        if v == "none":
            return (out * out).sum()
        return getattr(out * out, v)()

    step, params, _, _ = _trainer(compile, loss_of)
    return step, None, params


@case([b"a", b"bb", b"a", Fresh(lambda: bytes([98, 98, 98]))])
def arg_bytes(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * len(v)).sum())
    return step, None, params


_SHARED_SET = {1, 2}


@case([1, 2, 3])
def arg_set_mutated_in_place(compile):
    _SHARED_SET.clear()
    _SHARED_SET.update({1, 2})
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    step = compile(lambda s: (model(x) * sum(s)).sum())

    def call(v):
        _SHARED_SET.add(10 * v)
        return step(_SHARED_SET)

    return call, None, _params(model)


@case([Fresh(lambda: range(2)), Fresh(lambda: range(1, 3)), Fresh(lambda: range(0, 2)), Fresh(lambda: range(1, 4, 2))])
def arg_range_fresh(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out[list(v)[:2]] * v.start).sum() + float(v.stop))
    return step, None, params


@case([Fresh(lambda: slice(0, 2)), Fresh(lambda: slice(1, 3)), Fresh(lambda: slice(2, 4)), Fresh(lambda: slice(0, 2))])
def arg_slice_fresh(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out[v] * torch.arange(2).float().reshape(2, 1)).sum())
    return step, None, params


@case([(1.0, -0.0), (1.0, 0.0), (NAN, 1.0), (2.0, 1.0), (1, 0), (1.0, -0.0)])
def arg_tuple_floats(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * v[0]).sum() + (out * v[1]).sum() + (out * math.copysign(1.0, v[1])).sum())
    return step, None, params


@case([[1.0, 2.0], [1.0, 3.0], [1.0, 2.0], [1, 2]])
def arg_list(compile):
    step, params, _, _ = _trainer(compile, lambda out, v: (out * v[0] + out * v[1]).sum())
    return step, None, params


class Mode(enum.Enum):
    A = 1
    B = 2


class IntMode(enum.IntEnum):
    A = 1
    B = 2


@case([Mode.A, Mode.B, Mode.A, IntMode.A, 1, IntMode.B, Mode.B])
def arg_enum(compile):
    def loss_of(out, v):
        if v is Mode.A:
            return out.sum()
        if v is Mode.B:
            return (out * out).sum()
        if isinstance(v, IntMode):
            return (out * (10 + v)).sum()
        return (out * v).sum()

    step, params, _, _ = _trainer(compile, loss_of)
    return step, None, params


@case([None, 2.0, None, 3.0, None])
def kwarg_given_or_omitted(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    @compile
    def step(scale=1.5):
        return (model(x) * scale).sum()

    def call(v):
        loss = step() if v is None else step(scale=v)
        model.zero_grad()
        loss.backward() if not isinstance(loss, float) and loss.requires_grad else None
        return loss

    return call, None, _params(model)


@case([2.0, 3.0, 2.0, -0.0, 0.0])
def defaults_changed(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def raw(scale=2.0):
        loss = (model(x) * scale).sum() + (model(x) * math.copysign(1.0, scale)).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step = compile(raw)

    def call(v):
        raw.__defaults__ = (v,)
        return step()

    return call, None, _params(model)


@case([2.0, 3.0, 2.0])
def kwdefaults_changed(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def raw(*, scale=2.0):
        loss = (model(x) * scale).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    step = compile(raw)

    def call(v):
        raw.__kwdefaults__ = {"scale": v}
        return step()

    return call, None, _params(model)


@case([2.0, 3.0, 2.0, -0.0, 0.0])
def partial_keywords_mutated(compile):
    return _partial_keywords(compile)


@case([2.0, NAN, 4.0])
def partial_keywords_nan(compile):
    return _partial_keywords(compile)


def _partial_keywords(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    def raw(scale):
        return (model(x) * scale).sum()

    bound = functools.partial(raw, scale=2.0)
    step = compile(bound)

    def call(v):
        bound.keywords["scale"] = v
        loss = step()
        model.zero_grad()
        return loss

    return call, None, _params(model)


@case([2.0, 3.0, 2.0, NAN, 4.0])
def partial_global_rebound(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    holder = {}

    def loss_fn(out, scale):
        return (out * scale).sum()

    @compile
    def step():
        return holder["fn"](model(x))

    def call(v):
        holder["fn"] = functools.partial(loss_fn, scale=v)
        return step()

    return call, None, _params(model)


# ------------------------------------------------------------------ values read from closures, globals, configs
def _closure_case(compile, use):
    """A float, tuple or other value in a closure cell, rebound between calls."""
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    value = None

    @compile
    def step():
        loss = use(model(x), value)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def call(v):
        nonlocal value
        value = v
        return step()

    return call, None, _params(model)


def _scale_use(out, v):
    return (out * v).sum() + (out * math.copysign(1.0, v)).sum()


@case([2.0, 3.0, -0.0, 0.0, INF, -INF, 5e-324, 1e308, 2.0, -0.0])
def closure_float_specials(compile):
    return _closure_case(compile, _scale_use)


@case([2.0, NAN, 3.0])
def closure_float_nan(compile):
    return _closure_case(compile, _scale_use)


@case([Fresh(lambda: fractions.Fraction(1, 2)), Fresh(lambda: fractions.Fraction(3, 2)), Fresh(lambda: fractions.Fraction(1, 2))])
def closure_fraction(compile):
    return _closure_case(compile, lambda out, v: (out * float(v)).sum())


@case([Fresh(lambda: decimal.Decimal("0.5")), Fresh(lambda: decimal.Decimal("1.5")), Fresh(lambda: decimal.Decimal("0.5"))])
def closure_decimal(compile):
    return _closure_case(compile, lambda out, v: (out * float(v)).sum())


@case([Fresh(lambda: complex(2.0, 0.0)), Fresh(lambda: complex(3.0, 0.0)), Fresh(lambda: complex(2.0, 0.0))])
def closure_complex(compile):
    return _closure_case(compile, lambda out, v: (out * v.real).sum())


@case([b"ab", b"abc", b"ab"])
def closure_bytes(compile):
    return _closure_case(compile, lambda out, v: (out * len(v)).sum())


@case([Fresh(lambda: frozenset({1, 2})), Fresh(lambda: frozenset({1, 5})), Fresh(lambda: {7}), Fresh(lambda: frozenset({1, 2}))])
def closure_sets(compile):
    return _closure_case(compile, lambda out, v: (out * sum(v)).sum())


@case([Fresh(lambda: slice(0, 2)), Fresh(lambda: slice(1, 3)), Fresh(lambda: slice(0, 2))])
def closure_slice(compile):
    return _closure_case(compile, lambda out, v: (out[v] * torch.arange(2).float().reshape(2, 1)).sum())


def _tuple_use(out, v):
    return (out * v[0]).sum() + (out * math.copysign(1.0, v[1])).sum() + (out * float(type(v[0]) is int)).sum()


@case([(1.0, -0.0), (1.0, 0.0), (1.0, -0.0), (INF, 1.0), (2.0, 1.0), (1, 0), (True, 0), (1.0, 0)])
def closure_tuple_floats(compile):
    return _closure_case(compile, _tuple_use)


@case([(1.0, 1.0), (NAN, 1.0), (2.0, 1.0)])
def closure_tuple_nan(compile):
    return _closure_case(compile, _tuple_use)


@case([(np.float32(2.0), 1.0), (np.float32(3.0), 1.0), (np.float32(2.0), 1.0)])
def closure_tuple_numpy_scalar(compile):
    return _closure_case(compile, lambda out, v: (out * v[0]).sum())


@case([[INF, 1.0], [NAN, 1.0], [2.0, 1.0], [NAN, 1.0], [3.0, 1.0]])
def closure_list_nan(compile):
    return _closure_case(compile, lambda out, v: (out * v[0]).sum())


@case([None, 0, False, 0.0, None, False])
def closure_none_zero_false(compile):
    return _closure_case(compile, lambda out, v: out.sum() if v is None else (out * 2).sum() if v is False else (out * (3 + float(type(v) is float))).sum())


@case([Mode.A, Mode.B, Mode.A])
def closure_enum(compile):
    return _closure_case(compile, lambda out, v: out.sum() if v is Mode.A else (out * out).sum())


@case([np.float32(-0.0), np.float32(0.0), np.float16(0.5), np.int8(2), np.bool_(False), np.bool_(True), np.float32(-0.0)])
def closure_numpy_scalars(compile):
    return _closure_case(compile, lambda out, v: (out * v).sum() + (out * (np.copysign(1.0, float(v)) + v.dtype.itemsize)).sum())


SCALE = 2.0
TUPLE = (1.0, 2.0)


@case([2.0, 3.0, -0.0, 0.0, INF, 2.0])
def module_global(compile):
    return _module_global(compile)


@case([2.0, NAN, 3.0])
def module_global_nan(compile):
    return _module_global(compile)


def _module_global(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    @compile
    def step():
        return _scale_use(model(x), SCALE)

    def call(v):
        global SCALE
        SCALE = v
        loss = step()
        return loss

    return call, None, _params(model)


@case([(1.0, 2.0), (1.0, 3.0), (1.0, -0.0), (1.0, 0.0), (5.0, 2.0)])
def module_global_tuple(compile):
    return _module_global_tuple(compile)


@case([(1.0, 2.0), (NAN, 2.0), (5.0, 2.0)])
def module_global_tuple_nan(compile):
    return _module_global_tuple(compile)


def _module_global_tuple(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    @compile
    def step():
        return (model(x) * TUPLE[0]).sum() + (model(x) * math.copysign(1.0, TUPLE[1])).sum()

    def call(v):
        global TUPLE
        TUPLE = v
        return step()

    return call, None, _params(model)


def _other_module():
    mod = types.ModuleType("mycfg_value_guards")
    sys.modules[mod.__name__] = mod
    return mod


mycfg_value_guards = _other_module()


@case([("LR", 2.0), ("LR", 3.0), ("LR", -0.0), ("LR", 0.0), ("LR", 2.0)])
def other_module_float(compile):
    return _other_module_globals(compile)


@case([("LR", 2.0), ("LR", NAN), ("LR", 3.0)])
def other_module_nan(compile):
    return _other_module_globals(compile)


@case([("TUP", (1.0, 2.0)), ("TUP", (3.0, 2.0)), ("TUP", (1.0, 2.0))])
def other_module_tuple(compile):
    return _other_module_globals(compile)


@case([("MODE", Mode.A), ("MODE", Mode.B), ("MODE", Mode.A)])
def other_module_enum(compile):
    return _other_module_globals(compile)


@case([("FR", fractions.Fraction(1, 2)), ("FR", fractions.Fraction(3, 2)), ("FR", fractions.Fraction(1, 2))])
def other_module_fraction(compile):
    return _other_module_globals(compile)


def _other_module_globals(compile):
    mycfg_value_guards.LR, mycfg_value_guards.TUP = 1.0, (1.0, 1.0)
    mycfg_value_guards.MODE, mycfg_value_guards.FR = Mode.A, fractions.Fraction(1, 1)
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    @compile
    def step():
        out = model(x)
        m = mycfg_value_guards
        loss = _scale_use(out, m.LR) + (out * m.TUP[0]).sum() + (out * float(m.FR)).sum()
        return loss if m.MODE is Mode.A else loss * 2

    def call(kv):
        setattr(mycfg_value_guards, *kv)
        return step()

    return call, None, _params(model)


class Config:
    scale = 2.0  # a class attribute, read through instances

    def __init__(self):
        self.a = 1.0
        self.b = 2.0
        self.sl = slice(0, 2)
        self.mode = Mode.A
        self.tup = (1.0, 1.0)
        self.nested = {"k": [1.0, {"w": 2.0}]}
        self.fr = fractions.Fraction(1, 1)
        self.cx = complex(1.0, 0.0)
        self.name = "a"
        self.npt = (np.float32(1.0),)
        self.f = 1.0

    @property
    def product(self):
        return self.a * self.b


def _config_case(compile, use, setter):
    cfg = Config()
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    @compile
    def step():
        loss = use(model(x), cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def call(v):
        setter(cfg, v)
        return step()

    return call, None, _params(model)


@case([Mode.A, Mode.B, Mode.A, Mode.B])
def config_enum_attribute(compile):
    return _config_case(compile, lambda out, c: out.sum() if c.mode is Mode.A else (out * 3).sum(), lambda c, v: setattr(c, "mode", v))


@case([slice(0, 2), slice(1, 3), slice(2, 4), slice(0, 2)])
def config_slice_attribute(compile):
    return _config_case(compile, lambda out, c: (out[c.sl] * torch.arange(2).float().reshape(2, 1)).sum(), lambda c, v: setattr(c, "sl", v))


@case([fractions.Fraction(1, 2), fractions.Fraction(3, 2), fractions.Fraction(1, 2)])
def config_fraction_attribute(compile):
    return _config_case(compile, lambda out, c: (out * float(c.fr)).sum(), lambda c, v: setattr(c, "fr", v))


@case([complex(1.0, 0.0), complex(2.0, 0.0), complex(1.0, 0.0)])
def config_complex_attribute(compile):
    return _config_case(compile, lambda out, c: (out * c.cx.real).sum(), lambda c, v: setattr(c, "cx", v))


@case([(1.0, -0.0), (1.0, 0.0), (1.0, -0.0), (2.0, 1.0), (INF, 1.0), (3.0, 1.0), (1, 0), (1.0, 0)])
def config_tuple_attribute(compile):
    return _config_tuple(compile)


@case([(1.0, 1.0), (NAN, 1.0), (2.0, 1.0)])
def config_tuple_nan(compile):
    return _config_tuple(compile)


def _config_tuple(compile):
    return _config_case(
        compile,
        lambda out, c: (out * c.tup[0]).sum() + (out * math.copysign(1.0, c.tup[1])).sum() + (out * float(type(c.tup[0]) is int)).sum(),
        lambda c, v: setattr(c, "tup", v),
    )


@case([(np.float32(1.0),), (np.float32(2.0),), (np.float32(1.0),)])
def config_tuple_numpy_scalar_attribute(compile):
    return _config_case(compile, lambda out, c: (out * c.npt[0]).sum(), lambda c, v: setattr(c, "npt", v))


@case([2.0, NAN, 3.0, -0.0, 0.0, NAN, 1.0, INF, 5e-324])
def config_float_attribute(compile):
    return _config_case(compile, lambda out, c: _scale_use(out, c.f), lambda c, v: setattr(c, "f", v))


@case([1.0, 2.0, 3.0, 1.0])
def config_nested_dict_list(compile):
    return _config_case(compile, lambda out, c: (out * c.nested["k"][0] * c.nested["k"][1]["w"]).sum(),
                        lambda c, v: c.nested["k"][1].__setitem__("w", v))


@case([("a", 1.0), ("b", 3.0), ("a", 2.0), ("b", 2.0)])
def config_property(compile):
    return _config_case(compile, lambda out, c: (out * c.product).sum(), lambda c, v: setattr(c, *v))


@case([2.0, 3.0, 2.0, NAN, 4.0])
def config_class_attribute_changed_on_class(compile):
    return _config_case(compile, lambda out, c: (out * c.scale).sum(), lambda c, v: setattr(Config, "scale", v))


@case(["a", "b", "f", "a"])
def config_getattr_changing_name(compile):
    return _config_case(compile, lambda out, c: (out * getattr(c, c.name)).sum(), lambda c, v: (setattr(c, "name", v), setattr(c, "b", 5.0)))


@dataclass
class MutableCfg:
    scale: float = 1.0
    sizes: list = field(default_factory=lambda: [1, 2])
    mode: Mode = Mode.A


@dataclass(frozen=True)
class FrozenCfg:
    scale: float = 1.0
    mode: Mode = Mode.A
    sl: slice = field(default_factory=lambda: slice(0, 2))


@case([("scale", 2.0), ("scale", NAN), ("scale", 3.0), ("sizes", [1, 3]), ("sizes", [1, 2]), ("scale", -0.0)])
def dataclass_mutable(compile):
    return _dataclass_mutable(compile)


@case([("mode", Mode.A), ("mode", Mode.B), ("mode", Mode.A)])
def dataclass_mutable_enum(compile):
    return _dataclass_mutable(compile)


def _dataclass_mutable(compile):
    cfg = MutableCfg()
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    @compile
    def step():
        out = model(x)
        loss = (out * cfg.scale).sum() + (out * cfg.sizes[1]).sum()
        return loss if cfg.mode is Mode.A else loss * 2

    return (lambda kv: (setattr(cfg, *kv), step())[1]), None, _params(model)


@case([FrozenCfg(), FrozenCfg(scale=2.0), FrozenCfg(scale=NAN), FrozenCfg(scale=2.0), FrozenCfg()])
def dataclass_frozen_replaced(compile):
    return _dataclass_frozen(compile)


@case([FrozenCfg(), FrozenCfg(mode=Mode.B), FrozenCfg()])
def dataclass_frozen_enum(compile):
    return _dataclass_frozen(compile)


@case([FrozenCfg(), FrozenCfg(sl=slice(1, 3)), FrozenCfg()])
def dataclass_frozen_slice(compile):
    return _dataclass_frozen(compile)


def _dataclass_frozen(compile):
    holder = {"cfg": FrozenCfg()}
    model, x = nn.Linear(3, 2), torch.randn(4, 3)

    @compile
    def step():
        cfg = holder["cfg"]
        out = model(x)
        loss = (out[cfg.sl] * cfg.scale).sum() + out[cfg.sl][:, 0].sum() * 0.5
        return loss if cfg.mode is Mode.A else loss * 2

    def call(v):
        holder["cfg"] = v
        return step()

    return call, None, _params(model)


NT = namedtuple("NT", "scale mode")


@case([NT(1.0, "a"), NT(2.0, "a"), NT(2.0, "b"), NT(NAN, "a"), NT(1.0, "a")])
def namedtuple_attribute_of_module(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    model.cfg = NT(1.0, "a")

    @compile
    def step():
        out = model(x)
        loss = (out * model.cfg.scale).sum()
        return loss if model.cfg.mode == "a" else loss * 2

    def call(v):
        model.cfg = v
        return step()

    return call, None, _params(model)


# ------------------------------------------------------------------ attributes of modules
@case([("temperature", 2.0), ("temperature", NAN), ("temperature", 3.0), ("temperature", -0.0), ("temperature", 0.0)])
def module_attribute_float(compile):
    return _module_attributes(compile)


@case([("mode", Mode.A), ("mode", Mode.B), ("mode", Mode.A)])
def module_attribute_enum(compile):
    return _module_attributes(compile)


@case([("sl", slice(0, 2)), ("sl", slice(1, 3)), ("sl", slice(0, 2))])
def module_attribute_slice(compile):
    return _module_attributes(compile)


@case([("scales", (1.0, -0.0)), ("scales", (1.0, 0.0)), ("scales", (2.0, 0.0)), ("scales", (1.0, -0.0))])
def module_attribute_tuple(compile):
    return _module_attributes(compile)


@case([("scales", (1.0, 1.0)), ("scales", (NAN, 1.0)), ("scales", (2.0, 1.0))])
def module_attribute_tuple_nan(compile):
    return _module_attributes(compile)


@case([("fr", fractions.Fraction(1, 3)), ("fr", fractions.Fraction(2, 3)), ("fr", fractions.Fraction(1, 3))])
def module_attribute_fraction(compile):
    return _module_attributes(compile)


def _module_attributes(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    model.temperature, model.mode, model.sl = 1.0, Mode.A, slice(0, 2)
    model.scales, model.fr = (1.0, 1.0), fractions.Fraction(1, 1)

    @compile
    def step():
        out = model(x)[model.sl]
        loss = _scale_use(out, model.temperature) + (out * model.scales[0]).sum() + (out * math.copysign(1.0, model.scales[1])).sum()
        loss = loss + (out * float(model.fr)).sum()
        return loss if model.mode is Mode.A else loss * 2

    def call(kv):
        setattr(model, *kv)
        loss = step()
        model.zero_grad()
        loss.backward() if loss.requires_grad else None
        return loss

    return call, None, _params(model)


@case([("lr", 0.1), ("lr", 0.2), ("lr", 0.1), ("momentum", 0.9), ("momentum", 0.0), ("weight_decay", 0.01),
       ("weight_decay", 0.0), ("lr", NAN), ("lr", 0.1), ("nesterov", True), ("lr", -0.0)])
def sgd_param_groups(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)

    @compile
    def step():
        loss = (model(x) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def call(kv):
        key, value = kv
        if key == "nesterov":
            opt.param_groups[0]["dampening"] = 0.0
        opt.param_groups[0][key] = value
        return step()

    return call, None, _params(model)


@case([("betas", (0.9, 0.999)), ("betas", (0.5, 0.999)), ("betas", (0.9, 0.999)), ("lr", 0.01), ("eps", 1e-3),
       ("weight_decay", 0.1), ("maximize", True), ("maximize", False), ("betas", (0.9, 0.99))])
def adam_param_groups(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.Adam(model.parameters(), lr=0.1)

    @compile
    def step():
        loss = (model(x) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def call(kv):
        opt.param_groups[0][kv[0]] = kv[1]
        return step()

    return call, None, _params(model)


@case([0.1, 0.2, NAN, 0.3, 0.1])
def lr_read_in_step(compile):
    model, x = nn.Linear(3, 2), torch.randn(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    @compile
    def step():
        lr = opt.param_groups[0]["lr"]
        loss = (model(x) ** 2).sum() * (1.0 if lr != lr else lr * 10)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def call(v):
        opt.param_groups[0]["lr"] = v
        return step()

    return call, None, _params(model)


@case([("reduction", "mean"), ("reduction", "sum"), ("label_smoothing", 0.1), ("label_smoothing", 0.0), ("ignore_index", 1),
       ("ignore_index", -100), ("reduction", "none"), ("reduction", "mean"), ("label_smoothing", 0.2)])
def cross_entropy_settings(compile):
    model, x = nn.Linear(3, 3), torch.randn(4, 3)
    y = torch.tensor([0, 1, 2, 1])
    crit = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    @compile
    def step():
        loss = crit(model(x), y)
        if loss.ndim:
            loss = loss.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    def call(kv):
        setattr(crit, *kv)
        return step()

    return call, None, _params(model)


@case([("p", 0.5), ("p", 0.2), ("p", 0.0), ("p", 0.5), ("slope", 0.1), ("slope", -0.0), ("slope", 0.0), ("eps", 1e-3),
       ("momentum", None), ("momentum", 0.5), ("momentum", None), ("eps", 1e-5)])
def layer_settings(compile):
    drop, act, bn = nn.Dropout(0.5), nn.LeakyReLU(0.01), nn.BatchNorm1d(4)
    lin = nn.Linear(3, 4)
    x = torch.randn(6, 3)
    opt = torch.optim.SGD([*lin.parameters(), *bn.parameters()], lr=0.1)

    @compile
    def step():
        out = drop(act(bn(lin(x))))
        loss = (out ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss, bn.running_mean, bn.running_var

    def call(kv):
        key, value = kv
        target = {"p": (drop, "p"), "slope": (act, "negative_slope"), "eps": (bn, "eps"), "momentum": (bn, "momentum")}[key]
        setattr(*target, value)
        return step()

    return call, None, _params(lin, bn)


# ------------------------------------------------------------------ the test
@pytest.mark.parametrize("name", list(CASES))
def test_value_changes_match_eager(name):
    build, values = CASES[name]

    def case_fn(compile):
        call, _, params = build(compile)
        return call, values, params

    eager, _ = _run(case_fn, False)
    compiled, caught = _run(case_fn, True)
    assert_identical(compiled, eager, f"{name} (warnings: {caught})")
