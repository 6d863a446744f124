# Source: Juan Diego Toscano, "Learning Python: Physics-Informed Machine Learning (PINNs, DeepONets)",
#   https://github.com/jdtoscano94/Learning-Python-Physics-Informed-Machine-Learning-PINNs-DeepONets
#   Tutorials/PINNs/4_DiffusionEquation.ipynb  (forward PINN for u_t = u_xx - e^-t (sin(pi x) - pi^2 sin(pi x))
#   with exact solution e^-t sin(pi x): grid from torch.linspace + torch.meshgrid, boundary sets from
#   torch.hstack / torch.vstack, collocation points lb + (ub - lb) * lhs(2, Nf) (a float32 tensor times
#   a float64 NumPy array), FCN with nn.ModuleList, xavier_normal_ / zeros_ on .weight.data, nn.MSELoss,
#   the PDE residual from autograd.grad(f, g, torch.ones([N, 1]), retain_graph=True, create_graph=True)
#   and a second autograd.grad with torch.ones(g.shape), trained with Adam; reshape(shape=[...])).
# Shrunk: a 40 x 20 grid instead of 200 x 100, Nu = 30 boundary points instead of 100, Nf = 300
#   collocation points instead of 10000, layers [2, 16, 16, 1] instead of [2, 32, 32, 1], 30 Adam steps
#   instead of 20000. pyDOE (not a test dependency) is the folder pyDOE/ beside the scripts: its lhs's
#   classic algorithm in NumPy (same draws: np.random.rand then one np.random.permutation per column); the
#   matplotlib plots (plot3D, plot3D_Matrix) are dropped and print a few values of their arrays
#   instead; `import time` / start_time and the unused sklearn, scipy, matplotlib imports are dropped.
import torch
import torch.autograd as autograd         # computation graph
from torch import Tensor                  # tensor node in the computation graph
import torch.nn as nn                     # neural networks
import torch.optim as optim               # optimizers e.g. gradient descent, ADAM, etc.

import numpy as np

from pyDOE import lhs         #Latin Hypercube Sampling (pyDOE/ beside the scripts)

#Set default dtype to float32
torch.set_default_dtype(torch.float)

#PyTorch random number generator
torch.manual_seed(1234)

np.random.seed(1234)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

print(device)

if device == 'cuda':
    print(torch.cuda.get_device_name())

steps=30
lr=1e-3
layers = np.array([2,16,16,1]) # hidden layers
x_min=-1
x_max=1
t_min=0
t_max=1
total_points_x=40
total_points_t=20
#Nu: Number of training points # Nf: Number of collocation points (Evaluate PDE)
Nu=30
Nf=300
def plot3D(x,t,y):
  x_plot =x.squeeze(1)
  t_plot =t.squeeze(1)
  X,T= torch.meshgrid(x_plot,t_plot)
  F_xt = y
  # in place of contourf / plot_surface
  print('plot3D:', T.shape, X.shape, F_xt.shape, F_xt[::10, ::5])
def plot3D_Matrix(x,t,y):
  X,T= x,t
  F_xt = y
  # in place of contourf / plot_surface
  print('plot3D_Matrix:', T.shape, X.shape, F_xt.shape, F_xt[::10, ::5])
def f_real(x,t):
  return torch.exp(-t)*(torch.sin(np.pi*x))
class FCN(nn.Module):
  #https://github.com/omniscientoctopus/Physics-Informed-Neural-Networks/tree/main/PyTorch/Burgers'%20Equation
    ##Neural Network
    def __init__(self,layers):
        super().__init__() #call __init__ from parent class
        'activation function'
        self.activation = nn.Tanh()
        'loss function'
        self.loss_function = nn.MSELoss(reduction ='mean')
        'Initialise neural network as a list using nn.Modulelist'
        self.linears = nn.ModuleList([nn.Linear(layers[i], layers[i+1]) for i in range(len(layers)-1)])
        self.iter = 0 #For the Optimizer
        'Xavier Normal Initialization'
        for i in range(len(layers)-1):
            nn.init.xavier_normal_(self.linears[i].weight.data, gain=1.0)
            # set biases to zero
            nn.init.zeros_(self.linears[i].bias.data)
    'foward pass'
    def forward(self,x):
        if torch.is_tensor(x) != True:
            x = torch.from_numpy(x)
        a = x.float()
        for i in range(len(layers)-2):
            z = self.linears[i](a)
            a = self.activation(z)
        a = self.linears[-1](a)
        return a
    'Loss Functions'
    #Loss BC
    def lossBC(self,x_BC,y_BC):
      loss_BC=self.loss_function(self.forward(x_BC),y_BC)
      return loss_BC
    #Loss PDE
    def lossPDE(self,x_PDE):
      g=x_PDE.clone()
      g.requires_grad=True #Enable differentiation
      f=self.forward(g)
      f_x_t = autograd.grad(f,g,torch.ones([g.shape[0], 1]).to(device), retain_graph=True, create_graph=True)[0] #first derivative
      f_xx_tt = autograd.grad(f_x_t,g,torch.ones(g.shape).to(device), create_graph=True)[0]#second derivative
      f_t=f_x_t[:,[1]]# we select the 2nd element for t (the first one is x) (Remember the input X=[x,t])
      f_xx=f_xx_tt[:,[0]]# we select the 1st element for x (the second one is t) (Remember the input X=[x,t])
      f=f_t-f_xx+ torch.exp(-g[:, 1:])* (torch.sin(np.pi * g[:, 0:1]) - np.pi ** 2 * torch.sin(np.pi * g[:, 0:1]))
      return self.loss_function(f,f_hat)

    def loss(self,x_BC,y_BC,x_PDE):
      loss_bc=self.lossBC(x_BC,y_BC)
      loss_pde=self.lossPDE(x_PDE)
      return loss_bc+loss_pde

    #Optimizer              X_train_Nu,Y_train_Nu,X_train_Nf
    def closure(self):
      optimizer.zero_grad()
      loss = self.loss(X_train_Nu,Y_train_Nu,X_train_Nf)
      loss.backward()
      self.iter += 1
      if self.iter % 100 == 0:
        loss2=self.lossBC(X_test,Y_test)
        print("Training Error:",loss.detach().cpu().numpy(),"---Testing Error:",loss2.detach().cpu().numpy())
      return loss
