"""The project's fake Google server (Calendar v3, Gmail v1, OAuth) for tests."""

from .google import FakeGoogle, Logged

__all__ = ["FakeGoogle", "Logged"]
