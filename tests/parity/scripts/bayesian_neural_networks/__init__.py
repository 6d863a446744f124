"""Helper modules of JavierAntoran/Bayesian-Neural-Networks (https://github.com/JavierAntoran/Bayesian-Neural-Networks,
src/utils.py, src/priors.py, src/base_net.py), shared by the
bayes_*.py scripts beside this folder. The repository imports them as ``src.utils`` etc.; here the package is named
after the repository, as ``src`` is too generic a name on sys.path."""
