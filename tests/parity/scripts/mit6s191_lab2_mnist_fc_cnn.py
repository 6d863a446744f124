# Source: MIT 6.S191 Introduction to Deep Learning, Lab 2 Part 1 (PyTorch): "MNIST Digit
# Classification" - build_fc_model (nn.Sequential with nn.Flatten), the subclassed
# FullyConnectedModel, SGD + CrossEntropyLoss training with DataLoader, evaluate() under
# torch.no_grad, the CNN (Conv2d/MaxPool2d/Flatten/Linear), its training loop with
# mdl.util.LossHistory, single-image prediction and softmax over the test set with torch.cat.
#   https://github.com/MITDeepLearning/introtodeeplearning  lab2/solutions/PT_Part1_MNIST_Solution.ipynb
#   (LossHistory copied from mitdeeplearning/util.py)
# Shrunk: synthetic "digits" (10 random binary prototypes plus noise, 256 train / 128 test images,
# in a TensorDataset) instead of torchvision's MNIST download; 2 epochs of each model instead of
# 5 and 7; comet_ml, tqdm, the plotter and figures left out, CPU only. The notebook's own slips are
# kept: train() uses the globals fc_model/trainset_loader, the CNN loop never adds to total_loss,
# and evaluate() is called on the training loader.
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

# other packages
import numpy as np
import random


class LossHistory:
    def __init__(self, smoothing_factor=0.0):
        self.alpha = smoothing_factor
        self.loss = []

    def append(self, value):
        self.loss.append(
            self.alpha * self.loss[-1] + (1 - self.alpha) * value
            if len(self.loss) > 0
            else value
        )

    def get(self):
        return self.loss


# Set GPU for computation
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

# In place of the MNIST download: images in [0, 1] of shape [1, 28, 28] with integer labels
prototypes = (torch.rand(10, 1, 28, 28) > 0.7).float()


def make_digits(n):
    labels = torch.randint(0, 10, (n,))
    images = torch.clamp(0.6 * prototypes[labels] + 0.4 * torch.rand(n, 1, 28, 28), 0.0, 1.0)
    return TensorDataset(images, labels)


train_dataset = make_digits(256)
test_dataset = make_digits(128)

image, label = train_dataset[0]
print(image.size())  # For a tensor: torch.Size([1, 28, 28])
print(label)  # For a label: integer (e.g., 5)

random_inds = np.random.choice(256, 36)
print(random_inds[:10], [int(train_dataset[i][1]) for i in random_inds[:10]])


def build_fc_model():
    fc_model = nn.Sequential(
        # First define a Flatten layer
        nn.Flatten(),

        nn.Linear(28 * 28, 128),
        # '''TODO: Define the activation function.'''
        nn.ReLU(),

        # '''TODO: Define the second Linear layer'''
        nn.Linear(128, 10),
    )
    return fc_model


fc_model_sequential = build_fc_model()
print(fc_model_sequential)


# Define the fully connected model
class FullyConnectedModel(nn.Module):
    def __init__(self):
        super(FullyConnectedModel, self).__init__()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, 128)

        # '''TODO: Define the activation function for the first fully connected layer'''
        self.relu = nn.ReLU()

        # '''TODO: Define the second Linear layer to output the classification probabilities'''
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = self.fc1(x)

        # '''TODO: Implement the rest of forward pass of the model using the layers you have defined above'''
        x = self.relu(x)
        x = self.fc2(x)

        return x


fc_model = FullyConnectedModel().to(device)  # send the model to GPU
print(fc_model)

# Define loss function and optimizer
loss_function = nn.CrossEntropyLoss()
optimizer = optim.SGD(fc_model.parameters(), lr=0.1)

# Create DataLoaders for batch processing
BATCH_SIZE = 64
trainset_loader = DataLoader(train_dataset, batch_size=BATCH_SIZE, shuffle=True)
testset_loader = DataLoader(test_dataset, batch_size=BATCH_SIZE, shuffle=False)


