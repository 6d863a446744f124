"""How the model functions (``resnet18``, ``vgg16``...) are called, as torchvision calls them.

``model_builder(Legacy_Weights)`` makes a function ``name(*, weights=None, progress=True, **kwargs)``
into torchvision's:

- ``weights=`` takes a member of the model's weights enum, its name as a string, or None;
- the older ``pretrained=True`` (torchvision before 0.13) still works, meaning the weights given to
  ``model_builder``, with torchvision's deprecation warnings; so do positional ``weights`` and
  ``progress`` (``resnet18(True)``);
- the function is registered by name, for ``list_models``, ``get_model("resnet18", ...)`` and
  ``get_model_weights``; ``get_weight("ResNet18_Weights.DEFAULT")`` finds weights by their name.
"""
import functools
import warnings

from chainrule.vision.models.weights import WeightsEnum

# name -> (builder, its weights enum)
_MODELS = {}
_POSITIONAL = ("weights", "progress")


def _quoted_list(names):
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def _weights_for_pretrained(kwargs, pretrained_weights):
    """Turn ``kwargs["pretrained"]`` (or a bool passed as ``weights``) into ``kwargs["weights"]``,
    warning as torchvision does."""
    weights = kwargs.get("weights")
    if "pretrained" not in kwargs and (weights is None or isinstance(weights, (WeightsEnum, str))):
        return
    positional = "weights" in kwargs
    pretrained = kwargs.pop("weights") if positional else kwargs.pop("pretrained")
    chosen = pretrained_weights if pretrained else None
    if not positional:
        warnings.warn(
            "The parameter 'pretrained' is deprecated since 0.13 and may be removed in the future, please use "
            "'weights' instead."
        )
    message = (
        "Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and may be removed "
        f"in the future. The current behavior is equivalent to passing `weights={chosen}`."
    )
    if pretrained:
        message += f" You can also use `weights={type(chosen).__name__}.DEFAULT` to get the most up-to-date weights."
    warnings.warn(message)
    kwargs["weights"] = chosen


def model_builder(pretrained_weights):
    """Decorate a model function ``name(*, weights=None, progress=True, **kwargs)``: accept
    ``pretrained=`` and positional arguments as torchvision does (``pretrained=True`` means
    ``pretrained_weights``), and register it under its name."""

    def decorate(builder):
        @functools.wraps(builder)
        def build(*args, **kwargs):
            if len(args) > len(_POSITIONAL):
                raise TypeError(
                    f"{builder.__name__}() takes at most {len(_POSITIONAL)} positional arguments (weights, progress) "
                    f"but {len(args)} were given"
                )
            if args:
                names = _POSITIONAL[: len(args)]
                warnings.warn(
                    f"Using {_quoted_list(names)} as positional parameter(s) is deprecated since 0.13 and may be "
                    "removed in the future. Please use keyword parameter(s) instead."
                )
                kwargs.update(zip(names, args))
            _weights_for_pretrained(kwargs, pretrained_weights)
            return builder(**kwargs)

        _MODELS[builder.__name__] = (build, type(pretrained_weights))
        return build

    return decorate


def list_models(module=None):
    """The names of the model functions, sorted (only those of ``module``, a module such as
    ``chainrule.vision.models``, when given)."""
    return sorted(
        name for name, (build, _) in _MODELS.items()
        if module is None or build.__module__.rsplit(".", 1)[0] == module.__name__
    )


def _find(name):
    try:
        return _MODELS[name.lower()]
    except KeyError:
        raise ValueError(f"Unknown model {name.lower()}") from None


def get_model(name, **config):
    """The model ``name`` built with ``config``: ``get_model("resnet18", weights="DEFAULT")``."""
    build, _ = _find(name)
    return build(**config)


def get_model_weights(name):
    """The weights enum of a model, given its function or its name."""
    if not isinstance(name, str):
        name = name.__name__
    _, weights_enum = _find(name)
    return weights_enum


def get_weight(name):
    """The weights named ``"<Enum>.<member>"``, e.g. ``get_weight("ResNet50_Weights.IMAGENET1K_V2")``."""
    try:
        enum_name, member = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    for _, weights_enum in _MODELS.values():
        if weights_enum.__name__ == enum_name:
            return weights_enum[member]
    raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
