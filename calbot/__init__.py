"""calbot: protects your week from client meetings by drafting replies you review and send."""

__version__ = "0.1.0"
