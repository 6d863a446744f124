"""The part of Maxim Lapan's ptan (PyTorch AgentNet, https://github.com/Shmuma/ptan, ptan/agent.py,
ptan/actions.py, ptan/experience.py) that the lapan_*.py scripts use: PolicyAgent with its
preprocessors, ProbabilityActionSelector, ExperienceSource and ExperienceSourceFirstLast. Copied from
ptan's code with the gym API of the book's 2nd edition (reset() returns obs, step() returns obs, reward,
done, info), as ptan 0.6 had it; gym itself and the other agents/selectors/buffers are left out."""
from . import actions, agent, experience
