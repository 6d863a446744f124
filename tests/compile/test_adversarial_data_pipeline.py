"""chainrule.compile against eager execution on the DATA SIDE around compiled steps: Dataset subclasses
returning tuples, dicts, nested tuples, NumPy arrays and strings, TensorDataset, random_split with a
seeded Generator, Subset, ConcatDataset, StackDataset, DataLoader with seeded shuffling and
drop_last, custom collate_fns padding sequences with pad_sequence, the samplers (RandomSampler,
SubsetRandomSampler, WeightedRandomSampler, BatchSampler), IterableDatasets, transforms with torch
ops in ``__getitem__``, a compiled step called on every batch of an epoch (the last one smaller), a
compiled function looping over a list of batches or over a DataLoader itself, and batches that are
views, reused buffers or aliased arguments.

Each compiled test runs the same calls from the same seed eagerly and compiled, and compares bit for bit what each call returns or raises, parameters,
grads, buffers, optimizer state, Python side effects and the random stream. A compiled run may record
anew or fall back to eager with at most one warning.

The last tests check eagerly against PyTorch that one seed gives PyTorch's shuffled order,
random_split, sampler indices and collated batches.
"""
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.utils.rnn import pad_sequence
from chainrule.random import default_generator
from chainrule.utils.data import (
    BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
    StackDataset, Subset, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate,
    random_split,
)
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
    }


def observe(objects):
    out = []
    for thing in objects:
        if isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
            out.append([g["lr"] for g in thing.param_groups])
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs, before=None):
        self.step, self.observe, self.inputs = step, observe, inputs
        self.before = before or (lambda i: None)


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
            history.append(("args", snap(args)))
            try:
                result = function(*args)
                history.append(("ok", snap(result)))
            except Exception as error:  # compared: type and message
                history.append(("raised", type(error).__name__, str(error)))
            history.append(observe(case.observe()))
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


def forever(loader):
    """The batches of epoch after epoch, as ``for epoch in ...: for batch in loader:`` visits them."""
    while True:
        yield from loader


def from_loader(loader, wrap=tuple):
    stream = forever(loader)
    return lambda i: wrap(next(stream))


def train_step(net, opt, loss_fn=F.mse_loss):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def regression_data(n=10, d=3, o=2, dtype=chainrule.float64):
    g = np.random.default_rng(n * 7 + d)
    X = chainrule.tensor(g.standard_normal((n, d))).to(dtype)
    Y = chainrule.tensor(g.standard_normal((n, o))).to(dtype)
    return X, Y


def classification_data(n=11, d=4, classes=3):
    g = np.random.default_rng(n + classes)
    X = chainrule.tensor(g.standard_normal((n, d)), dtype=chainrule.float32)
    y = chainrule.tensor(g.integers(0, classes, n))
    return X, y


def mlp(d=3, o=2, dtype=chainrule.float64):
    return nn.Sequential(nn.Linear(d, 5), nn.Tanh(), nn.Linear(5, o)).to(dtype)


# ----------------------------------------------------------------------------- TensorDataset + DataLoader
def test_shuffled_loader_every_batch_of_several_epochs_last_batch_smaller():
    def setup():
        X, Y = regression_data(10)
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=8)


def test_shuffled_loader_drop_last_float32_adam():
    def setup():
        X, Y = regression_data(11, dtype=chainrule.float32)
        loader = DataLoader(TensorDataset(X, Y), batch_size=3, shuffle=True, drop_last=True)
        net = mlp(dtype=chainrule.float32)
        opt = optim.Adam(net.parameters(), lr=0.01)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_loader_with_its_own_seeded_generator_and_global_draws_between_batches():
    def setup():
        X, Y = regression_data(9)
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True,
                            generator=chainrule.Generator().manual_seed(1234))
        net = mlp()
        opt = optim.RMSprop(net.parameters(), lr=0.01)
        noisy = from_loader(loader)

        def inputs(i):
            x, y = noisy(i)
            return x + 0.01 * chainrule.randn_like(x), y  # noise drawn from the global stream
        return Case(train_step(net, opt), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_cross_entropy_with_int64_labels_and_steplr_each_epoch():
    def setup():
        X, y = classification_data(11)
        loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True)
        net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.SGD(net.parameters(), lr=0.5)
        sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        stream = forever(loader)

        def inputs(i):
            if i and i % len(loader) == 0:
                sched.step()  # one epoch done
            return tuple(next(stream))
        return Case(train_step(net, opt, F.cross_entropy), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=8)


