# Source: CMU 11-785 Introduction to Deep Learning, HW3P2 (utterance-to-phoneme with CTC), Spring 2024,
#   as a student solved it on the course's starter notebook:
#   https://github.com/YM2025/CMU_11785_2024S  HW3P2/ym_config.py, HW3P2/ym_dataset.py, HW3P2/ym_model.py,
#   HW3P2/train.py, and the course starter HW3P2/HW3P2_Starter_S24.ipynb (decode_prediction,
#   calculate_levenshtein, criterion/optimizer/scheduler cell).
# Shrunk: 12 synthetic utterances (random 27-dim "MFCC" frames, 40-63 frames each, random phoneme
# transcripts of 3-7 phonemes wrapped in [SOS]/[EOS]) held in memory instead of the .npy files
# the dataset loads with np.load (the loop is the original's, os.listdir/np.load replaced by list
# indexing); Encoder widths 128/256 -> 32/64, Decoder MLP 2048/1024 -> 64/32, embed_size 128 -> 32,
# batch size 4, 2 epochs, no torchaudio FrequencyMasking/TimeMasking (the run uses
# audio_transformation=None as train.py does). The ctcdecode/pyctcdecode beam decoder becomes a
# greedy CTC decoder (argmax, merge repeats, drop blanks) with ctcdecode's decode() return shapes,
# so the starter's decode_prediction is unchanged; python-Levenshtein becomes a few-line edit
# distance. No tqdm, wandb, torchinfo summary or checkpoint files: the epoch summary lines print
# what the progress bars showed.
import torch
import random
import numpy as np
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset, DataLoader
from torch.nn.utils.rnn import PackedSequence, pad_sequence, pack_padded_sequence, pad_packed_sequence

device = 'cuda' if torch.cuda.is_available() else 'cpu'
print("Device: ", device)

# ---------------------------------------------------------------- ym_config.py
config = {
    "beam_width": 5,
    "lr": 2e-3,
    "epochs": 2,
    "batch_size": 4,
    "dropout": 0.2,
    "embed_size": 32,
}

CMUdict_ARPAbet = {
    "" : "-",
    "[SIL]": "|", "NG": "G", "F" : "f", "M" : "m", "AE": "@",
    "R"    : "r", "UW": "u", "N" : "n", "IY": "i", "AW": "W",
    "V"    : "v", "UH": "U", "OW": "o", "AA": "a", "ER": "R",
    "HH"   : "h", "Z" : "z", "K" : "k", "CH": "C", "W" : "w",
    "EY"   : "e", "ZH": "Z", "T" : "t", "EH": "E", "Y" : "y",
    "AH"   : "A", "B" : "b", "P" : "p", "TH": "T", "DH": "D",
    "AO"   : "c", "G" : "g", "L" : "l", "JH": "j", "OY": "O",
    "SH"   : "S", "D" : "d", "AY": "Y", "S" : "s", "IH": "I",
    "[SOS]": "[SOS]", "[EOS]": "[EOS]"
}

CMUdict = list(CMUdict_ARPAbet.keys())
ARPAbet = list(CMUdict_ARPAbet.values())

PHONEMES = CMUdict[:-2]
LABELS = ARPAbet[:-2]

# the "files": mfcc (frames, 27) float32 arrays and transcripts with [SOS]/[EOS] (synthetic)
def make_partition(n):
    mfccs, transcripts = [], []
    for _ in range(n):
        T = int(torch.randint(40, 64, (1,)))
        mfccs.append((torch.randn(T, 27) * 2 + 1).numpy())
        L = int(torch.randint(3, 8, (1,)))
        ids = torch.randint(1, len(PHONEMES), (L,)).tolist()
        transcripts.append(np.array(['[SOS]'] + [PHONEMES[i] for i in ids] + ['[EOS]']))
    return {"mfcc": mfccs, "transcript": transcripts}

FILES = {"train-clean-100": make_partition(8), "dev-clean": make_partition(4)}


