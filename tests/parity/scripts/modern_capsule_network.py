# Source: Kenta Iwasaki (Gram.AI), capsule-networks, "Dynamic Routing Between Capsules" in PyTorch:
#   https://github.com/gram-ai/capsule-networks  capsule_network.py (squash, dynamic routing with a softmax
#   over a chosen dim, margin + reconstruction loss with MSELoss(size_average=False), torchnet Engine loop)
# with the torchnet pieces it imports copied in (Engine, AverageValueMeter, ClassErrorMeter, ConfusionMeter
# from https://github.com/pytorch/tnt at 54b61a47, before torchnet left that repository).
# Shrunk: 32 + 16 synthetic uint8 28x28 "digits" (noise around ten class templates) in a stand-in with
# MNIST's train_data/test_data attributes instead of torchvision's download; tnt.dataset.TensorDataset
# (...).parallel(num_workers=4) replaced by DataLoader(TensorDataset(...)); BATCH_SIZE 16, 2 epochs
# instead of 500; conv1 16 channels instead of 256, primary capsules of 4 channels (4*6*6 route nodes)
# instead of 32, decoder 160-64-128-784 instead of 160-512-1024-784. No GPU: the .cuda() calls are left
# out. Visdom loggers print what they would plot (the confusion matrix rounded to 3 decimals by NumPy,
# an image's shape and mean); torchvision's make_grid returns its input; tqdm left out; the epoch
# checkpoint is saved to an io.BytesIO instead of epochs/.
# Changed: CapsuleNet.forward's (x * y[:, :, None]).view(x.size(0), -1) is .reshape(...): x is the routing
# output transposed, the product keeps its strides (PyTorch's elementwise results follow their inputs'
# memory layout), so .view raises with PyTorch 2.13 (it ran with the PyTorch 0.3 of the time); an added
# check at the start prints that error.
"""
Dynamic Routing Between Capsules
https://arxiv.org/abs/1710.09829

PyTorch implementation by Kenta Iwasaki @ Gram.AI.
"""
import sys
sys.setrecursionlimit(15000)

import torch
import torch.nn.functional as F
from torch import nn
import numpy as np

BATCH_SIZE = 16
NUM_CLASSES = 10
NUM_EPOCHS = 2
NUM_ROUTING_ITERATIONS = 3


def softmax(input, dim=1):
    transposed_input = input.transpose(dim, len(input.size()) - 1)
    softmaxed_output = F.softmax(transposed_input.contiguous().view(-1, transposed_input.size(-1)), dim=-1)
    return softmaxed_output.view(*transposed_input.size()).transpose(dim, len(input.size()) - 1)


def augmentation(x, max_shift=2):
    _, _, height, width = x.size()

    h_shift, w_shift = np.random.randint(-max_shift, max_shift + 1, size=2)
    source_height_slice = slice(max(0, h_shift), h_shift + height)
    source_width_slice = slice(max(0, w_shift), w_shift + width)
    target_height_slice = slice(max(0, -h_shift), -h_shift + height)
    target_width_slice = slice(max(0, -w_shift), -w_shift + width)

    shifted_image = torch.zeros(*x.size())
    shifted_image[:, :, source_height_slice, source_width_slice] = x[:, :, target_height_slice, target_width_slice]
    return shifted_image.float()


class CapsuleLayer(nn.Module):
    def __init__(self, num_capsules, num_route_nodes, in_channels, out_channels, kernel_size=None, stride=None,
                 num_iterations=NUM_ROUTING_ITERATIONS):
        super(CapsuleLayer, self).__init__()

        self.num_route_nodes = num_route_nodes
        self.num_iterations = num_iterations

        self.num_capsules = num_capsules

        if num_route_nodes != -1:
            self.route_weights = nn.Parameter(torch.randn(num_capsules, num_route_nodes, in_channels, out_channels))
        else:
            self.capsules = nn.ModuleList(
                [nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, stride=stride, padding=0) for _ in
                 range(num_capsules)])

    def squash(self, tensor, dim=-1):
        squared_norm = (tensor ** 2).sum(dim=dim, keepdim=True)
        scale = squared_norm / (1 + squared_norm)
        return scale * tensor / torch.sqrt(squared_norm)

    def forward(self, x):
        if self.num_route_nodes != -1:
            priors = x[None, :, :, None, :] @ self.route_weights[:, None, :, :, :]

            logits = Variable(torch.zeros(*priors.size()))
            for i in range(self.num_iterations):
                probs = softmax(logits, dim=2)
                outputs = self.squash((probs * priors).sum(dim=2, keepdim=True))

                if i != self.num_iterations - 1:
                    delta_logits = (priors * outputs).sum(dim=-1, keepdim=True)
                    logits = logits + delta_logits
        else:
            outputs = [capsule(x).view(x.size(0), -1, 1) for capsule in self.capsules]
            outputs = torch.cat(outputs, dim=-1)
            outputs = self.squash(outputs)

        return outputs


