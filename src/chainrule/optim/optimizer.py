"""Optimizer: the base class of every optimizer, holding parameter groups and per-parameter state.

An optimizer changes the parameters it was given, in place, using their ``.grad``::

    optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss_fn(model(inputs), targets).backward()
        optimizer.step()

The parameters are split into *groups*, each with its own options (``lr``, ``weight_decay``...):
pass dicts to give groups different options, e.g.
``SGD([{"params": body}, {"params": head, "lr": 1e-3}], lr=1e-2)``. Options a group does not name
come from the optimizer's defaults.

Each optimizer writes the update of one parameter in ``_update``, on NumPy arrays: the update is not
part of any graph, so it needs no tensors, and working in place on the arrays (with ``out=`` and
in-place operators, reusing buffers) is what makes a step fast. The formulas are PyTorch's, in
PyTorch's order of floating-point operations, so the results agree to float32 rounding.
"""
import copy
import functools
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Optional

from chainrule import dtypes
from chainrule.autograd.grad_mode import enable_grad
from chainrule.backend import complex_from_pairs, is_scalar, is_writable, real_pairs, xp
from chainrule.sparse.coo_array import SparseCOOArray
from chainrule.tensor import Tensor, tensor_from_array
from chainrule.utils.hooks import WatchedHooks, add_hook, through_hooks

# Hooks around the step of every optimizer (register_optimizer_step_pre_hook...).
_GLOBAL_STEP_PRE_HOOKS = WatchedHooks()  # (a compiled step replays only while no step hook is added or removed)
_GLOBAL_STEP_POST_HOOKS = WatchedHooks()


class _RequiredParameter:
    """The default of an option that each parameter group must give itself (``lr=required``)."""

    def __repr__(self):
        return "<required parameter>"


# Optimizers written for old PyTorch use it: ``def __init__(self, params, lr=required)``, then
# ``if lr is not required and lr < 0.0``; a group that leaves such an option out is refused.
required = _RequiredParameter()

# Each optimizer's hooks, as PyTorch names them: {handle id: hook} (watched: a compiled step
# replays only while none is added or removed).
_HOOK_REGISTRIES = (
    "_optimizer_step_pre_hooks",
    "_optimizer_step_post_hooks",
    "_optimizer_state_dict_pre_hooks",
    "_optimizer_state_dict_post_hooks",
    "_optimizer_load_state_dict_pre_hooks",
    "_optimizer_load_state_dict_post_hooks",
)


def register_optimizer_step_pre_hook(hook):
    """Call ``hook(optimizer, args, kwargs)`` before the step of every optimizer; it may return
    replacement ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
    return add_hook(_GLOBAL_STEP_PRE_HOOKS, hook)


def register_optimizer_step_post_hook(hook):
    """Call ``hook(optimizer, args, kwargs)`` after the step of every optimizer."""
    return add_hook(_GLOBAL_STEP_POST_HOOKS, hook)


def global_step_hooks():
    """The registries of the step hooks for every optimizer: (before, after)."""
    return _GLOBAL_STEP_PRE_HOOKS, _GLOBAL_STEP_POST_HOOKS


def with_step_hooks(step):
    """``step`` run between the step hooks (the hooks for every optimizer first before it, last
    after it), as PyTorch wraps every optimizer's step. ``args`` starts with the optimizer."""

    @functools.wraps(step)
    def step_with_hooks(*args, **kwargs):
        optimizer = args[0]
        if "_opt_called" in optimizer.__dict__:  # a scheduler watches for the first step (see LRScheduler)
            optimizer._opt_called = True
        if not optimizer._has_step_hooks():
            return step(*args, **kwargs)
        for hook in [*_GLOBAL_STEP_PRE_HOOKS.values(), *optimizer._step_hooks("pre")]:
            result = hook(optimizer, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step} must return None or a tuple of (new_args, new_kwargs), but got {result}.")
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in [*optimizer._step_hooks("post"), *_GLOBAL_STEP_POST_HOOKS.values()]:
            hook(optimizer, args, kwargs)
        return out

    step_with_hooks.runs_step_hooks = True
    return step_with_hooks


