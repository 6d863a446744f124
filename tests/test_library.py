"""torch.library against PyTorch: custom_op with register_fake/register_autograd (the "Python custom
operators" tutorial's numpy_sin), schema inference and binding errors, kernels per device, Library
define/impl, torch.ops access, opcheck, and vmap rules (register_vmap)."""
import itertools
import re
import typing
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.library  # noqa: F401 - chainrule/__init__ imports it once the lead adds the line

LIBS = pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
_counter = itertools.count()


def fresh(lib, name):
    """A namespace::name of its own for each test and library (PyTorch's registry is global)."""
    return f"t{next(_counter)}_{lib.__name__}::{name}"


def numpy_sin_op(lib, with_autograd):
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "numpy_sin"), mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return lib.from_numpy(np.sin(x.numpy())).to(device=x.device)

    @numpy_sin.register_fake
    def _(x):
        return lib.empty_like(x)

    if with_autograd:
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            ctx.save_for_backward(x)

        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x.cos()

        numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


@LIBS
def test_tutorial_numpy_sin_values_and_gradients(lib):
    op = numpy_sin_op(lib, with_autograd=True)
    x = lib.tensor([0.1, -1.2, 2.5], requires_grad=True)
    y = op(x)
    assert type(y.grad_fn).__name__.startswith("GeneratedBackwardFor_") and type(y.grad_fn).__name__.endswith("_numpy_sin_defaultBackward")
    (grad,) = lib.autograd.grad(y, x, lib.ones_like(y))
    np.testing.assert_allclose(y.detach().numpy(), np.sin([0.1, -1.2, 2.5]), rtol=1e-6)
    np.testing.assert_allclose(grad.numpy(), np.cos([0.1, -1.2, 2.5]), rtol=1e-6)
    namespace, name = op._qualname.split("::")
    packet = getattr(getattr(lib.ops, namespace), name)
    assert str(packet.default._schema) == f"{op._qualname}(Tensor x) -> Tensor" and packet.overloads() == ["default"]
    np.testing.assert_allclose(packet(x).detach().numpy(), y.detach().numpy())
    assert op(lib.ones(2, device="meta")).device.type == "meta"
    assert lib.library.opcheck(op, (lib.randn(3, requires_grad=True),)) == dict.fromkeys(
        ["test_schema", "test_autograd_registration", "test_faketensor", "test_aot_dispatch_dynamic"], "SUCCESS"
    )


