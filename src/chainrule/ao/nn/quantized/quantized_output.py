"""What the statically quantized layers share: their output is quantized with a ``scale`` and a
``zero_point`` of their own (chosen by the observer at convert), saved in the state dict as tensors,
as PyTorch saves them."""
import chainrule
from chainrule.nn.module import Module


class QuantizedOutput(Module):
    """A layer with an output ``scale`` (float) and ``zero_point`` (int)."""

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = chainrule.tensor(self.scale)
        destination[prefix + "zero_point"] = chainrule.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):
        self.scale = float(state_dict.pop(prefix + "scale"))
        self.zero_point = int(state_dict.pop(prefix + "zero_point"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys, error_msgs)
