"""chainrule.compile against eager execution on HAND-WRITTEN BACKPROPAGATION NEXT TO AUTOGRAD, as
makemore part 4 ("becoming a backprop ninja") and backprop courses write it: a forward pass kept in
many named intermediates (``C[Xb]``, ``emb.view``, Linear and BatchNorm by hand with Bessel's
correction, ``logits.max(1, keepdim=True).values``, ``counts_sum**-1``, ``logprobs[range(n), Yb]``),
``retain_grad`` on every intermediate and their ``.grad`` compared with manual derivatives (a ``cmp``
helper with ``torch.all``/``torch.allclose``/``.item()``), compiled functions that only compute the
manual gradients (``dlogprobs[range(n), Yb] = -1.0/n``, ``F.one_hot`` of the argmax, ``dC`` by a
Python loop), compiled functions that call ``loss.backward()`` and return ``.grad``s, the manual
training loop ``p.data += -lr * grad`` with a rate decayed by the iteration number passed in, the
fused cross-entropy backward, the delta rule layer by layer, and finite-difference gradient checks
on float64 tensors inside and outside compiled functions.

Each test runs one workflow from the same seeds eagerly
and compiled, for several calls whose batches or values change, and compares bit for bit everything
observable: returns, parameters, grads, retained grads, the generators' states. A compiled run may
fall back to eager with at most one warning, never give a different result. Where it helps, eager
values are also checked against real PyTorch (close, not bitwise).
"""
import random
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch  # the notebook's spelling
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

try:
    import torch as real_torch
except ImportError:  # pragma: no cover
    real_torch = None

VOCAB, BLOCK, N_EMBD, N_HIDDEN, BATCH = 11, 3, 4, 8, 32


# ----------------------------------------------------------------------------- the harness
def arr(tensor):
    return np.array(tensor.detach().numpy(), copy=True)