@LIBS
def test_a_list_of_ints_argument_is_one_argument_and_a_tensor_list_gets_a_list_of_gradients(lib):
    """The custom operators tutorial's crop(pic, box: Sequence[int]) called with the box as a list
    (opcheck's examples): its backward returns None for the box, which stays one argument; a
    Tensor[] argument's gradient is a list, one per tensor."""
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "crop"), mutates_args=())
    def crop(pic: Tensor, box: typing.Sequence[int]) -> Tensor:
        x0, y0, x1, y1 = box
        return pic[:, y0:y1, x0:x1].clone()

    @crop.register_fake
    def _(pic, box):
        x0, y0, x1, y1 = box
        return pic.new_empty(pic.shape[0], y1 - y0, x1 - x0)

    def setup_context(ctx, inputs, output):
        ctx.pic_shape, ctx.box = inputs[0].shape, inputs[1]

    def backward(ctx, grad_output):
        x0, y0, x1, y1 = ctx.box
        grad_input = grad_output.new_zeros(ctx.pic_shape)
        grad_input[:, y0:y1, x0:x1] = grad_output
        return grad_input, None

    crop.register_autograd(backward, setup_context=setup_context)
    pic = lib.ones(2, 5, 5, requires_grad=True)
    crop(pic, [1, 0, 4, 2]).sum().backward()
    assert pic.grad.sum().item() == 12.0 and pic.grad[0, 0, 1:4].tolist() == [1.0, 1.0, 1.0]
    assert lib.library.opcheck(crop, [lib.randn(3, 6, 6, requires_grad=True), [1, 0, 4, 2]])["test_aot_dispatch_dynamic"] == "SUCCESS"

    @lib.library.custom_op(fresh(lib, "first_of"), mutates_args=())
    def first_of(x: Tensor, others: typing.List[Tensor]) -> Tensor:
        return x * 2

    first_of.register_autograd(lambda ctx, grad: (grad * 2, [None, None]), setup_context=lambda ctx, inputs, output: None)
    x = lib.ones(2, requires_grad=True)
    first_of(x, [lib.ones(2, requires_grad=True), lib.ones(3, requires_grad=True)]).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_a_compiled_function_calls_a_custom_operator_without_looking_inside():
    """The custom operators tutorial: a custom operator whose kernel computes in NumPy runs under
    ``compile(fullgraph=True)`` (PyTorch's compile does not trace into it; chainrule's records it as
    one call), with or without gradients; ``setup_context`` runs only where autograd records."""
    results = []
    for lib in (torch, chainrule):
        setups = []
        Tensor = lib.Tensor

        @lib.library.custom_op(fresh(lib, "numpy_tanh"), mutates_args=())
        def numpy_tanh(x: Tensor) -> Tensor:
            return lib.from_numpy(np.tanh(x.detach().numpy()))

        numpy_tanh.register_fake(lambda x: lib.empty_like(x))
        numpy_tanh.register_autograd(lambda ctx, grad: grad * (1 - ctx.y * ctx.y), setup_context=lambda ctx, inputs, output: setattr(ctx, "y", output))
        compiled = lib.compile(lambda x: numpy_tanh(x) * 2, fullgraph=True, backend="eager")
        values = [compiled(lib.tensor([0.5, -1.0, 2.0])).tolist() for _ in range(2)]
        values.append(compiled(lib.tensor([1.0, 0.0, -0.25])).tolist())
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        for _ in range(2):
            compiled(x).sum().backward()
        numpy_tanh.register_autograd(lambda ctx, grad: grad, setup_context=lambda ctx, inputs, output: setups.append(1))
        numpy_tanh(lib.ones(2)), numpy_tanh(lib.ones(2, requires_grad=True))
        with lib.no_grad():
            numpy_tanh(lib.ones(2, requires_grad=True))
        results.append((np.round(values, 6).tolist(), np.round(x.grad.numpy(), 6).tolist(), len(setups)))
    assert results[1] == results[0]
    assert results[1][2] == 1  # only where autograd records the call


@LIBS
def test_backward_without_formula_raises_as_pytorch(lib):
    op = numpy_sin_op(lib, with_autograd=False)
    y = op(lib.ones(2, requires_grad=True))
    assert y.requires_grad
    with pytest.raises(RuntimeError, match="no autograd formula was registered. Please use register_autograd"):
        y.sum().backward()
    assert not op(lib.ones(2)).requires_grad


@LIBS
def test_vmap_runs_a_custom_operator_once_per_element_but_grad_refuses_it(lib):
    """vmap (nested too, any in_dims) runs an operator that has no batching rule element by element,
    its autograd formula still recorded beneath; torch.func.grad refuses an operator's Function."""
    op = numpy_sin_op(lib, with_autograd=True)
    x = lib.tensor([[0.1, -1.2, 2.5], [0.3, 0.0, -0.7]], requires_grad=True)
    y = lib.func.vmap(op, in_dims=1)(x)
    np.testing.assert_allclose(y.detach().numpy(), np.sin(x.detach().numpy()).T, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.cos(x.detach().numpy()), rtol=1e-6)
    nested = lib.func.vmap(lib.func.vmap(lambda t: op(t) * 2))(lib.ones(2, 3, 4))
    assert nested.shape == (2, 3, 4) and np.allclose(nested.numpy(), 2 * np.sin(1.0))
    with pytest.raises(RuntimeError, match="it must override the setup_context staticmethod"):
        lib.func.grad(lambda t: op(t).sum())(lib.ones(3))
    with pytest.raises(RuntimeError, match="it must override the setup_context staticmethod"):
        lib.func.vmap(lib.func.grad(lambda t: op(t).sum()))(lib.ones(2, 3))


