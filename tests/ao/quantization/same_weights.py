"""Models built in both libraries with the same weights, for the quantization tests."""
import numpy as np
import torch

import chainrule


def same_models(build, seed=0):
    """``(build(chainrule), build(torch))`` with PyTorch's initial weights (``manual_seed(0)``) in
    both, and the batch norms' running statistics drawn away from 0 and 1 (from ``seed``), so that
    folding a batch norm into its convolution changes the weights."""
    torch.manual_seed(0)
    theirs = build(torch)
    state = {key: value.detach().numpy().copy() for key, value in theirs.state_dict().items()}
    rng = np.random.default_rng(seed)
    for key in state:
        if key.endswith("running_mean"):
            state[key] = rng.standard_normal(state[key].shape).astype(np.float32) * 0.1
        elif key.endswith("running_var"):
            state[key] = rng.uniform(0.5, 1.5, state[key].shape).astype(np.float32)
    theirs.load_state_dict({key: torch.tensor(value) for key, value in state.items()})
    ours = build(chainrule)
    ours.load_state_dict({key: chainrule.tensor(value) for key, value in state.items()})
    return ours, theirs
