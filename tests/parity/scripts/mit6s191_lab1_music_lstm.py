# Source: MIT 6.S191 Introduction to Deep Learning, Lab 1 Part 2 (PyTorch): "Music Generation with
# RNNs" - character vocabulary of ABC-notation songs, get_batch with np.random.choice, LSTMModel
# (nn.Embedding + nn.LSTM(batch_first=True) + nn.Linear, init_hidden, return_state), untrained
# multinomial sampling, compute_loss with nn.CrossEntropyLoss over view(-1, V), Adam train_step,
# checkpointing the state_dict, and generate_text with a carried LSTM state.
#   https://github.com/MITDeepLearning/introtodeeplearning  lab1/solutions/PT_Part2_Music_Generation_Solution.ipynb
# Shrunk: three short inline ABC tunes instead of mdl.lab1.load_training_data(); embedding 16,
# hidden 32, batch 4, seq_length 24, 30 training iterations, 60 generated characters; the
# checkpoint goes to a temporary folder; comet_ml, tqdm, the plotter and audio playback left out,
# CPU only; the notebook's bare expressions printed.
import os
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim

import numpy as np

songs = [
    "X:1\nT:Alexander's\nZ: id:dc-hornpipe-1\nM:C|\nL:1/8\nK:D Major\n(3ABc|dAFA DFAd|fdcd FAdf|gfge fefd|(3efe (3dcB A2 (3ABc|!\ndAFA DFAd|fdcd FAdf|gfge fefd|(3efe dc d2:|!",
    "X:2\nT:An Buachaill Dreoite\nZ: id:dc-hornpipe-2\nM:C|\nL:1/8\nK:G Major\nGF|DGGB d2GB|d2GF Gc (3AGF|DGGB d2GB|dBcA F2GF|!\nDGGB d2GF|DGGF G2Ge|fgaf gbag|fdcA G2:|!",
    "X:3\nT:Belfast\nZ: id:dc-hornpipe-3\nM:C|\nL:1/8\nK:D Major\nag|(3faf df AdFA|DFAd f2ef|gbec dfAF|GABG E2ag|!\n(3faf df AdFA|DFAd f2ef|gbec dfAF|GEFG D2:|!",
]

# Print one of the songs to inspect it in greater detail!
example_song = songs[0]
print("\nExample song: ")
print(example_song)

# Join our list of song strings into a single string containing all songs
songs_joined = "\n\n".join(songs)

# Find all unique characters in the joined string
vocab = sorted(set(songs_joined))
print("There are", len(vocab), "unique characters in the dataset")

### Define numerical representation of text ###

# Create a mapping from character to unique index.
char2idx = {u: i for i, u in enumerate(vocab)}

# Create a mapping from indices to characters.
idx2char = np.array(vocab)

print('{')
for char, _ in zip(char2idx, range(20)):
    print('  {:4s}: {:3d},'.format(repr(char), char2idx[char]))
print('  ...\n}')


### Vectorize the songs string ###

def vectorize_string(string):
    vectorized_output = np.array([char2idx[char] for char in string])
    return vectorized_output


vectorized_songs = vectorize_string(songs_joined)

print('{} ---- characters mapped to int ----> {}'.format(repr(songs_joined[:10]), vectorized_songs[:10]))
# check that vectorized_songs is a numpy array
assert isinstance(vectorized_songs, np.ndarray), "returned result should be a numpy array"


### Batch definition to create training examples ###

def get_batch(vectorized_songs, seq_length, batch_size):
    # the length of the vectorized songs string
    n = vectorized_songs.shape[0] - 1
    # randomly choose the starting indices for the examples in the training batch
    idx = np.random.choice(n - seq_length, batch_size)

    '''TODO: construct a list of input sequences for the training batch'''
    input_batch = [vectorized_songs[i: i + seq_length] for i in idx]

    '''TODO: construct a list of output sequences for the training batch'''
    output_batch = [vectorized_songs[i + 1: i + seq_length + 1] for i in idx]

    # Convert the input and output batches to tensors
    x_batch = torch.tensor(input_batch, dtype=torch.long)
    y_batch = torch.tensor(output_batch, dtype=torch.long)

    return x_batch, y_batch


