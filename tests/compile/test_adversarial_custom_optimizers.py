"""chainrule.compile against eager execution on HAND-WRITTEN OPTIMIZERS as research code writes them
(subclasses of torch.optim.Optimizer used inside a compiled training step): Lion, Adan, LARS and LAMB
(trust ratios with torch.where and norms), SAM/ASAM (two forward-backward passes, first_step and
second_step, a closure, e_w kept in self.state[p]), Lookahead around Adam (slow weights every k steps,
a Python counter in the groups), RAdam and AdaBelief by hand, Sophia-style clipping with a Hessian
estimate every k steps, Shampoo-lite with matrix roots from torch.linalg.eigh, opt.step(closure),
@torch.no_grad() decorated steps, state made lazily with ``len(state) == 0``, defaults dicts,
per-group hyperparameters changed between calls, state_dict()/load_state_dict() between compiled
calls, register_step_post_hook / register_step_pre_hook and the global step hooks.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, parameters, grads, buffers,
optimizer state and param_groups, Python side effects and the random stream after each call. A
compiled run may record anew or fall back to eager with at most one warning.
"""
import copy
import math
import warnings
from collections import OrderedDict, defaultdict

import numpy as np
import pytest

import chainrule
import chainrule as torch
from chainrule import nn
from chainrule.nn import functional as F
from chainrule.optim import Optimizer
from chainrule.random import default_generator
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def arr(t):
    return np.array(t.detach().numpy(), copy=True)


def snap(value):
    if isinstance(value, chainrule.Tensor):
        return ("tensor", str(value.dtype), arr(value))
    if isinstance(value, (list, tuple)):
        return tuple(snap(v) for v in value)
    if isinstance(value, dict):
        return {k: snap(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return np.asarray(value)
    if isinstance(value, nn.Module):
        return module_state(value)
    if callable(value):
        return f"<{type(value).__name__}>"
    return value


def module_state(model):
    return {
        "params": [(name, str(p.dtype), bool(p.requires_grad), arr(p), None if p.grad is None else arr(p.grad))
                   for name, p in model.named_parameters()],
        "buffers": [(name, str(b.dtype), arr(b)) for name, b in model.named_buffers()],
    }


def opt_state(opt):
    return {
        "state": [{k: snap(v) for k, v in s.items()} for s in opt.state.values()],
        "groups": [{k: snap(v) for k, v in g.items() if k != "params"} for g in opt.param_groups],
    }


def observe(objects):
    return [opt_state(thing) if isinstance(thing, Optimizer) else snap(thing) for thing in objects]


class Case:
    def __init__(self, step, observe, inputs=None, before=None, after=None):
        self.step, self.observe = step, observe
        self.inputs = inputs or default_inputs
        self.before = before or (lambda i: None)
        self.after = after or (lambda: None)


def default_inputs(i, last=6, dtype=np.float64):
    g = np.random.default_rng(100 + i)
    n = 3 if i >= last else 5
    return (torch.tensor(g.standard_normal((n, 3)).astype(dtype)), torch.tensor(g.standard_normal((n, 2)).astype(dtype)))


def f32_inputs(i):
    return default_inputs(i, dtype=np.float32)


def class_inputs(i):
    g = np.random.default_rng(200 + i)
    n = 3 if i >= 6 else 6
    return torch.tensor(g.standard_normal((n, 3))), torch.tensor(g.integers(0, 2, n))


def run(compiled, setup, calls):
    chainrule.manual_seed(0)
    case = setup()
    function = chainrule.compile(case.step) if compiled else case.step
    history = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for i in range(calls):
                case.before(i)
                args = case.inputs(i)
                try:
                    result = function(*args)
                    history.append(("ok", snap(result)))
                except Exception as error:  # compared: type and message
                    history.append(("raised", type(error).__name__, str(error)))
                history.append(observe(case.observe()))
    finally:
        case.after()
    history.append(("random", default_generator.state_bytes()))
    messages = [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]
    return history, messages


def same_as_eager(setup, calls=7):
    eager, eager_messages = run(False, setup, calls)
    compiled, messages = run(True, setup, calls)
    assert not eager_messages
    assert_identical(compiled, eager, "compiled")
    assert len(messages) <= 1, messages
    return messages


def mlp(dtype=torch.float64, out=2):
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, out)).to(dtype)


def train_step(net, opt, loss_fn=F.mse_loss):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def closure_step(net, opt, loss_fn=F.mse_loss):
    def step(x, y):
        def closure():
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.backward()
            return loss
        return opt.step(closure)
    return step


