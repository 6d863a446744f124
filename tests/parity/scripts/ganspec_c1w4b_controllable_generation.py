# Source: DeepLearning.AI, Generative Adversarial Networks (GANs) Specialization (Coursera), course 1 week 4,
# "Controllable Generation" (C1W4B_Controllable_Generation: a DCGAN Generator and a CelebA attribute
# Classifier, gradient ascent on the noise through noise.grad and noise.data, get_score with a list of bools
# as the index of the other classes and torch.norm(dim=1)), as a learner completed it:
#   https://github.com/amanchadha/coursera-gan-specialization
#   C1 - Build Basic Generative Adversarial Networks/Week 4/C1W4B_Controllable_Generation.ipynb
# Shrunk: no pretrained_celeba.pth / pretrained_classifier.pth: the generator and the classifier keep their
# seeded initial weights, and a stand-in checkpoint (in memory, io.BytesIO) carries BatchNorm running
# statistics gathered from 3 generated batches (momentum=None), loaded as the notebook loads its files; hidden_dim 4 and
# 8 instead of 64 for both, z_dim 16 instead of 64, device 'cpu' instead of 'cuda'; train_classifier
# (CelebA download, seaborn) is left out; the "assert torch.all(fake_classes_new > fake_classes)" check of
# the notebook, which holds for its trained models, is printed instead of asserted; grad_steps 4 instead
# of 10; show_tensor_images/make_grid (matplotlib, torchvision) are replaced by printing the image history's
# shape and statistics, and the scores are printed at each step.
import torch
from torch import nn
torch.manual_seed(0) # Set for our testing purposes, please do not change!


def show_tensor_images(image_tensor, num_images=16, size=(3, 64, 64), nrow=3):
    image_tensor = (image_tensor + 1) / 2
    image_unflat = image_tensor.detach().cpu()
    print("images", tuple(image_unflat[:num_images].shape), f"{image_unflat.mean().item():.4f} {image_unflat.std().item():.4f}")


class Generator(nn.Module):
    '''
    Generator Class
    Values:
        z_dim: the dimension of the noise vector, a scalar
        im_chan: the number of channels in the images, fitted for the dataset used, a scalar
              (CelebA is rgb, so 3 is our default)
        hidden_dim: the inner dimension, a scalar
    '''
    def __init__(self, z_dim=10, im_chan=3, hidden_dim=64):
        super(Generator, self).__init__()
        self.z_dim = z_dim
        # Build the neural network
        self.gen = nn.Sequential(
            self.make_gen_block(z_dim, hidden_dim * 8),
            self.make_gen_block(hidden_dim * 8, hidden_dim * 4),
            self.make_gen_block(hidden_dim * 4, hidden_dim * 2),
            self.make_gen_block(hidden_dim * 2, hidden_dim),
            self.make_gen_block(hidden_dim, im_chan, kernel_size=4, final_layer=True),
        )

    def make_gen_block(self, input_channels, output_channels, kernel_size=3, stride=2, final_layer=False):
        if not final_layer:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
                nn.BatchNorm2d(output_channels),
                nn.ReLU(inplace=True),
            )
        else:
            return nn.Sequential(
                nn.ConvTranspose2d(input_channels, output_channels, kernel_size, stride),
                nn.Tanh(),
            )

    def forward(self, noise):
        x = noise.view(len(noise), self.z_dim, 1, 1)
        return self.gen(x)

def get_noise(n_samples, z_dim, device='cpu'):
    return torch.randn(n_samples, z_dim, device=device)


