"""The tables of the agents' side."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from otp_bot.store.models.base import Base

if TYPE_CHECKING:  # the other side of a relationship; SQLAlchemy resolves it by name
    from otp_bot.store.models.chart import Holder


class ApiToken(Base):
    """A bearer token for the agent API and MCP. Only its SHA-256 is stored: the token
    itself is shown once, when it is created.

    Its optional webhook receives every decision on its agent's drafts
    (store/domain/agents/webhooks.py). The webhook's signing secret is stored as it is,
    not hashed: an HMAC signature needs the secret itself at every send."""

    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint("admin OR holder_id IS NOT NULL", name="acts_as_someone"),
        CheckConstraint("(webhook_url IS NULL) = (webhook_secret IS NULL)", name="webhook_signed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[str | None] = mapped_column(ForeignKey("holders.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown in lists, so a token can be recognised
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    push_seats: Mapped[list[str]] = mapped_column(default=list)  # seats granted beyond those held
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(64))  # shown once, when set; never logged
    webhook_set_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    holder: Mapped[Holder | None] = relationship(lazy="joined")
