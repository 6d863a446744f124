"""Capturing a module's forward as a flat graph: the tracer ``export`` runs.

The module's forward runs once on Proxies that also carry a value (``ValueProxy``): each operation
it applies is recorded as a node *and* computed on the values, so the code sees real shapes, dtypes
and devices. Its parameters, buffers and tensor constants are the graph's first inputs
(``p_fc_weight``, ``b_bn_running_mean``, ``c_scale``), then come the tensors of the user's inputs,
flattened (``x``, ``d_a`` for ``d["a"]``): the graph is one function of all of them, and the
layers of ``chainrule.nn`` are traced through (a Linear is a ``linear`` node, as in PyTorch).

Dynamic sizes are found by running every operation twice: on the example values, and on a probe,
the same inputs resized along each dynamic dimension. A size that differs between the two is a
symbol: reading it (``x.shape[0]``) records a ``size`` node, and arithmetic on it records nodes,
so that the graph computes it from its inputs. A branch or an index that would come out
differently for the probe, or at an end of the dimension's range, means the code requires
particular values of that dimension: UserError (as PyTorch's, "Constraints violated"). A branch
on a tensor's data (``if x.sum() > 0:``) cannot be decided for every input:
GuardOnDataDependentSymNode (write it with ``torch.cond``, which is traced into branch graphs).

Each node notes the module calls that made it (``meta['nn_module_stack']``, for ``unflatten``).
A layer of chainrule.nn whose forward cannot be traced (an LSTM) is one ``call_module`` node.
"""
import builtins
import contextlib
import math
import operator
import re

from chainrule.autograd.function import Function
from chainrule.autograd.grad_mode import no_grad
from chainrule.control_flow import cond as eager_cond
from chainrule.export.errors import UserError, UserErrorType
from chainrule.fx import Graph, GraphModule, Proxy, Tracer
from chainrule.fx.experimental.symbolic_shapes import GuardOnDataDependentSymNode
from chainrule.fx.node import map_aggregate
from chainrule.nn.module import Module
from chainrule.tensor import Size, Tensor

#: Tensor methods whose answer depends only on dtype, device or rank: the same for every input.
STATIC_METHODS = {
    "dim", "ndimension", "is_floating_point", "is_complex", "is_signed", "element_size", "get_device",
    "is_contiguous",
}
#: Tensor methods that read sizes: answered with ints, and symbols for dynamic dimensions.
SIZE_METHODS = {"size", "numel", "nelement"}


class ValueProxy(Proxy):
    """A traced value that also holds what it computes on the example inputs (``value``) and on the
    probe inputs (``probe``, see the module docstring). ``symbols``: the names of the dynamic
    dimensions a size depends on (empty for a tensor or a value from tensor data)."""

    def __init__(self, node, tracer, value, probe, symbols=frozenset(), data_dependent=False, formula=None):
        super().__init__(node, tracer)
        self.value = value
        self.probe = probe
        self.symbols = symbols
        self.data_dependent = data_dependent or isinstance(value, Tensor)
        self.formula = formula  # for a size: its value for other sizes of the dynamic dimensions ({name: size} -> value)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(f"'ValueProxy' object has no attribute {name!r}")
        value, tracer = self.value, self.tracer
        if isinstance(value, Tensor) and name == "shape":
            return tracer.sizes(self)
        if isinstance(value, Tensor) and name in SIZE_METHODS:
            return lambda *args, **kwargs: tracer.size_query(self, name, args, kwargs)
        if isinstance(value, Tensor) and name in STATIC_METHODS:
            return getattr(value, name)
        attribute = getattr(type(value), name, None)
        if callable(attribute) and not isinstance(attribute, property):
            return lambda *args, **kwargs: tracer.create_proxy("call_method", name, (self, *args), kwargs)
        read = getattr(value, name)
        if isinstance(read, Tensor) or not isinstance(value, Tensor):  # (x.T, x.mT, x.real)
            return tracer.create_proxy("call_function", builtins.getattr, (self, name), {})
        return read  # dtype, device, ndim, requires_grad: the same for every input

    def __bool__(self):
        return bool(self.tracer.decided(self, builtins.bool))

    def __index__(self):
        return self.tracer.decided(self, operator.index)

    def __int__(self):
        return self.tracer.decided(self, builtins.int)

    def __float__(self):
        return self.tracer.decided(self, builtins.float)

    def __len__(self):
        if isinstance(self.value, Tensor) and self.value.dim():
            return operator.index(self.tracer.sizes(self)[0])
        return len(self.value)

    def __iter__(self):
        return iter([self[position] for position in range(len(self))])