class CapsuleNet(nn.Module):
    def __init__(self):
        super(CapsuleNet, self).__init__()

        self.conv1 = nn.Conv2d(in_channels=1, out_channels=16, kernel_size=9, stride=1)
        self.primary_capsules = CapsuleLayer(num_capsules=8, num_route_nodes=-1, in_channels=16, out_channels=4,
                                             kernel_size=9, stride=2)
        self.digit_capsules = CapsuleLayer(num_capsules=NUM_CLASSES, num_route_nodes=4 * 6 * 6, in_channels=8,
                                           out_channels=16)

        self.decoder = nn.Sequential(
            nn.Linear(16 * NUM_CLASSES, 64),
            nn.ReLU(inplace=True),
            nn.Linear(64, 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, 784),
            nn.Sigmoid()
        )

    def forward(self, x, y=None):
        x = F.relu(self.conv1(x), inplace=True)
        x = self.primary_capsules(x)
        x = self.digit_capsules(x).squeeze().transpose(0, 1)

        classes = (x ** 2).sum(dim=-1) ** 0.5
        classes = F.softmax(classes, dim=-1)

        if y is None:
            # In all batches, get the most active capsule.
            _, max_length_indices = classes.max(dim=1)
            y = Variable(torch.eye(NUM_CLASSES)).index_select(dim=0, index=max_length_indices.data)

        reconstructions = self.decoder((x * y[:, :, None]).reshape(x.size(0), -1))  # .view( in the original: see the header

        return classes, reconstructions


class CapsuleLoss(nn.Module):
    def __init__(self):
        super(CapsuleLoss, self).__init__()
        self.reconstruction_loss = nn.MSELoss(size_average=False)

    def forward(self, images, labels, classes, reconstructions):
        left = F.relu(0.9 - classes, inplace=True) ** 2
        right = F.relu(classes - 0.1, inplace=True) ** 2

        margin_loss = labels * left + 0.5 * (1. - labels) * right
        margin_loss = margin_loss.sum()

        assert torch.numel(images) == torch.numel(reconstructions)
        images = images.view(reconstructions.size()[0], -1)
        reconstruction_loss = self.reconstruction_loss(reconstructions, images)

        return (margin_loss + 0.0005 * reconstruction_loss) / images.size(0)


# ---- torchnet: https://github.com/pytorch/tnt (before torchnet was removed) torchnet/engine/engine.py,
# torchnet/meter/{meter,averagevaluemeter,classerrormeter,confusionmeter}.py (docstrings left out) ----
import numbers


class Engine(object):
    def __init__(self):
        self.hooks = {}

    def hook(self, name, state):
        if name in self.hooks:
            self.hooks[name](state)

    def train(self, network, iterator, maxepoch, optimizer):
        state = {
            "network": network,
            "iterator": iterator,
            "maxepoch": maxepoch,
            "optimizer": optimizer,
            "epoch": 0,
            "t": 0,
            "train": True,
        }

        self.hook("on_start", state)
        while state["epoch"] < state["maxepoch"]:
            self.hook("on_start_epoch", state)
            for sample in state["iterator"]:
                state["sample"] = sample
                self.hook("on_sample", state)

                def closure():
                    loss, output = state["network"](state["sample"])
                    state["output"] = output
                    state["loss"] = loss
                    loss.backward()
                    self.hook("on_forward", state)
                    # to free memory in save_for_backward
                    state["output"] = None
                    state["loss"] = None
                    return loss

                state["optimizer"].zero_grad()
                state["optimizer"].step(closure)
                self.hook("on_update", state)
                state["t"] += 1
            state["epoch"] += 1
            self.hook("on_end_epoch", state)
        self.hook("on_end", state)
        return state

    def test(self, network, iterator):
        state = {
            "network": network,
            "iterator": iterator,
            "t": 0,
            "train": False,
        }

        self.hook("on_start", state)
        for sample in state["iterator"]:
            state["sample"] = sample
            self.hook("on_sample", state)

            def closure():
                loss, output = state["network"](state["sample"])
                state["output"] = output
                state["loss"] = loss
                self.hook("on_forward", state)
                # to free memory in save_for_backward
                state["output"] = None
                state["loss"] = None

            closure()
            state["t"] += 1
        self.hook("on_end", state)
        return state


