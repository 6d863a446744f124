# Source: Maxim Lapan, "Deep Reinforcement Learning Hands-On" (2nd ed.), Chapter 4, the cross-entropy
#   method on CartPole: https://github.com/PacktPublishing/Deep-Reinforcement-Learning-Hands-On-Second-Edition
#   Chapter04/01_cartpole.py
# Shrunk: gym is not available: gym.make("CartPole-v0") is replaced by TinyCartPole, a few NumPy lines
# of the CartPole equations (Euler steps, the same thresholds) whose start state is drawn from NumPy's
# seeded global generator and whose episodes are cut at 25 steps; HIDDEN_SIZE 32, BATCH_SIZE 8 episodes,
# 6 iterations (the "Solved!" bound is scaled to 24). tensorboardX's SummaryWriter is left out (the
# values it logs are printed by the book's own print line). The agent/training code is the book's; added
# prints: the filtered batch's shape/dtypes/action counts each iteration, the policy on 3 states at the end.
from collections import namedtuple
import numpy as np

import torch
import torch.nn as nn
import torch.optim as optim


HIDDEN_SIZE = 32
BATCH_SIZE = 8
PERCENTILE = 70


class TinyCartPole:
    """CartPole-v0's dynamics in NumPy (in place of gym), episodes cut at max_steps."""
    class _Space:
        def __init__(self, shape=None, n=None):
            self.shape, self.n = shape, n

    def __init__(self, max_steps=25):
        self.observation_space = self._Space(shape=(4,))
        self.action_space = self._Space(n=2)
        self.max_steps = max_steps

    def reset(self):
        self.state = np.random.uniform(low=-0.05, high=0.05, size=(4,))
        self.steps = 0
        return self.state.copy()

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = 10.0 if action == 1 else -10.0
        costheta, sintheta = np.cos(theta), np.sin(theta)
        temp = (force + 0.05 * theta_dot ** 2 * sintheta) / 1.1
        thetaacc = (9.8 * sintheta - costheta * temp) / (0.5 * (4.0 / 3.0 - 0.1 * costheta ** 2 / 1.1))
        xacc = temp - 0.05 * thetaacc * costheta / 1.1
        self.state = np.array([x + 0.02 * x_dot, x_dot + 0.02 * xacc,
                               theta + 0.02 * theta_dot, theta_dot + 0.02 * thetaacc])
        self.steps += 1
        done = bool(abs(self.state[0]) > 2.4 or abs(self.state[2]) > 12 * 2 * np.pi / 360
                    or self.steps >= self.max_steps)
        return self.state.copy(), 1.0, done, {}


class Net(nn.Module):
    def __init__(self, obs_size, hidden_size, n_actions):
        super(Net, self).__init__()
        self.net = nn.Sequential(
            nn.Linear(obs_size, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, n_actions)
        )

    def forward(self, x):
        return self.net(x)


Episode = namedtuple('Episode', field_names=['reward', 'steps'])
EpisodeStep = namedtuple('EpisodeStep', field_names=['observation', 'action'])


def iterate_batches(env, net, batch_size):
    batch = []
    episode_reward = 0.0
    episode_steps = []
    obs = env.reset()
    sm = nn.Softmax(dim=1)
    while True:
        obs_v = torch.FloatTensor([obs])
        act_probs_v = sm(net(obs_v))
        act_probs = act_probs_v.data.numpy()[0]
        action = np.random.choice(len(act_probs), p=act_probs)
        next_obs, reward, is_done, _ = env.step(action)
        episode_reward += reward
        step = EpisodeStep(observation=obs, action=action)
        episode_steps.append(step)
        if is_done:
            e = Episode(reward=episode_reward, steps=episode_steps)
            batch.append(e)
            episode_reward = 0.0
            episode_steps = []
            next_obs = env.reset()
            if len(batch) == batch_size:
                yield batch
                batch = []
        obs = next_obs


def filter_batch(batch, percentile):
    rewards = list(map(lambda s: s.reward, batch))
    reward_bound = np.percentile(rewards, percentile)
    reward_mean = float(np.mean(rewards))

    train_obs = []
    train_act = []
    for reward, steps in batch:
        if reward < reward_bound:
            continue
        train_obs.extend(map(lambda step: step.observation, steps))
        train_act.extend(map(lambda step: step.action, steps))

    train_obs_v = torch.FloatTensor(train_obs)
    train_act_v = torch.LongTensor(train_act)
    return train_obs_v, train_act_v, reward_bound, reward_mean


if __name__ == "__main__":
    env = TinyCartPole()
    obs_size = env.observation_space.shape[0]
    n_actions = env.action_space.n

    net = Net(obs_size, HIDDEN_SIZE, n_actions)
    print(net)
    objective = nn.CrossEntropyLoss()
    optimizer = optim.Adam(params=net.parameters(), lr=0.01)

    for iter_no, batch in enumerate(iterate_batches(
            env, net, BATCH_SIZE)):
        obs_v, acts_v, reward_b, reward_m = \
            filter_batch(batch, PERCENTILE)
        print(obs_v.shape, obs_v.dtype, acts_v.dtype, acts_v.bincount(minlength=2))
        optimizer.zero_grad()
        action_scores_v = net(obs_v)
        loss_v = objective(action_scores_v, acts_v)
        loss_v.backward()
        optimizer.step()
        print("%d: loss=%.3f, reward_mean=%.1f, rw_bound=%.1f" % (
            iter_no, loss_v.item(), reward_m, reward_b))
        if reward_m > 24:
            print("Solved!")
            break
        if iter_no == 5:
            break
    print(nn.Softmax(dim=1)(net(obs_v[:3])))
