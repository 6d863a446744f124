"""The errors export raises where the user's code or arguments are at fault, as PyTorch's ``UserError``."""


class UserError(RuntimeError):
    """``export`` was given what it cannot export (``torch._dynamo.exc.UserError``): the message says
    what was wrong and how to write it instead."""
