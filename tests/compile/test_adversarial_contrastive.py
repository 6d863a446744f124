"""chainrule.compile against eager execution on CONTRASTIVE AND METRIC LEARNING steps: SimCLR's NT-Xent
(normalize, a similarity matrix, the diagonal masked with -inf or -1e9, cross_entropy over shifted
labels, the temperature an argument or an attribute), triplet losses (F.triplet_margin_loss,
nn.TripletMarginWithDistanceLoss with a lambda distance, batch-hard and batch-all mining), siamese
networks with F.pairwise_distance and F.cosine_similarity, nn.CosineEmbeddingLoss,
nn.MarginRankingLoss, prototypical networks (class means via index_add_, scatter_add_, one_hot or
boolean masks, torch.cdist), CLIP's symmetric loss with a learnable logit_scale clamped and exp'd,
MoCo's momentum encoder and queue, hard-negative mining with topk/argmax inside the step.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""
import math
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
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, torch.Tensor):
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
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
        "training": [bool(m.training) for m in model.modules()],
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
        else:
            out.append(snap(thing))
    return out


class Case:
    """``compiled``: made when the run is compiled, gives the function to call instead of
    ``chainrule.compile(step)`` (a module compiled in place, a compiled wrapper); ``after``: run on the
    result outside the function (the backward of a compiled forward)."""

    def __init__(self, step, observe, inputs, before=None, compiled=None, after=None):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.before = before or (lambda i: None)
        self.compiled, self.after = compiled, after


def run(compiled, setup, calls):
    torch.manual_seed(0)
    case = setup()
    function = (case.compiled() if case.compiled else torch.compile(case.step)) if compiled else case.step
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            args = case.inputs(i)
            try:
                result = function(*args)
                if case.after:
                    result = case.after(result)
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


def rng(i):
    return np.random.default_rng(1000 + i)


def batch(i, sizes=(8, 8, 8, 8, 8, 5), d=6, dtype="float64"):
    """Two augmented views of a batch; the last batch is smaller, as a DataLoader's."""
    n = sizes[i % len(sizes)]
    g = rng(i)
    x = g.standard_normal((n, d))
    x1 = x + 0.1 * g.standard_normal((n, d))
    x2 = x + 0.1 * g.standard_normal((n, d))
    return torch.tensor(x1.astype(dtype)), torch.tensor(x2.astype(dtype))


def labelled(i, sizes=(9, 9, 9, 9, 9, 6), classes=3, d=6, dtype="float64"):
    n = sizes[i % len(sizes)]
    g = rng(i)
    y = np.arange(n) % classes
    g.shuffle(y)
    x = g.standard_normal((n, d)) + y[:, None]
    return torch.tensor(x.astype(dtype)), torch.tensor(y)


class Encoder(nn.Module):
    def __init__(self, d_in=6, hidden=10, d_out=4):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU())
        self.projector = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, d_out))

    def forward(self, x):
        return self.projector(self.backbone(x))


def encoder():
    return Encoder().double()


# ----------------------------------------------------------------------------- SimCLR NT-Xent
def nt_xent(z1, z2, temperature=0.5):
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = z @ z.T / temperature
    mask = torch.eye(2 * n, dtype=torch.bool)
    sim = sim.masked_fill(mask, float("-inf"))
    labels = (torch.arange(2 * n) + n) % (2 * n)
    return F.cross_entropy(sim, labels)


def test_nt_xent_function_with_temperature_argument_and_smaller_last_batch():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x1, x2, temperature):
            opt.zero_grad()
            loss = nt_xent(net(x1), net(x2), temperature)
            loss.backward()
            opt.step()
            return loss

        temps = [0.5, 0.5, 0.1, 0.5, 0.07, 0.5, 0.1]
        return Case(step, lambda: [net, opt], lambda i: batch(i) + (temps[i],))

    same_as_eager(setup, calls=7)


class NTXentLoss(nn.Module):
    def __init__(self, temperature=0.5):
        super().__init__()
        self.temperature = temperature

    def forward(self, z_i, z_j):
        batch_size = z_i.size(0)
        z = torch.cat((z_i, z_j), dim=0)
        z = F.normalize(z, p=2, dim=-1)
        sim = torch.mm(z, z.t().contiguous()) / self.temperature
        sim = sim.masked_fill(torch.eye(2 * batch_size, dtype=torch.bool), -1e9)
        targets = torch.cat([torch.arange(batch_size, 2 * batch_size), torch.arange(0, batch_size)])
        return F.cross_entropy(sim, targets)


def test_nt_xent_module_temperature_attribute_changed_between_calls_with_adam():
    def setup():
        net = encoder()
        criterion = NTXentLoss(0.5)
        opt = optim.Adam(net.parameters(), lr=1e-3)

        def before(i):
            criterion.temperature = [0.5, 0.2, 0.2, 0.5, 0.1, 0.2][i]

        def step(x1, x2):
            opt.zero_grad()
            loss = criterion(net(x1), net(x2))
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], batch, before)

    same_as_eager(setup)


def test_nt_xent_fill_diagonal_inplace_and_cosine_similarity_matrix():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x1, x2):
            opt.zero_grad()
            z1, z2 = net(x1), net(x2)
            z = torch.cat([z1, z2])
            sim = F.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), dim=2) / 0.2
            sim.fill_diagonal_(float("-inf"))
            n = z1.shape[0]
            labels = torch.cat([torch.arange(n) + n, torch.arange(n)])
            loss = F.cross_entropy(sim, labels)
            loss.backward()
            opt.step()
            return loss, sim.detach()

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


