# Source: Jure Zbontar, Li Jing, Ishan Misra, Yann LeCun, Stephane Deny (Facebook AI Research), Barlow Twins:
# Self-Supervised Learning via Redundancy Reduction, https://github.com/facebookresearch/barlowtwins  main.py
# (main_worker's parameter groups and training loop, adjust_learning_rate, off_diagonal, BarlowTwins with its
# BatchNorm1d(affine=False) and in-place on_diag/off_diag arithmetic, the LARS optimizer, Transform).
# Shrunk: one process: torch.distributed.all_reduce(c) is the identity of a world of size 1, and
# init_process_group, SyncBatchNorm, DistributedDataParallel, DistributedSampler, .cuda() and the SLURM
# handling are dropped; no GradScaler/autocast (float16 on a GPU in the repository, float32 here); no
# checkpoint files; the backbone torchvision.models.resnet50(zero_init_residual=True) is a one-block ResNet
# written here with torchvision's initialisation (kaiming_normal_ fan_out, zero_init_residual zeroing the
# block's last BatchNorm weight), 16 features instead of 2048, projector '32-32-32' instead of
# '8192-8192-8192'; 32 synthetic 3x8x8 images (a colour per image plus noise) in a Dataset; Transform's
# torchvision augmentations (crop, flip, colour jitter, blur, solarization) are a random flip, brightness
# jitter and a PIL-free solarization (values above 1 negated) on tensors; batch 16, 3 epochs, the warm-up
# 1 epoch instead of 10, print_freq 1; the stats' "time" (wall-clock) field is left out.
import json
import math
import random

import torch
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset


class Args:  # the argparse defaults of main.py, shrunk
    epochs = 3
    batch_size = 16
    learning_rate_weights = 0.2
    learning_rate_biases = 0.0048
    weight_decay = 1e-6
    lambd = 0.0051
    projector = '32-32-32'
    print_freq = 1
    rank = 0


def main_worker(gpu, args):
    model = BarlowTwins(args)
    param_weights = []
    param_biases = []
    for param in model.parameters():
        if param.ndim == 1:
            param_biases.append(param)
        else:
            param_weights.append(param)
    parameters = [{'params': param_weights}, {'params': param_biases}]
    optimizer = LARS(parameters, lr=0, weight_decay=args.weight_decay,
                     weight_decay_filter=True,
                     lars_adaptation_filter=True)
    print('weights', len(param_weights), 'biases', len(param_biases))
    start_epoch = 0

    dataset = SyntheticImages(32, Transform())
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=args.batch_size, shuffle=True)

    for epoch in range(start_epoch, args.epochs):
        for step, ((y1, y2), _) in enumerate(loader, start=epoch * len(loader)):
            adjust_learning_rate(args, optimizer, loader, step)
            optimizer.zero_grad()
            loss = model.forward(y1, y2)
            loss.backward()
            optimizer.step()
            if step % args.print_freq == 0:
                if args.rank == 0:
                    stats = dict(epoch=epoch, step=step,
                                 lr_weights=optimizer.param_groups[0]['lr'],
                                 lr_biases=optimizer.param_groups[1]['lr'],
                                 loss=loss.item())
                    print(json.dumps(stats))
    state = dict(epoch=epoch + 1, model=model.state_dict(),
                 optimizer=optimizer.state_dict())
    print('checkpoint', state['epoch'], list(state['model'])[-6:], list(state['optimizer']['state'][0]))
    print('mu of the first weight', state['optimizer']['state'][0]['mu'].flatten()[:5])
    return model


def adjust_learning_rate(args, optimizer, loader, step):
    max_steps = args.epochs * len(loader)
    warmup_steps = 1 * len(loader)
    base_lr = args.batch_size / 256
    if step < warmup_steps:
        lr = base_lr * step / warmup_steps
    else:
        step -= warmup_steps
        max_steps -= warmup_steps
        q = 0.5 * (1 + math.cos(math.pi * step / max_steps))
        end_lr = base_lr * 0.001
        lr = base_lr * q + end_lr * (1 - q)
    optimizer.param_groups[0]['lr'] = lr * args.learning_rate_weights
    optimizer.param_groups[1]['lr'] = lr * args.learning_rate_biases


