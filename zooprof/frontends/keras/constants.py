"""What the Keras frontend knows by name: shape aliases, the layer-class sets that steer the
walk (models, inputs, layers carrying code, built-in layers without a rule) and the map from
Keras activation names to OpKind. Pure data: no imports beyond OpKind."""

from __future__ import annotations

from zooprof.ir.ops import OpKind

Shape = tuple[int, ...]
KShape = tuple[int | None, ...]

MODEL_CLASSES = frozenset({"Sequential", "Functional", "Model"})
INPUT_CLASSES = frozenset({"InputLayer"})
#: Layers that hold arbitrary Python code (or TF ops called by name).
CODE_CLASSES = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda", "TFClassMethodDispatcher"})

#: Keras activation name -> OpKind (None: identity, no layer).
ACTIVATIONS: dict[str, OpKind | None] = {
    "linear": None,
    "relu": OpKind.RELU,
    "relu6": OpKind.RELU6,
    "sigmoid": OpKind.SIGMOID,
    "tanh": OpKind.TANH,
    "softmax": OpKind.SOFTMAX,
    "swish": OpKind.SILU,
    "silu": OpKind.SILU,
    "hard_sigmoid": OpKind.HARDSIGMOID,
    "hard_swish": OpKind.HARDSWISH,
    "hard_silu": OpKind.HARDSWISH,
    "gelu": OpKind.GELU,
    "elu": OpKind.ELU,
    "selu": OpKind.ELU,
    "leaky_relu": OpKind.LEAKY_RELU,
}

#: Keras built-in layers zooprof has no rule for: listed as uncounted (OpKind.UNKNOWN), their
#: weights taken from the file when it has them. Any class neither handled nor listed here is
#: treated as custom code (refused without trust).
KNOWN_UNSUPPORTED = frozenset(
    {
        "LSTM",
        "GRU",
        "SimpleRNN",
        "RNN",
        "Bidirectional",
        "TimeDistributed",
        "ConvLSTM1D",
        "ConvLSTM2D",
        "ConvLSTM3D",
        "LSTMCell",
        "GRUCell",
        "SimpleRNNCell",
        "StackedRNNCells",
        "CuDNNLSTM",
        "CuDNNGRU",
        "MultiHeadAttention",
        "GroupQueryAttention",
        "Attention",
        "AdditiveAttention",
        "Embedding",
        "EinsumDense",
        "UpSampling1D",
        "UpSampling2D",
        "UpSampling3D",
        "Resizing",
        "CenterCrop",
        "RandomCrop",
        "Dot",
        "Maximum",
        "Minimum",
        "CategoryEncoding",
        "StringLookup",
        "IntegerLookup",
        "TextVectorization",
        "Hashing",
        "HashedCrossing",
        "Discretization",
        "LocallyConnected1D",
        "LocallyConnected2D",
        "UnitNormalization",
        "SpectralNormalization",
        "RepeatVector",
        "Masking",
        "ThresholdedReLU",
        "Softplus",
        "TFSMLayer",
        "Identity",
    }
)
