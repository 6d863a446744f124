# Source: higgsfield, "RL-Adventure-2: Policy Gradients", notebook 3 "Proximal Policy
# Optimization Algorithm" (an actor-critic with a Normal policy, GAE returns, clipped PPO updates):
#   https://github.com/higgsfield/RL-Adventure-2  3.ppo.ipynb (and common/multiprocessing_env.py)
# Shrunk: there is no gym here: PendulumLite below (gym's Pendulum-v0 equations, a few lines of NumPy
# seeded and deterministic, episodes cut at 10 steps instead of 200) stands in for gym.make, and
# VecEnv (the step/auto-reset of common/multiprocessing_env.py's worker, in one process) for
# SubprocVecEnv. 4 environments instead of 16, hidden_size 32 instead of 256, num_steps 5 instead of 20,
# 15 frames instead of 15000 with a test every 5 frames instead of 1000, threshold_reward -10 instead
# of -200 (the episodes are 20 times shorter); plot() prints what it would plot, and each PPO
# update prints its last loss (added lines). The notebook's last cell (saving expert trajectories for
# GAIL to a .npy file) is left out.
import math
import random

import numpy as np

import torch
import torch.nn as nn
import torch.optim as optim
import torch.nn.functional as F
from torch.distributions import Normal


class PendulumLite:
    """gym's Pendulum-v0 (not part of the notebook), seeded, 10 steps an episode."""

    def __init__(self, seed):
        self.max_speed, self.max_torque, self.dt, self.g, self.m, self.l = 8, 2.0, 0.05, 10.0, 1.0, 1.0
        self.observation_space = type("Box", (), {"shape": (3,)})
        self.action_space = type("Box", (), {"shape": (1,), "low": np.array([-2.0]), "high": np.array([2.0])})
        self.rng = np.random.RandomState(seed)

    def reset(self):
        self.state = self.rng.uniform(low=[-np.pi, -1], high=[np.pi, 1])
        self.steps = 0
        return self._get_obs()

    def _get_obs(self):
        theta, thetadot = self.state
        return np.array([np.cos(theta), np.sin(theta), thetadot])

    def step(self, u):
        th, thdot = self.state
        g, m, l, dt = self.g, self.m, self.l, self.dt
        u = np.clip(u, -self.max_torque, self.max_torque)[0]
        costs = (((th + np.pi) % (2 * np.pi)) - np.pi) ** 2 + .1 * thdot ** 2 + .001 * (u ** 2)
        newthdot = thdot + (-3 * g / (2 * l) * np.sin(th + np.pi) + 3. / (m * l ** 2) * u) * dt
        newth = th + newthdot * dt
        newthdot = np.clip(newthdot, -self.max_speed, self.max_speed)
        self.state = np.array([newth, newthdot])
        self.steps += 1
        return self._get_obs(), -costs, self.steps >= 10, {}


class VecEnv:
    """common/multiprocessing_env.py's SubprocVecEnv, without the processes."""

    def __init__(self, env_fns):
        self.envs = [fn() for fn in env_fns]
        self.observation_space = self.envs[0].observation_space
        self.action_space = self.envs[0].action_space

    def step(self, actions):
        results = []
        for env, data in zip(self.envs, actions):
            ob, reward, done, info = env.step(data)
            if done:
                ob = env.reset()
            results.append((ob, reward, done, info))
        obs, rews, dones, infos = zip(*results)
        return np.stack(obs), np.stack(rews), np.stack(dones), infos

    def reset(self):
        return np.stack([env.reset() for env in self.envs])


use_cuda = torch.cuda.is_available()
device   = torch.device("cuda" if use_cuda else "cpu")

num_envs = 4
env_name = "Pendulum-v0"

env_seeds = iter(range(1, 100))

def make_env():
    def _thunk():
        env = PendulumLite(next(env_seeds))
        return env

    return _thunk

envs = [make_env() for i in range(num_envs)]
envs = VecEnv(envs)

env = PendulumLite(0)


def init_weights(m):
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight, mean=0., std=0.1)
        nn.init.constant_(m.bias, 0.1)


class ActorCritic(nn.Module):
    def __init__(self, num_inputs, num_outputs, hidden_size, std=0.0):
        super(ActorCritic, self).__init__()

        self.critic = nn.Sequential(
            nn.Linear(num_inputs, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, 1)
        )

        self.actor = nn.Sequential(
            nn.Linear(num_inputs, hidden_size),
            nn.ReLU(),
            nn.Linear(hidden_size, num_outputs),
        )
        self.log_std = nn.Parameter(torch.ones(1, num_outputs) * std)

        self.apply(init_weights)

    def forward(self, x):
        value = self.critic(x)
        mu    = self.actor(x)
        std   = self.log_std.exp().expand_as(mu)
        dist  = Normal(mu, std)
        return dist, value


