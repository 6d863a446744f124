"""chainrule.compile against eager execution where state is SAVED AND LOADED between (and inside)
compiled calls: chainrule.save / chainrule.load of model, optimizer and scheduler state dicts,
load_state_dict (in place, assign=True, strict=False), rewinding to an older checkpoint, optimizer
state loaded into a fresh optimizer, add_param_group, resumed schedulers, saving inside the step,
state dicts returned from the step, copy.deepcopy of the model, pickling compiled modules, and
Runner(compile=True) with its save_model / load_model.

Each scenario runs the same workflow from the same seed eagerly
and once with ``torch.compile(step)``; every returned value, parameter, gradient, buffer,
optimizer / scheduler state and checkpoint read back is compared bit for bit. Falling back to eager
with at most one warning is allowed; a different value is not."""
import copy
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.optim import lr_scheduler
from tests.compile.bitwise import assert_identical

CALLS = 6


# ----------------------------------------------------------------------------- the harness
def snap(value, history=True):
    """A deep copy of ``value`` with every tensor made (values, requires_grad, grad values); without
    ``history`` values only (a replayed call returns its tensors without their spent history)."""
    if isinstance(value, Returned):
        return ("returned", snap(value.value, history=False))
    if isinstance(value, torch.Tensor):
        if not history:
            return ("tensor", np.array(value.detach().numpy(), copy=True))
        grad = None if not value.is_leaf or value.grad is None else np.array(value.grad.detach().numpy(), copy=True)
        return ("tensor", np.array(value.detach().numpy(), copy=True), value.requires_grad, grad)
    if isinstance(value, dict):
        return {key: snap(item, history) for key, item in value.items()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple (IncompatibleKeys)
        return (type(value).__name__, tuple(snap(item, history) for item in value))
    if isinstance(value, (list, tuple)):
        return type(value)(snap(item, history) for item in value)
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, (np.floating, np.integer)):
        return ("numpy scalar", type(value).__name__, np.asarray(value).tobytes())
    return value


class Returned:
    """What a step returned: compared by value only."""

    def __init__(self, value):
        self.value = value


def R(value):
    return snap(Returned(value))


def model_state(model):
    return {
        "params": [snap(p) for p in model.parameters()],
        "buffers": [snap(b) for b in model.buffers()],
        "training": model.training,
    }


def opt_state(opt):
    return snap(opt.state_dict())


def sched_state(sched):
    return snap({key: value for key, value in sched.state_dict().items() if not callable(value)})


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.bn = nn.BatchNorm1d(6)
        self.fc2 = nn.Linear(6, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.bn(self.fc1(x))))


def batches(n=CALLS):
    return [(torch.randn(5, 4), torch.randint(0, 3, (5,))) for _ in range(n)]


def train_step(model, opt, sched=None):
    def step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return loss

    return step


def _run(scenario, wrap, directory):
    directory.mkdir()
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = scenario(wrap, directory)
    log = snap(log)
    log.append(("random stream after", snap(torch.rand(3))))
    return log, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def check(scenario, tmp_path, max_warnings=1):
    eager, _ = _run(scenario, lambda f: f, tmp_path / "eager1")
    compiled, warned = _run(scenario, torch.compile, tmp_path / "compiled")
    assert_identical(compiled, eager)
    assert len(warned) <= max_warnings, warned
    return warned


# ----------------------------------------------------------------------------- scenarios
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
@pytest.mark.parametrize("optimizer", ["sgd_momentum", "adam"])
def test_save_then_rewind_to_an_older_checkpoint(tmp_path, suffix, optimizer):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if optimizer == "sgd_momentum" else optim.Adam(model.parameters(), lr=0.01)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
            if i == 2:
                torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, d / f"ckpt{suffix}")
        # rewind: back to the checkpoint after call 2 and train again
        ckpt = torch.load(d / f"ckpt{suffix}")
        log.append(snap(ckpt))
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["opt"])
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


