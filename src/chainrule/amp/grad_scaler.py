"""``GradScaler``: loss scaling for mixed-precision training, as ``torch.amp.GradScaler``.

Small float16 gradients underflow to zero; multiplying the loss by a large scale S before backward
keeps them representable, and dividing the gradients by S before the step undoes it. The scale
adapts: a step whose gradients hold an inf or NaN is skipped and S is multiplied by
``backoff_factor``; after ``growth_interval`` steps in a row without one, S is multiplied by
``growth_factor``.

As PyTorch's, the scale is a float32 tensor, made at the first ``scale()`` (until then
``get_scale()`` is ``init_scale`` as given), and unscaling multiplies each gradient by
float32(1 / S); the gradients must not be float16 (keep float32 parameters: autocast computes in
float16 for them). On ``device="cpu"`` it works as PyTorch's does. For ``device="cuda"`` (the
default) PyTorch without CUDA warns and disables it, and so does chainrule: then ``scale`` returns
the loss unchanged, ``step`` just calls ``optimizer.step()``, ``get_scale()`` is 1.0 and
``state_dict()`` is ``{}``.
"""
import collections.abc
import enum
import warnings

from chainrule import dtypes
from chainrule.autograd.grad_mode import no_grad
from chainrule.creation import full
from chainrule.tensor import Tensor

class OptState(enum.Enum):
    """Where an optimizer's step stands in a scaler's iteration (``_per_optimizer_states``'s
    "stage"), as PyTorch's: gradients not yet unscaled, unscaled, stepped."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state():
    # found_inf: None until a gradient was checked, then whether one held an inf or NaN
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """``GradScaler(device="cuda", init_scale=2.**16, growth_factor=2.0, backoff_factor=0.5,
    growth_interval=2000, enabled=True)``."""

    def __init__(self, device="cuda", init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled:
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.", stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale = None  # the float32 scale, made by the first scale()
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker = None  # the steps since the last inf or growth, kept with the scale
            self._optimizer_states = {}

    def is_enabled(self):
        return self._enabled

    def _checked_scale(self, function):
        if self._scale is None:
            raise AssertionError(
                f"Attempted {function} but _scale is None.  This may indicate your script did not use "
                f"scaler.scale(loss or outputs) earlier in the iteration."
            )
        return self._scale

    def scale(self, outputs):
        """``outputs`` times the current scale: a tensor, or the tensors of nested lists and tuples
        (of the same kinds) or of another iterable (an iterator over the scaled ones)."""
        if not self._enabled:
            return outputs
        return self._scaled(outputs)

    def _scaled(self, value):
        if isinstance(value, Tensor):
            if self._scale is None:  # made at the first tensor scaled
                self._scale = full((), self._init_scale, dtype=dtypes.float32)
                self._growth_tracker = self._init_growth_tracker
            return value * self._scale
        if isinstance(value, collections.abc.Iterable):
            scaled = map(self._scaled, value)
            return type(value)(scaled) if isinstance(value, (list, tuple)) else scaled
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def _state(self, optimizer):
        return self._optimizer_states.setdefault(id(optimizer), _fresh_state())

    def unscale_(self, optimizer):
        """Multiply the gradients of ``optimizer``'s parameters by float32(1 / scale), in place,
        noting any inf or NaN."""
        if not self._enabled:
            return
        scale = self._checked_scale("unscale_")
        state = self._state(optimizer)
        if state["stage"] == OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inverse = scale.double().reciprocal().float()
        found_inf = None
        with no_grad():
            for group in optimizer.param_groups:
                for parameter in group["params"]:
                    if parameter.grad is None:
                        continue
                    if parameter.grad.dtype == dtypes.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    found_inf = bool(found_inf) or not bool(parameter.grad.isfinite().all())  # None: none checked yet
                    parameter.grad.mul_(inverse)
        state.update(stage=OptState.UNSCALED, found_inf=found_inf)

    def step(self, optimizer, *args, **kwargs):
        """Unscale (if not done yet), then ``optimizer.step()`` unless a gradient held inf or NaN;
        returns what ``optimizer.step`` returned (None for a skipped step)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._checked_scale("step")
        state = self._state(optimizer)
        if state["stage"] == OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == OptState.READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale=None):
        """Adapt the scale for the next iteration, or set it to ``new_scale`` (a float, or a
        1-element tensor that does not require grad)."""
        if not self._enabled:
            return
        scale = self._checked_scale("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale.fill_(new_scale)
            else:
                reason = (
                    "new_scale should be a float or a 1-element torch.cuda.FloatTensor or torch.FloatTensor with "
                    "requires_grad=False."
                )
                if new_scale.device.type != self._device or new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(reason)
                scale.copy_(new_scale)
        else:
            found_infs = [state["found_inf"] for state in self._optimizer_states.values() if state["found_inf"] is not None]
            if not found_infs:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(scale, any(found_infs))
        self._optimizer_states = {}

    def _update_scale(self, scale, found_inf):
        """PyTorch's ``_amp_update_scale_``: the new scale computed in double and kept in float32; a
        growth that would overflow to inf is not taken."""
        if found_inf:
            scale.fill_(scale.item() * self._backoff_factor)
            self._growth_tracker = 0
            return
        self._growth_tracker += 1
        if self._growth_tracker == self._growth_interval:
            grown = full((), scale.item() * self._growth_factor, dtype=dtypes.float64).float()
            if bool(grown.isfinite()):
                scale.copy_(grown)
            self._growth_tracker = 0

    def get_scale(self):
        """The current scale as a Python float (``init_scale`` itself before the first ``scale``),
        1.0 when disabled."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        """The scale and its schedule (``{}`` when disabled), as PyTorch's keys."""
        if not self._enabled:
            return {}
        return {
            "scale": self.get_scale(),
            "growth_factor": self._growth_factor,
            "backoff_factor": self._backoff_factor,
            "growth_interval": self._growth_interval,
            "_growth_tracker": self._get_growth_tracker(),
        }

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError(
                "The source state dict is empty, possibly because it was saved from a disabled instance of GradScaler."
            )
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale.fill_(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict["_growth_tracker"])
