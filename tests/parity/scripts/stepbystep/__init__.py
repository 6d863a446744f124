# The book repository's stepbystep package (https://github.com/dvgodoy/PyTorchStepByStep), shared by the stepbystep_* scripts.
