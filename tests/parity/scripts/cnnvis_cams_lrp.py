# Source: Utku Ozbulak, pytorch-cnn-visualizations (class activation maps and layer-wise relevance):
#   https://github.com/utkuozbulak/pytorch-cnn-visualizations  src/gradcam.py (its __main__; the GradCam class
#   is in pytorch_cnn_visualizations/gradcam.py beside this script, shared with cnnvis_gradients.py),
#   src/scorecam.py (Haofan Wang), src/layercam.py (Peng-Tao Jiang), src/LRP.py
# Exercised: Tensor.register_hook on an intermediate activation, backward(gradient=..., retain_graph=True),
# Sequential._modules.items(), F.interpolate(mode='bilinear', align_corners=False), F.softmax(...)[0][c]
# as a 0-dim tensor .data.numpy(), Tensor.max()/min() comparisons, copy.deepcopy of a layer, assigning
# nn.Parameter(...) to layer.weight/bias, requires_grad_ on a detached in-place-ReLU output, torch.flatten,
# Tensor.grad of a leaf, np.array(tensor).
# Shrunk: torchvision's pretrained AlexNet is a seeded AlexNet-shaped network with widths 8/16/24/16/16 and 10
# classes (pytorch_cnn_visualizations/models.py) on 64x64 images (ScoreCam's interpolate size (224, 224) and
# LRP's one-hot size 1000 follow: (64, 64) and 10); the example .png files are seeded random images. PIL is
# not a test dependency: Image.fromarray(cam).resize(..., Image.ANTIALIAS) is misc_functions.resize (NumPy
# bilinear); the scorecam/layercam extractor classes are renamed ScoreCamExtractor/LayerCamExtractor (all
# three files call theirs CamExtractor; layercam's is gradcam's, imported). matplotlib's LRP heatmap is
# replaced by printing its color scale b and a few statistics.
import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from pytorch_cnn_visualizations.misc_functions import get_example_params, save_class_activation_images, resize
from pytorch_cnn_visualizations.gradcam import GradCam
from pytorch_cnn_visualizations.gradcam import CamExtractor as LayerCamExtractor


# ---- src/scorecam.py
class ScoreCamExtractor():
    """
        Extracts cam features from the model
    """
    def __init__(self, model, target_layer):
        self.model = model
        self.target_layer = target_layer

    def forward_pass_on_convolutions(self, x):
        """
            Does a forward pass on convolutions, hooks the function at given layer
        """
        conv_output = None
        for module_pos, module in self.model.features._modules.items():
            x = module(x)  # Forward
            if int(module_pos) == self.target_layer:
                conv_output = x  # Save the convolution output on that layer
        return conv_output, x

    def forward_pass(self, x):
        """
            Does a full forward pass on the model
        """
        # Forward pass on the convolutions
        conv_output, x = self.forward_pass_on_convolutions(x)
        x = x.view(x.size(0), -1)  # Flatten
        # Forward pass on the classifier
        x = self.model.classifier(x)
        return conv_output, x


class ScoreCam():
    """
        Produces class activation map
    """
    def __init__(self, model, target_layer):
        self.model = model
        self.model.eval()
        # Define extractor
        self.extractor = ScoreCamExtractor(self.model, target_layer)

    def generate_cam(self, input_image, target_class=None):
        # Full forward pass
        # conv_output is the output of convolutions at specified layer
        # model_output is the final output of the model (1, 1000)
        conv_output, model_output = self.extractor.forward_pass(input_image)
        if target_class is None:
            target_class = np.argmax(model_output.data.numpy())
        # Get convolution outputs
        target = conv_output[0]
        # Create empty numpy array for cam
        cam = np.ones(target.shape[1:], dtype=np.float32)
        # Multiply each weight with its conv output and then, sum
        for i in range(len(target)):
            # Unsqueeze to 4D
            saliency_map = torch.unsqueeze(torch.unsqueeze(target[i, :, :],0),0)
            # Upsampling to input size
            saliency_map = F.interpolate(saliency_map, size=(64, 64), mode='bilinear', align_corners=False)
            if saliency_map.max() == saliency_map.min():
                continue
            # Scale between 0-1
            norm_saliency_map = (saliency_map - saliency_map.min()) / (saliency_map.max() - saliency_map.min())
            # Get the target score
            w = F.softmax(self.extractor.forward_pass(input_image*norm_saliency_map)[1],dim=1)[0][target_class]
            cam += w.data.numpy() * target[i, :, :].data.numpy()
        cam = np.maximum(cam, 0)
        cam = (cam - np.min(cam)) / (np.max(cam) - np.min(cam))  # Normalize between 0-1
        cam = np.uint8(cam * 255)  # Scale between 0-255 to visualize
        cam = np.uint8(resize(cam, (input_image.shape[2],
                       input_image.shape[3])))/255
        return cam


