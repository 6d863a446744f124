# Source: CMU 11-785 Introduction to Deep Learning, HW1P2 (frame-level phoneme classification from
#   MFCC frames with a context window), Fall 2023 / Spring 2024, as a student solved it:
#   https://github.com/YM2025/CMU_11785_2024S  HW1P2/dataset.py, HW1P2/model.py, HW1P2/help.py,
#   HW1P2/train.py
# Shrunk: 10 synthetic utterances (random 28-dim "MFCC" frames, 12-27 frames each, one of 8
# phonemes per frame: a template per phoneme plus noise; transcripts wrapped in [SOS]/[EOS]) held in
# memory instead of the .npy files the dataset reads with os.listdir/np.load (the loading loop is the
# original's, the file reads replaced by list indexing; the original's typo `= mfc` is `= mfcc`);
# context 30 -> 3, hidden sizes [1,2,4,4,2,1]*512 -> *16, batch 2048 -> 64, 4 epochs, lr 1e-3 -> 1e-2;
# the config switches on what the script offers: CMN, the dropout-style feature mask (use_mask=1,
# NumPy's seeded global generator), R-Drop (two dropout passes + symmetric KL), the Adam-to-SGD
# switch. No tqdm bars, wandb, torchsummaryX or multi-worker loading: the checkpoint goes to an
# in-memory buffer instead of model.pt and is read back at the end. autocast/GradScaler are the
# original's torch.cuda.amp ones (disabled on CPU).
# use_batchnorm is off: a Linear bias right before BatchNorm has a gradient that is only rounding
# noise, which Adam scales up to full steps, so its value (and the running mean, and a validation
# argmax or two) would depend on the float32 summation order of each library and CPU.
import io
import os
import gc
import random
import numpy as np
import torch
import torch.nn as nn

from torch.cuda.amp import GradScaler, autocast
scaler = GradScaler()

# ---------------------------------------------------------------- dataset.py
PHONEMES = [
            '[SIL]',   'AA',    'AE',    'AH',    'AO',    'AW',    'AY',
            'B',     'CH',    'D',     'DH',    'EH',    'ER',    'EY',
            'F',     'G',     'HH',    'IH',    'IY',    'JH',    'K',
            'L',     'M',     'N',     'NG',    'OW',    'OY',    'P',
            'R',     'S',     'SH',    'T',     'TH',    'UH',    'UW',
            'V',     'W',     'Y',     'Z',     'ZH',    '[SOS]', '[EOS]'
        ]

# the "files" (synthetic): mfcc (frames, 28) and one phoneme per frame between [SOS] and [EOS]
FILES = {}
templates = 3 * torch.randn(40, 28)
for partition, n in (("train-clean-100", 6), ("dev-clean", 4)):
    mfccs, transcripts = [], []
    for _ in range(n):
        T = int(torch.randint(12, 28, (1,)))
        labels = torch.randint(0, 8, (T,))
        mfccs.append((templates[labels] + torch.randn(T, 28)).numpy())
        transcripts.append(np.array(['[SOS]'] + [PHONEMES[i] for i in labels.tolist()] + ['[EOS]']))
    FILES[partition] = {"mfcc": mfccs, "transcript": transcripts}


