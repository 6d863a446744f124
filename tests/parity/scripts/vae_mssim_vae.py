# Source: Anand Krishnamoorthy (AntixK), PyTorch-VAE, https://github.com/AntixK/PyTorch-VAE
#   models/mssim_vae.py (MSSIMVAE: a VAE whose reconstruction loss is the multi-scale structural similarity,
#   computed with a depthwise Gaussian-window conv2d (groups=channels) over 5 avg-pooled scales),
#   configs/mssim_vae.yaml, tests/test_mssimvae.py, experiment.py + run.py (the training; shared in
#   pytorch_vae_models/, the repository's `models` package and VAEXperiment).
# Shrunk: 16 + 8 synthetic 3@32x32 images (smooth random blobs, torch.rand
# upsampled, in [-1, 1], the decoder's Tanh range: in [0, 1] the untrained model's contrast term comes out
# negative, and its fractional power makes the loss nan from the first step) in
# TensorDatasets instead of CelebA 64x64, hidden_dims [8, 16, 32, 512] instead of [32, 64, 128, 256, 512]
# (so 32x32 images reach the 2x2 map decode() views; 32x32 is the least that 5 MS-SSIM scales allow: it pools
# after the last one too),
# latent_dim 8 instead of 128, batch 8, 2 epochs instead of 10. sample() moves z with .cuda(current_device):
# written .to(current_device) here (CPU only). pytorch_lightning is not available: the optimizer and scheduler
# of the config run in pytorch_vae_models.experiment.fit; run.py's seed_everything(1265) is
# torch.manual_seed(1265). The unit test's summary (torchsummary) is left out, its test_sample (cuda) runs on the CPU.
import torch
from pytorch_vae_models import BaseVAE
from torch import nn
from torch.nn import functional as F
from pytorch_vae_models.types_ import *
from math import exp


