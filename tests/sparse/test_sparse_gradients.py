"""Sparse gradients against PyTorch: ``nn.Embedding(sparse=True)`` and ``EmbeddingBag(sparse=True)``
give the table a sparse COO gradient listing the rows read; it accumulates as AccumulateGrad does
(sparse + sparse listed together, dense + sparse dense), reaches hooks and ``autograd.grad``, and
``SGD`` (with momentum and Nesterov), ``Adagrad`` and ``SparseAdam`` step on it, the others refusing
it with PyTorch's error. Training loops must end with the same tables, and a compiled step runs
eagerly."""
import warnings

import numpy as np
import pytest
import torch

import chainrule


def same_print(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "chainrule.")


def table(lib, rows=6, columns=3, dtype="float32"):
    values = np.random.default_rng(0).standard_normal((rows, columns)).astype(dtype)
    return lib.nn.Parameter(lib.tensor(values))


def embedded(lib, weight, ids, **options):
    return lib.nn.functional.embedding(lib.tensor(ids, dtype=lib.int64), weight, sparse=True, **options)


@pytest.mark.parametrize("ids, options", [
    ([[1, 0, 2], [4, 1, 1]], {}),
    ([[1, 0, 2], [4, 1, 1]], {"padding_idx": 0}),
    ([0, 0], {"padding_idx": 0}),  # every row read is padding: nothing listed
    ([[3]], {}),  # one row: coalesced
    ([], {}),
])
def test_embedding_gives_the_rows_read_in_order(ids, options):
    grads = []
    for lib in (chainrule, torch):
        weight = table(lib)
        out = embedded(lib, weight, ids, **options)
        (out * lib.arange(out.numel(), dtype=lib.float32).reshape(out.shape)).sum().backward()
        grads.append(weight.grad)
    ours, theirs = grads
    same_print(ours, theirs)
    assert ours.is_sparse and ours.is_coalesced() == theirs.is_coalesced()
    np.testing.assert_array_equal(ours.to_dense().numpy(), theirs.to_dense().numpy())


def test_a_second_backward_is_merged_or_listed_as_pytorch_does():
    for second in ([3], [1, 2]):
        grads = []
        for lib in (chainrule, torch):
            weight = table(lib)
            embedded(lib, weight, [[1, 0, 2], [4, 1, 1]], padding_idx=0).sum().backward()  # contiguous values
            (embedded(lib, weight, second) * 2).sum().backward()
            grads.append(weight.grad)
        same_print(*grads)


@pytest.mark.parametrize("first_sparse, second_sparse", [(True, False), (False, True)])
def test_dense_and_sparse_gradients_add_to_a_dense_one(first_sparse, second_sparse):
    grads = []
    for lib in (chainrule, torch):
        weight = table(lib, 4, 2)
        for sparse in (first_sparse, second_sparse):
            lib.nn.functional.embedding(lib.tensor([1, 1, 3]), weight, sparse=sparse).sum().backward()
        grads.append(weight.grad)
    same_print(*grads)
    assert not grads[0].is_sparse


def test_hooks_and_autograd_grad_see_the_sparse_gradient_and_one_graph_sums_two_reads():
    seen = []
    ours = table(chainrule, 4, 2)
    ours.register_hook(lambda grad: seen.append(grad.layout))
    (embedded(chainrule, ours, [1, 2]).sum() * 3).backward()
    assert seen == [chainrule.sparse_coo]
    results = []
    for lib in (chainrule, torch):
        weight = table(lib, 4, 2)
        (gradient,) = lib.autograd.grad(embedded(lib, weight, [1, 3]).pow(2).sum(), weight)
        both = embedded(lib, weight, [3, 2]).pow(2).sum() + embedded(lib, weight, [1, 2]).pow(2).sum()
        both.backward()
        results.append((gradient, weight.grad))
    for ours, theirs in zip(*results):
        same_print(ours, theirs)


