# Source: Phillip Lippe, UvA Deep Learning Course (University of Amsterdam), tutorial 6 "Transformers and
# Multi-Head Attention": scaled_dot_product with masked_fill, expand_mask, MultiheadAttention written out
# (qkv in one Linear, chunk, xavier_uniform_), EncoderBlock/TransformerEncoder with get_attention_maps,
# PositionalEncoding as a non-persistent buffer, CosineWarmupScheduler subclassing
# optim.lr_scheduler._LRScheduler (get_lr over base_lrs and last_epoch), the TransformerPredictor
# LightningModule with a per-step scheduler, and the sequence-reversal task (ReverseDataset with torch.flip,
# F.one_hot inputs).
#   https://github.com/phlippe/uvadlc_notebooks  docs/tutorial_notebooks/tutorial6/Transformers_and_MHAttention.ipynb
# Shrunk: ReverseDataset of 1536/1024/2048 sequences (not 50000/1000/10000), batch 64 (256 to evaluate), 3 epochs (72 steps)
# with warmup=10 (not 10 epochs and warmup 50); the scheduler plot prints its factors and the learning rates a few
# steps give; the plots print the values they show; the set-anomaly part is left out (it needs a pretrained
# torchvision ResNet, and its train/val split rests on torch.argsort of tied labels, whose order PyTorch leaves
# unspecified); no pretrained checkpoint. PyTorch Lightning is not installed: a small stand-in (marked) gives
# seed_everything, save_hyperparameters/hparams/log and a Trainer whose fit/test loop calls the module's own
# configure_optimizers/training_step/validation_step/test_step, steps the scheduler per batch as its
# 'interval': 'step' asks and clips the gradient norm as gradient_clip_val=5 does; callbacks are left out.
## Standard libraries
import os
import numpy as np 
import random
import math
import json
from functools import partial

## tqdm for loading bars
def tqdm(iterable, **kwargs): return iterable  # progress bar left out

## PyTorch
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.data as data
import torch.optim as optim

# ---- Stand-in for PyTorch Lightning (not installed here): seed_everything, a LightningModule with
# save_hyperparameters/hparams/log/device, and a Trainer whose fit/test run the module's own
# configure_optimizers/training_step/validation_step/test_step in a plain loop.
import inspect
class pl:
    @staticmethod
    def seed_everything(seed):
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        return seed

    class Callback:
        pass

    class AttributeDict(dict):
        def __getattr__(self, name):
            return self[name]

    class LightningModule(nn.Module):
        def save_hyperparameters(self):
            frame = inspect.getargvalues(inspect.currentframe().f_back)
            self.hparams = pl.AttributeDict({name: frame.locals[name] for name in frame.args[1:]})
            if frame.keywords is not None:
                self.hparams.update(frame.locals[frame.keywords])

        @property
        def device(self):
            return next(self.parameters()).device

        def log(self, name, value, **kwargs):
            self.logged.setdefault(name, []).append((float(value.detach()), self.batch_size))

    class Trainer:
        def __init__(self, max_epochs=1, gradient_clip_val=None, check_val_every_n_epoch=1, **kwargs):
            self.max_epochs, self.gradient_clip_val = max_epochs, gradient_clip_val
            self.check_val_every_n_epoch = check_val_every_n_epoch

        def _run(self, model, loader, step, train=False):
            model.logged = {}
            for batch_idx, batch in enumerate(loader):
                model.batch_size = len(batch[0])
                if not train:
                    with torch.no_grad():
                        step(batch, batch_idx)
                    continue
                loss = step(batch, batch_idx)
                self.optimizer.zero_grad()
                loss.backward()
                if self.gradient_clip_val is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), self.gradient_clip_val)
                self.optimizer.step()
                if self.interval == "step":
                    self.scheduler.step()
            return {name: sum(v * n for v, n in values) / sum(n for _, n in values) for name, values in model.logged.items()}

        def fit(self, model, train_loader, val_loader=None):
            config = model.configure_optimizers()
            if isinstance(config, dict):  # {"optimizer": ..., "lr_scheduler": ..., "monitor": ...}
                self.optimizer, self.scheduler, monitor = config["optimizer"], config["lr_scheduler"], config["monitor"]
            else:  # [optimizer], [scheduler or {"scheduler": ..., "interval": ...}]
                self.optimizer, self.scheduler, monitor = config[0][0], config[1][0], None
            self.interval = "epoch"
            if isinstance(self.scheduler, dict):
                self.scheduler, self.interval = self.scheduler["scheduler"], self.scheduler["interval"]
            for self.current_epoch in range(self.max_epochs):
                model.train()
                logs = self._run(model, train_loader, model.training_step, train=True)
                if val_loader is not None and (self.current_epoch + 1) % self.check_val_every_n_epoch == 0:
                    model.eval()
                    logs.update(self._run(model, val_loader, model.validation_step))
                print(f"Epoch {self.current_epoch}:", ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))
                if self.interval == "epoch":
                    self.scheduler.step(logs[monitor]) if monitor else self.scheduler.step()

        def test(self, model, dataloaders, verbose=False):
            model.eval()
            return [self._run(model, dataloaders, model.test_step)]
