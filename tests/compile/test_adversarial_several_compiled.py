"""chainrule.compile against eager execution where SEVERAL COMPILED FUNCTIONS INTERACT: a train and
an eval step sharing one model, a GAN's two steps, a compiled teacher inside a compiled student step,
nested and recursive compiled calls, a compiled module inside a compiled step, one function compiled
twice, tied weights with a step per model, optimizers and models swapped under a compiled step,
closures made in a loop, lambdas, partials, bound methods, and ``reset()`` between calls.

Each scenario is a ``loop(lib, compile, log)`` run twice from seed 0 and the same weights: eagerly
(``compile`` is the identity) and compiled (``compile`` is ``chainrule.compile``). Everything logged
(returned values, parameters, grads, buffers, optimizer state, the random stream afterwards) must be
equal bit for bit; a compiled function may fall back to eager with at most one warning.
"""
import functools
import warnings

import numpy as np
import pytest

import chainrule
from tests.compile.bitwise import assert_identical


# ----------------------------------------------------------------------------- the harness
def numpy_of(value):
    if isinstance(value, chainrule.Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, dict):
        return {key: numpy_of(item) for key, item in value.items() if not callable(item)}
    if isinstance(value, (list, tuple)):
        return type(value)(numpy_of(item) for item in value)
    return value


class Log:
    def __init__(self):
        self.entries = []

    def value(self, value):
        self.entries.append(("value", numpy_of(value)))

    def state(self, *things):
        for thing in things:
            if isinstance(thing, chainrule.nn.Module):
                self.entries.append(("params", {n: numpy_of(p) for n, p in thing.named_parameters()}))
                self.entries.append(("grads", {n: numpy_of(p.grad) for n, p in thing.named_parameters()}))
                self.entries.append(("buffers", {n: numpy_of(b) for n, b in thing.named_buffers()}))
                self.entries.append(("modes", [m.training for m in thing.modules()]))
            elif isinstance(thing, chainrule.Tensor):
                self.entries.append(("tensor", (numpy_of(thing), numpy_of(thing.grad))))
            else:  # optimizer or scheduler
                self.entries.append(("state", numpy_of(thing.state_dict())))


def run(loop, compiled):
    made = []

    def compile_(function, **options):
        made.append(chainrule.compile(function, **options))
        return made[-1]

    chainrule.manual_seed(0)
    log = Log()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loop(compile_ if compiled else (lambda function, **options: function), log)
    log.entries.append(("random", chainrule.default_generator.state_bytes()))
    return log.entries, made, [str(w.message) for w in caught if "chainrule.compile" in str(w.message)]


def assert_same_as_eager(loop, replays=True):
    """Compiled logs what eager logs, bit for bit. With ``replays``: no compiled function fell back
    to eager (so the comparison exercises replays); otherwise each may fall back once."""
    eager, _, eager_warnings = run(loop, compiled=False)
    compiled, made, warned = run(loop, compiled=True)
    assert not eager_warnings
    assert [k for k, _ in compiled] == [k for k, _ in eager], "the loops logged different things"
    for index, ((kind, first), (_, second)) in enumerate(zip(eager, compiled)):
        assert_identical(second, first, f"entry {index} ({kind})")
    if replays:
        assert warned == [], warned
        assert all(f.eager_reason is None for f in made), [f.eager_reason for f in made]
        assert any(map(recorded, made)), "nothing was recorded"
    else:
        assert len(warned) <= len(made), warned
    return made


def recorded(function):
    """How many recordings a compiled function (and, as a method, each instance's) holds."""
    return sum(map(len, function.recordings.values())) + sum(recorded(compiled) for _, compiled in function._per_instance.values())


def init(module, seed=1):
    generator = np.random.default_rng(seed)
    with chainrule.no_grad():
        for parameter in module.parameters():
            parameter.copy_(chainrule.tensor(generator.normal(scale=0.4, size=tuple(parameter.shape)).astype(np.float32)))
    return module


def mlp(inputs=3, hidden=6, outputs=2, seed=1, dropout=None, norm=False):
    nn = chainrule.nn
    layers = [nn.Linear(inputs, hidden)]
    if norm:
        layers.append(nn.BatchNorm1d(hidden))
    layers.append(nn.Tanh())
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, outputs))
    return init(nn.Sequential(*layers), seed)


def batches(n=6, size=4, inputs=3, outputs=2, seed=10):
    generator = np.random.default_rng(seed)
    return [
        (chainrule.tensor(generator.normal(size=(size, inputs)).astype(np.float32)),
         chainrule.tensor(generator.normal(size=(size, outputs)).astype(np.float32)))
        for _ in range(n)
    ]


