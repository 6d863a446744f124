# Source: Stanford CS231n (Spring 2025) assignment 3, "Self-Supervised Learning" (SimCLR): the contrastive
# loss (sim, simclr_loss_naive, sim_positive_pairs, compute_sim_matrix, simclr_loss_vectorized), the Model
# (a ResNet encoder without its first max-pool and its fc, and a projection head), and the training / linear
# evaluation / weighted-kNN test loops, as a student completed them:
#   https://github.com/tanyajing1/yjtan_cs231n  cs231n/simclr/contrastive_loss.py, model.py, utils.py
# and the augmented-pair dataset of the same assignment (compute_train_transform, CIFAR10Pair):
#   https://github.com/Pi-Xu/cs231n_assignment3  cs231n/simclr/data_utils.py
# Shrunk: 64 training and 32 test synthetic 3x8x8 images in 4 classes (noise around class templates) instead of
# CIFAR-10; torchvision is not available, so resnet50() is a small ResNet written here with the same children
# (conv1, bn1, relu, maxpool, layer1-4, avgpool, fc), 32 features instead of 2048 (projection 16 and 8 instead
# of 512 and 128), and compute_train_transform's RandomResizedCrop/flip/ColorJitter/grayscale on PIL images are
# a random flip and brightness jitter on tensors (its seeding, random.seed and torch.random.manual_seed, is
# kept). train() passes device to simclr_loss_vectorized (its default 'cuda' fails on a CPU); c=4 classes;
# k=64, the whole memory bank (200 of 50000): the tiny encoder's 64 features have cosine similarities within
# 1e-5 of one another around 0.99, so which ones a smaller k keeps would depend on float rounding; one epoch.
# The linear classifier (the notebook's, not in the repository's .py files) follows SimCLR's linear.py
# (https://github.com/leftthomas/SimCLR), which the assignment adapts.
# tqdm's bars go to stderr; their figures are printed from the returned values.
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm


# ---------------------------------------------------------------------------------------------- contrastive_loss.py
def sim(z_i, z_j):
    """Normalized dot product between two vectors."""
    norm_dot_product = None
    ##############################################################################
    norm_dot_product = z_i @ z_j.T / (torch.linalg.norm(z_i) * torch.linalg.norm(z_j))

    ##############################################################################
    return norm_dot_product


def simclr_loss_naive(out_left, out_right, tau):
    """Compute the contrastive loss L over a batch (naive loop version)."""
    N = out_left.shape[0]  # total number of training examples

     # Concatenate out_left and out_right into a 2*N x D tensor.
    out = torch.cat([out_left, out_right], dim=0)  # [2*N, D]

    total_loss = 0
    for k in range(N):  # loop through each positive pair (k, k+N)
        z_k, z_k_N = out[k], out[k+N]

        ##############################################################################
        def lij(z_i, z_j, i):
            lij_under = 0
            for tgt in range(2 * N):
                if tgt != i:
                    lij_under += torch.exp(sim(z_i, out[tgt]) / tau)
            lij_above = torch.exp(sim(z_i, z_j) / tau)
            result = -torch.log(lij_above / lij_under)
            return result

        lk_kN = lij(z_k, z_k_N, k)
        lkN_k = lij(z_k_N, z_k, k + N)
        total_loss += (lk_kN + lkN_k)
        ##############################################################################

    # In the end, we need to divide the total loss by 2N, the number of samples in the batch.
    total_loss = total_loss / (2*N)
    return total_loss


def sim_positive_pairs(out_left, out_right):
    """Normalized dot product between positive pairs."""
    pos_pairs = None

    ##############################################################################
    left = out_left / torch.linalg.norm(out_left, dim=1, keepdim=True)
    right = out_right / torch.linalg.norm(out_right, dim=1, keepdim=True)
    pos_pairs = (left * right).sum(dim=1, keepdim=True)  # (N, 1)

    ##############################################################################
    return pos_pairs


def compute_sim_matrix(out):
    """Compute a 2N x 2N matrix of normalized dot products between all pairs of augmented examples in a batch."""
    sim_matrix = None

    ##############################################################################
    out_norm = out / torch.linalg.norm(out, dim=1, keepdim=True)
    sim_matrix = out_norm @ out_norm.T

    ##############################################################################
    return sim_matrix