# ---- end of the stand-in

# Setting the seed
pl.seed_everything(42)

# Ensure that all operations are deterministic on GPU (if used) for reproducibility
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False

device = torch.device("cuda:0") if torch.cuda.is_available() else torch.device("cpu")
print("Device:", device)

def scaled_dot_product(q, k, v, mask=None):
    d_k = q.size()[-1]
    attn_logits = torch.matmul(q, k.transpose(-2, -1))
    attn_logits = attn_logits / math.sqrt(d_k)
    if mask is not None:
        attn_logits = attn_logits.masked_fill(mask == 0, -9e15)
    attention = F.softmax(attn_logits, dim=-1)
    values = torch.matmul(attention, v)
    return values, attention

seq_len, d_k = 3, 2
pl.seed_everything(42)
q = torch.randn(seq_len, d_k)
k = torch.randn(seq_len, d_k)
v = torch.randn(seq_len, d_k)
values, attention = scaled_dot_product(q, k, v)
print("Q\n", q)
print("K\n", k)
print("V\n", v)
print("Values\n", values)
print("Attention\n", attention)

# Helper function to support different mask shapes.
# Output shape supports (batch_size, number of heads, seq length, seq length)
# If 2D: broadcasted over batch size and number of heads
# If 3D: broadcasted over number of heads
# If 4D: leave as is
def expand_mask(mask):
    assert mask.ndim >= 2, "Mask must be at least 2-dimensional with seq_length x seq_length"
    if mask.ndim == 3:
        mask = mask.unsqueeze(1)
    while mask.ndim < 4:
        mask = mask.unsqueeze(0)
    return mask

class MultiheadAttention(nn.Module):
    
    def __init__(self, input_dim, embed_dim, num_heads):
        super().__init__()
        assert embed_dim % num_heads == 0, "Embedding dimension must be 0 modulo number of heads."
        
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        
        # Stack all weight matrices 1...h together for efficiency
        # Note that in many implementations you see "bias=False" which is optional
        self.qkv_proj = nn.Linear(input_dim, 3*embed_dim)
        self.o_proj = nn.Linear(embed_dim, input_dim)
        
        self._reset_parameters()

    def _reset_parameters(self):
        # Original Transformer initialization, see PyTorch documentation
        nn.init.xavier_uniform_(self.qkv_proj.weight)
        self.qkv_proj.bias.data.fill_(0)
        nn.init.xavier_uniform_(self.o_proj.weight)
        self.o_proj.bias.data.fill_(0)

    def forward(self, x, mask=None, return_attention=False):
        batch_size, seq_length, _ = x.size()
        if mask is not None:
            mask = expand_mask(mask)
        qkv = self.qkv_proj(x)
        
        # Separate Q, K, V from linear output
        qkv = qkv.reshape(batch_size, seq_length, self.num_heads, 3*self.head_dim)
        qkv = qkv.permute(0, 2, 1, 3) # [Batch, Head, SeqLen, Dims]
        q, k, v = qkv.chunk(3, dim=-1)
        
        # Determine value outputs
        values, attention = scaled_dot_product(q, k, v, mask=mask)
        values = values.permute(0, 2, 1, 3) # [Batch, SeqLen, Head, Dims]
        values = values.reshape(batch_size, seq_length, self.embed_dim)
        o = self.o_proj(values)
        
        if return_attention:
            return o, attention
        else:
            return o

