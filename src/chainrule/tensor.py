"""Tensor: an array of numbers that remembers how it was computed.

A tensor holds

- ``array``: the values, a NumPy array (chainrule's name; ``data`` gives them as a tensor, as PyTorch does),
- ``grad``: after ``backward()``, the gradient of the loss with respect to this tensor (leaves only),
- ``requires_grad``: whether operations on it are recorded so that gradients can flow back to it,
- ``grad_fn``: the node of the graph that made it (``None`` for leaves the user created).

The arithmetic lives in ``chainrule/ops/``; the methods here only call into it, so a reader finds
each operation's forward and backward side by side in one place.
"""
import weakref

from chainrule import dtypes
from chainrule.autograd import grad_mode
from chainrule.device import device
from chainrule.backend import as_array, ndarray, positions_in, to_numpy, xp

_new_object = object.__new__


def tensor_from_array(array, requires_grad=False):
    """Wrap a backend array in a tensor, without copying and without checks (the fast path)."""
    if type(array) is not ndarray:
        array = as_array(array)
    tensor = _new_object(Tensor)
    init_leaf(tensor, array, requires_grad)
    return tensor


def init_leaf(tensor, array, requires_grad=False):
    """Give ``tensor`` (a Tensor or subclass instance) the fields of a new leaf holding ``array``."""
    tensor.array = array
    tensor.grad = None
    tensor._requires_grad = requires_grad
    tensor.grad_fn = None
    tensor._version = 0
    tensor._output_nr = 0
    tensor._hooks = None
    tensor._post_accumulate_grad_hooks = None
    tensor._accumulator = None
    tensor._name = None
    tensor._base = None
    tensor._is_view = False


