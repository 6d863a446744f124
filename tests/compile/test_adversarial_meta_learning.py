"""chainrule.compile against eager execution on META-LEARNING and functional-parameter code inside a
compiled step: MAML with an inner loop of k steps through ``autograd.grad(create_graph=True)`` and fast
weights kept as a list or dict of tensors, first-order MAML (``create_graph=False`` / detached grads),
``func.functional_call(model, params, x)`` with non-leaf parameters, Reptile (a clone updated eagerly
inside the step, ``p.data.copy_`` and interpolation), ``copy.deepcopy`` of a model inside the step,
hypernetworks producing a target net's weights used through ``F.linear``, Meta-SGD learned
per-parameter inner learning rates (``nn.ParameterList``), inner loop counts changed between calls,
``allow_unused=True`` with None grads, ``retain_graph``, ``grad_outputs`` on non-scalar outputs, gradient
norm penalties, tasks whose support/query sizes change between calls, BatchNorm (with and without
running stats) in train/eval mode inside the inner loop.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters (values, grads),
buffers, optimizer state, Python side effects and the random stream after each call. A compiled run
may record anew or fall back to eager with at most one warning.
"""
import copy
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import func, nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical

grad = chainrule.autograd.grad


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    return value


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
        "state_dict": list(model.state_dict().keys()),
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
            out.append([{k: snap(v) for k, v in g.items() if k != "params"} for g in thing.param_groups])
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or task_inputs()
        self.before = before or (lambda i: None)


def task_inputs(support=(5,), query=(7,), n_in=3, n_out=2, dtype="float64"):
    """Regression tasks: (xs, ys, xq, yq); sizes cycle through the given tuples."""
    def inputs(i):
        g = np.random.default_rng(200 + i)
        ns, nq = support[i % len(support)], query[i % len(query)]
        a = g.standard_normal((n_in, n_out))
        xs, xq = g.standard_normal((ns, n_in)), g.standard_normal((nq, n_in))
        mk = lambda v: chainrule.tensor(v.astype(dtype))
        return mk(xs), mk(np.sin(xs @ a)), mk(xq), mk(np.sin(xq @ a))
    return inputs


def class_tasks(ways=3, shots=(2,), queries=(3,), n_in=4, dtype="float64"):
    """N-way classification tasks: (xs, ys, xq, yq) with integer labels."""
    def inputs(i):
        g = np.random.default_rng(300 + i)
        k, q = shots[i % len(shots)], queries[i % len(queries)]
        centers = g.standard_normal((ways, n_in)) * 2
        ys, yq = np.repeat(np.arange(ways), k), np.repeat(np.arange(ways), q)
        xs = centers[ys] + g.standard_normal((len(ys), n_in))
        xq = centers[yq] + g.standard_normal((len(yq), n_in))
        return (chainrule.tensor(xs.astype(dtype)), chainrule.tensor(ys), chainrule.tensor(xq.astype(dtype)),
                chainrule.tensor(yq))
    return inputs


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=6):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def mlp(n_in=3, hidden=8, n_out=2, dtype=chainrule.float64):
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out)).to(dtype)


def functional_mlp(weights, x):
    """The tutorial functional forward: weights = [w1, b1, w2, b2, w3, b3]."""
    h = F.relu(F.linear(x, weights[0], weights[1]))
    h = F.relu(F.linear(h, weights[2], weights[3]))
    return F.linear(h, weights[4], weights[5])


# ----------------------------------------------------------------------------- MAML, list of fast weights
def maml_list_setup(k=1, inner_lr=0.05, create_graph=True, optimizer="adam", dtype=chainrule.float64, inputs=None,
                    before_fn=None):
    def setup():
        net = mlp(dtype=dtype)
        opt = optim.Adam(net.parameters(), lr=1e-2) if optimizer == "adam" else optim.SGD(net.parameters(), lr=0.1,
                                                                                           momentum=0.9)
        cfg = {"k": k, "lr": inner_lr}

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            fast = list(net.parameters())
            for _ in range(cfg["k"]):
                support_loss = F.mse_loss(functional_mlp(fast, xs), ys)
                grads = grad(support_loss, fast, create_graph=create_graph)
                fast = [w - cfg["lr"] * g for w, g in zip(fast, grads)]
            query_loss = F.mse_loss(functional_mlp(fast, xq), yq)
            query_loss.backward()
            opt.step()
            return query_loss

        before = (lambda i: before_fn(i, cfg, net, opt)) if before_fn else None
        return Case(step, lambda: [net, opt], inputs=inputs, before=before)
    return setup


def test_maml_one_inner_step_second_order():
    same_as_eager(maml_list_setup(k=1))


def test_first_order_maml_without_create_graph():
    same_as_eager(maml_list_setup(k=2, create_graph=False))


def test_maml_inner_step_count_changed_between_calls():
    def before(i, cfg, net, opt):
        cfg["k"] = [1, 1, 3, 2, 2, 0, 1][i]
    same_as_eager(maml_list_setup(k=1, before_fn=before), calls=7)


def test_maml_support_and_query_sizes_change_between_calls():
    same_as_eager(maml_list_setup(k=2, inputs=task_inputs(support=(5, 5, 10, 1, 5, 3), query=(7, 15, 7, 2, 7, 1))))


