# Source: Phillip Lippe, UvA Deep Learning Course (University of Amsterdam), tutorial 9 "Deep Autoencoders":
# the convolutional Encoder/Decoder (strided Conv2d, ConvTranspose2d with output_padding, GELU, Tanh) with
# type-annotated constructor arguments and classes passed as arguments, the Autoencoder LightningModule
# (F.mse_loss(reduction="none") summed over dims [1,2,3], Adam + ReduceLROnPlateau monitored on val_loss),
# the pixel-shift/mask comparison (torch.roll, mean(keepdims=True)), reconstructions of random and plain
# images (meshgrid without indexing=), decoding random latents, and image retrieval by latent distance
# (torch.cdist, torch.sort).
#   https://github.com/phlippe/uvadlc_notebooks  docs/tutorial_notebooks/tutorial9/AE_CIFAR10.ipynb
# Shrunk: CIFAR10 is 40 synthetic 3x32x32 images (noise around ten blocky class templates) normalized to
# [-1, 1] as the notebook's transform does, split 24/16, plus 16 test images; base_channel_size=4 (not 32),
# latent dims [16, 32] (not [64, 128, 256, 384]), 4 epochs of batch 8 (not 500 of 256); retrieval for 2
# query images among the 24 training images (at most 25 rows: PyTorch's cdist then subtracts directly; past
# 25 rows it goes through a matrix product whose rounding decides the order of the nearly equal distances
# of these barely trained latents); the plots print the losses and values they show; the TensorBoard embedding projector and
# GenerateCallback are left out; no pretrained checkpoints. PyTorch Lightning is not installed: a small
# stand-in (marked) gives seed_everything, save_hyperparameters/hparams/log/device and a Trainer whose
# fit/test loop calls the module's own configure_optimizers/training_step/validation_step/test_step and steps
# the ReduceLROnPlateau scheduler with the monitored val_loss after each epoch.
## Standard libraries
import os
import json
import math
import random
import numpy as np 

## Progress bar
def tqdm(iterable, **kwargs): return iterable  # progress bar left out

## PyTorch
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.data as data
import torch.optim as optim

# ---- Stand-in for PyTorch Lightning (not installed here): seed_everything, a LightningModule with
# save_hyperparameters/hparams/log/device, and a Trainer whose fit/test run the module's own
# configure_optimizers/training_step/validation_step/test_step in a plain loop.
import inspect
class pl:
    @staticmethod
    def seed_everything(seed):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        return seed

    class Callback:
        pass

    class AttributeDict(dict):
        def __getattr__(self, name):
            return self[name]

    class LightningModule(nn.Module):
        def save_hyperparameters(self):
            frame = inspect.getargvalues(inspect.currentframe().f_back)
            self.hparams = pl.AttributeDict({name: frame.locals[name] for name in frame.args[1:]})
            if frame.keywords is not None:
                self.hparams.update(frame.locals[frame.keywords])

        @property
        def device(self):
            return next(self.parameters()).device

        def log(self, name, value, **kwargs):
            self.logged.setdefault(name, []).append((float(value.detach()), self.batch_size))

    class Trainer:
        def __init__(self, max_epochs=1, gradient_clip_val=None, check_val_every_n_epoch=1, **kwargs):
            self.max_epochs, self.gradient_clip_val = max_epochs, gradient_clip_val
            self.check_val_every_n_epoch = check_val_every_n_epoch

        def _run(self, model, loader, step, train=False):
            model.logged = {}
            for batch_idx, batch in enumerate(loader):
                model.batch_size = len(batch[0])
                if not train:
                    with torch.no_grad():
                        step(batch, batch_idx)
                    continue
                loss = step(batch, batch_idx)
                self.optimizer.zero_grad()
                loss.backward()
                if self.gradient_clip_val is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.gradient_clip_val)
                self.optimizer.step()
                if self.interval == "step":
                    self.scheduler.step()
            return {name: sum(v * n for v, n in values) / sum(n for _, n in values) for name, values in model.logged.items()}

        def fit(self, model, train_loader, val_loader=None):
            config = model.configure_optimizers()
            if isinstance(config, dict):  # {"optimizer": ..., "lr_scheduler": ..., "monitor": ...}
                self.optimizer, self.scheduler, monitor = config["optimizer"], config["lr_scheduler"], config["monitor"]
            else:  # [optimizer], [scheduler or {"scheduler": ..., "interval": ...}]
                self.optimizer, self.scheduler, monitor = config[0][0], config[1][0], None
            self.interval = "epoch"
            if isinstance(self.scheduler, dict):
                self.scheduler, self.interval = self.scheduler["scheduler"], self.scheduler["interval"]
            for self.current_epoch in range(self.max_epochs):
                model.train()
                logs = self._run(model, train_loader, model.training_step, train=True)
                if val_loader is not None and (self.current_epoch + 1) % self.check_val_every_n_epoch == 0:
                    model.eval()
                    logs.update(self._run(model, val_loader, model.validation_step))
                print(f"Epoch {self.current_epoch}:", ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))
                if self.interval == "epoch":
                    self.scheduler.step(logs[monitor]) if monitor else self.scheduler.step()

        def test(self, model, dataloaders, verbose=False):
            model.eval()
            return [self._run(model, dataloaders, model.test_step)]
