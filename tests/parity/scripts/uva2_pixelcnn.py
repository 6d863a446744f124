# Source: Phillip Lippe, UvA Deep Learning Course (University of Amsterdam), tutorial 12 "Autoregressive Image
# Modeling": MaskedConvolution (mask as a buffer multiplied into conv.weight.data), the vertical/horizontal
# stack convolutions, receptive fields measured by backward(retain_graph=True) on an input's gradient,
# GatedMaskedConv with dilation, the PixelCNN LightningModule (cross-entropy over 256 classes on a 5-D
# output, bits per dimension), pixel-by-pixel sampling with torch.multinomial, autocompletion, the softmax
# statistics and the discrete logistic.
#   https://github.com/phlippe/uvadlc_notebooks  docs/tutorial_notebooks/tutorial12/Autoregressive_Image_Modeling.ipynb
# Shrunk: MNIST is 120 synthetic 1x12x12 digit-like images (noise around ten class templates) discretized to
# 0..255 by the tutorial's transform, split 100/20, plus 20 test images; the PixelCNN trained has
# c_hidden=8 (the receptive-field check keeps c_hidden=64 on 28x28), 1 epoch of batch 25; samples are 4
# images of 4x4 (not 16 of 28x28 and 8 of 64x64); autocompletion completes 1 image; the plots print the
# values they show (the binary receptive fields as rows of 0/1, the 28x28 pixel (14,14) read at (5,5)); no pretrained checkpoint is downloaded. PyTorch Lightning is not installed: a small
# stand-in (marked) gives seed_everything, save_hyperparameters/hparams/log and a Trainer whose fit/test
# loop calls the module's own configure_optimizers/training_step/validation_step/test_step; callbacks
# (ModelCheckpoint, LearningRateMonitor) are left out. On the CPU, `.to(device)` in autocomplete_image
# returns the expanded tensor itself, and PyTorch refuses to write into it: the script prints that error
# and then completes a .clone() as the error message asks (on the notebook's GPU, .to copies).
## Standard libraries
import os
import math
import random
import numpy as np

def tqdm(iterable, **kwargs): return iterable  # progress bar left out

## PyTorch
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.data as data
import torch.optim as optim
from torch import Tensor

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

# Fetching the device that will be used throughout this notebook
device = torch.device("cpu") if not torch.cuda.is_available() else torch.device("cuda:0")
print("Using device", device)

# Stand-in for torchvision's MNIST: images in [0, 1] (noise around ten class templates), transform per item
templates = torch.rand(10, 1, 12, 12) * (torch.rand(10, 1, 12, 12) > 0.6)
class MNIST(data.Dataset):
    def __init__(self, n, transform):
        self.targets = torch.randint(0, 10, (n,))
        self.data = (0.8 * templates[self.targets] + 0.2 * torch.rand(n, 1, 12, 12))
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, index):
        return self.transform(self.data[index]), int(self.targets[index])

# Convert images from 0-1 to 0-255 (integers). We use the long datatype as we will use the images as labels as well
def discretize(sample):
    return (sample * 255).to(torch.long)

# Transformations applied on each image => only make them a tensor
transform = discretize  # transforms.Compose([transforms.ToTensor(), discretize])

# Loading the training dataset. We need to split it into a training and validation part
train_dataset = MNIST(120, transform=transform)
pl.seed_everything(42)
train_set, val_set = torch.utils.data.random_split(train_dataset, [100, 20])

# Loading the test set
test_set = MNIST(20, transform=transform)

# We define a set of data loaders that we can use for various purposes later.
train_loader = data.DataLoader(train_set, batch_size=25, shuffle=True, drop_last=True, pin_memory=True)
val_loader = data.DataLoader(val_set, batch_size=25, shuffle=False, drop_last=False)
test_loader = data.DataLoader(test_set, batch_size=25, shuffle=False, drop_last=False)

def show_imgs(imgs):
    num_imgs = imgs.shape[0] if isinstance(imgs, Tensor) else len(imgs)
    nrow = min(num_imgs, 4)
    ncol = int(math.ceil(num_imgs/nrow))
    # (torchvision.utils.make_grid and the plot: the images' shape and a few statistics are printed)
    imgs = torch.stack(list(imgs), dim=0) if not isinstance(imgs, Tensor) else imgs
    imgs = imgs.clamp(min=0, max=255)
    print(f"{num_imgs} images ({nrow}x{ncol} grid) of shape {tuple(imgs.shape[1:])}, sums {imgs.sum(dim=[1,2,3]).tolist()}")

show_imgs([train_set[i][0] for i in range(8)])

