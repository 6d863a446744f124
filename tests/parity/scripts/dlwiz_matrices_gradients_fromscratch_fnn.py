# Source: Ritchie Ng, Deep Learning Wizard, "Matrices", "Gradients" and "Forward- and
#   Backpropagation and Gradient Descent (From Scratch FNN Regression)":
#   https://github.com/ritchieng/deep-learning-wizard  docs/deep_learning/practical_pytorch/pytorch_matrices.md,
#   docs/deep_learning/practical_pytorch/pytorch_gradients.md,
#   docs/deep_learning/boosting_models_pytorch/forwardpropagation_backpropagation_gradientdescent.md
# Shrunk: notebook cells turned into prints (each cell's displayed value is printed); the page's
# intentional errors are caught and their type and message printed; the from-scratch FNN trains on a
# synthetic iris-like table (150 rows, 2 features L2-normalised with NumPy as sklearn's
# preprocessing.normalize does, 3 classes) instead of sklearn's iris, for 41 epochs instead of 101.
import numpy as np
import torch
import torch.nn as nn

# ---------------------------------------------------------------- Matrices
# Creating a 2x2 array
arr = [[1, 2], [3, 4]]
print(arr)
# Convert to NumPy
print(repr(np.array(arr)))
# Convert to PyTorch Tensor
print(torch.Tensor(arr))
print(repr(np.ones((2, 2))))
print(torch.ones((2, 2)))
print(torch.rand(2, 2))

# Torch Seed
torch.manual_seed(0)
print(torch.rand(2, 2))
# Torch Seed
torch.manual_seed(0)
print(torch.rand(2, 2))
# Torch No Seed
print(torch.rand(2, 2))
# Torch No Seed
print(torch.rand(2, 2))

if torch.cuda.is_available():
    torch.cuda.manual_seed_all(0)

# Numpy array
np_array = np.ones((2, 2))
print(np_array)
print(type(np_array))
# Convert to Torch Tensor
torch_tensor = torch.from_numpy(np_array)
print(torch_tensor)
print(type(torch_tensor), torch_tensor.type(), torch_tensor.dtype)

# Data types matter: intentional error (in old PyTorch; int8 converts now)
for dtype in [np.int8, np.int64, np.int32, np.uint8, np.float64, np.double, np.float32, np.float16, np.bool_]:
    np_array_new = np.ones((2, 2), dtype=dtype)
    t = torch.from_numpy(np_array_new)
    print(np.dtype(dtype).name, t.type(), t)

for dtype in [np.uint16, np.str_, object]:
    try:
        print(torch.from_numpy(np.ones((2, 2), dtype=dtype)))
    except TypeError as e:
        print(np.dtype(dtype).name, type(e).__name__, e)

torch_tensor = torch.ones(2, 2)
print(type(torch_tensor))
torch_to_numpy = torch_tensor.numpy()
print(type(torch_to_numpy), torch_to_numpy.dtype)

# CPU
tensor_cpu = torch.ones(2, 2)
# CPU to GPU
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
print(device, tensor_cpu.to(device))
# GPU to CPU
print(tensor_cpu.cpu())

a = torch.ones(2, 2)
print(a)
print(a.size())
print(a.view(4))
print(a.view(4).size())

a = torch.ones(2, 2)
b = torch.ones(2, 2)
# Element-wise addition
c = a + b
print(c)
c = torch.add(a, b)
print(c)
# In-place addition
print('Old c tensor')
print(c)
c.add_(a)
print('-'*60)
print('New c tensor')
print(c)

print(a - b)
# Not in-place
print(a.sub(b))
print(a)
# Inplace
print(a.sub_(b))
print(a)

a = torch.ones(2, 2)
b = torch.zeros(2, 2)
print(a * b)
# Not in-place
print(torch.mul(a, b))
print(a)
# In-place
print(a.mul_(b))
print(a)

a = torch.ones(2, 2)
b = torch.zeros(2, 2)
print(b / a)
print(torch.div(b, a))
# Inplace
print(b.div_(a))

a = torch.Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
print(a.size())
print(a.mean(dim=0))
try:
    print(a.mean(dim=1))
except (IndexError, RuntimeError) as e:
    print(type(e).__name__, e)

a = torch.Tensor([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]])
print(a.size())
print(a.mean(dim=1))
a = torch.Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
print(a.std(dim=0))

# ---------------------------------------------------------------- Gradients
a = torch.ones((2, 2), requires_grad=True)
print(a)
print(a.requires_grad)
# Normal way of creating gradients
a = torch.ones((2, 2))
# Requires gradient
print(a.requires_grad_())
# Check if requires gradient
print(a.requires_grad)
# Not a variable
no_gradient = torch.ones(2, 2)
print(no_gradient.requires_grad)
# Behaves similarly to tensors
b = torch.ones((2, 2), requires_grad=True)
print(a + b)
print(torch.add(a, b))
print(a * b)
print(torch.mul(a, b))

x = torch.ones(2, requires_grad=True)
print(x)
y = 5 * (x + 1) ** 2
print(y)
o = (1/2) * torch.sum(y)
print(o)
o.backward()
print(x.grad)
print(x.requires_grad)
print(y.requires_grad)
print(o.requires_grad)
print(x.is_leaf, y.is_leaf, o.is_leaf, x.grad_fn, type(y.grad_fn).__name__, type(o.grad_fn).__name__)