# ---------------------------------------------------------------- ym_dataset.py
class AudioDataset(torch.utils.data.Dataset):

    def __init__(self, root=None, partition="train-clean-100", use_cmn=False, audio_transformation=None):
        self.phonemes = PHONEMES
        self.mfccs, self.transcripts = self._init_data(partition, use_cmn=use_cmn)

        print(self.length, len(self.mfccs), len(self.transcripts))

        if audio_transformation is not None:
            self.transformation = audio_transformation
        else:
            self.transformation = nn.Sequential()

    def _init_data(self, root: str, use_cmn=False):
        mfcc_names = FILES[root]["mfcc"]
        transcript_names = FILES[root]["transcript"]

        self.length = len(mfcc_names)

        self.mfccs, self.transcripts = [], []
        for i in range(len(mfcc_names)):
            mfcc = mfcc_names[i]
            if use_cmn:
                mfcc = mfcc - np.mean(mfcc, axis=0)
            transcript = transcript_names[i]
            assert transcript[0] == '[SOS]' and transcript[-1] == '[EOS]'
            transcript = transcript[1:-1]
            transcript = np.vectorize(self.phonemes.index)(transcript)
            self.mfccs.append(mfcc)
            self.transcripts.append(transcript)

        return self.mfccs, self.transcripts

    def __len__(self):
        return self.length

    def __getitem__(self, ind):
        mfcc = self.mfccs[ind]
        transcript = self.transcripts[ind]
        return torch.FloatTensor(mfcc), torch.tensor(transcript)

    def collate_fn(self, batch):
        batch_mfcc, batch_transcript = [], []
        lengths_mfcc, lengths_transcript = [], []
        for (m, t) in batch:
            batch_mfcc.append(m)
            lengths_mfcc.append(len(m))
            batch_transcript.append(t)
            lengths_transcript.append(len(t))

        batch_mfcc_pad = pad_sequence(batch_mfcc, batch_first=True)
        batch_mfcc_pad = self.transformation(batch_mfcc_pad)
        batch_transcript_pad = pad_sequence(batch_transcript, batch_first=True)

        return batch_mfcc_pad, batch_transcript_pad, torch.tensor(lengths_mfcc), torch.tensor(lengths_transcript)


# ---------------------------------------------------------------- ym_model.py
class PermuteBlock(torch.nn.Module):
    def forward(self, x):
        return x.transpose(1, 2)


class LockedDropout(nn.Module):
    def __init__(self, drop_prob):
        super(LockedDropout, self).__init__()
        self.prob = drop_prob
    def forward(self, x):
        if not self.training or not self.prob: # turn it off during inference
            return x
        x, x_lens = pad_packed_sequence(x, batch_first = True)
        m = x.new_empty(x.size(0), 1, x.size(2),requires_grad=False).bernoulli_(1 - self.prob)
        mask = m / (1 - self.prob)
        mask = mask.expand_as(x)
        out = x * mask
        out = pack_padded_sequence(out,x_lens, batch_first = True, enforce_sorted= False)
        return out


class Encoder(nn.Module):
    def __init__(self, input_size, hidden_size):
        super(Encoder, self).__init__()
        expand_dims = [32, 64]

        self.embed = nn.Sequential(
            PermuteBlock(),
            nn.Conv1d(in_channels=input_size, out_channels=expand_dims[0], kernel_size=3, stride=1, padding=1),
            nn.BatchNorm1d(num_features=expand_dims[0]),
            nn.GELU(),
            nn.Conv1d(in_channels=expand_dims[0], out_channels=expand_dims[1], kernel_size=3, stride=1, padding=1),
            nn.BatchNorm1d(num_features=expand_dims[1]),
            PermuteBlock()
        )

        self.pBLSTMs = nn.Sequential(
            pBLSTM(input_size=expand_dims[1], hidden_size=hidden_size),
            LockedDropout(0.4),
            pBLSTM(input_size=2*hidden_size, hidden_size=hidden_size),
            LockedDropout(0.3)
        )

    def forward(self, x, lens):
        x = self.embed(x)
        lens = lens.clamp(max=x.shape[1]).cpu()

        x = pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        x = self.pBLSTMs(x)
        outputs, lens = pad_packed_sequence(x, batch_first=True)

        return outputs, lens


class Decoder(torch.nn.Module):

    def __init__(self, embed_size, output_size= 41):
        super().__init__()

        self.mlp = torch.nn.Sequential(
            PermuteBlock(), torch.nn.BatchNorm1d(embed_size), PermuteBlock(),
            nn.Linear(embed_size, 64),
            nn.GELU(),
            PermuteBlock(), torch.nn.BatchNorm1d(64), PermuteBlock(),
            nn.Dropout(0.2),
            nn.Linear(64, 32),
            nn.GELU(),
            PermuteBlock(), torch.nn.BatchNorm1d(32), PermuteBlock(),
            nn.Dropout(0.2),
            nn.Linear(32, output_size)
        )

        self.softmax = torch.nn.LogSoftmax(dim=2)

    def forward(self, encoder_out):
        out = self.mlp(encoder_out)
        out = self.softmax(out)

        return out


