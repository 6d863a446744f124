# Source: Aladdin Persson, Machine-Learning-Collection, semantic segmentation with a UNET (DoubleConv,
#   ConvTranspose2d up-sampling, skip connections, BCEWithLogitsLoss, cuda.amp autocast/GradScaler, dice):
#   https://github.com/aladdinpersson/Machine-Learning-Collection  ML/Pytorch/image_segmentation/semantic_segmentation_unet/model.py,
#   .../semantic_segmentation_unet/train.py and .../semantic_segmentation_unet/utils.py
# Shrunk: 8 training and 4 validation synthetic 3x20x30 "car" images (a TensorDataset; the mask marks
# where the first channel is above 0.5) instead of the Carvana folders behind albumentations; the UNET
# gets features=[4, 8, 16, 32] instead of [64, 128, 256, 512]; BATCH_SIZE 4, NUM_WORKERS 0. The one
# torchvision call in the model, TF.resize(x, size=...), is written as what it does on a tensor:
# F.interpolate(mode="bilinear", align_corners=False, antialias=True). save_predictions_as_imgs
# (torchvision.utils.save_image) prints the predicted foreground pixels instead; checkpoints go to a
# fresh temporary folder; the loss that tqdm's set_postfix shows is also printed. On this CPU the
# script's torch.cuda.amp autocast and GradScaler disable themselves (with a warning), as they do in PyTorch.
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

os.chdir(tempfile.mkdtemp())


# ---- model.py ----
class DoubleConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super(DoubleConv, self).__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x):
        return self.conv(x)

