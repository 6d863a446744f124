"""Each course example, run at reduced size, reaches the result it is there to show."""
import pytest

from chainrule.examples import (
    DEMOS,
    dead_relu,
    digits,
    initialization,
    iris,
    linear_model,
    list_demos,
    quadratic_gradients,
    resolve,
    two_layer_graph,
    two_moons,
    vanishing_gradients,
)


def test_linear_model_learns_w_equal_2():
    results = linear_model.main(quick=True)
    assert results["w"] == pytest.approx(2.0, abs=1e-3)
    assert results["prediction_at_4"] == pytest.approx(8.0, abs=1e-2)


def test_hand_derived_gradients_equal_autograds_and_the_fit_predicts_21():
    results = quadratic_gradients.main(quick=True)
    assert results["max_gradient_difference"] < 1e-4  # float32 rounding, at every one of 300 steps
    assert results["prediction_at_4"] == pytest.approx(21.0, abs=0.1)


def test_two_layer_graph_has_85_parameters_and_exact_gradients():
    results = two_layer_graph.main(quick=True)
    assert results["parameters"] == 85 and results["grad_shapes_match"]
    assert results["max_difference_to_finite_differences"] < 1e-6


def test_two_moons_by_hand_and_with_autograd_agree(tmp_path):
    results = two_moons.main(out=tmp_path, quick=True)
    assert results["max_gradient_difference"] < 1e-6
    assert results["weight_difference_after_training"] < 1e-3
    assert results["test_accuracy_by_hand"] == results["test_accuracy_autograd"] >= 0.85
    for name in ("boundary_by_hand.png", "boundary_autograd.png", "training.png", "report.md"):
        assert (tmp_path / name).stat().st_size > 0
    assert "![boundary_autograd.png](boundary_autograd.png)" in (tmp_path / "report.md").read_text()


def test_zero_initialization_is_detected_as_symmetric():
    results = initialization.main(quick=True)
    assert results["zeros"]["symmetric_rows"] == {"0.weight": [[0, 1, 2, 3, 4]]}
    assert results["normal"]["symmetric_rows"] == {} and results["uniform"]["symmetric_rows"] == {}
    assert results["normal"]["test_accuracy"] > results["zeros"]["test_accuracy"] + 0.05


def test_sigmoid_gradients_vanish_and_relu_gradients_do_not():
    results = vanishing_gradients.main(quick=True)
    sigmoid, relu = results["sigmoid"]["ratio_first_to_last"], results["relu"]["ratio_first_to_last"]
    assert sigmoid < 0.05 and relu > 10 * sigmoid
    norms = list(results["sigmoid"]["mean_norms"].values())
    assert norms[0] < norms[-1]


def test_dead_relu_units_stay_dead_and_leaky_relu_revives_them():
    results = dead_relu.main(quick=True)
    relu, leaky = results["relu"], results["leakyrelu"]
    assert set(relu["dead_before"].values()) == {1.0} and set(relu["dead_after"].values()) == {1.0}
    assert relu["first_layer_gradient_at_step_1"] == 0.0 and leaky["first_layer_gradient_at_step_1"] > 0.0
    assert max(leaky["dead_after"].values()) < 0.5
    assert leaky["test_accuracy"] > relu["test_accuracy"] + 0.1


def test_iris_reaches_90_percent_on_the_test_set(tmp_path):
    results = iris.main(out=tmp_path, quick=True)
    assert results["test_accuracy"] >= 0.9
    assert results["evaluations"] >= 2
    assert (tmp_path / "best_model.pt").stat().st_size > 0 and (tmp_path / "training.png").stat().st_size > 0


def test_digits_reach_95_percent_on_the_test_set():
    assert digits.main(quick=True)["test_accuracy"] >= 0.95


def test_every_demo_is_listed_with_a_summary_and_found_by_name_or_number():
    listed = list_demos()
    assert [name for name, _ in listed] == list(DEMOS)
    assert all(summary and not summary.endswith(" ") for _, summary in listed)
    assert resolve("4") == resolve("two-moons") == "two_moons"
    assert resolve(str(len(DEMOS) + 1)) is None and resolve("nothing") is None
