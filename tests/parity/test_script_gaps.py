"""The gaps the teaching scripts in ``scripts/`` found, each checked against PyTorch on its own:
the node of a linear layer lists bias, input, weight as PyTorch's AddmmBackward0 does (the 60 Minute
Blitz walks ``next_functions[0][0]``), a strict ``load_state_dict`` lists missing keys before
unexpected ones, ``with torch.device("cpu"):`` is a context manager; dropout draws its mask in the
input's memory order, ``torch.Tensor(t)`` is an alias of t, a custom Function's node prints with its
module, batch-first RNN/GRU outputs end in TransposeBackward1, and linear takes every bias PyTorch's
two paths take; ``Tensor(storage)`` views the storage, a custom Function's node has ``apply``,
``_parameters`` is a dict, ``split`` takes PyTorch's keywords, and a view of a convolution's output
can be written in place under autograd."""
import numpy as np
import pytest
import torch

import chainrule


def linear_inputs(library, rows):
    generator = np.random.default_rng(0)
    x, weight, bias = generator.standard_normal((rows, 3)), generator.standard_normal((2, 3)), generator.standard_normal(2)
    return [library.tensor(value.astype(np.float32), requires_grad=True) for value in (x, weight, bias)]


def node_names(node):
    return [None if next_node is None else type(next_node).__name__ for next_node, _ in node.next_functions]


def test_linear_lists_bias_then_input_then_weight_as_addmm_does():
    x, weight, bias = linear_inputs(chainrule, 4)
    x_torch, weight_torch, bias_torch = linear_inputs(torch, 4)
    ours = chainrule.nn.functional.linear(x.relu(), weight, bias)
    theirs = torch.nn.functional.linear(x_torch.relu(), weight_torch, bias_torch)
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "AddmmBackward0"
    assert node_names(ours.grad_fn)[:2] == node_names(theirs.grad_fn)[:2] == ["AccumulateGrad", "ReluBackward0"]
    assert ours.grad_fn.next_functions[0][0].variable is bias  # the bias's leaf, as PyTorch's
    without_bias = chainrule.nn.functional.linear(x.relu(), weight)
    assert node_names(without_bias.grad_fn)[0] == "ReluBackward0"  # MmBackward0: input first


def test_linear_node_called_returns_gradients_in_next_functions_order():
    x, weight, bias = linear_inputs(chainrule, 4)
    x_torch, weight_torch, bias_torch = linear_inputs(torch, 4)
    ours = chainrule.nn.functional.linear(x, weight, bias).grad_fn(chainrule.ones(4, 2))
    theirs = torch.nn.functional.linear(x_torch, weight_torch, bias_torch).grad_fn(torch.ones(4, 2))
    ours, theirs = [each.detach().numpy() for each in ours], [each.detach().numpy() for each in theirs]
    np.testing.assert_allclose(ours[0], theirs[0].sum(0))  # PyTorch's bias gradient not yet summed
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    np.testing.assert_allclose(ours[2], theirs[2].T, rtol=1e-6)  # PyTorch's is weightᵀ's


def test_linear_gradients_unchanged_by_the_order_shown():
    ours, theirs = linear_inputs(chainrule, 5), linear_inputs(torch, 5)
    (chainrule.nn.functional.linear(*ours) ** 2).sum().backward()
    (torch.nn.functional.linear(*theirs) ** 2).sum().backward()
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), rtol=1e-5, atol=1e-6)
    double = [each.detach().double().requires_grad_() for each in ours]
    assert chainrule.autograd.gradcheck(chainrule.nn.functional.linear, double)


def strict_load_message(library):
    library.manual_seed(0)
    module = library.nn.Module()
    module.lin = library.nn.Linear(2, 2)
    module.other = library.nn.Linear(2, 1)
    state = {"lin.weight": library.ones(2, 2), "lin.bias": library.zeros(2), "junk": library.ones(1)}
    with pytest.raises(RuntimeError) as raised:
        module.load_state_dict(state)
    return str(raised.value)


def test_a_strict_load_lists_missing_keys_before_unexpected_ones():
    ours, theirs = strict_load_message(chainrule), strict_load_message(torch)
    assert ours.splitlines()[1:] == theirs.splitlines()[1:]
    assert ours.index("Missing key(s)") < ours.index("Unexpected key(s)")


