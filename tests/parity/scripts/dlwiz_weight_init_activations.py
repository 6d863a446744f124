# Source: Ritchie Ng, Deep Learning Wizard, "Weight Initializations & Activation Functions":
#   https://github.com/ritchieng/deep-learning-wizard
#   docs/deep_learning/boosting_models_pytorch/weight_initialization_activation_functions.md
#   (sigmoid/tanh/ReLU curves in NumPy, then the feedforward net with Normal, Lecun (default),
#   Xavier and He (Kaiming) initialisation, Tanh or ReLU, SGD Nesterov and StepLR(1, 0.96)
#   stepped at the start of each epoch and printed with scheduler.get_lr())
# Shrunk: the curves are printed at a few points (and checked against torch.sigmoid/tanh/relu)
# instead of plotted; synthetic 8x8 "images" (labels from a fixed random linear teacher) instead
# of MNIST, 240 training / 100 test samples, n_iters 12 with batches of 60 (3 epochs),
# hidden_dim 32, accuracy every 4 iterations instead of 500; the page's five programs are one loop.
# Added prints: the std of each initialised weight.
import numpy as np
import torch
import torch.nn as nn
from torch.autograd import Variable
from torch.utils.data import TensorDataset


def sigmoid(x):
    a = []
    for item in x:
        a.append(1/(1+np.exp(-item)))
    return a

x = np.arange(-10., 10., 0.2)
sig = sigmoid(x)
tanh = np.dot(2, sigmoid(np.dot(2, x))) - 1
relu = np.maximum(x, 0)
print(np.round(np.array(sig)[::20], 4), np.round(tanh[::20], 4), relu[::20])
tx = torch.from_numpy(x)
print(np.allclose(torch.sigmoid(tx).numpy(), sig), np.allclose(torch.tanh(tx).numpy(), tanh),
      np.allclose(torch.relu(tx).numpy(), relu), torch.nn.functional.leaky_relu(tx, 0.01)[::25])

# Set seed
torch.manual_seed(0)

# Scheduler import
from torch.optim.lr_scheduler import StepLR

'''
STEP 1: LOADING DATASET
'''
teacher = torch.randn(8 * 8, 10)
train_images = torch.randn(240, 1, 8, 8)
test_images = torch.randn(100, 1, 8, 8)
train_dataset = TensorDataset(train_images, (train_images.view(-1, 64) @ teacher).argmax(dim=1))
test_dataset = TensorDataset(test_images, (test_images.view(-1, 64) @ teacher).argmax(dim=1))

'''
STEP 2: MAKING DATASET ITERABLE
'''
batch_size = 60
n_iters = 12
num_epochs = n_iters / (len(train_dataset) / batch_size)
num_epochs = int(num_epochs)

train_loader = torch.utils.data.DataLoader(dataset=train_dataset,
                                           batch_size=batch_size,
                                           shuffle=True)

test_loader = torch.utils.data.DataLoader(dataset=test_dataset,
                                          batch_size=batch_size,
                                          shuffle=False)

'''
STEP 3: CREATE MODEL CLASS
'''
class FeedforwardNeuralNetModel(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, init, activation):
        super(FeedforwardNeuralNetModel, self).__init__()
        # Linear function
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        # Linear weight, W,  Y = WX + B
        if init == 'normal':
            nn.init.normal_(self.fc1.weight, mean=0, std=1)
        elif init == 'xavier':
            nn.init.xavier_normal_(self.fc1.weight)
        elif init == 'he':
            nn.init.kaiming_normal_(self.fc1.weight)
        # Non-linearity
        if activation == 'tanh':
            self.tanh = nn.Tanh()
        else:
            self.relu = nn.ReLU()
        self.activation = activation
        # Linear function (readout)
        self.fc2 = nn.Linear(hidden_dim, output_dim)
        if init == 'normal':
            nn.init.normal_(self.fc2.weight, mean=0, std=1)
        elif init == 'xavier':
            nn.init.xavier_normal_(self.fc2.weight)
        elif init == 'he':
            nn.init.kaiming_normal_(self.fc2.weight)

    def forward(self, x):
        # Linear function
        out = self.fc1(x)
        # Non-linearity
        out = self.tanh(out) if self.activation == 'tanh' else self.relu(out)
        # Linear function (readout)
        out = self.fc2(out)
        return out

'''
STEP 4: INSTANTIATE MODEL CLASS
'''
input_dim = 8*8
hidden_dim = 32
output_dim = 10

for init, activation in [('normal', 'tanh'), ('lecun', 'tanh'), ('xavier', 'tanh'), ('xavier', 'relu'), ('he', 'relu')]:
    print('=' * 20, init, activation)
    torch.manual_seed(0)
    model = FeedforwardNeuralNetModel(input_dim, hidden_dim, output_dim, init, activation)
    print(model)
    print('fc1 std: {:.4f} fc2 std: {:.4f}'.format(model.fc1.weight.std().item(), model.fc2.weight.std().item()))

    '''
    STEP 5: INSTANTIATE LOSS CLASS
    '''
    criterion = nn.CrossEntropyLoss()

    '''
    STEP 6: INSTANTIATE OPTIMIZER CLASS
    '''
    learning_rate = 0.1

    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, nesterov=True)

    '''
    STEP 7: INSTANTIATE STEP LEARNING SCHEDULER CLASS
    '''
    # step_size: at how many multiples of epoch you decay
    # step_size = 1, after every 2 epoch, new_lr = lr*gamma
    # step_size = 2, after every 2 epoch, new_lr = lr*gamma

    # gamma = decaying factor
    scheduler = StepLR(optimizer, step_size=1, gamma=0.96)

    '''
    STEP 8: TRAIN THE MODEL
    '''
    iter = 0
    for epoch in range(num_epochs):
        # Decay Learning Rate
        scheduler.step()
        # Print Learning Rate
        print('Epoch:', epoch, 'LR:', scheduler.get_lr())
        for i, (images, labels) in enumerate(train_loader):
            # Load images as tensors with gradient accumulation abilities
            images = images.view(-1, 8*8).requires_grad_()

            # Clear gradients w.r.t. parameters
            optimizer.zero_grad()

            # Forward pass to get output/logits
            outputs = model(images)

            # Calculate Loss: softmax --> cross entropy loss
            loss = criterion(outputs, labels)

            # Getting gradients w.r.t. parameters
            loss.backward()

            # Updating parameters
            optimizer.step()

            iter += 1

            if iter % 4 == 0:
                # Calculate Accuracy
                correct = 0
                total = 0
                # Iterate through test dataset
                for images, labels in test_loader:
                    # Load images to a Torch Variable
                    images = Variable(images.view(-1, 8*8))

                    # Forward pass only to get logits/output
                    outputs = model(images)

                    # Get predictions from the maximum value
                    _, predicted = torch.max(outputs.data, 1)

                    # Total number of labels
                    total += labels.size(0)

                    # Total correct predictions
                    correct += (predicted.type(torch.FloatTensor).cpu() == labels.type(torch.FloatTensor)).sum()

                accuracy = 100. * correct.item() / total

                # Print Loss
                print('Iteration: {}. Loss: {}. Accuracy: {}'.format(iter, loss.item(), accuracy))
    print(type(correct).__name__, correct.dtype, predicted.type(torch.FloatTensor).dtype, labels.type(torch.FloatTensor).type())
