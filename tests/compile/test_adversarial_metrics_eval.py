"""chainrule.compile against eager execution on EVALUATION AND METRICS code: accuracy through
argmax/eq/float/mean/sum, top-k accuracy (the ImageNet example's ``accuracy``), confusion matrices
built with ``index_put_(accumulate=True)``, ``bincount``, ``scatter_add_``, ``one_hot`` products and
metric modules with buffers, precision/recall/F1 from tensors (empty classes, nan, eps), running
averages kept in Python with ``.item()`` outside the compiled function, evaluation loops over
DataLoaders with a smaller last batch under ``no_grad``/``inference_mode`` and ``model.eval()``,
a compiled ``evaluate(model, loader)`` looping over batches, calibration (softmax confidences,
``bucketize``, ``histc``, expected calibration error) and early stopping around a returned loss.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, what Python code outside the step collected, and the random stream. A compiled run
may record anew or fall back to eager with at most one warning.
"""
import copy
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from chainrule.utils.data import DataLoader, TensorDataset
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
    if isinstance(value, optim.Optimizer):
        return [{k: snap(v) for k, v in s.items()} for s in value.state.values()]
    if hasattr(value, "__dict__") and not isinstance(value, type):
        return ("object", type(value).__name__, snap(dict(vars(value))))
    return value


def module_state(model):
    return {
        "training": [(name, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
    }


class Case:
    """``step`` is called with ``inputs(i)``; ``before(i)``/``after(i, result)`` are the code of the
    loop around it (never compiled); ``observe()`` lists what is compared after each call."""

    def __init__(self, step, observe, inputs, before=None, after=None):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.before = before or (lambda i: None)
        self.after = after or (lambda i, result: None)


def identity(function):
    return function


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup(chainrule.compile if compiled else identity)
    history = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(calls):
            case.before(i)
            try:
                result = case.step(*case.inputs(i))
                history.append(("ok", snap(result)))
                case.after(i, result)
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(snap(case.observe()))
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


# ----------------------------------------------------------------------------- data and models
CLASSES = 4
SIZES = [8, 8, 6, 8, 8, 6, 5, 8]          # an epoch of 22 in batches of 8 ends with 6


def arrays(n, seed, dtype=np.float32, features=5):
    g = np.random.default_rng(seed)
    x = g.standard_normal((n, features)).astype(dtype)
    y = (x[:, 0] > 0).astype(np.int64) + 2 * (x[:, 1] > 0.3).astype(np.int64)
    flip = g.random(n) < 0.25
    y[flip] = g.integers(0, CLASSES, flip.sum())
    return x, y


def batch(i, dtype=np.float32):
    x, y = arrays(SIZES[i % len(SIZES)], 200 + i, dtype)
    return torch.tensor(x), torch.tensor(y)


def classifier(dtype=torch.float32, norm=False, dropout=0.0):
    layers = [nn.Linear(5, 16)]
    if norm:
        layers.append(nn.BatchNorm1d(16))
    layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, CLASSES)]
    return nn.Sequential(*layers).to(dtype)


def loaders(dtype=np.float32, batch_size=8, shuffle=False):
    xv, yv = arrays(22, 7, dtype)
    xt, yt = arrays(13, 8, dtype)
    val = DataLoader(TensorDataset(torch.tensor(xv), torch.tensor(yv)), batch_size=batch_size, shuffle=shuffle)
    test = DataLoader(TensorDataset(torch.tensor(xt), torch.tensor(yt)), batch_size=batch_size, shuffle=shuffle)
    return val, test


def train_one(model, opt, i):
    """Eager training between evaluations (outside the compiled function)."""
    model.train()
    x, y = batch(50 + i, np.float64 if next(model.parameters()).dtype == torch.float64 else np.float32)
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()


# ----------------------------------------------------------------------------- accuracy
def test_train_step_returns_loss_and_argmax_accuracy_float32():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        @compile
        def step(x, y):
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            acc = (out.argmax(dim=1) == y).float().mean()
            return loss, acc
        return Case(step, lambda: [model, opt], batch)

    same_as_eager(setup, calls=8)


def test_correct_counts_collected_outside_with_item_and_epoch_accuracy():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.Adam(model.parameters(), lr=0.01)
        log = {"loss_sum": 0.0, "correct": 0, "seen": 0, "acc": []}

        @compile
        def step(x, y):
            model.train()
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            _, predicted = torch.max(logits.data, 1)
            return loss, (predicted == y).sum()

        def after(i, result):
            loss, correct = result
            n = SIZES[i % len(SIZES)]
            log["loss_sum"] += loss.item() * n
            log["correct"] += correct.item()
            log["seen"] += n
            if i % 3 == 2:                       # "end of epoch"
                log["acc"].append(100.0 * log["correct"] / log["seen"])
                log["correct"], log["seen"] = 0, 0
        return Case(step, lambda: [model, opt, dict(log)], lambda i: batch(i, np.float64), after=after)

    same_as_eager(setup, calls=8)


def test_accuracy_percent_with_int_sum_divided_by_len_inside_step():
    def setup(compile):
        model = classifier()

        @compile
        def step(x, y):
            with torch.no_grad():
                out = model(x)
                correct = out.argmax(1).eq(y).sum()
                return 100. * correct / len(y), correct / y.size(0), torch.eq(out.argmax(1), y).sum().float() / y.shape[0]
        return Case(step, lambda: [model], batch)

    same_as_eager(setup, calls=8)


