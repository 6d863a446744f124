# Source: Anand Krishnamoorthy (AntixK), PyTorch-VAE, https://github.com/AntixK/PyTorch-VAE
#   models/cat_vae.py (CategoricalVAE, alias GumbelVAE from models/__init__.py: a categorical latent sampled
#   with the Gumbel-softmax trick, temperature annealed with NumPy, KL to the uniform categorical, samples
#   drawn as NumPy one-hot codes; its unused torch.distributions.OneHotCategorical prior is built and, here,
#   also sampled), configs/cat_vae.yaml, tests/test_cat_vae.py, experiment.py + run.py (the training;
#   shared in pytorch_vae_models/, the repository's `models` package and VAEXperiment).
# Shrunk: 16 + 8 synthetic 3@8x8 images (torch.rand * 2 - 1, the Tanh range) in TensorDatasets instead of
# CelebA 64x64, hidden_dims [16, 512] instead of [32, 64, 128, 256, 512] (so 8x8 images reach the 2x2 map
# decode() views), latent_dim 4 and categorical_dim 6 instead of 512 and 40, batch 8, 2 epochs instead of
# 10. pytorch_lightning is not available: the optimizer and scheduler of the config run in
# pytorch_vae_models.experiment.fit; run.py's seed_everything(1265) is torch.manual_seed(1265) (NumPy keeps
# the runner's seed). The unit test's summary (torchsummary) is left out, its test_sample (cuda) runs on the CPU.
import torch
import numpy as np
from pytorch_vae_models import BaseVAE
from torch import nn
from torch.nn import functional as F
from pytorch_vae_models.types_ import *


