"""One app instance in its own process: asks N times for a password reset for one address through the real
form, prints the status codes.

Usage: python tests/scale/mail_probe.py EMAIL N IP  (settings from the environment, as in production)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from coaching import create_app
from coaching.extensions import db
from tests.scale.helpers import USER_AGENT, hidden_value


def main(email: str, requests: int, ip: str) -> None:
    """Send `requests` reset requests for one address and print the statuses as JSON."""
    app = create_app()
    with app.app_context():
        db.create_all()  # a throwaway SQLite file
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    headers = {"User-Agent": USER_AGENT}
    statuses = []
    for _ in range(requests):
        token = hidden_value(client.get("/auth/forgot", headers=headers).get_data(as_text=True), "csrf_token")
        answer = client.post("/auth/forgot", headers=headers, data={"csrf_token": token, "email": email})
        statuses.append(answer.status_code)
    print(json.dumps(statuses))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
