"""chainrule.compile against eager execution over whole TRAINING LOOPS written the way users write
them: gradient accumulation (the "every k calls" logic in Python, in a tensor, or in a second
compiled function), clipping per parameter group, groups with their own rate and weight decay,
layers frozen and unfrozen mid-training, groups added mid-training, checkpoints written with
``chainrule.save`` and restored with ``chainrule.load``, every optimizer with a scheduler stepped
inside or outside the compiled step, convolutional and recurrent models with a smaller last batch,
one compiled step shared by several models, a compiled method, a compiled model, pruning, SWA/EMA
averaging and optimizers that take a closure.

Each loop is written once against a library namespace ``lib`` and a ``compile`` function. It runs
from the same seed and the same initial weights twice: eagerly (``compile`` is the identity) and
compiled (``compile`` is ``chainrule.compile``), and everything it logs (losses, parameters, grads,
buffers, optimizer and scheduler state, the random stream) must be equal bit for bit. A compiled
run may fall back to eager with at most one warning per compiled function, never give another
result. Where cheap, the same loop also runs under PyTorch (``lib`` is ``torch``), and chainrule's
eager losses and parameters must be close to PyTorch's.
"""
import importlib
import io
import warnings

import numpy as np
import pytest

import chainrule
from tests.compile.bitwise import assert_identical

torch = pytest.importorskip("torch")

CALLS = 6


