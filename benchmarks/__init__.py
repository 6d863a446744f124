"""Side-by-side speed of chainrule, PyTorch (CPU) and hand-written NumPy: `python -m benchmarks`."""
