"""chainrule.compile against eager execution on CLASSIC MACHINE-LEARNING models trained with autograd
as courses teach them: linear and polynomial regression (with closed-form checks), logistic and softmax
regression written by hand and with nn losses, SVMs with hinge loss and L2, matrix-factorization
recommenders (two embedding tables, biases, index batches of varying length), word2vec skip-gram with
negative sampling, k-means and gaussian-mixture steps written with tensors, perceptron updates with
``torch.where`` and ``sign``, and sklearn-style fit/predict classes holding a compiled step.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may record
anew or fall back to eager with at most one warning.
"""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array((t.to_dense() if t.is_sparse else t).detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, torch.Tensor):
        # a replayed call returns its tensors without their spent history (documented): compare
        # requires_grad and .grad for leaves only
        leaf = value.is_leaf and value.requires_grad
        return ("tensor", str(value.dtype), leaf, arr(value),
                None if not leaf or value.grad is None else arr(value.grad))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, nn.Module):
        return module_state(value)
    if isinstance(value, optim.Optimizer):
        return ([{k: snap(v) for k, v in s.items()} for s in value.state.values()],
                [{k: v for k, v in g.items() if k != "params"} for g in value.param_groups])
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
    }


def run(compiled, setup, calls):
    torch.manual_seed(0)
    step, observe, inputs = setup()
    function = torch.compile(step) if compiled else step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            try:
                history.append(("ok", snap(function(*inputs(i)))))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(snap(observe()))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def rng(i):
    return np.random.default_rng(1000 + i)


def batch_sizes(i, full=8, last=5, calls=7):
    return last if i == calls - 1 else full


def regression_data(i, d=3, dtype=np.float64):
    g = rng(i)
    n = batch_sizes(i)
    X = g.standard_normal((n, d)).astype(dtype)
    y = (X @ np.arange(1, d + 1, dtype=dtype) + 0.5 + 0.1 * g.standard_normal(n)).astype(dtype)
    return torch.from_numpy(X), torch.from_numpy(y)


def classification_data(i, d=4, classes=3, dtype=np.float32):
    g = rng(i)
    n = batch_sizes(i)
    X = g.standard_normal((n, d)).astype(dtype)
    y = g.integers(0, classes, n)
    return torch.from_numpy(X), torch.from_numpy(y)