class AudioDataset(torch.utils.data.Dataset):

    def __init__(self, root, phonemes=PHONEMES, context=0, partition="train-clean-100", subset_ratio=1.0, use_mask=0, use_cmn=False):
        self.use_mask = use_mask
        self.use_cmn = use_cmn
        self.context = context
        self.phonemes = phonemes[:-2]
        self.PHONEMES_MAP = {}
        for i, p in enumerate(self.phonemes):
            self.PHONEMES_MAP[p] = i

        mfcc_names = FILES[partition]["mfcc"]
        transcript_names = FILES[partition]["transcript"]
        assert len(mfcc_names) == len(transcript_names)

        mfcc_length = int(len(mfcc_names) * subset_ratio)
        mfcc_names = mfcc_names[:mfcc_length]
        transcript_names = transcript_names[:mfcc_length]

        T = 0
        for i in range(mfcc_length):
            mfcc = mfcc_names[i]
            T += mfcc.shape[0]
        self.length = T

        self._init_data(mfcc_names, transcript_names, mfcc.shape[1])


    def __len__(self):
        return self.length


    def __getitem__(self, index):
        actual_idx = index + self.context

        lower = actual_idx - self.context
        upper = actual_idx + self.context + 1

        frames = self.mfccs[lower:upper]

        assert len(frames) == 2 * self.context + 1, f"Expected window size of {2 * self.context + 1}, but got {len(frames)}"

        if self.use_mask:
            frames = self._apply_masking(frames)

        frames = frames.flatten()

        frames = torch.FloatTensor(frames)
        phonemes = torch.tensor(self.transcripts[index])

        return frames, phonemes


    def _init_data(self, mfcc_names, transcript_names, mfcc_Feature_num):

            self.mfccs = np.zeros((self.length + 2 * self.context, mfcc_Feature_num), dtype=np.float32)
            self.transcripts = np.zeros((self.length,), dtype=np.uint8)

            mfccs_index, transcripts_index = 0, 0
            for i in range(len(mfcc_names)):

                mfcc = mfcc_names[i]

                if self.use_cmn:
                    mean = np.mean(mfcc, axis=0)
                    std = np.std(mfcc, axis=0)
                    mfcc = (mfcc - mean) / std

                transcript = transcript_names[i]
                assert transcript[0] == '[SOS]' and transcript[-1] == '[EOS]'
                transcript = transcript[1:-1]
                transcript = [self.PHONEMES_MAP[p] for p in transcript]

                T_i = mfcc.shape[0]
                self.mfccs[mfccs_index : mfccs_index + T_i] = mfcc
                self.transcripts[transcripts_index : transcripts_index + T_i] = transcript
                mfccs_index += T_i
                transcripts_index += T_i

            self.mfccs = np.concatenate([np.zeros((self.context, mfcc_Feature_num)), self.mfccs, np.zeros((self.context, mfcc_Feature_num))], axis=0)


    def _apply_masking(self, frames):
        mask_percentage = 0.05
        mask_dropout = 0.05

        if self.use_mask == 1:
            mask = np.random.binomial(1, 1-mask_dropout, frames.shape)
            return frames * mask
        elif self.use_mask == 2:
            seq_len, feature_dim = frames.shape
            mask_len = int(seq_len * mask_percentage)
            mask_indices = np.random.choice(seq_len, mask_len, replace=False)
            frames[mask_indices, :] = 0
        elif self.use_mask == 3:
            seq_len, feature_dim = frames.shape
            mask_len = int(feature_dim * mask_percentage)
            mask_indices = np.random.choice(feature_dim, mask_len, replace=False)
            frames[:, mask_indices] = 0
        elif self.use_mask == 4:
            seq_len, feature_dim = frames.shape

            time_mask_len = int(seq_len * mask_percentage)
            time_mask_indices = np.random.choice(seq_len, time_mask_len, replace=False)
            frames[time_mask_indices, :] = 0

            freq_mask_len = int(feature_dim * mask_percentage)
            freq_mask_indices = np.random.choice(feature_dim, freq_mask_len, replace=False)
            frames[:, freq_mask_indices] = 0

        return frames


# ---------------------------------------------------------------- model.py
config = {
    'epochs'        : 4,
    'batch_size'    : 64,
    'context'       : 3,
    'init_lr'       : 1e-2,
    'dropout_rate'  : 0.2,
    'hidden_sizes'  : np.array([1,2,4,4,2,1]) * 16,
    'use_LeakyReLU' : False,
    'use_batchnorm' : False,
    'use_dropout'   : True,
    'custom_weight_init' : False,
    'use_cmn'       : True,
    'use_mask'      : 1,
    'use_switch_Adam_to_SGD': True,
    'use_Rdrop'     : True,
}


