"""chainrule.compile against eager execution over LONG training runs (hundreds of steps of tiny
models) where many events interleave between and inside compiled calls: periodic evaluation under
no_grad in eval mode (its own compiled function), checkpoints written with ``chainrule.save`` and a
mid-run restore into fresh objects, schedulers stepped per step or per epoch, gradient clipping, a
GradScaler skipping steps on injected inf gradients, a loader with a smaller last batch, dropout and
BatchNorm, warm-up set by hand in ``param_groups``, layers frozen then unfrozen, a weight
re-initialised mid-run and an EMA model. The whole history (every loss, every evaluation) and the
final state must be equal bit for bit; each compiled function may fall back to eager at most once,
and a long run must not keep piling up recordings."""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def np_of(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: np_of(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(np_of(item) for item in value)
    return value


def state_of(*things):
    """Parameters, grads, flags, buffers of modules; state dicts of anything else."""
    out = []
    for thing in things:
        if isinstance(thing, nn.Module):
            out.append({name: (np_of(p), np_of(p.grad), p.requires_grad) for name, p in thing.named_parameters()})
            out.append({name: np_of(b) for name, b in thing.named_buffers()})
            out.append([sub.training for sub in thing.modules()])
        else:
            out.append(np_of(thing.state_dict()))
    return out


def run(loop, tmp_path, compiled):
    """Run ``loop(compile, tmp_path, log)`` from seed 0; return its log, compiled functions, warnings."""
    made = []

    def compile_(function):
        made.append(torch.compile(function))
        return made[-1]

    torch.manual_seed(0)
    log = []
    where = tmp_path / ("compiled" if compiled else "eager")
    where.mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop(compile_ if compiled else (lambda function: function), where, log)
    log.append(("random", torch.default_generator.state_bytes()))
    return log, made, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def recordings(function):
    return sum(map(len, function.recordings.values()))


def check(loop, tmp_path, replays=True, max_recordings=None):
    eager, _, eager_warned = run(loop, tmp_path, False)
    compiled, made, warned = run(loop, tmp_path, True)
    assert not eager_warned, eager_warned
    assert len(compiled) == len(eager), (len(compiled), len(eager))
    for index, (second, first) in enumerate(zip(compiled, eager)):
        assert_identical(second, first, f"entry {index}")
    assert len(warned) <= len(made), warned
    if replays:
        assert warned == [], warned
        assert all(f.eager_reason is None for f in made), [f.eager_reason for f in made]
    if max_recordings is not None:
        counts = [recordings(f) for f in made if f.eager_reason is None]
        assert all(count <= max_recordings for count in counts), counts
    return made, warned


def batches(x, y, size, generator):
    """An epoch of shuffled batches, the last one smaller."""
    order = torch.randperm(len(x), generator=generator)
    for start in range(0, len(x), size):
        index = order[start:start + size]
        yield x[index], y[index]


def mlp(inp=4, hidden=6, out=3, bn=True, p=0.2):
    layers = [nn.Linear(inp, hidden)]
    if bn:
        layers.append(nn.BatchNorm1d(hidden))
    layers += [nn.ReLU(), nn.Dropout(p), nn.Linear(hidden, out)]
    return nn.Sequential(*layers)


def data(n=22, inp=4, classes=3):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(n, inp, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


# ----------------------------------------------------------------------------- the loops
def everything_loop(compile, tmp_path, log, steps=360, eval_every=25, save_every=40):
    """BatchNorm, dropout, OneCycleLR per step, clipping, loader with smaller last batch, compiled
    evaluation every k steps, checkpoints every m steps."""
    x, y = data()
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=steps + 1)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    @compile
    def step(xb, yb):
        model.train()
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        opt.step()
        sched.step()
        return loss.detach(), norm

    @compile
    def evaluate(xv, yv):
        model.eval()
        with torch.no_grad():
            out = model(xv)
            return loss_fn(out, yv), (out.argmax(1) == yv).float().mean()

    g = torch.Generator().manual_seed(5)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):
            log.append(np_of(step(xb, yb)))
            done += 1
            if done % eval_every == 0:
                log.append(np_of(evaluate(x, y)))
            if done % save_every == 0:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(), "step": done},
                           tmp_path / f"ckpt{done}.pt")
            if done == steps:
                break
    log.append(state_of(model, opt, sched))
    loaded = torch.load(tmp_path / f"ckpt{save_every * (steps // save_every)}.pt", weights_only=False)
    log.append(np_of(loaded))


