# Source: Marc Lelarge, "Deep Learning Do It Yourself!" (dataflowr), Module 8, collaborative filtering
#   on MovieLens 100k (solution): https://github.com/dataflowr/notebooks
#   Module8/sol/08_collaborative_filtering_sol.ipynb
# Shrunk: 3000 synthetic ratings (1 to 5, from random user/item factors) of 60 items by 40 users with
#   made-up movie names instead of the MovieLens download; 4 epochs of batch 512 instead of 10 of 1024.
#   No pandas / scikit-learn: the DataFrames are NumPy arrays, train_test_split is a NumPy permutation
#   (test_size=0.2), mean_squared_error / mean_absolute_error and PCA (centred SVD, sklearn's sign
#   convention) are a few NumPy lines, and the pandas-only exploration cells are dropped. shuffle()'s
#   unseeded np.random.RandomState() (different on every run) is NumPy's seeded global generator.
#   No matplotlib: the last scatter plot's points are printed. The item biases are summarised (max,
#   mean, min) instead of listing the movies sorted by bias: after so few Adam steps neighbouring
#   biases in that order are within 1e-5 of each other, and the order would depend on float32 rounding.
import numpy as np
from operator import itemgetter

total_user_id, total_item_id, n_ratings = 40, 60, 3000
list_movies_names = ['Movie %d (19%02d)' % (i + 1, 50 + i % 50) for i in range(total_item_id)]
user_factors = np.random.randn(total_user_id, 2)
item_factors = np.random.randn(total_item_id, 2)
all_user_id = np.random.randint(0, total_user_id, n_ratings)
all_item_id = np.random.randint(0, total_item_id, n_ratings)
all_ratings = np.clip(np.round(3 + (user_factors[all_user_id] * item_factors[all_item_id]).sum(1)
                               + 0.5 * np.random.randn(n_ratings)), 1, 5)
print(total_user_id)
print(total_item_id)

perm = np.random.RandomState(42).permutation(n_ratings)
train_idx, test_idx = perm[:int(0.8 * n_ratings)], perm[int(0.8 * n_ratings):]
user_id_train = all_user_id[train_idx]
item_id_train = all_item_id[train_idx]
rating_train = all_ratings[train_idx]
user_id_test = all_user_id[test_idx]
item_id_test = all_item_id[test_idx]
rating_test = all_ratings[test_idx]
print(len(user_id_train), len(np.unique(user_id_train)), len(np.unique(item_id_train)))
print(user_id_train[:5], item_id_train[:5], rating_train[:5])

import torch.nn as nn
import torch

device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")

embedding_dim = 3
embedding_user = nn.Embedding(total_user_id, embedding_dim)
input = torch.LongTensor([[1,2,4,5],[4,3,2,0]])
print(embedding_user(input))

class ScaledEmbedding(nn.Embedding):
    """
    Embedding layer that initialises its values
    to using a normal variable scaled by the inverse
    of the embedding dimension.
    """
    def reset_parameters(self):
        """
        Initialize parameters.
        """
        self.weight.data.normal_(0, 1.0 / self.embedding_dim)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx].fill_(0)


class ZeroEmbedding(nn.Embedding):
    """
    Used for biases.
    """
    def reset_parameters(self):
        """
        Initialize parameters.
        """
        self.weight.data.zero_()
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx].fill_(0)

class DotModel(nn.Module):
    
    def __init__(self,
                 num_users,
                 num_items,
                 embedding_dim=32):
        
        super(DotModel, self).__init__()
        
        self.embedding_dim = embedding_dim
        
        self.user_embeddings = ScaledEmbedding(num_users, embedding_dim)
        self.item_embeddings = ScaledEmbedding(num_items, embedding_dim)
        self.user_biases = ZeroEmbedding(num_users, 1)
        self.item_biases = ZeroEmbedding(num_items, 1)
                
        
    def forward(self, user_ids, item_ids):
        
        user_embedding = self.user_embeddings(user_ids)
        item_embedding = self.item_embeddings(item_ids)

        user_bias = self.user_biases(user_ids).squeeze()
        item_bias = self.item_biases(item_ids).squeeze()

        dot = (user_embedding * item_embedding).sum(1)

        return dot + user_bias + item_bias

