"""chainrule.compile against eager execution on module-WRITING PATTERNS that change between calls of a
compiled step: ModuleDict routing by a string argument or a module attribute, ModuleList looped with
zip/enumerate and sliced by an attribute, Sequential slicing, add_module/register_module/del/setattr
by name, a property computing a tensor, a module overriding ``__getattr__``, private underscored state
(``_cache``, ``_step``, ``_scale``, ``_mask``) changed between calls or inside the step, nn.Identity
swapped in, a recursive tree module, one submodule under two names, register_parameter and
ParameterList/ParameterDict grown, requires_grad toggled on one ParameterList entry, non-persistent
buffers.

Each test runs the same calls from the same seed eagerly and
compiled, and compares bit for bit what each call returns or raises, the module structure,
parameters (names, values, dtypes, grads, requires_grad), buffers, state_dict keys, optimizer state,
private attributes, Python side effects and the random stream after each call. A compiled run may
record anew or fall back to eager with at most one warning.
"""

import numpy as np

import chainrule
from chainrule import nn, optim
from chainrule.nn import functional as F


from tests.compile.harness import Case, lin, same_as_eager, train_step, with_extra


# ----------------------------------------------------------------------------- ModuleDict routing
class Router(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = lin(3, 4)
        self.heads = nn.ModuleDict({"a": lin(4, 2), "b": nn.Sequential(lin(4, 4), nn.Tanh(), lin(4, 2)),
                                    "c": nn.Identity()})
        self.mode = "a"

    def forward(self, x, route=None):
        h = chainrule.tanh(self.trunk(x))
        head = self.heads[route if route is not None else self.mode]
        out = head(h)
        return out[:, :2]


def test_moduledict_routing_by_string_argument_with_adam():
    def setup():
        net = Router()
        opt = optim.Adam(net.parameters(), lr=0.01)
        return Case(train_step(net, opt), lambda: [net, opt], inputs=with_extra(["a", "b", "a", "c", "b", "c", "a"]))

    same_as_eager(setup, calls=7)


def test_moduledict_routing_by_module_attribute_changed_between_calls():
    def setup():
        net = Router()
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            net.mode = "abcba"[i % 5]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_moduledict_route_attribute_changed_inside_the_forward():
    def setup():
        net = Router()
        order = {"a": "b", "b": "c", "c": "a"}
        inner = net.forward

        def forward(x, route=None):
            out = inner(x)
            net.mode = order[net.mode]
            return out
        net.forward = forward
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: [net, opt, net.mode])

    same_as_eager(setup, calls=7)


