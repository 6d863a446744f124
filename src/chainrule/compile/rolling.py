"""Rolling repeated lines of a recorded program into loops.

A long chain of operations records one line per operation: a 100,000-operation chain becomes a
200,000-line function, which takes seconds to compile and runs twice as slow per line as a short one
(its code and its 100,000 contexts no longer fit the processor's caches). When the same few lines
repeat many times, differing only in the contexts (or other constants) they use and in the values
each repetition hands to the next, they are written once, in a loop:

    v6 = x0
    for ctx_0, ctx_1 in rolled_1:  # 50,000 repetitions of the next 2 lines, rolled
        v3 = Mul.forward(ctx_0, v6, constant1)  # Mul: v6 · constant1
        v6 = Add.forward(ctx_1, v3, constant4)  # Add: v3 + constant4
    v200002 = v6

The loop makes the same calls with the same arguments in the same order, so its results are the
same bit for bit. A run is rolled only when that is certain: each repetition reads the values of the
one before (or values made before the run, the same in every repetition), the lines after the run
read only what the last repetition made, and the lines hold no block (``with``, ``if``) or ``return``
and stand at one depth.

A program line here is ``(indent, code, comment)``; the program's own names are its values
(``v12``, ``g7``, ``x0``, ``p3``) and its constants (the ``constants`` dict: contexts, numbers),
besides the operations' classes, which are part of a line's text: lines that call another
operation are other lines.
"""
import re

MIN_REPEATS = 16  # fewer repetitions stay straight-line: the loop would save nothing measurable
MAX_PERIOD = 32  # the longest group of lines looked for as the repeated unit

_VALUE = re.compile(r"[vgxp]\d+")  # the names the recorder gives arrays
# Quoted strings are skipped whole, so that a string argument is never read as a name.
_TOKEN = re.compile(r"""'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|(?<![\w.])([A-Za-z_]\w*)""")
_NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)")  # the same, for a line without quotes
_NOT_CONSTANT = object()
_ASSIGNED = re.compile(r"^([\w, *]+?) = (?!=)")
_NUMBERS = re.compile(r"\d+")
_VALUE_READ = re.compile(r"(?<![\w.])[vgxp]\d+(?!\w)")
_COMMENT_VALUE = re.compile(r"(?:(?<=d/d)|(?<![\w.]))([vgxp]\d+)(?!\w)")  # "d/dv14" names v14


class _Line:
    """One line taken apart: its tokens that are names of the program (values and constants),
    which of them it assigns, and its text with those names cut out (the key repetitions share)."""

    __slots__ = ("uses", "defines", "names", "pieces", "key")

    def __init__(self, indent, code, constants):
        assigned = _ASSIGNED.match(code)
        start = assigned.end() if assigned else 0
        self.names, self.pieces, self.uses, self.defines = names, pieces, uses, defines = [], [], [], []
        position = 0
        for match in (_TOKEN if "'" in code or '"' in code else _NAME).finditer(code):
            name = match.group(1)
            if not _may_change(name, constants):
                continue  # part of the line's text
            pieces.append(code[position : match.start()])
            position = match.end()
            (defines if position <= start else uses).append(len(names))
            names.append(name)
        pieces.append(code[position:])
        opens_block = code.endswith(":") or code.startswith("return")
        self.key = (indent, tuple(self.pieces)) if not opens_block else object()


def _may_change(name, constants):
    """Whether a token may differ from one repetition to the next: a value of the program, or one
    of its constants other than an operation's class (None: a quoted string)."""
    if name is None:
        return False
    value = constants.get(name, _NOT_CONSTANT)
    if value is _NOT_CONSTANT:
        return _VALUE.fullmatch(name) is not None
    return not isinstance(value, type)


def roll(lines, constants):
    """``lines`` with every long enough repeated run written as a loop; the constants the loops
    iterate over are added to ``constants``.

    Runs are first looked for among lines that are equal but for their numbers (a cheap key for
    every line); only those are taken apart, and looked for again with their exact keys."""
    rough = _numbered([(indent, _NUMBERS.sub("", _VALUE_READ.sub("·", code))) for indent, code, _ in lines])
    result, start, last_use = [], 0, None
    while start < len(lines):
        period, repeats = _longest_repeat(rough, start)
        if repeats < MIN_REPEATS:
            result.append(lines[start])
            start += 1
            continue
        if last_use is None:
            last_use = _last_uses(lines)
        end = start + period * repeats
        result += _rolled_region(lines, start, end, last_use, constants)
        start = end
    return result