class Meter(object):
    def reset(self):
        pass

    def add(self, value):
        pass

    def value(self):
        pass


class AverageValueMeter(Meter):
    def __init__(self):
        super(AverageValueMeter, self).__init__()
        self.reset()
        self.val = 0

    def add(self, value, n=1):
        self.val = value
        self.sum += value * n
        if n <= 0:
            raise ValueError("Cannot use a non-positive weight for the running stat.")
        elif self.n == 0:
            self.mean = 0.0 + value  # This is to force a copy in torch/numpy
            self.std = np.inf
            self.mean_old = self.mean
            self.m_s = 0.0
        else:
            self.mean = self.mean_old + n * (value - self.mean_old) / float(self.n + n)
            self.m_s += n * (value - self.mean_old) * (value - self.mean)
            self.mean_old = self.mean
            self.std = np.sqrt(self.m_s / (self.n + n - 1.0))
        self.var = self.std**2

        self.n += n

    def value(self):
        return self.mean, self.std

    def reset(self):
        self.n = 0
        self.sum = 0.0
        self.var = 0.0
        self.val = 0.0
        self.mean = np.nan
        self.mean_old = 0.0
        self.m_s = 0.0
        self.std = np.nan


class ClassErrorMeter(Meter):
    def __init__(self, topk=[1], accuracy=False):
        super(ClassErrorMeter, self).__init__()
        self.topk = np.sort(topk)
        self.accuracy = accuracy
        self.reset()

    def reset(self):
        self.sum = {v: 0 for v in self.topk}
        self.n = 0

    def add(self, output, target):
        if torch.is_tensor(output):
            output = output.cpu().squeeze().numpy()
        if torch.is_tensor(target):
            target = np.atleast_1d(target.cpu().squeeze().numpy())
        elif isinstance(target, numbers.Number):
            target = np.asarray([target])
        if np.ndim(output) == 1:
            output = output[np.newaxis]
        else:
            assert np.ndim(output) == 2, "wrong output size (1D or 2D expected)"
            assert np.ndim(target) == 1, "target and output do not match"
        assert target.shape[0] == output.shape[0], "target and output do not match"
        topk = self.topk
        maxk = int(topk[-1])  # seems like Python3 wants int and not np.int64
        no = output.shape[0]

        pred = torch.from_numpy(output).topk(maxk, 1, True, True)[1].numpy()
        correct = pred == target[:, np.newaxis].repeat(pred.shape[1], 1)

        for k in topk:
            self.sum[k] += no - correct[:, 0:k].sum()
        self.n += no

    def value(self, k=-1):
        if k != -1:
            assert (
                k in self.sum.keys()
            ), "invalid k (this k was not provided at construction time)"
            if self.accuracy:
                return (1.0 - float(self.sum[k]) / self.n) * 100.0
            else:
                return float(self.sum[k]) / self.n * 100.0
        else:
            return [self.value(k_) for k_ in self.topk]


