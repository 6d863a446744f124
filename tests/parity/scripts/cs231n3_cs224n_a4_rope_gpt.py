# Source: Stanford CS224N (Spring 2024) assignment 4, minGPT with rotary position embeddings (RoPE applied
# with torch.view_as_complex / view_as_real), the span-corruption CharCorruptionDataset, the birth-place
# NameDataset, the Trainer (AdamW with two weight-decay groups, warmup + cosine learning-rate decay) and run.py's
# pretrain -> finetune -> evaluate, as a student completed them (attention.py, models.py, dataset.py, trainer.py,
# utils.py, run.py):
#   https://github.com/onemorelight2024/cs224n-2024spring-homeworks-and-project  a4/src/
# Shrunk: a made-up 11-line "wiki.txt" and 8 + 4 lines of birth places written here (in a temporary folder);
# block_size 48 (128), n_layer 2, n_head 2, n_embd 16 (4, 8, 256); pretraining and finetuning 2 epochs of
# batches of 8 (650 and 10 epochs of 128 and 256), warmup_tokens 512*2 (512*20), finetune_lr 6e-3 (6e-4);
# num_workers 0 (4); 8 sampled characters per answer (32). dataset.py's own debugging __main__ (printing
# corrupted and name examples) runs once; the three runs of run.py (pretrain, finetune, evaluate) are a
# function called three times, sharing files in the temporary folder, so run.py's
# `trainer = trainer.Trainer(...)` is `trainer_obj = ...` (the name the starter's utils.py uses); the modules
# are namespaces (attention.CausalSelfAttention, models.GPT...). TensorBoard's SummaryWriter is left out
# (writer=None); the progress line the Trainer shows in tqdm's bar, and each evaluated completion, are printed.
import math
import logging
import os
import random
import argparse
import tempfile
import types

from tqdm import tqdm
import numpy as np

import torch
import torch.nn as nn
from torch.nn import functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import Dataset
from torch.utils.data.dataloader import DataLoader

os.chdir(tempfile.mkdtemp())

people = [("Ada Lin", "Paris"), ("Bo Tan", "Lima"), ("Cy Ruiz", "Oslo"), ("Di Moss", "Rome"),
          ("Ed Vance", "Cairo"), ("Flo Reyes", "Quito"), ("Gus Hale", "Dubai"), ("Hal Ng", "Kyiv"),
          ("Ivy Cole", "Lagos"), ("Jo Park", "Seoul")]
with open('wiki.txt', 'w', encoding='utf-8') as f:
    f.write('\n'.join([f"{name}. {name} was born in {place} and worked as a writer." for name, place in people]
                      + ["Where was each of them born? We know."]))
with open('birth_places_train.tsv', 'w', encoding='utf-8') as f:
    f.write(''.join(f"Where was {name} born?\t{place}\n" for name, place in people[:8]))
with open('birth_dev.tsv', 'w', encoding='utf-8') as f:
    f.write(''.join(f"Where was {name} born?\t{place}\n" for name, place in people[6:]))

# ---------------------------------------------------------------------------------------------- attention.py
logger = logging.getLogger(__name__)


def precompute_rotary_emb(dim, max_positions):
    """
    RoPE uses the following sinusoidal functions to encode positions:

    cos(t theta_i) and sin(t theta_i)
        where t is the position and
              theta_i = 1/10000^(-2(i-1)/dim) for i in [1, dim/2]

    Implement the precompute_rotary_emb function that returns a tensor of
    shape (max_positions, dim/2, 2) where the last dimension contains
    the cos and sin values for each position and each dimension of
    the embedding.
    """

    #theta_i?????

    rope_cache = None
    # TODO: [part g]
    ### YOUR CODE HERE ###
    #利用矩阵外积实现
    t_arr=torch.arange(0,max_positions,dtype=torch.float32)
    i_arr=torch.arange(0,dim/2,dtype=torch.float32)
    i_arr=10000**(-2*i_arr/dim)#没有减一

    freq=torch.outer(t_arr,i_arr)
    #(max_positions, dim/2),pos在前

    cos_vals = torch.cos(freq)
    sin_vals = torch.sin(freq)

    cos_vals_unsqueezed = cos_vals.unsqueeze(-1)
    sin_vals_unsqueezed = sin_vals.unsqueeze(-1)
    rope_cache = torch.cat([cos_vals_unsqueezed, sin_vals_unsqueezed], dim=-1)

    ### END YOUR CODE ###
    return rope_cache