def test_maml_meta_batch_of_tasks_with_averaged_outer_loss():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)
        base = task_inputs(support=(4, 6), query=(5, 3))

        def step(*tasks):
            opt.zero_grad()
            outer = 0.0
            for xs, ys, xq, yq in tasks:
                fast = list(net.parameters())
                grads = grad(F.mse_loss(functional_mlp(fast, xs), ys), fast, create_graph=True)
                fast = [w - 0.05 * g for w, g in zip(fast, grads)]
                outer = outer + F.mse_loss(functional_mlp(fast, xq), yq)
            outer = outer / len(tasks)
            outer.backward()
            opt.step()
            return outer

        n_tasks = [2, 2, 3, 2, 1, 3]
        return Case(step, lambda: [net, opt], inputs=lambda i: tuple(base(10 * i + j) for j in range(n_tasks[i])))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- MAML via functional_call
def test_maml_functional_call_with_non_leaf_params_dict():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            params = dict(net.named_parameters())
            for _ in range(2):
                loss = F.mse_loss(func.functional_call(net, params, (xs,)), ys)
                grads = grad(loss, list(params.values()), create_graph=True)
                params = {name: p - 0.05 * g for (name, p), g in zip(params.items(), grads)}
            query = F.mse_loss(func.functional_call(net, params, (xq,)), yq)
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [net, opt], inputs=task_inputs(support=(5, 8, 5), query=(7, 7, 3)))

    same_as_eager(setup)


def test_functional_call_with_batchnorm_no_running_stats_train_eval_toggled():
    def setup():
        net = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8, track_running_stats=False), nn.ReLU(),
                            nn.Linear(8, 2)).double()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            params = dict(net.named_parameters())
            for _ in range(2):
                grads = grad(F.mse_loss(func.functional_call(net, params, xs), ys), list(params.values()),
                             create_graph=True)
                params = {n: p - 0.05 * g for (n, p), g in zip(params.items(), grads)}
            query = F.mse_loss(func.functional_call(net, params, xq), yq)
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [net, opt], before=lambda i: net.train(i % 2 == 0),
                    inputs=task_inputs(support=(5, 6, 4), query=(7, 9, 3)))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- ANIL, CAVIA, Meta-SGD
def test_anil_inner_loop_only_on_the_head_classification():
    def setup():
        body = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU()).double()
        head = nn.Linear(16, 3).double()
        opt = optim.Adam(list(body.parameters()) + list(head.parameters()), lr=5e-3)
        cfg = {"k": 2}

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            fs, fq = body(xs), body(xq)
            w, b = head.weight, head.bias
            for _ in range(cfg["k"]):
                loss = F.cross_entropy(F.linear(fs, w, b), ys)
                gw, gb = grad(loss, (w, b), create_graph=True)
                w, b = w - 0.5 * gw, b - 0.5 * gb
            logits = F.linear(fq, w, b)
            query = F.cross_entropy(logits, yq)
            query.backward()
            opt.step()
            acc = (logits.argmax(dim=1) == yq).float().mean().item()
            return query, acc

        return Case(step, lambda: [body, head, opt], before=lambda i: cfg.update(k=[2, 2, 1, 5, 2, 2][i]),
                    inputs=class_tasks(shots=(2, 2, 1, 3), queries=(3, 5)))

    same_as_eager(setup)


def test_cavia_context_parameters_created_inside_the_step():
    def setup():
        net = nn.Sequential(nn.Linear(3 + 2, 10), nn.ReLU(), nn.Linear(10, 2)).double()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            context = chainrule.zeros(2, dtype=chainrule.float64, requires_grad=True)
            for _ in range(3):
                inp = chainrule.cat([xs, context.expand(xs.shape[0], -1)], dim=1)
                (g,) = grad(F.mse_loss(net(inp), ys), context, create_graph=True)
                context = context - 1.0 * g
            inq = chainrule.cat([xq, context.expand(xq.shape[0], -1)], dim=1)
            query = F.mse_loss(net(inq), yq)
            query.backward()
            opt.step()
            return query, context

        return Case(step, lambda: [net, opt], inputs=task_inputs(support=(4, 6, 4), query=(5, 5, 8)))

    same_as_eager(setup)


def test_meta_sgd_learned_per_parameter_inner_lrs_parameterlist():
    def setup():
        net = mlp()
        alphas = nn.ParameterList([nn.Parameter(chainrule.full_like(p, 0.05)) for p in net.parameters()])
        opt = optim.Adam(list(net.parameters()) + list(alphas.parameters()), lr=1e-3)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            fast = list(net.parameters())
            grads = grad(F.mse_loss(functional_mlp(fast, xs), ys), fast, create_graph=True)
            fast = [w - a * g for w, a, g in zip(fast, alphas, grads)]
            query = F.mse_loss(functional_mlp(fast, xq), yq)
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [net, alphas, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- allow_unused, retain_graph, grad_outputs
def test_inner_grad_allow_unused_with_an_auxiliary_head_none_grads():
    def setup():
        trunk, head, aux = mlp(3, 8, 4), nn.Linear(4, 2).double(), nn.Linear(4, 1).double()
        params = list(trunk.parameters()) + list(head.parameters()) + list(aux.parameters())
        opt = optim.Adam(params, lr=1e-2)
        seen = []

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            fast = params
            loss = F.mse_loss(head(trunk(xs)), ys)
            grads = grad(loss, fast, create_graph=True, allow_unused=True)
            seen.append(sum(g is None for g in grads))
            fast = [w if g is None else w - 0.05 * g for w, g in zip(fast, grads)]
            h = functional_mlp(fast[:6], xq)
            query = F.mse_loss(F.linear(h, fast[6], fast[7]), yq) + 0.1 * F.linear(h, fast[8], fast[9]).pow(2).mean()
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [trunk, head, aux, opt, list(seen)])

    same_as_eager(setup)