class Optimizer:
    """Base class of the optimizers: parameter groups, ``zero_grad``, ``step`` and state dicts.

    Args:
        params: an iterable of tensors, or of dicts each with a ``"params"`` entry (an iterable of
            tensors) and options for that group.
        defaults: the options of a group that does not set them.

    ``state[param]`` is a dict of what the optimizer remembers about one parameter between steps
    (momentum buffers, running averages, a step count). A subclass writes ``_init_state`` (fill
    that dict the first time a parameter is updated) and ``_update`` (one parameter's step); or it
    overrides ``step`` entirely, as course code that writes its own optimizer does.

    PyTorch's implementation flags (``foreach``, ``fused``, ``capturable``, ``differentiable``) are
    kept in the groups, as PyTorch keeps them, and the update is the same NumPy code whatever they
    say, except where PyTorch's results differ: ``fused=True`` computes a step's scalars from
    tensor hyperparameters in double (``hyperparameter``), ``capturable=True`` is refused on the
    CPU unless ``fused``, and ``differentiable=True`` refuses to change a leaf that requires grad, as
    PyTorch's step (run with grad mode on) does, refuses ``foreach=True`` where PyTorch's foreach
    kernels do (``_foreach_supports_differentiable``), and in Adam and NAdam computes the step's
    scalars from the 0-d state tensors, as PyTorch's differentiable step does. The update is not
    recorded in the graph even then: the step works on arrays.
    """

    # PyTorch's foreach kernels of most optimizers refuse differentiable=True (AssertionError at step);
    # those of SGD and Adafactor, and optimizers without foreach kernels, run it
    _foreach_supports_differentiable = True

    #: Whether a complex parameter is stepped (as its real pairs); Adafactor and Muon refuse one
    _steps_complex_parameters = True

    # The types of the step hooks, PyTorch's names (hook(optimizer, args, kwargs) -> None, or new (args, kwargs))
    OptimizerPreHook = Callable[["Optimizer", tuple[Any, ...], dict[str, Any]], Optional[tuple[tuple[Any, ...], dict[str, Any]]]]
    OptimizerPostHook = Callable[["Optimizer", tuple[Any, ...], dict[str, Any]], None]

    #: ``Optimizer.profile_hook_step(step)``: ``step`` run between the step hooks, as every optimizer's is
    profile_hook_step = staticmethod(with_step_hooks)

    #: The options a group loaded from an older checkpoint (saved before the option existed) gets
    #: when it lacks them, with the values PyTorch's ``__setstate__`` gives, per optimizer
    _options_of_old_checkpoints = {}

    def __init__(self, params, defaults):
        if isinstance(params, Tensor):
            raise TypeError(
                f"params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got {params.type()} (wrap the tensor in a list: [tensor])"
            )
        self.defaults = defaults
        for registry in _HOOK_REGISTRIES:
            setattr(self, registry, WatchedHooks())
        self.state = defaultdict(dict)
        self.param_groups = []
        self._scratch_arrays = {}
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __init_subclass__(cls, **kwargs):
        """A subclass's own ``step`` runs between the step hooks too."""
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "runs_step_hooks", False):
            cls.step = with_step_hooks(step)

    def __getstate__(self):
        """What pickling and ``copy.deepcopy`` keep, as in PyTorch: the defaults, the state and the
        groups. Hooks (often lambdas, which pickle refuses) and the work arrays are left out."""
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        """Restore an unpickled optimizer (old optimizers call ``super().__setstate__(state)``)."""
        self.__dict__.update(state)
        for registry in _HOOK_REGISTRIES:
            if registry not in self.__dict__:
                setattr(self, registry, WatchedHooks())
        self.__dict__.setdefault("_scratch_arrays", {})
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            self._complete_options(group)

    def _complete_options(self, group):
        """Give a group saved by an older PyTorch or chainrule the options it lacks (``maximize``,
        ``foreach``...), as PyTorch's ``__setstate__`` does for an unpickled or loaded optimizer."""
        for name, value in self._options_of_old_checkpoints.items():
            group.setdefault(name, value)

    def _step_hooks(self, when):
        """Its own step hooks run ``when`` ("pre" or "post"); none for a subclass that never called
        ``Optimizer.__init__`` (an old Lookahead wrapping another optimizer, which PyTorch runs)."""
        return list(vars(self).get(f"_optimizer_step_{when}_hooks", {}).values())

    def _has_step_hooks(self):
        return bool(self._step_hooks("pre") or self._step_hooks("post") or _GLOBAL_STEP_PRE_HOOKS or _GLOBAL_STEP_POST_HOOKS)

    def register_step_pre_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return replacement
        ``(args, kwargs)``. Returns a handle whose ``remove()`` unregisters it."""
        return add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """Call ``hook(optimizer)`` before ``state_dict`` builds the state dict."""
        return add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """Call ``hook(optimizer, state_dict)`` on the state dict built; it may return a replacement."""
        return add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """Call ``hook(optimizer, state_dict)`` before ``load_state_dict`` reads the state dict (a
        shallow copy); it may return a replacement."""
        return add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """Call ``hook(optimizer)`` after ``load_state_dict``."""
        return add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def add_param_group(self, param_group):
        """Add a group of parameters with its options (the defaults fill in the options it omits).

        As in PyTorch, the dict given becomes the group itself (``optimizer.param_groups[-1] is
        param_group``), its ``"params"`` turned into a list. ``(name, tensor)`` pairs, as
        ``model.named_parameters()`` yields, put the names under ``"param_names"``; every group
        must then have names, or none.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering "
                "of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [item[0] for item in params if isinstance(item, tuple)]
        params = [item[1] if isinstance(item, tuple) else item for item in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(param).__name__}")
            if not (self.defaults.get("differentiable") or param.is_leaf or param.retains_grad):
                raise ValueError(
                    "can't optimize a non-leaf Tensor (it was computed from other tensors); optimize "
                    "the leaves it came from, or a detached copy: x.detach().requires_grad_()"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)
        if len({id(param) for param in params}) != len(params):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, this will "
                "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )
        existing = set()
        for group in self.param_groups:
            existing.update(id(param) for param in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    f"all optimizer param groups should be with/without names. cannot add param group {kind} to the optimizer"
                )
        if any(id(param) in existing for param in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: set them to None (default), or fill them with zeros."""
        for group in self.param_groups:
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    if grad.grad_fn is not None:  # (a gradient of create_graph=True; a view assigned to .grad is no graph's)
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    if type(grad._array) is SparseCOOArray:
                        grad.zero_()
                        continue
                    if is_writable(grad._array):
                        grad._array.fill(0)
                    else:  # a broadcast view, as create_graph=True can leave in .grad
                        grad._array = xp.zeros_like(grad._array)
                    grad._version += 1

    @with_step_hooks
    def step(self, closure=None):
        """Update every parameter that has a gradient, in place.

        ``closure``, when given, is called first (with grad mode on) to recompute the loss; its
        result is returned. The parameters' version counters go up, so a graph recorded before the
        step refuses to backward through the old values.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if self.defaults.get("differentiable"):  # PyTorch's step then runs with grad mode on
            if not self._foreach_supports_differentiable:
                refuse_foreach_differentiable(self)
            refuse_changing_leaves(self)
        for group in self.param_groups:
            if group.get("capturable") and not group.get("fused"):  # PyTorch's fused CPU kernels accept it
                refuse_capturable(self)
            for param in group["params"]:
                grad = param.grad
                if grad is None:
                    continue
                state = self.state.get(param)
                if not state:  # never stepped (an entry only read, or loaded empty, counts as new)
                    state = {}
                    self._init_state(param, state, group)
                    if state:  # an optimizer that keeps nothing (plain SGD) leaves no entry, as PyTorch's
                        self.state[param] = state
                if type(grad._array) is SparseCOOArray:  # (nn.Embedding(sparse=True)'s rows)
                    self._update_sparse(param._array, grad._array, state, group)
                elif param._array.dtype.kind == "c":
                    if not self._steps_complex_parameters:
                        raise RuntimeError(f"{type(self).__name__} does not support complex parameters")
                    # PyTorch's optimizers step a complex parameter as the real pairs it views
                    # (_view_as_real): Adam's squares are then of each part, not complex squares
                    viewed_state = real_state(state)
                    before = dict(viewed_state)
                    self._update(real_pairs(param._array), real_pairs(grad._array), viewed_state, group, self._scratch(param, real_pairs))
                    keep_new_state(state, before, viewed_state)
                else:
                    self._update(param._array, grad._array, state, group, self._scratch(param))
                param._version += 1
        return loss

    def _init_state(self, param, state, group):
        """Fill ``state`` (empty) with what ``param``'s updates keep; it is stored if not left empty."""

    def _update(self, param, grad, state, group, scratch):
        """Update the array ``param`` in place from its gradient array ``grad``.

        ``state`` holds this parameter's buffers (tensors; update their ``._array`` in place) and
        ``scratch`` two work arrays of the parameter's shape, free to overwrite.
        """
        raise NotImplementedError(f"{type(self).__name__} must define _update (one parameter's step) or override step()")

    def _update_sparse(self, param, grad, state, group):
        """Update ``param`` from a sparse gradient (a ``SparseCOOArray``): PyTorch's error, for an
        optimizer that has no sparse form (those that do, ``SGD``, ``Adagrad``, ``SparseAdam``,
        override this)."""
        raise RuntimeError(self._sparse_refusal or f"{type(self).__name__} does not support sparse gradients")

    _sparse_refusal = None  # PyTorch's own words, where they differ from the above

    def _scratch(self, param, viewed=None):
        """Two work arrays shaped like ``param``, kept between steps so a step allocates nothing."""
        arrays = self._scratch_arrays.get(param)
        array = param._array if viewed is None else viewed(param._array)
        if arrays is None or arrays[0].shape != array.shape or arrays[0].dtype != array.dtype:
            arrays = self._scratch_arrays[param] = (xp.empty_like(array), xp.empty_like(array))
        return arrays

    # ----------------------------------------------------------------- saving and loading
    def state_dict(self):
        """The optimizer's state in PyTorch's layout, with parameters replaced by their positions.

        ``{"state": {index: {...}}, "param_groups": [{..options.., "params": [index, ...]}]}``,
        where ``index`` counts the parameters across the groups in order. The tensors are the live
        buffers (not copies), as in PyTorch; ``chainrule.save`` writes them to a file.
        """
        for hook in list(self._optimizer_state_dict_pre_hooks.values()):
            hook(self)
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {key: value for key, value in group.items() if key != "params"}
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
            packed["params"] = [index_of[id(param)] for param in group["params"]]
            groups.append(packed)
        # an entry kept under another key than a parameter (optimizer.state["epoch"] = ...) keeps it, as in PyTorch
        state = {index_of[id(key)] if isinstance(key, Tensor) else key: values for key, values in self.state.items()}
        return through_hooks(self._optimizer_state_dict_post_hooks, {"state": state, "param_groups": groups}, self)

    def load_state_dict(self, state_dict):
        """Restore the state and the group options saved by ``state_dict()``.

        The groups must have the same number of parameters as this optimizer's, in the same order.
        The state tensors are copied, converted to each parameter's floating dtype (see
        ``_state_value``); state saved under a key that is no parameter's index is kept as it is.
        """
        state_dict = through_hooks(self._optimizer_load_state_dict_pre_hooks, dict(state_dict), self)  # a copy: hooks may change it
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups ({len(saved_groups)}, "
                f"this optimizer has {len(self.param_groups)})"
            )
        for position, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group: group {position} has {len(saved['params'])} parameters in "
                    f"the state dict and {len(group['params'])} in this optimizer"
                )
        group_of = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for index, param in zip(saved["params"], group["params"]):
                group_of[index] = (param, group, saved)
        state = defaultdict(dict)
        for index, values in state_dict["state"].items():
            if index not in group_of:  # state of no parameter is kept as it is, as PyTorch keeps it (old checkpoints)
                state[index] = values
                continue
            param, group, saved = group_of[index]
            fresh = {}
            self._init_state(param, fresh, group)
            step_in_float32 = bool(saved.get("fused") or saved.get("capturable"))
            state[param] = {
                key: _state_value(param, index, key, value, fresh, step_in_float32) for key, value in values.items()
            }
        self.state = state
        copied_groups = copy.deepcopy(saved_groups)  # in one call, as PyTorch: a value the groups share stays shared
        self.param_groups = [_loaded_group(group, saved) for group, saved in zip(self.param_groups, copied_groups)]
        for group in self.param_groups:
            self._complete_options(group)
        for hook in list(self._optimizer_load_state_dict_post_hooks.values()):
            hook(self)

    def __repr__(self):
        """PyTorch's text: each group opens on a new line, so a blank line separates two groups."""
        text = f"{type(self).__name__} ("
        for position, group in enumerate(self.param_groups):
            text += f"\nParameter Group {position}\n"
            text += "".join(f"    {key}: {group[key]}\n" for key in sorted(group) if key != "params")
        return text + ")"


