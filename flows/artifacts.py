"""Artifacts under fixed keys, kept current in place: the console's dashboard pages.

Prefect keeps a new version for every artifact created under a key; a page refreshed every few
seconds would pile up thousands of versions a day. So a key gets one artifact, updated in place
(the collection the UI lists follows the latest version) — and a new version only when it is
attached to another flow run (an order's case file shown on each of its case runs).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate
from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

from integrations.notifications.masking import mask_doc


class Shelf:
    """Remembers which artifact holds each key, and what it last said."""

    def __init__(self) -> None:
        self._latest: dict[str, tuple[UUID, UUID | None, str]] = {}  # key → id, run, digest

    def keep(self, client: SyncPrefectClient, key: str, kind: str, data: Any,
             description: str, flow_run_id: UUID | None = None) -> bool:
        """Make `key` show `data` (phones, IPs, e-mails and PII fields masked: artifacts leave
        the store); False when it already did (nothing sent)."""
        data = mask_doc(data)
        digest = repr((kind, data, description))
        known = self._latest.get(key) or self._lookup(client, key)
        if known and known[2] == digest and flow_run_id in (None, known[1]):
            return False
        if known and flow_run_id in (None, known[1]):
            client.update_artifact(known[0], ArtifactUpdate(data=data, description=description))
            self._latest[key] = (known[0], known[1], digest)
            return True
        made = client.create_artifact(ArtifactCreate(key=key, type=kind, data=data,
                                                     description=description,
                                                     flow_run_id=flow_run_id))
        self._latest[key] = (made.id, flow_run_id, digest)
        return True

    def _lookup(self, client: SyncPrefectClient, key: str) -> tuple[UUID, UUID | None, str] | None:
        found = client.read_latest_artifacts(artifact_filter=ArtifactCollectionFilter(
            key=ArtifactCollectionFilterKey(any_=[key])), limit=1)
        if not found:
            return None
        self._latest[key] = (found[0].latest_id, found[0].flow_run_id, "")
        return self._latest[key]
