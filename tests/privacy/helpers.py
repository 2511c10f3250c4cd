"""Helpers of the personal-data tests: database-wide searches and the deletion forms."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, String, Text, select

from coaching.extensions import db
from tests.conftest import csrf_token

EMAIL = "aff@example.com"
NAME = "Alex Affiliate"
PASSWORD = "correct horse battery"
WRONG_TEXT = "cost per click from alex"
ASSIGNMENT_TEXT = "Alex writes: the headline that sells tents"
REVIEW_COMMENT = "Alex, name the benefit in the headline"


def text_columns() -> list[Any]:
    """Every text or JSON column of every table."""
    return [column for table in db.metadata.sorted_tables for column in table.columns
            if isinstance(column.type, (String, Text, JSON))]


def find_everywhere(app: Any, *needles: str) -> list[tuple[str, str, Any]]:
    """(table, column, value) for every stored text/JSON value containing one of the needles (any case)."""
    found = []
    with app.app_context():
        for column in text_columns():
            for (value,) in db.session.execute(select(column).where(column.is_not(None))):
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if any(n.lower() in text.lower() for n in needles):
                    found.append((column.table.name, column.name, value))
    return found


def delete_own_account(client: Any, *, password: str = PASSWORD, certificates: str = "keep") -> Any:
    """Submit the delete-my-account form with its CSRF token."""
    token = csrf_token(client.get("/auth/delete").get_data(as_text=True))
    return client.post("/auth/delete", data={"csrf_token": token, "password": password,
                                             "certificates": certificates})


def manager_delete(client: Any, user_id: int, *, certificates: str = "keep", confirm: bool = True) -> Any:
    """POST the manager's delete form for a person."""
    token = csrf_token(client.get("/auth/profile").get_data(as_text=True))
    data = {"csrf_token": token, "certificates": certificates}
    if confirm:
        data["confirm"] = "y"
    return client.post(f"/manage/affiliates/{user_id}/delete", data=data)