def plain(value):
    """``value`` with every tensor replaced by a NumPy copy (None for a missing one), recursively."""
    if isinstance(value, chainrule.Tensor):
        return arr(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def run(scenario, compiled):
    chainrule.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    made = []

    def compile_(function):
        made.append(chainrule.compile(function))
        return made[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        observed = plain(scenario(compile_ if compiled else (lambda function: function)))
    streams = [arr(torch.rand(3)), float(np.random.rand()), random.random()]
    fallbacks = [str(w.message) for w in caught if str(w.message).startswith("chainrule.compile")]
    others = sorted(str(w.message) for w in caught if not str(w.message).startswith("chainrule.compile"))
    return {"observed": observed, "streams": streams, "warnings": others}, fallbacks, made


def same_as_eager(scenario):
    eager, eager_fallbacks, _ = run(scenario, False)
    assert not eager_fallbacks
    compiled, fallbacks, made = run(scenario, True)
    assert made, "the scenario compiled nothing"
    assert len(fallbacks) <= len(made), fallbacks
    assert_identical(compiled, eager, "compiled against eager")
    return eager["observed"], [function.eager_reason for function in made]


# ----------------------------------------------------------------------------- the notebook's pieces
def dataset(n=60, seed=3):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.integers(0, VOCAB, size=(n, BLOCK))), torch.tensor(rng.integers(0, VOCAB, size=n))


def parameters_of(g, dtype=None):
    C = torch.randn((VOCAB, N_EMBD), generator=g)
    W1 = torch.randn((N_EMBD * BLOCK, N_HIDDEN), generator=g) * (5 / 3) / ((N_EMBD * BLOCK) ** 0.5)
    b1 = torch.randn(N_HIDDEN, generator=g) * 0.1
    W2 = torch.randn((N_HIDDEN, VOCAB), generator=g) * 0.1
    b2 = torch.randn(VOCAB, generator=g) * 0.1
    bngain = torch.randn((1, N_HIDDEN), generator=g) * 0.1 + 1.0
    bnbias = torch.randn((1, N_HIDDEN), generator=g) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    if dtype is not None:
        parameters = [p.to(dtype) for p in parameters]
    for p in parameters:
        p.requires_grad = True
    return parameters


NAMES = ["logprobs", "probs", "counts", "counts_sum", "counts_sum_inv", "norm_logits", "logit_maxes", "logits",
         "h", "hpreact", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "hprebn", "bnmeani", "embcat", "emb"]


def forward(parameters, Xb, Yb):
    """The notebook's forward pass, "chunkated"; returns loss and every intermediate by name."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    n = Xb.shape[0]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    inter = dict(logprobs=logprobs, probs=probs, counts=counts, counts_sum=counts_sum, counts_sum_inv=counts_sum_inv,
                 norm_logits=norm_logits, logit_maxes=logit_maxes, logits=logits, h=h, hpreact=hpreact, bnraw=bnraw,
                 bnvar_inv=bnvar_inv, bnvar=bnvar, bndiff2=bndiff2, bndiff=bndiff, hprebn=hprebn, bnmeani=bnmeani,
                 embcat=embcat, emb=emb)
    return loss, inter


def manual_backward(parameters, inter, Xb, Yb, dC_by="loop"):
    """Exercise 1: every intermediate's gradient by hand, in the notebook's order."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    t = types_namespace(inter)
    n = Xb.shape[0]
    dlogprobs = torch.zeros_like(t.logprobs)
    dlogprobs[range(n), Yb] = -1.0 / n
    dprobs = (1.0 / t.probs) * dlogprobs
    dcounts_sum_inv = (t.counts * dprobs).sum(1, keepdim=True)
    dcounts = t.counts_sum_inv * dprobs
    dcounts_sum = (-t.counts_sum**-2) * dcounts_sum_inv
    dcounts += torch.ones_like(t.counts) * dcounts_sum
    dnorm_logits = t.counts * dcounts
    dlogits = dnorm_logits.clone()
    dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
    dlogits += F.one_hot(t.logits.max(1).indices, num_classes=t.logits.shape[1]) * dlogit_maxes
    dh = dlogits @ W2.T
    dW2 = t.h.T @ dlogits
    db2 = dlogits.sum(0)
    dhpreact = (1.0 - t.h**2) * dh
    dbngain = (t.bnraw * dhpreact).sum(0, keepdim=True)
    dbnraw = bngain * dhpreact
    dbnbias = dhpreact.sum(0, keepdim=True)
    dbndiff = t.bnvar_inv * dbnraw
    dbnvar_inv = (t.bndiff * dbnraw).sum(0, keepdim=True)
    dbnvar = (-0.5 * (t.bnvar + 1e-5) ** -1.5) * dbnvar_inv
    dbndiff2 = (1.0 / (n - 1)) * torch.ones_like(t.bndiff2) * dbnvar
    dbndiff += (2 * t.bndiff) * dbndiff2
    dhprebn = dbndiff.clone()
    dbnmeani = (-dbndiff).sum(0)
    dhprebn += 1.0 / n * (torch.ones_like(t.hprebn) * dbnmeani)
    dembcat = dhprebn @ W1.T
    dW1 = t.embcat.T @ dhprebn
    db1 = dhprebn.sum(0)
    demb = dembcat.view(t.emb.shape)
    dC = torch.zeros_like(C)
    if dC_by == "loop":
        for k in range(Xb.shape[0]):
            for j in range(Xb.shape[1]):
                ix = Xb[k, j]
                dC[ix] += demb[k, j]
    else:
        dC.index_add_(0, Xb.view(-1), demb.view(-1, demb.shape[-1]))
    inter_grads = dict(logprobs=dlogprobs, probs=dprobs, counts_sum_inv=dcounts_sum_inv, counts_sum=dcounts_sum,
                       counts=dcounts, norm_logits=dnorm_logits, logit_maxes=dlogit_maxes, logits=dlogits, h=dh,
                       hpreact=dhpreact, bnraw=dbnraw, bnvar_inv=dbnvar_inv, bnvar=dbnvar, bndiff2=dbndiff2,
                       bndiff=dbndiff, bnmeani=dbnmeani, hprebn=dhprebn, embcat=dembcat, emb=demb)
    return inter_grads, [dC, dW1, db1, dW2, db2, dbngain, dbnbias]


class types_namespace:
    def __init__(self, mapping):
        self.__dict__.update(mapping)


def cmp(s, dt, t):
    ex = torch.all(dt == t.grad).item()
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    return (s, ex, app, maxdiff)


def batch_sizes(calls=5):
    return [BATCH, BATCH, 17, BATCH, 9][:calls]


# ----------------------------------------------------------------------------- exercise 1 with autograd
def test_compiled_backward_returns_the_grad_of_every_retained_intermediate():
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        def step(bs):
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = forward(parameters, Xb, Yb)
            for p in parameters:
                p.grad = None
            for name in NAMES:
                inter[name].retain_grad()
            loss.backward()
            return loss, {name: inter[name].grad for name in NAMES}, [p.grad for p in parameters]

        step = compile(step)
        return [step(bs) for bs in batch_sizes()] + [g.get_state()]

    same_as_eager(scenario)


def test_caller_reads_retained_grads_after_the_call_and_compares_with_manual_ones():
    """The notebook's cells: the compiled cell does forward, retain_grad and backward; the caller
    then runs exercise 1 eagerly and cmp()s each intermediate's .grad."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        def cell(Xb, Yb):
            loss, inter = forward(parameters, Xb, Yb)
            for p in parameters:
                p.grad = None
            for t in inter.values():
                t.retain_grad()
            loss.backward()
            return loss, inter

        cell = compile(cell)
        found = []
        for bs in batch_sizes():
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = cell(Xb, Yb)
            with torch.no_grad():
                d_inter, d_params = manual_backward(parameters, {k: v.detach() for k, v in inter.items()}, Xb, Yb)
            report = [cmp(name, d_inter[name], inter[name]) for name in NAMES]
            report += [cmp(f"p{i}", d, p) for i, (d, p) in enumerate(zip(d_params, parameters))]
            found.append((loss, {k: v.grad for k, v in inter.items()}, report))
            # logit_maxes' gradient is 0 in exact arithmetic (softmax ignores the shift): both sides are float32
            # rounding residue, whose size (1e-8) allclose's atol does not always cover
            assert all(app or (name == "logit_maxes" and diff < 1e-7) for name, _, app, diff in report), report
        return found

    same_as_eager(scenario)


def test_cmp_inside_the_compiled_function_reads_fresh_values_each_call():
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        def check(bs):
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = forward(parameters, Xb, Yb)
            for p in parameters:
                p.grad = None
            for t in inter.values():
                t.retain_grad()
            loss.backward()
            with torch.no_grad():
                d_inter, d_params = manual_backward(parameters, inter, Xb, Yb, dC_by="index_add")
            report = [cmp(name, d_inter[name], inter[name]) for name in NAMES]
            report += [cmp(f"p{i}", d, p) for i, (d, p) in enumerate(zip(d_params, parameters))]
            return loss.item(), report

        check = compile(check)
        return [check(bs) for bs in batch_sizes()]

    observed, _ = same_as_eager(scenario)
    assert len({loss for loss, _ in observed}) == len(observed)  # the batches really differ


# ----------------------------------------------------------------------------- manual gradients only
@pytest.mark.parametrize("dC_by", ["loop", "index_add"])
def test_compiled_function_that_only_computes_manual_gradients(dC_by):
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)
        backward = compile(lambda inter, Xb, Yb: manual_backward(parameters, inter, Xb, Yb, dC_by))
        found = []
        for bs in batch_sizes():
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            with torch.no_grad():
                loss, inter = forward(parameters, Xb, Yb)
                found.append((loss, backward(inter, Xb, Yb)))
        return found

    same_as_eager(scenario)


def test_manual_gradients_match_autograd_and_real_pytorch():
    """Eager chainrule's manual grads equal its autograd grads closely, and both equal real
    PyTorch's on the same weights and batch; the compiled manual backward equals eager bitwise."""
    if real_torch is None:
        pytest.skip("no PyTorch")
    Xtr, Ytr = dataset()
    g = torch.Generator().manual_seed(2147483647)
    parameters = parameters_of(g, dtype=torch.float64)
    backward = chainrule.compile(lambda inter, Xb, Yb: manual_backward(parameters, inter, Xb, Yb, "index_add"))
    real_params = [real_torch.tensor(arr(p), requires_grad=True) for p in parameters]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for call, bs in enumerate(batch_sizes()):
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = forward(parameters, Xb, Yb)
            for p in parameters:
                p.grad = None
            for t in inter.values():
                t.retain_grad()
            loss.backward()
            with torch.no_grad():
                eager_inter, eager_params = manual_backward(parameters, inter, Xb, Yb, "index_add")
                compiled_inter, compiled_params = backward(inter, Xb, Yb)
            assert_identical(plain((compiled_inter, compiled_params)), plain((eager_inter, eager_params)), f"call {call}")
            for name in NAMES:
                np.testing.assert_allclose(arr(eager_inter[name]).reshape(tuple(inter[name].shape)), arr(inter[name].grad), rtol=1e-9, atol=1e-12, err_msg=name)  # dbnmeani is (n_hidden,) as in the notebook
            for i, (d, p) in enumerate(zip(eager_params, parameters)):
                np.testing.assert_allclose(arr(d), arr(p.grad), rtol=1e-9, atol=1e-12, err_msg=f"p{i}")
            rXb, rYb = real_torch.tensor(arr(Xb)), real_torch.tensor(arr(Yb))
            for p in real_params:
                p.grad = None
            real_loss, real_inter = forward_real(real_params, rXb, rYb)
            for t in real_inter.values():
                t.retain_grad()
            real_loss.backward()
            np.testing.assert_allclose(arr(loss), real_loss.detach().numpy(), rtol=1e-12)
            for name in NAMES:
                np.testing.assert_allclose(arr(inter[name].grad), real_inter[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
            for i, (p, q) in enumerate(zip(parameters, real_params)):
                np.testing.assert_allclose(arr(p.grad), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"p{i}")


def forward_real(parameters, Xb, Yb):
    global torch
    saved = torch
    torch = real_torch
    try:
        return forward(parameters, Xb, Yb)
    finally:
        torch = saved


def test_manual_backward_in_grad_mode_then_backward_through_the_manual_gradients():
    """As in the notebook, exercise 1 runs with grad mode on, on tensors that require grad: the
    manual gradients carry a graph; the caller backpropagates a penalty on them (one backward)."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g, dtype=torch.float64)
        backward = compile(lambda inter, Xb, Yb: manual_backward(parameters, inter, Xb, Yb, "index_add"))
        found = []
        for bs in batch_sizes():
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = forward(parameters, Xb, Yb)
            d_inter, d_params = backward(inter, Xb, Yb)
            flags = [(d.requires_grad, d.grad_fn is None) for d in d_params]
            for p in parameters:
                p.grad = None
            penalty = sum((d**2).sum() for d in d_params)
            (loss + 0.1 * penalty).backward()
            found.append((loss, penalty, flags, [p.grad for p in parameters]))
            with torch.no_grad():
                for p in parameters:
                    p -= 0.1 * p.grad
        return found, parameters

    same_as_eager(scenario)


def test_compiled_cmp_without_item_reads_the_grads_set_outside():
    """A cmp returning tensors (no .item()): the grads it compares are rebound by eager backward
    calls between the calls, and must be read afresh each time."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        @compile
        def compare(d_params):
            return [(torch.all(dt == t.grad), torch.isclose(dt, t.grad).all(), (dt - t.grad).abs().max()) for dt, t in zip(d_params, parameters)]

        found = []
        for call, bs in enumerate(batch_sizes()):
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = forward(parameters, Xb, Yb)
            if call != 3:  # call 3 accumulates into the old grads
                for p in parameters:
                    p.grad = None
            loss.backward()
            with torch.no_grad():
                _, d_params = manual_backward(parameters, inter, Xb, Yb, "index_add")
            found.append(compare(d_params))
            with torch.no_grad():
                for p in parameters:
                    p.data += -0.1 * p.grad
        return found

    observed, _ = same_as_eager(scenario)
    assert all(bool(app) for call in (0, 1, 2, 4) for _, app, _ in observed[call])
    assert not all(bool(app) for _, app, _ in observed[3])


def test_tied_logits_route_like_one_hot_of_the_argmax():
    """W2 and b2 start at zero: every logit ties, so logits.max(1) picks an index whose one_hot the
    manual backward uses; autograd's max backward must route the same way, compiled as eager."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)
        with torch.no_grad():
            parameters[3].zero_()
            parameters[4].zero_()

        @compile
        def step(Xb, Yb, lr):
            loss, inter = forward(parameters, Xb, Yb)
            for p in parameters:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                _, d_params = manual_backward(parameters, inter, Xb, Yb, "index_add")
                diffs = [(d - p.grad).abs().max() for d, p in zip(d_params, parameters)]
                for p in parameters:
                    p.data += -lr * p.grad
            return loss, inter["logits"].max(1).indices, diffs, [p.grad for p in parameters]

        found = []
        for call in range(5):
            ix = torch.randint(0, Xtr.shape[0], (BATCH,), generator=g)
            found.append(step(Xtr[ix], Ytr[ix], 0.0 if call < 2 else 0.5))
        return found, parameters

    observed, _ = same_as_eager(scenario)
    assert observed[0][0][1].tolist() == [0] * BATCH  # all tied: the first index
    for loss, indices, diffs, grads in observed[0]:
        assert max(float(d) for d in diffs) < 1e-5, diffs


def test_backward_outside_with_retain_grad_on_the_loss_chunk_after_compiled_logits():
    """The compiled function is the network up to the logits; the caller writes the cross-entropy
    chunk by chunk eagerly, retain_grad()s logits and every chunk, and calls loss.backward()."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)
        logits_of = compile(lambda Xb, Yb: forward(parameters, Xb, Yb)[1]["logits"])
        found = []
        for bs in batch_sizes():
            ix = torch.randint(0, Xtr.shape[0], (bs,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            n = Xb.shape[0]
            logits = logits_of(Xb, Yb)
            logit_maxes = logits.max(1, keepdim=True).values
            norm_logits = logits - logit_maxes
            counts = norm_logits.exp()
            counts_sum_inv = counts.sum(1, keepdims=True) ** -1
            logprobs = (counts * counts_sum_inv).log()
            loss = -logprobs[range(n), Yb].mean()
            chunks = [logits, logit_maxes, norm_logits, counts, counts_sum_inv, logprobs]
            for p in parameters:
                p.grad = None
            for t in chunks:
                t.retain_grad()
            loss.backward()
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            assert torch.allclose(dlogits, logits.grad, atol=1e-6)
            found.append((loss, [t.grad for t in chunks], [p.grad for p in parameters]))
            with torch.no_grad():
                for p in parameters:
                    p.data += -0.1 * p.grad
        return found

    same_as_eager(scenario)


def test_retain_grad_after_the_call_on_a_returned_intermediate_of_the_loss():
    """As torch.compile (its default inductor and aot_eager backends): the outputs of a compiled
    call come from one node, so a returned intermediate is not on the returned loss's path and
    ``h.retain_grad()`` after the call leaves ``h.grad`` None; the parameters' gradients are
    eager's. (retain_grad inside the compiled function keeps the intermediate's gradient.)"""
    def scenario(compile):
        W = torch.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)

        @compile
        def fwd(x):
            h = x @ W
            return h.tanh().sum(), h

        found = []
        for call in range(4):
            loss, h = fwd(torch.tensor([[1.0, 2.0]]) * (call + 1))
            h.retain_grad()
            loss.backward()
            found.append((h.grad is None, W.grad))
        return found

    eager, _, _ = run(scenario, False)
    compiled, _, made = run(scenario, True)
    assert made
    assert all(h_grad_missing is False for h_grad_missing, _ in eager["observed"])
    assert all(h_grad_missing is True for h_grad_missing, _ in compiled["observed"])
    assert_identical([w for _, w in compiled["observed"]], [w for _, w in eager["observed"]])


# ----------------------------------------------------------------------------- exercise 2: the fused cross-entropy backward
def test_fused_cross_entropy_backward_compiled_against_autograd():
    def scenario(compile):
        @compile
        def dlogits_of(logits, Yb):
            n = logits.shape[0]
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            return dlogits

        @compile
        def autograd_dlogits(logits, Yb):
            logits = logits.detach().requires_grad_(True)
            loss = F.cross_entropy(logits, Yb)
            loss.backward()
            return loss, logits.grad

        found = []
        for call, n in enumerate([32, 32, 7, 32, 7, 1]):
            rng = np.random.default_rng(call)
            logits = torch.tensor(rng.standard_normal((n, VOCAB)) * 3)
            Yb = torch.tensor(rng.integers(0, VOCAB, size=n))
            mine = dlogits_of(logits, Yb)
            loss, theirs = autograd_dlogits(logits, Yb)
            np.testing.assert_allclose(arr(mine), arr(theirs), rtol=1e-12, atol=1e-15)
            found.append((logits, mine, loss, theirs))
        return found

    observed, _ = same_as_eager(scenario)
    if real_torch is not None:
        # the values against real PyTorch: the targets drawn again from the same seeds
        for call, (logits, mine, loss, _) in enumerate(observed):
            rng = np.random.default_rng(call)
            rng.standard_normal(logits.shape)
            Yb = real_torch.tensor(rng.integers(0, VOCAB, size=logits.shape[0]))
            real_logits = real_torch.tensor(logits, requires_grad=True)
            real_loss = real_torch.nn.functional.cross_entropy(real_logits, Yb)
            real_loss.backward()
            np.testing.assert_allclose(loss, real_loss.detach().numpy(), rtol=1e-12)
            np.testing.assert_allclose(mine, real_logits.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_fused_cross_entropy_backward_repeated_targets_and_an_input_modified_in_place():
    """Same logits object changed in place between calls, targets the same row repeated."""

    def scenario(compile):
        @compile
        def dlogits_of(logits, Yb):
            n = logits.shape[0]
            dlogits = F.softmax(logits, 1)
            dlogits[range(n), Yb] -= 1
            dlogits /= n
            return dlogits

        logits = torch.tensor(np.random.default_rng(5).standard_normal((6, 5)))
        found = []
        for call in range(5):
            Yb = torch.tensor([call % 5] * 6)
            found.append(dlogits_of(logits, Yb))
            with torch.no_grad():
                logits[call] += 10.0 * (call + 1)
        return found

    same_as_eager(scenario)


BATCH_SIZE = 32


def test_fused_cross_entropy_backward_reading_the_batch_size_from_a_global():
    """The notebook's ``n = batch_size``: a global the caller changes for a smaller last batch."""

    def scenario(compile):
        global BATCH_SIZE

        @compile
        def dlogits_of(logits, Yb):
            dlogits = F.softmax(logits, 1)
            dlogits[range(BATCH_SIZE), Yb] -= 1
            dlogits /= BATCH_SIZE
            return dlogits

        found = []
        try:
            for call, n in enumerate([32, 32, 12, 12, 32]):
                BATCH_SIZE = n
                rng = np.random.default_rng(30 + call)
                found.append(dlogits_of(torch.tensor(rng.standard_normal((n, VOCAB))), torch.tensor(rng.integers(0, VOCAB, size=n))))
        finally:
            BATCH_SIZE = 32
        return found

    same_as_eager(scenario)


# ----------------------------------------------------------------------------- exercise 3: batch norm backward in one go
def test_batchnorm_backward_in_one_go_compiled_with_a_changing_batch_size():
    def scenario(compile):
        @compile
        def bn_backward(hprebn, bngain, dhpreact):
            n = hprebn.shape[0]
            bnvar_inv = (hprebn.var(0, keepdim=True, unbiased=True) + 1e-5) ** -0.5
            bnraw = (hprebn - hprebn.mean(0, keepdim=True)) * bnvar_inv
            return bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))

        found = []
        for call, n in enumerate([32, 32, 5, 2, 32]):
            rng = np.random.default_rng(20 + call)
            hprebn = torch.tensor(rng.standard_normal((n, N_HIDDEN)), requires_grad=True)
            bngain = torch.tensor(rng.standard_normal((1, N_HIDDEN)) * 0.1 + 1)
            dhpreact = torch.tensor(rng.standard_normal((n, N_HIDDEN)))
            mine = bn_backward(hprebn.detach(), bngain, dhpreact)
            hpreact = bngain * (hprebn - hprebn.mean(0, keepdim=True)) / torch.sqrt(hprebn.var(0, keepdim=True, unbiased=True) + 1e-5)
            hpreact.backward(dhpreact)
            np.testing.assert_allclose(arr(mine), arr(hprebn.grad), rtol=1e-7, atol=1e-10)
            found.append((mine, hprebn.grad))
        return found

    same_as_eager(scenario)


# ----------------------------------------------------------------------------- exercise 4: the manual training loop
@pytest.mark.parametrize("where", ["no_grad inside", "no_grad around the call"])
@pytest.mark.parametrize("dC_by", ["loop", "index_add"])
def test_manual_training_loop_with_rate_decayed_by_the_iteration_passed_in(where, dC_by):
    Xtr, Ytr = dataset()
    iterations = [99998, 99999, 100000, 100001, 3, 100002]

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        def step(i):
            ix = torch.randint(0, Xtr.shape[0], (BATCH,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            loss, inter = forward(parameters, Xb, Yb)
            _, grads = manual_backward(parameters, inter, Xb, Yb, dC_by)
            lr = 0.1 if i < 100000 else 0.01
            for p, grad in zip(parameters, grads):
                p.data += -lr * grad
            return loss

        def guarded(i):
            with torch.no_grad():
                return step(i)

        compiled = compile(guarded if where == "no_grad inside" else step)
        losses = []
        for i in iterations:
            if where == "no_grad inside":
                losses.append(compiled(i))
            else:
                with torch.no_grad():
                    losses.append(compiled(i))
        return losses, parameters, [p.grad for p in parameters], g.get_state()

    same_as_eager(scenario)


def test_manual_training_loop_with_the_iteration_as_a_tensor():
    """``i`` a 0-d tensor: ``i < 100000`` reads its value; the decay must follow it."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        @compile
        def step(i):
            ix = torch.randint(0, Xtr.shape[0], (BATCH,), generator=g)
            Xb, Yb = Xtr[ix], Ytr[ix]
            with torch.no_grad():
                loss, inter = forward(parameters, Xb, Yb)
                _, grads = manual_backward(parameters, inter, Xb, Yb, "index_add")
                lr = 0.1 if i < 100000 else 0.01
                for p, grad in zip(parameters, grads):
                    p.data += -lr * grad
            return loss

        return [step(torch.tensor(i)) for i in [99999, 100000, 5, 200000, 0]], parameters

    same_as_eager(scenario)


def test_autograd_step_returning_grads_then_manual_update_outside():
    """The compiled function does loss.backward() and returns the .grads; the caller applies
    p.data += -lr * grad; grads are set to None only on some calls (accumulation otherwise)."""
    Xtr, Ytr = dataset()

    def scenario(compile):
        g = torch.Generator().manual_seed(2147483647)
        parameters = parameters_of(g)

        @compile
        def grads_of(Xb, Yb):
            loss, _ = forward(parameters, Xb, Yb)
            loss.backward()
            return loss, [p.grad for p in parameters]

        found = []
        for i in range(6):
            if i % 3 != 1:
                for p in parameters:
                    p.grad = None
            ix = torch.randint(0, Xtr.shape[0], (BATCH if i != 4 else 11,), generator=g)
            loss, grads = grads_of(Xtr[ix], Ytr[ix])
            assert all(grad is p.grad for grad, p in zip(grads, parameters))
            found.append((loss, [arr(grad) for grad in grads]))
            lr = 0.1 if i < 3 else 0.01
            with torch.no_grad():
                for p, grad in zip(parameters, grads):
                    p.data += -lr * grad
            if i == 2:
                grads[1].zero_()  # the caller zeroes the returned grad in place: it is p.grad
        return found, parameters, [p.grad for p in parameters]

    same_as_eager(scenario)


# ----------------------------------------------------------------------------- the delta rule, layer by layer
ACTIVATIONS = {
    "sigmoid": (torch.sigmoid, lambda z, a: a * (1 - a)),
    "tanh": (torch.tanh, lambda z, a: 1 - a**2),
    "relu": (torch.relu, lambda z, a: (z > 0).to(z.dtype)),
}


def delta_rule_step(weights, biases, x, y, kind, lr):
    f, fprime = ACTIVATIONS[kind]
    activations, zs = [x], []
    a = x
    for W, b in zip(weights, biases):
        z = a @ W + b
        zs.append(z)
        a = f(z)
        activations.append(a)
    loss = 0.5 * ((a - y) ** 2).sum() / x.shape[0]
    delta = (a - y) / x.shape[0] * fprime(zs[-1], activations[-1])
    dWs, dbs = [None] * len(weights), [None] * len(weights)
    for layer in reversed(range(len(weights))):
        dWs[layer] = activations[layer].T @ delta
        dbs[layer] = delta.sum(0)
        if layer > 0:
            delta = (delta @ weights[layer].T) * fprime(zs[layer - 1], activations[layer])
    for W, b, dW, db in zip(weights, biases, dWs, dbs):
        W -= lr * dW
        b -= lr * db
    return loss, dWs, dbs


def mlp_weights(sizes, seed=0):
    rng = np.random.default_rng(seed)
    weights = [torch.tensor(rng.standard_normal((m, n)) / m**0.5) for m, n in zip(sizes[:-1], sizes[1:])]
    biases = [torch.tensor(rng.standard_normal(n) * 0.1) for n in sizes[1:]]
    return weights, biases


@pytest.mark.parametrize("kinds", [["sigmoid"] * 5, ["tanh", "relu", "tanh", "sigmoid", "relu"]])
def test_delta_rule_training_compiled_and_checked_against_autograd(kinds):
    sizes = [3, 6, 5, 2]

    def scenario(compile):
        weights, biases = mlp_weights(sizes)
        step = compile(delta_rule_step)
        found = []
        for call, kind in enumerate(kinds):
            rng = np.random.default_rng(40 + call)
            x = torch.tensor(rng.standard_normal((8 if call != 3 else 3, 3)))
            y = torch.tensor(rng.random((x.shape[0], 2)))
            # autograd on copies of the weights before the update
            copies = [t.clone().requires_grad_(True) for t in weights + biases]
            a = x
            for W, b in zip(copies[:3], copies[3:]):
                a = ACTIVATIONS[kind][0](a @ W + b)
            (0.5 * ((a - y) ** 2).sum() / x.shape[0]).backward()
            loss, dWs, dbs = step(weights, biases, x, y, kind, 0.5 / (call + 1))
            for mine, copy in zip(dWs + dbs, copies):
                np.testing.assert_allclose(arr(mine), arr(copy.grad), rtol=1e-10, atol=1e-14)
            found.append((loss, dWs, dbs, [arr(t) for t in weights + biases]))
        return found

    observed, _ = same_as_eager(scenario)
    if real_torch is not None:
        # call k starts from the weights call k-1 left: check calls 1 onward
        for call in range(1, len(kinds)):
            kind = kinds[call]
            rng = np.random.default_rng(40 + call)
            x = real_torch.tensor(rng.standard_normal((8 if call != 3 else 3, 3)))
            y = real_torch.tensor(rng.random((x.shape[0], 2)))
            ws = [real_torch.tensor(w, requires_grad=True) for w in observed[call - 1][3]]
            a = x
            f = {"sigmoid": real_torch.sigmoid, "tanh": real_torch.tanh, "relu": real_torch.relu}[kind]
            for W, b in zip(ws[:3], ws[3:]):
                a = f(a @ W + b)
            loss = 0.5 * ((a - y) ** 2).sum() / x.shape[0]
            loss.backward()
            np.testing.assert_allclose(observed[call][0], loss.detach().numpy(), rtol=1e-12)
            for mine, w in zip(observed[call][1] + observed[call][2], ws):
                np.testing.assert_allclose(mine, w.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_delta_rule_with_a_python_list_of_layers_that_grows():
    """The caller appends a layer between calls: the compiled step sees a longer list."""

    def scenario(compile):
        weights, biases = mlp_weights([3, 4, 4])
        step = compile(delta_rule_step)
        found = []
        for call in range(5):
            if call == 2:
                w, b = mlp_weights([4, 4], seed=9)
                weights.append(w[0])
                biases.append(b[0])
            rng = np.random.default_rng(60 + call)
            x = torch.tensor(rng.standard_normal((5, 3)))
            y = torch.tensor(rng.random((5, 4)))
            found.append(step(weights, biases, x, y, "tanh", 0.1))
        return found, weights, biases

    same_as_eager(scenario)


# ----------------------------------------------------------------------------- finite differences on float64
def small_loss(W, b, x, y):
    return ((torch.tanh(x @ W + b) - y) ** 2).mean()


def numerical_grad_tensor_ops(W, b, x, y, eps=1e-6):
    """Central differences on W in place, element by element, without reading values."""
    grad = torch.zeros_like(W)
    with torch.no_grad():
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                W[i, j] += eps
                plus = small_loss(W, b, x, y)
                W[i, j] -= 2 * eps
                minus = small_loss(W, b, x, y)
                W[i, j] += eps
                grad[i, j] = (plus - minus) / (2 * eps)
    return grad


def numerical_grad_items(W, b, x, y, eps=1e-6):
    """The course's version: save the old value with .item(), restore it, store Python floats."""
    grad = np.zeros(tuple(W.shape))
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            old = W[i, j].item()
            W.data[i, j] = old + eps
            plus = small_loss(W, b, x, y).item()
            W.data[i, j] = old - eps
            minus = small_loss(W, b, x, y).item()
            W.data[i, j] = old
            grad[i, j] = (plus - minus) / (2 * eps)
    return torch.tensor(grad)


@pytest.mark.parametrize("numerical", [numerical_grad_tensor_ops, numerical_grad_items])
def test_finite_differences_inside_a_compiled_function_modify_the_weights_in_place(numerical):
    def scenario(compile):
        rng = np.random.default_rng(7)
        W = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
        b = torch.tensor(rng.standard_normal(2), requires_grad=True)

        @compile
        def gradcheck_step(x, y, eps):
            W.grad = None
            b.grad = None
            loss = small_loss(W, b, x, y)
            loss.backward()
            num = numerical(W, b, x, y, eps)
            rel = (num - W.grad).abs().max() / (num.abs().max() + W.grad.abs().max())
            if numerical is numerical_grad_items:
                rel = rel.item()
            with torch.no_grad():
                W.sub_(0.3 * W.grad)
                b.sub_(0.3 * b.grad)
            return loss, num, rel

        found = []
        for call in range(5):
            rng = np.random.default_rng(70 + call)
            x = torch.tensor(rng.standard_normal((4, 3)))
            y = torch.tensor(rng.standard_normal((4, 2)))
            loss, num, rel = gradcheck_step(x, y, [1e-6, 1e-6, 1e-5, 1e-6, 2e-6][call])
            assert float(rel) < 1e-6, rel
            found.append((loss, num, rel, arr(W), arr(b), W.grad))
        return found

    same_as_eager(scenario)


def test_finite_differences_outside_call_a_compiled_loss_on_weights_perturbed_in_place():
    """The eager gradient check perturbs W.data in place between calls of a compiled loss: every
    call must see the current values (never a stale loss)."""

    def scenario(compile):
        rng = np.random.default_rng(8)
        W = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
        b = torch.tensor(rng.standard_normal(2), requires_grad=True)
        x = torch.tensor(rng.standard_normal((4, 3)))
        y = torch.tensor(rng.standard_normal((4, 2)))
        loss_of = compile(lambda: small_loss(W, b, x, y))

        @compile
        def analytic():
            W.grad = None
            loss = small_loss(W, b, x, y)
            loss.backward()
            return W.grad

        eps = 1e-6
        checks = []
        for round_ in range(2):
            grad = analytic()
            values, num = [], np.zeros((3, 2))
            for i in range(3):
                for j in range(2):
                    old = W.data[i, j].item()
                    W.data[i, j] = old + eps
                    plus = loss_of().item()
                    W.data[i, j] = old - eps
                    minus = loss_of().item()
                    W.data[i, j] = old
                    values += [plus, minus]
                    num[i, j] = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(num, arr(grad), rtol=1e-6, atol=1e-9)
            assert len(set(values)) == len(values)
            checks.append((values, num, arr(grad), loss_of().item()))
            with torch.no_grad():
                W -= 0.5 * W.grad
        return checks, W, b

    same_as_eager(scenario)


def test_gradcheck_of_a_compiled_function():
    """chainrule.autograd.gradcheck (as torch.autograd.gradcheck) run on a compiled function: it
    calls it many times with perturbed float64 inputs and compares with its backward."""

    def scenario(compile):
        f = compile(lambda W, x: torch.tanh(x @ W).pow(2).sum(1))
        found = []
        for call in range(4):
            rng = np.random.default_rng(90 + call)
            W = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)
            x = torch.tensor(rng.standard_normal((4, 3)), requires_grad=True)
            found.append((torch.autograd.gradcheck(f, (W, x), eps=1e-6, atol=1e-5), f(W, x)))
        return found

    observed, _ = same_as_eager(scenario)
    assert all(ok is True for ok, _ in observed)