# ----------------------------------------------------------------------------- linear / polynomial regression
def test_linear_regression_by_hand_manual_update_and_grad_zero():
    def setup():
        w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)

        def step(X, y, lr):
            y_hat = X @ w + b
            loss = ((y_hat - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad.zero_()
                b.grad.zero_()
            return loss
        return step, lambda: [w, b], lambda i: regression_data(i) + ((0.1, 0.1, 0.05)[i % 3],)

    same_as_eager(setup)


def test_linear_regression_nn_linear_mseloss_sgd_smaller_last_batch():
    def setup():
        model = nn.Linear(3, 1).double()
        criterion = nn.MSELoss()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(X, y):
            opt.zero_grad()
            loss = criterion(model(X).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss, model.weight.grad.clone()
        return step, lambda: [model, opt], regression_data

    same_as_eager(setup)


def test_linear_regression_w_data_rebound_and_grad_data_zero_old_tutorial_style():
    def setup():
        w = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
        b = torch.randn(1, dtype=torch.float64, requires_grad=True)

        def step(X, y):
            loss = torch.sum((X.mm(w) + b - y.view(-1, 1)) ** 2) / (2 * len(X))
            loss.backward()
            w.data = w.data - 0.1 * w.grad.data
            b.data = b.data - 0.1 * b.grad.data
            w.grad.data.zero_()
            b.grad.data.zero_()
            return loss
        return step, lambda: [w, b], regression_data

    same_as_eager(setup)


def test_linear_regression_compiled_converges_to_closed_form_least_squares():
    g = np.random.default_rng(7)
    X = g.standard_normal((64, 3))
    y = X @ np.array([1.5, -2.0, 0.25]) + 0.75 + 0.01 * g.standard_normal(64)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    model = nn.Linear(3, 1).double()
    opt = optim.SGD(model.parameters(), lr=0.1)

    @torch.compile
    def step(X, y):
        opt.zero_grad()
        loss = F.mse_loss(model(X).view(-1), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(300):
        step(Xt, yt)
    A = np.hstack([X, np.ones((64, 1))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), coef[:3], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(model.bias.detach().numpy(), coef[3:], rtol=1e-8, atol=1e-10)
    # the normal equations written with chainrule's linalg agree with numpy's
    At = torch.cat([Xt, torch.ones(64, 1, dtype=torch.float64)], dim=1)
    theta = torch.linalg.solve(At.T @ At, At.T @ yt)
    np.testing.assert_allclose(theta.numpy(), coef, rtol=1e-10)
    np.testing.assert_allclose(torch.linalg.lstsq(At, yt.unsqueeze(1)).solution.numpy().ravel(), coef, rtol=1e-10)


def test_polynomial_regression_features_built_in_step_with_degree_attribute_changed():
    class PolyReg(nn.Module):
        def __init__(self, max_degree=5):
            super().__init__()
            self.coef = nn.Parameter(torch.zeros(max_degree + 1, dtype=torch.float64))
            self.degree = 3

        def forward(self, x):
            feats = torch.stack([x ** k for k in range(self.degree + 1)], dim=1)
            return feats @ self.coef[: self.degree + 1]

    def setup():
        model = PolyReg()
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            model.degree = (3, 3, 5, 5, 2, 3, 3)[i]
            x = torch.linspace(-1, 1, batch_sizes(i), dtype=torch.float64)
            return x, torch.sin(3 * x) + 0.1 * i
        return step, lambda: [model, opt, model.degree], inputs

    same_as_eager(setup)


def test_polynomial_regression_pow_with_arange_exponents_and_vander():
    def setup():
        theta = torch.zeros(4, dtype=torch.float64, requires_grad=True)
        opt = optim.Adam([theta], lr=0.05)

        def step(x, y):
            opt.zero_grad()
            X = x.unsqueeze(1).pow(torch.arange(4, dtype=torch.float64))
            V = torch.vander(x, N=4, increasing=True)
            loss = F.mse_loss(X @ theta, y) + 0.0 * F.mse_loss(V @ theta, y)
            loss.backward()
            opt.step()
            return loss, (X - V).abs().max()

        def inputs(i):
            g = rng(i)
            x = torch.from_numpy(g.uniform(-2, 2, batch_sizes(i)))
            return x, x ** 3 - x + 0.5
        return step, lambda: [theta, opt], inputs

    same_as_eager(setup)


def test_ridge_regression_weight_decay_and_explicit_l2_with_lambda_argument():
    def setup():
        model = nn.Linear(3, 1).double()
        opt = optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-3)

        def step(X, y, lam):
            opt.zero_grad()
            mse = F.mse_loss(model(X).flatten(), y)
            l2 = lam * model.weight.pow(2).sum()
            (mse + l2).backward()
            opt.step()
            return mse, l2

        lams = (0.1, 0.1, 0.01, 0.0, 0.1, 1.0, 0.1)
        return step, lambda: [model, opt], lambda i: regression_data(i) + (lams[i],)

    same_as_eager(setup)


def test_lasso_proximal_gradient_soft_threshold_with_sign_and_clamp():
    def setup():
        w = torch.zeros(3, dtype=torch.float64, requires_grad=True)

        def step(X, y, lr=0.1, lam=0.5):
            loss = 0.5 * ((X @ w - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
                w.copy_(torch.sign(w) * torch.clamp(w.abs() - lr * lam, min=0))
                w.grad = None
            return loss, (w == 0).sum()
        return step, lambda: [w], regression_data

    same_as_eager(setup)


def test_linear_regression_lr_decayed_as_python_float_every_call():
    def setup():
        model = nn.Linear(3, 1).double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(X, y, epoch):
            for group in opt.param_groups:
                group["lr"] = 0.1 / (1 + 0.5 * epoch)
            opt.zero_grad()
            loss = F.mse_loss(model(X).squeeze(-1), y)
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [model, opt], lambda i: regression_data(i) + (i,)

    same_as_eager(setup, calls=8)


# ----------------------------------------------------------------------------- logistic regression
def binary_data(i, d=2, dtype=np.float64):
    g = rng(i)
    n = batch_sizes(i)
    X = g.standard_normal((n, d)).astype(dtype)
    y = (X[:, 0] - X[:, 1] + 0.3 * g.standard_normal(n) > 0).astype(dtype)
    return torch.from_numpy(X), torch.from_numpy(y)


def test_logistic_regression_by_hand_sigmoid_log_and_accuracy():
    def setup():
        w = torch.zeros(2, 1, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)

        def step(X, y):
            z = X @ w + b
            p = 1 / (1 + torch.exp(-z))
            y = y.view(-1, 1)
            loss = -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
            loss.backward()
            with torch.no_grad():
                for param in (w, b):
                    param -= 0.5 * param.grad
                    param.grad.zero_()
            acc = ((p > 0.5).double() == y).double().mean()
            return loss, acc
        return step, lambda: [w, b], binary_data

    same_as_eager(setup)


def test_logistic_regression_module_sigmoid_in_forward_bce_loss_with_weight():
    class LogisticRegression(nn.Module):
        def __init__(self, n_features):
            super().__init__()
            self.linear = nn.Linear(n_features, 1)

        def forward(self, x):
            return torch.sigmoid(self.linear(x))

    def setup():
        model = LogisticRegression(2)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(X, y):
            y_pred = model(X.float())
            weight = torch.where(y == 1, 2.0, 1.0).float().unsqueeze(1)
            loss = F.binary_cross_entropy(y_pred, y.float().unsqueeze(1), weight=weight)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss, y_pred.round()
        return step, lambda: [model, opt], binary_data

    same_as_eager(setup)


def test_logistic_regression_bce_with_logits_pos_weight_adam_and_eval_predict():
    def setup():
        model = nn.Linear(2, 1)
        criterion = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.0]))
        opt = optim.Adam(model.parameters(), lr=0.05)

        def step(X, y, train):
            X, y = X.float(), y.float()
            if not train:
                with torch.no_grad():
                    return (torch.sigmoid(model(X)) >= 0.5).squeeze(1).long()
            opt.zero_grad()
            loss = criterion(model(X).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [model, opt], lambda i: binary_data(i) + (i % 3 != 2,)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- softmax regression
def test_softmax_regression_by_hand_exp_sum_log_and_range_index():
    def setup():
        W = torch.normal(0, 0.01, size=(4, 3), requires_grad=True)
        b = torch.zeros(3, requires_grad=True)

        def softmax(X):
            X_exp = torch.exp(X)
            partition = X_exp.sum(1, keepdim=True)
            return X_exp / partition

        def step(X, y):
            y_hat = softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)
            loss = -torch.log(y_hat[range(len(y_hat)), y]).mean()
            loss.backward()
            with torch.no_grad():
                for param in (W, b):
                    param -= 0.1 * param.grad
                    param.grad.zero_()
            correct = (y_hat.argmax(axis=1).type(y.dtype) == y).float().sum()
            return loss, correct
        return step, lambda: [W, b], classification_data

    same_as_eager(setup)


def test_softmax_regression_max_subtraction_logsumexp_and_gather():
    def setup():
        W = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
        opt = optim.SGD([W], lr=0.2, nesterov=True, momentum=0.5)

        def step(X, y):
            opt.zero_grad()
            logits = X.double() @ W
            logits = logits - logits.max(dim=1, keepdim=True).values
            log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
            loss = -log_probs.gather(1, y.unsqueeze(1)).mean()
            loss.backward()
            opt.step()
            return loss, log_probs.exp().sum(1)
        return step, lambda: [W, opt], classification_data

    same_as_eager(setup)


def test_softmax_regression_cross_entropy_label_smoothing_and_class_weights():
    def setup():
        model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        criterion = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5]), label_smoothing=0.1)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(X, y):
            opt.zero_grad()
            loss = criterion(model(X), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            criterion.label_smoothing = (0.1, 0.1, 0.0, 0.2, 0.1, 0.1, 0.0)[i]
            return classification_data(i)
        return step, lambda: [model, opt], inputs

    same_as_eager(setup)


def test_softmax_regression_one_hot_targets_and_log_softmax_nll_reductions():
    def setup():
        model = nn.Linear(4, 3)
        opt = optim.Adagrad(model.parameters(), lr=0.1)

        def step(X, y, reduction):
            opt.zero_grad()
            out = F.log_softmax(model(X), dim=1)
            Y = F.one_hot(y, num_classes=3).float()
            loss = F.nll_loss(out, y, reduction=reduction)
            if reduction == "sum":
                loss = loss / len(y)
            soft = -(Y * out).sum(dim=1).mean()
            (loss + soft).backward()
            opt.step()
            return loss, soft
        reds = ("mean", "mean", "sum", "sum", "mean", "none_as_mean", "mean")
        return step, lambda: [model, opt], lambda i: classification_data(i) + (reds[i],)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- SVM
def svm_data(i, dtype=np.float64):
    X, y01 = binary_data(i, dtype=dtype)
    return X, 2 * y01 - 1


def test_linear_svm_hinge_loss_clamp_and_l2_with_C_changed():
    def setup():
        w = torch.randn(2, dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = optim.SGD([w, b], lr=0.05)

        def step(X, y, C):
            opt.zero_grad()
            margin = y * (X @ w + b)
            hinge = torch.clamp(1 - margin, min=0).mean()
            loss = 0.5 * w.dot(w) + C * hinge
            loss.backward()
            opt.step()
            return loss, (margin < 1).sum()
        Cs = (1.0, 1.0, 1.0, 10.0, 10.0, 1.0, 1.0)
        return step, lambda: [w, b, opt], lambda i: svm_data(i) + (Cs[i],)

    same_as_eager(setup)


def test_multiclass_svm_cs231n_margins_by_hand_and_multimargin_loss():
    def setup():
        W = (0.001 * torch.randn(4, 3)).requires_grad_()
        opt = optim.SGD([W], lr=0.5)

        def step(X, y, reg):
            opt.zero_grad()
            scores = X @ W
            correct = scores[torch.arange(X.shape[0]), y].unsqueeze(1)
            margins = torch.clamp(scores - correct + 1.0, min=0)
            margins = margins.scatter(1, y.unsqueeze(1), 0.0)
            loss = margins.sum() / X.shape[0] + reg * torch.sum(W * W)
            ref = F.multi_margin_loss(scores, y) * scores.shape[1]
            loss.backward()
            opt.step()
            return loss, ref
        regs = (1e-3, 1e-3, 1e-2, 1e-2, 1e-3, 0.0, 1e-3)
        return step, lambda: [W, opt], lambda i: classification_data(i) + (regs[i],)

    same_as_eager(setup)


def test_svm_hinge_embedding_and_soft_margin_losses_alternating_by_argument():
    def setup():
        model = nn.Linear(2, 1).double()
        losses = {"hinge": nn.HingeEmbeddingLoss(margin=1.0), "soft": nn.SoftMarginLoss()}
        opt = optim.RMSprop(model.parameters(), lr=0.01)

        def step(X, y, kind):
            opt.zero_grad()
            out = model(X).squeeze(1)
            if kind == "hinge":
                loss = losses[kind](1 - y * out, y)
            else:
                loss = losses[kind](out, y)
            loss.backward()
            opt.step()
            return loss
        kinds = ("hinge", "soft", "hinge", "hinge", "soft", "soft", "hinge")
        return step, lambda: [model, opt], lambda i: svm_data(i) + (kinds[i],)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- matrix factorization
class MatrixFactorization(nn.Module):
    def __init__(self, n_users, n_items, k=4):
        super().__init__()
        self.user_factors = nn.Embedding(n_users, k)
        self.item_factors = nn.Embedding(n_items, k)
        self.user_bias = nn.Embedding(n_users, 1)
        self.item_bias = nn.Embedding(n_items, 1)
        self.global_bias = nn.Parameter(torch.tensor(3.5))
        nn.init.normal_(self.user_factors.weight, std=0.1)
        nn.init.normal_(self.item_factors.weight, std=0.1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)

    def forward(self, user, item):
        dot = (self.user_factors(user) * self.item_factors(item)).sum(dim=1)
        return dot + self.user_bias(user).squeeze(1) + self.item_bias(item).squeeze(1) + self.global_bias


def ratings(i, n_users=6, n_items=5, sizes=(8, 8, 6, 8, 3, 8, 5)):
    g = rng(i)
    n = sizes[i % len(sizes)]
    users = torch.from_numpy(g.integers(0, n_users, n))
    items = torch.from_numpy(g.integers(0, n_items, n))
    r = torch.from_numpy(g.integers(1, 6, n).astype(np.float32))
    return users, items, r


def test_matrix_factorization_embeddings_biases_varying_batch_lengths_sgd_weight_decay():
    def setup():
        model = MatrixFactorization(6, 5)
        opt = optim.SGD(model.parameters(), lr=0.05, weight_decay=1e-4)
        loss_fn = nn.MSELoss()

        def step(users, items, r):
            opt.zero_grad()
            pred = model(users, items)
            loss = loss_fn(pred, r)
            loss.backward()
            opt.step()
            return loss, torch.sqrt(loss.detach())
        return step, lambda: [model, opt], ratings

    same_as_eager(setup)


def test_matrix_factorization_explicit_regularisation_on_looked_up_rows_adam():
    def setup():
        P = nn.Embedding(6, 3)
        Q = nn.Embedding(5, 3)
        opt = optim.Adam(list(P.parameters()) + list(Q.parameters()), lr=0.02)

        def step(users, items, r, lam):
            opt.zero_grad()
            p, q = P(users), Q(items)
            pred = torch.einsum("ij,ij->i", p, q)
            loss = ((pred - r) ** 2).sum() + lam * (p.norm(dim=1) ** 2 + q.norm(dim=1) ** 2).sum()
            loss = loss / len(r)
            loss.backward()
            opt.step()
            return loss, pred.clamp(1, 5)
        lams = (0.01, 0.01, 0.1, 0.1, 0.01, 0.0, 0.01)
        return step, lambda: [P, Q, opt], lambda i: ratings(i) + (lams[i],)

    same_as_eager(setup)


def test_matrix_factorization_bmm_dot_product_and_sparse_embeddings_with_sgd():
    def setup():
        U = nn.Embedding(6, 3, sparse=True, padding_idx=0)  # (sparse gradients and scale_grad_by_freq: PyTorch's error)
        V = nn.Embedding(5, 3, sparse=True)
        opt = optim.SGD(list(U.parameters()) + list(V.parameters()), lr=0.1)

        def step(users, items, r):
            opt.zero_grad()
            u = U(users).unsqueeze(1)           # B x 1 x k
            v = V(items).unsqueeze(2)           # B x k x 1
            pred = torch.bmm(u, v).view(-1)
            loss = F.mse_loss(pred, r)
            loss.backward()
            opt.step()
            return loss
        def inputs(i):
            users, items, r = ratings(i)
            return (users.int() if i % 3 == 1 else users), items, r     # a loader giving int32 ids
        return step, lambda: [U, V, opt], inputs

    same_as_eager(setup)


def test_matrix_factorization_max_norm_embedding_renormalised_in_forward():
    def setup():
        model = MatrixFactorization(6, 5)
        model.user_factors = nn.Embedding(6, 4, max_norm=0.5)
        nn.init.normal_(model.user_factors.weight, std=1.0)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(users, items, r):
            opt.zero_grad()
            loss = F.mse_loss(model(users, items), r)
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [model, opt], ratings

    same_as_eager(setup)


def test_neural_collaborative_filtering_concat_mlp_with_negatives_drawn_by_randint():
    class NCF(nn.Module):
        def __init__(self, n_users=6, n_items=5, k=4):
            super().__init__()
            self.user = nn.Embedding(n_users, k)
            self.item = nn.Embedding(n_items, k)
            self.mlp = nn.Sequential(nn.Linear(2 * k, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))

        def forward(self, u, i):
            return self.mlp(torch.cat([self.user(u), self.item(i)], dim=-1)).squeeze(-1)

    def setup():
        model = NCF()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(users, items, r):
            model.train()
            opt.zero_grad()
            neg_items = torch.randint(0, 5, (len(users),))
            u = torch.cat([users, users])
            i = torch.cat([items, neg_items])
            labels = torch.cat([torch.ones(len(users)), torch.zeros(len(users))])
            loss = F.binary_cross_entropy_with_logits(model(u, i), labels)
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [model, opt], ratings

    same_as_eager(setup)


# ----------------------------------------------------------------------------- word2vec
class SkipGramNeg(nn.Module):
    def __init__(self, vocab, dim, sparse=False):
        super().__init__()
        self.in_embed = nn.Embedding(vocab, dim, sparse=sparse)
        self.out_embed = nn.Embedding(vocab, dim, sparse=sparse)
        self.in_embed.weight.data.uniform_(-1, 1)
        self.out_embed.weight.data.uniform_(-1, 1)

    def forward(self, center, context, noise):
        b, dim = center.shape[0], self.in_embed.embedding_dim
        v = self.in_embed(center).view(b, dim, 1)
        u = self.out_embed(context).view(b, 1, dim)
        n = self.out_embed(noise).neg()
        pos = torch.bmm(u, v).sigmoid().log().squeeze()
        neg = torch.bmm(n, v).sigmoid().log().squeeze().sum(1)
        return -(pos + neg).mean()


def skipgram_pairs(i, vocab=10, sizes=(8, 8, 8, 6, 8, 8, 3)):
    g = rng(i)
    n = sizes[i % len(sizes)]
    return torch.from_numpy(g.integers(0, vocab, n)), torch.from_numpy(g.integers(0, vocab, n))


def test_word2vec_skipgram_negative_sampling_multinomial_noise_bmm_logsigmoid():
    def setup():
        counts = torch.tensor([9.0, 7, 5, 5, 4, 3, 2, 2, 1, 1])
        noise_dist = counts ** 0.75 / (counts ** 0.75).sum()
        model = SkipGramNeg(10, 4)
        opt = optim.Adam(model.parameters(), lr=0.003)

        def step(center, context, k=3):
            noise = torch.multinomial(noise_dist, len(center) * k, replacement=True).view(len(center), k)
            loss = model(center, context, noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [model, opt], skipgram_pairs

    same_as_eager(setup)


def test_word2vec_skipgram_functional_logsigmoid_subsampling_mask_and_negatives_count_changed():
    def setup():
        emb_in = nn.Embedding(10, 4)
        emb_out = nn.Embedding(10, 4)
        params = list(emb_in.parameters()) + list(emb_out.parameters())
        opt = optim.SGD(params, lr=0.5)
        freq = torch.linspace(0.01, 0.3, 10)
        keep_prob = (torch.sqrt(freq / 1e-3) + 1) * 1e-3 / freq

        def step(center, context, k):
            v = emb_in(center)                               # B x d
            u = emb_out(context)                             # B x d
            neg = emb_out(torch.randint(0, 10, (len(center), k)))   # B x k x d
            pos_score = F.logsigmoid(torch.sum(u * v, dim=1))
            neg_score = F.logsigmoid(-torch.bmm(neg, v.unsqueeze(2)).squeeze(2)).sum(1)
            keep_mask = (torch.rand(len(center)) < keep_prob[center]).float()    # frequent-word subsampling
            loss = -((pos_score + neg_score) * keep_mask).sum() / keep_mask.sum().clamp(min=1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        ks = (2, 2, 5, 5, 2, 2, 5)
        return step, lambda: [emb_in, emb_out, opt], lambda i: skipgram_pairs(i) + (ks[i],)

    same_as_eager(setup)


def test_word2vec_sparse_embeddings_with_sparse_adam_as_in_tutorials():
    def setup():
        model = SkipGramNeg(10, 4, sparse=True)
        opt = optim.SparseAdam(list(model.parameters()), lr=0.01)

        def step(center, context):
            noise = torch.randint(0, 10, (len(center), 2))
            loss = model(center, context, noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step, lambda: [model, opt], skipgram_pairs

    same_as_eager(setup)


def test_cbow_embedding_bag_mean_with_offsets_of_varying_length_full_softmax():
    def setup():
        bag = nn.EmbeddingBag(10, 4, mode="mean")
        out = nn.Linear(4, 10)
        opt = optim.SGD(list(bag.parameters()) + list(out.parameters()), lr=0.2)

        def step(words, offsets, target):
            opt.zero_grad()
            loss = F.cross_entropy(out(bag(words, offsets)), target)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            lengths = g.integers(1, 4, 3 if i != 4 else 2)
            words = torch.from_numpy(g.integers(0, 10, int(lengths.sum())))
            offsets = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)[:-1]]))
            return words, offsets, torch.from_numpy(g.integers(0, 10, len(lengths)))
        return step, lambda: [bag, out, opt], inputs

    same_as_eager(setup)


# ----------------------------------------------------------------------------- k-means / GMM
def blobs(i, n=12):
    g = rng(i)
    centers = np.array([[0.0, 0.0], [3.0, 3.0], [-3.0, 2.0]])
    X = centers[g.integers(0, 3, n)] + 0.5 * g.standard_normal((n, 2))
    return (torch.from_numpy(X),)


def test_kmeans_lloyd_step_with_cdist_argmin_one_hot_and_state_rebound():
    class KMeans:
        def __init__(self, k):
            self.centers = torch.tensor([[0.5, 0.5], [2.0, 2.0], [-1.0, 1.0]], dtype=torch.float64)

        def step(self, X):
            d = torch.cdist(X, self.centers) ** 2
            labels = d.argmin(dim=1)
            onehot = F.one_hot(labels, num_classes=self.centers.shape[0]).to(X.dtype)
            counts = onehot.sum(0)
            sums = onehot.T @ X
            new = torch.where(counts.unsqueeze(1) > 0, sums / counts.clamp(min=1).unsqueeze(1), self.centers)
            inertia = d.gather(1, labels.unsqueeze(1)).sum()
            self.centers = new
            return labels, inertia

    def setup():
        km = KMeans(3)
        return km.step, lambda: [km.centers], blobs

    same_as_eager(setup)


def test_kmeans_broadcast_distances_index_add_and_copy_into_buffer():
    class KMeans(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("centroids", torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]],
                                                           dtype=torch.float64))

        @torch.no_grad()
        def forward(self, X):
            dist = ((X[:, None, :] - self.centroids[None, :, :]) ** 2).sum(-1)
            assign = torch.min(dist, dim=1).indices
            sums = torch.zeros_like(self.centroids).index_add_(0, assign, X)
            counts = torch.bincount(assign, minlength=3).to(X.dtype).unsqueeze(1)
            self.centroids.copy_(torch.where(counts > 0, sums / counts.clamp_min(1), self.centroids))
            return assign, dist.min(dim=1).values.mean()

    def setup():
        km = KMeans()
        return km, lambda: [km], blobs

    same_as_eager(setup)


