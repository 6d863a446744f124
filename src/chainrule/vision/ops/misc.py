"""torchvision's ``ops.misc``: ``FrozenBatchNorm2d``, batch normalization with fixed statistics and
affine parameters, which detection and fine-tuning code puts in place of ``BatchNorm2d`` to keep a
pretrained backbone's normalization as it was trained."""
import chainrule
from chainrule.nn.module import Module


class FrozenBatchNorm2d(Module):
    """``x * scale + shift`` per channel of an (N, C, H, W) input, with ``scale = weight / sqrt(running_var
    + eps)`` and ``shift = bias - running_mean * scale``. The four vectors (C,) are buffers, not
    parameters: nothing here learns, and the running statistics never update. A BatchNorm2d's state
    dict loads into it (its ``num_batches_tracked`` is dropped)."""

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.register_buffer("weight", chainrule.ones(num_features))
        self.register_buffer("bias", chainrule.zeros(num_features))
        self.register_buffer("running_mean", chainrule.zeros(num_features))
        self.register_buffer("running_var", chainrule.ones(num_features))

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        state_dict.pop(prefix + "num_batches_tracked", None)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    def forward(self, x):
        scale = self.weight.reshape(1, -1, 1, 1) * (self.running_var.reshape(1, -1, 1, 1) + self.eps).rsqrt()
        shift = self.bias.reshape(1, -1, 1, 1) - self.running_mean.reshape(1, -1, 1, 1) * scale
        return x * scale + shift

    def __repr__(self):
        return f"{type(self).__name__}({self.weight.shape[0]}, eps={self.eps})"
