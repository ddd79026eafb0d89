"""Pseudonymisation: transcripts → the same transcripts with names replaced, before anything is shared.

Persons, organisations and places (spaCy NER plus rules: e-mails, French phone numbers, street
addresses, names after « monsieur » / « Mme » / « le père », first name + surname, speaker labels)
are replaced by pseudonyms that are stable across the whole corpus (`[PERSONNE_3]` is the same
person in every document). Every replacement is a `Replacement` of a `Span` of `Transcript.text`;
an `OffsetMap` carries gold spans (and any other offset) over to the pseudonymised text.
The mapping original → pseudonym is personal data: it is written apart, never beside the output.

    config.py          settings (configs/pseudonymize.yaml), pseudonym kinds, how names compare
    detect.py          what to hide in one text: rules and NER → mentions
    replace.py         replacements, the pseudonymised text, offsets carried over (gold spans)
    mapping.py         the user's mapping and the one written after a run
    pseudonymizer.py   the corpus-level pass: one pseudonym per distinct name across the corpus
    evaluation.py      recall and precision on hand-marked passages (`codeur pseudonymize --evaluate`)
"""
from __future__ import annotations

from .config import DEFAULT_CONFIG, KINDS, NER_KINDS, PseudonymizeConfig, load_config, name_key
from .detect import Detector, Lexicon, Mention, is_cased, load_nlp, resolve
from .evaluation import MARK_KINDS, EvalReport, evaluate, parse_marked, read_eval
from .mapping import MappingEntry, check_map_outside, read_user_mapping, write_mapping
from .pseudonymizer import PseudonymizeResult, Pseudonymizer
from .replace import OffsetMap, PseudonymizedDoc, Replacement, apply_replacements, carry_gold

__all__ = [
    "DEFAULT_CONFIG", "KINDS", "NER_KINDS", "PseudonymizeConfig", "load_config", "name_key",
    "Detector", "Lexicon", "Mention", "is_cased", "load_nlp", "resolve",
    "MARK_KINDS", "EvalReport", "evaluate", "parse_marked", "read_eval",
    "MappingEntry", "check_map_outside", "read_user_mapping", "write_mapping",
    "PseudonymizeResult", "Pseudonymizer",
    "OffsetMap", "PseudonymizedDoc", "Replacement", "apply_replacements", "carry_gold",
]
