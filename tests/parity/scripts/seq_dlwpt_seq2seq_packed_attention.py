# Source: Ben Trevett, pytorch-seq2seq, "4 - Packed Padded Sequences, Masking, Inference and BLEU":
# the bidirectional GRU encoder over nn.utils.rnn.pack_padded_sequence/pad_packed_sequence, additive
# attention with masked_fill over the pad positions, the attention decoder (bmm, cat, teacher forcing
# with random.random()), init_weights by named_parameters (normal_/constant_ through model.apply),
# CrossEntropyLoss(ignore_index), clip_grad_norm_, save/load of the best state_dict,
# translate_sentence with the attention it returns, and torchtext's bleu_score.
#   https://github.com/bentrevett/pytorch-seq2seq  legacy/4 - Packed Padded Sequences, Masking, Inference and BLEU.ipynb
#   (bleu_score and ngrams_iterator copied from https://github.com/pytorch/text  torchtext/data/{metrics,utils}.py)
# Shrunk: no torchtext/spacy/Multi30k: 64/16/16 synthetic German-English pairs (a word-for-word
# dictionary, 2-6 words, drawn with torch.randint), split on spaces; minimal stand-ins for Field
# (vocab with min_freq, <sos>/<eos>, padding, include_lengths) and BucketIterator (shuffled
# batches sorted within the batch by source length); 16 embedding / 16 hidden units instead of
# 256/512, batches of 16, 4 epochs; the epoch times left out of the report; the attention plots print
# the attention matrices instead.
import collections
import math
import os
import random
import tempfile

import torch
import torch.nn as nn
import torch.optim as optim
import torch.nn.functional as F

import numpy as np

SEED = 1234

random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.cuda.manual_seed(SEED)
torch.backends.cudnn.deterministic = True

# ----------------------------------------------------------------- stand-ins for spacy, torchtext
german = ['ein', 'eine', 'mann', 'frau', 'hund', 'katze', 'spielt', 'läuft', 'im', 'park', 'mit', 'ball',
          'rot', 'groß', 'klein', 'schläft']
english = {'ein': 'a', 'eine': 'a', 'mann': 'man', 'frau': 'woman', 'hund': 'dog', 'katze': 'cat', 'spielt': 'plays',
           'läuft': 'runs', 'im': 'in', 'park': 'park', 'mit': 'with', 'ball': 'ball', 'rot': 'red', 'groß': 'big',
           'klein': 'small', 'schläft': 'sleeps'}


def synthetic_pairs(n):
    words = torch.randint(0, len(german), (n, 6)).tolist()
    lengths = torch.randint(2, 7, (n,)).tolist()
    return [(' '.join(german[w] for w in row[:k]), ' '.join(english[german[w]] for w in row[:k]))
            for row, k in zip(words, lengths)]


def tokenize_de(text):
    """
    Tokenizes German text from a string into a list of strings
    """
    return text.split(' ')


def tokenize_en(text):
    """
    Tokenizes English text from a string into a list of strings
    """
    return text.split(' ')


class Vocab:
    def __init__(self, counter, specials, min_freq):
        self.itos = list(specials)
        words_and_frequencies = sorted(counter.items(), key=lambda tup: tup[0])
        words_and_frequencies.sort(key=lambda tup: tup[1], reverse=True)
        self.itos += [word for word, freq in words_and_frequencies if freq >= min_freq and word not in specials]
        self.stoi = collections.defaultdict(int, {word: i for i, word in enumerate(self.itos)})

    def __len__(self):
        return len(self.itos)


