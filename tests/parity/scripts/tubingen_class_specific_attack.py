# Source: University of Tübingen, Deep Learning (winter 2025/26), assignment 11 "Adversarial attack"
# (course code by Maximus Mutschler and Nathan Inkawhich: a LeNet for MNIST, then for every other class an SGD
# optimisation of a copy of the image until the network predicts that class, with L1 / L2 / L1+L2 penalties
# via torch.norm or gradient clipping via clip_grad_norm_, clamping the image to [0, 1] under no_grad),
# as a student solved it: https://github.com/ahmetalperengungor/Tubingen_University_Homeworks
#   Deep_Learning_Winter25/HW11/AdversarialAttack/ClassSpecificAttack.py
# Shrunk: no pretrained lenet_mnist_model.pth or image_to_attack.npy: a freshly initialised LeNet, its last
# layers' weights scaled by 6 to make it as confident as a trained one, is saved to an in-memory buffer and
# loaded back with torch.load(map_location='cpu'); the image is a synthetic "1" stroke and its "true class" is
# what the network predicts for it; at most 40 steps per class instead of 1000; two of the regularisation
# modes run one after the other: "L12" on every target, then "GradClip" (clip 0.5 instead of 0.05, so it
# converges in 40 steps) on the four targets L12 reached fastest; the plots replaced by prints.
from __future__ import print_function

import io
import numpy
import torch
import torch.nn as nn
import torch.nn.functional as F

# Configuration Parameters
use_cuda = True
learning_rate = 0.1
max_opt_steps_per_class = 40
reg_parameter = 0.01
grad_clip = 0.5

# Define what device we are using
print("CUDA Available: ", torch.cuda.is_available())
device = torch.device("cuda" if (use_cuda and torch.cuda.is_available()) else "cpu")


# LeNet Model definition
class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


# the "pretrained model": a fresh LeNet's state_dict, saved and loaded again
pretrained_model = io.BytesIO()
state_dict = Net().state_dict()
for name in ["conv2.weight", "fc1.weight", "fc2.weight"]:  # scaled up: as confident as a trained network
    state_dict[name] *= 6
torch.save(state_dict, pretrained_model)
pretrained_model.seek(0)

# Initialize the network
model = Net().to(device)

# Load the pretrained model
print(model.load_state_dict(torch.load(pretrained_model, map_location='cpu')))

# Set the model in evaluation mode. In this case this is for the Dropout Layers
model.eval()
print(model)

# the image to attack: a synthetic "1", with the network's own prediction as its class
np_image_to_attack = numpy.zeros((1, 28, 28), dtype=numpy.float32)
np_image_to_attack[0, 5:23, 13:16] = 1.0
np_image_to_attack[0, 6:9, 10:13] = 0.6
image_to_attack = torch.unsqueeze(torch.Tensor(np_image_to_attack), dim=0).to(device)
with torch.no_grad():
    scores = model(image_to_attack)
label_of_image_to_attack = scores.argmax().item()
print("image", image_to_attack.shape, image_to_attack.dtype, "log-probabilities", scores)
print(f"True Class: {label_of_image_to_attack}")

target_classes = list(range(10))
target_classes.remove(label_of_image_to_attack)


def reg_loss(data, image_to_attack, reg_parameter, mode):
    """
    :param data: copy of the image to attack on, which the optimizer uses as params
    :param image_to_attack: the original unchanged image
    :param mode: "None", "L1", "L2" or "L12" (L1 and L2 with the same parameter)
    :return: the regularization loss which will be later added to the network loss
    """
    if mode == "None":
        return torch.tensor(0.0).to(device)

    diff = data - image_to_attack

    if mode == "L1":
        return reg_parameter * torch.norm(diff, p=1)
    elif mode == "L2":
        return reg_parameter * torch.norm(diff, p=2)
    elif mode == "L12":
        return reg_parameter * (torch.norm(diff, p=1) + torch.norm(diff, p=2))
    else:
        return torch.tensor(0.0).to(device)


diff = torch.linspace(-1, 1, 6).view(1, 1, 2, 3)
for mode in ["None", "L1", "L2", "L12", "GradClip"]:
    print(mode, reg_loss(diff, torch.zeros_like(diff), reg_parameter, mode))

steps_needed = {}
for reg_mode in ["L12", "GradClip"]:
    print("=" * 20, reg_mode)
    # List that holds the images of all succesfull attacks
    attacked_images = []
    if reg_mode == "GradClip":  # only the four targets that the L12 attack reached fastest
        target_classes = sorted(steps_needed, key=steps_needed.get)[:4]
        print("targets", target_classes)

    for target_class in target_classes:
        # Use a copy of the image_to_attack as parameters
        perturbed_image = image_to_attack.clone().detach().requires_grad_(True)
        optimizer = torch.optim.SGD([perturbed_image], lr=learning_rate)

        for step in range(max_opt_steps_per_class):
            optimizer.zero_grad()
            output = model(perturbed_image)
            pred = output.max(1, keepdim=True)[1]

            if pred.item() == target_class:
                attacked_images.append((perturbed_image.detach().cpu().numpy().squeeze(), target_class))
                print(f"Target {target_class}: converged in {step} steps")
                steps_needed[target_class] = step
                break

            # Target misclassification loss: minimize NLL for target class
            loss = F.nll_loss(output, torch.tensor([target_class]).to(device))
            loss += reg_loss(perturbed_image, image_to_attack, reg_parameter, reg_mode)

            loss.backward()

            # Gradient clipping if selected
            if reg_mode == "GradClip":
                norm = torch.nn.utils.clip_grad_norm_([perturbed_image], grad_clip)
                if step == 0:
                    print(f"  gradient norm before clipping {norm:.5f}, after {perturbed_image.grad.norm():.5f}")

            optimizer.step()

            # Clamp to [0, 1] range
            with torch.no_grad():
                perturbed_image.clamp_(0, 1)
        else:
            print(f"Target {target_class}: not reached in {max_opt_steps_per_class} steps, "
                  f"loss {loss.item():.4f}, prediction {pred.item()}")

    # what the plot showed: the original and each attacked image
    for img, target in attacked_images:
        change = img - np_image_to_attack.squeeze()
        print(f"Target: {target}  L1 change {numpy.abs(change).sum():.3f}  L2 change {numpy.sqrt((change ** 2).sum()):.4f}"
              f"  max change {numpy.abs(change).max():.4f}  pixels changed {(numpy.abs(change) > 1e-6).sum()}")
