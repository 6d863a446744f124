# Source: Ben Trevett, pytorch-sentiment-analysis, "1 - Neural Bag of Words", "2 - Recurrent Neural
# Networks" and "3 - Convolutional Neural Networks": the collate_fn with nn.utils.rnn.pad_sequence
# (batch_first, padding_value) and torch.stack, DataLoader(collate_fn=...), Embedding(padding_idx),
# pretrained vectors put in through `model.embedding.weight.data = ...`, NBoW (mean over the
# sequence), a 2-layer bidirectional LSTM with dropout over pack_padded_sequence(enforce_sorted=False)
# and pad_packed_sequence, initialize_weights (xavier_normal_, zeros_, orthogonal_ on the LSTM's
# weights, kaiming_normal_ on Conv1d), a CNN of Conv1d's with three filter sizes and max over time,
# get_accuracy (argmax, eq, sum / batch size), train/evaluate, save/load of the best state_dict,
# and predict_sentiment.
#   https://github.com/bentrevett/pytorch-sentiment-analysis  {1 - Neural Bag of Words,2 - Recurrent Neural Networks,3 - Convolutional Neural Networks}.ipynb
#   (build_vocab_from_iterator and basic_english from https://github.com/pytorch/text  torchtext/vocab/vocab_factory.py, torchtext/data/utils.py)
# Shrunk: no datasets/torchtext/GloVe: 60 training, 20 validation and 24 test synthetic "reviews"
# (6-16 words drawn with torch.randint from a small list of positive, negative and neutral words,
# labelled by which kind is more common) in lists of dicts of tensors (what with_format("torch")
# gives), the train/valid split by torch.randperm; minimal stand-ins for the tokenizer, the vocab and
# GloVe (randn vectors, zeros for the specials); reviews cut at 12 tokens instead of 256;
# 16-dimensional embeddings and hidden states and 8 filters instead of 300/300/100, batches of 16
# instead of 512, 3 epochs instead of 10; notebook 2's collate_fn (with the lengths) serves all three;
# the tqdm progress bars left out; the plots' values printed.
import collections
import os
import re
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class tqdm:  # the progress bars left out
    tqdm = staticmethod(lambda iterable, desc=None: iterable)


# ----------------------------------------------------------------- stand-ins for datasets, torchtext
positive = ['great', 'good', 'fantastic', 'brilliant', 'fun', 'loved']
negative = ['terrible', 'bad', 'awful', 'boring', 'dull', 'hated']
neutral = ['the', 'film', 'movie', 'is', 'was', 'a', 'acting', 'plot', 'and', 'it', 'this', 'story', ',', '.', '!', 'not']
words = positive + negative + neutral


def synthetic_imdb(n):
    draws = torch.randint(0, len(words), (n, 16)).tolist()
    lengths = torch.randint(6, 17, (n,)).tolist()
    data = []
    for row, length in zip(draws, lengths):
        tokens = [words[w] for w in row[:length]]
        score = sum(t in positive for t in tokens) - sum(t in negative for t in tokens)
        data.append({"text": " ".join(tokens).capitalize(), "label": int(score >= 0)})
    return data


_patterns = [r"\'", r"\"", r"\.", r"<br \/>", r",", r"\(", r"\)", r"\!", r"\?", r"\;", r"\:", r"\s+"]
_replacements = [" '  ", "", " . ", " ", " , ", " ( ", " ) ", " ! ", " ? ", " ", " ", " "]
_patterns_dict = list((re.compile(p), r) for p, r in zip(_patterns, _replacements))


def _basic_english_normalize(line):
    line = line.lower()
    for pattern_re, replaced_str in _patterns_dict:
        line = pattern_re.sub(replaced_str, line)
    return line.split()


class Vocab:
    def __init__(self, tokens):
        self.itos = tokens
        self.stoi = {token: i for i, token in enumerate(tokens)}
        self.default_index = None

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        if token not in self.stoi and self.default_index is None:
            raise RuntimeError(f"Token {token} not found and default index is not set")
        return self.stoi.get(token, self.default_index)

    def set_default_index(self, index):
        self.default_index = index

    def get_itos(self):
        return list(self.itos)

    def lookup_indices(self, tokens):
        return [self[token] for token in tokens]

    def lookup_tokens(self, indices):
        return [self.itos[index] for index in indices]


