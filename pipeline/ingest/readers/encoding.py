"""Bytes → text for every text-based reader: BOM, UTF-8, then Windows-1252 as a fallback.

Researchers' transcripts come from Word on Windows (cp1252), old Macs, Notepad (UTF-16 with a
BOM) and Linux tools (UTF-8); a reader must decode all of them and say which guess it made.

A UTF-8 file damaged in a few places (a bad copy-paste, a truncated character) stays UTF-8: when
the invalid bytes are few — at most `MAX_BAD_UTF8_BYTES` (20) or 1 % of the file's bytes, whichever
is larger — and the file holds more valid multi-byte UTF-8 characters than invalid bytes, those
bytes become U+FFFD and a warning gives their byte offsets. Anything else (a Windows-1252 file has
accented letters that are invalid UTF-8 and hardly any valid multi-byte sequence) is decoded as
Windows-1252, with a warning.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from ...core.errors import InputFileError
from ...core.limits import check_file_size

# Checked longest first: the UTF-32 LE BOM starts with the UTF-16 LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Magic numbers of files that are often renamed to .txt by mistake, with what to tell the user.
BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a zip package (a .docx or .odt saved under the wrong extension?)"),
    (b"%PDF", "a PDF (export the transcript as .txt or .docx)"),
    (b"\xd0\xcf\x11\xe0", "an old Word .doc file (save it as .docx)"),
    (b"{\\rtf", "an RTF file (save it as .txt or .docx)"),
)

_CONTROL_OK = {0x09, 0x0A, 0x0C, 0x0D}


def _latin1_for_cp1252_holes(err: UnicodeDecodeError) -> tuple[str, int]:
    # cp1252 leaves 0x81 0x8D 0x8F 0x90 0x9D undefined; ISO-8859-1 maps every byte, so use it there.
    byte = err.object[err.start]
    return chr(byte), err.start + 1


codecs.register_error("codeur-latin1", _latin1_for_cp1252_holes)


@dataclass
class DecodedText:
    text: str  # line endings already normalised to "\n"
    encoding: str
    warnings: list[str] = field(default_factory=list)


def read_bytes(path: Path, head: int | None = None) -> bytes:
    """The file's bytes (only the first `head` of them if given); a missing, unreadable, empty or too
    large file is a user error, not a traceback. Every reader opens its file through here."""
    if not path.exists():
        raise InputFileError("file not found", path=str(path))
    if path.is_dir():
        raise InputFileError("is a folder, not a transcript file", path=str(path))

    check_file_size(path)  # before reading: a huge file is refused without filling the memory
    try:
        if head is None:
            raw = path.read_bytes()
        else:
            with path.open("rb") as fh:
                raw = fh.read(head)
    except OSError as e:
        raise InputFileError(f"cannot be read ({e.strerror or e})", path=str(path)) from None
    if not raw:
        raise InputFileError("empty file (0 bytes)", path=str(path))
    return raw


def normalise_newlines(text: str) -> str:
    """CRLF (Windows) and lone CR (old Mac) become "\\n", so offsets mean the same on every OS."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(raw: bytes, path: Path) -> DecodedText:
    """Decode a text file: BOM first, then strict UTF-8, then cp1252 (with a warning)."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom):].decode(encoding)
            except UnicodeDecodeError as e:
                mended = mostly_utf8(raw[len(bom):]) if encoding == "utf-8" else None
                if mended is not None:
                    return DecodedText(_text_or_empty(normalise_newlines(mended[0]), path), encoding,
                                       [_replaced_warning(mended[1], len(bom))])
                raise InputFileError(
                    f"undecodable: starts with a {encoding.upper()} byte-order mark but byte {e.start + len(bom)} "
                    f"is not valid {encoding.upper()}",
                    path=str(path), hint="re-save the file as UTF-8") from None
            return DecodedText(_text_or_empty(normalise_newlines(text), path), encoding)

    refuse_binary(raw, path)
    try:
        return DecodedText(_text_or_empty(normalise_newlines(raw.decode("utf-8")), path), "utf-8")
    except UnicodeDecodeError as e:
        bad_at = e.start
    mended = mostly_utf8(raw)
    if mended is not None:
        text, bad = mended
        return DecodedText(_text_or_empty(normalise_newlines(text), path), "utf-8", [_replaced_warning(bad)])
    text = raw.decode("cp1252", errors="codeur-latin1")
    warning = (f"not valid UTF-8 (byte {bad_at}); decoded as Windows-1252 — check the accents, "
               "or re-save the file as UTF-8")
    return DecodedText(_text_or_empty(normalise_newlines(text), path), "cp1252", [warning])


#: A UTF-8 file with at most this many invalid bytes (or 1 % of its bytes, if more) stays UTF-8.
MAX_BAD_UTF8_BYTES = 20
_OFFSETS_SHOWN = 5


def mostly_utf8(raw: bytes) -> tuple[str, list[int]] | None:
    """UTF-8 text with its few invalid bytes replaced by U+FFFD, and their byte offsets; None when
    the bytes are not mostly UTF-8 (too many invalid bytes, or no valid multi-byte character)."""
    limit = max(MAX_BAD_UTF8_BYTES, len(raw) // 100)
    parts: list[str] = []
    bad: list[int] = []
    pos = 0
    while True:
        try:
            parts.append(raw[pos:].decode("utf-8"))
            break
        except UnicodeDecodeError as e:
            parts.append(raw[pos:pos + e.start].decode("utf-8"))
            parts.append("\ufffd")
            bad.extend(range(pos + e.start, pos + e.end))
            pos += e.end
            if len(bad) > limit:
                return None
    text = "".join(parts)
    valid_multibyte = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")
    if valid_multibyte <= len(bad):
        return None
    return text, bad


def _replaced_warning(bad: list[int], shift: int = 0) -> str:
    shown = ", ".join(str(b + shift) for b in bad[:_OFFSETS_SHOWN]) + (", …" if len(bad) > _OFFSETS_SHOWN else "")
    return (f"{len(bad)} invalid UTF-8 byte(s) replaced by \ufffd at byte offset(s) {shown}; the rest is read "
            "as UTF-8 — check those places in the file")


def refuse_binary(raw: bytes, path: Path) -> None:
    """Refuse bytes that are not text: known binary signatures, NUL bytes, control characters."""
    for signature, what in BINARY_SIGNATURES:
        if raw.startswith(signature):
            raise InputFileError(f"binary file, not text: looks like {what}", path=str(path))
    head = raw[:65536]
    if b"\x00" in head:
        raise InputFileError(
            "binary file, not text (contains NUL bytes)", path=str(path),
            hint="if it is UTF-16 text without a byte-order mark, re-save it as UTF-8")
    controls = sum(1 for b in head if b < 0x20 and b not in _CONTROL_OK)
    if controls > len(head) * 0.05:
        raise InputFileError("binary file, not text (too many control characters)", path=str(path))


def _text_or_empty(text: str, path: Path) -> str:
    if not text.strip():
        raise InputFileError("empty file (only blank space)", path=str(path))
    return text
