"""A sweep of the nn containers in depth against PyTorch (the oracle): ``nn.Sequential`` (int,
negative, numpy, tensor and slice indexing, slices of a subclass, ``__setitem__`` / ``__delitem__``
with steps, ``append`` / ``extend`` / ``insert`` / ``pop``, ``+`` / ``+=`` / ``*`` / ``*=`` with
named keys and shared modules, ``OrderedDict`` construction, ``forward`` keyword input),
``nn.ModuleList`` (``insert``, ``extend`` from generators and Sequentials, ``+``, slicing of a
subclass, ``pop`` / ``del`` with negative indices and slices, the ``N x Block`` repr collapsing),
``nn.ModuleDict`` (``update`` from dict / OrderedDict / pairs / ModuleDict / mapping proxy and the
resulting key order, ``pop`` / ``clear``, views, invalid keys), ``nn.ParameterList`` (tensors made
Parameters, non-parameters kept, slicing, index types, ``extra_repr``), ``nn.ParameterDict``
(``setdefault`` / ``fromkeys`` / ``get`` / ``update`` / ``|`` / ``|=`` / ``copy`` / ``popitem`` /
``reversed``, non-Parameter values, half-failed assignments, ``extra_repr``), walking the tree
through containers (``named_modules`` / ``named_parameters`` with ``prefix`` and
``remove_duplicate``, ``state_dict`` keys, ``get_submodule`` / ``get_parameter``), deep and shallow
copies, containers inside containers, dtype conversion and mode switches through containers, the
float64 gradients of parameters reached through each container, the public API surface of each
class, and the exception types for bad use. ``nn.Container`` (deprecated) and its FutureWarning.

What ``tests/parity/test_api_sweep_module_api.py`` already covers (the basic list / dict methods,
``*`` by zero or a float, plain reprs) is not repeated.

Each test runs the same code with ``torch`` and with ``chainrule`` and compares values, dtypes,
shapes, names, orders, reprs or exception types. Tests marked ``xfail(strict=True, reason="BUG:
...")`` are differences found: each turns into an XPASS failure the day it is fixed, and the mark
must go.
"""
import copy
import types
import warnings
from collections import OrderedDict

import numpy as np
import pytest

from tests.parity.sweep import bug, bundle, outcome, raises_as_torch, same_in_both


def _names(modules):
    """The class names of ``modules`` (None stays None)."""
    return [None if module is None else type(module).__name__ for module in modules]


def _keys(module):
    return list(module._modules)


def _pnames(module, **kwargs):
    return [name for name, _ in module.named_parameters(**kwargs)]


def _neutral(text):
    """A repr with chainrule's module name read as torch's (``chainrule.float16`` -> ``torch.float16``)."""
    return text.replace("chainrule", "torch")


def _seq(L, *names, **named):
    """A Sequential of parameter-free layers given by class name, or an OrderedDict of them."""
    if named:
        return L.nn.Sequential(OrderedDict((key, getattr(L.nn, value)()) for key, value in named.items()))
    return L.nn.Sequential(*(getattr(L.nn, name)() for name in names))


def _ml(L, *names):
    return L.nn.ModuleList([getattr(L.nn, name)() for name in names])


def _subclass(L, base):
    return type("Custom" + base, (getattr(L.nn, base),), {})


def _fill(L, module):
    """Deterministic parameter values, the same in both libraries."""
    with L.no_grad():
        for position, param in enumerate(module.parameters()):
            values = L.linspace(-0.9, 0.7, param.numel(), dtype=param.dtype).reshape(tuple(param.shape))
            param.copy_(values + 0.1 * position)
    return module


def _x64(L):
    return L.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=L.float64, requires_grad=True)


# --- values, names, orders --------------------------------------------------------------------