def test_load_state_dict_assign_true_between_calls(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(2):
            log.append(R(step(*data[i])))
        torch.save(model.state_dict(), d / "m.pt")
        for i in range(2, 4):
            log.append(R(step(*data[i])))
        # assign=True: the model now holds the checkpoint's tensors; the optimizer the old ones
        model.load_state_dict(torch.load(d / "m.pt"), assign=True)
        for i in range(4, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
            log.append([snap(p) for g in opt.param_groups for p in g["params"]])
        return log

    check(scenario, tmp_path)


def test_load_state_dict_assign_true_then_fresh_optimizer_through_a_holder(tmp_path):
    class H:
        pass

    def scenario(wrap, d):
        h = H()
        h.model = Net()
        h.opt = optim.Adam(h.model.parameters(), lr=0.01)

        def step(x, y):
            h.opt.zero_grad()
            loss = F.cross_entropy(h.model(x), y)
            loss.backward()
            h.opt.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        torch.save({"m": h.model.state_dict(), "o": h.opt.state_dict()}, d / "c.pt")
        log.append(R(step(*data[3])))
        ckpt = torch.load(d / "c.pt")
        h.model.load_state_dict(ckpt["m"], assign=True)
        h.opt = optim.Adam(h.model.parameters(), lr=0.01)
        h.opt.load_state_dict(ckpt["o"])
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(h.model))
            log.append(opt_state(h.opt))
        return log

    check(scenario, tmp_path)


def test_strict_false_with_missing_keys(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(2):
            log.append(R(step(*data[i])))
        partial = {k: v for k, v in model.state_dict().items() if k.startswith("fc1.")}
        torch.save(partial, d / "part.safetensors")
        for i in range(2, 4):
            log.append(R(step(*data[i])))
        result = model.load_state_dict(torch.load(d / "part.safetensors"), strict=False)
        log.append((sorted(result[0]), sorted(result[1])))
        for i in range(4, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("direction", ["filled_into_empty", "empty_into_filled"])
def test_optimizer_state_filled_versus_empty(tmp_path, direction):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        donor = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        data = batches()
        if direction == "filled_into_empty":
            # give the donor momentum buffers by stepping it eagerly once
            F.cross_entropy(model(data[0][0]), data[0][1]).backward()
            donor.step()
            donor.zero_grad()
        torch.save(donor.state_dict(), d / "o.pt")
        step = wrap(train_step(model, opt))
        log = []
        if direction == "filled_into_empty":
            opt.load_state_dict(torch.load(d / "o.pt"))
        for i in range(3):
            log.append(R(step(*data[i])))
            log.append(opt_state(opt))
        if direction == "empty_into_filled":
            opt.load_state_dict(torch.load(d / "o.pt"))  # momentum buffers gone
            log.append(opt_state(opt))
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("kind", ["sgd", "adamw"])
def test_checkpoint_with_a_different_lr(tmp_path, kind):
    def scenario(wrap, d):
        model = Net()
        make = (lambda: optim.SGD(model.parameters(), lr=0.1, momentum=0.5)) if kind == "sgd" else (lambda: optim.AdamW(model.parameters(), lr=0.01))
        opt = make()
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        sd = opt.state_dict()
        sd["param_groups"][0]["lr"] = 0.5 if kind == "sgd" else 0.1
        if kind == "adamw":
            sd["param_groups"][0]["weight_decay"] = 0.3
        torch.save(sd, d / "o.pt")
        sd["param_groups"][0]["lr"] = 0.1 if kind == "sgd" else 0.01  # the live dict put back
        if kind == "adamw":
            sd["param_groups"][0]["weight_decay"] = 0.01
        opt.load_state_dict(torch.load(d / "o.pt"))
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


def test_add_param_group_between_calls(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(list(model.fc1.parameters()) + list(model.bn.parameters()), lr=0.1, momentum=0.9)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
        opt.add_param_group({"params": list(model.fc2.parameters()), "lr": 0.05})
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
        torch.save(opt.state_dict(), d / "o.pt")
        log.append(torch.load(d / "o.pt"))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("kind", ["step", "onecycle"])
def test_scheduler_inside_step_resumed_from_state_dict(tmp_path, kind):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        if kind == "step":
            sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        else:
            sched = lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=3 * CALLS)
        step = wrap(train_step(model, opt, sched))
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(*data[i])))
            log.append(sched_state(sched))
            log.append(opt_state(opt))
            if i == 1:
                torch.save({"m": model.state_dict(), "o": opt.state_dict(), "s": sched.state_dict()}, d / "c.pt")
        ckpt = torch.load(d / "c.pt")
        model.load_state_dict(ckpt["m"])
        opt.load_state_dict(ckpt["o"])
        sched.load_state_dict(ckpt["s"])
        log.append(sched_state(sched))
        for i in range(2, CALLS):
            log.append(R(step(*data[i])))
            log.append(sched_state(sched))
            log.append(opt_state(opt))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


def test_fresh_scheduler_resumed_through_a_holder(tmp_path):
    class H:
        pass

    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        h = H()
        h.sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            h.sched.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        torch.save({"o": opt.state_dict(), "s": h.sched.state_dict()}, d / "c.pt")
        ckpt = torch.load(d / "c.pt")
        h.sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)  # resets lr through initial_lr
        opt.load_state_dict(ckpt["o"])
        h.sched.load_state_dict(ckpt["s"])
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(sched_state(h.sched))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_reduce_lr_on_plateau_resumed(tmp_path, where):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5, threshold=10.0)

        def step(x, y, metric=None):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if metric is not None:
                sched.step(metric)
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(CALLS):
            if where == "inside":
                loss = step(*data[i], metric=torch.tensor(1.0 + i))
            else:
                loss = step(*data[i])
                sched.step(loss.item())
            log.append(R(loss))
            log.append(sched_state(sched))
            log.append(opt_state(opt))
            if i == 2:
                torch.save({"o": opt.state_dict(), "s": sched.state_dict()}, d / "c.pt")
        ckpt = torch.load(d / "c.pt")
        opt.load_state_dict(ckpt["o"])
        sched.load_state_dict(ckpt["s"])
        for i in range(3, CALLS):
            loss = step(*data[i])
            sched.step(float(i))
            log.append(R(loss))
            log.append(sched_state(sched))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("what", ["model", "optimizer", "both"])