def from_numpy(array):
    """A tensor sharing memory with the NumPy array ``array``, keeping its dtype (no copy)."""
    if not isinstance(array, xp.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return tensor_from_array(array)


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    ``Tensor(data)`` makes a float32 tensor (PyTorch's legacy constructor, used in course code as
    ``torch.Tensor([1.0])``); ``Tensor(2, 3)`` an uninitialized one of that shape. Prefer
    ``chainrule.tensor(data)``, which infers the dtype.
    """

    __slots__ = (
        "array",
        "grad",
        "_requires_grad",
        "grad_fn",
        "_version",
        "_output_nr",
        "_hooks",
        "_post_accumulate_grad_hooks",
        "_accumulator",
        "_name",
        "_base",
        "_is_view",
        "__weakref__",
    )
    __array_priority__ = 1000  # NumPy defers to our operators: ndarray * tensor gives a tensor

    def __init__(self, *data, requires_grad=False):
        if len(data) == 1 and not isinstance(data[0], int):
            array = xp.array(_to_raw(data[0]), dtype=dtypes.get_default_dtype())
        elif all(isinstance(size, int) for size in data):
            array = xp.empty(data, dtype=dtypes.get_default_dtype())
        else:
            raise TypeError(f"Tensor() takes one data argument or int sizes, got {data!r}")
        init_leaf(self, array)
        if requires_grad:
            self.requires_grad = True

    # ----------------------------------------------------------------- autograd attributes
    @property
    def requires_grad(self):
        """Whether gradients flow back to this tensor (settable on leaves only)."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if flag and self.array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients "
                f"(this tensor is {dtypes.dtype_name(self.array.dtype)}); convert it first, e.g. "
                f"x.float().requires_grad_()"
            )
        self._requires_grad = bool(flag)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def name(self):
        """A label for graph drawings and traces (chainrule's addition; None by default).

        Naming an intermediate result (``v = b * c; v.name = "v"``) also labels it on the node that
        made it, so drawings find the name even after ``v`` itself is gone.
        """
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        if self.grad_fn is not None:
            if self.grad_fn._output_names is None:
                self.grad_fn._output_names = {}
            self.grad_fn._output_names[self._output_nr] = value

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded operation (their ``.grad`` is filled by backward)."""
        return self.grad_fn is None

    @property
    def data(self):
        """The values as a new tensor without history, sharing memory (changes to it are not tracked)."""
        return tensor_from_array(self.array)

    @data.setter
    def data(self, value):
        self.array = value.array if isinstance(value, Tensor) else as_array(value, self.array.dtype)

    @property
    def output_nr(self):
        return self._output_nr

    def _edge(self):
        """``(node, output_nr)``: where a gradient for this tensor enters the graph."""
        if self.grad_fn is not None:
            return self.grad_fn, self._output_nr
        if self._requires_grad:
            return _leaf_accumulator(self), 0
        return None, 0

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        The gradients are added to the leaves' ``.grad`` (call ``zero_grad()`` between steps), and
        the graph is freed unless ``retain_graph=True``. A non-scalar output needs ``gradient``: the
        gradient of the final result with respect to this tensor, of its shape.
        """
        from chainrule.autograd.functional import backward

        backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn._output_hooks is None:
                self.grad_fn._output_hooks = {}
            hooks = self.grad_fn._output_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf once backward has added its gradient to ``.grad``.

        This is when a gradient is ready to use (``DistributedDataParallel`` starts averaging it
        across processes then). Returns a handle whose ``remove()`` unregisters the hook.
        """
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_grad_hooks is None:
            self._post_accumulate_grad_hooks = []
        self._post_accumulate_grad_hooks.append(hook)
        return RemovableHandle(self._post_accumulate_grad_hooks, hook)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        if self.grad_fn._retained is None:
            self.grad_fn._retained = {}
        self.grad_fn._retained[self._output_nr] = weakref.ref(self)

    @property
    def retains_grad(self):
        retained = self.grad_fn._retained if self.grad_fn is not None else None
        return bool(retained) and self._output_nr in retained

    def detach(self):
        """A tensor with the same values (shared memory) that is cut off from the graph.

        It shares this tensor's version counter, as in PyTorch: changing it in place is noticed by
        the operations that saved this tensor for backward.
        """
        detached = tensor_from_array(self.array)
        detached._base = self._base if self._base is not None else self
        return detached

    @property
    def _version_owner(self):
        """The tensor whose version counter this one uses: its base for views and detached tensors."""
        return self._base if self._base is not None else self

    def detach_(self):
        self.grad_fn = None
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- shape and type
    @property
    def shape(self):
        return Size(self.array.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self.array.shape)
        return self.array.shape[_check_dim(dim, self.array.ndim, "size")]

    @property
    def ndim(self):
        return self.array.ndim

    def dim(self):
        return self.array.ndim

    def numel(self):
        return int(self.array.size)

    def nelement(self):
        return int(self.array.size)

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def device(self):
        return device("cpu")

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self):
        return self.array.dtype.kind == "f"

    def element_size(self):
        return self.array.itemsize

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(self.array.shape[0]))

    # ----------------------------------------------------------------- conversions
    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.array.size != 1:
            raise RuntimeError(
                f"a Tensor with {self.array.size} elements cannot be converted to Scalar "
                f"(item() needs exactly one element; shape is {tuple(self.array.shape)})"
            )
        return self.array.reshape(()).item()

    def tolist(self):
        return self.array.tolist()

    def numpy(self, force=False):
        """The values as a NumPy array sharing memory (PyTorch refuses when grad is required)."""
        if self._requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return to_numpy(self.array)

    def __array__(self, dtype=None, copy=None):
        array = to_numpy(self.array)
        return array if dtype is None else array.astype(dtype, copy=False)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous (shape "
                f"{tuple(self.array.shape)}); use .any() or .all()"
            )
        return bool(self.array.reshape(()).item())

    def __index__(self):
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def to(self, *args, **kwargs):
        """``to(dtype)`` converts (differentiably); ``to("cpu")`` is accepted and changes nothing."""
        dtype = kwargs.get("dtype")
        for arg in args + tuple(value for key, value in kwargs.items() if key == "device"):
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str):
                check_device(arg)
            elif arg is not None:
                dtype = arg
        if dtype is None or xp.dtype(dtype) == self.array.dtype:
            return self
        return elementwise.cast(self, xp.dtype(dtype))

    def type(self, dtype=None):
        if dtype is None:
            return "chainrule." + _TYPE_NAMES.get(self.array.dtype.name, self.array.dtype.name)
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def half(self):
        return self.to(dtypes.float16)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool_)

    def cpu(self):
        return self

    def cuda(self, device=None):
        check_device("cuda")

    def clone(self):
        """A copy of the values that stays in the graph (gradients flow back to the original)."""
        return elementwise.clone(self)

    def contiguous(self):
        return self

    def __repr__(self):
        from chainrule._format import format_tensor

        return format_tensor(self)

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- arithmetic operators
    def __add__(self, other):
        return elementwise.add(self, other)

    def __radd__(self, other):
        return elementwise.add(other, self)

    def __sub__(self, other):
        return elementwise.sub(self, other)

    def __rsub__(self, other):
        return elementwise.sub(other, self)

    def __mul__(self, other):
        return elementwise.mul(self, other)

    def __rmul__(self, other):
        return elementwise.mul(other, self)

    def __truediv__(self, other):
        return elementwise.div(self, other)

    def __rtruediv__(self, other):
        return elementwise.div(other, self)

    def __floordiv__(self, other):
        return elementwise.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return elementwise.floor_divide(other, self)

    def __mod__(self, other):
        return elementwise.remainder(self, other)

    def __pow__(self, exponent):
        return elementwise.pow(self, exponent)

    def __rpow__(self, base):
        return elementwise.pow(base, self)

    def __neg__(self):
        return elementwise.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise.abs(self)

    def __matmul__(self, other):
        return matmul.matmul(self, other)

    def __rmatmul__(self, other):
        return matmul.matmul(other, self)

    def __eq__(self, other):
        return compare.eq(self, other)

    def __ne__(self, other):
        return compare.ne(self, other)

    def __lt__(self, other):
        return compare.lt(self, other)

    def __le__(self, other):
        return compare.le(self, other)

    def __gt__(self, other):
        return compare.gt(self, other)

    def __ge__(self, other):
        return compare.ge(self, other)

    def __invert__(self):
        return compare.bitwise_not(self)

    def __and__(self, other):
        return compare.bitwise_and(self, other)

    def __or__(self, other):
        return compare.bitwise_or(self, other)

    def __xor__(self, other):
        return compare.bitwise_xor(self, other)

    def __getitem__(self, key):
        return index.getitem(self, key)

    def __setitem__(self, key, value):
        index.setitem(self, key, value)

    # ----------------------------------------------------------------- in-place operations
    def _in_place(self, operation, *args):
        """Compute ``operation(self, *args)`` and write the result into this tensor's own array.

        Outside ``no_grad`` an in-place change is recorded (this tensor then becomes the result of
        ``operation``), except on a leaf that requires grad, whose value backward may still need.
        The version counter goes up, so a node that saved this tensor notices at backward time.
        """
        recording = self._records_in_place(args)
        if recording and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. Wrap "
                "the update in `with chainrule.no_grad():` or change `.data` instead."
            )
        if recording and self._is_view:
            return self._in_place_through_view(operation, args)
        if recording:
            result = operation(self._snapshot(), *args)
        else:
            with grad_mode.no_grad():
                result = operation(self, *args)
        _check_castable(result, self)
        self.array[...] = result.array
        self._version_owner._version += 1
        if recording:
            retained = self.retains_grad
            if retained:  # retain_grad() follows the tensor to its new node, as in PyTorch
                del self.grad_fn._retained[self._output_nr]
            self.grad_fn, self._output_nr, self._requires_grad = result.grad_fn, result._output_nr, True
            if retained:
                self.retain_grad()
        return self

    def _in_place_through_view(self, operation, args):
        """A recorded in-place change of a view (``x[0].mul_(2)``, ``x[i] += v``), as PyTorch's
        CopySlices: the base becomes its old value with the view's elements replaced by the new
        ones, and the view reads them from there. Both share memory, so both show the change."""
        base = self._base
        if base._requires_grad and base.grad_fn is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with chainrule.no_grad():` or change the leaf's `.data` instead."
            )
        positions = positions_in(base.array, self.array)
        if positions is None:
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a "
                "single memory location, or its layout cannot be written through. Please clone() the "
                "tensor before performing the operation."
            )
        new_values = operation(self._snapshot(), *args)
        _check_castable(new_values, base)
        new_base = index.index_put(base._snapshot(), positions, new_values.to(base.array.dtype))
        base.array[...] = new_base.array
        base._version += 1
        base.grad_fn, base._output_nr, base._requires_grad = new_base.grad_fn, new_base._output_nr, True
        view = index.getitem(base, positions)
        self.grad_fn, self._output_nr, self._requires_grad = view.grad_fn, view._output_nr, True
        return self

    def _records_in_place(self, args):
        """Whether an in-place change of this tensor with ``args`` enters the graph."""
        return grad_mode._state.enabled and (
            self._requires_grad or any(isinstance(arg, Tensor) and arg._requires_grad for arg in args)
        )

    def _snapshot(self):
        """This tensor as it is now, in the graph, on a copy of its values: an operation recorded
        on it may save its input, and the array is about to be overwritten in place."""
        snapshot = tensor_from_array(self.array.copy(), self._requires_grad)
        snapshot.grad_fn, snapshot._output_nr = self.grad_fn, self._output_nr
        return snapshot

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        return self._in_place(elementwise.fill, value)

    def add_(self, other, alpha=1):
        return self._in_place(elementwise.add, other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self._in_place(elementwise.sub, other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self._in_place(elementwise.mul, other)

    def div_(self, other):
        return self._in_place(elementwise.div, other)

    def pow_(self, exponent):
        return self._in_place(elementwise.pow, exponent)

    def neg_(self):
        return self._in_place(elementwise.neg)

    def copy_(self, source):
        return self._in_place(elementwise.copy_from, source)

    def clamp_(self, min=None, max=None):
        return self._in_place(elementwise.clamp, min, max)

    def relu_(self):
        return self._in_place(activation.relu)

    def sigmoid_(self):
        return self._in_place(activation.sigmoid)

    def tanh_(self):
        return self._in_place(activation.tanh)

    def exp_(self):
        return self._in_place(elementwise.exp)

    def masked_fill_(self, mask, value):
        return self._in_place(index.masked_fill, mask, value)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with samples of N(mean, std^2) from the (global or given) generator."""
        values = numpy_generator(generator).normal(mean, std, self.array.shape)
        return self._in_place(elementwise.copy_from, tensor_from_array(as_array(values, self.array.dtype)))

    def uniform_(self, low=0.0, high=1.0, generator=None):
        """Fill with samples of U(low, high) from the (global or given) generator."""
        values = numpy_generator(generator).uniform(low, high, self.array.shape)
        return self._in_place(elementwise.copy_from, tensor_from_array(as_array(values, self.array.dtype)))

    def floor_divide_(self, other):
        return self._in_place(elementwise.floor_divide, other)

    def remainder_(self, other):
        return self._in_place(elementwise.remainder, other)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_
    __ifloordiv__ = floor_divide_
    __imod__ = remainder_
    __ipow__ = pow_

    # ----------------------------------------------------------------- methods (see ops/ for the math)
    def exp(self):
        return elementwise.exp(self)

    def log(self):
        return elementwise.log(self)

    def log1p(self):
        return elementwise.log1p(self)

    def sqrt(self):
        return elementwise.sqrt(self)

    def sin(self):
        return elementwise.sin(self)

    def cos(self):
        return elementwise.cos(self)

    def tan(self):
        return elementwise.tan(self)

    def abs(self):
        return elementwise.abs(self)

    def neg(self):
        return elementwise.neg(self)

    def sign(self):
        return elementwise.sign(self)

    def pow(self, exponent):
        return elementwise.pow(self, exponent)

    def add(self, other, alpha=1):
        return elementwise.add(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return elementwise.sub(self, other if alpha == 1 else other * alpha)

    def mul(self, other):
        return elementwise.mul(self, other)

    def div(self, other):
        return elementwise.div(self, other)

    def square(self):
        return elementwise.pow(self, 2)

    def reciprocal(self):
        return elementwise.div(1.0, self)

    def clamp(self, min=None, max=None):
        return elementwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        return elementwise.maximum(self, other)

    def minimum(self, other):
        return elementwise.minimum(self, other)

    def sigmoid(self):
        return activation.sigmoid(self)

    def tanh(self):
        return activation.tanh(self)

    def relu(self):
        return activation.relu(self)

    def softmax(self, dim):
        return activation.softmax(self, dim)

    def log_softmax(self, dim):
        return activation.log_softmax(self, dim)

    def sum(self, dim=None, keepdim=False):
        return reduce.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim=False):
        return reduce.mean(self, dim, keepdim)

    def prod(self, dim=None, keepdim=False):
        return reduce.prod(self, dim, keepdim)

    def max(self, dim=None, keepdim=False):
        return reduce.max(self, dim, keepdim)

    def min(self, dim=None, keepdim=False):
        return reduce.min(self, dim, keepdim)

    def amax(self, dim=None, keepdim=False):
        return reduce.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim=False):
        return reduce.amin(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def norm(self, p="fro", dim=None, keepdim=False):
        return reduce.norm(self, p, dim, keepdim)

    def logsumexp(self, dim, keepdim=False):
        return reduce.logsumexp(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False):
        return reduce.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim=False):
        return reduce.argmin(self, dim, keepdim)

    def cumsum(self, dim):
        return reduce.cumsum(self, dim)

    def all(self, dim=None, keepdim=False):
        return reduce.all(self, dim, keepdim)

    def any(self, dim=None, keepdim=False):
        return reduce.any(self, dim, keepdim)

    def matmul(self, other):
        return matmul.matmul(self, other)

    def mm(self, other):
        return matmul.mm(self, other)

    def bmm(self, other):
        return matmul.bmm(self, other)

    def dot(self, other):
        return matmul.dot(self, other)

    def outer(self, other):
        return matmul.outer(self, other)

    def reshape(self, *shape):
        return shape_ops.reshape(self, *shape)

    def view(self, *shape):
        return shape_ops.view(self, *shape)

    def view_as(self, other):
        return shape_ops.view(self, other.shape)

    def reshape_as(self, other):
        return shape_ops.reshape(self, other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        return shape_ops.flatten(self, start_dim, end_dim)

    def squeeze(self, dim=None):
        return shape_ops.squeeze(self, dim)

    def unsqueeze(self, dim):
        return shape_ops.unsqueeze(self, dim)

    def transpose(self, dim0, dim1):
        return shape_ops.transpose(self, dim0, dim1)

    def t(self):
        return shape_ops.t(self)

    @property
    def T(self):
        return shape_ops.permute(self, *reversed(range(self.array.ndim)))

    @property
    def mT(self):
        return shape_ops.transpose(self, -2, -1)

    def permute(self, *dims):
        return shape_ops.permute(self, *dims)

    def expand(self, *sizes):
        return broadcast.expand(self, *sizes)

    def expand_as(self, other):
        return broadcast.expand(self, *other.shape)

    def broadcast_to(self, shape):
        return broadcast.broadcast_to(self, shape)

    def repeat(self, *sizes):
        return shape_ops.repeat(self, *sizes)

    def split(self, split_size_or_sections, dim=0):
        return join.split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return join.chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return join.unbind(self, dim)

    def gather(self, dim, index_tensor):
        return index.gather(self, dim, index_tensor)

    def index_select(self, dim, index_tensor):
        return index.index_select(self, dim, index_tensor)

    def masked_fill(self, mask, value):
        return index.masked_fill(self, mask, value)

    def masked_select(self, mask):
        return index.masked_select(self, mask)

    def scatter(self, dim, index_tensor, src):
        return index.scatter(self, dim, index_tensor, src)

    def scatter_add(self, dim, index_tensor, src):
        return index.scatter_add(self, dim, index_tensor, src)

    def scatter_(self, dim, index_tensor, src):
        return self._in_place(index.scatter, dim, index_tensor, src)

    def scatter_add_(self, dim, index_tensor, src):
        return self._in_place(index.scatter_add, dim, index_tensor, src)

    def index_put(self, indices, values, accumulate=False):
        return index.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate=False):
        return self._in_place(index.index_put, indices, values, accumulate)

    def take_along_dim(self, indices, dim=None):
        return index.take_along_dim(self, indices, dim)

    def nonzero(self, as_tuple=False):
        return index.nonzero(self, as_tuple)

    def movedim(self, source, destination):
        return shape_ops.movedim(self, source, destination)

    def swapaxes(self, axis0, axis1):
        return shape_ops.transpose(self, axis0, axis1)

    swapdims = swapaxes

    def flip(self, dims):
        return shape_ops.flip(self, dims)

    def tile(self, *sizes):
        return shape_ops.tile(self, *sizes)

    def where(self, condition, other):
        return elementwise.where(condition, self, other)

    def eq(self, other):
        return compare.eq(self, other)

    def equal(self, other):
        return compare.equal(self, other)

    def allclose(self, other, rtol=1e-05, atol=1e-08):
        return compare.allclose(self, other, rtol, atol)

    def isnan(self):
        return compare.isnan(self)

    def ne(self, other):
        return compare.ne(self, other)

    def lt(self, other):
        return compare.lt(self, other)

    def le(self, other):
        return compare.le(self, other)

    def gt(self, other):
        return compare.gt(self, other)

    def ge(self, other):
        return compare.ge(self, other)


