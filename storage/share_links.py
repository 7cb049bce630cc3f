"""The share links table: a client's private page links, looked up by the hash of their token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Client, ShareLink


class ShareLinks:
    """Share links (``uow.shares``). Nothing here sees a token: callers pass its SHA-256."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, client_id: int, token_hash: str, created_by: str, created_at: datetime, expires_at: datetime) -> int:
        link = ShareLink(
            client_id=client_id,
            token_hash=token_hash,
            created_by=created_by,
            created_at=created_at,
            expires_at=expires_at,
            views=0,
        )
        self._session.add(link)
        self._session.flush()
        return link.id

    def live(self, now: datetime, client_id: int | None = None) -> list[tuple[ShareLink, str]]:
        """Links neither revoked nor expired at ``now`` (with their client's handle), by client then id."""
        query = (
            select(ShareLink, Client.handle)
            .join(Client, Client.id == ShareLink.client_id)
            .where(ShareLink.revoked_at.is_(None), ShareLink.expires_at > now)
            .order_by(Client.handle, ShareLink.id)
        )
        if client_id is not None:
            query = query.where(ShareLink.client_id == client_id)
        return [(link, handle) for link, handle in self._session.execute(query).all()]

    def get(self, link_id: int, lock: bool = False) -> ShareLink | None:
        return self._session.get(ShareLink, link_id, with_for_update=lock or None)

    def by_hash(self, token_hash: str, lock: bool = False) -> ShareLink | None:
        query = select(ShareLink).where(ShareLink.token_hash == token_hash)
        return self._session.execute(query.with_for_update() if lock else query).scalar_one_or_none()

    def rekey(self, link: ShareLink, token_hash: str) -> None:
        """The link opens with a new token from now on (a statement e-mail's, drawn as it is sent)."""
        link.token_hash = token_hash

    def revoke(self, link: ShareLink, at: datetime, by: str) -> None:
        link.revoked_at, link.revoked_by = at, by

    def viewed(self, link: ShareLink, at: datetime) -> None:
        link.last_viewed_at = at
        link.views += 1
