# Source: Miguel Morales, "Grokking Deep Reinforcement Learning", chapter 11, policy-gradient and
#   actor-critic methods: REINFORCE, VPG (REINFORCE with a value baseline and entropy) and A2C (a shared
#   actor-critic network, n-step returns and GAE over several environments):
#   https://github.com/mimoralea/gdrl  notebooks/chapter_11/chapter-11.ipynb
#   (FCDAP, REINFORCE, FCV, VPG, FCAC, A2C; read from the copy of the notebook in
#   nacansino/gdrl-study-repo, as the upstream file is stored as a large-file pointer)
# Shrunk: gym's CartPole-v1 is replaced by TinyCartPole, a few NumPy lines (the cart-pole equations
# linearised, Euler steps, reward 1 a step, failure when the pole or cart leaves its bounds, a time
# limit of 40 steps reported as info['TimeLimit.truncated']); A2C's MultiprocessEnv (worker processes
# over pipes) is replaced by TinyVecEnv, the same envs stepped in-process, resetting an env when it
# ends, as the workers do. One seed (12) instead of five; hidden_dims (32, 16) instead of (128, 64) /
# (256, 128); 6 episodes for REINFORCE and VPG, 5 updates of A2C. The train loops keep the rollout
# and the update calls; their statistics (moving averages, evaluation, timing), checkpoints, videos
# and plots are left out: each episode prints its return, the loss and the evaluation score instead.
# A2C.optimize_model: .view(-1) -> .reshape(-1) on the returns/GAE tensors built from transposed NumPy
# arrays (PyTorch 2 keeps their strides and refuses the view); the strides are printed once.
import random
from itertools import count

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

SEEDS = (12,)


class TinyCartPole:
    """In place of gym.make('CartPole-v1'): the same 4-number state, 2 actions, reward 1 a step."""
    class _Box:
        shape = (4,)

    class _Discrete:
        n = 2

    observation_space, action_space = _Box(), _Discrete()
    x_threshold, theta_threshold_radians = 2.4, 12 * 2 * np.pi / 360

    def __init__(self, max_steps=40):
        self.max_steps = max_steps

    def reset(self):
        self.state = np.random.uniform(low=-0.05, high=0.05, size=(4,))
        self.t = 0
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = 10.0 if action == 1 else -10.0
        theta_acc = 15.76 * theta - 1.46 * force
        x_acc = 0.976 * force - 0.73 * theta
        self.state = (x + 0.02 * x_dot, x_dot + 0.02 * x_acc,
                      theta + 0.02 * theta_dot, theta_dot + 0.02 * theta_acc)
        self.t += 1
        x, _, theta, _ = self.state
        failed = bool(abs(x) > self.x_threshold or abs(theta) > self.theta_threshold_radians)
        truncated = not failed and self.t >= self.max_steps
        return np.array(self.state, dtype=np.float32), 1.0, failed or truncated, {'TimeLimit.truncated': truncated}

    def close(self):
        pass


class TinyVecEnv:
    """In place of MultiprocessEnv: n TinyCartPoles, each reset when it ends."""
    def __init__(self, n_workers):
        self.envs = [TinyCartPole() for _ in range(n_workers)]

    def reset(self):
        return np.vstack([env.reset() for env in self.envs])

    def step(self, actions):
        results = []
        for env, action in zip(self.envs, actions):
            s, r, d, info = env.step(action)
            if d:
                s = env.reset()
            results.append((s, np.array(r, dtype=np.float32), np.array(float(d), dtype=np.float32), info))
        return [np.vstack(block) for block in np.array(results, dtype=object).T[:3]] + [None]