class ConfusionMeter(Meter):
    def __init__(self, k, normalized=False):
        super(ConfusionMeter, self).__init__()
        self.conf = np.ndarray((k, k), dtype=np.int32)
        self.normalized = normalized
        self.k = k
        self.reset()

    def reset(self):
        self.conf.fill(0)

    def add(self, predicted, target):
        predicted = predicted.cpu().numpy()
        target = target.cpu().numpy()

        assert (
            predicted.shape[0] == target.shape[0]
        ), "number of targets and predicted outputs do not match"

        if np.ndim(predicted) != 1:
            assert (
                predicted.shape[1] == self.k
            ), "number of predictions does not match size of confusion matrix"
            predicted = np.argmax(predicted, 1)
        else:
            assert (predicted.max() < self.k) and (
                predicted.min() >= 0
            ), "predicted values are not between 1 and k"

        onehot_target = np.ndim(target) != 1
        if onehot_target:
            assert (
                target.shape[1] == self.k
            ), "Onehot target does not match size of confusion matrix"
            assert (target >= 0).all() and (
                target <= 1
            ).all(), "in one-hot encoding, target values should be 0 or 1"
            assert (target.sum(1) == 1).all(), "multi-label setting is not supported"
            target = np.argmax(target, 1)
        else:
            assert (predicted.max() < self.k) and (
                predicted.min() >= 0
            ), "predicted values are not between 0 and k-1"

        # hack for bincounting 2 arrays together
        x = predicted + self.k * target
        bincount_2d = np.bincount(x.astype(np.int32), minlength=self.k**2)
        assert bincount_2d.size == self.k**2
        conf = bincount_2d.reshape((self.k, self.k))

        self.conf += conf

    def value(self):
        if self.normalized:
            conf = self.conf.astype(np.float32)
            return conf / conf.sum(1).clip(min=1e-12)[:, None]
        else:
            return self.conf


def torchnet_engine_and_meters():
    """What `from torchnet.engine import Engine` and `import torchnet as tnt` give the script."""
    import types
    return Engine, types.SimpleNamespace(meter=types.SimpleNamespace(
        AverageValueMeter=AverageValueMeter, ClassErrorMeter=ClassErrorMeter, ConfusionMeter=ConfusionMeter))


