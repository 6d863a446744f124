# Source: zfjsail, gae-pytorch, "Graph Auto-Encoder in PyTorch" (Kipf & Welling's VGAE):
#   https://github.com/zfjsail/gae-pytorch  gae/layers.py, gae/model.py, gae/optimizer.py,
#   gae/utils.py, gae/train.py
# (GraphConvolution with F.dropout(input, p, self.training) positionally, act=lambda x: x,
# torch.nn.init.xavier_uniform_ on Parameter(torch.FloatTensor(in, out)), torch.spmm with a
# torch.sparse.FloatTensor adjacency; GCNModelVAE.reparameterize: torch.randn_like,
# eps.mul(std).add_(mu); InnerProductDecoder: torch.mm(z, z.t()); loss_function:
# norm * F.binary_cross_entropy_with_logits(preds, labels, pos_weight=...) plus the KL term with
# logvar.exp().pow(2); mu.data.numpy() scored each epoch.)
# Shrunk: the five files are one script. Instead of the pickled Cora (pickle + networkx) load_data
# builds a tiny random graph with a few NumPy lines (30 nodes, 12 binary features, ~70 undirected
# edges); scipy.sparse is replaced by dense NumPy arrays (dia_matrix / eliminate_zeros / triu / coo
# tuples / csr_matrix / eye / diags), the COO coordinates taken row-major by np.nonzero. sklearn's
# roc_auc_score and average_precision_score are the few NumPy lines in get_roc_score (the
# made-up graph is one whose scored edges stay >1e-4 apart, so the rankings are robust). Options:
# 20 epochs (not 200), hidden 16 and 8 (not 32 and 16); parse_args([]) (no command line here).
# The repository passes pos_weight as a number (a NumPy float64), which PyTorch's
# binary_cross_entropy_with_logits rejects ("must be Tensor"): the first call is made as written and its TypeError
# printed (added), then pos_weight is torch.tensor(pos_weight), the fix its users apply. The
# "time=" values are left out (timings).
from __future__ import division
from __future__ import print_function

import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.nn.modules.module import Module
from torch.nn.parameter import Parameter


# ---- gae/layers.py
class GraphConvolution(Module):
    """
    Simple GCN layer, similar to https://arxiv.org/abs/1609.02907
    """

    def __init__(self, in_features, out_features, dropout=0., act=F.relu):
        super(GraphConvolution, self).__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.dropout = dropout
        self.act = act
        self.weight = Parameter(torch.FloatTensor(in_features, out_features))
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.xavier_uniform_(self.weight)

    def forward(self, input, adj):
        input = F.dropout(input, self.dropout, self.training)
        support = torch.mm(input, self.weight)
        output = torch.spmm(adj, support)
        output = self.act(output)
        return output

    def __repr__(self):
        return self.__class__.__name__ + ' (' \
               + str(self.in_features) + ' -> ' \
               + str(self.out_features) + ')'


# ---- gae/model.py
class GCNModelVAE(nn.Module):
    def __init__(self, input_feat_dim, hidden_dim1, hidden_dim2, dropout):
        super(GCNModelVAE, self).__init__()
        self.gc1 = GraphConvolution(input_feat_dim, hidden_dim1, dropout, act=F.relu)
        self.gc2 = GraphConvolution(hidden_dim1, hidden_dim2, dropout, act=lambda x: x)
        self.gc3 = GraphConvolution(hidden_dim1, hidden_dim2, dropout, act=lambda x: x)
        self.dc = InnerProductDecoder(dropout, act=lambda x: x)

    def encode(self, x, adj):
        hidden1 = self.gc1(x, adj)
        return self.gc2(hidden1, adj), self.gc3(hidden1, adj)

    def reparameterize(self, mu, logvar):
        if self.training:
            std = torch.exp(logvar)
            eps = torch.randn_like(std)
            return eps.mul(std).add_(mu)
        else:
            return mu

    def forward(self, x, adj):
        mu, logvar = self.encode(x, adj)
        z = self.reparameterize(mu, logvar)
        return self.dc(z), mu, logvar


