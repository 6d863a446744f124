# Source: Jeff Heaton, "Applications of Deep Neural Networks" (T81-558), module 6.3, "Transformers for
# time series": an encoder-only pre-norm transformer (RevIN, sinusoidal positions, causal mask, GELU) that
# forecasts the next sunspot count, trained with AdamW, a warmup+cosine LambdaLR, gradient clipping and
# the notebook's AMP GradScaler (disabled off CUDA) with early stopping on the validation loss.
#   https://github.com/jeffheaton/app_deep_learning  t81_558_class_06_3_transformer_timeseries.ipynb
# Shrunk: a synthetic 11-year "sunspot" cycle with noise (torch.rand/randn) instead of SN_d_tot_V2.0.csv
# (pandas); sklearn's StandardScaler written out as the few NumPy lines it is (fit/transform/inverse);
# SEQUENCE_SIZE 16, d_model 32, 4 heads, 2 layers, feed-forward 64, batches of 32, 300 points, 6 epochs, patience 2;
# the "PyTorch version" line dropped (the version string names the library); the plotted loss curves
# and predictions are printed.
try:
    import google.colab
    COLAB = True
    print("Note: using Google CoLab")
except ImportError:
    print("Note: not using Google CoLab")
    COLAB = False

# Make use of a GPU or MPS (Apple) if one is available.
import torch

if torch.cuda.is_available():
    device = torch.device("cuda")
elif torch.backends.mps.is_available():
    device = torch.device("mps")
else:
    device = torch.device("cpu")

print(f"Using device: {device}")

import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class StandardScaler:
    """sklearn.preprocessing.StandardScaler, as far as the notebook uses it."""

    def fit_transform(self, x):
        self.mean_ = x.mean(axis=0)
        self.scale_ = x.std(axis=0)
        return self.transform(x)

    def transform(self, x):
        return (x - self.mean_) / self.scale_

    def inverse_transform(self, x):
        return x * self.scale_ + self.mean_


# Reproducibility
SEED = 42
torch.manual_seed(SEED)
np.random.seed(SEED)

# A daily sunspot number: an 11-year cycle (here 100 "days" long) with noise, never negative.
days = torch.arange(0, 300, dtype=torch.float64)
sn_value = (80 * (1 - torch.cos(2 * math.pi * days / 100)) + 20 * torch.randn(300, dtype=torch.float64)
            + 10 * torch.rand(300, dtype=torch.float64)).clamp(min=0).round()
year = 1900 + days / 4

# Data preprocessing
spots_train = sn_value[year < 1950].numpy().reshape(-1, 1)
spots_test = sn_value[year >= 1950].numpy().reshape(-1, 1)

scaler = StandardScaler()
spots_train = scaler.fit_transform(spots_train).flatten().tolist()
spots_test = scaler.transform(spots_test).flatten().tolist()

print(f"Training samples: {len(spots_train)}")
print(f"Test samples:     {len(spots_test)}")

# Sequence data preparation
SEQUENCE_SIZE = 16

def to_sequences(seq_size, obs):
    x, y = [], []
    for i in range(len(obs) - seq_size):
        x.append(obs[i:(i + seq_size)])
        y.append(obs[i + seq_size])
    x = torch.tensor(x, dtype=torch.float32).view(-1, seq_size, 1)
    y = torch.tensor(y, dtype=torch.float32).view(-1, 1)
    return x, y

x_train, y_train = to_sequences(SEQUENCE_SIZE, spots_train)
x_test,  y_test  = to_sequences(SEQUENCE_SIZE, spots_test)

print(f"x_train shape: {tuple(x_train.shape)}")
print(f"y_train shape: {tuple(y_train.shape)}")
print(f"x_test  shape: {tuple(x_test.shape)}")

# Data loaders
BATCH_SIZE = 32
train_dataset = TensorDataset(x_train, y_train)
train_loader  = DataLoader(train_dataset, batch_size=BATCH_SIZE,
                           shuffle=True, drop_last=True)

test_dataset = TensorDataset(x_test, y_test)
test_loader  = DataLoader(test_dataset, batch_size=BATCH_SIZE,
                          shuffle=False)


