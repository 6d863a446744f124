"""chainrule.compile against eager execution on HOOKS in and around compiled training steps:
``Tensor.register_hook`` inside the step (gradient scaling, clipping, recording; returning None or
a new tensor; on intermediates and on parameters), ``retain_grad()`` on intermediates read after
the call, module forward / forward pre / full backward (pre) hooks registered before the first
call, between calls or inside the step, removed with ``handle.remove()``, hooks keeping
activations and gradients in a dict (feature extraction, Grad-CAM), global module hooks,
``with_kwargs=True``, hooks modifying the output, optimizer step and load-state-dict hooks,
``saved_tensors_hooks`` / ``save_on_cpu`` in the step, hooks toggled by a flag and hooks counting
their calls in a closure.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state, what the hooks kept, how many hooks are registered, and the random stream after
each call. A compiled run may record anew or fall back to eager with at most one warning.
"""
import functools
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.nn.modules import module as module_module
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value), None if value.grad is None else arr(value.grad))
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
    return value


def hook_counts(model):
    return [(name, len(m._forward_pre_hooks), len(m._forward_hooks), len(m._backward_hooks),
             len(m._backward_pre_hooks)) for name, m in model.named_modules()]


def module_state(model):
    return {
        "modules": [(name, type(m).__name__, bool(m.training)) for name, m in model.named_modules()],
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
        "state_dict": list(model.state_dict().keys()),
        "hooks": hook_counts(model),
    }


def observe(objects):
    return [snap(thing) for thing in objects]


class Case:
    def __init__(self, step, observe, inputs=None, before=None, after=None, make=None):
        self.step, self.observe, self.make = step, observe, make
        self.inputs = inputs or default_inputs
        self.before = before or (lambda i: None)
        self.after = after or (lambda: None)


def default_inputs(i):
    g = np.random.default_rng(100 + i)
    return (chainrule.tensor(g.standard_normal((4, 3))), chainrule.tensor(g.standard_normal((4, 2))))


def inputs_of(shape_in, n_out, dtype=np.float64, batches=(4,), classes=False):
    def inputs(i):
        g = np.random.default_rng(200 + i)
        b = batches[i % len(batches)]
        x = chainrule.tensor(g.standard_normal((b,) + shape_in).astype(dtype))
        if classes:
            y = chainrule.tensor(g.integers(0, n_out, size=b))
        else:
            y = chainrule.tensor(g.standard_normal((b, n_out)).astype(dtype))
        return x, y
    return inputs


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    if case.make is not None:  # the step compiles only a model: make(compile or identity) builds it
        function = case.make(chainrule.compile if compiled else (lambda m: m))
    else:
        function = chainrule.compile(case.step) if compiled else case.step
    history = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(calls):
                case.before(i)
                args = case.inputs(i)
                try:
                    result = function(*args)
                    history.append(("ok", snap(result)))
                except Exception as error:  # compared: type and message
                    history.append(("raised", type(error).__name__, str(error)))
                history.append(observe(case.observe()))
    finally:
        case.after()
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=6):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def lin(i=3, o=2, dtype="double"):
    return getattr(nn.Linear(i, o), dtype)()


def mlp(i=3, h=5, o=2):
    return nn.Sequential(lin(i, h), nn.Tanh(), lin(h, h), nn.ReLU(), lin(h, o))


def train_step(net, opt, loss_fn=F.mse_loss):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


# ----------------------------------------------------------------------------- tensor hooks on parameters
def test_param_grad_hooks_scale_by_closure_list_changed_between_calls():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
        scale = [1.0]
        for p in net.parameters():
            p.register_hook(lambda g: g * scale[0])

        def before(i):
            scale[0] = [1.0, 0.5, 0.5, 2.0, 0.25, 1.0, 1.0][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=7)


CLIP_VALUE = 0.1


def _clip_hook(g):
    return g.clamp(-CLIP_VALUE, CLIP_VALUE)


