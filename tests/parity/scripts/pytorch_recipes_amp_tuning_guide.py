# Source: PyTorch recipes "Automatic Mixed Precision" (Michael Carilli) and "Performance Tuning
# Guide" (Szymon Migacz)
#   https://github.com/pytorch/tutorials  recipes_source/recipes/amp_recipe.py,
#   recipes_source/recipes/tuning_guide.py
# Shrunk: the AMP recipe on the CPU (device = 'cpu', as its own fallback line picks without CUDA):
# its .cuda() calls made .to(device), its timer without torch.cuda's synchronize and memory
# statistics (and without the times); batch 32 of width 64 instead of 512 of 4096, 4 batches, 2
# epochs; autocast in float16 (which the CPU supports); the recipe's 0-epoch illustration loops run
# for one batch, printing the dtypes its asserts check; losses printed per epoch. The recipe's
# torch.cuda.amp.GradScaler is kept: without CUDA it disables itself (with a warning), as the prints
# of its state show. Then the tuning guide's CPU snippets on that network: zero_grad / grad = None,
# a torch.jit.script-ed fused GELU, enable_onednn_fusion, jit.trace + jit.freeze of the network
# with warm-up runs under no_grad, torch.cpu.amp.autocast(cache_enabled=False) in float16 instead
# of bfloat16 (NumPy has none; the fx Conv-BN fusion and torch._C's JIT autocast switch left out),
# and torch.backends.cudnn.benchmark; the global switches the script sets are put back at its end.

import torch, time, gc

# Timing utilities
start_time = None

def start_timer():
    global start_time
    gc.collect()
    start_time = time.time()

def end_timer_and_print(local_msg):
    end_time = time.time()
    print("\n" + local_msg)

def make_model(in_size, out_size, num_layers):
    layers = []
    for _ in range(num_layers - 1):
        layers.append(torch.nn.Linear(in_size, in_size))
        layers.append(torch.nn.ReLU())
    layers.append(torch.nn.Linear(in_size, out_size))
    return torch.nn.Sequential(*tuple(layers)).to(device)

batch_size = 32 # Try, for example, 128, 256, 513.
in_size = 64
out_size = 64
num_layers = 3
num_batches = 4
epochs = 2

device = 'cuda' if torch.cuda.is_available() else 'cpu'
torch.set_default_device(device)

# Creates data in default precision.
# The same data is used for both default and mixed precision trials below.
# You don't need to manually change inputs' ``dtype`` when enabling mixed precision.
data = [torch.randn(batch_size, in_size) for _ in range(num_batches)]
targets = [torch.randn(batch_size, out_size) for _ in range(num_batches)]

loss_fn = torch.nn.MSELoss().to(device)

net = make_model(in_size, out_size, num_layers)
opt = torch.optim.SGD(net.parameters(), lr=0.001)

start_timer()
for epoch in range(epochs):
    for input, target in zip(data, targets):
        output = net(input)
        loss = loss_fn(output, target)
        loss.backward()
        opt.step()
        opt.zero_grad() # set_to_none=True here can modestly improve performance
    print(epoch, loss.item())
end_timer_and_print("Default precision:")

for epoch in range(1): # 0 epochs, this section is for illustration only
    for input, target in zip(data[:1], targets[:1]):
        # Runs the forward pass under ``autocast``.
        with torch.autocast(device_type=device, dtype=torch.float16):
            output = net(input)
            # output is float16 because linear layers ``autocast`` to float16.
            assert output.dtype is torch.float16

            loss = loss_fn(output, target)
            # loss is float32 because ``mse_loss`` layers ``autocast`` to float32.
            assert loss.dtype is torch.float32
        print(output.dtype, loss.dtype, loss.item())

        # Exits ``autocast`` before backward().
        # Backward passes under ``autocast`` are not recommended.
        # Backward ops run in the same ``dtype`` ``autocast`` chose for corresponding forward ops.
        loss.backward()
        print(net[0].weight.grad.dtype, net[0].weight.grad.abs().sum())
        opt.step()
        opt.zero_grad() # set_to_none=True here can modestly improve performance

scaler = torch.cuda.amp.GradScaler()
print(scaler.is_enabled(), scaler.get_scale(), scaler.state_dict())

