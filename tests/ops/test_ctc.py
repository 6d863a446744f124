"""ctc_loss and CTCLoss: values and gradients against PyTorch over padded and concatenated targets,
unequal lengths, repeated labels, impossible alignments, every reduction, unbatched input; a
float64 finite-difference check through log_softmax; errors."""
import numpy as np
import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close

REDUCTIONS = ("none", "sum", "mean")


def _targets(batch, longest, classes, blank, seed):
    targets = np.random.default_rng(seed).integers(0, classes, (batch, longest))
    targets[targets == blank] = (blank + 1) % classes
    return targets


def _compare(scores, targets, input_lengths, target_lengths, concatenated=False, through_log_softmax=False, unbatched=False, **options):
    """Loss and d loss / d scores in both libraries, for random weights on the losses."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(scores.copy(), requires_grad=True)
        log_probs = x.log_softmax(-1) if through_log_softmax else x
        target = lib.tensor(targets)
        if concatenated:
            target = lib.cat([target[row, :length] for row, length in enumerate(target_lengths)])
        lengths = (lib.tensor(input_lengths), lib.tensor(target_lengths))
        if unbatched:
            log_probs, target, lengths = log_probs[:, 0], target if concatenated else target[0], (lengths[0][0], lengths[1][0])
        loss = lib.nn.functional.ctc_loss(log_probs, target, *lengths, **options)
        weights = lib.tensor(np.random.default_rng(1).standard_normal(tuple(loss.shape)))
        (loss * weights).sum().backward()
        results.append((loss, x.grad))
    (ours, our_grad), (theirs, their_grad) = results
    assert_close(ours, theirs, "loss")
    assert_close(our_grad, their_grad, "gradient")


CASES = {
    "padded": dict(steps=8, batch=3, classes=5, longest=3, input_lengths=[8, 6, 5], target_lengths=[3, 2, 1]),
    "concatenated": dict(steps=8, batch=3, classes=5, longest=3, input_lengths=[8, 6, 5], target_lengths=[3, 0, 2], concatenated=True),
    "blank_last": dict(steps=7, batch=2, classes=4, longest=3, input_lengths=[7, 7], target_lengths=[3, 3], blank=3),
    "long": dict(steps=40, batch=4, classes=12, longest=10, input_lengths=[40, 33, 21, 12], target_lengths=[10, 4, 7, 5]),
    "through_log_softmax": dict(steps=9, batch=2, classes=6, longest=4, input_lengths=[9, 7], target_lengths=[4, 3], through_log_softmax=True),
    "unbatched": dict(steps=7, batch=1, classes=4, longest=3, input_lengths=[7], target_lengths=[3], unbatched=True),
    "unbatched_concatenated": dict(steps=7, batch=1, classes=4, longest=3, input_lengths=[6], target_lengths=[2], unbatched=True, concatenated=True),
    "empty_input": dict(steps=5, batch=2, classes=4, longest=2, input_lengths=[0, 5], target_lengths=[0, 2]),
    "every_target_empty": dict(steps=5, batch=3, classes=4, longest=0, input_lengths=[5, 3, 5], target_lengths=[0, 0, 0], concatenated=True),
    "every_padded_target_empty": dict(steps=5, batch=2, classes=4, longest=0, input_lengths=[5, 2], target_lengths=[0, 0]),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(CASES))
def test_loss_and_gradient_match_pytorch(name, reduction):
    case = dict(CASES[name])
    steps, batch, classes, longest = (case.pop(key) for key in ("steps", "batch", "classes", "longest"))
    scores = np.random.default_rng(0).standard_normal((steps, batch, classes))
    targets = _targets(batch, longest, classes, case.get("blank", 0), seed=2)
    _compare(scores, targets, case.pop("input_lengths"), case.pop("target_lengths"), reduction=reduction, **case)


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_repeated_labels_and_impossible_alignments_as_pytorch(reduction, zero_infinity):
    # "1 1 1" needs 5 steps (a blank between repeats): with 4 it is impossible, the loss infinite
    scores = np.random.default_rng(0).standard_normal((5, 2, 4))
    _compare(scores, np.array([[1, 1, 1], [1, 2, 3]]), [4, 3], [3, 3], reduction=reduction, zero_infinity=zero_infinity,
             through_log_softmax=True)


def test_gradient_through_log_softmax_by_finite_differences():
    scores = chainrule.tensor(np.random.default_rng(4).standard_normal((6, 2, 4)), requires_grad=True)
    targets = chainrule.tensor([[1, 2, 2], [3, 1, 0]])

    def loss(x):
        return chainrule.nn.functional.ctc_loss(x.log_softmax(2), targets, [6, 5], [3, 2], reduction="none")

    assert chainrule.autograd.gradcheck(loss, [scores], eps=1e-6, atol=1e-6, rtol=1e-4)


def test_float32_and_the_module():
    scores = np.random.default_rng(5).standard_normal((10, 3, 6)).astype(np.float32)
    targets = _targets(3, 4, 6, 0, seed=6)
    ours = chainrule.nn.CTCLoss(zero_infinity=True)(
        chainrule.tensor(scores).log_softmax(2), chainrule.tensor(targets), (10, 9, 8), (4, 3, 2)
    )
    theirs = torch.nn.CTCLoss(zero_infinity=True)(torch.tensor(scores).log_softmax(2), torch.tensor(targets), (10, 9, 8), (4, 3, 2))
    assert ours.dtype == chainrule.float32
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-5)
    assert repr(chainrule.nn.CTCLoss(blank=2)) == repr(torch.nn.CTCLoss(blank=2)) == "CTCLoss()"


def test_float32_loss_and_gradient_are_pytorchs_bits():
    # PyTorch's kernel sums each recursion step as log(Σ exp(term - max)) + max with the C
    # library's exp and log, and collects α·β per class one place at a time from the last; other
    # roundings (logaddexp pairs, one max over all places) drift by ulps that a long input
    # amplifies into the gradient (wav2vec2's CTC head: 5e-6 relative).
    log_probs = np.asarray(torch.log_softmax(torch.tensor(np.random.default_rng(7).standard_normal((39, 2, 12)) * 3), -1),
                           dtype=np.float32)
    targets = np.array([[9, 10, 3, 7, 4], [1, 1, 1, 11, 7]])
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(log_probs, requires_grad=True)
        loss = lib.nn.functional.ctc_loss(x, lib.tensor(targets), lib.tensor([39, 30]), lib.tensor([5, 4]), reduction="none")
        loss.sum().backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    (our_loss, our_grad), (their_loss, their_grad) = results
    assert our_loss.dtype == our_grad.dtype == np.float32
    np.testing.assert_array_equal(our_loss, their_loss)
    np.testing.assert_array_equal(our_grad, their_grad)
    assert np.isfinite(our_grad).all() and (our_grad[30:, 1] == 0).all()  # past the second input's length


def test_node_name_as_pytorch():
    loss = chainrule.nn.functional.ctc_loss(chainrule.randn(4, 1, 3, requires_grad=True), chainrule.tensor([[1]]), [4], [1], reduction="none")
    assert type(loss.grad_fn).__name__ == "CtcLossBackward0"


def _log_probs(lib):
    return lib.randn(6, 2, 4).log_softmax(2)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (7, 5), (3, 2)), RuntimeError, "at most 6"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (4, 2)), RuntimeError, "size at least 4"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6,), (3, 2)), RuntimeError, "input_lengths must be of size batch_size"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (3,)), RuntimeError, "target_lengths must be of size batch_size"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (3, 2), blank=4), RuntimeError, "blank must be in label range"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (3, -1)), RuntimeError, "at least 0"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([1, 2, 3, 1]), (6, 5), (3, 2)), RuntimeError, "size 5 at dimension 0"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib)[None], lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (3, 2)), RuntimeError, "3-dimensional"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (3, 2), reduction="avg"), ValueError, "not a valid value for reduction"),
        (lambda lib: lib.nn.functional.ctc_loss(_log_probs(lib).int(), lib.tensor([[1, 2, 3], [1, 2, 3]]), (6, 5), (3, 2)), NotImplementedError, "not implemented"),
        (lambda lib: lib.nn.functional.ctc_loss(lib.rand(0, 0, 4), lib.tensor([], dtype=lib.int64), lib.tensor([], dtype=lib.int64), lib.tensor([], dtype=lib.int64)), RuntimeError, "log_probs tensor must not be empty"),
    ],
)
def test_errors_as_pytorch(call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words):
        call(chainrule)