def numpy_mul_op(lib, seen):
    """The register_vmap docs' numpy_mul, its rule registered by name (it moves each batch
    dimension last) and noting the in_dims it gets."""
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "numpy_mul"), mutates_args=())
    def numpy_mul(x: Tensor, y: Tensor) -> Tensor:
        return lib.from_numpy(x.numpy() * y.numpy())

    @lib.library.register_vmap(numpy_mul._qualname)
    def rule(info, in_dims, x, y):
        seen.append(in_dims)
        x_bdim, y_bdim = in_dims
        x = x.movedim(x_bdim, -1) if x_bdim is not None else x.unsqueeze(-1)
        y = y.movedim(y_bdim, -1) if y_bdim is not None else y.unsqueeze(-1)
        return (x * y).movedim(-1, 0), 0

    assert rule is None  # PyTorch's decorator returns None
    return numpy_mul


@LIBS
def test_a_vmap_rule_computes_the_batch_and_an_outer_grad_differentiates_it(lib):
    """vmap (in_dims other than 0, an unbatched argument, nested) runs the rule in place of the
    operator's kernel, which holds no graph; grad of vmap differentiates what the rule computed,
    vmap of grad refuses the operator, as PyTorch."""
    seen = []
    numpy_mul = numpy_mul_op(lib, seen)
    x, y = np.arange(6.0).reshape(2, 3), np.array([2.0, -1.0])
    np.testing.assert_allclose(lib.func.vmap(numpy_mul, in_dims=(1, None))(lib.tensor(x), lib.tensor(y)).numpy(), (x * y[:, None]).T)
    assert seen and all(type(dims) is tuple and len(dims) == 2 for dims in seen)
    a, b = np.random.default_rng(0).normal(size=(3, 4, 2)), np.random.default_rng(1).normal(size=(4, 3))
    nested = lib.func.vmap(lib.func.vmap(numpy_mul, in_dims=(1, 0)), in_dims=(2, None))(lib.tensor(a), lib.tensor(b))
    np.testing.assert_allclose(nested.numpy(), np.einsum("kji,jk->ijk", a, b), rtol=1e-6)
    grad = lib.func.grad(lambda t: lib.func.vmap(numpy_mul)(t, lib.tensor(b.T)).sum())(lib.tensor(a[..., 0]))
    np.testing.assert_allclose(grad.numpy(), b.T)
    with pytest.raises(RuntimeError, match="it must override the setup_context staticmethod"):
        lib.func.vmap(lib.func.grad(lambda t: numpy_mul(t, t).sum()))(lib.tensor(a))
    seen.clear()
    skipped = lib.func.vmap(lambda t: numpy_mul(lib.tensor(y), lib.tensor(y)) + t)(lib.tensor(x.T))
    np.testing.assert_allclose(skipped.numpy(), x.T + y * y)
    assert seen == [] or lib is chainrule  # no tensor batched: PyTorch runs the kernel; chainrule cannot tell


@LIBS
def test_a_vmap_rule_with_tuple_outputs_an_unbatched_output_defaults_and_autograd(lib):
    """The rule gets non-tensor arguments (in_dims None) and keywords as PyTorch's dispatcher
    passes them (those holding their defaults left out), returns a tuple with an unbatched output
    (out_dims None), and calls the operator itself, whose autograd formula then differentiates it."""
    Tensor, seen = lib.Tensor, []

    @lib.library.custom_op(fresh(lib, "cube"), mutates_args=())
    def cube(x: Tensor, k: float = 2.0, *, shift: float = 0.0) -> tuple[Tensor, Tensor]:
        x_np = x.detach().numpy()
        return lib.from_numpy(k * x_np**3 + shift), lib.tensor(k)

    def setup_context(ctx, inputs, keyword_only_inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.k = inputs[1] if len(inputs) > 1 else 2.0

    def backward(ctx, grad, grad_k):
        (x,) = ctx.saved_tensors
        return 3 * ctx.k * x**2 * grad, None

    cube.register_autograd(backward, setup_context=setup_context)

    def rule(info, in_dims, *args, **kwargs):
        seen.append((in_dims, args[1:], kwargs))
        return cube(*args, **kwargs), (in_dims[0], None)

    lib.library.register_vmap(cube, rule)
    x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], requires_grad=True)
    powers, k = lib.func.vmap(lambda t: cube(t, k=3.0, shift=1.0), in_dims=1)(x)
    np.testing.assert_allclose(powers.detach().numpy(), 3 * x.detach().numpy().T ** 3 + 1, rtol=1e-6)
    assert k.tolist() == [3.0, 3.0, 3.0]
    powers.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 9 * x.detach().numpy() ** 2, rtol=1e-6)
    lib.func.vmap(lambda t: cube(t, 2.0, shift=0.0))(x.detach())
    batch_dim = 1 if lib is torch else 0  # chainrule's rule gets each element, batched at 0
    assert list(dict.fromkeys(repr(each) for each in seen)) == [f"(({batch_dim}, None), (3.0,), {{'shift': 1.0}})", "((0,), (), {})"]
    with pytest.raises(RuntimeError, match="it must override the setup_context staticmethod"):
        lib.func.grad(lambda t: lib.func.vmap(cube)(t)[0].sum())(x.detach())


