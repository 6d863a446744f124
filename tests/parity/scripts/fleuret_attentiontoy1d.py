# Source: François Fleuret, EPFL EE-559 / UNIGE 14x050 "Deep Learning" (https://fleuret.org/dlc),
#   lecture 13.2 "Attention mechanisms": the 1d toy sequence task (triangles and boxes whose heights
#   must be averaged pairwise), the conv1d baseline and the model with a SelfAttentionLayer:
#   https://github.com/francoisfleuret/dlc  materials/attention/attentiontoy1d.py
# Shrunk: 300 train / 50 test sequences instead of 25000 / 1000, 16 channels instead of 64,
#   2 epochs instead of 250; argparse replaced by a loop over two of the course's four runs
#   (no attention; attention + grouping by location + positional encoding); the matplotlib
#   figures and the .dat log files dropped, printing instead.
import math
import random

import torch
from torch import nn
from torch.nn import functional as F
import numpy as np

######################################################################

device = torch.device('cpu')

seq_height_min, seq_height_max = 1.0, 25.0
seq_width_min, seq_width_max = 5.0, 11.0
seq_length = 100

def positions_to_sequences(tr = None, bx = None, noise_level = 0.3):
    st = torch.arange(seq_length, device = device).float()
    st = st[None, :, None]
    tr = tr[:, None, :, :]
    bx = bx[:, None, :, :]

    xtr =            torch.relu(tr[..., 1] - torch.relu(torch.abs(st - tr[..., 0]) - 0.5) * 2 * tr[..., 1] / tr[..., 2])
    xbx = torch.sign(torch.relu(bx[..., 1] - torch.abs((st - bx[..., 0]) * 2 * bx[..., 1] / bx[..., 2]))) * bx[..., 1]

    x = torch.cat((xtr, xbx), 2)

    # u = x.sign()
    u = F.max_pool1d(x.sign().permute(0, 2, 1), kernel_size = 2, stride = 1).permute(0, 2, 1)

    collisions = (u.sum(2) > 1).max(1).values
    y = x.max(2).values

    return y + torch.rand_like(y) * noise_level - noise_level / 2, collisions

######################################################################

def generate_sequences(nb):

    # Position / height / width

    tr = torch.empty(nb, 2, 3, device = device)
    tr[:, :, 0].uniform_(seq_width_max/2, seq_length - seq_width_max/2)
    tr[:, :, 1].uniform_(seq_height_min, seq_height_max)
    tr[:, :, 2].uniform_(seq_width_min, seq_width_max)

    bx = torch.empty(nb, 2, 3, device = device)
    bx[:, :, 0].uniform_(seq_width_max/2, seq_length - seq_width_max/2)
    bx[:, :, 1].uniform_(seq_height_min, seq_height_max)
    bx[:, :, 2].uniform_(seq_width_min, seq_width_max)

    if group_by_locations:
        a = torch.cat((tr, bx), 1)
        v = a[:, :, 0].sort(1).values[:, 2:3]
        mask_left = (a[:, :, 0] < v).float()
        h_left = (a[:, :, 1] * mask_left).sum(1) / 2
        h_right = (a[:, :, 1] * (1 - mask_left)).sum(1) / 2
        valid = (h_left - h_right).abs() > 4
    else:
        valid = (torch.abs(tr[:, 0, 1] - tr[:, 1, 1]) > 4) & (torch.abs(tr[:, 0, 1] - tr[:, 1, 1]) > 4)

    input, collisions = positions_to_sequences(tr, bx)

    if group_by_locations:
        a = torch.cat((tr, bx), 1)
        v = a[:, :, 0].sort(1).values[:, 2:3]
        mask_left = (a[:, :, 0] < v).float()
        h_left = (a[:, :, 1] * mask_left).sum(1, keepdim = True) / 2
        h_right = (a[:, :, 1] * (1 - mask_left)).sum(1, keepdim = True) / 2
        a[:, :, 1] = mask_left * h_left + (1 - mask_left) * h_right
        tr, bx = a.split(2, 1)
    else:
        tr[:, :, 1:2] = tr[:, :, 1:2].mean(1, keepdim = True)
        bx[:, :, 1:2] = bx[:, :, 1:2].mean(1, keepdim = True)

    targets, _ = positions_to_sequences(tr, bx)

    valid = valid & ~collisions
    tr = tr[valid]
    bx = bx[valid]
    input = input[valid][:, None, :]
    targets = targets[valid][:, None, :]

    if input.size(0) < nb:
        input2, targets2, tr2, bx2 = generate_sequences(nb - input.size(0))
        input = torch.cat((input, input2), 0)
        targets = torch.cat((targets, targets2), 0)
        tr = torch.cat((tr, tr2), 0)
        bx = torch.cat((bx, bx2), 0)

    return input, targets, tr, bx

######################################################################

def dummy():
# START_EINSTEIN_ATTENTION
    A = torch.einsum('nct,ncs->nts', Q, K).softmax(2)
    y = torch.einsum('nts,ncs->nct', A, V)
# END_EINSTEIN_ATTENTION

# START_ATTENTION_LAYER
class SelfAttentionLayer(nn.Module):
    def __init__(self, in_dim, out_dim, key_dim):
        super().__init__()
        self.conv_Q = nn.Conv1d(in_dim, key_dim, kernel_size = 1, bias = False)
        self.conv_K = nn.Conv1d(in_dim, key_dim, kernel_size = 1, bias = False)
        self.conv_V = nn.Conv1d(in_dim, out_dim, kernel_size = 1, bias = False)

    def forward(self, x):
        Q = self.conv_Q(x)
        K = self.conv_K(x)
        V = self.conv_V(x)
        A = Q.transpose(1, 2).matmul(K).softmax(2)
        y = A.matmul(V.transpose(1, 2)).transpose(1, 2)
        return y
