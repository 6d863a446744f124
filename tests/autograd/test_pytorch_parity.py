"""Autograd behaviours checked against PyTorch itself: each test runs the same code with ``torch``
and with ``chainrule`` and compares what they give.

Custom Functions with outputs that are no tensors, ``mark_dirty``, ``once_differentiable``,
``grad(materialize_grads=, is_grads_batched=, inputs as a dict)``, anomaly mode switches, grad
mode decorators on generators, ``next_functions``, calling a node and its ``_saved_*`` values.
"""
import numpy as np
import pytest
import torch

import chainrule
from chainrule.autograd.anomaly import is_anomaly_check_nan_enabled, is_anomaly_enabled, set_anomaly_enabled

LIBRARIES = pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])


class Values:
    """A tensor's values, equal to another's when they agree to float32 rounding (the libraries
    compute exp and friends with different code); the dtype is not compared."""

    def __init__(self, tensor):
        self._array = np.asarray(tensor.detach().numpy(), dtype=np.float64)

    def __eq__(self, other):
        return isinstance(other, Values) and self._array.shape == other._array.shape and np.allclose(self._array, other._array, rtol=1e-6)

    def __repr__(self):
        return f"Values({self._array.tolist()})"


def values(result):
    """A result as plain Python, to compare across the two libraries (tensors as ``Values``)."""
    if isinstance(result, (tuple, list)):
        return type(result)(values(each) for each in result)
    if isinstance(result, dict):
        return {key: values(each) for key, each in result.items()}
    if isinstance(result, (torch.Tensor, chainrule.Tensor)):
        return Values(result)
    return result


def same_in_both(run):
    """``run(lib)`` for both libraries, checked to give the same values; returns chainrule's result."""
    expected, actual = run(torch), run(chainrule)
    assert values(actual) == values(expected)
    return actual


