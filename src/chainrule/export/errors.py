"""The error export raises where the user's code or arguments are at fault, as PyTorch's ``UserError``."""
import enum


class UserErrorType(enum.Enum):
    """What kind of fault a UserError reports (``torch._dynamo.exc.UserErrorType``'s names)."""

    CONSTRAINT_VIOLATION = "constraint_violation"  # a dynamic size the code requires particular values of
    INVALID_INPUT = "invalid_input"  # arguments export cannot read (dynamic_shapes unlike the inputs...)


class UserError(RuntimeError):
    """``export`` was given what it cannot export (``torch._dynamo.exc.UserError``): ``error_type``
    says which fault, the message what was wrong and how to write it instead."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
