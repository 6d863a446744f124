"""chainrule.compile against eager execution for data-parallel training (a single-process group:
DistributedDataParallel, its no_sync() accumulation and buffer broadcast, DataParallel,
DistributedSampler), activation checkpointing (``chainrule.utils.checkpoint`` with dropout inside
the segment, both ``use_reentrant`` values) and DataLoader-driven loops (shuffled epochs with a
short last batch, dict/tuple collate functions, samplers with their own generator, gradient
accumulation with a Python step counter).

Each workflow runs twice from the same seed: eagerly and with its step compiled. Everything it
logs (returned values, parameters, gradients, buffers, optimizer state, the random stream after)
must be the same bits; a compiled run may fall back to eager with at most one warning per
compiled function.
"""
import contextlib
import warnings

import numpy as np
import pytest

import chainrule as torch
import chainrule.distributed as dist
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.nn.parallel import DataParallel, DistributedDataParallel
from chainrule.utils.checkpoint import checkpoint, checkpoint_sequential
from chainrule.utils.data import DataLoader, Dataset, TensorDataset
from chainrule.utils.data.distributed import DistributedSampler
from chainrule.utils.data.sampler import BatchSampler, RandomSampler, WeightedRandomSampler
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(value):
    return None if value is None else np.array(value.detach().numpy(), copy=True)


def snap(value):
    """``value`` with every tensor turned into a NumPy copy, recursively."""
    if isinstance(value, torch.Tensor):
        return arr(value)
    if isinstance(value, dict):
        return {key: snap(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(snap(item) for item in value)
    return value


def state_of(*things):
    """Parameters, grads, buffers of modules; state dicts of optimizers."""
    out = []
    for thing in things:
        if isinstance(thing, nn.Module):
            out.append({name: (arr(p), arr(p.grad), p.requires_grad) for name, p in thing.named_parameters()})
            out.append({name: arr(b) for name, b in thing.named_buffers()})
        else:
            out.append(snap(thing.state_dict()))
    return out


def run(workflow, compiled):
    """``workflow(compile, log)`` from seed 0; returns the log and chainrule.compile's warnings."""
    torch.manual_seed(0)
    log = []
    made = []

    def compile_(fn):
        if not compiled:
            return fn
        made.append(torch.compile(fn))
        return made[-1]

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        workflow(compile_, log)
    log.append(("rng after", arr(torch.rand(4))))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return log, messages, len(made)


def check(workflow, max_warnings=None):
    """Eager once, compiled once: the same bits; at most one fall-back warning
    per compiled function (or ``max_warnings``)."""
    eager, eager_warnings, _ = run(workflow, compiled=False)
    ours, messages, count = run(workflow, compiled=True)
    assert not eager_warnings
    assert len(messages) <= (count if max_warnings is None else max_warnings), messages
    assert_identical(ours, eager)
    return messages


@pytest.fixture
def group():
    dist.init_process_group(backend="mpi")
    yield
    dist.destroy_process_group()


def mlp(dropout=0.25, norm=True):
    layers = [nn.Linear(4, 8)]
    if norm:
        layers.append(nn.BatchNorm1d(8))
    layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 3)]
    return nn.Sequential(*layers)


def batches(count, size=6):
    return [(torch.randn(size, 4), torch.randint(0, 3, (size,))) for _ in range(count)]


# ----------------------------------------------------------------------------- data parallel
@pytest.mark.parametrize("broadcast_buffers", [True, False])
def test_ddp_train_step_with_batchnorm_dropout_momentum(group, broadcast_buffers):
    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model, broadcast_buffers=broadcast_buffers)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()
            opt.step()
            return loss

        for x, y in batches(4):
            log.append(arr(step(x, y)))
        log.append(state_of(model, opt))

    check(workflow)


def test_ddp_no_sync_accumulation_with_python_flag(group):
    """k - 1 micro-batches inside no_sync(), the last outside; the optimizer steps when synced."""

    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model)
        opt = torch.optim.Adam(ddp.parameters(), lr=0.01)
        accum = 3

        @compile
        def step(x, y, sync):
            context = contextlib.nullcontext() if sync else ddp.no_sync()
            with context:
                loss = F.cross_entropy(ddp(x), y) / accum
                loss.backward()
            if sync:
                opt.step()
                opt.zero_grad()
            return loss

        for i, (x, y) in enumerate(batches(7)):
            log.append(arr(step(x, y, (i + 1) % accum == 0)))
            log.append(state_of(model))
        log.append(state_of(opt))
        log.append(ddp.require_backward_grad_sync)

    check(workflow)