def off_diagonal(x):
    # return a flattened view of the off-diagonal elements of a square matrix
    n, m = x.shape
    assert n == m
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()


class BasicBlock(nn.Module):  # torchvision's, without downsampling
    def __init__(self, planes):
        super().__init__()
        self.conv1 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class ResNet(nn.Module):  # stands in for torchvision.models.resnet50
    def __init__(self, num_classes=1000, zero_init_residual=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = BasicBlock(16)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock) and m.bn2.weight is not None:
                    nn.init.constant_(m.bn2.weight, 0)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


class BarlowTwins(nn.Module):
    def __init__(self, args):
        super().__init__()
        self.args = args
        self.backbone = ResNet(zero_init_residual=True)
        self.backbone.fc = nn.Identity()

        # projector
        sizes = [16] + list(map(int, args.projector.split('-')))
        layers = []
        for i in range(len(sizes) - 2):
            layers.append(nn.Linear(sizes[i], sizes[i + 1], bias=False))
            layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Linear(sizes[-2], sizes[-1], bias=False))
        self.projector = nn.Sequential(*layers)

        # normalization layer for the representations z1 and z2
        self.bn = nn.BatchNorm1d(sizes[-1], affine=False)

    def forward(self, y1, y2):
        z1 = self.projector(self.backbone(y1))
        z2 = self.projector(self.backbone(y2))

        # empirical cross-correlation matrix
        c = self.bn(z1).T @ self.bn(z2)

        # sum the cross-correlation matrix between all gpus
        c.div_(self.args.batch_size)
        # torch.distributed.all_reduce(c): one process

        on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
        off_diag = off_diagonal(c).pow_(2).sum()
        loss = on_diag + self.args.lambd * off_diag
        return loss


class LARS(optim.Optimizer):
    def __init__(self, params, lr, weight_decay=0, momentum=0.9, eta=0.001,
                 weight_decay_filter=False, lars_adaptation_filter=False):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                        eta=eta, weight_decay_filter=weight_decay_filter,
                        lars_adaptation_filter=lars_adaptation_filter)
        super().__init__(params, defaults)


    def exclude_bias_and_norm(self, p):
        return p.ndim == 1

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g['params']:
                dp = p.grad

                if dp is None:
                    continue

                if not g['weight_decay_filter'] or not self.exclude_bias_and_norm(p):
                    dp = dp.add(p, alpha=g['weight_decay'])

                if not g['lars_adaptation_filter'] or not self.exclude_bias_and_norm(p):
                    param_norm = torch.norm(p)
                    update_norm = torch.norm(dp)
                    one = torch.ones_like(param_norm)
                    q = torch.where(param_norm > 0.,
                                    torch.where(update_norm > 0,
                                                (g['eta'] * param_norm / update_norm), one), one)
                    dp = dp.mul(q)

                param_state = self.state[p]
                if 'mu' not in param_state:
                    param_state['mu'] = torch.zeros_like(p)
                mu = param_state['mu']
                mu.mul_(g['momentum']).add_(dp)

                p.add_(mu, alpha=-g['lr'])


class Transform:  # the torchvision pipelines replaced by tensor operations
    def transform(self, x, solarization_p):
        if random.random() < 0.5:
            x = x.flip(-1)
        x = x * (0.6 + 0.8 * random.random())
        if random.random() < solarization_p:
            x = torch.where(x > 1, -x, x)
        return x

    def __call__(self, x):
        y1 = self.transform(x, 0.0)
        y2 = self.transform(x, 0.2)
        return y1, y2


class SyntheticImages(Dataset):  # stands in for torchvision.datasets.ImageFolder(args.data / 'train', Transform())
    def __init__(self, n, transform):
        self.images = 2 * torch.randn(n, 3, 1, 1) + torch.randn(n, 3, 8, 8)
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(self.images[i]), 0


c = torch.arange(16.).view(4, 4)
print('off_diagonal', off_diagonal(c))
args = Args()
model = main_worker(0, args)
print(model.projector)
print('bn', model.bn, 'buffers', [name for name, _ in model.bn.named_buffers()])
print('bn running_var', model.bn.running_var[:6])
print('zero-initialised residual bn2.weight', model.backbone.layer1.bn2.weight[:6])
