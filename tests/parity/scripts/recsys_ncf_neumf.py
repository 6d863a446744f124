# Source: guoyang9, NCF (Neural Collaborative Filtering: GMF, MLP and NeuMF in PyTorch):
#   https://github.com/guoyang9/NCF  model.py, evaluate.py, data_utils.py, main.py, config.py
# Shrunk: model.py's NCF, evaluate.py's hit/ndcg/metrics and data_utils.py's NCFData are inlined,
#   main.py's body is a function run for config.model = 'GMF', 'MLP' and then 'NeuMF-pre' (which loads
#   the two saved models, with torch.load(..., weights_only=False): PyTorch 2.6 made weights_only=True
#   the default, which refuses a pickled Module). data_utils.load_all's MovieLens files are replaced by
#   20 users x 40 items drawn with torch.randn/randperm (a rank-2 taste; each user's 6 best-liked of 8
#   random items are training positives, the 7th the test item, with 19 never-seen test negatives, not
#   99), and scipy's dok_matrix by a dict of (user, item) keys (the `in` test is the same); argparse's
#   defaults are a Namespace with factor_num 8, 3 layers, batch 128, 4 epochs, lr 0.01 (not 0.001, so that
#   the few steps spread the scores), top_k 5; num_workers 0, no .cuda(), checkpoints in a temporary
#   folder; the epoch's elapsed time is not printed (a timing): that line prints the epoch number and
#   the last batch's loss instead.
import os
import tempfile
import types
import numpy as np

import torch
import torch.nn as nn
import torch.optim as optim
import torch.utils.data as data
import torch.backends.cudnn as cudnn