def test_ddp_eval_step_under_no_grad_and_train_eval_alternation(group):
    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.05)

        @compile
        def train_step(x, y):
            ddp.train()
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()
            opt.step()
            return loss

        @compile
        def eval_step(x, y):
            ddp.eval()
            with torch.no_grad():
                out = ddp(x)
                return F.cross_entropy(out, y), out.argmax(1)

        data = batches(3)
        for epoch in range(2):
            for x, y in data:
                log.append(arr(train_step(x, y)))
            log.append(snap(eval_step(*data[0])))
        log.append(state_of(model, opt))
        log.append([m.training for m in ddp.modules()])

    check(workflow)


def test_ddp_parameters_only_some_require_grad(group):
    """A frozen first layer: the reducer only watches the trainable parameters."""

    def workflow(compile, log):
        model = mlp(norm=False)
        model[0].weight.requires_grad_(False)
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD([p for p in ddp.parameters() if p.requires_grad], lr=0.1)

        @compile
        def step(x, y, it):
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y) * (1.0 + 0.1 * it)
            loss.backward()
            opt.step()
            return loss

        for it, (x, y) in enumerate(batches(4)):
            log.append(arr(step(x, y, it)))
        log.append(state_of(model, opt))

    check(workflow)


def test_data_parallel_wrapped_model_compiled_step():
    def workflow(compile, log):
        model = DataParallel(mlp())
        opt = torch.optim.AdamW(model.parameters(), lr=0.01)

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        for x, y in batches(4):
            log.append(arr(step(x, y)))
        log.append(state_of(model, opt))

    check(workflow)


def test_data_parallel_compiled_module_then_backward_outside():
    def workflow(compile, log):
        model = DataParallel(mlp())
        fast = compile(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        for x, y in batches(4):
            opt.zero_grad()
            loss = F.cross_entropy(fast(x), y)
            loss.backward()
            opt.step()
            log.append(arr(loss))
        log.append(state_of(model, opt))

    check(workflow)


def test_distributed_sampler_set_epoch_feeds_compiled_ddp_step(group):
    def workflow(compile, log):
        data = TensorDataset(torch.randn(11, 4), torch.randint(0, 3, (11,)))
        sampler = DistributedSampler(data, shuffle=True, seed=3)
        loader = DataLoader(data, batch_size=4, sampler=sampler)
        model = mlp()
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1)

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()
            opt.step()
            return loss

        for epoch in range(3):
            sampler.set_epoch(epoch)
            for x, y in loader:
                log.append((arr(x), arr(step(x, y))))
        log.append(state_of(model, opt))

    check(workflow)


# ----------------------------------------------------------------------------- checkpointing
class Segmented(nn.Module):
    def __init__(self, use_reentrant, preserve=True, p=0.4):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.body = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Dropout(p), nn.Linear(8, 8), nn.Dropout(p))
        self.head = nn.Linear(8, 3)
        self.use_reentrant = use_reentrant
        self.preserve = preserve

    def forward(self, x):
        h = self.stem(x)
        h = checkpoint(self.body, h, use_reentrant=self.use_reentrant, preserve_rng_state=self.preserve)
        return self.head(F.dropout(h, 0.2, self.training))


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("preserve", [True, False])
def test_checkpointed_dropout_segment_in_compiled_step(use_reentrant, preserve):
    def workflow(compile, log):
        model = Segmented(use_reentrant, preserve)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            noise = torch.rand(2)  # the stream after backward's recomputation
            return loss, noise

        for x, y in batches(4):
            log.append(snap(step(x, y)))
            log.append(state_of(model))
        log.append(state_of(opt))

    check(workflow)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_of_input_that_needs_grad_and_tuple_outputs(use_reentrant):
    def workflow(compile, log):
        lin = nn.Linear(4, 4)
        x = torch.randn(5, 4, requires_grad=True)

        def segment(a, scale):
            h = F.dropout(lin(a), 0.5, True)
            return h * scale, h.sum(1), "tag"

        @compile
        def step(x, scale):
            out, total, tag = checkpoint(segment, x, scale, use_reentrant=use_reentrant)
            loss = (out ** 2).mean() + total.mean()
            loss.backward()
            return loss, tag

        for i in range(4):
            log.append(snap(step(x, 0.5 + i)))
            log.append((arr(x.grad), arr(lin.weight.grad), arr(lin.bias.grad)))

    check(workflow)


