"""The results store, chosen by URL: SQLite (default) or PostgreSQL."""

from assay.store._store import RunData, Store, default_store_url

__all__ = ["RunData", "Store", "default_store_url"]