def test_inner_grad_twice_with_retain_graph_for_two_step_sizes():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            fast = list(net.parameters())
            support = F.mse_loss(functional_mlp(fast, xs), ys)
            g1 = grad(support, fast, create_graph=True, retain_graph=True)
            g2 = grad(support, fast[-2:], retain_graph=True)
            fast = [w - 0.05 * g for w, g in zip(fast, g1)]
            query = F.mse_loss(functional_mlp(fast, xq), yq)
            query.backward()
            opt.step()
            return query, g2

        return Case(step, lambda: [net, opt])

    same_as_eager(setup)


def test_inner_grad_of_non_scalar_per_example_losses_with_grad_outputs():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq, weights):
            opt.zero_grad()
            fast = list(net.parameters())
            per_example = ((functional_mlp(fast, xs) - ys) ** 2).sum(dim=1)
            grads = grad(per_example, fast, grad_outputs=weights / weights.sum(), create_graph=True)
            fast = [w - 0.05 * g for w, g in zip(fast, grads)]
            query = F.mse_loss(functional_mlp(fast, xq), yq)
            query.backward()
            opt.step()
            return query

        base = task_inputs(support=(5, 5, 7, 3))

        def inputs(i):
            xs, ys, xq, yq = base(i)
            return xs, ys, xq, yq, chainrule.linspace(1.0, 2.0 + i, xs.shape[0], dtype=chainrule.float64)

        return Case(step, lambda: [net, opt], inputs=inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- gradient norm penalties
def test_gradient_norm_penalty_on_parameter_grads():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)
        cfg = {"beta": 0.1}

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            loss = F.mse_loss(net(xs), ys)
            grads = grad(loss, list(net.parameters()), create_graph=True)
            norm = chainrule.sqrt(sum((g ** 2).sum() for g in grads))
            total = loss + cfg["beta"] * norm
            total.backward()
            opt.step()
            return total, norm

        return Case(step, lambda: [net, opt], before=lambda i: cfg.update(beta=[0.1, 0.1, 0.0, 0.5, 0.5, 0.1][i]))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- Reptile and deepcopy
def test_reptile_deepcopy_inside_step_and_interpolate():
    def setup():
        net = mlp()
        cfg = {"eps": 0.1, "inner": 3}

        def step(xs, ys, xq, yq):
            clone = copy.deepcopy(net)
            inner_opt = optim.SGD(clone.parameters(), lr=0.05)
            for _ in range(cfg["inner"]):
                inner_opt.zero_grad()
                F.mse_loss(clone(xs), ys).backward()
                inner_opt.step()
            with chainrule.no_grad():
                for p, q in zip(net.parameters(), clone.parameters()):
                    p.add_(cfg["eps"] * (q - p))
            return F.mse_loss(clone(xq), yq).detach()

        def before(i):
            cfg["eps"] = 0.1 * (1 - i / 6)
            cfg["inner"] = [3, 3, 1, 4, 3, 2][i]

        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_deepcopy_of_model_inside_step_for_maml_with_dropout_clone():
    def setup():
        net = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 2)).double()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            learner = copy.deepcopy(net)           # evaluation copy: first-order adaptation
            inner = optim.SGD(learner.parameters(), lr=0.1)
            inner.zero_grad()
            F.mse_loss(learner(xs), ys).backward()
            inner.step()
            learner.zero_grad()
            query = F.mse_loss(learner(xq), yq)
            query.backward()
            for p, q in zip(net.parameters(), learner.parameters()):   # FOMAML: copy grads back
                p.grad = q.grad.clone()
            opt.step()
            return query

        return Case(step, lambda: [net, opt], before=lambda i: net.train(i != 3))

    same_as_eager(setup)


# ----------------------------------------------------------------------------- hypernetworks
class HyperNet(nn.Module):
    def __init__(self, z_dim=4, n_in=3, hidden=6, n_out=2):
        super().__init__()
        self.shapes = [(hidden, n_in), (hidden,), (n_out, hidden), (n_out,)]
        self.sizes = [int(np.prod(s)) for s in self.shapes]
        self.gen = nn.Sequential(nn.Linear(z_dim, 32), nn.Tanh(), nn.Linear(32, sum(self.sizes)))

    def forward(self, z):
        flat = self.gen(z)
        chunks = chainrule.split(flat, self.sizes, dim=-1)
        return [c.reshape(s) for c, s in zip(chunks, self.shapes)]


def target_forward(weights, x):
    return F.linear(F.relu(F.linear(x, weights[0], weights[1])), weights[2], weights[3])


def test_hypernetwork_with_learned_task_embeddings_selected_by_index():
    def setup():
        hyper = HyperNet(z_dim=5).double()
        embeddings = nn.Embedding(4, 5).double()
        opt = optim.Adam(list(hyper.parameters()) + list(embeddings.parameters()), lr=1e-2)
        base = task_inputs(support=(5, 7, 3))

        def step(task_id, xs, ys, xq, yq):
            opt.zero_grad()
            z = embeddings(chainrule.tensor(task_id))
            weights = hyper(z)
            loss = F.mse_loss(target_forward(weights, xs), ys) + 1e-3 * sum(w.pow(2).sum() for w in weights)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [hyper, embeddings, opt], inputs=lambda i: (int([0, 1, 0, 3, 2, 1][i]),) + base(i))

    same_as_eager(setup)


