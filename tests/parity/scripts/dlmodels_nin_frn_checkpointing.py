# Source: Sebastian Raschka, deeplearning-models (PyTorch notebooks), Network-in-Network on CIFAR-10
# with Filter Response Normalization (a module built with register_parameter, torch.rsqrt and the
# element-wise torch.max against a learned threshold tau), and the gradient-checkpointing NiN
# (checkpoint_sequential over the Sequential's _modules, input.requires_grad = True) trained with the
# collection's helper_train.train_classifier_simple_v1 / helper_evaluate / helper_data files.
#   https://github.com/rasbt/deeplearning-models  pytorch_ipynb/cnn/nin-cifar10_filter-response-norm.ipynb,
#   pytorch_ipynb/mechanics/gradient-checkpointing-nin.ipynb, pytorch_ipynb/helper_train.py,
#   pytorch_ipynb/helper_evaluate.py, pytorch_ipynb/helper_data.py (get_dataloaders_cifar10)
# Shrunk: no torchvision: datasets.CIFAR10 is a stand-in TensorDataset of 48 training and 16 test
# synthetic 32x32 RGB images in [0, 1] (noise around ten class templates); the 49000/1000 split is
# 32/16 of those 48 and get_dataloaders_cifar10's 50000 is 48 (validation_fraction 0.25 instead of
# 0.1); batch size 16; the NiN widths 192/160/96 are 8/6/4; 1 epoch instead of 100 (2 as in the
# checkpointing notebook's calls); logging every 2 batches. The "Time elapsed"/"Total Training Time"
# lines and the tracemalloc memory numbers are left out (timings, memory); DEVICE is the CPU;
# num_workers=0. The helper files are inlined. Added: a few prints of the FRN parameters and log_dict.
import os
import random

import numpy as np

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.data import Subset
from torch.utils.data import SubsetRandomSampler
from torch.utils.data import TensorDataset

W1, W2, W3 = 8, 6, 4  # 192, 160, 96 in the notebooks


class datasets:  # stand-in for torchvision.datasets
    @staticmethod
    def CIFAR10(root, train=True, transform=None, download=False):
        g = torch.Generator().manual_seed(0)
        templates = torch.rand(10, 3, 32, 32, generator=g)
        g.manual_seed(1 if train else 2)
        n = 48 if train else 16
        labels = torch.randint(0, 10, (n,), generator=g)
        images = (0.6 * templates[labels] + 0.4 * torch.rand(n, 3, 32, 32, generator=g))
        return TensorDataset(images, labels)


class transforms:  # stand-in for torchvision.transforms (the stand-in images are already tensors)
    @staticmethod
    def ToTensor():
        return None


##########################################################################
# nin-cifar10_filter-response-norm.ipynb
##########################################################################

class FilterResponseNormalization(nn.Module):
    def __init__(self, num_features, eps=1e-6):
        super(FilterResponseNormalization, self).__init__()

        self.register_parameter('beta',
                                torch.nn.Parameter(
                                        torch.empty([1, num_features, 1, 1]).normal_()))

        self.register_parameter('gamma',
                                torch.nn.Parameter(
                                        torch.empty([1, num_features, 1, 1]).normal_()))

        self.register_parameter('tau',
                                torch.nn.Parameter(
                                        torch.empty([1, num_features, 1, 1]).normal_()))

        self.eps = torch.Tensor([eps])

    def forward(self, x):
        # forward function based on
        # https://github.com/gupta-abhay/pytorch-frn/blob/master/frn.py
        n, c, h, w = x.size()

        self.eps = self.eps.to(self.tau.device)

        nu2 = torch.mean(x.pow(2), (2, 3), keepdims=True)
        x = x * torch.rsqrt(nu2 + torch.abs(self.eps))
        return torch.max(self.gamma*x + self.beta, self.tau)


##########################
### SETTINGS
##########################