# ----------------------------------------------------------------------------- the harness
def numpy_of(value):
    """``value`` with every tensor (chainrule or torch) turned into a NumPy copy, recursively."""
    if isinstance(value, (chainrule.Tensor, torch.Tensor)):
        return value.detach().cpu().numpy().copy()
    if isinstance(value, dict):
        return {key: numpy_of(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(numpy_of(item) for item in value)
    return value


class Log:
    """What a loop leaves behind, copied at the moment it is logged. Each entry has a ``kind``:
    ``loss`` and ``params`` are compared with PyTorch too; every kind is compared bit for bit
    between eager and compiled chainrule."""

    def __init__(self, lib):
        self.lib = lib
        self.entries = []

    def loss(self, value):
        self.entries.append(("loss", numpy_of(value)))

    def params(self, *modules):
        for module in modules:
            self.entries.append(("params", {name: numpy_of(p) for name, p in module.named_parameters()}))

    def state(self, *things):
        """Parameters with their grads and ``requires_grad``, buffers and mode of modules; the
        state dicts of optimizers and schedulers; plain tensors with their grads."""
        for thing in things:
            if isinstance(thing, self.lib.nn.Module):
                self.params(thing)
                self.entries.append(("grads", {name: numpy_of(p.grad) for name, p in thing.named_parameters()}))
                self.entries.append(("flags", {name: p.requires_grad for name, p in thing.named_parameters()}))
                self.entries.append(("buffers", {name: numpy_of(b) for name, b in thing.named_buffers()}))
                self.entries.append(("modes", [sub.training for sub in thing.modules()]))
            elif isinstance(thing, self.lib.Tensor):
                self.entries.append(("tensor", (numpy_of(thing), numpy_of(thing.grad))))
            else:  # an optimizer or a scheduler
                self.entries.append(("state", numpy_of(thing.state_dict())))


def run(loop, lib=chainrule, compiled=False):
    """Run ``loop(lib, compile, log)`` from seed 0; returns its log, the compiled functions it made
    and the chainrule.compile warnings given."""
    made = []

    def compile_(function):
        made.append(chainrule.compile(function))
        return made[-1]

    lib.manual_seed(0)
    log = Log(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop(lib, compile_ if compiled else (lambda function: function), log)
    if lib is chainrule:
        log.entries.append(("random", chainrule.default_generator.state_bytes()))
    return log.entries, made, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def assert_same_as_eager(loop, replays=True):
    """The compiled loop logs what the eager one does, bit for bit. With ``replays`` no compiled
    function fell back and at least one call was a replay; otherwise each may fall back once."""
    eager, _, eager_warnings = run(loop)
    compiled, made, warned = run(loop, compiled=True)
    assert not eager_warnings
    assert [kind for kind, _ in compiled] == [kind for kind, _ in eager], "the loops logged different things"
    for index, ((kind, first), (_, second)) in enumerate(zip(eager, compiled)):
        assert_identical(second, first, f"entry {index} ({kind})")
    if replays:
        assert warned == [], warned
        assert all(function.eager_reason is None for function in made), [function.eager_reason for function in made]
    else:
        assert len(warned) <= len(made), warned
    return made


def assert_close_to_pytorch(loop, rtol=1e-4, atol=1e-5):
    """chainrule's eager losses and parameters are PyTorch's for the same loop, to rounding."""
    ours, theirs = ([(kind, value) for kind, value in run(loop, lib)[0] if kind in ("loss", "params")] for lib in (chainrule, torch))
    assert [kind for kind, _ in ours] == [kind for kind, _ in theirs]
    for index, ((kind, mine), (_, other)) in enumerate(zip(ours, theirs)):
        if kind == "params":
            assert mine.keys() == other.keys(), f"entry {index}: {mine.keys()} against {other.keys()}"
            for name in mine:
                np.testing.assert_allclose(mine[name], other[name], rtol=rtol, atol=atol, err_msg=f"entry {index} {name}")
        else:
            np.testing.assert_allclose(mine, other, rtol=rtol, atol=atol, err_msg=f"entry {index}")


# ----------------------------------------------------------------------------- models and data
def initialize(lib, module, seed=1):
    """The same weights in either library: each parameter drawn from its own NumPy generator."""
    generator = np.random.default_rng(seed)
    with lib.no_grad():
        for parameter in module.parameters():
            values = generator.normal(scale=0.4, size=tuple(parameter.shape)).astype(np.float32)
            parameter.copy_(lib.tensor(values))
    return module


def mlp(lib, inputs=3, hidden=8, outputs=2):
    nn = lib.nn
    return initialize(lib, nn.Sequential(nn.Linear(inputs, hidden), nn.Tanh(), nn.Linear(hidden, outputs)))


def batches(lib, sizes=(4,) * CALLS, inputs=3, outputs=2, seed=10):
    """Regression batches ``(x, y)`` of the given sizes (a smaller one last, where a test says so)."""
    generator = np.random.default_rng(seed)
    return [
        (lib.tensor(generator.normal(size=(n, inputs)).astype(np.float32)), lib.tensor(generator.normal(size=(n, outputs)).astype(np.float32)))
        for n in sizes
    ]


def labelled_images(lib, sizes, channels=2, side=8, classes=3, seed=20):
    generator = np.random.default_rng(seed)
    return [
        (lib.tensor(generator.normal(size=(n, channels, side, side)).astype(np.float32)), lib.tensor(generator.integers(0, classes, size=n)))
        for n in sizes
    ]


def plain_step(lib, model, optimizer, before_step=None):
    """zero_grad, MSE loss, backward, ``before_step()`` (clipping and such), step; returns the loss."""

    def step(x, y):
        optimizer.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        if before_step:
            before_step()
        optimizer.step()
        return loss.detach()

    return step


OPTIMIZERS = {  # each with the settings that route its update through the most code
    "sgd": lambda lib, params: lib.optim.SGD(params, lr=0.1),
    "sgd momentum dampening decay": lambda lib, params: lib.optim.SGD(params, lr=0.1, momentum=0.8, dampening=0.1, weight_decay=0.01),
    "sgd nesterov maximize": lambda lib, params: lib.optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True, maximize=True),
    "adam": lambda lib, params: lib.optim.Adam(params, lr=0.01, betas=(0.8, 0.95)),
    "adam amsgrad decay": lambda lib, params: lib.optim.Adam(params, lr=0.01, amsgrad=True, weight_decay=0.05),
    "adamw": lambda lib, params: lib.optim.AdamW(params, lr=0.01, weight_decay=0.1),
    "rmsprop centered momentum": lambda lib, params: lib.optim.RMSprop(params, lr=0.01, momentum=0.5, centered=True, weight_decay=0.01),
    "adagrad": lambda lib, params: lib.optim.Adagrad(params, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1),
    "adadelta": lambda lib, params: lib.optim.Adadelta(params, lr=0.5, rho=0.8),
    "adamax": lambda lib, params: lib.optim.Adamax(params, lr=0.02, weight_decay=0.01),
    "nadam": lambda lib, params: lib.optim.NAdam(params, lr=0.01, momentum_decay=0.01),
    "radam decoupled": lambda lib, params: lib.optim.RAdam(params, lr=0.01, weight_decay=0.01, decoupled_weight_decay=True),
    "asgd": lambda lib, params: lib.optim.ASGD(params, lr=0.05, t0=2, lambd=0.01),
    "rprop": lambda lib, params: lib.optim.Rprop(params, lr=0.01, etas=(0.4, 1.3)),
}


def warmup_then_decay(lib, optimizer):
    schedulers = lib.optim.lr_scheduler
    return schedulers.SequentialLR(
        optimizer, [schedulers.LinearLR(optimizer, start_factor=0.2, total_iters=2), schedulers.ExponentialLR(optimizer, gamma=0.7)], milestones=[2]
    )


def one_cycle(lib, optimizer):
    """OneCycleLR, cycling the momentum (or Adam's beta1) where the optimizer has one."""
    group = optimizer.param_groups[0]
    cycles = "momentum" in group and group["momentum"] > 0 or "betas" in group
    return lib.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=CALLS + 1, cycle_momentum=cycles)


# ----------------------------------------------------------------------------- gradient accumulation
def accumulation(every, clip, by_argument):
    """The step runs forward and backward on each call and steps the optimizer (after clipping)
    every ``every`` calls: as a counter in a closure says, or as a flag the loop passes; the last
    batch is smaller."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.Adam(model.parameters(), lr=0.02)
        calls = 0

        def step(x, y, due=None):
            nonlocal calls
            loss = lib.nn.functional.mse_loss(model(x), y) / every
            loss.backward()
            if due is None:
                calls += 1
                due = calls % every == 0
            if due:
                clip(lib, model.parameters())
                optimizer.step()
                optimizer.zero_grad()
            return loss.detach()

        step = compile(step)
        for index, (x, y) in enumerate(batches(lib, sizes=(4, 4, 4, 4, 4, 4, 3))):
            log.loss(step(x, y, index % every == every - 1) if by_argument else step(x, y))
            log.params(model)
            log.state(model, optimizer)

    return loop


CLIPPING = {
    "norm": lambda lib, params: lib.nn.utils.clip_grad_norm_(params, max_norm=0.1),
    "inf norm foreach": lambda lib, params: lib.nn.utils.clip_grad_norm_(params, max_norm=0.05, norm_type=float("inf"), foreach=True),
    "value": lambda lib, params: lib.nn.utils.clip_grad_value_(params, clip_value=0.01),
}


@pytest.mark.parametrize("every", [2, 3])
@pytest.mark.parametrize("clip", sorted(CLIPPING))
def test_accumulation_stepped_every_k_calls_as_an_argument_says(every, clip):
    assert_same_as_eager(accumulation(every, CLIPPING[clip], by_argument=True))


@pytest.mark.parametrize("clip", sorted(CLIPPING))
def test_accumulation_stepped_every_k_calls_as_a_closure_counter_says(clip):
    """The counter changes Python state inside the step: a compiled step may run eagerly."""
    assert_same_as_eager(accumulation(3, CLIPPING[clip], by_argument=False), replays=False)


def test_accumulation_stepped_every_k_calls_matches_pytorch():
    assert_close_to_pytorch(accumulation(3, CLIPPING["norm"], by_argument=True))


def test_accumulation_applied_by_a_second_compiled_function_without_arguments():
    """Two compiled functions share the model: ``accumulate(x, y)`` (forward and backward) on
    every call, ``apply()`` (clip, step, zero_grad; no arguments at all) every other call. The
    gradients ``apply`` reads were made by the other function: it may run eagerly."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def accumulate(x, y):
            loss = lib.nn.functional.mse_loss(model(x), y)
            loss.backward()
            return loss.detach()

        def apply():
            norm = lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            optimizer.zero_grad()
            return norm

        accumulate, apply = compile(accumulate), compile(apply)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 8)):
            log.loss(accumulate(x, y))
            if index % 2:
                log.loss(apply())
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_accumulation_decided_by_a_counter_tensor_inside_the_step():
    """No Python branch: a counter buffer, incremented in place, masks a hand-written SGD update
    and the clearing of the gradients, so one recording serves every call."""

    def loop(lib, compile, log):
        model = mlp(lib)
        counter = lib.zeros(())
        lr, every = 0.1, 3

        def step(x, y):
            loss = lib.nn.functional.mse_loss(model(x), y)
            loss.backward()
            with lib.no_grad():
                counter.add_(1)
                due = (lib.remainder(counter, every) == 0).to(x.dtype)
                for parameter in model.parameters():
                    parameter.sub_(lr / every * due * parameter.grad)
                    parameter.grad.mul_(1 - due)
            return loss.detach(), due

        step = compile(step)
        for x, y in batches(lib, sizes=(4,) * 7):
            loss, due = step(x, y)
            log.loss(loss)
            log.loss(due)
            log.state(model, counter)

    assert_same_as_eager(loop)


