"""The embedded state store in SQLite: `store` opens the file and owns its transactions,
`schema` migrates it, and one module per group of tables implements the small store
protocols (`ledger`, `cache`, `review`) over the shared connection in `tables`."""

from calbot.adapters.sqlite.store import DB_NAME, SqliteStore

__all__ = ["DB_NAME", "SqliteStore"]