mse = chainrule.nn.functional.mse_loss


# ----------------------------------------------------------------------------- train and eval steps
def test_train_and_eval_steps_sharing_a_model_alternated_irregularly():
    """The train step puts the model in train mode, the eval step in eval mode (dropout off, batch
    norm's running statistics used); they are called in an irregular order."""

    def loop(compile, log):
        model = mlp(dropout=0.3, norm=True)
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def train(x, y):
            model.train()
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def evaluate(x, y):
            model.eval()
            with chainrule.no_grad():
                return mse(model(x), y)

        train, evaluate = compile(train), compile(evaluate)
        data = batches(8)
        for which, (x, y) in zip("tteteettte", data + data[:2]):
            log.value(train(x, y) if which == "t" else evaluate(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop)


def test_eval_step_that_leaves_mode_to_the_caller():
    """The eval step does not set the mode: the caller flips train()/eval() between calls."""

    def loop(compile, log):
        model = mlp(dropout=0.5, norm=True)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def train(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        @chainrule.no_grad()
        def predict(x):
            return model(x)

        train, predict = compile(train), compile(predict)
        for index, (x, y) in enumerate(batches(7)):
            model.train()
            log.value(train(x, y))
            if index % 3 != 1:
                model.eval()
            log.value(predict(x))
            log.state(model)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- GAN
def test_gan_with_a_compiled_discriminator_step_and_a_compiled_generator_step():
    def loop(compile, log):
        nn = chainrule.nn
        G = init(nn.Sequential(nn.Linear(2, 6), nn.ReLU(), nn.Linear(6, 3)), seed=2)
        D = init(nn.Sequential(nn.Linear(3, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1)), seed=3)
        opt_g = chainrule.optim.Adam(G.parameters(), lr=0.01, betas=(0.5, 0.999))
        opt_d = chainrule.optim.Adam(D.parameters(), lr=0.01, betas=(0.5, 0.999))
        bce = nn.BCEWithLogitsLoss()

        def d_step(real):
            z = chainrule.randn(real.shape[0], 2)
            fake = G(z)
            opt_d.zero_grad()
            loss = bce(D(real), chainrule.ones(real.shape[0], 1)) + bce(D(fake.detach()), chainrule.zeros(real.shape[0], 1))
            loss.backward()
            opt_d.step()
            return loss.detach(), fake.detach()

        def g_step(n):
            z = chainrule.randn(n, 2)
            opt_g.zero_grad()
            loss = bce(D(G(z)), chainrule.ones(n, 1))
            loss.backward()
            opt_g.step()
            return loss.detach()

        d_step, g_step = compile(d_step), compile(g_step)
        for index, (x, _) in enumerate(batches(6, inputs=3)):
            loss, fake = d_step(x)
            log.value((loss, fake))
            if index % 2 == 0:
                log.value(g_step(4))
            log.state(G, D, opt_g, opt_d)

    assert_same_as_eager(loop)


def test_gan_where_the_generator_step_leaves_grads_in_the_discriminator():
    """The G step does not zero D's grads after backward, and the D step zeroes only after using
    them (grads leak across the two compiled functions, as users' GANs often do)."""

    def loop(compile, log):
        nn = chainrule.nn
        G = init(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)), seed=2)
        D = init(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), seed=3)
        opt_g = chainrule.optim.SGD(G.parameters(), lr=0.05, momentum=0.5)
        opt_d = chainrule.optim.SGD(D.parameters(), lr=0.05, momentum=0.5)

        def d_step(real, z):
            loss = -(D(real).mean() - D(G(z).detach()).mean())
            loss.backward()  # adds to whatever the G step left in D's grads
            opt_d.step()
            opt_d.zero_grad()
            return loss.detach()

        def g_step(z):
            opt_g.zero_grad()
            loss = -D(G(z)).mean()
            loss.backward()
            opt_g.step()
            return loss.detach()

        d_step, g_step = compile(d_step), compile(g_step)
        for index, (x, _) in enumerate(batches(7)):
            z = chainrule.randn(4, 2)
            log.value(d_step(x, z))
            if index % 3 != 2:
                log.value(g_step(z))
            log.state(G, D, opt_g, opt_d)

    assert_same_as_eager(loop, replays=False)