# Hyperparameters
RANDOM_SEED = 1
LEARNING_RATE = 0.00005
BATCH_SIZE = 16
NUM_EPOCHS = 1

# Architecture
NUM_CLASSES = 10

# Other
DEVICE = "cpu"
GRAYSCALE = False

##########################
### CIFAR-10 Dataset
##########################


# Note transforms.ToTensor() scales input images
# to 0-1 range


train_indices = torch.arange(0, 32)
valid_indices = torch.arange(32, 48)


train_and_valid = datasets.CIFAR10(root='data',
                                   train=True,
                                   transform=transforms.ToTensor(),
                                   download=True)

train_dataset = Subset(train_and_valid, train_indices)
valid_dataset = Subset(train_and_valid, valid_indices)


test_dataset = datasets.CIFAR10(root='data',
                                train=False,
                                transform=transforms.ToTensor())


#####################################################
### Data Loaders
#####################################################

train_loader = DataLoader(dataset=train_dataset,
                          batch_size=BATCH_SIZE,
                          num_workers=0,
                          shuffle=True)

valid_loader = DataLoader(dataset=valid_dataset,
                          batch_size=BATCH_SIZE,
                          num_workers=0,
                          shuffle=False)

test_loader = DataLoader(dataset=test_dataset,
                         batch_size=BATCH_SIZE,
                         num_workers=0,
                         shuffle=False)

#####################################################

# Checking the dataset
for images, labels in train_loader:
    print('Image batch dimensions:', images.shape)
    print('Image label dimensions:', labels.shape)
    break

for images, labels in test_loader:
    print('Image batch dimensions:', images.shape)
    print('Image label dimensions:', labels.shape)
    break

for images, labels in valid_loader:
    print('Image batch dimensions:', images.shape)
    print('Image label dimensions:', labels.shape)
    break


##########################
### MODEL
##########################


class NiN(nn.Module):
    def __init__(self, num_classes):
        super(NiN, self).__init__()
        self.num_classes = num_classes
        self.classifier = nn.Sequential(
                nn.Conv2d(3, W1, kernel_size=5, stride=1, padding=2, bias=False),
                FilterResponseNormalization(W1),
                #nn.ReLU(inplace=True),
                nn.Conv2d(W1, W2, kernel_size=1, stride=1, padding=0, bias=False),
                FilterResponseNormalization(W2),
                #nn.ReLU(inplace=True),
                nn.Conv2d(W2,  W3, kernel_size=1, stride=1, padding=0, bias=False),
                FilterResponseNormalization(W3),
                #nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
                nn.Dropout(0.5),

                nn.Conv2d(W3, W1, kernel_size=5, stride=1, padding=2, bias=False),
                FilterResponseNormalization(W1),
                #nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0, bias=False),
                FilterResponseNormalization(W1),
                #nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0, bias=False),
                FilterResponseNormalization(W1),
                #nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=3, stride=2, padding=1),
                nn.Dropout(0.5),

                nn.Conv2d(W1, W1, kernel_size=3, stride=1, padding=1, bias=False),
                FilterResponseNormalization(W1),
                #nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0, bias=False),
                FilterResponseNormalization(W1),
                #nn.ReLU(inplace=True),
                nn.Conv2d(W1,  10, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=8, stride=1, padding=0),

                )

    def forward(self, x):
        x = self.classifier(x)
        logits = x.view(x.size(0), self.num_classes)
        probas = torch.softmax(logits, dim=1)
        return logits, probas


torch.manual_seed(RANDOM_SEED)