def test_torch_save_inside_the_step_writes_current_values(tmp_path, what):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, path):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            if what == "model":
                torch.save(model.state_dict(), path)
            elif what == "optimizer":
                torch.save(opt.state_dict(), path)
            else:
                torch.save({"m": model.state_dict(), "o": opt.state_dict(), "loss": loss}, path)
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(*data[i], str(d / "each.pt"))))
            log.append(torch.load(d / "each.pt"))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


def test_torch_save_inside_the_step_to_a_fixed_path_reloaded_after_each_call(tmp_path):
    paths = {}

    def scenario(wrap, d):
        paths["p"] = d / "fixed.safetensors"
        model = Net()
        opt = optim.Adam(model.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(model(x), torch.zeros(5, 3))
            loss.backward()
            opt.step()
            torch.save({"w": model.fc2.weight, "grad": model.fc2.weight.grad, "exp_avg": opt.state[model.fc2.weight]["exp_avg"]}, paths["p"])
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(data[i][0], data[i][1])))
            log.append(torch.load(paths["p"]))
        return log

    check(scenario, tmp_path)


def test_torch_load_inside_the_step_reads_the_file_of_this_call(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        path = d / "init.pt"

        def step(x, y):
            model.load_state_dict(torch.load(path))  # restart every call from the file
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(CALLS):
            with torch.no_grad():
                for p in model.parameters():
                    p.mul_(0.5).add_(0.1 * i)
            torch.save(model.state_dict(), path)  # a different file each call
            log.append(R(step(*data[i])))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("which", ["model", "optimizer"])
def test_state_dict_returned_from_the_step_aliases_as_eagerly(tmp_path, which):
    """A state dict's tensors alias the live parameters / buffers eagerly; returned from a replayed
    step, snapshots taken at the END of the run must agree."""

    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss, (model.state_dict() if which == "model" else opt.state_dict())

        step = wrap(step)
        data = batches()
        kept = []
        log = []
        for i in range(CALLS):
            loss, sd = step(*data[i])
            log.append(R(loss))
            log.append(R(sd))  # snapshot now
            kept.append(sd)
        log.append(("kept, snapped at the end", R(kept)))
        return log

    check(scenario, tmp_path)


def test_state_dict_returned_then_loaded_into_the_model_later(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return {k: v.clone() for k, v in model.state_dict().items()}

        step = wrap(step)
        data = batches()
        log = []
        saved = []
        for i in range(CALLS):
            saved.append(step(*data[i]))
            log.append(R(saved[-1]))
        model.load_state_dict(saved[1])
        for i in range(3):
            log.append(R(step(*data[i])))
        return log

    check(scenario, tmp_path)


def test_deepcopy_of_the_model_between_calls(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(2):
            log.append(R(step(*data[i])))
        twin = copy.deepcopy(model)
        twin_opt = optim.SGD(twin.parameters(), lr=0.3)
        for i in range(2, CALLS):
            log.append(R(step(*data[i])))
            # the copy trains on its own, eagerly
            twin_opt.zero_grad()
            F.cross_entropy(twin(data[i][0]), data[i][1]).backward()
            twin_opt.step()
            log.append(model_state(model))
            log.append(model_state(twin))
        # and a rewind from the copy
        model.load_state_dict(twin.state_dict())
        log.append(R(step(*data[0])))
        log.append(model_state(model))
        log.append(model_state(twin))
        return log

    check(scenario, tmp_path)


def test_deepcopy_of_the_model_and_optimizer_as_a_snapshot_restored(tmp_path):
    class H:
        pass

    def scenario(wrap, d):
        h = H()
        h.model = Net()
        h.opt = optim.Adam(h.model.parameters(), lr=0.01)

        def step(x, y):
            h.opt.zero_grad()
            loss = F.cross_entropy(h.model(x), y)
            loss.backward()
            h.opt.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        snapshot = copy.deepcopy((h.model, h.opt))
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
        h.model, h.opt = snapshot  # restore the snapshot objects themselves
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(h.model))
            log.append(opt_state(h.opt))
        return log

    check(scenario, tmp_path)


def test_compiled_module_pickled_and_loaded(tmp_path):
    def scenario(wrap, d):
        model = Net()
        cmodel = wrap(model)
        opt = optim.SGD(cmodel.parameters(), lr=0.1)
        data = batches()
        log = []
        for i in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(cmodel(data[i][0]), data[i][1])
            loss.backward()
            opt.step()
            log.append(loss)
        torch.save(cmodel, d / "whole.pt")
        log.append(sorted(key.removeprefix("_orig_mod.") for key in cmodel.state_dict()))  # documented prefix
        loaded = torch.load(d / "whole.pt", weights_only=False)
        opt2 = optim.SGD(loaded.parameters(), lr=0.1)
        for i in range(3, CALLS):
            opt2.zero_grad()
            loss = F.cross_entropy(loaded(data[i][0]), data[i][1])
            loss.backward()
            opt2.step()
            log.append(loss)
            log.append(model_state(loaded))
            log.append(model_state(model))  # the original is untouched
        return log

    check(scenario, tmp_path)


def test_module_compile_in_place_pickled_and_loaded(tmp_path):
    def scenario(wrap, d):
        model = Net()
        if wrap is torch.compile:
            model.compile()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        data = batches()
        log = []
        for i in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(model(data[i][0]), data[i][1])
            loss.backward()
            opt.step()
            log.append(loss)
        torch.save({"model": model, "opt": opt.state_dict()}, d / "whole.pt")
        ckpt = torch.load(d / "whole.pt", weights_only=False)
        loaded = ckpt["model"]
        opt2 = optim.SGD(loaded.parameters(), lr=0.1, momentum=0.9)
        opt2.load_state_dict(ckpt["opt"])
        for i in range(3, CALLS):
            opt2.zero_grad()
            loss = F.cross_entropy(loaded(data[i][0]), data[i][1])
            loss.backward()
            opt2.step()
            log.append(loss)
            log.append(model_state(loaded))
            log.append(opt_state(opt2))
        return log

    check(scenario, tmp_path)


def test_pickled_compiled_step_function(tmp_path):
    """A compiled module-level-like step (a bound method of a picklable object) saved and loaded."""

    def scenario(wrap, d):
        trainer = Trainer()
        step = wrap(trainer.step)
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        torch.save({"step": step, "trainer": trainer}, d / "step.pt")
        ckpt = torch.load(d / "step.pt", weights_only=False)
        step2 = ckpt["step"]
        for i in range(3, CALLS):
            log.append(R(step2(*data[i])))
            log.append(model_state(step2.__self__.model if hasattr(step2, "__self__") else ckpt["trainer"].model))
            log.append(model_state(trainer.model))
        return log

    check(scenario, tmp_path)


class Trainer:
    def __init__(self):
        self.model = Net()
        self.opt = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)

    def step(self, x, y):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss


def test_optimizer_state_tensors_replaced_by_loading_keep_being_updated(tmp_path):
    """load_state_dict replaces opt.state's buffers by copies: the program must update the new ones,
    and the tensors the caller got from the old state dict must stay as eagerly."""

    def scenario(wrap, d):
        model = Net()
        opt = optim.Adam(model.parameters(), lr=0.01)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        old = opt.state_dict()
        opt.load_state_dict(copy.deepcopy(old))
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(opt_state(opt))
        log.append(("old live dict", snap(old)))
        return log

    check(scenario, tmp_path)


def test_load_model_state_from_a_file_written_by_pytorch_layout_keys(tmp_path):
    """A checkpoint loaded with map_location and mmap flags, between calls."""

    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        log.append(R(step(*data[0])))
        torch.save(model.state_dict(), d / "m.pt")
        for i in range(1, CALLS):
            log.append(R(step(*data[i])))
            if i % 2 == 0:
                model.load_state_dict(torch.load(d / "m.pt", map_location="cpu", weights_only=True))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


def test_eval_mode_checkpoint_between_calls(tmp_path):
    """A checkpoint saved and evaluated in eval mode between train-mode compiled calls."""

    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(*data[i])))
            model.eval()
            with torch.no_grad():
                log.append(model(data[0][0]))
            torch.save(model.state_dict(), d / f"e{i}.pt")
            model.train()
            if i == 3:
                model.load_state_dict(torch.load(d / "e1.pt"))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


