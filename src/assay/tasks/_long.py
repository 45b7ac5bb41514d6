"""Long-context tasks: needle-in-a-haystack retrieval at chosen context lengths."""

from __future__ import annotations
