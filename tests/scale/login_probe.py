"""One app instance in its own process: sends N failed logins through the real form, prints the status codes.

Usage: python tests/scale/login_probe.py EMAIL N IP  (settings from the environment, as in production)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from coaching import create_app
from coaching.extensions import db
from tests.scale.helpers import USER_AGENT, hidden_value


def main(email: str, attempts: int, ip: str) -> None:
    """Fail `attempts` logins for one account and print the statuses as JSON."""
    app = create_app()
    with app.app_context():
        db.create_all()  # a throwaway SQLite file: no account exists, every login fails
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    headers = {"User-Agent": USER_AGENT}
    statuses = []
    for _ in range(attempts):
        token = hidden_value(client.get("/auth/login", headers=headers).get_data(as_text=True), "csrf_token")
        answer = client.post("/auth/login", headers=headers,
                             data={"csrf_token": token, "email": email, "password": "wrong password 123"})
        statuses.append(answer.status_code)
    print(json.dumps(statuses))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
