"""The one function that computes a response's cache key."""

from __future__ import annotations

import hashlib
import json

from assay.core import Request, TargetRole


def cache_key(
    target_identity: str, model: str, request: Request, epoch: int, role: TargetRole = "target"
) -> str:
    """hash(target identity, model, rendered payload with generation parameters and seed, epoch,
    and the role asked): each role is its own cache namespace, so a judge and an attacker on the
    same model never answer from each other's entries. The target under test's keys carry no
    role (the same keys as stores written before roles)."""
    parts: dict[str, object] = {
        "target": target_identity,
        "model": model,
        "payload": request.payload(),
        "epoch": epoch,
    }
    if role != "target":
        parts["role"] = role
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
