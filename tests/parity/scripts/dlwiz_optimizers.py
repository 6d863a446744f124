# Source: Ritchie Ng, Deep Learning Wizard, "Optimization Algorithms":
#   https://github.com/ritchieng/deep-learning-wizard  docs/deep_learning/boosting_models_pytorch/optimizers.md
#   (the same 1-hidden-layer ReLU feedforward net trained with each of the page's optimizers:
#   batch GD, mini-batch SGD, SGD momentum, SGD Nesterov, Adam, Adagrad, Adadelta, Adamax, RMSprop)
# Shrunk: synthetic 8x8 "images" (labels from a fixed random linear teacher) instead of MNIST,
# 240 training / 100 test samples, n_iters 18 with batches of 60, hidden_dim 32, accuracy every 6
# iterations instead of 500; the page's nine near-identical programs are one loop over the
# optimizers. Added prints: each optimizer's repr, and the keys/shapes of its state after training.
import torch
import torch.nn as nn
from torch.utils.data import TensorDataset

# Set seed
torch.manual_seed(0)

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
n_iters = 18


def make_loaders(batch_size):
    num_epochs = n_iters / (len(train_dataset) / batch_size)
    num_epochs = int(num_epochs)

    train_loader = torch.utils.data.DataLoader(dataset=train_dataset,
                                               batch_size=batch_size,
                                               shuffle=True)

    test_loader = torch.utils.data.DataLoader(dataset=test_dataset,
                                              batch_size=batch_size,
                                              shuffle=False)
    return num_epochs, train_loader, test_loader

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

'''
STEP 6: INSTANTIATE OPTIMIZER CLASS
'''
learning_rate = 0.1
optimizers = [
    # Batch gradient descent: the whole training set in one batch
    ('Batch GD', len(train_dataset), lambda params: torch.optim.SGD(params, lr=learning_rate)),
    ('Mini-batch GD', 60, lambda params: torch.optim.SGD(params, lr=learning_rate)),
    ('SGD Momentum', 60, lambda params: torch.optim.SGD(params, lr=learning_rate, momentum=0.9)),
    ('SGD Nesterov', 60, lambda params: torch.optim.SGD(params, lr=learning_rate, momentum=0.9, nesterov=True)),
    # learning_rate = 0.001
    ('Adam', 60, lambda params: torch.optim.Adam(params)),
    ('Adagrad', 60, lambda params: torch.optim.Adagrad(params)),
    ('Adadelta', 60, lambda params: torch.optim.Adadelta(params)),
    ('Adamax', 60, lambda params: torch.optim.Adamax(params)),
    ('RMSprop', 60, lambda params: torch.optim.RMSprop(params)),
]

for name, batch_size, make_optimizer in optimizers:
    print('=' * 20, name, 'batch_size', batch_size)
    torch.manual_seed(0)
    num_epochs, train_loader, test_loader = make_loaders(batch_size)
    model = FeedforwardNeuralNetModel(input_dim, hidden_dim, output_dim)

    '''
    STEP 5: INSTANTIATE LOSS CLASS
    '''
    criterion = nn.CrossEntropyLoss()

    optimizer = make_optimizer(model.parameters())
    print(optimizer)

    '''
    STEP 7: TRAIN THE MODEL
    '''
    iter = 0
    for epoch in range(num_epochs):
        for i, (images, labels) in enumerate(train_loader):
            # Load images with gradient accumulation capabilities
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
                # Calculate Accuracy
                correct = 0
                total = 0
                # Iterate through test dataset
                for images, labels in test_loader:
                    # Load images with gradient accumulation capabilities
                    images = images.view(-1, 8*8).requires_grad_()

                    # Forward pass only to get logits/output
                    outputs = model(images)

                    # Get predictions from the maximum value
                    _, predicted = torch.max(outputs.data, 1)

                    # Total number of labels
                    total += labels.size(0)

                    # Total correct predictions
                    correct += (predicted == labels).sum()

                accuracy = 100 * correct / total

                # Print Loss
                print('Iteration: {}. Loss: {}. Accuracy: {}'.format(iter, loss.item(), accuracy))

    state = optimizer.state_dict()
    print('state keys:', sorted(state['state'][0].keys()) if state['state'] else state['state'],
          'param_groups params:', state['param_groups'][0]['params'])
    first = optimizer.state[model.fc1.weight]
    print({key: (tuple(value.shape), value.dtype) if torch.is_tensor(value) else value for key, value in sorted(first.items())})
    print(model.fc2.bias.data)