# ----------------------------------------------------------------------------- the optimizers
class Lion(Optimizer):
    """lucidrains/lion-pytorch, as written there."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in filter(lambda p: p.grad is not None, group["params"]):
                grad, lr, wd, state = p.grad, group["lr"], group["weight_decay"], self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                beta1, beta2 = group["betas"]
                p.data.mul_(1.0 - lr * wd)
                update = exp_avg.clone().mul_(beta1).add(grad, alpha=1.0 - beta1).sign_()
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(grad, alpha=1.0 - beta2)
        return loss


class Adan(Optimizer):
    """Adan (sail-sg/Adan), single-tensor form: the step count kept in each group."""

    def __init__(self, params, lr=1e-3, betas=(0.98, 0.92, 0.99), eps=1e-8, weight_decay=0.0, no_prox=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, no_prox=no_prox)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2, beta3 = group["betas"]
            group["step"] = group.get("step", 0) + 1
            bias_correction1 = 1.0 - beta1 ** group["step"]
            bias_correction2 = 1.0 - beta2 ** group["step"]
            bias_correction3 = 1.0 - beta3 ** group["step"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                    state["exp_avg_diff"] = torch.zeros_like(p)
                if "pre_grad" not in state or group["step"] == 1:
                    state["pre_grad"] = p.grad.clone()
                grad = p.grad
                diff = grad - state["pre_grad"]
                update = grad + beta2 * diff
                state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                state["exp_avg_diff"].mul_(beta2).add_(diff, alpha=1 - beta2)
                state["exp_avg_sq"].mul_(beta3).addcmul_(update, update, value=1 - beta3)
                denom = (state["exp_avg_sq"].sqrt() / math.sqrt(bias_correction3)).add_(group["eps"])
                update = (state["exp_avg"] / bias_correction1 + beta2 * state["exp_avg_diff"] / bias_correction2).div_(denom)
                if group["no_prox"]:
                    p.data.mul_(1 - group["lr"] * group["weight_decay"])
                    p.add_(update, alpha=-group["lr"])
                else:
                    p.add_(update, alpha=-group["lr"])
                    p.data.div_(1 + group["lr"] * group["weight_decay"])
                state["pre_grad"].copy_(grad)
        return loss


def exclude_bias_and_norm(p):
    return p.ndim == 1


class LARS(Optimizer):
    """facebookresearch/barlowtwins' LARS: filters as functions in the groups, torch.where trust ratio."""

    def __init__(self, params, lr, weight_decay=0, momentum=0.9, eta=0.001,
                 weight_decay_filter=None, lars_adaptation_filter=None):
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, eta=eta,
                        weight_decay_filter=weight_decay_filter, lars_adaptation_filter=lars_adaptation_filter)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            for p in g["params"]:
                dp = p.grad
                if dp is None:
                    continue
                if g["weight_decay_filter"] is None or not g["weight_decay_filter"](p):
                    dp = dp.add(p, alpha=g["weight_decay"])
                if g["lars_adaptation_filter"] is None or not g["lars_adaptation_filter"](p):
                    param_norm = torch.norm(p)
                    update_norm = torch.norm(dp)
                    one = torch.ones_like(param_norm)
                    q = torch.where(param_norm > 0.0,
                                    torch.where(update_norm > 0, (g["eta"] * param_norm / update_norm), one), one)
                    dp = dp.mul(q)
                param_state = self.state[p]
                if "mu" not in param_state:
                    param_state["mu"] = torch.zeros_like(p)
                mu = param_state["mu"]
                mu.mul_(g["momentum"]).add_(dp)
                p.add_(mu, alpha=-g["lr"])


class Lamb(Optimizer):
    """LAMB with a tensor step count and a trust ratio clamped and chosen with torch.where."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0, max_trust=10.0):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, max_trust=max_trust)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["step"] += 1
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                exp_avg.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                m_hat = exp_avg / (1 - beta1 ** state["step"])
                v_hat = exp_avg_sq / (1 - beta2 ** state["step"])
                update = m_hat / v_hat.sqrt().add(group["eps"])
                if group["weight_decay"] != 0:
                    update.add_(p, alpha=group["weight_decay"])
                w_norm = p.norm(2.0).clamp(0, group["max_trust"])
                g_norm = update.norm(2.0)
                trust_ratio = torch.where(w_norm > 0, torch.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
                state["trust_ratio"] = trust_ratio
                p.sub_(group["lr"] * trust_ratio * update)
        return loss


class LambPythonBranch(Lamb):
    """cybertronai/pytorch-lamb's trust ratio: ``if weight_norm == 0 or adam_norm == 0`` in Python."""

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p.data)
                    state["exp_avg_sq"] = torch.zeros_like(p.data)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                state["step"] += 1
                exp_avg.mul_(beta1).add_(p.grad, alpha=1 - beta1)
                exp_avg_sq.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                weight_norm = p.data.pow(2).sum().sqrt().clamp(0, 10)
                adam_step = exp_avg / exp_avg_sq.sqrt().add(group["eps"])
                if group["weight_decay"] != 0:
                    adam_step.add_(p.data, alpha=group["weight_decay"])
                adam_norm = adam_step.pow(2).sum().sqrt()
                if weight_norm == 0 or adam_norm == 0:
                    trust_ratio = 1
                else:
                    trust_ratio = weight_norm / adam_norm
                state["weight_norm"] = weight_norm
                state["adam_norm"] = adam_norm
                state["trust_ratio"] = trust_ratio
                p.data.add_(-group["lr"] * trust_ratio * adam_step)


class SAM(Optimizer):
    """davda54/sam: first_step/second_step around a base optimizer sharing the groups."""

    def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
        assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"
        defaults = dict(rho=rho, adaptive=adaptive, **kwargs)
        super(SAM, self).__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)  # climb to the local maximum "w + e(w)"
                self.state[p]["e_w"] = e_w
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.sub_(self.state[p]["e_w"])  # get back to "w" from "w + e(w)"
        self.base_optimizer.step()  # do the actual "sharpness-aware" update
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def step(self, closure=None):
        assert closure is not None, "Sharpness Aware Minimization requires closure, but it was not provided"
        closure = torch.enable_grad()(closure)  # the closure should do a full forward-backward pass
        self.first_step(zero_grad=True)
        closure()
        self.second_step()

    def _grad_norm(self):
        shared_device = self.param_groups[0]["params"][0].device
        norm = torch.norm(
            torch.stack([
                ((torch.abs(p) if group["adaptive"] else 1.0) * p.grad).norm(p=2).to(shared_device)
                for group in self.param_groups for p in group["params"] if p.grad is not None
            ]),
            p=2,
        )
        return norm

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups


class SAMOldP(SAM):
    """The newer davda54/sam: keeps the old weights and puts them back with ``p.data = old_p``."""

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()


