# Source: Sebastian Raschka, deeplearning-models (PyTorch notebooks), the three graph neural networks
# on MNIST pixels: gnn-basic-1 (a Gaussian-filtered, Kipf & Welling normalized adjacency matrix as a
# buffer, expand(B, -1, -1) + torch.bmm), gnn-basic-edge-1 (the adjacency predicted by an MLP over an
# [N, N, 4] coordinate tensor built with unsqueeze/repeat/cat, assigned to self.A in forward; Adam)
# and gnn-basic-graph-spectral-1 (the graph Laplacian's eigenvectors from scipy's eigsh as a buffer,
# V.T, a Parameter(...).float() initialized by kaiming_uniform_ and then registered as a buffer).
#   https://github.com/rasbt/deeplearning-models  pytorch_ipynb/gnn/gnn-basic-1.ipynb,
#   pytorch_ipynb/gnn/gnn-basic-edge-1.ipynb, pytorch_ipynb/gnn/gnn-basic-graph-spectral-1.ipynb
# Shrunk: no torchvision: datasets.MNIST is a stand-in TensorDataset of 192 training and 64 test
# synthetic 1x10x10 "digits" in [0, 1] (noise around ten class templates), so IMG_SIZE is 10 instead
# of 28 and the 59000/1000 split is 160/32; 3 epochs instead of 20/50; num_workers=0. The training
# and evaluation cells, the same in the three notebooks, are written once (train_and_evaluate). The
# plots are printed instead (the minibatch costs' running average over 2 instead of 200 iterations,
# the accuracy lists, a corner of A / L / the predicted A); the "Time elapsed" lines are left out.
# SciPy is no test dependency of chainrule: scipy.spatial.distance.cdist and scipy.sparse.linalg.eigsh
# (k=20, which='SM') are given as the few NumPy lines below (Euclidean distances; the 20 eigenpairs of
# smallest eigenvalue by numpy.linalg.eigh, deterministic where ARPACK starts from a random vector).
import time
import numpy as np


def cdist(XA, XB, metric='euclidean'):
    # scipy.spatial.distance.cdist(XA, XB, 'euclidean')
    return np.sqrt(((XA[:, None, :] - XB[None, :, :]) ** 2).sum(-1))


def eigsh(A, k, which='SM', rng=None):
    # scipy.sparse.linalg.eigsh(A, k, which='SM') for a symmetric A: the k eigenpairs of smallest eigenvalue
    values, vectors = np.linalg.eigh(A)
    return values[:k], vectors[:, :k]
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.data import TensorDataset
from torch.utils.data.dataset import Subset


class datasets:  # stand-in for torchvision.datasets
    @staticmethod
    def MNIST(root, train=True, transform=None, download=False):
        g = torch.Generator().manual_seed(0)
        templates = (torch.rand(10, 1, 10, 10, generator=g) > 0.6).float()
        g.manual_seed(1 if train else 2)
        n = 192 if train else 64
        labels = torch.randint(0, 10, (n,), generator=g)
        images = (0.7 * templates[labels] + 0.3 * torch.rand(n, 1, 10, 10, generator=g))
        return TensorDataset(images, labels)


class transforms:  # stand-in for torchvision.transforms (the stand-in images are already tensors)
    @staticmethod
    def ToTensor():
        return None

    @staticmethod
    def Compose(transform_list):
        return None


if torch.cuda.is_available():
    torch.backends.cudnn.deterministic = True

##########################
### SETTINGS
##########################

# Device
DEVICE = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

# Hyperparameters
RANDOM_SEED = 1
LEARNING_RATE = 0.05
NUM_EPOCHS = 3
BATCH_SIZE = 128
IMG_SIZE = 10

# Architecture
NUM_CLASSES = 10

train_indices = torch.arange(0, 160)
valid_indices = torch.arange(160, 192)

custom_transform = transforms.Compose([transforms.ToTensor()])


train_and_valid = datasets.MNIST(root='data',
                                 train=True,
                                 transform=custom_transform,
                                 download=True)

test_dataset = datasets.MNIST(root='data',
                              train=False,
                              transform=custom_transform,
                              download=True)

train_dataset = Subset(train_and_valid, train_indices)
valid_dataset = Subset(train_and_valid, valid_indices)

train_loader = DataLoader(dataset=train_dataset,
                          batch_size=BATCH_SIZE,
                          num_workers=0,
                          shuffle=True)

