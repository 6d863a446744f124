# Source: Chen Yun (陈云), 《深度学习框架PyTorch：入门与实践》 (2nd ed.), chapter 3 "Tensor" and autograd:
#   https://github.com/chenyuntc/pytorch-book  Chapter3/chapter3.ipynb
# Shrunk/changed: the notebook's cells in order, each cell's displayed value printed. Uninitialized
# tensors (t.Tensor(2, 3), t.Tensor(b_size), a.new(2, 3)) print their shapes; the id(x.storage())
# comparisons (the ids of temporaries, equal or not by allocator luck) compare storage data_ptr()s,
# and the two data_ptr()s print their difference (addresses differ per run). The CUDA is_leaf cells
# run on the CPU (.cuda(0) left out). The two linear regressions plot every 50 steps: the lines'
# end points are printed instead; 200 steps each instead of 500. PyTorch 2.13 has no named tensors any
# more (randn(..., names=) raises TypeError, Tensor.refine_names/rename/align_to are gone): the
# named-tensor cells print the error's type and which of those names Tensor still has.
import torch as t
print(isinstance(t.__version__, str))

# 3.1.1 Tensor的基本操作
a = t.Tensor(2, 3)
print(a.shape)  # 数值取决于内存空间的状态
b = t.Tensor([[1, 2, 3], [4, 5, 6]])
print(b)
print(b.tolist())
b_size = b.size()
print(b_size)
print(b.numel(), b.nelement())
c = t.Tensor(b_size)
d = t.Tensor((2, 3))
print(c.shape, d)
print(t.Tensor())
print(t.tensor(()))
a = t.tensor([2, 3])
print(a.type())
b = t.Tensor([2, 3])
print(b.type())

import numpy as np
arr = np.ones((2, 3), dtype=np.float64)
a = t.tensor(arr)
print(a)
print(t.ones(2, 3))
input_tensor = t.tensor([[1, 2, 3], [4, 5, 6]])
print(t.ones_like(input_tensor))
print(t.zeros(2, 3))
print(t.eye(2, 3, dtype=t.int))
print(t.arange(1, 6, 2))
print(t.linspace(1, 10, 3))
print(t.randn(2, 3))
print(t.randperm(5))
tensor3 = t.tensor((), dtype=t.int32)
print(tensor3.new_ones((2, 3)))

# 命名张量
import warnings
warnings.filterwarnings("ignore")
try:  # PyTorch 2.13 no longer has named tensors: the cells fail at their first line
    imgs = t.randn(1, 2, 2, 3, names=('N', 'C', 'H', 'W'))
    print(imgs.names)
except TypeError as error:
    print(type(error).__name__)
print([hasattr(t.Tensor, name) for name in ('names', 'refine_names', 'rename', 'align_to')])

# Tensor的类型
a = t.rand(2, 3)
print(a.dtype)
t.set_default_tensor_type('torch.DoubleTensor')
a = t.rand(2, 3)
print(a.dtype)
t.set_default_tensor_type('torch.FloatTensor')
b1 = a.type(t.FloatTensor)
b2 = a.float()
print(a.dtype, b1.dtype, b2.dtype)
print(a.new(2, 3).shape, a.new(2, 3).dtype)

# 索引操作
a = t.randn(3, 4)
print(a)
print("查看第1行结果：", a[0])
print("查看第2列结果：", a[:, 1])
print("查看第2行最后两个元素：", a[1, -2:])
print(a > 0)
print((a > 0).int())
print(a[a > 0])
print(a.masked_select(a > 0))
print(t.where(a > 0, a, t.zeros_like(a)))

a = t.arange(0, 16).view(4, 4)
print(a)
index = t.tensor([[0, 1, 2, 3]])
print(a.gather(0, index))
index = t.tensor([[3, 2, 1, 0]]).t()
print(a.gather(1, index))
index = t.tensor([[0, 1, 2, 3], [3, 2, 1, 0]]).t()
b = a.gather(1, index)
print(b)
c = t.zeros(4, 4).long()
print(c.scatter_(1, index, b))
print(t.Tensor([1.]).item())