class Lookahead(Optimizer):
    """timm's Lookahead: the base optimizer's groups, a lookahead_step counter in each group, slow
    weights every k steps. (It does not call Optimizer.__init__; it makes the hook dicts itself.)"""

    def __init__(self, base_optimizer, alpha=0.5, k=6):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"Invalid slow update rate: {alpha}")
        if not 1 <= k:
            raise ValueError(f"Invalid lookahead steps: {k}")
        defaults = dict(lookahead_alpha=alpha, lookahead_k=k, lookahead_step=0)
        self._base_optimizer = base_optimizer
        self.param_groups = base_optimizer.param_groups
        self.defaults = base_optimizer.defaults
        self.defaults.update(defaults)
        self.state = defaultdict(dict)
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        for name, default in defaults.items():
            for group in self._base_optimizer.param_groups:
                group.setdefault(name, default)

    @torch.no_grad()
    def update_slow(self, group):
        for fast_p in group["params"]:
            if fast_p.grad is None:
                continue
            param_state = self._base_optimizer.state[fast_p]
            if "lookahead_slow_buff" not in param_state:
                param_state["lookahead_slow_buff"] = torch.empty_like(fast_p)
                param_state["lookahead_slow_buff"].copy_(fast_p)
            slow = param_state["lookahead_slow_buff"]
            slow.lerp_(fast_p, group["lookahead_alpha"])
            fast_p.copy_(slow)

    def sync_lookahead(self):
        for group in self._base_optimizer.param_groups:
            self.update_slow(group)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._base_optimizer.step(closure)
        for group in self._base_optimizer.param_groups:
            group["lookahead_step"] += 1
            if group["lookahead_step"] % group["lookahead_k"] == 0:
                self.update_slow(group)
        return loss

    def state_dict(self):
        return self._base_optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self._base_optimizer.load_state_dict(state_dict)
        self.param_groups = self._base_optimizer.param_groups


class RAdamByHand(Optimizer):
    """LiyuanLucasLiu/RAdam (modern signatures): a Python step count, a buffer of cached step
    sizes, a Python branch on the variance rectification term, fp32 copies of the weights."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, degenerated_to_sgd=True):
        self.degenerated_to_sgd = degenerated_to_sgd
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        buffer=[[None, None, None] for _ in range(10)])
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data.float()
                p_data_fp32 = p.data.float()
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p_data_fp32)
                    state["exp_avg_sq"] = torch.zeros_like(p_data_fp32)
                else:
                    state["exp_avg"] = state["exp_avg"].type_as(p_data_fp32)
                    state["exp_avg_sq"] = state["exp_avg_sq"].type_as(p_data_fp32)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                state["step"] += 1
                buffered = group["buffer"][int(state["step"] % 10)]
                if state["step"] == buffered[0]:
                    N_sma, step_size = buffered[1], buffered[2]
                else:
                    buffered[0] = state["step"]
                    beta2_t = beta2 ** state["step"]
                    N_sma_max = 2 / (1 - beta2) - 1
                    N_sma = N_sma_max - 2 * state["step"] * beta2_t / (1 - beta2_t)
                    buffered[1] = N_sma
                    if N_sma >= 5:
                        step_size = math.sqrt(
                            (1 - beta2_t) * (N_sma - 4) / (N_sma_max - 4) * (N_sma - 2) / N_sma * N_sma_max / (N_sma_max - 2)
                        ) / (1 - beta1 ** state["step"])
                    elif self.degenerated_to_sgd:
                        step_size = 1.0 / (1 - beta1 ** state["step"])
                    else:
                        step_size = -1
                    buffered[2] = step_size
                if N_sma >= 5:
                    if group["weight_decay"] != 0:
                        p_data_fp32.add_(p_data_fp32, alpha=-group["weight_decay"] * group["lr"])
                    denom = exp_avg_sq.sqrt().add_(group["eps"])
                    p_data_fp32.addcdiv_(exp_avg, denom, value=-step_size * group["lr"])
                    p.data.copy_(p_data_fp32)
                elif step_size > 0:
                    if group["weight_decay"] != 0:
                        p_data_fp32.add_(p_data_fp32, alpha=-group["weight_decay"] * group["lr"])
                    p_data_fp32.add_(exp_avg, alpha=-step_size * group["lr"])
                    p.data.copy_(p_data_fp32)
        return loss


class AdaBelief(Optimizer):
    """AdaBelief by hand: the belief s = EMA of (g - m)^2, decoupled weight decay, a tensor step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-16, weight_decay=0.0, amsgrad=False):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                amsgrad = group["amsgrad"]
                state = self.state[p]
                beta1, beta2 = group["betas"]
                if len(state) == 0:
                    state["step"] = torch.zeros(())
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_var"] = torch.zeros_like(p)
                    if amsgrad:
                        state["max_exp_avg_var"] = torch.zeros_like(p)
                p.mul_(1.0 - group["lr"] * group["weight_decay"])
                exp_avg, exp_avg_var = state["exp_avg"], state["exp_avg_var"]
                state["step"].add_(1)
                bias_correction1 = 1 - beta1 ** state["step"]
                bias_correction2 = 1 - beta2 ** state["step"]
                exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
                grad_residual = grad - exp_avg
                exp_avg_var.mul_(beta2).addcmul_(grad_residual, grad_residual, value=1 - beta2)
                if amsgrad:
                    max_exp_avg_var = state["max_exp_avg_var"]
                    torch.max(max_exp_avg_var, exp_avg_var.add_(group["eps"]), out=max_exp_avg_var)
                    denom = (max_exp_avg_var.sqrt() / bias_correction2.sqrt()).add_(group["eps"])
                else:
                    denom = (exp_avg_var.add_(group["eps"]).sqrt() / bias_correction2.sqrt()).add_(group["eps"])
                step_size = group["lr"] / bias_correction1
                p.addcdiv_(exp_avg, denom * (1.0 / step_size))
        return loss