def train(model, dataloader, criterion, optimizer, epochs):
    model.train()  # Set the model to training mode
    for epoch in range(epochs):
        total_loss = 0
        correct_pred = 0
        total_pred = 0

        for images, labels in trainset_loader:
            # Move tensors to GPU so compatible with model
            images, labels = images.to(device), labels.to(device)
            # Clear gradients before performing backward pass
            optimizer.zero_grad()
            # Forward pass
            outputs = fc_model(images)
            # Calculate loss based on model predictions
            loss = loss_function(outputs, labels)
            # Backpropagate and update model parameters
            loss.backward()
            optimizer.step()
            # multiply loss by total nos. of samples in batch
            total_loss += loss.item() * images.size(0)

            # Calculate accuracy
            predicted = torch.argmax(outputs, dim=1)  # Get predicted class
            correct_pred += (predicted == labels).sum().item()  # Count correct predictions
            total_pred += labels.size(0)  # Count total predictions

        # Compute metrics
        total_epoch_loss = total_loss / total_pred
        epoch_accuracy = correct_pred / total_pred
        print(f"Epoch {epoch + 1}, Loss: {total_epoch_loss}, Accuracy: {epoch_accuracy:.4f}")


# TODO: Train the model by calling the function appropriately
EPOCHS = 2
train(fc_model, trainset_loader, loss_function, optimizer, EPOCHS)


def evaluate(model, dataloader, loss_function):
    # Evaluate model performance on the test dataset
    model.eval()
    test_loss = 0
    correct_pred = 0
    total_pred = 0
    # Disable gradient calculations when in inference mode
    with torch.no_grad():
        for images, labels in testset_loader:
            # TODO: ensure evalaution happens on the GPU
            images, labels = images.to(device), labels.to(device)

            # TODO: feed the images into the model and obtain the predictions (forward pass)
            outputs = model(images)

            loss = loss_function(outputs, labels)

            # TODO: Calculate test loss
            test_loss += loss.item() * images.size(0)

            '''TODO: make a prediction and determine whether it is correct!'''
            # TODO: identify the digit with the highest probability prediction for the images in the test dataset.
            predicted = torch.argmax(outputs, dim=1)

            # TODO: tally the number of correct predictions
            correct_pred += (predicted == labels).sum().item()
            # TODO: tally the total number of predictions
            total_pred += labels.size(0)

    # Compute average loss and accuracy
    test_loss /= total_pred
    test_acc = correct_pred / total_pred
    return test_loss, test_acc


# TODO: call the evaluate function to evaluate the trained model!!
test_loss, test_acc = evaluate(fc_model, trainset_loader, loss_function)

print('Test accuracy:', test_acc)
print('Test loss:', test_loss)


### Basic CNN in PyTorch ###

class CNN(nn.Module):
    def __init__(self):
        super(CNN, self).__init__()
        # TODO: Define the first convolutional layer
        self.conv1 = nn.Conv2d(1, 24, kernel_size=3)

        # TODO: Define the first max pooling layer
        self.pool1 = nn.MaxPool2d(kernel_size=2)

        # TODO: Define the second convolutional layer
        self.conv2 = nn.Conv2d(24, 36, kernel_size=3)

        # TODO: Define the second max pooling layer
        self.pool2 = nn.MaxPool2d(kernel_size=2)

        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(36 * 5 * 5, 128)
        self.relu = nn.ReLU()

        # TODO: Define the Linear layer that outputs the classification
        # logits over class labels. Remember that CrossEntropyLoss operates over logits.
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        # First convolutional and pooling layers
        x = self.conv1(x)
        x = self.relu(x)
        x = self.pool1(x)

        x = self.conv2(x)
        x = self.relu(x)
        x = self.pool2(x)

        x = self.flatten(x)
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)

        return x


# Instantiate the model
cnn_model = CNN().to(device)
# Initialize the model by passing some data through
image, label = train_dataset[0]
image = image.to(device).unsqueeze(0)  # Add batch dimension -> Shape: (1, 1, 28, 28)
output = cnn_model(image)
# Print the model summary
print(cnn_model)
print(output.shape, output)

