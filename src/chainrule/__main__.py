"""The chainrule command: chainrule demo NAME runs a course example, chainrule explore EXPR writes
an interactive page that steps through forward and backward, chainrule run -n 4 train.py starts a
script on 4 processes with MPI."""
import argparse
import sys

EXPLORE_HELP = """\
Write a web page that steps through forward and backward, every number shown.

EXPRESSION is Python arithmetic on variables (+ - * / ** @ and functions such as exp, sigmoid, sum),
with optional 'name = expression' steps separated by ';'. Give each variable as --NAME VALUE, where
VALUE is a number (--a 5), a vector (--x 1,2,3) or a matrix with rows separated by ';'
(--W '1,2;3,4'). Every variable must be used by the expression.

'mlp' instead of an expression writes the layer view of the course's 2-2-2 sigmoid network (its
inputs can be replaced: --x, --t, --W1, --b1, --W2, --b2) and, beside it, its operation graph.

examples:
  chainrule explore "v = b*c; u = a + v; J = 3*u" --a 5 --b 3 --c 2
  chainrule explore "sum(x * x, dim=0)" --x 1,2,3 --out square.html
  chainrule explore mlp --out mlp.html
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2, as a mistake's."""

    def error(self, message):
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser():
    from chainrule.version import __version__, release

    parser = _Parser(prog="chainrule", description=__doc__, allow_abbrev=False)
    api = __version__.split("+")[0]
    parser.add_argument("--version", action="version", version=f"chainrule {release} (PyTorch {api}'s API)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = commands.add_parser("demo", help="run a course example and write its figures and report", allow_abbrev=False)
    demo.add_argument("name", nargs="?", help="the example to run (see --list)")
    demo.add_argument("--list", action="store_true", help="list the examples")
    demo.add_argument("--out", default=None, help="output folder (default: ./chainrule-demo-NAME)")
    demo.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")

    explore = commands.add_parser(
        "explore",
        help="write a web page that steps through backprop",
        description=EXPLORE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="chainrule explore EXPRESSION [--NAME VALUE ...] [--out FILE] [--force]",
        allow_abbrev=False,  # so that a variable named --o or --f is not taken for --out or --force
    )
    explore.add_argument("expression", help="e.g. '3*(a + b*c)', or 'mlp' for the course's 2-layer network")
    explore.add_argument("--out", default="graph.html", metavar="FILE", help="the HTML file to write (default: graph.html)")
    explore.add_argument("--force", action="store_true", help="overwrite FILE if it exists")

    run = commands.add_parser("run", help="start a script on several processes with MPI (mpiexec)")
    run.add_argument("-n", "--processes", type=int, default=2, help="the number of processes (default 2)")
    run.add_argument("-m", dest="module", default=None, help="run a module as a script, as python -m does")
    run.add_argument("program", nargs=argparse.REMAINDER, help="script.py [arguments] (or the module's arguments with -m)")
    return parser, demo, run


def main(argv=None):
    parser, demo, run = build_parser()
    args, values = parser.parse_known_args(argv)
    if args.command == "run":
        from chainrule.distributed.launch import run as run_processes

        program = (["-m", args.module] if args.module else []) + args.program + values
        if not program:
            run.error("give the script to run, e.g. chainrule run -n 4 train.py")
        return run_processes(args.processes, program)
    if args.command == "demo" and values:
        demo.error(f"unrecognized arguments: {' '.join(values)}")
    try:
        if args.command == "demo":
            from chainrule.examples import list_demos, run_demo

            if args.list or not args.name:
                for name, summary in list_demos():
                    print(f"{name:24s} {summary}")
                return 0
            return run_demo(args.name, out=args.out, quick=args.quick)
        from chainrule.viz.explorer import explore_command

        return explore_command(args.expression, values, args.out, force=args.force)
    except KeyboardInterrupt:
        print("chainrule: interrupted", file=sys.stderr)
        return 2
    except Exception as error:  # a command line shows one line, never a traceback
        print(f"chainrule {args.command}: {type(error).__name__}: {error}".splitlines()[0], file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
