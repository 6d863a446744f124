# Source: Yang Song and Stefano Ermon, "Generative Modeling by Estimating Gradients of the Data Distribution"
# (NCSN), the official code https://github.com/ermongroup/ncsn : losses/sliced_sm.py (sliced score matching:
# torch.autograd.grad with create_graph=True, second derivatives through the network), losses/dsm.py,
# models/gmm.py (GMMDist/GMMDistAnneal: torch.multinomial, logsumexp, a score by autograd.grad under
# torch.enable_grad; the GMM energy nn.Module with F.log_softmax without dim) and runners/toy_runner.py
# (Ring with torch.distributions.Normal; ToyRunner.train with sliced_score_estimation_vr on a Softplus MLP,
# langevin_dynamics, anneal_langevin_dynamics, the numbers behind visualize, fisher_information,
# annealed_sampling_exp).
# Shrunk: 30 training steps of batch 32 (10000 of 128); the meshes are 6x6 (100x100 and 20x20); 64 samples
# (1280); langevin_dynamics' default step is 20 (1000) and annealed sampling takes n_steps_each=5 (100);
# matplotlib/seaborn are not test dependencies: the plots print the statistics they would show
# (logging.info is print); the sliced/partial/plain score matching and dsm losses for energy networks, which
# the toy runner does not call, are evaluated on the models/gmm.py GMM module (energy = -log p).
import logging
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.autograd as autograd
from torch.distributions import Normal


# ------------------------------------------------------------------------------------- losses/sliced_sm.py
def single_sliced_score_matching(energy_net, samples, noise=None, detach=False, noise_type='radermacher'):
    samples.requires_grad_(True)
    if noise is None:
        vectors = torch.randn_like(samples)
        if noise_type == 'radermacher':
            vectors = vectors.sign()
        elif noise_type == 'sphere':
            vectors = vectors / torch.norm(vectors, dim=-1, keepdim=True) * np.sqrt(vectors.shape[-1])
        elif noise_type == 'gaussian':
            pass
        else:
            raise ValueError("Noise type not implemented")
    else:
        vectors = noise

    logp = -energy_net(samples).sum()
    grad1 = autograd.grad(logp, samples, create_graph=True)[0]
    gradv = torch.sum(grad1 * vectors)
    loss1 = torch.sum(grad1 * vectors, dim=-1) ** 2 * 0.5
    if detach:
        loss1 = loss1.detach()
    grad2 = autograd.grad(gradv, samples, create_graph=True)[0]
    loss2 = torch.sum(vectors * grad2, dim=-1)
    if detach:
        loss2 = loss2.detach()

    loss = (loss1 + loss2).mean()
    return loss, grad1, grad2


def partial_sliced_score_matching(energy_net, samples, noise=None, detach=False, noise_type='radermacher'):
    samples.requires_grad_(True)
    if noise is None:
        vectors = torch.randn_like(samples)
        if noise_type == 'radermacher':
            vectors = vectors.sign()
        elif noise_type == 'gaussian':
            pass
        else:
            raise ValueError("Noise type not implemented")
    else:
        vectors = noise

    logp = -energy_net(samples).sum()
    grad1 = autograd.grad(logp, samples, create_graph=True)[0]
    gradv = torch.sum(grad1 * vectors)
    loss1 = torch.norm(grad1, dim=-1) ** 2 * 0.5
    if detach:
        loss1 = loss1.detach()
    grad2 = autograd.grad(gradv, samples, create_graph=True)[0]
    loss2 = torch.sum(vectors * grad2, dim=-1)
    if detach:
        loss2 = loss2.detach()

    loss = (loss1 + loss2).mean()
    return loss, grad1, grad2


def sliced_score_matching_vr(energy_net, samples, n_particles=1):
    dup_samples = samples.unsqueeze(0).expand(n_particles, *samples.shape).contiguous().view(-1, *samples.shape[1:])
    dup_samples.requires_grad_(True)
    vectors = torch.randn_like(dup_samples)

    logp = -energy_net(dup_samples).sum()
    grad1 = autograd.grad(logp, dup_samples, create_graph=True)[0]
    loss1 = torch.sum(grad1 * grad1, dim=-1) / 2.
    gradv = torch.sum(grad1 * vectors)
    grad2 = autograd.grad(gradv, dup_samples, create_graph=True)[0]
    loss2 = torch.sum(vectors * grad2, dim=-1)

    loss1 = loss1.view(n_particles, -1).mean(dim=0)
    loss2 = loss2.view(n_particles, -1).mean(dim=0)

    loss = loss1 + loss2
    return loss.mean(), loss1.mean(), loss2.mean()