def simclr_loss_vectorized(out_left, out_right, tau, device='cuda'):
    """Compute the contrastive loss L over a batch (vectorized version). No loops are allowed."""
    N = out_left.shape[0]

    # Concatenate out_left and out_right into a 2*N x D tensor.
    out = torch.cat([out_left, out_right], dim=0)  # [2*N, D]

    # Compute similarity matrix between all pairs of augmented examples in the batch.
    sim_matrix = compute_sim_matrix(out)  # [2*N, 2*N]

    ##############################################################################
    # Step 1: Use sim_matrix to compute the denominator value for all augmented samples.
    exponential = torch.exp(sim_matrix / tau)

    # This binary mask zeros out terms where k=i.
    mask = (torch.ones_like(exponential, device=device) - torch.eye(2 * N, device=device)).to(device).bool()

    # We apply the binary mask.
    exponential = exponential.masked_select(mask).view(2 * N, -1)  # [2*N, 2*N-1]

    # Hint: Compute the denominator values for all augmented samples. This should be a 2N x 1 vector.
    denom = exponential.sum(dim=1)  # (2N,)

    # Step 2: Compute similarity between positive pairs.
    rows = torch.arange(2 * N, device=sim_matrix.device)
    # 0..N-1 对应 N..2N-1；N..2N-1 对应 0..N-1
    pos_cols = (rows + N) % (2 * N)
    pos_sim = sim_matrix[rows, pos_cols]

    # Step 3: Compute the numerator value for all augmented samples.
    numerator = torch.exp(pos_sim / tau)  # (2N,)

    # Step 4: Now that you have the numerator and denominator for all augmented samples, compute the total loss.
    loss = (-torch.log(numerator / denom)).mean()

    ##############################################################################
    return loss


def rel_error(x,y):
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


# ---------------------------------------------------------------------------------------------- data_utils.py
def compute_train_transform(seed=123456):
    """
    This function returns a composition of data augmentations to a single training image.
    """
    random.seed(seed)
    torch.random.manual_seed(seed)

    # stand-in for RandomResizedCrop(32), RandomHorizontalFlip(p=0.5), RandomApply([color_jitter], p=0.8),
    # RandomGrayscale(p=0.2), ToTensor(), Normalize(...) on a tensor image
    def train_transform(img):
        if torch.rand(1).item() < 0.5:
            img = img.flip(-1)
        if torch.rand(1).item() < 0.8:
            img = img * (1 + 0.4 * (2 * torch.rand(1) - 1))
        return img
    return train_transform


def compute_test_transform():
    return lambda img: img


class CIFAR10Pair(Dataset):
    """CIFAR10 Dataset (here: the synthetic images given to it)."""
    def __init__(self, data, targets, transform=None, target_transform=None):
        self.data, self.targets = data, targets
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], self.targets[index]

        x_i = None
        x_j = None

        if self.transform is not None:
            ##############################################################################
            x_i = self.transform(img)
            x_j = self.transform(img)
            ##############################################################################

        if self.target_transform is not None:
            target = self.target_transform(target)

        return x_i, x_j, target