class pBLSTM(torch.nn.Module):

    def __init__(self, input_size, hidden_size):
        super(pBLSTM, self).__init__()

        self.blstm = nn.LSTM(input_size=2*input_size, hidden_size=hidden_size, num_layers=1, bidirectional=True, dropout=0.2, batch_first=True)

    def forward(self, x_packed):

        x, lengths = pad_packed_sequence(x_packed, batch_first=True)

        x, x_lens = self.trunc_reshape(x, lengths)

        x = pack_padded_sequence(x, x_lens, batch_first=True, enforce_sorted=False)

        x, h = self.blstm(x)

        return x

    def trunc_reshape(self, x, x_lens):
        if x.shape[1] % 2 != 0:
            x = x[:, :-1, :]

        x = x.reshape(x.shape[0], x.shape[1] // 2, x.shape[2] * 2)
        x_lens = x_lens // 2
        return x, x_lens


class ASRModel(torch.nn.Module):

    def __init__(self, input_size, embed_size=192, output_size=len(PHONEMES)):
        super().__init__()

        self.encoder = Encoder(input_size, embed_size)
        self.decoder = Decoder(embed_size*2, output_size)

    def forward(self, x, lengths_x):
        encoder_out, encoder_lens = self.encoder(x, lengths_x)
        decoder_out = self.decoder(encoder_out)

        return decoder_out, encoder_lens


# ---------------------------------------------------------------- stand-ins for ctcdecode and Levenshtein
class GreedyCTCDecoder:
    """ctcdecode.CTCBeamDecoder.decode's return shapes, beam width 1: argmax, merge repeats, drop blank 0."""
    def decode(self, output, seq_lens):
        best = output.argmax(dim=2)
        B = output.shape[0]
        beam_results = torch.zeros(B, 1, output.shape[1], dtype=torch.int)
        out_seq_len = torch.zeros(B, 1, dtype=torch.int)
        for b in range(B):
            path, prev = [], 0
            for t in range(int(seq_lens[b])):
                c = int(best[b, t])
                if c != prev and c != 0:
                    path.append(c)
                prev = c
            beam_results[b, 0, :len(path)] = torch.tensor(path, dtype=torch.int)
            out_seq_len[b, 0] = len(path)
        return beam_results, None, None, out_seq_len


class Levenshtein:
    @staticmethod
    def distance(a, b):
        row = list(range(len(b) + 1))
        for i, ca in enumerate(a, 1):
            prev, row[0] = row[0], i
            for j, cb in enumerate(b, 1):
                prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
        return row[-1]


# ---------------------------------------------------------------- HW3P2_Starter_S24.ipynb
def decode_prediction(output, output_lens, decoder, PHONEME_MAP= LABELS):

    beam_results, beam_scores, timesteps, out_seq_len = decoder.decode(output, seq_lens= output_lens) #lengths - list of lengths

    pred_strings  = []
    for i in range(output_lens.shape[0]):
        pred_strings.append(''.join([PHONEME_MAP[n] for n in beam_results[i][0][:out_seq_len[i][0]]]))

    return pred_strings

def calculate_levenshtein(output, label, output_lens, label_lens, decoder, PHONEME_MAP= LABELS): # y - sequence of integers

    dist            = 0
    batch_size      = label.shape[0]

    pred_strings    = decode_prediction(output, output_lens, decoder, PHONEME_MAP)
    for i in range(batch_size):
        pred_string = pred_strings[i]
        label_string = ''.join([PHONEME_MAP[n] for n in label[i][:label_lens[i]]])
        dist += Levenshtein.distance(pred_string, label_string)

    dist /= batch_size

    return dist


# ---------------------------------------------------------------- train.py
def train_model(model, train_loader, criterion, optimizer):

    model.train()

    total_loss = 0

    for i, data in enumerate(train_loader):
        optimizer.zero_grad()

        x, y, lx, ly = data
        x, y = x.to(device), y.to(device)

        with torch.amp.autocast("cuda"):
            h, lh = model(x, lx)
            h = torch.permute(h, (1, 0, 2))
            loss = criterion(h, y, lh, ly)

        total_loss += loss.item()

        print("  Train batch {}: loss={:.04f} lr={:.06f}".format(
            i, float(total_loss / (i + 1)), float(optimizer.param_groups[0]['lr'])))

        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

        del x, y, lx, ly, h, lh, loss
        torch.cuda.empty_cache()

    return total_loss / len(train_loader)


def validate_model(model, val_loader, decoder, phoneme_map=LABELS):

    model.eval()

    total_loss = 0
    vdist = 0

    for i, data in enumerate(val_loader):

        x, y, lx, ly = data
        x, y = x.to(device), y.to(device)

        with torch.inference_mode():
            h, lh = model(x, lx)
            h = torch.permute(h, (1, 0, 2))
            loss = criterion(h, y, lh, ly)

        total_loss += float(loss)
        vdist += calculate_levenshtein(torch.permute(h, (1, 0, 2)), y, lh, ly, decoder, phoneme_map)

        print("  Val batch {}: loss={:.04f} dist={:.04f}".format(i, float(total_loss / (i + 1)), float(vdist / (i + 1))))

        del x, y, lx, ly, h, lh, loss
        torch.cuda.empty_cache()

    total_loss = total_loss / len(val_loader)
    val_dist = vdist / len(val_loader)
    return total_loss, val_dist


train_data = AudioDataset(partition="train-clean-100", use_cmn=True, audio_transformation=None)
val_data = AudioDataset(partition="dev-clean", use_cmn=True, audio_transformation=None)

train_loader = torch.utils.data.DataLoader(
    dataset     = train_data,
    num_workers = 0,
    batch_size  = config["batch_size"],
    pin_memory  = False,
    shuffle     = True,
    collate_fn = train_data.collate_fn
)

val_loader = torch.utils.data.DataLoader(
    dataset     = val_data,
    num_workers = 0,
    batch_size  = config["batch_size"],
    pin_memory  = False,
    shuffle     = False,
    collate_fn = val_data.collate_fn
)

print("Batch size: ", config["batch_size"])
print("Train dataset samples = {}, batches = {}".format(train_data.__len__(), len(train_loader)))
print("Val dataset samples = {}, batches = {}".format(val_data.__len__(), len(val_loader)))

# the starter notebook's shape check: one batch through the model
for data in train_loader:
    x, y, lx, ly = data
    print(x.shape, y.shape, lx.shape, ly.shape)
    print(lx, ly)
    break

model = ASRModel(
    input_size  = 27,
    embed_size  = config['embed_size'],
    output_size = len(PHONEMES)
).to(device)
print(model)
print("Params:", sum(p.numel() for p in model.parameters()))

criterion = torch.nn.CTCLoss(blank=0, reduction='mean', zero_infinity=False)

optimizer = torch.optim.AdamW(model.parameters(), lr=config['lr'])

decoder = GreedyCTCDecoder()

scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=50, eta_min=1e-6)