def test_a_device_is_a_context_manager():
    with chainrule.device("cpu") as entered, torch.device("cpu") as theirs:
        assert entered == "cpu" and str(entered) == str(theirs)
        layer = chainrule.nn.Linear(3, 2)
        assert layer.weight.device == "cpu" and chainrule.get_default_device() == "cpu"
    assert chainrule.get_default_device() == "cpu"


def test_entering_a_device_chainrule_lacks_raises_where_a_tensor_is_made_there():
    with pytest.raises(AssertionError, match="CUDA"):
        with chainrule.device("cuda"):
            chainrule.zeros(1)
    with pytest.raises(RuntimeError, match="mps"):
        with chainrule.device("mps"):
            chainrule.ones(1)
    with chainrule.device("meta"):  # a device chainrule has: shapes without values
        assert chainrule.ones(1).device.type == "meta"
    assert chainrule.get_default_device() == chainrule.device("cpu") and chainrule.zeros(1).device.type == "cpu"


def test_an_error_inside_a_device_block_goes_on():
    with pytest.raises(ValueError, match="inside"):
        with chainrule.device("cpu"):
            raise ValueError("inside")


# ----------------------------------------------------------------------------- found in session 23's scripts
LAYOUTS = {  # inputs whose memory is not in row-major order, and the draws that must follow memory
    "transposed": lambda lib: lib.ones(3, 2, 2).transpose(0, 1),
    "expanded": lambda lib: lib.ones(1, 3).expand(4, 3),
    "permuted": lambda lib: lib.ones(2, 3, 4, 5).permute(0, 2, 3, 1),
    "channels last": lambda lib: lib.ones(2, 3, 4, 4).to(memory_format=lib.channels_last),
    "strided": lambda lib: lib.ones(4, 6)[:, ::2],
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("drop", ["dropout", "alpha_dropout", "module"])
def test_dropout_draws_its_mask_in_the_input_memory_order(layout, drop):
    """udacity_char_rnn: a batch_first LSTM's output is a transposed view; PyTorch's mask is
    ``empty_like(input).bernoulli_()``, so the random numbers fill the input's memory in order."""
    def dropped(lib):
        lib.manual_seed(0)
        x = LAYOUTS[layout](lib)
        if drop == "module":
            return lib.nn.Dropout(0.3)(x)
        return getattr(lib.nn.functional, drop)(x, 0.5, True)

    np.testing.assert_array_equal(dropped(chainrule).numpy(), dropped(torch).numpy())


def test_the_legacy_constructor_of_a_tensor_is_an_alias_of_it():
    """NYU DLSP20's tensor tutorial: ``r = torch.Tensor(t)`` shares t's memory and dtype."""
    for lib in (chainrule, torch):
        t = lib.arange(3)
        r = lib.Tensor(t)
        r[0] = 7
        assert r.dtype == lib.int64 and t.tolist() == [7, 1, 2] and r._base is t
        leaf = lib.zeros(2, requires_grad=True)
        alias = lib.Tensor(leaf)
        assert alias.requires_grad and alias.grad_fn.name() == "AliasBackward0"
        alias.sum().backward()
        assert leaf.grad.tolist() == [1.0, 1.0]
        x = lib.zeros(2, 3, 4)
        y = lib.Tensor(x)
        y.resize_(3, 8)  # a contiguous tensor that does not grow keeps its memory
        y.fill_(1)
        assert x.sum().item() == 24 and y.shape == (3, 8)
        assert lib.Tensor([1, 2]).dtype == lib.float32 and tuple(lib.Tensor(2, 3).shape) == (2, 3)


def test_a_custom_function_node_prints_with_its_module_as_a_python_class():
    def node(lib):
        class MyMax(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        return MyMax.apply(lib.ones(2, requires_grad=True)).grad_fn

    for lib in (chainrule, torch):
        assert repr(node(lib)).startswith(f"<{lib.__name__}.autograd.function.MyMaxBackward object at 0x")
        assert repr(lib.ones(2, requires_grad=True).exp().grad_fn).startswith("<ExpBackward0 object at 0x")


def test_backward_errors_say_pytorch_words_first_then_what_to_do():
    """Course notebooks print these (NYU DLSP20, Heaton's debugging class): PyTorch's message, then
    chainrule's advice after it (the script comparison reads the advice as such)."""
    def messages(lib):
        found = []
        with pytest.raises(RuntimeError) as raised:
            lib.ones(2).sum().backward()
        found.append(str(raised.value))
        y = (lib.ones(3, requires_grad=True) ** 2).sum()
        y.backward()
        with pytest.raises(RuntimeError) as raised:
            y.backward()
        found.append(str(raised.value))
        return found

    for ours, theirs in zip(messages(chainrule), messages(torch)):
        assert ours.startswith(theirs) and len(ours) > len(theirs)


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_batch_first_recurrent_layers_end_in_pytorch_transpose_node(kind, bidirectional):
    """ATen's RNN and GRU transpose their batch-first output in place (TransposeBackward1), its fused
    LSTM out of place (TransposeBackward0)."""
    names = []
    for lib in (chainrule, torch):
        layer = getattr(lib.nn, kind)(2, 3, num_layers=2, batch_first=True, bidirectional=bidirectional)
        output, _ = layer(lib.randn(4, 5, 2))
        names.append(output.grad_fn.name())
        assert tuple(output.shape) == (4, 5, 3 * (1 + bidirectional))
    assert names[0] == names[1]


LINEAR_INPUTS = [(2, 3, 5), (6, 5), (5,), (1, 6, 5), (2, 1, 3, 5)]
LINEAR_BIASES = [(), (1,), (4,), (1, 4), (6, 4), (3, 4), (3, 1), (1, 1), (2, 1, 4), (2, 3, 4), (2, 3, 1), (1, 3, 4), (6, 1), (1, 1, 1), (1, 1, 4), (4, 1)]


def linear_outcome(lib, input_shape, weight_shape, bias_shape, bias_dtype="float32", transposed=False):
    generator = np.random.default_rng(1)
    values = [generator.standard_normal(shape) for shape in (input_shape, weight_shape, bias_shape)]
    x, weight, bias = (lib.tensor(value.astype(np.float32), requires_grad=True) for value in values)
    bias, leaf = bias.to(getattr(lib, bias_dtype)), x
    if transposed:
        x = x.transpose(0, -2)
    try:
        y = lib.nn.functional.linear(x, weight, bias)
    except RuntimeError:
        return "RuntimeError", None, []
    (y * lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
    values = [each.detach().numpy() for each in (y, leaf.grad, weight.grad)]
    return y.grad_fn.name(), str(y.dtype).split(".")[-1], values


@pytest.mark.parametrize("input_shape", LINEAR_INPUTS)
def test_linear_takes_the_biases_pytorch_takes_by_its_two_paths(input_shape):
    """ATen's linear flattens a contiguous input whose bias has one dimension, or one size other than
    1, and adds the bias as addmm (ViewBackward0); otherwise it multiplies, then adds in place
    (AddBackward0): a (6, 1) bias of a (2, 3, 5) input is one per flattened row, a (2, 3, 4) one
    is added whole (stepbystep_ch06: a 1-D weight with a 0-d int bias)."""
    cases = [(bias, "float32", False) for bias in LINEAR_BIASES] + [((), "int64", False), ((3, 4), "float64", False), ((4,), "float32", True)]
    for weight_shape in [(4, 5), (5,)]:
        for bias_shape, dtype, transposed in cases:
            if transposed and len(input_shape) < 3:
                continue
            ours = linear_outcome(chainrule, input_shape, weight_shape, bias_shape, dtype, transposed)
            theirs = linear_outcome(torch, input_shape, weight_shape, bias_shape, dtype, transposed)
            case = (input_shape, weight_shape, bias_shape, dtype, transposed)
            assert ours[:2] == theirs[:2], case
            for mine, reference in zip(ours[2], theirs[2]):
                np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-4, err_msg=str(case))


def test_the_legacy_constructor_of_a_storage_views_its_memory():
    """pytorch-book chapter 3: ``t.Tensor(a.storage())`` shares a's memory, from its start."""
    import warnings

    for lib in (chainrule, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TypedStorage is deprecated
            a = lib.arange(6.0)
            d = lib.Tensor(a[2:].storage())
            d[0] = 9
            assert a[0].item() == 9 and tuple(d.shape) == (6,)
            assert tuple(lib.Tensor(lib.arange(3).untyped_storage()).shape) == (6,)  # 24 bytes as float32
            assert lib.FloatTensor(a.storage()).data_ptr() == a.data_ptr()
            with pytest.raises(RuntimeError, match="Expected a Storage of type Float or an UntypedStorage, but got type Long"):
                lib.Tensor(lib.arange(3).storage())


def test_a_custom_function_node_applies_its_own_backward():
    results = []
    for lib in (chainrule, torch):
        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, w, k):
                ctx.save_for_backward(w)
                return w * 2

            @staticmethod
            def backward(ctx, grad):
                (w,) = ctx.saved_tensors
                return grad * w, None

        z = Twice.apply(lib.full((1,), 3.0, requires_grad=True), 1)
        gradient, nothing = z.grad_fn.apply(lib.ones(1))
        results.append((gradient.item(), nothing, gradient.grad_fn.name()))
        assert not hasattr(z.exp().grad_fn, "apply")  # a built-in node has none
        z.sum().backward()
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.grad_fn.apply(lib.ones(1))
    assert results[0] == results[1] == (3.0, None, "MulBackward0")


def test_a_module_keeps_parameters_and_buffers_in_plain_dicts():
    for lib in (chainrule, torch):
        layer = lib.nn.BatchNorm1d(2)
        assert type(layer._parameters) is dict and type(layer._buffers) is dict
        assert str(lib.nn.Linear(1, 1, bias=False)._parameters).startswith("{'weight': Parameter containing:")


def test_split_takes_pytorch_keywords():
    for lib in (chainrule, torch):
        pieces = lib.split(tensor=lib.arange(4.0), split_size_or_sections=2)
        assert [piece.tolist() for piece in pieces] == [[0.0, 1.0], [2.0, 3.0]]
        assert len(lib.arange(4.0).split(split_size=3)) == 2


def test_a_view_of_a_convolution_output_is_written_in_place_under_autograd():
    """labml's weight-standardization VGG: ReLU(inplace=True) on a view of a conv output."""
    gradients = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        conv = lib.nn.Conv2d(3, 4, 3, padding=1)
        x = lib.randn(2, 3, 5, 5, requires_grad=True)
        y = conv(x)
        lib.nn.functional.relu(y.view(2, 4, 25), inplace=True)
        (y * lib.arange(200.0).reshape(2, 4, 5, 5)).sum().backward()
        gradients.append((y.detach().numpy(), x.grad.numpy(), conv.weight.grad.numpy()))
    for ours, theirs in zip(*gradients):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-4)


def test_the_legacy_constructor_takes_a_cpu_device():
    """The GAN specialization's FID notebook: ``torch.Tensor(y.real, device=x.device)``."""
    for lib in (chainrule, torch):
        assert lib.Tensor(np.ones(2), device="cpu").tolist() == [1.0, 1.0]
        assert tuple(lib.Tensor(2, 3, device=lib.device("cpu")).shape) == (2, 3)
        with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu"):
            lib.Tensor(2, device="cuda")


def test_a_0d_index_gathers_and_scatters_one_element_of_a_1d_tensor():
    """The quickstart tutorial's one-hot target: ``zeros(10).scatter_(0, torch.tensor(y), value=1)``."""
    for lib in (chainrule, torch):
        assert lib.zeros(5).scatter_(0, lib.tensor(3), value=1).tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]
        assert lib.zeros(5).scatter_add(0, lib.tensor(1), lib.tensor(2.0)).tolist() == [0.0, 2.0, 0.0, 0.0, 0.0]
        x = lib.arange(5.0, requires_grad=True)
        picked = x.gather(0, lib.tensor(2))
        picked.backward()
        assert picked.shape == () and picked.item() == 2.0 and x.grad.tolist() == [0.0, 0.0, 1.0, 0.0, 0.0]
        with pytest.raises(RuntimeError, match="Index tensor must have the same number of dimensions"):
            lib.zeros(2, 3).gather(0, lib.tensor(1))


