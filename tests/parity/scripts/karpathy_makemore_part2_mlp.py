# Source: Andrej Karpathy, "Neural Networks: Zero to Hero", makemore part 2 (the MLP of Bengio et al.):
# embedding table C, tanh hidden layer, F.cross_entropy, minibatches, the learning-rate search.
#   https://github.com/karpathy/nn-zero-to-hero  lectures/makemore/makemore_part2_mlp.ipynb
# The lines of the first exploration that the notebook no longer keeps (C[5], F.one_hot(...) @ C,
# torch.cat/torch.unbind, a.view, a.storage(), the printed contexts) are those typed in the lecture
# video ("Building makemore Part 2: MLP", 12:19-29:15), on words[:5] (the 32 examples that
# `torch.arange(32)` assumes).
# Shrunk: the first 100 names of names.txt written here; the learning-rate search (lr = lrs[i],
# commented out in the notebook's loop) runs its 1000 steps but its losses are printed up to lr 0.1
# only, and the training runs 40 steps (lr 0.1 for 20, then 0.01) instead of 200000: from the
# notebook's unscaled initialization (loss ~25) larger learning rates and longer runs are chaotic:
# a float32 rounding difference grows ~10^4-fold within 20 steps at lr ~0.3 (seen in PyTorch itself
# with one matmul done in float64). Plots printed as numbers instead (the embedding scatter plot,
# sensitive in the same way, left as comments).
import torch
import torch.nn.functional as F

# read in all the words
words = """emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail emily elizabeth mila
ella avery sofia camila aria scarlett victoria madison luna grace chloe penelope layla riley zoey
nora lily eleanor hannah lillian addison aubrey ellie stella natalie zoe leah hazel violet aurora
savannah audrey brooklyn bella claire skylar lucy paisley everly anna caroline nova genesis emilia
kennedy samantha maya willow kinsley naomi aaliyah elena sarah ariana allison gabriella alice
madelyn cora ruby eva serenity autumn adeline hailey gianna valentina isla eliana quinn nevaeh ivy
sadie piper lydia alexa josephine emery julia delilah arianna vivian kaylee sophie brielle madeline""".split()
print(words[:8])
print(len(words))

# build the vocabulary of characters and mappings to/from integers
chars = sorted(list(set(''.join(words))))
stoi = {s:i+1 for i,s in enumerate(chars)}
stoi['.'] = 0
itos = {i:s for s,i in stoi.items()}
print(itos)

# build the dataset

block_size = 3 # context length: how many characters do we take to predict the next one?
X, Y = [], []
for w in words[:5]:

  #print(w)
  context = [0] * block_size
  for ch in w + '.':
    ix = stoi[ch]
    X.append(context)
    Y.append(ix)
    print(''.join(itos[i] for i in context), '--->', itos[ix])
    context = context[1:] + [ix] # crop and append

X = torch.tensor(X)
Y = torch.tensor(Y)

print(X.shape, X.dtype, Y.shape, Y.dtype)

C = torch.randn((27, 2))
print(C[5])
print(F.one_hot(torch.tensor(5), num_classes=27).float() @ C)
print(C[[5,6,7,7,7,7]])
print(C[X][13,2], C[1])

emb = C[X]
print(emb.shape)

W1 = torch.randn((6, 100))
b1 = torch.randn(100)

print(torch.cat([emb[:, 0, :], emb[:, 1, :], emb[:, 2, :]], 1).shape)
print(torch.cat(torch.unbind(emb, 1), 1).shape)

a = torch.arange(18)
print(a.view(2, 9))
print(a.view(9, 2))
print(a.view(3, 3, 2))
print(a.storage().tolist())
print(emb.view(32, 6) == torch.cat(torch.unbind(emb, 1), 1))

h = torch.tanh(emb.view(-1, 6) @ W1 + b1)

print(h)

print(h.shape)

W2 = torch.randn((100, 27))
b2 = torch.randn(27)

logits = h @ W2 + b2

print(logits.shape)

counts = logits.exp()

prob = counts / counts.sum(1, keepdims=True)

print(prob.shape)
print(prob[0].sum())

loss = -prob[torch.arange(32), Y].log().mean()
print(loss)

# ------------ now made respectable :) ---------------

# build the dataset
block_size = 3 # context length: how many characters do we take to predict the next one?

def build_dataset(words):
  X, Y = [], []
  for w in words:

    #print(w)
    context = [0] * block_size
    for ch in w + '.':
      ix = stoi[ch]
      X.append(context)
      Y.append(ix)
      #print(''.join(itos[i] for i in context), '--->', itos[ix])
      context = context[1:] + [ix] # crop and append

  X = torch.tensor(X)
  Y = torch.tensor(Y)
  print(X.shape, Y.shape)
  return X, Y

