# Source: Stanford CS231n (Spring 2025) assignment 3, "Denoising Diffusion Probabilistic Models": the
# GaussianDiffusion (sigmoid/cosine/linear beta schedules, q_sample, p_losses, p_sample, sample) and the
# text-conditioned U-Net (RMSNorm, SinusoidalPosEmb, ResnetBlock with scale/shift modulation, bilinear
# Upsample, classifier-free guidance), as a student completed them:
#   https://github.com/tanyajing1/yjtan_cs231n  cs231n/gaussian_diffusion.py, cs231n/unet.py, DDPM.ipynb
# Shrunk: 16 synthetic 3x8x8 "emoji" images with random 16-d "text embeddings" (a Dataset returning the
# notebook's (image, {"text_emb", "text"}) pairs) instead of the emoji set and its CLIP embeddings; U-Net
# dim 8, dim_mults (1, 2) (the notebook's 64, (1, 2, 4, 8)); 10 diffusion steps (1000); 4 Adam steps of
# batch 4 (the notebook's provided trainer is not in the repository: a plain loop over p_losses here);
# sampling 2 images with cfg_scale. einops (not installed here) is replaced by its equivalent:
# rearrange(context, "b c -> b c 1 1") is context[:, :, None, None]. The shapes, losses, schedules and sample
# statistics the notebook shows as images are printed.
import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import einsum
from torch import nn
from tqdm.auto import tqdm
from torch.utils.data import Dataset, DataLoader


# ---------------------------------------------------------------------------------------------- unet.py
def exists(x):
    return x is not None


def default(val, d):
    if exists(val):
        return val
    return d() if callable(d) else d


def Upsample(dim, dim_out=None):
    """Upsample the image feature resolution a factor of 2."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.Conv2d(dim, default(dim_out, dim), 3, padding=1),
    )


def Downsample(dim, dim_out=None):
    """Downsample the image feature resolution a factor of 2."""
    return nn.Conv2d(dim, default(dim_out, dim), kernel_size=2, stride=2)


class RMSNorm(nn.Module):
    """RMSNorm layer which is compute-efficient simplified variant of LayerNorm."""

    def __init__(self, dim):
        super().__init__()
        self.scale = dim ** 0.5
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.g * self.scale


class SinusoidalPosEmb(nn.Module):
    """Sinusoidal position embedding for time steps."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        device = x.device
        half_dim = self.dim // 2
        emb = math.log(10000) / (half_dim - 1)
        emb = torch.exp(torch.arange(half_dim, device=device) * -emb)
        emb = x[:, None] * emb[None, :]
        emb = torch.cat((emb.sin(), emb.cos()), dim=-1)
        return emb


class Block(nn.Module):
    """A conv block with feature modulation."""

    def __init__(self, dim, dim_out):
        super().__init__()
        self.proj = nn.Conv2d(dim, dim_out, 3, padding=1)
        self.norm = RMSNorm(dim_out)
        self.act = nn.GELU()

    def forward(self, x, scale_shift=None):
        x = self.proj(x)
        x = self.norm(x)

        # Scale and shift are used to mod   ulate the output. This is a variant
        # of feature fusion, more powerful than simply adding the feature maps.
        if exists(scale_shift):
            scale, shift = scale_shift
            x = x * (scale + 1) + shift

        x = self.act(x)
        return x


class ResnetBlock(nn.Module):
    """A ResNet-like block with context dependent feature modulation."""

    def __init__(self, dim, dim_out, context_dim):
        super().__init__()
        self.dim = dim
        self.dim_out = dim_out
        self.context_dim = context_dim

        self.mlp = (
            nn.Sequential(nn.GELU(), nn.Linear(context_dim, dim_out * 2))
            if exists(context_dim)
            else None
        )

        self.block1 = Block(dim, dim_out)
        self.block2 = Block(dim_out, dim_out)
        self.res_conv = nn.Conv2d(dim, dim_out, 1) if dim != dim_out else nn.Identity()
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, context=None):
        scale_shift = None
        if exists(self.mlp) and exists(context):
            context = self.mlp(context)
            context = context[:, :, None, None]  # rearrange(context, "b c -> b c 1 1")
            scale_shift = context.chunk(2, dim=1)

        h = self.block1(x, scale_shift=scale_shift)
        h = self.dropout(h)
        h = self.block2(h)
        return h + self.res_conv(x)