def apply_rotary_emb(x, rope_cache):
    """Apply the RoPE to the input tensor x."""
    # TODO: [part g]
    # You might find the following functions useful to convert
    # between real and complex numbers:

    # torch.view_as_real - https://pytorch.org/docs/stable/generated/torch.view_as_real.html
    # torch.view_as_complex - https://pytorch.org/docs/stable/generated/torch.view_as_complex.html

    # Note that during inference, the length of the sequence might be different
    # from the length of the precomputed values. In this case, you should use
    # truncate the precomputed values to match the length of the sequence.

    rotated_x = None
    #pytorch里token是行向量
    #截取所需的长度->x分成二维向量、复数化->rope_cache复数化->相乘->转换形状
    batch_size, num_head,seq_len, dim = x.shape
    rope_cache_truncated = rope_cache[:seq_len,:, :]

    xx = x.view(batch_size, num_head,seq_len,dim // 2, 2)

    rope_cache_truncated=rope_cache_truncated.unsqueeze(0).unsqueeze(0)
    temp=torch.view_as_complex(rope_cache_truncated)*torch.view_as_complex(xx)
    rotated_x=torch.view_as_real(temp)
    rotated_x=rotated_x.view(batch_size,num_head, seq_len,dim)
    return rotated_x

class CausalSelfAttention(nn.Module):
    """
    A vanilla multi-head masked self-attention layer with a projection at the end.
    I believe I could have just used torch.nn.MultiheadAttention but their documentation
    is all but absent and code ugly so I don't trust it, rolling my own here.
    """

    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        # key, query, value projections for all heads
        self.key = nn.Linear(config.n_embd, config.n_embd)
        self.query = nn.Linear(config.n_embd, config.n_embd)
        self.value = nn.Linear(config.n_embd, config.n_embd)

        self.rope = config.rope
        if self.rope:
            assert (config.n_embd % config.n_head) % 2 == 0

            # TODO: [part g] Precompute the cos and sin values for RoPE and
            # store them in rope_cache.
            # Hint: The maximum sequence length is given by config.block_size.
            rope_cache = None
            ### YOUR CODE HERE ###
            rope_cache=precompute_rotary_emb(dim=(config.n_embd/config.n_head),max_positions=config.block_size)
            ### END YOUR CODE ###

            self.register_buffer("rope_cache", rope_cache)#缓存，随着模型一起保存(self.rope_cache会随着磁盘消失)

        # regularization
        self.attn_drop = nn.Dropout(config.attn_pdrop)
        self.resid_drop = nn.Dropout(config.resid_pdrop)
        # output projection
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        # causal mask to ensure that attention is only applied to the left in the input sequence
        self.register_buffer("mask", torch.tril(torch.ones(config.block_size, config.block_size))
                                     .view(1, 1, config.block_size, config.block_size))
        self.n_head = config.n_head

    def forward(self, x):
        #注意其中的转置操作!要把num_head放到第二个(第一个是batch_size)
        B, T, C = x.size()

        # calculate query, key, values for all heads in batch and move head forward to be the batch dim
        k = self.key(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
        q = self.query(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)
        v = self.value(x).view(B, T, self.n_head, C // self.n_head).transpose(1, 2) # (B, nh, T, hs)

        if self.rope:
            # TODO: [part g] Apply RoPE to the query and key.
            ### YOUR CODE HERE ###
            #传入的第二个为num_head
            q=apply_rotary_emb(q,self.rope_cache)
            k=apply_rotary_emb(k,self.rope_cache)
            ### END YOUR CODE ###

        # causal self-attention; Self-attend: (B, nh, T, hs) x (B, nh, hs, T) -> (B, nh, T, T)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))

        att = att.masked_fill(self.mask[:,:,:T,:T] == 0, -1e10)
        att = F.softmax(att, dim=-1)
        att = self.attn_drop(att)
        y = att @ v # (B, nh, T, T) x (B, nh, T, hs) -> (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C) # re-assemble all head outputs side by side

        # output projection
        y = self.resid_drop(self.proj(y))
        return y


attention = types.SimpleNamespace(CausalSelfAttention=CausalSelfAttention)

# ---------------------------------------------------------------------------------------------- models.py
torch.manual_seed(0)


class GPTConfig:
    """ base GPT config, params common to all GPT versions """
    embd_pdrop = 0.1
    resid_pdrop = 0.1
    attn_pdrop = 0.1
    rope = False
    bottleneck_dim = None

    def __init__(self, vocab_size, block_size, **kwargs):
        self.vocab_size = vocab_size
        self.block_size = block_size
        for k,v in kwargs.items():
            setattr(self, k, v)


class Block(nn.Module):
    """ an unassuming Transformer block """

    def __init__(self, config):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.n_embd)
        self.ln2 = nn.LayerNorm(config.n_embd)
        self.attn = attention.CausalSelfAttention(config)
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
        if not config.rope:
            self.pos_emb = nn.Parameter(torch.zeros(1, config.block_size, config.n_embd))
        self.drop = nn.Dropout(config.embd_pdrop)
        self.rope = config.rope
        # transformer
        self.blocks = nn.Sequential(*[Block(config) for _ in range(config.n_layer)])
        # decoder head
        self.ln_f = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)

        self.block_size = config.block_size
        self.apply(self._init_weights)

        print(f"number of parameters: {sum(p.numel() for p in self.parameters())}")

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
        assert t <= self.block_size, f"Cannot forward, model block size ({t}, {self.block_size}) is exhausted."

        # forward the GPT model
        token_embeddings = self.tok_emb(idx) # each index maps to a (learnable) vector
        if self.rope:
            x_input = token_embeddings
        else:
            position_embeddings = self.pos_emb[:, :t, :] # each position maps to a (learnable) vector
            x_input = token_embeddings + position_embeddings

        x = self.drop(x_input)
        x = self.blocks(x)
        x = self.ln_f(x)
        logits = self.head(x)

        # if we are given some desired targets also calculate the loss
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=0)

        return logits, loss