def test_micro_batches_split_inside_the_step_with_a_smaller_last_batch():
    """One call splits its batch into micro-batches of 2 and accumulates over them; the smaller
    last batch has fewer (and a shorter) micro-batches."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.1)

        def step(x, y):
            optimizer.zero_grad()
            total = 0.0
            for xs, ys in zip(x.split(2), y.split(2)):
                loss = lib.nn.functional.mse_loss(model(xs), ys, reduction="sum") / x.shape[0]
                loss.backward()
                total = total + loss.detach()
            optimizer.step()
            return total

        step = compile(step)
        for x, y in batches(lib, sizes=(6, 6, 6, 5, 6, 6, 3)):
            log.loss(step(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- parameter groups, freezing, new groups
DECAYING = sorted(name for name in OPTIMIZERS if name not in ("rprop", "sgd nesterov maximize"))


def groups_with_their_own_settings(name):
    """Weights decay, biases do not, the last layer learns 3x faster; the first layer's gradients
    are clipped on their own before the step."""

    def loop(lib, compile, log):
        model = mlp(lib)
        weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
        biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
        optimizer = OPTIMIZERS[name](lib, [{"params": weights, "weight_decay": 0.2}, {"params": biases, "weight_decay": 0.0, "lr": 0.03}])
        step = compile(plain_step(lib, model, optimizer, lambda: lib.nn.utils.clip_grad_norm_(model[0].parameters(), 0.3)))
        for x, y in batches(lib):
            log.loss(step(x, y))
            log.params(model)
            log.state(model, optimizer)

    return loop


@pytest.mark.parametrize("name", DECAYING)
def test_param_groups_with_their_own_lr_and_weight_decay_and_clipping_of_one_layer(name):
    assert_same_as_eager(groups_with_their_own_settings(name))


@pytest.mark.parametrize("name", ["adamw", "rmsprop centered momentum", "sgd momentum dampening decay"])
def test_param_groups_with_their_own_settings_match_pytorch(name):
    assert_close_to_pytorch(groups_with_their_own_settings(name))


FROZEN_ON = (False, False, True, True, False, False, True)  # a fine-tuning schedule, per call


def freezing(set_to_none, make_optimizer, where):
    """The first layer is frozen for the 3rd and 4th calls and the 7th, unfrozen otherwise: by
    ``requires_grad_`` inside the step (told by an argument) or by the loop between calls. With
    ``set_to_none=False`` the frozen layer keeps zero gradients, so momentum and weight decay
    still move it, as in PyTorch."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = make_optimizer(lib, model.parameters())

        def step(x, y, frozen):
            if where == "inside":
                model[0].requires_grad_(not frozen)
            optimizer.zero_grad(set_to_none=set_to_none)
            loss = lib.nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for frozen, (x, y) in zip(FROZEN_ON, batches(lib, sizes=(4,) * len(FROZEN_ON))):
            if where == "between calls":
                model[0].requires_grad_(not frozen)
            log.loss(step(x, y, frozen))
            log.params(model)
            log.state(model, optimizer)

    return loop