# ----------------------------------------------------------------------------- Runner
def test_runner_compiled_save_and_load_model_mid_training(tmp_path):
    from chainrule.train import Runner

    def scenario(wrap, d):
        compiled = wrap is torch.compile
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        runner = Runner(model, opt, nn.CrossEntropyLoss(), compile=compiled)
        X, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
        runner.train((X, y), num_epochs=3, log_steps=0)
        runner.save_model(d / "r.pt")
        opt_ckpt = copy.deepcopy(opt.state_dict())
        runner.train((X, y), num_epochs=2, log_steps=0)
        runner.load_model(d / "r.pt")
        opt.load_state_dict(opt_ckpt)
        runner.train((X, y), num_epochs=3, log_steps=0, save_path=d / "final.pt")
        return [runner.train_step_losses, runner.train_epoch_losses, model_state(model), opt_state(opt), torch.load(d / "final.pt")]

    check(scenario, tmp_path)


def test_runner_compiled_resumed_in_a_fresh_runner_with_best_checkpoint(tmp_path):
    from chainrule.train import Accuracy, Runner

    def scenario(wrap, d):
        compiled = wrap is torch.compile
        X, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
        Xd, yd = torch.randn(6, 4), torch.randint(0, 3, (6,))
        model = Net()
        opt = optim.Adam(model.parameters(), lr=0.05)
        runner = Runner(model, opt, nn.CrossEntropyLoss(), metric=Accuracy(), compile=compiled)
        runner.train((X, y), dev_data=(Xd, yd), num_epochs=3, log_steps=0, save_path=d / "best.pt")
        torch.save(opt.state_dict(), d / "opt.pt")
        model2 = Net()
        opt2 = optim.Adam(model2.parameters(), lr=0.05)
        runner2 = Runner(model2, opt2, nn.CrossEntropyLoss(), metric=Accuracy(), compile=compiled)
        runner2.load_model(d / "best.pt")
        opt2.load_state_dict(torch.load(d / "opt.pt"))
        runner2.train((X, y), dev_data=(Xd, yd), num_epochs=3, log_steps=0, save_path=d / "best2.pt")
        return [
            runner.train_step_losses, runner.dev_losses, runner.dev_scores,
            runner2.train_step_losses, runner2.dev_losses, runner2.dev_scores,
            model_state(model2), opt_state(opt2), torch.load(d / "best.pt"), torch.load(d / "best2.pt"),
        ]

    check(scenario, tmp_path)