class PositionalEncoding(nn.Module):
    """Sinusoidal positional encoding, batch-first compatible."""
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 5000):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)

        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(
            torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model)
        )
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        # Shape: (1, max_len, d_model) for broadcasting over batch dimension
        pe = pe.unsqueeze(0)
        self.register_buffer('pe', pe, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (batch, seq_len, d_model)
        x = x + self.pe[:, :x.size(1), :]
        return self.dropout(x)


class RevIN(nn.Module):
    """Reversible Instance Normalization (Kim et al., ICLR 2022).

    Normalizes each sequence in a batch using its own mean and standard
    deviation. Use ``mode='norm'`` before the model and ``mode='denorm'``
    after the model to invert the transformation.
    """
    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.affine = affine
        if affine:
            self.affine_weight = nn.Parameter(torch.ones(num_features))
            self.affine_bias   = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: torch.Tensor, mode: str) -> torch.Tensor:
        # x: (batch, seq_len, num_features)
        if mode == 'norm':
            self.mean = x.mean(dim=1, keepdim=True).detach()
            self.stdev = torch.sqrt(
                x.var(dim=1, keepdim=True, unbiased=False) + self.eps
            ).detach()
            x = (x - self.mean) / self.stdev
            if self.affine:
                x = x * self.affine_weight + self.affine_bias
            return x
        elif mode == 'denorm':
            if self.affine:
                x = (x - self.affine_bias) / (self.affine_weight + self.eps**2)
            x = x * self.stdev + self.mean
            return x
        else:
            raise ValueError(f"Unknown mode: {mode}")


class TimeSeriesTransformer(nn.Module):
    """A modern encoder-only transformer for univariate time-series forecasting."""
    def __init__(
        self,
        input_dim: int = 1,
        d_model: int = 128,
        nhead: int = 8,
        num_layers: int = 3,
        dim_feedforward: int = 512,
        dropout: float = 0.1,
        max_len: int = 512,
        use_revin: bool = True,
    ):
        super().__init__()
        self.use_revin = use_revin
        if use_revin:
            self.revin = RevIN(input_dim)

        self.input_proj  = nn.Linear(input_dim, d_model)
        self.pos_encoder = PositionalEncoding(d_model, dropout, max_len)

        encoder_layer = nn.TransformerEncoderLayer(
            d_model=d_model,
            nhead=nhead,
            dim_feedforward=dim_feedforward,
            dropout=dropout,
            activation='gelu',
            batch_first=True,
            norm_first=True,   # Pre-norm; stabler training
        )
        self.transformer_encoder = nn.TransformerEncoder(
            encoder_layer,
            num_layers=num_layers,
            norm=nn.LayerNorm(d_model),
        )

        self.head = nn.Sequential(
            nn.Linear(d_model, d_model),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(d_model, input_dim),
        )

        self._init_weights()

    def _init_weights(self):
        for module in [self.input_proj, *self.head]:
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (batch, seq_len, input_dim)
        if self.use_revin:
            x = self.revin(x, mode='norm')

        h = self.input_proj(x)
        h = self.pos_encoder(h)

        # Causal mask: position i may not attend to positions > i.
        seq_len = h.size(1)
        causal_mask = nn.Transformer.generate_square_subsequent_mask(
            seq_len, device=h.device
        )

        h = self.transformer_encoder(h, mask=causal_mask, is_causal=True)

        # Mean-pool across the sequence to produce a single forecast vector.
        h = h.mean(dim=1)             # (batch, d_model)
        y = self.head(h)              # (batch, input_dim)

        if self.use_revin:
            # Reapply per-sequence statistics so the prediction lives in the
            # original scale. The denorm path expects a sequence dimension.
            y = self.revin(y.unsqueeze(1), mode='denorm').squeeze(1)
        return y

model = TimeSeriesTransformer(
    input_dim=1,
    d_model=32,
    nhead=4,
    num_layers=2,
    dim_feedforward=64,
    dropout=0.1,
    max_len=SEQUENCE_SIZE + 16,
    use_revin=True,
).to(device)

n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
print(f"Model parameters: {n_params:,}")
print("buffers in the state_dict:", [k for k in model.state_dict() if 'pe' in k])

from torch.optim.lr_scheduler import LambdaLR

def cosine_warmup_schedule(optimizer, num_warmup_steps: int,
                            num_training_steps: int, min_lr_ratio: float = 0.05):
    """Linear warmup followed by cosine decay to ``min_lr_ratio`` of the peak."""
    def lr_lambda(step):
        if step < num_warmup_steps:
            return float(step) / float(max(1, num_warmup_steps))
        progress = float(step - num_warmup_steps) / float(
            max(1, num_training_steps - num_warmup_steps)
        )
        cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
        return max(min_lr_ratio, cosine)
    return LambdaLR(optimizer, lr_lambda)

import contextlib

