# Source: labml.ai (Varuna Jayasiri), "Annotated Deep Learning Paper Implementations", the optimizers:
#   https://github.com/labmlai/annotated_deep_learning_paper_implementations  labml_nn/optimizers/
#   (__init__.py GenericAdaptiveOptimizer and WeightDecay, adam.py, amsgrad.py with its synthetic experiment,
#   radam.py, ada_belief.py, adam_warmup.py, adam_warmup_cosine_decay.py, noam.py, sophia.py, configs.py,
#   mnist_experiment.py, performance_test.py; sophia's hessian step from transformers/basic/with_sophia.py)
# Shrunk: labml's configs/tracker/monit dropped (configs.py's option functions are plain functions here,
# what the tracker records is printed); the MNIST model trains 4 steps (8 for RAdam/AdaBelief) per optimizer on
# 32 synthetic 28x28 "digits"; the synthetic experiment runs 300 steps instead of 10^7; performance_test steps
# 3+10 times on 16 inputs, its timings left out; the learning-rate plots are printed at a few steps.
import math
from typing import Dict, Tuple, Any, Optional

import torch
import torch.nn as nn
import torch.utils.data
from torch.optim.optimizer import Optimizer
from torch.optim import Adam as TorchAdam

from labml_nn.optimizers import GenericAdaptiveOptimizer, WeightDecay
from labml_nn.optimizers.adam import Adam
from labml_nn.optimizers.amsgrad import AMSGrad
from labml_nn.optimizers.noam import Noam


# ---- labml_nn/optimizers/__init__.py ----
# (GenericAdaptiveOptimizer: labml_nn/optimizers, beside this script)

# (WeightDecay: labml_nn/optimizers, beside this script)

# ---- labml_nn/optimizers/adam.py ----
# (Adam: labml_nn/optimizers, beside this script)

# ---- labml_nn/optimizers/amsgrad.py ----
# (AMSGrad: labml_nn/optimizers, beside this script)

def _synthetic_experiment(is_adam: bool):
    # Define $x$ parameter
    x = nn.Parameter(torch.tensor([.0]))
    # Optimal, $x^* = -1$
    x_star = nn.Parameter(torch.tensor([-1]), requires_grad=False)

    def func(t: int, x_: nn.Parameter):
        """
        ### $f_t(x)$
        """
        if t % 101 == 1:
            return (1010 * x_).sum()
        else:
            return (-10 * x_).sum()

    # Initialize the relevant optimizer
    if is_adam:
        optimizer = Adam([x], lr=1e-2, betas=(0.9, 0.99))
    else:
        optimizer = AMSGrad([x], lr=1e-2, betas=(0.9, 0.99))
    # $R(T)$
    total_regret = 0

    print('synthetic', 'Adam' if is_adam else 'AMSGrad')
    # Run for 300 steps (the original: $10^7$)
    for step in range(300):
        # $f_t(\theta_t) - f_t(\theta^*)$
        regret = func(step, x) - func(step, x_star)
        # $R(T) = \sum_{t=1}^T \big[ f_t(\theta_t) - f_t(\theta^*) \big]$
        total_regret += regret.item()
        # Track results every 100 steps (the original: 1,000)
        if (step + 1) % 100 == 0:
            print(f"  step {step + 1}: loss={regret.item():.4f} x={x.item():.4f} regret={total_regret / (step + 1):.4f}")
        # Calculate gradients
        regret.backward()
        # Optimize
        optimizer.step()
        # Clear gradients
        optimizer.zero_grad()

        # Make sure $-1 \le x \le +1$
        x.data.clamp_(-1., +1.)


