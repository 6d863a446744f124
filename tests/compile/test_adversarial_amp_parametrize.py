"""chainrule.compile against eager execution for mixed precision (``amp.autocast``, ``GradScaler``
with skipped steps, backoff and growth), parametrizations (``register_parametrization``,
``weight_norm``, ``spectral_norm``, ``orthogonal``, ``cached``, removal between calls), pruning,
and the gradient utilities (``clip_grad_norm_``, ``clip_grad_value_``, flat parameter vectors,
``functional_call``) used inside a compiled training step.

Each case builds fresh state from the same seed, runs CALLS calls eagerly and compiled, and
compares bit for bit what each call returns, every parameter, gradient and buffer, the optimizer's
and the scaler's state, an exception's type where eager raises, and the random stream afterwards.
Falling back to eager with one warning is allowed; a different value is not."""
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn
from chainrule.nn.utils import parametrizations, parametrize, prune
from tests.compile.bitwise import assert_identical

CALLS = 6


# ----------------------------------------------------------------------------- the harness
def _arr(t):
    return np.array(t.detach().numpy(), copy=True)


def _snap(value):
    if isinstance(value, torch.Tensor):
        return ("tensor", _arr(value), None if value.grad is None else _arr(value.grad))
    if isinstance(value, (list, tuple)):
        return type(value)(_snap(item) for item in value)
    if isinstance(value, dict):
        return {key: _snap(item) for key, item in value.items()}
    return value


def _module_state(model):
    return {
        "params": {name: p for name, p in model.named_parameters()},
        "buffers": {name: b for name, b in model.named_buffers()},
        "class": type(model).__name__,
    }


def _run(case, compiled):
    torch.manual_seed(0)
    step, observe, call = case(torch.compile if compiled else (lambda function: function))
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for index in range(CALLS):
            try:
                returned = call(step, index)
                log.append(("returned", _snap(returned), _snap(observe())))
            except Exception as error:  # noqa: BLE001 (compiled must raise where eager raises)
                log.append(("raised", type(error).__name__, _snap(observe())))
    log.append(("random stream after", _snap(torch.rand(3))))
    return log, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def check(case, raises=False):
    eager, _ = _run(case, compiled=False)
    if not raises:
        assert all(entry[0] != "raised" for entry in eager), eager
    compiled, warned = _run(case, compiled=True)
    assert_identical(compiled, eager)
    assert len(warned) <= 1, warned
    return warned


def _x(n=4, d=3):
    return torch.randn(n, d)


# ----------------------------------------------------------------------------- amp
def amp_case(dtype=torch.bfloat16, growth_interval=2, bad_calls=(), lr=0.1, unscale_clip=False,
             returns_scale=True, decorator=False, opt_cls="sgd", new_scale_at=None):
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        if opt_cls == "sgd":
            opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
        else:
            opt = torch.optim.Adam(model.parameters(), lr=lr)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=growth_interval)

        def forward(x):
            return model(x).pow(2).mean()

        if decorator:
            forward = torch.autocast("cpu", dtype=dtype)(forward)

        def step(x):
            opt.zero_grad()
            if decorator:
                loss = forward(x)
            else:
                with torch.autocast(device_type="cpu", dtype=dtype):
                    loss = forward(x)
            scaled = scaler.scale(loss)
            scaled.backward()
            if unscale_clip:
                scaler.unscale_(opt)
                nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            scaler.step(opt)
            scaler.update(new_scale_at) if new_scale_at is not None else scaler.update()
            if returns_scale:
                return loss, scaled, scaler.get_scale()
            return loss

        def call(step, index):
            x = _x()
            if index in bad_calls:
                x = x * float("inf")
            return step(x)

        return compile(step), lambda: [_module_state(model), opt.state_dict(), scaler.state_dict()], call

    return case


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_autocast_gradscaler_growth(dtype):
    check(amp_case(dtype=dtype, growth_interval=2))


def test_autocast_decorator_gradscaler():
    check(amp_case(decorator=True, growth_interval=3))


def test_gradscaler_overflow_from_input_skips_and_backs_off():
    check(amp_case(growth_interval=2, bad_calls=(2, 3)))


def test_gradscaler_overflow_from_huge_lr():
    check(amp_case(lr=1e30, growth_interval=1, opt_cls="sgd"))


def test_gradscaler_adam_overflow_then_recovery():
    check(amp_case(opt_cls="adam", bad_calls=(1,), growth_interval=2))


