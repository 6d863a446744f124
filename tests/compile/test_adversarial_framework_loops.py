"""Training code shaped the way frameworks shape it (a LightningModule-like class with a mini
Trainer, a Keras-like fit/predict/evaluate, an sklearn-like estimator, callbacks between steps),
written in plain Python over ``import chainrule as torch`` with chainrule.compile applied to the
pieces. Each workflow runs eagerly and compiled once from the same
seed; returned values, logs, parameters, gradients, optimizer/scheduler state, checkpoints and the
random stream must be the same bits. A compiled run may fall back with at most one warning."""
import contextlib
import io
import re
import warnings
import weakref

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.random import get_rng_state
from chainrule.utils.data import DataLoader, TensorDataset
from tests.compile.bitwise import assert_identical

F = nn.functional


# ----------------------------------------------------------------------------- harness
def arr(t):
    if t is None:
        return None
    if hasattr(t, "detach"):
        return np.array(t.detach().numpy(), copy=True)
    return np.array(t, copy=True)


def plain(value):
    if isinstance(value, (torch.Tensor, np.ndarray)):
        return arr(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def snapshot(model, optimizer=None, scheduler=None):
    clean = lambda name: name.replace("_orig_mod.", "")  # noqa: E731  (torch.compile(module) keys)
    out = {
        "params": {clean(name): arr(p) for name, p in model.named_parameters()},
        "grads": {clean(name): arr(p.grad) for name, p in model.named_parameters()},
        "state": {clean(name): v for name, v in model.state_dict().items()},
    }
    if optimizer is not None:
        out["optimizer"] = optimizer.state_dict()
    if scheduler is not None:
        out["scheduler"] = scheduler.state_dict()
    return plain(out)


FALLBACKS = {}


def eager_then_compiled(workflow, name=None):
    """``workflow(compiled)`` eagerly, then compiled; returns the compiled run's warnings."""
    out = []
    for compiled in (False, True):
        buffer = io.StringIO()
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(buffer):
            warnings.simplefilter("always")
            torch.manual_seed(0)
            np.random.seed(0)
            result = workflow(compiled)
            result = (plain(result), arr(get_rng_state()))
        out.append((result, buffer.getvalue(), [str(w.message) for w in caught]))
    (first, text1, msgs1), (third, text3, msgs3) = out
    assert_identical(third, first, "compiled")
    assert text3 == text1
    assert [m for m in msgs1 if "chainrule.compile" in m] == []
    fallbacks = [m for m in msgs3 if "chainrule.compile" in m]
    names = [re.match(r"chainrule\.compile: (.*?) runs eagerly", m).group(1) for m in fallbacks]
    assert len(names) == len(set(names)), fallbacks  # at most one warning per compiled function
    if name is not None:
        FALLBACKS[name] = fallbacks
    return fallbacks


def data(n=40, d=4, classes=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return X, y


def net(d=4, h=8, classes=3, dropout=0.0, bn=False):
    layers = [nn.Linear(d, h)]
    if bn:
        layers.append(nn.BatchNorm1d(h))
    layers.append(nn.ReLU())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(h, classes))
    return nn.Sequential(*layers)


# ----------------------------------------------------------------------------- Lightning-like
class LitModule(nn.Module):
    automatic_optimization = True

    def __init__(self, lr=0.1, dropout=0.0, bn=False, opt="sgd", sched=None, interval="step"):
        super().__init__()
        self.model = net(dropout=dropout, bn=bn)
        self.lr = lr
        self.opt_kind = opt
        self.sched_kind = sched
        self.interval = interval
        self.logged = {}
        self.history = []
        self._trainer = lambda: None
        self.log_inside = True

    @property
    def trainer(self):
        return self._trainer()

    def log(self, name, value):
        value = value.detach() if isinstance(value, torch.Tensor) else value
        trainer = self.trainer
        if trainer is not None and trainer.lean:  # the trainer keeps the logs, out of the module
            trainer.logged[name] = value
            trainer.history.append((name, value))
        else:
            self.logged[name] = value
            self.history.append((name, value))

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        acc = (logits.argmax(1) == y).float().mean()
        if self.log_inside:
            self.log("train_loss", loss)
            self.log("train_acc", acc)
            return loss
        return {"loss": loss, "log": {"train_loss": loss.detach(), "train_acc": acc}}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        if self.log_inside:
            self.log("val_loss", loss)
        return {"val_loss": loss, "preds": logits.argmax(1)}

    def configure_optimizers(self):
        if self.opt_kind == "adam":
            opt = optim.Adam(self.parameters(), lr=self.lr)
        else:
            opt = optim.SGD(self.parameters(), lr=self.lr, momentum=0.9, weight_decay=1e-3)
        if self.sched_kind is None:
            return opt
        if self.sched_kind == "step":
            sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        elif self.sched_kind == "cosine":
            sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=7)
        else:
            sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=40)
        return [opt], [{"scheduler": sched, "interval": self.interval}]

    def on_train_epoch_end(self):
        pass

    def manual_backward(self, loss):
        loss.backward()

    def optimizers(self):
        return self._optimizer


