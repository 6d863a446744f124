"""Iris with mini-batch gradient descent: DataLoader, Runner, evaluation during training, best model kept.

The course's section 4.6. The 150 flowers are split 60% / 20% / 20% into training, dev and test
sets; a ``DataLoader`` serves the training set in shuffled mini-batches of 16. The network
4 -> 6 -> 3 ends without a softmax: ``nn.CrossEntropyLoss`` applies it (log-softmax) itself, in a
numerically stable way. The Runner evaluates on the dev set as it trains, saves the model each time
the dev accuracy improves, and the best model is loaded back to be tested on flowers it never saw.
"""
import os
import tempfile

import chainrule as torch
from chainrule import nn, optim
from chainrule.datasets import load_iris
from chainrule.datasets.iris import IRIS_CLASS_NAMES
from chainrule.examples._data import split
from chainrule.examples._report import Report
from chainrule.train import F1, Accuracy, ConfusionMatrix, Runner
from chainrule.utils.data import DataLoader, TensorDataset
from chainrule.viz.plots import plot_losses


def train_and_test(report, model, optimizer, splits, batch_size, num_epochs, eval_steps=None, class_names=None):
    """Train with mini-batches, keep the best model by dev accuracy, then test it; the confusion
    matrix is printed as a table with ``class_names`` (by default the class numbers).

    Returns ``(runner, results)``; the best model is saved as ``best_model.pt`` in the output
    folder (a temporary one when there is none).
    """
    train_data, dev_data, test_data = splits
    train_loader = DataLoader(TensorDataset(*train_data), batch_size=batch_size, shuffle=True)
    dev_loader = DataLoader(TensorDataset(*dev_data), batch_size=batch_size)
    runner = Runner(model, optimizer, nn.CrossEntropyLoss(), Accuracy())
    report.say(
        f"{len(train_data[0])} training, {len(dev_data[0])} dev, {len(test_data[0])} test samples; "
        f"{len(train_loader)} mini-batches of {batch_size} per epoch, {num_epochs} epochs"
    )
    with tempfile.TemporaryDirectory() as scratch:
        save_path = report.path("best_model.pt") or os.path.join(scratch, "best_model.pt")
        total_steps = num_epochs * len(train_loader)
        runner.train(
            train_loader,
            dev_loader,
            num_epochs=num_epochs,
            log_steps=max(total_steps // 10, 1),
            eval_steps=eval_steps,
            save_path=save_path,
        )
        runner.load_model(save_path)
    test_accuracy, test_loss = runner.evaluate(test_data)
    outputs = runner.predict(test_data[0])
    confusion, f1 = ConfusionMatrix(num_classes=outputs.shape[1]), F1(average="macro")
    confusion.update(outputs, test_data[1])
    f1.update(outputs, test_data[1])
    report.say(f"best dev accuracy {runner.best_score:.4f}; the best model on the test set: accuracy {test_accuracy:.4f}, loss {test_loss:.4f}")
    report.say("Test confusion matrix: one row per true class, one column per predicted class:")
    counts = confusion.accumulate().tolist()
    names = list(class_names) if class_names is not None else [str(index) for index in range(len(counts))]
    report.table(["true \\ predicted", *names], [[name, *(int(count) for count in row)] for name, row in zip(names, counts)])
    report.figure("training.png", plot_losses, runner)
    results = {
        "best_dev_accuracy": runner.best_score,
        "test_accuracy": test_accuracy,
        "test_f1_macro": f1.accumulate(),
        "evaluations": len(runner.dev_scores),
    }
    return runner, results


def main(out=None, quick=False):
    report = Report("Iris: mini-batches, a Runner, the best model kept", out)
    torch.manual_seed(0)
    X, y = load_iris(normalize=True)
    model = nn.Sequential(nn.Linear(4, 6), nn.Sigmoid(), nn.Linear(6, 3))
    optimizer = optim.SGD(model.parameters(), lr=0.2)
    num_epochs = 80 if quick else 150
    splits = split(X, y, 0.6, 0.2)
    _, results = train_and_test(report, model, optimizer, splits, batch_size=16, num_epochs=num_epochs, eval_steps=50, class_names=IRIS_CLASS_NAMES)
    report.write(results)
    return results


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("iris"))
