# Source: Phillip Lippe, UvA Deep Learning Course (University of Amsterdam), tutorial 8 "Deep Energy-Based
# Generative Models": a CNN energy function with a hand-written Swish, the Sampler keeping a buffer of past
# samples (np.random.binomial, random.choices, chunk) and generating by Langevin dynamics on the input
# (requires_grad switched off for the parameters, torch.set_grad_enabled/is_grad_enabled, noise.normal_,
# in-place .data.add_/.clamp_ on the input and its gradient, grad.detach_/zero_, model.train(is_training)),
# the DeepEnergyModel LightningModule (contrastive divergence + regularization, Adam with betas=(0.0, 0.999),
# StepLR), GenerateCallback.generate_imgs, and the out-of-distribution scores of noisy/flipped/tiny images.
#   https://github.com/phlippe/uvadlc_notebooks  docs/tutorial_notebooks/tutorial8/Deep_Energy_Models.ipynb
# Shrunk: MNIST is 64 synthetic 1x28x28 images (noise around ten class templates) normalized to [-1, 1] as
# the notebook's transform does, plus 32 test images; batch 16, 2 epochs of 4 batches (not 60 epochs of
# batch 128), CNNModel(hidden_features=16) (default 32), 20 Langevin steps per training batch (not 60),
# the generation 32 steps (not 256), 64 random images for the score; the tensorboard callbacks and plots
# print the numbers they would show; no pretrained checkpoint. PyTorch Lightning is not installed: a small
# stand-in (marked) gives seed_everything, save_hyperparameters/hparams/log/device, Callback, and a Trainer
# whose fit loop calls the module's own configure_optimizers/training_step/validation_step (clipping the
# gradient norm as gradient_clip_val=0.1 does, StepLR stepped per epoch); callbacks are not run by it.
## Standard libraries
import os
import json
import math
import numpy as np 
import random

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

# Stand-in for torchvision's MNIST: images in [0, 1] (noise around ten class templates), transform per item
templates = torch.rand(10, 1, 28, 28) * (torch.rand(10, 1, 28, 28) > 0.6)
class MNIST(data.Dataset):
    def __init__(self, n, transform):
        self.targets = torch.randint(0, 10, (n,))
        self.data = 0.8 * templates[self.targets] + 0.2 * torch.rand(n, 1, 28, 28)
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.transform(self.data[index]), int(self.targets[index])

# Transformations applied on each image => make them a tensor and normalize between -1 and 1
transform = lambda img: (img - 0.5) / 0.5  # transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])

# Loading the training dataset. We need to split it into a training and validation part
train_set = MNIST(64, transform=transform)

# Loading the test set
test_set = MNIST(32, transform=transform)

# We define a set of data loaders that we can use for various purposes later.
# Note that for actually training a model, we will use different data loaders
# with a lower batch size.
train_loader = data.DataLoader(train_set, batch_size=16, shuffle=True,  drop_last=True,  pin_memory=True)
test_loader  = data.DataLoader(test_set,  batch_size=16, shuffle=False, drop_last=False)

class Swish(nn.Module):
    
    def forward(self, x):
        return x * torch.sigmoid(x)


class CNNModel(nn.Module):

    def __init__(self, hidden_features=32, out_dim=1, **kwargs):
        super().__init__()
        # We increase the hidden dimension over layers. Here pre-calculated for simplicity.
        c_hid1 = hidden_features//2
        c_hid2 = hidden_features
        c_hid3 = hidden_features*2
        
        # Series of convolutions and Swish activation functions
        self.cnn_layers = nn.Sequential(
                nn.Conv2d(1, c_hid1, kernel_size=5, stride=2, padding=4), # [16x16] - Larger padding to get 32x32 image
                Swish(),
                nn.Conv2d(c_hid1, c_hid2, kernel_size=3, stride=2, padding=1), #  [8x8]
                Swish(),
                nn.Conv2d(c_hid2, c_hid3, kernel_size=3, stride=2, padding=1), # [4x4]
                Swish(),
                nn.Conv2d(c_hid3, c_hid3, kernel_size=3, stride=2, padding=1), # [2x2]
                Swish(),
                nn.Flatten(),
                nn.Linear(c_hid3*4, c_hid3),
                Swish(),
                nn.Linear(c_hid3, out_dim)
        )

    def forward(self, x):
        x = self.cnn_layers(x).squeeze(dim=-1)
        return x

