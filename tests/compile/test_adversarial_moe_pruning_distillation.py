"""chainrule.compile against eager execution on MIXTURE-OF-EXPERTS, PRUNING and DISTILLATION steps:
top-k gating with chainrule.topk over router logits and a softmax over the kept scores, dispatch by
boolean masks / nonzero / index_select per expert (data-dependent shapes), capacity limits dropping
tokens, load-balancing auxiliary losses, experts in an nn.ModuleList looped in Python, noisy gating
with randn; nn.utils.prune (l1_unstructured, random_unstructured, global_unstructured, ln_structured,
custom_from_mask, remove) applied between calls and inside the step, weight_orig / weight_mask
changed in place, hand-written magnitude pruning, weight_norm / spectral_norm / orthogonal
parametrizations; knowledge distillation with a teacher in eval mode under no_grad, the
temperature and alpha changed between calls, teacher swapped, teacher outputs cached by batch index.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""
import warnings

import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.utils import parametrizations as P
from chainrule.nn.utils import prune, spectral_norm, weight_norm
from tests.compile.harness import Case, arr, lin, same_as_eager


def batch(i, n=8, d=6, classes=4, dtype="float64"):
    g = np.random.default_rng(500 + i)
    x = chainrule.tensor(g.standard_normal((n, d)).astype(dtype))
    y = chainrule.tensor(g.integers(0, classes, size=n))
    return x, y


def classify_inputs(n=8, d=6, classes=4, dtype="float64", sizes=None):
    def inputs(i):
        m = sizes[i % len(sizes)] if sizes else n
        return batch(i, m, d, classes, dtype)
    return inputs


# ----------------------------------------------------------------------------- mixture of experts
class Expert(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, h), nn.Linear(h, d)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class TopKMoE(nn.Module):
    """Sparse MoE as in the Shazeer / Switch tutorials: route, keep top-k, loop experts, index_add back."""

    def __init__(self, d=6, h=8, n_experts=4, k=2, noisy=False):
        super().__init__()
        self.router = nn.Linear(d, n_experts)
        self.experts = nn.ModuleList([Expert(d, h) for _ in range(n_experts)])
        self.k, self.noisy = k, noisy
        self.noise = nn.Linear(d, n_experts) if noisy else None
        self.aux = None

    def forward(self, x):
        logits = self.router(x)
        if self.noisy and self.training:
            logits = logits + chainrule.randn_like(logits) * F.softplus(self.noise(x))
        scores, idx = chainrule.topk(logits, self.k, dim=-1)
        gates = F.softmax(scores, dim=-1)
        out = chainrule.zeros_like(x)
        for e, expert in enumerate(self.experts):
            token, slot = chainrule.nonzero(idx == e, as_tuple=True)
            if token.numel() == 0:
                continue
            y = expert(x.index_select(0, token)) * gates[token, slot].unsqueeze(-1)
            out = out.index_add(0, token, y)
        probs = F.softmax(logits, dim=-1)
        load = F.one_hot(idx[:, 0], len(self.experts)).to(x.dtype).mean(0)
        self.aux = len(self.experts) * (load * probs.mean(0)).sum()
        return out


class MoEClassifier(nn.Module):
    def __init__(self, d=6, classes=4, **kw):
        super().__init__()
        self.moe = TopKMoE(d, **kw)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        return self.head(x + self.moe(x))


def moe_step(model, opt, aux_weight=0.01):
    def step(x, y):
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits, y) + aux_weight * model.moe.aux
        loss.backward()
        opt.step()
        return loss, logits.argmax(-1)
    return step


def test_topk_moe_nonzero_index_add_dispatch_with_adam():
    def setup():
        model = MoEClassifier().double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        return Case(moe_step(model, opt), lambda: [model, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=6)


class MaskMoE(nn.Module):
    """Dispatch by boolean masks: x[mask] per expert, out[mask] += ... written back in place."""

    def __init__(self, d=6, n=3, k=1):
        super().__init__()
        self.gate = nn.Linear(d, n, bias=False)
        self.experts = nn.ModuleList([nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, d)) for _ in range(n)])
        self.k = k

    def forward(self, x):
        probs = F.softmax(self.gate(x), dim=-1)
        weights, chosen = probs.topk(self.k, dim=-1)
        weights = weights / weights.sum(-1, keepdim=True)
        out = chainrule.zeros_like(x)
        for i, expert in enumerate(self.experts):
            mask = (chosen == i).any(-1)
            if mask.any():
                w = (weights * (chosen == i).to(x.dtype)).sum(-1, keepdim=True)[mask]
                out[mask] += expert(x[mask]) * w
        return out, probs


def test_boolean_mask_dispatch_setitem_in_place():
    def setup():
        moe = MaskMoE().double()
        head = lin(6, 4)
        opt = optim.SGD(list(moe.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            out, probs = moe(x)
            loss = F.cross_entropy(head(out), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [moe, head, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=6)


class SwitchLayer(nn.Module):
    """Switch Transformer top-1 routing with an expert capacity: tokens past capacity are dropped."""

    def __init__(self, d=6, n=4, capacity_factor=1.0):
        super().__init__()
        self.n = n
        self.router = nn.Linear(d, n)
        self.experts = nn.ModuleList([nn.Linear(d, d) for _ in range(n)])
        self.capacity_factor = capacity_factor
        self.register_buffer("tokens_seen", chainrule.zeros(n, dtype=chainrule.int64))
        self.dropped = []

    def forward(self, x):
        tokens = x.shape[0]
        capacity = int(self.capacity_factor * tokens / self.n)
        probs = F.softmax(self.router(x), dim=-1)
        gate, expert_idx = probs.max(dim=-1)
        onehot = F.one_hot(expert_idx, self.n)
        position = chainrule.cumsum(onehot, dim=0) * onehot
        keep = (position.sum(-1) <= capacity) & (position.sum(-1) > 0)
        self.dropped.append(int((~keep).sum().item()))
        with chainrule.no_grad():
            self.tokens_seen += chainrule.bincount(expert_idx[keep], minlength=self.n)
        out = x.clone()
        for e in range(self.n):
            sel = chainrule.where((expert_idx == e) & keep)[0]
            if len(sel) > 0:
                out[sel] = gate[sel, None] * self.experts[e](x[sel])
        f = onehot.to(x.dtype).mean(0)
        p = probs.mean(0)
        self.aux = self.n * (f * p).sum()
        return out


def test_switch_capacity_factor_changed_between_calls():
    def setup():
        layer = SwitchLayer(capacity_factor=1.0).double()
        head = lin(6, 4)
        opt = optim.SGD(list(layer.parameters()) + list(head.parameters()), lr=0.2)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(head(layer(x)), y) + 0.1 * layer.aux
            loss.backward()
            opt.step()
            return loss, layer.tokens_seen

        def before(i):
            layer.capacity_factor = [1.0, 2.0, 0.5, 1.0, 4.0, 0.25][i]
        return Case(step, lambda: [layer, head, opt, list(layer.dropped)], inputs=classify_inputs(n=12), before=before)

    same_as_eager(setup, calls=6)


class DenseGateMoE(nn.Module):
    """Top-k gates scattered into a dense [tokens, experts] matrix; all experts run (soft MoE style)."""

    def __init__(self, d=6, n=4, k=2):
        super().__init__()
        self.w_gate = nn.Parameter(chainrule.zeros(d, n))
        self.experts = nn.ModuleList([nn.Linear(d, d) for _ in range(n)])
        self.k = k

    def forward(self, x):
        logits = x @ self.w_gate
        top_logits, top_idx = logits.topk(min(self.k + 1, len(self.experts)), dim=1)
        top_k_logits, top_k_idx = top_logits[:, :self.k], top_idx[:, :self.k]
        top_k_gates = F.softmax(top_k_logits, dim=1)
        gates = chainrule.zeros_like(logits).scatter(1, top_k_idx, top_k_gates)
        stacked = chainrule.stack([e(x) for e in self.experts], dim=1)
        importance = gates.sum(0)
        self.cv = importance.var() / (importance.mean() ** 2 + 1e-10)
        return (gates.unsqueeze(-1) * stacked).sum(1)


def test_dense_scatter_gates_cv_squared_loss():
    def setup():
        chainrule.manual_seed(3)
        moe = DenseGateMoE().double()
        nn.init.normal_(moe.w_gate)
        head = lin(6, 4)
        opt = optim.RMSprop(list(moe.parameters()) + list(head.parameters()), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(head(moe(x)), y) + 0.1 * moe.cv
            loss.backward()
            opt.step()
            return loss, moe.cv

        def before(i):
            moe.k = [2, 2, 1, 3, 2, 4][i]
        return Case(step, lambda: [moe, head, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- pruning
class SmallNet(nn.Module):
    def __init__(self, d=6, h=10, classes=4):
        super().__init__()
        self.fc1 = nn.Linear(d, h)
        self.fc2 = nn.Linear(h, h)
        self.fc3 = nn.Linear(h, classes)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def ce_step(model, opt):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def pruned_state(model):
    return [model, [(n, str(b.dtype), arr(b)) for n, b in model.named_buffers()]] + \
        [arr(m.weight) for m in (model.fc1, model.fc2, model.fc3)]


def test_l1_unstructured_applied_between_calls_growing_amount():
    def setup():
        model = SmallNet().double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i in (1, 3, 5):
                prune.l1_unstructured(model.fc1, "weight", amount=0.2)
                prune.l1_unstructured(model.fc2, "weight", amount=0.3)
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_random_unstructured_between_calls_uses_rng():
    def setup():
        model = SmallNet().double()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def before(i):
            if i in (1, 2, 4):
                prune.random_unstructured(model.fc2, "weight", amount=0.25)
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_global_unstructured_then_remove_between_calls():
    def setup():
        model = SmallNet().double()
        opt = optim.SGD(model.parameters(), lr=0.1)
        params = [(model.fc1, "weight"), (model.fc2, "weight"), (model.fc3, "weight")]

        def before(i):
            if i == 1:
                prune.global_unstructured(params, pruning_method=prune.L1Unstructured, amount=0.4)
            if i == 4:
                for m, name in params:
                    prune.remove(m, name)
        # opt holds the *_orig parameters: prune.remove keeps the same Parameter object
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_weight_mask_buffer_changed_in_place_between_calls():
    def setup():
        model = SmallNet().double()
        prune.identity(model.fc1, "weight")
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            if i in (2, 4):
                with chainrule.no_grad():
                    model.fc1.weight_mask[i % 10].zero_()
                    model.fc1.weight_mask[:, i % 6] = 0
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_custom_from_mask_mask_buffer_replaced_between_calls():
    def setup():
        model = SmallNet().double()
        g = np.random.default_rng(7)
        prune.custom_from_mask(model.fc2, "weight", chainrule.tensor((g.random((10, 10)) > 0.3).astype("float64")))
        opt = optim.Adam(model.parameters(), lr=0.02)

        def before(i):
            if i == 3:
                model.fc2.weight_mask = chainrule.tensor((g.random((10, 10)) > 0.6).astype("float64"))
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_ln_structured_rows_pruned_between_calls_float32():
    def setup():
        model = SmallNet()
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.5)

        def before(i):
            if i in (1, 3):
                prune.ln_structured(model.fc1, "weight", amount=0.3, n=2, dim=0)
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt],
                    inputs=classify_inputs(dtype="float32"), before=before)

    same_as_eager(setup, calls=6)


def test_handwritten_magnitude_pruning_mul_after_step():
    def setup():
        model = SmallNet().double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        masks = {}

        def before(i):
            if i in (1, 4):
                for name, p in model.named_parameters():
                    if p.dim() == 2:
                        threshold = p.detach().abs().flatten().kthvalue(int(0.3 * p.numel())).values
                        masks[name] = (p.detach().abs() > threshold).to(p.dtype)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            for name, p in model.named_parameters():
                if name in masks:
                    p.data.mul_(masks[name])
            return loss
        return Case(step, lambda: [model, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_old_spectral_norm_train_eval_toggled():
    def setup():
        model = SmallNet().double()
        spectral_norm(model.fc2)
        opt = optim.Adam(model.parameters(), lr=0.01)
        step = ce_step(model, opt)

        def maybe(x, y):
            if model.training:
                return step(x, y)
            with chainrule.no_grad():
                return F.cross_entropy(model(x), y)

        def before(i):
            model.train(i not in (2, 3))
        return Case(maybe, lambda: [model, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_parametrizations_weight_norm_and_spectral_norm():
    def setup():
        model = SmallNet().double()
        P.weight_norm(model.fc1)
        P.spectral_norm(model.fc2, n_power_iterations=2)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return Case(ce_step(model, opt), lambda: [model, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- distillation
def make_teacher(d=6, classes=4, seed=11, dropout=0.0, bn=False):
    chainrule.manual_seed(seed)
    layers = [nn.Linear(d, 16)]
    if bn:
        layers.append(nn.BatchNorm1d(16))
    layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, classes)]
    return nn.Sequential(*layers).double()


def kd_loss(student_logits, teacher_logits, y, T, alpha):
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=1), F.softmax(teacher_logits / T, dim=1),
                    reduction="batchmean") * (T * T)
    hard = F.cross_entropy(student_logits, y)
    return alpha * soft + (1 - alpha) * hard


class KD:
    def __init__(self, T=4.0, alpha=0.7):
        self.T, self.alpha = T, alpha


def kd_step(student, teacher, opt, cfg):
    def step(x, y):
        teacher.eval()
        with chainrule.no_grad():
            t = teacher(x)
        opt.zero_grad()
        s = student(x)
        loss = kd_loss(s, t, y, cfg.T, cfg.alpha)
        loss.backward()
        opt.step()
        return loss
    return step


def test_kd_temperature_changed_between_calls():
    def setup():
        teacher = make_teacher(dropout=0.3)
        student = lin(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.1)
        cfg = KD()

        def before(i):
            cfg.T = [4.0, 4.0, 2.0, 1.0, 8.0, 2.0][i]
        return Case(kd_step(student, teacher, opt, cfg), lambda: [student, teacher, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_kd_teacher_swapped_between_calls():
    def setup():
        teachers = [make_teacher(seed=s) for s in (1, 2, 3)]
        student = lin(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
        cfg = KD(T=2.0, alpha=0.5)
        holder = {"teacher": teachers[0]}

        def step(x, y):
            with chainrule.no_grad():
                t = holder["teacher"](x)
            opt.zero_grad()
            loss = kd_loss(student(x), t, y, cfg.T, cfg.alpha)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            holder["teacher"] = teachers[[0, 0, 1, 2, 1, 0][i]].eval()
        return Case(step, lambda: [student, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_kd_teacher_outputs_cached_by_batch_index():
    def setup():
        teacher = make_teacher(dropout=0.5)
        student = lin(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.1)
        cache = {}
        cfg = KD(T=3.0, alpha=0.6)
        order = [0, 1, 0, 2, 1, 0, 2]

        def step(idx, x, y):
            if idx not in cache:
                teacher.train()  # forgot eval(): dropout noise lands in the cached targets
                with chainrule.no_grad():
                    cache[idx] = teacher(x)
            opt.zero_grad()
            loss = kd_loss(student(x), cache[idx], y, cfg.T, cfg.alpha)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return (order[i],) + batch(order[i])
        return Case(step, lambda: [student, opt, sorted(cache)], inputs=inputs)

    same_as_eager(setup, calls=7)


def test_kd_log_target_kl_with_sum_reduction_float32():
    def setup():
        teacher = make_teacher().float()
        student = nn.Linear(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.05)
        T = {"T": 2.0}

        def step(x, y):
            with chainrule.no_grad():
                t = F.log_softmax(teacher(x) / T["T"], dim=-1)
            opt.zero_grad()
            s = F.log_softmax(student(x) / T["T"], dim=-1)
            loss = F.kl_div(s, t, reduction="sum", log_target=True) * T["T"] ** 2 / x.shape[0]
            loss.backward()
            opt.step()
            return loss

        def before(i):
            T["T"] = [2.0, 2.0, 5.0, 0.5, 2.0, 1.0][i]
        return Case(step, lambda: [student, opt], inputs=classify_inputs(dtype="float32", sizes=[8, 8, 4, 8, 6, 8]), before=before)

    same_as_eager(setup, calls=6)


def test_kd_nn_kldivloss_module_and_tensor_temperature():
    def setup():
        teacher = make_teacher(bn=True).eval()
        student = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)).double()
        opt = optim.SGD(student.parameters(), lr=0.1)
        criterion = nn.KLDivLoss(reduction="batchmean")
        temp = chainrule.tensor(3.0, dtype=chainrule.float64)

        def step(x, y):
            with chainrule.no_grad():
                t = teacher(x)
            opt.zero_grad()
            s = student(x)
            loss = criterion(F.log_softmax(s / temp, 1), F.softmax(t / temp, 1)) * temp ** 2
            loss = 0.5 * loss + 0.5 * F.cross_entropy(s, y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            temp.fill_([3.0, 3.0, 1.0, 6.0, 2.0, 2.0][i])
        return Case(step, lambda: [student, teacher, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_kd_teacher_left_in_train_mode_bn_running_stats():
    def setup():
        teacher = make_teacher(bn=True, dropout=0.2)
        student = lin(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.1)

        def step(x, y):
            with chainrule.no_grad():
                t = teacher(x)
            opt.zero_grad()
            loss = kd_loss(student(x), t, y, 4.0, 0.9)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            teacher.train(i % 3 != 2)
        return Case(step, lambda: [student, teacher, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_kd_feature_hint_loss_via_forward_hook():
    def setup():
        teacher = make_teacher().eval()
        student = nn.Sequential(nn.Linear(6, 12), nn.ReLU(), nn.Linear(12, 4)).double()
        regressor = nn.Linear(12, 16).double()
        feats = {}
        teacher[0].register_forward_hook(lambda m, i, o: feats.__setitem__("t", o))
        student[0].register_forward_hook(lambda m, i, o: feats.__setitem__("s", o))
        opt = optim.Adam(list(student.parameters()) + list(regressor.parameters()), lr=0.01)
        beta = {"b": 1.0}

        def step(x, y):
            with chainrule.no_grad():
                t = teacher(x)
            opt.zero_grad()
            s = student(x)
            hint = F.mse_loss(regressor(feats["s"]), feats["t"])
            loss = kd_loss(s, t, y, 2.0, 0.5) + beta["b"] * hint
            loss.backward()
            opt.step()
            return loss, hint

        def before(i):
            beta["b"] = [1.0, 1.0, 0.1, 0.0, 10.0, 1.0][i]
        return Case(step, lambda: [student, regressor, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_self_distillation_ema_teacher_updated_in_step():
    def setup():
        student = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 4)).double()
        teacher = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 4)).double()
        teacher.load_state_dict(student.state_dict())
        for p in teacher.parameters():
            p.requires_grad_(False)
        opt = optim.SGD(student.parameters(), lr=0.2)
        cfg = {"m": 0.9}

        def step(x, y):
            teacher.eval()
            with chainrule.no_grad():
                t = teacher(x)
            opt.zero_grad()
            loss = kd_loss(student(x), t, y, 2.0, 0.5)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                for pt, ps in zip(teacher.parameters(), student.parameters()):
                    pt.mul_(cfg["m"]).add_(ps, alpha=1 - cfg["m"])
            return loss

        def before(i):
            cfg["m"] = [0.9, 0.9, 0.99, 0.5, 0.0, 0.9][i]
        return Case(step, lambda: [student, teacher, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_kd_student_pruned_between_calls_teacher_distills():
    def setup():
        teacher = make_teacher().eval()
        student = SmallNet(h=8).double()
        opt = optim.SGD(student.parameters(), lr=0.1, momentum=0.9)
        cfg = KD(T=3.0, alpha=0.7)

        def before(i):
            if i in (2, 4):
                prune.l1_unstructured(student.fc2, "weight", amount=0.25)
            if i == 5:
                prune.remove(student.fc2, "weight")
        return Case(kd_step(student, teacher, opt, cfg), lambda: [student, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- fixed-shape MoE (replays)
class DenseDispatchMoE(nn.Module):
    """Every expert sees every token, weighted by a one-hot of the top-k choice: fixed shapes, so a
    compiled step can replay it. The aux loss and router probabilities are kept as attributes."""

    def __init__(self, d=6, n=4, k=2, noisy=False, noise_std=1.0):
        super().__init__()
        self.router = nn.Linear(d, n)
        self.experts = nn.ModuleList([Expert(d, 8) for _ in range(n)])
        self.k, self.noisy, self.noise_std = k, noisy, noise_std
        self.aux_history = []

    def forward(self, x):
        logits = self.router(x)
        if self.noisy and self.training:
            logits = logits + self.noise_std * chainrule.randn(logits.shape, dtype=logits.dtype)
        top, idx = chainrule.topk(logits, self.k, dim=-1)
        gates = F.softmax(top, dim=-1)
        weight = (F.one_hot(idx, len(self.experts)).to(x.dtype) * gates.unsqueeze(-1)).sum(1)
        out = chainrule.zeros_like(x)
        for e, expert in enumerate(self.experts):
            out = out + weight[:, e:e + 1] * expert(x)
        probs = F.softmax(logits, dim=-1)
        frac = (weight > 0).to(x.dtype).mean(0)
        self.aux = len(self.experts) * (frac * probs.mean(0)).sum()
        self.last_probs = probs.detach()
        return out


class DenseMoEClassifier(nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.moe = DenseDispatchMoE(**kw)
        self.head = nn.Linear(6, 4)

    def forward(self, x):
        return self.head(x + self.moe(x))


def dense_observe(model, opt):
    return lambda: [model, opt, model.moe.aux, model.moe.last_probs, len(model.moe.aux_history)]


def test_dense_moe_aux_attribute_read_after_each_call():
    def setup():
        model = DenseMoEClassifier().double()
        opt = optim.Adam(model.parameters(), lr=0.02)
        return Case(moe_step(model, opt, 0.05), dense_observe(model, opt), inputs=classify_inputs())

    same_as_eager(setup, calls=6)


def test_dense_moe_noisy_gating_noise_std_and_k_changed():
    def setup():
        model = DenseMoEClassifier(noisy=True).double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            model.moe.noise_std = [1.0, 1.0, 0.5, 0.0, 2.0, 1.0, 1.0][i]
            model.moe.k = [2, 2, 2, 1, 1, 3, 2][i]
        return Case(moe_step(model, opt), dense_observe(model, opt), inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_dense_moe_train_eval_noise_only_in_train():
    def setup():
        model = DenseMoEClassifier(noisy=True, k=1).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        step = moe_step(model, opt)

        def maybe(x, y):
            if model.training:
                return step(x, y)
            with chainrule.no_grad():
                return model(x).argmax(-1), model.moe.aux

        def before(i):
            model.train(i not in (2, 5))
        return Case(maybe, dense_observe(model, opt), inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_dense_moe_expert_frozen_between_calls():
    def setup():
        model = DenseMoEClassifier(k=2).double()
        opt = optim.Adam(model.parameters(), lr=0.02)

        def before(i):
            for e, expert in enumerate(model.moe.experts):
                expert.requires_grad_(not (i >= 2 and e == i % 4))
        return Case(moe_step(model, opt), dense_observe(model, opt), inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


class GShardMoE(nn.Module):
    """GShard/Switch einsum dispatch with a [tokens, experts, capacity] tensor; tokens past capacity
    are dropped (their dispatch row is all zeros), all with fixed shapes."""

    def __init__(self, d=6, n=3, capacity=3):
        super().__init__()
        self.n, self.capacity = n, capacity
        self.wg = nn.Linear(d, n, bias=False)
        self.w1 = nn.Parameter(chainrule.randn(n, d, 8) * 0.3)
        self.w2 = nn.Parameter(chainrule.randn(n, 8, d) * 0.3)

    def forward(self, x):
        probs = F.softmax(self.wg(x), dim=-1)
        gate, idx = probs.max(-1)
        mask = F.one_hot(idx, self.n).to(x.dtype)
        position = (chainrule.cumsum(mask, dim=0) - 1) * mask
        keep = mask * (position < self.capacity).to(x.dtype)
        pos = (position * keep).sum(-1).long()
        combine = (gate * keep.sum(-1)).unsqueeze(-1).unsqueeze(-1) * keep.unsqueeze(-1) * \
            F.one_hot(pos, self.capacity).to(x.dtype).unsqueeze(1)
        dispatch = (combine > 0).to(x.dtype)
        expert_in = chainrule.einsum("tec,td->ecd", dispatch, x)
        h = F.relu(chainrule.einsum("ecd,edh->ech", expert_in, self.w1))
        expert_out = chainrule.einsum("ech,ehd->ecd", h, self.w2)
        self.aux = self.n * (mask.mean(0) * probs.mean(0)).sum()
        self.kept = keep.sum()
        return chainrule.einsum("tec,ecd->td", combine, expert_out)


def test_gshard_einsum_dispatch_capacity_changed():
    def setup():
        moe = GShardMoE().double()
        head = lin(6, 4)
        opt = optim.Adam(list(moe.parameters()) + list(head.parameters()), lr=0.02)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(head(x + moe(x)), y) + 0.01 * moe.aux
            loss.backward()
            opt.step()
            return loss, moe.kept

        def before(i):
            moe.capacity = [3, 3, 2, 4, 1, 3, 3][i]
        return Case(step, lambda: [moe, head, opt, moe.aux], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_gshard_einsum_float32_batch_size_changes():
    def setup():
        moe = GShardMoE(n=4, capacity=4)
        head = nn.Linear(6, 4)
        opt = optim.SGD(list(moe.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(head(x + moe(x)), y) + 0.1 * moe.aux
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [moe, head, opt, moe.kept], inputs=classify_inputs(dtype="float32", sizes=[8, 8, 12, 8, 4, 12]))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- pruning (more)
def test_weight_orig_data_replaced_between_calls():
    def setup():
        model = SmallNet().double()
        prune.l1_unstructured(model.fc1, "weight", amount=0.3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            if i == 3:
                model.fc1.weight_orig.data = model.fc1.weight_orig.data * 0.5
            if i == 5:
                with chainrule.no_grad():
                    model.fc1.weight_orig.copy_(chainrule.ones_like(model.fc1.weight_orig) * 0.1)
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=7)


def test_bool_mask_masked_fill_in_step_mask_flipped_between_calls():
    def setup():
        model = SmallNet().double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        keep = model.fc2.weight.detach().abs() > 0.1

        def before(i):
            if i in (2, 4):
                keep[i] = ~keep[i]

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                model.fc2.weight.masked_fill_(~keep, 0.0)
            return loss
        return Case(step, lambda: [model, opt, keep], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_pruning_forward_pre_hook_rebinds_data():
    def setup():
        model = SmallNet().double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        masks = {"fc1": chainrule.ones_like(model.fc1.weight)}

        def hook(module, inputs):
            module.weight.data = module.weight.data * masks["fc1"]
        model.fc1.register_forward_pre_hook(hook)

        def before(i):
            if i == 2:
                w = model.fc1.weight.detach().abs()
                masks["fc1"] = (w > w.median()).to(w.dtype)
        return Case(ce_step(model, opt), lambda: [model, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_weight_norm_g_edited_in_place_between_calls():
    def setup():
        model = SmallNet().double()
        with warnings.catch_warnings():  # the old hook API is deprecated, as in PyTorch
            warnings.simplefilter("ignore", FutureWarning)
            weight_norm(model.fc2, name="weight")
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            if i in (2, 4):
                with chainrule.no_grad():
                    model.fc2.weight_g.fill_(1.0)
        return Case(ce_step(model, opt), lambda: [model, opt, model.fc2.weight], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_orthogonal_weight_assigned_through_right_inverse_between_calls():
    def setup():
        model = SmallNet().double()
        P.orthogonal(model.fc2)
        opt = optim.SGD(model.parameters(), lr=0.05)

        def before(i):
            if i == 3:
                with chainrule.no_grad():
                    model.fc2.weight = chainrule.eye(10, dtype=chainrule.float64)
        return Case(ce_step(model, opt), lambda: [model, opt, model.fc2.weight], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_parametrize_cached_context_in_step_with_spectral_norm():
    from chainrule.nn.utils import parametrize

    def setup():
        model = SmallNet().double()
        P.spectral_norm(model.fc1)
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            with parametrize.cached():
                loss = F.cross_entropy(model(x), y) + 0.1 * F.cross_entropy(model(x * 0.5), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [model, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- distillation (more)
def test_kd_inference_mode_teacher_and_student_eval_between():
    def setup():
        teacher = make_teacher(dropout=0.3).eval()
        student = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 4)).double()
        opt = optim.SGD(student.parameters(), lr=0.1)

        def step(x, y):
            with chainrule.inference_mode():
                t = teacher(x)
            if not student.training:
                with chainrule.no_grad():
                    return (student(x).argmax(1) == t.argmax(1)).float().mean()
            opt.zero_grad()
            loss = kd_loss(student(x), t.clone(), y, 4.0, 0.9)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            student.train(i not in (2, 5))
        return Case(step, lambda: [student, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- more routing, pruning, distillation
def test_zero_init_router_ties():
    def setup():
        model = DenseMoEClassifier(k=2).double()
        nn.init.zeros_(model.moe.router.weight)
        nn.init.zeros_(model.moe.router.bias)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            if i == 3:
                with chainrule.no_grad():
                    model.moe.router.weight.zero_()
                    model.moe.router.bias.zero_()
        return Case(moe_step(model, opt), dense_observe(model, opt), inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_expert_choice_routing():
    def setup():
        router = lin(6, 3)
        experts = nn.ModuleList([lin(6, 6) for _ in range(3)])
        head = lin(6, 4)
        opt = optim.SGD(list(router.parameters()) + list(experts.parameters()) + list(head.parameters()), lr=0.1)
        cfg = {"cf": 1.0}

        def step(x, y):
            opt.zero_grad()
            scores = F.softmax(router(x), dim=-1)           # [T, E]
            c = max(1, int(cfg["cf"] * x.shape[0] / 3))
            g, tok = scores.t().topk(c, dim=-1)             # [E, c]
            out = chainrule.zeros_like(x)
            for e in range(3):
                ye = experts[e](x[tok[e]]) * g[e].unsqueeze(-1)
                out = out.index_add(0, tok[e], ye)
            loss = F.cross_entropy(head(out + x), y)
            loss.backward()
            opt.step()
            return loss, tok
        def before(i):
            cfg["cf"] = [1.0, 1.0, 2.0, 0.5, 1.0, 3.0][i]
        return Case(step, lambda: [router, experts, head, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_histc_and_gumbel_routing():
    def setup():
        router = lin(6, 4)
        experts = nn.ModuleList([lin(6, 6) for _ in range(4)])
        head = lin(6, 4)
        opt = optim.Adam(list(router.parameters()) + list(experts.parameters()) + list(head.parameters()), lr=0.01)
        cfg = {"tau": 1.0}

        def step(x, y):
            opt.zero_grad()
            logits = router(x)
            w = F.gumbel_softmax(logits, tau=cfg["tau"], hard=True)
            out = sum(w[:, e:e + 1] * experts[e](x) for e in range(4))
            hist = chainrule.histc(w.argmax(-1).double(), bins=4, min=0, max=3)
            loss = F.cross_entropy(head(out), y) + 0.01 * (hist / x.shape[0] * F.softmax(logits, -1).mean(0)).sum()
            loss.backward()
            opt.step()
            return loss, hist
        def before(i):
            cfg["tau"] = [1.0, 1.0, 0.5, 2.0, 1.0, 0.1][i]
        return Case(step, lambda: [router, experts, head, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_multinomial_stochastic_routing():
    def setup():
        router = lin(6, 3)
        experts = nn.ModuleList([lin(6, 6) for _ in range(3)])
        head = lin(6, 4)
        opt = optim.SGD(list(router.parameters()) + list(experts.parameters()) + list(head.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            p = F.softmax(router(x), -1)
            choice = chainrule.multinomial(p, 1).squeeze(1)
            g = p.gather(1, choice[:, None])
            mask = F.one_hot(choice, 3).to(x.dtype) * g
            out = sum(mask[:, e:e + 1] * experts[e](x) for e in range(3))
            loss = F.cross_entropy(head(out), y)
            loss.backward()
            opt.step()
            return loss, choice
        return Case(step, lambda: [router, experts, head, opt], inputs=classify_inputs())

    same_as_eager(setup, calls=6)


def test_temperature_numpy_and_tensor_scalar_float32():
    def setup():
        teacher = make_teacher().float().eval()
        student = nn.Linear(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.1)
        cfg = KD(T=2.0, alpha=0.5)

        def before(i):
            cfg.T = [2.0, 2.0, np.float64(2.0), 2, chainrule.tensor(2.0), np.float32(2.0), 2.0][i]
        return Case(kd_step(student, teacher, opt, cfg), lambda: [student, opt], inputs=classify_inputs(dtype="float32"), before=before)

    same_as_eager(setup, calls=7)


def test_cached_teacher_mutated_in_place_between():
    def setup():
        teacher = make_teacher().eval()
        with chainrule.no_grad():
            table = {j: teacher(batch(j)[0]) for j in range(2)}
        student = lin(6, 4)
        opt = optim.SGD(student.parameters(), lr=0.1)
        order = [0, 1, 0, 1, 0, 1]

        def step(idx, x, y):
            opt.zero_grad()
            loss = kd_loss(student(x), table[idx], y, 2.0, 0.7)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                table[1].mul_(3.0)
            if i == 4:
                table[0].data = table[0].data.flip(1)

        def inputs(i):
            return (order[i],) + batch(order[i])
        return Case(step, lambda: [student, opt], inputs=inputs, before=before)

    same_as_eager(setup, calls=6)


def test_mask_dtype_bool_swapped():
    def setup():
        model = SmallNet().double()
        prune.l1_unstructured(model.fc2, "weight", amount=0.3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                model.fc2.weight_mask = model.fc2.weight_mask.bool()
            if i == 4:
                model.fc2.weight_mask = model.fc2.weight_mask.float()
        return Case(ce_step(model, opt), lambda: pruned_state(model) + [opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_kthvalue_prune_inside_step_k_attr():
    def setup():
        model = SmallNet().double()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        cfg = {"sparsity": 0.2}

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                for p in (model.fc1.weight, model.fc2.weight):
                    k = max(1, int(cfg["sparsity"] * p.numel()))
                    thr = p.abs().flatten().kthvalue(k).values
                    p.mul_((p.abs() > thr).to(p.dtype))
                q = chainrule.quantile(model.fc3.weight.abs(), cfg["sparsity"])
                model.fc3.weight.copy_(chainrule.where(model.fc3.weight.abs() < q, chainrule.zeros_like(model.fc3.weight), model.fc3.weight))
            return loss
        def before(i):
            cfg["sparsity"] = [0.2, 0.2, 0.4, 0.4, 0.6, 0.1][i]
        return Case(step, lambda: [model, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_noisy_gating_own_generator_and_shared_expert():
    def setup():
        gen = chainrule.Generator().manual_seed(42)
        shared = lin(6, 6)
        router = lin(6, 3)
        experts = nn.ModuleList([shared, lin(6, 6), shared])
        head = lin(6, 4)
        opt = optim.Adam(list(router.parameters()) + list(experts.parameters()) + list(head.parameters()), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            logits = router(x)
            logits = logits + chainrule.randn(logits.shape, generator=gen, dtype=logits.dtype)
            s, idx = logits.topk(2, -1)
            w = chainrule.zeros_like(logits).scatter(1, idx, F.softmax(s, -1))
            out = sum(w[:, e:e + 1] * experts[e](x) for e in range(3))
            loss = F.cross_entropy(head(out), y)
            loss.backward()
            opt.step()
            return loss, idx

        def before(i):
            if i == 3:
                gen.manual_seed(42)
        return Case(step, lambda: [router, experts, head, opt, gen.get_state()], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)


def test_spectral_parametrization_eval_then_train():
    def setup():
        model = SmallNet().double()
        P.spectral_norm(model.fc2)
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = ce_step(model, opt)

        def maybe(x, y):
            if model.training:
                return step(x, y)
            with chainrule.no_grad():
                return model(x)
        def before(i):
            model.train(i not in (0, 3))
        return Case(maybe, lambda: [model, opt], inputs=classify_inputs(), before=before)

    same_as_eager(setup, calls=6)