def plot(frame_idx, rewards):
    # the notebook draws this with matplotlib
    print('frame %s. reward: %s' % (frame_idx, rewards[-1]))

def test_env(vis=False):
    state = env.reset()
    if vis: env.render()
    done = False
    total_reward = 0
    while not done:
        state = torch.FloatTensor(state).unsqueeze(0).to(device)
        dist, _ = model(state)
        next_state, reward, done, _ = env.step(dist.sample().cpu().numpy()[0])
        state = next_state
        if vis: env.render()
        total_reward += reward
    return total_reward


def compute_gae(next_value, rewards, masks, values, gamma=0.99, tau=0.95):
    values = values + [next_value]
    gae = 0
    returns = []
    for step in reversed(range(len(rewards))):
        delta = rewards[step] + gamma * values[step + 1] * masks[step] - values[step]
        gae = delta + gamma * tau * masks[step] * gae
        returns.insert(0, gae + values[step])
    return returns


def ppo_iter(mini_batch_size, states, actions, log_probs, returns, advantage):
    batch_size = states.size(0)
    for _ in range(batch_size // mini_batch_size):
        rand_ids = np.random.randint(0, batch_size, mini_batch_size)
        yield states[rand_ids, :], actions[rand_ids, :], log_probs[rand_ids, :], returns[rand_ids, :], advantage[rand_ids, :]



def ppo_update(ppo_epochs, mini_batch_size, states, actions, log_probs, returns, advantages, clip_param=0.2):
    for _ in range(ppo_epochs):
        for state, action, old_log_probs, return_, advantage in ppo_iter(mini_batch_size, states, actions, log_probs, returns, advantages):
            dist, value = model(state)
            entropy = dist.entropy().mean()
            new_log_probs = dist.log_prob(action)

            ratio = (new_log_probs - old_log_probs).exp()
            surr1 = ratio * advantage
            surr2 = torch.clamp(ratio, 1.0 - clip_param, 1.0 + clip_param) * advantage

            actor_loss  = - torch.min(surr1, surr2).mean()
            critic_loss = (return_ - value).pow(2).mean()

            loss = 0.5 * critic_loss + actor_loss - 0.001 * entropy

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    print('  ppo_update: actor_loss %.4f critic_loss %.4f entropy %.4f' % (actor_loss.item(), critic_loss.item(), entropy.item()))


num_inputs  = envs.observation_space.shape[0]
num_outputs = envs.action_space.shape[0]

#Hyper params:
hidden_size      = 32
lr               = 3e-4
num_steps        = 5
mini_batch_size  = 5
ppo_epochs       = 4
threshold_reward = -10

model = ActorCritic(num_inputs, num_outputs, hidden_size).to(device)
optimizer = optim.Adam(model.parameters(), lr=lr)
print(model)

max_frames = 15
frame_idx  = 0
test_rewards = []

state = envs.reset()
early_stop = False

while frame_idx < max_frames and not early_stop:

    log_probs = []
    values    = []
    states    = []
    actions   = []
    rewards   = []
    masks     = []
    entropy = 0

    for _ in range(num_steps):
        state = torch.FloatTensor(state).to(device)
        dist, value = model(state)

        action = dist.sample()
        next_state, reward, done, _ = envs.step(action.cpu().numpy())

        log_prob = dist.log_prob(action)
        entropy += dist.entropy().mean()

        log_probs.append(log_prob)
        values.append(value)
        rewards.append(torch.FloatTensor(reward).unsqueeze(1).to(device))
        masks.append(torch.FloatTensor(1 - done).unsqueeze(1).to(device))

        states.append(state)
        actions.append(action)

        state = next_state
        frame_idx += 1

        if frame_idx % 5 == 0:
            test_reward = np.mean([test_env() for _ in range(10)])
            test_rewards.append(test_reward)
            plot(frame_idx, test_rewards)
            if test_reward > threshold_reward: early_stop = True


    next_state = torch.FloatTensor(next_state).to(device)
    _, next_value = model(next_state)
    returns = compute_gae(next_value, rewards, masks, values)

    returns   = torch.cat(returns).detach()
    log_probs = torch.cat(log_probs).detach()
    values    = torch.cat(values).detach()
    states    = torch.cat(states)
    actions   = torch.cat(actions)
    advantage = returns - values
    print(returns.shape, log_probs.shape, actions.shape, 'entropy', entropy)
    print('advantage', advantage[:4].view(-1))

    ppo_update(ppo_epochs, mini_batch_size, states, actions, log_probs, returns, advantage)

print(model.log_std)
