# Source: Maxim Lapan, "Deep Reinforcement Learning Hands-On" (2nd ed.), Chapter 6, DQN on Pong with a
#   replay buffer and a target network:
#   https://github.com/PacktPublishing/Deep-Reinforcement-Learning-Hands-On-Second-Edition
#   Chapter06/02_dqn_pong.py and Chapter06/lib/dqn_model.py (the DQN class, inlined here)
# Shrunk: gym/Atari are not available: lib.wrappers.make_env("PongNoFrameskip-v4") is replaced by
# TinyCorridor, a few NumPy lines with the same interface (reset/step returning obs, reward, done;
# action_space.sample()): a (2, 36, 36) float32 frame (the agent's column, the goal's column), 3 actions,
# start drawn from NumPy's seeded global generator; 36x36 is the smallest frame the book's three
# convolutions accept. REPLAY_SIZE 200, REPLAY_START_SIZE 32, BATCH_SIZE 8, SYNC_TARGET_FRAMES 10,
# epsilon decays over 50 frames, 70 frames in all; argparse (--cuda, --env) is replaced by its defaults
# (CPU); tensorboardX and the "speed f/s" figure (a timing) are left out; torch.save writes the best
# state_dict to an in-memory io.BytesIO instead of a file; np.array(x, copy=False) is np.asarray(x)
# (NumPy 2 refuses copy=False when a copy is needed). Added prints: a loss line every 10 frames, the
# reloaded best state_dict's keys and the Q-values of one frame at the end.
import io
import numpy as np
import collections

import torch
import torch.nn as nn
import torch.optim as optim


DEFAULT_ENV_NAME = "PongNoFrameskip-v4"
MEAN_REWARD_BOUND = 1.0  # the best mean reward: never exceeded, so all TOTAL_FRAMES run

GAMMA = 0.99
BATCH_SIZE = 8
REPLAY_SIZE = 200
LEARNING_RATE = 1e-4
SYNC_TARGET_FRAMES = 10
REPLAY_START_SIZE = 32
TOTAL_FRAMES = 70

EPSILON_DECAY_LAST_FRAME = 50
EPSILON_START = 1.0
EPSILON_FINAL = 0.01


class TinyCorridor:
    """In place of the wrapped Pong: move left/right along a corridor to the goal column."""
    class _Discrete:
        def __init__(self, n):
            self.n = n

        def sample(self):
            return int(np.random.randint(self.n))

    class _Box:
        def __init__(self, shape):
            self.shape = shape

    def __init__(self, size=36, goal=18, max_steps=8):
        self.size, self.goal, self.max_steps = size, goal, max_steps
        self.observation_space = self._Box((2, size, size))
        self.action_space = self._Discrete(3)

    def _obs(self):
        frame = np.zeros((2, self.size, self.size), dtype=np.float32)
        frame[0, 14:22, self.pos - 2:self.pos + 2] = 1.0
        frame[1, :, self.goal - 1:self.goal + 1] = 1.0
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


class DQN(nn.Module):
    def __init__(self, input_shape, n_actions):
        super(DQN, self).__init__()

        self.conv = nn.Sequential(
            nn.Conv2d(input_shape[0], 32, kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),
            nn.ReLU()
        )

        conv_out_size = self._get_conv_out(input_shape)
        self.fc = nn.Sequential(
            nn.Linear(conv_out_size, 512),
            nn.ReLU(),
            nn.Linear(512, n_actions)
        )

    def _get_conv_out(self, shape):
        o = self.conv(torch.zeros(1, *shape))
        return int(np.prod(o.size()))

    def forward(self, x):
        conv_out = self.conv(x).view(x.size()[0], -1)
        return self.fc(conv_out)


Experience = collections.namedtuple(
    'Experience', field_names=['state', 'action', 'reward',
                               'done', 'new_state'])


class ExperienceBuffer:
    def __init__(self, capacity):
        self.buffer = collections.deque(maxlen=capacity)

    def __len__(self):
        return len(self.buffer)

    def append(self, experience):
        self.buffer.append(experience)

    def sample(self, batch_size):
        indices = np.random.choice(len(self.buffer), batch_size,
                                   replace=False)
        states, actions, rewards, dones, next_states = \
            zip(*[self.buffer[idx] for idx in indices])
        return np.array(states), np.array(actions), \
               np.array(rewards, dtype=np.float32), \
               np.array(dones, dtype=np.uint8), \
               np.array(next_states)


