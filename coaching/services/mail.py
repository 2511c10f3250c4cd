"""Outgoing mail: SMTP when MAIL_SERVER is set; in development the message goes to the log instead."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


def send_mail(to: str, subject: str, body: str, *, user_id: int | None = None) -> None:
    """Send a plain-text mail, or log it when no SMTP server is configured (never in production).

    `user_id` names the recipient's account (for the outbox; unused here).
    """
    config = current_app.config
    if current_app.testing:
        current_app.extensions.setdefault("coaching.outbox", []).append({"to": to, "subject": subject, "body": body})
        return
    if not config.get("MAIL_SERVER"):
        if config.get("PRODUCTION"):
            current_app.logger.error("MAIL_SERVER is not set: a mail to a user could not be sent")
        else:
            current_app.logger.warning("Mail (MAIL_SERVER unset, development): to=%s subject=%s\n%s", to, subject, body)
        return
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=15) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
