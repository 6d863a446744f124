# Source: Marc Lelarge, "Deep Learning Do It Yourself!" (dataflowr), homework 3, VAE for MNIST clustering
#   and generation (solution): https://github.com/dataflowr/notebooks  HW3/VAE_clustering_sol.ipynb
# Shrunk: 128 synthetic 28x28 "digits" (ten random templates plus noise, clamped to [0, 1] like
#   ToTensor's output) in a TensorDataset instead of torchvision's MNIST, batch 32; h_dim 100 instead of
#   400 (the classes' defaults too), z_dim 20; 2 epochs per model and a report every 2 steps instead of 10-20 epochs
#   and every 10 steps. No torchvision: the plotting helpers keep their model calls and print the
#   shape and mean of what they would draw (make_grid/imshow dropped). No scikit-learn:
#   normalized_mutual_info_score is computed with a few NumPy lines (its default arithmetic mean).
#   The 'samples' directory creation is dropped.
import os
import torch
import torch.nn as nn
import torch.nn.functional as F

import numpy as np


def normalized_mutual_info_score(labels_true, labels_pred):
    # what sklearn.metrics.cluster.normalized_mutual_info_score computes (average_method='arithmetic')
    _, a = np.unique(labels_true, return_inverse=True)
    _, b = np.unique(labels_pred, return_inverse=True)
    cont = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(cont, (a, b), 1)
    if cont.shape[0] == 1 and cont.shape[1] == 1 or cont.shape[0] == cont.shape[1] == len(a):
        return 1.0
    p = cont / cont.sum()
    pa, pb = p.sum(1), p.sum(0)
    nz = p > 0
    mi = np.sum(p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz]))
    ha = -np.sum(pa[pa > 0] * np.log(pa[pa > 0]))
    hb = -np.sum(pb[pb > 0] * np.log(pb[pb > 0]))
    return mi / max((ha + hb) / 2, 1e-300)


def show(img):
    npimg = img.numpy()
    print('image', npimg.shape, '%.4f' % npimg.mean())

def plot_reconstruction(model, n=24):
    x,_ = next(iter(data_loader))
    x = x[:n,:,:,:].to(device)
    try:
        out, _, _, log_p = model(x.view(-1, image_size)) 
    except:
        out, _, _ = model(x.view(-1, image_size)) 
    x_concat = torch.cat([x.view(-1, 1, 28, 28), out.view(-1, 1, 28, 28)], dim=3)
    out_grid = x_concat.cpu().data
    show(out_grid)

def plot_generation(model, n=24):
    with torch.no_grad():
        z = torch.randn(n, z_dim).to(device)
        out = model.decode(z).view(-1, 1, 28, 28)

    out_grid = out.cpu()
    show(out_grid)

def plot_conditional_generation(model, n=8, fix_number=None):
    with torch.no_grad():
        matrix = np.zeros((n,n_classes))
        matrix[:,0] = 1

        if fix_number is None:
            final = matrix[:]
            for i in range(1,n_classes):
                final = np.vstack((final,np.roll(matrix,i)))
            #z = torch.randn(8*n_classes, z_dim).to(device)
            z = torch.randn(8, z_dim)
            z = z.repeat(n_classes,1).to(device)
            y_onehot = torch.tensor(final).type(torch.FloatTensor).to(device)
            out = model.decode(z,y_onehot).view(-1, 1, 28, 28)
        else:
            z = torch.randn(n, z_dim).to(device)
            y_onehot = torch.tensor(np.roll(matrix, fix_number)).type(torch.FloatTensor).to(device)
            out = model.decode(z,y_onehot).view(-1, 1, 28, 28)

    out_grid = out.cpu()
    show(out_grid)

# Device configuration
device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

# MNIST dataset (synthetic stand-in)
templates = torch.rand(10, 1, 28, 28)
train_labels = torch.randint(0, 10, (128,))
train_images = (templates[train_labels] + 0.3 * torch.randn(128, 1, 28, 28)).clamp(0, 1)
dataset = torch.utils.data.TensorDataset(train_images, train_labels)

# Data loader
data_loader = torch.utils.data.DataLoader(dataset=dataset,
                                          batch_size=32, 
                                          shuffle=True)

# Hyper-parameters
image_size = 784
h_dim = 100
z_dim = 20
num_epochs = 2
learning_rate = 1e-3

