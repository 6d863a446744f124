"""chainrule.compile on scientific and classical-ML code whose values change between calls:
k-means steps (cdist, argmin, index_add_/scatter_add_/bincount, empty clusters), PCA by svd/eigh
with sign fixes and pca_lowrank, Gaussian-process regression (cholesky, cholesky_solve,
solve_triangular, logdet/slogdet) fitted by Adam, ridge regression by solve/lstsq/pinv, Newton's
method with autograd.functional.hessian/jacobian, einsum equations, searchsorted/bucketize with new
boundaries, cumulative ops, diff, trapezoid, histc, quantile with new q, kron, cross, lerp, where
with scalar branches, and linear algebra whose inputs turn singular / indefinite in a later call
(eager raises; compiled must raise the same).

Each test runs one workflow from the same seeds eagerly and compiled and compares bit for
bit everything observable. A fall-back to eager (one warning at most) is allowed, a different
result never. chainrule has no torch.fft and no torch.polar, so those are not exercised here.
"""
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn, optim
from tests.compile.bitwise import assert_identical

real_torch = pytest.importorskip("torch")

CALLS = 5
FALLBACKS = {}


def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def returned(value):
    if isinstance(value, torch.Tensor):
        return arr(value)
    if isinstance(value, (list, tuple)):
        return [returned(item) for item in value]
    if isinstance(value, dict):
        return {key: returned(item) for key, item in value.items()}
    return value


def attempt(function, *args):
    """What a call returns, or the type and start of the message of what it raises."""
    try:
        return ("ok", returned(function(*args)))
    except Exception as error:  # noqa: BLE001 - compared against eager's
        return ("raised", type(error).__name__, str(error)[:40])


def run(scenario, compiled):
    torch.manual_seed(0)
    np.random.seed(0)
    made = []

    def wrap(function):
        if not compiled:
            return function
        function = chainrule.compile(function)
        made.append(function)
        return function

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observed = scenario(wrap)
    streams = arr(torch.rand(3))
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    reasons = [f.eager_reason for f in made if getattr(f, "eager_reason", None)]
    return {"observed": observed, "streams": streams}, fallbacks, reasons


def same_as_eager(scenario, name=None):
    eager, eager_fallbacks, _ = run(scenario, False)
    assert not eager_fallbacks
    compiled, fallbacks, reasons = run(scenario, True)
    assert len(fallbacks) <= 1, fallbacks
    if reasons:
        FALLBACKS[name or scenario.__name__] = reasons
    assert_identical(compiled, eager, "compiled against eager")
    return eager["observed"], reasons


def points(index, shape, scale=1.0):
    return np.random.RandomState(1000 + index).standard_normal(shape) * scale


# ----------------------------------------------------------------------------- k-means
def kmeans_scenario(update="index_add", k=4, empty_at=None):
    def scenario(wrap):
        centers = torch.tensor(points(0, (k, 2)))

        def step(x):
            d = torch.cdist(x, centers)
            assign = d.argmin(dim=1)
            counts = torch.bincount(assign, minlength=k).to(x.dtype)
            if update == "index_add":
                sums = torch.zeros(k, 2, dtype=x.dtype).index_add_(0, assign, x)
            elif update == "scatter_add":
                sums = torch.zeros(k, 2, dtype=x.dtype).scatter_add_(0, assign[:, None].expand(-1, 2), x)
            else:
                sums = torch.nn.functional.one_hot(assign, k).to(x.dtype).T @ x
            new = torch.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], centers)
            inertia = d.gather(1, assign[:, None]).pow(2).sum()
            centers.copy_(new)
            return assign, counts, inertia

        step = wrap(step)
        out = []
        for index in range(CALLS):
            x = torch.tensor(points(index, (12, 2), scale=1.0 + index))
            if empty_at is not None and index in empty_at:
                x = torch.tensor(points(index, (12, 2)) * 0.01 + 50.0)  # all in one cluster
            out.append([returned(step(x)), arr(centers)])
        return out

    return scenario


@pytest.mark.parametrize("update", ["index_add", "scatter_add", "one_hot"])
def test_kmeans_steps(update):
    same_as_eager(kmeans_scenario(update), f"kmeans-{update}")


def test_kmeans_with_clusters_emptied_in_later_calls():
    same_as_eager(kmeans_scenario("index_add", empty_at={2, 3}), "kmeans-empty")


def test_kmeans_matches_pytorch_values():
    def lib_run(lib):
        centers = lib.tensor(points(0, (4, 2)))
        for index in range(CALLS):
            x = lib.tensor(points(index, (12, 2), scale=1.0 + index))
            assign = lib.cdist(x, centers).argmin(dim=1)
            counts = lib.bincount(assign, minlength=4).to(x.dtype)
            sums = lib.zeros(4, 2, dtype=x.dtype).index_add_(0, assign, x)
            centers = lib.where(counts[:, None] > 0, sums / counts.clamp(min=1)[:, None], centers)
        return centers.numpy()

    compiled_centers = same_as_eager(kmeans_scenario("index_add"))[0][-1][1]
    np.testing.assert_allclose(compiled_centers, lib_run(real_torch), rtol=1e-10)


