"""Course and tutorial workloads, written the way PyTorch users write them, trained eagerly and
compiled side by side from the same seed and weights.

Each workload builds its model, optimizer and data, then runs its training step a few times, once
as written and once through ``chainrule.compile``. The two runs must agree bit for bit: every value
the step returns, every parameter, gradient and buffer, every optimizer's and scheduler's state,
and the random generator's state afterwards (a replay draws its random numbers at the same points of
the stream as eager). The compiled step must also replay rather than run eagerly: no
``chainrule.compile`` warning.
"""
import math
import warnings

import numpy as np
import pytest

import chainrule
import chainrule as torch  # the tutorials' spelling: the steps below read as PyTorch code
from chainrule import nn, optim
from chainrule.nn import functional as F
from chainrule.optim import lr_scheduler
from tests.compile.bitwise import assert_identical

STEPS = 5


class Workload:
    """What a training run needs: the step, the loop that drives it, and the state to compare.

    ``drive(step)`` calls ``step`` (eager or compiled) ``STEPS`` times and returns what each call
    returned; by default it calls ``step(*batch)`` for each of ``batches``.
    """

    def __init__(self, step, batches=None, drive=None, modules=(), optimizers=(), schedulers=(), tensors=()):
        self.step = step
        self.batches = batches
        self.drive = drive or (lambda run_step: [run_step(*batch) for batch in self.batches])
        self.modules = modules
        self.optimizers = optimizers
        self.schedulers = schedulers
        self.tensors = tensors  # parameters held outside a module (makemore's C, W1, ...)


class Run:
    def __init__(self, outputs, state, generator_state, fallbacks, step):
        self.outputs = outputs
        self.state = state
        self.generator_state = generator_state
        self.fallbacks = fallbacks
        self.step = step


def plain(value):
    """``value`` with every tensor turned into a NumPy copy, for comparing after the run goes on."""
    if isinstance(value, chainrule.Tensor):
        return value.detach().numpy().copy()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(item) for item in value)
    return value


def snapshot(workload):
    def tensor_state(tensor):
        return {"data": plain(tensor), "grad": plain(tensor.grad)}

    return {
        "modules": [
            {
                "state_dict": plain(module.state_dict()),
                "grads": {name: plain(parameter.grad) for name, parameter in module.named_parameters()},
                "training": [sub.training for sub in module.modules()],
            }
            for module in workload.modules
        ],
        "tensors": [tensor_state(tensor) for tensor in workload.tensors],
        "optimizers": [plain(optimizer.state_dict()) for optimizer in workload.optimizers],
        "schedulers": [
            {key: value for key, value in plain(scheduler.state_dict()).items() if not callable(value)}
            for scheduler in workload.schedulers
        ],
    }


