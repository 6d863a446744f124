# Source: Georgia Tech CS 7643 Deep Learning, assignment 2 part 2 ("PyTorch"): TwoLayerNet, VanillaCNN, MyModel,
# the CIFAR ResNet-32 (option-A shortcuts with F.pad, NormedLinear with renorm_), FocalLoss with class-balanced
# reweight (effective numbers), IMBALANCECIFAR10 and main.py's train / validate / adjust_learning_rate loop with its
# AverageMeter and confusion matrix, as a student completed them:
#   https://github.com/tamarisk07/CS7643-Deep-Learning  HW2/part2-pytorch/ (main.py, models/twolayer.py, models/cnn.py,
#   models/my_model.py, models/resnet.py, losses/focal_loss.py, data/dataset_cifar.py, configs/*.yaml)
# Shrunk: synthetic uint8 32x32 "CIFAR-10" images (6 per class, 4 test per class) in a small base class standing in
# for torchvision.datasets.CIFAR10 (IMBALANCECIFAR10 keeps its exp imbalance with imb_factor 0.34); the
# RandomCrop/flip/ToTensor/Normalize transforms are a to_tensor + normalize function on arrays; the YAML configs are
# dicts (batch 16 instead of 128, 1 or 2 epochs instead of 10, warmup/steps scaled down); MyModel trains one
# epoch of 2 batches; ResNet-32 runs one Adam step on 4 images of 8x8 (its global avg_pool accepts any size), and
# resnet.py's parameter-count test is run for resnet20..resnet56 only. The iteration times main.py prints are
# timings (left out), printing every 2 iterations instead of every 10; no CUDA, no checkpoint saving.
import argparse
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init
from torch.nn import Parameter
from torch.utils.data import DataLoader
from torch.utils.data.dataset import Dataset


# ---------------------------------------------------------------- models/twolayer.py
class TwoLayerNet(nn.Module):
    def __init__(self, input_dim, hidden_size, num_classes):
        super(TwoLayerNet, self).__init__()
        self.input_dim = input_dim
        self.hidden_size = hidden_size
        self.num_classes = num_classes
        self.fc1 = nn.Linear(self.input_dim, self.hidden_size, bias=True)
        self.sig = nn.Sigmoid()
        self.fc2 = nn.Linear(self.hidden_size, self.num_classes, bias=True)

    def forward(self, x):
        out = None
        n, c, h_in, w_in = x.shape
        x_in = torch.reshape(x, (n, -1))
        fc1_out = self.fc1(x_in)
        sig_out = self.sig(fc1_out)
        out = self.fc2(sig_out)
        return out


# ---------------------------------------------------------------- models/cnn.py
class VanillaCNN(nn.Module):
    def __init__(self):
        super(VanillaCNN, self).__init__()
        self.convs = nn.Conv2d(in_channels=3, out_channels=32, kernel_size=7, stride=1, padding=0)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc = nn.Linear(5408, 10)

    def forward(self, x):
        outs = None
        conv_out = self.convs(x)
        relu_out = self.act(conv_out)
        pool_out = self.pool(relu_out)
        fc_in = pool_out.view(-1, 5408)
        outs = self.fc(fc_in)
        return outs