net = DotModel(total_user_id,total_item_id).to(device)

batch_users_np = user_id_train[:5].astype(np.int32)
batch_items_np = item_id_train[:5].astype(np.int32)
batch_ratings_np = rating_train[:5].astype(np.float32)
batch_users_tensor = torch.LongTensor(batch_users_np).to(device)
batch_items_tensor = torch.LongTensor(batch_items_np).to(device)
batch_ratings_tensor = torch.tensor(batch_ratings_np).to(device)

predictions = net(batch_users_tensor,batch_items_tensor)
print(predictions)

def regression_loss(predicted_ratings, observed_ratings):
    return ((observed_ratings - predicted_ratings) ** 2).mean()

loss_fn = regression_loss
loss = loss_fn(predictions, batch_ratings_tensor)
print(loss)

net = DotModel(total_user_id,total_item_id).to(device)
optimizer = torch.optim.Adam(net.parameters(), lr = 0.1)
for e in range(15):
    predictions = net(batch_users_tensor,batch_items_tensor)
    loss = loss_fn(predictions, batch_ratings_tensor)
    print(loss)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

def shuffle(*arrays):

    random_state = np.random
    shuffle_indices = np.arange(len(arrays[0]))
    random_state.shuffle(shuffle_indices)

    if len(arrays) == 1:
        return arrays[0][shuffle_indices]
    else:
        return tuple(x[shuffle_indices] for x in arrays)

def minibatch(batch_size, *tensors):

    if len(tensors) == 1:
        tensor = tensors[0]
        for i in range(0, len(tensor), batch_size):
            yield tensor[i:i + batch_size]
    else:
        for i in range(0, len(tensors[0]), batch_size):
            yield tuple(x[i:i + batch_size] for x in tensors)


import numpy as np

import torch.optim as optim

class FactorizationModel(object):
    
    def __init__(self, embedding_dim=32, n_iter=10, batch_size=256, l2=0.0,
                 learning_rate=1e-2, device=device, net=None, num_users=None,
                 num_items=None,random_state=None):
        
        self._embedding_dim = embedding_dim
        self._n_iter = n_iter
        self._learning_rate = learning_rate
        self._batch_size = batch_size
        self._l2 = l2
        self._device = device
        self._num_users = num_users
        self._num_items = num_items
        self._net = net
        self._optimizer = None
        self._loss_func = None
        self._random_state = random_state or np.random.RandomState()
             
        
    def _initialize(self):
        if self._net is None:
            self._net = DotModel(self._num_users, self._num_items, self._embedding_dim).to(self._device)
        
        self._optimizer = optim.Adam(
                self._net.parameters(),
                lr=self._learning_rate,
                weight_decay=self._l2
            )
        
        self._loss_func = regression_loss
    
    @property
    def _initialized(self):
        return self._optimizer is not None
    
    
    def fit(self, user_ids, item_ids, ratings, verbose=True):
        
        user_ids = user_ids.astype(np.int64)
        item_ids = item_ids.astype(np.int64)
        
        if not self._initialized:
            self._initialize()
            
        for epoch_num in range(self._n_iter):
            users, items, ratingss = shuffle(user_ids,
                                            item_ids,
                                            ratings)

            user_ids_tensor = torch.from_numpy(users).to(self._device)
            item_ids_tensor = torch.from_numpy(items).to(self._device)
            ratings_tensor = torch.from_numpy(ratingss).to(self._device)
            epoch_loss = 0.0

            for (minibatch_num,
                 (batch_user,
                  batch_item,
                  batch_rating)) in enumerate(minibatch(self._batch_size,
                                                         user_ids_tensor,
                                                         item_ids_tensor,
                                                         ratings_tensor)):
                
                
                # beging to be completed
                predictions = self._net(batch_user, batch_item)

                self._optimizer.zero_grad()
                
                loss = self._loss_func(predictions,batch_rating)
                
                epoch_loss = epoch_loss + loss.data.item()
                
                loss.backward()
                self._optimizer.step()
                # end to be completed
            
            epoch_loss = epoch_loss / (minibatch_num + 1)
            
            if verbose:
                print('Epoch {}: loss_train {}'.format(epoch_num, epoch_loss))
        
            if np.isnan(epoch_loss) or epoch_loss == 0.0:
                raise ValueError('Degenerate epoch loss: {}'
                                 .format(epoch_loss))
    
    
    def test(self,user_ids, item_ids, ratings):
        self._net.train(False)
        user_ids = user_ids.astype(np.int64)
        item_ids = item_ids.astype(np.int64)
        
        user_ids_tensor = torch.from_numpy(user_ids).to(self._device)
        item_ids_tensor = torch.from_numpy(item_ids).to(self._device)
        ratings_tensor = torch.from_numpy(ratings).to(self._device)
               
        predictions = self._net(user_ids_tensor, item_ids_tensor)
        
        loss = self._loss_func(ratings_tensor, predictions)
        return loss.data.item()

    def predict(self,user_ids, item_ids):
        self._net.train(False)
        user_ids = user_ids.astype(np.int64)
        item_ids = item_ids.astype(np.int64)
        
        user_ids_tensor = torch.from_numpy(user_ids).to(self._device)
        item_ids_tensor = torch.from_numpy(item_ids).to(self._device)
               
        predictions = self._net(user_ids_tensor, item_ids_tensor)
        return predictions.data   