def test_state_dict_taken_before_the_calls_follows_in_place_updates(tmp_path):
    """model.state_dict() / opt.state_dict() kept from before the calls alias the live tensors."""

    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = wrap(train_step(model, opt))
        data = batches()
        log = [R(step(*data[0]))]
        msd, osd = model.state_dict(), opt.state_dict()
        for i in range(1, CALLS):
            log.append(R(step(*data[i])))
            log.append(R(msd))
            log.append(R(osd))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("what", ["model", "optimizer"])
def test_load_state_dict_inside_the_step_from_an_argument(tmp_path, what):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y, sd):
            if what == "model":
                model.load_state_dict(sd)
            else:
                opt.load_state_dict(sd)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        F.cross_entropy(model(data[0][0]), data[0][1]).backward()
        opt.step()  # fill the momentum buffers
        for i in range(CALLS):
            source = model.state_dict() if what == "model" else opt.state_dict()
            sd = copy.deepcopy(source)
            if what == "model":
                sd["fc2.bias"] = sd["fc2.bias"] + 0.25 * i
            else:
                sd["param_groups"][0]["lr"] = 0.1 / (i + 1)
                sd["state"][0]["momentum_buffer"] = sd["state"][0]["momentum_buffer"] * (i + 1)
            torch.save(sd, d / "arg.pt")
            log.append(R(step(*data[i], torch.load(d / "arg.pt"))))
            log.append(model_state(model))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("kind", [
    "sched_state_dict",
    "opt_lr",
    "opt_state_dict",
])
def test_scheduler_and_optimizer_state_returned_after_a_scheduler_step(tmp_path, kind):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            sched.step()
            if kind == "sched_state_dict":
                return loss, sched.state_dict()
            if kind == "opt_lr":
                return loss, opt.param_groups[0]["lr"]
            return loss, opt.state_dict()

        step = wrap(step)
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(*data[i])))
            if i == 2:
                torch.save(sched.state_dict(), d / "s.pt")
            if i == 4:
                sched.load_state_dict(torch.load(d / "s.pt"))
            log.append(sched_state(sched))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("how", ["compile_in_place", "compiled_wrapper"])
