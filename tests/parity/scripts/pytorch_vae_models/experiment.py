# Source: AntixK, PyTorch-VAE, https://github.com/AntixK/PyTorch-VAE  experiment.py (VAEXperiment).
# pytorch_lightning is not available: VAEXperiment is an nn.Module here, `fit` below is the small loop
# that Lightning's Trainer runs (training_step, backward, Adam step, ExponentialLR step each epoch,
# validation_step under no_grad, then sample_images), self.log_dict prints the logged values (6 decimals),
# and torchvision's save_image is replaced by printing the shape (and, in Lightning's sanity-check validation
# that runs before training, a few statistics) of the images.
# Only the sanity check prints eval-mode numbers (the validation after each epoch runs but logs nothing):
# these models put a biased Conv2d before each BatchNorm2d, whose bias gets a float32-noise gradient (~1e-8,
# mathematically 0) that Adam (eps 1e-8) turns into a step of about +-LR, so BatchNorm's running mean, and
# every eval-mode output after training, depends on rounding (PyTorch against itself on another CPU, or
# against any other implementation); in train mode BatchNorm removes the bias, so the training losses do not.
import os
import math
import torch
from torch import optim
from . import BaseVAE
from .types_ import *
from torch import nn


class VAEXperiment(nn.Module):

    def __init__(self,
                 vae_model: BaseVAE,
                 params: dict) -> None:
        super(VAEXperiment, self).__init__()

        self.model = vae_model
        self.params = params
        self.curr_device = None
        self.hold_graph = False
        try:
            self.hold_graph = self.params['retain_first_backpass']
        except:
            pass

    def log_dict(self, values, sync_dist=False):  # Lightning's logger, printed
        if not self.training and not EVAL_PRINTS:
            return
        print("  " + ", ".join(f"{key}={val:.6f}" for key, val in values.items()))

    def forward(self, input: Tensor, **kwargs) -> Tensor:
        return self.model(input, **kwargs)

    def training_step(self, batch, batch_idx, optimizer_idx = 0):
        real_img, labels = batch
        self.curr_device = real_img.device

        results = self.forward(real_img, labels = labels)
        train_loss = self.model.loss_function(*results,
                                              M_N = self.params['kld_weight'], #al_img.shape[0]/ self.num_train_imgs,
                                              optimizer_idx=optimizer_idx,
                                              batch_idx = batch_idx)

        self.log_dict({key: val.item() for key, val in train_loss.items()}, sync_dist=True)

        return train_loss['loss']

    def validation_step(self, batch, batch_idx, optimizer_idx = 0):
        real_img, labels = batch
        self.curr_device = real_img.device

        results = self.forward(real_img, labels = labels)
        val_loss = self.model.loss_function(*results,
                                            M_N = 1.0, #real_img.shape[0]/ self.num_val_imgs,
                                            optimizer_idx = optimizer_idx,
                                            batch_idx = batch_idx)

        self.log_dict({f"val_{key}": val.item() for key, val in val_loss.items()}, sync_dist=True)

    def sample_images(self, test_loader, num_samples=144):
        # Get sample reconstruction image
        test_input, test_label = next(iter(test_loader))
        test_input = test_input.to(self.curr_device)
        test_label = test_label.to(self.curr_device)

#         test_input, test_label = batch
        recons = self.model.generate(test_input, labels = test_label)
        save_image(recons.data, "recons")

        try:
            samples = self.model.sample(num_samples,
                                        self.curr_device,
                                        labels = test_label)
            save_image(samples.cpu().data, "samples")
        except Warning:
            pass

    def configure_optimizers(self):

        optims = []
        scheds = []

        optimizer = optim.Adam(self.model.parameters(),
                               lr=self.params['LR'],
                               weight_decay=self.params['weight_decay'])
        optims.append(optimizer)
        # Check if more than 1 optimizer is required (Used for adversarial training)
        try:
            if self.params['LR_2'] is not None:
                optimizer2 = optim.Adam(getattr(self.model,self.params['submodel']).parameters(),
                                        lr=self.params['LR_2'])
                optims.append(optimizer2)
        except:
            pass

        try:
            if self.params['scheduler_gamma'] is not None:
                scheduler = optim.lr_scheduler.ExponentialLR(optims[0],
                                                             gamma = self.params['scheduler_gamma'])
                scheds.append(scheduler)

                # Check if another scheduler is required for the second optimizer
                try:
                    if self.params['scheduler_gamma_2'] is not None:
                        scheduler2 = optim.lr_scheduler.ExponentialLR(optims[1],
                                                                      gamma = self.params['scheduler_gamma_2'])
                        scheds.append(scheduler2)
                except:
                    pass
                return optims, scheds
        except:
            return optims


EVAL_PRINTS = True


def save_image(images, name):  # torchvision.utils.save_image(..., normalize=True, nrow=12), printed
    if EVAL_PRINTS:
        print(f"  {name}: {tuple(images.shape)} min={images.min().item():.4f} max={images.max().item():.4f} "
              f"mean={images.mean().item():.4f}")
    else:
        print(f"  {name}: {tuple(images.shape)}")


def fit(experiment, train_loader, val_loader, max_epochs, gradient_clip_val=None):
    """What pytorch_lightning's Trainer(max_epochs=..., gradient_clip_val=...).fit(experiment, datamodule=data)
    does with it (Lightning clips the gradients' total 2-norm before each optimizer step)."""
    configured = experiment.configure_optimizers()
    optims, scheds = configured if isinstance(configured, tuple) else (configured, [])
    global EVAL_PRINTS
    print("sanity check")  # Lightning's num_sanity_val_steps=2: validation before any training
    experiment.eval()
    with torch.no_grad():
        for batch_idx, batch in zip(range(2), val_loader):
            experiment.validation_step(batch, batch_idx)
        experiment.curr_device = batch[0].device
        experiment.sample_images(val_loader, num_samples=4)
    EVAL_PRINTS = False
    for epoch in range(max_epochs):
        print(f"epoch {epoch}: lr={optims[0].param_groups[0]['lr']:.6f}")
        experiment.train()
        for batch_idx, batch in enumerate(train_loader):
            loss = experiment.training_step(batch, batch_idx)
            optims[0].zero_grad()
            loss.backward(retain_graph=experiment.hold_graph)
            if gradient_clip_val is not None:
                torch.nn.utils.clip_grad_norm_(experiment.parameters(), gradient_clip_val)
            optims[0].step()
        for scheduler in scheds:
            scheduler.step()
        experiment.eval()
        with torch.no_grad():
            for batch_idx, batch in enumerate(val_loader):
                experiment.validation_step(batch, batch_idx)
            experiment.sample_images(val_loader, num_samples=4)  # on_validation_end
    EVAL_PRINTS = True
