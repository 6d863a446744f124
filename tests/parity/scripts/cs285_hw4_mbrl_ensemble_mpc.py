# Source: Berkeley CS285 Deep RL, Fall 2023, homework 4 (model-based RL) — starter code
#   https://github.com/berkeleydeeprlcourse/homework_fall2023  hw4/cs285/...
# with a student's solutions, https://github.com/4ku/homework_fall2023:
#   hw4/cs285/agents/model_based_agent.py (ModelBasedAgent: an nn.ModuleList ensemble of dynamics MLPs,
#   normalization statistics kept in register_buffer'd tensors and reassigned, torch.concatenate, expand,
#   torch.std, @torch.no_grad predictions, random-shooting and CEM model-predictive control), pasted below
#   verbatim (the solution leaves get_dynamics_predictions' input unnormalized: kept as it is);
#   hw4/cs285/env_configs/mpc_config.py (make_dynamics_model / make_optimizer), hw4/cs285/scripts/run_hw4.py
#   (run_training_loop), hw4/cs285/infrastructure/utils.py (RandomPolicy, sample_trajectory) and
#   replay_buffer.py (batched_insert) from the starter code; build_mlp/from_numpy (hw4's pytorch_util is
#   hw3's) and ReplayBuffer imported from cs285/ beside this script.
# Shrunk: the MuJoCo reacher/cheetah/obstacles environments replaced by a tiny seeded NumPy 2-D point-reaching
# environment written below, with the homework's get_reward(obs, acs) -> (rewards, dones) API and an
# action_space with low/high/sample (old gym step API); hidden 16, 2 layers, ensemble 2, horizon 3,
# 8 action sequences (3 CEM elites), 2 iterations (60 random transitions, then 10), 10 train steps of batch 16
# per iteration, episodes of 5 steps; seed 5, with which every argmax/argsort choice of the MPC has a margin
# of at least 8e-5 (robust to float32 summation order); the MBPO/SAC branch, logger, tqdm, plots and videos
# are left out (the iteration-0 loss curve that is plotted is printed).
from typing import Callable, Optional, Tuple, Dict
import numpy as np
import torch.nn as nn
import torch
import types

from cs285.infrastructure import pytorch_util as ptu
from cs285.infrastructure.replay_buffer import ReplayBuffer as _ReplayBuffer

gym = types.SimpleNamespace(Env=object)  # the type annotations of the agent's signature