def build_vocab_from_iterator(iterator, min_freq=1, specials=None):
    counter = collections.Counter()
    for tokens in iterator:
        counter.update(tokens)
    specials = specials or []
    # First sort by descending frequency, then lexicographically
    sorted_by_freq_tuples = sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    ordered_dict = collections.OrderedDict(sorted_by_freq_tuples)
    for token in specials:
        ordered_dict.pop(token, None)
    return Vocab(specials + [token for token, freq in ordered_dict.items() if freq >= min_freq])


class GloVe:
    def __init__(self, dim):
        self.vectors = {word: torch.randn(dim) for word in sorted(set(words) | {'.', ',', '!'})}
        self.dim = dim

    def get_vecs_by_tokens(self, tokens):
        if isinstance(tokens, str):
            return self.vectors.get(tokens, torch.zeros(self.dim))
        return torch.stack([self.vectors.get(token, torch.zeros(self.dim)) for token in tokens])


class torchtext:  # the parts of torchtext the notebooks use
    class data:
        class utils:
            get_tokenizer = staticmethod(lambda name: _basic_english_normalize)

    class vocab:
        build_vocab_from_iterator = staticmethod(build_vocab_from_iterator)
        GloVe = staticmethod(lambda: GloVe(16))


# ----------------------------------------------------------------- 1 - Neural Bag of Words
seed = 1234

np.random.seed(seed)
torch.manual_seed(seed)
torch.cuda.manual_seed(seed)
torch.backends.cudnn.deterministic = True

train_data, test_data = synthetic_imdb(80), synthetic_imdb(24)

print(train_data[0])

tokenizer = torchtext.data.utils.get_tokenizer("basic_english")

print(tokenizer("Hello world! How are you doing today? I'm doing fantastic!"))


def tokenize_example(example, tokenizer, max_length):
    tokens = tokenizer(example["text"])[:max_length]
    length = len(tokens)
    return {"tokens": tokens, "length": length}


max_length = 12

train_data = [dict(example, **tokenize_example(example, tokenizer, max_length)) for example in train_data]
test_data = [dict(example, **tokenize_example(example, tokenizer, max_length)) for example in test_data]

print(train_data[0]["tokens"][:25])

test_size = 0.25

shuffled = torch.randperm(len(train_data)).tolist()  # train_data.train_test_split(test_size=test_size)
n_valid = int(test_size * len(train_data))
valid_data = [train_data[i] for i in shuffled[:n_valid]]
train_data = [train_data[i] for i in shuffled[n_valid:]]

print(len(train_data), len(valid_data), len(test_data))

min_freq = 5
special_tokens = ["<unk>", "<pad>"]

vocab = torchtext.vocab.build_vocab_from_iterator(
    [example["tokens"] for example in train_data],
    min_freq=min_freq,
    specials=special_tokens,
)

print(len(vocab))
print(vocab.get_itos()[:10])
print(vocab["and"])

unk_index = vocab["<unk>"]
pad_index = vocab["<pad>"]

print("some_token" in vocab)

vocab.set_default_index(unk_index)

print(vocab["some_token"])
print(vocab.lookup_indices(["hello", "world", "some_token", "<pad>"]))


def numericalize_example(example, vocab):
    ids = vocab.lookup_indices(example["tokens"])
    return {"ids": ids}


def with_format_torch(data, columns):  # dataset.with_format(type="torch", columns=columns)
    return [{column: torch.tensor(dict(example, **numericalize_example(example, vocab))[column]) for column in columns}
            for example in data]


print(vocab.lookup_indices(train_data[0]["tokens"][:10]))

columns = ["ids", "label", "length"]
train_data = with_format_torch(train_data, columns)
valid_data = with_format_torch(valid_data, columns)
test_data = with_format_torch(test_data, columns)

print(train_data[0]["label"])
print(train_data[0]["ids"][:10])
print(train_data[0].keys())
print(vocab.lookup_tokens(train_data[0]["ids"][:10].tolist()))