class Field:
    def __init__(self, tokenize, init_token, eos_token, lower, include_lengths=False, batch_first=False):
        self.tokenize, self.init_token, self.eos_token = tokenize, init_token, eos_token
        self.lower, self.include_lengths, self.batch_first = lower, include_lengths, batch_first
        self.unk_token, self.pad_token = '<unk>', '<pad>'

    def preprocess(self, text):
        return [token.lower() if self.lower else token for token in self.tokenize(text)]

    def build_vocab(self, data, min_freq):
        name = 'src' if self is data.fields[0] else 'trg'
        counter = collections.Counter(token for example in data.examples for token in getattr(example, name))
        self.vocab = Vocab(counter, [self.unk_token, self.pad_token, self.init_token, self.eos_token], min_freq)

    def process(self, batch):
        max_len = max(len(x) for x in batch)
        padded = [[self.init_token] + list(x) + [self.eos_token] + [self.pad_token] * (max_len - len(x)) for x in batch]
        lengths = [len(x) + 2 for x in batch]
        tensor = torch.tensor([[self.vocab.stoi[token] for token in x] for x in padded])
        if not self.batch_first:
            tensor = tensor.t().contiguous()
        return (tensor, torch.tensor(lengths)) if self.include_lengths else tensor


class Example:
    def __init__(self, src, trg):
        self.src, self.trg = src, trg


class TranslationDataset:
    def __init__(self, pairs, fields):
        self.fields = fields
        self.examples = [Example(fields[0].preprocess(de), fields[1].preprocess(en)) for de, en in pairs]

    def __len__(self):
        return len(self.examples)

    def __iter__(self):
        return iter(self.examples)


class Batch:
    def __init__(self, examples, fields):
        self.src = fields[0].process([example.src for example in examples])
        self.trg = fields[1].process([example.trg for example in examples])


class BucketIterator:
    def __init__(self, dataset, batch_size, shuffle, sort_within_batch=False, sort_key=None):
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.sort_within_batch, self.sort_key = sort_within_batch, sort_key

    @classmethod
    def splits(cls, datasets, batch_size, device=None, sort_within_batch=False, sort_key=None):
        return tuple(cls(dataset, batch_size, i == 0, sort_within_batch, sort_key) for i, dataset in enumerate(datasets))

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        examples = list(self.dataset.examples)
        if self.shuffle:
            random.shuffle(examples)
        for start in range(0, len(examples), self.batch_size):
            batch = examples[start:start + self.batch_size]
            if self.sort_within_batch:
                batch = sorted(batch, key=self.sort_key, reverse=True)
            yield Batch(batch, self.dataset.fields)


class Multi30k:
    @staticmethod
    def splits(exts, fields):
        return tuple(TranslationDataset(synthetic_pairs(n), fields) for n in (64, 16, 16))


def ngrams_iterator(token_list, ngrams):
    """Return an iterator that yields the given tokens and their ngrams."""

    def _get_ngrams(n):
        return zip(*[token_list[i:] for i in range(n)])

    for x in token_list:
        yield x
    for n in range(2, ngrams + 1):
        for x in _get_ngrams(n):
            yield ' '.join(x)


def _compute_ngram_counter(tokens, max_n):
    assert max_n > 0
    ngrams_counter = collections.Counter(tuple(x.split(' '))
                                         for x in ngrams_iterator(tokens, max_n))

    return ngrams_counter


def bleu_score(candidate_corpus, references_corpus, max_n=4, weights=[0.25] * 4):
    assert max_n == len(weights), 'Length of the "weights" list has be equal to max_n'
    assert len(candidate_corpus) == len(references_corpus),\
        'The length of candidate and reference corpus should be the same'

    clipped_counts = torch.zeros(max_n)
    total_counts = torch.zeros(max_n)
    weights = torch.tensor(weights)

    candidate_len = 0.0
    refs_len = 0.0

    for (candidate, refs) in zip(candidate_corpus, references_corpus):
        candidate_len += len(candidate)

        # Get the length of the reference that's closest in length to the candidate
        refs_len_list = [float(len(ref)) for ref in refs]
        refs_len += min(refs_len_list, key=lambda x: abs(len(candidate) - x))

        reference_counters = _compute_ngram_counter(refs[0], max_n)
        for ref in refs[1:]:
            reference_counters = reference_counters | _compute_ngram_counter(ref, max_n)

        candidate_counter = _compute_ngram_counter(candidate, max_n)

        clipped_counter = candidate_counter & reference_counters

        for ngram in clipped_counter:
            clipped_counts[len(ngram) - 1] += clipped_counter[ngram]

        for ngram in candidate_counter:  # TODO: no need to loop through the whole counter
            total_counts[len(ngram) - 1] += candidate_counter[ngram]

    if min(clipped_counts) == 0:
        return 0.0
    else:
        pn = clipped_counts / total_counts
        log_pn = weights * torch.log(pn)
        score = torch.exp(sum(log_pn))

        bp = math.exp(min(1 - refs_len / candidate_len, 0))

        return bp * score.item()