def _loaded_group(group, saved):
    """The saved group's options (a deep copy of the saved ones, as PyTorch copies them: a tensor
    ``lr`` is not shared with the state dict) around this optimizer's parameters; the group's
    ``param_names`` stay if the saved group has none."""
    loaded = {key: group["params"] if key == "params" else value for key, value in saved.items()}
    if "param_names" in group and "param_names" not in saved:
        loaded["param_names"] = group["param_names"]
    return loaded


def _state_value(param, index, key, value, fresh_state, step_in_float32):
    """A saved state entry made ready for ``param``, as PyTorch's ``load_state_dict`` makes it.

    Tensors are copied, converted to the parameter's dtype when it is floating; so are the tensors
    inside lists, tuples and dicts (LBFGS's ``old_dirs``). ``step`` keeps its own dtype (PyTorch
    keeps it float32 whatever the parameter's dtype) unless the saved group is fused or capturable,
    which want it float32.

    ``fresh_state`` is what this optimizer starts ``param``'s state with. A saved tensor of another
    shape than an entry it starts (an entry started empty, as SGD's momentum buffer, has the
    parameter's shape) means the state dict came from another model. A number where it starts a
    0-d tensor (an old checkpoint's ``"step": 3``) becomes a tensor like it, as PyTorch's
    ``__setstate__`` makes it.
    """
    if key not in fresh_state:
        return _loaded(param, value, key, step_in_float32)
    fresh = fresh_state[key]
    if isinstance(fresh, Tensor) and fresh._array.ndim == 0 and not isinstance(value, Tensor):
        return tensor_from_array(xp.asarray(float(value), dtype=fresh._array.dtype))
    expected_shape = fresh._array.shape if isinstance(fresh, Tensor) else param._array.shape
    if isinstance(value, Tensor) and value._array.shape != expected_shape:
        raise ValueError(
            f"loaded state dict has {key!r} of shape {tuple(value._array.shape)} for parameter {index}, where "
            f"{tuple(expected_shape)} was expected; was the state dict saved from a different model?"
        )
    return _loaded(param, value, key, step_in_float32)