model = FactorizationModel(embedding_dim=50,  # latent dimensionality
                                   n_iter=4,  # number of epochs of training
                                   batch_size=512,  # minibatch size
                                   learning_rate=1e-3,
                                   l2=1e-9,  # strength of L2 regularization
                                   num_users=total_user_id,
                                   num_items=total_item_id)

user_ids_train_np = user_id_train.astype(np.int32)
item_ids_train_np = item_id_train.astype(np.int32)
ratings_train_np = rating_train.astype(np.float32)
user_ids_test_np = user_id_test.astype(np.int64)
item_ids_test_np = item_id_test.astype(np.int64)
ratings_test_np = rating_test.astype(np.float32)

model.fit(user_ids_train_np, item_ids_train_np, ratings_train_np)
print(model.test(user_ids_test_np, item_ids_test_np, ratings_test_np  ))
print(model._net)


def mean_squared_error(y_true, y_pred):
    return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)

def mean_absolute_error(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred)))

test_preds = model.predict(user_ids_test_np, item_ids_test_np)
print("Final test RMSE: %0.3f" % np.sqrt(mean_squared_error(test_preds.cpu(), ratings_test_np)))
print("Final test MAE: %0.3f" % mean_absolute_error(test_preds.cpu(), ratings_test_np))

item_bias_np = model._net.item_biases.weight.data.cpu().numpy()
indices_item_train = np.sort(np.unique(item_id_train))
biases = item_bias_np.T[0][indices_item_train]
print(biases.shape, '%.5f %.5f %.5f' % (biases.max(), biases.mean(), biases.min()))

item_emb_np = model._net.item_embeddings.weight.data.cpu().numpy()
print(item_emb_np.shape)


class PCA:
    # sklearn.decomposition.PCA(n_components).fit_transform: centred SVD, signs as sklearn's svd_flip
    def __init__(self, n_components):
        self.n_components = n_components

    def fit_transform(self, X):
        X = X - X.mean(0)
        U, S, Vt = np.linalg.svd(X, full_matrices=False)
        signs = np.sign(Vt[np.arange(len(Vt)), np.argmax(np.abs(Vt), axis=1)])
        U, Vt = U * signs, Vt * signs[:, None]
        return (U * S)[:, :self.n_components]


pca = PCA(n_components=3)
latent_fac = pca.fit_transform(item_emb_np)
movie_comp = [(f, i) for f,i in zip(latent_fac[:,1], list_movies_names)]
print([(round(float(f), 4), i) for f, i in sorted(movie_comp, key=itemgetter(0), reverse=True)[:5]])
print([(round(float(f), 4), i) for f, i in sorted(movie_comp, key=itemgetter(0), reverse=False)[:5]])
idxs = range(10)
X = latent_fac[idxs,0]
Y = latent_fac[idxs,2]
print(np.round(X, 4), np.round(Y, 4))