def test_param_grad_clipping_hook_reads_a_module_global_changed_between_calls():
    def setup():
        global CLIP_VALUE
        CLIP_VALUE = 0.1
        net = mlp(3, 6, 2)
        opt = optim.Adam(net.parameters(), lr=0.01)
        for p in net.parameters():
            p.register_hook(_clip_hook)

        def before(i):
            global CLIP_VALUE
            CLIP_VALUE = [0.1, 0.1, 0.01, 0.01, 1.0, 0.05][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=6)


def test_param_hook_registered_after_second_call_and_removed_at_fifth():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        handles = []

        def before(i):
            if i == 2:
                handles.extend(p.register_hook(lambda g: g * 0.5) for p in net.parameters())
            if i == 5:
                for h in handles:
                    h.remove()
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=7)


def test_param_hook_counting_calls_in_nonlocal_closure_variable():
    def setup():
        net = mlp()
        opt = optim.SGD(net.parameters(), lr=0.1)
        count = 0

        def hook(g):
            nonlocal count
            count += 1

        net[0].weight.register_hook(hook)
        return Case(train_step(net, opt), lambda: [net, count])

    same_as_eager(setup, calls=6)


def test_post_accumulate_grad_hook_optimizer_in_backward():
    def setup():
        net = mlp(3, 4, 2)
        opts = {p: optim.SGD([p], lr=0.05, momentum=0.9) for p in net.parameters()}

        def hook(p):
            opts[p].step()
            opts[p].zero_grad()

        for p in net.parameters():
            p.register_post_accumulate_grad_hook(hook)

        def step(x, y):
            loss = F.mse_loss(net(x), y)
            loss.backward()
            return loss
        return Case(step, lambda: [net] + list(opts.values()))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- tensor hooks on intermediates
class GradCamNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1).double(), nn.ReLU())
        self.head = lin(3, 4)
        self.activations = None
        self.gradients = None

    def save_grad(self, g):
        self.gradients = g

    def forward(self, x):
        a = self.features(x)
        if a.requires_grad:
            a.register_hook(self.save_grad)
        self.activations = a
        return self.head(a.mean(dim=(2, 3)))


def test_gradcam_intermediate_hook_stores_gradient_on_module():
    def setup():
        net = GradCamNet()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            weights = net.gradients.mean(dim=(2, 3), keepdim=True)
            cam = F.relu((weights * net.activations).sum(dim=1))
            return loss, cam.detach()
        return Case(step, lambda: [net], inputs=inputs_of((1, 5, 5), 4, classes=True))

    same_as_eager(setup, calls=6)


def test_intermediate_hook_scaling_gradient_by_attribute_changed_between_calls():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = lin(3, 5), lin(5, 2)
            self.grad_scale = 1.0

        def forward(self, x):
            h = torch_tanh(self.a(x))
            if self.training:
                h.register_hook(lambda g: g * self.grad_scale)
            return self.b(h)

    def setup():
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.grad_scale = [1.0, 1.0, -1.0, 0.5, 0.5, 3.0][i]
        return Case(train_step(net, opt), lambda: [net], before=before)

    same_as_eager(setup, calls=6)


torch_tanh = chainrule.tanh


def test_retain_grad_on_intermediate_read_after_call():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = lin(3, 5), lin(5, 2)
            self.hidden = None

        def forward(self, x):
            h = F.relu(self.a(x))
            h.retain_grad()
            self.hidden = h
            return self.b(h)

    def setup():
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, net.hidden])

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- module forward hooks
def test_feature_extraction_forward_hooks_store_activations_in_dict():
    def setup():
        net = mlp(3, 5, 2)
        feats = {}

        def keep(name):
            def hook(module, inputs, output):
                feats[name] = output.detach()
            return hook

        for name, m in net.named_children():
            m.register_forward_hook(keep(name))
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, dict(feats)])

    same_as_eager(setup, calls=6)


def test_feature_extraction_with_functools_partial_hooks():
    def setup():
        net = mlp(3, 5, 2)
        feats = {}

        def hook(module, inputs, output, name):
            feats[name] = output.detach().mean()

        for name, m in net.named_modules():
            if isinstance(m, nn.Linear):
                m.register_forward_hook(functools.partial(hook, name=name))
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.5)
        return Case(train_step(net, opt), lambda: [net, dict(feats)])

    same_as_eager(setup, calls=6)