# Perform some simple tests to make sure your batch function is working properly!
test_args = (vectorized_songs, 10, 2)
x_batch, y_batch = get_batch(*test_args)
assert x_batch.shape == (2, 10), "x_batch shape is incorrect"
assert y_batch.shape == (2, 10), "y_batch shape is incorrect"
print("Batch function works correctly!")

x_batch, y_batch = get_batch(vectorized_songs, seq_length=5, batch_size=1)

for i, (input_idx, target_idx) in enumerate(zip(x_batch[0], y_batch[0])):
    print("Step {:3d}".format(i))
    print("  input: {} ({:s})".format(input_idx, repr(idx2char[input_idx.item()])))
    print("  expected output: {} ({:s})".format(target_idx, repr(idx2char[target_idx.item()])))


### Defining the RNN Model ###

class LSTMModel(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_size):
        super(LSTMModel, self).__init__()
        self.hidden_size = hidden_size

        # Layer 1: Embedding layer to transform indices into dense vectors
        #   of a fixed embedding size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)

        # Layer 2: LSTM with hidden_size `hidden_size`. note: number of layers defaults to 1.
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)

        # Layer 3: Linear (fully-connected) layer that transforms the LSTM output
        #   into the vocabulary size.
        self.fc = nn.Linear(hidden_size, vocab_size)

    def init_hidden(self, batch_size, device):
        # Initialize hidden state and cell state with zeros
        return (torch.zeros(1, batch_size, self.hidden_size).to(device),
                torch.zeros(1, batch_size, self.hidden_size).to(device))

    def forward(self, x, state=None, return_state=False):
        x = self.embedding(x)

        if state is None:
            state = self.init_hidden(x.size(0), x.device)
        out, state = self.lstm(x, state)

        out = self.fc(out)
        return out if not return_state else (out, state)


# Instantiate the model! Build a simple model with default hyperparameters.
vocab_size = len(vocab)
embedding_dim = 16
hidden_size = 32
batch_size = 8

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

model = LSTMModel(vocab_size, embedding_dim, hidden_size).to(device)

# print out a summary of the model
print(model)

# Test the model with some sample data
x, y = get_batch(vectorized_songs, seq_length=100, batch_size=32)
x = x.to(device)
y = y.to(device)

pred = model(x)
print("Input shape:      ", x.shape, " # (batch_size, sequence_length)")
print("Prediction shape: ", pred.shape, "# (batch_size, sequence_length, vocab_size)")

sampled_indices = torch.multinomial(torch.softmax(pred[0], dim=-1), num_samples=1)
sampled_indices = sampled_indices.squeeze(-1).cpu().numpy()
print(repr(sampled_indices))

print("Input: \n", repr("".join(idx2char[x[0].cpu()])))
print()
print("Next Char Predictions: \n", repr("".join(idx2char[sampled_indices])))

### Defining the loss function ###

cross_entropy = nn.CrossEntropyLoss()  # instantiates the function


def compute_loss(labels, logits):
    """
    Inputs:
      labels: (batch_size, sequence_length)
      logits: (batch_size, sequence_length, vocab_size)

    Output:
      loss: scalar cross entropy loss over the batch and sequence length
    """

    # Batch the labels so that the shape of the labels should be (B * L,)
    batched_labels = labels.view(-1)

    ''' TODO: Batch the logits so that the shape of the logits should be (B * L, V) '''
    batched_logits = logits.view(-1, logits.size(-1))

    '''TODO: Compute the cross-entropy loss using the batched  next characters and predictions'''
    loss = cross_entropy(batched_logits, batched_labels)
    return loss


### compute the loss on the predictions from the untrained model from earlier. ###
print(y.shape)  # (batch_size, sequence_length)
print(pred.shape)  # (batch_size, sequence_length, vocab_size)

example_batch_loss = compute_loss(y, pred)

