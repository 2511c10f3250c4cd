"""Named counters that hand out numbers without races (status list indexes)."""
from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Counter(db.Model):
    """One named counter; `value` is the next number to hand out, advanced in SQL (`SET value = value + 1`)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
