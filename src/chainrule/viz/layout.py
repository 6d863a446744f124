"""A layered layout for graphs drawn left to right, shared by the SVG drawing and the explorer page.

Nodes are grouped in blocks drawn as one stack (an operation above the tensor it makes). Each block
gets a column: one more than the columns of the blocks it takes inputs from (the longest path), and a
block without inputs (a leaf, a constant) sits just left of its first consumer, so ``3 * u`` draws
the 3 next to the multiplication. Within a column, blocks are ordered by the average position of
the blocks they connect to (a few barycenter sweeps), which keeps arrows short. This is the scheme
of Sugiyama et al. that Graphviz's ``dot`` follows too, kept small.
"""
from collections import deque

LAYER_GAP = 70  # between columns
ROW_GAP = 34  # between blocks of a column
STACK_GAP = 22  # between the members of a block
MARGIN = 20
SWEEPS = 4


def layered_layout(sizes, edges, blocks=()):
    """Positions for a graph drawn left to right.

    Args:
        sizes: ``{node id: (width, height)}``, in drawing order.
        edges: ``[(tail id, head id), ...]``; the graph they form has no cycle.
        blocks: lists of node ids each drawn as one vertical stack; other nodes are blocks of one.

    Returns ``({node id: (x, y)}, (width, height))``: each node's top-left corner and the size of
    the whole drawing.
    """
    block_of = {}
    members_of = {}
    for members in blocks:
        for member in members:
            block_of[member] = members[0]
        members_of[members[0]] = list(members)
    for node in sizes:
        if node not in block_of:
            block_of[node] = node
            members_of[node] = [node]
    inputs = {block: [] for block in members_of}
    outputs = {block: [] for block in members_of}
    for tail, head in edges:
        tail_block, head_block = block_of[tail], block_of[head]
        if tail_block != head_block:
            inputs[head_block].append(tail_block)
            outputs[tail_block].append(head_block)

    column = {}
    for block in _topological_order(members_of, inputs, outputs):
        if inputs[block]:  # a block without inputs is placed after the others
            column[block] = max((column[other] for other in inputs[block] if other in column), default=0) + 1
    for block in members_of:  # blocks without inputs: just left of their first consumer
        if block not in column:
            column[block] = min((column[consumer] for consumer in outputs[block] if consumer in column), default=1) - 1
    first = min(column.values())
    columns = [[] for _ in range(max(column.values()) - first + 1)]
    for block in members_of:
        columns[column[block] - first].append(block)

    position = {block: index for members in columns for index, block in enumerate(members)}
    for sweep in range(SWEEPS):
        neighbours = inputs if sweep % 2 == 0 else outputs
        for members in columns if sweep % 2 == 0 else reversed(columns):
            def barycenter(block):
                linked = [position[other] for other in neighbours[block]]
                return sum(linked) / len(linked) if linked else position[block]

            members.sort(key=barycenter)
            for index, block in enumerate(members):
                position[block] = index

    def block_height(block):
        return sum(sizes[member][1] for member in members_of[block]) + STACK_GAP * (len(members_of[block]) - 1)

    tallest = max(sum(block_height(block) + ROW_GAP for block in members) - ROW_GAP for members in columns)
    placed = {}
    x = MARGIN
    for members in columns:
        width = max(sizes[member][0] for block in members for member in members_of[block])
        y = MARGIN + (tallest - (sum(block_height(block) + ROW_GAP for block in members) - ROW_GAP)) / 2
        for block in members:
            for member in members_of[block]:
                member_width, member_height = sizes[member]
                placed[member] = (x + (width - member_width) / 2, y)
                y += member_height + STACK_GAP
            y += ROW_GAP - STACK_GAP
        x += width + LAYER_GAP
    return placed, (x - LAYER_GAP + MARGIN, tallest + 2 * MARGIN)


def _topological_order(blocks, inputs, outputs):
    """The blocks, each after all the blocks it takes inputs from (Kahn's algorithm)."""
    waiting = {block: len(inputs[block]) for block in blocks}
    ready = deque(block for block in blocks if waiting[block] == 0)
    order = []
    while ready:
        block = ready.popleft()
        order.append(block)
        for consumer in outputs[block]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                ready.append(consumer)
    return order
