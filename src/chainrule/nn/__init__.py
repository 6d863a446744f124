"""Neural-network building blocks, as ``torch.nn``: Module and Parameter, containers, layers,
activations and losses, plus ``functional`` (the same operations as functions), ``init`` and
``utils`` (gradient clipping).

    import chainrule as torch
    from chainrule import nn

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    loss = nn.CrossEntropyLoss()(model(x), y)
"""
from chainrule.nn import functional, init, parallel, utils
from chainrule.nn.activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from chainrule.nn.activation import (  # issue 10: the rest of PyTorch's activation modules
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    RReLU,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from chainrule.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from chainrule.nn.conv import Conv1d, Conv2d, ConvTranspose2d
from chainrule.nn.distance import CosineSimilarity, PairwiseDistance
from chainrule.nn.dropout import Dropout, Dropout2d
from chainrule.nn.flatten import Flatten, Unflatten
from chainrule.nn.linear import Bilinear, Identity, Linear
from chainrule.nn.fold import Fold, Unfold
from chainrule.nn.pixelshuffle import PixelShuffle, PixelUnshuffle
from chainrule.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from chainrule.nn.loss import (  # noqa: E402  (issue 10: losses and distances)
    CosineEmbeddingLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    MarginRankingLoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    PoissonNLLLoss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from chainrule.nn.module import Module
from chainrule.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from chainrule.nn.normalization import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LocalResponseNorm, RMSNorm
from chainrule.nn.padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from chainrule.nn.parameter import Parameter
from chainrule.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from chainrule.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from chainrule.nn.sparse import Embedding
from chainrule.nn.upsampling import Upsample

__all__ = [
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm2d",
    "Conv1d",
    "Conv2d",
    "ConvTranspose2d",
    "Dropout2d",
    "MaxPool1d",
    "MaxPool2d",
    "Upsample",
    "ZeroPad2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "Identity",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
    "parallel",
    "utils",
    "CosineEmbeddingLoss",
    "CosineSimilarity",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "PairwiseDistance",
    "PoissonNLLLoss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "GroupNorm",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "LocalResponseNorm",
    "RMSNorm",
    "ParameterDict",
    "ParameterList",
    "Bilinear",
    "Fold",
    "Unfold",
    "PixelShuffle",
    "PixelUnshuffle",
    "CircularPad1d",
    "CircularPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ConstantPad3d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "ZeroPad1d",
    "CircularPad3d",
    "ReflectionPad3d",
    "ReplicationPad3d",
    "ZeroPad3d",
]
__all__ += [  # issue 10: the rest of PyTorch's activation modules
    "CELU", "GLU", "SELU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "PReLU",
    "ReLU6", "RReLU", "Softmax2d", "Softmin", "Softshrink", "Softsign", "Tanhshrink", "Threshold",
]
from chainrule.nn.attention import MultiheadAttention  # noqa: E402  (issue 10: attention and transformers)

__all__ += ["MultiheadAttention"]
from chainrule.nn.transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += ["Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer"]
from chainrule.nn.dropout import AlphaDropout, Dropout1d, Dropout3d, FeatureAlphaDropout  # noqa: E402

__all__ += ["AlphaDropout", "Dropout1d", "Dropout3d", "FeatureAlphaDropout"]
from chainrule.nn.sparse import EmbeddingBag  # noqa: E402

__all__ += ["EmbeddingBag"]
from chainrule.nn.channelshuffle import ChannelShuffle  # noqa: E402

__all__ += ["ChannelShuffle"]
from chainrule.nn.lazy import (  # noqa: E402
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyConv1d,
    LazyConv2d,
    LazyConvTranspose2d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyLinear,
)
from chainrule.nn.parameter import UninitializedBuffer, UninitializedParameter  # noqa: E402

__all__ += [
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv1d", "LazyConv2d", "LazyConvTranspose2d", "LazyInstanceNorm1d",
    "LazyInstanceNorm2d", "LazyLinear", "UninitializedBuffer", "UninitializedParameter",
]
