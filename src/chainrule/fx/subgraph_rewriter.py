"""``replace_pattern(gm, pattern, replacement)``: rewrite every occurrence of a pattern, as torch.fx's.

``pattern`` and ``replacement`` are functions (or modules, GraphModules, Graphs) of the same
inputs; each place where ``gm``'s graph computes what ``pattern`` computes (see
passes/utils/matcher_utils.py) is replaced by a copy of ``replacement``'s graph, reading the values
the pattern's inputs matched. Returns the Matches (``anchor``, ``nodes_map``), in graph order.
"""
from dataclasses import dataclass
from typing import NamedTuple

from chainrule.fx.graph import Graph
from chainrule.fx.graph_module import GraphModule, _copy_attribute, _fetch
from chainrule.fx.passes.utils.matcher_utils import SubgraphMatcher
from chainrule.fx.tracer import symbolic_trace
from chainrule.nn.module import Module


class Match(NamedTuple):
    anchor: object  # the graph node the pattern's output matched
    nodes_map: dict  # pattern node -> graph node


@dataclass
class ReplacedPatterns:
    anchor: object
    nodes_map: dict
    replacements: list  # the nodes put in the graph


def replace_pattern(gm, pattern, replacement):
    """Replace each occurrence of ``pattern`` in ``gm`` by ``replacement`` (see the module docstring)."""
    return [Match(anchor=found.anchor, nodes_map=found.nodes_map) for found in _replace_pattern(gm, pattern, replacement)]


def replace_pattern_with_filters(gm, pattern, replacement=None, match_filters=None, ignore_literals=False, replacement_callback=None):
    """``replace_pattern`` for the matches every ``match_filters`` function (``(match, graph,
    pattern_graph) -> bool``) accepts; ``ignore_literals``: constants match any constant."""
    return _replace_pattern(gm, pattern, replacement, match_filters, ignore_literals, replacement_callback)


def _graph_of(value):
    if isinstance(value, GraphModule):
        return value.graph
    if isinstance(value, Graph):
        return value
    return symbolic_trace(value).graph


def _replace_pattern(gm, pattern, replacement, match_filters=None, ignore_literals=False, replacement_callback=None):
    graph, pattern_graph = gm.graph, _graph_of(pattern)
    matcher = SubgraphMatcher(pattern_graph, ignore_literals=ignore_literals)
    matches = [
        match for match in matcher.match(graph)
        if all(accept(match, graph, pattern_graph) for accept in match_filters or ())
    ]
    common_replacement = None if replacement is None else _graph_of(replacement)
    replaced_by = {}  # a matched node -> what replaced it (for a later match that reads it)
    replaced = []
    for match in matches:
        replacement_graph = replacement_callback(match, graph, pattern_graph) if replacement_callback else common_replacement
        inputs = [node for node in replacement_graph.nodes if node.op == "placeholder"]
        if len(inputs) != len(match.placeholder_nodes):
            raise AssertionError("the pattern and its replacement must take the same number of inputs")
        value_map = {new: replaced_by.get(old, old) for new, old in zip(inputs, match.placeholder_nodes)}
        users = {user for node in match.returning_nodes for user in node.users}
        first_user = next(node for node in graph.nodes if node in users)
        with graph.inserting_before(first_user):
            outputs = graph.graph_copy(replacement_graph, value_map)
        outputs = outputs if isinstance(outputs, (tuple, list)) else (outputs,)
        for old, new in zip(match.returning_nodes, outputs):
            old.replace_all_uses_with(new)
            replaced_by[old] = new
        for pattern_node in reversed(pattern_graph.nodes):
            if pattern_node.op not in ("placeholder", "output"):
                graph.erase_node(match.nodes_map[pattern_node])
        new_nodes = [node for node in value_map.values() if node not in match.placeholder_nodes]
        replaced.append(ReplacedPatterns(anchor=match.anchors[0], nodes_map=match.nodes_map, replacements=new_nodes))
        if isinstance(replacement, Module):
            _copy_used_attributes(replacement, replacement_graph, gm)
    gm.recompile()
    return replaced


def _copy_used_attributes(source, source_graph, gm):
    """Give ``gm`` the submodules and tensors of ``source`` that the copied replacement reads."""
    for node in source_graph.nodes:
        if node.op in ("get_attr", "call_module"):
            try:
                _fetch(gm, node.target)
            except RuntimeError:
                _copy_attribute(_fetch(source, node.target), gm, node.target)