class SophiaG(Optimizer):
    """Liu et al.'s SophiaG: a tensor step count, a Hessian EMA updated by update_hessian() every k
    steps, the update clipped elementwise with clamp(None, 1)."""

    def __init__(self, params, lr=1e-4, betas=(0.965, 0.99), rho=0.04, weight_decay=1e-1, *, maximize=False):
        defaults = dict(lr=lr, betas=betas, rho=rho, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    @torch.no_grad()
    def update_hessian(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if "hessian" not in state.keys():
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                state["hessian"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)

    @torch.no_grad()
    def step(self, closure=None, bs=5120):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Hero does not support sparse gradients")
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if "hessian" not in state.keys():
                    state["hessian"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                grad = p.grad if not group["maximize"] else -p.grad
                if torch.is_complex(p):
                    raise NotImplementedError
                state["step"] += 1
                p.mul_(1 - group["lr"] * group["weight_decay"])
                state["exp_avg"].mul_(beta1).add_(grad, alpha=1 - beta1)
                ratio = (state["exp_avg"].abs() / (group["rho"] * bs * state["hessian"] + 1e-15)).clamp(None, 1)
                p.addcmul_(state["exp_avg"].sign(), ratio, value=-group["lr"])
        return loss


def _matrix_power(matrix, power):
    eigenvalues, eigenvectors = torch.linalg.eigh(matrix)
    eigenvalues = eigenvalues.clamp(min=1e-12)
    return eigenvectors @ torch.diag(eigenvalues.pow(power)) @ eigenvectors.T


class ShampooLite(Optimizer):
    """torch-optimizer's Shampoo with eigh instead of svd: preconditioners per dimension, made lazily
    with torch.eye(out=grad.new(dim, dim)), inverse roots every update_freq steps."""

    def __init__(self, params, lr=1e-1, momentum=0.0, weight_decay=0.0, epsilon=1e-4, update_freq=1):
        defaults = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, epsilon=epsilon, update_freq=update_freq)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.clone()
                order = grad.ndimension()
                original_size = grad.size()
                state = self.state[p]
                momentum = group["momentum"]
                if len(state) == 0:
                    state["step"] = 0
                    if momentum > 0:
                        state["momentum_buffer"] = grad.clone()
                    for dim_id, dim in enumerate(grad.size()):
                        state[f"precond_{dim_id}"] = group["epsilon"] * torch.eye(dim, out=grad.new(dim, dim))
                        state[f"inv_precond_{dim_id}"] = grad.new(dim, dim).zero_()
                if momentum > 0:
                    grad.mul_(1 - momentum).add_(state["momentum_buffer"], alpha=momentum)
                if group["weight_decay"] > 0:
                    grad.add_(p.data, alpha=group["weight_decay"])
                for dim_id, dim in enumerate(grad.size()):
                    precond = state[f"precond_{dim_id}"]
                    inv_precond = state[f"inv_precond_{dim_id}"]
                    grad = grad.transpose_(0, dim_id).contiguous()
                    transposed_size = grad.size()
                    grad = grad.view(dim, -1)
                    grad_t = grad.t()
                    precond.add_(grad @ grad_t)
                    if state["step"] % group["update_freq"] == 0:
                        inv_precond.copy_(_matrix_power(precond, -1 / order))
                    if dim_id == order - 1:
                        grad = grad_t @ inv_precond
                        grad = grad.view(original_size)
                    else:
                        grad = inv_precond @ grad
                        grad = grad.view(transposed_size)
                state["step"] += 1
                state["momentum_buffer"] = grad
                p.data.add_(grad, alpha=-group["lr"])
        return loss


class SPS(Optimizer):
    """Stochastic Polyak step: needs the loss, so step takes a closure; the step size from the loss
    and the gradient norm, capped with clamp (tensor) or with Python's min (a value read)."""

    def __init__(self, params, c=0.5, gamma_max=1.0, f_star=0.0, python_min=False):
        super().__init__(params, dict(c=c, gamma_max=gamma_max, f_star=f_star))
        self.python_min = python_min

    @torch.no_grad()
    def step(self, closure):
        with torch.enable_grad():
            loss = closure()
        for group in self.param_groups:
            grads = [p.grad for p in group["params"] if p.grad is not None]
            grad_norm_sq = sum((g ** 2).sum() for g in grads)
            step_size = (loss - group["f_star"]) / (group["c"] * grad_norm_sq + 1e-8)
            if self.python_min:
                step_size = min(step_size, group["gamma_max"])
            else:
                step_size = step_size.clamp(max=group["gamma_max"])
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["step_size"] = step_size
                p.sub_(step_size * p.grad)
        return loss


class MomentumNoDecorator(Optimizer):
    """Course style: no decorator, ``p.data`` updated, lr=required, the state filled lazily."""

    def __init__(self, params, lr=torch.optim.optimizer.required, momentum=0.9, dampening=0.0, nesterov=False):
        if lr is not torch.optim.optimizer.required and lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov))

    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad.data
                state = self.state[p]
                if "momentum_buffer" not in state:
                    buf = state["momentum_buffer"] = torch.clone(d_p).detach()
                else:
                    buf = state["momentum_buffer"]
                    buf.mul_(group["momentum"]).add_(d_p, alpha=1 - group["dampening"])
                d_p = d_p.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
                p.data.add_(d_p, alpha=-group["lr"])
        return loss


# ----------------------------------------------------------------------------- Lion
def test_lion_float32_decorated_step_lazy_state_smaller_last_batch():
    def setup():
        net = mlp(torch.float32)
        opt = Lion(net.parameters(), lr=3e-3, weight_decay=0.1)
        return Case(train_step(net, opt), lambda: [net, opt], inputs=f32_inputs)

    same_as_eager(setup)


