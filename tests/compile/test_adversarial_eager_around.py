"""chainrule.compile against eager execution where EAGER code around a compiled training step
observes what the step did: references taken before the loop (gradients, optimizer state, the
weights, their ``.data``, views of them, state dicts) read after replays; identities (``is``);
version counters (``_version``), and the errors a saved graph raises when they moved; hooks
registered or removed between calls; deepcopies, save/load, ``load_state_dict`` of earlier
state, ``parameters_to_vector``; EMA copies, evaluation, another backward, ``autograd.grad``,
``zero_grad`` and clipping done outside the step; settings, seeds and dtypes changed between calls.

Each test runs one scenario twice from the same seed, the step plain and compiled, and compares
everything the scenario logged, bit for bit. The compiled run may fall back to eager with at most
one warning, never differ.
"""
import copy
import io
import warnings

import numpy as np
import pytest

import chainrule as torch
from chainrule import nn, optim
from chainrule.nn import functional as F
from tests.compile.bitwise import assert_identical

CALLS = 8


# ----------------------------------------------------------------------------- the harness
def arr(value):
    """What is observable of ``value`` now, as copies: tensors as their arrays."""
    if isinstance(value, torch.Tensor):
        return value._array.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(arr(item) for item in value)
    if isinstance(value, dict):
        return {key: arr(item) for key, item in value.items()}
    return value


def data(index, rows=4, inputs=3, outputs=2):
    rng = np.random.default_rng(100 + index)
    return torch.tensor(rng.normal(size=(rows, inputs))), torch.tensor(rng.normal(size=(rows, outputs)))


def outcome(thunk):
    """``("ok", what thunk returned)`` or ``("error", the type of what it raised)``."""
    try:
        return ("ok", arr(thunk()))
    except RuntimeError as error:
        return ("error", type(error).__name__)


def run(scenario, compiled):
    torch.manual_seed(0)
    wrap = torch.compile if compiled else (lambda function: function)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = scenario(wrap, CALLS)
    log.append(("random", torch.default_generator.state_bytes()))
    return log, [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]


def assert_same_as_eager(scenario):
    eager, eager_messages = run(scenario, False)
    compiled, messages = run(scenario, True)
    assert not eager_messages
    assert len(messages) <= 1, messages
    assert_identical(compiled, eager, "log")


def model_and_optimizer(kind="sgd"):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    if kind == "sgd":
        return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return model, optim.Adam(model.parameters(), lr=0.01)


def training_step(model, optimizer, set_to_none=True):
    def step(x, y):
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def versions(tensors):
    return [tensor._version for tensor in tensors]


# ----------------------------------------------------------------------------- references kept outside
def test_gradients_kept_before_the_loop_with_zero_grad_keeping_them():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        params = list(model.parameters())
        step = wrap(training_step(model, optimizer, set_to_none=False))
        step(*data(0))
        grads = [param.grad for param in params]
        log = []
        for index in range(1, calls):
            log.append(arr(step(*data(index))))
            log.append([param.grad is grad for param, grad in zip(params, grads)])
            log.append(arr(grads))
            log.append(versions(params) + versions(grads))
        return log

    assert_same_as_eager(scenario)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimizer_state_tensors_kept_before_the_loop(kind):
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer(kind)
        params = list(model.parameters())
        step = wrap(training_step(model, optimizer))
        step(*data(0))
        kept = [dict(optimizer.state[param]) for param in params]
        log = []
        for index in range(1, calls):
            log.append(arr(step(*data(index))))
            log.append(arr(kept))
            log.append([all(optimizer.state[param][key] is value for key, value in state.items()) for param, state in zip(params, kept)])
            log.append([versions([v for v in state.values() if isinstance(v, torch.Tensor)]) for state in kept])
        return log

    assert_same_as_eager(scenario)


def test_weight_its_data_detached_and_views_kept_before_the_loop():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        weight = model[0].weight
        kept = [weight, weight.data, weight[0], weight.detach(), weight.t()]
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            log.append([model[0].weight is weight, optimizer.param_groups[0]["params"][0] is weight])
            log.append(arr(kept))
            log.append(versions(kept) + versions(model.parameters()))
            log.append([param.grad is None for param in model.parameters()])
            if index == 4:
                with torch.no_grad():
                    kept[2].fill_(0.25)  # a view of the weight written by the caller
        return log

    assert_same_as_eager(scenario)


