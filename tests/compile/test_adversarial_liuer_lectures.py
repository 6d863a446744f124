"""chainrule.compile against eager execution on Liu Er's (刘二大人) "PyTorch深度学习实践" lectures 4-13,
written the way students copy them (``w = torch.Tensor([1.0]); w.requires_grad = True``, ``w.data =
w.data - 0.01 * w.grad.data``, ``MSELoss(size_average=False)``, ``torch.from_numpy`` on float32 arrays,
a ``Dataset`` subclass with a shuffling ``DataLoader``, ``train(epoch)`` / ``test()`` with ``.item()``
sums and prints, ``torch.device``/``.to(device)``, InceptionA/ResidualBlock, RNNCell loops, ``nn.RNN``
with ``num_layers``, Embedding + RNN, the GRU name classifier's ``make_tensors``), with tiny synthetic
data in place of the lectures' files.

Each case runs from the same seeds eagerly and with
``chainrule.compile`` around the train step, the model or the test function; everything observable
(returns, prints, parameters, gradients, optimizer state, random streams) must agree bit for bit.
Cases marked ``replays`` must not fall back; the others may fall back with at most one warning per
compiled function, for a pinned reason. Some cases are also checked against real PyTorch (values).
"""
import contextlib
import io
import random
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch  # the lectures' spelling
from chainrule.nn import functional as F
from chainrule.nn.utils.rnn import pack_padded_sequence
from chainrule.utils.data import DataLoader, Dataset
from tests.compile.bitwise import assert_identical

real_torch = pytest.importorskip("torch")