def test_nt_xent_sthalles_boolean_mask_read_falls_back_or_matches():
    # The widely copied SimCLR implementation: positives and negatives taken through boolean masks.
    def setup():
        net = encoder()
        opt = optim.Adam(net.parameters(), lr=3e-4, weight_decay=1e-4)

        def info_nce(features, n, temperature=0.07):
            labels = torch.cat([torch.arange(n) for _ in range(2)], dim=0)
            labels = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
            features = F.normalize(features, dim=1)
            similarity_matrix = torch.matmul(features, features.T)
            mask = torch.eye(labels.shape[0], dtype=torch.bool)
            labels = labels[~mask].view(labels.shape[0], -1)
            similarity_matrix = similarity_matrix[~mask].view(similarity_matrix.shape[0], -1)
            positives = similarity_matrix[labels.bool()].view(labels.shape[0], -1)
            negatives = similarity_matrix[~labels.bool()].view(similarity_matrix.shape[0], -1)
            logits = torch.cat([positives, negatives], dim=1)
            labels = torch.zeros(logits.shape[0], dtype=torch.long)
            return logits / temperature, labels

        def step(x1, x2):
            features = net(torch.cat([x1, x2]))
            logits, labels = info_nce(features, x1.shape[0])
            loss = F.cross_entropy(logits, labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            top1 = (logits.argmax(dim=1) == labels).float().mean() * 100
            return loss, top1

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


def test_nt_xent_manual_logsumexp_float32_with_batchnorm_projector():
    def setup():
        net = nn.Sequential(nn.Linear(6, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 4))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True)

        def step(x1, x2):
            n = x1.shape[0]
            z = F.normalize(net(torch.cat([x1, x2])), dim=-1)
            logits = z @ z.t() / 0.1
            logits = logits - 1e9 * torch.eye(2 * n)
            pos = torch.cat([torch.diagonal(logits, n), torch.diagonal(logits, -n)])
            loss = (-pos + torch.logsumexp(logits, dim=1)).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], lambda i: batch(i, dtype="float32"))

    same_as_eager(setup)


def test_nt_xent_eval_mode_validation_between_training_calls():
    def setup():
        net = nn.Sequential(nn.Linear(6, 10), nn.Dropout(0.3), nn.ReLU(), nn.Linear(10, 4)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.train(i % 3 != 2)

        def step(x1, x2):
            if net.training:
                opt.zero_grad()
                loss = nt_xent(net(x1), net(x2), 0.3)
                loss.backward()
                opt.step()
                return loss
            with torch.no_grad():
                return nt_xent(net(x1), net(x2), 0.3)

        return Case(step, lambda: [net, opt], batch, before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- triplet losses
def triplets(i, sizes=(6, 6, 6, 6, 4), d=5, dtype="float64"):
    n = sizes[i % len(sizes)]
    g = rng(i)
    a = g.standard_normal((n, d))
    p = a + 0.3 * g.standard_normal((n, d))
    q = g.standard_normal((n, d))
    return tuple(torch.tensor(v.astype(dtype)) for v in (a, p, q))


def embedder():
    return nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def test_functional_triplet_margin_loss_margin_p_and_swap_vary_by_argument():
    def setup():
        net = embedder()
        opt = optim.SGD(net.parameters(), lr=0.1)
        kw = [dict(margin=1.0), dict(margin=1.0), dict(margin=0.5, swap=True), dict(margin=0.5, p=1),
              dict(margin=1.0), dict(margin=2.0, reduction="sum"), dict(margin=1.0)]

        def step(a, p, n, kwargs):
            opt.zero_grad()
            loss = F.triplet_margin_loss(net(a), net(p), net(n), **kwargs)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], lambda i: triplets(i) + (kw[i],))

    same_as_eager(setup, calls=7)


def test_triplet_margin_with_distance_loss_lambda_cosine_distance_margin_attribute():
    def setup():
        net = embedder()
        criterion = nn.TripletMarginWithDistanceLoss(
            distance_function=lambda x, y: 1.0 - F.cosine_similarity(x, y), margin=0.3)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            criterion.margin = [0.3, 0.3, 0.5, 0.5, 0.2, 0.3][i]

        def step(a, p, n):
            opt.zero_grad()
            loss = criterion(net(a), net(p), net(n))
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], triplets, before)

    same_as_eager(setup)


def test_triplet_margin_with_distance_loss_pairwise_distance_module_and_swap_toggled():
    def setup():
        net = embedder()
        criterion = nn.TripletMarginWithDistanceLoss(distance_function=nn.PairwiseDistance(), margin=1.0)
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.5)

        def before(i):
            criterion.swap = i in (2, 3)
            criterion.distance_function.norm = 1.0 if i == 4 else 2.0

        def step(a, p, n):
            opt.zero_grad()
            loss = criterion(net(a), net(p), net(n))
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], triplets, before)

    same_as_eager(setup)


def test_triplet_margin_loss_module_float32_with_lr_scheduler():
    def setup():
        net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
        criterion = nn.TripletMarginLoss(margin=1.0, p=2, eps=1e-7)
        opt = optim.SGD(net.parameters(), lr=0.1)
        sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(a, p, n):
            opt.zero_grad()
            loss = criterion(net(a), net(p), net(n))
            loss.backward()
            opt.step()
            sched.step()
            return loss

        return Case(step, lambda: [net, opt, opt.param_groups[0]["lr"]], lambda i: triplets(i, dtype="float32"))

    same_as_eager(setup)