def test_soft_kmeans_trained_centers():
    """Differentiable soft k-means: centers are a Parameter, Adam updates them."""

    def scenario(wrap):
        centers = nn.Parameter(torch.tensor(points(0, (3, 2))))
        opt = optim.Adam([centers], lr=0.1)

        def step(x, temp):
            opt.zero_grad()
            d2 = torch.cdist(x, centers).pow(2)
            w = torch.softmax(-d2 / temp, dim=1)
            loss = (w * d2).sum(1).mean()
            loss.backward()
            opt.step()
            return loss, w.argmax(1)

        step = wrap(step)
        out = []
        for index in range(CALLS):
            out.append([returned(step(torch.tensor(points(index, (10, 2))), torch.tensor(0.5 + index))),
                        arr(centers), arr(centers.grad), returned(opt.state[centers])])
        return out

    same_as_eager(scenario, "soft-kmeans")


# ----------------------------------------------------------------------------- PCA
def test_pca_by_svd_with_sign_fix():
    def scenario(wrap):
        def pca(x):
            xc = x - x.mean(0)
            u, s, vh = torch.linalg.svd(xc, full_matrices=False)
            signs = torch.sign(vh[torch.arange(vh.shape[0]), vh.abs().argmax(1)])
            vh = vh * signs[:, None]
            explained = s.pow(2) / s.pow(2).sum()
            return xc @ vh[:2].T, explained, vh

        pca = wrap(pca)
        return [returned(pca(torch.tensor(points(i, (8, 4)) * np.array([3.0, 1.0, 0.5, 0.1 * i + 0.1]))))
                for i in range(CALLS)]

    observed, _ = same_as_eager(scenario, "pca-svd")
    x = points(3, (8, 4)) * np.array([3.0, 1.0, 0.5, 0.4])
    xc = real_torch.tensor(x - x.mean(0))
    _, s, _ = real_torch.linalg.svd(xc, full_matrices=False)
    np.testing.assert_allclose(observed[3][1], (s**2 / (s**2).sum()).numpy(), rtol=1e-10)


def test_pca_by_eigh_of_covariance_with_gradient():
    def scenario(wrap):
        w = nn.Parameter(torch.tensor(points(0, (4, 4))) * 0.3 + torch.eye(4, dtype=torch.float64))
        opt = optim.SGD([w], lr=0.01)

        def step(x):
            opt.zero_grad()
            z = x @ w
            z = z - z.mean(0)
            cov = z.T @ z / (z.shape[0] - 1)
            vals, vecs = torch.linalg.eigh(cov)
            vecs = vecs * torch.sign(vecs.sum(0, keepdim=True))
            loss = vals[-1] - vals[0]  # spread of the spectrum
            loss.backward()
            opt.step()
            return vals, vecs

        step = wrap(step)
        return [[returned(step(torch.tensor(points(i, (10, 4))))), arr(w), arr(w.grad)] for i in range(CALLS)]

    same_as_eager(scenario, "pca-eigh")


def test_pca_lowrank_reads_the_random_stream():
    def scenario(wrap):
        def pca(x, q):
            u, s, v = torch.pca_lowrank(x, q=q, niter=2)
            return s, (x - x.mean(0)) @ v[:, :1] * torch.sign(v[0, 0])

        pca = wrap(pca)
        return [returned(pca(torch.tensor(points(i, (9, 5))), 3)) for i in range(CALLS)]

    same_as_eager(scenario, "pca_lowrank")


# ----------------------------------------------------------------------------- Gaussian processes
def gp_nll(lib, x, y, log_ls, log_noise, how):
    d2 = lib.cdist(x, x).pow(2)
    k = lib.exp(-0.5 * d2 / lib.exp(2 * log_ls)) + (lib.exp(log_noise) + 1e-6) * lib.eye(x.shape[0], dtype=x.dtype)
    if how == "cholesky_solve":
        chol = lib.linalg.cholesky(k)
        alpha = lib.cholesky_solve(y[:, None], chol)[:, 0]
        return 0.5 * (y * alpha).sum() + lib.log(lib.diagonal(chol)).sum()
    if how == "solve_triangular":
        chol = lib.linalg.cholesky(k)
        v = lib.linalg.solve_triangular(chol, y[:, None], upper=False)
        return 0.5 * v.pow(2).sum() + 0.5 * lib.logdet(k)
    sign, logabs = lib.linalg.slogdet(k)
    return 0.5 * (y * lib.linalg.solve(k, y)).sum() + 0.5 * sign * logabs


def gp_data(index):
    x = np.linspace(-2, 2, 7)[:, None] + 0.05 * points(index, (7, 1))
    return x, np.sin(2 * x[:, 0]) + 0.1 * points(index + 50, (7,))