def test_batchnorm_model_last_batch_of_one_sample_raises_as_eagerly():
    def setup():
        X, Y = regression_data(9)
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True)  # 4, 4, 1
        net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- splits and subsets
def test_random_split_with_seeded_generator_train_and_compiled_eval_alternating():
    def setup():
        X, Y = regression_data(14)
        train_set, val_set = random_split(TensorDataset(X, Y), [10, 4], generator=chainrule.Generator().manual_seed(42))
        train_loader = DataLoader(train_set, batch_size=4, shuffle=True)
        val_loader = DataLoader(val_set, batch_size=3)
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.02)
        fit = train_step(net, opt)

        @chainrule.no_grad()
        def evaluate(x, y):
            net.eval()
            loss = F.mse_loss(net(x), y, reduction="sum")
            net.train()
            return loss

        train_stream, val_stream = forever(train_loader), forever(val_loader)

        def step(kind, x, y):
            return fit(x, y) if kind == "train" else evaluate(x, y)

        def inputs(i):
            kind = "val" if i % 3 == 2 else "train"
            return (kind, *next(val_stream if kind == "val" else train_stream))
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=8)


def test_random_split_by_fractions_of_a_dataset_subclass_with_dropout():
    class Points(Dataset):
        def __init__(self):
            self.X, self.Y = regression_data(13)

        def __len__(self):
            return len(self.X)

        def __getitem__(self, i):
            return self.X[i], self.Y[i]

    def setup():
        train_set, _ = random_split(Points(), [0.8, 0.2], generator=chainrule.Generator().manual_seed(0))
        loader = DataLoader(train_set, batch_size=4, shuffle=True)  # 11 samples: 4, 4, 3
        net = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.05)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_subset_with_index_list_and_concat_dataset_of_two_sources():
    def setup():
        X1, Y1 = regression_data(8)
        X2, Y2 = regression_data(6)
        data = ConcatDataset([Subset(TensorDataset(X1, Y1), [7, 0, 3, 5, 1]), TensorDataset(X2 * 2, Y2)])
        loader = DataLoader(data, batch_size=4, shuffle=True)  # 11 samples
        net = mlp()
        opt = optim.Adagrad(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_dataset_plus_dataset_and_stack_dataset_dict_batches():
    def setup():
        X1, Y1 = regression_data(5)
        X2, Y2 = regression_data(4)
        data = StackDataset(features=TensorDataset(X1) + TensorDataset(X2), target=TensorDataset(Y1) + TensorDataset(Y2))
        loader = DataLoader(data, batch_size=4, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, nesterov=True, momentum=0.5)

        def step(batch):
            (x,), (y,) = batch["features"], batch["target"]
            opt.zero_grad()
            loss = F.l1_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], from_loader(loader, wrap=lambda b: (b,)))

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- Dataset subclasses and collation
class DictPoints(Dataset):
    def __init__(self, n=10):
        self.X, self.Y = regression_data(n)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return {"x": self.X[i], "y": self.Y[i], "weight": 1.0 + (i % 3) / 2}


