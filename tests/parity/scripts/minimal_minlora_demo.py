# Source: Jonathan Chang (cccntu), minLoRA, "a minimal, but versatile PyTorch re-implementation of LoRA":
#   https://github.com/cccntu/minLoRA  demo.ipynb (the cells in order), with the package minlora/model.py +
#   minlora/utils.py in the minlora/ folder beside this script (verbatim).
# LoRA is added through torch.nn.utils.parametrize (register_parametrization / remove_parametrizations
# with leave_parametrized=True to merge), then enabled/disabled, saved, reloaded with strict=False, merged,
# and several LoRA sets are loaded and selected at inference time.
# Shrunk/changed: nothing of the model (it is the notebook's tiny one); the notebook only simulates
# "Step 3: Train the model" (init.normal_ of A and B), which is kept, and 3 real AdamW steps on 8 random
# points are added before it (under torch.enable_grad(), as the notebook turns grad off globally).
# The notebook's displayed values (y, keys, model, (Y0, Y1, Y2)) are printed; the asserts are kept.
# The global torch.set_grad_enabled(False) of the notebook's first cell is undone at the end, as the
# scripts share one process in the test suite.
import torch
from minlora import add_lora, apply_to_lora, disable_lora, enable_lora, get_lora_params, merge_lora, name_is_lora, remove_lora, load_multiple_lora, select_lora, get_lora_state_dict
_ = torch.set_grad_enabled(False)

# a simple model
model = torch.nn.Sequential(
    torch.nn.Linear(in_features=5, out_features=7),
    torch.nn.Linear(in_features=7, out_features=3),
)

x = torch.randn(1, 5)
y = model(x)
print(y)
Y0 = y

# add lora to the model
# becase B is initialized to 0, the output is the same as before
add_lora(model)
y = model(x)
assert torch.allclose(y, Y0)
print(model)
print([(n, tuple(p.shape)) for n, p in model.named_parameters()])

# to make the output different, we need to initialize B to something non-zero
model.apply(apply_to_lora(lambda x: torch.nn.init.ones_(x.lora_B)))
y = model(x)
print(y)
assert not torch.allclose(y, Y0)
Y1 = y

# now let's try to disable lora, the output is the same as before lora is added
disable_lora(model)
y = model(x)
assert torch.allclose(y, Y0)
print(y)

# enable lora again
enable_lora(model)
y = model(x)
assert torch.allclose(y, Y1)

# let's save the state dict for later use
state_dict_to_save = get_lora_state_dict(model)
print(state_dict_to_save.keys())

# you can remove lora from the model
remove_lora(model)
print(model(x))
print(sorted(model.state_dict().keys()))

# lets try to load the lora back
# first we need to add lora to the model
add_lora(model)
# then we can load the lora parameters
# strict=False is needed because we are loading a subset of the parameters
_ = model.load_state_dict(state_dict_to_save, strict=False)
print(_.missing_keys, _.unexpected_keys)
y = model(x)
assert torch.allclose(y, Y1)

# we can merge it to make it a normal linear layer, so there is no overhead for inference
merge_lora(model)
y = model(x)
assert torch.allclose(y, Y1)
print(y)

# model now has no lora parameters
print(model)
print(type(model[0].weight).__name__, model[0].weight.requires_grad)

## Training a model
model = torch.nn.Linear(in_features=5, out_features=3)
# Step 1: Add LoRA to the model
add_lora(model)

# Step 2: Collect the parameters, pass them to the optimizer

parameters = [
    {"params": list(get_lora_params(model))},
]
optimizer = torch.optim.AdamW(parameters, lr=1e-3)

# Step 3: Train the model
# ... (added: three steps on random data; only the LoRA matrices change)
with torch.enable_grad():
    inputs, targets = torch.randn(8, 5), torch.randn(8, 3)
    weight_before = model.parametrizations.weight.original.clone()
    for step in range(3):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        print(step, round(loss.item(), 5), model.parametrizations.weight.original.grad is None,
              model.parametrizations.weight[0].lora_A.grad.abs().sum().item())
    print(torch.equal(weight_before, model.parametrizations.weight.original), model.weight.requires_grad)
    print(model.parametrizations.weight[0].lora_B)
# simulate training, update the LoRA parameters
model.apply(apply_to_lora(lambda x: torch.nn.init.normal_(x.lora_A)))
model.apply(apply_to_lora(lambda x: torch.nn.init.normal_(x.lora_B)))

# Step 4: export the LoRA parameters
state_dict = model.state_dict()
lora_state_dict = {k: v for k, v in state_dict.items() if name_is_lora(k)}
print(list(state_dict.keys()), list(lora_state_dict.keys()))

## Loading and Inferencing with LoRA
# Step 1: Add LoRA to your model
add_lora(model)

# Step 2: Load the LoRA parameters
_ = model.load_state_dict(lora_state_dict, strict=False)

# Step 3: Merge the LoRA parameters into the model
merge_lora(model)
print(model.weight)

## Inferencing with multiple LoRA models
# to avoid re-adding lora to the model when rerun the cell, remove lora first
remove_lora(model)
# Step 1: Add LoRA to your model
add_lora(model)

# Step 2: Load the LoRA parameters

# fake 3 sets of LoRA parameters
lora_state_dict_0 = lora_state_dict
lora_state_dict_1 = {k: torch.ones_like(v) for k, v in lora_state_dict.items()}
lora_state_dict_2 = {k: torch.zeros_like(v) for k, v in lora_state_dict.items()}
lora_state_dicts = [lora_state_dict_0, lora_state_dict_1, lora_state_dict_2]

load_multiple_lora(model, lora_state_dicts)

# Step 3: Select which LoRA to use at inference time
Y0 = select_lora(model, 0)(x)
Y1 = select_lora(model, 1)(x)
Y2 = select_lora(model, 2)(x)
print((Y0, Y1, Y2))

remove_lora(model)
init_state_dict = model.state_dict()
# verify that it's the same as if we load the lora parameters one by one
for state_dict in lora_state_dicts:
    remove_lora(model)
    _ = model.load_state_dict(init_state_dict, strict=False)
    add_lora(model)
    _ = model.load_state_dict(state_dict, strict=False)
    merge_lora(model)
    y = model(x)
    print(y)

_ = torch.set_grad_enabled(True)  # (added) undo the notebook's global setting
