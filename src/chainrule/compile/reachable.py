"""What a compiled function can reach before it runs: the tensors, modules and optimizers it may use.

A tensor that existed before the call (a parameter, a buffer, a tensor held in a global) is state:
the program reads its array afresh on every call, and checks that the same tensor is still found at
the same place (``model.fc.weight`` may have been replaced). A tensor made during the call and
found nowhere here is a constant of the program.

The search starts from the function's arguments, the variables its code reads from its globals and
its closure, its default arguments, and ``self`` for a method, and goes into modules, optimizers, lists, tuples, dicts,
functions and plain objects, a few levels deep. Each thing found carries the Python expression that
finds it again from those starting points, such as ``globals_['model']._modules['fc']._parameters['weight']``.

The numbers found on the way (``scalars``) are checked on every call, where they could change
between calls unseen: in the function's globals and closure, in small lists and dicts, the
attributes the code names of a class or a Python module it reads (``Config.temperature``), and
the globals that a model's own ``forward`` (a class written outside chainrule) reads. A NumPy
scalar counts as a number.
"""
import collections
import decimal
import dis
import enum
import fractions
import functools
import inspect
import io
import random
import sys
import types
import weakref
from collections.abc import Iterator

from chainrule.backend import is_scalar, ndarray, random_generator_state

from chainrule.nn.container import ParameterDict, ParameterList
from chainrule.nn.module import Module, global_hooks
from chainrule.optim.lr_scheduler import LRScheduler
from chainrule.optim.optimizer import Optimizer, global_step_hooks
from chainrule.random import Generator
from chainrule.tensor import Tensor

_DEPTH = 8  # (a hook's closure holding a helper whose closure holds a dict of lists: six levels below a global)
_GUARDED_NUMBERS = 16  # a dict holding more numbers (a vocabulary) is not checked number by number
_GUARDED_WHOLE = 1 << 16  # a list or dict of up to this many plain values is checked whole instead, so is a NumPy array