torchtext_bleu_score = bleu_score  # what `from torchtext.data.metrics import bleu_score` gives again


# ----------------------------------------------------------------- the notebook
SRC = Field(tokenize = tokenize_de,
            init_token = '<sos>',
            eos_token = '<eos>',
            lower = True,
            include_lengths = True)

TRG = Field(tokenize = tokenize_en,
            init_token = '<sos>',
            eos_token = '<eos>',
            lower = True)

train_data, valid_data, test_data = Multi30k.splits(exts = ('.de', '.en'),
                                                    fields = (SRC, TRG))

SRC.build_vocab(train_data, min_freq = 2)
TRG.build_vocab(train_data, min_freq = 2)
print(len(SRC.vocab), len(TRG.vocab), TRG.vocab.itos[:8])

BATCH_SIZE = 16

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

train_iterator, valid_iterator, test_iterator = BucketIterator.splits(
    (train_data, valid_data, test_data),
     batch_size = BATCH_SIZE,
     sort_within_batch = True,
     sort_key = lambda x : len(x.src),
     device = device)


class Encoder(nn.Module):
    def __init__(self, input_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout):
        super().__init__()

        self.embedding = nn.Embedding(input_dim, emb_dim)

        self.rnn = nn.GRU(emb_dim, enc_hid_dim, bidirectional = True)

        self.fc = nn.Linear(enc_hid_dim * 2, dec_hid_dim)

        self.dropout = nn.Dropout(dropout)

    def forward(self, src, src_len):

        #src = [src len, batch size]
        #src_len = [batch size]

        embedded = self.dropout(self.embedding(src))

        #embedded = [src len, batch size, emb dim]

        #need to explicitly put lengths on cpu!
        packed_embedded = nn.utils.rnn.pack_padded_sequence(embedded, src_len.to('cpu'))

        packed_outputs, hidden = self.rnn(packed_embedded)

        #packed_outputs is a packed sequence containing all hidden states
        #hidden is now from the final non-padded element in the batch

        outputs, _ = nn.utils.rnn.pad_packed_sequence(packed_outputs)

        #outputs is now a non-packed sequence, all hidden states obtained
        #  when the input is a pad token are all zeros

        #outputs = [src len, batch size, hid dim * num directions]
        #hidden = [n layers * num directions, batch size, hid dim]

        #hidden is stacked [forward_1, backward_1, forward_2, backward_2, ...]
        #outputs are always from the last layer

        #hidden [-2, :, : ] is the last of the forwards RNN
        #hidden [-1, :, : ] is the last of the backwards RNN

        #initial decoder hidden is final hidden state of the forwards and backwards
        #  encoder RNNs fed through a linear layer
        hidden = torch.tanh(self.fc(torch.cat((hidden[-2,:,:], hidden[-1,:,:]), dim = 1)))

        #outputs = [src len, batch size, enc hid dim * 2]
        #hidden = [batch size, dec hid dim]

        return outputs, hidden


class Attention(nn.Module):
    def __init__(self, enc_hid_dim, dec_hid_dim):
        super().__init__()

        self.attn = nn.Linear((enc_hid_dim * 2) + dec_hid_dim, dec_hid_dim)
        self.v = nn.Linear(dec_hid_dim, 1, bias = False)

    def forward(self, hidden, encoder_outputs, mask):

        #hidden = [batch size, dec hid dim]
        #encoder_outputs = [src len, batch size, enc hid dim * 2]

        batch_size = encoder_outputs.shape[1]
        src_len = encoder_outputs.shape[0]

        #repeat decoder hidden state src_len times
        hidden = hidden.unsqueeze(1).repeat(1, src_len, 1)

        encoder_outputs = encoder_outputs.permute(1, 0, 2)

        #hidden = [batch size, src len, dec hid dim]
        #encoder_outputs = [batch size, src len, enc hid dim * 2]

        energy = torch.tanh(self.attn(torch.cat((hidden, encoder_outputs), dim = 2)))

        #energy = [batch size, src len, dec hid dim]

        attention = self.v(energy).squeeze(2)

        #attention = [batch size, src len]

        attention = attention.masked_fill(mask == 0, -1e10)

        return F.softmax(attention, dim = 1)