# (the tutorial's MultiheadAttention with a causal mask on a small batch, printed)
mha = MultiheadAttention(input_dim=4, embed_dim=8, num_heads=2)
out, attn = mha(torch.randn(2, 3, 4), mask=torch.tril(torch.ones(3, 3)), return_attention=True)
print(out.shape, attn.shape)
print(attn[0])

class EncoderBlock(nn.Module):
    
    def __init__(self, input_dim, num_heads, dim_feedforward, dropout=0.0):
        """
        Inputs:
            input_dim - Dimensionality of the input
            num_heads - Number of heads to use in the attention block
            dim_feedforward - Dimensionality of the hidden layer in the MLP
            dropout - Dropout probability to use in the dropout layers
        """
        super().__init__()
        
        # Attention layer
        self.self_attn = MultiheadAttention(input_dim, input_dim, num_heads)
        
        # Two-layer MLP
        self.linear_net = nn.Sequential(
            nn.Linear(input_dim, dim_feedforward),
            nn.Dropout(dropout),
            nn.ReLU(inplace=True),
            nn.Linear(dim_feedforward, input_dim)
        )
        
        # Layers to apply in between the main layers
        self.norm1 = nn.LayerNorm(input_dim)
        self.norm2 = nn.LayerNorm(input_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, mask=None):
        # Attention part
        attn_out = self.self_attn(x, mask=mask)
        x = x + self.dropout(attn_out)
        x = self.norm1(x)
        
        # MLP part
        linear_out = self.linear_net(x)
        x = x + self.dropout(linear_out)
        x = self.norm2(x)
        
        return x

class TransformerEncoder(nn.Module):
    
    def __init__(self, num_layers, **block_args):
        super().__init__()
        self.layers = nn.ModuleList([EncoderBlock(**block_args) for _ in range(num_layers)])

    def forward(self, x, mask=None):
        for l in self.layers:
            x = l(x, mask=mask)
        return x

    def get_attention_maps(self, x, mask=None):
        attention_maps = []
        for l in self.layers:
            _, attn_map = l.self_attn(x, mask=mask, return_attention=True)
            attention_maps.append(attn_map)
            x = l(x)
        return attention_maps

class PositionalEncoding(nn.Module):

    def __init__(self, d_model, max_len=5000):
        """
        Inputs
            d_model - Hidden dimensionality of the input.
            max_len - Maximum length of a sequence to expect.
        """
        super().__init__()

        # Create matrix of [SeqLen, HiddenDim] representing the positional encoding for max_len inputs
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0)
        
        # register_buffer => Tensor which is not a parameter, but should be part of the modules state.
        # Used for tensors that need to be on the same device as the module.
        # persistent=False tells PyTorch to not add the buffer to the state dict (e.g. when we save the model) 
        self.register_buffer('pe', pe, persistent=False)

    def forward(self, x):
        x = x + self.pe[:, :x.size(1)]
        return x

encod_block = PositionalEncoding(d_model=48, max_len=96)
pe = encod_block.pe.squeeze().T.cpu().numpy()

# (the heat map and the four line plots: their values, and what the state dict holds)
print("Positional encoding over hidden dimensions:", pe.shape, "state_dict keys:", list(encod_block.state_dict().keys()),
      "buffers:", [name for name, _ in encod_block.named_buffers()])
for i in range(4):
    print(f"Encoding in hidden dimension {i+1}", np.round(pe[i,:16], 4))

class CosineWarmupScheduler(optim.lr_scheduler._LRScheduler):
    
    def __init__(self, optimizer, warmup, max_iters):
        self.warmup = warmup
        self.max_num_iters = max_iters
        super().__init__(optimizer)
        
    def get_lr(self):
        lr_factor = self.get_lr_factor(epoch=self.last_epoch)
        return [base_lr * lr_factor for base_lr in self.base_lrs]
    
    def get_lr_factor(self, epoch):
        lr_factor = 0.5 * (1 + np.cos(np.pi * epoch / self.max_num_iters))
        if epoch <= self.warmup:
            lr_factor *= epoch * 1.0 / self.warmup
        return lr_factor

# Needed for initializing the lr scheduler
p = nn.Parameter(torch.empty(4,4))
optimizer = optim.Adam([p], lr=1e-3)
lr_scheduler = CosineWarmupScheduler(optimizer=optimizer, warmup=100, max_iters=2000)

