# Source: Sasha Rush (with Marcos Treviso), Tensor Puzzles: the 21 puzzles that re-implement NumPy/PyTorch
#   functions from `arange` and `where` with broadcasting only, with the notebook's spec functions,
#   its random test harness (lib.make_test / run_test) and its closing "speed run" line counter:
#   https://github.com/srush/Tensor-Puzzles  "Tensor Puzzlers.ipynb" and lib.py
# Shrunk: the puzzles are solved (one line each, within the puzzle rules) instead of left as
#   `raise NotImplementedError`; torchtyping's TT and hypothesis's strategies are replaced by a tiny TT
#   stand-in and NumPy draws of the same kind (sizes 1..5, unique; ints in [-5, 5]; bools), 12 draws per
#   puzzle; chalk's diagrams (draw_examples) are printed as tensors instead; the puppy video is left out.
#   Each puzzle's answer is also compared with the library function it re-implements.
import inspect

import numpy as np
import torch

tensor = torch.tensor


# ---- the harness (lib.py), with TT / hypothesis replaced -------------------------------------------
class TT:
    """Stand-in for torchtyping.TensorType: TT["i", "j"], TT[2, "i"], TT["i", bool], TT["i * j"]."""

    def __class_getitem__(cls, dims):
        if not isinstance(dims, tuple):
            dims = (dims,)
        dtype = None
        if dims[-1] in (bool, int, float):
            dims, dtype = dims[:-1], dims[-1]
        return ("TT", dims, dtype)


numpy_to_torch_dtype_dict = {
    bool: torch.bool,
    np.uint8: torch.uint8,
    np.int8: torch.int8,
    np.int16: torch.int16,
    np.int32: torch.int32,
    np.int64: torch.int64,
    np.float16: torch.float16,
    np.float32: torch.float32,
    np.float64: torch.float64,
}
torch_to_numpy_dtype_dict = {v: k for k, v in numpy_to_torch_dtype_dict.items()}


def spec(x, min_size=1):
    hints = {k: v for k, v in x.__annotations__.items() if isinstance(v, tuple) and v[0] == "TT"}
    names = set()
    for k in hints:
        names.update([d for d in hints[k][1] if isinstance(d, str)])
    names = sorted(names, key=lambda n: ("*" in n, n))
    base = [n for n in names if " " not in n]
    # draw sizes for each dim (hypothesis: unique integers in [min_size, 5])
    arr = (np.random.permutation(5 - min_size + 1)[: len(base)] + min_size).tolist()
    sizes = dict(zip(base, arr))
    for n in names:
        if " " in n:
            i, op, j = n.split()
            i_val = i if i.isdigit() else sizes[i]
            j_val = j if j.isdigit() else sizes[j]
            sizes[n] = eval("{}{}{}".format(i_val, op, j_val))
    ret = {}
    for k in hints:
        shape = tuple(sizes[d] if isinstance(d, str) else d for d in hints[k][1])
        dtype = hints[k][2]
        if dtype is bool:
            ret[k] = np.random.randint(0, 2, size=shape).astype(bool)
        elif dtype is float:
            ret[k] = np.random.uniform(-5, 5, size=shape).astype(np.float32)
        else:
            ret[k] = np.random.randint(-5, 6, size=shape)
        ret[k] = np.nan_to_num(ret[k], nan=0, neginf=0, posinf=0)
    ret["return"][:] = 0
    return ret, sizes


def draw_examples(name, examples):
    print(f"== {name}")
    for i, example in enumerate(examples):
        for k, v in example.items():
            print(f"  ex{i} {k}: {v.tolist()} {tuple(v.shape)} {v.dtype}")