class FCDAP(nn.Module):
    def __init__(self,
                 input_dim,
                 output_dim,
                 hidden_dims=(32,32),
                 activation_fc=F.relu):
        super(FCDAP, self).__init__()
        self.activation_fc = activation_fc

        self.input_layer = nn.Linear(input_dim, hidden_dims[0])
        self.hidden_layers = nn.ModuleList()
        for i in range(len(hidden_dims)-1):
            hidden_layer = nn.Linear(hidden_dims[i], hidden_dims[i+1])
            self.hidden_layers.append(hidden_layer)
        self.output_layer = nn.Linear(hidden_dims[-1], output_dim)

    def _format(self, state):
        x = state
        if not isinstance(x, torch.Tensor):
            x = torch.tensor(x,
                             dtype=torch.float32)
            x = x.unsqueeze(0)
        return x

    def forward(self, state):
        x = self._format(state)
        x = self.activation_fc(self.input_layer(x))
        for hidden_layer in self.hidden_layers:
            x = self.activation_fc(hidden_layer(x))
        return self.output_layer(x)

    def full_pass(self, state):
        logits = self.forward(state)
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        logpa = dist.log_prob(action).unsqueeze(-1)
        entropy = dist.entropy().unsqueeze(-1)
        is_exploratory = action != np.argmax(logits.detach().numpy())
        return action.item(), is_exploratory.item(), logpa, entropy

    def select_action(self, state):
        logits = self.forward(state)
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        return action.item()

    def select_greedy_action(self, state):
        logits = self.forward(state)
        return np.argmax(logits.detach().numpy())


def evaluate(eval_policy_model, eval_env, n_episodes=1, greedy=True):
    rs = []
    for _ in range(n_episodes):
        s, d = eval_env.reset(), False
        rs.append(0)
        for _ in count():
            if greedy:
                a = eval_policy_model.select_greedy_action(s)
            else:
                a = eval_policy_model.select_action(s)
            s, r, d, _ = eval_env.step(a)
            rs[-1] += r
            if d: break
    return np.mean(rs), np.std(rs)


class REINFORCE():
    def __init__(self, policy_model_fn, policy_optimizer_fn, policy_optimizer_lr):
        self.policy_model_fn = policy_model_fn
        self.policy_optimizer_fn = policy_optimizer_fn
        self.policy_optimizer_lr = policy_optimizer_lr

    def optimize_model(self):
        T = len(self.rewards)
        discounts = np.logspace(0, T, num=T, base=self.gamma, endpoint=False)
        returns = np.array([np.sum(discounts[:T-t] * self.rewards[t:]) for t in range(T)])

        discounts = torch.FloatTensor(discounts).unsqueeze(1)
        returns = torch.FloatTensor(returns).unsqueeze(1)
        self.logpas = torch.cat(self.logpas)

        policy_loss = -(discounts * returns * self.logpas).mean()
        self.policy_optimizer.zero_grad()
        policy_loss.backward()
        self.policy_optimizer.step()
        return policy_loss

    def interaction_step(self, state, env):
        action, is_exploratory, logpa, _ = self.policy_model.full_pass(state)
        new_state, reward, is_terminal, _ = env.step(action)

        self.logpas.append(logpa)
        self.rewards.append(reward)

        self.episode_reward[-1] += reward
        self.episode_timestep[-1] += 1
        self.episode_exploration[-1] += int(is_exploratory)

        return new_state, is_terminal

    def train(self, make_env_fn, seed, gamma, max_episodes):
        self.seed = seed
        self.gamma = gamma

        env = make_env_fn()
        torch.manual_seed(self.seed) ; np.random.seed(self.seed) ; random.seed(self.seed)

        nS, nA = env.observation_space.shape[0], env.action_space.n
        self.episode_timestep = []
        self.episode_reward = []
        self.episode_exploration = []

        self.policy_model = self.policy_model_fn(nS, nA)
        self.policy_optimizer = self.policy_optimizer_fn(self.policy_model,
                                                         self.policy_optimizer_lr)
        for episode in range(1, max_episodes + 1):
            state, is_terminal = env.reset(), False
            self.episode_reward.append(0.0)
            self.episode_timestep.append(0.0)
            self.episode_exploration.append(0.0)

            # collect rollout
            self.logpas, self.rewards = [], []
            for step in count():
                state, is_terminal = self.interaction_step(state, env)
                if is_terminal:
                    break

            policy_loss = self.optimize_model()
            evaluation_score, _ = evaluate(self.policy_model, env)
            print('ep {:04}, return {:5.1f}, exploratory {:.0f}, loss {:.5f}, ev {:5.1f}'.format(
                episode-1, self.episode_reward[-1], self.episode_exploration[-1],
                policy_loss.item(), evaluation_score))
        return evaluate(self.policy_model, env, n_episodes=10)