VALUE_CASES = {
    # Sequential: indexing
    "seq_index_forms": bundle(
        lambda L: _names([_seq(L, "ReLU", "Tanh", "ELU")[i] for i in (0, -1, -3, 2)]),
        lambda L: type(_seq(L, "ReLU", "Tanh")[np.int64(-2)]).__name__,
        lambda L: type(_seq(L, "ReLU", "Tanh")[L.tensor(1)]).__name__,
        lambda L: type(_seq(L, "ReLU", "Tanh")[True]).__name__,
        lambda L: type(_seq(L, a="ReLU", b="Tanh")[-1]).__name__,
    ),
    "seq_slices_keep_keys": bundle(
        lambda L: _keys(_seq(L, "ReLU", "Tanh", "ELU")[::-1]),
        lambda L: _names(_seq(L, "ReLU", "Tanh", "ELU")[-2:]),
        lambda L: _keys(_seq(L, "ReLU", "Tanh", "ELU")[1:]),
        lambda L: (lambda s: (type(s).__name__, len(s)))(_seq(L, "ReLU", "Tanh")[5:]),
        lambda L: _keys(_seq(L, a="ReLU", b="Tanh", c="ELU")[::-2]),
    ),
    "seq_slice_shares_modules": lambda L: (lambda s: (s[1:][0] is s[1], s[::2][1] is s[2]))(_seq(L, "ReLU", "Tanh", "ELU")),
    "seq_reversed_slice_forward": lambda L: L.nn.Sequential(L.nn.ReLU(), L.nn.Hardtanh(-0.5, 0.5))[::-1](L.tensor([-2.0, 0.25, 3.0])),
    # Sequential: mutation
    "seq_setitem_negative_keeps_key": lambda L: (lambda s: (s.__setitem__(-1, L.nn.ELU()), _names(s), _keys(s))[1:])(
        _seq(L, a="ReLU", b="Tanh")),
    "seq_delitem_step_renumbers": bundle(
        lambda L: (lambda s: (s.__delitem__(slice(None, None, 2)), _keys(s), _names(s))[1:])(_seq(L, a="ReLU", b="Tanh", c="ELU")),
        lambda L: (lambda s: (s.__delitem__(-1), _keys(s))[1])(_seq(L, a="ReLU", b="Tanh", c="ELU")),
        lambda L: (lambda s: (s.__delitem__(slice(0, 0)), len(s), _keys(s))[1:])(_seq(L, "ReLU")),
        lambda L: (lambda s: (s.__delitem__(slice(None)), len(s), bool(s))[1:])(_seq(L, "ReLU", "Tanh")),
    ),
    "seq_pop_slice": lambda L: (lambda s: (lambda p: (type(p).__name__, _keys(p), _keys(s), _names(s)))(s.pop(slice(0, 2))))(
        _seq(L, a="ReLU", b="Tanh", c="ELU")),
    "seq_pop_negative": lambda L: (lambda s: (type(s.pop(-1)).__name__, _keys(s)))(_seq(L, "ReLU", "Tanh", "ELU")),
    "seq_insert_positions": lambda L: (lambda s: (s.insert(-1, L.nn.ELU()) is s, s.insert(3, L.nn.GELU()), s.insert(-4, L.nn.SiLU()),
                                                  _names(s), _keys(s))[3:])(_seq(L, "ReLU", "Tanh")),
    "seq_append_extend_named": bundle(
        lambda L: (lambda s: (s.extend(_seq(L, "ELU", "GELU")) is s, _names(s), _keys(s)))(_seq(L, a="ReLU")),
        lambda L: (lambda s: (s.extend(m for m in [L.nn.ELU()]), _keys(s))[1])(_seq(L, a="ReLU")),
        lambda L: (lambda s: (s.append(None) is s, len(s), _keys(s), _names(s)))(_seq(L, "ReLU")),
    ),
    # Sequential: operators
    "seq_add_iadd_named": bundle(
        lambda L: _keys(_seq(L, a="ReLU") + _seq(L, b="Tanh")),
        lambda L: (lambda s: (s.__iadd__(_seq(L, b="Tanh")) is s, _keys(s)))(_seq(L, a="ReLU")),
        lambda L: (lambda s, t: (lambda r: (r[0] is s[0], r[1] is t[0]))(s + t))(_seq(L, "ReLU"), _seq(L, "Tanh")),
    ),
    "seq_mul_imul": bundle(
        lambda L: _keys(_seq(L, a="ReLU") * 2),
        lambda L: (lambda s: (lambda r: (r is s, len(s), s[0] is s[2], _keys(s)))(s.__imul__(2)))(_seq(L, "ReLU", "Tanh")),
        lambda L: (lambda s: (s.__imul__(1), len(s))[1])(_seq(L, "ReLU", "Tanh")),
        lambda L: len(_seq(L, "ReLU") * True),
        lambda L: (lambda s: (lambda r: (r[0] is s[0], r[2] is s[0], len(r)))(3 * s))(_seq(L, "ReLU")),
    ),
    "seq_operator_result_types": lambda L: [
        type(_seq(L, "ReLU") * 2).__name__,
        type(_subclass(L, "Sequential")(L.nn.ReLU()) * 2).__name__,
        type(_subclass(L, "Sequential")(L.nn.ReLU()) + L.nn.Sequential()).__name__,
    ],
    # Sequential: construction and forward
    "seq_ordered_dict_construction": bundle(
        lambda L: len(L.nn.Sequential(OrderedDict())),
        lambda L: _keys(L.nn.Sequential(OrderedDict([("z", L.nn.ReLU()), ("a", L.nn.Tanh())]))),
        lambda L: (lambda r: (lambda s: (len(s), [n for n, _ in s.named_modules()], [n for n, _ in s.named_children()],
                                         [n for n, _ in s.named_modules(remove_duplicate=False)]))(L.nn.Sequential(r, r)))(L.nn.ReLU()),
    ),
    "seq_forward_forms": bundle(
        lambda L: L.nn.Sequential()(L.tensor([1.0, -2.0])),
        lambda L: _seq(L, "ReLU")(input=L.tensor([-1.0, 2.0])),
        lambda L: _seq(L, "ReLU", "Tanh")(L.tensor([[-1.0, 0.5], [2.0, 0.0]], dtype=L.float64)),
        lambda L: _seq(L, "ReLU")(L.tensor(-3.0)),
        lambda L: L.nn.Sequential(L.nn.Flatten(0), L.nn.ReLU())(L.zeros(0, 2)),
    ),
    "seq_protocols": bundle(
        lambda L: (lambda r: (r in L.nn.Sequential(r), L.nn.ReLU() in L.nn.Sequential(r)))(L.nn.ReLU()),
        lambda L: _names(reversed(_seq(L, "ReLU", "Tanh"))),
        lambda L: [bool(L.nn.Sequential()), bool(_seq(L, "ReLU")), len(_seq(L, "ReLU", "Tanh"))],
        lambda L: [n for n in dir(_seq(L, "ReLU", "Tanh")) if n[:1].isdigit()],
    ),
    "seq_state_dict_shared_and_renumbered": bundle(
        lambda L: list((L.nn.Sequential(L.nn.Linear(1, 1)) * 2).state_dict()),
        lambda L: _pnames(L.nn.Sequential(L.nn.Linear(1, 1)) * 2),
        lambda L: _pnames(L.nn.Sequential(L.nn.Linear(1, 1)) * 2, remove_duplicate=False),
        lambda L: (lambda s: (s.__delitem__(0), list(s.state_dict()), tuple(s[0].weight.shape))[1:])(
            L.nn.Sequential(L.nn.Linear(1, 1), L.nn.Linear(1, 2))),
    ),
    # ModuleList
    "ml_insert_positions": lambda L: (lambda m: (m.insert(0, L.nn.ELU()), m.insert(3, L.nn.GELU()), m.insert(1, L.nn.SiLU()),
                                                 _names(m), _keys(m))[3:])(_ml(L, "ReLU", "Tanh")),
    "ml_insert_returns_none_append_returns_self": lambda L: (lambda m: (m.insert(0, L.nn.ReLU()), m.append(L.nn.Tanh()) is m,
                                                                        m.extend([]) is m, m.__iadd__([L.nn.ELU()]) is m))(L.nn.ModuleList()),
    "ml_extend_iterables": bundle(
        lambda L: _names(L.nn.ModuleList(m for m in [L.nn.ReLU(), L.nn.Tanh()])),
        lambda L: _names(L.nn.ModuleList(_seq(L, "ReLU", "Tanh"))),
        lambda L: (lambda m: (m.extend(_ml(L, "ELU", "GELU")), _names(m), _keys(m))[1:])(_ml(L, "ReLU")),
        lambda L: (lambda m: (m.extend((L.nn.Identity() for _ in range(2))), len(m))[1])(_ml(L, "ReLU")),
        lambda L: _names(L.nn.ModuleList(modules=(L.nn.ReLU(),))),
    ),
    "ml_add": bundle(
        lambda L: (lambda j: (type(j).__name__, _names(j), _keys(j)))(_ml(L, "ReLU") + (m for m in [L.nn.Tanh()])),
        lambda L: (lambda m: (lambda j: (j[0] is j[1], _pnames(j), _pnames(j, remove_duplicate=False)))(m + m))(
            L.nn.ModuleList([L.nn.Linear(1, 1)])),
        lambda L: type(_subclass(L, "ModuleList")([L.nn.ReLU()]) + [L.nn.Tanh()]).__name__,
        lambda L: _names(_ml(L, "ReLU") + _seq(L, "Tanh", "ELU")),
    ),
    "ml_delete_pop": bundle(
        lambda L: (lambda m: (m.__delitem__(-1), _names(m), _keys(m))[1:])(_ml(L, "ReLU", "Tanh", "ELU")),
        lambda L: (lambda m: (type(m.pop(-2)).__name__, _names(m), _keys(m)))(_ml(L, "ReLU", "Tanh", "ELU")),
        lambda L: (lambda m: (lambda p: (type(p).__name__, _names(p), _keys(m)))(m.pop(slice(None, None, 2))))(_ml(L, "ReLU", "Tanh", "ELU")),
        lambda L: (lambda m: (m.__delitem__(slice(1, None)), _names(m))[1])(_ml(L, "ReLU", "Tanh", "ELU")),
        lambda L: (lambda m: (m.__delitem__(slice(None, None, -1)), len(m))[1])(_ml(L, "ReLU", "Tanh")),
    ),
    "ml_index_forms": bundle(
        lambda L: _names([_ml(L, "ReLU", "Tanh", "ELU")[i] for i in (-1, -3, 1)]),
        lambda L: type(_ml(L, "ReLU", "Tanh")[True]).__name__,
        lambda L: type(_ml(L, "ReLU", "Tanh")[L.tensor(-1)]).__name__,
        lambda L: type(_ml(L, "ReLU", "Tanh")[np.int32(0)]).__name__,
        lambda L: (lambda m: (type(m[1:]).__name__, m[1:][0] is m[1], _names(m[::-1]), len(m[3:])))(_ml(L, "ReLU", "Tanh")),
    ),
    "ml_setitem": bundle(
        lambda L: (lambda m: (m.__setitem__(-1, L.nn.ELU()), _names(m), _keys(m))[1:])(_ml(L, "ReLU", "Tanh")),
        lambda L: (lambda m: (m.__setitem__(0, None), len(m), list(m), _names(m.modules()))[1:])(_ml(L, "ReLU")),
    ),
    # ModuleDict
    "md_update_orders": bundle(
        lambda L: (lambda m: (m.update(L.nn.ModuleDict(OrderedDict(b=L.nn.ReLU(), a=L.nn.ReLU()))), m.update({"y": L.nn.ReLU(), "c": L.nn.ReLU()}),
                              m.update([["x", L.nn.ReLU()], ("z", L.nn.Tanh())]), list(m), _names(m.values()))[3:])(
            L.nn.ModuleDict({"z": L.nn.ReLU()})),
        lambda L: list(L.nn.ModuleDict({"b": L.nn.ReLU(), "a": L.nn.ReLU()})),
        lambda L: list(L.nn.ModuleDict(types.MappingProxyType({"b": L.nn.ReLU(), "a": L.nn.ReLU()}))),
        lambda L: list(L.nn.ModuleDict({"b": L.nn.ReLU(), "a": L.nn.ReLU()}.items())),
        lambda L: list(L.nn.ModuleDict(modules=(("q", L.nn.ReLU()),))),
    ),
    "md_replace_keeps_position": lambda L: (lambda m: (m.__setitem__("a", L.nn.ELU()), list(m), _names(m.values()))[1:])(
        L.nn.ModuleDict(OrderedDict(a=L.nn.ReLU(), b=L.nn.Tanh()))),
    "md_update_partial_on_bad_key": lambda L: (lambda m: (outcome(lambda: m.update([("a", L.nn.ReLU()), ("b.c", L.nn.Tanh())]))[0],
                                                          list(m)))(L.nn.ModuleDict()),
    "md_pop_clear_views": bundle(
        lambda L: (lambda m: (type(m.pop("a")).__name__, list(m), _pnames(m)))(L.nn.ModuleDict({"a": L.nn.Linear(1, 1), "b": L.nn.ReLU()})),
        lambda L: (lambda m: (m.clear(), len(m), list(m.parameters()), bool(m))[1:])(L.nn.ModuleDict({"a": L.nn.Linear(1, 1)})),
        lambda L: (lambda m: (list(m.keys()), _names(m.values()), [(k, type(v).__name__) for k, v in m.items()], len(m.keys())))(
            L.nn.ModuleDict({"b": L.nn.ReLU(), "a": L.nn.Tanh()})),
        lambda L: (lambda m: (m.__setitem__("a", None), list(m), m["a"], _names(m.modules())))(L.nn.ModuleDict({"a": L.nn.Linear(1, 1)}))[1:],
        lambda L: ["a" in L.nn.ModuleDict({"a": L.nn.ReLU()}), 1 in L.nn.ModuleDict(), hasattr(L.nn.ModuleDict(), "get")],
    ),
    "md_key_view_types": lambda L: [type(L.nn.ModuleDict({"a": L.nn.ReLU()}).keys()).__mro__[-2].__name__,
                                    "a" in L.nn.ModuleDict({"a": L.nn.ReLU()}).keys()],
    # ParameterList
    "pl_conversion": bundle(
        lambda L: _names(L.nn.ParameterList([L.zeros(1), L.nn.Parameter(L.ones(2)), 3, "s", None])),
        lambda L: (lambda p: (p[0].requires_grad, p[1].requires_grad, p[0].is_leaf))(
            L.nn.ParameterList([L.zeros(1), L.nn.Parameter(L.zeros(1), requires_grad=False)])),
        lambda L: (lambda p: (type(p[0]).__name__, p[0].requires_grad, p[0].grad_fn is None, p[0].is_leaf))(
            L.nn.ParameterList([L.ones(2, requires_grad=True) * 2])),
        lambda L: (lambda t: (lambda p: (t.add_(1), p[0]))(L.nn.ParameterList([t])))(L.zeros(1))[1],
        lambda L: str(L.nn.ParameterList([L.zeros(1, dtype=L.float64)])[0].dtype).split(".")[-1],
        lambda L: str(L.nn.ParameterList([L.nn.Parameter(L.zeros(2, dtype=L.int64), requires_grad=False)])[0].dtype).split(".")[-1],
    ),
    "pl_methods": bundle(
        lambda L: (lambda p: (p.extend(L.full((1,), float(i)) for i in range(3)) is p, [v.item() for v in p], _names(p)))(L.nn.ParameterList()),
        lambda L: (lambda p: (p.__iadd__([L.zeros(1)]) is p, p.append(L.zeros(1)) is p, len(p)))(L.nn.ParameterList()),
        lambda L: (lambda p: (p.extend({"a": 1, "b": 2}), list(p))[1])(L.nn.ParameterList()),
        lambda L: len(L.nn.ParameterList(values=[L.zeros(1)])),
        lambda L: [bool(L.nn.ParameterList()), bool(L.nn.ParameterList([None]))],
    ),
    "pl_indexing": bundle(
        lambda L: (lambda p: ([v.item() for v in p[::-1]], [v.item() for v in p[-2:]], type(p[1:]).__name__, p[1:][0] is p[1], len(p[5:])))(
            L.nn.ParameterList([L.full((1,), float(i)) for i in range(4)])),
        lambda L: L.nn.ParameterList([L.zeros(1), L.ones(1)])[-1],
        lambda L: L.nn.ParameterList([L.zeros(1), L.ones(1)])[np.int64(1)],
        lambda L: L.nn.ParameterList([L.zeros(1), L.ones(1)])[True],
        lambda L: (lambda p: (p.__setitem__(-1, L.full((1,), 7.0)), p[1], type(p[1]).__name__))(L.nn.ParameterList([L.zeros(1), L.ones(1)]))[1:],
        lambda L: (lambda p: (p.__setitem__(0, 5), p[0]))(L.nn.ParameterList(["x"]))[1],
        lambda L: (lambda p: (p.__setitem__(0, L.ones(1)), type(p[0]).__name__, _pnames(p)))(L.nn.ParameterList([3]))[1:],
    ),
    "pl_protocols": bundle(
        lambda L: (lambda p: (p[0] in p, L.tensor([5.0]) in p))(L.nn.ParameterList([L.zeros(1), L.ones(1)])),
        lambda L: [p.shape[0] for p in reversed(L.nn.ParameterList([L.zeros(1), L.zeros(2)]))],
        lambda L: [n for n in dir(L.nn.ParameterList([L.zeros(1)])) if n[:1].isdigit()],
    ),
    "pl_parameters_and_state": bundle(
        lambda L: (lambda p: (_pnames(L.nn.ParameterList([p, p])), _pnames(L.nn.ParameterList([p, p]), remove_duplicate=False),
                              len(list(L.nn.ParameterList([p, p]).parameters()))))(L.nn.Parameter(L.zeros(1))),
        lambda L: _pnames(L.nn.ParameterList([L.zeros(1), 3, L.zeros(2)]), recurse=False, prefix="pl"),
        lambda L: (lambda p: (list(p.load_state_dict({"0": L.ones(1), "2": L.full((2,), 2.0)})), p[0], p[2]))(
            L.nn.ParameterList([L.zeros(1), 3, L.zeros(2)])),
        lambda L: list(L.nn.ParameterList([L.zeros(1), None, L.zeros(2)]).state_dict(keep_vars=True)),
    ),
    # ParameterDict
    "pd_construction_orders": bundle(
        lambda L: list(L.nn.ParameterDict({"b": L.zeros(1), "a": L.zeros(1)})),
        lambda L: list(L.nn.ParameterDict(OrderedDict(b=L.zeros(1), a=L.zeros(1)))),
        lambda L: list(L.nn.ParameterDict({"b": L.zeros(1), "a": L.zeros(1)}.items())),
        lambda L: list(L.nn.ParameterDict(types.MappingProxyType({"b": L.zeros(1), "a": L.zeros(1)}))),
        lambda L: list(L.nn.ParameterDict(parameters=[("b", L.zeros(1)), ("a", L.zeros(1))])),
        lambda L: (lambda p: (p.update(["ab"]), list(p.items())))(L.nn.ParameterDict())[1],
    ),
    "pd_or_ior_ror": bundle(
        lambda L: (lambda p: (lambda q: (q is p, list(p)))(p.__ior__([("b", L.zeros(1)), ("a", L.zeros(1))])))(L.nn.ParameterDict({"z": L.zeros(1)})),
        lambda L: (lambda p: (lambda q: (type(q).__name__, list(q), q["z"] is p["z"], list(p)))(
            p | L.nn.ParameterDict(OrderedDict(b=L.zeros(1), a=L.zeros(1)))))(L.nn.ParameterDict({"z": L.zeros(1)})),
        lambda L: (lambda q: (type(q).__name__, list(q)))(OrderedDict(y=1) | L.nn.ParameterDict({"z": L.zeros(1)})),
        lambda L: (lambda q: (type(q).__name__, list(q)))(L.nn.ParameterDict({"z": L.zeros(1)}) | {"b": L.zeros(1), "a": 2}),
    ),
    "pd_setdefault_get": bundle(
        lambda L: (lambda p: (p.setdefault("a", L.ones(1)) is p["a"], type(p.setdefault("b", L.ones(1))).__name__, p.setdefault("c"),
                              list(p), _pnames(p)))(L.nn.ParameterDict({"a": L.zeros(1)})),
        lambda L: (lambda p: (p.get("a") is p["a"], p.get("x"), p.get("x", 5), p.get(1, 2)))(L.nn.ParameterDict({"a": L.zeros(1)})),
    ),
    "pd_pop_popitem_clear_del": bundle(
        lambda L: (lambda p: (p.__setitem__("a", L.ones(1)), p.popitem()[0], p.popitem()[0], list(p)))(
            L.nn.ParameterDict(OrderedDict(a=L.zeros(1), m=L.zeros(1), b=L.zeros(1))))[1:],
        lambda L: (lambda p: (lambda kv: (kv[0], type(kv[1]).__name__, list(p)))(p.popitem()))(L.nn.ParameterDict({"a": L.zeros(1)})),
        lambda L: (lambda p: (p.clear(), len(p), list(p.parameters()), hasattr(p, "a")))(L.nn.ParameterDict({"a": L.zeros(1), "s": "x"}))[1:],
        lambda L: (lambda p: (p.__delitem__("a"), list(p), hasattr(p, "a"), _pnames(p)))(L.nn.ParameterDict({"a": L.zeros(1), "b": 3}))[1:],
        lambda L: (lambda p: (type(p.pop("a")).__name__, list(p)))(L.nn.ParameterDict({"a": L.zeros(1), "b": L.zeros(1)})),
    ),
    "pd_copy_fromkeys_reversed": bundle(
        lambda L: (lambda p: (lambda c: (type(c).__name__, list(c), c["b"] is p["b"], c["s"]))(p.copy()))(
            L.nn.ParameterDict(OrderedDict(b=L.zeros(1), s="x", a=L.zeros(1)))),
        lambda L: (lambda p: _pnames(L.nn.ParameterDict().fromkeys(["a", "b"], p)))(L.nn.Parameter(L.zeros(1))),
        lambda L: (lambda d: (_pnames(d), d["a"] is d["b"], type(d).__name__))(L.nn.ParameterDict().fromkeys(["a", "b"], L.zeros(1))),
        lambda L: (lambda d: (list(d), d["y"]))(L.nn.ParameterDict({"q": L.zeros(1)}).fromkeys("xy")),
        lambda L: list(reversed(L.nn.ParameterDict(OrderedDict(b=L.zeros(1), a=2, c=L.zeros(1))))),
    ),
    "pd_non_parameter_values": bundle(
        lambda L: (lambda p: (_names(p.values()), list(p.state_dict()), _pnames(p)))(
            L.nn.ParameterDict(OrderedDict(a="s", b=None, c=[1], d=L.zeros(1)))),
        lambda L: type(L.nn.ParameterDict({"a": L.nn.Parameter(L.zeros(1), requires_grad=False)})["a"]).__name__,
        lambda L: (lambda p: (p["a"], p.a is p["a"]))(L.nn.ParameterDict({"a": 3})),
    ),
    "pd_failed_assignments_keep_key": bundle(
        lambda L: (lambda p: (outcome(lambda: p.__setitem__(1, L.zeros(1)))[0], len(p), list(p)))(L.nn.ParameterDict()),
        lambda L: (lambda p: (outcome(lambda: p.__setitem__("a.b", L.zeros(1)))[0], len(p), list(p)))(L.nn.ParameterDict()),
        lambda L: (lambda p: (p.__setitem__("a.b", 3), len(p), p["a.b"], list(p.state_dict())))(L.nn.ParameterDict())[1:],
    ),
    "pd_views": lambda L: (lambda p: (type(p.keys()).__name__, type(p.items()).__name__, [k for k, _ in p.items()], _names(p.values())))(
        L.nn.ParameterDict(OrderedDict(b=L.zeros(1), a="x"))),
    # through containers
    "nested_named_modules_prefix": bundle(
        lambda L: [n for n, _ in L.nn.Sequential(_seq(L, "ReLU"), _ml(L, "Tanh")).named_modules(prefix="net")],
        lambda L: [n for n, _ in L.nn.ModuleDict({"a": _ml(L, "ReLU", "Tanh"), "b": L.nn.ModuleDict({"c": L.nn.ELU()})}).named_modules()],
        lambda L: _names(L.nn.ModuleDict({"a": _ml(L, "ReLU", "Tanh"), "b": L.nn.ModuleDict({"c": L.nn.ELU()})}).children()),
    ),
    "nested_named_parameters_prefix": lambda L: _pnames(L.nn.ModuleDict({
        "enc": L.nn.Sequential(L.nn.Linear(1, 1)), "pl": L.nn.ParameterList([L.zeros(1), 3, L.zeros(2)]),
        "pd": L.nn.ParameterDict({"b": L.zeros(1), "a": L.zeros(1)})}), prefix="m"),
    "nested_state_dict_prefix": lambda L: list(L.nn.ModuleDict({
        "enc": L.nn.Sequential(L.nn.Linear(1, 1), L.nn.BatchNorm1d(1)), "pl": L.nn.ParameterList([L.zeros(1), 3, L.zeros(2)])}).state_dict(prefix="x.")),
    "shared_module_remove_duplicate": lambda L: (lambda lin: (lambda m: (_pnames(m), _pnames(m, remove_duplicate=False),
                                                                         [n for n, _ in m.named_modules(remove_duplicate=False)],
                                                                         list(m.state_dict())))(
        L.nn.ModuleList([lin, L.nn.Sequential(lin)])))(L.nn.Linear(1, 1)),
    "recurse_false": bundle(
        lambda L: _pnames(L.nn.Sequential(L.nn.Linear(1, 1)), recurse=False),
        lambda L: _pnames(L.nn.ParameterDict({"a": L.zeros(1)}), recurse=False),
    ),
    "dotted_lookups": bundle(
        lambda L: type(L.nn.ModuleDict({"a": L.nn.ModuleList([L.nn.ReLU(), _seq(L, "Tanh")])}).get_submodule("a.1.0")).__name__,
        lambda L: tuple(L.nn.ModuleDict({"p": L.nn.ParameterList([L.zeros(2)])}).get_parameter("p.0").shape),
        lambda L: tuple(L.nn.Sequential(L.nn.ModuleDict({"d": L.nn.ParameterDict({"w": L.zeros(3)})})).get_parameter("0.d.w").shape),
    ),
    "deepcopies": bundle(
        lambda L: (lambda p: (lambda c: (len(c), _names(c), c[0] is p[0], _pnames(c), c[1], c[2]))(copy.deepcopy(p)))(
            L.nn.ParameterList([L.zeros(1), 3, L.ones(2)])),
        lambda L: (lambda p: (lambda c: (list(c), c["a"] is p["a"], c["s"], type(c["a"]).__name__, c["a"]))(copy.deepcopy(p)))(
            L.nn.ParameterDict(OrderedDict(z=L.zeros(1), s="x", a=L.ones(1)))),
        lambda L: (lambda c: (c[0] is c[2], len(c), _keys(c)))(copy.deepcopy(L.nn.Sequential(L.nn.Linear(1, 1), L.nn.ReLU()) * 2)),
        lambda L: (lambda m: (lambda c: (list(c), c["a"] is m["a"], c["b"] is c["a"]))(copy.deepcopy(m)))(
            (lambda r: L.nn.ModuleDict({"a": r, "b": r}))(L.nn.Linear(1, 1))),
        lambda L: (lambda m: (lambda c: (type(c).__name__, _names(c), _keys(c)))(copy.deepcopy(m)))(_subclass(L, "ModuleList")([L.nn.ReLU()])),
    ),
    "shallow_copy_shares_registry": lambda L: (lambda s: (copy.copy(s).append(L.nn.ELU()), len(s))[1])(_seq(L, "ReLU")),
    "dtype_conversion_through_containers": bundle(
        lambda L: (lambda p: (p.double(), [str(v.dtype).split(".")[-1] if hasattr(v, "dtype") else v for v in p.values()], _names(p.values())))(
            L.nn.ParameterDict(OrderedDict(a=L.zeros(1), s=3, i=L.nn.Parameter(L.zeros(1, dtype=L.int64), requires_grad=False))))[1:],
        lambda L: (lambda p: (p.half(), [str(v.dtype).split(".")[-1] for v in p], _names(p), p[0].requires_grad))(
            L.nn.ParameterList([L.zeros(1), L.zeros(1, dtype=L.float64)]))[1:],
        lambda L: (lambda m: (m.to(L.float64), [str(p.dtype).split(".")[-1] for p in m.parameters()]))(
            L.nn.ModuleDict({"a": L.nn.Sequential(L.nn.Linear(1, 1)), "p": L.nn.ParameterList([L.zeros(1)])}))[1],
    ),
    "modes_through_containers": bundle(
        lambda L: (lambda m: (m.eval(), [x.training for x in m.modules()])[1])(
            L.nn.ModuleDict({"a": L.nn.Sequential(L.nn.Dropout()), "b": L.nn.ModuleList([L.nn.ReLU()])})),
        lambda L: (lambda m: (m.requires_grad_(False), [p.requires_grad for p in m.parameters()])[1])(
            L.nn.ModuleDict({"a": L.nn.Sequential(L.nn.Linear(1, 1)), "p": L.nn.ParameterList([L.zeros(1)])})),
        lambda L: (lambda seen: (L.nn.Sequential(_ml(L, "ReLU"), L.nn.Tanh()).apply(lambda m: seen.append(type(m).__name__)), seen)[1])([]),
        lambda L: (lambda m: (m.train(False).training, m[0][0].training))(L.nn.Sequential(L.nn.Sequential(L.nn.Dropout()))),
    ),
}

