# Source: Georgia Tech CS 7643 Deep Learning, assignment 3 ("Network visualization and style transfer"): the
# SaliencyMap, GradCam (a custom guided-backprop ReLU written as an autograd Function that swaps itself into
# SqueezeNet's features._modules, including inside the Fire modules; grad-CAM with a forward hook and an old-style
# register_backward_hook on features[12]), FoolingImage and ClassVisualization visualizers, the ContentLoss,
# StyleLoss (Gram matrices with bmm) and TotalVariationLoss modules and style_utils.extract_features /
# style_transfer, with the driver scripts saliency_map.py, gradcam.py, fooling_image/class_visualization, as a
# student completed them:
#   https://github.com/tamarisk07/CS7643-Deep-Learning  HW3/visualizers/*.py, HW3/style_modules/*.py,
#   HW3/style_utils.py, HW3/saliency_map.py, HW3/gradcam.py
# (that student left style_transfer's update step blank: the body here is the one other students of the course
# wrote, zero_grad / content + style + tv loss / backward / new Adam at decay_lr_at / step).
# Shrunk: a small SqueezeNet 1.1 written here (torchvision's layout: features = conv, ReLU, ceil-mode max-pools and
# Fire modules, so features[12] is a Fire; classifier = dropout, 1x1 conv, ReLU, adaptive avg-pool; torchvision's
# init) with random weights and 8..24 channels, instead of the pretrained one; 5 random 64x64 "ImageNet" images in
# 10 classes instead of load_imagenet_val; fooling image 10 iterations (100), class visualization 8 (100) with
# max_jitter 4 (16), style transfer 6 iterations (200) with decay_lr_at 4 (180) on 32x32 images. PIL, matplotlib,
# scipy and captum are not used: preprocess/deprocess normalize arrays, the grad-CAM rescale with PIL's bicubic
# resize is F.interpolate(mode='bicubic'), scipy's gaussian_filter1d (mode 'reflect', truncate 4.0) is written in
# NumPy, and the figures are summarized by prints.
import random

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.init as init
from torch.autograd import Function as TorchFunc
from torch.autograd import Variable

# ---------------------------------------------------------------- image_utils.py (without PIL)
SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess(img):
    """T.ToTensor(), T.Normalize(MEAN, STD), T.Lambda(lambda x: x[None]) on an HxWx3 uint8 array."""
    x = torch.from_numpy(img.astype(np.float32).transpose(2, 0, 1) / 255.0)
    x = (x - torch.from_numpy(SQUEEZENET_MEAN)[:, None, None]) / torch.from_numpy(SQUEEZENET_STD)[:, None, None]
    return x[None]


def rescale(x):
    low, high = x.min(), x.max()
    x_rescaled = (x - low) / (high - low)
    return x_rescaled


def deprocess(img, should_rescale=True):
    """x[0], undo Normalize, rescale, ToPILImage (here: an HxWx3 uint8 array)."""
    x = img[0]
    x = x * torch.from_numpy(SQUEEZENET_STD)[:, None, None] + torch.from_numpy(SQUEEZENET_MEAN)[:, None, None]
    if should_rescale:
        x = rescale(x)
    return (x.clamp(0, 1) * 255).to(torch.uint8).permute(1, 2, 0).numpy()


def gaussian_filter1d(x, sigma, axis):
    """scipy.ndimage.gaussian_filter1d with its defaults (mode='reflect', truncate=4.0)."""
    radius = int(4.0 * sigma + 0.5)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 * offsets ** 2 / sigma ** 2)
    weights /= weights.sum()
    pad = [(0, 0)] * x.ndim
    pad[axis] = (radius, radius)
    padded = np.pad(x, pad, mode='symmetric')
    out = np.zeros_like(x)
    n = x.shape[axis]
    for w, o in zip(weights, offsets):
        out += w * np.take(padded, np.arange(radius + o, radius + o + n), axis=axis)
    return out


