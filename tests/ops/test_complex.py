"""Complex tensors: dtypes, creation, printing, arithmetic and gradients, compared with PyTorch.

Gradients follow PyTorch's convention (the gradient of a real loss L with respect to z = x + iy
is ∂L/∂x + i ∂L/∂y): each operation's gradients of a real loss, ``|f(z)|² · w`` summed with
random weights, are compared with PyTorch's and with central differences along the real and the
imaginary part of every input element."""
import warnings

import numpy as np
import pytest
import torch

import chainrule

SHAPES = [(), (1,), (3,), (2, 3), (2, 0)]


def complex_array(shape, seed, magnitude=1.0, away_from_zero=False):
    generator = np.random.default_rng(seed)
    values = generator.normal(size=shape) + 1j * generator.normal(size=shape)
    if away_from_zero:
        values = values + 0.5 * np.sign(values.real)
    return magnitude * values


def _loss(lib, output, weights):
    """A real loss that every element of a (complex or real) output changes differently."""
    if not output.is_complex():
        return (output * output * lib.tensor(weights)).sum()
    # (the linear terms see the sign of each part, which |f|² does not)
    return (output.abs() ** 2 * lib.tensor(weights)).sum() + output.real.sum() - 2 * output.imag.sum()


def gradients(lib, function, arrays, weights):
    inputs = [lib.tensor(array, requires_grad=True) for array in arrays]
    output = function(lib, *inputs)
    _loss(lib, output, weights).backward()
    return output, [each.grad for each in inputs]


def finite_difference_gradient(function, arrays, weights, position, step=1e-6):
    """∂L/∂x + i ∂L/∂y of input ``position`` by central differences (float64)."""
    def loss(values):
        with chainrule.no_grad():
            tensors = [chainrule.tensor(each) for each in values]
            return float(_loss(chainrule, function(chainrule, *tensors), weights))

    array = arrays[position]
    gradient = np.zeros(array.shape, dtype=array.dtype)
    for index in np.ndindex(array.shape):
        for direction in (1, 1j) if array.dtype.kind == "c" else (1,):
            changed = [each.copy() for each in arrays]
            changed[position][index] += step * direction
            above = loss(changed)
            changed[position][index] -= 2 * step * direction
            below = loss(changed)
            gradient[index] += direction * (above - below) / (2 * step)
    return gradient