def make_test(name, problem, problem_spec, add_sizes=[], constraint=lambda d: d):
    examples = []
    for i in range(3):
        example, sizes = spec(problem, 3)
        example = constraint(example)
        out = example["return"].tolist()
        del example["return"]
        problem_spec(*example.values(), out)

        for size in add_sizes:
            example[size] = sizes[size]

        yours = None
        try:
            yours = problem(*map(tensor, example.values()))
        except NotImplementedError:
            pass
        for size in add_sizes:
            del example[size]
        example = {k: tensor(v) for k, v in example.items()}
        example["target"] = tensor(out)
        if yours is not None:
            example["yours"] = yours
        examples.append(example)

    draw_examples(name, examples)

    def test_problem(n_draws=12):
        for _ in range(n_draws):
            d, sizes = spec(problem)
            d = constraint(d)
            out = d["return"].tolist()
            del d["return"]
            problem_spec(*d.values(), out)
            for size in add_sizes:
                d[size] = sizes[size]

            out2 = problem(*map(tensor, d.values()))
            out = tensor(out)
            out2 = torch.broadcast_to(out2, out.shape)
            assert torch.allclose(
                out, out2
            ), "Two tensors are not equal\n Spec: \n\t%s \n\t%s" % (out, out2)

    return test_problem


def run_test(fn):
    fn()
    print("Correct!")


# ---- the rules' two starting functions ------------------------------------------------------------
def arange(i: int):
    "Use this function to replace a for-loop."
    return torch.tensor(range(i))


draw_examples("arange", [{"": arange(i)} for i in [5, 3, 9]])

# Example of broadcasting.
examples = [(arange(4), arange(5)[:, None]), (arange(3)[:, None], arange(2))]
draw_examples("broadcast", [{"a": a, "b": b, "ret": a + b} for a, b in examples])


def where(q, a, b):
    "Use this function to replace an if-statement."
    return (q * a) + (~q) * b


examples = [
    (tensor([False]), tensor([10]), tensor([0])),
    (tensor([False, True]), tensor([1, 1]), tensor([-10, 0])),
    (tensor([False, True]), tensor([1]), tensor([-10, 0])),
    (tensor([[False, True], [True, False]]), tensor([1]), tensor([-10, 0])),
    (tensor([[False, True], [True, False]]), tensor([[0], [10]]), tensor([-10, 0])),
]
draw_examples("where", [{"q": q, "a": a, "b": b, "ret": where(q, a, b)} for q, a, b in examples])


# ---- Puzzle 1 - ones ------------------------------------------------------------------------------
def ones_spec(out):
    for i in range(len(out)):
        out[i] = 1


def ones(i: int) -> TT["i"]:
    return where(arange(i) > -1, 1, 0)


test_ones = make_test("one", ones, ones_spec, add_sizes=["i"])
run_test(test_ones)
print("vs torch.ones:", torch.equal(ones(4), torch.ones(4, dtype=torch.long)))


# ---- Puzzle 2 - sum -------------------------------------------------------------------------------
def sum_spec(a, out):
    out[0] = 0
    for i in range(len(a)):
        out[0] += a[i]


def sum(a: TT["i"]) -> TT[1]:
    return ones(a.shape[0]) @ a[:, None]


test_sum = make_test("sum", sum, sum_spec)
run_test(test_sum)
a = tensor([3, -1, 4, 1, -5])
print("vs torch.sum:", sum(a), torch.sum(a), a.sum(0, keepdim=True))


# ---- Puzzle 3 - outer -----------------------------------------------------------------------------
def outer_spec(a, b, out):
    for i in range(len(out)):
        for j in range(len(out[0])):
            out[i][j] = a[i] * b[j]


def outer(a: TT["i"], b: TT["j"]) -> TT["i", "j"]:
    return a[:, None] * b


test_outer = make_test("outer", outer, outer_spec)
run_test(test_outer)
b = tensor([2, 0, -3])
print("vs torch.outer:", torch.equal(outer(a, b), torch.outer(a, b)), torch.ger(a, b).shape)


# ---- Puzzle 4 - diag ------------------------------------------------------------------------------
def diag_spec(a, out):
    for i in range(len(a)):
        out[i] = a[i][i]


def diag(a: TT["i", "i"]) -> TT["i"]:
    return a[arange(a.shape[0]), arange(a.shape[0])]


test_diag = make_test("diag", diag, diag_spec)
run_test(test_diag)
m = arange(16).reshape(4, 4) - 7
print("vs torch.diag:", diag(m), torch.diag(m), m.diagonal(), torch.diagonal(m, 1))


# ---- Puzzle 5 - eye -------------------------------------------------------------------------------
def eye_spec(out):
    for i in range(len(out)):
        out[i][i] = 1


