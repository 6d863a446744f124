# Source: Simon J.D. Prince, "Understanding Deep Learning", notebook 20.3 "Lottery tickets", with the
# train_model it imports from the MNIST-1D repository:
#   https://github.com/udlbook/udlbook  Notebooks/Chap20/20_3_Lottery_Tickets.ipynb
#   https://github.com/greydanus/mnist1d  notebooks/train.py (get_model_args, accuracy, train_model)
# Masked linear layers that write their parameters back through `param.data = ...`, magnitude pruning
# and rewinding to the initial weights, checkpoints taken with copy.deepcopy. Shrunk: the MNIST-1D
# dataset is 400 training / 100 test random 40-sample signals around ten templates (a dict of NumPy
# arrays, as mnist1d.get_dataset returns); hidden 500 -> 32; 1501 -> 61 steps, eval every 100 -> 20,
# checkpoint every 1000 -> 40; 100 -> 4 sparsity levels. get_mask is the notebook's exercise ("TODO"),
# filled in as its comment describes. The plots are printed as their values.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
import copy
import random
import time


# mnist1d.utils
def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)


class ObjectView(object):
    def __init__(self, d): self.__dict__ = d


# notebooks/train.py of the MNIST-1D repository
def get_model_args(as_dict=False):
  arg_dict = {'input_size': 40,
          'output_size': 10,
          'hidden_size': 256,
          'learning_rate': 1e-2,
          'weight_decay': 0,
          'batch_size': 100,
          'total_steps': 8000,
          'print_every': 1000,
          'eval_every': 250,
          'checkpoint_every': 1000,
          'device': 'cpu',
          'seed': 42}
  return arg_dict if as_dict else ObjectView(arg_dict)


def accuracy(model, inputs, targets):
  preds = model(inputs).argmax(-1).cpu().numpy()
  targets = targets.cpu().numpy().astype(np.float32)
  return 100*sum(preds==targets)/len(targets)


def train_model(dataset, model, args):
  criterion = nn.CrossEntropyLoss()
  optimizer = optim.Adam(model.parameters(), args.learning_rate, weight_decay=args.weight_decay)

  x_train, x_test = torch.Tensor(dataset['x']), torch.Tensor(dataset['x_test'])
  y_train, y_test = torch.LongTensor(dataset['y']), torch.LongTensor(dataset['y_test'])

  model = model.to(args.device)
  x_train, x_test, y_train, y_test = [v.to(args.device) for v in [x_train, x_test, y_train, y_test]]

  results = {'checkpoints':[], 'train_losses':[], 'test_losses':[],'train_acc':[],'test_acc':[]}
  t0 = time.time()
  for step in range(args.total_steps+1):
      bix = (step*args.batch_size)%len(x_train) # batch index
      x, y = x_train[bix:bix+args.batch_size], y_train[bix:bix+args.batch_size]

      loss = criterion(model(x), y)
      results['train_losses'].append(loss.item())
      loss.backward() ; optimizer.step() ; optimizer.zero_grad()

      if args.eval_every > 0 and step % args.eval_every == 0: # evaluate the model
          test_loss = criterion(model(x_test), y_test)
          results['test_losses'].append(test_loss.item())
          results['train_acc'].append(accuracy(model, x_train, y_train))
          results['test_acc'].append(accuracy(model, x_test, y_test))

      if step > 0 and step % args.print_every == 0: # print out training progress
          t1 = time.time()
          print("step {}, dt {:.2f}s, train_loss {:.3e}, test_loss {:.3e}, train_acc {:.1f}, test_acc {:.1f}"
              .format(step, t1-t0, loss.item(), results['test_losses'][-1], \
                      results['train_acc'][-1], results['test_acc'][-1]))
          t0 = t1

      if args.checkpoint_every > 0 and step % args.checkpoint_every == 0: # save model checkpoints
          model.step = step
          results['checkpoints'].append( copy.deepcopy(model) )
  return results


# mnist1d.get_dataset(args): here random signals around ten templates
templates = torch.randn(10, 40, dtype=torch.float64)
y_all = torch.randint(0, 10, (500,))
x_all = templates[y_all] + 2.0 * torch.randn(500, 40, dtype=torch.float64)
data = {'x': x_all[:400].numpy(), 'x_test': x_all[400:].numpy(),
        'y': y_all[:400].numpy(), 'y_test': y_all[400:].numpy(),
        'templates': {'x': templates.numpy(), 'y': np.arange(10)}}

print("Examples in training set: {}".format(len(data['y'])))
print("Examples in test set: {}".format(len(data['y_test'])))
print("Length of each input: {}".format(data['x'].shape[-1]))
print("Number of classes: {}".format(len(data['templates']['y'])))