def sliced_score_estimation_vr(score_net, samples, n_particles=1):
    """
    Be careful if the shape of samples is not B x x_dim!!!!
    """
    dup_samples = samples.unsqueeze(0).expand(n_particles, *samples.shape).contiguous().view(-1, *samples.shape[1:])
    dup_samples.requires_grad_(True)
    vectors = torch.randn_like(dup_samples)

    grad1 = score_net(dup_samples)
    gradv = torch.sum(grad1 * vectors)
    grad2 = autograd.grad(gradv, dup_samples, create_graph=True)[0]

    grad1 = grad1.view(dup_samples.shape[0], -1)
    loss1 = torch.sum(grad1 * grad1, dim=-1) / 2.

    loss2 = torch.sum((vectors * grad2).view(dup_samples.shape[0], -1), dim=-1)

    loss1 = loss1.view(n_particles, -1).mean(dim=0)
    loss2 = loss2.view(n_particles, -1).mean(dim=0)

    loss = loss1 + loss2
    return loss.mean(), loss1.mean(), loss2.mean()


# ------------------------------------------------------------------------------------------- losses/dsm.py
def dsm(energy_net, samples, sigma=1):
    samples.requires_grad_(True)
    vector = torch.randn_like(samples) * sigma
    perturbed_inputs = samples + vector
    logp = -energy_net(perturbed_inputs)
    dlogp = sigma ** 2 * autograd.grad(logp.sum(), perturbed_inputs, create_graph=True)[0]
    kernel = vector
    loss = torch.norm(dlogp + kernel, dim=-1) ** 2
    loss = loss.mean() / 2.

    return loss


def dsm_score_estimation(scorenet, samples, sigma=0.01):
    perturbed_samples = samples + torch.randn_like(samples) * sigma
    target = - 1 / (sigma ** 2) * (perturbed_samples - samples)
    scores = scorenet(perturbed_samples)
    target = target.view(target.shape[0], -1)
    scores = scores.view(scores.shape[0], -1)
    loss = 1 / 2. * ((scores - target) ** 2).sum(dim=-1).mean(dim=0)

    return loss


# ------------------------------------------------------------------------------------------ models/gmm.py
class GMMDistAnneal(object):
    def __init__(self, dim):
        self.mix_probs = torch.tensor([0.8, 0.2])
        # self.means = torch.stack([5 * torch.ones(dim), -torch.ones(dim) * 5], dim=0)
        # self.mix_probs = torch.tensor([0.1, 0.1, 0.8])
        # self.means = torch.stack([5 * torch.ones(dim), torch.zeros(dim), -torch.ones(dim) * 5], dim=0)
        self.means = torch.stack([5 * torch.ones(dim), -torch.ones(dim) * 5], dim=0)
        self.sigma = 1

    def sample(self, n, sigma=1):
        n = n[0]
        mix_idx = torch.multinomial(self.mix_probs, n, replacement=True)
        means = self.means[mix_idx]
        return torch.randn_like(means) * sigma + means


    def log_prob(self, samples, sigma=1):
        logps = []
        for i in range(len(self.mix_probs)):
            logps.append((-((samples - self.means[i]) ** 2).sum(dim=-1) / (2 * sigma ** 2) - 0.5 * np.log(
                2 * np.pi * sigma ** 2)) + self.mix_probs[i].log())
        logp = torch.logsumexp(torch.stack(logps, dim=0), dim=0)
        return logp

    def score(self, samples, sigma=1):
        with torch.enable_grad():
            samples = samples.detach()
            samples.requires_grad_(True)
            log_probs = self.log_prob(samples, sigma).sum()
            return autograd.grad(log_probs, samples)[0]


class GMMDist(object):
    def __init__(self, dim):
        self.mix_probs = torch.tensor([0.8, 0.2])
        # self.means = torch.stack([5 * torch.ones(dim), -torch.ones(dim) * 5], dim=0)
        # self.mix_probs = torch.tensor([0.1, 0.1, 0.8])
        # self.means = torch.stack([5 * torch.ones(dim), torch.zeros(dim), -torch.ones(dim) * 5], dim=0)
        self.means = torch.stack([5 * torch.ones(dim), -torch.ones(dim) * 5], dim=0)
        self.sigma = 1
        self.std = torch.stack([torch.ones(dim) * self.sigma for i in range(len(self.mix_probs))], dim=0)

    def sample(self, n):
        n = n[0]
        mix_idx = torch.multinomial(self.mix_probs, n, replacement=True)
        means = self.means[mix_idx]
        stds = self.std[mix_idx]
        return torch.randn_like(means) * stds + means

    def log_prob(self, samples):
        logps = []
        for i in range(len(self.mix_probs)):
            logps.append((-((samples - self.means[i]) ** 2).sum(dim=-1) / (2 * self.sigma ** 2) - 0.5 * np.log(
                2 * np.pi * self.sigma ** 2)) + self.mix_probs[i].log())
        logp = torch.logsumexp(torch.stack(logps, dim=0), dim=0)
        return logp


