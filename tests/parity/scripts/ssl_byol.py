# Source: Phil Wang (lucidrains), byol-pytorch, "Bootstrap Your Own Latent" (BYOL) and its SimSiam mode,
#   https://github.com/lucidrains/byol-pytorch  byol_pytorch/byol_pytorch.py at commit 61621ed (2023-11-16,
#   before the simplicial embeddings that need einops), and the README's training loop.
# Shrunk: torchvision is not available: DEFAULT_AUG (ColorJitter, RandomGrayscale, RandomHorizontalFlip,
# GaussianBlur, RandomResizedCrop, Normalize) is not built; the script passes augment_fn, an nn.Sequential of
# the library's RandomApply and a few tensor-op modules written here (brightness jitter, horizontal flip,
# normalisation); models.resnet50(pretrained=True) is a small conv net written here with an 'avgpool' child
# (hidden_layer = 'avgpool' as in the README); image_size 8, projection_size 16, projection_hidden_size 32,
# batches of 8 torch.randn images; 4 steps with the momentum target encoder, then 3 steps of the README's
# use_momentum = False (SimSiam) learner; torch.save goes to an io.BytesIO instead of './improved-net.pt'.
# dist.is_initialized() is False (one process), so MaybeSyncBatchnorm gives nn.BatchNorm1d. The projections'
# values are not printed: the biases of the Linear layers followed by BatchNorm have a gradient of float
# rounding noise that Adam scales up to steps of lr, so they differ by ~1e-3 between any two float32
# libraries (the losses and the embeddings, which BatchNorm makes independent of them, are printed).
import copy
import random
from functools import wraps

import torch
from torch import nn
import torch.nn.functional as F
import torch.distributed as dist


# helper functions

def default(val, def_val):
    return def_val if val is None else val

def flatten(t):
    return t.reshape(t.shape[0], -1)

def singleton(cache_key):
    def inner_fn(fn):
        @wraps(fn)
        def wrapper(self, *args, **kwargs):
            instance = getattr(self, cache_key)
            if instance is not None:
                return instance

            instance = fn(self, *args, **kwargs)
            setattr(self, cache_key, instance)
            return instance
        return wrapper
    return inner_fn

def get_module_device(module):
    return next(module.parameters()).device

def set_requires_grad(model, val):
    for p in model.parameters():
        p.requires_grad = val

def MaybeSyncBatchnorm(is_distributed = None):
    is_distributed = default(is_distributed, dist.is_initialized() and dist.get_world_size() > 1)
    return nn.SyncBatchNorm if is_distributed else nn.BatchNorm1d

# loss fn

def loss_fn(x, y):
    x = F.normalize(x, dim=-1, p=2)
    y = F.normalize(y, dim=-1, p=2)
    return 2 - 2 * (x * y).sum(dim=-1)

# augmentation utils

class RandomApply(nn.Module):
    def __init__(self, fn, p):
        super().__init__()
        self.fn = fn
        self.p = p
    def forward(self, x):
        if random.random() > self.p:
            return x
        return self.fn(x)

# exponential moving average

class EMA():
    def __init__(self, beta):
        super().__init__()
        self.beta = beta

    def update_average(self, old, new):
        if old is None:
            return new
        return old * self.beta + (1 - self.beta) * new

def update_moving_average(ema_updater, ma_model, current_model):
    for current_params, ma_params in zip(current_model.parameters(), ma_model.parameters()):
        old_weight, up_weight = ma_params.data, current_params.data
        ma_params.data = ema_updater.update_average(old_weight, up_weight)

# MLP class for projector and predictor

def MLP(dim, projection_size, hidden_size=4096, sync_batchnorm=None):
    return nn.Sequential(
        nn.Linear(dim, hidden_size),
        MaybeSyncBatchnorm(sync_batchnorm)(hidden_size),
        nn.ReLU(inplace=True),
        nn.Linear(hidden_size, projection_size)
    )

def SimSiamMLP(dim, projection_size, hidden_size=4096, sync_batchnorm=None):
    return nn.Sequential(
        nn.Linear(dim, hidden_size, bias=False),
        MaybeSyncBatchnorm(sync_batchnorm)(hidden_size),
        nn.ReLU(inplace=True),
        nn.Linear(hidden_size, hidden_size, bias=False),
        MaybeSyncBatchnorm(sync_batchnorm)(hidden_size),
        nn.ReLU(inplace=True),
        nn.Linear(hidden_size, projection_size, bias=False),
        MaybeSyncBatchnorm(sync_batchnorm)(projection_size, affine=False)
    )