def train(build, compiled):
    """Build the workload from seed 0 and run it, eager or compiled; the data and noise come from seed 1."""
    chainrule.manual_seed(0)
    workload = build()
    step = chainrule.compile(workload.step) if compiled else workload.step
    chainrule.manual_seed(1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = [plain(output) for output in workload.drive(step)]
    fallbacks = [str(warning.message) for warning in caught if "chainrule.compile" in str(warning.message)]
    return Run(outputs, snapshot(workload), chainrule.default_generator.state_bytes(), fallbacks, step)


def check(build, fallbacks=0):
    """Train ``build``'s workload eagerly and compiled; assert the two agree bit for bit and that
    the compiled step warned ``fallbacks`` times. Returns the compiled run."""
    eager = train(build, compiled=False)
    compiled = train(build, compiled=True)
    assert len(compiled.fallbacks) == fallbacks, compiled.fallbacks
    assert_identical(compiled.outputs, eager.outputs, "outputs")
    assert_identical(compiled.state, eager.state, "state")
    assert compiled.generator_state == eager.generator_state, "the random stream advanced differently"
    return compiled


def recordings(step):
    return sum(len(programs) for programs in step.recordings.values())


# 1. A convolutional network on the 8x8 digits: SGD with momentum, StepLR stepped inside the step.

def digits_batches(count, batch_size=16):
    images, labels = chainrule.datasets.load_digits(normalize=True, as_numpy=True, images=True)
    rows = np.random.default_rng(0).permutation(len(labels))[: count * batch_size].reshape(count, batch_size)
    return [(torch.tensor(images[index]), torch.tensor(labels[index])) for index in rows]


def build_cnn():
    model = nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    def train_step(images, labels):
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
        scheduler.step()
        return loss

    return Workload(train_step, digits_batches(STEPS), modules=[model], optimizers=[optimizer], schedulers=[scheduler])


def test_cnn_on_digits_with_momentum_and_step_lr():
    run = check(build_cnn)
    assert recordings(run.step) == 1


def test_cnn_eager_losses_match_pytorch():
    """The eager baseline itself is right: PyTorch, from the same weights, gives the same losses."""
    real_torch = pytest.importorskip("torch")
    run = train(build_cnn, compiled=False)

    chainrule.manual_seed(0)
    ours = build_cnn()  # the same initial weights as the run above
    model = real_torch.nn.Sequential(
        real_torch.nn.Conv2d(1, 4, kernel_size=3, padding=1),
        real_torch.nn.ReLU(),
        real_torch.nn.MaxPool2d(2),
        real_torch.nn.Flatten(),
        real_torch.nn.Linear(4 * 4 * 4, 10),
    )
    model.load_state_dict({name: real_torch.tensor(value.detach().numpy()) for name, value in ours.modules[0].state_dict().items()})
    optimizer = real_torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = real_torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    losses = []
    for images, labels in ours.batches:
        optimizer.zero_grad()
        loss = real_torch.nn.CrossEntropyLoss()(model(real_torch.tensor(images.numpy())), real_torch.tensor(labels.numpy()))
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    np.testing.assert_allclose([float(loss) for loss in run.outputs], losses, rtol=1e-5)
    for name, value in model.state_dict().items():
        np.testing.assert_allclose(run.state["modules"][0]["state_dict"][name], value.numpy(), rtol=1e-4, atol=1e-6)


# 2. A character-level LSTM: hidden state carried between steps and detached, gradient clipping.

def build_char_rnn(detach_inside=False):
    text = "hello chainrule, hello pytorch. "
    vocabulary = sorted(set(text))
    codes = np.array([vocabulary.index(character) for character in text * 4])
    batch_size, length = 2, 6
    windows = [codes[start : start + batch_size * (length + 1)].reshape(batch_size, length + 1) for start in range(0, STEPS * 7, 7)]

    class CharRNN(nn.Module):
        def __init__(self, vocabulary_size, embedding_size=8, hidden_size=16):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary_size, embedding_size)
            self.rnn = nn.LSTM(embedding_size, hidden_size, batch_first=True)
            self.head = nn.Linear(hidden_size, vocabulary_size)

        def forward(self, x, hidden):
            out, hidden = self.rnn(self.embedding(x), hidden)
            return self.head(out), hidden

    model = CharRNN(len(vocabulary))
    optimizer = optim.Adam(model.parameters(), lr=0.01)
    criterion = nn.CrossEntropyLoss()

    def train_step(x, y, hidden):
        optimizer.zero_grad()
        logits, hidden = model(x, hidden)
        loss = criterion(logits.reshape(-1, logits.size(-1)), y.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        if detach_inside:
            hidden = tuple(state.detach() for state in hidden)
        return loss, hidden

    def drive(run_step):
        hidden = (torch.zeros(1, batch_size, 16), torch.zeros(1, batch_size, 16))
        outputs = []
        for window in windows:
            x, y = torch.tensor(window[:, :-1]), torch.tensor(window[:, 1:])
            hidden = tuple(state.detach() for state in hidden)  # truncated backpropagation through time
            loss, hidden = run_step(x, y, hidden)
            outputs.append((loss, hidden))
        return outputs

    return Workload(train_step, drive=drive, modules=[model], optimizers=[optimizer])


def test_char_rnn_with_hidden_state_returned_and_detached_between_steps():
    run = check(build_char_rnn)
    assert recordings(run.step) == 1


def test_char_rnn_with_hidden_state_detached_inside_the_step():
    run = check(lambda: build_char_rnn(detach_inside=True))
    assert recordings(run.step) == 1


# 3. A variational autoencoder: reparameterization with randn_like, KL + BCE with logits, Adam.

def build_vae():
    class VAE(nn.Module):
        def __init__(self, features=16, hidden=32, latent=4):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
            self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, features))

        def forward(self, x):
            mu, logvar = self.encoder(x).chunk(2, dim=1)
            std = torch.exp(0.5 * logvar)
            eps = torch.randn_like(std)
            z = mu + eps * std
            return self.decoder(z), mu, logvar

    model = VAE()
    optimizer = optim.Adam(model.parameters(), lr=1e-3)
    generator = np.random.default_rng(3)
    batches = [(torch.tensor((generator.random((8, 16)) > 0.5).astype(np.float32)),) for _ in range(STEPS)]

    def train_step(x):
        optimizer.zero_grad()
        logits, mu, logvar = model(x)
        reconstruction = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = (reconstruction + kl) / x.size(0)
        loss.backward()
        optimizer.step()
        return loss

    return Workload(train_step, batches, modules=[model], optimizers=[optimizer])


