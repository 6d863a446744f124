# Source: Sasha Rush, Autodiff Puzzles, the 2024 version: each puzzle gives a tensor function f and asks
#   for its whole Jacobian as one broadcasting expression over index vectors (Is = arange(I),
#   Os = arange(O)[:, None], ...); `check` compares it with the autodiff Jacobian (jacrev) on a random
#   input and prints every index where they differ:
#   https://github.com/srush/Autodiff-Puzzles  autodiff_puzzlers.ipynb
# Shrunk: the notebook is written in jax.numpy with jax.jacrev; here the same puzzles are written with
#   torch and torch.func.jacrev (np.convolve -> conv1d with the kernel flipped, convolve2d(mode="same")
#   -> conv2d on a top/left padded input), the puzzles are solved (one line each) instead of `0 * Os`,
#   and jaxtyping/beartype and the chalk animation are left out. Added: torch.func.jacfwd and
#   torch.autograd.functional.jacobian are compared with jacrev as well.
import numpy as onp
import torch
import torch.nn.functional as F
from torch.func import jacfwd, jacrev

np = torch


def check(f, jac, in_shape, in_shape2=None):
    fp_x = jacrev(f, 0)
    if in_shape2 is not None:
        fp_y = jacrev(f, 1)
    x = torch.tensor(onp.random.random(in_shape) - 0.5)
    fail = False

    def show(j_check_x, j_x):
        for i, ind in enumerate(zip(*onp.array(~torch.isclose(j_check_x, j_x)).nonzero())):
            print("Fail at:", list(map(int, ind)), "Yours: ", j_x[ind], "True:", j_check_x[ind])
            if i > 10:
                break

    if in_shape2 is not None:
        y = torch.tensor(onp.random.random(in_shape2) - 0.5)
        f_xy = f(x, y)
        j_check_x = fp_x(x, y)
        j_check_y = fp_y(x, y)
        j_x, j_y = jac(x, y)
        j_x, j_y = torch.as_tensor(j_x, dtype=torch.float64), torch.as_tensor(j_y, dtype=torch.float64)
        if not torch.isclose(j_check_x, j_x).all():
            fail = True
            print("x check failed")
            show(j_check_x, j_x)

        if not torch.isclose(j_check_y, j_y).all():
            fail = True
            print("y check failed")
            show(j_check_y, j_y)
        fwd_x, fwd_y = jacfwd(f, argnums=(0, 1))(x, y)
        auto_x, auto_y = torch.autograd.functional.jacobian(f, (x, y))
        print(f"  f {tuple(f_xy.shape)} {f_xy.flatten()[:3]}  J_x {tuple(j_check_x.shape)} |J_x| {j_check_x.abs().sum():.6f}"
              f"  J_y {tuple(j_check_y.shape)} |J_y| {j_check_y.abs().sum():.6f}")
        print("  jacfwd agrees:", torch.allclose(fwd_x, j_check_x), torch.allclose(fwd_y, j_check_y),
              " autograd.functional agrees:", torch.allclose(auto_x, j_check_x), torch.allclose(auto_y, j_check_y))
    else:
        f_xy = f(x)
        j_x = torch.as_tensor(jac(x), dtype=torch.float64)
        j_check_x = fp_x(x)
        if not torch.isclose(j_check_x, j_x).all():
            print("x check failed")
            fail = True
            show(j_check_x, j_x)
        fwd_x = jacfwd(f)(x)
        auto_x = torch.autograd.functional.jacobian(f, x)
        print(f"  f {tuple(f_xy.shape)} {f_xy.flatten()[:3]}  J_x {tuple(j_check_x.shape)} |J_x| {j_check_x.abs().sum():.6f}")
        print("  jacfwd agrees:", torch.allclose(fwd_x, j_check_x),
              " autograd.functional agrees:", torch.allclose(auto_x, j_check_x))

    if not fail:
        print("Passed Tests!")


# ### Problem 1: Id
print("Problem 1: Id")
Is = np.arange(1)