def test_lion_per_group_hyperparameters_changed_between_calls():
    def setup():
        net = mlp()
        opt = Lion([{"params": net[0].parameters(), "lr": 1e-3},
                    {"params": net[2].parameters(), "weight_decay": 0.5, "betas": (0.95, 0.98)}], lr=2e-3)

        def before(i):
            opt.param_groups[0]["lr"] = [1e-3, 1e-3, 5e-4, 5e-4, 2e-3, 1e-3, 1e-3][i]
            if i == 3:
                opt.param_groups[1]["betas"] = (0.9, 0.99)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_lion_step_with_closure_and_a_head_without_grad():
    def setup():
        net = mlp()
        extra = nn.Linear(4, 2).double()
        opt = Lion(list(net.parameters()) + list(extra.parameters()), lr=1e-2)
        use = {"extra": False}

        def step(x, y):
            def closure():
                opt.zero_grad()
                h = net[1](net[0](x))
                out = extra(h) if use["extra"] else net[2](h)
                loss = F.mse_loss(out, y)
                loss.backward()
                return loss
            return opt.step(closure)

        def before(i):
            use["extra"] = i in (2, 3, 5)
        return Case(step, lambda: [net, extra, opt], before=before)

    same_as_eager(setup)


def test_lion_tensor_lr_in_group_changed_in_place():
    def setup():
        net = mlp()
        lr = torch.tensor(1e-2, dtype=torch.float64)
        opt = Lion(net.parameters(), lr=0.0)
        opt.param_groups[0]["lr"] = lr

        def before(i):
            lr.fill_(1e-2 * 0.7 ** i)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- Adan
def test_adan_step_count_in_group_and_prev_grad_state():
    def setup():
        net = mlp()
        opt = Adan(net.parameters(), lr=1e-2, weight_decay=0.02)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


def test_adan_no_prox_float32_cross_entropy():
    def setup():
        net = mlp(torch.float32)
        opt = Adan(net.parameters(), lr=5e-3, weight_decay=0.05, no_prox=True)

        def inputs(i):
            x, y = class_inputs(i)
            return x.float(), y
        return Case(train_step(net, opt, F.cross_entropy), lambda: [net, opt], inputs=inputs)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- LARS / LAMB
def test_lars_filters_as_functions_in_the_groups_and_zero_bias():
    def setup():
        net = mlp()
        with torch.no_grad():
            net[0].bias.zero_()
        opt = LARS(net.parameters(), lr=0.2, weight_decay=1e-4,
                   weight_decay_filter=exclude_bias_and_norm, lars_adaptation_filter=exclude_bias_and_norm)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


def test_lars_two_groups_biases_without_adaptation_and_warmup_lr():
    def setup():
        net = mlp()
        weights = [p for p in net.parameters() if p.ndim > 1]
        biases = [p for p in net.parameters() if p.ndim == 1]
        opt = LARS([{"params": weights}, {"params": biases, "weight_decay_filter": True,
                                          "lars_adaptation_filter": True}], lr=0, weight_decay=1e-3)
        for g in opt.param_groups:
            if g["weight_decay_filter"] is True:
                g["weight_decay_filter"] = g["lars_adaptation_filter"] = lambda p: True

        def before(i):
            for g in opt.param_groups:  # a linear warmup written in the loop
                g["lr"] = 0.5 * min(1.0, (i + 1) / 4)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_lars_filter_swapped_between_calls():
    def setup():
        net = mlp()
        opt = LARS(net.parameters(), lr=0.1, lars_adaptation_filter=None)

        def before(i):
            opt.param_groups[0]["lars_adaptation_filter"] = exclude_bias_and_norm if i % 3 == 1 else None
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_lamb_where_trust_ratio_with_zero_weights():
    def setup():
        net = mlp()
        with torch.no_grad():
            net[2].weight.zero_()  # w_norm == 0 on the first step: the where picks 1
        opt = Lamb(net.parameters(), lr=1e-2, weight_decay=0.01)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


def test_lamb_float32_max_trust_changed_between_calls():
    def setup():
        net = mlp(torch.float32)
        opt = Lamb(net.parameters(), lr=2e-2, max_trust=10.0)

        def before(i):
            opt.param_groups[0]["max_trust"] = [10.0, 10.0, 0.5, 0.5, 10.0, 0.1, 0.1][i]
        return Case(train_step(net, opt), lambda: [net, opt], inputs=f32_inputs, before=before)

    same_as_eager(setup)


def test_lamb_python_branch_on_norms_falls_back_or_matches():
    def setup():
        net = mlp()
        opt = LambPythonBranch(net.parameters(), lr=1e-2, weight_decay=0.01)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- SAM / ASAM
def sam_step(net, opt, loss_fn=F.cross_entropy):
    def step(x, y):
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.first_step(zero_grad=True)
        loss_fn(net(x), y).backward()
        opt.second_step(zero_grad=True)
        return loss
    return step


def test_sam_first_and_second_step_e_w_in_state_sgd_momentum():
    def setup():
        net = mlp()
        opt = SAM(net.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, momentum=0.9)
        return Case(sam_step(net, opt), lambda: [net, opt, opt.base_optimizer], inputs=class_inputs)

    same_as_eager(setup)


def test_asam_adaptive_with_adam_and_rho_changed_between_calls():
    def setup():
        net = mlp()
        opt = SAM(net.parameters(), torch.optim.Adam, rho=2.0, adaptive=True, lr=1e-2)

        def before(i):
            opt.param_groups[0]["rho"] = [2.0, 2.0, 0.5, 0.5, 2.0, 1.0, 1.0][i]
        return Case(sam_step(net, opt), lambda: [net, opt, opt.base_optimizer], inputs=class_inputs, before=before)

    same_as_eager(setup)


def test_sam_step_with_closure():
    def setup():
        net = mlp()
        opt = SAM(net.parameters(), torch.optim.SGD, rho=0.1, lr=0.05)

        def step(x, y):
            def closure():
                loss = F.cross_entropy(net(x), y)
                loss.backward()
                return loss
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step(closure)
            opt.zero_grad()
            return loss
        return Case(step, lambda: [net, opt, opt.base_optimizer], inputs=class_inputs)

    same_as_eager(setup)


