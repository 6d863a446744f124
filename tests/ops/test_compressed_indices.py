"""torch._convert_indices_from_coo_to_csr and _csr_to_coo (ops/compressed_indices.py): a sparse
matrix's row indices between COO and CSR, as PyG's index2ptr and NeighborLoader's to_csc call them."""
import pytest
import torch

import chainrule

LIBS = pytest.mark.parametrize("lib", [torch, chainrule], ids=["torch", "chainrule"])


@LIBS
def test_coo_rows_to_csr_row_pointers(lib):
    rows = lib.tensor([0, 0, 2, 2, 2, 4])
    assert lib._convert_indices_from_coo_to_csr(rows, 6).tolist() == [0, 2, 2, 5, 5, 6, 6]
    pointers = lib._convert_indices_from_coo_to_csr(rows, 3, out_int32=True)
    assert pointers.tolist() == [0, 2, 2, 5] and pointers.dtype == lib.int32
    assert lib._convert_indices_from_coo_to_csr(lib.tensor([0, 1, 2], dtype=lib.int32), 3).dtype == lib.int64
    assert lib._convert_indices_from_coo_to_csr(lib.tensor([], dtype=lib.long), 3).tolist() == [0, 0, 0, 0]
    with pytest.raises(NotImplementedError, match="convert_indices_from_coo_to_csr_cpu\" not implemented for 'Float'"):
        lib._convert_indices_from_coo_to_csr(lib.tensor([0.0, 1.0]), 3)
    with pytest.raises(RuntimeError, match="Input is supposed to be a vector, but got 2 dimensional tensor"):
        lib._convert_indices_from_coo_to_csr(lib.tensor([[0, 1]]), 3)


@LIBS
def test_csr_row_pointers_to_coo_indices(lib):
    pointers, columns = lib.tensor([0, 2, 2, 5]), lib.tensor([0, 1, 0, 1, 2])
    assert lib._convert_indices_from_csr_to_coo(pointers, columns).tolist() == [[0, 0, 2, 2, 2], [0, 1, 0, 1, 2]]
    assert lib._convert_indices_from_csr_to_coo(pointers, columns, transpose=True).tolist() == [[0, 1, 0, 1, 2], [0, 0, 2, 2, 2]]
    assert lib._convert_indices_from_csr_to_coo(pointers.int(), columns.int()).dtype == lib.int64
    assert lib._convert_indices_from_csr_to_coo(pointers, columns, out_int32=True).dtype == lib.int32
    with pytest.raises(NotImplementedError, match="convert_indices_from_csr_to_coo_cpu\" not implemented for 'Float'"):
        lib._convert_indices_from_csr_to_coo(pointers.float(), columns.float())


def test_a_round_trip_matches_pytorch_on_random_sorted_rows():
    rows = torch.randint(0, 7, (40,)).sort().values
    columns = torch.randint(0, 5, (40,))
    theirs = torch._convert_indices_from_coo_to_csr(rows, 7)
    ours = chainrule._convert_indices_from_coo_to_csr(chainrule.tensor(rows.numpy()), 7)
    assert ours.tolist() == theirs.tolist()
    back = chainrule._convert_indices_from_csr_to_coo(ours, chainrule.tensor(columns.numpy()))
    assert back.tolist() == torch._convert_indices_from_csr_to_coo(theirs, columns).tolist() == [rows.tolist(), columns.tolist()]
