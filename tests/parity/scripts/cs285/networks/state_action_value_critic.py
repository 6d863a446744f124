# Source: https://github.com/ykpercy/homework_fall2023 (a student's solutions to Berkeley CS285 Fall 2023,
# starter code https://github.com/berkeleydeeprlcourse/homework_fall2023), file hw3/cs285/networks/state_action_value_critic.py, verbatim.
import torch
from torch import nn

import cs285.infrastructure.pytorch_util as ptu

class StateActionCritic(nn.Module):
    def __init__(self, ob_dim, ac_dim, n_layers, size):
        super().__init__()
        self.net = ptu.build_mlp(
            input_size=ob_dim + ac_dim,
            output_size=1,
            n_layers=n_layers,
            size=size,
        ).to(ptu.device)
    
    def forward(self, obs, acs):
        # print("obs.shape: ", obs.shape)
        # print("acs.shape: ", acs.shape)
        # print("obs: ", obs)
        # print("acs: ", acs)
        return self.net(torch.cat([obs, acs], dim=-1)).squeeze(-1)
