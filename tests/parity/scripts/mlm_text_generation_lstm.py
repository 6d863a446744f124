# Source: Adrian Tam, "Text Generation with LSTM in PyTorch", Machine Learning Mastery (Deep Learning
#   with PyTorch series), https://machinelearningmastery.com/text-generation-with-lstm-in-pytorch/
#   (the final listing: the two-layer CharModel with LSTM dropout, trained, saved with
#   torch.save([best_model, char_to_int], ...), then reloaded and sampled greedily from a random prompt;
#   as a learner copied it: a GitHub NLP notebook export, the listing verbatim but for the file name)
# Shrunk: a 400-character synthetic lowercase text (words drawn with torch.randint) instead of
# wonderland.txt; seq_length 100 -> 10, hidden_size 256 -> 32, 3 epochs instead of 40, 40 generated
# characters instead of 1000; the .pth file goes to a temporary directory instead of the working one.
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data as data

words = ["alice", "rabbit", "queen", "hatter", "down", "the", "hole", "tea", "time", "cat"]
raw_text = ""
while len(raw_text) < 400:
    raw_text += words[int(torch.randint(0, len(words), ()))] + (", " if torch.rand(()) < 0.2 else " ")

# load ascii text and covert to lowercase
raw_text = raw_text.lower()

# create mapping of unique chars to integers
chars = sorted(list(set(raw_text)))
char_to_int = dict((c, i) for i, c in enumerate(chars))

# summarize the loaded data
n_chars = len(raw_text)
n_vocab = len(chars)
print("Total Characters: ", n_chars)
print("Total Vocab: ", n_vocab)

# prepare the dataset of input to output pairs encoded as integers
seq_length = 10
dataX = []
dataY = []
for i in range(0, n_chars - seq_length, 1):
    seq_in = raw_text[i:i + seq_length]
    seq_out = raw_text[i + seq_length]
    dataX.append([char_to_int[char] for char in seq_in])
    dataY.append(char_to_int[seq_out])
n_patterns = len(dataX)
print("Total Patterns: ", n_patterns)

# reshape X to be [samples, time steps, features]
X = torch.tensor(dataX, dtype=torch.float32).reshape(n_patterns, seq_length, 1)
X = X / float(n_vocab)
y = torch.tensor(dataY)
print(X.shape, y.shape)

class CharModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=32, num_layers=2, batch_first=True, dropout=0.2)
        self.dropout = nn.Dropout(0.2)
        self.linear = nn.Linear(32, n_vocab)
    def forward(self, x):
        x, _ = self.lstm(x)
        # take only the last output
        x = x[:, -1, :]
        # produce output
        x = self.linear(self.dropout(x))
        return x

n_epochs = 3
batch_size = 128
model = CharModel()
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
model.to(device)

optimizer = optim.Adam(model.parameters())
loss_fn = nn.CrossEntropyLoss(reduction="sum")
loader = data.DataLoader(data.TensorDataset(X, y), shuffle=True, batch_size=batch_size)

best_model = None
best_loss = np.inf
for epoch in range(n_epochs):
    model.train()
    for X_batch, y_batch in loader:
        y_pred = model(X_batch.to(device))
        loss = loss_fn(y_pred, y_batch.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    # Validation
    model.eval()
    loss = 0
    with torch.no_grad():
        for X_batch, y_batch in loader:
            y_pred = model(X_batch.to(device))
            loss += loss_fn(y_pred, y_batch.to(device))
        if loss < best_loss:
            best_loss = loss
            best_model = model.state_dict()
        print("Epoch %d: Cross-entropy: %.4f" % (epoch, loss))

tmpdir = tempfile.mkdtemp()
torch.save([best_model, char_to_int], os.path.join(tmpdir, "single-char.pth"))

# Generation: reload the model
best_model, char_to_int = torch.load(os.path.join(tmpdir, "single-char.pth"))
n_vocab = len(char_to_int)
int_to_char = dict((i, c) for c, i in char_to_int.items())
print(type(best_model).__name__, list(best_model.keys()))
print(best_model["lstm.weight_hh_l1"].shape, best_model["linear.bias"])

model = CharModel()
model.load_state_dict(best_model)

# randomly generate a prompt
start = np.random.randint(0, len(raw_text)-seq_length)
prompt = raw_text[start:start+seq_length]
pattern = [char_to_int[c] for c in prompt]

model.eval()
print('Prompt: "%s"' % prompt)
with torch.no_grad():
    for i in range(40):
        # format input array of int into PyTorch tensor
        x = np.reshape(pattern, (1, len(pattern), 1)) / float(n_vocab)
        x = torch.tensor(x, dtype=torch.float32)
        # generate logits as output from the model
        prediction = model(x.to(device))
        if i == 0:
            print(prediction)
        # convert logits into one character
        index = int(prediction.argmax())
        result = int_to_char[index]
        print(result, end="")
        # append the new character into the prompt for the next iteration
        pattern.append(index)
        pattern = pattern[1:]
print()
print("Done.")