for seed in SEEDS:
    policy_model_fn = lambda nS, nA: FCDAP(nS, nA, hidden_dims=(32,16))
    policy_optimizer_fn = lambda net, lr: optim.Adam(net.parameters(), lr=lr)
    policy_optimizer_lr = 0.0005

    agent = REINFORCE(policy_model_fn, policy_optimizer_fn, policy_optimizer_lr)
    final_eval_score, score_std = agent.train(TinyCartPole, seed, 1.00, 6)
    print('REINFORCE final evaluation score {:.2f}\u00B1{:.2f}'.format(final_eval_score, score_std))
    print(agent.logpas.view(-1)[:8])


class FCV(nn.Module):
    def __init__(self,
                 input_dim,
                 hidden_dims=(32,32),
                 activation_fc=F.relu):
        super(FCV, self).__init__()
        self.activation_fc = activation_fc

        self.input_layer = nn.Linear(input_dim, hidden_dims[0])
        self.hidden_layers = nn.ModuleList()
        for i in range(len(hidden_dims)-1):
            hidden_layer = nn.Linear(hidden_dims[i], hidden_dims[i+1])
            self.hidden_layers.append(hidden_layer)
        self.output_layer = nn.Linear(hidden_dims[-1], 1)

    def _format(self, state):
        x = state
        if not isinstance(x, torch.Tensor):
            x = torch.tensor(x,
                             dtype=torch.float32)
            x = x.unsqueeze(0)
        return x

    def forward(self, state):
        x = self._format(state)
        x = self.activation_fc(self.input_layer(x))
        for hidden_layer in self.hidden_layers:
            x = self.activation_fc(hidden_layer(x))
        return self.output_layer(x)


class VPG():
    def __init__(self,
                 policy_model_fn,
                 policy_model_max_grad_norm,
                 policy_optimizer_fn,
                 policy_optimizer_lr,
                 value_model_fn,
                 value_model_max_grad_norm,
                 value_optimizer_fn,
                 value_optimizer_lr,
                 entropy_loss_weight):
        self.policy_model_fn = policy_model_fn
        self.policy_model_max_grad_norm = policy_model_max_grad_norm
        self.policy_optimizer_fn = policy_optimizer_fn
        self.policy_optimizer_lr = policy_optimizer_lr

        self.value_model_fn = value_model_fn
        self.value_model_max_grad_norm = value_model_max_grad_norm
        self.value_optimizer_fn = value_optimizer_fn
        self.value_optimizer_lr = value_optimizer_lr

        self.entropy_loss_weight = entropy_loss_weight

    def optimize_model(self):
        T = len(self.rewards)
        discounts = np.logspace(0, T, num=T, base=self.gamma, endpoint=False)
        returns = np.array([np.sum(discounts[:T-t] * self.rewards[t:]) for t in range(T)])
        discounts = torch.FloatTensor(discounts[:-1]).unsqueeze(1)
        returns = torch.FloatTensor(returns[:-1]).unsqueeze(1)

        self.logpas = torch.cat(self.logpas)
        self.entropies = torch.cat(self.entropies)
        self.values = torch.cat(self.values)

        value_error = returns - self.values
        policy_loss = -(discounts * value_error.detach() * self.logpas).mean()
        entropy_loss = -self.entropies.mean()
        loss = policy_loss + self.entropy_loss_weight * entropy_loss
        self.policy_optimizer.zero_grad()
        loss.backward()
        policy_norm = torch.nn.utils.clip_grad_norm_(self.policy_model.parameters(),
                                                     self.policy_model_max_grad_norm)
        self.policy_optimizer.step()

        value_loss = value_error.pow(2).mul(0.5).mean()
        self.value_optimizer.zero_grad()
        value_loss.backward()
        value_norm = torch.nn.utils.clip_grad_norm_(self.value_model.parameters(),
                                                    self.value_model_max_grad_norm)
        self.value_optimizer.step()
        return loss, value_loss, policy_norm, value_norm

    def interaction_step(self, state, env):
        action, is_exploratory, logpa, entropy = self.policy_model.full_pass(state)
        new_state, reward, is_terminal, info = env.step(action)
        is_truncated = 'TimeLimit.truncated' in info and info['TimeLimit.truncated']

        self.logpas.append(logpa)
        self.entropies.append(entropy)
        self.rewards.append(reward)
        self.values.append(self.value_model(state))

        self.episode_reward[-1] += reward
        self.episode_timestep[-1] += 1
        self.episode_exploration[-1] += int(is_exploratory)
        return new_state, is_terminal, is_truncated

    def train(self, make_env_fn, seed, gamma, max_episodes):
        self.seed = seed
        self.gamma = gamma

        env = make_env_fn()
        torch.manual_seed(self.seed) ; np.random.seed(self.seed) ; random.seed(self.seed)

        nS, nA = env.observation_space.shape[0], env.action_space.n
        self.episode_timestep = []
        self.episode_reward = []
        self.episode_exploration = []

        self.policy_model = self.policy_model_fn(nS, nA)
        self.policy_optimizer = self.policy_optimizer_fn(self.policy_model,
                                                         self.policy_optimizer_lr)

        self.value_model = self.value_model_fn(nS)
        self.value_optimizer = self.value_optimizer_fn(self.value_model,
                                                       self.value_optimizer_lr)
        for episode in range(1, max_episodes + 1):
            state, is_terminal = env.reset(), False
            self.episode_reward.append(0.0)
            self.episode_timestep.append(0.0)
            self.episode_exploration.append(0.0)

            # collect rollout
            self.logpas, self.entropies, self.rewards, self.values = [], [], [], []
            for step in count():
                state, is_terminal, is_truncated = self.interaction_step(state, env)
                if is_terminal:
                    break

            is_failure = is_terminal and not is_truncated
            next_value = 0 if is_failure else self.value_model(state).detach().item()
            self.rewards.append(next_value)
            loss, value_loss, policy_norm, value_norm = self.optimize_model()
            evaluation_score, _ = evaluate(self.policy_model, env)
            print('ep {:04}, return {:5.1f}, truncated {}, next value {:.4f}, loss {:.5f}, value loss {:.5f}, '
                  'norms {:.4f} {:.4f}, ev {:5.1f}'.format(
                      episode-1, self.episode_reward[-1], is_truncated, next_value, loss.item(),
                      value_loss.item(), policy_norm.item(), value_norm.item(), evaluation_score))
        return evaluate(self.policy_model, env, n_episodes=10)


