"""What a misuse raises, in a form to compare between PyTorch and chainrule."""
import warnings


def error_of(call):
    """(type name, message) of what ``call()`` raises, warnings silenced; chainrule's module names read
    as PyTorch's. None when it raises nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except Exception as error:  # noqa: BLE001 (the comparison is of the error itself)
            return type(error).__name__, str(error).replace("chainrule.distributed", "torch.distributed")
    return None