class MiniTrainer:
    def __init__(self, max_epochs=3, callbacks=(), compile_step=False, compile_val=False, clip=None, lean=False):
        self.lean = lean  # lean: the module reaches the trainer only through a weak reference
        self.logged = {}
        self.history = []
        self.max_epochs = max_epochs
        self.callbacks = list(callbacks)
        self.compile_step = compile_step
        self.compile_val = compile_val
        self.clip = clip
        self.should_stop = False
        self.global_step = 0
        self.records = []

    def fit(self, module, train_loader, val_loader=None):
        module._trainer = weakref.ref(self) if self.lean else (lambda: self)
        conf = module.configure_optimizers()
        if isinstance(conf, tuple) or isinstance(conf, list):
            opts, scheds = conf
        else:
            opts, scheds = [conf], []
        self.optimizers = opts
        module._optimizer = opts[0]
        self.schedulers = scheds
        if self.compile_step:
            module.training_step = torch.compile(module.training_step)
        if self.compile_val:
            module.validation_step = torch.compile(module.validation_step)
        for epoch in range(self.max_epochs):
            self.epoch = epoch
            module.train()
            for batch_idx, batch in enumerate(train_loader):
                out = module.training_step(batch, batch_idx)
                if module.automatic_optimization:
                    loss = out["loss"] if isinstance(out, dict) else out
                    opts[0].zero_grad()
                    loss.backward()
                    if self.clip is not None:
                        nn.utils.clip_grad_norm_(module.parameters(), self.clip)
                    opts[0].step()
                else:
                    loss = out
                self.records.append(plain(out))
                if isinstance(out, dict) and "log" in out:  # the trainer logs what the step returned
                    for key, value in out["log"].items():
                        module.log(key, value)
                for s in scheds:
                    if s["interval"] == "step":
                        s["scheduler"].step()
                self.global_step += 1
                for cb in self.callbacks:
                    cb.on_train_batch_end(self, module, loss)
            for s in scheds:
                if s["interval"] == "epoch":
                    s["scheduler"].step()
            module.on_train_epoch_end()
            if val_loader is not None:
                module.eval()
                with torch.no_grad():
                    vals = [module.validation_step(b, i) for i, b in enumerate(val_loader)]
                self.records.append(plain(vals))
                (self.logged if self.lean else module.logged)["val_epoch"] = torch.stack([v["val_loss"] for v in vals]).mean()
            for cb in self.callbacks:
                cb.on_validation_end(self, module)
            if self.should_stop:
                break
        return self


