# The pytorch-fm repository's torchfm package (https://github.com/rixwew/pytorch-fm, commit f74ad19), shared by the recsys_torchfm_* scripts.
