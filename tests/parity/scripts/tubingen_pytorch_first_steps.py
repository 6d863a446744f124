# Source: University of Tübingen, Deep Learning (winter 2025/26), assignment 6 "First steps in PyTorch"
# (exercises A-J: creating, indexing and typing tensors, unsqueeze/repeat/cat, matmul, reductions), as a
# student solved it: https://github.com/ahmetalperengungor/Tubingen_University_Homeworks
#   Deep_Learning_Winter25/HW6/Pytorch_first_steps.ipynb
# Shrunk: nothing (it is small); the matplotlib bar plot of J) is left out, its data printed instead;
# a few extra prints of dtypes and of the result of the int-tensor assignments.
import numpy as np
import torch

# A) Creating Tensor
x = torch.tensor([[0, 5, 2, 7], [4, 9, 3, 6]], dtype=torch.double)
y = torch.rand(2, 4, dtype=torch.double)
print("x:", x)
print("y:", y)

# B) Manipulating Tensors
x[:, -1] = y[:, -1]
x[1, 0] = y[1, 0]
print("x:", x)
print("y:", y)

# C) Similarity to NumPy
x_np = np.array([[0, 5, 2, 7], [4, 9, 3, 6]], dtype=np.float64)
y_np = np.random.rand(2, 4)

x_np[:, -1] = y_np[:, -1]
x_np[1, 0] = y_np[1, 0]

print("x_np:", x_np)
print("y_np:", y_np)

# D) Properties of tensors and arrays
print("x class:", x.__class__)
print("x shape:", x.shape)
print("x dtype:", x.dtype)
print("y class:", y.__class__)
print("y shape:", y.shape)
print("y dtype:", y.dtype)
print("x_np class:", x_np.__class__)
print("x_np shape:", x_np.shape)
print("x_np dtype:", x_np.dtype)
print("y_np class:", y_np.__class__)
print("y_np shape:", y_np.shape)
print("y_np dtype:", y_np.dtype)

# E) Specifying properties
x = torch.tensor([[0, 5, 2, 7], [4, 9, 3, 6]], dtype=torch.int)
y = torch.rand(2, 4, dtype=torch.float)

x[:, -1] = y[:, -1].int()
x[1, 0] = y[1, 0].int()

print("x:", x)
print("y:", y)
print("x dtype:", x.dtype, "y dtype:", y.dtype)

# assigning floats into an int tensor without .int() truncates them too
x2 = torch.tensor([[0, 5, 2, 7], [4, 9, 3, 6]], dtype=torch.int)
x2[:, -1] = y[:, -1] * 10
x2[0, 0] = 3.7
print("x2:", x2, x2.dtype)

x_np = np.array([[0, 5, 2, 7], [4, 9, 3, 6]], dtype=float)
y_np = np.random.rand(2, 4).astype(float)
x_np[:, -1] = y_np[:, -1]
x_np[1, 0] = y_np[1, 0]

print("x_np:", x_np)
print("y_np:", y_np)

# F) Typical tensor operations for deep neural networks (1/2)
d = torch.tensor([1, 2, 3, 4], dtype=torch.double)
print("Shape d:", d.shape)
d_extended = d.unsqueeze(0)
print("Shape d_extended:", d_extended.shape)
print("d_extended:", d_extended)

# G) Typical tensor operations for deep neural networks (2/2)
e = torch.rand(3, 5, dtype=torch.double)
print("Shape e:", e.shape)
print("e:", e)

d_extended2 = d_extended.repeat(3, 1)
print("Shape d_extended2:", d_extended2.shape)
print("d_extended2:", d_extended2)

ed_merged = torch.cat([d_extended2, e], dim=1)
print("Shape ed_merged:", ed_merged.shape)
print("ed_merged:", ed_merged)

# H) Maths with tensors
a = torch.rand(3, 4)
b = torch.rand(3, 4)
c = torch.rand(1, 4)

print("a shape:", a.shape)
print("b shape:", b.shape)
print("c shape:", c.shape)

result1 = torch.matmul(a, b.T)
print("a x b.T shape:", result1.shape)
print("a x b.T:", result1)

result2 = torch.matmul(b, c.T)
print("b x c.T shape:", result2.shape)
print("b x c.T:", result2)

# result3 = torch.matmul(a.T, c) gives an error since a.T is 4x3 and c is 1x4
try:
    torch.matmul(a.T, c)
except RuntimeError as err:
    print("a.T x c: RuntimeError")

result3 = torch.matmul(a, c.T)
print("a x c.T shape:", result3.shape)
print("a x c.T:", result3)

# I) Typical maths operations for deep neural networks
sq_errors = (a - b) ** 2
print("Squared errors:", sq_errors)

sq_error_per_sample = sq_errors.mean(dim=1)
print("Squared error per sample:", sq_error_per_sample)

sq_error_per_feature = sq_errors.mean(dim=0)
print("Squared error per feature:", sq_error_per_feature)

mse = sq_errors.mean()
print("MSE:", mse)
value_max_sq_error = sq_errors.max()
pos_max_sq_error = sq_errors.argmax()
pos_2d = (pos_max_sq_error // sq_errors.shape[1], pos_max_sq_error % sq_errors.shape[1])

print("Value of max error:", value_max_sq_error.item())
print("Position of max error (flattened):", pos_max_sq_error.item())
print("Position of max error (2D):", pos_2d)

# J) Visualization (the bar plot's data)
print(list(range(len(sq_error_per_feature))), sq_error_per_feature.numpy())
