"""The homework y = w1 x^2 + w2 x + b: gradients derived by hand, printed beside autograd's.

For one point (x, y), with the prediction p = w1 x^2 + w2 x + b and the loss L = (p - y)^2, the
chain rule through p gives

    dL/dw1 = 2 (p - y) x^2,    dL/dw2 = 2 (p - y) x,    dL/db = 2 (p - y).

The example trains on the points of y = x^2 + x + 1 and checks, at every step, that ``backward()``
gives exactly these numbers. The weights go to w1 = w2 = b = 1, and the prediction at x = 4 to 21.
"""
import chainrule as torch
from chainrule.datasets import make_quadratic
from chainrule.examples._report import Report
from chainrule.viz.plots import plot_losses


def hand_gradients(x, y, w1, w2, b):
    """The homework's derivation: (dL/dw1, dL/dw2, dL/db) for one point, as Python numbers."""
    residual = w1 * x**2 + w2 * x + b - y  # p - y
    return 2 * residual * x**2, 2 * residual * x, 2 * residual


def main(out=None, quick=False):
    """Run the example (``quick`` changes nothing: it is already small)."""
    report = Report("y = w1 x^2 + w2 x + b: hand-derived gradients beside autograd's", out)
    x_data, y_data = make_quadratic()  # x = [1, 2, 3], y = [3, 7, 13]
    w1 = torch.tensor([0.5], requires_grad=True)
    w2 = torch.tensor([0.5], requires_grad=True)
    b = torch.tensor([0.5], requires_grad=True)
    parameters = (w1, w2, b)
    learning_rate = 0.01
    num_epochs = 100

    table = [f"{'step':>4} {'x':>4} | {'by hand: dL/dw1':>16} {'dL/dw2':>10} {'dL/db':>10} | {'autograd: w1.grad':>17} {'w2.grad':>10} {'b.grad':>10}"]
    largest_difference = 0.0
    losses = []
    step = 0
    for epoch in range(num_epochs):
        for x, y in zip(x_data.tolist(), y_data.tolist()):
            step += 1
            by_hand = hand_gradients(x, y, *(parameter.item() for parameter in parameters))
            loss = (w1 * x**2 + w2 * x + b - y) ** 2
            loss.backward()
            by_autograd = [parameter.grad.item() for parameter in parameters]
            for hand, auto in zip(by_hand, by_autograd):
                largest_difference = max(largest_difference, abs(hand - auto) / max(abs(hand), 1.0))
            if step <= 6:
                hand_columns = f"{by_hand[0]:16.5f} {by_hand[1]:10.5f} {by_hand[2]:10.5f}"
                auto_columns = f"{by_autograd[0]:17.5f} {by_autograd[1]:10.5f} {by_autograd[2]:10.5f}"
                table.append(f"{step:4d} {x:4.1f} | {hand_columns} | {auto_columns}")
            with torch.no_grad():
                for parameter in parameters:
                    parameter -= learning_rate * parameter.grad
                    parameter.grad.zero_()
            losses.append(loss.item())

    report.say("The first steps, each gradient two ways:")
    report.block("\n".join(table))
    report.say(
        f"Over all {step} steps the largest difference between the hand-derived and the autograd "
        f"gradients is {largest_difference:.2e} (relative): float32 rounding."
    )
    prediction = (w1 * 4.0**2 + w2 * 4.0 + b).item()
    report.say(f"after training: w1 = {w1.item():.4f}, w2 = {w2.item():.4f}, b = {b.item():.4f}; x = 4 -> {prediction:.4f}")
    report.figure("loss.png", plot_losses, losses)
    results = {
        "max_gradient_difference": largest_difference,
        "w1": w1.item(),
        "w2": w2.item(),
        "b": b.item(),
        "prediction_at_4": prediction,
    }
    report.write(results)
    return results


if __name__ == "__main__":
    from chainrule.examples import run_as_script

    raise SystemExit(run_as_script("quadratic_gradients"))
