# Source: Stanford CS224N (Winter 2019) assignment 5, character-aware NMT: the character CNN with max
# pooling over time, the highway layer, the CNN-based word embeddings and the character-level LSTM
# decoder with its summed, pad-ignoring cross entropy and greedy decoding, as a student completed them
# (cnn.py, highway.py, model_embeddings.py, char_decoder.py, the char parts of vocab.py and utils.py,
# sanity_check.py):
#   https://github.com/1999ADEK/CS224n-2019  a5/
# Shrunk: sanity_check.py's questions 1e (its small test), 1f (the padding printed instead of compared
# with the gold pickle), 1j, 2a, 2b, 2c and 2d run in turn with its own sizes (BATCH_SIZE 5, EMBED_SIZE 3,
# HIDDEN_SIZE 3), the char vocabulary of VocabEntry standing in for the DummyVocab json; the NMT model
# around them (covered by cs231n3_cs224n_a3_nmt.py) is replaced by a short driver of mine that does what
# nmt_model.py does with these modules: the CNN embeddings of a batch of 6 made-up sentences feed
# train_forward as (h.unsqueeze(0), h.unsqueeze(0)) states (as NMT.forward passes its combined outputs),
# 40 Adam steps (lr 0.01) on the sum of these losses, then decode_greedy from those states (as
# NMT.beam_search decodes its <unk> words). Word embeddings of size 16 (256), 50-dim char embeddings.
from typing import List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


# ---------------------------------------------------------------- utils.py
def pad_sents_char(sents, char_pad_token):
    # Words longer than 21 characters should be truncated
    max_word_length = 21

    max_sent_length = 0
    for sent in sents:
        max_sent_length = len(sent) if len(sent) > max_sent_length else max_sent_length

    word_pad = [[char_pad_token] * max_word_length]
    sents_padded = [[w[:max_word_length] + [char_pad_token] * (max_word_length - len(w[:max_word_length])) for w in s]
                                                                     + word_pad * (max_sent_length - len(s)) for s in sents]

    return sents_padded


# ---------------------------------------------------------------- vocab.py (the character part)
class VocabEntry(object):
    def __init__(self, word2id=None):
        if word2id:
            self.word2id = word2id
        else:
            self.word2id = dict()
            self.word2id['<pad>'] = 0   # Pad Token
            self.word2id['<s>'] = 1 # Start Token
            self.word2id['</s>'] = 2    # End Token
            self.word2id['<unk>'] = 3   # Unknown Token
        self.unk_id = self.word2id['<unk>']
        self.id2word = {v: k for k, v in self.word2id.items()}

        ## Additions to the A4 code:
        self.char_list = list("""ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789,;.!?:'\"/\\|_@#$%^&*~`+-=<>()[]""")

        self.char2id = dict() # Converts characters to integers
        self.char2id['<pad>'] = 0
        self.char2id['{'] = 1
        self.char2id['}'] = 2
        self.char2id['<unk>'] = 3
        for i, c in enumerate(self.char_list):
            self.char2id[c] = len(self.char2id)
        self.char_unk = self.char2id['<unk>']
        self.start_of_word = self.char2id["{"]
        self.end_of_word = self.char2id["}"]
        assert self.start_of_word+1 == self.end_of_word

        self.id2char = {v: k for k, v in self.char2id.items()} # Converts integers to characters
        ## End additions to the A4 code

    def words2charindices(self, sents):
        start = self.start_of_word
        end = self.end_of_word
        return [[[start]+[self.char2id[c] for c in w]+[end] for w in s] for s in sents]

    def to_input_tensor_char(self, sents: List[List[str]], device: torch.device) -> torch.Tensor:
        sents = self.words2charindices(sents)
        sents = pad_sents_char(sents, self.char2id['<pad>'])
        return torch.tensor(sents, device=device).transpose(0, 1)


# ---------------------------------------------------------------- cnn.py
class CNN(nn.Module):
    def __init__(self, char_embed_dim, num_filters):
        super(CNN, self).__init__()

        self.conv1D = nn.Conv1d(char_embed_dim, num_filters, kernel_size=5)

    def forward(self, x_reshaped):
        x_conv = self.conv1D(x_reshaped)
        return F.relu(x_conv).max(dim=-1)[0]


