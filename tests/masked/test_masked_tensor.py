"""``chainrule.masked.MaskedTensor`` against PyTorch's: construction and its checks, printing,
every family of operations (what each does to the mask, and the errors of those PyTorch refuses),
reductions, safe softmax, ``where``, and gradients as MaskedTensors."""
import copy
import inspect
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.masked

# PyTorch's MaskedTensor warns at every result it makes (chainrule's at the user's constructions only)
pytestmark = pytest.mark.filterwarnings("ignore:The PyTorch API of MaskedTensors:UserWarning", "ignore:It is not recommended:UserWarning")

DATA = [[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]]
MASK = [[True, False, True], [False, True, True]]


def made(library, data=DATA, mask=MASK, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return library.masked.masked_tensor(library.tensor(data), library.tensor(mask), **options)


def outcome(library, build):
    """What ``build(library, mt, mt2, data, mask)`` gives: its print, or its exception's type."""
    mt, mt2 = made(library), made(library, [[2 * value for value in row] for row in DATA])
    data, mask = library.tensor(DATA), library.tensor(MASK)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            result = build(library, mt, mt2, data, mask)
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return type(error).__name__
    return f"{type(result).__name__}: " + repr(result).replace("chainrule", "torch")


CASES = {
    "exp": lambda lib, mt, mt2, d, m: mt.exp(), "torch.exp": lambda lib, mt, mt2, d, m: lib.exp(mt),
    "abs": lambda lib, mt, mt2, d, m: abs(mt), "neg": lambda lib, mt, mt2, d, m: -mt,
    "clamp": lambda lib, mt, mt2, d, m: mt.clamp(min=0), "sqrt": lambda lib, mt, mt2, d, m: mt.sqrt(),
    "add": lambda lib, mt, mt2, d, m: mt + mt2, "add number": lambda lib, mt, mt2, d, m: mt + 1,
    "radd": lambda lib, mt, mt2, d, m: 1 + mt, "rsub": lambda lib, mt, mt2, d, m: 1 - mt,
    "rmul": lambda lib, mt, mt2, d, m: 2 * mt, "div": lambda lib, mt, mt2, d, m: mt / mt2,
    "rdiv": lambda lib, mt, mt2, d, m: 1 / mt, "pow": lambda lib, mt, mt2, d, m: mt ** 2,
    "rpow": lambda lib, mt, mt2, d, m: 2 ** mt, "plain right": lambda lib, mt, mt2, d, m: mt + d,
    "plain left": lambda lib, mt, mt2, d, m: d + mt, "gt": lambda lib, mt, mt2, d, m: mt > 0,
    "eq": lambda lib, mt, mt2, d, m: mt == mt2, "lt": lambda lib, mt, mt2, d, m: mt < 1,
    "and": lambda lib, mt, mt2, d, m: (mt > 0) & (mt2 > 0), "maximum": lambda lib, mt, mt2, d, m: lib.maximum(mt, mt2),
    "floordiv": lambda lib, mt, mt2, d, m: mt // 2, "mod": lambda lib, mt, mt2, d, m: mt % 2,
    "unequal masks": lambda lib, mt, mt2, d, m: mt + made(lib, DATA, [[True] * 3] * 2),
    "in place": lambda lib, mt, mt2, d, m: mt.clone().add_(mt2), "exp_": lambda lib, mt, mt2, d, m: mt.clone().mul_(2),
    "T": lambda lib, mt, mt2, d, m: mt.T, "t": lambda lib, mt, mt2, d, m: mt.t(),
    "transpose": lambda lib, mt, mt2, d, m: mt.transpose(0, 1), "view": lambda lib, mt, mt2, d, m: mt.view(-1),
    "reshape": lambda lib, mt, mt2, d, m: mt.reshape(3, 2), "flatten": lambda lib, mt, mt2, d, m: mt.flatten(),
    "permute": lambda lib, mt, mt2, d, m: mt.permute(1, 0), "unsqueeze": lambda lib, mt, mt2, d, m: mt.unsqueeze(0),
    "cat": lambda lib, mt, mt2, d, m: lib.cat([mt, mt2]), "stack": lambda lib, mt, mt2, d, m: lib.stack([mt, mt2], 1),
    "getitem": lambda lib, mt, mt2, d, m: mt[0], "slice": lambda lib, mt, mt2, d, m: mt[:, 1:],
    "boolean index": lambda lib, mt, mt2, d, m: mt[m], "select": lambda lib, mt, mt2, d, m: mt.select(1, 0),
    "expand": lambda lib, mt, mt2, d, m: mt[0:1].expand(3, 3), "split": lambda lib, mt, mt2, d, m: mt.split(1),
    "to": lambda lib, mt, mt2, d, m: mt.to(lib.float64), "int": lambda lib, mt, mt2, d, m: mt.int(),
    "detach": lambda lib, mt, mt2, d, m: mt.detach(), "clone": lambda lib, mt, mt2, d, m: mt.clone(),
    "to_dense": lambda lib, mt, mt2, d, m: mt.to_dense(), "ones_like": lambda lib, mt, mt2, d, m: lib.ones_like(mt),
    "sum": lambda lib, mt, mt2, d, m: mt.sum(), "sum dim": lambda lib, mt, mt2, d, m: mt.sum(1),
    "sum keepdim": lambda lib, mt, mt2, d, m: mt.sum(1, keepdim=True), "torch.sum": lambda lib, mt, mt2, d, m: lib.sum(mt, dim=0),
    "mean": lambda lib, mt, mt2, d, m: mt.mean(0), "mean all": lambda lib, mt, mt2, d, m: lib.mean(mt),
    "amax": lambda lib, mt, mt2, d, m: mt.amax(), "amin": lambda lib, mt, mt2, d, m: lib.amin(mt, 1),
    "argmax": lambda lib, mt, mt2, d, m: mt.argmax(), "argmin": lambda lib, mt, mt2, d, m: lib.argmin(mt, 0),
    "prod": lambda lib, mt, mt2, d, m: mt.prod(1), "all": lambda lib, mt, mt2, d, m: (mt > 0).all(),
    "all dim": lambda lib, mt, mt2, d, m: (mt > 0).all(1), "var": lambda lib, mt, mt2, d, m: mt.var(1),
    "std": lambda lib, mt, mt2, d, m: mt.std(), "norm": lambda lib, mt, mt2, d, m: mt.norm(),
    "max": lambda lib, mt, mt2, d, m: mt.max(), "softmax": lambda lib, mt, mt2, d, m: mt.softmax(1),
    "torch.softmax": lambda lib, mt, mt2, d, m: lib.softmax(mt, 0),
    "F.softmax": lambda lib, mt, mt2, d, m: lib.nn.functional.softmax(mt, 1),
    "log_softmax": lambda lib, mt, mt2, d, m: mt.log_softmax(1), "where": lambda lib, mt, mt2, d, m: lib.where(m, mt, mt2),
    "where plain": lambda lib, mt, mt2, d, m: lib.where(m, mt, d), "masked_fill": lambda lib, mt, mt2, d, m: mt.masked_fill(m, 0),
    "matmul": lambda lib, mt, mt2, d, m: mt @ mt2.t(), "to_tensor": lambda lib, mt, mt2, d, m: mt.to_tensor(0),
    "get_data": lambda lib, mt, mt2, d, m: mt.get_data(), "get_mask": lambda lib, mt, mt2, d, m: mt.get_mask(),
    "is_sparse": lambda lib, mt, mt2, d, m: mt.is_sparse, "layout": lambda lib, mt, mt2, d, m: mt.layout,
    "shape": lambda lib, mt, mt2, d, m: mt.shape, "len": lambda lib, mt, mt2, d, m: len(mt),
    "item": lambda lib, mt, mt2, d, m: mt.sum().item(), "masked.sum": lambda lib, mt, mt2, d, m: lib.masked.sum(mt, 1),
    "masked.amax": lambda lib, mt, mt2, d, m: lib.masked.amax(mt), "requires_grad": lambda lib, mt, mt2, d, m: mt.requires_grad,
    "0-d": lambda lib, mt, mt2, d, m: made(lib, 2.5, False), "ints": lambda lib, mt, mt2, d, m: made(lib, [[1, 20], [3, 4]], [[True, False], [True, True]]),
    "bools": lambda lib, mt, mt2, d, m: made(lib, [True, False], [True, False]), "str": lambda lib, mt, mt2, d, m: str(mt),
    "empty": lambda lib, mt, mt2, d, m: repr(made(lib, [[]], [[]])),
    "exp_": lambda lib, mt, mt2, d, m: mt.exp_(), "abs_": lambda lib, mt, mt2, d, m: mt.abs_(),
    "add_ unequal masks": lambda lib, mt, mt2, d, m: mt.add_(made(lib, DATA, [[True] * 3] * 2)),
    "where number": lambda lib, mt, mt2, d, m: lib.where(m, mt, 0.0), "sum 0-d": lambda lib, mt, mt2, d, m: made(lib, 2.0, True).sum(),
    "sum dims": lambda lib, mt, mt2, d, m: mt.sum((0, 1)), "sum dims keepdim": lambda lib, mt, mt2, d, m: lib.sum(mt, dim=[0, 1], keepdim=True),
    "argmax keepdim": lambda lib, mt, mt2, d, m: mt.argmax(1, keepdim=True), "var keepdim": lambda lib, mt, mt2, d, m: mt.var(0, True),
    "float16": lambda lib, mt, mt2, d, m: made(lib, DATA, MASK).half(), "masked.softmax": lambda lib, mt, mt2, d, m: lib.masked.softmax(mt, 1),
    "masked.mean": lambda lib, mt, mt2, d, m: lib.masked.mean(mt, 1), "numpy": lambda lib, mt, mt2, d, m: mt.numpy(),
    "tolist": lambda lib, mt, mt2, d, m: mt.tolist(), "iterate": lambda lib, mt, mt2, d, m: list(mt),
    "index_select": lambda lib, mt, mt2, d, m: mt.index_select(0, lib.tensor([1])), "requires_grad_": lambda lib, mt, mt2, d, m: mt.requires_grad_(),
    "sum dtype": lambda lib, mt, mt2, d, m: mt.sum(1, dtype=lib.float64).get_data(), "size": lambda lib, mt, mt2, d, m: mt.size(1),
    "float()": lambda lib, mt, mt2, d, m: float(mt.sum()), "format": lambda lib, mt, mt2, d, m: f"{mt} {mt.sum()}",
    "deepcopy": lambda lib, mt, mt2, d, m: copy.deepcopy(made(lib, requires_grad=True)),
}


@pytest.mark.parametrize("name", CASES)
def test_operations_print_as_pytorchs(name):
    assert outcome(chainrule, CASES[name]) == outcome(torch, CASES[name])


@pytest.mark.parametrize("data, mask, error", [
    ([1.0, 2.0], [1.0, 0.0], TypeError), ([1.0, 2.0], [True], ValueError), ([1.0, 2.0], [[True, False]], ValueError),
])
def test_construction_checks(data, mask, error):
    for library in (chainrule, torch):
        with pytest.raises(error):
            made(library, data, mask)
    with pytest.raises(TypeError, match="data must be a Tensor"):
        chainrule.masked.masked_tensor([1.0], chainrule.tensor([True]))
    with pytest.raises(TypeError, match="is not supported in MaskedTensor"):
        made(chainrule, chainrule.tensor([1, 2], dtype=chainrule.uint8), [True, False])


def test_construction_warns_and_copies():
    data, mask = chainrule.tensor([1.0, 2.0]), chainrule.tensor([True, False])
    with pytest.warns(UserWarning, match="prototype stage"):
        mt = chainrule.masked.masked_tensor(data, mask)
    data[0] = 5.0
    assert mt.get_data().tolist() == [1.0, 2.0]
    assert chainrule.masked.is_masked_tensor(mt) and not chainrule.masked.is_masked_tensor(data)
    assert isinstance(mt, chainrule.Tensor) and isinstance(mt, chainrule.masked.MaskedTensor)
    with pytest.warns(UserWarning, match="requires_grad"):
        chainrule.masked.MaskedTensor(data.requires_grad_(), mask)


def gradient_case(library, case):
    """The MaskedTensor gradient of ``case(mt)`` for a leaf ``mt`` (its print) in ``library``."""
    rng = np.random.default_rng(0)
    data, mask = rng.standard_normal((3, 4)).tolist(), (rng.random((3, 4)) > 0.4).tolist()
    mask[1] = [False] * 4
    mt = made(library, data, mask, requires_grad=True)
    case(library, mt).sum().backward()
    return repr(mt.grad).replace("chainrule", "torch")


GRADIENTS = {
    "sum": lambda lib, mt: mt.sum(), "sum dim": lambda lib, mt: mt.sum(1), "mean": lambda lib, mt: mt.mean(0),
    "exp": lambda lib, mt: mt.exp() * 2, "mul": lambda lib, mt: mt * mt, "amax": lambda lib, mt: mt.amax(1),
    "softmax": lambda lib, mt: (mt.softmax(1) * mt).sum(1), "var": lambda lib, mt: mt.var(1), "prod": lambda lib, mt: mt.prod(0),
    "get_data": lambda lib, mt: lib.masked.masked_tensor(lib.ones(3, 4), mt.get_mask()) * mt.get_data(),
}


@pytest.mark.parametrize("name", GRADIENTS)
def test_gradients_are_masked_tensors_with_pytorchs_values(name):
    assert gradient_case(chainrule, GRADIENTS[name]) == gradient_case(torch, GRADIENTS[name])


def test_overview_tutorial_where_and_safe_softmax():
    """The "MaskedTensor Overview" tutorial's torch.where and safe softmax cells."""
    def where_gradients(library):
        x = library.tensor([-10.0, -5, 0, 5, 10, 50, 60, 70, 80, 90, 100])
        mask = x < 0
        mx, my = made(library, x.tolist(), mask.tolist(), requires_grad=True), made(library, [1.0] * 11, (~mask).tolist(), requires_grad=True)
        y = library.where(mask, library.exp(mx), my)
        y.sum().backward()
        return repr((y, mx.grad, my.grad)).replace("chainrule", "torch")

    def safe_softmax(library):
        data = library.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [3.0, 1.0, 0.0]])
        mask = library.tensor([[True, False, False], [True, False, True], [False, False, False]])
        return repr(made(library, data.tolist(), mask.tolist()).softmax(0))

    assert where_gradients(chainrule) == where_gradients(torch)
    assert safe_softmax(chainrule) == safe_softmax(torch)