@pytest.mark.parametrize("keep_vars", [False, True])
def test_state_dicts_taken_between_calls_alias_as_eagerly(keep_vars):
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer("adam")
        step = wrap(training_step(model, optimizer))
        kept, optimizer_kept = [], []
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            kept.append(model.state_dict(keep_vars=keep_vars))
            optimizer_kept.append(optimizer.state_dict())
            log.append(arr(kept))
            log.append(arr(optimizer_kept))
        return log

    assert_same_as_eager(scenario)


# ----------------------------------------------------------------------------- copies, checkpoints
def test_deepcopy_of_model_and_optimizer_mid_training_both_continued():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer("adam")
        step = wrap(training_step(model, optimizer))
        log = [arr(step(*data(index))) for index in range(3)]
        model_copy, optimizer_copy = copy.deepcopy(model), copy.deepcopy(optimizer)
        snapshot_model = copy.deepcopy(model)
        copy_step = wrap(training_step(model_copy, optimizer_copy))
        for index in range(3, calls):
            log.append(arr(step(*data(index))))
            log.append(arr(copy_step(*data(index + 10))))
            log.append(arr([list(model.parameters()), list(model_copy.parameters()), list(snapshot_model.parameters())]))
            log.append(arr([optimizer.state_dict()["state"], optimizer_copy.state_dict()["state"]]))
        return log

    assert_same_as_eager(scenario)


def test_checkpoint_saved_then_loaded_into_the_same_objects_and_continued():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer("adam")
        step = wrap(training_step(model, optimizer))
        log = [arr(step(*data(index))) for index in range(3)]
        buffer = io.BytesIO()
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
        log += [arr(step(*data(index))) for index in range(3, 5)]
        buffer.seek(0)
        checkpoint = torch.load(buffer)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        for index in range(3, calls):
            log.append(arr(step(*data(index))))
            log.append(arr([list(model.parameters()), optimizer.state_dict()]))
        return log

    assert_same_as_eager(scenario)


def test_checkpoint_loaded_into_fresh_objects_continued_beside_the_old():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer("adam")
        step = wrap(training_step(model, optimizer))
        log = [arr(step(*data(index))) for index in range(3)]
        buffer = io.BytesIO()
        torch.save({"model": model, "optimizer": optimizer.state_dict()}, buffer)
        buffer.seek(0)
        checkpoint = torch.load(buffer, weights_only=False)
        fresh = checkpoint["model"]
        fresh_optimizer = optim.Adam(fresh.parameters(), lr=0.01)
        fresh_optimizer.load_state_dict(checkpoint["optimizer"])
        fresh_step = wrap(training_step(fresh, fresh_optimizer))
        for index in range(3, calls):
            log.append(arr([fresh_step(*data(index)), step(*data(index))]))
            log.append(arr([list(fresh.parameters()), fresh_optimizer.state_dict(), list(model.parameters())]))
        return log

    assert_same_as_eager(scenario)


def test_optimizer_state_of_an_earlier_call_loaded_back():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer("adam")
        step = wrap(training_step(model, optimizer))
        step(*data(0))
        step(*data(1))
        earlier = optimizer.state_dict()
        log = []
        for index in range(2, calls):
            log.append(arr(step(*data(index))))
            if index == 4:
                optimizer.load_state_dict(earlier)
            log.append(arr([optimizer.state_dict()["state"], earlier["state"], list(model.parameters())]))
        return log

    assert_same_as_eager(scenario)


def test_model_state_loaded_with_assign_replaces_the_parameters_the_optimizer_holds():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            if index == 3:
                model.load_state_dict({key: value.clone() for key, value in model.state_dict().items()}, assign=True)
            log.append(arr(step(*data(index))))
            log.append(arr([list(model.parameters()), optimizer.param_groups[0]["params"]]))
            log.append([param.grad is None for param in model.parameters()])
        return log

    assert_same_as_eager(scenario)


