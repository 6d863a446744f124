# Source: Ross Wightman, timm (PyTorch Image Models): timm/models/convnext.py (Downsample, ConvNeXtBlock, _init_weights
#   and the 'patch' stem lines of ConvNeXt.__init__), timm/models/mlp_mixer.py (MixerBlock, _init_weights, renamed
#   _init_weights_mixer here as both files call theirs _init_weights) and timm/models/_manipulate.py (named_apply), with
#   timm/layers (LayerNorm2d, LayerNorm, Mlp, GlobalResponseNormMlp, SEModule, DropPath, PatchEmbed, create_conv2d,
#   get_act_layer, trunc_normal_, lecun_normal_, to_2tuple, to_ntuple) from the timm/ folder beside this script:
#   https://github.com/huggingface/pytorch-image-models  (commit aa4b5850c1543fa488abf260f18390eda46cf85d)
# Shrunk: instead of the ConvNeXt / MlpMixer model classes (registries, stages, feature hooks, pretrained weights),
#   two tiny models glued together below from those pieces: a ConvNeXt-style net (the patch stem, a channels-last
#   ConvNeXtBlock, a conv_mlp ConvNeXt-V2 block with GRN, stride 2 and a Downsample shortcut, a squeeze-excite module,
#   a pooled LayerNorm + Linear head) on 3x20x20 synthetic images, and a two-block MLP-Mixer on 16 patch tokens;
#   each initialised with its file's _init_weights through named_apply and trained for a few steps.
import math
from functools import partial
from typing import Callable, Optional, Tuple, Type, Union

import torch
import torch.nn as nn
import torch.nn.functional as F

from timm.layers import (DropPath, Mlp, GlobalResponseNormMlp, LayerNorm2d, LayerNorm, SEModule, PatchEmbed,
                         create_conv2d, get_act_layer, trunc_normal_, lecun_normal_, to_2tuple, to_ntuple)

AvgPool2dSame = None  # timm/layers/pool2d_same.py, only for dilation > 1 (not used here)


def named_apply(
        fn: Callable,
        module: nn.Module, name='',
        depth_first: bool = True,
        include_root: bool = False,
) -> nn.Module:
    if not depth_first and include_root:
        fn(module=module, name=name)
    for child_name, child_module in module.named_children():
        child_name = '.'.join((name, child_name)) if name else child_name
        named_apply(fn=fn, module=child_module, name=child_name, depth_first=depth_first, include_root=True)
    if depth_first and include_root:
        fn(module=module, name=name)
    return module


class Downsample(nn.Module):
    """Downsample module for ConvNeXt."""

    def __init__(
            self,
            in_chs: int,
            out_chs: int,
            stride: int = 1,
            dilation: int = 1,
            device=None,
            dtype=None,
    ) -> None:
        dd = {'device': device, 'dtype': dtype}
        super().__init__()
        avg_stride = stride if dilation == 1 else 1
        if stride > 1 or dilation > 1:
            avg_pool_fn = AvgPool2dSame if avg_stride == 1 and dilation > 1 else nn.AvgPool2d
            self.pool = avg_pool_fn(2, avg_stride, ceil_mode=True, count_include_pad=False)
        else:
            self.pool = nn.Identity()

        if in_chs != out_chs:
            self.conv = create_conv2d(in_chs, out_chs, 1, stride=1, **dd)
        else:
            self.conv = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forward pass."""
        x = self.pool(x)
        x = self.conv(x)
        return x


class ConvNeXtBlock(nn.Module):
    """ConvNeXt Block.

    There are two equivalent implementations:
      (1) DwConv -> LayerNorm (channels_first) -> 1x1 Conv -> GELU -> 1x1 Conv; all in (N, C, H, W)
      (2) DwConv -> Permute to (N, H, W, C); LayerNorm (channels_last) -> Linear -> GELU -> Linear; Permute back

    Unlike the official impl, this one allows choice of 1 or 2, 1x1 conv can be faster with appropriate
    choice of LayerNorm impl, however as model size increases the tradeoffs appear to change and nn.Linear
    is a better choice. This was observed with PyTorch 1.10 on 3090 GPU, it could change over time & w/ different HW.
    """

    def __init__(
            self,
            in_chs: int,
            out_chs: Optional[int] = None,
            kernel_size: int = 7,
            stride: int = 1,
            dilation: Union[int, Tuple[int, int]] = (1, 1),
            mlp_ratio: float = 4,
            conv_mlp: bool = False,
            conv_bias: bool = True,
            use_grn: bool = False,
            ls_init_value: Optional[float] = 1e-6,
            act_layer: Union[str, Callable] = 'gelu',
            norm_layer: Optional[Callable] = None,
            drop_path: float = 0.,
            device=None,
            dtype=None,
    ):
        dd = {'device': device, 'dtype': dtype}
        super().__init__()
        out_chs = out_chs or in_chs
        dilation = to_ntuple(2)(dilation)
        act_layer = get_act_layer(act_layer)
        if not norm_layer:
            norm_layer = LayerNorm2d if conv_mlp else LayerNorm
        mlp_layer = partial(GlobalResponseNormMlp if use_grn else Mlp, use_conv=conv_mlp)
        self.use_conv_mlp = conv_mlp
        self.conv_dw = create_conv2d(
            in_chs,
            out_chs,
            kernel_size=kernel_size,
            stride=stride,
            dilation=dilation[0],
            depthwise=True,
            bias=conv_bias,
            **dd,
        )
        self.norm = norm_layer(out_chs, **dd)
        self.mlp = mlp_layer(
            out_chs,
            int(mlp_ratio * out_chs),
            act_layer=act_layer,
            **dd,
        )
        self.gamma = nn.Parameter(ls_init_value * torch.ones(out_chs, **dd)) if ls_init_value is not None else None
        if in_chs != out_chs or stride != 1 or dilation[0] != dilation[1]:
            self.shortcut = Downsample(in_chs, out_chs, stride=stride, dilation=dilation[0], **dd)
        else:
            self.shortcut = nn.Identity()
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forward pass."""
        shortcut = x
        x = self.conv_dw(x)
        if self.use_conv_mlp:
            x = self.norm(x)
            x = self.mlp(x)
        else:
            x = x.permute(0, 2, 3, 1)
            x = self.norm(x)
            x = self.mlp(x)
            x = x.permute(0, 3, 1, 2)
        if self.gamma is not None:
            x = x.mul(self.gamma.reshape(1, -1, 1, 1))

        x = self.drop_path(x) + self.shortcut(shortcut)
        return x


