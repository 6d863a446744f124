# Source: Berkeley CS285 Deep RL, Fall 2023, homework 2 (policy gradients) — starter code
#   https://github.com/berkeleydeeprlcourse/homework_fall2023  hw2/cs285/...
# with a student's solutions, https://github.com/ykpercy/homework_fall2023:
#   hw2/cs285/infrastructure/pytorch_util.py (build_mlp, from_numpy with .float(), to_numpy),
#   hw2/cs285/networks/policies.py (MLPPolicy/MLPPolicyPG: Categorical(logits=...) or Normal(mean,
#   exp(logstd)) with an nn.Parameter logstd chained into Adam with itertools.chain, @torch.no_grad get_action),
#   hw2/cs285/networks/critics.py (ValueCritic, F.mse_loss), hw2/cs285/agents/pg_agent.py (PGAgent:
#   discounted returns / reward-to-go, baseline, GAE in NumPy, advantage normalization),
#   hw2/cs285/infrastructure/utils.py (sample_trajectory/sample_trajectories), hw2/cs285/scripts/run_hw2.py.
# The hw2 files are pasted below verbatim without their cs285 imports (hw2's pytorch_util differs from hw3's,
# which cs285/ beside this script holds), pytorch_util's functions gathered under the name ptu; the
# students' comment lines are left out.
# Shrunk: gym's CartPole / InvertedPendulum replaced by tiny seeded NumPy environments written below (old gym
# step API); the rendering/cv2 branch of sample_trajectory and the logger left out; 3 iterations of batch 40
# instead of 100 iterations of 1000+, n_layers 2, layer_size 16; what the logger records is printed.
import itertools
from typing import Dict, List, Optional, Sequence, Tuple, Union
import types

import numpy as np
import torch
from torch import nn
from torch import optim
from torch import distributions
from torch.nn import functional as F


# ---- hw2/cs285/infrastructure/pytorch_util.py ----
Activation = Union[str, nn.Module]


_str_to_activation = {
    'relu': nn.ReLU(),
    'tanh': nn.Tanh(),
    'leaky_relu': nn.LeakyReLU(),
    'sigmoid': nn.Sigmoid(),
    'selu': nn.SELU(),
    'softplus': nn.Softplus(),
    'identity': nn.Identity(),
}

device = None

def build_mlp(
        input_size: int,
        output_size: int,
        n_layers: int,
        size: int,
        activation: Activation = 'tanh',
        output_activation: Activation = 'identity',
):
    """
        Builds a feedforward neural network

        arguments:
            input_placeholder: placeholder variable for the state (batch_size, input_size)
            scope: variable scope of the network

            n_layers: number of hidden layers
            size: dimension of each hidden layer
            activation: activation of each hidden layer

            input_size: size of the input layer
            output_size: size of the output layer
            output_activation: activation of the output layer

        returns:
            output_placeholder: the result of a forward pass through the hidden layers + the output layer
    """
    if isinstance(activation, str):
        activation = _str_to_activation[activation]
    if isinstance(output_activation, str):
        output_activation = _str_to_activation[output_activation]
    layers = []
    in_size = input_size
    for _ in range(n_layers):
        layers.append(nn.Linear(in_size, size))
        layers.append(activation)
        in_size = size
    layers.append(nn.Linear(in_size, output_size))
    layers.append(output_activation)

    mlp = nn.Sequential(*layers)
    mlp.to(device)
    return mlp


def init_gpu(use_gpu=True, gpu_id=0):
    global device
    if torch.cuda.is_available() and use_gpu:
        device = torch.device("cuda:" + str(gpu_id))
        print("Using GPU id {}".format(gpu_id))
    else:
        device = torch.device("cpu")
        print("Using CPU.")


def set_device(gpu_id):
    torch.cuda.set_device(gpu_id)


def from_numpy(*args, **kwargs):
    return torch.from_numpy(*args, **kwargs).float().to(device)


def to_numpy(tensor):
    return tensor.to('cpu').detach().numpy()