x=torch.linspace(x_min,x_max,total_points_x).view(-1,1)
t=torch.linspace(t_min,t_max,total_points_t).view(-1,1)
X,T=torch.meshgrid(x.squeeze(1),t.squeeze(1))
y_real=f_real(X,T)
plot3D(x,t,y_real) #f_real was defined previously(function)
print(x.shape,t.shape,y_real.shape)
print(X.shape,T.shape)
x_test=torch.hstack((X.transpose(1,0).flatten()[:,None],T.transpose(1,0).flatten()[:,None]))
y_test=y_real.transpose(1,0).flatten()[:,None] # Colum major Flatten (so we transpose it)
lb=x_test[0] #first value
ub=x_test[-1] #last value
print(x_test.shape,y_test.shape)
print(lb,ub)
#Initial Condition
#Left Edge: x(x,0)=sin(x)->xmin=<x=<xmax; t=0
left_X=torch.hstack((X[:,0][:,None],T[:,0][:,None])) # First column # The [:,None] is to give it the right dimension
left_Y=torch.sin(np.pi*left_X[:,0]).unsqueeze(1)
#Boundary Conditions
#Bottom Edge: x=min; tmin=<t=<max
bottom_X=torch.hstack((X[0,:][:,None],T[0,:][:,None])) # First row # The [:,None] is to give it the right dimension
bottom_Y=torch.zeros(bottom_X.shape[0],1)
#Top Edge: x=max; 0=<t=<1
top_X=torch.hstack((X[-1,:][:,None],T[-1,:][:,None])) # Last row # The [:,None] is to give it the right dimension
top_Y=torch.zeros(top_X.shape[0],1)
#Get all the training data into the same dataset
X_train=torch.vstack([left_X,bottom_X,top_X])
Y_train=torch.vstack([left_Y,bottom_Y,top_Y])
#Choose(Nu) points of our available training data:
idx=np.random.choice(X_train.shape[0],Nu,replace=False)
X_train_Nu=X_train[idx,:]
Y_train_Nu=Y_train[idx,:]
#Choose(Nf) points(Latin hypercube)
X_train_Nf=lb+(ub-lb)*lhs(2,Nf) # 2 as the inputs are x and t
print(type(X_train_Nf).__name__, X_train_Nf.dtype, X_train_Nf[:3])  # extra print
X_train_Nf=torch.vstack((X_train_Nf,X_train_Nu)) #Add the training poinst to the collocation points
print("Original shapes for X and Y:",X.shape,y_real.shape)
print("Boundary shapes for the edges:",left_X.shape,bottom_X.shape,top_X.shape)
print("Available training data:",X_train.shape,Y_train.shape)
print("Final training data:",X_train_Nu.shape,Y_train_Nu.shape)
print("Total collocation points:",X_train_Nf.shape, X_train_Nf.dtype)
torch.manual_seed(123)
#Store tensors to GPU
X_train_Nu=X_train_Nu.float().to(device)#Training Points (BC)
Y_train_Nu=Y_train_Nu.float().to(device)#Training Points (BC)
X_train_Nf=X_train_Nf.float().to(device)#Collocation Points
f_hat = torch.zeros(X_train_Nf.shape[0],1).to(device)#to minimize function

X_test=x_test.float().to(device) # the input dataset (complete)
Y_test=y_test.float().to(device) # the real solution


#Create Model
PINN = FCN(layers)
PINN.to(device)
print(PINN)
params = list(PINN.parameters())
print([p.shape for p in params])
optimizer = torch.optim.Adam(PINN.parameters(),lr=lr,amsgrad=False)
'''
'L-BFGS Optimizer'
optimizer = torch.optim.LBFGS(PINN.parameters(), lr=lr,
                              max_iter = steps,
                              max_eval = None,
                              tolerance_grad = 1e-05,
                              tolerance_change = 1e-09,
                              history_size = 100,
                              line_search_fn = 'strong_wolfe')'''

#optimizer.step(PINN.closure)
for i in range(steps):
    if i==0:
      print("Training Loss-----Test Loss")
    loss = PINN.loss(X_train_Nu,Y_train_Nu,X_train_Nf)# use mean squared error
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if i%(steps/10)==0:
      with torch.no_grad():
        test_loss=PINN.lossBC(X_test,Y_test)
      print(loss.detach().cpu().numpy(),'---',test_loss.detach().cpu().numpy())
y1=PINN(X_test)
x1=X_test[:,0]
t1=X_test[:,1]
arr_x1=x1.reshape(shape=[20,40]).transpose(1,0).detach().cpu()
arr_T1=t1.reshape(shape=[20,40]).transpose(1,0).detach().cpu()
arr_y1=y1.reshape(shape=[20,40]).transpose(1,0).detach().cpu()
arr_y_test=y_test.reshape(shape=[20,40]).transpose(1,0).detach().cpu()
plot3D_Matrix(arr_x1,arr_T1,arr_y1)
plot3D_Matrix(X,T,y_real)
print(y1.grad_fn.name(), arr_y1.requires_grad, arr_y1.is_contiguous(), torch.equal(arr_y_test, y_real))