def test_everything_interleaved(tmp_path):
    made, _ = check(everything_loop, tmp_path, max_recordings=4)
    assert len(made) == 2


def restore_loop(keep, compile, tmp_path, log, steps=300, save_every=30, restore_at=170):
    """Checkpoint every m steps; at ``restore_at`` load the last checkpoint into fresh objects and
    continue. ``keep``: the compiled step takes the objects as arguments (kept); otherwise it is
    made again around the fresh objects."""
    x, y = data()

    def make():
        model = mlp(p=0.1)
        opt = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.05)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.7)
        return model, opt, sched

    def raw_step(model, opt, xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.detach()

    model, opt, sched = make()
    step = compile(raw_step)
    g = torch.Generator().manual_seed(1)
    done, epoch = 0, 0
    last = None
    while done < steps:
        for xb, yb in batches(x, y, 8, g):
            log.append(np_of(step(model, opt, xb, yb)))
            done += 1
            if done % save_every == 0:
                last = tmp_path / f"c{done}.pt"
                torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                            "step": done, "epoch": epoch, "rng": torch.get_rng_state()}, last)
            if done == restore_at:
                ckpt = torch.load(last, weights_only=False)
                model, opt, sched = make()
                model.load_state_dict(ckpt["model"])
                opt.load_state_dict(ckpt["opt"])
                sched.load_state_dict(ckpt["sched"])
                torch.set_rng_state(ckpt["rng"])
                log.append(("restored", ckpt["step"], ckpt["epoch"]))
                if not keep:
                    step = compile(raw_step)
            if done == steps:
                break
        sched.step()
        epoch += 1
    log.append(state_of(model, opt, sched))


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "remade"])
def test_checkpoints_and_mid_run_restore(tmp_path, keep):
    check(lambda *a: restore_loop(keep, *a), tmp_path, max_recordings=6)


def restore_closure_loop(compile, tmp_path, log, steps=240, restore_at=130):
    """The compiled step reads model and optimizer from a holder object; the restore points the
    holder at fresh objects (the same compiled function is kept)."""
    x, y = data()

    class Holder:
        pass

    h = Holder()

    def make():
        h.model = mlp(bn=False, p=0.0)
        h.opt = torch.optim.Adam(h.model.parameters(), lr=0.02, amsgrad=True)
        h.sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(h.opt, T_0=3, T_mult=2, eta_min=1e-4)

    @compile
    def step(xb, yb):
        h.opt.zero_grad()
        loss = nn.functional.cross_entropy(h.model(xb), yb)
        loss.backward()
        h.opt.step()
        return loss.detach()

    make()
    g = torch.Generator().manual_seed(2)
    done, epoch = 0, 0
    while done < steps:
        parts = list(batches(x, y, 8, g))
        for i, (xb, yb) in enumerate(parts):
            log.append(np_of(step(xb, yb)))
            h.sched.step(epoch + i / len(parts))  # fractional epochs: per step
            done += 1
            if done % 20 == 0:
                torch.save({"model": h.model.state_dict(), "opt": h.opt.state_dict(), "sched": h.sched.state_dict()},
                           tmp_path / "last.pt")
            if done == restore_at:
                ckpt = torch.load(tmp_path / "last.pt", weights_only=False)
                make()
                h.model.load_state_dict(ckpt["model"])
                h.opt.load_state_dict(ckpt["opt"])
                h.sched.load_state_dict(ckpt["sched"])
            if done == steps:
                break
        epoch += 1
    log.append(state_of(h.model, h.opt, h.sched))


def test_restore_into_holder_kept_compiled_function(tmp_path):
    check(restore_closure_loop, tmp_path, max_recordings=6)


def scaler_loop(compile, tmp_path, log, steps=400, infs=(7, 8, 100, 101, 102, 250, 399)):
    """A CPU GradScaler with a short growth interval; inf gradients injected at chosen steps."""
    x, y = data()
    model = mlp(bn=True, p=0.0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.5)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 8, growth_interval=30)

    @compile
    def step(xb, yb, poison):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb) * poison
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        norm = nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        scaler.step(opt)
        scaler.update()
        return loss.detach(), norm

    g = torch.Generator().manual_seed(4)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):
            poison = torch.tensor(float("inf") if done in infs else 1.0)
            log.append(np_of(step(xb, yb, poison)))
            log.append(("scale", scaler.get_scale(), scaler._growth_tracker))
            done += 1
            if done == steps:
                break
    log.append(state_of(model, opt, scaler))


