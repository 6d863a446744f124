# Source: labml.ai (Varuna Jayasiri), "Annotated Deep Learning Paper Implementations", Evidential Deep Learning to
# Quantify Classification Uncertainty: https://github.com/labmlai/annotated_deep_learning_paper_implementations
#   labml_nn/uncertainty/evidence/__init__.py (the losses and TrackStatistics) and experiment.py (Model, Configs.step),
#   with labml_nn/helpers/schedule.py (Piecewise, RelativePiecewise) for the KL annealing coefficient
# Shrunk: 64 synthetic 28x28 "digits" (noise around ten class templates) for training and 32 for validation
# instead of torchvision's MNIST; 2 epochs of batch 16. labml's configs/tracker dropped: the loop is written out
# and what the tracker records (losses, annealing coefficient, accuracy, uncertainty and probability of the
# right and wrong predictions) is printed, the histograms as their mean. labml's Adam with decoupled weight
# decay ('optimizer.weight_decay': 0.005) is torch.optim.AdamW here. The other loss functions and ReLU
# evidence (the experiment's options) are evaluated on one batch too.
from typing import Any, Tuple, List

import torch
import torch.nn as nn
import torch.utils.data


# ---- labml_nn/uncertainty/evidence/__init__.py ----
class MaximumLikelihoodLoss(nn.Module):
    """
    <a id="MaximumLikelihoodLoss"></a>

    ## Type II Maximum Likelihood Loss
    """

    def forward(self, evidence: torch.Tensor, target: torch.Tensor):
        """
        * `evidence` is $\mathbf{e} \ge 0$ with shape `[batch_size, n_classes]`
        * `target` is $\mathbf{y}$ with shape `[batch_size, n_classes]`
        """
        # $\textcolor{orange}{\alpha_k} = e_k + 1$
        alpha = evidence + 1.
        # $S = \sum_{k=1}^K \textcolor{orange}{\alpha_k}$
        strength = alpha.sum(dim=-1)

        # Losses $\mathcal{L}(\Theta) = \sum_{k=1}^K y_k \bigg( \log S - \log \textcolor{orange}{\alpha_k} \bigg)$
        loss = (target * (strength.log()[:, None] - alpha.log())).sum(dim=-1)

        # Mean loss over the batch
        return loss.mean()


class CrossEntropyBayesRisk(nn.Module):
    """
    <a id="CrossEntropyBayesRisk"></a>

    ## Bayes Risk with Cross Entropy Loss
    """

    def forward(self, evidence: torch.Tensor, target: torch.Tensor):
        """
        * `evidence` is $\mathbf{e} \ge 0$ with shape `[batch_size, n_classes]`
        * `target` is $\mathbf{y}$ with shape `[batch_size, n_classes]`
        """
        # $\textcolor{orange}{\alpha_k} = e_k + 1$
        alpha = evidence + 1.
        # $S = \sum_{k=1}^K \textcolor{orange}{\alpha_k}$
        strength = alpha.sum(dim=-1)

        # Losses $\mathcal{L}(\Theta) = \sum_{k=1}^K y_k \bigg( \psi(S) - \psi( \textcolor{orange}{\alpha_k} ) \bigg)$
        loss = (target * (torch.digamma(strength)[:, None] - torch.digamma(alpha))).sum(dim=-1)

        # Mean loss over the batch
        return loss.mean()


class SquaredErrorBayesRisk(nn.Module):
    """
    <a id="SquaredErrorBayesRisk"></a>

    ## Bayes Risk with Squared Error Loss
    """

    def forward(self, evidence: torch.Tensor, target: torch.Tensor):
        """
        * `evidence` is $\mathbf{e} \ge 0$ with shape `[batch_size, n_classes]`
        * `target` is $\mathbf{y}$ with shape `[batch_size, n_classes]`
        """
        # $\textcolor{orange}{\alpha_k} = e_k + 1$
        alpha = evidence + 1.
        # $S = \sum_{k=1}^K \textcolor{orange}{\alpha_k}$
        strength = alpha.sum(dim=-1)
        # $\hat{p}_k = \frac{\textcolor{orange}{\alpha_k}}{S}$
        p = alpha / strength[:, None]

        # Error $(y_k -\hat{p}_k)^2$
        err = (target - p) ** 2
        # Variance $\text{Var}(p_k) = \frac{\hat{p}_k(1 - \hat{p}_k)}{S + 1}$
        var = p * (1 - p) / (strength[:, None] + 1)

        # Sum of them
        loss = (err + var).sum(dim=-1)

        # Mean loss over the batch
        return loss.mean()


