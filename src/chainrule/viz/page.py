"""Writing a self-contained HTML page: ``PAGE_START`` (the head the explorer's pages share, with
their common style: a header of controls above a drawing that fills the window), then the page's
own template, with ``__TITLE__`` and ``__DATA__`` filled in."""
import html
import json
import re
from pathlib import Path


PAGE_START = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  html, body { height: 100%; margin: 0; }
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #222; background: #fafafa;
         display: flex; flex-direction: column; overflow: hidden; }
  header { flex: 0 0 auto; background: #fff; border-bottom: 1px solid #ddd; padding: 8px 16px 6px; }
  h1 { font-size: 17px; margin: 0 0 6px; font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .controls { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; }
  button { font-size: 13px; padding: 4px 10px; border: 1px solid #bbb; border-radius: 5px; background: #f4f4f4; cursor: pointer; }
  button:hover:enabled { background: #e8eefc; }
  button:disabled { color: #aaa; cursor: default; }
  #counter { margin-left: 10px; color: #555; font-size: 13px; }
  #body { flex: 1 1 auto; display: flex; min-height: 0; }
  svg text { font-family: ui-monospace, Menlo, Consolas, monospace; }
"""


def write_page(template, title, data, path):
    """``PAGE_START`` and ``template``, filled with ``title`` (as text) and ``data`` (as JSON for a
    script element), written to ``path``; the path as a string."""
    # One pass, so that a title containing a placeholder's name is not substituted again.
    fills = {"__TITLE__": html.escape(title), "__DATA__": json_for_script(data)}
    page = re.sub("__TITLE__|__DATA__", lambda match: fills[match.group(0)], PAGE_START + template)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return str(path)


def json_for_script(data):
    """JSON that can sit inside <script>: no '</' that would end the element early."""
    return json.dumps(data, allow_nan=False).replace("<", "\\u003c")  # no </script> or <!-- inside
