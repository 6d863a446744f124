"""The attributes a recorded program writes on an operation's context and reads back, as locals.

A recorded forward keeps what its backward needs on the operation's context, and the backward reads
it back from there, as in eager:

    ctx4.saved_tensors = (x1, p2)  # Linear
    ...
    v72, v71 = ctx4.saved_tensors  # AddmmBackward0

When the whole backward is in the same program, the context is only a place to pass values through,
and a local does it for a fraction of the cost (an attribute store and load on an object against a
local's). So the pair becomes

    ctx4_saved_tensors = (x1, p2)  # Linear
    ...
    v72, v71 = ctx4_saved_tensors  # AddmmBackward0

The same values reach the same operations: the results are the same bits. It is done only where
that is certain: the context is named in the program only as ``ctxN.attribute`` (never handed to a
function, which could read any attribute), the attribute is set once, by a plain assignment outside
any ``if``, ``for`` or function (a ``with`` block is no branch), before every read of it, and the
program has no rolled loop (whose contexts come from a list, not by name).
"""
import re

_CONTEXT = re.compile(r"(?<![\w.])(ctx\d+)(?!\w)(\.([A-Za-z_]\w*))?")
_BRANCHING = ("if ", "elif ", "else:", "for ", "while ", "try:", "except", "finally:", "def ")
_AUGMENTED = re.compile(r"\s*(?:\*\*|//|>>|<<|[-+*/%&|^@])?=(?!=)")


def as_locals(lines, constants):
    """``lines`` (``(indent, code, comment)``) with each context attribute that may be a local
    written as one (see the module's docstring); ``constants`` are the program's names of objects."""
    if any(name.startswith("rolled") for name in constants):
        return lines
    writes, reads, refused = {}, {}, set()
    branches = []  # the indents of the open blocks, and whether each is a branch
    for number, (indent, code, _) in enumerate(lines):
        while branches and indent <= branches[-1][0]:
            branches.pop()
        in_branch = any(branching for _, branching in branches)
        for match in _CONTEXT.finditer(code):
            context, attribute = match.group(1), match.group(3)
            if context not in constants:
                continue
            if attribute is None:  # the context itself goes somewhere: any attribute may be read there
                refused.add(context)
                continue
            key = (context, attribute)
            if match.start() == 0 and re.match(r" = (?!=)", code[match.end():]):
                if key in writes or in_branch:
                    refused.add(key)
                writes[key] = number
            elif _AUGMENTED.match(code[match.end():]) or _assigned_among_others(code, match):
                refused.add(key)
            else:
                reads.setdefault(key, []).append(number)
        if code.rstrip().endswith(":"):
            branches.append((indent, code.startswith(_BRANCHING)))
    names = {}
    for key, written in writes.items():
        context, attribute = key
        name = f"{context}_{attribute}"
        if key in refused or context in refused or name in constants:
            continue
        if all(read > written for read in reads.get(key, ())):
            names[key] = name
    if not names:
        return lines

    def local(match):
        return names.get((match.group(1), match.group(3)), match.group(0))

    return [(indent, _CONTEXT.sub(local, code), comment) for indent, code, comment in lines]


def _assigned_among_others(code, match):
    """Whether ``match`` is one of several targets of an assignment (``ctx4.a, v2 = ...``)."""
    targets = re.match(r"^([\w., *]+?) = (?!=)", code)
    return targets is not None and match.end() <= targets.end(1)