# ---- hw4/cs285/agents/model_based_agent.py (4ku's solution) ----
class ModelBasedAgent(nn.Module):
    def __init__(
        self,
        env: gym.Env,
        make_dynamics_model: Callable[[Tuple[int, ...], int], nn.Module],
        make_optimizer: Callable[[nn.ParameterList], torch.optim.Optimizer],
        ensemble_size: int,
        mpc_horizon: int,
        mpc_strategy: str,
        mpc_num_action_sequences: int,
        cem_num_iters: Optional[int] = None,
        cem_num_elites: Optional[int] = None,
        cem_alpha: Optional[float] = None,
    ):
        super().__init__()
        self.env = env
        self.mpc_horizon = mpc_horizon
        self.mpc_strategy = mpc_strategy
        self.mpc_num_action_sequences = mpc_num_action_sequences
        self.cem_num_iters = cem_num_iters
        self.cem_num_elites = cem_num_elites
        self.cem_alpha = cem_alpha

        assert mpc_strategy in (
            "random",
            "cem",
        ), f"'{mpc_strategy}' is not a valid MPC strategy"

        # ensure the environment is state-based
        assert len(env.observation_space.shape) == 1
        assert len(env.action_space.shape) == 1

        self.ob_dim = env.observation_space.shape[0]
        self.ac_dim = env.action_space.shape[0]

        self.ensemble_size = ensemble_size
        self.dynamics_models = nn.ModuleList(
            [
                make_dynamics_model(
                    self.ob_dim,
                    self.ac_dim,
                )
                for _ in range(ensemble_size)
            ]
        )
        self.optimizer = make_optimizer(self.dynamics_models.parameters())
        self.loss_fn = nn.MSELoss()

        # keep track of statistics for both the model input (obs & act) and
        # output (obs delta)
        self.register_buffer(
            "obs_acs_mean", torch.zeros(self.ob_dim + self.ac_dim, device=ptu.device)
        )
        self.register_buffer(
            "obs_acs_std", torch.ones(self.ob_dim + self.ac_dim, device=ptu.device)
        )
        self.register_buffer(
            "obs_delta_mean", torch.zeros(self.ob_dim, device=ptu.device)
        )
        self.register_buffer(
            "obs_delta_std", torch.ones(self.ob_dim, device=ptu.device)
        )

    def update(self, i: int, obs: np.ndarray, acs: np.ndarray, next_obs: np.ndarray):
        """
        Update self.dynamics_models[i] using the given batch of data.

        Args:
            i: index of the dynamics model to update
            obs: (batch_size, ob_dim)
            acs: (batch_size, ac_dim)
            next_obs: (batch_size, ob_dim)
        """
        obs = ptu.from_numpy(obs)
        acs = ptu.from_numpy(acs)
        next_obs = ptu.from_numpy(next_obs)
        # TODO(student): update self.dynamics_models[i] using the given batch of data
        # HINT: make sure to normalize the NN input (observations and actions)
        # *and* train it with normalized outputs (observation deltas) 
        # HINT 2: make sure to train it with observation *deltas*, not next_obs
        # directly
        # HINT 3: make sure to avoid any risk of dividing by zero when
        # normalizing vectors by adding a small number to the denominator!
        normalized_obs_delta = (next_obs-obs-self.obs_delta_mean.expand(obs.shape))/self.obs_delta_std.expand(obs.shape)
        obs_acs = torch.concatenate((obs, acs), dim=-1)
        normalized_obs_acs = (obs_acs-self.obs_acs_mean.expand(obs_acs.shape))/self.obs_acs_std.expand(obs_acs.shape)
        loss = self.loss_fn(self.dynamics_models[i](normalized_obs_acs), normalized_obs_delta)

        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

        return ptu.to_numpy(loss)

    @torch.no_grad()
    def update_statistics(self, obs: np.ndarray, acs: np.ndarray, next_obs: np.ndarray):
        """
        Update the statistics used to normalize the inputs and outputs of the dynamics models.

        Args:
            obs: (n, ob_dim)
            acs: (n, ac_dim)
            next_obs: (n, ob_dim)
        """
        obs = ptu.from_numpy(obs)
        acs = ptu.from_numpy(acs)
        next_obs = ptu.from_numpy(next_obs)
        # TODO(student): update the statistics
        self.obs_acs_mean = torch.mean(torch.cat((obs, acs), dim=-1), dim=0)
        self.obs_acs_std = torch.std(torch.cat((obs, acs), dim=-1), dim=0) + 1e-6
        self.obs_delta_mean = torch.mean(next_obs-obs, dim=0)
        self.obs_delta_std = torch.std(next_obs-obs, dim=0) + 1e-6

    @torch.no_grad()
    def get_dynamics_predictions(
        self, i: int, obs: np.ndarray, acs: np.ndarray
    ) -> np.ndarray:
        """
        Takes a batch of each current observation and action and outputs the
        predicted next observations from self.dynamics_models[i].

        Args:
            obs: (batch_size, ob_dim)
            acs: (batch_size, ac_dim)
        Returns: (batch_size, ob_dim)
        """
        obs = ptu.from_numpy(obs)
        acs = ptu.from_numpy(acs)
        # TODO(student): get the model's predicted `next_obs`
        # HINT: make sure to *unnormalize* the NN outputs (observation deltas)
        # Same hints as `update` above, avoid nasty divide-by-zero errors when
        # normalizing inputs!
        obs_acs = torch.cat((obs, acs), dim=-1)
        pred_obs_delta = self.dynamics_models[i](obs_acs)
        pred_obs_delta = pred_obs_delta*self.obs_delta_std + self.obs_delta_mean
        pred_next_obs = obs + pred_obs_delta
        return ptu.to_numpy(pred_next_obs)

    def evaluate_action_sequences(self, obs: np.ndarray, action_sequences: np.ndarray):
        """
        Evaluate a batch of action sequences using the ensemble of dynamics models.

        Args:
            obs: starting observation, shape (ob_dim,)
            action_sequences: shape (mpc_num_action_sequences, horizon, ac_dim)
        Returns:
            sum_of_rewards: shape (mpc_num_action_sequences,)
        """
        # We are going to predict (ensemble_size * mpc_num_action_sequences)
        # distinct rollouts, and then average over the ensemble dimension to get
        # the reward for each action sequence.

        # We start by initializing an array to keep track of the reward for each
        # of these rollouts.
        sum_of_rewards = np.zeros(
            (self.ensemble_size, self.mpc_num_action_sequences), dtype=np.float32
        )
        # We need to repeat our starting obs for each of the rollouts.
        obs = np.tile(obs, (self.ensemble_size, self.mpc_num_action_sequences, 1))

        # TODO(student): for each batch of actions in in the horizon...
        for acs in action_sequences.transpose(1, 0, 2):
            assert acs.shape == (self.mpc_num_action_sequences, self.ac_dim)
            assert obs.shape == (
                self.ensemble_size,
                self.mpc_num_action_sequences,
                self.ob_dim,
            )

            # TODO(student): predict the next_obs for each rollout
            # HINT: use self.get_dynamics_predictions
            next_obs = np.array([self.get_dynamics_predictions(i, obs[i], acs) for i in range(self.ensemble_size)])
            assert next_obs.shape == (
                self.ensemble_size,
                self.mpc_num_action_sequences,
                self.ob_dim,
            )

            # TODO(student): get the reward for the current step in each rollout
            # HINT: use `self.env.get_reward`. `get_reward` takes 2 arguments:
            # `next_obs` and `acs` with shape (n, ob_dim) and (n, ac_dim),
            # respectively, and returns a tuple of `(rewards, dones)`. You can 
            # ignore `dones`. You might want to do some reshaping to make
            # `next_obs` and `acs` 2-dimensional.
            rewards = np.array([self.env.get_reward(next_obs[i], acs)[0] for i in range(self.ensemble_size)])
            assert rewards.shape == (self.ensemble_size, self.mpc_num_action_sequences)

            sum_of_rewards += rewards

            obs = next_obs

        # now we average over the ensemble dimension
        return sum_of_rewards.mean(axis=0)

    def get_action(self, obs: np.ndarray):
        """
        Choose the best action using model-predictive control.

        Args:
            obs: (ob_dim,)
        """
        # always start with uniformly random actions
        action_sequences = np.random.uniform(
            self.env.action_space.low,
            self.env.action_space.high,
            size=(self.mpc_num_action_sequences, self.mpc_horizon, self.ac_dim),
        )

        if self.mpc_strategy == "random":
            # evaluate each action sequence and return the best one
            rewards = self.evaluate_action_sequences(obs, action_sequences)
            assert rewards.shape == (self.mpc_num_action_sequences,)
            best_index = np.argmax(rewards)
            return action_sequences[best_index][0]
        elif self.mpc_strategy == "cem":
            elite_mean, elite_std = None, None
            for i in range(self.cem_num_iters):
                # TODO(student): implement the CEM algorithm
                # HINT: you need a special case for i == 0 to initialize
                # the elite mean and std
                # Sample action sequences from the current distribution
                if i == 0:
                    # For first iteration, use uniform random sampling
                    action_sequences = np.random.uniform(
                        self.env.action_space.low,
                        self.env.action_space.high,
                        size=(self.mpc_num_action_sequences, self.mpc_horizon, self.ac_dim),
                    )
                else:
                    # Sample using the elite mean and std
                    action_sequences = np.random.normal(
                        elite_mean,
                        elite_std,
                        size=(self.mpc_num_action_sequences, self.mpc_horizon, self.ac_dim),
                    )
                    # Clip actions to be within environment bounds
                    action_sequences = np.clip(
                        action_sequences,
                        self.env.action_space.low,
                        self.env.action_space.high,
                    )

                # Evaluate all action sequences
                rewards = self.evaluate_action_sequences(obs, action_sequences)
                
                # Select the elite sequences
                elite_idxs = np.argsort(rewards)[-self.cem_num_elites:]
                elite_sequences = action_sequences[elite_idxs]
                
                # Update elite mean and std for next iteration
                elite_mean = elite_sequences.mean(axis=0)
                elite_std = elite_sequences.std(axis=0) + 1e-6
                
            # Return the first action of the best sequence
            best_idx = np.argmax(rewards)
            return action_sequences[best_idx][0]
        else:
            raise ValueError(f"Invalid MPC strategy '{self.mpc_strategy}'")