def f(x):
    return 2 * x


def jac(x):
    return 0 * Is[None, :]  # fill in


check(f, jac, in_shape=Is.shape)  # the notebook as handed out: "x check failed"


def jac(x):
    return 2 + 0 * Is[None, :]


check(f, jac, in_shape=Is.shape)

# ### Problem 2: Cosine
print("Problem 2: Cosine")


def f(x):
    return np.cos(x)


def jac(x):
    return -np.sin(x)[None, :]


check(f, jac, in_shape=1)

# ### Problem 3: Mean
print("Problem 3: Mean")
I = 10
Is = np.arange(I)


def f(x):
    return np.mean(x, axis=0, keepdims=True)


def jac(x):
    return 0 * Is[None, :] + 1 / I


check(f, jac, in_shape=Is.shape)

# ### Problem 4: Product
print("Problem 4: Product")


def f(x):
    return np.prod(x, 0, keepdim=True)


def jac(x):
    return np.prod(x) / x[None, :]


check(f, jac, in_shape=Is.shape)

# ### Problem 5: Repeat
print("Problem 5: Repeat")
Is = np.arange(1)
O = 10
Os = np.arange(O)[:, None]


def f(x):
    return (x + (Os * 0 + 1))[:, 0]


def jac(x):
    return 0 * Os + 1


check(f, jac, in_shape=Is.shape)

# ### Problem 6: Repeat and Scale
print("Problem 6: Repeat and Scale")


def f(x):
    return x * (Os / O)[:, 0]


def jac(x):
    return Os / O


check(f, jac, in_shape=Is.shape)

# ## Problem 7: Negation
print("Problem 7: Negation")
I = 10
O = 10
Is = np.arange(I)
Os = np.arange(O)[:, None]


def f(x):
    return -x


def jac(x):
    return -1 * (Os == Is)


check(f, jac, in_shape=Is.shape)

# ## Problem 8: ReLU
print("Problem 8: ReLU")


def f(x):
    return x * (x > 0)


def jac(x):
    return (Os == Is) * (x > 0)


check(f, jac, in_shape=Is.shape)

# ## Problem 9: Index
print("Problem 9: Index")
I = 25
O = 15
Is = np.arange(I)
Os = np.arange(O)[:, None]


def f(x):
    return x[10:]


def jac(x):
    return 1 * (Is == Os + 10)


check(f, jac, in_shape=Is.shape)

# ## Problem 10: Cumsum
print("Problem 10: Cumsum")
I = 10
O = 10
Is = np.arange(I)
Os = np.arange(O)[:, None]


def f(x):
    return np.cumsum(x, 0) / 20


def jac(x):
    return (Is <= Os) / 20


check(f, jac, in_shape=Is.shape)

# ## Problem 11: Running Mean
print("Problem 11: Running Mean")
I = 10
O = 8
Is = np.arange(I)
Os = np.arange(O)[:, None]
W = 3


def f(x):
    return F.conv1d(x.view(1, 1, -1), np.ones(1, 1, W, dtype=x.dtype) / W).view(-1)


def jac(x):
    return ((Is >= Os) & (Is < Os + W)) / W


check(f, jac, in_shape=Is.shape)

# ## Problem 12: Sort
print("Problem 12: Sort")
I = 10
O = 10
Is = np.arange(I)
Os = np.arange(O)[:, None]


def f(x):
    return np.sort(x).values


def jac(x):
    return 1.0 * (np.argsort(x)[:, None] == Is)


check(f, jac, in_shape=Is.shape)

# ## Problem 13: Elementwise mean
print("Problem 13: Elementwise mean")


def f(x, y):
    return (x + y) / 2


def jac(x, y):
    return (Os == Is) / 2, (Os == Is) / 2


check(f, jac, in_shape=Is.shape, in_shape2=Is.shape)
check(f, lambda x, y: (0 * (Os + Is), 0 * (Os + Is)), in_shape=Is.shape, in_shape2=Is.shape)  # unsolved

