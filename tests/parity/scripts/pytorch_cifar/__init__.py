# The repository kuangliu/pytorch-cifar (https://github.com/kuangliu/pytorch-cifar), shared by the cifar_* scripts:
# models/ holds the repository's own model files, verbatim (only those the scripts use).
