# The repository's nflib package (Andrej Karpathy, https://github.com/karpathy/pytorch-normalizing-flows  nflib/),
# shared by the karpathy2_nflows_* scripts; its modules are copied verbatim below a source header.
