"""The holds table: slots offered in pending drafts, per draft key (SPEC §1.7)."""

from __future__ import annotations

from collections.abc import Sequence

from calbot.adapters.sqlite.tables import Tables, dt_in, dt_out
from calbot.core.records import HoldRecord, check_holds


class HoldTables(Tables):
    def holds(self) -> list[HoldRecord]:
        rows = self._conn.execute(
            'SELECT key, event_id, client, start, "end" FROM holds ORDER BY start, key'
        ).fetchall()
        return [HoldRecord(k, e, c, dt_in(s), dt_in(x)) for k, e, c, s, x in rows]

    def put_holds(self, key: str, holds: Sequence[HoldRecord]) -> None:
        self._check_write()
        checked = check_holds(key, holds)
        self._conn.execute("DELETE FROM holds WHERE key = ?", (key,))
        self._conn.executemany(
            'INSERT INTO holds (key, start, "end", event_id, client) VALUES (?, ?, ?, ?, ?)',
            [
                (key, dt_out(h.start, "start"), dt_out(h.end, "end"), h.event_id, h.client)
                for h in checked
            ],
        )