class CategoricalVAE(BaseVAE):

    def __init__(self,
                 in_channels: int,
                 latent_dim: int,
                 categorical_dim: int = 40, # Num classes
                 hidden_dims: List = None,
                 temperature: float = 0.5,
                 anneal_rate: float = 3e-5,
                 anneal_interval: int = 100, # every 100 batches
                 alpha: float = 30.,
                 **kwargs) -> None:
        super(CategoricalVAE, self).__init__()

        self.latent_dim = latent_dim
        self.categorical_dim = categorical_dim
        self.temp = temperature
        self.min_temp = temperature
        self.anneal_rate = anneal_rate
        self.anneal_interval = anneal_interval
        self.alpha = alpha

        modules = []
        if hidden_dims is None:
            hidden_dims = [32, 64, 128, 256, 512]

        # Build Encoder
        for h_dim in hidden_dims:
            modules.append(
                nn.Sequential(
                    nn.Conv2d(in_channels, out_channels=h_dim,
                              kernel_size= 3, stride= 2, padding  = 1),
                    nn.BatchNorm2d(h_dim),
                    nn.LeakyReLU())
            )
            in_channels = h_dim

        self.encoder = nn.Sequential(*modules)
        self.fc_z = nn.Linear(hidden_dims[-1]*4,
                               self.latent_dim * self.categorical_dim)

        # Build Decoder
        modules = []

        self.decoder_input = nn.Linear(self.latent_dim * self.categorical_dim
                                       , hidden_dims[-1] * 4)

        hidden_dims.reverse()

        for i in range(len(hidden_dims) - 1):
            modules.append(
                nn.Sequential(
                    nn.ConvTranspose2d(hidden_dims[i],
                                       hidden_dims[i + 1],
                                       kernel_size=3,
                                       stride = 2,
                                       padding=1,
                                       output_padding=1),
                    nn.BatchNorm2d(hidden_dims[i + 1]),
                    nn.LeakyReLU())
            )



        self.decoder = nn.Sequential(*modules)

        self.final_layer = nn.Sequential(
                            nn.ConvTranspose2d(hidden_dims[-1],
                                               hidden_dims[-1],
                                               kernel_size=3,
                                               stride=2,
                                               padding=1,
                                               output_padding=1),
                            nn.BatchNorm2d(hidden_dims[-1]),
                            nn.LeakyReLU(),
                            nn.Conv2d(hidden_dims[-1], out_channels= 3,
                                      kernel_size= 3, padding= 1),
                            nn.Tanh())
        self.sampling_dist = torch.distributions.OneHotCategorical(1. / categorical_dim * torch.ones((self.categorical_dim, 1)))

    def encode(self, input: Tensor) -> List[Tensor]:
        """
        Encodes the input by passing through the encoder network
        and returns the latent codes.
        :param input: (Tensor) Input tensor to encoder [B x C x H x W]
        :return: (Tensor) Latent code [B x D x Q]
        """
        result = self.encoder(input)
        result = torch.flatten(result, start_dim=1)

        # Split the result into mu and var components
        # of the latent Gaussian distribution
        z = self.fc_z(result)
        z = z.view(-1, self.latent_dim, self.categorical_dim)
        return [z]

    def decode(self, z: Tensor) -> Tensor:
        """
        Maps the given latent codes
        onto the image space.
        :param z: (Tensor) [B x D x Q]
        :return: (Tensor) [B x C x H x W]
        """
        result = self.decoder_input(z)
        result = result.view(-1, 512, 2, 2)
        result = self.decoder(result)
        result = self.final_layer(result)
        return result

    def reparameterize(self, z: Tensor, eps:float = 1e-7) -> Tensor:
        """
        Gumbel-softmax trick to sample from Categorical Distribution
        :param z: (Tensor) Latent Codes [B x D x Q]
        :return: (Tensor) [B x D]
        """
        # Sample from Gumbel
        u = torch.rand_like(z)
        g = - torch.log(- torch.log(u + eps) + eps)

        # Gumbel-Softmax sample
        s = F.softmax((z + g) / self.temp, dim=-1)
        s = s.view(-1, self.latent_dim * self.categorical_dim)
        return s


    def forward(self, input: Tensor, **kwargs) -> List[Tensor]:
        q = self.encode(input)[0]
        z = self.reparameterize(q)
        return  [self.decode(z), input, q]

    def loss_function(self,
                      *args,
                      **kwargs) -> dict:
        """
        Computes the VAE loss function.
        KL(N(\mu, \sigma), N(0, 1)) = \log \frac{1}{\sigma} + \frac{\sigma^2 + \mu^2}{2} - \frac{1}{2}
        :param args:
        :param kwargs:
        :return:
        """
        recons = args[0]
        input = args[1]
        q = args[2]

        q_p = F.softmax(q, dim=-1) # Convert the categorical codes into probabilities

        kld_weight = kwargs['M_N'] # Account for the minibatch samples from the dataset
        batch_idx = kwargs['batch_idx']

        # Anneal the temperature at regular intervals
        if batch_idx % self.anneal_interval == 0 and self.training:
            self.temp = np.maximum(self.temp * np.exp(- self.anneal_rate * batch_idx),
                                   self.min_temp)

        recons_loss =F.mse_loss(recons, input, reduction='mean')

        # KL divergence between gumbel-softmax distribution
        eps = 1e-7

        # Entropy of the logits
        h1 = q_p * torch.log(q_p + eps)

        # Cross entropy with the categorical distribution
        h2 = q_p * np.log(1. / self.categorical_dim + eps)
        kld_loss = torch.mean(torch.sum(h1 - h2, dim =(1,2)), dim=0)

        # kld_weight = 1.2
        loss = self.alpha * recons_loss + kld_weight * kld_loss
        return {'loss': loss, 'Reconstruction_Loss':recons_loss, 'KLD':-kld_loss}

    def sample(self,
               num_samples:int,
               current_device: int, **kwargs) -> Tensor:
        """
        Samples from the latent space and return the corresponding
        image space map.
        :param num_samples: (Int) Number of samples
        :param current_device: (Int) Device to run the model
        :return: (Tensor)
        """
        # [S x D x Q]

        M = num_samples * self.latent_dim
        np_y = np.zeros((M, self.categorical_dim), dtype=np.float32)
        np_y[range(M), np.random.choice(self.categorical_dim, M)] = 1
        np_y = np.reshape(np_y, [M // self.latent_dim, self.latent_dim, self.categorical_dim])
        z = torch.from_numpy(np_y)

        # z = self.sampling_dist.sample((num_samples * self.latent_dim, ))
        z = z.view(num_samples, self.latent_dim * self.categorical_dim).to(current_device)
        samples = self.decode(z)
        return samples

    def generate(self, x: Tensor, **kwargs) -> Tensor:
        """
        Given an input image x, returns the reconstructed image
        :param x: (Tensor) [B x C x H x W]
        :return: (Tensor) [B x C x H x W]
        """

        return self.forward(x)[0]

GumbelVAE = CategoricalVAE  # models/__init__.py

# tests/test_cat_vae.py, on the shrunk model
import unittest
from torch.utils.data import DataLoader, TensorDataset
from pytorch_vae_models.experiment import VAEXperiment, fit

torch.manual_seed(1265)


class TestVAE(unittest.TestCase):

    def setUp(self) -> None:
        # self.model2 = VAE(3, 10)
        self.model = GumbelVAE(3, 10, hidden_dims=[16, 512])

    def test_forward(self):
        x = torch.randn(4, 3, 8, 8)
        y = self.model(x)
        print("Model Output size:", y[0].size())
        # print("Model2 Output size:", self.model2(x)[0].size())

    def test_loss(self):
        x = torch.randn(8, 3, 8, 8)

        result = self.model(x)
        loss = self.model.loss_function(*result, M_N = 0.005, batch_idx=5)
        print(loss)


    def test_sample(self):
        y = self.model.sample(6, 'cpu')
        print(y.shape)


test = TestVAE()
for name in ['test_forward', 'test_loss', 'test_sample']:
    test.setUp()
    getattr(test, name)()

# run.py with configs/cat_vae.yaml
config = {'model_params': {'name': 'CategoricalVAE', 'in_channels': 3, 'latent_dim': 4, 'categorical_dim': 6,
                           'temperature': 0.5, 'anneal_rate': 0.00003, 'anneal_interval': 100, 'alpha': 1.0,
                           'hidden_dims': [16, 512]},
          'exp_params': {'LR': 0.005, 'weight_decay': 0.0, 'scheduler_gamma': 0.95, 'kld_weight': 0.00025,
                         'manual_seed': 1265},
          'trainer_params': {'max_epochs': 2}}

torch.manual_seed(config['exp_params']['manual_seed'])
model = CategoricalVAE(**config['model_params'])
prior = model.sampling_dist
print(prior.probs.shape, prior.batch_shape, prior.event_shape)
print(prior.sample((2,)))
q = model.encode(torch.rand(2, 3, 8, 8) * 2 - 1)[0]
print(q.shape)
print(model.reparameterize(q))
experiment = VAEXperiment(model, config['exp_params'])

train_images = torch.rand(16, 3, 8, 8) * 2 - 1
val_images = torch.rand(8, 3, 8, 8) * 2 - 1
train_loader = DataLoader(TensorDataset(train_images, torch.zeros(16)), batch_size=8, shuffle=True)
val_loader = DataLoader(TensorDataset(val_images, torch.zeros(8)), batch_size=8, shuffle=False)
fit(experiment, train_loader, val_loader, **config['trainer_params'])
print(type(model.temp).__name__, model.temp)

# after training, in train mode (BatchNorm on the batch's statistics: see pytorch_vae_models/experiment.py)
model.train()
q = model.encode(val_images[:2])[0]
print(F.softmax(q, dim=-1))
model.temp = np.maximum(model.temp * np.exp(- model.anneal_rate * 1000), 0.1)  # an annealing to below 0.5
print(model.temp, model.reparameterize(q).view(2, 4, 6).argmax(dim=-1))