class Unet(nn.Module):
    def __init__(
            self,
            dim,
            condition_dim,
            dim_mults=(1, 2, 4, 8),
            channels=3,
            uncond_prob=0.2,
    ):
        super().__init__()

        self.init_conv = nn.Conv2d(channels, dim, 3, padding=1)
        self.channels = channels

        # Number of channels at each layer i.e. [d1, d2, ..., dn]
        dims = [dim] + [dim * m for m in dim_mults]
        # Input and output for each U-Net block in downsampling layers
        # e.g. [(d1, d2), (d2, d3), ..., (dn-1, dn)]
        in_out = list(zip(dims[:-1], dims[1:]))
        # Input and output for each U-Net block in upsampling layers
        # e.g. [(dn, dn-1), (dn-1, dn-2), ..., (d2, d1)]
        in_out_ups = [(b, a) for a, b in reversed(in_out)]

        # Encoding timestep as context
        context_dim = dim * 4
        self.time_mlp = nn.Sequential(
            SinusoidalPosEmb(dim),
            nn.Linear(dim, context_dim),
            nn.GELU(),
            nn.Linear(context_dim, context_dim),
        )

        # Encoding condition (i.e. text embedding) as context
        self.condition_dim = condition_dim
        self.condition_mlp = nn.Sequential(
            nn.Linear(condition_dim, context_dim),
            nn.GELU(),
            nn.Linear(context_dim, context_dim),
        )

        # Probability of dropping the condition during training
        self.uncond_prob = uncond_prob

        # UNet downsampling and upsampling blocks.
        # self.downs is a ModuleList of ModuleLists.
        self.downs = nn.ModuleList([])
        # self.ups is a ModuleList of ModuleLists.
        self.ups = nn.ModuleList([])

        ####################################################################
        # Downsampling blocks
        ####################################################################
        for ind, (dim_in, dim_out) in enumerate(in_out):
            down_block = None
            ##################################################################
            down_block = nn.ModuleList([
                ResnetBlock(dim_in, dim_in, context_dim),
                ResnetBlock(dim_in, dim_in, context_dim),
                Downsample(dim_in, dim_out),
            ])
            ##################################################################
            self.downs.append(down_block)

        # Middle blocks
        mid_dim = dims[-1]
        self.mid_block1 = ResnetBlock(mid_dim, mid_dim, context_dim=context_dim)
        self.mid_block2 = ResnetBlock(mid_dim, mid_dim, context_dim=context_dim)

        ####################################################################
        # Upsampling blocks
        ####################################################################
        for ind, (dim_in, dim_out) in enumerate(in_out_ups):
            up_block = None
            ##################################################################
            up_block = nn.ModuleList([
                Upsample(dim_in, dim_out),
                ResnetBlock(2 * dim_out, dim_out, context_dim),
                ResnetBlock(2 * dim_out, dim_out, context_dim),
            ])
            ##################################################################
            self.ups.append(up_block)

        # Final convolution to map to the output channels
        self.final_conv = nn.Conv2d(dim, channels, 1)

    def cfg_forward(self, x, time, model_kwargs={}):
        """Classifier-free guidance forward pass. model_kwargs should contain `cfg_scale`."""

        cfg_scale = model_kwargs.pop("cfg_scale")
        print("Classifier-free guidance scale:", cfg_scale)
        model_kwargs = copy.deepcopy(model_kwargs)

        ##################################################################
        # Conditional prediction
        cond_out = self.forward(x, time, model_kwargs)

        # Unconditional prediction (drop condition)
        uncond_kwargs = copy.deepcopy(model_kwargs)
        uncond_kwargs["text_emb"] = None
        uncond_out = self.forward(x, time, uncond_kwargs)

        # Classifier-free guidance combination
        x = (cfg_scale + 1.0) * cond_out - cfg_scale * uncond_out
        ##################################################################

        return x

    def forward(self, x, time, model_kwargs={}):
        if "cfg_scale" in model_kwargs:
            return self.cfg_forward(x, time, model_kwargs)

        # Embed time step
        context = self.time_mlp(time)

        # Embed condition and add to context
        cond_emb = model_kwargs["text_emb"]
        if cond_emb is None:
            cond_emb = torch.zeros(x.shape[0], self.condition_dim, device=x.device)
        if self.training:
            # Randomly drop condition
            mask = (torch.rand(cond_emb.shape[0]) > self.uncond_prob).float()
            mask = mask[:, None].to(cond_emb.device)  # B x 1
            cond_emb = cond_emb * mask
        context = context + self.condition_mlp(cond_emb)

        # Initial convolution
        x = self.init_conv(x)

        ##################################################################
        skips = []
        for res1, res2, down in self.downs:
            x = res1(x, context)
            skips.append(x)
            x = res2(x, context)
            skips.append(x)
            x = down(x)
        x = self.mid_block1(x, context)
        x = self.mid_block2(x, context)
        for up, res1, res2 in self.ups:
            x = up(x)
            x = torch.cat([x, skips.pop()], dim=1)
            x = res1(x, context)
            x = torch.cat([x, skips.pop()], dim=1)
            x = res2(x, context)
        ##################################################################

        # Final block
        x = self.final_conv(x)

        return x