def test_forward_hook_modifying_output_with_scale_in_closure_dict():
    def setup():
        net = mlp(3, 5, 2)
        cfg = {"scale": 1.0}
        net[2].register_forward_hook(lambda m, i, o: o * cfg["scale"])
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            cfg["scale"] = [1.0, 1.0, 0.5, 0.5, 2.0, 0.0][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=6)


def test_forward_hook_modifying_output_in_place():
    def setup():
        net = mlp(3, 5, 2)
        net[4].register_forward_hook(lambda m, i, o: o.mul_(0.5).add_(1.0))
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup, calls=6)


def test_forward_pre_hook_with_kwargs_normalizes_input():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lin(3, 2)

        def forward(self, x, scale=1.0):
            return self.fc(x) * scale

    def setup():
        net = Net()

        def pre(module, args, kwargs):
            x = args[0]
            x = (x - x.mean(dim=0)) / (x.std(dim=0) + 1e-5)
            return (x,), {"scale": kwargs.get("scale", 1.0) * 2.0}

        net.register_forward_pre_hook(pre, with_kwargs=True)
        opt = optim.SGD(net.parameters(), lr=0.1)
        scales = [1.0, 0.5, 0.5, 1.5, 1.0, 2.0]

        def step(x, y, s):
            opt.zero_grad()
            loss = F.mse_loss(net(x, scale=s), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net], inputs=lambda i: default_inputs(i) + (scales[i],))

    same_as_eager(setup, calls=6)


def test_forward_hook_with_kwargs_sees_kwargs_changed_between_calls():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lin(3, 2)

        def forward(self, x, temperature=1.0):
            return self.fc(x) / temperature

    def setup():
        net = Net()
        seen = []

        def hook(module, args, kwargs, output):
            if kwargs.get("temperature", 1.0) > 1.0:
                return output.clamp(-0.5, 0.5)
            return None

        net.register_forward_hook(hook, with_kwargs=True)
        opt = optim.SGD(net.parameters(), lr=0.1)
        temps = [1.0, 1.0, 2.0, 2.0, 0.5, 3.0]

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x, temperature=temps[len(seen)]), y)
            seen.append(0)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup, calls=6)


def test_forward_hook_toggled_by_module_flag_attribute():
    def setup():
        net = mlp(3, 5, 2)
        net.capture = False
        kept = {}

        def hook(module, inputs, output):
            if net.capture:
                kept["relu"] = output.detach().clone()

        net[3].register_forward_hook(hook)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.capture = i in (2, 3, 5)
        return Case(train_step(net, opt), lambda: [net, dict(kept)], before=before)

    same_as_eager(setup, calls=7)


def test_forward_hook_callable_object_with_enabled_flag():
    class Scaler:
        def __init__(self):
            self.enabled = True
            self.factor = 0.5

        def __call__(self, module, inputs, output):
            if self.enabled:
                return output * self.factor
            return None

    def setup():
        net = mlp(3, 5, 2)
        scaler = Scaler()
        net[0].register_forward_hook(scaler)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            scaler.enabled = i % 3 != 2
            scaler.factor = [0.5, 0.5, 0.5, 0.25, 0.25, 1.0, 1.0][i]
        return Case(train_step(net, opt), lambda: [net], before=before)

    same_as_eager(setup, calls=7)


def test_forward_hook_bound_method_of_tracker_accumulating_tensor_stats():
    class Tracker:
        def __init__(self):
            self.total = chainrule.zeros((), dtype=chainrule.float64)
            self.calls = 0

        def hook(self, module, inputs, output):
            with chainrule.no_grad():
                self.total += output.pow(2).mean()
            self.calls += 1

    def setup():
        net = mlp(3, 5, 2)
        tracker = Tracker()
        net[2].register_forward_hook(tracker.hook)
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, tracker.total, tracker.calls])

    same_as_eager(setup, calls=6)


def test_one_shot_forward_hook_removes_itself():
    def setup():
        net = mlp(3, 5, 2)
        handle = None

        def hook(module, inputs, output):
            handle.remove()
            return output * 0.0 + 1.0

        handle = net[4].register_forward_hook(hook)
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup, calls=5)