def test_soft_kmeans_centers_by_gradient_with_temperature_attribute():
    def setup():
        centers = nn.Parameter(torch.tensor([[0.5, 0.5], [2.0, 2.0], [-1.0, 1.0]], dtype=torch.float64))
        opt = optim.SGD([centers], lr=0.1)
        cfg = type("Cfg", (), {"beta": 1.0})()

        def step(X):
            opt.zero_grad()
            d2 = torch.cdist(X, centers).pow(2)
            r = torch.softmax(-cfg.beta * d2, dim=1)
            loss = (r * d2).sum(1).mean()
            loss.backward()
            opt.step()
            return loss, r.argmax(1)

        def inputs(i):
            cfg.beta = (1.0, 1.0, 2.0, 4.0, 4.0, 8.0, 8.0)[i]
            return blobs(i)
        return step, lambda: [centers, opt], inputs

    same_as_eager(setup)


def test_gmm_em_step_with_logsumexp_responsibilities_and_in_place_parameter_updates():
    class GMM:
        def __init__(self):
            self.mu = torch.tensor([[0.5, 0.5], [2.0, 2.0], [-1.0, 1.0]], dtype=torch.float64)
            self.var = torch.ones(3, 2, dtype=torch.float64)
            self.log_pi = torch.log(torch.full((3,), 1 / 3, dtype=torch.float64))

        def em_step(self, X):
            diff = X.unsqueeze(1) - self.mu.unsqueeze(0)                 # n x k x d
            log_n = -0.5 * ((diff ** 2) / self.var + torch.log(2 * np.pi * self.var)).sum(-1)
            log_joint = log_n + self.log_pi
            log_lik = torch.logsumexp(log_joint, dim=1, keepdim=True)
            resp = torch.exp(log_joint - log_lik)                         # E step
            nk = resp.sum(0) + 1e-10                                      # M step
            self.mu.copy_((resp.T @ X) / nk.unsqueeze(1))
            diff = X.unsqueeze(1) - self.mu.unsqueeze(0)
            self.var.copy_((resp.unsqueeze(-1) * diff ** 2).sum(0) / nk.unsqueeze(1) + 1e-6)
            self.log_pi.copy_(torch.log(nk / X.shape[0]))
            return log_lik.mean()

    def setup():
        gmm = GMM()
        return gmm.em_step, lambda: [gmm.mu, gmm.var, gmm.log_pi], blobs

    same_as_eager(setup)