# ---------------------------------------------------------------------------------------------- gaussian_diffusion.py
class GaussianDiffusion(nn.Module):
    def __init__(
        self,
        model,
        *,
        image_size,
        timesteps=1000,
        objective="pred_noise",
        beta_schedule="sigmoid",
    ):
        super().__init__()

        self.model = model
        self.channels = 3
        self.image_size = image_size
        self.objective = objective
        assert objective in {
            "pred_noise",
            "pred_x_start",
        }, "objective must be either pred_noise (predict noise) or pred_x_start (predict image start)"

        # A helper function to register some constants as buffers to ensure that
        # they are on the same device as model parameters.
        register_buffer = lambda name, val: self.register_buffer(name, val.float())

        #############################################################################
        # Noise schedule beta and alpha values
        #############################################################################
        betas = get_beta_schedule(beta_schedule, timesteps)
        self.num_timesteps = int(betas.shape[0])
        alphas = 1.0 - betas
        alphas_cumprod = torch.cumprod(alphas, dim=0)  # alpha_bar_t
        register_buffer("betas", betas)  # can be accessed as self.betas
        register_buffer("alphas", alphas)  # can be accessed as self.alphas
        register_buffer("alphas_cumprod", alphas_cumprod)  # self.alphas_cumprod

        #############################################################################
        # Other coefficients needed to transform between x_t, x_0, and noise
        #############################################################################
        register_buffer("sqrt_alphas_cumprod", torch.sqrt(alphas_cumprod))
        register_buffer(
            "sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - alphas_cumprod)
        )

        #############################################################################
        # For posterior q(x_{t-1} | x_t, x_0) according to Eq. (6) and (7) of the paper.
        #############################################################################
        # alpha_bar_{t-1}
        alphas_cumprod_prev = nn.functional.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
        register_buffer(
            "posterior_mean_coef1",
            betas * torch.sqrt(alphas_cumprod_prev) / (1.0 - alphas_cumprod),
        )
        register_buffer(
            "posterior_mean_coef2",
            (1.0 - alphas_cumprod_prev) * torch.sqrt(alphas) / (1.0 - alphas_cumprod),
        )
        posterior_var = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
        posterior_std = torch.sqrt(posterior_var.clamp(min=1e-20))
        register_buffer("posterior_std", posterior_std)

        #################################################################
        # loss weight
        #################################################################
        snr = alphas_cumprod / (1 - alphas_cumprod)
        loss_weight = torch.ones_like(snr) if objective == "pred_noise" else snr
        register_buffer("loss_weight", loss_weight)

    def normalize(self, img):
        return img * 2 - 1

    def unnormalize(self, img):
        return (img + 1) * 0.5

    def predict_start_from_noise(self, x_t, t, noise):
        x_start = None
        ####################################################################
        x_start_param = extract(self.sqrt_alphas_cumprod, t, x_t.shape)
        noise_param = extract(self.sqrt_one_minus_alphas_cumprod, t, x_t.shape)
        x_start = (x_t - noise_param * noise) / x_start_param
        ####################################################################
        return x_start

    def predict_noise_from_start(self, x_t, t, x_start):
        pred_noise = None
        ####################################################################
        x_start_param = extract(self.sqrt_alphas_cumprod, t, x_t.shape)
        noise_param = extract(self.sqrt_one_minus_alphas_cumprod, t, x_t.shape)
        pred_noise = (x_t - x_start_param * x_start) / noise_param
        ####################################################################
        return pred_noise

    def q_posterior(self, x_start, x_t, t):
        posterior_mean = None
        posterior_std = None
        ####################################################################
        # We have already implemented this method for you.
        c1 = extract(self.posterior_mean_coef1, t, x_t.shape)
        c2 = extract(self.posterior_mean_coef2, t, x_t.shape)
        posterior_mean = c1 * x_start + c2 * x_t
        posterior_std = extract(self.posterior_std, t, x_t.shape)
        ####################################################################
        return posterior_mean, posterior_std

    @torch.no_grad()
    def p_sample(self, x_t, t: int, model_kwargs={}):
        t = torch.full((x_t.shape[0],), t, device=x_t.device, dtype=torch.long)  # (b,)
        x_tm1 = None  # sample x_{t-1} from p(x_{t-1} | x_t)
        ##################################################################
        # predict noise & calculate x_0
        pred = self.model(x_t, t, model_kwargs)
        if self.objective == "pred_noise":
            x0_hat = self.predict_start_from_noise(x_t, t, pred)
        else:
            x0_hat = pred
        # clamp
        x0_hat = x0_hat.clamp(-1.0, 1.0)
        # mean & std
        posterior_mean, posterior_std = self.q_posterior(x0_hat, x_t, t)
        # sample x_{t-1}
        noise = torch.zeros_like(x_t) if t[0] == 0 else torch.randn_like(x_t)
        x_tm1 = posterior_mean + posterior_std * noise
        ##################################################################

        return x_tm1

    @torch.no_grad()
    def sample(self, batch_size=16, return_all_timesteps=False, model_kwargs={}):

        shape = (batch_size, self.channels, self.image_size, self.image_size)
        img = torch.randn(shape, device=self.betas.device)
        imgs = [img]

        for t in tqdm(
            reversed(range(0, self.num_timesteps)),
            desc="sampling loop time step",
            total=self.num_timesteps,
        ):
            img = self.p_sample(img, t, model_kwargs=model_kwargs)
            imgs.append(img)

        res = img if not return_all_timesteps else torch.stack(imgs, dim=1)
        res = self.unnormalize(res)
        return res

    def q_sample(self, x_start, t, noise):
        x_t = None
        ####################################################################
        x_start_param = extract(self.sqrt_alphas_cumprod, t, x_start.shape)
        noise_param = extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape)
        x_t = x_start_param * x_start + noise_param * noise
        ####################################################################
        return x_t

    def p_losses(self, x_start, model_kwargs={}):
        b, nts = x_start.shape[0], self.num_timesteps
        t = torch.randint(0, nts, (b,), device=x_start.device).long()  # (b,)
        x_start = self.normalize(x_start)  # (b, *)
        noise = torch.randn_like(x_start)  # (b, *)
        target = noise if self.objective == "pred_noise" else x_start  # (b, *)
        loss_weight = extract(self.loss_weight, t, target.shape)  # (b, *)
        loss = None

        ####################################################################
        # q_sample
        x_t = self.q_sample(x_start, t, noise)
        # model
        pred = self.model(x_t, t, model_kwargs)
        # MSELoss
        loss = ((pred - target) ** 2 * loss_weight).mean()
        ####################################################################

        return loss