for seed in SEEDS:
    policy_model_fn = lambda nS, nA: FCDAP(nS, nA, hidden_dims=(32,16))
    policy_model_max_grad_norm = 1
    policy_optimizer_fn = lambda net, lr: optim.Adam(net.parameters(), lr=lr)
    policy_optimizer_lr = 0.0005

    value_model_fn = lambda nS: FCV(nS, hidden_dims=(32,16))
    value_model_max_grad_norm = float('inf')
    value_optimizer_fn = lambda net, lr: optim.RMSprop(net.parameters(), lr=lr)
    value_optimizer_lr = 0.0007

    entropy_loss_weight = 0.001

    agent = VPG(policy_model_fn,
                policy_model_max_grad_norm,
                policy_optimizer_fn,
                policy_optimizer_lr,
                value_model_fn,
                value_model_max_grad_norm,
                value_optimizer_fn,
                value_optimizer_lr,
                entropy_loss_weight)
    final_eval_score, score_std = agent.train(TinyCartPole, seed, 1.00, 6)
    print('VPG final evaluation score {:.2f}\u00B1{:.2f}'.format(final_eval_score, score_std))
    print(agent.values.view(-1)[:6], agent.entropies.view(-1)[:6])


class FCAC(nn.Module):
    def __init__(self,
                 input_dim,
                 output_dim,
                 hidden_dims=(32,32),
                 activation_fc=F.relu):
        super(FCAC, self).__init__()
        self.activation_fc = activation_fc

        self.input_layer = nn.Linear(input_dim, hidden_dims[0])
        self.hidden_layers = nn.ModuleList()
        for i in range(len(hidden_dims)-1):
            hidden_layer = nn.Linear(hidden_dims[i], hidden_dims[i+1])
            self.hidden_layers.append(hidden_layer)
        self.value_output_layer = nn.Linear(hidden_dims[-1], 1)
        self.policy_output_layer = nn.Linear(hidden_dims[-1], output_dim)

    def _format(self, state):
        x = state
        if not isinstance(x, torch.Tensor):
            x = torch.tensor(x, dtype=torch.float32)
            if len(x.size()) == 1:
                x = x.unsqueeze(0)
        return x

    def forward(self, state):
        x = self._format(state)
        x = self.activation_fc(self.input_layer(x))
        for hidden_layer in self.hidden_layers:
            x = self.activation_fc(hidden_layer(x))
        return self.policy_output_layer(x), self.value_output_layer(x)

    def full_pass(self, state):
        logits, value = self.forward(state)
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        logpa = dist.log_prob(action).unsqueeze(-1)
        entropy = dist.entropy().unsqueeze(-1)
        action = action.item() if len(action) == 1 else action.data.numpy()
        is_exploratory = action != np.argmax(logits.detach().numpy(), axis=int(len(state)!=1))
        return action, is_exploratory, logpa, entropy, value

    def select_action(self, state):
        logits, _ = self.forward(state)
        dist = torch.distributions.Categorical(logits=logits)
        action = dist.sample()
        action = action.item() if len(action) == 1 else action.data.numpy()
        return action

    def select_greedy_action(self, state):
        logits, _ = self.forward(state)
        return np.argmax(logits.detach().numpy())

    def evaluate_state(self, state):
        _, value = self.forward(state)
        return value


