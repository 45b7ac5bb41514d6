"""The package's attacks, one module per family; importing this registers them all."""

from assay.safety.attacks import (
    _chinese,
    _encoding,
    _framing,
    _hijack,
    _modes,
    _persona,
    _plain,
    _suppression,
    _translation,
)

__all__ = [
    "_chinese",
    "_encoding",
    "_framing",
    "_hijack",
    "_modes",
    "_persona",
    "_plain",
    "_suppression",
    "_translation",
]