# ---- src/layercam.py
class LayerCam():
    """
        Produces class activation map
    """
    def __init__(self, model, target_layer):
        self.model = model
        self.model.eval()
        # Define extractor
        self.extractor = LayerCamExtractor(self.model, target_layer)

    def generate_cam(self, input_image, target_class=None):
        # Full forward pass
        # conv_output is the output of convolutions at specified layer
        # model_output is the final output of the model (1, 1000)
        conv_output, model_output = self.extractor.forward_pass(input_image)
        if target_class is None:
            target_class = np.argmax(model_output.data.numpy())
        # Target for backprop
        one_hot_output = torch.FloatTensor(1, model_output.size()[-1]).zero_()
        one_hot_output[0][target_class] = 1
        # Zero grads
        self.model.features.zero_grad()
        self.model.classifier.zero_grad()
        # Backward pass with specified target
        model_output.backward(gradient=one_hot_output, retain_graph=True)
        # Get hooked gradients
        guided_gradients = self.extractor.gradients.data.numpy()[0]
        # Get convolution outputs
        target = conv_output.data.numpy()[0]
        # Get weights from gradients
        weights = guided_gradients
        weights[weights < 0] = 0 # discard negative gradients
        # Element-wise multiply the weight with its conv output and then, sum
        cam = np.sum(weights * target, axis=0)
        cam = (cam - np.min(cam)) / (np.max(cam) - np.min(cam))  # Normalize between 0-1
        cam = np.uint8(cam * 255)  # Scale between 0-255 to visualize
        cam = np.uint8(resize(cam, (input_image.shape[2],
                       input_image.shape[3])))/255

        return cam


# ---- src/LRP.py
class LRP():
    """
        Layer-wise relevance propagation with gamma+epsilon rule

        This code is largely based on the code shared in: https://git.tu-berlin.de/gmontavon/lrp-tutorial
        Some stuff is removed, some stuff is cleaned, and some stuff is re-organized compared to that repository.
    """
    def __init__(self, model):
        self.model = model

    def LRP_forward(self, layer, input_tensor, gamma=None, epsilon=None):
        # This implementation uses both gamma and epsilon rule for all layers
        # The original paper argues that it might be beneficial to sometimes use
        # or not use gamma/epsilon rule depending on the layer location
        # Have a look a the paper and adjust the code according to your needs

        # LRP-Gamma rule
        if gamma is None:
            gamma = lambda value: value + 0.05 * copy.deepcopy(value.data.detach()).clamp(min=0)
        # LRP-Epsilon rule
        if epsilon is None:
            eps = 1e-9
            epsilon = lambda value: value + eps

        # Copy the layer to prevent breaking the graph
        layer = copy.deepcopy(layer)

        # Modify weight and bias with the gamma rule
        try:
            layer.weight = nn.Parameter(gamma(layer.weight))
        except AttributeError:
            pass
            # print('This layer has no weight')
        try:
            layer.bias = nn.Parameter(gamma(layer.bias))
        except AttributeError:
            pass
            # print('This layer has no bias')
        # Forward with gamma + epsilon rule
        return epsilon(layer(input_tensor))

    def LRP_step(self, forward_output, layer, LRP_next_layer):
        # Enable the gradient flow
        forward_output = forward_output.requires_grad_(True)
        # Get LRP forward out based on the LRP rules
        lrp_rule_forward_out = self.LRP_forward(layer, forward_output, None, None)
        # Perform element-wise division
        ele_div = (LRP_next_layer / lrp_rule_forward_out).data
        # Propagate
        (lrp_rule_forward_out * ele_div).sum().backward()
        # Get the visualization
        LRP_this_layer = (forward_output * forward_output.grad).data

        return LRP_this_layer

    def generate(self, input_image, target_class):
        layers_in_model = list(self.model._modules['features']) + list(self.model._modules['classifier'])
        number_of_layers = len(layers_in_model)
        # Needed to know where flattening happens
        features_to_classifier_loc = len(self.model._modules['features'])

        # Forward outputs start with the input image
        forward_output = [input_image]
        # Then we do forward pass with each layer
        for conv_layer in list(self.model._modules['features']):
            forward_output.append(conv_layer.forward(forward_output[-1].detach()))

        # To know the change in the dimensions between features and classifier
        feature_to_class_shape = forward_output[-1].shape
        # Flatten so we can continue doing forward passes at classifier layers
        forward_output[-1] = torch.flatten(forward_output[-1], 1)
        for index, classifier_layer in enumerate(list(self.model._modules['classifier'])):
            forward_output.append(classifier_layer.forward(forward_output[-1].detach()))

        # Target for backprop
        target_class_one_hot = torch.FloatTensor(1, 10).zero_()
        target_class_one_hot[0][target_class] = 1

        # This is where we accumulate the LRP results
        LRP_per_layer = [None] * number_of_layers + [(forward_output[-1] * target_class_one_hot).data]

        for layer_index in range(1, number_of_layers)[::-1]:
            # This is where features to classifier change happens
            # Have to flatten the lrp of the next layer to match the dimensions
            if layer_index == features_to_classifier_loc-1:
                LRP_per_layer[layer_index+1] = LRP_per_layer[layer_index+1].reshape(feature_to_class_shape)

            if isinstance(layers_in_model[layer_index], (torch.nn.Linear, torch.nn.Conv2d, torch.nn.MaxPool2d)):
                # In the paper implementation, they replace maxpool with avgpool because of certain properties
                # I didn't want to modify the model like the original implementation but
                # feel free to modify this part according to your need(s)
                lrp_this_layer = self.LRP_step(forward_output[layer_index], layers_in_model[layer_index], LRP_per_layer[layer_index+1])
                LRP_per_layer[layer_index] = lrp_this_layer
            else:
                LRP_per_layer[layer_index] = LRP_per_layer[layer_index+1]
        return LRP_per_layer