def test_dict_samples_default_collate_with_float_weights():
    def setup():
        loader = DataLoader(DictPoints(10), batch_size=4, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(batch):
            opt.zero_grad()
            per_sample = ((net(batch["x"]) - batch["y"]) ** 2).mean(dim=1)
            loss = (per_sample * batch["weight"]).sum() / batch["weight"].sum()
            loss.backward()
            opt.step()
            return {"loss": loss, "n": batch["x"].shape[0]}
        return Case(step, lambda: [net, opt], from_loader(loader, wrap=lambda b: (b,)))

    same_as_eager(setup, calls=7)


def test_dict_batches_with_and_without_labels_branching_on_keys():
    class Unlabeled(Dataset):
        def __init__(self):
            self.X, _ = regression_data(7)

        def __len__(self):
            return 7

        def __getitem__(self, i):
            return {"x": self.X[i]}

    def setup():
        labeled = forever(DataLoader(DictPoints(8), batch_size=4, shuffle=True))
        unlabeled = forever(DataLoader(Unlabeled(), batch_size=3, shuffle=True))
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(batch):
            opt.zero_grad()
            out = net(batch["x"])
            if "y" in batch:
                loss = F.mse_loss(out, batch["y"])
            else:  # consistency: pull predictions toward their own detached mean
                loss = 0.1 * ((out - out.detach().mean(0)) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], lambda i: (next(unlabeled if i % 3 == 1 else labeled),))

    same_as_eager(setup, calls=8)


class MaskedSeqs(Dataset):
    """Nested tuples: ((tokens, mask), label)."""

    def __init__(self, n=9, length=5):
        g = np.random.default_rng(3)
        self.tokens = chainrule.tensor(g.integers(1, 12, (n, length)))
        self.lengths = [int(v) for v in g.integers(2, length + 1, n)]
        self.labels = chainrule.tensor(g.integers(0, 2, n))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        mask = chainrule.arange(self.tokens.shape[1]) < self.lengths[i]
        return (self.tokens[i] * mask, mask), self.labels[i]


class BagOfEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(12, 6, padding_idx=0)
        self.out = nn.Linear(6, 2)

    def forward(self, tokens, mask):
        h = self.emb(tokens) * mask.unsqueeze(-1)
        return self.out(h.sum(1) / mask.sum(1, keepdim=True))


def test_nested_tuple_samples_default_collate_masked_bag_of_embeddings():
    def setup():
        loader = DataLoader(MaskedSeqs(), batch_size=4, shuffle=True)
        net = BagOfEmbeddings()
        opt = optim.AdamW(net.parameters(), lr=0.01)

        def step(inputs, labels):
            tokens, mask = inputs
            opt.zero_grad()
            loss = F.cross_entropy(net(tokens, mask), labels)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


class VarLenSeqs(Dataset):
    def __init__(self, n=10):
        g = np.random.default_rng(5)
        self.seqs = [chainrule.tensor(g.integers(1, 10, int(k))) for k in g.integers(1, 7, n)]
        self.labels = [int(v) for v in g.integers(0, 3, n)]

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        return self.seqs[i], self.labels[i]


def pad_collate(batch):
    seqs, labels = zip(*batch)
    lengths = chainrule.tensor([len(s) for s in seqs])
    return pad_sequence(seqs, batch_first=True, padding_value=0), lengths, chainrule.tensor(labels)


