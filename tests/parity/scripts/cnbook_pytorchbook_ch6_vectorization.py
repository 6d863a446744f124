# Source: Chen Yun (陈云), 《深度学习框架PyTorch：入门与实践》 (2nd ed.), chapter 6 "向量化" (vectorization:
#   broadcasting, strides, basic/advanced/boolean indexing, convolution by integer-array indexing, einsum,
#   box IoU, RoI Align, inverse unique):
#   https://github.com/chenyuntc/pytorch-book  Chapter6/chapter6.ipynb (and Chapter6/Chapter6.md for the
#   img2col Conv_base cell and the inputs of the Conv cell)
# Shrunk/changed: the cells in order, each displayed value printed. %timeit prints whether the loop's sum
# equals x + y instead of timings. Conv is called with a 0-dim tensor stride, as the book's Conv_base
# example passes it (Conv's own `(Hin - K) / stride).long()` fails on a Python float otherwise);
# Conv_base reads the global `filter` (the book's slip for its `filters` argument), so filter is set
# first. The images read with PIL (input.png, ROI.png) are random tensors: a 12x15x3 "image" for the
# pooling by convolution, a 3x95x108 one with the eight boxes divided by 10 and n=5 (not 50) for RoI
# Align, the pooled pixels printed instead of shown. The einops cells are left out (einops is not a
# dependency here).
import torch as t


def for_loop_add(x, y):
    result = []
    for i, j in zip(x, y):
        result.append(i + j)
    return t.tensor(result)


x = t.zeros(100)
y = t.ones(100)
print(t.equal(for_loop_add(x, y), x + y))  # %timeit -n 100 ...

# 6.2 广播法则
a = t.arange(3).view(1, 3)
print("原始储存占用：" + str(a.storage().size()))
b = a.expand(3, 3)
print("expand储存占用：" + str(b.storage().size()))
c = a.repeat(3, 3)
print("repeat储存占用：" + str(c.storage().size()))
a = t.ones(3, 2)
b = t.zeros(2, 3, 1)
print((a + b).shape)
print(a[None].expand(2, 3, 2) + b.expand(2, 3, 2))

# 6.3 索引操作
a = t.arange(6).view(3, 2)
b = a.reshape(2, 3)
c = a.transpose(1, 0)
d = a[:2, 1]
print(a.storage().data_ptr() == b.storage().data_ptr() == c.storage().data_ptr() == d.storage().data_ptr())
print(a.size(), a.storage_offset(), a.stride())
print(b.size(), b.storage_offset(), b.stride())
print(c.size(), c.storage_offset(), c.stride())
print(d.size(), d.storage_offset(), d.stride())
a = t.arange(12).view(3, 4)
print(a, a.size(), a.storage_offset(), a.stride())
a = t.rand(2, 3, 4, 5)
print(a.stride())

# 6.3.2 基本索引
a = t.arange(1, 13).view(3, 4)
print(a)
print(a[1, 2])
print(a[1])
a = t.arange(10)
print(a[1:8:2])
print(a[-5:-1:2], a[(10-5):(10-1):2])
a_numpy = a.numpy()[8:2:-3]
a_tensor = t.flip(a[5:9:3], [0])
a_tensor_2 = a[t.arange(8, 2, -3)]
print(a_numpy, a_tensor, a_tensor_2)
a = t.rand(3, 224, 224)
print(a[:, 0:224:4, :].shape)
print(a[:, ::4].shape)
a = t.arange(12).view(2, 3, 2)
print(a[1:2])
a_int = a[:, 1]
a_slice = a[:, 1:2]
print(a_int.shape, a_slice.shape)
print(a[1:2, ...])
print(a[1, ..., 0])

# None索引
a = t.rand(2, 3, 4, 5)
print(a.unsqueeze(0).shape)
print(a[None, ...].shape)
b = a.unsqueeze(1).unsqueeze(3).unsqueeze(5)
print(b.shape)
print(a[:, None, :, None, :, None, :].shape)
a = t.arange(16 * 256).view(16, 256)
a1 = a.unsqueeze(1)
a_T = a1.transpose(2, 1)
a_matrix = a_T @ a1
print(a_matrix.shape)
b = a[:, :, None] * a[:, None, :]
c = a[:, None, :] * a[:, :, None]
print(b.shape, c.shape)
assert t.equal(b, c)
assert t.equal(a_matrix, b)