@LIBS
@pytest.mark.parametrize("returned, message", [
    (lambda x: x, r"Got a <class '\w+.Tensor'> instead"),
    (lambda x: (x, x, 0), "Got 3 returns instead"),
    (lambda x: ((x, x), [0, 0]), re.escape(
        "returned an incompatible (output, out_dims) tuple. Expected out_dims=[0, 0] to be compatible with the structure "
        "of `output`. out_dims has structure TreeSpec(list, None, [*,\n  *]) but output has structure TreeSpec(tuple, None, [*,\n  *])"
    )),
])
def test_a_vmap_rule_that_returns_the_wrong_structure_is_refused(lib, returned, message):
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "pair"), mutates_args=())
    def pair(x: Tensor) -> tuple[Tensor, Tensor]:
        return x.clone(), x.clone()

    pair.register_vmap(lambda info, in_dims, x: returned(x))
    with pytest.raises(RuntimeError, match=message):
        lib.func.vmap(pair)(lib.ones(2, 3))


@LIBS
def test_register_vmap_on_an_operator_a_library_defines(lib):
    """A rule for a Library operator by name with lib= (a Tensor[] argument's in_dims are a list);
    destroying that library takes it away; an operator with a keyword-only tensor is refused."""
    namespace = fresh(lib, "x").split("::")[0]
    definitions, seen = lib.library.Library(namespace, "FRAGMENT"), []
    definitions.define("scaled_sum(Tensor x, Tensor[] ys, int n) -> Tensor")
    definitions.impl("scaled_sum", lambda x, ys, n: x * n + sum(ys), "CompositeExplicitAutograd")

    def rule(info, in_dims, x, ys, n):
        seen.append(in_dims)
        moved = [y.unsqueeze(0) if dim is None else y.movedim(dim, 0) for y, dim in zip(ys, in_dims[1])]
        return getattr(getattr(lib.ops, namespace), "scaled_sum")(x.movedim(in_dims[0], 0), moved, n), 0

    rules = lib.library.Library(namespace, "FRAGMENT")
    lib.library.register_vmap(f"{namespace}::scaled_sum", rule, lib=rules)
    op = getattr(lib.ops, namespace).scaled_sum
    x, y, z = lib.arange(6.0).reshape(3, 2), lib.ones(2, 3), lib.arange(3.0)
    out = lib.func.vmap(op, in_dims=(1, [0, None], None))(x, [y, z], 4)
    np.testing.assert_allclose(out.numpy(), 4 * x.numpy().T + 1 + z.numpy())
    assert len(seen) >= 1 and type(seen[0][1]) is list and seen[0][2] is None
    definitions.define("double(Tensor x) -> Tensor")
    definitions.impl("double", lambda x: x * 2, "CompositeExplicitAutograd")
    double = getattr(lib.ops, namespace).double.default
    lib.library.register_vmap(double, lambda info, in_dims, x: (seen.append("double") or double(x), in_dims[0]), lib=rules)
    lib.func.vmap(double)(x)
    rules._destroy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's warning that its batching fallback is slow
        assert lib.func.vmap(double)(x).tolist() == (2 * x).tolist()
    assert seen.count("double") == (1 if lib is torch else 3)
    definitions.define("keyword_tensor(Tensor x, *, Tensor y) -> Tensor")
    with pytest.raises(NotImplementedError, match="register_vmap with kwarg-only Tensor args"):
        lib.library.register_vmap(f"{namespace}::keyword_tensor", rule, lib=rules)