def extract(a, t, x_shape):
    b, *_ = t.shape  # Extract batch size from the timestep tensor
    out = a.gather(-1, t)  # Gather the coefficient values from `a` based on `t`
    out = out.reshape(
        b, *((1,) * (len(x_shape) - 1))
    )  # Reshape to (b, 1, 1, 1) for broadcasting
    return out


def linear_beta_schedule(timesteps):
    """
    linear schedule, proposed in original ddpm paper
    """
    scale = 1000 / timesteps
    beta_start = scale * 0.0001
    beta_end = scale * 0.02
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def cosine_beta_schedule(timesteps, s=0.008):
    """
    cosine schedule
    as proposed in https://openreview.net/forum?id=-NEXDKk8gZ
    """
    steps = timesteps + 1
    t = torch.linspace(0, timesteps, steps, dtype=torch.float64) / timesteps
    alphas_cumprod = torch.cos((t + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0, 0.999)


def sigmoid_beta_schedule(timesteps, start=-3, end=3, tau=1, clamp_min=1e-5):
    """
    sigmoid schedule
    proposed in https://arxiv.org/abs/2212.11972 - Figure 8
    better for images > 64x64, when used during training
    """
    steps = timesteps + 1
    t = torch.linspace(0, timesteps, steps, dtype=torch.float64) / timesteps
    v_start = torch.tensor(start / tau).sigmoid()
    v_end = torch.tensor(end / tau).sigmoid()
    alphas_cumprod = (-((t * (end - start) + start) / tau).sigmoid() + v_end) / (
        v_end - v_start
    )
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0, 0.999)