class Classifier(nn.Module):
    '''
    Classifier Class
    Values:
        im_chan: the number of channels in the images, fitted for the dataset used, a scalar
              (CelebA is rgb, so 3 is our default)
        n_classes: the total number of classes in the dataset, an integer scalar
        hidden_dim: the inner dimension, a scalar
    '''
    def __init__(self, im_chan=3, n_classes=2, hidden_dim=64):
        super(Classifier, self).__init__()
        self.classifier = nn.Sequential(
            self.make_classifier_block(im_chan, hidden_dim),
            self.make_classifier_block(hidden_dim, hidden_dim * 2),
            self.make_classifier_block(hidden_dim * 2, hidden_dim * 4, stride=3),
            self.make_classifier_block(hidden_dim * 4, n_classes, final_layer=True),
        )

    def make_classifier_block(self, input_channels, output_channels, kernel_size=4, stride=2, final_layer=False):
        if final_layer:
            return nn.Sequential(
                nn.Conv2d(input_channels, output_channels, kernel_size, stride),
            )
        else:
            return nn.Sequential(
                nn.Conv2d(input_channels, output_channels, kernel_size, stride),
                nn.BatchNorm2d(output_channels),
                nn.LeakyReLU(0.2, inplace=True),
            )

    def forward(self, image):
        class_pred = self.classifier(image)
        return class_pred.view(len(class_pred), -1)

z_dim = 16
batch_size = 128
device = 'cpu'

# Stand-in for the pretrained checkpoints: BatchNorm's running statistics are gathered from a few batches
# in training mode (weights untouched), and the state dicts go through torch.save/torch.load in memory.
import io
checkpoint = io.BytesIO()
with torch.no_grad():
    pretrained_gen, pretrained_classifier = Generator(z_dim, hidden_dim=4), Classifier(n_classes=40, hidden_dim=8)
    for module in [*pretrained_gen.modules(), *pretrained_classifier.modules()]:
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # a cumulative average
    for _ in range(3):
        pretrained_classifier(pretrained_gen(get_noise(16, z_dim)))
torch.save({"gen": pretrained_gen.state_dict(), "classifier": pretrained_classifier.state_dict()}, checkpoint)

import torch
gen = Generator(z_dim, hidden_dim=4).to(device)
checkpoint.seek(0)
gen_dict = torch.load(checkpoint, map_location=torch.device(device))["gen"]
gen.load_state_dict(gen_dict)
gen.eval()

n_classes = 40
classifier = Classifier(n_classes=n_classes, hidden_dim=8).to(device)
checkpoint.seek(0)
class_dict = torch.load(checkpoint, map_location=torch.device(device))["classifier"]
classifier.load_state_dict(class_dict)
classifier.eval()
print("Loaded the models!")

opt = torch.optim.Adam(classifier.parameters(), lr=0.01)


# UNQ_C1 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED FUNCTION: calculate_updated_noise
def calculate_updated_noise(noise, weight):
    '''
    Function to return noise vectors updated with stochastic gradient ascent.
    '''
    #### START CODE HERE ####
    new_noise = noise + ( noise.grad * weight)
    #### END CODE HERE ####
    return new_noise

# UNIT TEST
# Check that the basic function works
opt.zero_grad()
noise = torch.ones(20, 20) * 2
noise.requires_grad_()
fake_classes = (noise ** 2).mean()
fake_classes.backward()
new_noise = calculate_updated_noise(noise, 0.1)
print(type(new_noise), new_noise.max(), new_noise.sum())
assert type(new_noise) == torch.Tensor
assert tuple(new_noise.shape) == (20, 20)
assert new_noise.max() == 2.0010
assert new_noise.min() == 2.0010
assert torch.isclose(new_noise.sum(), torch.tensor(0.4) + 20 * 20 * 2)
print("Success!")

# Check that it works for generated images
opt.zero_grad()
noise = get_noise(32, z_dim).to(device).requires_grad_()
fake = gen(noise)
print(fake.shape)
fake_classes = classifier(fake)[:, 0]
fake_classes.mean().backward()
noise.data = calculate_updated_noise(noise, 0.01)
print(noise.requires_grad, noise.grad_fn, noise.grad.abs().sum())
fake = gen(noise)
fake_classes_new = classifier(fake)[:, 0]
print(torch.all(fake_classes_new > fake_classes), (fake_classes_new - fake_classes).mean())
print("Success!")

# First generate a bunch of images with the generator
n_images = 8
fake_image_history = []
grad_steps = 4 # Number of gradient steps to take
skip = 2 # Number of gradient steps to skip in the visualization

