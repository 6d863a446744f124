# Source: Marc Lelarge, "Deep Learning Do It Yourself!" (dataflowr), Module 10, GAN / conditional GAN /
#   InfoGAN on the double moon (solution): https://github.com/dataflowr/notebooks
#   Module10/sol/10_GAN_double_moon_sol.ipynb
# Shrunk: 200 points instead of 2000 (4 batches of 50), 3 epochs per GAN instead of 500-1000; the
#   second training cell (lr 1e-3 on the same nets) is kept. No scikit-learn: make_moons is a few NumPy
#   lines (its two half circles, shuffled, plus Gaussian noise, drawn from NumPy's global generator).
#   No matplotlib: plot_data prints the shape and means of what it would scatter, and the epoch losses
#   the notebook plots are printed.
import numpy as np


def make_moons(n_samples=100, noise=None):
    # what sklearn.datasets.make_moons does (shuffle=True), with NumPy's global generator
    n_out, n_in = n_samples // 2, n_samples - n_samples // 2
    outer_x, outer_y = np.cos(np.linspace(0, np.pi, n_out)), np.sin(np.linspace(0, np.pi, n_out))
    inner_x, inner_y = 1 - np.cos(np.linspace(0, np.pi, n_in)), 1 - np.sin(np.linspace(0, np.pi, n_in)) - .5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    perm = np.random.permutation(n_samples)
    X, y = X[perm], y[perm]
    if noise is not None:
        X += np.random.normal(scale=noise, size=X.shape)
    return X, y


# Plot the dataset
def plot_data(ax, X, Y, color = 'bone'):
    print('plot', X.shape, np.round(X.mean(0), 4), np.round(np.mean(Y), 4), color)

ax = None
X, y = make_moons(n_samples=200, noise=0.05)

n_samples = X.shape[0]
Y = np.ones(n_samples)
plot_data(ax, X, Y)

import torch
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

import torch.nn as nn

z_dim = 32
hidden_dim = 128

net_G = nn.Sequential(nn.Linear(z_dim,hidden_dim),
                     nn.ReLU(), nn.Linear(hidden_dim, 2))

net_D = nn.Sequential(nn.Linear(2,hidden_dim),
                     nn.ReLU(),
                     nn.Linear(hidden_dim,1),
                     nn.Sigmoid())

net_G = net_G.to(device)
net_D = net_D.to(device)

batch_size = 50
lr = 1e-4
nb_epochs = 3

optimizer_G = torch.optim.Adam(net_G.parameters(),lr=lr)
optimizer_D = torch.optim.Adam(net_D.parameters(),lr=lr)

loss_D_epoch = []
loss_G_epoch = []
for e in range(nb_epochs):
    np.random.shuffle(X)
    real_samples = torch.from_numpy(X).type(torch.FloatTensor)
    loss_G = 0
    loss_D = 0
    for t, real_batch in enumerate(real_samples.split(batch_size)):
            #improving D
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        fake_batch = net_G(z)
        D_scores_on_real = net_D(real_batch.to(device))
        D_scores_on_fake = net_D(fake_batch)
            
        loss = -torch.mean(torch.log(1-D_scores_on_fake) + torch.log(D_scores_on_real))
        optimizer_D.zero_grad()
        loss.backward()
        optimizer_D.step()
        loss_D += loss.cpu().data.numpy()
                    
            # improving G
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        fake_batch = net_G(z)
        D_scores_on_fake = net_D(fake_batch)
            
        loss = -torch.mean(torch.log(D_scores_on_fake))
        optimizer_G.zero_grad()
        loss.backward()
        optimizer_G.step()
        loss_G += loss.cpu().data.numpy()
           
    loss_D_epoch.append(loss_D)
    loss_G_epoch.append(loss_G)
print(loss_D_epoch, loss_G_epoch)

z = torch.empty(n_samples,z_dim).normal_().to(device)
fake_samples = net_G(z)
fake_data = fake_samples.cpu().data.numpy()

all_data = np.concatenate((X,fake_data),axis=0)
Y2 = np.concatenate((np.ones(n_samples),np.zeros(n_samples)))
plot_data(ax, all_data, Y2)

batch_size = 50
lr = 1e-3
nb_epochs = 3

optimizer_G = torch.optim.Adam(net_G.parameters(),lr=lr)
optimizer_D = torch.optim.Adam(net_D.parameters(),lr=lr)