def test_checkpoint_non_reentrant_of_input_without_grad_and_kwargs():
    def workflow(compile, log):
        lin = nn.Linear(4, 6)
        head = nn.Linear(6, 2)
        opt = torch.optim.Adam(list(lin.parameters()) + list(head.parameters()), lr=0.01)

        def segment(a, *, p):
            return F.dropout(F.gelu(lin(a)), p, True)

        @compile
        def step(x, y):
            opt.zero_grad()
            h = checkpoint(segment, x, use_reentrant=False, p=0.3)
            loss = F.mse_loss(head(h), y)
            loss.backward()
            opt.step()
            return loss

        for _ in range(4):
            log.append(arr(step(torch.randn(5, 4), torch.randn(5, 2))))
        log.append(state_of(lin, head, opt))

    check(workflow)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpoint_sequential_with_dropout(use_reentrant):
    def workflow(compile, log):
        stem = nn.Linear(4, 6)
        body = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Dropout(0.3), nn.Linear(6, 6), nn.Dropout(0.3),
                             nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 3))
        params = list(stem.parameters()) + list(body.parameters())
        opt = torch.optim.SGD(params, lr=0.1)

        @compile
        def step(x, y):
            opt.zero_grad()
            out = checkpoint_sequential(body, 2, stem(x), use_reentrant=use_reentrant)
            loss = F.cross_entropy(out, y)
            loss.backward()
            opt.step()
            return loss

        for x, y in batches(4):
            log.append(arr(step(x, y)))
        log.append(state_of(stem, body, opt))

    check(workflow)


def test_checkpoint_eval_mode_and_no_grad_calls_between():
    def workflow(compile, log):
        model = Segmented(False)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        @compile
        def step(x, y):
            model.train()
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        @compile
        def evaluate(x):
            model.eval()
            with torch.no_grad():
                return model(x)

        for x, y in batches(4):
            log.append(arr(step(x, y)))
            log.append(arr(evaluate(x)))
        log.append(state_of(model, opt))

    check(workflow)


# ----------------------------------------------------------------------------- DataLoader loops
class Records(Dataset):
    def __init__(self, n=13):
        self.x = torch.randn(n, 4)
        self.y = torch.randint(0, 3, (n,))

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return {"x": self.x[i], "y": self.y[i], "id": int(i)}


def dict_collate(samples):
    return {"x": torch.stack([s["x"] for s in samples]), "y": torch.stack([s["y"] for s in samples]),
            "ids": [s["id"] for s in samples]}


def tuple_collate(samples):
    return (torch.stack([s["x"] for s in samples]), torch.stack([s["y"] for s in samples]), len(samples))


@pytest.mark.parametrize("collate", ["dict", "tuple"])
def test_dataloader_epochs_short_last_batch_custom_collate(collate):
    def workflow(compile, log):
        data = Records()
        loader = DataLoader(data, batch_size=5, shuffle=True, drop_last=False,
                            collate_fn=dict_collate if collate == "dict" else tuple_collate)
        model = mlp()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        @compile
        def step_dict(batch):
            opt.zero_grad()
            loss = F.cross_entropy(model(batch["x"]), batch["y"])
            loss.backward()
            opt.step()
            return {"loss": loss, "n": len(batch["ids"])}

        @compile
        def step_tuple(x, y, n):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, reduction="sum") / n
            loss.backward()
            opt.step()
            return loss, n

        for epoch in range(3):
            for batch in loader:
                log.append(snap(step_dict(batch) if collate == "dict" else step_tuple(*batch)))
            log.append(state_of(model))
        log.append(state_of(opt))

    check(workflow, max_warnings=1)


def test_dataloader_sampler_with_generator_and_gradient_accumulation():
    def workflow(compile, log):
        data = TensorDataset(torch.randn(18, 4), torch.randint(0, 3, (18,)))
        gen = torch.Generator().manual_seed(7)
        loader = DataLoader(data, batch_size=4, sampler=RandomSampler(data, generator=gen))
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        accum = 3

        @compile
        def step(x, y, count):
            loss = F.cross_entropy(model(x), y) / accum
            loss.backward()
            if count % accum == 0:
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad()
            return loss

        count = 0
        for epoch in range(3):
            for x, y in loader:
                count += 1
                log.append((arr(x), arr(step(x, y, count))))
            sched.step()
            log.append(state_of(model))
        log.append(state_of(opt))
        log.append(arr(gen.get_state()))

    check(workflow)


