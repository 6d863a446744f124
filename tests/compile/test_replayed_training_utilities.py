"""Training utilities that once made a compiled step run eagerly, now replayed: the Transformer,
gumbel_softmax, rrelu, the schedulers that step otherwise (CosineAnnealingWarmRestarts,
SequentialLR, ChainedScheduler) and clip_grad_norm_ with ``error_if_nonfinite``.

Each test builds the same model twice from one seed and runs a training step eagerly and compiled
side by side: every call must give the same loss, gradients, parameters, optimizer state, learning
rate and random stream, bit for bit, with one recording and no warning.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.optim import lr_scheduler

CALLS = 5


def same(a, b):
    """Bit for bit: the same dtype, shape and bytes (NaNs and signed zeros included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def state_of(model, optimizer):
    """Everything a step changes: parameters, gradients, optimizer state and settings, the stream."""
    parameters = [p.detach().numpy().copy() for p in model.parameters()]
    grads = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    buffers = [
        value.numpy().copy() if isinstance(value, chainrule.Tensor) else value
        for state in optimizer.state.values()
        for value in state.values()
    ]
    settings = [{key: value for key, value in group.items() if key != "params"} for group in optimizer.param_groups]
    return parameters, grads, buffers, settings, chainrule.default_generator.state_bytes()


def assert_same_state(eager, compiled):
    for one, other in zip(eager[:3], compiled[:3], strict=True):
        for a, b in zip(one, other, strict=True):
            assert (a is None and b is None) or same(a, b)
    assert eager[3] == compiled[3]
    assert eager[4] == compiled[4]


def side_by_side(build, inputs, recordings=1):
    """Run ``build()``'s step (model, optimizer, step) eagerly and compiled on each of ``inputs``
    (argument tuples), from the same seed, comparing each call's result and state; returns the
    compiled function."""
    runs = {}
    for compiled in (False, True):
        chainrule.manual_seed(0)
        model, optimizer, step = build()
        function = chainrule.compile(step) if compiled else step
        results = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for arguments in inputs:
                loss = function(*arguments)
                results.append((loss.detach().numpy().copy(), state_of(model, optimizer)))
        if compiled:
            assert not [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
            assert function.eager_reason is None
            assert sum(map(len, function.recordings.values())) == recordings
        runs[compiled] = results, function
    for (eager_loss, eager_state), (compiled_loss, compiled_state) in zip(runs[False][0], runs[True][0], strict=True):
        assert same(eager_loss, compiled_loss)
        assert_same_state(eager_state, compiled_state)
    return runs[True][1]


def training_step(model, optimizer, loss_of, after_step=None):
    def step(*arguments):
        optimizer.zero_grad()
        loss = loss_of(*arguments)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        return loss

    return step


def fresh_inputs(*shapes):
    return [tuple(chainrule.randn(*shape) for shape in shapes) for _ in range(CALLS)]


# ----------------------------------------------------------------------------- Transformer
def test_transformer_training_step_replays_with_masks_and_dropout():
    padding = chainrule.tensor([[False, False, False, True, True], [False] * 5])

    def build():
        model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.1)
        optimizer = optim.Adam(model.parameters(), lr=1e-2)

        def loss_of(src, tgt):
            mask = nn.Transformer.generate_square_subsequent_mask(3)
            out = model(src, tgt, tgt_mask=mask, src_key_padding_mask=padding, memory_key_padding_mask=padding)
            return (out * out).mean()

        return model, optimizer, training_step(model, optimizer, loss_of)

    chainrule.manual_seed(1)
    side_by_side(build, fresh_inputs((5, 2, 8), (3, 2, 8)))


def test_transformer_mask_given_as_an_argument_is_read_on_each_call():
    """The causal mask detected from a mask's values is only a hint: the program keeps using the
    mask each call gives, so a different mask of the same shape gives eager's results."""
    causal = nn.Transformer.generate_square_subsequent_mask(3)
    other = chainrule.zeros(3, 3)
    other[0, 2] = float("-inf")

    def build():
        model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, dropout=0.0)
        optimizer = optim.SGD(model.parameters(), lr=0.1)
        return model, optimizer, training_step(model, optimizer, lambda src, tgt, mask: model(src, tgt, tgt_mask=mask).sum())

    chainrule.manual_seed(2)
    inputs = [(chainrule.randn(4, 2, 8), chainrule.randn(3, 2, 8), mask) for mask in (causal, other, causal, other)]
    side_by_side(build, inputs)