loss_D_epoch = []
loss_G_epoch = []
for e in range(nb_epochs):
    np.random.shuffle(X)
    real_samples = torch.from_numpy(X).type(torch.FloatTensor)
    loss_G = 0
    loss_D = 0
    for t, real_batch in enumerate(real_samples.split(batch_size)):
            #improving D
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        fake_batch = net_G(z)
        D_scores_on_real = net_D(real_batch.to(device))
        D_scores_on_fake = net_D(fake_batch)
            
        loss = -torch.mean(torch.log(1-D_scores_on_fake) + torch.log(D_scores_on_real))
        optimizer_D.zero_grad()
        loss.backward()
        optimizer_D.step()
        loss_D += loss.cpu().data.numpy()
                    
            # improving G
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        fake_batch = net_G(z)
        D_scores_on_fake = net_D(fake_batch)
            
        loss = -torch.mean(torch.log(D_scores_on_fake))
        optimizer_G.zero_grad()
        loss.backward()
        optimizer_G.step()
        loss_G += loss.cpu().data.numpy()
           
    loss_D_epoch.append(loss_D)
    loss_G_epoch.append(loss_G)
print(loss_D_epoch, loss_G_epoch)

z = torch.empty(n_samples,z_dim).normal_().to(device)
fake_samples = net_G(z)
fake_data = fake_samples.cpu().data.numpy()
all_data = np.concatenate((X,fake_data),axis=0)
Y2 = np.concatenate((np.ones(n_samples),np.zeros(n_samples)))
plot_data(ax, all_data, Y2)

X, Y = make_moons(n_samples=200, noise=0.05)
n_samples = X.shape[0]
plot_data(ax, X, Y)

z_dim = 32
hidden_dim = 128
label_dim = 2


class generator(nn.Module):
    def __init__(self,z_dim = z_dim, label_dim=label_dim,hidden_dim =hidden_dim):
        super(generator,self).__init__()
        self.net = nn.Sequential(nn.Linear(z_dim+label_dim,hidden_dim),
                     nn.ReLU(), nn.Linear(hidden_dim, 2))
        
    def forward(self, input, label_onehot):
        x = torch.cat([input, label_onehot], 1)
        return self.net(x)
    
class discriminator(nn.Module):
    def __init__(self,z_dim = z_dim, label_dim=label_dim,hidden_dim =hidden_dim):
        super(discriminator,self).__init__()
        self.net =  nn.Sequential(nn.Linear(2+label_dim,hidden_dim),
                     nn.ReLU(),
                     nn.Linear(hidden_dim,1),
                     nn.Sigmoid())
        
    def forward(self, input, label_onehot):
        x = torch.cat([input, label_onehot], 1)
        return self.net(x)
        

net_CG = generator().to(device)
net_CD = discriminator().to(device)

batch_size = 50
lr = 1e-3
nb_epochs = 3

optimizer_CG = torch.optim.Adam(net_CG.parameters(),lr=lr)
optimizer_CD = torch.optim.Adam(net_CD.parameters(),lr=lr)
loss_D_epoch = []
loss_G_epoch = []
for e in range(nb_epochs):
    rperm = np.random.permutation(X.shape[0]);
    np.take(X,rperm,axis=0,out=X);
    np.take(Y,rperm,axis=0,out=Y);
    real_samples = torch.from_numpy(X).type(torch.FloatTensor)
    real_labels = torch.from_numpy(Y).type(torch.LongTensor)
    loss_G = 0
    loss_D = 0
    for real_batch, real_batch_label in zip(real_samples.split(batch_size),real_labels.split(batch_size)):
            #improving D
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        #
        # your code here
        # hint: https://discuss.pytorch.org/t/convert-int-into-one-hot-format/507/4
        label = torch.LongTensor(batch_size,1).random_() % label_dim
        label_onehot = torch.FloatTensor(batch_size, label_dim).zero_()
        label_onehot = label_onehot.scatter_(1, label, 1).to(device)
        fake_batch = net_CG(z, label_onehot)
        D_scores_on_fake = net_CD(fake_batch, label_onehot)
        label_onehot = torch.FloatTensor(batch_size, label_dim).zero_()
        label_onehot = label_onehot.scatter_(1, real_batch_label.unsqueeze(1), 1).to(device)
        D_scores_on_real = net_CD(real_batch.to(device),label_onehot)
        #
                
        loss = -torch.mean(torch.log(1-D_scores_on_fake) + torch.log(D_scores_on_real))
        optimizer_CD.zero_grad()
        loss.backward()
        optimizer_CD.step()
        loss_D += loss.cpu().data.numpy()
            
            # improving G
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        #
        # your code here
        label = torch.LongTensor(batch_size,1).random_() % label_dim
        label_onehot = torch.FloatTensor(batch_size, label_dim).zero_()
        label_onehot = label_onehot.scatter_(1, label, 1).to(device)
        fake_batch = net_CG(z, label_onehot)
        D_scores_on_fake = net_CD(fake_batch, label_onehot)
        #
                    
        loss = -torch.mean(torch.log(D_scores_on_fake))
        optimizer_CG.zero_grad()
        loss.backward()
        optimizer_CG.step()
        loss_G += loss.cpu().data.numpy()
                    
    loss_D_epoch.append(loss_D)
    loss_G_epoch.append(loss_G)
