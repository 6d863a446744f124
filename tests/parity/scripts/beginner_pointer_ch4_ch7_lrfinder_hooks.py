# Source: Ian Pointer, "Programming PyTorch for Deep Learning" (O'Reilly), chapters 4 and 7,
#   https://github.com/falloutdurham/beginners-pytorch-deep-learning  chapter4/Chapter 4.ipynb (freezing
#   every parameter whose name lacks "bn", replacing model.fc with a Sequential head, train(), the
#   find_lr learning-rate finder driving optimizer.param_groups[0]["lr"], the Noise transform,
#   an ensemble averaged with torch.stack(...).mean(0).argmax()), chapter7/tensorboard-example.py
#   (functools.partial forward hooks on model.children() sending each layer's mean/std) and
#   chapter7/cam.ipynb (class activation map: SaveFeatures forward hook on model._modules.get('layer4'),
#   topk, the fc weights as NumPy, getCAM).
# Shrunk: a tiny ResNet-shaped model (conv1/bn1/relu/maxpool/layer1..layer4/avgpool/fc, 8-32 channels)
#   instead of torchvision's pretrained resnet50/resnet18; synthetic 3x32x32 two-class images in a
#   TensorDataset (128 train, 64 val, batch 16) instead of ImageFolder; 2 epochs instead of 5; the
#   hooks print instead of writing to TensorBoard; no plots (the finder's lrs/losses are printed).
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data
import torch.nn.functional as F
from torch import topk
from torch.autograd import Variable


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class TinyResNet(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(Block(8, 8, 1))
        self.layer2 = nn.Sequential(Block(8, 16, 2))
        self.layer3 = nn.Sequential(Block(16, 24, 2))
        self.layer4 = nn.Sequential(Block(24, 32, 1))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def make_data(n):
    targets = torch.randint(0, 2, (n,))
    images = torch.randn(n, 3, 32, 32)
    images[:, 0, 8:24, 8:24] += targets.view(-1, 1, 1).float() * 1.5  # class 1: a red square
    return torch.utils.data.TensorDataset(images, targets)


train_data = make_data(128)
val_data = make_data(64)

transfer_model = TinyResNet()

# ---------------------------------------------------------------- Freezing parameters
for name, param in transfer_model.named_parameters():
    if("bn" not in name):
        param.requires_grad = False
print([name for name, param in transfer_model.named_parameters() if param.requires_grad])

# ---------------------------------------------------------------- Replacing the classifier
transfer_model.fc = nn.Sequential(nn.Linear(transfer_model.fc.in_features, 500),
nn.ReLU(),
nn.Dropout(), nn.Linear(500, 2))
print(transfer_model.fc)


def train(model, optimizer, loss_fn, train_loader, val_loader, epochs=20, device="cpu"):
    for epoch in range(1, epochs+1):
        training_loss = 0.0
        valid_loss = 0.0
        model.train()
        for batch in train_loader:
            optimizer.zero_grad()
            inputs, targets = batch
            inputs = inputs.to(device)
            targets = targets.to(device)
            output = model(inputs)
            loss = loss_fn(output, targets)
            loss.backward()
            optimizer.step()
            training_loss += loss.data.item() * inputs.size(0)
        training_loss /= len(train_loader.dataset)

        model.eval()
        num_correct = 0
        num_examples = 0
        for batch in val_loader:
            inputs, targets = batch
            inputs = inputs.to(device)
            output = model(inputs)
            targets = targets.to(device)
            loss = loss_fn(output, targets)
            valid_loss += loss.data.item() * inputs.size(0)
            correct = torch.eq(torch.max(F.softmax(output), dim=1)[1], targets).view(-1)
            num_correct += torch.sum(correct).item()
            num_examples += correct.shape[0]
        valid_loss /= len(val_loader.dataset)

        print('Epoch: {}, Training Loss: {:.2f}, Validation Loss: {:.2f}, accuracy = {:.2f}'.format(epoch, training_loss,
        valid_loss, num_correct / num_examples))


batch_size = 16
train_data_loader = torch.utils.data.DataLoader(train_data, batch_size=batch_size, shuffle=True)
val_data_loader = torch.utils.data.DataLoader(val_data, batch_size=batch_size, shuffle=True)

if torch.cuda.is_available():
    device = torch.device("cuda")
else:
    device = torch.device("cpu")
print(len(val_data_loader.dataset))

transfer_model.to(device)
optimizer = optim.Adam(transfer_model.parameters(), lr=0.001)
train(transfer_model, optimizer, torch.nn.CrossEntropyLoss(), train_data_loader, val_data_loader, epochs=2,
      device=device)
print(transfer_model.bn1.running_mean, transfer_model.bn1.num_batches_tracked)
print(transfer_model.conv1.weight.grad, transfer_model.bn1.weight.grad.shape)


# ---------------------------------------------------------------- LR Finder
def find_lr(model, loss_fn, optimizer, train_loader, init_value=1e-8, final_value=10.0, device="cpu"):
    number_in_epoch = len(train_loader) - 1
    update_step = (final_value / init_value) ** (1 / number_in_epoch)
    lr = init_value
    optimizer.param_groups[0]["lr"] = lr
    best_loss = 0.0
    batch_num = 0
    losses = []
    log_lrs = []
    for data in train_loader:
        batch_num += 1
        inputs, targets = data
        inputs = inputs.to(device)
        targets = targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_fn(outputs, targets)

        # Crash out if loss explodes

        if batch_num > 1 and loss > 4 * best_loss:
            if(len(log_lrs) > 20):
                return log_lrs[10:-5], losses[10:-5]
            else:
                return log_lrs, losses

        # Record the best loss

        if loss < best_loss or batch_num == 1:
            best_loss = loss

        # Store the values
        losses.append(loss.item())
        log_lrs.append((lr))

        # Do the backward pass and optimize

        loss.backward()
        optimizer.step()

        # Update the lr for the next step and store

        lr *= update_step
        optimizer.param_groups[0]["lr"] = lr
    if(len(log_lrs) > 20):
        return log_lrs[10:-5], losses[10:-5]
    else:
        return log_lrs, losses


(lrs, losses) = find_lr(transfer_model, torch.nn.CrossEntropyLoss(), optimizer, train_data_loader, device=device)
print(["%.3g" % lr for lr in lrs])
print(losses)
print(optimizer.param_groups[0]["lr"], optimizer.state_dict()["param_groups"][0]["betas"])


# ---------------------------------------------------------------- Custom Transforms
class Noise():
    """Adds gaussian noise to a tensor."""
    def __init__(self, mean, stddev):
        self.mean = mean
        self.stddev = stddev

    def __call__(self, tensor):
        noise = torch.zeros_like(tensor).normal_(self.mean, self.stddev)
        return tensor.add_(noise)

    def __repr__(self):
        repr = f"{self.__class__.__name__  }(mean={self.mean},sttdev={self.stddev})"
        return repr


noise = Noise(0.1, 0.05)
print(noise, noise(torch.zeros(2, 3)))

# ---------------------------------------------------------------- Ensembles
models_ensemble = [TinyResNet().to(device), TinyResNet().to(device)]
predictions = [F.softmax(m(torch.rand(1, 3, 32, 32).to(device))) for m in models_ensemble]
avg_prediction = torch.stack(predictions).mean(0).argmax()
print(avg_prediction)
print(torch.stack(predictions))

# ---------------------------------------------------------------- chapter 7: hooks sending layer statistics
model = TinyResNet(2)


def send_stats(i, module, input, output):
    print(f"layer {i}-mean", output.data.mean())
    print(f"layer {i}-stddev", output.data.std())


handles = []
for i, m in enumerate(model.children()):
    handles.append(m.register_forward_hook(partial(send_stats, i)))
images, labels = next(iter(train_data_loader))
output = model(images)
for handle in handles:
    handle.remove()
print(output.shape)

# ---------------------------------------------------------------- chapter 7: class activation mapping
prediction_var = Variable(images[:1], requires_grad=True)
model.eval()


class SaveFeatures():
    features=None
    def __init__(self, m): self.hook = m.register_forward_hook(self.hook_fn)
    def hook_fn(self, module, input, output): self.features = ((output.cpu()).data).numpy()
    def remove(self): self.hook.remove()


final_layer = model._modules.get('layer4')
activated_features = SaveFeatures(final_layer)
prediction = model(prediction_var)
pred_probabilities = F.softmax(prediction).data.squeeze()
activated_features.remove()
print(topk(pred_probabilities, 1))


def getCAM(feature_conv, weight_fc, class_idx):
    _, nc, h, w = feature_conv.shape
    cam = weight_fc[class_idx].dot(feature_conv.reshape((nc, h*w)))
    cam = cam.reshape(h, w)
    cam = cam - np.min(cam)
    cam_img = cam / np.max(cam)
    return [cam_img]


weight_softmax_params = list(model._modules.get('fc').parameters())
weight_softmax = np.squeeze(weight_softmax_params[0].cpu().data.numpy())
print(weight_softmax_params)
class_idx = topk(pred_probabilities, 1)[1].int()
print(class_idx)
overlay = getCAM(activated_features.features, weight_softmax, class_idx)
print(activated_features.features.shape, activated_features.features.dtype)
print(np.round(overlay[0], 4))
class_idx = topk(pred_probabilities, 2)[1].int()
print(class_idx)
overlay = getCAM(activated_features.features, weight_softmax, 1)
print(np.round(overlay[0], 4))
