# miniai/conv.py and miniai/datasets.py (DataLoaders), https://github.com/fastai/course22p2; def_device is 'cpu'.
__all__ = ['def_device', 'to_device', 'collate_device', 'get_dls', 'DataLoaders']

import torch
from torch import nn

from torch.utils.data import DataLoader,default_collate
from typing import Mapping

def_device = 'cpu'

def to_device(x, device=def_device):
    if isinstance(x, torch.Tensor): return x.to(device)
    if isinstance(x, Mapping): return {k:v.to(device) for k,v in x.items()}
    return type(x)(to_device(o, device) for o in x)

def collate_device(b): return to_device(default_collate(b))

def get_dls(train_ds, valid_ds, bs, **kwargs):
    return (DataLoader(train_ds, batch_size=bs, shuffle=True, **kwargs),
            DataLoader(valid_ds, batch_size=bs*2, **kwargs))

class DataLoaders:
    def __init__(self, *dls): self.train,self.valid = dls[:2]

    @classmethod
    def from_dd(cls, dd, batch_size, as_tuple=True, **kwargs):
        return cls(*get_dls(*dd.values(), bs=batch_size, **kwargs))
