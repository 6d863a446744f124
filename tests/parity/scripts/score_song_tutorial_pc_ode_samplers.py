# Source: Yang Song, Colab notebook "Tutorial on Score-Based Generative Modeling (PyTorch)"
#   https://colab.research.google.com/drive/120kYYBOVa1i0TD85RjlEkFjaWDxSFUx3 (a copy in the repository
#   https://github.com/xhxuciedu/CS175  old/Tutorial_on_Score_Based_Generative_Modeling_(PyTorch).ipynb)
# The cells "Define the Predictor-Corrector sampler" (Langevin corrector with the signal-to-noise step size
# from torch.norm of the reshaped score, Euler-Maruyama predictor on a NumPy time grid) and "Define the ODE
# sampler" (the probability flow ODE through NumPy: torch.tensor(ndarray, dtype=torch.float32), .cpu().numpy(),
# .astype(np.float64)), run by the "Sampling" cell; ScoreNet, marginal_prob_std_fn and diffusion_coeff_fn come
# from score_sde_tutorial/ (the notebook's cells, verbatim).
# Shrunk: no trained checkpoint: the freshly initialized ScoreNet(channels=[32, 32, 32, 32], embed_dim=32)
# (the notebook's default [32, 64, 128, 256], 256) after 2 Adam steps of loss_fn on 8 synthetic 1x28x28
# images; 4 sampling steps (500), 3 samples (64); tqdm.notebook.tqdm is tqdm.tqdm; SciPy is not a test
# dependency: integrate.solve_ivp (RK45 with tolerances) is a stand-in below (marked) taking 6 fixed Euler
# steps and returning res.y/res.nfev as SciPy does; the sample grid (make_grid + matplotlib) is printed as
# statistics; device 'cpu'.
import numpy as np
import torch
import tqdm
from score_sde_tutorial import *

device = 'cpu'
score_model = torch.nn.DataParallel(ScoreNet(marginal_prob_std=marginal_prob_std_fn, channels=[32, 32, 32, 32], embed_dim=32))
score_model = score_model.to(device)
optimizer = torch.optim.Adam(score_model.parameters(), lr=1e-4)
x = (torch.rand(8, 1, 28, 28) < 0.2).float() * torch.rand(8, 1, 28, 28)
for step in range(2):
  loss = loss_fn(score_model, x, marginal_prob_std_fn)
  optimizer.zero_grad()
  loss.backward()
  optimizer.step()
  print("step", step, "loss {:.4f}".format(loss.item()))

#@title Define the Predictor-Corrector sampler (double click to expand or collapse)

signal_to_noise_ratio = 0.16 #@param {'type':'number'}

## The number of sampling steps.
num_steps =  4#@param {'type':'integer'}
def pc_sampler(score_model, 
               marginal_prob_std,
               diffusion_coeff,
               batch_size=64, 
               num_steps=num_steps, 
               snr=signal_to_noise_ratio,                
               device='cuda',
               eps=1e-3):
  """Generate samples from score-based models with Predictor-Corrector method.

  Args:
    score_model: A PyTorch model that represents the time-dependent score-based model.
    marginal_prob_std: A function that gives the standard deviation
      of the perturbation kernel.
    diffusion_coeff: A function that gives the diffusion coefficient 
      of the SDE.
    batch_size: The number of samplers to generate by calling this function once.
    num_steps: The number of sampling steps. 
      Equivalent to the number of discretized time steps.    
    device: 'cuda' for running on GPUs, and 'cpu' for running on CPUs.
    eps: The smallest time step for numerical stability.
  
  Returns: 
    Samples.
  """
  t = torch.ones(batch_size, device=device)
  init_x = torch.randn(batch_size, 1, 28, 28, device=device) * marginal_prob_std(t)[:, None, None, None]
  time_steps = np.linspace(1., eps, num_steps)
  step_size = time_steps[0] - time_steps[1]
  x = init_x
  with torch.no_grad():
    for time_step in tqdm.tqdm(time_steps):      
      batch_time_step = torch.ones(batch_size, device=device) * time_step
      # Corrector step (Langevin MCMC)
      grad = score_model(x, batch_time_step)
      grad_norm = torch.norm(grad.reshape(grad.shape[0], -1), dim=-1).mean()
      noise_norm = np.sqrt(np.prod(x.shape[1:]))
      langevin_step_size = 2 * (snr * noise_norm / grad_norm)**2
      x = x + langevin_step_size * grad + torch.sqrt(2 * langevin_step_size) * torch.randn_like(x)      

      # Predictor step (Euler-Maruyama)
      g = diffusion_coeff(batch_time_step)
      x_mean = x + (g**2)[:, None, None, None] * score_model(x, batch_time_step) * step_size
      x = x_mean + torch.sqrt(g**2 * step_size)[:, None, None, None] * torch.randn_like(x)      
      print("t={:.4f} grad_norm={:.4f} langevin_step_size={:.6f} g.dtype={} |x_mean|={:.3f}".format(
          time_step, grad_norm.item(), langevin_step_size.item(), g.dtype, x_mean.norm().item()))
    
    # The last step does not include any noise
    return x_mean