# Plotting
epochs = list(range(2000))
print("Cosine Warm-up Learning Rate Scheduler", [round(float(lr_scheduler.get_lr_factor(e)), 5) for e in epochs[::200]])
# (and the learning rates the first steps set)
print(lr_scheduler.last_epoch, lr_scheduler.base_lrs, [float(lr) for lr in lr_scheduler.get_last_lr()], float(optimizer.param_groups[0]["lr"]))
for _ in range(3):
    optimizer.step()
    lr_scheduler.step()
print(lr_scheduler.last_epoch, [float(lr) for lr in lr_scheduler.get_last_lr()], float(optimizer.param_groups[0]["lr"]))
print(sorted(lr_scheduler.state_dict().keys()))

class TransformerPredictor(pl.LightningModule):

    def __init__(self, input_dim, model_dim, num_classes, num_heads, num_layers, lr, warmup, max_iters, dropout=0.0, input_dropout=0.0):
        """
        Inputs:
            input_dim - Hidden dimensionality of the input
            model_dim - Hidden dimensionality to use inside the Transformer
            num_classes - Number of classes to predict per sequence element
            num_heads - Number of heads to use in the Multi-Head Attention blocks
            num_layers - Number of encoder blocks to use.
            lr - Learning rate in the optimizer
            warmup - Number of warmup steps. Usually between 50 and 500
            max_iters - Number of maximum iterations the model is trained for. This is needed for the CosineWarmup scheduler
            dropout - Dropout to apply inside the model
            input_dropout - Dropout to apply on the input features
        """
        super().__init__()
        self.save_hyperparameters()
        self._create_model()

    def _create_model(self):
        # Input dim -> Model dim
        self.input_net = nn.Sequential(
            nn.Dropout(self.hparams.input_dropout),
            nn.Linear(self.hparams.input_dim, self.hparams.model_dim)
        )
        # Positional encoding for sequences
        self.positional_encoding = PositionalEncoding(d_model=self.hparams.model_dim)
        # Transformer
        self.transformer = TransformerEncoder(num_layers=self.hparams.num_layers,
                                              input_dim=self.hparams.model_dim,
                                              dim_feedforward=2*self.hparams.model_dim,
                                              num_heads=self.hparams.num_heads,
                                              dropout=self.hparams.dropout)
        # Output classifier per sequence lement
        self.output_net = nn.Sequential(
            nn.Linear(self.hparams.model_dim, self.hparams.model_dim),
            nn.LayerNorm(self.hparams.model_dim),
            nn.ReLU(inplace=True),
            nn.Dropout(self.hparams.dropout),
            nn.Linear(self.hparams.model_dim, self.hparams.num_classes)
        ) 

    def forward(self, x, mask=None, add_positional_encoding=True):
        """
        Inputs:
            x - Input features of shape [Batch, SeqLen, input_dim]
            mask - Mask to apply on the attention outputs (optional)
            add_positional_encoding - If True, we add the positional encoding to the input.
                                      Might not be desired for some tasks.
        """
        x = self.input_net(x)
        if add_positional_encoding:
            x = self.positional_encoding(x)
        x = self.transformer(x, mask=mask)
        x = self.output_net(x)
        return x

    @torch.no_grad()
    def get_attention_maps(self, x, mask=None, add_positional_encoding=True):
        """
        Function for extracting the attention matrices of the whole Transformer for a single batch.
        Input arguments same as the forward pass.
        """
        x = self.input_net(x)
        if add_positional_encoding:
            x = self.positional_encoding(x)
        attention_maps = self.transformer.get_attention_maps(x, mask=mask)
        return attention_maps

    def configure_optimizers(self):
        optimizer = optim.Adam(self.parameters(), lr=self.hparams.lr)
        
        # Apply lr scheduler per step
        lr_scheduler = CosineWarmupScheduler(optimizer, 
                                             warmup=self.hparams.warmup, 
                                             max_iters=self.hparams.max_iters)
        return [optimizer], [{'scheduler': lr_scheduler, 'interval': 'step'}]

    def training_step(self, batch, batch_idx):
        raise NotImplementedError

    def validation_step(self, batch, batch_idx):
        raise NotImplementedError    

    def test_step(self, batch, batch_idx):
        raise NotImplementedError   

