# Source: Chen Yun (陈云), 《深度学习框架PyTorch：入门与实践》 (2nd ed.), chapter 4 "神经网络工具箱nn"
#   (nn.Module, layers, Sequential/ModuleList, LSTM vs LSTMCell, Embedding, losses, nn.functional,
#   grid_sample, nn.init, optimizer param groups, Module internals, save/load):
#   https://github.com/chenyuntc/pytorch-book  Chapter4/Chapter4.ipynb
# Shrunk/changed: the cells in order, each displayed value printed. The lena.png photo (200x200 grey,
# read with PIL and torchvision's ToTensor) is a random 1x1x200x200 tensor, and the pictures to_pil
# shows are printed as a few numbers. The files are written in a fresh temporary directory, and
# torch.load of the entire pickled net needs weights_only=False in PyTorch 2.x. Section 4.7 (ResNet34
# on one 3x224x224 image) is left out: its 21.8M parameters take 0.3 s to initialize and as long
# to run, over this suite's time budget, and its residual blocks are those other scripts build.
import os
import tempfile

import torch as t
from torch import nn

os.chdir(tempfile.mkdtemp())
print(t.__version__ is not None)


# 4.1 nn.Module
class Linear(nn.Module):  # 继承nn.Module，必须重写构造函数（__init__)和前向传播函数（forward）
    def __init__(self, in_features, out_features):
        super().__init__()  # 等价于nn.Module.__init__(self)，常用super方式
        # nn.Parameter内的参数是网络可学习的参数
        self.w = nn.Parameter(t.randn(in_features, out_features))
        self.b = nn.Parameter(t.randn(out_features))

    def forward(self, x):
        x = x.mm(self.w)  # 矩阵乘法，等价于x.@(self.w)
        return x + self.b.expand_as(x)


layer = Linear(4, 3)
input = t.randn(2, 4)
output = layer(input)
print(output)
for name, parameter in layer.named_parameters():
    print(name, parameter)  # w and b


class Perceptron(nn.Module):
    def __init__(self, in_features, hidden_features, out_features):
        super(Perceptron, self).__init__()
        # 此处的Linear是前面自定义的全连接层
        self.layer1 = Linear(in_features, hidden_features)
        self.layer2 = Linear(hidden_features, out_features)

    def forward(self, x):
        x = self.layer1(x)
        x = t.sigmoid(x)
        return self.layer2(x)


perceptron = Perceptron(3, 4, 1)
for name, param in perceptron.named_parameters():
    print(name, param.size())

# 4.2 常用神经网络层: 卷积层
lena = t.rand(1, 1, 200, 200)  # to_tensor(Image.open('imgs/lena.png')).unsqueeze(0)
print("Input Size:", lena.size())
kernel = t.ones(3, 3) / (-9.)
kernel[1][1] = 1
conv = nn.Conv2d(1, 1, (3, 3), 1, bias=False)
conv.weight.data = kernel.view(1, 1, 3, 3)
out = conv(lena)
print("Output Size:", out.size())
print(out.data.squeeze(0)[0, :2, :4])  # to_pil(out.data.squeeze(0))

# 池化层
input = t.randint(10, (1, 1, 4, 4))
print(input)
pool = nn.AvgPool2d(2, 2)
print(pool(input))
print(list(pool.parameters()))
out = pool(lena)
print(out.shape, out.data.squeeze(0)[0, :2, :4])  # to_pil(out.data.squeeze(0))

# 其他层
input = t.randn(2, 3)
linear = nn.Linear(3, 4)
h = linear(input)
print(h)
bn = nn.BatchNorm1d(4)
bn.weight.data = t.ones(4) * 4
bn.bias.data = t.zeros(4)
bn_out = bn(h)
print(bn_out)
print(bn_out.mean(0), bn_out.std(0, unbiased=False))
dropout = nn.Dropout(0.5)
o = dropout(bn_out)
print(o)

# 4.2.2 激活函数
relu = nn.ReLU(inplace=True)
input = t.randn(2, 3)
print(input)
output = relu(input)
print(output)

# 4.2.3 构建网络
net1 = nn.Sequential()
net1.add_module('conv', nn.Conv2d(3, 3, 3))
net1.add_module('batchnorm', nn.BatchNorm2d(3))
net1.add_module('activation_layer', nn.ReLU())

