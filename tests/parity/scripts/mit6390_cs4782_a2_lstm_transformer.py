# Source: Cornell CS 4782 (Intro to Deep Learning), Assignment 2 submission.py as a student filled
# it in: max_pool over word embeddings, reviews_processing (clip/zero-pad to a fixed length), an
# nn.LSTM(batch_first=True) classifier reading h_n.permute(1, 0, 2).contiguous().view(...), the
# val/train loops with tensor accuracy counts, and a from-scratch Transformer encoder
# (PositionalEncoding buffer, MultiHeadAttention with split_heads/combine_heads, FeedForward,
# EncoderLayer with LayerNorm + Dropout, nn.ModuleList).
#   https://github.com/loganprosser/cs4782  a2_release/morgan/submission.py
# Shrunk: gensim/Word2Vec and the IMDB reviews replaced by a synthetic vocabulary of random
# 16-d "word vectors" and 24 short synthetic reviews (dicts stand in for KeyedVectors, a list of
# dicts for the dataframe rows); sequence length 6, hidden 16, d_model 16, 2 heads, 2 layers,
# 2 epochs each; the BERT part (process_batch) left out.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import math
from torch.utils.data import TensorDataset, DataLoader


def get_word_embeddings(model, sequence):
    word_embeddings = []
    words = sequence.split()
    if hasattr(model, 'wv'):
        for word in words:
            if word in model.wv:
                word_embeddings.append(model.wv[word])
    else:
        for word in words:
            if word in model:
                word_embeddings.append(model[word])
    return word_embeddings


def get_reviews_embeddings(model, data):
    reviews_embeddings = []
    for row in data:  # the assignment iterates data.iterrows()
        review_embeddings = get_word_embeddings(model, row['text'])
        reviews_embeddings.append(review_embeddings)
    return reviews_embeddings


def max_pool(embeddings, d=300):
    max_pool_embeddings = []
    if len(embeddings) == 0:
        return np.zeros(d)
    for dim in range(d):
        max = -np.inf
        for i in range(len(embeddings)):
            feat = embeddings[i][dim]
            if feat > max:
                max = feat
        max_pool_embeddings.append(max)
    return max_pool_embeddings


class LSTM(nn.Module):
    def __init__(self, num_layers, input_size, hidden_size, seq_length, num_classes=2):
        super(LSTM, self).__init__()
        self.num_classes = num_classes
        self.num_layers = num_layers
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.seq_length = seq_length
        self.lstm = nn.LSTM(self.input_size, self.hidden_size, self.num_layers, batch_first=True)
        self.relu = nn.ReLU()
        self.fc1 = nn.Linear(self.num_layers * self.hidden_size, 128)
        self.fc2 = nn.Linear(128, self.num_classes)

    def forward(self, x):
        h_0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size).to(x.device)
        c_0 = torch.zeros(self.num_layers, x.size(0), self.hidden_size).to(x.device)
        output, (h_n, c_n) = self.lstm(x, (h_0, c_0))
        h_n = h_n.permute(1, 0, 2).contiguous().view(x.size(0), -1)
        out = self.relu(h_n)
        out = self.fc1(out)
        out = self.relu(out)
        out = self.fc2(out)
        return out


def reviews_processing(google_embeddings, length):
    embeddings = []
    for review in google_embeddings:
        d = len(review[0]) if len(review) > 0 else 300
        result = np.zeros((length, d))
        clipped = review[:length]
        if len(clipped) > 0:
            result[:len(clipped)] = np.array(clipped)
        embeddings.append(result)
    return np.array(embeddings)


def val(model, val_loader, criterion, device):
    val_running_loss = 0
    num_correct = 0
    total = 0
    model.eval()
    with torch.no_grad():
        for i, (inputs, labels) in enumerate(val_loader, 0):
            inputs = inputs.to(device, dtype=torch.float32)
            labels = labels.to(device)
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            val_running_loss += loss.item()
            preds = outputs.argmax(dim=1)
            num_correct += (preds == labels).sum()
            total += labels.size(0)
    model.train()
    return val_running_loss, (num_correct / total).item()


def train(model, train_loader, val_loader, criterion, epochs, optimizer, device):
    train_loss_arr = []
    val_loss_arr = []
    val_acc_arr = []
    running_loss = 0.0
    for epoch in range(epochs):
        running_loss = 0.0
        for i, (inputs, labels) in enumerate(train_loader):
            inputs = inputs.to(device, dtype=torch.float32)
            labels = labels.to(device)
            optimizer.zero_grad()
            outputs = model(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        val_loss, val_acc = val(model, val_loader, criterion, device)
        train_loss_arr.append(running_loss)
        val_loss_arr.append(val_loss)
        val_acc_arr.append(val_acc)
        print(
            "epoch:",
            epoch + 1,
            "training loss:",
            running_loss,
            "val accuracy:",
            round(val_acc, 3),
        )
    print(running_loss)
    print("Training finished.")
    return train_loss_arr, val_loss_arr, val_acc_arr


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_seq_length):
        super(PositionalEncoding, self).__init__()
        pe = torch.zeros(max_seq_length, d_model)
        position = torch.arange(0, max_seq_length, dtype=torch.float).reshape(max_seq_length, 1)
        div_term = torch.exp(
              -1 * (torch.arange(0, d_model, 2).float()/d_model) * math.log(10000.0)
        )
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0))

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class MultiHeadAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super(MultiHeadAttention, self).__init__()
        assert d_model % num_heads == 0, "d_model must be divisible by num_heads"
        self.d_model = d_model
        self.num_heads = num_heads
        self.d_k = d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)

    def split_heads(self, x):
        batch_size, seq_length, d_model = x.size()
        return x.view(batch_size, seq_length, self.num_heads, self.d_k).permute(0, 2, 1, 3)

    def compute_attention(self, Q, K, V):
        scores = torch.matmul(Q, K.transpose(-2, -1)) / math.sqrt(self.d_k)
        attention = torch.matmul(F.softmax(scores, dim=-1), V)
        return attention

    def combine_heads(self, x):
        batch_size, _, seq_length, d_k = x.size()
        return x.permute(0, 2, 1, 3).contiguous().view(batch_size, seq_length, self.d_model)

    def forward(self, x):
        Q = self.split_heads(self.W_q(x))
        K = self.split_heads(self.W_k(x))
        V = self.split_heads(self.W_v(x))
        attn_output = self.compute_attention(Q, K, V)
        output = self.W_o(self.combine_heads(attn_output))
        return output