class MaskedConvolution(nn.Module):
    
    def __init__(self, c_in, c_out, mask, **kwargs):
        """
        Implements a convolution with mask applied on its weights.
        Inputs:
            c_in - Number of input channels
            c_out - Number of output channels
            mask - Tensor of shape [kernel_size_H, kernel_size_W] with 0s where
                   the convolution should be masked, and 1s otherwise.
            kwargs - Additional arguments for the convolution
        """
        super().__init__()
        # For simplicity: calculate padding automatically 
        kernel_size = (mask.shape[0], mask.shape[1])
        dilation = 1 if "dilation" not in kwargs else kwargs["dilation"]
        padding = tuple([dilation*(kernel_size[i]-1)//2 for i in range(2)])
        # Actual convolution
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, padding=padding, **kwargs)
        
        # Mask as buffer => it is no parameter but still a tensor of the module 
        # (must be moved with the devices)
        self.register_buffer('mask', mask[None,None])
        
    def forward(self, x):
        self.conv.weight.data *= self.mask # Ensures zero's at masked positions
        return self.conv(x)

class VerticalStackConvolution(MaskedConvolution):
    
    def __init__(self, c_in, c_out, kernel_size=3, mask_center=False, **kwargs):
        # Mask out all pixels below. For efficiency, we could also reduce the kernel
        # size in height, but for simplicity, we stick with masking here.
        mask = torch.ones(kernel_size, kernel_size)
        mask[kernel_size//2+1:,:] = 0
        
        # For the very first convolution, we will also mask the center row
        if mask_center:
            mask[kernel_size//2,:] = 0
        
        super().__init__(c_in, c_out, mask, **kwargs)
        
class HorizontalStackConvolution(MaskedConvolution):
    
    def __init__(self, c_in, c_out, kernel_size=3, mask_center=False, **kwargs):
        # Mask out all pixels on the left. Note that our kernel has a size of 1
        # in height because we only look at the pixel in the same row.
        mask = torch.ones(1,kernel_size)
        mask[0,kernel_size//2+1:] = 0
        
        # For the very first convolution, we will also mask the center pixel
        if mask_center:
            mask[0,kernel_size//2] = 0
        
        super().__init__(c_in, c_out, mask, **kwargs)

inp_img = torch.zeros(1, 1, 11, 11)
inp_img.requires_grad_()

def show_center_recep_field(img, out):
    """
    Calculates the gradients of the input with respect to the output center pixel,
    and visualizes the overall receptive field.
    Inputs:
        img - Input image for which we want to calculate the receptive field on.
        out - Output features/loss which is used for backpropagation, and should be
              the output of the network/computation graph.
    """
    # Determine gradients
    loss = out[0,:,img.shape[2]//2,img.shape[3]//2].sum() # L1 loss for simplicity
    loss.backward(retain_graph=True) # Retain graph as we want to stack multiple layers and show the receptive field of all of them
    img_grads = img.grad.abs()
    img.grad.fill_(0) # Reset grads
    
    # Plot receptive field
    img = img_grads.squeeze().cpu().numpy()
    # (the two plots: the weighted receptive field's values, and the binary one as 0/1 rows)
    print("Weighted receptive field: sum %.4f, max %.4f" % (img.sum(), img.max()))
    for row in (img > 0).astype(np.int64):
        print("".join(str(v) for v in row))
    # Mark the center pixel in red if it doesn't have any gradients (should be the case for standard autoregressive models)
    show_center = (img[img.shape[0]//2,img.shape[1]//2] == 0)
    print("Center pixel without gradient:", show_center)

show_center_recep_field(inp_img, inp_img)

horiz_conv = HorizontalStackConvolution(c_in=1, c_out=1, kernel_size=3, mask_center=True)
horiz_conv.conv.weight.data.fill_(1)
horiz_conv.conv.bias.data.fill_(0)
horiz_img = horiz_conv(inp_img)
show_center_recep_field(inp_img, horiz_img)

vert_conv = VerticalStackConvolution(c_in=1, c_out=1, kernel_size=3, mask_center=True)
vert_conv.conv.weight.data.fill_(1)
vert_conv.conv.bias.data.fill_(0)
vert_img = vert_conv(inp_img)
show_center_recep_field(inp_img, vert_img)

horiz_img = vert_img + horiz_img
show_center_recep_field(inp_img, horiz_img)

# Initialize convolutions with equal weight to all input pixels
horiz_conv = HorizontalStackConvolution(c_in=1, c_out=1, kernel_size=3, mask_center=False)
horiz_conv.conv.weight.data.fill_(1)
horiz_conv.conv.bias.data.fill_(0)
vert_conv = VerticalStackConvolution(c_in=1, c_out=1, kernel_size=3,mask_center=False)
vert_conv.conv.weight.data.fill_(1)
vert_conv.conv.bias.data.fill_(0)

# We reuse our convolutions for the 4 layers here. Note that in a standard network,
# we don't do that, and instead learn 4 separate convolution. As this cell is only for
# visualization purposes, we reuse the convolutions for all layers.
for l_idx in range(4):
    vert_img = vert_conv(vert_img)
    horiz_img = horiz_conv(horiz_img) + vert_img
    print(f"Layer {l_idx+2}")
    show_center_recep_field(inp_img, horiz_img)

show_center_recep_field(inp_img, vert_img)

del inp_img, horiz_conv, vert_conv

class GatedMaskedConv(nn.Module):
    
    def __init__(self, c_in, **kwargs):
        """
        Gated Convolution block implemented the computation graph shown above.
        """
        super().__init__()
        self.conv_vert = VerticalStackConvolution(c_in, c_out=2*c_in, **kwargs)
        self.conv_horiz = HorizontalStackConvolution(c_in, c_out=2*c_in, **kwargs)
        self.conv_vert_to_horiz = nn.Conv2d(2*c_in, 2*c_in, kernel_size=1, padding=0)
        self.conv_horiz_1x1 = nn.Conv2d(c_in, c_in, kernel_size=1, padding=0)
    
    def forward(self, v_stack, h_stack):
        # Vertical stack (left)
        v_stack_feat = self.conv_vert(v_stack)
        v_val, v_gate = v_stack_feat.chunk(2, dim=1)
        v_stack_out = torch.tanh(v_val) * torch.sigmoid(v_gate)
        
        # Horizontal stack (right)
        h_stack_feat = self.conv_horiz(h_stack)
        h_stack_feat = h_stack_feat + self.conv_vert_to_horiz(v_stack_feat)
        h_val, h_gate = h_stack_feat.chunk(2, dim=1)
        h_stack_feat = torch.tanh(h_val) * torch.sigmoid(h_gate)
        h_stack_out = self.conv_horiz_1x1(h_stack_feat)
        h_stack_out = h_stack_out + h_stack
        
        return v_stack_out, h_stack_out

class PixelCNN(pl.LightningModule):
    
    def __init__(self, c_in, c_hidden):
        super().__init__()
        self.save_hyperparameters()
        
        # Initial convolutions skipping the center pixel
        self.conv_vstack = VerticalStackConvolution(c_in, c_hidden, mask_center=True)
        self.conv_hstack = HorizontalStackConvolution(c_in, c_hidden, mask_center=True)
        # Convolution block of PixelCNN. We use dilation instead of downscaling
        self.conv_layers = nn.ModuleList([
            GatedMaskedConv(c_hidden),
            GatedMaskedConv(c_hidden, dilation=2),
            GatedMaskedConv(c_hidden),
            GatedMaskedConv(c_hidden, dilation=4),
            GatedMaskedConv(c_hidden),
            GatedMaskedConv(c_hidden, dilation=2),
            GatedMaskedConv(c_hidden)
        ])
        # Output classification convolution (1x1)
        self.conv_out = nn.Conv2d(c_hidden, c_in * 256, kernel_size=1, padding=0)
        
        self.example_input_array = train_set[0][0][None]
        
    def forward(self, x):
        """
        Forward image through model and return logits for each pixel.
        Inputs:
            x - Image tensor with integer values between 0 and 255.
        """
        # Scale input from 0 to 255 back to -1 to 1
        x = (x.float() / 255.0) * 2 - 1 
        
        # Initial convolutions
        v_stack = self.conv_vstack(x)
        h_stack = self.conv_hstack(x)
        # Gated Convolutions
        for layer in self.conv_layers:
            v_stack, h_stack = layer(v_stack, h_stack)
        # 1x1 classification convolution
        # Apply ELU before 1x1 convolution for non-linearity on residual connection
        out = self.conv_out(F.elu(h_stack))
        
        # Output dimensions: [Batch, Classes, Channels, Height, Width]
        out = out.reshape(out.shape[0], 256, out.shape[1]//256, out.shape[2], out.shape[3])
        return out
    
    def calc_likelihood(self, x):
        # Forward pass with bpd likelihood calculation
        pred = self.forward(x)
        nll = F.cross_entropy(pred, x, reduction='none')
        bpd = nll.mean(dim=[1,2,3]) * np.log2(np.exp(1))
        return bpd.mean()
        
    @torch.no_grad()
    def sample(self, img_shape, img=None):
        """
        Sampling function for the autoregressive model.
        Inputs:
            img_shape - Shape of the image to generate (B,C,H,W)
            img (optional) - If given, this tensor will be used as
                             a starting image. The pixels to fill 
                             should be -1 in the input tensor.
        """
        # Create empty image
        if img is None:
            img = torch.zeros(img_shape, dtype=torch.long).to(device) - 1
        # Generation loop
        for h in tqdm(range(img_shape[2]), leave=False):
            for w in range(img_shape[3]):
                for c in range(img_shape[1]):
                    # Skip if not to be filled (-1)
                    if (img[:,c,h,w] != -1).all().item():
                        continue
                    # For efficiency, we only have to input the upper part of the image
                    # as all other parts will be skipped by the masked convolutions anyways
                    pred = self.forward(img[:,:,:h+1,:]) 
                    probs = F.softmax(pred[:,:,c,h,w], dim=-1)
                    img[:,c,h,w] = torch.multinomial(probs, num_samples=1).squeeze(dim=-1)
        return img
    
    def configure_optimizers(self):
        optimizer = optim.Adam(self.parameters(), lr=1e-3)
        scheduler = optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.99)
        return [optimizer], [scheduler]
    
    def training_step(self, batch, batch_idx):
        loss = self.calc_likelihood(batch[0])                             
        self.log('train_bpd', loss)
        return loss
    
    def validation_step(self, batch, batch_idx):
        loss = self.calc_likelihood(batch[0])
        self.log('val_bpd', loss)
        
    def test_step(self, batch, batch_idx):
        loss = self.calc_likelihood(batch[0])
        self.log('test_bpd', loss)

test_model = PixelCNN(c_in=1, c_hidden=64)
inp = torch.zeros(1,1,28,28)
inp.requires_grad_()
out = test_model(inp)
show_center_recep_field(inp, out.squeeze(dim=2))
del inp, out, test_model

def train_model(**kwargs):
    # Create a PyTorch Lightning trainer with the generation callback
    trainer = pl.Trainer(accelerator="gpu" if str(device).startswith("cuda") else "cpu",
                         devices=1,
                         max_epochs=1)
    result = None
    model = PixelCNN(**kwargs)
    trainer.fit(model, train_loader, val_loader)
    model = model.to(device)
    
    if result is None:
        # Test best model on validation and test set
        val_result = trainer.test(model, val_loader, verbose=False)
        test_result = trainer.test(model, test_loader, verbose=False)
        result = {"test": test_result, "val": val_result}
    return model, result

model, result = train_model(c_in=1, c_hidden=8)
test_res = result["test"][0]
print("Test bits per dimension: %4.3fbpd" % (test_res["test_loss"] if "test_loss" in test_res else test_res["test_bpd"]))

num_params = sum([np.prod(param.shape) for param in model.parameters()])
print("Number of parameters: {:,}".format(num_params))

pl.seed_everything(1)
samples = model.sample(img_shape=(4,1,4,4))
show_imgs(samples.cpu())
print(samples[0, 0])

def autocomplete_image(img):
    # Remove lower half of the image
    img_init = img.clone()
    img_init[:,10:,:] = -1
    print("Original image and input image to sampling:")
    show_imgs([img,img_init])
    # Generate 12 example completions
    img_init = img_init.unsqueeze(dim=0).expand(12,-1,-1,-1).to(device)
    pl.seed_everything(1)
    try:
        img_generated = model.sample(img_init.shape, img_init)
    except RuntimeError as error:  # (on the CPU, .to(device) does not copy the expanded tensor)
        print("RuntimeError:", error)
        img_generated = model.sample(img_init.shape, img_init.clone())
    print("Autocompletion samples:")
    show_imgs(img_generated)
    print(img_generated[:, 0, 10:, :].sum(dim=[1, 2]))

for i in range(1,2):
    img = train_set[i][0]
    autocomplete_image(img)

det_loader = data.DataLoader(train_set, batch_size=128, shuffle=False, drop_last=False)
imgs,_ = next(iter(det_loader))
imgs = imgs.to(device)
with torch.no_grad():
    out = model(imgs)
    out = F.softmax(out, dim=1)
    mean_out = out.mean(dim=[0,2,3,4]).cpu().numpy()
    out = out.cpu().numpy()

# (the histograms: the dataset's pixel-value counts and the model's mean softmax at a few values)
counts = np.bincount(imgs.view(-1).cpu().numpy(), minlength=256)
print("Pixel values 0, 1-63, 64-191, 192-255:", counts[0], counts[1:64].sum(), counts[64:192].sum(), counts[192:].sum())
print("Mean predicted distribution at 0, 64, 128, 192, 255:", np.round(mean_out[[0, 64, 128, 192, 255]], 5))
for i in range(4):
    print("Pixel (14,14)->(5,5) of image", i + 4, "argmax", out[i + 4, :, 0, 5, 5].argmax(), "max prob %.4f" % out[i + 4, :, 0, 5, 5].max())

mu = Tensor([128])
sigma = Tensor([2.0])

def discrete_logistic(x, mu, sigma):
    return torch.sigmoid((x+0.5-mu)/sigma) - torch.sigmoid((x-0.5-mu)/sigma)

x = torch.arange(256)
p = discrete_logistic(x, mu, sigma)

# Visualization
print("Discrete logistic distribution")
print(p[120:137])
print(p.sum())