VALUE_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(VALUE_BUGS[name])) if name in VALUE_BUGS else name for name in VALUE_CASES])
def test_same_values(name):
    same_in_both(VALUE_CASES[name])


# --- differences found, one case each -----------------------------------------------------------

SINGLE_CASES = {
    "seq_slice_of_subclass_keeps_class": lambda L: type(_subclass(L, "Sequential")(L.nn.ReLU(), L.nn.Tanh())[1:]).__name__,
    "ml_slice_of_subclass_keeps_class": lambda L: type(_subclass(L, "ModuleList")([L.nn.ReLU(), L.nn.Tanh()])[1:]).__name__,
    "pl_tensor_index": lambda L: L.nn.ParameterList([L.zeros(1), L.ones(1)])[L.tensor(1)],
    "md_keys_values_repr": lambda L: _neutral(repr((lambda m: (m.keys(), m.values(), m.items()))(L.nn.ModuleDict({"a": L.nn.ReLU()})))),
}

SINGLE_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(SINGLE_BUGS[name])) if name in SINGLE_BUGS else name for name in SINGLE_CASES])
def test_single_difference(name):
    same_in_both(SINGLE_CASES[name])


# --- reprs --------------------------------------------------------------------------------------


class _Holder:
    """Builds a module holding a ParameterList, a ParameterDict and a layer, for nested reprs."""

    @staticmethod
    def build(L):
        module = L.nn.Module()
        module.plist = L.nn.ParameterList([L.zeros(2, 3), 7])
        module.lin = L.nn.Linear(1, 1)
        module.pdict = L.nn.ParameterDict({"w": L.zeros(1, dtype=L.float64)})
        return module