def test_a_step_that_zeroes_grads_last_and_returns_the_detached_loss_made_after():
    def loop(compile, log):
        model = chainrule.nn.Linear(3, 1)
        init(model)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.05)

        def step(x):
            loss = model(x).mean()
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            return loss.detach()

        step = compile(step)
        for x, _ in batches(4):
            log.value(step(x))
            log.state(model)

    assert_same_as_eager(loop)


def test_gan_where_the_generator_step_leaves_grads_in_the_discriminator_zeroed_first():
    """As above, but each step zeroes first: D's grads at the start of the D step are the ones the G
    step left there (or None after a D step), which the D step's backward adds to."""

    def loop(compile, log):
        nn = chainrule.nn
        G = init(nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)), seed=2)
        D = init(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)), seed=3)
        opt_g = chainrule.optim.SGD(G.parameters(), lr=0.05, momentum=0.5)
        opt_d = chainrule.optim.SGD(D.parameters(), lr=0.05, momentum=0.5)

        def d_step(real, z):
            loss = -(D(real).mean() - D(G(z).detach()).mean())
            loss.backward()  # adds to whatever the G step left in D's grads
            opt_d.step()
            return loss.detach()

        def g_step(z):
            opt_g.zero_grad()
            loss = -D(G(z)).mean()
            loss.backward()
            opt_g.step()
            return loss.detach()

        d_step, g_step = compile(d_step), compile(g_step)
        for index, (x, _) in enumerate(batches(8)):
            z = chainrule.randn(4, 2)
            if index % 4 == 3:
                opt_d.zero_grad()
            log.value(d_step(x, z))
            if index % 3 != 2:
                log.value(g_step(z))
            log.state(G, D, opt_g, opt_d)

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- teacher and student, EMA
def test_a_compiled_teacher_module_called_inside_a_compiled_student_step_with_ema_update():
    def loop(compile, log):
        student = mlp(seed=1, dropout=0.2)
        teacher_model = mlp(seed=1, dropout=0.2)
        teacher_model.eval()
        teacher = compile(teacher_model)
        optimizer = chainrule.optim.Adam(student.parameters(), lr=0.02)
        decay = 0.9

        def step(x, y):
            with chainrule.no_grad():
                target = teacher(x)
            optimizer.zero_grad()
            out = student(x)
            loss = mse(out, target) + 0.5 * mse(out, y)
            loss.backward()
            optimizer.step()
            with chainrule.no_grad():
                for t, s in zip(teacher_model.parameters(), student.parameters()):
                    t.mul_(decay).add_(s, alpha=1 - decay)
            return loss.detach()

        step = compile(step)
        for index, (x, y) in enumerate(batches(7)):
            log.value(step(x, y))
            if index % 2:
                with chainrule.no_grad():
                    log.value(teacher(x))  # the compiled teacher called on its own too
            log.state(student, teacher_model, optimizer)

    assert_same_as_eager(loop)


