# Source: Berkeley CS294-158 "Deep Unsupervised Learning" (Spring 2020), homework 2 solutions,
#   question 1 (2D flows): https://github.com/rll/deepul  homeworks/solutions/hw2_solutions.ipynb
#   (commit a1dcf2a): the autoregressive flow with mixture-of-Gaussians CDF layers (q1_a) and the 2D
#   RealNVP with affine couplings (q1_b), trained with the notebook's train_epochs.
# Shrunk: the notebook's datasets (a face / two moons point cloud from deepul.hw2_helper) are replaced by
# 256 + 128 synthetic 2D points (two noisy Gaussian blobs inside the notebook's two-moons plot bounds,
# dset_id=2) as float32 NumPy arrays, as the helper gives them (with the face bounds (-4, 4), PyTorch 2.x's
# default argument validation raises in Uniform.log_prob: the mixture CDF rounds to exactly 1.0 at the
# far corners, outside the support [0, 1); 2020's PyTorch did not validate);
# 2 epochs instead of 100/250; the density heatmap grid has step 0.5 instead of 0.025. tqdm_notebook is
# replaced by range; scipy's `norm` and matplotlib, imported but unused, are dropped. Where the notebook
# hands arrays to q1_save_results (which plots them) the script prints the losses and summaries.
# `import deepul.pytorch_util as ptu` is the course's helper module (deepul/ beside this script).
import deepul.pytorch_util as ptu
import torch
import torch.optim as optim
import torch.utils.data as data
import torch.nn as nn
import torch.nn.functional as F
import numpy as np

