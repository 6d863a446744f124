"""chainrule.vision.ops: FrozenBatchNorm2d, torchvision's fixed batch normalization (timm imports it),
against PyTorch's batch normalization with running statistics."""
import numpy
import torch

import chainrule
from chainrule.vision.ops import FrozenBatchNorm2d


def test_frozen_batch_norm_is_batch_norm_with_fixed_statistics_and_learns_nothing():
    rng = numpy.random.default_rng(0)
    x, weight, bias, mean = (rng.standard_normal(shape).astype(numpy.float32) for shape in ((2, 3, 4, 4), 3, 3, 3))
    var = rng.uniform(0.5, 2.0, 3).astype(numpy.float32)
    layer = FrozenBatchNorm2d(3, eps=1e-3)
    assert repr(layer) == "FrozenBatchNorm2d(3, eps=0.001)" and list(layer.parameters()) == []
    assert sorted(name for name, _ in layer.named_buffers()) == ["bias", "running_mean", "running_var", "weight"]
    reference = torch.nn.BatchNorm2d(3, eps=1e-3).eval()
    with torch.no_grad():
        for name, value in (("weight", weight), ("bias", bias), ("running_mean", mean), ("running_var", var)):
            getattr(reference, name).copy_(torch.from_numpy(value))
    state = {name: chainrule.tensor(value.detach().numpy()) for name, value in reference.state_dict().items()}
    layer.load_state_dict(state)  # a BatchNorm2d's, num_batches_tracked dropped
    layer.train()  # training or not, the statistics stay
    expected = reference(torch.from_numpy(x)).detach().numpy()
    numpy.testing.assert_allclose(layer(chainrule.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    numpy.testing.assert_array_equal(layer.running_mean.numpy(), mean)
