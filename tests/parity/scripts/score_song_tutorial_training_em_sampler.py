# Source: Yang Song, Colab notebook "Tutorial on Score-Based Generative Modeling (PyTorch)"
#   https://colab.research.google.com/drive/120kYYBOVa1i0TD85RjlEkFjaWDxSFUx3 (a copy in the repository
#   https://github.com/xhxuciedu/CS175  old/Tutorial_on_Score_Based_Generative_Modeling_(PyTorch).ipynb)
# The time-dependent ScoreNet U-Net (GaussianFourierProjection, Dense, GroupNorm, ConvTranspose2d with
# output_padding, swish), the VE SDE's marginal_prob_std/diffusion_coeff bound with functools.partial and the
# denoising score matching loss_fn are in score_sde_tutorial/ (the notebook's cells, verbatim); here: the
# "Training" cell (nn.DataParallel, Adam, the epoch loop, torch.save of the state_dict), the "Euler-Maruyama
# sampler" cell and the "Sampling" cell (torch.load, load_state_dict, sampler, clamp).
# Shrunk: MNIST is 16 synthetic 1x28x28 images in [0, 1] in a TensorDataset (no torchvision), batch 8,
# 2 epochs (not 50 of batch 32, num_workers=0); ScoreNet(channels=[32, 32, 32, 32], embed_dim=32) (the
# notebook's default [32, 64, 128, 256], 256); the checkpoint goes to an io.BytesIO (not ckpt.pth);
# 6 sampling steps (500), 4 samples (64); tqdm.notebook.tqdm/trange are tqdm.tqdm/trange (no notebook);
# the sample grid (make_grid + matplotlib) is printed as statistics; device 'cpu'.
import io
import numpy as np
from score_sde_tutorial import *
from torch.utils.data import TensorDataset

#@title Training (double click to expand or collapse)

import torch
import functools
from torch.optim import Adam
from torch.utils.data import DataLoader
import tqdm
from tqdm import trange


score_model = torch.nn.DataParallel(ScoreNet(marginal_prob_std=marginal_prob_std_fn, channels=[32, 32, 32, 32], embed_dim=32))
score_model = score_model.to(device)
print(score_model.module.tconv3)
print(score_model.module.gnorm1)
print("trainable parameters:", sum(p.numel() for p in score_model.parameters() if p.requires_grad),
      "fixed:", sum(p.numel() for p in score_model.parameters() if not p.requires_grad))

n_epochs =   2#@param {'type':'integer'}
## size of a mini-batch
batch_size =  8 #@param {'type':'integer'}
## learning rate
lr=1e-4 #@param {'type':'number'}

images = (torch.rand(16, 1, 28, 28) < 0.2).float() * torch.rand(16, 1, 28, 28)
dataset = TensorDataset(images, torch.randint(0, 10, (16,)))
data_loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0)

optimizer = Adam(score_model.parameters(), lr=lr)
tqdm_epoch = trange(n_epochs)

ckpt_file = io.BytesIO()
for epoch in tqdm_epoch:
  avg_loss = 0.
  num_items = 0
  for x, y in data_loader:
    x = x.to(device)    
    loss = loss_fn(score_model, x, marginal_prob_std_fn)
    optimizer.zero_grad()
    loss.backward()    
    optimizer.step()
    avg_loss += loss.item() * x.shape[0]
    num_items += x.shape[0]
  # Print the averaged training loss so far.
  tqdm_epoch.set_description('Average Loss: {:5f}'.format(avg_loss / num_items))
  print('Average Loss: {:5f}'.format(avg_loss / num_items))
  # Update the checkpoint after each epoch of training.
  ckpt_file.seek(0)
  torch.save(score_model.state_dict(), ckpt_file)

print(sorted(score_model.state_dict().keys())[:6])
print("W (fixed) still:", score_model.module.embed[0].W.requires_grad, score_model.module.embed[0].W[:3])

#@title Define the Euler-Maruyama sampler (double click to expand or collapse)

## The number of sampling steps.
num_steps =  6#@param {'type':'integer'}
def Euler_Maruyama_sampler(score_model, 
                           marginal_prob_std,
                           diffusion_coeff, 
                           batch_size=64, 
                           num_steps=num_steps, 
                           device='cuda', 
                           eps=1e-3):
  """Generate samples from score-based models with the Euler-Maruyama solver.

  Args:
    score_model: A PyTorch model that represents the time-dependent score-based model.
    marginal_prob_std: A function that gives the standard deviation of
      the perturbation kernel.
    diffusion_coeff: A function that gives the diffusion coefficient of the SDE.
    batch_size: The number of samplers to generate by calling this function once.
    num_steps: The number of sampling steps. 
      Equivalent to the number of discretized time steps.
    device: 'cuda' for running on GPUs, and 'cpu' for running on CPUs.
    eps: The smallest time step for numerical stability.
  
  Returns:
    Samples.    
  """
  t = torch.ones(batch_size, device=device)
  init_x = torch.randn(batch_size, 1, 28, 28, device=device) \
    * marginal_prob_std(t)[:, None, None, None]
  time_steps = torch.linspace(1., eps, num_steps, device=device)
  step_size = time_steps[0] - time_steps[1]
  x = init_x
  with torch.no_grad():
    for time_step in tqdm.tqdm(time_steps):      
      batch_time_step = torch.ones(batch_size, device=device) * time_step
      g = diffusion_coeff(batch_time_step)
      mean_x = x + (g**2)[:, None, None, None] * score_model(x, batch_time_step) * step_size
      x = mean_x + torch.sqrt(step_size) * g[:, None, None, None] * torch.randn_like(x)      
      print("t={:.4f} g={:.4f} |x|={:.4f}".format(time_step.item(), g[0].item(), x.norm().item()))
  # Do not include any noise in the last sampling step.
  return mean_x

#@title Sampling (double click to expand or collapse)

## Load the pre-trained checkpoint from disk.
device = 'cpu' #@param ['cuda', 'cpu'] {'type':'string'}
ckpt_file.seek(0)
ckpt = torch.load(ckpt_file, map_location=device)
print(score_model.load_state_dict(ckpt))

sample_batch_size = 4 #@param {'type':'integer'}
sampler = Euler_Maruyama_sampler #@param ['Euler_Maruyama_sampler', 'pc_sampler', 'ode_sampler'] {'type': 'raw'}

## Generate samples using the specified sampler.
samples = sampler(score_model, 
                  marginal_prob_std_fn,
                  diffusion_coeff_fn, 
                  sample_batch_size, 
                  device=device)

## Sample visualization.
samples = samples.clamp(0.0, 1.0)
print(samples.shape, samples.dtype, samples.requires_grad)
print("sample means:", samples.mean(dim=(1, 2, 3)))
print("fraction at 0 / at 1:", (samples == 0.).float().mean().item(), (samples == 1.).float().mean().item())
