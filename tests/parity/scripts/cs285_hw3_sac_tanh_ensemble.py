# Source: Berkeley CS285 Deep RL, Fall 2023, homework 3 (soft actor-critic) — starter code
#   https://github.com/berkeleydeeprlcourse/homework_fall2023  hw3/cs285/...
# with a student's solutions, https://github.com/ykpercy/homework_fall2023:
#   hw3/cs285/agents/soft_actor_critic.py (SoftActorCritic: REINFORCE and reparametrized actor gradients,
#   critic ensembles with doubleq/min/mean/redq backups, entropy bonus, hard and soft target updates),
#   hw3/cs285/networks/mlp_policy.py (MLPPolicy: state-dependent std via chunk+softplus, or a fixed std),
#   hw3/cs285/infrastructure/distributions.py (make_tanh_transformed: Independent(TransformedDistribution(
#   Normal, [TanhTransform(cache_size=1)]))), hw3/cs285/networks/state_action_value_critic.py,
#   hw3/cs285/infrastructure/replay_buffer.py — all imported verbatim from cs285/ beside this script —
#   and hw3/cs285/env_configs/sac_config.py (make_actor/make_critic/optimizers/ConstantLR, below),
#   hw3/cs285/scripts/run_hw3_sac.py (run_training_loop, below).
# Shrunk: gym's Pendulum/HalfCheetah (RescaleAction/ClipAction wrappers) replaced by a tiny seeded NumPy
# point-mass environment with actions in [-1, 1] written below (old gym step API); env.action_space.sample()
# by np.random.uniform; 34 steps instead of 300000 (random_steps = training_starts = 20), batch 16,
# hidden 16, 2 layers; four configurations of the homework's experiments (REINFORCE with fixed std and a hard
# target update; reparametrize with doubleq / min / redq ensembles and soft updates); the logger/tqdm/eval
# parts are left out and the logged scalars printed instead.
import numpy as np
import torch
import torch.nn as nn
from typing import Optional, Tuple

from cs285.agents.soft_actor_critic import SoftActorCritic
from cs285.networks.mlp_policy import MLPPolicy
from cs285.networks.state_action_value_critic import StateActionCritic
from cs285.infrastructure.replay_buffer import ReplayBuffer
import cs285.infrastructure.pytorch_util as ptu


# ---- a tiny seeded NumPy environment instead of gym (Pendulum-v1 with RescaleAction(-1, 1)) ----
class PointMassEnv:
    """x' = x + 0.2 a, reward -(x - 0.5)^2 - 0.01 a^2; 3-dim observation; 8 steps per episode."""
    shape = (3,)
    ac_dim = 1
    max_episode_steps = 8

    def _obs(self):
        return np.array([self.x, self.v, self.t / 8.0], dtype=np.float32)

    def reset(self):
        self.x, self.v, self.t = np.random.uniform(-1, 1), 0.0, 0
        return self._obs()

    def step(self, action):
        a = float(np.clip(action, -1, 1)[0])
        self.v = 0.2 * a
        self.x = self.x + self.v
        self.t += 1
        reward = -(self.x - 0.5) ** 2 - 0.01 * a ** 2
        done = self.t >= self.max_episode_steps
        info = {"TimeLimit.truncated": True} if done else {}
        return self._obs(), reward, done, info


# ---- hw3/cs285/env_configs/sac_config.py (the parts the agent uses) ----
def sac_config(
    hidden_size: int = 16,
    num_layers: int = 2,
    actor_learning_rate: float = 3e-3,
    critic_learning_rate: float = 3e-3,
    total_steps: int = 34,
    random_steps: int = 20,
    training_starts: int = 20,
    batch_size: int = 16,
    replay_buffer_capacity: int = 1000000,
    discount: float = 0.99,
    use_soft_target_update: bool = False,
    target_update_period: Optional[int] = None,
    soft_target_update_rate: Optional[float] = None,
    # Actor-critic configuration
    actor_gradient_type="reinforce",  # One of "reinforce" or "reparametrize"
    num_actor_samples: int = 1,
    num_critic_updates: int = 1,
    # Settings for multiple critics
    num_critic_networks: int = 1,
    target_critic_backup_type: str = "mean",  # One of "doubleq", "min", or "mean"
    # Soft actor-critic
    backup_entropy: bool = True,
    use_entropy_bonus: bool = True,
    temperature: float = 0.1,
    actor_fixed_std: Optional[float] = None,
    use_tanh: bool = True,
):
    def make_critic(observation_shape: Tuple[int, ...], action_dim: int) -> nn.Module:
        return StateActionCritic(
            ob_dim=np.prod(observation_shape),
            ac_dim=action_dim,
            n_layers=num_layers,
            size=hidden_size,
        )

    def make_actor(observation_shape: Tuple[int, ...], action_dim: int) -> nn.Module:
        assert len(observation_shape) == 1
        if actor_fixed_std is not None:
            return MLPPolicy(
                ac_dim=action_dim,
                ob_dim=np.prod(observation_shape),
                discrete=False,
                n_layers=num_layers,
                layer_size=hidden_size,
                use_tanh=use_tanh,
                state_dependent_std=False,
                fixed_std=actor_fixed_std,
            )
        else:
            return MLPPolicy(
                ac_dim=action_dim,
                ob_dim=np.prod(observation_shape),
                discrete=False,
                n_layers=num_layers,
                layer_size=hidden_size,
                use_tanh=use_tanh,
                state_dependent_std=True,
            )

    def make_actor_optimizer(params: torch.nn.ParameterList) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=actor_learning_rate)

    def make_critic_optimizer(params: torch.nn.ParameterList) -> torch.optim.Optimizer:
        return torch.optim.Adam(params, lr=critic_learning_rate)

    def make_lr_schedule(
        optimizer: torch.optim.Optimizer,
    ) -> torch.optim.lr_scheduler._LRScheduler:
        return torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)

    return {
        "agent_kwargs": {
            "make_critic": make_critic,
            "make_critic_optimizer": make_critic_optimizer,
            "make_critic_schedule": make_lr_schedule,
            "make_actor": make_actor,
            "make_actor_optimizer": make_actor_optimizer,
            "make_actor_schedule": make_lr_schedule,
            "num_critic_updates": num_critic_updates,
            "discount": discount,
            "actor_gradient_type": actor_gradient_type,
            "num_actor_samples": num_actor_samples,
            "num_critic_networks": num_critic_networks,
            "target_critic_backup_type": target_critic_backup_type,
            "use_entropy_bonus": use_entropy_bonus,
            "backup_entropy": backup_entropy,
            "temperature": temperature,
            "target_update_period": target_update_period
            if not use_soft_target_update
            else None,
            "soft_target_update_rate": soft_target_update_rate
            if use_soft_target_update
            else None,
        },
        "replay_buffer_capacity": replay_buffer_capacity,
        "total_steps": total_steps,
        "random_steps": random_steps,
        "training_starts": training_starts,
        "batch_size": batch_size,
        "make_env": PointMassEnv,
    }