def test_eval_step_no_grad_with_batchnorm_and_dropout_alternating_train_and_eval_calls():
    def setup(compile):
        model = classifier(norm=True, dropout=0.3)
        opt = optim.SGD(model.parameters(), lr=0.05)

        @compile
        def step(x, y):
            if model.training:
                opt.zero_grad()
                out = model(x)
                loss = F.cross_entropy(out, y)
                loss.backward()
                opt.step()
            else:
                with torch.no_grad():
                    out = model(x)
                    loss = F.cross_entropy(out, y)
            return loss, (out.argmax(1) == y).float().mean()

        def before(i):
            model.train() if i in (0, 1, 3, 5, 6) else model.eval()
        return Case(step, lambda: [model, opt], batch, before=before)

    same_as_eager(setup, calls=8)


def test_eval_step_under_inference_mode_after_eager_training():
    def setup(compile):
        model = classifier(torch.float64, norm=True, dropout=0.2)
        opt = optim.Adam(model.parameters(), lr=0.01)

        @compile
        def evaluate_batch(x, y):
            model.eval()
            with torch.inference_mode():
                logits = model(x)
                loss = F.cross_entropy(logits, y, reduction="sum")
                probs = F.softmax(logits, dim=1)
                return loss, probs.argmax(dim=1).eq(y).sum(), probs.max(dim=1).values.mean()

        def before(i):
            if i % 2 == 0:
                train_one(model, opt, i)
        return Case(evaluate_batch, lambda: [model, opt], lambda i: batch(i, np.float64), before=before)

    same_as_eager(setup, calls=8)


@pytest.mark.parametrize("order", ["compile(no_grad(f))", "no_grad(compile(f))"])
def test_no_grad_decorator_and_compile_in_either_order(order):
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def evaluate_batch(x, y):
            model.eval()
            out = model(x)
            acc = (out.argmax(-1) == y).float().mean()
            return F.cross_entropy(out, y), acc, out.requires_grad

        if order == "compile(no_grad(f))":
            function = compile(torch.no_grad()(evaluate_batch))
        else:
            function = torch.no_grad()(compile(evaluate_batch))

        def before(i):
            if i in (2, 5):
                train_one(model, opt, i)
        return Case(function, lambda: [model], batch, before=before)

    same_as_eager(setup, calls=7)


def test_metric_in_eval_mode_inside_train_step_then_back_to_train():
    def setup(compile):
        model = classifier(norm=True, dropout=0.5)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        @compile
        def step(x, y, xv, yv):
            model.train()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            model.eval()
            with torch.no_grad():
                val_acc = (model(xv).argmax(1) == yv).float().mean()
            model.train()
            return loss, val_acc

        def inputs(i):
            return batch(i) + batch(20 + (i % 2))
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_argmax_ties_from_relu_clipped_logits_pick_the_first_class():
    def setup(compile):
        model = nn.Sequential(nn.Linear(5, CLASSES), nn.ReLU()).double()
        with torch.no_grad():
            model[0].bias.fill_(-1.5)            # most logits 0: ties everywhere

        @compile
        def step(x, y, bias):
            with torch.no_grad():
                out = model(x + bias)
                pred = out.argmax(1)
                return pred, (pred == y).double().mean(), torch.max(out, dim=1).indices

        def inputs(i):
            x, y = batch(i, np.float64)
            return x, y, torch.tensor([0.0, -3.0, 1.0, 0.0, 0.5, -0.0, 2.0][i % 7], dtype=torch.float64)
        return Case(step, lambda: [model], inputs)

    same_as_eager(setup, calls=7)


def test_multilabel_accuracy_with_threshold_argument_changing():
    def setup(compile):
        model = classifier()
        opt = optim.Adam(model.parameters(), lr=0.01)

        @compile
        def step(x, y, threshold):
            targets = F.one_hot(y, CLASSES).float()
            targets[:, 0] = 1.0                        # every sample also has label 0
            opt.zero_grad()
            logits = model(x)
            loss = F.binary_cross_entropy_with_logits(logits, targets)
            loss.backward()
            opt.step()
            preds = (torch.sigmoid(logits) > threshold).float()
            exact = (preds == targets).all(dim=1).float().mean()
            hamming = (preds != targets).float().mean()
            return loss, exact, hamming

        def inputs(i):
            return batch(i) + ([0.5, 0.5, 0.3, 0.5, 0.7, 0.3, 0.5][i % 7],)
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- top-k
def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions (PyTorch's ImageNet example)."""
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


def test_imagenet_example_topk_accuracy_with_topk_tuple_changing():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)

        @compile
        def step(x, y, topk):
            output = model(x)
            loss = F.cross_entropy(output, y)
            acc1, acc3 = accuracy(output, y, topk=topk)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, acc1, acc3

        def inputs(i):
            return batch(i) + ([(1, 3), (1, 3), (1, 3), (1, 2), (1, 3), (2, 1), (1, 3)][i % 7],)
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_topk_indices_eq_any_with_k_argument_including_k_too_large():
    def setup(compile):
        model = classifier(torch.float64)

        @compile
        def step(x, y, k):
            with torch.no_grad():
                logits = model(x)
                topk = logits.topk(k, dim=1).indices
                hit = topk.eq(y.view(-1, 1)).any(dim=1)
                return hit.sum(), hit.float().mean(), torch.topk(logits, k=k, dim=-1, largest=False).values

        def inputs(i):
            return batch(i, np.float64) + ([1, 2, 2, 5, 3, 2, 4, 1][i % 8],)
        return Case(step, lambda: [model], inputs)

    same_as_eager(setup, calls=8)


