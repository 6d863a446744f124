# Source: MIPT Deep Learning School (DLS), seminars "[seminar]pytorch_basics" (the legacy tensor types
#   torch.FloatTensor / IntTensor / ByteTensor ..., FloatTensor(2, 3, 4) constructors, zero_(), view, type_as,
#   indexing, arithmetic and comparisons with masks, elementwise math, sum / mean / max(0) / min(1), t, dot, mm, mv,
#   @, from_numpy sharing memory, .numpy(), .cuda() / .to(device), Variable and backward with .grad of leaves,
#   non-leaves and a requires_grad=False Variable) and "[seminar]neuron_pytorch" (a Linear + Sigmoid neuron fed
#   Variables, MSELoss(reduction='sum') with SGD and 'loss.data' printed every step; a Linear classifier on
#   cs231n's three-arm spiral with CrossEntropyLoss(size_average=False); the decision map on a meshgrid), as a
#   student typed them: https://github.com/gtmp047/dlschool  06. PyTorch/[seminar]pytorch_basics.ipynb,
#   06. PyTorch/[seminar]neuron_pytorch.ipynb
# Shrunk: apples_pears.csv (1000 apples and pears by symmetry / yellowness) is 60 synthetic rows; the two
#   training loops run 30 and 20 steps instead of 500; the spiral has 30 points per arm instead of 100 and the
#   meshgrid step is 0.1 instead of 0.02; the uninitialised tensors (FloatTensor(2, 3, 4), IntTensor(3, 2, 4) ...)
#   print their shapes, not their garbage, and FloatTensor(100, 700, 700, 3) is FloatTensor(10, 70, 70, 3);
#   the CUDA cells run as on a machine without a GPU (the error .cuda() raises is printed); the cells that do not
#   parse (`a[]`) or raise NameError (forward_pass with `nn.Sigmoid(... self.w ...)`) are dropped; plots are
#   replaced by printing what they showed.
import numpy as np
import torch

print(torch.HalfTensor)      # 16 бит, с плавающей точкой
print(torch.FloatTensor)     # 32 бита,  с плавающей точкой
print(torch.DoubleTensor)    # 64 бита, с плавающей точкой

print(torch.ShortTensor)     # 16 бит, целочисленный, знаковый
print(torch.IntTensor)       # 32 бита, целочисленный, знаковый
print(torch.LongTensor)      # 64 бита, целочисленный, знаковый

print(torch.CharTensor)      # 8 бит, целочисленный, знаковый
print(torch.ByteTensor)      # 8 бит, целочисленный, беззнаковый

a = torch.FloatTensor([1, 2])
print(a)
print(a.shape)
b = torch.FloatTensor([[1,2,3], [4,5,6]])
print(b)
print(b.shape)

x = torch.FloatTensor(2,3,4)
print(x.shape, x.dtype, x.type())
x = torch.FloatTensor(100)
print(x.shape)
x = torch.IntTensor(45, 57, 14, 2)
print(x.shape)
x = torch.IntTensor(3, 2, 4)
print(x.shape, x.dtype, x.type())
x = torch.IntTensor(3, 2, 4).zero_()
print(x)

print(b.view(3, 2))
print(b)
print(b.view(-1))
print(b)

a = torch.FloatTensor([1.5, 3.2, -7])
print(a.type_as(torch.IntTensor()))
print(a.type_as(torch.ByteTensor()))
print(a)

a = torch.FloatTensor([[100, 20, 35], [15, 163, 534], [52, 90, 66]])
print(a)
print(a[0, 0])
print(a[0][0])
print(a[0:2, 0:2])

a = torch.FloatTensor(3,4).zero_()
b = torch.FloatTensor(12,).zero_()
c = b.view(2,2,3)
print(a, b, c)

a = torch.FloatTensor([[1, 2, 3], [10, 20, 30], [100, 200, 300]])
b = torch.FloatTensor([[-1, -2, -3], [-10, -20, -30], [100, 200, 300]])
print(a + b)
print(a.add(b))
b = -a
print(b)
print(a + b)
print(a - b)
print(a.sub(b))
print(a * b)
print(a.mul(b))

