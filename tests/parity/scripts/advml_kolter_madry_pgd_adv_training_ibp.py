# Source: J. Zico Kolter and Aleksander Madry, "Adversarial Robustness - Theory and Practice" (NeurIPS
#   2018 tutorial), https://adversarial-ml-tutorial.org  chapter 3 "Adversarial examples, solving the
#   inner maximization" (pgd_linf_targ, pgd_linf_rand with random restarts, norms and pgd_l2) and
#   chapter 4 "Adversarial training, solving the outer minimization" (fgsm, pgd_linf, epoch,
#   epoch_adversarial, the model_cnn Sequential with its Flatten module, PGD adversarial training, then
#   interval bound propagation: bound_propagation, interval_based_bound, epoch_robust_bound with an
#   epsilon schedule). The functions follow the tutorial's code cells as copies of them on GitHub
#   reproduce them (fgsm, pgd_linf, epoch, epoch_adversarial, pgd_linf_rand, norms/pgd_l2,
#   bound_propagation, interval_based_bound; epoch_robust_bound in the copies' form with the
#   `if sum(y==y0) > 0` guard); pgd_linf_targ/targ2 and the training loops follow the tutorial pages.
# Shrunk: MNIST (torchvision) is 48 train / 16 test synthetic 1x14x14 "digits" 0-2 (noisy binary templates,
# values in [0, 1]; the networks keep 10 outputs, so epoch_robust_bound skips the absent classes) in
# TensorDatasets, batch 100 -> 16; the CNNs keep their layers with 8/16 channels
# instead of 32/64, a 16-unit hidden layer instead of 100, and Linear(4*4*16, ..) for the 14x14 input;
# epochs 10 -> 2 (lr drop at t == 0 instead of 4), PGD num_iter 20/40 -> 3/5, restarts 10 -> 2, the
# robust-bound epsilon schedule 25 -> 2 epochs; epsilon 0.1 as in the tutorial. torch.save dropped.
# The tutorial's plots are printed as numbers.
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

templates = (torch.rand(10, 1, 14, 14) > 0.5).float()
train_y = torch.randint(0, 3, (48,))
train_X = (0.8 * templates[train_y] + 0.2 * torch.rand(48, 1, 14, 14))
test_y = torch.randint(0, 3, (16,))
test_X = (0.8 * templates[test_y] + 0.2 * torch.rand(16, 1, 14, 14))
mnist_train = TensorDataset(train_X, train_y)
mnist_test = TensorDataset(test_X, test_y)
train_loader = DataLoader(mnist_train, batch_size = 16, shuffle=True)
test_loader = DataLoader(mnist_test, batch_size = 16, shuffle=False)

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

torch.manual_seed(0)

class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.shape[0], -1)    

model_cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1, stride=2), nn.ReLU(),
                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(16, 16, 3, padding=1, stride=2), nn.ReLU(),
                          Flatten(),
                          nn.Linear(4*4*16, 16), nn.ReLU(),
                          nn.Linear(16, 10)).to(device)


def fgsm(model, X, y, epsilon=0.1):
    """ Construct FGSM adversarial examples on the examples X"""
    delta = torch.zeros_like(X, requires_grad=True)
    loss = nn.CrossEntropyLoss()(model(X + delta), y)
    loss.backward()
    return epsilon * delta.grad.detach().sign()


def pgd_linf(model, X, y, epsilon=0.1, alpha=0.01, num_iter=3, randomize=False):
    """ Construct FGSM adversarial examples on the examples X"""
    if randomize:
        delta = torch.rand_like(X, requires_grad=True)
        delta.data = delta.data * 2 * epsilon - epsilon
    else:
        delta = torch.zeros_like(X, requires_grad=True)
        
    for t in range(num_iter):
        loss = nn.CrossEntropyLoss()(model(X + delta), y)
        loss.backward()
        delta.data = (delta + alpha*delta.grad.detach().sign()).clamp(-epsilon,epsilon)
        delta.grad.zero_()
    return delta.detach()


