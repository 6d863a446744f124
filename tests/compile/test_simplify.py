"""The program simplified with what the recording knows: contexts' attributes set once to literals,
names that only copy another, arrays' dimensions. The backward of a network then reads as written
by hand, and still gives the eager results bit for bit; nothing is assumed that a later call could
make false."""
import copy
import sys
import warnings

import numpy as np

import chainrule

simplify = sys.modules["chainrule.compile.simplify"]


def run(lines, namespace, shapes=None, contexts=(), broadcasts=(), row_major=None):
    """Run ``lines`` as they are and as simplified; both results, and the simplified code.
    ``row_major``: the names of row-major arrays (by default every name in ``shapes``)."""
    results = []
    row_major = set(shapes or {}) if row_major is None else set(row_major)
    for program in (lines, simplify.simplified(lines, shapes or {}, set(contexts), set(broadcasts), row_major)):
        source = "def program():\n" + "".join("    " * indent + code + "\n" for indent, code, _ in program)
        scope = dict(namespace, ignoring_float_errors=lambda: np.errstate(all="ignore"))
        exec(source, scope)  # noqa: S102
        results.append(scope["program"]())
    return results, "\n".join(code for _, code, _ in program)


class Context:
    pass


def test_a_context_attribute_set_once_to_a_literal_is_read_as_it():
    lines = [
        (1, "ctx1.transposed, ctx1.alpha = (False, 1)", "Linear: formula"),
        (1, "v2 = x0.T if ctx1.transposed else x0", "Linear"),
        (1, "v3 = v2 if ctx1.alpha == 1 else v2 * ctx1.alpha", "Linear"),
        (1, "return v3", None),
    ]
    x0 = np.arange(6.0).reshape(2, 3)
    (plain, simplified), code = run(lines, {"x0": x0, "ctx1": Context()}, contexts={"ctx1"})
    assert np.array_equal(plain, simplified)
    assert code.strip().splitlines()[-1] == "return x0" and "ctx1" not in code


def test_a_context_handed_to_a_call_keeps_its_attributes():
    seen = []
    lines = [
        (1, "ctx1.count = 4", "Mean: formula"),
        (1, "v2 = remember(ctx1)", "Mean"),
        (1, "return ctx1.count + v2", None),
    ]
    (plain, simplified), code = run(lines, {"ctx1": Context(), "remember": lambda ctx: seen.append(ctx.count) or 1}, contexts={"ctx1"})
    assert plain == simplified == 5 and seen == [4, 4]
    assert "ctx1.count = 4" in code


def test_a_copy_of_a_name_assigned_again_later_is_kept():
    lines = [
        (1, "x0 = start", None),
        (1, "v1 = x0", None),
        (1, "x0 = x0 + 1", None),
        (1, "v2 = v1", None),  # v1 still holds the first x0
        (1, "return (v2, x0)", None),
    ]
    (plain, simplified), code = run(lines, {"start": 1.0})
    assert plain == simplified == (1.0, 2.0)
    assert "v1 = x0" in code


def test_dimensions_decide_a_test_except_for_names_a_loop_assigns():
    lines = [
        (1, "g0 = start", None),
        (1, "v1 = g0 if g0.ndim == 2 else g0.reshape(-1, 1)", None),
        (1, "for _ in range(2):", None),
        (2, "g0 = g0.sum(0)", None),
        (1, "return (v1.shape, g0.ndim)", None),
    ]
    g0 = np.ones((2, 3))
    (plain, simplified), code = run(lines, {"start": g0}, shapes={"g0": (2, 3)})
    assert plain == simplified == ((2, 3), 0)
    assert "v1 = g0\n" not in code  # g0 is assigned in the loop: its dimensions change


def test_dimensions_are_read_only_after_the_last_assignment():
    """An operation's body may give a name values of other shapes before its last one (the
    recording saw only the last): ``.ndim`` read before then stays a read."""
    lines = [
        (1, "g1 = start.reshape(-1)", None),
        (1, "v2 = g1.ndim", None),
        (1, "g1 = g1.reshape(1, -1)", None),
        (1, "return (v2, g1.ndim)", None),
    ]
    (plain, simplified), code = run(lines, {"start": np.ones((2, 3))}, shapes={"g1": (1, 6)})
    assert plain == simplified == (1, 2)
    assert "return (v2, 2)" in code


