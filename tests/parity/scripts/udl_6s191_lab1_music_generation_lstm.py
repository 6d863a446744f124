# Source: MIT 6.S191 Introduction to Deep Learning (Amini et al.), Lab 1 Part 2 "Music Generation with RNNs",
# solution notebook (PyTorch version):
#   https://github.com/aamini/introtodeeplearning  lab1/solutions/PT_Part2_Music_Generation_Solution.ipynb
# Shrunk: the first three tunes of the lab's mitdeeplearning/data/irish.abc written here instead of
# mdl.lab1.load_training_data() (split on blank lines, as extract_song_snippet's regex does);
# embedding 256 -> 16, LSTM 1024 -> 32 units, seq_length 100 -> 20, 3000 -> 12 iterations, 1000 -> 40
# generated characters. Comet, the periodic plotter and the audio cells are left out; the losses the
# lab logs to Comet are printed; the checkpoint goes to a temporary directory instead of
# ./training_checkpoints. np.random.choice draws the batches (NumPy is seeded before the script runs).
import torch
import torch.nn as nn
import torch.optim as optim

# Import all remaining packages
import numpy as np
import os
import tempfile
from tqdm import tqdm

songs_text = """X:1
T:Alexander's
Z: id:dc-hornpipe-1
M:C|
L:1/8
K:D Major
(3ABc|dAFA DFAd|fdcd FAdf|gfge fefd|(3efe (3dcB A2 (3ABc|!
dAFA DFAd|fdcd FAdf|gfge fefd|(3efe dc d2:|!
AG|FAdA FAdA|GBdB GBdB|Acec Acec|dfaf gecA|!
FAdA FAdA|GBdB GBdB|Aceg fefd|(3efe dc d2:|!

X:2
T:An Buachaill Dreoite
Z: id:dc-hornpipe-2
M:C|
L:1/8
K:G Major
GF|DGGB d2GB|d2GF Gc (3AGF|DGGB d2GB|dBcA F2GF|!
DGGB d2GF|DGGF G2Ge|fgaf gbag|fdcA G2:|!
GA|B2BG c2cA|d2GF G2GA|B2BG c2cA|d2DE F2GA|!
B2BG c2cA|d^cde f2 (3def|g2gf gbag|fdcA G2:|!

X:3
T:Belfast
Z: id:dc-hornpipe-3
M:C|
L:1/8
K:D Major
ag|(3faf df AdFA|DFAd f2ef|gbec dfAF|GABG E2ag|!
(3faf df AdFA|DFAd f2ef|gbed cABc|d2f2 d2:|!
(3DEF|GFGA Bcde|fgfe dcdB|A2f2 fef2|G2e2 ede2|!
GFGA Bcde|fgfe dcdB|Afed cABc|d2f2 d2:|!
"""

# Download the dataset
songs = [song for song in songs_text.split("\n\n") if song.strip()]
print("Found {} songs in text".format(len(songs)))

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
# For example, to get the index of the character "d",
#   we can evaluate `char2idx["d"]`.
char2idx = {u: i for i, u in enumerate(vocab)}

# Create a mapping from indices to characters. This is
#   the inverse of char2idx and allows us to convert back
#   from unique index to the character in our vocabulary.
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


class LSTMModel(nn.Module):
    def __init__(self, vocab_size, embedding_dim, hidden_size):
        super(LSTMModel, self).__init__()
        self.hidden_size = hidden_size

        # Define each of the network layers
        # Layer 1: Embedding layer to transform indices into dense vectors
        #   of a fixed embedding size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)

        # Layer 2: LSTM with `rnn_units` number of units.
        # TODO: Use the nn.LSTM() module from pytorch.
        self.lstm = nn.LSTM(embedding_dim, hidden_size, batch_first=True)

        # Layer 3: Dense (fully-connected) layer that transforms the LSTM output
        #   into the vocabulary size.
        # TODO: Add the Dense layer.
        self.fc = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, state=None, return_state=False):
        x = self.embedding(x)

        if state is None:
            state = self.init_hidden(x.size(0), x.device)
        out, state = self.lstm(x, state)

        out = self.fc(out)
        return out if not return_state else (out, state)

    def init_hidden(self, batch_size, device):
        # Initialize hidden state and cell state with zeros
        return (torch.zeros(1, batch_size, self.hidden_size).to(device),
                torch.zeros(1, batch_size, self.hidden_size).to(device))


# Instantiate the model
vocab_size = len(vocab)
embedding_dim = 16
hidden_size = 32
batch_size = 8

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

