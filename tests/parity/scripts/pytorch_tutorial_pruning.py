# Source: PyTorch tutorials, "Pruning Tutorial"
#   https://github.com/pytorch/tutorials  intermediate_source/pruning_tutorial.py
# Shrunk: printed tensors cut to a few entries (set_printoptions); one forward pass added at the end;
# the hooks printed without their handle ids (PyTorch numbers them across the process, which here runs
# every script).
import torch
from torch import nn
import torch.nn.utils.prune as prune
import torch.nn.functional as F

device = torch.device("cpu")


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square conv kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5x5 image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


torch.set_printoptions(precision=4, threshold=50, edgeitems=2)
model = LeNet().to(device=device)

# Inspect a Module
module = model.conv1
print([name for name, _ in module.named_parameters()])
print(list(module.named_buffers()))

# Pruning a Module
prune.random_unstructured(module, name="weight", amount=0.3)
print([name for name, _ in module.named_parameters()])
print([(name, tuple(buffer.shape)) for name, buffer in module.named_buffers()])
print(module.weight_mask.sum())
print(module.weight[0])
print(list(module._forward_pre_hooks.values()))

prune.l1_unstructured(module, name="bias", amount=3)
print([name for name, _ in module.named_parameters()])
print(list(module.named_buffers())[1])
print(module.bias)
print(list(module._forward_pre_hooks.values()))

# Iterative Pruning
prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(module.weight[:, 0, 0])
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":  # select out the correct hook
        break
print(list(hook))

# Serializing a pruned model
print(model.state_dict().keys())

# Remove pruning re-parametrization
prune.remove(module, 'weight')
print([name for name, _ in module.named_parameters()])
print([name for name, _ in module.named_buffers()])
print(module.weight[:, 0, 0])

# Pruning multiple parameters in a model
new_model = LeNet()
for name, module in new_model.named_modules():
    # prune 20% of connections in all 2D-conv layers
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name='weight', amount=0.2)
    # prune 40% of connections in all linear layers
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name='weight', amount=0.4)

print(dict(new_model.named_buffers()).keys())  # to verify that all masks exist

# Global pruning
model = LeNet()

parameters_to_prune = (
    (model.conv1, 'weight'),
    (model.conv2, 'weight'),
    (model.fc1, 'weight'),
    (model.fc2, 'weight'),
    (model.fc3, 'weight'),
)

prune.global_unstructured(
    parameters_to_prune,
    pruning_method=prune.L1Unstructured,
    amount=0.2,
)

for name in ("conv1", "conv2", "fc1", "fc2", "fc3"):
    layer = getattr(model, name)
    print(
        "Sparsity in {}.weight: {:.2f}%".format(
            name, 100. * float(torch.sum(layer.weight == 0)) / float(layer.weight.nelement())
        )
    )
print(
    "Global sparsity: {:.2f}%".format(
        100. * float(
            sum(torch.sum(getattr(model, name).weight == 0) for name in ("conv1", "conv2", "fc1", "fc2", "fc3"))
        )
        / float(
            sum(getattr(model, name).weight.nelement() for name in ("conv1", "conv2", "fc1", "fc2", "fc3"))
        )
    )
)
print(prune.is_pruned(model))
print(model(torch.randn(1, 1, 32, 32)))


# Extending torch.nn.utils.prune with custom pruning functions
class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor
    """
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


model = LeNet()
foobar_unstructured(model.fc3, name='bias')

print(model.fc3.bias_mask)