def test_an_elif_left_in_place_is_written_as_an_if_under_else():
    lines = [
        (1, "v1 = start", None),
        (1, "if v1 > 1:", "Cumprod: formula"),
        (2, "v2 = 1", "Cumprod"),
        (1, "elif v1 == 0:", "Cumprod"),
        (2, "v2 = 2", "Cumprod"),
        (1, "else:", "Cumprod"),
        (2, "v2 = 3", "Cumprod"),
        (1, "return v2", None),
    ]
    for start, expected in ((2, 1), (0, 2), (1, 3)):
        (plain, simplified), code = run(lines, {"start": start})
        assert plain == simplified == expected


def test_a_0d_result_stays_an_array_even_where_arithmetic_alone_reads_it():
    """``x = xp.asarray(x)`` stays: + - * / round a NumPy scalar as a 0-d array, but of two NaN
    operands they may pass on the other one (another sign bit) than on arrays."""
    lines = [
        (1, "v1 = start[:2].sum()", None),
        (1, "v1 = xp.asarray(v1)", None),
        (1, "v2 = start[2:].sum()", None),
        (1, "v2 = xp.asarray(v2)", None),
        (1, "v3 = v1 + v2", None),
        (1, "return keep(v3)", None),
    ]
    start = np.array([np.nan, 1.0, np.inf, -np.inf])  # +nan + (inf - inf = -nan on x86)
    (plain, simplified), code = run(lines, {"start": start, "xp": np, "keep": lambda value: np.asarray(value).tobytes()})
    assert plain == simplified
    assert "v1 = xp.asarray(v1)" in code and "v2 = xp.asarray(v2)" in code


def test_a_copy_read_inside_a_loop_is_renamed_there_too():
    lines = [
        (1, "g1 = start + 1", None),
        (1, "g2 = g1", None),
        (1, "total = 0", None),
        (1, "for sign in (1, -1):", None),
        (2, "total = total + sign * g2", None),
        (1, "return total", None),
    ]
    (plain, simplified), code = run(lines, {"start": 2})
    assert plain == simplified == 0
    assert "g2" not in code


def test_dimensions_of_a_name_a_branch_may_reassign_stay_reads():
    """Recorded with the branch taken (g1 2-d at the end), replayed without it: g1 is 1-d there."""
    lines = [
        (1, "g1 = start.reshape(-1)", None),
        (1, "if flag:", None),
        (2, "g1 = g1.reshape(1, -1)", None),
        (1, "return g1.ndim", None),
    ]
    (plain, simplified), code = run(lines, {"start": np.ones((2, 3)), "flag": False}, shapes={"g1": (1, 6)})
    assert plain == simplified == 1


def test_an_operation_repeated_on_the_same_arrays_is_computed_once():
    """The gradient of ``p * p`` is ``grad * p`` twice: the second is the first (the same bits),
    where both are arrays read only by + - * /; not where one is handed to a call (which could
    change it in place, or keep it) or where they differ."""
    lines = [
        (1, "g1 = grad * p", None),
        (1, "g2 = grad * p", None),
        (1, "g3 = g1 + g2", None),
        (1, "g4 = grad * p", None),
        (1, "g5 = grad * p", None),
        (1, "g6 = grad - p", None),
        (1, "return (g3, keep(g4), g5 + g6)", None),
    ]
    namespace = {"grad": np.float32([0.1, 0.3]), "p": np.float32([3.0, -7.0]), "keep": lambda a: a}
    shapes = {name: (2,) for name in ("g1", "g2", "g3", "g4", "g5", "g6")}
    (plain, simplified), code = run(lines, namespace, shapes=shapes)
    for got, expected in zip(simplified, plain):
        np.testing.assert_array_equal(got, expected)
    assert "g3 = g1 + g1" in code and "g5 = grad * p" in code and "g6 = grad - p" in code