def test_vae_with_reparameterization_noise():
    run = check(build_vae)
    assert recordings(run.step) == 1


# 4. A GAN: two networks, two optimizers, fake.detach() for the discriminator, noise drawn in the step.

def build_gan():
    latent, batch_size = 4, 8
    generator_net = nn.Sequential(nn.Linear(latent, 16), nn.ReLU(), nn.Linear(16, 2))
    discriminator = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1))
    criterion = nn.BCEWithLogitsLoss()
    g_optimizer = optim.Adam(generator_net.parameters(), lr=2e-3, betas=(0.5, 0.999))
    d_optimizer = optim.Adam(discriminator.parameters(), lr=2e-3, betas=(0.5, 0.999))
    angles = np.random.default_rng(4).uniform(0, 2 * math.pi, (STEPS, batch_size))
    batches = [(torch.tensor(np.stack([np.cos(row), np.sin(row)], 1).astype(np.float32)),) for row in angles]

    def train_step(real):
        noise = torch.randn(batch_size, latent)
        fake = generator_net(noise)

        d_optimizer.zero_grad()
        real_logits = discriminator(real)
        fake_logits = discriminator(fake.detach())
        d_loss = criterion(real_logits, torch.ones_like(real_logits)) + criterion(fake_logits, torch.zeros_like(fake_logits))
        d_loss.backward()
        d_optimizer.step()

        g_optimizer.zero_grad()
        logits = discriminator(fake)
        g_loss = criterion(logits, torch.ones_like(logits))
        g_loss.backward()
        g_optimizer.step()
        return d_loss, g_loss

    return Workload(
        train_step, batches, modules=[generator_net, discriminator], optimizers=[g_optimizer, d_optimizer]
    )


def test_gan_with_two_optimizers_in_one_step():
    run = check(build_gan)
    assert recordings(run.step) == 1


# 5. Gradient accumulation: backward on every call, an optimizer step on every fourth.

def build_accumulation(steps):
    model = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 3))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    accumulation = 4
    generator = np.random.default_rng(5)
    batches = [
        (torch.tensor(generator.normal(size=(4, 6)).astype(np.float32)), torch.tensor(generator.integers(0, 3, 4)), i)
        for i in range(steps)
    ]

    def train_step(x, y, i):
        loss = criterion(model(x), y) / accumulation
        loss.backward()
        if i % accumulation == accumulation - 1:
            optimizer.step()
            optimizer.zero_grad()
        return loss

    return Workload(train_step, batches, modules=[model], optimizers=[optimizer])


