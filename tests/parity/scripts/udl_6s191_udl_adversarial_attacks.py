# Source: Simon J.D. Prince, "Understanding Deep Learning", notebook 20.4 "Adversarial attacks":
#   https://github.com/udlbook/udlbook  Notebooks/Chap20/20_4_Adversarial_Attacks.ipynb
# An MNIST CNN with Dropout2d and log_softmax (no dim: the implicit-dim warning), trained with nll_loss,
# tested with the legacy nll_loss(size_average=False), then the fast gradient sign method on its input
# gradient. Shrunk: torchvision's MNIST is 320 training / 100 test 28x28 "digits" (noise around ten
# class templates, normalized with the notebook's (0.1307,), (0.3081,)) in TensorDatasets; test batch
# 1000 -> 100; 3 -> 2 epochs. fgsm_attack is the notebook's exercise ("TODO -- write this function"),
# filled in as its comments say (the sign of the gradient, times epsilon, added to x). The plots are
# printed as their titles.
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import TensorDataset
import random

batch_size_train = 64
batch_size_test = 100

templates = torch.rand(10, 1, 28, 28)
train_targets = torch.randint(0, 10, (320,))
train_images = ((templates[train_targets] + 0.6 * torch.rand(320, 1, 28, 28)) / 1.6 - 0.1307) / 0.3081
test_targets = torch.randint(0, 10, (100,))
test_images = ((templates[test_targets] + 0.6 * torch.rand(100, 1, 28, 28)) / 1.6 - 0.1307) / 0.3081

train_loader = torch.utils.data.DataLoader(
  TensorDataset(train_images, train_targets),
  batch_size=batch_size_train, shuffle=True)

test_loader = torch.utils.data.DataLoader(
  TensorDataset(test_images, test_targets),
  batch_size=batch_size_test, shuffle=True)

# Let's draw some of the training data
examples = enumerate(test_loader)
batch_idx, (example_data, example_targets) = next(examples)

for i in range(6):
  print("Ground Truth: {}".format(example_targets[i]))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.max_pool2d(x,2)
        x = F.relu(x)
        x = self.conv2(x)
        x = self.drop(x)
        x = F.max_pool2d(x,2)
        x = F.relu(x)
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        x = F.log_softmax(x)
        return x


# He initialization of weights
def weights_init(layer_in):
  if isinstance(layer_in, nn.Linear):
    nn.init.kaiming_uniform_(layer_in.weight)
    layer_in.bias.data.fill_(0.0)


# Create network
model = Net()
# Initialize model weights
model.apply(weights_init)
# Define optimizer
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)


# Main training routine
def train(epoch):
  model.train()
  # Get each
  for batch_idx, (data, target) in enumerate(train_loader):
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    # Store results
    if batch_idx % 10 == 0:
      print('Train Epoch: {} [{}/{}]\tLoss: {:.6f}'.format(
        epoch, batch_idx * len(data), len(train_loader.dataset), loss.item()))


# Run on test data
def test():
  model.eval()
  test_loss = 0
  correct = 0
  with torch.no_grad():
    for data, target in test_loader:
      output = model(data)
      test_loss += F.nll_loss(output, target, size_average=False).item()
      pred = output.data.max(1, keepdim=True)[1]
      correct += pred.eq(target.data.view_as(pred)).sum()
  test_loss /= len(test_loader.dataset)
  print('\nTest set: Avg. loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
    test_loss, correct, len(test_loader.dataset),
    100. * correct / len(test_loader.dataset)))


# Get initial performance
test()
# Train for two epochs
n_epochs = 2
for epoch in range(1, n_epochs + 1):
  train(epoch)
  test()

# Run network on data we got before and show predictions
output = model(example_data)

for i in range(6):
  print("Prediction: {}".format(
    output.data.max(1, keepdim=True)[1][i].item()))


def fgsm_attack(x, epsilon, dLdx):
    # TODO -- write this function
    # Get the sign of the gradient
    sign_dLdx = dLdx.sign()
    # Add epsilon times the size of gradient to x
    x_modified = x + epsilon * sign_dLdx
    # Return the perturbed image
    return x_modified


no_examples = 3
epsilon = 0.5
for i in range(no_examples):
  # Reset gradients
  optimizer.zero_grad()

  # Get the i'th data example
  x = example_data[i,:,:,:]
  # Add an extra dimension back to the beginning
  x= x[None, :,:,:]
  x.requires_grad = True
  # Get the i'th target
  y = torch.ones(1, dtype=torch.long) * example_targets[i]
  # Run the model
  output = model(x)
  # Compute the loss
  loss = F.nll_loss(output, y)
  # Back propagate
  loss.backward()

  # Collect ``datagrad``
  dLdx = x.grad.data
  # Call FGSM Attack
  x_prime = fgsm_attack(x, epsilon, dLdx)
  # Re-classify the perturbed image
  output_prime = model(x_prime)

  x = x.detach().numpy()
  print("Original Prediction: {}".format(
    output.data.max(1, keepdim=True)[1][0].item()))
  print("Perturbed Prediction: {}".format(
    output_prime.data.max(1, keepdim=True)[1][0].item()))
  print(x.shape, "%.4f" % x[0][0].mean(), "%.4f" % x_prime[0][0].detach().numpy().mean(), x_prime.grad_fn is not None)