def _pairwise_distances(embeddings, squared=False):
    dot = embeddings @ embeddings.t()
    sq = torch.diag(dot)
    distances = sq.unsqueeze(0) - 2.0 * dot + sq.unsqueeze(1)
    distances = torch.clamp(distances, min=0.0)
    if not squared:
        mask = (distances == 0.0).float()
        distances = distances + mask * 1e-16
        distances = torch.sqrt(distances)
        distances = distances * (1.0 - mask)
    return distances


def test_batch_hard_triplet_mining_with_masks_max_and_min():
    def setup():
        net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, margin):
            emb = net(x)
            dist = _pairwise_distances(emb)
            same = y.unsqueeze(0) == y.unsqueeze(1)
            eye = torch.eye(len(y), dtype=torch.bool)
            pos_mask = (same & ~eye).float()
            hardest_pos = (pos_mask * dist).max(dim=1, keepdim=True)[0]
            max_dist = dist.max(dim=1, keepdim=True)[0]
            neg_dist = dist + max_dist * same.float()
            hardest_neg = neg_dist.min(dim=1, keepdim=True)[0]
            loss = F.relu(hardest_pos - hardest_neg + margin).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        margins = [0.5, 0.5, 0.5, 1.0, 0.5, 0.5]
        return Case(step, lambda: [net, opt], lambda i: labelled(i) + (margins[i],))

    same_as_eager(setup)


def test_batch_all_triplet_loss_3d_broadcast_with_fraction_positive():
    def setup():
        net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            dist = _pairwise_distances(net(x), squared=True)
            loss = dist.unsqueeze(2) - dist.unsqueeze(1) + 0.2
            n = len(y)
            not_eye = ~torch.eye(n, dtype=torch.bool)
            distinct = not_eye.unsqueeze(2) & not_eye.unsqueeze(0) & not_eye.unsqueeze(1)
            eq = y.unsqueeze(0) == y.unsqueeze(1)
            valid = eq.unsqueeze(2) & ~eq.unsqueeze(1) & distinct
            loss = F.relu(loss * valid.float())
            positive = (loss > 1e-16).float()
            num_positive = positive.sum()
            fraction = num_positive / (valid.float().sum() + 1e-16)
            loss = loss.sum() / (num_positive + 1e-16)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, fraction

        return Case(step, lambda: [net, opt], labelled)

    same_as_eager(setup)


def test_semi_hard_negative_mining_with_where_and_inf():
    def setup():
        net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).double()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            emb = F.normalize(net(x), dim=1)
            d = torch.cdist(emb, emb)
            same = y[:, None] == y[None, :]
            d_pos = torch.where(same & ~torch.eye(len(y), dtype=torch.bool), d, torch.zeros_like(d)).max(1).values
            semi = (~same) & (d > d_pos[:, None])
            d_neg = torch.where(semi, d, torch.full_like(d, float("inf"))).min(1).values
            d_neg = torch.where(torch.isinf(d_neg), d.max(1).values, d_neg)
            loss = F.relu(d_pos - d_neg + 0.2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, d_neg.detach()

        return Case(step, lambda: [net, opt], labelled)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- siamese networks
def pairs(i, sizes=(6, 6, 6, 6, 6, 3), d=5, signed=False, dtype="float64"):
    n = sizes[i % len(sizes)]
    g = rng(i)
    a = g.standard_normal((n, d))
    same = g.integers(0, 2, n)
    b = np.where(same[:, None] == 1, a + 0.2 * g.standard_normal((n, d)), g.standard_normal((n, d)))
    target = (2 * same - 1) if signed else (1 - same)
    return torch.tensor(a.astype(dtype)), torch.tensor(b.astype(dtype)), torch.tensor(target.astype(dtype))


class SiameseNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(5, 16), nn.ReLU(inplace=True), nn.Linear(16, 8), nn.ReLU(inplace=True),
                                nn.Linear(8, 3))

    def forward_once(self, x):
        return self.fc(x)

    def forward(self, input1, input2):
        return self.forward_once(input1), self.forward_once(input2)


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=2.0):
        super().__init__()
        self.margin = margin

    def forward(self, output1, output2, label):
        euclidean_distance = F.pairwise_distance(output1, output2, keepdim=True)
        return torch.mean((1 - label) * torch.pow(euclidean_distance, 2) +
                          label * torch.pow(torch.clamp(self.margin - euclidean_distance, min=0.0), 2))


def test_siamese_contrastive_loss_pairwise_distance_keepdim_margin_changed():
    def setup():
        net = SiameseNetwork().double()
        criterion = ContrastiveLoss()
        opt = optim.Adam(net.parameters(), lr=5e-4)

        def before(i):
            criterion.margin = 1.0 if i >= 3 else 2.0

        def step(x0, x1, label):
            out1, out2 = net(x0, x1)
            opt.zero_grad()
            loss = criterion(out1, out2, label.unsqueeze(1))
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], pairs, before)

    same_as_eager(setup)