# name, function of (library, *inputs), inputs' kinds ("c" complex, "r" real), keywords of complex_array
CASES = [
    ("add", lambda lib, a, b: a + b, "cc", {}),
    ("sub_real", lambda lib, a, b: a - b, "cr", {}),
    ("mul", lambda lib, a, b: a * b, "cc", {}),
    ("mul_real", lambda lib, a, b: b * a, "cr", {}),
    ("mul_number", lambda lib, a: a * (2 - 3j) + 1j, "c", {}),
    ("real_times_number", lambda lib, a: a * (0.5 + 2j), "r", {}),
    ("div", lambda lib, a, b: a / b, "cc", {"away_from_zero": True}),
    ("rdiv_number", lambda lib, a: (1 + 1j) / a, "c", {"away_from_zero": True}),
    ("pow_number", lambda lib, a: a**3, "c", {}),
    ("pow_tensors", lambda lib, a, b: a**b, "cc", {"away_from_zero": True}),
    ("exp", lambda lib, a: a.exp(), "c", {}),
    ("log", lambda lib, a: a.log(), "c", {"away_from_zero": True}),
    ("sqrt", lambda lib, a: a.sqrt(), "c", {"away_from_zero": True}),
    ("sin", lambda lib, a: a.sin(), "c", {}),
    ("cos", lambda lib, a: lib.cos(a), "c", {}),
    ("tanh", lambda lib, a: a.tanh(), "c", {}),
    ("reciprocal", lambda lib, a: a.reciprocal(), "c", {"away_from_zero": True}),
    ("neg", lambda lib, a: -a, "c", {}),
    ("abs", lambda lib, a: a.abs(), "c", {"away_from_zero": True}),
    ("angle", lambda lib, a: a.angle(), "c", {"away_from_zero": True}),
    ("sgn", lambda lib, a: a.sgn(), "c", {"away_from_zero": True}),
    ("conj", lambda lib, a: a.conj() * a, "c", {}),
    ("real_imag", lambda lib, a: a.real * 2 + a.imag ** 2, "c", {}),
    ("polar", lambda lib, r, theta: lib.polar(r, theta), "rr", {}),
    ("complex", lambda lib, x, y: lib.complex(x, y), "rr", {}),
    ("view_as_real", lambda lib, a: lib.view_as_real(a) * 3, "c", {}),
    ("view_as_complex", lambda lib, x: lib.view_as_complex(lib.stack((x, x * 2), -1)), "r", {}),
    ("sum", lambda lib, a: a.sum(-1) if a.ndim else a.sum(), "c", {}),
    ("mean", lambda lib, a: a.mean(), "c", {}),
    ("prod", lambda lib, a: a.prod(), "c", {}),
    ("var_std", lambda lib, a: a.var(-1) + a.std(-1) if a.ndim else a.var() + a.std(), "c", {}),
    ("cat_reshape_index", lambda lib, a: lib.cat([a.reshape(-1), a.reshape(-1)[:1]]), "c", {}),
    ("stack_permute_flip", lambda lib, a: lib.stack([a, a * 1j], -1).permute(*reversed(range(a.ndim + 1))).flip(0), "c", {}),
    ("where_masked", lambda lib, a, x: lib.where(x > 0, a, a * x), "cr", {}),
    ("sigmoid_square", lambda lib, a: lib.sigmoid(a).square(), "c", {"magnitude": 0.5}),
    ("tan_sinh_cosh", lambda lib, a: a.tan() + a.sinh() * a.cosh(), "c", {"magnitude": 0.5}),
    ("asin_acos_atan", lambda lib, a: a.asin() + a.acos() * a.atan(), "c", {"magnitude": 0.5}),
    ("asinh_acosh_atanh", lambda lib, a: a.asinh() + a.acosh() * a.atanh(), "c", {"magnitude": 0.5, "away_from_zero": True}),
    ("expm1_log1p_rsqrt", lambda lib, a: a.expm1() + a.log1p() * a.rsqrt(), "c", {"magnitude": 0.5, "away_from_zero": True}),
    ("exp2_log2_log10", lambda lib, a: lib.exp2(a) + a.log2() * a.log10(), "c", {"away_from_zero": True}),
]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_values_and_gradients_agree_with_pytorch_and_finite_differences(case, shape):
    name, function, kinds, keywords = case
    if name in ("sum", "prod", "mean") and shape == (2, 0):
        shape = (0,)
    arrays = [
        complex_array(shape, seed, **keywords) if kind == "c" else complex_array(shape, seed, **keywords).real
        for seed, kind in enumerate(kinds)
    ]
    if name == "polar":
        arrays[0] = np.abs(arrays[0]) + 0.1
    with chainrule.no_grad():
        weights = np.random.default_rng(9).random(tuple(function(chainrule, *[chainrule.tensor(a) for a in arrays]).shape))
    output, grads = gradients(chainrule, function, arrays, weights)
    expected, expected_grads = gradients(torch, function, arrays, weights)
    assert output.dtype == getattr(chainrule, str(expected.dtype).split(".")[1])
    np.testing.assert_allclose(output.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    for position, (grad, expected_grad) in enumerate(zip(grads, expected_grads)):
        assert grad.dtype == getattr(chainrule, str(expected_grad.dtype).split(".")[1])
        np.testing.assert_allclose(grad.numpy(), expected_grad.numpy(), rtol=1e-9, atol=1e-10)
        if shape in ((3,), (2, 3)):
            numeric = finite_difference_gradient(function, arrays, weights, position)
            np.testing.assert_allclose(grad.numpy(), numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3,)), ((2, 3), (3,)), ((5, 2, 3), (5, 3, 2)), ((2, 0), (0, 3))], ids=str)
