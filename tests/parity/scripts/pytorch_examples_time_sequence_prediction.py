# Source: pytorch/examples, "Time Sequence Prediction": two stacked nn.LSTMCell in float64 learn
# sine waves, trained with optim.LBFGS and a closure, then predict the future from their own output.
#   https://github.com/pytorch/examples  time_sequence_prediction/generate_sine_wave.py, train.py
# Shrunk: N = 9 waves of L = 40 points (T = 20), 2 LBFGS steps, 20 future points; the data file is
# written to a temporary folder and read back with weights_only=False (PyTorch 2.6+ refuses the
# NumPy array the original's plain torch.load reads); argparse's default written in; instead of the
# matplotlib figure, the predicted curves' shape and a few of their values are printed.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

folder = tempfile.mkdtemp()

# generate_sine_wave.py
np.random.seed(2)

T = 20
L = 40
N = 9

x = np.empty((N, L), 'int64')
x[:] = np.array(range(L)) + np.random.randint(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
torch.save(data, open(os.path.join(folder, 'traindata.pt'), 'wb'))


# train.py
class Sequence(nn.Module):
    def __init__(self):
        super(Sequence, self).__init__()
        self.lstm1 = nn.LSTMCell(1, 51)
        self.lstm2 = nn.LSTMCell(51, 51)
        self.linear = nn.Linear(51, 1)

    def forward(self, input, future = 0):
        outputs = []
        h_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 51, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 51, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for i in range(future):# if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


if __name__ == '__main__':
    steps = 2
    # set random seed to 0
    np.random.seed(0)
    torch.manual_seed(0)
    # load data and make training set
    data = torch.load(os.path.join(folder, 'traindata.pt'), weights_only=False)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    print(input.shape, input.dtype, test_target.shape)
    # build the model
    seq = Sequence()
    seq.double()
    criterion = nn.MSELoss()
    # use LBFGS as optimizer since we can load the whole data to train
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8)
    #begin to train
    for i in range(steps):
        print('STEP: ', i)
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print('loss:', loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        # begin to predict, no need to track gradient here
        with torch.no_grad():
            future = 20
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print('test loss:', loss.item())
            y = pred.detach().numpy()
        # draw the result (printed instead of plotted)
        print(y.shape, y.dtype)
        print(np.round(y[:, input.size(1) - 2:input.size(1) + 3], 4))
        print(np.round(y[:, -3:], 4))
    state = optimizer.state_dict()['state'][0]
    print(state['func_evals'], state['n_iter'], len(state['old_dirs']))
