# Source: CMU 11-785 Introduction to Deep Learning, HW2P2 (face classification + verification), as a
#   student (Silvia Gu, Spring 2023) solved it on the course's starter notebook:
#   https://github.com/YM2025/CMU_11785_2024S  HW2P2/HW2P2_SilviaGu_S23.ipynb (ConvNBlock, ConvNext,
#   train, validate, criterion/optimizer/scheduler cell, the epoch loop) and the course starter
#   HW2P2/HW2P2_Starter_S24.ipynb (eval_verification, similarity_metric; the thresholded variant is
#   the starter's commented-out "after early submission" code).
# Shrunk: 7000 identities -> 10, 224x224 face crops -> 32x32 synthetic images (a random template per
# identity plus noise, in TensorDatasets instead of torchvision ImageFolder), ConvNext stage sizes
# [96,192,384,768] x [3,3,9,3] blocks -> [8,16,32] x [2,2,2], batch 8, 3 epochs; verification
# with 6 known identities (one image each) and 8 unknown images (two of identities with no known
# image), the labels in a list instead of verification_dev.csv. torchvision.ops.StochasticDepth is
# written out from torchvision's source (stochastic_depth, mode='row'); sklearn's accuracy_score is a
# NumPy mean. No tqdm, wandb, torchsummary or checkpoint files. GradScaler/autocast are the
# notebook's torch.cuda.amp ones (disabled on CPU). The optimizer is the notebook's SGD line (its
# AdamW line for ConvNext kept as a comment): the convolutions right before a BatchNorm keep their
# bias, whose gradient is only rounding noise; AdamW scales that noise up to full lr-sized steps, so
# the running means, and the features' cosine similarities in eval mode, would depend on each
# library's float32 summation order.
import numpy as np
import torch
import torch.nn as nn

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("Device: ", DEVICE)

config = {
    'batch_size': 8,
    'lr': 0.001,
    'epochs': 3,
}

# ---------------------------------------------------------------- data (synthetic stand-in)
num_classes = 10
faces = torch.rand(num_classes, 3, 32, 32)
def make_images(labels):
    return (faces[labels] + 0.3 * torch.randn(len(labels), 3, 32, 32) - 0.45) / 0.27

train_labels = torch.randint(0, num_classes, (24,))
valid_labels = torch.randint(0, num_classes, (8,))
train_dataset = torch.utils.data.TensorDataset(make_images(train_labels), train_labels)
valid_dataset = torch.utils.data.TensorDataset(make_images(valid_labels), valid_labels)

train_loader = torch.utils.data.DataLoader(dataset       = train_dataset,
                                           batch_size    = config['batch_size'],
                                           shuffle        = True,
                                           pin_memory    = True)

valid_loader = torch.utils.data.DataLoader(dataset       = valid_dataset,
                                           batch_size    = config['batch_size'],
                                           shuffle        = False,
                                           )

known_ids = [0, 1, 2, 3, 4, 5]
known_paths = ["n%06d" % (i + 1) for i in known_ids]
known_images = make_images(torch.tensor(known_ids))
unknown_ids = torch.tensor([3, 0, 5, 8, 1, 4, 9, 2])
unknown_dev_images = make_images(unknown_ids)
true_ids = ["n%06d" % (i + 1) if i in known_ids else 'n000000' for i in unknown_ids.tolist()]
print(known_images.shape, unknown_dev_images.shape, true_ids)


# ---------------------------------------------------------------- torchvision.ops.stochastic_depth
def stochastic_depth(input, p, mode, training=True):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"drop probability has to be between 0 and 1, but got {p}")
    if mode not in ["batch", "row"]:
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return input

    survival_rate = 1.0 - p
    if mode == "row":
        size = [input.shape[0]] + [1] * (input.ndim - 1)
    else:
        size = [1] * input.ndim
    noise = torch.empty(size, dtype=input.dtype, device=input.device)
    noise = noise.bernoulli_(survival_rate)
    if survival_rate > 0.0:
        noise.div_(survival_rate)
    return input * noise


class StochasticDepth(nn.Module):
    def __init__(self, p: float, mode: str) -> None:
        super().__init__()
        self.p = p
        self.mode = mode

    def forward(self, input):
        return stochastic_depth(input, self.p, self.mode, self.training)

    def __repr__(self) -> str:
        s = f"{self.__class__.__name__}(p={self.p}, mode={self.mode})"
        return s


