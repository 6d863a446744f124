"""Dynamic shapes in chainrule.export: Dim, dims, the hints, ShapesCollection, as torch.export's."""
import numpy as np
import pytest
import torch

import chainrule
import chainrule.export


def flatten_head(lib):
    class FlattenHead(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(3, 4)

        def forward(self, x):
            return self.fc(x).view(x.shape[0], -1) * x.size(1) + lib.zeros(x.shape[0], 1)

    return FlattenHead()


def pair_sum(lib):
    class PairSum(lib.nn.Module):
        def forward(self, x, y):
            return x + y

    return PairSum()


def branch_on_size(lib):
    class BranchOnSize(lib.nn.Module):
        def forward(self, x):
            if x.shape[0] > 4:
                return x + 1
            return x - 1

    return BranchOnSize()


def fixed_view(lib):
    class FixedView(lib.nn.Module):
        def forward(self, x):
            return x.view(4, -1)

    return FixedView()


def twin_programs(build, args, dynamic_shapes):
    """torch's and chainrule's programs of the same model (same weights), same dynamic_shapes written with each's Dim."""
    torch.manual_seed(0)
    theirs = build(torch)
    ours = build(chainrule)
    ours.load_state_dict({name: chainrule.tensor(value.numpy()) for name, value in theirs.state_dict().items()})
    programs = []
    for lib, model in ((torch, theirs), (chainrule, ours)):
        shapes = dynamic_shapes(lib.export.Dim, lib.export.dims)
        programs.append(lib.export.export(model, tuple(lib.tensor(arg) for arg in args), dynamic_shapes=shapes))
    return programs


def assert_modules_agree(programs, *arrays):
    theirs, ours = (program.module()(*(lib.tensor(array) for array in arrays)) for program, lib in zip(programs, (torch, chainrule)))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def normal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def test_a_batch_dim_varies_within_its_range_and_is_refused_outside():
    programs = twin_programs(flatten_head, [normal(5, 3)], lambda Dim, dims: {"x": {0: Dim("batch", min=2, max=10)}})
    for batch in (2, 5, 10):
        assert_modules_agree(programs, normal(batch, 3, seed=batch))
    assert [repr(ranges) for ranges in programs[1].range_constraints.values()] == [repr(ranges) for ranges in programs[0].range_constraints.values()] == ["VR[2, 10]"]
    assert list(programs[1].range_constraints) == ["batch"]
    for program, lib in zip(programs, (torch, chainrule)):
        with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 10"):
            program.module()(lib.randn(11, 3))
        with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[1\] == 3"):
            program.module()(lib.randn(5, 4))
    assert "f32[batch, 3]" in str(programs[1])


@pytest.mark.parametrize("hint", ["AUTO", "DYNAMIC"])
def test_hints_make_a_dim_dynamic_from_two(hint):
    programs = twin_programs(flatten_head, [normal(5, 3)], lambda Dim, dims: ({0: getattr(Dim, hint), 1: Dim.STATIC},))
    assert [repr(ranges) for ranges in programs[1].range_constraints.values()] == [repr(ranges) for ranges in programs[0].range_constraints.values()] == ["VR[2, int_oo]"]
    assert_modules_agree(programs, normal(9, 3))


def test_one_dim_shared_by_two_inputs_and_dims():
    programs = twin_programs(pair_sum, [normal(4, 3), normal(4, 3)], lambda Dim, dims: ({0: dims("n", max=8)[0]}, {0: dims("n", max=8)[0]}))
    assert_modules_agree(programs, normal(7, 3), normal(7, 3, seed=1))


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_two_dims_the_code_requires_equal_fail_naming_them(lib):
    a, c = lib.export.dims("a", "c")
    with pytest.raises(RuntimeError, match=r"Constraints violated \((a, )?c\)") as caught:
        lib.export.export(pair_sum(lib), (lib.randn(4, 3), lib.randn(4, 3)), dynamic_shapes=({0: a}, {0: c}))
    assert type(caught.value).__name__ == "UserError"


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_branch_on_a_dynamic_size_fails_for_a_dim_and_is_static_for_auto(lib):
    with pytest.raises(RuntimeError, match=r"Constraints violated \(b\)") as caught:
        lib.export.export(branch_on_size(lib), (lib.randn(5, 3),), dynamic_shapes=({0: lib.export.Dim("b"), 1: None},))
    assert type(caught.value).__name__ == "UserError"
    program = lib.export.export(branch_on_size(lib), (lib.randn(5, 3),), dynamic_shapes=({0: lib.export.Dim.AUTO, 1: None},))
    assert [repr(ranges) for ranges in program.range_constraints.values()] == ["VR[5, int_oo]"]
    assert program.module()(lib.ones(7, 3)).sum().item() == 42
    narrowed = lib.export.export(branch_on_size(lib), (lib.randn(5, 3),), dynamic_shapes=({0: lib.export.Dim("b", min=5, max=9)},))
    assert narrowed.module()(lib.ones(8, 3)).sum().item() == 48


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_a_dynamic_dim_the_code_fixes_fails(lib):
    with pytest.raises(RuntimeError, match="Constraints violated") as caught:
        lib.export.export(fixed_view(lib), (lib.randn(4, 3),), dynamic_shapes=({0: lib.export.Dim.DYNAMIC},))
    assert type(caught.value).__name__ == "UserError"


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_bad_dynamic_shapes_are_refused(lib):
    Dim = lib.export.Dim
    with pytest.raises(RuntimeError, match=r"5 not in range \[6, 8\]") as caught:
        lib.export.export(pair_sum(lib), (lib.randn(5, 3), lib.randn(5, 3)), dynamic_shapes={"x": {0: Dim("b", min=6, max=8)}, "y": {0: Dim("b", min=6, max=8)}})
    assert type(caught.value).__name__ == "ConstraintViolationError"
    with pytest.raises(RuntimeError, match=r"top-level keys must be the arg names \['x', 'y'\]") as caught:
        lib.export.export(pair_sum(lib), (lib.randn(5, 3), lib.randn(5, 3)), dynamic_shapes={"z": {0: Dim("b")}})
    assert type(caught.value).__name__ == "UserError"
    assert repr(Dim("c", min=3, max=9)) == "Dim('c', min=3, max=9)" and repr(Dim("b")) == "Dim('b', min=0)"
    assert repr(Dim.AUTO) == "DimHint(AUTO)"


def test_shapes_collection_gives_specs_by_tensor():
    x, y = chainrule.randn(4, 3), chainrule.randn(4, 3)
    shapes = chainrule.export.ShapesCollection()
    batch = chainrule.export.Dim("batch", max=16)
    shapes[x] = {0: batch}
    shapes[y] = {0: batch}
    assert shapes.dynamic_shapes(None, (x, y)) == ({0: batch}, {0: batch})
    program = chainrule.export.export(pair_sum(chainrule), (x, y), dynamic_shapes=shapes)
    assert tuple(program.module()(chainrule.ones(6, 3), chainrule.ones(6, 3)).shape) == (6, 3)


def test_check_of_a_size_is_made_at_every_run():
    class Checked(chainrule.nn.Module):
        def forward(self, x):
            chainrule._check(x.shape[0] >= 3)
            return x * 2

    program = chainrule.export.export(Checked(), (chainrule.randn(4, 2),), dynamic_shapes=({0: chainrule.export.Dim("n")},))
    assert tuple(program.module()(chainrule.ones(6, 2)).shape) == (6, 2)
    with pytest.raises(RuntimeError, match="Expected cond to be True"):
        program.module()(chainrule.ones(2, 2))


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_sizes_of_one_dim_must_be_equal_when_called(lib):
    batch = lib.export.Dim("batch")
    program = lib.export.export(pair_sum(lib), (lib.randn(4, 3), lib.randn(4, 3)), dynamic_shapes=({0: batch}, {0: batch}))
    with pytest.raises(AssertionError, match=r"Guard failed: y.size\(\)\[0\] == x.size\(\)\[0\]"):
        program.module()(lib.randn(5, 3), lib.randn(6, 3))


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_additional_inputs_make_the_sizes_that_differ_dynamic(lib):
    more = lib.export.AdditionalInputs()
    more.add((lib.ones(5, 3), lib.ones(5, 3)))
    more.add((lib.ones(7, 3), lib.ones(7, 3)))
    assert more.dynamic_shapes(pair_sum(lib), (lib.ones(4, 3), lib.ones(4, 3))) == {"x": (lib.export.Dim.DYNAMIC, None), "y": (lib.export.Dim.DYNAMIC, None)}
    program = lib.export.export(pair_sum(lib), (lib.ones(4, 3), lib.ones(4, 3)), dynamic_shapes=more)
    assert [repr(ranges) for ranges in program.range_constraints.values()] == ["VR[2, int_oo]"]
    more.verify(program)
    assert tuple(program.module()(lib.ones(9, 3), lib.ones(9, 3)).shape) == (9, 3)


@pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])
def test_derived_dims_follow_their_root(lib):
    class ShiftedSum(lib.nn.Module):
        def forward(self, x, y):
            return x + y[1:]

    dimx = lib.export.Dim("dimx", min=3, max=6)
    assert (repr(dimx + 1), (dimx + 1).min, (dimx + 1).max, repr(2 * dimx)) == ("dimx + 1", 4, 7, "2*dimx")
    program = lib.export.export(ShiftedSum(), (lib.randn(5), lib.randn(6)), dynamic_shapes=({0: dimx}, {0: dimx + 1}))
    assert [repr(ranges) for ranges in program.range_constraints.values()] == ["VR[3, 6]", "VR[4, 7]"]
    assert tuple(program.module()(lib.ones(4), lib.ones(5)).shape) == (4,)
    with pytest.raises(AssertionError, match="Guard failed"):
        program.module()(lib.ones(4), lib.ones(6))
    with pytest.raises(AssertionError, match=r"Guard failed: x.size\(\)\[0\] <= 6"):
        program.module()(lib.ones(7), lib.ones(8))
    with pytest.raises(RuntimeError):
        lib.export.export(ShiftedSum(), (lib.randn(5), lib.randn(7)), dynamic_shapes=({0: dimx}, {0: dimx + 1}))


