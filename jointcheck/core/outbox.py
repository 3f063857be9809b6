"""Notifications are rows written in the same transaction as the change that causes them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from jointcheck.core.models import OutboxMessage
from jointcheck.core.public_proof import canonical_json


class Outbox:
    def __init__(self, session: AsyncSession):
        self._session = session

    def add(self, chat_id: int, template: str, params: dict | None = None, dedupe_key: str | None = None) -> OutboxMessage:
        """Queue a message rendered later from `template` (a template name, not text) and `params`."""
        message = OutboxMessage(
            chat_id=chat_id,
            template=template,
            params=canonical_json(params or {}).decode("utf-8"),
            dedupe_key=dedupe_key,
            status="pending",
            attempts=0,
            error="",
        )
        self._session.add(message)
        return message
