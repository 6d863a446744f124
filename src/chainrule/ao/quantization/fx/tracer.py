"""The tracer of graph mode quantization: chainrule's layers, fused layers, observers and fake
quantizers are leaves, and each node records its scope, the path and type of the module whose
forward called it (``node.meta["scope"]``): qconfigs by module name apply to what a module's
forward computes, and the converted graph names its quantization parameters after it."""
from chainrule.ao.nn.intrinsic.fused import FusedModule
from chainrule.fx import GraphModule, Tracer


class Scope:
    """The module being traced: ``module_path`` ('' for the root) and ``module_type``."""

    def __init__(self, module_path, module_type):
        self.module_path, self.module_type = module_path, module_type


class QuantizationTracer(Tracer):
    def __init__(self):
        super().__init__()
        self.scope = Scope("", None)

    def is_leaf_module(self, m, module_qualified_name):
        return isinstance(m, FusedModule) or type(m).__module__.startswith("chainrule.ao.") or super().is_leaf_module(
            m, module_qualified_name
        )

    def call_module(self, m, forward, args, kwargs):
        outer = self.scope
        self.scope = Scope(self.path_of_module(m), type(m))
        try:
            return super().call_module(m, forward, args, kwargs)
        finally:
            self.scope = outer

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        node.meta["scope"] = (self.scope.module_path, self.scope.module_type)
        return node


def traced(model):
    """``model`` as a GraphModule (chainrule.fx's TraceError where its forward cannot be traced)."""
    tracer = QuantizationTracer()
    graph = tracer.trace(model)
    return GraphModule(tracer.root, graph, "GraphModule")