class MLP_Net(torch.nn.Module):
    def __init__(self, input_size, output_size, hidden_sizes, dropout_rate, use_LeakyReLU = False, use_batchnorm=True, use_dropout=True, custom_weight_init=False):
        super(MLP_Net, self).__init__()
        self.layers = []
        for hs in hidden_sizes:
            self.layers.extend(self._mlp_layer_provider(input_size, hs, dropout_rate, use_LeakyReLU, use_batchnorm, use_dropout))
            input_size = hs
        self.layers.append(nn.Linear(input_size, output_size))
        self.model = nn.Sequential(*self.layers)

        if custom_weight_init:
            self.model.apply(self._weights_init)


    def forward(self, x):
        return self.model(x)


    def _mlp_layer_provider(self, input_size, hidden_size, dropout_rate, use_LeakyReLU, use_batchnorm, use_dropout):

        modules = [nn.Linear(input_size, hidden_size)]

        if use_batchnorm:
            modules.append(nn.BatchNorm1d(hidden_size))

        if use_LeakyReLU:
            modules.append(nn.LeakyReLU())
        else:
            modules.append(nn.GELU())

        if use_dropout:
            modules.append(nn.Dropout(dropout_rate))

        return modules


    def _weights_init(self, m):
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.weight, mean=0, std=0.01)
            if m.bias is not None:
                torch.nn.init.constant_(m.bias, 0)


# ---------------------------------------------------------------- help.py
def should_switch_to_sgd(validation_losses, threshold=4):
    if len(validation_losses) >= threshold:
        if all(validation_losses[i] <= validation_losses[i + 1] for i in range(-threshold, -1)):
            return True
    return False


import torch.nn.functional as F
def compute_kl_loss(p, q, pad_mask=None):
    p_loss = F.kl_div(F.log_softmax(p, dim=-1), F.softmax(q, dim=-1), reduction='batchmean')
    q_loss = F.kl_div(F.log_softmax(q, dim=-1), F.softmax(p, dim=-1), reduction='batchmean')

    if pad_mask is not None:
        pad_mask = pad_mask.unsqueeze(-1)
        p_loss.masked_fill_(pad_mask, 0.)
        q_loss.masked_fill_(pad_mask, 0.)

    loss = (p_loss + q_loss) / 2
    return loss


# ---------------------------------------------------------------- train.py
SEED = 11785
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)
torch.cuda.manual_seed(SEED)
torch.backends.cudnn.deterministic = True
torch.backends.cudnn.benchmark = False


def train(model, dataloader, optimizer, criterion, device):
    model.train()
    tloss, correct, total = 0, 0, 0

    for frames, phonemes in dataloader:
        frames, phonemes = frames.to(device), phonemes.to(device)

        optimizer.zero_grad()

        with autocast():
            logits = model(frames)
            loss = criterion(logits, phonemes)

        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

        tloss += loss.item()
        pred = torch.argmax(logits, dim=1)
        correct += (pred == phonemes).sum().item()
        total += phonemes.size(0)

    avg_loss = tloss / len(dataloader)
    avg_acc = 100 * correct / total

    return avg_loss, avg_acc


def train_R_drop(model, dataloader, optimizer, criterion, device, alpha = 0.5):
    model.train()
    tloss, correct, total = 0, 0, 0

    for frames, phonemes in dataloader:
        frames, phonemes = frames.to(device), phonemes.to(device)

        optimizer.zero_grad()

        with autocast():
            logits1 = model(frames)
            logits2 = model(frames)
            ce_loss = 0.5 * (criterion(logits1, phonemes) + criterion(logits2, phonemes))
            kl_loss = compute_kl_loss(logits1, logits2)
            loss = ce_loss + alpha * kl_loss

        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

        tloss += loss.item()
        pred = torch.argmax(logits1, dim=1)
        correct += (pred == phonemes).sum().item()
        total += phonemes.size(0)
        print("\tbatch: ce {:.04f} kl {:.06f}".format(ce_loss.item(), kl_loss.item()))

    avg_loss = tloss / len(dataloader)
    avg_acc = 100 * correct / total

    return avg_loss, avg_acc


def eval(model, dataloader, criterion, device):
    model.eval()
    vloss, correct, total = 0, 0, 0

    with torch.inference_mode():
        for frames, phonemes in dataloader:
            frames, phonemes = frames.to(device), phonemes.to(device)

            logits = model(frames)
            loss = criterion(logits, phonemes)

            vloss += loss.item()
            pred = torch.argmax(logits, dim=1)
            correct += (pred == phonemes).sum().item()
            total += phonemes.size(0)

    avg_loss = vloss / len(dataloader)
    avg_acc = 100 * correct / total

    return avg_loss, avg_acc


device = 'cuda' if torch.cuda.is_available() else 'cpu'
print("Device: ", device)

data_path = 'E:/cv_data/cmu11785_data/'