model = NiN(NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

# added: the FRN layer's registered parameters
frn = model.classifier[1]
print([name for name, _ in frn.named_parameters()], frn.tau.shape, frn.eps)
print(sum(p.numel() for p in model.parameters()))


def compute_accuracy(model, data_loader, device):
    correct_pred, num_examples = 0, 0
    for i, (features, targets) in enumerate(data_loader):

        features = features.to(device)
        targets = targets.to(device)

        logits, probas = model(features)
        _, predicted_labels = torch.max(probas, 1)
        num_examples += targets.size(0)
        correct_pred += (predicted_labels == targets).sum()
    return correct_pred.float()/num_examples * 100


for epoch in range(NUM_EPOCHS):

    model.train()

    for batch_idx, (features, targets) in enumerate(train_loader):

        ### PREPARE MINIBATCH
        features = features.to(DEVICE)
        targets = targets.to(DEVICE)

        ### FORWARD AND BACK PROP
        logits, probas = model(features)
        cost = F.cross_entropy(logits, targets)
        optimizer.zero_grad()

        cost.backward()

        ### UPDATE MODEL PARAMETERS
        optimizer.step()

        ### LOGGING
        if not batch_idx % 2:
            print (f'Epoch: {epoch+1:03d}/{NUM_EPOCHS:03d} | '
                   f'Batch {batch_idx:03d}/{len(train_loader):03d} |'
                   f' Cost: {cost:.4f}')

    # no need to build the computation graph for backprop when computing accuracy
    with torch.set_grad_enabled(False):
        train_acc = compute_accuracy(model, train_loader, device=DEVICE)
        valid_acc = compute_accuracy(model, valid_loader, device=DEVICE)
        print(f'Epoch: {epoch+1:03d}/{NUM_EPOCHS:03d} Train Acc.: {train_acc:.2f}%'
              f' | Validation Acc.: {valid_acc:.2f}%')

# added: the learned FRN parameters and eps after training
print(frn.gamma.view(-1)[:4], frn.tau.view(-1)[:4], frn.eps.dtype)


##########################################################################
# gradient-checkpointing-nin.ipynb (with helper_evaluate.py, helper_train.py, helper_data.py)
##########################################################################

def set_all_seeds(seed):
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


# helper_evaluate.py
def compute_accuracy(model, data_loader, device):
    model.eval()
    with torch.no_grad():
        correct_pred, num_examples = 0, 0
        for i, (features, targets) in enumerate(data_loader):

            features = features.to(device)
            targets = targets.to(device)

            logits = model(features)
            if isinstance(logits, torch.distributed.rpc.api.RRef):
                logits = logits.local_value()
            _, predicted_labels = torch.max(logits, 1)
            num_examples += targets.size(0)
            correct_pred += (predicted_labels == targets).sum()
    return correct_pred.float()/num_examples * 100


def compute_epoch_loss(model, data_loader, device):
    model.eval()
    curr_loss, num_examples = 0., 0
    with torch.no_grad():
        for features, targets in data_loader:
            features = features.to(device)
            targets = targets.to(device)
            logits = model(features)
            if isinstance(logits, torch.distributed.rpc.api.RRef):
                logits = logits.local_value()
            loss = F.cross_entropy(logits, targets, reduction='sum')
            num_examples += targets.size(0)
            curr_loss += loss

        curr_loss = curr_loss / num_examples
        return curr_loss


# helper_train.py
def train_classifier_simple_v1(num_epochs, model, optimizer, device,
                               train_loader, valid_loader=None,
                               loss_fn=None, logging_interval=100,
                               skip_epoch_stats=False):

    log_dict = {'train_loss_per_batch': [],
                'train_acc_per_epoch': [],
                'train_loss_per_epoch': [],
                'valid_acc_per_epoch': [],
                'valid_loss_per_epoch': []}

    if loss_fn is None:
        loss_fn = F.cross_entropy

    for epoch in range(num_epochs):

        model.train()
        for batch_idx, (features, targets) in enumerate(train_loader):

            features = features.to(device)
            targets = targets.to(device)

            # FORWARD AND BACK PROP
            logits = model(features)
            if isinstance(logits, torch.distributed.rpc.api.RRef):
                logits = logits.local_value()
            loss = loss_fn(logits, targets)
            optimizer.zero_grad()

            loss.backward()

            # UPDATE MODEL PARAMETERS
            optimizer.step()

            # LOGGING
            log_dict['train_loss_per_batch'].append(loss.item())

            if not batch_idx % logging_interval:
                print('Epoch: %03d/%03d | Batch %04d/%04d | Loss: %.4f'
                      % (epoch+1, num_epochs, batch_idx,
                          len(train_loader), loss))

        if not skip_epoch_stats:
            model.eval()

            with torch.set_grad_enabled(False):  # save memory during inference

                train_acc = compute_accuracy(model, train_loader, device)
                train_loss = compute_epoch_loss(model, train_loader, device)
                print('***Epoch: %03d/%03d | Train. Acc.: %.3f%% | Loss: %.3f' % (
                      epoch+1, num_epochs, train_acc, train_loss))
                log_dict['train_loss_per_epoch'].append(train_loss.item())
                log_dict['train_acc_per_epoch'].append(train_acc.item())

                if valid_loader is not None:
                    valid_acc = compute_accuracy(model, valid_loader, device)
                    valid_loss = compute_epoch_loss(model, valid_loader, device)
                    print('***Epoch: %03d/%03d | Valid. Acc.: %.3f%% | Loss: %.3f' % (
                          epoch+1, num_epochs, valid_acc, valid_loss))
                    log_dict['valid_loss_per_epoch'].append(valid_loss.item())
                    log_dict['valid_acc_per_epoch'].append(valid_acc.item())

    return log_dict


# helper_data.py
def get_dataloaders_cifar10(batch_size, num_workers=0,
                            validation_fraction=None,
                            train_transforms=None,
                            test_transforms=None):

    if train_transforms is None:
        train_transforms = transforms.ToTensor()

    if test_transforms is None:
        test_transforms = transforms.ToTensor()

    train_dataset = datasets.CIFAR10(root='data',
                                     train=True,
                                     transform=train_transforms,
                                     download=True)

    valid_dataset = datasets.CIFAR10(root='data',
                                     train=True,
                                     transform=test_transforms)

    test_dataset = datasets.CIFAR10(root='data',
                                    train=False,
                                    transform=test_transforms)

    if validation_fraction is not None:
        num = int(validation_fraction * 48)
        train_indices = torch.arange(0, 48 - num)
        valid_indices = torch.arange(48 - num, 48)

        train_sampler = SubsetRandomSampler(train_indices)
        valid_sampler = SubsetRandomSampler(valid_indices)

        valid_loader = DataLoader(dataset=valid_dataset,
                                  batch_size=batch_size,
                                  num_workers=num_workers,
                                  sampler=valid_sampler)

        train_loader = DataLoader(dataset=train_dataset,
                                  batch_size=batch_size,
                                  num_workers=num_workers,
                                  drop_last=True,
                                  sampler=train_sampler)

    else:
        train_loader = DataLoader(dataset=train_dataset,
                                  batch_size=batch_size,
                                  num_workers=num_workers,
                                  drop_last=True,
                                  shuffle=True)

    test_loader = DataLoader(dataset=test_dataset,
                             batch_size=batch_size,
                             num_workers=num_workers,
                             shuffle=False)

    if validation_fraction is None:
        return train_loader, test_loader
    else:
        return train_loader, valid_loader, test_loader


##########################
### SETTINGS
##########################

# Device
CUDA_DEVICE_NUM = 2 # change as appropriate
DEVICE = torch.device('cuda:%d' % CUDA_DEVICE_NUM if torch.cuda.is_available() else 'cpu')
print('Device:', DEVICE)

# Hyperparameters
RANDOM_SEED = 1
LEARNING_RATE = 0.0001
BATCH_SIZE = 16
NUM_EPOCHS = 40

# Architecture
NUM_CLASSES = 10

set_all_seeds(RANDOM_SEED)

### Set random seed ###
set_all_seeds(RANDOM_SEED)

##########################
### Dataset
##########################

train_loader, valid_loader, test_loader = get_dataloaders_cifar10(
    batch_size=BATCH_SIZE,
    num_workers=0,
    validation_fraction=0.25)

# Checking the dataset
print('Training Set:\n')
for images, labels in train_loader:
    print('Image batch dimensions:', images.size())
    print('Image label dimensions:', labels.size())
    print(labels[:10])
    break

# Checking the dataset
print('\nValidation Set:')
for images, labels in valid_loader:
    print('Image batch dimensions:', images.size())
    print('Image label dimensions:', labels.size())
    print(labels[:10])
    break

# Checking the dataset
print('\nTesting Set:')
for images, labels in train_loader:
    print('Image batch dimensions:', images.size())
    print('Image label dimensions:', labels.size())
    print(labels[:10])
    break


##########################
### MODEL
##########################

class NiN(nn.Module):
    def __init__(self, num_classes):
        super(NiN, self).__init__()
        self.num_classes = num_classes
        self.classifier = nn.Sequential(
                nn.Conv2d(3, W1, kernel_size=5, stride=1, padding=2),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W2, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.Conv2d(W2,  W3, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
                nn.Dropout(0.5),

                nn.Conv2d(W3, W1, kernel_size=5, stride=1, padding=2),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=3, stride=2, padding=1),
                nn.Dropout(0.5),

                nn.Conv2d(W1, W1, kernel_size=3, stride=1, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1,  10, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=8, stride=1, padding=0),

                )

    def forward(self, x):
        x = self.classifier(x)
        logits = x.view(x.size(0), self.num_classes)
        #probas = torch.softmax(logits, dim=1)
        return logits


set_all_seeds(RANDOM_SEED)

model = NiN(NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

log_dict = train_classifier_simple_v1(num_epochs=2, model=model,
                                      optimizer=optimizer, device=DEVICE,
                                      train_loader=train_loader, valid_loader=valid_loader,
                                      logging_interval=2)

### Delete model and free memory

model.cpu()
del model


##########################
### MODEL
##########################


###### NEW ####################################################
from torch.utils.checkpoint import checkpoint_sequential
###############################################################


class NiN(nn.Module):
    def __init__(self, num_classes):
        super(NiN, self).__init__()
        self.num_classes = num_classes
        self.classifier = nn.Sequential(
                nn.Conv2d(3, W1, kernel_size=5, stride=1, padding=2),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W2, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.Conv2d(W2,  W3, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
                nn.Dropout(0.5),

                nn.Conv2d(W3, W1, kernel_size=5, stride=1, padding=2),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=3, stride=2, padding=1),
                nn.Dropout(0.5),

                nn.Conv2d(W1, W1, kernel_size=3, stride=1, padding=1),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1, W1, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.Conv2d(W1,  10, kernel_size=1, stride=1, padding=0),
                nn.ReLU(inplace=True),
                nn.AvgPool2d(kernel_size=8, stride=1, padding=0),
                )

        ###### NEW ####################################################
        self.classifier_modules = [module for k, module in self.classifier._modules.items()]
        ###############################################################

    def forward(self, x):

        ###### NEW ####################################################
        x.requires_grad = True
        x = checkpoint_sequential(functions=self.classifier_modules,
                                  segments=1,
                                  input=x)
        ###############################################################

        x = x.view(x.size(0), self.num_classes)
        #probas = torch.softmax(x, dim=1)
        return x


set_all_seeds(RANDOM_SEED)

model = NiN(NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

log_dict = train_classifier_simple_v1(num_epochs=2, model=model,
                                      optimizer=optimizer, device=DEVICE,
                                      train_loader=train_loader, valid_loader=valid_loader,
                                      logging_interval=2)
# added: what the notebook plots from log_dict
print(['%.4f' % l for l in log_dict['train_loss_per_batch']])
print(log_dict['train_acc_per_epoch'], ['%.4f' % l for l in log_dict['valid_loss_per_epoch']])