def test_an_if_that_runs_the_same_either_way_is_its_body():
    """A mean's ``if count: total / count`` has an ``else`` that differs only by an
    ``ignoring_float_errors`` block, which the whole program is: one division is left. An ``if``
    whose branches differ, or whose test calls something, stays."""
    lines = [
        (1, "v1 = start.sum()", None),
        (1, "if ctx.count:", None),
        (2, "v2 = v1 / ctx.count", None),
        (1, "else:", None),
        (2, "with ignoring_float_errors():", None),
        (3, "v2 = v1 / ctx.count", None),
        (1, "if check(v1):", None),
        (2, "v3 = v2", None),
        (1, "else:", None),
        (2, "v3 = v2", None),
        (1, "return (v2, v3)", None),
    ]
    ctx = Context()
    ctx.count = 0
    checked = []
    namespace = {"start": np.float32([1.5, 2.0]), "ctx": ctx, "check": lambda value: checked.append(value) or True}
    (plain, simplified), code = run(lines, namespace)
    assert np.isinf(plain[0]) and np.isinf(simplified[0])
    assert "if ctx.count" not in code and "if check(v1)" in code and len(checked) == 2


def test_a_0d_gradient_broadcast_into_arithmetic_is_not_broadcast():
    """``spread`` of a 0-d gradient read only by arithmetic beside arrays of its shape is the 0-d
    gradient there (an L2 penalty's backward); read any other way, or beside a smaller array
    (which it would broadcast), it stays."""
    lines = [
        (1, "g1 = spread(ctx, g0)", None),
        (1, "g2 = g1 * p", None),
        (1, "g3 = spread(ctx, g0)", None),
        (1, "g4 = g3 * row", None),
        (1, "g5 = spread(ctx, g0)", None),
        (1, "return (g2, g4, keep(g5))", None),
    ]
    ctx = Context()
    ctx.shape = (2, 2)
    namespace = {
        "g0": np.array(0.5, np.float32), "p": np.float32([[1.5, -2.0], [3.0, 0.25]]), "row": np.float32([1.0, 2.0]),
        "ctx": ctx, "spread": lambda ctx, g: np.broadcast_to(g, ctx.shape), "keep": np.array,
    }
    shapes = {"g0": (), "p": (2, 2), "row": (2,), "g1": (2, 2), "g2": (2, 2), "g3": (2, 2), "g4": (2, 2), "g5": (2, 2)}
    (plain, simplified), code = run(lines, namespace, shapes=shapes, broadcasts={"spread"})
    for got, expected in zip(simplified, plain):
        np.testing.assert_array_equal(got, expected)
        assert got.flags.c_contiguous == expected.flags.c_contiguous
    assert "g2 = g0 * p" in code and "g1 =" not in code
    assert "g3 = spread(ctx, g0)" in code and "g5 = spread(ctx, g0)" in code


def test_a_0d_gradient_beside_an_array_laid_out_otherwise_stays_broadcast():
    """Beside a transposed array, the product of a small broadcast (a new row-major array) is laid
    out otherwise than the product of the 0-d gradient (which follows the other operand): a sum
    of it later would add in another order. So the broadcast stays."""
    lines = [
        (1, "g1 = spread(ctx, g0)", None),
        (1, "g2 = g1 * q", None),
        (1, "return keep(g2), g2.flags.c_contiguous", None),
    ]
    ctx = Context()
    ctx.shape = (2, 3)
    filled = lambda ctx, g: np.full(ctx.shape, g)  # noqa: E731 (as ArrayFunctions.broadcast_to spreads a small 0-d array)
    namespace = {"g0": np.array(0.5, np.float32), "q": np.float32([[1.5, -2.0], [3.0, 0.25], [1.0, 2.0]]).T, "ctx": ctx, "spread": filled, "keep": np.array}
    shapes = {"g0": (), "q": (2, 3), "g1": (2, 3), "g2": (2, 3)}
    (plain, simplified), code = run(lines, namespace, shapes=shapes, broadcasts={"spread"}, row_major={"g0", "g1", "g2"})
    assert plain[1] is simplified[1] is True
    assert "g1 = spread(ctx, g0)" in code


