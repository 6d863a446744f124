"""Vanishing gradients: a 5-layer sigmoid network against the same network with ReLU.

Backward multiplies the gradient, layer after layer, by each activation's derivative. The
sigmoid's is at most 1/4, so after a few layers little is left: the layers near the input get
gradients hundreds of times smaller than the last one and barely learn. ReLU's derivative is 1
wherever a unit is active, so its gradients keep their size. A ``GradientNormMonitor`` records each
layer's gradient norm at every step; the ratio first layer / last layer measures the vanishing.
"""
import chainrule as torch
from chainrule import nn, optim
from chainrule.examples._data import moons
from chainrule.examples._report import Report
from chainrule.train import Accuracy, GradientNormMonitor, Runner
from chainrule.viz.plots import plot_activations, plot_gradient_norm_comparison, plot_gradient_norms

WIDTH = 16


def deep_network(activation):
    """Five linear layers 2 -> 16 -> 16 -> 16 -> 16 -> 1, ``activation`` after each hidden one."""
    sizes = [2, WIDTH, WIDTH, WIDTH, WIDTH, 1]
    layers = []
    for index, (size_in, size_out) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(size_in, size_out))
        if index < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def main(out=None, quick=False):
    report = Report("Vanishing gradients: sigmoid against ReLU", out)
    torch.manual_seed(0)
    n_samples, num_epochs = (300, 20) if quick else (1000, 50)
    train_data, dev_data, _ = moons(n_samples)
    report.figure("activations.png", plot_activations, ["sigmoid", "relu"])
    results = {}
    for activation in (nn.Sigmoid, nn.ReLU):
        name = activation.__name__
        model = deep_network(activation)
        monitor = GradientNormMonitor(model)
        runner = Runner(model, optim.SGD(model.parameters(), lr=0.01), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[monitor])
        runner.train(train_data, dev_data, num_epochs=num_epochs, log_steps=0)
        # Layers numbered 1..L from the input, not by their position in the Sequential (0, 2, 4, ...).
        means = {f"layer {number}": norm for number, norm in enumerate(monitor.mean_norms().values(), start=1)}
        norms = list(means.values())
        ratio = norms[0] / norms[-1]
        results[name.lower()] = {"ratio_first_to_last": ratio, "mean_norms": means}
        report.figure(f"gradient_norms_{name.lower()}.png", plot_gradient_norms, monitor, title=f"{name}: gradient norm per layer")
    report.say("\nMean gradient norm per layer over training, layer 1 next to the input:")
    report.table(["layer", "sigmoid", "ReLU"], [[layer, f"{results['sigmoid']['mean_norms'][layer]:.3e}", f"{results['relu']['mean_norms'][layer]:.3e}"] for layer in results["sigmoid"]["mean_norms"]])
    report.table(["", "sigmoid", "ReLU"], [["first layer / last layer", f"{results['sigmoid']['ratio_first_to_last']:.2e}", f"{results['relu']['ratio_first_to_last']:.2e}"]])
    report.figure(
        "gradient_norms_compared.png",
        plot_gradient_norm_comparison,
        {"sigmoid": results["sigmoid"]["mean_norms"], "ReLU": results["relu"]["mean_norms"]},
        title="Mean gradient norm per layer: sigmoid against ReLU",
    )
    report.say(
        f"\nThe sigmoid network's first layer gets {results['sigmoid']['ratio_first_to_last']:.1e} of the "
        f"last layer's gradient; the ReLU network's {results['relu']['ratio_first_to_last']:.1e}."
    )
    report.write(results)
    return results


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("vanishing_gradients"))
