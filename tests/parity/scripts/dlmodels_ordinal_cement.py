# Source: Sebastian Raschka, deeplearning-models (PyTorch notebooks), ordinal regression on the cement
# strength data: CORAL (CoralLayer with a Parameter bias from torch.arange(...).float(); coral_loss
# with F.logsigmoid), CORN (corn_loss with boolean-mask row selection logits[mask, task_index];
# torch.cumprod of sigmoids), Niu et al. 2016 (3-D log_softmax), Beckham & Pal 2016 (a Parameter
# from torch.zeros(...).float().normal_(0.0, 0.1).view(-1, 1), probas.mm(model.a), torch.round)
# and Polat et al. 2022 (the class-distance weighted CE written three naive ways: in-place indexed
# +=, a Python loop, .repeat; int tensor ** power; torch.inference_mode), each on an MLP of
# Linear(bias=False)/LeakyReLU/Dropout/BatchNorm1d, with a Dataset returning NumPy rows that the
# DataLoader collates; plus the coral_pytorch package functions the notebooks import
# (label_to_levels, levels_from_labelbatch, proba_to_label, corn_label_from_logits, coral_loss, corn_loss).
#   https://github.com/rasbt/deeplearning-models  pytorch_ipynb/ordinal/{CORAL_cement,CORN_cement,
#   niu2016_cement,beckham2016_cement,polat2022_cement}.ipynb
#   https://github.com/Raschka-research-group/coral-pytorch  coral_pytorch/dataset.py, coral_pytorch/losses.py
# Shrunk: no pandas/scikit-learn: cement_strength.csv (998 rows, 8 features, strength 1..5) is 200
# synthetic rows (8 features from torch.randn, the label a noisy threshold of a linear score), split
# 80/20 by a stand-in of train_test_split(stratify=...) (a seeded NumPy permutation per class) and
# scaled by a stand-in of StandardScaler (the training columns' mean and std); 3 epochs instead of 50
# (the notebooks' batch size 128, so 2 batches an epoch); the data cells the five notebooks share
# are written once. The %timeit cells are left out. Added: a collated batch's dtypes, CORAL's initial bias.
import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from torch.utils.data import DataLoader


# ---- stand-ins for pandas.read_csv("cement_strength.csv"), sklearn's train_test_split and StandardScaler
def read_cement_strength():
    g = torch.Generator().manual_seed(123)
    features = torch.randn(200, 8, generator=g) * torch.tensor([100., 80., 60., 20., 5., 70., 80., 60.]) + 300.
    score = (features - 300.) @ torch.tensor([0.01, 0.01, 0.005, -0.05, 0.1, 0.0, -0.002, 0.01]) \
        + 0.3 * torch.randn(200, generator=g)
    response = torch.bucketize(score, torch.tensor([-1.2, -0.4, 0.4, 1.2])) + 1
    return features.numpy().astype(np.float64), response.numpy()


def train_test_split(X, y, test_size, random_state, stratify):
    rng = np.random.RandomState(random_state)
    test_idx = []
    for label in np.unique(stratify):
        idx = np.flatnonzero(stratify == label)
        rng.shuffle(idx)
        test_idx.extend(idx[:int(round(test_size * len(idx)))])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[test_idx] = True
    train_idx, test_idx = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
    rng.shuffle(train_idx)
    rng.shuffle(test_idx)
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


class StandardScaler:
    def fit_transform(self, X):
        self.mean_, self.scale_ = X.mean(axis=0), X.std(axis=0)
        return self.transform(X)

    def transform(self, X):
        return (X - self.mean_) / self.scale_


# ---- coral_pytorch/dataset.py
def label_to_levels(label, num_classes, dtype=torch.float32):
    if not label <= num_classes-1:
        raise ValueError('Class label must be smaller or '
                         'equal to %d (num_classes-1). Got %d.'
                         % (num_classes-1, label))
    if isinstance(label, torch.Tensor):
        int_label = label.item()
    else:
        int_label = label

    levels = [1]*int_label + [0]*(num_classes - 1 - int_label)
    levels = torch.tensor(levels, dtype=dtype)
    return levels


def levels_from_labelbatch(labels, num_classes, dtype=torch.float32):
    levels = []
    for label in labels:
        levels_from_label = label_to_levels(
            label=label, num_classes=num_classes, dtype=dtype)
        levels.append(levels_from_label)

    levels = torch.stack(levels)
    return levels


