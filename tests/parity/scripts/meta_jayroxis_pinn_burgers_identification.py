# Source: jayroxis, PINNs (a PyTorch port of Raissi, Perdikaris & Karniadakis's physics-informed neural
#   networks, https://github.com/maziarraissi/PINNs): "Burgers Identification (PyTorch)",
#   https://github.com/jayroxis/PINNs  Burgers Equation/Burgers Identification (PyTorch).ipynb
#   (data-driven discovery of the Burgers coefficients lambda_1, lambda_2: the residual
#   u_t + lambda_1 u u_x - exp(lambda_2) u_xx built with torch.autograd.grad(..., grad_outputs=
#   torch.ones_like(u), create_graph=True), trained with Adam and then LBFGS with a strong Wolfe line search).
# Shrunk: burgers_shock.mat (scipy.io.loadmat) replaced by the exact Cole-Hopf solution
#   u = 2 nu pi e^(-nu pi^2 t) sin(pi x) / (1.2 + e^(-nu pi^2 t) cos(pi x)) of u_t + u u_x = nu u_xx on a
#   64 x 25 grid of [-1, 1] x [0, 1] (NumPy); N_u = 200 instead of 2000; layers [2, 20, 20, 20, 1] instead
#   of eight hidden layers; LBFGS max_iter=12 / max_eval=15 instead of 50000 and a print every 3 closure
#   calls instead of 100; the noisy run trains 12 Adam steps (a print every 4) instead of 10000.
#   The plotting cells (griddata + matplotlib) are dropped; the error prints index [0] (NumPy 2 no longer
#   formats a 1-element array with %f); an extra print shows u_x, u_xx at a few points.
import torch
from collections import OrderedDict

import numpy as np
import warnings

warnings.filterwarnings('ignore')

np.random.seed(1234)

# CUDA support
if torch.cuda.is_available():
    device = torch.device('cuda')
else:
    device = torch.device('cpu')


# the deep neural network
class DNN(torch.nn.Module):
    def __init__(self, layers):
        super(DNN, self).__init__()

        # parameters
        self.depth = len(layers) - 1

        # set up layer order dict
        self.activation = torch.nn.Tanh

        layer_list = list()
        for i in range(self.depth - 1):
            layer_list.append(
                ('layer_%d' % i, torch.nn.Linear(layers[i], layers[i+1]))
            )
            layer_list.append(('activation_%d' % i, self.activation()))

        layer_list.append(
            ('layer_%d' % (self.depth - 1), torch.nn.Linear(layers[-2], layers[-1]))
        )
        layerDict = OrderedDict(layer_list)

        # deploy layers
        self.layers = torch.nn.Sequential(layerDict)

    def forward(self, x):
        out = self.layers(x)
        return out


# the physics-guided neural network
class PhysicsInformedNN():
    def __init__(self, X, u, layers, lb, ub):

        # boundary conditions
        self.lb = torch.tensor(lb).float().to(device)
        self.ub = torch.tensor(ub).float().to(device)

        # data
        self.x = torch.tensor(X[:, 0:1], requires_grad=True).float().to(device)
        self.t = torch.tensor(X[:, 1:2], requires_grad=True).float().to(device)
        self.u = torch.tensor(u).float().to(device)

        # settings
        self.lambda_1 = torch.tensor([0.0], requires_grad=True).to(device)
        self.lambda_2 = torch.tensor([-6.0], requires_grad=True).to(device)

        self.lambda_1 = torch.nn.Parameter(self.lambda_1)
        self.lambda_2 = torch.nn.Parameter(self.lambda_2)

        # deep neural networks
        self.dnn = DNN(layers).to(device)
        self.dnn.register_parameter('lambda_1', self.lambda_1)
        self.dnn.register_parameter('lambda_2', self.lambda_2)

         # optimizers: using the same settings
        self.optimizer = torch.optim.LBFGS(
            self.dnn.parameters(),
            lr=1.0,
            max_iter=12,
            max_eval=15,
            history_size=50,
            tolerance_grad=1e-5,
            tolerance_change=1.0 * np.finfo(float).eps,
            line_search_fn="strong_wolfe"       # can be "strong_wolfe"
        )

        self.optimizer_Adam = torch.optim.Adam(self.dnn.parameters())
        self.iter = 0

    def net_u(self, x, t):
        u = self.dnn(torch.cat([x, t], dim=1))
        return u

    def net_f(self, x, t):
        """ The pytorch autograd version of calculating residual """
        lambda_1 = self.lambda_1
        lambda_2 = torch.exp(self.lambda_2)
        u = self.net_u(x, t)

        u_t = torch.autograd.grad(
            u, t,
            grad_outputs=torch.ones_like(u),
            retain_graph=True,
            create_graph=True
        )[0]
        u_x = torch.autograd.grad(
            u, x,
            grad_outputs=torch.ones_like(u),
            retain_graph=True,
            create_graph=True
        )[0]
        u_xx = torch.autograd.grad(
            u_x, x,
            grad_outputs=torch.ones_like(u_x),
            retain_graph=True,
            create_graph=True
        )[0]

        f = u_t + lambda_1 * u * u_x - lambda_2 * u_xx
        return f

    def loss_func(self):
        u_pred = self.net_u(self.x, self.t)
        f_pred = self.net_f(self.x, self.t)
        loss = torch.mean((self.u - u_pred) ** 2) + torch.mean(f_pred ** 2)
        self.optimizer.zero_grad()
        loss.backward()

        self.iter += 1
        if self.iter % 3 == 0:
            print(
                'Loss: %e, l1: %.5f, l2: %.5f' %
                (
                    loss.item(),
                    self.lambda_1.item(),
                    torch.exp(self.lambda_2.detach()).item()
                )
            )
        return loss

    def train(self, nIter):
        self.dnn.train()
        for epoch in range(nIter):
            u_pred = self.net_u(self.x, self.t)
            f_pred = self.net_f(self.x, self.t)
            loss = torch.mean((self.u - u_pred) ** 2) + torch.mean(f_pred ** 2)

            # Backward and optimize
            self.optimizer_Adam.zero_grad()
            loss.backward()
            self.optimizer_Adam.step()

            if epoch % 4 == 0:
                print(
                    'It: %d, Loss: %.3e, Lambda_1: %.3f, Lambda_2: %.6f' %
                    (
                        epoch,
                        loss.item(),
                        self.lambda_1.item(),
                        torch.exp(self.lambda_2).item()
                    )
                )

        # Backward and optimize
        self.optimizer.step(self.loss_func)

    def predict(self, X):
        x = torch.tensor(X[:, 0:1], requires_grad=True).float().to(device)
        t = torch.tensor(X[:, 1:2], requires_grad=True).float().to(device)

        self.dnn.eval()
        u = self.net_u(x, t)
        f = self.net_f(x, t)
        u = u.detach().cpu().numpy()
        f = f.detach().cpu().numpy()
        return u, f