class Sampler:

    def __init__(self, model, img_shape, sample_size, max_len=8192):
        """
        Inputs:
            model - Neural network to use for modeling E_theta
            img_shape - Shape of the images to model
            sample_size - Batch size of the samples
            max_len - Maximum number of data points to keep in the buffer
        """
        super().__init__()
        self.model = model
        self.img_shape = img_shape
        self.sample_size = sample_size
        self.max_len = max_len
        self.examples = [(torch.rand((1,)+img_shape)*2-1) for _ in range(self.sample_size)]

    def sample_new_exmps(self, steps=60, step_size=10):
        """
        Function for getting a new batch of "fake" images.
        Inputs:
            steps - Number of iterations in the MCMC algorithm
            step_size - Learning rate nu in the algorithm above
        """
        # Choose 95% of the batch from the buffer, 5% generate from scratch
        n_new = np.random.binomial(self.sample_size, 0.05)
        rand_imgs = torch.rand((n_new,) + self.img_shape) * 2 - 1
        old_imgs = torch.cat(random.choices(self.examples, k=self.sample_size-n_new), dim=0)
        inp_imgs = torch.cat([rand_imgs, old_imgs], dim=0).detach().to(device)

        # Perform MCMC sampling
        inp_imgs = Sampler.generate_samples(self.model, inp_imgs, steps=steps, step_size=step_size)

        # Add new images to the buffer and remove old ones if needed
        self.examples = list(inp_imgs.to(torch.device("cpu")).chunk(self.sample_size, dim=0)) + self.examples
        self.examples = self.examples[:self.max_len]
        return inp_imgs

    @staticmethod
    def generate_samples(model, inp_imgs, steps=60, step_size=10, return_img_per_step=False):
        """
        Function for sampling images for a given model. 
        Inputs:
            model - Neural network to use for modeling E_theta
            inp_imgs - Images to start from for sampling. If you want to generate new images, enter noise between -1 and 1.
            steps - Number of iterations in the MCMC algorithm.
            step_size - Learning rate nu in the algorithm above
            return_img_per_step - If True, we return the sample at every iteration of the MCMC
        """
        # Before MCMC: set model parameters to "required_grad=False"
        # because we are only interested in the gradients of the input. 
        is_training = model.training
        model.eval()
        for p in model.parameters():
            p.requires_grad = False
        inp_imgs.requires_grad = True
        
        # Enable gradient calculation if not already the case
        had_gradients_enabled = torch.is_grad_enabled()
        torch.set_grad_enabled(True)
        
        # We use a buffer tensor in which we generate noise each loop iteration.
        # More efficient than creating a new tensor every iteration.
        noise = torch.randn(inp_imgs.shape, device=inp_imgs.device)
        
        # List for storing generations at each step (for later analysis)
        imgs_per_step = []
        
        # Loop over K (steps)
        for _ in range(steps):
            # Part 1: Add noise to the input.
            noise.normal_(0, 0.005)
            inp_imgs.data.add_(noise.data)
            inp_imgs.data.clamp_(min=-1.0, max=1.0)
            
            # Part 2: calculate gradients for the current input.
            out_imgs = -model(inp_imgs)
            out_imgs.sum().backward()
            inp_imgs.grad.data.clamp_(-0.03, 0.03) # For stabilizing and preventing too high gradients

            # Apply gradients to our current samples
            inp_imgs.data.add_(-step_size * inp_imgs.grad.data)
            inp_imgs.grad.detach_()
            inp_imgs.grad.zero_()
            inp_imgs.data.clamp_(min=-1.0, max=1.0)
            
            if return_img_per_step:
                imgs_per_step.append(inp_imgs.clone().detach())
        
        # Reactivate gradients for parameters for training
        for p in model.parameters():
            p.requires_grad = True
        model.train(is_training)
        
        # Reset gradient calculation to setting before this function
        torch.set_grad_enabled(had_gradients_enabled)

        if return_img_per_step:
            return torch.stack(imgs_per_step, dim=0)
        else:
            return inp_imgs