def test_gradcheck_through_a_masked_tensor():
    rng = np.random.default_rng(1)
    mask = chainrule.tensor(rng.random((3, 4)) > 0.3)
    mask[:, 0] = True

    def function(x):
        mt = chainrule.masked.as_masked_tensor(x, mask)
        return (mt.exp() * mt).softmax(1).sum(1).get_data()

    assert chainrule.autograd.gradcheck(function, (chainrule.tensor(rng.standard_normal((3, 4)), requires_grad=True),))


def test_sparse_layouts_are_refused():
    sparse = chainrule.tensor([[0.0, 1.0], [2.0, 0.0]]).to_sparse()
    with pytest.raises(TypeError, match="layout"):
        chainrule.masked.masked_tensor(sparse, chainrule.ones(2, 2, dtype=chainrule.bool).to_sparse())
    with pytest.raises(ValueError, match="masked sum expects a strided tensor"):
        chainrule.masked.sum(sparse, 1, mask=chainrule.ones(2, 2, dtype=chainrule.bool))


def parameters(function):
    """(name, kind, default) of each parameter: a signature without its type annotations."""
    return [(each.name, each.kind, each.default) for each in inspect.signature(function).parameters.values()]


def test_names_and_signatures_are_pytorchs():
    assert sorted(chainrule.masked.__all__) == sorted(torch.masked.__all__)
    for name in torch.masked.__all__:
        ours, theirs = getattr(chainrule.masked, name), getattr(torch.masked, name)
        if not inspect.isclass(theirs):
            assert parameters(ours) == parameters(theirs), name