def test_deepcopy_of_a_compiled_module_trains_its_own_parameters(tmp_path, how):
    def scenario(wrap, d):
        model = Net()
        compiled = wrap is torch.compile
        if how == "compile_in_place":
            if compiled:
                model.compile()
            net = model
        else:
            net = wrap(model)
        opt = optim.SGD(net.parameters(), lr=0.1)
        data = batches()
        log = []
        for i in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(net(data[i][0]), data[i][1])
            loss.backward()
            opt.step()
            log.append(R(loss))
        twin = copy.deepcopy(net)
        twin_opt = optim.SGD(twin.parameters(), lr=0.2)
        for i in range(3, CALLS):
            twin_opt.zero_grad()
            loss = F.cross_entropy(twin(data[i][0]), data[i][1])
            loss.backward()
            twin_opt.step()
            log.append(R(loss))
            log.append(model_state(twin))
            log.append(model_state(model))  # the original: untouched by the twin's training
            opt.zero_grad()
            loss = F.cross_entropy(net(data[i][0]), data[i][1])
            loss.backward()
            opt.step()
            log.append(R(loss))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("assign", [False, True])
def test_compiled_forward_with_checkpoint_loaded_between_calls(tmp_path, assign):
    """model.compile() (backward outside the compiled call), a checkpoint loaded in between."""

    def scenario(wrap, d):
        model = Net()
        if wrap is torch.compile:
            model.compile()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        data = batches()
        log = []
        for i in range(CALLS):
            opt.zero_grad()
            loss = F.cross_entropy(model(data[i][0]), data[i][1])
            loss.backward()
            opt.step()
            log.append(R(loss))
            log.append(model_state(model))
            if i == 1:
                torch.save(model.state_dict(), d / "m.safetensors")
            if i == 3:
                result = model.load_state_dict(torch.load(d / "m.safetensors"), assign=assign)
                log.append(result)
                if assign:
                    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return log

    check(scenario, tmp_path)


