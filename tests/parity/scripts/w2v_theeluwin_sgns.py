# Source: Jamie Seol (theeluwin), "pytorch-sgns": Skip-Gram with Negative Sampling in PyTorch
#   https://github.com/theeluwin/pytorch-sgns  preprocess.py (Preprocess: build, convert, skipgram),
#   model.py (Bundler, Word2Vec with padding_idx=0 embeddings whose weights are nn.Parameter(t.cat of a
#   zero row and FT(...).uniform_), SGNS with unigram weights ** 0.75 and t.multinomial negatives or
#   FT(...).uniform_(...).long() ones) and train.py (PermutedSubsampledCorpus, train with Adam and a
#   shuffled DataLoader), in order.
# Shrunk: the corpus file is a made-up corpus of 12 sentences held in io.StringIO (read as
# codecs.open reads the file, line by line); the pickled files of data/ and pts/ are kept in a dict
# (pickle.dumps/pickle.loads) instead of on disk, and t.save writes the state dicts into io.BytesIO;
# window 2 instead of 5; e_dim 10 instead of 300, n_negs 5 instead of 20, 2 epochs instead of 100,
# mb 16 instead of 4096, ss_t 1e-2 instead of 1e-5; train runs twice, without and with --weights
# (uniform and unigram ** 0.75 negatives); tqdm's postfix printed instead of shown. Added prints: the
# vocabulary, the first training pairs, ivectors.weight.grad after the first step (its padding row
# stays zero), the first rows of idx2vec and the saved state dicts' keys.
import argparse
import io
import os
import pickle
import random

import numpy as np
import torch as t
import torch.nn as nn
from torch import LongTensor as LT
from torch import FloatTensor as FT
from torch.optim import Adam
from torch.utils.data import Dataset, DataLoader
from tqdm import tqdm

CORPUS = """the king rules the kingdom with the queen
the queen rules the kingdom with the king
a man walks to the castle and a woman walks to the market
the prince is the son of the king and the queen
the princess is the daughter of the king and the queen
a dog runs in the park and a cat sleeps in the house

the cat chases the dog around the house
the dog chases the cat around the park
the king and the prince ride horses to the castle
the queen and the princess walk to the market
a man and a woman eat bread in the house
the woman buys bread at the market
"""
FILES = {}  # data/*.dat and pts/*.pt, pickled