def test_a_compiled_teacher_called_with_grad_inside_the_student_step_and_detached():
    """The teacher is called with grad enabled (its output requires grad, with a backward for
    later), then detached: the teacher's parameters must get no grad."""

    def loop(compile, log):
        student, teacher_model = mlp(seed=1), mlp(seed=4)
        teacher = compile(teacher_model)
        optimizer = chainrule.optim.SGD(student.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            target = teacher(x).detach()
            loss = mse(student(x), target)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for x, _ in batches(6):
            log.value(step(x))
            log.value(teacher(x))
            log.state(student, teacher_model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_an_averaged_model_updated_by_its_own_compiled_function_and_evaluated_by_another():
    def loop(compile, log):
        model = mlp(seed=1)
        average = chainrule.optim.swa_utils.AveragedModel(model, multi_avg_fn=chainrule.optim.swa_utils.get_ema_multi_avg_fn(0.8))
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def update():
            average.update_parameters(model)

        @chainrule.no_grad()
        def evaluate(x, y):
            return mse(average(x), y), mse(model(x), y)

        step, update, evaluate = compile(step), compile(update), compile(evaluate)
        for index, (x, y) in enumerate(batches(7)):
            log.value(step(x, y))
            if index % 2 == 0:
                update()
            log.value(evaluate(x, y))
            log.state(model, average)

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- nesting and recursion
def test_a_compiled_function_calling_another_compiled_function():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def loss_of(x, y):
            return mse(model(x), y)

        loss_of = compile(loss_of)

        def step(x, y):
            optimizer.zero_grad()
            loss = loss_of(x, y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for index, (x, y) in enumerate(batches(7)):
            log.value(step(x, y))
            if index % 2:
                with chainrule.no_grad():
                    log.value(loss_of(x, y))  # the inner one on its own, between outer calls
            if index == 3:
                log.value(loss_of(x, y))  # with grad: a backward for later, never run
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_the_inner_compiled_function_called_first_on_its_own_then_nested():
    """The inner function is recorded (with a deferred backward) before the outer one calls it."""

    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.05)
        forward = compile(lambda x: model(x))

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(forward(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        data = batches(6)
        for x, y in data:
            loss = mse(forward(x), y)  # the compiled forward outside, backward eager
            loss.backward()
            log.value(loss)
            log.state(model)
            log.value(step(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_a_compiled_function_calling_itself_recursively():
    def loop(compile, log):
        model = mlp(inputs=2, outputs=2)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.05)

        def unroll(h, depth):
            if depth == 0:
                return h
            return unroll(chainrule.tanh(model(h)) + h, depth - 1)

        unroll = compile(unroll)

        def step(x, depth):
            optimizer.zero_grad()
            loss = unroll(x, depth).pow(2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for index, (x, _) in enumerate(batches(7, inputs=2)):
            log.value(step(x, 1 + index % 3))
            with chainrule.no_grad():
                log.value(unroll(x, 2))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- compiled modules in compiled steps
def test_a_compiled_module_called_twice_per_step_siamese():
    """One compiled model called on two inputs inside a compiled step, and also outside it, with
    the backward of the outside calls run eagerly over both outputs."""

    def loop(compile, log):
        encoder = mlp(outputs=3)
        compiled = compile(encoder)
        optimizer = chainrule.optim.SGD(compiled.parameters(), lr=0.05, momentum=0.9)

        def step(a, b):
            optimizer.zero_grad()
            loss = (compiled(a) - compiled(b)).pow(2).sum(1).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        data = batches(7)
        for index, ((a, _), (b, _)) in enumerate(zip(data, data[1:] + data[:1])):
            if index % 3 == 2:  # outside any compiled step: two pending deferred backwards
                optimizer.zero_grad()
                loss = (compiled(a) - compiled(b)).pow(2).sum(1).mean()
                loss.backward()
                optimizer.step()
                log.value(loss)
            else:
                log.value(step(a, b))
            log.state(encoder, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_the_output_of_a_compiled_model_backpropagated_inside_another_compiled_function():
    def loop(compile, log):
        model = mlp()
        compiled = compile(model)
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def backward_and_step(out, y):
            optimizer.zero_grad()
            loss = mse(out, y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        backward_and_step = compile(backward_and_step)
        for x, y in batches(6):
            log.value(backward_and_step(compiled(x), y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_a_compiled_forward_with_backward_outside_then_a_compiled_optimizer_step():
    def loop(compile, log):
        model = mlp(norm=True)
        compiled = compile(model)
        optimizer = chainrule.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5)

        def apply():
            chainrule.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            optimizer.zero_grad()

        apply = compile(apply)
        for index, (x, y) in enumerate(batches(7)):
            loss = mse(compiled(x), y)
            loss.backward()
            log.value(loss)
            if index % 2:
                apply()
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- the same function compiled twice
def test_one_function_compiled_twice_and_the_two_wrappers_interleaved():
    def loop(compile, log):
        model = mlp(dropout=0.25)
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        first, second = compile(step), compile(step)
        for which, (x, y) in zip("aabababbba", batches(10)):
            log.value((first if which == "a" else second)(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop)


def test_a_compiled_function_compiled_again():
    """``compile(compile(step))``: the outer wrapper records the inner one's calls."""

    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.5, nesterov=True)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        inner = compile(step)
        outer = compile(inner)
        for index, (x, y) in enumerate(batches(8)):
            log.value((outer if index % 3 else inner)(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- weight tying
def test_two_models_sharing_a_parameter_each_with_its_own_compiled_step():
    def loop(compile, log):
        nn = chainrule.nn
        shared = init(nn.Linear(3, 5), seed=5)
        a = nn.Sequential(shared, nn.Tanh(), init(nn.Linear(5, 2), seed=6))
        b = nn.Sequential(shared, nn.ReLU(), init(nn.Linear(5, 1), seed=7))
        opt_a = chainrule.optim.Adam(a.parameters(), lr=0.02)
        opt_b = chainrule.optim.SGD(b.parameters(), lr=0.05, momentum=0.9)

        def step_a(x, y):
            opt_a.zero_grad()
            loss = mse(a(x), y)
            loss.backward()
            opt_a.step()
            return loss.detach()

        def step_b(x):
            opt_b.zero_grad()
            loss = b(x).pow(2).mean()
            loss.backward()
            opt_b.step()
            return loss.detach()

        step_a, step_b = compile(step_a), compile(step_b)
        for index, (x, y) in enumerate(batches(9)):
            if index % 3 != 1:
                log.value(step_a(x, y))
            if index % 2 == 0:
                log.value(step_b(x))
            log.state(a, b, opt_a, opt_b)

    assert_same_as_eager(loop)


def test_tied_input_and_output_embeddings_with_two_compiled_steps_not_zeroing_each_others_grads():
    def loop(compile, log):
        nn = chainrule.nn
        embedding = nn.Embedding(6, 4)
        head = nn.Linear(4, 6, bias=False)
        head.weight = embedding.weight
        init(embedding, seed=8)
        optimizer = chainrule.optim.SGD(embedding.parameters(), lr=0.1)

        def lm_step(tokens, targets):
            optimizer.zero_grad()
            loss = chainrule.nn.functional.cross_entropy(head(embedding(tokens)), targets)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def auxiliary(tokens):
            loss = embedding(tokens).pow(2).mean() * 0.1
            loss.backward()  # leaves a grad that lm_step's zero_grad clears
            return loss.detach()

        lm_step, auxiliary = compile(lm_step), compile(auxiliary)
        generator = np.random.default_rng(3)
        for index in range(7):
            tokens = chainrule.tensor(generator.integers(0, 6, size=5))
            targets = chainrule.tensor(generator.integers(0, 6, size=5))
            if index % 2:
                log.value(auxiliary(tokens))
                log.state(embedding)
            log.value(lm_step(tokens, targets))
            log.state(embedding, head, optimizer)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- swapped objects
def test_the_optimizer_swapped_for_a_new_one_between_calls():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        makers = [
            lambda: chainrule.optim.Adam(model.parameters(), lr=0.02),  # the same kind and settings: fresh state
            lambda: chainrule.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
            lambda: chainrule.optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
        ]
        for index, (x, y) in enumerate(batches(9)):
            if index in (3, 5, 7):
                optimizer = makers[(index - 3) // 2]()
            log.value(step(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


MODEL = None
OPTIMIZER = None


def global_step(x, y):
    OPTIMIZER.zero_grad()
    loss = mse(MODEL(x), y)
    loss.backward()
    OPTIMIZER.step()
    return loss.detach()


def test_the_model_and_optimizer_replaced_by_reassigning_globals_between_calls():
    global MODEL, OPTIMIZER

    def loop(compile, log):
        global MODEL, OPTIMIZER
        models = [mlp(seed=1), mlp(seed=2), mlp(seed=3, dropout=0.3)]
        optimizers = [chainrule.optim.SGD(m.parameters(), lr=0.1, momentum=0.5) for m in models]
        step = compile(global_step)
        for index, (x, y) in enumerate(batches(10)):
            which = [0, 0, 1, 0, 2, 2, 1, 0, 2, 1][index]
            MODEL, OPTIMIZER = models[which], optimizers[which]
            log.value(step(x, y))
            log.state(*models, *optimizers)

    try:
        assert_same_as_eager(loop)
    finally:
        MODEL = OPTIMIZER = None


def test_a_submodule_replaced_by_a_same_shaped_one_between_calls():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
        spare = init(chainrule.nn.Linear(6, 2), seed=9)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for index, (x, y) in enumerate(batches(6)):
            if index == 3:
                old = model[2]
                model[2] = spare  # the optimizer still holds the old layer's parameters
                spare = old
            log.value(step(x, y))
            log.state(model, spare, optimizer)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- closures, lambdas, partials, methods
def test_a_new_compiled_closure_each_epoch_over_loop_variables():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
        data = batches(3)
        for epoch, scale in enumerate((1.0, 0.5, 0.25, 0.5)):
            def step(x, y):
                optimizer.zero_grad()
                loss = mse(model(x), y) * scale + epoch * 0.01 * model[0].weight.pow(2).sum()
                loss.backward()
                optimizer.step()
                return loss.detach()

            step = compile(step)
            for x, y in data:
                log.value(step(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop)


def test_closures_made_in_a_loop_capturing_the_loop_variable_late():
    """The classic late-binding closure: every step made in the loop reads the loop's variable,
    which the loop goes on changing after the steps were compiled and called."""

    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
        steps = []
        for weight in (1.0, 2.0, 3.0):
            def step(x, y):
                optimizer.zero_grad()
                loss = mse(model(x), y) * weight
                loss.backward()
                optimizer.step()
                return loss.detach()

            steps.append(compile(step))
            x, y = batches(1, seed=int(weight))[0]
            log.value(steps[-1](x, y))
        for index, (x, y) in enumerate(batches(6)):
            log.value(steps[index % 3](x, y))  # all read weight == 3.0 now
            log.state(model, optimizer)

    assert_same_as_eager(loop)


def test_compiled_lambdas_and_partials_sharing_a_model():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def weighted_step(x, y, weight, reduction):
            optimizer.zero_grad()
            loss = mse(model(x), y, reduction=reduction) * weight
            loss.backward()
            optimizer.step()
            return loss.detach()

        light = compile(functools.partial(weighted_step, weight=0.5, reduction="mean"))
        heavy = compile(functools.partial(weighted_step, weight=2.0, reduction="sum"))
        predict = compile(lambda x: model(x).detach())
        for index, (x, y) in enumerate(batches(8)):
            log.value((light if index % 3 else heavy)(x, y))
            log.value(predict(x))
            log.state(model, optimizer)

    assert_same_as_eager(loop)  # a partial replays: what it binds and what its function reads are guarded


def test_a_partial_whose_bound_keyword_is_changed_between_calls():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y, weight):
            optimizer.zero_grad()
            loss = mse(model(x), y) * weight
            loss.backward()
            optimizer.step()
            return loss.detach()

        bound = functools.partial(step, weight=1.0)
        compiled = compile(bound)
        for index, (x, y) in enumerate(batches(6)):
            bound.keywords["weight"] = 1.0 + index  # a partial's keywords dict may be changed in place
            log.value(compiled(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop)  # each new weight records anew


def test_compiled_bound_methods_of_two_instances_of_one_class():
    class Trainer:
        def __init__(self, seed, lr):
            self.model = mlp(seed=seed, dropout=0.2)
            self.optimizer = chainrule.optim.SGD(self.model.parameters(), lr=lr, momentum=0.9)
            self.scale = 1.0

        def step(self, x, y):
            self.optimizer.zero_grad()
            loss = mse(self.model(x), y) * self.scale
            loss.backward()
            self.optimizer.step()
            return loss.detach()

    def loop(compile, log):
        a, b = Trainer(1, 0.1), Trainer(2, 0.05)
        a.step, b.step = compile(a.step), compile(b.step)
        for index, (x, y) in enumerate(batches(8)):
            if index == 4:
                b.scale = 0.5
            log.value(a.step(x, y) if index % 3 else b.step(x, y))
            log.state(a.model, b.model, a.optimizer, b.optimizer)

    assert_same_as_eager(loop)


def test_a_method_decorated_with_compile_in_the_class_body_on_two_instances():
    def loop(compile, log):
        class Trainer:
            def __init__(self, seed):
                self.model = mlp(seed=seed)
                self.optimizer = chainrule.optim.Adam(self.model.parameters(), lr=0.02)

            @compile
            def step(self, x, y):
                self.optimizer.zero_grad()
                loss = mse(self.model(x), y)
                loss.backward()
                self.optimizer.step()
                return loss.detach()

        a, b = Trainer(1), Trainer(2)
        for index, (x, y) in enumerate(batches(8)):
            log.value((a if index % 2 else b).step(x, y))
            if index == 5:
                a.model, b.model = b.model, a.model  # swapped models, optimizers stay
            log.state(a.model, b.model, a.optimizer, b.optimizer)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- reset
@pytest.mark.parametrize("reset", ["dynamo", "compiler", "method"])
def test_reset_between_calls_of_two_compiled_steps(reset):
    def loop(compile, log):
        model = mlp(norm=True)
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def train(x, y):
            model.train()
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        @chainrule.no_grad()
        def evaluate(x):
            model.eval()
            return model(x)

        train, evaluate = compile(train), compile(evaluate)
        for index, (x, y) in enumerate(batches(8)):
            log.value(train(x, y))
            if index % 3 == 1:
                if reset == "dynamo":
                    chainrule._dynamo.reset()
                elif reset == "compiler":
                    chainrule.compiler.reset()
                elif hasattr(train, "reset"):
                    train.reset()
            log.value(evaluate(x))
            log.state(model, optimizer)

    assert_same_as_eager(loop)


# ----------------------------------------------------------------------------- what only the inner compiled function reads


def nested_reader(change):
    """The outer step reaches the model only through the optimizer's parameters; the model itself,
    its modes and a config dict are read only by the inner compiled ``loss_of``. ``change(i, model,
    config)`` changes them between calls."""

    def loop(compile, log):
        model = mlp(dropout=0.5)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
        config = {"scale": 1.0}

        def loss_of(x, y):
            return mse(model(x), y) * config["scale"]

        loss_of = compile(loss_of)

        def step(x, y):
            optimizer.zero_grad()
            loss = loss_of(x, y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for index, (x, y) in enumerate(batches(6)):
            change(index, model, config)
            log.value(step(x, y))
            log.state(model, optimizer)

    return loop


def test_the_model_put_in_eval_mode_between_calls_where_only_a_nested_compiled_function_reads_it():
    assert_same_as_eager(nested_reader(lambda index, model, config: model.train(index % 2 == 0)), replays=False)


def test_a_config_value_changed_between_calls_where_only_a_nested_compiled_function_reads_it():
    def change(index, model, config):
        model.eval()
        config["scale"] = 1.0 + index

    assert_same_as_eager(nested_reader(change), replays=False)


def test_an_activation_swapped_between_calls_where_only_a_nested_compiled_function_reads_it():
    def change(index, model, config):
        model.eval()
        if index == 3:
            model[1] = chainrule.nn.ReLU()

    assert_same_as_eager(nested_reader(change), replays=False)


def test_the_same_changes_where_the_outer_step_reads_the_model_itself():
    """The control: the outer step names the model (through a compiled module), so it is guarded."""

    def loop(compile, log):
        model = mlp(dropout=0.5)
        compiled = compile(model)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)
        config = {"scale": 1.0}

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(compiled(x), y) * config["scale"]
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        for index, (x, y) in enumerate(batches(8)):
            model.train(index % 2 == 0)
            config["scale"] = 1.0 + index % 3
            if index == 5:
                model[1] = chainrule.nn.ReLU()
            log.value(step(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


# ----------------------------------------------------------------------------- a compiled module's pending backward
def test_a_compiled_module_with_a_backward_pending_while_other_compiled_functions_call_it():
    """``out = compiled(x)`` leaves a backward to run later; before it runs, a compiled evaluation
    (no grad) and a compiled step call the same compiled module, and a second forward with grad is
    made and dropped unused."""

    def loop(compile, log):
        model = mlp(norm=True)
        compiled = compile(model)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        @chainrule.no_grad()
        def evaluate(x):
            return compiled(x)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(compiled(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        evaluate, step = compile(evaluate), compile(step)
        data = batches(8)
        for index, ((x, y), (x2, y2)) in enumerate(zip(data, data[1:] + data[:1])):
            out = compiled(x)
            log.value(evaluate(x2))
            if index % 2:
                compiled(x2)  # with grad, never backpropagated
            loss = mse(out, y)
            loss.backward()  # into grads the step below clears
            log.state(model)
            log.value(step(x2, y2))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_weight_tying_made_and_broken_between_calls_of_two_compiled_steps():
    def loop(compile, log):
        nn = chainrule.nn
        encoder, decoder = init(nn.Linear(4, 4), seed=11), init(nn.Linear(4, 4), seed=12)
        own = decoder.weight
        optimizer = chainrule.optim.SGD([*encoder.parameters(), own, decoder.bias], lr=0.05)

        def reconstruct(x):
            optimizer.zero_grad()
            loss = (decoder(chainrule.tanh(encoder(x))) - x).pow(2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        @chainrule.no_grad()
        def code_norm(x):
            return decoder(encoder(x)).norm()

        reconstruct, code_norm = compile(reconstruct), compile(code_norm)
        for index, (x, _) in enumerate(batches(8, inputs=4)):
            if index == 2:
                decoder.weight = encoder.weight  # tied
            if index == 5:
                decoder.weight = own  # untied again
            log.value(reconstruct(x))
            log.value(code_norm(x))
            log.state(encoder, decoder, optimizer)

    assert_same_as_eager(loop)


def test_a_scheduler_stepped_by_the_train_step_and_read_by_the_eval_step():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
        scheduler = chainrule.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

        def train(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            return loss.detach()

        @chainrule.no_grad()
        def evaluate(x, y):
            return mse(model(x), y) * optimizer.param_groups[0]["lr"]

        train, evaluate = compile(train), compile(evaluate)
        for index, (x, y) in enumerate(batches(9)):
            log.value(train(x, y))
            log.value(evaluate(x, y))
            log.state(model, optimizer, scheduler)

    assert_same_as_eager(loop)




def test_a_compiled_epoch_that_falls_back_midway_then_calls_a_compiled_step_in_its_loop():
    """The outer ``epoch`` reads a loss into Python (``.item()``) after its first step: its recording
    stops there and it goes on eagerly, calling the compiled step, which records and replays while
    the outer recording's hooks are still installed."""

    def loop(compile, log):
        model = mlp(dropout=0.2)
        optimizer = chainrule.optim.Adam(model.parameters(), lr=0.02)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)

        def epoch(data):
            losses = []
            for x, y in data:
                loss = step(x, y)
                losses.append(loss.item())
                if len(losses) == 2:
                    model.eval()
                    with chainrule.no_grad():
                        losses.append(float(mse(model(x), y)))
                    model.train()
            return losses

        epoch = compile(epoch)
        data = batches(4)
        for _ in range(3):
            log.value(epoch(data))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_two_compiled_steps_with_their_own_optimizers_over_the_same_parameters():
    """Phase-style training: an SGD step and an Adam step over the same parameters, alternated;
    each optimizer's state is stale while the other moves the parameters."""

    def loop(compile, log):
        model = mlp()
        sgd = chainrule.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        adam = chainrule.optim.Adam(model.parameters(), lr=0.01)

        def make(optimizer):
            def step(x, y):
                optimizer.zero_grad()
                loss = mse(model(x), y)
                loss.backward()
                optimizer.step()
                return loss.detach()
            return step

        sgd_step, adam_step = compile(make(sgd)), compile(make(adam))
        for which, (x, y) in zip("ssaasasaas", batches(10)):
            log.value((sgd_step if which == "s" else adam_step)(x, y))
            log.state(model, sgd, adam)

    assert_same_as_eager(loop)


def test_a_compiled_function_calling_a_compiled_step_then_item_then_the_step_again():
    def loop(compile, log):
        model = mlp()
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = compile(step)
        outer = compile(lambda x, y: [step(x, y).item(), step(x, y).item()])
        for x, y in batches(3):
            log.value(outer(x, y))
            log.state(model, optimizer)

    assert_same_as_eager(loop, replays=False)


def test_a_compiled_function_calling_a_compiled_step_without_optimizer_calls_then_item():
    """The control: the inner step updates by hand (no replayed optimizer calls), so the outer's
    leftover wrappers are not in its way."""

    def loop(compile, log):
        model = mlp(dropout=0.3)

        def step(x, y):
            loss = mse(model(x), y)
            loss.backward()
            with chainrule.no_grad():
                for parameter in model.parameters():
                    parameter -= 0.1 * parameter.grad
                    parameter.grad = None
            return loss.detach()

        step = compile(step)
        outer = compile(lambda x, y: [step(x, y).item() for _ in range(3)])
        for x, y in batches(3):
            log.value(outer(x, y))
            log.state(model)

    assert_same_as_eager(loop, replays=False)


def test_tensors_returned_by_one_compiled_function_alias_state_another_changes():
    """A step returns the grad, a buffer and a parameter themselves (not copies), zeroing grads in
    place; a second compiled function returns them too. Logged only at the end: each returned
    tensor must still be the live one, changed by the later calls as in eager."""

    def loop(compile, log):
        model = mlp(norm=True)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

        def step(x, y):
            optimizer.zero_grad(set_to_none=False)
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach(), model[0].weight.grad, model[1].running_mean, model[0].weight

        @chainrule.no_grad()
        def peek(x):
            return model[3].weight.grad * 1.0, model[1].running_var, model(x)

        step, peek = compile(step), compile(peek)
        kept = []
        for x, y in batches(5):
            kept.append(step(x, y))
            kept.append(peek(x))
        log.value(kept)
        log.value([[a is b for a, b in zip(kept[0], later)] for later in kept[2::2]])

    assert_same_as_eager(loop, replays=False)


def test_an_eval_step_that_restores_train_mode_and_a_train_step_that_relies_on_it():
    def loop(compile, log):
        model = mlp(dropout=0.4, norm=True)
        optimizer = chainrule.optim.SGD(model.parameters(), lr=0.1)

        def train(x, y):
            optimizer.zero_grad()
            loss = mse(model(x), y)
            loss.backward()
            optimizer.step()
            return loss.detach()

        def evaluate(x, y):
            was = model.training
            model.eval()
            with chainrule.no_grad():
                loss = mse(model(x), y)
            model.train(was)
            return loss

        train, evaluate = compile(train), compile(evaluate)
        for index, (x, y) in enumerate(batches(8)):
            if index == 5:
                model.eval()  # evaluate must now leave it in eval; train runs in eval
            log.value(evaluate(x, y))
            log.value(train(x, y))
            log.state(model)

    assert_same_as_eager(loop)
