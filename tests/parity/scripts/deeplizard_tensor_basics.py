# Source: deeplizard, "Neural Network Programming - Deep Learning with PyTorch" (deeplizard.com), part 1
# (tensors): creation options, reshape/squeeze/flatten, element-wise ops and broadcasting,
# argmax and reductions, stack vs cat; as learners typed the lessons:
#   https://github.com/derekhanbaliq/DeepLizard-PyTorch-Tutorial  L8_Neural_Network_Programming.py,
#     L9_tensor_best_options.py, L10_reshaping_operations.py, L11_reshaping_flatten.py,
#     L12_element-wise_operations.py, L13_argmax_and_reduction.py
#   https://github.com/guanguanboy/DeeplizardPytorchSourceCodes  reshape_flatten_squeeze.py, stack_and_concat.py
# Shrunk: nothing to shrink; the lessons' cuda device line dropped (CPU only), the TensorFlow half of
# the stack lesson dropped, and the comparison/element-wise operations and reductions that the
# lessons show in the notebook cells (eq/ge/gt/lt/le, abs/sqrt/neg, sum/prod/std per axis, the image
# batch flatten) added as prints.
import torch
import numpy as np

# --- L8: tensor attributes and creation options
t = torch.Tensor()
print(type(t))
print("t.dtype = {}".format(t.dtype))  # data type
print("t.device = {}".format(t.device))
print("t.layout = {}".format(t.layout))

device = torch.device('cpu')
print("device = {}".format(device))

print("---")
data = np.array([1, 2, 3])
print("type(data) = {}".format(type(data)))

t1 = torch.Tensor(data)
t2 = torch.tensor(data)
t3 = torch.as_tensor(data)
t4 = torch.from_numpy(data)
print("torch.Tensor(data) = {}".format(t1))
print("torch.tensor(data) = {}".format(t2))
print("torch.as_tensor(data) = {}".format(t3))
print("torch.from_numpy(data) = {}".format(t4))
print(t1.dtype)
print(t2.dtype)
print(t3.dtype)
print(t4.dtype)
print(torch.get_default_dtype())

# --- L9: which creation options share memory with the numpy array
print(torch.tensor(np.array([1, 2, 3])))
print(torch.tensor(np.array([1., 2., 3.])))
print(torch.tensor(np.array([1, 2, 3]), dtype=torch.float64))

print("---")
data = np.array([1, 2, 3])
t1 = torch.Tensor(data)
t2 = torch.tensor(data)
t3 = torch.as_tensor(data)
t4 = torch.from_numpy(data)
data[0: 3] = [0, 0, 0]  # change the data
print("torch.Tensor(data) = {}".format(t1))
print("torch.tensor(data) = {}".format(t2))
print("torch.as_tensor(data) = {}".format(t3))
print("torch.from_numpy(data) = {}".format(t4))

print("---")
print("torch.eye(2) = \n{}".format(torch.eye(2)))
print("torch.zeros(2, 2) = \n{}".format(torch.zeros(2, 2)))
print("torch.ones(2, 2) = \n{}".format(torch.ones(2, 2)))
print("torch.rand(2, 2) = \n{}".format(torch.rand(2, 2)))

t5 = torch.tensor(np.array([1, 2, 3]), dtype=torch.float64)
print(type(t5))
print(t5)

# --- L10: reshaping
t = torch.tensor([
    [1, 1, 1, 1],
    [2, 2, 2, 2],
    [3, 3, 3, 3]
], dtype=torch.float32)
print(t)

print(t.size())  # torch.Size([3, 4])
print(t.shape)  # torch.Size([3, 4])
print(len(t.shape))

print(torch.tensor(t.shape).prod())  # shape -> product
print(t.numel())