def eye(j: int) -> TT["j", "j"]:
    return where(arange(j)[:, None] == arange(j), 1, 0)


test_eye = make_test("eye", eye, eye_spec, add_sizes=["j"])
run_test(test_eye)
print("vs torch.eye:", torch.equal(eye(4), torch.eye(4, dtype=torch.int64)))


# ---- Puzzle 6 - triu ------------------------------------------------------------------------------
def triu_spec(out):
    for i in range(len(out)):
        for j in range(len(out)):
            if i <= j:
                out[i][j] = 1
            else:
                out[i][j] = 0


def triu(j: int) -> TT["j", "j"]:
    return where(arange(j)[:, None] <= arange(j), 1, 0)


test_triu = make_test("triu", triu, triu_spec, add_sizes=["j"])
run_test(test_triu)
print("vs torch.triu:", triu(4), torch.triu(torch.ones(4, 4, dtype=torch.long)), torch.tril(m, -1))


# ---- Puzzle 7 - cumsum ----------------------------------------------------------------------------
def cumsum_spec(a, out):
    total = 0
    for i in range(len(out)):
        out[i] = total + a[i]
        total += a[i]


def cumsum(a: TT["i"]) -> TT["i"]:
    return a @ triu(a.shape[0])


test_cumsum = make_test("cumsum", cumsum, cumsum_spec)
run_test(test_cumsum)
print("vs torch.cumsum:", cumsum(a), torch.cumsum(a, 0), a.cumsum(dim=-1).dtype)


# ---- Puzzle 8 - diff ------------------------------------------------------------------------------
def diff_spec(a, out):
    out[0] = a[0]
    for i in range(1, len(out)):
        out[i] = a[i] - a[i - 1]


def diff(a: TT["i"], i: int) -> TT["i"]:
    return a - where(arange(i) > 0, a[arange(i) - 1], 0)


test_diff = make_test("diff", diff, diff_spec, add_sizes=["i"])
run_test(test_diff)
print("vs torch.diff:", diff(a, 5), torch.diff(a, prepend=tensor([0])), torch.diff(a), torch.diff(m, n=2, dim=0))


# ---- Puzzle 9 - vstack ----------------------------------------------------------------------------
def vstack_spec(a, b, out):
    for i in range(len(out[0])):
        out[0][i] = a[i]
        out[1][i] = b[i]


def vstack(a: TT["i"], b: TT["i"]) -> TT[2, "i"]:
    return where(arange(2)[:, None] == 0, a, b)


test_vstack = make_test("vstack", vstack, vstack_spec)
run_test(test_vstack)
c = tensor([9, 8, 7, 6, 5])
print("vs torch.vstack:", torch.equal(vstack(a, c), torch.vstack([a, c])), torch.stack((a, c)).shape)


# ---- Puzzle 10 - roll -----------------------------------------------------------------------------
def roll_spec(a, out):
    for i in range(len(out)):
        if i + 1 < len(out):
            out[i] = a[i + 1]
        else:
            out[i] = a[i + 1 - len(out)]


def roll(a: TT["i"], i: int) -> TT["i"]:
    return a[(arange(i) + 1) % i]


test_roll = make_test("roll", roll, roll_spec, add_sizes=["i"])
run_test(test_roll)
print("vs torch.roll:", roll(a, 5), torch.roll(a, -1), torch.roll(m, shifts=(1, -2), dims=(0, 1)))


# ---- Puzzle 11 - flip -----------------------------------------------------------------------------
def flip_spec(a, out):
    for i in range(len(out)):
        out[i] = a[len(out) - i - 1]


def flip(a: TT["i"], i: int) -> TT["i"]:
    return a[i - arange(i) - 1]


test_flip = make_test("flip", flip, flip_spec, add_sizes=["i"])
run_test(test_flip)
print("vs torch.flip:", flip(a, 5), torch.flip(a, [0]), a.flip(0), torch.fliplr(m)[0], m.flipud()[0])


# ---- Puzzle 12 - compress -------------------------------------------------------------------------
def compress_spec(g, v, out):
    j = 0
    for i in range(len(g)):
        if g[i]:
            out[j] = v[i]
            j += 1


