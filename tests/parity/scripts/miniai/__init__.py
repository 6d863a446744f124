"""miniai, the library written in fast.ai's "Practical Deep Learning for Coders" 2022 part 2
(Jeremy Howard et al.), https://github.com/fastai/course22p2  miniai/*.py (Apache-2.0): only the pieces the
minai_*.py parity scripts use, verbatim, except that the third-party helpers it imports (fastcore,
torcheval, fastprogress, matplotlib, HF datasets) are replaced by the minimal stand-ins in _standins.py,
def_device is 'cpu', and MixedPrecision runs in float32 (no autocast/GradScaler: no float16 in NumPy)."""