# VAE model
class VAE(nn.Module):
    def __init__(self, image_size=784, h_dim=100, z_dim=20):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(h_dim, z_dim)
        self.fc4 = nn.Linear(z_dim, h_dim)
        self.fc5 = nn.Linear(h_dim, image_size)
        
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc2(h), self.fc3(h)
    
    def reparameterize(self, mu, log_var):
        std = torch.exp(log_var/2)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h = F.relu(self.fc4(z))
        return torch.sigmoid(self.fc5(h))
    
    def forward(self, x):
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var)
        x_reconst = self.decode(z)
        return x_reconst, mu, log_var

model = VAE().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

# Start training
for epoch in range(num_epochs):
    for i, (x, _) in enumerate(data_loader):
        # Forward pass
        x = x.to(device).view(-1, image_size)
        x_reconst, mu, log_var = model(x)
        
        # Compute reconstruction loss and kl divergence
        # For KL divergence between Gaussians, see Appendix B in VAE paper or (Doersch, 2016):
        # https://arxiv.org/abs/1606.05908
        reconst_loss = F.binary_cross_entropy(x_reconst, x, reduction='sum')
        kl_div = - 0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
        
        # Backprop and optimize
        loss = reconst_loss + kl_div
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        
        if (i+1) % 2 == 0:
            print ("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}" 
                   .format(epoch+1, num_epochs, i+1, len(data_loader), reconst_loss.item()/len(x), kl_div.item()/len(x)))

plot_reconstruction(model)
plot_generation(model)

n_classes = 10
def l_2_onehot(labels,nb_digits=n_classes):
    # take labels (from the dataloader) and return labels onehot-encoded
    l_onehot = torch.FloatTensor(labels.shape[0], nb_digits)
    l_onehot.zero_()
    l_onehot.scatter_(1, labels.unsqueeze(1), 1)
    return l_onehot

(x,labels) = next(iter(data_loader))
print(labels)
print(l_2_onehot(labels)[:4])

n_classes = 10

class VAE_Cond(nn.Module):
    def __init__(self, image_size=784, h_dim=100, z_dim=20, n_classes = 10):
        super(VAE_Cond, self).__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(h_dim, z_dim)
        self.fc4 = nn.Linear(z_dim+n_classes, h_dim)
        self.fc5 = nn.Linear(h_dim, image_size)
        
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc2(h), self.fc3(h)
    
    def reparameterize(self, mu, log_var):
        std = torch.exp(log_var/2)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z, l_onehot):
        x = torch.cat([z, l_onehot], 1)
        h = F.relu(self.fc4(x))
        return torch.sigmoid(self.fc5(h))     
    
    def forward(self, x, l_onehot):
        mu, log_var = self.encode(x)
        z = self.reparameterize(mu, log_var)
        x_reconst = self.decode(z,l_onehot)
        return x_reconst, mu, log_var

model_C = VAE_Cond().to(device)
x = x.to(device).view(-1, image_size)
l_onehot = l_2_onehot(labels)
l_onehot = l_onehot.to(device)
print([t.shape for t in model_C(x, l_onehot)])

def train_C(model, data_loader=data_loader,num_epochs=num_epochs, beta=10., verbose=True):
    nmi_scores = []
    model.train(True)
    for epoch in range(num_epochs):
        for i, (x, labels) in enumerate(data_loader):
            # Forward pass
            x = x.to(device).view(-1, image_size)
            l_onehot = l_2_onehot(labels)
            l_onehot = l_onehot.to(device)
            labels = labels.to(device)
            x_reconst, mu, log_var = model(x,l_onehot)
            
            
            reconst_loss = F.binary_cross_entropy(x_reconst, x, reduction='sum')
            kl_div =  - 0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
            
            # Backprop and optimize
            loss = reconst_loss + beta*kl_div
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            
            if verbose:
                if (i+1) % 2 == 0:
                    print("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}"
                           .format(epoch+1, num_epochs, i+1, len(data_loader), reconst_loss.item()/len(x),
                                   kl_div.item()/len(x)))

model_C = VAE_Cond().to(device)
optimizer = torch.optim.Adam(model_C.parameters(), lr=learning_rate)
train_C(model_C,num_epochs=2,verbose=True)
plot_conditional_generation(model_C, n=8)

n_classes = 10