# 6.3.3 高级索引
a = t.arange(12).view(3, 4)
b = a[1:, None]
print(a.storage().data_ptr() == b.storage().data_ptr())
print(a.storage_offset() == b.storage_offset())
print(a.stride() == b.stride())
a = t.arange(12).view(2, 2, 3)
print(a[0, 1].shape)
print(a[[0, 1]].shape)
print(a[t.tensor([0, 1])].shape)
print(a[([0, 1], 1)].shape)
print(a[[0, None]].shape)

# Integer Array Indexing
a = t.arange(12).view(3, 4)
print(a)
rows = t.tensor([1, 2])
cols = t.tensor([0, 3])
print(a[rows, cols])
print(a[[0, 1, 2], [0, 1, 2]])
idx1 = t.tensor([[0, 0], [-1, -1]])
idx2 = t.tensor([[0, -1], [0, -1]])
print(a[idx1, idx2])
rows = t.tensor([[1, 2], [0, 1]])
cols = t.tensor([[3, 1], [2, 2]])
print(a[rows, cols])
print(a[rows.view(-1), cols.view(-1)].view(2, 2))
rows = t.tensor([1, 2])[None, :]
cols = t.tensor([0, 3, 1])[:, None]
print(a[rows, cols])

# 基本索引和高级索引的结合
a = t.arange(120).view(5, 4, 3, 2)
idx1 = t.tensor([[1, 0]])
idx2 = t.tensor([[0, 2]])
idx3 = t.tensor([[0, 1]])
print(a[idx1, :, idx2, idx3].shape)
print(a[:, idx1, idx2, idx3].shape)
print(a[0:5:2, idx1, :, idx3].shape)
print(a[0:5:2, :, idx3].shape)
print(a[0:5:2, idx1].shape)
print(a[idx1, None, idx3].shape)
print(a[idx1, ..., idx3].shape)
print(a[2, :, idx3].shape)
a = t.arange(720 * 7).reshape(7, 6, 5, 4, 3, 2)
idx1 = t.tensor([[1, 0]])
idx2 = t.tensor([[0, 1]])
print(a[:, idx1, None, :2, ..., idx2, 0].shape)

# Boolean Array Indexing
a = t.arange(12).view(3, 4)
idx_bool = t.rand(3, 4) > 0.5
print(idx_bool)
print(a[idx_bool])
a = t.tensor([[1, -3, 2], [2, 9, -1], [-8, 4, 1]])
for i in range(a.shape[0]):
    for j in range(a.shape[1]):
        if a[i, j] > 0:
            a[i, j] *= 2
print(a)
a = t.tensor([[1, -3, 2], [2, 9, -1], [-8, 4, 1]])
a[a > 0] *= 2
print(a)
a = t.tensor([[1, -3, 2], [2, 9, -1], [-8, 4, 1]])
row_sum = a.sum(-1)
print(a[row_sum < 3, :])
a = t.arange(12).view(3, 4)
mask_idx = ((a % 2) == 0)
print(a[mask_idx])
int_idx = mask_idx.nonzero(as_tuple=True)
print(int_idx)
print(a[int_idx])
mask_idx = t.tensor([True, False, True])
print(a[mask_idx])
print(a[mask_idx, :2])
col_idx = t.tensor([1, 3])[:, None]
print(a[mask_idx, col_idx])
a = t.arange(120).view(2, 3, 4, 5)
mask_idx = t.randn(2, 3) > 0
print(mask_idx)
print(a[mask_idx].shape)
a = t.arange(120).view(2, 3, 4, 5)
mask_idx = t.tensor([[False, True, False, False],
                     [False, True, True, False],
                     [True, False, True, False]])
print(a[:, mask_idx].shape)
idx1 = [0, 1, 0, 0, 0]
idx2 = [1, 2, 3, 0, 0]
print(a[idx1, mask_idx, idx2])
mask2int0, mask2int1 = mask_idx.nonzero(as_tuple=True)
print(a[idx1, mask2int0, mask2int1, idx2])

# 小试牛刀：用高级索引实现卷积 (Chapter6.md: img2col with for loops first)
import torch
import torch.nn as nn


def Conv_base(img, filters, stride, padding):
    '''
    img: 输入图像 channel×height×width
    filters: 卷积核 input_channel×output_channel×height×width
    stride: 卷积核的步长
    padding: 边缘填充的大小
    '''
    Cin, Hin, Win = img.shape
    _, Cout, K, _ = filter.shape

    # 计算卷积输出的大小
    Hout = ((Hin + 2 * padding - K) / stride).long() + 1
    Wout = ((Win + 2 * padding - K) / stride).long() + 1

    # 首先构建一个输出的样子
    col = torch.zeros(Cin, K, K, Hout, Wout)
    # 通过padding的值将imgs进行扩充
    imgs = nn.ZeroPad2d(padding.item())(img)
    for h in range(Hout):
        for w in range(Wout):
            h1 = int(h * stride.item())
            w1 = int(w * stride.item())
            col[..., h, w] = imgs[:, h1:h1+K, w1:w1+K]
    col = col.view(Cin*K*K, Hout*Wout)
    # 将卷积核变形
    filters = filters.transpose(1, 0).view(Cout, Cin*K*K)
    out_img = (filters @ col).view(Cout, Hout, Wout)
    return out_img


