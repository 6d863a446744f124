"""``torch.distributed.tensor._utils``: the arithmetic of a ``DTensor``'s slices, which chainrule
does not have (see ``chainrule.distributed.unsharded``): the name exists for the libraries that
import it at load time, and asking it raises."""
from chainrule.distributed.unsharded import refuse_sharding


def compute_local_shape_and_global_offset(global_shape, mesh, placements, skip_offset=False):
    """PyTorch's shape and offset of this process's slice of a DTensor; refused: no DTensor here."""
    refuse_sharding("compute_local_shape_and_global_offset")