def test_grad_scaler_skips_injected_infs(tmp_path):
    check(scaler_loop, tmp_path, replays=False)


def schedule_loop(compile, tmp_path, log, steps=420, warmup=12, frozen_until=60, reset_at=200, eval_every=35):
    """Warm-up by hand in param_groups, early layers frozen then unfrozen, a weight re-initialised
    mid-run, an EMA model updated between calls, StepLR per epoch after warm-up, compiled eval."""
    x, y = data(n=20)
    model = mlp(p=0.25)
    ema = mlp(p=0.25)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.SGD([{"params": model[0].parameters(), "lr": 0.03},
                           {"params": list(model[1].parameters()) + list(model[4].parameters()), "lr": 0.06}],
                          momentum=0.9)
    base = [group["lr"] for group in opt.param_groups]
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.8)
    for p in model[0].parameters():
        p.requires_grad_(False)

    @compile
    def step(xb, yb):
        model.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 0.8)
        opt.step()
        return loss.detach()

    @compile
    def evaluate(net, xv, yv):
        net.eval()
        with torch.no_grad():
            out = net(xv)
            return nn.functional.cross_entropy(out, yv), out.argmax(1)

    def ema_update(decay=0.9):
        with torch.no_grad():
            for e, p in zip(ema.parameters(), model.parameters()):
                e.mul_(decay).add_(p.detach(), alpha=1 - decay)
            for e, b in zip(ema.buffers(), model.buffers()):
                e.copy_(b)

    g = torch.Generator().manual_seed(6)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 6, g):  # 6, 6, 6, 2
            if done < warmup:
                for group, lr in zip(opt.param_groups, base):
                    group["lr"] = lr * (done + 1) / warmup
            if done == frozen_until:
                for p in model[0].parameters():
                    p.requires_grad_(True)
            if done == reset_at:
                model[4].reset_parameters()
            log.append(np_of(step(xb, yb)))
            ema_update()
            done += 1
            if done % eval_every == 0:
                log.append(np_of(evaluate(model, x, y)))
                log.append(np_of(evaluate(ema, x, y)))
            if done == steps:
                break
        if done > warmup:
            sched.step()
    log.append(state_of(model, ema, opt, sched))


def test_warmup_freeze_reset_ema(tmp_path):
    check(schedule_loop, tmp_path, replays=False)


def long_replay_loop(compile, tmp_path, log, steps=1500):
    """1500 steps alternating a full and a smaller last batch, dropout, per-epoch scheduler: the
    step should keep two recordings (or so), not one per call."""
    x, y = data(n=10)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Dropout(0.3), nn.Linear(5, 3))
    opt = torch.optim.RMSprop(model.parameters(), lr=0.003, momentum=0.3)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=1)

    @compile
    def step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    g = torch.Generator().manual_seed(8)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):  # 8, 2
            log.append(np_of(step(xb, yb)))
            done += 1
        sched.step()
    log.append(state_of(model, opt, sched))


def test_long_run_keeps_few_recordings(tmp_path):
    made, _ = check(long_replay_loop, tmp_path, max_recordings=3)
    assert recordings(made[0]) <= 3
    assert len(made[0].recordings) <= 3, list(made[0].recordings)


def scaler_outside_loop(compile, tmp_path, log, steps=360, infs=(5, 6, 90, 91, 200, 359)):
    """Only forward and scaled backward are compiled; the scaler's unscale/clip/step/update run
    eagerly between calls, so the scale (a Python float the step reads) changes under it."""
    x, y = data()
    model = mlp(bn=True, p=0.1)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 6, growth_interval=40)

    @compile
    def forward_backward(xb, yb, poison):
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(xb), yb) * poison
        scaler.scale(loss).backward()
        return loss.detach()

    g = torch.Generator().manual_seed(9)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):
            poison = torch.tensor(float("inf") if done in infs else 1.0)
            log.append(np_of(forward_backward(xb, yb, poison)))
            scaler.unscale_(opt)
            log.append(np_of(nn.utils.clip_grad_norm_(model.parameters(), 1.0)))
            scaler.step(opt)
            scaler.update()
            log.append(("scale", scaler.get_scale()))
            done += 1
            if done == steps:
                break
    log.append(state_of(model, opt, scaler))


def test_grad_scaler_outside_compiled_step(tmp_path):
    check(scaler_outside_loop, tmp_path, replays=False)