if __name__ == "__main__":
    from torch.autograd import Variable
    from torch.optim import Adam
    from torch.utils.data import DataLoader, TensorDataset
    import io
    # torchnet (Engine, meters), visdom loggers, torchvision and tqdm stand-ins: see the header
    Engine, tnt = torchnet_engine_and_meters()


    class VisdomPlotLogger:
        def __init__(self, plot_type, opts=None):
            self.title = opts['title']

        def log(self, x, y):
            print('  [%s] %d: %.4f' % (self.title, x, y))


    class VisdomLogger:
        def __init__(self, plot_type, opts=None):
            self.plot_type, self.title = plot_type, opts['title']

        def log(self, value):
            if self.plot_type == 'heatmap':
                print('  [%s]' % self.title)
                print(np.round(value, 3))
            else:
                print('  [%s] image %s, mean %.4f' % (self.title, tuple(value.shape), value.mean()))


    def make_grid(tensor, nrow=8, normalize=False, range=None):  # torchvision's grid layout left out
        return tensor


    def tqdm(iterator):
        return iterator


    class MNIST:
        """Synthetic uint8 28x28 "digits" (noise around ten class templates) in MNIST's attributes."""
        templates = torch.randint(0, 200, (NUM_CLASSES, 28, 28))

        def __init__(self, root, download, train):
            n = 32 if train else 16
            labels = torch.randint(0, NUM_CLASSES, (n,))
            images = (self.templates[labels] + torch.randint(0, 56, (n, 28, 28))).to(torch.uint8)
            if train:
                self.train_data, self.train_labels = images, labels
            else:
                self.test_data, self.test_labels = images, labels

    model = CapsuleNet()

    # Added: the original's .view of the masked capsules, on a batch of 2, as PyTorch 2.13 answers it
    x = torch.randn(NUM_CLASSES, 2, 16).transpose(0, 1)
    y = torch.eye(NUM_CLASSES)[:2]
    print((x * y[:, :, None]).is_contiguous(), (x * y[:, :, None]).stride())
    try:
        (x * y[:, :, None]).view(x.size(0), -1)
    except RuntimeError as e:
        print(e)
    # model.load_state_dict(torch.load('epochs/epoch_327.pt'))

    print("# parameters:", sum(param.numel() for param in model.parameters()))

    optimizer = Adam(model.parameters())

    engine = Engine()
    meter_loss = tnt.meter.AverageValueMeter()
    meter_accuracy = tnt.meter.ClassErrorMeter(accuracy=True)
    confusion_meter = tnt.meter.ConfusionMeter(NUM_CLASSES, normalized=True)

    train_loss_logger = VisdomPlotLogger('line', opts={'title': 'Train Loss'})
    train_error_logger = VisdomPlotLogger('line', opts={'title': 'Train Accuracy'})
    test_loss_logger = VisdomPlotLogger('line', opts={'title': 'Test Loss'})
    test_accuracy_logger = VisdomPlotLogger('line', opts={'title': 'Test Accuracy'})
    confusion_logger = VisdomLogger('heatmap', opts={'title': 'Confusion matrix',
                                                     'columnnames': list(range(NUM_CLASSES)),
                                                     'rownames': list(range(NUM_CLASSES))})
    ground_truth_logger = VisdomLogger('image', opts={'title': 'Ground Truth'})
    reconstruction_logger = VisdomLogger('image', opts={'title': 'Reconstruction'})

    capsule_loss = CapsuleLoss()


    def get_iterator(mode):
        dataset = MNIST(root='./data', download=True, train=mode)
        data = getattr(dataset, 'train_data' if mode else 'test_data')
        labels = getattr(dataset, 'train_labels' if mode else 'test_labels')
        tensor_dataset = TensorDataset(data, labels)  # tnt.dataset.TensorDataset([data, labels])

        return DataLoader(tensor_dataset, batch_size=BATCH_SIZE, shuffle=mode)  # tensor_dataset.parallel(..., num_workers=4, ...)


    def processor(sample):
        data, labels, training = sample

        data = augmentation(data.unsqueeze(1).float() / 255.0)
        labels = torch.LongTensor(labels)

        labels = torch.eye(NUM_CLASSES).index_select(dim=0, index=labels)

        data = Variable(data)
        labels = Variable(labels)

        if training:
            classes, reconstructions = model(data, labels)
        else:
            classes, reconstructions = model(data)

        loss = capsule_loss(data, labels, classes, reconstructions)

        return loss, classes


    def reset_meters():
        meter_accuracy.reset()
        meter_loss.reset()
        confusion_meter.reset()


    def on_sample(state):
        state['sample'].append(state['train'])


    def on_forward(state):
        meter_accuracy.add(state['output'].data, torch.LongTensor(state['sample'][1]))
        confusion_meter.add(state['output'].data, torch.LongTensor(state['sample'][1]))
        meter_loss.add(state['loss'].item())


    def on_start_epoch(state):
        reset_meters()
        state['iterator'] = tqdm(state['iterator'])


    def on_end_epoch(state):
        print('[Epoch %d] Training Loss: %.4f (Accuracy: %.2f%%)' % (
            state['epoch'], meter_loss.value()[0], meter_accuracy.value()[0]))

        train_loss_logger.log(state['epoch'], meter_loss.value()[0])
        train_error_logger.log(state['epoch'], meter_accuracy.value()[0])

        reset_meters()

        engine.test(processor, get_iterator(False))
        test_loss_logger.log(state['epoch'], meter_loss.value()[0])
        test_accuracy_logger.log(state['epoch'], meter_accuracy.value()[0])
        confusion_logger.log(confusion_meter.value())

        print('[Epoch %d] Testing Loss: %.4f (Accuracy: %.2f%%)' % (
            state['epoch'], meter_loss.value()[0], meter_accuracy.value()[0]))

        torch.save(model.state_dict(), io.BytesIO())  # 'epochs/epoch_%d.pt' % state['epoch']

        # Reconstruction visualization.

        test_sample = next(iter(get_iterator(False)))

        ground_truth = (test_sample[0].unsqueeze(1).float() / 255.0)
        _, reconstructions = model(Variable(ground_truth))
        reconstruction = reconstructions.cpu().view_as(ground_truth).data

        ground_truth_logger.log(
            make_grid(ground_truth, nrow=int(BATCH_SIZE ** 0.5), normalize=True, range=(0, 1)).numpy())
        reconstruction_logger.log(
            make_grid(reconstruction, nrow=int(BATCH_SIZE ** 0.5), normalize=True, range=(0, 1)).numpy())

    # def on_start(state):
    #     state['epoch'] = 327
    #
    # engine.hooks['on_start'] = on_start
    engine.hooks['on_sample'] = on_sample
    engine.hooks['on_forward'] = on_forward
    engine.hooks['on_start_epoch'] = on_start_epoch
    engine.hooks['on_end_epoch'] = on_end_epoch

    engine.train(processor, get_iterator(True), maxepoch=NUM_EPOCHS, optimizer=optimizer)