def test_mnist_example_argmax_keepdim_eq_view_as_sum():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.Adadelta(model.parameters(), lr=1.0)
        record = {"test_loss": [], "correct": []}

        @compile
        def test_batch(data, target):
            model.eval()
            with torch.no_grad():
                output = F.log_softmax(model(data), dim=1)
                loss = F.nll_loss(output, target, reduction="sum")
                pred = output.argmax(dim=1, keepdim=True)
                return loss, pred.eq(target.view_as(pred)).sum()

        def before(i):
            if i % 3 == 0:
                train_one(model, opt, i)

        def after(i, result):
            record["test_loss"].append(result[0].item())
            record["correct"].append(result[1].item())
        return Case(test_batch, lambda: [model, opt, record], lambda i: batch(i, np.float64), before, after)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- confusion matrices
def test_confusion_matrix_index_put_accumulate_made_inside_step():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.2)

        @compile
        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            preds = logits.argmax(1)
            cm = torch.zeros(CLASSES, CLASSES, dtype=torch.int64)
            cm.index_put_((y, preds), torch.tensor(1), accumulate=True)
            cmf = torch.zeros(CLASSES, CLASSES).index_put_((y, preds), torch.ones(len(y)), accumulate=True)
            return loss, cm, cmf, cm.diag().sum() / cm.sum()
        return Case(step, lambda: [model, opt], batch)

    same_as_eager(setup, calls=8)


def test_confusion_matrix_tensor_passed_in_and_accumulated_in_place_across_calls():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.Adam(model.parameters(), lr=0.02)
        holder = {"cm": torch.zeros(CLASSES, CLASSES, dtype=torch.long)}

        @compile
        def step(x, y, cm):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                cm.index_put_((y, logits.argmax(dim=1)), torch.ones_like(y), accumulate=True)
            return loss

        def before(i):
            if i == 3:                               # new epoch: cleared in place
                holder["cm"].zero_()
            if i == 6:                               # new epoch: a new tensor
                holder["cm"] = torch.zeros(CLASSES, CLASSES, dtype=torch.long)
        return Case(step, lambda: [model, opt, holder["cm"]], lambda i: batch(i, np.float64) + (holder["cm"],), before)

    same_as_eager(setup, calls=8)


def test_confusion_matrix_from_bincount_with_minlength():
    def setup(compile):
        model = classifier()

        @compile
        def step(x, y):
            with torch.no_grad():
                preds = model(x).argmax(1)
                cm = torch.bincount(y * CLASSES + preds, minlength=CLASSES ** 2).reshape(CLASSES, CLASSES)
                per_class = torch.bincount(y, weights=(preds == y).float(), minlength=CLASSES)
                return cm, per_class / torch.bincount(y, minlength=CLASSES).clamp(min=1)

        def before(i):
            with torch.no_grad():
                model[-1].bias.add_(0.3 * (i % 3 - 1))   # the predictions move between calls
        return Case(step, lambda: [model], batch, before=before)

    same_as_eager(setup, calls=8)


def test_confusion_matrix_scatter_add_into_flat_view_of_argument():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1)
        cm = torch.zeros(CLASSES, CLASSES, dtype=torch.int64)

        @compile
        def step(x, y):
            opt.zero_grad()
            out = model(x)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            idx = y * CLASSES + out.argmax(1)
            cm.view(-1).scatter_add_(0, idx, torch.ones_like(idx))
            return loss, cm.sum(dim=1)

        def before(i):
            if i == 5:
                cm.fill_(0)
        return Case(step, lambda: [model, opt, cm], batch, before=before)

    same_as_eager(setup, calls=8)


def test_confusion_matrix_as_one_hot_product_and_normalized_rows_with_empty_class():
    def setup(compile):
        model = classifier(torch.float64)

        @compile
        def step(x, y):
            with torch.no_grad():
                p = model(x).argmax(1)
                cm = F.one_hot(y, CLASSES).T.double() @ F.one_hot(p, num_classes=CLASSES).double()
                normalized = cm / cm.sum(1, keepdim=True)      # an absent class gives a nan row
                return cm, normalized, torch.nan_to_num(normalized).diagonal()

        def inputs(i):
            x, y = batch(i, np.float64)
            if i % 2:
                y = y.clamp(max=2)                              # class 3 absent
            return x, y
        return Case(step, lambda: [model], inputs)

    same_as_eager(setup, calls=7)


def test_confusion_matrix_fancy_assign_plus_equal_one_drops_duplicates_as_in_pytorch():
    def setup(compile):
        model = classifier()

        @compile
        def step(x, y):
            cm = torch.zeros(CLASSES, CLASSES, dtype=torch.long)
            with torch.no_grad():
                p = model(x).argmax(1)
            cm[y, p] += 1                     # a common mistake: duplicates count once
            right = torch.zeros(CLASSES, CLASSES, dtype=torch.long)
            right[y, p] = right[y, p] + 1
            return cm, right
        return Case(step, lambda: [model], batch)

    same_as_eager(setup, calls=6)


