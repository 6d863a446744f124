"""Operations take their arguments by PyTorch's keywords too (``input=``, ``other=``, and sizes as
``shape=``/``size=``/``dims=``/``repeats=``), as course code sometimes passes them."""
import numpy as np
import pytest
import torch

import chainrule

CALLS = [
    "x.view(size=(6,))", "x.reshape(shape=(3, 2))", "lib.reshape(x, shape=(6,))", "x.permute(dims=(1, 0))",
    "lib.permute(x, dims=(1, 0))", "x.expand(size=(2, 2, 3))", "x.repeat(repeats=(2, 1))", "x.tile(dims=(2,))",
    "lib.tile(x, dims=(2,))", "x.matmul(other=x.T)", "lib.matmul(input=x, other=x.T)", "lib.sum(input=x, dim=0)",
    "lib.add(x, other=x, alpha=2)", "lib.exp(input=x)", "lib.gt(x, other=0)", "lib.mul(input=x, other=3)",
    "lib.transpose(input=x, dim0=0, dim1=1)", "lib.softmax(input=x, dim=1)", "lib.clamp(input=x, min=0.2)",
    "lib.mm(x, mat2=x.T)", "x.mm(mat2=x.T)", "lib.bmm(input=x[None], mat2=x.T[None])", "lib.dot(x[0], tensor=x[1])",
    "lib.mv(x, vec=x[0])", "lib.outer(x[0], vec2=x[1])",
]


@pytest.mark.parametrize("call", CALLS)
def test_pytorch_keywords_give_pytorch_s_result(call):
    values = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    results = [eval(call, {"lib": lib, "x": lib.tensor(values)}) for lib in (chainrule, torch)]  # noqa: S307
    np.testing.assert_allclose(results[0].numpy(), results[1].numpy(), rtol=1e-6)