# ---- labml_nn/optimizers/radam.py ----
class RAdam(AMSGrad):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                 weight_decay: WeightDecay = WeightDecay(),
                 optimized_update: bool = True,
                 amsgrad=False,
                 degenerated_to_sgd=True, defaults=None):
        self.degenerated_to_sgd = degenerated_to_sgd
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults)

    def step_param(self, state: Dict[str, any], group: Dict[str, any], grad: torch.Tensor, param: torch.nn.Parameter):
        # Calculate weight decay
        grad = self.weight_decay(param, grad, group)

        # Get $m_t$ and $v_t$; i.e. $\sigma(.)$ and $\psi(.)$ without bias correction
        m, v = self.get_mv(state, group, grad)

        # Calculate $t$ the number of optimizer steps
        state['step'] += 1

        # Perform *RAdam* update
        self.r_adam_update(state, group, param, m, v)

    @staticmethod
    def calc_rectification_term(beta2: float, step: int) -> Optional[float]:
        # $\beta_2^t$
        beta2_t = beta2 ** step
        # $$\rho_\infty = \frac{2}{1 - \beta_2} - 1$$
        rho_inf = 2 / (1 - beta2) - 1
        # $$\rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}$$
        rho = rho_inf - 2 * step * beta2_t / (1 - beta2_t)

        # $r_t$ is tractable when $\rho_t >= 4$.
        # We are being a little more conservative since it's an approximated value
        if rho >= 5:
            # $$r_t = \sqrt{\frac{(\rho_t-2)(\rho_t-4)\rho_\infty}{(\rho_\infty-2)(\rho_\infty-4)\rho_t}}$$
            r2 = (rho - 4) / (rho_inf - 4) * (rho - 2) / rho * rho_inf / (rho_inf - 2)
            return math.sqrt(r2)
        else:
            return None

    def r_adam_update(self, state: Dict[str, any], group: Dict[str, any], param: torch.nn.Parameter,
                      m: torch.Tensor, v: torch.Tensor):
        # Get $\beta_1$ and $\beta_2$
        beta1, beta2 = group['betas']
        # Bias correction term for $\hat{m}_t$, $1 - \beta_1^t$
        bias_correction1 = 1 - beta1 ** state['step']
        # Bias correction term for $\hat{v}_t$, $1 - \beta_2^t$
        bias_correction2 = 1 - beta2 ** state['step']

        r = self.calc_rectification_term(beta2, state['step'])

        # Get learning rate
        lr = self.get_lr(state, group)

        # If $r_t$ is intractable
        if r is not None:
            # Whether to optimize the computation by combining scalar computations
            if self.optimized_update:
                # Denominator $\sqrt{v_t} + \hat{\epsilon}$
                denominator = v.sqrt().add_(group['eps'])
                # Step size $\alpha \sqrt{r_t} * \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}$
                step_size = lr * math.sqrt(bias_correction2) * r / bias_correction1
                # Update parameters $\theta_t \leftarrow \theta_{t-1} - \alpha \sqrt{r_t} \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \cdot
                #  \frac{m_t}{\sqrt{v_t} + \hat{\epsilon}}$
                param.data.addcdiv_(m, denominator, value=-step_size)
            # Computation without optimization
            else:
                # Denominator  $\frac{\sqrt{v_t}}{\sqrt{1-\beta_2^t}} + \epsilon$
                denominator = (v.sqrt() / math.sqrt(bias_correction2)).add_(group['eps'])
                # Step size $\frac{\alpha \sqrt{r_t}}{1-\beta_1^t}$
                step_size = lr * r / bias_correction1
                # Update parameters $\theta_t \leftarrow \theta_{t-1} - \alpha \sqrt{r_t} \cdot
                # \frac{\hat{m}_t}{\sqrt{\hat{v}_t} + \epsilon}$
                param.data.addcdiv_(m, denominator, value=-step_size)

        # If $\rho_t < 4$ do SGD with momentum
        elif self.degenerated_to_sgd:
            # Step size $\frac{\alpha}{1-\beta_1^t}$
            step_size = lr / bias_correction1
            # Update parameters
            # $\theta_t \leftarrow \theta_{t-1} - \alpha \cdot \hat{m}_t$
            param.data.add_(m, alpha=-step_size)


def _test_rectification_term():
    # The original plots r_t for these beta2 over 5,000 steps
    beta2 = [0.9999, 0.999, 0.99, 0.9, 0.8, 0.6, 0.5]
    for i in [1, 5, 6, 10, 100, 1000, 4999]:
        print('r_t', i, [RAdam.calc_rectification_term(b, i) for b in beta2])