FREEZING = {
    "sgd momentum decay": OPTIMIZERS["sgd momentum dampening decay"],
    "adam": OPTIMIZERS["adam"],
    "adamw": OPTIMIZERS["adamw"],
    "rprop": OPTIMIZERS["rprop"],
}


@pytest.mark.parametrize("where", ["inside", "between calls"])
@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name", sorted(FREEZING))
def test_a_layer_frozen_then_unfrozen_mid_training(name, set_to_none, where):
    assert_same_as_eager(freezing(set_to_none, FREEZING[name], where))


@pytest.mark.parametrize("set_to_none", [True, False])
def test_a_layer_frozen_then_unfrozen_matches_pytorch(set_to_none):
    assert_close_to_pytorch(freezing(set_to_none, FREEZING["adamw"], "inside"))


def test_a_new_head_added_as_a_param_group_inside_the_step_with_a_scheduler():
    """On its 3rd call (an argument says) the step adds the second layer to the optimizer as a
    new group (its own rate and betas); a scheduler made before the group existed keeps stepping
    every group."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.Adam(model[0].parameters(), lr=0.02)
        scheduler = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.8)

        def step(x, y, grow):
            if grow:
                optimizer.add_param_group({"params": list(model[2].parameters()), "lr": 0.05, "betas": (0.5, 0.9)})
            loss = plain_step(lib, model, optimizer)(x, y)
            scheduler.step()
            return loss

        step = compile(step)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 7)):
            log.loss(step(x, y, index == 2))
            log.state(model, optimizer, scheduler)

    assert_same_as_eager(loop, replays=False)  # add_param_group inside: runs eagerly from then on
    assert_close_to_pytorch(loop)


def swap_optimizer(lib, model, trainer, index):
    if index == 3:  # "switch from Adam to SGD" fine-tuning
        trainer.optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        trainer.scheduler = lib.optim.lr_scheduler.StepLR(trainer.optimizer, 1, gamma=0.9)


def reset_optimizer_state(lib, model, trainer, index):
    if index == 3:
        trainer.optimizer.state.clear()


def swap_scheduler(lib, model, trainer, index):
    if index == 3:
        trainer.scheduler = lib.optim.lr_scheduler.ExponentialLR(trainer.optimizer, gamma=1.5)


@pytest.mark.parametrize("change", [swap_optimizer, reset_optimizer_state, swap_scheduler], ids=lambda change: change.__name__)
def test_optimizer_or_scheduler_replaced_or_reset_between_calls(change):
    """The step reads the optimizer and scheduler off a trainer object whose attributes the loop
    rebinds (or whose optimizer state it clears) mid-training."""

    def loop(lib, compile, log):
        model = mlp(lib)
        trainer = type("Trainer", (), {})()
        trainer.optimizer = lib.optim.Adam(model.parameters(), lr=0.02)
        trainer.scheduler = lib.optim.lr_scheduler.StepLR(trainer.optimizer, 1, gamma=0.5)

        def step(x, y):
            loss = plain_step(lib, model, trainer.optimizer)(x, y)
            trainer.scheduler.step()
            return loss

        step = compile(step)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 7)):
            change(lib, model, trainer, index)
            log.loss(step(x, y))
            log.state(model, trainer.optimizer, trainer.scheduler)

    assert_same_as_eager(loop)


def test_compiled_backward_with_the_optimizer_stepped_eagerly_every_other_call():
    """Only forward and backward are compiled; the loop clips, steps and clears eagerly on the
    gradients the replays accumulated."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.3)

        def accumulate(x, y):
            loss = lib.nn.functional.mse_loss(model(x), y) / 2
            loss.backward()
            return loss.detach()

        accumulate = compile(accumulate)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 8)):
            log.loss(accumulate(x, y))
            log.state(model)
            if index % 2:
                lib.nn.utils.clip_grad_value_(model.parameters(), 0.05)
                optimizer.step()
                optimizer.zero_grad()
                log.state(model, optimizer)

    assert_same_as_eager(loop)
    assert_close_to_pytorch(loop)


def sharpness_aware(lib, compile, log, rho=0.05):
    """SAM: ascend to the worst nearby weights in place, take the gradient there, come back, step."""
    model = mlp(lib)
    optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(x, y):
        optimizer.zero_grad()
        loss = lib.nn.functional.mse_loss(model(x), y)
        loss.backward()
        with lib.no_grad():
            norm = lib.stack([p.grad.norm(2) for p in model.parameters()]).norm(2)
            moves = [p.grad * (rho / (norm + 1e-12)) for p in model.parameters()]
            for parameter, move in zip(model.parameters(), moves):
                parameter.add_(move)
        optimizer.zero_grad()
        lib.nn.functional.mse_loss(model(x), y).backward()
        with lib.no_grad():
            for parameter, move in zip(model.parameters(), moves):
                parameter.sub_(move)
        optimizer.step()
        return loss.detach()

    step = compile(step)
    for x, y in batches(lib):
        log.loss(step(x, y))
        log.state(model, optimizer)