# ---- hw4/cs285/infrastructure/replay_buffer.py (batched_insert; the rest is hw3's, in cs285/) ----
class ReplayBuffer(_ReplayBuffer):
    def batched_insert(
        self,
        /,
        observations: np.ndarray,
        actions: np.ndarray,
        rewards: np.ndarray,
        next_observations: np.ndarray,
        dones: np.ndarray,
            ):
        """
        Insert a batch of transitions into the replay buffer.
        """
        if self.observations is None:
            self.observations = np.empty(
                (self.max_size, *observations.shape[1:]), dtype=observations.dtype
            )
            self.actions = np.empty(
                (self.max_size, *actions.shape[1:]), dtype=actions.dtype
            )
            self.rewards = np.empty(
                (self.max_size, *rewards.shape[1:]), dtype=rewards.dtype
            )
            self.next_observations = np.empty(
                (self.max_size, *next_observations.shape[1:]),
                dtype=next_observations.dtype,
            )
            self.dones = np.empty((self.max_size, *dones.shape[1:]), dtype=dones.dtype)

        assert observations.shape[1:] == self.observations.shape[1:]
        assert actions.shape[1:] == self.actions.shape[1:]
        assert rewards.shape[1:] == self.rewards.shape[1:]
        assert next_observations.shape[1:] == self.next_observations.shape[1:]
        assert dones.shape[1:] == self.dones.shape[1:]

        indices = np.arange(self.size, self.size + observations.shape[0]) % self.max_size
        self.observations[indices] = observations
        self.actions[indices] = actions
        self.rewards[indices] = rewards
        self.next_observations[indices] = next_observations
        self.dones[indices] = dones

        self.size += observations.shape[0]