# 高级索引
x = t.arange(0, 16).view(2, 2, 4)
print(x)
print(x[[1, 0], [1, 1], [2, 0]])
print(x[[1, 0], [0], [1]])

# 逐元素操作
a = t.arange(0, 6).float().view(2, 3)
print(t.cos(a))
print(a % 3)
print(t.fmod(a, 3))
print(a)
print(t.clamp(a, min=2, max=4))

# 归并操作
b = t.ones(2, 3)
print(b.sum(dim=0, keepdim=True), b.sum(dim=0, keepdim=True).shape)
print(b.sum(dim=0, keepdim=False), b.sum(dim=0, keepdim=False).shape)
a = t.arange(2, 8).view(2, 3)
print(a)
print(a.cumsum(dim=1))

# 比较
a = t.linspace(0, 15, 6).view(2, 3)
b = t.linspace(15, 0, 6).view(2, 3)
print(a > b)
print("a中大于b的元素: ", a[a > b])
print("a中最大的元素: ", t.max(a))
print(t.max(b, dim=1))
print(t.max(a, b))

# 线性代数
a = t.linspace(0, 15, 6).view(2, 3)
b = a.t()
print(b.is_contiguous())
b = b.contiguous()
print(b.is_contiguous())

# 3.1.2 Tensor与NumPy
a = np.ones([2, 3], dtype=np.float32)
print(a)
b = t.from_numpy(a)
print(b)
a[0, 1] = -1
print(b)
a = np.ones([2, 3])
print(a.dtype)
b = t.Tensor(a)
print(b.dtype)
c = t.from_numpy(a)
print(c)
a[0, 1] = -1
print(b)
print(c)
a_tensor = t.tensor(a)
a_tensor[0, 1] = 1
print(a)

# 3.1.3 Tensor的基本结构
a = t.arange(0, 6).float()
b = a.view(2, 3)
print(b.storage().data_ptr() == a.storage().data_ptr())
a[1] = 100
print(b)
c = a[2:]
print(c.storage().data_ptr() == a.storage().data_ptr())
print(c.data_ptr() - a.data_ptr())  # 相差两个元素，每个元素占4个字节(float)
c[0] = -100
print(a)
d = t.Tensor(c.storage())
d[0] = 6666
print(b)
print(a.storage().data_ptr() == b.storage().data_ptr() == c.storage().data_ptr() == d.storage().data_ptr())
print(a.storage_offset(), c.storage_offset(), d.storage_offset())
e = b[::2, ::2]
print(e.storage().data_ptr() == a.storage().data_ptr())
print(e.is_contiguous())

# 3.2 变形记
tensor = t.arange(24).reshape(2, 3, 4)
print(f"a.shape={tensor.shape}. a.size()={tensor.size()}")
print(f'这是个{tensor.dim()}维Tensor, 总共{tensor.numel()}个元素')
a = t.arange(1, 13)
b = a.view(2, 6)
c = a.reshape(2, 6)
print(id(a) == id(b) == id(c))
print(a.storage().data_ptr() == b.storage().data_ptr() == c.storage().data_ptr())
b = b.t()
print(b.reshape(-1, 4))
img_3xHxW = t.randn(3, 128, 256)
img_3xHW = img_3xHxW.view(3, -1)
print(img_3xHW.mean(dim=1))
alpha_HxW = t.rand(128, 256)
alpha_1xHxW = alpha_HxW[None]
rgba_img = t.cat([alpha_1xHxW, img_3xHxW], dim=0)
print(rgba_img.shape)
alpha_HxW = alpha_1xHxW.view(128, 256)
mask = t.arange(6).view(2, 3)
print(mask)
print(mask.transpose(0, 1))
print(mask.view(3, 2))
img_3xHxW = t.randn(3, 128, 256)
img_HxWx3 = img_3xHxW.permute(1, 2, 0)
print(img_HxWx3.is_contiguous())
print(img_HxWx3.reshape(-1)[:5])
H, W = 4, 5
img_3xHxW = t.randn(3, H, W)
img_3xHW = img_3xHxW.reshape(3, -1)
img_3xWH = img_3xHxW.transpose(1, 2).reshape(3, -1)
img_3xWxH = img_3xWH.reshape(3, W, H)
print(img_3xWxH[0])

