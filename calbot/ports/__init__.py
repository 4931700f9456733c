"""The seams between the scan and the outside world: small Protocols that adapters
implement. The scan talks only to these."""