a = torch.FloatTensor([[1, 2, 3], [10, 20, 30], [100, 200, 300]])
b = torch.FloatTensor([[-1, -2, -3], [-10, -20, -30], [100, 200, 300]])
print(a / b)
print(a.div(b))
print(a)
print(b)

print(a == b)
print(a != b)
print(a < b)
print(a > b)
print(a[a > b])
print(b[a == b])

a = torch.FloatTensor([[1, 2, 3], [10, 20, 30], [100, 200, 300]])
print(a.sin())
print(torch.sin(a))
print(a.cos())
print(a.exp())
print(a.log())
b = -a
print(b)
print(b.abs())
print(a.sum())
print(a.mean())
print(a.sum(0))
print(a)
print(a.max())
print(a.max(0))
print(a.min())
print(a.min(1))

a = torch.FloatTensor(10,70,70,3)
print(a.mean(3).shape)

a = torch.FloatTensor([[1, 2, 3], [10, 20, 30], [100, 200, 300]])
print(a)
print(a.t())
print(a)

a = torch.FloatTensor([1, 2, 3, 4, 5, 6])
b = torch.FloatTensor([-1, -2, -4, -6, -8, -10])
print(a.dot(b))
print(a @ b)
print(type(a))
print(type(b))
print(type(a @ b))

a = torch.FloatTensor([[1, 2, 3], [10, 20, 30], [100, 200, 300]])
b = torch.FloatTensor([[-1, -2, -3], [-10, -20, -30], [100, 200, 300]])
print(a.mm(b))
print(a @ b)

a = torch.FloatTensor([[1, 2, 3], [10, 20, 30], [100, 200, 300]])
b = torch.FloatTensor([[-1], [-10], [100]])
print(a.shape, b.shape)
print(a @ b)
print(b)
print(b.view(-1))
print(a @ b.view(-1))
print(a.mv(b.view(-1)))

a = np.random.rand(3, 3)
print(a)
b = torch.from_numpy(a)
print(b)
b -= b
print(b)
print(a)

a = torch.FloatTensor(2, 3, 4)
print(type(a))
x = a.numpy()
print(x.shape)
print(type(x), x.dtype)

x = torch.FloatTensor(1024, 1024).uniform_()
print(x[:2, :3])
print(x.is_cuda)
try:
    x = x.cuda()
except Exception as error:  # no GPU here (nor in PyTorch's CPU build)
    print(type(error).__name__, error)
print(x.is_cuda)

x = torch.FloatTensor(5, 5, 5).uniform_()

# проверяем, есть ли CUDA (то есть NVidia GPU)
print(torch.cuda.is_available())
if torch.cuda.is_available():
    device = torch.device('cuda')          # CUDA-device объект
    y = torch.ones_like(x, device=device)  # создаём тензор на GPU
    x = x.to(device)                       # тут можно просто ``.to("cuda")``
    z = x + y
    print(z)
    print(z.to("cpu", torch.double))
z = x.to("cpu", torch.double)
print(z.dtype, z.device, z[0, 0])

from torch.autograd import Variable

x = torch.FloatTensor(3, 1).uniform_()
w = torch.FloatTensor(3, 3).uniform_()
b = torch.FloatTensor(3, 1).uniform_()

x = Variable(x, requires_grad=True)
w = Variable(w, requires_grad=True)
b = Variable(b, requires_grad=False)

y = (w @ x).add_(b)

loss = y.sum()

# берём градиенты по всем "листьям" - в данном случае это тензоры x, w и b
loss.backward()
print(loss)
print(x.grad)
print(w.grad)
print(b.grad)
print(y.grad)
print(x)
print(x.data)
print(y)

# [seminar]neuron_pytorch: apples and pears (symmetry, yellowness, target)
symmetry = np.random.rand(60)
yellowness = np.random.rand(60)
target = (yellowness + 0.2 * np.random.randn(60) > 0.5).astype(np.int64)
X = np.stack([symmetry, yellowness], axis=1)  # data.iloc[:,:2].values
y = target.reshape((-1, 1))  # data['target'].values.reshape((-1, 1))