print("---")
print(t.reshape([2, 6]))
print(t.reshape([2, 6]).shape)
print(t.reshape(4, 3))
print(t.reshape(12, 1))
print(t.reshape([1, 12]).squeeze())  # dimension becomes 1
print(t.reshape([1, 12]).squeeze().shape)
print(t.reshape([1, 12]).squeeze().unsqueeze(dim=0))
print(t.reshape([1, 12]).squeeze().unsqueeze(dim=0).shape)
print(t.reshape(1, 12).squeeze().unsqueeze(dim=1))
print(len(t.reshape(1, 12).squeeze().unsqueeze(dim=1).shape))

print("---")
print(t.reshape(2, 2, 3))


def flatten(t):  # reshape & squeeze
    t = t.reshape(1, -1)
    t = t.squeeze()
    return t


print(flatten(t))
print(t.reshape([1, 12]))  # only reshape
print(t.view(2, 6))
print(t.flatten())

t1 = torch.tensor([
    [1, 2],
    [3, 4]
])
t2 = torch.tensor([
    [5, 6],
    [7, 8]
])
print(torch.cat((t1, t2), dim=0))
print(torch.cat((t1, t2), dim=1))
print(torch.cat((t1, t2), dim=1).shape)

# --- L11: flatten an image batch for a CNN
t1 = torch.tensor([
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1],
    [1, 1, 1, 1]
])
t2 = torch.tensor([
    [2, 2, 2, 2],
    [2, 2, 2, 2],
    [2, 2, 2, 2],
    [2, 2, 2, 2]
])
t3 = torch.tensor([
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [3, 3, 3, 3]
])

t = torch.stack((t1, t2, t3))  # concatenate
print(t.shape)
print(t)

print("-" * 50)
t = t.reshape(3, 1, 4, 4)
print(t)
print(t[0])
print(t[0][0])
print(t[0][0][0])
print(t[0][0][0][0])

print("-" * 50)
print(t.reshape(1, -1)[0])
print(t.reshape(-1))
print(t.view(t.numel()))
print(t.flatten())
print(t.flatten(start_dim=1).shape)  # 3 x (1 x 4 x 4)
print(t.flatten(start_dim=1))

r = torch.ones(1, 2, 2)
g = torch.ones(1, 2, 2) + 1
b = torch.ones(1, 2, 2) + 2
img = torch.cat((r, g, b), dim=0)
print(img.shape)
print(img)
print(img.flatten(start_dim=0))
print(img.flatten(start_dim=1))

# --- L12: element-wise operations and broadcasting
t1 = torch.tensor([
    [1, 2],
    [3, 4]
], dtype=torch.float32)

t2 = torch.tensor([
    [9, 8],
    [7, 6]
], dtype=torch.float32)

print(t1.shape)

print(t1 + t2)
print(t1 + 2)
print(t1 - 2)
print(t1 * 2)
print(t1 / 2)
print(t1.add(2))
print(t1.sub(2))
print(t1.mul(2))
print(t1.div(2))
print(t1[0])
print(t1[0][0])
print(np.broadcast_to(2, t1.shape))
t = t1 + torch.tensor(
    np.broadcast_to(2, t1.shape)
    , dtype=torch.float32
)
print(t)

print('*' * 50)

t1 = torch.tensor([
    [1, 1],
    [1, 1]
], dtype=torch.float32)
print(t1.shape)

t2 = torch.tensor([2, 4], dtype=torch.float32)
print("t2 =", t2.shape)
print(t1 + t2)

t2 = np.broadcast_to(t2.numpy(), t1.shape)
print("t2_new =", t2.shape)
print(t2)

print(t1 + t2)

# comparison operations
t = torch.tensor([
    [0, 5, 0],
    [6, 0, 7],
    [0, 8, 0]
], dtype=torch.float32)
print(t.eq(0))
print(t.ge(0))
print(t.gt(0))
print(t.lt(0))
print(t.le(7))
print(t <= torch.tensor(
    np.broadcast_to(7, t.shape)
    , dtype=torch.float32
))
print(t <= torch.tensor([
    [7, 7, 7],
    [7, 7, 7],
    [7, 7, 7]
], dtype=torch.float32))
print(t.abs())
print(t.sqrt())
print(t.neg())
print(t.neg().abs())