# ---------------------------------------------------------------- torchvision.models.squeezenet1_1 (small)
class Fire(nn.Module):
    def __init__(self, inplanes, squeeze_planes, expand1x1_planes, expand3x3_planes):
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x):
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat(
            [self.expand1x1_activation(self.expand1x1(x)), self.expand3x3_activation(self.expand3x3(x))], 1
        )


class SqueezeNet(nn.Module):
    def __init__(self, num_classes=10, dropout=0.5):
        super().__init__()
        self.num_classes = num_classes
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(8, 4, 8, 8),
            Fire(16, 4, 8, 8),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(16, 6, 12, 12),
            Fire(24, 6, 12, 12),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            Fire(24, 6, 12, 12),
            Fire(24, 6, 12, 12),
            Fire(24, 8, 12, 12),
            Fire(24, 8, 12, 12),
        )
        final_conv = nn.Conv2d(24, self.num_classes, kernel_size=1)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1))
        )
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    init.constant_(m.bias, 0)

    def forward(self, x):
        x = self.features(x)
        x = self.classifier(x)
        return torch.flatten(x, 1)


def squeezenet1_1(pretrained=True):
    torch.manual_seed(0)  # the same "pretrained" weights each time the scripts load the model
    model = SqueezeNet()
    with torch.no_grad():
        model.classifier[1].bias.fill_(0.05)  # "trained": every class score starts above the final ReLU
    return model


# ---------------------------------------------------------------- data_utils.load_imagenet_val (synthetic)
def load_imagenet_val(num=5):
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(num, 64, 64, 3)).astype(np.uint8)
    y = np.array([3, 1, 7, 3, 5])[:num]
    class_names = {i: 'class_%d' % i for i in range(10)}
    return X, y, class_names


# ---------------------------------------------------------------- visualizers/saliency_map.py
class SaliencyMap:
    def compute_saliency_maps(self, X, y, model):
        # Make sure the model is in "test" mode
        model.eval()

        # Wrap the input tensors in Variables
        X_var = Variable(X, requires_grad=True)
        y_var = Variable(y, requires_grad=False)
        saliency = None

        # It only needs a single back-propagation pass
        # set the optimization parameters
        pred = model(X_var)
        pred = pred.gather(1, y_var.view(-1, 1)).squeeze()
        pred.backward(torch.FloatTensor([1., 1., 1., 1., 1.]))
        saliency = abs(X_var.grad.data)
        saliency, _ = torch.max(saliency, dim=1)
        return saliency.squeeze()

    def show_saliency_maps(self, X, y, class_names, model):
        # Convert X and y from numpy arrays to Torch Tensors
        X_tensor = torch.cat([preprocess(x) for x in X], dim=0)
        y_tensor = torch.LongTensor(y)

        # Compute saliency maps for images in X
        saliency = self.compute_saliency_maps(X_tensor, y_tensor, model)
        # Convert the saliency map from Torch Tensor to numpy array and show images
        # and saliency maps together.
        saliency = saliency.numpy()

        N = X.shape[0]
        for i in range(N):
            print(class_names[y[i]], saliency[i].shape, saliency[i].max(), saliency[i].mean(),
                  np.unravel_index(saliency[i].argmax(), saliency[i].shape))


# ---------------------------------------------------------------- visualizers/gradcam.py
class CustomReLU(TorchFunc):
    """
    Define the custom change to the standard ReLU function necessary to perform guided backpropagation.
    We have already implemented the forward pass for you, as this is the same as a normal ReLU function.
    """

    @staticmethod
    def forward(self, x):
        output = torch.addcmul(torch.zeros(x.size()), x, (x > 0).type_as(x))
        self.save_for_backward(x, output)
        return output

    @staticmethod
    def backward(self, y):
        input_ = self.saved_tensors[0]
        output = y.detach()
        output = output.clone()

        output[np.where(input_ < 0)] = 0
        output[np.where(output < 0)] = 0

        return output


