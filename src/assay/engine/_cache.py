"""The one function that computes a response's cache key."""

from __future__ import annotations

import hashlib
import json

from assay.core import Request


def cache_key(target_identity: str, model: str, request: Request, epoch: int) -> str:
    """hash(target identity, model, rendered payload with generation parameters and seed, epoch)."""
    blob = json.dumps(
        {
            "target": target_identity,
            "model": model,
            "payload": request.payload(),
            "epoch": epoch,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode()).hexdigest()