def _init_weights(module: nn.Module, name: Optional[str] = None, head_init_scale: float = 1.0) -> None:
    if isinstance(module, nn.Conv2d):
        trunc_normal_(module.weight, std=.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=.02)
        nn.init.zeros_(module.bias)
        if name and 'head.' in name:
            module.weight.data.mul_(head_init_scale)
            module.bias.data.mul_(head_init_scale)


class MixerBlock(nn.Module):
    """Residual Block w/ token mixing and channel MLPs.

    Based on: 'MLP-Mixer: An all-MLP Architecture for Vision' - https://arxiv.org/abs/2105.01601
    """
    def __init__(
            self,
            dim: int,
            seq_len: int,
            mlp_ratio: Union[float, Tuple[float, float]] = (0.5, 4.0),
            mlp_layer: Type[nn.Module] = Mlp,
            norm_layer: Type[nn.Module] = partial(nn.LayerNorm, eps=1e-6),
            act_layer: Type[nn.Module] = nn.GELU,
            drop: float = 0.,
            drop_path: float = 0.,
            device=None,
            dtype=None,
    ) -> None:
        dd = {'device': device, 'dtype': dtype}
        super().__init__()
        tokens_dim, channels_dim = [int(x * dim) for x in to_2tuple(mlp_ratio)]
        self.norm1 = norm_layer(dim, **dd)
        self.mlp_tokens = mlp_layer(seq_len, tokens_dim, act_layer=act_layer, drop=drop, **dd)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm_layer(dim, **dd)
        self.mlp_channels = mlp_layer(dim, channels_dim, act_layer=act_layer, drop=drop, **dd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Forward pass."""
        x = x + self.drop_path(self.mlp_tokens(self.norm1(x).transpose(1, 2)).transpose(1, 2))
        x = x + self.drop_path(self.mlp_channels(self.norm2(x)))
        return x


def _init_weights_mixer(module: nn.Module, name: str, head_bias: float = 0., flax: bool = False) -> None:
    if isinstance(module, nn.Linear):
        if name.startswith('head'):
            nn.init.zeros_(module.weight)
            nn.init.constant_(module.bias, head_bias)
        else:
            if flax:
                # Flax defaults
                lecun_normal_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            else:
                # like MLP init in vit (my original init)
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    if 'mlp' in name:
                        nn.init.normal_(module.bias, std=1e-6)
                    else:
                        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Conv2d):
        lecun_normal_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.LayerNorm, nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif hasattr(module, 'init_weights'):
        # NOTE if a parent module contains init_weights method, it can override the init of the
        # child modules as this will be called in depth-first order.
        module.init_weights()


# --- a tiny ConvNeXt-style classifier from the pieces above (glue: this script's) -------------------------------
class TinyConvNeXt(nn.Module):
    def __init__(self, in_chans=3, num_classes=4, dims=(8, 16), patch_size=4, conv_bias=True, head_init_scale=0.5):
        super().__init__()
        norm_layer = LayerNorm2d
        dd = {}
        # NOTE: this stem is a minimal form of ViT PatchEmbed, as used in SwinTransformer w/ patch_size = 4
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, dims[0], kernel_size=patch_size, stride=patch_size, bias=conv_bias, **dd),
            norm_layer(dims[0], **dd),
        )
        self.stages = nn.Sequential(
            ConvNeXtBlock(dims[0], kernel_size=7, ls_init_value=0.5),
            ConvNeXtBlock(dims[0], dims[1], kernel_size=3, stride=2, conv_mlp=True, use_grn=True,
                          ls_init_value=0.5, drop_path=0.2),
            SEModule(dims[1], rd_ratio=0.25, rd_divisor=4),
        )
        self.head = nn.Sequential(LayerNorm2d(dims[1]), nn.AdaptiveAvgPool2d(1), nn.Flatten(1),
                                  nn.Linear(dims[1], num_classes))
        named_apply(partial(_init_weights, head_init_scale=head_init_scale), self)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


class TinyMixer(nn.Module):
    def __init__(self, num_classes=4, img_size=16, patch_size=4, embed_dim=12, depth=2, head_bias=0.):
        super().__init__()
        self.stem = PatchEmbed(img_size=img_size, patch_size=patch_size, in_chans=3, embed_dim=embed_dim)
        self.blocks = nn.Sequential(*[
            MixerBlock(embed_dim, self.stem.num_patches, drop_path=0.1) for _ in range(depth)])
        self.norm = partial(nn.LayerNorm, eps=1e-6)(embed_dim)
        self.head = nn.Linear(embed_dim, num_classes)
        named_apply(partial(_init_weights_mixer, head_bias=head_bias), module=self)

    def forward(self, x):
        x = self.norm(self.blocks(self.stem(x)))
        return self.head(x.mean(dim=1))


torch.manual_seed(0)
print('act', get_act_layer('gelu'), 'padding', create_conv2d(8, 8, 7, depthwise=True, bias=True))

model = TinyConvNeXt()
print(model.stages[1])
print('shortcut pool', model.stages[1].shortcut.pool)
print('gamma', model.stages[0].gamma[:3], 'head weight std', round(model.head[3].weight.std().item(), 5))
print('stem weight std', round(model.stem[0].weight.std().item(), 4), 'dw bias', model.stages[0].conv_dw.bias.abs().sum().item())

templates = torch.randn(4, 3, 20, 20)
labels = torch.randint(0, 4, (16,))
images = templates[labels] + 0.5 * torch.randn(16, 3, 20, 20)

with torch.no_grad():
    h = model.stem(images[:2])
    print('stem', h.shape, h[0, :2, 0, :3])
    h1 = model.stages[0](h)
    h2 = model.stages[1](h1)
    print('blocks', h1.shape, h2.shape, h2[1, :3, 1, 1])
    x_se = h2.mean((2, 3), keepdim=True)
    print('se gate', model.stages[2].gate(model.stages[2].fc2(model.stages[2].act(model.stages[2].fc1(x_se))))[0, :4, 0, 0])
    grn = model.stages[1].mlp.grn
    print('grn', grn.spatial_dim, grn.channel_dim, grn.wb_shape)

optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.05)
for step in range(4):
    model.train()
    loss = F.cross_entropy(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f'convnext step {step} loss {loss.item():.4f} grn.weight norm {model.stages[1].mlp.grn.weight.norm().item():.5f}')
model.eval()
with torch.no_grad():
    print('eval logits', model(images[:2]))
    print('se fc2 bias', model.stages[2].fc2.bias[:4])

mixer = TinyMixer(head_bias=-math.log(4))
print(mixer.blocks[0])
print('mixer head', mixer.head.weight.abs().sum().item(), mixer.head.bias)
print('mlp bias std', mixer.blocks[0].mlp_tokens.fc1.bias.std().item() < 1e-5,
      'proj std', round(mixer.stem.proj.weight.std().item(), 4), 'max', round(mixer.stem.proj.weight.abs().max().item(), 4))
small = images[:, :, :16, :16]
opt = torch.optim.SGD(mixer.parameters(), lr=0.1, momentum=0.9)
for step in range(4):
    mixer.train()
    loss = F.cross_entropy(mixer(small), labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f'mixer step {step} loss {loss.item():.4f}')