@pytest.mark.parametrize("product", [
    lambda lib: lib.rand(2, 2) @ lib.rand(2, 2).half(),
    lambda lib: lib.rand(2) @ lib.rand(2).double(),
    lambda lib: lib.bmm(lib.rand(1, 2, 2), lib.rand(1, 2, 2).double()),
    lambda lib: lib.nn.functional.linear(lib.rand(2, 2).double(), lib.rand(2, 2), lib.rand(2).double()),
    lambda lib: lib.nn.functional.linear(lib.rand(3, 2, 2).double(), lib.rand(2, 2)),
])
def test_products_of_two_dtypes_are_refused_in_pytorch_words(product):
    """EffectivePyTorch's mixed-precision section prints ``x @ y`` of float32 and float16."""
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError) as raised:
            product(lib)
        messages.append(str(raised.value))
    assert messages[0].startswith(messages[1]) and "convert one first" in messages[0]


def test_pad_packed_sequence_batch_first_is_a_transposed_view():
    """sgrvinod's LM-LSTM-CRF applies dropout to it: the mask follows the (T, B, *) memory."""
    results = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        packed = lib.nn.utils.rnn.pack_padded_sequence(lib.randn(3, 4, 5, requires_grad=True), [4, 3, 2], batch_first=True)
        padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True)
        lib.manual_seed(1)
        dropped = lib.nn.functional.dropout(padded, 0.5)
        results.append((padded.stride(), padded.is_contiguous(), padded.grad_fn.name(), lengths.tolist(), dropped.detach().numpy()))
    assert results[0][:4] == results[1][:4] == ((5, 15, 1), False, "TransposeBackward0", [4, 3, 2])
    np.testing.assert_array_equal(results[0][4], results[1][4])


