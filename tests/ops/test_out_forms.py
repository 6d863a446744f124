"""``out=`` on the operations whose PyTorch signature has it, beyond the elementwise ones: the result
is written into the tensors given (resized where empty, cast where PyTorch casts) and returned, a
pair of results as the operation's own ``<name>_out`` named tuple, exactly as PyTorch."""
import numpy as np
import pytest
import torch

import chainrule


def _square(library):
    generator = np.random.default_rng(0)
    a = generator.normal(size=(3, 3))
    return library.tensor(a @ a.T + 3 * np.eye(3))


def _factored(library):
    return library.linalg.lu_factor(_square(library))


def _ldl(library):
    return library.linalg.ldl_factor(_square(library))


def _column(library):
    return library.tensor(np.arange(6.0).reshape(3, 2))


CALLS = {
    "aminmax": lambda lib, **out: lib.aminmax(_square(lib), dim=0, **out),
    "slogdet": lambda lib, **out: lib.slogdet(_square(lib), **out),
    "geqrf": lambda lib, **out: lib.geqrf(_square(lib), **out),
    "orgqr": lambda lib, **out: lib.orgqr(*lib.geqrf(_square(lib)), **out),
    "ormqr": lambda lib, **out: lib.ormqr(*lib.geqrf(_square(lib)), _column(lib), **out),
    "lu_unpack": lambda lib, **out: lib.lu_unpack(*_factored(lib), **out),
    "lu": lambda lib, **out: lib.lu(_square(lib), **out),
    "lu_solve": lambda lib, **out: lib.lu_solve(_column(lib), *_factored(lib), **out),
    "cholesky": lambda lib, **out: lib.cholesky(_square(lib), **out),
    "histogram": lambda lib, **out: lib.histogram(_square(lib), 4, **out),
    "histc": lambda lib, **out: lib.histc(_square(lib), 4, **out),
    "diff": lambda lib, **out: lib.diff(_square(lib), dim=0, **out),
    "renorm": lambda lib, **out: lib.renorm(_square(lib), 2, 0, 1.0, **out),
    "take_along_dim": lambda lib, **out: lib.take_along_dim(_square(lib), lib.tensor([[2], [0], [1]]), 1, **out),
    "take": lambda lib, **out: lib.take(_square(lib), lib.tensor([[4, 0], [8, -1]]), **out),
    "narrow_copy": lambda lib, **out: lib.narrow_copy(_square(lib), 1, 1, 2, **out),
    "hstack": lambda lib, **out: lib.hstack([_square(lib), _column(lib)], **out),
    "vstack": lambda lib, **out: lib.vstack([_square(lib), _square(lib)], **out),
    "row_stack": lambda lib, **out: lib.row_stack([_square(lib), _square(lib)], **out),
    "column_stack": lambda lib, **out: lib.column_stack([_square(lib), _column(lib)], **out),
    "dstack": lambda lib, **out: lib.dstack([_square(lib), _square(lib)], **out),
    "nansum": lambda lib, **out: lib.nansum(_square(lib), 0, **out),
    "nanmean": lambda lib, **out: lib.nanmean(_square(lib), 1, **out),
    "conj_physical": lambda lib, **out: lib.conj_physical(lib.complex(_square(lib), _square(lib)), **out),
    "frobenius_norm": lambda lib, **out: lib.frobenius_norm(_square(lib), (0, 1), **out),
    "nuclear_norm": lambda lib, **out: lib.nuclear_norm(_square(lib), **out),
    "fft.fftfreq": lambda lib, **out: lib.fft.fftfreq(5, **out),
    "fft.rfftfreq": lambda lib, **out: lib.fft.rfftfreq(6, 0.5, **out),
    "linalg.lu_factor_ex": lambda lib, **out: lib.linalg.lu_factor_ex(_square(lib), **out),
    "linalg.lu_solve": lambda lib, **out: lib.linalg.lu_solve(*_factored(lib), _column(lib), **out),
    "linalg.ldl_factor": lambda lib, **out: lib.linalg.ldl_factor(_square(lib), **out),
    "linalg.ldl_factor_ex": lambda lib, **out: lib.linalg.ldl_factor_ex(_square(lib), **out),
    "linalg.ldl_solve": lambda lib, **out: lib.linalg.ldl_solve(*_ldl(lib), _column(lib), **out),
    "linalg.householder_product": lambda lib, **out: lib.linalg.householder_product(*lib.geqrf(_square(lib)), **out),
    "linalg.lstsq": lambda lib, **out: lib.linalg.lstsq(_square(lib), _column(lib), **out),
}


def _empty_like_result(library, result):
    if isinstance(result, tuple):
        return tuple(library.empty(0, dtype=each.dtype) for each in result)
    return library.empty(0, dtype=result.dtype)


def _parts(result):
    return list(result) if isinstance(result, tuple) else [result]