# ---------------------------------------------------------------- highway.py
class Highway(nn.Module):
    def __init__(self, word_embed_dim):
        super(Highway, self).__init__()

        self.proj = nn.Linear(word_embed_dim, word_embed_dim)
        self.gate = nn.Linear(word_embed_dim, word_embed_dim)

    def forward(self, x_convout):
        x_proj = F.relu(self.proj(x_convout))
        x_gate = torch.sigmoid(self.gate(x_convout))
        return x_gate * x_proj + (1 - x_gate) * x_convout


# ---------------------------------------------------------------- model_embeddings.py
class ModelEmbeddings(nn.Module):
    """
    Class that converts input words to their CNN-based embeddings.
    """
    def __init__(self, embed_size, vocab):
        super(ModelEmbeddings, self).__init__()

        pad_token_idx = vocab.char2id['<pad>']
        self.embed_size = embed_size
        self.embeddings = nn.Embedding(len(vocab.char2id), 50, padding_idx=pad_token_idx)
        self.conv = CNN(50, embed_size)
        self.highway = Highway(embed_size)
        self.dropout = nn.Dropout(p=0.3)

    def forward(self, input):
        x_emb = self.embeddings(input).transpose(-1, -2)
        sentence_length, batch_size, char_emb_dim,  max_word_length = x_emb.size()
        x_reshaped = x_emb.reshape((sentence_length*batch_size, char_emb_dim,  max_word_length))
        x_convout = self.conv(x_reshaped).reshape((sentence_length, batch_size, -1))
        x_highway = self.highway(x_convout)
        x_word_emb = self.dropout(x_highway)
        return x_word_emb


# ---------------------------------------------------------------- char_decoder.py
class CharDecoder(nn.Module):
    def __init__(self, hidden_size, char_embedding_size=50, target_vocab=None):
        super(CharDecoder, self).__init__()
        self.charDecoder = nn.LSTM(char_embedding_size, hidden_size)
        self.char_output_projection = nn.Linear(hidden_size, len(target_vocab.char2id))
        self.decoderCharEmb = nn.Embedding(len(target_vocab.char2id), char_embedding_size, padding_idx=target_vocab.char2id['<pad>'])
        self.target_vocab = target_vocab

    def forward(self, input, dec_hidden=None):
        x_embed = self.decoderCharEmb(input)
        hid_states, dec_hidden = self.charDecoder(x_embed, dec_hidden)
        scores = self.char_output_projection(hid_states)
        return scores, dec_hidden

    def train_forward(self, char_sequence, dec_hidden=None):
        cross_entropy = nn.CrossEntropyLoss(ignore_index=self.target_vocab.char2id['<pad>'], reduction='sum')
        scores, dec_hidden = self.forward(char_sequence[:-1], dec_hidden)
        return cross_entropy(scores.reshape(-1, scores.size(-1)), char_sequence[1:].reshape(-1))

    def decode_greedy(self, initialStates, device, max_length=21):
        batch_size = initialStates[0].size(1)
        output_word = ['' for i in range(batch_size)]
        output_word_length = [max_length for i in range(batch_size)]
        current_char = torch.tensor([[self.target_vocab.start_of_word for i in range(batch_size)]], device=device)
        dec_hidden = initialStates
        for t in range(max_length):
            scores, dec_hidden = self.forward(current_char, dec_hidden) # (length=1, batch, self.vocab_size)
            probs = nn.functional.softmax(scores, dim=-1)
            current_char = probs.argmax(dim=-1)
            for i in range(batch_size):
                char_idx = current_char[0][i].item()
                char_to_add = self.target_vocab.id2char[char_idx]
                if char_idx ==  self.target_vocab.end_of_word and t < output_word_length[i]:
                    output_word_length[i] = t
                output_word[i] += char_to_add
        return [output_word[i][:output_word_length[i]] for i in range(batch_size)]


# ---------------------------------------------------------------- sanity_check.py
BATCH_SIZE = 5
EMBED_SIZE = 3
HIDDEN_SIZE = 3
DROPOUT_RATE = 0.0


def question_1e_sanity_check():
    print ("-"*80)
    print("Running Sanity Check for Question 1e: words2charindices()")
    print ("-"*80)
    vocab = VocabEntry()

    print('Running test on small list of sentences')
    sentences = [["a", "b", "c?"], ["~d~", "c", "b", "a"]]
    small_ind = vocab.words2charindices(sentences)
    small_ind_gold = [[[1, 30, 2], [1, 31, 2], [1, 32, 70, 2]], [[1, 85, 33, 85, 2], [1, 32, 2], [1, 31, 2], [1, 30, 2]]]
    assert(small_ind == small_ind_gold), \
        "small test resulted in indices list {:}, expected {:}".format(small_ind, small_ind_gold)

    print("All Sanity Checks Passed for Question 1e: words2charindices()!")
    print ("-"*80)