valid_loader = DataLoader(dataset=valid_dataset,
                          batch_size=BATCH_SIZE,
                          num_workers=0,
                          shuffle=False)

test_loader = DataLoader(dataset=test_dataset,
                         batch_size=BATCH_SIZE,
                         num_workers=0,
                         shuffle=False)

# Checking the dataset
for images, labels in train_loader:
    print('Image batch dimensions:', images.shape)
    print('Image label dimensions:', labels.shape)
    break


def compute_acc(model, data_loader, device):
    correct_pred, num_examples = 0, 0
    for features, targets in data_loader:
        features = features.to(device)
        targets = targets.to(device)
        logits, probas = model(features)
        _, predicted_labels = torch.max(probas, 1)
        num_examples += targets.size(0)
        correct_pred += (predicted_labels == targets).sum()
    return correct_pred.float()/num_examples * 100


def train_and_evaluate(model, optimizer):
    start_time = time.time()

    cost_list = []
    train_acc_list, valid_acc_list = [], []


    for epoch in range(NUM_EPOCHS):

        model.train()
        for batch_idx, (features, targets) in enumerate(train_loader):

            features = features.to(DEVICE)
            targets = targets.to(DEVICE)

            ### FORWARD AND BACK PROP
            logits, probas = model(features)
            cost = F.cross_entropy(logits, targets)
            optimizer.zero_grad()

            cost.backward()

            ### UPDATE MODEL PARAMETERS
            optimizer.step()

            #################################################
            ### CODE ONLY FOR LOGGING BEYOND THIS POINT
            ################################################
            cost_list.append(cost.item())
            if not batch_idx % 150:
                print (f'Epoch: {epoch+1:03d}/{NUM_EPOCHS:03d} | '
                       f'Batch {batch_idx:03d}/{len(train_loader):03d} |'
                       f' Cost: {cost:.4f}')



        model.eval()
        with torch.set_grad_enabled(False): # save memory during inference

            train_acc = compute_acc(model, train_loader, device=DEVICE)
            valid_acc = compute_acc(model, valid_loader, device=DEVICE)

            print(f'Epoch: {epoch+1:03d}/{NUM_EPOCHS:03d}\n'
                  f'Train ACC: {train_acc:.2f} | Validation ACC: {valid_acc:.2f}')

            train_acc_list.append(train_acc)
            valid_acc_list.append(valid_acc)

    # the plots: minibatch cost and its running average, the accuracy curves
    print(np.round(np.convolve(cost_list, np.ones(2,)/2, mode='valid'), 4))
    print(np.arange(1, NUM_EPOCHS+1), train_acc_list, valid_acc_list)

    with torch.set_grad_enabled(False):
        test_acc = compute_acc(model=model,
                               data_loader=test_loader,
                               device=DEVICE)

        valid_acc = compute_acc(model=model,
                                data_loader=valid_loader,
                                device=DEVICE)


    print(f'Validation ACC: {valid_acc:.2f}%')
    print(f'Test ACC: {test_acc:.2f}%')


##########################################################################
# gnn-basic-1.ipynb
##########################################################################

def precompute_adjacency_matrix(img_size):
    col, row = np.meshgrid(np.arange(img_size), np.arange(img_size))

    # N = img_size^2
    # construct 2D coordinate array (shape N x 2) and normalize
    # in range [0, 1]
    coord = np.stack((col, row), axis=2).reshape(-1, 2) / img_size

    # compute pairwise distance matrix (N x N)
    dist = cdist(coord, coord, metric='euclidean')

    # Apply Gaussian filter
    sigma = 0.05 * np.pi
    A = np.exp(- dist / sigma ** 2)
    A[A < 0.01] = 0
    A = torch.from_numpy(A).float()

    # Normalization as per (Kipf & Welling, ICLR 2017)
    D = A.sum(1)  # nodes degree (N,)
    D_hat = (D + 1e-5) ** (-0.5)
    A_hat = D_hat.view(-1, 1) * A * D_hat.view(1, -1)  # N,N

    return A_hat


print(precompute_adjacency_matrix(10)[:3, :4])  # plt.imshow(...)


##########################
### MODEL
##########################