# ---- end of the stand-in

# Setting the seed
pl.seed_everything(42)

# Ensure that all operations are deterministic on GPU (if used) for reproducibility
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False

device = torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
print("Device:", device)

# Stand-in for torchvision's CIFAR10: images in [0, 1] (noise around ten class templates), transform per item
templates = torch.rand(10, 3, 4, 4).repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)  # blocks of 8x8 pixels
class CIFAR10(data.Dataset):
    def __init__(self, n, transform):
        self.targets = torch.randint(0, 10, (n,)).tolist()
        self.data = 0.8 * templates[self.targets] + 0.2 * torch.rand(n, 3, 32, 32)
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.transform(self.data[index]), self.targets[index]

# Transformations applied on each image => only make them a tensor
transform = lambda img: (img - 0.5) / 0.5  # transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,),(0.5,))])

# Loading the training dataset. We need to split it into a training and validation part
train_dataset = CIFAR10(40, transform=transform)
pl.seed_everything(42)
train_set, val_set = torch.utils.data.random_split(train_dataset, [24, 16])

# Loading the test set
test_set = CIFAR10(16, transform=transform)

# We define a set of data loaders that we can use for various purposes later.
train_loader = data.DataLoader(train_set, batch_size=8, shuffle=True, drop_last=True, pin_memory=True)
val_loader = data.DataLoader(val_set, batch_size=8, shuffle=False, drop_last=False)
test_loader = data.DataLoader(test_set, batch_size=8, shuffle=False, drop_last=False)

def get_train_images(num):
    return torch.stack([train_dataset[i][0] for i in range(num)], dim=0)

class Encoder(nn.Module):
    
    def __init__(self, 
                 num_input_channels : int, 
                 base_channel_size : int, 
                 latent_dim : int, 
                 act_fn : object = nn.GELU):
        """
        Inputs: 
            - num_input_channels : Number of input channels of the image. For CIFAR, this parameter is 3
            - base_channel_size : Number of channels we use in the first convolutional layers. Deeper layers might use a duplicate of it.
            - latent_dim : Dimensionality of latent representation z
            - act_fn : Activation function used throughout the encoder network
        """
        super().__init__()
        c_hid = base_channel_size
        self.net = nn.Sequential(
            nn.Conv2d(num_input_channels, c_hid, kernel_size=3, padding=1, stride=2), # 32x32 => 16x16
            act_fn(),
            nn.Conv2d(c_hid, c_hid, kernel_size=3, padding=1),
            act_fn(),
            nn.Conv2d(c_hid, 2*c_hid, kernel_size=3, padding=1, stride=2), # 16x16 => 8x8
            act_fn(),
            nn.Conv2d(2*c_hid, 2*c_hid, kernel_size=3, padding=1),
            act_fn(),
            nn.Conv2d(2*c_hid, 2*c_hid, kernel_size=3, padding=1, stride=2), # 8x8 => 4x4
            act_fn(),
            nn.Flatten(), # Image grid to single feature vector
            nn.Linear(2*16*c_hid, latent_dim)
        )
    
    def forward(self, x):
        return self.net(x)