# ----------------------------------------------------------------------------- the harness
def plain(value):
    if isinstance(value, chainrule.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def run(case, compiled):
    chainrule.manual_seed(0)
    np.random.seed(0)
    random.seed(0)
    made = []

    def compile_(function):
        made.append(chainrule.compile(function))
        return made[-1]

    printed = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        result = plain(case(compile_ if compiled else (lambda function: function)))
    result = (result, printed.getvalue(), chainrule.default_generator.state_bytes(), random.random(), float(np.random.random()))
    fallbacks = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    others = [(w.category, str(w.message)) for w in caught if "chainrule.compile" not in str(w.message)]
    return (result, others), fallbacks, made


def same_as_eager(case, replays=True, falls_back_on=None):
    eager, eager_fallbacks, _ = run(case, compiled=False)
    assert not eager_fallbacks
    compiled, warned, made = run(case, compiled=True)
    assert made, "the case compiled nothing"
    assert_identical(compiled, eager, "compiled run")
    reasons = [function.eager_reason for function in made]
    if replays:
        assert warned == [], warned
        assert reasons == [None] * len(made), reasons
    else:
        assert len(warned) <= len(made), warned
        if falls_back_on is not None:
            assert any(reason and falls_back_on in reason for reason in reasons), reasons
    return eager[0][0]


# ----------------------------------------------------------------------------- lecture 4
def lecture4(compile, per_epoch, item_inside):
    x_data = [1.0, 2.0, 3.0]
    y_data = [2.0, 4.0, 6.0]
    w = torch.Tensor([1.0])
    w.requires_grad = True

    def forward(x):
        return x * w

    def loss(x, y):
        y_pred = forward(x)
        return (y_pred - y) ** 2

    def train_one(x, y):
        l = loss(x, y)
        l.backward()
        if item_inside:
            print('\tgrad:', x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
        return l

    def train_epoch(epoch):
        for x, y in zip(x_data, y_data):
            l = loss(x, y)
            l.backward()
            if item_inside:
                print('\tgrad:', x, y, w.grad.item())
            w.data = w.data - 0.01 * w.grad.data
            w.grad.data.zero_()
        if item_inside:
            print('progress:', epoch, l.item())
        return l

    print('predict (before training)', 4, forward(4).item())
    losses = []
    if per_epoch:
        train_epoch = compile(train_epoch)
        for epoch in range(5):
            losses.append(train_epoch(epoch))
            if not item_inside:
                print('progress:', epoch, losses[-1].item())
    else:
        train_one = compile(train_one)
        for epoch in range(5):
            for x, y in zip(x_data, y_data):
                l = train_one(x, y)
            print('progress:', epoch, l.item())
            losses.append(l)
    print('predict (after training)', 4, forward(4).item())
    return losses, w, w.grad


@pytest.mark.parametrize("item_inside", [False, True], ids=["item_after", "item_inside"])
@pytest.mark.parametrize("per_epoch", [False, True], ids=["per_sample", "per_epoch"])
def test_lecture4_w_data_update_and_grad_data_zero(per_epoch, item_inside):
    result = same_as_eager(lambda compile: lecture4(compile, per_epoch, item_inside), replays=not item_inside, falls_back_on="(item)")
    # against the same loop in PyTorch
    w = real_torch.Tensor([1.0])
    w.requires_grad = True
    for epoch in range(5):
        for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
            l = (x * w - y) ** 2
            l.backward()
            w.data = w.data - 0.01 * w.grad.data
            w.grad.data.zero_()
    np.testing.assert_allclose(result[1], w.detach().numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- lecture 5
def test_lecture5_size_average_false_warning_and_reduction_like_pytorch():
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        criterion = torch.nn.MSELoss(size_average=False)
        bce = torch.nn.BCELoss(size_average=False)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        real_criterion = real_torch.nn.MSELoss(size_average=False)
        real_torch.nn.BCELoss(size_average=False)
    assert criterion.reduction == real_criterion.reduction == "sum"
    assert bce.reduction == "sum"
    assert [w.category for w in ours] == [w.category for w in theirs] == [UserWarning, UserWarning]
    assert all("size_average" in str(w.message) for w in ours)
    x = torch.Tensor([[1.0], [2.0], [3.0]])
    y = torch.Tensor([[2.0], [4.0], [6.5]])
    assert criterion(x, y).item() == real_criterion(real_torch.Tensor([[1.0], [2.0], [3.0]]), real_torch.Tensor([[2.0], [4.0], [6.5]])).item()


@pytest.mark.parametrize("flags", [{"size_average": False}, {"size_average": True}, {"reduce": False},
                                   {"size_average": False, "reduce": True}, {"size_average": True, "reduce": False}])
@pytest.mark.parametrize("loss", ["MSELoss", "BCELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss"])
def test_lecture5_size_average_warning_text_like_pytorch(loss, flags):
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        mine = getattr(torch.nn, loss)(**flags)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        real = getattr(real_torch.nn, loss)(**flags)
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert mine.reduction == real.reduction


class LinearModel(torch.nn.Module):
    def __init__(self):
        super(LinearModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = self.linear(x)
        return y_pred


OPTIMIZERS = {
    "SGD": lambda params, lib: lib.optim.SGD(params, lr=0.01),
    "Adagrad": lambda params, lib: lib.optim.Adagrad(params, lr=0.1),
    "Adam": lambda params, lib: lib.optim.Adam(params, lr=0.05),
    "Adamax": lambda params, lib: lib.optim.Adamax(params, lr=0.05),
    "ASGD": lambda params, lib: lib.optim.ASGD(params, lr=0.01, t0=2),
    "LBFGS": lambda params, lib: lib.optim.LBFGS(params, lr=0.1, max_iter=3),
    "RMSprop": lambda params, lib: lib.optim.RMSprop(params, lr=0.01),
    "Rprop": lambda params, lib: lib.optim.Rprop(params, lr=0.01),
}


def lecture5(compile, name, lib=torch, item_inside=True):
    lib.manual_seed(0)
    x_data = lib.Tensor([[1.0], [2.0], [3.0]])
    y_data = lib.Tensor([[2.0], [4.0], [6.0]])
    model = LinearModel() if lib is torch else real_torch.nn.Sequential()
    if lib is not torch:
        model.linear = real_torch.nn.Linear(1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        criterion = lib.nn.MSELoss(size_average=False)
    optimizer = OPTIMIZERS[name](model.parameters(), lib)
    with lib.no_grad():  # start from the same weights in both libraries
        model.linear.weight.fill_(0.5)
        model.linear.bias.fill_(-0.25)

    def step(epoch):
        if name == "LBFGS":
            def closure():
                optimizer.zero_grad()
                loss = criterion(model.linear(x_data), y_data)
                loss.backward()
                return loss
            loss = optimizer.step(closure)
            return loss
        y_pred = model.linear(x_data)
        loss = criterion(y_pred, y_data)
        if item_inside:
            print(epoch, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    step = compile(step)
    losses = []
    for epoch in range(6):
        losses.append(step(epoch))
        if not item_inside or name == "LBFGS":
            print(epoch, losses[-1].item())
    print('w = ', model.linear.weight.item())
    print('b = ', model.linear.bias.item())
    x_test = lib.Tensor([[4.0]])
    y_test = model.linear(x_test)
    print('y_pred = ', y_test.data)
    if lib is not torch:
        return [l.item() for l in losses], model.linear.weight.item(), model.linear.bias.item()
    return losses, model.state_dict(), optimizer.state_dict(), [p.grad for p in model.parameters()], y_test


@pytest.mark.parametrize("item_inside", [False, True], ids=["item_after", "item_inside"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_lecture5_linear_model_with_each_optimizer(name, item_inside):
    if name == "LBFGS":  # LBFGS reads float(loss) itself
        result = same_as_eager(lambda compile: lecture5(compile, name, item_inside=item_inside), replays=False, falls_back_on="(__float__)")
    else:
        result = same_as_eager(lambda compile: lecture5(compile, name, item_inside=item_inside), replays=not item_inside, falls_back_on="(item)")
    losses, weight, bias = lecture5(lambda f: f, name, real_torch)
    np.testing.assert_allclose([float(l) for l in result[0]], losses, rtol=1e-5)
    np.testing.assert_allclose(result[1]["linear.weight"].item(), weight, rtol=1e-5)
    np.testing.assert_allclose(result[1]["linear.bias"].item(), bias, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------- lecture 6
def lecture6(compile, old_sigmoid, compile_test, inside):
    x_data = torch.Tensor([[1.0], [2.0], [3.0]])
    y_data = torch.Tensor([[0], [0], [1]])

    class LogisticRegressionModel(torch.nn.Module):
        def __init__(self):
            super(LogisticRegressionModel, self).__init__()
            self.linear = torch.nn.Linear(1, 1)

        def forward(self, x):
            if old_sigmoid:
                return F.sigmoid(self.linear(x))
            return torch.sigmoid(self.linear(x))

    model = LogisticRegressionModel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        criterion = torch.nn.BCELoss(size_average=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def train(epoch):
        y_pred = model(x_data)
        loss = criterion(y_pred, y_data)
        if inside:
            print(epoch, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def test(n, x_t=None):
        if inside:
            x = np.linspace(0, 10, n)
            x_t = torch.Tensor(x).view((n, 1))
        y_t = model(x_t)
        if not inside:
            return y_t
        y = y_t.data.numpy()
        return y.copy(), float(y[y.shape[0] // 2, 0])

    if compile_test:
        test = compile(test)
    else:
        train = compile(train)
    found = []
    for epoch in range(5):
        n = 200 if epoch % 2 else 100
        found.append((train(epoch), test(n) if inside else test(n, torch.Tensor(np.linspace(0, 10, n)).view((n, 1)))))
        if not inside:
            print(epoch, found[-1][0].item())
    return found, model.state_dict(), [p.grad for p in model.parameters()]


@pytest.mark.parametrize("old_sigmoid", [False, True])
@pytest.mark.parametrize("compile_test", [False, True], ids=["train", "test"])
@pytest.mark.parametrize("inside", [False, True], ids=["made_outside", "item_and_tensor_inside"])
def test_lecture6_logistic_regression_and_linspace_test_points(old_sigmoid, compile_test, inside):
    same_as_eager(lambda compile: lecture6(compile, old_sigmoid, compile_test, inside), replays=not inside,
                  falls_back_on="torch.Tensor(x)" if compile_test else "(item)")


# ----------------------------------------------------------------------------- lecture 7
class DiabetesModel(torch.nn.Module):
    def __init__(self):
        super(DiabetesModel, self).__init__()
        self.linear1 = torch.nn.Linear(8, 6)
        self.linear2 = torch.nn.Linear(6, 4)
        self.linear3 = torch.nn.Linear(4, 1)
        self.sigmoid = torch.nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.linear1(x))
        x = self.sigmoid(self.linear2(x))
        x = self.sigmoid(self.linear3(x))
        return x


def diabetes(n=75, seed=7):
    generator = np.random.default_rng(seed)
    xy = generator.uniform(-1, 1, size=(n, 9)).astype(np.float32)
    xy[:, -1] = (xy[:, 0] + xy[:, 3] > 0).astype(np.float32)
    return xy


def lecture7(compile, mutate_xy, compile_model, item_inside=False):
    xy = diabetes()
    x_data = torch.from_numpy(xy[:, :-1])
    y_data = torch.from_numpy(xy[:, [-1]])
    model = DiabetesModel()
    forward = compile(model) if compile_model else model
    criterion = torch.nn.BCELoss(reduction='mean')
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def step(epoch):
        y_pred = forward(x_data)
        loss = criterion(y_pred, y_data)
        if item_inside:
            print(epoch, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    if not compile_model:
        step = compile(step)
    losses = []
    for epoch in range(5):
        losses.append(step(epoch))
        if not item_inside:
            print(epoch, losses[-1].item())
        if mutate_xy:
            xy[:, :-1] *= 0.5  # x_data shares memory with xy: the next step must see it
    return losses, model.state_dict(), [p.grad for p in model.parameters()], x_data


@pytest.mark.parametrize("mutate_xy", [False, True])
@pytest.mark.parametrize("compile_model", [False, True])
def test_lecture7_diabetes_from_numpy_float32_replays(mutate_xy, compile_model):
    same_as_eager(lambda compile: lecture7(compile, mutate_xy, compile_model))


def test_lecture7_diabetes_with_the_print_inside_the_step():
    same_as_eager(lambda compile: lecture7(compile, True, False, item_inside=True), replays=False, falls_back_on="(item)")


# ----------------------------------------------------------------------------- lecture 8
class DiabetesDataset(Dataset):
    def __init__(self, xy):
        self.len = xy.shape[0]
        self.x_data = torch.from_numpy(xy[:, :-1])
        self.y_data = torch.from_numpy(xy[:, [-1]])

    def __getitem__(self, index):
        return self.x_data[index], self.y_data[index]

    def __len__(self):
        return self.len


def lecture8(compile, whole_epoch, item_inside=True):
    dataset = DiabetesDataset(diabetes())
    train_loader = DataLoader(dataset=dataset, batch_size=32, shuffle=True, num_workers=0)
    model = DiabetesModel()
    criterion = torch.nn.BCELoss(reduction='mean')
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def one_batch(data, epoch=0, i=0):
        inputs, labels = data
        y_pred = model(inputs)
        loss = criterion(y_pred, labels)
        if item_inside:
            print(epoch, i, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    def train(epoch):
        losses = []
        for i, data in enumerate(train_loader, 0):
            inputs, labels = data
            y_pred = model(inputs)
            loss = criterion(y_pred, labels)
            print(epoch, i, loss.item())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    found = []
    if whole_epoch:
        train = compile(train)
        for epoch in range(4):
            found.append(train(epoch))
    else:
        one_batch = compile(one_batch)
        for epoch in range(4):
            for i, data in enumerate(train_loader, 0):
                found.append(one_batch(data, epoch, i) if item_inside else one_batch(data))
                if not item_inside:
                    print(epoch, i, found[-1].item())
    return found, model.state_dict(), [p.grad for p in model.parameters()]


@pytest.mark.parametrize("item_inside", [False, True], ids=["item_after", "item_inside"])
def test_lecture8_dataset_and_shuffling_loader_around_a_compiled_batch_step(item_inside):
    same_as_eager(lambda compile: lecture8(compile, False, item_inside), replays=not item_inside, falls_back_on="(item)")


def test_lecture8_whole_epoch_with_the_shuffling_loader_inside():
    same_as_eager(lambda compile: lecture8(compile, whole_epoch=True), replays=False, falls_back_on="(item)")


# ----------------------------------------------------------------------------- lecture 9
class SoftmaxNet(torch.nn.Module):
    def __init__(self):
        super(SoftmaxNet, self).__init__()
        self.l1 = torch.nn.Linear(784, 32)
        self.l2 = torch.nn.Linear(32, 16)
        self.l5 = torch.nn.Linear(16, 10)

    def forward(self, x):
        x = x.view(-1, 784)
        x = F.relu(self.l1(x))
        x = F.relu(self.l2(x))
        return self.l5(x)


def fake_mnist(n, seed):
    generator = np.random.default_rng(seed)
    images = generator.uniform(0, 1, size=(n, 1, 28, 28)).astype(np.float32)
    labels = generator.integers(0, 10, size=n)
    return [(torch.from_numpy((images[k] - 0.1307) / 0.3081), int(labels[k])) for k in range(n)]


def lecture9(compile, what, net=SoftmaxNet, device_lines=False):
    batch_size = 8
    train_loader = DataLoader(fake_mnist(44, 1), shuffle=True, batch_size=batch_size)
    test_loader = DataLoader(fake_mnist(20, 2), shuffle=False, batch_size=batch_size)
    model = net()
    device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if device_lines:
        model.to(device)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)

    def batch_step(inputs, target):
        if device_lines:
            inputs, target = inputs.to(device), target.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, target)
        loss.backward()
        optimizer.step()
        return loss

    def train(epoch):
        running_loss = 0.0
        for batch_idx, data in enumerate(train_loader, 0):
            inputs, target = data
            loss = batch_step(inputs, target)
            running_loss += loss.item()
            if batch_idx % 3 == 2:
                print('[%d, %5d] loss: %.3f' % (epoch + 1, batch_idx + 1, running_loss / 3))
                running_loss = 0.0
        return running_loss

    def test_batch(images, labels):
        with torch.no_grad():
            outputs = model(images)
            _, predicted = torch.max(outputs.data, dim=1)
            return (predicted == labels).sum()

    def test():
        if what == "test_batch":
            correct = sum(test_batch(images, labels).item() for images, labels in test_loader)
            total = len(test_loader.dataset)
            print('accuracy on test set: %d %% ' % (100 * correct / total))
            return correct, total
        correct = 0
        total = 0
        with torch.no_grad():
            for data in test_loader:
                images, labels = data
                if device_lines:
                    images, labels = images.to(device), labels.to(device)
                outputs = model(images)
                _, predicted = torch.max(outputs.data, dim=1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        print('accuracy on test set: %d %% ' % (100 * correct / total))
        return correct, total

    if what == "batch_step":
        batch_step = compile(batch_step)
    elif what == "train":
        train = compile(train)
    elif what == "test":
        test = compile(test)
    elif what == "test_batch":
        test_batch = compile(test_batch)
    elif what == "model":
        model = compile(model)
    elif what == "model.compile()":
        if getattr(compile, "__name__", "") == "compile_":  # the compiled run: compile the model in place
            model.compile()
            compile(lambda: None)  # so that the harness sees something compiled
    found = []
    for epoch in range(3):
        found.append(train(epoch))
        found.append(test())
    model = getattr(model, "_orig_mod", model)
    return found, dict(model.state_dict()), optimizer.state_dict()


@pytest.mark.parametrize("what", ["batch_step", "test_batch", "model"])
def test_lecture9_softmax_mnist_train_and_test_replay(what):
    same_as_eager(lambda compile: lecture9(compile, what))


@pytest.mark.parametrize("what", ["train", "test"])
def test_lecture9_compiled_train_and_test_with_the_loader_and_item_sums_inside(what):
    same_as_eager(lambda compile: lecture9(compile, what), replays=False, falls_back_on="(item)")


# ----------------------------------------------------------------------------- lecture 10
class CNNNet(torch.nn.Module):
    def __init__(self):
        super(CNNNet, self).__init__()
        self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = torch.nn.Conv2d(10, 20, kernel_size=5)
        self.pooling = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(320, 10)

    def forward(self, x):
        batch_size = x.size(0)
        x = F.relu(self.pooling(self.conv1(x)))
        x = F.relu(self.pooling(self.conv2(x)))
        x = x.view(batch_size, -1)
        x = self.fc(x)
        return x


@pytest.mark.parametrize("what", ["batch_step", "test_batch", "model", "model.compile()"])
def test_lecture10_cnn_with_device_lines_and_a_smaller_last_batch_replays(what):
    same_as_eager(lambda compile: lecture9(compile, what, CNNNet, device_lines=True))


# ----------------------------------------------------------------------------- lecture 11
class InceptionA(torch.nn.Module):
    def __init__(self, in_channels):
        super(InceptionA, self).__init__()
        self.branch1x1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch5x5_2 = torch.nn.Conv2d(16, 24, kernel_size=5, padding=2)
        self.branch3x3_1 = torch.nn.Conv2d(in_channels, 16, kernel_size=1)
        self.branch3x3_2 = torch.nn.Conv2d(16, 24, kernel_size=3, padding=1)
        self.branch3x3_3 = torch.nn.Conv2d(24, 24, kernel_size=3, padding=1)
        self.branch_pool = torch.nn.Conv2d(in_channels, 24, kernel_size=1)

    def forward(self, x):
        branch1x1 = self.branch1x1(x)
        branch5x5 = self.branch5x5_1(x)
        branch5x5 = self.branch5x5_2(branch5x5)
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = self.branch3x3_2(branch3x3)
        branch3x3 = self.branch3x3_3(branch3x3)
        branch_pool = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
        branch_pool = self.branch_pool(branch_pool)
        outputs = [branch1x1, branch5x5, branch3x3, branch_pool]
        return torch.cat(outputs, dim=1)


class InceptionNet(torch.nn.Module):
    def __init__(self):
        super(InceptionNet, self).__init__()
        self.conv1 = torch.nn.Conv2d(1, 10, kernel_size=5)
        self.incep1 = InceptionA(in_channels=10)
        self.mp = torch.nn.MaxPool2d(2)
        self.fc = torch.nn.Linear(88 * 2 * 2, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = self.incep1(x)
        x = self.mp(x)
        x = x.view(in_size, -1)
        return self.fc(x)


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super(ResidualBlock, self).__init__()
        self.channels = channels
        self.conv1 = torch.nn.Conv2d(channels, channels, kernel_size=3, padding=1)
        self.conv2 = torch.nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x):
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(x + y)


class ResidualNet(torch.nn.Module):
    def __init__(self):
        super(ResidualNet, self).__init__()
        self.conv1 = torch.nn.Conv2d(1, 8, kernel_size=5)
        self.mp = torch.nn.MaxPool2d(2)
        self.rblock1 = ResidualBlock(8)
        self.fc = torch.nn.Linear(8 * 2 * 2, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = self.mp(F.relu(self.conv1(x)))
        x = self.rblock1(x)
        x = self.mp(x)
        x = x.view(in_size, -1)
        return self.fc(x)


def lecture11(compile, net, what):
    generator = np.random.default_rng(5)
    model = net()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
    forward = compile(model) if what == "model" else model

    def step(inputs, target):
        optimizer.zero_grad()
        outputs = forward(inputs)
        loss = criterion(outputs, target)
        loss.backward()
        optimizer.step()
        return loss, outputs.argmax(dim=1)

    if what == "step":
        step = compile(step)
    found = []
    for n in [3, 3, 2, 3]:
        images = torch.from_numpy(generator.standard_normal((n, 1, 12, 12)).astype(np.float32))
        found.append(step(images, torch.LongTensor(generator.integers(0, 10, size=n).tolist())))
    return found, model.state_dict(), optimizer.state_dict()


@pytest.mark.parametrize("what", ["step", "model"])
@pytest.mark.parametrize("net", [InceptionNet, ResidualNet], ids=["inception", "residual"])
def test_lecture11_inception_and_residual_replay(net, what):
    same_as_eager(lambda compile: lecture11(compile, net, what))


# ----------------------------------------------------------------------------- lecture 12
IDX2CHAR = ['e', 'h', 'l', 'o']


def lecture12_cell(compile, outside=False):
    input_size, hidden_size, batch_size = 4, 4, 1
    one_hot_lookup = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]

    class Model(torch.nn.Module):
        def __init__(self):
            super(Model, self).__init__()
            self.rnncell = torch.nn.RNNCell(input_size=input_size, hidden_size=hidden_size)

        def forward(self, input, hidden):
            return self.rnncell(input, hidden)

        def init_hidden(self):
            return torch.zeros(batch_size, hidden_size)

    net = Model()
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.1)

    def make(x_data, y_data):
        x_one_hot = [one_hot_lookup[x] for x in x_data]
        inputs = torch.Tensor(x_one_hot).view(-1, batch_size, input_size)
        labels = torch.LongTensor(y_data).view(-1, 1)
        return inputs, labels

    def step(x_data, y_data, epoch):
        inputs, labels = make(x_data, y_data)
        loss = 0
        optimizer.zero_grad()
        hidden = net.init_hidden()
        print('Predicted string: ', end='')
        for input, label in zip(inputs, labels):
            hidden = net(input, hidden)
            loss += criterion(hidden, label)
            idx = hidden.argmax(dim=1)
            print(IDX2CHAR[idx.item()], end='')
        loss.backward()
        optimizer.step()
        print(', Epoch [%d/15] loss=%.4f' % (epoch + 1, loss.item()))
        return loss

    def step_outside(inputs, labels):  # the replaying form: tensors made by the caller, no .item()
        loss = 0
        optimizer.zero_grad()
        hidden = net.init_hidden()
        predicted = []
        for input, label in zip(inputs, labels):
            hidden = net(input, hidden)
            loss += criterion(hidden, label)
            predicted.append(hidden.argmax(dim=1))
        loss.backward()
        optimizer.step()
        return loss, predicted

    found = []
    data = [([1, 0, 2, 2, 3], [3, 1, 2, 3, 2])] * 3 + [([1, 0, 2, 2, 3], [2, 1, 3, 3, 2])] * 2
    if outside:
        step_outside = compile(step_outside)
        for epoch, (x, y) in enumerate(data):
            loss, predicted = step_outside(*make(x, y))
            print('Predicted string: ' + ''.join(IDX2CHAR[idx.item()] for idx in predicted), end='')
            print(', Epoch [%d/15] loss=%.4f' % (epoch + 1, loss.item()))
            found.append((loss, predicted))
    else:
        step = compile(step)
        for epoch, (x, y) in enumerate(data):
            found.append(step(x, y, epoch))
    return found, net.state_dict(), optimizer.state_dict()


def test_lecture12_rnn_cell_with_legacy_constructors_and_printed_prediction():
    same_as_eager(lecture12_cell, replays=False, falls_back_on="outside a recorded operation")


def test_lecture12_rnn_cell_with_tensors_made_by_the_caller_replays():
    same_as_eager(lambda compile: lecture12_cell(compile, outside=True))


def lecture12_rnn(compile, embedding, what):
    num_class, input_size, hidden_size, embedding_size, num_layers, batch_size, seq_len = 4, 4, 8, 5, 2, 1, 5

    class Model(torch.nn.Module):
        def __init__(self):
            super(Model, self).__init__()
            if embedding:
                self.emb = torch.nn.Embedding(input_size, embedding_size)
            self.rnn = torch.nn.RNN(input_size=embedding_size if embedding else input_size, hidden_size=hidden_size,
                                    num_layers=num_layers, batch_first=embedding)
            self.fc = torch.nn.Linear(hidden_size, num_class)

        def forward(self, x):
            hidden = torch.zeros(num_layers, x.size(0), hidden_size)
            if embedding:
                x = self.emb(x)
            else:
                hidden = torch.zeros(num_layers, x.size(1), hidden_size)
            x, _ = self.rnn(x, hidden)
            x = self.fc(x)
            return x.view(-1, num_class)

    net = Model()
    forward = compile(net) if what == "model" else net
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05)
    one_hot_lookup = np.eye(4).tolist()

    def step(x_data, y_data):
        if embedding:
            inputs = torch.LongTensor(x_data).view(batch_size, -1)
        else:
            inputs = torch.Tensor([one_hot_lookup[x] for x in x_data]).view(seq_len, batch_size, input_size)
        labels = torch.LongTensor(y_data)
        optimizer.zero_grad()
        outputs = forward(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        _, idx = outputs.max(dim=1)
        idx = idx.data.numpy()
        print('Predicted: ', ''.join([IDX2CHAR[x] for x in idx]), end='')
        print(', loss = %.3f' % loss.item())
        return loss, idx.copy()

    if what == "step":
        step = compile(step)
    found = [step([1, 0, 2, 2, 3], y) for y in [[3, 1, 2, 3, 2]] * 3 + [[2, 1, 3, 3, 2]] * 2]
    return found, net.state_dict(), optimizer.state_dict()


@pytest.mark.parametrize("embedding", [False, True])
def test_lecture12_nn_rnn_num_layers_step_with_legacy_constructors(embedding):
    same_as_eager(lambda compile: lecture12_rnn(compile, embedding, "step"), replays=False, falls_back_on=None)


@pytest.mark.parametrize("embedding", [False, True])
def test_lecture12_nn_rnn_num_layers_compiled_model_replays(embedding):
    same_as_eager(lambda compile: lecture12_rnn(compile, embedding, "model"))


# ----------------------------------------------------------------------------- lecture 13
NAMES = [("Li", 0), ("Smith", 1), ("Rossi", 2), ("Tanaka", 3), ("Wei", 0), ("Son", 1), ("Bel", 2), ("Yo", 3),
         ("Zhang", 0), ("Ley", 1), ("Cci", 2), ("Moto", 3)]


def name2list(name):
    arr = [ord(c) for c in name]
    return arr, len(arr)


def make_tensors(names, countries):
    sequences_and_lengths = [name2list(name) for name in names]
    name_sequences = [sl[0] for sl in sequences_and_lengths]
    seq_lengths = torch.LongTensor([sl[1] for sl in sequences_and_lengths])
    countries = countries.long()
    seq_tensor = torch.zeros(len(name_sequences), seq_lengths.max()).long()
    for idx, (seq, seq_len) in enumerate(zip(name_sequences, seq_lengths), 0):
        seq_tensor[idx, :seq_len] = torch.LongTensor(seq)
    seq_lengths, perm_idx = seq_lengths.sort(dim=0, descending=True)
    seq_tensor = seq_tensor[perm_idx]
    countries = countries[perm_idx]
    return seq_tensor, seq_lengths, countries


class RNNClassifier(torch.nn.Module):
    def __init__(self, input_size, hidden_size, output_size, n_layers=1, bidirectional=True, pack=True):
        super(RNNClassifier, self).__init__()
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.n_directions = 2 if bidirectional else 1
        self.pack = pack
        self.embedding = torch.nn.Embedding(input_size, hidden_size)
        self.gru = torch.nn.GRU(hidden_size, hidden_size, n_layers, bidirectional=bidirectional)
        self.fc = torch.nn.Linear(hidden_size * self.n_directions, output_size)

    def _init_hidden(self, batch_size):
        return torch.zeros(self.n_layers * self.n_directions, batch_size, self.hidden_size)

    def forward(self, input, seq_lengths):
        input = input.t()
        batch_size = input.size(1)
        hidden = self._init_hidden(batch_size)
        embedding = self.embedding(input)
        gru_input = pack_padded_sequence(embedding, seq_lengths) if self.pack else embedding
        output, hidden = self.gru(gru_input, hidden)
        if self.n_directions == 2:
            hidden_cat = torch.cat([hidden[-1], hidden[-2]], dim=1)
        else:
            hidden_cat = hidden[-1]
        return self.fc(hidden_cat)


def lecture13(compile, pack, what, outside=False):
    classifier = RNNClassifier(128, 6, 4, 2, pack=pack)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(classifier.parameters(), lr=0.01)
    model = compile(classifier) if what == "model" else classifier

    def trainModel(names, countries, made=None):
        inputs, seq_lengths, target = made if outside else make_tensors(names, countries)
        output = model(inputs, seq_lengths)
        loss = criterion(output, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    def testModel(names, countries):
        correct = 0
        with torch.no_grad():
            inputs, seq_lengths, target = make_tensors(names, countries)
            output = model(inputs, seq_lengths)
            pred = output.max(dim=1, keepdim=True)[1]
            correct += pred.eq(target.view_as(pred)).sum().item()
        return correct

    if what == "step":
        trainModel = compile(trainModel)
        if not outside:
            testModel = compile(testModel)
    found = []
    for epoch in range(2):
        for start in range(0, len(NAMES), 4):
            chunk = NAMES[start:start + 4]
            names = tuple(name for name, _ in chunk)
            countries = torch.LongTensor([country for _, country in chunk])
            if outside:
                found.append(trainModel(None, None, make_tensors(names, countries)))
            else:
                found.append(trainModel(names, countries))
        found.append(testModel(tuple(n for n, _ in NAMES[:6]), torch.LongTensor([c for _, c in NAMES[:6]])))
    return found, classifier.state_dict(), optimizer.state_dict()


@pytest.mark.parametrize("what", ["step", "model"])
def test_lecture13_gru_name_classifier_with_pack_padded_sequence(what):
    # the names' lengths made a tensor inside the step are a constant; seq_lengths.max() read as an int is not
    same_as_eager(lambda compile: lecture13(compile, True, what), replays=False,
                  falls_back_on="taken as an int" if what == "step" else "pack_padded_sequence")


def test_lecture13_gru_name_classifier_with_make_tensors_inside_the_step():
    same_as_eager(lambda compile: lecture13(compile, False, "step"), replays=False, falls_back_on="taken as an int")


def test_lecture13_gru_name_classifier_without_packing_model_compiled_replays():
    same_as_eager(lambda compile: lecture13(compile, False, "model"))


def test_lecture13_step_with_make_tensors_by_the_caller_falls_back_on_item():
    same_as_eager(lambda compile: lecture13(compile, False, "step", outside=True), replays=False, falls_back_on="(item)")


def test_lecture13_packed_step_with_make_tensors_by_the_caller():
    same_as_eager(lambda compile: lecture13(compile, True, "step", outside=True), replays=False, falls_back_on="pack_padded_sequence")
