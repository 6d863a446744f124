"""Short-time Fourier transforms, ``torch.stft`` and ``torch.istft``, composed of differentiable
operations (padding, framing, the window, rfft/fft; and back: irfft, overlap-add by ``fold``, the
window's squared envelope), in the order PyTorch's SpectralOps.cpp computes them, so that values
and gradients follow from theirs.

    input (B?, L) -> stft -> (B?, n_fft // 2 + 1, frames) complex (onesided, the default for real input)
"""
from chainrule.backend import xp
from chainrule.caller_warnings import warn_once
from chainrule.ops import fft as transforms
from chainrule.ops.complex_numbers import view_as_real
from chainrule.ops.conv import fold
from chainrule.ops.padding import constant_pad_nd, pad_by_reading
from chainrule.ops.registry import public
from chainrule.tensor import tensor_from_array


def _window_of(window, n_fft, win_length, like, operation):
    """The window as n_fft values: ``window`` (win_length of them, ones by default, with PyTorch's
    warning, once per process for each operation) zero-padded on both sides to n_fft, centered."""
    if window is None:
        warn_once(
            f"{operation} without a window",
            "A window was not provided. A rectangular window will be applied,which is known to cause spectral leakage. "
            "Other windows such as torch.hann_window or torch.hamming_window are recommended to reduce spectral "
            "leakage.To suppress this warning and use a rectangular window, explicitly set `window=torch.ones(n_fft, "
            "device=<device>)`." if operation == "stft" else
            "A window was not provided. A rectangular window will be applied.Please provide the same window used by stft "
            "to make the inversion lossless.To suppress this warning and use a rectangular window, explicitly set "
            "`window=torch.ones(n_fft, device=<device>)`."
        )
        window = tensor_from_array(xp.ones(win_length, dtype=like))
    if window.ndim != 1 or window.shape[0] != win_length:
        raise RuntimeError(
            f"{operation}: expected a 1D window tensor of size equal to win_length={win_length}, but got window with size {list(window.shape)}"
        )
    left = (n_fft - win_length) // 2
    return constant_pad_nd(window, (left, n_fft - win_length - left)) if win_length < n_fft else window


def _stft_lengths(n_fft, hop_length, win_length):
    """stft's hop_length and win_length, defaults filled in, checked as PyTorch's stft checks them."""
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"stft: expected 0 < win_length <= n_fft, but got win_length={win_length}")
    return hop_length, win_length


@public
def stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
         normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """The short-time Fourier transform: frames of n_fft samples every hop_length, each multiplied
    by the window and transformed. input (L,) or (B, L) -> (n_fft // 2 + 1, frames) or (B, ...).

    ``align_to_window=True`` (with ``center=False``) starts each frame where its window starts, not
    where its n_fft samples do: 1 + (L - win_length) // hop_length frames of a window shorter than n_fft."""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    complex_in = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None and not complex_in:
        raise RuntimeError(
            "stft requires the return_complex parameter be given for real inputs, and will further require that "
            "return_complex=True in a future PyTorch release."
        )
    return_complex = complex_in if return_complex is None else return_complex
    if not return_complex:
        warn_once(
            "stft with return_complex=False",
            "stft with return_complex=False is deprecated. In a future pytorch release, stft will return complex tensors "
            "for all inputs, and return_complex=False will raise an error.\nNote: you can still call torch.view_as_real on "
            "the complex output to recover the old return format."
        )
    if onesided and complex_in:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    hop_length, win_length = _stft_lengths(n_fft, hop_length, win_length)
    batched = input.ndim == 2
    signal = input if batched else input.reshape(1, -1)
    if center:  # first, as PyTorch pads before its checks below (a bool signal meets the padding's error)
        half = n_fft // 2
        if pad_mode == "constant":
            signal = constant_pad_nd(signal, (half, half))
        else:
            signal = pad_by_reading(signal.reshape(1, *signal.shape), (half, half), pad_mode).reshape(signal.shape[0], -1)
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(
            f"stft: expected a tensor of floating point or complex values, but got {input.dtype}: convert it first, e.g. x.float()"
        )
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.ndim}D")
    if not 0 < n_fft <= signal.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft < {signal.shape[-1]}, but got n_fft={n_fft}")
    if align_to_window:  # the n_fft - win_length zeros around the window reach outside the signal
        left = (n_fft - win_length) // 2
        signal = constant_pad_nd(signal, (left, n_fft - win_length - left))
    frames = signal.unfold(-1, n_fft, hop_length) * _window_of(window, n_fft, win_length, signal.dtype, "stft")
    onesided = not complex_in if onesided is None else onesided
    norm = "ortho" if normalized else "backward"
    spectrum = (transforms.real_to_complex(frames, None, (-1,), norm, "stft") if onesided
                else transforms.complex_to_complex(frames, None, (-1,), norm, False, "stft"))
    spectrum = spectrum.transpose(-1, -2)
    if not batched:
        spectrum = spectrum.reshape(spectrum.shape[1:])
    return spectrum if return_complex else view_as_real(spectrum)