def tutorial_dynamic_model(lib):
    class DynamicModel(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.l = lib.nn.Linear(5, 3)

        def forward(self, w, x, y, z):
            assert w.shape[0] <= 512
            lib._check(x.shape[0] >= 4)
            if w.shape[0] == x.shape[0] + 2:
                x0 = x + y
                x1 = self.l(w)
                x2 = x0.flatten()
                x3 = x2 + z
                return x1, x3
            return w

    return DynamicModel()


def test_auto_finds_the_relation_and_ranges_the_code_needs():
    args = [normal(6, 5), normal(4), normal(1), normal(4)]
    programs = twin_programs(tutorial_dynamic_model, args, lambda Dim, dims: tuple({0: Dim.AUTO} for _ in range(4)))
    assert sorted(repr(ranges) for ranges in programs[1].range_constraints.values()) == sorted(repr(ranges) for ranges in programs[0].range_constraints.values()) == ["VR[4, 510]", "VR[6, 512]"]
    other = [normal(9, 5, seed=1), normal(7, seed=2), normal(1, seed=3), normal(7, seed=4)]
    theirs, ours = (program.module()(*(lib.tensor(array) for array in other)) for program, lib in zip(programs, (torch, chainrule)))
    for expected, got in zip(theirs, ours, strict=True):
        np.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    with pytest.raises(AssertionError, match="Guard failed"):
        programs[1].module()(*(chainrule.tensor(array) for array in [normal(9, 5), normal(6), normal(1), normal(6)]))
