# Source: Jose Portilla / Pierian Data, "PyTorch for Deep Learning with Python Bootcamp",
#   04-RNN-Recurrent-Neural-Networks/00-Basic-RNN.ipynb (nn.LSTM on a sine wave, windows of
#   (seq, label) tuples, hidden state kept on the module, SGD, forecasting by feeding predictions back)
#   (as kept in https://github.com/qalmaqihir/qalmaqihir.github.io
#    docs/bootcampsnotes/pytorchDLbootcamp/04-RNN-Recurrent-Neural-Networks/00-Basic-RNN.md)
# Shrunk: 80 points with 20 per cycle instead of 800 with 40; test_size, window_size and future
# 10 instead of 40; 2 epochs over the 60 training windows and 1 epoch over the full series
# instead of 10 and 10; hidden size 50 as in the course; plots dropped.
import time

import torch
import torch.nn as nn

import numpy as np

# Create data points
x = torch.linspace(0, 79, steps=80)
y = torch.sin(x * 2 * 3.1416 / 20)
print(x[:5], y[:5])

test_size = 10

train_set = y[:-test_size]
test_set = y[-test_size:]


def input_data(seq, ws):  # ws is the window size
    out = []
    L = len(seq)
    for i in range(L - ws):
        window = seq[i:i + ws]
        label = seq[i + ws:i + ws + 1]
        out.append((window, label))
    return out


window_size = 10

# Create the training dataset of sequence/label tuples:
train_data = input_data(train_set, window_size)
print(len(train_data))

# Display the first (seq/label) tuple in train_data
print(train_data[0])
torch.set_printoptions(sci_mode=False)  # to improve the appearance of tensors
print(train_data[0])


class LSTM(nn.Module):
    def __init__(self, input_size=1, hidden_size=50, out_size=1):
        super().__init__()
        self.hidden_size = hidden_size

        # Add an LSTM layer:
        self.lstm = nn.LSTM(input_size, hidden_size)

        # Add a fully-connected layer:
        self.linear = nn.Linear(hidden_size, out_size)

        # Initialize h0 and c0:
        self.hidden = (torch.zeros(1, 1, hidden_size),
                       torch.zeros(1, 1, hidden_size))

    def forward(self, seq):
        lstm_out, self.hidden = self.lstm(
            seq.view(len(seq), 1, -1), self.hidden)
        pred = self.linear(lstm_out.view(len(seq), -1))
        return pred[-1]   # we only care about the last prediction


torch.manual_seed(42)
model = LSTM()
criterion = nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

print(model)


def count_parameters(model):
    params = [p.numel() for p in model.parameters() if p.requires_grad]
    for item in params:
        print(f'{item:>6}')
    print(f'______\n{sum(params):>6}')


count_parameters(model)
for name, p in model.named_parameters():
    print(name, tuple(p.shape))

epochs = 2
future = 10

for i in range(epochs):

    # tuple-unpack the train_data set
    for seq, y_train in train_data:

        # reset the parameters and hidden states
        optimizer.zero_grad()
        model.hidden = (torch.zeros(1, 1, model.hidden_size),
                        torch.zeros(1, 1, model.hidden_size))

        y_pred = model(seq)

        loss = criterion(y_pred, y_train)
        loss.backward()
        optimizer.step()

    # print training result
    print(f'Epoch: {i+1:2} Loss: {loss.item():10.8f}')
    print(y_pred, model.hidden[0].shape, model.hidden[1].shape)

    # MAKE PREDICTIONS
    # start with a list of the last 10 training records
    preds = train_set[-window_size:].tolist()

    for f in range(future):
        seq = torch.FloatTensor(preds[-window_size:])
        with torch.no_grad():
            model.hidden = (torch.zeros(1, 1, model.hidden_size),
                            torch.zeros(1, 1, model.hidden_size))
            preds.append(model(seq).item())

    loss = criterion(torch.tensor(preds[-window_size:]), y[70:])
    print(f'Loss on test predictions: {loss}')
    print(np.round(preds[window_size:], 4))

# Forecasting into an unknown future
epochs = 1
window_size = 10
future = 10

# Create the full set of sequence/label tuples:
all_data = input_data(y, window_size)
print(len(all_data))  # this should equal 80-10

start_time = time.time()

for i in range(epochs):

    # tuple-unpack the entire set of data
    for seq, y_train in all_data:

        # reset the parameters and hidden states
        optimizer.zero_grad()
        model.hidden = (torch.zeros(1, 1, model.hidden_size),
                        torch.zeros(1, 1, model.hidden_size))

        y_pred = model(seq)

        loss = criterion(y_pred, y_train)

        loss.backward()
        optimizer.step()

    # print training result
    print(f'Epoch: {i+1:2} Loss: {loss.item():10.8f}')

duration = time.time() - start_time

preds = y[-window_size:].tolist()

for i in range(future):
    seq = torch.FloatTensor(preds[-window_size:])
    with torch.no_grad():
        # Reset the hidden parameters
        model.hidden = (torch.zeros(1, 1, model.hidden_size),
                        torch.zeros(1, 1, model.hidden_size))
        preds.append(model(seq).item())

print(torch.tensor(preds[window_size:]))
print(model.hidden)
print(model.lstm.weight_hh_l0.grad[:3, :5])