class GraphNet(nn.Module):
    def __init__(self, img_size=28, num_classes=10):
        super(GraphNet, self).__init__()

        n_rows = img_size**2
        self.fc = nn.Linear(n_rows, num_classes, bias=False)

        A = precompute_adjacency_matrix(img_size)
        self.register_buffer('A', A)



    def forward(self, x):

        B = x.size(0) # Batch size

        ### Reshape Adjacency Matrix
        # [N, N] Adj. matrix -> [1, N, N] Adj tensor where N = HxW
        A_tensor = self.A.unsqueeze(0)
        # [1, N, N] Adj tensor -> [B, N, N] tensor
        A_tensor = self.A.expand(B, -1, -1)

        ### Reshape inputs
        # [B, C, H, W] => [B, H*W, 1]
        x_reshape = x.view(B, -1, 1)

        # bmm = batch matrix product to sum the neighbor features
        # Input: [B, N, N] x [B, N, 1]
        # Output: [B, N]
        avg_neighbor_features = (torch.bmm(A_tensor, x_reshape).view(B, -1))

        logits = self.fc(avg_neighbor_features)
        probas = F.softmax(logits, dim=1)
        return logits, probas


torch.manual_seed(RANDOM_SEED)
model = GraphNet(img_size=IMG_SIZE, num_classes=NUM_CLASSES)

model = model.to(DEVICE)

optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

train_and_evaluate(model, optimizer)


##########################################################################
# gnn-basic-edge-1.ipynb
##########################################################################

LEARNING_RATE = 0.0005


def make_coordinate_array(img_size, out_size=4):

    ### Make 2D coordinate array (for MNIST: 784x2)
    n_rows = img_size * img_size
    col, row = np.meshgrid(np.arange(img_size), np.arange(img_size))
    coord = np.stack((col, row), axis=2).reshape(-1, 2)
    coord = (coord - np.mean(coord, axis=0)) / (np.std(coord, axis=0) + 1e-5)
    coord = torch.from_numpy(coord).float()

    ### Reshape to [N, N, out_size]
    coord = torch.cat((coord.unsqueeze(0).repeat(n_rows, 1,  int(out_size/2-1)),
                            coord.unsqueeze(1).repeat(1, n_rows, 1)), dim=2)


    return coord



class GraphNet(nn.Module):
    def __init__(self, img_size=28, coord_features=4, num_classes=10):
        super(GraphNet, self).__init__()

        n_rows = img_size**2
        self.fc = nn.Linear(n_rows, num_classes, bias=False)

        coord = make_coordinate_array(img_size, coord_features)
        self.register_buffer('coord', coord)

        ##########
        # Edge Predictor
        self.pred_edge_fc = nn.Sequential(nn.Linear(coord_features, 32), # coord -> hidden
                                          nn.ReLU(),
                                          nn.Linear(32, 1), # hidden -> edge
                                          nn.Tanh())




    def forward(self, x):
        B = x.size(0)

        ### Predict edges
        self.A = self.pred_edge_fc(self.coord).squeeze()

        ### Reshape Adjacency Matrix
        # [N, N] Adj. matrix -> [1, N, N] Adj tensor where N = HxW
        A_tensor = self.A.unsqueeze(0)
        # [1, N, N] Adj tensor -> [B, N, N] tensor
        A_tensor = self.A.expand(B, -1, -1)

        ### Reshape inputs
        # [B, C, H, W] => [B, H*W, 1]
        x_reshape = x.view(B, -1, 1)

        # bmm = batch matrix product to sum the neighbor features
        # Input: [B, N, N] x [B, N, 1]
        # Output: [B, N]
        avg_neighbor_features = (torch.bmm(A_tensor, x_reshape).view(B, -1))

        logits = self.fc(avg_neighbor_features)
        probas = F.softmax(logits, dim=1)
        return logits, probas


torch.manual_seed(RANDOM_SEED)
model = GraphNet(img_size=IMG_SIZE, num_classes=NUM_CLASSES)

model = model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

print(model.coord.shape, model.coord[1, :3])  # added
train_and_evaluate(model, optimizer)

# last adjacency matrix
print(model.A.to('cpu')[:3, :4])  # plt.imshow(...)


##########################################################################
# gnn-basic-graph-spectral-1.ipynb
##########################################################################

LEARNING_RATE = 0.05


