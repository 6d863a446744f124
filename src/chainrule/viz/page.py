"""Writing a self-contained HTML page: a template with ``__TITLE__`` and ``__DATA__`` filled in."""
import html
import json
import re
from pathlib import Path


def write_page(template, title, data, path):
    """Fill ``template`` with ``title`` (as text) and ``data`` (as JSON for a script element), write
    it to ``path`` and return the path as a string."""
    # One pass, so that a title containing a placeholder's name is not substituted again.
    fills = {"__TITLE__": html.escape(title), "__DATA__": json_for_script(data)}
    page = re.sub("__TITLE__|__DATA__", lambda match: fills[match.group(0)], template)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return str(path)


def json_for_script(data):
    """JSON that can sit inside <script>: no '</' that would end the element early."""
    return json.dumps(data, allow_nan=False).replace("<", "\\u003c")  # no </script> or <!-- inside
