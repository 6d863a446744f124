"""How a MaskedTensor prints, as PyTorch's does: its kept elements, and ``--`` for each masked-out one.

    MaskedTensor(
      [
        [  0.0000,       --,   2.0000],
        [      --,   4.0000,       --]
      ]
    )

A float takes 8 characters with 4 decimals (``{:8.4f}``), an integer or a bool its plain text; a
``--`` is right-aligned to the widest kept element of its row (at least 8). Each dimension opens
a bracket on its own line, indented two spaces deeper. A 0-d one prints on one line with its
mask: ``MaskedTensor(  3.0000, True)``, ``MaskedTensor(--, False)``.
"""
FLOAT_FORMAT = "{0:8.4f}"


def format_element(value):
    """One element, ``value`` a Python number or bool."""
    return FLOAT_FORMAT.format(value) if isinstance(value, float) else str(value)


def format_nested(values, kept):
    """The bracketed text of ``values`` and ``kept`` (nested lists of one shape, at least 1-d)."""
    if not isinstance(values[0] if values else None, list):
        texts = [format_element(value) for value in values]
        width = max(len(text) if keep else 8 for text, keep in zip(texts, kept))
        return "[" + ", ".join(text if keep else "--".rjust(width) for text, keep in zip(texts, kept)) + "]"
    rows = [format_nested(row_values, row_kept) for row_values, row_kept in zip(values, kept)]
    return "[\n" + ",\n".join(indented(row) for row in rows) + "\n]"


def indented(text):
    return "\n".join("  " + line for line in text.split("\n"))


def format_masked(data, mask):
    """PyTorch's text of the MaskedTensor holding ``data`` and ``mask`` (plain tensors of one shape)."""
    values, kept = data.tolist(), mask.tolist()
    if data.dim() == 0:
        return f"MaskedTensor({format_element(values) if kept else '--'}, {kept})"
    return "MaskedTensor(\n" + indented(format_nested(values, kept)) + "\n)"
