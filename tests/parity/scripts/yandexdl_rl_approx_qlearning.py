# Source: Yandex School of Data Analysis, Practical_RL course, week 4 seminar "Approximate q-learning" in PyTorch
#   (an nn.Sequential Q-network built with add_module, epsilon-greedy get_action, compute_td_loss with
#   fancy-indexed Q(s,a), max over next-state Q-values and torch.where on a uint8 is_done, online Adam updates):
#   https://github.com/yandexdataschool/Practical_RL  week04_approx_rl/seminar_pytorch.ipynb
# Shrunk: there is no gym here: CartPoleLite below (gym's CartPole equations in a few lines of NumPy, seeded,
# the gymnasium reset()/step() signatures, episodes truncated at 30 steps) stands in for
# gym.make("CartPole-v0"). The `<YOUR CODE>` blanks filled in as a student would. The get_action test draws
# 400 actions per epsilon instead of 10000 (tolerance scaled from 200 to 40); training runs 3 epochs of
# 5 sessions instead of up to 1000 epochs of 100; the video recording cells are dropped.
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class CartPoleLite:
    """Stands in for gym's CartPole (not part of the notebook): the same equations, Euler steps of 0.02 s."""

    def __init__(self, seed=0, max_steps=30):
        self.observation_space = types.SimpleNamespace(shape=(4,))
        self.action_space = types.SimpleNamespace(n=2, sample=lambda: int(self.rng.randint(2)))
        self.rng = np.random.RandomState(seed)
        self.max_steps = max_steps

    def reset(self):
        self.steps = 0
        self.state = self.rng.uniform(-0.05, 0.05, size=4).astype(np.float32)
        return self.state, {}

    def step(self, action):
        x, x_dot, theta, theta_dot = map(float, self.state)
        force = 10.0 if action == 1 else -10.0
        costheta, sintheta = np.cos(theta), np.sin(theta)
        temp = (force + 0.05 * theta_dot ** 2 * sintheta) / 1.1
        thetaacc = (9.8 * sintheta - costheta * temp) / (0.5 * (4.0 / 3.0 - 0.1 * costheta ** 2 / 1.1))
        xacc = temp - 0.05 * thetaacc * costheta / 1.1
        x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * xacc
        theta, theta_dot = theta + 0.02 * theta_dot, theta_dot + 0.02 * thetaacc
        self.state = np.array([x, x_dot, theta, theta_dot], dtype=np.float32)
        self.steps += 1
        terminated = bool(abs(x) > 2.4 or abs(theta) > 12 * 2 * np.pi / 360)
        truncated = self.steps >= self.max_steps
        return self.state, 1.0, terminated, truncated, {}


env = CartPoleLite()
env.reset()
n_actions = env.action_space.n
state_dim = env.observation_space.shape

network = nn.Sequential()

network.add_module('layer1', nn.Linear(state_dim[0], 64))
network.add_module('relu1', nn.ReLU())
network.add_module('layer2', nn.Linear(64, 64))
network.add_module('relu2', nn.ReLU())
network.add_module('layer3', nn.Linear(64, n_actions))
print(network)


def get_action(state, epsilon=0):
    """
    sample actions with epsilon-greedy policy
    recap: with p = epsilon pick random action, else pick action with highest Q(s,a)
    """
    state = torch.tensor(state[None], dtype=torch.float32)
    q_values = network(state).detach().numpy()

    if np.random.random() < epsilon:
        action = np.random.choice(n_actions)
    else:
        action = np.argmax(q_values)

    return int(action)


s, _ = env.reset()
assert tuple(network(torch.tensor([s]*3, dtype=torch.float32)).size()) == (
    3, n_actions), "please make sure your model maps state s -> [Q(s,a0), ..., Q(s, a_last)]"
assert isinstance(list(network.modules(
))[-1], nn.Linear), "please make sure you predict q-values without nonlinearity (ignore if you know what you're doing)"
assert isinstance(get_action(s), int), "get_action(s) must return int, not %s. try int(action)" % (type(get_action(s)))
print("q-values of s:", network(torch.tensor(s[None], dtype=torch.float32)))
print("modules:", [type(m).__name__ for m in network.modules()])

for eps in [0., 0.1, 0.5, 1.0]:
    state_frequencies = np.bincount(
        [get_action(s, epsilon=eps) for i in range(400)], minlength=n_actions)
    best_action = state_frequencies.argmax()
    assert abs(state_frequencies[best_action] -
               400 * (1 - eps + eps / n_actions)) < 40
    for other_action in range(n_actions):
        if other_action != best_action:
            assert abs(state_frequencies[other_action] -
                       400 * (eps / n_actions)) < 40
    print('e=%.1f tests passed' % eps, state_frequencies)