class GMM(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.mean = torch.randn(3, dim)
        self.mean[0, :] += 1
        self.mean[2, :] -= 1
        self.mean = nn.Parameter(self.mean)
        self.log_std = nn.Parameter(torch.randn(3, dim))
        self.mix_logits = nn.Parameter(torch.randn(3))

    def forward(self, X):
        energy = (X.unsqueeze(1) - self.mean) ** 2 / (2 * (2 * self.log_std).exp()) + np.log(
            2 * np.pi) / 2. + self.log_std
        log_prob = -energy.sum(dim=-1)
        mix_probs = F.log_softmax(self.mix_logits)
        log_prob += mix_probs
        log_prob = torch.logsumexp(log_prob, dim=-1)
        return log_prob


# ---------------------------------------------------------------------------------- runners/toy_runner.py
class Ring():
    def __init__(self, radius, width):
        self.radius = radius
        self.width = width
        self.r_dist = Normal(loc=radius, scale=width)

    def sample(self, sample_shape):
        theta = torch.rand(sample_shape) * np.pi * 2
        r = self.r_dist.sample(sample_shape)
        x = r * torch.cos(theta)
        y = r * torch.sin(theta)
        return torch.stack([x, y], dim=-1)

    def log_prob(self, inputs):
        r = torch.norm(inputs, dim=-1)
        return self.r_dist.log_prob(r) - torch.log(r * np.pi * 2)


def stats(name, samples):
    samples = torch.as_tensor(samples)
    print("{}: mean {} std {} fraction x>0 {:.4f}".format(name, samples.mean(0).numpy().round(3),
          samples.std(0).numpy().round(3), (samples[:, 0] > 0).float().mean().item()))


class ToyRunner():
    @staticmethod
    def langevin_dynamics(score, init, lr=0.1, step=20):
        for i in range(step):
            current_lr = lr
            init = init + current_lr / 2 * score(init).detach()
            init = init + torch.randn_like(init) * np.sqrt(current_lr)
        return init

    @staticmethod
    def anneal_langevin_dynamics(score, init, sigmas, lr=0.1, n_steps_each=100):
        for sigma in sigmas:
            for i in range(n_steps_each):
                current_lr = lr * (sigma / sigmas[-1]) ** 2
                init = init + current_lr / 2 * score(init, sigma).detach()
                init = init + torch.randn_like(init) * np.sqrt(current_lr)

        return init

    @staticmethod
    def visualize(teacher, model, left_bound=-1., right_bound=1., savefig=None, step=None, device=None):
        mesh = []
        grid_size = 6
        x = np.linspace(left_bound, right_bound, grid_size)
        y = np.linspace(left_bound, right_bound, grid_size)
        for i in x:
            for j in y:
                mesh.append(np.asarray([i, j]))

        mesh = np.stack(mesh, axis=0)
        mesh = torch.from_numpy(mesh).float()
        if device is not None:
            mesh = mesh.to(device)

        logp_true = teacher.log_prob(mesh)
        logp_true = logp_true.view(grid_size, grid_size).exp()
        print('Data density', logp_true.max().item(), logp_true.sum().item(), logp_true.dtype)

        scores = model(mesh.detach())
        mesh = mesh.detach().numpy()
        scores = scores.detach().numpy()
        print('Estimated scores', scores[:3].round(3), scores.dtype)

        samples = teacher.sample((64,))
        samples = samples.detach().cpu().numpy()
        stats('data samples', samples)

        samples = torch.rand(64, 2) * (right_bound - left_bound) + left_bound
        samples = ToyRunner.langevin_dynamics(model, samples).detach().numpy()
        stats('Langevin dynamics model', samples)

        def data_score(x):
            x = x.detach()
            x.requires_grad_(True)
            y = teacher.log_prob(x).sum()
            return autograd.grad(y, x)[0]

        scores = data_score(torch.from_numpy(mesh))
        scores = scores.detach().numpy()
        print('Data scores', scores[:3].round(3), scores.dtype)

        samples = torch.rand(64, 2) * (right_bound - left_bound) + left_bound
        samples = ToyRunner.langevin_dynamics(data_score, samples).detach().numpy()
        stats('Langevin dynamics data', samples)

    def fisher_information(self, energy_net, data, teacher):
        data.requires_grad_(True)
        log_pdf_model = -energy_net(data)
        model_score = autograd.grad(log_pdf_model.sum(), data)[0]
        log_pdf_actual = teacher.log_prob(data)
        actual_score = autograd.grad(log_pdf_actual.sum(), data)[0]
        return 1 / 2 * ((model_score - actual_score) ** 2).sum(1).mean(0)

    def train(self):
        hidden_units = 128
        score = nn.Sequential(
            nn.Linear(2, hidden_units),
            nn.Softplus(),
            nn.Linear(hidden_units, hidden_units),
            nn.Softplus(),
            nn.Linear(hidden_units, 2),
        )

        teacher = GMMDist(dim=2)
        optimizer = optim.Adam(score.parameters(), lr=0.001)

        for step in range(30):
            samples = teacher.sample((32,))

            loss, *_ = sliced_score_estimation_vr(score, samples, n_particles=1)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            if step % 5 == 0:
                print('step: {}, loss: {}'.format(step, round(loss.item(), 4)))

        self.visualize(teacher, score, -8, 8, savefig='tmp')
        return score, teacher

    def annealed_sampling_exp(self, left_bound=-8, right_bound=8):
        teacher = GMMDistAnneal(dim=2)
        mesh = []
        grid_size = 6
        x = np.linspace(left_bound, right_bound, grid_size)
        y = np.linspace(left_bound, right_bound, grid_size)
        for i in x:
            for j in y:
                mesh.append(np.asarray([i, j]))

        mesh = np.stack(mesh, axis=0)
        mesh = torch.from_numpy(mesh).float()

        logp_true = teacher.log_prob(mesh)
        logp_true = logp_true.view(grid_size, grid_size).exp()
        print('Data density', logp_true.diagonal())

        samples = teacher.sample((64,))
        samples = samples.detach().cpu().numpy()
        stats('i.i.d samples', samples)

        samples = torch.rand(64, 2) * (right_bound - left_bound) + left_bound
        samples = ToyRunner.langevin_dynamics(teacher.score, samples).detach().numpy()
        stats('Langevin dynamics samples', samples)

        samples = torch.rand(64, 2) * (right_bound - left_bound) + left_bound
        sigmas = np.exp(np.linspace(np.log(20), 0., 10))
        samples = ToyRunner.anneal_langevin_dynamics(teacher.score, samples, sigmas, n_steps_each=5).detach().numpy()
        stats('Annealed Langevin dynamics samples', samples)


runner = ToyRunner()
score, teacher = runner.train()
print("dsm_score_estimation", dsm_score_estimation(score, teacher.sample((32,)), sigma=0.1).item())
runner.annealed_sampling_exp()

ring = Ring(radius=3., width=0.5)
ring_samples = ring.sample((8,))
print("Ring", ring_samples.shape, ring.log_prob(ring_samples))

# The energy-network losses on the GMM energy model (energy = -log p); fisher_information against GMMDist.
gmm = GMM(dim=2)
energy_net = lambda x: -gmm(x)
data = teacher.sample((16,))
loss, grad1, grad2 = single_sliced_score_matching(energy_net, data.clone())
print("single_sliced_score_matching", loss.item(), grad1[:2], grad2[:2])
loss, grad1, grad2 = single_sliced_score_matching(energy_net, data.clone(), noise_type='sphere')
print("  sphere", loss.item())
loss, grad1, grad2 = partial_sliced_score_matching(energy_net, data.clone(), noise_type='gaussian', detach=True)
print("partial_sliced_score_matching (detach)", loss.item(), loss.requires_grad)
loss, loss1, loss2 = sliced_score_matching_vr(energy_net, data.clone(), n_particles=2)
print("sliced_score_matching_vr", loss.item(), loss1.item(), loss2.item())
loss.backward()
print("gmm grads", gmm.mean.grad, gmm.mix_logits.grad)
print("dsm", dsm(energy_net, data.clone(), sigma=0.5).item())
print("fisher_information", runner.fisher_information(energy_net, data.clone(), teacher).item())
try:
    single_sliced_score_matching(energy_net, data.clone(), noise_type='uniform')
except ValueError as e:
    print("ValueError:", e)
