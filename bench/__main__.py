"""`make bench`: start gunicorn (2 workers x 4 threads) on a generated catalog and data set, load it, print one table.

    python -m bench [--seconds 10] [--connections 16] [--affiliates 10000] [--no-postgres] [--output FILE]

The last rows time forgot-password and registration for a known against an unknown email (bench/accounts.py),
and the certificate PDF render in a fresh process and in steady state (bench/pdf.py).

Runs on SQLite, then on PostgreSQL when one is available (see bench/pg.py). Figures: docs/performance.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa

from bench import accounts, authoring, credentials, load, reports, reviews
from bench import pdf as pdf_bench
from bench.generate import seed_data, write_catalog
from bench.grading import grading_microseconds
from bench.pg import postgres
from bench.timing import median_ms
from tests.scale.helpers import REPO, Browser, Server, create_users, hidden_value, quiz_answers

LESSON = "/courses/course-02/lesson-010"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run")
    parser.add_argument("--rounds", type=int, default=8, help="page figures take turns in this many rounds")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections per load run")
    parser.add_argument("--affiliates", type=int, default=10_000)
    parser.add_argument("--courses", type=int, default=20)
    parser.add_argument("--lessons", type=int, default=50, help="lessons per course")
    parser.add_argument("--attempts", type=int, default=None,
                        help="quiz attempts to seed (default: the first course's, about 310,000; 1000000 adds four "
                             "more courses' worth, about 40 s more per database)")
    parser.add_argument("--status-certificates", type=int, default=100_000,
                        help="certificates in the status list figure")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--account-requests", type=int, default=50,
                        help="requests per median in the known/unknown email timing")
    parser.add_argument("--output", type=Path, help="also write the table (and the machine) to this file")
    return parser.parse_args(argv)


def machine() -> str:
    """nproc, CPU model and RAM of this machine."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    load1 = os.getloadavg()[0]
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, Python {platform.python_version()}, "
            f"load average {load1:.1f} at this moment")


def catalog_load(content: Path, cache: Path) -> dict[str, float]:
    """load_catalog of the generated tree in fresh processes, as a worker reads it: seconds and ru_maxrss growth
    (MB) with an empty shared render cache (the first start ever), then in another process with the cache the
    first one wrote (a new worker, a restart, a second worker)."""
    code = ("import json,resource,sys,time; from pathlib import Path; "
            "from coaching.content import load_catalog, shared_renderer; "
            "r0=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; t=time.perf_counter(); "
            "c=load_catalog(Path(sys.argv[1]), renderer=shared_renderer(sys.argv[2])); s=time.perf_counter()-t; "
            "r1=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
            "print(json.dumps({'seconds': s, 'mb': (r1-r0)/1024, 'lessons': sum(len(x.lessons) for x in c.courses),"
            "'errors': len([e for e in c.errors if e.severity == 'error'])}))")
    cache.unlink(missing_ok=True)
    figures = []
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", code, str(content), str(cache)], cwd=REPO, capture_output=True,
                              text=True, check=True, timeout=600)
        figures.append(json.loads(done.stdout))
    cold, warm = figures
    return {**cold, "warm seconds": warm["seconds"], "warm mb": warm["mb"]}


