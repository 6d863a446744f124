"""Ready-made parametrizations, as ``torch.nn.utils.parametrizations``: each registers itself with
``parametrize.register_parametrization``, so ``module.weight`` is computed on every access.

- ``orthogonal``: the weight is always an orthogonal matrix (QᵀQ = I, or QQᵀ = I when wide).
- ``weight_norm``: w = g · v / ‖v‖, learned as ``original0`` = g and ``original1`` = v.
- ``spectral_norm``: w = W / σ(W), σ the largest singular value, estimated by power iteration.
"""
from chainrule import linalg
from chainrule.autograd.grad_mode import no_grad
from chainrule.creation import eye, randn, zeros
from chainrule.ops.factorizations import geqrf
from chainrule.type_info import finfo
from chainrule.nn import functional as F
from chainrule.nn.module import Module
from chainrule.nn.utils import parametrize
from chainrule.nn.utils.spectral_norm import default_dim, weight_as_matrix
from chainrule.nn.utils.weight_norm import norm_except_dim, weight_from_magnitude_and_direction
from chainrule.ops.join import cat
from chainrule.tensor import Tensor

ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def make_orthogonal(matrix):
    """The Q of matrix = QR, its columns signed so that R has a positive diagonal."""
    q, r = linalg.qr(matrix)
    return q * r.diagonal(dim1=-2, dim2=-1).sign().unsqueeze(-2)


def householder_reflectors(matrix):
    """The original from which the householder map gives the Q of matrix = QR (a tall matrix):
    geqrf's reflectors below the diagonal, and on it the sign of R's diagonal, which the map puts
    on each column of Q. Where LAPACK does not reflect (tau = 0: the column was reduced already)
    the map's reflector (tau = 2) flips the column, so that sign is flipped back."""
    reflectors, tau = geqrf(matrix)
    diagonal = reflectors.diagonal(dim1=-2, dim2=-1)
    diagonal.sign_()
    diagonal[tau == 0.0] *= -1
    return reflectors


def is_orthogonal(matrix):
    """QᵀQ = I to 10 · n · the dtype's machine epsilon."""
    n, k = matrix.shape[-2:]
    return bool((matrix.mT @ matrix).allclose(eye(k, dtype=matrix.dtype), atol=10 * n * finfo(matrix.dtype).eps))


class _Orthogonal(Module):
    """X -> an orthogonal Q of the same shape (a tall X = (n, k), n ≥ k, gives orthonormal columns;
    a wide one is transposed first and back after).

    - matrix_exp: Q = exp(A), A = L - Lᵀ skew-symmetric from the lower triangle L of X (padded to n × n);
    - cayley: Q = (I - A/2)⁻¹ (I + A/2);
    - householder: Q = H_1 ... H_k from the reflectors below X's diagonal.

    With ``use_trivialization`` (the default) Q is multiplied on the left by a fixed orthogonal
    ``base`` (a buffer): assigning an orthogonal matrix stores it as ``base`` and sets the original
    to the point that maps to the identity, so optimization starts from the given matrix.
    """

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = tuple(weight.shape)
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:
                X = cat([X, zeros(n, n - k, dtype=X.dtype).expand(*X.shape[:-2], n, n - k)], -1)
            A = X - X.mT
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:
                identity = eye(n, dtype=A.dtype)
                Q = linalg.solve(identity - A / 2, identity + A / 2)
            Q = Q[..., :k] if n != k else Q
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            # The signs on X's diagonal choose each column's sign; they are not learned.
            Q = linalg.householder_product(A, tau) * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        base = self._buffers.get("base")
        if base is not None:
            Q = base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        """The original that gives ``Q``: with ``use_trivialization``, ``base`` becomes Q made
        orthogonal (completed with random columns when not square) and the original is -I; without
        it (householder only), the reflectors of Q's QR decomposition."""
        with no_grad():
            if tuple(Q.shape) != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of shape {tuple(Q.shape)}.")
            original_shape = tuple(Q.shape)
            n, k = Q.shape[-2:]
            transposed = n < k
            if transposed:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map != "householder":
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley parametrizations "
                        "when use_trivialization=False."
                    )
                reflectors = householder_reflectors(Q)
                return reflectors.mT if transposed else reflectors
            if n == k:
                Q = Q.clone() if is_orthogonal(Q) else make_orthogonal(Q)
            else:
                Q = make_orthogonal(cat([Q, randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)], -1))
            self.base = Q
            # -I: the householder map sends it to I (and the other maps send any diagonal there)
            return (-eye(*original_shape[-2:], dtype=Q.dtype)).expand(*original_shape).clone()


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keep ``module.<name>`` orthogonal (see ``_Orthogonal``). ``orthogonal_map`` is "matrix_exp"
    (the default for square matrices), "cayley" or "householder" (the default otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    if orthogonal_map not in ORTHOGONAL_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: {orthogonal_map}')
    parametrize.register_parametrization(module, name, _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization), unsafe=True)
    return module


class _WeightNorm(Module):
    """(g, v) -> g · v / ‖v‖, the norm over every dimension but ``dim`` (the whole tensor for None)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_from_magnitude_and_direction(weight_g, weight_v, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Learn ``module.<name>`` as a magnitude ``parametrizations.<name>.original0`` (g) and a
    direction ``original1`` (v): w = g · v / ‖v‖. A state dict saved with the old
    ``nn.utils.weight_norm`` (keys ``<name>_g``, ``<name>_v``) loads into it."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_old_weight_norm_keys(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        """Rename a checkpoint saved with the old ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``)."""
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(load_old_weight_norm_keys)
    return module


class _SpectralNorm(Module):
    """W -> W / σ, σ = uᵀ W v with the estimates u, v of W's top singular vectors (buffers ``_u``
    and ``_v``), refined by ``n_power_iterations`` steps u ← normalize(W v), v ← normalize(Wᵀ u)
    at each access in training (15 steps at creation). A 1-d weight is just normalized."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = weight_as_matrix(weight, self.dim)
            height, width = matrix.shape
            u = matrix.new_empty(height).normal_(0, 1)
            v = matrix.new_empty(width).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(matrix, 15)

    def _power_method(self, matrix, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(matrix.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(matrix.mT.mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = weight_as_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        sigma = self._u.clone().dot(matrix.mv(self._v.clone()))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divide ``module.<name>`` by its largest singular value on every access (see ``_SpectralNorm``);
    ``dim`` defaults to the output-unit dimension (1 for transposed convolutions)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    spectral = _SpectralNorm(weight, n_power_iterations, default_dim(module) if dim is None else dim, eps)
    parametrize.register_parametrization(module, name, spectral)
    return module