def test_sharpness_aware_minimization_with_two_passes_and_weights_moved_in_place():
    assert_same_as_eager(sharpness_aware)
    assert_close_to_pytorch(sharpness_aware)


def test_a_last_batch_of_one_raises_in_batch_norm_as_eager():
    def loop(lib, compile, log):
        model = initialize(lib, lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.Linear(4, 2)))
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        step = compile(plain_step(lib, model, optimizer))
        for x, y in batches(lib, sizes=(4, 4, 4, 1)):
            try:
                log.loss(step(x, y))
            except ValueError as error:
                log.entries.append(("raised", str(error)))
            log.state(model, optimizer)
        assert [kind for kind, _ in log.entries].count("raised") == 1

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- checkpoints
def checkpoint(lib, model, optimizer, scheduler):
    buffer = io.BytesIO()
    lib.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    return buffer


def restore(lib, buffer, model, optimizer, scheduler):
    buffer.seek(0)
    saved = lib.load(buffer, weights_only=False)
    model.load_state_dict(saved["model"])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])


@pytest.mark.parametrize("name", ["adam amsgrad decay", "sgd momentum dampening decay", "rmsprop centered momentum", "asgd", "rprop", "adadelta"])
def test_a_checkpoint_saved_then_restored_into_the_same_objects_mid_training(name):
    """Saved after the 2nd call with ``save`` into a BytesIO, restored after the 4th with ``load``
    (the run rewinds), then trained on with the same compiled step."""

    def loop(lib, compile, log):
        model = initialize(lib, lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.BatchNorm1d(8), lib.nn.ReLU(), lib.nn.Linear(8, 2)))
        optimizer = OPTIMIZERS[name](lib, model.parameters())
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        train = plain_step(lib, model, optimizer)

        def step(x, y):
            loss = train(x, y)
            scheduler.step()
            return loss

        step = compile(step)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 8)):
            if index == 2:
                saved = checkpoint(lib, model, optimizer, scheduler)
            if index == 4:
                restore(lib, saved, model, optimizer, scheduler)
            log.loss(step(x, y))
            log.state(model, optimizer, scheduler)

    assert_same_as_eager(loop)


def test_a_checkpoint_resumed_into_fresh_objects_and_a_fresh_compiled_step():
    """The "resume from disk" pattern: train, save, build everything anew (other initial weights),
    load the checkpoint into it, compile a new step and train on; the old step is called again
    afterwards on the old objects."""

    def loop(lib, compile, log):
        def build(seed):
            model = initialize(lib, lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2)), seed)
            optimizer = lib.optim.NAdam(model.parameters(), lr=0.02)
            scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=5)
            train = plain_step(lib, model, optimizer)

            def step(x, y):
                loss = train(x, y)
                scheduler.step()
                return loss

            return model, optimizer, scheduler, compile(step)

        data = batches(lib, sizes=(4,) * 8)
        first = build(1)
        for x, y in data[:3]:
            log.loss(first[3](x, y))
        saved = checkpoint(lib, *first[:3])
        second = build(2)
        restore(lib, saved, *second[:3])
        for x, y in data[3:6]:
            log.loss(second[3](x, y))
            log.state(*second[:3])
        for x, y in data[6:]:
            log.loss(first[3](x, y))
            log.state(*first[:3])

    assert_same_as_eager(loop)


def test_state_dict_snapshots_and_a_checkpoint_taken_inside_the_step():
    """The step keeps a clone of the state dict after each update and saves a checkpoint into a
    BytesIO of its own: each call's copies and bytes are the ones a replay leaves too."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.Adamax(model.parameters(), lr=0.05)
        train = plain_step(lib, model, optimizer)
        kept, files = [], []

        def step(x, y):
            loss = train(x, y)
            kept.append({name: value.clone() for name, value in model.state_dict().items()})
            files.append(io.BytesIO())
            lib.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, files[-1])
            return loss

        step = compile(step)
        for x, y in batches(lib):
            log.loss(step(x, y))
        log.entries.append(("kept", numpy_of(kept)))
        for file in files:
            file.seek(0)
            log.entries.append(("saved", numpy_of(lib.load(file, weights_only=False))))

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- every optimizer with a scheduler
@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_with_warmup_then_decay_stepped_inside_or_outside(name, where):
    """SequentialLR(LinearLR warmup, ExponentialLR) crosses its milestone mid-run, stepped in the
    compiled step or by the loop around it."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = OPTIMIZERS[name](lib, model.parameters())
        scheduler = warmup_then_decay(lib, optimizer)
        train = plain_step(lib, model, optimizer)

        def step(x, y):
            loss = train(x, y)
            if where == "inside":
                scheduler.step()
            return loss

        step = compile(step)
        for x, y in batches(lib):
            log.loss(step(x, y))
            if where == "outside":
                scheduler.step()
            log.state(model, optimizer, scheduler)

    assert_same_as_eager(loop)


