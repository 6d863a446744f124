"""AdamW: Adam with decoupled weight decay."""
from chainrule.optim.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2017), as ``torch.optim.AdamW``.

    Before the Adam step, each parameter shrinks towards zero: ``p = p - lr * weight_decay * p``.
    Unlike Adam's ``weight_decay`` (an L2 penalty added to the gradient), this decay does not pass
    through the running averages, so it is not scaled down where gradients are large.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        foreach=None,
        capturable=False,
        differentiable=False,
        fused=None,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def _complete_options(self, group):
        """A loaded or unpickled AdamW's decay stays decoupled whatever the saved groups say, as PyTorch's."""
        super()._complete_options(group)
        group["decoupled_weight_decay"] = True
