"""The ``chainrule`` command: ``chainrule demo NAME`` runs a course example, ``chainrule explore EXPR``
writes an interactive page that steps through forward and backward, ``chainrule run -n 4 train.py``
starts a script on 4 processes with MPI."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="chainrule", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="run a course example and write its figures and report")
    demo.add_argument("name", nargs="?", help="the example to run (see --list)")
    demo.add_argument("--list", action="store_true", help="list the examples")
    demo.add_argument("--out", default=None, help="output folder (default: ./chainrule-demo-NAME)")
    demo.add_argument("--quick", action="store_true", help="smaller sizes, for a fast look")

    explore = commands.add_parser("explore", help="write an HTML page that steps through backprop")
    explore.add_argument("expression", help="e.g. '3*(a + b*c)' or 'mlp' for the course's 2-layer net")
    explore.add_argument("--out", default="graph.html", help="the HTML file to write")

    run = commands.add_parser("run", help="start a script on several processes with MPI (mpiexec)")
    run.add_argument("-n", "--processes", type=int, default=2, help="the number of processes (default 2)")
    run.add_argument("-m", dest="module", default=None, help="run a module as a script, as python -m does")
    run.add_argument("program", nargs=argparse.REMAINDER, help="script.py [arguments] (or the module's arguments with -m)")

    args, values = parser.parse_known_args(argv)
    if args.command == "run":
        from chainrule.distributed.launch import run as run_processes

        program = (["-m", args.module] if args.module else []) + args.program + values
        if not program:
            run.error("give the script to run, e.g. chainrule run -n 4 train.py")
        return run_processes(args.processes, program)
    if args.command == "demo" and values:
        demo.error(f"unrecognized arguments: {' '.join(values)}")
    if args.command == "demo":
        from chainrule.examples import list_demos, run_demo

        if args.list or not args.name:
            for name, summary in list_demos():
                print(f"{name:24s} {summary}")
            return 0
        return run_demo(args.name, out=args.out, quick=args.quick)
    from chainrule.viz.explorer import explore_command

    return explore_command(args.expression, values, args.out)


if __name__ == "__main__":
    sys.exit(main())
