# Source: MIPT Deep Learning School (DLS), homework "Autoencoders" (fully connected part: an Autoencoder of
#   Flatten / Linear / BatchNorm1d / ReLU(inplace=True) with a Reshape module and Tanh, MSELoss, Adam,
#   ReduceLROnPlateau and an EarlyStopping class saving state_dict checkpoints, losses collected as
#   loss.detach().cpu().numpy(), sampling codes with torch.normal(mean=, std=, size=) and from a NumPy
#   multivariate normal, the smile vector; a VAE with Variable(std.data.new(std.size()).normal_()), exp_ and
#   a KL + BCEWithLogitsLoss(reduction="sum") LossVAE module; a conditional VAE with a hand-made one_hot),
#   as a student solved it: https://github.com/anton-srk/dlschool-MIPT  Autoencoders/autoencoders_fc_out.ipynb
# Shrunk: LFW faces (45x45x3, 13000 images) are 32 synthetic 12x12x3 uint8 images (16 train / 16 val) and
#   MNIST is 32 synthetic 1x8x8 "digits" with labels (16 / 16); torchvision's Compose(Resize, RandomCrop,
#   RandomHorizontalFlip, ToTensor, Normalize) is replaced by a few torch lines doing the ToTensor / Normalize /
#   random flip part (no PIL); DIM_CODE 8 instead of 100, BATCH_SIZE 16 instead of 512, num_workers dropped;
#   3 epochs instead of 250/80 with ReduceLROnPlateau patience 0 and EarlyStopping patience 1 (5 and 10) so that
#   both act; attrs (the smile/frown table) are random labels; plots, tqdm, TSNE and the Colab drive copies are
#   dropped (what the plots showed is printed). np.Inf (gone in NumPy 2) is written np.inf.
#   The Linear biases in front of BatchNorm1d get gradients of pure float32 rounding noise (~1e-9, differing
#   between libraries), which Adam turns into lr-sized steps that only eval-mode outputs see: so the eval-mode
#   latent codes are printed as mean absolute values (two of them rounded to 2 decimals), not one by one.
#   The CVAE's Linear layers in front of BatchNorm1d have bias=False (the bias BatchNorm removes anyway): its
#   eval-mode samples are printed one by one, and those noise-driven steps moved them by 6e-4 on an AVX2 machine.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.autograd import Variable
from torch.optim import lr_scheduler
from torch.utils.data import Dataset, DataLoader, TensorDataset

os.chdir(tempfile.mkdtemp())  # the checkpoints are written to the current folder


class MyDataset(Dataset):
    def __init__(self, data, transform=None):
        self.data = data
        self.transform = transform

    def __getitem__(self, index):
        x = self.data[index].astype(np.uint8)
        x = self.transform(x)

        return x

    def __len__(self):
        return len(self.data)


