"""The CalDAV source (`source.kind = "caldav"`): `connection` (password, client, errors),
`discovery` (which calendars), `sync` (sync-collection or ETags into the event cache),
`webdav` (request bodies and 207 parsing), `source` (the `CalendarSource`)."""

from calbot.adapters.caldav.connection import Dav, connect
from calbot.adapters.caldav.source import CaldavSource

__all__ = ["CaldavSource", "Dav", "connect"]