def get_collate_fn(pad_index):
    def collate_fn(batch):
        batch_ids = [i["ids"] for i in batch]
        batch_ids = nn.utils.rnn.pad_sequence(
            batch_ids, padding_value=pad_index, batch_first=True
        )
        batch_length = [i["length"] for i in batch]
        batch_length = torch.stack(batch_length)
        batch_label = [i["label"] for i in batch]
        batch_label = torch.stack(batch_label)
        batch = {"ids": batch_ids, "length": batch_length, "label": batch_label}
        return batch

    return collate_fn


def get_data_loader(dataset, batch_size, pad_index, shuffle=False):
    collate_fn = get_collate_fn(pad_index)
    data_loader = torch.utils.data.DataLoader(
        dataset=dataset,
        batch_size=batch_size,
        collate_fn=collate_fn,
        shuffle=shuffle,
    )
    return data_loader


batch_size = 16

train_data_loader = get_data_loader(train_data, batch_size, pad_index, shuffle=True)
valid_data_loader = get_data_loader(valid_data, batch_size, pad_index)
test_data_loader = get_data_loader(test_data, batch_size, pad_index)


class NBoW(nn.Module):
    def __init__(self, vocab_size, embedding_dim, output_dim, pad_index):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_index)
        self.fc = nn.Linear(embedding_dim, output_dim)

    def forward(self, ids):
        # ids = [batch size, seq len]
        embedded = self.embedding(ids)
        # embedded = [batch size, seq len, embedding dim]
        pooled = embedded.mean(dim=1)
        # pooled = [batch size, embedding dim]
        prediction = self.fc(pooled)
        # prediction = [batch size, output dim]
        return prediction


vocab_size = len(vocab)
embedding_dim = 16
output_dim = len(set(int(example["label"]) for example in train_data))  # train_data.unique("label")

model = NBoW(vocab_size, embedding_dim, output_dim, pad_index)


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


print(f"The model has {count_parameters(model):,} trainable parameters")

vectors = torchtext.vocab.GloVe()

hello_vector = vectors.get_vecs_by_tokens("hello")
print(hello_vector.shape)
print(hello_vector[:32])

pretrained_embedding = vectors.get_vecs_by_tokens(vocab.get_itos())
print(pretrained_embedding.shape)
print(model.embedding.weight)
print(pretrained_embedding)

model.embedding.weight.data = pretrained_embedding
print(model.embedding.weight)

optimizer = optim.Adam(model.parameters())

criterion = nn.CrossEntropyLoss()

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

print(device)

model = model.to(device)
criterion = criterion.to(device)


