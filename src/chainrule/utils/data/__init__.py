"""Datasets and data loaders, as ``torch.utils.data``.

``TensorDataset(X, y)`` holds samples, ``DataLoader(dataset, batch_size=64, shuffle=True)``
iterates over them in mini-batches, ``random_split`` makes a train / validation split.
"""
from chainrule.utils.data._utils.collate import default_collate, default_convert
from chainrule.utils.data.dataloader import DataLoader, _DatasetKind
from chainrule.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from chainrule.utils.data.distributed import DistributedSampler
from chainrule.utils.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from chainrule.utils.data._utils.worker import get_worker_info

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "DistributedSampler",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "StackDataset",
    "Subset",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "TensorDataset",
    "_DatasetKind",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "random_split",
]