# ## Problem 14: Elementwise mul
print("Problem 14: Elementwise mul")


def f(x, y):
    return x * y


def jac(x, y):
    return (Os == Is) * y, (Os == Is) * x


check(f, jac, in_shape=Is.shape, in_shape2=Is.shape)

# ## Problem 15: 1D Convolution
print("Problem 15: 1D Convolution")
I = 10
O = 6
W = 5
Is = np.arange(I)
Os = np.arange(O)[:, None]
Ws = np.arange(W)


def f(x, y):
    return F.conv1d(x.view(1, 1, -1), y.flip(0).view(1, 1, -1)).view(-1) / W


def jac(x, y):
    return np.where((Is >= Os) & (Is < Os + W), y[(W - 1 - (Is - Os)) % W], 0) / W, x[Os + W - 1 - Ws] / W


check(f, jac, in_shape=Is.shape, in_shape2=Ws.shape)

# ## Problem 15: View
print("Problem 15: View")
I = 4
J = 4
O = 16
Is = np.arange(I)[:, None]
Js = np.arange(J)
Os = np.arange(O)[:, None, None]


def f(x):
    return x.reshape((O,))


def jac(x):
    return 1.0 * (Os == Is * J + Js)


check(f, jac, in_shape=(I, J))

# ## Problem 16: Transpose
print("Problem 16: Transpose")
I = 4
J = 4
O = 4
P = 4
Is = np.arange(I)[:, None]
Js = np.arange(J)
Os = np.arange(O)[:, None, None]
Ps = np.arange(P)[:, None, None, None]


def f(x):
    return x.T


def jac(x):
    return 1.0 * ((Os == Is) & (Ps == Js))


check(f, jac, in_shape=(I, J))

# ## Problem 18: Mean Reduce
print("Problem 18: Mean Reduce")
I = 4
J = 4
O = 4
Is = np.arange(I)[:, None]
Js = np.arange(J)
Os = np.arange(O)[:, None, None]


def f(x):
    return np.mean(x, axis=0)


def jac(x):
    return (Os == Js) / I + 0 * Is


check(f, jac, in_shape=(I, J))

# ## Problem 19: Matmul as vectors
print("Problem 19: Matmul as vectors")
I = 4
J = 4
O = 4
Is = np.arange(I)
Js = np.arange(J)
Os = np.arange(O)[:, None]


def f(x, y):
    return (x.reshape(2, 2) @ y.reshape(2, 2)).reshape(O)


def jac(x, y):
    return (Os // 2 == Is // 2) * y[(Is % 2) * 2 + Os % 2], (Os % 2 == Js % 2) * x[(Os // 2) * 2 + Js // 2]


check(f, jac, in_shape=Is.shape, in_shape2=Js.shape)

# ## Problem 20: 2D Conv
print("Problem 20: 2D Conv")
I = 16  # 4*4
J = 4  # 2*2
O = 16  # 4*4
Is = np.arange(I)
Js = np.arange(J)
Os = np.arange(O)[:, None]


def f(x, y):
    X = x.reshape(4, 4)
    Y = y.reshape(2, 2)
    # convolve2d(X, Y, mode="same"): the kernel flipped, the input padded on the top and left
    return F.conv2d(F.pad(X[None, None], (1, 0, 1, 0)), Y.flip(0, 1)[None, None]).reshape(-1) / (2 * 2)


def jac(x, y):
    dr, dc = Os // 4 - Is // 4, Os % 4 - Is % 4
    jx = ((dr >= 0) & (dr < 2) & (dc >= 0) & (dc < 2)) * y[(dr % 2) * 2 + dc % 2] / 4
    jy = ((Os // 4 >= Js // 2) & (Os % 4 >= Js % 2)) * x[((Os // 4 - Js // 2) % 4) * 4 + (Os % 4 - Js % 2) % 4] / 4
    return jx, jy


check(f, jac, in_shape=Is.shape, in_shape2=Js.shape)
