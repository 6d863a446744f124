"""The Runner case that tests/distributed/test_launched.py runs on one process and under DDP."""
import chainrule as torch
from chainrule import nn
from chainrule.datasets import load_iris
from chainrule.train import Accuracy, Runner


def iris_case(wrap=lambda model: model):
    """``(model, optimizer, runner, train_data, dev_data)``: 120 training and 30 dev flowers."""
    torch.manual_seed(0)
    X, y = load_iris(normalize=True)
    X = X.double()
    order = torch.randperm(150)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    runner = Runner(wrap(model), optimizer, nn.CrossEntropyLoss(), Accuracy())
    return model, optimizer, runner, (X[order[:120]], y[order[:120]]), (X[order[120:]], y[order[120:]])


def histories(runner, model):
    return {
        "train_step_losses": [loss for _, loss in runner.train_step_losses],
        "dev_losses": [loss for _, loss in runner.dev_losses],
        "dev_scores": runner.dev_scores,
        "best_score": runner.best_score,
        "weights": [parameter.tolist() for parameter in model.parameters()],
    }
