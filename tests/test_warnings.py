"""Operations that PyTorch computes silently raise no NumPy warning, and chainrule warns of nothing
deprecated (pyproject.toml turns chainrule's DeprecationWarnings into errors for the whole suite)."""
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import chainrule


def silently(function):
    """``function()``, failing on any warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return function()


def test_exp_of_1000_is_inf_without_a_warning():
    result = silently(lambda: chainrule.exp(chainrule.tensor([1000.0, 0.0])))
    np.testing.assert_array_equal(result._array, torch.exp(torch.tensor([1000.0, 0.0])).numpy())


def test_softmax_of_huge_logits_without_a_warning():
    logits = [3e38, -3e38, 0.0]
    result = silently(lambda: chainrule.softmax(chainrule.tensor(logits), dim=0))
    np.testing.assert_allclose(result._array, torch.softmax(torch.tensor(logits), dim=0).numpy())


def test_clamp_with_one_bound_builds_its_masks_from_numpy_bools():
    x = chainrule.tensor([-1.0, 0.5, 2.0], requires_grad=True)
    low = chainrule.tensor(0.0, requires_grad=True)

    def clamp_and_backward():
        out = chainrule.clamp(x, min=low)
        out.sum().backward()
        return out

    out = silently(clamp_and_backward)
    assert type(getattr(out.grad_fn, "above", None)) is not bool, "a NumPy bool mask, never Python's False"
    assert x.grad.tolist() == [0.0, 1.0, 1.0] and low.grad.item() == 1.0


def test_chainrule_deprecation_warnings_fail_the_suite():
    module_globals = {"__name__": "chainrule.fake_module"}
    with pytest.raises(DeprecationWarning):
        exec("import warnings; warnings.warn('old', DeprecationWarning)", module_globals)


def test_casting_nan_inf_and_out_of_range_floats_to_integers_without_a_warning():
    values = [float("nan"), float("inf"), 1e10, -1.5]
    result = silently(lambda: chainrule.tensor(values).int())
    assert result.dtype == chainrule.int32 and result[3].item() == -1  # what nan, inf, 1e10 become is undefined, as in C


@pytest.mark.parametrize("call", [lambda lib: lib.tensor([2.0]).var(), lambda lib: lib.tensor([[1.0, 2.0]]).std(0), lambda lib: lib.var_mean(lib.tensor([3.0]))[0]])
def test_a_variance_without_degrees_of_freedom_warns_at_the_callers_line_as_pytorch(call):
    results, caught = [], []
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            results.append(call(lib).numpy())
        caught.append([warning for warning in recorded if "degrees of freedom is <= 0" in str(warning.message)])
    assert caught[1] and [warning.filename for warning in caught[0]] == [__file__]
    np.testing.assert_array_equal(*results)


WARNING_CALLS = {
    "kl_div mean": lambda lib, x: lib.nn.functional.kl_div(x, x.exp()),
    "upsample": lambda lib, x: lib.nn.functional.upsample(x.view(1, 2, 3), scale_factor=2),
    "upsample_nearest": lambda lib, x: lib.nn.functional.upsample_nearest(x.view(1, 2, 3), scale_factor=2),
    "mse_loss broadcasting": lambda lib, x: lib.nn.functional.mse_loss(x, x[0]),
    "grid_sample align_corners": lambda lib, x: lib.nn.functional.grid_sample(x.view(1, 1, 2, 3), lib.zeros(1, 1, 1, 2)),
    "affine_grid unit size": lambda lib, x: lib.nn.functional.affine_grid(lib.eye(2, 3)[None], (1, 1, 1, 2), align_corners=True),
    "dropout2d of 3-d": lambda lib, x: lib.nn.functional.dropout2d(x.view(1, 2, 3), 0.5),
    "dropout2d of 2-d": lambda lib, x: lib.nn.functional.dropout2d(x, 0.5),
}


@pytest.mark.parametrize("name", sorted(WARNING_CALLS))
def test_functional_warnings_point_at_the_callers_line_as_pytorchs(name):
    """A warning of a public function names the line that called it, as PyTorch's do (a
    ``stacklevel`` counted inside chainrule named its dispatcher in overrides.py)."""
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")
            WARNING_CALLS[name](lib, lib.zeros(2, 3))
        assert [warning.filename for warning in recorded] == [__file__], lib.__name__


def test_overflow_in_the_cheapest_operations_is_silent_in_a_script():
    """A diverging run gives inf and nan silently, as PyTorch does, where NumPy would warn from
    chainrule's lines; the script's own NumPy code still warns. (A subprocess: pytest imports
    chainrule inside its own warning filters, which it throws away after collection.)"""
    script = (
        "import warnings, numpy as np, chainrule\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    chainrule.tensor([3e38]) * 10; chainrule.tensor([3e38]) + chainrule.tensor([3e38])\n"
        "    chainrule.tensor([-3e38]) - chainrule.tensor([3e38]); chainrule.tensor([float('inf')]) * 0\n"
        "    chainrule.tensor([[3e38, 3e38]]) @ chainrule.tensor([[3e38], [3e38]])\n"
        "    chainrule.nn.functional.layer_norm(chainrule.tensor([[3e38, -3e38]]), (2,))\n"
        "print(len(caught))\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    np.array([3e38], dtype=np.float32) * np.float32(10)\n"
        "print(len(caught))\n"
    )
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["0", "1"]


def test_ignoring_float_errors_restores_the_callers_own_error_state():
    """chainrule's quiet blocks leave NumPy's error handling as they found it: the user's own
    ``np.errstate`` (raise on divide), nested blocks, and NumPy's default (warn) afterwards."""
    from chainrule.backend import ignoring_float_errors

    zeros = np.zeros(2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="raise", call=None):
            for _ in range(2):  # the second time from the state made the first time
                with ignoring_float_errors():
                    np.log(zeros)
                    with ignoring_float_errors():
                        np.log(zeros)
                    assert np.geterr()["divide"] == "ignore"
                with pytest.raises(FloatingPointError):
                    np.log(zeros)
        with ignoring_float_errors():
            assert np.geterr() == {"divide": "ignore", "over": "ignore", "under": "ignore", "invalid": "ignore"}
        with pytest.raises(RuntimeWarning):
            np.log(zeros)


