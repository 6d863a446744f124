# Source: DeepLearning.AI, Generative Adversarial Networks (GANs) Specialization (Coursera), course 2 week 1,
# "Evaluating GANs" (C2W1_Assignment: Fréchet Inception Distance with torch.distributions.MultivariateNormal,
# a matrix square root, torch.trace, the feature extractor's fc replaced by nn.Identity, np.cov covariances,
# bilinear resizing with F.interpolate, a DataLoader over a TensorDataset), as a learner completed it:
#   https://github.com/amanchadha/coursera-gan-specialization
#   C2 - Build Better Generative Adversarial Networks/Week 1/C2W1_Assignment.ipynb (code cells in order)
# Shrunk: torchvision's inception_v3 and its weights file are replaced by a small stand-in feature extractor
# defined here (conv, ReLU, adaptive average pooling, flatten, and an `fc` that the notebook replaces with
# nn.Identity, so the features are 8 numbers instead of 2048); the images are resized to 32x32 instead of
# 299x299; the pretrained CelebA generator keeps its seeded initial weights (z_dim 16 instead of 64,
# hidden_dim 4 instead of 64) with a stand-in checkpoint (in memory, io.BytesIO) carrying BatchNorm running
# statistics gathered from 3 generated batches (momentum=None), loaded as the notebook loads its file; device 'cpu' instead of 'cuda'; fid_images_tensor.npz is replaced by 64
# synthetic 3x32x32 images (torch.rand) and n_samples is 64 instead of 512, batch_size 16 instead of 4;
# scipy.linalg.sqrtm is replaced by NumPy's eigendecomposition (the product of two covariance matrices is
# diagonalizable with non-negative eigenvalues); the seaborn/pandas plots are replaced by printing the
# samples' means and covariances (1000 samples instead of 10000 / 5000); tqdm is dropped; the unit tests'
# asserts on the values of the real notebook's data are left out, the others kept.
import torch
import numpy as np
from torch import nn
from torch.utils.data import DataLoader
torch.manual_seed(0) # Set for our testing purposes, please do not change!

class Generator(nn.Module):
    '''
    Generator Class
    Values:
        z_dim: the dimension of the noise vector, a scalar
        im_chan: the number of channels in the images, fitted for the dataset used, a scalar
              (CelebA is rgb, so 3 is your default)
        hidden_dim: the inner dimension, a scalar
    '''
    def __init__(self, z_dim=10, im_chan=3, hidden_dim=64):
        super(Generator, self).__init__()
        self.z_dim = z_dim
        # Build the neural network
        self.gen = nn.Sequential(
            self.make_gen_block(z_dim, hidden_dim * 8),
            self.make_gen_block(hidden_dim * 8, hidden_dim * 4),
            self.make_gen_block(hidden_dim * 4, hidden_dim * 2),
            self.make_gen_block(hidden_dim * 2, hidden_dim),
            self.make_gen_block(hidden_dim, im_chan, kernel_size=4, final_layer=True),
        )

    def make_gen_block(self, input_channels, output_channels, kernel_size=3, stride=2, final_layer=False):
        if not final_layer:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
                nn.BatchNorm2d(output_channels),
                nn.ReLU(inplace=True),
            )
        else:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
                nn.Tanh(),
            )

    def forward(self, noise):
        x = noise.view(len(noise), self.z_dim, 1, 1)
        return self.gen(x)

def get_noise(n_samples, z_dim, device='cpu'):
    return torch.randn(n_samples, z_dim, device=device)

z_dim = 16
image_size = 32
device = 'cpu'

in_coursera = True # Set this to false if you're running this outside Coursera
if in_coursera:
    data = torch.rand(64, 3, image_size, image_size) * 2 - 1  # stands in for fid_images_tensor.npz
    dataset = torch.utils.data.TensorDataset(data, data)

# Stand-in for pretrained_celeba.pth: BatchNorm's running statistics gathered from 3 batches in training
# mode (the weights stay as seeded), saved with torch.save to memory.
import io
checkpoint = io.BytesIO()
with torch.no_grad():
    pretrained = Generator(z_dim, hidden_dim=4)
    for module in pretrained.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # a cumulative average
    for _ in range(3):
        pretrained(get_noise(16, z_dim))
torch.save({"gen": pretrained.state_dict()}, checkpoint)
checkpoint.seek(0)

gen = Generator(z_dim, hidden_dim=4).to(device)
gen.load_state_dict(torch.load(checkpoint, map_location=torch.device(device))["gen"])
gen = gen.eval()


class InceptionStandIn(nn.Module):  # stands in for torchvision.models.inception_v3
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, kernel_size=3, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8, num_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))

inception_model = InceptionStandIn()
inception_model.to(device)
inception_model = inception_model.eval() # Evaluation mode

# UNQ_C1 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED CELL: inception_model.fc
#### START CODE HERE ####
inception_model.fc = torch.nn.Identity()
#### END CODE HERE ####
print(inception_model)

# UNIT TEST
test_identity_noise = torch.randn(100, 100)
assert torch.equal(test_identity_noise, inception_model.fc(test_identity_noise))
print("Success!")

from torch.distributions import MultivariateNormal
mean = torch.Tensor([0, 0]) # Center the mean at the origin
covariance = torch.Tensor( # This matrix shows independence - there are only non-zero values on the diagonal
    [[1, 0],
     [0, 1]]
)
independent_dist = MultivariateNormal(mean, covariance)
samples = independent_dist.sample((1000,))
print(samples.shape, samples.mean(0), samples.T.cov())