img = t.arange(36).view(1, 6, 6)
filters = t.ones(1, 1, 3, 3) / 9
filter = filters
stride, padding = t.tensor(1.), t.tensor(0)
output = Conv_base(img, filters, stride, padding)
print("进行卷积操作的图像为：\n", img[0])
print("卷积核为：\n", filters[0][0])
print("卷积后的结果为：\n", output)

# 定义输入图像的参数
Cin, Hin, Win = 1, 6, 6
img = t.arange(Cin*Hin*Win).view(Cin, Hin, Win).float()
# 定义卷积核的大小和输出通道数
K, Cout, stride = 3, 1, t.tensor(1)
filter = t.ones((Cin, Cout, K, K)).float() / (Cin * K * K)


def Conv(img, filter, stride=1, padding=0):
    '''
    img: 形状为 channel_in×height×width
    filter:形状为 channel_in×channel_out×kernel×kernel
    '''
    Cin, Hin, Win = img.shape
    Cout, K = filter.shape[1], filter.shape[2]
    # 计算卷积输出图像的参数，默认stride=1，padding=0
    Hout = ((Hin + 2 * padding - K) / stride).long() + 1
    Wout = ((Win + 2 * padding - K) / stride).long() + 1

    # 卷积核下标的索引
    K1 = t.arange(-(K//2), K//2+1)
    idx11, idx12 = t.meshgrid(K1, K1)
    # 输出Tensor下标索引
    H = t.linspace(K//2, K//2+stride*(Hout-1), Hout).long()
    W = t.linspace(K//2, K//2+stride*(Wout-1), Wout).long()
    idx21, idx22 = t.meshgrid(H, W)
    # 两种索引的组合形式
    idx1 = idx11[:, :, None, None] + idx21[None, None, :, :]
    idx2 = idx12[:, :, None, None] + idx22[None, None, :, :]

    # 改变filter的形状，便于接下来的矩阵相乘
    filter = filter.transpose(0, 1).reshape(Cout, Cin*K*K)
    # 输入图像经过整数数组索引后改变成适合矩阵乘法的形状
    img = img[:, idx1, idx2].reshape(Cin*K*K, Hout*Wout)
    # 矩阵相乘得到卷积后的结果
    res = (filter @ img).reshape(Cout, Hout, Wout)
    return res


print(img)
print(Conv(img, filter, stride))

import numpy as np
img = t.randint(0, 256, (12, 15, 3)).numpy().astype(np.uint8)  # Image.open('./imgs/input.png')
img = t.tensor(np.array(img)).float()
# 将img的形状从h×w×c转化为c×h×w
img = img.transpose(0, 2).transpose(1, 2)
Cout, K, Cin = 3, 3, 3
filter_pool = t.zeros(Cin, Cout, K, K)
# 初始化卷积核
filter_pool[t.arange(Cin), t.arange(Cin), :, :] = 1./K/K
# 利用卷积去模拟池化，将步长设置为卷积核的大小即可
out = Conv(img, filter_pool, stride=t.tensor(K))
# 将输出结果转换为h×w×c的形状，用于显示
out = out.transpose(1, 0).transpose(1, 2).long()
print(np.array(out, dtype=np.uint8))  # Image.fromarray(...)

# 6.3.3 einsum
a = t.arange(6).view(2, 3)
b = t.einsum('ij->ji', a)
print(a)
print(b)
a = t.arange(36).view(3, 4, 3)
b = t.einsum('ijk->', a)
print(b)
a = t.arange(36).view(3, 4, 3)
b = t.arange(24).view(4, 3, 2)
c = t.einsum('ijk,jim->km', a, b)
print(c)
a = t.arange(6).view(2, 3)
b = t.arange(3)
print(t.einsum('ij,j->ij', a, b))
a = t.arange(6).view(2, 3)
b = t.arange(6).view(3, 2)
print(t.einsum('ij,ij->', a, a))
print(t.einsum('ik,kj->ij', a, b))

# 6.4.1 Box_IoU
Lx1, Ly1, Rx1, Ry1 = 0, 3, 3, 1
Lx2, Ly2, Rx2, Ry2 = 2, 2, 5, 0
area_reg = abs(Lx1 - Rx1) * abs(Ly1 - Ry1)
area_gt = abs(Lx2 - Rx2) * abs(Ly2 - Ry2)
inter = min(
    abs(Lx1 - Rx2) * abs(Ly1 - Ry2),
    abs(Lx2 - Rx1) * abs(Ly2 - Ry1)
)
IoU = inter / (area_reg + area_gt - inter)
print(IoU)
Reg = t.tensor([[0, 3, 3, 1], [1, 4, 3, 0], [1, 2, 5, 0], [-1, 2, 4, 0]])
GT = t.tensor([2, 2, 5, 0])
dist = (Reg - GT.reshape(1, 4)[:, [2, 3, 0, 1]]).abs()
inter = t.min(dist[:, [0, 2]] * dist[:, [1, 3]], dim=1)[0]
Reg_edge = (Reg[:, [0, 1]] - Reg[:, [2, 3]]).abs()
area_reg = Reg_edge[:, 0] * Reg_edge[:, 1]
area_gt = (GT[0] - GT[2]).abs() * (GT[1] - GT[3]).abs()
IoU = inter.float() / (area_reg + area_gt - inter)
print(IoU)


# 6.4.2 RoI Align
def RoIAlign(BBoxes, feature_map, n):
    N = BBoxes.shape[0]  # BBox的个数
    C = feature_map.shape[0]
    BBoxes = BBoxes.float()
    feature_map = feature_map.float()
    # 获取BBox边上等分点的坐标
    Xs = BBoxes[:, [0]] + t.arange(n+1).float() / n * (BBoxes[:, [2]] - BBoxes[:, [0]])
    Ys = BBoxes[:, [1]] + t.arange(n+1).float() / n * (BBoxes[:, [3]] - BBoxes[:, [1]])

    bins = t.linspace(0, n*n-1, n*n)
    idx_x, idx_y = (bins // n).long(), (bins % n).long()

    # 获取每个进行pooling的bin的中心的坐标
    x = Xs[:, idx_x] + (Xs[:, [1]] - Xs[:, [0]]) / 2
    y = Ys[:, idx_y] + (Ys[:, [1]] - Ys[:, [0]]) / 2
    x_floor = x.floor().long().unsqueeze(-1)
    y_floor = y.floor().long().unsqueeze(-1)

    # 获取最近四个点的相对坐标，左上(0,0)，左下(1,0)，右下(1,1)，右上(0,1)
    corner_x = t.tensor([0, 1, 1, 0])
    corner_y = t.tensor([0, 0, 1, 1])
    idx_feature_x, idx_feature_y = x_floor + corner_x, y_floor + corner_y
    # 获取feature map中的实际值
    points = feature_map[:, idx_feature_x, idx_feature_y]

    # 利用双线性插值法计算权重ratio
    ratio_x = (x - x.floor()).unsqueeze(-1)
    ratio_y = (y - y.floor()).unsqueeze(-1)
    index1 = corner_x[None, None, :].float()
    index2 = corner_y[None, None, :].float()
    ratio = t.abs(index1-ratio_x) * t.abs(index2-ratio_y)

    # 计算最终pooling的结果
    res = t.einsum('cnkp, nkp->cnkp', points, ratio)
    roialign = t.einsum('cnkp->nck', res).reshape(N, C, n, n)
    return roialign


BBoxes = t.tensor([[50, 40, 100, 120], [30, 40, 90, 100]])
feature_map = t.arange(40000).view(1, 200, 200)
print(RoIAlign(BBoxes, feature_map, n=7).shape)
print(RoIAlign(BBoxes, feature_map, n=7)[1, 0, :2])

img = t.rand(3, 95, 108)  # to_tensor(Image.open('./imgs/ROI.png'))
BBoxes = t.tensor([[90, 150, 280, 320], [88, 540, 280, 690], [88, 915, 280, 1062],
                   [420, 157, 625, 315], [415, 540, 625, 675], [420, 930, 625, 1060],
                   [735, 320, 937, 485], [735, 755, 935, 918]]) // 10
rois = RoIAlign(BBoxes, img, n=5)
print(rois.shape)
print(rois[0])  # show_img(rois[0])
print(rois[3])  # show_img(rois[3])

# 6.4.3 反向Unique
a = t.randint(1, 10, (10, 15, 10, 5))
output, inverse_indices = t.unique(a, return_inverse=True)
a_generate = output[inverse_indices]
print(output, inverse_indices.shape, inverse_indices[0, 0])
print(a_generate.equal(a))
