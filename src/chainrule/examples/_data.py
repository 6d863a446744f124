"""The data the examples share: a random train / dev / test split, and the course's two-moons set."""
import chainrule as torch
from chainrule.datasets import make_moons


def split(X, y, train_fraction, dev_fraction):
    """Shuffle ``(X, y)`` and cut it into ``(train, dev, test)`` pairs of the given fractions."""
    count = len(X)
    order = torch.randperm(count)
    train_end = int(train_fraction * count)
    dev_end = train_end + int(dev_fraction * count)
    parts = (order[:train_end], order[train_end:dev_end], order[dev_end:])
    return tuple((X[part], y[part]) for part in parts)


def moons(n_samples, noise=0.2):
    """Two moons split 64% / 16% / 20% as in the course, labels float (N, 1) for binary cross-entropy."""
    X, y = make_moons(n_samples=n_samples, shuffle=True, noise=noise)
    return split(X, y.float().reshape(-1, 1), 0.64, 0.16)