def lit_record(module, trainer):
    opt = trainer.optimizers[0]
    extra = {
        "records": trainer.records,
        "logged": plain(module.logged),
        "history": plain(module.history),
        "tlogged": plain(trainer.logged),
        "thistory": plain(trainer.history),
        "steps": trainer.global_step,
        "lrs": [g["lr"] for g in opt.param_groups],
        "scheds": [s["scheduler"].state_dict() for s in trainer.schedulers],
    }
    return snapshot(module, opt), plain(extra)


def loaders(n=40, batch=8, shuffle=True, drop_last=False, val=True):
    X, y = data(n)
    g = torch.Generator().manual_seed(3)
    train = DataLoader(TensorDataset(X, y), batch_size=batch, shuffle=shuffle, generator=g, drop_last=drop_last)
    if not val:
        return train, None
    Xv, yv = data(12, seed=5)
    return train, DataLoader(TensorDataset(Xv, yv), batch_size=5)


@pytest.mark.parametrize(
    "log_inside,lean",
    [
        (True, False),
        (False, False),
        (False, True),
        (True, True),
    ],
)
@pytest.mark.parametrize(
    "opt,sched,interval",
    [("sgd", None, "step"), ("sgd", "step", "epoch"), ("adam", "onecycle", "step"), ("adam", "cosine", "epoch")],
)
def test_lightning_bound_training_step_compiled(opt, sched, interval, log_inside, lean):
    def workflow(compiled):
        module = LitModule(lr=0.05, opt=opt, sched=sched, interval=interval, dropout=0.25)
        module.log_inside = log_inside
        train, val = loaders()
        trainer = MiniTrainer(max_epochs=3, compile_step=compiled, compile_val=compiled, lean=lean).fit(module, train, val)
        return lit_record(module, trainer)

    eager_then_compiled(workflow, f"lit bound {opt} {sched} {interval} log_inside={log_inside} lean={lean}")


class LitDictModule(LitModule):
    """training_step returns a dict; uses batch_idx arithmetic and the epoch read from trainer."""

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y, label_smoothing=0.1)
        if batch_idx % 2 == 0:
            loss = loss + 0.01 * sum(p.pow(2).sum() for p in self.parameters())
        scale = 1.0 / (1 + self.epoch)
        return {"loss": loss, "logits": logits.detach(), "idx": batch_idx, "log": {"scaled": (loss * scale).detach()}}

    def on_train_epoch_end(self):
        self.epoch += 1


def test_lightning_dict_output_and_batch_idx_branches():
    def workflow(compiled):
        module = LitDictModule(lr=0.05, bn=True)
        module.epoch = 0
        module.log_inside = False
        train, val = loaders(n=44)  # 6 batches, last one of 4 rows
        trainer = MiniTrainer(lean=True, max_epochs=3, compile_step=compiled, compile_val=compiled).fit(module, train, val)
        return lit_record(module, trainer)

    eager_then_compiled(workflow, "lit dict + batch_idx branch")


class LitManual(LitModule):
    automatic_optimization = False

    def __init__(self, accumulate=1, **kw):
        super().__init__(**kw)
        self.accumulate = accumulate

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        x, y = batch
        loss = F.cross_entropy(self(x), y) / self.accumulate
        self.manual_backward(loss)
        if (batch_idx + 1) % self.accumulate == 0:
            nn.utils.clip_grad_norm_(self.parameters(), 1.0)
            opt.step()
            opt.zero_grad()
        if self.log_inside:
            self.log("loss", loss)
        return loss


@pytest.mark.parametrize("accumulate", [1, 3])
@pytest.mark.parametrize("opt,sched", [("sgd", "onecycle"), ("adam", None)])
def test_lightning_manual_optimization(accumulate, opt, sched):
    def workflow(compiled):
        module = LitManual(accumulate=accumulate, lr=0.05, opt=opt, sched=sched, interval="step")
        module.log_inside = False
        train, _ = loaders(n=96, batch=8, val=False)  # 12 batch_idx values per epoch
        trainer = MiniTrainer(lean=True, max_epochs=2, compile_step=compiled).fit(module, train)
        return lit_record(module, trainer)

    eager_then_compiled(workflow, f"lit manual accumulate={accumulate} {opt} {sched}")