# ---- labml_nn/optimizers/ada_belief.py ----
class AdaBelief(RAdam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16,
                 weight_decay: WeightDecay = WeightDecay(), amsgrad=False,
                 degenerate_to_sgd=True,
                 rectify=True, defaults=None):
        defaults = {} if defaults is None else defaults
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, degenerate_to_sgd, defaults)
        self.rectify = rectify

    def init_state(self, state: Dict[str, any], group: Dict[str, any], param: nn.Parameter):
        state['step'] = 0
        # Exponential moving average of gradient values
        state['exp_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # Exponential moving average of variance
        state['exp_avg_var'] = torch.zeros_like(param, memory_format=torch.preserve_format)

        # If `amsgrad` flag is `True` for this parameter group, we maintain the maximum of
        # exponential moving average of variance
        if group['amsgrad']:
            # Maintains max of all exp. moving avg. of sq. grad. values
            state['max_exp_avg_var'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def get_ms(self, state: Dict[str, Any], group: Dict[str, Any], grad: torch.Tensor):
        # Get $\beta_1$ and $\beta_2$
        beta1, beta2 = group['betas']

        # Get $m_{t-1}$ and $s_{t-1}$
        m, s = state['exp_avg'], state['exp_avg_var']

        # In-place calculation of $m_t$
        # $$m_t \leftarrow \beta_1 m_{t-1} + (1 - \beta_1) \cdot g_t$$
        m.mul_(beta1).add_(grad, alpha=1 - beta1)
        # Difference between gradient and momentum
        grad_residual = grad - m
        # In-place calculation of $s_t$
        # $$s_t \leftarrow \beta_2 s_{t-1} + (1 - \beta_2) \cdot (g_t - m_t)^2$$
        s.mul_(beta2).addcmul_(grad_residual, grad_residual, value=1 - beta2)

        # If this parameter group is using `amsgrad`
        if group['amsgrad']:
            # Get $\max(s_1, s_2, ..., s_{t-1})$.
            s_max = state['max_exp_avg_var']
            # Calculate $\max(s_1, s_2, ..., s_{t-1}, s_t)$.
            torch.maximum(s_max, s, out=s_max)

            return m, s_max
        else:
            # $m_t$ and $s_t$ otherwise
            return m, s

    def step_param(self, state: Dict[str, any], group: Dict[str, any], grad: torch.Tensor, param: torch.nn.Parameter):
        # Calculate weight decay
        grad = self.weight_decay(param, grad, group)

        # Get $m_t$ and $v_t$
        m, s = self.get_ms(state, group, grad)

        # Increment $t$ the number of optimizer steps
        state['step'] += 1

        if not self.rectify:
            # Perform *Adam* update, defined in [`adam.py`](adam.html), with
            # $\textcolor{cyan}{s_t} + \textcolor{red}{\epsilon}$ in place of $v_t$.
            self.adam_update(state, group, param, m, s + group['eps'])
        else:
            # Perform *Rectified Adam* update defined in [`radam.py`](radam.html), with
            # $\textcolor{cyan}{s_t} + \textcolor{red}{\epsilon}$ in place of $v_t$.
            self.r_adam_update(state, group, param, m, s + group['eps'])


# ---- labml_nn/optimizers/adam_warmup.py ----
class AdamWarmup(AMSGrad):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16,
                 weight_decay: WeightDecay = WeightDecay(),
                 optimized_update: bool = True,
                 amsgrad=False, warmup=0, defaults=None):
        defaults = {} if defaults is None else defaults
        defaults.update(dict(warmup=warmup))
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults)

    def get_lr(self, state: Dict[str, any], group: Dict[str, any]):
        # If we are in warmup stage
        if group['warmup'] > state['step']:
            # A linearly increasing learning rate from $0$ to $\alpha$
            return 1e-8 + state['step'] * group['lr'] / group['warmup']
        else:
            # Constant learning rate $\alpha$
            return group['lr']


# ---- labml_nn/optimizers/adam_warmup_cosine_decay.py ----
class AdamWarmupCosineDecay(AMSGrad):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16,
                 weight_decay: WeightDecay = WeightDecay(),
                 optimized_update: bool = True,
                 amsgrad=False, warmup=0, total_steps=1e10, defaults=None):
        defaults = {} if defaults is None else defaults
        defaults.update(dict(warmup=warmup, total_steps=total_steps))
        super().__init__(params, lr, betas, eps, weight_decay, optimized_update, amsgrad, defaults)

    def get_lr(self, state: Dict[str, any], group: Dict[str, any]):
        # If we are in warmup stage
        if group['warmup'] > state['step']:
            # A linearly increasing learning rate from $0$ to $\alpha$
            return 1e-8 + state['step'] * group['lr'] / group['warmup']
        else:
            # Constant learning rate $\alpha$
            progress = (state['step'] - group['warmup']) / max(1, group['total_steps'] - group['warmup'])
            return group['lr'] * max(0.1, 0.5 * (1.0 + math.cos(math.pi * progress)))


