# Source: Jeff Heaton, "Applications of Deep Neural Networks" (T81-558), module 11 ("Debugging PyTorch"):
# 11.1 checking a model (structure, parameter counts, forward hooks recording shapes, gradient check,
# the single-batch overfit test), 11.2 the critical errors and the messages PyTorch gives for them
# (shape mismatch, float class targets, forgotten zero_grad, backward twice), 11.4 vanishing gradients
# (Sigmoid vs ReLU weight-gradient norms by depth) and clip_grad_norm_.
#   https://github.com/jeffheaton/app_deep_learning  t81_558_class_11_1_debugging_pytorch.ipynb,
#   t81_558_class_11_2_critical_errors.ipynb, t81_558_class_11_4_gradients.ipynb
# Shrunk: the notebooks' code cells in order, as they are (their data is already synthetic); the
# overfit test runs 101 epochs instead of 201; the 11.4 bar chart is dropped (its numbers are printed
# by the notebook's own table above it).
try:
    import google.colab
    COLAB = True
    print("Note: using Google CoLab")
except:
    print("Note: not using Google CoLab")
    COLAB = False

# Make use of a GPU or MPS (Apple) if one is available.  (see module 2.5)
import torch
has_mps = torch.backends.mps.is_built()
device = "mps" if has_mps else "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using device: {device}")

# ---------------------------------------------------------------- 11.1 debugging PyTorch
import torch
import torch.nn as nn

torch.manual_seed(42)

# A small synthetic classification problem: 8 features, 3 classes.
X = torch.randn(256, 8)
y = torch.randint(0, 3, (256,))


class Net(nn.Module):
    def __init__(self, in_features=8, hidden=32, num_classes=3):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, num_classes)
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.act(self.fc1(x))
        x = self.act(self.fc2(x))
        return self.out(x)


model = Net()

# 1. Print the model to confirm its structure matches your intent.
print(model)

# 2. Count parameters -- a quick check that the model is the size you expect.
total = sum(p.numel() for p in model.parameters())
trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"\nTotal parameters:     {total}")
print(f"Trainable parameters: {trainable}")

# 3. Confirm the output shape for a small batch BEFORE training anything.
logits = model(X[:4])
print("\nInput batch shape: ", tuple(X[:4].shape))
print("Output logit shape:", tuple(logits.shape))

# A forward hook observes the input and output of a submodule without
# modifying the forward() method. Here we record each Linear layer's
# output shape as data flows through the network.
activation_shapes = {}


def make_hook(name):
    def hook(module, inputs, output):
        activation_shapes[name] = tuple(output.shape)
    return hook


handles = []
for name, layer in model.named_modules():
    if isinstance(layer, nn.Linear):
        handles.append(layer.register_forward_hook(make_hook(name)))

# Run one forward pass; the hooks fire and record shapes as a side effect.
_ = model(X[:16])

for name, shape in activation_shapes.items():
    print(f"{name:5s} output shape: {shape}")

# Always remove hooks when done so they do not fire on later passes.
for h in handles:
    h.remove()
print("\nhooks removed:", len(handles))

# The single-batch overfit test: a correct setup should drive the loss on
# one small batch to nearly zero. If it cannot, the bug is in the model or
# the training loop -- not in the data or the hyperparameters.
model = Net().to(device)
xb = X[:16].to(device)
yb = y[:16].to(device)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(101):
    optimizer.zero_grad()
    loss = loss_fn(model(xb), yb)
    loss.backward()

    if epoch == 0:
        # After backward(), every parameter should have a gradient. A grad of
        # None means that parameter is disconnected from the loss.
        print("Gradient check after the first backward():")
        for name, p in model.named_parameters():
            status = "None (DISCONNECTED!)" if p.grad is None else f"norm = {p.grad.norm():.4f}"
            print(f"  {name:12s} {status}")
        print()

    optimizer.step()

    if epoch % 25 == 0:
        print(f"epoch {epoch:3d}   loss {loss.item():.6f}")

print("\nA loss near zero confirms the model and training loop can learn.")

# ---------------------------------------------------------------- 11.2 critical errors
import torch
import torch.nn as nn

# A Linear(10, 5) expects each input row to have exactly 10 values.
layer = nn.Linear(10, 5)
wrong_input = torch.randn(4, 8)   # 8 features, not 10

try:
    layer(wrong_input)
except RuntimeError as e:
    print("RuntimeError:", e)

# THE FIX: make the input's last dimension match in_features (10).
right_input = torch.randn(4, 10)
print("\nFixed output shape:", tuple(layer(right_input).shape))