# Hyperparameters
EPOCHS         = 6
PEAK_LR        = 5e-3
WEIGHT_DECAY   = 1e-4
GRAD_CLIP_NORM = 1.0
WARMUP_FRAC    = 0.10
PATIENCE       = 2

criterion = nn.MSELoss()
optimizer = torch.optim.AdamW(
    model.parameters(), lr=PEAK_LR, weight_decay=WEIGHT_DECAY, betas=(0.9, 0.95)
)

steps_per_epoch    = len(train_loader)
num_training_steps = steps_per_epoch * EPOCHS
num_warmup_steps   = int(WARMUP_FRAC * num_training_steps)
scheduler          = cosine_warmup_schedule(
    optimizer, num_warmup_steps, num_training_steps
)
print(f"steps per epoch: {steps_per_epoch}, warmup steps: {num_warmup_steps}")

# Mixed precision: enabled only on CUDA; on CPU/MPS we use a null context.
use_amp = device.type == 'cuda'
scaler_amp = torch.amp.GradScaler('cuda', enabled=use_amp)

def autocast_ctx():
    if use_amp:
        return torch.amp.autocast(device_type='cuda')
    return contextlib.nullcontext()

best_val_loss = float('inf')
best_state    = None
early_stop    = 0
history       = {'train': [], 'val': []}

for epoch in range(1, EPOCHS + 1):
    # ----- Training -----
    model.train()
    train_losses = []
    for x_batch, y_batch in train_loader:
        x_batch = x_batch.to(device, non_blocking=True)
        y_batch = y_batch.to(device, non_blocking=True)

        optimizer.zero_grad(set_to_none=True)
        with autocast_ctx():
            outputs = model(x_batch)
            loss    = criterion(outputs, y_batch)

        scaler_amp.scale(loss).backward()
        scaler_amp.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP_NORM)
        scaler_amp.step(optimizer)
        scaler_amp.update()
        scheduler.step()

        train_losses.append(loss.item())

    train_loss = float(np.mean(train_losses))

    # ----- Validation -----
    model.eval()
    val_losses = []
    with torch.no_grad():
        for x_batch, y_batch in test_loader:
            x_batch = x_batch.to(device, non_blocking=True)
            y_batch = y_batch.to(device, non_blocking=True)
            with autocast_ctx():
                outputs = model(x_batch)
                loss    = criterion(outputs, y_batch)
            val_losses.append(loss.item())
    val_loss = float(np.mean(val_losses))

    history['train'].append(train_loss)
    history['val'].append(val_loss)

    current_lr = optimizer.param_groups[0]['lr']
    print(f"Epoch {epoch:3d}/{EPOCHS} | train {train_loss:.5f} | "
          f"val {val_loss:.5f} | lr {current_lr:.2e}")

    # ----- Early stopping -----
    if val_loss < best_val_loss - 1e-6:
        best_val_loss = val_loss
        best_state    = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        early_stop    = 0
    else:
        early_stop += 1
        if early_stop >= PATIENCE:
            print(f"Early stopping after {epoch} epochs (no improvement for {PATIENCE} epochs).")
            break

if best_state is not None:
    model.load_state_dict(best_state)
print(f"\nBest validation MSE: {best_val_loss:.5f}")
print("grad scaler enabled:", scaler_amp.is_enabled(), " scale:", scaler_amp.get_scale())

model.eval()
predictions = []
targets     = []
with torch.no_grad():
    for x_batch, y_batch in test_loader:
        x_batch = x_batch.to(device, non_blocking=True)
        outputs = model(x_batch).cpu().numpy()
        predictions.append(outputs)
        targets.append(y_batch.numpy())

predictions = np.concatenate(predictions, axis=0).reshape(-1, 1)
targets     = np.concatenate(targets,     axis=0).reshape(-1, 1)

predictions_orig = scaler.inverse_transform(predictions)
targets_orig     = scaler.inverse_transform(targets)

rmse = float(np.sqrt(np.mean((predictions_orig - targets_orig) ** 2)))
mae  = float(np.mean(np.abs(predictions_orig - targets_orig)))
print(f"Score (RMSE): {rmse:.4f}")
print(f"Score (MAE):  {mae:.4f}")

# The notebook plots the loss curves and the first test predictions against the actual counts.
print("train history:", [round(v, 4) for v in history['train']])
print("val history:  ", [round(v, 4) for v in history['val']])
print("actual:   ", np.round(targets_orig[:8, 0], 1))
print("predicted:", np.round(predictions_orig[:8, 0], 1))
