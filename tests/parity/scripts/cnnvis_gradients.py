# Source: Utku Ozbulak, pytorch-cnn-visualizations (gradient-based saliency):
#   https://github.com/utkuozbulak/pytorch-cnn-visualizations  src/vanilla_backprop.py, src/guided_backprop.py,
#   src/integrated_gradients.py, src/smooth_grad.py, src/grad_times_image.py, src/guided_gradcam.py
#   (the classes that several files import, VanillaBackprop, GuidedBackprop and GradCam, and the repository's
#   misc_functions.py are in the package pytorch_cnn_visualizations/ beside this script, as src/ has them)
# Exercised: Module.register_backward_hook on a Conv2d (grad_in[0] = gradient w.r.t. the input image) and on
# in-place ReLUs (returning a replacement grad tuple), register_forward_hook, Variable(..., requires_grad=True),
# torch.FloatTensor(1, n).zero_(), model_output.backward(gradient=one_hot), tensor.data.new(size).normal_(mean, std).
# Shrunk: torchvision's pretrained AlexNet is a seeded AlexNet-shaped network with widths 8/16/24/16/16 and 10
# classes (pytorch_cnn_visualizations/models.py) on 64x64 images; the example .png files are seeded random
# images; integrated gradients 8 steps (100), smooth grad 4 noisy images (50). The saved .png files are
# printed as a few statistics.
import numpy as np

import torch
from torch.autograd import Variable

from pytorch_cnn_visualizations.misc_functions import (get_example_params,
                                                       convert_to_grayscale,
                                                       save_gradient_images,
                                                       get_positive_negative_saliency)
from pytorch_cnn_visualizations.vanilla_backprop import VanillaBackprop
from pytorch_cnn_visualizations.guided_backprop import GuidedBackprop
from pytorch_cnn_visualizations.gradcam import GradCam


# ---- src/integrated_gradients.py
class IntegratedGradients():
    """
        Produces gradients generated with integrated gradients from the image
    """
    def __init__(self, model):
        self.model = model
        self.gradients = None
        # Put model in evaluation mode
        self.model.eval()
        # Hook the first layer to get the gradient
        self.hook_layers()

    def hook_layers(self):
        def hook_function(module, grad_in, grad_out):
            self.gradients = grad_in[0]

        # Register hook to the first layer
        first_layer = list(self.model.features._modules.items())[0][1]
        first_layer.register_backward_hook(hook_function)

    def generate_images_on_linear_path(self, input_image, steps):
        # Generate uniform numbers between 0 and steps
        step_list = np.arange(steps+1)/steps
        # Generate scaled xbar images
        xbar_list = [input_image*step for step in step_list]
        return xbar_list

    def generate_gradients(self, input_image, target_class):
        # Forward
        model_output = self.model(input_image)
        # Zero grads
        self.model.zero_grad()
        # Target for backprop
        one_hot_output = torch.FloatTensor(1, model_output.size()[-1]).zero_()
        one_hot_output[0][target_class] = 1
        # Backward pass
        model_output.backward(gradient=one_hot_output)
        # Convert Pytorch variable to numpy array
        # [0] to get rid of the first channel (1,3,224,224)
        gradients_as_arr = self.gradients.data.numpy()[0]
        return gradients_as_arr

    def generate_integrated_gradients(self, input_image, target_class, steps):
        # Generate xbar images
        xbar_list = self.generate_images_on_linear_path(input_image, steps)
        # Initialize an iamge composed of zeros
        integrated_grads = np.zeros(input_image.size())
        for xbar_image in xbar_list:
            # Generate gradients from xbar images
            single_integrated_grad = self.generate_gradients(xbar_image, target_class)
            # Add rescaled grads from xbar images
            integrated_grads = integrated_grads + single_integrated_grad/steps
        # [0] to get rid of the first channel (1,3,224,224)
        return integrated_grads[0]


# ---- src/smooth_grad.py
def generate_smooth_grad(Backprop, prep_img, target_class, param_n, param_sigma_multiplier):
    """
        Generates smooth gradients of given Backprop type. You can use this with both vanilla
        and guided backprop
    Args:
        Backprop (class): Backprop type
        prep_img (torch Variable): preprocessed image
        target_class (int): target class of imagenet
        param_n (int): Amount of images used to smooth gradient
        param_sigma_multiplier (int): Sigma multiplier when calculating std of noise
    """
    # Generate an empty image/matrix
    smooth_grad = np.zeros(prep_img.size()[1:])

    mean = 0
    sigma = param_sigma_multiplier / (torch.max(prep_img) - torch.min(prep_img)).item()
    for x in range(param_n):
        # Generate noise
        noise = Variable(prep_img.data.new(prep_img.size()).normal_(mean, sigma**2))
        # Add noise to the image
        noisy_img = prep_img + noise
        # Calculate gradients
        vanilla_grads = Backprop.generate_gradients(noisy_img, target_class)
        # Add gradients to smooth_grad
        smooth_grad = smooth_grad + vanilla_grads
    # Average it out
    smooth_grad = smooth_grad / param_n
    return smooth_grad


# ---- src/guided_gradcam.py
def guided_grad_cam(grad_cam_mask, guided_backprop_mask):
    """
        Guided grad cam is just pointwise multiplication of cam mask and
        guided backprop mask

    Args:
        grad_cam_mask (np_arr): Class activation map mask
        guided_backprop_mask (np_arr):Guided backprop mask
    """
    cam_gb = np.multiply(grad_cam_mask, guided_backprop_mask)
    return cam_gb