def test_embedding_bag_gives_one_row_per_entry():
    grads = []
    for lib in (chainrule, torch):
        for mode in ("sum", "mean"):
            bag = lib.nn.EmbeddingBag(5, 2, mode=mode, sparse=True)
            with lib.no_grad():
                bag.weight.copy_(lib.tensor(np.arange(10.0, dtype=np.float32).reshape(5, 2)))
            out = bag(lib.tensor([1, 2, 4, 4, 0]), lib.tensor([0, 2]))
            (out * lib.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
            grads.append(bag.weight.grad)
    for ours, theirs in zip(grads[:2], grads[2:]):
        same_print(ours, theirs)


def train(lib, make_optimizer, steps=4, compiled=False):
    lib.manual_seed(0)
    embedding = lib.nn.Embedding(12, 3, sparse=True)
    head = lib.nn.Linear(3, 1)
    optimizer = make_optimizer(lib, embedding.parameters())
    batches = [lib.tensor(batch) for batch in ([[1, 2, 2], [4, 5, 1]], [[7, 1, 0], [3, 3, 3]], [[11, 2, 5], [6, 1, 9]])]

    def step(ids):
        optimizer.zero_grad()
        loss = head(embedding(ids)).pow(2).mean()
        loss.backward()
        optimizer.step()
        return loss

    if compiled:
        step = lib.compile(step)
    losses = [step(batches[index % len(batches)]).item() for index in range(steps)]
    return losses, embedding.weight.detach().numpy().copy(), optimizer


OPTIMIZERS = {
    "SGD": lambda lib, params: lib.optim.SGD(params, lr=0.5),
    "SGD momentum": lambda lib, params: lib.optim.SGD(params, lr=0.5, momentum=0.9),
    "SGD nesterov": lambda lib, params: lib.optim.SGD(params, lr=0.5, momentum=0.9, nesterov=True, maximize=True),
    "SGD dampening": lambda lib, params: lib.optim.SGD(params, lr=0.5, momentum=0.5, dampening=0.3),
    "Adagrad": lambda lib, params: lib.optim.Adagrad(params, lr=0.5, lr_decay=0.1),
    "Adagrad maximize": lambda lib, params: lib.optim.Adagrad(params, lr=0.5, maximize=True, initial_accumulator_value=0.1),
    "SparseAdam": lambda lib, params: lib.optim.SparseAdam(params, lr=0.1),
    "SparseAdam maximize": lambda lib, params: lib.optim.SparseAdam(params, lr=0.1, betas=(0.5, 0.9), maximize=True),
    "LBFGS": None,
}


@pytest.mark.parametrize("name", [name for name, make in OPTIMIZERS.items() if make is not None])
def test_training_with_a_sparse_table_ends_where_pytorch_ends(name):
    ours_losses, ours_table, ours_optimizer = train(chainrule, OPTIMIZERS[name])
    their_losses, their_table, their_optimizer = train(torch, OPTIMIZERS[name])
    np.testing.assert_allclose(ours_losses, their_losses, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours_table, their_table, rtol=1e-5, atol=1e-6)
    ours_state = ours_optimizer.state_dict()["state"]
    their_state = their_optimizer.state_dict()["state"]
    assert ours_state.keys() == their_state.keys()
    for key, state in their_state.items():
        for entry, value in state.items():
            mine = ours_state[key][entry]
            if isinstance(value, torch.Tensor):
                theirs = value.to_dense() if value.is_sparse else value
                mine = mine.to_dense() if mine.is_sparse else mine
                np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
            else:
                assert mine == value


def test_a_compiled_step_with_sparse_gradients_runs_eagerly_and_agrees():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses, weights, _ = train(chainrule, OPTIMIZERS["SparseAdam"], compiled=True)
    assert any("sparse gradients" in str(warning.message) for warning in caught)
    their_losses, their_weights, _ = train(torch, OPTIMIZERS["SparseAdam"])
    np.testing.assert_allclose(losses, their_losses, rtol=1e-5)
    np.testing.assert_allclose(weights, their_weights, rtol=1e-5, atol=1e-6)


def test_lbfgs_reads_a_sparse_gradient_as_dense():
    results = []
    for lib in (chainrule, torch):
        weight = table(lib, 4, 2, "float64")
        optimizer = lib.optim.LBFGS([weight], max_iter=3)

        def closure():
            optimizer.zero_grad()
            loss = (lib.nn.functional.embedding(lib.tensor([1, 3]), weight, sparse=True) - 1).pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        results.append(weight.detach().numpy())
    np.testing.assert_allclose(*results, rtol=1e-10)


def errors(action):
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(Exception) as caught:
            action(lib)
        messages.append((type(caught.value).__name__, str(caught.value)))
    return messages


@pytest.mark.parametrize("make", [
    lambda lib, params: lib.optim.Adam(params),
    lambda lib, params: lib.optim.AdamW(params),
    lambda lib, params: lib.optim.RMSprop(params),
    lambda lib, params: lib.optim.Adamax(params),
    lambda lib, params: lib.optim.NAdam(params),
    lambda lib, params: lib.optim.SGD(params, lr=0.1, weight_decay=0.1),
    lambda lib, params: lib.optim.Adagrad(params, weight_decay=0.1),
])
def test_optimizers_without_a_sparse_step_refuse_as_pytorch(make):
    def step(lib):
        weight = table(lib)
        embedded(lib, weight, [1, 2]).sum().backward()
        make(lib, [weight]).step()

    ours, theirs = errors(step)
    assert ours == theirs


@pytest.mark.parametrize("action", [
    lambda lib: lib.optim.SparseAdam([table(lib)], lr=0),
    lambda lib: lib.optim.SparseAdam([table(lib)], betas=(0.9, 1.0)),
    lambda lib: lib.optim.SparseAdam([table(lib)], eps=0.0),
    lambda lib: embedded(lib, table(lib), [1, 1], scale_grad_by_freq=True).sum().backward(),
])
def test_bad_settings_are_pytorchs_errors(action):
    (our_type, ours), (their_type, theirs) = errors(action)
    assert our_type == their_type and ours.startswith(theirs)


def test_sparse_adam_refuses_a_dense_gradient():
    def step(lib):
        weight = table(lib)
        weight.sum().backward()
        lib.optim.SparseAdam([weight]).step()

    assert errors(step)[0] == errors(step)[1]


def test_zero_grad_without_none_leaves_an_empty_sparse_gradient():
    printed = []
    for lib in (chainrule, torch):
        embedding = lib.nn.Embedding(6, 2, sparse=True)
        embedding(lib.tensor([1, 2])).sum().backward()
        embedding.zero_grad(set_to_none=False)
        first = repr(embedding.weight.grad)
        embedding(lib.tensor([3])).sum().backward()
        optimizer = lib.optim.SGD(embedding.parameters(), lr=0.1)
        optimizer.zero_grad(set_to_none=False)
        printed.append((first, repr(embedding.weight.grad)))
    assert [text.replace("torch.", "chainrule.") for text in printed[1]] == list(printed[0])