from torch.nn import Linear, Sigmoid

num_features = X.shape[1]

neuron = torch.nn.Sequential(
    Linear(num_features, out_features=1),
    Sigmoid()
)
print(neuron)
print(neuron(torch.autograd.Variable(torch.FloatTensor([1, 1]))))

proba_pred = neuron(torch.autograd.Variable(torch.FloatTensor(X)))
y_pred = proba_pred > 0.5
y_pred = y_pred.data.numpy().reshape(-1)
print(y_pred.dtype, y_pred.sum())

X = torch.autograd.Variable(torch.FloatTensor(X))
y = torch.autograd.Variable(torch.FloatTensor(y))

# квадратичная функция потерь (можно сделать другую)
loss_fn = torch.nn.MSELoss(reduction='sum')

# шаг градиентного спуска (точнее -- метода оптимизации)
learning_rate = 0.001  # == 1e-3
optimizer = torch.optim.SGD(neuron.parameters(), lr=learning_rate)
for t in range(30):
    # foward_pass() -- применение нейросети (этот шаг ещё называют inference)
    y_pred = neuron(X)

    # выведем loss
    loss = loss_fn(y_pred, y)
    print('{} {}'.format(t, loss.data))

    # ВСЕГДА обнуляйте градиенты перед backard_pass'ом
    optimizer.zero_grad()

    # backward_pass() -- вычисляем градиенты loss'а по параметрам (весам) нейросети
    loss.backward()

    # А вот тут уже обновляем
    optimizer.step()

proba_pred = neuron(X)
y_pred = proba_pred > 0.5
y_pred = y_pred.data.numpy().reshape(-1)
print(y_pred.sum(), (y_pred == target).mean())

# код для генерации взят из Стэнфордсокго курса:
# http://cs231n.github.io/neural-networks-case-study/#linear
N = 30
D = 2
K = 3
X = np.zeros((N * K, D))
y = np.zeros(N * K, dtype='uint8')

for j in range(K):
    ix = range(N * j,N * (j + 1))
    r = np.linspace(0.0, 1, N)
    t = np.linspace(j * 4, (j + 1) * 4,N) + np.random.randn(N) * 0.2 # theta
    X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
    y[ix] = j

X = torch.autograd.Variable(torch.FloatTensor(X))
y = torch.autograd.Variable(torch.LongTensor(y.astype(np.int64)))
print(X.data.shape, y.data.shape)

# пример взят из официального туториала:
# https://pytorch.org/tutorials/beginner/pytorch_with_examples.html
N, D_in, D_out = 64, 2, 3

neuron = torch.nn.Sequential(
    torch.nn.Linear(D_in, D_out),
)

loss_fn = torch.nn.CrossEntropyLoss(size_average=False)
print(loss_fn.reduction)

learning_rate = 1e-4
optimizer = torch.optim.SGD(neuron.parameters(), lr=learning_rate)
for t in range(20):
    # forward
    y_pred = neuron(X)

    # loss
    loss = loss_fn(y_pred, y)
    print('{} {}'.format(t, loss.data))

    # ЗАНУЛЯЕМ!
    optimizer.zero_grad()

    # backward
    loss.backward()

    # ОБНОВЛЯЕМ!
    optimizer.step()

# Обратно в Numpy для отрисовки
X = X.data.numpy()
y = y.data.numpy()

h = 0.1
x_min, x_max = X[:, 0].min() - 1, X[:, 0].max() + 1
y_min, y_max = X[:, 1].min() - 1, X[:, 1].max() + 1

xx, yy = np.meshgrid(np.arange(x_min, x_max, h),
                     np.arange(y_min, y_max, h))
grid_tensor = torch.FloatTensor(np.c_[xx.ravel(), yy.ravel()])

Z = neuron(torch.autograd.Variable(grid_tensor))
Z = Z.data.numpy()
Z = np.argmax(Z, axis=1)
Z = Z.reshape(xx.shape)
print(grid_tensor.shape, Z.shape, np.bincount(Z.ravel(), minlength=3))
