"""A differential test of chainrule.nn's layers against PyTorch's with options off their defaults.

Each case builds a layer in both libraries after the same ``manual_seed`` (so the weights are the
same, which is checked first), feeds both the same NumPy inputs (float64 for tight comparisons,
float32 within tolerance), calls it (through ``call`` where the call needs keywords), and
backpropagates one fixed random weighted sum of every floating output. Compared: the structure of
what comes back (tuples, hidden states, shapes, dtypes), the outputs, the input and parameter
gradients, the buffers afterwards (running statistics, batch counts) and, for bad input, the
exception's type. The last tests pin the differences this comparison found and that were fixed.
"""
import warnings

import numpy as np
import pytest
import torch

import chainrule

RANDOM = np.random.RandomState(0)


def normal(*shape):
    return RANDOM.randn(*shape)


def positive(*shape):
    return np.abs(RANDOM.randn(*shape)) + 0.1


def as_library_values(lib, value, dtype):
    """NumPy inputs as ``lib``'s tensors: floating ones in ``dtype``, requiring grad."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            return lib.tensor(value.astype(dtype)).requires_grad_(True)
        return lib.tensor(value)
    if isinstance(value, (list, tuple)):
        return type(value)(as_library_values(lib, item, dtype) for item in value)
    if isinstance(value, dict):
        return {key: as_library_values(lib, item, dtype) for key, item in value.items()}
    return value


def flattened(value):
    """The tensors (and Nones) in a nest of tuples, a PackedSequence read as its fields."""
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flattened(item)]
    return [value]


def structure(value):
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [structure(item) for item in value]
    if value is None:
        return None
    return tuple(value.shape), str(value.dtype).split(".")[-1]


def as_array(value):
    return None if value is None else value.detach().numpy()


def run(lib, build, inputs, dtype, call, train):
    """Everything one library's layer gives for ``inputs``: an exception's type, or the outputs,
    parameters, gradients and buffers as NumPy arrays."""
    lib.manual_seed(0)
    module = build(lib.nn, lib)
    if dtype == np.float64:
        module = module.double()
    module.train(train)
    values = as_library_values(lib, inputs, dtype)
    try:
        output = call(module, values, lib) if call else module(*values)
    except Exception as error:  # the type is compared with PyTorch's
        return {"error": type(error).__name__, "message": str(error)}
    outputs = flattened(output)
    weights = np.random.RandomState(123)
    loss = None
    for item in outputs:
        if item is not None and item.dtype.is_floating_point and item.requires_grad:
            term = (item * lib.tensor(np.asarray(weights.randn(*item.shape)).astype(dtype))).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    return {
        "structure": structure(output),
        "outputs": [as_array(item) for item in outputs],
        "parameters": {name: as_array(p) for name, p in module.named_parameters()},
        "parameter_grads": {name: as_array(p.grad) for name, p in module.named_parameters()},
        "buffers": {name: as_array(b) for name, b in module.named_buffers()},
        "input_grads": [as_array(x.grad) for x in flattened(values) if getattr(x, "requires_grad", False)],
    }


def assert_arrays_close(expected, actual, tolerance, what):
    if expected is None or actual is None:
        assert expected is None and actual is None, what
        return
    assert expected.shape == actual.shape, what
    assert expected.dtype == actual.dtype, what
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance, equal_nan=True, err_msg=what)


def assert_same_as_torch(build, inputs, dtype=np.float64, call=None, train=True):
    tolerance = 1e-8 if dtype == np.float64 else 2e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = run(torch, build, inputs, dtype, call, train)
        actual = run(chainrule, build, inputs, dtype, call, train)
    if "error" in expected or "error" in actual:
        assert actual.get("error") == expected.get("error"), (expected.get("message"), actual.get("message"))
        return
    assert actual["structure"] == expected["structure"]
    assert list(actual["parameters"]) == list(expected["parameters"])
    for name, value in expected["parameters"].items():
        assert_arrays_close(value, actual["parameters"][name], 1e-12 if dtype == np.float64 else 1e-6, f"parameter {name}")
    for index, (value, got) in enumerate(zip(expected["outputs"], actual["outputs"])):
        assert_arrays_close(value, got, tolerance, f"output {index}")
    for index, (value, got) in enumerate(zip(expected["input_grads"], actual["input_grads"])):
        assert_arrays_close(value, got, tolerance, f"gradient of input {index}")
    for name, value in expected["parameter_grads"].items():
        assert_arrays_close(value, actual["parameter_grads"][name], tolerance, f"gradient of {name}")
    assert list(actual["buffers"]) == list(expected["buffers"])
    for name, value in expected["buffers"].items():
        assert_arrays_close(value, actual["buffers"][name], tolerance, f"buffer {name}")


def with_keywords(**fixed):
    """A call passing the last input (a dict) as keywords, with ``fixed`` ones."""

    def call(module, values, lib):
        keywords = values[-1] if isinstance(values[-1], dict) else {}
        positional = values[:-1] if isinstance(values[-1], dict) else values
        return module(*positional, **fixed, **keywords)

    return call


def functional(name, *args, **keywords):
    """A call of ``lib.nn.functional.<name>`` on the inputs (the layer built is an Identity)."""
    return lambda module, values, lib: getattr(lib.nn.functional, name)(*values, *args, **keywords)


def packed(lengths, batch_first=False, total_length=None):
    """pack_padded_sequence(enforce_sorted=False) -> the recurrent layer -> pad_packed_sequence."""

    def call(module, values, lib):
        rnn_utils = lib.nn.utils.rnn
        sequence = rnn_utils.pack_padded_sequence(values[0], lib.tensor(lengths), batch_first=batch_first, enforce_sorted=False)
        output, hidden = module(sequence, *values[1:])
        padded, output_lengths = rnn_utils.pad_packed_sequence(output, batch_first=batch_first, total_length=total_length)
        return padded, output_lengths, hidden, output.data, output.batch_sizes, output.unsorted_indices

    return call


def in_modes(*steps):
    """Call the layer on input i in training (True) or evaluation (False) mode, in turn."""

    def call(module, values, lib):
        outputs = []
        for training, index in steps:
            module.train(training)
            outputs.append(module(values[index]))
        return tuple(outputs)

    return call


IDENTITY = lambda nn, lib: nn.Identity()  # noqa: E731
E, N, L, S = 8, 2, 4, 5
KEY_PADDING = np.array([[False, False, True, False, True], [False, True, False, False, False]])
CAUSAL = np.triu(np.full((S, S), -np.inf), 1)

CASES = {
    # convolutions
    "conv1d_stride_dilation": (lambda nn, lib: nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2), [normal(2, 4, 11)], {}),
    "conv1d_same_even_kernel": (lambda nn, lib: nn.Conv1d(4, 6, 4, padding="same", dilation=2), [normal(2, 4, 11)], {}),
    "conv1d_unbatched_valid": (lambda nn, lib: nn.Conv1d(4, 6, 3, padding="valid"), [normal(4, 11)], {}),
    "conv2d_reflect_strided": (lambda nn, lib: nn.Conv2d(4, 6, 3, padding=(1, 2), padding_mode="reflect", stride=2), [normal(2, 4, 7, 8)], {}),
    "conv2d_circular_same": (lambda nn, lib: nn.Conv2d(4, 6, (3, 4), padding="same", padding_mode="circular"), [normal(2, 4, 7, 8)], {}),
    "conv2d_depthwise": (lambda nn, lib: nn.Conv2d(4, 8, 3, groups=4, dilation=(2, 1)), [normal(2, 4, 7, 8)], {}),
    "conv2d_groups_no_bias": (lambda nn, lib: nn.Conv2d(4, 6, 3, groups=2, bias=False), [normal(2, 4, 7, 8)], {}),
    "conv2d_wrong_channels": (lambda nn, lib: nn.Conv2d(3, 2, 3), [normal(1, 4, 6, 6)], {}),
    "conv2d_kernel_too_large": (lambda nn, lib: nn.Conv2d(3, 2, 5), [normal(1, 3, 3, 3)], {}),
    "conv2d_empty_batch": (lambda nn, lib: nn.Conv2d(3, 4, 3, padding=1), [normal(0, 3, 5, 5)], {}),
    "conv2d_depthwise_empty_batch": (lambda nn, lib: nn.Conv2d(3, 6, 3, groups=3), [normal(0, 3, 5, 5)], {}),
    "conv3d_replicate_unbatched": (lambda nn, lib: nn.Conv3d(2, 4, 3, padding=1, padding_mode="replicate"), [normal(2, 4, 5, 6)], {}),
    "conv_transpose1d_output_padding": (lambda nn, lib: nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1), [normal(2, 4, 5)], {}),
    "conv_transpose2d_groups": (lambda nn, lib: nn.ConvTranspose2d(4, 6, 3, stride=(2, 3), padding=(1, 0), output_padding=(1, 2), groups=2, bias=False), [normal(2, 4, 5, 4)], {}),
    "conv_transpose2d_output_size": (lambda nn, lib: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1), [normal(2, 4, 5, 4)], {"call": lambda m, x, lib: m(x[0], output_size=[10, 8])}),
    "conv_transpose2d_output_size_unbatched": (lambda nn, lib: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1), [normal(4, 5, 4)], {"call": lambda m, x, lib: m(x[0], output_size=[10, 8])}),
    "conv_transpose2d_bad_output_size": (lambda nn, lib: nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1), [normal(2, 4, 5, 4)], {"call": lambda m, x, lib: m(x[0], output_size=[12, 8])}),
    "conv_transpose2d_empty_batch": (lambda nn, lib: nn.ConvTranspose2d(4, 6, 3, stride=2, output_padding=1, groups=2), [normal(0, 4, 3, 3)], {}),
    "conv_transpose3d_unbatched": (lambda nn, lib: nn.ConvTranspose3d(2, 4, 2, stride=2, output_padding=1, groups=2), [normal(2, 3, 3, 2)], {}),
    # pooling
    "max_pool1d_ceil_dilation": (lambda nn, lib: nn.MaxPool1d(3, stride=2, padding=1, dilation=2, ceil_mode=True), [normal(2, 3, 12)], {}),
    "max_pool2d_indices_unbatched": (lambda nn, lib: nn.MaxPool2d(2, return_indices=True, dilation=2), [normal(3, 7, 8)], {}),
    "max_pool3d_indices": (lambda nn, lib: nn.MaxPool3d(2, stride=1, padding=1, return_indices=True), [normal(1, 2, 3, 4, 5)], {}),
    "avg_pool2d_divisor": (lambda nn, lib: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, divisor_override=2), [normal(2, 3, 7, 8)], {}),
    "avg_pool2d_exclude_padding": (lambda nn, lib: nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), [normal(3, 7, 8)], {}),
    "lp_pool2d": (lambda nn, lib: nn.LPPool2d(1.5, (2, 3), stride=2, ceil_mode=True), [positive(2, 3, 7, 8)], {}),
    "adaptive_max_pool2d_none": (lambda nn, lib: nn.AdaptiveMaxPool2d((3, None), return_indices=True), [normal(2, 3, 7, 8)], {}),
    "fractional_max_pool2d": (lambda nn, lib: nn.FractionalMaxPool2d(2, output_ratio=0.6, return_indices=True), [normal(2, 3, 8, 9)], {}),
    "max_pool2d_padding_too_large": (lambda nn, lib: nn.MaxPool2d(2, padding=2), [normal(1, 2, 6, 6)], {}),
    # batch norm
    "batch_norm1d_cumulative": (lambda nn, lib: nn.BatchNorm1d(3, momentum=None), [normal(4, 3), normal(5, 3), normal(2, 3)], {"call": in_modes((True, 0), (True, 1), (False, 2), (True, 2))}),
    "batch_norm1d_3d_input": (lambda nn, lib: nn.BatchNorm1d(4, momentum=0.3, eps=1e-3), [normal(5, 4, 6)], {}),
    "batch_norm2d_no_affine_eval": (lambda nn, lib: nn.BatchNorm2d(4, affine=False), [normal(3, 4, 2, 3)], {"train": False}),
    "batch_norm2d_untracked_eval": (lambda nn, lib: nn.BatchNorm2d(4, track_running_stats=False), [normal(3, 4, 2, 3)], {"train": False}),
    "batch_norm3d": (lambda nn, lib: nn.BatchNorm3d(2, momentum=None), [normal(2, 2, 2, 3, 2)], {}),
    "batch_norm1d_one_value": (lambda nn, lib: nn.BatchNorm1d(4), [normal(1, 4)], {}),
    "batch_norm2d_wrong_dims": (lambda nn, lib: nn.BatchNorm2d(4), [normal(4, 2, 2)], {}),
    "batch_norm2d_float32": (lambda nn, lib: nn.BatchNorm2d(4), [normal(2, 4, 3, 3)], {"dtype": np.float32}),
    # other norms
    "layer_norm_tuple": (lambda nn, lib: nn.LayerNorm((3, 4), eps=1e-3), [normal(2, 5, 3, 4)], {}),
    "layer_norm_no_affine": (lambda nn, lib: nn.LayerNorm(4, elementwise_affine=False), [normal(2, 5, 4)], {}),
    "layer_norm_no_bias": (lambda nn, lib: nn.LayerNorm([4], bias=False), [normal(2, 5, 4)], {}),
    "layer_norm_wrong_shape": (lambda nn, lib: nn.LayerNorm((3, 4)), [normal(2, 4, 3)], {}),
    "group_norm": (lambda nn, lib: nn.GroupNorm(2, 6, eps=1e-3), [normal(3, 6, 4, 2)], {}),
    "group_norm_unbatched_no_affine": (lambda nn, lib: nn.GroupNorm(3, 6, affine=False), [normal(6, 5)], {}),
    "instance_norm1d_tracked": (lambda nn, lib: nn.InstanceNorm1d(3, track_running_stats=True, affine=True, momentum=None), [normal(4, 3, 5), normal(2, 3, 4)], {"call": in_modes((True, 0), (True, 1), (False, 0))}),
    "instance_norm2d_unbatched": (lambda nn, lib: nn.InstanceNorm2d(4), [normal(4, 3, 3)], {}),
    "local_response_norm": (lambda nn, lib: nn.LocalResponseNorm(3, alpha=1e-2, beta=0.5, k=2.0), [normal(2, 5, 4, 3)], {}),
    "rms_norm_eps_none": (lambda nn, lib: nn.RMSNorm([2, 3], eps=None), [normal(4, 2, 3) * 1e-9], {}),
    # embeddings
    "embedding_padding_idx": (lambda nn, lib: nn.Embedding(10, 3, padding_idx=2), [np.array([[1, 2, 0, 4], [4, 3, 2, 9]])], {}),
    "embedding_max_norm": (lambda nn, lib: nn.Embedding(10, 3, max_norm=1.0, norm_type=1.0), [np.array([[1, 2, 0, 4], [4, 3, 2, 9]])], {}),
    "embedding_out_of_range": (lambda nn, lib: nn.Embedding(10, 3), [np.array([10])], {}),
    "embedding_bag_max_offsets": (lambda nn, lib: nn.EmbeddingBag(10, 3, mode="max", include_last_offset=True), [np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 3, 3, 5, 8])], {}),
    "embedding_bag_weights": (lambda nn, lib: nn.EmbeddingBag(10, 3, mode="sum", padding_idx=4), [np.array([1, 2, 4, 5]), np.array([0, 2]), normal(4)], {}),
    # recurrent layers
    "lstm_projected_bidirectional": (lambda nn, lib: nn.LSTM(3, 4, proj_size=2, num_layers=2, bidirectional=True, batch_first=True), [normal(2, 5, 3), (normal(4, 2, 2), normal(4, 2, 4))], {}),
    "lstm_unbatched_initial_state": (lambda nn, lib: nn.LSTM(3, 4, num_layers=2), [normal(5, 3), (normal(2, 4), normal(2, 4))], {}),
    "gru_bidirectional_batch_first": (lambda nn, lib: nn.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True, dropout=0.0), [normal(2, 5, 3)], {}),
    "rnn_relu_no_bias": (lambda nn, lib: nn.RNN(3, 4, nonlinearity="relu", num_layers=2, bias=False), [normal(5, 2, 3), normal(2, 2, 4)], {}),
    "rnn_wrong_input_size": (lambda nn, lib: nn.RNN(3, 4), [normal(5, 2, 4)], {}),
    "lstm_packed": (lambda nn, lib: nn.LSTM(3, 4, num_layers=2, bidirectional=True), [normal(5, 3, 3)], {"call": packed([3, 5, 2], total_length=6)}),
    "lstm_projected_packed": (lambda nn, lib: nn.LSTM(3, 4, proj_size=2, bidirectional=True), [normal(5, 3, 3)], {"call": packed([3, 5, 2])}),
    "gru_packed_batch_first_state": (lambda nn, lib: nn.GRU(3, 4, batch_first=True, bidirectional=True), [normal(3, 5, 3), normal(2, 3, 4)], {"call": packed([3, 5, 2], batch_first=True)}),
    "lstm_cell": (lambda nn, lib: nn.LSTMCell(3, 4), [normal(2, 3), (normal(2, 4), normal(2, 4))], {}),
    "gru_cell_unbatched": (lambda nn, lib: nn.GRUCell(3, 4, bias=False), [normal(3)], {}),
    "rnn_cell_relu": (lambda nn, lib: nn.RNNCell(3, 4, nonlinearity="relu"), [normal(2, 3), normal(2, 4)], {}),
    # attention
    "mha_masks": (lambda nn, lib: nn.MultiheadAttention(E, 2), [normal(L, N, E), normal(S, N, E), normal(S, N, E), {"attn_mask": normal(L, S), "key_padding_mask": KEY_PADDING}], {"call": with_keywords()}),
    "mha_3d_bool_mask_per_head": (lambda nn, lib: nn.MultiheadAttention(E, 2), [normal(L, N, E), normal(S, N, E), normal(S, N, E), {"attn_mask": RANDOM.rand(2 * N, L, S) > 0.7}], {"call": with_keywords(average_attn_weights=False)}),
    "mha_float_key_padding": (lambda nn, lib: nn.MultiheadAttention(E, 2, batch_first=True), [normal(N, L, E), normal(N, S, E), normal(N, S, E), {"key_padding_mask": np.where(KEY_PADDING, -1e9, 0.0)}], {"call": with_keywords()}),
    "mha_kdim_vdim_bias_kv_zero_attn": (lambda nn, lib: nn.MultiheadAttention(E, 2, kdim=5, vdim=3, add_bias_kv=True, add_zero_attn=True, bias=False), [normal(L, N, E), normal(S, N, 5), normal(S, N, 3), {"key_padding_mask": KEY_PADDING}], {"call": with_keywords()}),
    "mha_causal_no_weights": (lambda nn, lib: nn.MultiheadAttention(E, 2), [normal(S, N, E)] * 3 + [{"attn_mask": np.triu(np.ones((S, S), bool), 1)}], {"call": with_keywords(is_causal=True, need_weights=False)}),
    "mha_unbatched": (lambda nn, lib: nn.MultiheadAttention(E, 2), [normal(L, E), normal(S, E), normal(S, E), {"key_padding_mask": KEY_PADDING[0]}], {"call": with_keywords()}),
    "mha_eval_fast_path": (lambda nn, lib: nn.MultiheadAttention(E, 2, batch_first=True), [normal(N, S, E)] * 3 + [{"key_padding_mask": KEY_PADDING}], {"call": with_keywords(need_weights=False), "train": False}),
    "mha_wrong_mask_shape": (lambda nn, lib: nn.MultiheadAttention(E, 2), [normal(L, N, E), normal(S, N, E), normal(S, N, E), {"attn_mask": normal(3, L, S)}], {"call": with_keywords()}),
    "sdpa_gqa_causal_scale": (IDENTITY, [normal(2, 4, 5, 6), normal(2, 2, 7, 6), normal(2, 2, 7, 3)], {"call": functional("scaled_dot_product_attention", is_causal=True, scale=0.3, enable_gqa=True)}),
    "sdpa_bool_mask": (IDENTITY, [normal(2, 4, 5, 6), normal(2, 4, 7, 6), normal(2, 4, 7, 3), {"attn_mask": RANDOM.rand(5, 7) > 0.3}], {"call": lambda m, x, lib: lib.nn.functional.scaled_dot_product_attention(*x[:3], **x[3])}),
    # transformers
    "encoder_layer_norm_first_gelu_masks": (lambda nn, lib: nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, activation="gelu", norm_first=True), [normal(S, N, E), {"src_mask": CAUSAL, "src_key_padding_mask": KEY_PADDING}], {"call": with_keywords()}),
    "encoder_layer_callable_activation": (lambda nn, lib: nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, activation=lib.nn.functional.gelu), [normal(S, N, E)], {}),
    "encoder_fast_path_nested": (lambda nn, lib: nn.TransformerEncoder(nn.TransformerEncoderLayer(E, 2, 16, batch_first=True), 2), [normal(N, S, E), {"src_key_padding_mask": KEY_PADDING}], {"call": with_keywords(), "train": False}),
    "decoder_layer_masks_batch_first": (lambda nn, lib: nn.TransformerDecoderLayer(E, 2, 16, dropout=0.0, batch_first=True), [normal(N, L, E), normal(N, S, E), {"tgt_mask": np.triu(np.full((L, L), -np.inf), 1), "tgt_is_causal": True, "memory_key_padding_mask": KEY_PADDING}], {"call": with_keywords()}),
    "transformer_square_mask": (lambda nn, lib: nn.Transformer(E, 2, 2, 1, 16, dropout=0.0), [normal(S, N, E), normal(L, N, E)], {"call": lambda m, x, lib: (m(x[0], x[1], tgt_mask=m.generate_square_subsequent_mask(L)), m.generate_square_subsequent_mask(L))}),
    # reshaping and other layers
    "pixel_shuffle_5d": (lambda nn, lib: nn.PixelShuffle(2), [normal(2, 2, 8, 3, 4)], {}),
    "upsample_bicubic_align": (lambda nn, lib: nn.Upsample(scale_factor=1.7, mode="bicubic", align_corners=True), [normal(2, 3, 4, 5)], {}),
    "upsample_trilinear": (lambda nn, lib: nn.Upsample(scale_factor=(2, 1.5, 1), mode="trilinear"), [normal(1, 2, 3, 4, 2)], {}),
    "fold": (lambda nn, lib: nn.Fold((6, 7), (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)), [normal(2, 18, 28)], {}),
    "unfold_unbatched": (lambda nn, lib: nn.Unfold(2), [normal(3, 4, 4)], {}),
    "unflatten": (lambda nn, lib: nn.Unflatten(-1, (2, -1)), [normal(2, 3, 4)], {}),
    "bilinear_unbatched": (lambda nn, lib: nn.Bilinear(3, 4, 5), [normal(3), normal(4)], {}),
    "prelu_channels": (lambda nn, lib: nn.PReLU(4, init=0.2), [normal(2, 4, 3)], {}),
    "softmax2d_unbatched": (lambda nn, lib: nn.Softmax2d(), [normal(3, 4, 5)], {}),
    "cosine_similarity": (lambda nn, lib: nn.CosineSimilarity(dim=0, eps=1e-3), [normal(4, 5), normal(4, 1)], {}),
    "pairwise_distance": (lambda nn, lib: nn.PairwiseDistance(p=1.5, eps=1e-4, keepdim=True), [normal(4, 5), normal(4, 5)], {}),
    "identity_arguments": (lambda nn, lib: nn.Identity(3, foo=4), [normal(2, 3)], {}),
    "adaptive_log_softmax": (lambda nn, lib: nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 12], div_value=2.0, head_bias=True), [normal(6, 8), np.array([0, 4, 5, 11, 12, 19])], {"call": lambda m, x, lib: (*m(*x), m.log_prob(x[0]), m.predict(x[0]))}),
    "reflection_pad3d": (lambda nn, lib: nn.ReflectionPad3d((1, 2, 3, 0, 2, 1)), [normal(1, 2, 4, 5, 6)], {}),
    "circular_pad2d_negative": (lambda nn, lib: nn.CircularPad2d((-1, 2, -1, 2)), [normal(2, 3, 5, 6)], {}),
    # losses
    "cross_entropy_weight_smoothing_ignore": (lambda nn, lib: nn.CrossEntropyLoss(weight=lib.tensor([1.0, 2.0, 0.5, 1.5]), ignore_index=1, label_smoothing=0.2), [normal(2, 4, 3, 2), RANDOM.randint(0, 4, (2, 3, 2))], {}),
    "cross_entropy_probabilities": (lambda nn, lib: nn.CrossEntropyLoss(reduction="none", label_smoothing=0.1), [normal(6, 4), RANDOM.dirichlet(np.ones(4), 6)], {}),
    "nll_loss_weight_sum": (lambda nn, lib: nn.NLLLoss(weight=lib.tensor([1.0, 2.0, 0.5, 1.5]), reduction="sum", ignore_index=2), [normal(6, 4), np.array([0, 3, 1, 2, 3, 1])], {}),
    "bce_with_logits_pos_weight": (lambda nn, lib: nn.BCEWithLogitsLoss(weight=lib.tensor([1.0, 2.0, 0.5, 1.5]), pos_weight=lib.tensor([[3.0], [0.5], [1.0], [2.0]])), [normal(2, 4, 3), RANDOM.rand(2, 4, 3)], {}),
    "huber_none": (lambda nn, lib: nn.HuberLoss(reduction="none", delta=0.7), [normal(6, 4), normal(6, 4)], {}),
    "kl_div_log_target": (lambda nn, lib: nn.KLDivLoss(reduction="batchmean", log_target=True), [normal(6, 4), normal(6, 4)], {}),
    "cross_entropy_target_out_of_range": (lambda nn, lib: nn.CrossEntropyLoss(), [normal(6, 4), np.array([0, 4, 1, 2, 3, 1])], {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_layer_matches_pytorch_in_float64(name):
    build, inputs, options = CASES[name]
    assert_same_as_torch(build, inputs, **options)


@pytest.mark.parametrize("name", [name for name in CASES if "float32" not in name])
def test_layer_matches_pytorch_in_float32(name):
    build, inputs, options = CASES[name]
    options = {key: value for key, value in options.items() if key != "dtype"}
    assert_same_as_torch(build, inputs, dtype=np.float32, **options)


# ----------------------------------------------------------------------------- the fixed differences
NORMALIZATIONS = {
    "batch_norm": (lambda nn: nn.BatchNorm1d(3), (4, 3)),
    "batch_norm_no_affine": (lambda nn: nn.BatchNorm1d(3, affine=False), (4, 3)),
    "batch_norm_untracked": (lambda nn: nn.BatchNorm1d(3, track_running_stats=False), (4, 3)),
    "layer_norm": (lambda nn: nn.LayerNorm(3), (4, 3)),
    "layer_norm_no_bias": (lambda nn: nn.LayerNorm(3, bias=False), (4, 3)),
    "group_norm": (lambda nn: nn.GroupNorm(1, 3), (4, 3)),
    "instance_norm_affine": (lambda nn: nn.InstanceNorm1d(3, affine=True), (4, 3, 2)),
    "instance_norm_tracked": (lambda nn: nn.InstanceNorm1d(3, track_running_stats=True), (4, 3, 2)),
}


def outcome(lib, make, input, training, double):
    """The output's dtype, or the exception's type, of a normalization layer."""
    lib.manual_seed(0)
    module = make(lib.nn).train(training)
    module = module.double() if double else module
    try:
        return str(module(lib.tensor(input)).dtype).split(".")[-1]
    except RuntimeError:
        return "RuntimeError"


@pytest.mark.parametrize("name", list(NORMALIZATIONS))
@pytest.mark.parametrize("input_dtype,double", [(np.float64, False), (np.float16, False), (np.float32, True)])
@pytest.mark.parametrize("training", [True, False])
def test_normalization_parameter_dtypes_follow_pytorch(name, input_dtype, double, training):
    """Mixed dtypes: float64 input to float32 parameters (or the reverse) raise PyTorch's
    RuntimeError; float16 input with float32 parameters gives float16 output."""
    make, shape = NORMALIZATIONS[name]
    input = np.random.RandomState(1).randn(*shape).astype(input_dtype)
    assert outcome(chainrule, make, input, training, double) == outcome(torch, make, input, training, double)


def test_normalization_mixed_dtype_message_names_the_fix():
    with pytest.raises(RuntimeError, match=r"mixed dtype \(CPU\): all inputs must share same datatype.*x\.float\(\)"):
        chainrule.nn.LayerNorm(3)(chainrule.tensor(np.ones((2, 3))))


def test_half_precision_layer_norm_gradients_keep_their_dtypes():
    layer = chainrule.nn.LayerNorm(3)
    input = chainrule.tensor(np.random.RandomState(2).randn(4, 3).astype(np.float16), requires_grad=True)
    layer(input).sum().backward()
    assert input.grad.dtype == chainrule.float16 and layer.weight.grad.dtype == chainrule.float32


@pytest.mark.parametrize("make", [lambda nn: nn.BatchNorm1d(3), lambda nn: nn.LayerNorm(3), lambda nn: nn.GroupNorm(3, 3)])
def test_normalizations_pass_gradcheck(make):
    chainrule.manual_seed(0)
    layer = make(chainrule.nn).double()
    input = chainrule.tensor(np.random.RandomState(3).randn(4, 3), requires_grad=True)
    assert chainrule.autograd.gradcheck(lambda x: layer(x), (input,))


@pytest.mark.parametrize(
    "call",
    [
        lambda F, lib: F.conv2d(lib.ones(1, 4, 5, 5), lib.zeros(0, 4, 3, 3)),
        lambda F, lib: F.conv2d(lib.ones(1, 2, 5, 5), lib.zeros(0, 1, 3, 3), groups=2),
        lambda F, lib: F.conv2d(lib.ones(1, 2, 5, 5), lib.zeros(1, 1, 3, 3), groups=2),
        lambda F, lib: F.conv_transpose2d(lib.ones(1, 4, 3, 3), lib.zeros(4, 0, 3, 3)),
    ],
)
def test_convolution_without_output_channels_raises_runtime_error(call):
    with pytest.raises(RuntimeError):
        call(torch.nn.functional, torch)
    with pytest.raises(RuntimeError):
        call(chainrule.nn.functional, chainrule)


@pytest.mark.parametrize(
    "name,args,keywords",
    [
        ("conv1d", ((0, 4, 9), (6, 2, 3)), {"groups": 2, "stride": 2}),
        ("conv2d", ((0, 4, 6, 5), (8, 1, 3, 3)), {"groups": 4, "padding": 1}),
        ("conv3d", ((0, 2, 3, 3, 3), (4, 2, 2, 2, 2)), {}),
        ("conv_transpose1d", ((0, 4, 5), (4, 1, 3)), {"groups": 4}),
        ("conv_transpose2d", ((0, 4, 3, 3), (4, 3, 3, 2)), {"stride": 2, "padding": 1, "output_padding": 1}),
    ],
)
def test_convolution_of_an_empty_batch_is_empty_with_zero_gradients(name, args, keywords):
    assert_same_as_torch(IDENTITY, [normal(*args[0]), normal(*args[1]), normal(args[1][0] if "transpose" not in name else args[1][1] * keywords.get("groups", 1))], call=functional(name, **keywords))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float16"])
@pytest.mark.parametrize("name", ["unfold", "fold"])
def test_fold_and_unfold_take_the_dtypes_pytorch_takes(name, dtype):
    def outcome(lib):
        input = lib.ones(1, 1, 4, 4, dtype=getattr(lib, dtype))
        try:
            if name == "unfold":
                return tuple(lib.nn.functional.unfold(input, 2).shape)
            return tuple(lib.nn.functional.fold(input.reshape(1, 4, 4), 3, 2).shape)
        except NotImplementedError:
            return "NotImplementedError"

    assert outcome(chainrule) == outcome(torch)


# PyTorch's inference kernels (evaluation, no gradient wanted) compute the softmax themselves: a
# query whose keys are all masked gets NaN there, where the other paths without weights give zeros.
FULLY_PADDED = np.array([[True] * 5, [False, False, False, True, True]])
MASKED_ROW = np.zeros((5, 5), bool)
MASKED_ROW[2] = True


def inference_outputs(lib, make, call_keywords, wants_gradient):
    lib.manual_seed(0)
    layer = make(lib.nn, lib).eval()
    x = lib.tensor(np.random.RandomState(1).randn(2, 5, 8).astype(np.float32))
    keywords = {
        name: lib.tensor(value.astype(np.float32) if value.dtype.kind == "f" else value) if isinstance(value, np.ndarray) else value
        for name, value in call_keywords.items()
    }
    with lib.enable_grad() if wants_gradient else lib.no_grad():
        output = layer(x, x, x, **keywords) if isinstance(layer, lib.nn.MultiheadAttention) else layer(x, **keywords)
    return [None if item is None else item.detach().numpy() for item in (output if isinstance(output, tuple) else (output,))]


@pytest.mark.parametrize("wants_gradient", [False, True])
@pytest.mark.parametrize(
    "make,call_keywords",
    [
        (lambda nn, lib: nn.MultiheadAttention(8, 2, batch_first=True), {"key_padding_mask": FULLY_PADDED, "need_weights": False}),
        (lambda nn, lib: nn.MultiheadAttention(8, 2, batch_first=True), {"attn_mask": MASKED_ROW, "need_weights": False}),
        (lambda nn, lib: nn.MultiheadAttention(8, 2, batch_first=True), {"key_padding_mask": np.where(FULLY_PADDED, -np.inf, 0.0), "need_weights": False}),
        (lambda nn, lib: nn.MultiheadAttention(8, 2, batch_first=True, bias=False), {"key_padding_mask": FULLY_PADDED, "need_weights": False}),
        (lambda nn, lib: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), {"src_key_padding_mask": FULLY_PADDED}),
        (lambda nn, lib: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), {"src_key_padding_mask": np.where(FULLY_PADDED, -np.inf, 0.0)}),
        (lambda nn, lib: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True), {"src_mask": MASKED_ROW}),
        (lambda nn, lib: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, activation=lib.tanh), {"src_key_padding_mask": FULLY_PADDED}),
        (lambda nn, lib: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, layer_norm_eps=1e-3), {"src_key_padding_mask": FULLY_PADDED}),
        (lambda nn, lib: nn.TransformerDecoderLayer(8, 2, 16, batch_first=True), {"memory": np.zeros((2, 4, 8)), "tgt_key_padding_mask": FULLY_PADDED}),
    ],
)
def test_fully_masked_queries_follow_pytorchs_inference_path(make, call_keywords, wants_gradient):
    if "memory" in call_keywords:  # the decoder layer: its memory as a tensor of the library
        call_keywords = dict(call_keywords, memory=np.random.RandomState(2).randn(2, 4, 8))
    expected = inference_outputs(torch, make, call_keywords, wants_gradient)
    actual = inference_outputs(chainrule, make, call_keywords, wants_gradient)
    for want, got in zip(expected, actual):
        assert (want is None) == (got is None)
        if want is not None:
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("padding", [2, (1, 2), "same", "valid"])
def test_reversed_padding_has_pytorchs_type(padding):
    expected = torch.nn.Conv2d(2, 2, 3, padding=padding)._reversed_padding_repeated_twice
    actual = chainrule.nn.Conv2d(2, 2, 3, padding=padding)._reversed_padding_repeated_twice
    assert type(actual) is type(expected) and list(actual) == list(expected)
