"""Project Gutenberg plain text -> the book: boilerplate stripped, chapters found, wrapping undone.

Start/end markers follow the lists kept by the `gutenberg` package (c-w/gutenberg,
`_domain_model/text.py`) and PG-19 (Rae et al. 2020), which strip the header and the licence
footer. The text then starts at the first chapter heading (title page and table of contents
are front matter), and hard-wrapped lines are joined into one line per paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_START = re.compile(
    r"^\s*(\*{3}\s*START OF (THE|THIS) PROJECT GUTENBERG E-?BOOK.*|\*END\*THE SMALL PRINT.*"
    r"|\*{3}\s*START OF THE COPYRIGHTED PROJECT GUTENBERG.*)$", re.I | re.M)
_END = re.compile(
    r"^\s*(\*{3}\s*END OF (THE|THIS) PROJECT GUTENBERG E-?BOOK.*|END OF (THE|THIS) PROJECT GUTENBERG E-?BOOK.*"
    r"|End of (the )?Project Gutenberg.*|\*{3}\s*START: FULL LICENSE\s*\*{3})$", re.I | re.M)
_PRODUCED = re.compile(r"^(produced by|transcribed by|this e-?text was prepared by|e-?text prepared by)",
                       re.I)
_HEADER_FIELD = re.compile(r"^(Title|Author|Language|Release [Dd]ate|Character set encoding):\s*(.+)$",
                           re.M)
_NUMBER_WORDS = ("one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
                 "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|the first|the last")
HEADING = re.compile(
    rf"^\s*(chapter|book|part|stave|letter|canto|section)\s+([ivxlcdm]+|\d+|{_NUMBER_WORDS})\b[.:]?.{{0,70}}$",
    re.I)
MAX_HEADING_LINES = 3  # a heading paragraph is a heading and an optional short title


@dataclass
class Book:
    text: str
    chapters: list[str] = field(default_factory=list)
    header: dict[str, str] = field(default_factory=dict)
    boilerplate_removed: bool = False
    front_matter_chars: int = 0


def header_fields(header: str) -> dict[str, str]:
    """`Title:`, `Author:`, `Language:` ... lines of the Gutenberg header, lower-cased keys."""
    return {m.group(1).lower(): m.group(2).strip() for m in _HEADER_FIELD.finditer(header)}


def strip_boilerplate(text: str) -> tuple[str, str, bool]:
    """(body, header, markers found). The body is what lies between the start and end markers."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    start = _START.search(text)
    header = text[:start.start()] if start else ""
    body = text[start.end():] if start else text
    end = _END.search(body)
    body = body[:end.start()] if end else body
    paragraphs = re.split(r"\n\s*\n", body.strip("\n"))
    # "Produced by ..." credits sit right after the start marker.
    while paragraphs and _PRODUCED.match(paragraphs[0].strip()):
        paragraphs.pop(0)
    return "\n\n".join(paragraphs), header, bool(start or end)


def paragraphs_of(text: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def _is_heading(paragraph: str) -> bool:
    lines = [line for line in paragraph.strip().split("\n") if line.strip()]
    return 0 < len(lines) <= MAX_HEADING_LINES and bool(HEADING.match(lines[0]))


def chapter_starts(paragraphs: list[str]) -> list[int]:
    """Indices of real chapter headings: a table-of-contents entry is followed by another heading
    (or is one line of a many-line list), a real heading by prose."""
    starts = []
    for i, p in enumerate(paragraphs):
        if not _is_heading(p):
            continue
        following = paragraphs[i + 1:i + 3]
        prose = [q for q in following if not _is_heading(q)]
        if prose and not _is_heading(following[0]):
            starts.append(i)
    return starts


def unwrap(paragraph: str) -> str:
    """Join hard-wrapped lines; indented blocks (verse, letters, tables) keep their line breaks."""
    lines = paragraph.strip("\n").split("\n")
    if len(lines) > 1 and all(line.startswith((" ", "\t")) for line in lines if line.strip()):
        return "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\s+", " ", " ".join(line.strip() for line in lines)).strip()


def clean_book(raw: str) -> Book:
    body, header, found = strip_boilerplate(raw)
    paragraphs = paragraphs_of(body)
    starts = chapter_starts(paragraphs)
    front = paragraphs[:starts[0]] if starts else []
    kept = paragraphs[starts[0]:] if starts else paragraphs
    chapters = [re.sub(r"\s+", " ", paragraphs[i].strip()) for i in starts]
    text = "\n\n".join(unwrap(p) for p in kept)
    return Book(text=text, chapters=chapters, header=header_fields(header), boilerplate_removed=found,
                front_matter_chars=sum(len(p) for p in front))


_ENCODINGS = {"iso-8859-1": "latin-1", "iso 8859-1": "latin-1", "latin1": "latin-1", "latin-1": "latin-1",
              "ascii": "utf-8", "us-ascii": "utf-8", "utf-8": "utf-8", "windows-1252": "cp1252",
              "cp1252": "cp1252"}


def decode_book(data: bytes) -> str:
    """UTF-8 first; else the header's declared `Character set encoding`; else Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    m = re.search(rb"Character set encoding:\s*([\w -]+)", data[:5000])
    codec = _ENCODINGS.get(m.group(1).decode("ascii", "ignore").strip().lower(), "latin-1") if m else "latin-1"
    return data.decode(codec, errors="replace")
