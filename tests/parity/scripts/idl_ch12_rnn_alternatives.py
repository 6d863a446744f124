# Source: Edward Raff, "Inside Deep Learning" (Manning 2022), Chapter 12 "Network design alternatives to
# RNNs" (averaging embeddings, attention over embeddings, 1-D CNNs over time, positional encodings,
# nn.TransformerEncoder): https://github.com/EdwardRaff/Inside-Deep-Learning  Chapter_12.ipynb, with the
# book's helper module idlmam.py (train_network, LastTimeStep, AttentionAvg, AdditiveAttentionScore...:
# tests/parity/scripts/idlmam/__init__.py).
# Shrunk: torchtext's AG_NEWS download, its basic_english tokenizer and its (legacy) Vocab are replaced by
# 64 + 32 synthetic (label, text) pairs over a 27-word vocabulary (words drawn with torch.randint, the
# label from the words), str.lower().split() and a few-line Vocab (specials first, then the words by
# descending count, ties alphabetical, as torchtext's legacy Vocab orders them; unknown words -> <unk>);
# min_freq=2 instead of 10. embed_dim = 16 instead of 128, B = 32 instead of 64, 2 epochs instead of 15
# (nhead=8 as in the book). sklearn's accuracy_score is two NumPy lines below; the seaborn/matplotlib
# plots are left out: the losses and the sine positional curves they plot are printed (not the accuracies:
# after 2 near-chance epochs they hinge on near-tied logits, one flip under 3e-8 noise in the gradients).
import torch
import torch.nn as nn
import torch.nn.functional as F
import math
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from torch.utils.data import Dataset, DataLoader

from idlmam import set_seed

import numpy as np

import time

from idlmam import LastTimeStep, train_network, Flatten, weight_reset, View, LambdaLayer
from idlmam import AttentionAvg, GeneralScore, DotScore, AdditiveAttentionScore #For attention mechanism use


def accuracy_score(y_true, y_pred):  # sklearn.metrics.accuracy_score
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def show(name, results, epochs_shown=None):
    for key in ["train loss", "val loss"]:  # (the accuracies, which the book plots, hinge on near-tied logits after 2 epochs)
        print(name, key, [round(float(v), 4) for v in results[key][:epochs_shown]])


torch.backends.cudnn.deterministic=True
set_seed(42)

set_seed(42)

device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")

# synthetic stand-in for torchtext.datasets.AG_NEWS: (label in 1..4, news line)
WORDS = ["the", "a", "of", "to", "in", "and", "on", "for", "is", "with", "game", "team", "season", "win",
         "market", "stocks", "shares", "profit", "election", "minister", "talks", "war",
         "software", "chip", "internet", "sasquatch", "rare"]