def one_cycle_outside(name):
    """OneCycleLR stepped by the loop: the rate and the momentum (SGD's ``momentum``, Adam's
    ``betas`` tuple) of the group change between every two calls."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = OPTIMIZERS[name](lib, model.parameters())
        scheduler = one_cycle(lib, optimizer)
        step = compile(plain_step(lib, model, optimizer))
        for x, y in batches(lib):
            log.loss(step(x, y))
            scheduler.step()
            log.params(model)
            log.state(model, optimizer, scheduler)

    return loop


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_with_one_cycle_stepped_outside(name):
    assert_same_as_eager(one_cycle_outside(name))


@pytest.mark.parametrize("name", ["adam", "nadam", "sgd momentum dampening decay", "rmsprop centered momentum"])
def test_one_cycle_stepped_outside_matches_pytorch(name):
    assert_close_to_pytorch(one_cycle_outside(name))


def test_reduce_on_plateau_fed_the_returned_loss_outside():
    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.5, momentum=0.5)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
        step = compile(plain_step(lib, model, optimizer))
        x, y = batches(lib, sizes=(4,))[0]
        for _ in range(CALLS):
            loss = step(x, y)
            scheduler.step(float(loss))
            log.loss(loss)
            log.state(model, optimizer)
            log.entries.append(("lr", optimizer.param_groups[0]["lr"]))

    assert_same_as_eager(loop)


READS = {  # what a step logs about its schedule, the way training scripts do
    "group lr returned": lambda optimizer, scheduler, loss: optimizer.param_groups[0]["lr"],
    "group lr scaling the returned loss": lambda optimizer, scheduler, loss: loss * optimizer.param_groups[0]["lr"],
    "get_last_lr returned": lambda optimizer, scheduler, loss: scheduler.get_last_lr()[0],
    "last_epoch returned": lambda optimizer, scheduler, loss: scheduler.last_epoch,
}


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("read", list(READS))
def test_the_schedule_read_inside_the_step_for_logging(read, where):
    """``return loss, optimizer.param_groups[0]["lr"]`` with ExponentialLR stepped inside or
    outside the step: each call must report its own rate. Outside, the values read are guarded
    (each new rate records anew); inside, they are read after the scheduler's step set them from
    its own state, and the step runs eagerly (one warning)."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        scheduler = lib.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)
        train = plain_step(lib, model, optimizer)

        def step(x, y):
            loss = train(x, y)
            if where == "inside":
                scheduler.step()
            return loss, READS[read](optimizer, scheduler, loss)

        step = compile(step)
        for x, y in batches(lib, sizes=(4,) * 4):
            loss, logged = step(x, y)
            log.loss(loss)
            log.entries.append(("logged", numpy_of(logged)))
            if where == "outside":
                scheduler.step()
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=where == "outside")


def test_the_rate_read_before_the_schedulers_step_inside_the_step():
    """A StepLR stepped at the end of the step keeps the rate for two calls, then halves it: the
    rate read (and used) before its step is the one the call began with, guarded; a replay
    follows each change (recorded anew), never one call late."""

    def loop(lib, compile, log):
        model = mlp(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        train = plain_step(lib, model, optimizer)

        def step(x, y):
            rate = optimizer.param_groups[0]["lr"]
            loss = train(x, y) * rate
            scheduler.step()
            return loss, rate

        step = compile(step)
        for x, y in batches(lib):
            loss, rate = step(x, y)
            log.loss(loss)
            log.entries.append(("rate", rate))
            log.state(model, optimizer)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- convolutional and recurrent models
def conv_net(lib):
    nn = lib.nn
    return initialize(
        lib,
        nn.Sequential(
            nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout2d(0.3), nn.MaxPool2d(2),
            nn.Conv2d(4, 6, 3, stride=1, padding=1, bias=False), nn.AdaptiveAvgPool2d((2, 2)), nn.Flatten(), nn.Linear(24, 3),
        ),
    )


@pytest.mark.parametrize("channels_last", [False, True])
def test_conv_net_trained_two_epochs_with_a_smaller_last_batch_and_a_compiled_evaluation(channels_last):
    """Two epochs over batches of 4, 4 and 3 images; after each epoch a compiled evaluation
    under no_grad in eval mode (Dropout2d off, running statistics read)."""

    def loop(lib, compile, log):
        model = conv_net(lib)
        layout = lib.channels_last if channels_last else lib.contiguous_format
        model = model.to(memory_format=layout)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True)
        loss_fn = lib.nn.CrossEntropyLoss(label_smoothing=0.1)

        def train(x, labels):
            optimizer.zero_grad()
            loss = loss_fn(model(x), labels)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            return loss.detach()

        def evaluate(x, labels):
            with lib.no_grad():
                logits = model(x)
                return loss_fn(logits, labels), (logits.argmax(1) == labels).float().mean()

        train, evaluate = compile(train), compile(evaluate)
        data = [(x.to(memory_format=layout), labels) for x, labels in labelled_images(lib, (4, 4, 3))]
        for _ in range(2):
            model.train()
            for x, labels in data:
                log.loss(train(x, labels))
                log.state(model, optimizer)
            model.eval()
            for x, labels in data:
                log.loss(evaluate(x, labels))

    assert_same_as_eager(loop)