class Decoder(nn.Module):
    
    def __init__(self, 
                 num_input_channels : int, 
                 base_channel_size : int, 
                 latent_dim : int, 
                 act_fn : object = nn.GELU):
        """
        Inputs: 
            - num_input_channels : Number of channels of the image to reconstruct. For CIFAR, this parameter is 3
            - base_channel_size : Number of channels we use in the last convolutional layers. Early layers might use a duplicate of it.
            - latent_dim : Dimensionality of latent representation z
            - act_fn : Activation function used throughout the decoder network
        """
        super().__init__()
        c_hid = base_channel_size
        self.linear = nn.Sequential(
            nn.Linear(latent_dim, 2*16*c_hid),
            act_fn()
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2*c_hid, 2*c_hid, kernel_size=3, output_padding=1, padding=1, stride=2), # 4x4 => 8x8
            act_fn(),
            nn.Conv2d(2*c_hid, 2*c_hid, kernel_size=3, padding=1),
            act_fn(),
            nn.ConvTranspose2d(2*c_hid, c_hid, kernel_size=3, output_padding=1, padding=1, stride=2), # 8x8 => 16x16
            act_fn(),
            nn.Conv2d(c_hid, c_hid, kernel_size=3, padding=1),
            act_fn(),
            nn.ConvTranspose2d(c_hid, num_input_channels, kernel_size=3, output_padding=1, padding=1, stride=2), # 16x16 => 32x32
            nn.Tanh() # The input images is scaled between -1 and 1, hence the output has to be bounded as well
        )
    
    def forward(self, x):
        x = self.linear(x)
        x = x.reshape(x.shape[0], -1, 4, 4)
        x = self.net(x)
        return x

class Autoencoder(pl.LightningModule):
    
    def __init__(self, 
                 base_channel_size: int, 
                 latent_dim: int, 
                 encoder_class : object = Encoder,
                 decoder_class : object = Decoder,
                 num_input_channels: int = 3, 
                 width: int = 32, 
                 height: int = 32):
        super().__init__()
        # Saving hyperparameters of autoencoder
        self.save_hyperparameters() 
        # Creating encoder and decoder
        self.encoder = encoder_class(num_input_channels, base_channel_size, latent_dim)
        self.decoder = decoder_class(num_input_channels, base_channel_size, latent_dim)
        # Example input array needed for visualizing the graph of the network
        self.example_input_array = torch.zeros(2, num_input_channels, width, height)
        
    def forward(self, x):
        """
        The forward function takes in an image and returns the reconstructed image
        """
        z = self.encoder(x)
        x_hat = self.decoder(z)
        return x_hat
    
    def _get_reconstruction_loss(self, batch):
        """
        Given a batch of images, this function returns the reconstruction loss (MSE in our case)
        """
        x, _ = batch # We do not need the labels
        x_hat = self.forward(x)
        loss = F.mse_loss(x, x_hat, reduction="none")
        loss = loss.sum(dim=[1,2,3]).mean(dim=[0])
        return loss
    
    def configure_optimizers(self):
        optimizer = optim.Adam(self.parameters(), lr=1e-3)
        # Using a scheduler is optional but can be helpful.
        # The scheduler reduces the LR if the validation performance hasn't improved for the last N epochs
        scheduler = optim.lr_scheduler.ReduceLROnPlateau(optimizer, 
                                                         mode='min', 
                                                         factor=0.2, 
                                                         patience=20, 
                                                         min_lr=5e-5)
        return {"optimizer": optimizer, "lr_scheduler": scheduler, "monitor": "val_loss"}
    
    def training_step(self, batch, batch_idx):
        loss = self._get_reconstruction_loss(batch)                             
        self.log('train_loss', loss)
        return loss
    
    def validation_step(self, batch, batch_idx):
        loss = self._get_reconstruction_loss(batch)
        self.log('val_loss', loss)
    
    def test_step(self, batch, batch_idx):
        loss = self._get_reconstruction_loss(batch)
        self.log('test_loss', loss)

def compare_imgs(img1, img2, title_prefix=""):
    # Calculate MSE loss between both images
    loss = F.mse_loss(img1, img2, reduction="sum")
    # Plot images for visual comparison
    # (the plot's title)
    print(f"{title_prefix} Loss: {loss.item():4.4f}")