def _rolled_region(lines, start, end, last_use, constants):
    """``lines[start:end]``, its repeated runs (by exact keys) rolled."""
    parsed = [_Line(indent, code, constants) for indent, code, _ in lines[start:end]]
    keys = _numbered([line.key for line in parsed])
    result, index, shifts = [], 0, 0
    while index < len(parsed):
        period, repeats = _longest_repeat(keys, index)
        if repeats < MIN_REPEATS:
            result.append(lines[start + index])
            index, shifts = index + 1, 0
            continue
        loop = _Loop(parsed, lines, start, index, period, repeats, last_use, constants)
        if loop.valid:
            result += loop.lines()
        elif shifts < period:
            # The same lines may play other parts at the run's first line (a gradient sum that is
            # another one's in the repetitions after): try the group starting one line later.
            result.append(lines[start + index])
            index, shifts = index + 1, shifts + 1
            continue
        else:
            result += lines[start + index : start + index + period * repeats]
        index, shifts = index + period * repeats, 0
    return result


def _last_uses(lines):
    """value name -> the index of the last line that reads it."""
    last_use = {}
    for index, (_, code, _) in enumerate(lines):
        assigned = _ASSIGNED.match(code)
        for name in _VALUE_READ.findall(code, assigned.end() if assigned else 0):
            last_use[name] = index
    return last_use


def _numbered(keys):
    """Each key as a small integer (equal keys, equal numbers): runs are found by comparing those."""
    numbers = {}
    return [numbers.setdefault(key, len(numbers)) for key in keys]


