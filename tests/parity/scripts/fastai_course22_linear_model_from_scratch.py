# Source: Jeremy Howard, fast.ai "Practical Deep Learning for Coders" 2022, lesson 5, "Linear model and
# neural net from scratch" (Titanic): torch.rand(n_coeff)-0.5, requires_grad_(), calc_preds/calc_loss,
# update_coeffs/one_epoch/init_coeffs/train_model, sigmoid, the matrix-product version, one hidden layer and
# the deep model.  https://github.com/fastai/course22  05-linear-model-and-neural-net-from-scratch.ipynb
# Shrunk: Kaggle's train.csv (891 rows, cleaned with pandas) is replaced by 200 synthetic passengers built
# here with NumPy as the cleaned columns (no missing values; LogFare = log(Fare+1); the dummy columns as
# 0/1), so the pandas cells are left out; fastai's RandomSplitter is written inline (fastai's own code, its
# L a list); the Kaggle submission cells (test.csv, sub.csv) and the sympy plot are left out; cells that
# only display a value print it. The deep model trains 20 epochs instead of 30: on these passengers its
# lr=4 steps amplify a float32 rounding difference about twofold an epoch (1e-7 at epoch 14, 3e-4 at 27).
import torch, numpy as np
np.set_printoptions(linewidth=140)
torch.set_printoptions(linewidth=140, sci_mode=False, edgeitems=7)

# --- stand-in for the cleaned train.csv: one NumPy column per DataFrame column
rng = np.random.RandomState(42)
n_rows = 200
Pclass = rng.choice([1, 2, 3], n_rows, p=[0.25, 0.2, 0.55])
Sex = rng.choice(['male', 'female'], n_rows, p=[0.65, 0.35])
Embarked = rng.choice(['C', 'Q', 'S'], n_rows, p=[0.2, 0.1, 0.7])
Age = np.round(rng.uniform(1, 70, n_rows))
SibSp = rng.choice([0, 1, 2, 3], n_rows, p=[0.65, 0.25, 0.06, 0.04])
Parch = rng.choice([0, 1, 2], n_rows, p=[0.75, 0.15, 0.1])
Fare = np.round(rng.exponential(10, n_rows) * (4 - Pclass) ** 1.5, 2)
score = 1.5*(Sex == 'female') + 0.6*(3 - Pclass) - 0.02*Age + rng.normal(0, 0.7, n_rows)
df = {'Survived': (score > 0.3).astype(np.int64), 'Age': Age, 'SibSp': SibSp, 'Parch': Parch, 'Fare': Fare}
df['LogFare'] = np.log(df['Fare']+1)
for col, values in [('Sex', Sex), ('Pclass', Pclass), ('Embarked', Embarked)]:
    for v in sorted(set(values)): df[f'{col}_{v}'] = (values == v).astype(np.uint8)

added_cols = ['Sex_male', 'Sex_female', 'Pclass_1', 'Pclass_2', 'Pclass_3', 'Embarked_C', 'Embarked_Q', 'Embarked_S']

from torch import tensor

t_dep = tensor(df['Survived'])

indep_cols = ['Age', 'SibSp', 'Parch', 'LogFare'] + added_cols

t_indep = tensor(np.stack([df[c] for c in indep_cols], 1), dtype=torch.float)
print(t_indep)
print(t_indep.shape)

## Setting up a linear model
torch.manual_seed(442)

n_coeff = t_indep.shape[1]
coeffs = torch.rand(n_coeff)-0.5
print(coeffs)
print(t_indep*coeffs)

vals,indices = t_indep.max(dim=0)
t_indep = t_indep / vals
print(t_indep*coeffs)

preds = (t_indep*coeffs).sum(axis=1)
print(preds[:10])

loss = torch.abs(preds-t_dep).mean()
print(loss)

def calc_preds(coeffs, indeps): return (indeps*coeffs).sum(axis=1)
def calc_loss(coeffs, indeps, deps): return torch.abs(calc_preds(coeffs, indeps)-deps).mean()

## Doing a gradient descent step
print(coeffs.requires_grad_())

loss = calc_loss(coeffs, t_indep, t_dep)
print(loss)
loss.backward()
print(coeffs.grad)

loss = calc_loss(coeffs, t_indep, t_dep)
loss.backward()
print(coeffs.grad)

loss = calc_loss(coeffs, t_indep, t_dep)
loss.backward()
with torch.no_grad():
    coeffs.sub_(coeffs.grad * 0.1)
    coeffs.grad.zero_()
    print(calc_loss(coeffs, t_indep, t_dep))