# ---- __main__ of src/vanilla_backprop.py
# Get params
target_example = 1  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
print('prep_img', prep_img.shape, prep_img.requires_grad, 'output', pretrained_model(prep_img).detach().numpy().round(4))
# Vanilla backprop
VBP = VanillaBackprop(pretrained_model)
# Generate gradients
vanilla_grads = VBP.generate_gradients(prep_img, target_class)
print('vanilla_grads', vanilla_grads.shape, vanilla_grads.dtype, 'abs sum %.6g' % np.abs(vanilla_grads).sum(),
      'check vs prep_img.grad:', np.allclose(vanilla_grads, prep_img.grad.numpy()[0], atol=1e-6))
# Save colored gradients
save_gradient_images(vanilla_grads, file_name_to_export + '_Vanilla_BP_color')
# Convert to grayscale
grayscale_vanilla_grads = convert_to_grayscale(vanilla_grads)
# Save grayscale gradients
save_gradient_images(grayscale_vanilla_grads, file_name_to_export + '_Vanilla_BP_gray')
print('Vanilla backprop completed')

# ---- __main__ of src/grad_times_image.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
# Vanilla backprop
VBP = VanillaBackprop(pretrained_model)
# Generate gradients
vanilla_grads = VBP.generate_gradients(prep_img, target_class)

# Make sure dimensions add up!
grad_times_image = vanilla_grads * prep_img.detach().numpy()[0]
# Convert to grayscale
grayscale_vanilla_grads = convert_to_grayscale(grad_times_image)
# Save grayscale gradients
save_gradient_images(grayscale_vanilla_grads,
                     file_name_to_export + '_Vanilla_grad_times_image_gray')
print('Grad times image completed.')

# ---- __main__ of src/smooth_grad.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)

VBP = VanillaBackprop(pretrained_model)
# GBP = GuidedBackprop(pretrained_model)  # if you want to use GBP dont forget to
# change the parametre in generate_smooth_grad

torch.manual_seed(0)  # (not in the original: the noise is drawn from the global generator)
param_n = 4
param_sigma_multiplier = 4
smooth_grad = generate_smooth_grad(VBP,  # ^This parameter
                                   prep_img,
                                   target_class,
                                   param_n,
                                   param_sigma_multiplier)

# Save colored gradients
save_gradient_images(smooth_grad, file_name_to_export + '_SmoothGrad_color')
# Convert to grayscale
grayscale_smooth_grad = convert_to_grayscale(smooth_grad)
# Save grayscale gradients
save_gradient_images(grayscale_smooth_grad, file_name_to_export + '_SmoothGrad_gray')
print('Smooth grad completed')

# ---- __main__ of src/integrated_gradients.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
# Vanilla backprop
IG = IntegratedGradients(pretrained_model)
# Generate gradients
integrated_grads = IG.generate_integrated_gradients(prep_img, target_class, 8)
print('integrated_grads', integrated_grads.shape, integrated_grads.dtype, 'sum %.6g' % integrated_grads.sum())
# Convert to grayscale
grayscale_integrated_grads = convert_to_grayscale(integrated_grads)
# Save grayscale gradients
save_gradient_images(grayscale_integrated_grads, file_name_to_export + '_Integrated_G_gray')
print('Integrated gradients completed.')

# ---- __main__ of src/guided_backprop.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)

# Guided backprop
GBP = GuidedBackprop(pretrained_model)
# Get gradients
guided_grads = GBP.generate_gradients(prep_img, target_class)
print('guided_grads', guided_grads.shape, 'abs sum %.6g' % np.abs(guided_grads).sum(),
      'relu outputs left', len(GBP.forward_relu_outputs))
# Save colored gradients
save_gradient_images(guided_grads, file_name_to_export + '_Guided_BP_color')
# Convert to grayscale
grayscale_guided_grads = convert_to_grayscale(guided_grads)
# Save grayscale gradients
save_gradient_images(grayscale_guided_grads, file_name_to_export + '_Guided_BP_gray')
# Positive and negative saliency maps
pos_sal, neg_sal = get_positive_negative_saliency(guided_grads)
save_gradient_images(pos_sal, file_name_to_export + '_pos_sal')
save_gradient_images(neg_sal, file_name_to_export + '_neg_sal')
print('Guided backprop completed')

# ---- __main__ of src/guided_gradcam.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)

# Grad cam
gcv2 = GradCam(pretrained_model, target_layer=11)
# Generate cam mask
cam = gcv2.generate_cam(prep_img, target_class)
print('cam', cam.shape, np.round(cam[::8, ::8], 4).tolist())
print('Grad cam completed')

# Guided backprop
GBP = GuidedBackprop(pretrained_model)
# Get gradients
guided_grads = GBP.generate_gradients(prep_img, target_class)
print('Guided backpropagation completed')

# Guided Grad cam
cam_gb = guided_grad_cam(cam, guided_grads)
save_gradient_images(cam_gb, file_name_to_export + '_GGrad_Cam')
grayscale_cam_gb = convert_to_grayscale(cam_gb)
save_gradient_images(grayscale_cam_gb, file_name_to_export + '_GGrad_Cam_gray')
print('Guided grad cam completed')
