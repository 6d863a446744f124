# Source: Stanford CS224N (Winter 2021) assignment 5, "Pretrained Transformers & knowledge access": the
# course's minGPT fork with the student's span-corruption dataset and synthesizer attention, as Aman
# Chadha completed it (src/attention.py, src/model.py, src/dataset.py, src/trainer.py, src/utils.py,
# src/run.py):
#   https://github.com/amanchadha/stanford-cs224n-assignments-2021  a5/src/
# Shrunk: a made-up wiki.txt (12 one-line biographies of random-syllable names) and birth_places_train
# .tsv / birth_dev.tsv (their "Where was X born?<TAB>place" questions) are written to a temporary folder;
# run.py's three invocations (pretrain synthesizer -> finetune synthesizer with --reading_params_path ->
# evaluate) run one after the other as a function of the argparse arguments; block size 32 (128),
# n_layer 2, n_head 2, n_embd 16 (4, 8, 256); pretraining 3 epochs of batch 4 (650 of 128), finetuning
# 2 epochs of batch 4 (10 of 256), warmup_tokens 64 (512*20); sampling 5 characters (32: the
# synthesizer's w2 has block_size-1 columns, so a context of block_size fails, in the original too). The modules
# are inlined, so model.py's attention.SynthesizerAttention is SynthesizerAttention and run.py's
# dataset./model./trainer./utils. names are namespaces of these definitions. tqdm's description line is
# printed instead of set on a bar (stderr), and the logger's test loss left out.
import os
import math
import random
import logging
import argparse
import tempfile
import types

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.nn import functional as F
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import Dataset
from torch.utils.data.dataloader import DataLoader

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- attention.py
class CausalSelfAttention(nn.Module):
    """
    A vanilla multi-head masked self-attention layer with a projection at the end.
    """

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads
        self.key = nn.Linear(config.n_embd, config.n_embd)
        self.query = nn.Linear(config.n_embd, config.n_embd)
        self.value = nn.Linear(config.n_embd, config.n_embd)
        # regularization
        self.attn_drop = nn.Dropout(config.attn_pdrop)
        self.resid_drop = nn.Dropout(config.resid_pdrop)
        # output projection
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        # causal mask to ensure that attention is only applied to the left in the input sequence
        self.register_buffer("mask", torch.tril(torch.ones(config.block_size, config.block_size))
                                     .view(1, 1, config.block_size, config.block_size))
        self.n_head = config.n_head

    def forward(self, x, layer_past=None):
        B, T, C = x.size()

        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        k = self.key(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
        q = self.query(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
        v = self.value(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)

        # causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.mask[:,:,:T,:T] == 0, -1e10) # todo: just use float('-inf') instead?
        att = F.softmax(att, dim=-1)
        att = self.attn_drop(att)
        y = att @ v # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C) # re-assemble all head outputs side by side

        # output projection
        y = self.resid_drop(self.proj(y))
        return y


class SynthesizerAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # NEW learnable weights
        self.w1 = nn.Linear(config.n_embd, config.n_embd)
        self.w2 = nn.Parameter(torch.zeros(config.n_embd // config.n_head,
            config.block_size-1))
        self.b2 = nn.Parameter(torch.zeros(config.block_size-1))
        # value projection
        self.value = nn.Linear(config.n_embd, config.n_embd)
        # regularization
        self.attn_drop = nn.Dropout(config.attn_pdrop)
        self.resid_drop = nn.Dropout(config.resid_pdrop)
        # output projection
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        # causal mask to ensure that attention is only applied to the left in
        #     the input sequence
        self.register_buffer("mask", torch.tril(
            torch.ones(config.block_size, config.block_size)).view(
                1, 1, config.block_size, config.block_size))
        self.n_head = config.n_head
        self.block_size = config.block_size

        nn.init.uniform_(self.w2,-0.001,0.001)

    def forward(self, x, layer_past=None):
        B, T, C = x.size()

        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        w1 = self.w1(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs) -> (1, 8, 32, 32)

        w2 = self.w2[:, :T] # (hs, T) -> (32, 127)

        b2 = self.b2[:T] # (T) -> (127)

        v = self.value(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)

        # Synthesizer Attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
        att = (F.relu(w1) @ w2 + b2)

        # Mask out the future
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, -1e10) # todo: just use float('-inf') instead?
        att = F.softmax(att, dim=-1)

        att = self.attn_drop(att)

        y = att @ v # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C) # re-assemble all head outputs side by side

        # output projection
        y = self.resid_drop(self.proj(y))
        return y


# ---------------------------------------------------------------- model.py
class GPTConfig:
    """ base GPT config, params common to all GPT versions """
    embd_pdrop = 0.1
    resid_pdrop = 0.1
    attn_pdrop = 0.1
    additive = False

    def __init__(self, vocab_size, block_size, synthesizer=False, **kwargs):
        self.vocab_size = vocab_size
        self.block_size = block_size
        self.synthesizer = synthesizer
        for k,v in kwargs.items():
            setattr(self, k, v)

class Block(nn.Module):
    """ an unassuming Transformer block """

    def __init__(self, config):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        if config.synthesizer:
            self.attn = SynthesizerAttention(config)
        else:
            self.attn = CausalSelfAttention(config)
        self.mlp = nn.Sequential(
            nn.Linear(config.n_embd, 4 * config.n_embd),
            nn.GELU(),
            nn.Linear(4 * config.n_embd, config.n_embd),
            nn.Dropout(config.resid_pdrop),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        return x

class GPT(nn.Module):
    """  the full GPT language model, with a context size of block_size """

    def __init__(self, config):
        super().__init__()

        # input embedding stem
        self.tok_emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.pos_emb = nn.Parameter(torch.zeros(1, config.block_size, config.n_embd))
        self.drop = nn.Dropout(config.embd_pdrop)
        # transformer
        self.blocks = nn.Sequential(*[Block(config) for _ in range(config.n_layer)])
        # decoder head
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

        self.block_size = config.block_size
        self.apply(self._init_weights)

        print("number of parameters: {}".format(sum(p.numel() for p in self.parameters())))

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def get_block_size(self):
        return self.block_size

    def forward(self, idx, targets=None):
        b, t = idx.size()
        assert t <= self.block_size, "Cannot forward, model block size is exhausted."

        # forward the GPT model
        token_embeddings = self.tok_emb(idx) # each index maps to a (learnable) vector
        position_embeddings = self.pos_emb[:, :t, :] # each position maps to a (learnable) vector
        x = self.drop(token_embeddings + position_embeddings)
        x = self.blocks(x)
        x = self.ln_f(x)
        logits = self.head(x)

        # if we are given some desired targets also calculate the loss
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=0)

        return logits, loss


# ---------------------------------------------------------------- dataset.py
class NameDataset(Dataset):
    def __init__(self, pretraining_dataset, data):
        self.MASK_CHAR = u"\u2047" # the doublequestionmark character, for mask
        self.PAD_CHAR = u"\u25A1" # the empty square character, for pad
        self.itos = pretraining_dataset.itos
        self.stoi = pretraining_dataset.stoi
        self.block_size = pretraining_dataset.block_size
        self.data = list(data.encode('utf-8').decode('ascii', errors='ignore').split('\n'))

    def __len__(self):
        # returns the length of the dataset
        return len(self.data) - 1

    def __getitem__(self, idx):
        inp, oup = self.data[idx].split('\t')
        x = inp + self.MASK_CHAR + oup + self.MASK_CHAR
        x = x + self.PAD_CHAR*(self.block_size - len(x))
        y = self.PAD_CHAR*(len(inp)-1) + x[len(inp):]

        x = x[:-1]
        x = torch.tensor([self.stoi[c] for c in x], dtype=torch.long)
        y = torch.tensor([self.stoi[c] for c in y], dtype=torch.long)
        return x, y


class CharCorruptionDataset(Dataset):
    def __init__(self, data, block_size):
        self.MASK_CHAR = u"\u2047" # the doublequestionmark character, for mask
        self.PAD_CHAR = u"\u25A1" # the empty square character, for pad

        chars = list(sorted(list(set(data))))
        assert self.MASK_CHAR not in chars
        assert self.PAD_CHAR not in chars
        chars.insert(0, self.MASK_CHAR)
        chars.insert(0, self.PAD_CHAR)

        self.stoi = { ch:i for i,ch in enumerate(chars) }
        self.itos = { i:ch for i,ch in enumerate(chars) }

        data_size, vocab_size = len(data), len(chars)
        print('data has %d characters, %d unique.' % (data_size, vocab_size))

        self.block_size = block_size
        self.vocab_size = vocab_size
        self.data = data.split('\n')

    def __len__(self):
        # returns the length of the dataset
        return len(self.data)

    def __getitem__(self, idx):
        doc = self.data[idx]

        # 1. Randomly truncate the document to a length no less than 4 characters,
        # and no more than int(self.block_size*7/8) characters.
        import random
        random_length = random.randint(4, int(self.block_size*7/8))
        truncated_doc = doc[:random_length]

        # Take the length of the (randomly truncated) document.
        truncated_doc_length = len(doc)

        # Add a random perturbation to the length of the masked content with randint().
        # Just pick the right bounds, for example, -1/8 and 1/8 of the truncated length
        random_perturbation = random.randint(int(-0.125*truncated_doc_length), int(0.125*truncated_doc_length))

        # Compute expected_mask_len by using 1/4 of the truncated document length
        # and adding a perturbation.
        expected_mask_len = int(0.25*truncated_doc_length + random_perturbation)

        # randomly determine where to start the masked portion somewhere between the start
        # of the truncated document and the last index such that there are as many characters
        # left in the sequence as we determined the mask length should be
        start_mask = random.randint(0, truncated_doc_length - expected_mask_len)

        masked_content = truncated_doc[start_mask:start_mask+expected_mask_len]
        prefix = truncated_doc[:start_mask]
        suffix = truncated_doc[len(prefix)+expected_mask_len:]

        masked_string = prefix + self.MASK_CHAR + suffix + self.MASK_CHAR + masked_content
        masked_string += self.PAD_CHAR*(self.block_size - len(masked_string))

        input = masked_string[:-1]
        output = masked_string[1:]

        x = torch.tensor([self.stoi[c] for c in input], dtype=torch.long)
        y = torch.tensor([self.stoi[c] for c in output], dtype=torch.long)
        return x, y


# ---------------------------------------------------------------- trainer.py
class TrainerConfig:
    # optimization parameters
    max_epochs = 10
    batch_size = 64
    learning_rate = 3e-4
    betas = (0.9, 0.95)
    grad_norm_clip = 1.0
    weight_decay = 0.1 # only applied on matmul weights
    # learning rate decay params: linear warmup followed by cosine decay to 10% of original
    lr_decay = False
    warmup_tokens = 375e6 # these two numbers come from the GPT-3 paper, but may not be good defaults elsewhere
    final_tokens = 260e9 # (at what point we reach 10% of original LR)
    # checkpoint settings
    ckpt_path = None
    num_workers = 0 # for DataLoader

    def __init__(self, **kwargs):
        for k,v in kwargs.items():
            setattr(self, k, v)

class Trainer:

    def __init__(self, model, train_dataset, test_dataset, config):
        self.model = model
        self.train_dataset = train_dataset
        self.test_dataset = test_dataset
        self.config = config

        # take over whatever gpus are on the system
        self.device = 'cpu'
        if torch.cuda.is_available():
            self.device = torch.cuda.current_device()
            self.model = torch.nn.DataParallel(self.model).to(self.device)

    def save_checkpoint(self):
        if self.config.ckpt_path is not None:
            ckpt_model = self.model.module if hasattr(self.model, "module") else self.model
            logger.info("saving %s", self.config.ckpt_path)
            torch.save(ckpt_model.state_dict(), self.config.ckpt_path)

    def train(self):
        model, config = self.model, self.config

        # create the optimizer
        no_decay = ["bias", "LayerNorm.weight"]
        params_decay = [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)]
        params_nodecay = [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)]
        optim_groups = [
            {"params": params_decay, "weight_decay": config.weight_decay},
            {"params": params_nodecay, "weight_decay": 0.0},
        ]
        optimizer = optim.AdamW(optim_groups, lr=config.learning_rate, betas=config.betas)

        def run_epoch(split):
            is_train = split == 'train'
            model.train(is_train)
            data = self.train_dataset if is_train else self.test_dataset
            loader = DataLoader(data, batch_size=config.batch_size, num_workers=config.num_workers)

            losses = []
            pbar = enumerate(loader)

            for it, (x, y) in pbar:

                # place data on the correct device
                x = x.to(self.device)
                y = y.to(self.device)

                # forward the model
                with torch.set_grad_enabled(is_train):
                    logits, loss = model(x, y)
                    loss = loss.mean() # collapse all losses if they are scattered on multiple gpus
                    losses.append(loss.item())

                if is_train:

                    # backprop and update the parameters
                    model.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_norm_clip)
                    optimizer.step()

                    # decay the learning rate based on our progress
                    if config.lr_decay:
                        self.tokens += (y >= 0).sum() # number of tokens processed this step (i.e. label is not -100)
                        if self.tokens < config.warmup_tokens:
                            # linear warmup
                            lr_mult = float(self.tokens) / float(max(1, config.warmup_tokens))
                        else:
                            # cosine learning rate decay
                            progress = float(self.tokens - config.warmup_tokens) / float(max(1, config.final_tokens - config.warmup_tokens))
                            lr_mult = max(0.1, 0.5 * (1.0 + math.cos(math.pi * progress)))
                        lr = config.learning_rate * lr_mult
                        for param_group in optimizer.param_groups:
                            param_group['lr'] = lr
                    else:
                        lr = config.learning_rate

                    # report progress
                    print(f"epoch {epoch+1} iter {it}: train loss {loss.item():.5f}. lr {lr:e}")

            if not is_train:
                logger.info("test loss: %f", np.mean(losses))

        self.tokens = 0 # counter used for learning rate decay
        for epoch in range(config.max_epochs):

            run_epoch('train')
            if self.test_dataset is not None:
                run_epoch('test')

            self.save_checkpoint()