models = types.SimpleNamespace(GPTConfig=GPTConfig, GPT=GPT)

# ---------------------------------------------------------------------------------------------- dataset.py
class CharCorruptionDataset(Dataset):
    def __init__(self, data, block_size):
        self.MASK_CHAR = "\u2047" # the doublequestionmark character, for mask
        self.PAD_CHAR = "\u25A1" # the empty square character, for pad

        chars = list(sorted(list(set(data))))
        assert self.MASK_CHAR not in chars
        assert self.PAD_CHAR not in chars
        chars.insert(0, self.MASK_CHAR)
        chars.insert(0, self.PAD_CHAR)

        self.stoi = {ch:i for i,ch in enumerate(chars)}
        self.itos = {i:ch for i,ch in enumerate(chars)}

        data_size, vocab_size = len(data), len(chars)
        print(f'data has {data_size} characters, {vocab_size} unique.')

        self.block_size = block_size
        self.vocab_size = vocab_size
        self.data = data.split('\n')

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        # TODO [part e]: see spec above
        ### YOUR CODE HERE ###

        document1 = self.data[idx].split('\t')
        document=document1[0]
        length=random.randint(4,int(self.block_size*7/8))
        trun_document=document[:length]
        masked_len=random.randint(int(length*0.2),int(length*0.3))
        random_start=random.randint(0,max(0,length-masked_len))
        prefix=trun_document[0:random_start]
        masked_con=trun_document[random_start:random_start+masked_len]
        suffix=trun_document[random_start+masked_len:]#-1是最后一个字符！！！左闭右开会漏掉！！！所以要写成[num:]
        masked_string_without_padding=prefix+self.MASK_CHAR+suffix+self.MASK_CHAR+masked_con
        #例子与注释不一致
        masked_string=masked_string_without_padding+self.PAD_CHAR*(self.block_size + 1-len(masked_string_without_padding))
        inputt=masked_string[:-1]
        outputt=masked_string[1:]
        x = torch.tensor([self.stoi[c] for c in inputt], dtype=torch.long)
        y = torch.tensor([self.stoi[c] for c in outputt], dtype=torch.long)
        return (x,y)
        ### END YOUR CODE ###


class NameDataset(Dataset):
    def __init__(self, pretraining_dataset, data):
        self.MASK_CHAR = "\u2047" # the doublequestionmark character, for mask
        self.PAD_CHAR = "\u25A1" # the empty square character, for pad
        self.itos = pretraining_dataset.itos
        self.stoi = pretraining_dataset.stoi
        self.block_size = pretraining_dataset.block_size
        self.data = list(data.encode('utf-8').decode('ascii', errors='ignore').split('\n'))

    def __len__(self):
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