import random
random.seed(42)
random.shuffle(words)
n1 = int(0.8*len(words))
n2 = int(0.9*len(words))

Xtr, Ytr = build_dataset(words[:n1])
Xdev, Ydev = build_dataset(words[n1:n2])
Xte, Yte = build_dataset(words[n2:])

print(Xtr.shape, Ytr.shape) # dataset

g = torch.Generator().manual_seed(2147483647) # for reproducibility
C = torch.randn((27, 10), generator=g)
W1 = torch.randn((30, 200), generator=g)
b1 = torch.randn(200, generator=g)
W2 = torch.randn((200, 27), generator=g)
b2 = torch.randn(27, generator=g)
parameters = [C, W1, b1, W2, b2]

print(sum(p.nelement() for p in parameters)) # number of parameters in total

for p in parameters:
  p.requires_grad = True

lre = torch.linspace(-3, 0, 1000)
lrs = 10**lre
print(lre[:3], lre[-3:])
print(lrs[:3], lrs[-3:])

lri = []
lossi = []
stepi = []

# the learning-rate search of the video: one step at each of the 1000 learning rates
for i in range(1000):

  # minibatch construct
  ix = torch.randint(0, Xtr.shape[0], (32,))

  # forward pass
  emb = C[Xtr[ix]] # (32, 3, 10)
  h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 200)
  logits = h @ W2 + b2 # (32, 27)
  loss = F.cross_entropy(logits, Ytr[ix])
  #print(loss.item())

  # backward pass
  for p in parameters:
    p.grad = None
  loss.backward()

  # update
  lr = lrs[i]
  for p in parameters:
    p.data += -lr * p.grad

  # track stats
  lri.append(lre[i])
  lossi.append(loss.item())

# plt.plot(lri, lossi)
for i in range(0, 650, 50):
  print(f"{lri[i].item():.4f} {lossi[i]:.4f}")

g = torch.Generator().manual_seed(2147483647) # for reproducibility
C = torch.randn((27, 10), generator=g)
W1 = torch.randn((30, 200), generator=g)
b1 = torch.randn(200, generator=g)
W2 = torch.randn((200, 27), generator=g)
b2 = torch.randn(27, generator=g)
parameters = [C, W1, b1, W2, b2]
for p in parameters:
  p.requires_grad = True

lri = []
lossi = []
stepi = []

for i in range(40):

  # minibatch construct
  ix = torch.randint(0, Xtr.shape[0], (32,))

  # forward pass
  emb = C[Xtr[ix]] # (32, 3, 10)
  h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 200)
  logits = h @ W2 + b2 # (32, 27)
  loss = F.cross_entropy(logits, Ytr[ix])
  #print(loss.item())

  # backward pass
  for p in parameters:
    p.grad = None
  loss.backward()

  # update
  #lr = lrs[i]
  lr = 0.1 if i < 20 else 0.01
  for p in parameters:
    p.data += -lr * p.grad

  # track stats
  #lri.append(lre[i])
  stepi.append(i)
  lossi.append(loss.log10().item())

print(loss.item())

# plt.plot(stepi, lossi)
for i in range(0, 40, 4):
  print(stepi[i], f"{lossi[i]:.4f}")

emb = C[Xtr] # (32, 3, 2)
h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 100)
logits = h @ W2 + b2 # (32, 27)
loss = F.cross_entropy(logits, Ytr)
print(loss)

emb = C[Xdev] # (32, 3, 2)
h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 100)
logits = h @ W2 + b2 # (32, 27)
loss = F.cross_entropy(logits, Ydev)
print(loss)

# visualize dimensions 0 and 1 of the embedding matrix C for all characters
# plt.figure(figsize=(8,8))
# plt.scatter(C[:,0].data, C[:,1].data, s=200)
# for i in range(C.shape[0]):
#     plt.text(C[i,0].item(), C[i,1].item(), itos[i], ha="center", va="center", color='white')
# plt.grid('minor')
print(C[:,0].data.shape, C[:,1].data.dtype)

# training split, dev/validation split, test split
# 80%, 10%, 10%

context = [0] * block_size
print(C[torch.tensor([context])].shape)

# sample from the model
g = torch.Generator().manual_seed(2147483647 + 10)

for _ in range(20):

    out = []
    context = [0] * block_size # initialize with all ...
    while True:
      emb = C[torch.tensor([context])] # (1,block_size,d)
      h = torch.tanh(emb.view(1, -1) @ W1 + b1)
      logits = h @ W2 + b2
      probs = F.softmax(logits, dim=1)
      ix = torch.multinomial(probs, num_samples=1, generator=g).item()
      context = context[1:] + [ix]
      out.append(ix)
      if ix == 0:
        break

    print(''.join(itos[i] for i in out))
