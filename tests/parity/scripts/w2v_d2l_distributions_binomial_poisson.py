# Source: Dive into Deep Learning (PyTorch tab), appendix "Mathematics for Deep Learning", 22.8
# "Distributions": Bernoulli, discrete uniform, continuous uniform, binomial
# (torch.distributions.binomial.Binomial(n, p).sample), Poisson (torch.distributions.poisson.Poisson
# (lam).sample) and Gaussian (torch.normal), each with its p.m.f./p.d.f., its c.d.f. built from a
# Python function over torch.arange and torch.tensor of the values, and a 10x10 sample.
#   https://github.com/d2l-ai/d2l-en  chapter_appendix-mathematics-for-deep-learning/distributions.md
# The PyTorch code cells in order, the notebook's displayed expressions printed. Not shrunk; the plots
# (d2l.plot, d2l.plt.stem/xlabel/ylabel/figure/subplot/xlim/title/show) replaced by a stand-in d2l that
# prints every 100th point of a curve and the length, sum and largest value of a p.m.f.; Added
# prints: each distribution's mean and variance and the mean of 1000 more samples. The notebook sets
# torch.pi to a tensor (as it does); the script puts PyTorch's float back at its end, as the scripts
# run one after another in one process.
from math import erf, factorial

import torch

_pi = torch.pi


class d2l:  # stand-in for the d2l helpers the section uses: prints instead of plots
    tensor = torch.tensor

    @staticmethod
    def plot(X, Y, xlabel, ylabel):
        print(ylabel, X[::100], Y[::100])

    class plt:
        @staticmethod
        def stem(xs, ys, use_line_collection=True):
            ys = torch.as_tensor(ys)
            print('p.m.f.', len(xs), xs[0], xs[-1], ys.sum().item(), ys.max().item())

        @staticmethod
        def set_figsize(*args, **kwargs):
            pass

        xlabel = ylabel = figure = subplot = xlim = title = show = set_figsize


torch.pi = torch.acos(torch.zeros(1)) * 2  # Define pi in torch

# ---------------------------------------------------------------- Bernoulli
p = 0.3

d2l.plt.set_figsize()
d2l.plt.stem([0, 1], [1 - p, p], use_line_collection=True)
d2l.plt.xlabel('x')
d2l.plt.ylabel('p.m.f.')
d2l.plt.show()

x = torch.arange(-1, 2, 0.01)

def F(x):
    return 0 if x < 0 else 1 if x > 1 else 1 - p

d2l.plot(x, torch.tensor([F(y) for y in x]), 'x', 'c.d.f.')

print(1*(torch.rand(10, 10) < p))

# ---------------------------------------------------------------- Discrete Uniform
n = 5

d2l.plt.stem([i+1 for i in range(n)], n*[1 / n], use_line_collection=True)
d2l.plt.xlabel('x')
d2l.plt.ylabel('p.m.f.')
d2l.plt.show()

x = torch.arange(-1, 6, 0.01)

def F(x):
    return 0 if x < 1 else 1 if x > n else torch.floor(x) / n

d2l.plot(x, torch.tensor([F(y) for y in x]), 'x', 'c.d.f.')

print(torch.randint(1, n, size=(10, 10)))

# ---------------------------------------------------------------- Continuous Uniform
a, b = 1, 3

x = torch.arange(0, 4, 0.01)
p = (x > a).type(torch.float32)*(x < b).type(torch.float32)/(b-a)
d2l.plot(x, p, 'x', 'p.d.f.')

def F(x):
    return 0 if x < a else 1 if x > b else (x - a) / (b - a)

d2l.plot(x, torch.tensor([F(y) for y in x]), 'x', 'c.d.f.')

print((b - a) * torch.rand(10, 10) + a)

# ---------------------------------------------------------------- Binomial
n, p = 10, 0.2

# Compute binomial coefficient
def binom(n, k):
    comb = 1
    for i in range(min(k, n - k)):
        comb = comb * (n - i) // (i + 1)
    return comb

pmf = d2l.tensor([p**i * (1-p)**(n - i) * binom(n, i) for i in range(n + 1)])

d2l.plt.stem([i for i in range(n + 1)], pmf, use_line_collection=True)
d2l.plt.xlabel('x')
d2l.plt.ylabel('p.m.f.')
d2l.plt.show()
print(pmf)

x = torch.arange(-1, 11, 0.01)
cmf = torch.cumsum(pmf, dim=0)

def F(x):
    return 0 if x < 0 else 1 if x > n else cmf[int(x)]

d2l.plot(x, torch.tensor([F(y) for y in x.tolist()]), 'x', 'c.d.f.')

m = torch.distributions.binomial.Binomial(n, p)
print(m.sample(sample_shape=(10, 10)))
print(m.mean, m.variance, m.sample((1000,)).mean())  # added

# ---------------------------------------------------------------- Poisson
lam = 5.0

xs = [i for i in range(20)]
pmf = torch.tensor([torch.exp(torch.tensor(-lam)) * lam**k
                    / factorial(k) for k in xs])

d2l.plt.stem(xs, pmf, use_line_collection=True)
d2l.plt.xlabel('x')
d2l.plt.ylabel('p.m.f.')
d2l.plt.show()
print(pmf)

x = torch.arange(-1, 21, 0.01)
cmf = torch.cumsum(pmf, dim=0)
def F(x):
    return 0 if x < 0 else 1 if x > n else cmf[int(x)]

d2l.plot(x, torch.tensor([F(y) for y in x.tolist()]), 'x', 'c.d.f.')

m = torch.distributions.poisson.Poisson(lam)
print(m.sample((10, 10)))
print(m.mean, m.variance, m.sample((1000,)).mean())  # added

# ---------------------------------------------------------------- Gaussian
p = 0.2
ns = [1, 10, 100, 1000]
d2l.plt.figure(figsize=(10, 3))
for i in range(4):
    n = ns[i]
    pmf = torch.tensor([p**i * (1-p)**(n-i) * binom(n, i)
                        for i in range(n + 1)])
    d2l.plt.subplot(1, 4, i + 1)
    d2l.plt.stem([(i - n*p)/torch.sqrt(torch.tensor(n*p*(1 - p)))
                  for i in range(n + 1)], pmf,
                 use_line_collection=True)
    d2l.plt.xlim([-4, 4])
    d2l.plt.xlabel('x')
    d2l.plt.ylabel('p.m.f.')
    d2l.plt.title("n = {}".format(n))
d2l.plt.show()

mu, sigma = 0, 1

x = torch.arange(-3, 3, 0.01)
p = 1 / torch.sqrt(2 * torch.pi * sigma**2) * torch.exp(
    -(x - mu)**2 / (2 * sigma**2))

d2l.plot(x, p, 'x', 'p.d.f.')

def phi(x):
    return (1.0 + erf((x - mu) / (sigma * torch.sqrt(d2l.tensor(2.))))) / 2.0

d2l.plot(x, torch.tensor([phi(y) for y in x.tolist()]), 'x', 'c.d.f.')

print(torch.normal(mu, sigma, size=(10, 10)))

torch.pi = _pi  # added: PyTorch's own again
