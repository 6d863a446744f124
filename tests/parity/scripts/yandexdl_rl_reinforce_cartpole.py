# Source: Yandex School of Data Analysis, Practical_RL course, week 6 "REINFORCE in PyTorch" (a policy-logits
#   nn.Sequential, predict_probs under torch.no_grad, sampled sessions, discounted cumulative returns, a loss from
#   softmax / log_softmax / F.one_hot with an entropy bonus, Adam):
#   https://github.com/yandexdataschool/Practical_RL  week06_policy_based/reinforce_pytorch.ipynb
# Shrunk: there is no gym here: CartPoleLite below (gym's CartPole equations in a few lines of NumPy, seeded,
# the gymnasium reset()/step() signatures, episodes truncated at 30 steps) stands in for
# gym.make("CartPole-v1"). The `<YOUR CODE>` blanks filled in as a student would; training runs 3 epochs of
# 4 sessions instead of up to 100 epochs of 100; env.render() and the video cells are dropped.
import types

import numpy as np


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

import torch
import torch.nn as nn
import torch.nn.functional as F

# Build a simple neural network that predicts policy logits.
# Keep it simple: CartPole isn't worth deep architectures.
model = nn.Sequential(
    nn.Linear(state_dim[0], 128),
    nn.ReLU(),
    nn.Linear(128, 128),
    nn.ReLU(),
    nn.Linear(128, n_actions),
)
print(model)


def predict_probs(states):
    """
    Predict action probabilities given states.
    :param states: numpy array of shape [batch, state_shape]
    :returns: numpy array of shape [batch, n_actions]
    """
    # convert states, compute logits, use softmax to get probability
    with torch.no_grad():
        logits = model(torch.from_numpy(states).float())
        probs = torch.softmax(logits, dim=-1)
    return probs.numpy()


test_states = np.array([env.reset()[0] for _ in range(5)])
test_probas = predict_probs(test_states)
assert isinstance(test_probas, np.ndarray), \
    "you must return np array and not %s" % type(test_probas)
assert tuple(test_probas.shape) == (test_states.shape[0], env.action_space.n), \
    "wrong output shape: %s" % np.shape(test_probas)
assert np.allclose(np.sum(test_probas, axis=1), 1), "probabilities do not sum to 1"
print("test probas:\n", test_probas, test_probas.dtype)


def generate_session(env, t_max=1000):
    """
    Play a full session with REINFORCE agent.
    Returns sequences of states, actions, and rewards.
    """
    # arrays to record session
    states, actions, rewards = [], [], []

    s = env.reset()[0]

    for t in range(t_max):
        # action probabilities array aka pi(a|s)
        action_probs = predict_probs(np.array([s]))[0]

        # Sample action with given probabilities.
        a = np.random.choice(n_actions, p=action_probs)

        new_s, r, terminated, truncated, info = env.step(a)

        # record session history to train later
        states.append(s)
        actions.append(a)
        rewards.append(r)

        s = new_s
        if terminated or truncated:
            break

    return states, actions, rewards


# test it
states, actions, rewards = generate_session(env)
print("session:", len(states), actions)


def get_cumulative_rewards(rewards,  # rewards at each step
                           gamma=0.99  # discount for reward
                           ):
    """
    Take a list of immediate rewards r(s,a) for the whole session
    and compute cumulative returns (a.k.a. G(s,a) in Sutton '16).

    G_t = r_t + gamma*r_{t+1} + gamma^2*r_{t+2} + ...

    A simple way to compute cumulative rewards is to iterate from the last
    to the first timestep and compute G_t = r_t + gamma*G_{t+1} recurrently

    You must return an array/list of cumulative rewards with as many elements as in the initial rewards.
    """
    cumulative_rewards = []
    G = 0
    for r in reversed(rewards):
        G = r + gamma * G
        cumulative_rewards.append(G)
    return cumulative_rewards[::-1]


print(np.round(get_cumulative_rewards(rewards), 4))
assert len(get_cumulative_rewards(list(range(100)))) == 100
assert np.allclose(
    get_cumulative_rewards([0, 0, 1, 0, 0, 1, 0], gamma=0.9),
    [1.40049, 1.5561, 1.729, 0.81, 0.9, 1.0, 0.0])
assert np.allclose(
    get_cumulative_rewards([0, 0, 1, -2, 3, -4, 0], gamma=0.5),
    [0.0625, 0.125, 0.25, -1.5, 1.0, -4.0, 0.0])
assert np.allclose(
    get_cumulative_rewards([0, 0, 1, 2, 3, 4, 0], gamma=0),
    [0, 0, 1, 2, 3, 4, 0])
print("looks good!")

# Your code: define optimizers
optimizer = torch.optim.Adam(model.parameters(), 1e-3)


def train_on_session(states, actions, rewards, gamma=0.99, entropy_coef=1e-2):
    """
    Takes a sequence of states, actions and rewards produced by generate_session.
    Updates agent's weights by following the policy gradient above.
    Please use Adam optimizer with default parameters.
    """

    # cast everything into torch tensors
    states = torch.tensor(states, dtype=torch.float32)
    actions = torch.tensor(actions, dtype=torch.int64)
    cumulative_returns = np.array(get_cumulative_rewards(rewards, gamma))
    cumulative_returns = torch.tensor(cumulative_returns, dtype=torch.float32)

    # predict logits, probas and log-probas using an agent.
    logits = model(states)
    probs = nn.functional.softmax(logits, -1)
    log_probs = nn.functional.log_softmax(logits, -1)

    assert all(isinstance(v, torch.Tensor) for v in [logits, probs, log_probs]), \
        "please use compute using torch tensors and don't use predict_probs function"

    # select log-probabilities for chosen actions, log pi(a_i|s_i)
    log_probs_for_actions = torch.sum(
        log_probs * F.one_hot(actions, env.action_space.n), dim=1)

    # Compute loss here. Don't forgen entropy regularization with `entropy_coef`
    entropy = -torch.sum(probs * log_probs, dim=-1).mean()
    loss = -torch.mean(log_probs_for_actions * cumulative_returns) - entropy_coef * entropy

    # Gradient descent step
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    print("  len %d loss %.5f entropy %.5f" % (len(actions), loss.item(), entropy.item()))

    # technical: return session rewards to print them later
    return np.sum(rewards)


for i in range(3):
    rewards = [train_on_session(*generate_session(env)) for _ in range(4)]  # generate new sessions

    print("mean reward: %.3f" % (np.mean(rewards)))

    if np.mean(rewards) > 500:
        print("You Win!")  # but you can train even further
        break

print(predict_probs(test_states))
print(model[-1].bias, model[-1].bias.grad)
