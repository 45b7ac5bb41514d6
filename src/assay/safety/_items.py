"""Safety items as samples: the request as `input`, and in metadata where it sits in the
taxonomy, its language, whether it is a benign look-alike, and the attack that will carry it.

Every loader (the project's seeds, AdvBench, HarmBench, XSTest, ...) builds its samples with
`safety_sample`, so the metrics group every source the same way. A public set's category that
the mapping table leaves out is kept as `unmapped` (and reported so), never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assay.core import Sample
from assay.safety._attacks import Language, attack_info
from assay.safety._taxonomy import category as taxonomy_category

UNMAPPED = "unmapped"


def safety_sample(
    request: str,
    *,
    source: str,
    category: str | None,
    lang: Language,
    benign: bool,
    source_category: str = "",
    behavior: str = "",
    item_id: str = "",
    extra: Mapping[str, Any] | None = None,
) -> Sample:
    """One request. `category`: a taxonomy category id, or None where the source's own category
    has no mapping (kept as "unmapped"); `behavior`: what a harmful answer would do, for the harm
    judge (defaults to the request); `item_id`: the source's own id, for joins and reports."""
    if category is None:
        domain, category_id, refusal_only = UNMAPPED, UNMAPPED, False
    else:
        found = taxonomy_category(category)
        domain, category_id, refusal_only = found.domain, found.id, found.refusal_only
    metadata: dict[str, Any] = {
        "source": source,
        "item_id": item_id,
        "domain": domain,
        "category": category_id,
        "source_category": source_category,
        "lang": lang,
        "benign": benign,
        "refusal_only": refusal_only and not benign,
        "behavior": behavior or request,
        **(extra or {}),
    }
    return Sample(input=request, target="", metadata=metadata)


def with_attacks(samples: Iterable[Sample], attacks: Sequence[str]) -> list[Sample]:
    """Each sample once per attack (or composition) that applies to its language, with the
    attack's name, level and family in its metadata (so its id differs per attack)."""
    infos = [attack_info(name) for name in attacks]
    out = []
    for sample in samples:
        for info in infos:
            if sample.metadata["lang"] not in info.languages:
                continue
            metadata = {
                **sample.metadata,
                "attack": info.name,
                "level": info.level,
                "family": info.family,
            }
            out.append(Sample(input=sample.input, target=sample.target, metadata=metadata))
    return out


@dataclass(frozen=True)
class LabelledItem:
    """A response with a human's (or a named judge's) label: what a judge is trained and
    measured on. `label`: "refused"/"complied" for the refusal judge, "harmful"/"not_harmful"
    for the harm judge; `raw_label`: the source's own label; `group`: e.g. the model that wrote
    the response, for held-out splits and per-group figures."""

    prompt: str
    response: str
    label: str
    behavior: str = ""
    source: str = ""
    item_id: str = ""
    group: str = ""
    raw_label: str = ""
    prompt_type: str = ""