def test_siamese_pairwise_distance_p_and_eps_by_argument_and_identical_pair():
    def setup():
        net = SiameseNetwork().double()
        opt = optim.SGD(net.parameters(), lr=0.05)
        opts = [(2.0, 1e-6), (2.0, 1e-6), (1.0, 1e-6), (2.0, 0.0), (3.0, 1e-3), (2.0, 1e-6)]

        def step(x0, x1, label, p, eps):
            o1, o2 = net(x0, x1)
            d = F.pairwise_distance(o1, o2, p=p, eps=eps)
            d_self = F.pairwise_distance(o1, o1, p=p, eps=eps)
            loss = torch.mean((1 - label) * d ** 2 + label * F.relu(1.5 - d) ** 2) + d_self.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, d.detach()

        return Case(step, lambda: [net, opt], lambda i: pairs(i) + opts[i])

    same_as_eager(setup)


def test_siamese_cosine_similarity_scaled_logits_with_bce():
    def setup():
        net = SiameseNetwork().double()
        scale = nn.Parameter(torch.tensor(5.0, dtype=torch.float64))
        opt = optim.Adam(list(net.parameters()) + [scale], lr=0.01)

        def step(x0, x1, label):
            o1, o2 = net(x0, x1)
            cos = F.cosine_similarity(o1, o2, dim=1, eps=1e-8)
            logits = scale * cos
            loss = F.binary_cross_entropy_with_logits(logits, 1 - label)
            opt.zero_grad()
            loss.backward()
            opt.step()
            acc = ((logits > 0).double() == (1 - label)).double().mean()
            return loss, acc

        return Case(step, lambda: [net, scale, opt], pairs)

    same_as_eager(setup)


def test_cosine_embedding_loss_margin_and_reduction_changed_between_calls():
    def setup():
        net = embedder()
        criterion = nn.CosineEmbeddingLoss(margin=0.0)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            criterion.margin = [0.0, 0.0, 0.5, 0.5, -0.2, 0.0][i]
            criterion.reduction = "sum" if i == 3 else "mean"

        def step(a, b, target):
            opt.zero_grad()
            loss = criterion(net(a), net(b), target)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], lambda i: pairs(i, signed=True), before)

    same_as_eager(setup)


