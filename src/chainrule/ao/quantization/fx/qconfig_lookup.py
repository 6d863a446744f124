"""Each node's qconfig from a QConfigMapping, by PyTorch's precedence (least to most specific):
global, object type, module name regex, module name (or a parent's), module name + object type +
call index. A function or method is looked up under the module whose forward called it (its scope)."""
import collections
import re


def _parent_name(path):
    return path.rpartition(".")[0]


def _by_module_name(mapping, module_name, fallback):
    """The qconfig set for ``module_name`` or the nearest parent named in the mapping."""
    while module_name:
        if module_name in mapping.module_name_qconfigs:
            return mapping.module_name_qconfigs[module_name]
        module_name = _parent_name(module_name)
    return fallback


def _by_type_or_name(mapping, object_type, module_name, fallback):
    qconfig = mapping.object_type_qconfigs.get(object_type, fallback)
    for regex, regex_qconfig in mapping.module_name_regex_qconfigs.items():
        if re.match(regex, module_name):
            qconfig = regex_qconfig
            break
    return _by_module_name(mapping, module_name, qconfig)


def _by_order(mapping, module_path, object_type, index, fallback):
    return mapping.module_name_object_type_order_qconfigs.get((module_path, object_type, index), fallback)


def node_qconfigs(graph_module, mapping):
    """``{node: qconfig}`` for the call nodes of ``graph_module`` (traced by ``tracer.traced``)."""
    modules = dict(graph_module.named_modules(remove_duplicate=False))
    calls_so_far = collections.defaultdict(collections.Counter)  # module path -> object type -> calls seen
    qconfigs = {}
    for node in graph_module.graph.nodes:
        scope_path, scope_type = node.meta.get("scope", ("", None))
        if node.op == "call_function":
            qconfig = _by_type_or_name(mapping, scope_type, scope_path, mapping.object_type_qconfigs.get(node.target, mapping.global_qconfig))
            index = calls_so_far[scope_path][node.target]
            calls_so_far[scope_path][node.target] += 1
            qconfigs[node] = _by_order(mapping, scope_path, node.target, index, qconfig)
        elif node.op == "call_method":
            qconfig = _by_type_or_name(mapping, node.target, scope_path, mapping.global_qconfig)
            qconfigs[node] = _by_type_or_name(mapping, scope_type, scope_path, qconfig)
        elif node.op == "call_module":
            module_type = type(modules[node.target])
            qconfig = _by_type_or_name(mapping, module_type, node.target, mapping.global_qconfig)
            parent = _parent_name(scope_path)
            index = calls_so_far[parent][module_type]
            calls_so_far[parent][module_type] += 1
            qconfigs[node] = _by_order(mapping, parent, module_type, index, qconfig)
    return qconfigs