class Stack:
    """gunicorn on one database with the generated catalog and data, plus signed-in sessions."""

    def __init__(self, root: Path, url: str, content: Path, affiliates: int, attempts: int | None = None) -> None:
        self.server = Server(root=root, database_url=url, workers=2, threads=4, app_module="bench.app:app",
                             extra_env={"CONTENT_DIR": str(content)})
        self.content, self.affiliates, self.attempts = content, affiliates, attempts

    def start(self) -> dict[str, Any]:
        """Migrate, seed, start gunicorn, sign in an affiliate and a manager; the seeded counts."""
        from coaching.content import load_catalog

        started = time.perf_counter()
        self.server.prepare()
        catalog = load_catalog(self.content)
        counts = seed_data(self.server.database_url, catalog, affiliates=self.affiliates, attempts=self.attempts)
        counts.update(reviews.seed(self.server.database_url, catalog, waiting=min(2000, self.affiliates)))
        from tests.scale.helpers import app_for

        app = app_for(self.server.database_url, self.server.root)
        self.learner, self.manager = create_users(app, 1)[0], create_users(app, 1, role="manager")[0]
        counts["start to lesson s"] = self.start_to_lesson()  # the first start: the render cache is empty
        self.server.stop()
        counts["restart to lesson s"] = self.start_to_lesson()  # a restart reads the shared render cache
        self.learner_browser = Browser(self.server.base)
        self.learner_browser.login(self.learner["email"])
        self.manager_browser = Browser(self.server.base)
        self.manager_browser.login(self.manager["email"])
        counts["setup seconds"] = round(time.perf_counter() - started, 1)
        return counts

    def start_to_lesson(self) -> float:
        """Seconds from starting gunicorn (2 workers) to the learner's first lesson page."""
        started = time.perf_counter()
        self.server.start()
        browser = Browser(self.server.base)
        browser.login(self.learner["email"])
        answer = browser.get(LESSON)
        assert answer.status == 200, answer.status
        return round(time.perf_counter() - started, 2)

    def cookie(self, browser: Browser) -> str:
        """The Cookie header of a signed-in session (for wrk)."""
        return "; ".join(f"{k}={v}" for k, v in browser.cookies.items())

    def certificate_ids(self, limit: int) -> list[str]:
        """Ids of seeded certificates."""
        engine = sa.create_engine(self.server.database_url)
        with engine.connect() as conn:
            ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM certificates ORDER BY id LIMIT :n"), {"n": limit})]
        engine.dispose()
        return ids


PAGE_RUNS = (  # figure, path, sent with the signed-in affiliate's cookie
    ("bare rps", "/bench/bare", False),
    ("bare signed-in rps", "/bench/bare", True),
    ("lesson rps", LESSON, True),  # rendered on every view: no personal page is cached
)
RATIOS = (  # figure, numerator, denominator
    ("lesson/bare signed-in", "lesson rps", "bare signed-in rps"),
    ("lesson/bare", "lesson rps", "bare rps"),
    ("bare signed-in/bare", "bare signed-in rps", "bare rps"),
)