def test_gmm_by_gradient_with_normal_mixture_same_family_and_multivariate_normal():
    D = torch.distributions

    def setup():
        logits = nn.Parameter(torch.zeros(3, dtype=torch.float64))
        mu = nn.Parameter(torch.tensor([[0.5, 0.5], [2.0, 2.0], [-1.0, 1.0]], dtype=torch.float64))
        log_std = nn.Parameter(torch.zeros(3, 2, dtype=torch.float64))
        opt = optim.Adam([logits, mu, log_std], lr=0.05)

        def step(X, kind):
            opt.zero_grad()
            if kind == "full":
                L = torch.diag_embed(log_std.exp()) + torch.tril(mu.new_ones(2, 2), -1) * 0.1 * mu.unsqueeze(-1)
                comp_lp = D.MultivariateNormal(mu, scale_tril=L).log_prob(X.unsqueeze(1))
                nll = -torch.logsumexp(torch.log_softmax(logits, 0) + comp_lp, dim=1).mean()
            elif kind == "mixture":
                mix = D.Categorical(logits=logits)
                comp = D.Independent(D.Normal(mu, log_std.exp()), 1)
                nll = -D.MixtureSameFamily(mix, comp).log_prob(X).mean()
            else:
                comp_lp = D.Normal(mu, log_std.exp()).log_prob(X.unsqueeze(1)).sum(-1)
                nll = -torch.logsumexp(F.log_softmax(logits, 0) + comp_lp, dim=1).mean()
            nll.backward()
            opt.step()
            return nll
        return step, lambda: [logits, mu, log_std, opt], lambda i: blobs(i) + (("diag", "diag", "mixture", "full", "full", "mixture", "diag")[i],)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- perceptron
