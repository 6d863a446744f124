"""GraphModule: a module whose forward is the code generated from a Graph.

It holds the submodules and parameters the graph reads (copied by path from the module it was
traced from), ``graph`` (change it, then ``recompile()``), ``code`` (the generated forward) and runs
that code when called, as torch.fx's.
"""
import itertools

from chainrule.fx.graph import Graph, compiled_forward
from chainrule.nn.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.tensor import Tensor

_numbering = itertools.count()


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
        """The generated code as a class (``class Name(torch.nn.Module): def forward...``); printed unless ``print_output=False``."""
        body = "\n".join("    " + line if line.strip() else "" for line in self.code.strip("\n").splitlines())
        text = f"class {type(self).__name__}(chainrule.nn.Module):\n{body}\n"
        if print_output:
            print(text)
        return text

    def __str__(self):
        return "\n".join([super().__str__(), self.code, "# To see more debug info, please use `graph_module.print_readable()`"])


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
