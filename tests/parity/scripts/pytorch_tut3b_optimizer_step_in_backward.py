# Source: PyTorch tutorials, "How to save memory by fusing the optimizer step into the backward
# pass" by Jane Xu:
#   https://github.com/pytorch/tutorials  intermediate_source/optimizer_step_in_backward_tutorial.py
# A training loop with one Adam, then the same model trained with one Adam(foreach=False) per
# parameter, stepped and zeroed by Tensor.register_post_accumulate_grad_hook during backward().
# Shrunk: torchvision's vit_l_16 replaced by a tiny vision transformer written here (a patch Conv2d,
# a class token, nn.TransformerEncoder, a Linear head) on 32x32 fake images instead of 224x224; the
# .cuda() calls are .to(device) on the CPU; the torch.cuda.memory snapshots (recorded, pickled and
# viewed in the CUDA memory visualizer) are replaced by prints of what the CPU can tell: the bytes of
# parameters, of .grad tensors alive and of optimizer state, plus the loss of each step.
import torch
import torch.nn as nn

device = torch.device("cpu")
IMAGE_SIZE = 32


class TinyViT(nn.Module):
    # stand-in for torchvision.models.vit_l_16: same layout, tiny sizes
    def __init__(self, patch_size=8, hidden_dim=32, num_heads=4, mlp_dim=64, num_layers=2, num_classes=10):
        super().__init__()
        self.patch_size = patch_size
        self.conv_proj = nn.Conv2d(3, hidden_dim, kernel_size=patch_size, stride=patch_size)
        self.class_token = nn.Parameter(torch.zeros(1, 1, hidden_dim))
        seq_length = (IMAGE_SIZE // patch_size) ** 2 + 1
        self.pos_embedding = nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02))
        layer = nn.TransformerEncoderLayer(hidden_dim, num_heads, mlp_dim, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.ln = nn.LayerNorm(hidden_dim, eps=1e-6)
        self.heads = nn.Linear(hidden_dim, num_classes)

    def forward(self, x):
        n = x.shape[0]
        x = self.conv_proj(x).reshape(n, self.conv_proj.out_channels, -1).permute(0, 2, 1)
        x = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1) + self.pos_embedding
        x = self.ln(self.encoder(x))
        return self.heads(x[:, 0])


def memory_report(title, model, optimizers):
    # what the CPU can tell instead of a CUDA memory snapshot
    params = sum(p.nelement() * p.element_size() for p in model.parameters())
    grads = sum(p.grad.nelement() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
    state = sum(v.nelement() * v.element_size() for o in optimizers for s in o.state.values()
                for v in s.values() if torch.is_tensor(v))
    print(f"{title}: parameters {params} B, gradients {grads} B, optimizer state {state} B")


torch.manual_seed(0)
model = TinyViT().to(device)
optimizer = torch.optim.Adam(model.parameters())
print("parameters:", sum(p.numel() for p in model.parameters()))

def train(model, optimizer):
  # create our fake image input: tensor shape is batch_size, channels, height, width
  fake_image = torch.rand(1, 3, IMAGE_SIZE, IMAGE_SIZE).to(device)

  # call our forward and backward
  loss = model.forward(fake_image)
  loss.sum().backward()
  print("loss sum:", loss.sum().item())
  memory_report("  after backward", model, [optimizer])

  # optimizer update
  optimizer.step()
  optimizer.zero_grad()

# train 3 steps
for _ in range(3):
  train(model, optimizer)

memory_report("after 3 steps", model, [optimizer])
print("norm of head weight:", model.heads.weight.norm().item())

# Instead of having just *one* optimizer, we will have a ``dict`` of optimizers
# for every parameter so we could reference them in our hook.
optimizer_dict = {p: torch.optim.Adam([p], foreach=False) for p in model.parameters()}

# Define our hook, which will call the optimizer ``step()`` and ``zero_grad()``
def optimizer_hook(parameter) -> None:
  optimizer_dict[parameter].step()
  optimizer_dict[parameter].zero_grad()

# Register the hook onto every parameter
for p in model.parameters():
   p.register_post_accumulate_grad_hook(optimizer_hook)

# Now remember our previous ``train()`` function? Since the optimizer has been
# fused into the backward, we can remove the optimizer step and zero_grad calls.
def train(model):
  # create our fake image input: tensor shape is batch_size, channels, height, width
  fake_image = torch.rand(1, 3, IMAGE_SIZE, IMAGE_SIZE).to(device)

  # call our forward and backward
  loss = model.forward(fake_image)
  loss.sum().backward()
  print("loss sum:", loss.sum().item())
  memory_report("  after backward", model, optimizer_dict.values())

  # optimizer update --> no longer needed!
  # optimizer.step()
  # optimizer.zero_grad()

# delete optimizer memory from before to get a clean slate for the next
# memory snapshot
del optimizer

# train 3 steps. note that we no longer pass the optimizer into train()
for _ in range(3):
  train(model)

memory_report("after 3 fused steps", model, optimizer_dict.values())
print("norm of head weight:", model.heads.weight.norm().item())
print("Adam steps per parameter:", sorted({int(o.state[p]["step"]) for p, o in optimizer_dict.items()}))