def test_transformer_inference_with_padding_replays_pytorchs_zeroed_positions():
    """Evaluation without gradients: PyTorch's packed path outputs zeros at padded positions when
    the padding comes last; a mask with padding first (same shape) replays as eager too."""
    chainrule.manual_seed(3)
    model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=16, batch_first=True).eval()
    compiled = chainrule.compile(model)
    masks = [
        chainrule.tensor([[False, False, False, True, True], [False] * 5]),
        chainrule.tensor([[True, False, False, False, False], [False] * 5]),
        chainrule.tensor([[False, False, False, False, True], [False, False, True, True, True]]),
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for mask in masks * 2:
            src, tgt = chainrule.randn(2, 5, 8), chainrule.randn(2, 3, 8)
            with chainrule.no_grad():
                assert same(compiled(src, tgt, src_key_padding_mask=mask).numpy(), model(src, tgt, src_key_padding_mask=mask).numpy())
    assert not [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    assert compiled.eager_reason is None
    assert sum(map(len, compiled.recordings.values())) == 1


# ----------------------------------------------------------------------------- random draws
@pytest.mark.parametrize("hard", [False, True])
def test_gumbel_softmax_draws_again_on_each_call(hard):
    def build():
        model = nn.Linear(4, 5)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def loss_of(x):
            logits = model(x)
            return (F.gumbel_softmax(logits, tau=0.5, hard=hard) * logits).sum()

        return model, optimizer, training_step(model, optimizer, loss_of)

    chainrule.manual_seed(4)
    side_by_side(build, fresh_inputs((3, 4)))


def test_gumbel_softmax_draws_pytorchs_numbers():
    logits = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(3, 4)
    chainrule.manual_seed(5)
    torch.manual_seed(5)
    ours = F.gumbel_softmax(chainrule.tensor(logits), tau=0.7)
    theirs = torch.nn.functional.gumbel_softmax(torch.tensor(logits), tau=0.7)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)
    assert chainrule.default_generator.state_bytes() == bytes(torch.get_rng_state().numpy())


@pytest.mark.parametrize("form", ["module", "functional", "in_place"])
def test_rrelu_in_training_draws_its_slopes_again_on_each_call(form):
    def build():
        model = nn.Sequential(nn.Linear(4, 6), nn.RReLU(0.1, 0.4)) if form == "module" else nn.Linear(4, 6)
        optimizer = optim.SGD(model.parameters(), lr=0.1)

        def loss_of(x):
            if form == "module":
                h = model(x)
            elif form == "functional":
                h = F.rrelu(model(x), 0.1, 0.4, training=True)
            else:
                h = F.rrelu_(model(x) * 1.0, 0.1, 0.4, training=True)
            return (h * h).sum()

        return model, optimizer, training_step(model, optimizer, loss_of)

    chainrule.manual_seed(6)
    side_by_side(build, fresh_inputs((3, 4)))


# ----------------------------------------------------------------------------- schedulers
SCHEDULERS = {
    "warm_restarts": lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.01),
    "sequential": lambda o: lr_scheduler.SequentialLR(
        o, [lr_scheduler.LinearLR(o, 0.1, total_iters=2), lr_scheduler.ExponentialLR(o, 0.9)], milestones=[3]
    ),
    "chained": lambda o: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(o, 2, 0.5), lr_scheduler.ExponentialLR(o, 0.9)]),
}


