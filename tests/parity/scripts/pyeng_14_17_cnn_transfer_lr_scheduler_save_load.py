# Source: Patrick Loeber (Python Engineer), "PyTorch Tutorial" course, lessons 14, 15 and 17 combined:
# a CNN on CIFAR-10, transfer learning with an lr scheduler, saving and loading.
#   https://github.com/patrickloeber/pytorchTutorial  14_cnn.py, 15_transfer_learning.py, 17_save_load.py
# Shrunk/changed: no torchvision or matplotlib: CIFAR-10 is 24 train / 20 test synthetic 3x32x32
# images (noise around ten class templates) already normalized to [-1, 1] as the lesson's
# transforms.Normalize((0.5,)*3, (0.5,)*3) does, in TensorDatasets; 2 epochs, a report every 2 steps
# (not 2000); imshow/make_grid print the batch's shape and range instead. Lesson 15's
# hymenoptera ImageFolder is 16 train / 8 val synthetic two-class images, and
# torchvision.models.resnet18(pretrained=True) is lesson 14's ConvNet loaded from the state_dict
# lesson 14 saved (so `model.fc` is its last layer `fc3`); 4 epochs, StepLR step_size=2 (not 25 and 7);
# the elapsed-time print is left out (timings). Files go to a temporary folder, not the current one.
# Lesson 17's torch.load of a whole model needs weights_only=False since PyTorch 2.6 (the default
# now refuses pickled classes): the script shows the default's error type, then passes the flag.
import copy
import shutil
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import TensorDataset
import numpy as np

tmpdir = tempfile.mkdtemp()

print('--- 14_cnn')
# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# Hyper-parameters
num_epochs = 2
batch_size = 4
learning_rate = 0.001

# (instead of CIFAR10 with ToTensor and Normalize: images in [-1, 1])
templates = torch.rand(10, 3, 32, 32)
train_labels = torch.randint(0, 10, (24,))
train_images = ((0.7 * templates[train_labels] + 0.3 * torch.rand(24, 3, 32, 32)) - 0.5) / 0.5
test_labels = torch.randperm(20) % 10
test_images = ((0.7 * templates[test_labels] + 0.3 * torch.rand(20, 3, 32, 32)) - 0.5) / 0.5
train_dataset = TensorDataset(train_images, train_labels)
test_dataset = TensorDataset(test_images, test_labels)

train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=batch_size,
                                          shuffle=True)

test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=batch_size,
                                         shuffle=False)

classes = ('plane', 'car', 'bird', 'cat',
           'deer', 'dog', 'frog', 'horse', 'ship', 'truck')

def imshow(img):
    img = img / 2 + 0.5  # unnormalize
    npimg = img.numpy()
    npimg = np.transpose(npimg, (1, 2, 0))
    print(npimg.shape, f'{npimg.min():.4f} {npimg.max():.4f}')  # (instead of plt.imshow)


# get some random training images
dataiter = iter(train_loader)
images, labels = next(dataiter)

# show images
imshow(torch.cat(list(images), dim=2))  # (torchvision.utils.make_grid without padding)
print(' '.join(classes[labels[j]] for j in range(batch_size)))

class ConvNet(nn.Module):
    def __init__(self):
        super(ConvNet, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        # -> n, 3, 32, 32
        x = self.pool(F.relu(self.conv1(x)))  # -> n, 6, 14, 14
        x = self.pool(F.relu(self.conv2(x)))  # -> n, 16, 5, 5
        x = x.view(-1, 16 * 5 * 5)            # -> n, 400
        x = F.relu(self.fc1(x))               # -> n, 120
        x = F.relu(self.fc2(x))               # -> n, 84
        x = self.fc3(x)                       # -> n, 10
        return x


model = ConvNet().to(device)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

n_total_steps = len(train_loader)
for epoch in range(num_epochs):
    for i, (images, labels) in enumerate(train_loader):
        images = images.to(device)
        labels = labels.to(device)

        # Forward pass
        outputs = model(images)
        loss = criterion(outputs, labels)

        # Backward and optimize
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if (i+1) % 2 == 0:
            print (f'Epoch [{epoch+1}/{num_epochs}], Step [{i+1}/{n_total_steps}], Loss: {loss.item():.4f}')

print('Finished Training')
PATH = os.path.join(tmpdir, 'cnn.pth')
torch.save(model.state_dict(), PATH)

with torch.no_grad():
    n_correct = 0
    n_samples = 0
    n_class_correct = [0 for i in range(10)]
    n_class_samples = [0 for i in range(10)]
    for images, labels in test_loader:
        images = images.to(device)
        labels = labels.to(device)
        outputs = model(images)
        # max returns (value ,index)
        _, predicted = torch.max(outputs, 1)
        n_samples += labels.size(0)
        n_correct += (predicted == labels).sum().item()

        for i in range(batch_size):
            label = labels[i]
            pred = predicted[i]
            if (label == pred):
                n_class_correct[label] += 1
            n_class_samples[label] += 1

    acc = 100.0 * n_correct / n_samples
    print(f'Accuracy of the network: {acc} %')

    for i in range(10):
        acc = 100.0 * n_class_correct[i] / n_class_samples[i]
        print(f'Accuracy of {classes[i]}: {acc} %')

print('--- 15_transfer_learning')
# (instead of the hymenoptera ImageFolder: two classes, 16 train and 8 val images)
class_names = ['ants', 'bees']
bee = torch.rand(3, 32, 32)
image_datasets = {}
for x, n in [('train', 16), ('val', 8)]:
    y = torch.arange(n) % 2
    image_datasets[x] = TensorDataset((0.5 * y.view(-1, 1, 1, 1) * bee + 0.5 * torch.rand(n, 3, 32, 32) - 0.5) / 0.25, y)
dataloaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4,
                                             shuffle=True, num_workers=0)
              for x in ['train', 'val']}
