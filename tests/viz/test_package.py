"""``import chainrule.viz`` needs neither graphviz nor matplotlib; the plot functions load on first use;
the README's viz example runs with neither Graphviz nor its Python package."""
import subprocess
import sys

import pytest


def test_importing_viz_loads_no_optional_dependency():
    code = "import sys, chainrule.viz; print(sorted(m for m in ('graphviz', 'matplotlib', 'playwright') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_plot_functions_are_exported_lazily():
    import chainrule.viz

    assert {"plot_losses", "plot_decision_boundary", "plot_activations", "plot_gradient_norms"} <= set(dir(chainrule.viz))
    assert "plot_losses" not in chainrule.viz.__all__  # ``import *`` stays free of matplotlib
    with pytest.raises(AttributeError, match="no attribute 'plot_everything'"):
        chainrule.viz.plot_everything


def test_the_readme_seeing_backprop_example_runs_without_graphviz(tmp_path):
    """The README's install (``pip install -e ".[all]"``) brings no ``dot`` and no graphviz is needed."""
    from pathlib import Path
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    (block,) = [source for source in re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL) if "trace_backward" in source]
    code = "import sys; sys.modules['graphviz'] = None\n" + block
    environment = {"PATH": str(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "a.grad = 3" in result.stdout and "dv/db = c = 2" in result.stdout
    assert (tmp_path / "J.svg").read_text(encoding="utf-8").startswith("<svg") and (tmp_path / "J.html").exists()
