# Source: Stanford CS224N (Spring 2024) assignment 3, neural machine translation with a bidirectional LSTM
# encoder, a post-embedding Conv1d(padding="same"), an LSTMCell decoder with multiplicative attention
# and beam search, as a student completed it (vocab.py, utils.py, model_embeddings.py, nmt_model.py, run.py):
#   https://github.com/onemorelight2024/cs224n-2024spring-homeworks-and-project  a3_spr24_student_code/student/
# Shrunk: a made-up 9-word "English" to "Spanish" corpus (24 training, 8 dev, 3 test pairs drawn with
# torch.randint) stands in for the SentencePiece-tokenized zh-en files (read_corpus returns them); the vocab
# is built from sorted subword lists, saved and loaded as JSON in a temporary folder; embed/hidden 16 (the
# student's 1024/768), lr 0.01 (0.001), batch 4, 2 epochs, a log every 2 and a validation every 4
# iterations, patience 1, beam size 4 (10) over at most 6 steps (70). The log lines go to stdout (the
# original's go to stderr) so that they are compared, their words/sec and elapsed-time figures replaced by
# the clipped grad norm; exit(0) at the last epoch is a return; tqdm in beam_search writes to stderr (the
# original passes file=sys.stdout; its rates are timings); TensorBoard, SacreBLEU and the beam-search
# diagnostics file (host name, login, time) are left out, the example hypotheses printed. The student's own
# debug prints (in to_input_tensor, forward and __init__) are kept. torch.load of the model file (which
# pickles the Vocab) says weights_only=False, as PyTorch >= 2.6 requires.
import math
import os
import sys
import tempfile
import time
import json
from collections import namedtuple
from typing import List, Tuple, Dict, Set, Union

import numpy as np
from tqdm import tqdm

import torch
import torch.nn as nn
import torch.nn.utils
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_packed_sequence, pack_padded_sequence

os.chdir(tempfile.mkdtemp())

# ---------------------------------------------------------------------------------------------- data
SRC_WORDS = ['▁the', '▁cat', '▁dog', '▁sees', '▁eats', '▁big', '▁small', '▁fish', '▁red']
TGT_WORDS = ['▁el', '▁gato', '▁perro', '▁ve', '▁come', '▁grande', '▁pequeño', '▁pez', '▁rojo']
DICTIONARY = dict(zip(SRC_WORDS, TGT_WORDS))


def make_pairs(n):
    src, tgt = [], []
    lengths = torch.randint(2, 7, (n,))
    for length in lengths.tolist():
        words = [SRC_WORDS[i] for i in torch.randint(0, len(SRC_WORDS), (length,)).tolist()]
        src.append(words)
        tgt.append([DICTIONARY[w] for w in words][::-1])  # the "translation" reverses the word order
    return src, tgt


CORPUS = {}
CORPUS['train.src'], CORPUS['train.tgt'] = make_pairs(24)
CORPUS['dev.src'], CORPUS['dev.tgt'] = make_pairs(8)
CORPUS['test.src'], CORPUS['test.tgt'] = make_pairs(3)


# ---------------------------------------------------------------------------------------------- utils.py
def pad_sents(sents, pad_token):
    """ Pad list of sentences according to the longest sentence in the batch.
        The paddings should be at the end of each sentence.
    """
    ### YOUR CODE HERE (~6 Lines)
    sents_padded = []
    max_len = max(len(s) for s in sents)
    for s in sents:
        padded = s + [pad_token] * (max_len - len(s))
        sents_padded.append(padded)
    return sents_padded
    ### END YOUR CODE


def read_corpus(file_path, source, vocab_size=2500):
    """ Read file, where each sentence is dilineated by a `\n`. (Here: the made-up corpus above.)
    """
    data = []
    for subword_tokens in CORPUS[file_path]:
        # only append <s> and </s> to the target sentence
        if source == 'tgt':
            subword_tokens = ['<s>'] + subword_tokens + ['</s>']
        data.append(subword_tokens)

    return data


def batch_iter(data, batch_size, shuffle=False):
    """ Yield batches of source and target sentences reverse sorted by length (largest to smallest).
    """
    batch_num = math.ceil(len(data) / batch_size)
    index_array = list(range(len(data)))

    if shuffle:
        np.random.shuffle(index_array)

    for i in range(batch_num):
        indices = index_array[i * batch_size: (i + 1) * batch_size]
        examples = [data[idx] for idx in indices]

        examples = sorted(examples, key=lambda e: len(e[0]), reverse=True)
        src_sents = [e[0] for e in examples]
        tgt_sents = [e[1] for e in examples]

        yield src_sents, tgt_sents