REPR_CASES = {
    "pl_mixed_entries": lambda L: L.nn.ParameterList([L.zeros(2, dtype=L.float16), L.nn.Parameter(L.zeros(1, 2, dtype=L.float64)), None, 3, "s",
                                                      L.nn.Parameter(L.zeros(())), L.zeros(0, 2)]),
    "pd_mixed_entries": lambda L: L.nn.ParameterDict(OrderedDict(h=L.zeros(2, dtype=L.float16), d=L.nn.Parameter(L.zeros(1, 2, dtype=L.float64)),
                                                                 n=None, i=3, z=L.nn.Parameter(L.zeros(())), e=L.zeros(0))),
    "pd_single_int_parameter": lambda L: L.nn.ParameterDict({"i": L.nn.Parameter(L.zeros(2, dtype=L.int64), requires_grad=False)}),
    "empty_parameter_containers": lambda L: (L.nn.ParameterList(), L.nn.ParameterDict(), L.nn.ModuleDict()),
    "ml_runs": lambda L: _ml(L, "ReLU", "ReLU", "Tanh", "ReLU", "ReLU", "ReLU"),
    "ml_collapsed_nested_blocks": lambda L: L.nn.Sequential(L.nn.ModuleList([L.nn.Sequential(L.nn.Linear(1, 1), L.nn.ReLU()) for _ in range(3)]),
                                                            L.nn.ReLU()),
    "ml_none_entries": lambda L: L.nn.ModuleList([None, None, L.nn.ReLU()]),
    "ml_same_module_twice": lambda L: (lambda m: L.nn.ModuleList([m, m]))(L.nn.ReLU()),
    "ml_subclass_ignores_extra_repr": lambda L: type("Blocks", (L.nn.ModuleList,), {"extra_repr": lambda self: "x=1"})([L.nn.ReLU(), L.nn.ReLU()]),
    "ml_differing_settings_not_collapsed": lambda L: L.nn.ModuleList([L.nn.Linear(1, 2), L.nn.Linear(1, 2), L.nn.Linear(2, 1), L.nn.Linear(1, 2)]),
    "md_with_collapsed_ml": lambda L: L.nn.ModuleDict({"a": L.nn.ReLU(), "b": L.nn.ReLU(), "c": L.nn.ModuleList([L.nn.Tanh()] * 2)}),
    "seq_mul_not_collapsed": lambda L: L.nn.Sequential(L.nn.Linear(1, 1)) * 3,
    "seq_after_insert_and_delete": lambda L: (lambda s: (s.insert(0, L.nn.ELU()), s.__delitem__(1), s)[2])(_seq(L, "ReLU", "Tanh")),
    "module_holding_parameter_containers": _Holder.build,
}