def proba_to_label(probas):
    predict_levels = probas > 0.5
    predicted_labels = torch.sum(predict_levels, dim=1)
    return predicted_labels


def corn_label_from_logits(logits):
    probas = torch.sigmoid(logits)
    probas = torch.cumprod(probas, dim=1)
    predict_levels = probas > 0.5
    predicted_labels = torch.sum(predict_levels, dim=1)
    return predicted_labels


# ---- coral_pytorch/losses.py
def coral_loss(logits, levels, importance_weights=None, reduction='mean'):
    if not logits.shape == levels.shape:
        raise ValueError("Please ensure that logits (%s) has the same shape as levels (%s). "
                         % (logits.shape, levels.shape))

    term1 = (F.logsigmoid(logits)*levels
                      + (F.logsigmoid(logits) - logits)*(1-levels))

    if importance_weights is not None:
        term1 *= importance_weights

    val = (-torch.sum(term1, dim=1))

    if reduction == 'mean':
        loss = torch.mean(val)
    elif reduction == 'sum':
        loss = torch.sum(val)
    elif reduction is None:
        loss = val
    else:
        s = ('Invalid value for `reduction`. Should be "mean", '
             '"sum", or None. Got %s' % reduction)
        raise ValueError(s)

    return loss


def corn_loss(logits, y_train, num_classes):
    sets = []
    for i in range(num_classes-1):
        label_mask = y_train > i-1
        label_tensor = (y_train[label_mask] > i).to(torch.int64)
        sets.append((label_mask, label_tensor))

    num_examples = 0
    losses = 0.
    for task_index, s in enumerate(sets):
        train_examples = s[0]
        train_labels = s[1]

        if len(train_labels) < 1:
            continue

        num_examples += len(train_labels)
        pred = logits[train_examples, task_index]

        loss = -torch.sum(F.logsigmoid(pred)*train_labels
                          + (F.logsigmoid(pred) - pred)*(1-train_labels))
        losses += loss

    return losses/num_classes


# ---- the data cells (the same in the five notebooks)
features_array, response_array = read_cement_strength()
data_labels = response_array - 1  # labels should start at 0
data_features = features_array

print('Number of features:', data_features.shape[1])
print('Number of examples:', data_features.shape[0])
print('Labels:', np.unique(data_labels))

X_train, X_test, y_train, y_test = train_test_split(
    data_features,
    data_labels,
    test_size=0.2,
    random_state=1,
    stratify=data_labels)

sc = StandardScaler()
X_train_std = sc.fit_transform(X_train)
X_test_std = sc.transform(X_test)


##########################
### SETTINGS
##########################

# Hyperparameters
random_seed = 1
learning_rate = 0.05
num_epochs = 3
batch_size = 128

# Architecture
NUM_CLASSES = 10

# Other
DEVICE = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
print('Training on', DEVICE)


class MyDataset(Dataset):

    def __init__(self, feature_array, label_array, dtype=np.float32):

        self.features = feature_array.astype(np.float32)
        self.labels = label_array

    def __getitem__(self, index):
        inputs = self.features[index]
        label = self.labels[index]
        return inputs, label

    def __len__(self):
        return self.labels.shape[0]


# Note transforms.ToTensor() scales input images
# to 0-1 range
train_dataset = MyDataset(X_train_std, y_train)
test_dataset = MyDataset(X_test_std, y_test)


train_loader = DataLoader(dataset=train_dataset,
                          batch_size=batch_size,
                          shuffle=True, # want to shuffle the dataset
                          num_workers=0) # number processes/CPUs to use

test_loader = DataLoader(dataset=test_dataset,
                         batch_size=batch_size,
                         shuffle=False,
                         num_workers=0)

# Checking the dataset
for inputs, labels in train_loader:
    print('Input batch dimensions:', inputs.shape)
    print('Input label dimensions:', labels.shape)
    print(inputs.dtype, labels.dtype)  # added
    break


##########################################################################
# CORAL_cement.ipynb
##########################################################################

