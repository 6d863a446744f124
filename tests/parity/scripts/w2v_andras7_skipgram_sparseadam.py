# Source: Andras Jozsef (Andras7), "word2vec-pytorch": a skip-gram word2vec with negative sampling
#   https://github.com/Andras7/word2vec-pytorch  word2vec/data_reader.py (DataReader with its NumPy
#   negative-sampling table and subsampling discards, Word2vecDataset with its collate),
#   word2vec/model.py (SkipGramModel: two nn.Embedding(sparse=True), init.uniform_/init.constant_,
#   clamp, F.logsigmoid, torch.bmm) and word2vec/trainer.py (Word2VecTrainer: a DataLoader with
#   collate_fn, optim.SparseAdam and lr_scheduler.CosineAnnealingLR made anew each iteration), in order.
# Shrunk: the input file is a made-up corpus of 16 sentences held in io.StringIO (read_words and the
# dataset read it as they read the file: line by line, readline and seek(0, 0)); min_count 1 instead
# of 12; NEGATIVE_TABLE_SIZE 1e4 instead of 1e8; the subsampling threshold t 0.02 instead of 0.0001
# (which would discard nearly every word of so short a corpus); emb_dimension 8 instead of 100,
# batch_size 2 instead of 32, window_size 3 instead of 5, 2 iterations instead of 3; the running loss
# printed every 2 batches instead of every 500; save_embedding writes to an io.StringIO whose first
# lines are printed instead of the file out.vec. Added prints: the sparse COO gradient of the first batch
# (u_embeddings.weight.grad coalesced, v_embeddings.weight.grad's indices and row sums
# as it comes and coalesced, and as a dense tensor), the learning rate, the vocabulary.
import io

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn import init
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset
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
the man buys a horse at the market
the king gives the prince a horse
the queen gives the princess a cat
a woman and a man live near the castle
"""

# ---------------------------------------------------------------- word2vec/data_reader.py
np.random.seed(12345)


class DataReader:
    NEGATIVE_TABLE_SIZE = 1e4

    def __init__(self, inputFileName, min_count):

        self.negatives = []
        self.discards = []
        self.negpos = 0

        self.word2id = dict()
        self.id2word = dict()
        self.sentences_count = 0
        self.token_count = 0
        self.word_frequency = dict()

        self.inputFileName = inputFileName
        self.read_words(min_count)
        self.initTableNegatives()
        self.initTableDiscards()

    def read_words(self, min_count):
        word_frequency = dict()
        for line in io.StringIO(self.inputFileName):
            line = line.split()
            if len(line) > 1:
                self.sentences_count += 1
                for word in line:
                    if len(word) > 0:
                        self.token_count += 1
                        word_frequency[word] = word_frequency.get(word, 0) + 1

                        if self.token_count % 1000000 == 0:
                            print("Read " + str(int(self.token_count / 1000000)) + "M words.")

        wid = 0
        for w, c in word_frequency.items():
            if c < min_count:
                continue
            self.word2id[w] = wid
            self.id2word[wid] = w
            self.word_frequency[wid] = c
            wid += 1
        print("Total embeddings: " + str(len(self.word2id)))

    def initTableDiscards(self):
        t = 0.02
        f = np.array(list(self.word_frequency.values())) / self.token_count
        self.discards = np.sqrt(t / f) + (t / f)

    def initTableNegatives(self):
        pow_frequency = np.array(list(self.word_frequency.values())) ** 0.5
        words_pow = sum(pow_frequency)
        ratio = pow_frequency / words_pow
        count = np.round(ratio * DataReader.NEGATIVE_TABLE_SIZE)
        for wid, c in enumerate(count):
            self.negatives += [wid] * int(c)
        self.negatives = np.array(self.negatives)
        np.random.shuffle(self.negatives)

    def getNegatives(self, target, size):  # TODO check equality with target
        response = self.negatives[self.negpos:self.negpos + size]
        self.negpos = (self.negpos + size) % len(self.negatives)
        if len(response) != size:
            return np.concatenate((response, self.negatives[0:self.negpos]))
        return response


# -----------------------------------------------------------------------------------------------------------------

class Word2vecDataset(Dataset):
    def __init__(self, data, window_size):
        self.data = data
        self.window_size = window_size
        self.input_file = io.StringIO(data.inputFileName)

    def __len__(self):
        return self.data.sentences_count

    def __getitem__(self, idx):
        while True:
            line = self.input_file.readline()
            if not line:
                self.input_file.seek(0, 0)
                line = self.input_file.readline()

            if len(line) > 1:
                words = line.split()

                if len(words) > 1:
                    word_ids = [self.data.word2id[w] for w in words if
                                w in self.data.word2id and np.random.rand() < self.data.discards[self.data.word2id[w]]]

                    boundary = np.random.randint(1, self.window_size)
                    return [(u, v, self.data.getNegatives(v, 5)) for i, u in enumerate(word_ids) for j, v in
                            enumerate(word_ids[max(i - boundary, 0):i + boundary]) if u != v]

    @staticmethod
    def collate(batches):
        all_u = [u for batch in batches for u, _, _ in batch if len(batch) > 0]
        all_v = [v for batch in batches for _, v, _ in batch if len(batch) > 0]
        all_neg_v = [neg_v for batch in batches for _, _, neg_v in batch if len(batch) > 0]

        return torch.LongTensor(all_u), torch.LongTensor(all_v), torch.LongTensor(all_neg_v)


# ---------------------------------------------------------------- word2vec/model.py
"""
    u_embedding: Embedding for center word.
    v_embedding: Embedding for neighbor words.