def test_gradscaler_unscale_then_clip():
    check(amp_case(unscale_clip=True, bad_calls=(3,), growth_interval=2))


def test_gradscaler_returning_only_loss():
    check(amp_case(returns_scale=False, bad_calls=(2,), growth_interval=1))


def test_gradscaler_update_new_scale():
    check(amp_case(new_scale_at=128.0))


def test_gradscaler_state_dict_reloaded_between_calls():
    """The caller reloads a saved scaler state (a checkpoint) between compiled calls."""

    def case(compile):
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**8, growth_interval=2)
        saved = {}

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss

        def call(step, index):
            if index == 1:
                saved.update(scaler.state_dict())
            if index == 4:
                scaler.load_state_dict(saved)
            x = _x() * (float("nan") if index == 2 else 1.0)
            return step(x), scaler.get_scale()

        return compile(step), lambda: [_module_state(model), opt.state_dict(), scaler.state_dict()], call

    check(case)


def test_gradscaler_growth_interval_changed_between_calls():
    def case(compile):
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=4.0, growth_interval=3)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).sum()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss

        def call(step, index):
            if index == 2:
                scaler.set_growth_interval(1)
                scaler.set_growth_factor(3.0)
            return step(_x()), scaler.get_scale()

        return compile(step), lambda: [_module_state(model), scaler.state_dict()], call

    check(case)


# ----------------------------------------------------------------------------- parametrizations
class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).mT


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.factor = 2.0

    def forward(self, X):
        return X * self.factor

    def right_inverse(self, X):
        return X / self.factor


def param_case(setup, between=None, use_cached=False, opt_cls="sgd", reads=1):
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 2))
        setup(model)
        params = list(model.parameters())
        opt = torch.optim.SGD(params, lr=0.1, momentum=0.5) if opt_cls == "sgd" else torch.optim.Adam(params, lr=0.01)

        def step(x):
            opt.zero_grad()
            if use_cached:
                with parametrize.cached():
                    out = model(x)
                    extra = sum(model[0].weight.sum() for _ in range(reads))
            else:
                out = model(x)
                extra = 0.0
            loss = out.pow(2).mean() + 0.01 * extra
            loss.backward()
            opt.step()
            return loss

        def call(step, index):
            if between is not None:
                between(model, index)
            return step(_x()), model[0].weight

        return compile(step), lambda: [_module_state(model), opt.state_dict()], call

    return case


def test_custom_symmetric_parametrization():
    check(param_case(lambda m: parametrize.register_parametrization(m[0], "weight", Symmetric())))


def test_two_parametrizations_chained_adam():
    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Symmetric())
        parametrize.register_parametrization(m[0], "weight", Scale())
    check(param_case(setup, opt_cls="adam"))


def test_parametrization_factor_changed_between_calls():
    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Scale())

    def between(m, index):
        if index == 3:
            m[0].parametrizations.weight[0].factor = 3.0
    check(param_case(setup, between))


def test_parametrize_cached():
    check(param_case(lambda m: parametrize.register_parametrization(m[0], "weight", Symmetric()), use_cached=True, reads=2))


def test_remove_parametrization_between_calls():
    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Symmetric())

    def between(m, index):
        if index == 3:
            parametrize.remove_parametrizations(m[0], "weight", leave_parametrized=True)
    check(param_case(setup, between))


def test_remove_parametrization_keep_original_between_calls():
    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Scale())

    def between(m, index):
        if index == 3:
            parametrize.remove_parametrizations(m[0], "weight", leave_parametrized=False)
    check(param_case(setup, between))


def test_register_parametrization_between_calls():
    def between(m, index):
        if index == 2:
            parametrize.register_parametrization(m[0], "weight", Symmetric())
    check(param_case(lambda m: None, between))


def test_assign_parametrized_weight_between_calls():
    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Scale())

    def between(m, index):
        if index == 3:
            with torch.no_grad():
                m[0].weight = torch.ones(3, 3)
    check(param_case(setup, between))


def test_weight_norm_parametrization():
    check(param_case(lambda m: parametrizations.weight_norm(m[0]), opt_cls="adam"))


def test_weight_norm_old_hook():
    check(param_case(lambda m: nn.utils.weight_norm(m[2])))


