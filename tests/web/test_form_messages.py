"""WTForms' own validator messages follow the reader's language (loaded once per app and language)."""
from __future__ import annotations

from typing import Any

from tests.conftest import csrf_token


def registration_errors(client: Any, language: str) -> str:
    """The registration page after sending it without a name, in `language`."""
    headers = {"Accept-Language": language}
    token = csrf_token(client.get("/auth/register", headers=headers).get_data(as_text=True))
    answer = client.post("/auth/register", headers=headers, data={
        "csrf_token": token, "email": "someone@example.com", "name": "", "password": "a long passphrase here",
        "confirm": "a long passphrase here"})
    assert answer.status_code == 400, answer.status_code
    return answer.get_data(as_text=True)


def test_required_field_message_in_german_and_english(client: Any) -> None:
    """The same empty field: "Dieses Feld wird benötigt." in German, "This field is required." in English,
    and again in German afterwards (the cached catalogs do not mix)."""
    assert "Dieses Feld wird benötigt." in registration_errors(client, "de")
    english = registration_errors(client, "en")
    assert "This field is required." in english and "Dieses Feld" not in english
    assert "Dieses Feld wird benötigt." in registration_errors(client, "de")
