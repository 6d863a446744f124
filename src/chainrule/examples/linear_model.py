"""The lecture's linear model y = w * x, trained by hand with w.data updates and w.grad.data.zero_().

The smallest complete training loop: one weight, three points on y = 2x. Each loss builds a new
graph; ``backward()`` fills ``w.grad`` and frees the graph; the update goes through ``w.data`` so it
is not recorded; and the gradient is cleared, or the next backward would add to it.
"""
import chainrule as torch
from chainrule.datasets import make_linear
from chainrule.examples._report import Report
from chainrule.viz.plots import plot_losses


def forward(x, w):
    return x * w


def loss_of(x, y, w):
    prediction = forward(x, w)
    return (prediction - y) ** 2


def main(out=None, quick=False):
    report = Report("Linear model y = w * x, trained by hand", out)
    torch.manual_seed(0)
    x_data, y_data = make_linear()  # x = [1, 2, 3], y = [2, 4, 6]
    w = torch.tensor([1.0], requires_grad=True)
    learning_rate = 0.01
    num_epochs = 30 if quick else 100

    report.say(f"predict (before training): x = 4 -> {forward(4.0, w).item():.4f}")
    epoch_losses = []
    for epoch in range(num_epochs):
        for x, y in zip(x_data, y_data):
            loss = loss_of(x, y, w)
            loss.backward()  # d loss / d w = 2 x (x w - y), stored in w.grad
            if epoch < 2:
                report.say(f"  grad: x = {x.item():.1f}, y = {y.item():.1f}, d loss / d w = {w.grad.item():.4f}")
            w.data = w.data - learning_rate * w.grad.data  # through .data: not part of any graph
            w.grad.data.zero_()  # or the next backward adds its gradient to this one
        # .item(): a Python number; summing loss tensors instead would keep every graph alive
        epoch_losses.append(loss.item())
        if epoch % max(num_epochs // 5, 1) == 0 or epoch == num_epochs - 1:
            report.say(f"epoch {epoch}: w = {w.item():.4f}, loss = {loss.item():.6f}")

    prediction = forward(4.0, w).item()
    report.say(f"predict (after training): x = 4 -> {prediction:.4f}")
    report.figure("loss.png", plot_losses, epoch_losses)
    results = {"w": w.item(), "prediction_at_4": prediction, "final_loss": epoch_losses[-1]}
    report.write(results)
    return results


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("linear_model"))