@LIBS
def test_two_outputs_keyword_only_setup_context_and_needs_input_grad(lib):
    Tensor, seen = lib.Tensor, {}

    @lib.library.custom_op(fresh(lib, "two"), mutates_args=())
    def two(x: Tensor, y: Tensor, k: float = 2.0, *, shift: float = 0.0) -> tuple[Tensor, Tensor]:
        return x * y * k + shift, x + y

    def setup_context(ctx, inputs, keyword_only_inputs, output):
        seen.update(inputs=len(inputs), keywords=dict(keyword_only_inputs))
        ctx.save_for_backward(inputs[0], inputs[1])
        ctx.k = inputs[2]

    def backward(ctx, grad_product, grad_sum):
        x, y = ctx.saved_tensors
        seen["needs"] = ctx.needs_input_grad
        return grad_product * y * ctx.k + grad_sum, grad_product * x * ctx.k + grad_sum, None

    lib.library.register_autograd(two._qualname, backward, setup_context=setup_context)
    a, b = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0, 4.0])
    product, total = two(a, b, shift=1.0)
    (product + 2 * total).sum().backward()
    assert a.grad.tolist() == [8.0, 10.0] and product.tolist() == [7.0, 17.0]
    assert seen["inputs"] == 3 and seen["keywords"] == {"shift": 1.0} and seen["needs"][:2] == (True, False)


@LIBS
def test_schema_inference(lib):
    Tensor = lib.Tensor

    def many(x: Tensor, y: typing.Optional[Tensor], z: list[Tensor], w: list[int], d: lib.dtype = lib.float32,
             n: int | None = None, s: str = "a", f: float = 1.5) -> tuple[Tensor, Tensor]: ...

    assert lib.library.infer_schema(many, mutates_args=("z",)) == (
        "(Tensor x, Tensor? y, Tensor(a2!)[] z, SymInt[] w, ScalarType d=float32, SymInt? n=None, str s=\"a\", "
        "float f=1.5) -> (Tensor, Tensor)"
    )

    def one(x: Tensor) -> list[Tensor]: ...

    assert lib.library.infer_schema(one, mutates_args="unknown", op_name="foo") == "foo(Tensor(a0!) x) -> Tensor[]"


@LIBS
@pytest.mark.parametrize("case", ["no_hint", "varargs", "unknown_mutated", "bad_mutates", "dict", "no_return"])
def test_schema_inference_errors(lib, case):
    Tensor = lib.Tensor
    functions = {
        "no_hint": (lambda x: x, ()),
        "unknown_mutated": (lambda: None, ("y",)),
        "bad_mutates": (lambda: None, "bla"),
    }

    def varargs(x: Tensor, *args) -> Tensor: ...

    def dict_arg(x: Tensor, y: dict) -> Tensor: ...

    def no_return(x: Tensor): ...

    function, mutates = {**functions, "varargs": (varargs, ()), "dict": (dict_arg, ()), "no_return": (no_return, ())}[case]
    with pytest.raises(ValueError) as raised:
        lib.library.infer_schema(function, mutates_args=mutates)
    words = {"no_hint": "must have a type annotation", "varargs": "do not support positional-only args",
             "unknown_mutated": "in mutates_args were not found", "bad_mutates": "the string 'unknown'",
             "dict": "has unsupported type <class 'dict'>", "no_return": "No return type annotation"}
    assert words[case] in str(raised.value)