# ----------------------------------------------------------------------------- eager code between calls
def test_parameters_to_vector_and_back_between_calls():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            vector = nn.utils.parameters_to_vector(model.parameters())
            log.append(arr(vector))
            if index % 2:
                nn.utils.vector_to_parameters(vector * 0.9, model.parameters())
            log.append(versions(model.parameters()))
        return log

    assert_same_as_eager(scenario)


def test_ema_copy_updated_eagerly_and_evaluated_under_no_grad():
    def scenario(wrap, calls):
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.3), nn.Linear(4, 2)).double()
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        ema = copy.deepcopy(model)
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            model.train()
            log.append(arr(step(*data(index))))
            model.eval()
            ema.eval()
            with torch.no_grad():
                for averaged, param in zip(ema.parameters(), model.parameters()):
                    averaged.mul_(0.9).add_(param, alpha=0.1)
                log.append(arr([model(data(index)[0]), ema(data(index)[0])]))
            log.append(arr(list(model.buffers())))
        return log

    assert_same_as_eager(scenario)


def test_eager_backward_of_another_graph_accumulates_into_the_kept_gradients():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()

        def step(x, y):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=False)
            return loss

        step = wrap(step)
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            (model(data(index + 50)[0]).sum() * 0.1).backward()
            log.append(arr([param.grad for param in model.parameters()]))
        return log

    assert_same_as_eager(scenario)


def test_autograd_grad_on_the_parameters_between_calls():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            log.append(arr(list(torch.autograd.grad(model(data(index)[0]).sum(), list(model.parameters())))))
            log.append(arr([param.grad for param in model.parameters()]))
        return log

    assert_same_as_eager(scenario)


def test_requires_grad_turned_off_then_on_between_calls():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            model[0].weight.requires_grad_(index not in (2, 3))
            log.append(arr(step(*data(index))))
            log.append(arr(list(model.parameters())))
            log.append([param.grad is None for param in model.parameters()])
        return log

    assert_same_as_eager(scenario)


def test_gradients_cleared_outside_a_step_that_accumulates():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()

        def step(x, y):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        step = wrap(step)
        log = []
        kept = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            kept.append(model[0].weight.grad)
            if index % 3 == 0:
                model.zero_grad()
            elif index % 3 == 1:
                model[0].weight.grad = None
            else:
                model.zero_grad(set_to_none=False)
            log.append(arr([param.grad for param in model.parameters()]))
            log.append(arr(kept) + [[grad is model[0].weight.grad for grad in kept]])
        return log

    assert_same_as_eager(scenario)


def test_gradient_clipped_outside_then_stepped_outside():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            return loss

        step = wrap(step)
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            log.append(arr(nn.utils.clip_grad_norm_(model.parameters(), 0.1)))
            optimizer.step()
            log.append(arr(list(model.parameters())))
        return log

    assert_same_as_eager(scenario)


def test_parameters_written_through_data_from_outside():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            model[0].weight.data.copy_(model[0].weight.data * 0.5)
            model[0].bias.data = model[0].bias.data + 1
            log.append(arr(list(model.parameters())))
        return log

    assert_same_as_eager(scenario)


def test_parameters_made_views_of_one_flat_buffer():
    def scenario(wrap, calls):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
        params = list(model.parameters())
        flat = torch.zeros(sum(param.numel() for param in params), dtype=torch.float64)
        offset = 0
        for param in params:
            flat[offset:offset + param.numel()] = param.data.reshape(-1)
            param.data = flat[offset:offset + param.numel()].view(param.shape)
            offset += param.numel()
        optimizer = optim.SGD(params, lr=0.1, momentum=0.9)
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            log.append(arr([flat, params]))
            if index == 4:
                flat.mul_(0.5)
        return log

    assert_same_as_eager(scenario)


def test_model_converted_to_float64_mid_training():
    def scenario(wrap, calls):
        model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            x, y = data(index)
            if index >= 3:
                model.to(torch.float64)
            else:
                x, y = x.float(), y.float()
            log.append(arr(step(x, y)))
            log.append(arr([list(model.parameters()), optimizer.state_dict()["state"]]))
        return log

    assert_same_as_eager(scenario)