def test_forward_hook_registered_inside_step_each_call_leaks():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            net[2].register_forward_hook(lambda m, i, o: o * 0.9)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup, calls=5)


def test_forward_hook_registered_and_removed_inside_step_with_context_manager():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            acts = {}
            with net[1].register_forward_hook(lambda m, i, o: acts.__setitem__("tanh", o)):
                opt.zero_grad()
                loss = F.mse_loss(net(x), y) + 0.01 * acts["tanh"].pow(2).mean()
            loss.backward()
            opt.step()
            return loss, acts["tanh"]
        return Case(step, lambda: [net])

    same_as_eager(setup, calls=6)


def test_forward_pre_hook_registered_inside_step_each_call_leaks():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            net[0].register_forward_pre_hook(lambda m, args: (args[0] * 2.0,))
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup, calls=5)


def test_lazy_hook_registration_on_first_call_only():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = lin(3, 5), lin(5, 2)
            self.hooked = False

        def forward(self, x):
            if not self.hooked:
                self.a.register_forward_hook(lambda m, i, o: F.layer_norm(o, o.shape[-1:]))
                self.hooked = True
            return self.b(chainrule.tanh(self.a(x)))

    def setup():
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net])

    same_as_eager(setup, calls=6)


def test_hook_removed_inside_step_by_handle_held_on_module():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = lin(3, 5), lin(5, 2)
            self.handle = self.a.register_forward_hook(lambda m, i, o: o * 3.0)
            self.steps = 0

        def forward(self, x):
            out = self.b(self.a(x))
            self.steps += 1
            if self.steps == 3:
                self.handle.remove()
            return out

    def setup():
        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.05)
        return Case(train_step(net, opt), lambda: [net])

    same_as_eager(setup, calls=6)


def test_forward_hook_removed_between_calls_then_readded():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        handles = {}

        def hook(m, i, o):
            return o + 1.0

        def before(i):
            if i in (0, 3):
                handles["h"] = net[2].register_forward_hook(hook)
            if i in (2, 5):
                handles.pop("h").remove()
        return Case(train_step(net, opt), lambda: [net], before=before)

    same_as_eager(setup, calls=7)