dataset = types.SimpleNamespace(CharCorruptionDataset=CharCorruptionDataset, NameDataset=NameDataset)

# dataset.py's own debugging entry point (python dataset.py charcorruption / namedata)
corruption_dataset = dataset.CharCorruptionDataset(open('wiki.txt', encoding='utf-8').read(), 48)
for _, example in zip(range(4), corruption_dataset):
    x, y = example
    print('x:', ''.join([corruption_dataset.itos[int(c)] for c in x]))
    print('y:', ''.join([corruption_dataset.itos[int(c)] for c in y]))
name_dataset = dataset.NameDataset(corruption_dataset, open('birth_places_train.tsv', encoding='utf-8').read())
for _, example in zip(range(2), name_dataset):
    x, y = example
    print('x:', ''.join([name_dataset.itos[int(c)] for c in x]))
    print('y:', ''.join([name_dataset.itos[int(c)] for c in y]))

# ---------------------------------------------------------------------------------------------- trainer.py
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
    writer = None

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
        elif torch.backends.mps.is_available() and not self.model.rope:
            self.device = 'mps'
            self.model = self.model.to(self.device)

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
        step = 0
        def run_epoch(split):
            nonlocal step
            is_train = split == 'train'
            model.train(is_train)
            data = self.train_dataset if is_train else self.test_dataset
            loader = DataLoader(data, batch_size=config.batch_size, num_workers=config.num_workers)

            losses = []
            pbar = tqdm(enumerate(loader), total=len(loader)) if is_train else enumerate(loader)

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
                    pbar.set_description(f"epoch {epoch+1} iter {it}: train loss {loss.item():.5f}. lr {lr:e}")
                    print(f"epoch {epoch+1} iter {it}: train loss {loss.item():.5f}. lr {lr:e}")

                    if config.writer is not None:
                        config.writer.add_scalar('train/loss',  loss.item(), step)
                        config.writer.add_scalar('train/lr', lr, step)

                step += 1
            if not is_train:
                logger.info("test loss: %f", np.mean(losses))

        self.tokens = 0 # counter used for learning rate decay
        for epoch in range(config.max_epochs):

            run_epoch('train')
            if self.test_dataset is not None:
                run_epoch('test')

            self.save_checkpoint()


trainer = types.SimpleNamespace(TrainerConfig=TrainerConfig, Trainer=Trainer)

# ---------------------------------------------------------------------------------------------- utils.py
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
  with open(filepath, encoding='utf-8') as fin:
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


utils = types.SimpleNamespace(sample=sample, evaluate_places=evaluate_places)

# ---------------------------------------------------------------------------------------------- run.py
#训练文件、语料库、模型参数
random.seed(0)


