"""A sparse matrix's row indices between its two layouts, PyTorch's ``torch._convert_indices_from_*``:
COO gives each stored element its row (``[0, 0, 2, 2, 2]``); CSR gives each row where its elements
start, and where the last row's end (``crow_indices``, rows + 1 entries: ``[0, 2, 2, 5]``). PyG
turns a sorted edge index into its pointer form, and back, with these.
"""
from chainrule import creation, dtypes
from chainrule.ops.compare import searchsorted
from chainrule.ops.index import repeat_interleave
from chainrule.ops.join import stack
from chainrule.ops.registry import public


def _check_integer(name, indices):
    if indices.is_floating_point() or indices.is_complex() or indices.dtype == dtypes.bool_:
        raise NotImplementedError(
            f'"{name}_cpu" not implemented for \'{dtypes.scalar_type_name(indices.dtype)}\'; indices are integers, '
            f"convert them first (x.long())"
        )


@public(method=False)
def _convert_indices_from_coo_to_csr(input, size, *, out_int32=False):
    """CSR's ``crow_indices`` (size + 1,) from COO's sorted row indices ``input`` (nnz,): entry i
    counts the elements in rows before row i. ``[0, 0, 2, 2, 2, 4]``, size 6 ->
    ``[0, 2, 2, 5, 5, 6, 6]``. int64, or int32 with ``out_int32``."""
    if input.dim() != 1:
        raise RuntimeError(f"Input is supposed to be a vector, but got {input.dim()} dimensional tensor.")
    _check_integer("convert_indices_from_coo_to_csr", input)
    row_starts = creation.arange(size + 1, dtype=input.dtype, device=input.device)
    return searchsorted(input, row_starts, out_int32=out_int32)


@public(method=False)
def _convert_indices_from_csr_to_coo(crow_indices, col_indices, *, out_int32=False, transpose=False):
    """COO's indices (2, nnz), rows over columns (columns over rows with ``transpose``), from CSR's
    ``crow_indices`` (rows + 1,) and ``col_indices`` (nnz,): row i repeated crow[i+1] - crow[i]
    times. int64, or int32 with ``out_int32``."""
    if crow_indices.dim() != 1 or col_indices.dim() != 1:
        raise RuntimeError(
            f"crow_indices and col_indices are supposed to be vectors (batched CSR is not supported by chainrule), but "
            f"got {crow_indices.dim()} and {col_indices.dim()} dimensional tensors, respectively."
        )
    _check_integer("convert_indices_from_csr_to_coo", crow_indices)
    dtype = dtypes.int32 if out_int32 else dtypes.int64
    rows = creation.arange(crow_indices.numel() - 1, dtype=dtype, device=crow_indices.device)
    rows = repeat_interleave(rows, crow_indices.diff(), output_size=col_indices.numel())
    pair = (col_indices.to(dtype), rows) if transpose else (rows, col_indices.to(dtype))
    return stack(pair)
