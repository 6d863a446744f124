"""chainrule.compile on graph neural networks written in plain PyTorch (no torch_geometric), with a
new graph on each call (edge_index of a new size or new values, new node features): GCN with
self-loops added by cat/arange/repeat, degrees by index_add_/scatter_add_/bincount, symmetric
normalisation with the inf -> 0 fix, messages aggregated by index_add_/scatter_add/scatter_reduce;
a dense-adjacency GCN; GraphSAGE mean and max aggregation; GAT attention with a softmax over each
node's neighbours (scatter_reduce amax, exp, per-destination sums) and attention dropout; graph-level
readout over a batch vector; link prediction with negative sampling by randint; node classification
with a boolean train_mask (indexed, and multiplied); isolated nodes, duplicate edges, an empty edge
set; Adam with weight decay; evaluation under no_grad.

Each test runs one workflow from the same seeds eagerly
and compiled, and compares bit for bit what the calls return, the parameters, gradients and Adam's
state after each call, and where the random stream stands after. A compiled run may fall back to
eager with at most one warning, never give a different result. Where the workflow draws no random
numbers the same code also runs under real PyTorch and the values are compared (close, not bitwise).
"""
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from tests.compile.bitwise import assert_identical

real_torch = pytest.importorskip("torch")

FALLBACKS = {}
FEATURES = 5
CLASSES = 3
# (nodes, edges) of the graph of each call: sizes and values change from call to call
SIZES = [(6, 10), (9, 14), (6, 7), (11, 20), (7, 12)]


def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def returned(value):
    if isinstance(value, (torch.Tensor, real_torch.Tensor)):
        return arr(value)
    if isinstance(value, (list, tuple)):
        return [returned(item) for item in value]
    if isinstance(value, dict):
        return {key: returned(item) for key, item in value.items()}
    return value


def graph(lib, index, sizes=SIZES, isolated=0, duplicates=False, features=FEATURES):
    """Node features, an edge_index (the last ``isolated`` nodes get no edge), labels and a mask."""
    n, e = sizes[index % len(sizes)]
    rs = np.random.RandomState(500 + index)
    x = rs.standard_normal((n, features)).astype(np.float32)
    reach = n - isolated
    edges = rs.randint(0, reach, size=(2, e)) if e else np.zeros((2, 0), dtype=np.int64)
    if duplicates and e >= 4:
        edges[:, e // 2:e // 2 + 2] = edges[:, :2]
    y = rs.randint(0, CLASSES, size=n)
    mask = rs.rand(n) < 0.6
    mask[0] = True
    return (lib.tensor(x), lib.tensor(edges.astype(np.int64)), lib.tensor(y.astype(np.int64)),
            lib.tensor(mask))


def weight(lib, shape, seed):
    rs = np.random.RandomState(seed)
    return lib.nn.Parameter(lib.tensor((rs.standard_normal(shape) / np.sqrt(shape[0])).astype(np.float32)))


def model_state(model, opt=None):
    found = []
    for name, p in model.named_parameters():
        found.append([name, arr(p), None if p.grad is None else arr(p.grad)])
        if opt is not None and p in opt.state:
            found.append({key: returned(value) for key, value in opt.state[p].items()})
    return found


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
        observed = scenario(torch, wrap)
    streams = arr(torch.rand(3))
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    reasons = [f.eager_reason for f in made if getattr(f, "eager_reason", None)]
    return {"observed": observed, "streams": streams}, fallbacks, reasons


def same_as_eager(scenario, name, pytorch=True, rtol=2e-5, atol=2e-6):
    eager, eager_fallbacks, _ = run(scenario, False)
    assert not eager_fallbacks
    compiled, fallbacks, reasons = run(scenario, True)
    # at most one fall-back warning for each compiled function
    names = [message.split(" runs eagerly")[0] for message in fallbacks]
    assert len(names) == len(set(names)), fallbacks
    if reasons:
        FALLBACKS[name] = reasons
    assert_identical(compiled, eager, "compiled against eager")
    if pytorch:
        real_torch.manual_seed(0)
        theirs = scenario(real_torch, lambda function: function)
        close(eager["observed"], theirs, rtol, atol)
    return reasons


def close(ours, theirs, rtol, atol, where="pytorch"):
    if isinstance(theirs, np.ndarray):
        assert ours.shape == theirs.shape, where
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=where)
    elif isinstance(theirs, dict):
        assert ours.keys() == theirs.keys(), where
        for key in theirs:
            close(ours[key], theirs[key], rtol, atol, f"{where}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert len(ours) == len(theirs), where
        for index, (mine, other) in enumerate(zip(ours, theirs)):
            close(mine, other, rtol, atol, f"{where}[{index}]")
    elif isinstance(theirs, float):
        np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, err_msg=where)
    else:
        assert ours == theirs, where


