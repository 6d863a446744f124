# Source: Stanford CS231n assignment 3, "Network Visualization (PyTorch)": saliency maps, fooling images and
# class visualization (compute_saliency_maps, make_fooling_image, class_visualization_update_step, jitter,
# blur_image, rescale), as a student completed them, with the notebook's drivers (show_saliency_maps, the
# fooling-image check, create_class_visualization):
#   https://github.com/DameDollaForThree/CS231n-assignment3  cs231n/net_visualization_pytorch.py,
#   Network_Visualization.ipynb (SQUEEZENET_MEAN/STD from cs231n/image_utils.py)
# Shrunk: a small hand-made CNN (random weights, frozen and in eval mode as the notebook freezes SqueezeNet)
# instead of the pretrained SqueezeNet; 5 random 32x32 "ImageNet" images in 10 classes instead of the
# notebook's 224x224 examples; class visualization 12 iterations (100) with max_jitter 4 (16). torchvision and
# PIL are not used: preprocess/deprocess do the same normalization on arrays (deprocess returns a uint8 array
# instead of a PIL image); scipy is not a test dependency, so scipy.ndimage's gaussian_filter1d (mode
# 'reflect', truncate 4.0) is written here in NumPy. The figures the notebook shows are summarized by prints.
import random

import numpy as np
import torch
import torch.nn as nn

SQUEEZENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
SQUEEZENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def gaussian_filter1d(input, sigma, axis=-1, truncate=4.0):
    """scipy.ndimage.gaussian_filter1d (mode='reflect') in NumPy."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    weights = np.exp(-0.5 / sigma ** 2 * x ** 2)
    weights /= weights.sum()
    moved = np.moveaxis(input, axis, -1)
    padded = np.pad(moved, [(0, 0)] * (moved.ndim - 1) + [(radius, radius)], mode="symmetric")
    out = sum(w * padded[..., i:i + moved.shape[-1]] for i, w in enumerate(weights))
    return np.moveaxis(out.astype(input.dtype), -1, axis)


# ---------------------------------------------------------------------------------------------- net_visualization_pytorch.py
def compute_saliency_maps(X, y, model):
    """
    Compute a class saliency map using the model for images X and labels y.
    """
    # Make sure the model is in "test" mode
    model.eval()

    # Make input tensor require gradient
    X.requires_grad_()

    saliency = None
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    scores = model(X)    # compute the scores for all images on all classes
    # pick out the scores on the correct classes, which are scalars
    correct_class_scores = scores.gather(1, y.view(-1, 1)).squeeze()

    N = y.shape[0]
    correct_class_scores.backward(torch.ones((N,)))    # backward propogation: compute the loss over the correct scores
    # .backward() can only be run on a scalar output (i.e. a single element)
    # "torch.ones((N,)" specifies the dimension of the vector output

    dx = X.grad
    abs_dx = np.absolute(dx)    # take the absolute value of the gradient
    saliency, _ = torch.max(abs_dx, dim=1)    # take the max along dim/axis=1 (max of the RGB channels)

#     saliency, _ = X.grad.data.abs().max(dim=1)    # or do this

    pass

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return saliency

def make_fooling_image(X, target_y, model):
    """
    Generate a fooling image that is close to X, but that the model classifies
    as target_y.
    """
    # Initialize our fooling image to the input image, and make it require gradient
    X_fooling = X.clone()
    X_fooling = X_fooling.requires_grad_()

    learning_rate = 1
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    i = 0
    while True:
        print("loop ", i)
        i += 1

        # forward image to compute current score
        scores = model(X_fooling)    # scores is of shape (1,1000)

        target_score = scores[:,target_y]
        max_score = torch.max(scores)
        if target_score == max_score:
            break

        # Backprop to get gradient with respect to image pixels
        target_score.backward()
        g = X_fooling.grad

        # make updates to the image
        dX = learning_rate * g / torch.norm(g)    # When computing an update step, first normalize the gradient
        X_fooling.data += dX.data

        # zero out the gradients on the input image for the next step
        X_fooling.grad.data.zero_()

    pass

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return X_fooling

def class_visualization_update_step(img, model, target_y, l2_reg, learning_rate):
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    scores = model(img)
    score_y = scores[:,target_y]
    regularizer = l2_reg * (torch.norm(img)**2)

    result = score_y - regularizer
    result.backward()
    g = img.grad

    dimg = learning_rate * g / torch.norm(g)
    img.data += dimg.data

    # zero out the gradients on the input image for the next step
    img.grad.data.zero_()

    pass

    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****


def preprocess(img, size=224):
    # T.Resize(size), T.ToTensor(), T.Normalize(SQUEEZENET_MEAN, SQUEEZENET_STD), T.Lambda(lambda x: x[None])
    x = torch.from_numpy(img).permute(2, 0, 1).float() / 255
    x = (x - torch.from_numpy(SQUEEZENET_MEAN).view(3, 1, 1)) / torch.from_numpy(SQUEEZENET_STD).view(3, 1, 1)
    return x[None]

def deprocess(img, should_rescale=True):
    # T.Lambda(lambda x: x[0]), the two T.Normalize, T.Lambda(rescale), T.ToPILImage()
    x = img[0]
    x = x * torch.from_numpy(SQUEEZENET_STD).view(3, 1, 1) + torch.from_numpy(SQUEEZENET_MEAN).view(3, 1, 1)
    x = rescale(x) if should_rescale else x
    return (x.clamp(0, 1) * 255).byte().permute(1, 2, 0).numpy()

def rescale(x):
    low, high = x.min(), x.max()
    x_rescaled = (x - low) / (high - low)
    return x_rescaled

def blur_image(X, sigma=1):
    X_np = X.cpu().clone().numpy()
    X_np = gaussian_filter1d(X_np, sigma, axis=2)
    X_np = gaussian_filter1d(X_np, sigma, axis=3)
    X.copy_(torch.Tensor(X_np).type_as(X))
    return X

def jitter(X, ox, oy):
    """
    Helper function to randomly jitter an image.
    """
    if ox != 0:
        left = X[:, :, :, :-ox]
        right = X[:, :, :, -ox:]
        X = torch.cat([right, left], dim=3)
    if oy != 0:
        top = X[:, :, :-oy]
        bottom = X[:, :, -oy:]
        X = torch.cat([bottom, top], dim=2)
    return X


# ---------------------------------------------------------------------------------------------- Network_Visualization.ipynb
# The pretrained SqueezeNet's stand-in: a small CNN, frozen.
model = nn.Sequential(
    nn.Conv2d(3, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
    nn.Conv2d(32, 10, kernel_size=1), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(),
)
# We don't want to train the model, so tell PyTorch not to compute gradients
# with respect to model parameters.
for param in model.parameters():
    param.requires_grad = False
model.eval()

X = torch.randint(0, 256, (5, 32, 32, 3), dtype=torch.uint8).numpy()
y = [2, 7, 1, 4, 9]
class_names = {i: "class %d" % i for i in range(10)}


def show_saliency_maps(X, y):
    # Convert X and y from numpy arrays to Torch Tensors
    X_tensor = torch.cat([preprocess(x) for x in X], dim=0)
    y_tensor = torch.LongTensor(y)

    # Compute saliency maps for images in X
    saliency = compute_saliency_maps(X_tensor, y_tensor, model)

    # Convert the saliency map from Torch Tensor to numpy array and show images
    # and saliency maps together.
    saliency = saliency.numpy()
    N = X.shape[0]
    for i in range(N):
        print(class_names[y[i]], "saliency max %.6f mean %.6f" % (saliency[i].max(), saliency[i].mean()))
    return saliency


saliency = show_saliency_maps(X, y)
print(type(saliency).__name__, saliency.shape, saliency.dtype)

idx = 0
target_y = 6

X_tensor = torch.cat([preprocess(x) for x in X], dim=0)
print("original prediction:", model(X_tensor).data.max(1)[1])
X_fooling = make_fooling_image(X_tensor[idx:idx+1], target_y, model)

scores = model(X_fooling)
assert target_y == scores.data.max(1)[1][0].item(), 'The model is not fooled!'
print("fooled:", class_names[scores.data.max(1)[1][0].item()], scores.data)

X_fooling_np = deprocess(X_fooling.clone())
X_fooling_np = np.asarray(X_fooling_np).astype(np.uint8)
diff = np.asarray(deprocess(X_fooling - X_tensor[idx:idx+1], should_rescale=False))
print("fooling image mean %.3f, difference mean %.3f, 10x difference mean %.3f" % (
    X_fooling_np.mean(), diff.mean(), np.asarray(deprocess(10 * (X_fooling - X_tensor[idx:idx+1]), should_rescale=False)).mean()))


def create_class_visualization(target_y, model, dtype, **kwargs):
    """
    Generate an image to maximize the score of target_y under a pretrained model.
    """
    model.type(dtype)
    l2_reg = kwargs.pop('l2_reg', 1e-3)
    learning_rate = kwargs.pop('learning_rate', 25)
    num_iterations = kwargs.pop('num_iterations', 100)
    blur_every = kwargs.pop('blur_every', 10)
    max_jitter = kwargs.pop('max_jitter', 16)
    show_every = kwargs.pop('show_every', 25)

    # Randomly initialize the image as a PyTorch Tensor, and make it requires gradient.
    img = torch.randn(1, 3, 32, 32).mul_(1.0).type(dtype).requires_grad_()

    for t in range(num_iterations):
        # Randomly jitter the image a bit; this gives slightly nicer results
        ox, oy = random.randint(0, max_jitter), random.randint(0, max_jitter)
        img.data.copy_(jitter(img.data, ox, oy))
        class_visualization_update_step(img, model, target_y, l2_reg, learning_rate)
        # Undo the random jitter
        img.data.copy_(jitter(img.data, -ox, -oy))

        # As regularizer, clamp and periodically blur the image
        for c in range(3):
            lo = float(-SQUEEZENET_MEAN[c] / SQUEEZENET_STD[c])
            hi = float((1.0 - SQUEEZENET_MEAN[c]) / SQUEEZENET_STD[c])
            img.data[:, c].clamp_(min=lo, max=hi)
        if t % blur_every == 0:
            blur_image(img.data, sigma=0.5)

        # Periodically show the image
        if t == 0 or (t + 1) % show_every == 0 or t == num_iterations - 1:
            shown = deprocess(img.data.clone().cpu())
            print('%s Iteration %d / %d: score %.4f, image mean %.3f' % (
                class_names[target_y], t + 1, num_iterations, model(img.data)[0, target_y].item(), shown.mean()))

    return deprocess(img.data.cpu())


dtype = torch.FloatTensor
target_y = 3
out = create_class_visualization(target_y, model, dtype, num_iterations=12, max_jitter=4, blur_every=5, show_every=4)
print(out.shape, out.dtype)
