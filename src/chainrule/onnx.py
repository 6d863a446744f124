"""``chainrule.onnx``, as ``torch.onnx``: code that imports it (pytorch/examples' fast_neural_style,
model files that ask ``is_in_onnx_export()``) runs; exporting is not something chainrule does.

PyTorch exports a model by tracing its operations into an ONNX graph; chainrule records no such
graph, so ``export`` refuses with a clear error rather than writing a file that would not load.
"""


def is_in_onnx_export():
    """False: chainrule never runs a model inside an ONNX export (as PyTorch outside one)."""
    return False


def export(model, args=(), f=None, *unused, **options):
    raise NotImplementedError(
        f"chainrule.onnx.export: chainrule cannot export {type(model).__name__} to ONNX (it records no "
        f"operator graph to export); save the weights with chainrule.save(model.state_dict(), path) and "
        f"export from PyTorch, which loads them"
    )