def test_a_batch_norms_sum_of_squares_replays_as_eager():
    """(out * out).sum() * 0.5 after a BatchNorm2d, whose output is not row-major: its gradient
    stays broadcast (as above), and every step's parameters are eager's bit for bit."""
    torch = chainrule
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 1), torch.nn.BatchNorm2d(3)).double()
    twin = copy.deepcopy(model)

    def make(net):
        opt = torch.optim.SGD(net.parameters(), lr=0.5)

        def step(x):
            out = net(x)
            loss = (out * out).sum() * 0.5
            loss.backward()
            opt.step()
            opt.zero_grad()
            return out

        return step

    compiled, eager = chainrule.compile(make(model)), make(twin)
    for _ in range(4):
        x = torch.randn(2, 2, 3, 3, dtype=torch.float64)
        assert compiled(x).detach().numpy().tobytes() == eager(x).detach().numpy().tobytes()
        for p, q in zip(model.parameters(), twin.parameters()):
            assert p.detach().numpy().tobytes() == q.detach().numpy().tobytes()


def test_an_l2_penalty_replays_as_eager_without_its_broadcasts():
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.ReLU(), chainrule.nn.Linear(4, 1))
    twin = copy.deepcopy(model)
    x = chainrule.randn(5, 3)

    def step(net):
        loss = net(x).square().mean() + 1e-3 * sum((p * p).sum() for p in net.parameters())
        loss.backward()
        return loss.detach()

    compiled = chainrule.compile(step)
    for _ in range(3):
        np.testing.assert_array_equal(compiled(model).numpy(), step(twin).numpy())
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    assert compiled.code.count("spread(") == 1  # the mean's, read by a call: the four sums' went


def test_a_linear_layers_backward_reads_as_written_by_hand():
    layer = chainrule.nn.Linear(3, 2)

    def step(x):
        layer(x).tanh().sum().backward()
        return layer.weight.grad

    compiled = chainrule.compile(step)
    x = chainrule.randn(4, 3)
    for _ in range(2):
        layer.zero_grad()
        expected = step(x).numpy().copy()
        layer.zero_grad()
        assert np.array_equal(compiled(x).numpy(), expected)
    statements = [line.split("  #")[0].strip() for line in compiled.code.splitlines()]
    assert "saved_tensors" not in compiled.code and ".ndim" not in compiled.code and "weight_transposed" not in compiled.code
    assert any(statement.endswith(".mT @ x0") for statement in statements)  # d/dW = gradᵀ @ x
    assert any("AddmmBackward0: d/dp" in line for line in compiled.code.splitlines())  # the formula kept its line


def test_inf_and_nan_pass_silently_in_a_replay():
    def step(x):
        return (x * 1e30 * 1e30 - x * 1e30 * 1e30) / (x - x)

    compiled = chainrule.compile(step)
    x = chainrule.tensor([1.0, 2.0])
    eager = step(x)
    compiled(x)  # recorded: eager operations, whose reports chainrule's warning filter hides
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always")  # any report at all is heard
        for _ in range(2):
            assert np.array_equal(compiled(x).numpy(), eager.numpy(), equal_nan=True)
    assert [str(warning.message) for warning in heard] == []


def test_a_squared_error_by_hand_reads_as_its_derivative_alone():
    # Pow's forward asks isinstance(2, (int, float)) and its backward len(ctx.saved_tensors) == 1 and
    # exponent == 0: known from the literal 2, each decides a branch, and the names a dropped branch
    # assigned are known on the next walk; the gradient of y, which needs none, is not computed
    layer = chainrule.nn.Linear(3, 2)
    twin = copy.deepcopy(layer)

    def step(net, x, y):
        loss = ((net(x) - y) ** 2).mean()
        loss.backward()
        return loss.detach()

    compiled = chainrule.compile(step)
    x, y = chainrule.randn(4, 3), chainrule.randn(4, 2)
    for _ in range(3):
        np.testing.assert_array_equal(compiled(layer, x, y).numpy(), step(twin, x, y).numpy())
        for p, q in zip(layer.parameters(), twin.parameters()):
            np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    code = compiled.code
    assert "isinstance" not in code and "saved_tensors" not in code and " if " not in code and "_ = " not in code
    assert any("PowBackward0" in line and "* (2 * power(" in line for line in code.splitlines())