dataset_sizes = {x: len(image_datasets[x]) for x in ['train', 'val']}

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
print(class_names)


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0

    for epoch in range(num_epochs):
        print('Epoch {}/{}'.format(epoch, num_epochs - 1))
        print('-' * 10)

        # Each epoch has a training and validation phase
        for phase in ['train', 'val']:
            if phase == 'train':
                model.train()  # Set model to training mode
            else:
                model.eval()   # Set model to evaluate mode

            running_loss = 0.0
            running_corrects = 0

            # Iterate over data.
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)

                # forward
                # track history if only in train
                with torch.set_grad_enabled(phase == 'train'):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)

                    # backward + optimize only if in training phase
                    if phase == 'train':
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()

                # statistics
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)

            if phase == 'train':
                scheduler.step()
                print('lr', scheduler.get_last_lr())  # (added)

            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]

            print('{} Loss: {:.4f} Acc: {:.4f}'.format(
                phase, epoch_loss, epoch_acc))

            # deep copy the model
            if phase == 'val' and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())

        print()

    print('Best val Acc: {:4f}'.format(best_acc))

    # load best model weights
    model.load_state_dict(best_model_wts)
    return model


#### Finetuning the convnet ####
# Load a pretrained model and reset final fully connected layer.
# (instead of models.resnet18(pretrained=True): lesson 14's trained ConvNet)
model = ConvNet()
model.load_state_dict(torch.load(PATH))
num_ftrs = model.fc3.in_features
# Here the size of each output sample is set to 2.
model.fc3 = nn.Linear(num_ftrs, 2)

model = model.to(device)

criterion = nn.CrossEntropyLoss()

# Observe that all parameters are being optimized
optimizer = optim.SGD(model.parameters(), lr=0.001)

# StepLR Decays the learning rate of each parameter group by gamma every step_size epochs
step_lr_scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)

model = train_model(model, criterion, optimizer, step_lr_scheduler, num_epochs=4)


#### ConvNet as fixed feature extractor ####
# Here, we need to freeze all the network except the final layer.
model_conv = ConvNet()
model_conv.load_state_dict(torch.load(PATH))
for param in model_conv.parameters():
    param.requires_grad = False

# Parameters of newly constructed modules have requires_grad=True by default
num_ftrs = model_conv.fc3.in_features
model_conv.fc3 = nn.Linear(num_ftrs, 2)

model_conv = model_conv.to(device)

criterion = nn.CrossEntropyLoss()

# Observe that only parameters of final layer are being optimized as
# opposed to before.
optimizer_conv = optim.SGD(model_conv.fc3.parameters(), lr=0.001, momentum=0.9)

# Decay LR by a factor of 0.1 every 7 epochs
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=2, gamma=0.1)

model_conv = train_model(model_conv, criterion, optimizer_conv,
                         exp_lr_scheduler, num_epochs=4)
print([name for name, p in model_conv.named_parameters() if p.requires_grad])  # (added)

print('--- 17_save_load')


class Model(nn.Module):
    def __init__(self, n_input_features):
        super(Model, self).__init__()
        self.linear = nn.Linear(n_input_features, 1)

    def forward(self, x):
        y_pred = torch.sigmoid(self.linear(x))
        return y_pred

model = Model(n_input_features=6)
# train your model...

####################save all ######################################
for param in model.parameters():
    print(param)

# save and load entire model

FILE = os.path.join(tmpdir, "model.pth")
torch.save(model, FILE)

try:  # (added: the original's torch.load(FILE), refused since PyTorch 2.6)
    torch.load(FILE)
except Exception as e:
    print(type(e).__name__)
loaded_model = torch.load(FILE, weights_only=False)
loaded_model.eval()

for param in loaded_model.parameters():
    print(param)


############save only state dict #########################

# save only state dict
FILE = os.path.join(tmpdir, "model.pth")
torch.save(model.state_dict(), FILE)

print(model.state_dict())
loaded_model = Model(n_input_features=6)
loaded_model.load_state_dict(torch.load(FILE)) # it takes the loaded dictionary, not the path file itself
loaded_model.eval()

print(loaded_model.state_dict())


###########load checkpoint#####################
learning_rate = 0.01
optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate)

checkpoint = {
"epoch": 90,
"model_state": model.state_dict(),
"optim_state": optimizer.state_dict()
}
print(optimizer.state_dict())
FILE = os.path.join(tmpdir, "checkpoint.pth")
torch.save(checkpoint, FILE)

model = Model(n_input_features=6)
optimizer = torch.optim.SGD(model.parameters(), lr=0)

checkpoint = torch.load(FILE)
model.load_state_dict(checkpoint['model_state'])
optimizer.load_state_dict(checkpoint['optim_state'])
epoch = checkpoint['epoch']

model.eval()
# - or -
# model.train()

print(optimizer.state_dict())
print(epoch, model.training)  # (added)

shutil.rmtree(tmpdir)  # (added: the temporary folder)