def test_hypernetwork_float32_with_batched_embeddings_and_bmm():
    def setup():
        gen = nn.Linear(3, 2 * 4 + 2).float()
        opt = optim.SGD(gen.parameters(), lr=0.05)

        def step(z, x, y):
            opt.zero_grad()
            flat = gen(z)                                   # (tasks, 10)
            w = flat[:, :8].reshape(-1, 2, 4)
            b = flat[:, 8:].unsqueeze(1)
            out = chainrule.bmm(x, w.transpose(1, 2)) + b   # (tasks, n, 2)
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = np.random.default_rng(70 + i)
            t, n = [2, 2, 3, 1, 2, 3][i], [5, 5, 4, 6, 5, 4][i]
            return (chainrule.tensor(g.standard_normal((t, 3)).astype("float32")),
                    chainrule.tensor(g.standard_normal((t, n, 4)).astype("float32")),
                    chainrule.tensor(g.standard_normal((t, n, 2)).astype("float32")))

        return Case(step, lambda: [gen, opt], inputs=inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- classification MAML and eval
def test_inner_grad_over_params_dict_values_view():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            params = dict(net.named_parameters())
            grads = grad(F.mse_loss(func.functional_call(net, params, (xs,)), ys), params.values(), create_graph=True)
            fast = {n: p - 0.05 * g for (n, p), g in zip(params.items(), grads)}
            query = F.mse_loss(func.functional_call(net, fast, (xq,)), yq)
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [net, opt])

    eager, _ = run(False, setup, 2)
    assert eager[0][0] == "ok", eager[0]


# ----------------------------------------------------------------------------- inner loops without autograd.grad
def test_maml_linear_regression_with_analytic_inner_gradient_k_changed():
    def setup():
        w = nn.Parameter(chainrule.zeros(3, 2, dtype=chainrule.float64))
        b = nn.Parameter(chainrule.zeros(2, dtype=chainrule.float64))
        opt = optim.Adam([w, b], lr=5e-2)
        cfg = {"k": 0, "lr": 0.1}

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            fw, fb = w, b
            n = xs.shape[0]
            for _ in range(cfg["k"]):
                err = xs @ fw + fb - ys                       # d/dw of mean squared error, by hand
                fw = fw - cfg["lr"] * 2.0 / (n * 2) * xs.t() @ err
                fb = fb - cfg["lr"] * 2.0 / (n * 2) * err.sum(0)
            query = ((xq @ fw + fb - yq) ** 2).mean()
            query.backward()
            opt.step()
            return query, fw

        def before(i):
            cfg["k"] = [0, 0, 1, 1, 3, 3, 0][i]        # pretrain first, then meta-train
            cfg["lr"] = [0.1, 0.1, 0.1, 0.2, 0.2, 0.05, 0.1][i]

        return Case(step, lambda: [w, b, opt], before=before)

    same_as_eager(setup, calls=7)


def test_meta_sgd_analytic_inner_gradient_with_parameterlist_lrs():
    def setup():
        layer = nn.Linear(3, 2).double()
        lrs = nn.ParameterList([nn.Parameter(chainrule.full((2, 3), 0.1, dtype=chainrule.float64)),
                                nn.Parameter(chainrule.full((2,), 0.1, dtype=chainrule.float64))])
        opt = optim.Adam(list(layer.parameters()) + list(lrs), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            err = F.linear(xs, layer.weight, layer.bias) - ys
            gw = 2.0 / err.numel() * err.t() @ xs
            gb = 2.0 / err.numel() * err.sum(0)
            fw, fb = layer.weight - lrs[0] * gw, layer.bias - lrs[1] * gb
            query = F.mse_loss(F.linear(xq, fw, fb), yq)
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [layer, lrs, opt], inputs=task_inputs(support=(5, 5, 9, 2), query=(7, 3)))

    same_as_eager(setup, calls=7)


def test_r2d2_closed_form_ridge_head_with_learned_lambda():
    def setup():
        enc = nn.Sequential(nn.Linear(4, 10), nn.ReLU(), nn.Linear(10, 6)).double()
        log_lam = nn.Parameter(chainrule.tensor(0.0, dtype=chainrule.float64))
        opt = optim.Adam(list(enc.parameters()) + [log_lam], lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            zs, zq = enc(xs), enc(xq)
            onehot = F.one_hot(ys, 3).to(chainrule.float64)
            n = zs.shape[0]
            gram = zs @ zs.t() + log_lam.exp() * chainrule.eye(n, dtype=chainrule.float64)
            w = zs.t() @ chainrule.linalg.solve(gram, onehot)  # Woodbury form, n x n solve
            logits = zq @ w
            loss = F.cross_entropy(logits * 5.0, yq)
            loss.backward()
            opt.step()
            return loss, logits.argmax(1)

        return Case(step, lambda: [enc, log_lam, opt], inputs=class_tasks(shots=(2, 2, 3, 1, 3), queries=(3, 2)))

    same_as_eager(setup, calls=7)


def test_prototypical_network_with_onehot_prototypes_ways_and_shots_change():
    def setup():
        enc = nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 8)).double()
        opt = optim.Adam(enc.parameters(), lr=1e-2)
        base = [class_tasks(ways=3, shots=(2,)), class_tasks(ways=5, shots=(1,)), class_tasks(ways=3, shots=(4,))]

        def step(xs, ys, xq, yq, ways):
            opt.zero_grad()
            zs, zq = enc(xs), enc(xq)
            onehot = F.one_hot(ys, ways).to(zs.dtype)
            protos = onehot.t() @ zs / onehot.sum(0).unsqueeze(1)
            logits = -chainrule.cdist(zq, protos) ** 2
            loss = F.cross_entropy(logits, yq)
            loss.backward()
            opt.step()
            return loss, protos

        def inputs(i):
            which = [0, 0, 1, 1, 0, 2, 2][i]
            return base[which](i) + ([3, 5, 3][which],)

        return Case(step, lambda: [enc, opt], inputs=inputs, before=lambda i: enc.train(i != 4))

    same_as_eager(setup, calls=7)


