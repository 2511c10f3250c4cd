"""/healthz: each dependency by name, 503 while the app cannot do its job, any Host header."""
from __future__ import annotations

import os
from typing import Any


def test_healthz_503_when_signing_key_unreadable(app_factory: Any, tmp_path: Any) -> None:
    """A signing key file others may read (or a missing one in production) makes /healthz 503."""
    app = app_factory()
    assert app.test_client().get("/healthz").json["signing_key"] == "ok"  # loaded and cached
    os.chmod(app.config["SIGNING_KEY_FILE"], 0o644)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["signing_key"] == "unavailable"
    assert response.json["database"] == "ok"


def test_healthz_answers_a_load_balancer_by_ip_in_production(app_factory: Any) -> None:
    """With TRUSTED_HOSTS set, /healthz answers Host: 10.0.0.5 and localhost; other pages still refuse them."""
    app = app_factory(TRUSTED_HOSTS=["academy.example.com"], PROXY_FIX_HOPS=1)
    client = app.test_client()
    for host in ("10.0.0.5", "10.0.0.5:8000", "localhost", "127.0.0.1:8000"):
        response = client.get("/healthz", headers={"Host": host})
        assert response.status_code == 200 and response.json["database"] == "ok", host
        assert response.headers["Cache-Control"] == "no-store"
        assert client.get("/", headers={"Host": host}).status_code == 400, host
    forwarded = client.get("/healthz", headers={"Host": "10.0.0.5", "X-Forwarded-Host": "evil.example"})
    assert forwarded.status_code == 200