class Reachable:
    """Tensors, modules and optimizers reachable from a function, each with the path to it."""

    def __init__(self, function, args, kwargs):
        self.tensors = {}  # id -> (tensor, path)
        self.modules = {}  # id -> (module, path)
        self.objects = {}  # id -> object, every object visited (optimizers, schedulers, modules...)
        self.paths = {}  # id -> path, for every object visited
        self.names = {}  # id -> a readable name: model.fc.weight
        self.scalars = []  # (path, value): numbers the function reads from its globals and closure
        self.scalar_names = {}  # path -> a readable name, for messages
        self.set_by_schedulers = set()  # paths among them that a scheduler's step in the call may set
        self.state_paths = {}  # id -> path through the function's state, for tensors also given as arguments
        self.containers = []  # (list, dict or module, readable name): what a step might change in Python
        self.optimizer_states = set()  # ids of those among them that an optimizer's first step fills
        self.identities = []  # (path, object): functions and callables found where the function reads them
        self.lengths = []  # (path, length): lists the function reads, whose length its Python code may read
        self.absent = []  # (path, key): attributes a module does not have in its own __dict__ (forward)
        self.arrays = []  # (path, copy): small NumPy arrays the function reads, checked by value
        self.held_arrays = []  # (array, name): every NumPy array found, which a step may change in place
        self.holders = []  # (object, path, name): the caller's own objects, whose attributes a step may set
        self.parameter_states = []  # (dict, path, name): each parameter's state of an optimizer written by hand
        self.other_paths = {}  # id -> the further paths an optimizer, a scheduler or a tensor is found at
        # id -> (path, id of its holder, attribute): lists and dicts of plain values an object of the
        # caller's holds, found there only, whose guards hold only once the call reads the attribute
        # (a trainer's history the loop appends to, which the step never reads)
        self.guarded_when_read = {}
        self._seen = set()
        self._forwards = set()  # the methods of the caller's classes already visited (a model's forward...)
        self._names_read = set()  # every global name the functions visited read (settings.lr, cfg.lr)
        self._python_modules = []  # (module, path): Python modules found other than as a global (self.cfg)
        for position, arg in enumerate(args):
            self._visit(arg, f"args[{position}]", 0, name=f"arg{position}")
        for name, arg in kwargs.items():
            self._visit(arg, f"kwargs[{name!r}]", 0, name=name)
        self._visit_function(function, "function", 0, getattr(function, "__name__", "function"), compiled=True)
        for registry, hooks in global_hooks().items():  # what a global module hook's closure keeps
            for key, hook in hooks.items():
                self._visit(hook, f"global_hooks()[{registry!r}][{key!r}]", 1, "global module hook")
        for index, hooks in enumerate(global_step_hooks()):  # and a global optimizer step hook's
            for key, hook in hooks.items():
                self._visit(hook, f"global_step_hooks()[{index}][{key!r}]", 1, "global optimizer step hook")
        for module, path in self._python_modules:  # self.cfg.lr, a default cfg=settings: what any code here names
            self._numbers_named(module, self._names_read, path)

    def _visit_function(self, function, path, depth, name="self", compiled=False):
        """What ``function`` reads from its globals, closure and defaults: the compiled function
        itself always, another (a model's forward, a callback) unless it is chainrule's own."""
        if isinstance(function, types.MethodType):
            self._visit(function.__self__, f"{path}.__self__", depth, name="self")
            function, path = function.__func__, f"{path}.__func__"
        elif isinstance(function, Module):
            self._visit(function, path, depth, name=name)
            return
        elif isinstance(function, functools.partial):  # compile(partial(step, model)): what it binds, and calls
            self.identities.append((f"{path}.func", function.func))
            self._visit(function.args, f"{path}.args", depth + 1, f"{name}.args", scalar_guard=True)
            self._visit(function.keywords, f"{path}.keywords", depth + 1, f"{name}.keywords", scalar_guard=True)
            self._visit_function(function.func, f"{path}.func", depth, name, compiled)
            return
        code = getattr(function, "__code__", None)
        if code is None and not isinstance(function, (type, types.BuiltinFunctionType)) and not _is_library(type(function)):
            self._visit(function, path, depth, name)  # an object with __call__: its attributes, and the methods it runs
            return
        if code is None or (_is_library(function) and not compiled):
            return
        namespace = function.__globals__
        # a wrapper of chainrule's (``@torch.no_grad()`` on the step, which takes the step's name and
        # module): what it wraps, in its closure, not the library's globals (the grad mode it sets)
        names = set() if namespace.get("__name__", "").startswith("chainrule.") else _names_read(code)
        dynamic = not names.isdisjoint(("getattr", "vars", "__dict__"))  # getattr(Config, key): any of its names
        self._names_read |= names
        for imported in _modules_imported(code):  # `import settings` inside the step: the module it finds
            module = sys.modules.get(imported)
            if module is not None and not imported.startswith("chainrule"):
                self._numbers_named(module, set(vars(module)) if dynamic else names, f"imported_modules[{imported!r}]")
        global_names = set(_globals_read(code)) if names else set()  # (not an attribute's name: ``optimizer.step()``)
        if "globals" in global_names:  # globals()["SCALE"]: any of the module's plain values, by name
            global_names |= {key for key, value in namespace.items() if key[:2] != "__" and is_plain(value)}
        for name in sorted(global_names):
            if name in namespace:
                value = namespace[name]
                self._visit(value, f"{path}.__globals__[{name!r}]", depth + 1, name, scalar_guard=True)
                if isinstance(value, types.ModuleType) or isinstance(value, type) and _is_library(value):  # settings.lr
                    # (a class of the caller's, Config.temperature, is checked whole: _class_numbers)
                    self._numbers_named(value, set(vars(value)) if dynamic else names, f"{path}.__globals__[{name!r}]")
        for index, (cell, name) in enumerate(zip(function.__closure__ or (), code.co_freevars)):
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not yet filled
                continue
            self._visit(value, f"{path}.__closure__[{index}].cell_contents", depth + 1, name, scalar_guard=True)
        for index, value in enumerate(function.__defaults__ or ()):  # def step(x, loss_fn=criterion, scale=2.0)
            self._visit(value, f"{path}.__defaults__[{index}]", depth + 1, f"default {index}", scalar_guard=True)
        for key, value in (function.__kwdefaults__ or {}).items():
            self._visit(value, f"{path}.__kwdefaults__[{key!r}]", depth + 1, key, scalar_guard=True)

    def _visit_methods(self, cls, path, depth):
        """What the methods of a class of the caller's read from their globals (a model's forward, a
        loss object's ``__call__``, a helper method), once a method: the library's classes and
        Python's have none to visit."""
        for owner in reversed(cls.__mro__):
            if not _written_by_the_caller(owner):
                continue
            for name, member in vars(owner).items():
                method, method_path = _function_of(member, f"{path}.{name}")
                if isinstance(method, types.FunctionType) and method not in self._forwards and inspect.getattr_static(cls, name, None) is member:
                    self._forwards.add(method)
                    self._visit_function(method, method_path, depth)

    def _numbers_named(self, owner, names, path):
        """The plain values (numbers, strings...) among the attributes of a Python module (or a
        class of chainrule's) that ``names`` (what the code reads) name, checked on every call."""
        attributes = vars(owner)
        named = [(key, attributes[key]) for key in sorted(names & attributes.keys())]
        self._plain_values(named, path)
        if isinstance(owner, types.ModuleType) and _module_of_the_caller(owner.__name__):
            # config.CFG["lr"], utils.loss (reading utils.SCALE), config.args.scale: what they hold
            for key, value in named:
                if key[:2] != "__" and key.isidentifier() and not is_plain(value) and not isinstance(value, types.ModuleType):
                    self._visit(value, f"{path}.{key}", 1, key, scalar_guard=True)

    def _class_numbers(self, cls, path):
        """The plain values a class of the caller's holds (``cls.factor``, read in a classmethod,
        through ``type(self)`` or by name), its bases' included, checked on every call, once per
        class; chainrule's own classes and Python's have none to check."""
        if id(cls) in self._seen:
            return
        self._seen.add(id(cls))
        found = {}
        for owner in reversed(cls.__mro__):
            if owner.__module__ not in ("builtins", "abc") and not _is_library(owner):
                found.update(vars(owner))
        self._plain_values(found.items(), path)

    def _plain_values(self, items, path):
        """Each ``(name, value)`` of ``items`` whose value is plain (or a tuple of plain values),
        checked on every call as ``path.name`` (not the dunders: a module's __doc__, __name__...)."""
        for key, value in items:
            if key[:2] != "__" and key.isidentifier() and (is_plain(value) or type(value) is tuple and all(map(is_plain, value))):
                self.scalars.append((f"{path}.{key}", value))

    def _visit_state(self, optimizer, path, depth, name):
        """The state of an optimizer written in the course, whose step fills and reads it in Python:
        a change to it makes a call unreplayable (its first step fills it); the tensors it holds
        (``state[p]["momentum"]``) are state the program reads; the numbers of its groups (``lr``)
        are checked on each call, as the program holds what its step computed from them."""
        self.containers.append((optimizer.state, f"{name}.state"))
        self.optimizer_states.add(id(optimizer.state))
        for key, setting in vars(optimizer).items():  # self.lr, self.t = 0 kept on the optimizer itself
            if key.isidentifier() and not key.startswith("_") and _is_number(setting):
                self.scalars.append((f"{path}.{key}", setting))
                self.scalar_names[f"{path}.{key}"] = f"{name}.{key}"
        for group_index, group in enumerate(optimizer.param_groups):
            for key, setting in group.items():  # its step reads lr in Python: a new rate records anew
                key_path = f"{path}.param_groups[{group_index}][{key!r}]"
                if type(key) is str and _is_number(setting):
                    self.scalars.append((key_path, setting))
                    self.set_by_schedulers.add(key_path)
                elif type(key) is str and key != "params":  # betas, a weight-decay filter function (LARS's), a name
                    self._visit(setting, key_path, depth + 1, f"{name}.{key}", scalar_guard=True)
            for index, param in enumerate(group["params"]):
                state = optimizer.state.get(param)
                if isinstance(state, dict):
                    self.containers.append((state, f"{name}.state"))
                    self.optimizer_states.add(id(state))
                    key_path = f"{path}.param_groups[{group_index}]['params'][{index}]"
                    self.parameter_states.append((state, f"{path}.state[{key_path}]", f"{name}.state"))
                    for key, item in state.items():
                        if type(key) is str:
                            self._visit(item, f"{path}.state[{key_path}][{key!r}]", depth + 1, f"{name}.state.{key}")

    def _visit(self, value, path, depth, name, scalar_guard=False):
        if is_plain(value):
            if scalar_guard:
                self.scalars.append((path, value))
                self.scalar_names[path] = name
            return
        if type(value) is ndarray:
            self.held_arrays.append((value, name))
        if scalar_guard and _may_be_swapped(value):
            self.identities.append((path, value))  # a loss function or a callback swapped between calls
        if scalar_guard and type(value) is ndarray and value.size <= _GUARDED_WHOLE:
            self.arrays.append((path, value.copy()))  # class weights kept as a NumPy array, read in Python
        if isinstance(value, Tensor) and id(value) in self._seen and not path.startswith(("args", "kwargs")):
            self.state_paths.setdefault(id(value), path)  # a parameter passed as an argument too
        if isinstance(value, (Optimizer, LRScheduler, Tensor, Module)) and id(value) in self._seen and not path.startswith(("args", "kwargs")):
            # a scheduler's .optimizer and the global; a parameter found first in an optimizer's groups,
            # then in the model (the optimizer's own are checked where its step is replayed)
            if not (isinstance(value, Tensor) and "param_groups" in path):
                self.other_paths.setdefault(id(value), []).append(path)
        if isinstance(value, type):  # cls.factor, a class passed in or named
            self._class_numbers(value, path)
        if isinstance(value, types.ModuleType) and not value.__name__.startswith("chainrule") and ".__globals__[" not in path.rpartition(".")[2]:
            self._python_modules.append((value, path))  # (a global's numbers are checked where it is found)
        if id(value) in self._seen:
            self.guarded_when_read.pop(id(value), None)  # found at a second place, whose reads are not heard
        if depth > _DEPTH or id(value) in self._seen or isinstance(value, (type, types.ModuleType, str, bytes)):
            return
        if getattr(type(value), "keeps_recordings", False):
            # another compiled function: its recordings are not state, but what the function it
            # compiles reads is (inside this call it runs eagerly, heard by this recording)
            self._visit(value.function, f"{path}.function", depth + 1, name)
            return
        self._seen.add(id(value))
        self._class_numbers(type(value), f"type({path})")  # type(self).factor
        self._visit_methods(type(value), f"type({path})", depth)
        self.objects[id(value)] = value
        self.paths[id(value)] = path
        self.names[id(value)] = name
        if isinstance(value, Tensor):
            self.tensors[id(value)] = (value, path)
            if vars(value):  # attributes of the caller's own (p.grad_avg): one added or removed records anew
                self.lengths.append((f"{path}.__dict__", len(vars(value))))
                for key, item in vars(value).items():
                    if key.isidentifier():
                        self._visit(item, f"{path}.{key}", depth + 1, f"{name}.{key}", scalar_guard=True)
        elif isinstance(value, Module):
            self.modules[id(value)] = (value, path)
            self.containers.append((value, name))
            for registry in _HOOK_REGISTRIES:  # a hook's closure: where it keeps what it sees
                for key, hook in getattr(value, registry, {}).items():
                    self._visit(hook, f"{path}.{registry}[{key!r}]", depth, f"{name} hook")  # (a part of the module)
            if "forward" in vars(value):  # net.forward = other: the instance's own
                self.identities.append((f"{path}.__dict__['forward']", vars(value)["forward"]))
            else:
                self.absent.append((path, "forward"))
            for registry in ("_parameters", "_buffers", "_modules"):  # a model's tree, however deep, is all found
                for key, child in getattr(value, registry).items():
                    if child is None:  # register_parameter(name, None): a parameter put there later records anew
                        self.identities.append((f"{path}.{registry}[{key!r}]", None))
                    self._visit(child, f"{path}.{registry}[{key!r}]", depth, f"{name}.{key}")
            for key, item in _plain_attributes(value):  # a tensor kept as self.scale, a list of them
                if key.isidentifier():
                    # reading a list's or a dict's numbers is not heard (an attribute's is): they are checked
                    checked = isinstance(item, (list, dict, tuple)) or _may_be_swapped(item)
                    self._visit(item, f"{path}.{key}", depth + 1, f"{name}.{key}", scalar_guard=checked)
            if not _is_library(type(value)) or type(value) is Module:  # (a bare Module holds a course's layers too)
                # an attribute, a buffer set on a model of the course records anew (getattr(net, "gain", None))
                self.lengths.append((f"{path}.__dict__", len(vars(value))))
                self.lengths += [(f"{path}.{registry}", len(getattr(value, registry))) for registry in ("_parameters", "_buffers", "_modules")]
            elif value._modules:  # a layer appended to a ModuleList or a Sequential that a forward loops over
                self.lengths.append((f"{path}._modules", len(value._modules)))
            if isinstance(value, (ParameterList, ParameterDict)):  # its parameters are its items: one added records anew
                self.lengths.append((f"{path}._parameters", len(value._parameters)))
        elif isinstance(value, Optimizer):
            for group_index, group in enumerate(value.param_groups):
                for index, param in enumerate(group["params"]):
                    self._visit(param, f"{path}.param_groups[{group_index}]['params'][{index}]", depth + 1, f"{name}_param{index}")
            own = not _is_library(type(value))  # a class of the caller's (SAM's first_step reads rho in Python)
            if own or not _is_library(type(value).step):
                self._visit_state(value, path, depth, name)
            if own:
                for key, item in vars(value).items():  # what its own methods reach: SAM's base_optimizer, Lookahead's
                    if key not in _OPTIMIZER_OWN and not key.startswith("_optimizer_"):
                        self._visit(item, f"{path}.{key}", depth + 1, f"{name}.{key}", scalar_guard=_may_be_swapped(item))
            for registry in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks"):  # what a step hook's closure keeps
                for key, hook in getattr(value, registry, {}).items():
                    self._visit(hook, f"{path}.{registry}[{key!r}]", depth + 1, f"{name} step hook")
        elif isinstance(value, Generator):
            pass  # chainrule's own: watched by where its stream stands (its state_version), not its parts
        elif isinstance(value, random.Random) or random_generator_state(value) is not None:
            self.containers.append((value, name))  # Python's or NumPy's: a draw from it is a change a replay skips
        elif isinstance(value, set):
            self.containers.append((value, name))
            if scalar_guard and type(value) is set and all(map(is_plain, value)):
                self.scalars.append((path, value))  # `if label in cfg.skip:`, checked by its items
                self.scalar_names[path] = name
        elif isinstance(value, (list, tuple, collections.deque)):
            # The numbers of a small list (or dict, below) are checked on each call: reading an item
            # is not heard as it happens, as an attribute is (see compiled.py).
            numbers = sum(map(_is_number, value))
            checked = scalar_guard and numbers <= _GUARDED_NUMBERS
            if type(value) is not tuple:
                self.containers.append((value, name))
                if scalar_guard:
                    self.lengths.append((path, len(value)))  # len(history) read in Python
            if scalar_guard and not checked and len(value) <= _GUARDED_WHOLE and all(map(is_plain, value)):
                self.scalars.append((path, value))  # a longer list of numbers (recent returns, a schedule): checked whole
                self.scalar_names[path] = name
            for index, item in enumerate(value):
                self._visit(item, f"{path}[{index}]", depth + 1, f"{name}{index}", checked)
        elif isinstance(value, dict):
            checked = scalar_guard and sum(map(_is_number, value.values())) <= _GUARDED_NUMBERS
            self.containers.append((value, name))
            if scalar_guard:  # a key added (stoi.get(word, unk), `if key in cfg`): its items' guards hold still
                self.lengths.append((path, len(value)))
            if scalar_guard and not checked and len(value) <= _GUARDED_WHOLE and all(map(is_plain, value.values())):
                self.scalars.append((path, value))  # a config of many numbers: checked whole
                self.scalar_names[path] = name
            for key, item in value.items():
                if type(key) in (str, int):
                    self._visit(item, f"{path}[{key!r}]", depth + 1, f"{name}_{key}", checked)
        elif isinstance(value, weakref.ref):  # self.trainer = weakref.ref(trainer): what it refers to, by calling it
            referent = value()
            self.identities.append((f"{path}()", referent))  # another object there (or none) records anew
            if referent is not None:
                self._visit(referent, f"{path}()", depth + 1, f"{name}()", scalar_guard=scalar_guard)
        elif isinstance(value, (types.FunctionType, types.MethodType)):
            self._visit_function(value, path, depth, name)
        elif isinstance(value, functools.partial):  # partial(loss, delta=0.5): what it calls and with what
            self._visit(value.func, f"{path}.func", depth + 1, f"{name}.func", scalar_guard=True)
            self._visit(value.args, f"{path}.args", depth + 1, f"{name}.args", scalar_guard=True)
            self._visit(value.keywords, f"{path}.keywords", depth + 1, f"{name}.keywords", scalar_guard=True)
        elif isinstance(value, Iterator):  # next(batches) inside the step: advancing it is a change a replay skips
            self.containers.append((value, name))
        elif hasattr(value, "__dict__"):
            # The values in a user object's containers are checked (reading them is not heard), and
            # all of a SimpleNamespace's (its type cannot be changed to hear reads); chainrule's own
            # objects (a scheduler) change theirs in the calls a program replays.
            unheard = isinstance(value, types.SimpleNamespace)
            if unheard:  # an attribute added to it records anew (getattr(config, "dropout", None))
                self.lengths.append((f"{path}.__dict__", len(vars(value))))
            own = _is_library(type(value))
            if not own:
                self.holders.append((value, path, name))
            # a learner's subclass of one (class MyRunner(Runner)) keeps the library's histories too
            derived = any(_is_library(base) for base in type(value).__mro__[:-1])
            read = getattr(type(value), "read_by_compiled_steps", None) if own else None
            for key, item in vars(value).items():
                if read is not None and key not in read:
                    continue  # the library's own compiled method reads only these (a Runner: model, loss_fn)
                if type(key) is str and key.isidentifier():
                    contained = unheard or not derived and isinstance(item, (list, dict, tuple))
                    if contained and not unheard and not own and type(item) in (list, dict) and id(item) not in self._seen and _plain_items(item):
                        self.guarded_when_read[id(item)] = (f"{path}.{key}", id(value), key)
                    self._visit(item, f"{path}.{key}", depth + 1, f"{name}.{key}", scalar_guard=contained)


