"""Module: the base class of every layer and model, as ``torch.nn.Module``.

A module keeps three ordered registries, filled by plain attribute assignment in ``__init__``:

- ``_parameters``: the ``Parameter``s it learns (``self.weight = Parameter(...)``),
- ``_buffers``: tensors that are state but not learned (``register_buffer``: running means, counters),
- ``_modules``: its submodules (``self.fc1 = Linear(4, 8)``).

Everything else follows from walking those registries: ``parameters()`` for the optimizer,
``state_dict()`` for checkpoints, ``train()`` / ``eval()`` for layers that behave differently while
training, and the printed tree. ``model(x)`` calls ``forward(x)`` between the registered hooks.
"""
from collections import OrderedDict, namedtuple
from operator import methodcaller

from chainrule.autograd.grad_mode import is_grad_enabled, no_grad
from chainrule.nn.backward_hooks import BackwardHooks
from chainrule.device import check_device
from chainrule.nn.parameter import Parameter, is_lazy
from chainrule.tensor import RemovableHandle, Tensor


# NumPy's kinds of bool, signed and unsigned integers and real floats: what load_state_dict copies.
_REAL_KINDS = "biuf"


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` found missing from, or unexpected in, the state dict."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class Module:
    """Base class of layers and models: subclass it, register parts in ``__init__``, define ``forward``.

    >>> class TwoLayer(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = Linear(4, 8)
    ...         self.out = Linear(8, 2)
    ...     def forward(self, x):
    ...         return self.out(relu(self.hidden(x)))
    """

    training: bool

    def __init__(self):
        # object.__setattr__: our own __setattr__ needs these registries to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", [])
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_backward_pre_hooks", [])
        object.__setattr__(self, "_backward_hooks", [])

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: define '
            f"forward(self, ...) in your subclass"
        )

    def __call__(self, *args, **kwargs):
        """Run ``forward``, with the forward pre-hooks before it and the forward hooks after it.

        A pre-hook ``hook(module, args)`` may return replacement arguments; a hook
        ``hook(module, args, output)`` may return a replacement output.
        """
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks):
            replacement = hook(self, args)
            if replacement is not None:
                args = replacement if isinstance(replacement, tuple) else (replacement,)
        backward_hooks = None
        if (self._backward_hooks or self._backward_pre_hooks) and is_grad_enabled():
            backward_hooks = BackwardHooks(self)
            args = backward_hooks.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks):
            replacement = hook(self, args, output)
            if replacement is not None:
                output = replacement
        if backward_hooks is not None:
            output = backward_hooks.wrap_outputs(output)
        return output

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before each forward; returns a handle with ``remove()``."""
        self._forward_pre_hooks.append(hook)
        return RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each forward; returns a handle with ``remove()``."""
        self._forward_hooks.append(hook)
        return RemovableHandle(self._forward_hooks, hook)

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients with respect to this
        module's tensor inputs are computed (``nn/backward_hooks.py``); it may return a replacement
        grad_input. Returns a handle with ``remove()``."""
        self._backward_hooks.append(hook)
        return RemovableHandle(self._backward_hooks, hook)

    def register_full_backward_pre_hook(self, hook):
        """Call ``hook(module, grad_output)`` when the gradients with respect to this module's
        outputs arrive, before they go on into the module; it may return a replacement."""
        self._backward_pre_hooks.append(hook)
        return RemovableHandle(self._backward_pre_hooks, hook)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        registries = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if registries is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            if registries is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif registries is not None and name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' (nn.Parameter or "
                    f"None expected); wrap it: Parameter(value)"
                )
            self._parameters[name] = None
        elif registries is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' (nn.Module or None expected)")
            self._modules[name] = None
        elif registries is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' (Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove ``name`` from every other place it was registered, so it lives in ``keep`` only.

        ``keep`` itself is left alone, so that replacing a module or parameter keeps its position.
        """
        self.__dict__.pop(name, None)
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep:
                registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: registered parts live in the registries.
        registries = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in registries and name in registries[registry]:
                return registries[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def _check_new_name(self, name, kind, registry):
        """A name may be registered again in its own ``registry``, never beside another attribute."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f'{kind} name can\'t be empty or contain ".", got: "{name}"')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter, or None for an absent one such as ``bias=False``) as ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_new_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' (nn.Parameter "
                f"or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly; to express '{name}' as a function of another Tensor, compute "
                f"the value in the forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not learned; ``persistent`` ones go into ``state_dict``."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_new_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' (Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Register ``module`` (or None) as the submodule ``name``, as attribute assignment does."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._check_new_name(name, "module", self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``"encoder.0"``); ``""`` is the module itself."""
        module = self
        if target == "":
            return module
        for part in target.split("."):
            if part not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{part}` (looking up '{target}')")
            module = module._modules[part]
            if not isinstance(module, Module):
                raise AttributeError(f"`{part}` is not an nn.Module (looking up '{target}')")
        return module

    def set_submodule(self, target, module):
        """Put ``module`` at the dotted path ``target`` (``"encoder.0"``), replacing what is there."""
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        parent, _, name = target.rpartition(".")
        owner = self.get_submodule(parent)
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        if name not in owner._modules:
            raise AttributeError(f"{owner._get_name()} has no attribute `{name}` (setting '{target}')")
        setattr(owner, name, module)

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``"encoder.0.weight"``)."""
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``"bn.running_mean"``)."""
        return self._get_member(target, "_buffers", "a buffer")

    def _get_member(self, target, registry, kind):
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in getattr(module, registry):
            raise AttributeError(f"`{name}` is not {kind}")
        return getattr(module, name)

    # ----------------------------------------------------------------- walking the tree
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(dotted name, module)`` for this module and every submodule, parents before children."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """``(name, module)`` for each direct submodule (each once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate=True):
        """``(dotted name, tensor)`` from ``registry`` of this module (and its submodules), each once."""
        seen = set()
        owners = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for owner_prefix, owner in owners:
            for name, member in getattr(owner, registry).items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield owner_prefix + ("." if owner_prefix else "") + name, member

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(dotted name, parameter)`` pairs, e.g. ``("0.weight", ...)``; shared parameters once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Every parameter of this module and its submodules: what an optimizer is given."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on this module; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ----------------------------------------------------------------- modes and gradients
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and all below it."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: dropout off, batch norm uses its running statistics. Same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording on or off for every parameter (e.g. to freeze a layer)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter: to None (default), or to zeros in place."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                with no_grad():
                    param.grad.detach_().zero_()

    # ----------------------------------------------------------------- dtype conversion
    def _apply(self, convert):
        """Replace the values of every parameter, gradient and buffer by ``convert(tensor)``.

        Parameters keep their identity (the optimizer still holds them); only their array changes.
        """
        with no_grad():
            for module in self.modules():
                for param in module._parameters.values():
                    if param is None:
                        continue
                    param.array = convert(param).array
                    if param.grad is not None:
                        param.grad.array = convert(param.grad).array
                for name, buffer in module._buffers.items():
                    if buffer is not None:
                        module._buffers[name] = convert(buffer)
        return self

    def _apply_to_floating(self, convert):
        """``_apply`` of ``convert`` to the floating-point parameters and buffers (counts stay integers).
        Called as a method, so that a tensor subclass's own conversion runs (a lazy module's
        uninitialized parameters)."""
        return self._apply(lambda tensor: convert(tensor) if tensor.is_floating_point() else tensor)

    def to(self, *args, **kwargs):
        """``to(dtype)`` converts floating parameters and buffers; ``to("cpu")`` changes nothing."""
        return self._apply_to_floating(lambda tensor: tensor.to(*args, **kwargs))

    def float(self):
        return self._apply_to_floating(methodcaller("float"))

    def double(self):
        return self._apply_to_floating(methodcaller("double"))

    def half(self):
        return self._apply_to_floating(methodcaller("half"))

    def type(self, dst_type):
        """Every parameter and buffer converted to ``dst_type`` (a dtype or a legacy tensor type)."""
        return self._apply(lambda tensor: tensor.type(dst_type))

    def cpu(self):
        return self

    def cuda(self, device=None):
        """There is no GPU in chainrule: raises, as ``Tensor.cuda`` does (use ``.to(device)`` with a
        device chosen by ``torch.cuda.is_available()``, which is False)."""
        check_device("cuda")

    def share_memory(self):
        """Nothing to do: chainrule's worker processes receive copies (as PyTorch's on the CPU shares them)."""
        return self

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict ``{dotted name: tensor}`` of every parameter and persistent buffer.

        The tensors are detached (they share memory with the module: copy them to keep a snapshot).
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy the values of ``state_dict`` into this module's parameters and buffers.

        All or nothing: every key is checked, and every value converted to its parameter's dtype,
        before anything is copied. With ``strict=True`` a missing or unexpected key, and in any case a
        value that is not a tensor, a shape that does not match or values that are not numbers
        (complex, strings, dates...), raise RuntimeError listing all of them, and the module is left
        exactly as it was. Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        own = self.state_dict(keep_vars=True)
        for key, target in own.items():  # a lazy module's parameters take the checkpoint's shapes
            if is_lazy(target) and isinstance(state_dict.get(key), Tensor):
                target.materialize(tuple(state_dict[key].shape))
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        if strict:
            if unexpected:
                problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{key}"' for key in unexpected) + ". ")
            if missing:
                problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{key}"' for key in missing) + ". ")
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                problems.append(
                    f'While copying the parameter named "{key}", expected a Tensor from the checkpoint '
                    f"but got {type(value).__name__}."
                )
            elif tuple(value.shape) != tuple(target.shape):
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from checkpoint, "
                    f"the shape in current model is {target.shape}."
                )
            elif value.array.dtype.kind not in _REAL_KINDS:
                problems.append(
                    f"dtype mismatch for {key}: the checkpoint holds {value.array.dtype} values, which "
                    f"can't be copied into a {target.dtype} tensor without losing them (only real "
                    f"numbers and booleans can)."
                )
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()} (nothing was loaded):\n\t" + "\n\t".join(problems)
            )
        # Converted first, copied after: a conversion that fails leaves every parameter untouched.
        converted = {key: state_dict[key].to(target.dtype).detach().clone() for key, target in own.items() if key in state_dict}
        with no_grad():
            for key, value in converted.items():
                own[key].copy_(value)
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The settings printed inside the parentheses, e.g. ``in_features=4, out_features=8, bias=True``."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module), 2) for name, module in self._modules.items()]
        return _tree_repr(self._get_name(), extra_lines, child_lines)


def _tree_repr(name, extra_lines, child_lines):
    """``Name(extra)`` on one line, or the settings and children one per line, as PyTorch prints."""
    lines = extra_lines + child_lines
    if not lines:
        return name + "()"
    if len(extra_lines) == 1 and not child_lines:
        return f"{name}({extra_lines[0]})"
    return name + "(\n  " + "\n  ".join(lines) + "\n)"


def _indent(text, spaces):
    """Indent every line of ``text`` but the first (nested modules print inside their parent)."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line for line in rest])