# ----------------------------------------------------------------------------- building blocks
def add_self_loops(lib, edge_index, n):
    return lib.cat([edge_index, lib.arange(n).repeat(2, 1)], 1)


def degree(lib, row, n, how):
    e = row.size(0)
    if how == "index_add":
        return lib.zeros(n).index_add_(0, row, lib.ones(e))
    if how == "scatter_add":
        return lib.zeros(n).scatter_add_(0, row, lib.ones(e))
    if how == "bincount":
        return lib.bincount(row, minlength=n).float()
    raise ValueError(how)


def aggregate(lib, messages, row, n, how):
    out = lib.zeros(n, messages.size(1))
    if how == "index_add":
        return out.index_add_(0, row, messages)
    if how == "index_add_fn":
        return lib.index_add(out, 0, row, messages)
    if how == "scatter_add":
        return out.scatter_add(0, row[:, None].expand_as(messages), messages)
    if how == "scatter_sum":
        return out.scatter_reduce(0, row[:, None].expand_as(messages), messages, reduce="sum", include_self=False)
    if how in ("amax", "mean"):
        return out.scatter_reduce(0, row[:, None].expand_as(messages), messages, reduce=how, include_self=False)
    raise ValueError(how)


def gcn_propagate(lib, x, edge_index, degree_by="index_add", aggregate_by="index_add", loops=True):
    n = x.size(0)
    if loops:
        edge_index = add_self_loops(lib, edge_index, n)
    row, col = edge_index[0], edge_index[1]
    deg = degree(lib, row, n, degree_by)
    deg_inv_sqrt = deg.pow(-0.5)
    deg_inv_sqrt[deg_inv_sqrt == float("inf")] = 0
    norm = deg_inv_sqrt[row] * deg_inv_sqrt[col]
    return aggregate(lib, x[col] * norm[:, None], row, n, aggregate_by)


