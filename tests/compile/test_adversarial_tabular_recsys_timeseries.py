"""chainrule.compile against eager execution on TABULAR, RECOMMENDER and TIME-SERIES training steps:
categorical features through nn.Embedding (padding_idx, max_norm renormalising the weight in place
during forward, scale_grad_by_freq), nn.EmbeddingBag (sum/mean/max, offsets, per_sample_weights),
matrix factorisation with user/item biases, BPR loss with F.logsigmoid and negatives drawn by
chainrule.randint inside the step, index_add_/scatter_add_ aggregations, one_hot features, embeddings
concatenated with numeric features, BatchNorm1d on tabular inputs, BCEWithLogitsLoss(pos_weight),
hand-written focal loss, windows from Tensor.unfold, causal dilated Conv1d with F.pad, LSTM/GRU
forecasting with teacher forcing, masked MSE over padded sequences, standardisation inside the step
or passed in, and batch sizes that change between calls.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, Python side effects, Python's random state and chainrule's random stream. A
compiled run may record anew or fall back to eager with at most one warning.
"""
import random
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


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
    def __init__(self, step, observe, inputs, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs
        self.before = before or (lambda i: None)


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    random.seed(0)
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
    history.append(("python random", random.getstate()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=6):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def rng(i, base=0):
    return np.random.default_rng(1000 * base + 17 + i)


def longs(g, high, shape):
    return chainrule.tensor(g.integers(0, high, shape), dtype=chainrule.int64)


def floats(g, shape, dtype=chainrule.float64):
    return chainrule.tensor(g.standard_normal(shape), dtype=dtype)


def plain_step(model, opt, loss_fn):
    def step(*args):
        opt.zero_grad()
        loss = loss_fn(model, *args)
        loss.backward()
        opt.step()
        return loss
    return step


# ----------------------------------------------------------------------------- nn.Embedding
class CategoricalNet(nn.Module):
    """Three categorical columns through embeddings (one with a padding row), concatenated with the
    numeric columns, BatchNorm1d, an MLP: the usual entity-embedding tabular model."""

    def __init__(self, cards=(7, 5, 11), dims=(3, 2, 4), numeric=3, padding_idx=0):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(c, d, padding_idx=padding_idx if k == 0 else None)
                                     for k, (c, d) in enumerate(zip(cards, dims))])
        self.bn = nn.BatchNorm1d(numeric)
        self.emb_drop = nn.Dropout(0.1)
        self.mlp = nn.Sequential(nn.Linear(sum(dims) + numeric, 8), nn.ReLU(), nn.Linear(8, 1))
        self.cards = cards

    def forward(self, cats, nums):
        embedded = [emb(cats[:, k]) for k, emb in enumerate(self.embeds)]
        x = chainrule.cat(embedded + [self.bn(nums)], dim=1)
        return self.mlp(self.emb_drop(x)).squeeze(-1)


def tabular_inputs(sizes, cards=(7, 5, 11), numeric=3, dtype=chainrule.float64, base=0):
    def inputs(i):
        g = rng(i, base)
        b = sizes[i % len(sizes)]
        cats = chainrule.stack([longs(g, c, (b,)) for c in cards], dim=1)
        return cats, floats(g, (b, numeric), dtype), floats(g, (b,), dtype)
    return inputs


def test_entity_embeddings_concat_batchnorm_with_changing_batch_size():
    def setup():
        net = CategoricalNet().double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def loss(m, cats, nums, y):
            return F.mse_loss(m(cats, nums), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], tabular_inputs([8, 8, 5, 8, 3, 5]))

    same_as_eager(setup, calls=7)


class PaddedBagOfTokens(nn.Module):
    def __init__(self, vocab=12, dim=4, padding_idx=0):
        super().__init__()
        self.emb = nn.Embedding(vocab, dim, padding_idx=padding_idx)
        self.out = nn.Linear(dim, 1)

    def forward(self, ids):
        mask = (ids != self.emb.padding_idx).unsqueeze(-1).to(self.emb.weight.dtype)
        pooled = (self.emb(ids) * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.out(pooled).squeeze(-1)


def padded_id_inputs(shapes, vocab=12, base=1):
    def inputs(i):
        g = rng(i, base)
        b, length = shapes[i % len(shapes)]
        ids = g.integers(1, vocab, (b, length))
        cut = g.integers(1, length + 1, (b,))
        ids[np.arange(length)[None, :] >= cut[:, None]] = 0
        return chainrule.tensor(ids, dtype=chainrule.int64), floats(g, (b,))
    return inputs


def test_padding_idx_changed_on_the_module_between_calls():
    def setup():
        net = PaddedBagOfTokens().double()
        opt = optim.SGD(net.parameters(), lr=0.2)

        def loss(m, ids, y):
            return F.mse_loss(m(ids), y)

        def before(i):
            net.emb.padding_idx = [0, 0, 3, 3, 0, 5][i]
        return Case(plain_step(net, opt, loss), lambda: [net, opt], padded_id_inputs([(4, 5)]), before)

    same_as_eager(setup, calls=6)


class MaxNormEmbeddingModel(nn.Module):
    def __init__(self, n=10, dim=4, max_norm=1.0, norm_type=2.0):
        super().__init__()
        self.emb = nn.Embedding(n, dim, max_norm=max_norm, norm_type=norm_type)
        with chainrule.no_grad():
            self.emb.weight.mul_(2.0)  # many rows start longer than max_norm
        self.head = nn.Linear(dim, 1)

    def forward(self, ids):
        return self.head(self.emb(ids).mean(1)).squeeze(-1)


def id_inputs(b, length, n=10, base=2, sizes=None):
    def inputs(i):
        g = rng(i, base)
        bb = b if sizes is None else sizes[i % len(sizes)]
        return longs(g, n, (bb, length)), floats(g, (bb,))
    return inputs


def test_max_norm_renormalises_rows_read_by_each_call():
    def setup():
        net = MaxNormEmbeddingModel().double()
        opt = optim.SGD(net.parameters(), lr=0.5)

        def loss(m, ids, y):
            return F.mse_loss(m(ids), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], id_inputs(3, 2))

    same_as_eager(setup, calls=7)