net2 = nn.Sequential(
        nn.Conv2d(3, 3, 3),
        nn.BatchNorm2d(3),
        nn.ReLU()
        )

from collections import OrderedDict
net3 = nn.Sequential(OrderedDict([
          ('conv1', nn.Conv2d(3, 3, 3)),
          ('bn1', nn.BatchNorm2d(3)),
          ('relu1', nn.ReLU())
        ]))
print('net1:', net1)
print('net2:', net2)
print('net3:', net3)
print(net1.conv, net2[0], net3.conv1)
input = t.rand(1, 3, 4, 4)
output = net1(input)
output = net2(input)
output = net3(input)
output = net3.relu1(net1.batchnorm(net1.conv(input)))
print(output)
modellist = nn.ModuleList([nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)])
input = t.randn(1, 3)
for model in modellist:
    input = model(input)
print(input)
try:  # 下面会报错,因为modellist没有实现forward方法
    output = modellist(input)
except NotImplementedError as error:
    print(type(error).__name__)


class MyModule(nn.Module):
    def __init__(self):
        super(MyModule, self).__init__()
        self.list = [nn.Linear(3, 4), nn.ReLU()]
        self.module_list = nn.ModuleList([nn.Conv2d(3, 3, 3), nn.ReLU()])

    def forward(self):
        pass


model = MyModule()
print(model)
for name, param in model.named_parameters():
    print(name, param.size())

# 4.2.3 循环神经网络层(RNN)
t.manual_seed(2021)
input = t.randn(2, 3, 4).float()
lstm = nn.LSTM(4, 3, 1)
h0 = t.randn(1, 3, 3)
c0 = t.randn(1, 3, 3)
out1, hn = lstm(input, (h0, c0))
print(out1.shape)
t.manual_seed(2021)
input = t.randn(2, 3, 4).float()
lstm = nn.LSTMCell(4, 3)
hx = t.randn(3, 3)
cx = t.randn(3, 3)
out = []
for i_ in input:
    hx, cx = lstm(i_, (hx, cx))
    out.append(hx)
out2 = t.stack(out)
print(out2.shape)
print(out1.allclose(out2))
embedding = nn.Embedding(4, 5)
weight = t.arange(0, 20).view(4, 5).float()
print(nn.Embedding.from_pretrained(weight))
input = t.arange(3, 0, -1).long()
output = embedding(input)
print(output)

# 4.2.4 损失函数
score = t.randn(3, 2)
label = t.Tensor([1, 0, 1]).long()
criterion = nn.CrossEntropyLoss()
loss = criterion(score, label)
print(loss)

# 4.3 nn.functional
input = t.randn(2, 3)
model = nn.Linear(3, 4)
output1 = model(input)
output2 = nn.functional.linear(input, model.weight, model.bias)
print(output1 == output2)
b = nn.functional.relu(input)
b2 = nn.ReLU()(input)
print(b == b2)

from torch.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.pool(F.relu(self.conv1(x)), 2)
        x = F.pool(F.relu(self.conv2(x)), 2)
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


class MyLinear(nn.Module):
    def __init__(self):
        super(MyLinear, self).__init__()
        self.weight = nn.Parameter(t.randn(3, 4))
        self.bias = nn.Parameter(t.zeros(3))

    def forward(self):
        return F.linear(input, weight, bias)


# 4.3.2 采样函数
print(lena.data.squeeze(0)[0, :2, :4])  # to_pil(lena.data.squeeze(0))
w = 400
h_out = t.linspace(-1, 1, w).view(-1, 1).repeat(1, w)
w_out = t.linspace(-1, 1, w).repeat(w, 1)
grid = t.cat((w_out.unsqueeze(2), h_out.unsqueeze(2)), dim=2)
grid = grid.unsqueeze(0)
import torch
from torch.nn import functional as F
import warnings
warnings.filterwarnings("ignore")
out = F.grid_sample(lena, grid=grid, mode='bilinear')
print(out.shape, out.data.squeeze(0)[0, :2, :6], out.mean())  # to_pil(out.data.squeeze(0))

