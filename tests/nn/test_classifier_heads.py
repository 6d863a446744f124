"""Classifier heads with their loss: AdaptiveLogSoftmaxWithLoss and linear_cross_entropy /
LinearCrossEntropyLoss, against PyTorch with the same weights (values, input and parameter
gradients), their reprs and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.nn.pairs import assert_close, module_pair, normal


def _adaptive(lib, head_bias=False):
    return lib.nn.AdaptiveLogSoftmaxWithLoss(16, 20, [4, 9, 15], div_value=2.0, head_bias=head_bias)


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_log_softmax_matches_pytorch(head_bias):
    ours, theirs = module_pair(lambda lib: _adaptive(lib, head_bias))
    x = normal(12, 16)
    target = np.array([0, 3, 4, 8, 9, 14, 15, 19, 2, 10, 16, 5])
    results = []
    for module, lib in ((ours, chainrule), (theirs, torch)):
        inputs = lib.tensor(x.copy(), requires_grad=True)
        output, loss = module(inputs, lib.tensor(target))
        (output * lib.tensor(normal(12, seed=1))).sum().add(loss).backward()
        results.append((output, loss, inputs.grad, dict(module.named_parameters()), module.log_prob(inputs), module.predict(inputs)))
    (output, loss, grad, parameters, log_prob, predicted), (t_output, t_loss, t_grad, t_parameters, t_log_prob, t_predicted) = results
    assert_close(output, t_output, "output")
    assert_close(loss, t_loss, "loss")
    assert_close(grad, t_grad, "input gradient")
    for name, parameter in parameters.items():
        assert_close(parameter.grad, t_parameters[name].grad, f"gradient of {name}")
    assert_close(log_prob, t_log_prob, "log_prob")
    np.testing.assert_array_equal(predicted._array, t_predicted.numpy())


def test_adaptive_log_softmax_named_tuple_unbatched_and_repr():
    ours, theirs = module_pair(_adaptive)
    x = normal(16)
    result = ours(chainrule.tensor(x), chainrule.tensor(12))
    expected = theirs(torch.tensor(x), torch.tensor(12))
    assert type(result).__name__ == "_ASMoutput" and result._fields == ("output", "loss")
    assert_close(result.output, expected.output, "output")
    assert_close(result.loss, expected.loss, "loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert repr(chainrule.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])) == repr(torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6]))


def test_adaptive_predict_over_all_paths():
    ours, theirs = module_pair(_adaptive)
    for scale in (0.1, 1.0, 10.0):
        x = normal(30, 16, seed=int(scale * 10)) * scale
        np.testing.assert_array_equal(ours.predict(chainrule.tensor(x))._array, theirs.predict(torch.tensor(x)).numpy())


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, []), ValueError, "length larger than 0"),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [5, 3]), ValueError, "sorted in an increasing order"),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 10]), ValueError, "between 1 and n_classes-1"),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])(lib.randn(4, 8), lib.tensor([0, 1, 2, 10])), RuntimeError, "Target values should be in \\[0, 9\\]"),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])(lib.randn(4, 8), lib.tensor([0, 1, 2])), RuntimeError, "same size in the batch dimension"),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])(lib.randn(4, 8), lib.tensor([[0, 1]])), RuntimeError, "multi-target not supported"),
        (lambda lib: lib.nn.AdaptiveLogSoftmaxWithLoss(8, 10, [3, 6])(lib.randn(4, 8), lib.tensor(1)), RuntimeError, "0D target tensor expects 1D input"),
    ],
)
def test_adaptive_errors_as_pytorch(call, error, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error):
            call(torch)
        with pytest.raises(error, match=words):
            call(chainrule)


# ----------------------------------------------------------------------------- linear_cross_entropy
def _class_targets(*shape, classes=5, seed=3):
    return np.random.default_rng(seed).integers(0, classes, shape)


def _probabilities(*shape, seed=3):
    scores = np.exp(normal(*shape, seed=seed))
    return scores / scores.sum(axis=1, keepdims=True)


LINEAR_CASES = {
    "indices": (normal(6, 4), normal(5, 4, seed=1), _class_targets(6), None, {}),
    "bias_weight_smoothing": (normal(6, 4), normal(5, 4, seed=1), _class_targets(6), normal(5, seed=2), dict(weight=np.linspace(0.5, 2, 5), label_smoothing=0.2)),
    "ignore_index": (normal(6, 4), normal(5, 4, seed=1), np.array([0, 1, -100, 3, 2, -100]), None, {}),
    "ignore_index_given": (normal(6, 4), normal(5, 4, seed=1), _class_targets(6), None, dict(ignore_index=2)),
    "probabilities": (normal(6, 4), normal(5, 4, seed=1), _probabilities(6, 5), normal(5, seed=2), {}),
    "k_dimensional": (normal(3, 4), normal(5, 2, 3, 4, seed=1), _class_targets(3, 2, 3), normal(5, 2, 3, seed=2), {}),
    "unbatched": (normal(4), normal(5, 4, seed=1), np.array(3), None, {}),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(LINEAR_CASES))
def test_linear_cross_entropy_matches_pytorch(name, reduction):
    x, linear_weight, target, bias, options = LINEAR_CASES[name]
    results = []
    for lib in (chainrule, torch):
        tensors = [lib.tensor(value.copy(), requires_grad=True) if value is not None else None for value in (x, linear_weight, bias)]
        extra = {key: lib.tensor(value) if isinstance(value, np.ndarray) else value for key, value in options.items()}
        loss = lib.nn.functional.linear_cross_entropy(tensors[0], tensors[1], lib.tensor(target), linear_bias=tensors[2], reduction=reduction, **extra)
        (loss * lib.tensor(normal(*loss.shape, seed=5))).sum().backward()
        results.append((loss, [tensor.grad for tensor in tensors if tensor is not None]))
    (ours, our_grads), (theirs, their_grads) = results
    assert_close(ours, theirs, "loss")
    for position, (mine, reference) in enumerate(zip(our_grads, their_grads)):
        assert_close(mine, reference, f"gradient of argument {position}")


def test_linear_cross_entropy_loss_module_matches_pytorch():
    def make(lib):
        return lib.nn.LinearCrossEntropyLoss(4, 5, out_features=(2, 3), bias=True, weight=lib.linspace(0.5, 2, 5), label_smoothing=0.1)

    ours, theirs = module_pair(make)
    x, target = normal(3, 4), _class_targets(3, 2, 3)
    our_x, their_x = chainrule.tensor(x.copy(), requires_grad=True), torch.tensor(x.copy(), requires_grad=True)
    our_loss, their_loss = ours(our_x, chainrule.tensor(target)), theirs(their_x, torch.tensor(target))
    our_loss.backward()
    their_loss.backward()
    assert_close(our_loss, their_loss, "loss")
    assert_close(our_x.grad, their_x.grad, "input gradient")
    assert_close(ours.linear.weight.grad, theirs.linear.weight.grad, "weight gradient")
    assert_close(ours.linear.bias.grad, theirs.linear.bias.grad, "bias gradient")
    assert repr(ours) == repr(theirs)
    assert list(dict(ours.named_buffers())) == list(dict(theirs.named_buffers())) == ["weight"]


def test_options_are_checked_and_do_not_change_the_loss():
    options = chainrule.nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None)
    assert repr(options) == repr(torch.nn.LinearCrossEntropyOptions(batch_chunk_size=2, chunking_method=None))
    x, linear_weight, target = chainrule.tensor(normal(6, 4)), chainrule.tensor(normal(5, 4, seed=1)), chainrule.tensor(_class_targets(6))
    plain = chainrule.nn.functional.linear_cross_entropy(x, linear_weight, target)
    chunked = chainrule.nn.functional.linear_cross_entropy(x, linear_weight, target, options=options)
    assert chunked.item() == plain.item()
    with pytest.warns(UserWarning, match="``options`` ignored"):
        chainrule.nn.functional.linear_cross_entropy(x, linear_weight, target, label_smoothing=0.1, options=options)
    with pytest.raises(Exception):
        options.batch_chunk_size = 3  # frozen, as PyTorch's dataclass


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda lib: lib.nn.LinearCrossEntropyOptions(acc_policy="fast"), ValueError, "invalid acc_policy"),
        (lambda lib: lib.nn.LinearCrossEntropyOptions(chunking_method="rows"), ValueError, "invalid chunking_method"),
        (lambda lib: lib.nn.LinearCrossEntropyOptions(batch_chunk_size=0), ValueError, "batch_chunk_size must be positive"),
        (lambda lib: lib.nn.LinearCrossEntropyOptions(acc_dtype=lib.int32), ValueError, "acc_dtype must be one of"),
        (lambda lib: lib.nn.functional.linear_cross_entropy(lib.randn(2, 3, 4), lib.randn(5, 4), lib.tensor([1, 2])), RuntimeError, "dimensionality 1 or 2"),
        (lambda lib: lib.nn.functional.linear_cross_entropy(lib.randn(2, 4), lib.randn(4), lib.tensor([1, 2])), RuntimeError, "at least 2"),
        (lambda lib: lib.nn.functional.linear_cross_entropy(lib.randn(2, 4), lib.randn(5, 3), lib.tensor([1, 2])), RuntimeError, "got 4 and 3"),
        (lambda lib: lib.nn.functional.linear_cross_entropy(lib.randn(2, 4), lib.randn(5, 4), lib.tensor([1, 2]), linear_bias=lib.randn(4)), RuntimeError, "expected linear_bias shape"),
        (lambda lib: lib.nn.functional.linear_cross_entropy(lib.randn(4), lib.randn(5, 2, 4), lib.tensor([1, 2])), RuntimeError, "requires batched input"),
        (lambda lib: lib.nn.functional.linear_cross_entropy(lib.randn(2, 4), lib.randn(5, 4), lib.rand(2, 5), ignore_index=1), RuntimeError, "ignore_index cannot be specified"),
        (lambda lib: lib.nn.LinearCrossEntropyLoss(4, 5, weight=lib.ones(4)), RuntimeError, "expected weight shape"),
        (lambda lib: lib.nn.LinearCrossEntropyLoss(4, 5, label_smoothing=1.5), RuntimeError, "label_smoothing to be in range"),
    ],
)
def test_linear_cross_entropy_errors_as_pytorch(call, error, words):
    with pytest.raises(error):
        call(torch)
    with pytest.raises(error, match=words):
        call(chainrule)