# ---- a tiny seeded NumPy environment instead of reacher-cs285-v0 ----
class PointReachEnv:
    """obs = (x, y, vx, vy); x' = x + 0.1 a + 0.05 x^2-ish drift; reward -|pos - goal|^2 - 0.01|a|^2."""
    goal = np.array([0.5, -0.3])
    observation_space = types.SimpleNamespace(shape=(4,))
    action_space = types.SimpleNamespace(shape=(2,), low=-np.ones(2), high=np.ones(2))
    action_space.sample = lambda: np.random.uniform(-1, 1, 2)

    def reset(self):
        self.s = np.concatenate([np.random.uniform(-0.5, 0.5, 2), np.zeros(2)])
        return self.s.copy()

    def get_reward(self, obs, acs):
        obs, acs = np.atleast_2d(obs), np.atleast_2d(acs)
        rewards = -((obs[:, :2] - self.goal) ** 2).sum(1) - 0.01 * (acs ** 2).sum(1)
        dones = np.zeros(len(obs), dtype=bool)
        return rewards, dones

    def step(self, ac):
        v = 0.5 * self.s[2:] + 0.1 * np.asarray(ac) + 0.02 * np.sin(3 * self.s[:2])
        self.s = np.concatenate([self.s[:2] + v, v])
        rew, done = self.get_reward(self.s, ac)
        return self.s.copy(), rew[0], bool(done[0]), {}


