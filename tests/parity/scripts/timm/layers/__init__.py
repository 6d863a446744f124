# Source: Ross Wightman, timm/layers (https://github.com/huggingface/pytorch-image-models  timm/layers/*.py):
# the layers the timm_* scripts use, each module copied as far as they need it (see each file's header).
from .helpers import to_2tuple
from .config import use_fused_attn, set_fused_attn
from .weight_init import trunc_normal_
from .drop import drop_path, DropPath, calculate_drop_path_rates
from .mlp import Mlp
from .norm import LayerNorm, LayerNorm2d
from .layer_scale import LayerScale
from .patch_embed import PatchEmbed
from .attention import Attention
from .grid import ndgrid
from .helpers import make_divisible, to_ntuple
from .weight_init import trunc_normal_tf_, variance_scaling_, lecun_normal_
from .mlp import GlobalResponseNormMlp
from .grn import GlobalResponseNorm
from .activations import GELU, Sigmoid
from .create_act import get_act_layer, create_act_layer
from .squeeze_excite import SEModule, SqueezeExcite
from .create_conv2d import create_conv2d, get_padding