def test_forward_hook_prepend_order_between_two_modifying_hooks():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                net[4].register_forward_hook(lambda m, i_, o: o * 2.0)
            if i == 4:
                net[4].register_forward_hook(lambda m, i_, o: o + 1.0, prepend=True)
        return Case(train_step(net, opt), lambda: [net], before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- global module hooks
def test_global_forward_hook_registered_between_calls_and_removed():
    handles = []

    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        stats = {}

        def hook(module, inputs, output):
            if isinstance(module, nn.ReLU):
                stats["dead"] = (output == 0).double().mean()

        def before(i):
            if i == 2:
                handles.append(module_module.register_module_forward_hook(hook))
            if i == 4:
                handles.pop().remove()

        def after():
            while handles:
                handles.pop().remove()
        return Case(train_step(net, opt), lambda: [net, dict(stats)], before=before, after=after)

    same_as_eager(setup, calls=6)


def test_global_forward_pre_hook_registered_inside_step_leaks():
    handles = []

    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            handles.append(module_module.register_module_forward_pre_hook(
                lambda m, args: (args[0] * 0.9,) if isinstance(m, nn.Linear) else None))
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def after():
            while handles:
                handles.pop().remove()
        return Case(step, lambda: [net], after=after)

    same_as_eager(setup, calls=5)


# ----------------------------------------------------------------------------- backward hooks
def test_gradcam_full_backward_hook_and_forward_hook_in_dict():
    def setup():
        net = GradCamNet()
        store = {}
        net.features.register_forward_hook(lambda m, i, o: store.__setitem__("act", o.detach()))
        net.features.register_full_backward_hook(lambda m, gi, go: store.__setitem__("grad", go[0].detach()))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            w = store["grad"].mean(dim=(2, 3), keepdim=True)
            return loss, F.relu((w * store["act"]).sum(dim=1))
        return Case(step, lambda: [net], inputs=inputs_of((1, 4, 4), 4, classes=True))

    same_as_eager(setup, calls=5)


def test_full_backward_pre_hook_scaling_grad_output_toggled():
    def setup():
        net = mlp(3, 5, 2)
        state = {"scale": 1.0}
        net[2].register_full_backward_pre_hook(lambda m, go: (go[0] * state["scale"],))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            state["scale"] = [1.0, 1.0, 0.1, 0.1, 10.0, 1.0][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- optimizer hooks
def test_optimizer_step_pre_hook_clipping_grads_registered_between_calls():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def clip(optimizer, args, kwargs):
            for group in optimizer.param_groups:
                nn.utils.clip_grad_norm_(group["params"], 0.05)

        def before(i):
            if i == 2:
                opt.register_step_pre_hook(clip)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup, calls=6)


def test_optimizer_step_post_hook_ema_of_weights():
    def setup():
        net = mlp(3, 5, 2)
        ema = [p.detach().clone() for p in net.parameters()]
        opt = optim.SGD(net.parameters(), lr=0.1)

        def post(optimizer, args, kwargs):
            with chainrule.no_grad():
                for e, p in zip(ema, net.parameters()):
                    e.mul_(0.9).add_(p, alpha=0.1)

        handle = opt.register_step_post_hook(post)

        def before(i):
            if i == 4:
                handle.remove()
        return Case(train_step(net, opt), lambda: [net, list(ema)], before=before)

    same_as_eager(setup, calls=6)


def test_global_optimizer_step_pre_hook_changing_lr():
    handles = []

    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def warmup(optimizer, args, kwargs):
            for g in optimizer.param_groups:
                g["lr"] = g["lr"] * 0.5

        def before(i):
            if i == 1:
                handles.append(optim.optimizer.register_optimizer_step_pre_hook(warmup))
            if i == 4:
                handles.pop().remove()

        def after():
            while handles:
                handles.pop().remove()
        return Case(train_step(net, opt), lambda: [net, opt, opt.param_groups[0]["lr"]], before=before, after=after)

    same_as_eager(setup, calls=6)


def test_optimizer_load_state_dict_hooks_between_calls():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.Adam(net.parameters(), lr=0.01)
        log = []

        def pre(optimizer, state_dict):
            for g in state_dict["param_groups"]:
                g["lr"] = 0.002
            return state_dict

        def post(optimizer):
            log.append(optimizer.param_groups[0]["lr"])

        opt.register_load_state_dict_pre_hook(pre)
        opt.register_load_state_dict_post_hook(post)
        saved = {}

        def before(i):
            if i == 2:
                saved["sd"] = opt.state_dict()
            if i == 4:
                opt.load_state_dict(saved["sd"])
        return Case(train_step(net, opt), lambda: [net, opt, list(log), opt.param_groups[0]["lr"]], before=before)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- saved tensors hooks
def test_saved_tensors_hooks_counting_packs_inside_step():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        packed = []

        def pack(t):
            packed.append(tuple(t.shape))
            return t

        def step(x, y):
            opt.zero_grad()
            with chainrule.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
                loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, list(packed)])

    same_as_eager(setup, calls=5)


def test_save_on_cpu_inside_step_float32():
    def setup():
        net = nn.Sequential(nn.Linear(4, 6), nn.GELU(), nn.Linear(6, 3))
        opt = optim.AdamW(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            with chainrule.autograd.graph.save_on_cpu(pin_memory=False):
                loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net, opt], inputs=inputs_of((4,), 3, dtype=np.float32, classes=True, batches=(5, 5, 3)))

    same_as_eager(setup, calls=6)


def test_saved_tensors_hooks_entered_by_caller_on_some_calls():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        step = train_step(net, opt)
        ctx = {}

        def pack(t):
            return t * 1.0

        def before(i):
            if "cm" in ctx:
                ctx.pop("cm").__exit__(None, None, None)
            if i in (2, 3):
                cm = chainrule.autograd.graph.saved_tensors_hooks(pack, lambda t: t)
                cm.__enter__()
                ctx["cm"] = cm

        def after():
            if "cm" in ctx:
                ctx.pop("cm").__exit__(None, None, None)
        return Case(step, lambda: [net], before=before, after=after)

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- a compiled model, backward outside
def model_step(opt, loss_fn=F.mse_loss):
    def make(model):
        def step(x, y):
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return step
    return make