def test_perceptron_batch_update_with_where_and_sign_no_autograd():
    def setup():
        w = torch.zeros(2, dtype=torch.float64)
        b = torch.zeros((), dtype=torch.float64)

        def step(X, y, lr):
            pred = torch.sign(X @ w + b)
            wrong = torch.where(pred != y, y, torch.zeros_like(y))
            w.add_(lr * (wrong @ X))
            b.add_(lr * wrong.sum())
            return (pred != y).sum(), pred
        lrs = (1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 1.0)
        return step, lambda: [w, b], lambda i: svm_data(i) + (lrs[i],)

    same_as_eager(setup)


def test_online_perceptron_python_loop_over_rows_branching_on_a_tensor():
    # The `if` reads a value into Python: a documented limit; a fallback with one warning is fine.
    def setup():
        w = torch.zeros(3, dtype=torch.float64)

        def step(X, y):
            Xb = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)
            mistakes = 0
            for xi, yi in zip(Xb, y):
                if yi * torch.dot(w, xi) <= 0:
                    w.add_(yi * xi)
                    mistakes += 1
            return mistakes
        return step, lambda: [w], svm_data

    same_as_eager(setup)


def test_perceptron_as_module_heaviside_step_and_parameters_updated_under_no_grad():
    class Perceptron(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1, bias=True).double()
            nn.init.zeros_(self.fc.weight)
            nn.init.zeros_(self.fc.bias)

        def forward(self, x):
            return torch.heaviside(self.fc(x).squeeze(1), torch.tensor(1.0, dtype=torch.float64))

    def setup():
        model = Perceptron()

        def step(X, y01):
            with torch.no_grad():
                err = y01 - model(X)
                model.fc.weight += 0.1 * (err @ X).unsqueeze(0)
                model.fc.bias += 0.1 * err.sum()
            return err.abs().sum()
        return step, lambda: [model], binary_data

    same_as_eager(setup)