class KLDivergenceLoss(nn.Module):
    """
    <a id="KLDivergenceLoss"></a>

    ## KL Divergence Regularization Loss
    """

    def forward(self, evidence: torch.Tensor, target: torch.Tensor):
        """
        * `evidence` is $\mathbf{e} \ge 0$ with shape `[batch_size, n_classes]`
        * `target` is $\mathbf{y}$ with shape `[batch_size, n_classes]`
        """
        # $\textcolor{orange}{\alpha_k} = e_k + 1$
        alpha = evidence + 1.
        # Number of classes
        n_classes = evidence.shape[-1]
        # Remove non-misleading evidence
        # $$\tilde{\alpha}_k = y_k + (1 - y_k) \textcolor{orange}{\alpha_k}$$
        alpha_tilde = target + (1 - target) * alpha
        # $\tilde{S} = \sum_{k=1}^K \tilde{\alpha}_k$
        strength_tilde = alpha_tilde.sum(dim=-1)

        # The first term
        #
        # \begin{align}
        # &\log \Bigg( \frac{\Gamma \Big( \sum_{k=1}^K \tilde{\alpha}_k \Big)}
        #     {\Gamma(K) \prod_{k=1}^K \Gamma(\tilde{\alpha}_k)} \Bigg) \\
        # &= \log \Gamma \Big( \sum_{k=1}^K \tilde{\alpha}_k \Big)
        #   - \log \Gamma(K)
        #   - \sum_{k=1}^K \log \Gamma(\tilde{\alpha}_k)
        # \end{align}
        first = (torch.lgamma(alpha_tilde.sum(dim=-1))
                 - torch.lgamma(alpha_tilde.new_tensor(float(n_classes)))
                 - (torch.lgamma(alpha_tilde)).sum(dim=-1))

        # The second term
        # $$\sum_{k=1}^K (\tilde{\alpha}_k - 1)
        # \Big[ \psi(\tilde{\alpha}_k) - \psi(\tilde{S}) \Big]$$
        second = (
                (alpha_tilde - 1) *
                (torch.digamma(alpha_tilde) - torch.digamma(strength_tilde)[:, None])
        ).sum(dim=-1)

        # Sum of the terms
        loss = first + second

        # Mean loss over the batch
        return loss.mean()


class TrackStatistics(nn.Module):
    """
    <a id="TrackStatistics"></a>

    ### Track statistics

    This module computes statistics (and prints what the original tracks with labml's `tracker`).
    """

    def forward(self, evidence: torch.Tensor, target: torch.Tensor):
        # Number of classes
        n_classes = evidence.shape[-1]
        # Predictions that correctly match with the target (greedy sampling based on highest probability)
        match = evidence.argmax(dim=-1).eq(target.argmax(dim=-1))
        # Track accuracy
        print('  accuracy.', (match.sum() / match.shape[0]).item())

        # $\textcolor{orange}{\alpha_k} = e_k + 1$
        alpha = evidence + 1.
        # $S = \sum_{k=1}^K \textcolor{orange}{\alpha_k}$
        strength = alpha.sum(dim=-1)

        # $\hat{p}_k = \frac{\textcolor{orange}{\alpha_k}}{S}$
        expected_probability = alpha / strength[:, None]
        # Expected probability of the selected (greedy highset probability) class
        expected_probability, _ = expected_probability.max(dim=-1)

        # Uncertainty mass $u = \frac{K}{S}$
        uncertainty_mass = n_classes / strength

        # Track $u$ for correctly predictions
        u_succ = uncertainty_mass.masked_select(match)
        # Track $u$ for incorrect predictions
        u_fail = uncertainty_mass.masked_select(~match)
        # Track $\hat{p}_k$ for correctly predictions
        prob_succ = expected_probability.masked_select(match)
        # Track $\hat{p}_k$ for incorrect predictions
        prob_fail = expected_probability.masked_select(~match)
        print('  u.succ.', u_succ.shape, u_succ.mean().item(), 'u.fail.', u_fail.shape, u_fail.mean().item())
        print('  prob.succ.', prob_succ.mean().item(), 'prob.fail.', prob_fail.mean().item())


