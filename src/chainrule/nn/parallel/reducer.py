"""Reducer: averages the parameters' gradients across processes while backward is still running.

Data parallelism adds one thing to backprop. Each of ``n`` processes computes the gradient of its
own share of the batch, ``g_r = d loss_r / d theta``; the gradient of the whole batch is their mean,

    g = (g_0 + g_1 + ... + g_{n-1}) / n,

which one ``all_reduce`` (a sum on every process at once) and a division compute. Sending every parameter
separately would pay the network's latency once per parameter; sending all of them after backward
would leave the network idle while computing and the processor idle while sending. So, as in
PyTorch, the parameters are grouped into buckets in the reverse of their registration order (about
the order in which backward reaches them); when the last gradient of a bucket has been accumulated
(``register_post_accumulate_grad_hook``), the bucket is copied into one flat array and its
all-reduce starts, while backward goes on computing the gradients of the next bucket. When the last
bucket has started, the reducer waits for all of them and writes the averages into ``.grad``.

Buckets start in the same order on every process (bucket ``k`` only after bucket ``k - 1``): MPI
matches collectives by their order, and a different order on two processes would mix them up.

With ``find_unused_parameters``, the parameters that the forward's outputs do not depend on (found
by walking the graph back from them) count as ready at once, their gradient zero here; after the
last bucket, one more all-reduce says which parameters some process used: a parameter no process
used keeps its ``.grad`` as it was (None after ``zero_grad()``), as in PyTorch.
"""
from chainrule.autograd.engine import count_dependencies
from chainrule.autograd.function import AccumulateGrad, gradient_edge
from chainrule.backend import xp
from chainrule.distributed import ReduceOp, all_reduce, get_world_size
from chainrule.tensor import Tensor, tensor_from_array

#: The first bucket is small, so that the first all-reduce starts early in backward (as PyTorch's).
FIRST_BUCKET_BYTES = 1024 * 1024


class Bucket:
    """Parameters whose gradients travel together, in one flat array."""

    def __init__(self, parameters, group=None):
        self.parameters = parameters
        self.group = group  # the processes that average (None: all of them)
        self.flat = None
        self.work = None

    def start(self):
        """Copy the gradients into the bucket's flat array and start summing it across processes
        (zeros for a parameter without one: unused here, with ``find_unused_parameters``)."""
        dtype = self.parameters[0]._array.dtype
        if self.flat is None or self.flat.dtype != dtype:
            # Allocated once and reused: MPI prepares a buffer's memory for transfers the first time
            # it sends it, and a fresh array each step would pay for that (and for its pages) again.
            self.flat = xp.empty(sum(parameter._array.size for parameter in self.parameters), dtype=dtype)
        offset = 0
        for parameter in self.parameters:
            size = parameter._array.size
            if parameter.grad is None:
                self.flat[offset : offset + size] = 0
            else:
                self.flat[offset : offset + size] = parameter.grad._array.reshape(-1)
            offset += size
        self.work = all_reduce(tensor_from_array(self.flat), op=ReduceOp.SUM, group=self.group, async_op=True)

    def finish(self, world_size, used_anywhere):
        """Wait for the sum and write the average, sum / world_size, into the ``.grad`` of each
        parameter that ``used_anywhere(parameter)`` says some process used (made where it has none);
        the others' are left as they are."""
        self.work.wait()
        offset = 0
        for parameter in self.parameters:
            size = parameter._array.size
            average = self.flat[offset : offset + size].reshape(parameter._array.shape)
            if used_anywhere(parameter) and parameter.grad is None:
                parameter.grad = tensor_from_array(average / world_size)
            elif used_anywhere(parameter):
                xp.divide(average, world_size, out=parameter.grad._array)
            offset += size
        self.work = None


def assign_buckets(parameters, bucket_cap_bytes, first_bucket_bytes=FIRST_BUCKET_BYTES, group=None):
    """Group ``parameters`` (already in reverse registration order) into buckets of one dtype each,
    closing a bucket once it holds at least its cap: ``bucket_cap_bytes``, and for the first one at
    most ``first_bucket_bytes``; each averaged over the processes of ``group``."""
    first_bucket_bytes = min(first_bucket_bytes, bucket_cap_bytes)
    buckets, current, current_bytes = [], [], 0
    for parameter in parameters:
        if current and parameter._array.dtype != current[0]._array.dtype:
            buckets.append(current)
            current, current_bytes = [], 0
        current.append(parameter)
        current_bytes += parameter._array.nbytes
        if current_bytes >= (first_bucket_bytes if not buckets else bucket_cap_bytes):
            buckets.append(current)
            current, current_bytes = [], 0
    if current:
        buckets.append(current)
    return [Bucket(members, group) for members in buckets]