print(loss_D_epoch, loss_G_epoch)

z = torch.empty(n_samples,z_dim).normal_().to(device)
label = torch.LongTensor(n_samples,1).random_() % label_dim
label_onehot = torch.FloatTensor(n_samples, label_dim).zero_()
label_onehot = label_onehot.scatter_(1, label, 1).to(device)
fake_samples = net_CG(z, label_onehot)
fake_data = fake_samples.cpu().data.numpy()

plot_data(ax, fake_data, label.squeeze().numpy())
plot_data(ax, X, Y, 'spring')

import torch.nn.functional as F

z_dim = 32
hidden_dim = 128
label_dim = 2


class Igenerator(nn.Module):
    def __init__(self,z_dim = z_dim, label_dim=label_dim,hidden_dim =hidden_dim):
        super(Igenerator,self).__init__()
        self.net = nn.Sequential(nn.Linear(z_dim+label_dim,hidden_dim),
                     nn.ReLU(), nn.Linear(hidden_dim, 2))
        
    def forward(self, input, label_onehot):
        x = torch.cat([input, label_onehot], 1)
        return self.net(x)
    
class Idiscriminator(nn.Module):
    def __init__(self,z_dim = z_dim, label_dim=label_dim,hidden_dim =hidden_dim):
        super(Idiscriminator,self).__init__()
        self.fc1 = nn.Linear(2,hidden_dim)
        self.fc2 = nn.Linear(hidden_dim,1)
        self.fc3 = nn.Linear(hidden_dim,1)
        
    def forward(self, input):
        x = F.relu(self.fc1(input))
        output = torch.sigmoid(self.fc2(x))
        est_label = torch.sigmoid(self.fc3(x)) 
        return output, est_label
        

net_IG = Igenerator().to(device)
net_ID = Idiscriminator().to(device)

batch_size = 50
lr = 1e-3
nb_epochs = 3
loss_fn = nn.BCELoss()

optimizer_IG = torch.optim.Adam(net_IG.parameters(),lr=lr)
optimizer_ID = torch.optim.Adam(net_ID.parameters(),lr=lr)
loss_D_epoch = []
loss_G_epoch = []
for e in range(nb_epochs):
    
    rperm = np.random.permutation(X.shape[0]);
    np.take(X,rperm,axis=0,out=X);
    #np.take(Y,rperm,axis=0,out=Y);
    real_samples = torch.from_numpy(X).type(torch.FloatTensor)
    #real_labels = torch.from_numpy(Y).type(torch.LongTensor)
    loss_G = 0
    loss_D = 0
    for real_batch in real_samples.split(batch_size):
            #improving D
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        #
        # your code here
        label = torch.LongTensor(batch_size,1).random_() % label_dim
        label_onehot = torch.FloatTensor(batch_size, label_dim).zero_()
        label_onehot = label_onehot.scatter_(1, label, 1).to(device)
        fake_batch = net_IG(z, label_onehot)
        D_scores_on_fake, est_label_on_fake = net_ID(fake_batch)
        D_scores_on_real, est_label_on_real = net_ID(real_batch.to(device))
        lossD = -torch.mean(torch.log(1-D_scores_on_fake) + torch.log(D_scores_on_real))
        lossD.add_(loss_fn(est_label_on_fake,label.type(torch.FloatTensor).to(device)))
        optimizer_ID.zero_grad()
        lossD.backward()
        optimizer_ID.step()
        loss_D += lossD.cpu().data.numpy()
        #
        
            
            # improving G
        z = torch.empty(batch_size,z_dim).normal_().to(device)
        #
        # your code here
        label = torch.LongTensor(batch_size,1).random_() % label_dim
        label_onehot = torch.FloatTensor(batch_size, label_dim).zero_()
        label_onehot = label_onehot.scatter_(1, label, 1).to(device)
        fake_batch = net_IG(z, label_onehot)
        D_scores_on_fake, est_label_on_fake = net_ID(fake_batch)
        lossG = -torch.mean(torch.log(D_scores_on_fake))
        lossG.add_(loss_fn(est_label_on_fake,label.type(torch.FloatTensor).to(device)))
        optimizer_IG.zero_grad()
        lossG.backward()
        optimizer_IG.step()
        loss_G += lossG.cpu().data.numpy()
        #
               
            
    loss_D_epoch.append(loss_D)
    loss_G_epoch.append(loss_G)
print(loss_D_epoch, loss_G_epoch)

z = torch.empty(n_samples,z_dim).normal_().to(device)
label = torch.LongTensor(n_samples,1).random_() % label_dim
label_onehot = torch.FloatTensor(n_samples, label_dim).zero_()
label_onehot = label_onehot.scatter_(1, label, 1).to(device)
fake_samples = net_IG(z, label_onehot)
fake_data = fake_samples.cpu().data.numpy()

plot_data(ax, fake_data, label.squeeze().numpy())