def test_returned_metric_tensors_kept_outside_are_not_changed_by_later_calls():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.2)
        kept = []

        @compile
        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            (acc1,) = accuracy(logits, y)
            cm = torch.zeros(CLASSES, CLASSES).index_put_((y, logits.argmax(1)), torch.tensor(1.0), accumulate=True)
            cm /= cm.sum()
            return loss, acc1, cm, logits.detach()

        def after(i, result):
            kept.append(result)                     # every call's tensors, compared after each later call
        return Case(step, lambda: [model, opt, kept], batch, after=after)

    same_as_eager(setup, calls=7)


class ConfusionMetric(nn.Module):
    """A torchmetrics-style metric: state in buffers, update() per batch, compute() at the end."""

    def __init__(self, num_classes):
        super().__init__()
        self.num_classes = num_classes
        self.register_buffer("confmat", torch.zeros(num_classes, num_classes, dtype=torch.long))
        self.register_buffer("total_loss", torch.zeros((), dtype=torch.float32))

    def update(self, logits, target, loss):
        preds = logits.argmax(dim=-1)
        self.confmat.index_put_((target, preds), torch.ones_like(target), accumulate=True)
        self.total_loss += loss.detach() * target.numel()

    def compute(self):
        tp = self.confmat.diag().float()
        precision = tp / self.confmat.sum(0).clamp(min=1)
        recall = tp / self.confmat.sum(1).clamp(min=1)
        return precision, recall

    def reset(self):
        self.confmat.zero_()
        self.total_loss.zero_()


def test_metric_module_with_buffers_updated_in_step_computed_and_reset_outside():
    def setup(compile):
        model = classifier()
        metric = ConfusionMetric(CLASSES)
        opt = optim.SGD(model.parameters(), lr=0.1)
        computed = []

        @compile
        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            metric.update(logits, y, loss)
            return loss

        def after(i, result):
            if i % 3 == 2:
                computed.append(snap(metric.compute()))
                metric.reset()
        return Case(step, lambda: [model, opt, metric, computed], batch, after=after)

    same_as_eager(setup, calls=8)


def test_per_class_counts_with_scatter_add_and_rebound_tensor_attribute_state():
    class Tracker:
        def __init__(self):
            self.hits = torch.zeros(CLASSES, dtype=torch.float64)
            self.seen = torch.zeros(CLASSES, dtype=torch.float64)

    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.SGD(model.parameters(), lr=0.1)
        tracker = Tracker()

        @compile
        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            ok = (logits.argmax(1) == y).double()
            tracker.hits = tracker.hits.scatter_add(0, y, ok)
            tracker.seen = tracker.seen + torch.zeros(CLASSES, dtype=torch.float64).index_add_(0, y, torch.ones_like(ok))
            return loss, tracker.hits / tracker.seen

        def before(i):
            if i == 4:
                tracker.hits = torch.zeros(CLASSES, dtype=torch.float64)
                tracker.seen = torch.zeros(CLASSES, dtype=torch.float64)
        return Case(step, lambda: [model, opt, tracker], lambda i: batch(i, np.float64), before=before)

    same_as_eager(setup, calls=8)


def test_scatter_add_confusion_matrix_with_float_ones_raises_as_in_pytorch():
    def setup(compile):
        model = classifier()

        @compile
        def step(x, y):
            cm = torch.zeros(CLASSES * CLASSES, dtype=torch.long)
            with torch.no_grad():
                idx = y * CLASSES + model(x).argmax(1)
            cm.scatter_add_(0, idx, torch.ones(len(idx)))     # float ones into a long matrix
            return cm
        return Case(step, lambda: [model], batch)

    same_as_eager(setup, calls=3)
    eager, _ = run(False, setup, 3)
    assert eager[0][0] == "raised" and "Expected self.dtype to be equal to src.dtype" in eager[0][2], eager[0]


# ----------------------------------------------------------------------------- precision / recall / F1
def macro_prf(cm, eps=0.0):
    tp = cm.diag().to(torch.float64)
    fp = cm.sum(dim=0) - cm.diag()
    fn = cm.sum(dim=1) - cm.diag()
    precision = tp / (tp + fp + eps)
    recall = tp / (tp + fn + eps)
    f1 = 2 * precision * recall / (precision + recall + eps)
    return precision, recall, f1


def test_macro_precision_recall_f1_with_nan_for_empty_classes_and_nanmean():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.Adam(model.parameters(), lr=0.05)

        @compile
        def step(x, y, eps):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            cm = torch.zeros(CLASSES, CLASSES, dtype=torch.long)
            cm.index_put_((y, logits.argmax(1)), torch.tensor(1), accumulate=True)
            precision, recall, f1 = macro_prf(cm, eps)
            return {"loss": loss, "precision": precision, "recall": recall, "f1": f1,
                    "macro_f1": f1.nanmean(), "f1_zeroed": torch.nan_to_num(f1, nan=0.0).mean()}

        def inputs(i):
            x, y = batch(i, np.float64)
            return x, y, [0.0, 0.0, 1e-8, 0.0, 1e-8, 0.0, 0.0][i % 7]
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_binary_precision_recall_f1_from_sigmoid_with_threshold_and_pos_weight():
    def setup(compile):
        model = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1))
        opt = optim.SGD(model.parameters(), lr=0.5)
        pos_weight = torch.tensor([2.0])

        @compile
        def step(x, y, threshold):
            target = (y >= 2).float()
            opt.zero_grad()
            logit = model(x).squeeze(1)
            loss = F.binary_cross_entropy_with_logits(logit, target, pos_weight=pos_weight)
            loss.backward()
            opt.step()
            pred = (torch.sigmoid(logit) >= threshold).float()
            tp = (pred * target).sum()
            fp = (pred * (1 - target)).sum()
            fn = ((1 - pred) * target).sum()
            precision = tp / (tp + fp + 1e-7)
            recall = tp / (tp + fn + 1e-7)
            f1 = 2 * precision * recall / (precision + recall + 1e-7)
            return loss, precision, recall, f1

        def inputs(i):
            return batch(i) + ([0.5, 0.5, 0.9, 0.5, 0.1, 0.9, 0.5][i % 7],)
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_precision_with_clamped_denominator_and_logical_and_counts_in_float32():
    def setup(compile):
        model = classifier()

        @compile
        def step(x, y, positive):
            with torch.no_grad():
                pred = model(x).argmax(1)
            tp = torch.logical_and(pred == positive, y == positive).sum()
            predicted = (pred == positive).sum()
            actual = (y == positive).sum()
            precision = tp / predicted.clamp(min=1)
            recall = tp.float() / actual.clamp(min=1)
            support = ((y == positive) & (pred != positive)).sum()
            return precision, recall, support, tp

        def inputs(i):
            return batch(i) + ([0, 1, 3, 2, 0, 3, 1][i % 7],)
        return Case(step, lambda: [model], inputs)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- running averages