_OPTIMIZER_OWN = ("state", "param_groups", "defaults", "_scratch_arrays")  # visited as an optimizer's state, or its work arrays
_HOOK_REGISTRIES = ("_forward_pre_hooks", "_forward_hooks", "_backward_pre_hooks", "_backward_hooks")


def fingerprint(container):
    """What a list, dict or module holds, by identity: a step that changes it (``losses.append``,
    ``activations["x"] = out``, ``self.last = out``) changes this. A module's are its plain
    attributes and the tensors and submodules it holds by name (not their values, nor its
    train/eval mode, which the program handles); a container too long to compare is not compared
    (None).

    Each object is named by ``(id, object)``: held, it keeps its id while the recording compares,
    so a dict emptied and filled again (``opt.state.clear()`` before a step) cannot come back
    looking the same by an id a freed object left behind. (Two such pairs compare by identity: the
    ids differ, or the objects are one.)"""
    if isinstance(container, Module):
        # its plain attributes, and which parameter, buffer and submodule it holds under each name
        # (net.dec.weight = net.enc.weight, net.head = other: a rewiring a replay would not repeat)
        items = [(key, by_identity(item)) for key, item in _plain_attributes(container)]
        items += [(key, by_identity(item)) for registry in ("_parameters", "_buffers", "_modules") for key, item in getattr(container, registry).items()]
    elif isinstance(container, random.Random):
        items = [container.getstate()]
    elif (state := random_generator_state(container)) is not None:
        items = [state]
    elif isinstance(container, types.GeneratorType):
        items = [container.gi_frame.f_lasti if container.gi_frame is not None else None]
    elif isinstance(container, Iterator):  # where it stands, as pickling would record it
        if isinstance(container, io.IOBase):
            return None  # a file (a logging handler's stream): reading lines from it is not a step's state
        try:
            # (protocol 0's __reduce__ would construct a TextIOWrapper around a file to copy it, and
            # closing that one closes the file)
            reduced = container.__reduce_ex__(4)
        except Exception:  # noqa: BLE001 (not picklable)
            return None
        items = [item if type(item) in (int, float, str) else by_identity(item) for item in _flattened(reduced)]
    elif len(container) > _FINGERPRINT_LIMIT:
        return None
    elif isinstance(container, dict):  # an optimizer's state is keyed by tensors: by identity
        items = [(key if type(key) in (str, int) else by_identity(key), by_identity(item)) for key, item in container.items()]
    else:
        items = list(map(by_identity, container))
    return items


