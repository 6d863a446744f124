"""``torch.utils.model_zoo``: the old name of ``hub.load_state_dict_from_url``, which older course
code calls to fetch pretrained weights, and the ``tqdm`` hub hands on (torchvision's datasets import
it from here)."""
from chainrule.hub import load_state_dict_from_url as load_url
from chainrule.hub import tqdm  # noqa: F401  PyTorch's model_zoo has it too

__all__ = ["load_url"]
