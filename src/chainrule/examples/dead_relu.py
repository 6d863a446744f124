"""Dead ReLU: the 5-layer ReLU network with every bias set to -8, and LeakyReLU as the remedy.

With biases of -8 every unit's input is negative for every sample, so every ReLU outputs 0 and
passes back a gradient of exactly 0: no weight before the last layer ever changes, the units stay
dead and the network guesses (about 50% on two moons). LeakyReLU keeps a slope (0.1 here) for
negative inputs, so a small gradient still flows; Adam scales small gradients up to full-size steps,
the biases climb, the units come back to life and the network learns the moons. A healthy ReLU
network (default initialization) is trained alongside as the reference. ``dead_relu_fractions``
counts the units that are 0 for every sample of a batch.
"""
import functools

import chainrule as torch
from chainrule import nn, optim
from chainrule.examples._data import moons
from chainrule.examples._report import Report
from chainrule.examples.vanishing_gradients import deep_network
from chainrule.train import Accuracy, GradientNormMonitor, Runner, dead_relu_fractions
from chainrule.viz.plots import plot_decision_boundary, plot_losses

BIAS = -8.0
NEGATIVE_SLOPE = 0.1  # 0.01 revives the units too, but slowly: its first steps are 10x smaller
LEARNING_RATE = 0.01  # Adam; 0.05 revives faster but overshoots, with a spike in the loss


def main(out=None, quick=False):
    report = Report("Dead ReLU units, and LeakyReLU as the remedy", out)
    torch.manual_seed(0)
    n_samples, num_epochs = (300, 800) if quick else (1000, 1000)
    train_data, dev_data, test_data = moons(n_samples)
    leaky = functools.partial(nn.LeakyReLU, NEGATIVE_SLOPE)
    runs = (("relu", "ReLU, biases -8", nn.ReLU, BIAS), ("leakyrelu", f"LeakyReLU({NEGATIVE_SLOPE}), biases -8", leaky, BIAS), ("healthy", "ReLU, default init", nn.ReLU, None))
    results = {}
    for key, label, activation, bias in runs:
        torch.manual_seed(2)
        model = deep_network(activation)
        activation_type = nn.LeakyReLU if activation is leaky else nn.ReLU
        if bias is not None:
            for layer in model:
                if isinstance(layer, nn.Linear):
                    nn.init.constant_(layer.bias, bias)
        dead_before = dead_relu_fractions(model, train_data[0], activation_types=(activation_type,))
        monitor = GradientNormMonitor(model)
        runner = Runner(model, optim.Adam(model.parameters(), lr=LEARNING_RATE), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[monitor])
        runner.train(train_data, dev_data, num_epochs=num_epochs, log_steps=0)
        dead_after = dead_relu_fractions(model, train_data[0], activation_types=(activation_type,))
        test_accuracy, _ = runner.evaluate(test_data)
        results[key] = {
            "dead_before": dead_before,
            "dead_after": dead_after,
            "first_layer_gradient_at_step_1": monitor.norms[next(iter(monitor.norms))][0],
            "test_accuracy": test_accuracy,
        }
        report.figure(f"loss_{key}.png", plot_losses, runner)
        report.figure(f"boundary_{key}.png", plot_decision_boundary, model, *test_data, title=f"{label}: test accuracy {test_accuracy:.0%}", which_points="test points")
    report.say(f"\nAfter {num_epochs} epochs of Adam (lr {LEARNING_RATE}) on {n_samples} two-moons samples:")
    report.table(
        ["network", "dead units before", "dead units after", "layer 1 gradient, step 1", "test accuracy"],
        [
            [label, _format(results[key]["dead_before"]), _format(results[key]["dead_after"]), f"{results[key]['first_layer_gradient_at_step_1']:.2e}", f"{results[key]['test_accuracy']:.1%}"]
            for key, label, _, _ in runs
        ],
    )
    report.say(
        f"\nLeakyReLU brings the dead network from {results['relu']['test_accuracy']:.0%} (a guess) to "
        f"{results['leakyrelu']['test_accuracy']:.0%}; the healthy network reaches {results['healthy']['test_accuracy']:.0%}."
    )
    report.write(results)
    return results


def _format(fractions):
    """Dead fraction per hidden layer, numbered 1.. from the input: ``1.00 1.00 0.94 0.00``."""
    return " ".join(f"{fraction:.2f}" for fraction in fractions.values())


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("dead_relu"))