# ---- hw4/cs285/env_configs/mpc_config.py (the parts the agent uses) ----
def mpc_config(
    hidden_size: int = 16,
    num_layers: int = 2,
    learning_rate: float = 1e-3,
    ensemble_size: int = 2,
    mpc_horizon: int = 3,
    mpc_strategy: str = "random",
    mpc_num_action_sequences: int = 8,
    cem_num_iters: Optional[int] = None,
    cem_num_elites: Optional[int] = None,
    cem_alpha: Optional[float] = None,
    initial_batch_size: int = 60,
    batch_size: int = 10,
    train_batch_size: int = 16,
    num_iters: int = 2,
    replay_buffer_capacity: int = 1000000,
    num_agent_train_steps_per_iter: int = 10,
    num_eval_trajectories: int = 1,
):
    ep_len = 5

    def make_dynamics_model(ob_dim: int, ac_dim: int) -> nn.Module:
        return ptu.build_mlp(
            input_size=ob_dim + ac_dim,
            output_size=ob_dim,
            n_layers=num_layers,
            size=hidden_size,
        )

    def make_optimizer(params: nn.ParameterList):
        return torch.optim.Adam(params, lr=learning_rate)

    return {
        "agent_kwargs": {
            "make_dynamics_model": make_dynamics_model,
            "make_optimizer": make_optimizer,
            "ensemble_size": ensemble_size,
            "mpc_horizon": mpc_horizon,
            "mpc_strategy": mpc_strategy,
            "mpc_num_action_sequences": mpc_num_action_sequences,
            "cem_num_iters": cem_num_iters,
            "cem_num_elites": cem_num_elites,
            "cem_alpha": cem_alpha,
        },
        "make_env": PointReachEnv,
        "replay_buffer_capacity": replay_buffer_capacity,
        "num_iters": num_iters,
        "ep_len": ep_len,
        "batch_size": batch_size,
        "initial_batch_size": initial_batch_size,
        "train_batch_size": train_batch_size,
        "num_agent_train_steps_per_iter": num_agent_train_steps_per_iter,
        "num_eval_trajectories": num_eval_trajectories,
    }


# ---- hw4/cs285/infrastructure/utils.py (RandomPolicy, sample_trajectory/ies; rendering left out) ----
class RandomPolicy:
    def __init__(self, env: gym.Env):
        self.env = env

    def get_action(self, *_, **__):
        return self.env.action_space.sample()


def sample_trajectory(env, policy, max_length: int, render: bool = False) -> Dict[str, np.ndarray]:
    """Sample a rollout in the environment from a policy."""
    ob = env.reset()
    obs, acs, rewards, next_obs, dones, image_obs = [], [], [], [], [], []
    steps = 0
    while True:
        ac = policy.get_action(ob)
        next_ob, rew, done, info = env.step(ac)
        steps += 1
        rollout_done = done or steps >= max_length
        obs.append(ob)
        acs.append(ac)
        rewards.append(rew)
        next_obs.append(next_ob)
        dones.append(done)
        ob = next_ob  # jump to next timestep
        if rollout_done:
            break
    episode_statistics = {"l": steps, "r": np.sum(rewards)}
    return {
        "observation": np.array(obs, dtype=np.float32),
        "image_obs": np.array(image_obs, dtype=np.uint8),
        "reward": np.array(rewards, dtype=np.float32),
        "action": np.array(acs, dtype=np.float32),
        "next_observation": np.array(next_obs, dtype=np.float32),
        "done": np.array(dones, dtype=np.float32),
        "episode_statistics": episode_statistics,
    }


def sample_trajectories(env, policy, min_timesteps_per_batch: int, max_length: int, render: bool = False):
    """Collect rollouts using policy until we have collected min_timesteps_per_batch steps."""
    timesteps_this_batch = 0
    trajs = []
    while timesteps_this_batch < min_timesteps_per_batch:
        traj = sample_trajectory(env, policy, max_length, render)
        trajs.append(traj)
        timesteps_this_batch += len(traj["reward"])
    return trajs, timesteps_this_batch