def train(data_loader, model, criterion, optimizer, device):
    model.train()
    epoch_losses = []
    epoch_accs = []
    for batch in tqdm.tqdm(data_loader, desc="training..."):
        ids = batch["ids"].to(device)
        label = batch["label"].to(device)
        prediction = model(ids)
        loss = criterion(prediction, label)
        accuracy = get_accuracy(prediction, label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_losses.append(loss.item())
        epoch_accs.append(accuracy.item())
    return np.mean(epoch_losses), np.mean(epoch_accs)


def evaluate(data_loader, model, criterion, device):
    model.eval()
    epoch_losses = []
    epoch_accs = []
    with torch.no_grad():
        for batch in tqdm.tqdm(data_loader, desc="evaluating..."):
            ids = batch["ids"].to(device)
            label = batch["label"].to(device)
            prediction = model(ids)
            loss = criterion(prediction, label)
            accuracy = get_accuracy(prediction, label)
            epoch_losses.append(loss.item())
            epoch_accs.append(accuracy.item())
    return np.mean(epoch_losses), np.mean(epoch_accs)


def get_accuracy(prediction, label):
    batch_size, _ = prediction.shape
    predicted_classes = prediction.argmax(dim=-1)
    correct_predictions = predicted_classes.eq(label).sum()
    accuracy = correct_predictions / batch_size
    return accuracy


checkpoints = tempfile.mkdtemp()
n_epochs = 3
best_valid_loss = float("inf")

metrics = collections.defaultdict(list)

for epoch in range(n_epochs):
    train_loss, train_acc = train(
        train_data_loader, model, criterion, optimizer, device
    )
    valid_loss, valid_acc = evaluate(valid_data_loader, model, criterion, device)
    metrics["train_losses"].append(train_loss)
    metrics["train_accs"].append(train_acc)
    metrics["valid_losses"].append(valid_loss)
    metrics["valid_accs"].append(valid_acc)
    if valid_loss < best_valid_loss:
        best_valid_loss = valid_loss
        torch.save(model.state_dict(), os.path.join(checkpoints, "nbow.pt"))
    print(f"epoch: {epoch}")
    print(f"train_loss: {train_loss:.3f}, train_acc: {train_acc:.3f}")
    print(f"valid_loss: {valid_loss:.3f}, valid_acc: {valid_acc:.3f}")

print(dict(metrics))

model.load_state_dict(torch.load(os.path.join(checkpoints, "nbow.pt")))

test_loss, test_acc = evaluate(test_data_loader, model, criterion, device)

print(f"test_loss: {test_loss:.3f}, test_acc: {test_acc:.3f}")


def predict_sentiment(text, model, tokenizer, vocab, device):
    tokens = tokenizer(text)
    ids = vocab.lookup_indices(tokens)
    tensor = torch.LongTensor(ids).unsqueeze(dim=0).to(device)
    prediction = model(tensor).squeeze(dim=0)
    probability = torch.softmax(prediction, dim=-1)
    predicted_class = prediction.argmax(dim=-1).item()
    predicted_probability = probability[predicted_class].item()
    return predicted_class, predicted_probability


texts = ["This film is terrible!", "This film is great!", "This film is not terrible, it's great!",
         "This film is not great, it's terrible!"]

for text in texts:
    print(predict_sentiment(text, model, tokenizer, vocab, device))


# ----------------------------------------------------------------- 2 - Recurrent Neural Networks
class LSTM(nn.Module):
    def __init__(
        self,
        vocab_size,
        embedding_dim,
        hidden_dim,
        output_dim,
        n_layers,
        bidirectional,
        dropout_rate,
        pad_index,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_index)
        self.lstm = nn.LSTM(
            embedding_dim,
            hidden_dim,
            n_layers,
            bidirectional=bidirectional,
            dropout=dropout_rate,
            batch_first=True,
        )
        self.fc = nn.Linear(hidden_dim * 2 if bidirectional else hidden_dim, output_dim)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, ids, length):
        # ids = [batch size, seq len]
        # length = [batch size]
        embedded = self.dropout(self.embedding(ids))
        # embedded = [batch size, seq len, embedding dim]
        packed_embedded = nn.utils.rnn.pack_padded_sequence(
            embedded, length, batch_first=True, enforce_sorted=False
        )
        packed_output, (hidden, cell) = self.lstm(packed_embedded)
        # hidden = [n layers * n directions, batch size, hidden dim]
        # cell = [n layers * n directions, batch size, hidden dim]
        output, output_length = nn.utils.rnn.pad_packed_sequence(packed_output)
        # output = [batch size, seq len, hidden dim * n directions]
        if self.lstm.bidirectional:
            hidden = self.dropout(torch.cat([hidden[-1], hidden[-2]], dim=-1))
            # hidden = [batch size, hidden dim * 2]
        else:
            hidden = self.dropout(hidden[-1])
            # hidden = [batch size, hidden dim]
        prediction = self.fc(hidden)
        # prediction = [batch size, output dim]
        return prediction


vocab_size = len(vocab)
embedding_dim = 16
hidden_dim = 16
output_dim = len(set(int(example["label"]) for example in train_data))
n_layers = 2
bidirectional = True
dropout_rate = 0.5

model = LSTM(
    vocab_size,
    embedding_dim,
    hidden_dim,
    output_dim,
    n_layers,
    bidirectional,
    dropout_rate,
    pad_index,
)

print(f"The model has {count_parameters(model):,} trainable parameters")


def initialize_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.LSTM):
        for name, param in m.named_parameters():
            if "bias" in name:
                nn.init.zeros_(param)
            elif "weight" in name:
                nn.init.orthogonal_(param)


print(model.apply(initialize_weights))
print(model.lstm.weight_hh_l1_reverse[:2], model.fc.weight[:, :4])

vectors = torchtext.vocab.GloVe()
pretrained_embedding = vectors.get_vecs_by_tokens(vocab.get_itos())
model.embedding.weight.data = pretrained_embedding

lr = 5e-4

optimizer = optim.Adam(model.parameters(), lr=lr)

