"""Redis for rate limits: down means per-worker limits with a warning (never a 500); key names hold no email."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Auth
from tests.scale.helpers import free_port


def add_user(app: Any, email: str = "aff@example.com") -> None:
    """Create an account in this app (the shared limiter follows the last app built: no second app here)."""
    from coaching.extensions import db
    from coaching.services.accounts import create_user

    with app.app_context():
        create_user(email=email, name="Alex Affiliate", password="correct horse battery")
        db.session.commit()


@pytest.fixture
def redis_down_app(app_factory: Any) -> Iterator[Any]:
    """An app whose rate-limit storage is a Redis URL on a port where nothing listens, with one account."""
    from coaching.extensions import limiter

    app = app_factory(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{free_port()}/0", LOGIN_FAILURES_PER_MINUTE=3)
    add_user(app)
    yield app
    # The Limiter is one object per process (one app in production); its "storage is down" mark would
    # otherwise stay on for the apps of later tests.
    limiter._storage_dead = False


def test_login_works_while_redis_is_down(redis_down_app: Any, caplog: pytest.LogCaptureFixture) -> None:
    """With Redis unreachable the right password signs in (302), a wrong one gets the form (400), never a 500."""
    with caplog.at_level(logging.WARNING):
        client = redis_down_app.test_client()
        assert Auth(client).login(password="wrong password!").status_code == 400
        assert Auth(client).login().status_code == 302
        assert client.get("/dashboard").status_code == 200
        assert Auth(redis_down_app.test_client()).register(email="new@example.com").status_code == 303  # check mail
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("storage unreachable" in message for message in warnings), warnings


def test_failed_logins_still_limited_per_worker_while_redis_is_down(redis_down_app: Any) -> None:
    """The failed-login limit keeps counting in this worker's memory: the limit+1st failure is 429."""
    client = redis_down_app.test_client()
    statuses = [Auth(client).login(password=f"wrong password {n}").status_code for n in range(4)]
    assert statuses == [400, 400, 400, 429]


def test_healthz_reports_redis_down_as_degraded(redis_down_app: Any) -> None:
    """/healthz names Redis as unavailable; the server still serves (200, "degraded"), see docs/deployment.md."""
    response = redis_down_app.test_client().get("/healthz", headers={"Host": "10.0.0.5"})
    assert response.status_code == 200
    assert response.json["redis"] == "unavailable" and response.json["status"] == "degraded"
    assert response.json["database"] == "ok" and response.json["signing_key"] == "ok"


@pytest.mark.redis
def test_redis_key_names_hold_no_email(app_factory: Any, redis_url: str) -> None:
    """Failed logins counted in Redis under keys with a keyed hash of the account, never the address."""
    import redis

    email = f"victim-{os.getpid()}@example.com"
    app = app_factory(RATELIMIT_STORAGE_URI=redis_url)
    add_user(app, email)
    assert Auth(app.test_client()).login(email=email, password="wrong password!").status_code == 400
    keys = [key.decode() for key in redis.Redis.from_url(redis_url).keys("*")]
    assert keys, "the failed login was not counted in Redis"
    assert not [key for key in keys if "@" in key or "victim" in key or "example.com" in key], keys
    with app.app_context():
        from coaching.services.throttle import account_key

        assert any(account_key(email) in key for key in keys), keys