# 3.3 小试牛刀：线性回归
device = t.device('cpu')
t.manual_seed(1000)


def get_fake_data(batch_size=8):
    ''' 产生随机数据：y=x*2+3，加上了一些噪声'''
    x = t.rand(batch_size, 1, device=device) * 5
    y = x * 2 + 3 + t.randn(batch_size, 1, device=device)
    return x, y


x, y = get_fake_data(batch_size=16)
print(x.squeeze().cpu().numpy()[:4], y.squeeze().cpu().numpy()[:4])
w = t.rand(1, 1).to(device)
b = t.zeros(1, 1).to(device)
lr = 0.02
for ii in range(200):
    x, y = get_fake_data(batch_size=4)
    y_pred = x.mm(w) + b.expand_as(y)
    loss = 0.5 * (y_pred - y) ** 2
    loss = loss.mean()
    dloss = 1
    dy_pred = dloss * (y_pred - y)
    dw = x.t().mm(dy_pred)
    db = dy_pred.sum()
    w.sub_(lr * dw)
    b.sub_(lr * db)
    if ii % 50 == 0:
        x = t.arange(0, 6).float().view(-1, 1)
        print(x.type(), w.type())
        y = x.mm(w) + b.expand_as(x)
        print(ii, y[0].item(), y[-1].item())  # plt.plot(x, y)
        x2, y2 = get_fake_data(batch_size=32)
print('w: ', w.item(), 'b: ', b.item())

# 3.4 autograd和计算图基础
a = t.randn(3, 4, requires_grad=True)
print(a.requires_grad)
a = t.randn(3, 4)
a.requires_grad = True
b = t.zeros(3, 4).requires_grad_()
c = (a + b).sum()
c.backward()
print(c)
print(a.grad)
print(a.requires_grad, b.requires_grad, c.requires_grad)
print(a.is_leaf, b.is_leaf, c.is_leaf)
a = t.rand(10, requires_grad=True)
print(a.is_leaf)
b = t.rand(10, requires_grad=True)
print(b.is_leaf)
c = t.rand(10, requires_grad=True) + 2
print(c.is_leaf)
d = t.rand(10)
print(d.requires_grad)
print(d.is_leaf)
e = t.rand(10).requires_grad_()
print(e.is_leaf)


def f(x):
    '''计算y'''
    y = x**2 * t.exp(x)
    return y


def gradf(x):
    '''手动求导函数'''
    dx = 2*x*t.exp(x) + x**2*t.exp(x)
    return dx


x = t.randn(3, 4, requires_grad=True)
y = f(x)
print(y)
y.backward(t.ones(y.size()))
print(x.grad)
print(gradf(x))

# 3.4.2 计算图
x = t.ones(1)
b = t.rand(1, requires_grad=True)
w = t.rand(1, requires_grad=True)
y = w * x
z = y + b
print(x.requires_grad, b.requires_grad, w.requires_grad)
print(y.requires_grad)
print(z.grad_fn)
print(z.grad_fn.next_functions)
print(y.grad_fn.next_functions)
print(w.grad_fn, x.grad_fn)
z.backward(retain_graph=True)
print(w.grad)
z.backward()
print(w.grad)


def abs(x):
    if x.data[0] > 0: return x
    else: return -x


x = t.ones(1, requires_grad=True)
y = abs(x)
y.backward()
print(x.grad)


def f(x):
    result = 1
    for ii in x:
        if ii.item() > 0: result = ii*result
    return result