mean = torch.Tensor([0, 0])
covariance = torch.Tensor(
    [[2, -1],
     [-1, 2]]
)
covariant_dist = MultivariateNormal(mean, covariance)
samples = covariant_dist.sample((1000,))
print(samples.shape, samples.mean(0), samples.T.cov())
print(covariant_dist.scale_tril, covariant_dist.log_prob(samples[:3]))

# This is the matrix square root function you will be using
def matrix_sqrt(x):
    '''
    Function that takes in a matrix and returns the square root of that matrix.
    For an input matrix A, the output matrix B would be such that B @ B is the matrix A.
    Parameters:
        x: a matrix
    '''
    y = x.cpu().detach().numpy()
    # y = scipy.linalg.sqrtm(y), in NumPy:
    eigenvalues, eigenvectors = np.linalg.eig(y.astype(np.float64))
    y = (eigenvectors * np.sqrt(eigenvalues.astype(complex))) @ np.linalg.inv(eigenvectors)
    return torch.Tensor(y.real, device=x.device)

# UNQ_C2 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED FUNCTION: frechet_distance
def frechet_distance(mu_x, mu_y, sigma_x, sigma_y):
    '''
    Function for returning the Fréchet distance between multivariate Gaussians,
    parameterized by their means and covariance matrices.
    '''
    #### START CODE HERE ####
    return (mu_x - mu_y).dot(mu_x - mu_y) + torch.trace(sigma_x) + torch.trace(sigma_y) - 2*torch.trace(matrix_sqrt(sigma_x @ sigma_y))
    #### END CODE HERE ####

# UNIT TEST

mean1 = torch.Tensor([0, 0]) # Center the mean at the origin
covariance1 = torch.Tensor( # This matrix shows independence - there are only non-zero values on the diagonal
    [[1, 0],
     [0, 1]]
)
dist1 = MultivariateNormal(mean1, covariance1)

mean2 = torch.Tensor([0, 0]) # Center the mean at the origin
covariance2 = torch.Tensor( # This matrix shows dependence
    [[2, -1],
     [-1, 2]]
)
dist2 = MultivariateNormal(mean2, covariance2)

print(frechet_distance(dist1.mean, dist2.mean, dist1.covariance_matrix, dist2.covariance_matrix))
assert torch.isclose(
    frechet_distance(
        dist1.mean, dist2.mean,
        dist1.covariance_matrix, dist2.covariance_matrix
    ),
    4 - 2 * torch.sqrt(torch.tensor(3.))
)

assert (frechet_distance(
        dist1.mean, dist1.mean,
        dist1.covariance_matrix, dist1.covariance_matrix
    ).item() == 0)

print("Success!")

def preprocess(img):
    img = torch.nn.functional.interpolate(img, size=(32, 32), mode='bilinear', align_corners=False)
    return img

import numpy as np
def get_covariance(features):
    return torch.Tensor(np.cov(features.detach().numpy(), rowvar=False))

fake_features_list = []
real_features_list = []

gen.eval()
n_samples = 64 # The total number of samples
batch_size = 16 # Samples per iteration

dataloader = DataLoader(
    dataset,
    batch_size=batch_size,
    shuffle=True)

cur_samples = 0
with torch.no_grad(): # You don't need to calculate gradients here, so you do this to save memory
    try:
        for real_example, _ in dataloader: # Go by batch
            real_samples = real_example
            real_features = inception_model(real_samples.to(device)).detach().to('cpu') # Move features to CPU
            real_features_list.append(real_features)

            fake_samples = get_noise(len(real_example), z_dim).to(device)
            fake_samples = preprocess(gen(fake_samples))
            fake_features = inception_model(fake_samples.to(device)).detach().to('cpu')
            fake_features_list.append(fake_features)
            cur_samples += len(real_samples)
            if cur_samples >= n_samples:
                break
    except:
        print("Error in loop")

# UNQ_C3 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# UNIT TEST COMMENT: Needed as is for autograding
fake_features_all = torch.cat(fake_features_list)
real_features_all = torch.cat(real_features_list)
print(fake_features_all.shape, real_features_all.shape)

# UNQ_C4 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED CELL
#### START CODE HERE ####
mu_fake = fake_features_all.mean(0)
mu_real = real_features_all.mean(0)
sigma_fake = get_covariance(fake_features_all)
sigma_real = get_covariance(real_features_all)
#### END CODE HERE ####

assert tuple(sigma_fake.shape) == (fake_features_all.shape[1], fake_features_all.shape[1])
assert tuple(sigma_real.shape) == (real_features_all.shape[1], real_features_all.shape[1])
assert tuple(mu_fake.shape) == (fake_features_all.shape[1],)
assert tuple(mu_real.shape) == (real_features_all.shape[1],)
print(mu_fake, mu_real)
print(sigma_fake[:3, :3], sigma_real[:3, :3])
print("Success!")

indices = [2, 4, 5]
fake_dist = MultivariateNormal(mu_fake[indices], sigma_fake[indices][:, indices])
fake_samples = fake_dist.sample((1000,))
real_dist = MultivariateNormal(mu_real[indices], sigma_real[indices][:, indices])
real_samples = real_dist.sample((1000,))
print(fake_samples.mean(0), real_samples.mean(0))

with torch.no_grad():
    print(frechet_distance(mu_real, mu_fake, sigma_real, sigma_fake).item())