class Decoder(nn.Module):
    def __init__(self, output_dim, emb_dim, enc_hid_dim, dec_hid_dim, dropout, attention):
        super().__init__()

        self.output_dim = output_dim
        self.attention = attention

        self.embedding = nn.Embedding(output_dim, emb_dim)

        self.rnn = nn.GRU((enc_hid_dim * 2) + emb_dim, dec_hid_dim)

        self.fc_out = nn.Linear((enc_hid_dim * 2) + dec_hid_dim + emb_dim, output_dim)

        self.dropout = nn.Dropout(dropout)

    def forward(self, input, hidden, encoder_outputs, mask):

        #input = [batch size]
        #hidden = [batch size, dec hid dim]
        #encoder_outputs = [src len, batch size, enc hid dim * 2]
        #mask = [batch size, src len]

        input = input.unsqueeze(0)

        #input = [1, batch size]

        embedded = self.dropout(self.embedding(input))

        #embedded = [1, batch size, emb dim]

        a = self.attention(hidden, encoder_outputs, mask)

        #a = [batch size, src len]

        a = a.unsqueeze(1)

        #a = [batch size, 1, src len]

        encoder_outputs = encoder_outputs.permute(1, 0, 2)

        #encoder_outputs = [batch size, src len, enc hid dim * 2]

        weighted = torch.bmm(a, encoder_outputs)

        #weighted = [batch size, 1, enc hid dim * 2]

        weighted = weighted.permute(1, 0, 2)

        #weighted = [1, batch size, enc hid dim * 2]

        rnn_input = torch.cat((embedded, weighted), dim = 2)

        #rnn_input = [1, batch size, (enc hid dim * 2) + emb dim]

        output, hidden = self.rnn(rnn_input, hidden.unsqueeze(0))

        #output = [seq len, batch size, dec hid dim * n directions]
        #hidden = [n layers * n directions, batch size, dec hid dim]

        #seq len, n layers and n directions will always be 1 in this decoder, therefore:
        #output = [1, batch size, dec hid dim]
        #hidden = [1, batch size, dec hid dim]
        #this also means that output == hidden
        assert (output == hidden).all()

        embedded = embedded.squeeze(0)
        output = output.squeeze(0)
        weighted = weighted.squeeze(0)

        prediction = self.fc_out(torch.cat((output, weighted, embedded), dim = 1))

        #prediction = [batch size, output dim]

        return prediction, hidden.squeeze(0), a.squeeze(1)


class Seq2Seq(nn.Module):
    def __init__(self, encoder, decoder, src_pad_idx, device):
        super().__init__()

        self.encoder = encoder
        self.decoder = decoder
        self.src_pad_idx = src_pad_idx
        self.device = device

    def create_mask(self, src):
        mask = (src != self.src_pad_idx).permute(1, 0)
        return mask

    def forward(self, src, src_len, trg, teacher_forcing_ratio = 0.5):

        #src = [src len, batch size]
        #src_len = [batch size]
        #trg = [trg len, batch size]
        #teacher_forcing_ratio is probability to use teacher forcing
        #e.g. if teacher_forcing_ratio is 0.75 we use teacher forcing 75% of the time

        batch_size = src.shape[1]
        trg_len = trg.shape[0]
        trg_vocab_size = self.decoder.output_dim

        #tensor to store decoder outputs
        outputs = torch.zeros(trg_len, batch_size, trg_vocab_size).to(self.device)

        #encoder_outputs is all hidden states of the input sequence, back and forwards
        #hidden is the final forward and backward hidden states, passed through a linear layer
        encoder_outputs, hidden = self.encoder(src, src_len)

        #first input to the decoder is the <sos> tokens
        input = trg[0,:]

        mask = self.create_mask(src)

        #mask = [batch size, src len]

        for t in range(1, trg_len):

            #insert input token embedding, previous hidden state, all encoder hidden states
            #  and mask
            #receive output tensor (predictions) and new hidden state
            output, hidden, _ = self.decoder(input, hidden, encoder_outputs, mask)

            #place predictions in a tensor holding predictions for each token
            outputs[t] = output

            #decide if we are going to use teacher forcing or not
            teacher_force = random.random() < teacher_forcing_ratio

            #get the highest predicted token from our predictions
            top1 = output.argmax(1)

            #if teacher forcing, use actual next token as next input
            #if not, use predicted token
            input = trg[t] if teacher_force else top1

        return outputs