def test_gradient_accumulation_records_each_branch():
    # A Python int argument is a guard on its value: each new i records anew (no fallback), and
    # the cache limit of 8 recordings is not reached in two accumulation cycles.
    run = check(lambda: build_accumulation(8))
    assert recordings(run.step) == 8


def test_gradient_accumulation_past_the_recording_limit_runs_eagerly_once():
    # The fallback is the documented limit, and necessary under it: a Python int argument is guarded
    # by its value, so i = 0..7 take the 8 recordings allowed and i = 8 warns once and runs eagerly
    # (the warning says to pass tensors or the branch instead; see the next test). The results agree.
    run = check(lambda: build_accumulation(12), fallbacks=1)
    assert "recorded 8 times" in run.fallbacks[0]


def test_gradient_accumulation_with_the_branch_passed_as_a_flag_replays():
    """Passing the branch (``i % 4 == 3``) rather than the counter: two recordings, then replays."""

    def build():
        workload = build_accumulation(12)
        workload.batches = [(x, y, i % 4 == 3) for x, y, i in workload.batches]
        inner = workload.step
        workload.step = lambda x, y, update: inner(x, y, 3 if update else 0)
        return workload

    run = check(build)
    assert recordings(run.step) == 2


# 6. A tiny transformer block: causal mask, dropout, AdamW with a warmup LambdaLR, clipping.

