"""The layer view: δ and weight gradients from autograd in the notation of the delta rule, and a page
that fits 1366x768, recomputes the same numbers as chainrule when the student edits, and trains."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.viz.network import course_network, explore_network, network_data, network_layers
from tests.viz.test_explorer import ARTIFACTS

WINDOW = {"width": 1366, "height": 768}


def torch_deltas(data):
    """δ = dE/d(net input) and dE/dW for each layer, by PyTorch on the same weights."""
    output = torch.tensor(data["x"], dtype=torch.float64)
    nets, weights = [], []
    for layer in data["layers"]:
        weight = torch.tensor(layer["weight"], dtype=torch.float64, requires_grad=True)
        net = weight @ output + torch.tensor(layer["bias"], dtype=torch.float64)
        net.retain_grad()
        output = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "identity": lambda z: z}[layer["activation"]](net)
        nets.append(net)
        weights.append(weight)
    (0.5 * ((output - torch.tensor(data["t"], dtype=torch.float64)) ** 2).sum()).backward()
    return [net.grad.numpy() for net in nets], [weight.grad.numpy() for weight in weights]


def test_course_network_deltas_follow_the_delta_rule_and_equal_pytorch():
    model, x, t = course_network()
    data = network_data(model, x, t, lr=0.5)
    computed = data["autograd"]
    assert computed["error"] == pytest.approx(0.298371109, abs=1e-6)
    output, hidden = (np.array(values) for values in (computed["outputs"][1], computed["outputs"][0]))
    delta_output = (output - np.array(data["t"])) * output * (1 - output)  # δ_k = (O_k - t_k) O_k (1 - O_k)
    np.testing.assert_allclose(computed["deltas"][1], delta_output, rtol=1e-5)
    w2 = np.array(data["layers"][1]["weight"])
    np.testing.assert_allclose(computed["deltas"][0], hidden * (1 - hidden) * (w2.T @ delta_output), rtol=1e-5)  # δ_j
    np.testing.assert_allclose(computed["weight_grads"][1], np.outer(delta_output, hidden), rtol=1e-5)  # dE/dw_jk = O_j δ_k
    torch_delta, torch_weight_grads = torch_deltas(data)
    for ours, theirs in zip(computed["deltas"] + computed["weight_grads"], torch_delta + torch_weight_grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-8)
    assert computed["error_after_step"] < computed["error"]
    assert model[0].weight.grad is None  # the model itself is left untouched


def test_only_linear_layers_and_elementwise_activations_are_drawn():
    assert [activation for _, activation in network_layers(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)))] == ["tanh", "identity"]
    with pytest.raises(TypeError, match="cannot show Softmax"):
        network_layers(nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=0)))
    with pytest.raises(TypeError, match="nn.Sequential"):
        network_layers(nn.Linear(2, 2))
    model, x, t = course_network()
    with pytest.raises(ValueError, match=r"x of shape \(2,\)"):
        network_data(model, chainrule.tensor([1.0, 2.0, 3.0]), t)


def open_network_page(browser, path):
    page = browser.new_page(viewport=WINDOW)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(Path(path).resolve().as_uri())
    return page, errors


def fits_the_window(page):
    return page.evaluate(
        """() => {
        const inside = rect => rect.left >= 0 && rect.top >= 0 && rect.right <= innerWidth + 0.5 && rect.bottom <= innerHeight + 0.5;
        const boxes = [...document.querySelectorAll('.neuron, .weight text, header, aside')].map(node => node.getBoundingClientRect());
        return document.documentElement.scrollWidth <= innerWidth && document.documentElement.scrollHeight <= innerHeight && boxes.every(inside);
    }"""
    )


def page_deltas(page, layers):
    return [
        np.array([json.loads(page.get_attribute(f"#n-{n}-{j}", "data-delta")) for j in range(min(size, 5))])
        for n, size in enumerate(layers, start=1)
    ]


def test_page_shows_the_deltas_of_autograd_and_fits_the_window_at_every_step(browser, tmp_path):
    model, x, t = course_network()
    data = network_data(model, x, t)
    page, errors = open_network_page(browser, explore_network(model, x, t, tmp_path / "network.html"))
    assert fits_the_window(page)
    steps = int(page.text_content("#counter").split()[-1])
    for step in range(steps):
        page.click("#next")
        assert fits_the_window(page), f"step {step + 1} does not fit 1366x768"
        if step == 3:  # the output layer's deltas: the status shows the delta rule with numbers
            status = page.text_content("#status")
            assert "δ_k = (O_k − t_k) f'(x_k)" in status and "δ₁ = (0.7514 − 0.01) · 0.7514 · (1 − 0.7514) = 0.1385" in status
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "network_output_deltas.png"))
    for ours, expected in zip(page_deltas(page, [2, 2]), data["autograd"]["deltas"]):
        np.testing.assert_allclose(ours, expected, rtol=1e-12)  # the page shows autograd's numbers
    assert "dE/dw2[j, k] = O_j δ_k" not in page.text_content("#status")  # the last step is the update
    assert "E = 0.2984 before the step, 0.2805 after it" in page.text_content("#status")
    assert "chainrule's autograd" in page.text_content("#source")
    assert errors == []


def test_editing_recomputes_the_numbers_chainrule_computes_and_training_lowers_the_error(browser, tmp_path):
    chainrule.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 2))
    page, errors = open_network_page(browser, explore_network(model, chainrule.randn(3), chainrule.randn(2), tmp_path / "net.html"))
    page.click("#to-end")
    generator = np.random.default_rng(12)
    for _ in range(3):
        x, t, lr = generator.normal(size=3), generator.normal(size=2), float(generator.uniform(0.05, 1))
        page.fill("#input-x", ", ".join(repr(float(value)) for value in x))
        page.fill("#input-t", ", ".join(repr(float(value)) for value in t))
        page.fill("#input-lr", repr(lr))
        page.click("#recompute")
        expected = network_data(model, chainrule.tensor(x), chainrule.tensor(t), lr)["autograd"]
        for ours, theirs in zip(page_deltas(page, [4, 6, 2]), expected["deltas"]):
            np.testing.assert_allclose(ours, np.array(theirs)[: len(ours)], rtol=1e-4, atol=1e-6)
        weight_grad = json.loads(page.get_attribute("#w-2-1-3", "data-grad"))  # dE/dw2[2, 4] = O_2 δ_4
        assert weight_grad == pytest.approx(expected["weight_grads"][1][3][1], rel=1e-4, abs=1e-6)
    assert "Recomputed in the page" in page.text_content("#source")
    for _ in range(5):
        page.click("#train")
    errors_shown = [float(value) for value in page.text_content("#losses").removeprefix("E: ").split(" → ")]
    assert len(errors_shown) == 6 and errors_shown[-1] < errors_shown[0]
    page.fill("#input-x", "1, 2")
    page.click("#recompute")
    assert "x needs 3 numbers" in page.text_content("#error-message")
    assert fits_the_window(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "network_trained.png"))
    assert errors == []
