"""Test helpers shipped with assay: a scriptable OpenAI-compatible stub server."""

from assay.testing._stub_server import StubConfig, StubLog, StubServer

__all__ = ["StubConfig", "StubLog", "StubServer"]