class GradCam:
    def guided_backprop(self, X_tensor, y_tensor, gc_model):
        for param in gc_model.parameters():
            param.requires_grad = True

        for idx, module in gc_model.features._modules.items():
            if module.__class__.__name__ == 'ReLU':
                gc_model.features._modules[idx] = CustomReLU.apply
            elif module.__class__.__name__ == 'Fire':
                for idx_c, child in gc_model.features[int(idx)].named_children():
                    if child.__class__.__name__ == 'ReLU':
                        gc_model.features[int(idx)]._modules[idx_c] = CustomReLU.apply

        pred = gc_model.forward(X_tensor)
        loss = pred.gather(1, y_tensor.view(-1, 1)).squeeze()
        loss.backward(torch.ones_like(loss), retain_graph=True)
        backprop = X_tensor.grad.permute(0, 2, 3, 1)
        return backprop.detach().numpy()

    def grad_cam(self, X_tensor, y_tensor, gc_model):
        conv_module = gc_model.features[12]
        self.gradient_value = None  # Stores gradient of the module you chose above during a backwards pass.
        self.activation_value = None  # Stores the activation of the module you chose above during a forwards pass.

        def gradient_hook(a, b, gradient):
            self.gradient_value = gradient[0]

        def activation_hook(a, b, activation):
            self.activation_value = activation

        conv_module.register_forward_hook(activation_hook)
        conv_module.register_backward_hook(gradient_hook)
        pred = gc_model.forward(X_tensor)
        y_tensor_res = y_tensor.view(-1, 1)
        loss = pred.gather(1, y_tensor.view(-1, 1)).squeeze()
        loss.backward(torch.ones_like(loss), retain_graph=True)
        gradcam = torch.mean(self.gradient_value, dim=(2, 3), keepdims=True) * self.activation_value
        gradcam = torch.sum(gradcam, dim=1)
        gradcam = torch.clamp(gradcam, min=0)
        cam = gradcam.detach().numpy()

        # Rescale GradCam output to fit image (PIL's bicubic resize in the original).
        cam_scaled = []
        for i in range(cam.shape[0]):
            cam_i = torch.from_numpy(cam[i])[None, None]
            cam_scaled.append(F.interpolate(cam_i, size=X_tensor[i, 0, :, :].shape, mode='bicubic',
                                            align_corners=False)[0, 0].numpy())
        cam = np.array(cam_scaled)
        cam -= np.min(cam)
        cam /= np.max(cam)
        return cam


# ---------------------------------------------------------------- visualizers/fooling_image.py
class FoolingImage:
    def make_fooling_image(self, X, target_y, model):
        model.eval()

        # Initialize our fooling image to the input image, and wrap it in a Variable.
        X_fooling = X.clone()
        X_fooling_var = Variable(X_fooling, requires_grad=True)

        learning_rate = 10  # learning rate is 1
        max_iter = 10  # maximum number of iterations

        for it in range(max_iter):
            pred = model(X_fooling_var)
            pred_y = torch.argmax(pred, dim=1).data
            print('fooling iter', it, pred_y, pred[0, target_y].item())
            if pred_y != target_y:
                pred[0, target_y].backward()
                dx = learning_rate * X_fooling_var.grad / torch.norm(X_fooling_var.grad)
                X_fooling_var.data.add_(dx)

        X_fooling = X_fooling_var.data

        return X_fooling