# ---------------------------------------------------------------- From-scratch FNN
# Set manual seed
torch.manual_seed(2)

features = np.random.RandomState(2).normal(loc=[5.8, 3.0], scale=[0.8, 0.4], size=(150, 2))
features[:50, 0] -= 0.8
features[50:100, 1] -= 0.4
features = features / np.sqrt((features ** 2).sum(axis=1, keepdims=True))  # preprocessing.normalize
target = np.repeat(np.arange(3), 50)
X = torch.tensor(features, dtype=torch.float)
y = torch.tensor(target.reshape(-1, 1), dtype=torch.float)
print(X.size())
print(y.size())

# We only take 2 classes to make a binary classification problem
X = X[:y[y < 2].size()[0]]
y = y[:y[y < 2].size()[0]]
print(X.size())
print(y.size())


class FNN(nn.Module):
    def __init__(self, ):
        super().__init__()

        # Dimensions for input, hidden and output
        self.input_dim = 2
        self.hidden_dim = 32
        self.output_dim = 1

        # Learning rate definition
        self.learning_rate = 0.001

        # Our parameters (weights)
        # w1: 2 x 32
        self.w1 = torch.randn(self.input_dim, self.hidden_dim)

        # w2: 32 x 1
        self.w2 = torch.randn(self.hidden_dim, self.output_dim)

    def sigmoid(self, s):
        return 1 / (1 + torch.exp(-s))

    def sigmoid_first_order_derivative(self, s):
        return s * (1 - s)

    # Forward propagation
    def forward(self, X):
        # First linear layer
        self.y1 = torch.matmul(X, self.w1)  # 3 X 3 ".dot" does not broadcast in PyTorch

        # First non-linearity
        self.y2 = self.sigmoid(self.y1)

        # Second linear layer
        self.y3 = torch.matmul(self.y2, self.w2)

        # Second non-linearity
        y4 = self.sigmoid(self.y3)
        return y4

    # Backward propagation
    def backward(self, X, l, y4):
        # Derivative of binary cross entropy cost w.r.t. final output y4
        self.dC_dy4 = y4 - l

        '''
        Gradients for w2: partial derivative of cost w.r.t. w2
        dC/dw2
        '''
        self.dy4_dy3 = self.sigmoid_first_order_derivative(y4)
        self.dy3_dw2 = self.y2

        # Y4 delta: dC_dy4 dy4_dy3
        self.y4_delta = self.dC_dy4 * self.dy4_dy3

        # This is our gradients for w1: dC_dy4 dy4_dy3 dy3_dw2
        self.dC_dw2 = torch.matmul(torch.t(self.dy3_dw2), self.y4_delta)

        '''
        Gradients for w1: partial derivative of cost w.r.t w1
        dC/dw1
        '''
        self.dy3_dy2 = self.w2
        self.dy2_dy1 = self.sigmoid_first_order_derivative(self.y2)

        # Y2 delta: (dC_dy4 dy4_dy3) dy3_dy2 dy2_dy1
        self.y2_delta = torch.matmul(self.y4_delta, torch.t(self.dy3_dy2)) * self.dy2_dy1

        # Gradients for w1: (dC_dy4 dy4_dy3) dy3_dy2 dy2_dy1 dy1_dw1
        self.dC_dw1 = torch.matmul(torch.t(X), self.y2_delta)

        # Gradient descent on the weights from our 2 linear layers
        self.w1 -= self.learning_rate * self.dC_dw1
        self.w2 -= self.learning_rate * self.dC_dw2

    def train(self, X, l):
        # Forward propagation
        y4 = self.forward(X)

        # Backward propagation and gradient descent
        self.backward(X, l, y4)


# Instantiate our model class and assign it to our model object
model = FNN()
print(model, list(model.parameters()), model.training)
print(model.w1.shape, model.w2[:3])

# Loss list for plotting of loss behaviour
loss_lst = []

# Number of times we want our FNN to look at all 100 samples we have, 100 implies looking through 100x
num_epochs = 41

# Let's train our model with 100 epochs
for epoch in range(num_epochs):
    # Get our predictions
    y_hat = model(X)

    # Cross entropy loss, remember this can never be negative by nature of the equation
    # But it does not mean the loss can't be negative for other loss functions
    cross_entropy_loss = -(y * torch.log(y_hat) + (1 - y) * torch.log(1 - y_hat))

    # We have to take cross entropy loss over all our samples, 100 in this 2-class iris dataset
    mean_cross_entropy_loss = torch.mean(cross_entropy_loss).detach().item()

    # Print our mean cross entropy loss
    if epoch % 10 == 0:
        print('Epoch {} | Loss: {}'.format(epoch, mean_cross_entropy_loss))
    loss_lst.append(mean_cross_entropy_loss)

    # (1) Forward propagation: to get our predictions to pass to our cross entropy loss function
    # (2) Back propagation: get our partial derivatives w.r.t. parameters (gradients)
    # (3) Gradient Descent: update our weights with our gradients
    model.train(X, y)

print(len(loss_lst), min(loss_lst))
print(model.dC_dw2[:4])
print(model.w2[:4].t())
print(model.training, hasattr(model, 'y4_delta'), model.y4_delta.shape)