def epoch(loader, model, opt=None):
    """Standard training/evaluation epoch over the dataset"""
    total_loss, total_err = 0.,0.
    for X,y in loader:
        X,y = X.to(device), y.to(device)
        yp = model(X)
        loss = nn.CrossEntropyLoss()(yp,y)
        if opt:
            opt.zero_grad()
            loss.backward()
            opt.step()
        
        total_err += (yp.max(dim=1)[1] != y).sum().item()
        total_loss += loss.item() * X.shape[0]
    return total_err / len(loader.dataset), total_loss / len(loader.dataset)


def epoch_adversarial(loader, model, attack, opt=None, **kwargs):
    """Adversarial training/evaluation epoch over the dataset"""
    total_loss, total_err = 0.,0.
    for X,y in loader:
        X,y = X.to(device), y.to(device)
        delta = attack(model, X, y, **kwargs)
        yp = model(X+delta)
        loss = nn.CrossEntropyLoss()(yp,y)
        if opt:
            opt.zero_grad()
            loss.backward()
            opt.step()
        
        total_err += (yp.max(dim=1)[1] != y).sum().item()
        total_loss += loss.item() * X.shape[0]
    return total_err / len(loader.dataset), total_loss / len(loader.dataset)


# ---- chapter 4: standard training, evaluated against PGD ----
opt = optim.SGD(model_cnn.parameters(), lr=1e-1)
for t in range(2):
    train_err, train_loss = epoch(train_loader, model_cnn, opt)
    test_err, test_loss = epoch(test_loader, model_cnn)
    adv_err, adv_loss = epoch_adversarial(test_loader, model_cnn, pgd_linf)
    if t == 0:
        for param_group in opt.param_groups:
            param_group["lr"] = 1e-2
    print(*("{:.6f}".format(i) for i in (train_err, test_err, adv_err)), sep="\t")

# ---- chapter 4: PGD adversarial training ----
model_cnn_robust = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(8, 8, 3, padding=1, stride=2), nn.ReLU(),
                                 nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                                 nn.Conv2d(16, 16, 3, padding=1, stride=2), nn.ReLU(),
                                 Flatten(),
                                 nn.Linear(4*4*16, 16), nn.ReLU(),
                                 nn.Linear(16, 10)).to(device)

opt = optim.SGD(model_cnn_robust.parameters(), lr=1e-1)
for t in range(2):
    train_err, train_loss = epoch_adversarial(train_loader, model_cnn_robust, pgd_linf, opt)
    test_err, test_loss = epoch(test_loader, model_cnn_robust)
    adv_err, adv_loss = epoch_adversarial(test_loader, model_cnn_robust, pgd_linf)
    if t == 0:
        for param_group in opt.param_groups:
            param_group["lr"] = 1e-2
    print(*("{:.6f}".format(i) for i in (train_err, test_err, adv_err)), sep="\t")

print("FGSM: ", epoch_adversarial(test_loader, model_cnn_robust, fgsm)[0])
print("PGD, 40 iter: ", epoch_adversarial(test_loader, model_cnn_robust, pgd_linf, num_iter=5)[0])
print("PGD, small_alpha: ", epoch_adversarial(test_loader, model_cnn_robust, pgd_linf, num_iter=5, alpha=0.05)[0])
print("PGD, randomized: ", epoch_adversarial(test_loader, model_cnn_robust, pgd_linf, num_iter=5, randomize=True)[0])


# ---- chapter 3: targeted attacks, random restarts, l_2 ----
def pgd_linf_targ(model, X, y, epsilon, alpha, num_iter, y_targ):
    """ Construct targeted adversarial examples on the examples X"""
    delta = torch.zeros_like(X, requires_grad=True)
    for t in range(num_iter):
        yp = model(X + delta)
        loss = (yp[:,y_targ] - yp.gather(1,y[:,None])[:,0]).sum()
        loss.backward()
        delta.data = (delta + alpha*delta.grad.detach().sign()).clamp(-epsilon,epsilon)
        delta.grad.zero_()
    return delta.detach()