def tutorial_cells(library):
    """The "Implementing missing torch.nan* operators" and "Advanced semantics" cells, printed."""
    x = library.arange(16).float()
    y = x * x.fmod(4)
    everything_nan = library.empty(16).fill_(float("nan"))
    data = library.arange(5.0)
    mask = library.tensor([True, True, False, True, False])
    mt0, mt1 = made(library, data.tolist(), mask.tolist()), made(library, data.tolist(), (~mask).tolist())
    try:
        mt0 + mt1
    except ValueError as error:
        refusal = str(error)
    both = made(library, (mt0.to_tensor(0) + mt1.to_tensor(0)).tolist(), (mt0.get_mask() & mt1.get_mask()).tolist())
    cells = (
        library.mean(made(library, y.tolist(), (y != 0).tolist())), library.argmin(made(library, y.tolist(), (y != 0).tolist())),
        library.mean(made(library, everything_nan.tolist(), (~library.isnan(everything_nan)).tolist())), refusal, both,
    )
    return repr(cells).replace("chainrule", "torch")


def test_nan_operators_and_advanced_semantics_tutorials():
    assert tutorial_cells(chainrule) == tutorial_cells(torch)


def second_derivative(library):
    mt = made(library, [1.0, 2.0, 3.0], [True, False, True], requires_grad=True)
    (gradient,) = library.autograd.grad((mt ** 3).sum(), mt, create_graph=True)
    gradient.sum().backward()
    return repr((gradient, mt.grad)).replace("chainrule", "torch")


def test_second_derivatives_through_a_masked_tensor():
    assert second_derivative(chainrule) == second_derivative(torch)


def test_nan_in_masked_out_data_stays_out_of_a_plain_gradient():
    """The overview tutorial's nansum cell: NaN hidden by the mask, a plain factor's gradient 3
    (PyTorch's is a MaskedTensor holding 3; chainrule's a plain tensor, see operations.py)."""
    gradients = []
    for library in (chainrule, torch):
        a = library.tensor([1.0, 2.0, float("nan")])
        b = library.tensor(1.0, requires_grad=True)
        (gradient,) = library.autograd.grad(library.sum(made(library, a.tolist(), (~library.isnan(a)).tolist()) * b), b)
        gradients.append(float(gradient.get_data() if library.masked.is_masked_tensor(gradient) else gradient))
    assert gradients == [3.0, 3.0]