def test_max_norm_changed_between_calls_and_norm_type_one():
    def setup():
        net = MaxNormEmbeddingModel(norm_type=1.0).double()
        opt = optim.Adam(net.parameters(), lr=0.1)

        def loss(m, ids, y):
            return F.mse_loss(m(ids), y)

        def before(i):
            net.emb.max_norm = [1.0, 1.0, 0.5, 0.5, 2.0, None, 0.25][i]
        return Case(plain_step(net, opt, loss), lambda: [net, opt], id_inputs(3, 3), before)

    same_as_eager(setup, calls=7)


def test_max_norm_forward_under_no_grad_still_writes_the_weight():
    def setup():
        net = MaxNormEmbeddingModel(max_norm=0.7).double()

        def score(ids, y):
            with chainrule.no_grad():
                return net(ids)
        return Case(score, lambda: [net], id_inputs(2, 2, sizes=[2, 2, 4]))

    same_as_eager(setup, calls=6)


def test_max_norm_float32_embedding_read_twice_in_one_step():
    """The same table read for the query and for the candidates: the second read renormalises rows
    the first one already renormalised."""
    def setup():
        emb = nn.Embedding(9, 3, max_norm=1.0)
        with chainrule.no_grad():
            emb.weight.mul_(3.0)
        opt = optim.SGD(emb.parameters(), lr=0.3)

        def step(q, c):
            opt.zero_grad()
            scores = (emb(q).unsqueeze(1) * emb(c)).sum(-1)
            loss = F.cross_entropy(scores, chainrule.zeros(q.shape[0], dtype=chainrule.int64))
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 3)
            return longs(g, 9, (4,)), longs(g, 9, (4, 3))
        return Case(step, lambda: [emb, opt], inputs)

    same_as_eager(setup, calls=6)


