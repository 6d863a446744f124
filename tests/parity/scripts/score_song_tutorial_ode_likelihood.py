# Source: Yang Song, Colab notebook "Tutorial on Score-Based Generative Modeling (PyTorch)"
#   https://colab.research.google.com/drive/120kYYBOVa1i0TD85RjlEkFjaWDxSFUx3 (a copy in the repository
#   https://github.com/xhxuciedu/CS175  old/Tutorial_on_Score_Based_Generative_Modeling_(PyTorch).ipynb)
# The cells "Define the likelihood function" (prior_likelihood; ode_likelihood: the probability flow ODE
# augmented with the log-density change, the divergence by the Skilling-Hutchinson estimator through
# torch.enable_grad inside torch.no_grad, requires_grad_ and torch.autograd.grad; bits/dim) and "Compute
# likelihood on the dataset" (uniform dequantization with torch.rand_like, the running average of bits/dim);
# ScoreNet, marginal_prob_std_fn and diffusion_coeff_fn come from score_sde_tutorial/ (verbatim cells).
# Shrunk: no trained checkpoint: ScoreNet(channels=[32, 32, 32, 32], embed_dim=32) (the notebook's default
# [32, 64, 128, 256], 256) as initialized, saved with torch.save to an io.BytesIO and loaded back as the
# notebook loads ckpt.pth; the MNIST test set is 4 synthetic 1x28x28 images in a TensorDataset (no
# torchvision), batch 2 (32), num_workers=0; tqdm.notebook.tqdm is tqdm.tqdm; SciPy is not a test
# dependency: integrate.solve_ivp (RK45, rtol=atol=1e-5) is a stand-in below (marked) taking 4 fixed Euler
# steps and returning res.y as SciPy does; device 'cpu'.
import io
import numpy as np
import torch
import tqdm
from torch.utils.data import DataLoader, TensorDataset
from score_sde_tutorial import *

device = 'cpu'
score_model = torch.nn.DataParallel(ScoreNet(marginal_prob_std=marginal_prob_std_fn, channels=[32, 32, 32, 32], embed_dim=32))
score_model = score_model.to(device)
ckpt_file = io.BytesIO()
torch.save(score_model.state_dict(), ckpt_file)


# ---- Stand-in for scipy.integrate (SciPy is not a test dependency): solve_ivp with 4 fixed Euler steps
# instead of adaptive RK45, called as SciPy calls fun(t, y) (t a Python float) and returning res.y
# (one column per time point) and res.nfev.
class integrate:
  class OdeResult(dict):
    __getattr__ = dict.__getitem__

  @staticmethod
  def solve_ivp(fun, t_span, y0, rtol=1e-3, atol=1e-6, method='RK45', n_steps=4):
    t0, tf = map(float, t_span)
    ts = np.linspace(t0, tf, n_steps + 1)
    y = np.asarray(y0, dtype=np.float64)
    ys = [y]
    for ta, tb in zip(ts[:-1], ts[1:]):
      y = y + (tb - ta) * fun(float(ta), y)
      ys.append(y)
    return integrate.OdeResult(t=ts, y=np.stack(ys, axis=1), nfev=n_steps, status=0, success=True)
# ---- end of stand-in

#@title Define the likelihood function (double click to expand or collapse)

def prior_likelihood(z, sigma):
  """The likelihood of a Gaussian distribution with mean zero and 
      standard deviation sigma."""
  shape = z.shape
  N = np.prod(shape[1:])
  return -N / 2. * torch.log(2*np.pi*sigma**2) - torch.sum(z**2, dim=(1,2,3)) / (2 * sigma**2)