def test_seed_reset_between_calls_of_a_step_with_dropout():
    def scenario(wrap, calls):
        model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            if index % 2:
                torch.manual_seed(index)
            log.append(arr([step(*data(index)), torch.rand(2)]))
        return log

    assert_same_as_eager(scenario)


def test_optimizer_state_replaced_or_dropped_outside():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            if index == 3:
                for param in model.parameters():
                    optimizer.state[param]["momentum_buffer"] = torch.zeros_like(param)
            if index == 5:
                optimizer.state[model[0].weight]["momentum_buffer"].mul_(0.0)
            if index == 6:
                del optimizer.state[model[0].bias]
            log.append(arr([step(*data(index)), list(model.parameters())]))
        return log

    assert_same_as_eager(scenario)


def test_settings_changed_and_a_group_added_between_calls():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        extra = nn.Linear(2, 2).double()

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(extra(model(x)), y)
            loss.backward()
            optimizer.step()
            return loss

        step = wrap(step)
        log = []
        for index in range(calls):
            if index == 2:
                optimizer.param_groups[0]["momentum"] = 0.5
            if index == 3:
                optimizer.add_param_group({"params": list(extra.parameters()), "lr": 0.05})
            if index == 4:
                optimizer.param_groups[0]["nesterov"] = True
            if index == 5:
                optimizer.param_groups[0]["weight_decay"] = 0.1
            log.append(arr([step(*data(index)), list(model.parameters()), list(extra.parameters())]))
        return log

    assert_same_as_eager(scenario)


def test_hooks_registered_and_removed_between_calls():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(training_step(model, optimizer))
        seen, handles, log = [], [], []
        for index in range(calls):
            if index == 3:
                handles.append(model[0].weight.register_hook(lambda grad: grad * 2))
                handles.append(model[2].bias.register_post_accumulate_grad_hook(lambda param: seen.append(arr(param.grad))))
                handles.append(optimizer.register_step_post_hook(lambda opt, args, kwargs: seen.append("stepped")))
            if index == 6:
                for handle in handles:
                    handle.remove()
            log.append(arr([step(*data(index)), list(model.parameters())]))
            log.append(list(seen))
            seen.clear()
        return log

    assert_same_as_eager(scenario)


def test_forward_compiled_backward_eager_with_the_weight_changed_between():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()
        step = wrap(lambda x, y: F.mse_loss(model(x), y))
        log = []
        for index in range(calls):
            loss = step(*data(index))
            if index % 2:
                with torch.no_grad():
                    model[0].weight.mul_(0.9)
            log.append(outcome(lambda: (loss.backward(), [param.grad for param in model.parameters()])[1]))
            log.append(versions(model.parameters()))
            model.zero_grad()
        return log

    assert_same_as_eager(scenario)


@pytest.mark.parametrize("how", ["add", "cat", "expand", "mul_both"])
def test_gradients_of_two_leaves_never_share_an_array(how):
    losses = {
        "add": lambda a, b, x: (a + b).sum(),
        "cat": lambda a, b, x: torch.cat([a, b]).sum(),
        "expand": lambda a, b, x: (a.expand(3, 4) + b).sum(),
        "mul_both": lambda a, b, x: (a * x + b * x).sum(),
    }

    def scenario(wrap, calls):
        a = torch.tensor(np.arange(4.0), requires_grad=True)
        b = torch.tensor(np.arange(4.0) * 2, requires_grad=True)

        def step(x):
            loss = losses[how](a, b, x)
            loss.backward()
            return loss

        step = wrap(step)
        log = []
        for index in range(calls):
            x = torch.tensor(np.linspace(0, 1, 4) + index)
            log.append(arr(step(x)))
            with torch.no_grad():
                a.grad.add_(1.0)  # must not reach b.grad
            log.append(arr([a.grad, b.grad]))
            if index % 3 == 2:
                a.grad = b.grad = None
            elif index % 3 == 1:
                b.grad = None
        return log

    assert_same_as_eager(scenario)


