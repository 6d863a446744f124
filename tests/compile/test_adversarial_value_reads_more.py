"""chainrule.compile against eager where library code outside recorded operations may read tensor
VALUES (distributions, train metrics and monitors, nn.init, vision transforms, utils.data): each
compiled function calls the public API with values that pass on the recording call and differ on
later calls of the same shapes. Results must match eager bit for bit (or raise the same error); a
fall-back to eager with a warning is fine. Eager runs twice to show it is deterministic."""
import warnings

import numpy as np
import pytest

import chainrule as torch
import chainrule.vision.transforms.functional as TF
from chainrule import distributions as D
from chainrule import nn
from chainrule.train import metrics, monitors
from chainrule.utils.data import DataLoader, RandomSampler, SubsetRandomSampler, TensorDataset, WeightedRandomSampler, random_split
from tests.compile.bitwise import assert_identical


def _plain(value):
    if isinstance(value, torch.Tensor):
        return np.array(value.detach().numpy(), copy=True)
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(each) for each in value)
    if isinstance(value, dict):
        return {key: _plain(each) for key, each in value.items()}
    return value


def _outcomes(make, inputs, compiled):
    function = make()
    if compiled:
        function = torch.compile(function)
    results = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for each in inputs:
            try:
                results.append(("ok", _plain(function(each()))))
            except Exception as error:  # noqa: BLE001
                results.append(("raise", type(error).__name__, str(error)[:50]))
    return results


def check(make, inputs):
    """``inputs``: factories of each call's argument (fresh tensors each run)."""
    eager = _outcomes(make, inputs, compiled=False)
    assert_identical(_outcomes(make, inputs, compiled=True), eager, "compiled")


def T(*values):
    return lambda: torch.tensor(*values)


