# Source: Maxim Lapan, "Deep Reinforcement Learning Hands-On" (2nd ed.), Chapter 12, advantage
#   actor-critic (A2C) on Pong: https://github.com/PacktPublishing/Deep-Reinforcement-Learning-Hands-On-Second-Edition
#   Chapter12/02_pong_a2c.py (and RewardTracker from Chapter12/lib/common.py)
# Shrunk: gym/Atari are not available. The NUM_ENVS wrapped Pong environments are replaced by
# TinyCorridor, a few NumPy lines with the same interface (reset/step returning obs, reward, done): a
# (2, 36, 36) uint8 frame (the agent's column, the goal's column; 36x36 is the smallest frame the
# book's convolutions accept), 3 actions, start drawn from NumPy's seeded global generator.
# ptan (Lapan's library) comes from ptan/ beside this script (its PolicyAgent and ExperienceSourceFirstLast,
# copied from https://github.com/Shmuma/ptan with the 2nd edition's gym API). NUM_ENVS 4, BATCH_SIZE 16, 6 updates;
# RewardTracker keeps its print line without the "speed f/s" figure (a timing), stop_reward 1.0 (the
# best mean, never exceeded); tensorboardX's TBMeanTracker values are printed each update instead;
# argparse (--cuda, -n) is replaced by its defaults (CPU); np.array(x, copy=False) is np.asarray(x)
# (NumPy 2 refuses copy=False when a copy is needed). Note: value_v is (BATCH_SIZE, 1), so the book's
# adv_v = vals_ref_v - value_v.detach() broadcasts to (BATCH_SIZE, BATCH_SIZE); kept as the book has it
# (the shapes are printed at the end).
import ptan
import numpy as np

import torch
import torch.nn as nn
import torch.nn.utils as nn_utils
import torch.nn.functional as F
import torch.optim as optim

GAMMA = 0.99
LEARNING_RATE = 0.001
ENTROPY_BETA = 0.01
BATCH_SIZE = 16
NUM_ENVS = 4
N_UPDATES = 6

REWARD_STEPS = 4
CLIP_GRAD = 0.1


class TinyCorridor:
    """In place of the wrapped Pong: move left/right along a corridor to the goal column."""
    class _Discrete:
        def __init__(self, n):
            self.n = n

    class _Box:
        def __init__(self, shape):
            self.shape = shape

    def __init__(self, size=36, goal=18, max_steps=8):
        self.size, self.goal, self.max_steps = size, goal, max_steps
        self.observation_space = self._Box((2, size, size))
        self.action_space = self._Discrete(3)

    def _obs(self):
        frame = np.zeros((2, self.size, self.size), dtype=np.uint8)
        frame[0, 14:22, self.pos - 2:self.pos + 2] = 255
        frame[1, :, self.goal - 1:self.goal + 1] = 255
        return frame

    def reset(self):
        self.pos = int(np.random.randint(4, self.size - 4))
        self.steps = 0
        return self._obs()

    def step(self, action):
        self.pos = int(np.clip(self.pos + 3 * (action - 1), 2, self.size - 2))
        self.steps += 1
        if abs(self.pos - self.goal) <= 1:
            return self._obs(), 1.0, True, {}
        if self.steps >= self.max_steps:
            return self._obs(), -1.0, True, {}
        return self._obs(), 0.0, False, {}


class RewardTracker:
    def __init__(self, stop_reward):
        self.stop_reward = stop_reward

    def __enter__(self):
        self.total_rewards = []
        return self

    def __exit__(self, *args):
        pass

    def reward(self, reward, frame, epsilon=None):
        self.total_rewards.append(reward)
        mean_reward = np.mean(self.total_rewards[-100:])
        epsilon_str = "" if epsilon is None else ", eps %.2f" % epsilon
        print("%d: done %d games, mean reward %.3f%s" % (
            frame, len(self.total_rewards), mean_reward, epsilon_str
        ))
        if mean_reward > self.stop_reward:
            print("Solved in %d frames!" % frame)
            return True
        return False


