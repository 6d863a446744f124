# The parts of the book's PyPI package llms_from_scratch (Sebastian Raschka, "Build a Large Language Model
# (From Scratch)", https://github.com/rasbt/LLMs-from-scratch  pkg/llms_from_scratch/) that the
# rasbt2_*.py parity scripts share, copied verbatim except where a module's header says what was left out
# (downloads, plotting, tiktoken: none of requests, matplotlib, pandas, tiktoken, psutil, tqdm is a test
# dependency).