# ---------------------------------------------------------------- visualizers/class_visualization.py
class ClassVisualization:
    def jitter(self, X, ox, oy):
        if ox != 0:
            left = X[:, :, :, :-ox]
            right = X[:, :, :, -ox:]
            X = torch.cat([right, left], dim=3)
        if oy != 0:
            top = X[:, :, :-oy]
            bottom = X[:, :, -oy:]
            X = torch.cat([bottom, top], dim=2)
        return X

    def blur_image(self, X, sigma=1):
        X_np = X.cpu().clone().numpy()
        X_np = gaussian_filter1d(X_np, sigma, axis=2)
        X_np = gaussian_filter1d(X_np, sigma, axis=3)
        X.copy_(torch.Tensor(X_np).type_as(X))
        return X

    def create_class_visualization(self, target_y, class_names, model, dtype, **kwargs):
        model.eval()

        model.type(dtype)
        l2_reg = kwargs.pop('l2_reg', 1e-3)
        learning_rate = kwargs.pop('learning_rate', 25)
        num_iterations = kwargs.pop('num_iterations', 100)
        blur_every = kwargs.pop('blur_every', 10)
        max_jitter = kwargs.pop('max_jitter', 16)
        show_every = kwargs.pop('show_every', 25)

        # Randomly initialize the image as a PyTorch Tensor, and also wrap it in
        # a PyTorch Variable.
        img = torch.randn(1, 3, 64, 64).mul_(1.0).type(dtype)
        img_var = Variable(img, requires_grad=True)

        for t in range(num_iterations):
            # Randomly jitter the image a bit; this gives slightly nicer results
            ox, oy = random.randint(0, max_jitter), random.randint(0, max_jitter)
            img.copy_(self.jitter(img, ox, oy))

            pred = model(img_var)
            pred[0, target_y].backward()
            img_var.grad -= 2 * l2_reg * img_var
            dx = learning_rate * img_var.grad / torch.norm(img_var.grad)
            img_var.data.add_(dx)
            img_var.grad.fill_(0)

            # Undo the random jitter
            img.copy_(self.jitter(img, -ox, -oy))

            # As regularizer, clamp and periodically blur the image
            for c in range(3):
                lo = float(-SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c])
                hi = float((1.0 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c])
                img[:, c].clamp_(min=lo, max=hi)
            if t % blur_every == 0:
                self.blur_image(img, sigma=0.5)

            # Periodically show the image
            if t == 0 or (t + 1) % show_every == 0 or t == num_iterations - 1:
                shown = deprocess(img.clone().cpu())
                class_name = class_names[target_y]
                print('%s Iteration %d / %d' % (class_name, t + 1, num_iterations), (ox, oy),
                      pred[0, target_y].item(), shown.mean(), shown[10, 10])
        return deprocess(img.cpu())


# ---------------------------------------------------------------- style_modules/*.py
class ContentLoss(nn.Module):
    def forward(self, content_weight, content_current, content_original):
        loss = content_weight * torch.sum(torch.pow(content_current - content_original, 2))
        return loss


class StyleLoss(nn.Module):
    def gram_matrix(self, features, normalize=True):
        N, C, H, W = features.shape
        gram = torch.bmm(features.view(N, C, -1), torch.transpose(features.view(N, C, -1), 1, 2))
        if normalize:
            gram = gram / (C * H * W)
        return gram

    def forward(self, feats, style_layers, style_targets, style_weights):
        style_loss = 0
        for i in range(len(style_layers)):
            diff = self.gram_matrix(feats[style_layers[i]]) - style_targets[i]
            style_loss += style_weights[i] * torch.sum(torch.pow(diff, 2))
        return style_loss


class TotalVariationLoss(nn.Module):
    def forward(self, img, tv_weight):
        tv_loss = 0
        diff_h = img[:, :, 0:-1, :] - img[:, :, 1:, :]
        diff_v = img[:, :, :, 0:-1] - img[:, :, :, 1:]
        tv_loss += torch.sum(torch.pow(diff_h, 2))
        tv_loss += torch.sum(torch.pow(diff_v, 2))
        tv_loss *= tv_weight
        return tv_loss


