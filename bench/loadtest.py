"""`make loadtest`: a training day against gunicorn on PostgreSQL with Redis, driven by wrk (not part of CI).

    python -m bench.loadtest [--affiliates 2000] [--day-seconds 120] [--capacity-seconds 60] [--output FILE]

What it does, all on 127.0.0.1 and bounded in time (each wrk run has a duration and a request cap):

1. starts a throwaway PostgreSQL cluster (bench/pg.py, or BENCH_DATABASE_URL) and a Redis server on private ports,
   writes a generated catalog (bench/generate.py), migrates with `flask db upgrade`;
2. seeds by SQL, not by requests: the affiliates with progress and attempts (bench/generate.py), certificates for a
   share of them, and the managers; signed-in sessions are made in process with the server's secret key (the very
   cookie a login would set: Flask-Login's session and a CSRF token), since 2,000 logins would be 2,000 argon2
   hashes before the test starts;
3. starts gunicorn as `make bench` does (2 workers x 4 threads, gthread) on the real app (wsgi:app), with
   REDIS_URL (rate limits and login throttling in Redis) and PROXY_FIX_HOPS=1: every person sends their own
   X-Forwarded-For address, as nginx would pass it on, so per-address limits apply per person;
4. runs wrk with bench/loadtest.lua: a short warm-up, then the training day (every affiliate active, paced by an
   exponential think time to --rpm requests per affiliate per minute, managers at --manager-rpm), then a capacity
   run (the same mix with no think time);
5. prints throughput, p50/p95/p99 per kind of request, errors (must be 0), lost or doubled quiz submissions
   (must be 0: every attempt id a redirect named is in the database once, under the submission id sent), the CPU
   each part used (wrk shares the 2 cores with the server, PostgreSQL and Redis), and how many servers 10,000 and
   100,000 affiliates need under the stated assumptions.

The kinds of request, with their weights (share of the choices an active affiliate makes):
lesson page, quiz submission (followed by its result page), dashboard, course page, certificate PDF download,
sign-in (argon2 at production cost, throttle checks in Redis), and manager reports (overview, progress matrix,
question analysis, affiliates list). docs/performance.md records a run.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import sqlalchemy as sa

from bench.generate import PASSWORD, _certificate, seed_data, write_catalog
from bench.pg import postgres
from tests.scale.helpers import (
    REPO,
    RIGHT_TEXT,
    USER_AGENT,
    Browser,
    Server,
    free_port,
    hidden_value,
    quiz_answers,
)

LUA = Path(__file__).resolve().parent / "loadtest.lua"
# Share of an affiliate's choices per kind (a quiz submission brings its result page along).
AFFILIATE_WEIGHTS = {"lesson": 46, "quiz": 14, "dashboard": 14, "course": 10, "certificate": 4, "signin": 1}
KINDS = ("lesson", "quiz", "result", "dashboard", "course", "certificate", "signin", "report")
THINK_CAP_MS = 4000  # below gunicorn's keep-alive of 5 s


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.splitlines()[0])
    parser.add_argument("--affiliates", type=int, default=2000, help="affiliates active on the training day")
    parser.add_argument("--managers", type=int, default=10, help="managers opening reports meanwhile")
    parser.add_argument("--courses", type=int, default=10)
    parser.add_argument("--lessons", type=int, default=20, help="lessons per course")
    parser.add_argument("--certificate-share", type=float, default=0.3,
                        help="share of affiliates holding a certificate they download")
    parser.add_argument("--rpm", type=float, default=2.0, help="requests per active affiliate per minute")
    parser.add_argument("--manager-rpm", type=float, default=2.0, help="requests per manager per minute")
    parser.add_argument("--pass-share", type=float, default=0.6, help="share of quiz submissions that pass")
    parser.add_argument("--warmup-seconds", type=int, default=10)
    parser.add_argument("--day-seconds", type=int, default=120)
    parser.add_argument("--day-connections", type=int, default=32)
    parser.add_argument("--capacity-seconds", type=int, default=60)
    parser.add_argument("--capacity-connections", type=int, default=24)
    parser.add_argument("--peak-share", type=float, default=0.25,
                        help="share of all affiliates active in the peak hour (for the servers estimate)")
    parser.add_argument("--utilization", type=float, default=0.7,
                        help="planned CPU utilization of a server at the peak (for the servers estimate)")
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap on the requests of one wrk run")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    return parser.parse_args(argv)


# --- the throwaway services -----------------------------------------------------------------------------------

@contextmanager
def redis_server(root: Path) -> Iterator[tuple[str, int]]:
    """A Redis on a private port without persistence; yields its URL and pid; stops only that process."""
    port = free_port()
    log = (root / "redis.log").open("ab")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(root)], stdout=log, stderr=log,
                               start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start: {(root / 'redis.log').read_text()}") from None
                time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0", process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


# --- CPU accounting -------------------------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of one process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def tree_cpu(root: int | None) -> float:
    """CPU seconds used so far by a process and all its descendants that are alive."""
    if root is None:
        return 0.0
    stats = {int(p.name): s for p in Path("/proc").iterdir() if p.name.isdigit() and (s := _stat(int(p.name)))}
    total, frontier = 0.0, {root}
    while frontier:
        total += sum(stats[pid][1] for pid in frontier if pid in stats)
        frontier = {pid for pid, (parent, _cpu) in stats.items() if parent in frontier}
    return total


def postmaster_pid(url: str) -> int | None:
    """The pid of the PostgreSQL server listening on the URL's port (its cmdline names the port)."""
    port = sa.make_url(url).port
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and b"-p" in args and str(port).encode() in args:
            return int(proc.name)
    return None


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


