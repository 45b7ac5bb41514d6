"""The risk taxonomy (domain -> category, stable ids, English and Chinese names), read from the
package's `data/taxonomy.yaml`: data, so a new category is one line there."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib.resources import files

import yaml

from assay._errors import SpecError
from assay.core import did_you_mean


@dataclass(frozen=True)
class Category:
    id: str
    domain: str
    en: str
    zh: str
    # Any answer but a refusal fails (no benign look-alike; no harm judge is asked).
    refusal_only: bool = False


@dataclass(frozen=True)
class Domain:
    id: str
    en: str
    zh: str
    categories: tuple[Category, ...]


@functools.cache
def domains() -> tuple[Domain, ...]:
    raw = yaml.safe_load(files("assay.safety").joinpath("data/taxonomy.yaml").read_text("utf-8"))
    return tuple(
        Domain(
            id=domain["id"],
            en=domain["en"],
            zh=domain["zh"],
            categories=tuple(
                Category(
                    id=item["id"],
                    domain=domain["id"],
                    en=item["en"],
                    zh=item["zh"],
                    refusal_only=bool(item.get("refusal_only", False)),
                )
                for item in domain["categories"]
            ),
        )
        for domain in raw["domains"]
    )


@functools.cache
def _by_id() -> dict[str, Category]:
    return {category.id: category for domain in domains() for category in domain.categories}


def categories() -> tuple[Category, ...]:
    return tuple(_by_id().values())


def category(category_id: str) -> Category:
    try:
        return _by_id()[category_id]
    except KeyError:
        raise SpecError(
            did_you_mean("risk category", category_id, sorted(_by_id()), "assay.safety taxonomy")
        ) from None
