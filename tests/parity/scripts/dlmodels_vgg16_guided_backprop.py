# Source: Sebastian Raschka, deeplearning-models (PyTorch notebooks), saliency maps for the VGG16
# cats-vs-dogs classifier: vgg16.py (blocks of Conv2d/ReLU/MaxPool2d with tuple kernel sizes,
# weight.detach().normal_(0, 0.05) and bias.detach().detach().zero_() over self.modules()), the
# vanilla-backprop notebook (image_tensor.requires_grad = True on an unsqueezed input,
# model.zero_grad(), image_tensor.grad[0])
# and the guided-backprop notebook (Module.register_backward_hook on every nn.ReLU, found with
# type(module) == nn.ReLU, returning (torch.clamp(grad_in[0], min=0.0), )), with datautils.py's
# UnNormalize (in-place t.mul_(s).add_(m) over the rows of the tensor, which also changes the
# normalized input the notebooks then pass on) and convert_rgb_to_grayscale (np.percentile on
# gradient.cpu().numpy()).
#   https://github.com/rasbt/deeplearning-models  pytorch_ipynb/viz/cnns/cats-and-dogs/{vgg16.py,datautils.py,
#   _cnn-basemodel__vgg16-cats-dogs.ipynb,cnn-viz-grad__vgg16-cats-dogs.ipynb,cnn-viz-guided-backprop__vgg16-cats-dogs.ipynb}
# Shrunk: the widths 64/128/256/512/512 and the classifier's 1024 are 8/16/32/32/32 and 64 (the
# 64x64 input size and the 2x2 map before the classifier are kept); no PIL/torchvision/dogs-vs-cats
# download: the four test .jpg files are synthetic 3x64x64 tensors in [0, 1] that Image.open (a
# stand-in) looks up by file name, and data_transforms['valid'] is a stand-in of
# Resize/ToTensor/Normalize (the Normalize part). The trained vgg16-cats-dogs.state_dict (50 epochs
# of the base model notebook) is not available: the state_dict saved with torch.save (to a temporary
# folder) and loaded with load_state_dict(torch.load(...)) is a model initialized from seed 123. The
# plots are printed instead (the gradient's min/max ratio and positive fraction, a few statistics of
# the unnormalized image and the grayscale map).
import os
import tempfile

import numpy as np

import torch
import torch.nn.functional as F
import torch.nn as nn

W = {64: 8, 128: 16, 256: 32, 512: 32, 1024: 64}  # the shrunk widths

if torch.cuda.is_available():
    torch.backends.cudnn.deterministic = True


##########################
### vgg16.py
##########################

class VGG16(torch.nn.Module):

    def __init__(self, num_classes):
        super(VGG16, self).__init__()

        # calculate same padding:
        # (w - k + 2*p)/s + 1 = o
        # => p = (s(o-1) - w + k)/2

        self.block_1 = nn.Sequential(
                nn.Conv2d(in_channels=3,
                          out_channels=W[64],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          # (1(32-1)- 32 + 3)/2 = 1
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[64],
                          out_channels=W[64],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=(2, 2),
                             stride=(2, 2))
        )

        self.block_2 = nn.Sequential(
                nn.Conv2d(in_channels=W[64],
                          out_channels=W[128],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[128],
                          out_channels=W[128],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=(2, 2),
                             stride=(2, 2))
        )

        self.block_3 = nn.Sequential(
                nn.Conv2d(in_channels=W[128],
                          out_channels=W[256],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[256],
                          out_channels=W[256],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[256],
                          out_channels=W[256],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[256],
                          out_channels=W[256],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=(2, 2),
                             stride=(2, 2))
        )


        self.block_4 = nn.Sequential(
                nn.Conv2d(in_channels=W[256],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=(2, 2),
                             stride=(2, 2))
        )

        self.block_5 = nn.Sequential(
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.Conv2d(in_channels=W[512],
                          out_channels=W[512],
                          kernel_size=(3, 3),
                          stride=(1, 1),
                          padding=1),
                nn.ReLU(),
                nn.MaxPool2d(kernel_size=(2, 2),
                             stride=(2, 2))
        )

        self.classifier = nn.Sequential(
                nn.Linear(W[512]*2*2, W[1024]), # changed 4096 to 1024
                nn.ReLU(),
                nn.Linear(W[1024], W[1024]), # changed 4096 to 1024
                nn.ReLU(),
                nn.Linear(W[1024], num_classes) # changed 4096 to 1024
        )

        for m in self.modules():
            if isinstance(m, torch.nn.Conv2d):
                #n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                #m.weight.data.normal_(0, np.sqrt(2. / n))
                m.weight.detach().normal_(0, 0.05)
                if m.bias is not None:
                    m.bias.detach().zero_()
            elif isinstance(m, torch.nn.Linear):
                m.weight.detach().normal_(0, 0.05)
                m.bias.detach().detach().zero_()

    def forward(self, x):

        x = self.block_1(x)
        x = self.block_2(x)
        x = self.block_3(x)
        x = self.block_4(x)
        x = self.block_5(x)

        logits = self.classifier(x.view(-1, W[512]*2*2))
        probas = F.softmax(logits, dim=1)

        return logits, probas