class UNET(nn.Module):
    def __init__(
            self, in_channels=3, out_channels=1, features=[64, 128, 256, 512],
    ):
        super(UNET, self).__init__()
        self.ups = nn.ModuleList()
        self.downs = nn.ModuleList()
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)

        # Down part of UNET
        for feature in features:
            self.downs.append(DoubleConv(in_channels, feature))
            in_channels = feature

        # Up part of UNET
        for feature in reversed(features):
            self.ups.append(
                nn.ConvTranspose2d(
                    feature*2, feature, kernel_size=2, stride=2,
                )
            )
            self.ups.append(DoubleConv(feature*2, feature))

        self.bottleneck = DoubleConv(features[-1], features[-1]*2)
        self.final_conv = nn.Conv2d(features[0], out_channels, kernel_size=1)

    def forward(self, x):
        skip_connections = []

        for down in self.downs:
            x = down(x)
            skip_connections.append(x)
            x = self.pool(x)

        x = self.bottleneck(x)
        skip_connections = skip_connections[::-1]

        for idx in range(0, len(self.ups), 2):
            x = self.ups[idx](x)
            skip_connection = skip_connections[idx//2]

            if x.shape != skip_connection.shape:
                x = F.interpolate(x, size=skip_connection.shape[2:], mode="bilinear", align_corners=False, antialias=True)

            concat_skip = torch.cat((skip_connection, x), dim=1)
            x = self.ups[idx+1](concat_skip)

        return self.final_conv(x)

def test():
    x = torch.randn((3, 1, 21, 21))
    model = UNET(in_channels=1, out_channels=1, features=[4, 8, 16, 32])
    preds = model(x)
    assert preds.shape == x.shape
    print(preds.shape)


# ---- utils.py ----
def save_checkpoint(state, filename="my_checkpoint.pth.tar"):
    print("=> Saving checkpoint")
    torch.save(state, filename)

def load_checkpoint(checkpoint, model):
    print("=> Loading checkpoint")
    model.load_state_dict(checkpoint["state_dict"])

def get_loaders(
    train_dir,
    train_maskdir,
    val_dir,
    val_maskdir,
    batch_size,
    train_transform,
    val_transform,
    num_workers=4,
    pin_memory=True,
):
    train_ds = TensorDataset(train_dir, train_maskdir)

    train_loader = DataLoader(
        train_ds,
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=pin_memory,
        shuffle=True,
    )

    val_ds = TensorDataset(val_dir, val_maskdir)

    val_loader = DataLoader(
        val_ds,
        batch_size=batch_size,
        num_workers=num_workers,
        pin_memory=pin_memory,
        shuffle=False,
    )

    return train_loader, val_loader

def check_accuracy(loader, model, device="cuda"):
    num_correct = 0
    num_pixels = 0
    dice_score = 0
    model.eval()

    with torch.no_grad():
        for x, y in loader:
            x = x.to(device)
            y = y.to(device).unsqueeze(1)
            preds = torch.sigmoid(model(x))
            preds = (preds > 0.5).float()
            num_correct += (preds == y).sum()
            num_pixels += torch.numel(preds)
            dice_score += (2 * (preds * y).sum()) / (
                (preds + y).sum() + 1e-8
            )

    print(
        f"Got {num_correct}/{num_pixels} with acc {num_correct/num_pixels*100:.2f}"
    )
    print(f"Dice score: {dice_score/len(loader)}")
    model.train()

def save_predictions_as_imgs(
    loader, model, folder="saved_images/", device="cuda"
):
    model.eval()
    for idx, (x, y) in enumerate(loader):
        x = x.to(device=device)
        with torch.no_grad():
            preds = torch.sigmoid(model(x))
            print(f"mean probability {preds.mean().item():.5f}, std {preds.std().item():.5f}")  # printed here
            preds = (preds > 0.5).float()
        print(f"{folder}/pred_{idx}.png: {preds.sum(dim=(1, 2, 3))}; {folder}{idx}.png: {y.unsqueeze(1).sum(dim=(1, 2, 3))}")

    model.train()


# ---- train.py ----
# Hyperparameters etc.
LEARNING_RATE = 1e-4
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
BATCH_SIZE = 4
NUM_EPOCHS = 3
NUM_WORKERS = 0
IMAGE_HEIGHT = 20  # 1280 originally
IMAGE_WIDTH = 30  # 1918 originally
PIN_MEMORY = True
LOAD_MODEL = False
TRAIN_IMG_DIR = torch.rand(8, 3, IMAGE_HEIGHT, IMAGE_WIDTH)
TRAIN_MASK_DIR = (TRAIN_IMG_DIR[:, 0] > 0.5).float()
VAL_IMG_DIR = torch.rand(4, 3, IMAGE_HEIGHT, IMAGE_WIDTH)
VAL_MASK_DIR = (VAL_IMG_DIR[:, 0] > 0.5).float()

def train_fn(loader, model, optimizer, loss_fn, scaler):
    loop = tqdm(loader)

    for batch_idx, (data, targets) in enumerate(loop):
        data = data.to(device=DEVICE)
        targets = targets.float().unsqueeze(1).to(device=DEVICE)

        # forward
        with torch.cuda.amp.autocast():
            predictions = model(data)
            loss = loss_fn(predictions, targets)

        # backward
        optimizer.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

        # update tqdm loop
        loop.set_postfix(loss=loss.item())
        print(f"loss={loss.item():.5f}")


def main():
    train_transform = None
    val_transforms = None

    model = UNET(in_channels=3, out_channels=1, features=[4, 8, 16, 32]).to(DEVICE)
    loss_fn = nn.BCEWithLogitsLoss()
    optimizer = optim.Adam(model.parameters(), lr=LEARNING_RATE)

    train_loader, val_loader = get_loaders(
        TRAIN_IMG_DIR,
        TRAIN_MASK_DIR,
        VAL_IMG_DIR,
        VAL_MASK_DIR,
        BATCH_SIZE,
        train_transform,
        val_transforms,
        NUM_WORKERS,
        PIN_MEMORY,
    )

    if LOAD_MODEL:
        load_checkpoint(torch.load("my_checkpoint.pth.tar"), model)


    check_accuracy(val_loader, model, device=DEVICE)
    scaler = torch.cuda.amp.GradScaler()

    for epoch in range(NUM_EPOCHS):
        train_fn(train_loader, model, optimizer, loss_fn, scaler)

        # save model
        checkpoint = {
            "state_dict": model.state_dict(),
            "optimizer":optimizer.state_dict(),
        }
        save_checkpoint(checkpoint)

        # check accuracy
        check_accuracy(val_loader, model, device=DEVICE)

        # print some examples to a folder
        save_predictions_as_imgs(
            val_loader, model, folder="saved_images/", device=DEVICE
        )


if __name__ == "__main__":
    test()
    main()