def _test_lr():
    model = nn.Linear(10, 10)
    opt = AdamWarmupCosineDecay(model.parameters(), warmup=5000, lr=1e-4, total_steps=4e6)
    # The original plots these
    print('cosine lr', [opt.get_lr({'step': i}, opt.defaults) for i in [1, 2500, 4999, 5000, 20_000 - 1]])
    print('cosine lr', [opt.get_lr({'step': i}, opt.defaults) for i in [1001, 1_000_001, 2_000_001, 4_000_001, 6_000_000 - 1]])


# ---- labml_nn/optimizers/noam.py ----
# (Noam: labml_nn/optimizers, beside this script)

def _test_noam_lr():
    model = nn.Linear(10, 10)
    opts = [Noam(model.parameters(), d_model=512, warmup=4000, lr=1),
            Noam(model.parameters(), d_model=512, warmup=8000, lr=1),
            Noam(model.parameters(), d_model=2048, warmup=2000, lr=1)]
    # The original plots these
    for i in [1, 2000, 4000, 8000, 19_999]:
        print('noam lr', i, [opt.get_lr({'step': i}, opt.defaults) for opt in opts])


# ---- labml_nn/optimizers/sophia.py ----
class Sophia(GenericAdaptiveOptimizer):
    def __init__(self, params,
                 lr: float = 1e-4, betas: Tuple[float, float] = (0.9, 0.95), eps: float = 1e-12,
                 rho: float = 0.03,
                 weight_decay: WeightDecay = WeightDecay(),
                 defaults: Optional[Dict[str, Any]] = None):
        defaults = {} if defaults is None else defaults
        defaults.update(weight_decay.defaults())
        defaults.update(dict(rho=rho))
        super().__init__(params, defaults, lr, betas, eps)

        self.weight_decay = weight_decay

    def init_state(self, state: Dict[str, any], group: Dict[str, any], param: nn.Parameter):
        # This is the number of optimizer steps taken on the parameter, $t$
        state['step'] = 0
        # Exponential moving average of gradients, $m_t$
        state['exp_avg'] = torch.zeros_like(param, memory_format=torch.preserve_format)
        # Exponential moving average of Hessian diagonal, $h_t$
        state['hessian'] = torch.zeros_like(param, memory_format=torch.preserve_format)

    def update_hessian(self, n_tokens_training_batch):
        # Iterate through parameter groups
        for group in self.param_groups:
            # $\beta_2$
            _, beta2 = group['betas']
            # Iterate through parameters
            for p in group['params']:
                # Skip parameters without gradients
                if p.grad is None:
                    continue

                # Get optimizer state
                state = self.state[p]

                # Initialize state if empty
                if len(state) == 0:
                    self.init_state(state, group, p)

                # Update EMA Hessian diagonal
                state['hessian'].mul_(beta2).addcmul_(p.grad, p.grad, value=(1 - beta2) * n_tokens_training_batch)

    def step_param(self, state: Dict[str, any], group: Dict[str, any], grad: torch.Tensor, param: torch.nn.Parameter):
        # Calculate weight decay
        grad = self.weight_decay(param, grad, group)

        # Get $\beta_1$ and $\beta_2$
        beta1, beta2 = group['betas']

        # Get $\rho$
        rho = group['rho']

        # Get $m_{t-1}$ and $h_{t}$
        m, hessian = state['exp_avg'], state['hessian']

        # In-place calculation of $m_t$
        m.mul_(beta1).add_(grad, alpha=1 - beta1)

        # Increment $t$ the number of optimizer steps
        state['step'] += 1

        # Get maximum learning rate $\eta \rho$
        lr = group['lr']

        # $\eta$
        eta = lr / rho

        # $$\operatorname{clip} \bigg(\frac{m_t}{h_t + \epsilon}, \rho \bigg)$$
        ratio = (m / (hessian + group['eps'])).clamp(-rho, rho)

        # $$\theta_{t + 1} \leftarrow \theta_t - \eta \cdot \operatorname{clip} \bigg(\frac{m_t}{h_t + \epsilon}, \rho \bigg)$$
        param.data.add_(ratio, alpha=-eta)


