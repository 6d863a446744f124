# Source: Sasha Rush, Autodiff Puzzles, the PyTorch version (2022-2023): for each function f, given as
#   `f(o)` lambdas over a tensor x, fill in `dx(i, o)` = d f(x)_o / d x_i; lib.py builds the Jacobian
#   element by element (m, v, make_mat, make_mat2), checks it against central differences in float64
#   (numerical_deriv, check with torch.isclose(...).nonzero()) and prints "Passed Tests!":
#   https://github.com/srush/Autodiff-Puzzles  autodiff_puzzlers.ipynb (commit 9c33e3a) and lib.py
# Shrunk: the puzzles are solved (one line each) instead of `dx = lambda i, o: 0`; the signal gy has
#   16 points instead of 50 and the matrix puzzles use 3x4 / 3x3 / 4x4 inputs instead of 4x10 / 5x5 / 7x7
#   (lib.py's element-by-element loops are slow); chalk drawings, pandas and the puppy video are left
#   out (the table of wrong derivatives is printed as a list). Added: each Jacobian is also compared
#   with autograd's (torch.autograd.functional.jacobian), as the later JAX version does with jax.jacrev.
import math
import random

import torch

sys_gy = [math.sin(x / 20) * 0.5 + (random.random() - 0.5) for x in range(16)]
gy = torch.tensor(sys_gy).double()


# ---- lib.py (the parts that compute; the drawing is left out) --------------------------------------
def show_dog():
    print("Passed Tests!")


def m(inp, out, f):
    ret = torch.zeros(inp.shape[0], out.shape[0])
    for i in range(ret.shape[0]):
        for j in range(ret.shape[1]):
            ret[i, j] = f(i, j)
    return ret.T


def v(s, f):
    ret = torch.zeros(s)
    for i in range(s):
        ret[i] = f(i)
    return ret


def numerical_deriv(fb, x, out):
    s = None
    if s is None:
        s = x.shape[0]
    dx2 = torch.zeros(out.shape[0], s)
    for i in range(s):
        up = x + 1e-5 * torch.eye(s).double()[i]
        f1 = fb(up)
        up = x - 1e-5 * torch.eye(s).double()[i]
        f2 = fb(up)
        for j in range(out.shape[0]):
            dx2[j, i] = (f1(j) - f2(j)) / (2 * 1e-5)
    return dx2


def two_argf(fb, x, y, out_shape):
    f, dx, dy = fb(x, y)
    out = v(out_shape, f)
    dx = m(x, out, dx)
    dy = m(y, out, dy)
    dx2 = numerical_deriv(lambda a: fb(a, y)[0], x, out)
    dy2 = numerical_deriv(lambda b: fb(x, b)[0], y, out)
    return out, dx, dy, dx2, dy2


def one_argf(fb, x, out_shape):
    f, dx = fb(x)
    out = v(out_shape, f)
    dx = m(x, out, dx)
    dx2 = numerical_deriv(lambda a: fb(a)[0], x, out)
    return out, dx, dx2


def check(dx, dx2):
    bad = {}
    df = []
    for j, i in (~torch.isclose(dx, dx2, atol=1e-4)).nonzero():
        bad.setdefault(i.item(), [])
        bad[i.item()].append(j.item())
        df.append({"In Index": i.item(), "Out Index": j.item()})
    return bad, df


def autograd_check(name, dx, torch_f, *inputs, argnum=0):
    # the Jacobian autograd computes for the same function, written with tensor operations
    jac = torch.autograd.functional.jacobian(torch_f, inputs)[argnum]
    jac = jac.reshape(dx.shape)
    print(f"  autograd {name}: shape {tuple(jac.shape)} dtype {jac.dtype} agrees {torch.allclose(dx.double(), jac, atol=1e-6)}"
          f" |J| {jac.abs().sum().item():.6f}")


