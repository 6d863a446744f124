# Source: Thomas Kipf, pygcn, "Graph Convolutional Networks in PyTorch":
#   https://github.com/tkipf/pygcn  pygcn/layers.py, pygcn/models.py, pygcn/utils.py, pygcn/train.py
# (GraphConvolution: Parameter(torch.FloatTensor(in, out)), weight.data.uniform_,
# register_parameter('bias', None), torch.spmm of a torch.sparse.FloatTensor(indices, values, size)
# adjacency; GCN with F.dropout(training=self.training); accuracy by output.max(1)[1].type_as,
# .eq(...).double(); Adam with weight_decay; NLL loss on index tensors.)
# Shrunk: the four files are one script (the package imports dropped). Instead of reading Cora with
# np.genfromtxt + scipy.sparse, load_data builds a tiny random graph with a few NumPy lines (40
# papers, 20 binary word features drawn around 3 topic templates, ~70 citations mostly within a
# topic); scipy.sparse's coo_matrix / normalize / todense are the dense NumPy equivalents, and
# sparse_mx_to_torch_sparse_tensor takes the COO indices from np.nonzero. encode_onehot iterates
# sorted(set(labels)) (set order of strings varies between processes). Split range(140),
# range(200, 500), range(500, 1500) becomes range(12), range(12, 24), range(24, 40); argparse
# defaults with 20 epochs instead of 200 (parse_args([]) as run_script gives no command line). The
# "time: ...s" and "Total time elapsed" values are left out (timings).
from __future__ import division
from __future__ import print_function

import math
import time
import argparse
import numpy as np

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.parameter import Parameter
from torch.nn.modules.module import Module


