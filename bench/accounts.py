"""Does the time of an answer tell who has an account? Forgot-password and registration, known vs unknown email.

    python -m bench.accounts [--requests 50] [--database URL]

Each figure is the median of N requests through the real forms (CSRF token, form validation, the service,
the commit, the redirect) in-process with the production password-hashing cost and rate limits off; known
and unknown requests take turns so that a drifting machine speed hits both alike. `make bench` runs this
on each database after the load figures (bench/__main__.py); alone it uses a throwaway SQLite file.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.scale.helpers import REPO, hidden_value

KNOWN_EMAIL = "bench-known@example.com"
PASSWORD = "a long enough passphrase for the bench"


def bench_app(database_url: str, root: Path, **overrides: Any) -> Any:
    """The app as production runs it (argon2 cost, mail only queued), rate limits off so 50 requests pass."""
    from coaching import create_app
    from config import Config

    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content"),
                "SIGNING_KEY_FILE": str(root / "bench-accounts-keys.json"), "RATELIMIT_ENABLED": False,
                "RATELIMIT_STORAGE_URI": "memory://", "MAIL_BACKEND": "log", "SECRET_KEY": "bench-accounts",
                "SITE_URL": "http://localhost", "TRUSTED_HOSTS": None, **overrides}
    return create_app(type("BenchAccountsConfig", (Config,), settings))


def _known_account(app: Any) -> None:
    """The account whose email counts as known."""
    from coaching.extensions import db
    from coaching.services.accounts import create_user, find_user_by_email

    with app.app_context():
        if find_user_by_email(KNOWN_EMAIL) is None:
            create_user(email=KNOWN_EMAIL, name="Bench Known", password=PASSWORD)
            db.session.commit()


def _timed_post(client: Any, path: str, data: dict[str, str]) -> float:
    """One POST, in milliseconds; it must be answered like a success (a redirect)."""
    started = time.perf_counter()
    response = client.post(path, data=data)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code in (302, 303), (path, response.status_code, response.get_data(as_text=True)[:300])
    return elapsed


def _pair(client: Any, path: str, token: str, requests: int, form: dict[str, str]) -> tuple[float, float, float]:
    """Median ms for the known and for an unknown email (a fresh one each time), taking turns, and the median
    of the differences within each pair (robust against the machine's speed drifting between pairs)."""
    known: list[float] = []
    unknown: list[float] = []
    for i in range(requests + 5):  # the first five of each warm up caches and connections
        fresh = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        times = {}
        for email in ((KNOWN_EMAIL, fresh) if i % 2 else (fresh, KNOWN_EMAIL)):
            times[email] = _timed_post(client, path, {"csrf_token": token, "email": email, **form})
        if i >= 5:
            known.append(times[KNOWN_EMAIL])
            unknown.append(times[fresh])
    paired = statistics.median(k - u for k, u in zip(known, unknown))
    return statistics.median(known), statistics.median(unknown), paired


def _run(app: Any, path: str, requests: int, form: dict[str, str]) -> tuple[float, float, float]:
    """Known vs unknown on one form of one app."""
    from coaching.extensions import db

    with app.app_context():
        db.create_all()  # a no-op on a migrated database
    _known_account(app)
    client = app.test_client()
    token = hidden_value(client.get(path).get_data(as_text=True), "csrf_token")
    try:
        return _pair(client, path, token, requests, form)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def measure(database_url: str, root: Path, requests: int = 50) -> dict[str, float]:
    """Medians and differences (ms) on one database: forgot-password, registration at the production hash cost,
    and registration with a cheap hash (the same code path without argon2's noise: the rest of the work)."""
    register_form = {"name": "Bench Person", "password": PASSWORD}
    forgot = _run(bench_app(database_url, root), "/auth/forgot", requests, {})
    register = _run(bench_app(database_url, root), "/auth/register", requests, register_form)
    cheap = _run(bench_app(database_url, root, ARGON2_TIME_COST=1, ARGON2_MEMORY_KIB=8192), "/auth/register",
                 requests, register_form)
    figures = {}
    for name, (known, unknown, paired) in (("forgot", forgot), ("register", register), ("register cheap", cheap)):
        figures.update({f"{name} known ms": known, f"{name} unknown ms": unknown,
                        f"{name} difference ms": known - unknown, f"{name} paired ms": paired})
    return figures


ROWS = (  # label, figure, note
    ("forgot password, known email, median ms", "forgot known ms", ""),
    ("forgot password, unknown email, median ms", "forgot unknown ms", ""),
    ("forgot password, difference of the medians, ms", "forgot difference ms", "goal: |x| < 1"),
    ("forgot password, median of paired differences, ms", "forgot paired ms", "goal: |x| < 1"),
    ("register, known email, median ms", "register known ms", "one argon2id hash at production cost"),
    ("register, unknown email, median ms", "register unknown ms", ""),
    ("register, difference of the medians, ms", "register difference ms", "goal: |x| < 1"),
    ("register, median of paired differences, ms", "register paired ms", "goal: |x| < 1"),
    ("register with a cheap hash, known email, median ms", "register cheap known ms", ""),
    ("register with a cheap hash, unknown email, median ms", "register cheap unknown ms", ""),
    ("register with a cheap hash, median of paired differences, ms", "register cheap paired ms",
     "the work besides hashing; goal: |x| < 1"),
)


def main(argv: list[str]) -> None:
    """Measure on the given database, or on a throwaway SQLite file."""
    parser = argparse.ArgumentParser(prog="python -m bench.accounts", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database", help="a database URL (default: a throwaway SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="coaching-bench-accounts.") as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'accounts.db'}"
        figures = measure(url, Path(tmp), args.requests)
    for label, key, note in ROWS:
        print(f"| {label} | {figures[key]:.2f} | {note} |")


if __name__ == "__main__":
    main(sys.argv[1:])
