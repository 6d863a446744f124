"""A process that runs teaching scripts on request, importing the library once for all of them.

    python tests/parity/script_server.py chainrule    (or torch)

Each line it reads on standard input is a JSON list of script paths; for each it runs them as
``run_script.py LIBRARY --json`` does (one after another, each from the same seeds and settings)
and answers with one line, their outputs as JSON. Whatever else reaches its standard output (a C
library's or a child process's writes) goes to its standard error instead, so that the answers
stay one line each; a script that reads its standard input reads nothing.

``script_outputs.printed`` starts one per library and test process: the scripts can then be
handed out a few at a time (to whichever test process is free) without importing the library
again for each handful (1.2 s with every module the aliases name).
"""
import contextlib
import gc
import io
import json
import os
import sys

import run_script


def serve(library):
    requests, answers = os.fdopen(os.dup(0)), os.fdopen(os.dup(1), "w")
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)  # a script that reads its input (sys.stdin, fd 0) reads nothing, not the requests
    os.close(nothing)
    os.dup2(2, 1)  # stray writes to fd 1 go to stderr from now on
    reset = run_script.prepare(library)
    # every module the aliases name, imported, set aside where the collector of reference cycles
    # never looks again (as tests/conftest.py does after collecting): its full collections while
    # the scripts run walked them each time (0.85 s of GC per 76 scripts, 0.37 s so)
    gc.collect()
    gc.freeze()
    for request in requests:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            run_script.run_each_capturing(json.loads(request), reset)
        answers.write(printed.getvalue().splitlines()[-1] + "\n")
        answers.flush()


if __name__ == "__main__":
    serve(sys.argv[1])