class A2C():
    def __init__(self,
                 ac_model_fn,
                 ac_model_max_grad_norm,
                 ac_optimizer_fn,
                 ac_optimizer_lr,
                 policy_loss_weight,
                 value_loss_weight,
                 entropy_loss_weight,
                 max_n_steps,
                 n_workers,
                 tau):
        assert n_workers > 1
        self.ac_model_fn = ac_model_fn
        self.ac_model_max_grad_norm = ac_model_max_grad_norm
        self.ac_optimizer_fn = ac_optimizer_fn
        self.ac_optimizer_lr = ac_optimizer_lr

        self.policy_loss_weight = policy_loss_weight
        self.value_loss_weight = value_loss_weight
        self.entropy_loss_weight = entropy_loss_weight

        self.max_n_steps = max_n_steps
        self.n_workers = n_workers
        self.tau = tau

    def optimize_model(self):
        logpas = torch.stack(self.logpas).squeeze()
        entropies = torch.stack(self.entropies).squeeze()
        values = torch.stack(self.values).squeeze()

        T = len(self.rewards)
        discounts = np.logspace(0, T, num=T, base=self.gamma, endpoint=False)
        rewards = np.array(self.rewards).squeeze()
        returns = np.array([[np.sum(discounts[:T-t] * rewards[t:, w]) for t in range(T)]
                             for w in range(self.n_workers)])

        np_values = values.data.numpy()
        tau_discounts = np.logspace(0, T-1, num=T-1, base=self.gamma*self.tau, endpoint=False)
        advs = rewards[:-1] + self.gamma * np_values[1:] - np_values[:-1]
        gaes = np.array([[np.sum(tau_discounts[:T-1-t] * advs[t:, w]) for t in range(T-1)]
                             for w in range(self.n_workers)])
        discounted_gaes = discounts[:-1] * gaes

        values = values[:-1,...].view(-1).unsqueeze(1)
        logpas = logpas.view(-1).unsqueeze(1)
        entropies = entropies.view(-1).unsqueeze(1)
        # the notebook has .view(-1) on these two lines: PyTorch 2 keeps the strides of the transposed
        # NumPy arrays, so .view(-1) raises there ("view size is not compatible..."); .reshape(-1) here
        if not hasattr(self, 'printed_strides'):
            self.printed_strides = True
            print('FloatTensor of returns.T[:-1]: stride', torch.FloatTensor(returns.T[:-1]).stride(),
                  'contiguous', torch.FloatTensor(returns.T[:-1]).is_contiguous())
        returns = torch.FloatTensor(returns.T[:-1]).reshape(-1).unsqueeze(1)
        discounted_gaes = torch.FloatTensor(discounted_gaes.T).reshape(-1).unsqueeze(1)

        T -= 1
        T *= self.n_workers
        assert returns.size() == (T, 1)
        assert values.size() == (T, 1)
        assert logpas.size() == (T, 1)
        assert entropies.size() == (T, 1)

        value_error = returns.detach() - values
        value_loss = value_error.pow(2).mul(0.5).mean()
        policy_loss = -(discounted_gaes.detach() * logpas).mean()
        entropy_loss = -entropies.mean()
        loss = self.policy_loss_weight * policy_loss + \
                self.value_loss_weight * value_loss + \
                self.entropy_loss_weight * entropy_loss

        self.ac_optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.ac_model.parameters(),
                                       self.ac_model_max_grad_norm)
        self.ac_optimizer.step()
        return policy_loss, value_loss, entropy_loss, discounted_gaes

    def interaction_step(self, states, envs):
        actions, is_exploratory, logpas, entropies, values = self.ac_model.full_pass(states)
        new_states, rewards, is_terminals, _ = envs.step(actions)

        self.logpas.append(logpas) ; self.entropies.append(entropies)
        self.rewards.append(rewards) ; self.values.append(values)

        self.running_reward += rewards
        self.running_timestep += 1
        self.running_exploration += is_exploratory[:,np.newaxis].astype(int)

        return new_states, is_terminals

    def train(self, make_envs_fn, seed, gamma, max_updates):
        self.seed = seed
        self.gamma = gamma

        envs = make_envs_fn(self.n_workers)
        torch.manual_seed(self.seed) ; np.random.seed(self.seed) ; random.seed(self.seed)

        nS, nA = TinyCartPole.observation_space.shape[0], TinyCartPole.action_space.n
        self.running_timestep = np.array([[0.],] * self.n_workers)
        self.running_reward = np.array([[0.],] * self.n_workers)
        self.running_exploration = np.array([[0.],] * self.n_workers)
        self.episode_reward = []

        self.ac_model = self.ac_model_fn(nS, nA)
        self.ac_optimizer = self.ac_optimizer_fn(self.ac_model,
                                                 self.ac_optimizer_lr)

        states = envs.reset()
        n_updates = 0

        # collect n_steps rollout
        episode, n_steps_start = 0, 0
        self.logpas, self.entropies, self.rewards, self.values = [], [], [], []
        for step in count(start=1):
            states, is_terminals = self.interaction_step(states, envs)

            if is_terminals.sum() or step - n_steps_start == self.max_n_steps:
                past_limits_enforced = False  # TinyVecEnv reports failures only as terminals here
                failure = np.logical_and(is_terminals, np.logical_not(past_limits_enforced))
                next_values = self.ac_model.evaluate_state(
                    states).detach().numpy() * (1 - failure)
                self.rewards.append(next_values) ; self.values.append(torch.Tensor(next_values))
                policy_loss, value_loss, entropy_loss, gaes = self.optimize_model()
                n_updates += 1
                print('update {} after {} steps: policy {:.5f} value {:.5f} entropy {:.5f}'.format(
                    n_updates, step - n_steps_start, policy_loss.item(), value_loss.item(), entropy_loss.item()))
                print('  gaes', gaes.view(-1)[:6])
                self.logpas, self.entropies, self.rewards, self.values = [], [], [], []
                n_steps_start = step

            # stats
            if is_terminals.sum():
                for i in range(self.n_workers):
                    if is_terminals[i]:
                        self.episode_reward.append(self.running_reward[i].item())
                        self.running_reward[i] = 0
                        self.running_timestep[i] = 0
                        self.running_exploration[i] = 0
                print('  finished episodes', self.episode_reward)
            if n_updates >= max_updates:
                break
        return evaluate(self.ac_model, TinyCartPole(), n_episodes=10)


for seed in SEEDS:
    ac_model_fn = lambda nS, nA: FCAC(nS, nA, hidden_dims=(32,16))
    ac_model_max_grad_norm = 1
    # ac_optimizer_fn = lambda net, lr: optim.Adam(net.parameters(), lr=lr)
    ac_optimizer_fn = lambda net, lr: optim.RMSprop(net.parameters(), lr=lr)
    ac_optimizer_lr = 0.001

    policy_loss_weight = 1.0
    value_loss_weight = 0.6

    entropy_loss_weight = 0.001

    max_n_steps = 10
    n_workers = 8
    tau = 0.95

    agent = A2C(ac_model_fn,
                ac_model_max_grad_norm,
                ac_optimizer_fn,
                ac_optimizer_lr,
                policy_loss_weight,
                value_loss_weight,
                entropy_loss_weight,
                max_n_steps,
                n_workers,
                tau)
    final_eval_score, score_std = agent.train(TinyVecEnv, seed, 0.99, 5)
    print('A2C final evaluation score {:.2f}\u00B1{:.2f}'.format(final_eval_score, score_std))
    print(agent.ac_model(np.array([0.01, -0.02, 0.03, 0.04], dtype=np.float32)))