def test_dataloader_batch_sampler_and_weighted_sampler_with_generator():
    def workflow(compile, log):
        data = TensorDataset(torch.randn(10, 4), torch.randint(0, 3, (10,)))
        gen = torch.Generator().manual_seed(1)
        weights = torch.rand(10)
        sampler = BatchSampler(WeightedRandomSampler(weights, 10, generator=gen), batch_size=4, drop_last=False)
        loader = DataLoader(data, batch_sampler=sampler)
        model = mlp(dropout=0.5)
        opt = torch.optim.RMSprop(model.parameters(), lr=0.01)

        @compile
        def step(x, y, step_no):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, label_smoothing=0.1)
            loss.backward()
            for group_ in opt.param_groups:
                group_["lr"] = 0.01 / (1 + step_no)
            opt.step()
            return loss

        step_no = 0
        for epoch in range(3):
            for x, y in loader:
                log.append((arr(y), arr(step(x, y, step_no))))
                step_no += 1
        log.append(state_of(model, opt))

    check(workflow)


def test_dataloader_accumulation_with_ddp_no_sync_and_checkpoint(group):
    """All three together: micro-batches from a shuffled loader (short last batch), no_sync for all
    but every third, a checkpointed dropout segment inside the DDP model."""

    def workflow(compile, log):
        data = TensorDataset(torch.randn(14, 4), torch.randint(0, 3, (14,)))
        loader = DataLoader(data, batch_size=4, shuffle=True)
        model = Segmented(False)
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)

        @compile
        def step(x, y, count):
            sync = count % 3 == 0
            with (contextlib.nullcontext() if sync else ddp.no_sync()):
                loss = F.cross_entropy(ddp(x), y) / 3
                loss.backward()
            if sync:
                opt.step()
                opt.zero_grad()
            return loss

        count = 0
        for epoch in range(2):
            for x, y in loader:
                count += 1
                log.append(arr(step(x, y, count)))
        log.append(state_of(model, opt))

    check(workflow)


# ----------------------------------------------------------------------------- replayed variants
def test_compiled_ddp_module_backward_outside(group):
    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model)
        fast = compile(ddp)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
        for i, (x, y) in enumerate(batches(5)):
            opt.zero_grad()
            context = ddp.no_sync() if i % 2 else contextlib.nullcontext()
            with context:
                loss = F.cross_entropy(fast(x), y)
                loss.backward()
            opt.step()
            log.append(arr(loss))
            log.append(state_of(model))
        log.append(state_of(opt))

    check(workflow)


def test_ddp_around_compiled_inner_model(group):
    def workflow(compile, log):
        model = mlp()
        inner = compile(model)
        ddp = DistributedDataParallel(inner)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in batches(5):
            opt.zero_grad()
            loss = F.cross_entropy(ddp(x), y)
            loss.backward()
            opt.step()
            log.append(arr(loss))
        log.append(state_of(model, opt))

    check(workflow)


def test_compiled_ddp_loss_function_backward_outside(group):
    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model)
        opt = torch.optim.Adam(ddp.parameters(), lr=0.01)

        @compile
        def compute_loss(x, y):
            return F.cross_entropy(ddp(x), y)

        for x, y in batches(5):
            opt.zero_grad()
            loss = compute_loss(x, y)
            loss.backward()
            opt.step()
            log.append(arr(loss))
        log.append(state_of(model, opt))

    check(workflow)


def test_ddp_no_grad_train_mode_forward_updates_buffers(group):
    """Under no_grad in train mode: batch norm's running statistics move, dropout draws."""

    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model, broadcast_buffers=True)

        @compile
        def calibrate(x):
            with torch.no_grad():
                return ddp(x)

        for x, _ in batches(5):
            log.append(arr(calibrate(x)))
            log.append(state_of(model))
        log.append(ddp.reducer.armed)

    check(workflow)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_compiled_checkpointing_module_backward_outside(use_reentrant):
    def workflow(compile, log):
        model = Segmented(use_reentrant)
        fast = compile(model)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in batches(4):
            opt.zero_grad()
            loss = F.cross_entropy(fast(x), y)
            loss.backward()
            opt.step()
            log.append(arr(loss))
            log.append(arr(torch.rand(2)))
        log.append(state_of(model, opt))

    check(workflow)


