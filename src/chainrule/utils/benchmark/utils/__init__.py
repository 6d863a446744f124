"""PyTorch's module paths inside ``torch.utils.benchmark``, for code that imports from them:
``utils.common`` is chainrule's ``measurement`` file (TaskSpec, Measurement, select_unit...), and
``utils.timer``, ``utils.compare`` and ``utils.fuzzer`` are the files of the same names. Nothing is
defined here."""
import importlib
import sys

_FILES = {"common": "measurement", "timer": "timer", "compare": "compare", "fuzzer": "fuzzer"}

for _name, _file in _FILES.items():
    sys.modules[f"{__name__}.{_name}"] = globals()[_name] = importlib.import_module(f"chainrule.utils.benchmark.{_file}")