def test_margin_ranking_loss_scorer_margin_attribute_and_last_small_batch():
    def setup():
        scorer = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 1)).double()
        criterion = nn.MarginRankingLoss(margin=0.5)
        opt = optim.SGD(scorer.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            criterion.margin = 0.1 if i == 4 else 0.5

        def step(a, b, target):
            s1, s2 = scorer(a).squeeze(-1), scorer(b).squeeze(-1)
            loss = criterion(s1, s2, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, (torch.sign(s1 - s2) == target).double().mean()

        return Case(step, lambda: [scorer, opt], lambda i: pairs(i, signed=True), before)

    same_as_eager(setup)


def test_margin_ranking_loss_functional_with_mismatched_last_batch_raises():
    def setup():
        scorer = nn.Linear(5, 1).double()
        opt = optim.SGD(scorer.parameters(), lr=0.1)

        def step(a, b, target):
            opt.zero_grad()
            loss = F.margin_ranking_loss(scorer(a).squeeze(1), scorer(b).squeeze(1), target, margin=0.2)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            a, b, t = pairs(i, signed=True)
            return (a, b, t[:-1]) if i == 4 else (a, b, t)

        return Case(step, lambda: [scorer, opt], inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- prototypical networks
def episode(i, ways=(3, 3, 4, 3, 3, 2), shot=2, query=3, d=6, dtype="float64"):
    n_way = ways[i % len(ways)]
    g = rng(i)
    centers = 2 * g.standard_normal((n_way, d))
    support = centers[:, None] + g.standard_normal((n_way, shot, d))
    queries = centers[:, None] + g.standard_normal((n_way, query, d))
    ys = np.repeat(np.arange(n_way), shot)
    yq = np.repeat(np.arange(n_way), query)
    return (torch.tensor(support.reshape(-1, d).astype(dtype)), torch.tensor(ys),
            torch.tensor(queries.reshape(-1, d).astype(dtype)), torch.tensor(yq), n_way)


def protonet_step(net, opt, prototypes, distance=None):
    def step(xs, ys, xq, yq, n_way):
        opt.zero_grad()
        zs, zq = net(xs), net(xq)
        protos = prototypes(zs, ys, n_way)
        dists = distance(zq, protos) if distance else torch.cdist(zq, protos) ** 2
        log_p = F.log_softmax(-dists, dim=1)
        loss = F.nll_loss(log_p, yq)
        acc = (log_p.argmax(1) == yq).float().mean()
        loss.backward()
        opt.step()
        return loss, acc
    return step


def test_protonet_prototypes_via_view_mean_and_cdist_with_n_way_changing():
    def setup():
        net = encoder()
        opt = optim.Adam(net.parameters(), lr=1e-3)

        def protos(z, y, n_way):
            return z.view(n_way, -1, z.shape[-1]).mean(dim=1)

        return Case(protonet_step(net, opt, protos), lambda: [net, opt], episode)

    same_as_eager(setup)


def test_protonet_prototypes_via_index_add_and_bincount():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def protos(z, y, n_way):
            sums = torch.zeros(n_way, z.shape[1], dtype=z.dtype).index_add_(0, y, z)
            counts = torch.bincount(y, minlength=n_way).to(z.dtype)
            return sums / counts.unsqueeze(1)

        return Case(protonet_step(net, opt, protos), lambda: [net, opt], episode)

    same_as_eager(setup)


def test_protonet_prototypes_via_scatter_add_expanded_index():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

        def protos(z, y, n_way):
            index = y.unsqueeze(1).expand(-1, z.size(1))
            sums = torch.zeros(n_way, z.size(1), dtype=z.dtype).scatter_add_(0, index, z)
            counts = torch.zeros(n_way, dtype=z.dtype).scatter_add_(0, y, torch.ones_like(y, dtype=z.dtype))
            return sums / counts[:, None]

        return Case(protonet_step(net, opt, protos), lambda: [net, opt], episode)

    same_as_eager(setup)


def test_protonet_prototypes_via_one_hot_matmul_and_manual_squared_euclidean():
    def setup():
        net = encoder()
        opt = optim.Adam(net.parameters(), lr=1e-3)

        def protos(z, y, n_way):
            onehot = F.one_hot(y, n_way).to(z.dtype)
            return onehot.t() @ z / onehot.sum(0, keepdim=True).t()

        def euclidean(a, b):
            n, m = a.size(0), b.size(0)
            a = a.unsqueeze(1).expand(n, m, -1)
            b = b.unsqueeze(0).expand(n, m, -1)
            return torch.pow(a - b, 2).sum(2)

        return Case(protonet_step(net, opt, protos, euclidean), lambda: [net, opt], episode)

    same_as_eager(setup)


def test_protonet_prototypes_via_boolean_mask_per_class_stack():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def protos(z, y, n_way):
            return torch.stack([z[y == c].mean(0) for c in range(n_way)])

        return Case(protonet_step(net, opt, protos), lambda: [net, opt], episode)

    same_as_eager(setup)


def test_protonet_cdist_p_changed_and_where_masked_class_means():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)
        ps = [2.0, 2.0, 1.0, 2.0, 1.0, 2.0]
        state = {"i": 0}

        def before(i):
            state["i"] = i

        def protos(z, y, n_way):
            means = []
            for c in range(n_way):
                m = (y == c).unsqueeze(1).to(z.dtype)
                means.append((z * m).sum(0) / m.sum())
            return torch.stack(means)

        def distance(a, b):
            return torch.cdist(a, b, p=ps[state["i"]])

        return Case(protonet_step(net, opt, protos, distance), lambda: [net, opt], episode, before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- CLIP
class CLIP(nn.Module):
    def __init__(self, d_img=6, d_txt=5, d=4):
        super().__init__()
        self.visual = nn.Sequential(nn.Linear(d_img, 8), nn.GELU(), nn.Linear(8, d))
        self.text = nn.Sequential(nn.Linear(d_txt, 8), nn.GELU(), nn.Linear(8, d))
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))

    def forward(self, image, text):
        image_features = self.visual(image)
        text_features = self.text(text)
        image_features = image_features / image_features.norm(dim=1, keepdim=True)
        text_features = text_features / text_features.norm(dim=1, keepdim=True)
        logit_scale = self.logit_scale.exp()
        logits_per_image = logit_scale * image_features @ text_features.t()
        return logits_per_image, logits_per_image.t()


def image_text(i, sizes=(8, 8, 8, 8, 8, 3), dtype="float32"):
    n = sizes[i % len(sizes)]
    g = rng(i)
    img = g.standard_normal((n, 6))
    txt = img[:, :5] + 0.1 * g.standard_normal((n, 5))
    return torch.tensor(img.astype(dtype)), torch.tensor(txt.astype(dtype))


def test_clip_symmetric_loss_logit_scale_clamped_inplace_before_forward():
    def setup():
        model = CLIP()
        opt = optim.AdamW(model.parameters(), lr=0.05, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2)

        def step(images, texts):
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            logits_per_image, logits_per_text = model(images, texts)
            ground_truth = torch.arange(len(images), dtype=torch.long)
            loss = (F.cross_entropy(logits_per_image, ground_truth) +
                    F.cross_entropy(logits_per_text, ground_truth)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, model.logit_scale.detach().clone()

        return Case(step, lambda: [model, opt], image_text)

    same_as_eager(setup)


def test_clip_logit_scale_exp_clamp_max_and_label_smoothing_float64():
    def setup():
        model = CLIP().double()
        opt = optim.Adam(model.parameters(), lr=0.5)
        smoothing = [0.0, 0.0, 0.1, 0.1, 0.0, 0.1]

        def step(images, texts, ls):
            img = F.normalize(model.visual(images), dim=-1)
            txt = F.normalize(model.text(texts), dim=-1)
            scale = model.logit_scale.exp().clamp(max=100)
            logits = scale * img @ txt.T
            labels = torch.arange(logits.shape[0])
            loss = 0.5 * (F.cross_entropy(logits, labels, label_smoothing=ls) +
                          F.cross_entropy(logits.T, labels, label_smoothing=ls))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, scale.detach()

        return Case(step, lambda: [model, opt], lambda i: image_text(i, dtype="float64") + (smoothing[i],))

    same_as_eager(setup)


def test_clip_logit_scale_data_clamp_after_step_and_retrieval_accuracy():
    def setup():
        model = CLIP()
        opt = optim.SGD(model.parameters(), lr=2.0)

        def step(images, texts):
            logits_i, logits_t = model(images, texts)
            labels = torch.arange(images.shape[0])
            loss = (F.cross_entropy(logits_i, labels) + F.cross_entropy(logits_t, labels)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.logit_scale.data.clamp_(min=0.0, max=4.6052)
            i2t = (logits_i.argmax(dim=1) == labels).float().mean()
            t2i = (logits_t.argmax(dim=-1) == labels).float().mean()
            top2 = (logits_i.topk(2, dim=1).indices == labels[:, None]).any(dim=1).float().mean()
            return loss, i2t, t2i, top2

        return Case(step, lambda: [model, opt], image_text)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- hard-negative mining
def test_topk_hard_negatives_masked_positives_k_by_argument():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.1)
        ks = [3, 3, 2, 3, 4, 2]

        def step(x1, x2, k):
            q = F.normalize(net(x1), dim=1)
            p = F.normalize(net(x2), dim=1)
            sim = q @ p.t() / 0.1
            pos = sim.diag()
            neg = sim.masked_fill(torch.eye(sim.size(0), dtype=torch.bool), -1e9)
            hard, idx = neg.topk(k, dim=1)
            logits = torch.cat([pos.unsqueeze(1), hard], dim=1)
            loss = F.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, idx

        return Case(step, lambda: [net, opt], lambda i: batch(i) + (ks[i],))

    same_as_eager(setup)


def test_argmax_hardest_negative_gathered_into_triplet_margin_loss():
    def setup():
        net = encoder()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x1, x2):
            a, p = net(x1), net(x2)
            with torch.no_grad():
                d = torch.cdist(a, p)
                d.fill_diagonal_(float("inf"))
                hardest = d.argmin(dim=1)
            n = p[hardest]
            loss = F.triplet_margin_loss(a, p, n, margin=0.5)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, hardest

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


def test_hard_negative_index_select_and_gather_scores_with_sort():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(x1, x2):
            q, k = F.normalize(net(x1), dim=-1), F.normalize(net(x2), dim=-1)
            scores = q @ k.T
            n = scores.shape[0]
            masked = scores - 2.0 * torch.eye(n, dtype=scores.dtype)
            order = masked.argsort(dim=1, descending=True)
            hardest = order[:, 0]
            neg = torch.index_select(k, 0, hardest)
            neg_scores = torch.gather(scores, 1, hardest.unsqueeze(1)).squeeze(1)
            pos_scores = (q * k).sum(-1)
            loss = F.relu(0.2 - pos_scores + neg_scores).mean() + 0.0 * (q * neg).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, order

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- MoCo
class MoCo(nn.Module):
    def __init__(self, dim=4, K=12, m=0.9, T=0.2):
        super().__init__()
        self.K, self.m, self.T = K, m, T
        self.encoder_q = encoder()
        self.encoder_k = encoder()
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data.copy_(param_q.data)
            param_k.requires_grad = False
        self.register_buffer("queue", F.normalize(torch.randn(dim, K, dtype=torch.float64), dim=0))

    @torch.no_grad()
    def _momentum_update_key_encoder(self):
        for param_q, param_k in zip(self.encoder_q.parameters(), self.encoder_k.parameters()):
            param_k.data = param_k.data * self.m + param_q.data * (1.0 - self.m)

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = F.normalize(self.encoder_k(im_k), dim=1)
        l_pos = torch.einsum("nc,nc->n", [q, k]).unsqueeze(-1)
        l_neg = torch.einsum("nc,ck->nk", [q, self.queue.clone().detach()])
        logits = torch.cat([l_pos, l_neg], dim=1) / self.T
        labels = torch.zeros(logits.shape[0], dtype=torch.long)
        # dequeue and enqueue: the newest keys first, the oldest dropped
        self.queue = torch.cat([k.T, self.queue], dim=1)[:, :self.K]
        return logits, labels


def test_moco_momentum_encoder_and_queue_rebound_inside_the_forward():
    def setup():
        model = MoCo()
        opt = optim.SGD(filter(lambda p: p.requires_grad, model.parameters()), lr=0.05, momentum=0.9,
                        weight_decay=1e-4)

        def step(im_q, im_k):
            output, target = model(im_q, im_k)
            loss = F.cross_entropy(output, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], batch)

    same_as_eager(setup)