def test_batch_idx_int_argument_many_values_stays_correct():
    """batch_idx feeds a value (not only a branch): 20 distinct ints, each must give eager's bits."""

    def workflow(compiled):
        torch.manual_seed(0)
        model = net()
        opt = optim.SGD(model.parameters(), lr=0.05)
        X, y = data(8)

        def step(x, t, batch_idx):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), t) * (1.0 + batch_idx / 10)
            loss.backward()
            opt.step()
            return loss, batch_idx * 2

        if compiled:
            step = torch.compile(step)
        outs = [step(X + i * 0.01, y, i) for i in range(20)]
        outs += [step(X, y, i) for i in (3, 0, 19)]  # seen values again
        return outs, snapshot(model, opt)

    eager_then_compiled(workflow, "batch_idx as value, 20 distinct")


class DecoratedLit(LitModule):
    @torch.compile
    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)


class PlainLit(LitModule):
    def training_step(self, batch, batch_idx):
        x, y = batch
        return F.cross_entropy(self(x), y)


def test_decorated_method_shared_by_two_instances():
    """``@torch.compile`` in the class body: one compiled function, two modules as ``self``,
    trained interleaved."""

    def workflow(compiled):
        cls = DecoratedLit if compiled else PlainLit
        out = []
        torch.manual_seed(0)
        a = cls(lr=0.1)
        b = cls(lr=0.02, opt="adam")
        ta, _ = loaders(val=False)
        tb, _ = loaders(n=24, batch=6, val=False)
        tra = MiniTrainer(max_epochs=1, lean=True)
        trb = MiniTrainer(max_epochs=1, lean=True)
        for epoch in range(2):
            tra.fit(a, ta)
            trb.fit(b, tb)
            out.append((lit_record(a, tra), lit_record(b, trb)))
        return out

    eager_then_compiled(workflow, "decorated method, two instances")


@pytest.mark.parametrize("how", ["torch.compile(module)", "module.compile()"])
def test_whole_module_compiled(how):
    def workflow(compiled):
        module = LitModule(lr=0.05, dropout=0.3, bn=True, opt="adam", sched="step", interval="epoch")
        train, val = loaders(n=44)
        runner = module
        if compiled:
            if how == "module.compile()":
                module.model.compile()
            else:
                module.model = torch.compile(module.model)
        trainer = MiniTrainer(lean=True, max_epochs=3).fit(runner, train, val)
        return lit_record(module, trainer)

    eager_then_compiled(workflow, f"whole module {how}")