def test_prototypical_network_batchnorm_without_running_stats_eval_toggled():
    def setup():
        enc = nn.Sequential(nn.Linear(4, 12), nn.BatchNorm1d(12, track_running_stats=False), nn.ReLU(),
                            nn.Linear(12, 6)).double()
        opt = optim.SGD(enc.parameters(), lr=0.05, momentum=0.9)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            z = enc(chainrule.cat([xs, xq]))                  # support and query normalized together
            zs, zq = z[: xs.shape[0]], z[xs.shape[0]:]
            protos = chainrule.stack([zs[c::3].mean(0) for c in range(3)]) if False else \
                (F.one_hot(ys, 3).double().t() @ zs) / chainrule.bincount(ys).double().unsqueeze(1)
            d = ((zq.unsqueeze(1) - protos.unsqueeze(0)) ** 2).sum(-1)
            loss = F.cross_entropy(-d, yq)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [enc, opt], inputs=class_tasks(shots=(2, 3, 2, 1), queries=(3, 3, 1)),
                    before=lambda i: enc.train(i % 3 != 1))

    same_as_eager(setup, calls=7)


def test_matching_network_cosine_attention_over_support():
    def setup():
        enc = nn.Sequential(nn.Linear(4, 10), nn.Tanh(), nn.Linear(10, 8)).float()
        opt = optim.Adam(enc.parameters(), lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            zs, zq = F.normalize(enc(xs), dim=1), F.normalize(enc(xq), dim=1)
            attn = F.softmax(10.0 * zq @ zs.t(), dim=1)
            probs = attn @ F.one_hot(ys, 3).float()
            loss = F.nll_loss(chainrule.log(probs + 1e-8), yq)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [enc, opt], inputs=class_tasks(shots=(2, 1, 3), queries=(2, 4), dtype="float32"))

    same_as_eager(setup)


def test_reptile_persistent_clone_and_inner_optimizer_with_data_copy_and_interpolation():
    def setup():
        net = mlp()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.SGD(fast_net.parameters(), lr=0.05)
        cfg = {"eps": 0.5, "inner": 2}

        def step(xs, ys, xq, yq):
            for p, q in zip(fast_net.parameters(), net.parameters()):
                p.data.copy_(q.data)
            for _ in range(cfg["inner"]):
                inner_opt.zero_grad()
                loss = F.mse_loss(fast_net(xs), ys)
                loss.backward()
                inner_opt.step()
            for p, q in zip(net.parameters(), fast_net.parameters()):
                p.data.add_(cfg["eps"] * (q.data - p.data))
            return loss.detach()

        def before(i):
            cfg["eps"] = [0.5, 0.5, 0.4, 0.3, 0.3, 0.2, 0.1][i]
            cfg["inner"] = [2, 2, 2, 3, 3, 1, 2][i]

        return Case(step, lambda: [net, fast_net, inner_opt], before=before)

    same_as_eager(setup, calls=7)


def test_reptile_with_persistent_adam_inner_state_reset_each_task():
    def setup():
        net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.Adam(fast_net.parameters(), lr=1e-2, betas=(0.0, 0.999))
        meta_opt = optim.SGD(net.parameters(), lr=1.0)

        def step(xs, ys, xq, yq):
            fast_net.load_state_dict(net.state_dict())
            inner_opt.state.clear()
            for _ in range(3):
                inner_opt.zero_grad()
                F.mse_loss(fast_net(xs), ys).backward()
                inner_opt.step()
            meta_opt.zero_grad()
            for p, q in zip(net.parameters(), fast_net.parameters()):
                p.grad = (p - q).detach()
            meta_opt.step()
            with chainrule.no_grad():
                return F.mse_loss(fast_net(xq), yq)

        def before(i):
            meta_opt.param_groups[0]["lr"] = 1.0 - i / 7

        return Case(step, lambda: [net, fast_net, inner_opt, meta_opt], before=before)

    same_as_eager(setup, calls=7)