def _checked_istft_arguments(input, n_fft, hop_length, win_length, window, onesided):
    """PyTorch's checks of istft's complex spectrum (freq, frames) or (B, freq, frames) and
    lengths, in its order and words; returns hop_length, win_length and onesided, defaults filled in."""
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if input.ndim < 2:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-input.ndim - 1}, {input.ndim}], but got "
            f"{-3 if input.ndim else -2}) (istft: the spectrum needs a frequency and a frame dimension)"
        )
    if input.numel() == 0:
        raise RuntimeError(f"istft: input tensor cannot be empty. (The spectrum has shape {list(input.shape)}.)")
    if input.ndim > 3:  # PyTorch counts the real and imaginary parts as a last dimension
        raise RuntimeError(
            f"istft: expected a tensor with 3 or 4 dimensions, but got {input.ndim + 1} (a complex spectrum "
            f"(freq, frames) or (batch, freq, frames), as stft returns)"
        )
    frequencies = input.shape[-2]
    onesided = frequencies != n_fft if onesided is None else onesided
    if onesided and frequencies != n_fft // 2 + 1:
        raise RuntimeError(
            f"istft: expected the frequency dimension (3rd to the last) of the input tensor to match n_fft / 2 + 1 "
            f"when onesided=True, but got {frequencies}"
        )
    if not onesided and frequencies != n_fft:
        raise RuntimeError(
            f"istft: expected the frequency dimension (3rd to the last) of the input tensor to match n_fft when "
            f"onesided=False, but got {frequencies}"
        )
    if not 0 < hop_length <= win_length:
        raise RuntimeError(
            f"istft: expected 0 < hop_length <= win_length, but got hop_length={hop_length}, win_length={win_length}"
        )
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"istft: expected 0 < win_length <= n_fft, but got win_length={win_length}, n_fft={n_fft}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win_length):
        raise RuntimeError(
            f"istft: Invalid window shape. window has to be 1D and length of `win_length` ({win_length}), but got "
            f"shape {list(window.shape)}"
        )
    return hop_length, win_length, onesided


@public
def istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
          onesided=None, length=None, return_complex=False):
    """The inverse of ``stft``: each frame transformed back, multiplied by the window, overlapped and
    added, divided by the overlapped squared window. input (n_fft // 2 + 1, frames) or (B, ...)."""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with return_complex=True.")
    hop_length, win_length, onesided = _checked_istft_arguments(input, n_fft, hop_length, win_length, window, onesided)
    batched = input.ndim == 3
    spectrum = input if batched else input.reshape(1, *input.shape)
    frame_count = spectrum.shape[-1]
    if onesided and (return_complex or (window is not None and window.is_complex())):
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    if normalized:
        spectrum = spectrum * n_fft**0.5
    spectrum = spectrum.transpose(-1, -2)
    frames = (transforms.complex_to_real(spectrum, (n_fft,), (-1,), None, "istft") if onesided
              else transforms.complex_to_complex(spectrum, None, (-1,), None, True, "istft"))
    if not return_complex and frames.is_complex():
        frames = frames.real
    real_dtype = frames.real.dtype if frames.is_complex() else frames.dtype
    window = _window_of(window, n_fft, win_length, real_dtype, "istft")
    if not (window.is_floating_point() or window.is_complex()):  # an integer window: its square goes through fold, which takes floats
        window = window.to(real_dtype)
    expected_length = n_fft + hop_length * (frame_count - 1)

    def overlapped(values):  # (B, frames, n_fft) -> (B, expected_length): the frames added where they overlap
        columns = values.transpose(-1, -2)
        return fold(columns, (1, expected_length), (1, n_fft), stride=(1, hop_length)).reshape(values.shape[0], -1)

    signal = overlapped(frames * window)
    envelope = overlapped((window * window).reshape(1, 1, n_fft).expand(1, frame_count, n_fft))
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (expected_length - n_fft // 2 if center else expected_length)
    signal, envelope = signal[:, start:end], envelope[:, start:end]
    if bool((envelope.abs() < 1e-11).any()):
        raise RuntimeError("istft(...) window overlap add min: the window's squared overlap is 0 somewhere; use a window and hop_length whose frames overlap")
    signal = signal / envelope
    if end > expected_length:
        signal = constant_pad_nd(signal, (0, end - expected_length))
    return signal if batched else signal.reshape(-1)