# ---------------------------------------------------------------- models/my_model.py
class MyModel(nn.Module):
    def __init__(self):
        super(MyModel, self).__init__()
        self.conv1 = nn.Conv2d(in_channels=3, out_channels=32, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, stride=1, padding=1)
        self.conv3 = nn.Conv2d(in_channels=64, out_channels=128, kernel_size=3, stride=1, padding=1)
        self.conv4 = nn.Conv2d(in_channels=128, out_channels=256, kernel_size=3, stride=1, padding=1)
        self.conv5 = nn.Conv2d(in_channels=256, out_channels=256, kernel_size=3, stride=1, padding=1)
        self.batch1 = nn.BatchNorm2d(32)
        self.batch2 = nn.BatchNorm2d(128)
        self.batch3 = nn.BatchNorm2d(256)
        self.fc1 = nn.Linear(4096, 1024)
        self.fc2 = nn.Linear(1024, 512)
        self.fc3 = nn.Linear(512, 10)
        self.dropout1 = nn.Dropout(p=0.05)
        self.dropout2 = nn.Dropout(p=0.1)

    def forward(self, x):
        outs = None
        x_conv_relu1 = F.relu(self.batch1(self.conv1(x)))  # 10,32,32,32
        x_pool1 = F.max_pool2d(x_conv_relu1, kernel_size=2, stride=2)  # 10,32,16,16
        x_conv_relu2 = F.relu(self.conv2(x_pool1))  # 10,64,16,16
        x_pool2 = F.max_pool2d(x_conv_relu2, kernel_size=2, stride=2)  # 10,64,8,8
        x_conv_relu3 = F.relu(self.batch2(self.conv3(x_pool2)))  # 10,128,8,8
        x_pool3 = F.max_pool2d(x_conv_relu3, kernel_size=2, stride=2)  # 10,128,4,4
        x_drop1 = self.dropout1(x_pool3)  # 10,128,4,4
        x_conv_relu4 = F.relu(self.batch3(self.conv4(x_drop1)))  # 10,256,4,4
        x_trans = x_conv_relu4.view(-1, 256 * 4 * 4)
        x_fcdrop1 = self.dropout2(x_trans)
        x_fc1 = F.relu(self.fc1(x_fcdrop1))
        x_fc2 = F.relu(self.fc2(x_fc1))
        x_fcdrop2 = self.dropout2(x_fc2)
        x_fc3 = self.fc3(x_fcdrop2)
        outs = x_fc3
        return outs


# ---------------------------------------------------------------- models/resnet.py
__all__ = ['ResNet_s', 'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110', 'resnet1202']


def _weights_init(m):
    classname = m.__class__.__name__
    if isinstance(m, nn.Linear) or isinstance(m, nn.Conv2d):
        init.kaiming_normal_(m.weight)


class NormedLinear(nn.Module):

    def __init__(self, in_features, out_features):
        super(NormedLinear, self).__init__()
        self.weight = Parameter(torch.Tensor(in_features, out_features))
        self.weight.data.uniform_(-1, 1).renorm_(2, 1, 1e-5).mul_(1e5)

    def forward(self, x):
        out = F.normalize(x, dim=1).mm(F.normalize(self.weight, dim=0))
        return out


class LambdaLayer(nn.Module):

    def __init__(self, lambd):
        super(LambdaLayer, self).__init__()
        self.lambd = lambd

    def forward(self, x):
        return self.lambd(x)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1, option='A'):
        super(BasicBlock, self).__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)

        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            if option == 'A':
                """
                For CIFAR10 ResNet paper uses option A.
                """
                self.shortcut = LambdaLayer(lambda x:
                                            F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4), "constant", 0))
            elif option == 'B':
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_planes, self.expansion * planes, kernel_size=1, stride=stride, bias=False),
                    nn.BatchNorm2d(self.expansion * planes)
                )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        out = F.relu(out)
        return out


class ResNet_s(nn.Module):

    def __init__(self, block, num_blocks, num_classes=10):
        super(ResNet_s, self).__init__()
        self.in_planes = 16

        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = self._make_layer(block, 16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 64, num_blocks[2], stride=2)

        self.linear = nn.Linear(64, num_classes)
        self.apply(_weights_init)

    def _make_layer(self, block, planes, num_blocks, stride):
        strides = [stride] + [1] * (num_blocks - 1)
        layers = []
        for stride in strides:
            layers.append(block(self.in_planes, planes, stride))
            self.in_planes = planes * block.expansion

        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = F.avg_pool2d(out, out.size()[3])
        out = out.view(out.size(0), -1)
        out = self.linear(out)
        return out


def resnet20():
    return ResNet_s(BasicBlock, [3, 3, 3])


def resnet32(num_classes=10, use_norm=False):
    return ResNet_s(BasicBlock, [5, 5, 5], num_classes=num_classes)


def resnet44():
    return ResNet_s(BasicBlock, [7, 7, 7])


def resnet56():
    return ResNet_s(BasicBlock, [9, 9, 9])


def test(net):
    total_params = 0

    for x in filter(lambda p: p.requires_grad, net.parameters()):
        total_params += np.prod(x.data.numpy().shape)
    print("Total number of params", total_params)
    print("Total layers", len(list(filter(lambda p: p.requires_grad and len(p.data.size()) > 1, net.parameters()))))