def test_first_order_maml_with_persistent_learner_and_grads_copied_back():
    def setup():
        net = mlp()
        learner = copy.deepcopy(net)
        meta_opt = optim.Adam(net.parameters(), lr=1e-2)
        cfg = {"k": 1}

        def step(xs, ys, xq, yq):
            with chainrule.no_grad():
                for p, q in zip(learner.parameters(), net.parameters()):
                    p.copy_(q)
            for _ in range(cfg["k"]):
                learner.zero_grad()
                F.mse_loss(learner(xs), ys).backward()
                with chainrule.no_grad():
                    for p in learner.parameters():
                        p -= 0.1 * p.grad
            learner.zero_grad()
            query = F.mse_loss(learner(xq), yq)
            query.backward()
            meta_opt.zero_grad()
            for p, q in zip(net.parameters(), learner.parameters()):
                p.grad = q.grad.clone()
            meta_opt.step()
            return query

        return Case(step, lambda: [net, learner, meta_opt], before=lambda i: cfg.update(k=[1, 1, 2, 2, 0, 1, 3][i]),
                    inputs=task_inputs(support=(5, 5, 5, 8), query=(7, 7, 4)))

    same_as_eager(setup, calls=7)


def test_functional_call_with_masked_non_leaf_params_scale_from_attribute():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=1e-2)
        cfg = {"scale": 1.0}

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            params = {n: p * cfg["scale"] if "weight" in n else p for n, p in net.named_parameters()}
            loss = F.mse_loss(func.functional_call(net, params, (xs,)), ys)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], before=lambda i: cfg.update(scale=[1.0, 1.0, 0.5, 0.5, 2.0, 1.0][i]))

    same_as_eager(setup)


def test_functional_call_with_partial_dict_and_module_params_replaced_between_calls():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05)
        shift = nn.Parameter(chainrule.zeros(2, dtype=chainrule.float64))
        opt.add_param_group({"params": [shift], "lr": 0.1})

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            out = func.functional_call(net, {"4.bias": net[4].bias + shift}, (xs,))
            loss = F.mse_loss(out, ys)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                with chainrule.no_grad():
                    net[0].weight.mul_(0.5)
            if i == 5:
                net.train(False)

        return Case(step, lambda: [net, shift, opt], before=before)

    same_as_eager(setup)


def test_film_conditioned_network_from_task_set_encoder():
    def setup():
        enc = nn.Sequential(nn.Linear(3 + 2, 16), nn.ReLU(), nn.Linear(16, 16)).double()
        film = nn.Linear(16, 2 * 8).double()
        body1, body2 = nn.Linear(3, 8).double(), nn.Linear(8, 2).double()
        params = [*enc.parameters(), *film.parameters(), *body1.parameters(), *body2.parameters()]
        opt = optim.Adam(params, lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            r = enc(chainrule.cat([xs, ys], dim=1)).mean(0)         # permutation-invariant task summary
            gamma, beta = film(r).chunk(2)
            h = F.relu(body1(xq) * (1 + gamma) + beta)
            loss = F.mse_loss(body2(h), yq)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [enc, film, body1, body2, opt], inputs=task_inputs(support=(3, 5, 8, 3, 1), query=(4, 6)))

    same_as_eager(setup, calls=7)


def test_neural_process_style_latent_from_context_with_reparameterized_sample():
    def setup():
        enc = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8)).double()
        dec = nn.Sequential(nn.Linear(3 + 4, 16), nn.ReLU(), nn.Linear(16, 2)).double()
        opt = optim.Adam([*enc.parameters(), *dec.parameters()], lr=1e-2)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            mu, log_sigma = enc(chainrule.cat([xs, ys], 1)).mean(0).chunk(2)
            z = mu + log_sigma.exp() * chainrule.randn_like(mu)
            pred = dec(chainrule.cat([xq, z.expand(xq.shape[0], -1)], 1))
            kl = 0.5 * (mu ** 2 + (2 * log_sigma).exp() - 2 * log_sigma - 1).sum()
            loss = F.mse_loss(pred, yq) + 0.01 * kl
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [enc, dec, opt], inputs=task_inputs(support=(4, 4, 6), query=(5, 9)))

    same_as_eager(setup)


def test_hypernetwork_target_depth_changed_between_calls():
    def setup():
        hyper = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3 * 3 * 3 + 3 * 3)).double()
        head = nn.Linear(3, 2).double()
        opt = optim.Adam([*hyper.parameters(), *head.parameters()], lr=1e-2)
        cfg = {"depth": 1}

        def step(z, xs, ys, xq, yq):
            opt.zero_grad()
            flat = hyper(z)
            ws = flat[:27].view(3, 3, 3)
            bs = flat[27:].view(3, 3)
            h = xs
            for layer in range(cfg["depth"]):
                h = chainrule.tanh(F.linear(h, ws[layer], bs[layer]))
            loss = F.mse_loss(head(h), ys)
            loss.backward()
            opt.step()
            return loss

        base = task_inputs()

        def inputs(i):
            g = np.random.default_rng(90 + i)
            return (chainrule.tensor(g.standard_normal(4)),) + base(i)

        return Case(step, lambda: [hyper, head, opt], inputs=inputs,
                    before=lambda i: cfg.update(depth=[1, 1, 2, 3, 3, 1, 2][i]))

    same_as_eager(setup, calls=7)