def by_identity(item):
    """An object as a fingerprint (and a recorder's snapshot) names it: ``(id, object)``, held, so
    that its id cannot be another's while the pair is kept; two pairs are equal only for one object."""
    return id(item), item


_FINGERPRINT_LIMIT = 10_000


def _flattened(value, depth=0):
    """The items of nested tuples (what ``__reduce__`` gives), a few levels deep."""
    if type(value) is tuple and depth < 3:
        return [item for part in value for item in _flattened(part, depth + 1)]
    return [value]


def _plain_attributes(module):
    """A module's own attributes (``self.scale``, ``self.last``, a course model's ``self._trainer``):
    not its parameters, buffers, submodules, hooks or train/eval mode, which have places of their
    own, nor a library module's private ones."""
    library = _is_library(type(module))
    return [
        (key, item) for key, item in vars(module).items()
        if key not in _MODULE_OWN and not (library and key.startswith("_"))
    ]


_MODULE_OWN = frozenset(vars(Module())) | {"_compiled_call_impl"}  # what every module keeps for itself


def is_plain(value):
    """A value the function may branch on and a guard can compare: a number (a complex, a
    Decimal, a Fraction too), a string, bytes, None, an enum member, a range (rows picked by
    ``x[range(n), y]``), a slice (``out[cfg.rows]``), a frozenset of them."""
    return (
        _is_number(value) or value is None or type(value) in _PLAIN_TYPES or isinstance(value, enum.Enum)
        or type(value) is frozenset and all(map(is_plain, value))
    )