scaler = torch.amp.GradScaler('cuda')

# test code to check shapes (starter notebook)
model.eval()
for i, data in enumerate(val_loader, 0):
    x, y, lx, ly = data
    x, y = x.to(device), y.to(device)
    h, lh = model(x, lx)
    print(h.shape)
    h = torch.permute(h, (1, 0, 2))
    print(h.shape, y.shape)
    loss = criterion(h, y, lh, ly)
    print(loss)
    print(lh)
    print(calculate_levenshtein(torch.permute(h, (1, 0, 2)), y, lh, ly, decoder, LABELS))
    break

best_lev_dist = float("inf")
for epoch in range(0, config['epochs']):

    print("\nEpoch {}/{}".format(epoch + 1, config['epochs']))

    curr_lr = float(optimizer.param_groups[0]['lr'])

    train_loss = train_model(model, train_loader, criterion, optimizer)
    valid_loss, valid_dist = validate_model(model, val_loader, decoder, LABELS)

    scheduler.step()

    print("\tTrain Loss {:.04f}\t Learning Rate {:.07f}".format(train_loss, curr_lr))
    print("\tVal Dist {:.04f}\t Val Loss {:.04f}".format(valid_dist, valid_loss))

    if valid_dist <= best_lev_dist:
        best_lev_dist = valid_dist
        print("Saved best model")

# what the decoder makes of the first validation utterances now
model.eval()
x, y, lx, ly = next(iter(val_loader))
with torch.inference_mode():
    h, lh = model(x, lx)
print(decode_prediction(h, lh, decoder, LABELS))
print([''.join([LABELS[n] for n in y[i][:ly[i]]]) for i in range(y.shape[0])])
print(h[0, :3, :6])