# ---------------------------------------------------------------------------------------------- vocab.py
class VocabEntry(object):
    """ Vocabulary Entry, i.e. structure containing either
    src or tgt language terms.
    """
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

    def __getitem__(self, word):
        return self.word2id.get(word, self.unk_id)

    def __contains__(self, word):
        return word in self.word2id

    def __setitem__(self, key, value):
        raise ValueError('vocabulary is readonly')

    def __len__(self):
        return len(self.word2id)

    def __repr__(self):
        return 'Vocabulary[size=%d]' % len(self)

    def id2word(self, wid):
        return self.id2word[wid]

    def add(self, word):
        if word not in self:
            wid = self.word2id[word] = len(self)
            self.id2word[wid] = word
            return wid
        else:
            return self[word]

    def words2indices(self, sents):
        if type(sents[0]) == list:
            return [[self[w] for w in s] for s in sents]
        else:
            return [self[w] for w in sents]

    def indices2words(self, word_ids):
        return [self.id2word[w_id] for w_id in word_ids]

    def to_input_tensor(self, sents: List[List[str]], device: torch.device) -> torch.Tensor:
        """ Convert list of sentences (words) into tensor with necessary padding for
        shorter sentences.
        """
        print(sents)
        word_ids = self.words2indices(sents)
        print(word_ids)
        sents_t = pad_sents(word_ids, self['<pad>'])
        sents_var = torch.tensor(sents_t, dtype=torch.long, device=device)
        print(f"sents_var;{sents_var}")
        return torch.t(sents_var)

    @staticmethod
    def from_subword_list(subword_list):
        vocab_entry = VocabEntry()
        for subword in subword_list:
            vocab_entry.add(subword)
        return vocab_entry


class Vocab(object):
    """ Vocab encapsulating src and target langauges.
    """
    def __init__(self, src_vocab: VocabEntry, tgt_vocab: VocabEntry):
        self.src = src_vocab
        self.tgt = tgt_vocab

    @staticmethod
    def build(src_sents, tgt_sents) -> 'Vocab':
        print('initialize source vocabulary ..')
        src = VocabEntry.from_subword_list(src_sents)

        print('initialize target vocabulary ..')
        tgt = VocabEntry.from_subword_list(tgt_sents)

        return Vocab(src, tgt)

    def save(self, file_path):
        with open(file_path, 'w') as f:
            json.dump(dict(src_word2id=self.src.word2id, tgt_word2id=self.tgt.word2id), f, indent=2)

    @staticmethod
    def load(file_path):
        entry = json.load(open(file_path, 'r'))
        src_word2id = entry['src_word2id']
        tgt_word2id = entry['tgt_word2id']

        return Vocab(VocabEntry(src_word2id), VocabEntry(tgt_word2id))

    def __repr__(self):
        return 'Vocab(source %d words, target %d words)' % (len(self.src), len(self.tgt))


# ---------------------------------------------------------------------------------------------- model_embeddings.py
class ModelEmbeddings(nn.Module):
    """
    Class that converts input words to their embeddings.
    """
    def __init__(self, embed_size, vocab):
        super(ModelEmbeddings, self).__init__()
        self.embed_size = embed_size

        # default values
        self.source = None
        self.target = None

        src_pad_token_idx = vocab.src['<pad>']
        tgt_pad_token_idx = vocab.tgt['<pad>']

        self.source=nn.Embedding(vocab.src.__len__(),embed_size)
        self.target=nn.Embedding(vocab.tgt.__len__(),embed_size)


# ---------------------------------------------------------------------------------------------- nmt_model.py
Hypothesis = namedtuple('Hypothesis', ['value', 'score'])


