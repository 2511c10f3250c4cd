"""A lesson body's level-2 sections (`## Quiz`, `## Assignment`): cut out up to the next level-2 heading, never
from inside fenced code blocks (``` or ~~~), where headings and list items are examples, not sections."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
H2 = re.compile(r"^ {0,3}##(?:[ \t]|$)")
Issue = tuple[int, str, str]  # (line, message, severity)


def lines_in_code(lines: Sequence[str]) -> Iterator[tuple[int, bool]]:
    """Yield (index, inside a fenced code block) for each line; the fence lines themselves count as inside."""
    fence = None
    for i, line in enumerate(lines):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            yield i, True
        elif fence is not None:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip()[len(m.group(1)):].strip():
                fence = None
            yield i, True
        else:
            yield i, False


@dataclass(frozen=True, slots=True)
class Cut:
    """A body with one section taken out, and that section's lines (None when the body has none)."""

    prose: str
    lines: tuple[str, ...] | None
    heading_line: int  # file line of the section's heading, 0 when there is none
    issues: tuple[Issue, ...] = ()


def cut_section(body: str, body_line: int, heading: re.Pattern[str], second: str, *, blank: bool = False) -> Cut:
    """Take the section that starts at the first line matching `heading` (outside code) out of `body`, up to the
    next level-2 heading. Another heading of the same section anywhere after it is an error (`second` says so):
    its lines would otherwise stay in the prose. `blank` leaves empty lines where the section was, so the line
    numbers of what follows stay those of the file."""
    lines = body.split("\n")
    start = end = None
    issues: list[Issue] = []
    for i, in_code in lines_in_code(lines):
        if in_code:
            continue
        if start is None:
            if heading.match(lines[i]):
                start = i
        elif heading.match(lines[i]):  # a second one, right after the first or further down
            issues.append((body_line + i, second, "error"))
            end = i if end is None else end
        elif end is None and H2.match(lines[i]):
            end = i
    if start is None:
        return Cut(body, None, 0)
    end = len(lines) if end is None else end
    kept = [""] * (end - start) if blank else []
    return Cut("\n".join(lines[:start] + kept + lines[end:]), tuple(lines[start + 1:end]), body_line + start,
               tuple(issues))