# ---------------------------------------------------------------- style_utils.py
def extract_features(x, cnn):
    features = []
    prev_feat = x
    for i, module in enumerate(cnn._modules.values()):
        next_feat = module(prev_feat)
        features.append(next_feat)
        prev_feat = next_feat
    return features


def style_transfer(name, content_image, style_image, image_size, style_size, content_layer, content_weight,
                   style_layers, style_weights, tv_weight, content_loss, style_loss, tv_loss, cnn, dtype,
                   init_random=False):
    # Extract features for the content image
    content_img = preprocess(content_image)
    content_img_var = Variable(content_img.type(dtype))
    feats = extract_features(content_img_var, cnn)
    content_target = feats[content_layer].clone()

    # Extract features for the style image
    style_img = preprocess(style_image)
    style_img_var = Variable(style_img.type(dtype))
    feats = extract_features(style_img_var, cnn)
    style_targets = []
    for idx in style_layers:
        style_targets.append(style_loss.gram_matrix(feats[idx].clone()))

    # Initialize output image to content image or nois
    if init_random:
        img = torch.Tensor(content_img.size()).uniform_(0, 1)
    else:
        img = content_img.clone().type(dtype)

    # We do want the gradient computed on our image!
    img_var = Variable(img, requires_grad=True)

    # Set up optimization hyperparameters
    initial_lr = 3.0
    decayed_lr = 0.1
    decay_lr_at = 4

    optimizer = torch.optim.Adam([img_var], lr=initial_lr)
    print(name, 'content', deprocess(content_img.cpu()).mean(), 'style', deprocess(style_img.cpu()).mean())

    for t in range(6):
        if t < 5:
            img.clamp_(-1.5, 1.5)
        optimizer.zero_grad()

        feats = extract_features(img_var, cnn)

        c_loss = content_loss(content_weight, feats[content_layer], content_target)
        s_loss = style_loss(feats, style_layers, style_targets, style_weights)
        t_loss = tv_loss(img_var, tv_weight)
        loss = c_loss + s_loss + t_loss

        loss.backward()

        # Perform gradient descents on our image values
        if t == decay_lr_at:
            optimizer = torch.optim.Adam([img_var], lr=decayed_lr)
        optimizer.step()
        print('Iteration {}'.format(t), c_loss.item(), s_loss.item(), t_loss.item())
    print(name, 'result', deprocess(img.cpu())[5, 5], img.abs().max())


# ================================================================ saliency_map.py
model = squeezenet1_1(pretrained=True)
print(model.features[3])
for param in model.parameters():
    param.requires_grad = False

X, y, class_names = load_imagenet_val(num=5)
sm = SaliencyMap()
sm.show_saliency_maps(X, y, class_names, model)
X_tensor = torch.cat([preprocess(x) for x in X], dim=0)
print('scores', model(X_tensor))

# ================================================================ gradcam.py
gc_model = squeezenet1_1(pretrained=True)
gc = GradCam()

X_tensor = torch.cat([preprocess(x) for x in X], dim=0).requires_grad_(True)
y_tensor = torch.LongTensor(y)

# Guided Back-Propagation
gbp_result = gc.guided_backprop(X_tensor, y_tensor, gc_model)
print('guided backprop', gbp_result.shape, gbp_result.dtype)
for i in range(gbp_result.shape[0]):
    img = rescale(gbp_result[i])
    print(class_names[y[i]], float(np.abs(gbp_result[i]).sum()), img.mean(), (gbp_result[i] > 0).sum())
print(gc_model.features[1], gc_model.features[3].squeeze_activation)

# GradCam
gc_model = squeezenet1_1(pretrained=True)
for param in gc_model.parameters():
    param.requires_grad = True

X_tensor = torch.cat([preprocess(x) for x in X], dim=0).requires_grad_(True)
y_tensor = torch.LongTensor(y)
gradcam_result = gc.grad_cam(X_tensor, y_tensor, gc_model)
print('grad cam', gradcam_result.shape, gc.gradient_value.shape, gc.activation_value.shape)
for i in range(gradcam_result.shape[0]):
    gradcam_val = gradcam_result[i]
    print(class_names[y[i]], gradcam_val.mean(), gradcam_val[::16, ::16])