def test_scale_grad_by_freq_with_repeated_ids_and_toggled_between_calls():
    def setup():
        emb = nn.Embedding(6, 3, scale_grad_by_freq=True).double()
        head = nn.Linear(3, 1).double()
        opt = optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.1)

        def step(ids, y):
            opt.zero_grad()
            loss = F.mse_loss(head(emb(ids)).squeeze(-1).sum(1), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            emb.scale_grad_by_freq = i not in (3, 4)

        def inputs(i):
            g = rng(i, 4)
            return longs(g, 3 if i % 2 else 6, (4, 5)), floats(g, (4,))
        return Case(step, lambda: [emb, head, opt], inputs, before)

    same_as_eager(setup, calls=7)


def test_transe_style_manual_renorm_of_entity_table_after_step():
    def setup():
        ent = nn.Embedding(8, 4).double()
        rel = nn.Embedding(3, 4).double()
        opt = optim.SGD(list(ent.parameters()) + list(rel.parameters()), lr=0.05)
        margin = [1.0]

        def step(h, r, t, t_neg):
            with chainrule.no_grad():
                ent.weight.div_(ent.weight.norm(p=2, dim=1, keepdim=True).clamp(min=1.0))
            opt.zero_grad()
            pos = (ent(h) + rel(r) - ent(t)).norm(p=2, dim=1)
            neg = (ent(h) + rel(r) - ent(t_neg)).norm(p=2, dim=1)
            loss = F.relu(margin[0] + pos - neg).mean()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            margin[0] = [1.0, 1.0, 2.0, 0.5, 1.0, 1.0][i]

        def inputs(i):
            g = rng(i, 5)
            return longs(g, 8, (5,)), longs(g, 3, (5,)), longs(g, 8, (5,)), longs(g, 8, (5,))
        return Case(step, lambda: [ent, rel, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- nn.EmbeddingBag
class BagClassifier(nn.Module):
    def __init__(self, vocab=15, dim=4, classes=3, mode="mean", **kw):
        super().__init__()
        self.bag = nn.EmbeddingBag(vocab, dim, mode=mode, **kw)
        self.fc = nn.Linear(dim, classes)

    def forward(self, text, offsets=None, per_sample_weights=None):
        return self.fc(self.bag(text, offsets, per_sample_weights=per_sample_weights))


def offset_inputs(vocab=15, classes=3, base=6, weights=False, bags=(3, 3, 4, 3, 2, 3)):
    """The text-classification tutorial's collate: token ids concatenated, offsets the cumulative lengths."""
    def inputs(i):
        g = rng(i, base)
        n = bags[i % len(bags)]
        lengths = g.integers(1, 5, (n,))
        text = longs(g, vocab, (int(lengths.sum()),))
        offsets = chainrule.tensor(np.concatenate([[0], np.cumsum(lengths)[:-1]]), dtype=chainrule.int64)
        label = longs(g, classes, (n,))
        out = (text, offsets, label)
        if weights:
            out += (chainrule.tensor(g.uniform(0.1, 1.0, (int(lengths.sum()),))),)
        return out
    return inputs


@pytest.mark.parametrize("mode", ["mean", "max"])
def test_embeddingbag_offsets_text_classification(mode):
    def setup():
        net = BagClassifier(mode=mode).double()
        opt = optim.SGD(net.parameters(), lr=0.5)
        sched = optim.lr_scheduler.StepLR(opt, 1, gamma=0.9)

        def step(text, offsets, label):
            opt.zero_grad()
            loss = F.cross_entropy(net(text, offsets), label)
            loss.backward()
            chainrule.nn.utils.clip_grad_norm_(net.parameters(), 0.1)
            opt.step()
            return loss

        def before(i):
            if i:
                sched.step()
        return Case(step, lambda: [net, opt], offset_inputs(), before)

    same_as_eager(setup, calls=6)


def test_embeddingbag_2d_input_fixed_length_bags_max_mode_changing_batch():
    def setup():
        net = BagClassifier(mode="max").double()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(ids, label):
            opt.zero_grad()
            loss = F.cross_entropy(net(ids), label)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 7)
            b = [4, 4, 2, 4, 6, 6][i]
            return longs(g, 15, (b, 3)), longs(g, 3, (b,))
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_embeddingbag_2d_padding_idx_mean_mode_changed_between_calls():
    def setup():
        net = BagClassifier(mode="mean", padding_idx=0).double()
        opt = optim.SGD(net.parameters(), lr=0.3)

        def step(ids, label):
            opt.zero_grad()
            loss = F.cross_entropy(net(ids), label)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            net.bag.mode = ["mean", "mean", "sum", "sum", "max", "mean"][i]

        def inputs(i):
            g = rng(i, 9)
            ids = g.integers(0, 6, (4, 4))  # many padding entries, sometimes a whole bag
            return chainrule.tensor(ids, dtype=chainrule.int64), longs(g, 3, (4,))
        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- matrix factorisation, BPR
class MF(nn.Module):
    def __init__(self, users=7, items=9, dim=3, global_mean=3.5):
        super().__init__()
        self.user = nn.Embedding(users, dim)
        self.item = nn.Embedding(items, dim)
        self.user_bias = nn.Embedding(users, 1)
        self.item_bias = nn.Embedding(items, 1)
        nn.init.normal_(self.user.weight, std=0.1)
        nn.init.normal_(self.item.weight, std=0.1)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
        self.global_mean = global_mean

    def forward(self, u, i):
        dot = (self.user(u) * self.item(i)).sum(1)
        return dot + self.user_bias(u).squeeze() + self.item_bias(i).squeeze() + self.global_mean


def rating_inputs(sizes, users=7, items=9, base=11, dtype=chainrule.float64):
    def inputs(i):
        g = rng(i, base)
        b = sizes[i % len(sizes)]
        return longs(g, users, (b,)), longs(g, items, (b,)), chainrule.tensor(g.integers(1, 6, (b,)).astype(float), dtype=dtype)
    return inputs


def test_matrix_factorisation_with_biases_and_weight_decay_changing_batch_sizes():
    def setup():
        mf = MF().double()
        opt = optim.SGD(mf.parameters(), lr=0.05, weight_decay=1e-3)

        def loss(m, u, i, r):
            return F.mse_loss(m(u, i), r)
        return Case(plain_step(mf, opt, loss), lambda: [mf, opt], rating_inputs([6, 6, 4, 1, 6, 2, 6]))

    same_as_eager(setup, calls=7)


def test_matrix_factorisation_global_mean_attribute_changed_between_calls():
    def setup():
        mf = MF().double()
        opt = optim.Adam(mf.parameters(), lr=0.02)

        def loss(m, u, i, r):
            return F.mse_loss(m(u, i), r)

        def before(i):
            mf.global_mean = [3.5, 3.5, 3.0, 3.25, 3.25, 0.0][i]
        return Case(plain_step(mf, opt, loss), lambda: [mf, opt], rating_inputs([5]), before)

    same_as_eager(setup, calls=6)


def test_bpr_loss_with_negatives_from_randint_inside_the_step():
    def setup():
        mf = MF(dim=4).double()
        opt = optim.Adam(mf.parameters(), lr=0.05)

        def step(u, pos):
            opt.zero_grad()
            neg = chainrule.randint(0, mf.item.num_embeddings, (u.shape[0],))
            eu = mf.user(u)
            x_uij = (eu * mf.item(pos)).sum(1) - (eu * mf.item(neg)).sum(1)
            loss = -F.logsigmoid(x_uij).mean() + 1e-4 * eu.norm(2).pow(2)
            loss.backward()
            opt.step()
            return loss, neg

        def inputs(i):
            g = rng(i, 12)
            b = [5, 5, 3, 5, 8, 8][i]
            return longs(g, 7, (b,)), longs(g, 9, (b,))
        return Case(step, lambda: [mf, opt], inputs)

    same_as_eager(setup, calls=6)


def test_bpr_several_negatives_per_positive_num_items_attribute_changed():
    def setup():
        user = nn.Embedding(6, 3).double()
        item = nn.Embedding(12, 3).double()
        opt = optim.SGD(list(user.parameters()) + list(item.parameters()), lr=0.2)
        sampler = {"num_items": 12, "k": 3}

        def step(u, pos):
            opt.zero_grad()
            neg = chainrule.randint(sampler["num_items"], (u.shape[0], sampler["k"]))
            eu = user(u)
            pos_score = (eu * item(pos)).sum(-1, keepdim=True)
            neg_score = (eu.unsqueeze(1) * item(neg)).sum(-1)
            loss = -F.logsigmoid(pos_score - neg_score).mean()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            sampler["num_items"] = [12, 12, 5, 5, 12, 8][i]
            sampler["k"] = [3, 3, 3, 1, 2, 2][i]

        def inputs(i):
            g = rng(i, 13)
            return longs(g, 6, (4,)), longs(g, 5, (4,))
        return Case(step, lambda: [user, item, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_negative_sampling_bce_with_generator_argument():
    def setup():
        mf = MF(dim=2).double()
        opt = optim.SGD(mf.parameters(), lr=0.1)
        gen = chainrule.Generator().manual_seed(123)

        def step(u, pos):
            opt.zero_grad()
            neg = chainrule.randint(0, 9, (u.shape[0],), generator=gen)
            users = chainrule.cat([u, u])
            items = chainrule.cat([pos, neg])
            labels = chainrule.cat([chainrule.ones(u.shape[0]), chainrule.zeros(u.shape[0])]).double()
            loss = F.binary_cross_entropy_with_logits(mf(users, items) - mf.global_mean, labels)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 14)
            b = [4, 4, 4, 2, 4][i]
            return longs(g, 7, (b,)), longs(g, 9, (b,))
        return Case(step, lambda: [mf, opt, ("gen", gen.get_state())], inputs)

    same_as_eager(setup, calls=5)


def test_recommendation_topk_excluding_seen_items_returns_lists():
    def setup():
        mf = MF(dim=3).double()

        @chainrule.no_grad()
        def recommend(u, seen_rows, seen_cols, k):
            scores = mf.user(u) @ mf.item.weight.t() + mf.item_bias.weight.t()
            scores[seen_rows, seen_cols] = -float("inf")
            top = scores.topk(k, dim=1)
            return top.indices.tolist(), top.values

        def inputs(i):
            g = rng(i, 15)
            b = [3, 3, 2, 3, 3][i]
            n_seen = [4, 4, 2, 6, 4][i]
            return (longs(g, 7, (b,)), longs(g, b, (n_seen,)), longs(g, 9, (n_seen,)), [2, 2, 2, 3, 1][i])
        return Case(recommend, lambda: [mf], inputs)

    same_as_eager(setup, calls=5)


# ----------------------------------------------------------------------------- aggregations, one_hot, FM
def test_user_profile_mean_of_item_embeddings_by_index_add():
    def setup():
        item = nn.Embedding(10, 3).double()
        head = nn.Linear(3, 1).double()
        opt = optim.Adam(list(item.parameters()) + list(head.parameters()), lr=0.05)

        def step(user_of_event, item_of_event, n_users, y):
            opt.zero_grad()
            e = item(item_of_event)
            total = chainrule.zeros(n_users, 3, dtype=e.dtype).index_add_(0, user_of_event, e)
            count = chainrule.zeros(n_users, dtype=e.dtype).index_add_(0, user_of_event, chainrule.ones_like(user_of_event, dtype=e.dtype))
            profile = total / count.clamp(min=1).unsqueeze(1)
            loss = F.mse_loss(head(profile).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss, count

        def inputs(i):
            g = rng(i, 16)
            n_users = [3, 3, 4, 3, 5][i]
            events = [7, 7, 7, 9, 4][i]
            return longs(g, n_users, (events,)), longs(g, 10, (events,)), n_users, floats(g, (n_users,))
        return Case(step, lambda: [item, head, opt], inputs)

    same_as_eager(setup, calls=5)


def test_scatter_add_session_pooling_and_alpha_scaled_index_add():
    def setup():
        item = nn.Embedding(8, 4).double()
        out = nn.Linear(4, 8).double()
        opt = optim.SGD(list(item.parameters()) + list(out.parameters()), lr=0.2, nesterov=True, momentum=0.5)
        alpha = [1.0]

        def step(session, items, target, n):
            opt.zero_grad()
            e = item(items)
            pooled = chainrule.zeros(n, 4, dtype=e.dtype).scatter_add(0, session.unsqueeze(1).expand(-1, 4), e)
            pooled = pooled.index_add(0, session, e, alpha=alpha[0])
            loss = F.cross_entropy(out(pooled), target[:n])
            loss.backward()
            opt.step()
            return loss

        def before(i):
            alpha[0] = [1.0, 1.0, -0.5, 2.0, 2.0, 0.0][i]

        def inputs(i):
            g = rng(i, 17)
            session = np.sort(g.integers(0, [3, 3, 3, 2, 4, 3][i], (6,)))
            n = int(session.max()) + 1
            return chainrule.tensor(session, dtype=chainrule.int64), longs(g, 8, (6,)), longs(g, 8, (4,)), n
        return Case(step, lambda: [item, out, opt], inputs, before)

    same_as_eager(setup, calls=6)


def test_one_hot_with_inferred_num_classes_concatenated_with_numeric():
    def setup():
        lin = nn.Linear(6, 1).double()
        opt = optim.SGD(lin.parameters(), lr=0.1)

        def step(cat, nums, y):
            opt.zero_grad()
            oh = F.one_hot(cat).double()
            oh = F.pad(oh, (0, 4 - oh.shape[1]))
            x = chainrule.cat([oh, nums], dim=1)
            loss = F.mse_loss(lin(x).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 18)
            high = [4, 4, 3, 4, 2, 4][i]
            return longs(g, high, (5,)), floats(g, (5, 2)), floats(g, (5,))
        return Case(step, lambda: [lin, opt], inputs)

    same_as_eager(setup, calls=6)


def test_one_hot_with_fixed_num_classes_raises_for_out_of_range_value():
    def setup():
        lin = nn.Linear(5, 1).double()
        opt = optim.SGD(lin.parameters(), lr=0.1)

        def step(cat, y):
            opt.zero_grad()
            x = F.one_hot(cat, num_classes=5).to(chainrule.float64)
            loss = F.mse_loss(lin(x).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 19)
            cat = g.integers(0, 5, (4,))
            if i == 3:
                cat[1] = 5
            return chainrule.tensor(cat, dtype=chainrule.int64), floats(g, (4,))
        return Case(step, lambda: [lin, opt], inputs)

    same_as_eager(setup, calls=6)


class FactorizationMachine(nn.Module):
    def __init__(self, field_dims=(4, 5, 3), k=3):
        super().__init__()
        self.offsets = nn.Parameter(chainrule.tensor(np.concatenate([[0], np.cumsum(field_dims)[:-1]]), dtype=chainrule.int64), requires_grad=False)
        n = sum(field_dims)
        self.linear = nn.Embedding(n, 1)
        self.bias = nn.Parameter(chainrule.zeros(1))
        self.v = nn.Embedding(n, k)

    def forward(self, x):
        x = x + self.offsets.unsqueeze(0)
        emb = self.v(x)
        square_of_sum = emb.sum(1) ** 2
        sum_of_square = (emb ** 2).sum(1)
        inter = 0.5 * (square_of_sum - sum_of_square).sum(1)
        return self.linear(x).sum((1, 2)) + self.bias + inter


def test_factorization_machine_with_offsets_parameter_and_bce():
    def setup():
        fm = FactorizationMachine().double()
        opt = optim.Adam([p for p in fm.parameters() if p.requires_grad], lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(fm(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 20)
            b = [6, 6, 3, 6, 6][i]
            x = np.stack([g.integers(0, c, b) for c in (4, 5, 3)], axis=1)
            return chainrule.tensor(x, dtype=chainrule.int64), chainrule.tensor(g.integers(0, 2, b).astype(float))
        return Case(step, lambda: [fm, opt], inputs)

    same_as_eager(setup, calls=5)


class NCF(nn.Module):
    """Neural collaborative filtering: GMF and MLP towers over separate embeddings, fused."""

    def __init__(self, users=6, items=8, dim=3):
        super().__init__()
        self.gmf_u, self.gmf_i = nn.Embedding(users, dim), nn.Embedding(items, dim)
        self.mlp_u, self.mlp_i = nn.Embedding(users, dim), nn.Embedding(items, dim)
        self.mlp = nn.Sequential(nn.Linear(2 * dim, 4), nn.ReLU(), nn.Dropout(0.2), nn.Linear(4, 2), nn.ReLU())
        self.out = nn.Linear(dim + 2, 1)

    def forward(self, u, i):
        gmf = self.gmf_u(u) * self.gmf_i(i)
        mlp = self.mlp(chainrule.cat([self.mlp_u(u), self.mlp_i(i)], dim=-1))
        return self.out(chainrule.cat([gmf, mlp], dim=-1)).view(-1)


def test_neural_collaborative_filtering_with_dropout_and_eval_scoring():
    def setup():
        net = NCF().double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(u, i, y):
            if net.training:
                opt.zero_grad()
                loss = nn.BCEWithLogitsLoss()(net(u, i), y)
                loss.backward()
                opt.step()
                return loss
            with chainrule.no_grad():
                return chainrule.sigmoid(net(u, i))

        def before(i):
            net.train(i != 3)

        def inputs(i):
            g = rng(i, 21)
            b = [5, 5, 5, 5, 7, 5][i]
            return longs(g, 6, (b,)), longs(g, 8, (b,)), chainrule.tensor(g.integers(0, 2, b).astype(float))
        return Case(step, lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- tabular losses, BatchNorm1d
class TabularMLP(nn.Module):
    def __init__(self, d=5, hidden=6, momentum=0.1):
        super().__init__()
        self.bn_in = nn.BatchNorm1d(d, momentum=momentum)
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(self.bn_in(x)).squeeze(-1)


def binary_inputs(sizes, d=5, base=22, dtype=chainrule.float64, rate=0.2):
    def inputs(i):
        g = rng(i, base)
        b = sizes[i % len(sizes)]
        return floats(g, (b, d), dtype), chainrule.tensor((g.random(b) < rate).astype(float), dtype=dtype)
    return inputs


def test_weighted_bce_pos_weight_edited_in_place_between_calls():
    def setup():
        net = TabularMLP().double()
        crit = nn.BCEWithLogitsLoss(pos_weight=chainrule.tensor([4.0], dtype=chainrule.float64))
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            if i in (2, 4):
                crit.pos_weight.mul_(0.5)

        def loss(m, x, y):
            return crit(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt, crit.pos_weight], binary_inputs([8, 8, 6]), before)

    same_as_eager(setup, calls=6)


def test_weighted_bce_pos_weight_recomputed_from_batch_inside_the_step():
    def setup():
        net = TabularMLP(momentum=None).double()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            pos = y.sum()
            pos_weight = (y.numel() - pos) / pos.clamp(min=1.0)
            loss = F.binary_cross_entropy_with_logits(net(x), y, pos_weight=pos_weight)
            loss.backward()
            opt.step()
            return loss, pos_weight
        return Case(step, lambda: [net, opt], binary_inputs([8, 8, 4, 8, 8, 5], rate=0.4))

    same_as_eager(setup, calls=6)


def test_weighted_bce_per_column_pos_weight_multilabel_float32():
    def setup():
        net = nn.Sequential(nn.BatchNorm1d(4), nn.Linear(4, 3))
        crit = nn.BCEWithLogitsLoss(pos_weight=chainrule.tensor([1.0, 3.0, 9.0]), reduction="sum")
        opt = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

        def before(i):
            if i == 3:
                crit.pos_weight = chainrule.tensor([2.0, 2.0, 2.0])
            if i == 4:
                crit.reduction = "mean"

        def inputs(i):
            g = rng(i, 23)
            return floats(g, (6, 4), chainrule.float32), chainrule.tensor((g.random((6, 3)) < 0.3).astype(np.float32))

        def loss(m, x, y):
            return crit(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], inputs, before)

    same_as_eager(setup, calls=6)


class FocalLoss(nn.Module):
    def __init__(self, alpha=0.25, gamma=2.0, reduction="mean"):
        super().__init__()
        self.alpha, self.gamma, self.reduction = alpha, gamma, reduction

    def forward(self, logits, targets):
        bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        p = chainrule.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        alpha_t = self.alpha * targets + (1 - self.alpha) * (1 - targets)
        loss = alpha_t * (1 - p_t) ** self.gamma * bce
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss


def test_hand_written_focal_loss_gamma_and_alpha_changed_between_calls():
    def setup():
        net = TabularMLP().double()
        crit = FocalLoss()
        opt = optim.Adam(net.parameters(), lr=0.02)

        def before(i):
            crit.gamma = [2.0, 2.0, 0.0, 1.5, 1.5, 2][i]
            crit.alpha = [0.25, 0.25, 0.25, 0.5, 0.75, 0.75][i]
            crit.reduction = "sum" if i == 5 else "mean"

        def loss(m, x, y):
            return crit(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], binary_inputs([7]), before)

    same_as_eager(setup, calls=6)


def test_multiclass_focal_loss_with_log_softmax_gather_and_class_weights():
    def setup():
        net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.SiLU(), nn.Linear(8, 3)).double()
        weights = chainrule.tensor([1.0, 2.0, 5.0], dtype=chainrule.float64)
        opt = optim.SGD(net.parameters(), lr=0.05)
        gamma = [2.0]

        def step(x, y):
            opt.zero_grad()
            logp = F.log_softmax(net(x), dim=1)
            logp_t = logp.gather(1, y.unsqueeze(1)).squeeze(1)
            pt = logp_t.exp()
            loss = (-(weights[y]) * (1 - pt).pow(gamma[0]) * logp_t).sum() / weights[y].sum()
            loss.backward()
            opt.step()
            return loss

        def before(i):
            gamma[0] = [2.0, 2.0, 0.5, 0.5, 3.0, 3.0][i]
            if i == 4:
                weights[2] = 1.0

        def inputs(i):
            g = rng(i, 24)
            b = [6, 6, 6, 9, 6, 6][i]
            return floats(g, (b, 5)), longs(g, 3, (b,))
        return Case(step, lambda: [net, opt, weights], inputs, before)

    same_as_eager(setup, calls=6)


def test_batchnorm1d_tabular_momentum_and_eps_changed_and_batch_of_one_raises():
    def setup():
        net = TabularMLP().double()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def before(i):
            net.bn_in.momentum = [0.1, 0.1, 0.5, None, None, 0.1, 0.1][i]
            net.bn_in.eps = 1e-5 if i < 5 else 1e-2

        def loss(m, x, y):
            return F.mse_loss(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], binary_inputs([6, 6, 6, 6, 1, 6, 6]), before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- time series: windows, causal conv
def series_inputs(lengths, base=25, dtype=chainrule.float64, channels=None):
    def inputs(i):
        g = rng(i, base)
        n = lengths[i % len(lengths)]
        t = np.arange(n)
        shape = (n,) if channels is None else (channels, n)
        x = np.sin(0.3 * t + i) + 0.1 * g.standard_normal(shape)
        return (chainrule.tensor(x, dtype=dtype),)
    return inputs


def test_unfold_windows_autoregressive_linear_with_changing_series_length():
    def setup():
        window = {"size": 5, "step": 1}
        ar = nn.Linear(5, 1).double()
        opt = optim.SGD(ar.parameters(), lr=0.05)

        def step(series):
            opt.zero_grad()
            w = series.unfold(0, window["size"] + 1, window["step"])
            x, y = w[:, :-1], w[:, -1]
            loss = F.mse_loss(ar(x).squeeze(-1), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [ar, opt], series_inputs([20, 20, 17, 20, 31, 31]))

    same_as_eager(setup, calls=6)


def test_unfold_window_step_attribute_changed_between_calls():
    def setup():
        model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
        opt = optim.Adam(model.parameters(), lr=0.01)
        cfg = {"step": 1}

        def step(series):
            opt.zero_grad()
            w = series.unfold(1, 6, cfg["step"])  # (C, N, 6)
            w = w.permute(1, 0, 2).reshape(-1, 6)
            loss = F.l1_loss(model(w[:, :4]), w[:, 4:])
            loss.backward()
            opt.step()
            return loss, w.shape[0]

        def before(i):
            cfg["step"] = [1, 1, 2, 3, 3, 1][i]
        return Case(step, lambda: [model, opt], series_inputs([16], channels=2), before)

    same_as_eager(setup, calls=6)


class CausalConv1d(nn.Module):
    def __init__(self, cin, cout, kernel_size, dilation=1):
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(cin, cout, kernel_size, dilation=dilation)

    def forward(self, x):
        return self.conv(F.pad(x, (self.pad, 0)))


class TCN(nn.Module):
    def __init__(self, channels=4, kernel_size=2, dilations=(1, 2, 4)):
        super().__init__()
        self.inp = nn.Conv1d(1, channels, 1)
        self.blocks = nn.ModuleList([CausalConv1d(channels, channels, kernel_size, d) for d in dilations])
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, x):
        h = self.inp(x)
        for block in self.blocks:
            h = h + F.relu(block(h))
        return self.out(h)


def tcn_inputs(shapes, base=26, dtype=chainrule.float64):
    def inputs(i):
        g = rng(i, base)
        b, n = shapes[i % len(shapes)]
        x = np.cumsum(g.standard_normal((b, 1, n + 1)), axis=-1) * 0.1
        x = chainrule.tensor(x, dtype=dtype)
        return x[..., :-1], x[..., 1:]
    return inputs


def test_causal_dilated_tcn_next_step_prediction_changing_lengths():
    def setup():
        net = TCN().double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def loss(m, x, y):
            return F.mse_loss(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], tcn_inputs([(2, 12), (2, 12), (3, 9), (2, 12), (1, 20)]))

    same_as_eager(setup, calls=6)


def test_causal_conv_dilation_and_pad_changed_on_a_block_between_calls():
    def setup():
        net = TCN(dilations=(1, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def before(i):
            d = [2, 2, 4, 4, 1, 2][i]
            net.blocks[1].conv.dilation = (d,)
            net.blocks[1].pad = (net.blocks[1].conv.kernel_size[0] - 1) * d

        def loss(m, x, y):
            return F.mse_loss(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], tcn_inputs([(2, 10)]), before)

    same_as_eager(setup, calls=6)


def test_wavenet_style_gated_causal_conv_float32_with_receptive_field_slice():
    def setup():
        conv_f = nn.Conv1d(2, 3, 2, dilation=2)
        conv_g = nn.Conv1d(2, 3, 2, dilation=2)
        proj = nn.Conv1d(3, 2, 1)
        params = list(conv_f.parameters()) + list(conv_g.parameters()) + list(proj.parameters())
        opt = optim.RMSprop(params, lr=0.005)
        receptive = 2

        def step(x):
            opt.zero_grad()
            xp = F.pad(x, (receptive, 0))
            z = chainrule.tanh(conv_f(xp)) * chainrule.sigmoid(conv_g(xp))
            out = proj(z) + x
            loss = F.mse_loss(out[..., receptive:-1], x[..., receptive + 1:])
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 27)
            n = [10, 10, 8, 10, 10][i]
            return (floats(g, (2, 2, n), chainrule.float32),)
        return Case(step, lambda: [conv_f, conv_g, proj, opt], inputs)

    same_as_eager(setup, calls=5)


# ----------------------------------------------------------------------------- RNN forecasting, masking, scaling
class Seq2SeqForecaster(nn.Module):
    def __init__(self, cell="gru", hidden=5):
        super().__init__()
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.encoder = rnn(1, hidden, batch_first=True)
        self.decoder = rnn(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)
        self.teacher_forcing_ratio = 0.5

    def forward(self, history, target, chooser):
        _, state = self.encoder(history)
        inp = history[:, -1:, :]
        outs = []
        for t in range(target.shape[1]):
            out, state = self.decoder(inp, state)
            pred = self.head(out)
            outs.append(pred)
            inp = target[:, t:t + 1, :] if chooser(self.teacher_forcing_ratio) else pred
        return chainrule.cat(outs, dim=1)


def forecast_inputs(shapes, base=28, dtype=chainrule.float64):
    def inputs(i):
        g = rng(i, base)
        b, n_in, n_out = shapes[i % len(shapes)]
        x = np.sin(np.arange(n_in + n_out)[None, :] * 0.4 + g.uniform(0, 3, (b, 1)))[..., None]
        x = chainrule.tensor(x, dtype=dtype)
        return x[:, :n_in], x[:, n_in:]
    return inputs


def test_gru_forecaster_teacher_forcing_by_python_random_draw():
    def setup():
        net = Seq2SeqForecaster("gru").double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def loss(m, history, target):
            return F.mse_loss(m(history, target, lambda r: random.random() < r), target)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], forecast_inputs([(2, 5, 3)]))

    same_as_eager(setup, calls=5)