ROWS_A = T([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
ROWS_B = T([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])


# ----- train.metrics -------------------------------------------------------------------------

def test_accuracy_update():
    def make():
        metric = metrics.Accuracy()
        return lambda x: metric.update(x * 1.0, torch.tensor([0, 1, 1]))
    check(make, [ROWS_A, ROWS_B, ROWS_A])


def test_confusion_matrix_update():
    def make():
        metric = metrics.ConfusionMatrix(num_classes=2)
        return lambda x: (metric.update(x * 1.0, torch.tensor([0, 1, 1])), metric.accumulate())
    check(make, [ROWS_A, ROWS_B, ROWS_A])


def test_predict_classes():
    def make():
        return lambda x: torch.from_numpy(metrics.predict_classes(x * 1.0)) + 0
    check(make, [ROWS_A, ROWS_B])


@pytest.mark.parametrize("kind,average", [("F1", "macro"), ("Precision", "binary"), ("Recall", "binary")])
def test_class_score_update(kind, average):
    def make():
        metric = getattr(metrics, kind)(average=average)
        return lambda x: metric.update(x * 1.0, torch.tensor([0, 1, 1]))
    check(make, [ROWS_A, ROWS_B])


# ----- train.monitors ------------------------------------------------------------------------

def _linear():
    torch.manual_seed(0)
    return nn.Linear(2, 1)


def test_nonfinite_watch_gradients():
    def make():
        model = _linear()
        watch = monitors.NonFiniteWatch(model)

        def step(x):
            model.zero_grad()
            loss = model(x).sum()
            loss.backward()
            watch.check(1.0)
            return loss.detach() + 0
        return step
    check(make, [T([[1.0, 2.0]]), T([[float("nan"), 2.0]])])


def test_nonfinite_watch_loss_tensor():
    def make():
        model = _linear()
        watch = monitors.NonFiniteWatch(model)

        def step(x):
            model.zero_grad()
            loss = model(x).sum()
            loss.backward()
            watch.check(loss)
            return loss.detach() + 0
        return step
    check(make, [T([[1.0, 2.0]]), T([[float("inf"), 2.0]])])


def test_gradient_norm_monitor():
    def make():
        model = _linear()
        monitor = monitors.GradientNormMonitor(model)

        def step(x):
            model.zero_grad()
            model(x).sum().backward()
            return monitor.record()
        return step
    check(make, [T([[1.0, 2.0]]), T([[3.0, 5.0]])])


def test_dead_relu_fractions():
    def make():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
        return lambda x: monitors.dead_relu_fractions(model, x * 1.0)
    check(make, [T([[1.0, 2.0]]), T([[-3.0, -5.0]])])


SAME_ROWS = T([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]])
OTHER_ROWS = T([[1.0, 2.0], [5.0, 6.0], [3.0, 4.0]])


def _weights_set_to(function):
    def make():
        torch.manual_seed(0)
        model = nn.Linear(2, 3)

        def step(x):
            with torch.no_grad():
                model.weight.copy_(x)
            return function(model)
        return step
    return make


def test_identical_rows():
    check(_weights_set_to(lambda model: monitors.identical_rows(model.weight)), [SAME_ROWS, OTHER_ROWS])


def test_symmetric_weights():
    check(_weights_set_to(monitors.symmetric_weights), [SAME_ROWS, OTHER_ROWS])


# ----- utils.data ----------------------------------------------------------------------------

FOUR = T([1.0, 2.0, 3.0, 4.0])


def _seeded(function):
    def make():
        torch.manual_seed(0)
        return function()
    return make


def test_weighted_random_sampler():
    check(_seeded(lambda: lambda x: x[list(WeightedRandomSampler(x * 1.0, 3))] + 0),
          [FOUR, FOUR, T([0.0, 0.0, 0.0, 1.0])])


def test_subset_random_sampler():
    check(_seeded(lambda: lambda x: x[list(SubsetRandomSampler([0, 1, 2, 3]))] + 0), [FOUR, FOUR, FOUR])


def test_random_sampler():
    check(_seeded(lambda: lambda x: x[list(RandomSampler(range(4)))] + 0), [FOUR, FOUR, FOUR])


def test_random_split():
    def function():
        def step(x):
            first, second = random_split(TensorDataset(x * 1.0), [2, 2])
            return first[0][0] + second[1][0]
        return step
    check(_seeded(function), [FOUR, FOUR, FOUR])


def test_dataloader_over_changed_tensor():
    def make():
        held = torch.zeros(4)

        def step(x):
            held.copy_(x)
            return [batch[0] + 0 for batch in DataLoader(TensorDataset(held), batch_size=2, shuffle=True)]
        return step
    check(_seeded(lambda: make()), [FOUR, T([5.0, 6.0, 7.0, 8.0]), FOUR])


# ----- distributions -------------------------------------------------------------------------

def test_binomial_total_count_values():
    def make():
        return lambda n: D.Binomial(total_count=n, probs=torch.tensor([0.3, 0.4])).log_prob(torch.tensor([1.0, 1.0]))
    check(make, [T([2.0, 2.0]), T([2.0, 3.0]), T([-1.0, 3.0])])


def test_binomial_kl_total_counts():
    def make():
        def step(n):
            p = D.Binomial(total_count=n, probs=torch.tensor([0.3, 0.4]))
            q = D.Binomial(total_count=torch.tensor([2.0, 2.0]), probs=torch.tensor([0.5, 0.4]))
            return D.kl_divergence(p, q)
        return step
    check(make, [T([2.0, 2.0]), T([2.0, 3.0])])


def test_wishart_df_values():
    check(lambda: lambda df: D.Wishart(df=df, covariance_matrix=torch.eye(2)).log_prob(torch.eye(2)),
          [T(3.0), T(4.0), T(0.5)])


def test_categorical_validation():
    check(lambda: lambda p: D.Categorical(probs=p, validate_args=True).log_prob(torch.tensor(1)),
          [T([0.5, 0.5]), T([-0.5, 1.5]), T([0.25, 0.75])])


def test_multinomial_zero_probability():
    check(lambda: lambda p: D.Multinomial(total_count=3, probs=p).log_prob(torch.tensor([1.0, 2.0])),
          [T([0.5, 0.5]), T([0.0, 1.0])])


def test_samplers_reading_values():
    def function():
        return lambda x: (D.Gamma(x, torch.ones(2)).sample(), D.VonMises(torch.zeros(2), x).sample(),
                          D.Poisson(x).sample(), D.Binomial(3, x / 10).sample(), D.NegativeBinomial(3, x / 10).sample())
    check(_seeded(function), [T([0.5, 0.5]), T([2.0, 1.0]), T([0.5, 0.5])])


# ----- nn.init -------------------------------------------------------------------------------

def test_trunc_normal_tensor_bounds():
    def function():
        def step(bounds):
            weight = torch.empty(3)
            nn.init.trunc_normal_(weight, a=bounds[0], b=bounds[1])
            return weight
        return step
    check(_seeded(function), [T([-2.0, 2.0]), T([-1.0, 1.0]), T([1.0, -1.0])])


def test_orthogonal_and_sparse():
    def function():
        def step(x):
            weight, sparse = torch.empty(3, 3), torch.empty(4, 2)
            nn.init.orthogonal_(weight)
            nn.init.sparse_(sparse, 0.5)
            return weight + x, sparse
        return step
    check(_seeded(function), [T([0.5]), T([2.0])])


# ----- vision.transforms ---------------------------------------------------------------------

def test_normalize_std_values():
    check(lambda: lambda x: TF.normalize(x * 1.0, mean=[0.0, 0.0], std=x[0, 0] * torch.ones(2)),
          [lambda: torch.ones(2, 2, 2), lambda: torch.zeros(2, 2, 2)])


def test_adjust_hue_values():
    def images():
        torch.manual_seed(1)
        return [torch.rand(3, 2, 2), torch.rand(3, 2, 2) * 2]
    first, second = images()
    check(lambda: lambda x: TF.adjust_hue(x * 1.0, 0.2), [lambda: first.clone(), lambda: second.clone()])


def test_image_dtype_conversions():
    def images():
        torch.manual_seed(2)
        return [torch.rand(3, 4, 4), torch.rand(3, 4, 4) * 3 - 1]
    first, second = images()
    from chainrule.vision.transforms import v2

    check(lambda: lambda x: (TF.convert_image_dtype(x * 1.0, torch.uint8), v2.to_dtype(x * 1.0, torch.uint8, scale=True),
                             TF.adjust_brightness((x.clamp(0, 1) * 255).to(torch.uint8), 1.5)),
          [lambda: first.clone(), lambda: second.clone()])


def test_tensor_fill_and_sigma():
    def images():
        torch.manual_seed(3)
        return [torch.rand(3, 4, 4), torch.rand(3, 4, 4) * 3 - 1]
    first, second = images()
    check(lambda: lambda x: (TF.pad(x * 1.0, 1, fill=x[0, 0, 0]), TF.gaussian_blur(x * 1.0, 3, sigma=x[0, 0, 0] + 0.5),
                             TF.erase(x * 1.0, 1, 1, 2, 2, x[0, 0, 0] * torch.ones(3, 2, 2))),
          [lambda: first.clone(), lambda: second.clone()])


def test_mixture_and_transformed():
    def step(x):
        mixture = D.MixtureSameFamily(D.Categorical(probs=x), D.Normal(torch.zeros(2), torch.ones(2)))
        power = D.TransformedDistribution(D.Normal(0.0, 1.0), [D.transforms.PowerTransform(x[1] + 1)])
        other = D.TransformedDistribution(D.Normal(0.0, 2.0), [D.transforms.PowerTransform(torch.tensor(2.0))])
        return mixture.log_prob(torch.tensor(0.3)), power.log_prob(torch.tensor(2.0)), D.kl_divergence(power, other)
    check(lambda: step, [T([0.5, 1.0]), T([0.0, 1.0]), T([0.5, 0.5])])


# ----- train.Runner --------------------------------------------------------------------------

def _runner_outcome(compiled):
    from chainrule.train import Runner

    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    runner = Runner(model, torch.optim.SGD(model.parameters(), lr=0.1), nn.MSELoss(), on_nonfinite="skip", compile=compiled)
    inputs = [torch.tensor([[1.0, 2.0]]), torch.tensor([[float("nan"), 2.0]]), torch.tensor([[3.0, -1.0]])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for x in inputs:
            runner.train((x, torch.tensor([[1.0]])), log_steps=0)
    return runner.skipped_steps, [np.array(p.detach().numpy(), copy=True) for p in model.parameters()]


def test_runner_nonfinite_skip_compiled():
    eager = _runner_outcome(False)
    assert_identical(_runner_outcome(True), eager, "compiled")