def gp_scenario(how):
    def scenario(wrap):
        log_ls = nn.Parameter(torch.tensor(0.0, dtype=torch.float64))
        log_noise = nn.Parameter(torch.tensor(-2.0, dtype=torch.float64))
        opt = optim.Adam([log_ls, log_noise], lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = gp_nll(torch, x, y, log_ls, log_noise, how)
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        out = []
        for index in range(CALLS):
            x, y = gp_data(index)
            out.append([returned(step(torch.tensor(x), torch.tensor(y))), arr(log_ls), arr(log_noise),
                        arr(log_ls.grad), returned(opt.state[log_noise])])
        return out

    return scenario


@pytest.mark.parametrize("how", ["cholesky_solve", "solve_triangular", "slogdet"])
def test_gp_marginal_likelihood_by_adam(how):
    observed, _ = same_as_eager(gp_scenario(how), f"gp-{how}")
    log_ls = real_torch.tensor(0.0, dtype=real_torch.float64, requires_grad=True)
    log_noise = real_torch.tensor(-2.0, dtype=real_torch.float64, requires_grad=True)
    opt = real_torch.optim.Adam([log_ls, log_noise], lr=0.1)
    for index in range(CALLS):
        x, y = gp_data(index)
        opt.zero_grad()
        loss = gp_nll(real_torch, real_torch.tensor(x), real_torch.tensor(y), log_ls, log_noise, how)
        loss.backward()
        opt.step()
        np.testing.assert_allclose(observed[index][0], loss.detach().numpy(), rtol=1e-9)
        np.testing.assert_allclose(observed[index][1], log_ls.detach().numpy(), rtol=1e-9)


def test_gp_posterior_mean_and_variance():
    def scenario(wrap):
        def posterior(x, y, xs, ls):
            k = torch.exp(-0.5 * torch.cdist(x, x).pow(2) / ls**2) + 1e-4 * torch.eye(x.shape[0], dtype=x.dtype)
            ks = torch.exp(-0.5 * torch.cdist(xs, x).pow(2) / ls**2)
            chol, info = torch.linalg.cholesky_ex(k)
            alpha = torch.cholesky_solve(y[:, None], chol)
            v = torch.linalg.solve_triangular(chol, ks.T, upper=False)
            return ks @ alpha, 1.0 - v.pow(2).sum(0), info

        posterior = wrap(posterior)
        out = []
        for index in range(CALLS):
            x, y = gp_data(index)
            xs = torch.linspace(-2.5, 2.5, 5 + index, dtype=torch.float64)[:, None]
            out.append(returned(posterior(torch.tensor(x), torch.tensor(y), xs, torch.tensor(0.5 + 0.2 * index))))
        return out

    same_as_eager(scenario, "gp-posterior")


# ----------------------------------------------------------------------------- ridge regression
@pytest.mark.parametrize("how", ["solve", "lstsq", "pinv", "inv"])
def test_ridge_regression_with_new_lambda_each_call(how):
    def scenario(wrap):
        def fit(x, y, lam):
            a = x.T @ x + lam * torch.eye(x.shape[1], dtype=x.dtype)
            b = x.T @ y
            if how == "solve":
                w = torch.linalg.solve(a, b)
            elif how == "lstsq":
                w = torch.linalg.lstsq(a, b).solution
            elif how == "pinv":
                w = torch.linalg.pinv(a) @ b
            else:
                w = torch.linalg.inv(a) @ b
            return w, (x @ w - y).pow(2).mean()

        fit = wrap(fit)
        return [returned(fit(torch.tensor(points(i, (10, 3))), torch.tensor(points(i + 9, (10, 2))),
                             torch.tensor(10.0 ** (i - 2)))) for i in range(CALLS)]

    observed, _ = same_as_eager(scenario, f"ridge-{how}")
    x, y = points(4, (10, 3)), points(13, (10, 2))
    np.testing.assert_allclose(observed[4][0], np.linalg.solve(x.T @ x + 100.0 * np.eye(3), x.T @ y), rtol=1e-9)


def test_ridge_lambda_learned_through_solve():
    """The regularisation strength is a parameter fitted on held-out data through linalg.solve."""

    def scenario(wrap):
        log_lam = nn.Parameter(torch.tensor([0.0], dtype=torch.float64))
        opt = optim.Adam([log_lam], lr=0.2)

        def step(x, y, xv, yv):
            opt.zero_grad()
            w = torch.linalg.solve(x.T @ x + log_lam.exp() * torch.eye(3, dtype=x.dtype), x.T @ y)
            loss = (xv @ w - yv).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        return [[returned(step(*(torch.tensor(points(i * 4 + j, (8, 3) if j % 2 == 0 else (8, 1))) for j in range(4)))),
                 arr(log_lam), arr(log_lam.grad)] for i in range(CALLS)]

    same_as_eager(scenario, "ridge-learned-lambda")


# ----------------------------------------------------------------------------- Newton's method
def rosen(v):
    return (1 - v[0]).pow(2) + 10 * (v[1] - v[0].pow(2)).pow(2)


def test_newton_with_functional_hessian():
    def scenario(wrap):
        w = torch.tensor([-1.2, 1.0], dtype=torch.float64)

        def newton(damping):
            g = torch.autograd.functional.jacobian(rosen, w)
            h = torch.autograd.functional.hessian(rosen, w)
            step = torch.linalg.solve(h + damping * torch.eye(2, dtype=w.dtype), g)
            w.sub_(step)
            return g, h, rosen(w)

        newton = wrap(newton)
        return [[returned(newton(torch.tensor(0.5 / (i + 1), dtype=torch.float64))), arr(w)] for i in range(CALLS)]

    observed, _ = same_as_eager(scenario, "newton-hessian")
    w = real_torch.tensor([-1.2, 1.0], dtype=real_torch.float64)
    for i in range(CALLS):
        g = real_torch.autograd.functional.jacobian(rosen, w)
        h = real_torch.autograd.functional.hessian(rosen, w)
        w = w - real_torch.linalg.solve(h + 0.5 / (i + 1) * real_torch.eye(2, dtype=w.dtype), g)
        np.testing.assert_allclose(observed[i][1], w.numpy(), rtol=1e-9)


def test_newton_with_create_graph_gradients():
    def scenario(wrap):
        w = nn.Parameter(torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64))

        def newton(x, y):
            loss = torch.nn.functional.softplus(-(x @ w) * y).mean() + 0.05 * w.pow(2).sum()
            (g,) = torch.autograd.grad(loss, w, create_graph=True)
            h = torch.stack([torch.autograd.grad(g[i], w, retain_graph=True)[0] for i in range(3)])
            with torch.no_grad():
                w.sub_(torch.linalg.solve(h, g))
            return loss, g, h

        newton = wrap(newton)
        out = []
        for i in range(CALLS):
            x = torch.tensor(points(i, (12, 3)))
            y = torch.tensor(np.sign(points(i + 7, (12,))))
            out.append([returned(newton(x, y)), arr(w)])
        return out

    same_as_eager(scenario, "newton-create-graph")