def test_dataloader_accumulation_with_bool_flag_replays():
    def workflow(compile, log):
        data = TensorDataset(torch.randn(18, 4), torch.randint(0, 3, (18,)))
        gen = torch.Generator().manual_seed(7)
        loader = DataLoader(data, batch_size=4, shuffle=True, generator=gen)
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        accum = 3

        @compile
        def step(x, y, do_step):
            loss = F.cross_entropy(model(x), y) / accum
            loss.backward()
            if do_step:
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                opt.zero_grad()
            return loss

        count = 0
        for epoch in range(3):
            for x, y in loader:
                count += 1
                log.append((arr(x), arr(step(x, y, count % accum == 0))))
            sched.step()
            log.append(state_of(model))
        log.append(state_of(opt, sched))
        log.append(arr(gen.get_state()))

    check(workflow)


def test_dataloader_dict_batches_without_python_payload_replay():
    def workflow(compile, log):
        data = Records()
        loader = DataLoader(data, batch_size=5, shuffle=True,
                            collate_fn=lambda s: {"x": torch.stack([r["x"] for r in s]), "y": torch.stack([r["y"] for r in s])})
        model = mlp()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        @compile
        def step(batch):
            opt.zero_grad()
            out = model(batch["x"])
            loss = F.cross_entropy(out, batch["y"])
            loss.backward()
            opt.step()
            return {"loss": loss, "acc": (out.argmax(1) == batch["y"]).float().mean()}

        for epoch in range(3):
            for batch in loader:
                log.append(snap(step(batch)))
        log.append(state_of(model, opt))

    check(workflow)


# ----------------------------------------------------------------------------- the reducer's state
@pytest.fixture
def counted_all_reduce(monkeypatch):
    """Count the reducer's all-reduces (one per bucket per synchronised backward)."""
    import chainrule.nn.parallel.reducer as reducer_module

    calls = []
    original = reducer_module.all_reduce

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(reducer_module, "all_reduce", counting)
    return calls


@pytest.mark.parametrize("what", ["module", "function"])
def test_replayed_ddp_forward_arms_the_reducer_and_all_reduces(group, counted_all_reduce, what):
    def workflow(compile, log):
        counted_all_reduce.clear()
        model = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3))
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
        fast = compile(ddp)

        def compute_loss(x, y):
            return F.cross_entropy(ddp(x), y)

        fast_loss = compile(compute_loss)
        for x, y in batches(4):
            opt.zero_grad()
            loss = F.cross_entropy(fast(x), y) if what == "module" else fast_loss(x, y)
            log.append(("armed after forward", ddp.reducer.armed))
            loss.backward()
            opt.step()
            log.append(("all-reduces", len(counted_all_reduce)))
        log.append(state_of(model, opt))

    check(workflow)


def test_ddp_unused_parameter_error_is_raised_by_the_replayed_forward(group):
    class Unused(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(4, 3)
            self.unused = nn.Linear(4, 3)

        def forward(self, x):
            return self.used(x)

    def workflow(compile, log):
        model = Unused()
        ddp = DistributedDataParallel(model)
        fast = compile(ddp)
        for _ in range(3):
            try:
                fast(torch.randn(5, 4)).sum().backward()
                log.append("ok")
            except RuntimeError as error:
                log.append(str(error)[:40])
            log.append(state_of(model))

    check(workflow)


# ----------------------------------------------------------------------------- more replayed loops
def test_reentrant_checkpoint_of_inputs_without_grad_runs_under_no_grad():
    """use_reentrant=True with no input needing grad: the segment runs under no_grad (with dropout),
    the head after it trains; this path records and replays."""

    def workflow(compile, log):
        body = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5), nn.ReLU())
        head = nn.Linear(6, 3)
        opt = torch.optim.SGD(head.parameters(), lr=0.1)

        @compile
        def step(x, y):
            opt.zero_grad()
            h = checkpoint(body, x, use_reentrant=True)
            loss = F.cross_entropy(head(h), y)
            loss.backward()
            opt.step()
            return loss, h

        for x, y in batches(4):
            log.append(snap(step(x, y)))
        log.append(state_of(body, head, opt))

    check(workflow)


