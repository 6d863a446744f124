# Source: Anand Krishnamoorthy (AntixK), PyTorch-VAE, https://github.com/AntixK/PyTorch-VAE
#   models/__init__.py, models/base.py, models/types_.py (the repository's `models` package, named
#   pytorch_vae_models here), and experiment.py (the VAEXperiment LightningModule, in experiment.py here).
# Only BaseVAE and the types are shared: each vae_*.py script defines the one model it trains.
from .base import *
