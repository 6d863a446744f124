"""The model's graph for TensorBoard's graph tab: traced from one forward call through chainrule's
autograd graph (``graph``), or read from an ONNX file (``onnx_graph``)."""
import itertools

from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from chainrule.autograd.function import AccumulateGrad
from chainrule.tensor import Tensor


def graph(model, inputs):
    """The computation of ``model(*inputs)`` as TensorBoard's graph: a node per operation, named
    by the module that ran it (``fc1/AddmmBackward0``, grouped by module in TensorBoard), a node
    per parameter (its name), edges from what each operation read. Found from the autograd graph
    of one forward call in eval mode (``requires_grad`` is switched on for the inputs for it; the
    model's training mode is given back after). Returns the ``GraphDef`` and the ``RunMetadata``
    written beside it (its step statistics), as PyTorch's tracer does."""
    from chainrule.autograd import grad_mode  # noqa: PLC0415

    made_by = {}  # id(node) -> module path, from forward hooks on every module

    def hook_for(path):
        def record(module, arguments, output):
            for tensor in output if isinstance(output, (tuple, list)) else (output,):
                if isinstance(tensor, Tensor) and tensor.grad_fn is not None:
                    made_by.setdefault(id(tensor.grad_fn), path)
        return record

    handles = [module.register_forward_hook(hook_for(path or type(model).__name__)) for path, module in model.named_modules()]
    feeds = [each.detach().requires_grad_() if isinstance(each, Tensor) and each.is_floating_point() else each for each in inputs]
    was_training = model.training
    model.train(False)  # traced in eval mode, as PyTorch's: no batch statistics updated, no dropout mask drawn
    try:
        with grad_mode.enable_grad():
            outputs = model(*feeds)
    except RuntimeError as error:  # PyTorch's tracer says so before raising
        print(error)
        print("Error occurs, No graph saved")
        raise
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    names = {id(parameter): name.replace(".", "/") for name, parameter in model.named_parameters()}  # grouped with its module
    names.update({id(feed): f"input/{index}" for index, feed in enumerate(feeds) if isinstance(feed, Tensor)})
    nodes, named = [], {}

    def name_of(node):
        if id(node) not in named:
            if isinstance(node, AccumulateGrad):
                named[id(node)] = names.get(id(node.variable), f"tensor/{len(named)}")
            else:
                scope = made_by.get(id(node), "")
                named[id(node)] = f"{scope}/{node.name()}_{len(named)}" if scope else f"{node.name()}_{len(named)}"
        return named[id(node)]

    results = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
    pending = [each.grad_fn for each in results if isinstance(each, Tensor) and each.grad_fn is not None]
    seen = set()
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AccumulateGrad):
            dims = [TensorShapeProto.Dim(size=size) for size in node.variable.shape]
            shape = AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))
            name = name_of(node)
            nodes.append(NodeDef(name=name, op="IO Node" if name.startswith("input/") else "Parameter", attr={"_output_shapes": shape}))
            continue
        edges = node.argument_edges if hasattr(node, "argument_edges") else node.next_functions  # in argument order, as the traced graph
        inputs_of = [next_node for next_node, _ in edges if next_node is not None]
        operation = node.name().removesuffix("Backward0").removesuffix("Backward1")
        nodes.append(NodeDef(name=name_of(node), op=operation, input=[name_of(each) for each in inputs_of]))
        pending.extend(inputs_of)
    # The run metadata PyTorch's tracer writes beside the graph: one device and no timings.
    run_metadata = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=nodes[::-1], versions=VersionDef(producer=22)), run_metadata


def onnx_graph(path):
    """The graph of the ONNX model in the file ``path``, as TensorBoard's ``GraphDef``: a 'Variable'
    node per graph input and output (its element type and shape), then a node per operation,
    named by its first output, its inputs as edges and its attributes as text. Reading ONNX needs
    the onnx package."""
    try:
        import onnx  # noqa: PLC0415 (optional: only add_onnx_graph reads ONNX)
    except ImportError as error:
        raise ModuleNotFoundError(
            f"add_onnx_graph reads the ONNX file {path!r} with the onnx package, which is not installed: pip install onnx", name="onnx"
        ) from error
    model_graph = onnx.load(path).graph
    nodes = []
    for value in itertools.chain(model_graph.input, model_graph.output):
        tensor_type = value.type.tensor_type
        shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=dim.dim_value) for dim in tensor_type.shape.dim])
        attributes = {"dtype": AttrValue(type=tensor_type.elem_type), "shape": AttrValue(shape=shape)}
        nodes.append(NodeDef(name=value.name.encode("utf_8"), op="Variable", input=[], attr=attributes))
    for operation in model_graph.node:
        parameters = ", ".join(" = ".join(str(field[1]) for field in attribute.ListFields()) for attribute in operation.attribute)
        nodes.append(NodeDef(
            name=operation.output[0].encode("utf_8"), op=operation.op_type, input=operation.input,
            attr={"parameters": AttrValue(s=parameters.encode("utf_8"))},
        ))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