def test_perceptron_criterion_loss_with_autograd_relu_of_negative_margin():
    def setup():
        w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = optim.SGD([w, b], lr=1.0)

        def step(X, y):
            opt.zero_grad()
            margin = y * (X @ w + b)
            loss = torch.relu(-margin).sum() + 0.0 * torch.where(margin <= 0, 1.0, 0.0).sum()
            loss.backward()
            opt.step()
            return loss, torch.sgn(margin)
        return step, lambda: [w, b, opt], svm_data

    same_as_eager(setup)


# ----------------------------------------------------------------------------- sklearn-style estimators
class SGDLogisticRegression:
    """fit/partial_fit/predict with a compiled step, as students wrap a model."""

    def __init__(self, lr=0.1, alpha=1e-3, fit_intercept=True):
        self.lr, self.alpha, self.fit_intercept = lr, alpha, fit_intercept
        self._step = torch.compile(self._train_step)
        self.coef_ = None

    def _init(self, n_features):
        torch.manual_seed(0)
        self.linear = nn.Linear(n_features, 1, bias=self.fit_intercept).double()
        self.opt = optim.SGD(self.linear.parameters(), lr=self.lr)

    def _train_step(self, X, y):
        self.opt.zero_grad()
        logits = self.linear(X).squeeze(1)
        loss = F.binary_cross_entropy_with_logits(logits, y) + self.alpha * self.linear.weight.pow(2).sum()
        loss.backward()
        self.opt.step()
        return loss

    def partial_fit(self, X, y):
        if self.coef_ is None:
            self._init(X.shape[1])
        loss = self._step(X, y)
        self.coef_ = self.linear.weight.detach().numpy().ravel().copy()
        return loss

    def fit(self, X, y, epochs=3, batch_size=4):
        self.coef_ = None
        for _ in range(epochs):
            for s in range(0, len(X), batch_size):
                self.partial_fit(X[s:s + batch_size], y[s:s + batch_size])
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            return torch.sigmoid(self.linear(X)).squeeze(1)

    def predict(self, X):
        return (self.predict_proba(X) > 0.5).long()

    def score(self, X, y):
        return (self.predict(X) == y.long()).double().mean()