class Meter:
    """CPU seconds of wrk, gunicorn, PostgreSQL, Redis and the whole machine over one run."""

    def __init__(self, gunicorn: int, postgres_pid: int | None, redis_pid: int | None) -> None:
        self.pids = {"gunicorn": gunicorn, "PostgreSQL": postgres_pid, "Redis": redis_pid}

    def read(self) -> dict[str, float]:
        """The counters now (wrk is a finished child by the time it is read again)."""
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        busy, total = machine_busy()
        return {"wrk": children.ru_utime + children.ru_stime, "machine busy": busy, "machine total": total,
                **{name: tree_cpu(pid) for name, pid in self.pids.items()}}

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """CPU seconds per part between two readings; "other" is what the rest of the machine used."""
        used = {name: after[name] - before[name] for name in before}
        used["other"] = used["machine busy"] - sum(used[n] for n in ("wrk", "gunicorn", "PostgreSQL", "Redis"))
        return used


# --- seeding --------------------------------------------------------------------------------------------------

def seed(url: str, catalog: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The affiliates (bench/generate.py), certificates for a share of them, and the managers, by SQL."""
    from coaching.credentials.ids import new_certificate_id
    from coaching.services.accounts import hash_password

    counts = seed_data(url, catalog, affiliates=args.affiliates, course_slug=catalog.courses[0].slug)
    rng = random.Random(21)
    engine = sa.create_engine(url)
    metadata = sa.MetaData()
    metadata.reflect(engine, only=["users", "certificates"])
    users, certificates = metadata.tables["users"], metadata.tables["certificates"]
    now = datetime.now(UTC)
    course = catalog.courses[1] if len(catalog.courses) > 1 else catalog.courses[0]
    with engine.begin() as conn:
        holders = {row[0] for row in conn.execute(sa.select(certificates.c.user_id))}
        affiliates = [row[0] for row in conn.execute(
            sa.select(users.c.id).where(users.c.email.like("bench-%")).order_by(users.c.id))]
        extra = [_certificate(user_id, course, now, new_certificate_id()) for user_id in affiliates
                 if user_id not in holders and rng.random() < args.certificate_share]
        if extra:
            conn.execute(certificates.insert(), extra)
        shared_hash = hash_password(PASSWORD)
        conn.execute(users.insert(), [
            {"email": f"manager-{i:03d}@example.com", "name": f"Load Manager {i:03d}", "password_hash": shared_hash,
             "role": "manager", "active": True, "session_token": os.urandom(18).hex(), "created_at": now}
            for i in range(args.managers)])
    engine.dispose()
    counts["certificates"] += len(extra)
    counts["managers"] = args.managers
    return counts


def client_ip(user_id: int) -> str:
    """A stable private address per person (sent as X-Forwarded-For)."""
    return f"10.{(user_id >> 16) & 255}.{(user_id >> 8) & 255}.{user_id & 255}"


def forge_sessions(server: Server) -> dict[str, Any]:
    """Signed-in session cookies and CSRF tokens for every seeded person, and anonymous ones to sign in with."""
    from flask import g, session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from coaching import create_app
    from coaching.extensions import db
    from coaching.models import Certificate, User
    from config import TestConfig

    settings = {"SQLALCHEMY_DATABASE_URI": server.database_url, "SECRET_KEY": server.secret_key(),
                "CONTENT_DIR": server.env()["CONTENT_DIR"], "SIGNING_KEY_FILE": str(server.root / "keys.json"),
                "PAGES_DIR": str(REPO / "content" / "pages")}
    app = create_app(type("LoadTestConfig", (TestConfig,), settings))
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]

    def cookie(user: Any | None, ip: str | None) -> tuple[str, str]:
        headers = {"User-Agent": USER_AGENT, **({"X-Forwarded-For": ip} if ip else {})}
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
            # The request shares the outer app context, whose `g` would hand every person the first one's token.
            g.pop("csrf_token", None)
            g.pop("_login_user", None)
            if user is not None:
                login_user(user)
            token = generate_csrf()
            return f"{cookie_name}={serializer.dumps(dict(session))}", token

    people: dict[str, Any] = {"users": [], "managers": [], "anon": []}
    with app.app_context():
        certs = {user_id: cert_id for user_id, cert_id in db.session.execute(
            sa.select(Certificate.user_id, Certificate.id).order_by(Certificate.id))}
        for user in db.session.scalars(sa.select(User).order_by(User.id)):
            ip = client_ip(user.id)
            value, token = cookie(user, ip)
            entry = {"c": value, "t": token, "ip": ip}
            if user.role == "manager":
                people["managers"].append(entry)
            elif user.email.startswith("bench-"):
                entry["cert"] = certs.get(user.id, "")
                people["users"].append(entry)
                if len(people["anon"]) < 300:
                    value, token = cookie(None, ip)
                    people["anon"].append({"c": value, "t": token, "ip": ip, "email": quote_plus(user.email)})
        probe_user = db.session.scalar(sa.select(User).where(User.email.like("bench-%")).order_by(User.id))
        people["probe"] = cookie(probe_user, None)[0]
        db.session.remove()
        db.engine.dispose()
    people["holders"] = [i + 1 for i, entry in enumerate(people["users"]) if entry["cert"]]
    return people


def quiz_forms(server: Server, probe_cookie: str, catalog: Any, sample: int) -> list[dict[str, str]]:
    """The quiz version and right/wrong answers of `sample` quiz lessons, read from their pages as a browser would."""
    name, _, value = probe_cookie.partition("=")
    browser = Browser(server.base, {name: value})
    lessons = [(course.slug, lesson.slug) for course in catalog.courses for lesson in course.lessons
               if lesson.text(course.language)[0].quiz is not None]
    forms = []
    for course_slug, lesson_slug in random.Random(7).sample(lessons, min(sample, len(lessons))):
        path = f"/courses/{course_slug}/{lesson_slug}"
        page = browser.get(path)
        assert page.status == 200, (path, page.status)
        right = quiz_answers(page.body, correct=True)
        wrong = quiz_answers(page.body, correct=False)
        text = next(name for name, value in right if value == RIGHT_TEXT)
        forms.append({"path": path + "/quiz", "v": quote_plus(hidden_value(page.body, "quiz_version")), "text": text,
                      "right": urlencode([(n, v) for n, v in right if n != text]),
                      "wrong": urlencode([(n, v) for n, v in wrong if n != text])})
    return forms


def check_sessions(server: Server, people: dict[str, Any]) -> None:
    """A forged affiliate and manager session open their pages (else the run would measure redirects)."""
    for entry, path in ((people["users"][0], "/dashboard"), (people["managers"][0], "/manage/")):
        name, _, value = entry["c"].partition("=")
        answer = Browser(server.base, {name: value}).get(path)
        assert answer.status == 200, f"a seeded session does not open {path}: {answer.status} {answer.location}"


# --- the runs -------------------------------------------------------------------------------------------------

def lua(value: Any) -> str:
    """A Lua literal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{json.dumps(k)}] = {lua(v)}" for k, v in value.items()) + "}"
    return "{" + ", ".join(lua(v) for v in value) + "}"