def test_matrix_products_and_einsum_agree_with_pytorch(shapes):
    arrays = [complex_array(shape, seed) for seed, shape in enumerate(shapes)]
    functions = [lambda lib, a, b: a @ b, lambda lib, a, b: lib.matmul(a, b)]
    if len(shapes[0]) == len(shapes[1]) == 2:
        functions += [lambda lib, a, b: lib.mm(a, b), lambda lib, a, b: lib.einsum("ij,jk->ik", a, b)]
    if len(shapes[0]) == 3:
        functions.append(lambda lib, a, b: lib.bmm(a, b))
    for function in functions:
        weights = np.random.default_rng(1).random(tuple(function(torch, *map(torch.tensor, arrays)).shape))
        output, grads = gradients(chainrule, function, arrays, weights)
        expected, expected_grads = gradients(torch, function, arrays, weights)
        np.testing.assert_allclose(output.detach().numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        for grad, expected_grad in zip(grads, expected_grads):
            np.testing.assert_allclose(grad.numpy(), expected_grad.numpy(), rtol=1e-9, atol=1e-10)


def test_float32_and_complex64_promote_as_in_pytorch():
    cases = [
        lambda lib: lib.tensor([1.0, 2.0]) * 1j,
        lambda lib: lib.tensor([1, 2]) * 1j,
        lambda lib: lib.tensor([1.0], dtype=lib.float64) * 1j,
        lambda lib: lib.tensor([1.0], dtype=lib.float64) + lib.tensor([1j]),
        lambda lib: lib.tensor([1.0], dtype=lib.float64) + lib.tensor(1j),
        lambda lib: lib.tensor([1.0]) + lib.tensor(1j, dtype=lib.complex128),
        lambda lib: lib.tensor([1j]) + lib.tensor([2.0], dtype=lib.float64),
        lambda lib: lib.tensor([1j]) * 2.5,
        lambda lib: lib.tensor([1 + 2j]),
        lambda lib: lib.tensor(np.array([1j], dtype=np.complex128)),
        lambda lib: lib.tensor([1, 2j], dtype=lib.cdouble),
        lambda lib: lib.zeros(2, dtype=lib.cfloat),
        lambda lib: lib.ones(2, dtype=lib.complex64).to(lib.complex128),
        lambda lib: lib.tensor([1.0, 2.0]).to(lib.complex64),
    ]
    for case in cases:
        ours, theirs = case(chainrule), case(torch)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for first, second in [("float64", "complex64"), ("int64", "complex64"), ("float16", "complex64"), ("complex64", "complex128")]:
        ours = chainrule.promote_types(getattr(chainrule, first), getattr(chainrule, second))
        assert str(ours) == str(torch.promote_types(getattr(torch, first), getattr(torch, second))).replace("torch", "chainrule")
    for source, target in [("complex64", "float32"), ("float32", "complex64"), ("complex64", "int64")]:
        assert chainrule.can_cast(getattr(chainrule, source), getattr(chainrule, target)) == torch.can_cast(getattr(torch, source), getattr(torch, target))


def test_the_complex_dtypes_answer_as_pytorchs():
    for name in ("complex64", "complex128"):
        ours, theirs = getattr(chainrule, name), getattr(torch, name)
        assert (ours.is_complex, ours.is_floating_point, ours.is_signed, ours.itemsize) == (
            theirs.is_complex, theirs.is_floating_point, theirs.is_signed, theirs.itemsize)
        assert str(ours.to_real()).split(".")[1] == str(theirs.to_real()).split(".")[1]
        assert ours.to_complex() is ours
        assert repr(chainrule.finfo(ours)).replace("chainrule", "torch") == repr(torch.finfo(theirs))
    assert chainrule.cfloat is chainrule.complex64 and chainrule.cdouble is chainrule.complex128
    # complex32 (two float16) is named and described as PyTorch's, but NumPy has no such type to hold
    assert chainrule.chalf is chainrule.complex32 and chainrule.complex32.is_complex and chainrule.complex32.itemsize == 4
    assert repr(chainrule.finfo(chainrule.complex32)) == repr(torch.finfo(torch.complex32))
    assert chainrule.complex32.to_real() is chainrule.float16 and not chainrule.bfloat16.is_complex
    with pytest.raises(TypeError, match="complex64"):
        chainrule.zeros(2, dtype=chainrule.complex32)
    assert chainrule.float32.to_complex() is chainrule.complex64 and chainrule.float64.to_complex() is chainrule.complex128
    with pytest.raises(RuntimeError, match="complex32"):
        chainrule.float16.to_complex()
    z = chainrule.tensor([1 + 2j])
    assert z.type() == "chainrule.ComplexFloatTensor" and z.double().type() == "chainrule.DoubleTensor"
    assert z.to(chainrule.complex128).type() == "chainrule.ComplexDoubleTensor"
    assert z.type("torch.ComplexDoubleTensor").dtype is chainrule.complex128
    assert z.is_complex() and chainrule.is_complex(z) and not z.is_floating_point()
    assert z.item() == 1 + 2j and type(z.item()) is complex and z.tolist() == [1 + 2j]
    assert z.numpy().dtype == np.complex64


def test_seeded_complex_random_numbers_are_pytorchs():
    for factory in ("randn", "rand"):
        for dtype in ("complex64", "complex128"):
            chainrule.manual_seed(3)
            torch.manual_seed(3)
            ours = getattr(chainrule, factory)(5, 4, dtype=getattr(chainrule, dtype))
            theirs = getattr(torch, factory)(5, 4, dtype=getattr(torch, dtype))
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_real_and_imag_are_writable_views_and_view_as_real_shares_memory():
    for lib in (chainrule, torch):
        z = lib.tensor([1 + 2j, 3 - 1j])
        z.real.mul_(2)
        z.imag[0] = 5
        assert z.tolist() == [2 + 5j, 6 - 1j]
        lib.view_as_real(z)[1, 1] = 7
        assert z.tolist() == [2 + 5j, 6 + 7j]
        x = lib.zeros(3, 2)
        lib.view_as_complex(x)[0] = 1j
        assert x.tolist() == [[0, 1], [0, 0], [0, 0]]


def test_errors_are_pytorchs():
    def raised(action):
        try:
            action()
        except Exception as error:  # noqa: BLE001 (the type is what is compared)
            return type(error)
        return None

    actions = [
        lambda lib: lib.view_as_complex(lib.zeros(3, 3)),
        lambda lib: lib.view_as_complex(lib.zeros(2, 4)[:, ::2]),
        lambda lib: lib.view_as_complex(lib.zeros(2, dtype=lib.int64)),
        lambda lib: lib.view_as_complex(lib.zeros(())),
        lambda lib: lib.view_as_real(lib.zeros(2)),
        lambda lib: lib.tensor([1j]) < lib.tensor([2j]),
        lambda lib: lib.tensor([1j]).max(),
        lambda lib: lib.tensor([1.0]).imag,
        lambda lib: lib.sign(lib.tensor([1j])),
        lambda lib: lib.tensor(1j, requires_grad=True).mul(2).backward(),
        lambda lib: lib.tensor([[1j]]) @ lib.tensor([[1.0]]),
        lambda lib: lib.polar(lib.tensor([1.0]), lib.tensor([1.0], dtype=lib.float64)),
    ]
    for action in actions:
        assert raised(lambda: action(chainrule)) is raised(lambda: action(torch)) is not None


def test_a_real_leaf_of_a_complex_result_gets_a_real_gradient():
    for lib in (chainrule, torch):
        x = lib.tensor([0.5, 2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ComplexWarning from casting the gradient
            (x * (1 + 2j)).exp().abs().sum().backward()
        assert x.grad.dtype == lib.float32
    assert x.grad is not None


def test_optimizers_step_complex_parameters_as_pytorchs():
    start = complex_array((3,), 0).astype(np.complex64)
    for name, keywords in [("SGD", {"lr": 0.1, "momentum": 0.9}), ("Adam", {"lr": 0.1}), ("AdamW", {"lr": 0.1})]:
        results = []
        for lib in (chainrule, torch):
            parameter = lib.nn.Parameter(lib.tensor(start.copy()))
            optimizer = getattr(lib.optim, name)([parameter], **keywords)
            for _ in range(3):
                optimizer.zero_grad()
                ((parameter - (1 + 1j)).abs() ** 2).sum().backward()
                optimizer.step()
            results.append(parameter.detach().numpy())
        np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-6)


PRINTED = [
    lambda lib: lib.tensor(1 + 2j),
    lambda lib: lib.tensor(-0.5 - 0.25j),
    lambda lib: lib.tensor([1 + 2j, -3.5 - 0.25j]),
    lambda lib: lib.tensor([1 + 0j, 2 - 3j]),
    lambda lib: lib.tensor([[1e-5 + 2j, 3e6j]], dtype=lib.complex128),
    lambda lib: lib.tensor([1 - 1j, 0j, -0.0 - 0.0j]),
    lambda lib: lib.tensor([[1.5 + 2j] * 7] * 2),
    lambda lib: lib.arange(2000, dtype=lib.float32).to(lib.complex64) * (1 - 0.5j),
    lambda lib: lib.tensor([1e10 + 1j, 1 + 1e-10j]),
    lambda lib: lib.tensor([1 + 2j], requires_grad=True),
    lambda lib: lib.tensor([1 + 2j], requires_grad=True) * 2,
    lambda lib: lib.zeros(0, dtype=lib.complex64),
    lambda lib: lib.zeros(2, 0, dtype=lib.complex128),
    lambda lib: lib.tensor([float("nan") + 1j, float("inf") - 2j]),
]


@pytest.mark.parametrize("make", PRINTED, ids=range(len(PRINTED)))
def test_complex_tensors_print_as_pytorchs(make):
    assert repr(make(chainrule)).replace("chainrule.", "torch.") == repr(make(torch))
    assert str(make(chainrule)).replace("chainrule.", "torch.") == str(make(torch))


def test_a_float64_default_makes_complex128_the_default_complex_dtype():
    try:
        chainrule.set_default_dtype(chainrule.float64)
        torch.set_default_dtype(torch.float64)
        assert chainrule.tensor([1j]).dtype is chainrule.complex128 and torch.tensor([1j]).dtype is torch.complex128
        assert repr(chainrule.tensor([1j])) == repr(torch.tensor([1j]))
        assert repr(chainrule.tensor([1j], dtype=chainrule.complex64)).replace("chainrule", "torch") == repr(torch.tensor([1j], dtype=torch.complex64))
    finally:
        chainrule.set_default_dtype(chainrule.float32)
        torch.set_default_dtype(torch.float32)


def test_equality_and_closeness_compare_complex_numbers_as_pytorch():
    first, second = np.array([1 + 1j, 2j, 3]), np.array([1 + 1.00001j, 2.1j, 3])
    for check in [
        lambda lib, a, b: a == b, lambda lib, a, b: a != b, lambda lib, a, b: a == (1 + 1j),
        lambda lib, a, b: lib.isclose(a, b), lambda lib, a, b: lib.isclose(a, b, atol=0.2),
        lambda lib, a, b: lib.tensor(lib.allclose(a, b)), lambda lib, a, b: lib.tensor(lib.equal(a, a)),
    ]:
        ours = check(chainrule, chainrule.tensor(first), chainrule.tensor(second))
        theirs = check(torch, torch.tensor(first), torch.tensor(second))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_gradcheck_takes_complex_inputs_and_outputs_and_catches_a_missing_conjugate():
    z = chainrule.tensor(complex_array((3,), 4), requires_grad=True)
    x = chainrule.tensor(complex_array((3,), 5).real, requires_grad=True)
    for function in [lambda z: (z * z).abs(), lambda z: z.exp() * z.conj(), lambda z: chainrule.fft.fft(z), lambda z: z.tanh()]:
        assert chainrule.autograd.gradcheck(function, (z,))
    assert chainrule.autograd.gradcheck(lambda x, z: x * z, (x, z))
    assert chainrule.autograd.gradgradcheck(lambda z: z * z.sin(), (z,))

    class SquareWithoutConjugate(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return z * z

        @staticmethod
        def backward(ctx, grad_output):
            (z,) = ctx.saved_tensors
            return grad_output * 2 * z  # PyTorch's convention needs conj(2 z)

    with pytest.raises(RuntimeError):  # (gradcheck's GradcheckError)
        chainrule.autograd.gradcheck(SquareWithoutConjugate.apply, (z,))


def test_linear_and_the_added_products_conjugate_their_factors_as_pytorch():
    """nn.Linear made complex (Module.to(complex64), with PyTorch's warning), addmv, addr and
    baddbmm: the gradients of every factor of a real loss, against PyTorch's."""

    def run(lib):
        lib.manual_seed(0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = lib.nn.Linear(3, 2).to(lib.complex64)
        x = lib.randn(4, 3, dtype=lib.complex64, requires_grad=True)
        a, m, v = (lib.randn(*shape, dtype=lib.complex64, requires_grad=True) for shape in ((2,), (2, 3), (3,)))
        u, w = lib.randn(2, dtype=lib.complex64, requires_grad=True), lib.randn(3, dtype=lib.complex64, requires_grad=True)
        b1, b2 = lib.randn(2, 2, 3, dtype=lib.complex64, requires_grad=True), lib.randn(2, 3, 2, dtype=lib.complex64, requires_grad=True)
        loss = lib.view_as_real(layer(x)).pow(2).sum() + lib.view_as_real(lib.addmv(a, m, v)).pow(2).sum()
        loss = loss + lib.view_as_real(lib.addr(m, u, w)).pow(2).sum()
        loss = loss + lib.view_as_real(lib.baddbmm(lib.zeros(2, 2, 2, dtype=lib.complex64), b1, b2, alpha=0.5)).pow(2).sum()
        loss.backward()
        return [t.grad.numpy() for t in (layer.weight, layer.bias, x, a, m, v, u, w, b1, b2)]

    for ours, theirs in zip(run(chainrule), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


def test_a_module_moved_to_a_complex_dtype_warns_as_pytorch():
    with pytest.warns(UserWarning, match="Complex modules are a new feature"):
        layer = chainrule.nn.Linear(2, 2).to(chainrule.complex64)
    assert layer.weight.dtype == chainrule.complex64 and layer.bias.dtype == chainrule.complex64


@pytest.mark.parametrize("make", [
    lambda lib: lib.full((2,), 1 + 2j),
    lambda lib: lib.full((2,), 1j, dtype=lib.complex128),
    lambda lib: lib.zeros(2, dtype=lib.complex64).fill_(1j),
    lambda lib: lib.zeros(2).fill_(2 + 0j),
    lambda lib: lib.full((1,), 3 + 0j, dtype=lib.int64),
])
def test_complex_fill_values_as_pytorch(make):
    ours, theirs = make(chainrule), make(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("make", [
    lambda lib: lib.full_like(lib.zeros(2), 3j),
    lambda lib: lib.zeros(2).new_full((2,), 1j),
    lambda lib: lib.full((2,), 1j, dtype=lib.int64),
    lambda lib: lib.zeros(2).fill_(1j),
])
def test_a_complex_fill_value_with_an_imaginary_part_is_refused_by_a_real_tensor(make):
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="value cannot be converted to type .* without overflow"):
            make(lib)