def pgd_linf_targ2(model, X, y, epsilon, alpha, num_iter, y_targ):
    """ Construct targeted adversarial examples on the examples X"""
    delta = torch.zeros_like(X, requires_grad=True)
    for t in range(num_iter):
        yp = model(X + delta)
        loss = 2*yp[:,y_targ].sum() - yp.sum()
        loss.backward()
        delta.data = (delta + alpha*delta.grad.detach().sign()).clamp(-epsilon,epsilon)
        delta.grad.zero_()
    return delta.detach()


def pgd_linf_rand(model, X, y, epsilon, alpha, num_iter, restarts):
    """ Construct PGD adversarial examples on the samples X, with random restarts"""
    max_loss = torch.zeros(y.shape[0]).to(y.device)
    max_delta = torch.zeros_like(X)
    
    for i in range(restarts):
        delta = torch.rand_like(X, requires_grad=True)
        delta.data = delta.data * 2 * epsilon - epsilon
        
        for t in range(num_iter):
            loss = nn.CrossEntropyLoss()(model(X + delta), y)
            loss.backward()
            delta.data = (delta + alpha*delta.grad.detach().sign()).clamp(-epsilon,epsilon)
            delta.grad.zero_()
        
        all_loss = nn.CrossEntropyLoss(reduction='none')(model(X+delta),y)
        max_delta[all_loss >= max_loss] = delta.detach()[all_loss >= max_loss]
        max_loss = torch.max(max_loss, all_loss)
        
    return max_delta


def norms(Z):
    """Compute norms over all but the first dimension"""
    return Z.view(Z.shape[0], -1).norm(dim=1)[:,None,None,None]


def pgd_l2(model, X, y, epsilon, alpha, num_iter):
    delta = torch.zeros_like(X, requires_grad=True)
    for t in range(num_iter):
        loss = nn.CrossEntropyLoss()(model(X + delta), y)
        loss.backward()
        delta.data += alpha*delta.grad.detach() / norms(delta.grad.detach())
        delta.data = torch.min(torch.max(delta.detach(), -X), 1-X) # clip X+delta to [0,1]
        delta.data *= epsilon / norms(delta.detach()).clamp(min=epsilon)
        delta.grad.zero_()
        
    return delta.detach()


for X,y in test_loader:
    X,y = X.to(device), y.to(device)
    break

delta = pgd_linf_targ(model_cnn, X, y, epsilon=0.2, alpha=1e-2, num_iter=5, y_targ=2)
yp = model_cnn(X + delta)
print("targeted (2) predictions:", yp.max(dim=1)[1].tolist())
delta = pgd_linf_targ2(model_cnn, X, y, epsilon=0.2, alpha=1e-2, num_iter=5, y_targ=2)
yp = model_cnn(X + delta)
print("targeted2 (2) predictions:", yp.max(dim=1)[1].tolist())

print("2-norm, eps=2:", epoch_adversarial(test_loader, model_cnn, pgd_l2, epsilon=2, alpha=0.1, num_iter=5))
print("Restarts, eps=0.1:", epoch_adversarial(test_loader, model_cnn, pgd_linf_rand, epsilon=0.1, alpha=1e-2, num_iter=5, restarts=2))
delta = pgd_l2(model_cnn, X, y, epsilon=2, alpha=0.1, num_iter=5)
print("l2 norms of delta:", ["%.4f" % v for v in norms(delta)[:6, 0, 0, 0].tolist()])