# ---------------------------------------------------------------- utils.py
def top_k_logits(logits, k):
    v, ix = torch.topk(logits, k)
    out = logits.clone()
    out[out < v[:, [-1]]] = -float('Inf')
    return out

@torch.no_grad()
def sample(model, x, steps, temperature=1.0, sample=False, top_k=None):
    block_size = model.get_block_size()
    model.eval()
    for k in range(steps):
        x_cond = x if x.size(1) <= block_size else x[:, -block_size:] # crop context if needed
        logits, _ = model(x_cond)
        # pluck the logits at the final step and scale by temperature
        logits = logits[:, -1, :] / temperature
        # optionally crop probabilities to only the top k options
        if top_k is not None:
            logits = top_k_logits(logits, top_k)
        # apply softmax to convert to probabilities
        probs = F.softmax(logits, dim=-1)
        # sample from the distribution or take the most likely
        if sample:
            ix = torch.multinomial(probs, num_samples=1)
        else:
            _, ix = torch.topk(probs, k=1, dim=-1)
        # append to the sequence and continue
        x = torch.cat((x, ix), dim=1)

    return x


def evaluate_places(filepath, predicted_places):
  with open(filepath) as fin:
    lines = [x.strip().split('\t') for x in fin]
    if len(lines[0]) == 1:
      print('No gold birth places provided; returning (0,0)')
      return (0,0)
    true_places = [x[1] for x in lines]
    total = len(true_places)
    assert total == len(predicted_places)
    correct = len(list(filter(lambda x: x[0] == x[1],
      zip(true_places, predicted_places))))
    return (float(total),float(correct))