"""


class SkipGramModel(nn.Module):

    def __init__(self, emb_size, emb_dimension):
        super(SkipGramModel, self).__init__()
        self.emb_size = emb_size
        self.emb_dimension = emb_dimension
        self.u_embeddings = nn.Embedding(emb_size, emb_dimension, sparse=True)
        self.v_embeddings = nn.Embedding(emb_size, emb_dimension, sparse=True)

        initrange = 1.0 / self.emb_dimension
        init.uniform_(self.u_embeddings.weight.data, -initrange, initrange)
        init.constant_(self.v_embeddings.weight.data, 0)

    def forward(self, pos_u, pos_v, neg_v):
        emb_u = self.u_embeddings(pos_u)
        emb_v = self.v_embeddings(pos_v)
        emb_neg_v = self.v_embeddings(neg_v)

        score = torch.sum(torch.mul(emb_u, emb_v), dim=1)
        score = torch.clamp(score, max=10, min=-10)
        score = -F.logsigmoid(score)

        neg_score = torch.bmm(emb_neg_v, emb_u.unsqueeze(2)).squeeze()
        neg_score = torch.clamp(neg_score, max=10, min=-10)
        neg_score = -torch.sum(F.logsigmoid(-neg_score), dim=1)

        return torch.mean(score + neg_score)

    def save_embedding(self, id2word, file_name):
        embedding = self.u_embeddings.weight.cpu().data.numpy()
        f = io.StringIO()  # instead of: with open(file_name, 'w') as f:
        f.write('%d %d\n' % (len(id2word), self.emb_dimension))
        for wid, w in id2word.items():
            e = ' '.join(map(lambda x: str(x), embedding[wid]))
            f.write('%s %s\n' % (w, e))
        print('\n'.join(f.getvalue().splitlines()[:4]))


# ---------------------------------------------------------------- word2vec/trainer.py
class Word2VecTrainer:
    def __init__(self, input_file, output_file, emb_dimension=100, batch_size=32, window_size=5, iterations=3,
                 initial_lr=0.001, min_count=12):

        self.data = DataReader(input_file, min_count)
        dataset = Word2vecDataset(self.data, window_size)
        self.dataloader = DataLoader(dataset, batch_size=batch_size,
                                     shuffle=False, num_workers=0, collate_fn=dataset.collate)

        self.output_file_name = output_file
        self.emb_size = len(self.data.word2id)
        self.emb_dimension = emb_dimension
        self.batch_size = batch_size
        self.iterations = iterations
        self.initial_lr = initial_lr
        self.skip_gram_model = SkipGramModel(self.emb_size, self.emb_dimension)

        self.use_cuda = torch.cuda.is_available()
        self.device = torch.device("cuda" if self.use_cuda else "cpu")
        if self.use_cuda:
            self.skip_gram_model.cuda()

    def train(self):

        for iteration in range(self.iterations):

            print("\n\n\nIteration: " + str(iteration + 1))
            optimizer = optim.SparseAdam(self.skip_gram_model.parameters(), lr=self.initial_lr)
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, len(self.dataloader))

            running_loss = 0.0
            for i, sample_batched in enumerate(tqdm(self.dataloader)):

                if len(sample_batched[0]) > 1:
                    pos_u = sample_batched[0].to(self.device)
                    pos_v = sample_batched[1].to(self.device)
                    neg_v = sample_batched[2].to(self.device)

                    scheduler.step()
                    optimizer.zero_grad()
                    loss = self.skip_gram_model.forward(pos_u, pos_v, neg_v)
                    loss.backward()
                    if iteration == 0 and i == 0:  # added: the sparse gradients of the first batch
                        print(pos_u, pos_v, neg_v.shape)
                        grad = self.skip_gram_model.u_embeddings.weight.grad
                        print(grad.is_sparse, grad.layout, grad._nnz())
                        print(grad.coalesce())
                        grad = self.skip_gram_model.v_embeddings.weight.grad
                        print(grad._indices(), grad._values().sum(1))
                        print(grad.coalesce().indices(), grad.to_dense().sum(1))
                    optimizer.step()

                    running_loss = running_loss * 0.9 + loss.item() * 0.1
                    if i > 0 and i % 2 == 0:
                        print(" Loss: " + str(running_loss), scheduler.get_last_lr())

            self.skip_gram_model.save_embedding(self.data.id2word, self.output_file_name)


w2v = Word2VecTrainer(input_file=CORPUS, output_file="out.vec", emb_dimension=8, batch_size=2,
                      window_size=3, iterations=2, min_count=1)
print(w2v.data.word2id)
print(len(w2v.data.negatives), w2v.data.negatives[:10], np.round(w2v.data.discards, 3))
w2v.train()