# ---------------------------------------------------------------- preprocess.py
class Preprocess(object):

    def __init__(self, window=5, unk='<UNK>', data_dir='./data/'):
        self.window = window
        self.unk = unk
        self.data_dir = data_dir

    def skipgram(self, sentence, i):
        iword = sentence[i]
        left = sentence[max(i - self.window, 0): i]
        right = sentence[i + 1: i + 1 + self.window]
        return iword, [self.unk for _ in range(self.window - len(left))] + left + right + [self.unk for _ in range(self.window - len(right))]

    def build(self, filepath, max_vocab=20000):
        print("building vocab...")
        step = 0
        self.wc = {self.unk: 1}
        with io.StringIO(filepath) as file:
            for line in file:
                step += 1
                if not step % 1000:
                    print("working on {}kth line".format(step // 1000), end='\r')
                line = line.strip()
                if not line:
                    continue
                sent = line.split()
                for word in sent:
                    self.wc[word] = self.wc.get(word, 0) + 1
        print("")
        self.idx2word = [self.unk] + sorted(self.wc, key=self.wc.get, reverse=True)[:max_vocab - 1]
        self.word2idx = {self.idx2word[idx]: idx for idx, _ in enumerate(self.idx2word)}
        self.vocab = set([word for word in self.word2idx])
        FILES[os.path.join(self.data_dir, 'wc.dat')] = pickle.dumps(self.wc)
        FILES[os.path.join(self.data_dir, 'vocab.dat')] = pickle.dumps(self.vocab)
        FILES[os.path.join(self.data_dir, 'idx2word.dat')] = pickle.dumps(self.idx2word)
        FILES[os.path.join(self.data_dir, 'word2idx.dat')] = pickle.dumps(self.word2idx)
        print("build done")

    def convert(self, filepath):
        print("converting corpus...")
        step = 0
        data = []
        with io.StringIO(filepath) as file:
            for line in file:
                step += 1
                if not step % 1000:
                    print("working on {}kth line".format(step // 1000), end='\r')
                line = line.strip()
                if not line:
                    continue
                sent = []
                for word in line.split():
                    if word in self.vocab:
                        sent.append(word)
                    else:
                        sent.append(self.unk)
                for i in range(len(sent)):
                    iword, owords = self.skipgram(sent, i)
                    data.append((self.word2idx[iword], [self.word2idx[oword] for oword in owords]))
        print("")
        FILES[os.path.join(self.data_dir, 'train.dat')] = pickle.dumps(data)
        print("conversion done")


preprocess = Preprocess(window=2, unk='<UNK>', data_dir='./data/')
preprocess.build(CORPUS, max_vocab=20000)
preprocess.convert(CORPUS)
print(preprocess.idx2word)
print(pickle.loads(FILES['./data/train.dat'])[:3])


# ---------------------------------------------------------------- model.py
class Bundler(nn.Module):

    def forward(self, data):
        raise NotImplementedError

    def forward_i(self, data):
        raise NotImplementedError

    def forward_o(self, data):
        raise NotImplementedError


class Word2Vec(Bundler):

    def __init__(self, vocab_size=20000, embedding_size=300, padding_idx=0):
        super(Word2Vec, self).__init__()
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.ivectors = nn.Embedding(self.vocab_size, self.embedding_size, padding_idx=padding_idx)
        self.ovectors = nn.Embedding(self.vocab_size, self.embedding_size, padding_idx=padding_idx)
        self.ivectors.weight = nn.Parameter(t.cat([t.zeros(1, self.embedding_size), FT(self.vocab_size - 1, self.embedding_size).uniform_(-0.5 / self.embedding_size, 0.5 / self.embedding_size)]))
        self.ovectors.weight = nn.Parameter(t.cat([t.zeros(1, self.embedding_size), FT(self.vocab_size - 1, self.embedding_size).uniform_(-0.5 / self.embedding_size, 0.5 / self.embedding_size)]))
        self.ivectors.weight.requires_grad = True
        self.ovectors.weight.requires_grad = True

    def forward(self, data):
        return self.forward_i(data)

    def forward_i(self, data):
        v = LT(data)
        v = v.cuda() if self.ivectors.weight.is_cuda else v
        return self.ivectors(v)

    def forward_o(self, data):
        v = LT(data)
        v = v.cuda() if self.ovectors.weight.is_cuda else v
        return self.ovectors(v)


class SGNS(nn.Module):

    def __init__(self, embedding, vocab_size=20000, n_negs=20, weights=None):
        super(SGNS, self).__init__()
        self.embedding = embedding
        self.vocab_size = vocab_size
        self.n_negs = n_negs
        self.weights = None
        if weights is not None:
            wf = np.power(weights, 0.75)
            wf = wf / wf.sum()
            self.weights = FT(wf)

    def forward(self, iword, owords):
        batch_size = iword.size()[0]
        context_size = owords.size()[1]
        if self.weights is not None:
            nwords = t.multinomial(self.weights, batch_size * context_size * self.n_negs, replacement=True).view(batch_size, -1)
        else:
            nwords = FT(batch_size, context_size * self.n_negs).uniform_(0, self.vocab_size - 1).long()
        ivectors = self.embedding.forward_i(iword).unsqueeze(2)
        ovectors = self.embedding.forward_o(owords)
        nvectors = self.embedding.forward_o(nwords).neg()
        oloss = t.bmm(ovectors, ivectors).squeeze().sigmoid().log().mean(1)
        nloss = t.bmm(nvectors, ivectors).squeeze().sigmoid().log().view(-1, context_size, self.n_negs).sum(2).mean(1)
        return -(oloss + nloss).mean()


# ---------------------------------------------------------------- train.py
def parse_args(argv):
    parser = argparse.ArgumentParser()
    parser.add_argument('--name', type=str, default='sgns', help="model name")
    parser.add_argument('--data_dir', type=str, default='./data/', help="data directory path")
    parser.add_argument('--save_dir', type=str, default='./pts/', help="model directory path")
    parser.add_argument('--e_dim', type=int, default=300, help="embedding dimension")
    parser.add_argument('--n_negs', type=int, default=20, help="number of negative samples")
    parser.add_argument('--epoch', type=int, default=100, help="number of epochs")
    parser.add_argument('--mb', type=int, default=4096, help="mini-batch size")
    parser.add_argument('--ss_t', type=float, default=1e-5, help="subsample threshold")
    parser.add_argument('--conti', action='store_true', help="continue learning")
    parser.add_argument('--weights', action='store_true', help="use weights for negative sampling")
    parser.add_argument('--cuda', action='store_true', help="use CUDA")
    return parser.parse_args(argv)


class PermutedSubsampledCorpus(Dataset):

    def __init__(self, datapath, ws=None):
        data = pickle.loads(FILES[datapath])
        if ws is not None:
            self.data = []
            for iword, owords in data:
                if random.random() > ws[iword]:
                    self.data.append((iword, owords))
        else:
            self.data = data

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        iword, owords = self.data[idx]
        return iword, np.array(owords)


def train(args):
    idx2word = pickle.loads(FILES[os.path.join(args.data_dir, 'idx2word.dat')])
    wc = pickle.loads(FILES[os.path.join(args.data_dir, 'wc.dat')])
    wf = np.array([wc[word] for word in idx2word])
    wf = wf / wf.sum()
    ws = 1 - np.sqrt(args.ss_t / wf)
    ws = np.clip(ws, 0, 1)
    vocab_size = len(idx2word)
    weights = wf if args.weights else None
    model = Word2Vec(vocab_size=vocab_size, embedding_size=args.e_dim)
    modelpath = os.path.join(args.save_dir, '{}.pt'.format(args.name))
    sgns = SGNS(embedding=model, vocab_size=vocab_size, n_negs=args.n_negs, weights=weights)
    if modelpath in FILES and args.conti:
        sgns.load_state_dict(t.load(io.BytesIO(FILES[modelpath])))
    if args.cuda:
        sgns = sgns.cuda()
    optim = Adam(sgns.parameters())
    optimpath = os.path.join(args.save_dir, '{}.optim.pt'.format(args.name))
    if optimpath in FILES and args.conti:
        optim.load_state_dict(t.load(io.BytesIO(FILES[optimpath])))
    for epoch in range(1, args.epoch + 1):
        dataset = PermutedSubsampledCorpus(os.path.join(args.data_dir, 'train.dat'))
        dataloader = DataLoader(dataset, batch_size=args.mb, shuffle=True)
        total_batches = int(np.ceil(len(dataset) / args.mb))
        pbar = tqdm(dataloader)
        pbar.set_description("[Epoch {}]".format(epoch))
        for iword, owords in pbar:
            loss = sgns(iword, owords)
            optim.zero_grad()
            loss.backward()
            if epoch == 1 and total_batches:  # added: the dense gradient of the first step
                print(iword, owords[:2], model.ivectors.weight.grad[:4])
                total_batches = 0
            optim.step()
            pbar.set_postfix(loss=loss.item())
            print("[Epoch {}]".format(epoch), "loss={:.6f}".format(loss.item()))
    idx2vec = model.ivectors.weight.data.cpu().numpy()
    FILES[os.path.join(args.data_dir, 'idx2vec.dat')] = pickle.dumps(idx2vec)
    print(np.round(pickle.loads(FILES['./data/idx2vec.dat'])[:3], 4))
    buffer = io.BytesIO()
    t.save(sgns.state_dict(), buffer)
    FILES[os.path.join(args.save_dir, '{}.pt'.format(args.name))] = buffer.getvalue()
    buffer = io.BytesIO()
    t.save(optim.state_dict(), buffer)
    FILES[os.path.join(args.save_dir, '{}.optim.pt'.format(args.name))] = buffer.getvalue()
    print(list(t.load(io.BytesIO(FILES['./pts/sgns.pt']))), t.load(io.BytesIO(FILES['./pts/sgns.optim.pt']))['param_groups'])


train(parse_args(['--e_dim', '10', '--n_negs', '5', '--epoch', '2', '--mb', '16', '--ss_t', '1e-2']))
train(parse_args(['--e_dim', '10', '--n_negs', '5', '--epoch', '2', '--mb', '16', '--ss_t', '1e-2', '--weights', '--conti']))