def test_compiled_model_with_param_hooks_scaled_by_closure():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        scale = {"s": 1.0}
        for p in net.parameters():
            p.register_hook(lambda g: g * scale["s"])

        def before(i):
            scale["s"] = [1.0, 0.5, 0.5, 2.0, 1.0, 0.1][i]
        return Case(None, lambda: [net, opt], before=before, make=lambda c: model_step(opt)(c(net)))

    same_as_eager(setup, calls=6)


def test_compiled_model_forward_hook_on_submodule_registered_after_first_call():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 1:
                net[2].register_forward_hook(lambda m, i_, o: o * 0.5)
        return Case(None, lambda: [net], before=before, make=lambda c: model_step(opt)(c(net)))

    same_as_eager(setup, calls=6)


def test_compiled_model_hook_on_output_and_retain_grad_outside():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        seen = []

        def make(c):
            model = c(net)

            def step(x, y):
                opt.zero_grad()
                out = model(x)
                out.retain_grad()
                out.register_hook(lambda g: seen.append(g.detach().sum()) or g * 2.0)
                loss = F.mse_loss(out, y)
                loss.backward()
                opt.step()
                return loss, out.grad
            return step
        return Case(None, lambda: [net, list(seen)], make=make)

    same_as_eager(setup, calls=6)


def test_compiled_model_forward_hook_on_wrapper_module():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        outs = []

        def make(c):
            model = c(net)
            model.register_forward_hook(lambda m, i, o: outs.append(o.detach().sum()))
            return model_step(opt)(model)
        return Case(None, lambda: [list(net.parameters()), list(outs)], make=make)

    same_as_eager(setup, calls=6)


def test_compiled_model_full_backward_hook_registered_between_calls():
    def setup():
        net = mlp(3, 5, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        grads = {}

        def before(i):
            if i == 2:
                net[4].register_full_backward_hook(lambda m, gi, go: grads.__setitem__("go", go[0].detach()))
        return Case(None, lambda: [net, dict(grads)], before=before, make=lambda c: model_step(opt)(c(net)))

    same_as_eager(setup, calls=6)


# ----------------------------------------------------------------------------- hooks that read modes, values, randomness
def test_forward_hook_reads_module_training_flag_train_eval_toggled():
    def setup():
        net = mlp(3, 5, 2)
        net[2].register_forward_hook(lambda m, i, o: o + 0.1 if m.training else o)
        opt = optim.SGD(net.parameters(), lr=0.1)
        step = train_step(net, opt)

        def before(i):
            net.train(i % 3 != 1)
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=7)


def test_forward_hook_adding_gaussian_noise_to_activations():
    def setup():
        net = mlp(3, 5, 2)
        net[1].register_forward_hook(lambda m, i, o: o + 0.05 * chainrule.randn_like(o) if m.training else None)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.train(i != 3)
        return Case(train_step(net, opt), lambda: [net], before=before,
                    inputs=inputs_of((3,), 2, batches=(4, 4, 2)))

    same_as_eager(setup, calls=6)


def test_always_call_forward_hook_when_forward_raises_on_bad_batch():
    def setup():
        net = mlp(3, 5, 2)
        calls = []
        net.register_forward_hook(lambda m, i, o: calls.append(len(calls)), always_call=True)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def inputs(i):
            x, y = default_inputs(i)
            return (x[:, :2] if i == 3 else x), y
        return Case(train_step(net, opt), lambda: [net, list(calls)], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_hand_written_weight_mask_pre_hook_sets_weight_attribute():
    def setup():
        net = mlp(3, 5, 2)
        layer = net[0]
        w = layer.weight
        del layer._parameters["weight"]
        layer.register_parameter("weight_orig", w)
        layer.register_buffer("weight_mask", chainrule.ones_like(w))

        def apply_mask(module, args):
            module.weight = module.weight_orig * module.weight_mask

        layer.register_forward_pre_hook(apply_mask)
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                with chainrule.no_grad():
                    layer.weight_mask[:, 0] = 0.0
        return Case(train_step(net, opt), lambda: [net], before=before)

    same_as_eager(setup, calls=6)
