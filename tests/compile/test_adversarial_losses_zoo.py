"""chainrule.compile against eager execution for the LOSS ZOO in compiled training steps, with the
losses' options changed between calls or mutated in place: CrossEntropyLoss (class weight edited in
place, ignore_index present or absent in the batch, label_smoothing changed, probability and index
targets alternating, reduction switched, (N, C, d1, d2) scores), NLLLoss after log_softmax,
BCELoss / BCEWithLogitsLoss (weight, pos_weight broadcasting, soft labels), MSE / L1 / SmoothL1 (beta)
/ Huber (delta), KLDivLoss (log_target, 'batchmean'), PoissonNLLLoss, GaussianNLLLoss (var
broadcasting, full, eps), the margin and embedding losses, TripletMarginWithDistanceLoss with its
distance function swapped, the multi-label and multi-margin losses, CTCLoss, losses weighted from a
Python list indexed by the epoch, losses built inside the step, float32 and float64, batches of one
and of none.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""

import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.harness import Case, same_as_eager


# ----------------------------------------------------------------------------- helpers
def T(a, dtype=None):
    t = chainrule.tensor(a)
    return t if dtype is None else t.to(dtype)


def rng(i, base=100):
    return np.random.default_rng(base + i)


def classify_inputs(n=6, d=5, c=4, dtype=None, sizes=None):
    def inputs(i):
        g = rng(i)
        m = sizes[i % len(sizes)] if sizes else n
        return T(g.standard_normal((m, d)), dtype), T(g.integers(0, c, size=m))
    return inputs


def regress_inputs(n=6, d=3, o=2, sizes=None, dtype=None):
    def inputs(i):
        g = rng(i)
        m = sizes[i % len(sizes)] if sizes else n
        return T(g.standard_normal((m, d)), dtype), T(g.standard_normal((m, o)), dtype)
    return inputs


def step_with(net, opt, crit):
    def step(x, y):
        opt.zero_grad()
        loss = crit(net(x), y)
        total = loss if loss.ndim == 0 else loss.sum()
        total.backward()
        opt.step()
        return loss
    return step


def mlp(d=5, c=4, h=8):
    return nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Linear(h, c)).double()


# ----------------------------------------------------------------------------- CrossEntropyLoss
def test_cross_entropy_weight_edited_in_place_between_calls():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=T([1.0, 2.0, 0.5, 1.0]))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            with chainrule.no_grad():
                if i == 2:
                    crit.weight.mul_(2.0)
                if i == 3:
                    crit.weight[1] = 0.0
                if i == 5:
                    crit.weight.fill_(1.0)
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], classify_inputs(), before)

    same_as_eager(setup, calls=7)


def test_cross_entropy_class_weights_recomputed_from_running_counts():
    # class-balanced weights: inverse frequency of the labels seen so far, copied into the buffer
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=chainrule.ones(4, dtype=chainrule.float64))
        opt = optim.Adam(net.parameters(), lr=0.01)
        counts = np.ones(4)
        inputs = classify_inputs()

        def before(i):
            _, y = inputs(i)
            counts[:] += np.bincount(y.numpy(), minlength=4)
            with chainrule.no_grad():
                crit.weight.copy_(T(counts.sum() / (4 * counts)))
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_cross_entropy_ignore_index_present_or_absent_in_batch():
    labels = [[0, 1, 2, 3, 1, 0], [0, -100, 2, -100, 1, 3], [1, 1, 1, 1, 1, 1], [-100, 2, -100, -100, -100, -100],
              [3, 2, 1, 0, 3, 2], [-100] * 6, [0, 1, -100, 3, 2, 1]]

    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def inputs(i):
            return T(rng(i).standard_normal((6, 5))), T(np.array(labels[i]))
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_cross_entropy_custom_ignore_index_with_weight_and_padding_tokens():
    # a tiny language-model head: PAD=0 ignored, weight on the vocabulary
    pads = [[0, 0], [3, 5], [], [0, 1, 2, 3, 4, 5, 6, 7], [7], [2, 4]]

    def setup():
        emb = nn.Embedding(6, 4).double()
        head = nn.Linear(4, 6).double()
        crit = nn.CrossEntropyLoss(ignore_index=0, weight=T(np.linspace(0.5, 1.5, 6)))
        opt = optim.Adam(list(emb.parameters()) + list(head.parameters()), lr=0.02)

        def step(tokens, targets):
            opt.zero_grad()
            logits = head(emb(tokens))
            loss = crit(logits.reshape(-1, 6), targets.reshape(-1))
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            tok = g.integers(1, 6, size=(2, 4))
            tgt = g.integers(1, 6, size=(2, 4)).reshape(-1)
            tgt[pads[i]] = 0
            return T(tok), T(tgt.reshape(2, 4))
        return Case(step, lambda: [emb, head, opt], inputs)

    same_as_eager(setup, calls=6)


def test_cross_entropy_label_smoothing_changed_between_calls():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(label_smoothing=0.1)
        opt = optim.SGD(net.parameters(), lr=0.1)
        values = [0.1, 0.1, 0.0, 0.2, 0.2, 1.0, 0.05]

        def before(i):
            crit.label_smoothing = values[i]
        return Case(step_with(net, opt, crit), lambda: [net, opt], classify_inputs(), before)

    same_as_eager(setup, calls=7)


def test_cross_entropy_label_smoothing_with_weight_and_ignored_targets():
    labels = [[0, 1, -100, 3], [0, 1, 2, 3], [-100, -100, 2, 2], [1, 0, 3, -100], [2, 2, 2, 2]]

    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=T([0.2, 1.0, 3.0, 1.0]), label_smoothing=0.15)
        opt = optim.SGD(net.parameters(), lr=0.05)

        def before(i):
            crit.label_smoothing = [0.15, 0.15, 0.3, 0.0, 0.3][i]

        def inputs(i):
            return T(rng(i).standard_normal((4, 5))), T(np.array(labels[i]))
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=5)


def test_cross_entropy_probability_targets_alternating_with_index_targets():
    # mixup on even calls (soft targets), plain labels on odd calls
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.5)

        def inputs(i):
            g = rng(i)
            x = T(g.standard_normal((6, 5)))
            y = g.integers(0, 4, size=6)
            if i % 2 == 0:
                lam = 0.3 + 0.1 * i
                onehot = np.eye(4)[y]
                return x, T(lam * onehot + (1 - lam) * onehot[::-1].copy())
            return x, T(y)
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_cross_entropy_probability_targets_with_label_smoothing_and_weight():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=T([1.0, 0.5, 2.0, 1.5]), label_smoothing=0.1)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.label_smoothing = [0.1, 0.1, 0.4, 0.0, 0.1, 0.1][i]
            crit.reduction = ["mean", "mean", "sum", "mean", "none", "mean"][i]

        def inputs(i):
            g = rng(i)
            p = g.random((6, 4))
            return T(g.standard_normal((6, 5))), T(p / p.sum(1, keepdims=True))
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_cross_entropy_reduction_switched_on_module_between_calls():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def before(i):
            crit.reduction = ["mean", "sum", "none", "mean", "none", "sum", "mean"][i]
        return Case(step_with(net, opt, crit), lambda: [net, opt], classify_inputs(), before)

    same_as_eager(setup, calls=7)


def test_cross_entropy_reduction_passed_functionally_from_argument():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y, reduction):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y, reduction=reduction)
            (loss.mean() if reduction == "none" else loss).backward()
            opt.step()
            return loss

        def inputs(i):
            x, y = classify_inputs()(i)
            return x, y, ["sum", "sum", "mean", "none", "sum", "none"][i]
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_cross_entropy_segmentation_kdim_input_with_void_label():
    # (N, C, H, W) scores from a 1x1-conv head, 255 = void as in VOC
    def setup():
        conv = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 4, 1)).double()
        crit = nn.CrossEntropyLoss(ignore_index=255, weight=T([0.5, 1.0, 1.0, 2.0]))
        opt = optim.SGD(conv.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            if i == 3:
                crit.reduction = "sum"
            with chainrule.no_grad():
                if i == 4:
                    crit.weight[0] = 0.0

        def inputs(i):
            g = rng(i)
            h, w = [(5, 5), (5, 5), (4, 6), (5, 5), (5, 5), (3, 3)][i]
            y = g.integers(0, 4, size=(2, h, w))
            y[g.random((2, h, w)) < 0.2 * (i % 3)] = 255
            return T(g.standard_normal((2, 3, h, w))), T(y)
        return Case(step_with(conv, opt, crit), lambda: [conv, crit, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_cross_entropy_kdim_probability_targets_and_none_reduction():
    def setup():
        conv = nn.Conv1d(3, 4, 3, padding=1).double()
        crit = nn.CrossEntropyLoss(reduction="none")
        opt = optim.SGD(conv.parameters(), lr=0.05)

        def inputs(i):
            g = rng(i)
            x = T(g.standard_normal((2, 3, 7)))
            if i % 3 == 1:
                p = g.random((2, 4, 7))
                return x, T(p / p.sum(1, keepdims=True))
            return x, T(g.integers(0, 4, size=(2, 7)))
        return Case(step_with(conv, opt, crit), lambda: [conv, opt], inputs)

    same_as_eager(setup, calls=6)


def test_cross_entropy_targets_int32_then_int64():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def inputs(i):
            x, y = classify_inputs()(i)
            return x, (y.to(chainrule.int32) if i % 2 else y)
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_cross_entropy_weight_replaced_then_removed():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=T([1.0, 1.0, 2.0, 2.0]))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                crit.weight = T([3.0, 1.0, 1.0, 1.0])
            if i == 4:
                crit.weight = None
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], classify_inputs(), before)

    same_as_eager(setup, calls=6)


def test_focal_loss_from_unreduced_cross_entropy_with_gamma_schedule():
    def setup():
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.01)
        gammas = [0.0, 2.0, 2.0, 1.0, 5.0, 2.0]
        cfg = {"gamma": 0.0, "alpha": T([0.25, 0.75, 0.5, 0.5])}

        def before(i):
            cfg["gamma"] = gammas[i]

        def step(x, y):
            opt.zero_grad()
            ce = F.cross_entropy(net(x), y, reduction="none")
            pt = chainrule.exp(-ce)
            loss = (cfg["alpha"][y] * (1 - pt) ** cfg["gamma"] * ce).mean()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], classify_inputs(), before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- NLLLoss
def test_nll_loss_after_log_softmax_with_ignore_index_and_weight_changed():
    def setup():
        net = nn.Sequential(mlp(), nn.LogSoftmax(dim=1))
        crit = nn.NLLLoss(weight=T([1.0, 2.0, 1.0, 0.5]), ignore_index=2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.ignore_index = [2, 2, 3, -100, 2, 0][i]
            with chainrule.no_grad():
                if i == 3:
                    crit.weight.add_(1.0)
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], classify_inputs(), before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- BCE
def test_bce_with_sigmoid_soft_labels_and_per_sample_weight_edited():
    def setup():
        net = nn.Sequential(nn.Linear(3, 1), nn.Sigmoid()).double()
        crit = nn.BCELoss(weight=T(np.ones((6, 1))))
        opt = optim.SGD(net.parameters(), lr=0.5)

        def before(i):
            with chainrule.no_grad():
                crit.weight[i % 6, 0] = 3.0

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((6, 3))), T(np.clip(g.random((6, 1)), 0.05, 0.95))
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_bce_with_logits_pos_weight_broadcast_and_edited_in_place():
    def setup():
        net = mlp(5, 3)
        crit = nn.BCEWithLogitsLoss(pos_weight=T([1.0, 3.0, 0.5]))
        opt = optim.Adam(net.parameters(), lr=0.02)

        def before(i):
            with chainrule.no_grad():
                if i == 2:
                    crit.pos_weight.mul_(2.0)
                if i == 4:
                    crit.pos_weight.copy_(T([1.0, 1.0, 1.0]))

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((4, 5))), T((g.random((4, 3)) > 0.5).astype(float) * 0.9 + 0.05)
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_bce_with_logits_weight_and_pos_weight_on_kdim_multilabel():
    def setup():
        conv = nn.Conv1d(2, 3, 1).double()
        crit = nn.BCEWithLogitsLoss(weight=T(np.ones((1, 3, 1))), pos_weight=T(np.array([[2.0]]).repeat(3, 0)))
        opt = optim.SGD(conv.parameters(), lr=0.1)

        def before(i):
            crit.reduction = ["mean", "none", "sum", "mean", "mean"][i]
            with chainrule.no_grad():
                crit.weight[0, i % 3, 0] = 0.25

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((2, 2, 5))), T(g.random((2, 3, 5)))
        return Case(step_with(conv, opt, crit), lambda: [conv, crit, opt], inputs, before)

    same_as_eager(setup, calls=5)


# ----------------------------------------------------------------------------- regression losses
def test_regression_criteria_swapped_by_name_between_calls():
    def setup():
        net = nn.Linear(3, 2).double()
        crits = {"mse": nn.MSELoss(), "l1": nn.L1Loss(), "smooth": nn.SmoothL1Loss(beta=0.5), "huber": nn.HuberLoss(delta=0.3)}
        opt = optim.SGD(net.parameters(), lr=0.1)
        names = ["mse", "l1", "mse", "smooth", "huber", "l1", "smooth"]

        def step(x, y, name):
            opt.zero_grad()
            loss = crits[name](net(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return regress_inputs()(i) + (names[i],)
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_smooth_l1_beta_changed_between_calls_including_zero():
    def setup():
        net = nn.Linear(3, 2).double()
        crit = nn.SmoothL1Loss(beta=1.0)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.beta = [1.0, 1.0, 0.1, 0.0, 2.0, 1e-3][i]
        return Case(step_with(net, opt, crit), lambda: [net, opt], regress_inputs(), before)

    same_as_eager(setup, calls=6)


def test_mse_and_l1_float32_and_float64_batches_alternate():
    def setup():
        net32 = nn.Linear(3, 2)
        net64 = nn.Linear(3, 2).double()
        crit = nn.MSELoss()
        l1 = nn.L1Loss()
        opt = optim.SGD(list(net32.parameters()) + list(net64.parameters()), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            net = net64 if x.dtype == chainrule.float64 else net32
            out = net(x)
            loss = crit(out, y) + 0.5 * l1(out, y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return regress_inputs(dtype=[chainrule.float64, chainrule.float32][i % 2])(i)
        return Case(step, lambda: [net32, net64, opt], inputs)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- distributional losses
def test_kl_div_log_target_toggled_batchmean_distillation():
    def setup():
        student = mlp()
        teacher = mlp()
        crit = nn.KLDivLoss(reduction="batchmean")
        opt = optim.SGD(student.parameters(), lr=0.1)
        temps = [1.0, 2.0, 2.0, 4.0, 1.0, 3.0]

        def before(i):
            crit.log_target = i % 2 == 1

        def step(x, y, temp):
            opt.zero_grad()
            logp = F.log_softmax(student(x) / temp, dim=1)
            with chainrule.no_grad():
                t = teacher(x) / temp
                target = F.log_softmax(t, dim=1) if crit.log_target else F.softmax(t, dim=1)
            loss = crit(logp, target) * temp ** 2 + F.cross_entropy(student(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return classify_inputs()(i) + (temps[i],)
        return Case(step, lambda: [student, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_kl_div_reduction_switched_and_zero_target_probabilities():
    def setup():
        net = mlp()
        crit = nn.KLDivLoss(reduction="batchmean")
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.reduction = ["batchmean", "sum", "mean", "none", "batchmean"][i]

        def inputs(i):
            g = rng(i)
            p = g.random((3, 4))
            p[:, i % 4] = 0.0
            return T(g.standard_normal((3, 5))), T(p / p.sum(1, keepdims=True))

        def step(x, p):
            opt.zero_grad()
            loss = crit(F.log_softmax(net(x), dim=-1), p)
            (loss if loss.ndim == 0 else loss.sum()).backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=5)


def test_poisson_nll_log_input_and_full_toggled():
    def setup():
        net = nn.Linear(3, 1).double()
        crit = nn.PoissonNLLLoss()
        opt = optim.SGD(net.parameters(), lr=0.02)

        def before(i):
            crit.full = i in (1, 3, 4)
            crit.log_input = i not in (2, 3)

        def step(x, counts):
            opt.zero_grad()
            out = net(x)
            rate = out if crit.log_input else F.softplus(out)
            loss = crit(rate, counts)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((8, 3))), T(g.poisson(2.0, size=(8, 1)).astype(float))
        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_gaussian_nll_var_broadcasting_full_and_eps():
    def setup():
        mean_head = nn.Linear(3, 2).double()
        var_head = nn.Linear(3, 2).double()
        crit = nn.GaussianNLLLoss()
        opt = optim.Adam(list(mean_head.parameters()) + list(var_head.parameters()), lr=0.01)
        shapes = ["full", "one", "full", "homo", "one", "full"]

        def before(i):
            crit.full = i % 2 == 1
            crit.eps = [1e-6, 1e-6, 1e-2, 1e-6, 0.5, 1e-6][i]

        def step(x, y, shape):
            opt.zero_grad()
            var = F.softplus(var_head(x))
            if shape == "one":
                var = var[:, :1]
            elif shape == "homo":
                var = var.mean(dim=1)
            loss = crit(mean_head(x), y, var)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return regress_inputs()(i) + (shapes[i],)
        return Case(step, lambda: [mean_head, var_head, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- margin and embedding losses
def test_margin_ranking_loss_margin_changed_and_ties():
    def setup():
        scorer = nn.Linear(4, 1).double()
        crit = nn.MarginRankingLoss(margin=0.5)
        opt = optim.SGD(scorer.parameters(), lr=0.1)

        def before(i):
            crit.margin = [0.5, 0.5, 0.0, 1.0, 2.0, 0.1][i]

        def step(a, b, y):
            opt.zero_grad()
            loss = crit(scorer(a).squeeze(1), scorer(b).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            a = g.standard_normal((5, 4))
            b = a.copy() if i == 3 else g.standard_normal((5, 4))
            return T(a), T(b), T(np.sign(g.standard_normal(5)))
        return Case(step, lambda: [scorer, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_hinge_and_cosine_embedding_losses_with_margin_schedule():
    def setup():
        enc = nn.Linear(4, 3).double()
        hinge = nn.HingeEmbeddingLoss(margin=1.0)
        cosine = nn.CosineEmbeddingLoss(margin=0.0)
        opt = optim.SGD(enc.parameters(), lr=0.1)

        def before(i):
            hinge.margin = [1.0, 1.0, 2.0, 0.5, 0.5, 3.0][i]
            cosine.margin = [0.0, 0.2, 0.2, -0.5, 0.5, 0.0][i]

        def step(a, b, y):
            opt.zero_grad()
            za, zb = enc(a), enc(b)
            dist = (za - zb).norm(dim=1)
            loss = hinge(dist, y) + cosine(za, zb, y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            y = np.where(g.random(6) < [0.5, 0.0, 1.0, 0.5, 0.3, 0.7][i], 1.0, -1.0)
            return T(g.standard_normal((6, 4))), T(g.standard_normal((6, 4))), T(y)
        return Case(step, lambda: [enc, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_triplet_margin_loss_swap_and_p_changed():
    def setup():
        enc = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 3)).double()
        crit = nn.TripletMarginLoss(margin=1.0, p=2)
        opt = optim.SGD(enc.parameters(), lr=0.05)

        def before(i):
            crit.swap = i in (1, 2, 5)
            crit.p = [2, 2, 1, 1, 3, 2][i]
            crit.margin = [1.0, 1.0, 0.5, 2.0, 1.0, 0.2][i]

        def step(a, p, n):
            opt.zero_grad()
            loss = crit(enc(a), enc(p), enc(n))
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            a = g.standard_normal((5, 4))
            return T(a), T(a + 0.1 * g.standard_normal((5, 4))), T(g.standard_normal((5, 4)))
        return Case(step, lambda: [enc, opt], inputs, before)

    same_as_eager(setup, calls=6)


def cosine_distance(x, y):
    return 1.0 - F.cosine_similarity(x, y)


def test_triplet_margin_with_distance_function_swapped_between_calls():
    def setup():
        enc = nn.Linear(4, 3).double()
        crit = nn.TripletMarginWithDistanceLoss(distance_function=F.pairwise_distance, margin=0.5)
        opt = optim.SGD(enc.parameters(), lr=0.05)
        dists = [F.pairwise_distance, cosine_distance, lambda x, y: (x - y).abs().sum(-1),
                 lambda x, y: F.pairwise_distance(x, y, p=1), cosine_distance, lambda x, y: ((x - y) ** 2).sum(-1)]

        def before(i):
            crit.distance_function = dists[i]
            crit.swap = i >= 3

        def step(a, p, n):
            opt.zero_grad()
            loss = crit(enc(a), enc(p), enc(n))
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((5, 4))), T(g.standard_normal((5, 4))), T(g.standard_normal((5, 4)))
        return Case(step, lambda: [enc, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- multi-label / multi-class margin
def test_multilabel_soft_margin_weight_edited_and_soft_targets():
    def setup():
        net = mlp(5, 4)
        crit = nn.MultiLabelSoftMarginLoss(weight=T([1.0, 1.0, 1.0, 1.0]))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            with chainrule.no_grad():
                crit.weight[i % 4] = 0.1 * (i + 1)

        def inputs(i):
            g = rng(i)
            y = (g.random((6, 4)) > 0.5).astype(float)
            return T(g.standard_normal((6, 5))), T(y if i % 2 else 0.8 * y + 0.1)
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_multilabel_margin_targets_with_varying_terminators():
    rows = [[[3, 0, -1, 1], [0, 1, 2, 3]], [[-1, 2, 3, 0], [1, -1, 0, 0]], [[2, 1, 0, -1], [3, -1, 2, 1]],
            [[0, 1, 2, 3], [0, 1, 2, 3]], [[-1, -1, -1, -1], [2, -1, 1, 1]], [[1, 3, -1, 0], [0, 2, -1, 3]]]

    def setup():
        net = mlp(5, 4)
        crit = nn.MultiLabelMarginLoss()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def inputs(i):
            return T(rng(i).standard_normal((2, 5))), T(np.array(rows[i]))
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_soft_margin_loss_with_label_flips():
    def setup():
        net = nn.Linear(4, 1).double()
        crit = nn.SoftMarginLoss()
        opt = optim.SGD(net.parameters(), lr=0.5)

        def before(i):
            crit.reduction = ["mean", "sum", "mean", "none", "mean", "mean"][i]

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((5, 4))), T(np.where(g.random((5, 1)) > 0.5, 1.0, -1.0))
        return Case(step_with(net, opt, crit), lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_multi_margin_loss_p_margin_and_weight_changed():
    def setup():
        net = mlp()
        crit = nn.MultiMarginLoss(p=1, margin=1.0, weight=T([1.0, 2.0, 1.0, 0.5]))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.p = [1, 1, 2, 2, 1, 2][i]
            crit.margin = [1.0, 0.5, 0.5, 2.0, 1.0, 0.0][i]
            with chainrule.no_grad():
                if i == 4:
                    crit.weight.mul_(3.0)
        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], classify_inputs(), before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- CTC
def test_ctc_loss_compiled_matches_eager_with_varying_lengths():
    def setup():
        rnn = nn.GRU(3, 6).double()
        head = nn.Linear(6, 5).double()
        crit = nn.CTCLoss(blank=0, zero_infinity=True)
        opt = optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=0.01)
        lengths = [([8, 7], [3, 2]), ([8, 8], [3, 3]), ([8, 5], [2, 1]), ([8, 2], [3, 3]), ([6, 6], [1, 2])]

        def before(i):
            crit.reduction = ["mean", "mean", "sum", "mean", "none"][i]

        def step(x, targets, in_len, tgt_len):
            opt.zero_grad()
            out, _ = rnn(x)
            logp = F.log_softmax(head(out), dim=-1)
            loss = crit(logp, targets, in_len, tgt_len)
            (loss if loss.ndim == 0 else loss.mean()).backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            in_len, tgt_len = lengths[i]
            return (T(g.standard_normal((max(in_len), 2, 3))), T(g.integers(1, 5, size=(2, 3))),
                    T(np.array(in_len)), T(np.array(tgt_len)))
        return Case(step, lambda: [rnn, head, opt], inputs, before)

    same_as_eager(setup, calls=5)


# ----------------------------------------------------------------------------- combining and building losses
def test_multitask_losses_weighted_from_python_list_by_epoch():
    def setup():
        trunk = nn.Linear(5, 6).double()
        cls_head = nn.Linear(6, 4).double()
        reg_head = nn.Linear(6, 2).double()
        ce, huber = nn.CrossEntropyLoss(), nn.SmoothL1Loss()
        params = [p for m in (trunk, cls_head, reg_head) for p in m.parameters()]
        opt = optim.SGD(params, lr=0.05)
        weights = [(1.0, 0.0), (1.0, 0.1), (0.5, 0.5), (0.1, 1.0), (0.0, 1.0), (1.0, 1.0)]
        state = {"epoch": 0}

        def before(i):
            state["epoch"] = i

        def step(x, y, z):
            opt.zero_grad()
            h = F.relu(trunk(x))
            a, b = weights[state["epoch"]]
            loss = a * ce(cls_head(h), y) + b * huber(reg_head(h), z)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            x, y = classify_inputs()(i)
            return x, y, T(rng(i, 7).standard_normal((6, 2)))
        return Case(step, lambda: [trunk, cls_head, reg_head, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_loss_modules_created_inside_the_step_from_config():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        cfg = {"smoothing": 0.0, "weight": None}

        def before(i):
            cfg["smoothing"] = [0.0, 0.1, 0.1, 0.0, 0.3, 0.1][i]
            cfg["weight"] = None if i < 3 else [1.0, 1.0 + i, 1.0, 1.0]

        def step(x, y):
            opt.zero_grad()
            w = None if cfg["weight"] is None else chainrule.tensor(cfg["weight"], dtype=chainrule.float64)
            crit = nn.CrossEntropyLoss(weight=w, label_smoothing=cfg["smoothing"])
            loss = crit(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], classify_inputs(), before)

    same_as_eager(setup, calls=6)


def test_class_index_targets_out_of_range_raise_each_call():
    # a label 4 for 4 classes, or -1 that is not the ignore_index: eager raises, and so must the replay
    labels = [[0, 1, 2, 3], [1, 2, 3, 0], [0, 1, 4, 3], [0, -1, 2, 3], [1, 1, 1, 1], [3, 2, 0, 0]]

    def setup():
        net = mlp()
        ce, mm = nn.CrossEntropyLoss(), nn.MultiMarginLoss()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            loss = ce(out, y) + mm(out, y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], lambda i: (T(rng(i).standard_normal((4, 5))), T(np.array(labels[i]))))

    same_as_eager(setup, calls=6)


def test_bce_input_outside_unit_interval_raises_only_on_those_calls():
    # a "probability" from an affine map instead of a sigmoid: fine on small inputs, out of [0, 1] on large
    def setup():
        net = nn.Linear(3, 1).double()
        crit = nn.BCELoss()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = crit(net(x) * 0.1 + 0.5, y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((4, 3)) * [0.01, 0.01, 5, 0.01, 0.01, 5][i]), T(g.random((4, 1)))
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_gaussian_nll_negative_variance_raises_only_on_that_call():
    def setup():
        mean_head, var_head = nn.Linear(3, 2).double(), nn.Linear(3, 2).double()
        crit = nn.GaussianNLLLoss()
        opt = optim.SGD(list(mean_head.parameters()) + list(var_head.parameters()), lr=0.01)

        def step(x, y, shift):
            opt.zero_grad()
            var = var_head(x) ** 2 + 0.1 + shift * (x[:, :2] > 2).double()
            loss = crit(mean_head(x), y, var)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i)
            return T(g.standard_normal((4, 3))), T(g.standard_normal((4, 2))), [1.0, 1.0, -3.0, 1.0, 1.0, -3.0][i]
        return Case(step, lambda: [mean_head, var_head, opt], inputs)

    same_as_eager(setup, calls=6)


def test_class_weight_shared_with_numpy_and_assigned_through_data():
    w = np.ones(4)

    def setup():
        w[:] = 1.0
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=chainrule.from_numpy(w))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            w[i % 4] = 1.0 + i                      # the buffer shares w's memory
            if i == 3:
                crit.weight.data = T([1.0, 2.0, 3.0, 4.0])
            if i == 5:
                crit.weight.numpy()[0] = 0.25

        return Case(step_with(net, opt, crit), lambda: [net, crit, opt], classify_inputs(), before)

    same_as_eager(setup, calls=6)


def test_online_hard_example_mining_topk_ratio_from_schedule():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        ratio = [0.5, 0.5, 0.25, 1.0, 0.5, 0.75]
        st = {"i": 0}

        def before(i):
            st["i"] = i

        def step(x, y):
            opt.zero_grad()
            per = F.cross_entropy(net(x), y, reduction="none")
            k = max(1, int(ratio[st["i"]] * per.shape[0]))
            loss = per.topk(k).values.mean()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], classify_inputs(n=8), before)

    same_as_eager(setup, calls=6)


def test_cross_entropy_float32_and_float64_alternate_same_module():
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(weight=T([1.0, 2.0, 1.0, 1.0]))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 3:
                net.float()
                crit.float()
            if i == 5:
                net.double()
                crit.double()

        def inputs(i):
            return classify_inputs(dtype=chainrule.float32 if i in (3, 4) else chainrule.float64)(i)
        return Case(step_with(net, opt, crit), lambda: [net, crit], inputs, before)

    same_as_eager(setup, calls=6)


def test_batch_of_one_and_empty_batch_between_full_ones():
    # an empty batch: 'mean' gives nan (and the step then poisons the weights only in 'mean')
    def setup():
        net = mlp()
        crit = nn.CrossEntropyLoss(reduction="sum")
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            crit.reduction = "mean" if i == 5 else "sum"
        return Case(step_with(net, opt, crit), lambda: [net, opt], classify_inputs(sizes=[6, 1, 0, 6, 1, 0, 6]), before)

    same_as_eager(setup, calls=7)


def test_empty_batch_mean_regression_losses_give_nan():
    def setup():
        net = nn.Linear(3, 2).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        crits = [nn.MSELoss(), nn.L1Loss(), nn.SmoothL1Loss(), nn.HuberLoss(), nn.BCEWithLogitsLoss()]

        def step(x, y):
            out = net(x)
            losses = [c(out, y.sigmoid() if isinstance(c, nn.BCEWithLogitsLoss) else y) for c in crits]
            return chainrule.stack(losses)
        return Case(step, lambda: [net], regress_inputs(sizes=[4, 0, 1, 0, 4]))

    same_as_eager(setup, calls=5)