def test_weight_norm_old_hook_removed_between_calls():
    def between(m, index):
        if index == 3:
            nn.utils.remove_weight_norm(m[2])
    check(param_case(lambda m: nn.utils.weight_norm(m[2]), between))


def test_spectral_norm_parametrization_train_then_eval():
    def between(m, index):
        if index == 3:
            m.eval()
        if index == 5:
            m.train()
    check(param_case(lambda m: parametrizations.spectral_norm(m[0]), between))


def test_spectral_norm_parametrization_two_power_iterations():
    check(param_case(lambda m: parametrizations.spectral_norm(m[2], n_power_iterations=2)))


def test_spectral_norm_old_hook_train_then_eval():
    def between(m, index):
        if index == 3:
            m.eval()
        if index == 4:
            m.train()
    check(param_case(lambda m: nn.utils.spectral_norm(m[0]), between))


def test_spectral_norm_old_hook_removed_between_calls():
    def between(m, index):
        if index == 3:
            nn.utils.remove_spectral_norm(m[0])
    check(param_case(lambda m: nn.utils.spectral_norm(m[0]), between))


@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal(orthogonal_map):
    check(param_case(lambda m: parametrizations.orthogonal(m[0], orthogonal_map=orthogonal_map)))


def test_spectral_norm_cached():
    check(param_case(lambda m: parametrizations.spectral_norm(m[0]), use_cached=True, reads=2))


# ----------------------------------------------------------------------------- pruning
def test_prune_l1_unstructured():
    check(param_case(lambda m: prune.l1_unstructured(m[0], "weight", amount=0.4)))


def test_prune_again_between_calls():
    def between(m, index):
        if index == 2:
            prune.l1_unstructured(m[0], "weight", amount=0.3)
        if index == 4:
            prune.ln_structured(m[2], "weight", amount=0.5, n=2, dim=0)
    check(param_case(lambda m: prune.random_unstructured(m[0], "weight", amount=0.3), between))


def test_prune_remove_between_calls():
    def between(m, index):
        if index == 3:
            prune.remove(m[0], "weight")
    check(param_case(lambda m: prune.l1_unstructured(m[0], "weight", amount=0.5), between))


def test_prune_global_unstructured_and_mask_edit_between_calls():
    def setup(m):
        prune.global_unstructured([(m[0], "weight"), (m[2], "weight")], pruning_method=prune.L1Unstructured, amount=0.3)

    def between(m, index):
        if index == 2:
            m[0].weight_mask.fill_(1.0)  # an in-place change of a buffer the step reads
    check(param_case(setup, between))


# ----------------------------------------------------------------------------- gradient utilities
def grad_case(clip, bad_calls=()):
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.5)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            norm = clip(model)
            opt.step()
            return loss, norm

        def call(step, index):
            x = _x() * 3
            if index in bad_calls:
                x = x * float("inf")
            return step(x)

        return compile(step), lambda: [_module_state(model), opt.state_dict()], call

    return case


def test_clip_grad_norm():
    check(grad_case(lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.1)))


@pytest.mark.parametrize("norm_type", [1.0, float("inf"), 3.0])
def test_clip_grad_norm_foreach_norm_types(norm_type):
    check(grad_case(lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.1, norm_type=norm_type, foreach=True)))


def test_clip_grad_norm_error_if_nonfinite():
    check(grad_case(lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.1, error_if_nonfinite=True), bad_calls=(3,)),
          raises=True)


def test_clip_grad_norm_nonfinite_no_error():
    check(grad_case(lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.1), bad_calls=(2,)))


def test_clip_grad_value():
    check(grad_case(lambda m: nn.utils.clip_grad_value_(m.parameters(), 0.05)))


def test_clip_grad_value_then_norm():
    def clip(m):
        nn.utils.clip_grad_value_(m.parameters(), clip_value=0.2, foreach=True)
        return nn.utils.clip_grad_norm_(list(m.parameters()), max_norm=0.3)
    check(grad_case(clip))


def test_parameters_to_vector_roundtrip():
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))

        def step(x):
            for p in model.parameters():
                p.grad = None
            loss = model(x).pow(2).mean()
            loss.backward()
            with torch.no_grad():
                flat = nn.utils.parameters_to_vector(model.parameters())
                grads = nn.utils.parameters_to_vector(p.grad for p in model.parameters())
                nn.utils.vector_to_parameters(flat - 0.1 * grads, model.parameters())
            return loss, flat

        return compile(step), lambda: _module_state(model), lambda step, index: step(_x())

    check(case)


