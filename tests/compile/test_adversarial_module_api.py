"""chainrule.compile against eager execution on the nn.Module API and dtypes used inside or
between compiled calls: apply/init, iteration over named modules with conditions on names,
train/eval and requires_grad_ from closures, registering/deleting parameters, buffers and
submodules inside the step, dtype conversions, ModuleDict/ModuleList chosen by key, weight tying,
parameter replacement, load_state_dict / deepcopy target networks, EMA targets, embeddings
(padding_idx, max_norm, EmbeddingBag modes, sparse), default dtype changes, mixed-dtype errors.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, and the module structure,
parameters (names, values, dtypes, grads), buffers and training flags after each call. A compiled
run may record anew or fall back to eager with at most one warning.
"""
import copy
import warnings

import numpy as np
import pytest

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array((t.to_dense() if t.is_sparse else t).detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
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
        if isinstance(thing, nn.Module):
            out.append(module_state(thing))
        elif isinstance(thing, optim.Optimizer):
            out.append([{k: snap(v) for k, v in s.items()} for s in thing.state.values()])
        else:
            out.append(snap(thing))
    return out


class Case:
    def __init__(self, step, observe, inputs=None, before=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or default_inputs
        self.before = before or (lambda i: None)


def default_inputs(i):
    g = np.random.default_rng(100 + i)
    return (chainrule.tensor(g.standard_normal((4, 3))), chainrule.tensor(g.standard_normal((4, 2))))


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    default_dtype = chainrule.get_default_dtype()
    case = setup()
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
        chainrule.set_default_dtype(default_dtype)
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=5):
    """Returns the compiled run's warnings (fall-backs)."""
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def lin(i=3, o=2):
    return nn.Linear(i, o).double()


class Two(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = lin(3, 4)
        self.b = lin(4, 2)

    def forward(self, x):
        return self.b(chainrule.tanh(self.a(x)))


def sgd_step(net, opt, before_loss=None):
    def step(x, y):
        if before_loss:
            before_loss()
        opt.zero_grad()
        loss = F.mse_loss(net(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


# ----------------------------------------------------------------------------- scenarios
def test_apply_init_fn_inside_the_step_every_other_call():
    def setup():
        net = Two()
        opt = optim.SGD(net.parameters(), lr=0.1)
        flag = {"reinit": False}

        def init(m):
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.5)
                nn.init.zeros_(m.bias)

        def step(x, y):
            if flag["reinit"]:
                net.apply(init)
            return sgd_step(net, opt)(x, y)

        def before(i):
            flag["reinit"] = i % 2 == 1
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_named_parameters_filtered_by_name_with_a_closure_prefix():
    def setup():
        net = Two()
        state = {"prefix": "a."}

        def step(x, y):
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                for name, p in net.named_parameters():
                    if name.startswith(state["prefix"]):
                        p -= 0.1 * p.grad
            return loss

        def before(i):
            state["prefix"] = "a." if i < 2 else "b."
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_named_modules_and_children_conditions_inside_the_step():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 4), nn.ReLU(), lin(4, 2))
        opt = optim.SGD(net.parameters(), lr=0.1)
        skip = {"name": "2"}

        def step(x, y):
            opt.zero_grad()
            out = x
            for name, child in net.named_children():
                if name == skip["name"]:
                    continue
                out = child(out)
            loss = F.mse_loss(out, y) + sum(m.weight.square().sum() for n, m in net.named_modules() if isinstance(m, nn.Linear) and n != "0") * 0.01
            loss.backward()
            opt.step()
            return loss

        def before(i):
            skip["name"] = "2" if i % 2 == 0 else "3"
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_train_flag_from_a_closure_with_dropout_and_batchnorm():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.BatchNorm1d(4).double(), nn.Dropout(0.5), lin(4, 2))
        opt = optim.SGD(net.parameters(), lr=0.1)
        mode = {"train": True}

        def step(x, y):
            net.train(mode["train"])
            out = net(x)
            loss = F.mse_loss(out, y)
            if mode["train"]:
                opt.zero_grad()
                loss.backward()
                opt.step()
            return loss.detach(), out.detach()

        def before(i):
            mode["train"] = i not in (2, 4)
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=6)


