"""torch.utils.flop_counter: the same counts, per module and operation, and the same table as
PyTorch's FlopCounterMode, forward and backward."""
import pytest
import torch
import torch.utils.flop_counter

import chainrule
import chainrule.utils.flop_counter as flop_counter
from chainrule.utils.flop_counter import FlopCounterMode, register_flop_formula
from chainrule.utils.module_tracker import ModuleTracker


def counted(library, run, **options):
    """``run(library)`` inside the library's FlopCounterMode: (counts with the operations as
    strings, the table, the total)."""
    counter = library.utils.flop_counter.FlopCounterMode(display=False, **options)
    with counter:
        run(library)
    counts = {module: {str(op): flops for op, flops in ops.items()} for module, ops in counter.get_flop_counts().items()}
    return counts, counter.get_table(), counter.get_table(1), counter.get_total_flops()


def assert_same_as_pytorch(run, **options):
    ours, theirs = counted(chainrule, run, **options), counted(torch, run, **options)
    assert ours == theirs
    return ours


def mlp(library):
    return library.nn.Sequential(library.nn.Linear(8, 16), library.nn.ReLU(), library.nn.Linear(16, 4))


def cnn(library):
    nn = library.nn
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))


def encoder_layer(library, **options):
    return library.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True, **options)


@pytest.mark.parametrize("input_requires_grad", [False, True])
def test_mlp_forward_and_backward(input_requires_grad):
    counts, table, *_ = assert_same_as_pytorch(lambda library: mlp(library)(library.randn(5, 8)))
    assert counts["Sequential.0"] == {"aten.addmm": 2 * 5 * 16 * 8}
    assert "Sequential.2" in table and "Global" not in table  # every flop is inside the model

    def forward_backward(library):
        mlp(library)(library.randn(5, 8, requires_grad=input_requires_grad)).sum().backward()

    counts, *_ = assert_same_as_pytorch(forward_backward)
    # the first layer's weight gradient, and its input's gradient when asked for
    assert counts["Sequential.0"]["aten.mm"] == (2 if input_requires_grad else 1) * 2 * 5 * 16 * 8


def test_cnn_forward_and_backward():
    assert_same_as_pytorch(lambda library: cnn(library)(library.randn(2, 3, 8, 8)))
    counts, *_ = assert_same_as_pytorch(lambda library: cnn(library)(library.randn(2, 3, 8, 8)).sum().backward())
    assert set(counts["Sequential.0"]) == {"aten.convolution", "aten.convolution_backward"}


def test_transformer_encoder_layer():
    counts, *_ = assert_same_as_pytorch(lambda library: encoder_layer(library)(library.randn(3, 5, 8)))
    assert set(counts) >= {"TransformerEncoderLayer.self_attn", "TransformerEncoderLayer.linear1"}
    assert_same_as_pytorch(lambda library: encoder_layer(library)(library.randn(3, 5, 8)).sum().backward())
    # without dropout, the attention is PyTorch's flash kernel, which it does not count
    assert_same_as_pytorch(lambda library: encoder_layer(library, dropout=0.0)(library.randn(3, 5, 8)))


def test_fused_inference_layers_count_nothing():
    def inference(library):
        layer, attention = encoder_layer(library).eval(), library.nn.MultiheadAttention(8, 2, batch_first=True).eval()
        x = library.randn(3, 5, 8)
        with library.no_grad():
            layer(x)
            attention(x, x, x)

    counts, table, *_ = assert_same_as_pytorch(inference)
    assert counts == {} and table.splitlines()[-1].split() == ["Global", "0", "0%"]


def test_multihead_attention_paths():
    def attention(library):
        module = library.nn.MultiheadAttention(8, 2)
        x, mask = library.randn(5, 3, 8), library.zeros(5, 5)
        module(x, x, x)
        module(x, x, x, attn_mask=mask)  # the scores as baddbmm
        module(x, library.randn(4, 3, 8), library.randn(4, 3, 8), need_weights=False)

    counts, *_ = assert_same_as_pytorch(attention)
    assert "aten.baddbmm" in counts["MultiheadAttention"]


def test_scaled_dot_product_attention_kernels():
    def attention(library):
        F = library.nn.functional
        q = library.randn(2, 2, 3, 4, requires_grad=True)
        F.scaled_dot_product_attention(q, q, q).sum().backward()  # flash: uncounted
        F.scaled_dot_product_attention(q, q, q, dropout_p=0.5).sum().backward()  # math: bmm
        F.scaled_dot_product_attention(q[0], q[0], q[0])  # 3-D: math

    counts, *_ = assert_same_as_pytorch(attention)
    assert set(counts["Global"]) == {"aten.bmm"}


