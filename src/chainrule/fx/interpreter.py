"""Interpreter: run a GraphModule node by node in Python (to look at or change each step), and
Transformer: an Interpreter that builds a new graph instead of computing values.

``Interpreter(gm).run(*inputs)`` computes what ``gm(*inputs)`` computes, calling one method per
node op (``call_function``, ``call_module``...): override one to see or change what each node does
(``ShapeProp`` in passes/ records each result's shape this way).
"""
import inspect

from chainrule.fx.graph import Graph
from chainrule.fx.node import map_aggregate, map_arg
from chainrule.fx.proxy import GraphAppendingTracer, Proxy


class Interpreter:
    """Runs ``module.graph`` (or ``graph``) on values, keeping each node's value in ``env``."""

    def __init__(self, module, garbage_collect_values=True, graph=None):
        self.module = module
        self.graph = graph if graph is not None else module.graph
        self.submodules = dict(module.named_modules())
        self.garbage_collect_values = garbage_collect_values
        self.env = {}
        self.last_uses = {}  # node -> the values no later node reads
        if garbage_collect_values:
            seen = set()
            for node in reversed(self.graph.nodes):
                for input_node in node.all_input_nodes:
                    if input_node not in seen:
                        seen.add(input_node)
                        self.last_uses.setdefault(node, []).append(input_node)

    def run(self, *args, initial_env=None, enable_io_processing=True):
        """The graph's output for the inputs ``args`` (the placeholders, in order)."""
        self.env = dict(initial_env or {})
        self.args_iter = iter(args)
        for node in self.graph.nodes:
            if node in self.env:
                continue
            self.env[node] = self.run_node(node)
            if self.garbage_collect_values:
                for done in self.last_uses.get(node, ()):
                    del self.env[done]
            if node.op == "output":
                return self.env[node]
        return None

    def boxed_run(self, args_list):
        args = list(args_list)
        args_list.clear()
        return self.run(*args)

    def run_node(self, n):
        """The value of node ``n``: its op's method, given its args and kwargs with nodes replaced by their values."""
        args, kwargs = self.fetch_args_kwargs_from_env(n)
        return getattr(self, n.op)(n.target, args, kwargs)

    def placeholder(self, target, args, kwargs):
        try:
            return next(self.args_iter)
        except StopIteration:
            if args:
                return args[0]
            raise RuntimeError(f"Expected positional argument for parameter {target}, but one was not passed in!") from None

    def get_attr(self, target, args, kwargs):
        return self.fetch_attr(target)

    def call_function(self, target, args, kwargs):
        return target(*args, **kwargs)

    def call_method(self, target, args, kwargs):
        self_obj, *rest = args
        return getattr(self_obj, target)(*rest, **kwargs)

    def call_module(self, target, args, kwargs):
        return self.fetch_attr(target)(*args, **kwargs)

    def output(self, target, args, kwargs):
        return args[0]

    def fetch_attr(self, target):
        """The attribute of the module at the dotted path ``target``."""
        value = self.module
        parts = target.split(".")
        for position, part in enumerate(parts):
            if not hasattr(value, part):
                raise RuntimeError(f"Node referenced nonexistent target {'.'.join(parts[:position + 1])}")
            value = getattr(value, part)
        return value

    def fetch_args_kwargs_from_env(self, n):
        return self.map_nodes_to_values(n.args, n), self.map_nodes_to_values(n.kwargs, n)

    def map_nodes_to_values(self, args, n):
        def value_of(node):
            if node not in self.env:
                raise RuntimeError(f"Node {n} referenced nonexistent value {node}! Run Graph.lint() to diagnose such issues")
            return self.env[node]

        return map_arg(args, value_of)


class Transformer(Interpreter):
    """Builds a new GraphModule from a GraphModule, node by node: each method gets the node's
    target and arguments (Proxies of the new graph) and returns the new node's Proxy. Override one
    to replace what a node does (``call_function``: call ``super().call_function(other_function,
    args, kwargs)``); ``transform()`` returns the new GraphModule."""

    def __init__(self, module):
        super().__init__(module)
        self.new_graph = Graph()
        self.tracer = GraphAppendingTracer(self.new_graph)

    def placeholder(self, target, args, kwargs):
        default = args[0] if args else inspect.Signature.empty
        return Proxy(self.new_graph.placeholder(target, default_value=default), self.tracer)

    def get_attr(self, target, args, kwargs):
        return self.tracer.create_proxy("get_attr", target, args, kwargs)

    def call_function(self, target, args, kwargs):
        return self.tracer.create_proxy("call_function", target, args, kwargs)

    def call_method(self, target, args, kwargs):
        return self.tracer.create_proxy("call_method", target, args, kwargs)

    def call_module(self, target, args, kwargs):
        return self.tracer.create_proxy("call_module", target, args, kwargs)

    def transform(self):
        from chainrule.fx.graph_module import GraphModule

        result = self.run(enable_io_processing=False)
        if result is not None:
            output = self.new_graph.output(map_aggregate(result, lambda value: value.node if isinstance(value, Proxy) else value))
            output.meta.update(list(self.graph.nodes)[-1].meta)  # (the old output's)
        return GraphModule(self.module, self.new_graph)

    def output(self, target, args, kwargs):
        return args[0]