##########################
### datautils.py
##########################

class UnNormalize(object):
    def __init__(self, mean, std):
        self.mean = mean
        self.std = std

    def __call__(self, tensor):
        """
        Parameters:
        ------------
        tensor (Tensor): Tensor image of size (C, H, W) to be normalized.

        Returns:
        ------------
        Tensor: Normalized image.

        """
        for t, m, s in zip(tensor, self.mean, self.std):
            t.mul_(s).add_(m)
        return tensor


def convert_rgb_to_grayscale(im_as_arr):
    """
    Converts RGB image to grayscale
    Expects and returns CHW format.
    """
    grayscale_im = np.sum(np.abs(im_as_arr), axis=0)
    im_max = np.percentile(grayscale_im, 99)
    im_min = np.min(grayscale_im)
    grayscale_im = (np.clip((grayscale_im - im_min) / (im_max - im_min), 0, 1))
    grayscale_im = np.expand_dims(grayscale_im, axis=0)
    return grayscale_im


##########################
### stand-ins for the dogs-vs-cats photos, PIL's Image.open and torchvision's transforms
##########################

_g = torch.Generator().manual_seed(7)
_cat, _dog = torch.rand(3, 64, 64, generator=_g), torch.rand(3, 64, 64, generator=_g)
PHOTOS = {}
for _name in ['cat.11252.jpg', 'cat.11267.jpg']:
    PHOTOS[_name] = (0.7 * _cat + 0.3 * torch.rand(3, 64, 64, generator=_g))
for _name in ['dog.12018.jpg', 'dog.12077.jpg']:
    PHOTOS[_name] = (0.7 * _dog + 0.3 * torch.rand(3, 64, 64, generator=_g))


class Image:
    @staticmethod
    def open(path):
        return PHOTOS[os.path.basename(path)].clone()


class Normalize:  # transforms.Compose([transforms.Resize([64, 64]), transforms.ToTensor(), transforms.Normalize(mean, std)])
    def __init__(self, mean, std):
        self.mean, self.std = torch.tensor(mean), torch.tensor(std)

    def __call__(self, img):
        return (img - self.mean[:, None, None]) / self.std[:, None, None]


##########################
### SETTINGS
##########################

# Device
DEVICE = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

# Hyperparameters
RANDOM_SEED = 1
BATCH_SIZE = 128

# Architecture
NUM_CLASSES = 2

# Image normalization parameters from _cnn-basemodel__vgg16-cats-dogs.ipynb
train_mean = [0.4875, 0.4544, 0.4164]
train_std = [0.2521, 0.2453, 0.2481]

data_transforms = {
    'valid': Normalize(train_mean, train_std),
}


##########################
### the trained state_dict (stand-in)
##########################

torch.manual_seed(123)
model = VGG16(num_classes=NUM_CLASSES)

state_dict_dir = tempfile.mkdtemp()
torch.save(model.state_dict(), os.path.join(state_dict_dir, 'vgg16-cats-dogs.state_dict'))


##########################
### cnn-viz-grad__vgg16-cats-dogs.ipynb
##########################

torch.manual_seed(RANDOM_SEED)
model = VGG16(num_classes=NUM_CLASSES)
model = model.to(DEVICE)

model.load_state_dict(torch.load(os.path.join(state_dict_dir, 'vgg16-cats-dogs.state_dict')))


unorm = UnNormalize(mean=train_mean, std=train_std)