def test_custom_collate_fn_pad_sequence_gru_classifier():
    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(10, 4, padding_idx=0)
            self.rnn = nn.GRU(4, 5, batch_first=True)
            self.fc = nn.Linear(5, 3)

        def forward(self, x, lengths):
            out, _ = self.rnn(self.emb(x))
            last = out[chainrule.arange(x.shape[0]), lengths - 1]
            return self.fc(last)

    def setup():
        loader = DataLoader(VarLenSeqs(), batch_size=4, shuffle=True, collate_fn=pad_collate)
        net = GRUClassifier()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, lengths, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x, lengths), y)
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_pad_sequence_inside_the_compiled_step_on_a_list_of_sequences():
    def setup():
        data = VarLenSeqs(9)
        loader = DataLoader(data, batch_size=3, shuffle=True, collate_fn=lambda batch: batch)
        emb = nn.Embedding(10, 3)
        head = nn.Linear(3, 3)
        opt = optim.SGD(list(emb.parameters()) + list(head.parameters()), lr=0.2)

        def step(batch):
            seqs = [s for s, _ in batch]
            labels = chainrule.tensor([label for _, label in batch])
            padded = pad_sequence(seqs, padding_value=0)  # (L, B)
            mask = (padded != 0).unsqueeze(-1).float()
            pooled = (emb(padded) * mask).sum(0) / mask.sum(0)
            loss = F.cross_entropy(head(pooled), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [emb, head, opt], from_loader(loader, wrap=lambda b: (b,)))

    same_as_eager(setup, calls=7)