def test_sklearn_style_estimator_eager_and_compiled_instances_agree():
    def fit_all(compiled):
        est = SGDLogisticRegression(lr=0.3, alpha=1e-2)
        if not compiled:
            est._step = est._train_step
        history = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(6):
                X, y = binary_data(i)
                history.append(snap(est.partial_fit(X, y)))
                history.append(snap([est.linear, est.opt, est.coef_]))
            est.fit(*binary_data(9), epochs=2, batch_size=3)
            history.append(snap([est.linear, est.opt, est.coef_, est.predict_proba(binary_data(10)[0])]))
        history.append(default_generator.state_bytes())
        return history, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]

    eager, _ = fit_all(False)
    compiled, messages = fit_all(True)
    assert_identical(compiled, eager)
    assert len(messages) <= 1, messages


def test_sklearn_style_estimator_counting_iterations_inside_the_step():
    class LinearSVC:
        def __init__(self, C=1.0):
            self.C = C
            self.n_iter_ = 0
            self.loss_curve_ = []
            self.w = torch.zeros(2, dtype=torch.float64, requires_grad=True)
            self.b = torch.zeros((), dtype=torch.float64, requires_grad=True)
            self.opt = optim.SGD([self.w, self.b], lr=0.05)

        def step(self, X, y):
            self.opt.zero_grad()
            loss = 0.5 * (self.w ** 2).sum() + self.C * F.relu(1 - y * (X @ self.w + self.b)).mean()
            loss.backward()
            self.opt.step()
            self.n_iter_ += 1
            self.loss_curve_.append(loss.detach())
            return loss

    def setup():
        svc = LinearSVC(C=2.0)

        def inputs(i):
            svc.C = (2.0, 2.0, 2.0, 0.5, 0.5, 2.0, 2.0)[i]
            return svm_data(i)
        return svc.step, lambda: [svc.w, svc.b, svc.opt, svc.n_iter_, svc.loss_curve_], inputs

    same_as_eager(setup)