_PLAIN_TYPES = (str, bytes, range, slice, complex, decimal.Decimal, fractions.Fraction)


def _may_be_swapped(value):
    """A function or callable object the code calls through a name (a loss, a callback, a method
    patched on a model), guarded by identity: not a class, a module, an optimizer or a tensor."""
    return callable(value) and not isinstance(value, (type, Module, Optimizer, Tensor))


def _is_number(value):
    """A Python number or a NumPy scalar number (``np.sqrt(64.0)``)."""
    return type(value) in (int, float, bool) or is_scalar(value) and value.dtype.kind in "biuf"


def _is_library(function):
    """Whether ``function`` is chainrule's own (its globals are the library's, not the model's)."""
    module = getattr(function, "__module__", None)
    return module is not None and (module == "chainrule" or module.startswith("chainrule."))  # chainrule.add's is "chainrule"


def _written_by_the_caller(cls):
    """Whether ``cls`` is a class of the caller's code: not chainrule's, Python's own (logging's
    Logger) or an installed package's."""
    return _module_of_the_caller(cls.__module__)


def _module_of_the_caller(name):
    """Whether the module ``name`` is the caller's own (the script, a config.py beside it): not
    chainrule's, Python's or an installed package's."""
    if name.partition(".")[0] in sys.stdlib_module_names or name == "chainrule" or name.startswith("chainrule."):
        return False
    path = getattr(sys.modules.get(name), "__file__", None) or ""
    return "site-packages" not in path and "dist-packages" not in path


