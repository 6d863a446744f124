# Ross Wightman's timm (https://github.com/huggingface/pytorch-image-models), the pieces the timm_* scripts
# beside this folder import, copied from timm/layers and timm/loss (commit aa4b5850c1543fa488abf260f18390eda46cf85d).