# a wrapper class for the base neural network
# will manage the interception of the hidden layer output
# and pipe it into the projecter and predictor nets

class NetWrapper(nn.Module):
    def __init__(self, net, projection_size, projection_hidden_size, layer = -2, use_simsiam_mlp = False, sync_batchnorm = None):
        super().__init__()
        self.net = net
        self.layer = layer

        self.projector = None
        self.projection_size = projection_size
        self.projection_hidden_size = projection_hidden_size

        self.use_simsiam_mlp = use_simsiam_mlp
        self.sync_batchnorm = sync_batchnorm

        self.hidden = {}
        self.hook_registered = False

    def _find_layer(self):
        if type(self.layer) == str:
            modules = dict([*self.net.named_modules()])
            return modules.get(self.layer, None)
        elif type(self.layer) == int:
            children = [*self.net.children()]
            return children[self.layer]
        return None

    def _hook(self, _, input, output):
        device = input[0].device
        self.hidden[device] = flatten(output)

    def _register_hook(self):
        layer = self._find_layer()
        assert layer is not None, f'hidden layer ({self.layer}) not found'
        handle = layer.register_forward_hook(self._hook)
        self.hook_registered = True

    @singleton('projector')
    def _get_projector(self, hidden):
        _, dim = hidden.shape
        create_mlp_fn = MLP if not self.use_simsiam_mlp else SimSiamMLP
        projector = create_mlp_fn(dim, self.projection_size, self.projection_hidden_size, sync_batchnorm = self.sync_batchnorm)
        return projector.to(hidden)

    def get_representation(self, x):
        if self.layer == -1:
            return self.net(x)

        if not self.hook_registered:
            self._register_hook()

        self.hidden.clear()
        _ = self.net(x)
        hidden = self.hidden[x.device]
        self.hidden.clear()

        assert hidden is not None, f'hidden layer {self.layer} never emitted an output'
        return hidden

    def forward(self, x, return_projection = True):
        representation = self.get_representation(x)

        if not return_projection:
            return representation

        projector = self._get_projector(representation)
        projection = projector(representation)
        return projection, representation

# main class

class BYOL(nn.Module):
    def __init__(
        self,
        net,
        image_size,
        hidden_layer = -2,
        projection_size = 256,
        projection_hidden_size = 4096,
        augment_fn = None,
        augment_fn2 = None,
        moving_average_decay = 0.99,
        use_momentum = True,
        sync_batchnorm = None
    ):
        super().__init__()
        self.net = net

        # default SimCLR augmentation

        DEFAULT_AUG = None  # torchvision's transforms: not available (see the header)

        self.augment1 = default(augment_fn, DEFAULT_AUG)
        self.augment2 = default(augment_fn2, self.augment1)

        self.online_encoder = NetWrapper(
            net,
            projection_size,
            projection_hidden_size,
            layer = hidden_layer,
            use_simsiam_mlp = not use_momentum,
            sync_batchnorm = sync_batchnorm
        )

        self.use_momentum = use_momentum
        self.target_encoder = None
        self.target_ema_updater = EMA(moving_average_decay)

        self.online_predictor = MLP(projection_size, projection_size, projection_hidden_size)

        # get device of network and make wrapper same device
        device = get_module_device(net)
        self.to(device)

        # send a mock image tensor to instantiate singleton parameters
        self.forward(torch.randn(2, 3, image_size, image_size, device=device))

    @singleton('target_encoder')
    def _get_target_encoder(self):
        target_encoder = copy.deepcopy(self.online_encoder)
        set_requires_grad(target_encoder, False)
        return target_encoder

    def reset_moving_average(self):
        del self.target_encoder
        self.target_encoder = None

    def update_moving_average(self):
        assert self.use_momentum, 'you do not need to update the moving average, since you have turned off momentum for the target encoder'
        assert self.target_encoder is not None, 'target encoder has not been created yet'
        update_moving_average(self.target_ema_updater, self.target_encoder, self.online_encoder)

    def forward(
        self,
        x,
        return_embedding = False,
        return_projection = True
    ):
        assert not (self.training and x.shape[0] == 1), 'you must have greater than 1 sample when training, due to the batchnorm in the projection layer'

        if return_embedding:
            return self.online_encoder(x, return_projection = return_projection)

        image_one, image_two = self.augment1(x), self.augment2(x)

        images = torch.cat((image_one, image_two), dim = 0)

        online_projections, _ = self.online_encoder(images)
        online_predictions = self.online_predictor(online_projections)

        online_pred_one, online_pred_two = online_predictions.chunk(2, dim = 0)

        with torch.no_grad():
            target_encoder = self._get_target_encoder() if self.use_momentum else self.online_encoder

            target_projections, _ = target_encoder(images)
            target_projections = target_projections.detach()

            target_proj_one, target_proj_two = target_projections.chunk(2, dim = 0)

        loss_one = loss_fn(online_pred_one, target_proj_two.detach())
        loss_two = loss_fn(online_pred_two, target_proj_one.detach())

        loss = loss_one + loss_two
        return loss.mean()