# ----------------------------------------------------------------------------- failures in a later call
SINGULAR_AT = 3


def matrices(index, kind):
    a = points(index, (3, 3))
    if kind == "singular" and index == SINGULAR_AT:
        a[2] = a[0] + a[1]
        a[:, 2] = 0.0
    if kind == "spd":
        a = a @ a.T + 0.5 * np.eye(3)
        if index == SINGULAR_AT:
            a = a - 100.0 * np.eye(3)
    return torch.tensor(a)


@pytest.mark.parametrize("op", ["inv", "solve", "cholesky", "cholesky_solve", "cholesky_ex", "inv_ex",
                                "inv_ex_checked", "slogdet", "det", "eigh"])
def test_matrix_breaks_in_a_later_call(op):
    kind = "spd" if op.startswith("cholesky") or op == "eigh" else "singular"

    def scenario(wrap):
        def f(a, b):
            if op == "inv":
                return torch.linalg.inv(a) @ b
            if op == "solve":
                return torch.linalg.solve(a, b)
            if op == "cholesky":
                return torch.linalg.cholesky(a).diagonal().log().sum() * b
            if op == "cholesky_solve":
                return torch.cholesky_solve(b, torch.linalg.cholesky(a))
            if op == "cholesky_ex":
                res = torch.linalg.cholesky_ex(a)
                return res.L, res.info, int(res.info) > 0
            if op == "inv_ex":
                res = torch.linalg.inv_ex(a)
                return res.info, bool(res.info == 0)
            if op == "inv_ex_checked":
                return tuple(torch.linalg.inv_ex(a, check_errors=True))
            if op == "slogdet":
                return tuple(torch.linalg.slogdet(a))
            if op == "det":
                d = torch.linalg.det(a)
                return d, d.abs() < 1e-12
            vals, vecs = torch.linalg.eigh(a)
            return vals, (vals > 0).all()

        f = wrap(f)
        out = []
        for index in range(CALLS + 1):
            out.append(attempt(f, matrices(index, kind), torch.tensor(points(index + 20, (3, 1)))))
        return out

    observed, _ = same_as_eager(scenario, f"breaks-{op}")
    if op in ("inv", "solve", "cholesky", "cholesky_solve", "inv_ex_checked"):
        assert observed[SINGULAR_AT][0] == "raised"
        assert observed[SINGULAR_AT + 1][0] == "ok"


def test_inv_error_type_matches_pytorch():
    a = matrices(SINGULAR_AT, "singular")
    mine = attempt(chainrule.compile(lambda m: torch.linalg.inv(m)), a)
    theirs = attempt(lambda m: real_torch.linalg.inv(m), real_torch.tensor(a.numpy()))
    assert mine[0] == theirs[0] == "raised"