# ---- __main__ of src/gradcam.py
# Get params
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
# Grad cam
grad_cam = GradCam(pretrained_model, target_layer=11)
# Generate cam mask
cam = grad_cam.generate_cam(prep_img, target_class)
print('hooked gradients', tuple(grad_cam.extractor.gradients.shape), 'sum %.6g' % grad_cam.extractor.gradients.sum().item())
print('cam', cam.dtype, np.round(cam[::9, ::9], 4).tolist())
# Save mask
save_class_activation_images(original_image, cam, file_name_to_export)
print('Grad cam completed')

# ---- __main__ of src/scorecam.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
# Score cam
score_cam = ScoreCam(pretrained_model, target_layer=11)
# Generate cam mask
cam = score_cam.generate_cam(prep_img, target_class)
print('cam', cam.dtype, np.round(cam[::9, ::9], 4).tolist())
# Save mask
save_class_activation_images(original_image, cam, file_name_to_export)
print('Score cam completed')

# ---- __main__ of src/layercam.py
target_example = 0  # Snake
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
# Layer cam
layer_cam = LayerCam(pretrained_model, target_layer=9)
# Generate cam mask
cam = layer_cam.generate_cam(prep_img, target_class)
print('cam', cam.dtype, np.round(cam[::9, ::9], 4).tolist())
# Save mask
save_class_activation_images(original_image, cam, file_name_to_export)
print('Layer cam completed')

# ---- __main__ of src/LRP.py
target_example = 2  # Spider
(original_image, prep_img, target_class, file_name_to_export, pretrained_model) =\
    get_example_params(target_example)
# (the model is left in training mode, as torchvision builds it: the classifier's Dropout layers drop;
torch.manual_seed(3)  # not in the original: their masks come from the global generator)

# LRP
layerwise_relevance = LRP(pretrained_model)

# Generate visualization(s)
LRP_per_layer = layerwise_relevance.generate(prep_img, target_class)
for i, r in enumerate(LRP_per_layer):
    print('LRP layer', i, tuple(r.shape) if r is not None else None,
          'sum %.5g' % r.sum().item() if r is not None else '')

# Convert the output nicely, selecting the first layer
lrp_to_vis = np.array(LRP_per_layer[1][0]).sum(axis=0)
lrp_to_vis = np.array(resize(lrp_to_vis, (prep_img.shape[2],
                      prep_img.shape[3])))

# Apply heatmap and save (apply_heatmap's color scale and the image's statistics instead of the figure)
b = 10*((np.abs(lrp_to_vis)**3.0).mean()**(1.0/3))
print('LRP_out.png', lrp_to_vis.shape, lrp_to_vis.dtype, 'b %.5g' % b, 'max %.5g' % lrp_to_vis.max(),
      'min %.5g' % lrp_to_vis.min())