## Training the linear model
def RandomSplitter(valid_pct=0.2, seed=None):
    "Create function that splits `items` between train/val with `valid_pct` randomly."
    def _inner(o):
        if seed is not None: torch.manual_seed(seed)
        rand_idx = list(torch.randperm(len(o)).numpy())
        cut = int(valid_pct * len(o))
        return rand_idx[cut:],rand_idx[:cut]
    return _inner

trn_split,val_split=RandomSplitter(seed=42)(t_dep)

trn_indep,val_indep = t_indep[trn_split],t_indep[val_split]
trn_dep,val_dep = t_dep[trn_split],t_dep[val_split]
print(len(trn_indep),len(val_indep))

def update_coeffs(coeffs, lr):
    coeffs.sub_(coeffs.grad * lr)
    coeffs.grad.zero_()

def one_epoch(coeffs, lr):
    loss = calc_loss(coeffs, trn_indep, trn_dep)
    loss.backward()
    with torch.no_grad(): update_coeffs(coeffs, lr)
    print(f"{loss:.3f}", end="; ")

def init_coeffs(): return (torch.rand(n_coeff)-0.5).requires_grad_()

def train_model(epochs=30, lr=0.01):
    torch.manual_seed(442)
    coeffs = init_coeffs()
    for i in range(epochs): one_epoch(coeffs, lr=lr)
    return coeffs

coeffs = train_model(18, lr=0.2)
print()

def show_coeffs(): return dict(zip(indep_cols, coeffs.requires_grad_(False)))
print(show_coeffs())

## Measuring accuracy
preds = calc_preds(coeffs, val_indep)

results = val_dep.bool()==(preds>0.5)
print(results[:16])
print(results.float().mean())

def acc(coeffs): return (val_dep.bool()==(calc_preds(coeffs, val_indep)>0.5)).float().mean()
print(acc(coeffs))

## Using sigmoid
print(preds[:28])

def calc_preds(coeffs, indeps): return torch.sigmoid((indeps*coeffs).sum(axis=1))

coeffs = train_model(lr=100)
print()
print(acc(coeffs))
print(show_coeffs())

## Using matrix product
print((val_indep*coeffs).sum(axis=1))
print(val_indep@coeffs)

def calc_preds(coeffs, indeps): return torch.sigmoid(indeps@coeffs)

def init_coeffs(): return (torch.rand(n_coeff, 1)*0.1).requires_grad_()

trn_dep = trn_dep[:,None]
val_dep = val_dep[:,None]

coeffs = train_model(lr=100)
print()
print(acc(coeffs))

## A neural network
def init_coeffs(n_hidden=20):
    layer1 = (torch.rand(n_coeff, n_hidden)-0.5)/n_hidden
    layer2 = torch.rand(n_hidden, 1)-0.3
    const = torch.rand(1)[0]
    return layer1.requires_grad_(),layer2.requires_grad_(),const.requires_grad_()

import torch.nn.functional as F

def calc_preds(coeffs, indeps):
    l1,l2,const = coeffs
    res = F.relu(indeps@l1)
    res = res@l2 + const
    return torch.sigmoid(res)

def update_coeffs(coeffs, lr):
    for layer in coeffs:
        layer.sub_(layer.grad * lr)
        layer.grad.zero_()

coeffs = train_model(lr=1.4)
print()
coeffs = train_model(lr=20)
print()
print(acc(coeffs))

## Deep learning
def init_coeffs():
    hiddens = [10, 10]  # <-- set this to the size of each hidden layer you want
    sizes = [n_coeff] + hiddens + [1]
    n = len(sizes)
    layers = [(torch.rand(sizes[i], sizes[i+1])-0.3)/sizes[i+1]*4 for i in range(n-1)]
    consts = [(torch.rand(1)[0]-0.5)*0.1 for i in range(n-1)]
    for l in layers+consts: l.requires_grad_()
    return layers,consts

import torch.nn.functional as F

def calc_preds(coeffs, indeps):
    layers,consts = coeffs
    n = len(layers)
    res = indeps
    for i,l in enumerate(layers):
        res = res@l + consts[i]
        if i!=n-1: res = F.relu(res)
    return torch.sigmoid(res)

def update_coeffs(coeffs, lr):
    layers,consts = coeffs
    for layer in layers+consts:
        layer.sub_(layer.grad * lr)
        layer.grad.zero_()

coeffs = train_model(20, lr=4)
print()
print(acc(coeffs))