@LIBS
def test_binding_errors_and_defaults(lib):
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "scaled"), mutates_args=())
    def scaled(x: Tensor, k: int = 2, *, s: float = 1.5) -> Tensor:
        return x * k * s

    x = lib.ones(2)
    assert scaled(x).tolist() == [3.0, 3.0] and scaled(x, 3, s=2.0).tolist() == [6.0, 6.0] and scaled(x, True).tolist() == [1.5, 1.5]
    for call, words in [
        (lambda: scaled(1.0), "Expected a value of type 'Tensor' for argument 'x' but instead found type 'float'"),
        (lambda: scaled(x, 2.5), "Expected a value of type 'int' for argument 'k' but instead found type 'float'"),
        (lambda: scaled(x, 1, 2), "takes 2 positional argument(s) but 3 was/were given"),
        (lambda: scaled(x, q=1), "Unknown keyword argument 'q' for operator"),
        (lambda: scaled(), "is missing value for argument 'x'"),
    ]:
        with pytest.raises(RuntimeError) as raised:
            call()
        assert words in str(raised.value)


@LIBS
def test_aliasing_and_mutation(lib):
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "alias"), mutates_args=())
    def alias(x: Tensor) -> Tensor:
        return x.view(-1)

    with pytest.raises(RuntimeError, match="must not also be an input to this custom operator"):
        alias(lib.ones(2))

    @lib.library.custom_op(fresh(lib, "add_into"), mutates_args={"y"})
    def add_into(x: Tensor, y: Tensor) -> None:
        y.add_(x)

    assert str(add_into._opoverload._schema).endswith("(Tensor x, Tensor(a1!) y) -> ()")
    y = lib.zeros(2)
    version = y._version
    assert add_into(lib.ones(2), y) is None and y.tolist() == [1.0, 1.0] and y._version > version
    with pytest.raises(RuntimeError, match="Cannot register autograd formula for non-functional operator"):
        add_into.register_autograd(lambda ctx, grad: grad)

    @lib.library.custom_op(fresh(lib, "sneaky"), mutates_args=())
    def sneaky(x: Tensor) -> Tensor:
        x.add_(1)
        return x.clone()

    results = lib.library.opcheck(sneaky, (lib.randn(3),), raise_exception=False)
    assert str(results["test_schema"]) == "Argument x is not defined as mutable but was mutated"
    assert "There was no fake impl registered" in str(results["test_faketensor"])
    with pytest.raises(ValueError, match="expected test_utils to be subset of"):
        lib.library.opcheck(sneaky, (lib.randn(3),), test_utils="bogus")


@LIBS
def test_device_kernels(lib):
    Tensor = lib.Tensor

    @lib.library.custom_op(fresh(lib, "cuda_only"), mutates_args=(), device_types="cuda")
    def cuda_only(x: Tensor) -> Tensor:
        return x + 1

    with pytest.raises(NotImplementedError, match="with arguments from the 'CPU' backend"):
        cuda_only(lib.ones(2))

    @cuda_only.register_kernel("cpu")
    def _(x):
        return x + 2

    assert cuda_only(lib.ones(2)).tolist() == [3.0, 3.0]
    with cuda_only.set_kernel_enabled("cpu", enabled=False):
        assert cuda_only(lib.ones(2)).tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="There was no fake impl registered"):
        cuda_only(lib.ones(2, device="meta"))
    with pytest.raises(ValueError, match="are required to have a `device: torch.device` argument"):
        lib.library.custom_op(fresh(lib, "no_tensor"), lambda n: None, mutates_args=(), device_types="cpu", schema="(SymInt n) -> ()")