def _loaded(param, value, key, step_in_float32):
    """``value`` with its tensors copied and cast (see ``_state_value``), containers entered."""
    if isinstance(value, Tensor):
        array = value._array
        if key == "step":
            return tensor_from_array(array.astype(xp.float32) if step_in_float32 else array.copy())
        if param._array.dtype.kind == "f":
            return tensor_from_array(array.astype(param._array.dtype))
        return tensor_from_array(array.copy())
    if isinstance(value, dict):
        return {name: _loaded(param, item, name, step_in_float32) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_loaded(param, item, None, step_in_float32) for item in value)
    return value


def decayed_gradient(param, grad, maximize, weight_decay, scratch):
    """The gradient to descend along: ``-grad`` when maximizing, plus ``weight_decay * param``.

    The L2 penalty ``weight_decay / 2 * ||param||^2`` has gradient ``weight_decay * param``. The
    result may be ``scratch[0]``; ``scratch[1]`` is left free.
    """
    if maximize:
        grad = xp.negative(grad, out=scratch[0])
    if weight_decay != 0:
        decay = xp.multiply(param, weight_decay, out=scratch[1])
        grad = xp.add(grad, decay, out=scratch[0])
    return grad


def adam_style_gradient(param, grad, group, scratch):
    """The gradient for the Adam family, after ``maximize`` and ``weight_decay``.

    With ``decoupled_weight_decay`` (AdamW's rule) the parameter itself shrinks first,
    ``p = p * (1 - lr * weight_decay)``, and the gradient is left alone; otherwise the decay is an
    L2 penalty added to the gradient (``decayed_gradient``).
    """
    weight_decay = group["weight_decay"]
    if group["decoupled_weight_decay"]:
        if weight_decay != 0:
            xp.multiply(param, 1 - hyperparameter(group["lr"], group) * weight_decay, out=param)
        weight_decay = 0
    return decayed_gradient(param, grad, group["maximize"], weight_decay, scratch)


