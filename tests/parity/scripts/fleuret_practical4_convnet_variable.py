# Source: François Fleuret, EPFL EE-559 "Deep Learning" (https://fleuret.org/dlc), practical 4
#   "Convolutional networks": the 2018 starter code (Variable, Net with conv 5x5 + max_pool2d,
#   MSELoss on +/-1 one-hot targets, hand-written SGD p.data.sub_(eta * p.grad.data), loss.data[0])
#   and the solution's Net2(nb_hidden) / train_model / compute_nb_errors, with the 2018
#   dlc_practical_prologue (convert_to_one_hot_labels with input.new(...).fill_(-1)):
#   https://github.com/hwp/dlc2018  dlc_practical_prologue.py; the practical file and the
#   compute_nb_errors solution found by their text in the index (public domain, unlicense).
# Shrunk: synthetic 28x28 "MNIST" (noisy class prototypes) instead of the torchvision download,
#   200 train / 100 test images instead of 1000 / 1000, 3 epochs instead of 25, nb_hidden in
#   (10, 200) only. loss.data[0]
#   (PyTorch 0.3) now raises on a 0-dim tensor: the script prints what each library says once,
#   then uses loss.item() as the later versions of the course do.
import torch
from torch.autograd import Variable
from torch import nn
from torch.nn import functional as F

######################################################################
# prologue (2018)

def convert_to_one_hot_labels(input, target):
    tmp = input.new(target.size(0), target.max() + 1).fill_(-1)
    for k in range(0, target.size(0)):
        tmp[k, target[k]] = 1
    return tmp


def load_data(one_hot_labels = False, normalize = False, flatten = True):
    print('* Using MNIST')
    g = torch.Generator().manual_seed(0)
    prototypes = torch.rand(10, 28, 28, generator = g) * 255
    data = []
    for n in (200, 100):
        target = torch.randint(0, 10, (n,), generator = g)
        images = (0.5 * prototypes[target] + 0.5 * torch.rand(n, 28, 28, generator = g) * 255).to(torch.uint8)
        data += [images.view(-1, 1, 28, 28).float(), target]
    train_input, train_target, test_input, test_target = data

    if flatten:
        train_input = train_input.clone().view(train_input.size(0), -1)
        test_input = test_input.clone().view(test_input.size(0), -1)

    print('** Use {:d} train and {:d} test samples'.format(train_input.size(0), test_input.size(0)))

    if one_hot_labels:
        train_target = convert_to_one_hot_labels(train_input, train_target)
        test_target = convert_to_one_hot_labels(test_input, test_target)

    if normalize:
        mu, std = train_input.mean(), train_input.std()
        train_input.sub_(mu).div_(std)
        test_input.sub_(mu).div_(std)

    return train_input, train_target, test_input, test_target

######################################################################

train_input, train_target, test_input, test_target = \
    load_data(one_hot_labels = True, normalize = True, flatten = False)

print(train_input.size(), train_target.size(), train_target[:2])

class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, 200)
        self.fc2 = nn.Linear(200, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
        x = F.relu(self.fc1(x.view(-1, 256)))
        x = self.fc2(x)
        return x

train_input, train_target = Variable(train_input), Variable(train_target)
print(type(train_input).__name__, train_input.requires_grad, train_input.grad_fn)

model, criterion = Net(), nn.MSELoss()
eta, mini_batch_size = 1e-1, 100

print(model)

output = model(train_input.narrow(0, 0, mini_batch_size))
loss = criterion(output, train_target.narrow(0, 0, mini_batch_size))
try:
    print('loss.data[0]', loss.data[0])
except IndexError as e:
    print('IndexError:', e)

for e in range(0, 3):
    sum_loss = 0
    # We do this with mini-batches
    for b in range(0, train_input.size(0), mini_batch_size):
        output = model(train_input.narrow(0, b, mini_batch_size))
        loss = criterion(output, train_target.narrow(0, b, mini_batch_size))
        sum_loss = sum_loss + loss.item()
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data.sub_(eta * p.grad.data)
    print(e, sum_loss)

######################################################################
# solution

def train_model(model, train_input, train_target, mini_batch_size):
    criterion = nn.MSELoss()
    eta = 1e-1

    for e in range(0, 3):
        sum_loss = 0
        for b in range(0, train_input.size(0), mini_batch_size):
            output = model(train_input.narrow(0, b, mini_batch_size))
            loss = criterion(output, train_target.narrow(0, b, mini_batch_size))
            sum_loss = sum_loss + loss.item()
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data.sub_(eta * p.grad.data)
        print(e, sum_loss)

def compute_nb_errors(model, input, target, mini_batch_size):

    nb_errors = 0

    for b in range(0, input.size(0), mini_batch_size):
        output = model(input.narrow(0, b, mini_batch_size))
        _, predicted_classes = output.data.max(1)
        for k in range(0, mini_batch_size):
            if target.data[b + k, predicted_classes[k]] < 0:
                nb_errors = nb_errors + 1

    return nb_errors

print('train_error Net {:.02f}% test_error {:.02f}%'.format(
    compute_nb_errors(model, train_input, train_target, mini_batch_size) / train_input.size(0) * 100,
    compute_nb_errors(model, test_input, test_target, mini_batch_size) / test_input.size(0) * 100))

class Net2(nn.Module):
    def __init__(self, nb_hidden):
        super(Net2, self).__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=5)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=5)
        self.fc1 = nn.Linear(256, nb_hidden)
        self.fc2 = nn.Linear(nb_hidden, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), kernel_size=3, stride=3))
        x = F.relu(F.max_pool2d(self.conv2(x), kernel_size=2, stride=2))
        x = F.relu(self.fc1(x.view(-1, 256)))
        x = self.fc2(x)
        return x

for nb_hidden in [ 10, 200 ]:
    model = Net2(nb_hidden)
    train_model(model, train_input, train_target, mini_batch_size)
    nb_test_errors = compute_nb_errors(model, test_input, test_target, mini_batch_size)
    print('test error Net nb_hidden={:d} {:0.2f}% {:d}/{:d}'.format(nb_hidden,
                                                              (100 * nb_test_errors) / test_input.size(0),
                                                              nb_test_errors, test_input.size(0)))
    print(model.fc1.weight.grad.norm().item(), model.conv1.bias.grad[:4])

# The prologue's own call, a size given as a 0-dim tensor (target.max() + 1)
labels = torch.tensor([3, 0, 2])
print(test_input.new(labels.size(0), labels.max() + 1).fill_(-1).size())
