"""What an example tells its reader: printed as it runs, and, given an output folder, written there
as ``report.md`` beside the figures it draws."""
import os


class Report:
    """Collects an example's text and figures.

    ``say`` prints a line at once (so a demo shows its progress) and keeps it for the report;
    ``figure`` draws a plot into the output folder; ``write`` saves ``report.md``. Without an output
    folder nothing is written and no figure is drawn: the example only prints and returns.
    """

    def __init__(self, title, out=None):
        self.out = os.fspath(out) if out is not None else None
        self.lines = [f"# {title}", ""]
        self.figures = []
        print(title)
        print("=" * len(title))
        if self.out is not None:
            os.makedirs(self.out, exist_ok=True)

    def say(self, text=""):
        """Print ``text`` and add it to the report as a paragraph line."""
        print(text)
        self.lines.append(text)

    def block(self, text):
        """Print ``text`` as it is and add it to the report as a preformatted block (tables, graphs)."""
        print(text)
        self.lines.extend(["```", text, "```"])

    def table(self, header, rows):
        """Print ``rows`` under ``header`` as aligned columns and add them to the report as a
        Markdown table."""
        cells = [[str(cell) for cell in row] for row in [header, *rows]]
        widths = [max(len(row[column]) for row in cells) for column in range(len(header))]
        print("\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells))
        self.lines.extend(["", "| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(header)])
        self.lines.extend("| " + " | ".join(row) + " |" for row in cells[1:])
        self.lines.append("")

    def path(self, name):
        """Where a file named ``name`` goes in the output folder (None without one)."""
        return os.path.join(self.out, name) if self.out is not None else None

    def figure(self, name, plot, *args, **kwargs):
        """``plot(*args, path=<out>/name, **kwargs)``, then closed; skipped without matplotlib.

        Returns the saved file's path, or None when nothing was drawn.
        """
        if self.out is None:
            return None
        path = self.path(name)
        try:
            figure = plot(*args, path=path, **kwargs)
        except ImportError as error:
            self.say(f"(figure {name} not drawn: {error})")
            return None
        from matplotlib import pyplot

        pyplot.close(figure)
        self.attach(name)
        return path

    def attach(self, name):
        """Show the figure file ``name``, already written into the output folder, in the report."""
        self.figures.append(name)
        self.lines.extend(["", f"![{name}]({name})", ""])
        print(f"  figure: {self.path(name)}")

    def write(self, results):
        """Add ``results`` (name -> value) as the report's last section and write ``report.md``."""
        self.lines.extend(["", "## Results", ""])
        for name, value in results.items():
            if isinstance(value, dict) and value and all(not isinstance(item, (dict, list, tuple)) for item in value.values()):
                self.lines.extend([f"**{name}**", "", "| | |", "|---|---|"])
                self.lines.extend(f"| {key} | {format_value(item)} |" for key, item in value.items())
                self.lines.append("")
            elif isinstance(value, dict) and value:
                self.lines.extend([f"**{name}**", ""])
                self.lines.extend(f"- {key}: {format_value(item)}" for key, item in value.items())
                self.lines.append("")
            else:
                self.lines.append(f"- {name}: {format_value(value)}")
        if self.out is None:
            return None
        path = self.path("report.md")
        with open(path, "w", encoding="utf-8") as file:
            file.write("\n".join(self.lines) + "\n")
        print(f"  report: {path}")
        return path


def format_value(value):
    """A result as a short string: floats to 4 significant digits, containers element by element."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {format_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return str(value)