class InnerProductDecoder(nn.Module):
    """Decoder for using inner product for prediction."""

    def __init__(self, dropout, act=torch.sigmoid):
        super(InnerProductDecoder, self).__init__()
        self.dropout = dropout
        self.act = act

    def forward(self, z):
        z = F.dropout(z, self.dropout, training=self.training)
        adj = self.act(torch.mm(z, z.t()))
        return adj


# ---- gae/optimizer.py
def loss_function(preds, labels, mu, logvar, n_nodes, norm, pos_weight):
    cost = norm * F.binary_cross_entropy_with_logits(preds, labels, pos_weight=pos_weight)

    # see Appendix B from VAE paper:
    # Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    # https://arxiv.org/abs/1312.6114
    # 0.5 * sum(1 + log(sigma^2) - mu^2 - sigma^2)
    KLD = -0.5 / n_nodes * torch.mean(torch.sum(
        1 + 2 * logvar - mu.pow(2) - logvar.exp().pow(2), 1))
    return cost + KLD


# ---- gae/utils.py
def load_data(dataset):
    # stand-in for the pickled x, tx, allx, graph: a made-up graph with a few dense communities
    rng = np.random.RandomState(13)
    n, f = 30, 12
    group = np.arange(n) % 3
    features = torch.FloatTensor((rng.rand(n, f) < 0.3).astype(np.float32))
    p = np.where(group[:, None] == group[None, :], 0.4, 0.03)
    upper = np.triu(rng.rand(n, n) < p, 1)
    upper[np.arange(n - 1), np.arange(1, n)] = True  # a path through all nodes: none isolated
    adj = (upper | upper.T).astype(np.float64)
    return adj, features


def sparse_to_tuple(sparse_mx):
    row, col = np.nonzero(sparse_mx)
    coords = np.vstack((row, col)).transpose()
    values = sparse_mx[row, col]
    shape = sparse_mx.shape
    return coords, values, shape


def mask_test_edges(adj):
    # Function to build test set with 10% positive links
    # NOTE: Splits are randomized and results might slightly deviate from reported numbers in the paper.
    # TODO: Clean up.

    # Remove diagonal elements
    adj = adj - np.diag(adj.diagonal())
    # Check that diag is zero:
    assert np.diag(adj).sum() == 0

    adj_triu = np.triu(adj)
    adj_tuple = sparse_to_tuple(adj_triu)
    edges = adj_tuple[0]
    edges_all = sparse_to_tuple(adj)[0]
    num_test = int(np.floor(edges.shape[0] / 10.))
    num_val = int(np.floor(edges.shape[0] / 20.))

    all_edge_idx = list(range(edges.shape[0]))
    np.random.shuffle(all_edge_idx)
    val_edge_idx = all_edge_idx[:num_val]
    test_edge_idx = all_edge_idx[num_val:(num_val + num_test)]
    test_edges = edges[test_edge_idx]
    val_edges = edges[val_edge_idx]
    train_edges = np.delete(edges, np.hstack([test_edge_idx, val_edge_idx]), axis=0)

    def ismember(a, b, tol=5):
        rows_close = np.all(np.round(a - b[:, None], tol) == 0, axis=-1)
        return np.any(rows_close)

    test_edges_false = []
    while len(test_edges_false) < len(test_edges):
        idx_i = np.random.randint(0, adj.shape[0])
        idx_j = np.random.randint(0, adj.shape[0])
        if idx_i == idx_j:
            continue
        if ismember([idx_i, idx_j], edges_all):
            continue
        if test_edges_false:
            if ismember([idx_j, idx_i], np.array(test_edges_false)):
                continue
            if ismember([idx_i, idx_j], np.array(test_edges_false)):
                continue
        test_edges_false.append([idx_i, idx_j])

    val_edges_false = []
    while len(val_edges_false) < len(val_edges):
        idx_i = np.random.randint(0, adj.shape[0])
        idx_j = np.random.randint(0, adj.shape[0])
        if idx_i == idx_j:
            continue
        if ismember([idx_i, idx_j], train_edges):
            continue
        if ismember([idx_j, idx_i], train_edges):
            continue
        if ismember([idx_i, idx_j], val_edges):
            continue
        if ismember([idx_j, idx_i], val_edges):
            continue
        if val_edges_false:
            if ismember([idx_j, idx_i], np.array(val_edges_false)):
                continue
            if ismember([idx_i, idx_j], np.array(val_edges_false)):
                continue
        val_edges_false.append([idx_i, idx_j])

    assert ~ismember(test_edges_false, edges_all)
    assert ~ismember(val_edges_false, edges_all)
    assert ~ismember(val_edges, train_edges)
    assert ~ismember(test_edges, train_edges)
    assert ~ismember(val_edges, test_edges)

    data = np.ones(train_edges.shape[0])

    # Re-build adj matrix
    adj_train = np.zeros(adj.shape)
    adj_train[train_edges[:, 0], train_edges[:, 1]] = data
    adj_train = adj_train + adj_train.T

    # NOTE: these edge lists only contain single direction of edge!
    return adj_train, train_edges, val_edges, val_edges_false, test_edges, test_edges_false


