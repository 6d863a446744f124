"""``chainrule.library``, as ``torch.library``: new operators written in Python.

``custom_op`` turns a function (NumPy code, say) into an operator with a schema inferred from its
type hints; ``register_autograd`` gives it a backward formula, ``register_fake`` its output shapes
on ``meta`` tensors, ``register_kernel`` a kernel for one device, ``register_vmap`` the rule that
computes a whole batch under ``torch.func.vmap``. ``Library``, ``define`` and
``impl`` are the lower-level way: a schema written out and kernels per dispatch key. The operators
are reached as ``torch.ops.<namespace>.<name>``; ``opcheck`` tests that their registrations agree.

    @torch.library.custom_op("mylib::numpy_sin", mutates_args=())
    def numpy_sin(x: Tensor) -> Tensor:
        return torch.from_numpy(np.sin(x.numpy()))
"""
from chainrule.library.custom_op import CustomOpDef, custom_op
from chainrule.library.opcheck import OpCheckError, opcheck
from chainrule.library.operators import OpNamespace, OpOverload, OpOverloadPacket, fallthrough_kernel, ops
from chainrule.library.registration import (
    Library,
    define,
    impl,
    impl_abstract,
    register_autograd,
    register_fake,
    register_kernel,
    register_vmap,
)
from chainrule.library.schema import infer_schema

__all__ = [
    "Library",
    "impl",
    "define",
    "fallthrough_kernel",
    "impl_abstract",
    "register_fake",
    "register_kernel",
    "register_autograd",
    "register_vmap",
    "custom_op",
    "CustomOpDef",
    "infer_schema",
    "opcheck",
    "OpCheckError",
    "OpOverload",
    "OpOverloadPacket",
    "OpNamespace",
    "ops",
]
