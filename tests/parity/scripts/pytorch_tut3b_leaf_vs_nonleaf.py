# Source: PyTorch tutorials, "Understanding requires_grad, retain_grad, Leaf, and Non-leaf Tensors"
# by Justin Silver:
#   https://github.com/pytorch/tutorials  beginner_source/understanding_leaf_vs_nonleaf_tutorial.py
# is_leaf, requires_grad, retain_grad()/retains_grad and .grad of leaf and non-leaf tensors around
# an affine layer + ReLU + MSE loss. Not shrunk (it is tiny); the two errors the tutorial shows as
# text (backward of a loss that requires no grad, retain_grad on a tensor that requires no grad) are
# run and their messages printed, and the retains_grad/requires_grad states its graph diagrams show
# are printed (extra prints, marked).
import torch
import torch.nn.functional as F

# tensor setup
x = torch.ones(1, 3)                      # input with shape: (1, 3)
W = torch.ones(3, 2, requires_grad=True)  # weights with shape: (3, 2)
b = torch.ones(1, 2, requires_grad=True)  # bias with shape: (1, 2)
y = torch.ones(1, 2)                      # output with shape: (1, 2)

# forward pass
z = (x @ W) + b                           # pre-activation with shape: (1, 2)
y_pred = F.relu(z)                        # activation with shape: (1, 2)
loss = F.mse_loss(y_pred, y)              # scalar loss

# prints True because new tensors are leafs by convention
print(f"{x.is_leaf=}")

# prints False because tensor is the result of an operation with at
# least one input having requires_grad=True
print(f"{z.is_leaf=}")

# (extra: the graph diagram's attributes of every node)
for name, t in [("x", x), ("W", W), ("b", b), ("z", z), ("y_pred", y_pred), ("y", y), ("loss", loss)]:
    print(name, t.is_leaf, t.requires_grad, t.retains_grad, t.grad_fn is None)

# (extra: the error the tutorial shows when requires_grad is not set)
x_ng = torch.ones(1, 3)
W_ng = torch.ones(3, 2)
b_ng = torch.ones(1, 2)
loss_ng = F.mse_loss(F.relu((x_ng @ W_ng) + b_ng), y)
try:
    loss_ng.backward()
except RuntimeError as e:
    print("RuntimeError:", e)

print(f"{x.requires_grad=}") # prints False because requires_grad=False by default
print(f"{W.requires_grad=}") # prints True because we set requires_grad=True in constructor
print(f"{z.requires_grad=}") # prints True because tensor is a non-leaf node

loss.backward()

print(f"{W.grad=}")
print(f"{b.grad=}")

# prints all None because requires_grad=False
print(f"{x.grad=}")
print(f"{y.grad=}")

print(f"{z.grad=}")

# we have to re-run the forward pass
z = (x @ W) + b
y_pred = F.relu(z)
loss = F.mse_loss(y_pred, y)

# tell PyTorch to store the gradients after backward()
z.retain_grad()
y_pred.retain_grad()
loss.retain_grad()

# have to zero out gradients otherwise they would accumulate
W.grad = None
b.grad = None

# backpropagation
loss.backward()

# print gradients for all tensors that have requires_grad=True
print(f"{W.grad=}")
print(f"{b.grad=}")
print(f"{z.grad=}")
print(f"{y_pred.grad=}")
print(f"{loss.grad=}")

# (extra: the second diagram's retains_grad, and retain_grad() on a leaf: a no-op)
print(f"{z.retains_grad=}", f"{y_pred.retains_grad=}", f"{loss.retains_grad=}", f"{W.retains_grad=}")
W.retain_grad()
print(f"{W.retains_grad=}")

# (extra: retain_grad on a tensor with requires_grad=False throws)
try:
    x.retain_grad()
except RuntimeError as e:
    print("RuntimeError:", e)

# (extra: requires_grad_() on a leaf, as the summary table says)
y.requires_grad_()
print(f"{y.requires_grad=}", f"{y.is_leaf=}")
try:
    z.requires_grad_(False)
except RuntimeError as e:
    print("RuntimeError:", e)