def test_gp_noise_driven_negative_by_a_later_argument_raises_like_eager():
    """The jitter comes in as a tensor; one call it makes the kernel indefinite."""

    def scenario(wrap):
        def nll(x, y, jitter):
            k = torch.exp(-0.5 * torch.cdist(x, x).pow(2)) + jitter * torch.eye(x.shape[0], dtype=x.dtype)
            chol = torch.linalg.cholesky(k)
            return torch.cholesky_solve(y[:, None], chol).sum() + 2 * chol.diagonal().log().sum()

        nll = wrap(nll)
        out = []
        for index, jitter in enumerate([0.1, 0.2, -0.5, 0.3, -2.0]):
            x, y = gp_data(index)
            out.append(attempt(nll, torch.tensor(x), torch.tensor(y), torch.tensor(jitter, dtype=torch.float64)))
        return out

    observed, _ = same_as_eager(scenario, "gp-jitter")
    assert observed[2][0] == "raised" and observed[3][0] == "ok"


# ----------------------------------------------------------------------------- einsum
EQUATIONS = {
    "bilinear": ("bi,ij,bj->b", [(4, 3), (3, 3), (4, 3)]),
    "trace": ("ii->", [(3, 3)]),
    "batched-trace": ("bii->b", [(2, 3, 3)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "attention": ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    "attention-values": ("bhqk,bhkd->bhqd", [(2, 2, 3, 5), (2, 2, 5, 4)]),
    "implicit": ("ij,jk", [(2, 3), (3, 4)]),
    "repeated-sum": ("ij,ij,ij->", [(2, 3), (2, 3), (2, 3)]),
    "ellipsis-transpose": ("...ij->...ji", [(2, 2, 3)]),
    "diag-broadcast": ("ii,i->i", [(3, 3), (3,)]),
}


@pytest.mark.parametrize("name", sorted(EQUATIONS))
def test_einsum_trained(name):
    equation, shapes = EQUATIONS[name]

    def scenario(wrap):
        params = [nn.Parameter(torch.tensor(points(j, s))) for j, s in enumerate(shapes)]
        opt = optim.SGD(params, lr=0.05, momentum=0.9)

        def step(scale):
            opt.zero_grad()
            out = torch.einsum(equation, *[p * scale if j == 0 else p for j, p in enumerate(params)])
            loss = out.tanh().pow(2).sum()
            loss.backward()
            opt.step()
            return out

        step = wrap(step)
        return [[returned(step(torch.tensor(1.0 + 0.3 * i, dtype=torch.float64))), [arr(p) for p in params],
                 [arr(p.grad) for p in params]] for i in range(CALLS)]

    observed, _ = same_as_eager(scenario, f"einsum-{name}")
    first = np.einsum(equation, *[points(j, s) for j, s in enumerate(shapes)])
    np.testing.assert_allclose(observed[0][0], first, rtol=1e-12)


def test_einsum_attention_with_list_operand_form():
    def scenario(wrap):
        def attend(q, k, v):
            s = torch.einsum(q, [0, 1, 2, 3], k, [0, 1, 4, 3], [0, 1, 2, 4]) / q.shape[-1] ** 0.5
            return torch.einsum("bhqk,bhkd->bhqd", s.softmax(-1), v)

        attend = wrap(attend)
        return [returned(attend(*(torch.tensor(points(3 * i + j, (1, 2, 3, 4))) for j in range(3)))) for i in range(CALLS)]

    same_as_eager(scenario, "einsum-sublist")


# ----------------------------------------------------------------------------- searchsorted / bucketize
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize_with_new_boundaries(right):
    def scenario(wrap):
        def bins(x, edges):
            i = torch.searchsorted(edges, x, right=right)
            j = torch.bucketize(x, edges, right=right, out_int32=True)
            k = torch.searchsorted(edges, x, side="right" if right else "left")
            return i, j, k, torch.bincount(i, minlength=edges.numel() + 1)

        bins = wrap(bins)
        out = []
        for index in range(CALLS):
            edges = torch.tensor(np.sort(points(index, (4 + index % 2,))))
            x = torch.tensor(np.round(points(index + 30, (9,)), 1))
            x[0] = edges[1]  # a value exactly on an edge
            out.append(returned(bins(x, edges)))
        return out

    same_as_eager(scenario, f"searchsorted-right={right}")


def test_searchsorted_batched_sorter_and_interpolation():
    """Piecewise-linear interpolation (np.interp style) through searchsorted with a sorter."""

    def scenario(wrap):
        def interp(x, xp, fp):
            order = torch.argsort(xp)
            idx = torch.searchsorted(xp, x, sorter=order).clamp(1, xp.numel() - 1)
            xs, fs = xp[order], fp[order]
            lo, hi = xs[idx - 1], xs[idx]
            t = (x - lo) / (hi - lo)
            return torch.lerp(fs[idx - 1], fs[idx], t)

        interp = wrap(interp)
        return [returned(interp(torch.linspace(-1, 1, 7, dtype=torch.float64) * (i + 1),
                                torch.tensor(points(i, (6,))), torch.tensor(points(i + 5, (6,))))) for i in range(CALLS)]

    same_as_eager(scenario, "interp")


# ----------------------------------------------------------------------------- cumulative ops, diff, trapezoid
def test_cumulative_ops_diff_and_trapezoid_trained():
    def scenario(wrap):
        w = nn.Parameter(torch.tensor(points(0, (3, 6)) * 0.5))
        opt = optim.Adam([w], lr=0.05)

        def step(x, spacing):
            opt.zero_grad()
            z = w * x
            a = torch.cumsum(z, dim=1)
            b = torch.cumprod(z.tanh() + 1.5, dim=1)
            c = torch.logcumsumexp(z, dim=1)
            d = torch.diff(z, n=2, dim=1, prepend=z[:, :1])
            e = torch.trapezoid(z, x=spacing, dim=1)
            f = torch.cumulative_trapezoid(z, dx=0.5, dim=1) if hasattr(torch, "cumulative_trapezoid") else z
            loss = a.pow(2).mean() + b.mean() + c.mean() + d.abs().mean() + e.sum() + f.mean()
            loss.backward()
            opt.step()
            return loss, a, b, c, d, e

        step = wrap(step)
        return [[returned(step(torch.tensor(points(i, (3, 6))), torch.tensor(np.cumsum(np.abs(points(i, (6,))))))),
                 arr(w), arr(w.grad)] for i in range(CALLS)]

    same_as_eager(scenario, "cumulative")


def test_cumprod_through_zero_in_a_later_call():
    def scenario(wrap):
        w = nn.Parameter(torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=torch.float64))

        def step(x):
            y = torch.cumprod(w * x, 0)
            (g,) = torch.autograd.grad(y.sum(), w)
            return y, g

        step = wrap(step)
        xs = [[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 1.0, 1.0], [0.0, 0.0, 2.0, 1.0], [1.0, 2.0, 3.0, 0.0], [2.0, 1.0, 1.0, 1.0]]
        return [returned(step(torch.tensor(x, dtype=torch.float64))) for x in xs]

    observed, _ = same_as_eager(scenario, "cumprod-zero")
    w = real_torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=real_torch.float64, requires_grad=True)
    x = real_torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=real_torch.float64)
    (g,) = real_torch.autograd.grad(real_torch.cumprod(w * x, 0).sum(), w)
    np.testing.assert_allclose(observed[1][1], g.numpy())