# ---- labml_nn/helpers/schedule.py ----
class Schedule:
    def __call__(self, x):
        raise NotImplementedError()


class Piecewise(Schedule):
    """
    ## Piecewise schedule
    """

    def __init__(self, endpoints: List[Tuple[float, float]], outside_value: float = None):
        """
        ### Initialize

        `endpoints` is list of pairs `(x, y)`.
         The values between endpoints are linearly interpolated.
        `y` values outside the range covered by `x` are
        `outside_value`.
        """

        # `(x, y)` pairs should be sorted
        indexes = [e[0] for e in endpoints]
        assert indexes == sorted(indexes)

        self._outside_value = outside_value
        self._endpoints = endpoints

    def __call__(self, x):
        """
        ### Find `y` for given `x`
        """

        # iterate through each segment
        for (x1, y1), (x2, y2) in zip(self._endpoints[:-1], self._endpoints[1:]):
            # interpolate if `x` is within the segment
            if x1 <= x < x2:
                dx = float(x - x1) / (x2 - x1)
                return y1 + dx * (y2 - y1)

        # return outside value otherwise
        return self._outside_value

    def __str__(self):
        endpoints = ", ".join([f"({e[0]}, {e[1]})" for e in self._endpoints])
        return f"Schedule[{endpoints}, {self._outside_value}]"


class RelativePiecewise(Piecewise):
    def __init__(self, relative_endpoits: List[Tuple[float, float]], total_steps: int):
        # Calculate the endpoints
        endpoints = []
        for e in relative_endpoits:
            index = int(total_steps * e[0])
            assert index >= 0
            endpoints.append((index, e[1]))

        # Initialize
        super().__init__(endpoints, outside_value=relative_endpoits[-1][1])


# ---- labml_nn/uncertainty/evidence/experiment.py ----
class Model(nn.Module):
    """
    ## LeNet based model fro MNIST classification
    """

    def __init__(self, dropout: float):
        super().__init__()
        # First $5x5$ convolution layer
        self.conv1 = nn.Conv2d(1, 20, kernel_size=5)
        # ReLU activation
        self.act1 = nn.ReLU()
        # $2x2$ max-pooling
        self.max_pool1 = nn.MaxPool2d(2, 2)
        # Second $5x5$ convolution layer
        self.conv2 = nn.Conv2d(20, 50, kernel_size=5)
        # ReLU activation
        self.act2 = nn.ReLU()
        # $2x2$ max-pooling
        self.max_pool2 = nn.MaxPool2d(2, 2)
        # First fully-connected layer that maps to $500$ features
        self.fc1 = nn.Linear(50 * 4 * 4, 500)
        # ReLU activation
        self.act3 = nn.ReLU()
        # Final fully connected layer to output evidence for $10$ classes.
        # The ReLU or Softplus activation is applied to this outside the model to get the
        # non-negative evidence
        self.fc2 = nn.Linear(500, 10)
        # Dropout for the hidden layer
        self.dropout = nn.Dropout(p=dropout)

    def __call__(self, x: torch.Tensor):
        """
        * `x` is the batch of MNIST images of shape `[batch_size, 1, 28, 28]`
        """
        # Apply first convolution and max pooling.
        # The result has shape `[batch_size, 20, 12, 12]`
        x = self.max_pool1(self.act1(self.conv1(x)))
        # Apply second convolution and max pooling.
        # The result has shape `[batch_size, 50, 4, 4]`
        x = self.max_pool2(self.act2(self.conv2(x)))
        # Flatten the tensor to shape `[batch_size, 50 * 4 * 4]`
        x = x.view(x.shape[0], -1)
        # Apply hidden layer
        x = self.act3(self.fc1(x))
        # Apply dropout
        x = self.dropout(x)
        # Apply final layer and return
        return self.fc2(x)