x = t.arange(-2, 4).float().requires_grad_()
y = f(x)
y.backward()
print(x.grad)

x = t.ones(1, requires_grad=True)
w = t.rand(1, requires_grad=True)
y = x * w
print(x.requires_grad, w.requires_grad, y.requires_grad)
with t.no_grad():
    x = t.ones(1)
    w = t.rand(1, requires_grad=True)
    y = x * w
print(x.requires_grad, w.requires_grad, y.requires_grad)
t.set_grad_enabled(False)
x = t.ones(1)
w = t.rand(1, requires_grad=True)
y = x * w
print(x.requires_grad, w.requires_grad, y.requires_grad)
t.set_grad_enabled(True)

a = t.ones(3, 4, requires_grad=True)
b = t.ones(3, 4, requires_grad=True)
c = a * b
print(a.data)
print(a.data.requires_grad)

x = t.ones(3, requires_grad=True)
w = t.rand(3, requires_grad=True)
y = x * w
z = y.sum()
print(x.requires_grad, w.requires_grad, y.requires_grad)
z.backward()
print((x.grad, w.grad, y.grad))
x = t.ones(3, requires_grad=True)
w = t.rand(3, requires_grad=True)
y = x * w
z = y.sum()
print(t.autograd.grad(z, y))


def variable_hook(grad):
    print('y的梯度：', grad)


x = t.ones(3, requires_grad=True)
w = t.rand(3, requires_grad=True)
y = x * w
hook_handle = y.register_hook(variable_hook)
z = y.sum()
z.backward()
hook_handle.remove()

# 3.4.3 扩展autograd
from torch.autograd import Function


class MultiplyAdd(Function):

    @staticmethod
    def forward(ctx, w, x, b):
        ctx.save_for_backward(w, x)
        output = w * x + b
        return output

    @staticmethod
    def backward(ctx, grad_output):
        w, x = ctx.saved_tensors
        grad_w = grad_output * x
        grad_x = grad_output * w
        grad_b = grad_output * 1
        return grad_w, grad_x, grad_b


x = t.ones(1)
w = t.rand(1, requires_grad=True)
b = t.rand(1, requires_grad=True)
z = MultiplyAdd.apply(w, x, b)
z.backward()
print(x.grad, w.grad, b.grad)
x = t.ones(1)
w = t.rand(1, requires_grad=True)
b = t.rand(1, requires_grad=True)
z = MultiplyAdd.apply(w, x, b)
print(z.grad_fn)
print(z.grad_fn.apply(t.ones(1)))

# 3.4.4 小试牛刀: 用autograd实现线性回归
t.manual_seed(1000)


def get_fake_data(batch_size=8):
    ''' 产生随机数据：y = x * 2 + 3，加上了一些噪声'''
    x = t.rand(batch_size, 1) * 5
    y = x * 2 + 3 + t.randn(batch_size, 1)
    return x, y


x, y = get_fake_data()
print(x.squeeze().numpy()[:4], y.squeeze().numpy()[:4])
w = t.rand(1, 1, requires_grad=True)
b = t.zeros(1, 1, requires_grad=True)
losses = np.zeros(200)
lr = 0.005
for ii in range(200):
    x, y = get_fake_data(batch_size=32)
    y_pred = x.mm(w) + b.expand_as(y)
    loss = 0.5 * (y_pred - y) ** 2
    loss = loss.sum()
    losses[ii] = loss.item()
    loss.backward()
    w.data.sub_(lr * w.grad.data)
    b.data.sub_(lr * b.grad.data)
    w.grad.data.zero_()
    b.grad.data.zero_()
    if ii % 50 == 0:
        x = t.arange(0, 6).float().view(-1, 1)
        y = x.mm(w.data) + b.data.expand_as(x)
        print(ii, y[0].item(), y[-1].item())  # plt.plot(x, y)
        x2, y2 = get_fake_data(batch_size=20)
print(w.item(), b.item())
print(losses[::25].round(3))  # plt.plot(losses)