class DeepEnergyModel(pl.LightningModule):
    
    def __init__(self, img_shape, batch_size, alpha=0.1, lr=1e-4, beta1=0.0, **CNN_args):
        super().__init__()
        self.save_hyperparameters()
        
        self.cnn = CNNModel(**CNN_args)
        self.sampler = Sampler(self.cnn, img_shape=img_shape, sample_size=batch_size)
        self.example_input_array = torch.zeros(1, *img_shape)
 
    def forward(self, x):
        z = self.cnn(x)
        return z

    def configure_optimizers(self):
        # Energy models can have issues with momentum as the loss surfaces changes with its parameters. 
        # Hence, we set it to 0 by default. 
        optimizer = optim.Adam(self.parameters(), lr=self.hparams.lr, betas=(self.hparams.beta1, 0.999))
        scheduler = optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.97) # Exponential decay over epochs
        return [optimizer], [scheduler]

    def training_step(self, batch, batch_idx):
        # We add minimal noise to the original images to prevent the model from focusing on purely "clean" inputs
        real_imgs, _ = batch
        small_noise = torch.randn_like(real_imgs) * 0.005
        real_imgs.add_(small_noise).clamp_(min=-1.0, max=1.0)
        
        # Obtain samples
        fake_imgs = self.sampler.sample_new_exmps(steps=20, step_size=10)
        
        # Predict energy score for all images
        inp_imgs = torch.cat([real_imgs, fake_imgs], dim=0)
        real_out, fake_out = self.cnn(inp_imgs).chunk(2, dim=0)
        
        # Calculate losses
        reg_loss = self.hparams.alpha * (real_out ** 2 + fake_out ** 2).mean()
        cdiv_loss = fake_out.mean() - real_out.mean()
        loss = reg_loss + cdiv_loss
        
        # Logging
        self.log('loss', loss)
        self.log('loss_regularization', reg_loss)
        self.log('loss_contrastive_divergence', cdiv_loss)
        self.log('metrics_avg_real', real_out.mean())
        self.log('metrics_avg_fake', fake_out.mean())
        return loss

    def validation_step(self, batch, batch_idx):
        # For validating, we calculate the contrastive divergence between purely random images and unseen examples
        # Note that the validation/test step of energy-based models depends on what we are interested in the model
        real_imgs, _ = batch
        fake_imgs = torch.rand_like(real_imgs) * 2 - 1
        
        inp_imgs = torch.cat([real_imgs, fake_imgs], dim=0)
        real_out, fake_out = self.cnn(inp_imgs).chunk(2, dim=0)
        
        cdiv = fake_out.mean() - real_out.mean()
        self.log('val_contrastive_divergence', cdiv)
        self.log('val_fake_out', fake_out.mean())
        self.log('val_real_out', real_out.mean())

class GenerateCallback(pl.Callback):

    def __init__(self, batch_size=8, vis_steps=8, num_steps=256, every_n_epochs=5):
        super().__init__()
        self.batch_size = batch_size         # Number of images to generate
        self.vis_steps = vis_steps           # Number of steps within generation to visualize
        self.num_steps = num_steps           # Number of steps to take during generation
        self.every_n_epochs = every_n_epochs # Only save those images every N epochs (otherwise tensorboard gets quite large)

    def generate_imgs(self, pl_module):
        pl_module.eval()
        start_imgs = torch.rand((self.batch_size,) + pl_module.hparams["img_shape"]).to(pl_module.device)
        start_imgs = start_imgs * 2 - 1
        torch.set_grad_enabled(True)  # Tracking gradients for sampling necessary
        imgs_per_step = Sampler.generate_samples(pl_module.cnn, start_imgs, steps=self.num_steps, step_size=10, return_img_per_step=True)
        torch.set_grad_enabled(False)
        pl_module.train()
        return imgs_per_step