# ---- labml_nn/optimizers/configs.py (the option functions, without labml's configs) ----
class OptimizerConfigs:
    optimizer: str = 'Adam'

    weight_decouple: bool = True
    weight_decay: float = 0.0
    weight_decay_absolute: bool = False

    optimized_adam_update: bool = True

    learning_rate: float = 0.01
    betas: Tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-08

    momentum: float = 0.5
    amsgrad: bool = False

    warmup: int = 2_000
    total_steps: int = int(1e10)

    degenerate_to_sgd: bool = True

    rectify: bool = True

    d_model: int

    rho: float

    def __init__(self, parameters, **kwargs):
        self.parameters = parameters
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.weight_decay_obj = _weight_decay(self)


def _weight_decay(c: OptimizerConfigs):
    return WeightDecay(c.weight_decay, c.weight_decouple, c.weight_decay_absolute)


def _sgd_optimizer(c: OptimizerConfigs):
    return torch.optim.SGD(c.parameters, c.learning_rate, c.momentum,
                           weight_decay=c.weight_decay)


def _adam_optimizer(c: OptimizerConfigs):
    if c.amsgrad:
        return AMSGrad(c.parameters,
                       lr=c.learning_rate, betas=c.betas, eps=c.eps,
                       optimized_update=c.optimized_adam_update,
                       weight_decay=c.weight_decay_obj, amsgrad=c.amsgrad)
    else:
        return Adam(c.parameters,
                    lr=c.learning_rate, betas=c.betas, eps=c.eps,
                    optimized_update=c.optimized_adam_update,
                    weight_decay=c.weight_decay_obj)


def _adam_warmup_optimizer(c: OptimizerConfigs):
    return AdamWarmup(c.parameters,
                      lr=c.learning_rate, betas=c.betas, eps=c.eps,
                      weight_decay=c.weight_decay_obj, amsgrad=c.amsgrad, warmup=c.warmup)


def _radam_optimizer(c: OptimizerConfigs):
    return RAdam(c.parameters,
                 lr=c.learning_rate, betas=c.betas, eps=c.eps,
                 weight_decay=c.weight_decay_obj, amsgrad=c.amsgrad,
                 degenerated_to_sgd=c.degenerate_to_sgd)


def _ada_belief_optimizer(c: OptimizerConfigs):
    return AdaBelief(c.parameters,
                     lr=c.learning_rate, betas=c.betas, eps=c.eps,
                     weight_decay=c.weight_decay_obj, amsgrad=c.amsgrad,
                     degenerate_to_sgd=c.degenerate_to_sgd,
                     rectify=c.rectify)


def _noam_optimizer(c: OptimizerConfigs):
    return Noam(c.parameters,
                lr=c.learning_rate, betas=c.betas, eps=c.eps,
                weight_decay=c.weight_decay_obj, amsgrad=c.amsgrad, warmup=c.warmup,
                d_model=c.d_model)


def _sophia_optimizer(c: OptimizerConfigs):
    return Sophia(c.parameters,
                  lr=c.learning_rate, betas=c.betas, eps=c.eps,
                  weight_decay=c.weight_decay_obj, rho=c.rho)


def _adam_warmup_cosine_decay_optimizer(c: OptimizerConfigs):
    return AdamWarmupCosineDecay(c.parameters,
                                 lr=c.learning_rate, betas=c.betas, eps=c.eps,
                                 weight_decay=c.weight_decay_obj, amsgrad=c.amsgrad,
                                 warmup=c.warmup, total_steps=c.total_steps)


# ---- labml_nn/optimizers/mnist_experiment.py ----
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 20, 5, 1)
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(20, 50, 5, 1)
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 50, 500)
        self.fc2 = nn.Linear(500, 10)
        self.activation = nn.ReLU()

    def forward(self, x):
        x = self.activation(self.conv1(x))
        x = self.pool1(x)
        x = self.activation(self.conv2(x))
        x = self.pool2(x)
        x = self.activation(self.fc1(x.view(-1, 16 * 50)))
        return self.fc2(x)


