"""``torch.ao.nn.qat``: layers that train with fake-quantized weights."""
from chainrule.ao.nn.qat.embedding_ops import Embedding, EmbeddingBag  # noqa: F401
from chainrule.ao.nn.qat.modules import Conv1d, Conv2d, Conv3d, Linear  # noqa: F401
