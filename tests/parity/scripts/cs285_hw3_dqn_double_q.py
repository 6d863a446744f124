# Source: Berkeley CS285 Deep RL, Fall 2023, homework 3 (DQN) — starter code
#   https://github.com/berkeleydeeprlcourse/homework_fall2023  hw3/cs285/...
# with a student's solutions, https://github.com/ykpercy/homework_fall2023:
#   hw3/cs285/agents/dqn_agent.py (DQNAgent: target network, double-Q with gather, clip_grad_norm_,
#   ConstantLR), hw3/cs285/env_configs/dqn_basic_config.py (make_critic / make_optimizer /
#   make_lr_schedule, PiecewiseSchedule exploration), hw3/cs285/env_configs/schedule.py,
#   hw3/cs285/infrastructure/replay_buffer.py (ReplayBuffer, in cs285/), hw3/cs285/scripts/run_hw3_dqn.py
#   (run_training_loop). The agent and pytorch_util are imported verbatim from cs285/ beside this script.
# Shrunk: gym's CartPole is replaced by a tiny seeded NumPy chain environment written below (old gym
# step API: obs, reward, done, info with "TimeLimit.truncated"); 96 steps instead of 300000, learning
# starts at 32 instead of 20000, batch 16, hidden 16, target update every 20 steps; run with and without
# use_double_q; the logger/tqdm/video parts are left out and the logged scalars printed instead; the
# replay buffer's debug print of every int action is left out.
import numpy as np
import torch
import torch.nn as nn
from typing import Optional, Tuple

from cs285.agents.dqn_agent import DQNAgent
import cs285.infrastructure.pytorch_util as ptu
from cs285.infrastructure.replay_buffer import ReplayBuffer


# ---- hw3/cs285/env_configs/schedule.py (PiecewiseSchedule) ----
def linear_interpolation(l, r, alpha):
    return l + alpha * (r - l)


class PiecewiseSchedule(object):
    def __init__(self, endpoints, interpolation=linear_interpolation, outside_value=None):
        idxes = [e[0] for e in endpoints]
        assert idxes == sorted(idxes)
        self._interpolation = interpolation
        self._outside_value = outside_value
        self._endpoints      = endpoints

    def value(self, t):
        """See Schedule.value"""
        for (l_t, l), (r_t, r) in zip(self._endpoints[:-1], self._endpoints[1:]):
            if l_t <= t and t < r_t:
                alpha = float(t - l_t) / (r_t - l_t)
                return self._interpolation(l, r, alpha)

        # t does not belong to any of the pieces, so doom.
        assert self._outside_value is not None
        return self._outside_value


# ---- a tiny seeded NumPy environment instead of gym (CartPole-v1) ----
class ChainEnv:
    """Walk on positions 0..6 (start 3); action 1 moves right, 0 left; reward 1 at 6 (done), -0.1 at 0."""
    n = 2
    shape = (4,)

    def __init__(self, max_episode_steps=12):
        self.max_episode_steps = max_episode_steps

    def _obs(self):
        return np.array([self.pos / 6.0, 1.0 - self.pos / 6.0, np.sin(self.pos), 0.1 * self.t],
                        dtype=np.float32) + np.random.normal(0, 0.01, 4).astype(np.float32)

    def reset(self):
        self.pos, self.t = 3, 0
        return self._obs()

    def step(self, action):
        self.pos = min(6, max(0, self.pos + (1 if action == 1 else -1)))
        self.t += 1
        reward = 1.0 if self.pos == 6 else (-0.1 if self.pos == 0 else 0.0)
        done = self.pos == 6
        info = {}
        if not done and self.t >= self.max_episode_steps:
            done = True
            info["TimeLimit.truncated"] = True
        return self._obs(), reward, done, info


