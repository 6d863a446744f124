"""What ``chainrule.compile`` tells as it records, chosen by ``chainrule._logging.set_logs`` (as
``torch._logging.set_logs``): each program a compiled function records (``graph_code``,
``output_code``, ``graph`` and PyTorch's other graph artifacts all name it: chainrule makes one
program, which is both PyTorch's traced graph and its generated code), ``guards`` the conditions
under which it replays, ``recompiles`` a call that none of the recordings applies to,
``graph_breaks`` why a function runs eagerly from then on. ``dynamo=logging.INFO`` (or ``all=``)
logs the recompiles and breaks, ``logging.DEBUG`` everything. PyTorch's other settings (its other
components and compilers) are accepted and change nothing. Each call replaces the settings before
it: ``set_logs()`` turns every one off. Messages go to the ``chainrule.compile`` logger, which
writes them to stderr.
"""
import logging
import sys

logger = logging.getLogger("chainrule.compile")

_PROGRAM = frozenset({
    "graph", "graph_code", "graph_code_verbose", "output_code", "aot_graphs", "aot_joint_graph",
    "pre_grad_graphs", "post_grad_graphs", "kernel_code",
})
_EVENTS = {"guards": "guards", "recompiles": "recompiles", "recompiles_verbose": "recompiles", "graph_breaks": "graph_breaks"}
_LEVELS = frozenset({
    "all", "dynamo", "aot", "autograd", "dynamic", "inductor", "distributed", "c10d", "ddp", "fsdp", "dtensor",
    "onnx", "export",
})
_OTHERS = frozenset({
    "bytecode", "ddp_graphs", "side_effects", "graph_sizes", "trace_source", "trace_call", "trace_bytecode",
    "schedule", "perf_hints", "ir_pre_fusion", "ir_post_fusion", "onnx_diagnostics", "fusion", "overlap", "modules",
    "cudagraphs", "sym_node", "compiled_autograd", "compiled_autograd_verbose", "cudagraph_static_inputs",
    "benchmarking", "autotuning", "incremental", "graph_region_expansion", "inductor_metrics",
    "hierarchical_compile", "compute_dependencies", "caching",
})

enabled = frozenset()  # of "program", "guards", "recompiles", "graph_breaks": what is logged now


def set_logs(**settings):
    """What ``chainrule.compile`` logs from now on (see the module's docstring); keyword arguments
    only, with PyTorch's names."""
    global enabled
    chosen = set()
    for name, value in settings.items():
        if name in _LEVELS:
            if value is not None and value <= logging.INFO:
                chosen |= {"recompiles", "graph_breaks"}
            if value is not None and value <= logging.DEBUG:
                chosen |= {"program", "guards"}
        elif name in _PROGRAM:
            chosen |= {"program"} if value else set()
        elif name in _EVENTS:
            chosen |= {_EVENTS[name]} if value else set()
        elif name not in _OTHERS:
            raise TypeError(f"set_logs() got an unexpected keyword argument {name!r}")
    enabled = frozenset(chosen)
    if enabled and not logger.handlers:
        handler = _ToStderr()
        handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO if enabled else logging.WARNING)


class _ToStderr(logging.Handler):
    """Writes to ``sys.stderr`` as it is when a message comes (a test or a notebook may replace it)."""

    def emit(self, record):
        sys.stderr.write(self.format(record) + "\n")


def log(artifact, message):
    """Log ``message`` when ``artifact`` ("program", "guards", "recompiles", "graph_breaks") is chosen."""
    if artifact in enabled:
        logger.info(message)