# ---------------------------------------------------------------------------------------------- model.py
class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)) \
            if stride != 1 or c_in != c_out else nn.Sequential()

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """A small stand-in for torchvision's resnet50 with the same named children."""
    def __init__(self, widths=(8, 8, 16, 32), num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = BasicBlock(8, widths[0], 1)
        self.layer2 = BasicBlock(widths[0], widths[1], 2)
        self.layer3 = BasicBlock(widths[1], widths[2], 2)
        self.layer4 = BasicBlock(widths[2], widths[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3], num_classes)


def resnet50():
    return ResNet()


class Model(nn.Module):
    def __init__(self, feature_dim=8):
        super(Model, self).__init__()
        # 构建编码器backbone，基于ResNet50
        self.f = []
        for name, module in resnet50().named_children():
            if name == 'conv1':
                # 修改第一个卷积层：将7x7卷积改为3x3，stride从2改为1
                module = nn.Conv2d(3, 8, kernel_size=3, stride=1, padding=1, bias=False)
            if not isinstance(module, nn.Linear) and not isinstance(module, nn.MaxPool2d):
                self.f.append(module)
        # encoder
        self.f = nn.Sequential(*self.f)
        # projection head
        self.g = nn.Sequential(nn.Linear(32, 16, bias=False), nn.BatchNorm1d(16),
                               nn.ReLU(inplace=True), nn.Linear(16, feature_dim, bias=True))

    def forward(self, x):
        # 通过编码器提取特征
        x = self.f(x)
        # 展平特征图为向量
        feature = torch.flatten(x, start_dim=1)
        # 通过投影头得到对比学习特征
        out = self.g(feature)
        return F.normalize(feature, dim=-1), F.normalize(out, dim=-1)


# ---------------------------------------------------------------------------------------------- utils.py
def train(model, data_loader, train_optimizer, epoch, epochs, batch_size=32, temperature=0.5, device='cuda'):
    """Trains the model defined in ./model.py with one epoch."""
    model.train()
    total_loss, total_num, train_bar = 0.0, 0, tqdm(data_loader)
    for data_pair in train_bar:
        x_i, x_j, target = data_pair
        x_i, x_j = x_i.to(device), x_j.to(device)

        out_left, out_right, loss = None, None, None
        ##############################################################################
        feature_left, out_left = model(x_i)
        feature_right, out_right = model(x_j)
        loss = simclr_loss_vectorized(out_left, out_right, temperature, device)

        ##############################################################################

        train_optimizer.zero_grad()
        loss.backward()
        train_optimizer.step()

        total_num += batch_size
        total_loss += loss.item() * batch_size
        train_bar.set_description('Train Epoch: [{}/{}] Loss: {:.4f}'.format(epoch, epochs, total_loss / total_num))

    return total_loss / total_num


def train_val(model, data_loader, train_optimizer, epoch, epochs, device='cuda'):
    is_train = train_optimizer is not None
    model.train() if is_train else model.eval()
    loss_criterion = torch.nn.CrossEntropyLoss()

    total_loss, total_correct_1, total_correct_5, total_num, data_bar = 0.0, 0.0, 0.0, 0, tqdm(data_loader)
    with (torch.enable_grad() if is_train else torch.no_grad()):
        for data, target in data_bar:
            data, target = data.to(device), target.to(device)
            out = model(data)
            loss = loss_criterion(out, target)

            if is_train:
                train_optimizer.zero_grad()
                loss.backward()
                train_optimizer.step()

            total_num += data.size(0)
            total_loss += loss.item() * data.size(0)
            prediction = torch.argsort(out, dim=-1, descending=True)
            total_correct_1 += torch.sum((prediction[:, 0:1] == target.unsqueeze(dim=-1)).any(dim=-1).float()).item()
            total_correct_5 += torch.sum((prediction[:, 0:5] == target.unsqueeze(dim=-1)).any(dim=-1).float()).item()

            data_bar.set_description('{} Epoch: [{}/{}] Loss: {:.4f} ACC@1: {:.2f}% ACC@5: {:.2f}%'
                                     .format('Train' if is_train else 'Test', epoch, epochs, total_loss / total_num,
                                             total_correct_1 / total_num * 100, total_correct_5 / total_num * 100))

    return total_loss / total_num, total_correct_1 / total_num * 100, total_correct_5 / total_num * 100


def test(model, memory_data_loader, test_data_loader, epoch, epochs, c, temperature=0.5, k=200, device='cuda'):
    model.eval()
    total_top1, total_top5, total_num, feature_bank = 0.0, 0.0, 0, []
    with torch.no_grad():
        # generate feature bank
        for data, _, target in tqdm(memory_data_loader, desc='Feature extracting'):
            feature, out = model(data.to(device))
            feature_bank.append(feature)
        # [D, N]
        feature_bank = torch.cat(feature_bank, dim=0).t().contiguous()
        # [N]
        feature_labels = torch.tensor(memory_data_loader.dataset.targets, device=feature_bank.device)
        # loop test data to predict the label by weighted knn search
        test_bar = tqdm(test_data_loader)
        for data, _, target in test_bar:
            data, target = data.to(device), target.to(device)
            feature, out = model(data)

            total_num += data.size(0)
            # compute cos similarity between each feature vector and feature bank ---> [B, N]
            sim_matrix = torch.mm(feature, feature_bank)

            # [B, K]
            sim_weight, sim_indices = sim_matrix.topk(k=k, dim=-1)
            # [B, K]
            sim_labels = torch.gather(feature_labels.expand(data.size(0), -1), dim=-1, index=sim_indices)
            sim_weight = (sim_weight / temperature).exp()

            # counts for each class
            one_hot_label = torch.zeros(data.size(0) * k, c, device=device)
            # [B*K, C]
            one_hot_label = one_hot_label.scatter(dim=-1, index=sim_labels.view(-1, 1), value=1.0)
            # weighted score ---> [B, C]
            pred_scores = torch.sum(one_hot_label.view(data.size(0), -1, c) * sim_weight.unsqueeze(dim=-1), dim=1)

            pred_labels = pred_scores.argsort(dim=-1, descending=True)
            total_top1 += torch.sum((pred_labels[:, :1] == target.unsqueeze(dim=-1)).any(dim=-1).float()).item()
            total_top5 += torch.sum((pred_labels[:, :5] == target.unsqueeze(dim=-1)).any(dim=-1).float()).item()
            test_bar.set_description('Test Epoch: [{}/{}] Acc@1:{:.2f}% Acc@5:{:.2f}%'
                                     .format(epoch, epochs, total_top1 / total_num * 100, total_top5 / total_num * 100))

    return total_top1 / total_num * 100, total_top5 / total_num * 100


# ---------------------------------------------------------------------------------------------- the notebook's checks and runs
device = 'cpu'

# the loss functions on random projections: naive loop against vectorized
torch.manual_seed(231)
left, right = torch.randn(4, 8), torch.randn(4, 8)
tau = 0.5
print("sim:", sim(left[0], right[0]).item())
print("positive pairs:", sim_positive_pairs(left, right).view(-1))
naive = simclr_loss_naive(left, right, tau)
vectorized = simclr_loss_vectorized(left, right, tau, device)
print("naive %.6f vectorized %.6f rel error %.2e small: %s" % (naive.item(), vectorized.item(),
      rel_error(naive.numpy(), vectorized.numpy()), rel_error(naive.numpy(), vectorized.numpy()) < 1e-5))
sim_matrix = compute_sim_matrix(torch.cat([left, right], dim=0))
print("sim matrix diagonal:", torch.diagonal(sim_matrix), "rows", sim_matrix.shape)

# synthetic CIFAR-10: 4 classes of 3x8x8 images
templates = torch.randn(4, 3, 8, 8)
def make_images(n):
    targets = torch.randint(0, 4, (n,))
    return templates[targets] + 0.7 * torch.randn(n, 3, 8, 8), targets.tolist()

train_images, train_targets = make_images(64)
test_images, test_targets = make_images(32)

train_transform = compute_train_transform()
train_data = CIFAR10Pair(train_images, train_targets, transform=train_transform)
train_loader = DataLoader(train_data, batch_size=8, shuffle=True, num_workers=0, pin_memory=True, drop_last=True)
x_i, x_j, target = next(iter(train_loader))
print("pair batch:", x_i.shape, x_j.shape, target, (x_i - x_j).abs().sum().item() > 0)

feature_dim, temperature, batch_size, epochs = 8, 0.5, 8, 1
model = Model(feature_dim).to(device)
print(model.f)
optimizer = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
for epoch in range(1, epochs + 1):
    train_loss = train(model, train_loader, optimizer, epoch, epochs, batch_size=batch_size, temperature=temperature,
                       device=device)
    print('Train Epoch: [{}/{}] Loss: {:.4f}'.format(epoch, epochs, train_loss))

# weighted kNN on the learned features
memory_data = CIFAR10Pair(train_images, train_targets, transform=compute_test_transform())
memory_loader = DataLoader(memory_data, batch_size=16, shuffle=False, num_workers=0, pin_memory=True)
test_data = CIFAR10Pair(test_images, test_targets, transform=compute_test_transform())
test_loader = DataLoader(test_data, batch_size=16, shuffle=False, num_workers=0, pin_memory=True)
top1, top5 = test(model, memory_loader, test_loader, 1, epochs, c=4, temperature=temperature, k=64, device=device)
print('kNN Test Acc@1: {:.2f}% Acc@5: {:.2f}%'.format(top1, top5))


# linear evaluation on the frozen encoder
class Classifier(nn.Module):
    def __init__(self, num_class):
        super(Classifier, self).__init__()

        # encoder
        self.f = Model().f
        # classifier
        self.fc = nn.Linear(32, num_class, bias=True)

    def forward(self, x):
        x = self.f(x)
        feature = torch.flatten(x, start_dim=1)
        out = self.fc(feature)
        return out


classifier = Classifier(num_class=4).to(device)
missing = classifier.load_state_dict(model.state_dict(), strict=False)
print("missing keys:", missing.missing_keys, "unexpected:", len(missing.unexpected_keys))
for param in classifier.f.parameters():
    param.requires_grad = False
train_loader_cls = DataLoader(torch.utils.data.TensorDataset(train_images, torch.tensor(train_targets)), batch_size=16,
                              shuffle=True)
test_loader_cls = DataLoader(torch.utils.data.TensorDataset(test_images, torch.tensor(test_targets)), batch_size=16)
cls_optimizer = optim.Adam(classifier.fc.parameters(), lr=1e-2, weight_decay=1e-6)
for epoch in range(1, 3):
    train_loss, train_acc_1, train_acc_5 = train_val(classifier, train_loader_cls, cls_optimizer, epoch, 2, device=device)
    test_loss, test_acc_1, test_acc_5 = train_val(classifier, test_loader_cls, None, epoch, 2, device=device)
    print('Epoch %d train loss %.4f acc@1 %.2f%% | test loss %.4f acc@1 %.2f%% acc@5 %.2f%%'
          % (epoch, train_loss, train_acc_1, test_loss, test_acc_1, test_acc_5))
