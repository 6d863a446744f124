"""``import chainrule.viz`` needs neither graphviz nor matplotlib; the plot functions load on first use."""
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