class CoralLayer(torch.nn.Module):
    def __init__(self, size_in, num_classes, preinit_bias=True):
        super().__init__()
        self.size_in, self.size_out = size_in, 1

        self.coral_weights = torch.nn.Linear(self.size_in, 1, bias=False)
        if preinit_bias:
            self.coral_bias = torch.nn.Parameter(
                torch.arange(num_classes - 1, 0, -1).float() / (num_classes-1))
        else:
            self.coral_bias = torch.nn.Parameter(
                torch.zeros(num_classes-1).float())

    def forward(self, x):
        return self.coral_weights(x) + self.coral_bias



class MLP(torch.nn.Module):

    def __init__(self, in_features, num_classes, num_hidden_1=300, num_hidden_2=300):
        super().__init__()

        self.my_network = torch.nn.Sequential(

            # 1st hidden layer
            torch.nn.Linear(in_features, num_hidden_1, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_1),

            # 2nd hidden layer
            torch.nn.Linear(num_hidden_1, num_hidden_2, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_2),
        )

        ### Specify CORAL layer
        self.fc = CoralLayer(size_in=num_hidden_2, num_classes=num_classes)
        ###--------------------------------------------------------------------###

    def forward(self, x):
        x = self.my_network(x)

        ##### Use CORAL layer #####
        logits =  self.fc(x)
        ###--------------------------------------------------------------------###

        return logits