# ---------------------------------------------------------------- the data files
folder = tempfile.mkdtemp()
syllables = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi"]
places = ["Lima", "Oslo", "Rome", "Kiev"]
people = []
for _ in range(16):
    idx = torch.randint(0, len(syllables), (4,)).tolist()
    name = syllables[idx[0]].title() + syllables[idx[1]] + " " + syllables[idx[2]].title() + syllables[idx[3]]
    people.append((name, places[torch.randint(0, len(places), (1,)).item()]))
with open(os.path.join(folder, "wiki.txt"), "w") as f:
    f.write("\n".join(f"{n}. Where was {n} born? {p}." for n, p in people[:12]))
with open(os.path.join(folder, "birth_places_train.tsv"), "w") as f:
    f.write("".join(f"Where was {n} born?\t{p}\n" for n, p in people[:12]))
with open(os.path.join(folder, "birth_dev.tsv"), "w") as f:
    f.write("".join(f"Where was {n} born?\t{p}\n" for n, p in people[12:]))


# ---------------------------------------------------------------- run.py
random.seed(0)

argp = argparse.ArgumentParser()
argp.add_argument('function',
    help="Whether to pretrain, finetune or evaluate a model",
    choices=["pretrain", "finetune", "evaluate"])
argp.add_argument('variant',
    help="Which variant of the model to run ('vanilla' or 'synthesizer')",
    choices=["vanilla", "synthesizer"])