def hyperparameter(value, group=None):
    """A group's option ready for the NumPy arithmetic of a step.

    PyTorch accepts ``lr`` (and Adam's ``betas``) as 1-element tensors, which a scheduler then
    changes in place. A float32 tensor becomes a NumPy float32 scalar: the scalar arithmetic of the
    step (``lr / (1 - beta1**t)``...) then rounds in float32, as PyTorch's arithmetic on the tensor
    does. A float64 one becomes a Python float, which computes in double precision as well but,
    unlike a NumPy float64, does not turn a float32 parameter's arithmetic into float64 (a 0-d
    tensor does not either). A Python number is left as it is.

    ``group``, the option's parameter group, is given where the group may be ``fused``: PyTorch's
    fused CPU kernels read a tensor's value as a double (``.item()``), so there every tensor
    becomes a Python float and the step's scalars are computed in double precision.
    """
    if isinstance(value, Tensor):
        if group is not None and group.get("fused"):
            return value.item()
        array = value._array
        if array.size != 1:
            raise TypeError(
                f"an optimizer's hyperparameter (lr, betas...) must be a number or a 1-element tensor, but a "
                f"group holds a tensor of shape {tuple(array.shape)}; give each parameter group its own number"
            )
        scalar = array.reshape(())[()]
        return float(scalar) if scalar.dtype == xp.float64 else scalar
    return value


