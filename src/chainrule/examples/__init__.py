"""The course, end to end: each example is a short module you can read, run and change.

Run one with ``chainrule demo NAME`` (or ``python -m chainrule.examples.NAME``); it prints what it
does as it goes and writes its figures and a ``report.md`` into an output folder. From Python,
``chainrule.examples.<name>.main(out=None, quick=False)`` returns the example's results as a dict.

``list_demos()`` and ``run_demo()`` are what the ``chainrule demo`` command calls.
"""
import argparse
import importlib
import os
import sys

#: The examples in the course's order: demo ``k`` is ``DEMOS[k - 1]``.
DEMOS = (
    "linear_model",
    "quadratic_gradients",
    "two_layer_graph",
    "two_moons",
    "initialization",
    "vanishing_gradients",
    "dead_relu",
    "iris",
    "digits",
    "cnn_digits",
    "data_parallel",
    "compiled_step",
)


def _module(name):
    return importlib.import_module(f"chainrule.examples.{name}")


def summary(name):
    """The first line of the example's docstring: what it shows."""
    return _module(name).__doc__.strip().splitlines()[0]


def list_demos():
    """``[(name, one-line summary)]`` for every example, in the course's order."""
    return [(name, summary(name)) for name in DEMOS]


def resolve(name):
    """The example called ``name``: its module name, a dashed form (``two-moons``) or its number."""
    candidate = str(name).strip().replace("-", "_")
    if candidate.isdigit() and 1 <= int(candidate) <= len(DEMOS):
        return DEMOS[int(candidate) - 1]
    return candidate if candidate in DEMOS else None


def run_demo(name, out=None, quick=False):
    """Run the example ``name``, writing its figures and report into ``out``; the exit code.

    ``out`` defaults to ``./chainrule-demo-NAME``; ``quick`` runs it on smaller sizes.
    """
    module_name = resolve(name)
    if module_name is None:
        print(
            f"chainrule demo: no example named {name!r}; choose one of {', '.join(DEMOS)} "
            f"(or its number 1-{len(DEMOS)}); `chainrule demo --list` describes them",
            file=sys.stderr,
        )
        return 2
    out = os.path.abspath(out if out is not None else f"chainrule-demo-{module_name}")
    print(f"chainrule demo {module_name}{' (quick)' if quick else ''}: {summary(module_name)}\n")
    _module(module_name).main(out=out, quick=quick)
    written = sorted(os.listdir(out)) if os.path.isdir(out) else []
    print(f"\nFigures and report in {out}:")
    for file_name in written:
        print(f"  {file_name}")
    return 0


def run_as_script(name, argv=None):
    """What ``python -m chainrule.examples.NAME [--out DIR] [--quick]`` does: ``run_demo``."""
    parser = argparse.ArgumentParser(prog=f"python -m chainrule.examples.{name}", description=summary(name))
    parser.add_argument("--out", default=None, help=f"output folder (default: ./chainrule-demo-{name})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")
    args = parser.parse_args(argv)
    return run_demo(name, out=args.out, quick=args.quick)