def question_1f_sanity_check():
    print ("-"*80)
    print("Running Sanity Check for Question 1f: Padding")
    print ("-"*80)
    vocab = VocabEntry()

    print("Running test on a list of sentences")
    sentences = [['Human:', 'What', 'do', 'we', 'want?'], ['Computer:', 'Natural', 'language', 'processing!'], ['Human:', 'When', 'do', 'we', 'want', 'it?'], ['Computer:', 'When', 'do', 'we', 'want', 'what?']]
    word_ids = vocab.words2charindices(sentences)

    padded_sentences = pad_sents_char(word_ids, 0)
    print(torch.tensor(padded_sentences).shape, padded_sentences[0][0], padded_sentences[0][-1][:3])

    print("Sanity Check Passed for Question 1f: Padding!")
    print("-"*80)

def question_1j_sanity_check(model_embeddings_source):
	print ("-"*80)
	print("Running Sanity Check for Question 1j: Model Embedding")
	print ("-"*80)
	sentence_length = 10
	max_word_length = 21
	inpt = torch.zeros(sentence_length, BATCH_SIZE, max_word_length, dtype=torch.long)
	ME_source = model_embeddings_source
	output = ME_source.forward(inpt)
	output_expected_size = [sentence_length, BATCH_SIZE, EMBED_SIZE]
	assert(list(output.size()) == output_expected_size), "output shape is incorrect: it should be:\n {} but is:\n{}".format(output_expected_size, list(output.size()))
	print(output[0])
	print("Sanity Check Passed for Question 1j: Model Embedding!")
	print("-"*80)

def question_2a_sanity_check(decoder, char_vocab):
    print ("-"*80)
    print("Running Sanity Check for Question 2a: CharDecoder.__init__()")
    print ("-"*80)
    assert(decoder.charDecoder.input_size == EMBED_SIZE), "Input dimension is incorrect:\n it should be {} but is: {}".format(EMBED_SIZE, decoder.charDecoder.input_size)
    assert(decoder.charDecoder.hidden_size == HIDDEN_SIZE), "Hidden dimension is incorrect:\n it should be {} but is: {}".format(HIDDEN_SIZE, decoder.charDecoder.hidden_size)
    assert(decoder.char_output_projection.in_features == HIDDEN_SIZE), "Input dimension is incorrect:\n it should be {} but is: {}".format(HIDDEN_SIZE, decoder.char_output_projection.in_features)
    assert(decoder.char_output_projection.out_features == len(char_vocab.char2id)), "Output dimension is incorrect:\n it should be {} but is: {}".format(len(char_vocab.char2id), decoder.char_output_projection.out_features)
    assert(decoder.decoderCharEmb.num_embeddings == len(char_vocab.char2id)), "Number of embeddings is incorrect:\n it should be {} but is: {}".format(len(char_vocab.char2id), decoder.decoderCharEmb.num_embeddings)
    assert(decoder.decoderCharEmb.embedding_dim == EMBED_SIZE), "Embedding dimension is incorrect:\n it should be {} but is: {}".format(EMBED_SIZE, decoder.decoderCharEmb.embedding_dim)
    print("Sanity Check Passed for Question 2a: CharDecoder.__init__()!")
    print("-"*80)

def question_2b_sanity_check(decoder, char_vocab):
    print ("-"*80)
    print("Running Sanity Check for Question 2b: CharDecoder.forward()")
    print ("-"*80)
    sequence_length = 4
    inpt = torch.zeros(sequence_length, BATCH_SIZE, dtype=torch.long)
    logits, (dec_hidden1, dec_hidden2) = decoder.forward(inpt)
    logits_expected_size = [sequence_length, BATCH_SIZE, len(char_vocab.char2id)]
    dec_hidden_expected_size = [1, BATCH_SIZE, HIDDEN_SIZE]
    assert(list(logits.size()) == logits_expected_size), "Logits shape is incorrect:\n it should be {} but is:\n{}".format(logits_expected_size, list(logits.size()))
    assert(list(dec_hidden1.size()) == dec_hidden_expected_size), "Decoder hidden state shape is incorrect:\n it should be {} but is: {}".format(dec_hidden_expected_size, list(dec_hidden1.size()))
    assert(list(dec_hidden2.size()) == dec_hidden_expected_size), "Decoder hidden state shape is incorrect:\n it should be {} but is: {}".format(dec_hidden_expected_size, list(dec_hidden2.size()))
    print(dec_hidden1, dec_hidden2)
    print("Sanity Check Passed for Question 2b: CharDecoder.forward()!")
    print("-"*80)