def get_beta_schedule(beta_schedule, timesteps):
    if beta_schedule == "linear":
        beta_schedule_fn = linear_beta_schedule
    elif beta_schedule == "cosine":
        beta_schedule_fn = cosine_beta_schedule
    elif beta_schedule == "sigmoid":
        beta_schedule_fn = sigmoid_beta_schedule
    else:
        raise ValueError(f"unknown beta schedule {beta_schedule}")

    betas = beta_schedule_fn(timesteps)
    return betas


# ---------------------------------------------------------------------------------------------- DDPM.ipynb
class EmojiDataset(Dataset):
    """Stand-in for cs231n.emoji_dataset.EmojiDataset: (image in [0, 1], {"text_emb", "text"})."""

    def __init__(self, image_size, n=16, condition_dim=16):
        self.images = torch.rand(n, 3, image_size, image_size)
        self.text_embs = torch.randn(n, condition_dim)
        self.texts = [f"emoji number {i}" for i in range(n)]

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        return self.images[idx], {"text_emb": self.text_embs[idx], "text": self.texts[idx]}


image_size = 8
dataset = EmojiDataset(image_size)
img, cond = dataset[0]
print(f"One sample: (image: {list(img.shape)}, {{ \"text_emb\": {list(cond['text_emb'].shape)}, \"text\": string }})")

for schedule in ["linear", "cosine", "sigmoid"]:
    betas = get_beta_schedule(schedule, 20)
    print(schedule, betas.dtype, betas[:3], betas[-3:])

model = Unet(dim=8, condition_dim=16, dim_mults=(1, 2), channels=3, uncond_prob=0.2)
diffusion = GaussianDiffusion(model, image_size=image_size, timesteps=10, objective="pred_noise",
                              beta_schedule="sigmoid")
print("parameters:", sum(p.numel() for p in model.parameters()))
print("buffers:", [name for name, _ in diffusion.named_buffers()])
print("posterior_std", diffusion.posterior_std[:4])

# the forward process
x_start = diffusion.normalize(img[None])
t = torch.tensor([0, 3, 6, 9])
noise = torch.randn(4, 3, image_size, image_size)
x_t = diffusion.q_sample(x_start.expand(4, -1, -1, -1), t, noise)
print("q_sample std per t:", x_t.flatten(1).std(dim=1))
print("predict_start_from_noise error:",
      (diffusion.predict_start_from_noise(x_t, t, noise) - x_start).abs().max() < 1e-4)
print("predict_noise_from_start error:",
      (diffusion.predict_noise_from_start(x_t, t, x_start.expand(4, -1, -1, -1)) - noise).abs().max() < 1e-3)
out = model(x_t, t, {"text_emb": torch.randn(4, 16)})
print("unet output:", out.shape)

loader = DataLoader(dataset, batch_size=4, shuffle=True)
optimizer = torch.optim.Adam(diffusion.parameters(), lr=1e-3)
diffusion.train()
for step, (images, conditions) in enumerate(loader):
    loss = diffusion.p_losses(images, model_kwargs={"text_emb": conditions["text_emb"]})
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print(f"step {step} loss {loss.item():.4f} texts {conditions['text']}")

diffusion.eval()
text_emb = dataset[3][1]["text_emb"][None].repeat(2, 1)
samples = diffusion.sample(batch_size=2, model_kwargs={"text_emb": text_emb, "cfg_scale": 2.0})
print("samples:", samples.shape, samples.mean().item(), samples.std().item())
print(samples[0, 0])
all_steps = diffusion.sample(batch_size=1, return_all_timesteps=True, model_kwargs={"text_emb": text_emb[:1]})
print("all timesteps:", all_steps.shape, all_steps[0, :, 0].mean(dim=(1, 2)))