class AverageMeter:
    """Computes and stores the average and current value (PyTorch's ImageNet example)."""

    def __init__(self, name):
        self.name = name
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def test_average_meters_updated_outside_with_item():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses, top1, top2 = AverageMeter("Loss"), AverageMeter("Acc@1"), AverageMeter("Acc@2")

        @compile
        def step(images, target):
            output = model(images)
            loss = F.cross_entropy(output, target)
            acc1, acc2 = accuracy(output, target, topk=(1, 2))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss, acc1, acc2

        def after(i, result):
            loss, acc1, acc2 = result
            n = SIZES[i % len(SIZES)]
            losses.update(loss.item(), n)
            top1.update(acc1[0].item(), n)
            top2.update(acc2[0].item(), n)
            if i == 3:
                for meter in (losses, top1, top2):
                    meter.reset()
        return Case(step, lambda: [model, opt, losses, top1, top2], batch, after=after)

    same_as_eager(setup, calls=8)


def test_average_meter_updated_inside_the_compiled_step_with_tensors():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.SGD(model.parameters(), lr=0.1)
        meter = AverageMeter("loss")

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            meter.update(loss.detach(), x.size(0))   # Python counter changed inside: no replay
            return meter.avg
        return Case(step, lambda: [model, opt, meter], lambda i: batch(i, np.float64))

    same_as_eager(setup, calls=7)


def test_running_loss_tensor_fed_back_as_argument_and_losses_list_outside():
    def setup(compile):
        model = classifier()
        opt = optim.RMSprop(model.parameters(), lr=0.01)
        state = {"running": torch.zeros(()), "history": []}

        @compile
        def step(x, y, running):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss, 0.9 * running + 0.1 * loss.detach()

        def after(i, result):
            loss, running = result
            state["running"] = running
            state["history"].append(loss.item())
            if i % 4 == 3:
                state["history"].append(("epoch", sum(state["history"][-4:]) / 4))
        return Case(step, lambda: [model, opt, dict(state)], lambda i: batch(i) + (state["running"],), after=after)

    same_as_eager(setup, calls=8)


# ----------------------------------------------------------------------------- evaluation loops
def test_eval_loop_over_loader_with_smaller_last_batch_and_training_between_epochs():
    def setup(compile):
        model = classifier(norm=True, dropout=0.2)
        opt = optim.Adam(model.parameters(), lr=0.01)
        val, _ = loaders()
        epochs = []

        @compile
        def eval_step(x, y):
            logits = model(x)
            return F.cross_entropy(logits, y, reduction="sum"), (logits.argmax(1) == y).sum()

        def epoch(i):
            train_one(model, opt, i)
            model.eval()
            total_loss, correct, n = 0.0, 0, 0
            with torch.no_grad():
                for x, y in val:
                    loss, c = eval_step(x, y)
                    total_loss += loss.item()
                    correct += c.item()
                    n += len(y)
            model.train()
            epochs.append((total_loss / n, correct / n))
            return total_loss / n

        return Case(epoch, lambda: [model, opt, epochs], lambda i: (i,))

    same_as_eager(setup, calls=6)


def test_transfer_learning_tutorial_phase_argument_with_set_grad_enabled():
    def setup(compile):
        model = classifier(norm=True, dropout=0.2)
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
        epoch_log = []

        @compile
        def run_batch(phase, inputs, labels):
            if phase == "train":
                model.train()
            else:
                model.eval()
            optimizer.zero_grad()
            with torch.set_grad_enabled(phase == "train"):
                outputs = model(inputs)
                _, preds = torch.max(outputs, 1)
                loss = criterion(outputs, labels)
                if phase == "train":
                    loss.backward()
                    optimizer.step()
            return loss * inputs.size(0), torch.sum(preds == labels.data)

        state = {"loss": 0.0, "corrects": torch.zeros((), dtype=torch.long), "size": 0}

        def after(i, result):
            loss, corrects = result
            state["loss"] += loss.item()
            state["corrects"] = state["corrects"] + corrects
            state["size"] += SIZES[i % len(SIZES)]
            if i % 3 == 2:
                epoch_log.append((state["loss"] / state["size"], snap(state["corrects"].double() / state["size"])))
                state.update(loss=0.0, corrects=torch.zeros((), dtype=torch.long), size=0)
                scheduler.step()

        def inputs(i):
            return (["train", "train", "val", "train", "val", "val", "train", "val"][i % 8],) + batch(i)
        return Case(run_batch, lambda: [model, optimizer, epoch_log], inputs, after=after)

    same_as_eager(setup, calls=8)


