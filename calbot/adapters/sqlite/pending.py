"""The pending_creates table (migration 5): draft creates whose outcome is not yet known."""

from __future__ import annotations

from calbot.adapters.sqlite.tables import Tables, dt_in, dt_out
from calbot.ports.store import PendingCreate


class PendingTables(Tables):
    def pending_creates(self, sink: str) -> dict[str, PendingCreate]:
        rows = self._conn.execute(
            "SELECT key, message_id, started_at FROM pending_creates WHERE sink = ?", (sink,)
        )
        return {key: PendingCreate(sink, key, mid, dt_in(at)) for key, mid, at in rows}

    def put_pending_create(self, pending: PendingCreate) -> None:
        self._check_write()
        self._conn.execute(
            "INSERT INTO pending_creates (sink, key, message_id, started_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (sink, key) DO UPDATE SET message_id = excluded.message_id,"
            " started_at = excluded.started_at",
            (
                pending.sink,
                pending.key,
                pending.message_id,
                dt_out(pending.started_at, "started_at"),
            ),
        )

    def delete_pending_create(self, sink: str, key: str) -> None:
        self._check_write()
        self._conn.execute("DELETE FROM pending_creates WHERE sink = ? AND key = ?", (sink, key))
