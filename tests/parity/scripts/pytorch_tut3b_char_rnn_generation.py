# Source: PyTorch tutorials, "NLP From Scratch: Generating Names with a Character-Level RNN" by
# Sean Robertson:
#   https://github.com/pytorch/tutorials  intermediate_source/char_rnn_generation_tutorial.py
# A hand-made RNN (i2h, i2o, o2o Linears, Dropout, LogSoftmax) conditioned on a one-hot language
# category, trained one name at a time by summing NLLLoss over the letters and updating with
# p.data.add_(-learning_rate, p.grad.data); then names are sampled greedily with topk.
# Shrunk: instead of the data/names/*.txt files, a small made-up dictionary of names for four
# languages written here (in the alphabetical order glob gives the files), passed through the
# tutorial's unicodeToAscii as readLines does; 240 iterations instead of 100000, a report every 40
# instead of 5000; the report leaves out timeSince(start) (a wall-clock time); all_losses is
# printed instead of plotted (no matplotlib).
from __future__ import unicode_literals, print_function, division
import unicodedata
import string

all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters) + 1 # Plus EOS marker

# Turn a Unicode string to plain ASCII, thanks to http://stackoverflow.com/a/518232/2809427
def unicodeToAscii(s):
    return ''.join(
        c for c in unicodedata.normalize('NFD', s)
        if unicodedata.category(c) != 'Mn'
        and c in all_letters
    )

# The names files, made up here
names_files = {
    'Chinese': ['Chan', 'Cheung', 'Hui', 'Ing', 'Chu', 'Chung', 'Hou', 'Ip'],
    'German': ['Gerber', 'Engel', 'Rosenberg', 'Müller', 'Schäfer', 'Rothman', 'Ebner'],
    'Russian': ['Rovakov', 'Uvarov', 'Shavakov', 'Ryzhov', 'Sokolov', 'Utkin', 'Smirnov'],
    'Spanish': ['Salazar', 'Parra', 'Álvarez', 'Peña', 'Abana', 'Sánchez', 'Ortega'],
}

# Build the category_lines dictionary, a list of lines per category
category_lines = {}
all_categories = []
for category, lines in names_files.items():
    all_categories.append(category)
    lines = [unicodeToAscii(line) for line in lines]
    category_lines[category] = lines

n_categories = len(all_categories)

if n_categories == 0:
    raise RuntimeError('Data not found. Make sure that you downloaded data '
        'from https://download.pytorch.org/tutorial/data.zip and extract it to '
        'the current directory.')

print('# categories:', n_categories, all_categories)
print(unicodeToAscii("O'Néàl"))
print(category_lines['Spanish'])

import torch
import torch.nn as nn

class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super(RNN, self).__init__()
        self.hidden_size = hidden_size

        self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
        self.o2o = nn.Linear(hidden_size + output_size, output_size)
        self.dropout = nn.Dropout(0.1)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, category, input, hidden):
        input_combined = torch.cat((category, input, hidden), 1)
        hidden = self.i2h(input_combined)
        output = self.i2o(input_combined)
        output_combined = torch.cat((hidden, output), 1)
        output = self.o2o(output_combined)
        output = self.dropout(output)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)

import random

# Random item from a list
def randomChoice(l):
    return l[random.randint(0, len(l) - 1)]

# Get a random category and random line from that category
def randomTrainingPair():
    category = randomChoice(all_categories)
    line = randomChoice(category_lines[category])
    return category, line

# One-hot vector for category
def categoryTensor(category):
    li = all_categories.index(category)
    tensor = torch.zeros(1, n_categories)
    tensor[0][li] = 1
    return tensor

# One-hot matrix of first to last letters (not including EOS) for input
def inputTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li in range(len(line)):
        letter = line[li]
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor

# LongTensor of second letter to end (EOS) for target
def targetTensor(line):
    letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
    letter_indexes.append(n_letters - 1) # EOS
    return torch.LongTensor(letter_indexes)

# Make category, input, and target tensors from a random category, line pair
def randomTrainingExample():
    category, line = randomTrainingPair()
    category_tensor = categoryTensor(category)
    input_line_tensor = inputTensor(line)
    target_line_tensor = targetTensor(line)
    return category_tensor, input_line_tensor, target_line_tensor

# (extra: what one training example looks like)
category_tensor, input_line_tensor, target_line_tensor = randomTrainingExample()
print(category_tensor)
print(input_line_tensor.shape, input_line_tensor.nonzero()[:, 2])
print(target_line_tensor)

criterion = nn.NLLLoss()

learning_rate = 0.0005

def train(category_tensor, input_line_tensor, target_line_tensor):
    target_line_tensor.unsqueeze_(-1)
    hidden = rnn.initHidden()

    rnn.zero_grad()

    loss = 0

    for i in range(input_line_tensor.size(0)):
        output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
        l = criterion(output, target_line_tensor[i])
        loss += l

    loss.backward()

    for p in rnn.parameters():
        p.data.add_(-learning_rate, p.grad.data)

    return output, loss.item() / input_line_tensor.size(0)

rnn = RNN(n_letters, 128, n_letters)

n_iters = 240
print_every = 40
plot_every = 20
all_losses = []
total_loss = 0 # Reset every plot_every iters

for iter in range(1, n_iters + 1):
    output, loss = train(*randomTrainingExample())
    total_loss += loss

    if iter % print_every == 0:
        print('(%d %d%%) %.4f' % (iter, iter / n_iters * 100, loss))

    if iter % plot_every == 0:
        all_losses.append(total_loss / plot_every)
        total_loss = 0

print('all_losses:', ' '.join('%.4f' % l for l in all_losses))

max_length = 20

# Sample from a category and starting letter
def sample(category, start_letter='A'):
    with torch.no_grad():  # no need to track history in sampling
        category_tensor = categoryTensor(category)
        input = inputTensor(start_letter)
        hidden = rnn.initHidden()

        output_name = start_letter

        for i in range(max_length):
            output, hidden = rnn(category_tensor, input[0], hidden)
            topv, topi = output.topk(1)
            topi = topi[0][0]
            if topi == n_letters - 1:
                break
            else:
                letter = all_letters[topi]
                output_name += letter
            input = inputTensor(letter)

        return output_name

# Get multiple samples from one category and multiple starting letters
def samples(category, start_letters='ABC'):
    for start_letter in start_letters:
        print(sample(category, start_letter))

samples('Russian', 'RUS')

samples('German', 'GER')

samples('Spanish', 'SPA')

samples('Chinese', 'CHI')