# Synthetic MNIST: noise around ten class templates, normalized as MNIST is
templates = torch.rand(10, 1, 28, 28)
labels = torch.randint(0, 10, (32,))
images = (templates[labels] + 0.5 * torch.rand(32, 1, 28, 28) - 0.1307) / 0.3081
train_loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(images, labels), batch_size=8, shuffle=True)

loss_func = nn.CrossEntropyLoss()
hess_interval = 2

# (name, option function, configurations, epochs): RAdam's rectification term is tractable from step 8
# with beta2 = 0.75 (from step 6 with the default 0.999 only after thousands of steps)
experiments = [
    ('Adam', _adam_optimizer, dict(learning_rate=1.5e-4), 1),
    ('Adam amsgrad L2', _adam_optimizer, dict(learning_rate=1.5e-4, amsgrad=True, weight_decay=0.01, weight_decouple=False,
                                              optimized_adam_update=False), 1),
    ('AdamW', _adam_warmup_optimizer, dict(learning_rate=1.5e-4, warmup=2), 1),
    ('RAdam', _radam_optimizer, dict(learning_rate=1.5e-4, betas=(0.9, 0.75)), 2),
    ('AdaBelief', _ada_belief_optimizer, dict(learning_rate=1.5e-4, betas=(0.9, 0.75)), 2),
    ('Noam', _noam_optimizer, dict(learning_rate=1., warmup=100, d_model=128), 1),
    ('AdamWarmupCosineDecay', _adam_warmup_cosine_decay_optimizer, dict(learning_rate=1.5e-4, warmup=2, total_steps=4), 1),
    ('Sophia', _sophia_optimizer, dict(learning_rate=3e-4, rho=0.03), 1),
    ('SGD', _sgd_optimizer, dict(learning_rate=0.01), 1),
]

for name, make_optimizer, options, epochs in experiments:
    torch.manual_seed(7)
    model = Model()
    optimizer = make_optimizer(OptimizerConfigs(model.parameters(), **options))
    print(name, type(optimizer).__name__, {k: v for k, v in optimizer.defaults.items()})
    for batch_idx, batch in enumerate(batch for _ in range(epochs) for batch in train_loader):
        data, target = batch[0], batch[1]
        # The hessian estimate step of transformers/basic/with_sophia.py
        if isinstance(optimizer, Sophia) and batch_idx % hess_interval == 0:
            output = model(data)

            samp_dist = torch.distributions.Categorical(logits=output)
            y_sample = samp_dist.sample()

            loss = loss_func(output, y_sample)
            print(f"  loss.hess {loss.item():.5f}", y_sample.tolist())

            loss.backward()
            optimizer.update_hessian(data.numel())
            optimizer.zero_grad()
        else:
            output = model(data)

            loss = loss_func(output, target)
            accuracy = output.argmax(dim=-1).eq(target).sum().item()
            print(f"  step {batch_idx}: loss {loss.item():.5f} accuracy {accuracy}/{len(target)}")

            loss.backward()

            optimizer.step()
            optimizer.zero_grad()
    state = optimizer.state[model.fc2.bias]
    print('  state of fc2.bias:', sorted(state.keys()), state.get('step'))
    print('  fc2.bias', model.fc2.bias.data)

# ---- labml_nn/optimizers/performance_test.py (timings left out) ----
inp = torch.randn((16, 1, 28, 28))
target = torch.ones(16, dtype=torch.long)
loss_func = nn.CrossEntropyLoss()
model = Model()
my_adam = Adam(model.parameters())
torch_adam = TorchAdam(model.parameters())
loss = loss_func(model(inp), target)
loss.backward()
print('performance_test loss', loss.item())
for i in range(3):
    my_adam.step()
print('MyAdam', loss_func(model(inp), target).item())
for i in range(10):
    torch_adam.step()
print('TorchAdam', loss_func(model(inp), target).item())

# The learning-rate plots and the synthetic experiment
_test_rectification_term()
_test_lr()
_test_noam_lr()
_synthetic_experiment(True)
_synthetic_experiment(False)