# ----------------------------------------------------------------------------- histc, quantile
def test_histc_with_changing_range_and_data():
    def scenario(wrap):
        def hist(x, lo, hi):
            return torch.histc(x, bins=6, min=lo, max=hi), torch.histc(x, bins=4)

        hist = wrap(hist)
        out = []
        for i, (lo, hi) in enumerate([(-2.0, 2.0), (-2.0, 2.0), (-1.0, 3.0), (0.0, 0.0), (-2.0, 2.0)]):
            out.append(attempt(hist, torch.tensor(points(i, (20,))), lo, hi))
        return out

    same_as_eager(scenario, "histc")


def test_quantile_with_changing_q_tensors_and_gradient():
    def scenario(wrap):
        w = nn.Parameter(torch.tensor(points(0, (4, 7))))
        opt = optim.SGD([w], lr=0.1)

        def step(q, interpolation):
            opt.zero_grad()
            qs = torch.quantile(w, q, dim=1, interpolation=interpolation)
            m = torch.nanquantile(w, q[-1])
            loss = qs.pow(2).sum() + m
            loss.backward()
            opt.step()
            return qs, m

        step = wrap(step)
        out = []
        for i in range(CALLS):
            q = torch.tensor(np.sort(np.abs(points(i, (2 + i % 2,)))) / 3.0)
            out.append([attempt(step, q, ["linear", "lower", "higher", "midpoint", "nearest"][i]), arr(w)])
        out.append([attempt(step, torch.tensor([0.2, 1.5], dtype=torch.float64), "linear"), arr(w)])
        return out

    same_as_eager(scenario, "quantile")


# ----------------------------------------------------------------------------- kron, cross, lerp, where
def test_kron_cross_lerp_where_float64():
    def scenario(wrap):
        a = nn.Parameter(torch.tensor(points(0, (2, 2))))
        u = nn.Parameter(torch.tensor(points(1, (4, 3))))
        opt = optim.Adam([a, u], lr=0.05)

        def step(b, v, t, threshold):
            opt.zero_grad()
            k = torch.kron(a, b)
            c = torch.linalg.cross(u, v, dim=-1)
            c2 = torch.cross(u, v, dim=1)
            m = torch.lerp(u, v, t)
            m2 = torch.lerp(u, v, 0.25)
            s = torch.where(k > threshold, k, 0.0) + torch.where(c < 0, -1.0, 2.0)[:2].sum()
            loss = s.pow(2).mean() + c.pow(2).sum() + c2.sum() + m.sum() * m2.mean()
            loss.backward()
            opt.step()
            return k, c, m, s

        step = wrap(step)
        return [[returned(step(torch.tensor(points(i, (2, 3))), torch.tensor(points(i + 1, (4, 3))),
                               torch.tensor(points(i + 2, (4, 3))).sigmoid(), torch.tensor(0.1 * i, dtype=torch.float64))),
                 arr(a), arr(u), arr(a.grad), arr(u.grad)] for i in range(CALLS)]

    same_as_eager(scenario, "kron-cross-lerp-where")