def question_2c_sanity_check(decoder):
    print ("-"*80)
    print("Running Sanity Check for Question 2c: CharDecoder.train_forward()")
    print ("-"*80)
    sequence_length = 4
    inpt = torch.zeros(sequence_length, BATCH_SIZE, dtype=torch.long)
    loss = decoder.train_forward(inpt)
    assert(list(loss.size()) == []), "Loss should be a scalar but its shape is: {}".format(list(loss.size()))
    print(loss)
    print("Sanity Check Passed for Question 2c: CharDecoder.train_forward()!")
    print("-"*80)

def question_2d_sanity_check(decoder):
    print ("-"*80)
    print("Running Sanity Check for Question 2d: CharDecoder.decode_greedy()")
    print ("-"*80)
    sequence_length = 4
    inpt = torch.zeros(1, BATCH_SIZE, HIDDEN_SIZE, dtype=torch.float)
    initialStates = (inpt, inpt)
    device = decoder.char_output_projection.weight.device
    decodedWords = decoder.decode_greedy(initialStates, device)
    assert(len(decodedWords) == BATCH_SIZE), "Length of decodedWords should be {} but is: {}".format(BATCH_SIZE, len(decodedWords))
    print(decodedWords)
    print("Sanity Check Passed for Question 2d: CharDecoder.decode_greedy()!")
    print("-"*80)


# Seed the Random Number Generators
seed = 1234
torch.manual_seed(seed)
torch.cuda.manual_seed(seed)
np.random.seed(seed * 13 // 7)

char_vocab = VocabEntry()
model_embeddings_source = ModelEmbeddings(EMBED_SIZE, char_vocab)

# Initialize CharDecoder
decoder = CharDecoder(
    hidden_size=HIDDEN_SIZE,
    char_embedding_size=EMBED_SIZE,
    target_vocab=char_vocab)

question_1e_sanity_check()
question_1f_sanity_check()
question_1j_sanity_check(model_embeddings_source)
question_2a_sanity_check(decoder, char_vocab)
question_2b_sanity_check(decoder, char_vocab)
question_2c_sanity_check(decoder)
question_2d_sanity_check(decoder)


# ---------------------------------------------------------------- driver (as nmt_model.py uses these)
device = torch.device("cpu")
letters = "abcdefghij"
lengths = torch.randint(2, 7, (6, 4))
sents = [[''.join(letters[i] for i in torch.randint(0, 10, (int(n),)).tolist()) for n in row] for row in lengths]
print(sents)
embeddings = ModelEmbeddings(16, char_vocab)
char_decoder = CharDecoder(16, target_vocab=char_vocab)
optimizer = torch.optim.Adam(list(embeddings.parameters()) + list(char_decoder.parameters()), lr=0.01)
target_padded_chars = char_vocab.to_input_tensor_char(sents, device=device)  # (sent_len, batch, 21)
print(target_padded_chars.shape)
max_word_len = target_padded_chars.shape[-1]
for step in range(40):
    optimizer.zero_grad()
    combined_outputs = embeddings(target_padded_chars)
    target_chars = target_padded_chars.reshape(-1, max_word_len)
    rnn_states = combined_outputs.view(-1, 16)
    oovs_losses = char_decoder.train_forward(target_chars.t(), (rnn_states.unsqueeze(0), rnn_states.unsqueeze(0)))
    oovs_losses.backward()
    optimizer.step()
    if step % 5 == 4:
        print(step, round(oovs_losses.item(), 3))
embeddings.eval()
with torch.no_grad():
    states = embeddings(target_padded_chars[:, :2]).view(-1, 16)
    decodedWords = char_decoder.decode_greedy((states.unsqueeze(0), states.unsqueeze(0)), max_length=8, device=device)
print([w for s in zip(*[sents[0], sents[1]]) for w in s])
print(decodedWords)