def preprocess_graph(adj):
    adj_ = adj + np.eye(adj.shape[0])
    rowsum = np.array(adj_.sum(1))
    degree_mat_inv_sqrt = np.diag(np.power(rowsum, -0.5).flatten())
    adj_normalized = adj_.dot(degree_mat_inv_sqrt).transpose().dot(degree_mat_inv_sqrt)
    # return sparse_to_tuple(adj_normalized)
    return sparse_mx_to_torch_sparse_tensor(adj_normalized)


def sparse_mx_to_torch_sparse_tensor(sparse_mx):
    """Convert a scipy sparse matrix to a torch sparse tensor."""
    sparse_mx = sparse_mx.astype(np.float32)
    row, col = np.nonzero(sparse_mx)
    indices = torch.from_numpy(
        np.vstack((row, col)).astype(np.int64))
    values = torch.from_numpy(sparse_mx[row, col])
    shape = torch.Size(sparse_mx.shape)
    return torch.sparse.FloatTensor(indices, values, shape)


def roc_auc_score(y, s):  # sklearn's, for binary labels: the Mann-Whitney U with tied ranks averaged
    order = np.argsort(s, kind='mergesort')
    ranks = np.empty(len(s))
    ranks[order] = np.arange(1, len(s) + 1)
    for v in np.unique(s):
        ranks[s == v] = ranks[s == v].mean()
    n_pos, n_neg = (y == 1).sum(), (y == 0).sum()
    return (ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def average_precision_score(y, s):  # sklearn's: sum over thresholds of (R_n - R_{n-1}) P_n
    thresholds = np.unique(s)[::-1]
    tp = np.array([(y[s >= t] == 1).sum() for t in thresholds])
    fp = np.array([(y[s >= t] == 0).sum() for t in thresholds])
    precision, recall = tp / (tp + fp), tp / (y == 1).sum()
    return np.sum(np.diff(np.concatenate([[0.], recall])) * precision)


def get_roc_score(emb, adj_orig, edges_pos, edges_neg):
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    # Predict on test set of edges
    adj_rec = np.dot(emb, emb.T)
    preds = []
    pos = []
    for e in edges_pos:
        preds.append(sigmoid(adj_rec[e[0], e[1]]))
        pos.append(adj_orig[e[0], e[1]])

    preds_neg = []
    neg = []
    for e in edges_neg:
        preds_neg.append(sigmoid(adj_rec[e[0], e[1]]))
        neg.append(adj_orig[e[0], e[1]])

    preds_all = np.hstack([preds, preds_neg])
    labels_all = np.hstack([np.ones(len(preds)), np.zeros(len(preds_neg))])
    roc_score = roc_auc_score(labels_all, preds_all)
    ap_score = average_precision_score(labels_all, preds_all)

    return roc_score, ap_score


# ---- gae/train.py
parser = argparse.ArgumentParser()
parser.add_argument('--model', type=str, default='gcn_vae', help="models used")
parser.add_argument('--seed', type=int, default=42, help='Random seed.')
parser.add_argument('--epochs', type=int, default=20, help='Number of epochs to train.')
parser.add_argument('--hidden1', type=int, default=16, help='Number of units in hidden layer 1.')
parser.add_argument('--hidden2', type=int, default=8, help='Number of units in hidden layer 2.')
parser.add_argument('--lr', type=float, default=0.01, help='Initial learning rate.')
parser.add_argument('--dropout', type=float, default=0., help='Dropout rate (1 - keep probability).')
parser.add_argument('--dataset-str', type=str, default='cora', help='type of dataset.')

args = parser.parse_args([])


def gae_for(args):
    print("Using {} dataset".format(args.dataset_str))
    adj, features = load_data(args.dataset_str)
    n_nodes, feat_dim = features.shape

    # Store original adjacency matrix (without diagonal entries) for later
    adj_orig = adj
    adj_orig = adj_orig - np.diag(adj_orig.diagonal())

    adj_train, train_edges, val_edges, val_edges_false, test_edges, test_edges_false = mask_test_edges(adj)
    adj = adj_train
    print(len(train_edges), val_edges.tolist(), val_edges_false)  # added

    # Some preprocessing
    adj_norm = preprocess_graph(adj)
    adj_label = adj_train + np.eye(adj_train.shape[0])
    # adj_label = sparse_to_tuple(adj_label)
    adj_label = torch.FloatTensor(adj_label)

    pos_weight = float(adj.shape[0] * adj.shape[0] - adj.sum()) / adj.sum()
    norm = adj.shape[0] * adj.shape[0] / float((adj.shape[0] * adj.shape[0] - adj.sum()) * 2)
    print(adj_norm._nnz(), adj_label.sum().item(), round(pos_weight, 5), round(norm, 5))  # added

    model = GCNModelVAE(feat_dim, args.hidden1, args.hidden2, args.dropout)
    print(model)  # added
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    try:  # added: the repository's call, with pos_weight a float
        recovered, mu, logvar = model(features, adj_norm)
        loss_function(preds=recovered, labels=adj_label, mu=mu, logvar=logvar, n_nodes=n_nodes,
                      norm=norm, pos_weight=pos_weight)
    except TypeError as e:
        print("TypeError:", e)
    pos_weight = torch.tensor(pos_weight)  # added: the fix for PyTorch >= 1.x

    hidden_emb = None
    for epoch in range(args.epochs):
        t = time.time()
        model.train()
        optimizer.zero_grad()
        recovered, mu, logvar = model(features, adj_norm)
        loss = loss_function(preds=recovered, labels=adj_label,
                             mu=mu, logvar=logvar, n_nodes=n_nodes,
                             norm=norm, pos_weight=pos_weight)
        loss.backward()
        cur_loss = loss.item()
        optimizer.step()

        hidden_emb = mu.data.numpy()
        roc_curr, ap_curr = get_roc_score(hidden_emb, adj_orig, val_edges, val_edges_false)

        print("Epoch:", '%04d' % (epoch + 1), "train_loss=", "{:.5f}".format(cur_loss),
              "val_ap=", "{:.5f}".format(ap_curr)
              )

    print("Optimization Finished!")

    roc_score, ap_score = get_roc_score(hidden_emb, adj_orig, test_edges, test_edges_false)
    print('Test ROC score: ' + str(roc_score))
    print('Test AP score: ' + str(ap_score))


if __name__ == '__main__':
    gae_for(args)