def test_matmul_forms():
    def products(library):
        a, b = library.randn(4, 3, 5), library.randn(4, 5, 6)
        library.matmul(a, b)
        a @ b
        a @ library.randn(5, 2)  # folded into one mm
        library.randn(3) @ library.randn(3, 4)  # mm
        library.randn(4, 3) @ library.randn(3)  # mv, dot: not counted
        library.randn(3) @ library.randn(3)
        library.randn(3, 4) @ b[:, :4]  # bmm, or mm when the matrix requires grad
        library.randn(3, 4, requires_grad=True) @ b[:, :4]
        a.transpose(0, 1) @ library.randn(5)  # rows not foldable without a copy: bmm
        library.randn(2, 1, 3, 4) @ library.randn(5, 4, 2)  # broadcast batches
        library.mm(library.randn(2, 3), library.randn(3, 4))
        library.bmm(a, b)
        library.addmm(library.randn(3), library.randn(2, 4), library.randn(4, 3))
        library.baddbmm(library.randn(4, 3, 6), a, b)
        library.nn.functional.linear(library.randn(3, 2, 4).transpose(0, 1), library.randn(5, 4), library.randn(5))

    counts, *_ = assert_same_as_pytorch(products)
    assert set(counts["Global"]) == {"aten.bmm", "aten.mm", "aten.addmm", "aten.baddbmm"}


def test_backward_of_products_and_convolutions():
    def backward(library):
        a = library.randn(3, 4, requires_grad=True)
        b = library.randn(4, 5, requires_grad=True)
        library.autograd.grad((a @ b).sum(), [a])  # b's gradient is not computed
        batch = library.randn(2, 3, 4, requires_grad=True)
        library.baddbmm(library.randn(2, 3, 5), batch, library.randn(2, 4, 5)).sum().backward()
        library.addbmm(library.randn(3, 5), batch, library.randn(2, 4, 5)).sum().backward()
        x = library.randn(2, 3, 5, 5, requires_grad=True)
        library.nn.functional.conv_transpose2d(x, library.randn(3, 4, 3, 3, requires_grad=True), stride=2).sum().backward()
        library.nn.functional.conv1d(library.randn(3, 10), library.randn(4, 3, 3, requires_grad=True)).sum().backward()

    assert_same_as_pytorch(backward)


def test_counts_only_inside_the_block_and_display(capsys):
    model = mlp(chainrule)
    loss = model(chainrule.randn(5, 8)).sum()
    with FlopCounterMode(depth=1) as counter:
        output = model(chainrule.randn(5, 8))
    loss.backward()  # its graph was made outside the block, and runs after it
    output.sum().backward()  # after the block: not counted
    assert counter.get_total_flops() == 1920
    assert capsys.readouterr().out.strip() == counter.get_table(1)


def test_custom_mapping_and_registration():
    with FlopCounterMode(display=False, custom_mapping={flop_counter.aten.mv: lambda *shapes, out_shape: 7}) as counter:
        chainrule.randn(4, 3) @ chainrule.randn(3)
    assert counter.get_flop_counts() == {"Global": {flop_counter.aten.mv: 7}}
    assert str(flop_counter.aten.mm) == "aten.mm" and repr(flop_counter.aten.mm) == "<OpOverloadPacket(op='aten.mm')>"
    with pytest.raises(RuntimeError, match="duplicate registrations for aten.mm"):
        register_flop_formula(flop_counter.aten.mm)(lambda *args, **kwargs: 0)
    with pytest.raises(ValueError, match="expected each target to be OpOverloadPacket"):
        register_flop_formula("mm")(lambda *args, **kwargs: 0)
    with pytest.warns(UserWarning, match="mods argument is not needed anymore"):
        FlopCounterMode(mlp(chainrule))


def test_module_tracker_names_the_running_modules():
    seen = []
    model = mlp(chainrule)
    with ModuleTracker() as tracker:
        model[0].register_forward_pre_hook(lambda *args: seen.append(set(tracker.parents)))
        model(chainrule.randn(2, 8))
    assert seen == [{"Global", "Sequential", "Sequential.0"}]
    assert tracker.parents == {"Global"}  # (is_bw reads the engine's process-wide pass: not asserted here)
