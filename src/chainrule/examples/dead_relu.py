"""Dead ReLU: the 5-layer ReLU network with every bias set to -8, and LeakyReLU as the remedy.

With biases of -8 every unit's input is negative for every sample, so every ReLU outputs 0 and
passes back a gradient of exactly 0: no weight before the last layer ever changes, and the units
stay dead. LeakyReLU keeps a small slope (0.01) for negative inputs, so a small gradient still
flows; Adam scales small gradients up to full-size steps, the biases climb, and the units come
back to life. ``dead_relu_fractions`` counts the units that are 0 for every sample of a batch.
"""
import chainrule as torch
from chainrule import nn, optim
from chainrule.examples._data import moons
from chainrule.examples._report import Report
from chainrule.examples.vanishing_gradients import deep_network
from chainrule.train import Accuracy, GradientNormMonitor, Runner, dead_relu_fractions
from chainrule.viz.plots import plot_decision_boundary, plot_losses

BIAS = -8.0


def main(out=None, quick=False):
    report = Report("Dead ReLU units, and LeakyReLU as the remedy", out)
    torch.manual_seed(0)
    n_samples, num_epochs = (200, 100) if quick else (1000, 300)
    train_data, dev_data, test_data = moons(n_samples)
    results = {}
    for activation in (nn.ReLU, nn.LeakyReLU):
        name = activation.__name__
        model = deep_network(activation)
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.constant_(layer.bias, BIAS)
        dead_before = dead_relu_fractions(model, train_data[0], activation_types=(activation,))
        monitor = GradientNormMonitor(model)
        runner = Runner(model, optim.Adam(model.parameters(), lr=0.05), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[monitor])
        report.say(f"\n{name}, all biases {BIAS}: dead fraction per layer before training {_format(dead_before)}")
        runner.train(train_data, dev_data, num_epochs=num_epochs, log_steps=0)
        dead_after = dead_relu_fractions(model, train_data[0], activation_types=(activation,))
        first_layer = next(iter(monitor.norms))
        first_gradient = monitor.norms[first_layer][0]
        test_accuracy, _ = runner.evaluate(test_data)
        report.say(f"  first layer's gradient norm at step 1: {first_gradient:.3e}")
        report.say(f"  dead fraction per layer after {num_epochs} epochs: {_format(dead_after)}")
        report.say(f"  test accuracy {test_accuracy:.4f}")
        report.figure(f"loss_{name.lower()}.png", plot_losses, runner)
        report.figure(f"boundary_{name.lower()}.png", plot_decision_boundary, model, *test_data, title=name)
        results[name.lower()] = {
            "dead_before": dead_before,
            "dead_after": dead_after,
            "first_layer_gradient_at_step_1": first_gradient,
            "test_accuracy": test_accuracy,
        }
    report.write(results)
    return results


def _format(fractions):
    return ", ".join(f"{layer}: {fraction:.2f}" for layer, fraction in fractions.items())


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("dead_relu"))