feature_names = ["5oClockShadow", "ArchedEyebrows", "Attractive", "BagsUnderEyes", "Bald", "Bangs",
"BigLips", "BigNose", "BlackHair", "BlondHair", "Blurry", "BrownHair", "BushyEyebrows", "Chubby",
"DoubleChin", "Eyeglasses", "Goatee", "GrayHair", "HeavyMakeup", "HighCheekbones", "Male",
"MouthSlightlyOpen", "Mustache", "NarrowEyes", "NoBeard", "OvalFace", "PaleSkin", "PointyNose",
"RecedingHairline", "RosyCheeks", "Sideburn", "Smiling", "StraightHair", "WavyHair", "WearingEarrings",
"WearingHat", "WearingLipstick", "WearingNecklace", "WearingNecktie", "Young"]

### Change me! ###
target_indices = feature_names.index("Smiling") # Feel free to change this value to any string from feature_names!

noise = get_noise(n_images, z_dim).to(device).requires_grad_()
for i in range(grad_steps):
    opt.zero_grad()
    fake = gen(noise)
    fake_image_history += [fake]
    fake_classes_score = classifier(fake)[:, target_indices].mean()
    fake_classes_score.backward()
    print(f"step {i}: Smiling score {fake_classes_score.item():.4f}")
    noise.data = calculate_updated_noise(noise, 1 / grad_steps)

show_tensor_images(torch.cat(fake_image_history[::skip], dim=2), num_images=n_images, nrow=n_images)


# UNQ_C2 (UNIQUE CELL IDENTIFIER, DO NOT EDIT)
# GRADED FUNCTION: get_score
def get_score(current_classifications, original_classifications, target_indices, other_indices, penalty_weight):
    '''
    Function to return the score of the current classifications, penalizing changes
    to other classes with an L2 norm.
    '''
    #### START CODE HERE ####
    other_distances = current_classifications[:,other_indices] - original_classifications[:,other_indices]
    # Calculate the norm (magnitude) of changes per example and multiply by penalty weight
    other_class_penalty = -torch.norm(other_distances, dim=1).mean() * penalty_weight
    # Take the mean of the current classifications for the target feature
    target_score = current_classifications[:, target_indices].mean()
    #### END CODE HERE ####
    return target_score + other_class_penalty

# UNIT TEST
print(get_score(torch.ones(4, 3), torch.zeros(4, 3), [0], [1, 2], 0.2))
assert torch.isclose(
    get_score(torch.ones(4, 3), torch.zeros(4, 3), [0], [1, 2], 0.2),
    1 - torch.sqrt(torch.tensor(2.)) * 0.2
)
rows = 10
current_class = torch.tensor([[1] * rows, [2] * rows, [3] * rows, [4] * rows]).T.float()
original_class = torch.tensor([[1] * rows, [2] * rows, [3] * rows, [4] * rows]).T.float()

# Must be 3
assert get_score(current_class, original_class, [1, 3] , [0, 2], 0.2).item() == 3

current_class = torch.tensor([[1] * rows, [2] * rows, [3] * rows, [4] * rows]).T.float()
original_class = torch.tensor([[4] * rows, [4] * rows, [2] * rows, [1] * rows]).T.float()

# Must be 3 - 0.2 * sqrt(10)
print(get_score(current_class, original_class, [1, 3] , [0, 2], 0.2))
assert torch.isclose(get_score(current_class, original_class, [1, 3] , [0, 2], 0.2),
                     -torch.sqrt(torch.tensor(10.0)) * 0.2 + 3)

print("Success!")

fake_image_history = []
### Change me! ###
target_indices = feature_names.index("Smiling") # Feel free to change this value to any string from feature_names from earlier!
other_indices = [cur_idx != target_indices for cur_idx, _ in enumerate(feature_names)]
noise = get_noise(n_images, z_dim).to(device).requires_grad_()
original_classifications = classifier(gen(noise)).detach()
for i in range(grad_steps):
    opt.zero_grad()
    fake = gen(noise)
    fake_image_history += [fake]
    fake_score = get_score(
        classifier(fake),
        original_classifications,
        target_indices,
        other_indices,
        penalty_weight=0.1
    )
    fake_score.backward()
    print(f"step {i}: score {fake_score.item():.4f}")
    noise.data = calculate_updated_noise(noise, 1 / grad_steps)

show_tensor_images(torch.cat(fake_image_history[::skip], dim=2), num_images=n_images, nrow=n_images)
print(noise[:2])