def test_lstm_forecaster_teacher_forcing_by_chainrule_rand_item_ratio_decayed():
    def setup():
        net = Seq2SeqForecaster("lstm").double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            net.teacher_forcing_ratio = max(0.0, 0.9 - 0.2 * i)

        def loss(m, history, target):
            return F.mse_loss(m(history, target, lambda r: chainrule.rand(1).item() < r), target)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], forecast_inputs([(2, 4, 3), (2, 4, 3), (3, 4, 2)]), before)

    same_as_eager(setup, calls=6)


def test_lstm_forecaster_with_teacher_forcing_flag_argument_and_grad_clipping():
    def setup():
        net = Seq2SeqForecaster("lstm", hidden=4)
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def step(history, target, force):
            opt.zero_grad()
            pred = net(history, target, lambda r: force)
            loss = F.mse_loss(pred, target)
            loss.backward()
            nn.utils.clip_grad_value_(net.parameters(), 0.05)
            opt.step()
            return loss

        def inputs(i):
            return forecast_inputs([(2, 4, 3)], dtype=chainrule.float32)(i) + ([True, True, False, True, False, False][i],)
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def padded_sequences(lengths_per_call, features=2, base=29, dtype=chainrule.float64):
    def inputs(i):
        g = rng(i, base)
        lengths = lengths_per_call[i % len(lengths_per_call)]
        n = max(lengths)
        x = g.standard_normal((len(lengths), n, features))
        y = g.standard_normal((len(lengths), n))
        for row, length in enumerate(lengths):
            x[row, length:] = 0.0
            y[row, length:] = 0.0
        return chainrule.tensor(x, dtype=dtype), chainrule.tensor(y, dtype=dtype), chainrule.tensor(lengths, dtype=chainrule.int64)
    return inputs


