# Source: Kuang Liu, "Train CIFAR10 with PyTorch" (kuangliu/pytorch-cifar):
#   https://github.com/kuangliu/pytorch-cifar  main.py, with models/shufflenetv2.py (ShuffleNetV2: channel
#   shuffle by view/permute/reshape, SplitBlock slicing, depthwise groups=C convolutions, torch.cat), kept
#   verbatim in pytorch_cifar/models/.
# Shrunk: 16 train + 8 test random 3x32x32 "images" of two classes (noise around random class templates, normalized
# with main.py's mean/std) in TensorDatasets instead of torchvision's CIFAR10 (RandomCrop/RandomHorizontalFlip left out);
# ShuffleNetV2 at a reduced width (a config 0.25 added to the module's configs: out_channels (16, 32, 64, 128),
# one block per stage); batch size 8 instead of 128/100; 2 epochs instead of 200; utils.progress_bar replaced
# by a print of its message; the checkpoint folder is a temporary folder; the resume (`python main.py --resume`)
# is run after the training, into a fresh net. device is forced to 'cpu' (no cudnn/DataParallel);
# the checkpoint path is os.path.join(checkpoint_dir, ...) instead of './checkpoint/...'. The learning rate is printed.
import torch
import torch.nn as nn
import torch.optim as optim
import torch.nn.functional as F
import torch.backends.cudnn as cudnn
from torch.utils.data import TensorDataset

import os
import argparse
import tempfile

from pytorch_cifar.models import *
from pytorch_cifar.models import shufflenetv2


parser = argparse.ArgumentParser(description='PyTorch CIFAR10 Training')
parser.add_argument('--lr', default=0.1, type=float, help='learning rate')
parser.add_argument('--resume', '-r', action='store_true',
                    help='resume from checkpoint')
args = parser.parse_args()

device = 'cuda' if torch.cuda.is_available() else 'cpu'
device = 'cpu'
best_acc = 0  # best test accuracy
start_epoch = 0  # start from epoch 0 or last checkpoint epoch
checkpoint_dir = os.path.join(tempfile.mkdtemp(), 'checkpoint')  # ./checkpoint, in a temporary folder

# Data
print('==> Preparing data..')
mean = torch.tensor((0.4914, 0.4822, 0.4465)).view(3, 1, 1)
std = torch.tensor((0.2023, 0.1994, 0.2010)).view(3, 1, 1)
templates = torch.rand(10, 3, 32, 32)  # noise around ten class templates stands in for CIFAR10
train_labels, test_labels = torch.randint(0, 2, (16,)), torch.randint(0, 2, (8,))  # planes and cars
trainset = TensorDataset((templates[train_labels] + 0.2 * torch.rand(16, 3, 32, 32) - mean) / std, train_labels)
trainloader = torch.utils.data.DataLoader(
    trainset, batch_size=8, shuffle=True, num_workers=0)

testset = TensorDataset((templates[test_labels] + 0.2 * torch.rand(8, 3, 32, 32) - mean) / std, test_labels)
testloader = torch.utils.data.DataLoader(
    testset, batch_size=8, shuffle=False, num_workers=0)

classes = ('plane', 'car', 'bird', 'cat', 'deer',
           'dog', 'frog', 'horse', 'ship', 'truck')

# Model
print('==> Building model..')
shufflenetv2.configs[0.25] = {'out_channels': (16, 32, 64, 128), 'num_blocks': (1, 1, 1)}
net = ShuffleNetV2(0.25)
net = net.to(device)
if device == 'cuda':
    net = torch.nn.DataParallel(net)
    cudnn.benchmark = True

shuffled = ShuffleBlock(groups=2)(torch.arange(8.).view(1, 8, 1, 1))
print('shuffle:', shuffled.flatten().tolist())
x1, x2 = SplitBlock(0.5)(torch.arange(6.).view(1, 6, 1, 1))
print('split:', x1.shape, x2.shape)
print('params:', sum(p.numel() for p in net.parameters()))

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=args.lr,
                      momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=200)


def progress_bar(current, total, msg):
    print('[%d/%d] %s' % (current + 1, total, msg))


# Training
def train(epoch):
    print('\nEpoch: %d' % epoch)
    net.train()
    train_loss = 0
    correct = 0
    total = 0
    for batch_idx, (inputs, targets) in enumerate(trainloader):
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()

        train_loss += loss.item()
        _, predicted = outputs.max(1)
        total += targets.size(0)
        correct += predicted.eq(targets).sum().item()

        progress_bar(batch_idx, len(trainloader), 'Loss: %.3f | Acc: %.3f%% (%d/%d)'
                     % (train_loss/(batch_idx+1), 100.*correct/total, correct, total))


def test(epoch):
    global best_acc
    net.eval()
    test_loss = 0
    correct = 0
    total = 0
    with torch.no_grad():
        for batch_idx, (inputs, targets) in enumerate(testloader):
            inputs, targets = inputs.to(device), targets.to(device)
            outputs = net(inputs)
            loss = criterion(outputs, targets)

            test_loss += loss.item()
            _, predicted = outputs.max(1)
            total += targets.size(0)
            correct += predicted.eq(targets).sum().item()

            progress_bar(batch_idx, len(testloader), 'Loss: %.3f | Acc: %.3f%% (%d/%d)'
                         % (test_loss/(batch_idx+1), 100.*correct/total, correct, total))

    # Save checkpoint.
    acc = 100.*correct/total
    if acc > best_acc:
        print('Saving..')
        state = {
            'net': net.state_dict(),
            'acc': acc,
            'epoch': epoch,
        }
        if not os.path.isdir(checkpoint_dir):
            os.mkdir(checkpoint_dir)
        torch.save(state, os.path.join(checkpoint_dir, 'ckpt.pth'))
        best_acc = acc


for epoch in range(start_epoch, start_epoch+2):
    train(epoch)
    test(epoch)
    scheduler.step()
    print('lr: %.6f' % scheduler.get_last_lr()[0])

# python main.py --resume
args = parser.parse_args(['--resume'])
net = ShuffleNetV2(0.25)
net = net.to(device)
if args.resume:
    # Load checkpoint.
    print('==> Resuming from checkpoint..')
    assert os.path.isdir(checkpoint_dir), 'Error: no checkpoint directory found!'
    checkpoint = torch.load(os.path.join(checkpoint_dir, 'ckpt.pth'))
    net.load_state_dict(checkpoint['net'])
    best_acc = checkpoint['acc']
    start_epoch = checkpoint['epoch']
print('best_acc: %.3f start_epoch: %d' % (best_acc, start_epoch))
print('bn2 running_mean:', net.bn2.running_mean[:4])
test(start_epoch)