def test_numpy_samples_collated_to_tensors_float32():
    class NumpyData(Dataset):
        def __init__(self):
            g = np.random.default_rng(11)
            self.X = g.standard_normal((10, 3)).astype(np.float32)
            self.y = g.standard_normal(10).astype(np.float32)

        def __len__(self):
            return 10

        def __getitem__(self, i):
            return self.X[i], self.y[i]  # an array and a NumPy scalar

    def setup():
        loader = DataLoader(NumpyData(), batch_size=4, shuffle=True)
        net = mlp(o=1, dtype=chainrule.float32)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x).squeeze(1), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_string_names_in_batches_weight_the_loss():
    class Named(Dataset):
        names = ["ant", "bee", "cat", "ape", "dog", "asp", "eel", "bat", "auk"]

        def __init__(self):
            self.X, self.Y = regression_data(9)

        def __len__(self):
            return 9

        def __getitem__(self, i):
            return self.X[i], self.Y[i], self.names[i]

    def setup():
        loader = DataLoader(Named(), batch_size=4, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, names):
            weights = chainrule.tensor([2.0 if name.startswith("a") else 1.0 for name in names], dtype=x.dtype)
            opt.zero_grad()
            loss = (((net(x) - y) ** 2).mean(1) * weights).mean()
            loss.backward()
            opt.step()
            return loss, list(names)
        return Case(step, lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_transforms_with_torch_ops_and_random_flip_in_getitem():
    class Images(Dataset):
        def __init__(self, train=True):
            g = np.random.default_rng(9)
            self.images = chainrule.tensor(g.random((10, 1, 4, 4)), dtype=chainrule.float32)
            self.labels = chainrule.tensor(g.integers(0, 2, 10))
            self.mean, self.std = self.images.mean(), self.images.std()
            self.train = train

        def __len__(self):
            return len(self.labels)

        def __getitem__(self, i):
            img = (self.images[i] - self.mean) / self.std
            if self.train and chainrule.rand(1).item() < 0.5:
                img = chainrule.flip(img, dims=[-1])
            if self.train:
                img = img + 0.05 * chainrule.randn_like(img)
            return img, self.labels[i]

    def setup():
        data = Images()
        loader = DataLoader(data, batch_size=4, shuffle=True)
        net = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32, 2))
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        stream = forever(loader)

        def before(i):
            data.train = i != 5  # one batch read without augmentation

        return Case(train_step(net, opt, F.cross_entropy), lambda: [net, opt], lambda i: tuple(next(stream)), before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- samplers
def test_subset_random_sampler_train_valid_split_of_one_dataset():
    def setup():
        X, y = classification_data(14)
        data = TensorDataset(X, y)
        indices = chainrule.randperm(14).tolist()
        train_loader = DataLoader(data, batch_size=4, sampler=SubsetRandomSampler(indices[:10]))
        net = nn.Linear(4, 3)
        opt = optim.Adam(net.parameters(), lr=0.05)
        return Case(train_step(net, opt, F.cross_entropy), lambda: [net, opt], from_loader(train_loader))

    same_as_eager(setup, calls=7)


def test_weighted_random_sampler_for_imbalanced_classes():
    def setup():
        X, y = classification_data(12, classes=2)
        counts = chainrule.bincount(y)
        weights = 1.0 / counts[y].double()
        sampler = WeightedRandomSampler(weights, num_samples=10, replacement=True)
        loader = DataLoader(TensorDataset(X, y), batch_size=4, sampler=sampler)
        net = nn.Sequential(nn.Linear(4, 4), nn.Sigmoid(), nn.Linear(4, 2))
        opt = optim.SGD(net.parameters(), lr=0.3)
        return Case(train_step(net, opt, F.cross_entropy), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_batch_sampler_over_random_sampler_with_replacement():
    def setup():
        X, Y = regression_data(8)
        sampler = BatchSampler(RandomSampler(range(8), replacement=True, num_samples=11), batch_size=4, drop_last=False)
        loader = DataLoader(TensorDataset(X, Y), batch_sampler=sampler)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, weight_decay=0.01)
        return Case(train_step(net, opt, F.smooth_l1_loss), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_batch_sampler_lists_index_the_dataset_tensors_inside_the_step():
    def setup():
        X, Y = regression_data(10)
        data = TensorDataset(X, Y)
        batches = forever(BatchSampler(RandomSampler(data), batch_size=4, drop_last=False))
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(index):
            x, y = data[index]  # a Python list as an index, read inside the step
            return train_step(net, opt)(x, y)
        return Case(step, lambda: [net, opt], lambda i: (next(batches),))

    same_as_eager(setup, calls=7)


def test_weighted_random_sampler_drawn_inside_the_compiled_step():
    def setup():
        X, Y = regression_data(8)
        sampler = WeightedRandomSampler([1.0, 2.0, 1.0, 3.0, 1.0, 1.0, 2.0, 1.0], num_samples=4)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step():
            index = list(sampler)
            return train_step(net, opt)(X[index], Y[index])
        return Case(step, lambda: [net, opt], lambda i: ())

    messages = same_as_eager(setup, calls=6)
    assert len(messages) == 1  # the indices are read into Python: the step runs eagerly


# ----------------------------------------------------------------------------- batches drawn or indexed in the step
def test_minibatch_drawn_with_randint_inside_step_from_dataset_tensors():
    def setup():
        X, Y = regression_data(20)
        data = TensorDataset(X, Y)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(batch_size):
            ix = chainrule.randint(0, len(data), (batch_size,))
            x, y = data[ix]
            return train_step(net, opt)(x, y)
        return Case(step, lambda: [net, opt], lambda i: ((4, 4, 4, 3, 4, 4, 3)[i],))

    same_as_eager(setup, calls=7)


def test_dataset_tensors_replaced_each_epoch_read_inside_the_step():
    def setup():
        X, Y = regression_data(8)
        data = TensorDataset(X, Y)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i % 2 == 0:  # a new augmented copy of the data each "epoch"
                data.tensors = (X + 0.1 * chainrule.randn_like(X), Y)

        def step(index):
            x, y = data[index]
            return train_step(net, opt)(x, y)
        return Case(step, lambda: [net, opt], lambda i: (chainrule.randperm(8)[:5],), before)

    same_as_eager(setup, calls=7)


def test_manual_slicing_batches_are_views_with_offsets_last_smaller():
    def setup():
        X, Y = regression_data(11)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        perm = chainrule.randperm(11)
        Xs, Ys = X[perm], Y[perm]

        def inputs(i):
            start = (i * 4) % 12
            return Xs[start:start + 4], Ys[start:start + 4]
        return Case(train_step(net, opt), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_reused_batch_buffer_filled_in_place_between_calls():
    def setup():
        X, Y = regression_data(12)
        xb, yb = chainrule.empty(4, 3, dtype=X.dtype), chainrule.empty(4, 2, dtype=Y.dtype)
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.01)
        batches = forever(BatchSampler(RandomSampler(range(12)), 4, drop_last=True))

        def inputs(i):
            index = next(batches)
            xb.copy_(X[index])
            yb.copy_(Y[index])
            return xb, yb
        return Case(train_step(net, opt), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_autoencoder_batch_passed_as_input_and_target():
    def setup():
        X, _ = regression_data(10, d=4)
        loader = DataLoader(TensorDataset(X), batch_size=4, shuffle=True)
        net = nn.Sequential(nn.Linear(4, 2), nn.Tanh(), nn.Linear(2, 4)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        stream = forever(loader)

        def inputs(i):
            (x,) = next(stream)
            return x, x
        return Case(train_step(net, opt), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


def test_collate_fn_giving_transposed_batches_then_contiguous():
    def setup():
        X, Y = regression_data(10)
        def collate(batch):
            xs, ys = zip(*batch)
            return chainrule.stack(xs, 1).t(), chainrule.stack(ys)  # a transposed view, then a plain tensor
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True, collate_fn=collate)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        stream = forever(loader)

        def inputs(i):
            x, y = next(stream)
            return (x.contiguous() if i % 3 == 2 else x), y
        return Case(train_step(net, opt), lambda: [net, opt], inputs)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- compiled functions looping over batches
def test_compiled_function_accumulates_gradients_over_a_list_of_batches():
    def setup():
        X, Y = regression_data(11)
        loader = DataLoader(TensorDataset(X, Y), batch_size=2, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        stream = forever(loader)

        def step(batches):
            opt.zero_grad()
            total = 0.0
            for x, y in batches:
                loss = F.mse_loss(net(x), y) / len(batches)
                loss.backward()
                total = total + loss.detach()
            opt.step()
            return total
        sizes = [3, 3, 2, 3, 1, 3, 3]
        return Case(step, lambda: [net, opt], lambda i: ([next(stream) for _ in range(sizes[i])],))

    same_as_eager(setup, calls=7)


def test_compiled_function_runs_a_whole_epoch_over_a_loader():
    def setup():
        X, Y = regression_data(10)
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def epoch():
            total = 0.0
            for x, y in loader:
                total = total + train_step(net, opt)(x, y).detach() * len(x)
            return total / len(loader.dataset)
        return Case(epoch, lambda: [net, opt], lambda i: ())

    same_as_eager(setup, calls=5)


def test_compiled_function_runs_a_whole_epoch_of_an_unshuffled_loader_with_generator():
    def setup():
        X, Y = regression_data(9)
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, generator=chainrule.Generator().manual_seed(3))
        net = mlp()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def epoch():
            return [train_step(net, opt)(x, y) for x, y in loader]
        return Case(epoch, lambda: [net, opt], lambda i: ())

    same_as_eager(setup, calls=5)


def test_compiled_eval_loop_over_a_list_of_validation_batches_in_eval_mode():
    def setup():
        X, Y = regression_data(12)
        train, val = random_split(TensorDataset(X, Y), [7, 5], generator=chainrule.Generator().manual_seed(7))
        train_stream = forever(DataLoader(train, batch_size=3, shuffle=True))
        val_batches = list(DataLoader(val, batch_size=2))  # 2, 2, 1
        net = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Dropout(0.5), nn.Linear(6, 2)).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        fit = train_step(net, opt)

        def validate(batches):
            net.eval()
            with chainrule.no_grad():
                losses = [F.mse_loss(net(x), y, reduction="sum") for x, y in batches]
            net.train()
            return chainrule.stack(losses).sum() / sum(len(x) for x, _ in batches)

        def step(mode, *args):
            return fit(*args) if mode == "fit" else validate(*args)

        def inputs(i):
            return ("val", val_batches) if i % 3 == 2 else ("fit", *next(train_stream))
        return Case(step, lambda: [net, opt], inputs)

    same_as_eager(setup, calls=8)


def test_enumerate_index_passed_in_for_gradient_accumulation_every_second_batch():
    def setup():
        X, Y = regression_data(14)
        loader = DataLoader(TensorDataset(X, Y), batch_size=4, shuffle=True)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        stream = forever(loader)

        def step(batch_idx, x, y):
            loss = F.mse_loss(net(x), y) / 2
            loss.backward()
            if (batch_idx + 1) % 2 == 0:
                opt.step()
                opt.zero_grad()
            return loss
        return Case(step, lambda: [net, opt], lambda i: (i, *next(stream)))  # the global step count

    same_as_eager(setup, calls=11)  # more distinct counts than recordings: may run eagerly, with one warning


def test_batches_normalized_in_place_inside_the_step_views_of_the_dataset():
    def setup():
        X, Y = regression_data(7)
        data = TensorDataset(X * 10, Y)
        loader = DataLoader(data, batch_size=None, shuffle=True)  # samples one by one: views of the data
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05)

        def step(x, y):
            x.div_(10)  # written into the dataset's own tensor, as eagerly
            opt.zero_grad()
            loss = F.mse_loss(net(x.unsqueeze(0)), y.unsqueeze(0))
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt, data.tensors[0]], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_learned_per_sample_codes_gathered_by_the_loader_auto_decoder():
    def setup():
        codes = chainrule.zeros(9, 2, dtype=chainrule.float64, requires_grad=True)
        _, Y = regression_data(9, o=3)
        loader = DataLoader(TensorDataset(codes, Y), batch_size=4, shuffle=True)  # batches carry history
        decoder = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)).double()
        opt = optim.Adam(list(decoder.parameters()) + [codes], lr=0.05)
        return Case(train_step(decoder, opt), lambda: [decoder, opt, codes, codes.grad], from_loader(loader))

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- IterableDataset
class NoisyLine(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for _ in range(self.n):
            x = chainrule.randn(3, dtype=chainrule.float64)
            yield x, (x.sum(0, keepdim=True) * 2 + 0.1 * chainrule.randn(1, dtype=chainrule.float64))


def test_iterable_dataset_drawing_samples_last_batch_smaller():
    def setup():
        loader = DataLoader(NoisyLine(7), batch_size=3)
        net = nn.Linear(3, 1).double()
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


def test_chained_iterable_datasets_batch_size_none_gives_single_samples():
    class Chunks(IterableDataset):
        def __init__(self, sizes):
            self.sizes = sizes

        def __iter__(self):
            for size in self.sizes:  # a whole batch per item, as a sharded file reader yields them
                x = chainrule.randn(size, 3, dtype=chainrule.float64)
                yield x, x[:, :2] * 3

    def setup():
        loader = DataLoader(Chunks([4, 4]) + Chunks([2, 4, 1]), batch_size=None)
        assert isinstance(loader.dataset, ChainDataset)
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.5)
        return Case(train_step(net, opt), lambda: [net, opt], from_loader(loader))

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- eagerly against PyTorch
torch = pytest.importorskip("torch")