class MoCoPtr(MoCo):
    def __init__(self):
        super().__init__(K=16)
        self.register_buffer("queue_ptr", torch.zeros(1, dtype=torch.long))

    def forward(self, im_q, im_k):
        q = F.normalize(self.encoder_q(im_q), dim=1)
        with torch.no_grad():
            self._momentum_update_key_encoder()
            k = F.normalize(self.encoder_k(im_k), dim=1)
        l_pos = (q * k).sum(dim=1, keepdim=True)
        l_neg = q @ self.queue.clone().detach()
        logits = torch.cat([l_pos, l_neg], dim=1) / self.T
        batch_size = k.shape[0]
        ptr = int(self.queue_ptr)
        if ptr + batch_size <= self.K:
            self.queue[:, ptr:ptr + batch_size] = k.T
            ptr = (ptr + batch_size) % self.K
        else:
            ptr = 0
        self.queue_ptr[0] = ptr
        return logits, torch.zeros(logits.shape[0], dtype=torch.long)


def test_moco_queue_ptr_read_with_int_falls_back_or_matches():
    def setup():
        model = MoCoPtr()
        opt = optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)

        def step(im_q, im_k):
            output, target = model(im_q, im_k)
            loss = F.cross_entropy(output, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], batch)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- more contrastive objectives