def compute_td_loss(states, actions, rewards, next_states, is_done, gamma=0.99, check_shapes=False):
    """ Compute td loss using torch operations only. Use the formula above. """
    states = torch.tensor(
        states, dtype=torch.float32)                                  # shape: [batch_size, state_size]
    actions = torch.tensor(actions, dtype=torch.long)                 # shape: [batch_size]
    rewards = torch.tensor(rewards, dtype=torch.float32)              # shape: [batch_size]
    # shape: [batch_size, state_size]
    next_states = torch.tensor(next_states, dtype=torch.float32)
    is_done = torch.tensor(is_done, dtype=torch.uint8)                # shape: [batch_size]

    # get q-values for all actions in current states
    predicted_qvalues = network(states)                               # shape: [batch_size, n_actions]

    # select q-values for chosen actions
    predicted_qvalues_for_actions = predicted_qvalues[                # shape: [batch_size]
      range(states.shape[0]), actions
    ]

    # compute q-values for all actions in next states
    predicted_next_qvalues = network(next_states)

    # compute V*(next_states) using predicted next q-values
    next_state_values = torch.max(predicted_next_qvalues, dim=-1)[0]
    assert next_state_values.dtype == torch.float32

    # compute "target q-values" for loss - it's what's inside square parentheses in the above formula.
    target_qvalues_for_actions = rewards + gamma * next_state_values

    # at the last state we shall use simplified formula: Q(s,a) = r(s,a) since s' doesn't exist
    target_qvalues_for_actions = torch.where(
        is_done, rewards, target_qvalues_for_actions)

    # mean squared error loss to minimize
    loss = torch.mean((predicted_qvalues_for_actions -
                       target_qvalues_for_actions.detach()) ** 2)

    if check_shapes:
        assert predicted_next_qvalues.data.dim(
        ) == 2, "make sure you predicted q-values for all actions in next state"
        assert next_state_values.data.dim(
        ) == 1, "make sure you computed V(s') as maximum over just the actions axis and not all axes"
        assert target_qvalues_for_actions.data.dim(
        ) == 1, "there's something wrong with target q-values, they must be a vector"
        print("predicted Q(s,a):", predicted_qvalues_for_actions)
        print("V(s'):", next_state_values)
        print("target:", target_qvalues_for_actions, "is_done:", is_done)

    return loss


s, _ = env.reset()
a = env.action_space.sample()
next_s, r, terminated, _, _ = env.step(a)
loss = compute_td_loss([s], [a], [r], [next_s], [terminated], check_shapes=True)
loss.backward()
print("td loss:", loss)

assert len(loss.size()) == 0, "you must return scalar loss - mean over batch"
assert np.any(next(network.parameters()).grad.detach().numpy() !=
              0), "loss must be differentiable w.r.t. network weights"
print("grad of the last layer's bias:", network.layer3.bias.grad)

# a batch of transitions, some terminal
batch = [env.reset()[0] for _ in range(4)]
loss = compute_td_loss(batch, [0, 1, 1, 0], [1.0, 1.0, 0.0, 1.0], batch[::-1], [False, True, False, True],
                       check_shapes=True)
print("batch td loss:", loss.item())
network.zero_grad()

opt = torch.optim.Adam(network.parameters(), lr=1e-4)


def generate_session(env, t_max=1000, epsilon=0, train=False):
    """play env with approximate q-learning agent and train it at the same time"""
    total_reward = 0
    s, _ = env.reset()

    for t in range(t_max):
        a = get_action(s, epsilon=epsilon)
        next_s, r, terminated, truncated, _ = env.step(a)

        if train:
            opt.zero_grad()
            compute_td_loss([s], [a], [r], [next_s], [terminated]).backward()
            opt.step()

        total_reward += r
        s = next_s
        if terminated or truncated:
            break

    return total_reward


epsilon = 0.5

for i in range(3):
    session_rewards = [generate_session(env, epsilon=epsilon, train=True) for _ in range(5)]
    print("epoch #{}\tmean reward = {:.3f}\tepsilon = {:.3f}".format(i, np.mean(session_rewards), epsilon))

    epsilon *= 0.99
    assert epsilon >= 1e-4, "Make sure epsilon is always nonzero during training"

    if np.mean(session_rewards) > 300:
        print("You Win!")
        break

print("Q-values after training:", network(torch.tensor(np.stack([env.reset()[0] for _ in range(3)]))))
print(opt.state_dict()['state'][5]['step'], opt.state_dict()['state'][5]['exp_avg'])