def rollback_loop(compile, tmp_path, log, steps=330, save_every=25, rollback_every=80):
    """A checkpoint every m steps; every r steps the run "diverged" and rolls back: the last
    checkpoint is loaded into the SAME model, optimizer and scheduler (the compiled step is kept)."""
    x, y = data()
    model = mlp(p=0.15)
    opt = torch.optim.SGD(model.parameters(), lr=0.04, momentum=0.9, dampening=0.1)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.08, total_steps=steps + 10, cycle_momentum=True)

    @compile
    def step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.3, norm_type=1.0)
        opt.step()
        sched.step()
        return loss.detach()

    g = torch.Generator().manual_seed(10)
    for done in range(1, steps + 1):
        xb, yb = next(batches(x, y, 8, g))
        log.append(np_of(step(xb, yb)))
        if done % save_every == 0:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "last.pt")
        if done % rollback_every == 0:
            ckpt = torch.load(tmp_path / "last.pt", weights_only=False)
            model.load_state_dict(ckpt["model"])
            opt.load_state_dict(ckpt["opt"])
            sched.load_state_dict(ckpt["sched"])
            log.append(state_of(model, opt, sched))
    log.append(state_of(model, opt, sched))


def test_rollback_into_same_objects(tmp_path):
    check(rollback_loop, tmp_path, max_recordings=4)


def toggling_loop(compile, tmp_path, log, steps=400):
    """Freezing toggled every 37 steps, eval mode toggled outside the compiled functions every 23
    steps (evaluation through the same training step's model), reset_parameters every 90 steps,
    the EMA update compiled on its own, BatchNorm with cumulative averaging (momentum=None)."""
    x, y = data(n=21)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, momentum=None), nn.ReLU(), nn.Dropout(0.2), nn.Linear(6, 3))
    ema = torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(0.95), use_buffers=True)
    opt = torch.optim.AdamW(model.parameters(), lr=0.01)

    @compile
    def step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    @compile
    def ema_update():
        ema.update_parameters(model)

    @compile
    def predict(net, xv):
        with torch.no_grad():
            return net(xv)

    g = torch.Generator().manual_seed(11)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):  # 8, 8, 5
            if done % 37 == 0:
                frozen = (done // 37) % 2 == 1
                for p in model[0].parameters():
                    p.requires_grad_(not frozen)
            if done % 90 == 89:
                model[0].reset_parameters()
            log.append(np_of(step(xb, yb)))
            ema_update()
            done += 1
            if done % 23 == 0:
                model.eval()
                log.append(np_of(predict(model, x)))
                log.append(np_of(predict(ema, x)))
                model.train()
            if done == steps:
                break
    log.append(state_of(model, ema, opt))


def test_toggling_freeze_eval_reset_and_compiled_ema(tmp_path):
    check(toggling_loop, tmp_path, replays=False)


def accumulation_loop(compile, tmp_path, log, steps=600, accumulate=3):
    """Gradient accumulation across compiled calls (the optimizer step in a second compiled
    function every k calls), the loader's last batch smaller, StepLR per epoch."""
    x, y = data(n=19)
    model = mlp(p=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.8)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.9)

    @compile
    def accumulate_grad(xb, yb):
        loss = nn.functional.cross_entropy(model(xb), yb) / accumulate
        loss.backward()
        return loss.detach()

    @compile
    def update():
        norm = nn.utils.clip_grad_norm_(model.parameters(), 0.7)
        opt.step()
        opt.zero_grad()
        return norm

    g = torch.Generator().manual_seed(12)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 5, g):  # 5, 5, 5, 4
            log.append(np_of(accumulate_grad(xb, yb)))
            done += 1
            if done % accumulate == 0:
                log.append(np_of(update()))
            if done == steps:
                break
        sched.step()
    log.append(state_of(model, opt, sched))


def test_accumulation_over_epochs(tmp_path):
    made, _ = check(accumulation_loop, tmp_path, replays=False)
    for f in made:
        if f.eager_reason is None:
            assert recordings(f) <= 4


def test_memory_does_not_grow_over_a_long_compiled_run(tmp_path):
    """After the recordings are made, a further 1200 replays keep the number of live objects and
    the recordings the same."""
    import gc

    x, y = data(n=10)
    model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 3))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)

    @torch.compile
    def step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    g = torch.Generator().manual_seed(13)

    def epochs(n):
        for _ in range(n):
            for xb, yb in batches(x, y, 8, g):
                step(xb, yb)

    epochs(50)
    gc.collect()
    before = len(gc.get_objects())
    kept = recordings(step)
    epochs(600)
    gc.collect()
    after = len(gc.get_objects())
    assert recordings(step) == kept <= 3
    assert after - before < 200, (before, after)