def in_out(fb, pos=None, overlap=False, diff=1, out_shape=16, y=gy, torch_f=None):
    "For functions with point samples"
    out, dx, dx2 = one_argf(fb, y, out_shape)
    bad, df = check(dx, dx2)
    print(f"{fb.__name__}: f(x)[:4] = {out[:4]} dx {tuple(dx.shape)} sum {dx.sum().item():.5f} numerical {dx2.sum().item():.5f}")
    if bad:
        print("Errors")
        print(df[:10])
    else:
        show_dog()
    if torch_f is not None:
        autograd_check("dx", dx, torch_f, y)


def zip(fb, split=8, pos1=None, pos2=None, out_shape=8, diff=1, overlap=False, gaps=[0], y=gy, torch_f=None):
    x, y2 = y[:split], y[split:]
    out, dx, dy, dx2, dy2 = two_argf(fb, x, y2, out_shape)
    bad_x, df_x = check(dx, dx2)
    bad_y, df_y = check(dy, dy2)
    print(f"{fb.__name__}: f(x, y)[:4] = {out[:4]} dx {tuple(dx.shape)} sum {dx.sum().item():.5f}"
          f" dy {tuple(dy.shape)} sum {dy.sum().item():.5f}")
    if bad_x:
        print("x Errors")
        print(df_x[:10])
    if bad_y:
        print("y Errors")
        print(df_y[:10])
    if not bad_x and not bad_y:
        show_dog()
    if torch_f is not None:
        autograd_check("dx", dx, torch_f, x, y2, argnum=0)
        autograd_check("dy", dy, torch_f, x, y2, argnum=1)