class FeedForward(nn.Module):
    def __init__(self, d_model, d_ff):
        super(FeedForward, self).__init__()
        self.fc1 = nn.Linear(d_model, d_ff)
        self.fc2 = nn.Linear(d_ff, d_model)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.fc2(self.relu(self.fc1(x)))


class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff, p):
        super(EncoderLayer, self).__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.feed_forward = FeedForward(d_model, d_ff)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(p)

    def forward(self, x):
        attn_output = self.self_attn(x)
        x = self.norm1(x + self.dropout(attn_output))
        ff_output = self.feed_forward(x)
        x = self.norm2(x + self.dropout(ff_output))
        return x


class Transformer(nn.Module):
    def __init__(
        self, num_classes, d_model, num_heads, num_layers, d_ff, max_seq_length, p
    ):
        super(Transformer, self).__init__()
        self.positional_encoding = PositionalEncoding(d_model, max_seq_length)
        self.dropout = nn.Dropout(p)
        self.encoder_layers = nn.ModuleList(
            [EncoderLayer(d_model, num_heads, d_ff, p) for _ in range(num_layers)]
        )
        self.fc1 = nn.Linear(d_model, 128)
        self.fc2 = nn.Linear(128, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = self.dropout(self.positional_encoding(x))
        for encoder_layer in self.encoder_layers:
            x = encoder_layer(x)
        x = x.mean(dim=1)
        x = self.relu(x)
        x = self.fc1(x)
        x = self.relu(x)
        x = self.fc2(x)
        return x


# ---- driver (the notebook's cells, on synthetic data) ----
D = 16
rng = np.random.default_rng(0)
good = ["great", "superb", "fun", "moving", "brilliant"]
bad = ["awful", "boring", "dull", "bad", "weak"]
neutral = ["the", "movie", "plot", "actor", "film", "was"]
w2v = {w: rng.normal(size=D).astype(np.float32) for w in good + bad + neutral}
w2v["great"][:4] += 2.0
for w in bad:
    w2v[w][:4] -= 1.5
data = []
for i in range(24):
    label = i % 2
    n = 3 + (i * 7) % 6
    words = [(good if label else bad)[(i * 3 + k) % 5] if k % 2 else neutral[(i + k) % 6] for k in range(n)]
    words.append("unknownword")
    data.append({"text": " ".join(words), "label": label})
print(data[0], data[1])

print(len(get_word_embeddings(w2v, data[0]["text"])), len(data[0]["text"].split()))
reviews = get_reviews_embeddings(w2v, data)
print([len(r) for r in reviews])
pooled = np.array([max_pool(r, D) for r in reviews], dtype=np.float32)
print(pooled.shape, np.round(pooled[0][:5], 4))
print(max_pool([], 4))

X = reviews_processing(reviews, 6)
print(X.shape, X.dtype, X[0, -1, :3], X[5, 0, :3])
labels = np.array([row["label"] for row in data])

device = torch.device("cpu")
X_t = torch.from_numpy(X)
y_t = torch.from_numpy(labels)
print(X_t.dtype, y_t.dtype, X_t.shape)
train_loader = DataLoader(TensorDataset(X_t[:16], y_t[:16]), batch_size=8, shuffle=True)
val_loader = DataLoader(TensorDataset(X_t[16:], y_t[16:]), batch_size=8)
criterion = nn.CrossEntropyLoss()

lstm = LSTM(num_layers=2, input_size=D, hidden_size=16, seq_length=6)
print(lstm)
out = lstm(X_t[:3].float())
print(out)
optimizer = torch.optim.Adam(lstm.parameters(), lr=1e-3)
tl, vl, va = train(lstm, train_loader, val_loader, criterion, 2, optimizer, device)
print(tl, vl, va)

pe = PositionalEncoding(D, 6)
print(pe.pe.shape, pe.pe[0, :3, :4])
print(list(pe.state_dict().keys()))
mha = MultiHeadAttention(D, 2)
x = torch.randn(2, 6, D)
print(mha.split_heads(x).shape, mha.combine_heads(mha.split_heads(x)).equal(x))
print(mha(x)[0, :2, :4])

transformer = Transformer(num_classes=2, d_model=D, num_heads=2, num_layers=2, d_ff=32, max_seq_length=6, p=0.1)
print(sum(p.numel() for p in transformer.parameters() if p.requires_grad))
print(transformer.encoder_layers[0])
optimizer = torch.optim.Adam(transformer.parameters(), lr=1e-3)
tl, vl, va = train(transformer, train_loader, val_loader, criterion, 2, optimizer, device)
print(tl, vl, va)
transformer.eval()
with torch.no_grad():
    logits = transformer(X_t[16:].float())
print(logits.argmax(1), y_t[16:], torch.sum(torch.eq(logits.argmax(1), y_t[16:])))
