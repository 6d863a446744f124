"""Zero initialization and its symmetry, next to Gaussian and uniform initialization.

When every weight starts at 0, every hidden unit computes the same output and receives the same
gradient, so the units stay identical however long we train: the hidden layer acts as one unit.
A ``SymmetryMonitor`` watches the rows of each weight matrix (one row per unit) during training and
flags those that never became different. Random initialization, Gaussian or uniform, breaks the
symmetry at the start, and the network learns the curved boundary.
"""
import chainrule as torch
from chainrule import nn, optim
from chainrule.examples._data import moons
from chainrule.examples._report import Report
from chainrule.train import Accuracy, Runner, SymmetryMonitor
from chainrule.viz.plots import plot_decision_boundary

INITIALIZERS = {
    "zeros": nn.init.zeros_,
    "normal": lambda tensor: nn.init.normal_(tensor, mean=0.0, std=1.0),
    "uniform": lambda tensor: nn.init.uniform_(tensor, -1.0, 1.0),
}


def make_model(initialize):
    """2 -> 5 -> 1 with sigmoids, as in the course; ``initialize`` fills weights and biases."""
    model = nn.Sequential(nn.Linear(2, 5), nn.Sigmoid(), nn.Linear(5, 1))
    for parameter in model.parameters():
        initialize(parameter)
    return model


def main(out=None, quick=False):
    report = Report("Zero initialization and its symmetry", out)
    torch.manual_seed(0)
    n_samples, num_epochs = (500, 800) if quick else (1000, 1000)
    train_data, dev_data, test_data = moons(n_samples)
    results = {}
    for init_name, initialize in INITIALIZERS.items():
        model = make_model(initialize)
        symmetry = SymmetryMonitor(model)
        runner = Runner(model, optim.SGD(model.parameters(), lr=5.0), nn.BCEWithLogitsLoss(), Accuracy(), monitors=[symmetry])
        report.say(f"\n{init_name} initialization: training {num_epochs} epochs")
        runner.train(train_data, dev_data, num_epochs=num_epochs, log_steps=0)
        test_accuracy, _ = runner.evaluate(test_data)
        flagged = symmetry.flagged
        report.say(f"  test accuracy {test_accuracy:.4f}")
        if flagged:
            for name, groups in flagged.items():
                report.say(f"  {name}: rows {groups} stayed identical through training")
            report.say("  the hidden layer's weights after training (one row per hidden unit):")
            report.block(_format_rows(model[0].weight))
        else:
            report.say("  no weight rows stayed identical: the symmetry was broken")
        report.figure(f"boundary_{init_name}.png", plot_decision_boundary, model, *test_data, title=f"{init_name} initialization")
        results[init_name] = {"test_accuracy": test_accuracy, "symmetric_rows": flagged}
    report.write(results)
    return results


def _format_rows(weight):
    return "\n".join("  ".join(f"{value:+.4f}" for value in row) for row in weight.tolist())


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("initialization"))
