"""``torch.fx.experimental``: the helpers of PyTorch's tracing that library code asks (``proxy_tensor``,
``symbolic_shapes``); chainrule traces with concrete values, so they answer for plain numbers."""
