"""The quantization schemes, PyTorch's ``torch.qscheme`` values: how a quantized tensor's integers
map back to real numbers.

- ``per_tensor_affine``: one scale ``s`` and zero point ``z``, ``real = (q - z) · s``;
- ``per_channel_affine``: one ``s[c]``, ``z[c]`` for each slice ``c`` along an axis;
- ``per_tensor_symmetric``, ``per_channel_symmetric``: the same with ``z`` fixed at 0 (signed
  dtypes) or the middle of the range (unsigned): observers choose parameters so; a tensor they
  quantize says ``per_*_affine``, as in PyTorch;
- ``per_channel_affine_float_qparams``: per channel with a floating zero point, added before the
  rounding (``q = round(x / s + z)``), for embedding tables.
"""


class qscheme:  # noqa: N801 (PyTorch's name)
    """A quantization scheme: prints as ``chainrule.per_tensor_affine`` and pickles as itself."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return self.name


per_tensor_affine = qscheme("per_tensor_affine")
per_channel_affine = qscheme("per_channel_affine")
per_tensor_symmetric = qscheme("per_tensor_symmetric")
per_channel_symmetric = qscheme("per_channel_symmetric")
per_channel_affine_float_qparams = qscheme("per_channel_affine_float_qparams")

#: The schemes with one scale per channel.
PER_CHANNEL = (per_channel_affine, per_channel_symmetric, per_channel_affine_float_qparams)
#: Every scheme by its name (a pickled quantized tensor names its scheme).
BY_NAME = {
    scheme.name: scheme
    for scheme in (per_tensor_affine, per_channel_affine, per_tensor_symmetric, per_channel_symmetric, per_channel_affine_float_qparams)
}