def precompute_adjacency_matrix(img_size):
    col, row = np.meshgrid(np.arange(img_size), np.arange(img_size))

    # N = img_size^2
    # construct 2D coordinate array (shape N x 2) and normalize
    # in range [0, 1]
    coord = np.stack((col, row), axis=2).reshape(-1, 2) / img_size

    # compute pairwise distance matrix (N x N)
    dist = cdist(coord, coord, metric='euclidean')

    # Apply Gaussian filter
    sigma = 0.05 * np.pi
    A = np.exp(- dist / sigma ** 2)
    A[A < 0.01] = 0
    A = torch.from_numpy(A).float()

    return A

    """
    # Normalization as per (Kipf & Welling, ICLR 2017)
    D = A.sum(1)  # nodes degree (N,)
    D_hat = (D + 1e-5) ** (-0.5)
    A_hat = D_hat.view(-1, 1) * A * D_hat.view(1, -1)  # N,N

    return A_hat
    """


def get_graph_laplacian(A):
    # From https://towardsdatascience.com/spectral-graph-convolution-
    #   explained-and-implemented-step-by-step-2e495b57f801
    #
    # Computing the graph Laplacian
    # A is an adjacency matrix of some graph G
    N = A.shape[0] # number of nodes in a graph
    D = np.sum(A, 0) # node degrees
    D_hat = np.diag((D + 1e-5)**(-0.5)) # normalized node degrees
    L = np.identity(N) - np.dot(D_hat, A).dot(D_hat) # Laplacian
    return torch.from_numpy(L).float()


A = precompute_adjacency_matrix(10)
print(A[:3, :4])  # plt.imshow(A, vmin=0., vmax=1.)

L = get_graph_laplacian(A.numpy())
print(L[:3, :4])  # plt.imshow(L, vmin=0., vmax=1.)


##########################
### MODEL
##########################

class GraphNet(nn.Module):
    def __init__(self, img_size=28, num_filters=2, num_classes=10):
        super(GraphNet, self).__init__()

        n_rows = img_size**2
        self.fc = nn.Linear(n_rows*num_filters, num_classes, bias=False)

        A = precompute_adjacency_matrix(img_size)
        L = get_graph_laplacian(A.numpy())
        Λ,V = eigsh(L.numpy(), k=20, which='SM', rng=RANDOM_SEED) # eigen-decomposition (i.e. find Λ,V)

        V = torch.from_numpy(V)

        # Weight matrix
        W_spectral = nn.Parameter(torch.ones((img_size**2, num_filters))).float()
        torch.nn.init.kaiming_uniform_(W_spectral)

        self.register_buffer('A', A)
        self.register_buffer('L', L)
        self.register_buffer('V', V)
        self.register_buffer('W_spectral', W_spectral)



    def forward(self, x):

        B = x.size(0) # Batch size

        ### Reshape eigenvectors
        # from [H*W, 20] to [B, H*W, 20]
        V_tensor = self.V.unsqueeze(0)
        V_tensor = self.V.expand(B, -1, -1)
        # from [H*W, 20] to [B, 20, H*W]
        V_tensor_T = self.V.T.unsqueeze(0)
        V_tensor_T = self.V.T.expand(B, -1, -1)

        ### Reshape inputs
        # [B, C, H, W] => [B, H*W, 1]
        x_reshape = x.view(B, -1, 1)

        ### Reshape spectral weights
        # to size [128, H*W, F]
        W_spectral_tensor = self.W_spectral.unsqueeze(0)
        W_spectral_tensor = self.W_spectral.expand(B, -1, -1)

        ### Spectral convolution on graphs
        # [B, 20, H*W] . [B, H*W, 1]  ==> [B, 20, 1]
        X_hat = V_tensor_T.bmm(x_reshape) # 20×1 node features in the "spectral" domain
        W_hat = V_tensor_T.bmm(W_spectral_tensor)  # 20×F filters in the "spectral" domain
        Y = V_tensor.bmm(X_hat * W_hat)  # N×F result of convolution

        ### Fully connected
        logits = self.fc(Y.reshape(B, -1))
        probas = F.softmax(logits, dim=1)
        return logits, probas


torch.manual_seed(RANDOM_SEED)
model = GraphNet(img_size=IMG_SIZE, num_classes=NUM_CLASSES)

model = model.to(DEVICE)

optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

# added: what is a parameter and what a buffer
print([name for name, _ in model.named_parameters()], [name for name, _ in model.named_buffers()])
print(model.V.dtype, model.V.shape, type(model.W_spectral).__name__, model.W_spectral.requires_grad)

train_and_evaluate(model, optimizer)
print(model.W_spectral.grad is None)  # added: the buffer still collects a gradient
