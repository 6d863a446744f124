# Source: François Fleuret, EPFL EE-559 / UNIGE 14x050 "Deep Learning" (https://fleuret.org/dlc),
#   practical 3 "Multi-layer perceptron, forward and backward by hand": the course's
#   dlc_practical_prologue.py (load_data with one_hot_labels / normalize, convert_to_one_hot_labels,
#   mnist_to_pairs for mini-project 1) and the solution as students kept it:
#   https://github.com/Neclow/ee559-project1  dlc_practical_prologue.py
#   the solution file with sigma/dsigma/loss/dloss/forward_pass/backward_pass (found by its text
#   in the index; same structure as the official dlc_practical_3_solution.py).
# Shrunk: synthetic uint8 "MNIST" (10 noisy class prototypes, 28x28) instead of the torchvision
#   download; 80 train / 80 test samples instead of 1000; 6 steps instead of 1000; the prologue's
#   argparse options replaced by their defaults; hand gradients checked against autograd at the end.
import math
import torch

######################################################################
# dlc_practical_prologue (data part, on synthetic digits)

def synthetic_mnist(n, generator_seed):
    g = torch.Generator().manual_seed(generator_seed)
    prototypes = torch.rand(10, 28, 28, generator=g) * 255
    targets = torch.randint(0, 10, (n,), generator=g)
    noise = torch.rand(n, 28, 28, generator=g) * 255
    data = (0.6 * prototypes[targets] + 0.4 * noise).to(torch.uint8)
    return data, targets


def convert_to_one_hot_labels(input, target):
    tmp = input.new_zeros(target.size(0), target.max() + 1)
    tmp.scatter_(1, target.view(-1, 1), 1.0)
    return tmp


def load_data(cifar=None, one_hot_labels=False, normalize=False, flatten=True):
    print('* Using MNIST')
    train_data, train_targets = synthetic_mnist(200, 1)
    test_data, test_targets = synthetic_mnist(200, 2)

    train_input = train_data.view(-1, 1, 28, 28).float()
    train_target = train_targets
    test_input = test_data.view(-1, 1, 28, 28).float()
    test_target = test_targets

    if flatten:
        train_input = train_input.clone().reshape(train_input.size(0), -1)
        test_input = test_input.clone().reshape(test_input.size(0), -1)

    print('** Reduce the data-set (use --full for the full thing)')
    train_input = train_input.narrow(0, 0, 80)
    train_target = train_target.narrow(0, 0, 80)
    test_input = test_input.narrow(0, 0, 80)
    test_target = test_target.narrow(0, 0, 80)

    print('** Use {:d} train and {:d} test samples'.format(train_input.size(0), test_input.size(0)))

    if one_hot_labels:
        train_target = convert_to_one_hot_labels(train_input, train_target)
        test_target = convert_to_one_hot_labels(test_input, test_target)

    if normalize:
        mu, std = train_input.mean(), train_input.std()
        train_input.sub_(mu).div_(std)
        test_input.sub_(mu).div_(std)

    return train_input, train_target, test_input, test_target


def mnist_to_pairs(nb, input, target, seed):
    torch.manual_seed(seed)
    input = torch.functional.F.avg_pool2d(input, kernel_size = 2)
    a = torch.randperm(input.size(0))
    a = a[:2 * nb].view(nb, 2)
    input = torch.cat((input[a[:, 0]], input[a[:, 1]]), 1)
    classes = target[a]
    target = (classes[:, 0] <= classes[:, 1]).long()
    return input, target, classes

######################################################################
# practical 3

def sigma(x):
    return x.tanh()


def dsigma(x):
    return x.cosh().pow(-2)


def loss(v, t):
    return (t - v).pow(2).sum()


def dloss(v, t):
    return 2 * (v - t)


def forward_pass(w1, b1, w2, b2, x):
    x0 = x
    s1 = w1.mv(x0) + b1
    x1 = sigma(s1)
    s2 = w2.mv(x1) + b2
    x2 = sigma(s2)
    return x0, s1, x1, s2, x2


def backward_pass(w1, b1, w2, b2, t, x, s1, x1, s2, x2, dl_dw1, dl_db1, dl_dw2,
                  dl_db2):
    x0 = x
    dl_dx2 = dloss(x2, t)
    dl_ds2 = dsigma(s2) * dl_dx2
    dl_dx1 = w2.t().mv(dl_ds2)
    dl_ds1 = dsigma(s1) * dl_dx1

    dl_dw2.add_(dl_ds2.view(-1, 1).mm(x1.view(1, -1)))
    dl_db2.add_(dl_ds2)
    dl_dw1.add_(dl_ds1.view(-1, 1).mm(x0.view(1, -1)))
    dl_db1.add_(dl_ds1)


