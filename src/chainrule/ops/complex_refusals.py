"""What PyTorch refuses on complex tensors, in its words and exception types.

Operations that order numbers (comparisons, extrema, sorting, clamping, rounding) or that PyTorch
has no complex kernel for. NumPy would compute something (ordering complex numbers
lexicographically), so each refuses complex input as PyTorch does. The hot ones (comparisons, max
and min, relu, clamp, maximum, softmax, gelu, mse_loss) test the dtype themselves, where they check
their input already (``complex_refused`` builds the error); ``ops/complex_numbers.py`` wraps the others
once they are registered (an extra call, which a hot operation should not pay).
"""
from chainrule import dtypes

# PyTorch's words: # {dtype} is the C++ name, ComplexFloat or ComplexDouble.
NOT_IMPLEMENTED_KERNEL = '"{kernel}" not implemented for \'{dtype}\''
REFUSED_ON_COMPLEX = {
    # name: (exception, message); a kernel name stands for PyTorch's "not implemented for" message
    "lt": (NotImplementedError, "lt_cpu"), "gt": (NotImplementedError, "gt_cpu"),
    "le": (NotImplementedError, "le_cpu"), "ge": (NotImplementedError, "ge_cpu"),
    "less": (NotImplementedError, "lt_cpu"), "greater": (NotImplementedError, "gt_cpu"),
    "less_equal": (NotImplementedError, "le_cpu"), "greater_equal": (NotImplementedError, "ge_cpu"),
    "__lt__": (NotImplementedError, "lt_cpu"), "__gt__": (NotImplementedError, "gt_cpu"),
    "__le__": (NotImplementedError, "le_cpu"), "__ge__": (NotImplementedError, "ge_cpu"),
    # max and min: of the whole tensor "max_all" (NotImplementedError), along a dimension a RuntimeError
    "max": (RuntimeError, "max(): does not support complex input"), "min": (RuntimeError, "min(): does not support complex input"),
    "amax": (NotImplementedError, "max_values_cpu"), "amin": (NotImplementedError, "min_values_cpu"),
    "argmax": (RuntimeError, "argmax(): does not support complex input"),
    "argmin": (RuntimeError, "argmin(): does not support complex input"),
    "maximum": (RuntimeError, "maximum not implemented for complex tensors."),
    "minimum": (RuntimeError, "minimum not implemented for complex tensors."),
    "fmax": (RuntimeError, "fmax not implemented for complex tensors."),
    "fmin": (RuntimeError, "fmin not implemented for complex tensors."),
    "sort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    "argsort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    "msort": (RuntimeError, " Sort does not support complex dtypes on CPU"),
    "topk": (RuntimeError, " topk does not support complex dtypes on CPU"),
    "clamp": (NotImplementedError, "clamp is not supported for complex types"),
    "clip": (NotImplementedError, "clamp is not supported for complex types"),
    "clamp_min": (NotImplementedError, "clamp is not supported for complex types"),
    "clamp_max": (NotImplementedError, "clamp is not supported for complex types"),
    "relu": (NotImplementedError, "clamp is not supported for complex types"),
    "floor": (NotImplementedError, "floor is not supported for complex inputs"),
    "ceil": (NotImplementedError, "ceil is not supported for complex inputs"),
    "trunc": (NotImplementedError, "trunc is not supported for complex inputs"),
    "round": (NotImplementedError, "round_vml_cpu"), "frac": (NotImplementedError, "frac_cpu"),
    "softmax": (NotImplementedError, "softmax_lastdim_kernel_impl"),
    "log_softmax": (NotImplementedError, "log_softmax_lastdim_kernel_impl"),
    "atan2": (NotImplementedError, "atan2_cpu"), "arctan2": (NotImplementedError, "atan2_cpu"),
    "cummax": (NotImplementedError, "cummax_cpu"), "cummin": (NotImplementedError, "cummin_cpu"),
    "median": (NotImplementedError, "median_cpu"), "kthvalue": (NotImplementedError, "kthvalue_cpu"),
    "remainder": (NotImplementedError, "remainder_cpu"), "fmod": (NotImplementedError, "fmod_cpu"),
    "__mod__": (NotImplementedError, "remainder_cpu"),
    "floor_divide": (NotImplementedError, "div_floor_cpu"), "__floordiv__": (NotImplementedError, "div_floor_cpu"),
    "heaviside": (RuntimeError, "heaviside is not yet implemented for complex tensors."),
    "gelu": (NotImplementedError, "GeluKernelImpl"), "mse_loss": (NotImplementedError, "mse_cpu"),
    "erf": (NotImplementedError, "erf_vml_cpu"), "lgamma": (NotImplementedError, "lgamma_vml_cpu"),
    "nansum": (RuntimeError, "nansum on CPU does not support complex inputs"),
    "xlogy": (NotImplementedError, "xlogy_cpu"),
    "erfc": (NotImplementedError, "erfc_vml_cpu"), "erfinv": (NotImplementedError, "erfinv_vml_cpu"),
    "digamma": (NotImplementedError, "digamma"), "i0": (NotImplementedError, "i0_vml_cpu"),
    "logit": (NotImplementedError, "logit_cpu"), "copysign": (NotImplementedError, "copysign_cpu"),
    "fix": (NotImplementedError, "trunc is not supported for complex inputs"),
    "signbit": (NotImplementedError, "signbit is not implemented for complex tensors."),
    "isposinf": (RuntimeError, "isposinf does not support complex inputs."),
    "isneginf": (RuntimeError, "isneginf does not support complex inputs."),
    "deg2rad": (RuntimeError, "deg2rad is not supported for complex tensors."),
    "rad2deg": (RuntimeError, "rad2deg is not supported for complex tensors."),
    "hardtanh": (NotImplementedError, "clamp is not supported for complex types"),
    "relu6": (NotImplementedError, "clamp is not supported for complex types"),
}


#: The operations that test for complex input themselves (see above): not wrapped.
CHECKED_IN_PLACE = frozenset({
    "lt", "gt", "le", "ge", "less", "greater", "less_equal", "greater_equal", "__lt__", "__gt__", "__le__", "__ge__",
    "max", "min", "amax", "amin", "maximum", "minimum", "clamp", "clip", "clamp_min", "clamp_max", "relu",
    "softmax", "log_softmax", "gelu", "mse_loss",
})


def complex_refused(operation, dtype, whole=False):
    """The exception PyTorch raises for ``operation`` on a complex tensor of ``dtype`` (``whole``:
    max or min of the whole tensor, whose kernel is named otherwise)."""
    kind, words = REFUSED_ON_COMPLEX[operation]
    if whole and words.startswith(("max()", "min()")):
        kind, words = NotImplementedError, words[:3] + "_all"
    if " " not in words:
        words = NOT_IMPLEMENTED_KERNEL.format(kernel=words, dtype=dtypes.scalar_type_name(dtype))
    return kind(words)
