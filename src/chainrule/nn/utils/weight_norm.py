"""Weight normalization (Salimans and Kingma, 2016), the old hook form of ``torch.nn.utils``.

A weight w is rewritten as a magnitude g and a direction v:

    w = g · v / ‖v‖

with ‖v‖ taken over every dimension but ``dim`` (one norm per output unit for ``dim=0``; one
norm of the whole tensor for ``dim=None``). ``weight_norm(module)`` replaces the parameter
``weight`` by the parameters ``weight_g`` (shaped as the norms) and ``weight_v`` (shaped as w),
and recomputes ``module.weight`` from them before every forward. Gradient descent then moves
the length and the direction of each unit's weights separately.
``nn.utils.parametrizations.weight_norm`` is the newer form of the same idea.
"""
import warnings

from chainrule.nn.parameter import Parameter, is_lazy


def norm_except_dim(v, pow=2, dim=0):
    """The ``pow``-norm of ``v`` over every dimension but ``dim``, keeping the dimensions (size 1
    except ``dim``); ``dim=-1`` (or None) takes one norm of the whole tensor, a 0-d result. Any
    other negative ``dim`` counts from the end (-2: the next-to-last dimension), as in PyTorch."""
    if dim is None or dim == -1:
        return v.norm(pow)
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(
            f"norm_except_dim: dimension out of range (expected to be in range of [{-max(v.ndim, 1)}, "
            f"{max(v.ndim, 1) - 1}], but got {dim}) for a tensor of shape {tuple(v.shape)}; pass a dimension "
            "of the tensor, or dim=None for one norm of the whole tensor"
        )
    dim %= v.ndim
    others = tuple(axis for axis in range(v.ndim) if axis != dim)
    if not others:  # a 1-d v: one norm per element
        return v.abs()
    return v.abs().pow(pow).sum(others, keepdim=True).pow(1.0 / pow)


def weight_from_magnitude_and_direction(g, v, dim):
    """w = g · v / ‖v‖, the norm over every dimension but ``dim``."""
    return v * (g / norm_except_dim(v, 2, dim))


class WeightNorm:
    """The forward pre-hook that recomputes ``module.<name>`` from ``<name>_g`` and ``<name>_v``."""

    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        return weight_from_magnitude_and_direction(getattr(module, self.name + "_g"), getattr(module, self.name + "_v"), self.dim)

    @staticmethod
    def apply(module, name, dim):
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of `torch.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        if any(isinstance(hook, WeightNorm) and hook.name == name for hook in module._forward_pre_hooks.values()):
            raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        hook = WeightNorm(name, dim)
        weight = getattr(module, name)
        if is_lazy(weight):
            raise ValueError(
                "The module passed to `WeightNorm` can't have uninitialized parameters. Make sure to run "
                "the dummy forward before applying weight normalization"
            )
        magnitude = norm_except_dim(weight, 2, hook.dim)  # before the module changes: a bad dim leaves it whole
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(magnitude.detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, hook.compute_weight(module))
        module.register_forward_pre_hook(hook)
        return hook

    def remove(self, module):
        weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module, name="weight", dim=0):
    """Rewrite ``module.<name>`` as ``<name>_g · <name>_v / ‖<name>_v‖`` (see the module
    docstring); deprecated by PyTorch in favour of ``parametrizations.weight_norm``, and warns so."""
    WeightNorm.apply(module, name, dim)
    return module


def remove_hook(module, hook_type, name, what):
    """Take the ``hook_type`` hook of parameter ``name`` off ``module`` (making ``name`` a plain
    parameter again); ValueError naming ``what`` if there is none."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, hook_type) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"{what} of '{name}' not found in {module}")


def remove_weight_norm(module, name="weight"):
    """Undo ``weight_norm``: ``<name>`` becomes a plain parameter again, holding g · v / ‖v‖."""
    return remove_hook(module, WeightNorm, name, "weight_norm")