# ---- hw3/cs285/scripts/run_hw3_sac.py (run_training_loop, shrunk) ----
def run_training_loop(config: dict, seed: int, log_interval: int = 8):
    np.random.seed(seed)
    torch.manual_seed(seed)
    ptu.init_gpu(use_gpu=False)

    env = config["make_env"]()
    ob_shape = env.shape
    ac_dim = env.ac_dim

    agent = SoftActorCritic(
        ob_shape,
        ac_dim,
        **config["agent_kwargs"],
    )

    replay_buffer = ReplayBuffer(config["replay_buffer_capacity"])

    observation = env.reset()

    for step in range(config["total_steps"]):
        if step < config["random_steps"]:
            action = np.random.uniform(-1, 1, (ac_dim,)).astype(np.float32)
        else:
            action = agent.get_action(observation)

        next_observation, reward, done, info = env.step(action)

        replay_buffer.insert(
            observation=observation,
            action=action,
            reward=reward,
            next_observation=next_observation,
            done=done and not info.get("TimeLimit.truncated", False),
        )

        if done:
            observation = env.reset()
        else:
            observation = next_observation

        if step >= config["training_starts"]:
            batch = replay_buffer.sample(config["batch_size"])
            update_info = agent.update(
                ptu.from_numpy(batch["observations"]),
                ptu.from_numpy(batch["actions"]),
                ptu.from_numpy(batch["rewards"]),
                ptu.from_numpy(batch["next_observations"]),
                ptu.from_numpy(batch["dones"]),
                step,
            )

            update_info["actor_lr"] = agent.actor_lr_scheduler.get_last_lr()[0]
            update_info["critic_lr"] = agent.critic_lr_scheduler.get_last_lr()[0]

            if step % log_interval == 0:
                print(f"Step {step}, Entropy: {update_info['entropy']:.4f}")
                print(f"Step {step}, Target Values: {update_info['target_values']:.4f}")
                print(step, {k: round(float(v), 4) for k, v in sorted(update_info.items())})

    # what the policy does on a few observations (the homework only plots returns)
    with torch.no_grad():
        probe = torch.tensor([[-0.5, 0.0, 0.0], [0.0, 0.1, 0.5], [0.9, -0.1, 0.9]])
        dist = agent.actor(probe)
        print(type(dist).__name__, type(dist.base_dist).__name__, dist.batch_shape, dist.event_shape)
        a = dist.sample()
        print("sample:", a)
        print("log_prob:", dist.log_prob(a))
        print("critics:", agent.critic(probe, a))
        print("target critics:", agent.target_critic(probe, a))
    return agent


experiments = [
    dict(actor_gradient_type="reinforce", num_actor_samples=4, actor_fixed_std=0.1,
         target_update_period=10),
    dict(actor_gradient_type="reparametrize", num_critic_networks=2, target_critic_backup_type="doubleq",
         use_soft_target_update=True, soft_target_update_rate=0.05),
    dict(actor_gradient_type="reparametrize", num_critic_networks=2, target_critic_backup_type="min",
         use_soft_target_update=True, soft_target_update_rate=0.05, num_critic_updates=2),
    dict(actor_gradient_type="reparametrize", num_critic_networks=3, target_critic_backup_type="redq",
         use_soft_target_update=True, soft_target_update_rate=0.05, backup_entropy=False),
]
for kwargs in experiments:
    print(kwargs)
    run_training_loop(sac_config(**kwargs), seed=0)
