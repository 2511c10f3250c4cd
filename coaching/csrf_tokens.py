"""This browser session's CSRF token, signed once per session and process instead of on every request.

Flask-WTF signs the session's CSRF secret anew on every request (a fresh timestamp each time: about
0.1 ms). With `WTF_CSRF_TIME_LIMIT = None` that timestamp is never checked, so one signed token serves
the whole session; pages served from the lesson page cache take it from this bounded memo. With a time
limit set, every call signs anew, as Flask-WTF does.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app, session
from flask_wtf.csrf import generate_csrf


class SignedTokens:
    """Signed CSRF tokens by session secret (at most `size`, least recently used go first)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._signed: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid CSRF token for this session: the remembered one, or a newly signed one."""
        if current_app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
            return generate_csrf()
        secret = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if isinstance(secret, str):
            with self._lock:
                signed = self._signed.get(secret)
                if signed is not None:
                    self._signed.move_to_end(secret)
                    return signed
        return self.remember(generate_csrf())

    def remember(self, signed: str) -> str:
        """Keep the token Flask-WTF just signed for this session (the one a rendered page carries)."""
        secret = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if isinstance(secret, str):
            with self._lock:
                self._signed[secret] = signed
                self._signed.move_to_end(secret)
                while len(self._signed) > self.size:
                    self._signed.popitem(last=False)
        return signed