def test_quickstart_test_loop_with_type_float_sum_and_item_outside():
    def setup(compile):
        model = classifier()
        loss_fn = nn.CrossEntropyLoss()
        optimizer = optim.SGD(model.parameters(), lr=1e-1)
        _, test_loader = loaders(batch_size=4)                 # 13 samples: 4, 4, 4, 1
        results = []

        @compile
        def test_batch(X, y):
            pred = model(X)
            return loss_fn(pred, y), (pred.argmax(1) == y).type(torch.float).sum()

        def test(i):
            size = len(test_loader.dataset)
            num_batches = len(test_loader)
            train_one(model, optimizer, i)
            model.eval()
            test_loss, correct = 0, 0
            with torch.no_grad():
                for X, y in test_loader:
                    loss, c = test_batch(X, y)
                    test_loss += loss.item()
                    correct += c.item()
            test_loss /= num_batches
            correct /= size
            results.append(f"Accuracy: {(100*correct):>0.1f}%, Avg loss: {test_loss:>8f}")
            return test_loss, correct
        return Case(test, lambda: [model, optimizer, results], lambda i: (i,))

    same_as_eager(setup, calls=5)


def test_compiled_evaluate_looping_over_the_loader_inside_on_val_and_test_loaders():
    def setup(compile):
        model = classifier(torch.float32, norm=True, dropout=0.3)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        val, test = loaders()

        @compile
        def evaluate(model, loader):
            model.eval()
            total_loss = torch.zeros(())
            correct = torch.zeros((), dtype=torch.long)
            with torch.no_grad():
                for x, y in loader:
                    out = model(x)
                    total_loss += F.cross_entropy(out, y, reduction="sum")
                    correct += (out.argmax(dim=1) == y).sum()
            model.train()
            n = len(loader.dataset)
            return total_loss / n, correct.float() / n

        def before(i):
            if i % 2 == 0:
                train_one(model, opt, i)
        return Case(evaluate, lambda: [model, opt],
                    lambda i: (model, [val, val, test, val, test, test, val][i % 7]), before=before)

    same_as_eager(setup, calls=7)


def test_compiled_evaluate_with_stacked_predictions_and_shuffled_loader():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.Adam(model.parameters(), lr=0.01)
        val, test = loaders(np.float64, batch_size=5, shuffle=True)

        @compile
        def evaluate(model, loader):
            model.eval()
            all_preds, all_targets, losses = [], [], []
            with torch.no_grad():
                for inputs, targets in loader:
                    logits = model(inputs)
                    losses.append(F.cross_entropy(logits, targets))
                    all_preds.append(logits.argmax(1))
                    all_targets.append(targets)
            preds, targets = torch.cat(all_preds), torch.cat(all_targets)
            return torch.stack(losses).mean(), (preds == targets).double().mean(), preds

        def before(i):
            if i in (1, 3, 4):
                train_one(model, opt, i)
        return Case(evaluate, lambda: [model, opt], lambda i: (model, [val, test][i % 2 if i < 4 else 0]), before=before)

    same_as_eager(setup, calls=7)


def test_compiled_evaluate_over_materialized_batches_with_smaller_last_batch():
    def setup(compile):
        model = classifier(torch.float64, norm=True, dropout=0.25)
        opt = optim.Adam(model.parameters(), lr=0.02)
        val, test = loaders(np.float64)
        val_batches, test_batches = list(val), list(test)      # 8, 8, 6 and 8, 5

        @compile
        def evaluate(model, batches):
            was_training = model.training
            model.eval()
            losses, correct, seen = [], 0, 0
            with torch.no_grad():
                for inputs, targets in batches:
                    logits = model(inputs)
                    losses.append(F.cross_entropy(logits, targets, reduction="sum"))
                    correct = correct + (logits.argmax(1) == targets).sum()
                    seen += len(targets)
            model.train(was_training)
            return sum(losses) / seen, correct / seen, seen

        def before(i):
            train_one(model, opt, i)
            if i == 4:
                model.eval()
        return Case(evaluate, lambda: [model, opt],
                    lambda i: (model, [val_batches, test_batches, val_batches, val_batches, test_batches,
                                       val_batches[:2], val_batches][i % 7]), before=before)

    same_as_eager(setup, calls=7)


def test_compiled_evaluate_mnist_example_with_item_inside_the_loop():
    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=0.1)
        val, test = loaders(batch_size=6)

        @compile
        def test_fn(model, test_loader):
            model.eval()
            test_loss = 0
            correct = 0
            with torch.no_grad():
                for data, target in test_loader:
                    output = model(data)
                    test_loss += F.cross_entropy(output, target, reduction="sum").item()
                    pred = output.argmax(dim=1, keepdim=True)
                    correct += pred.eq(target.view_as(pred)).sum().item()
            test_loss /= len(test_loader.dataset)
            return test_loss, 100. * correct / len(test_loader.dataset)

        def before(i):
            train_one(model, opt, i)
        return Case(test_fn, lambda: [model, opt], lambda i: (model, [val, test][i % 2]), before=before)

    same_as_eager(setup, calls=6)