class SupConLoss(nn.Module):
    """Khosla et al.'s supervised contrastive loss, as in the reference implementation."""

    def __init__(self, temperature=0.07, base_temperature=0.07):
        super().__init__()
        self.temperature, self.base_temperature = temperature, base_temperature

    def forward(self, features, labels):
        batch_size = features.shape[0]
        labels = labels.contiguous().view(-1, 1)
        mask = torch.eq(labels, labels.T).float()
        contrast_count = features.shape[1]
        contrast_feature = torch.cat(torch.unbind(features, dim=1), dim=0)
        anchor_dot_contrast = torch.div(torch.matmul(contrast_feature, contrast_feature.T), self.temperature)
        logits_max, _ = torch.max(anchor_dot_contrast, dim=1, keepdim=True)
        logits = anchor_dot_contrast - logits_max.detach()
        mask = mask.repeat(contrast_count, contrast_count)
        logits_mask = torch.scatter(torch.ones_like(mask), 1,
                                    torch.arange(batch_size * contrast_count).view(-1, 1), 0)
        mask = mask * logits_mask
        exp_logits = torch.exp(logits) * logits_mask
        log_prob = logits - torch.log(exp_logits.sum(1, keepdim=True))
        mask_pos_pairs = mask.sum(1)
        mask_pos_pairs = torch.where(mask_pos_pairs < 1e-6, torch.ones_like(mask_pos_pairs), mask_pos_pairs)
        mean_log_prob_pos = (mask * log_prob).sum(1) / mask_pos_pairs
        loss = -(self.temperature / self.base_temperature) * mean_log_prob_pos
        return loss.view(contrast_count, batch_size).mean()


def test_supcon_loss_scatter_logits_mask_float32_temperature_attribute():
    def setup():
        net = nn.Sequential(nn.Linear(6, 10), nn.ReLU(), nn.Linear(10, 4))
        criterion = SupConLoss()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)

        def before(i):
            criterion.temperature = 0.1 if i in (2, 3) else 0.07

        def step(x, y):
            noise = 0.1 * torch.randn(2, *x.shape)
            features = F.normalize(net(x.unsqueeze(0) + noise), dim=-1).transpose(0, 1)
            loss = criterion(features, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], lambda i: labelled(i, dtype="float32"), before)

    same_as_eager(setup)


def test_nt_xent_cosine_annealed_float_temperature_every_call_different():
    # Ten distinct Python floats: more recordings than a function keeps; falls back or matches.
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x1, x2, temperature):
            opt.zero_grad()
            loss = nt_xent(net(x1), net(x2), temperature)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return batch(i) + (0.05 + 0.45 * (1 + math.cos(math.pi * i / 10)) / 2,)

        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=10)


def test_nt_xent_temperature_as_0d_tensor_argument_and_learnable_log_tau():
    def setup():
        net = encoder()
        log_tau = nn.Parameter(torch.tensor(math.log(0.5), dtype=torch.float64))
        opt = optim.Adam([{"params": net.parameters()}, {"params": [log_tau], "lr": 0.05}], lr=1e-3)

        def step(x1, x2, scale):
            tau = log_tau.exp().clamp(min=0.01, max=1.0)
            loss = nt_xent(net(x1), net(x2), tau * scale)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, tau.detach()

        def inputs(i):
            return batch(i) + (torch.tensor(1.0 + 0.1 * i, dtype=torch.float64),)

        return Case(step, lambda: [net, log_tau, opt], inputs)

    same_as_eager(setup)


def test_nt_xent_diagonal_view_filled_inplace_falls_back_or_matches():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x1, x2):
            n = x1.shape[0]
            z = F.normalize(torch.cat([net(x1), net(x2)]), dim=1)
            sim = z @ z.T / 0.5
            sim.diagonal().fill_(-1e9)
            loss = F.cross_entropy(sim, torch.arange(2 * n).roll(n))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


def test_nt_xent_diagonal_set_by_index_tensors_and_masked_fill_inplace():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x1, x2):
            n = x1.shape[0]
            z = F.normalize(torch.cat([net(x1), net(x2)]), dim=1)
            sim = z @ z.T / 0.5
            idx = torch.arange(2 * n)
            sim[idx, idx] = float("-inf")
            sim.masked_fill_(sim < -2.5, -5.0)
            loss = F.cross_entropy(sim, (idx + n) % (2 * n))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


def test_topk_hard_negatives_k_larger_than_last_batch_raises_the_same():
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x1, x2):
            q, k = F.normalize(net(x1), dim=1), F.normalize(net(x2), dim=1)
            sim = q @ k.t()
            neg = sim.masked_fill(torch.eye(len(sim), dtype=torch.bool), -float("inf"))
            hard = neg.topk(6, dim=1).values
            loss = -F.log_softmax(torch.cat([sim.diag()[:, None], hard], 1) / 0.1, dim=1)[:, 0].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], batch)

    same_as_eager(setup)


def test_siamese_encoder_compiled_in_place_two_forwards_before_backward():
    def setup():
        net = embedder()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(a, p, n):
            return F.triplet_margin_loss(net(a), net(p), net(n), margin=0.5)

        def after(loss):
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        def compiled():
            net.compile()
            return step

        return Case(step, lambda: [net, opt], triplets, compiled=compiled, after=after)

    same_as_eager(setup)


def test_clip_compiled_wrapper_module_backward_outside_with_param_groups():
    def setup():
        model = CLIP()
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
        opt = optim.AdamW([{"params": decay, "weight_decay": 0.2}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.01)
        holder = {"model": model}

        def before(i):
            for group in opt.param_groups:
                group["lr"] = 0.01 * (1 - i / 8)

        def step(images, texts):
            logits_per_image, logits_per_text = holder["model"](images, texts)
            labels = torch.arange(images.shape[0])
            return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2

        def after(loss):
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, math.log(100))
            return loss.detach()

        def compiled():
            holder["model"] = torch.compile(model)
            return step

        return Case(step, lambda: [model, opt], image_text, before, compiled=compiled, after=after)

    same_as_eager(setup)