# ---- chapter 4: provable robustness with interval bound propagation ----
def bound_propagation(model, initial_bound):
    l, u = initial_bound
    bounds = []
    
    for layer in model:
        if isinstance(layer, Flatten):
            l_ = Flatten()(l)
            u_ = Flatten()(u)
        elif isinstance(layer, nn.Linear):
            l_ = (layer.weight.clamp(min=0) @ l.t() + layer.weight.clamp(max=0) @ u.t() 
                  + layer.bias[:,None]).t()
            u_ = (layer.weight.clamp(min=0) @ u.t() + layer.weight.clamp(max=0) @ l.t() 
                  + layer.bias[:,None]).t()
        elif isinstance(layer, nn.Conv2d):
            l_ = (nn.functional.conv2d(l, layer.weight.clamp(min=0), bias=None, 
                                       stride=layer.stride, padding=layer.padding,
                                       dilation=layer.dilation, groups=layer.groups) +
                  nn.functional.conv2d(u, layer.weight.clamp(max=0), bias=None, 
                                       stride=layer.stride, padding=layer.padding,
                                       dilation=layer.dilation, groups=layer.groups) +
                  layer.bias[None,:,None,None])
            
            u_ = (nn.functional.conv2d(u, layer.weight.clamp(min=0), bias=None, 
                                       stride=layer.stride, padding=layer.padding,
                                       dilation=layer.dilation, groups=layer.groups) +
                  nn.functional.conv2d(l, layer.weight.clamp(max=0), bias=None, 
                                       stride=layer.stride, padding=layer.padding,
                                       dilation=layer.dilation, groups=layer.groups) + 
                  layer.bias[None,:,None,None])
            
        elif isinstance(layer, nn.ReLU):
            l_ = l.clamp(min=0)
            u_ = u.clamp(min=0)
            
        bounds.append((l_, u_))
        l,u = l_, u_
    return bounds


def interval_based_bound(model, c, bounds, idx):
    # requires last layer to be linear
    cW = c.t() @ model[-1].weight
    cb = c.t() @ model[-1].bias
    
    l,u = bounds[-2]
    return (cW.clamp(min=0) @ l[idx].t() + cW.clamp(max=0) @ u[idx].t() + cb[:,None]).t()


def epoch_robust_bound(loader, model, epsilon, opt=None):
    robust_err = 0
    total_robust_loss = 0
    
    C = [-torch.eye(10).to(device) for _ in range(10)]
    for y0 in range(10):
        C[y0][y0,:] += 1
    
    for X,y in loader:
        X,y = X.to(device), y.to(device)
        
        ###### robust loss calculation ######
        initial_bound = (X - epsilon, X + epsilon)
        bounds = bound_propagation(model, initial_bound)
        robust_loss = 0
        for y0 in range(10):
            if sum(y==y0) > 0:
                lower_bound = interval_based_bound(model, C[y0], bounds, y==y0)
                robust_loss += nn.CrossEntropyLoss(reduction='sum')(-lower_bound, y[y==y0]) / X.shape[0]
                
                robust_err += (lower_bound.min(dim=1)[0] < 0).sum().item() #increment when true label is not winning       
        
        total_robust_loss += robust_loss.item() * X.shape[0]  
        
        if opt:
            opt.zero_grad()
            robust_loss.backward()
            opt.step()
        
    return robust_err / len(loader.dataset), total_robust_loss / len(loader.dataset)


initial_bound = (X - 0.1, X + 0.1)
bounds = bound_propagation(model_cnn, initial_bound)
print("bound shapes:", [tuple(b[0].shape) for b in bounds])
print("final gap: %.4f" % (bounds[-1][1] - bounds[-1][0]).mean().item())
print("Robust bound, eps=0.1:", epoch_robust_bound(test_loader, model_cnn, 0.1))

torch.manual_seed(0)
model_cnn_robust_2 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, stride=2), nn.ReLU(),
                                   nn.Conv2d(8, 8, 3, padding=1, ), nn.ReLU(),
                                   nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(16, 16, 3, padding=1, stride=2), nn.ReLU(),
                                   Flatten(),
                                   nn.Linear(4*4*16, 16), nn.ReLU(),
                                   nn.Linear(16, 10)).to(device)
opt = optim.SGD(model_cnn_robust_2.parameters(), lr=1e-2)
eps_schedule = [0.0, 0.01]

print("Train Eps", "Train Loss*", "Test Err", "Test Robust Err", sep="\t")
for t in range(len(eps_schedule)):
    train_err, train_loss = epoch_robust_bound(train_loader, model_cnn_robust_2, eps_schedule[t], opt)
    test_err, test_loss = epoch(test_loader, model_cnn_robust_2)
    adv_err, adv_loss = epoch_robust_bound(test_loader, model_cnn_robust_2, 0.1)
    print(*("{:.6f}".format(i) for i in (eps_schedule[t], train_loss, test_err, adv_err)), sep="\t")
