"""Pure text helpers of the browser editor: a line diff for an accessible table, a three-way merge, and the
check for merge markers left in a text. No Flask, no database: strings in, values out."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

RowKind = Literal["equal", "delete", "insert", "replace", "skip"]
MARKER_START = "<<<<<<<"
MARKER_MIDDLE = "======="
MARKER_END = ">>>>>>>"
_START = re.compile(r"^<{7}(?:\s|$)")
_END = re.compile(r"^>{7}(?:\s|$)")


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of a side-by-side diff: line numbers and texts left (old) and right (new).

    `kind` is `skip` for the unchanged lines left out between two changes (`skipped` says how many).
    """

    kind: RowKind
    old_no: int | None = None
    old: str | None = None
    new_no: int | None = None
    new: str | None = None
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class DiffSummary:
    """How many lines a change added and removed."""

    added: int
    removed: int


def lines_of(text: str) -> list[str]:
    """The lines of a text without their line ends (CRLF and CR count as LF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _matcher(a: list[str], b: list[str]) -> difflib.SequenceMatcher:
    """A line matcher without difflib's 'popular line' heuristic (which misaligns long lessons)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False)


def diff_rows(old: str, new: str, context: int = 3) -> list[DiffRow]:
    """The changes from `old` to `new` as table rows, with `context` unchanged lines around each change."""
    a, b = lines_of(old), lines_of(new)
    rows: list[DiffRow] = []
    shown_to = 0  # old lines up to here are accounted for
    for group in _matcher(a, b).get_grouped_opcodes(context):
        first = group[0][1]
        if first > shown_to:
            rows.append(DiffRow("skip", skipped=first - shown_to))
        for tag, i1, i2, j1, j2 in group:
            rows.extend(_rows(tag, a, b, i1, i2, j1, j2))
        shown_to = group[-1][2]
    if rows and shown_to < len(a):
        rows.append(DiffRow("skip", skipped=len(a) - shown_to))
    return rows


def _rows(tag: str, a: list[str], b: list[str], i1: int, i2: int, j1: int, j2: int) -> list[DiffRow]:
    """The rows of one opcode; a replacement pairs old and new lines side by side."""
    if tag == "equal":
        return [DiffRow("equal", i + 1, a[i], j + 1, b[j]) for i, j in zip(range(i1, i2), range(j1, j2), strict=True)]
    if tag == "delete":
        return [DiffRow("delete", i + 1, a[i]) for i in range(i1, i2)]
    if tag == "insert":
        return [DiffRow("insert", new_no=j + 1, new=b[j]) for j in range(j1, j2)]
    rows = []
    for k in range(max(i2 - i1, j2 - j1)):
        i, j = i1 + k, j1 + k
        rows.append(DiffRow("replace", i + 1 if i < i2 else None, a[i] if i < i2 else None,
                            j + 1 if j < j2 else None, b[j] if j < j2 else None))
    return rows


def summary(old: str, new: str) -> DiffSummary:
    """Lines added and removed from `old` to `new`."""
    added = removed = 0
    for tag, i1, i2, j1, j2 in _matcher(lines_of(old), lines_of(new)).get_opcodes():
        if tag != "equal":
            removed += i2 - i1
            added += j2 - j1
    return DiffSummary(added, removed)


@dataclass(frozen=True, slots=True)
class Merge:
    """The result of a three-way merge: the merged text and how many places both sides changed."""

    text: str
    conflicts: int


def _matches(base: list[str], other: list[str]) -> dict[int, int]:
    """For every base line left unchanged in `other`, its index there."""
    found = {}
    for tag, i1, i2, j1, _j2 in _matcher(base, other).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                found[i1 + k] = j1 + k
    return found


def merge3(base: str, mine: str, theirs: str, *, mine_label: str = "your version",
           theirs_label: str = "the saved version") -> Merge:
    """Merge two edits of `base` line by line (diff3): changes of one side are taken as they are; where
    both sides changed the same lines differently, both are kept between conflict markers."""
    o, a, b = lines_of(base), lines_of(mine), lines_of(theirs)
    in_a, in_b = _matches(o, a), _matches(o, b)
    out: list[str] = []
    conflicts = 0
    i = j = k = 0
    # Sync points: base lines unchanged in both edits; between two of them lies one chunk to decide.
    for s in [x for x in range(len(o)) if x in in_a and x in in_b] + [len(o)]:
        ja, kb = (in_a[s], in_b[s]) if s < len(o) else (len(a), len(b))
        if ja < j or kb < k:
            continue  # a match that crosses an earlier one: not a usable sync point
        chunk_o, chunk_a, chunk_b = o[i:s], a[j:ja], b[k:kb]
        if chunk_a == chunk_o:
            out.extend(chunk_b)
        elif chunk_b == chunk_o or chunk_a == chunk_b:
            out.extend(chunk_a)
        else:
            conflicts += 1
            out.extend([f"{MARKER_START} {mine_label}", *chunk_a, MARKER_MIDDLE, *chunk_b,
                        f"{MARKER_END} {theirs_label}"])
        if s < len(o):
            out.append(o[s])
        i, j, k = s + 1, ja + 1, kb + 1
    return Merge("\n".join(out), conflicts)


def marker_lines(text: str) -> list[int]:
    """Line numbers of merge conflict markers left in a text (`=======` counts only between the others,
    since under a line of text it is a Markdown heading)."""
    found: list[int] = []
    open_at: int | None = None
    for number, line in enumerate(lines_of(text), 1):
        if _START.match(line):
            open_at = number
            found.append(number)
        elif _END.match(line):
            found.append(number)
            open_at = None
        elif open_at is not None and line.rstrip() == MARKER_MIDDLE:
            found.append(number)
    return found