def test_parameters_to_vector_penalty_differentiated():
    def case(compile):
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            flat = nn.utils.parameters_to_vector(model.parameters())
            loss = model(x).pow(2).mean() + 0.1 * flat.pow(2).sum()
            loss.backward()
            opt.step()
            return loss

        return compile(step), lambda: [_module_state(model), opt.state_dict()], lambda step, index: step(_x())

    check(case)


@pytest.mark.parametrize("where", ["stateless", "func"])
def test_functional_call(where):
    call_fn = nn.utils.stateless.functional_call if where == "stateless" else torch.func.functional_call

    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        fast = {name: p.detach().clone().requires_grad_(True) for name, p in model.named_parameters()}

        def step(x):
            for p in fast.values():
                p.grad = None
            out = call_fn(model, fast, (x,))
            loss = out.pow(2).mean()
            loss.backward()
            with torch.no_grad():
                for p in fast.values():
                    p -= 0.1 * p.grad
            return loss, model(x)

        return compile(step), lambda: [_module_state(model), fast], lambda step, index: step(_x())

    check(case)


def test_functional_call_with_parametrized_module():
    def case(compile):
        model = nn.Linear(3, 3)
        parametrize.register_parametrization(model, "weight", Symmetric())
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        replacement = {"bias": torch.zeros(3)}

        def step(x):
            opt.zero_grad()
            loss = torch.func.functional_call(model, replacement, (x,)).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        return compile(step), lambda: [_module_state(model), opt.state_dict()], lambda step, index: step(_x())

    check(case)


# ----------------------------------------------------------------------------- harder cases
def test_gradscaler_disabled_replays():
    def case(compile):
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", enabled=False)

        def step(x):
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(x).pow(2).sum()
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            return loss, scaler.get_scale()

        return compile(step), lambda: [_module_state(model), scaler.state_dict()], lambda step, index: step(_x())

    assert check(case) == []


def test_gradscaler_outside_compiled_forward_backward():
    """Only the forward and the scaled backward are compiled; the scaler's step and update run
    eagerly outside, reading the gradients the replay produced."""

    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**4, growth_interval=1)
        scaler.scale(torch.ones(()))  # makes the scaler's scale tensor: as PyTorch's, step() needs a scale() first

        def forward_backward(x, scale):
            opt.zero_grad()
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(x).pow(2).mean()
            (loss * scale).backward()
            return loss

        compiled = compile(forward_backward)

        def call(step, index):
            x = _x() * (float("inf") if index == 2 else 1.0)
            loss = step(x, scaler.get_scale())
            scaler.step(opt)
            scaler.update()
            return loss, scaler.get_scale()

        return compiled, lambda: [_module_state(model), opt.state_dict(), scaler.state_dict()], call

    check(case)


def test_scaled_loss_from_scaler_scale_in_step_only():
    """scaler.scale inside the step (a Python float read from the scaler), the rest outside."""

    def case(compile):
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        scaler = torch.amp.GradScaler("cpu", init_scale=8.0, growth_interval=1)

        def forward_backward(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            scaler.scale(loss).backward()
            return loss

        def call(step, index):
            loss = step(_x() * (float("nan") if index == 3 else 1.0))
            scaler.step(opt)
            scaler.update()
            return loss, scaler.get_scale()

        return compile(forward_backward), lambda: [_module_state(model), scaler.state_dict()], call

    check(case)


def test_parametrize_cached_spanning_calls():
    """``with parametrize.cached()`` around several calls: eager reuses the first weight."""

    def case(compile):
        model = nn.Linear(3, 3)
        parametrize.register_parametrization(model, "weight", Symmetric())
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            with torch.no_grad():
                out = model(x)
            loss = (out * x).sum()
            opt.step()
            return loss, out

        def call(step, index):
            with parametrize.cached():
                with torch.no_grad():
                    model.parametrizations.weight.original.add_(0.5)
                first = step(_x())
                second = step(_x())
            return first, second

        return compile(step), lambda: _module_state(model), call

    check(case)


def test_parametrization_with_tensor_attribute_changed_in_place():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.mask = torch.ones(3, 3)  # a plain tensor attribute, not a buffer

        def forward(self, X):
            return X * self.mask

    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Masked())

    def between(m, index):
        if index == 2:
            m[0].parametrizations.weight[0].mask[0, 0] = 0.0
        if index == 4:
            m[0].parametrizations.weight[0].mask = torch.zeros(3, 3)
    check(param_case(setup, between))