def test_eval_inside_step_then_train_back():
    def setup():
        net = nn.Sequential(lin(3, 4), nn.BatchNorm1d(4).double(), lin(4, 2))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            net.eval()
            with chainrule.no_grad():
                val = F.mse_loss(net(x), y)
            net.train()
            return loss, val
        return Case(step, lambda: [net])

    same_as_eager(setup)


def test_requires_grad_flag_on_submodule_from_closure():
    def setup():
        net = Two()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
        flag = {"freeze": False}

        def step(x, y):
            net.a.requires_grad_(not flag["freeze"])
            return sgd_step(net, opt)(x, y)

        def before(i):
            flag["freeze"] = i in (1, 2, 4)
        return Case(step, lambda: [net, opt], before=before)

    same_as_eager(setup, calls=6)


def test_register_buffer_inside_the_step():
    def setup():
        net = Two()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            out = net(x)
            net.register_buffer("last_mean", out.detach().mean(0))
            loss = F.mse_loss(out, y)
            loss.backward()
            opt.step()
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup)


def test_register_parameter_inside_the_step_on_first_call_only():
    def setup():
        net = Two()

        def step(x, y):
            if not hasattr(net, "scale"):
                net.register_parameter("scale", nn.Parameter(chainrule.ones(2, dtype=chainrule.float64)))
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net(x) * net.scale, y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup)


def test_add_module_inside_the_step_when_a_counter_argument_says_so():
    def setup():
        net = Two()

        def step(x, y, k):
            if k == 2:
                net.add_module("extra", lin(2, 2))
            for p in net.parameters():
                p.grad = None
            out = net(x)
            if hasattr(net, "extra"):
                out = net.extra(out)
            loss = F.mse_loss(out, y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        def inputs(i):
            return default_inputs(i) + (i,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_setattr_new_layer_inside_the_step_each_call():
    """A fresh layer assigned on every call: each call's new random init must be drawn again."""
    def setup():
        net = Two()

        def step(x, y):
            net.head = lin(2, 2)
            out = net.head(net(x))
            loss = F.mse_loss(out, y)
            loss.backward()
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup)


def test_del_submodule_inside_the_step():
    def setup():
        net = Two()
        net.extra = lin(2, 2)

        def step(x, y, k):
            if k == 2 and hasattr(net, "extra"):
                del net.extra
            out = net(x)
            if hasattr(net, "extra"):
                out = net.extra(out)
            loss = F.mse_loss(out, y)
            loss.backward()
            return loss

        def inputs(i):
            return default_inputs(i) + (i,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_model_to_float64_inside_the_step_on_a_later_call():
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))

        def step(x, y, k):
            if k == 2:
                net.to(chainrule.float64)
            x = x.to(net[0].weight.dtype)
            y = y.to(net[0].weight.dtype)
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        def inputs(i):
            x, y = default_inputs(i)
            return x.float(), y.float(), i
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


@pytest.mark.parametrize("conv", ["double", "half", "float"])
def test_model_dtype_converted_between_calls(conv):
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            dtype = net[0].weight.dtype
            opt.zero_grad()
            loss = F.mse_loss(net(x.to(dtype)), y.to(dtype))
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 2:
                getattr(net, conv)()
            if i == 4:
                net.float()
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=6)