torch.manual_seed(random_seed)
model = MLP(in_features=8, num_classes=NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

print(model.fc.coral_bias)  # added

for epoch in range(num_epochs):

    model = model.train()
    for batch_idx, (features, class_labels) in enumerate(train_loader):

        ##### Convert class labels for CORAL
        levels = levels_from_labelbatch(class_labels,
                                        num_classes=NUM_CLASSES)
        ###--------------------------------------------------------------------###

        features = features.to(DEVICE)
        levels = levels.to(DEVICE)
        logits = model(features)

        #### CORAL loss
        loss = coral_loss(logits, levels)
        ###--------------------------------------------------------------------###


        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        ### LOGGING
        if not batch_idx % 200:
            print ('Epoch: %03d/%03d | Batch %03d/%03d | Loss: %.4f'
                   %(epoch+1, num_epochs, batch_idx,
                     len(train_loader), loss))


def compute_mae_and_mse(model, data_loader, device):

    with torch.no_grad():

        mae, mse, acc, num_examples = 0., 0., 0., 0

        for i, (features, targets) in enumerate(data_loader):

            features = features.to(device)
            targets = targets.float().to(device)

            logits = model(features)
            probas = torch.sigmoid(logits)
            predicted_labels = proba_to_label(probas).float()

            num_examples += targets.size(0)
            mae += torch.sum(torch.abs(predicted_labels - targets))
            mse += torch.sum((predicted_labels - targets)**2)

        mae = mae / num_examples
        mse = mse / num_examples
        return mae, mse


train_mae, train_mse = compute_mae_and_mse(model, train_loader, DEVICE)
test_mae, test_mse = compute_mae_and_mse(model, test_loader, DEVICE)

print(f'Mean absolute error (train/test): {train_mae:.2f} | {test_mae:.2f}')
print(f'Mean squared error (train/test): {train_mse:.2f} | {test_mse:.2f}')


##########################################################################
# CORN_cement.ipynb
##########################################################################

learning_rate = 0.001
NUM_CLASSES = 5


class MLP(torch.nn.Module):

    def __init__(self, in_features, num_classes, num_hidden_1=300, num_hidden_2=300):
        super().__init__()

        self.my_network = torch.nn.Sequential(

            # 1st hidden layer
            torch.nn.Linear(in_features, num_hidden_1, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_1),

            # 2nd hidden layer
            torch.nn.Linear(num_hidden_1, num_hidden_2, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_2),

            ### Specify CORN layer
            torch.nn.Linear(num_hidden_2, (num_classes-1))
            ###--------------------------------------------------------------------###
        )

    def forward(self, x):
        logits = self.my_network(x)
        return logits



torch.manual_seed(random_seed)
model = MLP(in_features=8, num_classes=NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)

for epoch in range(num_epochs):

    model = model.train()
    for batch_idx, (features, class_labels) in enumerate(train_loader):

        class_labels = class_labels.to(DEVICE)
        features = features.to(DEVICE)
        logits = model(features)

        #### CORN loss
        loss = corn_loss(logits, class_labels, NUM_CLASSES)
        ###--------------------------------------------------------------------###


        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        ### LOGGING
        if not batch_idx % 200:
            print ('Epoch: %03d/%03d | Batch %03d/%03d | Cost: %.4f'
                   %(epoch+1, num_epochs, batch_idx,
                     len(train_loader), loss))


def compute_mae_and_mse(model, data_loader, device):

    with torch.no_grad():

        mae, mse, acc, num_examples = 0., 0., 0., 0

        for i, (features, targets) in enumerate(data_loader):

            features = features.to(device)
            targets = targets.float().to(device)

            logits = model(features)
            predicted_labels = corn_label_from_logits(logits).float()

            num_examples += targets.size(0)
            mae += torch.sum(torch.abs(predicted_labels - targets))
            mse += torch.sum((predicted_labels - targets)**2)

        mae = mae / num_examples
        mse = mse / num_examples
        return mae, mse


train_mae, train_mse = compute_mae_and_mse(model, train_loader, DEVICE)
test_mae, test_mse = compute_mae_and_mse(model, test_loader, DEVICE)

print(f'Mean absolute error (train/test): {train_mae:.2f} | {test_mae:.2f}')
print(f'Mean squared error (train/test): {train_mse:.2f} | {test_mse:.2f}')

logits = model(features)
with torch.no_grad():
    probas = torch.sigmoid(logits)
    probas = torch.cumprod(probas, dim=1)
    print(probas)


##########################################################################
# niu2016_cement.ipynb
##########################################################################

learning_rate = 0.05
NUM_CLASSES = 10


class MLP(torch.nn.Module):

    def __init__(self, in_features, num_classes, num_hidden_1=300, num_hidden_2=300):
        super().__init__()

        self.num_classes = num_classes
        self.my_network = torch.nn.Sequential(

            # 1st hidden layer
            torch.nn.Linear(in_features, num_hidden_1, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_1),

            # 2nd hidden layer
            torch.nn.Linear(num_hidden_1, num_hidden_2, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_2),
        )

        ### Specify Niu et al. layer
        self.fc = torch.nn.Linear(num_hidden_2, (num_classes-1)*2)
        ###--------------------------------------------------------------------###

    def forward(self, x):
        x = self.my_network(x)
        logits = self.fc(x)

        ### Reshape logits for Niu et al. loss
        logits = logits.view(-1, (self.num_classes-1), 2)
        ###--------------------------------------------------------------------###
        return logits



torch.manual_seed(random_seed)
model = MLP(in_features=8, num_classes=NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)


def niu_et_al_loss(logits, levels):
    val = (-torch.sum((F.log_softmax(logits, dim=2)[:, :, 1]*levels
                      + F.log_softmax(logits, dim=2)[:, :, 0]*(1-levels)), dim=1))
    return torch.mean(val)


for epoch in range(num_epochs):

    model = model.train()
    for batch_idx, (features, class_labels) in enumerate(train_loader):

        ##### Convert class labels for extended binary loss
        levels = levels_from_labelbatch(class_labels,
                                        num_classes=model.num_classes)
        ###--------------------------------------------------------------------###

        features = features.to(DEVICE)
        levels = levels.to(DEVICE)
        logits = model(features)

        #### Niu et al. loss loss
        loss = niu_et_al_loss(logits, levels)
        ###--------------------------------------------------------------------###


        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        ### LOGGING
        if not batch_idx % 200:
            print ('Epoch: %03d/%03d | Batch %03d/%03d | Loss: %.4f'
                   %(epoch+1, num_epochs, batch_idx,
                     len(train_loader), loss))


def niu_logits_to_labels(logits):
    probas = F.softmax(logits, dim=2)[:, :, 1]
    predict_levels = probas > 0.5
    predicted_labels = torch.sum(predict_levels, dim=1)
    return predicted_labels


def compute_mae_and_mse(model, data_loader, device):

    with torch.no_grad():

        mae, mse, acc, num_examples = 0., 0., 0., 0

        for i, (features, targets) in enumerate(data_loader):

            features = features.to(device)
            targets = targets.float().to(device)

            logits = model(features)
            predicted_labels = niu_logits_to_labels(logits)

            num_examples += targets.size(0)
            mae += torch.sum(torch.abs(predicted_labels - targets))
            mse += torch.sum((predicted_labels - targets)**2)

        mae = mae / num_examples
        mse = mse / num_examples
        return mae, mse


train_mae, train_mse = compute_mae_and_mse(model, train_loader, DEVICE)
test_mae, test_mse = compute_mae_and_mse(model, test_loader, DEVICE)

print(f'Mean absolute error (train/test): {train_mae:.2f} | {test_mae:.2f}')
print(f'Mean squared error (train/test): {train_mse:.2f} | {test_mse:.2f}')


##########################################################################
# beckham2016_cement.ipynb
##########################################################################

learning_rate = 0.001
NUM_CLASSES = 5


class MLP(torch.nn.Module):

    def __init__(self, in_features, num_classes, num_hidden_1=300, num_hidden_2=300):
        super().__init__()

        self.num_classes = num_classes
        self.my_network = torch.nn.Sequential(

            # 1st hidden layer
            torch.nn.Linear(in_features, num_hidden_1, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_1),

            # 2nd hidden layer
            torch.nn.Linear(num_hidden_1, num_hidden_2, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_2),

            # Output layer
            torch.nn.Linear(num_hidden_2, num_classes)
        )

        # -----------------------------------------------------
        # Beckham 2016-specific parameter layer
        self.a = torch.nn.Parameter(torch.zeros(
            num_classes).float().normal_(0.0, 0.1).view(-1, 1))
        # -----------------------------------------------------

    def forward(self, x):
        logits = self.my_network(x)
        return logits



torch.manual_seed(random_seed)
model = MLP(in_features=8, num_classes=NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)


def squared_error(targets, predictions):
    return torch.mean((targets.float() - predictions)**2)


def beckham_logits_to_predictions(logits, model, num_classes):
    probas = torch.softmax(logits, dim=1)
    predictions = ((num_classes-1)
                   * torch.sigmoid(probas.mm(model.a).view(-1)))
    return predictions


print('model.a initial value', model.a)

for epoch in range(num_epochs):

    model = model.train()
    for batch_idx, (features, class_labels) in enumerate(train_loader):

        class_labels = class_labels.to(DEVICE)
        features = features.to(DEVICE)
        logits = model(features)

        #### Beckham 2016-specific loss----------------------------------------###
        predictions = beckham_logits_to_predictions(logits, model, model.num_classes)
        loss = squared_error(predictions, class_labels)
        ###--------------------------------------------------------------------###


        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        ### LOGGING
        if not batch_idx % 200:
            print ('Epoch: %03d/%03d | Batch %03d/%03d | Cost: %.4f'
                   %(epoch+1, num_epochs, batch_idx,
                     len(train_loader), loss))

print('model.a final value', model.a)


def beckham_logits_to_labels(logits, model, num_classes):
    predictions = beckham_logits_to_predictions(logits, model, num_classes)
    return torch.round(predictions).float()


def compute_mae_and_mse(model, data_loader, device):

    with torch.no_grad():

        mae, mse, acc, num_examples = 0., 0., 0., 0

        for i, (features, targets) in enumerate(data_loader):

            features = features.to(device)
            targets = targets.float().to(device)

            logits = model(features)
            predicted_labels = beckham_logits_to_labels(logits, model, model.num_classes)

            num_examples += targets.size(0)
            mae += torch.sum(torch.abs(predicted_labels - targets))
            mse += torch.sum((predicted_labels - targets)**2)

        mae = mae / num_examples
        mse = mse / num_examples
        return mae, mse


train_mae, train_mse = compute_mae_and_mse(model, train_loader, DEVICE)
test_mae, test_mse = compute_mae_and_mse(model, test_loader, DEVICE)

print(f'Mean absolute error (train/test): {train_mae:.2f} | {test_mae:.2f}')
print(f'Mean squared error (train/test): {train_mse:.2f} | {test_mse:.2f}')


##########################################################################
# polat2022_cement.ipynb
##########################################################################

learning_rate = 0.0001
NUM_CLASSES = 5

targets = torch.tensor([0, 2, 1, 2])
logits = torch.tensor( [[-0.3,  -0.5, -0.5], # each row is 1 training example
                        [-0.4,  -0.1, -0.5],
                        [-0.3,  -0.94, -0.5],
                        [-0.99, -0.88, -0.5]])

probas = F.softmax(logits, dim=1)
print(probas)


def cdw_ce_loss_naive1(probas, targets, power=5):
    loss = torch.zeros(probas.shape[0])
    for example in range(probas.shape[0]):
        for i in range(probas.shape[1]):
            loss[example] += -torch.log(1-probas[example, i]) * torch.abs(i - targets[example])**power
    return loss

print(cdw_ce_loss_naive1(probas, targets))


def cdw_ce_loss_naive2(probas, targets, power=5):
    loss = 0.
    for i in range(probas.shape[1]):
        loss += (-torch.log(1-probas[:, i]) * torch.abs(i - targets)**power)
    return loss

print(cdw_ce_loss_naive2(probas, targets))


def cdw_ce_loss_naive3(probas, targets, power=5):
    labels = torch.arange(probas.shape[1]).repeat(probas.shape[0], 1)
    loss = (-torch.log(1-probas) * torch.abs(labels - targets.reshape(probas.shape[0], 1))**power).sum(dim=1)
    return loss

print(cdw_ce_loss_naive3(probas, targets))


def cdw_ce_loss(logits, targets, power=5, reduction="mean"):
    probas = torch.softmax(logits, dim=1)
    labels = torch.arange(probas.shape[1]).repeat(probas.shape[0], 1)
    loss = (-torch.log(1-probas) * torch.abs(labels - targets.reshape(probas.shape[0], 1))**power).sum(dim=1)

    if reduction == "none":
        return loss
    elif reduction == "sum":
        return loss.sum()
    elif reduction == "mean":
        return loss.mean()
    else:
        raise ValueError("reduction must be 'none', 'sum', or 'mean'")

print(cdw_ce_loss(logits, targets))


class MLP(torch.nn.Module):

    def __init__(self, in_features, num_classes, num_hidden_1=300, num_hidden_2=300):
        super().__init__()

        self.num_classes = num_classes
        self.my_network = torch.nn.Sequential(

            # 1st hidden layer
            torch.nn.Linear(in_features, num_hidden_1, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_1),

            # 2nd hidden layer
            torch.nn.Linear(num_hidden_1, num_hidden_2, bias=False),
            torch.nn.LeakyReLU(),
            torch.nn.Dropout(0.2),
            torch.nn.BatchNorm1d(num_hidden_2),

            # Output layer
            torch.nn.Linear(num_hidden_2, num_classes)
        )

    def forward(self, x):
        logits = self.my_network(x)
        return logits



torch.manual_seed(random_seed)
model = MLP(in_features=8, num_classes=NUM_CLASSES)
model.to(DEVICE)

optimizer = torch.optim.Adam(model.parameters(), lr=0.005)

for epoch in range(num_epochs):

    model = model.train()
    for batch_idx, (features, class_labels) in enumerate(train_loader):

        class_labels = class_labels.to(DEVICE)
        features = features.to(DEVICE)
        logits = model(features)

        loss = cdw_ce_loss(logits, class_labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        ### LOGGING
        if not batch_idx % 200:
            print ('Epoch: %03d/%03d | Batch %03d/%03d | Loss: %.4f'
                   %(epoch+1, num_epochs, batch_idx,
                     len(train_loader), loss))


def logits_to_labels(logits, model):
    predictions = torch.argmax(logits, dim=1)
    return predictions


def compute_mae_and_mse(model, data_loader, device):

    with torch.inference_mode():

        mae, mse, acc, num_examples = 0., 0., 0., 0

        for i, (features, targets) in enumerate(data_loader):

            features = features.to(device)
            targets = targets.float().to(device)

            logits = model(features)
            predicted_labels = logits_to_labels(logits, model)

            num_examples += targets.size(0)
            mae += torch.sum(torch.abs(predicted_labels - targets))
            mse += torch.sum((predicted_labels - targets)**2)

        mae = mae / num_examples
        mse = mse / num_examples
        return mae, mse


train_mae, train_mse = compute_mae_and_mse(model, train_loader, DEVICE)
test_mae, test_mse = compute_mae_and_mse(model, test_loader, DEVICE)

print(f'Mean absolute error (train/test): {train_mae:.2f} | {test_mae:.2f}')
print(f'Mean squared error (train/test): {train_mse:.2f} | {test_mse:.2f}')