print(f"Prediction shape: {pred.shape} # (batch_size, sequence_length, vocab_size)")
print(f"scalar_loss:      {example_batch_loss.mean().item()}")

### Hyperparameter setting and optimization ###

vocab_size = len(vocab)

# Model parameters:
params = dict(
    num_training_iterations=30,  # Increase this to train longer
    batch_size=4,  # Experiment between 1 and 64
    seq_length=24,  # Experiment between 50 and 500
    learning_rate=5e-3,  # Experiment between 1e-5 and 1e-1
    embedding_dim=16,
    hidden_size=32,  # Experiment between 1 and 2048
)

# Checkpoint location:
checkpoint_dir = tempfile.mkdtemp()
checkpoint_prefix = os.path.join(checkpoint_dir, "my_ckpt")
os.makedirs(checkpoint_dir, exist_ok=True)

### Define optimizer and training operation ###

model = LSTMModel(vocab_size, params["embedding_dim"], params["hidden_size"])

# Move the model to the GPU
model.to(device)

optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])


def train_step(x, y):
    # Set the model's mode to train
    model.train()

    # Zero gradients for every step
    optimizer.zero_grad()

    # Forward pass
    y_hat = model(x)  # TODO

    # Compute the loss
    loss = compute_loss(y, y_hat)  # TODO

    # Backward pass
    loss.backward()  # TODO
    optimizer.step()  # TODO

    return loss


##################
# Begin training!#
##################

history = []

for iter in range(params["num_training_iterations"]):

    # Grab a batch and propagate it through the network
    x_batch, y_batch = get_batch(vectorized_songs, params["seq_length"], params["batch_size"])

    # Convert numpy arrays to PyTorch tensors
    x_batch = torch.tensor(x_batch, dtype=torch.long).to(device)
    y_batch = torch.tensor(y_batch, dtype=torch.long).to(device)

    # Take a train step
    loss = train_step(x_batch, y_batch)

    # Update the progress bar and visualize within notebook
    history.append(loss.item())
    if iter % 5 == 0:
        print(f"iter {iter}: loss {loss.item():.5f}", loss)

    # Save model checkpoint
    if iter % 100 == 0:
        torch.save(model.state_dict(), checkpoint_prefix)

# Save the final trained model
torch.save(model.state_dict(), checkpoint_prefix)
print("history:", np.round(np.array(history[::6]), 4))

# reload the checkpoint into a fresh model, as one does to generate from a saved run
restored = LSTMModel(vocab_size, params["embedding_dim"], params["hidden_size"])
print(restored.load_state_dict(torch.load(checkpoint_prefix)))
print(sorted(restored.state_dict().keys()))
print(torch.equal(restored.fc.bias, model.fc.bias))
os.remove(checkpoint_prefix)
os.rmdir(checkpoint_dir)


### Prediction of a generated song ###

def generate_text(model, start_string, generation_length=1000):
    # Evaluation step (generating ABC text using the learned RNN model)

    '''TODO: convert the start string to numbers (vectorize)'''
    input_idx = [char2idx[s] for s in start_string]  # TODO
    input_idx = torch.tensor([input_idx], dtype=torch.long).to(device)

    # Initialize the hidden state
    state = model.init_hidden(input_idx.size(0), device)

    # Empty string to store our results
    text_generated = []

    for i in range(generation_length):
        '''TODO: evaluate the inputs and generate the next character predictions'''
        predictions, state = model(input_idx, state, return_state=True)

        # Remove the batch dimension
        predictions = predictions.squeeze(0)

        '''TODO: use a multinomial distribution to sample over the probabilities'''
        input_idx = torch.multinomial(torch.softmax(predictions, dim=-1), num_samples=1)

        '''TODO: add the predicted character to the generated text!'''
        # Hint: consider what format the prediction is in vs. the output
        text_generated.append(idx2char[input_idx].item())  # TODO

    return (start_string + ''.join(text_generated))


generated_text = generate_text(model, start_string="X", generation_length=60)  # TODO
print(repr(generated_text))