def ode_likelihood(x, 
                   score_model,
                   marginal_prob_std, 
                   diffusion_coeff,
                   batch_size=64, 
                   device='cuda',
                   eps=1e-5):
  """Compute the likelihood with probability flow ODE.
  
  Args:
    x: Input data.
    score_model: A PyTorch model representing the score-based model.
    marginal_prob_std: A function that gives the standard deviation of the 
      perturbation kernel.
    diffusion_coeff: A function that gives the diffusion coefficient of the 
      forward SDE.
    batch_size: The batch size. Equals to the leading dimension of `x`.
    device: 'cuda' for evaluation on GPUs, and 'cpu' for evaluation on CPUs.
    eps: A `float` number. The smallest time step for numerical stability.

  Returns:
    z: The latent code for `x`.
    bpd: The log-likelihoods in bits/dim.
  """

  # Draw the random Gaussian sample for Skilling-Hutchinson's estimator.
  epsilon = torch.randn_like(x)
      
  def divergence_eval(sample, time_steps, epsilon):      
    """Compute the divergence of the score-based model with Skilling-Hutchinson."""
    with torch.enable_grad():
      sample.requires_grad_(True)
      score_e = torch.sum(score_model(sample, time_steps) * epsilon)
      grad_score_e = torch.autograd.grad(score_e, sample)[0]
    return torch.sum(grad_score_e * epsilon, dim=(1, 2, 3))    
  
  shape = x.shape

  def score_eval_wrapper(sample, time_steps):
    """A wrapper for evaluating the score-based model for the black-box ODE solver."""
    sample = torch.tensor(sample, device=device, dtype=torch.float32).reshape(shape)
    time_steps = torch.tensor(time_steps, device=device, dtype=torch.float32).reshape((sample.shape[0], ))    
    with torch.no_grad():    
      score = score_model(sample, time_steps)
    return score.cpu().numpy().reshape((-1,)).astype(np.float64)
  
  def divergence_eval_wrapper(sample, time_steps):
    """A wrapper for evaluating the divergence of score for the black-box ODE solver."""
    with torch.no_grad():
      # Obtain x(t) by solving the probability flow ODE.
      sample = torch.tensor(sample, device=device, dtype=torch.float32).reshape(shape)
      time_steps = torch.tensor(time_steps, device=device, dtype=torch.float32).reshape((sample.shape[0], ))    
      # Compute likelihood.
      div = divergence_eval(sample, time_steps, epsilon)
      print("  t={:.4f} divergence:".format(time_steps[0].item()), div, div.requires_grad)
      return div.cpu().numpy().reshape((-1,)).astype(np.float64)
  
  def ode_func(t, x):
    """The ODE function for the black-box solver."""
    time_steps = np.ones((shape[0],)) * t    
    sample = x[:-shape[0]]
    logp = x[-shape[0]:]
    g = diffusion_coeff(torch.tensor(t)).cpu().numpy()
    sample_grad = -0.5 * g**2 * score_eval_wrapper(sample, time_steps)
    logp_grad = -0.5 * g**2 * divergence_eval_wrapper(sample, time_steps)
    return np.concatenate([sample_grad, logp_grad], axis=0)

  init = np.concatenate([x.cpu().numpy().reshape((-1,)), np.zeros((shape[0],))], axis=0)
  # Black-box ODE solver
  res = integrate.solve_ivp(ode_func, (eps, 1.), init, rtol=1e-5, atol=1e-5, method='RK45')  
  zp = torch.tensor(res.y[:, -1], device=device)
  z = zp[:-shape[0]].reshape(shape)
  delta_logp = zp[-shape[0]:].reshape(shape[0])
  sigma_max = marginal_prob_std(1.)
  prior_logp = prior_likelihood(z, sigma_max)
  print("  sigma_max", sigma_max, "prior_logp", prior_logp, "delta_logp", delta_logp)
  bpd = -(prior_logp + delta_logp) / np.log(2)
  N = np.prod(shape[1:])
  bpd = bpd / N + 8.
  return z, bpd

#@title Compute likelihood on the dataset (double click to expand or collapse)

batch_size = 2 #@param {'type':'integer'}

images = (torch.rand(4, 1, 28, 28) < 0.2).float() * torch.rand(4, 1, 28, 28)
dataset = TensorDataset(images, torch.randint(0, 10, (4,)))
data_loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0)

ckpt_file.seek(0)
ckpt = torch.load(ckpt_file, map_location=device)
score_model.load_state_dict(ckpt)

all_bpds = 0.
all_items = 0
try:
  tqdm_data = tqdm.tqdm(data_loader)
  for x, _ in tqdm_data:
    x = x.to(device)
    # uniform dequantization
    x = (x * 255. + torch.rand_like(x)) / 256.    
    z, bpd = ode_likelihood(x, score_model, marginal_prob_std_fn,
                            diffusion_coeff_fn,
                            x.shape[0], device=device, eps=1e-5)
    all_bpds += bpd.sum()
    all_items += bpd.shape[0]
    tqdm_data.set_description("Average bits/dim: {:5f}".format(all_bpds / all_items))
    print("Average bits/dim: {:5f}".format(all_bpds / all_items))
    print("bpd", bpd, "z", z.shape, z.dtype, "|z|", z.reshape(z.shape[0], -1).norm(dim=-1))

except KeyboardInterrupt:
  # Remove the error message when interuptted by keyboard or GUI.
  pass
print(type(all_bpds).__name__, all_bpds.dtype, all_items)
