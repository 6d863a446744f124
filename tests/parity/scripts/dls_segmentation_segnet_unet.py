# Source: MIPT Deep Learning School (DLS), semester 1 homework "[hw] semantic segmentation" (PH2 skin-lesion
#   masks: SegNet with MaxPool2d(return_indices=True) / MaxUnpool2d, a UNet that unpools torch.cat'ed skip
#   features with torch.cat'ed indices, a UNet2 with strided-conv pooling and ConvTranspose2d, hand-written
#   BCE / dice / focal / jaccard / tversky losses, iou_pytorch on .byte() masks with & and |, AdamW + StepLR,
#   DataLoader over list(zip(np.rollaxis(...))), histories pickled and compared), as a student solved it:
#   https://github.com/shereshevskiy/dlschool_mipt  semester1_CV/segmentation/[hw]semantic_segmentation_update_v1_d-shereshevskiy.ipynb
# Shrunk: PH2Dataset.rar (200 dermoscopy images, resized to 256x256) is replaced by 12 synthetic 32x32 images
# with one elliptic "lesion" each (its mask the label); split 6/3/3 instead of 100/50/50, batch_size 3 instead
# of 25; every channel count divided by 16 (64 -> 4, ..., 512 -> 32), SegNet's bottleneck 2 convs instead of 6,
# UNet's blocks one conv each (its last two), UNet2 two levels deep instead of four; 2 epochs per model instead of 40 and
# StepLR step sizes scaled from 10/15/30 to 2/3/4; the pickles go to an io.BytesIO instead of Google Drive;
# the matplotlib / pandas / seaborn plots are replaced by printing what they showed (losses, mask sums, scores);
# the focal / jaccard / tversky SegNets are not trained, their losses printed on one batch.
import io
import pickle
from time import time

import numpy as np

# synthetic PH2: images in [0, 1], HxWx3, lesions a darker ellipse; masks boolean -> float32
size = (32, 32)
yy, xx = np.mgrid[0:size[0], 0:size[1]]
images, lesions = [], []
for i in range(12):
    cy, cx = np.random.uniform(10, 22, 2)
    ry, rx = np.random.uniform(4, 9, 2)
    mask = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1
    skin = np.array([0.85, 0.65, 0.55]) + 0.05 * np.random.randn(*size, 3)
    lesion = np.array([0.35, 0.2, 0.15]) + 0.05 * np.random.randn(*size, 3)
    images.append(np.clip(np.where(mask[..., None], lesion, skin), 0, 1))
    lesions.append(mask)
X = images
Y = [y > 0.5 for y in lesions]

X = np.array(X, np.float32)
Y = np.array(Y, np.float32)
print(f'Loaded {len(X)} images')
print(X.shape, Y.shape, Y.mean())

ix = np.random.choice(len(X), len(X), False)
tr, val, ts = np.split(ix, [6, 9])
print(len(tr), len(val), len(ts))

from torch.utils.data import DataLoader
batch_size = 3
data_tr = DataLoader(list(zip(np.rollaxis(X[tr], 3, 1), Y[tr, np.newaxis])),
                     batch_size=batch_size, shuffle=True)
data_val = DataLoader(list(zip(np.rollaxis(X[val], 3, 1), Y[val, np.newaxis])),
                      batch_size=batch_size, shuffle=True)
data_ts = DataLoader(list(zip(np.rollaxis(X[ts], 3, 1), Y[ts, np.newaxis])),
                     batch_size=batch_size, shuffle=True)

import torch
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
print(device)

import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

X_batch, Y_batch = next(iter(data_tr))
print(type(X_batch), X_batch.dtype, X_batch.shape, Y_batch.dtype, Y_batch.shape)