class SparseLinear(torch.nn.Module):
  def __init__(self, x_size, y_size):
    super(SparseLinear, self).__init__()
    self.linear = torch.nn.Linear(x_size, y_size)
    param_vec = torch.cat([p.flatten() for p in self.parameters()])
    self.mask = torch.ones_like(param_vec)

  def forward(self, x, apply_mask=True):
    if apply_mask:
      self.apply_mask()
    return self.linear(x)

  def update_mask(self, new_mask):
    self.mask = new_mask
    self.apply_mask()

  def apply_mask(self):
    self.vec2param(self.param2vec())

  def param2vec(self):
    vec = torch.cat([p.flatten() for p in self.parameters()])
    return self.mask * vec

  def vec2param(self, vec):
    pointer = 0
    for param in self.parameters():
      param_len = np.cumprod(param.shape)[-1]
      new_param = vec[pointer:pointer+param_len].reshape(param.shape)
      param.data = new_param.data
      pointer += param_len


class SparseMLP(torch.nn.Module):
  def __init__(self, input_size, output_size, hidden_size=100):
    super(SparseMLP, self).__init__()
    self.linear1 = SparseLinear(input_size, hidden_size)
    self.linear2 = SparseLinear(hidden_size, hidden_size)
    self.linear3 = SparseLinear(hidden_size, output_size)
    self.layers = [self.linear1, self.linear2, self.linear3]

  def forward(self, x):
    h = torch.relu(self.linear1(x))
    h = h + torch.relu(self.linear2(h))
    h = self.linear3(h)
    return h

  def get_layer_masks(self):
    return [l.mask for l in self.layers]

  def set_layer_masks(self, new_masks):
    for i, l in enumerate(self.layers):
      l.update_mask(new_masks[i])

  def get_layer_vecs(self):
    return [l.param2vec() for l in self.layers]

  def set_layer_vecs(self, vecs):
    for i, l in enumerate(self.layers):
      l.vec2param(vecs[i])


def get_mask(absolute_weights, percent_sparse):
  # TODO -- Write a function that returns a mask that has a zero
  # everywhere for the lowest "percent_sparse" of the absolute weights.
  # E.g. if absolute_weights contains [5,6,0,1,7] and we want percent_sparse of 40%,
  # we would return [1,1,0,0,1]
  # Remember that these are torch tensors and not numpy arrays
  n_zero = int(percent_sparse * absolute_weights.numel())
  mask = torch.ones_like(absolute_weights)
  mask[torch.argsort(absolute_weights)[:n_zero]] = 0
  return mask


print(get_mask(torch.tensor([5., 6., 0., 1., 7.]), 0.4))


def find_lottery_ticket(model, dataset, args, sparsity_schedule, criteria_fn=None, **kwargs):

  criteria_fn = lambda init_params, final_params: final_params.abs()

  init_params = model.get_layer_vecs()
  stats = {'train_losses':[], 'test_losses':[], 'train_accs':[], 'test_accs':[]}
  models = []
  for i, percent_sparse in enumerate(sparsity_schedule):

    # layer-wise pruning, where pruning heuristic is determined by criteria_fn
    final_params = model.get_layer_vecs()
    scores = [criteria_fn(ip, fp) for ip, fp in zip(init_params, final_params)]
    masks = [get_mask(s, percent_sparse) for s in scores]

    # update model with mask and init parameters
    model.set_layer_vecs(init_params)
    model.set_layer_masks(masks)

    # training process
    results = train_model(dataset, model, args)
    model = results['checkpoints'][-1]

    # store stats
    stats['train_losses'].append(results['train_losses'])
    stats['test_losses'].append(results['test_losses'])
    stats['train_accs'].append(results['train_acc'])
    stats['test_accs'].append(results['test_acc'])

    # print progress
    if (i+1) % 1 == 0:
      print('\tretrain #{}, sparsity {:.2f}, final_train_loss {:.3e}, max_acc {:.1f}, last_acc {:.1f}, mean_acc {:.1f}'
            .format(i+1, percent_sparse, results['train_losses'][-1], np.max(results['test_acc']),
            results['test_acc'][-1], np.mean(results['test_acc']) ))
      models.append(copy.deepcopy(model))

  stats = {k: np.stack(v) for k, v in stats.items()}
  return models, stats


# train settings
model_args = get_model_args()
model_args.total_steps = 61
model_args.hidden_size = 32
model_args.print_every = 5000 # print never
model_args.eval_every = 20
model_args.checkpoint_every = 40
model_args.learning_rate = 2e-2
model_args.device = str('cpu')

num_retrains = 4
sparsity_schedule = np.linspace(0,1.,num_retrains)

# define initial model
print("Magnitude pruning")
set_seed(model_args.seed)
model = SparseMLP(model_args.input_size, model_args.output_size, hidden_size=model_args.hidden_size)
criteria_fn = lambda init_params, final_params: final_params.abs()
lott_models, lott_stats = find_lottery_ticket(model, data, model_args, sparsity_schedule, criteria_fn=criteria_fn, prune_print_every=1)

# Plot the results
test_losses = lott_stats['test_losses'][:,-1]
test_accs = lott_stats['test_accs'][:,-1]
print("sparsity", sparsity_schedule)
print("test losses", test_losses)
print("percent error", 100-test_accs)
print([m.step for m in lott_models], [int((m.linear2.mask == 0).sum()) for m in lott_models])
print({k: v.shape for k, v in lott_stats.items()})
