# The minLoRA package (https://github.com/cccntu/minLoRA, minlora/__init__.py), verbatim; shared by the minimal_minlora_* scripts.
from minlora.model import LoRAParametrization, add_lora, default_lora_config, merge_lora, remove_lora
from minlora.utils import (
    apply_to_lora,
    disable_lora,
    enable_lora,
    get_bias_params,
    get_lora_params,
    get_lora_state_dict,
    load_multiple_lora,
    name_is_lora,
    select_lora,
    tie_weights,
    untie_weights,
)