def _longest_repeat(keys, start):
    """``(period, repeats)``: the group of ``period`` lines at ``start`` repeated the most lines
    long (the shortest such group on a tie). Only the periods at which the first key comes again
    can repeat: ``list.index`` finds those, rather than a test of every period up to ``MAX_PERIOD``
    (this runs once per line of the program)."""
    best = (1, 1)
    first, last = keys[start], start + min(MAX_PERIOD, (len(keys) - start) // 2)
    position = start
    while True:
        try:
            position = keys.index(first, position + 1, last + 1)
        except ValueError:
            return best
        period = position - start
        unit = keys[start:position]
        repeats = 1
        while keys[start + repeats * period : start + (repeats + 1) * period] == unit:
            repeats += 1
        if period * repeats > best[0] * best[1]:
            best = (period, repeats)


class _Loop:
    """A run of ``repeats`` repetitions of ``period`` lines, checked and written as one loop.

    Each value the run assigns becomes the variable of its place in the first repetition (the
    loop's variables); each place whose constant changes from one repetition to the next becomes a
    loop variable, its constants a tuple per repetition. ``valid`` says whether the loop computes
    exactly what the lines did.
    """

    def __init__(self, parsed, lines, region, start, period, repeats, last_use, constants):
        """``parsed``: the lines of the region that begins at ``lines[region]``; the run begins
        ``start`` lines into it."""
        self.lines_in, self.start, self.period, self.repeats = lines, region + start, period, repeats
        self.constants = constants
        self.end = self.start + period * repeats
        self.rows = [parsed[start + repetition * period : start + (repetition + 1) * period] for repetition in range(repeats)]
        self.valid = self._check(last_use)

    def _check(self, last_use):
        first = self.rows[0]
        if len({line.key[0] for line in first if type(line.key) is tuple}) > 1:
            return False  # lines at other depths (an operation written in with an if): not one loop body
        # The variable of each assigned place: the first repetition's name there.
        variable = {(line, slot): first[line].names[slot] for line in range(self.period) for slot in first[line].defines}
        assigned_at = {}  # variable -> the lines of the group that assign it
        for (line, _), name in variable.items():
            assigned_at.setdefault(name, []).append(line)
        defined = {}  # value name -> (repetition, line, variable) of its latest assignment in the run
        self.varying = {}  # (line, slot) -> the constant at that place in each repetition
        texts = []  # per repetition, per line: {slot: what the loop writes there}
        for repetition, row in enumerate(self.rows):
            written = []
            for line, parsed in enumerate(row):
                written.append({})
                for slot in parsed.uses:
                    text = self._use(parsed.names[slot], repetition, line, slot, defined, assigned_at)
                    if text is None:
                        return False
                    written[line][slot] = text
                for slot in parsed.defines:
                    name = parsed.names[slot]
                    if not _VALUE.fullmatch(name):
                        return False  # a constant assigned to: not a program this pass knows
                    defined[name] = (repetition, line, variable[(line, slot)])
                    written[line][slot] = variable[(line, slot)]
            if repetition > 1 and written != texts[1]:
                return False
            texts.append(written)
        self.body = texts[1]
        self.carried_in = self._carried_in(texts[0], set(variable.values()))
        if self.carried_in is None:
            return False
        self.carried_out = []  # (value name, variable): values the lines after the run read
        last_line = {name: max(lines) for name, lines in assigned_at.items()}
        for name, (repetition, line, var) in defined.items():
            if last_use.get(name, -1) >= self.end:
                if repetition != self.repeats - 1 or last_line[var] != line:
                    return False  # read after the run, but the loop leaves another value there
                if name != var:
                    self.carried_out.append((name, var))
        return True

    def _use(self, name, repetition, line, slot, defined, assigned_at):
        """What the loop writes for a name the line reads: a loop variable, ``("before", name)``
        for a value made before the run, ``("constant", place)``; None when the loop could not
        give the line that value."""
        if name in defined:
            made_in, made_at, var = defined[name]
            earlier = [each for each in assigned_at[var] if each < line]
            expected = (repetition, max(earlier)) if earlier else (repetition - 1, max(assigned_at[var]))
            return var if (made_in, made_at) == expected else None
        if _VALUE.fullmatch(name):
            return ("before", name)
        place = (line, slot)
        self.varying.setdefault(place, []).append(name)
        return ("constant", place)

    def _carried_in(self, first, variables):
        """``{variable: value}`` the loop starts from: where the body reads what the previous
        repetition made, the first repetition reads a value from before the run. None when the
        first repetition reads anything else than the body does."""
        carried = {}
        for line, written in enumerate(first):
            for slot, text in written.items():
                wanted = self.body[line][slot]
                if type(wanted) is tuple and wanted[0] == "before" and wanted[1] in variables:
                    return None  # the loop would overwrite a value every repetition reads
                if text == wanted:
                    continue
                if type(wanted) is tuple or type(text) is not tuple or text[0] != "before":
                    return None
                if carried.setdefault(wanted, text[1]) != text[1]:
                    return None  # one variable would have to start from two values
        return carried

    def lines(self):
        """The loop, and the assignments before and after it that connect it to the program."""
        indent = self.lines_in[self.start][0]
        names = self._loop_names()
        written = [(indent, f"{var} = {name}", "the value carried into the loop") for var, name in self.carried_in.items()]
        comment = f"{self.repeats:,} repetitions of the next {self.period} lines, rolled"
        if names:
            rolled = _fresh(self.constants, "rolled")
            columns = [[self.constants[name] for name in self.varying[place]] for place in names]
            self.constants[rolled] = list(zip(*columns)) if len(columns) > 1 else columns[0]
            written.append((indent, f"for {', '.join(names.values())} in {rolled}:", comment))
        else:
            written.append((indent, f"for _ in range({self.repeats}):", comment))
        second = self.rows[1]
        for line, parsed in enumerate(second):
            texts = [self._text(self.body[line][slot], names, (line, slot)) for slot in range(len(parsed.names))]
            code = "".join(piece + text for piece, text in zip(parsed.pieces, texts)) + parsed.pieces[-1]
            _, _, comment = self.lines_in[self.start + self.period + line]
            renamed = dict(zip(parsed.names, texts))
            if comment:
                comment = _COMMENT_VALUE.sub(lambda match: renamed.get(match.group(1), match.group(1)), comment)
            written.append((indent + 1, code, comment))
        written += [(indent, f"{name} = {var}", None) for name, var in self.carried_out]
        return written

    def _loop_names(self):
        """The loop variable of each place whose constant changes: ``ctx_0``, ``constant_1``..."""
        names = {}
        for place, used in self.varying.items():
            if len(set(used)) > 1:
                base = used[0].rstrip("0123456789").rstrip("_") or "each"
                names[place] = _fresh(self.constants, f"{base}_{len(names)}", numbered=False)
        return names

    def _text(self, text, names, place):
        if type(text) is not tuple:
            return text
        if text[0] == "before":
            return text[1]
        return names.get(place) or self.varying[place][0]


def _fresh(constants, base, numbered=True):
    """A name neither a constant nor a value of the program has: ``base`` (numbered: ``base_1``...)."""
    number = 1
    name = f"{base}_{number}" if numbered else base
    while name in constants or _VALUE.fullmatch(name):
        number += 1
        name = f"{base}_{number}"
    return name