def train_model(**kwargs):
    # Create a PyTorch Lightning trainer with the generation callback
    trainer = pl.Trainer(accelerator="gpu" if str(device).startswith("cuda") else "cpu",
                         devices=1,
                         max_epochs=2,
                         gradient_clip_val=0.1)
    pl.seed_everything(42)
    model = DeepEnergyModel(**kwargs)
    trainer.fit(model, train_loader, test_loader)
    print("Learning rate after 2 epochs:", trainer.optimizer.param_groups[0]["lr"])
    # No testing as we are more interested in other properties
    return model

model = train_model(img_shape=(1,28,28), 
                    batch_size=train_loader.batch_size,
                    lr=1e-4,
                    beta1=0.0,
                    hidden_features=16)
print("Sampler buffer:", len(model.sampler.examples), "images,", model.sampler.examples[0].shape)
print("Grad enabled:", torch.is_grad_enabled(), "requires_grad:", all(p.requires_grad for p in model.parameters()))

model.to(device)
pl.seed_everything(43)
callback = GenerateCallback(batch_size=4, vis_steps=8, num_steps=32)
imgs_per_step = callback.generate_imgs(model)
imgs_per_step = imgs_per_step.cpu()
print("Grad enabled after generate_imgs:", torch.is_grad_enabled())
torch.set_grad_enabled(True)  # (restored: the notebook leaves it off; scripts run after this one in the same process need it)

for i in range(imgs_per_step.shape[1]):
    step_size = callback.num_steps // callback.vis_steps
    imgs_to_plot = imgs_per_step[step_size-1::step_size,i]
    imgs_to_plot = torch.cat([imgs_per_step[0:1,i],imgs_to_plot], dim=0)
    # (the grid of generation steps: each step's mean pixel value)
    print(f"Generation {i}:", imgs_to_plot.shape, imgs_to_plot.mean(dim=[1,2,3]))

with torch.no_grad():
    rand_imgs = torch.rand((64,) + model.hparams.img_shape).to(model.device)
    rand_imgs = rand_imgs * 2 - 1.0
    rand_out = model.cnn(rand_imgs).mean()
    print(f"Average score for random images: {rand_out.item():4.4f}")

with torch.no_grad():
    train_imgs,_ = next(iter(train_loader))
    train_imgs = train_imgs.to(model.device)
    train_out = model.cnn(train_imgs).mean()
    print(f"Average score for training images: {train_out.item():4.4f}")

@torch.no_grad()
def compare_images(img1, img2):
    imgs = torch.stack([img1, img2], dim=0).to(model.device)
    score1, score2 = model.cnn(imgs).cpu().chunk(2, dim=0)
    print(f"Score original image: {score1.item():4.4f}")
    print(f"Score transformed image: {score2.item():4.4f}")

test_imgs, _ = next(iter(test_loader))
exmp_img = test_imgs[0].to(model.device)

img_noisy = exmp_img + torch.randn_like(exmp_img) * 0.3
img_noisy.clamp_(min=-1.0, max=1.0)
compare_images(exmp_img, img_noisy)

img_flipped = exmp_img.flip(dims=(1,2))
compare_images(exmp_img, img_flipped)

img_tiny = torch.zeros_like(exmp_img)-1
img_tiny[:,exmp_img.shape[1]//2:,exmp_img.shape[2]//2:] = exmp_img[:,::2,::2]
compare_images(exmp_img, img_tiny)
