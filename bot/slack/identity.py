"""Who clicked: a Slack user resolved to a holder (by Slack id, else by profile email)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from otp_bot.store.db import Database
from otp_bot.store.domain.actors import Actor, actor_for_slack_user

log = logging.getLogger(__name__)


class IdentityResolver:
    """Caches profile emails per Slack user, so users.info is asked once per user per TTL."""

    def __init__(self, client: WebClient, ttl_seconds: float = 600.0) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._emails: dict[str, tuple[float, str | None]] = {}
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def _cached_email(self, user_id: str) -> tuple[bool, str | None]:
        """(known, email): known when Slack was asked within the TTL (the email may be None)."""
        with self._lock:
            cached = self._emails.get(user_id)
        if cached and time.monotonic() - cached[0] < self._ttl:
            return True, cached[1]
        return False, None

    def email(self, user_id: str) -> str | None:
        known, email = self._cached_email(user_id)
        if known:
            return email
        now = time.monotonic()
        try:
            user: dict[str, Any] = self._client.users_info(user=user_id).get("user", {})
            profile = user.get("profile", {})
            email = (profile.get("email") or "").lower() or None
        except SlackApiError as exc:
            # Without users:read.email, or for a deleted user: they are simply unknown.
            log.info("users.info for %s failed: %s", user_id, exc.response.get("error"))
            email = None
        except OSError as exc:
            # Slack unreachable or slow: treat the person as unknown this time (they can
            # still read), and do not cache it, so the next request asks again.
            log.warning("users.info for %s did not answer: %s", user_id, exc)
            return None
        with self._lock:
            self._emails[user_id] = (now, email)
        return email

    def groups(self, user_id: str, group_ids: set[str]) -> frozenset[str]:
        """Which of `group_ids` (Slack user groups) the user belongs to; cached like emails."""
        found = set()
        now = time.monotonic()
        for group in sorted(group_ids):
            with self._lock:
                cached = self._members.get(group)
            if cached is None or now - cached[0] >= self._ttl:
                try:
                    members: frozenset[str] = frozenset(
                        self._client.usergroups_users_list(usergroup=group).get("users", [])
                    )
                except (SlackApiError, OSError) as exc:
                    log.warning("usergroups.users.list for %s failed: %s", group, exc)
                    continue  # not cached: asked again next time
                cached = (now, members)
                with self._lock:
                    self._members[group] = cached
            if user_id in cached[1]:
                found.add(group)
        return frozenset(found)

    def actor_in(self, session: Session, user_id: str) -> Actor | None:
        """The actor, read in the caller's transaction, or None when only Slack can tell
        (not on the chart by Slack id, profile email not cached): then use `actor`."""
        actor = actor_for_slack_user(session, user_id)
        if actor.holder_id is not None:
            return actor
        known, email = self._cached_email(user_id)
        if not known:
            return None
        return actor_for_slack_user(session, user_id, email) if email else actor

    def actor(self, db: Database, user_id: str) -> Actor:
        """Resolve in short read-only transactions; the profile look-up happens between them,
        so no transaction is held open while Slack answers."""
        with db.session(readonly=True) as session:
            actor = actor_for_slack_user(session, user_id)
        if actor.holder_id is not None:
            return actor
        email = self.email(user_id)
        if email is None:
            return actor
        with db.session(readonly=True) as session:
            return actor_for_slack_user(session, user_id, email)