class VAE_Gumbel(nn.Module):
    def __init__(self, image_size=784, h_dim=100, z_dim=20, n_classes = 10):
        super(VAE_Gumbel, self).__init__()
        self.fc1 = nn.Linear(image_size, h_dim)
        self.fc2 = nn.Linear(h_dim, z_dim)
        self.fc3 = nn.Linear(h_dim, z_dim)
        self.fc4 = nn.Linear(h_dim, n_classes)
        self.fc5 = nn.Linear(z_dim+n_classes, h_dim)
        self.fc6 = nn.Linear(h_dim, image_size)
        
    def encode(self, x):
        h = F.relu(self.fc1(x))
        return self.fc2(h), self.fc3(h), F.log_softmax(self.fc4(h),dim=1)
    
    def reparameterize(self, mu, log_var):
        std = torch.exp(log_var/2)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z, y_onehot):
        x = torch.cat([z, y_onehot], 1)
        h = F.relu(self.fc5(x))
        return torch.sigmoid(self.fc6(h))
    
    def forward(self, x):
        mu, log_var, log_p = self.encode(x)
        z = self.reparameterize(mu, log_var)
        y_onehot = F.gumbel_softmax(log_p,tau=0.5,hard=True)
        x_reconst = self.decode(z,y_onehot)
        return x_reconst, mu, log_var, log_p

def train_G(model, data_loader=data_loader,num_epochs=num_epochs, beta = 1., verbose=True):
    nmi_scores = []
    model.train(True)
    for epoch in range(num_epochs):
        all_labels = []
        all_labels_est = []
        for i, (x, labels) in enumerate(data_loader):
            # Forward pass
            x = x.to(device).view(-1, image_size)
            x_reconst, mu, log_var, log_p = model(x)
            _,labels_est = torch.max(log_p,1)
            all_labels += list(labels.cpu().data.numpy())
            all_labels_est += list(labels_est.cpu().data.numpy())
            
            reconst_loss = F.binary_cross_entropy(x_reconst, x, reduction='sum')
            kl_div =  - 0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
            H_cat =  -torch.sum(torch.exp(log_p)*log_p)

            # Backprop and optimize
            loss = reconst_loss + beta*(kl_div-H_cat)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            
            if verbose:
                if (i+1) % 2 == 0:
                    print ("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}, Entropy: {:.4f}" 
                           .format(epoch+1, num_epochs, i+1, len(data_loader), reconst_loss.item()/len(x),
                                   kl_div.item()/len(x), H_cat.item()/len(x)))

model_G = VAE_Gumbel().to(device)
optimizer = torch.optim.Adam(model_G.parameters(), lr=learning_rate)
train_G(model_G,num_epochs=2,verbose=True)
plot_reconstruction(model_G)
plot_conditional_generation(model_G, n=8)

def train_G_modified_loss(model, data_loader=data_loader,num_epochs=num_epochs, beta=1. , C_z_fin=0, C_c_fin=0, verbose=True):
    C_z = 0
    C_c = 0
    nmi_scores = []
    for epoch in range(num_epochs):
        all_labels = []
        all_labels_est = []
        for i, (x, labels) in enumerate(data_loader):
            # Forward pass
            x = x.to(device).view(-1, image_size)
            x_reconst, mu, log_var, log_p = model(x)
            _,labels_est = torch.max(log_p,1)
            all_labels += list(labels.cpu().data.numpy())
            all_labels_est += list(labels_est.cpu().data.numpy())

            # Compute reconstruction loss and kl divergence
            # For KL divergence, see Appendix B in VAE paper or http://yunjey47.tistory.com/43
            reconst_loss = F.binary_cross_entropy(x_reconst, x, reduction='sum')
            kl_div =  -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
            H_cat =  -torch.sum(torch.exp(log_p)*log_p)

            # Backprop and optimize
            loss = reconst_loss + beta*torch.abs(kl_div-C_z) + beta*torch.abs(H_cat-C_c)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            
            if verbose:
                if (i+1) % 2 == 0:
                    print ("Epoch[{}/{}], Step [{}/{}], Reconst Loss: {:.4f}, KL Div: {:.4f}, Entropy: {:.4f}" 
                           .format(epoch+1, num_epochs, i+1, len(data_loader), reconst_loss.item(), kl_div.item(), H_cat.item()))
        #print(all_labels_est)
        nmi_scores.append(normalized_mutual_info_score(all_labels,all_labels_est))
        C_z += C_z_fin/num_epochs
        C_c += C_c_fin/num_epochs
        
    return nmi_scores, all_labels_est 

# Hyper-parameters
num_epochs = 2
learning_rate = 1e-3
beta = 20
C_z_fin=100
C_c_fin=100

model_G = VAE_Gumbel(z_dim = z_dim).to(device)
optimizer = torch.optim.Adam(model_G.parameters(), lr=learning_rate)

nmi, labels_est = train_G_modified_loss(model_G, data_loader, num_epochs=num_epochs, beta=beta, C_z_fin=C_z_fin, C_c_fin=C_c_fin)
print('nmi', ['%.4f' % s for s in nmi])
print('labels_est', labels_est[:20])
plot_conditional_generation(model_G, fix_number=None)
plot_conditional_generation(model_G, fix_number=2)
