"""Run a teaching script with ``import torch`` meaning PyTorch or chainrule, drawing the same random numbers.

    python tests/parity/run_script.py chainrule tests/parity/scripts/NAME.py
    python tests/parity/run_script.py torch tests/parity/scripts/NAME.py
    python tests/parity/run_script.py torch --json tests/parity/scripts/*.py   (all, outputs as JSON)

``chainrule``: every ``torch`` and ``torch.X`` module name is an alias of ``chainrule`` and
``chainrule.X``, so ``import torch``, ``import torch.nn as nn`` and ``from torch.utils.data import
DataLoader`` load chainrule; the script runs unchanged.

``torch``: PyTorch itself. chainrule's generator is PyTorch's CPU algorithm (the same Mersenne
Twister and sampling arithmetic), so a script's random starting weights, data, dropout masks and
shuffles are the same in both runs, and their printed numbers can be compared.

Both runs seed Python's ``random``, NumPy's legacy global generator and the library's generator
with 0 before the script starts, as chainrule's global generator is otherwise seeded from entropy.
"""
import importlib
import os
import pkgutil
import random
import runpy
import sys

import numpy as np


def alias_torch_to_chainrule():
    import chainrule

    modules = {"chainrule": chainrule}
    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if info.name.endswith("__main__"):  # the command line, not a module course code imports
            continue
        try:
            modules[info.name] = importlib.import_module(info.name)
        except ImportError:  # an optional extra (graphviz, matplotlib...) that is not installed
            continue
    # and the import paths chainrule answers without a file of their own (torch.nn.modules.module)
    modules.update((name, module) for name, module in list(sys.modules.items()) if name.startswith("chainrule."))
    for name, module in modules.items():
        sys.modules["torch" + name[len("chainrule") :]] = module


def prepare(library):
    """Make ``import torch`` load ``library``; return a function that resets the random state."""
    if library == "chainrule":
        alias_torch_to_chainrule()
        import chainrule as library_module
    else:
        import torch as library_module
    library_module.set_num_threads(1)  # the tests run several processes at once

    numpy_print_options = np.get_printoptions()  # NumPy's own, which a script may change too (ch12: precision=3)

    def reset():
        """Each script starts from the same state: seeds, and the settings a script before it may
        have changed (the library's and NumPy's print options, the float32 matmul precision)."""
        random.seed(0)
        np.random.seed(0)
        np.set_printoptions(**numpy_print_options)
        library_module.manual_seed(0)
        library_module.set_printoptions(profile="default")
        library_module.set_float32_matmul_precision("highest")

    return reset


def run(script, reset):
    reset()
    sys.argv = [script]
    folder = os.path.dirname(os.path.abspath(script))
    sys.path.insert(0, folder)  # as `python script.py` puts it first: a script imports its neighbours (stepbystep/)
    try:
        runpy.run_path(script, run_name="__main__")
    finally:
        sys.path.remove(folder)


def run_each_capturing(scripts, reset):
    """Run each script in this process (one import of the library for all), as JSON
    ``{script: {"stdout": ..., "error": traceback or None}}``."""
    import contextlib
    import io
    import json
    import traceback

    results = {}
    for script in scripts:
        output = io.StringIO()
        error = None
        directory = os.getcwd()
        try:
            os.chdir(os.path.dirname(os.path.abspath(script)))
            with contextlib.redirect_stdout(output):
                run(script, reset)
        except BaseException:  # a script that fails, or calls exit(): its traceback is the result
            error = traceback.format_exc()
        finally:
            os.chdir(directory)
        results[script] = {"stdout": output.getvalue(), "error": error}
    print(json.dumps(results))


def main(library, *scripts):
    """``run_script.py LIBRARY SCRIPT`` runs one script, printing as it runs;
    ``run_script.py LIBRARY --json SCRIPT...`` runs several, printing their outputs as JSON."""
    reset = prepare(library)
    if scripts[0] == "--json":
        run_each_capturing(scripts[1:], reset)
    else:
        run(scripts[0], reset)


if __name__ == "__main__":
    main(*sys.argv[1:])