def compiled_module_loop(compile, tmp_path, log, steps=320, restore_at=150):
    """``compile(model)`` (a compiled module) trained by an eager loop: backward, clipping and the
    optimizer outside; evaluation through the same compiled module in eval mode under no_grad;
    checkpoints of the compiled module's state dict restored into a fresh compiled module; the
    first layer frozen until step 60 and its weight re-initialised at step 200."""
    x, y = data()

    def make():
        inner = mlp(p=0.2)
        net = compile(inner)
        opt = torch.optim.Adam(net.parameters(), lr=0.01)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.02, total_steps=steps + 5)
        return inner, net, opt, sched

    inner, net, opt, sched = make()
    for p in inner[0].parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(14)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):
            if done == 60:
                for p in inner[0].parameters():
                    p.requires_grad_(True)
            if done == 200:
                inner[0].reset_parameters()
            net.train()
            opt.zero_grad()
            loss = nn.functional.cross_entropy(net(xb), yb)
            loss.backward()
            log.append((np_of(loss), np_of(nn.utils.clip_grad_norm_(net.parameters(), 0.5))))
            opt.step()
            sched.step()
            done += 1
            if done % 30 == 0:
                net.eval()
                with torch.no_grad():
                    log.append(np_of(net(x)))
                torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "c.pt")
            if done == restore_at:
                ckpt = torch.load(tmp_path / "c.pt", weights_only=False)
                inner, net, opt, sched = make()
                net.load_state_dict(ckpt["model"])
                opt.load_state_dict(ckpt["opt"])
                sched.load_state_dict(ckpt["sched"])
            if done == steps:
                break
    log.append(state_of(inner, opt, sched))


def test_compiled_module_with_eager_loop(tmp_path):
    check(compiled_module_loop, tmp_path, max_recordings=6)


def hand_schedule_loop(compile, tmp_path, log, steps=300):
    """Every hyper-parameter set by hand between calls through param_groups: lr warmed up over 100
    steps then cosine by hand, beta1 ramped, weight decay switched at 150, eps at 220."""
    import math

    x, y = data()
    model = mlp(p=0.1)
    opt = torch.optim.AdamW(model.parameters(), lr=0.0, betas=(0.8, 0.99), weight_decay=0.0)

    @compile
    def step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()
        return loss.detach()

    g = torch.Generator().manual_seed(15)
    done = 0
    while done < steps:
        for xb, yb in batches(x, y, 8, g):
            group = opt.param_groups[0]
            group["lr"] = 0.02 * (done + 1) / 100 if done < 100 else 0.01 * (1 + math.cos(math.pi * (done - 100) / 200))
            group["betas"] = (min(0.95, 0.8 + done * 0.001), 0.99)
            if done == 150:
                group["weight_decay"] = 0.1
            if done == 220:
                group["eps"] = 1e-6
            log.append(np_of(step(xb, yb)))
            done += 1
            if done == steps:
                break
    log.append(state_of(model, opt))


def test_hyper_parameters_set_by_hand_every_step(tmp_path):
    check(hand_schedule_loop, tmp_path, replays=False)


def dataloader_loop(compile, tmp_path, log, epochs=120):
    """The library's DataLoader (shuffled, a smaller last batch), CosineAnnealingWarmRestarts
    stepped inside the compiled step, BatchNorm and dropout, evaluation every 10 epochs."""
    from chainrule.utils.data import DataLoader, TensorDataset

    x, y = data(n=13)
    loader = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(16))
    model = mlp(p=0.3)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    sched = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=7, T_mult=2, eta_min=0.001)

    @compile
    def step(xb, yb):
        model.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xb), yb)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.4)
        opt.step()
        sched.step()
        return loss.detach()

    @compile
    def evaluate():
        model.eval()
        with torch.no_grad():
            return model(x)

    for epoch in range(epochs):
        for xb, yb in loader:  # 5, 5, 3
            log.append(np_of(step(xb, yb)))
        if epoch % 10 == 9:
            log.append(np_of(evaluate()))
    log.append(state_of(model, opt, sched))


def test_dataloader_epochs(tmp_path):
    made, _ = check(dataloader_loop, tmp_path, max_recordings=3)
