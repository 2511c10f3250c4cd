"""Certificate PDF render figures (issue 21), without HTTP or a database:

- the first render in a fresh process (the cost a new worker or a CLI command pays once): median over several
  processes, imports not counted;
- the steady state: median of many renders in one process, for a Latin name (prepared fonts, the common case),
  a Cyrillic one (whole DejaVu Serif, subset per document) and a Hebrew one (DejaVu Sans as a fallback too).

    python -m bench.pdf [--processes 5] [--rounds 40]

`make bench` prints these rows beside the HTTP figures (bench/__main__.py).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from typing import Any

from tests.scale.helpers import REPO

NAMES = {"Latin": "Zoë Müller-Lüdenscheidt Ñúñez", "Cyrillic": "Анна Сергеевна Петрова",
         "Hebrew": "שרה כהן"}
_TOKEN = "e30.eyJ2YyI6e319.c2ln"  # a JWT-shaped attachment: its payload decodes to JSON, nothing is verified

_FIRST = """
import json, sys, time
from tests.credentials.conftest import make_snapshot
from coaching.credentials.pdf import render_certificate_pdf
snapshot = make_snapshot(recipient_name=sys.argv[1])
started = time.perf_counter()
render_certificate_pdf(snapshot, credential_jwt=sys.argv[2])
first = time.perf_counter() - started
started = time.perf_counter()
render_certificate_pdf(snapshot, credential_jwt=sys.argv[2])
print(json.dumps({"first": first * 1000, "second": (time.perf_counter() - started) * 1000}))
"""


def first_render(processes: int, name: str = NAMES["Latin"]) -> dict[str, float]:
    """Median ms of the first and the second render in `processes` fresh interpreters."""
    runs = []
    for _ in range(processes):
        done = subprocess.run([sys.executable, "-c", _FIRST, name, _TOKEN], cwd=REPO, capture_output=True,
                              text=True, check=True, timeout=300)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return {"first": statistics.median(r["first"] for r in runs),
            "second": statistics.median(r["second"] for r in runs)}


def steady(rounds: int) -> dict[str, float]:
    """Median ms of `rounds` renders per kind of name, in this process after one warm-up render each."""
    from coaching.credentials.pdf import render_certificate_pdf
    from tests.credentials.conftest import make_snapshot

    figures = {}
    for kind, name in NAMES.items():
        snapshot = make_snapshot(recipient_name=name)
        render_certificate_pdf(snapshot, credential_jwt=_TOKEN)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            render_certificate_pdf(snapshot, credential_jwt=_TOKEN)
            samples.append((time.perf_counter() - started) * 1000)
        figures[kind] = statistics.median(samples)
    return figures


def measure(processes: int = 5, rounds: int = 40) -> dict[str, Any]:
    """Every render figure."""
    return {"pdf fresh": first_render(processes), "pdf steady": steady(rounds)}


def rows(figures: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Table rows (label, value, note)."""
    fresh, steady_ms = figures["pdf fresh"], figures["pdf steady"]
    return [
        ("certificate PDF render, first in a fresh process / its second, median ms",
         f"{fresh['first']:.1f} / {fresh['second']:.1f}", "goal < 30; imports not counted"),
        ("certificate PDF render, steady state, Latin / Cyrillic / Hebrew name, median ms",
         " / ".join(f"{steady_ms[kind]:.1f}" for kind in NAMES),
         "prepared fonts / whole Serif / + Sans fallback"),
    ]


def main(argv: list[str]) -> None:
    """Measure and print the rows."""
    parser = argparse.ArgumentParser(prog="python -m bench.pdf", description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    figures = measure(args.processes, args.rounds)
    print("| figure | value | note |\n|---|---|---|")
    for label, value, note in rows(figures):
        print(f"| {label} | {value} | {note} |")


if __name__ == "__main__":
    main(sys.argv[1:])