def sample_n_trajectories(env, policy, ntraj: int, max_length: int, render: bool = False):
    """Collect ntraj rollouts."""
    return [sample_trajectory(env, policy, max_length, render) for _ in range(ntraj)]


# ---- hw4/cs285/scripts/run_hw4.py (run_training_loop without MBPO, shrunk) ----
def run_training_loop(config: dict, seed: int):
    # set random seeds
    np.random.seed(seed)
    torch.manual_seed(seed)
    ptu.init_gpu(use_gpu=False)

    # make the gym environment
    env = config["make_env"]()
    eval_env = config["make_env"]()
    ep_len = config["ep_len"]

    # initialize agent
    mb_agent = ModelBasedAgent(
        env,
        **config["agent_kwargs"],
    )
    actor_agent = mb_agent
    print(mb_agent)
    print([(name, tuple(b.shape)) for name, b in mb_agent.named_buffers()])

    replay_buffer = ReplayBuffer(config["replay_buffer_capacity"])

    total_envsteps = 0

    for itr in range(config["num_iters"]):
        print(f"\n\n********** Iteration {itr} ************")
        # collect data
        print("Collecting data...")
        if itr == 0:
            random_policy = RandomPolicy(env)
            trajs, envsteps_this_batch = sample_trajectories(
                env,
                random_policy,
                config["initial_batch_size"],
                ep_len,
            )
        else:
            trajs, envsteps_this_batch = sample_trajectories(
                env,
                actor_agent,
                config["batch_size"],
                ep_len,
            )

        total_envsteps += envsteps_this_batch
        print("total_envsteps", total_envsteps)

        # insert newly collected data into replay buffer
        for traj in trajs:
            replay_buffer.batched_insert(
                observations=traj["observation"],
                actions=traj["action"],
                rewards=traj["reward"],
                next_observations=traj["next_observation"],
                dones=traj["done"],
            )

        # update agent's statistics with the entire replay buffer
        mb_agent.update_statistics(
            obs=replay_buffer.observations[: len(replay_buffer)],
            acs=replay_buffer.actions[: len(replay_buffer)],
            next_obs=replay_buffer.next_observations[: len(replay_buffer)],
        )
        print("obs_acs_mean", mb_agent.obs_acs_mean, "obs_delta_std", mb_agent.obs_delta_std)

        # train agent
        print("Training agent...")
        all_losses = []
        for _ in range(config["num_agent_train_steps_per_iter"]):
            step_losses = []
            for i in range(mb_agent.ensemble_size):
                batch = replay_buffer.sample(config["train_batch_size"])
                mb_agent_loss = mb_agent.update(i, batch["observations"], batch["actions"], batch["next_observations"])
                step_losses.append(mb_agent_loss)
            all_losses.append(np.mean(step_losses))

        # on iteration 0, plot the full learning curve (printed here)
        if itr == 0:
            print("Iteration 0: Dynamics Model Training Loss", np.round(all_losses, 4))

        # log the average loss
        loss = np.mean(all_losses)
        print("dynamics_loss", round(float(loss), 4))

        # Run evaluation
        if config["num_eval_trajectories"] == 0:
            continue
        print(f"Evaluating {config['num_eval_trajectories']} rollouts...")
        trajs = sample_n_trajectories(
            eval_env,
            policy=actor_agent,
            ntraj=config["num_eval_trajectories"],
            max_length=ep_len,
        )
        returns = [t["episode_statistics"]["r"] for t in trajs]
        print(f"Average eval return: {np.mean(returns):.4f}")
        print("first eval actions:", np.round(trajs[0]["action"][:3], 4))

    print("state_dict:", [(k, tuple(v.shape)) for k, v in mb_agent.state_dict().items()])


for kwargs in [dict(mpc_strategy="random"), dict(mpc_strategy="cem", cem_num_iters=2, cem_num_elites=3, cem_alpha=1)]:
    print(kwargs)
    run_training_loop(mpc_config(**kwargs), seed=5)