def test_moduledict_key_and_modulelist_index_change_between_calls():
    def setup():
        heads = nn.ModuleDict({"x": lin(4, 2), "y": lin(4, 2), "z": nn.Sequential(lin(4, 4), nn.ReLU(), lin(4, 2))})
        trunks = nn.ModuleList([lin(3, 4), lin(3, 4)])
        holder = nn.Module()
        holder.heads, holder.trunks = heads, trunks
        opt = optim.Adam(holder.parameters(), lr=0.01)

        def step(x, y, key, idx):
            opt.zero_grad()
            loss = F.mse_loss(heads[key](trunks[idx](x)), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return default_inputs(i) + ("xyzxy"[i], i % 2)
        return Case(step, lambda: [holder, opt], inputs=inputs)

    same_as_eager(setup)


def test_getattr_switching_submodule_by_name_in_closure():
    def setup():
        net = nn.Module()
        net.enc1, net.enc2 = lin(3, 2), lin(3, 2)
        opt = optim.SGD(net.parameters(), lr=0.1)
        which = {"name": "enc1"}

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(getattr(net, which["name"])(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            which["name"] = "enc1" if i % 3 else "enc2"
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=6)


def test_weight_tying_done_and_undone_between_calls():
    def setup():
        net = nn.Module()
        net.enc, net.dec = lin(3, 3), lin(3, 3)
        opt = optim.SGD(net.parameters(), lr=0.1)
        original = net.dec.weight

        def step(x, y):
            for p in net.parameters():
                p.grad = None
            original.grad = None
            loss = F.mse_loss(net.dec(chainrule.tanh(net.enc(x))), chainrule.cat([y, y[:, :1]], 1))
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        def before(i):
            if i == 1:
                net.dec.weight = net.enc.weight
            if i == 3:
                net.dec.weight = original
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_weight_tying_inside_the_step_by_argument():
    def setup():
        net = nn.Module()
        net.enc, net.dec = lin(3, 3), lin(3, 3)
        original = net.dec.weight

        def step(x, y, tie):
            net.dec.weight = net.enc.weight if tie else original
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net.dec(chainrule.tanh(net.enc(x))), chainrule.cat([y, y[:, :1]], 1))
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        def inputs(i):
            return default_inputs(i) + (i % 2 == 1,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_shared_submodule_used_twice_in_one_forward():
    def setup():
        shared = lin(3, 3)
        net = nn.Module()
        net.first, net.second = shared, shared
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y):
            opt.zero_grad()
            out = net.second(chainrule.tanh(net.first(x)))
            loss = F.mse_loss(out[:, :2], y)
            loss.backward()
            opt.step()
            return loss, [n for n, _ in net.named_parameters()]
        return Case(step, lambda: [net, opt])

    same_as_eager(setup)


def test_model_zero_grad_set_to_none_false_vs_optimizer_zero_grad():
    def setup():
        net = Two()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y, mode):
            if mode == 0:
                net.zero_grad()
            elif mode == 1:
                net.zero_grad(set_to_none=False)
            elif mode == 2:
                opt.zero_grad(set_to_none=False)
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return default_inputs(i) + ([3, 1, 2, 3, 0, 2][i],)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_parameter_replaced_with_a_new_parameter_between_calls():
    def setup():
        net = Two()

        def step(x, y):
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss

        def before(i):
            if i in (2, 3):
                net.a.weight = nn.Parameter(net.a.weight.detach() * 0.5)
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_parameter_replaced_inside_the_step():
    def setup():
        net = Two()

        def step(x, y):
            net.b.bias = nn.Parameter(chainrule.zeros(2, dtype=chainrule.float64))
            for p in net.parameters():
                p.grad = None
            loss = F.mse_loss(net(x), y)
            loss.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.1 * p.grad
            return loss
        return Case(step, lambda: [net])

    same_as_eager(setup)


def test_bfloat16_conversion_inside_the_step_raises_as_eager():
    def setup():
        net = Two()

        def step(x, y, k):
            if k >= 2:
                net.bfloat16()
            return F.mse_loss(net(x), y)

        def inputs(i):
            return default_inputs(i) + (i,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_load_state_dict_strict_false_inside_the_step():
    def setup():
        net, src = Two(), Two()
        opt = optim.SGD(net.parameters(), lr=0.1)
        partial_state = {k: v for k, v in src.state_dict().items() if k.startswith("b.")}
        partial_state["unexpected"] = chainrule.zeros(1)

        def step(x, y, k):
            if k % 2 == 0:
                result = net.load_state_dict(partial_state, strict=False)
                keys = (list(result.missing_keys), list(result.unexpected_keys))
            else:
                keys = None
            loss = sgd_step(net, opt)(x, y)
            return loss, keys

        def inputs(i):
            return default_inputs(i) + (i,)
        return Case(step, lambda: [net, src], inputs=inputs)

    same_as_eager(setup)


def test_target_network_synced_every_k_calls_by_counter_argument():
    def setup():
        net = Two()
        target = copy.deepcopy(net)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, count):
            if count % 2 == 0:
                target.load_state_dict(net.state_dict())
            opt.zero_grad()
            with chainrule.no_grad():
                goal = target(x) * 0.5 + y
            loss = F.mse_loss(net(x), goal)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return default_inputs(i) + (i,)
        return Case(step, lambda: [net, target, opt], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_deepcopy_of_the_model_inside_the_step():
    def setup():
        net = Two()
        opt = optim.SGD(net.parameters(), lr=0.1)
        kept = {}

        def step(x, y):
            target = copy.deepcopy(net)
            kept["target"] = target
            opt.zero_grad()
            with chainrule.no_grad():
                goal = target(x) + y
            loss = F.mse_loss(net(x), goal)
            loss.backward()
            opt.step()
            return loss, target.a.weight
        return Case(step, lambda: [net, kept.get("target", net)])

    same_as_eager(setup)


def test_polyak_target_update_with_data_mul_add_under_no_grad():
    def setup():
        net = Two()
        target = copy.deepcopy(net)
        for p in target.parameters():
            p.requires_grad_(False)
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, tau):
            opt.zero_grad()
            loss = F.mse_loss(net(x), target(x).detach() + y)
            loss.backward()
            opt.step()
            with chainrule.no_grad():
                for p_t, p in zip(target.parameters(), net.parameters()):
                    p_t.data.mul_(tau).add_(p.data, alpha=1 - tau)
            return loss

        def inputs(i):
            return default_inputs(i) + ([0.9, 0.9, 0.5, 0.9, 0.99][i],)
        return Case(step, lambda: [net, target, opt], inputs=inputs)

    same_as_eager(setup)