def test_accumulation_factor_in_a_closure_changed_between_epochs():
    def workflow(compile, log):
        data = TensorDataset(torch.randn(12, 4), torch.randint(0, 3, (12,)))
        loader = DataLoader(data, batch_size=3, shuffle=True)
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        accum = 2

        @compile
        def step(x, y, do_step):
            loss = F.cross_entropy(model(x), y) / accum
            loss.backward()
            if do_step:
                opt.step()
                opt.zero_grad()
            return loss

        for epoch in range(3):
            accum = 2 + epoch % 2
            for i, (x, y) in enumerate(loader):
                log.append(arr(step(x, y, (i + 1) % accum == 0)))
        log.append(state_of(model, opt))

    check(workflow)


def test_dataloader_with_a_worker_process_feeds_compiled_step():
    def workflow(compile, log):
        data = TensorDataset(torch.randn(10, 4), torch.randint(0, 3, (10,)))
        loader = DataLoader(data, batch_size=4, shuffle=True, num_workers=1)
        model = mlp()
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        @compile
        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        for epoch in range(2):
            for x, y in loader:
                log.append(arr(step(x, y)))
        log.append(state_of(model, opt))

    check(workflow)


def test_one_generator_shared_by_the_loader_and_noise_drawn_in_the_step():
    """The loader shuffles with ``gen`` and the step draws augmentation noise and a permutation from
    the same ``gen``: the replay must advance it exactly as eagerly, between the loader's draws."""

    def workflow(compile, log):
        gen = torch.Generator().manual_seed(5)
        data = TensorDataset(torch.randn(10, 4), torch.randint(0, 3, (10,)))
        loader = DataLoader(data, batch_size=4, shuffle=True, generator=gen)
        model = mlp(norm=False)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        @compile
        def step(x, y, g):
            opt.zero_grad()
            order = torch.randperm(x.shape[0], generator=g)
            x = x[order] + 0.1 * torch.randn(x.shape, generator=g)
            loss = F.cross_entropy(model(x), y[order])
            loss.backward()
            opt.step()
            return loss, order

        for epoch in range(3):
            for x, y in loader:
                log.append(snap(step(x, y, gen)))
        log.append(state_of(model, opt))
        log.append(arr(gen.get_state()))

    check(workflow)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_checkpointing_step_replayed_without_grad_then_recorded_with_grad(use_reentrant):
    """The same compiled function: first calls without grad (the segment runs plainly, replayed),
    then with grad (a new recording that hits the checkpoint and falls back), then without again."""

    def workflow(compile, log):
        model = Segmented(use_reentrant)
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        @compile
        def step(x, y, train):
            with torch.set_grad_enabled(train):
                loss = F.cross_entropy(model(x), y)
                if train:
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            return loss

        for i, (x, y) in enumerate(batches(8)):
            log.append(arr(step(x, y, 3 <= i < 6)))
            log.append(state_of(model))
        log.append(state_of(opt))

    check(workflow)


def test_ddp_forward_replayed_inside_and_outside_no_sync_accumulation(group):
    """A compiled loss function over a DDP model, called inside no_sync() for two micro-batches and
    outside for the third; backward and the optimizer step run eagerly after it."""

    def workflow(compile, log):
        model = mlp()
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)

        @compile
        def compute_loss(x, y):
            return F.cross_entropy(ddp(x), y) / 3

        for i, (x, y) in enumerate(batches(9)):
            context = contextlib.nullcontext() if i % 3 == 2 else ddp.no_sync()
            with context:
                loss = compute_loss(x, y)
                loss.backward()
            if i % 3 == 2:
                opt.step()
                opt.zero_grad()
            log.append(arr(loss))
        log.append(state_of(model, opt))

    check(workflow)


def test_namedtuple_batches_and_namedtuple_results():
    from collections import namedtuple

    Batch = namedtuple("Batch", "x y")
    Out = namedtuple("Out", "loss correct")

    def workflow(compile, log):
        data = TensorDataset(torch.randn(11, 4), torch.randint(0, 3, (11,)))
        loader = DataLoader(data, batch_size=4, shuffle=True,
                            collate_fn=lambda s: Batch(torch.stack([a for a, _ in s]), torch.stack([b for _, b in s])))
        model = mlp()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)

        @compile
        def step(batch):
            opt.zero_grad()
            out = model(batch.x)
            loss = F.cross_entropy(out, batch.y)
            loss.backward()
            opt.step()
            return Out(loss, (out.argmax(1) == batch.y).sum())

        for epoch in range(3):
            for batch in loader:
                result = step(batch)
                log.append((type(result).__name__, snap(tuple(result))))
        log.append(state_of(model, opt))

    check(workflow)
