"""Spectral normalization (Miyato et al., 2018), the old hook form of ``torch.nn.utils``.

The weight is divided by its largest singular value σ, so that the layer stretches no input by
more than a factor 1 (a 1-Lipschitz layer, used in GAN discriminators):

    W_sn = W / σ(W),   σ(W) ≈ uᵀ W v

with W seen as a matrix (``dim`` first, the other dimensions flattened). u and v are estimates of
the top singular vectors kept as buffers and refined by power iteration at each forward in
training, ``n_power_iterations`` times:

    v ← normalize(Wᵀ u),   u ← normalize(W v)

σ is differentiated through W only (u and v are constants of the step). ``spectral_norm(module)``
keeps the learned weight as the parameter ``weight_orig``, the buffers ``weight_u`` and
``weight_v``, and sets ``module.weight`` to W_sn before every forward.
``nn.utils.parametrizations.spectral_norm`` is the newer form.
"""
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn import functional as F
from chainrule.nn.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from chainrule.nn.parameter import Parameter, is_lazy
from chainrule.nn.utils.weight_norm import remove_hook


def weight_as_matrix(weight, dim):
    """``weight`` as a matrix (size of ``dim``, everything else): ``dim`` moved first, the rest flattened."""
    if dim != 0:
        weight = weight.permute(dim, *(axis for axis in range(weight.ndim) if axis != dim))
    return weight.reshape(weight.shape[0], -1)


def default_dim(module):
    """The dimension of the output units: 1 for transposed convolutions (weight (in, out, ...)), else 0."""
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


class SpectralNorm:
    """The forward pre-hook that sets ``module.<name>`` to ``<name>_orig / σ`` (see the module docstring)."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}")
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def compute_weight(self, module, do_power_iteration):
        """W / (uᵀ W v), after refining u and v in place (``do_power_iteration``)."""
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        matrix = weight_as_matrix(weight, self.dim)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(matrix.t().mv(u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(matrix.mv(v), dim=0, eps=self.eps))
                u, v = u.clone(), v.clone()  # the buffers change at the next forward; this step keeps its own
        sigma = u.dot(matrix.mv(v))
        return weight / sigma

    def remove(self, module):
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        for suffix in ("", "_u", "_v", "_orig"):
            delattr(module, self.name + suffix)
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))

    @staticmethod
    def apply(module, name, n_power_iterations, dim, eps):
        if any(isinstance(hook, SpectralNorm) and hook.name == name for hook in module._forward_pre_hooks.values()):
            raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
        hook = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        if weight is None:
            raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
        if is_lazy(weight):
            raise ValueError(
                "The module passed to `SpectralNorm` can't have uninitialized parameters. Make sure to run "
                "the dummy forward before applying spectral normalization"
            )
        with no_grad():
            height, width = weight_as_matrix(weight, dim).shape
            u = F.normalize(weight.new_empty(height).normal_(0, 1), dim=0, eps=eps)
            v = F.normalize(weight.new_empty(width).normal_(0, 1), dim=0, eps=eps)
        delattr(module, name)
        module.register_parameter(name + "_orig", weight)
        setattr(module, name, weight.detach())  # until the first forward sets W_sn
        module.register_buffer(name + "_u", u)
        module.register_buffer(name + "_v", v)
        module.register_forward_pre_hook(hook)
        return hook


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value before every forward (see the module
    docstring); ``dim`` defaults to the output-unit dimension (1 for transposed convolutions)."""
    SpectralNorm.apply(module, name, n_power_iterations, default_dim(module) if dim is None else dim, eps)
    return module


def remove_spectral_norm(module, name="weight"):
    """Undo ``spectral_norm``: ``<name>`` becomes a plain parameter holding the last W / σ."""
    return remove_hook(module, SpectralNorm, name, "spectral_norm")