class Size(tuple):
    """The shape of a tensor: a tuple that prints as ``chainrule.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self):
        return f"chainrule.Size({list(self)})"

    def numel(self):
        count = 1
        for size in self:
            count *= size
        return count


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` takes the hook out again."""

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "bool": "BoolTensor",
}


def _to_raw(data):
    """Python data that may contain tensors, as nested lists/arrays NumPy can read."""
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, (list, tuple)) and any(isinstance(item, (Tensor, list, tuple)) for item in data):
        return [_to_raw(item) for item in data]
    return data


def _check_castable(result, target):
    """PyTorch's refusal to write a result into a tensor of a lower kind (float into int)."""
    if not xp.can_cast(result.array.dtype, target.array.dtype, casting="same_kind"):
        raise RuntimeError(
            f"result type {dtypes.dtype_name(result.array.dtype)} can't be cast to the desired "
            f"output type {dtypes.dtype_name(target.array.dtype)}"
        )


def check_device(device):
    """chainrule computes with NumPy on the CPU: asking for another device must not silently fail."""
    if device is not None and str(device).split(":")[0] != "cpu":
        raise RuntimeError(
            f"chainrule tensors live on the CPU (NumPy); device {device!r} is not available. Use "
            f"'cpu', or drop the .to(device) call: course code runs unchanged without it."
        )


def _check_dim(dim, ndim, operation):
    """``dim`` made non-negative, or PyTorch's IndexError when it is out of range."""
    rank = max(ndim, 1)
    if not -rank <= dim < rank:
        raise IndexError(
            f"{operation}: Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})"
        )
    return dim % rank


# The operations are imported last: each of them builds on Tensor.
from chainrule.autograd.function import _leaf_accumulator  # noqa: E402
from chainrule.ops import (  # noqa: E402
    activation,
    broadcast,
    compare,
    elementwise,
    index,
    join,
    matmul,
    reduce,
)
from chainrule.ops import shape as shape_ops  # noqa: E402
from chainrule.random import numpy_generator  # noqa: E402