class NMT(nn.Module):
    """ Simple Neural Machine Translation Model:
        - Bidrectional LSTM Encoder
        - Unidirection LSTM Decoder
        - Global Attention Model (Luong, et al. 2015)
    """

    def __init__(self, embed_size, hidden_size, vocab, dropout_rate=0.2):
        super(NMT, self).__init__()
        self.model_embeddings = ModelEmbeddings(embed_size, vocab)
        self.hidden_size = hidden_size
        self.dropout_rate = dropout_rate
        self.vocab = vocab

        # default values
        self.post_embed_cnn = None
        self.encoder = None
        self.decoder = None
        self.h_projection = None
        self.c_projection = None
        self.att_projection = None
        self.combined_output_projection = None
        self.target_vocab_projection = None
        self.dropout = None
        # For sanity check only, not relevant to implementation
        self.gen_sanity_check = False
        self.counter = 0

        self.post_embed_cnn=torch.nn.Conv1d(in_channels=embed_size, out_channels=embed_size, kernel_size=2,padding="same")
        self.encoder=torch.nn.LSTM(input_size=embed_size, hidden_size=hidden_size, bias=True, bidirectional=True)
        #decoder是把上下文和embed_size拼接起来了！
        self.decoder=torch.nn.LSTMCell(input_size=hidden_size+embed_size, hidden_size=hidden_size, bias=True)
        self.h_projection=torch.nn.Linear(in_features=hidden_size*2, out_features=hidden_size,bias=False)#接受拼接起来的2h,喂给隐藏层2h
        self.c_projection=torch.nn.Linear(in_features=hidden_size*2, out_features=hidden_size,bias=False)
        self.att_projection=torch.nn.Linear(in_features=hidden_size*2, out_features=hidden_size,bias=False)
        #为什么这个注意力分数不能直接算？因为需要对齐语义空间！
        self.combined_output_projection=torch.nn.Linear(in_features=hidden_size*3, out_features=hidden_size,bias=False)
        self.target_vocab_projection=torch.nn.Linear(in_features=hidden_size, out_features=len(vocab.tgt),bias=False)#不要用__len__
        self.dropout=torch.nn.Dropout(p=dropout_rate)
        print("初始化成功")
        '''Linear的形状是 输出*输入 '''

    def forward(self, source: List[List[str]], target: List[List[str]]) -> torch.Tensor:
        # Compute sentence lengths
        source_lengths = [len(s) for s in source]
        print(len(source))
        print('-'*80)
        # Convert list of lists into tensors
        source_padded = self.vocab.src.to_input_tensor(source, device=self.device)  # Tensor: (src_len, b)
        target_padded = self.vocab.tgt.to_input_tensor(target, device=self.device)  # Tensor: (tgt_len, b)

        enc_hiddens, dec_init_state = self.encode(source_padded, source_lengths)
        enc_masks = self.generate_sent_masks(enc_hiddens, source_lengths)
        combined_outputs = self.decode(enc_hiddens, enc_masks, dec_init_state, target_padded)
        P = F.log_softmax(self.target_vocab_projection(combined_outputs), dim=-1)

        # Zero out, probabilities for which we have nothing in the target text
        target_masks = (target_padded != self.vocab.tgt['<pad>']).float()

        # Compute log probability of generating true target words
        target_gold_words_log_prob = torch.gather(P, index=target_padded[1:].unsqueeze(-1), dim=-1).squeeze(
            -1) * target_masks[1:]
        scores = target_gold_words_log_prob.sum(dim=0)
        return scores

    def encode(self, source_padded: torch.Tensor, source_lengths: List[int]) -> Tuple[
        torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        enc_hiddens, dec_init_state = None, None
        X = self.model_embeddings.source(source_padded)
        X1=X.permute(1,2,0)
        X2=self.post_embed_cnn.forward(X1)
        X3=X2.permute(2,0,1)
        X4=pack_padded_sequence(X3,source_lengths,enforce_sorted=False)#在lstm前去除多余的pad
        enc_hiddenss,(last_hidden, last_cell)=self.encoder.forward(X4)#output返回(b,e,hidden_size)
        enc_hidden1,_=pad_packed_sequence(enc_hiddenss)#把pad填充回来
        enc_hiddens=enc_hidden1.permute(1,0,2)
        last_hidden1 = torch.cat((last_hidden[0], last_hidden[1]), dim=1)
        aaa=self.h_projection(last_hidden1)#不要对线性层用矩阵乘法!!!
        last_cell1=torch.cat((last_cell[0],last_cell[1]),dim=1)
        bbb=self.c_projection(last_cell1)
        dec_init_state=(aaa,bbb)

        return enc_hiddens, dec_init_state

    def decode(self, enc_hiddens: torch.Tensor, enc_masks: torch.Tensor,
               dec_init_state: Tuple[torch.Tensor, torch.Tensor], target_padded: torch.Tensor) -> torch.Tensor:
        # Chop off the <END> token for max length sentences.
        target_padded = target_padded[:-1]

        # Initialize the decoder state (hidden and cell)
        dec_state = dec_init_state

        # Initialize previous combined output vector o_{t-1} as zero
        batch_size = enc_hiddens.size(0)
        o_prev = torch.zeros(batch_size, self.hidden_size, device=self.device)

        # Initialize a list we will use to collect the combined output o_t on each step
        combined_outputs = []

        enc_hiddens_proj=self.att_projection(enc_hiddens)
        Y=self.model_embeddings.target.forward(target_padded)#训练时这里要输入答案句子
        rule_list=torch.split(tensor=Y,split_size_or_sections=1,dim=0)
        for rule in rule_list:
            y=rule.squeeze(dim=0)
            Ybar_t=torch.cat([y,o_prev],dim=-1)
            dec_state, combined_output, e_t=self.step(Ybar_t=Ybar_t,dec_state=dec_state,enc_hiddens=enc_hiddens,enc_hiddens_proj=enc_hiddens_proj,enc_masks=enc_masks)
            combined_outputs.append(combined_output)
            o_prev=combined_output
        combined_outputs=torch.stack(combined_outputs, dim=0)

        return combined_outputs

    def step(self, Ybar_t: torch.Tensor,
             dec_state: Tuple[torch.Tensor, torch.Tensor],
             enc_hiddens: torch.Tensor,
             enc_hiddens_proj: torch.Tensor,
             enc_masks: torch.Tensor) -> Tuple[Tuple, torch.Tensor, torch.Tensor]:
        combined_output = None
        dec_state=self.decoder.forward(Ybar_t,dec_state)
        dec_hidden, dec_cell = dec_state
        #enc_hiddens_proj是利用注意力矩阵计算好的变量
        e_t=torch.bmm(dec_hidden.unsqueeze(1),enc_hiddens_proj.permute(0,2,1)).squeeze(1)
        #我下次先把shape搞好!!!!!!

        # Set e_t to -inf where enc_masks has 1
        if enc_masks is not None:
            e_t.data.masked_fill_(enc_masks.bool(), -float('inf'))

        alpha_t = F.softmax(e_t,dim=1)
        a_t=torch.bmm(alpha_t.unsqueeze(1),enc_hiddens).squeeze(1)#bmm要应用squeeze
        U_t=torch.cat([a_t,dec_hidden],dim=1)#dim=0是batch
        V_t=self.combined_output_projection(U_t)
        O_t=self.dropout(torch.tanh(V_t))

        combined_output = O_t
        return dec_state, combined_output, e_t

    def generate_sent_masks(self, enc_hiddens: torch.Tensor, source_lengths: List[int]) -> torch.Tensor:
        enc_masks = torch.zeros(enc_hiddens.size(0), enc_hiddens.size(1), dtype=torch.float)
        for e_id, src_len in enumerate(source_lengths):
            enc_masks[e_id, src_len:] = 1
        return enc_masks.to(self.device)

    def beam_search(self, src_sent: List[str], beam_size: int = 5, max_decoding_time_step: int = 70) -> List[
        Hypothesis]:
        src_sents_var = self.vocab.src.to_input_tensor([src_sent], self.device)

        src_encodings, dec_init_vec = self.encode(src_sents_var, [len(src_sent)])
        src_encodings_att_linear = self.att_projection(src_encodings)

        h_tm1 = dec_init_vec
        att_tm1 = torch.zeros(1, self.hidden_size, device=self.device)

        eos_id = self.vocab.tgt['</s>']

        hypotheses = [['<s>']]
        hyp_scores = torch.zeros(len(hypotheses), dtype=torch.float, device=self.device)
        completed_hypotheses = []

        t = 0
        while len(completed_hypotheses) < beam_size and t < max_decoding_time_step:
            t += 1
            hyp_num = len(hypotheses)

            exp_src_encodings = src_encodings.expand(hyp_num,
                                                     src_encodings.size(1),
                                                     src_encodings.size(2))

            exp_src_encodings_att_linear = src_encodings_att_linear.expand(hyp_num,
                                                                           src_encodings_att_linear.size(1),
                                                                           src_encodings_att_linear.size(2))

            y_tm1 = torch.tensor([self.vocab.tgt[hyp[-1]] for hyp in hypotheses], dtype=torch.long, device=self.device)
            y_t_embed = self.model_embeddings.target(y_tm1)

            x = torch.cat([y_t_embed, att_tm1], dim=-1)

            (h_t, cell_t), att_t, _ = self.step(x, h_tm1,
                                                exp_src_encodings, exp_src_encodings_att_linear, enc_masks=None)

            # log probabilities over target words
            log_p_t = F.log_softmax(self.target_vocab_projection(att_t), dim=-1)

            live_hyp_num = beam_size - len(completed_hypotheses)
            contiuating_hyp_scores = (hyp_scores.unsqueeze(1).expand_as(log_p_t) + log_p_t).view(-1)
            top_cand_hyp_scores, top_cand_hyp_pos = torch.topk(contiuating_hyp_scores, k=live_hyp_num)

            prev_hyp_ids = torch.div(top_cand_hyp_pos, len(self.vocab.tgt), rounding_mode='floor')
            hyp_word_ids = top_cand_hyp_pos % len(self.vocab.tgt)

            new_hypotheses = []
            live_hyp_ids = []
            new_hyp_scores = []

            for prev_hyp_id, hyp_word_id, cand_new_hyp_score in zip(prev_hyp_ids, hyp_word_ids, top_cand_hyp_scores):
                prev_hyp_id = prev_hyp_id.item()
                hyp_word_id = hyp_word_id.item()
                cand_new_hyp_score = cand_new_hyp_score.item()

                hyp_word = self.vocab.tgt.id2word[hyp_word_id]
                new_hyp_sent = hypotheses[prev_hyp_id] + [hyp_word]
                if hyp_word == '</s>':
                    completed_hypotheses.append(Hypothesis(value=new_hyp_sent[1:-1],
                                                           score=cand_new_hyp_score))
                else:
                    new_hypotheses.append(new_hyp_sent)
                    live_hyp_ids.append(prev_hyp_id)
                    new_hyp_scores.append(cand_new_hyp_score)

            if len(completed_hypotheses) == beam_size:
                break

            live_hyp_ids = torch.tensor(live_hyp_ids, dtype=torch.long, device=self.device)
            h_tm1 = (h_t[live_hyp_ids], cell_t[live_hyp_ids])
            att_tm1 = att_t[live_hyp_ids]

            hypotheses = new_hypotheses
            hyp_scores = torch.tensor(new_hyp_scores, dtype=torch.float, device=self.device)

        if len(completed_hypotheses) == 0:
            completed_hypotheses.append(Hypothesis(value=hypotheses[0][1:],
                                                   score=hyp_scores[0].item()))

        completed_hypotheses.sort(key=lambda hyp: hyp.score, reverse=True)

        return completed_hypotheses

    @property
    def device(self) -> torch.device:
        return self.model_embeddings.source.weight.device

    @staticmethod
    def load(model_path: str):
        params = torch.load(model_path, map_location=lambda storage, loc: storage, weights_only=False)
        args = params['args']
        model = NMT(vocab=params['vocab'], **args)
        model.load_state_dict(params['state_dict'])

        return model

    def save(self, path: str):
        print('save model parameters to [%s]' % path, file=sys.stderr)

        params = {
            'args': dict(embed_size=self.model_embeddings.embed_size, hidden_size=self.hidden_size,
                         dropout_rate=self.dropout_rate),
            'vocab': self.vocab,
            'state_dict': self.state_dict()
        }

        torch.save(params, path)


# ---------------------------------------------------------------------------------------------- run.py
def evaluate_ppl(model, dev_data, batch_size=32):
    was_training = model.training
    model.eval()

    cum_loss = 0.
    cum_tgt_words = 0.

    # no_grad() signals backend to throw away all gradients
    with torch.no_grad():
        for src_sents, tgt_sents in batch_iter(dev_data, batch_size):
            loss = -model(src_sents, tgt_sents).sum()

            cum_loss += loss.item()
            tgt_word_num_to_predict = sum(len(s[1:]) for s in tgt_sents)  # omitting leading `<s>`
            cum_tgt_words += tgt_word_num_to_predict

        ppl = np.exp(cum_loss / cum_tgt_words)

    if was_training:
        model.train()

    return ppl


def train(args: Dict):
    train_data_src = read_corpus(args['--train-src'], source='src', vocab_size=21000)       # EDIT: NEW VOCAB SIZE
    train_data_tgt = read_corpus(args['--train-tgt'], source='tgt', vocab_size=8000)

    dev_data_src = read_corpus(args['--dev-src'], source='src', vocab_size=3000)
    dev_data_tgt = read_corpus(args['--dev-tgt'], source='tgt', vocab_size=2000)

    example_sentence_src = dev_data_src[3]
    example_sentence_tgt = dev_data_tgt[3]

    train_data = list(zip(train_data_src, train_data_tgt))
    dev_data = list(zip(dev_data_src, dev_data_tgt))

    train_batch_size = int(args['--batch-size'])
    clip_grad = float(args['--clip-grad'])
    valid_niter = int(args['--valid-niter'])
    log_every = int(args['--log-every'])
    model_save_path = args['--save-to']

    vocab = Vocab.load(args['--vocab'])

    model = NMT(embed_size=16,
                hidden_size=16,
                dropout_rate=float(args['--dropout']),
                vocab=vocab)

    model.train()

    uniform_init = float(args['--uniform-init'])
    if np.abs(uniform_init) > 0.:
        print('uniformly initialize parameters [-%f, +%f]' % (uniform_init, uniform_init))
        for p in model.parameters():
            p.data.uniform_(-uniform_init, uniform_init)

    vocab_mask = torch.ones(len(vocab.tgt))
    vocab_mask[vocab.tgt['<pad>']] = 0

    device = torch.device("cuda:0" if args['--cuda'] else "cpu")
    print('use device: %s' % device)

    model = model.to(device)

    optimizer = torch.optim.Adam(model.parameters(), lr=float(args['--lr']))

    num_trial = 0
    train_iter = patience = cum_loss = report_loss = cum_tgt_words = report_tgt_words = 0
    cum_examples = report_examples = epoch = valid_num = 0
    hist_valid_scores = []
    train_time = begin_time = time.time()
    print('begin Maximum Likelihood training')

    while True:
        epoch += 1

        for src_sents, tgt_sents in batch_iter(train_data, batch_size=train_batch_size, shuffle=True):
            train_iter += 1

            optimizer.zero_grad()

            batch_size = len(src_sents)

            example_losses = -model(src_sents, tgt_sents) # (batch_size,)
            batch_loss = example_losses.sum()
            loss = batch_loss / batch_size

            loss.backward()

            # clip gradient
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)

            optimizer.step()

            batch_losses_val = batch_loss.item()
            report_loss += batch_losses_val
            cum_loss += batch_losses_val

            tgt_words_num_to_predict = sum(len(s[1:]) for s in tgt_sents)  # omitting leading `<s>`
            report_tgt_words += tgt_words_num_to_predict
            cum_tgt_words += tgt_words_num_to_predict
            report_examples += batch_size
            cum_examples += batch_size

            if train_iter % log_every == 0:
                print('epoch %d, iter %d, avg. loss %.2f, avg. ppl %.2f ' \
                      'cum. examples %d, grad norm %.4f' % (epoch, train_iter,
                                                            report_loss / report_tgt_words,
                                                            math.exp(report_loss / report_tgt_words),
                                                            cum_examples, grad_norm))

                train_time = time.time()
                report_loss = report_tgt_words = report_examples = 0.

            # perform validation
            if train_iter % valid_niter == 0:
                print('epoch %d, iter %d, cum. loss %.2f, cum. ppl %.2f cum. examples %d' % (epoch, train_iter,
                                                                                         cum_loss / cum_tgt_words,
                                                                                         np.exp(cum_loss / cum_tgt_words),
                                                                                         cum_examples))

                cum_loss = cum_examples = cum_tgt_words = 0.
                valid_num += 1

                print('begin validation ...')

                # compute dev. ppl and bleu
                dev_ppl = evaluate_ppl(model, dev_data, batch_size=128)   # dev batch size can be a bit larger
                example_hypothesis_beam = beam_search(
                    model, [example_sentence_src],
                    beam_size=4,
                    max_decoding_time_step=int(args['--max-decoding-time-step'])
                )[0]

                valid_metric = -dev_ppl

                print('example source', example_sentence_src, 'target', example_sentence_tgt)
                for h in example_hypothesis_beam:
                    print('  hypothesis %s score %.4f' % (h.value, h.score))

                print('validation: iter %d, dev. ppl %f' % (train_iter, dev_ppl))

                is_better = len(hist_valid_scores) == 0 or valid_metric > max(hist_valid_scores)
                hist_valid_scores.append(valid_metric)

                if is_better:
                    patience = 0
                    print('save currently the best model to [%s]' % model_save_path)
                    model.save(model_save_path)

                    # also save the optimizers' state
                    torch.save(optimizer.state_dict(), model_save_path + '.optim')
                elif patience < int(args['--patience']):
                    patience += 1
                    print('hit patience %d' % patience)

                    if patience == int(args['--patience']):
                        num_trial += 1
                        print('hit #%d trial' % num_trial)
                        if num_trial == int(args['--max-num-trial']):
                            print('early stop!')
                            return

                        # decay lr, and restore from previously best checkpoint
                        lr = optimizer.param_groups[0]['lr'] * float(args['--lr-decay'])
                        print('load previously best model and decay learning rate to %f' % lr)

                        # load model
                        params = torch.load(model_save_path, map_location=lambda storage, loc: storage, weights_only=False)
                        model.load_state_dict(params['state_dict'])
                        model = model.to(device)

                        print('restore parameters of the optimizers')
                        optimizer.load_state_dict(torch.load(model_save_path + '.optim'))

                        # set new lr
                        for param_group in optimizer.param_groups:
                            param_group['lr'] = lr

                        # reset patience
                        patience = 0

                if epoch == int(args['--max-epoch']):
                    print('reached maximum number of epochs!')
                    return