def test_float16_parameters_and_inputs():
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).half()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def step(x, y):
            return sgd_step(net, opt)(x, y)

        def inputs(i):
            x, y = default_inputs(i)
            return x.half(), y.half()
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_int8_input_to_a_float_model_raises_or_casts_as_eager():
    def setup():
        net = Two()

        def step(x, y, cast):
            xi = (x * 10).to(chainrule.int8)
            if cast:
                xi = xi.double()
            return F.mse_loss(net(xi), y)

        def inputs(i):
            return default_inputs(i) + (i % 2 == 1,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_mixed_dtype_matmul_error_after_successful_calls():
    def setup():
        net = nn.Linear(3, 2)  # float32

        def step(x, y):
            return F.mse_loss(net(x), y)

        def inputs(i):
            x, y = default_inputs(i)
            return (x.float() if i != 2 else x), y.float()
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_set_default_dtype_changed_between_calls():
    def setup():
        net = Two()

        def step(x, y):
            noise = chainrule.zeros(4, 2) + chainrule.arange(2)
            bias = chainrule.tensor(0.5)
            out = net(x)
            return F.mse_loss(out + noise.to(out.dtype), y) * bias, noise, bias

        def before(i):
            chainrule.set_default_dtype(chainrule.float64 if i % 2 else chainrule.float32)
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_layer_created_inside_the_step_follows_default_dtype_changed_between_calls():
    def setup():
        kept = {}

        def step(x, y):
            layer = nn.Linear(3, 2)
            kept["layer"] = layer
            return layer(x.to(layer.weight.dtype)), layer.weight.dtype

        def before(i):
            chainrule.set_default_dtype(chainrule.float64 if i in (1, 2) else chainrule.float32)
        return Case(step, lambda: [kept.get("layer", nn.Module())], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- embeddings
def index_inputs(i, n=6, size=(5,)):
    g = np.random.default_rng(300 + i)
    idx = chainrule.tensor(g.integers(0, n, size=size))
    return idx, chainrule.tensor(g.standard_normal(size + (3,)))


def test_embedding_padding_idx_with_integer_inputs():
    def setup():
        emb = nn.Embedding(6, 3, padding_idx=0).double()
        opt = optim.SGD(emb.parameters(), lr=0.5, momentum=0.9)
        return Case(sgd_step(emb, opt), lambda: [emb, opt], inputs=index_inputs)

    same_as_eager(setup)


@pytest.mark.parametrize("scale", [False, True])
def test_embedding_max_norm_renormalizes_weights_in_place(scale):
    def setup():
        emb = nn.Embedding(6, 3, max_norm=1.0, scale_grad_by_freq=scale).double()
        with chainrule.no_grad():
            emb.weight.mul_(3.0)
        opt = optim.SGD(emb.parameters(), lr=0.5)
        return Case(sgd_step(emb, opt), lambda: [emb], inputs=index_inputs)

    same_as_eager(setup)


def test_embedding_max_norm_with_padding_idx_and_2d_indices():
    def setup():
        emb = nn.Embedding(6, 3, max_norm=0.5, norm_type=1.0, padding_idx=2).double()
        with chainrule.no_grad():
            emb.weight.mul_(3.0)
        opt = optim.Adam(emb.parameters(), lr=0.1)
        return Case(sgd_step(emb, opt), lambda: [emb, opt], inputs=lambda i: index_inputs(i, size=(2, 4)))

    same_as_eager(setup)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_modes_with_offsets(mode):
    def setup():
        bag = nn.EmbeddingBag(6, 3, mode=mode).double()
        opt = optim.SGD(bag.parameters(), lr=0.5)

        def step(idx, offsets, y):
            opt.zero_grad()
            loss = F.mse_loss(bag(idx, offsets), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            g = np.random.default_rng(400 + i)
            offsets = [[0, 2, 5], [0, 1, 3], [0, 4, 4], [0, 2, 5], [0, 3, 6]][i]
            return (chainrule.tensor(g.integers(0, 6, size=(7,))), chainrule.tensor(np.array(offsets)),
                    chainrule.tensor(g.standard_normal((3, 3))))
        return Case(step, lambda: [bag], inputs=inputs)

    same_as_eager(setup)


def test_embedding_bag_per_sample_weights_and_padding_idx():
    def setup():
        bag = nn.EmbeddingBag(6, 3, mode="sum", padding_idx=1).double()
        opt = optim.SGD(bag.parameters(), lr=0.5)

        def step(idx, w, y):
            opt.zero_grad()
            loss = F.mse_loss(bag(idx, per_sample_weights=w), y)
            loss.backward()
            opt.step()
            return loss, w.grad

        def inputs(i):
            g = np.random.default_rng(500 + i)
            w = chainrule.tensor(g.standard_normal((2, 4)), requires_grad=True)
            return chainrule.tensor(g.integers(0, 6, size=(2, 4))), w, chainrule.tensor(g.standard_normal((2, 3)))
        return Case(step, lambda: [bag], inputs=inputs)

    same_as_eager(setup)


def test_sparse_embedding_gradient():
    def setup():
        emb = nn.Embedding(6, 3, sparse=True).double()
        opt = optim.SGD(emb.parameters(), lr=0.5)

        def step(idx, y):
            opt.zero_grad()
            loss = F.mse_loss(emb(idx), y)
            loss.backward()
            g = emb.weight.grad
            dense = g.to_dense() if getattr(g, "is_sparse", False) else g
            opt.step()
            return loss, dense, bool(getattr(g, "is_sparse", False))
        return Case(step, lambda: [emb], inputs=index_inputs)

    same_as_eager(setup)


def test_embedding_index_out_of_range_on_a_later_call_raises_as_eager():
    def setup():
        emb = nn.Embedding(6, 3, padding_idx=0).double()
        opt = optim.SGD(emb.parameters(), lr=0.5)

        def inputs(i):
            idx, y = index_inputs(i)
            if i == 3:
                idx = idx + 6
            return idx, y
        return Case(sgd_step(emb, opt), lambda: [emb], inputs=inputs)

    same_as_eager(setup)


def test_embedding_padding_idx_row_written_between_calls():
    def setup():
        emb = nn.Embedding(6, 3, padding_idx=0).double()
        opt = optim.SGD(emb.parameters(), lr=0.5)

        def before(i):
            if i == 2:
                with chainrule.no_grad():
                    emb.weight[0] = 1.0
            if i == 3:
                emb.padding_idx = 1
        return Case(sgd_step(emb, opt), lambda: [emb], inputs=index_inputs, before=before)

    same_as_eager(setup)


def test_embedding_max_norm_changed_between_calls():
    def setup():
        emb = nn.Embedding(6, 3, max_norm=2.0).double()
        with chainrule.no_grad():
            emb.weight.mul_(3.0)
        opt = optim.SGD(emb.parameters(), lr=0.5)

        def before(i):
            emb.max_norm = [2.0, 1.0, None, 0.5, 1.0][i]
        return Case(sgd_step(emb, opt), lambda: [emb], inputs=index_inputs, before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- replay-friendly variants
def zero_and_sgd(net, loss):
    loss.backward()
    with chainrule.no_grad():
        for p in net.parameters():
            p -= 0.1 * p.grad
    net.zero_grad()
    return loss


def test_add_module_inside_the_step_by_a_flag_argument_replays():
    def setup():
        net = Two()

        def step(x, y, grow):
            if grow and not hasattr(net, "extra"):
                net.add_module("extra", lin(2, 2))
            out = net(x)
            if hasattr(net, "extra"):
                out = net.extra(out)
            return zero_and_sgd(net, F.mse_loss(out, y))

        def inputs(i):
            return default_inputs(i) + (i >= 2,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_layer_created_inside_the_step_returned_under_changing_default_dtype():
    def setup():
        def step(x, y):
            layer = nn.Linear(3, 2)
            return layer(x.to(layer.weight.dtype)), layer.weight

        def before(i):
            chainrule.set_default_dtype(chainrule.float64 if i in (1, 2) else chainrule.float32)
        return Case(step, lambda: [], before=before)

    same_as_eager(setup)


def test_parameter_replaced_inside_the_step_without_grad_bookkeeping():
    def setup():
        net = Two()
        opt = optim.SGD(net.a.parameters(), lr=0.1)

        def step(x, y, scale):
            net.b.weight = nn.Parameter(chainrule.ones(2, 4, dtype=chainrule.float64) * scale)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss, net.b.weight.grad

        def inputs(i):
            return default_inputs(i) + (0.5,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup)


def test_weight_tied_inside_the_step_unconditionally_then_untied_between_calls():
    def setup():
        net = nn.Module()
        net.enc, net.dec = lin(3, 3), lin(3, 3)
        original = net.dec.weight

        def step(x, y):
            net.dec.weight = net.enc.weight
            out = net.dec(chainrule.tanh(net.enc(x)))
            return zero_and_sgd(net, F.mse_loss(out[:, :2], y))

        def before(i):
            if i in (2, 4):
                net.dec.weight = original
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup)


def test_submodule_swapped_inside_the_step_by_flag():
    def setup():
        net = Two()
        spare_a, spare_b = lin(3, 4), net.a

        def step(x, y, use_spare):
            net.a = spare_a if use_spare else spare_b
            return zero_and_sgd(net, F.mse_loss(net(x), y))

        def inputs(i):
            return default_inputs(i) + (i % 2 == 1,)
        return Case(step, lambda: [net, spare_a, spare_b], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_buffer_rebound_to_another_modules_buffer_inside_the_step():
    def setup():
        bn1, bn2 = nn.BatchNorm1d(3).double(), nn.BatchNorm1d(3).double()
        holder = nn.Module()
        holder.bn1, holder.bn2 = bn1, bn2
        own = bn2.running_mean

        def step(x, y, share):
            bn2.running_mean = bn1.running_mean if share else own
            out = bn2(bn1(x))
            return out.sum(), bn2.running_mean is bn1.running_mean

        def inputs(i):
            return default_inputs(i) + (i % 2 == 1,)
        return Case(step, lambda: [holder, own], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_modulelist_item_assigned_inside_the_step_by_index_argument():
    def setup():
        layers = nn.ModuleList([lin(3, 2), lin(3, 2)])
        pool = [lin(3, 2), lin(3, 2)]

        def step(x, y, slot, which):
            layers[slot] = pool[which]
            out = layers[0](x) + layers[1](x)
            return zero_and_sgd(layers, F.mse_loss(out, y))

        def inputs(i):
            return default_inputs(i) + ([0, 1, 0, 1, 0, 1][i], [0, 1, 1, 0, 0, 1][i])
        return Case(step, lambda: [layers] + pool, inputs=inputs)

    same_as_eager(setup, calls=6)


def test_half_conversion_inside_the_step_by_flag():
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))

        def step(x, y, half):
            if half:
                net.half()
            else:
                net.float()
            dtype = net[0].weight.dtype
            return F.mse_loss(net(x.to(dtype)), y.to(dtype))

        def inputs(i):
            return default_inputs(i) + (i % 2 == 1,)
        return Case(step, lambda: [net], inputs=inputs)

    same_as_eager(setup, calls=6)


def test_requires_grad_of_one_parameter_toggled_inside_the_step_with_adam():
    def setup():
        net = Two()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def step(x, y, train_bias):
            net.b.bias.requires_grad_(train_bias)
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def inputs(i):
            return default_inputs(i) + ([True, False, False, True, False, True][i],)
        return Case(step, lambda: [net, opt], inputs=inputs)

    same_as_eager(setup, calls=6)