#: How many code objects' scans (the modules they import, the names they read) are kept: a step's
#: functions are scanned again at each recording (recorded anew for a smaller last batch, a model
#: compiled again), and a scan of their bytecode costs more than the rest of the walk.
_SCANNED_CODE = 4096


@functools.lru_cache(maxsize=_SCANNED_CODE)
def _modules_imported(code):
    """The modules ``code`` (and the functions defined inside it) imports by name: ``import settings``."""
    imported = {instruction.argval for instruction in dis.get_instructions(code) if instruction.opname == "IMPORT_NAME"}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            imported |= _modules_imported(constant)
    return frozenset(imported)


def _plain_items(container):
    """Whether a list or dict holds plain values only (numbers, strings: a log of losses)."""
    return all(map(is_plain, container.values() if type(container) is dict else container))


def _function_of(member, path):
    """The function a class member runs, with the path that reaches it: a method itself, a
    staticmethod's or classmethod's function, the function a compiled method compiles."""
    if isinstance(member, staticmethod):  # read through the class: the function itself
        return member.__func__, path
    if isinstance(member, classmethod):  # read through the class: a method bound to it
        return member.__func__, f"{path}.__func__"
    if getattr(type(member), "keeps_recordings", False):
        return member.function, f"{path}.function"
    return member, path


@functools.lru_cache(maxsize=_SCANNED_CODE)
def _globals_read(code):
    """The global variables ``code`` and the functions defined inside it read or write (``model``,
    ``global step_count``): not the attribute names ``code.co_names`` lists beside them."""
    names = {instruction.argval for instruction in dis.get_instructions(code) if instruction.opname in _GLOBAL_ACCESS}
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _globals_read(constant)
    return frozenset(names)


_GLOBAL_ACCESS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "STORE_NAME", "DELETE_GLOBAL"})


@functools.lru_cache(maxsize=_SCANNED_CODE)
def _names_read(code):
    """The names ``code`` and the functions defined inside it read, global variables and attributes
    alike (``settings.lr``, ``cfg.lr``: what a module's or a class's numbers are looked up by)."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _names_read(constant)
    return frozenset(names)