def test_isinstance_of_a_literal_and_len_of_a_tuple_of_names_fold():
    lines = [
        (1, "a = 1.0 if isinstance(2, (int, float)) else x0", "Pow"),
        (1, "b = x0 if isinstance('s', int) else 3", "Pow"),
        (1, "c = len((x0, x0)) if len((x0, f(x0))) == 2 else 0", "Pow"),
        (1, "return a, b, c", None),
    ]
    calls = []
    (plain, simplified), code = run(lines, {"x0": np.ones(2), "f": lambda x: calls.append(x) or x})
    assert plain == simplified == (1.0, 3, 2)
    assert "isinstance" not in code and "len((x0, x0))" not in code
    assert "len((x0, f(x0)))" in code  # a call inside is not left out


def test_arithmetic_of_0d_arrays_gives_the_array_at_once():
    """``v3 = v1 + v2`` then ``v3 = xp.asarray(v3)`` becomes ``v3 = xp.add(v1, v2, out=...)`` where
    the operands hold arrays there: the same ufunc on the same operands (a NaN's sign included),
    and an array, not a scalar, as eager's tensor holds. A name that is not yet an array where it
    is read (before its own ``asarray``) keeps the pair."""
    if not sys.modules["chainrule.backend"].UFUNCS_GIVE_ARRAYS:
        return  # NumPy < 2.3: the pairs stay
    lines = [
        (1, "v1 = start[:2].sum()", None),
        (1, "v1 = xp.asarray(v1)", None),
        (1, "v2 = start[2:].sum()", None),
        (1, "v4 = v2 * 2.0", None),  # v2 read while still a NumPy scalar
        (1, "v4 = xp.asarray(v4)", None),
        (1, "v2 = xp.asarray(v2)", None),
        (1, "v3 = v1 + v2", None),
        (1, "v3 = xp.asarray(v3)", None),
        (1, "v5 = -v3", None),
        (1, "v5 = xp.asarray(v5)", None),
        (1, "v6 = 1.5 / v5", None),
        (1, "v6 = xp.asarray(v6)", None),
        (1, "return keep(v3), keep(v4), keep(v5), keep(v6), type(v6)", None),
    ]
    start = np.array([np.nan, 1.0, np.inf, -np.inf])  # +nan + (inf - inf = -nan on x86)
    shapes = {"v1": (), "v2": (), "v3": (), "v4": (), "v5": (), "v6": ()}
    (plain, simplified), code = run(lines, {"start": start, "xp": np, "keep": lambda value: np.asarray(value).tobytes()}, shapes)
    assert plain == simplified and simplified[-1] is np.ndarray
    assert "v3 = xp.add(v1, v2, out=...)" in code and "v5 = xp.negative(v3, out=...)" in code
    assert "v6 = xp.divide(1.5, v5, out=...)" in code
    assert "v4 = v2 * 2.0" in code and "v4 = xp.asarray(v4)" in code