# --- L13: argmax and reductions
t = torch.tensor([
    [0, 1, 0],
    [2, 0, 2],
    [0, 3, 0]
], dtype=torch.float32)
print(t.sum())
print(t.numel())
print(t.sum().numel())
print(t.sum().numel() < t.numel())
print(t.sum())
print(t.prod())
print(t.mean())
print(t.std())

t = torch.tensor([
    [1, 1, 1, 1],
    [2, 2, 2, 2],
    [3, 3, 3, 3]
], dtype=torch.float32)
print(t.sum(dim=0))
print(t.sum(dim=1))
print(t[0])
print(t[0] + t[1] + t[2])
print(t[0].sum())
print(t[1].sum())
print(t[2].sum())

t = torch.tensor([
    [1, 0, 0, 2],
    [0, 3, 3, 0],
    [4, 0, 0, 5]
], dtype=torch.float32)

print(t.max())
print(t.argmax())
print(t.flatten())
print("---")
print(t.max(dim=0))  # squeeze row and find the max
print(t.argmax(dim=0))
print(t.max(dim=1))
print(t.argmax(dim=1))
print(t.max(dim=0).values)
print(t.max(dim=0)[1])
print("---")

t = torch.tensor([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9]
], dtype=torch.float32)
print(t.mean())
print(t.mean().item())  # item() get the value
print(t.mean(dim=0).tolist())
print(t.mean(dim=0).numpy())

# --- stack vs concat
t1 = torch.tensor([1, 1, 1])
print(t1.unsqueeze(dim=0))
print(t1.unsqueeze(dim=1))
print(t1.shape)
print(t1.unsqueeze(dim=0).shape)  # torch.Size([1, 3])
print(t1.unsqueeze(dim=1).shape)  # torch.Size([3, 1])

t1 = torch.tensor([1, 1, 1])
t2 = torch.tensor([2, 2, 2])
t3 = torch.tensor([3, 3, 3])

print(torch.cat(
    (t1, t2, t3),
    dim=0
))
print(torch.stack(
    (t1, t2, t3),
    dim=0
))
print(torch.cat(
    (t1.unsqueeze(0),
     t2.unsqueeze(0),
     t3.unsqueeze(0)),
    dim=0
))
print(torch.stack(
    (t1, t2, t3),
    dim=1
))
print(torch.cat(
    (
        t1.unsqueeze(1),
        t2.unsqueeze(1),
        t3.unsqueeze(1)
    ),
    dim=1
))

# the lesson's error: cat along an axis that 1-D tensors do not have
try:
    torch.cat((t1, t2, t3), dim=1)
except IndexError as e:
    print(type(e).__name__, e)

# numpy: stack vs concatenate, and back into torch
t1 = np.array([1, 1, 1])
t2 = np.array([2, 2, 2])
t3 = np.array([3, 3, 3])
print(np.stack((t1, t2, t3), axis=1))
print(torch.tensor(np.concatenate((t1, t2, t3), axis=0)))

# joining image batches: three single images into a batch, and two batches together
t1 = torch.zeros(3, 28, 28)
t2 = torch.zeros(3, 28, 28)
t3 = torch.zeros(3, 28, 28)
print(torch.stack((t1, t2, t3), dim=0).shape)
t1 = torch.zeros(1, 3, 28, 28)
t2 = torch.zeros(1, 3, 28, 28)
t3 = torch.zeros(1, 3, 28, 28)
print(torch.cat((t1, t2, t3), dim=0).shape)
batch = torch.zeros(3, 3, 28, 28)
t1 = torch.zeros(3, 28, 28)
t2 = torch.zeros(3, 28, 28)
t3 = torch.zeros(3, 28, 28)
print(torch.cat(
    (
        batch,
        torch.stack(
            (t1, t2, t3), dim=0
        )
    ), dim=0
).shape)