class Agent:
    def __init__(self, env, exp_buffer):
        self.env = env
        self.exp_buffer = exp_buffer
        self._reset()

    def _reset(self):
        self.state = env.reset()
        self.total_reward = 0.0

    @torch.no_grad()
    def play_step(self, net, epsilon=0.0, device="cpu"):
        done_reward = None

        if np.random.random() < epsilon:
            action = env.action_space.sample()
        else:
            state_a = np.asarray([self.state])
            state_v = torch.tensor(state_a).to(device)
            q_vals_v = net(state_v)
            _, act_v = torch.max(q_vals_v, dim=1)
            action = int(act_v.item())

        # do step in the environment
        new_state, reward, is_done, _ = self.env.step(action)
        self.total_reward += reward

        exp = Experience(self.state, action, reward,
                         is_done, new_state)
        self.exp_buffer.append(exp)
        self.state = new_state
        if is_done:
            done_reward = self.total_reward
            self._reset()
        return done_reward


def calc_loss(batch, net, tgt_net, device="cpu"):
    states, actions, rewards, dones, next_states = batch

    states_v = torch.tensor(np.asarray(
        states)).to(device)
    next_states_v = torch.tensor(np.asarray(
        next_states)).to(device)
    actions_v = torch.tensor(actions).to(device)
    rewards_v = torch.tensor(rewards).to(device)
    done_mask = torch.BoolTensor(dones).to(device)

    state_action_values = net(states_v).gather(
        1, actions_v.unsqueeze(-1)).squeeze(-1)
    with torch.no_grad():
        next_state_values = tgt_net(next_states_v).max(1)[0]
        next_state_values[done_mask] = 0.0
        next_state_values = next_state_values.detach()

    expected_state_action_values = next_state_values * GAMMA + \
                                   rewards_v
    return nn.MSELoss()(state_action_values,
                        expected_state_action_values)


if __name__ == "__main__":
    device = torch.device("cpu")

    env = TinyCorridor()

    net = DQN(env.observation_space.shape,
              env.action_space.n).to(device)
    tgt_net = DQN(env.observation_space.shape,
                  env.action_space.n).to(device)
    print(net)

    buffer = ExperienceBuffer(REPLAY_SIZE)
    agent = Agent(env, buffer)
    epsilon = EPSILON_START

    optimizer = optim.Adam(net.parameters(), lr=LEARNING_RATE)
    total_rewards = []
    frame_idx = 0
    best_m_reward = None
    saved = io.BytesIO()

    while frame_idx < TOTAL_FRAMES:
        frame_idx += 1
        epsilon = max(EPSILON_FINAL, EPSILON_START -
                      frame_idx / EPSILON_DECAY_LAST_FRAME)

        reward = agent.play_step(net, epsilon, device=device)
        if reward is not None:
            total_rewards.append(reward)
            m_reward = np.mean(total_rewards[-100:])
            print("%d: done %d games, reward %.3f, "
                  "eps %.2f" % (
                frame_idx, len(total_rewards), m_reward, epsilon
            ))
            if best_m_reward is None or best_m_reward < m_reward:
                saved.seek(0)
                torch.save(net.state_dict(), saved)
                if best_m_reward is not None:
                    print("Best reward updated %.3f -> %.3f" % (
                        best_m_reward, m_reward))
                best_m_reward = m_reward
            if m_reward > MEAN_REWARD_BOUND:
                print("Solved in %d frames!" % frame_idx)
                break

        if len(buffer) < REPLAY_START_SIZE:
            continue

        if frame_idx % SYNC_TARGET_FRAMES == 0:
            tgt_net.load_state_dict(net.state_dict())

        optimizer.zero_grad()
        batch = buffer.sample(BATCH_SIZE)
        loss_t = calc_loss(batch, net, tgt_net, device=device)
        loss_t.backward()
        optimizer.step()
        if frame_idx % 10 == 0:
            print("frame %d: loss %.6f" % (frame_idx, loss_t.item()))

    saved.seek(0)
    best = torch.load(saved)
    print(sorted(best.keys())[:4], best["fc.2.weight"].shape)
    with torch.no_grad():
        print(net(torch.tensor(np.asarray([env.reset()]))))
