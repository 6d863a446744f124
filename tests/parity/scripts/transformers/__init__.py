# Pieces of Hugging Face transformers (https://github.com/huggingface/transformers, src/transformers/) that the
# hf_*.py parity scripts share, copied as written: optimization.py (get_linear_schedule_with_warmup, a LambdaLR),
# activations.py (ACT2FN and the activation classes the scripts' configs name), pytorch_utils.py (Conv1D).
# Not the transformers package (not a test dependency); only these few pure-PyTorch names.