def test_legacy_constructors_warn_of_a_list_of_arrays_as_tensor_does():
    """``FloatTensor([array, ...])`` gives PyTorch's warning that a list of NumPy arrays is slow
    (captum's Lime builds its samples so); it gave none."""
    chainrule.set_warn_always(True)
    try:
        with pytest.warns(UserWarning, match="list of numpy.ndarrays is extremely slow"):
            made = chainrule.FloatTensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])])
    finally:
        chainrule.set_warn_always(False)
    assert made.tolist() == [[1.0, 2.0], [3.0, 4.0]] and made.dtype == chainrule.float32
    assert chainrule.LongTensor([chainrule.tensor(1), chainrule.tensor(2)]).tolist() == [1, 2]


_FLOAT_ERROR_CASES = {
    "product 0 * inf": lambda t: t.tensor([0.0]) * float("inf"),
    "sum overflows": lambda t: t.tensor([3e38]) + 3e38,
    "sum of all": lambda t: t.full((4, 4), 3e38).sum(),
    "sum along": lambda t: t.full((4, 4), 3e38).sum(0),
    "mean": lambda t: t.full((4, 4), 3e38).mean(1),
    "matmul": lambda t: t.full((2, 2), 3e38) @ t.full((2, 2), 3e38),
    "inf - inf": lambda t: t.full((2,), float("inf")) - float("inf"),
    "sin of inf": lambda t: t.full((2,), float("inf")).sin(),
    "layer norm": lambda t: t.nn.functional.layer_norm(t.full((2, 4), 3e38), (4,)),
    "batch norm": lambda t: t.nn.functional.batch_norm(t.full((2, 4), 3e38), None, None, training=True),
    "var_mean": lambda t: t.var_mean(t.full((4,), 3e38)),
    "nansum": lambda t: t.full((4,), 3e38).nansum(),
    "trace": lambda t: t.full((3, 3), 3e38).trace(),
}


@pytest.mark.parametrize("case", sorted(_FLOAT_ERROR_CASES))
def test_float_errors_stay_silent_under_a_users_error_filter(case):
    """inf and nan from an operation pass silently, as in PyTorch, also where the user (or pytest's
    ``-W error``) made warnings errors after chainrule was imported: NumPy's RuntimeWarnings from
    chainrule's arithmetic ("overflow encountered in reduce") were then raised."""
    for lib in (torch, chainrule):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _FLOAT_ERROR_CASES[case](lib)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning):  # the user's own NumPy arithmetic still warns
            np.array([0.0]) * np.inf