ptu = types.SimpleNamespace(build_mlp=build_mlp, init_gpu=init_gpu, from_numpy=from_numpy, to_numpy=to_numpy,
                            device=None)


# ---- hw2/cs285/networks/policies.py ----
class MLPPolicy(nn.Module):
    """Base MLP policy, which can take an observation and output a distribution over actions.

    This class should implement the `forward` and `get_action` methods. The `update` method should be written in the
    subclasses, since the policy update rule differs for different algorithms.
    """

    def __init__(
        self,
        ac_dim: int,
        ob_dim: int,
        discrete: bool,
        n_layers: int,
        layer_size: int,
        learning_rate: float,
    ):
        super().__init__()

        if discrete:
            self.logits_net = ptu.build_mlp(
                input_size=ob_dim,
                output_size=ac_dim,
                n_layers=n_layers,
                size=layer_size,
            ).to(ptu.device)
            parameters = self.logits_net.parameters()
        else:
            self.mean_net = ptu.build_mlp(
                input_size=ob_dim,
                output_size=ac_dim,
                n_layers=n_layers,
                size=layer_size,
            ).to(ptu.device)
            self.logstd = nn.Parameter(
                torch.zeros(ac_dim, dtype=torch.float32, device=ptu.device)
            )
            parameters = itertools.chain([self.logstd], self.mean_net.parameters())

        self.optimizer = optim.Adam(
            parameters,
            learning_rate,
        )

        self.discrete = discrete


    @torch.no_grad()
    def get_action(self, obs: np.ndarray) -> np.ndarray:
        """Takes a single observation (as a numpy array) and returns a single action (as a numpy array)."""
        obs = ptu.from_numpy(obs)
        distribution = self.forward(obs)
        action = distribution.sample()
        return ptu.to_numpy(action)


    def forward(self, obs: torch.FloatTensor):
        """
        This function defines the forward pass of the network.  You can return anything you want, but you should be
        able to differentiate through it. For example, you can return a torch.FloatTensor. You can also return more
        flexible objects, such as a `torch.distributions.Distribution` object. It's up to you!
        """
        if self.discrete:
            logits = self.logits_net(obs)
            return distributions.Categorical(logits=logits)
        else:
            mean = self.mean_net(obs)
            std = torch.exp(self.logstd)
            return distributions.Normal(mean, std)

    def update(self, obs: np.ndarray, actions: np.ndarray, *args, **kwargs) -> dict:
        """Performs one iteration of gradient descent on the provided batch of data."""
        raise NotImplementedError


class MLPPolicyPG(MLPPolicy):
    """Policy subclass for the policy gradient algorithm."""

    def update(
        self,
        obs: np.ndarray,
        actions: np.ndarray,
        advantages: np.ndarray,
    ) -> dict:
        """Implements the policy gradient actor update."""
        obs = ptu.from_numpy(obs)
        actions = ptu.from_numpy(actions)
        advantages = ptu.from_numpy(advantages)

        if self.discrete and actions.ndim > 1:
            actions = torch.argmax(actions, dim=1)
    

        distribution = self.forward(obs)
        
        log_probs = distribution.log_prob(actions)

        if not self.discrete:
            log_probs = log_probs.sum(dim=1)
        
        
        loss = -(log_probs * advantages).mean()
        
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

        return {
            "Actor Loss": ptu.to_numpy(loss),
        }