train_data = AudioDataset(data_path,
                          phonemes = PHONEMES,
                          context=config['context'],
                          partition= "train-clean-100",
                          use_mask=config['use_mask'],
                          use_cmn=config['use_cmn'],
                          )
val_data = AudioDataset(data_path,
                        phonemes = PHONEMES,
                        context=config['context'],
                        partition= "dev-clean",
                        use_cmn=config['use_cmn'],
                        )
print("Train frames:", len(train_data), "Val frames:", len(val_data))
frames, phonemes = train_data[0]
print(frames.shape, frames.dtype, phonemes, phonemes.dtype)
print(train_data.mfccs.shape, train_data.mfccs.dtype, train_data.transcripts[:10])

train_loader = torch.utils.data.DataLoader(
    dataset     = train_data,
    num_workers = 0,
    batch_size  = config['batch_size'],
    pin_memory  = True,
    shuffle     = True,
)

val_loader = torch.utils.data.DataLoader(
    dataset     = val_data,
    num_workers = 0,
    batch_size  = config['batch_size'],
    pin_memory  = True,
    shuffle     = False,
)


INPUT_SIZE  = (2*config['context'] + 1) * 28

model       = MLP_Net(INPUT_SIZE, len(train_data.phonemes),
                      config['hidden_sizes'],
                      config['dropout_rate'],
                      use_LeakyReLU = config['use_LeakyReLU'],
                      use_batchnorm = config['use_batchnorm'],
                      use_dropout = config['use_dropout'],
                      custom_weight_init = config['custom_weight_init']).to(device)

print(model)

criterion = torch.nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr= config['init_lr'])


scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max = 10, eta_min = 1e-4)

torch.cuda.empty_cache()
gc.collect()


model_path = io.BytesIO()

best_val_acc = 0.0


validation_losses = []
use_switch_Adam_to_SGD = config['use_switch_Adam_to_SGD']

for epoch in range(config['epochs']):
    print(f"\nEpoch {epoch+1}/{config['epochs']}")

    curr_lr = float(optimizer.param_groups[0]['lr'])

    if config['use_Rdrop']:
        train_loss, train_acc = train_R_drop(model, train_loader, optimizer, criterion, device)
    else:
        train_loss, train_acc = train(model, train_loader, optimizer, criterion, device)

    scheduler.step()

    val_loss, val_acc = eval(model, val_loader, criterion, device)

    print(f"\tTrain Acc: {train_acc:.04f}%\tTrain Loss: {train_loss:.04f}\tLearning Rate: {curr_lr:.07f}")
    print(f"\tVal Acc: {val_acc:.04f}%\tVal Loss: {val_loss:.04f}")

    validation_losses.append(val_loss)
    if use_switch_Adam_to_SGD and should_switch_to_sgd(validation_losses):
        print(f"Switching from Adam to SGD at epoch {epoch + 1}")
        optimizer = torch.optim.SGD(model.parameters(), lr=config['init_lr'], momentum=0.9)
        use_switch_Adam_to_SGD = False

    if val_acc > best_val_acc:
        print(f"Validation accuracy improved from {best_val_acc:.04f}% to {val_acc:.04f}%. Saving model...")
        best_val_acc = val_acc
        model_path.seek(0)
        torch.save({
            'epoch': epoch,
            'model_state_dict': model.state_dict(),
            'optimizer_state_dict': optimizer.state_dict(),
            'scheduler_state_dict': scheduler.state_dict(),
            'loss': val_loss,
            'val_acc': val_acc
        }, model_path)

# the plain (non-R-Drop) train function for one more epoch
train_loss, train_acc = train(model, train_loader, optimizer, criterion, device)
print(f"\tTrain Acc: {train_acc:.04f}%\tTrain Loss: {train_loss:.04f}")
print(should_switch_to_sgd([1.0, 1.1, 1.2, 1.3]), should_switch_to_sgd([1.0, 0.9, 1.2, 1.3]))

model_path.seek(0)
checkpoint = torch.load(model_path, weights_only=False)
print(checkpoint['epoch'], round(checkpoint['val_acc'], 4), list(checkpoint['scheduler_state_dict'].keys()))
model.load_state_dict(checkpoint['model_state_dict'])
print(eval(model, val_loader, criterion, device))