def fake_news(n):
    dataset = []
    for _ in range(n):
        label = int(torch.randint(1, 5, (1,)))
        T = int(torch.randint(4, 12, (1,)))
        common = torch.randint(0, 10, (T,)).tolist()
        topical = torch.randint(10 + 3*(label-1), 10 + 3*label, (T//2,)).tolist()
        words = [WORDS[i] for i in common] + [WORDS[i] for i in topical] + [WORDS[25 + int(torch.randint(0, 2, (1,)))]]
        order = torch.randperm(len(words)).tolist()
        dataset.append((label, " ".join(words[i].capitalize() if k == 0 else words[i] for k, i in enumerate(order))))
    return dataset
train_dataset = fake_news(64)
test_dataset = fake_news(32)

print(train_dataset[0])

def get_tokenizer(name):  # torchtext.data.utils.get_tokenizer('basic_english'), for these plain words
    return lambda line: line.lower().split()
tokenizer = get_tokenizer('basic_english') #we will be fine with the default english style tokenizer

from collections import Counter #how many lines in this dataset

class Vocab:  # torchtext.vocab.Vocab (legacy, torchtext < 0.10): specials, then by count, ties alphabetical
    def __init__(self, counter, min_freq=1, specials=('<unk>', '<pad>')):
        words = sorted((w for w, c in counter.items() if c >= min_freq), key=lambda w: (-counter[w], w))
        self.itos = list(specials) + [w for w in words if w not in specials]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
    def __getitem__(self, token):
        return self.stoi.get(token, self.stoi['<unk>'])
    def __len__(self):
        return len(self.itos)

counter = Counter() 
for (label, line) in train_dataset: #loop through the training data 
    counter.update(tokenizer(line)) #count the number of unique tokens we see and how often we see them (e.g., we will see "the" a lot, but "sasquatch" maybe once or not at all.)
vocab = Vocab(counter, min_freq=2, specials=('<unk>', '<BOS>', '<EOS>', '<PAD>')) #create a vocab object, removing any word that didn't occur at least 10 times, and add special vocab items for unkown, begining of sentance, end of sentance, and "padding"

def text_transform(x): #string -> list of integers
    return [vocab['<BOS>']] + [vocab[token] for token in tokenizer(x)] + [vocab['<EOS>']] #vocab acts like a dictionary, handls unkown tokens for us, and we can make it pre and post-pend with the start and end markers respectively.

def label_transform(x): 
    return x-1 #labes are originally [1, 2, 3, 4] but we need them as [0, 1, 2, 3] 

#Transform the first data point's text into a list of tokens
print(text_transform(train_dataset[0][1])) 

VOCAB_SIZE = len(vocab)
NUM_CLASS = len(np.unique([z[0] for z in train_dataset])) 
print("Vocab: ", VOCAB_SIZE)
print("Num Classes: ", NUM_CLASS)

padding_idx = vocab["<PAD>"]

embed_dim = 16
B = 32
epochs = 2

def pad_batch(batch):
    """
    Pad items in the batch to the length of the longest item in the batch. 
    Also, re-order so that the values are returned (input, label)
    """
    labels = [label_transform(z[0]) for z in batch] #get and transform every label in the batch
    texts = [torch.tensor(text_transform(z[1]), dtype=torch.int64) for z in batch] #get, tokenizer, and put into a tensor every text
    #what is the longest sequence in this batch? 
    max_len = max([text.size(0) for text in texts])
    #pad each text tensor by whatever amount gets it to the max_len
    texts = [F.pad(text, (0,max_len-text.size(0)), value=padding_idx) for text in texts]
    #make x and y a single tensor
    x, y = torch.stack(texts), torch.tensor(labels, dtype=torch.int64)
    
    return x, y

train_loader = DataLoader(train_dataset, batch_size=B, shuffle=True, collate_fn=pad_batch)
test_loader = DataLoader(test_dataset, batch_size=B, collate_fn=pad_batch)

gru = nn.Sequential(
  nn.Embedding(VOCAB_SIZE, embed_dim, padding_idx=padding_idx), #(B, T) -> (B, T, D)
  nn.GRU(embed_dim, embed_dim, num_layers=3, batch_first=True, bidirectional=True), #(B, T, D) -> ( (B,T,D) , (S, B, D)  )
  LastTimeStep(rnn_layers=3, bidirectional=True), #We need to take the RNN output and reduce it to one item, (B, 2*D)
  nn.Linear(embed_dim*2, NUM_CLASS), #(B, D) -> (B, classes)
)

loss_func = nn.CrossEntropyLoss()
gru_results = train_network(gru, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
show("gru", gru_results)


#-----
simpleEmbdAvg = nn.Sequential(
    nn.Embedding(VOCAB_SIZE, embed_dim, padding_idx=padding_idx), #(B, T) -> (B, T, D) 
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.AdaptiveAvgPool2d((1,embed_dim)), #(B, T, D) -> (B, 1, D)
    nn.Flatten(), #(B, 1, D) -> (B, D)
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.BatchNorm1d(embed_dim),
    nn.Linear(embed_dim, NUM_CLASS)
)
simpleEmbdAvg_results = train_network(simpleEmbdAvg, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
show("simpleEmbdAvg", simpleEmbdAvg_results)


#-----

class EmbeddingAttentionBag(nn.Module):

    def __init__(self, vocab_size, D, embd_layers=3, padding_idx=None):
        super(EmbeddingAttentionBag, self).__init__()
        self.padding_idx = padding_idx
        self.embd = nn.Embedding(vocab_size, D, padding_idx=padding_idx)
        if isinstance(embd_layers, int):
            self.embd_layers =  nn.Sequential( #(B, T, D) -> (B, T, D) 
                *[nn.Sequential(nn.Linear(embed_dim, embed_dim),
                nn.LeakyReLU()) for _ in range(embd_layers)]
            )
        else:
            self.embd_layers = embd_layers
        self.attn = AttentionAvg(AdditiveAttentionScore(D))# functions defined back in Chapter 10
    
    def forward(self, input):
        """
        input: (B, T) shape, dtype=int64
        output: (B, D) shape, dtype=float32
        """
        if self.padding_idx is not None:
            mask = input != self.padding_idx
        else:
            mask = input == input #All entries are `True`
        #mask is shape (B, T)
        x = self.embd(input) #(B, T, D)
        x = self.embd_layers(x)#(B, T, D)        
        #average over time
        context = x.sum(dim=1)/(mask.sum(dim=1).unsqueeze(1)+1e-5) #(B, T, D) -> (B, D)
        #If we wanted to just do normal averaging, we could return the context variable right now!
        return self.attn(x, context, mask=mask) # ((B, T, D), (B, D)) -> (B, D)

#Now we can define a simple model!
attnEmbd = nn.Sequential(
    EmbeddingAttentionBag(VOCAB_SIZE, embed_dim, padding_idx=padding_idx), #(B, T) -> (B, D) 
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.BatchNorm1d(embed_dim),
    nn.Linear(embed_dim, NUM_CLASS)
)
attnEmbd_results = train_network(attnEmbd, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
show("attnEmbd", attnEmbd_results)


#-----
def cnnLayer(in_size, out_size): #I'm being lazy, we should make k_size an argument too
    return nn.Sequential(
        nn.Conv1d(in_size, out_size, kernel_size=k_size, padding=k_size//2),
        nn.LeakyReLU(),
        nn.BatchNorm1d(out_size))

k_size = 3
cnnOverTime = nn.Sequential(
    nn.Embedding(VOCAB_SIZE, embed_dim, padding_idx=padding_idx), #(B, T) -> (B, T, D) 
    LambdaLayer(lambda x : x.permute(0,2,1)), #(B, T, D) -> (B, D, T)
    #now we will pretend that D is the number of channels in this new interpreation of thed ata!
    cnnLayer(embed_dim, embed_dim),
    cnnLayer(embed_dim, embed_dim),
    nn.AvgPool1d(2), #(B, D, T) -> (B, D, T/2) 
    cnnLayer(embed_dim, embed_dim*2),
    cnnLayer(embed_dim*2, embed_dim*2),
    nn.AvgPool1d(2), #(B, 2*D, T/2) -> (B, 2*D, T/4) 
    cnnLayer(embed_dim*2, embed_dim*4),
    cnnLayer(embed_dim*4, embed_dim*4),
    #Now that we have done some rounds of pooling and convolution, reduce to a fixed length!
    nn.AdaptiveMaxPool1d(1), #(B, 4*D, T/4) -> (B, 4*D, 1)
    nn.Flatten(), #(B, 4*D, 1) -> (B, 4*D)
    nn.Linear(4*embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.BatchNorm1d(embed_dim),
    nn.Linear(embed_dim, NUM_CLASS)
)
cnn_results = train_network(cnnOverTime, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
show("cnn", cnn_results)


#-----
position = np.arange(0, 100)

position = np.arange(0, 100)

dimensions = 6 
position = np.expand_dims(np.arange(0, 100), 1)
#this computes the frequency f in a numerically stable way. 
div = np.exp(np.arange(0, dimensions*2, 2) * (-math.log(10000.0) / (dimensions*2)))
print(np.round(np.sin(position*div)[:5], 4))  # the book plots each of the dimensions over 100 positions

#Adapted from from https://github.com/pytorch/examples/blob/0c1654d6913f77f09c0505fb284d977d89c17c1a/word_language_model/model.py#L63
class PositionalEncoding(nn.Module):
    r"""Inject some information about the relative or absolute position of the tokens
        in the sequence. The positional encodings have the same dimension as
        the embeddings, so that the two can be summed. Here, we use sine and cosine
        functions of different frequencies.
    .. math::
        \text{PosEncoder}(pos, 2i) = sin(pos/10000^(2i/d_model))
        \text{PosEncoder}(pos, 2i+1) = cos(pos/10000^(2i/d_model))
        \text{where pos is the word position and i is the embed idx)
    Args:
        d_model: the embed dim (required).
        dropout: the dropout value (default=0.1).
        max_len: the max. length of the incoming sequence (default=5000).
    Examples:
        >>> pos_encoder = PositionalEncoding(d_model)
    """

    def __init__(self, d_model, dropout=0.1, max_len=5000, batch_first=False):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)
        self.d_model = d_model

        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)
        
        self.batch_first = batch_first

    def forward(self, x):
        r"""Inputs of forward function
        Args:
            x: the sequence fed to the positional encoder model (required).
        Shape:
            x: [sequence length, batch size, embed dim]
            output: [sequence length, batch size, embed dim]
        Examples:
            >>> output = pos_encoder(x)
        """
        if self.batch_first: #go from (B, T, D) input shape to (T, B, D)
            x = x.permute(1, 0, 2)

        x = x *np.sqrt(self.d_model) + self.pe[:x.size(0), :]
        x = self.dropout(x)
        
        if self.batch_first: #now go back to (B, T, D) shape
            x = x.permute(1, 0, 2)
            
        return x

simplePosEmbdAvg = nn.Sequential(
    nn.Embedding(VOCAB_SIZE, embed_dim, padding_idx=padding_idx), #(B, T) -> (B, T, D) 
    PositionalEncoding(embed_dim, batch_first=True),
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.AdaptiveAvgPool2d((1,None)), #(B, T, D) -> (B, 1, D)
    nn.Flatten(), #(B, 1, D) -> (B, D)
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.BatchNorm1d(embed_dim),
    nn.Linear(embed_dim, NUM_CLASS)
)

embd_layers =  nn.Sequential( #(B, T, D) -> (B, T, D) 
    *([PositionalEncoding(embed_dim, batch_first=True)]+
      [nn.Sequential(nn.Linear(embed_dim, embed_dim), nn.LeakyReLU()) for _ in range(3)])
)

attnPosEmbd = nn.Sequential(
    EmbeddingAttentionBag(VOCAB_SIZE, embed_dim, padding_idx=padding_idx, embd_layers=embd_layers), #(B, T) -> (B, D) 
    nn.Linear(embed_dim, embed_dim),
    nn.LeakyReLU(),
    nn.BatchNorm1d(embed_dim),
    nn.Linear(embed_dim, NUM_CLASS)
)

posEmbdAvg_results = train_network(simplePosEmbdAvg, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
show("posEmbdAvg", posEmbdAvg_results)
attnPosEmbd_results = train_network(attnPosEmbd, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
show("attnPosEmbd", attnPosEmbd_results)


#-----

class SimpleTransformerClassifier(nn.Module):

    def __init__(self, vocab_size, D, padding_idx=None):
        super(SimpleTransformerClassifier, self).__init__()
        self.padding_idx = padding_idx
        self.embd = nn.Embedding(vocab_size, D, padding_idx=padding_idx)
        self.position = PositionalEncoding(D, batch_first=True)
        #This below line is the main work for our transformer implementation!
        self.transformer = nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model=D, nhead=8),num_layers=3)
        self.attn = AttentionAvg(AdditiveAttentionScore(D))
        self.pred = nn.Sequential(
            nn.Flatten(), #(B, 1, D) -> (B, D)
            nn.Linear(D, D),
            nn.LeakyReLU(),
            nn.BatchNorm1d(D),
            nn.Linear(D, NUM_CLASS)
        )
    
    def forward(self, input):
        if self.padding_idx is not None:
            mask = input != self.padding_idx
        else:
            mask = input == input #All entries are `True`
        x = self.embd(input) #(B, T, D)
        x = self.position(x) #(B, T, D)
        #Because the resut of our code is (B, T, D), but transformers 
        #take input as (T, B, D), we will have to permute the order 
        #of the dimensions before and after 
        x = self.transformer(x.permute(1,0,2)) #(T, B, D)
        x = x.permute(1,0,2) #(B, T, D)
        #average over time
        context = x.sum(dim=1)/mask.sum(dim=1).unsqueeze(1)
        return self.pred(self.attn(x, context, mask=mask))
#Build and train this model!    
simpleTransformer = SimpleTransformerClassifier(VOCAB_SIZE, embed_dim, padding_idx=padding_idx)
transformer_results = train_network(simpleTransformer, loss_func, train_loader, val_loader=test_loader, score_funcs={'Accuracy': accuracy_score}, device=device, epochs=epochs)
# (the transformer's first epoch only: Adam's first step moves every weight by about ±lr whatever the size
# of its gradient, so the sign of a gradient that float32 rounding leaves at 1e-9 (pred.1.bias, before a
# LeakyReLU and BatchNorm1d) decides a weight: PyTorch's own summation order flips it, and the second
# epoch's losses then differ by 4e-3)
show("transformer", transformer_results, epochs_shown=1)

#-----