def test_parametrization_counting_calls_falls_back():
    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def forward(self, X):
            self.calls += 1
            return X * (1.0 + 0.1 * (self.calls % 2))

    check(param_case(lambda m: parametrize.register_parametrization(m[0], "weight", Counting())))


def test_parametrization_on_buffer():
    class WithBuffer(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)
            self.register_buffer("shift", torch.randn(2))

        def forward(self, x):
            return self.lin(x) + self.shift

    class Softplus(nn.Module):
        def forward(self, X):
            return nn.functional.softplus(X)

    def case(compile):
        model = WithBuffer()
        parametrize.register_parametrization(model, "shift", Softplus(), unsafe=True)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            opt.step()
            with torch.no_grad():
                model.parametrizations.shift.original.add_(0.1)
            return loss, model.shift

        return compile(step), lambda: _module_state(model), lambda step, index: step(_x())

    check(case)


def test_orthogonal_weight_assigned_between_calls():
    def between(m, index):
        if index == 3:
            with torch.no_grad():
                m[0].weight = torch.eye(3)[[2, 0, 1]]
    check(param_case(lambda m: parametrizations.orthogonal(m[0]), between))


def test_spectral_norm_power_iterations_changed_between_calls():
    def between(m, index):
        if index == 2:
            m[0].parametrizations.weight[0].n_power_iterations = 3
    check(param_case(lambda m: parametrizations.spectral_norm(m[0]), between))


def test_spectral_norm_buffers_reset_between_calls():
    def between(m, index):
        if index == 3:
            with torch.no_grad():
                m[0].parametrizations.weight[0]._u.normal_()
                m[0].parametrizations.weight[0]._v.fill_(0.5)
    check(param_case(lambda m: parametrizations.spectral_norm(m[0]), between))


def test_spectral_norm_old_hook_buffers_replaced_between_calls():
    def between(m, index):
        if index == 3:
            m[0].weight_u = torch.nn.functional.normalize(torch.randn(3), dim=0)
    check(param_case(lambda m: nn.utils.spectral_norm(m[0]), between))


def test_spectral_norm_discriminator_eval_inside_step():
    """A GAN step that puts the discriminator in eval mode for a metric and back, inside the step."""

    def case(compile):
        disc = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 1))
        parametrizations.spectral_norm(disc[0])
        parametrizations.spectral_norm(disc[2])
        opt = torch.optim.Adam(disc.parameters(), lr=0.01)

        def step(x):
            opt.zero_grad()
            loss = nn.functional.softplus(-disc(x)).mean() + nn.functional.softplus(disc(x + 1)).mean()
            loss.backward()
            opt.step()
            disc.eval()
            with torch.no_grad():
                metric = disc(x).mean()
            disc.train()
            return loss, metric

        return compile(step), lambda: [_module_state(disc), opt.state_dict()], lambda step, index: step(_x())

    check(case)


def test_prune_module_frozen_between_calls():
    def between(m, index):
        if index == 3:
            m[0].weight_orig.requires_grad_(False)
            m[0].weight_orig.grad = None
    check(param_case(lambda m: prune.l1_unstructured(m[0], "weight", amount=0.4), between))


def test_prune_custom_mask_replaced_with_same_shape():
    def between(m, index):
        if index == 2:
            prune.custom_from_mask(m[2], "weight", torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]))
    check(param_case(lambda m: prune.custom_from_mask(m[2], "weight", torch.ones(2, 3)), between))


def test_clip_grad_norm_with_frozen_layer_between_calls():
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.5)

        def step(x):
            opt.zero_grad(set_to_none=True)
            loss = model(x).pow(2).mean()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), 0.1, error_if_nonfinite=True)
            opt.step()
            return loss, norm

        def call(step, index):
            if index == 2:
                model[0].requires_grad_(False)
            if index == 4:
                model[0].requires_grad_(True)
            return step(_x() * 3)

        return compile(step), lambda: [_module_state(model), opt.state_dict()], call

    check(case)


def test_clip_grad_norm_max_norm_from_schedule():
    """max_norm read from a config object that the caller changes between calls."""

    class Config:
        max_norm = 0.2

    def case(compile):
        config = Config()
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=0.5)

        def step(x):
            opt.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(model.parameters(), config.max_norm)
            nn.utils.clip_grad_value_(model.parameters(), config.max_norm / 4)
            opt.step()
            return loss, norm

        def call(step, index):
            config.max_norm = 0.2 * (index + 1)
            return step(_x() * 3)

        return compile(step), lambda: _module_state(model), call

    check(case)