class Reducer:
    """Watches ``parameters``' gradients during backward and averages them across processes.

    ``prepare_for_forward(sync)`` (called by DistributedDataParallel's forward) says whether the
    next backward averages the gradients (outside ``no_sync()``) or only accumulates them locally.
    """

    def __init__(self, parameters, bucket_cap_bytes, find_unused_parameters=False, group=None):
        self.parameters = [parameter for parameter in parameters if parameter.requires_grad]
        self.find_unused_parameters = find_unused_parameters
        self.group = group  # the processes that average (None: all of them)
        self.buckets = assign_buckets(list(reversed(self.parameters)), bucket_cap_bytes, group=group)
        self.bucket_of = {}
        for index, bucket in enumerate(self.buckets):
            for parameter in bucket.parameters:
                self.bucket_of[id(parameter)] = index
        self.handles = [parameter.register_post_accumulate_grad_hook(self._gradient_ready) for parameter in self.parameters]
        self.armed = False
        self._reset()

    def _reset(self):
        self.ready_ids = set()
        self.used_ids = set()  # the parameters whose gradient this process's backward produced
        self.waiting = [len(bucket.parameters) for bucket in self.buckets]
        self.next_bucket = 0

    def prepare_for_forward(self, sync):
        """Get ready for the backward of the forward that starts: with ``sync``, it averages the
        gradients across processes; without (``no_sync()``, or no graph recorded), it leaves them
        to accumulate in this process alone."""
        if self.ready_ids:
            missing = [index for index, parameter in enumerate(self.parameters) if id(parameter) not in self.ready_ids]
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. "
                "This error indicates that your module has parameters that were not used in producing "
                f"loss (parameter indices without a gradient: {missing}); every parameter that requires "
                "grad must take part in the loss, or set requires_grad=False on those it should not learn"
            )
        self._reset()
        self.armed = sync

    def prepare_for_backward(self, outputs=()):
        """Get ready to average the gradients of the backward from ``outputs`` (tensors), as
        PyTorch's reducer (DistributedDataParallel calls it after forward; Lightning before the
        backward of a manual optimization step). With ``find_unused_parameters``, the parameters
        that ``outputs`` do not depend on are ready at once."""
        self.prepare_for_forward(sync=True)
        if not self.find_unused_parameters:
            return
        roots = [gradient_edge(output)[0] for output in outputs if isinstance(output, Tensor)]
        reached = {id(node.variable) for node in count_dependencies(roots) if type(node) is AccumulateGrad}
        for parameter in self.parameters:
            if id(parameter) not in reached:
                self._mark_ready(parameter)

    def _rebuild_buckets(self):
        """PyTorch regroups its buckets in the order the first backward produced the gradients;
        chainrule's keep the reverse registration order they were made in: False, none rebuilt."""
        return False

    def _gradient_ready(self, parameter):
        if not self.armed:
            return
        self.used_ids.add(id(parameter))
        self._mark_ready(parameter)

    def _mark_ready(self, parameter):
        if id(parameter) in self.ready_ids:
            raise RuntimeError(
                "Expected to mark a variable ready only once: a parameter received its gradient twice "
                "in one iteration (backward called twice after one forward?); run forward again before "
                "each backward, or accumulate gradients inside DistributedDataParallel.no_sync()"
            )
        self.ready_ids.add(id(parameter))
        index = self.bucket_of[id(parameter)]
        self.waiting[index] -= 1
        for bucket in self.buckets[: self.next_bucket]:
            if bucket.work is not None:
                bucket.work.is_completed()  # lets MPI move the bucket's data along
        while self.next_bucket < len(self.buckets) and self.waiting[self.next_bucket] == 0:
            self.buckets[self.next_bucket].start()
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            used_anywhere = self._used_anywhere()
            world_size = get_world_size(self.group)
            for bucket in self.buckets:
                bucket.finish(world_size, used_anywhere)
            self._reset()
            self.armed = False

    def _used_anywhere(self):
        """Whether some process used a parameter: without ``find_unused_parameters`` every one is;
        with it, an all-reduce of which parameters each process used says."""
        if not self.find_unused_parameters:
            return lambda parameter: True
        used = xp.array([id(parameter) in self.used_ids for parameter in self.parameters], dtype=xp.int32)
        all_reduce(tensor_from_array(used), op=ReduceOp.MAX, group=self.group)
        position = {id(parameter): index for index, parameter in enumerate(self.parameters)}
        return lambda parameter: bool(used[position[id(parameter)]])

    def remove(self):
        """Unregister the gradient hooks (the parameters are left as they are)."""
        for handle in self.handles:
            handle.remove()