def decode(args: Dict[str, str]):
    print("load test source sentences from [{}]".format(args['TEST_SOURCE_FILE']))
    test_data_src = read_corpus(args['TEST_SOURCE_FILE'], source='src', vocab_size=3000)
    if args['TEST_TARGET_FILE']:
        print("load test target sentences from [{}]".format(args['TEST_TARGET_FILE']))
        test_data_tgt = read_corpus(args['TEST_TARGET_FILE'], source='tgt', vocab_size=2000)

    print("load model from {}".format(args['MODEL_PATH']))
    model = NMT.load(args['MODEL_PATH'])

    if args['--cuda']:
        model = model.to(torch.device("cuda:0"))

    hypotheses = beam_search(model, test_data_src,
                             beam_size=4,
                             max_decoding_time_step=int(args['--max-decoding-time-step']))

    for src_sent, hyps in zip(test_data_src, hypotheses):
        top_hyp = hyps[0]
        hyp_sent = ''.join(top_hyp.value).replace('▁', ' ')
        print(hyp_sent, '%.4f' % top_hyp.score)


def beam_search(model: NMT, test_data_src: List[List[str]], beam_size: int, max_decoding_time_step: int) -> List[List[Hypothesis]]:
    was_training = model.training
    model.eval()

    hypotheses = []
    with torch.no_grad():
        for src_sent in tqdm(test_data_src, desc='Decoding'):
            example_hyps = model.beam_search(src_sent, beam_size=beam_size, max_decoding_time_step=max_decoding_time_step)

            hypotheses.append(example_hyps)

    if was_training: model.train(was_training)

    return hypotheses