def test_hypernetwork_weights_written_into_target_module_by_data_copy():
    def setup():
        hyper = nn.Linear(4, 2 * 3 + 2).double()
        target = nn.Linear(3, 2).double()
        opt = optim.Adam(hyper.parameters(), lr=1e-2)

        def step(z, xs, ys, xq, yq):
            opt.zero_grad()
            flat = hyper(z)
            w, b = flat[:6].view(2, 3), flat[6:]
            with chainrule.no_grad():                       # a snapshot for logging/inference use
                target.weight.data.copy_(w)
                target.bias.data.copy_(b)
            loss = F.mse_loss(F.linear(xs, w, b), ys)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                probe = F.mse_loss(target(xq), yq)
            return loss, probe

        base = task_inputs()

        def inputs(i):
            g = np.random.default_rng(60 + i)
            return (chainrule.tensor(g.standard_normal(4)),) + base(i)

        return Case(step, lambda: [hyper, target, opt], inputs=inputs)

    same_as_eager(setup)


def test_reptile_persistent_adam_inner_optimizer_reset_by_load_state_dict():
    def setup():
        net = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.Adam(fast_net.parameters(), lr=1e-2)
        fresh = copy.deepcopy(inner_opt.state_dict())

        def step(xs, ys, xq, yq):
            fast_net.load_state_dict(net.state_dict())
            inner_opt.load_state_dict(fresh)
            for _ in range(3):
                inner_opt.zero_grad()
                F.mse_loss(fast_net(xs), ys).backward()
                inner_opt.step()
            with chainrule.no_grad():
                for p, q in zip(net.parameters(), fast_net.parameters()):
                    p.add_(0.5 * (q - p))
            return F.mse_loss(fast_net(xq), yq).detach()

        return Case(step, lambda: [net, fast_net, inner_opt])

    same_as_eager(setup)


def test_reptile_with_parameters_to_vector_and_vector_to_parameters():
    def setup():
        net = mlp()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.SGD(fast_net.parameters(), lr=0.05)
        cfg = {"eps": 0.3}

        def step(xs, ys, xq, yq):
            start = nn.utils.parameters_to_vector(net.parameters())
            nn.utils.vector_to_parameters(start, fast_net.parameters())
            for _ in range(2):
                inner_opt.zero_grad()
                F.mse_loss(fast_net(xs), ys).backward()
                inner_opt.step()
            end = nn.utils.parameters_to_vector(fast_net.parameters())
            with chainrule.no_grad():
                nn.utils.vector_to_parameters(start + cfg["eps"] * (end - start), net.parameters())
            return (end - start).norm().detach()

        return Case(step, lambda: [net, fast_net, inner_opt], before=lambda i: cfg.update(eps=0.3 * 0.8 ** i))

    same_as_eager(setup)


def test_reptile_by_rebinding_param_data_to_clones():
    def setup():
        net = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2)).double()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.SGD(fast_net.parameters(), lr=0.1, momentum=0.0)

        def step(xs, ys, xq, yq):
            for p, q in zip(fast_net.parameters(), net.parameters()):
                p.data = q.data.clone()
            for _ in range(2):
                inner_opt.zero_grad()
                F.mse_loss(fast_net(xs), ys).backward()
                inner_opt.step()
            for p, q in zip(net.parameters(), fast_net.parameters()):
                p.data = p.data + 0.25 * (q.data - p.data)
            return fast_net[0].weight.detach().clone()

        return Case(step, lambda: [net, fast_net, inner_opt])

    same_as_eager(setup)


def test_reptile_interpolated_state_dict_loaded_into_meta_model():
    def setup():
        net = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2)).double()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.SGD(fast_net.parameters(), lr=0.05, momentum=0.9)

        def step(xs, ys, xq, yq):
            fast_net.load_state_dict(net.state_dict())
            for _ in range(2):
                inner_opt.zero_grad()
                F.mse_loss(fast_net(xs), ys).backward()
                inner_opt.step()
            old, new = net.state_dict(), fast_net.state_dict()
            net.load_state_dict({k: old[k] + 0.5 * (new[k] - old[k]) if old[k].is_floating_point() else new[k]
                                 for k in old})
            return new["1.running_mean"].clone()

        return Case(step, lambda: [net, fast_net, inner_opt], before=lambda i: fast_net.train(i != 4))

    same_as_eager(setup)


def test_learn2learn_style_parameter_patching_with_analytic_update():
    def setup():
        net = nn.Sequential(nn.Linear(3, 2)).double()
        opt = optim.Adam(net.parameters(), lr=5e-2)
        cfg = {"k": 1}

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            layer = net[0]
            saved = dict(layer._parameters)
            fw, fb = layer.weight, layer.bias
            for _ in range(cfg["k"]):
                err = F.linear(xs, fw, fb) - ys
                fw = fw - 0.1 * (2.0 / err.numel()) * err.t() @ xs
                fb = fb - 0.1 * (2.0 / err.numel()) * err.sum(0)
            layer._parameters["weight"], layer._parameters["bias"] = fw, fb   # patched module
            try:
                query = F.mse_loss(net(xq), yq)
            finally:
                layer._parameters.update(saved)
            query.backward()
            opt.step()
            return query

        return Case(step, lambda: [net, opt], before=lambda i: cfg.update(k=[1, 1, 2, 0, 2, 1][i]))

    same_as_eager(setup)


def test_functional_call_on_target_module_with_hypernet_weights():
    def setup():
        hyper = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 2 * 3 + 2)).double()
        target = nn.Linear(3, 2).double()
        opt = optim.Adam(hyper.parameters(), lr=1e-2)

        def step(z, xs, ys, xq, yq):
            opt.zero_grad()
            flat = hyper(z)
            params = {"weight": flat[:6].reshape(2, 3), "bias": flat[6:]}
            loss = F.mse_loss(func.functional_call(target, params, (xs,)), ys)
            loss.backward()
            opt.step()
            return loss, target.weight

        base = task_inputs(support=(5, 5, 3))

        def inputs(i):
            g = np.random.default_rng(40 + i)
            return (chainrule.tensor(g.standard_normal(4)),) + base(i)

        return Case(step, lambda: [hyper, target, opt], inputs=inputs)

    same_as_eager(setup)