def run(argv):
    argp = argparse.ArgumentParser()
    argp.add_argument('function', help="Choose pretrain, finetune, or evaluate")
    argp.add_argument('variant', help="Choose vanilla or rope")
    argp.add_argument('pretrain_corpus_path', default=None)
    argp.add_argument('--reading_params_path',default=None)
    argp.add_argument('--writing_params_path',default=None)
    argp.add_argument('--finetune_corpus_path', default=None)
    argp.add_argument('--eval_corpus_path', default=None)
    argp.add_argument('--outputs_path', default=None)
    argp.add_argument('--pretrain_lr', default=6e-3, type=float)
    argp.add_argument('--finetune_lr', default=6e-4, type=float)
    argp.add_argument('--tb_expt_name', help='debug string for tb log.',
                      default='run')
    args = argp.parse_args(argv)

    device = 'cpu'
    if torch.cuda.is_available():
        device = torch.cuda.current_device()
    elif torch.backends.mps.is_available() and args.variant == 'vanilla':
        device = 'mps'

    writer = None

    block_size = 48
    text = open(args.pretrain_corpus_path, encoding='utf-8').read()
    pretrain_dataset = dataset.CharCorruptionDataset(text, block_size)

    mconf = models.GPTConfig(
        pretrain_dataset.vocab_size,
        pretrain_dataset.block_size,
        n_layer=2,
        n_head=2,
        n_embd=16)

    model = None
    if args.variant == 'vanilla':
        # TODO: [part c] Make some model here
        model = models.GPT(mconf).to(device)
    elif args.variant == 'rope':
        # TODO: [part g] Make some other model here
        # set mconf.rope parameter
        ### YOUR CODE HERE ###

        mconf.rope = True
        model = models.GPT(mconf).to(device)
        pass
        ### END YOUR CODE ###
    else:
        raise ValueError("Unknown model variant")

    print('Model on device: ', next(model.parameters()).device)

    # Perform pretraining, finetuning, or evaluation
    if args.function == 'pretrain':
        assert args.writing_params_path is not None
        ### YOUR CODE HERE ###
        #加载数据
        corruption_dataset = dataset.CharCorruptionDataset(
            open(args.pretrain_corpus_path, encoding='utf-8').read(), 48)
        #加载模型权重、训练器、训练逻辑
        tconf = trainer.TrainerConfig(max_epochs=2,
                batch_size=8,
                learning_rate=args.pretrain_lr,
                lr_decay=True,
                warmup_tokens=512*2,
                final_tokens=2*len(pretrain_dataset)*block_size,
                num_workers=0,
                writer=writer)
        trainer_obj = trainer.Trainer(model, corruption_dataset, None, tconf)
        trainer_obj.train()

        torch.save(model.state_dict(), args.writing_params_path)
        ### END YOUR CODE ###
    elif args.function == 'finetune':
        assert args.writing_params_path is not None
        assert args.finetune_corpus_path is not None

        if args.reading_params_path:
            model.load_state_dict(torch.load(args.reading_params_path, map_location=torch.device(device)))

        ### YOUR CODE HERE ###
        #加载数据集
        corruption_dataset = dataset.CharCorruptionDataset(
            open(args.pretrain_corpus_path, encoding='utf-8').read(), 48)
        name_dataset = dataset.NameDataset(corruption_dataset,
            open(args.finetune_corpus_path, encoding='utf-8').read())

        #加载模型权重、训练器、训练模型
        max_epochs = 2 if args.reading_params_path else 3
        tconf = trainer.TrainerConfig(max_epochs=max_epochs,
                batch_size=8,
                learning_rate=args.finetune_lr,
                lr_decay=True,
                warmup_tokens=512*2,
                final_tokens=200*len(pretrain_dataset)*block_size,
                num_workers=0,
                writer=writer)
        trainer_obj = trainer.Trainer(model, name_dataset, None, tconf)
        trainer_obj.train()
        #保存模型
        torch.save(model.state_dict(), args.writing_params_path)
        ### END YOUR CODE ###
    elif args.function == 'evaluate':
        assert args.outputs_path is not None
        assert args.reading_params_path is not None
        assert args.eval_corpus_path is not None
        model.load_state_dict(torch.load(args.reading_params_path))
        correct = 0
        total = 0
        with open(args.outputs_path, 'w', encoding='utf-8') as fout:
            predictions = []
            for line in tqdm(open(args.eval_corpus_path, encoding='utf-8')):
                x = line.split('\t')[0]
                x = x + '⁇'
                x = torch.tensor([pretrain_dataset.stoi[s] for s in x],
                                 dtype=torch.long)[None,...].to(device)
                pred = utils.sample(model, x, 8, sample=False)[0]
                completion = ''.join([pretrain_dataset.itos[int(i)] for i in pred])
                pred = completion.split('⁇')[1]
                print('completion:', completion)
                predictions.append(pred)
                fout.write(pred + '\n')
            total, correct = utils.evaluate_places(args.eval_corpus_path, predictions)
        if total > 0:
            print(f'Correct: {correct} out of {total}: {correct/total*100}%')
        else:
            print(f'Predictions written to {args.outputs_path}; no targets provided')


run(['pretrain', 'rope', 'wiki.txt', '--writing_params_path', 'rope.pretrain.params', '--pretrain_lr', '6e-3'])
run(['finetune', 'rope', 'wiki.txt', '--reading_params_path', 'rope.pretrain.params',
     '--writing_params_path', 'rope.finetune.params', '--finetune_corpus_path', 'birth_places_train.tsv',
     '--finetune_lr', '6e-3'])
run(['evaluate', 'rope', 'wiki.txt', '--reading_params_path', 'rope.finetune.params',
     '--eval_corpus_path', 'birth_dev.tsv', '--outputs_path', 'rope.pretrain.dev.predictions'])