def test_masked_mse_over_padded_sequences_from_lengths_tensor():
    def setup():
        rnn = nn.GRU(2, 4, batch_first=True).double()
        head = nn.Linear(4, 1).double()
        opt = optim.Adam(list(rnn.parameters()) + list(head.parameters()), lr=0.02)

        def step(x, y, lengths):
            opt.zero_grad()
            out, _ = rnn(x)
            pred = head(out).squeeze(-1)
            mask = chainrule.arange(x.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
            loss = ((pred - y) ** 2 * mask).sum() / mask.sum()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [rnn, head, opt], padded_sequences([[5, 3, 2], [5, 3, 2], [4, 4, 1], [5, 5, 5], [2, 1, 1], [6, 3]]))

    same_as_eager(setup, calls=6)


def test_standardisation_with_batch_statistics_inside_the_step():
    def setup():
        net = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 1)).double()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            mu, sigma = x.mean(0, keepdim=True), x.std(0, keepdim=True)
            ymu, ysd = y.mean(), y.std(unbiased=False)
            pred = net((x - mu) / (sigma + 1e-8)).squeeze(-1)
            loss = F.mse_loss(pred, (y - ymu) / ysd)
            loss.backward()
            opt.step()
            return loss, pred * ysd + ymu

        def inputs(i):
            g = rng(i, 31)
            b = [8, 8, 5, 8, 3, 8][i]
            return chainrule.tensor(g.normal(10.0, 3.0, (b, 4))), chainrule.tensor(g.normal(-2.0, 5.0, (b,)))
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