# 4.4 初始化策略
from torch.nn import init
linear = nn.Linear(3, 4)
t.manual_seed(2021)
print(init.xavier_normal_(linear.weight))
import math
t.manual_seed(2021)
std = math.sqrt(2) / math.sqrt(7.)
print(linear.weight.data.normal_(0, std))
net = Net()
for name, params in net.named_parameters():
    if name.find('linear') != -1:
        params[0]
        params[1]
    elif name.find('conv') != -1:
        pass
    elif name.find('norm') != -1:
        pass


# 4.5 优化器
class Perceptron(nn.Module):
    def __init__(self, in_features, hidden_features, out_features):
        super(Perceptron, self).__init__()
        self.layer1 = Linear(in_features, hidden_features)
        self.layer2 = Linear(hidden_features, out_features)

    def forward(self, x):
        x = self.layer1(x)
        x = t.sigmoid(x)
        return self.layer2(x)


net = Perceptron(3, 4, 1)
from torch import optim
optimizer = optim.SGD(params=net.parameters(), lr=1)
optimizer.zero_grad()
input = t.randn(32, 3)
output = net(input)
output.backward(output)  # fake backward
optimizer.step()
print(net.layer2.w.data.view(-1), net.layer2.b.data)
weight_params = [param for name, param in net.named_parameters() if name.endswith('.w')]
bias_params = [param for name, param in net.named_parameters() if name.endswith('.b')]
optimizer = optim.SGD([
                {'params': bias_params},
                {'params': weight_params, 'lr': 1e-2}
            ], lr=1e-5)
print(optimizer)
special_layers = nn.ModuleList([net.layer1])
special_layers_params = list(map(id, special_layers.parameters()))
base_params = [param for param in net.parameters() if id(param) not in special_layers_params]
optimizer = t.optim.SGD([
            {'params': base_params},
            {'params': special_layers.parameters(), 'lr': 0.01}
        ], lr=0.001)
print(optimizer)
old_lr = 0.1
optimizer1 = optim.SGD([
                {'params': bias_params},
                {'params': weight_params, 'lr': old_lr*0.1}
            ], lr=1e-5)
print(optimizer1)
for param_group in optimizer.param_groups:
    param_group['lr'] *= 0.1
print(optimizer)


# 4.6 nn.Module深入分析
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        # 等价与self.register_parameter('param1' ,nn.Parameter(t.randn(3, 3)))
        self.param1 = nn.Parameter(t.rand(3, 3))
        self.submodel1 = nn.Linear(3, 4)

    def forward(self, input):
        x = self.param1.mm(input)
        x = self.submodel1(x)
        return x


net = Net()
print(net)
print(net._modules)
print(net._parameters)
print(net.param1)
for name, param in net.named_parameters():
    print(name, param.size())
for name, submodel in net.named_modules():
    print(name, submodel)
bn = nn.BatchNorm1d(2)
input = t.rand(3, 2)
output = bn(input)
print(bn._buffers)
input = t.arange(0, 12).view(3, 4).float()
model = nn.Dropout()
print(model(input))
model.training = False
print(model(input))
print(net.training, net.submodel1.training)
net.eval()
print(net.training, net.submodel1.training)
print(list(net.named_modules()))
module = nn.Module()
module.param = nn.Parameter(t.ones(2, 2))
print(module._parameters)
submodule1 = nn.Linear(2, 2)
submodule2 = nn.Linear(2, 2)
module_list = [submodule1, submodule2]
module.submodules = module_list
print('_modules: ', module._modules)
print("__dict__['submodules']:", module.__dict__.get('submodules'))
module_list = nn.ModuleList(module_list)
module.submodules = module_list
print('ModuleList is instance of nn.Module: ', isinstance(module_list, nn.Module))
print('_modules: ', module._modules)
print("__dict__['submodules']:", module.__dict__.get('submodules'))
print(getattr(module, 'training'))
module.attr1 = 2
print(getattr(module, 'attr1'))
print(getattr(module, 'param'))
t.save(net.state_dict(), 'net.pth')
net2 = Net()
print(net2.load_state_dict(t.load('net.pth')))
t.save(net, 'net_all.pth')
net2 = t.load('net_all.pth', weights_only=False)
print(net2)
print(t.equal(net2.param1, net.param1))