class ReverseDataset(data.Dataset):

    def __init__(self, num_categories, seq_len, size):
        super().__init__()
        self.num_categories = num_categories
        self.seq_len = seq_len
        self.size = size
        
        self.data = torch.randint(self.num_categories, size=(self.size, self.seq_len))
  
    def __len__(self):
        return self.size

    def __getitem__(self, idx):
        inp_data = self.data[idx]
        labels = torch.flip(inp_data, dims=(0,))
        return inp_data, labels

dataset = partial(ReverseDataset, 10, 16)
train_loader = data.DataLoader(dataset(1536), batch_size=64, shuffle=True, drop_last=True, pin_memory=True)
val_loader   = data.DataLoader(dataset(1024), batch_size=256)
test_loader  = data.DataLoader(dataset(2048), batch_size=256)

inp_data, labels = train_loader.dataset[0]
print("Input data:", inp_data)
print("Labels:    ", labels)

class ReversePredictor(TransformerPredictor):
    
    def _calculate_loss(self, batch, mode="train"):
        # Fetch data and transform categories to one-hot vectors
        inp_data, labels = batch
        inp_data = F.one_hot(inp_data, num_classes=self.hparams.num_classes).float()
        
        # Perform prediction and calculate loss and accuracy
        preds = self.forward(inp_data, add_positional_encoding=True)
        loss = F.cross_entropy(preds.view(-1,preds.size(-1)), labels.view(-1))
        acc = (preds.argmax(dim=-1) == labels).float().mean()
        
        # Logging
        self.log(f"{mode}_loss", loss)
        self.log(f"{mode}_acc", acc)
        return loss, acc
        
    def training_step(self, batch, batch_idx):
        loss, _ = self._calculate_loss(batch, mode="train")
        return loss
    
    def validation_step(self, batch, batch_idx):
        _ = self._calculate_loss(batch, mode="val")
    
    def test_step(self, batch, batch_idx):
        _ = self._calculate_loss(batch, mode="test")

def train_reverse(**kwargs):
    # Create a PyTorch Lightning trainer with the generation callback
    trainer = pl.Trainer(accelerator="gpu" if str(device).startswith("cuda") else "cpu",
                         devices=1,
                         max_epochs=3,
                         gradient_clip_val=5)
    
    model = ReversePredictor(max_iters=trainer.max_epochs*len(train_loader), **kwargs)
    trainer.fit(model, train_loader, val_loader)
    print("hparams:", dict(model.hparams))
    print("learning rate after training:", float(trainer.optimizer.param_groups[0]["lr"]))
        
    # Test best model on validation and test set
    val_result = trainer.test(model, val_loader, verbose=False)
    test_result = trainer.test(model, test_loader, verbose=False)
    result = {"test_acc": test_result[0]["test_acc"], "val_acc": val_result[0]["test_acc"]}
    
    model = model.to(device)
    return model, result

reverse_model, reverse_result = train_reverse(input_dim=train_loader.dataset.num_categories,
                                              model_dim=32,
                                              num_heads=1,
                                              num_classes=train_loader.dataset.num_categories,
                                              num_layers=1,
                                              dropout=0.0,
                                              lr=5e-4,
                                              warmup=10)

print(f"Val accuracy:  {(100.0 * reverse_result['val_acc']):4.2f}%")
print(f"Test accuracy: {(100.0 * reverse_result['test_acc']):4.2f}%")

data_input, labels = next(iter(val_loader))
inp_data = F.one_hot(data_input, num_classes=reverse_model.hparams.num_classes).float()
inp_data = inp_data.to(device)
attention_maps = reverse_model.get_attention_maps(inp_data)

print(attention_maps[0].shape)

def plot_attention_maps(input_data, attn_maps, idx=0):
    if input_data is not None:
        input_data = input_data[idx].detach().cpu().numpy()
    else:
        input_data = np.arange(attn_maps[0][idx].shape[-1])
    attn_maps = [m[idx].detach().cpu().numpy() for m in attn_maps]
    
    num_heads = attn_maps[0].shape[0]
    num_layers = len(attn_maps)
    seq_len = input_data.shape[0]
    # (one heat map per layer and head: its largest weight per row, and where)
    for row in range(num_layers):
        for column in range(num_heads):
            print(f"Layer {row+1}, Head {column+1}", input_data.tolist())
            print(" argmax per row:", attn_maps[row][column].argmax(axis=-1).tolist())
            print(" max per row:", np.round(attn_maps[row][column].max(axis=-1).astype(np.float64), 4).tolist())

plot_attention_maps(data_input, attention_maps, idx=0)
