"""Handwritten digits with a small convolutional network: 97% and more on unseen digits.

The 8x8 images keep their shape, (N, 1, 8, 8), instead of being flattened: two 3x3 convolutions
(16 and 32 channels), each followed by a ReLU and 2x2 max pooling, find strokes and their
combinations wherever they are in the image; a linear layer reads the 32 maps of 2x2 left. Adam,
mini-batches of 32, the best model by dev accuracy kept, as in the MLP example. The figures show
what the network learned: its first-layer kernels, the feature maps of one digit, and which
digits it confuses.
"""
import chainrule as torch
from chainrule import nn, optim
from chainrule.datasets import load_digits
from chainrule.examples._data import split
from chainrule.examples._report import Report
from chainrule.examples.iris import train_and_test
from chainrule.train.metrics import ConfusionMatrix


def make_model():
    """(N, 1, 8, 8) -> 16 maps of 8x8 -> pooled 4x4 -> 32 maps of 4x4 -> pooled 2x2 -> 10 scores."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10),
    )


def main(out=None, quick=False):
    report = Report("Digits: a convolutional network", out)
    torch.manual_seed(0)
    X, y = load_digits(normalize=True, images=True)  # each pixel standardized, as images (N, 1, 8, 8)
    model = make_model()
    report.say(f"the model:\n{model}")
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    num_epochs = 10 if quick else 20
    splits = split(X, y, 0.7, 0.15)
    _, results = train_and_test(report, model, optimizer, splits, batch_size=32, num_epochs=num_epochs)

    if out is not None:
        from chainrule.viz.images import plot_confusion_matrix, plot_feature_maps, plot_kernels

        test_images, test_labels = splits[2]
        model.eval()
        with torch.no_grad():
            confusion = ConfusionMatrix(num_classes=10)
            confusion.update(model(test_images), test_labels)
            first_maps = model[1](model[0](test_images[:1]))[0]  # after the first conv and its ReLU
        report.figure("kernels.png", plot_kernels, model[0].weight, title="The 16 learned 3x3 kernels of the first layer")
        digit = int(test_labels[0])
        report.figure(
            "feature_maps.png", plot_feature_maps, test_images[0, 0], first_maps,
            title=f"A test digit ({digit}) and the first layer's 16 feature maps (after ReLU)",
        )
        report.figure("confusion.png", plot_confusion_matrix, confusion.accumulate(), title="Test set: true digit (rows) vs predicted")
    report.write(results)
    return results


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("cnn_digits"))
