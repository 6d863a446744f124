"""Tensor subclasses against PyTorch, beyond ``test_overrides.py``: gradients of subclass leaves
under ``create_graph`` and ``torch.func``, unwrapping inside ``__torch_function__``, subclasses that
make themselves in ``__new__`` or ``__init__``, pickling a subclass's own state, and the
``torch.overrides`` / ``torch._C`` / ``torch._tensor`` names that subclass code reaches for.

Each case runs with ``L = torch`` and ``L = chainrule`` and compares what comes out.
"""
import copy
import inspect
import io
import pickle
import warnings

import pytest
import torch

import chainrule
import chainrule._tensor  # noqa: F401  (torch._tensor, as ``import torch`` gives it)


def both(run):
    """``run(L)`` with PyTorch and with chainrule; (PyTorch's, chainrule's)."""
    outcomes = []
    for library in (torch, chainrule):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcomes.append(run(library))
    return tuple(outcomes)


def recording(L, seen):
    """A Tensor subclass that notes the name of every call handed to it in ``seen``."""

    class Recorded(L.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            seen.append(getattr(func, "__name__", repr(func)))
            return super().__torch_function__(func, types, args, kwargs)

    return Recorded


def outcome(call):
    """What ``call()`` gives, or its error's type and first words (chainrule's add what to do)."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001  (the refusal is what is compared)
        return type(error).__name__, str(error)[:30]


# ----------------------------------------------------------------------------- gradients
def test_gradients_of_a_subclass_leaf_under_create_graph_and_func_grad():
    def run(L):
        class Sub(L.Tensor):
            pass

        x = L.Tensor._make_subclass(Sub, L.ones(2), True)
        first, = L.autograd.grad((x * x).sum(), x, create_graph=True)
        second, = L.autograd.grad((x ** 3).sum(), x, create_graph=True)
        second, = L.autograd.grad(second.sum(), x)
        from_func = L.func.grad(lambda t: (t * t).sum())(L.ones(2).as_subclass(Sub))
        return first.tolist(), first.requires_grad, second.tolist(), type(from_func).__name__, from_func.tolist()

    theirs, ours = both(run)
    assert ours == theirs


def test_a_recorded_backward_hands_no_operation_to_the_subclass():
    """PyTorch computes its own operations' derivatives in C++: the subclass of a saved input sees
    none of the operations, even when the backward is recorded (``create_graph``)."""

    def run(L):
        seen = []
        Recorded = recording(L, seen)
        x = L.Tensor._make_subclass(Recorded, L.ones(2), True)
        y = (x * x * 3).sum()
        seen.clear()
        gradient, = L.autograd.grad(y, x, create_graph=True)
        in_backward = [name for name in seen if name not in ("grad", "backward")]
        return in_backward, gradient.tolist()

    theirs, ours = both(run)
    assert ours == theirs == ([], [6.0, 6.0])


# ----------------------------------------------------------------------------- unwrapping
def test_unwrapping_a_subclass_inside_its_torch_function_hands_nothing_over():
    def run(L):
        seen = []

        class Unwrapping(L.Tensor):
            @classmethod
            def __torch_function__(cls, func, types, args=(), kwargs=None):
                seen.append(func.__name__)
                args = [a.as_subclass(L.Tensor) if isinstance(a, cls) else a for a in args]
                return func(*args, **(kwargs or {}))

        u = L.ones(2, requires_grad=True).as_subclass(Unwrapping)
        total = (u * 2).sum()
        names = list(seen)
        seen.clear()
        plain = [type(u.as_subclass(L.Tensor)).__name__, type(L.Tensor._make_subclass(L.Tensor, u)).__name__]
        return names, type(total).__name__, total.item(), plain, seen

    theirs, ours = both(run)
    assert ours == theirs


def test_chainrules_own_reads_of_a_subclass_are_not_handed_over():
    def run(L):
        seen = []
        Recorded = recording(L, seen)
        x = L.Tensor._make_subclass(Recorded, L.ones(2), True)
        seen.clear()
        x.as_subclass(L.Tensor)
        L.Tensor._make_subclass(L.Tensor, x)
        internal = list(seen)
        seen.clear()
        x._version  # a user's read of PyTorch's private property is handed over
        return internal, seen

    theirs, ours = both(run)
    assert ours == theirs == ([], ["__get__"])


# ----------------------------------------------------------------------------- construction
CONSTRUCTIONS = {
    "data": lambda L, C: C([1.0, 2.0]),
    "sizes": lambda L, C: C(2, 3),
    "no data": lambda L, C: C(),
    "a Size": lambda L, C: C(L.Size([2, 1])),
    "a tensor": lambda L, C: C(L.ones(2)),
    "an int64 tensor": lambda L, C: C(L.arange(3)),
    "a float": lambda L, C: C(1.5),
    "a string": lambda L, C: C("abc"),
    "mixed sizes": lambda L, C: C(2, 3.0),
    "unknown keyword": lambda L, C: C([1.0, 2.0], foo=1),
    "a tensor and requires_grad": lambda L, C: C(L.ones(2), requires_grad=True),
    "device cpu": lambda L, C: C([1.0, 2.0], device="cpu"),
    "device meta": lambda L, C: C([1.0, 2.0], device="meta"),
    "Tensor.__new__ of sizes": lambda L, C: L.Tensor.__new__(C, 2, 3),
    "Tensor.__new__ of data": lambda L, C: L.Tensor.__new__(C, [1.0, 2.0]),
}


#: The constructions whose values are uninitialized memory: only their shape is compared.
UNINITIALIZED = {"sizes", "a Size", "Tensor.__new__ of sizes"}


def described(made, with_values=True):
    """A tensor as its class, shape, dtype name, values and ``meta`` attribute; anything else as it is."""
    if not isinstance(made, (torch.Tensor, chainrule.Tensor)):
        return made
    values = made.tolist() if with_values else None
    return type(made).__name__, tuple(made.shape), str(made.dtype).split(".")[1], values, getattr(made, "meta", None)


@pytest.mark.parametrize("case", CONSTRUCTIONS)
@pytest.mark.parametrize("kind", ["plain subclass", "own __init__ without super", "own __new__ calling super"])
def test_a_subclass_is_made_whole_by_tensors_new(case, kind):
    """PyTorch's legacy constructor makes the tensor in ``__new__``: a subclass's own ``__init__``
    need not call Tensor's, and ``super().__new__(cls, data)`` gives a complete tensor."""

    def run(L):
        if kind == "plain subclass":
            class C(L.Tensor):
                pass
        elif kind == "own __init__ without super":
            class C(L.Tensor):
                def __init__(self, *args, **kwargs):
                    self.meta = "m"
        else:
            class C(L.Tensor):
                def __new__(cls, *args, **kwargs):
                    made = super().__new__(cls, *args, **kwargs)
                    made.meta = "n"
                    return made
        made = outcome(lambda: CONSTRUCTIONS[case](L, C))
        if not isinstance(made, L.Tensor):
            return made
        plus_one = type(made + 1).__name__, None if case in UNINITIALIZED else (made + 1).tolist()
        return described(made, case not in UNINITIALIZED), plus_one

    theirs, ours = both(run)
    assert ours == theirs


def test_tensors_init_is_objects_and_keyword_refusals():
    def run(L):
        class CallsSuperInit(L.Tensor):
            def __init__(self, data):
                super().__init__(data)

        class CallsEmptySuperInit(L.Tensor):
            def __init__(self, data):
                super().__init__()
                self.meta = 1

        empty_init = CallsEmptySuperInit([1.0, 2.0])
        return [
            L.Tensor.__init__ is object.__init__,
            outcome(lambda: CallsSuperInit([1.0, 2.0]))[0],
            (empty_init.tolist(), empty_init.meta),
            outcome(lambda: L.Tensor([1.0], foo=1))[1],
            described(L.Tensor.__new__(L.Tensor)),
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_chainrules_legacy_constructor_keeps_requires_grad():
    """``Tensor(data, requires_grad=True)``: chainrule's addition, kept for subclasses too."""
    made = chainrule.Tensor([1.0, 2.0], requires_grad=True)
    sub = type("Sub", (chainrule.Tensor,), {})([1.0], requires_grad=True)
    assert made.requires_grad and made.is_leaf and sub.requires_grad and type(sub).__name__ == "Sub"


# ----------------------------------------------------------------------------- pickling
def importable_for(L):
    """A decorator making a class defined in a test one that pickle finds: a global of this module,
    named for its library ``L`` (its ``__name__`` unchanged, as compared)."""

    def importable(cls):
        cls.__qualname__ = f"{cls.__name__}_{L.__name__}"
        globals()[cls.__qualname__] = cls
        return cls

    return importable


def subclasses_with_state(L):
    @importable_for(L)
    class WithGetstate(L.Tensor):
        __slots__ = ("a",)

        def __getstate__(self):
            return ({"via_getstate": True}, {"a": self.a})

    @importable_for(L)
    class WithSlots(L.Tensor):
        __slots__ = ("a", "b")

    @importable_for(L)
    class WithSetstate(L.Tensor):
        def __setstate__(self, state):
            self.got = sorted(state)

    with_getstate = L.ones(2).as_subclass(WithGetstate)
    with_getstate.a = 5
    with_slots = L.ones(2).as_subclass(WithSlots)
    with_slots.a, with_slots.x = 1, "d"
    with_setstate = L.ones(2).as_subclass(WithSetstate)
    with_setstate.k = 3
    return with_getstate, with_slots, with_setstate


def state_of(tensor):
    return type(tensor).__name__, tensor.tolist(), {
        name: getattr(tensor, name, "-") for name in ("a", "b", "x", "via_getstate", "got", "k")
    }


def test_pickling_and_saving_keep_a_subclasss_own_state():
    """As PyTorch's ``_get_obj_state``: the class's own ``__getstate__``, else its attributes and
    slots; unpickling hands them to its ``__setstate__`` where it has one."""

    def run(L):
        results = []
        for tensor in subclasses_with_state(L):
            buffer = io.BytesIO()
            L.save(tensor, buffer)
            buffer.seek(0)
            results.append((state_of(pickle.loads(pickle.dumps(tensor))), state_of(L.load(buffer, weights_only=False))))
        return results

    theirs, ours = both(run)
    assert ours == theirs


def test_a_parameter_subclass_with_getstate_and_setstate_pickles():
    """bitsandbytes' ``Params4bit``: its ``__getstate__`` gives ``data`` and ``requires_grad``, its
    ``__setstate__`` reads them (PyTorch rebuilds it as a plain Parameter; chainrule keeps its class)."""

    def run(L):
        @importable_for(L)
        class Params4bit(L.nn.Parameter):
            def __new__(cls, data, requires_grad=False, blocksize=64):
                made = L.Tensor._make_subclass(cls, data, requires_grad)
                made.blocksize = blocksize
                return made

            def __getstate__(self):
                state = self.__dict__.copy()
                state["data"], state["requires_grad"] = self.data, self.requires_grad
                return state

            def __setstate__(self, state):
                self.requires_grad, self.blocksize, self.data = state["requires_grad"], state["blocksize"], state["data"]

        restored = pickle.loads(pickle.dumps(Params4bit(L.ones(2) * 3, blocksize=32)))
        return isinstance(restored, L.nn.Parameter), restored.blocksize, restored.tolist(), restored.requires_grad

    theirs, ours = both(run)
    assert ours == theirs


def test_deepcopy_copies_a_subclasss_slots():
    slotted = subclasses_with_state(chainrule)[1]
    copied = copy.deepcopy(slotted)
    assert state_of(copied) == state_of(slotted) and copied.a == 1 and not hasattr(copied, "b")


# ----------------------------------------------------------------------------- the helpers' names
def test_overridable_ignored_and_testing_overrides():
    def run(L):
        overridable = L.overrides.get_overridable_functions()
        ignored = L.overrides.get_ignored_functions()
        testing = L.overrides.get_testing_overrides()
        add = testing[L.add]
        return [
            L.add in overridable[L], L.Tensor.add in overridable[L.Tensor], L.nn.functional.relu in overridable[L.nn.functional],
            L.linalg.norm in overridable[L.linalg], overridable[L.Tensor.grad] == [L.Tensor.grad.__get__],
            L.Tensor.as_subclass in ignored, L.typename in ignored, L.is_tensor in ignored, L.add in ignored,
            L.Tensor.add in ignored, L.Tensor._make_subclass in ignored, L.tensor in ignored,
            list(inspect.signature(add).parameters)[:2], add(L.ones(1), L.ones(1)), outcome(lambda: add())[0],
            L.Tensor.grad.__get__ in testing, L.Tensor.add in testing, L.nn.functional.relu in testing,
            set(L.overrides.__all__) >= {"get_ignored_functions", "get_overridable_functions", "get_testing_overrides"},
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_pop_mode_temporarily_and_the_c_helpers():
    def run(L):
        seen = []

        class Mode(L.overrides.TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                seen.append(func.__name__)
                return func(*args, **(kwargs or {}))

        with Mode() as mode:
            with L.overrides._pop_mode_temporarily() as popped:
                inside = [popped is mode, L.overrides._get_current_function_mode_stack(), L._C._is_torch_function_mode_enabled()]
                L.ones(1) + 1
            inside.append(L._C._is_torch_function_mode_enabled())
        reentrant = outcome(lambda: L.overrides.enable_reentrant_dispatch().__enter__())  # (outside __torch_dispatch__)

        class Sub(L.Tensor):
            pass

        sub, plain = L.ones(1).as_subclass(Sub), L.ones(1)
        return [
            inside, seen, outcome(lambda: L.overrides._pop_mode())[0], reentrant,
            L._C._has_torch_function((plain,)), L._C._has_torch_function((sub,)), L._C._has_torch_function_unary(sub),
            L._C._has_torch_function_variadic(plain, 2), L._C._has_torch_function is L.overrides.has_torch_function,
            isinstance(plain, L._C.TensorBase), issubclass(Sub, L._C._TensorBase), L._C._TensorBase is L._C.TensorBase,
        ]

    theirs, ours = both(run)
    assert ours == theirs


def test_the_tensor_module():
    """``torch._tensor``: ``Tensor``, ``_convert`` and ``_rebuild_from_type_v2`` (Lightning's loader)."""

    def run(L):
        class Sub(L.Tensor):
            pass

        module = L._tensor
        converted = module._convert((L.ones(1), [L.ones(1)]), Sub)
        with_state = module._rebuild_from_type_v2(lambda: L.ones(2), Sub, (), {"k": 1})
        without = module._rebuild_from_type_v2(L.ones, Sub, (2,), None)
        return [
            module.Tensor is L.Tensor, type(converted).__name__, type(converted[1][0]).__name__,
            type(with_state).__name__, with_state.k, with_state.tolist(), type(without).__name__,
        ]

    theirs, ours = both(run)
    assert ours == theirs
