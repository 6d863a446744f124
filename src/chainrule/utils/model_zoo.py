"""``torch.utils.model_zoo``: the old name of ``hub.load_state_dict_from_url``, which older course
code calls to fetch pretrained weights."""
from chainrule.hub import load_state_dict_from_url as load_url

__all__ = ["load_url"]