def build_transformer():
    vocabulary, d_model, length, batch_size = 11, 16, 6, 3

    class TinyLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, d_model)
            self.position = nn.Parameter(torch.randn(length, d_model) * 0.02)
            self.block = nn.TransformerEncoderLayer(d_model, nhead=2, dim_feedforward=32, dropout=0.1, batch_first=True)
            self.head = nn.Linear(d_model, vocabulary)

        def forward(self, tokens):
            mask = nn.Transformer.generate_square_subsequent_mask(tokens.size(1))
            h = self.embedding(tokens) + self.position[: tokens.size(1)]
            return self.head(self.block(h, src_mask=mask, is_causal=True))

    model = TinyLM()
    optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    warmup = 3
    scheduler = lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
    criterion = nn.CrossEntropyLoss()
    generator = np.random.default_rng(6)
    batches = []
    for _ in range(STEPS):
        tokens = generator.integers(0, vocabulary, (batch_size, length + 1))
        batches.append((torch.tensor(tokens[:, :-1]), torch.tensor(tokens[:, 1:])))

    def train_step(x, y):
        model.train()
        optimizer.zero_grad()
        logits = model(x)
        loss = criterion(logits.view(-1, vocabulary), y.view(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        return loss

    return Workload(train_step, batches, modules=[model], optimizers=[optimizer], schedulers=[scheduler])


def test_transformer_block_with_causal_mask_and_warmup():
    run = check(build_transformer)
    assert recordings(run.step) == 1


# 7. makemore: minibatches drawn inside the step with randint, C[Xb], a hand-written SGD update.

def build_makemore():
    words = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper"]
    characters = ["."] + sorted(set("".join(words)))
    stoi = {character: index for index, character in enumerate(characters)}
    block_size, embedding_size, hidden = 3, 5, 24
    inputs, targets = [], []
    for word in words:
        context = [0] * block_size
        for character in word + ".":
            inputs.append(context)
            targets.append(stoi[character])
            context = context[1:] + [stoi[character]]
    X, Y = torch.tensor(inputs), torch.tensor(targets)

    C = torch.randn((len(characters), embedding_size))
    W1 = torch.randn((block_size * embedding_size, hidden)) * 0.2
    b1 = torch.randn(hidden) * 0.01
    W2 = torch.randn((hidden, len(characters))) * 0.1
    b2 = torch.randn(len(characters)) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    B = 16

    def train_step(lr):
        ix = torch.randint(0, X.shape[0], (B,))
        Xb, Yb = X[ix], Y[ix]
        emb = C[Xb]
        h = torch.tanh(emb.view(B, -1) @ W1 + b1)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data += -lr * p.grad
        return loss

    batches = [(0.1 if i < 3 else 0.01,) for i in range(STEPS)]  # a learning-rate decay: one more recording
    return Workload(train_step, batches, tensors=parameters)


def test_makemore_minibatches_drawn_inside_the_step():
    run = check(build_makemore)
    assert recordings(run.step) == 2


# 8. Evaluation inside the step: eval(), no_grad, an accuracy, train() again.

def build_eval_inside(dropout):
    layers = [nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10)]
    model = nn.Sequential(*(layers if dropout else layers[:2] + layers[3:]))
    optimizer = optim.SGD(model.parameters(), lr=0.05)
    criterion = nn.CrossEntropyLoss()
    batches = [(images.reshape(16, 64), labels) for images, labels in digits_batches(STEPS)]

    def train_step(x, y):
        model.train()
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        model.eval()
        with torch.no_grad():
            logits = model(x)
            accuracy = (logits.argmax(1) == y).float().mean()
        model.train()
        return loss, accuracy

    return Workload(train_step, batches, modules=[model], optimizers=[optimizer])


def test_evaluation_inside_the_step_returns_loss_and_accuracy():
    run = check(lambda: build_eval_inside(dropout=False))
    assert recordings(run.step) == 1


def test_evaluation_inside_the_step_with_dropout_replays():
    run = check(lambda: build_eval_inside(dropout=True))  # the results agree (5 calls stay under the limit of 8)
    assert recordings(run.step) == 1


# 9. BatchNorm1d and Dropout, SGD with weight decay, zero_grad(set_to_none=False).

def build_batchnorm_mlp():
    model = nn.Sequential(
        nn.Linear(10, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 3)
    )
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    criterion = nn.CrossEntropyLoss()
    generator = np.random.default_rng(9)
    batches = [
        (torch.tensor(generator.normal(size=(12, 10)).astype(np.float32)), torch.tensor(generator.integers(0, 3, 12)))
        for _ in range(STEPS)
    ]

    def train_step(x, y):
        optimizer.zero_grad(set_to_none=False)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return Workload(train_step, batches, modules=[model], optimizers=[optimizer])


def test_batchnorm_dropout_mlp_with_weight_decay():
    run = check(build_batchnorm_mlp)
    assert recordings(run.step) == 1


# 10. Weight tying: the output layer's weight is the embedding's, label-smoothed cross-entropy.

def build_tied_lm():
    vocabulary, d_model, length, batch_size = 13, 8, 5, 4

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, d_model)
            self.hidden = nn.Linear(d_model, d_model)
            self.head = nn.Linear(d_model, vocabulary, bias=False)
            self.head.weight = self.embedding.weight  # weight tying, as in GPT-2

        def forward(self, tokens):
            return self.head(torch.tanh(self.hidden(self.embedding(tokens))))

    model = TiedLM()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    generator = np.random.default_rng(10)
    batches = []
    for _ in range(STEPS):
        tokens = generator.integers(0, vocabulary, (batch_size, length + 1))
        batches.append((torch.tensor(tokens[:, :-1]), torch.tensor(tokens[:, 1:])))

    def train_step(x, y):
        optimizer.zero_grad()
        logits = model(x)
        loss = criterion(logits.reshape(-1, vocabulary), y.reshape(-1))
        loss.backward()
        optimizer.step()
        return loss

    return Workload(train_step, batches, modules=[model], optimizers=[optimizer])


def test_weight_tying_with_label_smoothing():
    run = check(build_tied_lm)
    assert recordings(run.step) == 1