def preprocess_image(image_path, transform_func, unnormalize_func):

    pil_img = Image.open(image_path)
    img_tensor = transform_func(pil_img)
    unnormed_img_tensor = unnormalize_func(img_tensor)

    return pil_img, img_tensor, unnormed_img_tensor


def get_viz(image_tensor, label, model, device=DEVICE):
    """Computes loss gradient wrt inputs"""

    image_tensor = image_tensor.to(device)
    label = torch.tensor(label).to(device)
    # convert CHW tensor to NCHW tensor
    # note that N=1
    image_tensor = image_tensor.unsqueeze(0)

    ### Save input gradient
    image_tensor.requires_grad = True

    ### FORWARD AND BACK PROP
    logits, probas = model(image_tensor)
    cost = F.cross_entropy(logits, label)
    model.zero_grad()
    cost.backward()

    # get CHW tensor from NCHW tensor
    # note that N=1
    gradients = image_tensor.grad[0]
    return gradients


# Simple Hook class that records the input and output of a layer during forward/backward pass

class VanillaBackprop():
    def __init__(self, model, device):
        self.model = model
        self.device = device

    def run(self, image_tensor, label):
        image_tensor = image_tensor.to(self.device)
        label = torch.tensor([label]).to(self.device)
        # convert CHW tensor to NCHW tensor
        # note that N=1
        image_tensor = image_tensor.unsqueeze(0)
        image_tensor.requires_grad = True

        ### FORWARD AND BACK PROP
        logits, probas = self.model(image_tensor)
        cost = F.cross_entropy(logits, label)
        self.model.zero_grad()
        cost.backward() # computes gradients via hook

        return image_tensor.grad[0]


def show_saliency(backprop):  # the notebooks' last cell (the same in both), printing instead of plotting
    for img_path, lab in zip(['cat.11252.jpg', 'dog.12018.jpg', 'cat.11267.jpg', 'dog.12077.jpg'],
                             [0, 1, 0, 1]):

        pil_img, img_tensor, unnormed_img_tensor = preprocess_image(
            os.path.join('./dogs-vs-cats/test/', img_path),
            data_transforms['valid'],
            unorm
        )

        gradient = backprop.run(image_tensor=img_tensor, label=lab)
        print(img_path, 'gradient min/max: %.4f, positive: %.4f' % (gradient.min() / gradient.max(),
                                                                    (gradient > 0).float().mean()))

        # convert gradient to grayscale
        gradient = gradient - gradient.min()
        gradient /= gradient.max()
        gray_gradient = convert_rgb_to_grayscale(gradient.cpu().numpy())

        # visualize results
        print(' ', img_tensor is unnormed_img_tensor, '%.4f' % unnormed_img_tensor.mean().item(),
              np.transpose(unnormed_img_tensor.cpu().numpy(), (1, 2, 0)).shape)
        print(' ', gray_gradient.shape, gray_gradient.dtype,
              np.round(np.transpose(gray_gradient, (1, 2, 0))[:, :, 0].mean(axis=0)[:6], 3))


vanillabackprop = VanillaBackprop(model, DEVICE)

model.eval()
show_saliency(vanillabackprop)


##########################
### cnn-viz-guided-backprop__vgg16-cats-dogs.ipynb
##########################

# Simple Hook class that records the input and output of a layer during forward/backward pass

class GuidedBackprop():
    def __init__(self, model, device):
        self.model = model
        self.device = device

    def setup_hooks(self):


        def relu_backward_hook_fn(module, grad_in, grad_out):
            return (torch.clamp(grad_in[0], min=0.0), )

        for module in self.model.modules():
            if type(module) == nn.ReLU:
                module.register_backward_hook(relu_backward_hook_fn)

    def run(self, image_tensor, label):
        image_tensor = image_tensor.to(self.device)
        label = torch.tensor([label]).to(self.device)
        # convert CHW tensor to NCHW tensor
        # note that N=1
        image_tensor = image_tensor.unsqueeze(0)
        image_tensor.requires_grad = True

        ### FORWARD AND BACK PROP
        logits, probas = self.model(image_tensor)
        cost = F.cross_entropy(logits, label)
        self.model.zero_grad()
        cost.backward() # computes gradients via hook

        return image_tensor.grad[0]


guidedbackprop = GuidedBackprop(model, DEVICE)
guidedbackprop.setup_hooks()

model.eval()
show_saliency(guidedbackprop)