# ---- hw3/cs285/env_configs/dqn_basic_config.py (the parts the agent uses) ----
def basic_dqn_config(
    hidden_size: int = 16,
    num_layers: int = 2,
    learning_rate: float = 1e-3,
    total_steps: int = 96,
    discount: float = 0.99,
    target_update_period: int = 20,
    clip_grad_norm: Optional[float] = None,
    use_double_q: bool = False,
    learning_starts: int = 32,
    batch_size: int = 16,
    **kwargs
):
    def make_critic(observation_shape: Tuple[int, ...], num_actions: int) -> nn.Module:
        return ptu.build_mlp(
            input_size=np.prod(observation_shape),
            output_size=num_actions,
            n_layers=num_layers,
            size=hidden_size,
        )

    def make_optimizer(params: torch.nn.ParameterList) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=learning_rate)

    def make_lr_schedule(
        optimizer: torch.optim.Optimizer,
    ) -> torch.optim.lr_scheduler._LRScheduler:
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)

    exploration_schedule = PiecewiseSchedule(
        [
            (0, 1),
            (total_steps * 0.1, 0.02),
        ],
        outside_value=0.02,
    )

    return {
        "agent_kwargs": {
            "make_critic": make_critic,
            "make_optimizer": make_optimizer,
            "make_lr_schedule": make_lr_schedule,
            "discount": discount,
            "target_update_period": target_update_period,
            "clip_grad_norm": clip_grad_norm,
            "use_double_q": use_double_q,
        },
        "exploration_schedule": exploration_schedule,
        "make_env": ChainEnv,
        "total_steps": total_steps,
        "batch_size": batch_size,
        "learning_starts": learning_starts,
    }


# ---- hw3/cs285/scripts/run_hw3_dqn.py (run_training_loop, shrunk) ----
def run_training_loop(config: dict, seed: int, log_interval: int = 16):
    np.random.seed(seed)
    torch.manual_seed(seed)
    ptu.init_gpu(use_gpu=False)

    env = config["make_env"]()
    exploration_schedule = config["exploration_schedule"]

    agent = DQNAgent(
        env.shape,
        env.n,
        **config["agent_kwargs"],
    )
    print(agent)

    observation = None
    replay_buffer = ReplayBuffer()

    def reset_env_training():
        nonlocal observation
        observation = env.reset()
        observation = np.asarray(observation)

    reset_env_training()
    episode_return, returns = 0.0, []

    for step in range(config["total_steps"]):
        epsilon = exploration_schedule.value(step)

        action = agent.get_action(observation, epsilon)

        next_observation, reward, done, info = env.step(action)
        episode_return += reward

        next_observation = np.asarray(next_observation)
        truncated = info.get("TimeLimit.truncated", False)

        true_done = done and not truncated
        replay_buffer.insert(
            observation=observation,
            action=action,
            reward=reward,
            next_observation=next_observation,
            done=true_done
        )

        if done:
            reset_env_training()
            returns.append(episode_return)
            episode_return = 0.0
        else:
            observation = next_observation

        if step >= config["learning_starts"]:
            batch = replay_buffer.sample(config["batch_size"])

            batch = ptu.from_numpy(batch)

            update_info = agent.update(
                batch['observations'],
                batch['actions'],
                batch['rewards'],
                batch['next_observations'],
                batch['dones'],
                step
            )

            update_info["epsilon"] = epsilon
            update_info["lr"] = agent.lr_scheduler.get_last_lr()[0]

            if step % log_interval == 0:
                print(step, {k: round(float(v), 4) for k, v in sorted(update_info.items())})

    print("episodes:", len(returns), "returns:", np.round(returns, 2))
    with torch.no_grad():
        probe = ptu.from_numpy(np.stack([ChainEnv().reset() for _ in range(3)]))
        print("Q(probe):", agent.critic(probe))
        print("target Q(probe):", agent.target_critic(probe))
    print({k: tuple(v.shape) for k, v in agent.target_critic.state_dict().items()})
    return agent


for use_double_q, clip_grad_norm in [(False, None), (True, 1.0)]:
    print("use_double_q =", use_double_q, "clip_grad_norm =", clip_grad_norm)
    config = basic_dqn_config(use_double_q=use_double_q, clip_grad_norm=clip_grad_norm)
    run_training_loop(config, seed=1)