def make_mat(fb, in_shape, out_shape):
    def nf(x, y):
        f, d_x, d_y = fb(x.view(in_shape), y)

        def f2(o):
            return f(o // out_shape[1], o % out_shape[1])

        def d_x2(i, o):
            return d_x(i // in_shape[1], i % in_shape[1], o // out_shape[1], o % out_shape[1])

        def d_y2(j, o):
            return d_y(j, o // out_shape[1], o % out_shape[1])

        return f2, d_x2, d_y2

    nf.__name__ = fb.__name__
    return nf


def make_mat2(fb, in_shape, in_shape2, out_shape):
    def nf(x, y):
        f, d_x, d_y = fb(x.view(in_shape), y.view(in_shape2))

        def f2(o):
            return f(o // out_shape[1], o % out_shape[1])

        def d_x2(i, o):
            return d_x(i // in_shape[1], i % in_shape[1], o // out_shape[1], o % out_shape[1])

        def d_y2(j, o):
            return d_y(j // in_shape2[1], j % in_shape2[1], o // out_shape[1], o % out_shape[1])

        return f2, d_x2, d_y2

    nf.__name__ = fb.__name__
    return nf


# ---- the notebook ----------------------------------------------------------------------------------
print((3 == 3) * (25 - 3), (3 == 4) * (25 - 3))


def test(x):
    f = lambda o: 1.1 * x[o]
    dx = lambda i, o: (i == o) * 4  # Wrong value!
    return f, dx


in_out(test, overlap=False, out_shape=16, y=gy, pos=None)


# Problem 1: Id
def fb_id(x):
    f = lambda o: x[0]
    dx = lambda i, o: 1
    return f, dx


in_out(fb_id, overlap=False, y=gy[1:2], out_shape=1, torch_f=lambda x: x[:1])


# Problem 2: Cosine
def fb_cos(x):
    f = lambda o: math.cos(x[0])
    dx = lambda i, o: -math.sin(x[0])
    return f, dx


in_out(fb_cos, overlap=False, y=gy[1:2], out_shape=1, torch_f=torch.cos)


# Problem 3: Mean
def fb_mean(x):
    I = x.shape[0]
    f = lambda o: sum(x[i] for i in range(I)) / I
    dx = lambda i, o: 1 / I
    return f, dx


in_out(fb_mean, overlap=False, out_shape=1, torch_f=lambda x: x.mean(0, keepdim=True))


# Problem 4: Product
def fb_prod(x):
    pr = torch.prod(x)
    f = lambda o: pr
    dx = lambda i, o: pr / x[i]
    return f, dx


in_out(fb_prod, overlap=False, out_shape=1, torch_f=lambda x: torch.prod(x).reshape(1))


# Problem 5: Repeat
def fb_repeat(x):
    f = lambda o: x[0]
    dx = lambda i, o: 1
    return f, dx


in_out(fb_repeat, overlap=False, y=gy[1:2], out_shape=16, torch_f=lambda x: x.expand(16))


# Problem 6: Repeat and Scale
def fb_repeat_scale(x):
    I = 16
    f = lambda o: x[0] * (o / I)
    dx = lambda i, o: o / I
    return f, dx


in_out(fb_repeat_scale, overlap=False, y=gy[1:2], out_shape=16,
       torch_f=lambda x: x * torch.arange(16, dtype=torch.float64) / 16)


# Problem 7: Negation
def fb_neg(x):
    f = lambda o: -x[o]
    dx = lambda i, o: -(i == o)
    return f, dx


in_out(fb_neg, torch_f=torch.neg)


# Problem 8: ReLU
def fb_relu(x):
    f = lambda o: (x[o] > 0) * x[o]
    dx = lambda i, o: (i == o) * (x[o] > 0)
    return f, dx


in_out(fb_relu, torch_f=torch.relu)


# Problem 8.5: Index
def fb_index(x):
    f = lambda o: x[o + 10]
    dx = lambda i, o: i == o + 10
    return f, dx


in_out(fb_index, overlap=False, out_shape=6, torch_f=lambda x: x[10:])


# Problem 9: Cumsum
def fb_cumsum(x):
    out = torch.cumsum(x, 0)
    f = lambda o: out[o] / 20
    dx = lambda i, o: (i <= o) / 20
    return f, dx


in_out(fb_cumsum, [5, 10, 15], overlap=True, diff=20, torch_f=lambda x: torch.cumsum(x, 0) / 20)


# Problem 10: Running Mean
def fb_running(x):
    W = 10
    f = lambda o: sum([x[o - do] for do in range(W) if o - do >= 0]) / W
    dx = lambda i, o: (o - W < i <= o) / W
    return f, dx


in_out(fb_running, [0, 5, 12], diff=4,
       torch_f=lambda x: torch.nn.functional.conv1d(torch.nn.functional.pad(x.view(1, 1, -1), (9, 0)),
                                                    torch.ones(1, 1, 10, dtype=torch.float64) / 10).view(-1))


# Problem 11: Sort
def fb_sort(x):
    sort, argsort = torch.sort(x, 0)
    f = lambda o: sort[o]
    dx = lambda i, o: argsort[o] == i
    return f, dx


in_out(fb_sort, overlap=False, torch_f=lambda x: torch.sort(x, 0).values)


# Problem 12: Elementwise mean
def fb_emean(x, y):
    f = lambda o: (x[o] + y[o]) / 2
    dx = lambda i, o: (i == o) / 2
    dy = lambda j, o: (j == o) / 2
    return f, dx, dy


zip(fb_emean, torch_f=lambda x, y: (x + y) / 2)


# Problem 13: Elementwise mul
def fb_mul(x, y):
    f = lambda o: x[o] * y[o]
    dx = lambda i, o: (i == o) * y[o]
    dy = lambda j, o: (j == o) * x[o]
    return f, dx, dy


zip(fb_mul, torch_f=lambda x, y: x * y)


# Problem 14: 1D Convolution
def fb_conv(x, y):
    W = 5
    f = lambda o: sum((x[o + j] * y[j]) / W for j in range(W))
    dx = lambda i, o: (0 <= i - o < W) and y[i - o] / W
    dy = lambda j, o: (j < W) and x[o + j] / W
    return f, dx, dy


SHOW_KERNEL = False
zip(
    fb_conv,
    split=11,
    out_shape=7,
    pos1=[2, 4, 6],
    pos2=[5] if SHOW_KERNEL else [],
    diff=5,
    overlap=True,
    torch_f=lambda x, y: torch.nn.functional.conv1d(x.view(1, 1, -1), y[:5].view(1, 1, -1)).view(-1)[:7] / 5,
)


# Problem 15: View
def fb_view(x, y):
    f = lambda o, p: x[o, p]
    dx = lambda i, j, o, p: (i == o) * (j == p)
    dy = lambda j, o, p: 0
    return f, dx, dy


zip(make_mat(fb_view, (3, 4), (3, 4)), split=12, out_shape=12, gaps=[4 * i for i in range(3)],
    torch_f=lambda x, y: x.view(3, 4).reshape(-1) + 0 * y.sum())


# Problem 16: Transpose
def fb_trans(x, y):
    f = lambda o, p: x[p, o]
    dx = lambda i, j, o, p: (i == p) * (j == o)
    dy = lambda j, o, p: 0
    return f, dx, dy


zip(make_mat(fb_trans, in_shape=(3, 4), out_shape=(4, 3)), split=12, out_shape=12, gaps=[4 * i for i in range(3)],
    torch_f=lambda x, y: x.view(3, 4).t().contiguous().view(-1) + 0 * y.sum())


# Problem 17: Broadcast
def fb_broad(x, y):
    f = lambda o, p: x[o, p] * y[p]
    dx = lambda i, j, o, p: (i == o) * (j == p) * y[p]
    dy = lambda j, o, p: (j == p) * x[o, p]
    return f, dx, dy


zip(make_mat(fb_broad, in_shape=(3, 4), out_shape=(3, 4)), split=12, out_shape=12, gaps=[4 * i for i in range(3)],
    torch_f=lambda x, y: (x.view(3, 4) * torch.cat([y[:4], 0 * y[4:]])[:4]).flatten())


# Problem 18: Mean Reduce
def fb_mean(x, y):
    R = x.shape[0]
    f = lambda o, p: sum(x[di, p] for di in range(R)) / R
    dx = lambda i, j, o, p: (j == p) / R
    dy = lambda j, o, p: 0
    return f, dx, dy


zip(make_mat(fb_mean, in_shape=(3, 4), out_shape=(1, 4)), split=12, out_shape=4, gaps=[4 * i for i in range(3)],
    torch_f=lambda x, y: x.view(3, 4).mean(dim=0) + 0 * y.sum())


# Problem 19: Matmul
def fb_mm(x, y):
    _, M = x.shape
    f = lambda o, p: sum(x[o, d] * y[d, p] for d in range(M)) / M
    dx = lambda i, j, o, p: (i == o) * y[j, p] / M
    dy = lambda i, j, o, p: (j == p) * x[o, i] / M
    return f, dx, dy


zip(
    make_mat2(fb_mm, in_shape=(3, 3), in_shape2=(3, 3), out_shape=(3, 3)),
    split=9,
    out_shape=9,
    gaps=[3 * i for i in range(3)],
    pos1=None,
    pos2=None,
    y=torch.cat(2 * [gy], 0)[:18],
    torch_f=lambda x, y: (x.view(3, 3) @ y.view(3, 3) / 3).view(9),
)


# Problem 20: 2D Conv
def fb_conv(x, y):
    kh, kw = y.shape
    f = lambda o, p: sum(
        x[o + di, p + dj] * y[di, dj] / (kh * kw)
        for di in range(kh)
        for dj in range(kw)
    )
    dx = lambda i, j, o, p: (0 <= i - o < kh and 0 <= j - p < kw) and y[i - o, j - p] / (kh * kw)
    dy = lambda i, j, o, p: x[o + i, p + j] / (kh * kw)
    return f, dx, dy


zip(
    make_mat2(fb_conv, in_shape=(4, 4), in_shape2=(2, 2), out_shape=(3, 3)),
    split=16,
    out_shape=9,
    gaps=[4 * i for i in range(4)],
    y=torch.cat(2 * [gy.abs() + 0.2], 0)[:20],
    pos1=[5, 10],
    pos2=[],
    torch_f=lambda x, y: torch.nn.functional.conv2d(x.view(1, 1, 4, 4), y.view(1, 1, 2, 2)).flatten() / 4,
)