@pytest.mark.parametrize("name", list(REPR_CASES))
def test_same_repr(name):
    same_in_both(lambda L: _neutral(repr(REPR_CASES[name](L))))


# --- the public API surface of each container -------------------------------------------------------


@pytest.mark.parametrize("cls", ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict"])
def test_container_api_surface(cls):
    """The methods each container adds to Module (public names and dunders), as PyTorch's."""
    def run(L):
        added = set(dir(getattr(L.nn, cls))) - set(dir(L.nn.Module)) - {"__slotnames__"}
        return sorted(name for name in added if not name.startswith("_") or name.startswith("__"))

    same_in_both(run)


def test_container_exists_and_warns():
    def run(L):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            holder = L.nn.Container(b=L.nn.ReLU(), a=L.nn.Tanh())
        return _keys(holder), [warning.category.__name__ for warning in caught], isinstance(holder, L.nn.Module)

    same_in_both(run)


# --- float64 gradients through containers ---------------------------------------------------------


def _grads(module):
    return [param.grad for param in module.parameters()]


def _mlp(L):
    return _fill(L, L.nn.Sequential(L.nn.Linear(2, 3), L.nn.Tanh(), L.nn.Linear(3, 1)).double())


GRAD_CASES = {
    "sequential_mlp": lambda L: (lambda net, x: (lambda out: (out.sum().backward(), [out, x.grad] + _grads(net))[1])(net(x)))(_mlp(L), _x64(L)),
    "sequential_mul_accumulates_shared": lambda L: (lambda net, x: ((net * 2)(x).sum().backward(), [x.grad] + _grads(net))[1])(
        _fill(L, L.nn.Sequential(L.nn.Linear(2, 2), L.nn.Tanh()).double()), _x64(L)),
    "sequential_slice_shares_parameters": lambda L: (lambda net, x: (net[1:](net[0](x).detach()).sum().backward(),
                                                                     [net[0].weight.grad is None] + _grads(net[2]))[1])(_mlp(L), _x64(L)),
    "modulelist_residual_loop": lambda L: (lambda ml, x: (
        (lambda out: (out.pow(2).sum().backward(), [out, x.grad] + _grads(ml))[1])(
            __import__("functools").reduce(lambda h, layer: L.tanh(layer(h)) + h, ml, x))))(
        _fill(L, L.nn.ModuleList([L.nn.Linear(2, 2) for _ in range(3)]).double()), _x64(L)),
    "moduledict_branches": lambda L: (lambda md, x: ((md["a"](x) * md["b"](x)).sum().backward(), [x.grad] + _grads(md))[1])(
        _fill(L, L.nn.ModuleDict({"b": L.nn.Linear(2, 1), "a": L.nn.Linear(2, 1)}).double()), _x64(L)),
    "parameterlist_polynomial": lambda L: (lambda pl, x: (sum(p * x ** i for i, p in enumerate(pl)).sum().backward(), [x.grad] + _grads(pl))[1])(
        L.nn.ParameterList([L.tensor([0.5, -1.0], dtype=L.float64), L.tensor([2.0, 0.25], dtype=L.float64), L.tensor(1.5, dtype=L.float64)]),
        _x64(L)),
    "parameterdict_shared_fromkeys": lambda L: (lambda p, x: (
        (lambda pd: ((pd["a"] * pd["b"] * x).sum().backward(), [p.grad, x.grad, len(list(pd.parameters()))])[1])(
            L.nn.ParameterDict().fromkeys(["a", "b"], p))))(L.nn.Parameter(L.tensor([1.5, -2.0], dtype=L.float64)), _x64(L)),
    "deepcopy_separates_grads": lambda L: (lambda net, x: (lambda clone: (clone(x).sum().backward(),
                                                                          [net[0].weight.grad is None] + _grads(clone))[1])(copy.deepcopy(net)))(
        _mlp(L), _x64(L)),
    "zero_grad_through_containers": lambda L: (lambda md, x: (
        (md["s"](x) * md["p"]["w"]).sum().backward(), [g.clone() for g in _grads(md)], md.zero_grad(), [g is None for g in _grads(md)])[1::2])(
        _fill(L, L.nn.ModuleDict({"s": L.nn.Sequential(L.nn.Linear(2, 2)), "p": L.nn.ParameterDict({"w": L.ones(2)})}).double()), _x64(L)),
}


@pytest.mark.parametrize("name", list(GRAD_CASES))
def test_same_gradients(name):
    same_in_both(GRAD_CASES[name], rtol=1e-10, atol=1e-12)


# --- bad use: PyTorch's exception type ------------------------------------------------------------

RAISES_CASES = {
    # Sequential
    "seq_insert_non_module": lambda L: _seq(L, "ReLU").insert(0, 3),
    "seq_insert_negative_out_of_range": lambda L: _seq(L, "ReLU").insert(-3, L.nn.ReLU()),
    "seq_index_float": lambda L: _seq(L, "ReLU")[0.0],
    "seq_index_tuple": lambda L: _seq(L, "ReLU")[0, 0],
    "seq_index_negative_out": lambda L: _seq(L, "ReLU", "Tanh")[-3],
    "seq_setitem_float": lambda L: _seq(L, "ReLU").__setitem__(0.0, L.nn.ReLU()),
    "seq_setitem_out_of_range": lambda L: _seq(L, "ReLU").__setitem__(3, L.nn.ReLU()),
    "seq_setitem_non_module": lambda L: _seq(L, "ReLU").__setitem__(0, 3),
    "seq_delitem_float": lambda L: _seq(L, "ReLU").__delitem__(0.0),
    "seq_delitem_str": lambda L: _seq(L, "ReLU").__delitem__("0"),
    "seq_delitem_negative_out": lambda L: _seq(L, "ReLU").__delitem__(-2),
    "seq_pop_without_index": lambda L: _seq(L, "ReLU").pop(),
    "seq_imul_float": lambda L: _seq(L, "ReLU").__imul__(2.0),
    "seq_imul_zero": lambda L: _seq(L, "ReLU").__imul__(0),
    "seq_mul_negative": lambda L: _seq(L, "ReLU") * -1,
    "seq_rmul_float": lambda L: 2.0 * _seq(L, "ReLU"),
    "seq_add_list": lambda L: _seq(L, "ReLU") + [L.nn.ReLU()],
    "seq_iadd_list": lambda L: L.nn.Sequential().__iadd__([L.nn.ReLU()]),
    "seq_iadd_modulelist": lambda L: L.nn.Sequential().__iadd__(_ml(L, "ReLU")),
    "seq_from_list": lambda L: L.nn.Sequential([L.nn.ReLU()]),
    "seq_two_ordered_dicts": lambda L: L.nn.Sequential(OrderedDict(), OrderedDict()),
    "seq_keyword_modules": lambda L: L.nn.Sequential(a=L.nn.ReLU()),
    "seq_ordered_dict_dotted_key": lambda L: L.nn.Sequential(OrderedDict([("a.b", L.nn.ReLU())])),
    "seq_ordered_dict_int_key": lambda L: L.nn.Sequential(OrderedDict([(1, L.nn.ReLU())])),
    "seq_ordered_dict_duplicate_attribute": lambda L: L.nn.Sequential(OrderedDict([("training", L.nn.ReLU())])),
    "seq_forward_two_inputs": lambda L: _seq(L, "ReLU")(L.ones(1), L.ones(1)),
    "seq_forward_none_module": lambda L: L.nn.Sequential(L.nn.ReLU(), None)(L.ones(1)),
    "seq_extend_int": lambda L: _seq(L, "ReLU").extend(3),
    "seq_extend_non_modules": lambda L: _seq(L, "ReLU").extend([1]),
    # ModuleList
    "ml_setitem_slice": lambda L: _ml(L, "ReLU").__setitem__(slice(0, 1), L.nn.ReLU()),
    "ml_setitem_non_module": lambda L: _ml(L, "ReLU").__setitem__(0, 3),
    "ml_index_float": lambda L: _ml(L, "ReLU")[0.0],
    "ml_setitem_float": lambda L: _ml(L, "ReLU").__setitem__(0.0, L.nn.ReLU()),
    "ml_delitem_float": lambda L: _ml(L, "ReLU").__delitem__(0.0),
    "ml_delitem_out_of_range": lambda L: _ml(L, "ReLU").__delitem__(5),
    "ml_pop_out_of_range": lambda L: _ml(L, "ReLU").pop(3),
    "ml_add_int": lambda L: L.nn.ModuleList() + 3,
    "ml_add_non_modules": lambda L: L.nn.ModuleList() + [1],
    "ml_mul": lambda L: L.nn.ModuleList() * 2,
    "ml_extend_str": lambda L: L.nn.ModuleList().extend("ab"),
    "ml_from_moduledict_keys": lambda L: L.nn.ModuleList(L.nn.ModuleDict({"a": L.nn.ReLU()})),
    "ml_add_module_over_plain_attribute": lambda L: (lambda m: (setattr(m, "extra", 1), m.add_module("extra", L.nn.ReLU())))(L.nn.ModuleList()),
    # ModuleDict
    "md_update_none": lambda L: L.nn.ModuleDict().update(None),
    "md_update_triple_string": lambda L: L.nn.ModuleDict().update(["abc"]),
    "md_update_pair_string": lambda L: L.nn.ModuleDict().update(["ab"]),
    "md_update_non_iterable_element": lambda L: L.nn.ModuleDict().update([3]),
    "md_from_modulelist": lambda L: L.nn.ModuleDict(_ml(L, "ReLU")),
    "md_key_shadows_attribute": lambda L: L.nn.ModuleDict().__setitem__("training", L.nn.ReLU()),
    "md_key_shadows_method": lambda L: L.nn.ModuleDict().__setitem__("keys", L.nn.ReLU()),
    "md_key_empty": lambda L: L.nn.ModuleDict().__setitem__("", L.nn.ReLU()),
    "md_pop_with_default": lambda L: L.nn.ModuleDict().pop("a", None),
    "md_delitem_missing": lambda L: L.nn.ModuleDict().__delitem__("a"),
    "md_contains_unhashable": lambda L: [] in L.nn.ModuleDict(),
    "md_reversed": lambda L: list(reversed(L.nn.ModuleDict({"a": L.nn.ReLU()}))),
    "md_getitem_int": lambda L: L.nn.ModuleDict({"a": L.nn.ReLU()})[0],
    # ParameterList
    "pl_index_float": lambda L: L.nn.ParameterList([L.zeros(1), L.ones(1)])[1.0],
    "pl_setitem_float": lambda L: L.nn.ParameterList([L.zeros(1), L.ones(1)]).__setitem__(1.0, L.zeros(1)),
    "pl_index_negative_out": lambda L: L.nn.ParameterList([L.zeros(1)])[-2],
    "pl_setitem_out_of_range": lambda L: L.nn.ParameterList([L.zeros(1)]).__setitem__(1, L.zeros(1)),
    "pl_append_int_tensor": lambda L: L.nn.ParameterList().append(L.tensor([1, 2])),
    "pl_setitem_int_over_parameter": lambda L: L.nn.ParameterList([L.zeros(1)]).__setitem__(0, 3),
    "pl_delitem": lambda L: L.nn.ParameterList([L.zeros(1)]).__delitem__(0),
    "pl_add": lambda L: L.nn.ParameterList([L.zeros(1)]) + L.nn.ParameterList([L.zeros(1)]),
    "pl_extend_int": lambda L: L.nn.ParameterList().extend(3),
    "pl_call_keyword": lambda L: L.nn.ParameterList()(x=1),
    # ParameterDict
    "pd_int_tensor_value": lambda L: L.nn.ParameterDict({"a": L.tensor([1, 2])}),
    "pd_setitem_int_over_parameter": lambda L: L.nn.ParameterDict({"a": L.zeros(1)}).__setitem__("a", 3),
    "pd_delitem_missing": lambda L: L.nn.ParameterDict().__delitem__("a"),
    "pd_popitem_empty": lambda L: L.nn.ParameterDict().popitem(),
    "pd_key_empty": lambda L: L.nn.ParameterDict().__setitem__("", L.zeros(1)),
    "pd_key_shadows_method": lambda L: L.nn.ParameterDict().__setitem__("keys", L.zeros(1)),
    "pd_update_triple_string": lambda L: L.nn.ParameterDict().update(["abc"]),
    "pd_update_none": lambda L: L.nn.ParameterDict().update(None),
    "pd_or_int": lambda L: L.nn.ParameterDict() | 3,
    "pd_ror_int": lambda L: 3 | L.nn.ParameterDict(),
    "pd_contains_unhashable": lambda L: [] in L.nn.ParameterDict(),
    "pd_pop_with_default": lambda L: L.nn.ParameterDict().pop("a", None),
    "pd_call_without_input": lambda L: L.nn.ParameterDict()(),
    "pd_getitem_int_after_failed_set": lambda L: (lambda p: (outcome(lambda: p.__setitem__(1, L.zeros(1))), p[1]))(L.nn.ParameterDict()),
    # through containers
    "get_submodule_negative_index": lambda L: _ml(L, "ReLU").get_submodule("-1"),
    "get_parameter_missing_in_parameterlist": lambda L: L.nn.ModuleDict({"p": L.nn.ParameterList([L.zeros(2), 3])}).get_parameter("p.1"),
    "load_state_dict_strict_renumbered": lambda L: (lambda s: (s.__delitem__(0), s.load_state_dict({"1.weight": L.zeros(1, 1), "1.bias": L.zeros(1)})))(
        L.nn.Sequential(L.nn.Linear(1, 1), L.nn.Linear(1, 1))),
}

RAISES_BUGS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=bug(RAISES_BUGS[name])) if name in RAISES_BUGS else name for name in RAISES_CASES])
def test_raises_as_torch(name):
    raises_as_torch(RAISES_CASES[name])