class Reshape(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(self.shape)


class EarlyStopping:
    """Early stops the training if validation loss doesn't improve after a given patience."""
    def __init__(self, patience=7, verbose=False, delta=0):
        self.patience = patience
        self.verbose = verbose
        self.counter = 0
        self.best_score = None
        self.early_stop = False
        self.val_loss_min = np.inf  # np.Inf in the notebook (NumPy 1)
        self.delta = delta

    def __call__(self, val_loss, model):

        score = -val_loss

        if self.best_score is None:
            self.best_score = score
            self.save_checkpoint(val_loss, model)
        elif score < self.best_score + self.delta:
            self.counter += 1
            if self.verbose:
                print(f'EarlyStopping counter: {self.counter} out of {self.patience}')
            if self.counter >= self.patience:
                self.early_stop = True
        else:
            self.best_score = score
            self.save_checkpoint(val_loss, model)
            self.counter = 0

    def save_checkpoint(self, val_loss, model):
        '''Saves model when validation loss decrease.'''
        if self.verbose:
            print(f'Validation loss decreased ({self.val_loss_min:.6f} --> {val_loss:.6f}).  Saving model ...')
        torch.save(model.state_dict(), 'checkpoint.pt')
        self.val_loss_min = val_loss


device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
print(device)

# fetch_dataset(): LFW images and attributes, synthetic here
data = np.random.randint(0, 256, size=(32, 12, 12, 3)).astype(np.float32)
attrs = {'Smiling': np.random.randn(32) * 2, 'Frowning': np.random.randn(32) * 2}

IMAGE_H = data.shape[1]
IMAGE_W = data.shape[2]
IMAGE_SIZE = max(IMAGE_H, IMAGE_W)
# у нас цветные изображения
N_CHANNELS = 3

TRAIN_SIZE = 16
VAL_SIZE = data.shape[0] - TRAIN_SIZE

data_idx = np.arange(data.shape[0])
perm = np.random.permutation(data_idx)  # train_test_split
train_idx, val_idx = perm[:TRAIN_SIZE], perm[TRAIN_SIZE:]
X_train, X_val = data[train_idx], data[val_idx]

BATCH_SIZE = 16


def to_tensor(x):  # transforms.ToTensor() of an HxWxC uint8 image
    return torch.from_numpy(x).permute(2, 0, 1).contiguous().float().div(255)


def normalize(x):  # transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    mean = torch.tensor((0.5, 0.5, 0.5)).view(-1, 1, 1)
    std = torch.tensor((0.5, 0.5, 0.5)).view(-1, 1, 1)
    return x.sub(mean).div(std)


def transforms_train(x):  # RandomHorizontalFlip, ToTensor, Normalize
    x = to_tensor(x)
    if torch.rand(1) < 0.5:
        x = x.flip(-1)
    return normalize(x)


def transforms_test(x):
    return normalize(to_tensor(x))


dataloader_train = DataLoader(MyDataset(data=X_train, transform=transforms_train),
                              batch_size=BATCH_SIZE, shuffle=True)
dataloader_test = DataLoader(MyDataset(data=X_val, transform=transforms_test),
                             batch_size=BATCH_SIZE, shuffle=False)

first = next(iter(dataloader_train))
print('Some initial images', first.shape, first.dtype, first.min(), first.max())
print(0.5 * (first.cpu().numpy().transpose(0, 2, 3, 1) + 1)[0, 0, :3])

DIM_CODE = 8


class Autoencoder(nn.Module):
    def __init__(self):
      super().__init__()
      self.encoder = nn.Sequential(
          nn.Flatten(),
          nn.Linear(N_CHANNELS*IMAGE_H*IMAGE_W, 10*DIM_CODE),
          nn.BatchNorm1d(10*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(10*DIM_CODE, 5*DIM_CODE),
          nn.BatchNorm1d(5*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(5*DIM_CODE, DIM_CODE),
      )

      self.decoder = nn.Sequential(
          nn.Linear(DIM_CODE, 5*DIM_CODE),
          nn.BatchNorm1d(5*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(5*DIM_CODE, 10*DIM_CODE),
          nn.BatchNorm1d(10*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(10*DIM_CODE, N_CHANNELS*IMAGE_H*IMAGE_W),
          Reshape((-1, N_CHANNELS, IMAGE_H, IMAGE_W)),
          nn.Tanh()
      )

    def forward(self, x):
      enc = self.encoder(x)

      latent_code = enc
      reconstruction = self.decoder(latent_code)

      return reconstruction, latent_code


print(Autoencoder())  # summary(Autoencoder().to(device), (3, 45, 45))

criterion = torch.nn.MSELoss()

autoencoder = Autoencoder().to(device)

optimizer = torch.optim.Adam(autoencoder.parameters(), lr=1e-3)

try:
    scheduler = lr_scheduler.ReduceLROnPlateau(optimizer=optimizer,
                                               patience=5,
                                               verbose=True)
except TypeError as error:  # PyTorch 2.7 removed verbose
    print('TypeError:', error)
scheduler = lr_scheduler.ReduceLROnPlateau(optimizer=optimizer, patience=0)

es = EarlyStopping(verbose=True, patience=1)


def train(model, X_train, X_test, num_epoch):
    train_losses = []
    test_losses = []

    for i in range(num_epoch):
        epoch_train_losses = []
        for X_batch in dataloader_train:
            model.train()
            X_batch = X_batch.to(device)
            y_pred, _ = model(X_batch)
            loss = criterion(y_pred, X_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_train_losses.append(loss.detach().cpu().numpy())

        temp_train_losses = np.mean(epoch_train_losses)
        train_losses.append(temp_train_losses)

        model.train(False)
        epoch_test_losses = []

        with torch.no_grad():
          for j, X_batch in enumerate(dataloader_test):
              X_batch = X_batch.to(device)
              if j > 0:
                preds_buff = y_test_pred.detach().cpu().numpy()
              y_test_pred, _ = model(X_batch)
              test_loss = criterion(y_test_pred, X_batch)
              epoch_test_losses.append(test_loss.detach().cpu().numpy())

        temp_test_losses = np.mean(epoch_test_losses)
        scheduler.step(temp_test_losses)
        es(temp_test_losses, model)
        test_losses.append(temp_test_losses)
        print(i, type(temp_train_losses).__name__, temp_train_losses, temp_test_losses,
              optimizer.param_groups[0]['lr'], scheduler.num_bad_epochs, scheduler.best)
        if es.early_stop:
            print("Early stopping")
            break

    return train_losses, test_losses


train_losses, test_losses = train(autoencoder, X_train, X_val, 3)
print(train_losses, test_losses)

torch.save(autoencoder.state_dict(), "auto_fc.h5")
autoencoder.load_state_dict(torch.load("auto_fc.h5"))
print(autoencoder.load_state_dict(torch.load("checkpoint.pt")))

print(autoencoder.eval())

im = autoencoder(next(iter(dataloader_test)).to(device))
print(type(im), len(im), im[0].shape, im[1].shape, im[0].grad_fn)
print(0.5*(im[0][3].detach().cpu().numpy().transpose(1, 2, 0)+1)[0, :2])

for i, X_batch in enumerate(dataloader_train):
  code_vecs = autoencoder(X_batch.to(device))[1]
  if i == 0:
    code_vecs_alles = code_vecs.detach().cpu().numpy()
  else:
    code_vecs_alles = np.vstack((code_vecs_alles, code_vecs.detach().cpu().numpy()))

code_mean, code_std = code_vecs_alles.mean(), code_vecs_alles.std()
print(code_vecs_alles.shape, np.abs(code_vecs_alles).mean(), code_std)

covariance_mat = np.cov(code_vecs_alles.T)
mean_vec = code_vecs_alles.mean(axis=0)
sample_array = np.random.multivariate_normal(mean=mean_vec, cov=covariance_mat, size=25)

# we either sample from normal
z = torch.normal(mean=code_mean, std=code_std, size=(25, DIM_CODE)).to(device)
print(z.dtype, z.shape, ((z - code_mean) / code_std)[0])
# or from the multivariate gaussian
z = torch.Tensor(sample_array).to(device)

z = torch.clamp(z, -0.5, 0.5)
print(z.dtype, z.shape, (z.abs() == 0.5).sum())

output = autoencoder.decoder(z)
output_plot = output.view(-1, 3, 12, 12).detach().cpu().numpy()
print('sample_fc', output_plot.shape, np.abs(output_plot).mean())

smile_idx = np.nonzero(attrs['Smiling'] > 2)[0]
frown_idx = np.nonzero(attrs['Frowning'] > 2)[0]
print(smile_idx.shape, frown_idx.shape)

dataloader_smile = DataLoader(MyDataset(data=data[smile_idx], transform=transforms_train),
                              batch_size=1, shuffle=False)

dataloader_frown = DataLoader(MyDataset(data=data[frown_idx], transform=transforms_train),
                              batch_size=1, shuffle=False)

for i, X_batch in enumerate(dataloader_smile):
  autoencoder.eval()
  code_vecs = autoencoder(X_batch.to(device))[1]
  if i == 0:
    code_vecs_smile = code_vecs.detach().cpu().numpy()
  else:
    code_vecs_smile = np.vstack((code_vecs_smile, code_vecs.detach().cpu().numpy()))

for i, X_batch in enumerate(dataloader_frown):
  autoencoder.eval()
  code_vecs = autoencoder(X_batch.to(device))[1]
  if i == 0:
    code_vecs_frown = code_vecs.detach().cpu().numpy()
  else:
    code_vecs_frown = np.vstack((code_vecs_frown, code_vecs.detach().cpu().numpy()))

mean_smile_vec = code_vecs_smile.mean(axis=0)
mean_frown_vec = code_vecs_frown.mean(axis=0)

diff_vec = mean_smile_vec - mean_frown_vec
print('diff_vec', np.abs(diff_vec).mean())

initial_imgs = autoencoder.decoder(torch.Tensor(code_vecs_frown).to(device))
processed_imgs = autoencoder.decoder(torch.Tensor(code_vecs_frown + diff_vec).to(device))
print((processed_imgs - initial_imgs).abs().mean(dim=(1, 2, 3)))

for i in range(3):
        img = autoencoder.decoder(torch.Tensor(code_vecs_frown + 0.2*i*diff_vec).to(device))[2]
        print('to_smile', i, (0.5*(img.detach().cpu().numpy().transpose(1, 2, 0)+1)).mean())

# getting rid of the normalization, now the data are normalized to 0->1


def transforms_train(x):  # RandomHorizontalFlip, ToTensor
    x = to_tensor(x)
    if torch.rand(1) < 0.5:
        x = x.flip(-1)
    return x


transforms_test = to_tensor
dataloader_train = DataLoader(MyDataset(data=X_train, transform=transforms_train),
                              batch_size=BATCH_SIZE, shuffle=True)
dataloader_test = DataLoader(MyDataset(data=X_val, transform=transforms_test),
                             batch_size=BATCH_SIZE, shuffle=False)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
          nn.Flatten(),
          nn.Linear(N_CHANNELS*IMAGE_H*IMAGE_W, 10*DIM_CODE),
          nn.BatchNorm1d(10*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(10*DIM_CODE, 5*DIM_CODE),
          nn.BatchNorm1d(5*DIM_CODE),
          nn.ReLU(inplace=True),
        )

        self.decoder = nn.Sequential(
          nn.Linear(DIM_CODE, 5*DIM_CODE),
          nn.BatchNorm1d(5*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(5*DIM_CODE, 10*DIM_CODE),
          nn.BatchNorm1d(10*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(10*DIM_CODE, N_CHANNELS*IMAGE_H*IMAGE_W),
          Reshape((-1, N_CHANNELS, IMAGE_H, IMAGE_W)),
          # no activation here
        )

        self.fc_0 = nn.Linear(5*DIM_CODE, DIM_CODE)
        self.fc_1 = nn.Linear(5*DIM_CODE, DIM_CODE)

    def encode(self, x):
        enc = self.encoder(x)
        mu, logsigma = self.fc_0(enc), self.fc_1(enc)

        return mu, logsigma

    def gaussian_sampler(self, mu, logsigma):
        """
        Функция сэмплирует латентные векторы из нормального распределения с параметрами mu и sigma
        """
        if self.training:
            std = logsigma.mul(0.5).exp_()
            eps = Variable(std.data.new(std.size()).normal_())
            return eps.mul(std) + mu
        else:
            return mu

    def decode(self, z):

        reconstruction = self.decoder(z)

        return reconstruction

    def forward(self, x):
        mu, logsigma = self.encode(x)
        sample = self.gaussian_sampler(mu, logsigma)
        reconstruction = self.decode(sample)
        return mu, logsigma, reconstruction


class LossVAE(nn.Module):

  def __init__(self):
    super().__init__()

  def kl_divergence(self, mu, logsigma):
    """
    часть функции потерь, которая отвечает за "близость" латентных представлений разных людей
    """
    loss = -0.5 * torch.sum(1 + logsigma - mu.pow(2) - logsigma.exp())
    return loss

  def log_likelihood(self, x, reconstruction):
    """
    часть функции потерь, которая отвечает за качество реконструкции (как mse в обычном autoencoder)
    """
    # instead of the activation
    loss = nn.BCEWithLogitsLoss(reduction="sum")
    return loss(reconstruction, x)

  def forward(self, x, mu, logsigma, reconstruction):
    kl_div = self.kl_divergence(mu, logsigma)
    log_like = self.log_likelihood(x, reconstruction)
    return (kl_div + log_like).mean()


criterion = LossVAE()
print(criterion)

autoencoder = VAE().to(device)

optimizer = torch.optim.Adam(autoencoder.parameters())

scheduler = lr_scheduler.ReduceLROnPlateau(optimizer=optimizer, patience=0)

es = EarlyStopping(verbose=True, patience=1)


def train_vae(model, X_train, X_test, num_epoch):
    train_losses = []
    test_losses = []

    for i in range(num_epoch):
        epoch_train_losses = []
        for X_batch in dataloader_train:
            model.train()
            X_batch = X_batch.to(device)
            mu, logsigma, y_pred = model(X_batch)
            loss = criterion(X_batch, mu, logsigma, y_pred)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_train_losses.append(loss.detach().cpu().numpy())

        temp_train_losses = np.mean(epoch_train_losses)
        train_losses.append(temp_train_losses)

        model.train(False)
        epoch_test_losses = []

        with torch.no_grad():
          for j, X_batch in enumerate(dataloader_test):
              X_batch = X_batch.to(device)
              if j > 0:
                preds_buff = torch.sigmoid(y_test_pred).detach().cpu().numpy()
              mu_test, logsigma_test, y_test_pred = model(X_batch)
              test_loss = criterion(X_batch, mu_test, logsigma_test, y_test_pred)
              epoch_test_losses.append(test_loss.detach().cpu().numpy())

        temp_test_losses = np.mean(epoch_test_losses)
        scheduler.step(temp_test_losses)
        es(temp_test_losses, model)
        test_losses.append(temp_test_losses)
        print(i, temp_train_losses, temp_test_losses, optimizer.param_groups[0]['lr'])
        if es.early_stop:
            print("Early stopping")
            break

    return train_losses, test_losses


train_losses, test_losses = train_vae(autoencoder, X_train, X_val, 3)

torch.save(autoencoder.state_dict(), "auto_fc_vae.h5")
autoencoder.load_state_dict(torch.load("auto_fc_vae.h5"))
autoencoder.eval()

test_imgs = next(iter(dataloader_test))[:6].to(device)
test_predicted = torch.sigmoid(autoencoder(test_imgs)[2])
test_predicted = test_predicted.detach().cpu().numpy().transpose(0, 2, 3, 1)
print(test_predicted.shape, test_predicted[0, 0, :2])

for i, X_batch in enumerate(dataloader_train):
  code_mu, code_sigma = autoencoder(X_batch.to(device))[0], autoencoder(X_batch.to(device))[1]
  if i == 0:
    code_mu_alles, code_sigma_alles = code_mu.detach().cpu().numpy(), code_sigma.detach().cpu().numpy()
  else:
    code_mu_alles = np.vstack((code_mu_alles, code_mu.detach().cpu().numpy()))
    code_sigma_alles = np.vstack((code_sigma_alles, code_sigma.detach().cpu().numpy()))

print(round(code_mu.abs().mean().item(), 2), code_sigma.exp_().mean())
print(code_mu_alles.shape, code_sigma_alles.mean())

# вспомните про замечание из этого же пункта обычного AE про распределение латентных переменных
z = np.array([np.random.normal(0, 1, DIM_CODE) for i in range(20)])
output = autoencoder.decoder(torch.Tensor(z).to(device))
output = torch.sigmoid(output)
print('sample_fc_vae', output.shape, output.mean())

for i, X_batch in enumerate(dataloader_test):
  X_batch = X_batch.to(device)
  mu, logsigma, y_pred = autoencoder(X_batch)
  code_vecs = autoencoder.gaussian_sampler(mu, logsigma)
  if i == 0:
    code_vecs_alles = code_vecs.detach().cpu().numpy()
  else:
    code_vecs_alles = np.vstack((code_vecs_alles, code_vecs.detach().cpu().numpy()))
print(code_vecs_alles.shape, np.abs(code_vecs_alles).mean())

# MNIST, synthetic: a digit d is a bright row d % 8 and a bright column d // 2 on an 8x8 noise image
labels_all = torch.randint(0, 10, (32,))
images_all = 0.2 * torch.rand(32, 1, 8, 8)
for k, d in enumerate(labels_all):
    images_all[k, 0, d % 8, :] = 1
    images_all[k, 0, :, d // 2] = 1
train_loader = torch.utils.data.DataLoader(TensorDataset(images_all[:16], labels_all[:16]),
                                           batch_size=BATCH_SIZE, shuffle=True)
test_loader = torch.utils.data.DataLoader(TensorDataset(images_all[16:], labels_all[16:]),
                                          batch_size=BATCH_SIZE, shuffle=True)


def one_hot(labels, class_size):
    targets = torch.zeros(labels.size(0), class_size)
    for i, label in enumerate(labels):
        targets[i, label] = 1
    return targets


print(one_hot(torch.tensor([3, 0, 9]), 10))

N_CHANNELS = 1
IMAGE_H = 8
IMAGE_W = 8
DIM_CODE = 8
NUM_CLASSES = 10


class CVAE(nn.Module):
    def __init__(self, num_class):
        super().__init__()
        self.encoder = nn.Sequential(
          nn.Linear(N_CHANNELS*IMAGE_H*IMAGE_W+num_class, 10*DIM_CODE, bias=False),
          nn.BatchNorm1d(10*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(10*DIM_CODE, 5*DIM_CODE, bias=False),
          nn.BatchNorm1d(5*DIM_CODE),
          nn.ReLU(inplace=True),
        )

        self.decoder = nn.Sequential(
          nn.Linear(DIM_CODE+num_class, 5*DIM_CODE, bias=False),
          nn.BatchNorm1d(5*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(5*DIM_CODE, 10*DIM_CODE, bias=False),
          nn.BatchNorm1d(10*DIM_CODE),
          nn.ReLU(inplace=True),
          nn.Linear(10*DIM_CODE, N_CHANNELS*IMAGE_H*IMAGE_W),
          Reshape((-1, N_CHANNELS, IMAGE_H, IMAGE_W)),
        )

        self.fc_0 = nn.Linear(5*DIM_CODE, DIM_CODE)
        self.fc_1 = nn.Linear(5*DIM_CODE, DIM_CODE)

    def encode(self, x):
        enc = self.encoder(x)
        mu, logsigma = self.fc_0(enc), self.fc_1(enc)

        return mu, logsigma

    def gaussian_sampler(self, mu, logsigma):
        """
        Функция сэмплирует латентные векторы из нормального распределения с параметрами mu и sigma
        """
        if self.training:
            std = logsigma.mul(0.5).exp_()
            eps = Variable(std.data.new(std.size()).normal_())
            return eps.mul(std) + mu
        else:
            return mu

    def decode(self, z):

        reconstruction = self.decoder(z)

        return reconstruction

    def forward(self, x, klass):
        x = x.view(-1, IMAGE_H*IMAGE_W)
        x = torch.cat([x, klass], 1)
        mu, logsigma = self.encode(x)
        sample = self.gaussian_sampler(mu, logsigma)
        sample = torch.cat([sample, klass], 1)
        reconstruction = self.decode(sample)
        return mu, logsigma, reconstruction


criterion = LossVAE()

autoencoder = CVAE(NUM_CLASSES).to(device)

optimizer = torch.optim.Adam(autoencoder.parameters(), lr=1e-3)

scheduler = lr_scheduler.ReduceLROnPlateau(optimizer=optimizer, patience=0)

es = EarlyStopping(verbose=True, patience=1)


def train_cvae(model, X_train, X_test, num_epoch):
    train_losses = []
    test_losses = []

    for i in range(num_epoch):
        epoch_train_losses = []
        for X_batch, y_batch in X_train:
            model.train()
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            y_batch = one_hot(y_batch, NUM_CLASSES).to(device)
            mu, logsigma, y_pred = model(X_batch, y_batch)
            loss = criterion(X_batch, mu, logsigma, y_pred)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_train_losses.append(loss.detach().cpu().numpy())

        temp_train_losses = np.mean(epoch_train_losses)
        train_losses.append(temp_train_losses)

        model.train(False)
        epoch_test_losses = []

        with torch.no_grad():
          for j, (X_batch, y_batch) in enumerate(X_test):
              X_batch, y_batch = X_batch.to(device), y_batch.to(device)
              if j > 0:
                preds_buff = torch.sigmoid(y_test_pred).detach().cpu().numpy()
              y_batch = one_hot(y_batch, NUM_CLASSES).to(device)
              mu_test, logsigma_test, y_test_pred = model(X_batch, y_batch)
              test_loss = criterion(X_batch, mu_test, logsigma_test, y_test_pred)
              epoch_test_losses.append(test_loss.detach().cpu().numpy())

        temp_test_losses = np.mean(epoch_test_losses)
        scheduler.step(temp_test_losses)
        es(temp_test_losses, model)
        test_losses.append(temp_test_losses)
        print(i, temp_train_losses, temp_test_losses, optimizer.param_groups[0]['lr'])
        if es.early_stop:
            print("Early stopping")
            break

    return train_losses, test_losses


train_losses, test_losses = train_cvae(autoencoder, train_loader, test_loader, 3)

torch.save(autoencoder.state_dict(), "auto_fc_сvae.h5")
autoencoder.load_state_dict(torch.load("auto_fc_сvae.h5"))
autoencoder.eval()

c = torch.eye(10, 10).to(device)  # [one hot labels for 0-9]
z = torch.randn(10, DIM_CODE).to(device) / 2.5
z = torch.cat([z, c], 1).to(device)
samples = torch.sigmoid(autoencoder.decoder(z)).detach().cpu().numpy()
for i, sample in enumerate(samples[:3]):
    print('cvae_all_digits', i, sample.reshape(8, 8)[0])

digit_arr = np.zeros((20, 10))
digit_arr[:, 5] = 1
# вспомните про замечание из этого же пункта обычного AE про распределение латентных переменных
z = np.array([np.random.normal(0, 1, DIM_CODE) for i in range(20)])
z = np.hstack([z, digit_arr])
output = autoencoder.decoder(torch.Tensor(z).to(device))
output = torch.sigmoid(output).reshape(-1, 1, 8, 8)
print('cvae_fives', output.shape, output.mean(dim=0)[0, 5])

labels = []

for i, (X_batch, y_batch) in enumerate(test_loader):
  X_batch, y_batch = X_batch.to(device), y_batch.to(device)
  labels.append(y_batch.detach().cpu().numpy())
  y_batch = one_hot(y_batch, NUM_CLASSES).to(device)
  mu, logsigma, y_pred = autoencoder(X_batch, y_batch)
  code_vecs = autoencoder.gaussian_sampler(mu, logsigma)
  if i == 0:
    code_vecs_alles = code_vecs.detach().cpu().numpy()
  else:
    code_vecs_alles = np.vstack((code_vecs_alles, code_vecs.detach().cpu().numpy()))

label_arr = np.concatenate(labels)
first_idx = (label_arr == 1)
second_idx = (label_arr == 7)
print(label_arr, np.abs(code_vecs_alles[first_idx+second_idx]).mean().round(2))