# END_ATTENTION_LAYER

    def __repr__(self):
        return self._get_name() + \
            '(in_dim={}, out_dim={}, key_dim={})'.format(
                self.conv_Q.in_dim,
                self.conv_V.out_dim,
                self.conv_K.out_dim
            )

    def attention(self, x):
        Q = self.conv_Q(x)
        K = self.conv_K(x)
        return Q.transpose(1, 2).matmul(K).softmax(2)

######################################################################

def set_seed(seed):
    if seed >= 0:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False

for with_attention, group_by_locations, positional_encoding in [(False, False, False), (True, True, True)]:

    label = ''
    if with_attention: label = 'wa_'
    if group_by_locations: label += 'lg_'
    if positional_encoding: label += 'pe_'
    print(f'---- att1d_{label}train')

    set_seed(1)

    train_input, train_targets, train_tr, train_bx = generate_sequences(300)
    test_input, test_targets, test_tr, test_bx = generate_sequences(50)

    print(train_input.size(), train_targets.size(), train_tr.size(), test_bx.size())
    print(train_input[0, 0, 40:48], train_targets[0, 0, 40:48])
    print(train_tr[0], train_bx[0])

    ######################################################################

    ks = 5
    nc = 16

    if positional_encoding:
        c = math.ceil(math.log(seq_length) / math.log(2.0))
        o = 2**torch.arange(c).unsqueeze(1)
        positional_input = (torch.arange(seq_length).unsqueeze(0).div(o, rounding_mode = 'floor')) % 2
        positional_input = positional_input.unsqueeze(0).float()
    else:
        positional_input = torch.zeros(1, 0, seq_length)

    print(positional_input.size(), positional_input[0, :, :9])

    in_dim = 1 + positional_input.size(1)

    if with_attention:

        model = nn.Sequential(
            nn.Conv1d(in_dim, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            nn.Conv1d(nc, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            SelfAttentionLayer(nc, nc, nc),
            nn.Conv1d(nc, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            nn.Conv1d(nc,  1, kernel_size = ks, padding = ks//2)
        )

    else:

        model = nn.Sequential(
            nn.Conv1d(in_dim, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            nn.Conv1d(nc, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            nn.Conv1d(nc, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            nn.Conv1d(nc, nc, kernel_size = ks, padding = ks//2),
            nn.ReLU(),
            nn.Conv1d(nc,  1, kernel_size = ks, padding = ks//2)
        )

    nb_parameters = sum(p.numel() for p in model.parameters())

    # The course writes str(model) to att1d_{label}model.log; the SelfAttentionLayer's __repr__
    # reads attributes Conv1d does not have, so that raises: print what each library says.
    try:
        print(str(model) + '\n')
    except AttributeError as e:
        print('AttributeError:', e)
    print(f'nb_parameters {nb_parameters}')

    ######################################################################

    # START_TRAINING
    batch_size = 100

    optimizer = torch.optim.Adam(model.parameters(), lr = 1e-3)
    mse_loss = nn.MSELoss()

    model.to(device)                                                              # HIDE_IN_SLIDE
    mse_loss.to(device)                                                           # HIDE_IN_SLIDE
    train_input, train_targets = train_input.to(device), train_targets.to(device) # HIDE_IN_SLIDE
    test_input, test_targets = test_input.to(device), test_targets.to(device)     # HIDE_IN_SLIDE
    positional_input = positional_input.to(device)                                # HIDE_IN_SLIDE
                                                                                  # HIDE_IN_SLIDE

    mu, std = train_input.mean(), train_input.std()
    print(f'mu {mu.item():.5f} std {std.item():.5f}')

    for e in range(2):
        acc_loss = 0.0 # HIDE_IN_SLIDE

        for input, targets in zip(train_input.split(batch_size),
                                  train_targets.split(batch_size)):

            input = torch.cat((input, positional_input.expand(input.size(0), -1, -1)), 1) # HIDE_IN_SLIDE
                                                                                          # HIDE_IN_SLIDE

            output = model((input - mu) / std)
            loss = mse_loss(output, targets)

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    # END_TRAINING

            acc_loss += loss.item()

        print(f'{e+1} {acc_loss}')

    ######################################################################

    train_input = train_input.detach().to('cpu')
    train_targets = train_targets.detach().to('cpu')

    test_input = torch.cat((test_input, positional_input.expand(test_input.size(0), -1, -1)), 1)
    test_outputs = model((test_input - mu) / std).detach()
    print('test mse', mse_loss(test_outputs, test_targets).item())

    if with_attention:
        k = next(k for k, l in enumerate(model) if isinstance(l, SelfAttentionLayer))
        x = model[0:k]((test_input - mu) / std)
        test_A = model[k].attention(x)
        test_A = test_A.detach().to('cpu')
        print(k, type(model[0:k]).__name__, len(model[0:k]), x.size(), test_A.size())
        print(test_A[0, :3, :5])
        print(test_A.sum(2)[0, :5])

    test_input = test_input.detach().to('cpu')
    test_outputs = test_outputs.detach().to('cpu')
    test_targets = test_targets.detach().to('cpu')

    for k in range(2):
        print(test_outputs[k, 0, 45:50], test_targets[k, 0, 45:50])
        print(test_tr[k][:, 0].cpu(), torch.full((test_bx[k].size(0),), -1.))