def test_sam_old_p_restored_with_data_assignment_and_batchnorm():
    def setup():
        net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).double()
        opt = SAMOldP(net.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, momentum=0.9, weight_decay=5e-4)

        def step(x, y):
            # the second pass with frozen batch-norm statistics, as the SAM README advises
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.first_step(zero_grad=True)
            for m in net.modules():
                if isinstance(m, nn.BatchNorm1d):
                    m.backup_momentum = m.momentum
                    m.momentum = 0
            F.cross_entropy(net(x), y).backward()
            for m in net.modules():
                if isinstance(m, nn.BatchNorm1d):
                    m.momentum = m.backup_momentum
            opt.second_step(zero_grad=True)
            return loss
        return Case(step, lambda: [net, opt, opt.base_optimizer], inputs=class_inputs)

    same_as_eager(setup)


def test_sam_state_dict_saved_and_loaded_between_calls():
    def setup():
        net = mlp()
        opt = SAM(net.parameters(), torch.optim.SGD, rho=0.05, lr=0.1, momentum=0.9)
        saved = {}

        def before(i):
            if i == 2:
                saved["sd"] = copy.deepcopy(opt.base_optimizer.state_dict())
            if i == 5:
                opt.base_optimizer.load_state_dict(saved["sd"])
                opt.param_groups = opt.base_optimizer.param_groups
        return Case(sam_step(net, opt), lambda: [net, opt, opt.base_optimizer], inputs=class_inputs, before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- Lookahead
def test_lookahead_around_adam_slow_weights_every_k_steps():
    def setup():
        net = mlp()
        opt = Lookahead(torch.optim.Adam(net.parameters(), lr=1e-2), alpha=0.5, k=3)
        return Case(train_step(net, opt), lambda: [net, opt, opt._base_optimizer])

    same_as_eager(setup, calls=8)


def test_lookahead_k_changed_and_synced_between_calls():
    def setup():
        net = mlp(torch.float32)
        opt = Lookahead(torch.optim.AdamW(net.parameters(), lr=1e-2, weight_decay=0.1), alpha=0.8, k=2)

        def before(i):
            if i == 3:
                for g in opt.param_groups:
                    g["lookahead_k"] = 4
            if i == 6:
                opt.sync_lookahead()
        return Case(train_step(net, opt), lambda: [net, opt._base_optimizer], inputs=f32_inputs, before=before)

    same_as_eager(setup, calls=8)


class LookaheadNoInit(Optimizer):
    """Older timm/lonePatient Lookahead: never calls Optimizer.__init__ and makes no hook dicts."""

    def __init__(self, base_optimizer, alpha=0.5, k=6):
        self.base_optimizer = base_optimizer
        self.param_groups = base_optimizer.param_groups
        self.defaults = base_optimizer.defaults
        self.state = defaultdict(dict)
        self.alpha, self.k = alpha, k
        for group in self.param_groups:
            group["step_counter"] = 0
        self.slow_weights = [[p.clone().detach() for p in group["params"]] for group in self.param_groups]

    def step(self, closure=None):
        loss = self.base_optimizer.step(closure)
        for group, slow_weights in zip(self.param_groups, self.slow_weights):
            group["step_counter"] += 1
            if group["step_counter"] % self.k != 0:
                continue
            for p, q in zip(group["params"], slow_weights):
                if p.grad is None:
                    continue
                q.data.add_(p.data - q.data, alpha=self.alpha)
                p.data.copy_(q.data)
        return loss


def test_lookahead_without_optimizer_init_steps_as_in_pytorch():
    net = mlp()
    opt = LookaheadNoInit(torch.optim.Adam(net.parameters(), lr=1e-2), k=2)
    x, y = default_inputs(0)
    F.mse_loss(net(x), y).backward()
    opt.step()  # PyTorch: fine (its step hooks are patched in by Optimizer.__init__ only)

    def setup():
        net = mlp()
        opt = LookaheadNoInit(torch.optim.Adam(net.parameters(), lr=1e-2), k=2)
        return Case(train_step(net, opt), lambda: [net, opt.base_optimizer, opt.slow_weights])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- RAdam / AdaBelief by hand
def test_radam_by_hand_python_step_count_and_buffer_cache():
    def setup():
        net = mlp(torch.float32)
        opt = RAdamByHand(net.parameters(), lr=1e-2, betas=(0.9, 0.9), weight_decay=1e-3)
        return Case(train_step(net, opt), lambda: [net, opt], inputs=f32_inputs)

    same_as_eager(setup, calls=8)


class RAdamOriginal(RAdamByHand):
    """The original repository's update lines, with PyTorch's deprecated (Number, Tensor) overloads."""

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data.float()
                p_data_fp32 = p.data.float()
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p_data_fp32)
                    state["exp_avg_sq"] = torch.zeros_like(p_data_fp32)
                exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
                beta1, beta2 = group["betas"]
                exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)
                exp_avg.mul_(beta1).add_(1 - beta1, grad)
                state["step"] += 1
                step_size = group["lr"] / (1 - beta1 ** state["step"])
                denom = exp_avg_sq.sqrt().add_(group["eps"])
                p_data_fp32.addcdiv_(-step_size, exp_avg, denom)
                p.data.copy_(p_data_fp32)


def test_radam_original_deprecated_overloads():
    def setup():
        net = mlp(torch.float32)
        opt = RAdamOriginal(net.parameters(), lr=1e-2)
        return Case(train_step(net, opt), lambda: [net, opt], inputs=f32_inputs)

    p = torch.ones(2, dtype=torch.float64)
    p.add_(-0.5, torch.ones(2, dtype=torch.float64))  # eagerly, as PyTorch (with a deprecation warning)
    p.addcmul_(0.5, torch.ones(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64))
    p.addcdiv_(-0.5, torch.ones(2, dtype=torch.float64), torch.full((2,), 2.0, dtype=torch.float64))
    assert p.tolist() == [0.75, 0.75]
    same_as_eager(setup)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adabelief_by_hand_tensor_step_and_amsgrad(amsgrad):
    def setup():
        net = mlp()
        opt = AdaBelief(net.parameters(), lr=1e-2, weight_decay=1e-2, amsgrad=amsgrad)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- Sophia