# ----------------------------------------------------------------------------- bugs: version counters
INPLACE_IN_STEP = {
    "buffer_add_and_counter": lambda model, buffer, counter, loss: (buffer.add_(model.bias), counter.add_(1)),
    "buffer_copy": lambda model, buffer, counter, loss: buffer.copy_(model.bias * 2),
    "buffer_index_put": lambda model, buffer, counter, loss: buffer.__setitem__(0, model.bias[1]),
    "buffer_lerp": lambda model, buffer, counter, loss: buffer.lerp_(model.bias, 0.1),
    "buffer_zero_through_detach": lambda model, buffer, counter, loss: buffer.detach().zero_(),
    "parameter_clamp": lambda model, buffer, counter, loss: model.weight.clamp_(-0.3, 0.3),
    "gradient_scaled": lambda model, buffer, counter, loss: model.weight.grad.mul_(0.5),
    "gradient_clipped": lambda model, buffer, counter, loss: nn.utils.clip_grad_norm_(model.parameters(), 0.1),
}


@pytest.mark.parametrize("name", sorted(INPLACE_IN_STEP))
def test_versions_moved_by_in_place_writes_inside_the_step(name):
    write = INPLACE_IN_STEP[name]

    def scenario(wrap, calls):
        model = nn.Linear(3, 2).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        buffer = torch.zeros(2, dtype=torch.float64)
        counter = torch.zeros((), dtype=torch.float64)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.mse_loss(model(x), y)
            loss.backward()
            with torch.no_grad():
                write(model, buffer, counter, loss)
            optimizer.step()
            return loss

        step = wrap(step)
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            log.append(arr([buffer, counter, model.weight, model.bias]))
            log.append(versions([buffer, counter, model.weight, model.bias, model.weight.grad]))
        return log

    assert_same_as_eager(scenario)


def test_batch_norm_running_statistics_versions():
    def scenario(wrap, calls):
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        step = wrap(training_step(model, optimizer))
        log = []
        for index in range(calls):
            log.append(arr(step(*data(index))))
            log.append(versions(model.buffers()))
        return log

    assert_same_as_eager(scenario)


@pytest.mark.parametrize("written", ["running_var", "parameter_by_hand", "argument", "kept_buffer"])
def test_graph_built_outside_before_the_step_refuses_backward_after_it(written):
    def scenario(wrap, calls):
        model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double()
        total = torch.zeros(2, dtype=torch.float64)

        def step(x, y):
            with torch.no_grad():
                x.mul_(0.5)
            loss = F.mse_loss(model(x), y)
            loss.backward()
            with torch.no_grad():
                for param in model.parameters():
                    param.sub_(0.1 * param.grad)  # SGD by hand, no optimizer
                total.add_(model[2].bias)
            model.zero_grad()
            return loss

        step = wrap(step)
        scale = torch.ones(4, dtype=torch.float64, requires_grad=True)
        log = []
        for index in range(calls):
            x, y = data(index)
            saved = {
                "running_var": lambda: model[1].running_var * scale,
                "parameter_by_hand": lambda: model[0].weight.t()[0] * scale[:3].sum(),
                "argument": lambda: x[0] * scale[:3],
                "kept_buffer": lambda: total * scale[:2],
            }[written]()
            log.append(arr(step(x, y)))
            log.append(outcome(lambda: (saved.sum().backward(), scale.grad)[1]))
            scale.grad = None
        return log

    assert_same_as_eager(scenario)


# ----------------------------------------------------------------------------- bugs: gradients returned
def test_gradient_returned_by_a_step_that_clears_it_after_the_update():
    def scenario(wrap, calls):
        model, optimizer = model_and_optimizer()

        def step(x, y):
            loss = F.mse_loss(model(x), y)
            loss.backward()
            grad = model[0].weight.grad
            optimizer.step()
            optimizer.zero_grad()
            return loss, grad

        step = wrap(step)
        log = []
        for index in range(calls):
            loss, grad = step(*data(index))
            log.append((type(grad).__name__, arr([loss, grad]), model[0].weight.grad is None))
        return log

    assert_same_as_eager(scenario)