def test_batchnorm_momentum_none_cumulative_stats_through_functional_call():
    def setup():
        net = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5, momentum=None), nn.ReLU(), nn.Linear(5, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(xs, ys, xq, yq):
            opt.zero_grad()
            params = {n: p * 1.0 for n, p in net.named_parameters()}
            loss = F.mse_loss(func.functional_call(net, params, (xs,)), ys)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], before=lambda i: net.train(i != 3),
                    inputs=task_inputs(support=(5, 5, 7, 4)))

    same_as_eager(setup)


def test_evaluation_calls_under_no_grad_with_inner_adaptation_by_enable_grad():
    def setup():
        net = nn.Linear(3, 2).double()
        inner = copy.deepcopy(net)
        inner_opt = optim.SGD(inner.parameters(), lr=0.1)
        meta_opt = optim.SGD(net.parameters(), lr=0.5)
        mode = {"eval": False}

        def step(xs, ys, xq, yq):
            inner.load_state_dict(net.state_dict())
            with chainrule.enable_grad():
                for _ in range(2):
                    inner_opt.zero_grad()
                    F.mse_loss(inner(xs), ys).backward()
                    inner_opt.step()
            with chainrule.no_grad():
                query = F.mse_loss(inner(xq), yq)
            if not mode["eval"]:
                meta_opt.zero_grad()
                for p, q in zip(net.parameters(), inner.parameters()):
                    p.grad = p.detach() - q.detach()
                meta_opt.step()
            return query

        return Case(step, lambda: [net, inner, inner_opt, meta_opt],
                    before=lambda i: mode.update(eval=i in (2, 3, 6)))

    same_as_eager(setup, calls=7)


def test_reptile_inner_sgd_momentum_buffers_zeroed_in_place_per_task():
    def setup():
        net = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2)).double()
        fast_net = copy.deepcopy(net)
        inner_opt = optim.SGD(fast_net.parameters(), lr=0.05, momentum=0.9)

        def step(xs, ys, xq, yq):
            fast_net.load_state_dict(net.state_dict())
            for state in inner_opt.state.values():
                state["momentum_buffer"].zero_()
            for _ in range(3):
                inner_opt.zero_grad()
                F.mse_loss(fast_net(xs), ys).backward()
                inner_opt.step()
            with chainrule.no_grad():
                for p, q in zip(net.parameters(), fast_net.parameters()):
                    p.lerp_(q, 0.5)
            return F.mse_loss(fast_net(xq), yq).detach()

        return Case(step, lambda: [net, fast_net, inner_opt])

    same_as_eager(setup)


def test_reptile_meta_batch_accumulating_meta_grads_over_a_varying_task_count():
    def setup():
        net = mlp(dtype=chainrule.float32)
        fast_net = copy.deepcopy(net)
        inner_opt = optim.SGD(fast_net.parameters(), lr=0.05)
        meta_opt = optim.Adam(net.parameters(), lr=1e-2)
        base = task_inputs(dtype="float32")

        def step(tasks):
            meta_opt.zero_grad(set_to_none=True)
            for xs, ys, xq, yq in tasks:
                fast_net.load_state_dict(net.state_dict())
                for _ in range(2):
                    inner_opt.zero_grad()
                    F.mse_loss(fast_net(xs), ys).backward()
                    inner_opt.step()
                for p, q in zip(net.parameters(), fast_net.parameters()):
                    diff = (p - q).detach() / len(tasks)
                    if p.grad is None:
                        p.grad = diff
                    else:
                        p.grad += diff
            meta_opt.step()
            return [p.grad for p in net.parameters()][-1]

        counts = [2, 2, 3, 1, 2, 3]
        return Case(step, lambda: [net, fast_net, inner_opt, meta_opt],
                    inputs=lambda i: ([base(10 * i + j) for j in range(counts[i])],))

    same_as_eager(setup)


def test_maml_outer_loss_on_inner_trajectory_with_analytic_steps_and_sizes_changing():
    def setup():
        w = nn.Parameter(chainrule.zeros(3, 2, dtype=chainrule.float64))
        log_lr = nn.Parameter(chainrule.tensor(-2.0, dtype=chainrule.float64))
        opt = optim.Adam([w, log_lr], lr=5e-2)

        def step(xs, ys, xq, yq, k):
            opt.zero_grad()
            fw, losses = w, []
            for _ in range(k):
                err = xs @ fw - ys
                fw = fw - log_lr.exp() * (2.0 / err.numel()) * xs.t() @ err
                losses.append(((xq @ fw - yq) ** 2).mean())
            outer = chainrule.stack(losses).mean() if losses else ((xq @ fw - yq) ** 2).mean()
            outer.backward()
            opt.step()
            return outer, log_lr.exp().detach()

        base = task_inputs(support=(5, 5, 10, 5, 3), query=(7, 7, 3))
        return Case(step, lambda: [w, log_lr, opt], inputs=lambda i: base(i) + ([2, 2, 3, 0, 3, 2, 1][i],))

    same_as_eager(setup, calls=7)