class EpochHookLit(LitModule):
    """on_train_epoch_end changes Python state read inside the compiled training_step."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.aux_weight = 0.0
        self.freeze_first = False
        self.temperature = 1.0

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x) / self.temperature
        loss = F.cross_entropy(logits, y)
        if self.aux_weight:
            loss = loss + self.aux_weight * logits.pow(2).mean()
        return {"loss": loss, "log": {"loss": loss.detach()}}

    def on_train_epoch_end(self):
        self.aux_weight += 0.1
        self.temperature = self.temperature * 1.5
        self.epochs_done = getattr(self, "epochs_done", 0) + 1
        if self.epochs_done == 2:
            for p in self.model[0].parameters():
                p.requires_grad_(False)


def test_epoch_end_hook_changes_state_read_by_compiled_step():
    def workflow(compiled):
        module = EpochHookLit(lr=0.05)
        module.log_inside = False
        train, val = loaders()
        trainer = MiniTrainer(lean=True, max_epochs=4, compile_step=compiled, compile_val=compiled).fit(module, train, val)
        return lit_record(module, trainer)

    eager_then_compiled(workflow, "epoch-end hook changes python state")


# ----------------------------------------------------------------------------- callbacks
class Callback:
    def on_train_batch_end(self, trainer, module, loss):
        pass

    def on_validation_end(self, trainer, module):
        pass


class EarlyStopping(Callback):
    def __init__(self, patience=1):
        self.best = float("inf")
        self.wait = 0
        self.patience = patience
        self.seen = []

    def on_validation_end(self, trainer, module):
        value = float((trainer.logged if trainer.lean else module.logged)["val_epoch"])
        self.seen.append(value)
        if value < self.best - 1e-3:
            self.best, self.wait = value, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.should_stop = True


class Checkpoint(Callback):
    def __init__(self, directory, restore_every=2):
        self.directory = directory
        self.best = float("inf")
        self.count = 0
        self.restore_every = restore_every

    def on_validation_end(self, trainer, module):
        value = float((trainer.logged if trainer.lean else module.logged)["val_epoch"])
        self.count += 1
        path = self.directory / f"epoch{trainer.epoch}.pt"
        torch.save({"model": module.state_dict(), "opt": trainer.optimizers[0].state_dict()}, path)
        if value < self.best:
            self.best = value
            torch.save({"model": module.state_dict(), "opt": trainer.optimizers[0].state_dict()}, self.directory / "best.pt")
        if self.count % self.restore_every == 0:
            state = torch.load(self.directory / "best.pt")
            module.load_state_dict(state["model"])
            trainer.optimizers[0].load_state_dict(state["opt"])


class LRFinder(Callback):
    def __init__(self, start=1e-4, factor=1.7):
        self.lr = start
        self.factor = factor
        self.losses = []

    def on_train_batch_end(self, trainer, module, loss):
        self.losses.append(float(loss))
        self.lr *= self.factor
        for g in trainer.optimizers[0].param_groups:
            g["lr"] = self.lr


def test_early_stopping_and_checkpoint_restore(tmp_path):
    def workflow(compiled):
        d = tmp_path / ("c" if compiled else "e")
        d.mkdir(exist_ok=True)
        module = LitModule(lr=0.5, opt="adam", bn=True)
        module.log_inside = False
        train, val = loaders()
        stop = EarlyStopping(patience=2)
        ckpt = Checkpoint(d)
        trainer = MiniTrainer(lean=True, max_epochs=8, callbacks=[ckpt, stop], compile_step=compiled, compile_val=compiled)
        trainer.fit(module, train, val)
        best = torch.load(d / "best.pt")
        return lit_record(module, trainer), stop.seen, ckpt.best, plain(best["model"]), plain(best["opt"])

    eager_then_compiled(workflow, "early stopping + checkpoint restore")


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_lr_finder_changes_lr_every_step(opt):
    def workflow(compiled):
        module = LitModule(lr=1e-4, opt=opt)
        module.log_inside = False
        train, _ = loaders(n=96, val=False)  # 12 steps, 12 distinct lrs
        finder = LRFinder()
        trainer = MiniTrainer(lean=True, max_epochs=1, callbacks=[finder], compile_step=compiled)
        trainer.fit(module, train)
        return lit_record(module, trainer), finder.losses

    eager_then_compiled(workflow, f"lr finder {opt}")


def test_lr_finder_inside_compiled_manual_step():
    """The lr written by the callback is read inside the compiled optimizer.step()."""

    def workflow(compiled):
        module = LitManual(lr=1e-3, opt="adam")
        module.log_inside = False
        train, _ = loaders(n=96, val=False)
        finder = LRFinder(start=1e-3, factor=1.3)
        trainer = MiniTrainer(lean=True, max_epochs=2, callbacks=[finder], compile_step=compiled)
        trainer.fit(module, train)
        return lit_record(module, trainer), finder.losses

    eager_then_compiled(workflow, "lr finder in compiled manual step")


# ----------------------------------------------------------------------------- Keras-like
class KerasModel(nn.Module):
    def __init__(self, bn=True, dropout=0.2):
        super().__init__()
        self.body = net(bn=bn, dropout=dropout)
        self.compiled = False

    def forward(self, x):
        return self.body(x)

    def compile_model(self, optimizer="adam", lr=0.01, jit=False):
        if optimizer == "adam":
            self.optimizer = optim.Adam(self.parameters(), lr=lr)
        else:
            self.optimizer = optim.SGD(self.parameters(), lr=lr, momentum=0.9, nesterov=True)
        self.loss_fn = nn.CrossEntropyLoss()
        self._train = torch.compile(self.train_on_batch) if jit else self.train_on_batch
        self._test = torch.compile(self.test_on_batch) if jit else self.test_on_batch
        self._pred = torch.compile(self.predict_on_batch) if jit else self.predict_on_batch

    def train_on_batch(self, x, y):
        self.train()
        self.optimizer.zero_grad()
        out = self(x)
        loss = self.loss_fn(out, y)
        loss.backward()
        self.optimizer.step()
        return loss.detach(), (out.argmax(1) == y).sum()

    def test_on_batch(self, x, y):
        self.eval()
        with torch.no_grad():
            out = self(x)
            return self.loss_fn(out, y), (out.argmax(1) == y).sum()

    def predict_on_batch(self, x):
        self.eval()
        with torch.no_grad():
            return F.softmax(self(x), dim=1)

    def fit(self, X, y, epochs=1, batch_size=8, validation_data=None, shuffle=True):
        history = {"loss": [], "acc": [], "val_loss": []}
        for epoch in range(epochs):
            order = torch.randperm(len(X)) if shuffle else torch.arange(len(X))
            total, correct = 0.0, 0
            for start in range(0, len(X), batch_size):
                idx = order[start:start + batch_size]
                loss, c = self._train(X[idx], y[idx])
                total += float(loss) * len(idx)
                correct += int(c)
            history["loss"].append(total / len(X))
            history["acc"].append(correct / len(X))
            if validation_data is not None:
                history["val_loss"].append(self.evaluate(*validation_data, batch_size=batch_size)[0])
        return history

    def evaluate(self, X, y, batch_size=8):
        total, correct = 0.0, 0
        for start in range(0, len(X), batch_size):
            loss, c = self._test(X[start:start + batch_size], y[start:start + batch_size])
            total += float(loss) * len(X[start:start + batch_size])
            correct += int(c)
        return total / len(X), correct / len(X)

    def predict(self, X, batch_size=8):
        return torch.cat([self._pred(X[s:s + batch_size]) for s in range(0, len(X), batch_size)])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_keras_fit_predict_evaluate(optimizer):
    def workflow(compiled):
        model = KerasModel()
        model.compile_model(optimizer, lr=0.02, jit=compiled)
        X, y = data(38)  # last batch of 6
        Xv, yv = data(13, seed=7)
        h1 = model.fit(X, y, epochs=3, batch_size=8, validation_data=(Xv, yv))
        p1 = model.predict(Xv, batch_size=5)
        e1 = model.evaluate(Xv, yv, batch_size=4)
        model.optimizer.param_groups[0]["lr"] = 0.005  # keras: K.set_value(model.optimizer.lr, ...)
        h2 = model.fit(X, y, epochs=2, batch_size=16)
        p2 = model.predict(X[:7])
        return h1, p1, e1, h2, p2, snapshot(model, model.optimizer)

    eager_then_compiled(workflow, f"keras fit {optimizer}")


# ----------------------------------------------------------------------------- sklearn-like
class TorchClassifier:
    def __init__(self, hidden=8, lr=0.1, alpha=1e-3, max_iter=5, batch_size=10, momentum=0.0, jit=False):
        self.hidden = hidden
        self.lr = lr
        self.alpha = alpha
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.momentum = momentum
        self.jit = jit

    def get_params(self, deep=True):
        return {k: getattr(self, k) for k in ("hidden", "lr", "alpha", "max_iter", "batch_size", "momentum", "jit")}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def _init(self, d, classes):
        self.classes_ = classes
        self.net_ = nn.Sequential(nn.Linear(d, self.hidden), nn.Tanh(), nn.Linear(self.hidden, classes))
        self.opt_ = optim.SGD(self.net_.parameters(), lr=self.lr, momentum=self.momentum)
        self.step_ = torch.compile(self._step) if self.jit else self._step
        self.loss_curve_ = []

    def _step(self, x, y):
        self.opt_.zero_grad()
        loss = F.cross_entropy(self.net_(x), y)
        penalty = sum(p.pow(2).sum() for n, p in self.net_.named_parameters() if n.endswith("weight"))
        (loss + self.alpha * penalty).backward()
        self.opt_.step()
        return loss.detach()

    def _epoch(self, X, y):
        for g in self.opt_.param_groups:  # set_params between fits reaches the optimizer
            g["lr"] = self.lr
            g["momentum"] = self.momentum
        perm = torch.randperm(len(X))
        losses = [self.step_(X[perm[s:s + self.batch_size]], y[perm[s:s + self.batch_size]]) for s in range(0, len(X), self.batch_size)]
        self.loss_curve_.append(float(torch.stack(losses).mean()))

    def fit(self, X, y):
        self._init(X.shape[1], 3)
        for _ in range(self.max_iter):
            self._epoch(X, y)
        return self

    def partial_fit(self, X, y):
        if not hasattr(self, "net_"):
            self._init(X.shape[1], 3)
        self._epoch(X, y)
        return self

    def predict_proba(self, X):
        with torch.no_grad():
            return F.softmax(self.net_(X), dim=1)

    def predict(self, X):
        return self.predict_proba(X).argmax(1)

    def score(self, X, y):
        return float((self.predict(X) == y).float().mean())


def test_sklearn_estimator_fit_set_params_partial_fit():
    def workflow(compiled):
        X, y = data(50)
        Xt, yt = data(15, seed=9)
        clf = TorchClassifier(jit=compiled)
        out = [{k: v for k, v in clf.get_params().items() if k != "jit"}]
        clf.fit(X, y)
        out.append((clf.loss_curve_, clf.score(Xt, yt), clf.predict_proba(Xt)))
        clf.set_params(lr=0.03, alpha=0.0, momentum=0.9)
        for chunk in range(3):
            clf.partial_fit(X[chunk * 17:(chunk + 1) * 17], y[chunk * 17:(chunk + 1) * 17])
        out.append((clf.loss_curve_, clf.score(Xt, yt), clf.predict(Xt)))
        clf.set_params(hidden=5, batch_size=7, max_iter=3, alpha=0.01)  # refit: new net, new shapes
        clf.fit(X, y)
        out.append((clf.loss_curve_, clf.score(X, y), clf.predict_proba(Xt)))
        out.append(snapshot(clf.net_, clf.opt_))
        return out

    eager_then_compiled(workflow, "sklearn estimator")


def test_report_fallbacks():
    """Not a check: lists which workflows fell back to eager (run with -s to see)."""
    for name, msgs in FALLBACKS.items():
        if msgs:
            print(f"FALLBACK {name}: {msgs[0][:300]}")


# ----------------------------------------------------------------------------- minimal reproductions
def test_value_read_through_weakref_is_guarded():
    class Box:
        scale = 1.0

    box = Box()
    ref = weakref.ref(box)

    def step(x):
        return x * ref().scale

    compiled = torch.compile(step)
    for i in range(3):
        box.scale = float(i + 1)
        assert_identical(arr(compiled(torch.ones(2))), arr(step(torch.ones(2))), f"call {i}")


def test_write_through_weakref_is_repeated():
    class Sink:
        pass

    sink = Sink()
    sink.logged = {}
    ref = weakref.ref(sink)

    def step(x):
        y = (x * 2).sum()
        ref().logged["y"] = y
        return y

    compiled = torch.compile(step)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(3):
            out = compiled(torch.full((2,), float(i)))
            assert_identical(arr(sink.logged["y"]), arr(out), f"call {i}")
