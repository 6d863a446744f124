"""Graph mode quantization, as PyTorch's ``torch.ao.quantization.quantize_fx``: no QuantStub
needed, the model is traced (``chainrule.fx``) and observers go where the graph needs them::

    qconfig_mapping = get_default_qconfig_mapping("x86")
    prepared = prepare_fx(model.eval(), qconfig_mapping, example_inputs)
    for x in calibration_data:
        prepared(x)
    quantized = convert_fx(prepared)     # float in, float out; quantized operations inside

``prepare_qat_fx`` does the same for quantization-aware training (fake quantizers, QAT layers);
``fuse_fx`` only fuses. The steps are in ``fx/`` (tracing, qconfigs, the pattern table, fusion,
observers, lowering); what they cover of PyTorch's backend config is said in ``fx/patterns.py``.

Converted outputs match PyTorch's for the same weights and calibration data up to the float32
rounding of calibrated scales (summation order differs in the float layers): a value at a
rounding tie may land one step away, and that step may move what follows by a few steps.
"""
import copy

from chainrule.ao.quantization import mappings
from chainrule.ao.quantization.fx.convert import lowered
from chainrule.ao.quantization.fx.fuse import fuse_graph
from chainrule.ao.quantization.fx.prepare import insert_observers, matches
from chainrule.ao.quantization.fx.qconfig_lookup import node_qconfigs
from chainrule.ao.quantization.fx.tracer import traced
from chainrule.ao.quantization.qconfig_mapping import QConfigMapping
from chainrule.ao.quantization.quantize import deprecated_in_pytorch
from chainrule.caller_warnings import warn_at_caller
from chainrule.fx import GraphModule

#: The key of ``GraphModule.meta`` that marks a model made by ``prepare_fx`` (PyTorch's).
OBSERVED = "_observed_graph_module_attrs"


def _fused(model, is_qat):
    graph_module = model if isinstance(model, GraphModule) else traced(model)
    return fuse_graph(graph_module, is_qat)


@deprecated_in_pytorch
def fuse_fx(model, fuse_custom_config=None, backend_config=None):
    """``model`` traced, with conv-bn(-relu), conv-relu, linear-relu, linear-bn and bn-relu fused (evaluation mode)."""
    return _fused(copy.deepcopy(model), is_qat=False)


def _as_mapping(qconfig_mapping):
    if qconfig_mapping is None:
        return QConfigMapping()
    if isinstance(qconfig_mapping, dict):
        warn_at_caller(
            "Passing a QConfig dictionary to prepare is deprecated and will not be supported in a future version. "
            "Please pass in a QConfigMapping instead.", FutureWarning,
        )
        return QConfigMapping.from_dict(qconfig_mapping)
    if not isinstance(qconfig_mapping, QConfigMapping):
        raise AssertionError("qconfig_mapping must be a QConfigMapping")
    return qconfig_mapping


def _prepare(model, qconfig_mapping, is_qat):
    mapping = _as_mapping(qconfig_mapping)
    graph_module = _fused(copy.deepcopy(model), is_qat)
    qconfigs = node_qconfigs(graph_module, mapping)
    for node, qconfig in qconfigs.items():
        node.meta["qconfig"] = qconfig  # (convert names the quantization parameters by it, as PyTorch)
    node_matches = matches(graph_module, qconfigs)
    if is_qat:
        _swap_for_qat(graph_module, node_matches)
    insert_observers(graph_module, node_matches)
    graph_module = GraphModule(graph_module, graph_module.graph, "GraphModule")  # (its modules in graph order, as PyTorch's)
    graph_module.meta = {OBSERVED: {"is_qat": is_qat, "qconfig_mapping": mapping}}
    return graph_module


def _swap_for_qat(graph_module, node_matches):
    """The layers to quantize swapped for their quantization-aware-training forms (fake-quantized weights)."""
    for node, match in node_matches.items():
        if node.op == "call_module" and match.pattern.kind == "layer":
            module = graph_module.get_submodule(node.target)
            qat_type = mappings.DEFAULT_QAT_MODULE_MAPPINGS.get(type(module))
            if qat_type is not None:
                module.qconfig = match.qconfig
                graph_module.add_submodule(node.target, qat_type.from_float(module))


@deprecated_in_pytorch
def prepare_fx(model, qconfig_mapping, example_inputs, prepare_custom_config=None, _equalization_config=None,
               backend_config=None):
    """``model`` traced, fused and given observers where ``qconfig_mapping`` quantizes (see the
    module docstring): run calibration data through it, then ``convert_fx``. ``example_inputs``
    is required, as in PyTorch (the tracing here does not use it)."""
    return _prepare(model, qconfig_mapping, is_qat=False)


@deprecated_in_pytorch
def prepare_qat_fx(model, qconfig_mapping, example_inputs, prepare_custom_config=None, backend_config=None):
    """``prepare_fx`` for quantization-aware training: batch norms kept in the fused layers,
    layers swapped for their QAT forms, fake quantizers instead of observers."""
    return _prepare(model, qconfig_mapping, is_qat=True)


def _check_prepared(graph_module):
    if not isinstance(graph_module, GraphModule):
        raise ValueError(
            f"input model must be a GraphModule, Got type:{type(graph_module)} Please make sure to follow the tutorials."
        )
    if OBSERVED not in getattr(graph_module, "meta", {}):
        raise AssertionError("incoming model must be produced by prepare_fx")


@deprecated_in_pytorch
def convert_fx(graph_module, convert_custom_config=None, _remove_qconfig=True, qconfig_mapping=None, backend_config=None):
    """The quantized model of a prepared and calibrated (or trained) ``graph_module``: float in,
    float out, quantized operations inside (see ``fx/convert.py``)."""
    _check_prepared(graph_module)
    return lowered(copy.deepcopy(graph_module))


__all__ = ["convert_fx", "fuse_fx", "prepare_fx", "prepare_qat_fx"]