@pytest.mark.parametrize("call", [
    lambda lib: lib.ones(2, 3) @ lib.ones(4, 2),
    lambda lib: lib.ones(2, 3, 4) @ lib.ones(5, 2),
    lambda lib: lib.ones(3) @ lib.ones(4),
    lambda lib: lib.ones(2, 3) @ lib.ones(4),
    lambda lib: lib.ones(2, 2, 3) @ lib.ones(2, 4, 2),
    lambda lib: lib.ones(2, 2, 3) @ lib.ones(3, 3, 2),
    lambda lib: lib.nn.Linear(10, 5)(lib.randn(4, 8)),
    lambda lib: lib.ones(2, 3).t().view(-1),
    lambda lib: lib.ones(2, dtype=lib.int64).requires_grad_(),
])
def test_common_errors_say_pytorch_words_first(call):
    """The errors course notebooks print (Heaton's debugging class): PyTorch's message, then advice."""
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError) as raised:
            call(lib)
        messages.append(str(raised.value))
    assert messages[0].startswith(messages[1]) and len(messages[0]) > len(messages[1])


@pytest.mark.parametrize("make", [
    lambda lib, a: lib.tensor(a),
    lambda lib, a: lib.tensor(a, dtype=lib.float32),
    lambda lib, a: lib.FloatTensor(a),
    lambda lib, a: lib.Tensor(a),
    lambda lib, a: lib.from_numpy(a),
    lambda lib, a: lib.as_tensor(a),
    lambda lib, a: lib.tensor(lib.from_numpy(a)),
])
@pytest.mark.parametrize("array", [
    np.arange(6.0).reshape(2, 3).T,
    np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),
    np.arange(12.0).reshape(3, 4)[:, ::2],
])
def test_a_tensor_made_from_an_array_keeps_its_layout(make, array):
    """Grokking Deep RL's A2C: ``torch.FloatTensor(returns.T[:-1]).view(-1)`` fails in PyTorch, whose
    constructors copy a NumPy array laid out as it is (``returns.T`` stays transposed): the strides,
    contiguity and view error are PyTorch's."""
    outcomes = []
    for lib in (chainrule, torch):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            made = make(lib, array)
        try:
            made.view(-1)
            viewable = True
        except RuntimeError:
            viewable = False
        outcomes.append((made.stride(), made.is_contiguous(), viewable, made.tolist()))
    assert outcomes[0] == outcomes[1]


def test_a_tensor_copied_from_a_result_laid_out_by_numpy_is_row_major_as_pytorchs():
    """``tensor(s)`` of a softmax of a permuted tensor (PyTorch lays the softmax out row-major; NumPy
    may not) is row-major, and a view of it writes through, as in PyTorch."""
    outcomes = []
    for lib in (chainrule, torch):
        lib.manual_seed(0)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tensor(a tensor): PyTorch's advice to clone
            copied = lib.tensor(lib.randn(5, 3, 4).permute(1, 0, 2).softmax(-1))
        copied.view(-1)[0] = 123.0
        outcomes.append((copied.stride(), copied.is_contiguous(), copied.reshape(-1)[0].item()))
    assert outcomes[0] == outcomes[1]
