"""A whole training run through DataLoader, nn and optim gives PyTorch's losses, epoch by epoch."""
import numpy as np
import torch

import chainrule


def train(lib, weights, inputs, targets, epochs=4):
    """Per-epoch mean losses of an MLP trained with SGD + momentum, then with Adam."""
    model = lib.nn.Sequential(lib.nn.Linear(8, 16), lib.nn.ReLU(), lib.nn.Linear(16, 3))
    with lib.no_grad():
        for param, values in zip(model.parameters(), weights):
            param.copy_(lib.tensor(values))
    dataset = lib.utils.data.TensorDataset(lib.tensor(inputs), lib.tensor(targets))
    loader = lib.utils.data.DataLoader(dataset, batch_size=16, drop_last=False)
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizers = [
        lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3),
        lib.optim.Adam(model.parameters(), lr=0.01),
    ]
    losses = []
    for optimizer in optimizers:
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
        for _ in range(epochs):
            total = 0.0
            for batch_inputs, batch_targets in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(batch_inputs), batch_targets)
                loss.backward()
                optimizer.step()
                total += loss.item()
            scheduler.step()
            losses.append(total / len(loader))
    return losses


def test_mlp_training_matches_torch_epoch_by_epoch():
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((200, 8)).astype(np.float32)
    targets = (inputs[:, 0] > 0).astype(np.int64) + (inputs[:, 1] > 0.5)
    weights = [
        rng.uniform(-0.35, 0.35, shape).astype(np.float32) for shape in [(16, 8), (16,), (3, 16), (3,)]
    ]
    ours = train(chainrule, weights, inputs, targets)
    theirs = train(torch, weights, inputs, targets)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert ours[-1] < 0.5 * ours[0], "the model should learn"
