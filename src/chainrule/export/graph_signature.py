"""What each input and output of an exported graph is: ``ExportGraphSignature``.

An exported graph is one function of all it reads. Its inputs, in order: the module's parameters
(``p_fc_weight``, kind PARAMETER, target ``fc.weight``), buffers (``b_bn_running_mean``, BUFFER),
tensor constants (``c_...``, CONSTANT_TENSOR), then the user's inputs, flattened (USER_INPUT).
Its outputs are the user's outputs, flattened (USER_OUTPUT). ``InputSpec``/``OutputSpec`` say
this for each, and the signature answers by kind: ``parameters``, ``buffers``, ``user_inputs``,
``user_outputs``, ``inputs_to_parameters`` (placeholder name -> parameter name)...
"""
import dataclasses
import enum
from typing import Any, Optional


@dataclasses.dataclass
class TensorArgument:
    """An input or output that is a tensor, by the name of its graph node."""

    name: str


@dataclasses.dataclass
class SymIntArgument:
    """An input or output that is a size (an int that may vary), by the name of its graph node."""

    name: str


@dataclasses.dataclass
class ConstantArgument:
    """An input or output that is a Python constant (an int, a string, None): the graph holds it as is."""

    name: str
    value: Any


class InputKind(enum.Enum):
    USER_INPUT = 1
    PARAMETER = 2
    BUFFER = 3
    CONSTANT_TENSOR = 4
    CUSTOM_OBJ = 5
    TOKEN = 6


class OutputKind(enum.Enum):
    USER_OUTPUT = 1
    LOSS_OUTPUT = 2
    BUFFER_MUTATION = 3
    PARAMETER_MUTATION = 4
    GRADIENT_TO_PARAMETER = 5
    GRADIENT_TO_USER_INPUT = 6
    USER_INPUT_MUTATION = 7
    TOKEN = 8


@dataclasses.dataclass
class InputSpec:
    """One input of the graph: its ``kind``, its node (``arg``), what it stands for in the module
    (``target``: ``fc.weight``; None for a user input) and, for a buffer, whether it is in the state_dict."""

    kind: InputKind
    arg: Any
    target: Optional[str]
    persistent: Optional[bool] = None

    def __str__(self):
        return _spec_line(self) + ("" if self.persistent is None else f" persistent={self.persistent}")


@dataclasses.dataclass
class OutputSpec:
    """One output of the graph: its ``kind`` and node (``arg``)."""

    kind: OutputKind
    arg: Any
    target: Optional[str]

    def __str__(self):
        return _spec_line(self)


def _spec_line(spec):
    """How ``print(ep)`` lists a spec: ``p_fc_weight: PARAMETER target='fc.weight'``."""
    return f"{spec.arg.name}: {spec.kind.name}" + ("" if spec.target is None else f" target={spec.target!r}")


@dataclasses.dataclass
class ExportGraphSignature:
    """The inputs and outputs of an exported graph, one spec each, in the graph's order (see the module docstring)."""

    input_specs: list
    output_specs: list

    def _inputs(self, kind):
        return tuple(spec for spec in self.input_specs if spec.kind == kind)

    @property
    def parameters(self):
        """The names of the parameters the graph takes (``fc.weight``...), in order."""
        return tuple(spec.target for spec in self._inputs(InputKind.PARAMETER))

    @property
    def buffers(self):
        return tuple(spec.target for spec in self._inputs(InputKind.BUFFER))

    @property
    def non_persistent_buffers(self):
        return tuple(spec.target for spec in self._inputs(InputKind.BUFFER) if not spec.persistent)

    @property
    def lifted_tensor_constants(self):
        return tuple(spec.target for spec in self._inputs(InputKind.CONSTANT_TENSOR))

    @property
    def lifted_custom_objs(self):
        return ()

    @property
    def user_inputs(self):
        """The names of the user's inputs (the placeholders; a constant input by its value)."""
        return tuple(spec.arg.value if isinstance(spec.arg, ConstantArgument) else spec.arg.name for spec in self._inputs(InputKind.USER_INPUT))

    @property
    def user_outputs(self):
        return tuple(spec.arg.value if isinstance(spec.arg, ConstantArgument) else spec.arg.name for spec in self.output_specs if spec.kind == OutputKind.USER_OUTPUT)

    @property
    def inputs_to_parameters(self):
        """placeholder name -> parameter name."""
        return {spec.arg.name: spec.target for spec in self._inputs(InputKind.PARAMETER)}

    @property
    def inputs_to_buffers(self):
        return {spec.arg.name: spec.target for spec in self._inputs(InputKind.BUFFER)}

    @property
    def inputs_to_lifted_tensor_constants(self):
        return {spec.arg.name: spec.target for spec in self._inputs(InputKind.CONSTANT_TENSOR)}

    @property
    def buffers_to_mutate(self):
        """Output name -> buffer, for outputs that write a buffer: none (a graph here changes buffers in place, as PyTorch's training IR does)."""
        return {spec.arg.name: spec.target for spec in self.output_specs if spec.kind == OutputKind.BUFFER_MUTATION}

    @property
    def user_inputs_to_mutate(self):
        return {spec.arg.name: spec.target for spec in self.output_specs if spec.kind == OutputKind.USER_INPUT_MUTATION}

    def __str__(self):
        inputs = "\n".join(str(spec) for spec in self.input_specs)
        outputs = "\n".join(str(spec) for spec in self.output_specs)
        return f"\n# inputs\n{inputs}\n\n# outputs\n{outputs}\n"