# ----------------------------------------------------------------------------- closed forms, second order, errors
def test_ridge_closed_form_normal_equations_in_compiled_fit_with_lambda_changed():
    def setup():
        state = {}

        def fit(X, y, lam):
            Xb = torch.cat([X, torch.ones(X.shape[0], 1, dtype=X.dtype)], dim=1)
            I = torch.eye(Xb.shape[1], dtype=X.dtype)
            I[-1, -1] = 0                                   # the intercept is not penalised
            theta = torch.linalg.solve(Xb.T @ Xb + lam * I, Xb.T @ y)
            L = torch.linalg.cholesky(Xb.T @ Xb + (lam + 1.0) * torch.eye(Xb.shape[1], dtype=X.dtype))
            theta_chol = torch.cholesky_solve((Xb.T @ y).unsqueeze(1), L).squeeze(1)
            residual = y - Xb @ theta
            return theta, theta_chol, residual.pow(2).mean()
        lams = (0.0, 0.0, 1.0, 1.0, 10.0, 0.0, 0.0)
        return fit, lambda: [state], lambda i: regression_data(i) + (lams[i],)

    same_as_eager(setup)


def test_logistic_regression_newton_irls_with_hessian_and_linalg_solve():
    def setup():
        theta = torch.zeros(3, dtype=torch.float64, requires_grad=True)

        def step(X, y):
            Xb = torch.cat([torch.ones(len(X), 1, dtype=X.dtype), X], dim=1)
            p = torch.sigmoid(Xb @ theta)
            loss = F.binary_cross_entropy(p, y) + 1e-2 * theta.pow(2).sum()
            (grad,) = torch.autograd.grad(loss, theta)
            with torch.no_grad():
                S = p * (1 - p)
                H = (Xb.T * S) @ Xb / len(X) + 2e-2 * torch.eye(3, dtype=X.dtype)
                theta -= torch.linalg.solve(H, grad)
            return loss.detach(), grad
        return step, lambda: [theta], binary_data

    same_as_eager(setup)


def test_logistic_regression_lbfgs_closure_full_batch():
    # LBFGS reads the loss into Python (its line search and tolerance checks): a fallback is fine.
    def setup():
        model = nn.Linear(2, 1).double()
        opt = optim.LBFGS(model.parameters(), lr=0.5, max_iter=5, history_size=3)

        def step(X, y):
            def closure():
                opt.zero_grad()
                loss = F.binary_cross_entropy_with_logits(model(X).squeeze(1), y)
                loss.backward()
                return loss
            return opt.step(closure)
        return step, lambda: [model], binary_data

    same_as_eager(setup, calls=5)


def test_estimator_keeping_detached_coef_view_and_returning_the_parameter_itself():
    class Regressor:
        def __init__(self):
            self.linear = nn.Linear(3, 1).double()
            self.opt = optim.SGD(self.linear.parameters(), lr=0.1, momentum=0.5)

        def step(self, X, y):
            self.opt.zero_grad()
            loss = F.mse_loss(self.linear(X).squeeze(1), y)
            loss.backward()
            self.coef_before_ = self.linear.weight.detach().clone()
            self.opt.step()
            self.coef_ = self.linear.weight.detach()        # a view sharing the parameter's storage
            self.intercept_ = self.linear.bias.data
            return loss, self.linear.weight

    def fit_all(compiled):
        torch.manual_seed(0)
        est = Regressor()
        step = torch.compile(est.step) if compiled else est.step
        history = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(7):
                result = step(*regression_data(i))
                history.append((snap(result), result[1] is est.linear.weight,
                                np.shares_memory(est.coef_.numpy(), est.linear.weight.detach().numpy()),
                                np.shares_memory(est.intercept_.numpy(), est.linear.bias.detach().numpy())))
                history.append(snap([est.linear, est.opt, est.coef_, est.coef_before_, est.intercept_]))
                with torch.no_grad():
                    est.linear.weight.mul_(0.99)          # the caller shrinks the weights between calls
                history.append(snap([est.coef_, est.intercept_]))
        history.append(default_generator.state_bytes())
        return history, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]

    eager, _ = fit_all(False)
    compiled, messages = fit_all(True)
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages


def test_matrix_factorization_unknown_user_index_out_of_range_in_a_later_batch():
    def setup():
        model = MatrixFactorization(6, 5)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(users, items, r):
            opt.zero_grad()
            loss = F.mse_loss(model(users, items), r)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            users, items, r = ratings(i)
            if i == 4:
                users = users.clone()
                users[-1] = 6                                # a user the model has never seen
            return users, items, r
        return step, lambda: [model, opt], inputs

    same_as_eager(setup)


def test_logistic_regression_batch_with_wrong_feature_count_raises_same_error():
    def setup():
        model = nn.Linear(2, 1).double()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(X, y):
            out = model(X).squeeze(1)
            loss = F.binary_cross_entropy_with_logits(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            X, y = binary_data(i)
            if i in (3, 5):
                X = torch.cat([X, X[:, :1]], dim=1)          # a bad preprocessing step adds a column
            return X, y
        return step, lambda: [model, opt], inputs

    same_as_eager(setup)
