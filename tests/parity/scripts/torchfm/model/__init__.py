# torchfm/model of https://github.com/rixwew/pytorch-fm (the models the recsys_torchfm_* scripts train), verbatim.