def measure_pages(stack: Stack, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """Bare route (anonymous and with the affiliate's cookie), the rendered lesson page, verification page.

    The machine is shared and its speed drifts within seconds, so the page runs take turns in `args.rounds`
    short rounds: each figure is its median round, each ratio the median of the ratios within a round.
    """
    base, conns = stack.server.base, args.connections
    cookie = stack.cookie(stack.learner_browser)
    for _figure, path, signed_in in PAGE_RUNS:  # warm up every worker and thread
        load.run(base, path, seconds=2, connections=conns, cookie=cookie if signed_in else None)
    rounds: list[dict[str, load.Result]] = []
    slice_seconds = max(2.0, args.seconds / args.rounds)  # wrk counts whole seconds
    for _ in range(args.rounds):
        rounds.append({figure: load.run(base, path, seconds=slice_seconds, connections=conns,
                                        cookie=cookie if signed_in else None)
                       for figure, path, signed_in in PAGE_RUNS})
    for figure, _path, _signed_in in PAGE_RUNS:
        figures[figure] = median_result([r[figure] for r in rounds])
    for figure, top, bottom in RATIOS:
        figures[figure] = statistics.median(r[top].rps / r[bottom].rps if r[bottom].rps else 0.0 for r in rounds)
    figures["verify rps"] = load.run(base, f"/verify/{stack.certificate_ids(1)[0]}", seconds=args.seconds,
                                     connections=conns)


def median_result(results: list[load.Result]) -> load.Result:
    """The round with the median rate, carrying the failed requests of every round."""
    middle = sorted(results, key=lambda r: r.rps)[len(results) // 2]
    return load.Result(middle.tool, middle.requests, middle.seconds, sum(r.failures for r in results),
                       middle.p50_ms, middle.p99_ms)


def measure_quiz(stack: Stack, args: argparse.Namespace, figures: dict[str, Any]) -> None:
    """Quiz submissions with unique submission ids under load; then count lost and duplicated attempts."""
    page = stack.learner_browser.get(LESSON).body
    answers = quiz_answers(page, correct=False)
    text_field = next(name for name, value in answers if value == "no idea")  # varied per request: no replays
    fixed = [(n, hidden_value(page, n)) for n in ("csrf_token", "quiz_version")] + \
        [(name, value) for name, value in answers if name != text_field]
    run_id = f"bench{int(time.time())}"
    result = load.run(stack.server.base, LESSON + "/quiz", seconds=args.seconds, connections=args.connections,
                      cookie=stack.cookie(stack.learner_browser), post_body=urlencode(fixed), run_id=run_id,
                      vary_field=text_field)
    engine = sa.create_engine(stack.server.database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, submission_id FROM quiz_attempts WHERE submission_id LIKE :p"),
                            {"p": run_id + "-%"}).all()
    engine.dispose()
    stored = {row[0] for row in rows}
    figures.update({"quiz": result, "quiz stored": len(rows),
                    "quiz lost": len(set(result.ids) - stored),
                    "quiz duplicated": (len(rows) - len({row[1] for row in rows})) + (len(result.ids) - len(set(result.ids)))})


def measure_certificates(stack: Stack, figures: dict[str, Any]) -> None:
    """Certificate PDF over HTTP, median ms: the first download of each certificate, and the same ones again
    (no PDF is kept anywhere, so both are renders: the second shows the cost without first-use effects)."""
    ids = iter(stack.certificate_ids(25))
    browser = stack.manager_browser

    def fetch() -> None:
        answer = browser.get(f"/certificates/{next(ids)}.pdf")
        assert answer.status == 200 and answer.headers.get("content-type") == "application/pdf", answer.status

    fetch()  # the first one per worker parses the fonts (bench/pdf.py times that on its own)
    figures["pdf http ms"] = median_ms(fetch, 20)
    again = stack.certificate_ids(25)[5]  # downloaded above
    figures["pdf again ms"] = median_ms(lambda: browser.get(f"/certificates/{again}.pdf"), 20)


def measure_progress(stack: Stack, figures: dict[str, Any]) -> None:
    """The manager pages at scale (progress matrix, overview, question analysis, affiliates): median ms over HTTP
    (bench/reports.py)."""
    reports.measure(stack.manager_browser, figures)


def pdf_in_process(stack: Stack) -> float:
    """Certificate PDF rendered through coaching.credentials (snapshot, signed credential, PDF), median ms."""
    from coaching.services.certificates import find_certificate
    from coaching.services.credentials import certificate_pdf
    from tests.scale.helpers import app_for

    app = app_for(stack.server.database_url, stack.server.root)
    with app.app_context():
        certs = [find_certificate(i) for i in stack.certificate_ids(11)]
        render = iter(certs)
        return median_ms(lambda: certificate_pdf(next(render)), 10)


def bench_database(name: str, url: str, tmp: Path, content: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Every HTTP figure on one database."""
    print(f"== {name}: seeding {args.affiliates} affiliates and starting gunicorn", flush=True)
    stack = Stack(tmp / name, url, content, args.affiliates, args.attempts)
    figures: dict[str, Any] = {"seeded": stack.start()}
    figures["start s"] = figures["seeded"].pop("start to lesson s")
    figures["restart s"] = figures["seeded"].pop("restart to lesson s")
    try:
        print(f"== {name}: pages", flush=True)
        measure_pages(stack, args, figures)
        measure_certificates(stack, figures)
        measure_progress(stack, figures)
        print(f"== {name}: review queue and submissions", flush=True)
        reviews.measure(stack, args, figures)
        print(f"== {name}: quiz submissions", flush=True)
        measure_quiz(stack, args, figures)
        if name == "SQLite":
            figures["pdf function ms"] = pdf_in_process(stack)
        figures["server errors"] = len(stack.server.server_errors())
    finally:
        stack.server.stop()
    print(f"== {name}: certificate upload check and status list ({args.status_certificates:,} certificates)",
          flush=True)
    figures.update(credentials.measure(url, tmp / name / "credentials", certificates=args.status_certificates))
    print(f"== {name}: forgot-password and registration, known vs unknown email", flush=True)
    figures.update(accounts.measure(stack.server.database_url, stack.server.root, args.account_requests))
    return figures


def fmt(value: Any, kind: str) -> str:
    """Format one cell."""
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, load.Result):
        return {"rps": f"{value.rps:,.0f}", "p99": f"{value.p99_ms:,.0f} ms", "fail": f"{value.failures}"}[kind]
    if kind == "rps1":
        return f"{value:,.0f}"
    return f"{value:,.2f}" if kind in ("ratio", "ms2") else f"{value:,.0f}" if kind == "int" else f"{value:,.1f}"


def table(results: dict[str, dict[str, Any]], catalog: dict[str, float], tool: str) -> str:
    """The one table of figures."""
    sq, pg = results.get("SQLite", {}), results.get("PostgreSQL")
    rows = [
        ("gunicorn start (2 workers) to the first lesson page, s", "start s", "ms2", "empty render cache"),
        ("gunicorn restart to the first lesson page, s", "restart s", "ms2", "shared render cache"),
        ("bare Flask route (/bench/bare), anonymous, rps", "bare rps", "rps", ""),
        ("bare Flask route, the affiliate's cookie, rps", "bare signed-in rps", "rps", "user loaded, no-store"),
        ("lesson page (rendered per request), signed in, rps", "lesson rps", "rps", "no personal page cache"),
        ("rendered lesson page / signed-in bare route", "lesson/bare signed-in", "ratio", "goal >= 0.5"),
        ("rendered lesson page / anonymous bare route", "lesson/bare", "ratio", "signing in included"),
        ("bare route: signed-in client / anonymous", "bare signed-in/bare", "ratio", "cost of a session"),
        ("lesson page failed requests", "lesson rps", "fail", "must be 0"),
        ("quiz submit, rps", "quiz", "rps", ""),
        ("quiz submit / signed-in bare route", "quiz/bare signed-in", "ratio", "goal >= 0.3"),
        ("quiz submit, p99 latency", "quiz", "p99", "goal < 50 ms; 16 connections, one account"),
        ("quiz attempts accepted (303 to the attempt)", "quiz accepted", "int", ""),
        ("quiz attempts stored", "quiz stored", "int", ">= accepted (in flight at the end)"),
        ("quiz attempts lost / duplicated", "quiz lost/dup", "", "must be 0 / 0"),
        ("quiz failed requests", "quiz", "fail", "must be 0"),
        ("verification page, rps", "verify rps", "rps", ""),
        ("certificate PDF via HTTP, first download, median ms", "pdf http ms", "ms", "goal < 30"),
        ("certificate PDF via HTTP, downloaded again, median ms", "pdf again ms", "ms", "rendered again: nothing kept"),
        ("certificate PDF via coaching.credentials, median ms", "pdf function ms", "ms", "in-process"),
        *((label, key, "ms", note) for label, key, note in reports.ROWS),
        (f"review queue page ({reviews.QUEUE}), median ms", "queue ms", "ms", "2,000 waiting; aim < 200"),
        ("review queue, page 30, median ms", "queue deep ms", "ms", "deep OFFSET"),
        ("review queue in-process (review_queue.queue), median ms", "queue function ms", "ms", "count + 50 rows"),
        ("review page, median ms", "review page ms", "ms", "task, criteria, versions"),
        ("assignment draft save, rps", "draft", "rps", "wrk, one session, every request writes"),
        ("assignment draft save failed requests", "draft", "fail", "must be 0"),
        ("assignment submit (a new version each), rps", "submit rps", "rps1", "threads, a connection per request"),
        ("bare route, same client and sessions, rps", "bare same client rps", "rps1", "baseline of the line above"),
        ("submit / bare route, same client", "submit/bare", "ratio", ""),
        ("submissions accepted / stored", "submit accepted/stored", "", "must be equal"),
        ("submit failed requests", "submit failed", "int", "must be 0"),
        ("server log errors (tracebacks, locked database)", "server errors", "int", "must be 0"),
        ("verify an uploaded certificate PDF, POST /verify, median ms", "upload route ms", "ms",
         "goal < 50; in process (test client)"),
        ("  the same check without HTTP, median ms", "upload service ms", "ms", "pypdf, RS256, record lookups"),
        (f"status list of {sq.get('status list certificates', 0):,} certificates, GET /credentials/status/0, "
         "median ms", "status list route ms", "ms", "1 % revoked, 0.1 % withdrawn; built per request"),
        ("status list size (signed VC-JWT), bytes", "status list bytes", "int", "encodedList about half of it"),
        *((label, key, "ms2", note) for label, key, note in accounts.ROWS),
    ]
    for figures in (sq, pg or {}):
        if "submit accepted" in figures:
            figures["submit accepted/stored"] = f"{figures['submit accepted']} / {figures['submit stored']}"
        if "quiz" in figures:
            if figures.get("bare signed-in rps") and figures["bare signed-in rps"].rps:
                figures["quiz/bare signed-in"] = figures["quiz"].rps / figures["bare signed-in rps"].rps
            figures["quiz accepted"] = len(figures["quiz"].ids)
            figures["quiz lost/dup"] = f"{figures['quiz lost']} / {figures['quiz duplicated']}"
    lines = ["| figure | SQLite | PostgreSQL | note |", "|---|---|---|---|"]
    for label, key, kind, note in rows:
        lines.append(f"| {label} | {fmt(sq.get(key), kind)} | {fmt(pg.get(key), kind) if pg else 'not run'} | {note} |")
    lines.append(f"| catalog load, {catalog['lessons']} lessons, empty render cache, s | {catalog['seconds']:.2f} | | "
                 f"{catalog['errors']} content errors; fresh process, the first start ever |")
    lines.append(f"| catalog load, {catalog['lessons']} lessons, shared render cache, s | "
                 f"{catalog['warm seconds']:.2f} | | fresh process: a new worker or a restart; goal < 1 |")
    lines.append(f"| catalog load, RSS growth, MB | {catalog['mb']:.1f} / {catalog['warm mb']:.1f} | | "
                 "ru_maxrss delta, empty / shared cache |")
    lines.append(f"| grading a 10-question quiz, µs per submission | {catalog['grading us']:.0f} | | in-process, "
                 "choices, text and numbers |")
    for label, value, note in pdf_bench.rows(catalog):
        lines.append(f"| {label} | {value} | | {note} |")
    lines.append(f"\nload generator: {tool}; gunicorn 2 workers x 4 threads (gthread)")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Run every figure and print the table."""
    args = parse_args(argv)
    tool = "wrk (-t2)" if load.have_wrk() else "Python threads (wrk is not installed: apt-get install wrk)"
    print(f"machine: {machine()}\nload generator: {tool}", flush=True)
    began = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="coaching-bench.") as tmp_name:
        tmp = Path(tmp_name)
        content = write_catalog(tmp / "content", args.courses, args.lessons)
        reviews.write_course(content)
        catalog = catalog_load(content, tmp / "render-cache.sqlite3")
        catalog["grading us"] = grading_microseconds()
        catalog.update(pdf_bench.measure())
        results["SQLite"] = bench_database("SQLite", f"sqlite:///{tmp / 'bench.db'}", tmp, content, args)
        print("== the browser editor: preview and save-to-served", flush=True)
        editor_figures = authoring.run(tmp / "authoring")
        if not args.no_postgres:
            with postgres() as url:
                if url:
                    results["PostgreSQL"] = bench_database("PostgreSQL", url, tmp, content, args)
    seeded = results["SQLite"]["seeded"]
    text = (f"machine: {machine()}\n"
            f"data: {args.courses * args.lessons} lessons ({args.courses} courses), {seeded}\n"
            f"each load run: {args.seconds:.0f} s, {args.connections} connections (page figures: "
            f"{args.rounds} rounds of {max(2.0, args.seconds / args.rounds):.0f} s, taking turns)\n\n"
            + table(results, catalog, tool) + "\n\n" + "\n".join(
                ["| the browser editor | SQLite | | note |", "|---|---|---|---|", *authoring.table_rows(editor_figures)])
            + f"\n\nbench took {time.perf_counter() - began:.0f} s")
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
