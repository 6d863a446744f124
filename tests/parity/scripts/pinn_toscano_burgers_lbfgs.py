# Source: Juan Diego Toscano, "Learning Python: Physics-Informed Machine Learning (PINNs, DeepONets)",
#   https://github.com/jdtoscano94/Learning-Python-Physics-Informed-Machine-Learning-PINNs-DeepONets
#   Tutorials/PINNs/5_BurgersEquation.ipynb  (forward PINN for u_t + u u_x = nu u_xx: NumPy meshgrid /
#   hstack / vstack boundary sets and lhs collocation points, an FCN with input scaling by
#   torch.from_numpy(lb/ub), autograd.grad twice with create_graph=True, nn.MSELoss against f_hat,
#   trained by torch.optim.LBFGS(params, lr, max_iter, max_eval=None, ..., line_search_fn='strong_wolfe')
#   through the model's closure, which prints the loss and torch.linalg.norm relative error tensors).
# Shrunk: Burgers.mat (scipy.io.loadmat, a 256 x 100 shock solution) replaced by the exact rational
#   solution u = x / (1 + t) of the same equation (u_xx = 0) on a 64 x 25 grid (NumPy); N_u = 40 instead
#   of 100, N_f = 200 instead of 10000, layers [2, 20, 20, 20, 1] instead of eight hidden layers of 20;
#   LBFGS max_iter (steps) 7 instead of 10000 and a closure print every 3 calls instead of 100 (PyTorch's
#   own run drifts with a 1e-7 change of the weights after about ten calls here, so it stops before).
#   pyDOE (not a test dependency) is the folder pyDOE/ beside the scripts. The matplotlib plots (plot3D,
#   plot3D_Matrix, solutionplot) are dropped and print a few values instead; the "Training time" print
#   is dropped (a timing); an extra print shows LBFGS's state counters.
import torch
import torch.autograd as autograd         # computation graph
from torch import Tensor                  # tensor node in the computation graph
import torch.nn as nn                     # neural networks
import torch.optim as optim               # optimizers e.g. gradient descent, ADAM, etc.

import numpy as np
from pyDOE import lhs         #Latin Hypercube Sampling

#Set default dtype to float32
torch.set_default_dtype(torch.float)

#PyTorch random number generator
torch.manual_seed(1234)

np.random.seed(1234)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

print(device)

if device == 'cuda':
    print(torch.cuda.get_device_name())

steps=7
lr=1e-1
layers = np.array([2,20,20,20,1]) #3 hidden layers
#Nu: Number of training points # Nf: Number of collocation points (Evaluate PDE)
N_u = 40 #Total number of data points for 'u'
N_f = 200 #Total number of collocation points
nu = 0.01/np.pi #diffusion coeficient
def plot3D(x,t,y):
  x_plot =x.squeeze(1)
  t_plot =t.squeeze(1)
  X,T= torch.meshgrid(x_plot,t_plot)
  F_xt = y
  # in place of contourf / plot_surface
  print('plot3D:', T.shape, X.shape, F_xt.shape, F_xt[::16, ::8])
def plot3D_Matrix(x,t,y):
  X,T= x,t
  F_xt = y
  # in place of contourf / plot_surface
  print('plot3D_Matrix:', T.shape, X.shape, F_xt.shape, F_xt[::16, ::8])
class FCN(nn.Module):

    def __init__(self,layers):
        super().__init__() #call __init__ from parent class

        'activation function'
        self.activation = nn.Tanh()

        'loss function'
        self.loss_function = nn.MSELoss(reduction ='mean')

        'Initialise neural network as a list using nn.Modulelist'
        self.linears = nn.ModuleList([nn.Linear(layers[i], layers[i+1]) for i in range(len(layers)-1)])

        self.iter = 0

        'Xavier Normal Initialization'
        for i in range(len(layers)-1):

            nn.init.xavier_normal_(self.linears[i].weight.data, gain=1.0)

            # set biases to zero
            nn.init.zeros_(self.linears[i].bias.data)

    'foward pass'
    def forward(self,x):

        if torch.is_tensor(x) != True:
            x = torch.from_numpy(x)

        u_b = torch.from_numpy(ub).float().to(device)
        l_b = torch.from_numpy(lb).float().to(device)

        #preprocessing input
        x = (x - l_b)/(u_b - l_b) #feature scaling

        #convert to float
        a = x.float()

        for i in range(len(layers)-2):

            z = self.linears[i](a)

            a = self.activation(z)

        a = self.linears[-1](a)

        return a

    def loss_BC(self,x,y):

        loss_u = self.loss_function(self.forward(x), y)

        return loss_u

    def loss_PDE(self, X_train_Nf):

        g = X_train_Nf.clone()

        g.requires_grad = True

        u = self.forward(g)

        u_x_t = autograd.grad(u,g,torch.ones([X_train_Nf.shape[0], 1]).to(device), retain_graph=True, create_graph=True)[0]

        u_xx_tt = autograd.grad(u_x_t,g,torch.ones(X_train_Nf.shape).to(device), create_graph=True)[0]

        u_x = u_x_t[:,[0]]

        u_t = u_x_t[:,[1]]

        u_xx = u_xx_tt[:,[0]]

        f = u_t + (self.forward(g))*(u_x) - (nu)*u_xx

        loss_f = self.loss_function(f,f_hat)

        return loss_f

    def loss(self,x,y,X_train_Nf):

        loss_u = self.loss_BC(x,y)
        loss_f = self.loss_PDE(X_train_Nf)

        loss_val = loss_u + loss_f

        return loss_val

    'callable for optimizer'
    def closure(self):

        optimizer.zero_grad()

        loss = self.loss(X_train_Nu, U_train_Nu, X_train_Nf)

        loss.backward()

        self.iter += 1

        if self.iter % 3 == 0:

            error_vec, _ = PINN.test()

            print(loss,error_vec)

        return loss

    'test neural network'
    def test(self):

        u_pred = self.forward(X_test)

        error_vec = torch.linalg.norm((u-u_pred),2)/torch.linalg.norm(u,2)        # Relative L2 Norm of the error (Vector)

        u_pred = u_pred.cpu().detach().numpy()

        u_pred = np.reshape(u_pred,(64,25),order='F')

        return error_vec, u_pred