for epoch in range(1): # 0 epochs, this section is for illustration only
    for input, target in zip(data[:1], targets[:1]):
        with torch.autocast(device_type=device, dtype=torch.float16):
            output = net(input)
            loss = loss_fn(output, target)

        # Scales loss. Calls ``backward()`` on scaled loss to create scaled gradients.
        scaler.scale(loss).backward()
        print(scaler.scale(loss).item(), loss.item())

        # ``scaler.step()`` first unscales the gradients of the optimizer's assigned parameters.
        # If these gradients do not contain ``inf``s or ``NaN``s, optimizer.step() is then called,
        # otherwise, optimizer.step() is skipped.
        scaler.step(opt)

        # Updates the scale for next iteration.
        scaler.update()

        opt.zero_grad() # set_to_none=True here can modestly improve performance

use_amp = True

net = make_model(in_size, out_size, num_layers)
opt = torch.optim.SGD(net.parameters(), lr=0.001)
scaler = torch.cuda.amp.GradScaler(enabled=use_amp)

start_timer()
for epoch in range(epochs):
    for input, target in zip(data, targets):
        with torch.autocast(device_type=device, dtype=torch.float16, enabled=use_amp):
            output = net(input)
            loss = loss_fn(output, target)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        opt.zero_grad() # set_to_none=True here can modestly improve performance
    print(epoch, output.dtype, loss.dtype, loss.item())
end_timer_and_print("Mixed precision:")

for epoch in range(1): # 0 epochs, this section is for illustration only
    for input, target in zip(data[:1], targets[:1]):
        with torch.autocast(device_type=device, dtype=torch.float16):
            output = net(input)
            loss = loss_fn(output, target)
        scaler.scale(loss).backward()

        # Unscales the gradients of optimizer's assigned parameters in-place
        scaler.unscale_(opt)

        # Since the gradients of optimizer's assigned parameters are now unscaled, clips as usual.
        # You may use the same value for max_norm here as you would without gradient scaling.
        print(torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.1))

        scaler.step(opt)
        scaler.update()
        opt.zero_grad() # set_to_none=True here can modestly improve performance

checkpoint = {"model": net.state_dict(),
              "optimizer": opt.state_dict(),
              "scaler": scaler.state_dict()}
print(checkpoint["optimizer"]["param_groups"], checkpoint["scaler"])

net.load_state_dict(checkpoint["model"])
opt.load_state_dict(checkpoint["optimizer"])
scaler.load_state_dict(checkpoint["scaler"])

###############################################################################
# Performance Tuning Guide: the CPU snippets, on the network above

model, optimizer = net, opt
with torch.autocast(device_type=device, dtype=torch.float16):
    loss_fn(model(data[0]), targets[0]).backward()
model.zero_grad()
print([p.grad for p in model.parameters()][:2])
loss_fn(model(data[0]), targets[0]).backward()
optimizer.zero_grad()
print([p.grad for p in model.parameters()][:2])
loss_fn(model(data[0]), targets[0]).backward()

for param in model.parameters():
    param.grad = None
print([p.grad for p in model.parameters()][:2])

@torch.jit.script
def fused_gelu(x):
    return x * 0.5 * (1.0 + torch.erf(x / 1.41421))

print(fused_gelu(data[0][0, :6]))
print(torch.nn.functional.gelu(data[0][0, :6]))

# Only this extra line of code is required to use oneDNN Graph
torch.jit.enable_onednn_fusion(True)

# sample input should be of the same shape as expected inputs
sample_input = [torch.rand(32, 64)]
model = net.eval()
# Tracing the model with example input
traced_model = torch.jit.trace(model, sample_input)
# Invoking torch.jit.freeze
traced_model = torch.jit.freeze(traced_model)

with torch.no_grad():
    # a couple of warm-up runs
    traced_model(*sample_input)
    traced_model(*sample_input)
    # speedup would be observed after warm-up runs
    print(traced_model(*sample_input)[0, :5])

example_input = sample_input[0]
with torch.no_grad(), torch.cpu.amp.autocast(cache_enabled=False, dtype=torch.float16):
    model = torch.jit.trace(model, (example_input))
    model = torch.jit.freeze(model)
    # a couple of warm-up runs
    model(example_input)
    model(example_input)
    # speedup would be observed in subsequent runs.
    out = model(example_input)
    print(out.dtype, out[0, :5])

torch.backends.cudnn.benchmark = True
print(torch.backends.cudnn.benchmark, torch.jit.onednn_fusion_enabled())

# (not in the recipes: the switches are global, and the scripts that run after this one expect them off)
torch.backends.cudnn.benchmark = False
torch.jit.enable_onednn_fusion(False)
torch.set_default_device(None)
