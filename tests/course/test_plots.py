"""The plots render with the Agg backend to PNG and SVG files that exist and are not empty."""
import sys

import pytest

import chainrule
from chainrule import nn, optim
from chainrule.train import Accuracy, GradientNormMonitor, Runner
from chainrule.viz import plots

pyplot = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    pyplot.close("all")


def assert_written(path):
    assert path.exists() and path.stat().st_size > 0


def trained_runner():
    X = chainrule.randn(20, 2)
    y = (X[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 2))
    runner = Runner(model, optim.SGD(model.parameters(), lr=0.5), nn.CrossEntropyLoss(), Accuracy())
    runner.train((X, y), (X, y), num_epochs=4, log_steps=0)
    return runner, X, y


@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_plot_losses_from_a_runner(tmp_path, suffix):
    runner, _, _ = trained_runner()
    figure = plots.plot_losses(runner, path=tmp_path / f"losses.{suffix}")
    assert_written(tmp_path / f"losses.{suffix}")
    assert [axes.get_title() for axes in figure.axes] == ["Loss", f"Dev Accuracy (best {runner.best_score:.3f})"]


def test_plot_losses_from_a_list_of_numbers_or_pairs(tmp_path):
    figure = plots.plot_losses([3.0, 2.0, 1.5], path=tmp_path / "numbers.png")
    assert len(figure.axes) == 1 and list(figure.axes[0].lines[0].get_xdata()) == [1, 2, 3]
    figure = plots.plot_losses([(10, 1.0), (20, 0.5)])
    assert list(figure.axes[0].lines[0].get_xdata()) == [10, 20]
    assert_written(tmp_path / "numbers.png")


def test_plot_decision_boundary_of_a_module_and_of_a_plain_function(tmp_path):
    runner, X, y = trained_runner()
    runner.model.train()
    plots.plot_decision_boundary(runner.model, X, y, path=tmp_path / "module.png", resolution=30)
    assert runner.model.training  # drawn in eval mode, then the mode is restored
    probabilities = lambda points: chainrule.sigmoid(points[:, :1] - points[:, 1:])  # noqa: E731
    figure = plots.plot_decision_boundary(probabilities, X, y.reshape(-1, 1), path=tmp_path / "function.svg", is_logits=False, resolution=30)
    assert figure.axes[0].get_title() == "Decision boundary"
    assert_written(tmp_path / "module.png")
    assert_written(tmp_path / "function.svg")
    with pytest.raises(ValueError, match=r"\(N, 2\), got \(20, 3\)"):
        plots.plot_decision_boundary(runner.model, chainrule.zeros(20, 3), y)


def test_plot_activations_differentiates_with_autograd(tmp_path):
    figure = plots.plot_activations(["sigmoid", "relu", chainrule.tanh], path=tmp_path / "activations.png")
    assert [axes.get_title() for axes in figure.axes] == ["sigmoid", "relu", "tanh"]
    x, derivative = figure.axes[0].lines[1].get_data()
    middle = len(x) // 2  # x = 0, where the sigmoid's slope is 1/4
    assert x[middle] == pytest.approx(0.0, abs=1e-6) and derivative[middle] == pytest.approx(0.25)
    assert_written(tmp_path / "activations.png")
    with pytest.raises(ValueError, match="no activation 'swishy'"):
        plots.plot_activations(["swishy"])


def test_plot_gradient_norms_from_a_monitor_or_a_dict(tmp_path):
    runner, X, y = trained_runner()
    monitor = GradientNormMonitor(runner.model)
    runner.monitors.append(monitor)
    runner.train((X, y), num_epochs=3, log_steps=0)
    figure = plots.plot_gradient_norms(monitor, path=tmp_path / "norms.png")
    assert [line.get_label() for line in figure.axes[0].lines] == ["1 (0)", "2 (2)"]  # layers 1..L, with their module
    assert [tick.get_text() for tick in figure.axes[1].get_xticklabels()] == ["1", "2"]
    plots.plot_gradient_norms({"first": [1e-3, 2e-3], "last": [0.1, 0.2]}, path=tmp_path / "norms.svg")
    assert_written(tmp_path / "norms.png")
    assert_written(tmp_path / "norms.svg")
    with pytest.raises(ValueError, match="no norms recorded"):
        plots.plot_gradient_norms({})


def test_decision_boundary_legend_says_which_points_are_shown(tmp_path):
    runner, X, y = trained_runner()
    figure = plots.plot_decision_boundary(runner.model, X, y, path=tmp_path / "boundary.png", which_points="test points", class_names=["lower", "upper"])
    legend = figure.axes[0].get_legend()
    assert legend.get_title().get_text().startswith("test points, by true class")
    assert [text.get_text().split(" (")[0] for text in legend.get_texts()] == ["lower", "upper"]


def test_gradient_norms_of_several_networks_share_one_axis(tmp_path):
    figure = plots.plot_gradient_norm_comparison(
        {"sigmoid": {"0": 1e-4, "2": 1e-2}, "ReLU": {"0": 1e-2, "2": 2e-2}}, path=tmp_path / "compared.png"
    )
    assert len(figure.axes) == 1 and [line.get_label() for line in figure.axes[0].lines] == ["sigmoid", "ReLU"]
    assert figure.axes[0].get_yscale() == "log" and list(figure.axes[0].get_xticks()) == [1, 2]
    assert_written(tmp_path / "compared.png")


def test_without_matplotlib_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"plots need matplotlib: pip install 'chainrule\[plot\]'"):
        plots.plot_losses([1.0])
