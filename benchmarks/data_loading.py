"""One epoch of shuffled mini-batches over an MNIST-sized array (60,000 x 784, batch 128)."""
import numpy as np


def make_data(samples=60_000, features=784, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((samples, features), dtype=np.float32), rng.integers(0, 10, samples)


def library_epoch(lib, X, y, batch_size=128):
    dataset = lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(y))
    loader = lib.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)

    def run():
        count = 0
        for inputs, targets in loader:
            count += inputs.shape[0]
        return count

    return run


def numpy_epoch(X, y, batch_size=128):
    rng = np.random.default_rng(0)

    def run():
        order = rng.permutation(len(X))
        count = 0
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            inputs, targets = X[batch], y[batch]
            count += inputs.shape[0]
        return count

    return run
