"""``torch.fx.experimental.proxy_tensor``: the mode PyTorch's ``make_fx`` traces under.

Library code asks ``get_proxy_mode()`` to tell whether it runs inside such a trace (kornia's distance
transform does); chainrule has no proxy tracing, so it never does.
"""


def get_proxy_mode():
    """The proxy tracing mode running now: None (none runs here)."""
    return None