# Rebuild the CNN model
cnn_model = CNN().to(device)

# Define hyperparams
batch_size = 64
epochs = 2
optimizer = optim.SGD(cnn_model.parameters(), lr=1e-2)

# TODO: instantiate the cross entropy loss function
loss_function = nn.CrossEntropyLoss()

# Redefine trainloader with new batch size parameter (tweak as see fit if optimizing)
trainset_loader = DataLoader(train_dataset, batch_size=batch_size, shuffle=True)
testset_loader = DataLoader(test_dataset, batch_size=batch_size, shuffle=False)

loss_history = LossHistory(smoothing_factor=0.95)  # to record the evolution of the loss

# Training loop!
cnn_model.train()

for epoch in range(epochs):
    total_loss = 0
    correct_pred = 0
    total_pred = 0

    # First grab a batch of training data which our data loader returns as a tensor
    for idx, (images, labels) in enumerate(trainset_loader):
        images, labels = images.to(device), labels.to(device)

        # Forward pass
        logits = cnn_model(images)

        # compute the categorical cross entropy loss
        loss = loss_function(logits, labels)
        # Get the loss and log it to the loss_history record
        loss_value = loss.item()
        loss_history.append(loss_value)  # append the loss to the loss_history record

        # Backpropagation/backward pass
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        # Get the prediction and tally metrics
        predicted = torch.argmax(logits, dim=1)
        correct_pred += (predicted == labels).sum().item()
        total_pred += labels.size(0)

    # Compute metrics
    total_epoch_loss = total_loss / total_pred
    epoch_accuracy = correct_pred / total_pred
    print(f"Epoch {epoch + 1}, Loss: {total_epoch_loss}, Accuracy: {epoch_accuracy:.4f}")

print("smoothed losses:", [round(v, 4) for v in loss_history.get()])

test_loss, test_acc = evaluate(cnn_model, trainset_loader, loss_function)

print('Test accuracy:', test_acc)

test_image, test_label = test_dataset[0]
test_image = test_image.to(device).unsqueeze(0)

# put the model in evaluation (inference) mode
cnn_model.eval()
predictions_test_image = cnn_model(test_image)

print(predictions_test_image)

predictions_value = predictions_test_image.cpu().detach().numpy()  # .cpu() to copy tensor to memory first
prediction = np.argmax(predictions_value)
print(prediction)

print("Label of this digit is:", test_label)
print(test_image[0, 0, :, :].cpu().shape)

# Initialize variables to store all data
all_predictions = []
all_labels = []
all_images = []

# Process test set in batches
with torch.no_grad():
    for images, labels in testset_loader:
        outputs = cnn_model(images)

        # Apply softmax to get probabilities from the predicted logits
        probabilities = torch.nn.functional.softmax(outputs, dim=1)

        # Get predicted classes
        predicted = torch.argmax(probabilities, dim=1)

        all_predictions.append(probabilities)
        all_labels.append(labels)
        all_images.append(images)

all_predictions = torch.cat(all_predictions)  # Shape: (total_samples, num_classes)
all_labels = torch.cat(all_labels)            # Shape: (total_samples,)
all_images = torch.cat(all_images)            # Shape: (total_samples, 1, 28, 28)

# Convert tensors to NumPy for compatibility with plotting functions
predictions = all_predictions.cpu().numpy()  # Shape: (total_samples, num_classes)
test_labels = all_labels.cpu().numpy()       # Shape: (total_samples,)
test_images = all_images.cpu().numpy()       # Shape: (total_samples, 1, 28, 28)
print(predictions.shape, predictions.dtype, test_labels.shape, test_labels.dtype, test_images.shape)

# In place of mdl.lab2.plot_image_prediction / plot_value_prediction: their labels
image_index = 79
for i in [image_index] + list(range(5)):
    predicted_label = np.argmax(predictions[i])
    print("{} {:2.0f}% ({})".format(predicted_label, 100 * np.max(predictions[i]), test_labels[i]),
          "blue" if predicted_label == test_labels[i] else "red")
