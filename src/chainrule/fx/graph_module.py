"""GraphModule: a module whose forward is the code generated from a Graph.

It holds the submodules and parameters the graph reads (copied by path from the module it was
traced from), ``graph`` (change it, then ``recompile()``), ``code`` (the generated forward) and runs
that code when called, as torch.fx's.
"""
import itertools
import pathlib
import warnings

from chainrule.fx.graph import Graph, compiled_forward
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

_numbering = itertools.count()


def _BUILT_BY_REPR():
    """The layers ``to_folder`` writes as their repr (``Linear(in_features=3, ...)``), as torch.fx does."""
    from chainrule import nn

    return (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


class GraphModule(Module):
    """``GraphModule(root, graph, class_name)``: root a Module (or a dict of path -> value) that has
    what the graph's ``get_attr`` and ``call_module`` nodes name."""

    def __new__(cls, *args, **kwargs):
        # Each GraphModule has a class of its own, so that its forward (the generated code) is its own
        # (a copy, made by copy.deepcopy, shares its original's).
        if "_own_class" not in cls.__dict__:
            cls = type(cls.__name__, (cls,), {"_own_class": True})
        return super().__new__(cls)

    def __init__(self, root, graph, class_name="GraphModule"):
        super().__init__()
        type(self).__name__ = class_name
        if isinstance(root, Module):
            self.training = root.training
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    _copy_attribute(_fetch(root, node.target), self, node.target)
        elif isinstance(root, dict):
            for node in graph.nodes:
                if node.op in ("get_attr", "call_module"):
                    if node.target not in root:
                        raise RuntimeError(f"Node {node} referenced target {node.target} but that target was not provided in ``root``!")
                    _copy_attribute(root[node.target], self, node.target)
        else:
            raise RuntimeError(f"Unsupported type {root} passed for root!")
        self.graph = graph

    def __reduce__(self):
        """Pickled (``chainrule.save``, ``copy.deepcopy``) as its state and its graph; unpickling
        makes it a class of its own again (named GraphModule, as torch.fx's) and generates its code."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("_graph", "_code")}
        return _rebuilt_graph_module, (state, self.graph)

    @property
    def graph(self):
        return self.__dict__["_graph"]

    @graph.setter
    def graph(self, graph):
        if not isinstance(graph, Graph):
            raise AssertionError(f"Expected a Graph, got {type(graph).__name__}")
        self.__dict__["_graph"] = graph
        graph.owning_module = self
        self.recompile()

    @property
    def code(self):
        """The text of the generated ``forward``."""
        return self.__dict__["_code"]

    def recompile(self):
        """Generate ``forward`` from the graph again (after changing it)."""
        code = self.graph.python_code(root_module="self")
        self.__dict__["_code"] = code.src
        type(self).forward = compiled_forward(code, f"<eval_with_key>.{next(_numbering)}")
        return code

    def print_readable(self, print_output=True, include_stride=False, include_device=False, colored=False):
        """The generated code as a class (``class Name(torch.nn.Module): def forward...``); printed
        unless ``print_output=False``. Its first line says, as torch.fx's does for nodes without
        one, that no stack trace was recorded (chainrule's tracer records none)."""
        lines = self.code.strip().splitlines()
        start = next(number for number, line in enumerate(lines) if line.startswith("def forward"))
        lines.insert(start + 1, "    # No stacktrace found for following nodes")
        body = "\n".join("    " + line if line.strip() else "" for line in lines)
        text = f"class {type(self).__name__}(chainrule.nn.Module):\n{body}\n"
        if print_output:
            print(text)
        return text

    def to_folder(self, folder, module_name="FxModule"):
        """Write this module as a Python package to ``folder``: ``module.py`` (a class
        ``module_name`` with the generated forward), ``state_dict.pt``, and a ``.pt`` file for each
        submodule other than Linear, Conv and BatchNorm (which ``module.py`` builds by its repr)."""
        import chainrule

        folder = pathlib.Path(folder)
        folder.mkdir(exist_ok=True)
        chainrule.save(self.state_dict(), folder / "state_dict.pt")
        lines = [
            "", "import chainrule", "from math import inf", "from math import nan", "NoneType = type(None)", "import chainrule",
            "from chainrule import device", "import chainrule.utils._pytree as pytree", "", "from chainrule.nn import *",
            f"class {module_name}(chainrule.nn.Module):", "    def __init__(self):", "        super().__init__()",
        ]
        pickled = []
        for name, child in self.named_children():
            if type(child) in _BUILT_BY_REPR():
                lines.append(f"        setattr(self, '{name}', {child!r})")
                continue
            chainrule.save(child, folder / f"{name}.pt")
            pickled.append(name)
            description = repr(child).replace("\r", " ").replace("\n", " ")
            lines.append(f"        setattr(self, '{name}', chainrule.load(r'{folder / name}.pt', weights_only=False)) # {description}")
        for name, buffer in self._buffers.items():
            if buffer is not None:
                lines.append(f"        self.register_buffer('{name}', chainrule.empty({list(buffer.shape)}, dtype={buffer.dtype}))")
        for name, parameter in self._parameters.items():
            if parameter is not None:
                lines.append(f"        setattr(self, '{name}', chainrule.nn.Parameter(chainrule.empty({list(parameter.shape)}, dtype={parameter.dtype})))")
        lines.append(f"        self.load_state_dict(chainrule.load(r'{folder}/state_dict.pt'))")
        code = "\n".join("    " + line if line.strip() else "" for line in self.code.split("\n"))
        (folder / "module.py").write_text("\n".join(lines) + "\n" + code + "\n")
        (folder / "__init__.py").write_text("from .module import *")
        if pickled:
            warnings.warn(f"Was not able to save the following children modules as reprs -saved as pickled files instead: {pickled}")

    # ------------------------------------------------------------------ submodules the graph calls
    def add_submodule(self, target, m):
        """Put the module ``m`` at the dotted path ``target``, making empty modules for the parts
        above it; False where a part is something else than a module."""
        *parents, field = target.split(".")
        module = self
        for part in parents:
            child = getattr(module, part, None)
            if child is None:
                child = Module()
                setattr(module, part, child)
            if not isinstance(child, Module):
                return False
            module = child
        module.add_module(field, m)
        return True

    def delete_submodule(self, target):
        """Remove the submodule at the dotted path ``target``; False where there is none."""
        *parents, field = target.split(".")
        module = self
        for part in parents:
            module = getattr(module, part, None)
            if not isinstance(module, Module):
                return False
        if not isinstance(getattr(module, field, None), Module):
            return False
        delattr(module, field)
        return True

    def delete_all_unused_submodules(self):
        """Remove the submodules that no ``call_module`` or ``get_attr`` node reaches (a called
        module's own submodules count as reached)."""
        used = set()
        for node in self.graph.nodes:
            if node.op in ("call_module", "get_attr"):
                parts = node.target.split(".")
                used.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
                if node.op == "call_module":
                    try:
                        used.update(f"{node.target}.{name}" for name, _ in self.get_submodule(node.target).named_modules() if name)
                    except AttributeError:
                        pass
        for name in [name for name, _ in self.named_modules() if name and name not in used]:
            self.delete_submodule(name)

    def __str__(self):
        return "\n".join([super().__str__(), self.code, "# To see more debug info, please use `graph_module.print_readable()`"])


def _rebuilt_graph_module(state, graph):
    """The GraphModule ``GraphModule.__reduce__`` pickled."""
    module = GraphModule.__new__(GraphModule)
    module.__dict__.update(state)
    module.graph = graph
    return module


def _fetch(root, path):
    value = root
    for part in path.split("."):
        if not hasattr(value, part):
            raise RuntimeError(f"Node referenced nonexistent target {path}")
        value = getattr(value, part)
    return value


def _copy_attribute(value, to_module, path):
    """Put ``value`` at ``path`` in ``to_module``, making empty modules for the parts above it."""
    *parents, field = path.split(".")
    for part in parents:
        child = to_module._modules.get(part) if part in to_module._modules else getattr(to_module, part, None)
        if child is None:
            child = Module()
            setattr(to_module, part, child)
        to_module = child
    if isinstance(value, Tensor) and not isinstance(value, Parameter) and not isinstance(value, Module):
        to_module.register_buffer(field, value)
    else:
        setattr(to_module, field, value)