nu = 0.01/np.pi

N_u = 200
layers = [2, 20, 20, 20, 1]

# in place of data = scipy.io.loadmat('data/burgers_shock.mat'): the exact Cole-Hopf solution
t = np.linspace(0, 1, 25).flatten()[:,None]
x = np.linspace(-1, 1, 64).flatten()[:,None]
decay = np.exp(-nu * np.pi**2 * t)  # (25, 1)
Exact = 2 * nu * np.pi * decay * np.sin(np.pi * x.T) / (1.2 + decay * np.cos(np.pi * x.T))  # (25, 64) = usol.T

X, T = np.meshgrid(x,t)

X_star = np.hstack((X.flatten()[:,None], T.flatten()[:,None]))
u_star = Exact.flatten()[:,None]

# Doman bounds
lb = X_star.min(0)
ub = X_star.max(0)

## Training on Non-noisy Data
noise = 0.0

# create training set
idx = np.random.choice(X_star.shape[0], N_u, replace=False)
X_u_train = X_star[idx,:]
u_train = u_star[idx,:]

# training
model = PhysicsInformedNN(X_u_train, u_train, layers, lb, ub)
print(model.dnn)
print([name for name, _ in model.dnn.named_parameters()])
model.train(0)

# extra print: the derivatives the residual is built from, at a few training points
x_few, t_few = model.x[:3].detach().requires_grad_(), model.t[:3].detach().requires_grad_()
u_few = model.net_u(x_few, t_few)
u_x_few = torch.autograd.grad(u_few, x_few, grad_outputs=torch.ones_like(u_few), create_graph=True)[0]
u_xx_few = torch.autograd.grad(u_x_few, x_few, grad_outputs=torch.ones_like(u_x_few), create_graph=True)[0]
print('u_x:', u_x_few.detach().flatten())
print('u_xx:', u_xx_few.detach().flatten())

# evaluations
u_pred, f_pred = model.predict(X_star)

error_u = np.linalg.norm(u_star-u_pred,2)/np.linalg.norm(u_star,2)

lambda_1_value = model.lambda_1.detach().cpu().numpy()
lambda_2_value = model.lambda_2.detach().cpu().numpy()
lambda_2_value = np.exp(lambda_2_value)

error_lambda_1 = np.abs(lambda_1_value - 1.0) * 100
error_lambda_2 = np.abs(lambda_2_value - nu) / nu * 100

print('Error u: %e' % (error_u))
print('Error l1: %.5f%%' % (error_lambda_1[0]))
print('Error l2: %.5f%%' % (error_lambda_2[0]))

## Training on Noisy Data
noise = 0.01

# create training set
u_train = u_train + noise*np.std(u_train)*np.random.randn(u_train.shape[0], u_train.shape[1])

# training
model = PhysicsInformedNN(X_u_train, u_train, layers, lb, ub)
model.train(12)

u_pred, f_pred = model.predict(X_star)
print('Error u: %e' % (np.linalg.norm(u_star-u_pred,2)/np.linalg.norm(u_star,2)))
print('f_pred:', f_pred.shape, 'mean |f|: %.6f' % np.abs(f_pred).mean())