def test_evaluate_with_drop_last_loader_and_batch_size_changed_between_calls():
    def setup(compile):
        model = classifier()
        xv, yv = arrays(22, 9)
        dataset = TensorDataset(torch.tensor(xv), torch.tensor(yv))
        holder = {"loader": DataLoader(dataset, batch_size=8)}

        @compile
        def evaluate(loader):
            with torch.no_grad():
                accs = [(model(x).argmax(1) == y).float().mean() for x, y in loader]
            return torch.stack(accs), len(accs)

        def before(i):
            holder["loader"] = [DataLoader(dataset, batch_size=8), DataLoader(dataset, batch_size=8, drop_last=True),
                                DataLoader(dataset, batch_size=5), DataLoader(dataset, batch_size=8)][i % 4]
            with torch.no_grad():
                model[0].weight.mul_(0.9)
        return Case(evaluate, lambda: [model], lambda i: (holder["loader"],), before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- calibration
def test_expected_calibration_error_with_bucketize_and_scatter_add():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.SGD(model.parameters(), lr=0.3)
        n_bins = 10

        @compile
        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                confidences, predictions = F.softmax(logits, dim=1).max(1)
                accuracies = predictions.eq(y).double()
                boundaries = torch.linspace(0, 1, n_bins + 1, dtype=torch.float64)
                bins = torch.bucketize(confidences, boundaries[1:-1])
                count = torch.zeros(n_bins, dtype=torch.float64).scatter_add_(0, bins, torch.ones_like(confidences))
                conf_sum = torch.zeros(n_bins, dtype=torch.float64).scatter_add_(0, bins, confidences)
                acc_sum = torch.zeros(n_bins, dtype=torch.float64).scatter_add_(0, bins, accuracies)
                gap = (conf_sum - acc_sum).abs()
                ece = gap.sum() / len(y)
            return loss, ece, bins, count

        def inputs(i):
            x, y = batch(i, np.float64)
            return x * [1.0, 3.0, 0.2, 1.0, 5.0, 1.0, 0.5][i % 7], y
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_expected_calibration_error_with_comparison_bin_ids_and_scatter_add_in_float32():
    def setup(compile):
        model = classifier()
        opt = optim.Adam(model.parameters(), lr=0.05)
        boundaries = torch.linspace(0, 1, 9)

        @compile
        def step(x, y):
            opt.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            with torch.no_grad():
                conf, pred = logits.softmax(-1).max(-1)
                bin_ids = (conf.unsqueeze(1) > boundaries[1:-1]).sum(1)
                count = torch.zeros(8).scatter_add_(0, bin_ids, torch.ones_like(conf))
                gap = torch.zeros(8).scatter_add_(0, bin_ids, conf - (pred == y).float())
                ece = gap.abs().sum() / conf.numel()
                mce = torch.where(count > 0, gap.abs() / count.clamp(min=1), torch.zeros_like(gap)).max()
            return loss, ece, mce, count

        def inputs(i):
            x, y = batch(i)
            return x * [1.0, 4.0, 0.3, 1.0, 2.0, 1.0, 0.5][i % 7], y
        return Case(step, lambda: [model, opt], inputs)

    same_as_eager(setup, calls=7)


def test_expected_calibration_error_reference_loop_with_item_inside():
    class ECELoss(nn.Module):
        """Guo et al., On Calibration of Modern Neural Networks (the widely copied version)."""

        def __init__(self, n_bins=15):
            super().__init__()
            bin_boundaries = torch.linspace(0, 1, n_bins + 1)
            self.bin_lowers = bin_boundaries[:-1]
            self.bin_uppers = bin_boundaries[1:]

        def forward(self, logits, labels):
            softmaxes = F.softmax(logits, dim=1)
            confidences, predictions = torch.max(softmaxes, 1)
            accuracies = predictions.eq(labels)
            ece = torch.zeros(1, device=logits.device)
            for bin_lower, bin_upper in zip(self.bin_lowers, self.bin_uppers):
                in_bin = confidences.gt(bin_lower.item()) * confidences.le(bin_upper.item())
                prop_in_bin = in_bin.float().mean()
                if prop_in_bin.item() > 0:
                    accuracy_in_bin = accuracies[in_bin].float().mean()
                    avg_confidence_in_bin = confidences[in_bin].mean()
                    ece += torch.abs(avg_confidence_in_bin - accuracy_in_bin) * prop_in_bin
            return ece

    def setup(compile):
        model = classifier()
        criterion = ECELoss(n_bins=5)

        @compile
        def step(x, y):
            with torch.no_grad():
                return criterion(model(x), y)

        def before(i):
            with torch.no_grad():
                model[-1].weight.mul_(1.5)
        return Case(step, lambda: [model], batch, before=before)

    same_as_eager(setup, calls=6)


def test_calibration_masks_per_bin_without_item_and_n_bins_attribute_changed():
    class Calibration:
        n_bins = 5

    def setup(compile):
        model = classifier()
        cfg = Calibration()

        @compile
        def step(x, y, temperature):
            with torch.no_grad():
                probs = F.softmax(model(x) / temperature, dim=-1)
                conf, pred = probs.max(dim=-1)
                correct = (pred == y).float()
                edges = torch.linspace(0, 1, cfg.n_bins + 1)
                ece = torch.zeros(())
                for lo, hi in zip(edges[:-1], edges[1:]):
                    in_bin = ((conf > lo) & (conf <= hi)).float()
                    n = in_bin.sum()
                    gap = torch.where(n > 0, ((conf - correct) * in_bin).sum() / n.clamp(min=1), torch.zeros(()))
                    ece = ece + gap.abs() * n / len(y)
                return ece, F.one_hot((conf * cfg.n_bins).long().clamp(max=cfg.n_bins - 1), cfg.n_bins).sum(0)

        def before(i):
            cfg.n_bins = [5, 5, 10, 10, 5, 3, 5][i]

        def inputs(i):
            return batch(i) + (torch.tensor([1.0, 1.0, 2.0, 0.5, 1.0, 1.0, 1.5][i]),)
        return Case(step, lambda: [model], inputs, before=before)

    same_as_eager(setup, calls=7)


def test_reliability_histogram_with_bucketize_right_and_out_int32_then_bincount():
    def setup(compile):
        model = classifier(torch.float64)

        @compile
        def step(x, y, right):
            with torch.no_grad():
                conf = F.softmax(model(x), dim=1).amax(dim=1)
                boundaries = torch.tensor([0.25, 0.4, 0.5, 0.6, 0.8], dtype=torch.float64)
                ids = torch.bucketize(conf, boundaries, right=right)
                ids32 = torch.bucketize(conf, boundaries, out_int32=True, right=right)
                counts = torch.bincount(ids, minlength=len(boundaries) + 1)
                hist = torch.histc(conf, bins=6, min=0.2, max=0.8)
                return ids32, counts, torch.searchsorted(boundaries, conf, right=right), hist

        def inputs(i):
            x, y = batch(i, np.float64)
            return x * (1 + i), y, bool(i % 3 == 1)
        return Case(step, lambda: [model], inputs)

    same_as_eager(setup, calls=7)


def test_histogram_of_confidences_matches_pytorch():
    real = pytest.importorskip("torch")
    conf = [0.1, 0.5, 0.95, 1.0, 0.0, 0.6666666269302368]      # the float32 PyTorch puts on the edge
    for density in (False, True):
        ours = torch.histogram(torch.tensor(conf), bins=3, density=density)
        theirs = real.histogram(real.tensor(conf), bins=3, density=density)
        assert_identical([arr(t) for t in ours], [t.numpy() for t in theirs], f"histogram(density={density})")


# ----------------------------------------------------------------------------- early stopping
def test_early_stopping_outside_with_best_state_dict_deepcopy_and_restore():
    def setup(compile):
        model = classifier(torch.float64, dropout=0.1)
        opt = optim.SGD(model.parameters(), lr=0.8)        # large: the loss will bounce
        xv, yv = arrays(11, 5, np.float64)
        xv, yv = torch.tensor(xv), torch.tensor(yv)
        es = {"best": float("inf"), "best_state": None, "bad": 0, "patience": 2, "log": []}

        @compile
        def epoch(x, y):
            model.train()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            model.eval()
            with torch.no_grad():
                val_loss = F.cross_entropy(model(xv), yv)
            return loss, val_loss

        def after(i, result):
            val_loss = result[1].item()
            if val_loss < es["best"]:
                es["best"], es["bad"] = val_loss, 0
                es["best_state"] = copy.deepcopy(model.state_dict())
            else:
                es["bad"] += 1
            es["log"].append((val_loss, es["bad"]))
            if es["bad"] >= es["patience"]:
                model.load_state_dict(es["best_state"])    # restore, keep going with a smaller lr
                opt.param_groups[0]["lr"] *= 0.5
                es["bad"] = 0
        return Case(epoch, lambda: [model, opt, es["log"], es["best"]], lambda i: batch(i, np.float64), after=after)

    same_as_eager(setup, calls=8)


def test_early_stopping_comparison_inside_the_compiled_step():
    class EarlyStopping:
        def __init__(self, patience=2, min_delta=0.0):
            self.patience, self.min_delta = patience, min_delta
            self.counter, self.best_loss, self.early_stop = 0, None, False

        def __call__(self, val_loss):
            if self.best_loss is None:
                self.best_loss = val_loss
            elif self.best_loss - val_loss > self.min_delta:
                self.best_loss = val_loss
                self.counter = 0
            else:
                self.counter += 1
                if self.counter >= self.patience:
                    self.early_stop = True

    def setup(compile):
        model = classifier()
        opt = optim.SGD(model.parameters(), lr=1.0)
        stopper = EarlyStopping()

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            stopper(loss.detach())
            return loss, stopper.early_stop
        return Case(step, lambda: [model, opt, stopper], batch)

    same_as_eager(setup, calls=7)


def test_best_loss_kept_as_tensor_with_minimum_and_improved_flag_returned():
    def setup(compile):
        model = classifier(torch.float64)
        opt = optim.Adam(model.parameters(), lr=0.1)
        state = {"best": torch.tensor(float("inf"), dtype=torch.float64), "stop_at": None, "flags": []}

        @compile
        def step(x, y, best):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            improved = loss.detach() < best
            return loss, torch.minimum(best, loss.detach()), improved

        def after(i, result):
            loss, best, improved = result
            state["best"] = best
            state["flags"].append(bool(improved))
            if not improved and state["stop_at"] is None:
                state["stop_at"] = i
        return Case(step, lambda: [model, opt, dict(state)], lambda i: batch(i, np.float64) + (state["best"],), after=after)

    same_as_eager(setup, calls=8)
