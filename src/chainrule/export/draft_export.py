"""``draft_export``: export that goes on where ``export`` would fail, and reports what it assumed.

Where export raises, draft_export records the failure in ``ep._report`` (a DraftExportReport) and
goes on with what the example inputs give: a Python branch on tensor data (``if x.sum() > 0:``)
takes the example's branch, and the graph checks at every run that the value decided is the same
(``check_assumption``: RuntimeError "Runtime assertion failed" for an input that would have taken
the other branch, as PyTorch's draft export does); a dynamic size the code constrains is traced as
the example's. The program is then right for inputs like the example; ``print(ep._report)``
says what to fix to export it soundly.
"""
import enum

from chainrule.export.errors import UserError
from chainrule.export.export import _export, read_inputs


class FailureType(enum.Enum):
    CONSTRAINT_VIOLATION_ERROR = 1
    DATA_DEPENDENT_ERROR = 2


class FailureReport:
    """One failure: its ``failure_type`` and ``data`` (``{"message": the error export would have raised}``)."""

    def __init__(self, failure_type, data, xfail=False):
        self.failure_type = failure_type
        self.data = data
        self.xfail = xfail

    def print(self, str_to_filename=None):
        kind = "Data dependent error." if self.failure_type is FailureType.DATA_DEPENDENT_ERROR else "Constraint violation error."
        return f"{kind}\n    {self.data['message']}"


class DraftExportReport:
    """What draft_export met on its way: ``failures``, a FailureReport each; ``successful()`` when none."""

    def __init__(self, failures):
        self.failures = failures

    def successful(self):
        return not self.failures

    def __str__(self):
        if self.successful():
            return "No issues found during export: the graph is sound. You can change back to export()."
        listed = "\n\n".join(f"{number}. {failure.print()}" for number, failure in enumerate(self.failures, 1))
        return f"WARNING: {len(self.failures)} issue(s) found during export, and it was not able to soundly produce a graph.\nPlease follow the instructions to fix the errors.\n\n{listed}\n"


def check_assumption(value, expected, message):
    """The check a draft program makes where it took a branch on tensor data: ``value`` (a tensor
    or number computed now) must equal ``expected`` (what the example gave)."""
    if bool(value == expected) is not True:
        raise RuntimeError(message)


def draft_export(mod, args, kwargs=None, *, dynamic_shapes=None, preserve_module_call_signature=(), strict=False, prefer_deferred_runtime_asserts_over_guards=False):
    """``export`` that records what would fail instead of raising (see the module docstring); the
    ExportedProgram's ``_report`` lists it."""
    if preserve_module_call_signature:
        raise NotImplementedError("draft_export: preserve_module_call_signature is not supported by chainrule.export (its graphs are flat)")
    kwargs = dict(kwargs or {})
    names, specs = read_inputs(mod, args, kwargs, dynamic_shapes)
    failures = []

    def record(tracer, error, proxy, value):
        failure_type = FailureType.CONSTRAINT_VIOLATION_ERROR if isinstance(error, UserError) else FailureType.DATA_DEPENDENT_ERROR
        failures.append(FailureReport(failure_type, {"message": str(error)}))
        if proxy is not None:
            message = f"Runtime assertion failed: {proxy.node.name} was {value!r} for the example inputs, and draft_export traced that branch only"
            tracer.create_proxy("call_function", check_assumption, (proxy, value, message), {})

    program = _export(mod, args, kwargs, names, specs, on_failure=record)
    program._report = DraftExportReport(failures)
    return program