# ---- pygcn/layers.py
class GraphConvolution(Module):
    """
    Simple GCN layer, similar to https://arxiv.org/abs/1609.02907
    """

    def __init__(self, in_features, out_features, bias=True):
        super(GraphConvolution, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        if bias:
            self.bias = Parameter(torch.FloatTensor(out_features))
        else:
            self.register_parameter('bias', None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1. / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        if self.bias is not None:
            return output + self.bias
        else:
            return output

    def __repr__(self):
        return self.__class__.__name__ + ' (' \
               + str(self.in_features) + ' -> ' \
               + str(self.out_features) + ')'


# ---- pygcn/models.py
class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super(GCN, self).__init__()

        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


# ---- pygcn/utils.py
def encode_onehot(labels):
    classes = sorted(set(labels))  # sorted: set order of strings varies between processes
    classes_dict = {c: np.identity(len(classes))[i, :] for i, c in
                    enumerate(classes)}
    labels_onehot = np.array(list(map(classes_dict.get, labels)),
                             dtype=np.int32)
    return labels_onehot


def make_tiny_cora(rng, n=40, n_words=20, n_topics=3, n_cites=70):
    # stand-in for cora.content / cora.cites: (paper id, word 0/1s, topic name) rows and citations
    topics = rng.randint(0, n_topics, n)
    templates = rng.rand(n_topics, n_words) < 0.3
    words = (templates[topics] ^ (rng.rand(n, n_words) < 0.1)).astype(int)
    ids = np.sort(rng.choice(1000, n, replace=False)) + 31
    content = np.array([[str(i)] + [str(w) for w in row] + ['Topic_' + 'ABC'[t]]
                        for i, row, t in zip(ids, words, topics)])
    src = rng.randint(0, n, n_cites)
    same = np.array([rng.choice(np.flatnonzero(topics == topics[s])) for s in src])
    dst = np.where(rng.rand(n_cites) < 0.8, same, rng.randint(0, n, n_cites))
    keep = src != dst
    return content, np.stack([ids[src[keep]], ids[dst[keep]]], 1).astype(np.int32)


def load_data(path="../data/cora/", dataset="cora"):
    """Load citation network dataset (cora only for now)"""
    print('Loading {} dataset...'.format(dataset))

    idx_features_labels, edges_unordered = make_tiny_cora(np.random.RandomState(3))
    features = np.array(idx_features_labels[:, 1:-1], dtype=np.float32)
    labels = encode_onehot(idx_features_labels[:, -1])

    # build graph
    idx = np.array(idx_features_labels[:, 0], dtype=np.int32)
    idx_map = {j: i for i, j in enumerate(idx)}
    edges = np.array(list(map(idx_map.get, edges_unordered.flatten())),
                     dtype=np.int32).reshape(edges_unordered.shape)
    adj = np.zeros((labels.shape[0], labels.shape[0]), dtype=np.float32)
    np.add.at(adj, (edges[:, 0], edges[:, 1]), 1.0)  # coo_matrix sums duplicates

    # build symmetric adjacency matrix
    adj = adj + adj.T * (adj.T > adj) - adj * (adj.T > adj)

    features = normalize(features)
    adj = normalize(adj + np.eye(adj.shape[0], dtype=np.float32))

    idx_train = range(12)
    idx_val = range(12, 24)
    idx_test = range(24, 40)

    features = torch.FloatTensor(np.array(features))
    labels = torch.LongTensor(np.where(labels)[1])
    adj = sparse_mx_to_torch_sparse_tensor(adj)

    idx_train = torch.LongTensor(idx_train)
    idx_val = torch.LongTensor(idx_val)
    idx_test = torch.LongTensor(idx_test)

    return adj, features, labels, idx_train, idx_val, idx_test


def normalize(mx):
    """Row-normalize sparse matrix"""
    rowsum = np.array(mx.sum(1))
    with np.errstate(divide='ignore'):
        r_inv = np.power(rowsum, -1).flatten()
    r_inv[np.isinf(r_inv)] = 0.
    r_mat_inv = np.diag(r_inv)
    mx = r_mat_inv.dot(mx)
    return mx


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    correct = preds.eq(labels).double()
    correct = correct.sum()
    return correct / len(labels)


def sparse_mx_to_torch_sparse_tensor(sparse_mx):
    """Convert a scipy sparse matrix to a torch sparse tensor."""
    sparse_mx = sparse_mx.astype(np.float32)
    row, col = np.nonzero(sparse_mx)  # the COO coordinates, row-major as tocoo() gives them
    indices = torch.from_numpy(
        np.vstack((row, col)).astype(np.int64))
    values = torch.from_numpy(sparse_mx[row, col])
    shape = torch.Size(sparse_mx.shape)
    return torch.sparse.FloatTensor(indices, values, shape)


# ---- pygcn/train.py
# Training settings
parser = argparse.ArgumentParser()
parser.add_argument('--no-cuda', action='store_true', default=False,
                    help='Disables CUDA training.')
parser.add_argument('--fastmode', action='store_true', default=False,
                    help='Validate during training pass.')
parser.add_argument('--seed', type=int, default=42, help='Random seed.')
parser.add_argument('--epochs', type=int, default=20,
                    help='Number of epochs to train.')
parser.add_argument('--lr', type=float, default=0.01,
                    help='Initial learning rate.')
parser.add_argument('--weight_decay', type=float, default=5e-4,
                    help='Weight decay (L2 loss on parameters).')
parser.add_argument('--hidden', type=int, default=16,
                    help='Number of hidden units.')
parser.add_argument('--dropout', type=float, default=0.5,
                    help='Dropout rate (1 - keep probability).')

args = parser.parse_args([])
args.cuda = not args.no_cuda and torch.cuda.is_available()

np.random.seed(args.seed)
torch.manual_seed(args.seed)
if args.cuda:
    torch.cuda.manual_seed(args.seed)

# Load data
adj, features, labels, idx_train, idx_val, idx_test = load_data()
print(adj.is_sparse, adj.shape, adj._nnz(), features.shape, labels[:10])  # added

# Model and optimizer
model = GCN(nfeat=features.shape[1],
            nhid=args.hidden,
            nclass=labels.max().item() + 1,
            dropout=args.dropout)
print(model)  # added
print(model.gc1)  # added
optimizer = optim.Adam(model.parameters(),
                       lr=args.lr, weight_decay=args.weight_decay)

if args.cuda:
    model.cuda()
    features = features.cuda()
    adj = adj.cuda()
    labels = labels.cuda()
    idx_train = idx_train.cuda()
    idx_val = idx_val.cuda()
    idx_test = idx_test.cuda()


def train(epoch):
    t = time.time()
    model.train()
    optimizer.zero_grad()
    output = model(features, adj)
    loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    acc_train = accuracy(output[idx_train], labels[idx_train])
    loss_train.backward()
    optimizer.step()

    if not args.fastmode:
        # Evaluate validation set performance separately,
        # deactivates dropout during validation run.
        model.eval()
        output = model(features, adj)

    loss_val = F.nll_loss(output[idx_val], labels[idx_val])
    acc_val = accuracy(output[idx_val], labels[idx_val])
    print('Epoch: {:04d}'.format(epoch+1),
          'loss_train: {:.4f}'.format(loss_train.item()),
          'acc_train: {:.4f}'.format(acc_train.item()),
          'loss_val: {:.4f}'.format(loss_val.item()),
          'acc_val: {:.4f}'.format(acc_val.item()))


def test():
    model.eval()
    output = model(features, adj)
    loss_test = F.nll_loss(output[idx_test], labels[idx_test])
    acc_test = accuracy(output[idx_test], labels[idx_test])
    print("Test set results:",
          "loss= {:.4f}".format(loss_test.item()),
          "accuracy= {:.4f}".format(acc_test.item()))


# Train model
t_total = time.time()
for epoch in range(args.epochs):
    train(epoch)
print("Optimization Finished!")

# Testing
test()
print(model.gc1.bias.grad.dtype, model.gc2.weight.grad.shape)  # added