def test_moduledict_items_order_and_key_added_between_calls():
    def setup():
        net = nn.Module()
        net.heads = nn.ModuleDict({"p": lin(3, 2), "q": lin(3, 2)})
        seen = []

        def step(x, y):
            for p in net.parameters():
                p.grad = None
            total = 0.0
            for k, (name, head) in enumerate(net.heads.items()):
                seen.append(name)
                total = total + (k + 1) * F.mse_loss(head(x), y)
            total.backward()
            with chainrule.no_grad():
                for p in net.parameters():
                    p -= 0.05 * p.grad
            return total

        def before(i):
            if i == 2:
                net.heads["r"] = lin(3, 2)
            if i == 4:
                net.heads.pop("p")
                net.heads.update({"p": lin(3, 2)})   # same key, now last
        return Case(step, lambda: [net, list(seen)], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- ModuleList loops
class Stack(nn.Module):
    def __init__(self, n=4):
        super().__init__()
        self.layers = nn.ModuleList([lin(3, 3) for _ in range(n)])
        self.norms = nn.ModuleList([nn.LayerNorm(3).double() for _ in range(n)])
        self.scales = [1.0, 0.5, 0.25, 0.125]
        self.k = n

    def forward(self, x):
        for i, (layer, norm) in enumerate(zip(self.layers[: self.k], self.norms)):
            x = x + self.scales[i] * chainrule.tanh(norm(layer(x)))
        return x[:, :2]


def test_modulelist_zip_enumerate_sliced_by_attribute_changed_between_calls():
    def setup():
        net = Stack()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            net.k = [4, 2, 3, 0, 4, 1][i]
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_modulelist_scales_list_mutated_in_place_between_calls():
    def setup():
        net = Stack()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            net.scales[i % 4] = 0.1 * (i + 1)
        return Case(train_step(net, opt), lambda: [net, opt, list(net.scales)], before=before)

    same_as_eager(setup)


def test_modulelist_reversed_and_negative_slice_by_argument():
    def setup():
        layers = nn.ModuleList([lin(3, 3) for _ in range(3)])
        holder = nn.Module()
        holder.layers = layers
        opt = optim.SGD(holder.parameters(), lr=0.1)

        def net(x, rev):
            seq = layers[::-1] if rev else layers[-2:]
            for layer in seq:
                x = chainrule.tanh(layer(x))
            return x[:, :2]
        return Case(train_step(net, opt), lambda: [holder, opt], inputs=with_extra([True, False, False, True, True, False]))

    same_as_eager(setup)


def test_modulelist_k_changed_inside_the_step():
    def setup():
        net = Stack()
        opt = optim.SGD(net.parameters(), lr=0.1)
        inner = train_step(net, opt)

        def step(x, y):
            loss = inner(x, y)
            net.k = (net.k % 4) + 1
            return loss
        return Case(step, lambda: [net, opt, net.k], before=lambda i: None)

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- Sequential slicing
def test_sequential_slices_feature_extractor_and_last_head():
    def setup():
        model = nn.Sequential(lin(3, 4), nn.ReLU(), lin(4, 4), nn.Tanh(), lin(4, 2))
        opt = optim.Adam(model.parameters(), lr=0.01)
        cut = {"k": 2}

        def step(x, y):
            opt.zero_grad()
            feats = model[: cut["k"]](x)
            if feats.shape[1] == 4:
                out = model[-1](chainrule.tanh(feats))
            else:
                out = feats[:, :2]
            loss = F.mse_loss(out, y) + 0.01 * model[-1].weight.pow(2).sum()
            loss.backward()
            opt.step()
            return loss, feats

        def before(i):
            cut["k"] = [2, 4, 2, 3, 1, 4][i]
        return Case(step, lambda: [model, opt], before=before)

    same_as_eager(setup)


def test_sequential_last_layer_replaced_via_negative_index_between_calls():
    def setup():
        model = nn.Sequential(lin(3, 4), nn.Tanh(), lin(4, 2))

        def step(x, y):
            for p in model.parameters():
                p.grad = None
            loss = F.mse_loss(model(x), y)
            loss.backward()
            with chainrule.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
            return loss

        def before(i):
            if i in (2, 4):
                model[-1] = lin(4, 2)
            if i == 3:
                model[-2] = nn.Identity()
        return Case(step, lambda: [model], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- naming APIs
def all_params_step(get_net):
    def step(x, y):
        net = get_net()
        for p in net.parameters():
            p.grad = None
        loss = F.mse_loss(net(x), y)
        loss.backward()
        with chainrule.no_grad():
            for p in net.parameters():
                if p.grad is not None:
                    p -= 0.1 * p.grad
        return loss
    return step


class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.block0 = lin(3, 2)

    def forward(self, x):
        out = 0.0
        for name, child in self.named_children():
            if name.startswith("block"):
                out = out + child(x)
        return out


def test_add_module_register_module_del_and_setattr_by_name_between_calls():
    def setup():
        net = Blocks()

        def before(i):
            if i == 1:
                net.add_module("block1", lin(3, 2))
            if i == 2:
                net.register_module("block2", nn.Sequential(lin(3, 3), nn.Tanh(), lin(3, 2)))
            if i == 3:
                del net.block1
            if i == 4:
                setattr(net, "block0", lin(3, 2))
            if i == 5:
                setattr(net, "block" + "1", nn.Sequential(lin(3, 2)))
                net.add_module("other", lin(3, 2))          # not a block: no grad
        return Case(all_params_step(lambda: net), lambda: [net], before=before)

    same_as_eager(setup)


def test_add_module_overwriting_same_name_with_same_shapes():
    def setup():
        net = Blocks()
        seeds = {"n": 0}

        def before(i):
            if i % 2 == 1:
                seeds["n"] += 1
                net.add_module("block0", lin(3, 2))   # same name, same shapes, new values
        return Case(all_params_step(lambda: net), lambda: [net], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- properties, __getattr__
class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(chainrule.randn(3, 2, dtype=chainrule.float64))
        self.flip = False

    @property
    def weight_t(self):
        return self.w.T if not self.flip else self.w.T.flip(0)

    def forward(self, x):
        h = x @ self.w
        return h @ self.weight_t @ self.w


def test_property_computing_a_tensor_with_flag_changed_between_calls():
    def setup():
        net = Tied()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            net.flip = i in (2, 3, 5)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


class Lookup(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = nn.ModuleDict({"enc": lin(3, 4), "dec": lin(4, 2)})
        self.aliases = {"first": "enc", "second": "dec"}

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            aliases = super().__getattr__("__dict__")["aliases"]
            if name in aliases:
                return self.table[aliases[name]]
            raise

    def forward(self, x):
        return self.second(chainrule.tanh(self.first(x)))


def test_module_overriding_getattr_with_aliases_changed_between_calls():
    def setup():
        net = Lookup()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                net.table["enc2"] = lin(3, 4)
                net.aliases["first"] = "enc2"
            if i == 4:
                net.aliases["first"] = "enc"
        return Case(train_step(net, opt), lambda: [net], before=before)

    same_as_eager(setup)


# ----------------------------------------------------------------------------- private state
class Private(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = lin(3, 2)
        self._step = 0
        self._scale = 1.0
        self._mask = chainrule.ones(4, 2, dtype=chainrule.float64)
        self._cache = None

    def forward(self, x):
        self._step += 1
        out = self.fc(x) * self._scale * self._mask
        if self._cache is not None:
            out = out + 0.5 * self._cache
        if self._step % 2 == 0:
            out = out * 2.0
        self._cache = out.detach()
        return out


def private_view(net):
    return [net, net._step, net._scale, net._mask, net._cache]


def test_private_step_and_cache_updated_inside_the_step():
    def setup():
        net = Private()
        opt = optim.SGD(net.parameters(), lr=0.1)
        return Case(train_step(net, opt), lambda: private_view(net))

    same_as_eager(setup, calls=7)


def test_private_scale_float_and_mask_tensor_changed_between_calls():
    def setup():
        net = Private()
        opt = optim.Adam(net.parameters(), lr=0.01)

        def before(i):
            if i == 1:
                net._scale = 0.5
            if i == 2:
                net._mask[0, 0] = 0.0                    # in place
            if i == 3:
                net._mask = chainrule.zeros(4, 2, dtype=chainrule.float64) + 3.0  # rebound
            if i == 4:
                net._cache = None
                net._scale = 2.0
            if i == 5:
                net._step = 10
        return Case(train_step(net, opt), lambda: private_view(net), before=before)

    same_as_eager(setup)


def test_private_cache_cleared_and_mask_resampled_inside_the_step():
    def setup():
        net = Private()
        opt = optim.SGD(net.parameters(), lr=0.1)
        inner = train_step(net, opt)

        def step(x, y):
            loss = inner(x, y)
            if net._step % 3 == 0:
                net._cache = None
            net._mask = (chainrule.rand(4, 2, dtype=chainrule.float64) > 0.3).double()
            net._scale = float(loss.item()) if net._step == 2 else net._scale
            return loss
        return Case(step, lambda: private_view(net))

    same_as_eager(setup, calls=7)


# ----------------------------------------------------------------------------- Identity, trees, aliases
def test_identity_swapped_in_and_out_for_a_layer_between_calls():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.inp = lin(3, 4)
                self.mid = lin(4, 4)
                self.out = lin(4, 2)

            def forward(self, x):
                return self.out(chainrule.relu(self.mid(chainrule.tanh(self.inp(x)))))

        net = Net()
        saved = net.mid
        opt = optim.SGD(net.parameters(), lr=0.1, momentum=0.9)

        def before(i):
            if i == 2:
                net.mid = nn.Identity()
            if i == 4:
                net.mid = saved
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


class Tree(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.leaf = lin(3, 3)
        self.depth = depth
        if depth > 0:
            self.left = Tree(depth - 1)
            self.right = Tree(depth - 1)
        self.use_right = True

    def forward(self, x):
        out = chainrule.tanh(self.leaf(x))
        if self.depth > 0:
            out = out + self.left(out)
            if self.use_right:
                out = out * self.right(x).sigmoid()
        return out


def test_recursive_tree_module_with_branch_flags_changed_between_calls():
    def setup():
        tree = Tree(2)
        opt = optim.Adam(tree.parameters(), lr=0.01)

        def net(x):
            return tree(x)[:, :2]

        def before(i):
            tree.left.use_right = i % 2 == 0
            tree.use_right = i != 3
            if i == 4:
                tree.right.left = Tree(1)   # subtree replaced
        return Case(train_step(net, opt), lambda: [tree, opt], before=before)

    same_as_eager(setup)


def test_same_submodule_registered_under_two_names_then_one_name_rebound():
    def setup():
        shared = lin(3, 3)
        net = nn.Module()
        net.a = shared
        net.b = shared

        def step(x, y):
            return net.b(x).detach()

        def before(i):
            if i == 2:
                net.b = lin(3, 3)
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=3)


def test_distinct_submodules_one_rebound_between_calls():
    def setup():
        net = nn.Module()
        net.a = lin(3, 3)
        net.b = lin(3, 3)

        def step(x, y):
            return net.b(net.a(x)).detach()

        def before(i):
            if i == 2:
                net.b = lin(3, 3)
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=3)


# ----------------------------------------------------------------------------- parameters and buffers
def test_register_parameter_between_calls_read_with_getattr_default():
    def setup():
        net = nn.Module()

        def step(x, y):
            gain = getattr(net, "gain", None)
            return x * 2.0 if gain is None else (x * gain).detach()

        def before(i):
            if i == 2:
                net.register_parameter("gain", nn.Parameter(chainrule.ones(3, dtype=chainrule.float64) * 1.5))
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=3)


def test_register_parameter_set_to_none_then_registered_again():
    def setup():
        net = nn.Module()
        net.register_parameter("gain", nn.Parameter(chainrule.ones(3, dtype=chainrule.float64)))

        def step(x, y):
            return x * 2.0 if net.gain is None else (x * net.gain).detach()

        def before(i):
            if i == 1:
                net.register_parameter("gain", None)
            if i == 2:
                net.register_parameter("gain", nn.Parameter(chainrule.full((3,), 0.5, dtype=chainrule.float64)))
        return Case(step, lambda: [net], before=before)

    same_as_eager(setup, calls=3)


def test_parameterlist_grown_and_one_entry_requires_grad_toggled():
    def setup():
        net = nn.Module()
        net.ws = nn.ParameterList([nn.Parameter(chainrule.randn(3, 2, dtype=chainrule.float64))])
        opt_holder = {}

        def forward(x):
            out = 0.0
            for k, w in enumerate(net.ws):
                out = out + (x @ w) / (k + 1)
            return out
        net.forward = forward

        def before(i):
            if i in (1, 3):
                net.ws.append(nn.Parameter(chainrule.randn(3, 2, dtype=chainrule.float64)))
            if i == 2:
                net.ws[0].requires_grad_(False)
            if i == 4:
                net.ws[0].requires_grad_(True)
                net.ws[1].requires_grad = False
        return Case(all_params_step(lambda: net), lambda: [net], before=before)

    same_as_eager(setup)


def test_parameterlist_with_adam_rebuilt_when_grown():
    def setup():
        net = nn.Module()
        net.ws = nn.ParameterList([nn.Parameter(chainrule.randn(3, 2, dtype=chainrule.float64))])
        holder = {"opt": optim.Adam(net.parameters(), lr=0.01)}

        def forward(x):
            return sum((x @ w) for w in net.ws)
        net.forward = forward

        def step(x, y):
            opt = holder["opt"]
            opt.zero_grad()
            loss = F.mse_loss(net(x), y)
            loss.backward()
            opt.step()
            return loss

        def before(i):
            if i == 3:
                net.ws.extend([nn.Parameter(chainrule.zeros(3, 2, dtype=chainrule.float64))])
                holder["opt"].add_param_group({"params": [net.ws[-1]], "lr": 0.05})
        return Case(step, lambda: [net, holder["opt"]], before=before)

    same_as_eager(setup)


def test_parameterdict_grown_between_calls_grads_cleared_over_parameters():
    def setup():
        pd = nn.ParameterDict({"u": nn.Parameter(chainrule.ones(3, dtype=chainrule.float64))})

        def step(x, y):
            for p in pd.parameters():
                p.grad = None
            return x * 2.0

        def before(i):
            if i == 1:
                pd["v"] = nn.Parameter(chainrule.ones(3, dtype=chainrule.float64))
                pd["v"].grad = chainrule.ones(3, dtype=chainrule.float64)
        return Case(step, lambda: [pd], before=before)

    same_as_eager(setup, calls=2)


def test_non_persistent_buffer_updated_inside_step_and_toggled_between_calls():
    def setup():
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = lin(3, 2)
                self.register_buffer("ema", chainrule.zeros(2, dtype=chainrule.float64), persistent=False)
                self.register_buffer("count", chainrule.tensor(0), persistent=True)

            def forward(self, x):
                out = self.fc(x)
                with chainrule.no_grad():
                    self.ema.mul_(0.9).add_(0.1 * out.mean(0))
                    self.count += 1
                return out - self.ema

        net = Net()
        opt = optim.SGD(net.parameters(), lr=0.1)

        def before(i):
            if i == 2:
                net.register_buffer("ema", chainrule.ones(2, dtype=chainrule.float64), persistent=True)
            if i == 4:
                net.register_buffer("ema", net.ema.clone(), persistent=False)
        return Case(train_step(net, opt), lambda: [net, opt], before=before)

    same_as_eager(setup)


def test_parameterdict_membership_test_after_key_added():
    def setup():
        pd = nn.ParameterDict({"u": nn.Parameter(chainrule.ones(3, dtype=chainrule.float64))})

        def step(x, y):
            w = pd["v"] if "v" in pd else pd["u"]
            return (x * w).detach()

        def before(i):
            if i == 1:
                pd["v"] = nn.Parameter(chainrule.full((3,), 5.0, dtype=chainrule.float64))
        return Case(step, lambda: [pd], before=before)

    same_as_eager(setup, calls=2)


def test_attribute_added_to_a_simple_namespace_config_between_calls():
    """getattr(config, "gain", None) on a SimpleNamespace: an attribute added later records anew."""
    import types

    config = types.SimpleNamespace(scale=2.0)
    step = chainrule.compile(lambda x: x * config.scale if getattr(config, "gain", None) is None else x * config.gain)
    x = chainrule.ones(3)
    assert step(x).tolist() == step(x).tolist() == [2.0, 2.0, 2.0]
    config.gain = 5.0
    assert step(x).tolist() == [5.0, 5.0, 5.0]