# ---- hw2/cs285/networks/critics.py ----
class ValueCritic(nn.Module):
    """Value network, which takes an observation and outputs a value for that observation."""

    def __init__(
        self,
        ob_dim: int,
        n_layers: int,
        layer_size: int,
        learning_rate: float,
    ):
        super().__init__()

        self.network = ptu.build_mlp(
            input_size=ob_dim,
            output_size=1,
            n_layers=n_layers,
            size=layer_size,
        ).to(ptu.device)

        self.optimizer = optim.Adam(
            self.network.parameters(),
            learning_rate,
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.network(obs).squeeze()
        

    def update(self, obs: np.ndarray, q_values: np.ndarray) -> dict:
        obs = ptu.from_numpy(obs)
        q_values = ptu.from_numpy(q_values)

        values_pred = self(obs)
    
        loss = F.mse_loss(values_pred, q_values)
        
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()

        return {
            "Baseline Loss": ptu.to_numpy(loss),
        }


# ---- hw2/cs285/agents/pg_agent.py ----
class PGAgent(nn.Module):
    def __init__(
        self,
        ob_dim: int,
        ac_dim: int,
        discrete: bool,
        n_layers: int,
        layer_size: int,
        gamma: float,
        learning_rate: float,
        use_baseline: bool,
        use_reward_to_go: bool,
        baseline_learning_rate: Optional[float],
        baseline_gradient_steps: Optional[int],
        gae_lambda: Optional[float],
        normalize_advantages: bool,
    ):
        super().__init__()

        self.actor = MLPPolicyPG(
            ac_dim, ob_dim, discrete, n_layers, layer_size, learning_rate
        )

        if use_baseline:
            self.critic = ValueCritic(
                ob_dim, n_layers, layer_size, baseline_learning_rate
            )
            self.baseline_gradient_steps = baseline_gradient_steps
        else:
            self.critic = None

        self.gamma = gamma
        self.use_reward_to_go = use_reward_to_go
        self.gae_lambda = gae_lambda
        self.normalize_advantages = normalize_advantages

    def update(
        self,
        obs: Sequence[np.ndarray],
        actions: Sequence[np.ndarray],
        rewards: Sequence[np.ndarray],
        terminals: Sequence[np.ndarray],
    ) -> dict:
        """The train step for PG involves updating its actor using the given observations/actions and the calculated
        qvals/advantages that come from the seen rewards.

        Each input is a list of NumPy arrays, where each array corresponds to a single trajectory. The batch size is the
        total number of samples across all trajectories (i.e. the sum of the lengths of all the arrays).
        """

        q_values: Sequence[np.ndarray] = self._calculate_q_vals(rewards)

        obs = np.concatenate(obs)
        actions = np.concatenate(actions)
        rewards = np.concatenate(rewards)
        terminals = np.concatenate(terminals)
        q_values = np.concatenate(q_values)

        advantages: np.ndarray = self._estimate_advantage(
            obs, rewards, q_values, terminals
        )

        info: dict = self.actor.update(obs, actions, advantages)

        if self.critic is not None:
            critic_info = {}
            for _ in range(self.baseline_gradient_steps):
                critic_info = self.critic.update(obs, q_values)
            
            info.update(critic_info)

        return info

    def _calculate_q_vals(self, rewards: Sequence[np.ndarray]) -> Sequence[np.ndarray]:
        """Monte Carlo estimation of the Q function."""

        if not self.use_reward_to_go:
            q_values = [self._discounted_return(r) for r in rewards]
        else:
            q_values = [self._discounted_reward_to_go(r) for r in rewards]

        return q_values

    def _estimate_advantage(
        self,
        obs: np.ndarray,
        rewards: np.ndarray,
        q_values: np.ndarray,
        terminals: np.ndarray,
    ) -> np.ndarray:
        """Computes advantages by (possibly) subtracting a value baseline from the estimated Q-values.

        Operates on flat 1D NumPy arrays.
        """
        if self.critic is None:
            advantages = q_values
        else:
            values = ptu.to_numpy(self.critic(ptu.from_numpy(obs)).squeeze())
            assert values.shape == q_values.shape

            if self.gae_lambda is None:
                advantages = q_values - values
            else:
                batch_size = obs.shape[0]

                values = np.append(values, [0])
                advantages = np.zeros(batch_size + 1)

                for i in reversed(range(batch_size)):
                    if terminals[i]:
                        delta = rewards[i] - values[i]
                        advantages[i] = delta
                    else:
                        delta = rewards[i] + self.gamma * values[i + 1] - values[i]
                        advantages[i] = delta + self.gamma * self.gae_lambda * advantages[i + 1]

                advantages = advantages[:-1]

        if self.normalize_advantages:
            advantages = (advantages - np.mean(advantages)) / (np.std(advantages) + 1e-8)

        return advantages

    def _discounted_return(self, rewards: Sequence[float]) -> Sequence[float]:
        """
        Helper function which takes a list of rewards {r_0, r_1, ..., r_t', ... r_T} and returns
        a list where each index t contains sum_{t'=0}^T gamma^t' r_{t'}

        Note that all entries of the output list should be the exact same because each sum is from 0 to T (and doesn't
        involve t)!
        """
        T = len(rewards)
        discounted_return = 0
        for t in range(T):
            discounted_return += (self.gamma ** t) * rewards[t]
        
        return [discounted_return] * T


    def _discounted_reward_to_go(self, rewards: Sequence[float]) -> Sequence[float]:
        """
        Helper function which takes a list of rewards {r_0, r_1, ..., r_t', ... r_T} and returns a list where the entry
        in each index t' is sum_{t'=t}^T gamma^(t'-t) * r_{t'}.
        """
        T = len(rewards)
        discounted_rewards = np.zeros(T)
        
        running_sum = 0
        for t in reversed(range(T)):
            running_sum = rewards[t] + self.gamma * running_sum
            discounted_rewards[t] = running_sum
            
        return discounted_rewards


# ---- tiny seeded NumPy environments instead of gym (CartPole-v0, InvertedPendulum-v4) ----
class BalanceEnv:
    """Discrete: keep x near 0 by pushing left (0) or right (1); reward 1 per step while |x| < 1."""
    def __init__(self, discrete=True):
        self.discrete = discrete
        self.ob_dim = 4
        self.ac_dim = 2 if discrete else 1

    def reset(self):
        self.x, self.v = np.random.uniform(-0.3, 0.3), np.random.uniform(-0.1, 0.1)
        return self._obs()

    def _obs(self):
        return np.array([self.x, self.v, self.x * self.v, 1.0])

    def step(self, ac):
        force = (1.0 if int(ac) == 1 else -1.0) if self.discrete else float(np.clip(ac, -2, 2)[0])
        self.v = self.v + 0.1 * (self.x + 0.5 * force) + np.random.normal(0, 0.02)
        self.x = self.x + 0.2 * self.v
        done = abs(self.x) > 1.0
        return self._obs(), 1.0, done, {}


# ---- hw2/cs285/infrastructure/utils.py (rendering left out) ----
def sample_trajectory(env, policy: MLPPolicy, max_length: int, render: bool = False) -> Dict[str, np.ndarray]:
    """Sample a rollout in the environment from a policy."""
    ob = env.reset()
    obs, acs, rewards, next_obs, terminals, image_obs = [], [], [], [], [], []
    steps = 0
    while True:
        ac: np.ndarray = policy.get_action(ob)
        next_ob, rew, done, _ = env.step(ac)
        steps += 1
        rollout_done: bool = done or steps >= max_length
        obs.append(ob)
        acs.append(ac)
        rewards.append(rew)
        next_obs.append(next_ob)
        terminals.append(rollout_done)
        ob = next_ob  # jump to next timestep
        if rollout_done:
            break
    return {
        "observation": np.array(obs, dtype=np.float32),
        "image_obs": np.array(image_obs, dtype=np.uint8),
        "reward": np.array(rewards, dtype=np.float32),
        "action": np.array(acs, dtype=np.float32),
        "next_observation": np.array(next_obs, dtype=np.float32),
        "terminal": np.array(terminals, dtype=np.float32),
    }


def get_traj_length(traj):
    return len(traj["reward"])


def sample_trajectories(env, policy: MLPPolicy, min_timesteps_per_batch: int, max_length: int,
                        render: bool = False) -> Tuple[List[Dict[str, np.ndarray]], int]:
    """Collect rollouts using policy until we have collected min_timesteps_per_batch steps."""
    timesteps_this_batch = 0
    trajs = []
    while timesteps_this_batch < min_timesteps_per_batch:
        traj = sample_trajectory(env, policy, max_length, render)
        trajs.append(traj)
        # count steps
        timesteps_this_batch += get_traj_length(traj)
    return trajs, timesteps_this_batch


# ---- hw2/cs285/scripts/run_hw2.py (run_training_loop, shrunk) ----
def run_training_loop(args):
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    ptu.init_gpu(use_gpu=False)

    env = BalanceEnv(discrete=args.discrete)
    discrete = env.discrete
    max_ep_len = args.ep_len
    ob_dim = env.ob_dim
    ac_dim = env.ac_dim

    agent = PGAgent(
        ob_dim,
        ac_dim,
        discrete,
        n_layers=args.n_layers,
        layer_size=args.layer_size,
        gamma=args.discount,
        learning_rate=args.learning_rate,
        use_baseline=args.use_baseline,
        use_reward_to_go=args.use_reward_to_go,
        normalize_advantages=args.normalize_advantages,
        baseline_learning_rate=args.baseline_learning_rate,
        baseline_gradient_steps=args.baseline_gradient_steps,
        gae_lambda=args.gae_lambda,
    )

    total_envsteps = 0
    for itr in range(args.n_iter):
        print(f"\n********** Iteration {itr} ************")
        trajs, envsteps_this_batch = sample_trajectories(env, agent.actor, args.batch_size, max_ep_len)
        total_envsteps += envsteps_this_batch

        trajs_dict = {k: [traj[k] for traj in trajs] for k in trajs[0]}

        train_info: dict = agent.update(
            obs=trajs_dict["observation"],
            actions=trajs_dict["action"],
            rewards=trajs_dict["reward"],
            terminals=trajs_dict["terminal"],
        )
        returns = [traj["reward"].sum() for traj in trajs]
        print("Train_AverageReturn", np.mean(returns), "Train_EnvstepsSoFar", total_envsteps,
              "n_traj", len(trajs))
        for k, v in train_info.items():
            print(k, np.round(float(v), 5))

    # intermediate values the homework only logs: Q estimates and advantages of the last batch
    q = agent._calculate_q_vals(trajs_dict["reward"][:2])
    print("q_vals:", [np.round(np.asarray(x, dtype=np.float64), 3) for x in q])
    obs = np.concatenate(trajs_dict["observation"])
    adv = agent._estimate_advantage(obs, np.concatenate(trajs_dict["reward"]),
                                    np.concatenate(agent._calculate_q_vals(trajs_dict["reward"])),
                                    np.concatenate(trajs_dict["terminal"]))
    print("advantages[:8]:", np.round(adv[:8], 3))
    dist = agent.actor(ptu.from_numpy(obs[:3]))
    print(type(dist).__name__, dist.batch_shape, dist.event_shape)
    if discrete:
        print("probs:", dist.probs, "entropy:", dist.entropy())
    else:
        print("loc:", dist.loc, "scale:", dist.scale)
    print([(n, tuple(p.shape)) for n, p in agent.named_parameters()])


experiments = [
    dict(discrete=True, use_reward_to_go=True, use_baseline=True, gae_lambda=0.95, normalize_advantages=True),
    dict(discrete=True, use_reward_to_go=False, use_baseline=False, gae_lambda=None, normalize_advantages=False),
    dict(discrete=False, use_reward_to_go=True, use_baseline=True, gae_lambda=None, normalize_advantages=True),
]
for e in experiments:
    args = types.SimpleNamespace(seed=1, ep_len=15, n_layers=2, layer_size=16, discount=0.95, learning_rate=5e-3,
                                 baseline_learning_rate=5e-3, baseline_gradient_steps=3, n_iter=3, batch_size=40, **e)
    print(e)
    run_training_loop(args)
