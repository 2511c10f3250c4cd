"""Which lines of a Markdown text lie inside fenced code blocks (``` or ~~~), so that headings and list items
written there as examples are not taken for a lesson's quiz or assignment sections."""
from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


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