def recurrent_loop(kind, batch_first=True, **options):
    """A sequence regressor whose hidden state is carried (detached) from call to call and started
    afresh when the batch size changes (the smaller last batch)."""

    def loop(lib, compile, log):
        nn = lib.nn
        recurrent = getattr(nn, kind)(3, 5, num_layers=2, batch_first=batch_first, **options)
        features = (options.get("proj_size") or 5) * (2 if options.get("bidirectional") else 1)
        head = nn.Linear(features, 2)
        model = initialize(lib, nn.ModuleList([recurrent, head]))
        optimizer = lib.optim.RMSprop(model.parameters(), lr=0.01)

        def step(x, y, state):
            optimizer.zero_grad()
            out, state = recurrent(x, state)
            loss = nn.functional.mse_loss(head(out), y)
            loss.backward()
            lib.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            detached = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            return loss.detach(), detached

        step = compile(step)
        generator = np.random.default_rng(5)
        state, previous = None, None
        for batch in (3, 3, 3, 2, 3):
            shape = (batch, 4) if batch_first else (4, batch)
            x = lib.tensor(generator.normal(size=(*shape, 3)).astype(np.float32))
            y = lib.tensor(generator.normal(size=(*shape, 2)).astype(np.float32))
            if batch != previous:
                state, previous = None, batch
            loss, state = step(x, y, state)
            log.loss(loss)
            log.loss(state)
            log.params(model)
            log.state(model, optimizer)

    return loop


RECURRENT = {
    "rnn relu": ("RNN", {"nonlinearity": "relu"}),
    "gru": ("GRU", {}),
    "lstm": ("LSTM", {}),
    "gru bidirectional dropout": ("GRU", {"bidirectional": True, "dropout": 0.4}),
    "lstm proj_size dropout": ("LSTM", {"proj_size": 3, "dropout": 0.3}),
}


@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_model_with_carried_state_and_a_smaller_last_batch(name):
    kind, options = RECURRENT[name]
    assert_same_as_eager(recurrent_loop(kind, **options))


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_recurrent_model_with_carried_state_matches_pytorch(kind):
    assert_close_to_pytorch(recurrent_loop(kind, batch_first=False))


def packed_sequences_loop(kind):
    """Padded batches of the same shape whose lengths change on every call, packed unsorted."""

    def loop(lib, compile, log):
        nn = lib.nn
        rnn_utils = lib.nn.utils.rnn
        recurrent = getattr(nn, kind)(3, 4, batch_first=True)
        head = nn.Linear(4, 1)
        model = initialize(lib, nn.ModuleList([recurrent, head]))
        optimizer = lib.optim.Adam(model.parameters(), lr=0.02)

        def step(x, lengths, y):
            optimizer.zero_grad()
            packed = rnn_utils.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, _ = recurrent(packed)
            padded, _ = rnn_utils.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
            loss = nn.functional.mse_loss(head(padded).sum(1), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        generator = np.random.default_rng(6)
        for lengths in ([5, 3, 2], [2, 5, 4], [5, 3, 2], [1, 1, 5], [2, 5, 4]):
            x = lib.tensor(generator.normal(size=(3, 5, 3)).astype(np.float32))
            y = lib.tensor(generator.normal(size=(3, 1)).astype(np.float32))
            log.loss(step(x, lib.tensor(lengths), y))
            log.state(model, optimizer)

    return loop


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_packed_sequences_whose_lengths_change_between_calls(kind):
    assert_same_as_eager(packed_sequences_loop(kind), replays=False)


def test_packed_sequences_match_pytorch():
    assert_close_to_pytorch(packed_sequences_loop("LSTM"))


# ----------------------------------------------------------------------------- one step, several models
def test_one_compiled_step_taking_the_model_and_optimizer_for_two_models_alternately():
    """Two models of the same architecture (and a third of another), each with its own optimizer,
    trained by one compiled function that takes them as arguments, in turn."""

    def loop(lib, compile, log):
        models = [mlp(lib), initialize(lib, mlp(lib), seed=2), initialize(lib, mlp(lib, hidden=5), seed=3)]
        optimizers = [lib.optim.Adam(models[0].parameters(), lr=0.01), lib.optim.Adam(models[1].parameters(), lr=0.03), lib.optim.SGD(models[2].parameters(), lr=0.1)]

        def step(model, optimizer, x, y):
            return plain_step(lib, model, optimizer)(x, y)

        step = compile(step)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 9)):
            which = [0, 1, 0, 1, 2, 1, 0, 2, 0][index]
            log.loss(step(models[which], optimizers[which], x, y))
            log.state(*models, *optimizers)

    assert_same_as_eager(loop)


def test_a_compiled_training_step_method_on_two_instances_of_a_module_subclass():
    """``training_step`` compiled at class level on a Module that holds its own optimizer; two
    instances trained in turn must each update themselves only."""

    def loop(lib, compile, log):
        class Regressor(lib.nn.Module):
            def __init__(self, seed):
                super().__init__()
                self.body = initialize(lib, lib.nn.Sequential(lib.nn.Linear(3, 6), lib.nn.GELU(), lib.nn.Linear(6, 2)), seed)
                self.optimizer = lib.optim.AdamW(self.parameters(), lr=0.01)

            def forward(self, x):
                return self.body(x)

            @compile
            def training_step(self, x, y):
                self.optimizer.zero_grad()
                loss = lib.nn.functional.smooth_l1_loss(self(x), y)
                loss.backward()
                self.optimizer.step()
                return loss.detach()

        first, second = Regressor(1), Regressor(2)
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 8)):
            model = first if index % 3 else second
            log.loss(model.training_step(x, y))
            log.state(first, second, first.optimizer, second.optimizer)

    assert_same_as_eager(loop)


