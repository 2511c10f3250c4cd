"""Pages of rows: one Page type for every paged list of the app (reports, audit log, invites)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from ..extensions import db

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class Page:
    """One page of report rows; quacks like Flask-SQLAlchemy's Pagination for the pagination macro."""

    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        """True when there is a page before this one."""
        return self.page > 1

    @property
    def has_next(self) -> bool:
        """True when there is a page after this one."""
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        """The previous page number."""
        return self.page - 1

    @property
    def next_num(self) -> int:
        """The next page number."""
        return self.page + 1


def clamp_page(page: int, per_page: int, total: int) -> int:
    """A page number between 1 and the last page."""
    last = max(1, math.ceil(total / per_page))
    return min(max(1, page), last)


def page_of(query: Select, *, page: int, per_page: int) -> Page:
    """One page of the rows (ORM objects) a query selects, with the total count; the page is clamped."""
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = clamp_page(page, per_page, total)
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, page, per_page, total)
