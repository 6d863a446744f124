# Source: Ritchie Ng, Deep Learning Wizard, "Learning Rate Scheduling":
#   https://github.com/ritchieng/deep-learning-wizard  docs/deep_learning/boosting_models_pytorch/lr_scheduling.md
#   (the feedforward net + SGD Nesterov, with StepLR stepped at the start of each epoch and printed
#   with scheduler.get_lr(), then ReduceLROnPlateau(mode='max') fed the test accuracy each epoch)
# Shrunk: synthetic 8x8 "images" (labels from a fixed random linear teacher) instead of MNIST,
# 240 training / 100 test samples, n_iters 30 with batches of 40 (5 epochs), hidden_dim 32,
# accuracy every 6 iterations instead of 500; the page's three StepLR runs and two plateau runs are
# kept as loops. ReduceLROnPlateau(..., verbose=True) no longer exists in PyTorch 2.13: the script
# shows the TypeError once, then builds the scheduler without verbose.
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

# Set seed
torch.manual_seed(0)

# Where to add a new import
from torch.optim.lr_scheduler import StepLR, ReduceLROnPlateau

'''
STEP 1: LOADING DATASET
'''
teacher = torch.randn(8 * 8, 10)
train_images = torch.randn(240, 1, 8, 8)
test_images = torch.randn(100, 1, 8, 8)
train_dataset = TensorDataset(train_images, torch.argmax(train_images.view(-1, 64) @ teacher, dim=1))
test_dataset = TensorDataset(test_images, torch.argmax(test_images.view(-1, 64) @ teacher, dim=1))

'''
STEP 2: MAKING DATASET ITERABLE
'''
batch_size = 40
n_iters = 30
num_epochs = n_iters / (len(train_dataset) / batch_size)
num_epochs = int(num_epochs)
print('num_epochs:', num_epochs)

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
    def __init__(self, input_dim, hidden_dim, output_dim):
        super(FeedforwardNeuralNetModel, self).__init__()
        # Linear function
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        # Non-linearity
        self.relu = nn.ReLU()
        # Linear function (readout)
        self.fc2 = nn.Linear(hidden_dim, output_dim)

    def forward(self, x):
        # Linear function
        out = self.fc1(x)
        # Non-linearity
        out = self.relu(out)
        # Linear function (readout)
        out = self.fc2(out)
        return out

'''
STEP 4: INSTANTIATE MODEL CLASS
'''
input_dim = 8*8
hidden_dim = 32
output_dim = 10


def evaluate(model):
    # Calculate Accuracy
    correct = 0
    total = 0
    # Iterate through test dataset
    for images, labels in test_loader:
        # Load images to a Torch Variable
        images = images.view(-1, 8*8).requires_grad_()
        # Forward pass only to get logits/output
        outputs = model(images)
        # Get predictions from the maximum value
        _, predicted = torch.max(outputs.data, 1)
        # Total number of labels
        total += labels.size(0)
        # Total correct predictions
        correct += (predicted == labels).sum()
    return correct, total


# Step-wise decay: every epoch (gamma 0.1), every 2 epochs (gamma 0.1), every 2 epochs (gamma 0.96)
for step_size, gamma in [(1, 0.1), (2, 0.1), (2, 0.96)]:
    print('=' * 20, 'StepLR(step_size={}, gamma={})'.format(step_size, gamma))
    torch.manual_seed(0)
    model = FeedforwardNeuralNetModel(input_dim, hidden_dim, output_dim)

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
    # gamma = decaying factor
    scheduler = StepLR(optimizer, step_size=step_size, gamma=gamma)
    print('last_epoch:', scheduler.last_epoch, 'get_last_lr:', scheduler.get_last_lr(),
          'base_lrs:', scheduler.base_lrs)

    '''
    STEP 7: TRAIN THE MODEL
    '''
    iter = 0
    for epoch in range(num_epochs):
        # Decay Learning Rate
        scheduler.step()
        # Print Learning Rate
        print('Epoch:', epoch, 'LR:', scheduler.get_lr())
        print('  get_last_lr:', scheduler.get_last_lr(), 'param_group lr:', optimizer.param_groups[0]['lr'])
        for i, (images, labels) in enumerate(train_loader):
            # Load images
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
            if iter % 6 == 0:
                correct, total = evaluate(model)
                accuracy = 100 * correct / total
                # Print Loss
                print('Iteration: {}. Loss: {}. Accuracy: {}'.format(iter, loss.item(), accuracy))
    print('state_dict:', scheduler.state_dict())

# Reduce on loss plateau decay, factor 0.1 and 0.5, patience 0
for factor in [0.1, 0.5]:
    print('=' * 20, 'ReduceLROnPlateau(factor={})'.format(factor))
    torch.manual_seed(0)
    model = FeedforwardNeuralNetModel(input_dim, hidden_dim, output_dim)
    criterion = nn.CrossEntropyLoss()
    learning_rate = 0.1
    optimizer = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=0.9, nesterov=True)

    # lr = lr * factor
    # mode='max': look for the maximum validation accuracy to track
    # patience: number of epochs - 1 where loss plateaus before decreasing LR
            # patience = 0, after 1 bad epoch, reduce LR
    # factor = decaying factor
    try:
        scheduler = ReduceLROnPlateau(optimizer, mode='max', factor=factor, patience=0, verbose=True)
    except TypeError as e:
        print('verbose=True:', type(e).__name__, e)
        scheduler = ReduceLROnPlateau(optimizer, mode='max', factor=factor, patience=0)

    iter = 0
    for epoch in range(num_epochs):
        for i, (images, labels) in enumerate(train_loader):
            images = images.view(-1, 8*8).requires_grad_()
            optimizer.zero_grad()
            outputs = model(images)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            iter += 1
            if iter % 6 == 0:
                correct, total = evaluate(model)
                # Without .item(), it is a uint8 tensor which will not work when you pass this number to the scheduler
                accuracy = 100 * correct.item() / total
        # Decay Learning Rate, pass validation accuracy for tracking at every epoch
        print('Epoch {} completed'.format(epoch))
        print('Loss: {}. Accuracy: {}'.format(loss.item(), accuracy))
        print('-'*20)
        scheduler.step(accuracy)
        print('LR:', optimizer.param_groups[0]['lr'], 'get_last_lr:', scheduler.get_last_lr(),
              'best:', scheduler.best, 'num_bad_epochs:', scheduler.num_bad_epochs)