# ----------------------------------------------------------------- outputs that are no tensors
def with_constants(lib):
    class Mixed(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5, "a", None, True

        @staticmethod
        def backward(ctx, *grads):
            ctx.seen = [grad is None for grad in grads]
            return grads[0] * 2

    return Mixed


def test_custom_function_returns_non_tensor_outputs_unchanged():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        outputs = with_constants(lib).apply(x)
        kinds = [type(output).__name__ for output in outputs[1:]]
        node = outputs[0].grad_fn
        outputs[0].sum().backward()
        return outputs[1:], kinds, node.seen, x.grad

    constants, kinds, seen, grad = same_in_both(run)
    assert constants == (5, "a", None, True)
    assert kinds == ["int", "str", "NoneType", "bool"]
    assert seen == [False, True, True, True, True]  # backward gets None for each non-tensor output


def test_non_tensor_output_between_tensors_keeps_output_positions():
    def run(lib):
        class Split(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 3, x * 3

            @staticmethod
            def backward(ctx, first, count, second):
                ctx.seen = (values(first), count, values(second))
                return first * 2 + second * 3

        x = lib.ones(2, requires_grad=True)
        first, count, second = Split.apply(x)
        node = second.grad_fn
        second.sum().backward()
        return count, second.output_nr, node.seen, x.grad

    count, output_nr, seen, _ = same_in_both(run)
    assert output_nr == 2
    assert seen[0]._array.tolist() == [0.0, 0.0] and seen[1] is None  # zeros for the tensor, None for the count


@pytest.mark.parametrize("value", [5, True, None, "text"])
def test_lone_non_tensor_output(value):
    def run(lib):
        class Constant(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return value

            @staticmethod
            def backward(ctx, grad):
                return grad

        return Constant.apply(lib.ones(2, requires_grad=True)), Constant.apply(lib.ones(2))

    assert same_in_both(run) == (value, value)


def test_non_tensor_outputs_without_recording():
    def run(lib):
        with lib.no_grad():
            first = with_constants(lib).apply(lib.ones(2, requires_grad=True))
        return first, with_constants(lib).apply(lib.ones(2))

    same_in_both(run)


# ----------------------------------------------------------------- FunctionCtx, mark_dirty
def test_function_module_exports():
    from chainrule.autograd.function import FunctionCtx, once_differentiable  # noqa: F401

    seen = []

    class Look(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            seen.append(isinstance(ctx, FunctionCtx))
            return x * 1

        @staticmethod
        def backward(ctx, grad):
            return grad

    Look.apply(chainrule.ones(1, requires_grad=True))
    Look.apply(chainrule.ones(1))
    assert seen == [True, True]


def in_place_double(lib):
    class Double(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor):
            x.mul_(factor)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    return Double


def test_mark_dirty_returns_the_input_with_its_new_history():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        b = a.clone()
        c = in_place_double(lib).apply(b, 2.0)
        facts = (c is b, b._version, type(b.grad_fn).__name__, b.output_nr, b.is_leaf)
        c.sum().backward()
        return facts, b, a.grad

    facts, _, _ = same_in_both(run)
    assert facts == (True, 2, "DoubleBackward", 0, False)


def test_mark_dirty_without_recording():
    def run(lib):
        d = lib.ones(2)
        e = in_place_double(lib).apply(d, 2.0)
        with lib.no_grad():
            f = lib.ones(2, requires_grad=True).clone()
            g = in_place_double(lib).apply(f, 3.0)
        return e is d, d._version, e.grad_fn, g is f, f._version, f

    same_in_both(run)


def test_mark_dirty_gives_history_to_an_input_that_needed_none():
    def run(lib):
        class AddInto(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                x.add_(w)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad, grad

        w = lib.ones(2, requires_grad=True)
        d = lib.zeros(2)
        r = AddInto.apply(d, w)
        facts = (r is d, d.requires_grad, d.is_leaf)
        r.sum().backward()
        return facts, w.grad

    assert same_in_both(run)[0] == (True, True, False)


@pytest.mark.parametrize("case", ["leaf", "not returned", "saved before"])
def test_mark_dirty_errors(case):
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        if case == "leaf":
            in_place_double(lib).apply(a, 2.0)
        elif case == "not returned":
            class Hidden(lib.autograd.Function):
                @staticmethod
                def forward(ctx, x):
                    x.mul_(2)
                    ctx.mark_dirty(x)
                    return x * 3

                @staticmethod
                def backward(ctx, grad):
                    return grad

            Hidden.apply(a.clone())
        else:
            b = a.clone()
            squared = b * b
            in_place_double(lib).apply(b, 3.0)
            squared.sum().backward()

    messages = {
        "leaf": "a leaf Variable that requires grad",
        "not returned": "Some elements marked as dirty during the forward method were not returned as output",
        "saved before": "modified by an inplace operation",
    }
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match=messages[case]):
            run(lib)


def test_mark_dirty_moves_retain_grad():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        b = a * 1
        b.retain_grad()
        c = in_place_double(lib).apply(b, 2.0)
        (c * 3).sum().backward()
        return b.retains_grad, b.grad, a.grad

    same_in_both(run)


# ----------------------------------------------------------------- once_differentiable
def once_square(lib):
    from_module = __import__(f"{lib.__name__}.autograd.function", fromlist=["once_differentiable"])

    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        @from_module.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            ctx.mode = lib.is_grad_enabled()
            return 2 * x * grad

    return Square


def test_once_differentiable_runs_backward_without_recording():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = once_square(lib).apply(x)
        node = y.grad_fn
        (plain,) = lib.autograd.grad(y.sum(), x)
        y = once_square(lib).apply(x)
        (first,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        return plain, node.mode, first, first.requires_grad

    assert same_in_both(run)[1] is False


def test_once_differentiable_refuses_double_backward():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = once_square(lib).apply(x * 1)
        (gradient,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        facts = (values(gradient), gradient.requires_grad)
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with @once_differentiable"):
            gradient.sum().backward()
        y = once_square(lib).apply(x)
        (gradient,) = lib.autograd.grad(y, x, lib.ones(2, requires_grad=True), create_graph=True)
        return facts, type(gradient.grad_fn).__name__

    same_in_both(run)


def boxed_function(lib):
    """A Function with two outputs whose backward gets its gradients as one list (boxed_grads_call)
    and empties it as it goes, as PyTorch's extending notes' QKV projection does."""

    class TwoScales(lib.autograd.Function):
        boxed_grads_call = True

        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, grads):
            ctx.kinds = (type(grads).__name__, len(grads))
            first, grads[0] = grads[0], None
            return first * 2 + grads[1] * 3

    return TwoScales


def test_boxed_grads_call_gives_backward_one_list():
    def run(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        a, b = boxed_function(lib).apply(x)
        (a.sum() + 2 * b.sum()).backward()
        called = a.grad_fn.apply(lib.ones(2), lib.ones(2))  # calling the node boxes the gradients too
        a, b = boxed_function(lib).apply(x)
        (recorded,) = lib.autograd.grad(b.sum(), x, create_graph=True)
        return values(x.grad), a.grad_fn.kinds, values(called), values(recorded)

    assert same_in_both(run)[1] == ("list", 2)


def test_clear_saved_tensors_on_access_hands_them_out_once():
    def run(lib):
        class Double(lib.autograd.Function):
            clear_saved_tensors_on_access = True

            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad_output):
                (x,) = ctx.saved_tensors
                return grad_output * 2 + x * 0

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = Double.apply(x)
        y.sum().backward(retain_graph=True)
        with pytest.raises(RuntimeError, match="saved_tensors can only be accessed once when clear_saved_tensors_on_access"):
            y.sum().backward()  # the first backward took them
        y = Double.apply(x)
        (read,) = y.grad_fn.saved_tensors
        with pytest.raises(RuntimeError, match="can only be accessed once"):
            y.grad_fn.saved_tensors
        return values(x.grad), values(read)

    same_in_both(run)


# ----------------------------------------------------------------- grad's options
def test_grad_materialize_grads():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        w = lib.ones(2, requires_grad=True)
        y = (x * 2).sum()
        plain = lib.autograd.grad(y, (x, w), materialize_grads=True, retain_graph=True)
        recorded = lib.autograd.grad(y, (x, w), materialize_grads=True, create_graph=True)
        return plain, recorded[1].requires_grad

    same_in_both(run)
    for lib in (torch, chainrule):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed"):
            lib.autograd.grad(x.sum(), (x, lib.ones(1, requires_grad=True)), materialize_grads=True, allow_unused=False)


def test_grad_with_inputs_as_a_dict():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        w = lib.ones(2, requires_grad=True)
        return lib.autograd.grad((x * lib.tensor([1.0, 2.0, 3.0])).sum(), {"x": x, "w": w}, materialize_grads=True)

    assert list(same_in_both(run)) == ["x", "w"]


def test_grad_is_grads_batched():
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.ones(2, requires_grad=True)
        y = x * lib.tensor([1.0, 2.0, 3.0])
        jacobian = lib.autograd.grad(y, x, lib.eye(3), is_grads_batched=True, retain_graph=True)
        unused = lib.autograd.grad(y, (x, w), lib.eye(3), is_grads_batched=True, allow_unused=True, retain_graph=True)
        zeros = lib.autograd.grad(y, (x, w), lib.eye(3), is_grads_batched=True, materialize_grads=True)
        z = x**2
        two_outputs = lib.autograd.grad((z, z * 2), x, (lib.eye(3), 2 * lib.eye(3)), is_grads_batched=True)
        (first,) = lib.autograd.grad((x**3).sum(), x, create_graph=True)
        hessian = lib.autograd.grad(first, x, lib.eye(3), is_grads_batched=True)
        return jacobian, unused, zeros, two_outputs, hessian

    same_in_both(run)


def test_grad_is_grads_batched_recorded():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (rows,) = lib.autograd.grad(x**3, x, lib.eye(2), is_grads_batched=True, create_graph=True)
        (again,) = lib.autograd.grad(rows.sum(), x)
        return rows, again

    same_in_both(run)


def test_grad_is_grads_batched_checks_shapes():
    for lib in (torch, chainrule):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="If `is_grads_batched=True`, we interpret the first dimension"):
            lib.autograd.grad(x * 2, x, lib.ones(2, 2), is_grads_batched=True)


# ----------------------------------------------------------------- anomaly and grad mode switches
def test_anomaly_switches():
    def run(lib):
        module = lib if lib is torch else chainrule.autograd.anomaly
        seen = [module.is_anomaly_enabled(), module.is_anomaly_check_nan_enabled()]
        module.set_anomaly_enabled(True, False)
        seen += [module.is_anomaly_enabled(), module.is_anomaly_check_nan_enabled()]
        module.set_anomaly_enabled(False)
        seen += [module.is_anomaly_enabled(), module.is_anomaly_check_nan_enabled()]
        switch = lib.autograd.set_detect_anomaly(True)  # a plain call switches it on
        seen += [type(switch).__name__, module.is_anomaly_enabled()]
        with lib.autograd.set_detect_anomaly(False):
            seen.append(module.is_anomaly_enabled())
        seen.append(module.is_anomaly_enabled())  # restored on exit
        with lib.autograd.set_detect_anomaly(True, check_nan=False):
            seen.append(module.is_anomaly_check_nan_enabled())
        lib.autograd.set_detect_anomaly(False)
        seen += [module.is_anomaly_enabled(), module.is_anomaly_check_nan_enabled()]
        return seen

    assert same_in_both(run)[:6] == [False, True, True, False, False, True]


def test_anomaly_switches_are_what_chainrule_exports():
    assert set_anomaly_enabled is chainrule.autograd.anomaly.set_anomaly_enabled
    assert not is_anomaly_enabled() and is_anomaly_check_nan_enabled()


def test_nan_check_runs_only_while_anomaly_detection_is_on():
    x = chainrule.tensor([0.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()  # 0 * inf: nan, silently, with detection off
    assert np.isnan(x.grad.numpy()).all()
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with chainrule.autograd.detect_anomaly():
            y = x.sqrt() * 0
            with pytest.raises(RuntimeError, match="returned nan values"):
                y.sum().backward()


def test_inference_mode_keyword():
    def run(lib):
        seen = []
        with lib.inference_mode(mode=False):
            seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        with lib.inference_mode():
            with lib.inference_mode(mode=False):
                seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))

        @lib.inference_mode
        def bare():
            return lib.is_inference_mode_enabled()

        seen.append(bare())
        return seen

    same_in_both(run)


@pytest.mark.parametrize("switch", ["no_grad", "enable_grad", "inference_mode", "set_grad_enabled"])
def test_grad_mode_decorators_apply_inside_generators(switch):
    def run(lib):
        decorator = {  # made only when chosen: set_grad_enabled(False) switches the mode off at once
            "no_grad": lambda: lib.no_grad(),
            "enable_grad": lambda: lib.enable_grad(),
            "inference_mode": lambda: lib.inference_mode(),
            "set_grad_enabled": lambda: lib.set_grad_enabled(False),
        }[switch]()

        @decorator
        def modes():
            received = yield (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
            yield (received, lib.is_grad_enabled(), lib.is_inference_mode_enabled())
            return "done"

        seen = []
        with lib.set_grad_enabled(switch != "enable_grad"):
            generator = modes()
            seen.append(next(generator))
            seen.append(lib.is_grad_enabled())  # the caller's mode between the yields
            seen.append(generator.send("sent"))
            with pytest.raises(StopIteration) as stop:
                next(generator)
            seen.append(stop.value.value)
            seen.append(lib.is_grad_enabled())
        return seen

    same_in_both(run)


def test_generator_decorator_passes_exceptions_and_close():
    def run(lib):
        events = []

        @lib.no_grad()
        def watched():
            try:
                yield 1
            except ValueError:
                events.append(("caught", lib.is_grad_enabled()))
                yield 2
            finally:
                events.append(("closed", lib.is_grad_enabled()))

        generator = watched()
        next(generator)
        events.append(generator.throw(ValueError("boom")))
        generator.close()
        return events

    same_in_both(run)


# ----------------------------------------------------------------- next_functions
def next_function_names(lib, make):
    x = lib.ones(2, 3, requires_grad=True)
    w = lib.ones(4, 3, requires_grad=True)
    b = lib.ones(4, requires_grad=True)
    constant = lib.ones(2, 3)
    result = make(lib, x, w, b, constant)
    return tuple((None if node is None else type(node).__name__, output_nr) for node, output_nr in result.grad_fn.next_functions)


NEXT_FUNCTIONS = {
    "sum": lambda lib, x, w, b, c: x.sum(),
    "sum_dim": lambda lib, x, w, b, c: x.sum(1),
    "mean": lambda lib, x, w, b, c: x.mean(),
    "mean_dim": lambda lib, x, w, b, c: x.mean(dim=0, keepdim=True),
    "cat": lambda lib, x, w, b, c: lib.cat([c, x], 0),
    "cat_three": lambda lib, x, w, b, c: lib.cat([x, c, x], 1),
    "stack": lambda lib, x, w, b, c: lib.stack([c, x]),
    "where": lambda lib, x, w, b, c: lib.where(c > 0, x, c),
    "where_number": lambda lib, x, w, b, c: lib.where(c > 0, x, 0.0),
    "where_number_first": lambda lib, x, w, b, c: lib.where(c > 0, 1.0, x),
    "pow_number": lambda lib, x, w, b, c: x**2,
    "pow_tensor": lambda lib, x, w, b, c: x**c,
    "clamp": lambda lib, x, w, b, c: x.clamp(0, 1),
    "clamp_min": lambda lib, x, w, b, c: x.clamp(min=0.5),
    "select": lambda lib, x, w, b, c: x[0],
    "index_tensor": lambda lib, x, w, b, c: x[lib.tensor([0, 1])],
    "index_mask": lambda lib, x, w, b, c: x[c > 0],
    "index_select": lambda lib, x, w, b, c: x.index_select(0, lib.tensor([1])),
    "gather": lambda lib, x, w, b, c: x.gather(1, lib.tensor([[0], [1]])),
    "slice": lambda lib, x, w, b, c: x[:, 1:],
    "mul_number": lambda lib, x, w, b, c: x * 2,
    "mul": lambda lib, x, w, b, c: x * c,
    "add_number": lambda lib, x, w, b, c: x + 1,
    "reshape": lambda lib, x, w, b, c: x.reshape(3, 2),
    "masked_select": lambda lib, x, w, b, c: x.masked_select(c > 0),
    "max_dim": lambda lib, x, w, b, c: x.max(1)[0],
    "softmax": lambda lib, x, w, b, c: lib.nn.functional.softmax(x, 1),
    "mse_loss": lambda lib, x, w, b, c: lib.nn.functional.mse_loss(x, c),
    "embedding": lambda lib, x, w, b, c: lib.nn.functional.embedding(lib.tensor([0, 1]), w),
    "matmul": lambda lib, x, w, b, c: x @ w.t(),
}


@pytest.mark.parametrize("name", list(NEXT_FUNCTIONS))
def test_next_functions_list_tensor_inputs_as_pytorch(name):
    make = NEXT_FUNCTIONS[name]
    assert next_function_names(chainrule, make) == next_function_names(torch, make)


@pytest.mark.parametrize("bias", [True, False])
def test_next_functions_of_linear_have_pytorchs_length(bias):
    # PyTorch reaches the weight through TBackward0 (its linear is addmm of the transposed weight);
    # chainrule's one Linear node reaches it directly, so only the entries' count and the others match.
    def entries(lib):
        x = lib.ones(2, 3, requires_grad=True)
        w = lib.ones(4, 3, requires_grad=True)
        b = lib.ones(4, requires_grad=True) if bias else None
        return lib.nn.functional.linear(x, w, b).grad_fn.next_functions

    assert len(entries(chainrule)) == len(entries(torch))


def test_next_functions_of_custom_function_skip_non_tensors():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor, index, other, nothing):
                return x * factor

            @staticmethod
            def backward(ctx, grad):
                return grad, None, None, None, None

        x = lib.ones(2, requires_grad=True)
        y = Scale.apply(x, 3.0, lib.tensor([1]), lib.ones(2), None)
        return [(None if node is None else type(node).__name__, nr) for node, nr in y.grad_fn.next_functions]

    assert same_in_both(run) == [("AccumulateGrad", 0), (None, 0), (None, 0)]


def test_argument_edges_keep_every_argument():
    x = chainrule.ones(2, 3, requires_grad=True)
    node = x.sum(1).grad_fn
    assert len(node.next_functions) == 1
    assert len(node.argument_edges) == len(node.next_nodes) == len(node.input_meta)


# ----------------------------------------------------------------- calling a node, saved values
def test_calling_a_node_returns_its_input_gradients():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        ones = lib.ones(2)
        results = [
            (x**2).grad_fn(ones),
            (x * 2).grad_fn(ones),
            (x * w).grad_fn(ones),
            x.sum().grad_fn(lib.tensor(1.0)),
            lib.cat([x, w]).grad_fn(lib.ones(4)),
            x.sin().grad_fn(ones),
        ]
        node = (x**2).grad_fn
        with lib.no_grad():
            results.append(node(ones))
        recorded = node(ones).requires_grad
        return results, recorded

    assert same_in_both(run)[1] is True


def test_calling_a_node_checks_the_gradients_count():
    for lib in (torch, chainrule):
        x = lib.ones(2, requires_grad=True)
        with pytest.raises(TypeError, match="expected 1 arguments, got 0 instead"):
            (x * 2).grad_fn()


def test_calling_accumulate_grad_accumulates():
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        accumulate = (x * 1).grad_fn.next_functions[0][0]
        return accumulate(lib.ones(2)), x.grad

    assert same_in_both(run)[0] == ()


def test_saved_values_of_mul_and_pow():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        power = x.pow(2)
        product = x * w
        by_number = x * 2
        exp = x.exp()
        return (
            power.grad_fn._saved_self is x,
            power.grad_fn._saved_exponent,
            product.grad_fn._saved_self is x,
            product.grad_fn._saved_other is w,
            by_number.grad_fn._saved_self,
            by_number.grad_fn._saved_other,
            exp.grad_fn._saved_result,
            exp.grad_fn._saved_result is exp,
        )

    facts = same_in_both(run)
    assert facts[:4] == (True, 2, True, True)


def test_saved_values_after_backward_are_freed():
    for lib in (torch, chainrule):
        x = lib.ones(2, requires_grad=True)
        y = x.pow(2)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="after they have already been freed"):
            y.grad_fn._saved_self


def test_raw_saved_tensor_hooks_as_in_the_autograd_notes():
    """The autograd mechanics notes' ``y.grad_fn._raw_saved_self.register_hooks(pack, unpack)``:
    pack runs at once on a detached copy, unpack each time the value is read (by ``_saved_self``
    and by backward), whatever pack returned (here a file name, as the notes' temporary files)."""

    def run(lib, folder):
        calls = []

        def pack(tensor):
            calls.append(("pack", tensor.requires_grad, tensor.grad_fn is None))
            name = str(folder / f"{len(calls)}.pt")
            lib.save(tensor * 10, name)  # (scaled: backward must read what unpack gives)
            return name

        def unpack(name):
            calls.append("unpack")
            return lib.load(name)

        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x * x
        names = sorted(name for name in dir(y.grad_fn) if name.startswith("_raw_saved_"))
        raw = y.grad_fn._raw_saved_other
        raw.register_hooks(pack, unpack)
        seen = values(y.grad_fn._saved_other)
        y.sum().backward()
        errors = []
        with pytest.raises(RuntimeError, match="Calling register_hooks on a saved tensor after it has been freed") as caught:
            raw.register_hooks(pack, unpack)
        errors.append(type(caught.value).__name__)
        y = x * x
        y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: 1)
        with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor") as caught:
            y.sum().backward()
        errors.append(type(caught.value).__name__)
        e = x.exp()
        e.grad_fn._raw_saved_result.register_hooks(lambda t: t * 0, lambda t: t)
        (grad_e,) = lib.autograd.grad(e.sum(), x)
        y = x * x
        y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        with pytest.raises(RuntimeError, match="whose hooks have already been set"):
            y.grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        with pytest.raises(RuntimeError, match="with value None is forbidden"):  # x * 2 saves no self
            (x * 2).grad_fn._raw_saved_self.register_hooks(lambda t: t, lambda t: t)
        return names, calls, seen, values(x.grad), errors, values(grad_e), type(raw).__name__

    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        expected = run(torch, Path(folder))
        actual = run(chainrule, Path(folder))
    assert values(actual) == values(expected)
    assert actual[1] == [("pack", False, True), "unpack", "unpack"] and actual[3] == Values(torch.tensor([11.0, -22.0, 33.0]))
    assert actual[4] == ["RuntimeError", "TypeError"] and actual[6] == "SavedTensor"


def test_unknown_attribute_of_a_node_raises_attribute_error():
    y = chainrule.ones(2, requires_grad=True) * 2
    with pytest.raises(AttributeError):
        y.grad_fn._saved_nothing_like_this
    with pytest.raises(AttributeError):
        y.grad_fn.not_an_attribute
    assert not hasattr(y.grad_fn, "_saved_for_forward")


def test_nodes_show_saved_values_as_pytorch_nodes_do():
    """What graph drawers (torchviz's make_dot) read of a node: a built-in operation's node has no
    ``saved_tensors`` (a custom Function's has), every ``_saved_`` name ``dir`` lists can be read, a
    custom Function's node lists none, and backward still reads what the nodes saved."""

    def run(lib):
        class Square(lib.autograd.Function):  # PyTorch 2's form: forward without ctx, setup_context saves
            forward = staticmethod(lambda i: i * i)
            setup_context = staticmethod(lambda ctx, inputs, output: ctx.save_for_backward(*inputs))
            backward = staticmethod(lambda ctx, grad: 2 * ctx.saved_tensors[0] * grad)

        lib.manual_seed(0)
        layer = lib.nn.Linear(3, 2)
        a = lib.randn(4, 3, requires_grad=True)
        b = lib.randn(3, requires_grad=True)
        product = a * b
        custom = Square.apply(a)
        facts = []
        for node in (layer(a).grad_fn, product.grad_fn, a.sum().grad_fn, a.exp().grad_fn):
            listed = [name for name in dir(node) if name.startswith("_saved_")]
            facts.append((type(node).__name__, hasattr(node, "saved_tensors"), all(hasattr(node, name) for name in listed)))
        facts.append(sorted(name for name in dir(product.grad_fn) if name.startswith("_saved_")))
        facts.append((hasattr(custom.grad_fn, "saved_tensors"), [name for name in dir(custom.grad_fn) if name.startswith("_saved_")]))
        facts.append([tuple(t.shape) for t in custom.grad_fn.saved_tensors])
        (layer(a).sum() + product.sum() + custom.sum()).backward()
        facts.append(a.grad.sum().item())
        return facts

    facts = same_in_both(run)
    assert facts[0] == ("AddmmBackward0", False, True) and facts[4] == ["_saved_other", "_saved_self"]
    assert facts[5] == (True, [])


def test_a_gradient_kept_for_double_backward_lies_row_major_as_pytorchs():
    """With create_graph=True the gradient of ``p.t() * w`` was kept as the transposed view it is:
    ``p.grad.view(-1)`` (AdamP, SGDP, SWATS) failed. PyTorch lays ``.grad`` out as the parameter."""

    def run(lib):
        lib.manual_seed(0)
        p = lib.randn(3, 4, requires_grad=True)
        (p.t().pow(2) * lib.randn(4, 3)).sum().backward(create_graph=True)
        flat = p.grad.view(-1)
        (second,) = lib.autograd.grad((flat * flat).sum(), p)
        return p.grad.stride(), p.grad.is_contiguous(), flat.tolist(), second.tolist()

    same_in_both(run)


def test_writes_through_a_view_of_a_zero_dimensional_tensor():
    """x.view(1).mul_(3) of a scalar (a loss, an accumulator): the view's one element is the base's."""

    def run(lib):
        leaf = lib.tensor(2.0, requires_grad=True)
        x = leaf * 1
        x.view(1).mul_(3)
        x.unsqueeze(0).unsqueeze(1).add_(lib.tensor([[4.0]]))
        y = leaf * 3
        y.expand(4)[2:3].pow_(2)
        (x + y).backward()
        plain = lib.tensor(2.0)
        plain.expand(3)[1:2].fill_(5.0)
        plain.view(1, 1)[0, 0] += 1.0
        empty = plain.reshape(1, 1, 1, 1).diagonal(-2, 1, 2)
        empty[...] = 9.0
        return x.item(), y.item(), leaf.grad.item(), plain.item(), tuple(empty.shape)

    same_in_both(run)