@pytest.mark.parametrize("name", SCHEDULERS)
def test_schedulers_that_step_otherwise_replay(name):
    schedulers = []

    def build():
        model = nn.Linear(3, 2)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        scheduler = SCHEDULERS[name](optimizer)
        schedulers.append(scheduler)
        return model, optimizer, training_step(model, optimizer, lambda x: model(x).pow(2).sum(), lambda: scheduler.step())

    chainrule.manual_seed(7)
    side_by_side(build, fresh_inputs((4, 3)) * 2)
    eager, compiled = schedulers
    assert eager.get_last_lr() == compiled.get_last_lr()
    assert eager.state_dict() == compiled.state_dict()


def test_warm_restarts_learning_rates_are_pytorchs():
    chainrule.manual_seed(8)
    ours_model = nn.Linear(3, 2)
    ours = optim.SGD(ours_model.parameters(), lr=0.1)
    theirs = torch.optim.SGD(torch.nn.Linear(3, 2).parameters(), lr=0.1)
    ours_scheduler = lr_scheduler.CosineAnnealingWarmRestarts(ours, T_0=2, T_mult=2, eta_min=0.01)
    theirs_scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(theirs, T_0=2, T_mult=2, eta_min=0.01)
    step = chainrule.compile(training_step(ours_model, ours, lambda x: ours_model(x).sum(), lambda: ours_scheduler.step()))
    for _ in range(8):
        step(chainrule.ones(1, 3))
        theirs.step()
        theirs_scheduler.step()
        assert ours.param_groups[0]["lr"] == theirs.param_groups[0]["lr"]
    assert step.eager_reason is None


def test_schedulers_of_schedulers_take_no_epoch():
    optimizer = optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    scheduler = SCHEDULERS["sequential"](optimizer)
    with pytest.raises(TypeError):
        scheduler.step(3)


# ----------------------------------------------------------------------------- gradient clipping
def clipping_build():
    model = nn.Linear(4, 3)
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(x, scale):
        optimizer.zero_grad()
        loss = (model(x) * scale).sum()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 0.5, error_if_nonfinite=True)
        optimizer.step()
        return loss

    return model, optimizer, step


def test_clip_grad_norm_with_error_if_nonfinite_replays_and_raises_as_eager():
    chainrule.manual_seed(9)
    inputs = [(chainrule.randn(2, 4), chainrule.tensor(1.0)) for _ in range(CALLS)]
    side_by_side(clipping_build, inputs)
    # a later call whose gradient is infinite raises, as eager does, and leaves the same state
    chainrule.manual_seed(0)
    eager_model, eager_optimizer, eager_step = clipping_build()
    chainrule.manual_seed(0)
    model, optimizer, step = clipping_build()
    compiled = chainrule.compile(step)
    for arguments in inputs:
        eager_step(*arguments)
        compiled(*arguments)
    infinite = (chainrule.randn(2, 4), chainrule.tensor(float("inf")))
    messages = []
    for function in (eager_step, compiled):
        with pytest.raises(RuntimeError, match="non-finite") as raised:
            function(*infinite)
        messages.append(str(raised.value))
    assert messages[0] == messages[1]
    assert_same_state(state_of(eager_model, eager_optimizer), state_of(model, optimizer))
    assert compiled.eager_reason is None
    assert sum(map(len, compiled.recordings.values())) == 1
    # and the step goes on replaying afterwards
    for function in (eager_step, compiled):
        function(*inputs[0])
    assert_same_state(state_of(eager_model, eager_optimizer), state_of(model, optimizer))


def test_clip_grad_norm_error_is_pytorchs():
    ours = nn.Linear(2, 1)
    ours.weight.grad = chainrule.tensor([[float("inf"), 1.0]])
    theirs = torch.nn.Linear(2, 1)
    theirs.weight.grad = torch.tensor([[float("inf"), 1.0]])
    with pytest.raises(RuntimeError) as ours_error:
        nn.utils.clip_grad_norm_(ours.parameters(), 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError) as theirs_error:
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0, error_if_nonfinite=True)
    assert str(ours_error.value) == str(theirs_error.value)