train_input, train_target, test_input, test_target = load_data(
    one_hot_labels=True, normalize=True)

print(train_input.size(), train_target.size(), train_target.dtype)
print(train_target[:3])
print(train_input.mean().item(), train_input.std().item())

n_train_input = train_input.size(0)
n_train_output = train_target.size(1)

zeta = 0.9
epsilon = 1e-6
n_steps = 6
eta = 1e-1 / n_train_input
n_hidden = 50

print(
    f'\nPARAMETERS\n'
    f'  zeta = {zeta}\n  epsilon = {epsilon}\n  n_steps = {n_steps}\n'
    f'  eta = {eta}\n  n_hidden = {n_hidden}\n')

train_target.mul_(zeta)
test_target.mul_(zeta)

w1 = torch.empty(n_hidden, train_input.size(1)).normal_(0, epsilon)
b1 = torch.empty(n_hidden).normal_(0, epsilon)
w2 = torch.empty(n_train_output, n_hidden).normal_(0, epsilon)
b2 = torch.empty(n_train_output).normal_(0, epsilon)

dl_dw1 = torch.empty(w1.size())
dl_db1 = torch.empty(b1.size())
dl_dw2 = torch.empty(w2.size())
dl_db2 = torch.empty(b2.size())

print('RUNNING')
print('  Step  Acc. Loss  Train Err.  Test Err.')
for i in range(n_steps):

    dl_dw1.zero_()
    dl_db1.zero_()
    dl_dw2.zero_()
    dl_db2.zero_()

    acc_loss = 0
    n_train_errors = 0
    n_test_errors = 0

    for j in range(train_input.size(0)):

        x0, s1, x1, s2, x2 = forward_pass(w1, b1, w2, b2,
                                          train_input[j])

        pred_idx = x2.max(dim=0).indices.item()
        if train_target[j, pred_idx] < 0.5:
            n_train_errors += 1
        acc_loss += loss(x2, train_target[j])

        backward_pass(w1, b1, w2, b2, train_target[j], x0, s1, x1, s2,
                      x2, dl_dw1, dl_db1, dl_dw2, dl_db2)

    w1 = w1 - eta * dl_dw1
    b1 = b1 - eta * dl_db1
    w2 = w2 - eta * dl_dw2
    b2 = b2 - eta * dl_db2

    for j in range(test_input.size(0)):
        _, _, _, _, x2 = forward_pass(w1, b1, w2, b2, test_input[j])

        pred_idx = x2.max(dim=0).indices.item()
        if test_target[j, pred_idx] < 0.5:
            n_test_errors += 1

    print(f'  {i+1:04d}'
          f'  {acc_loss:9.3f}'
          f'  {n_train_errors/train_input.size(0):10.3f}'
          f'  {n_test_errors/test_input.size(0):9.3f}')

print(type(acc_loss).__name__, acc_loss)

######################################################################
# The hand-written gradient of one sample against autograd

ws = [w.clone().requires_grad_() for w in (w1, b1, w2, b2)]
x0, s1, x1, s2, x2 = forward_pass(*ws, train_input[0])
l = loss(x2, train_target[0])
l.backward()
grads = [torch.zeros(w.size()) for w in ws]
backward_pass(*[w.detach() for w in ws], train_target[0], x0, s1.detach(), x1.detach(),
              s2.detach(), x2.detach(), *grads)
for name, w, g in zip(['w1', 'b1', 'w2', 'b2'], ws, grads):
    print(name, tuple(w.grad.shape), f'{w.grad.norm().item():.6f}', f'{g.norm().item():.6f}',
          torch.allclose(w.grad, g, rtol=1e-4, atol=1e-7), (w.grad - g).abs().max().item() < 1e-5)
print(b2.grad, ws[3].grad)
print(s2.grad_fn.name(), x2.grad_fn.name())

######################################################################
# The mini-project pairs from the same prologue

images, targets = synthetic_mnist(40, 3)
pair_input, pair_target, pair_classes = mnist_to_pairs(10, images.view(-1, 1, 28, 28).float(), targets, 0)
print(pair_input.size(), pair_target, pair_classes[:4])
print(pair_input[0, 1, 5, :6])