def test_assign_true_with_a_float64_checkpoint_changes_dtypes(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)

        class H:
            pass

        h = H()
        h.opt = opt

        def step(x, y):
            h.opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            h.opt.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        torch.save({k: v.double() for k, v in model.state_dict().items()}, d / "m64.pt")
        model.load_state_dict(torch.load(d / "m64.pt"), assign=True)
        h.opt = optim.SGD(model.parameters(), lr=0.1)
        for i in range(3, CALLS):
            log.append(R(step(data[i][0].double(), data[i][1])))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


def test_compiled_wrapper_state_dict_loaded_into_the_original_and_back(tmp_path):
    def scenario(wrap, d):
        model = Net()
        net = wrap(model)
        opt = optim.Adam(net.parameters(), lr=0.01)
        data = batches()
        log = []
        for i in range(CALLS):
            opt.zero_grad()
            loss = F.cross_entropy(net(data[i][0]), data[i][1])
            loss.backward()
            opt.step()
            log.append(R(loss))
            if i == 1:
                sd = {k.removeprefix("_orig_mod."): v for k, v in net.state_dict().items()}
                torch.save(sd, d / "plain.pt")
                torch.save(opt.state_dict(), d / "opt.pt")
            if i == 3:
                model.load_state_dict(torch.load(d / "plain.pt"))  # into the original: the wrapper shares it
                opt.load_state_dict(torch.load(d / "opt.pt"))
            log.append(model_state(model))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("change", ["sgd_momentum_on", "sgd_nesterov_on", "adam_amsgrad_on", "adam_empty_state", "adam_maximize"])
