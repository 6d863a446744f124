# Source: Kevin Murphy, "Probabilistic Machine Learning: Advanced Topics" book code (pyprobml), chapter 21
# (autoencoders), "Autoencoder for MNIST using binary latent code": a straight-through estimator
# (torch.autograd.Function with F.hardtanh of the incoming gradient) after a Conv2d/BatchNorm2d encoder,
# a ConvTranspose2d/BatchNorm2d/Tanh decoder, Adam(betas=(0.5, 0.999)) on nn.MSELoss:
#   https://github.com/probml/pyprobml  notebooks/book2/21/quantized_autoencoder_mnist.ipynb
# Shrunk: torchvision's MNIST (ToTensor + Normalize((0.5,), (0.5,))) replaced by 48 synthetic 1x28x28
# images in [-1, 1] (blurred random strokes), test loader of 16 of them; batch_size 16 instead of 64;
# 2 epochs instead of 5; nlatents 64 instead of 256 and the hidden channels 16/32/64 instead of
# 64/128/256 (the layer structure, kernels, strides and paddings are the notebook's); tqdm left out; the
# plotting cell left out. Added prints: the loss of every step, the STE's gradient and the number of
# active latent bits. Not printed: the BatchNorm running means and eval-mode outputs, as the conv biases
# before each BatchNorm get gradients that are float32 rounding noise (~1e-9, zero in exact arithmetic)
# which Adam scales up to steps of lr with the noise's sign, so those biases differ run to run between
# libraries (running_var, which ignores them, is printed).
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import torch.autograd as autograd
from torch.utils.data import TensorDataset, DataLoader
import numpy as np

device = "cuda:0" if torch.cuda.is_available() else "cpu"
print(device)

# dataset preparation (synthetic stand-in for MNIST, already normalized to [-1, 1])
torch.manual_seed(0)
n_images = 64
images = torch.zeros(n_images, 1, 28, 28)
for n in range(n_images):
    r0, c0 = torch.randint(4, 20, (2,)).tolist()
    length = int(torch.randint(6, 9, (1,)))
    if n % 2 == 0:
        images[n, 0, r0 : r0 + length, c0 : c0 + 2] = 1.0
    else:
        images[n, 0, r0 : r0 + 2, c0 : c0 + length] = 1.0
images = F.avg_pool2d(images, 3, stride=1, padding=1) * 2 - 1
labels = torch.arange(n_images) % 10
trainset = TensorDataset(images[:48], labels[:48])
testset = TensorDataset(images[48:], labels[48:])

trainloader = torch.utils.data.DataLoader(trainset, batch_size=16, shuffle=True)
testloader = torch.utils.data.DataLoader(testset, batch_size=16, shuffle=True)


# defining networks
class STEFunction(autograd.Function):
    @staticmethod
    def forward(ctx, input):
        return (input > 0).float()

    @staticmethod
    def backward(ctx, grad_output):
        return F.hardtanh(grad_output)


class StraightThroughEstimator(nn.Module):
    def __init__(self):
        super(StraightThroughEstimator, self).__init__()

    def forward(self, x):
        x = STEFunction.apply(x)
        return x


nlatents = 64  # was originally 512 (256 in the notebook)


class Autoencoder(nn.Module):
    def __init__(self):
        super(Autoencoder, self).__init__()

        self.encoder = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.Conv2d(64, nlatents, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)),
            nn.BatchNorm2d(nlatents),
            nn.ReLU(),
            StraightThroughEstimator(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(nlatents, 64, kernel_size=(5, 5), stride=(2, 2), padding=(1, 1)),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, kernel_size=(5, 5), stride=(2, 2), padding=(1, 1)),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 16, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.ConvTranspose2d(16, 1, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1)),
            nn.Tanh(),
        )

    def forward(self, x, encode=False, decode=False):
        if encode:
            x = self.encoder(x)
        elif decode:
            x = self.decoder(x)
        else:
            encoding = self.encoder(x)
            x = self.decoder(encoding)
        return x


net = Autoencoder().to(device)
print(net)
optimizer = optim.Adam(net.parameters(), lr=0.001, betas=(0.5, 0.999))
criterion_MSE = nn.MSELoss().to(device)

# the straight-through estimator on its own
x = torch.tensor([-1.5, -0.2, 0.0, 0.3, 2.0], requires_grad=True)
y = STEFunction.apply(x)
print(y)
(y * torch.tensor([3.0, -0.5, 0.25, -2.0, 1.0])).sum().backward()
print(x.grad)

# train loop
epoch = 2
for e in range(epoch):
    print(f"Starting epoch {e} of {epoch}")
    for X, y in trainloader:
        optimizer.zero_grad()
        X = X.to(device)
        reconstruction = net(X)
        loss = criterion_MSE(reconstruction, X)
        loss.backward()
        optimizer.step()
        print(f"  step loss {loss.item():.6f}")
    print(f"Loss: {loss.item()}")

print(net.encoder[3].running_var[:4], net.encoder[3].num_batches_tracked)
print(net.encoder[0].weight.grad.abs().sum())

X, y = next(iter(testloader))
print([X.shape, y.shape])
print(y)
X_in = X.to(device)
latent = net(X_in, encode=True).detach().cpu().numpy()
recon = net(X_in).detach().cpu().numpy()
print([latent.shape, recon.shape])
print(latent.sum(), latent.reshape(16, -1).sum(axis=1))
print(recon.mean(), recon.min(), recon.max())