def test_where_scalar_branches_with_float32_promotion():
    def scenario(wrap):
        def f(x, y):
            return torch.where(x > 0, x, 0.5), torch.where(x > y, 1.0, -1.0), torch.where(x > 0, 2, y)

        f = wrap(f)
        return [returned(f(torch.tensor(points(i, (5,)), dtype=torch.float32), torch.tensor(points(i + 1, (5,)),
                                                                                            dtype=torch.float32)))
                for i in range(CALLS)]

    observed, _ = same_as_eager(scenario, "where-scalar")
    x = real_torch.tensor(points(0, (5,)), dtype=real_torch.float32)
    y = real_torch.tensor(points(1, (5,)), dtype=real_torch.float32)
    for mine, theirs in zip(observed[0], (real_torch.where(x > 0, x, 0.5), real_torch.where(x > y, 1.0, -1.0),
                                          real_torch.where(x > 0, 2, y))):
        assert mine.dtype == theirs.numpy().dtype
        np.testing.assert_array_equal(mine, theirs.numpy())


# ----------------------------------------------------------------------------- logistic regression by IRLS
def test_logistic_regression_irls_with_changing_data():
    def scenario(wrap):
        w = torch.zeros(3, dtype=torch.float64)

        def irls(x, y):
            p = torch.sigmoid(x @ w)
            s = p * (1 - p)
            h = x.T @ (s[:, None] * x) + 1e-3 * torch.eye(3, dtype=x.dtype)
            g = x.T @ (p - y)
            w.sub_(torch.linalg.solve(h, g))
            return torch.nn.functional.binary_cross_entropy(p, y), g

        irls = wrap(irls)
        out = []
        for i in range(CALLS):
            x = torch.tensor(points(i, (15, 3)))
            y = (torch.tensor(points(i + 40, (15,))) + x[:, 0] > 0).to(torch.float64)
            out.append([returned(irls(x, y)), arr(w)])
        return out

    same_as_eager(scenario, "irls")