# ---------------------------------------------------------------- losses/focal_loss.py
def reweight(cls_num_list, beta=0.9999):
    per_cls_weights = None
    effective_num = 1.0 - np.power(beta, cls_num_list)
    per_cls_weights = (1.0 - beta) / np.array(effective_num)
    per_cls_weights = per_cls_weights / np.sum(per_cls_weights) * len(cls_num_list)
    per_cls_weights = torch.FloatTensor(per_cls_weights)
    return per_cls_weights


class FocalLoss(nn.Module):
    def __init__(self, weight=None, gamma=0.):
        super(FocalLoss, self).__init__()
        assert gamma >= 0
        self.gamma = gamma
        self.weight = weight

    def forward(self, input, target):
        loss = None
        cross_entropy = F.cross_entropy(input, target, reduction='none', weight=self.weight)
        p = torch.exp(-cross_entropy)
        loss = ((1 - p) ** self.gamma * cross_entropy).mean()
        return loss


# ---------------------------------------------------------------- data/dataset_cifar.py (synthetic stand-in)
MEAN = np.array((0.4914, 0.4822, 0.4465), dtype=np.float32)
STD = np.array((0.2023, 0.1994, 0.2010), dtype=np.float32)


def transform(img):
    """transforms.ToTensor() + transforms.Normalize(MEAN, STD) on an HxWx3 uint8 array."""
    x = torch.from_numpy(img.transpose(2, 0, 1).astype(np.float32) / 255.0)
    return (x - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)


class SyntheticCIFAR10(Dataset):
    """The part of torchvision.datasets.CIFAR10 the assignment uses: data (N, 32, 32, 3) uint8 and targets."""

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        per_class = 6 if train else 4
        rng = np.random.RandomState(1 if train else 2)
        templates = np.random.RandomState(3).randint(0, 256, size=(10, 32, 32, 3))
        self.targets = [i % 10 for i in range(10 * per_class)]
        noise = rng.randint(-60, 61, size=(10 * per_class, 32, 32, 3))
        self.data = np.clip(templates[self.targets] + noise, 0, 255).astype(np.uint8)
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        return img, target


