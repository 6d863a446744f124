"""The ``__torch_function__`` protocol (``chainrule.overrides``), against PyTorch: Tensor subclasses
keep their class through operations, objects that define it answer the functions given them, the
order and arguments of the calls, the refusals, and the ``torch.overrides`` helpers.

Each case runs with ``L = torch`` and ``L = chainrule`` and compares what comes out: the class
names of the results, their values, and the functions the overrides were asked about.
"""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import chainrule


def both(run):
    """``run(L)`` with PyTorch and with chainrule, each from seed 0; (PyTorch's, chainrule's)."""
    outcomes = []
    for library in (torch, chainrule):
        library.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcomes.append(run(library))
    return tuple(outcomes)


def kinds(value):
    """A result described by class names (tensors also by values), nested as it is."""
    if isinstance(value, (torch.Tensor, chainrule.Tensor)):
        return (type(value).__name__, tuple(value.shape), np.asarray(value.detach().numpy(), dtype=np.float64).round(5).tolist())
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, [kinds(each) for each in value])
    return value


def subclass(L):
    class Sub(L.Tensor):
        pass

    return Sub


SUBCLASS_CASES = {
    "operator": lambda L, s: s + 1,
    "reflected operator": lambda L, s: 2 * s,
    "plain on the left": lambda L, s: L.ones(3) * s,
    "plain method, subclass argument": lambda L, s: L.ones(3).add(s),
    "method": lambda L, s: s.exp(),
    "reduction": lambda L, s: s.sum(),
    "function": lambda L, s: L.add(L.ones(3), s),
    "functional": lambda L, s: L.nn.functional.relu(s - 2),
    "linear": lambda L, s: L.nn.functional.linear(s, L.ones(2, 3)),
    "linalg": lambda L, s: L.linalg.norm(s),
    "cat of both": lambda L, s: L.cat([L.zeros(1), s]),
    "indexing": lambda L, s: s[1:],
    "in place gives itself": lambda L, s: s.mul_(2),
    "view": lambda L, s: s.view(3, 1),
    "detach": lambda L, s: s.detach(),
    "data": lambda L, s: s.data,
    "transpose property": lambda L, s: s.view(3, 1).T,
    "max along a dim": lambda L, s: tuple(s.view(1, 3).max(1)),
    "split": lambda L, s: L.split(s, 1),
    "unbind": lambda L, s: s.unbind(),
    "iteration": lambda L, s: list(s),
    "comparison": lambda L, s: s > 1,
    "tolist": lambda L, s: s.tolist(),
    "item": lambda L, s: s.sum().item(),
    "shape": lambda L, s: tuple(s.shape),
    "clone": lambda L, s: s.clone(),
    "zeros_like": lambda L, s: L.zeros_like(s),
}


@pytest.mark.parametrize("case", SUBCLASS_CASES)
def test_a_subclass_keeps_its_class_through_operations(case):
    def run(L):
        Sub = subclass(L)
        return kinds(SUBCLASS_CASES[case](L, L.tensor([1.0, 2.0, 3.0]).as_subclass(Sub)))

    theirs, ours = both(run)
    assert ours == theirs