def test_a_sum_made_an_array_is_added_up_as_an_array_at_once():
    """``v2 = v1.sum(...)`` then ``v2 = xp.asarray(v2)`` becomes ``xp.add.reduce(v1, ..., out=...)``:
    the function ``ndarray.sum`` calls, with the axis (None when not given: every element) and the
    keywords it had, so the bits (a nan's sign) and the widened dtype of a bool sum are the same. A
    sum of what is not an array there, or with other arguments, keeps the pair."""
    if not sys.modules["chainrule.backend"].UFUNCS_GIVE_ARRAYS:
        return  # NumPy < 2.3: the pairs stay
    lines = [
        (1, "v1 = start * 1.0", None),
        (1, "v2 = v1.sum()", None),
        (1, "v2 = xp.asarray(v2)", None),
        (1, "v3 = v1.sum(0)", None),
        (1, "v3 = xp.asarray(v3)", None),
        (1, "v4 = v1.sum(axis=(0,), keepdims=False, dtype=v1.dtype)", None),
        (1, "v4 = xp.asarray(v4)", None),
        (1, "v5 = mask.sum()", None),  # a bool sum: int64 either way
        (1, "v5 = xp.asarray(v5)", None),
        (1, "v6 = v1.sum(where=mask)", None),  # a keyword add.reduce is not given here
        (1, "v6 = xp.asarray(v6)", None),
        (1, "return [(keep(v), type(v), v.dtype) for v in (v2, v3, v4, v5, v6)]", None),
    ]
    start = np.array([np.nan, 1.0, np.inf, -np.inf], dtype=np.float32)
    mask = np.array([True, False, True, True])
    shapes = {"v1": (4,), "mask": (4,), "v2": (), "v3": (), "v4": (), "v5": (), "v6": ()}
    namespace = {"start": start, "mask": mask, "xp": np, "keep": lambda value: np.asarray(value).tobytes()}
    (plain, simplified), code = run(lines, namespace, shapes)
    assert plain == simplified and all(kind is np.ndarray for _, kind, _ in simplified)
    assert "v2 = xp.add.reduce(v1, axis=None, out=...)" in code and "v3 = xp.add.reduce(v1, axis=0, out=...)" in code
    assert "v4 = xp.add.reduce(v1, axis=(0,), keepdims=False, dtype=v1.dtype, out=...)" in code
    assert "v5 = xp.add.reduce(mask, axis=None, out=...)" in code
    assert "v6 = v1.sum(where=mask)" in code and "v6 = xp.asarray(v6)" in code


def test_an_l2_penalty_sums_its_terms_as_arrays():
    model = chainrule.nn.Sequential(chainrule.nn.Linear(3, 4), chainrule.nn.Tanh(), chainrule.nn.Linear(4, 1))
    twin = copy.deepcopy(model)
    x = chainrule.randn(5, 3)

    def step(net):
        loss = net(x).square().mean() + 1e-3 * sum((p * p).sum() for p in net.parameters())
        loss.backward()
        return loss.detach()

    compiled = chainrule.compile(step)
    for _ in range(3):
        ours, theirs = compiled(model), step(twin)
        assert type(ours._array) is type(theirs._array) is np.ndarray
        assert ours.numpy().tobytes() == theirs.numpy().tobytes()
    if sys.modules["chainrule.backend"].UFUNCS_GIVE_ARRAYS:
        assert compiled.code.count(", out=...)") == 10  # the four sums, the five additions of them, the product by 1e-3


def test_conjugates_go_from_a_real_program_and_stay_in_a_complex_one():
    """Backward formulas conjugate for complex numbers (ctx.xp.conj); a program that saw only real
    arrays writes the array itself, one that saw a complex array keeps the conjugate (and its values)."""
    real_weight, complex_weight = chainrule.randn(3, requires_grad=True), chainrule.randn(3, dtype=chainrule.complex64, requires_grad=True)

    def step(weight, x):
        weight.grad = None
        (x * weight).abs().sum().backward()
        return weight.grad

    for weight, kind in ((real_weight, chainrule.float32), (complex_weight, chainrule.complex64)):
        compiled = chainrule.compile(step)
        x = chainrule.randn(4, 3, dtype=kind)
        eager = step(weight, x).numpy().copy()
        for _ in range(2):
            np.testing.assert_array_equal(compiled(weight, x).numpy(), eager)
        assert ("conj" in compiled.code) == (kind == chainrule.complex64)


def test_a_tuple_assignment_is_split_only_where_no_value_reads_a_name_assigned_before_it():
    """``(a, b), c = (x, y), a`` reads the old ``a``: assigned one by one, ``c`` would get ``x``."""
    lines = [
        (1, "a = start", None),
        (1, "(a, b), c = ((x, y), a)", None),
        (1, "d, e = (x, y)", None),
        (1, "return (a, b, c, d, e)", None),
    ]
    (plain, simplified), code = run(lines, {"start": 1.0, "x": 2.0, "y": 3.0})
    assert plain == simplified == (2.0, 3.0, 1.0, 2.0, 3.0)
    assert "d, e =" not in code  # the plain one is split (then known: read as x and y)