def test_checkpoint_from_an_optimizer_with_other_settings(tmp_path, change):
    """The loaded param_groups turn on settings (and bring state) the recording did not have."""

    def scenario(wrap, d):
        model = Net()
        data = batches()
        if change.startswith("sgd"):
            opt = optim.SGD(model.parameters(), lr=0.1)
            donor = optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=change == "sgd_nesterov_on")
        else:
            opt = optim.Adam(model.parameters(), lr=0.01)
            donor = optim.Adam(model.parameters(), lr=0.02, amsgrad=change == "adam_amsgrad_on", maximize=change == "adam_maximize")
        if change != "adam_empty_state":
            F.cross_entropy(model(data[0][0]), data[0][1]).backward()
            donor.step()
            donor.zero_grad()
        torch.save(donor.state_dict(), d / "donor.pt")
        step = wrap(train_step(model, opt))
        log = []
        for i in range(3):
            log.append(R(step(*data[i])))
        opt.load_state_dict(torch.load(d / "donor.pt"))
        for i in range(3, CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            log.append(opt_state(opt))
        return log

    check(scenario, tmp_path)


@pytest.mark.parametrize("momentum", [None, 0.1])
def test_batch_norm_statistics_rewound_by_a_checkpoint(tmp_path, momentum):
    """BatchNorm's num_batches_tracked (and with momentum=None the cumulative average it drives) rewound."""

    def scenario(wrap, d):
        model = Net()
        model.bn.momentum = momentum
        opt = optim.SGD(model.parameters(), lr=0.1)
        step = wrap(train_step(model, opt))
        data = batches()
        log = []
        for i in range(CALLS):
            log.append(R(step(*data[i])))
            log.append(model_state(model))
            if i == 1:
                torch.save(model.state_dict(), d / "bn.pt")
            if i == 3:
                model.load_state_dict(torch.load(d / "bn.pt"))
        return log

    check(scenario, tmp_path)


class SelfCompiling:
    """An object that keeps its own compiled step as an attribute (deep-copied with it)."""

    def __init__(self, wrap):
        self.model = Net()
        self.opt = optim.SGD(self.model.parameters(), lr=0.1, momentum=0.9)
        self.fast_step = wrap(self.step)

    def step(self, x, y):
        self.opt.zero_grad()
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.opt.step()
        return loss


def test_deepcopy_of_an_object_holding_its_compiled_step(tmp_path):
    def scenario(wrap, d):
        trainer = SelfCompiling(wrap)
        data = batches()
        log = []
        for i in range(3):
            log.append(R(trainer.fast_step(*data[i])))
        twin = copy.deepcopy(trainer)
        for i in range(3, CALLS):
            log.append(R(twin.fast_step(*data[i])))
            log.append(model_state(twin.model))
            log.append(model_state(trainer.model))
            log.append(R(trainer.fast_step(*data[i])))
            log.append(model_state(trainer.model))
            log.append(opt_state(twin.opt))
        torch.save(twin, d / "twin.pt")
        loaded = torch.load(d / "twin.pt", weights_only=False)
        log.append(R(loaded.fast_step(*data[0])))
        log.append(R(loaded.fast_step(*data[1])))
        log.append(model_state(loaded.model))
        log.append(model_state(twin.model))
        return log

    check(scenario, tmp_path)


def test_deepcopy_of_a_model_whose_forward_is_a_compiled_attribute(tmp_path):
    def scenario(wrap, d):
        model = Net()
        model.forward = wrap(model.forward)
        opt = optim.SGD(model.parameters(), lr=0.1)
        data = batches()
        log = []

        def train(net, optimizer, i):
            optimizer.zero_grad()
            loss = F.cross_entropy(net(data[i][0]), data[i][1])
            loss.backward()
            optimizer.step()
            return R(loss)

        for i in range(3):
            log.append(train(model, opt, i))
        twin = copy.deepcopy(model)
        twin_opt = optim.SGD(twin.parameters(), lr=0.3)
        for i in range(3, CALLS):
            log.append(train(twin, twin_opt, i))
            log.append(train(model, opt, i))
            log.append(model_state(twin))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)


def test_weights_only_load_of_a_pickled_compiled_module_refuses_as_eagerly(tmp_path):
    def scenario(wrap, d):
        model = Net()
        net = wrap(model)
        net(torch.randn(5, 4))
        torch.save(net, d / "net.pt")
        try:
            torch.load(d / "net.pt")
            outcome = "loaded"
        except Exception as error:  # noqa: BLE001
            outcome = type(error).__name__
        return [outcome]

    check(scenario, tmp_path)


def test_deepcopy_of_a_compiled_runner_then_both_train(tmp_path):
    from chainrule.train import Runner

    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        runner = Runner(model, opt, nn.CrossEntropyLoss(), compile=wrap is torch.compile)
        X, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
        runner.train((X, y), num_epochs=3, log_steps=0)
        twin = copy.deepcopy(runner)
        twin.train((X, y), num_epochs=3, log_steps=0)
        runner.train((X, y), num_epochs=2, log_steps=0)
        return [runner.train_step_losses, twin.train_step_losses, model_state(model), model_state(twin.model), opt_state(twin.optimizer)]

    check(scenario, tmp_path)


def test_torch_load_of_python_numbers_inside_the_step(tmp_path):
    def scenario(wrap, d):
        model = Net()
        opt = optim.SGD(model.parameters(), lr=0.1)
        path = d / "cfg.pt"

        def step(x, y):
            cfg = torch.load(path)
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y) * cfg["scale"]
            loss.backward()
            opt.step()
            return loss

        step = wrap(step)
        data = batches()
        log = []
        for i in range(CALLS):
            torch.save({"scale": 1.0 + i}, path)
            log.append(R(step(*data[i])))
            log.append(model_state(model))
        return log

    check(scenario, tmp_path)