INPUT_DIM = len(SRC.vocab)
OUTPUT_DIM = len(TRG.vocab)
ENC_EMB_DIM = 16
DEC_EMB_DIM = 16
ENC_HID_DIM = 16
DEC_HID_DIM = 16
ENC_DROPOUT = 0.5
DEC_DROPOUT = 0.5
SRC_PAD_IDX = SRC.vocab.stoi[SRC.pad_token]

attn = Attention(ENC_HID_DIM, DEC_HID_DIM)
enc = Encoder(INPUT_DIM, ENC_EMB_DIM, ENC_HID_DIM, DEC_HID_DIM, ENC_DROPOUT)
dec = Decoder(OUTPUT_DIM, DEC_EMB_DIM, ENC_HID_DIM, DEC_HID_DIM, DEC_DROPOUT, attn)

model = Seq2Seq(enc, dec, SRC_PAD_IDX, device).to(device)


def init_weights(m):
    for name, param in m.named_parameters():
        if 'weight' in name:
            nn.init.normal_(param.data, mean=0, std=0.01)
        else:
            nn.init.constant_(param.data, 0)


print(model.apply(init_weights))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


print(f'The model has {count_parameters(model):,} trainable parameters')

optimizer = optim.Adam(model.parameters())

TRG_PAD_IDX = TRG.vocab.stoi[TRG.pad_token]

criterion = nn.CrossEntropyLoss(ignore_index = TRG_PAD_IDX)


def train(model, iterator, optimizer, criterion, clip):

    model.train()

    epoch_loss = 0

    for i, batch in enumerate(iterator):

        src, src_len = batch.src
        trg = batch.trg

        optimizer.zero_grad()

        output = model(src, src_len, trg)

        #trg = [trg len, batch size]
        #output = [trg len, batch size, output dim]

        output_dim = output.shape[-1]

        output = output[1:].view(-1, output_dim)
        trg = trg[1:].view(-1)

        #trg = [(trg len - 1) * batch size]
        #output = [(trg len - 1) * batch size, output dim]

        loss = criterion(output, trg)

        loss.backward()

        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)

        optimizer.step()

        epoch_loss += loss.item()

    return epoch_loss / len(iterator)


def evaluate(model, iterator, criterion):

    model.eval()

    epoch_loss = 0

    with torch.no_grad():

        for i, batch in enumerate(iterator):

            src, src_len = batch.src
            trg = batch.trg

            output = model(src, src_len, trg, 0) #turn off teacher forcing

            #trg = [trg len, batch size]
            #output = [trg len, batch size, output dim]

            output_dim = output.shape[-1]

            output = output[1:].view(-1, output_dim)
            trg = trg[1:].view(-1)

            #trg = [(trg len - 1) * batch size]
            #output = [(trg len - 1) * batch size, output dim]

            loss = criterion(output, trg)

            epoch_loss += loss.item()

    return epoch_loss / len(iterator)


N_EPOCHS = 4
CLIP = 1

best_valid_loss = float('inf')
model_path = os.path.join(tempfile.mkdtemp(), 'tut4-model.pt')

