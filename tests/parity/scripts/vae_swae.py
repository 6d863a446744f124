# Source: Anand Krishnamoorthy (AntixK), PyTorch-VAE, https://github.com/AntixK/PyTorch-VAE
#   models/swae.py (SWAE: sliced Wasserstein distance between encoded and prior samples along random
#   normal or Cauchy projections, sorted per projection), configs/swae.yaml, tests/test_swae.py,
#   experiment.py + run.py (the training; shared in pytorch_vae_models/, the repository's `models` package).
# Shrunk: 16 + 8 synthetic 3@8x8 images (torch.rand * 2 - 1, the Tanh range) in TensorDatasets instead of
# CelebA 64x64, hidden_dims [16, 512] instead of [32, 64, 128, 256, 512] (so 8x8 images reach the 2x2 map
# decode() views), latent_dim 8 and 20 projections instead of 128 and 200, batch 8, 2 epochs instead of 10;
# the training uses the config's commented alternative projection_dist "cauchy" (the unit test the default
# "normal"). pytorch_lightning is not available: the optimizer and scheduler of the config run in
# pytorch_vae_models.experiment.fit; run.py's seed_everything(1265) is torch.manual_seed(1265). The unit
# test's summary (torchsummary) is left out.
import torch
from pytorch_vae_models import BaseVAE
from torch import nn
from torch.nn import functional as F
from torch import distributions as dist
from pytorch_vae_models.types_ import *


class SWAE(BaseVAE):

    def __init__(self,
                 in_channels: int,
                 latent_dim: int,
                 hidden_dims: List = None,
                 reg_weight: int = 100,
                 wasserstein_deg: float= 2.,
                 num_projections: int = 50,
                 projection_dist: str = 'normal',
                    **kwargs) -> None:
        super(SWAE, self).__init__()

        self.latent_dim = latent_dim
        self.reg_weight = reg_weight
        self.p = wasserstein_deg
        self.num_projections = num_projections
        self.proj_dist = projection_dist

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
        self.fc_z = nn.Linear(hidden_dims[-1]*4, latent_dim)


        # Build Decoder
        modules = []

        self.decoder_input = nn.Linear(latent_dim, hidden_dims[-1] * 4)

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

    def encode(self, input: Tensor) -> Tensor:
        """
        Encodes the input by passing through the encoder network
        and returns the latent codes.
        :param input: (Tensor) Input tensor to encoder [N x C x H x W]
        :return: (Tensor) List of latent codes
        """
        result = self.encoder(input)
        result = torch.flatten(result, start_dim=1)

        # Split the result into mu and var components
        # of the latent Gaussian distribution
        z = self.fc_z(result)
        return z

    def decode(self, z: Tensor) -> Tensor:
        result = self.decoder_input(z)
        result = result.view(-1, 512, 2, 2)
        result = self.decoder(result)
        result = self.final_layer(result)
        return result

    def forward(self, input: Tensor, **kwargs) -> List[Tensor]:
        z = self.encode(input)
        return  [self.decode(z), input, z]

    def loss_function(self,
                      *args,
                      **kwargs) -> dict:
        recons = args[0]
        input = args[1]
        z = args[2]

        batch_size = input.size(0)
        bias_corr = batch_size *  (batch_size - 1)
        reg_weight = self.reg_weight / bias_corr

        recons_loss_l2 = F.mse_loss(recons, input)
        recons_loss_l1 = F.l1_loss(recons, input)

        swd_loss = self.compute_swd(z, self.p, reg_weight)

        loss = recons_loss_l2 + recons_loss_l1 + swd_loss
        return {'loss': loss, 'Reconstruction_Loss':(recons_loss_l2 + recons_loss_l1), 'SWD': swd_loss}

    def get_random_projections(self, latent_dim: int, num_samples: int) -> Tensor:
        """
        Returns random samples from latent distribution's (Gaussian)
        unit sphere for projecting the encoded samples and the
        distribution samples.

        :param latent_dim: (Int) Dimensionality of the latent space (D)
        :param num_samples: (Int) Number of samples required (S)
        :return: Random projections from the latent unit sphere
        """
        if self.proj_dist == 'normal':
            rand_samples = torch.randn(num_samples, latent_dim)
        elif self.proj_dist == 'cauchy':
            rand_samples = dist.Cauchy(torch.tensor([0.0]),
                                       torch.tensor([1.0])).sample((num_samples, latent_dim)).squeeze()
        else:
            raise ValueError('Unknown projection distribution.')

        rand_proj = rand_samples / rand_samples.norm(dim=1).view(-1,1)
        return rand_proj # [S x D]


    def compute_swd(self,
                    z: Tensor,
                    p: float,
                    reg_weight: float) -> Tensor:
        """
        Computes the Sliced Wasserstein Distance (SWD) - which consists of
        randomly projecting the encoded and prior vectors and computing
        their Wasserstein distance along those projections.

        :param z: Latent samples # [N  x D]
        :param p: Value for the p^th Wasserstein distance
        :param reg_weight:
        :return:
        """
        prior_z = torch.randn_like(z) # [N x D]
        device = z.device

        proj_matrix = self.get_random_projections(self.latent_dim,
                                                  num_samples=self.num_projections).transpose(0,1).to(device)

        latent_projections = z.matmul(proj_matrix) # [N x S]
        prior_projections = prior_z.matmul(proj_matrix) # [N x S]

        # The Wasserstein distance is computed by sorting the two projections
        # across the batches and computing their element-wise l2 distance
        w_dist = torch.sort(latent_projections.t(), dim=1)[0] - \
                 torch.sort(prior_projections.t(), dim=1)[0]
        w_dist = w_dist.pow(p)
        return reg_weight * w_dist.mean()

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
        z = torch.randn(num_samples,
                        self.latent_dim)

        z = z.to(current_device)

        samples = self.decode(z)
        return samples

    def generate(self, x: Tensor, **kwargs) -> Tensor:
        """
        Given an input image x, returns the reconstructed image
        :param x: (Tensor) [B x C x H x W]
        :return: (Tensor) [B x C x H x W]
        """

        return self.forward(x)[0]