def train(model, train_loader, optimizer):
    model.train()
    losses = []
    for x in train_loader:
        x = x.to(ptu.device).float().contiguous()
        loss = model.nll(x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses

def eval_loss(model, data_loader):
    model.eval()
    total_loss = 0
    with torch.no_grad():
        for x in data_loader:
            x = x.to(ptu.device).float().contiguous()
            loss = model.nll(x)
            total_loss += loss * x.shape[0]
        avg_loss = total_loss / len(data_loader.dataset)
    return avg_loss.item()

def train_epochs(model, train_loader, test_loader, train_args):
    epochs, lr = train_args['epochs'], train_args['lr']
    optimizer = optim.Adam(model.parameters(), lr=lr)

    train_losses, test_losses = [], []
    test_loss = eval_loss(model, test_loader)
    test_losses.append(test_loss)  # loss at init
    for epoch in range(epochs):
        model.train()
        epoch_train_losses = train(model, train_loader, optimizer) 
        train_losses.extend(epoch_train_losses)

        test_loss = eval_loss(model, test_loader)
        test_losses.append(test_loss)
            
    return train_losses, test_losses

import copy
from torch.distributions.uniform import Uniform
from torch.distributions.normal import Normal

ptu.set_gpu_mode(False)

class MixtureCDFFlow(nn.Module):
    def __init__(self, 
                 base_dist='uniform', 
                 mixture_dist='gaussian',
                 n_components=4,
                 plot_bounds=(-3,3)):
        super().__init__()
        self.composition = False
        if base_dist == 'uniform':
            self.base_dist = Uniform(0.0, 1.0)
        else:
            raise NotImplementedError

        self.loc = nn.Parameter(torch.randn(n_components), requires_grad=True)
        self.log_scale = nn.Parameter(torch.zeros(n_components), requires_grad=True)
        self.weight_logits = nn.Parameter(torch.zeros(n_components), requires_grad=True)
        if mixture_dist == 'gaussian':
            self.mixture_dist = Normal
        elif mixture_dist == 'logistic':
            raise NotImplementedError
        self.n_components = n_components
        self.plot_bounds = plot_bounds

    def flow(self, x):
        # z = cdf of x
        weights = F.softmax(self.weight_logits, dim=0).unsqueeze(0).repeat(x.shape[0], 1)
        z = (self.mixture_dist(self.loc, self.log_scale.exp()).cdf(x.unsqueeze(1).repeat(1, self.n_components)) * weights).sum(dim=1)

        # log_det = log dz/dx = log pdf(x)
        log_det = (self.mixture_dist(self.loc, self.log_scale.exp()).log_prob(x.unsqueeze(1).repeat(1, self.n_components)).exp() * weights).sum(dim=1).log()

        return z, log_det

    def log_prob(self, x):
        z, log_det = self.flow(x)
        return self.base_dist.log_prob(z) + log_det
 
    # Compute loss as negative log-likelihood
    def nll(self, x):
        return - self.log_prob(x).mean()

class MLP(nn.Module):
    def __init__(self, input_size, n_hidden, hidden_size, output_size):
        super().__init__()
        layers = []
        for _ in range(n_hidden):
            layers.append(nn.Linear(input_size, hidden_size))
            layers.append(nn.ReLU())
            input_size = hidden_size
        layers.append(nn.Linear(hidden_size, output_size))
        self.layers = nn.Sequential(*layers)
    
    def forward(self, x):
        return self.layers(x)

class AutoregressiveFlow(nn.Module):
    """
    Assumes that we're modeling a 2D distribution
    """
    def __init__(self, 
                 dim1_mixture_dist='gaussian', 
                 dim1_n_components=5, 
                 dim2_mixture_dist='gaussian', 
                 dim2_n_components=5,
                 mlp_hidden_size=64,
                 mlp_n_layers=3):
        super().__init__()
        self.dim1_flow = MixtureCDFFlow(mixture_dist=dim1_mixture_dist, n_components=dim1_n_components).to(ptu.device)
        self.mlp = MLP(1, mlp_n_layers, mlp_hidden_size, dim2_n_components * 3).to(ptu.device)
        self.dim2_n_components = dim2_n_components
        self.base_dist = Uniform(ptu.tensor(0.0), ptu.tensor(1.0))
        if dim2_mixture_dist == 'gaussian':
            self.mixture_dist = Normal
        elif dim2_mixture_dist == 'logistic':
            raise NotImplementedError

    def flow(self, x):
        # individually flow on each dim
        x1, x2 = torch.chunk(x, 2, dim=1)
        # dim 1 
        z1, log_det1 = self.dim1_flow.flow(x1.squeeze())
        
        # dim1
        loc, log_scale, weight_logits = torch.chunk(self.mlp(x1), 3, dim=1)
        weights = F.softmax(weight_logits, dim=1)
        z2 = (self.mixture_dist(loc, log_scale.exp()).cdf(
            x2.repeat(1, self.dim2_n_components)) * weights).sum(dim=1)
        log_det2 = (self.mixture_dist(loc, log_scale.exp()).log_prob(
            x2.repeat(1, self.dim2_n_components)).exp() * weights).sum(dim=1).log()
        return torch.cat([z1.unsqueeze(1), z2.unsqueeze(1)], dim=1), torch.cat([log_det1.unsqueeze(1), log_det2.unsqueeze(1)], dim=1)

    def log_prob(self, x):
        z, log_det = self.flow(x)
        return (self.base_dist.log_prob(z) + log_det).mean(dim=1) # shape: [batch_size, dim]

    def nll(self, x):
        return - self.log_prob(x).mean()

def q1_a(train_data, test_data, dset_id):
  """
  train_data: An (n_train, 2) numpy array of floats in R^2
  test_data: An (n_test, 2) numpy array of floats in R^2
  dset_id: An identifying number of which dataset is given (1 or 2). Most likely
             used to set different hyperparameters for different datasets, or
             for plotting a different region of densities

  Returns
  - a (# of training iterations,) numpy array of train_losses evaluated every minibatch
  - a (# of epochs + 1,) numpy array of test_losses evaluated once at initialization and after each epoch
  - a numpy array of size (?,) of probabilities with values in [0, +infinity). 
      Refer to the commented hint.
  - a numpy array of size (n_train, 2) of floats in [0,1]^2. This represents 
      mapping the train set data points through our flow to the latent space. 
  """
  
  """ YOUR CODE HERE """
  # create data loaders
  loader_args = dict(batch_size=128, shuffle=True)
  train_loader = data.DataLoader(train_data, **loader_args)
  test_loader = data.DataLoader(test_data, **loader_args)

  # model
  ar_flow = AutoregressiveFlow()

  # train
  train_losses, test_losses = train_epochs(ar_flow, train_loader, test_loader, dict(epochs=2, lr=5e-3))

  # heatmap
  dx, dy = 0.5, 0.5
  if dset_id == 1:  # face
      x_lim = (-4, 4)
      y_lim = (-4, 4)
  elif dset_id == 2:  # two moons
      x_lim = (-1.5, 2.5)
      y_lim = (-1, 1.5)
  y, x = np.mgrid[slice(y_lim[0], y_lim[1] + dy, dy),
                  slice(x_lim[0], x_lim[1] + dx, dx)]
  mesh_xs = ptu.FloatTensor(np.stack([x, y], axis=2).reshape(-1, 2))
  densities = np.exp(ptu.get_numpy(ar_flow.log_prob(mesh_xs)))

  # latents
  z, _ = ar_flow.flow(ptu.FloatTensor(train_data))
  latents = ptu.get_numpy(z)

  return train_losses, test_losses, densities, latents

class AffineTransform(nn.Module):
    def __init__(self, type, n_hidden=2, hidden_size=256):
        super().__init__()
        self.mask = self.build_mask(type=type)
        self.scale = nn.Parameter(torch.zeros(1), requires_grad=True)
        self.scale_shift = nn.Parameter(torch.zeros(1), requires_grad=True)
        self.mlp = MLP(input_size=2, n_hidden=n_hidden, hidden_size=hidden_size, output_size=2)

    def build_mask(self, type):
        # if type == "left", left half is a one
        # if type == right", right half is a one
        assert type in {"left", "right"}
        if type == "left":
            mask = ptu.FloatTensor([1.0, 0.0])
        elif type == "right":
            mask = ptu.FloatTensor([0.0, 1.0])
        else:
            raise NotImplementedError
        return mask

    def forward(self, x, reverse=False):
        # returns transform(x), log_det
        batch_size = x.shape[0]
        mask = self.mask.repeat(batch_size, 1)
        x_ = x * mask

        log_s, t = self.mlp(x_).split(1, dim=1) #todo: fix
        log_s = self.scale * torch.tanh(log_s) + self.scale_shift
        t = t * (1.0 - mask)
        log_s = log_s * (1.0 - mask)

        if reverse:  # inverting the transformation
            x = (x - t) * torch.exp(-log_s)
        else:
            x = x * torch.exp(log_s) + t
        return x, log_s

class SigmoidFlow(nn.Module):
    def forward(self, x, reverse=False):        
        if reverse:
            z = - torch.log(torch.reciprocal(x) - 1)
        else:
            z = torch.sigmoid(x)
        return z, z.log() + (1-z).log()

class RealNVP(nn.Module):
    def __init__(self, 
                 transforms):
        super().__init__()

        self.prior = torch.distributions.Normal(torch.tensor(0.).to(ptu.device), torch.tensor(1.).to(ptu.device))
        self.transforms = nn.ModuleList(transforms)
        
    def flow(self, x):
        # maps x -> z, and returns the log determinant (not reduced)
        z, log_det = x, torch.zeros_like(x)
        for op in self.transforms:
            z, delta_log_det = op.forward(z)
            log_det += delta_log_det
        return z, log_det

    def invert_flow(self, z):
        # z -> x (inverse of f)
        for op in reversed(self.transforms):
            z, _ = op.forward(z, reverse=True)
        return z

    def log_prob(self, x):
        z, log_det = self.flow(x)
        return torch.sum(log_det, dim=1) + torch.sum(self.prior.log_prob(z), dim=1)

    def sample(self, num_samples):
        z = self.prior.sample([num_samples, 2])
        return self.invert_flow(z)

    def nll(self, x):
        return - self.log_prob(x).mean()

def q1_b(train_data, test_data, dset_id):
  """
  train_data: An (n_train, 2) numpy array of floats in R^2
  test_data: An (n_test, 2) numpy array of floats in R^2
  dset_id: An identifying number of which dataset is given (1 or 2). Most likely
             used to set different hyperparameters for different datasets, or
             for plotting a different region of densities

  Returns
  - a (# of training iterations,) numpy array of train_losses evaluated every minibatch
  - a (# of epochs + 1,) numpy array of test_losses evaluated once at initialization and after each epoch
  - a numpy array of size (?,) of probabilities with values in [0, +infinity). 
      Refer to the commented hint.
  - a numpy array of size (n_train, 2) of floats in R^2. This represents 
      mapping the train set data points through our flow to the latent space. 
  """
  
  """ YOUR CODE HERE """
  # create data loaders
  loader_args = dict(batch_size=128, shuffle=True)
  train_loader = data.DataLoader(train_data, **loader_args)
  test_loader = data.DataLoader(test_data, **loader_args)

  # model
  real_nvp = RealNVP([AffineTransform("left", n_hidden=2, hidden_size=64),
                    AffineTransform("right", n_hidden=2, hidden_size=64),
                    AffineTransform("left", n_hidden=2, hidden_size=64),
                    AffineTransform("right", n_hidden=2, hidden_size=64),
                    AffineTransform("left", n_hidden=2, hidden_size=64),
                    AffineTransform("right", n_hidden=2, hidden_size=64)])

  # train
  train_losses, test_losses = train_epochs(real_nvp, train_loader, test_loader, dict(epochs=2, lr=5e-3))

  # heatmap
  dx, dy = 0.5, 0.5
  if dset_id == 1:  # face
      x_lim = (-4, 4)
      y_lim = (-4, 4)
  elif dset_id == 2:  # two moons
      x_lim = (-1.5, 2.5)
      y_lim = (-1, 1.5)
  y, x = np.mgrid[slice(y_lim[0], y_lim[1] + dy, dy),
                  slice(x_lim[0], x_lim[1] + dx, dx)]
  mesh_xs = ptu.FloatTensor(np.stack([x, y], axis=2).reshape(-1, 2))
  densities = np.exp(ptu.get_numpy(real_nvp.log_prob(mesh_xs)))

  # latents
  z, _ = real_nvp.flow(ptu.FloatTensor(train_data))
  latents = ptu.get_numpy(z)

  return train_losses, test_losses, densities, latents


rng = np.random.RandomState(0)
def make_data(n):
    centers = np.array([[0.0, 0.5], [1.0, -0.2]])
    labels = rng.randint(0, 2, size=n)
    return (centers[labels] + 0.2 * rng.randn(n, 2)).astype('float32')

train_data, test_data = make_data(256), make_data(128)

for name, fn in [('q1_a', q1_a), ('q1_b', q1_b)]:
    torch.manual_seed(0)
    train_losses, test_losses, densities, latents = fn(train_data, test_data, 2)
    print(name, 'train losses', np.round(np.array(train_losses), 4))
    print(name, 'test losses', np.round(np.array(test_losses), 4))
    print(name, 'densities', densities.shape, f'{densities.sum() * 0.25:.4f}', f'{densities.max():.4f}')
    print(name, 'latents', latents.shape, np.round(latents[:4], 4), np.round(latents.mean(0), 4))
