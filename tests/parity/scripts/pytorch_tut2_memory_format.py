# Source: Vitaly Fedyunin, "(beta) Channels Last Memory Format in PyTorch" (PyTorch tutorials):
#   https://github.com/pytorch/tutorials  intermediate_source/memory_format_tutorial.py
# Shrunk/adapted: the Memory Format API section runs verbatim (strides, to/contiguous with
# memory_format, is_contiguous, empty(..., memory_format=), clone, empty_like, pointwise ops);
# the CUDA/cuDNN float16 block runs on the CPU in float32 (no .cuda().half()); "Converting existing
# models" uses a small conv net defined here instead of a torchvision resnet, on a random batch.
# The operator check (contains_cl, print_inputs, check_wrapper) is verbatim, but `attribute` wraps
# an explicit list of names instead of every callable in dir(module) (dir() lists differ between
# libraries and the original prints the names it cannot wrap); the AMP timing logs are skipped.
import torch

N, C, H, W = 10, 3, 32, 32
x = torch.empty(N, C, H, W)
print(x.stride())  # Ouputs: (3072, 1024, 32, 1)

# Conversion operator
x = x.to(memory_format=torch.channels_last)
print(x.shape)  # Outputs: (10, 3, 32, 32) as dimensions order preserved
print(x.stride())  # Outputs: (3072, 1, 96, 3)

# Back to contiguous
x = x.to(memory_format=torch.contiguous_format)
print(x.stride())  # Outputs: (3072, 1024, 32, 1)

# Alternative option
x = x.contiguous(memory_format=torch.channels_last)
print(x.stride())  # Ouputs: (3072, 1, 96, 3)

# Format checks
print(x.is_contiguous(memory_format=torch.channels_last))  # Ouputs: True

special_x = torch.empty(4, 1, 4, 4)
print(special_x.is_contiguous(memory_format=torch.channels_last))  # Ouputs: True
print(special_x.is_contiguous(memory_format=torch.contiguous_format))  # Ouputs: True
# (extra) `to` restrides the ambiguous N1HW case, `contiguous` is a no-op there
print(special_x.to(memory_format=torch.channels_last).stride(), special_x.contiguous(memory_format=torch.channels_last).stride())

# Create as channels last
x = torch.empty(N, C, H, W, memory_format=torch.channels_last)
print(x.stride())  # Ouputs: (3072, 1, 96, 3)

# ``clone`` preserves memory format
y = x.clone()
print(y.stride())  # Ouputs: (3072, 1, 96, 3)

# ``to``, ``cuda``, ``float`` ... preserves memory format
if torch.cuda.is_available():
    y = x.cuda()
    print(y.stride())  # Ouputs: (3072, 1, 96, 3)
print(x.double().stride())  # (extra) the CPU counterpart of the block above

# ``empty_like``, ``*_like`` operators preserves memory format
y = torch.empty_like(x)
print(y.stride())  # Ouputs: (3072, 1, 96, 3)

# Pointwise operators preserves memory format
z = x + y
print(z.stride())  # Ouputs: (3072, 1, 96, 3)

# Conv, Batchnorm modules ... (the tutorial: cuDNN >= 7.6, .cuda().half(); here the CPU, float32)
model = torch.nn.Conv2d(8, 4, 3)
model = model.to(memory_format=torch.channels_last)  # Module parameters need to be channels last

input = torch.randint(1, 10, (2, 8, 4, 4), dtype=torch.float32, requires_grad=True)
input = input.to(memory_format=torch.channels_last, dtype=torch.float32)

out = model(input)
print(out.is_contiguous(memory_format=torch.channels_last))  # Ouputs: True
print(model.weight.stride(), out.stride(), out.shape)
print(out.sum().item())
out.sum().backward()
print(input.grad is None, model.weight.grad.shape, model.weight.grad.sum().item())


# Converting existing models (a small conv net in place of the tutorial's "your model")
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(8)
        self.conv2 = torch.nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = torch.nn.BatchNorm2d(16)
        self.fc = torch.nn.Linear(16, 5)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.nn.functional.relu(self.bn1(self.conv1(x))), 2)
        x = torch.nn.functional.relu(self.bn2(self.conv2(x)))
        x = torch.nn.functional.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


model = Net()
input = torch.randn(4, 3, 16, 16)

# Need to be done once, after model initialization (or load)
model = model.to(memory_format=torch.channels_last)  # Replace with your model

# Need to be done for every input
input = input.to(memory_format=torch.channels_last)  # Replace with your input
output = model(input)
print(model.conv1.weight.stride(), model.conv2.weight.stride(), model.fc.weight.stride())
print(output)
reference = Net()
reference.load_state_dict(model.state_dict())
print(torch.allclose(reference(input.contiguous()), output, atol=1e-5))


def contains_cl(args):
    for t in args:
        if isinstance(t, torch.Tensor):
            if t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous():
                return True
        elif isinstance(t, list) or isinstance(t, tuple):
            if contains_cl(list(t)):
                return True
    return False


def print_inputs(args, indent=""):
    for t in args:
        if isinstance(t, torch.Tensor):
            print(indent, t.stride(), t.shape, t.device, t.dtype)
        elif isinstance(t, list) or isinstance(t, tuple):
            print(indent, type(t))
            print_inputs(list(t), indent=indent + "    ")
        else:
            print(indent, t)


def check_wrapper(fn):
    name = fn.__name__

    def check_cl(*args, **kwargs):
        was_cl = contains_cl(args)
        try:
            result = fn(*args, **kwargs)
        except Exception as e:
            print("`{}` inputs are:".format(name))
            print_inputs(args)
            print("-------------------")
            raise e
        failed = False
        if was_cl:
            if isinstance(result, torch.Tensor):
                if result.dim() == 4 and not result.is_contiguous(memory_format=torch.channels_last):
                    print(
                        "`{}` got channels_last input, but output is not channels_last:".format(name),
                        result.shape,
                        result.stride(),
                        result.device,
                        result.dtype,
                    )
                    failed = True
        if failed and True:
            print("`{}` inputs are:".format(name))
            print_inputs(args)
            raise Exception("Operator `{}` lost channels_last property".format(name))
        return result

    return check_cl


old_attrs = dict()


def attribute(m, names):  # the original: `for i in dir(m):`
    old_attrs[m] = dict()
    for i in names:
        e = getattr(m, i)
        exclude_functions = ["is_cuda", "has_names", "numel", "stride", "Tensor", "is_contiguous", "__class__"]
        if i not in exclude_functions and not i.startswith("_") and "__call__" in dir(e):
            try:
                old_attrs[m][i] = e
                setattr(m, i, check_wrapper(e))
            except Exception as e:
                print(i)
                print(e)


attribute(torch.Tensor, ["add", "mul", "relu", "sum", "mean", "view"])
attribute(torch.nn.functional, ["relu", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "softmax", "interpolate"])
attribute(torch, ["flatten", "cat", "sigmoid", "tanh", "add"])

output = model(input)
print(output.shape)
y = torch.cat([input, input], 1)
print(y.stride())
print(torch.nn.functional.interpolate(input, scale_factor=2, mode="nearest").stride())
print(torch.nn.functional.avg_pool2d(torch.sigmoid(input), 2).stride())
try:
    torch.nn.functional.softmax(input, dim=1)
except Exception as e:
    print(e)
try:
    input.sum(1, keepdim=True)
except Exception as e:
    print(e)

# Code below is to recover the attributes of torch.

for (m, attrs) in old_attrs.items():
    for (k, v) in attrs.items():
        setattr(m, k, v)

print(torch.nn.functional.softmax(input, dim=1).stride())