# ---------------------------------------------------------------- HW2P2_SilviaGu_S23.ipynb
class ConvNBlock(nn.Module):
  def __init__(self, in_features, out_features, depth_prob:float, layer_scale, expansion = 4,
               kernel_size = 7):
    super().__init__()

    self.block = nn.Sequential(
        nn.Conv2d(in_channels = in_features, out_channels = in_features, kernel_size = kernel_size,
                  padding =3, groups = in_features,bias = True),
        # nn.GroupNorm(num_groups = 1, num_channels = in_features), # Layer norm
        nn.BatchNorm2d(num_features = in_features),
        nn.Conv2d(in_features, expansion*in_features, kernel_size=1),
        # nn.Linear(in_features, expansion*in_features, bias = True), # expand
        # note Conv layer with stride 1 generate same result as linear layer, but linear layer need permutation
        # activation_functions[activation],
        nn.GELU(),
        nn.Conv2d(expansion*in_features, out_features, kernel_size=1)
        # nn.Linear(expansion*in_features, out_features, bias =True) # shrink
    )

    self.layer_scale = nn.Parameter(torch.ones(out_features, 1, 1)*layer_scale)
    self.stochastic_depth = StochasticDepth(depth_prob, mode = 'row')

  def forward(self, x):
    res = self.layer_scale*self.block(x)
    res = self.stochastic_depth(res)
    res += x
    return res


class ConvNext(nn.Module):
  def __init__(self, block, num_classes= 7000, depth_prob = 0.2 , layer_scale= 1e-6,
               in_channel =3, stage_size = [96, 192, 384, 768], num_of_stages = [3, 3, 9, 3],
               activation = 'gelu'):
    super().__init__()
    self.depth_prob = depth_prob
    self.layer_scale = layer_scale

    self.stem = nn.Sequential(
                  nn.Conv2d(in_channel, stage_size[0], kernel_size=4, stride=4),
                  nn.BatchNorm2d(stage_size[0]),
                  )
    in_channel = stage_size[0]

    self.total_num_stages = sum(num_of_stages)

    self.stages = nn.ModuleList()

    for i in range(len(num_of_stages)-1):
       self.stages.append(self._make_stage(block, stage_size[i],stage_size[i+1], num_of_stages[i]))


    self.stages.append(self._make_stage(block, stage_size[-1],stage_size[-1], num_of_stages[-1]))
    # the last layer doesn't need downsample

    self.avgpool = nn.AdaptiveAvgPool2d((1,1)) # average pool over the spatial dimensions to reduce them to 1 x 1
    self.cls = nn.Linear(stage_size[-1], num_classes)


  def _make_stage(self, block, in_features, out_features, depth):
    # downsample

    layers = []

    adjusted_depth_prob = [self.depth_prob*i/(self.total_num_stages - 1.0) for i in range(depth)]
    # adjust stochastic depth probability based on the depth
    for i in range(depth):
      layers.append(block(in_features, in_features, adjusted_depth_prob[i],self.layer_scale))

    downsample = nn.Sequential(
        # nn.GroupNorm(num_groups = 1, num_channels = in_features),
        nn.BatchNorm2d(num_features = in_features),
        nn.Conv2d(in_features, out_features, kernel_size = 2, stride = 2)
    )
    layers.append(downsample)

    return nn.Sequential(*layers)

  def forward(self, x, return_feats=False):
    x = self.stem(x)

    for stage in self.stages:
      x = stage(x)


    x = self.avgpool(x)
    feats = torch.flatten(x, start_dim = 1)
    out = self.cls(feats)

    if return_feats:
            return feats
    else:
        return out


model = ConvNext(ConvNBlock, num_classes=num_classes, layer_scale=0.1, stage_size=[8, 16, 32],
                 num_of_stages=[2, 2, 2]).to(device)
print(model.stages[0])
print("Params:", sum(p.numel() for p in model.parameters()))
print([m.stochastic_depth.p for m in model.modules() if isinstance(m, ConvNBlock)])


def train(model, dataloader, optimizer, criterion):

    model.train()

    num_correct = 0
    total_loss  = 0

    for i, (images, labels) in enumerate(dataloader):

        optimizer.zero_grad() # Zero gradients

        images, labels = images.to(DEVICE), labels.to(DEVICE)

        with torch.cuda.amp.autocast(): # This implements mixed precision. Thats it!
            outputs = model(images)
            loss    = criterion(outputs, labels)


        # Update no. of correct predictions & loss as we iterate
        num_correct     += int((torch.argmax(outputs, axis=1) == labels).sum())
        total_loss      += float(loss.item())

        print("  acc={:.04f}% loss={:.04f} num_correct={} lr={:.04f}".format(
            100 * num_correct / (config['batch_size']*(i + 1)), float(total_loss / (i + 1)), num_correct,
            float(optimizer.param_groups[0]['lr'])))

        torch.nan_to_num(loss)
        scaler.scale(loss).backward() # This is a replacement for loss.backward()

        scaler.step(optimizer) # This is a replacement for optimizer.step()
        scaler.update()

    acc         = 100 * num_correct / (config['batch_size']* len(dataloader))
    total_loss  = float(total_loss / len(dataloader))

    return acc, total_loss