# ----------------------------------------------------------------------------- replayed variants (no bincount)
@pytest.mark.parametrize("counting", ["index_add", "scatter_add", "one_hot_sum"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kmeans_counts_without_bincount(counting, dtype):
    """Counts by index_add_/scatter_add_ of ones, so the step can replay; later calls empty clusters."""
    k = 4

    def scenario(wrap):
        dt = getattr(torch, dtype)
        centers = torch.tensor(points(0, (k, 2)), dtype=dt)

        def step(x):
            d = torch.cdist(x, centers)
            assign = torch.argmin(d, dim=1)
            ones = torch.ones(x.shape[0], dtype=x.dtype)
            if counting == "index_add":
                counts = torch.zeros(k, dtype=x.dtype).index_add_(0, assign, ones)
                sums = torch.zeros(k, 2, dtype=x.dtype).index_add_(0, assign, x)
            elif counting == "scatter_add":
                counts = torch.zeros(k, dtype=x.dtype).scatter_add_(0, assign, ones)
                sums = torch.zeros(k, 2, dtype=x.dtype).scatter_add_(0, assign.unsqueeze(1).expand(-1, 2), x)
            else:
                hot = torch.nn.functional.one_hot(assign, k).to(x.dtype)
                counts, sums = hot.sum(0), hot.T @ x
            empty = counts == 0
            new = torch.where(empty[:, None], centers, sums / counts.clamp(min=1.0)[:, None])
            shift = (new - centers).norm()
            centers.copy_(new)
            return assign, counts, empty, shift

        step = wrap(step)
        out = []
        for index in range(CALLS + 1):
            x = points(index, (12, 2), scale=1.0 + index)
            if index in (2, 4):
                x = x * 0.01 + np.array([50.0, -50.0]) * (index - 3)  # everything far away: clusters empty
            out.append([returned(step(torch.tensor(x, dtype=dt))), arr(centers)])
        return out

    same_as_eager(scenario, f"kmeans-replay-{counting}-{dtype}")


def test_kmeans_until_converged_inside_the_compiled_function():
    """A Python loop that stops when the centers stop moving: the number of iterations depends on the data."""

    def scenario(wrap):
        def fit(x, centers):
            iterations = 0
            for _ in range(20):
                assign = torch.cdist(x, centers).argmin(1)
                hot = torch.nn.functional.one_hot(assign, centers.shape[0]).to(x.dtype)
                counts = hot.sum(0)
                new = torch.where(counts[:, None] > 0, (hot.T @ x) / counts.clamp(min=1)[:, None], centers)
                iterations += 1
                if (new - centers).abs().max() < 1e-9:
                    break
                centers = new
            return centers, iterations

        fit = wrap(fit)
        return [returned(fit(torch.tensor(points(i, (16, 2)) + np.repeat([[0, 0], [4, 4]], 8, 0) * (i % 3)),
                             torch.tensor(points(i + 60, (3, 2))))) for i in range(CALLS + 1)]

    same_as_eager(scenario, "kmeans-converge")


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_new_boundaries_replayed(right):
    def scenario(wrap):
        def bins(x, edges):
            i = torch.searchsorted(edges, x, right=right)
            j = torch.bucketize(x, edges, right=right)
            counts = torch.zeros(edges.numel() + 1, dtype=x.dtype).index_add_(0, i, torch.ones_like(x))
            return i, j, counts, (i == j).all()

        bins = wrap(bins)
        out = []
        for index in range(CALLS + 1):
            edges = torch.tensor(np.sort(points(index, (5,))))
            x = torch.tensor(np.round(points(index + 30, (9,)), 1))
            x[0] = edges[1]
            x[1] = edges[-1] + index  # beyond the last edge
            out.append(returned(bins(x, edges)))
        return out

    same_as_eager(scenario, f"searchsorted-replay-right={right}")


def test_histc_changing_range_replayed_and_invalid_range_raises():
    def scenario(wrap):
        def hist(x, lo, hi):
            return torch.histc(x, bins=5, min=lo, max=hi)

        hist = wrap(hist)
        return [attempt(hist, torch.tensor(points(i, (20,))), lo, hi)
                for i, (lo, hi) in enumerate([(-2.0, 2.0), (-2.0, 2.0), (-1.0, 3.0), (-0.5, 0.5), (2.0, -2.0), (-3.0, 1.0)])]

    observed, _ = same_as_eager(scenario, "histc-range")
    assert observed[4][0] == "raised"


def test_gp_posterior_with_plain_cholesky_replayed():
    def scenario(wrap):
        def posterior(x, y, xs, ls):
            k = torch.exp(-0.5 * torch.cdist(x, x).pow(2) / ls**2) + 1e-4 * torch.eye(x.shape[0], dtype=x.dtype)
            ks = torch.exp(-0.5 * torch.cdist(xs, x).pow(2) / ls**2)
            chol = torch.linalg.cholesky(k)
            alpha = torch.cholesky_solve(y[:, None], chol)
            v = torch.linalg.solve_triangular(chol, ks.T, upper=False)
            mean, var = ks @ alpha, 1.0 - v.pow(2).sum(0)
            return mean, var, torch.linalg.slogdet(k).logabsdet
        posterior = wrap(posterior)
        out = []
        for index in range(CALLS):
            x, y = gp_data(index)
            xs = torch.linspace(-2.5, 2.5, 5, dtype=torch.float64)[:, None] * (1 + 0.1 * index)
            out.append(returned(posterior(torch.tensor(x), torch.tensor(y), xs, torch.tensor(0.5 + 0.2 * index))))
        return out

    same_as_eager(scenario, "gp-posterior-cholesky")


def test_newton_logistic_regression_hessian_from_backward_only():
    """Newton with the gradient from .backward() and the closed-form Hessian; w is a Parameter."""

    def scenario(wrap):
        w = nn.Parameter(torch.zeros(3, dtype=torch.float64))

        def step(x, y):
            w.grad = None
            p = torch.sigmoid(x @ w)
            loss = torch.nn.functional.binary_cross_entropy(p, y) + 0.01 * w.pow(2).sum()
            loss.backward()
            with torch.no_grad():
                s = (p * (1 - p)).detach() / x.shape[0]
                h = torch.einsum("n,ni,nj->ij", s, x, x) + 0.02 * torch.eye(3, dtype=x.dtype)
                w.sub_(torch.cholesky_solve(w.grad[:, None], torch.linalg.cholesky(h))[:, 0])
            return loss, h

        step = wrap(step)
        out = []
        for i in range(CALLS):
            x = torch.tensor(points(i, (15, 3)))
            y = (torch.tensor(points(i + 40, (15,))) + x[:, 0] > 0).to(torch.float64)
            out.append([returned(step(x, y)), arr(w), arr(w.grad)])
        return out

    same_as_eager(scenario, "newton-backward")


# ----------------------------------------------------------------------------- a kernel turned NaN in a later call
def test_gp_kernel_with_nan_in_a_later_call_same_as_eager():
    def scenario(wrap):
        def nll(x, y):
            k = torch.exp(-0.5 * torch.cdist(x, x).pow(2)) + 0.1 * torch.eye(x.shape[0], dtype=x.dtype)
            chol, info = torch.linalg.cholesky_ex(k)
            return torch.cholesky_solve(y[:, None], chol).sum(), info

        nll = wrap(nll)
        out = []
        for index in range(CALLS):
            x, y = gp_data(index)
            if index == 2:
                x[3, 0] = np.nan
            out.append(attempt(nll, torch.tensor(x), torch.tensor(y)))
        return out

    same_as_eager(scenario, "gp-nan")

