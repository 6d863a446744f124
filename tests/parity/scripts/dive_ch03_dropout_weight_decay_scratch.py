# Source: ShusenTang, "Dive-into-DL-PyTorch" (the PyTorch port of 《动手学深度学习》), chapter 3
#   "深度学习基础": 3.13 丢弃法 (dropout from scratch with a (torch.rand(X.shape) < keep_prob).float()
#   mask, an MLP from np.random.normal tensors whose net(X, is_training=True) d2l.evaluate_accuracy
#   detects through net.__code__.co_varnames, d2l.train_ch3 with param.grad.data.zero_() and the
#   param.data SGD; then nn.Dropout in nn.Sequential with nn.init.normal_ on every parameter) and
#   3.12 权重衰减 (L2 penalty from scratch; nn.Linear with two torch.optim.SGD instances, weight_decay
#   on the weight only).
#   https://github.com/ShusenTang/Dive-into-DL-PyTorch  code/chapter03_DL-basics/3.13_dropout.ipynb,
#   code/chapter03_DL-basics/3.12_weight-decay.ipynb (helpers linreg, squared_loss, sgd, train_ch3,
#   evaluate_accuracy, FlattenLayer in d2lzh_pytorch/, from code/d2lzh_pytorch/utils.py)
# Shrunk: d2l.load_data_fashion_mnist (torchvision) replaced by 128 training and 64 test images of
# torch.rand(1, 28, 28) whose brightness is shifted by their torch.randint label, in
# TensorDataset/DataLoader, batch 256 -> 32; hidden layers 256 -> 64; 5 epochs -> 3; 3.12's 100
# epochs -> 5. d2l.semilogy (matplotlib) left out: the last train/test losses are printed instead.
import torch
import torch.nn as nn
import numpy as np
import sys
# sys.path.append("..")  (the book's d2lzh_pytorch is in the parent folder; here it is beside the scripts)
import d2lzh_pytorch as d2l


def load_data_fashion_mnist(batch_size):
    y, y_test = torch.randint(0, 10, (128,)), torch.randint(0, 10, (64,))
    mnist_train = torch.utils.data.TensorDataset(torch.rand(128, 1, 28, 28) * 0.5 + y.view(-1, 1, 1, 1) / 20, y)
    mnist_test = torch.utils.data.TensorDataset(torch.rand(64, 1, 28, 28) * 0.5 + y_test.view(-1, 1, 1, 1) / 20, y_test)
    train_iter = torch.utils.data.DataLoader(mnist_train, batch_size=batch_size, shuffle=True, num_workers=0)
    test_iter = torch.utils.data.DataLoader(mnist_test, batch_size=batch_size, shuffle=False, num_workers=0)
    return train_iter, test_iter


# ---- 3.13 丢弃法 ----
def dropout(X, drop_prob):
    X = X.float()
    assert 0 <= drop_prob <= 1
    keep_prob = 1 - drop_prob
    # 这种情况下把全部元素都丢弃
    if keep_prob == 0:
        return torch.zeros_like(X)
    mask = (torch.rand(X.shape) < keep_prob).float()

    return mask * X / keep_prob

X = torch.arange(16).view(2, 8)
print(dropout(X, 0))
print(dropout(X, 0.5))
print(dropout(X, 1.0))

num_inputs, num_outputs, num_hiddens1, num_hiddens2 = 784, 10, 64, 64

W1 = torch.tensor(np.random.normal(0, 0.01, size=(num_inputs, num_hiddens1)), dtype=torch.float, requires_grad=True)
b1 = torch.zeros(num_hiddens1, requires_grad=True)
W2 = torch.tensor(np.random.normal(0, 0.01, size=(num_hiddens1, num_hiddens2)), dtype=torch.float, requires_grad=True)
b2 = torch.zeros(num_hiddens2, requires_grad=True)
W3 = torch.tensor(np.random.normal(0, 0.01, size=(num_hiddens2, num_outputs)), dtype=torch.float, requires_grad=True)
b3 = torch.zeros(num_outputs, requires_grad=True)

params = [W1, b1, W2, b2, W3, b3]
drop_prob1, drop_prob2 = 0.2, 0.5