@pytest.mark.filterwarnings("ignore::UserWarning")  # the deprecated names (torch.lu, torch.lu_solve...) warn in both
@pytest.mark.parametrize("name", CALLS)
def test_out_writes_the_result_where_pytorch_does(name):
    outputs = {}
    for library in (chainrule, torch):
        out = _empty_like_result(library, CALLS[name](library))
        returned = CALLS[name](library, out=out)
        for written, given in zip(_parts(returned), _parts(out)):
            assert written is given  # the very tensors given, resized to the result
        outputs[library.__name__] = (type(returned).__name__, [each.numpy() for each in _parts(out)])
    (our_type, ours), (their_type, theirs) = outputs["chainrule"], outputs["torch"]
    assert our_type == their_type  # e.g. aminmax_out, slogdet_out, or Tensor
    for mine, their in zip(ours, theirs):
        assert mine.dtype == their.dtype and mine.shape == their.shape
        np.testing.assert_allclose(mine, their, rtol=1e-6, atol=1e-9)


def test_out_of_another_dtype_is_cast_as_pytorch_casts():
    out = chainrule.empty(0, dtype=chainrule.float64)
    chainrule.diff(chainrule.tensor([1.0, 4.0, 9.0]), out=out)
    assert out.dtype == chainrule.float64 and out.tolist() == [3.0, 5.0]


STRICT = {
    "gather": lambda lib, x, out: lib.gather(x, 1, lib.tensor([[0, 1], [1, 0]]), out=out),
    "index_select": lambda lib, x, out: lib.index_select(x, 1, lib.tensor([0, 2]), out=out),
    "take": lambda lib, x, out: lib.take(x, lib.tensor([0, 5]), out=out),
    "take_along_dim": lambda lib, x, out: lib.take_along_dim(x, lib.tensor([[0], [1]]), 1, out=out),
    "narrow_copy": lambda lib, x, out: lib.narrow_copy(x, 1, 0, 2, out=out),
    "index_add": lambda lib, x, out: lib.index_add(x, 1, lib.tensor([0]), x[:, :1], out=out),
    "scatter": lambda lib, x, out: lib.scatter(x, 1, lib.tensor([[0], [1]]), 1.0, out=out),
    "sort": lambda lib, x, out: lib.sort(x, out=(out, lib.empty(0, dtype=lib.long))),
    "topk": lambda lib, x, out: lib.topk(x, 2, out=(out, lib.empty(0, dtype=lib.long))),
    "max along a dim": lambda lib, x, out: lib.max(x, 1, out=(out, lib.empty(0, dtype=lib.long))),
    "aminmax": lambda lib, x, out: lib.aminmax(x, dim=1, out=(out, out.clone())),
    "amax": lambda lib, x, out: lib.amax(x, 1, out=out),
    "argmax into a float out": lambda lib, x, out: lib.argmax(x, 1, out=out if out.dtype == lib.float64 else out.long()),
    "mm": lambda lib, x, out: lib.mm(x, x.t(), out=out),
    "matmul": lambda lib, x, out: lib.matmul(x, x.t(), out=out),
    "bmm": lambda lib, x, out: lib.bmm(x[None], x.t()[None], out=out),
    "mv": lambda lib, x, out: lib.mv(x, x[0], out=out),
    "dot": lambda lib, x, out: lib.dot(x[0], x[1], out=out),
    "addmm": lambda lib, x, out: lib.addmm(x, x, lib.eye(3), out=out),
    "linalg.inv": lambda lib, x, out: lib.linalg.inv(lib.eye(3) + 0.1, out=out),
    "linalg.solve": lambda lib, x, out: lib.linalg.solve(lib.eye(3) + 0.1, x.t(), out=out),
    "linalg.cross": lambda lib, x, out: lib.linalg.cross(x, x, out=out),
    "linalg.vecdot": lambda lib, x, out: lib.linalg.vecdot(x, x, out=out),
}
CASTING = {
    "max of all": lambda lib, x, out: lib.max(x, out=out),
    "maximum through max": lambda lib, x, out: lib.max(x, x, out=out),
    "outer": lambda lib, x, out: lib.outer(x[0], x[1], out=out),
    "linalg.pinv": lambda lib, x, out: lib.linalg.pinv(lib.eye(3) + 0.1, out=out),
    "cumsum": lambda lib, x, out: lib.cumsum(x, 1, out=out),
}


@pytest.mark.parametrize("name", sorted(STRICT) + sorted(CASTING))
def test_an_out_of_another_dtype_is_refused_or_cast_as_pytorch(name):
    """PyTorch's structured kernels (gather, mm, sort, linalg...) refuse an out= of another dtype
    than the result's (RuntimeError, its words varying by kernel); elementwise-like ones cast into it."""
    call = STRICT.get(name) or CASTING[name]
    for lib in (chainrule, torch):
        x = lib.arange(6.0).reshape(2, 3)
        if name in STRICT:
            with pytest.raises(RuntimeError, match="dtype|type"):
                call(lib, x, lib.empty(0, dtype=lib.float64))
            call(lib, x, lib.empty(0))
        else:
            assert call(lib, x, lib.empty(0, dtype=lib.float64)).dtype == lib.float64
