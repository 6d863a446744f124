"""A stand-in for the parts of torchmetrics (not a test dependency) that Geron's Hands-On Machine
Learning with Scikit-Learn and PyTorch uses in its chapter 11 notebook: micro-averaged ``Accuracy``
on logits (``task="binary"`` thresholds sigmoid(logits) at 0.5) and ``MeanSquaredError`` (RMSE with
``squared=False``), each with ``update``, ``compute``, ``reset`` and ``to``. Written for the teaching
scripts beside this folder, which import it as the notebook imports torchmetrics."""
import torch


class _Metric:
    def __init__(self, task=None, num_classes=None, squared=True):
        self.task, self.squared = task, squared
        self.reset()

    def to(self, device):
        return self

    def reset(self):
        self.total, self.count = 0.0, 0


class Accuracy(_Metric):
    def update(self, y_pred, y_true):
        with torch.no_grad():
            if self.task == "binary":
                preds = (torch.sigmoid(y_pred) >= 0.5).to(y_true.dtype)
            else:
                preds = y_pred.argmax(dim=1)
            self.total += (preds == y_true).sum().item()
            self.count += y_true.numel()

    def compute(self):
        return torch.tensor(self.total / self.count)


class MeanSquaredError(_Metric):
    def update(self, y_pred, y_true):
        with torch.no_grad():
            self.total += ((y_pred - y_true) ** 2).sum().item()
            self.count += y_true.numel()

    def compute(self):
        mse = torch.tensor(self.total / self.count)
        return mse if self.squared else mse.sqrt()
