"""The internals of graph mode quantization (``quantize_fx``), one step per file:

- ``tracer.py``: the model traced into a graph, each node knowing the module it was called in;
- ``qconfig_lookup.py``: each node's qconfig, from a QConfigMapping;
- ``patterns.py``: the table of what can be quantized and how (PyTorch's backend config, in small);
- ``fuse.py``: conv-bn-relu, linear-relu... joined into fused modules;
- ``prepare.py``: observers inserted on the values to quantize;
- ``convert.py``: observers turned into quantize/dequantize, layers into quantized ones.
"""
