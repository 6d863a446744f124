"""AdaptiveLogSoftmaxWithLoss: a softmax over many classes made cheap by splitting them by frequency
(Grave et al., "Efficient softmax approximation for GPUs", 2016).

The head scores the frequent classes (the shortlist, below ``cutoffs[0]``) and one entry per tail
cluster; a class in cluster i has log p = log p_head(cluster i) + log p_cluster_i(class). Each
cluster is a two-layer projection whose hidden size shrinks by ``div_value`` per cluster, and it is
run only on the rows whose target falls in it.
"""
import itertools
from collections import namedtuple

from chainrule.nn import functional as F
from chainrule.nn.container import ModuleList, Sequential
from chainrule.nn.linear import Linear
from chainrule.nn.module import Module
from chainrule.ops.join import cat

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities of the targets, and their mean negative, over ``n_classes`` classes
    split at ``cutoffs`` (sorted, within 1 .. n_classes - 1).

    ``forward(input (N, in_features), target (N,))`` returns ``(output (N,), loss ())``: output the
    log-probability of each target, loss the mean of -output. Unbatched: input (in_features,),
    target (). ``log_prob(input)`` gives all classes' (N, n_classes); ``predict(input)`` the most
    probable class (N,).
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (
            cutoffs != sorted(cutoffs)
            or min(cutoffs) <= 0
            or max(cutoffs) > n_classes - 1
            or len(set(cutoffs)) != len(cutoffs)
            or any(int(cutoff) != cutoff for cutoff in cutoffs)
        ):
            raise ValueError(
                "cutoffs should be a sequence of unique, positive integers sorted in an increasing order, where "
                f"each value is between 1 and n_classes-1 (got {cutoffs} with n_classes={n_classes})"
            )
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        options = {"device": device, "dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **options)
        self.tail = ModuleList()
        for cluster in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (cluster + 1)))
            size = self.cutoffs[cluster + 1] - self.cutoffs[cluster]
            self.tail.append(Sequential(Linear(in_features, hidden, bias=False, **options), Linear(hidden, size, bias=False, **options)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for to_hidden, to_output in self.tail:
            to_hidden.reset_parameters()
            to_output.reset_parameters()

    def forward(self, input_, target_):
        if target_.ndim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError(
                    "Input and target should have the same size in the batch dimension "
                    f"(input {list(input_.shape)}, target {list(target_.shape)})."
                )
            if input_.ndim != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size {input_.shape}")
        elif target_.ndim == 0:
            if input_.ndim != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size {input_.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = target_.ndim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        output = input.new_zeros(target.shape[0])
        head_index = target.clone()  # the head's entry for each row: its class, or its cluster's entry
        bounds = [0] + self.cutoffs
        if target.numel() and (int(target.min()) < 0 or int(target.max()) >= self.n_classes):
            raise RuntimeError(
                f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                f"[{int(target.min())}, {int(target.max())}] were found. "
            )
        for cluster, (low, high) in enumerate(itertools.pairwise(bounds[1:])):
            in_cluster = (target >= low) & (target < high)
            rows = in_cluster.nonzero()[:, 0]
            if rows.numel() == 0:
                continue
            head_index = head_index.index_fill(0, rows, self.shortlist_size + cluster)
            cluster_logprob = F.log_softmax(self.tail[cluster](input.index_select(0, rows)), dim=1)
            local_logprob = cluster_logprob.gather(1, (target[in_cluster] - low).unsqueeze(1)).squeeze(1)
            output = output.index_copy(0, rows, local_logprob)
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, head_index.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input, head_output):
        """All classes' log-probabilities (N, n_classes) from the input and the head's scores."""
        head_logprob = F.log_softmax(head_output, dim=1)
        parts = [head_logprob[:, : self.shortlist_size]]
        for cluster, projection in enumerate(self.tail):
            cluster_logprob = F.log_softmax(projection(input), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + cluster].unsqueeze(1))
        return cat(parts, 1)

    def log_prob(self, input):
        """log p(c | input) for every class: (N, in_features) -> (N, n_classes)."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most probable class of each row, (N,): ``log_prob(input).argmax(1)``, computing the
        tail clusters only for rows whose head prefers a cluster to every shortlist class."""
        head_output = self.head(input)
        output = head_output.argmax(1)
        not_in_shortlist = output >= self.shortlist_size
        if not not_in_shortlist.any():
            return output
        if not_in_shortlist.all():
            return self._get_full_log_prob(input, head_output).argmax(1)
        log_prob = self._get_full_log_prob(input[not_in_shortlist], head_output[not_in_shortlist])
        output[not_in_shortlist] = log_prob.argmax(1)
        return output