def main():
    """ Main func.
    """
    vocab = Vocab.build(SRC_WORDS, TGT_WORDS)
    print('generated vocabulary, source %d words, target %d words' % (len(SRC_WORDS), len(TGT_WORDS)))
    vocab.save('vocab.json')
    print(Vocab.load('vocab.json'))

    args = {'--train-src': 'train.src', '--train-tgt': 'train.tgt', '--dev-src': 'dev.src', '--dev-tgt': 'dev.tgt',
            '--vocab': 'vocab.json', '--cuda': False, '--seed': '0', '--batch-size': '4', '--clip-grad': '5.0',
            '--log-every': '2', '--max-epoch': '2', '--patience': '1', '--max-num-trial': '5', '--lr-decay': '0.5',
            '--lr': '0.01', '--uniform-init': '0.1', '--save-to': 'model.bin', '--valid-niter': '4',
            '--dropout': '0.3', '--max-decoding-time-step': '6',
            'MODEL_PATH': 'model.bin', 'TEST_SOURCE_FILE': 'test.src', 'TEST_TARGET_FILE': 'test.tgt'}

    # Check pytorch version
    assert(torch.__version__ >= "1.0.0"), "Please update your installation of PyTorch. You have {} and you should have version 1.0.0".format(torch.__version__)

    # seed the random number generators
    seed = int(args['--seed'])
    torch.manual_seed(seed)
    if args['--cuda']:
        torch.cuda.manual_seed(seed)
    np.random.seed(seed * 13 // 7)

    train(args)
    decode(args)


if __name__ == '__main__':
    main()