def test_sophia_hessian_estimate_every_k_steps_with_sampled_labels():
    def setup():
        net = mlp(out=3)
        opt = SophiaG(net.parameters(), lr=2e-2, rho=0.05, weight_decay=0.1)

        def step(x, y, update_hessian, bs):
            logits = net(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step(bs=bs)
            opt.zero_grad(set_to_none=True)
            if update_hessian:
                logits = net(x)
                samp_dist = torch.distributions.Categorical(logits=logits)
                y_sample = samp_dist.sample()
                loss_sampled = F.cross_entropy(logits, y_sample.view(-1), ignore_index=-1)
                loss_sampled.backward()
                opt.update_hessian()
                opt.zero_grad(set_to_none=True)
            return loss

        def inputs(i):
            x, y = class_inputs(i)
            return x, y, i % 3 == 0, x.shape[0] * 10
        return Case(step, lambda: [net, opt], inputs=inputs)

    same_as_eager(setup, calls=8)


def test_sophia_maximize_flag_and_rho_changed_between_calls():
    def setup():
        net = mlp()
        opt = SophiaG(net.parameters(), lr=1e-2, rho=0.04)
        hessian_net = net

        def step(x, y):
            loss = -F.mse_loss(net(x), y)  # maximize the negative
            loss.backward()
            opt.update_hessian()
            opt.step(bs=16)
            opt.zero_grad()
            return loss

        def before(i):
            opt.param_groups[0]["maximize"] = True
            opt.param_groups[0]["rho"] = [0.04, 0.04, 0.1, 0.1, 0.04, 0.04, 0.2][i]
        return Case(step, lambda: [hessian_net, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- Shampoo
@pytest.mark.parametrize("momentum, update_freq", [(0.0, 1), (0.9, 2)])
def test_shampoo_lite_eigh_matrix_roots(momentum, update_freq):
    def setup():
        net = mlp()
        opt = ShampooLite(net.parameters(), lr=0.05, momentum=momentum, weight_decay=1e-4, update_freq=update_freq)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


# ----------------------------------------------------------------------------- closures
@pytest.mark.parametrize("python_min", [False, True])
def test_polyak_step_size_from_the_closure_loss(python_min):
    def setup():
        net = mlp()
        opt = SPS(net.parameters(), c=0.5, gamma_max=0.5, python_min=python_min)
        return Case(closure_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


def test_course_momentum_required_lr_closure_and_nesterov_toggled():
    def setup():
        net = mlp()
        opt = MomentumNoDecorator(net.parameters(), lr=0.05, momentum=0.9)

        def before(i):
            opt.param_groups[0]["nesterov"] = i in (2, 3, 6)
        return Case(closure_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_required_lr_missing_in_a_group_raises_the_same():
    net = mlp()
    with pytest.raises(ValueError, match="didn't specify a value of required optimization parameter lr"):
        MomentumNoDecorator([{"params": net[0].parameters()}])

    def setup():
        net = mlp()
        opt = MomentumNoDecorator([{"params": net[0].parameters(), "lr": 0.1},
                                   {"params": net[2].parameters(), "lr": 0.01, "momentum": 0.5}])

        def before(i):
            if i == 4:
                opt.param_groups[1]["lr"] = -0.01  # nothing checks it here: the step just goes uphill
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- defaults and state dicts
class DefaultsReader(Optimizer):
    """Reads self.defaults in its step (a global clip value), as some research code does."""

    def __init__(self, params, lr=0.1, clip=1.0):
        super().__init__(params, dict(lr=lr, clip=clip))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["sum_sq"] = torch.full_like(p, 0.1)
                state["sum_sq"].addcmul_(p.grad, p.grad)
                update = (p.grad / state["sum_sq"].sqrt()).clamp_(-self.defaults["clip"], self.defaults["clip"])
                p.add_(update, alpha=-group["lr"])


def test_defaults_dict_read_in_step_and_changed_between_calls():
    def setup():
        net = mlp()
        opt = DefaultsReader(net.parameters(), lr=0.1, clip=1.0)

        def before(i):
            opt.defaults["clip"] = [1.0, 1.0, 0.05, 0.05, 1.0, 0.01, 0.01][i]
        return Case(train_step(net, opt), lambda: [net, opt, dict(opt.defaults)], before=before)

    same_as_eager(setup)


def test_state_dict_saved_and_loaded_into_hand_written_optimizer_between_calls():
    def setup():
        net = mlp()
        opt = AdaBelief(net.parameters(), lr=1e-2)
        saved = {}

        def before(i):
            if i == 2:
                saved["sd"] = copy.deepcopy(opt.state_dict())
            if i == 4:
                opt.load_state_dict(saved["sd"])
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_state_dict_with_python_int_step_loaded_and_state_cleared():
    def setup():
        net = mlp()
        opt = ShampooLite(net.parameters(), lr=0.05, momentum=0.5)
        saved = {}

        def before(i):
            if i == 1:
                saved["sd"] = copy.deepcopy(opt.state_dict())
            if i == 3:
                opt.load_state_dict(saved["sd"])
            if i == 5:
                opt.state.clear()
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_fresh_hand_written_optimizer_loads_state_dict_between_calls():
    def setup():
        net = mlp()
        holder = {"opt": Lion(net.parameters(), lr=1e-2)}

        def step(x, y):
            holder["opt"].zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            holder["opt"].step()
            return loss

        def before(i):
            if i == 3:
                fresh = Lion(net.parameters(), lr=5e-3)
                fresh.load_state_dict(holder["opt"].state_dict())
                holder["opt"] = fresh
        return Case(step, lambda: [net, holder["opt"]], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- step hooks
def test_register_step_post_hook_ema_of_weights_registered_and_removed():
    def setup():
        net = mlp()
        ema = mlp()
        ema.load_state_dict(net.state_dict())
        opt = Lion(net.parameters(), lr=1e-2)
        handles = []

        def ema_hook(optimizer, args, kwargs):
            with torch.no_grad():
                for e, p in zip(ema.parameters(), net.parameters()):
                    e.mul_(0.9).add_(p.detach(), alpha=0.1)

        def before(i):
            if i == 2:
                handles.append(opt.register_step_post_hook(ema_hook))
            if i == 5:
                handles.pop().remove()
        return Case(train_step(net, opt), lambda: [net, ema, opt], before=before)

    same_as_eager(setup)


def test_step_post_hook_clamps_weights_and_pre_hook_clips_grads():
    def setup():
        net = mlp(torch.float32)
        opt = Adan(net.parameters(), lr=5e-2)

        def clip_pre_hook(optimizer, args, kwargs):
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], 0.5)

        def clamp_post_hook(optimizer, args, kwargs):
            with torch.no_grad():
                for g in optimizer.param_groups:
                    for p in g["params"]:
                        p.clamp_(-0.3, 0.3)
        opt.register_step_pre_hook(clip_pre_hook)
        opt.register_step_post_hook(clamp_post_hook)
        return Case(train_step(net, opt), lambda: [net, opt], inputs=f32_inputs)

    same_as_eager(setup)


def test_step_post_hook_counting_in_python():
    def setup():
        net = mlp()
        opt = LARS(net.parameters(), lr=0.1)
        log = []
        opt.register_step_post_hook(lambda optimizer, args, kwargs: log.append(len(optimizer.state)))
        return Case(train_step(net, opt), lambda: [net, opt, list(log)])

    same_as_eager(setup)


def test_global_optimizer_step_post_hook_around_hand_written_step():
    def setup():
        net = mlp()
        opt = Lamb(net.parameters(), lr=1e-2)
        norms = nn.Module()
        norms.register_buffer("last", torch.zeros((), dtype=torch.float64))
        handles = []

        def hook(optimizer, args, kwargs):
            if optimizer is opt:
                norms.last = torch.stack([p.detach().norm() for p in net.parameters()]).sum()

        def before(i):
            if i == 1:
                handles.append(torch.optim.optimizer.register_optimizer_step_post_hook(hook))

        def after():
            for h in handles:
                h.remove()
        return Case(train_step(net, opt), lambda: [net, opt, norms], before=before, after=after)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- research extras
def test_foreach_lion_multi_tensor():
    class ForeachLion(Lion):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                grads = [p.grad for p in params]
                for p in params:
                    if len(self.state[p]) == 0:
                        self.state[p]["exp_avg"] = torch.zeros_like(p)
                exp_avgs = [self.state[p]["exp_avg"] for p in params]
                beta1, beta2 = group["betas"]
                torch._foreach_mul_(params, 1 - group["lr"] * group["weight_decay"])
                updates = torch._foreach_lerp(exp_avgs, grads, 1 - beta1)
                updates = [u.sign_() for u in updates]
                torch._foreach_add_(params, updates, alpha=-group["lr"])
                torch._foreach_lerp_(exp_avgs, grads, 1 - beta2)

    net = mlp()
    opt = ForeachLion(net.parameters(), lr=1e-2, weight_decay=0.1)
    x, y = default_inputs(0)
    train_step(net, opt)(x, y)  # eagerly, as in PyTorch: no AttributeError

    def setup():
        net = mlp()
        opt = ForeachLion(net.parameters(), lr=1e-2, weight_decay=0.1)
        return Case(train_step(net, opt), lambda: [net, opt])

    same_as_eager(setup)


def test_gradient_centralization_modifies_grad_in_place_before_the_update():
    class SGDGC(Optimizer):
        def __init__(self, params, lr=0.1, momentum=0.9, use_gc=True):
            super().__init__(params, dict(lr=lr, momentum=momentum, use_gc=use_gc))

        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d_p = p.grad
                    if group["use_gc"] and d_p.dim() > 1:
                        d_p.add_(-d_p.mean(dim=tuple(range(1, d_p.dim())), keepdim=True))
                    state = self.state[p]
                    if len(state) == 0:
                        state["momentum_buffer"] = torch.clone(d_p).detach()
                    else:
                        state["momentum_buffer"].mul_(group["momentum"]).add_(d_p)
                    p.add_(state["momentum_buffer"], alpha=-group["lr"])

    def setup():
        net = mlp()
        opt = SGDGC(net.parameters())

        def before(i):
            opt.param_groups[0]["use_gc"] = i != 3
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_optimizer_step_raises_on_a_later_call():
    class Checked(Lion):
        @torch.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                if group["lr"] < 0:
                    raise ValueError(f"Invalid learning rate: {group['lr']}")
            return super().step(closure)

    def setup():
        net = mlp()
        opt = Checked(net.parameters(), lr=1e-2)

        def before(i):
            opt.param_groups[0]["lr"] = -1e-2 if i == 4 else 1e-2
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_param_group_added_between_calls_with_its_own_hyperparameters():
    def setup():
        net = mlp()
        head = nn.Linear(2, 2).double()
        opt = Adan(net.parameters(), lr=1e-2)

        def step(x, y):
            opt.zero_grad()
            loss = F.mse_loss(head(net(x)), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                opt.add_param_group({"params": head.parameters(), "lr": 5e-2, "betas": (0.9, 0.9, 0.9)})
        return Case(step, lambda: [net, head, opt], before=before)

    same_as_eager(setup)