# As a final step, we can combine GradCam and Guided Backprop to get Guided GradCam.
X_tensor = torch.cat([preprocess(x) for x in X], dim=0).requires_grad_(True)
y_tensor = torch.LongTensor(y)
gradcam_result = gc.grad_cam(X_tensor, y_tensor, gc_model)
gbp_result = gc.guided_backprop(X_tensor, y_tensor, gc_model)

for i in range(gradcam_result.shape[0]):
    gbp_val = gbp_result[i]
    gradcam_val = np.expand_dims(gradcam_result[i], axis=2)

    # Pointwise multiplication and normalization of the gradcam and guided backprop results (2 lines)
    img = gradcam_val * gbp_val

    img = np.expand_dims(img.transpose(2, 0, 1), axis=0)
    img = np.float32(img)
    img = torch.from_numpy(img)
    img = deprocess(img)
    print('guided gradcam', class_names[y[i]], img.shape, img.dtype, img.mean(), img[32, 32])

# ================================================================ fooling image and class visualization
model = squeezenet1_1(pretrained=True)
for param in model.parameters():
    param.requires_grad = False
idx = 0
target_y = 6
X_tensor = torch.cat([preprocess(x) for x in X], dim=0)
fi = FoolingImage()
X_fooling = fi.make_fooling_image(X_tensor[idx:idx + 1], target_y, model)
scores = model(X_fooling)
print('fooled', target_y == scores.data.max(1)[1][0].item(), scores.data.max(1))
diff = np.asarray(deprocess(X_fooling.clone(), should_rescale=False)).astype(np.float32) - X[idx]
print('fooling diff', np.abs(diff).max(), (X_fooling - X_tensor[idx:idx + 1]).norm())

dtype = torch.FloatTensor
cv = ClassVisualization()
out = cv.create_class_visualization(target_y, class_names, model, dtype, num_iterations=8, max_jitter=4,
                                    show_every=4, blur_every=3)
print('class visualization', out.shape, out.dtype, out.mean())

# ================================================================ style transfer
cnn = squeezenet1_1(pretrained=True).features
cnn.type(dtype)
for param in cnn.parameters():
    param.requires_grad = False

content_loss = ContentLoss()
style_loss = StyleLoss()
tv_loss = TotalVariationLoss()

# the notebook's small checks of the three losses
feats = extract_features(X_tensor[:1], cnn)
print('feature shapes', [tuple(f.shape) for f in feats])
print('gram', style_loss.gram_matrix(feats[3])[0, :3, :3], style_loss.gram_matrix(feats[3], normalize=False).sum())
print('content loss', content_loss(6e-2, feats[4], feats[3][:, :16] * 0.5))
print('tv loss', tv_loss(X_tensor[:1], 2e-2))

rng = np.random.RandomState(4)
params1 = {
    'name': 'composition_vii_tubingen',
    'content_image': rng.randint(0, 256, size=(32, 32, 3)).astype(np.uint8),
    'style_image': rng.randint(0, 256, size=(32, 32, 3)).astype(np.uint8),
    'image_size': 32,
    'style_size': 32,
    'content_layer': 3,
    'content_weight': 5e-2,
    'style_layers': (1, 4, 6, 7),
    'style_weights': (20000, 500, 12, 1),
    'tv_weight': 5e-2,
    'content_loss': content_loss,
    'style_loss': style_loss,
    'tv_loss': tv_loss,
    'cnn': cnn,
    'dtype': dtype,
}
style_transfer(**params1)
params1['init_random'] = True
params1['name'] = 'feature_inversion'
params1['style_weights'] = (0, 0, 0, 0)
style_transfer(**params1)