class ExportTracer(Tracer):
    """Records ``root``'s forward into ``self.graph`` (see the module docstring). ``probing``:
    whether any input dimension is dynamic (otherwise the probe is the example itself)."""

    def __init__(self, root, probing):
        super().__init__(autowrap_modules=())
        self.root = root
        self.graph = Graph()
        self.probing = probing
        self.state_proxies = {}  # id of a parameter, buffer or constant -> its placeholder's ValueProxy
        self.constants = {}  # placeholder name of a tensor constant -> the tensor
        self.constant_targets = {}  # that name -> where it came from (an attribute path, or lifted_tensor_N)
        self.symbol_of_dimension = {}  # (example size, probe size) -> the name of the dynamic dimension
        self.relations = {}  # the name of a dynamic dimension -> (its root's name, scale, offset): scale * root + offset
        self.ranges = {}  # the name of a root dynamic dimension -> (min, max)
        self.examples = {}  # the name of a root dynamic dimension -> its size in the example inputs
        self.auto_symbols = set()  # the root dynamic dimensions given as Dim.AUTO
        self.user_input_names = set()
        self.root_submodules = {}  # cond's branch graphs and layers recorded as one node, by the target their nodes name
        self.constant_paths = {}  # id of a tensor attribute of a module -> its path (the name of its constant)
        self.on_failure = None  # draft_export's: what to do instead of raising (see ``fail``)
        self.module_paths = {id(module): path for path, module in root.named_modules()}
        self.module_stack = []  # the modules being called now, outermost first: (key, (path, class name))
        self.call_counts = {}  # module path -> how many times it was called so far

    # ------------------------------------------------------------------ inputs
    def state_input(self, name, tensor):
        """A placeholder for a parameter, buffer or constant, its value a copy (the trace changes no state)."""
        copy = tensor.detach().clone()
        node = self.graph.placeholder(name)
        node.meta["val"] = copy
        proxy = ValueProxy(node, self, copy, copy)
        self.state_proxies[id(tensor)] = proxy
        return proxy

    def user_input(self, name, value, probe):
        node = self.graph.placeholder(name)
        node.meta["val"] = value
        if self.probing and isinstance(probe, Tensor):
            node.meta["probe_shape"] = tuple(probe.shape)
        return ValueProxy(node, self, value, probe)

    # ------------------------------------------------------------------ recording
    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        """A node, its ``meta['nn_module_stack']`` naming the modules whose call made it (as PyTorch's:
        ``{"L__self__a": ("a", "model.Block")}``, a later call of one module keyed ``L__self__a@1``),
        which ``unflatten`` reads."""
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        if self.module_stack:
            node.meta["nn_module_stack"] = dict(self.module_stack)
        return node

    def calling(self, module):
        """A context for a call of ``module``: nodes made in it name it in their module stack."""
        path = self.module_paths.get(id(module))
        if path is None:
            return contextlib.nullcontext()
        count = self.call_counts.get(path, 0)
        self.call_counts[path] = count + 1
        key = f"L__self__{path}" + (f"@{count}" if count else "")
        return _Pushed(self.module_stack, (key, (path, f"{type(module).__module__}.{type(module).__qualname__}")))

    def call_layer(self, module, call, args, kwargs):
        """``call(module, *args, **kwargs)``, traced through. A layer of chainrule.nn without
        submodules whose forward cannot be traced into operations (an LSTM's loop runs on internal
        functions that take tensors only, or branches on the batch size) is recorded as one
        ``call_module`` node instead, as torch.fx records a leaf module; the nodes of the failed
        attempt are removed. ``save`` refuses such a program (a module is no data)."""
        last = next(iter(reversed(self.graph.nodes)), None)
        constants = dict(self.constants)
        try:
            return call(module, *args, **kwargs)
        except (TypeError, UserError, GuardOnDataDependentSymNode):
            opaque = type(module).__module__.startswith("chainrule.nn.") and next(module.children(), None) is None
            path = self.module_paths.get(id(module))
            if not opaque or path is None or not any(isinstance(item, ValueProxy) for item in _leaves((args, kwargs))):
                raise
        for node in list(reversed(self.graph.nodes)):
            if node is last:
                break
            if node.op != "placeholder":
                self.graph.erase_node(node)
        lifted = [name for name in self.constants if name not in constants]  # the constants the attempt lifted
        for key, proxy in list(self.state_proxies.items()):
            if proxy.node.name in lifted:
                self.graph.erase_node(proxy.node)
                del self.state_proxies[key], self.constants[proxy.node.name], self.constant_targets[proxy.node.name]
        self.root_submodules[path] = module
        entry = self.module_stack.pop()  # (the node stands for the call: it is no node inside it)
        try:
            return self.create_proxy("call_module", path, args, kwargs)
        finally:
            self.module_stack.append(entry)

    def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None, proxy_factory_fn=None):
        """Compute the operation on the values (and probes), then record it: a ValueProxy of the result."""
        args, kwargs = tuple(args), dict(kwargs)
        value = self._run(kind, target, args, kwargs, "value")
        probe = self._probe_run(kind, target, args, kwargs, value) if self.probing else value
        node = self.create_node(kind, target, self.create_arg(args), self.create_arg(kwargs), name, type_expr)
        node.meta["val"] = value
        if self.probing and isinstance(probe, Tensor):
            node.meta["probe_shape"] = tuple(probe.shape)
        inputs = [item for item in _leaves((args, kwargs)) if isinstance(item, ValueProxy)]
        symbols = frozenset().union(*(each.symbols for each in inputs))
        data_dependent = any(each.data_dependent for each in inputs)
        formula = None
        if not data_dependent and all(each.formula for each in inputs):
            def formula(sizes):
                return self._run(kind, target, args, kwargs, lambda proxy: proxy.formula(sizes))
        return ValueProxy(node, self, value, probe, frozenset() if data_dependent else symbols, data_dependent, formula)

    def _run(self, kind, target, args, kwargs, which):
        """The operation computed on the values (``which``: "value", "probe", or a function of a ValueProxy)."""
        args, kwargs = map_aggregate((args, kwargs), lambda item: self._concrete(item, which))
        with no_grad():
            if kind == "call_method":
                return getattr(args[0], target)(*args[1:], **kwargs)
            if kind == "call_module":
                with TracingPatches.suspended():
                    return self.root.get_submodule(target)(*args, **kwargs)
            return target(*args, **kwargs)

    def _probe_run(self, kind, target, args, kwargs, value):
        try:
            return self._run(kind, target, args, kwargs, "probe")
        except (RuntimeError, ValueError, IndexError, TypeError) as error:
            names = sorted(self.symbol_of_dimension.values())
            failure = UserError(
                UserErrorType.CONSTRAINT_VIOLATION,
                f"Constraints violated ({', '.join(names)})! {_describe(kind, target)} works for the example inputs but not "
                f"for other values of the dynamic dimensions ({error}): the code requires particular sizes there. "
                "Declare those dimensions static (Dim.STATIC), or give dimensions that must be equal the same Dim."
            )
            failure.__cause__ = error
            self.fail(failure)
            return value  # (draft_export goes on with the example's value)

    def fail(self, error, proxy=None, value=None):
        """Raise ``error``; under draft_export, hand it to ``on_failure`` (which records it and, for
        a decision on tensor data, makes the graph check the value taken, ``value`` of ``proxy``) and go on."""
        if self.on_failure is None:
            raise error
        self.on_failure(self, error, proxy, value)

    def _concrete(self, item, which):
        if isinstance(item, Tensor) and id(item) in self.state_proxies:
            item = self.state_proxies[id(item)]
        if isinstance(item, ValueProxy):
            return which(item) if callable(which) else getattr(item, which)
        if isinstance(item, Proxy):
            raise UserError(UserErrorType.INVALID_INPUT, f"export: a value of another trace ({item}) reached this one")
        return item

    def create_arg(self, value):
        """A node's argument: proxies as their nodes, a parameter or buffer as its placeholder, any
        other tensor as a constant of the program (``c_lifted_tensor_0``...)."""
        def argument(item):
            if isinstance(item, Proxy):
                return item.node
            if isinstance(item, Tensor):
                if id(item) not in self.state_proxies:
                    self.lift_constant(item, self.constant_paths.get(id(item)) or self.next_lifted_name())
                return self.state_proxies[id(item)].node
            if isinstance(item, Module):
                raise UserError(UserErrorType.INVALID_INPUT, f"export: a module ({type(item).__name__}) was passed to an operation; call it instead")
            return item

        return map_aggregate(value, argument)

    def lift_constant(self, tensor, target):
        """Make ``tensor`` an input of the program, a constant named ``c_<target>``, placed after the
        other state inputs (before the user's inputs)."""
        name = "c_" + target.replace(".", "_")
        first_user_input = next((node for node in self.graph.nodes if node.op == "placeholder" and node.name in self.user_input_names), None)
        with self.graph.inserting_before(first_user_input):
            proxy = self.state_input(name, tensor)
        self.constants[proxy.node.name] = tensor
        self.constant_targets[proxy.node.name] = target
        return proxy

    def next_lifted_name(self):
        """``lifted_tensor_N`` for the next tensor made in forward and read as a constant."""
        return f"lifted_tensor_{sum(target.startswith('lifted_tensor_') for target in self.constant_targets.values())}"

    def constants_by_target(self):
        """The tensor constants by where they came from (``lifted_tensor_0``, an attribute path)."""
        return {self.constant_targets[name]: tensor for name, tensor in self.constants.items()}

    # ------------------------------------------------------------------ sizes
    def sizes(self, proxy):
        """``proxy.shape``: an int for each static dimension, a ValueProxy of ``x.size(d)`` for a
        dynamic one (a Size where all are static, else a tuple)."""
        value, probe = proxy.value, proxy.probe
        sizes = []
        for dimension, (size, probe_size) in enumerate(zip(value.shape, probe.shape)):
            if size == probe_size:
                sizes.append(size)
                continue
            node = self.create_node("call_method", "size", (proxy.node, dimension), {})
            node.meta["val"] = size
            names = self.symbols_of_size(size, probe_size)
            formula = None
            if len(names) == 1:
                root, scale, offset = self.relations[next(iter(names))]
                formula = lambda sizes, root=root, scale=scale, offset=offset: scale * sizes[root] + offset  # noqa: E731
            symbols = frozenset(self.relations[name][0] for name in names)
            sizes.append(ValueProxy(node, self, size, probe_size, symbols, formula=formula))
        return Size(sizes) if all(isinstance(size, int) for size in sizes) else tuple(sizes)

    def symbols_of_size(self, size, probe_size):
        """The dynamic dimensions a size that is ``size`` for the example and ``probe_size`` for the probe stands for."""
        return frozenset(name for (example, probed), name in self.symbol_of_dimension.items() if (example, probed) == (size, probe_size)) or frozenset(self.symbol_of_dimension.values())

    def size_query(self, proxy, method, args, kwargs):
        """``x.size()``, ``x.size(d)``, ``x.numel()``: ints where static, recorded where dynamic."""
        sizes = self.sizes(proxy)
        if method == "size":
            dimension = args[0] if args else kwargs.get("dim")
            return sizes if dimension is None else sizes[dimension]
        if all(isinstance(size, int) for size in sizes):
            return proxy.value.numel()
        return self.create_proxy("call_method", method, (proxy,), {})

    def range_corners(self, names):
        """Each assignment of the ends of their ranges to the dimensions ``names`` (a range
        without end ends at 2**31 here), to check that a decision holds over all of it."""
        corners = [{}]
        for name in sorted(names):
            lower, upper = self.ranges[name]
            corners = [{**corner, name: end} for corner in corners for end in (max(lower, 2), min(upper, 2**31))]
        return corners

    def refined_range(self, proxy, convert, value):
        """``(name, min, max)``: the range around the example's size of the one dynamic dimension
        ``proxy`` depends on, over which ``convert(proxy)`` stays ``value`` (found by bisection, so
        for an answer that changes once on each side, as comparisons do); None for a size of several."""
        if len(proxy.symbols) != 1 or proxy.formula is None:
            return None
        name = next(iter(proxy.symbols))
        lower, upper = self.ranges[name]
        example = self.examples[name]

        def holds(size):
            return convert(proxy.formula({name: size})) == value

        low, high = max(lower, 0), example  # the smallest size from which it holds up to the example
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if holds(middle) else (middle + 1, high)
        new_lower = low
        low, high = example, min(upper, 2**31)  # the largest size up to which it holds
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if holds(middle) else (low, middle - 1)
        new_upper = upper if low == min(upper, 2**31) else low
        return name, new_lower, new_upper

    def relation_kept(self, proxy, convert, value):
        """``(name, root, scale, offset)``: for a decision on two dynamic dimensions, a relation
        ``name = scale * root + offset`` that their example sizes satisfy and under which the
        decision stays ``value`` over the root's range (the code compares them: ``if w.shape[0] ==
        x.shape[0] + 2``); None if there is none of the forms root + k, k * root."""
        if len(proxy.symbols) != 2 or proxy.formula is None:
            return None
        root, name = sorted(proxy.symbols, key=lambda each: (self.examples[each], each))
        root_example, example = self.examples[root], self.examples[name]
        lower, upper = self.ranges[root]
        candidates = [(1, example - root_example)] + ([(example // root_example, 0)] if root_example and example % root_example == 0 else [])
        for scale, offset in candidates:
            trials = {max(lower, 2), root_example, min(upper, 2**31)}
            if all(convert(proxy.formula({root: size, name: scale * size + offset})) == value for size in trials):
                return name, root, scale, offset
        return None

    def decided(self, proxy, convert):
        """``convert(proxy)`` (bool, int, index, float) where Python needs a plain value: the
        same for every input, or an error (see the module docstring)."""
        if proxy.data_dependent:
            value = convert(proxy.value)
            self.fail(GuardOnDataDependentSymNode(
                f"Could not guard on data-dependent expression {proxy.node.name} (computed by {_describe(proxy.node.op, proxy.node.target)}): "
                "Python control flow (if, while, int(), an index) on a value computed from tensor data cannot be exported, as "
                "the graph would hold one branch for every input. Write the branch with torch.cond(pred, true_fn, false_fn, operands)."
            ), proxy, value)
            return value
        value = convert(proxy.value)
        others = [convert(proxy.probe)] + [convert(proxy.formula(sizes)) for sizes in self.range_corners(proxy.symbols) if proxy.formula]
        other = next((each for each in others if each != value), value)
        if other != value:
            names = ", ".join(sorted(proxy.symbols))
            refined = self.refined_range(proxy, convert, value)
            fix = "" if refined is None else f" Suggested fix: {refined[0]} = Dim({refined[0]!r}, min={refined[1]}" + ("" if refined[2] == math.inf else f", max={refined[2]}") + ")."
            failure = UserError(
                UserErrorType.CONSTRAINT_VIOLATION,
                f"Constraints violated ({names})! Not all values of {names} in the specified range give the same answer "
                f"to {proxy.node.name} (the code branches or specializes on it: {value!r} here, {other!r} for another size). "
                f"Narrow the range of {names} (Dim(..., min=..., max=...)) so that one branch holds for all of it, or mark it static.{fix}"
            )
            failure.refined_range = refined
            failure.relation = self.relation_kept(proxy, convert, value)
            self.fail(failure)
        return value

    # ------------------------------------------------------------------ cond
    def cond(self, pred, true_fn, false_fn, operands=()):
        """``torch.cond`` met while tracing. On a predicate computed from tensor data, both branches
        are traced into graphs of their own (submodules ``true_graph_N``, ``false_graph_N``,
        taking the operands, then the values of this trace they read, lifted) and one ``cond``
        node chooses at run time. Any other predicate is decided now, as a Python ``if``."""
        if not (isinstance(pred, ValueProxy) and pred.data_dependent):
            return true_fn(*operands) if pred else false_fn(*operands)
        operands = tuple(operands)
        lifted = []  # the values of this trace that either branch reads besides the operands
        branches = [_BranchTracer(self, lifted).trace_branch(function, operands) for function in (true_fn, false_fn)]
        number = len(self.root_submodules) // 2
        modules = []
        for kind, branch in zip(("true", "false"), branches):
            branch.add_lifted(lifted)
            target = f"{kind}_graph_{number}"
            self.root_submodules[target] = branch.module()
            node = self.graph.get_attr(target)
            modules.append(ValueProxy(node, self, self.root_submodules[target], self.root_submodules[target]))
        result = self.create_proxy("call_function", eager_cond, (pred, *modules, operands + tuple(lifted)), {})
        if isinstance(result.value, (tuple, list)):
            return type(result.value)(result[position] for position in range(len(result.value)))
        return result


class _BranchTracer(ExportTracer):
    """Traces one branch of ``cond`` into a graph of its own: the operands are its first inputs;
    any other value of the outer trace it reads is lifted into ``lifted`` and becomes an input too."""

    def __init__(self, outer, lifted):
        super().__init__(outer.root, outer.probing)
        self.outer = outer
        self.lifted = lifted
        self.lifted_inputs = {}  # id of an outer ValueProxy's node -> this graph's placeholder proxy
        for shared in ("symbol_of_dimension", "relations", "ranges", "examples", "auto_symbols", "on_failure"):  # (the dynamic sizes are the outer trace's)
            setattr(self, shared, getattr(outer, shared))

    def trace_branch(self, function, operands):
        inputs = [self.user_input(f"arg{position}_1", self._concrete_outer(item, "value"), self._concrete_outer(item, "probe")) for position, item in enumerate(operands)]
        self.operand_count = len(inputs)
        with TracingPatches(self):
            result = function(*inputs)
        self.graph.output(self.create_arg(result))
        return self

    def _concrete_outer(self, item, which):
        return getattr(item, which) if isinstance(item, ValueProxy) else item

    def _inner(self, item):
        """``item`` as this graph sees it: a value of the outer trace (or a parameter, buffer or
        constant of it) lifted to an input of this graph; anything else as it is."""
        if isinstance(item, Tensor) and id(item) in self.outer.state_proxies:
            item = self.outer.state_proxies[id(item)]
        if isinstance(item, ValueProxy) and item.tracer is not self:
            return self._lift(item)
        return item

    def _concrete(self, item, which):
        return super()._concrete(self._inner(item), which)

    def create_arg(self, value):
        def argument(item):
            item = self._inner(item)
            if isinstance(item, Tensor) and id(item) not in self.state_proxies:  # a tensor made in the branch
                return self._lift(self.outer.lift_constant(item, self.outer.next_lifted_name()))
            return item

        return super().create_arg(map_aggregate(value, argument))

    def _lift(self, outer_proxy):
        """This graph's input for the outer trace's value ``outer_proxy`` (made, and listed in ``lifted``, at its first use)."""
        key = id(outer_proxy.node)
        if key not in self.lifted_inputs:
            if all(each.node is not outer_proxy.node for each in self.lifted):
                self.lifted.append(outer_proxy)
            self.lifted_inputs[key] = self.user_input(f"lifted_{outer_proxy.node.name}", outer_proxy.value, outer_proxy.probe)
        return self.lifted_inputs[key]

    def add_lifted(self, lifted):
        """Give this branch's graph an input for each lifted value, in ``lifted``'s order, after the operands."""
        operands = [node for node in self.graph.nodes if node.op == "placeholder"][:self.operand_count]
        lifted_inputs = [self._lift(outer_proxy).node for outer_proxy in lifted]
        body = next(node for node in self.graph.nodes if node.op != "placeholder")
        for node in operands + lifted_inputs:
            body.prepend(node)

    def cond(self, pred, true_fn, false_fn, operands=()):
        if isinstance(pred, ValueProxy) and pred.data_dependent:
            raise NotImplementedError("export: a torch.cond on tensor data inside a branch of torch.cond is not supported by chainrule.export: combine the predicates into one cond")
        return super().cond(pred, true_fn, false_fn, operands)

    def module(self):
        return GraphModule(self.root_submodules, self.graph)


class TracingPatches(contextlib.AbstractContextManager):
    """While a forward runs under ``tracer``: reading a module's parameter, buffer or tensor
    attribute gives the tracer's placeholder for it (so that ``self.weight.t()`` is recorded, not
    computed once); a module call is noted in the module stack of the nodes it makes; an autograd Function applied to a traced value (the batch counter of
    BatchNorm) is one node; ``chainrule.cond`` is the tracer's, which records both branches;
    ``chainrule._check`` of a traced condition is a node, the check made at every run (and for a
    Dim.AUTO size, its range is narrowed to where the check holds, as PyTorch does)."""

    #: The functions as they were before the outermost patching (a branch of cond patches again,
    #: inside its trace, and must reach the originals, not the outer trace's replacements).
    originals = None

    def __init__(self, tracer):
        self.tracer = tracer

    def __enter__(self):
        import chainrule

        self.undo = [(Module, "__call__", Module.__call__), (Module, "__getattr__", Module.__getattr__), (Function, "apply", Function.__dict__["apply"]),
                     (chainrule, "cond", chainrule.cond), (chainrule, "_check", chainrule._check)]
        self.outermost = TracingPatches.originals is None
        if self.outermost:
            TracingPatches.originals = {name: original for _, name, original in self.undo}
        module_call, module_getattr, function_apply, check = (TracingPatches.originals[name] for name in ("__call__", "__getattr__", "apply", "_check"))
        tracer = self.tracer
        outer = getattr(tracer, "outer", tracer)

        def traced_getattr(module, name):
            found = module_getattr(module, name)
            if isinstance(found, Tensor) and id(found) in outer.state_proxies:
                proxy = outer.state_proxies[id(found)]
                return proxy if tracer is outer else tracer._lift(proxy)
            return found

        def traced_apply(cls, *args, **kwargs):
            apply = function_apply.__get__(None, cls)
            if any(isinstance(item, ValueProxy) for item in _leaves((args, kwargs))):
                return tracer.create_proxy("call_function", apply, args, kwargs, name=re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cls.__name__).lower())
            return apply(*args, **kwargs)

        def traced_check(condition, message=None):
            if isinstance(condition, ValueProxy):
                if condition.symbols and condition.symbols <= tracer.auto_symbols:
                    tracer.decided(condition, builtins.bool)  # (a Dim.AUTO range is narrowed to where it holds)
                return tracer.create_proxy("call_function", check, (condition,), {})
            return check(condition, message)

        def traced_call(module, *args, **kwargs):
            with tracer.calling(module):
                return tracer.call_layer(module, module_call, args, kwargs)

        Module.__call__ = traced_call
        Module.__getattr__ = traced_getattr
        Function.apply = classmethod(traced_apply)
        chainrule.cond = tracer.cond
        chainrule._check = traced_check
        return self

    def __exit__(self, *exception):
        for owner, name, previous in self.undo:
            setattr(owner, name, previous)
        if self.outermost:
            TracingPatches.originals = None

    @staticmethod
    @contextlib.contextmanager
    def suspended():
        """Modules as they are without the patches, for the time of a ``with`` block (a layer
        recorded as one node runs on the values, reading its own parameters)."""
        patched = (Module.__call__, Module.__getattr__)
        Module.__call__, Module.__getattr__ = TracingPatches.originals["__call__"], TracingPatches.originals["__getattr__"]
        try:
            yield
        finally:
            Module.__call__, Module.__getattr__ = patched


class _Pushed(contextlib.AbstractContextManager):
    """``entry`` on ``stack`` for the time of a ``with`` block."""

    def __init__(self, stack, entry):
        self.stack = stack
        self.entry = entry

    def __enter__(self):
        self.stack.append(self.entry)
        return self

    def __exit__(self, *exception):
        self.stack.pop()


def _leaves(value):
    found = []
    map_aggregate(value, found.append)
    return found


def _describe(kind, target):
    return f"x.{target}()" if kind == "call_method" else getattr(target, "__name__", str(target))
