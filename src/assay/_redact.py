"""Hide credentials that users put in URLs (target strings, store URLs) before anything is
written: the spec and manifest, the store, results.json, reports, logs and error messages.

Only the written copy is redacted; requests still carry the real values.
"""

from __future__ import annotations

import re

MASK = "***"
# user[:password]@ after a scheme, up to the last @ before the path (a password may hold an @).
_USERINFO = re.compile(r"(?<=://)[^/\s'\"]*@")
# Query parameters whose name is, or ends in, a secret-looking word: key, api-key, api_key,
# token, access_token, sig, signature, X-Amz-Credential... (not max_tokens: whole words only).
# The value stops at `?` too: assay's own `?temperature=...` may follow a target's URL.
_SECRET_QUERY = re.compile(
    r"(?<=[?&])((?:[\w.~-]*[-_.])?(?:apikey|key|token|secret|password|passwd|pwd|sig|"
    r"signature|auth|credential|credentials|session)=)[^&#?\s'\"]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """`text` with URL user-info and secret-looking query values replaced by ***."""
    text = _USERINFO.sub(MASK + "@", text)
    return _SECRET_QUERY.sub(lambda found: found[1] + MASK, text)


def redacted(text: str) -> bool:
    """Whether `text` is a redacted copy (its secrets cannot be recovered from it)."""
    return f"://{MASK}@" in text or re.search(rf"[?&][\w.~-]+={re.escape(MASK)}", text) is not None
