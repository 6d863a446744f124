# CleanRL's cleanrl_utils package (https://github.com/vwxyzjn/cleanrl), shared by the rlspin_cleanrl_* scripts.