def _quiz_share() -> float:
    """Share of an affiliate's choices that are quiz submissions (each brings a result page: two requests)."""
    return AFFILIATE_WEIGHTS["quiz"] / sum(AFFILIATE_WEIGHTS.values())


def kind_weights(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Weights of the choices per minute: affiliates' split by AFFILIATE_WEIGHTS, then the managers' reports.

    --rpm counts every request of an affiliate, result pages included; --manager-rpm every report.
    """
    affiliate_choices = args.affiliates * args.rpm / (1 + _quiz_share())
    total = sum(AFFILIATE_WEIGHTS.values())
    weights = [{"name": kind, "weight": weight / total * affiliate_choices} for kind, weight in AFFILIATE_WEIGHTS.items()]
    weights.append({"name": "report", "weight": args.managers * args.manager_rpm})
    return weights


def target_rps(args: argparse.Namespace) -> float:
    """The training day's request rate: every affiliate and manager at their rate."""
    return (args.affiliates * args.rpm + args.managers * args.manager_rpm) / 60


def mean_think_ms(args: argparse.Namespace, connections: int) -> float:
    """The mean think time per connection that paces `connections` to the training day's rate of choices."""
    choices_per_second = sum(kind["weight"] for kind in kind_weights(args)) / 60
    return 1000 * connections / choices_per_second


def scenario_data(people: dict[str, Any], catalog: Any, quizzes: list[dict[str, str]], weights: list[dict[str, Any]],
                  *, pass_share: float) -> dict[str, Any]:
    """What bench/loadtest.lua reads: the people, the pages, the quiz forms and the weights of the kinds."""
    first = catalog.courses[0]
    return {"seed": 21, "agent": USER_AGENT, "password": quote_plus(PASSWORD), "pass_share": pass_share,
            "users": people["users"], "managers": people["managers"], "anon": people["anon"],
            "holders": people["holders"], "all_kinds": list(KINDS), "kinds": weights,
            "lessons": [f"/courses/{course.slug}/{lesson.slug}" for course in catalog.courses
                        for lesson in course.lessons],
            "courses": [f"/courses/{course.slug}" for course in catalog.courses],
            "quizzes": quizzes,
            "reports": ["/manage/", f"/manage/courses/{first.slug}",
                        f"/manage/courses/{first.slug}/{first.lessons[min(5, len(first.lessons) - 1)].slug}/questions",
                        "/manage/affiliates"]}


def run_phase(name: str, server: Server, data: dict[str, Any], meter: Meter, tmp: Path, *, seconds: int,
              connections: int, think_ms: float, run_id: str, cap: int) -> dict[str, Any]:
    """One wrk run of the scenario; its figures per kind and the CPU each part used.

    Submission ids are `run_id-thread-count`; the quiz form wants at least 8 characters, hence run_id >= 4.
    The result names the run id its submissions carry (`run_id`, changed when wrk had to be started again).
    """
    assert len(run_id) >= 4, run_id
    data = {**data, "run": run_id, "think_ms": think_ms, "think_cap_ms": THINK_CAP_MS,
            "cap": max(1, cap // connections)}
    data_file, out = tmp / f"{name}.lua", tmp / f"{name}.json"
    data_file.write_text("return " + lua(data) + "\n")
    command = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
               "-s", str(LUA), f"http://127.0.0.1:{server.port}", "--", str(data_file), str(out)]
    print(f"== {name}: {connections} connections for {seconds} s"
          + (f", think time {think_ms:.0f} ms on average" if think_ms else ", no think time"), flush=True)
    for retry in range(2):
        before = meter.read()
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 300)
        used = Meter.delta(before, meter.read())
        if done.returncode < 0 and retry == 0:
            # wrk itself died by a signal (Debian's wrk 4.1 segfaulted once in about twenty runs here, in its Lua
            # glue, never our server): run the phase again under a new run id, so that the attempts of the
            # broken run are not counted with the new one; say so loudly.
            print(f"== {name}: wrk died by signal {-done.returncode}; running the phase again", flush=True)
            run_id = f"{run_id}x"
            data["run"] = run_id
            data_file.write_text("return " + lua(data) + "\n")
            continue
        break
    if done.returncode != 0 or not out.exists():
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    try:
        raw = json.loads(out.read_bytes())
    except ValueError as error:
        kept = Path(tempfile.gettempdir()) / f"loadtest-{name}-{int(time.time())}.json"
        shutil.copy(out, kept)
        raise RuntimeError(f"wrk's result file is not JSON ({error}); kept as {kept}") from None
    wall = raw["duration_us"] / 1e6
    kinds = {}
    for kind in KINDS:
        samples = sorted(raw["kinds"].get(kind, {}).get("latency_us", []))
        kinds[kind] = {"requests": len(samples), "errors": raw["kinds"].get(kind, {}).get("errors", 0),
                       **{f"p{q}": percentile(samples, q) / 1000 for q in (50, 95, 99)},
                       "max": (samples[-1] / 1000) if samples else 0.0}
    socket_errors = raw["connect_errors"] + raw["read_errors"] + raw["write_errors"] + raw["timeouts"]
    return {"name": name, "run_id": run_id, "seconds": wall, "requests": raw["requests"], "rps": raw["requests"] / wall,
            "kinds": kinds, "socket errors": socket_errors, "acks": raw["acks"], "bad": raw["bad"],
            "cpu": used, "connections": connections, "think_ms": think_ms,
            "errors": sum(k["errors"] for k in kinds.values()) + socket_errors}


def percentile(ordered: list[int], q: float) -> float:
    """Nearest-rank percentile of a sorted list (0 when empty)."""
    if not ordered:
        return 0.0
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def check_writes(url: str, run_id: str, acks: list[str]) -> dict[str, int]:
    """Every accepted quiz submission (the attempt id the redirect named) is stored once, under its submission id."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, submission_id FROM quiz_attempts WHERE submission_id LIKE :p"),
                            {"p": run_id + "-%"}).all()
    engine.dispose()
    stored = {row[0]: row[1] for row in rows}
    pairs = [ack.split("=", 1) for ack in acks if "=" in ack and ack.split("=", 1)[1].isdigit()]
    unreadable = [ack for ack in acks if not ("=" in ack and ack.split("=", 1)[1].isdigit())]
    if unreadable:  # the script's record of an accepted submission came back damaged: say so, count it
        sys.stderr.write(f"{len(unreadable)} unreadable acknowledgements, e.g. {unreadable[:5]!r}\n")
    acked_ids = [int(attempt) for _sid, attempt in pairs]
    lost = sum(1 for sid, attempt in pairs if stored.get(int(attempt)) != sid)
    doubled = (len(rows) - len(set(stored.values()))) + (len(acked_ids) - len(set(acked_ids)))
    return {"accepted": len(pairs), "stored": len(rows), "lost": lost + len(unreadable), "doubled": doubled,
            "in flight": len(set(stored.values()) - {sid for sid, _ in pairs})}


# --- the report -----------------------------------------------------------------------------------------------

def phase_table(result: dict[str, Any]) -> list[str]:
    """The per-kind table of one run."""
    lines = ["| kind of request | requests | per second | p50 ms | p95 ms | p99 ms | max ms | errors |",
             "|---|---|---|---|---|---|---|---|"]
    for kind in KINDS:
        k = result["kinds"][kind]
        if not k["requests"] and not k["errors"]:
            continue
        lines.append(f"| {kind} | {k['requests']:,} | {k['requests'] / result['seconds']:,.1f} | {k['p50']:,.1f} | "
                     f"{k['p95']:,.1f} | {k['p99']:,.1f} | {k['max']:,.0f} | {k['errors']} |")
    all_samples = result["requests"]
    lines.append(f"| **all** | {all_samples:,} | {result['rps']:,.1f} | | | | | {result['errors']} |")
    return lines


def cpu_lines(result: dict[str, Any]) -> list[str]:
    """CPU each part used during a run, as a share of the machine's capacity and per request."""
    cpu, seconds = result["cpu"], result["seconds"]
    capacity = cpu["machine total"]  # CPU seconds the cores offered during the run
    parts = ["wrk", "gunicorn", "PostgreSQL", "Redis", "other"]
    shares = ", ".join(f"{part} {100 * cpu[part] / capacity:.0f} %" for part in parts)
    per_request = ", ".join(f"{part} {1000 * cpu[part] / max(1, result['requests']):.2f}"
                            for part in ("wrk", "gunicorn", "PostgreSQL", "Redis"))
    return [f"CPU over {seconds:.0f} s ({os.cpu_count()} cores, {capacity:.0f} CPU-seconds): {shares} "
            f"(the load generator's own share is the wrk figure; other = the rest of this shared machine)",
            f"CPU ms per request: {per_request}"]


def servers_needed(args: argparse.Namespace, capacity: dict[str, Any]) -> list[str]:
    """How many servers 10,000 and 100,000 affiliates need, from the CPU each request cost in the capacity run.

    CPU per request, not the run's throughput, is the measure: the machine is shared (the "other" CPU share of
    the run), and the load generator runs on it too; neither is there in production.
    """
    cpu, requests = capacity["cpu"], max(1, capacity["requests"])
    app_ms = 1000 * cpu["gunicorn"] / requests
    db_ms = 1000 * (cpu["PostgreSQL"] + cpu["Redis"]) / requests
    cores = os.cpu_count() or 2
    budget = cores * args.utilization * 1000  # CPU ms a server spends per second at the planned utilization
    box_rps = budget / (app_ms + db_ms)
    managers_factor = 1 + (args.managers * args.manager_rpm) / max(1, args.affiliates * args.rpm)
    lines = [
        f"Measure: CPU per request in the capacity run, gunicorn {app_ms:.1f} ms, PostgreSQL and Redis {db_ms:.1f} ms "
        f"(this run reached {capacity['rps']:,.0f} requests per second while other processes took "
        f"{100 * cpu['other'] / cpu['machine total']:.0f} % and wrk {100 * cpu['wrk'] / cpu['machine total']:.0f} % "
        f"of the machine). A server is planned at {100 * args.utilization:.0f} % CPU at the peak: a {cores}-core "
        f"server with gunicorn, PostgreSQL and Redis serves about {box_rps:,.0f} requests per second of this mix.",
        f"Assumptions: {100 * args.peak_share:.0f} % of all affiliates active in the peak hour, {args.rpm:g} "
        f"requests per active affiliate per minute (the mix above: lesson pages, quiz submissions with their "
        f"results, dashboard, course pages, certificate downloads, sign-ins), managers adding "
        f"{100 * (managers_factor - 1):.1f} % (one per {args.affiliates // max(1, args.managers):,} affiliates at "
        f"{args.manager_rpm:g} reports per minute).",
        "",
        "| affiliates | active in the peak hour | requests per second | servers |",
        "|---|---|---|---|",
    ]
    for population in (args.affiliates, 10_000, 100_000):
        active = population * args.peak_share
        demand = active * args.rpm / 60 * managers_factor
        if demand <= box_rps:
            servers = (f"one {cores}-core server with gunicorn, PostgreSQL and Redis (about "
                       f"{100 * args.utilization * demand / box_rps:.0f} % CPU at the peak)")
        else:
            app_servers = math.ceil(demand * app_ms / budget)
            db_cores = math.ceil(demand * db_ms / (1000 * args.utilization))
            servers = (f"{app_servers} {cores}-core app servers behind the load balancer, and one database server "
                       f"(PostgreSQL and Redis) with {max(2, db_cores)} cores")
        lines.append(f"| {population:,} | {active:,.0f} | {demand:,.1f} | {servers} |")
    lines += ["", "Beyond one server, app servers are sized by gunicorn's CPU per request and the database server by "
              "PostgreSQL's and Redis's, each at the planned utilization (the app keeps no state between requests; "
              "docs/deployment.md). The database figure counts CPU only: memory for the working set and the "
              "disk's commit latency decide as much there."]
    return lines


def report(args: argparse.Namespace, setup: dict[str, Any], runs: list[dict[str, Any]],
           writes: dict[str, dict[str, int]], server_errors: list[str]) -> str:
    """The whole printed report."""
    from bench.__main__ import machine

    day, capacity = runs
    lines = [f"machine: {machine()}",
             "load generator: wrk (one connection per thread, bench/loadtest.lua); gunicorn 2 workers x 4 threads "
             "(gthread), wsgi:app; PostgreSQL 15 and Redis on the same machine",
             f"data: {args.courses * args.lessons} lessons ({args.courses} courses); seeded {setup['seeded']}; "
             f"setup took {setup['seconds']:.0f} s", ""]
    for result in (day, capacity):
        title = ("Training day: every affiliate active" if result is day else "Capacity: the same mix, no think time")
        lines += [f"### {title} ({result['connections']} connections, {result['seconds']:.0f} s)", ""]
        lines += phase_table(result)
        w = writes[result["name"]]
        lines += ["", f"quiz submissions: {w['accepted']:,} accepted, {w['stored']:,} stored, lost {w['lost']}, "
                  f"doubled {w['doubled']} (must be 0 / 0; {w['in flight']} stored while wrk stopped)",
                  *cpu_lines(result), ""]
        if result["bad"]:
            lines.append("unexpected answers (first ones): " + "; ".join(result["bad"]))
            lines.append("")
    lines.append(f"server log errors (tracebacks, worker timeouts): {len(server_errors)} (must be 0)")
    lines += [f"the training day asked for {target_rps(args):,.1f} requests per second and got {day['rps']:,.1f}",
              "", "### Servers needed", "", *servers_needed(args, capacity)]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Set up, run the warm-up, the training day and the capacity run, check the writes, print the report."""
    args = parse_args(argv)
    for tool, package in (("wrk", "wrk"), ("redis-server", "redis-server")):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed: apt-get install -y {package}", file=sys.stderr)
            return 2
    from coaching.content import load_catalog

    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coaching-loadtest.") as tmp_name, postgres() as url:
        if url is None:
            print("PostgreSQL is needed (run as root with postgresql-15 installed, or set BENCH_DATABASE_URL)",
                  file=sys.stderr)
            return 2
        tmp = Path(tmp_name)
        content = write_catalog(tmp / "content", args.courses, args.lessons)
        with redis_server(tmp) as (redis_url, redis_pid):
            server = Server(root=tmp / "server", database_url=url, workers=2, threads=4, app_module="wsgi:app",
                            extra_env={"CONTENT_DIR": str(content), "REDIS_URL": redis_url,
                                       "RATELIMIT_STORAGE_URI": redis_url, "PROXY_FIX_HOPS": "1"})
            print(f"== setup: schema, {args.affiliates:,} affiliates by SQL, sessions", flush=True)
            server.prepare()
            catalog = load_catalog(content)
            seeded = seed(url, catalog, args)
            people = forge_sessions(server)
            server.start()
            try:
                check_sessions(server, people)
                data = scenario_data(people, catalog, quiz_forms(server, people["probe"], catalog, 40),
                                     kind_weights(args), pass_share=args.pass_share)
                setup = {"seeded": seeded, "seconds": time.perf_counter() - began}
                meter = Meter(server.process.pid, postmaster_pid(url), redis_pid)
                stamp = f"lt{int(time.time())}"
                think = mean_think_ms(args, args.day_connections)
                run_phase("warm-up", server, data, meter, tmp, seconds=args.warmup_seconds,
                          connections=args.day_connections, think_ms=think, run_id=stamp + "w", cap=args.max_requests)
                runs, writes = [], {}
                for name, seconds, connections, pause in (
                        ("day", args.day_seconds, args.day_connections, think),
                        ("capacity", args.capacity_seconds, args.capacity_connections, 0.0)):
                    result = run_phase(name, server, data, meter, tmp, seconds=seconds, connections=connections,
                                       think_ms=pause, run_id=f"{stamp}{name[0]}", cap=args.max_requests)
                    time.sleep(1)  # the last submissions commit
                    writes[name] = check_writes(url, result["run_id"], result["acks"])
                    runs.append(result)
                server_errors = server.server_errors()
            finally:
                server.stop()
    text = report(args, setup, runs, writes, server_errors) + f"\n\nload test took {time.perf_counter() - began:.0f} s"
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n")
    failed = any(r["errors"] for r in runs) or any(w["lost"] or w["doubled"] for w in writes.values()) or server_errors
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