class AtariA2C(nn.Module):
    def __init__(self, input_shape, n_actions):
        super(AtariA2C, self).__init__()

        self.conv = nn.Sequential(
            nn.Conv2d(input_shape[0], 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU()
        )

        conv_out_size = self._get_conv_out(input_shape)
        self.policy = nn.Sequential(
            nn.Linear(conv_out_size, 512),
            nn.ReLU(),
            nn.Linear(512, n_actions)
        )

        self.value = nn.Sequential(
            nn.Linear(conv_out_size, 512),
            nn.ReLU(),
            nn.Linear(512, 1)
        )

    def _get_conv_out(self, shape):
        o = self.conv(torch.zeros(1, *shape))
        return int(np.prod(o.size()))

    def forward(self, x):
        fx = x.float() / 256
        conv_out = self.conv(fx).view(fx.size()[0], -1)
        return self.policy(conv_out), self.value(conv_out)


def unpack_batch(batch, net, device='cpu'):
    """
    Convert batch into training tensors
    :param batch:
    :param net:
    :return: states variable, actions tensor, reference values variable
    """
    states = []
    actions = []
    rewards = []
    not_done_idx = []
    last_states = []
    for idx, exp in enumerate(batch):
        states.append(np.asarray(exp.state))
        actions.append(int(exp.action))
        rewards.append(exp.reward)
        if exp.last_state is not None:
            not_done_idx.append(idx)
            last_states.append(np.asarray(exp.last_state))

    states_v = torch.FloatTensor(
        np.asarray(states)).to(device)
    actions_t = torch.LongTensor(actions).to(device)

    # handle rewards
    rewards_np = np.array(rewards, dtype=np.float32)
    if not_done_idx:
        last_states_v = torch.FloatTensor(np.asarray(last_states)).to(device)
        last_vals_v = net(last_states_v)[1]
        last_vals_np = last_vals_v.data.cpu().numpy()[:, 0]
        last_vals_np *= GAMMA ** REWARD_STEPS
        rewards_np[not_done_idx] += last_vals_np

    ref_vals_v = torch.FloatTensor(rewards_np).to(device)

    return states_v, actions_t, ref_vals_v


if __name__ == "__main__":
    device = torch.device("cpu")

    make_env = lambda: TinyCorridor()
    envs = [make_env() for _ in range(NUM_ENVS)]

    net = AtariA2C(envs[0].observation_space.shape, envs[0].action_space.n).to(device)
    print(net)

    agent = ptan.agent.PolicyAgent(lambda x: net(x)[0], apply_softmax=True, device=device)
    exp_source = ptan.experience.ExperienceSourceFirstLast(envs, agent, gamma=GAMMA, steps_count=REWARD_STEPS)

    optimizer = optim.Adam(net.parameters(), lr=LEARNING_RATE, eps=1e-3)

    batch = []
    n_updates = 0

    with RewardTracker(stop_reward=1.0) as tracker:
        for step_idx, exp in enumerate(exp_source):
            batch.append(exp)

            # handle new rewards
            new_rewards = exp_source.pop_total_rewards()
            if new_rewards:
                if tracker.reward(new_rewards[0], step_idx):
                    break

            if len(batch) < BATCH_SIZE:
                continue

            states_v, actions_t, vals_ref_v = unpack_batch(batch, net, device=device)
            batch.clear()

            optimizer.zero_grad()
            logits_v, value_v = net(states_v)
            loss_value_v = F.mse_loss(value_v.squeeze(-1), vals_ref_v)

            log_prob_v = F.log_softmax(logits_v, dim=1)
            adv_v = vals_ref_v - value_v.detach()
            log_prob_actions_v = adv_v * log_prob_v[range(BATCH_SIZE), actions_t]
            loss_policy_v = -log_prob_actions_v.mean()

            prob_v = F.softmax(logits_v, dim=1)
            entropy_loss_v = ENTROPY_BETA * (prob_v * log_prob_v).sum(dim=1).mean()

            # calculate policy gradients only
            loss_policy_v.backward(retain_graph=True)
            grads = np.concatenate([p.grad.data.cpu().numpy().flatten()
                                    for p in net.parameters()
                                    if p.grad is not None])

            # apply entropy and value gradients
            loss_v = entropy_loss_v + loss_value_v
            loss_v.backward()
            nn_utils.clip_grad_norm_(net.parameters(), CLIP_GRAD)
            optimizer.step()
            # get full loss
            loss_v += loss_policy_v

            print("step %d: adv %.4f values %.4f batch_rewards %.4f loss_entropy %.5f "
                  "loss_policy %.4f loss_value %.4f loss_total %.4f" % (
                      step_idx, adv_v.mean().item(), value_v.mean().item(), vals_ref_v.mean().item(),
                      entropy_loss_v.item(), loss_policy_v.item(), loss_value_v.item(), loss_v.item()))
            print("  grad_l2 %.6f grad_max %.6f grad_var %.4e, %d policy grads" % (
                np.sqrt(np.mean(np.square(grads))), np.max(np.abs(grads)), np.var(grads), len(grads)))
            n_updates += 1
            if n_updates == N_UPDATES:
                break
    print(adv_v.shape, value_v.shape, log_prob_actions_v.grad_fn is not None)