# ---------------------------------------------------------------------------------- the README's usage (shrunk)
import io


class SmallConvNet(nn.Module):  # stands in for models.resnet50(pretrained=True)
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        x = self.avgpool(self.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(x, 1))


class Brightness(nn.Module):  # stands in for T.ColorJitter
    def forward(self, x):
        return x * (0.6 + 0.8 * torch.rand(x.shape[0], 1, 1, 1))


class HorizontalFlip(nn.Module):  # stands in for T.RandomHorizontalFlip (the whole batch, as on a batch tensor)
    def forward(self, x):
        return x.flip(-1) if torch.rand(1) < 0.5 else x


class Normalize(nn.Module):  # stands in for T.Normalize
    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean[:, None, None]) / self.std[:, None, None]


augment_fn = torch.nn.Sequential(
    RandomApply(Brightness(), p = 0.3),
    HorizontalFlip(),
    Normalize(
        mean=torch.tensor([0.485, 0.456, 0.406]),
        std=torch.tensor([0.229, 0.224, 0.225])),
)

resnet = SmallConvNet()

learner = BYOL(
    resnet,
    image_size = 8,
    hidden_layer = 'avgpool',
    projection_size = 16,
    projection_hidden_size = 32,
    augment_fn = augment_fn
)
print(learner.online_encoder.projector)
print(learner.online_predictor)
print('target encoder', type(learner.target_encoder).__name__,
      [p.requires_grad for p in learner.target_encoder.parameters()][:3],
      'hooks', len(learner.target_encoder.net.avgpool._forward_hooks))
print('parameters', sum(p.numel() for p in learner.parameters()),
      'trainable', sum(p.numel() for p in learner.parameters() if p.requires_grad))

opt = torch.optim.Adam(learner.parameters(), lr=3e-4)

def sample_unlabelled_images():
    return torch.randn(8, 3, 8, 8)

for _ in range(4):
    images = sample_unlabelled_images()
    loss = learner(images)
    opt.zero_grad()
    loss.backward()
    opt.step()
    learner.update_moving_average() # update moving average of target encoder
    print('loss', loss.item())

online = learner.online_encoder.projector[0].weight
target = learner.target_encoder.projector[0].weight
print('online - target', (online - target).abs().max().item(), 'requires_grad', target.requires_grad)
projection, embedding = learner(images, return_embedding = True)
print('projection', projection.shape, 'embedding', embedding.shape)
print(embedding[:2, :6])
print('loss_fn', loss_fn(embedding[:3], embedding[1:4]))

# save your improved network
buffer = io.BytesIO()
torch.save(resnet.state_dict(), buffer)
buffer.seek(0)
print('saved', list(torch.load(buffer).keys()))

# use_momentum = False: the target is the online encoder itself (SimSiam), with SimSiamMLP
resnet = SmallConvNet()
learner = BYOL(
    resnet,
    image_size = 8,
    hidden_layer = 'avgpool',
    projection_size = 16,
    projection_hidden_size = 32,
    augment_fn = augment_fn,
    use_momentum = False       # turn off momentum in the target encoder
)
print(learner.online_encoder.projector)
print('target_encoder', learner.target_encoder)

opt = torch.optim.Adam(learner.parameters(), lr=3e-4)

for _ in range(3):
    images = sample_unlabelled_images()
    loss = learner(images)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print('loss', loss.item())
try:
    learner.update_moving_average()
except AssertionError as e:
    print('AssertionError:', e)