def scalar_divide(numerator, denominator):
    """``numerator / denominator`` for the scalars of a step, rounded as PyTorch rounds it.

    PyTorch divides a Python number by a tensor as ``denominator.reciprocal() * numerator``
    (``Tensor.__rtruediv__``): two roundings. Where the denominator came from a tensor
    hyperparameter (a NumPy scalar, see ``hyperparameter``) and the numerator did not, the
    division takes the same two.
    """
    if is_scalar(denominator) and not is_scalar(numerator):
        return xp.reciprocal(denominator) * numerator
    return numerator / denominator


def scalar_power(base, exponent):
    """``base ** exponent`` for the scalars of a step (``beta2**t``), rounded as PyTorch rounds it.

    A Python number takes Python's power. A NumPy scalar (from a tensor hyperparameter) takes what
    PyTorch computes for a 0-d tensor: squares and cubes multiplied out (``x * x * x``, two
    roundings), a square root for 0.5, and other powers in double precision rounded once to the
    tensor's dtype (NumPy's float32 power rounds differently).
    """
    if not is_scalar(base):
        return base**exponent
    if exponent == 2:
        return base * base
    if exponent == 3:
        return base * base * base
    if exponent == 0.5:
        return xp.sqrt(base)
    return base.dtype.type(float(base) ** exponent)


def check_tensor_lr(lr):
    """Raise PyTorch's ValueError for a learning rate held in a tensor of more than one element."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def check_non_negative(below_zero_only=False, **hyperparameters):
    """Raise PyTorch's ValueError for a hyperparameter below zero (or NaN), in PyTorch's words, by
    PyTorch's comparison ``not 0.0 <= value`` (a str meets ``<=``); ``below_zero_only``: SGD's
    ``value < 0.0``, which lets NaN pass.

    A tensor ``lr`` must have one element (PyTorch checks that first).
    """
    if "lr" in hyperparameters:
        check_tensor_lr(hyperparameters["lr"])
    for name, value in hyperparameters.items():
        if (value < 0.0) if below_zero_only else not 0.0 <= value:
            raise ValueError(f"{_INVALID.get(name, f'Invalid {name} value')}: {value}")


_INVALID = {"lr": "Invalid learning rate", "eps": "Invalid epsilon value"}


def check_betas(betas):
    """Raise PyTorch's ValueError unless both averaging factors lie in [0, 1) (and its IndexError
    when there are fewer than two)."""
    for index in (0, 1):
        if not 0.0 <= betas[index] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {betas[index]}")


def check_fused(fused, foreach, differentiable):
    """PyTorch's RuntimeError for implementation flags that exclude each other (``fused`` only
    names PyTorch's kernel here, and changes nothing)."""
    if fused and differentiable:
        raise RuntimeError("`fused` does not support `differentiable`")
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def refuse_changing_leaves(optimizer):
    """PyTorch's RuntimeError at ``step()`` with ``differentiable=True`` for a parameter that is a
    leaf requiring grad (or a view of one): such a step runs with grad mode on, to record the update
    in the graph, and a leaf that requires grad cannot be changed in place while recording."""
    for group in optimizer.param_groups:
        for param in group["params"]:
            if param.grad is not None and (_is_leaf_requiring_grad(param) or _is_leaf_requiring_grad(param._base)):
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place operation: "
                    f"{type(optimizer).__name__}(differentiable=True) updates its parameters with grad mode on, as "
                    f"PyTorch's does; pass differentiable=False to train Parameters (differentiable=True is for "
                    f"non-leaf tensors, e.g. w.clone())"
                )