def test_a_compiled_model_trained_with_dropout_and_batch_norm_and_evaluated_between_epochs():
    """``compiled = chainrule.compile(model)``, the optimizer made over ``compiled.parameters()``,
    loss and backward outside; eval mode toggled on the compiled module between epochs, and the
    original model's state loaded from a checkpoint once."""

    def loop(lib, compile, log):
        nn = lib.nn
        model = initialize(lib, nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2)))
        compiled = compile(model)
        optimizer = lib.optim.Adam(compiled.parameters(), lr=0.01)
        data = batches(lib, sizes=(4, 4, 3))
        for epoch in range(3):
            if epoch == 2:
                restore_point.seek(0)
                model.load_state_dict(lib.load(restore_point))
            compiled.train()
            for x, y in data:
                optimizer.zero_grad()
                loss = nn.functional.mse_loss(compiled(x), y)
                loss.backward()
                optimizer.step()
                log.loss(loss)
                log.state(model, optimizer)
            if epoch == 0:
                restore_point = io.BytesIO()
                lib.save(model.state_dict(), restore_point)
            compiled.eval()
            with lib.no_grad():
                log.loss([compiled(x) for x, _ in data])

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- pruning, averaging, closures
def test_pruning_applied_then_made_permanent_between_calls():
    """``prune.l1_unstructured`` after the 2nd call turns ``weight`` into ``weight_orig`` and a
    mask buffer; ``prune.remove`` after the 4th makes it a parameter again."""

    def loop(lib, compile, log):
        prune = importlib.import_module(f"{lib.__name__}.nn.utils.prune")
        model = mlp(lib)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = compile(plain_step(lib, model, optimizer))
        for index, (x, y) in enumerate(batches(lib, sizes=(4,) * 7)):
            if index == 2:
                prune.l1_unstructured(model[0], "weight", amount=0.5)
            if index == 4:
                prune.remove(model[0], "weight")
            log.loss(step(x, y))
            log.state(model, optimizer)
            log.entries.append(("weight", numpy_of(model[0].weight)))

    assert_same_as_eager(loop, replays=False)  # the pruning hook sets module.weight in forward
    assert_close_to_pytorch(loop)


@pytest.mark.parametrize("average", ["swa", "ema"])
def test_averaged_model_updated_inside_the_step_with_swalr_outside(average):
    def loop(lib, compile, log):
        swa_utils = lib.optim.swa_utils
        model = initialize(lib, lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.BatchNorm1d(8), lib.nn.Tanh(), lib.nn.Linear(8, 2)))
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        options = {"multi_avg_fn": swa_utils.get_ema_multi_avg_fn(0.9), "use_buffers": True} if average == "ema" else {}
        averaged = swa_utils.AveragedModel(model, **options)
        scheduler = swa_utils.SWALR(optimizer, swa_lr=0.02, anneal_epochs=3)
        train = plain_step(lib, model, optimizer)

        def step(x, y):
            loss = train(x, y)
            averaged.update_parameters(model)
            return loss

        step = compile(step)
        for x, y in batches(lib, sizes=(4,) * 7):
            log.loss(step(x, y))
            scheduler.step()
            log.state(model, averaged, optimizer)

    assert_same_as_eager(loop, replays=False)


@pytest.mark.parametrize("name", ["sgd momentum dampening decay", "adam", "lbfgs"])
def test_optimizer_step_given_a_closure_inside_the_step(name):
    """``optimizer.step(closure)`` with the closure doing zero_grad, forward and backward; LBFGS
    calls it several times, as many as its line search needs."""

    def loop(lib, compile, log):
        model = mlp(lib)
        if name == "lbfgs":
            optimizer = lib.optim.LBFGS(model.parameters(), lr=0.5, max_iter=4, history_size=3)
        else:
            optimizer = OPTIMIZERS[name](lib, model.parameters())

        def step(x, y):
            def closure():
                optimizer.zero_grad()
                loss = lib.nn.functional.mse_loss(model(x), y)
                loss.backward()
                return loss

            return optimizer.step(closure).detach()

        step = compile(step)
        for x, y in batches(lib, sizes=(4,) * 4):
            log.loss(step(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)  # a closure passed to a function: runs eagerly
    assert_close_to_pytorch(loop, rtol=1e-3, atol=1e-4)


def test_flat_parameter_vector_updated_by_hand_inside_the_step():
    """parameters_to_vector / vector_to_parameters around a hand-written momentum update."""

    def loop(lib, compile, log):
        utils = lib.nn.utils
        model = mlp(lib)
        velocity = lib.zeros(sum(p.numel() for p in model.parameters()))

        def step(x, y):
            model.zero_grad()
            loss = lib.nn.functional.mse_loss(model(x), y)
            loss.backward()
            with lib.no_grad():
                grads = utils.parameters_to_vector([p.grad for p in model.parameters()])
                velocity.mul_(0.9).add_(grads)
                utils.vector_to_parameters(utils.parameters_to_vector(model.parameters()) - 0.05 * velocity, model.parameters())
            return loss.detach()

        step = compile(step)
        for x, y in batches(lib):
            log.loss(step(x, y))
            log.state(model, velocity)

    assert_same_as_eager(loop)
    assert_close_to_pytorch(loop)