def compress(g: TT["i", bool], v: TT["i"], i: int) -> TT["i"]:
    return v @ where(g[:, None], arange(i) == (cumsum(1 * g) - 1)[:, None], 0)


test_compress = make_test("compress", compress, compress_spec, add_sizes=["i"])
run_test(test_compress)
g = tensor([True, False, True, True, False])
print("vs masked_select:", compress(g, a, 5), torch.masked_select(a, g), a[g], a[g.nonzero().squeeze(1)])


# ---- Puzzle 13 - pad_to ---------------------------------------------------------------------------
def pad_to_spec(a, out):
    for i in range(min(len(out), len(a))):
        out[i] = a[i]


def pad_to(a: TT["i"], i: int, j: int) -> TT["j"]:
    return a @ where(arange(i)[:, None] == arange(j), 1, 0)


test_pad_to = make_test("pad_to", pad_to, pad_to_spec, add_sizes=["i", "j"])
run_test(test_pad_to)
print("vs F.pad:", pad_to(a, 5, 7), torch.nn.functional.pad(a, (0, 2)), pad_to(a, 5, 3), a[:3])


# ---- Puzzle 14 - sequence_mask --------------------------------------------------------------------
def sequence_mask_spec(values, length, out):
    for i in range(len(out)):
        for j in range(len(out[0])):
            if j < length[i]:
                out[i][j] = values[i][j]
            else:
                out[i][j] = 0


def sequence_mask(values: TT["i", "j"], length: TT["i", int]) -> TT["i", "j"]:
    return where(length[:, None] > arange(values.shape[1]), values, 0)


def constraint_set_length(d):
    d["length"] = d["length"] % d["values"].shape[1]
    return d


test_sequence = make_test("sequence_mask", sequence_mask, sequence_mask_spec, constraint=constraint_set_length)
run_test(test_sequence)
lengths = tensor([0, 4, 2, 3])
print("vs masked_fill:", sequence_mask(m, lengths), m.masked_fill(arange(4) >= lengths[:, None], 0))


# ---- Puzzle 15 - bincount -------------------------------------------------------------------------
def bincount_spec(a, out):
    for i in range(len(a)):
        out[a[i]] += 1


def bincount(a: TT["i"], j: int) -> TT["j"]:
    return ones(a.shape[0]) @ eye(j)[a]


def constraint_set_max(d):
    d["a"] = d["a"] % d["return"].shape[0]
    return d


test_bincount = make_test("bincount", bincount, bincount_spec, add_sizes=["j"], constraint=constraint_set_max)
run_test(test_bincount)
idx = tensor([1, 3, 3, 0, 1, 1])
print("vs torch.bincount:", bincount(idx, 5), torch.bincount(idx, minlength=5), torch.bincount(idx, weights=idx.float() / 2))


# ---- Puzzle 16 - scatter_add ----------------------------------------------------------------------
def scatter_add_spec(values, link, out):
    for j in range(len(values)):
        out[link[j]] += values[j]


def scatter_add(values: TT["i"], link: TT["i"], j: int) -> TT["j"]:
    return values @ eye(j)[link]


def constraint_set_max(d):
    d["link"] = d["link"] % d["return"].shape[0]
    return d


test_scatter_add = make_test("scatter_add", scatter_add, scatter_add_spec, add_sizes=["j"], constraint=constraint_set_max)
run_test(test_scatter_add)
vals = tensor([5, -2, 7, 1, 4, 3])
print("vs scatter_add:", scatter_add(vals, idx, 5), torch.zeros(5, dtype=torch.long).scatter_add(0, idx, vals),
      torch.zeros(5, dtype=torch.long).index_add_(0, idx, vals), torch.zeros(5, dtype=torch.long).scatter_reduce(0, idx, vals, "amax"))


# ---- Puzzle 17 - flatten --------------------------------------------------------------------------
def flatten_spec(a, out):
    k = 0
    for i in range(len(a)):
        for j in range(len(a[0])):
            out[k] = a[i][j]
            k += 1


