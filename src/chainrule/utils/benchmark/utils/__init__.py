"""The parts of ``chainrule.utils.benchmark``, laid out as PyTorch's ``torch.utils.benchmark.utils``:
``common`` (TaskSpec, Measurement and the number formatting), ``timer`` (Timer), ``compare``
(Compare's tables) and ``fuzzer`` (Fuzzer: random sizes and tensors to time)."""