class Configs:
    """
    ## Configurations (labml's MNISTConfigs, written out)
    """

    # [KL Divergence regularization](index.html#KLDivergenceLoss)
    kl_div_loss = KLDivergenceLoss()
    # KL Divergence regularization coefficient schedule
    kl_div_coef: Schedule
    # KL Divergence regularization coefficient schedule
    kl_div_coef_schedule = [(0, 0.), (0.2, 0.01), (1, 1.)]
    # [Stats module](index.html#TrackStatistics) for tracking
    stats = TrackStatistics()
    # Dropout
    dropout: float = 0.5
    # Module to convert the model output to non-zero evidences
    outputs_to_evidence: nn.Module = nn.Softplus()
    # 'loss_func': 'squared_error_bayes_risk'
    loss_func = SquaredErrorBayesRisk()
    epochs: int = 2
    device = torch.device('cpu')
    global_step = 0

    def __init__(self, train_dataset, valid_dataset):
        self.train_dataset = train_dataset
        self.train_loader = torch.utils.data.DataLoader(train_dataset, batch_size=16, shuffle=True)
        self.valid_loader = torch.utils.data.DataLoader(valid_dataset, batch_size=32, shuffle=False)
        self.model = Model(self.dropout).to(self.device)
        self.kl_div_coef = RelativePiecewise(self.kl_div_coef_schedule, self.epochs * len(self.train_dataset))
        # 'optimizer.optimizer': 'Adam', 'optimizer.learning_rate': 0.001, 'optimizer.weight_decay': 0.005
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=0.001, weight_decay=0.005)

    def step(self, batch: Any, is_train: bool):
        """
        ### Training or validation step
        """

        # Training/Evaluation mode
        self.model.train(is_train)

        # Move data to the device
        data, target = batch[0].to(self.device), batch[1].to(self.device)

        # One-hot coded targets
        eye = torch.eye(10).to(torch.float).to(self.device)
        target = eye[target]

        # Update step (number of samples processed) when in training mode
        if is_train:
            self.global_step += len(data)

        # Get model outputs
        outputs = self.model(data)
        # Get evidences $e_k \ge 0$
        evidence = self.outputs_to_evidence(outputs)

        # Calculate loss
        loss = self.loss_func(evidence, target)
        # Calculate KL Divergence regularization loss
        kl_div_loss = self.kl_div_loss(evidence, target)
        print(f"{'train' if is_train else 'valid'} step {self.global_step}: loss. {loss.item():.5f} kl_div_loss. {kl_div_loss.item():.5f}")

        # KL Divergence loss coefficient $\lambda_t$
        annealing_coef = min(1., self.kl_div_coef(self.global_step))
        print('  annealing_coef.', annealing_coef)

        # Total loss
        loss = loss + annealing_coef * kl_div_loss

        # Track statistics
        self.stats(evidence, target)

        # Train the model
        if is_train:
            # Calculate gradients
            loss.backward()
            # Take optimizer step
            self.optimizer.step()
            # Clear the gradients
            self.optimizer.zero_grad()

    def run(self):
        for epoch in range(self.epochs):
            for batch in self.train_loader:
                self.step(batch, True)
            with torch.no_grad():
                for batch in self.valid_loader:
                    self.step(batch, False)


# Synthetic MNIST: noise around ten class templates, normalized as MNIST is
templates = torch.rand(10, 1, 28, 28)
train_labels = torch.randint(0, 10, (64,))
train_images = (templates[train_labels] + 0.8 * torch.rand(64, 1, 28, 28) - 0.1307) / 0.3081
valid_labels = torch.randint(0, 10, (32,))
valid_images = (templates[valid_labels] + 0.8 * torch.rand(32, 1, 28, 28) - 0.1307) / 0.3081

conf = Configs(torch.utils.data.TensorDataset(train_images, train_labels),
               torch.utils.data.TensorDataset(valid_images, valid_labels))
print('kl_div_coef', conf.kl_div_coef, [conf.kl_div_coef(s) for s in [0, 13, 25, 26, 64, 127, 128]])
conf.run()

# The other options of the experiment, on one validation batch: the loss functions, and ReLU evidence
conf.model.eval()
with torch.no_grad():
    outputs = conf.model(valid_images)
    target = torch.eye(10)[valid_labels]
    for outputs_to_evidence in [nn.Softplus(), nn.ReLU()]:
        evidence = outputs_to_evidence(outputs)
        print(outputs_to_evidence, evidence.sum(dim=-1)[:4])
        for loss_func in [MaximumLikelihoodLoss(), CrossEntropyBayesRisk(), SquaredErrorBayesRisk(), KLDivergenceLoss()]:
            print(' ', type(loss_func).__name__, f"{loss_func(evidence, target).item():.5f}")
