# Source: the Tensor subclass patterns of two libraries courses teach with, written here in their
#   shape (not their code): fastai's TensorBase (fastai/torch_core.py: metadata kept in __dict__ and
#   copied to results, functions registered to give plain results, __new__ through as_subclass) and
#   torchvision's TVTensor/BoundingBoxes (torchvision/tv_tensors/: results unwrapped to plain tensors
#   but for a few methods, metadata in attributes, a repr through tensor_contents), plus a units
#   tensor and a model trained on subclass inputs.
#   https://github.com/fastai/fastai  https://github.com/pytorch/vision
# Shrunk: small tensors; no data loading or augmentation pipelines.
import copy

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch._C import DisableTorchFunctionSubclass

torch.manual_seed(0)


# --- fastai-style: metadata travels with results ---------------------------------------------
def _find_meta(args):
    for a in args:
        if isinstance(a, TensorBase) and a.__dict__:
            return a
        if isinstance(a, (list, tuple)):
            found = _find_meta(a)
            if found is not None:
                return found
    return None


class TensorBase(torch.Tensor):
    _plain_funcs = set()

    def __new__(cls, x, **kwargs):
        res = torch.as_tensor(x).as_subclass(cls)
        for k, v in kwargs.items():
            setattr(res, k, v)
        return res

    @classmethod
    def register_plain(cls, func):
        cls._plain_funcs.add(func)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if func in cls._plain_funcs:
            types = (torch.Tensor,)
        res = super().__torch_function__(func, types, args, kwargs or {})
        source = _find_meta(args)
        if source is not None and isinstance(res, TensorBase):
            res.__dict__.update(copy.deepcopy(source.__dict__))
        return res


class TensorImage(TensorBase):
    pass


class TensorMask(TensorBase):
    pass


img = TensorImage(torch.rand(1, 3, 4, 4), img_size=(4, 4))
print(type(img).__name__, img.img_size, img.shape)
flipped = img.flip(-1)
print(type(flipped).__name__, flipped.img_size, torch.allclose(flipped[..., 0], img[..., -1]))
normed = (img - img.mean()) / img.std()
print(type(normed).__name__, getattr(normed, "img_size", None), round(normed.mean().item(), 5))
mask = TensorMask(torch.randint(0, 2, (1, 4, 4)))
print(type(mask).__name__, type(mask.float()).__name__, type(mask.sum()).__name__)
mixed = img * 2 + torch.ones(1, 3, 4, 4)
print(type(mixed).__name__, mixed.img_size)
TensorBase.register_plain(torch.Tensor.argmax)
print(type(img.argmax()).__name__, type(img.max()).__name__)
print(type(torch.cat([img, img])).__name__, torch.cat([img, img]).shape)
print(type(F.interpolate(img, size=(2, 2))).__name__)
print(repr(TensorBase(torch.tensor([1.0, 2.0]))))


# --- torchvision-style: results unwrap to plain tensors but for a few -------------------------
class TVTensor(torch.Tensor):
    _keep = {torch.Tensor.clone, torch.Tensor.to, torch.Tensor.detach, torch.Tensor.requires_grad_}

    @classmethod
    def _wrap(cls, tensor, **meta):
        out = tensor.as_subclass(cls)
        for k, v in meta.items():
            setattr(out, k, v)
        return out

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if not all(issubclass(cls, t) for t in types):
            return NotImplemented
        with DisableTorchFunctionSubclass():
            output = func(*args, **(kwargs or {}))
        if func in cls._keep and isinstance(args[0], cls):
            return cls._wrap(output, **args[0].__dict__)
        return output

    def __repr__(self, *, tensor_contents=None):
        with DisableTorchFunctionSubclass():
            return super().__repr__(tensor_contents=f"{self.tolist()}, meta={self.__dict__}")


class BoundingBoxes(TVTensor):
    def __new__(cls, data, *, format, canvas_size):
        return cls._wrap(torch.as_tensor(data, dtype=torch.float32), format=format, canvas_size=canvas_size)


boxes = BoundingBoxes([[0, 0, 10, 10], [5, 5, 20, 30]], format="XYXY", canvas_size=(32, 32))
print(boxes)
print(type(boxes + 1).__name__, type(boxes.clone()).__name__, boxes.clone().format, type(boxes[0]).__name__)
widths = boxes[:, 2] - boxes[:, 0]
print(type(widths).__name__, widths.tolist())
scaled = boxes.clone().mul_(0.5)
print(type(scaled).__name__, scaled.tolist(), scaled.canvas_size)
print(type(boxes.detach()).__name__, type(boxes.to(torch.float64)).__name__, boxes.to(torch.float64).dtype)


# --- a tensor with units ------------------------------------------------------------------------
class Quantity(torch.Tensor):
    @staticmethod
    def __new__(cls, data, unit):
        q = torch.as_tensor(data, dtype=torch.float64).as_subclass(cls)
        q.unit = unit
        return q

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        units = [a.unit for a in args if isinstance(a, Quantity) and hasattr(a, "unit")]
        if func in (torch.Tensor.add, torch.add, torch.Tensor.sub, torch.sub) and len(set(units)) > 1:
            raise ValueError(f"cannot {func.__name__} {units[0]} and {units[1]}")
        out = super().__torch_function__(func, types, args, kwargs)
        if isinstance(out, Quantity) and units:
            if func in (torch.Tensor.mul, torch.mul) and len(units) == 2:
                out.unit = f"{units[0]}*{units[1]}"
            elif func in (torch.Tensor.div, torch.div) and len(units) == 2:
                out.unit = f"{units[0]}/{units[1]}"
            else:
                out.unit = units[0]
        return out


d = Quantity([1.0, 2.0, 3.0], "m")
t = Quantity([2.0, 2.0, 4.0], "s")
v = d / t
print(type(v).__name__, v.unit, v.tolist())
print((d * t).unit, (d + d).unit, torch.add(d, d).unit, (d * 3).unit, d.sum().unit)
try:
    d + t
except ValueError as e:
    print("ValueError", e)


# --- a model trained on subclass inputs -------------------------------------------------------
class Features(torch.Tensor):
    pass


model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
x = torch.randn(16, 4).as_subclass(Features)
y = torch.randint(0, 3, (16,))
for step in range(5):
    optimizer.zero_grad()
    logits = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    optimizer.step()
    print(step, type(logits).__name__, type(loss).__name__, round(loss.item(), 5))
print(type(model[0].weight).__name__, type(model[0].weight.grad).__name__)
with torch.no_grad():
    prediction = model(x).argmax(1)
print(type(prediction).__name__, prediction.tolist())