model = LSTMModel(vocab_size, embedding_dim, hidden_size).to(device)
print(model)

# Test the model with dummy data
# x_dummy = torch.randint(0, vocab_size, (batch_size, 100)).to(device)
x_dummy, y_dummy = get_batch(vectorized_songs, seq_length=20, batch_size=32)
x_dummy = x_dummy.to(device)
y_dummy = y_dummy.to(device)

pred_dummy = model(x_dummy)
print("Input shape:      ", x_dummy.shape, " # (batch_size, sequence_length)")
print("Prediction shape: ", pred_dummy.shape, "# (batch_size, sequence_length, vocab_size)")

sampled_indices = torch.multinomial(torch.softmax(pred_dummy[0], dim=-1), num_samples=1)
sampled_indices = sampled_indices.squeeze(-1).cpu().numpy()
print(repr(sampled_indices))

print("Input: \n", repr("".join(idx2char[x_dummy[0].cpu()])))
print()
print("Next Char Predictions: \n", repr("".join(idx2char[sampled_indices])))

print(y_dummy.shape)  # (batch_size, sequence_length)
print(pred_dummy.shape)  # (batch_size, sequence_length, vocab_size)

### Defining the loss function ###

cross_entropy = nn.CrossEntropyLoss()


def compute_loss(labels, logits):
    """
    Inputs:
      labels: (batch_size, sequence_length)
      logits: (batch_size, sequence_length, vocab_size)

    Output:
      loss: scalar cross entropy loss over the batch and sequence length
    """

    # Batch the labels (i.e., the shape of the labels should be (B * L,))
    batched_labels = labels.view(-1)

    # Batch the logits (i.e., the shape of the logits should be (B * L, V))
    batched_logits = logits.view(-1, logits.size(-1))

    # Compute the loss
    loss = cross_entropy(batched_logits, batched_labels)
    return loss


example_batch_loss = compute_loss(y_dummy, pred_dummy)

print(f"Prediction shape: {pred_dummy.shape} # (batch_size, sequence_length, vocab_size)")
print(f"scalar_loss:      {example_batch_loss.mean().item()}")

### Hyperparameter setting and optimization ###

vocab_size = len(vocab)

# Model parameters:
params = dict(
    num_training_iterations=12,  # Increase this to train longer
    batch_size=8,  # Experiment between 1 and 64
    seq_length=20,  # Experiment between 50 and 500
    learning_rate=5e-3,  # Experiment between 1e-5 and 1e-1
    embedding_dim=16,
    rnn_units=32,  # Experiment between 1 and 2048
)

# Checkpoint location:
checkpoint_dir = tempfile.mkdtemp()
checkpoint_prefix = os.path.join(checkpoint_dir, "my_ckpt")
os.makedirs(checkpoint_dir, exist_ok=True)

### Define optimizer and training operation ###

model = LSTMModel(vocab_size, params["embedding_dim"], params["rnn_units"])

# Move the model to the GPU
model.to(device)

optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])


def train_step(x, y):
    model.train()
    optimizer.zero_grad()

    # Forward pass
    y_hat = model(x)  # TODO

    loss = compute_loss(y, y_hat)  # TODO

    # Backward pass
    loss.backward()  # TODO
    optimizer.step()  # TODO

    return loss


##################
# Begin training!#
##################

history = []

if hasattr(tqdm, '_instances'): tqdm._instances.clear()  # clear if it exists
for iter in tqdm(range(params["num_training_iterations"])):

    # Grab a batch and propagate it through the network
    x_batch, y_batch = get_batch(vectorized_songs, params["seq_length"], params["batch_size"])

    # Convert numpy arrays to PyTorch tensors
    x_batch = torch.tensor(x_batch, dtype=torch.long).to(device)
    y_batch = torch.tensor(y_batch, dtype=torch.long).to(device)

    loss = train_step(x_batch, y_batch)

    # Log the loss to the Comet interface
    print("loss", loss.item(), "step", iter)

    # Update the progress bar and visualize within notebook
    history.append(loss.item())

    # Save model checkpoint
    if iter % 100 == 0:
        torch.save(model.state_dict(), checkpoint_prefix)

# Save the final trained model
torch.save(model.state_dict(), checkpoint_prefix)
print("checkpoint:", list(torch.load(checkpoint_prefix).keys()))

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
    tqdm._instances.clear()

    for i in tqdm(range(generation_length)):
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


generated_text = generate_text(model, start_string="X", generation_length=40)  # TODO
print(repr(generated_text))