# ---- Stand-in for scipy.integrate (SciPy is not a test dependency): solve_ivp with 6 fixed Euler steps
# instead of adaptive RK45, called as SciPy calls fun(t, y) (t a Python float) and returning res.y
# (one column per time point) and res.nfev.
class integrate:
  class OdeResult(dict):
    __getattr__ = dict.__getitem__

  @staticmethod
  def solve_ivp(fun, t_span, y0, rtol=1e-3, atol=1e-6, method='RK45', n_steps=6):
    t0, tf = map(float, t_span)
    ts = np.linspace(t0, tf, n_steps + 1)
    y = np.asarray(y0, dtype=np.float64)
    ys = [y]
    for ta, tb in zip(ts[:-1], ts[1:]):
      y = y + (tb - ta) * fun(float(ta), y)
      ys.append(y)
    return integrate.OdeResult(t=ts, y=np.stack(ys, axis=1), nfev=n_steps, status=0, success=True)
# ---- end of stand-in

#@title Define the ODE sampler (double click to expand or collapse)

## The error tolerance for the black-box ODE solver
error_tolerance = 1e-5 #@param {'type': 'number'}
def ode_sampler(score_model,
                marginal_prob_std,
                diffusion_coeff,
                batch_size=64, 
                atol=error_tolerance, 
                rtol=error_tolerance, 
                device='cuda', 
                z=None,
                eps=1e-3):
  """Generate samples from score-based models with black-box ODE solvers.

  Args:
    score_model: A PyTorch model that represents the time-dependent score-based model.
    marginal_prob_std: A function that returns the standard deviation 
      of the perturbation kernel.
    diffusion_coeff: A function that returns the diffusion coefficient of the SDE.
    batch_size: The number of samplers to generate by calling this function once.
    atol: Tolerance of absolute errors.
    rtol: Tolerance of relative errors.
    device: 'cuda' for running on GPUs, and 'cpu' for running on CPUs.
    z: The latent code that governs the final sample. If None, we start from p_1;
      otherwise, we start from the given z.
    eps: The smallest time step for numerical stability.
  """
  t = torch.ones(batch_size, device=device)
  # Create the latent code
  if z is None:
    init_x = torch.randn(batch_size, 1, 28, 28, device=device) \
      * marginal_prob_std(t)[:, None, None, None]
  else:
    init_x = z
    
  shape = init_x.shape

  def score_eval_wrapper(sample, time_steps):
    """A wrapper of the score-based model for use by the ODE solver."""
    sample = torch.tensor(sample, device=device, dtype=torch.float32).reshape(shape)
    time_steps = torch.tensor(time_steps, device=device, dtype=torch.float32).reshape((sample.shape[0], ))    
    with torch.no_grad():    
      score = score_model(sample, time_steps)
    return score.cpu().numpy().reshape((-1,)).astype(np.float64)
  
  def ode_func(t, x):        
    """The ODE function for use by the ODE solver."""
    time_steps = np.ones((shape[0],)) * t    
    g = diffusion_coeff(torch.tensor(t)).cpu().numpy()
    return  -0.5 * (g**2) * score_eval_wrapper(x, time_steps)
  
  # Run the black-box ODE solver.
  res = integrate.solve_ivp(ode_func, (1., eps), init_x.reshape(-1).cpu().numpy(), rtol=rtol, atol=atol, method='RK45')  
  print(f"Number of function evaluations: {res.nfev}")
  x = torch.tensor(res.y[:, -1], device=device).reshape(shape)

  return x

#@title Sampling (double click to expand or collapse)

sample_batch_size = 3 #@param {'type':'integer'}
for sampler in [pc_sampler, ode_sampler]: #@param ['Euler_Maruyama_sampler', 'pc_sampler', 'ode_sampler'] {'type': 'raw'}
  print(sampler.__name__)
  ## Generate samples using the specified sampler.
  samples = sampler(score_model, 
                    marginal_prob_std_fn,
                    diffusion_coeff_fn, 
                    sample_batch_size, 
                    device=device)
  print(samples.shape, samples.dtype)
  print("before clamp: mean {:.4f} std {:.4f}".format(samples.mean().item(), samples.std().item()))

  ## Sample visualization.
  samples = samples.clamp(0.0, 1.0)
  print("sample means:", samples.mean(dim=(1, 2, 3)))

# The latent code z governs the ODE sample: the same z gives the same sample.
z = torch.randn(2, 1, 28, 28) * marginal_prob_std_fn(torch.ones(2))[:, None, None, None]
a = ode_sampler(score_model, marginal_prob_std_fn, diffusion_coeff_fn, 2, device=device, z=z)
b = ode_sampler(score_model, marginal_prob_std_fn, diffusion_coeff_fn, 2, device=device, z=z)
print(torch.equal(a, b), a[0, 0, 14, 10:14])
