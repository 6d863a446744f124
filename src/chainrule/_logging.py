"""``chainrule._logging``, as ``torch._logging``: ``set_logs`` chooses what ``chainrule.compile``
tells as it records (see ``chainrule.compile.logs``).

    chainrule._logging.set_logs(graph_code=True)   # the torch.compile tutorial's way to see the code
"""
from chainrule.compile.logs import set_logs

__all__ = ["set_logs"]
