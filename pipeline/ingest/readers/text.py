"""Reader for plain-text transcripts (.txt) and Markdown transcripts (.md).

The plain text is the decoded file itself (line endings normalised), so a researcher's offsets
into the file and codeur's offsets agree; labels such as `Nom :` or `**Nom :**` start turns.
"""
from __future__ import annotations

from pathlib import Path

from ...core.limits import check_line_lengths
from ...core.transcript import Transcript
from .encoding import decode_text, read_bytes
from .layout import lay_out_lines
from .speakers import SpeakerConfig


def read_text_file(path: Path, config: SpeakerConfig) -> Transcript:
    decoded = decode_text(read_bytes(path), path)
    check_line_lengths(decoded.text, path)  # before the label search, which is slow on a huge line
    layout = lay_out_lines(decoded.text.split("\n"), config, unit="line")
    metadata = {"encoding": decoded.encoding, **layout.metadata}
    return Transcript(
        doc_id=path.stem, source=str(path), format=path.suffix.lower().lstrip("."),
        text=layout.text, turns=layout.turns, metadata=metadata,
        warnings=decoded.warnings + layout.warnings,
    )