class IMBALANCECIFAR10(SyntheticCIFAR10):
    cls_num = 10

    def __init__(self, root, imb_type='exp', imb_factor=0.34, rand_number=0, train=True,
                 transform=None, target_transform=None,
                 download=False):
        super(IMBALANCECIFAR10, self).__init__(root, train, transform, target_transform, download)
        np.random.seed(rand_number)
        img_num_list = self.get_img_num_per_cls(self.cls_num, imb_type, imb_factor)
        self.gen_imbalanced_data(img_num_list)

    def get_img_num_per_cls(self, cls_num, imb_type, imb_factor):
        img_max = len(self.data) / cls_num
        img_num_per_cls = []
        if imb_type == 'exp':
            for cls_idx in range(cls_num):
                num = img_max * (imb_factor ** (cls_idx / (cls_num - 1.0)))
                img_num_per_cls.append(int(num))
        elif imb_type == 'step':
            for cls_idx in range(cls_num // 2):
                img_num_per_cls.append(int(img_max))
            for cls_idx in range(cls_num // 2):
                img_num_per_cls.append(int(img_max * imb_factor))
        else:
            img_num_per_cls.extend([int(img_max)] * cls_num)
        return img_num_per_cls

    def gen_imbalanced_data(self, img_num_per_cls):
        new_data = []
        new_targets = []
        targets_np = np.array(self.targets, dtype=np.int64)
        classes = np.unique(targets_np)
        self.num_per_cls_dict = dict()
        for the_class, the_img_num in zip(classes, img_num_per_cls):
            self.num_per_cls_dict[the_class] = the_img_num
            idx = np.where(targets_np == the_class)[0]
            np.random.shuffle(idx)
            selec_idx = idx[:the_img_num]
            new_data.append(self.data[selec_idx, ...])
            new_targets.extend([the_class, ] * the_img_num)
        new_data = np.vstack(new_data)
        self.data = new_data
        self.targets = new_targets

    def get_cls_num_list(self):
        cls_num_list = []
        for i in range(self.cls_num):
            cls_num_list.append(self.num_per_cls_dict[i])
        return cls_num_list


# ---------------------------------------------------------------- main.py
class AverageMeter(object):
    """Computes and stores the average and current value"""
    def __init__(self):
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def accuracy(output, target):
    """Computes the precision@k for the specified values of k"""
    batch_size = target.shape[0]

    _, pred = torch.max(output, dim=-1)

    correct = pred.eq(target).sum() * 1.0

    acc = correct.item() / batch_size

    return acc


def train(epoch, data_loader, model, optimizer, criterion):
    losses = AverageMeter()
    acc = AverageMeter()

    for idx, (data, target) in enumerate(data_loader):
        optimizer.zero_grad()
        out = model.forward(data)
        loss = criterion(out, target)
        loss.backward()
        optimizer.step()

        batch_acc = accuracy(out, target)

        losses.update(loss, out.shape[0])
        acc.update(batch_acc, out.shape[0])

        if idx % 2 == 0:
            print(('Epoch: [{0}][{1}/{2}]\t'
                   'Loss {loss.val:.4f} ({loss.avg:.4f})\t'
                   'Prec @1 {top1.val:.4f} ({top1.avg:.4f})\t')
                  .format(epoch, idx, len(data_loader), loss=losses, top1=acc))


def validate(epoch, val_loader, model, criterion):
    losses = AverageMeter()
    acc = AverageMeter()

    num_class = 10
    cm = torch.zeros(num_class, num_class)
    # evaluation loop
    for idx, (data, target) in enumerate(val_loader):
        with torch.no_grad():
            out = model(data)
            loss = criterion(out, target).item()

        batch_acc = accuracy(out, target)

        # update confusion matrix
        _, preds = torch.max(out, 1)
        for t, p in zip(target.view(-1), preds.view(-1)):
            cm[t.long(), p.long()] += 1

        losses.update(loss, out.shape[0])
        acc.update(batch_acc, out.shape[0])

        if idx % 2 == 0:
            print(('Epoch: [{0}][{1}/{2}]\t'
                   'Loss {loss.val:.4f} ({loss.avg:.4f})\t')
                  .format(epoch, idx, len(val_loader), loss=losses, top1=acc))
    cm = cm / cm.sum(1)
    per_cls_acc = cm.diag().detach().numpy().tolist()
    for i, acc_i in enumerate(per_cls_acc):
        print("Accuracy of Class {}: {:.4f}".format(i, acc_i))

    print("* Prec @1: {top1.avg:.4f}".format(top1=acc))
    return acc.avg, cm


def adjust_learning_rate(optimizer, epoch, args):
    epoch += 1
    if epoch <= args.warmup:
        lr = args.learning_rate * epoch / args.warmup
    elif epoch > args.steps[1]:
        lr = args.learning_rate * 0.01
    elif epoch > args.steps[0]:
        lr = args.learning_rate * 0.1
    else:
        lr = args.learning_rate
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr


CONFIGS = {
    'config_twolayer': {'Train': {'batch_size': 16, 'learning_rate': 0.001, 'reg': 0.0005, 'epochs': 2,
                                  'steps': [1, 2], 'warmup': 0, 'momentum': 0.9},
                        'network': {'model': 'TwoLayerNet', 'save_best': False},
                        'data': {'imbalance': 'regular', 'reweight': False, 'beta': 0.9999},
                        'loss': {'loss_type': 'CE'}},
    'config_vanilla_cnn': {'Train': {'batch_size': 16, 'learning_rate': 0.001, 'reg': 0.0005, 'epochs': 2,
                                     'steps': [1, 2], 'warmup': 1, 'momentum': 0.9},
                           'network': {'model': 'VanillaCNN', 'save_best': False},
                           'data': {'imbalance': 'regular', 'reweight': False, 'beta': 0.9999},
                           'loss': {'loss_type': 'CE'}},
    'config_mymodel': {'Train': {'batch_size': 16, 'learning_rate': 0.0005, 'reg': 0.0005, 'epochs': 1,
                                 'steps': [6, 8], 'warmup': 0, 'momentum': 0.9},
                       'network': {'model': 'MyModel', 'save_best': False},
                       'data': {'imbalance': 'imbalance', 'reweight': True, 'beta': 0.9},
                       'loss': {'loss_type': 'Focal'}},
}


def main(config):
    args = argparse.Namespace()
    for key in config:
        for k, v in config[key].items():
            setattr(args, k, v)

    per_cls_weights = None
    if args.imbalance == "regular":
        train_dataset = SyntheticCIFAR10(root='./data', train=True, download=True, transform=transform)
    else:
        train_dataset = IMBALANCECIFAR10(root='../part1-convnet/data', transform=transform)
        cls_num_list = train_dataset.get_cls_num_list()
        print('cls_num_list', cls_num_list)
        if args.reweight:
            per_cls_weights = reweight(cls_num_list, beta=args.beta)
            print('per_cls_weights', per_cls_weights)
        else:
            per_cls_weights = None

    train_loader = DataLoader(train_dataset, batch_size=args.batch_size, shuffle=True)

    test_dataset = SyntheticCIFAR10(root='./data', train=False, download=True, transform=transform)
    test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=20, shuffle=False, num_workers=0)

    if args.model == 'TwoLayerNet':
        model = TwoLayerNet(3072, 256, 10)
    elif args.model == 'VanillaCNN':
        model = VanillaCNN()
    elif args.model == 'MyModel':
        model = MyModel()
        train_loader = DataLoader(torch.utils.data.Subset(train_dataset, list(range(32))),
                                  batch_size=args.batch_size, shuffle=True)
    print(model)

    if args.loss_type == "CE":
        criterion = nn.CrossEntropyLoss()
    else:
        criterion = FocalLoss(weight=per_cls_weights, gamma=1)

    optimizer = torch.optim.Adam(model.parameters(), args.learning_rate)

    best = 0.0
    best_cm = None
    best_model = None
    for epoch in range(args.epochs):
        adjust_learning_rate(optimizer, epoch, args)
        print('lr', optimizer.param_groups[0]['lr'])

        # train loop
        train(epoch, train_loader, model, optimizer, criterion)

        # validation loop
        acc, cm = validate(epoch, test_loader, model, criterion)

        if acc > best:
            best = acc
            best_cm = cm
            best_model = copy.deepcopy(model)

    print('Best Prec @1 Acccuracy: {:.4f}'.format(best))
    if best_cm is not None:
        per_cls_acc = best_cm.diag().detach().numpy().tolist()
        for i, acc_i in enumerate(per_cls_acc):
            print("Accuracy of Class {}: {:.4f}".format(i, acc_i))
        print(type(best_model).__name__, sorted(best_model.state_dict().keys())[:4])


for name, config in CONFIGS.items():
    print('=====', name)
    main(config)

# tests/test_twolayer.py-style sanity checks: shapes, focal loss against cross-entropy
x = torch.randn(4, 3, 32, 32)
print(TwoLayerNet(3072, 8, 10)(x).shape, VanillaCNN()(x).shape)
logits = torch.randn(6, 10, requires_grad=True)
labels = torch.tensor([0, 1, 2, 3, 9, 9])
w = reweight([50, 40, 30, 20, 10, 8, 6, 4, 2, 1], beta=0.99)
print('reweight', w)
for gamma in (0., 1., 2.):
    fl = FocalLoss(weight=w, gamma=gamma)(logits, labels)
    fl.backward()
    print('focal gamma', gamma, fl.item(), logits.grad[:, :3])
    logits.grad = None
print('CE equal', torch.allclose(FocalLoss(gamma=0.)(logits, labels), F.cross_entropy(logits, labels)))

# models/resnet.py: its __main__ parameter counts, then one training step of ResNet-32 with the CE loss
for net_name in __all__:
    if net_name.startswith('resnet') and net_name in ('resnet20', 'resnet32', 'resnet44', 'resnet56'):
        print(net_name)
        test(globals()[net_name]())
        print()

torch.manual_seed(0)
net = resnet32()
print(net.layer2[0].shortcut, net.layer2[0].conv1)
images = torch.randn(4, 3, 8, 8)
targets = torch.tensor([1, 0, 3, 1])
opt = torch.optim.Adam(net.parameters(), 0.0001)
out = net(images)
loss = nn.CrossEntropyLoss()(out, targets)
loss.backward()
print('resnet32 out', out.shape, loss.item())
print('grad norms', net.conv1.weight.grad.norm().item(), net.linear.weight.grad.norm().item(),
      net.layer3[0].bn1.weight.grad.norm().item())
opt.step()
print('bn running', net.bn1.running_mean[:4], net.bn1.num_batches_tracked)
net.eval()
print('eval out', net(images)[:, :4])

nl = NormedLinear(8, 3)
print('NormedLinear col norms', nl.weight.norm(dim=0))
feat = torch.randn(5, 8)
print('NormedLinear out', nl(feat))