def _both(workflow):
    torch.manual_seed(7)
    theirs = workflow(torch, torch.utils.data)
    torch_after = torch.rand(3).tolist()
    chainrule.manual_seed(7)
    ours = workflow(chainrule, chainrule.utils.data)
    ours_after = chainrule.rand(3).tolist()
    assert ours == theirs
    assert ours_after == torch_after, "the global random stream is left elsewhere than PyTorch leaves it"


def _ids(loader):
    return [batch[0].tolist() for batch in loader]


PYTORCH_WORKFLOWS = {
    "loaders": lambda T, D: [
        [_ids(loader) for _ in range(3)] for loader in [D.DataLoader(D.TensorDataset(T.arange(10)), batch_size=4, shuffle=True)]] + [
        _ids(D.DataLoader(D.TensorDataset(T.arange(11)), batch_size=3, shuffle=True, drop_last=True)),
        _ids(D.DataLoader(D.TensorDataset(T.arange(10)), batch_size=3, shuffle=True, generator=T.Generator().manual_seed(3)))],
    "random_split": lambda T, D: [
        [list(s.indices) for s in D.random_split(range(10), [7, 3], generator=T.Generator().manual_seed(42))],
        [list(s.indices) for s in D.random_split(range(11), [0.5, 0.3, 0.2])]],
    "random_samplers": lambda T, D: [
        [list(s) + list(s) for s in [D.RandomSampler(range(9))]],
        list(D.RandomSampler(range(10), replacement=True, num_samples=70)),
        list(D.RandomSampler(range(10), num_samples=25)),
        [int(i) for i in D.SubsetRandomSampler([3, 5, 7, 9, 11])],
        [[int(i) for i in b] for b in D.BatchSampler(D.SubsetRandomSampler(list(range(10))), 4, True)]],
    "weighted_samplers": lambda T, D: [
        [int(i) for i in D.WeightedRandomSampler([0.1, 0.9, 0.4, 0.2], 12)],
        [int(i) for i in D.WeightedRandomSampler([0.1, 0.9, 0.4, 0.2, 1, 3], 5, replacement=False)],
        _ids(D.DataLoader(D.TensorDataset(T.arange(10)), sampler=D.WeightedRandomSampler([1.0] * 5 + [3.0] * 5, 10), batch_size=4))],
    "splits_subsets_concat": lambda T, D: [
        _ids(D.DataLoader(D.ConcatDataset([D.Subset(D.TensorDataset(T.arange(6)), [5, 1, 3]), D.TensorDataset(T.arange(10, 17))]),
                          batch_size=3, shuffle=True)),
        _ids(D.DataLoader(D.random_split(D.TensorDataset(T.arange(12)), [8, 4], generator=T.Generator().manual_seed(1))[0],
                          batch_size=3, shuffle=True))],
}