def test_standardisation_with_statistics_passed_in_and_changed():
    def setup():
        net = nn.Linear(4, 1).double()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y, mean, std):
            opt.zero_grad()
            loss = F.mse_loss(net((x - mean) / std).squeeze(-1), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 32)
            mean = chainrule.tensor(g.normal(0, 1, (4,))) if i % 2 else 0.0
            std = [1.0, 2.0, 2.0, chainrule.tensor(g.uniform(0.5, 2, (4,))), 1.0, 3.0][i]
            return floats(g, (5, 4)), floats(g, (5,)), mean, std
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=6)


class RunningScaler(nn.Module):
    """Statistics kept in buffers and updated inside the step (Welford), then used to scale."""

    def __init__(self, d):
        super().__init__()
        self.register_buffer("count", chainrule.zeros((), dtype=chainrule.float64))
        self.register_buffer("mean", chainrule.zeros(d, dtype=chainrule.float64))
        self.register_buffer("m2", chainrule.zeros(d, dtype=chainrule.float64))
        self.frozen = False

    def forward(self, x):
        if self.training and not self.frozen:
            with chainrule.no_grad():
                n = x.shape[0]
                batch_mean = x.mean(0)
                delta = batch_mean - self.mean
                total = self.count + n
                self.mean += delta * n / total
                self.m2 += ((x - batch_mean) ** 2).sum(0) + delta ** 2 * self.count * n / total
                self.count.fill_(total)
        var = self.m2 / (self.count - 1).clamp(min=1)
        return (x - self.mean) / var.sqrt().clamp(min=1e-6)