def validate(model, dataloader, criterion):

    model.eval()

    num_correct = 0.0
    total_loss = 0.0

    for i, (images, labels) in enumerate(dataloader):

        # Move images to device
        images, labels = images.to(DEVICE), labels.to(DEVICE)

        # Get model outputs
        with torch.inference_mode():
            outputs = model(images)
            loss = criterion(outputs, labels)

        num_correct += int((torch.argmax(outputs, axis=1) == labels).sum())
        total_loss += float(loss.item())

    acc = 100 * num_correct / (config['batch_size']* len(dataloader))
    total_loss = float(total_loss / len(dataloader))
    return acc, total_loss


# ---------------------------------------------------------------- HW2P2_Starter_S24.ipynb
similarity_metric = torch.nn.CosineSimilarity(dim= 1, eps= 1e-6)

def eval_verification(unknown_images, known_images, model, similarity, batch_size= config['batch_size'], mode='val', threshold=None):

    unknown_feats, known_feats = [], []

    model.eval()

    # We load the images as batches for memory optimization and avoiding CUDA OOM errors
    for i in range(0, unknown_images.shape[0], batch_size):
        unknown_batch = unknown_images[i:i+batch_size] # Slice a given portion upto batch_size

        with torch.no_grad():
            unknown_feat = model(unknown_batch.float().to(DEVICE), return_feats=True) #Get features from model
        unknown_feats.append(unknown_feat)

    for i in range(0, known_images.shape[0], batch_size):
        known_batch = known_images[i:i+batch_size]
        with torch.no_grad():
              known_feat = model(known_batch.float().to(DEVICE), return_feats=True)

        known_feats.append(known_feat)

    # Concatenate all the batches
    unknown_feats = torch.cat(unknown_feats, dim=0)
    known_feats = torch.cat(known_feats, dim=0)

    similarity_values = torch.stack([similarity(unknown_feats, known_feature) for known_feature in known_feats])
    # Print the inner list comprehension in a separate cell - what is really happening?
    print(similarity_values.shape)

    max_similarity_values, predictions = similarity_values.max(0) #Why are we doing an max here, where are the return values?
    max_similarity_values, predictions = max_similarity_values.cpu().numpy(), predictions.cpu().numpy()
    print(np.round(max_similarity_values, 4), predictions)

    if threshold is None:
        # In early submission, you can ignore identities without correspondence, simply taking identity with max similarity value
        pred_id_strings = [known_paths[i] for i in predictions] # Map argmax indices to identity strings
    else:
        # After early submission, remove the previous line and uncomment the following code
        NO_CORRESPONDENCE_LABEL = 'n000000'
        pred_id_strings = []
        for idx, prediction in enumerate(predictions):
            if max_similarity_values[idx] < threshold: # why < ? Thank about what is your similarity metric
                pred_id_strings.append(NO_CORRESPONDENCE_LABEL)
            else:
                pred_id_strings.append(known_paths[prediction])

    if mode == 'val':
      accuracy = 100 * np.mean(np.array(pred_id_strings) == np.array(true_ids))
      return accuracy, pred_id_strings

    elif mode == 'test':
      return pred_id_strings


# ---------------------------------------------------------------- the notebook's training cells
from torch.nn import CrossEntropyLoss
criterion = CrossEntropyLoss(label_smoothing= 0.2) # TODO: What loss do you need for a multi class classification problem?
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)  #for Resner lr= 0.1
# optimizer = torch.optim.AdamW(model.parameters(), lr=0.001, weight_decay=1e-3) #for ConvNext lr = 0.001
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, 'max',patience = 3, threshold = 1e-2)
scaler = torch.cuda.amp.GradScaler() # Good news. We have FP16 (Mixed precision training) implemented for you

best_valacc = 0.0

for epoch in range(config['epochs']):

    curr_lr = float(optimizer.param_groups[0]['lr'])

    train_acc, train_loss = train(model, train_loader, optimizer, criterion)

    print("\nEpoch {}/{}: \nTrain Acc {:.04f}%\t Train Loss {:.04f}\t Learning Rate {:.04f}".format(
        epoch + 1,
        config['epochs'],
        train_acc,
        train_loss,
        curr_lr))

    val_acc, val_loss = validate(model, valid_loader, criterion)
    scheduler.step(val_acc)

    print("Val Acc {:.04f}%\t Val Loss {:.04f}".format(val_acc, val_loss))

    if val_acc >= best_valacc:
      print("Saving model")
      best_valacc = val_acc

    ver_acc, pred_id_strings = eval_verification(unknown_dev_images, known_images,
                                                 model, similarity_metric, config['batch_size'], mode='val')

    print("Val Acc (Verification) {:.04f}%\t ".format(ver_acc))

ver_acc, pred_id_strings = eval_verification(unknown_dev_images, known_images,
                                             model, similarity_metric, 4, mode='val', threshold=0.5)
print("Val Acc (Verification, threshold 0.5) {:.04f}%\t ".format(ver_acc))
print(pred_id_strings)
print(eval_verification(unknown_dev_images, known_images, model, similarity_metric, mode='test'))
print(scheduler.state_dict()['best'], scheduler.state_dict()['num_bad_epochs'])
