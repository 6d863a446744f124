"""L-BFGS: a quasi-Newton method that estimates the inverse Hessian from the last few steps."""
from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.backend import is_array, is_scalar, xp
from chainrule.optim.optimizer import Optimizer, check_non_negative, hyperparameter
from chainrule.optim.strong_wolfe import strong_wolfe
from chainrule.tensor import Tensor, tensor_from_array


class LBFGS(Optimizer):
    """Limited-memory BFGS, as ``torch.optim.LBFGS`` (after minFunc). ``step`` needs a closure.

    ``step(closure)`` runs up to ``max_iter`` iterations on all parameters as one flat vector ``x``
    with gradient ``g``. Each iteration:

        d = -H g           H, the inverse Hessian, is never formed: the two-loop recursion applies
                           it from the last history_size pairs s = x_new - x, y = g_new - g (a pair
                           is kept only when y.s > 1e-10) and the scale H_diag = y.s / y.y
        t = lr             (min(1, 1 / sum|g|) * lr on the very first iteration)
        x = x + t d        t found by the strong Wolfe line search if line_search_fn="strong_wolfe"

    It stops early when ``max|g| <= tolerance_grad``, when the step or the change of the loss is
    below ``tolerance_change``, or after ``max_eval`` evaluations of the closure. One group only;
    the whole state (history included) is kept under the first parameter, as PyTorch does.
    """

    def __init__(
        self,
        params,
        lr=1,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        check_non_negative(lr=lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self):
        """The parameters (of the one group); read from the group, so an unpickled copy has them."""
        return self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        """Every parameter's gradient as one flat vector (zeros for a parameter without one; a
        sparse gradient made dense)."""
        return xp.concatenate([_flat_gradient(param) for param in self._params])

    def _add_grad(self, step_size, update):
        """``x = x + step_size * update`` on the parameters, ``update`` being flat."""
        offset = 0
        for param in self._params:
            array = param._array
            array += (step_size * update[offset : offset + array.size]).reshape(array.shape)
            param._version += 1
            offset += array.size

    def _set_params(self, arrays):
        for param, array in zip(self._params, arrays):
            param._array[...] = array
            param._version += 1

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at ``x + t d``; the parameters are put back to ``x`` after."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_params(x)
        return loss, flat_grad

    @no_grad()
    def step(self, closure):
        """Run up to ``max_iter`` iterations; ``closure`` clears the gradients, recomputes the loss,
        calls ``backward()`` and returns the loss. Returns the loss of the first evaluation.

        As in PyTorch, only the closure runs with grad mode on: reading its loss as a number
        (``float(loss)``) is then no graph-leaving conversion to warn about."""
        group = self.param_groups[0]
        lr, max_iter, max_eval = hyperparameter(group["lr"]), group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        def evaluate():
            with enable_grad():
                return closure()

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if xp.max(xp.abs(flat_grad)) <= tolerance_grad:
            return orig_loss

        d, t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss = (
            _from_state(state.get(key)) for key in ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "prev_loss")
        )
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = xp.dot(y, s)
                if ys > 1e-10:  # keep only pairs along which the loss curves upwards
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / xp.dot(y, y)
                d = _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, state, history_size)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / xp.sum(xp.abs(flat_grad))) * lr if state["n_iter"] == 1 else lr
            gtd = xp.dot(flat_grad, d)
            if gtd > -tolerance_change:  # not a descent direction any more
                break

            evaluations = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_start = [param._array.copy() for param in self._params]

                def along_d(x, step, direction):
                    return self._directional_evaluate(evaluate, x, step, direction)

                loss, flat_grad, t, evaluations = strong_wolfe(
                    along_d, x_start, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                optimal = xp.max(xp.abs(flat_grad)) <= tolerance_grad
            else:
                self._add_grad(t, d)
                optimal = False
                if n_iter != max_iter:
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    optimal = xp.max(xp.abs(flat_grad)) <= tolerance_grad
                    evaluations = 1
            current_evals += evaluations
            state["func_evals"] += evaluations

            if n_iter == max_iter or current_evals >= max_eval or optimal:
                break
            if xp.max(xp.abs(d * t)) <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        for key, value in dict(
            d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag, prev_flat_grad=prev_flat_grad, prev_loss=prev_loss
        ).items():
            state[key] = _to_state(value)
        return orig_loss


def _two_loop_direction(flat_grad, old_dirs, old_stps, ro, H_diag, state, history_size):
    """``-H flat_grad`` by the L-BFGS two-loop recursion over the stored pairs (s, y)."""
    if "al" not in state:
        state["al"] = [None] * history_size
    al = [_from_state(value) for value in state["al"]]
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):
        al[i] = xp.dot(old_stps[i], q) * ro[i]
        q += old_dirs[i] * -al[i]
    r = q * H_diag
    for i in range(len(old_dirs)):
        be_i = xp.dot(old_dirs[i], r) * ro[i]
        r += old_stps[i] * (al[i] - be_i)
    state["al"] = [_to_state(value) for value in al]
    return r


def _to_state(value):
    """Arrays and NumPy scalars become tensors (PyTorch's state holds tensors), lists item by item."""
    if isinstance(value, list):
        return [_to_state(item) for item in value]
    if is_array(value) or is_scalar(value):
        return tensor_from_array(xp.asarray(value))
    return value


def _from_state(value):
    """The arrays (0-d ones as NumPy scalars) inside what ``_to_state`` stored."""
    if isinstance(value, list):
        return [_from_state(item) for item in value]
    if isinstance(value, Tensor):
        return value._array[()] if value._array.ndim == 0 else value._array
    return value


def _flat_gradient(param):
    grad = param.grad
    if grad is None:
        return xp.zeros(param._array.size, param._array.dtype)
    return (grad._array.to_dense() if grad.is_sparse else grad._array).reshape(-1)