# The model's parameters and its input must be on the same device.
model = nn.Linear(4, 2).to(device)
cpu_input = torch.randn(3, 4)      # created on the CPU by default

try:
    # If `device` is not "cpu", the model is elsewhere and this mismatches.
    output = model(cpu_input)
    print(f"No mismatch on this machine because device == '{device}'.")
    print("Output shape:", tuple(output.shape))
except RuntimeError as e:
    print("RuntimeError:", str(e).splitlines()[0])

# THE FIX: move the input to the same device as the model.
output = model(cpu_input.to(device))
print("Fixed output shape:", tuple(output.shape))

logits = torch.randn(6, 3)   # 6 samples, 3 classes, raw float logits
loss_fn = nn.CrossEntropyLoss()

# Class-index targets must be integers (Long). Here they were left as floats.
float_targets = torch.tensor([0, 2, 1, 1, 0, 2], dtype=torch.float)

try:
    loss_fn(logits, float_targets)
except (RuntimeError, ValueError) as e:
    print(type(e).__name__ + ":", str(e).splitlines()[0])

# THE FIX: class indices must be a LongTensor.
loss = loss_fn(logits, float_targets.long())
print("\nFixed loss:", round(loss.item(), 4))

model = nn.Linear(4, 1)
x = torch.randn(8, 4)
y = torch.randn(8, 1)
loss_fn = nn.MSELoss()

# WITHOUT zero_grad: gradients accumulate across steps and the norm grows.
print("WITHOUT zero_grad (gradients accumulate):")
for step in range(4):
    loss = loss_fn(model(x), y)
    loss.backward()
    print(f"  step {step}: grad norm = {model.weight.grad.norm():.4f}")

# WITH zero_grad: each step's gradient reflects only the current batch.
print("\nWITH zero_grad (correct):")
for step in range(4):
    model.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    print(f"  step {step}: grad norm = {model.weight.grad.norm():.4f}")

x = torch.randn(5, 3, requires_grad=True)
y = (x ** 2).sum()

y.backward()          # first backward: computes gradients, then frees the graph
try:
    y.backward()      # second backward on the same, now-freed graph
except RuntimeError as e:
    print("RuntimeError:", str(e).splitlines()[0])

# THE FIX (when a second backward is truly needed): retain the graph.
z = (x ** 2).sum()
z.backward(retain_graph=True)
z.backward()          # now this works because the graph was kept alive
print("\nSecond backward succeeded after retain_graph=True")

# ---------------------------------------------------------------- 11.4 gradients
import torch
import torch.nn as nn
import numpy as np

torch.manual_seed(0)


def deep_net(activation, depth=12, width=64):
    layers = []
    for _ in range(depth):
        layers += [nn.Linear(width, width), activation()]
    layers += [nn.Linear(width, 1)]
    return nn.Sequential(*layers)


def layer_grad_norms(model):
    x = torch.randn(64, 64)
    target = torch.randn(64, 1)
    model.zero_grad()
    loss = nn.MSELoss()(model(x), target)
    loss.backward()
    # Gradient norm of each Linear layer's weights, input side first.
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


sigmoid_norms = layer_grad_norms(deep_net(nn.Sigmoid))
relu_norms = layer_grad_norms(deep_net(nn.ReLU))

print("Weight-gradient norm by layer (layer 0 = input side):")
print(f"{'layer':>6} {'sigmoid':>12} {'relu':>12}")
for i, (s, r) in enumerate(zip(sigmoid_norms, relu_norms)):
    print(f"{i:>6} {s:>12.2e} {r:>12.2e}")

torch.manual_seed(0)
model = deep_net(nn.ReLU, depth=12, width=64)

# Deliberately inflate the initial weights to provoke instability.
with torch.no_grad():
    for m in model:
        if isinstance(m, nn.Linear):
            m.weight.mul_(2.5)

x = torch.randn(64, 64)
target = torch.randn(64, 1)
model.zero_grad()
loss = nn.MSELoss()(model(x), target)
loss.backward()

# Measure the global gradient norm before clipping.
before = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))

# Clip to a maximum global norm of 1.0. The function returns the PRE-clip norm.
reported = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)

# Measure again after clipping.
after = torch.sqrt(sum(p.grad.pow(2).sum() for p in model.parameters()))

print(f"Global gradient norm before clipping: {before:.2f}")
print(f"Norm reported by clip_grad_norm_:     {reported:.2f}")
print(f"Global gradient norm after clipping:  {after:.2f}")