def test_alignment_uniformity_loss_with_pdist_and_alpha_argument():
    # Wang & Isola (2020): align and uniform losses on the hypersphere.
    def setup():
        net = encoder()
        opt = optim.Adam(net.parameters(), lr=1e-3)
        alphas = [2, 2, 1, 2, 2, 2]

        def align_loss(x, y, alpha=2):
            return (x - y).norm(p=2, dim=1).pow(alpha).mean()

        def uniform_loss(x, t=2):
            return torch.pdist(x, p=2).pow(2).mul(-t).exp().mean().log()

        def step(x1, x2, alpha):
            x, y = F.normalize(net(x1), dim=-1), F.normalize(net(x2), dim=-1)
            loss = align_loss(x, y, alpha) + (uniform_loss(x) + uniform_loss(y)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], lambda i: batch(i) + (alphas[i],))

    same_as_eager(setup)


def off_diagonal(x):
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


def test_barlow_twins_cross_correlation_off_diagonal_view_trick_and_lambda():
    def setup():
        net = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 5)).double()
        bn = nn.BatchNorm1d(5, affine=False).double()
        opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
        lambdas = [5e-3, 5e-3, 5e-3, 1e-2, 5e-3, 5e-3]

        def step(y1, y2, lambd):
            z1, z2 = net(y1), net(y2)
            c = bn(z1).T @ bn(z2)
            c.div_(y1.shape[0])
            on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
            off_diag = off_diagonal(c).pow_(2).sum()
            loss = on_diag + lambd * off_diag
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, bn, opt], lambda i: batch(i) + (lambdas[i],))

    same_as_eager(setup)


def test_simsiam_symmetric_negative_cosine_with_stop_gradient_predictor():
    def setup():
        encoder_ = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4)).double()
        predictor = nn.Sequential(nn.Linear(4, 3), nn.ReLU(inplace=True), nn.Linear(3, 4)).double()
        params = list(encoder_.parameters()) + list(predictor.parameters())
        opt = optim.SGD(params, lr=0.05, momentum=0.9, weight_decay=1e-4)
        criterion = nn.CosineSimilarity(dim=1)

        def step(x1, x2):
            z1, z2 = encoder_(x1), encoder_(x2)
            p1, p2 = predictor(z1), predictor(z2)
            loss = -(criterion(p1, z2.detach()).mean() + criterion(p2, z1.detach()).mean()) * 0.5
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                collapse = F.normalize(z1, dim=1).std(dim=0).mean()
            return loss, collapse

        return Case(step, lambda: [encoder_, predictor, opt], batch)

    same_as_eager(setup)


class PrototypeMemory(nn.Module):
    """Class prototypes kept as an exponential moving average in a buffer, updated in place."""

    def __init__(self, classes=3):
        super().__init__()
        self.net = encoder()
        self.register_buffer("protos", torch.zeros(classes, 4, dtype=torch.float64))

    def forward(self, x, y):
        z = F.normalize(self.net(x), dim=1)
        with torch.no_grad():
            batch_protos = torch.zeros_like(self.protos).index_add_(0, y, z.detach())
            self.protos.mul_(0.9).add_(0.1 * batch_protos)
            self.protos.copy_(F.normalize(self.protos, dim=1))
        return F.cross_entropy(z @ self.protos.T / 0.1, y)


def test_prototype_memory_buffer_ema_with_index_add_under_no_grad():
    def setup():
        model = PrototypeMemory()
        opt = optim.SGD(model.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = model(x, y)
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [model, opt], labelled)

    same_as_eager(setup)


def test_in_batch_negatives_with_ignore_index_labels_changing_values():
    # Pairs without a match are marked -1 and ignored; on one call every row is ignored (a nan loss).
    def setup():
        net = encoder()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def before(i):
            for p in net.backbone.parameters():
                p.requires_grad = i >= 2

        def step(x1, x2, targets):
            q, k = F.normalize(net(x1), dim=1), F.normalize(net(x2), dim=1)
            logits = q @ k.T / 0.1
            loss = F.cross_entropy(logits, targets, ignore_index=-1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, logits.argmax(dim=1)

        def inputs(i):
            x1, x2 = batch(i, sizes=(8,) * 6)
            targets = np.arange(8)
            targets[rng(i).integers(0, 8, 3)] = -1
            if i == 3:
                targets[:] = -1
            return x1, x2, torch.tensor(targets)

        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup)


def test_triplet_distance_function_lambda_swapped_between_calls_and_closure_value_changed():
    def setup():
        net = embedder()
        criterion = nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: 1 - F.cosine_similarity(x, y))
        opt = optim.SGD(net.parameters(), lr=0.1)
        cfg = {"p": 2}
        distances = [lambda x, y: 1 - F.cosine_similarity(x, y),
                     lambda x, y: F.pairwise_distance(x, y),
                     lambda x, y: torch.cdist(x.unsqueeze(1), y.unsqueeze(1), p=cfg["p"]).view(-1)]

        def before(i):
            criterion.distance_function = distances[i % 3]
            cfg["p"] = 1 if i == 5 else 2

        def step(a, p, n):
            opt.zero_grad()
            loss = criterion(net(a), net(p), net(n))
            loss.backward()
            opt.step()
            return loss

        return Case(step, lambda: [net, opt], triplets, before)

    same_as_eager(setup, calls=7)