def net(X, is_training=True):
    X = X.view(-1, num_inputs)
    H1 = (torch.matmul(X, W1) + b1).relu()
    if is_training:  # 只在训练模型时使用丢弃法
        H1 = dropout(H1, drop_prob1)  # 在第一层全连接后添加丢弃层
    H2 = (torch.matmul(H1, W2) + b2).relu()
    if is_training:
        H2 = dropout(H2, drop_prob2)  # 在第二层全连接后添加丢弃层
    return torch.matmul(H2, W3) + b3

num_epochs, lr, batch_size = 3, 100.0, 32 # 这里的学习率设置的很大，原因同3.9.6节。
loss = torch.nn.CrossEntropyLoss()
train_iter, test_iter = load_data_fashion_mnist(batch_size)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size, params, lr)

net = nn.Sequential(
        d2l.FlattenLayer(),
        nn.Linear(num_inputs, num_hiddens1),
        nn.ReLU(),
        nn.Dropout(drop_prob1),
        nn.Linear(num_hiddens1, num_hiddens2),
        nn.ReLU(),
        nn.Dropout(drop_prob2),
        nn.Linear(num_hiddens2, 10)
        )

for param in net.parameters():
    nn.init.normal_(param, mean=0, std=0.01)
optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
d2l.train_ch3(net, train_iter, test_iter, loss, num_epochs, batch_size, None, None, optimizer)


# ---- 3.12 权重衰减 ----
n_train, n_test, num_inputs = 20, 100, 200
true_w, true_b = torch.ones(num_inputs, 1) * 0.01, 0.05

features = torch.randn((n_train + n_test, num_inputs))
labels = torch.matmul(features, true_w) + true_b
labels += torch.tensor(np.random.normal(0, 0.01, size=labels.size()), dtype=torch.float)
train_features, test_features = features[:n_train, :], features[n_train:, :]
train_labels, test_labels = labels[:n_train], labels[n_train:]

def init_params():
    w = torch.randn((num_inputs, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    return [w, b]

def l2_penalty(w):
    return (w**2).sum() / 2

batch_size, num_epochs, lr = 1, 5, 0.003
net, loss = d2l.linreg, d2l.squared_loss

dataset = torch.utils.data.TensorDataset(train_features, train_labels)
train_iter = torch.utils.data.DataLoader(dataset, batch_size, shuffle=True)

def fit_and_plot(lambd):
    w, b = init_params()
    train_ls, test_ls = [], []
    for _ in range(num_epochs):
        for X, y in train_iter:
            # 添加了L2范数惩罚项
            l = loss(net(X, w, b), y) + lambd * l2_penalty(w)
            l = l.sum()

            if w.grad is not None:
                w.grad.data.zero_()
                b.grad.data.zero_()
            l.backward()
            d2l.sgd([w, b], lr, batch_size)
        train_ls.append(loss(net(train_features, w, b), train_labels).mean().item())
        test_ls.append(loss(net(test_features, w, b), test_labels).mean().item())
    print('train loss %.4f, test loss %.4f' % (train_ls[-1], test_ls[-1]))  # semilogy in the book
    print('L2 norm of w:', w.norm().item())

fit_and_plot(lambd=0)
fit_and_plot(lambd=3)

def fit_and_plot_pytorch(wd):
    # 对权重参数衰减。权重名称一般是以weight结尾
    net = nn.Linear(num_inputs, 1)
    nn.init.normal_(net.weight, mean=0, std=1)
    nn.init.normal_(net.bias, mean=0, std=1)
    optimizer_w = torch.optim.SGD(params=[net.weight], lr=lr, weight_decay=wd) # 对权重参数衰减
    optimizer_b = torch.optim.SGD(params=[net.bias], lr=lr)  # 不对偏差参数衰减

    train_ls, test_ls = [], []
    for _ in range(num_epochs):
        for X, y in train_iter:
            l = loss(net(X), y).mean()
            optimizer_w.zero_grad()
            optimizer_b.zero_grad()

            l.backward()

            # 对两个optimizer实例分别调用step函数，从而分别更新权重和偏差
            optimizer_w.step()
            optimizer_b.step()
        train_ls.append(loss(net(train_features), train_labels).mean().item())
        test_ls.append(loss(net(test_features), test_labels).mean().item())
    print('train loss %.4f, test loss %.4f' % (train_ls[-1], test_ls[-1]))  # semilogy in the book
    print('L2 norm of w:', net.weight.data.norm().item())

fit_and_plot_pytorch(0)
fit_and_plot_pytorch(3)
