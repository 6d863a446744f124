# Source: UC Berkeley CS182/282A (Fall 2023), "Mixture of Experts" coding question (q_moe.ipynb): the
# MoE module (nn.ModuleList of linear experts, a softmax gate, torch.stack of the expert outputs),
# sparse_forward (top-k experts by gate-weight norm, a -1000 mask built with torch.full_like and index
# assignment), the BayesOptimal reference model (in-place updates of column slices), the Adam training
# loop with nn.CrossEntropyLoss, test accuracy with torch.max, and the sparsity sweeps over a mesh grid:
#   https://github.com/Berkeley-CS182/cs182fa23_public  q_coding_moe/q_moe.ipynb
# The TODO (sparsely_gated_forward) is filled in here: per-sample top-k of the gate logits, the others
# masked with scatter_ before the softmax, following the hint to mirror sparse_forward.
# Shrunk: 2000 samples (10000), 200 epochs (2000) printed every 50 (500); the 100x100 mesh grid is 21x21
# and the contourf heatmaps are summarized by printed statistics; the dataset scatter plot and the scipy
# dual_annealing load-balancing cells (no torch in them) are left out.
import torch
import torch.nn as nn
import torch.optim as optim
import numpy as np


# Generate the dataset
def generate_dataset(num_samples, sharpness=5):
    X = np.random.randn(num_samples, 2)
    p = np.minimum(np.exp(sharpness * np.minimum(X[:, 0], X[:, 1])), 1)
    y = np.random.binomial(1, p, size=num_samples)
    return X, y


class MoE(nn.Module):
    def __init__(self, input_dim, num_experts, output_dim):
        super(MoE, self).__init__()
        self.experts = nn.ModuleList([nn.Linear(input_dim, output_dim) for _ in range(num_experts)])
        self.weighting = nn.Linear(input_dim, num_experts)

    def forward(self, x, mask=None):
        if mask is not None:
            weights = torch.softmax(self.weighting(x) + mask, dim=1)
        else:
            weights = torch.softmax(self.weighting(x), dim=1)
        expert_outputs = [expert(x) for expert in self.experts]
        output = torch.stack(expert_outputs, dim=2)  # Stack expert outputs along dimension 2
        weighted_output = torch.sum(output * weights.unsqueeze(1), dim=2)
        return weighted_output

    def sparse_forward(self, x, sparsity):
        norms = self.weighting.weight.norm(dim=1)
        topk_indices = torch.topk(norms, sparsity).indices
        mask = torch.full_like(norms, -1000.0)
        mask[topk_indices] = 0
        return self.forward(x, mask=mask)

    def sparsely_gated_forward(self, x, sparsity):
        weighted_output = None
        ########################################################################
        # TODO: implement sparsely-gated inference
        # Hint: look at how `sparse_forward` is implemented.
        ########################################################################
        gate_logits = self.weighting(x)
        topk_indices = torch.topk(gate_logits, sparsity, dim=1).indices
        mask = torch.full_like(gate_logits, -1000.0)
        mask.scatter_(1, topk_indices, 0.0)
        weighted_output = self.forward(x, mask=mask)
        ########################################################################
        return weighted_output


class BayesOptimal(nn.Module):
    def __init__(self, sharpness=5):
        super(BayesOptimal, self).__init__()
        self.sharpness = sharpness

    def forward(self, X):
        exp_term = torch.exp(self.sharpness * torch.minimum(X[:, 0], X[:, 1]))
        ps = torch.minimum(exp_term, torch.ones_like(exp_term))
        y = torch.ones_like(X)
        y[:,0] -= ps
        y[:,1] = ps
        y += 1e-6
        return y.log()


# Hyperparameters
num_samples = 2000
input_dim = 2
num_experts = 6
output_dim = 2
learning_rate = 0.05
num_epochs = 200

# Generate the dataset
X, y = generate_dataset(num_samples)

# Split the dataset into training and testing sets
split_ratio = 0.8
split_index = int(split_ratio * num_samples)

X_train, X_test = X[:split_index], X[split_index:]
y_train, y_test = y[:split_index], y[split_index:]

# Convert data to PyTorch tensors
X_train = torch.FloatTensor(X_train)
y_train = torch.LongTensor(y_train)
X_test = torch.FloatTensor(X_test)
y_test = torch.LongTensor(y_test)
print(X_train.shape, X_train.dtype, y_train.shape, y_train.dtype, y_train.sum().item())

# Create and initialize the MoE model
model = MoE(input_dim, num_experts, output_dim)
print(model)

# Define the loss and optimizer
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=learning_rate)

ref_model = BayesOptimal()
ref_model.eval()
with torch.no_grad():
    outputs = ref_model.forward(X_train)
    loss = criterion(outputs, y_train)
    print(f'Bayes optimal loss: {loss.item():.4f}')

# Training loop
for epoch in range(num_epochs):
    optimizer.zero_grad()
    outputs = model.forward(X_train)
    loss = criterion(outputs, y_train)
    loss.backward()
    optimizer.step()
    if (epoch + 1) % 50 == 0:
        print(f'Epoch [{epoch + 1}/{num_epochs}], Loss: {loss.item():.4f}')

# Evaluate the model on the test set
model.eval()
with torch.no_grad():
    test_outputs = model(X_test)
    ref_outputs = ref_model.forward(X_test)
    _, predicted = torch.max(test_outputs, 1)
    _, ref_predicted = torch.max(ref_outputs, 1)
    accuracy = (predicted == y_test).sum().item() / y_test.size(0)
    ref_accuracy = (ref_predicted == y_test).sum().item() / y_test.size(0)
    print(f'Test Accuracy: {accuracy:.4f}')
    print(f'Bayes optimal Accuracy: {ref_accuracy:.4f}')

print('gate weight norms', model.weighting.weight.norm(dim=1))

for title, method in [("sparsified MoE", model.sparse_forward), ("sparsely-gated MoE", model.sparsely_gated_forward)]:
    print(f"Prediction of {title}, at various levels of sparsity")
    sparsity_values = range(1, 7)
    for i, sparsity in enumerate(sparsity_values):
        # Define a mesh grid for visualization
        x_min, x_max = -4, 4
        y_min, y_max = -4, 4
        xx, yy = np.meshgrid(np.linspace(x_min, x_max, 21), np.linspace(y_min, y_max, 21))

        # Flatten the mesh grid and make predictions using the MoE model
        grid_points = np.c_[xx.ravel(), yy.ravel()]
        grid_points = torch.FloatTensor(grid_points)
        with torch.no_grad():
            Z = method(grid_points, sparsity).numpy()
        Z = Z[:, 1].reshape(xx.shape)  # We are interested in the probability of class 1
        print(f'Sparsity {sparsity}: Z {Z.shape} min {Z.min():.4f} max {Z.max():.4f} mean {Z.mean():.4f}'
              f' corner {Z[0, 0]:.4f} center {Z[10, 10]:.4f}')
        with torch.no_grad():
            test_pred = method(X_test, sparsity).argmax(dim=1)
        print(f'  test accuracy {(test_pred == y_test).float().mean().item():.4f}')