# tests/test_swae.py, on the shrunk model
import unittest
from torch.utils.data import DataLoader, TensorDataset
from pytorch_vae_models.experiment import VAEXperiment, fit

torch.manual_seed(1265)


class TestSWAE(unittest.TestCase):

    def setUp(self) -> None:
        self.model = SWAE(3, 10, reg_weight = 100, hidden_dims=[16, 512])

    def test_forward(self):
        x = torch.randn(4, 3, 8, 8)
        y = self.model(x)
        print("Model Output size:", y[0].size())
        # print("Model2 Output size:", self.model2(x)[0].size())

    def test_loss(self):
        x = torch.randn(4, 3, 8, 8)

        result = self.model(x)
        loss = self.model.loss_function(*result)
        print(loss)


test = TestSWAE()
for name in ['test_forward', 'test_loss']:
    test.setUp()
    getattr(test, name)()

# run.py with configs/swae.yaml
config = {'model_params': {'name': 'SWAE', 'in_channels': 3, 'latent_dim': 8, 'reg_weight': 100,
                           'wasserstein_deg': 2.0, 'num_projections': 20, 'projection_dist': "cauchy",
                           'hidden_dims': [16, 512]},
          'exp_params': {'LR': 0.005, 'weight_decay': 0.0, 'scheduler_gamma': 0.95, 'kld_weight': 0.00025,
                         'manual_seed': 1265},
          'trainer_params': {'max_epochs': 2}}

torch.manual_seed(config['exp_params']['manual_seed'])
model = SWAE(**config['model_params'])
proj = model.get_random_projections(4, 3)
print(proj, proj.norm(dim=1))
experiment = VAEXperiment(model, config['exp_params'])

train_images = torch.rand(16, 3, 8, 8) * 2 - 1
val_images = torch.rand(8, 3, 8, 8) * 2 - 1
train_loader = DataLoader(TensorDataset(train_images, torch.zeros(16)), batch_size=8, shuffle=True)
val_loader = DataLoader(TensorDataset(val_images, torch.zeros(8)), batch_size=8, shuffle=False)
fit(experiment, train_loader, val_loader, **config['trainer_params'])

# after training, in train mode (BatchNorm on the batch's statistics: see pytorch_vae_models/experiment.py)
model.train()
z = model.encode(val_images[:3])
print(z)
print(model.compute_swd(z, model.p, 1.0))
model.proj_dist = 'uniform'
try:
    model.get_random_projections(4, 3)
except ValueError as e:
    print(e)