def flatten(a: TT["i", "j"], i: int, j: int) -> TT["i * j"]:
    return a[arange(i * j) // j, arange(i * j) % j]


test_flatten = make_test("flatten", flatten, flatten_spec, add_sizes=["i", "j"])
run_test(test_flatten)
m2 = m[:3]
print("vs flatten:", flatten(m2, 3, 4), torch.flatten(m2), m2.reshape(-1), m2.view(12).shape, m2.ravel()[-3:])


# ---- Puzzle 18 - linspace -------------------------------------------------------------------------
def linspace_spec(i, j, out):
    for k in range(len(out)):
        out[k] = float((i + (j - i) * k / max(1, len(out) - 1))[0])  # [0]: NumPy 2 refuses float() of a (1,) array


def linspace(i: TT[1], j: TT[1], n: int) -> TT["n", float]:
    return i + (j - i) * arange(n) / max(1, n - 1)


test_linspace = make_test("linspace", linspace, linspace_spec, add_sizes=["n"])
run_test(test_linspace)
print("vs torch.linspace:", linspace(tensor([-2]), tensor([3]), 6), torch.linspace(-2, 3, 6), torch.linspace(0, 1, steps=1))


# ---- Puzzle 19 - heaviside ------------------------------------------------------------------------
def heaviside_spec(a, b, out):
    for k in range(len(out)):
        if a[k] == 0:
            out[k] = b[k]
        else:
            out[k] = int(a[k] > 0)


def heaviside(a: TT["i"], b: TT["i"]) -> TT["i"]:
    return where(a == 0, b, a > 0)


test_heaviside = make_test("heaviside", heaviside, heaviside_spec)
run_test(test_heaviside)
h = tensor([-2, 0, 3, 0, -1])
print("vs torch.heaviside:", heaviside(h, c), torch.heaviside(h, c), torch.heaviside(h.float(), tensor([0.5])))


# ---- Puzzle 20 - repeat (1d) ----------------------------------------------------------------------
def repeat_spec(a, d, out):
    for i in range(d[0]):
        for k in range(len(a)):
            out[i][k] = a[k]


def constraint_set(d):
    d["d"][0] = d["return"].shape[0]
    return d


def repeat(a: TT["i"], d: TT[1]) -> TT["d", "i"]:
    return ones(d[0])[:, None] @ a[None, :]


test_repeat = make_test("repeat", repeat, repeat_spec, constraint=constraint_set)
run_test(test_repeat)
print("vs Tensor.repeat:", repeat(b, tensor([2])), b.repeat(2, 1), b.repeat_interleave(2), b.expand(2, 3), b.tile((2,)))


# ---- Puzzle 21 - bucketize ------------------------------------------------------------------------
def bucketize_spec(v, boundaries, out):
    for i, val in enumerate(v):
        out[i] = 0
        for j in range(len(boundaries) - 1):
            if val >= boundaries[j]:
                out[i] = j + 1
        if val >= boundaries[-1]:
            out[i] = len(boundaries)


def constraint_set(d):
    d["boundaries"] = np.abs(d["boundaries"]).cumsum()
    return d


def bucketize(v: TT["i"], boundaries: TT["j"]) -> TT["i"]:
    return (1 * (v[:, None] >= boundaries)) @ ones(boundaries.shape[0])


test_bucketize = make_test("bucketize", bucketize, bucketize_spec, constraint=constraint_set)
run_test(test_bucketize)
bounds = tensor([0, 2, 2, 5])
print("vs torch.bucketize:", bucketize(a, bounds), torch.bucketize(a, bounds, right=True), torch.bucketize(a, bounds),
      torch.searchsorted(bounds, a, side="right"))


# ---- Speed Run Mode! ------------------------------------------------------------------------------
fns = (ones, sum, outer, diag, eye, triu, cumsum, diff, vstack, roll, flip,
       compress, pad_to, sequence_mask, bincount, scatter_add, flatten, linspace,
       heaviside, repeat, bucketize)

for fn in fns:
    lines = [l for l in inspect.getsource(fn).split("\n") if not l.strip().startswith("#")]

    if len(lines) > 3:
        print(fn.__name__, len(lines[2]), "(more than 1 line)")
    else:
        print(fn.__name__, len(lines[1]))