@pytest.mark.parametrize("name", sorted(PYTORCH_WORKFLOWS))
def test_same_indices_as_pytorch_under_one_seed(name):
    _both(PYTORCH_WORKFLOWS[name])


def _described(value):
    """A batch's structure, dtypes and values, free of which library made it."""
    if hasattr(value, "dtype") and hasattr(value, "tolist"):
        return ("tensor", str(value.dtype).split(".")[-1], tuple(value.shape), value.tolist())
    if isinstance(value, dict):
        return {k: _described(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_described(v) for v in value])
    return value


def test_default_collate_of_dicts_nested_tuples_and_strings_as_pytorch():
    def samples(T):
        return [
            {"x": T.tensor([1.0, 2.0]), "meta": (3, (2.5, True), "a"), "ids": [T.tensor(1), 4]},
            {"x": T.tensor([3.0, 4.0]), "meta": (5, (4.5, False), "b"), "ids": [T.tensor(2), 6]},
        ]
    ours = _described(default_collate(samples(chainrule)))
    theirs = _described(torch.utils.data.default_collate(samples(torch)))
    assert ours == theirs


def test_pad_sequence_collate_as_pytorch():
    def batch(T):
        seqs = [T.arange(1, 3), T.arange(4, 8), T.arange(9, 10)]
        return [T.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=-1).tolist(),
                T.nn.utils.rnn.pad_sequence([s.double() for s in seqs]).tolist()]
    assert batch(chainrule) == batch(torch)


def test_iterable_dataset_loader_batches_as_pytorch():
    def workflow(T, D):
        class Stream(D.IterableDataset):
            def __iter__(self):
                for i in range(7):
                    yield T.rand(2), i
        return [[x.tolist(), y.tolist()] for x, y in D.DataLoader(Stream(), batch_size=3)]
    _both(workflow)