def test_get_total_norm_and_clip_grads_with_norm_separately():
    def clip(m):
        grads = [p.grad for p in m.parameters()]
        total = nn.utils.get_total_norm(grads, norm_type=2.0, error_if_nonfinite=False)
        nn.utils.clip_grads_with_norm_(m.parameters(), 0.1, total)
        return total
    check(grad_case(clip, bad_calls=(4,)))


def test_vector_to_parameters_from_argument():
    def case(compile):
        model = nn.Linear(3, 2)

        def step(vec, x):
            nn.utils.vector_to_parameters(vec, model.parameters())
            for p in model.parameters():
                p.grad = None
            loss = model(x).pow(2).mean()
            loss.backward()
            return loss, nn.utils.parameters_to_vector(p.grad for p in model.parameters())

        return compile(step), lambda: _module_state(model), lambda step, index: step(torch.randn(8), _x())

    check(case)


def test_functional_call_fast_weights_as_argument():
    """MAML-style: new fast weights each call, passed in a dict argument."""

    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            params = dict(model.named_parameters())
            inner = (torch.func.functional_call(model, params, (x,)) - y).pow(2).mean()
            grads = torch.autograd.grad(inner, list(params.values()), create_graph=True)
            fast = {name: p - 0.1 * g for (name, p), g in zip(params.items(), grads)}
            outer = (torch.func.functional_call(model, fast, (x,)) - y).pow(2).mean()
            outer.backward()
            opt.step()
            return inner, outer

        return compile(step), lambda: [_module_state(model), opt.state_dict()], lambda step, index: step(_x(), torch.randn(4, 2))

    check(case)


def test_functional_call_buffers_and_strict():
    def case(compile):
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        buffers = {name: b.clone() for name, b in model.named_buffers()}

        def step(x):
            opt.zero_grad()
            state = {**dict(model.named_parameters()), **buffers}
            loss = torch.func.functional_call(model, state, (x,), strict=True).pow(2).mean()
            loss.backward()
            opt.step()
            return loss

        return compile(step), lambda: [_module_state(model), buffers], lambda step, index: step(_x())

    check(case)


def _cached_block_run(compiled, train):
    """One call outside ``parametrize.cached()``, then three inside one block; between them the
    original changes (by the step's own optimizer, or by hand)."""
    torch.manual_seed(0)
    model = nn.Linear(3, 3)
    parametrize.register_parametrization(model, "weight", Symmetric())
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(x):
        if not train:
            with torch.no_grad():
                return model(x)
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    step = torch.compile(step) if compiled else step
    log = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log.append(_arr(step(_x(2, 3))))
        with parametrize.cached():
            for _ in range(3):
                log.append(_arr(step(_x(2, 3))))
                if not train:
                    with torch.no_grad():
                        model.parametrizations.weight.original.add_(1.0)
    log.append(_snap(_module_state(model)))
    log.append(_arr(torch.rand(3)))
    return log, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


@pytest.mark.parametrize("train", [False, True])
def test_parametrize_cached_block_spanning_calls_with_changing_original(train):
    eager, _ = _cached_block_run(False, train)
    compiled, warned = _cached_block_run(True, train)
    assert len(warned) <= 1, warned
    assert_identical(compiled, eager)


def test_clip_grad_norm_error_if_nonfinite_on_recording_call():
    check(grad_case(lambda m: nn.utils.clip_grad_norm_(m.parameters(), 0.1, error_if_nonfinite=True), bad_calls=(0, 1, 4)),
          raises=True)


def test_gradscaler_overflow_on_first_call():
    check(amp_case(growth_interval=1, bad_calls=(0,)))


def test_weight_norm_parametrization_dim_none_removed_and_readded():
    def between(m, index):
        if index == 2:
            parametrize.remove_parametrizations(m[0], "weight")
        if index == 4:
            parametrizations.weight_norm(m[0], dim=None)
    check(param_case(lambda m: parametrizations.weight_norm(m[0], dim=None), between))


def test_second_parametrization_appended_between_calls():
    def between(m, index):
        if index == 2:
            parametrize.register_parametrization(m[0], "weight", Scale())
    check(param_case(lambda m: parametrize.register_parametrization(m[0], "weight", Symmetric()), between))