def refuse_foreach_differentiable(optimizer):
    """PyTorch's AssertionError at ``step()`` for a group with both ``foreach=True`` and
    ``differentiable=True`` and a parameter with a gradient: the optimizer's foreach kernels record
    no graph."""
    for group in optimizer.param_groups:
        if group.get("foreach") and group.get("differentiable") and any(param.grad is not None for param in group["params"]):
            raise AssertionError(
                f"_foreach ops don't support autograd: {type(optimizer).__name__}(foreach=True, differentiable=True) "
                f"cannot record its update; pass foreach=False (or None) with differentiable=True"
            )


def _is_leaf_requiring_grad(tensor):
    return tensor is not None and tensor.requires_grad and tensor.is_leaf


def refuse_capturable(optimizer):
    """PyTorch's AssertionError at ``step()`` for ``capturable=True``, which asks for parameters on
    an accelerator (a CUDA graph captures the step): chainrule's live on the CPU."""
    raise AssertionError(
        f"If capturable=True, params and state_steps must be on supported devices: ['cuda', 'xpu', 'hpu', "
        f"'privateuseone', 'xla']; {type(optimizer).__name__}'s parameters are on the CPU: pass capturable=False"
    )


def lerp_(start, end, weight, work):
    """``start += weight * (end - start)`` in place, in PyTorch's two forms (``torch.lerp``).

    For ``|weight| >= 0.5`` PyTorch computes ``end - (end - start) * (1 - weight)`` instead, which is
    exactly ``end`` at ``weight = 1``; the same form gives the same rounding. ``work`` is overwritten.
    """
    difference = xp.subtract(end, start, out=work)
    if abs(weight) < 0.5:
        start += xp.multiply(difference, weight, out=work)
    else:
        xp.subtract(end, xp.multiply(difference, 1 - weight, out=work), out=start)
    return start


def average_of_squares_(average, grad, decay, work):
    """``average = decay * average + (1 - decay) * grad^2`` in place (PyTorch's ``mul_``/``addcmul_``)."""
    xp.multiply(average, decay, out=average)
    average += xp.multiply(xp.multiply(grad, 1 - decay, out=work), grad, out=work)
    return average


def step_count(state):
    """Add one to the parameter's step counter (a 0-d tensor, see ``scalar_state``) and return it."""
    counter = state["step"]._array
    counter += 1
    return float(counter)


def new_step_counter():
    return scalar_state(0.0)


def scalar_state(value):
    """A 0-d tensor holding ``value``, in float32, or float64 when that is the default dtype: the
    dtype PyTorch keeps its scalar state (steps, products) in (its ``_get_scalar_dtype``)."""
    dtype = xp.float64 if dtypes.get_default_dtype() == dtypes.float64 else xp.float32
    return tensor_from_array(xp.full((), value, dtype=dtype))


def zeros_state(param):
    """A zero buffer shaped like ``param`` (a tensor, so that it appears in ``state_dict``)."""
    return tensor_from_array(xp.zeros_like(param._array))


def real_state(state):
    """An optimizer's state for a complex parameter with each complex tensor seen as its real view
    (the same memory: the step's in-place updates land in the complex state)."""
    return {key: tensor_from_array(real_pairs(value._array)) if isinstance(value, Tensor) and value._array.dtype.kind == "c" else value
            for key, value in state.items()}


def keep_new_state(state, before, after):
    """What an update of a complex parameter put into its real-view state (``after``, where
    ``before`` was: SGD's momentum buffer on the first step) stored in ``state``, real pairs
    (..., 2) as the complex numbers they hold."""
    for key, value in after.items():
        if before.get(key) is value:
            continue
        if isinstance(value, Tensor) and value._array.ndim and value._array.shape[-1] == 2 and value._array.dtype.kind == "f":
            value = tensor_from_array(complex_from_pairs(xp.ascontiguousarray(value._array)))
        state[key] = value