# in place of data = scipy.io.loadmat('.../Data/Burgers.mat'): an exact solution
x = np.linspace(-1, 1, 64)[:,None]              # 64 points between -1 and 1 [64x1]
t = np.linspace(0, 1, 25)[:,None]               # 25 time points between 0 and 1 [25x1]
usol = x / (1 + t.T)                            # solution of 64x25 grid points

X, T = np.meshgrid(x,t)                         # makes 2 arrays X and T such that u(X[i],T[j])=usol[i][j] are a tuple
plot3D(torch.from_numpy(x),torch.from_numpy(t),torch.from_numpy(usol)) #f_real was defined previously(function)
print(x.shape,t.shape,usol.shape)
print(X.shape,T.shape)
X_test = np.hstack((X.flatten()[:,None], T.flatten()[:,None]))

lb = X_test[0]  # [-1. 0.]
ub = X_test[-1] # [1.  0.99]
u_true = usol.flatten('F')[:,None] #Fortran style (Column Major)
print(lb,ub)
'''Boundary Conditions'''

#Initial Condition -1 =< x =<1 and t = 0
left_X = np.hstack((X[0,:][:,None], T[0,:][:,None])) #L1
left_U = usol[:,0][:,None]

#Boundary Condition x = -1 and 0 =< t =<1
bottom_X = np.hstack((X[:,0][:,None], T[:,0][:,None])) #L2
bottom_U = usol[-1,:][:,None]

#Boundary Condition x = 1 and 0 =< t =<1
top_X = np.hstack((X[:,-1][:,None], T[:,0][:,None])) #L3
top_U = usol[0,:][:,None]

X_train = np.vstack([left_X, bottom_X, top_X])
U_train = np.vstack([left_U, bottom_U, top_U])

#choose random N_u points for training
idx = np.random.choice(X_train.shape[0], N_u, replace=False)

X_train_Nu = X_train[idx, :] #choose indices from  set 'idx' (x,t)
U_train_Nu = U_train[idx,:]      #choose corresponding u

'''Collocation Points'''

X_train_Nf = lb + (ub-lb)*lhs(2,N_f)
X_train_Nf = np.vstack((X_train_Nf, X_train_Nu)) # append training points to collocation points
print("Original shapes for X and U:",X.shape,usol.shape)
print("Boundary shapes for the edges:",left_X.shape,bottom_X.shape,top_X.shape)
print("Available training data:",X_train.shape,U_train.shape)
print("Final training data:",X_train_Nu.shape,U_train_Nu.shape)
print("Total collocation points:",X_train_Nf.shape)

'Convert to tensor and send to GPU'
X_train_Nf = torch.from_numpy(X_train_Nf).float().to(device)
X_train_Nu = torch.from_numpy(X_train_Nu).float().to(device)
U_train_Nu = torch.from_numpy(U_train_Nu).float().to(device)
X_test = torch.from_numpy(X_test).float().to(device)
u = torch.from_numpy(u_true).float().to(device)
f_hat = torch.zeros(X_train_Nf.shape[0],1).to(device)

PINN = FCN(layers)

PINN.to(device)

'Neural Network Summary'
print(PINN)

params = list(PINN.parameters())

'''Optimization'''

'L-BFGS Optimizer'
optimizer = torch.optim.LBFGS(PINN.parameters(), lr,
                              max_iter = steps,
                              max_eval = None,
                              tolerance_grad = 1e-11,
                              tolerance_change = 1e-11,
                              history_size = 100,
                              line_search_fn = 'strong_wolfe')

optimizer.step(PINN.closure)

# extra print: the optimizer's own counters (max_eval=None means max_iter * 5 // 4)
state = optimizer.state[optimizer.param_groups[0]['params'][0]]
print(optimizer.param_groups[0]['max_eval'], state['func_evals'], state['n_iter'], PINN.iter)

''' Model Accuracy '''
error_vec, u_pred = PINN.test()

print('Test Error: %.5f'  % (error_vec))
print(u_pred.shape, u_pred[::16, ::8])  # in place of solutionplot
x1=X_test[:,0]
t1=X_test[:,1]
arr_x1=x1.reshape(shape=X.shape).transpose(1,0).detach().cpu()
arr_T1=t1.reshape(shape=X.shape).transpose(1,0).detach().cpu()
arr_y1=u_pred
arr_y_test=usol
plot3D_Matrix(arr_x1,arr_T1,torch.from_numpy(arr_y1))
plot3D(torch.from_numpy(x),torch.from_numpy(t),torch.from_numpy(usol))