class SegNet(nn.Module):
    def __init__(self):
        super().__init__()

        # encoder (downsampling)
        self.enc_conv0 = nn.Sequential(
                            nn.Conv2d(3, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU(),
                            nn.Conv2d(4, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU()
                        )
        self.pool0 = torch.nn.MaxPool2d(2, 2, return_indices=True)   # 32 -> 16
        self.enc_conv1 = nn.Sequential(
                            nn.Conv2d(4, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU(),
                            nn.Conv2d(8, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU()
                        )
        self.pool1 = torch.nn.MaxPool2d(2, 2, return_indices=True)  # 16 -> 8
        self.enc_conv2 = nn.Sequential(
                            nn.Conv2d(8, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU(),
                            nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU(),
                            nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU()
                        )
        self.pool2 = torch.nn.MaxPool2d(2, 2, return_indices=True)  # 8 -> 4
        self.enc_conv3 = nn.Sequential(
                            nn.Conv2d(16, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU(),
                            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU(),
                            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU()
                        )
        self.pool3 = torch.nn.MaxPool2d(2, 2, return_indices=True)  # 4 -> 2
        # bottleneck
        self.bottleneck_conv = nn.Sequential(
                            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU(),
                            # pool
                            nn.Conv2d(32, 32, kernel_size=2, stride=2),
                            # upsampl
                            nn.ConvTranspose2d(32, 32, kernel_size=2, stride=2),
                            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU()
                        )
        # decoder (upsampling)
        self.upsample0 = torch.nn.MaxUnpool2d(2, 2) # 2 -> 4
        self.dec_conv0 = nn.Sequential(
                            nn.Conv2d(32, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU(),
                            nn.Conv2d(16, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU()
                        )
        self.upsample1 = torch.nn.MaxUnpool2d(2, 2)  # 4 -> 8
        self.dec_conv1 = nn.Sequential(
                            nn.Conv2d(16, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU(),
                            nn.Conv2d(8, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU()
                        )
        self.upsample2 = torch.nn.MaxUnpool2d(2, 2)   # 8 -> 16
        self.dec_conv2 = nn.Sequential(
                            nn.Conv2d(8, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU(),
                            nn.Conv2d(4, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU()
                        )
        self.upsample3 = torch.nn.MaxUnpool2d(2, 2)   # 16 -> 32
        self.dec_conv3 = nn.Sequential(
                            nn.Conv2d(4, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU(),
                            nn.Conv2d(4, 1, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(1),
                            nn.ReLU()
                        )

    def forward(self, x):
        # encoder
        e0, indices0 = self.pool0(self.enc_conv0(x))
        e1, indices1 = self.pool1(self.enc_conv1(e0))
        e2, indices2 = self.pool2(self.enc_conv2(e1))
        e3, indices3 = self.pool3(self.enc_conv3(e2))

        # bottleneck
        b = self.bottleneck_conv(e3)

        # decoder
        d0 = self.dec_conv0(self.upsample0(b, indices3))
        d1 = self.dec_conv1(self.upsample1(d0, indices2))
        d2 = self.dec_conv2(self.upsample2(d1, indices1))
        d3 = self.dec_conv3(self.upsample3(d2, indices0))  # no activation
        return d3


def iou_pytorch(outputs: torch.Tensor, labels: torch.Tensor):
    # You can comment out this line if you are passing tensors of equal shape
    # But if you are passing output from UNet or something it will most probably
    # be with the BATCH x 1 x H x W shape
    outputs = outputs.squeeze(1).byte()  # BATCH x 1 x H x W => BATCH x H x W
    labels = labels.squeeze(1).byte()
    SMOOTH = 1e-8
    intersection = (outputs & labels).float().sum((1, 2))  # Will be zero if Truth=0 or Prediction=0
    union = (outputs | labels).float().sum((1, 2))         # Will be zzero if both are 0

    iou = (intersection + SMOOTH) / (union + SMOOTH)  # We smooth our devision to avoid 0/0

    thresholded = torch.clamp(20 * (iou - 0.5), 0, 10).ceil() / 10  # This is equal to comparing with thresolds
    print('iou', iou, 'thresholded', thresholded)

    return iou # thresholded  #


def bce_loss(y_real, y_pred):
    # TODO
    # please don't use nn.BCELoss. write it from scratch
    return torch.mean(y_pred - y_real * y_pred + torch.log(1 + torch.exp(-y_pred)))


def train(model, opt, loss_fn, epochs, data_tr, data_val, scheduler=None):
    X_val, Y_val = next(iter(data_val))

    loss_history = []
    for epoch in range(epochs):
        tic = time()
        print('* Epoch %d/%d' % (epoch+1, epochs))

        avg_loss = 0
        model.train()  # train mode
        for X_batch, Y_batch in data_tr:
            # data to device
            X_batch = X_batch.to(device)
            Y_batch = Y_batch.to(device)

            # set parameter gradients to zero
            opt.zero_grad()

            # forward
            Y_pred = model(X_batch)
            loss = loss_fn(Y_batch, Y_pred) # forward-pass
            loss.backward()  # backward-pass
            opt.step()  # update weights
            if scheduler:
                scheduler.step()

            # calculate loss to show the user
            avg_loss += loss / len(data_tr)
        if scheduler:
                scheduler.step()
        toc = time()
        print('loss: %f' % avg_loss)
        print('lr', opt.param_groups[0]['lr'])
        loss_history.append(avg_loss)

        # show intermediate results
        model.eval()  # testing mode
        Y_hat = model(X_val.to(device)).detach().cpu().numpy() # detach and put into cpu

        # Visualize tools (the plots of the notebook, printed)
        print('%d / %d - loss: %f' % (epoch+1, epochs, avg_loss))
        # (not the mean of Y_hat: the conv biases before BatchNorm get gradients of pure rounding noise, which
        # Adam turns into lr-sized steps, so eval-mode outputs differ in the 3rd digit between libraries)
        print('Output', Y_hat.shape, Y_hat.dtype)
        print('Mask', (Y_hat[:, 0] > 0.5).sum(axis=(1, 2)))
    return loss_history


def predict(model, data):
    model.eval()  # testing mode
    Y_pred = [model(X_batch.to(device)).detach().cpu().numpy() for X_batch, _ in data]
    return np.array(Y_pred)


def score_model(model, metric, data):
    model.eval()  # testing mode
    scores = 0
    for X_batch, Y_label in data:
        Y_pred = torch.sigmoid(model(X_batch.to(device))) > 0.5  # was added sigmoid and " > 0.5"
        scores += metric(Y_pred, Y_label.to(device)).mean().item()

    return scores/len(data)


drive = io.BytesIO()  # stands in for the notebook's data_path on Google Drive


def log(name, history, score):
    model_data = {
        "name": name,
        "history": history,
        "score": score
    }
    pickle.dump(model_data, drive)
    return model_data


model = SegNet().to(device)
print(model.pool0, model.upsample0)
print(sum(p.numel() for p in model.parameters()))

max_epochs = 2
optimizer = optim.AdamW(model.parameters(), lr=3e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
history = train(model, optimizer, bce_loss, max_epochs, data_tr, data_val, scheduler)
print(history)

score = score_model(model, iou_pytorch, data_val)
print(score)

# logging
name = "segnet_bce"
model_data = log(name, history, score)

# test
drive.seek(0)
model_data_ = pickle.load(drive)
print(model_data_)

assert model_data == model_data_

preds = predict(model, data_ts)
print(preds.shape, preds.dtype)


def dice_loss(y_real, y_pred, eps = 1e-8):
    #num =
    #den =
    y_pred = torch.clamp(torch.sigmoid(y_pred), min=eps, max=1-eps)
    res = 1 - torch.mean(2 * (y_real * y_pred) / ((y_real + y_pred)))
    return res


model_dice = SegNet().to(device)

optimizer = optim.AdamW(model_dice.parameters(), lr=3e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
history_dice = train(model_dice, optimizer, dice_loss, max_epochs, data_tr, data_val, scheduler)
score = score_model(model_dice, iou_pytorch, data_val)
print(score)
log("segnet_dice", history_dice, score)


def focal_loss(y_real, y_pred, eps = 1e-7, gamma=2):
    y_pred = torch.clamp(torch.sigmoid(y_pred), min=eps, max=1-eps) # hint: torch.clamp
    loss = -torch.mean((1 - y_pred)**gamma * y_real * torch.log(y_pred) + (1 - y_real) * torch.log(1 - y_pred))
    return loss


def jaccard_loss(y_real, y_pred, eps = 1e-8):
    y_pred = torch.clamp(torch.sigmoid(y_pred), min=eps, max=1-eps)
    res = 1 - torch.sum(y_pred * y_real) / (torch.sum(y_pred) + torch.sum(y_real) - torch.sum(y_pred * y_real))
    return res


def tversky_loss(y_real, y_pred, beta=0.1, eps = 1e-8):
    y_pred = torch.clamp(torch.sigmoid(y_pred), min=eps, max=1-eps)
    res = 1 - torch.sum(y_pred * y_real) / (torch.sum(y_pred * y_real) +
                                            beta * torch.sum((1 - y_real) * y_pred) +
                                            (1 - beta) * torch.sum(y_real * (1 - y_pred)))
    return res


# the focal / jaccard / tversky SegNets of the notebook, their losses on one batch of the fresh SegNet above
Y_pred = model_dice(X_batch)
for loss_fn in (bce_loss, dice_loss, focal_loss, jaccard_loss, tversky_loss):
    loss = loss_fn(Y_batch, Y_pred)
    print(loss_fn.__name__, loss)


class UNet(nn.Module):
    def __init__(self):
        super().__init__()

        # encoder (downsampling)
        self.enc_conv0 = nn.Sequential(
                            nn.Conv2d(3, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU()
                        )
        self.pool0 = torch.nn.MaxPool2d(2, 2, return_indices=True)   # 32 -> 16
        self.enc_conv1 = nn.Sequential(
                            nn.Conv2d(4, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU()
                        )
        self.pool1 = torch.nn.MaxPool2d(2, 2, return_indices=True)  # 16 -> 8
        self.enc_conv2 = nn.Sequential(
                            nn.Conv2d(8, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU()
                        )
        self.pool2 = torch.nn.MaxPool2d(2, 2, return_indices=True)  # 8 -> 4
        self.enc_conv3 = nn.Sequential(
                            nn.Conv2d(16, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU()
                        )
        self.pool3 = torch.nn.MaxPool2d(2, 2, return_indices=True)  # 4 -> 2
        # bottleneck
        self.bottleneck_conv = nn.Sequential(
                            nn.Conv2d(32, 32, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(32),
                            nn.ReLU()
                        )
        # decoder (upsampling)
        self.upsample0 = torch.nn.MaxUnpool2d(2, 2) # 2 -> 4
        self.dec_conv0 = nn.Sequential(
                            nn.Conv2d(32*2, 16, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(16),
                            nn.ReLU()
                        )
        self.upsample1 = torch.nn.MaxUnpool2d(2, 2)  # 4 -> 8
        self.dec_conv1 = nn.Sequential(
                            nn.Conv2d(16*2, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU()
                        )
        self.upsample2 = torch.nn.MaxUnpool2d(2, 2)   # 8 -> 16
        self.dec_conv2 = nn.Sequential(
                            nn.Conv2d(8*2, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU()
                        )
        self.upsample3 = torch.nn.MaxUnpool2d(2, 2)   # 16 -> 32
        self.dec_conv3 = nn.Sequential(
                            nn.Conv2d(4*2, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU(),
                            nn.Conv2d(4, 1, kernel_size=1, stride=1),
                            nn.BatchNorm2d(1),
                            nn.ReLU()
                        )

    def forward(self, x):
        # encoder
        e0, indices0 = self.pool0(self.enc_conv0(x))
        e1, indices1 = self.pool1(self.enc_conv1(e0))
        e2, indices2 = self.pool2(self.enc_conv2(e1))
        e3, indices3 = self.pool3(self.enc_conv3(e2))

        # bottleneck
        b = self.bottleneck_conv(e3)

        # decoder
        # print(torch.cat([e3, b], dim=1).shape, indices3.shape)
        d0 = self.dec_conv0(self.upsample0(torch.cat([e3, b], dim=1), torch.cat([indices3, indices3], dim=1)))
        d1 = self.dec_conv1(self.upsample1(torch.cat([e2, d0], dim=1), torch.cat([indices2, indices2], dim=1)))
        d2 = self.dec_conv2(self.upsample2(torch.cat([e1, d1], dim=1), torch.cat([indices1, indices1], dim=1)))
        d3 = self.dec_conv3(self.upsample3(torch.cat([e0, d2], dim=1), torch.cat([indices0, indices0], dim=1)))  # no activation
        return d3


unet_model = UNet().to(device)
history_unet = train(unet_model, optim.Adam(unet_model.parameters(), 1e-4), bce_loss, 2, data_tr, data_val)
score = score_model(unet_model, iou_pytorch, data_val)
print(score)
log("unet_bce", history_unet, score)


class UNet2(nn.Module):
    def __init__(self):
        super().__init__()

        # encoder (downsampling)
        self.enc_conv0 = nn.Sequential(
                            nn.Conv2d(3, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU()
                        )
        self.pool0 = torch.nn.Conv2d(4, 4, kernel_size=2, stride=2, padding=0)   # 32 -> 16
        self.enc_conv1 = nn.Sequential(
                            nn.Conv2d(4, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU()
                        )
        self.pool1 = torch.nn.Conv2d(8, 8, kernel_size=2, stride=2, padding=0)  # 16 -> 8
        # bottleneck
        self.bottleneck_conv = nn.Sequential(
                            nn.Conv2d(8, 8, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(8),
                            nn.ReLU()
                        )
        # decoder (upsampling)
        self.upsample0 = torch.nn.ConvTranspose2d(8*2, 8*2, kernel_size=2, stride=2) # 8 -> 16
        self.dec_conv0 = nn.Sequential(
                            nn.Conv2d(8*2, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU()
                        )
        self.upsample1 = torch.nn.ConvTranspose2d(4*2, 4*2, kernel_size=2, stride=2)  # 16 -> 32
        self.dec_conv1 = nn.Sequential(
                            nn.Conv2d(4*2, 4, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(4),
                            nn.ReLU(),
                            nn.Conv2d(4, 1, kernel_size=3, stride=1, padding=1),
                            nn.BatchNorm2d(1),
                            nn.ReLU()
                        )

    def forward(self, x):
        # encoder
        e0 = self.pool0(self.enc_conv0(x))
        e1 = self.pool1(self.enc_conv1(e0))

        # bottleneck
        b = self.bottleneck_conv(e1)

        # decoder
        d0 = self.dec_conv0(self.upsample0(torch.cat([e1, b], dim=1)))
        d1 = self.dec_conv1(self.upsample1(torch.cat([e0, d0], dim=1)))  # no activation
        return d1


unet2_model = UNet2().to(device)
optimizer = optim.AdamW(unet2_model.parameters(), lr=3e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
history_unet2 = train(unet2_model, optimizer, bce_loss, 2, data_tr, data_val, scheduler)
score = score_model(unet2_model, iou_pytorch, data_val)
print(score)
log("unet2_bce", history_unet2, score)

# the notebook's comparison (a plot of the histories and a DataFrame of the scores), printed
drive.seek(0)
models_data = []
while True:
    try:
        models_data.append(pickle.load(drive))
    except EOFError:
        break
for model_data in models_data:
    print(model_data["name"], [float(h) for h in model_data["history"]], round(model_data["score"], 4))
print({model_data["name"]: model_data["score"] for model_data in models_data})