@LIBS
def test_library_define_impl(lib):
    namespace = fresh(lib, "x").split("::")[0]
    library = lib.library.Library(namespace, "DEF")
    assert repr(library) == f"Library(kind=DEF, ns={namespace}, dispatch_key=)>"
    assert library.define("mysin(Tensor x, float k=1.0) -> Tensor") == "mysin"
    library.impl("mysin", lambda x, k=1.0: lib.sin(x) * k, "CPU")
    library.define("comp(Tensor x) -> Tensor")
    library.impl("comp", lambda x: x.sin() * 2, "CompositeImplicitAutograd")
    ops = getattr(lib.ops, namespace)
    x = lib.ones(2, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ops.mysin(x, 2.0).sum().backward()
    assert any("an autograd kernel was not registered" in str(each.message) for each in caught)
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos([1.0, 1.0]), rtol=1e-6)
    x.grad = None
    ops.comp(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.cos([1.0, 1.0]), rtol=1e-6)
    with pytest.raises(RuntimeError, match="with the same name and overload name multiple times"):
        library.define("comp(Tensor x) -> Tensor")
    with pytest.raises(RuntimeError, match="Only a single TORCH_LIBRARY can be used to register the namespace"):
        lib.library.Library(namespace, "DEF")
    with pytest.raises(ValueError, match="Unsupported kind: BAD"):
        lib.library.Library(namespace, "BAD")
    with pytest.raises(AttributeError, match="object has no attribute 'missing'"):
        ops.missing


@LIBS
def test_define_impl_register_fake_register_autograd_functions(lib):
    qualname = fresh(lib, "triple")
    lib.library.define(qualname, "(Tensor x) -> Tensor")

    @lib.library.impl(qualname, "cpu")
    def _(x):
        return x * 3

    @lib.library.register_fake(qualname)
    def _(x):
        return lib.empty_like(x)

    lib.library.register_autograd(qualname, lambda ctx, grad: grad * 3)
    namespace, name = qualname.split("::")
    op = getattr(getattr(lib.ops, namespace), name)
    x = lib.ones(2, requires_grad=True)
    op(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and op(lib.ones(2, device="meta")).shape == (2,)
    assert op.default.name() == qualname and op._qualified_op_name == qualname


@LIBS
def test_aten_operators_by_name_key_a_table_and_compute(lib):
    """torch.ops.aten as a __torch_dispatch__ subclass's handler table (PyG's Index, made when its
    module is imported) and a direct call read it: one object per overload, ATen's names."""
    aten = lib.ops.aten
    assert aten.add.Tensor is lib.ops.aten.add.Tensor and {aten.add.Tensor: 1}[lib.ops.aten.add.Tensor] == 1
    assert (str(aten.add.Tensor), aten.add.Tensor.name(), aten.clone.default.name()) == ("aten.add.Tensor", "aten::add.Tensor", "aten::clone")
    assert repr(aten.add.Tensor) == "<OpOverload(op='aten.add', overload='Tensor')>"
    assert (str(aten.add), repr(aten.add)) == ("aten.add", "<OpOverloadPacket(op='aten.add')>")
    assert aten.add.Tensor.overloadpacket is aten.add
    numbers = lib.arange(10)
    assert aten.add.Tensor(lib.ones(2), lib.ones(2)).tolist() == [2.0, 2.0]
    assert aten.slice.Tensor(numbers, 0, 2, 8, 2).tolist() == [2, 4, 6]
    assert aten.index.Tensor(numbers.view(2, 5), [None, lib.tensor([0, 4])]).tolist() == [[0, 4], [5, 9]]
    copied = aten._to_copy.default(lib.ones(2), dtype=lib.float64)
    assert copied.dtype == lib.float64 and copied.tolist() == [1.0, 1.0]
    values, order = aten.sort.stable(lib.tensor([3, 1, 2]), stable=True, dim=0)
    assert (values.tolist(), order.tolist()) == ([1, 2, 3], [1, 2, 0])
    source = lib.ones(2)
    assert aten.alias.default(source).data_ptr() == source.data_ptr()
    inplace = lib.ones(2)
    aten.add_.Tensor(inplace, lib.ones(2))
    assert inplace.tolist() == [2.0, 2.0]


def test_an_aten_operator_chainrule_does_not_compute_is_named_and_refused_when_called():
    missing = chainrule.ops.aten._sparse_mm_reduce_impl.default  # PyG's table names it on import
    assert missing.name() == "aten::_sparse_mm_reduce_impl"
    with pytest.raises(NotImplementedError, match="aten::_sparse_mm_reduce_impl: chainrule does not compute"):
        missing(chainrule.ones(2, 2), chainrule.ones(2, 2), "sum")