def test_parametrization_module_swapped_in_list_between_calls():
    def between(m, index):
        if index == 3:
            m[0].parametrizations.weight[0] = Scale()
    check(param_case(lambda m: parametrize.register_parametrization(m[0], "weight", Symmetric()), between))


def test_spectral_norm_only_parametrization_in_eval_between_calls():
    def between(m, index):
        if index == 2:
            m[0].parametrizations.weight[0].eval()
        if index == 4:
            m[0].parametrizations.weight.train()
    check(param_case(lambda m: parametrizations.spectral_norm(m[0]), between))


def test_parametrization_original_replaced_between_calls():
    def between(m, index):
        if index == 3:
            m[0].parametrizations.weight.original = nn.Parameter(torch.randn(3, 3))
    check(param_case(lambda m: parametrize.register_parametrization(m[0], "weight", Symmetric()), between))


def test_spectral_norm_old_hook_settings_changed_between_calls():
    def between(m, index):
        hook = next(iter(m[0]._forward_pre_hooks.values()))
        if index == 2:
            hook.n_power_iterations = 3
        if index == 4:
            hook.eps = 0.5
    check(param_case(lambda m: nn.utils.spectral_norm(m[0]), between))


def test_orthogonal_base_changed_in_place_between_calls():
    def between(m, index):
        if index == 3:
            with torch.no_grad():
                m[0].parametrizations.weight[0].base.mul_(-1.0)
    check(param_case(lambda m: parametrizations.orthogonal(m[0], orthogonal_map="cayley"), between))


def test_prune_hook_amount_changed_between_calls():
    def between(m, index):
        if index == 2:
            m[0].weight_mask.zero_()
        if index == 3:
            with torch.no_grad():
                m[0].weight_orig.mul_(2.0)
    check(param_case(lambda m: prune.random_structured(m[0], "weight", amount=0.34, dim=0), between))


# ----------------------------------------------------------------------------- float settings: -0.0 and NaN
class _Config:
    max_norm = 0.0


def _signed_zero_clip_case(compile):
    config = _Config()
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        norm = nn.utils.clip_grad_norm_(model.parameters(), config.max_norm)
        opt.step()
        return loss, norm

    def call(step, index):
        config.max_norm = -0.0 if index % 2 else 0.0
        return step(_x())

    return compile(step), lambda: _module_state(model), call


def _signed_zero_parametrization_case(compile):
    def setup(m):
        parametrize.register_parametrization(m[0], "weight", Scale())
        m[0].parametrizations.weight[0].factor = 0.0

    def between(m, index):
        m[0].parametrizations.weight[0].factor = -0.0 if index % 2 else 0.0

    return param_case(setup, between)(compile)


@pytest.mark.parametrize("case", [_signed_zero_clip_case, _signed_zero_parametrization_case], ids=["clip", "parametrization"])
def test_float_setting_sign_of_zero_changed_between_calls(case):
    check(case)


def _nan_scale_case(compile):
    """Only the forward and ``scaler.scale(loss).backward()`` are compiled. The scale is NaN when
    the step records; the caller then sets it with ``scaler.update(new_scale=64.0)``."""
    model = nn.Linear(3, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=float("nan"), growth_interval=1)

    def forward_backward(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        scaler.scale(loss).backward()
        return loss

    def call(step, index):
        if index == 2:
            scaler.update(new_scale=64.0)
        loss = step(_x())
        scaler.step(opt)
        scaler.update()
        return loss, scaler.get_scale()

    return compile(forward_backward), lambda: [_module_state(model), scaler.state_dict()], call


def _nan_factor_eval_case(compile):
    """A parametrization whose float factor is NaN when an evaluation step records, then 2.0."""
    model = nn.Linear(3, 3)
    scale = Scale()
    parametrize.register_parametrization(model, "weight", scale)
    scale.factor = float("nan")

    def step(x):
        with torch.no_grad():
            return model(x)

    def call(step, index):
        if index == 2:
            scale.factor = 2.0
        return step(_x())

    return compile(step), lambda: _module_state(model), call


@pytest.mark.parametrize("case", [_nan_scale_case, _nan_factor_eval_case], ids=["gradscaler", "parametrization"])
def test_float_setting_nan_when_recorded_then_finite(case):
    check(case)