def gcn(lib, degree_by="index_add", aggregate_by="index_add", loops=True, dropout=0.0):
    class GCN(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = weight(lib, (FEATURES, 8), 1)
            self.b1 = lib.nn.Parameter(lib.zeros(8))
            self.w2 = weight(lib, (8, CLASSES), 2)
            self.b2 = lib.nn.Parameter(lib.zeros(CLASSES))

        def forward(self, x, edge_index):
            h = gcn_propagate(lib, x @ self.w1, edge_index, degree_by, aggregate_by, loops) + self.b1
            h = lib.nn.functional.dropout(lib.relu(h), dropout, self.training)
            return gcn_propagate(lib, h @ self.w2, edge_index, degree_by, aggregate_by, loops) + self.b2

    return GCN()


def node_training(make_model, masked="multiply", lr=0.01, weight_decay=5e-4, graphs=graph, calls=5):
    """A scenario: Adam with weight decay on masked node classification, a new graph each call,
    evaluation under no_grad after each step."""

    def scenario(lib, wrap):
        model = make_model(lib)
        opt = lib.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        F = lib.nn.functional

        def step(x, edge_index, y, mask):
            model.train()
            opt.zero_grad()
            out = model(x, edge_index)
            if masked == "index":
                loss = F.cross_entropy(out[mask], y[mask])
            else:
                per_node = F.cross_entropy(out, y, reduction="none")
                loss = (per_node * mask).sum() / mask.sum()
            loss.backward()
            opt.step()
            return loss, out

        def evaluate(x, edge_index, y):
            model.eval()
            with lib.no_grad():
                out = model(x, edge_index)
                correct = (out.argmax(1) == y).float().mean()
            return out, correct

        step, evaluate = wrap(step), wrap(evaluate)
        results = []
        for index in range(calls):
            x, edge_index, y, mask = graphs(lib, index)
            results.append(returned(step(x, edge_index, y, mask)))
            results.append(model_state(model, opt))
            results.append(returned(evaluate(*graphs(lib, index + 10)[:3])))
        return results

    return scenario


# ----------------------------------------------------------------------------- GCN
@pytest.mark.parametrize("degree_by", ["index_add", "scatter_add", "bincount"])
def test_gcn_degrees_each_way(degree_by):
    same_as_eager(node_training(lambda lib: gcn(lib, degree_by=degree_by)), f"gcn degree {degree_by}")


@pytest.mark.parametrize("aggregate_by", ["index_add_fn", "scatter_add", "scatter_sum"])
def test_gcn_aggregations(aggregate_by):
    same_as_eager(node_training(lambda lib: gcn(lib, aggregate_by=aggregate_by)), f"gcn aggregate {aggregate_by}")


def test_gcn_without_self_loops_isolated_nodes_inf_to_zero():
    """No self-loops and isolated nodes: degree 0, pow(-0.5) gives inf, masked to 0 -- which nodes
    are isolated changes with the graph."""
    def graphs(lib, index):
        return graph(lib, index, isolated=1 + index % 3)

    same_as_eager(node_training(lambda lib: gcn(lib, loops=False), graphs=graphs), "gcn isolated, no loops")


def test_gcn_duplicate_edges():
    def graphs(lib, index):
        return graph(lib, index, duplicates=True)

    same_as_eager(node_training(lambda lib: gcn(lib, degree_by="scatter_add"), graphs=graphs), "gcn duplicates")


def test_gcn_empty_edge_set_in_some_calls():
    sizes = [(6, 10), (6, 0), (8, 12), (5, 0), (6, 10)]

    def graphs(lib, index):
        return graph(lib, index, sizes=sizes)

    same_as_eager(node_training(lambda lib: gcn(lib, loops=False), graphs=graphs), "gcn empty edges no loops")
    same_as_eager(node_training(lambda lib: gcn(lib), graphs=graphs), "gcn empty edges with loops")


EMPTY_MODELS = {
    "sage mean": lambda lib: sage(lib, "mean"),
    "sage amax": lambda lib: sage(lib, "amax"),
    "sage counts": lambda lib: sage(lib, "counts"),
    "gat": lambda lib: gat(lib),
    "dense": lambda lib: dense_gcn(lib),
}


@pytest.mark.parametrize("name", sorted(EMPTY_MODELS))
def test_other_models_with_an_empty_edge_set(name):
    sizes = [(6, 9), (7, 0), (6, 9), (5, 0), (8, 3)]

    def graphs(lib, index):
        return graph(lib, index, sizes=sizes)

    same_as_eager(node_training(lambda lib: EMPTY_MODELS[name](lib), graphs=graphs), f"{name} empty edges")


def test_gcn_same_sizes_new_values():
    """The same n and E each call, only the edge values and features change: the replayed program
    must not keep the first graph."""
    def graphs(lib, index):
        return graph(lib, index, sizes=[(8, 12)])

    same_as_eager(node_training(lambda lib: gcn(lib), graphs=graphs), "gcn fixed sizes")


def test_gcn_boolean_indexed_loss():
    """out[train_mask]: a boolean read (its size follows the mask's values)."""
    same_as_eager(node_training(lambda lib: gcn(lib), masked="index"), "gcn out[train_mask]")


def test_gcn_dropout_in_training():
    same_as_eager(node_training(lambda lib: gcn(lib, dropout=0.5)), "gcn dropout", pytorch=False)


# ----------------------------------------------------------------------------- dense adjacency GCN
def dense_gcn(lib):
    class DenseGCN(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin1 = lib.nn.Linear(FEATURES, 8)
            self.lin2 = lib.nn.Linear(8, CLASSES)
            self.lin1.weight = weight(lib, (8, FEATURES), 3)
            self.lin2.weight = weight(lib, (CLASSES, 8), 4)

        def forward(self, x, edge_index):
            n = x.size(0)
            A = lib.zeros(n, n)
            A[edge_index[0], edge_index[1]] = 1
            A = A + lib.eye(n)
            d = A.sum(1).pow(-0.5)
            A_hat = d[:, None] * A * d[None, :]
            h = lib.relu(A_hat @ self.lin1(x))
            return A_hat @ self.lin2(h)

    return DenseGCN()


def test_dense_adjacency_gcn():
    def graphs(lib, index):
        return graph(lib, index, duplicates=True)

    same_as_eager(node_training(dense_gcn, graphs=graphs), "dense gcn")


def test_dense_adjacency_with_diag_matrix_normalisation():
    def scenario(lib, wrap):
        W = weight(lib, (FEATURES, 4), 7)

        def forward(x, edge_index):
            n = x.size(0)
            A = lib.zeros(n, n)
            A[edge_index[0], edge_index[1]] = 1
            A = ((A + A.t()) > 0).float()
            deg = A.sum(1)
            D = lib.diag(deg.pow(-0.5).masked_fill(deg == 0, 0.0))
            out = D @ A @ D @ x @ W
            out.sum().backward()
            return out

        forward = wrap(forward)
        results = []
        for index in range(5):
            x, edge_index, _, _ = graph(lib, index, isolated=index % 2)
            results.append(returned(forward(x, edge_index)))
            results.append(arr(W.grad))
            W.grad = None
        return results

    same_as_eager(scenario, "dense diag normalisation")


# ----------------------------------------------------------------------------- GraphSAGE
def sage(lib, how):
    class SAGE(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.self1 = weight(lib, (FEATURES, 8), 11)
            self.neigh1 = weight(lib, (FEATURES, 8), 12)
            self.self2 = weight(lib, (8, CLASSES), 13)
            self.neigh2 = weight(lib, (8, CLASSES), 14)

        def mean(self, x, edge_index):
            row, col = edge_index[0], edge_index[1]
            n = x.size(0)
            if how == "counts":
                summed = lib.zeros(n, x.size(1)).index_add_(0, row, x[col])
                count = lib.zeros(n).index_add_(0, row, lib.ones(row.size(0))).clamp(min=1)
                return summed / count[:, None]
            return aggregate(lib, x[col], row, n, how)

        def forward(self, x, edge_index):
            h = lib.relu(x @ self.self1 + self.mean(x, edge_index) @ self.neigh1)
            h = lib.nn.functional.normalize(h, p=2, dim=-1)
            return h @ self.self2 + self.mean(h, edge_index) @ self.neigh2

    return SAGE()


@pytest.mark.parametrize("how", ["counts", "mean", "amax"])
def test_graphsage_aggregations_with_isolated_nodes(how):
    def graphs(lib, index):
        return graph(lib, index, isolated=index % 3)

    same_as_eager(node_training(lambda lib: sage(lib, how), graphs=graphs), f"sage {how}")


# ----------------------------------------------------------------------------- GAT
def gat(lib, dropout=0.0, heads=2):
    class GAT(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = weight(lib, (FEATURES, heads * 4), 21)
            self.att_src = weight(lib, (heads, 4), 22)
            self.att_dst = weight(lib, (heads, 4), 23)
            self.out = lib.nn.Linear(heads * 4, CLASSES)
            self.out.weight = weight(lib, (CLASSES, heads * 4), 24)

        def forward(self, x, edge_index):
            n = x.size(0)
            edge_index = add_self_loops(lib, edge_index, n)
            src, dst = edge_index[0], edge_index[1]
            h = (x @ self.lin).view(n, heads, 4)
            a_src = (h * self.att_src).sum(-1)
            a_dst = (h * self.att_dst).sum(-1)
            score = lib.nn.functional.leaky_relu(a_src[src] + a_dst[dst], 0.2)
            index = dst[:, None].expand_as(score)
            smax = lib.zeros(n, heads).scatter_reduce(0, index, score, reduce="amax", include_self=False)
            score = (score - smax[dst]).exp()
            denom = lib.zeros(n, heads).index_add_(0, dst, score)
            alpha = score / (denom[dst] + 1e-16)
            alpha = lib.nn.functional.dropout(alpha, dropout, self.training)
            msg = h[src] * alpha[..., None]
            agg = lib.zeros(n, heads, 4).index_add_(0, dst, msg)
            return self.out(lib.nn.functional.elu(agg.reshape(n, heads * 4)))

    return GAT()


def test_gat_softmax_over_neighbours():
    def graphs(lib, index):
        return graph(lib, index, duplicates=True)

    same_as_eager(node_training(gat, graphs=graphs), "gat")


def test_gat_attention_dropout():
    same_as_eager(node_training(lambda lib: gat(lib, dropout=0.3)), "gat dropout", pytorch=False)


def test_gat_attention_weights_sum_to_one_per_node():
    """The attention weights returned (and their gradient wrt the inputs) for new graphs."""
    def scenario(lib, wrap):
        model = gat(lib)

        def attention(x, edge_index):
            n = x.size(0)
            x.requires_grad_(True)
            ei = add_self_loops(lib, edge_index, n)
            src, dst = ei[0], ei[1]
            s = (x[src] * x[dst]).sum(-1)
            m = lib.zeros(n).scatter_reduce(0, dst, s, "amax", include_self=False)
            e = (s - m[dst]).exp()
            total = lib.zeros(n).scatter_add(0, dst, e)
            alpha = e / total[dst]
            per_node = lib.zeros(n).index_add(0, dst, alpha)
            (alpha * s).sum().backward()
            return alpha, per_node, x.grad

        attention = wrap(attention)
        return [returned(attention(*graph(lib, index)[:2])) for index in range(5)]

    same_as_eager(scenario, "gat weights")


def test_scatter_amax_onto_minus_inf_base():
    """The usual neighbour-softmax start, torch.full((n,), -inf).scatter_reduce(..., 'amax')."""
    def scenario(lib, wrap):
        def neighbour_max(s, dst):
            return lib.full((3,), -float("inf")).scatter_reduce(0, dst, s, "amax", include_self=True)

        neighbour_max = wrap(neighbour_max)
        return [returned(neighbour_max(lib.tensor([1.0, 2.0, 3.0 + i]), lib.tensor([0, 0, 1])))
                for i in range(4)]

    same_as_eager(scenario, "amax onto -inf")


# ----------------------------------------------------------------------------- graph readout
def batched_graphs(lib, index):
    """Several small graphs joined into one, with a batch vector; the number of graphs changes."""
    rs = np.random.RandomState(900 + index)
    count = 2 + index % 3
    xs, edges, batch, offset = [], [], [], 0
    for g in range(count):
        n = int(rs.randint(3, 7))
        e = int(rs.randint(0, 2 * n))
        xs.append(rs.standard_normal((n, FEATURES)).astype(np.float32))
        edges.append(rs.randint(0, n, size=(2, e)) + offset)
        batch.append(np.full(n, g))
        offset += n
    y = rs.randint(0, 2, size=count)
    return (lib.tensor(np.concatenate(xs)), lib.tensor(np.concatenate(edges, 1).astype(np.int64)),
            lib.tensor(np.concatenate(batch).astype(np.int64)), lib.tensor(y.astype(np.int64)), count)


def test_graph_classification_mean_pool_by_counts():
    def scenario(lib, wrap):
        w1 = weight(lib, (FEATURES, 6), 31)
        head = lib.nn.Linear(12, 2)
        head.weight = weight(lib, (2, 12), 32)
        params = [w1] + list(head.parameters())
        opt = lib.optim.Adam(params, lr=0.01, weight_decay=1e-3)

        def step(x, edge_index, batch, y, num_graphs):
            opt.zero_grad()
            h = lib.relu(gcn_propagate(lib, x @ w1, edge_index))
            summed = lib.zeros(num_graphs, h.size(1)).index_add_(0, batch, h)
            counts = lib.zeros(num_graphs).index_add_(0, batch, lib.ones(batch.size(0)))
            mean = summed / counts.clamp(min=1)[:, None]
            maxed = lib.zeros(num_graphs, h.size(1)).scatter_reduce(
                0, batch[:, None].expand_as(h), h, reduce="amax", include_self=False)
            logits = head(lib.cat([mean, maxed], 1))
            loss = lib.nn.functional.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            return loss, logits

        step = wrap(step)
        results = []
        for index in range(6):
            results.append(returned(step(*batched_graphs(lib, index))))
            results.append([[arr(p), arr(p.grad)] for p in params])
            results.append([returned(opt.state[p]) for p in params])
        return results

    same_as_eager(scenario, "graph readout")


def test_global_mean_pool_with_bincount_counts():
    def scenario(lib, wrap):
        def pool(x, batch, num_graphs):
            x = x.requires_grad_(True)
            counts = lib.bincount(batch, minlength=num_graphs).to(x.dtype)
            pooled = lib.zeros(num_graphs, x.size(1)).index_add_(0, batch, x) / counts[:, None]
            pooled.pow(2).sum().backward()
            return pooled, x.grad

        pool = wrap(pool)
        results = []
        for index in range(5):
            x, _, batch, _, count = batched_graphs(lib, index)
            results.append(returned(pool(x, batch, count)))
        return results

    same_as_eager(scenario, "global mean pool bincount")


# ----------------------------------------------------------------------------- link prediction
def test_link_prediction_negative_sampling():
    def scenario(lib, wrap):
        model = gcn(lib)
        opt = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        F = lib.nn.functional

        def step(x, edge_index):
            model.train()
            opt.zero_grad()
            z = model(x, edge_index)
            n, e = x.size(0), edge_index.size(1)
            neg = lib.randint(0, n, (2, e))
            pos_score = (z[edge_index[0]] * z[edge_index[1]]).sum(-1)
            neg_score = (z[neg[0]] * z[neg[1]]).sum(-1)
            scores = lib.cat([pos_score, neg_score])
            labels = lib.cat([lib.ones(e), lib.zeros(e)])
            loss = F.binary_cross_entropy_with_logits(scores, labels)
            loss.backward()
            opt.step()
            return loss, neg

        def evaluate(x, edge_index, candidates):
            model.eval()
            with lib.no_grad():
                z = model(x, edge_index)
                return lib.sigmoid((z[candidates[0]] * z[candidates[1]]).sum(-1))

        step, evaluate = wrap(step), wrap(evaluate)
        results = []
        for index in range(5):
            x, edge_index, _, _ = graph(lib, index)
            results.append(returned(step(x, edge_index)))
            results.append(model_state(model, opt))
            candidates = lib.tensor(np.random.RandomState(index).randint(0, x.size(0), (2, 4)).astype(np.int64))
            results.append(returned(evaluate(x, edge_index, candidates)))
        return results

    same_as_eager(scenario, "link prediction", pytorch=False)


# ----------------------------------------------------------------------------- edge cases of the caller
def attempt(function, *args):
    """What a call returns, or the type and start of the message of what it raises."""
    try:
        return ["ok", returned(function(*args))]
    except Exception as error:  # noqa: BLE001 - compared against eager's
        return ["raised", type(error).__name__]


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("bad", [-1, "n"])
def test_out_of_range_node_id_in_a_later_call_raises_as_eager(bad, which):
    """A later graph names node -1 or node n: eager (and PyTorch) raise in index_add_ (x[-1]
    itself is allowed); the replayed program must raise too, not wrap around or drop the edge."""
    def scenario(lib, wrap):
        model = gcn(lib)

        def forward(x, edge_index):
            out = model(x, edge_index)
            out.sum().backward()
            return out

        forward = wrap(forward)
        results = []
        for index in range(5):
            x, edge_index, _, _ = graph(lib, index)
            if index == 3:
                edge_index[which, 2] = -1 if bad == -1 else x.size(0)
            results.append(attempt(forward, x, edge_index))
            results.append(model_state(model))
            model.zero_grad()
        return results

    same_as_eager(scenario, f"bad node id {bad}", pytorch=True)


@pytest.mark.parametrize("bad", [-1, 3])
def test_degree_index_add_out_of_range_error_type(bad):
    with pytest.raises(IndexError):
        real_torch.zeros(3).index_add_(0, real_torch.tensor([0, bad]), real_torch.ones(2))
    with pytest.raises(IndexError):
        torch.zeros(3).index_add_(0, torch.tensor([0, bad]), torch.ones(2))


def test_edge_index_rewritten_in_place_between_calls():
    """The caller keeps one edge_index tensor and one feature tensor and writes new values into
    them between calls: the replay must read the new values."""
    def scenario(lib, wrap):
        model = gcn(lib)
        opt = lib.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
        x, edge_index, y, mask = graph(lib, 0, sizes=[(8, 12)])

        def step():
            opt.zero_grad()
            loss = (lib.nn.functional.cross_entropy(model(x, edge_index), y, reduction="none") * mask).sum() / mask.sum()
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        results = []
        for index in range(5):
            nx, ne, _, _ = graph(lib, index + 1, sizes=[(8, 12)])
            with lib.no_grad():
                x.copy_(nx)
                edge_index[:] = ne
            results.append(returned(step()))
            results.append(model_state(model, opt))
        return results

    same_as_eager(scenario, "edge_index rewritten in place")


def test_number_of_graphs_read_from_batch_max():
    """num_graphs = int(batch.max()) + 1 inside the compiled function: a value read that changes."""
    def scenario(lib, wrap):
        w = weight(lib, (FEATURES, 4), 41)

        def readout(x, edge_index, batch):
            num_graphs = int(batch.max()) + 1
            h = gcn_propagate(lib, x @ w, edge_index, degree_by="scatter_add", aggregate_by="scatter_add")
            pooled = lib.zeros(num_graphs, 4).index_add_(0, batch, h)
            pooled.sum().backward()
            return pooled, num_graphs

        readout = wrap(readout)
        results = []
        for index in range(6):
            x, edge_index, batch, _, _ = batched_graphs(lib, index)
            results.append(returned(readout(x, edge_index, batch)))
            results.append(arr(w.grad))
            w.grad = None
        return results

    same_as_eager(scenario, "num_graphs from batch.max()")


def test_to_undirected_coalesce_and_remove_self_loops():
    """to_undirected by cat + flip, coalesce by unique(dim=1), remove_self_loops by a boolean mask
    over the edges: sizes follow the values."""
    def scenario(lib, wrap):
        model = gcn(lib)

        def forward(x, edge_index):
            edge_index = lib.cat([edge_index, edge_index.flip(0)], 1)
            edge_index = lib.unique(edge_index, dim=1)
            edge_index = edge_index[:, edge_index[0] != edge_index[1]]
            out = model(x, edge_index)
            out.pow(2).mean().backward()
            return out, edge_index

        forward = wrap(forward)
        results = []
        for index in range(5):
            results.append(returned(forward(*graph(lib, index, duplicates=True)[:2])))
            results.append(model_state(model))
            model.zero_grad()
        return results

    same_as_eager(scenario, "to_undirected/coalesce/remove_self_loops")


def test_learnable_edge_weights_and_sparse_adjacency_gradient():
    """Edge weights that are parameters of the graph (one per edge), passed in with each new graph;
    gradients flow to the edge weights through index_add_ and the normalisation."""
    def scenario(lib, wrap):
        w = weight(lib, (FEATURES, 3), 51)

        def forward(x, edge_index, edge_weight):
            n = x.size(0)
            row, col = edge_index[0], edge_index[1]
            deg = lib.zeros(n).scatter_add(0, row, edge_weight) + 1.0
            norm = deg.rsqrt()[row] * edge_weight * deg.rsqrt()[col]
            h = x @ w
            out = lib.zeros(n, 3).index_add_(0, row, h[col] * norm.unsqueeze(-1)) + h / deg[:, None]
            out.tanh().sum().backward()
            return out, edge_weight.grad

        forward = wrap(forward)
        results = []
        for index in range(5):
            x, edge_index, _, _ = graph(lib, index, duplicates=True)
            edge_weight = lib.tensor(np.random.RandomState(index).rand(edge_index.size(1)).astype(np.float32), requires_grad=True)
            results.append(returned(forward(x, edge_index, edge_weight)))
            results.append(arr(w.grad))
            w.grad = None
        return results

    same_as_eager(scenario, "learnable edge weights")


# ----------------------------------------------------------------------------- report
def test_zz_report_fallbacks():
    for name, reasons in sorted(FALLBACKS.items()):
        print(f"FALLBACK {name}: {reasons}")
