"""SubgraphMatcher: find where a small pattern graph occurs in a bigger graph, as torch.fx's.

A match maps each pattern node to a graph node: same op and target (an attribute of the same type
for ``get_attr``), and args that match in turn, walking up from the nodes the pattern returns (its
anchors). A pattern placeholder matches any value (a node or a constant). The nodes a match covers,
but those it returns, may be read by nothing outside it, so that the matched nodes can be replaced.
"""
import copy
from dataclasses import dataclass, field

from chainrule.fx.node import Node
from chainrule.tensor import Tensor


@dataclass
class InternalMatch:
    """One occurrence: ``nodes_map`` pattern node -> graph node (or constant, for a placeholder)."""

    anchors: list  # the pattern's anchors (nodes of the pattern, as in torch.fx)
    nodes_map: dict = field(default_factory=dict)
    placeholder_nodes: list = field(default_factory=list)  # what the pattern's inputs matched, in order
    returning_nodes: list = field(default_factory=list)  # what the pattern's outputs matched, in order
    name_node_map: dict = field(default_factory=dict)

    def __copy__(self):
        return InternalMatch(list(self.anchors), dict(self.nodes_map), list(self.placeholder_nodes), list(self.returning_nodes))


def _attribute(graph, path):
    value = graph.owning_module
    for part in path.split("."):
        value = getattr(value, part)
    return value


class SubgraphMatcher:
    """``SubgraphMatcher(pattern_graph).match(graph)``: the InternalMatches of the pattern in ``graph``."""

    def __init__(self, pattern, match_output=False, match_placeholder=False, remove_overlapping_matches=True, ignore_literals=False):
        self.pattern = pattern
        self.match_output = match_output
        self.match_placeholder = match_placeholder
        self.remove_overlapping_matches = remove_overlapping_matches
        self.ignore_literals = ignore_literals
        for node in pattern.nodes:
            if node.op != "output" and not node.users:
                raise AssertionError("SubgraphMatcher cannot be initialized with an pattern with dead code")
        self.pattern_placeholder_nodes = [node for node in pattern.nodes if node.op == "placeholder"]
        output = next(node for node in pattern.nodes if node.op == "output")
        self.pattern_returning_nodes = output.all_input_nodes
        self.pattern_anchors = [output] if match_output else [node for node in self.pattern_returning_nodes if len(node.users) == 1]

    # ------------------------------------------------------------------ one pair of nodes
    def _nodes_are_equal(self, pn, gn):
        if not self.match_placeholder and pn.op == "placeholder":
            return True
        if pn.op != gn.op:
            return False
        if pn.op in ("placeholder", "output"):
            return True
        if pn.op == "get_attr":
            pattern_value, graph_value = _attribute(pn.graph, pn.target), _attribute(gn.graph, gn.target)
            return type(pattern_value) is type(graph_value) and (isinstance(pattern_value, Tensor) or pattern_value == graph_value)
        return pn.target == gn.target

    def _match_literals(self, pn, gn, match):
        if isinstance(pn, Node) and pn.op == "placeholder":  # an input of the pattern: any constant
            match.nodes_map[pn] = gn
            return True
        if isinstance(pn, Node) or isinstance(gn, Node):
            return False
        return self.ignore_literals or (type(pn) is type(gn) and pn == gn)

    def _match_args(self, pattern_args, graph_args, match):
        if isinstance(pattern_args, (list, tuple)) and isinstance(graph_args, (list, tuple)):
            return len(pattern_args) == len(graph_args) and all(self._match_args(p, g, match) for p, g in zip(pattern_args, graph_args))
        if isinstance(pattern_args, Node) and isinstance(graph_args, Node):
            return self._match_nodes(pattern_args, graph_args, match)
        if isinstance(pattern_args, Node) and pattern_args in match.nodes_map:
            return match.nodes_map[pattern_args] == graph_args
        return self._match_literals(pattern_args, graph_args, match)

    def _match_nodes(self, pn, gn, match):
        """Whether ``pn`` (and, walking up, what it reads) matches ``gn``; extends ``match`` if so."""
        if pn in match.nodes_map:
            return match.nodes_map[pn] is gn
        if any(matched is gn for matched in match.nodes_map.values()) or not self._nodes_are_equal(pn, gn):
            return False
        saved = copy.copy(match)
        match.nodes_map[pn] = gn
        if pn.op == "placeholder":
            return True
        found = self._match_args(pn.args, gn.args, match)
        found = found and set(pn.kwargs) == set(gn.kwargs) and all(self._match_args(pn.kwargs[key], gn.kwargs[key], match) for key in pn.kwargs)
        if not found:
            match.nodes_map = saved.nodes_map
        return found

    # ------------------------------------------------------------------ the whole pattern
    def _is_contained(self, nodes_map):
        """Whether no node outside the match reads a matched node (but those the pattern returns)."""
        lookup = {gn: pn for pn, gn in nodes_map.items() if pn.op != "placeholder"}
        return all(
            pn in self.pattern_returning_nodes or all(user in lookup for user in gn.users)
            for gn, pn in lookup.items()
        )

    def match(self, graph):
        """Every occurrence of the pattern in ``graph``, in graph order (without overlaps unless asked)."""
        candidates = {anchor: [node for node in graph.nodes if self._nodes_are_equal(anchor, node)] for anchor in self.pattern_anchors}
        matches = []

        def extend(position, match):
            if position == len(self.pattern_anchors):
                if self._is_contained(match.nodes_map):
                    match.placeholder_nodes = [match.nodes_map[node] for node in self.pattern_placeholder_nodes]
                    match.returning_nodes = [match.nodes_map[node] for node in self.pattern_returning_nodes]
                    matches.append(match)
                return
            anchor = self.pattern_anchors[position]
            for node in candidates[anchor]:
                attempt = copy.copy(match)
                if self._match_nodes(anchor, node, attempt):
                    extend(position + 1, attempt)

        extend(0, InternalMatch(anchors=list(self.pattern_anchors)))
        return self._without_overlaps(matches) if self.remove_overlapping_matches else matches

    @staticmethod
    def _without_overlaps(matches):
        kept, taken = [], set()
        for match in matches:
            covered = {gn for pn, gn in match.nodes_map.items() if pn.op not in ("placeholder", "output")}
            if not covered & taken:
                kept.append(match)
                taken |= covered
        return kept
