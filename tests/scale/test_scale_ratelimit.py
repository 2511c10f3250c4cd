"""Failed-login limits and the limits on mails to an address across app instances: shared through Redis,
counted per process without it."""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scale.helpers import REPO, new_email

PROBE = Path(__file__).with_name("login_probe.py")
MAIL_PROBE = Path(__file__).with_name("mail_probe.py")
LIMIT = 5
MAIL_LIMIT = 3


def probe(script: Path, tmp_path: Path, name: str, storage: str, email: str, count: int, ip: str) -> list[int]:
    """Run one app instance in its own process and send `count` requests there; the statuses it got."""
    root = tmp_path / name
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACHING_", "DATABASE_URL", "REDIS_URL"))}
    env.update({"COACHING_INSTANCE": str(root), "DATABASE_URL": f"sqlite:///{root / 'app.db'}",
                "SECRET_KEY": "probe-shared-secret",  # app servers of one deployment share it
                "CONTENT_DIR": str(REPO / "tests" / "fixtures" / "content"),
                "RATELIMIT_STORAGE_URI": storage, "LOGIN_FAILURES_PER_MINUTE": str(LIMIT),
                "ACCOUNT_MAILS_PER_HOUR": str(MAIL_LIMIT), "MAIL_BACKEND": "log"})
    done = subprocess.run([sys.executable, str(script), email, str(count), ip], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def failed_logins(tmp_path: Path, name: str, storage: str, email: str, count: int, ip: str) -> list[int]:
    """Run one app instance in its own process and fail `count` logins there; the statuses it got."""
    return probe(PROBE, tmp_path, name, storage, email, count, ip)


def reset_requests(tmp_path: Path, name: str, storage: str, email: str, count: int, ip: str) -> list[int]:
    """Run one app instance in its own process and ask `count` times for a reset link; the statuses it got."""
    return probe(MAIL_PROBE, tmp_path, name, storage, email, count, ip)


def random_ip() -> str:
    """A client address no other test run has used within the last minute."""
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.mark.redis
def test_redis_shares_failed_login_count_between_instances(tmp_path: Path, redis_url: str) -> None:
    """Two separate app instances on one Redis: failures counted on the first block the second (429)."""
    email, ip = new_email("victim"), random_ip()
    first = failed_logins(tmp_path, "first", redis_url, email, LIMIT, ip)
    assert first == [400] * LIMIT
    second = failed_logins(tmp_path, "second", redis_url, email, 1, ip)
    assert second == [429]


def test_memory_storage_counts_per_process(tmp_path: Path) -> None:
    """Without Redis each process counts alone (documented in docs/deployment.md): the second is not blocked."""
    email, ip = new_email("victim"), random_ip()
    assert failed_logins(tmp_path, "first", "memory://", email, LIMIT, ip) == [400] * LIMIT
    assert failed_logins(tmp_path, "second", "memory://", email, 1, ip) == [400]
    assert failed_logins(tmp_path, "third", "memory://", email, LIMIT + 1, ip)[-1] == 429


@pytest.mark.redis
def test_redis_shares_the_mail_limit_between_instances(tmp_path: Path, redis_url: str) -> None:
    """Reset requests for one address counted by one instance block the next instance too (429), from another IP."""
    email = new_email("inbox")
    assert reset_requests(tmp_path, "first", redis_url, email, MAIL_LIMIT, random_ip()) == [302] * MAIL_LIMIT
    assert reset_requests(tmp_path, "second", redis_url, email, 1, random_ip()) == [429]


def test_memory_storage_counts_mails_per_process(tmp_path: Path) -> None:
    """Without Redis each process counts the mails to an address alone; within one process the limit holds."""
    email = new_email("inbox")
    assert reset_requests(tmp_path, "first", "memory://", email, MAIL_LIMIT, random_ip()) == [302] * MAIL_LIMIT
    assert reset_requests(tmp_path, "second", "memory://", email, 1, random_ip()) == [302]
    assert reset_requests(tmp_path, "third", "memory://", email, MAIL_LIMIT + 1, random_ip())[-1] == 429