def test_a_subclass_in_the_graph_gradients_and_grad_are_as_pytorchs():
    def run(L):
        Sub = subclass(L)
        x = Sub([1.0, 2.0, 3.0]).requires_grad_()
        y = (x * x).sum()
        y.backward()
        leaf = L.randn(3, requires_grad=True)
        view = leaf.as_subclass(Sub)
        return [
            type(x).__name__, x.is_leaf, type(y).__name__, type(y.grad_fn).__name__,
            type(x.grad).__name__, x.grad.tolist(), type(view.grad_fn).__name__, view.is_leaf,
            type(view.exp().grad_fn).__name__,
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_parameters_opt_out_and_modules_give_the_input_class():
    def run(L):
        Sub = subclass(L)
        layer = L.nn.Linear(3, 2)
        weight = layer.weight
        return [
            type(weight * 2).__name__, type(weight.data).__name__, type(layer(L.ones(1, 3))).__name__,
            type(layer(L.ones(1, 3).as_subclass(Sub))).__name__,
            type(L.nn.Parameter(L.ones(2)).exp()).__name__,
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_an_opted_out_subclass_and_a_subclass_of_a_subclass():
    def run(L):
        class Plain(L.Tensor):
            __torch_function__ = L._C._disabled_torch_function_impl

        class Parent(L.Tensor):
            pass

        class Child(Parent):
            pass

        class OptedOutChild(Parent):
            __torch_function__ = L._C._disabled_torch_function_impl

        p, c = L.ones(2).as_subclass(Parent), L.ones(2).as_subclass(Child)
        o = L.ones(2).as_subclass(OptedOutChild)
        return [
            type(L.ones(2).as_subclass(Plain) + 1).__name__, type(p + c).__name__, type(c + p).__name__,
            type(o + 1).__name__, type(o.data).__name__, type(c.data).__name__, type(p * o).__name__,
        ]

    theirs, ours = both(run)
    assert ours == theirs


def _logging_subclass(L, log):
    class Logging(L.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            log.append((func.__name__, tuple(t.__name__ for t in types), len(args), sorted(kwargs or {})))
            return super().__torch_function__(func, types, args, kwargs)

    return Logging


LOGGED_CALLS = {
    "operator": lambda L, t: t * 2,
    "reflected": lambda L, t: 3 - t,
    "method with keywords": lambda L, t: t.sum(dim=0, keepdim=True),
    "function": lambda L, t: L.mul(t, t),
    "function given the plain first": lambda L, t: L.add(L.ones(2), t, alpha=2),
    "functional": lambda L, t: L.nn.functional.softmax(t, dim=0),
    "property": lambda L, t: t.shape,
    "grad property": lambda L, t: t.grad,
    "repr": lambda L, t: repr(t),
    "len": lambda L, t: len(t),
    "getitem": lambda L, t: t[0],
    "cat": lambda L, t: L.cat([t, t]),
}


@pytest.mark.parametrize("case", LOGGED_CALLS)
def test_the_overrides_are_asked_about_the_call_made(case):
    def run(L):
        log = []
        t = L.tensor([1.0, 2.0]).as_subclass(_logging_subclass(L, log))
        del log[:]
        result = LOGGED_CALLS[case](L, t)
        return log, kinds(result) if not isinstance(result, str) else result.replace("chainrule", "torch")

    theirs, ours = both(run)
    assert ours == theirs


class _Answering:
    """A class that is no tensor and answers the functions in HANDLED itself."""

    def __init__(self, L, n, value, handled):
        self.L, self.n, self.value, self.handled = L, n, value, handled

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        handler = args[0].handled.get(func) if args and isinstance(args[0], cls) else None
        if handler is None:
            return NotImplemented
        return handler(*args, **(kwargs or {}))


def test_an_object_that_is_no_tensor_answers_the_functions_given_it():
    def run(L):
        handled = {
            L.mean: lambda a: a.value / a.n,
            L.add: lambda a, b: (a.value + (b.value if isinstance(b, _Answering) else b.sum().item())),
            L.nn.functional.relu: lambda a, inplace: max(a.value, 0) if inplace is False else None,
            L.linalg.norm: lambda a, *rest, **options: abs(a.value),
            L.cat: lambda tensors, dim=0: "cat",
        }
        a = _Answering(L, 4, -2.0, handled)
        return [L.mean(a), L.add(a, a), L.add(a, L.ones(3)), L.nn.functional.relu(a), L.linalg.norm(a)]

    theirs, ours = both(run)
    assert ours == theirs


def test_where_every_override_declines_the_error_is_pytorchs():
    def run(L):
        a = _Answering(L, 1, 1.0, {})
        messages = []
        for call in (lambda: L.mul(a, 3), lambda: L.nn.functional.relu(a), lambda: L.ones(2).add(a), lambda: L.ones(2) + a):
            try:
                call()
            except TypeError as error:
                messages.append(str(error).replace("chainrule", "torch").replace("test_overrides.", ""))
        return messages

    theirs, ours = both(run)
    assert ours == theirs


def test_a_wrapper_class_unwraps_its_arguments_and_wraps_the_result():
    class Wrapper:
        def __init__(self, data, tag):
            self.data, self.tag = data, tag

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            tags = [a.tag for a in args if isinstance(a, Wrapper)]
            unwrapped = [a.data if isinstance(a, Wrapper) else a for a in args]
            return Wrapper(func(*unwrapped, **(kwargs or {})), tags[0])

    def run(L):
        m = Wrapper(L.tensor([[1, 2], [3, 4]]), "tag")
        added, product = L.add(L.tensor([[1, 2], [1, 2]]), m), L.mul(L.ones(2, 2, dtype=L.int64), m)
        return [added.tag, added.data.tolist(), product.data.tolist()]

    theirs, ours = both(run)
    assert ours == theirs


def test_the_overrides_helpers():
    def run(L):
        O = L.overrides
        Sub = subclass(L)
        s, t, p = L.ones(2).as_subclass(Sub), L.ones(2), L.nn.Parameter(L.ones(2))

        def scaled(x, factor=2):
            if O.has_torch_function_unary(x):
                return O.handle_torch_function(scaled, (x,), x, factor=factor)
            return x * factor

        @O.wrap_torch_function(lambda x, y: (x, y))
        def total(x, y):
            return x + y

        class Sees:
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return (func.__name__, sorted(kwargs or {}))

        with L._C.DisableTorchFunctionSubclass():
            inside = type(s + 1).__name__, L._C._is_torch_function_enabled()
        return [
            O.has_torch_function((t, 1)), O.has_torch_function((t, s)), O.has_torch_function_unary(p),
            O.has_torch_function_variadic(t, Sees()), O.is_tensor_like(t), O.is_tensor_like(Sees()),
            O.is_tensor_like([1]), L.Tensor.grad.__get__ in O.get_default_nowrap_functions(),
            L._C._is_torch_function_enabled(), inside, type(scaled(s)).__name__, scaled(Sees(), factor=3),
            type(total(s, t)).__name__, total(Sees(), t), O.is_tensor_method_or_property(L.Tensor.add),
            O.is_tensor_method_or_property(L.Tensor.grad.__get__), O.is_tensor_method_or_property(L.add),
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_a_plain_method_as_torch_function_is_deprecated():
    def run(L):
        class Method:
            def __torch_function__(self, func, types, args=(), kwargs=None):
                return "answered"

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            answer = L.add(Method(), 1)
        return answer, [type(w.message).__name__ for w in caught]

    theirs, ours = both(run)
    assert ours == theirs


def test_plain_tensors_pay_nothing_until_a_subclass_overrides():
    """Until a Tensor subclass with an override of its own exists, Tensor's methods are the
    operations themselves: no argument is looked at (what keeps the eager path's cost)."""
    program = (
        "import chainrule, chainrule.overrides as O\n"
        "layer = chainrule.nn.Linear(2, 2); layer(chainrule.ones(1, 2)).sum().backward()\n"
        "class Quiet(chainrule.Tensor):\n    __torch_function__ = chainrule._C._disabled_torch_function_impl\n"
        "print(O._armed, getattr(chainrule.Tensor.exp, '_overridable', False))\n"
        "class Loud(chainrule.Tensor):\n    pass\n"
        "print(O._armed, getattr(chainrule.Tensor.exp, '_overridable', False), (chainrule.ones(2) + 1).tolist())\n"
    )
    printed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True).stdout
    assert printed.split() == ["False", "False", "True", "True", "[2.0,", "2.0]"]


def _logging_mode(L, log, answer=None):
    class Log(L.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            name = L.overrides.resolve_name(func)
            log.append((name.replace("chainrule", "torch") if name else None, [t.__name__ for t in types], kwargs))
            return answer if answer is not None else func(*args, **(kwargs or {}))

    return Log


MODE_CALLS = {
    "factory": lambda L: L.tensor([1.0, -2.0]),
    "operators and methods": lambda L: (L.ones(2) * 2 + 1).sum(dim=0),
    "functions": lambda L: L.relu(L.cat([L.zeros(1), L.ones(1)])),
    "functional, optional arguments by keyword": lambda L: L.nn.functional.softmax(L.ones(2), dim=0),
    "linear layer": lambda L: L.nn.functional.linear(L.ones(1, 2), L.ones(3, 2)),
    "a subclass inside a mode": lambda L: L.ones(2).as_subclass(subclass(L)) + 1,
    "repr": lambda L: repr(L.ones(1)),
}


@pytest.mark.parametrize("case", MODE_CALLS)
def test_a_mode_sees_every_call_in_its_scope(case):
    def run(L):
        log = []
        with _logging_mode(L, log)():
            result = MODE_CALLS[case](L)
        return log, kinds(result) if not isinstance(result, str) else result.replace("chainrule", "torch")

    theirs, ours = both(run)
    assert ours == theirs


def test_modes_nest_and_can_be_switched_off_or_answer_themselves():
    def run(L):
        outer, inner = [], []
        with _logging_mode(L, outer)(), _logging_mode(L, inner)():
            L.ones(1).exp()
            depth = len(L.overrides._get_current_function_mode_stack())
            with L._C.DisableTorchFunction():
                L.ones(1).exp()
        one = L.ones(1)
        with _logging_mode(L, [], answer="answered")():
            answered = L.mul(one, 2), one.exp(), L.nn.functional.relu(one)
        messages = []
        for call in (lambda: L.mul(one, 2), lambda: L.nn.functional.relu(one)):
            try:
                with _logging_mode(L, [], answer=NotImplemented)():
                    call()
            except TypeError as error:
                messages.append(str(error).replace("chainrule", "torch").replace("test_overrides.", "").splitlines()[0].split(" nor in mode")[0])
        names = [[name for name, _, _ in log] for log in (outer, inner)]
        return names, depth, answered, messages, L.overrides._get_current_function_mode()

    theirs, ours = both(run)
    assert ours == theirs


def test_a_subclass_made_in_its_own_new_keeps_what_new_made():
    """``__new__`` returning ``as_subclass`` or ``Tensor._make_subclass`` (the usual ways to write a
    subclass, and Parameter's): its own arguments go to no constructor of Tensor's."""

    def run(L):
        class Cast(L.Tensor):
            def __new__(cls, data, tag=None):
                made = L.as_tensor(data).as_subclass(cls)
                made.tag = tag
                return made

        class Made(L.Tensor):
            def __new__(cls, data, requires_grad=True):
                return L.Tensor._make_subclass(cls, data, requires_grad)

        cast, base = Cast([1.0, 2.0], tag="a"), L.ones(3)
        made = Made(base)
        base.add_(1)
        (made * 2).sum().backward()
        from_graph = Made(L.randn(2, requires_grad=True) * 2, requires_grad=False)
        refusals = []
        for call in (lambda: Made(L.ones(2, dtype=L.int64)), lambda: L.Tensor._make_subclass(Made, [1.0])):
            try:
                call()
            except (RuntimeError, TypeError) as error:
                refusals.append((type(error).__name__, str(error)[:40]))
        return [
            type(cast).__name__, cast.tolist(), cast.tag, cast.is_leaf, type(made).__name__, made.requires_grad,
            made.is_leaf, made.tolist(), made._version == base._version, type(made.grad).__name__, made.grad.tolist(),
            from_graph.is_leaf, from_graph.requires_grad, refusals, type(Made.__mro__[1]([1.0])).__name__,
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_parameters_and_constructors_of_a_users_subclass():
    """A Parameter subclass whose ``__new__`` takes more arguments (bitsandbytes' ``Params4bit``);
    ``Parameter(x)`` of a subclass goes through its ``detach`` (metadata a ``__torch_function__``
    copies is kept); ``MyTensor(t)`` is an alias of t in the graph; ``tensor(x)`` is a plain copy."""

    def run(L):
        class Tagged(L.nn.Parameter):
            def __new__(cls, data=None, requires_grad=True, tag=None):
                made = super().__new__(cls, data, requires_grad)
                made.tag = tag
                return made

        class Meta(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                result = super().__torch_function__(func, types, args, kwargs)
                if isinstance(result, Meta) and args and isinstance(args[0], Meta):
                    result.__dict__.update(args[0].__dict__)
                return result

        tagged = Tagged(L.ones(2), tag="w")
        x = L.ones(2).as_subclass(Meta)
        x.meta = "z"
        parameter = L.nn.Parameter(x)
        base = L.ones(2, requires_grad=True)
        alias = Meta(base)
        (alias * 3).sum().backward()
        refused = None
        try:
            Meta(L.ones(2), tag="q")
        except TypeError as error:
            refused = str(error)[:60]
        return [
            type(tagged).__name__, tagged.tag, tagged.requires_grad, isinstance(tagged, L.nn.Parameter),
            type(parameter).__name__, parameter.meta, parameter.requires_grad, isinstance(parameter, L.nn.Parameter),
            type(alias).__name__, alias._base is base, alias.grad_fn.name(), base.grad.tolist(), refused,
            type(L.tensor(x)).__name__,
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_a_mode_with_a_classmethod_torch_function_is_refused_at_its_first_call():
    for L in (torch, chainrule):
        class ClassLevel(L.overrides.TorchFunctionMode):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                return func(*args, **(kwargs or {}))

        with pytest.raises(RuntimeError, match="as a classmethod is not supported, please make it a plain method"):
            with ClassLevel():
                L.ones(1) + 1
