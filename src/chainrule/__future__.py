"""``chainrule.__future__``: switches for behaviour PyTorch plans to change, as ``torch.__future__``.

Two of them say what ``Module._apply`` (``module.double()``, ``.half()``, ``.to(...)``, ``.type()``,
``.share_memory()``) does to the parameters it converts:

- by default each Parameter object stays and gets the converted values (PyTorch's ``param.data =
  converted``), so an optimizer built before the conversion still holds the module's parameters;
- ``set_overwrite_module_params_on_conversion(True)``: new Parameter objects (and gradients) take
  their place, the old ones keep their old values;
- ``set_swap_module_params_on_conversion(True)``, which wins over the other: PyTorch swaps the
  converted tensors into the objects (``torch.utils.swap_tensors``), keeping them and their
  gradients, which chainrule's default already does.

Both are False by default, as in PyTorch 2.13.
"""

_overwrite_module_params_on_conversion = False
_swap_module_params_on_conversion = False


def set_overwrite_module_params_on_conversion(value):
    """Whether converting a Module (``.double()``, ``.to(...)``...) puts new Parameter objects in
    place of the old ones instead of giving the old ones the converted values."""
    global _overwrite_module_params_on_conversion
    _overwrite_module_params_on_conversion = value


def get_overwrite_module_params_on_conversion():
    """See ``set_overwrite_module_params_on_conversion``; False by default."""
    return _overwrite_module_params_on_conversion


def set_swap_module_params_on_conversion(value):
    """Whether converting a Module swaps the converted tensors into its Parameter objects (and their
    gradients), keeping the objects; it takes precedence over
    ``set_overwrite_module_params_on_conversion``."""
    global _swap_module_params_on_conversion
    _swap_module_params_on_conversion = value


def get_swap_module_params_on_conversion():
    """See ``set_swap_module_params_on_conversion``; False by default."""
    return _swap_module_params_on_conversion