for epoch in range(N_EPOCHS):

    train_loss = train(model, train_iterator, optimizer, criterion, CLIP)
    valid_loss = evaluate(model, valid_iterator, criterion)

    if valid_loss < best_valid_loss:
        best_valid_loss = valid_loss
        torch.save(model.state_dict(), model_path)

    print(f'Epoch: {epoch+1:02}')
    print(f'\tTrain Loss: {train_loss:.3f} | Train PPL: {math.exp(train_loss):7.3f}')
    print(f'\t Val. Loss: {valid_loss:.3f} |  Val. PPL: {math.exp(valid_loss):7.3f}')

model.load_state_dict(torch.load(model_path))

test_loss = evaluate(model, test_iterator, criterion)

print(f'| Test Loss: {test_loss:.3f} | Test PPL: {math.exp(test_loss):7.3f} |')


def translate_sentence(sentence, src_field, trg_field, model, device, max_len = 50):

    model.eval()

    if isinstance(sentence, str):
        tokens = [token.lower() for token in tokenize_de(sentence)]
    else:
        tokens = [token.lower() for token in sentence]

    tokens = [src_field.init_token] + tokens + [src_field.eos_token]

    src_indexes = [src_field.vocab.stoi[token] for token in tokens]

    src_tensor = torch.LongTensor(src_indexes).unsqueeze(1).to(device)

    src_len = torch.LongTensor([len(src_indexes)])

    with torch.no_grad():
        encoder_outputs, hidden = model.encoder(src_tensor, src_len)

    mask = model.create_mask(src_tensor)

    trg_indexes = [trg_field.vocab.stoi[trg_field.init_token]]

    attentions = torch.zeros(max_len, 1, len(src_indexes)).to(device)

    for i in range(max_len):

        trg_tensor = torch.LongTensor([trg_indexes[-1]]).to(device)

        with torch.no_grad():
            output, hidden, attention = model.decoder(trg_tensor, hidden, encoder_outputs, mask)

        attentions[i] = attention

        pred_token = output.argmax(1).item()

        trg_indexes.append(pred_token)

        if pred_token == trg_field.vocab.stoi[trg_field.eos_token]:
            break

    trg_tokens = [trg_field.vocab.itos[i] for i in trg_indexes]

    return trg_tokens[1:], attentions[:len(trg_tokens)-1]


def display_attention(sentence, translation, attention):

    attention = attention.squeeze(1).cpu().detach().numpy()

    print(np.round(attention, 4))  # what the matshow shows


for example_idx, data in [(12, train_data), (14, valid_data), (8, test_data)]:
    src = vars(data.examples[example_idx])['src']
    trg = vars(data.examples[example_idx])['trg']

    print(f'src = {src}')
    print(f'trg = {trg}')

    translation, attention = translate_sentence(src, SRC, TRG, model, device)

    print(f'predicted trg = {translation}')

    display_attention(src, translation, attention)

print(translate_sentence('Ein Hund spielt im Park', SRC, TRG, model, device, max_len = 8)[0])


def calculate_bleu(data, src_field, trg_field, model, device, max_len = 50):

    trgs = []
    pred_trgs = []

    for datum in data:

        src = vars(datum)['src']
        trg = vars(datum)['trg']

        pred_trg, _ = translate_sentence(src, src_field, trg_field, model, device, max_len)

        #cut off <eos> token
        pred_trg = pred_trg[:-1]

        pred_trgs.append(pred_trg)
        trgs.append([trg])

    return bleu_score(pred_trgs, trgs)


bleu_score = calculate_bleu(test_data, SRC, TRG, model, device)

print(f'BLEU score = {bleu_score*100:.2f}')

# (an extra check: bleu_score's docstring example, which reaches its torch.log/torch.exp branch)
candidate_corpus = [['My', 'full', 'pytorch', 'test'], ['Another', 'Sentence']]
references_corpus = [[['My', 'full', 'pytorch', 'test'], ['Completely', 'Different']], [['No', 'Match']]]
print(torchtext_bleu_score(candidate_corpus, references_corpus))