criterion = nn.CrossEntropyLoss()

model = model.to(device)
criterion = criterion.to(device)


def train(dataloader, model, criterion, optimizer, device):
    model.train()
    epoch_losses = []
    epoch_accs = []
    for batch in tqdm.tqdm(dataloader, desc="training..."):
        ids = batch["ids"].to(device)
        length = batch["length"]
        label = batch["label"].to(device)
        prediction = model(ids, length)
        loss = criterion(prediction, label)
        accuracy = get_accuracy(prediction, label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_losses.append(loss.item())
        epoch_accs.append(accuracy.item())
    return np.mean(epoch_losses), np.mean(epoch_accs)


def evaluate(dataloader, model, criterion, device):
    model.eval()
    epoch_losses = []
    epoch_accs = []
    with torch.no_grad():
        for batch in tqdm.tqdm(dataloader, desc="evaluating..."):
            ids = batch["ids"].to(device)
            length = batch["length"]
            label = batch["label"].to(device)
            prediction = model(ids, length)
            loss = criterion(prediction, label)
            accuracy = get_accuracy(prediction, label)
            epoch_losses.append(loss.item())
            epoch_accs.append(accuracy.item())
    return np.mean(epoch_losses), np.mean(epoch_accs)


n_epochs = 3
best_valid_loss = float("inf")

metrics = collections.defaultdict(list)

for epoch in range(n_epochs):
    train_loss, train_acc = train(
        train_data_loader, model, criterion, optimizer, device
    )
    valid_loss, valid_acc = evaluate(valid_data_loader, model, criterion, device)
    metrics["train_losses"].append(train_loss)
    metrics["train_accs"].append(train_acc)
    metrics["valid_losses"].append(valid_loss)
    metrics["valid_accs"].append(valid_acc)
    if valid_loss < best_valid_loss:
        best_valid_loss = valid_loss
        torch.save(model.state_dict(), os.path.join(checkpoints, "lstm.pt"))
    print(f"epoch: {epoch}")
    print(f"train_loss: {train_loss:.3f}, train_acc: {train_acc:.3f}")
    print(f"valid_loss: {valid_loss:.3f}, valid_acc: {valid_acc:.3f}")

model.load_state_dict(torch.load(os.path.join(checkpoints, "lstm.pt")))

test_loss, test_acc = evaluate(test_data_loader, model, criterion, device)

print(f"test_loss: {test_loss:.3f}, test_acc: {test_acc:.3f}")


def predict_sentiment(text, model, tokenizer, vocab, device):
    tokens = tokenizer(text)
    ids = vocab.lookup_indices(tokens)
    length = torch.LongTensor([len(ids)])
    tensor = torch.LongTensor(ids).unsqueeze(dim=0).to(device)
    prediction = model(tensor, length).squeeze(dim=0)
    probability = torch.softmax(prediction, dim=-1)
    predicted_class = prediction.argmax(dim=-1).item()
    predicted_probability = probability[predicted_class].item()
    return predicted_class, predicted_probability


for text in texts:
    print(predict_sentiment(text, model, tokenizer, vocab, device))


# ----------------------------------------------------------------- 3 - Convolutional Neural Networks
class CNN(nn.Module):
    def __init__(
        self,
        vocab_size,
        embedding_dim,
        n_filters,
        filter_sizes,
        output_dim,
        dropout_rate,
        pad_index,
    ):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=pad_index)
        self.convs = nn.ModuleList(
            [
                nn.Conv1d(embedding_dim, n_filters, filter_size)
                for filter_size in filter_sizes
            ]
        )
        self.fc = nn.Linear(len(filter_sizes) * n_filters, output_dim)
        self.dropout = nn.Dropout(dropout_rate)

    def forward(self, ids):
        # ids = [batch size, seq len]
        embedded = self.dropout(self.embedding(ids))
        # embedded = [batch size, seq len, embedding dim]
        embedded = embedded.permute(0, 2, 1)
        # embedded = [batch size, embedding dim, seq len]
        conved = [torch.relu(conv(embedded)) for conv in self.convs]
        # conved_n = [batch size, n filters, seq len - filter_sizes[n] + 1]
        pooled = [conv.max(dim=-1).values for conv in conved]
        # pooled_n = [batch size, n filters]
        cat = self.dropout(torch.cat(pooled, dim=-1))
        # cat = [batch size, n filters * len(filter_sizes)]
        prediction = self.fc(cat)
        # prediction = [batch size, output dim]
        return prediction