# ---------------------------------------------------------------- model.py
class NCF(nn.Module):
	def __init__(self, user_num, item_num, factor_num, num_layers,
					dropout, model, GMF_model=None, MLP_model=None):
		super(NCF, self).__init__()
		"""
		user_num: number of users;
		item_num: number of items;
		factor_num: number of predictive factors;
		num_layers: the number of layers in MLP model;
		dropout: dropout rate between fully connected layers;
		model: 'MLP', 'GMF', 'NeuMF-end', and 'NeuMF-pre';
		GMF_model: pre-trained GMF weights;
		MLP_model: pre-trained MLP weights.
		"""
		self.dropout = dropout
		self.model = model
		self.GMF_model = GMF_model
		self.MLP_model = MLP_model

		self.embed_user_GMF = nn.Embedding(user_num, factor_num)
		self.embed_item_GMF = nn.Embedding(item_num, factor_num)
		self.embed_user_MLP = nn.Embedding(
				user_num, factor_num * (2 ** (num_layers - 1)))
		self.embed_item_MLP = nn.Embedding(
				item_num, factor_num * (2 ** (num_layers - 1)))

		MLP_modules = []
		for i in range(num_layers):
			input_size = factor_num * (2 ** (num_layers - i))
			MLP_modules.append(nn.Dropout(p=self.dropout))
			MLP_modules.append(nn.Linear(input_size, input_size//2))
			MLP_modules.append(nn.ReLU())
		self.MLP_layers = nn.Sequential(*MLP_modules)

		if self.model in ['MLP', 'GMF']:
			predict_size = factor_num
		else:
			predict_size = factor_num * 2
		self.predict_layer = nn.Linear(predict_size, 1)

		self._init_weight_()

	def _init_weight_(self):
		""" We leave the weights initialization here. """
		if not self.model == 'NeuMF-pre':
			nn.init.normal_(self.embed_user_GMF.weight, std=0.01)
			nn.init.normal_(self.embed_user_MLP.weight, std=0.01)
			nn.init.normal_(self.embed_item_GMF.weight, std=0.01)
			nn.init.normal_(self.embed_item_MLP.weight, std=0.01)

			for m in self.MLP_layers:
				if isinstance(m, nn.Linear):
					nn.init.xavier_uniform_(m.weight)
			nn.init.kaiming_uniform_(self.predict_layer.weight,
									a=1, nonlinearity='sigmoid')

			for m in self.modules():
				if isinstance(m, nn.Linear) and m.bias is not None:
					m.bias.data.zero_()
		else:
			# embedding layers
			self.embed_user_GMF.weight.data.copy_(
							self.GMF_model.embed_user_GMF.weight)
			self.embed_item_GMF.weight.data.copy_(
							self.GMF_model.embed_item_GMF.weight)
			self.embed_user_MLP.weight.data.copy_(
							self.MLP_model.embed_user_MLP.weight)
			self.embed_item_MLP.weight.data.copy_(
							self.MLP_model.embed_item_MLP.weight)

			# mlp layers
			for (m1, m2) in zip(
				self.MLP_layers, self.MLP_model.MLP_layers):
				if isinstance(m1, nn.Linear) and isinstance(m2, nn.Linear):
					m1.weight.data.copy_(m2.weight)
					m1.bias.data.copy_(m2.bias)

			# predict layers
			predict_weight = torch.cat([
				self.GMF_model.predict_layer.weight,
				self.MLP_model.predict_layer.weight], dim=1)
			precit_bias = self.GMF_model.predict_layer.bias + \
						self.MLP_model.predict_layer.bias

			self.predict_layer.weight.data.copy_(0.5 * predict_weight)
			self.predict_layer.bias.data.copy_(0.5 * precit_bias)

	def forward(self, user, item):
		if not self.model == 'MLP':
			embed_user_GMF = self.embed_user_GMF(user)
			embed_item_GMF = self.embed_item_GMF(item)
			output_GMF = embed_user_GMF * embed_item_GMF
		if not self.model == 'GMF':
			embed_user_MLP = self.embed_user_MLP(user)
			embed_item_MLP = self.embed_item_MLP(item)
			interaction = torch.cat((embed_user_MLP, embed_item_MLP), -1)
			output_MLP = self.MLP_layers(interaction)

		if self.model == 'GMF':
			concat = output_GMF
		elif self.model == 'MLP':
			concat = output_MLP
		else:
			concat = torch.cat((output_GMF, output_MLP), -1)

		prediction = self.predict_layer(concat)
		return prediction.view(-1)


# ---------------------------------------------------------------- evaluate.py
def hit(gt_item, pred_items):
	if gt_item in pred_items:
		return 1
	return 0


def ndcg(gt_item, pred_items):
	if gt_item in pred_items:
		index = pred_items.index(gt_item)
		return np.reciprocal(np.log2(index+2))
	return 0


def metrics(model, test_loader, top_k):
	HR, NDCG = [], []

	for user, item, label in test_loader:
		predictions = model(user, item)
		_, indices = torch.topk(predictions, top_k)
		recommends = torch.take(
				item, indices).cpu().numpy().tolist()

		gt_item = item[0].item()
		HR.append(hit(gt_item, recommends))
		NDCG.append(ndcg(gt_item, recommends))

	return np.mean(HR), np.mean(NDCG)


# ---------------------------------------------------------------- data_utils.py
def load_all(test_num=20, user_num=20, item_num=40):
	""" Synthetic stand-in for the MovieLens files: the same four results. """
	taste_user, taste_item = torch.randn(user_num, 2), torch.randn(item_num, 2)
	train_data, test_data = [], []
	for u in range(user_num):
		seen = torch.randperm(item_num)[:8]
		liked = seen[torch.argsort(taste_item[seen] @ taste_user[u], descending=True)].tolist()
		train_data += [[u, i] for i in liked[:6]]
		test_data.append([u, liked[6]])
		unseen = [i for i in torch.randperm(item_num).tolist() if i not in liked]
		test_data += [[u, i] for i in unseen[:test_num - 1]]

	# load ratings as a dok matrix
	train_mat = {}
	for x in train_data:
		train_mat[x[0], x[1]] = 1.0
	return train_data, test_data, user_num, item_num, train_mat


class NCFData(data.Dataset):
	def __init__(self, features,
				num_item, train_mat=None, num_ng=0, is_training=None):
		super(NCFData, self).__init__()
		""" Note that the labels are only useful when training, we thus
			add them in the ng_sample() function.
		"""
		self.features_ps = features
		self.num_item = num_item
		self.train_mat = train_mat
		self.num_ng = num_ng
		self.is_training = is_training
		self.labels = [0 for _ in range(len(features))]

	def ng_sample(self):
		assert self.is_training, 'no need to sampling when testing'

		self.features_ng = []
		for x in self.features_ps:
			u = x[0]
			for t in range(self.num_ng):
				j = np.random.randint(self.num_item)
				while (u, j) in self.train_mat:
					j = np.random.randint(self.num_item)
				self.features_ng.append([u, j])

		labels_ps = [1 for _ in range(len(self.features_ps))]
		labels_ng = [0 for _ in range(len(self.features_ng))]

		self.features_fill = self.features_ps + self.features_ng
		self.labels_fill = labels_ps + labels_ng

	def __len__(self):
		return (self.num_ng + 1) * len(self.labels)

	def __getitem__(self, idx):
		features = self.features_fill if self.is_training \
					else self.features_ps
		labels = self.labels_fill if self.is_training \
					else self.labels

		user = features[idx][0]
		item = features[idx][1]
		label = labels[idx]
		return user, item ,label


# ---------------------------------------------------------------- main.py
args = types.SimpleNamespace(lr=0.01, dropout=0.0, batch_size=128, epochs=4, top_k=5, factor_num=8,
                             num_layers=3, num_ng=4, test_num_ng=19, out=True, gpu="0")
config = types.SimpleNamespace(model_path=tempfile.mkdtemp() + '/')
config.GMF_model_path = config.model_path + 'GMF.pth'
config.MLP_model_path = config.model_path + 'MLP.pth'

os.environ["CUDA_VISIBLE_DEVICES"] = args.gpu
cudnn.benchmark = True


############################## PREPARE DATASET ##########################
train_data, test_data, user_num ,item_num, train_mat = load_all()

# construct the train and test datasets
train_dataset = NCFData(
		train_data, item_num, train_mat, args.num_ng, True)
test_dataset = NCFData(
		test_data, item_num, train_mat, 0, False)
train_loader = data.DataLoader(train_dataset,
		batch_size=args.batch_size, shuffle=True, num_workers=0)
test_loader = data.DataLoader(test_dataset,
		batch_size=args.test_num_ng+1, shuffle=False, num_workers=0)


def main():
	########################### CREATE MODEL #################################
	if config.model == 'NeuMF-pre':
		assert os.path.exists(config.GMF_model_path), 'lack of GMF model'
		assert os.path.exists(config.MLP_model_path), 'lack of MLP model'
		GMF_model = torch.load(config.GMF_model_path, weights_only=False)
		MLP_model = torch.load(config.MLP_model_path, weights_only=False)
	else:
		GMF_model = None
		MLP_model = None

	model = NCF(user_num, item_num, args.factor_num, args.num_layers,
							args.dropout, config.model, GMF_model, MLP_model)
	loss_function = nn.BCEWithLogitsLoss()

	if config.model == 'NeuMF-pre':
		optimizer = optim.SGD(model.parameters(), lr=args.lr)
	else:
		optimizer = optim.Adam(model.parameters(), lr=args.lr)

	########################### TRAINING #####################################
	count, best_hr = 0, 0
	for epoch in range(args.epochs):
		model.train() # Enable dropout (if have).
		train_loader.dataset.ng_sample()

		for user, item, label in train_loader:
			label = label.float()

			model.zero_grad()
			prediction = model(user, item)
			loss = loss_function(prediction, label)
			loss.backward()
			optimizer.step()
			count += 1

		model.eval()
		HR, NDCG = metrics(model, test_loader, args.top_k)

		print("The epoch {:03d}".format(epoch) + " loss: {:.4f}".format(loss.item()))
		print("HR: {:.3f}\tNDCG: {:.3f}".format(np.mean(HR), np.mean(NDCG)))

		if HR > best_hr:
			best_hr, best_ndcg, best_epoch = HR, NDCG, epoch
			if args.out:
				if not os.path.exists(config.model_path):
					os.mkdir(config.model_path)
				torch.save(model,
					'{}{}.pth'.format(config.model_path, config.model))

	print("End. Best epoch {:03d}: HR = {:.3f}, NDCG = {:.3f}".format(
										best_epoch, best_hr, best_ndcg))


for config.model in ['GMF', 'MLP', 'NeuMF-pre']:
	print(config.model)
	main()
