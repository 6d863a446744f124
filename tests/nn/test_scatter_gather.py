"""``torch.nn.parallel.scatter_gather`` (captum imports it at module level) and ``torch.Future``
(captum's ``isinstance(result, torch.Future)``; ``torch.futures.Future[Tensor]`` in its annotations)."""
import torch

import chainrule
from chainrule.nn.parallel.scatter_gather import gather, scatter, scatter_kwargs


def test_scatter_cuts_tensors_through_containers_and_gather_joins_them():
    x = chainrule.arange(10.0).reshape(5, 2)
    pieces = scatter((x, 3, {"a": x}, [x]), [0, 1])
    assert len(pieces) == 2 and [tuple(piece[0].shape) for piece in pieces] == [(3, 2), (2, 2)]
    assert pieces[1][1] == 3 and tuple(pieces[1][2]["a"].shape) == (2, 2) and tuple(pieces[0][3][0].shape) == (3, 2)
    assert gather([piece[0] for piece in pieces], 0).tolist() == x.tolist()
    assert gather([{"y": piece[0]} for piece in pieces], 0)["y"].tolist() == x.tolist()
    args, kwargs = scatter_kwargs((x,), {"k": x}, [0, 1])
    assert len(args) == len(kwargs) == 2 and tuple(kwargs[1]["k"].shape) == (2, 2)


def test_future_is_generic_and_named_at_the_top_as_in_pytorch():
    assert isinstance(chainrule.futures.Future(), chainrule.Future)
    assert isinstance(torch.futures.Future(), torch.Future)
    assert repr(chainrule.futures.Future[chainrule.Tensor]).endswith("Future[chainrule.Tensor]")
