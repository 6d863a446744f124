# Source: Maxim Lapan, "Deep Reinforcement Learning Hands-On" (2nd ed.), Chapter 11, policy gradient
#   with a mean baseline, entropy bonus, KL and gradient statistics on CartPole:
#   https://github.com/PacktPublishing/Deep-Reinforcement-Learning-Hands-On-Second-Edition
#   Chapter11/04_cartpole_pg.py
# Shrunk: gym is not available: gym.make("CartPole-v0") is replaced by TinyCartPole, a few NumPy lines
# of the CartPole equations (Euler steps, the same thresholds) whose start state is drawn from NumPy's
# seeded global generator and whose episodes are cut at 25 steps (the "Solved" bound 195 scaled to 24).
# ptan (Lapan's library) comes from ptan/ beside this script (its PolicyAgent, float32_preprocessor and
# ExperienceSourceFirstLast, copied from https://github.com/Shmuma/ptan with the 2nd edition's gym API).
# Hidden layer 32 instead of 128; 8 updates of BATCH_SIZE 8. tensorboardX's SummaryWriter is left out:
# the values the book logs (entropy, losses, kl, grad_l2, grad_max, batch_scales) are printed each update,
# and the last batch's action probabilities at the end.
import numpy as np
import ptan
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

GAMMA = 0.99
LEARNING_RATE = 0.001
ENTROPY_BETA = 0.01
BATCH_SIZE = 8
N_UPDATES = 8

REWARD_STEPS = 10


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


class PGN(nn.Module):
    def __init__(self, input_size, n_actions):
        super(PGN, self).__init__()

        self.net = nn.Sequential(
            nn.Linear(input_size, 32),
            nn.ReLU(),
            nn.Linear(32, n_actions)
        )

    def forward(self, x):
        return self.net(x)


def smooth(old: Optional[float], val: float, alpha: float = 0.95) -> float:
    if old is None:
        return val
    return old * alpha + (1-alpha)*val


if __name__ == "__main__":
    env = TinyCartPole()

    net = PGN(env.observation_space.shape[0], env.action_space.n)
    print(net)

    agent = ptan.agent.PolicyAgent(net, preprocessor=ptan.agent.float32_preprocessor,
                                   apply_softmax=True)
    exp_source = ptan.experience.ExperienceSourceFirstLast(
        env, agent, gamma=GAMMA, steps_count=REWARD_STEPS)

    optimizer = optim.Adam(net.parameters(), lr=LEARNING_RATE)

    total_rewards = []
    step_rewards = []
    step_idx = 0
    done_episodes = 0
    n_updates = 0
    reward_sum = 0.0
    bs_smoothed = entropy = l_entropy = l_policy = l_total = None

    batch_states, batch_actions, batch_scales = [], [], []

    for step_idx, exp in enumerate(exp_source):
        reward_sum += exp.reward
        baseline = reward_sum / (step_idx + 1)
        batch_states.append(exp.state)
        batch_actions.append(int(exp.action))
        batch_scales.append(exp.reward - baseline)

        # handle new rewards
        new_rewards = exp_source.pop_total_rewards()
        if new_rewards:
            done_episodes += 1
            reward = new_rewards[0]
            total_rewards.append(reward)
            mean_rewards = float(np.mean(total_rewards[-100:]))
            print("%d: reward: %6.2f, mean_100: %6.2f, episodes: %d" % (
                step_idx, reward, mean_rewards, done_episodes))
            if mean_rewards > 24:
                print("Solved in %d steps and %d episodes!" % (step_idx, done_episodes))
                break

        if len(batch_states) < BATCH_SIZE:
            continue

        states_v = torch.FloatTensor(batch_states)
        batch_actions_t = torch.LongTensor(batch_actions)
        batch_scale_v = torch.FloatTensor(batch_scales)

        optimizer.zero_grad()
        logits_v = net(states_v)
        log_prob_v = F.log_softmax(logits_v, dim=1)
        log_prob_actions_v = batch_scale_v * log_prob_v[range(BATCH_SIZE), batch_actions_t]
        loss_policy_v = -log_prob_actions_v.mean()

        prob_v = F.softmax(logits_v, dim=1)
        entropy_v = -(prob_v * log_prob_v).sum(dim=1).mean()
        entropy_loss_v = -ENTROPY_BETA * entropy_v
        loss_v = loss_policy_v + entropy_loss_v

        loss_v.backward()
        optimizer.step()

        # calc KL-div
        new_logits_v = net(states_v)
        new_prob_v = F.softmax(new_logits_v, dim=1)
        kl_div_v = -((new_prob_v / prob_v).log() * prob_v).sum(dim=1).mean()

        grad_max = 0.0
        grad_means = 0.0
        grad_count = 0
        for p in net.parameters():
            grad_max = max(grad_max, p.grad.abs().max().item())
            grad_means += (p.grad ** 2).mean().sqrt().item()
            grad_count += 1

        bs_smoothed = smooth(bs_smoothed, np.mean(batch_scales))
        entropy = smooth(entropy, entropy_v.item())
        l_entropy = smooth(l_entropy, entropy_loss_v.item())
        l_policy = smooth(l_policy, loss_policy_v.item())
        l_total = smooth(l_total, loss_v.item())

        print("  step %d: baseline %.4f entropy %.5f loss_entropy %.6f loss_policy %.4f loss_total %.4f" % (
            step_idx, baseline, entropy, l_entropy, l_policy, l_total))
        print("  kl %.3e grad_l2 %.5f grad_max %.5f batch_scales %.4f" % (
            kl_div_v.item(), grad_means / grad_count, grad_max, bs_smoothed))

        batch_states.clear()
        batch_actions.clear()
        batch_scales.clear()
        n_updates += 1
        if n_updates == N_UPDATES:
            break
    print(prob_v)