vocab_size = len(vocab)
embedding_dim = 16
n_filters = 8
filter_sizes = [3, 5, 7]
output_dim = len(set(int(example["label"]) for example in train_data))
dropout_rate = 0.25

model = CNN(
    vocab_size,
    embedding_dim,
    n_filters,
    filter_sizes,
    output_dim,
    dropout_rate,
    pad_index,
)

print(f"The model has {count_parameters(model):,} trainable parameters")


def initialize_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.xavier_normal_(m.weight)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.Conv1d):
        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        nn.init.zeros_(m.bias)


print(model.apply(initialize_weights))

vectors = torchtext.vocab.GloVe()
pretrained_embedding = vectors.get_vecs_by_tokens(vocab.get_itos())
model.embedding.weight.data = pretrained_embedding

optimizer = optim.Adam(model.parameters())

criterion = nn.CrossEntropyLoss()

model = model.to(device)
criterion = criterion.to(device)


def train(data_loader, model, criterion, optimizer, device):
    model.train()
    epoch_losses = []
    epoch_accs = []
    for batch in tqdm.tqdm(data_loader, desc="training..."):
        ids = batch["ids"].to(device)
        label = batch["label"].to(device)
        prediction = model(ids)
        loss = criterion(prediction, label)
        accuracy = get_accuracy(prediction, label)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        epoch_losses.append(loss.item())
        epoch_accs.append(accuracy.item())
    return np.mean(epoch_losses), np.mean(epoch_accs)


def evaluate(data_loader, model, criterion, device):
    model.eval()
    epoch_losses = []
    epoch_accs = []
    with torch.no_grad():
        for batch in tqdm.tqdm(data_loader, desc="evaluating..."):
            ids = batch["ids"].to(device)
            label = batch["label"].to(device)
            prediction = model(ids)
            loss = criterion(prediction, label)
            accuracy = get_accuracy(prediction, label)
            epoch_losses.append(loss.item())
            epoch_accs.append(accuracy.item())
    return np.mean(epoch_losses), np.mean(epoch_accs)


n_epochs = 3
best_valid_loss = float("inf")

metrics = collections.defaultdict(list)

for epoch in range(n_epochs):
    train_loss, train_acc = train(
        train_data_loader, model, criterion, optimizer, device
    )
    valid_loss, valid_acc = evaluate(valid_data_loader, model, criterion, device)
    metrics["train_losses"].append(train_loss)
    metrics["train_accs"].append(train_acc)
    metrics["valid_losses"].append(valid_loss)
    metrics["valid_accs"].append(valid_acc)
    if valid_loss < best_valid_loss:
        best_valid_loss = valid_loss
        torch.save(model.state_dict(), os.path.join(checkpoints, "cnn.pt"))
    print(f"epoch: {epoch}")
    print(f"train_loss: {train_loss:.3f}, train_acc: {train_acc:.3f}")
    print(f"valid_loss: {valid_loss:.3f}, valid_acc: {valid_acc:.3f}")

model.load_state_dict(torch.load(os.path.join(checkpoints, "cnn.pt")))

test_loss, test_acc = evaluate(test_data_loader, model, criterion, device)

print(f"test_loss: {test_loss:.3f}, test_acc: {test_acc:.3f}")


def predict_sentiment(text, model, tokenizer, vocab, device, min_length, pad_index):
    tokens = tokenizer(text)
    ids = vocab.lookup_indices(tokens)
    if len(ids) < min_length:
        ids += [pad_index] * (min_length - len(ids))
    tensor = torch.LongTensor(ids).unsqueeze(dim=0).to(device)
    prediction = model(tensor).squeeze(dim=0)
    probability = torch.softmax(prediction, dim=-1)
    predicted_class = prediction.argmax(dim=-1).item()
    predicted_probability = probability[predicted_class].item()
    return predicted_class, predicted_probability


min_length = max(filter_sizes)

for text in texts:
    print(predict_sentiment(text, model, tokenizer, vocab, device, min_length, pad_index))