for i in range(2):
    # Load example image
    img, _ = train_dataset[i]
    img_mean = img.mean(dim=[1,2], keepdims=True)

    # Shift image by one pixel
    SHIFT = 1
    img_shifted = torch.roll(img, shifts=SHIFT, dims=1)
    img_shifted = torch.roll(img_shifted, shifts=SHIFT, dims=2)
    img_shifted[:,:1,:] = img_mean
    img_shifted[:,:,:1] = img_mean
    compare_imgs(img, img_shifted, "Shifted -")

    # Set half of the image to zero
    img_masked = img.clone()
    img_masked[:,:img_masked.shape[1]//2,:] = img_mean
    compare_imgs(img, img_masked, "Masked -")

def train_cifar(latent_dim):
    # Create a PyTorch Lightning trainer with the generation callback
    trainer = pl.Trainer(accelerator="gpu" if str(device).startswith("cuda") else "cpu",
                         devices=1,
                         max_epochs=4)
    
    model = Autoencoder(base_channel_size=4, latent_dim=latent_dim)
    trainer.fit(model, train_loader, val_loader)
    print("ReduceLROnPlateau:", trainer.scheduler.best, trainer.scheduler.num_bad_epochs, trainer.scheduler.get_last_lr())
    # Test best model on validation and test set
    val_result = trainer.test(model, val_loader, verbose=False)
    test_result = trainer.test(model, test_loader, verbose=False)
    result = {"test": test_result, "val": val_result}
    return model, result

model_dict = {}
for latent_dim in [16, 32]:
    model_ld, result_ld = train_cifar(latent_dim)
    model_dict[latent_dim] = {"model": model_ld, "result": result_ld}

latent_dims = sorted([k for k in model_dict])
val_scores = [model_dict[k]["result"]["val"][0]["test_loss"] for k in latent_dims]

# (the plot of the reconstruction error over latent dimensionality)
print("Reconstruction error over latent dimensionality", latent_dims, [round(s, 4) for s in val_scores])

def visualize_reconstructions(model, input_imgs):
    # Reconstruct images
    model.eval()
    with torch.no_grad():
        reconst_imgs = model(input_imgs.to(model.device))
    reconst_imgs = reconst_imgs.cpu()
    
    # Plotting
    imgs = torch.stack([input_imgs, reconst_imgs], dim=1).flatten(0,1)
    # (the grid: its shape and each reconstruction's error)
    print(f"Reconstructed from {model.hparams.latent_dim} latents", imgs.shape,
          ((reconst_imgs - input_imgs) ** 2).sum(dim=[1, 2, 3]))

input_imgs = get_train_images(4)
for latent_dim in model_dict:
    visualize_reconstructions(model_dict[latent_dim]["model"], input_imgs)

rand_imgs = torch.rand(2, 3, 32, 32) * 2 - 1
visualize_reconstructions(model_dict[32]["model"], rand_imgs)

plain_imgs = torch.zeros(4, 3, 32, 32)

# Single color channel
plain_imgs[1,0] = 1 
# Checkboard pattern
plain_imgs[2,:,:16,:16] = 1
plain_imgs[2,:,16:,16:] = -1
# Color progression
xx, yy = torch.meshgrid(torch.linspace(-1,1,32), torch.linspace(-1,1,32))
plain_imgs[3,0,:,:] = xx
plain_imgs[3,1,:,:] = yy

visualize_reconstructions(model_dict[32]["model"], plain_imgs)

model = model_dict[32]["model"]
latent_vectors = torch.randn(8, model.hparams.latent_dim, device=model.device)
with torch.no_grad():
    imgs = model.decoder(latent_vectors)
    imgs = imgs.cpu()

# (the grid of generated images: their means and ranges)
print(imgs.shape, imgs.mean(dim=[1, 2, 3]), imgs.amin().item(), imgs.amax().item())

# We use the following model throughout this section. 
# If you want to try a different latent dimensionality, change it here!
model = model_dict[16]["model"] 

def embed_imgs(model, data_loader):
    # Encode all images in the data_laoder using model, and return both images and encodings
    img_list, embed_list = [], []
    model.eval()
    for imgs, _ in tqdm(data_loader, desc="Encoding images", leave=False):
        with torch.no_grad():
            z = model.encoder(imgs.to(model.device))
        img_list.append(imgs)
        embed_list.append(z)
    return (torch.cat(img_list, dim=0), torch.cat(embed_list, dim=0))

train_img_embeds = embed_imgs(model, train_loader)
test_img_embeds = embed_imgs(model, test_loader)
print(train_img_embeds[0].shape, train_img_embeds[1].shape, test_img_embeds[1].shape)

def find_similar_images(query_img, query_z, key_embeds, K=8):
    # Find closest K images. We use the euclidean distance here but other like cosine distance can also be used.
    dist = torch.cdist(query_z[None,:], key_embeds[1], p=2)
    dist = dist.squeeze(dim=0)
    dist, indices = torch.sort(dist)
    # Plot K closest images
    imgs_to_display = torch.cat([query_img[None], key_embeds[0][indices[:K]]], dim=0)
    # (the grid: the nearest images' distances and their distance in pixel space to the query)
    print("Closest distances:", dist[:K])
    print("Pixel distances:", ((imgs_to_display[1:] - query_img[None]) ** 2).sum(dim=[1, 2, 3]))

# Plot the closest images for the first N test images as example
for i in range(2):
    find_similar_images(test_img_embeds[0][i], test_img_embeds[1][i], key_embeds=train_img_embeds)