argp.add_argument('pretrain_corpus_path',
    help="Path of the corpus to pretrain on", default=None)
argp.add_argument('--reading_params_path',
    help="If specified, path of the model to load before finetuning/evaluation",
    default=None)
argp.add_argument('--writing_params_path',
    help="Path to save the model after pretraining/finetuning", default=None)
argp.add_argument('--finetune_corpus_path',
    help="Path of the corpus to finetune on", default=None)
argp.add_argument('--eval_corpus_path',
    help="Path of the corpus to evaluate on", default=None)
argp.add_argument('--outputs_path', default=None)


def run(args):
    dataset = types.SimpleNamespace(CharCorruptionDataset=CharCorruptionDataset, NameDataset=NameDataset)
    model = types.SimpleNamespace(GPTConfig=GPTConfig, GPT=GPT)
    trainer = types.SimpleNamespace(TrainerConfig=TrainerConfig, Trainer=Trainer)
    utils = types.SimpleNamespace(sample=sample, evaluate_places=evaluate_places)

    # Save the device
    device = torch.cuda.current_device() if torch.cuda.is_available() else 'cpu'

    block_size = 32
    text = open(args.pretrain_corpus_path).read()
    pretrain_dataset = dataset.CharCorruptionDataset(text, block_size)

    mconf = model.GPTConfig(pretrain_dataset.vocab_size, pretrain_dataset.block_size,
        n_layer=2, n_head=2, n_embd=16)

    if args.variant == 'vanilla':
        model = model.GPT(mconf)
        model = model.to(device)

    elif args.variant == 'synthesizer':
        mconf = model.GPTConfig(pretrain_dataset.vocab_size, pretrain_dataset.block_size,
        synthesizer=True, n_layer=2, n_head=2, n_embd=16)

        model = model.GPT(mconf)
        model = model.to(device)

    if args.function == 'pretrain':
        assert args.pretrain_corpus_path is not None
        assert args.writing_params_path is not None
        for _, example in zip(range(2), pretrain_dataset):  # dataset.py's charcorruption debug print
            x, y = example
            print('x:', ''.join([pretrain_dataset.itos[int(c)] for c in x]))
            print('y:', ''.join([pretrain_dataset.itos[int(c)] for c in y]))

        # initialize a trainer instance and kick off pretraining
        tconf = trainer.TrainerConfig(max_epochs=3, batch_size=4, learning_rate=6e-3,
                                      lr_decay=True, warmup_tokens=64, final_tokens=200*len(pretrain_dataset)*block_size,
                                      num_workers=0, ckpt_path=args.writing_params_path)
        trainer = trainer.Trainer(model, pretrain_dataset, None, tconf)
        trainer.train()

    elif args.function == 'finetune':
        assert args.writing_params_path is not None
        assert args.finetune_corpus_path is not None

        text = open(args.finetune_corpus_path, 'r', encoding='utf-8').read()
        finetune_dataset = dataset.NameDataset(pretrain_dataset, text)
        x, y = finetune_dataset[0]  # dataset.py's namedata debug print
        print('x:', ''.join([finetune_dataset.itos[int(c)] for c in x]))
        print('y:', ''.join([finetune_dataset.itos[int(c)] for c in y]))

        # finetuning WITH a pretrained model
        if args.reading_params_path:
            # initialize a trainer instance and kick off finetuning
            tconf = trainer.TrainerConfig(max_epochs=2, batch_size=4, learning_rate=6e-4,
                                          lr_decay=True, warmup_tokens=64, final_tokens=200*len(pretrain_dataset)*block_size,
                                          num_workers=4 if torch.cuda.is_available() else 0, ckpt_path=args.writing_params_path)

            model.load_state_dict(torch.load(args.reading_params_path))
            model.eval()

            trainer = trainer.Trainer(model, finetune_dataset, None, tconf)

        # finetune
        trainer.train()

    elif args.function == 'evaluate':
        assert args.outputs_path is not None
        assert args.reading_params_path is not None
        assert args.eval_corpus_path is not None

        # HACK to run on CPU
        device = torch.cuda.current_device() if torch.cuda.is_available() else 'cpu'
        model.load_state_dict(torch.load(args.reading_params_path, map_location=device))

        correct = 0
        total = 0
        with open(args.outputs_path, 'w') as fout:
            predictions = []
            for line in open(args.eval_corpus_path):
                x = line.split('\t')[0]
                x = x + '⁇'
                x = torch.tensor([pretrain_dataset.stoi[s] for s in x], dtype=torch.long)[None,...].to(device)
                pred = utils.sample(model, x, 5, sample=False)[0]
                completion = ''.join([pretrain_dataset.itos[int(i)] for i in pred])
                pred = completion.split('⁇')[1]
                print(repr(completion))
                predictions.append(pred)
                fout.write(pred + '\n')
            total, correct = utils.evaluate_places(args.eval_corpus_path, predictions)
        if total > 0:
            print('Correct: {} out of {}: {}%'.format(correct, total, correct/total*100))
        else:
            print('Predictions written to {}; no targets provided'
                    .format(args.outputs_path))


wiki = os.path.join(folder, "wiki.txt")
pretrain_params = os.path.join(folder, "synthesizer.pretrain.params")
finetune_params = os.path.join(folder, "synthesizer.finetune.params")
print("== pretrain synthesizer")
run(argp.parse_args(["pretrain", "synthesizer", wiki, "--writing_params_path", pretrain_params]))
print("== finetune synthesizer")
run(argp.parse_args(["finetune", "synthesizer", wiki, "--reading_params_path", pretrain_params,
                     "--writing_params_path", finetune_params,
                     "--finetune_corpus_path", os.path.join(folder, "birth_places_train.tsv")]))
print("== evaluate synthesizer")
run(argp.parse_args(["evaluate", "synthesizer", wiki, "--reading_params_path", finetune_params,
                     "--eval_corpus_path", os.path.join(folder, "birth_dev.tsv"),
                     "--outputs_path", os.path.join(folder, "synthesizer.pretrain.dev.predictions")]))
