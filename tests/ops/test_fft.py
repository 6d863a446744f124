"""chainrule.fft against torch.fft: values, gradients of real losses (PyTorch's convention for
complex numbers), float32 precision, and errors."""
import warnings

import numpy as np
import pytest
import torch

import chainrule


def signal(shape, complex_values, seed=0):
    generator = np.random.default_rng(seed)
    values = generator.normal(size=shape)
    return values + 1j * generator.normal(size=shape) if complex_values else values


def real_loss(lib, output, weights):
    """A real loss every element of the output counts in differently (both parts of a complex one)."""
    weights = lib.tensor(weights)
    if output.is_complex():
        return (lib.view_as_real(output.resolve_conj()) * weights).sum()  # (PyTorch's ihfft is lazily conjugated)
    return (output * weights[..., 0]).sum()


def run(lib, name, array, keywords, weights):
    x = lib.tensor(array, requires_grad=True)
    output = getattr(lib.fft, name)(x, **keywords)
    real_loss(lib, output, weights).backward()
    return output, x.grad


# name, input complex?, shape, keywords
CASES = [
    ("fft", True, (5,), {}),
    ("fft", False, (4,), {"norm": "ortho"}),
    ("fft", True, (3, 4), {"n": 6, "dim": 0, "norm": "forward"}),
    ("fft", True, (3, 4), {"n": 2}),
    ("fft", True, (1,), {}),
    ("ifft", True, (2, 5), {"norm": "backward"}),
    ("ifft", True, (6,), {"n": 4, "norm": "ortho"}),
    ("ifft", False, (6,), {"n": 9, "norm": "forward"}),
    ("fft2", True, (2, 3, 4), {}),
    ("fft2", True, (3, 4), {"s": (5, 2), "norm": "ortho"}),
    ("ifft2", True, (3, 4), {"dim": (0, 1), "norm": "forward"}),
    ("fftn", True, (2, 3, 4), {}),
    ("fftn", True, (2, 3, 4), {"s": (2, -1), "dim": (0, 2)}),
    ("fftn", True, (2, 3, 4), {"s": (3,)}),
    ("ifftn", True, (2, 3, 4), {"dim": (1,), "norm": "ortho"}),
    ("rfft", False, (6,), {}),
    ("rfft", False, (7,), {"norm": "ortho"}),
    ("rfft", False, (3, 5), {"n": 8, "dim": 0, "norm": "forward"}),
    ("rfft", False, (5,), {"n": 3}),
    ("rfft", False, (1,), {}),
    ("irfft", True, (5,), {}),
    ("irfft", True, (4,), {"n": 7, "norm": "ortho"}),
    ("irfft", True, (4, 3), {"n": 4, "dim": 0, "norm": "forward"}),
    ("irfft", True, (6,), {"n": 5}),
    ("irfft", True, (3,), {"n": 12}),
    ("rfft2", False, (3, 4), {}),
    ("rfft2", False, (2, 3, 5), {"s": (4, 6), "norm": "ortho"}),
    ("irfft2", True, (3, 4), {}),
    ("irfft2", True, (3, 4), {"s": (2, 5), "norm": "forward"}),
    ("rfftn", False, (2, 3, 4), {}),
    ("rfftn", False, (2, 3, 4), {"dim": (0, 1), "s": (3, 3)}),
    ("irfftn", True, (2, 3, 4), {}),
    ("irfftn", True, (2, 3, 4), {"dim": (1, 2), "s": (4, 5), "norm": "ortho"}),
    ("hfft", True, (5,), {}),
    ("hfft", True, (4,), {"n": 5, "norm": "ortho"}),
    ("hfft", True, (3, 4), {"n": 8, "dim": 0, "norm": "forward"}),
    ("ihfft", False, (6,), {}),
    ("ihfft", False, (7,), {"n": 4, "norm": "ortho"}),
    ("ihfft", False, (3, 5), {"dim": 0, "norm": "forward"}),
    ("hfft2", True, (3, 4), {}),
    ("hfftn", True, (2, 3, 4), {"s": (3, 6), "norm": "ortho"}),
    ("hfftn", False, (3, 4), {"dim": (0,)}),
    ("ihfft2", False, (3, 4), {"norm": "forward"}),
    ("ihfftn", False, (2, 3, 4), {"dim": (0, 2)}),
    ("fftn", True, (3, 5), {"s": 4, "dim": 0}),
    ("rfftn", False, (3, 5), {"s": 6, "dim": 1}),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{case[0]}-{case[2]}-{case[3]}" for case in CASES])
def test_transforms_and_their_gradients_agree_with_pytorch(case):
    name, complex_values, shape, keywords = case
    array = signal(shape, complex_values)
    expected = getattr(torch.fft, name)(torch.tensor(array), **keywords)
    weights = np.random.default_rng(1).random(tuple(expected.shape) + (2,))
    output, grad = run(chainrule, name, array, keywords, weights)
    expected, expected_grad = run(torch, name, array, keywords, weights)
    assert str(output.dtype).split(".")[1] == str(expected.dtype).split(".")[1]
    np.testing.assert_allclose(output.detach().numpy(), expected.detach().resolve_conj().numpy(), rtol=1e-10, atol=1e-12)
    assert grad.dtype == getattr(chainrule, str(expected_grad.dtype).split(".")[1])
    np.testing.assert_allclose(grad.numpy(), expected_grad.resolve_conj().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["fft", "rfft", "ifft", "irfft", "hfft", "ihfft", "fft2", "rfft2"])
def test_float32_gives_complex64_as_close_to_pytorch_as_rounding_allows(name):
    complex_values = name in ("ifft", "irfft", "hfft")
    array = signal((8, 16), complex_values).astype(np.complex64 if complex_values else np.float32)
    ours = getattr(chainrule.fft, name)(chainrule.tensor(array))
    theirs = getattr(torch.fft, name)(torch.tensor(array))
    assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
    scale = np.abs(theirs.resolve_conj().numpy()).max()
    np.testing.assert_allclose(ours.numpy(), theirs.resolve_conj().numpy(), atol=4e-6 * scale)


def test_integer_input_takes_the_default_float_dtype():
    for lib in (chainrule, torch):
        assert str(lib.fft.fft(lib.arange(4)).dtype).endswith("complex64")
        assert str(lib.fft.rfft(lib.arange(4)).dtype).endswith("complex64")
        assert str(lib.fft.fft(lib.arange(4, dtype=lib.float64)).dtype).endswith("complex128")


def test_the_helpers_agree_with_pytorch():
    for make in [
        lambda lib: lib.fft.fftfreq(5),
        lambda lib: lib.fft.fftfreq(4, d=0.1, dtype=lib.float64),
        lambda lib: lib.fft.rfftfreq(7, 2.0),
        lambda lib: lib.fft.fftshift(lib.arange(10).reshape(2, 5)),
        lambda lib: lib.fft.fftshift(lib.arange(10).reshape(2, 5), dim=1),
        lambda lib: lib.fft.ifftshift(lib.arange(10).reshape(2, 5), dim=(0, 1)),
        lambda lib: lib.fft.ifftshift(lib.fft.fftshift(lib.arange(7))),
    ]:
        ours, theirs = make(chainrule), make(torch)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_a_gradient_recorded_under_create_graph_is_differentiated_again():
    for lib in (chainrule, torch):
        x = lib.tensor(signal((6,), False), requires_grad=True)
        (grad,) = lib.autograd.grad(lib.fft.rfft(x).abs().pow(2).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((grad * grad).sum(), x)
        if lib is chainrule:
            ours = second.numpy()
    np.testing.assert_allclose(ours, second.numpy(), rtol=1e-10)


def test_errors_are_pytorchs():
    actions = [
        lambda lib: lib.fft.fft(lib.ones(0)),
        lambda lib: lib.fft.fft(lib.ones(3), n=0),
        lambda lib: lib.fft.irfft(lib.ones(3) + 0j, n=-1),
        lambda lib: lib.fft.fft(lib.ones(3), norm="x"),
        lambda lib: lib.fft.fft(lib.ones(3), dim=2),
        lambda lib: lib.fft.fft2(lib.ones(3)),
        lambda lib: lib.fft.fftn(lib.ones(3, 3), s=(2,), dim=(0, 1)),
        lambda lib: lib.fft.rfft(lib.ones(3) + 1j),
        lambda lib: lib.fft.fftn(lib.ones(3, 3), dim=(0, 0)),
        lambda lib: lib.fft.irfft(lib.ones(1)),
    ]
    for action in actions:
        kinds = []
        for lib in (chainrule, torch):
            try:
                action(lib)
            except Exception as error:  # noqa: BLE001 (the type is what is compared)
                kinds.append(type(error))
            else:
                kinds.append(None)
        assert kinds[0] is kinds[1] is not None


STFT_CASES = [
    {"n_fft": 8},
    {"n_fft": 8, "hop_length": 3, "win_length": 6, "window": "hann", "normalized": True},
    {"n_fft": 6, "center": False, "onesided": False},
    {"n_fft": 8, "pad_mode": "constant"},
    {"n_fft": 4, "pad_mode": "replicate", "hop_length": 1},
]


def _with_window(lib, keywords, size):
    keywords = dict(keywords)
    if keywords.get("window") == "hann":
        keywords["window"] = lib.hann_window(keywords.get("win_length", size), dtype=lib.float64)
    return keywords


@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize("keywords", STFT_CASES, ids=str)
@pytest.mark.parametrize("shape", [(20,), (2, 17)], ids=str)
def test_stft_and_its_gradient_agree_with_pytorch(keywords, shape):
    array = signal(shape, False)
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(array, requires_grad=True)
        spectrum = lib.stft(x, return_complex=True, **_with_window(lib, keywords, keywords["n_fft"]))
        (lib.view_as_real(spectrum) ** 2 * lib.arange(2.0, dtype=lib.float64)).sum().backward()
        results.append((spectrum.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.filterwarnings("ignore:A window was not provided")
@pytest.mark.parametrize("keywords", [{}, {"hop_length": 2, "length": 19}, {"window": "hann", "normalized": True}, {"center": False}], ids=str)
def test_istft_inverts_stft_and_its_gradient_agrees_with_pytorch(keywords):
    array = signal((2, 20), False)
    results = []
    for lib in (chainrule, torch):
        options = _with_window(lib, keywords, 8)
        stft_options = {name: options[name] for name in ("hop_length", "window", "normalized", "center") if name in options}
        spectrum = lib.stft(lib.tensor(array), 8, return_complex=True, **stft_options).detach().requires_grad_()
        restored = lib.istft(spectrum, 8, **options)
        (restored**2).sum().backward()
        results.append((restored.detach().numpy(), spectrum.grad.resolve_conj().numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    if "length" not in keywords and keywords.get("center", True):
        np.testing.assert_allclose(results[0][0], array, atol=1e-12)


def test_stft_of_a_real_input_asks_for_return_complex_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="return_complex"):
            lib.stft(lib.ones(16), 4)


def test_stft_of_a_complex_input_or_window_returns_complex_numbers_as_pytorch(monkeypatch):
    monkeypatch.setattr(chainrule.caller_warnings, "_given", set())  # the deprecation below is given once per process
    results = []
    for lib in (chainrule, torch):
        signal_values = lib.tensor(signal((40,), True))
        window = lib.hann_window(8, dtype=lib.float64)
        complex_window = window * (1 + 1j)
        outputs = [lib.stft(signal_values, 8, window=window), lib.stft(signal_values.real, 8, window=complex_window)]
        with pytest.warns(UserWarning, match="return_complex=False is deprecated"):
            outputs.append(lib.stft(signal_values, 8, window=window, return_complex=False))
        with pytest.raises(RuntimeError, match="Cannot have onesided output if window or input is complex"):
            lib.stft(signal_values, 8, window=window, onesided=True)
        results.append([(str(each.dtype).split(".")[1], tuple(each.shape), each.resolve_conj().detach().numpy()) for each in outputs])
    for ours, theirs in zip(*results):
        assert ours[:2] == theirs[:2]
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-10, atol=1e-12)


def test_istft_refuses_a_complex_result_of_a_onesided_spectrum_as_pytorch():
    for lib in (torch, chainrule):
        window = lib.hann_window(64)
        spectrum = lib.stft(lib.ones(2, 400), 64, 16, window=window, return_complex=True)
        with pytest.raises(RuntimeError, match="Cannot have onesided output if window or input is complex"):
            lib.istft(spectrum, 64, 16, window=window, return_complex=True)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, size: lib.stft(lib.ones(64), size, return_complex=True),
        lambda lib, size: lib.istft(lib.stft(lib.ones(64), size, window=lib.ones(size), return_complex=True), size),
        lambda lib, size: lib.stft(lib.ones(64), size, window=lib.ones(size), return_complex=False),
    ],
    ids=["stft without a window", "istft without a window", "stft return_complex=False"],
)
def test_stft_and_istft_warn_once_per_process_as_pytorch(call, monkeypatch):
    """PyTorch gives these warnings with TORCH_WARN_ONCE: once in a process, not once per calling line."""
    monkeypatch.setattr(chainrule.caller_warnings, "_given", set())
    counts = {}
    for lib in (chainrule, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call(lib, 8)
            call(lib, 16)
        counts[lib.__name__] = len(caught)
    assert counts["chainrule"] == 1
    assert counts["torch"] <= 1  # 0 where an earlier test of this process gave it already


def _spectrum(lib):
    signal_values = lib.tensor(signal((2, 200), False), dtype=lib.float32)
    return lib.stft(signal_values, 32, 8, window=lib.hann_window(32), return_complex=True)  # (2, 17, 26)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.istft(_spectrum(lib)[:, :10], 32, 8, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib)[:, :10], 32, 8, window=lib.hann_window(32), onesided=False),
        lambda lib: lib.istft(_spectrum(lib)[0, :10], 32, 8, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib)[None], 32, 8, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib)[0, 0], 32, 8, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib)[:, :, :0], 32, 8, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib), 32, 40, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib), 32, 0, window=lib.hann_window(32)),
        lambda lib: lib.istft(_spectrum(lib), 32, 8, win_length=40),
        lambda lib: lib.istft(_spectrum(lib), 32, 8, window=lib.hann_window(16)),
        lambda lib: lib.istft(lib.view_as_real(_spectrum(lib)), 32, 8, window=lib.hann_window(32)),
        lambda lib: lib.stft(lib.arange(100), 16, window=lib.hann_window(16), return_complex=True),
        lambda lib: lib.stft(lib.ones(1, 2, 100, dtype=lib.int64), 16, center=False, return_complex=True),
        lambda lib: lib.stft(lib.ones(100, dtype=lib.bool), 16, window=lib.hann_window(16), return_complex=True),
        lambda lib: lib.stft(lib.ones(1, 2, 100), 16, window=lib.hann_window(16), return_complex=True),
    ],
    ids=[
        "istft onesided frequencies", "istft full frequencies", "istft unbatched frequencies", "istft 4-D",
        "istft 1-D", "istft empty", "istft hop over win_length", "istft hop 0", "istft win_length over n_fft",
        "istft window size", "istft real input", "stft integer signal", "stft integer 3-D signal",
        "stft bool signal", "stft 3-D signal",
    ],
)
def test_stft_and_istft_check_their_arguments_as_pytorch(call):
    """PyTorch's checks in its order: the same exception, and PyTorch's words in ours (its istft once ran
    on any number of frequencies, reading past them)."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(chainrule)
    their_words = str(theirs.value).split(") : ")[-1].split(" (Triggered internally")[0]
    assert their_words.split("\n")[0] in str(ours.value)


def test_istft_takes_an_integer_window_as_pytorch():
    results = []
    for lib in (chainrule, torch):
        restored = lib.istft(_spectrum(lib), 32, 8, window=lib.ones(32, dtype=lib.int64))
        results.append((str(restored.dtype).split(".")[1], restored.numpy()))
    assert results[0][0] == results[1][0] == "float32"
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n_fft, hop_length, win_length", [(16, 4, 8), (15, 4, 6), (16, 4, 16), (16, 5, 7)])
@pytest.mark.parametrize("align_to_window", [True, False, None])
def test_stft_align_to_window_starts_each_frame_at_its_window_as_pytorch(n_fft, hop_length, win_length, align_to_window):
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(signal((2, 40), False), requires_grad=True)
        window = lib.hann_window(win_length, dtype=lib.float64)
        spectrum = lib.stft(x, n_fft, hop_length, win_length, window=window, center=False, return_complex=True, align_to_window=align_to_window)
        spectrum.abs().sum().backward()
        results.append((spectrum.detach().numpy(), x.grad.numpy()))
    frames = 1 + (40 - (win_length if align_to_window else n_fft)) // hop_length
    assert results[0][0].shape == results[1][0].shape == (2, n_fft // 2 + 1, frames)
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_stft_align_to_window_needs_center_false_as_pytorch():
    for lib in (chainrule, torch):
        with pytest.raises(RuntimeError, match="stft align_to_window should only be set when center = false"):
            lib.stft(lib.ones(40), 16, window=lib.hann_window(16), return_complex=True, align_to_window=False)
