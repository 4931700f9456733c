"""The pure core: no network, disk or clock. `now` and timezones are arguments."""