def test_running_scaler_buffers_updated_inside_the_step_frozen_later():
    def setup():
        scaler = RunningScaler(3)
        net = nn.Linear(3, 1).double()
        opt = optim.Adam(net.parameters(), lr=0.05)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(scaler(x)).squeeze(-1), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            scaler.frozen = i >= 4
            scaler.train(i != 3)

        def inputs(i):
            g = rng(i, 33)
            b = [4, 4, 6, 4, 4, 2, 4][i]
            return chainrule.tensor(g.normal(5.0, 2.0, (b, 3))), floats(g, (b,))
        return Case(step, lambda: [scaler, net, opt], inputs, before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- more state between calls
def test_embeddingbag_2d_per_sample_weights_with_max_norm_and_scale_grad_by_freq():
    def setup():
        bag = nn.EmbeddingBag(8, 3, mode="sum", max_norm=1.0, scale_grad_by_freq=True).double()
        with chainrule.no_grad():
            bag.weight.mul_(2)
        opt = optim.SGD(bag.parameters(), lr=0.3)

        def step(ids, w, y):
            opt.zero_grad()
            loss = F.mse_loss(bag(ids, per_sample_weights=w).sum(1), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = rng(i, 51)
            b = [3, 3, 2, 3][i % 4]
            return longs(g, 8, (b, 4)), chainrule.tensor(g.random((b, 4))), floats(g, (b,))
        return Case(step, lambda: [bag, opt], inputs)

    same_as_eager(setup, calls=6)


def test_focal_gamma_and_batchnorm_momentum_changed_while_batch_sizes_alternate():
    def setup():
        net = TabularMLP().double()
        crit = FocalLoss()
        opt = optim.Adam(net.parameters(), lr=0.02)

        def before(i):
            crit.gamma = [2.0, 2.0, 2.0, 1.0, 1.0, 1.0, 3.0, 3.0][i]
            net.net[1].momentum = [0.1, 0.1, 0.3, 0.3, 0.3, 0.1, 0.1, 0.1][i]

        def loss(m, x, y):
            return crit(m(x), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], binary_inputs([6, 4]), before)

    same_as_eager(setup, calls=8)


def test_embeddings_frozen_for_the_first_calls_then_unfrozen():
    def setup():
        net = CategoricalNet().double()
        opt = optim.Adam(net.parameters(), lr=0.02)

        def before(i):
            for e in net.embeds:
                e.weight.requires_grad_(i >= 3)

        def loss(m, cats, nums, y):
            return F.mse_loss(m(cats, nums), y)
        return Case(plain_step(net, opt, loss), lambda: [net, opt], tabular_inputs([5]), before)

    same_as_eager(setup, calls=7)