class MSSIMVAE(BaseVAE):

    def __init__(self,
                 in_channels: int,
                 latent_dim: int,
                 hidden_dims: List = None,
                 window_size: int = 11,
                 size_average: bool = True,
                 **kwargs) -> None:
        super(MSSIMVAE, self).__init__()

        self.latent_dim = latent_dim
        self.in_channels = in_channels

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
        self.fc_mu = nn.Linear(hidden_dims[-1]*4, latent_dim)
        self.fc_var = nn.Linear(hidden_dims[-1]*4, latent_dim)


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

        self.mssim_loss = MSSIM(self.in_channels,
                                window_size,
                                size_average)

    def encode(self, input: Tensor) -> List[Tensor]:
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
        mu = self.fc_mu(result)
        log_var = self.fc_var(result)

        return [mu, log_var]

    def decode(self, z: Tensor) -> Tensor:
        """
        Maps the given latent codes
        onto the image space.
        :param z: (Tensor) [B x D]
        :return: (Tensor) [B x C x H x W]
        """
        result = self.decoder_input(z)
        result = result.view(-1, 512, 2, 2)
        result = self.decoder(result)
        result = self.final_layer(result)
        return result

    def reparameterize(self, mu: Tensor, logvar: Tensor) -> Tensor:
        """
        Reparameterization trick to sample from N(mu, var) from
        N(0,1).
        :param mu: (Tensor) Mean of the latent Gaussian [B x D]
        :param logvar: (Tensor) Standard deviation of the latent Gaussian [B x D]
        :return: (Tensor) [B x D]
        """
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return eps * std + mu

    def forward(self, input: Tensor, **kwargs) -> List[Tensor]:
        mu, log_var = self.encode(input)
        z = self.reparameterize(mu, log_var)
        return  [self.decode(z), input, mu, log_var]

    def loss_function(self,
                      *args: Any,
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
        mu = args[2]
        log_var = args[3]

        kld_weight = kwargs['M_N'] # Account for the minibatch samples from the dataset
        recons_loss = self.mssim_loss(recons, input)


        kld_loss = torch.mean(-0.5 * torch.sum(1 + log_var - mu ** 2 - log_var.exp(), dim = 1), dim = 0)

        loss = recons_loss + kld_weight * kld_loss
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

class MSSIM(nn.Module):

    def __init__(self,
                 in_channels: int = 3,
                 window_size: int=11,
                 size_average:bool = True) -> None:
        """
        Computes the differentiable MS-SSIM loss
        Reference:
        [1] https://github.com/jorge-pessoa/pytorch-msssim/blob/dev/pytorch_msssim/__init__.py
            (MIT License)

        :param in_channels: (Int)
        :param window_size: (Int)
        :param size_average: (Bool)
        """
        super(MSSIM, self).__init__()
        self.in_channels = in_channels
        self.window_size = window_size
        self.size_average = size_average

    def gaussian_window(self, window_size:int, sigma: float) -> Tensor:
        kernel = torch.tensor([exp((x - window_size // 2)**2/(2 * sigma ** 2))
                               for x in range(window_size)])
        return kernel/kernel.sum()

    def create_window(self, window_size, in_channels):
        _1D_window = self.gaussian_window(window_size, 1.5).unsqueeze(1)
        _2D_window = _1D_window.mm(_1D_window.t()).float().unsqueeze(0).unsqueeze(0)
        window = _2D_window.expand(in_channels, 1, window_size, window_size).contiguous()
        return window

    def ssim(self,
             img1: Tensor,
             img2: Tensor,
             window_size: int,
             in_channel: int,
             size_average: bool) -> Tensor:

        device = img1.device
        window = self.create_window(window_size, in_channel).to(device)
        mu1 = F.conv2d(img1, window, padding= window_size//2, groups=in_channel)
        mu2 = F.conv2d(img2, window, padding= window_size//2, groups=in_channel)

        mu1_sq = mu1.pow(2)
        mu2_sq = mu2.pow(2)
        mu1_mu2 = mu1 * mu2

        sigma1_sq = F.conv2d(img1 * img1, window, padding = window_size//2, groups=in_channel) - mu1_sq
        sigma2_sq = F.conv2d(img2 * img2, window, padding = window_size//2, groups=in_channel) - mu2_sq
        sigma12   = F.conv2d(img1 * img2, window, padding = window_size//2, groups=in_channel) - mu1_mu2

        img_range = 1.0 #img1.max() - img1.min() # Dynamic range
        C1 = (0.01 * img_range) ** 2
        C2 = (0.03 * img_range) ** 2

        v1 = 2.0 * sigma12 + C2
        v2 = sigma1_sq + sigma2_sq + C2
        cs = torch.mean(v1 / v2)  # contrast sensitivity

        ssim_map = ((2 * mu1_mu2 + C1) * v1) / ((mu1_sq + mu2_sq + C1) * v2)

        if size_average:
            ret = ssim_map.mean()
        else:
            ret = ssim_map.mean(1).mean(1).mean(1)
        return ret, cs

    def forward(self, img1: Tensor, img2: Tensor) -> Tensor:
        device = img1.device
        weights = torch.FloatTensor([0.0448, 0.2856, 0.3001, 0.2363, 0.1333]).to(device)
        levels = weights.size()[0]
        mssim = []
        mcs = []

        for _ in range(levels):
            sim, cs = self.ssim(img1, img2,
                                self.window_size,
                                self.in_channels,
                                self.size_average)
            mssim.append(sim)
            mcs.append(cs)

            img1 = F.avg_pool2d(img1, (2, 2))
            img2 = F.avg_pool2d(img2, (2, 2))

        mssim = torch.stack(mssim)
        mcs = torch.stack(mcs)

        # # Normalize (to avoid NaNs during training unstable models, not compliant with original definition)
        # if normalize:
        #     mssim = (mssim + 1) / 2
        #     mcs = (mcs + 1) / 2

        pow1 = mcs ** weights
        pow2 = mssim ** weights

        output = torch.prod(pow1[:-1] * pow2[-1])
        return 1 - output




# tests/test_mssimvae.py, on the shrunk model
import unittest
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from pytorch_vae_models.experiment import VAEXperiment, fit

torch.manual_seed(1265)


class TestMSSIMVAE(unittest.TestCase):

    def setUp(self) -> None:
        # self.model2 = VAE(3, 10)
        self.model = MSSIMVAE(3, 10, hidden_dims=[8, 16, 32, 512])

    def test_forward(self):
        x = torch.randn(4, 3, 32, 32)
        y = self.model(x)
        print("Model Output size:", y[0].size())

    def test_loss(self):
        x = torch.randn(4, 3, 32, 32)

        result = self.model(x)
        loss = self.model.loss_function(*result, M_N = 0.005)
        print(loss)

    def test_sample(self):
        y = self.model.sample(6, 'cpu')
        print("Sample size:", y.size())


test = TestMSSIMVAE()
for name in ['test_forward', 'test_loss', 'test_sample']:
    test.setUp()
    getattr(test, name)()

# the MS-SSIM pieces
mssim = MSSIM(3, 11, True)
print(mssim.gaussian_window(11, 1.5))
window = mssim.create_window(11, 3)
print(window.shape, window.is_contiguous(), window[0, 0, 5])
images = F.interpolate(torch.rand(24, 3, 4, 4), size=(32, 32), mode='bilinear', align_corners=False) * 2 - 1
noisy = (images + 0.1 * torch.randn_like(images)).clamp(-1, 1)
print(mssim.ssim(images[:4], noisy[:4], 11, 3, True))
print(mssim.ssim(images[:4], noisy[:4], 11, 3, False))
print(mssim(images[:4], noisy[:4]), mssim(images[:4], images[:4]))

# run.py with configs/mssim_vae.yaml
config = {'model_params': {'name': 'MSSIMVAE', 'in_channels': 3, 'latent_dim': 8, 'hidden_dims': [8, 16, 32, 512]},
          'exp_params': {'LR': 0.005, 'weight_decay': 0.0, 'scheduler_gamma': 0.95, 'kld_weight': 0.00025,
                         'manual_seed': 1265},
          'trainer_params': {'max_epochs': 1}}  # one epoch: with this learning rate the KLD explodes (x25 a step) after it, amplifying a float32 ulp past any tolerance

torch.manual_seed(config['exp_params']['manual_seed'])
model = MSSIMVAE(**config['model_params'])
experiment = VAEXperiment(model, config['exp_params'])

train_loader = DataLoader(TensorDataset(images[:16], torch.zeros(16)), batch_size=8, shuffle=True)
val_loader = DataLoader(TensorDataset(images[16:], torch.zeros(8)), batch_size=8, shuffle=False)
fit(experiment, train_loader, val_loader, **config['trainer_params'])

# after training, in train mode (BatchNorm on the batch's statistics: see pytorch_vae_models/experiment.py)
model.train()
mu, log_var = model.encode(images[16:19])
# (its values, after Adam's steps on near-zero gradients normalized to full-size updates, differ in the
# third decimal with any float32 ulp of a gradient: the shapes and finiteness are what is compared)
print(mu.shape, log_var.shape, bool(torch.isfinite(mu).all()), bool(torch.isfinite(log_var).all()))
