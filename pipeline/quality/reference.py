"""Build the shipped reference positive set from CPython's own standard-library docstrings.

Provenance: the docstrings of the installed Python 3.11 standard library (CPython source,
licensed under the PSF License Agreement, version 2). They are edited, grammatical English
technical prose, available offline on every machine that runs this project. Only prose
paragraphs are kept: no doctest (`>>>`) or indented code, at least `min_words` words, ending in
a full stop, few symbols. Regenerate with:

    python -m pipeline.quality.reference pipeline/resources/quality_reference_en.jsonl
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import re
import sys
import warnings
from collections.abc import Iterator

# Modules with import-time side effects (windows, sounds, browsers) or platform-only ones.
SKIP = {"antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "msilib", "winreg", "winsound",
        "_winapi", "nt", "msvcrt", "ensurepip", "venv", "lib2to3", "pydoc_data", "__main__", "webbrowser"}
_SYMBOLS = re.compile(r"[{}\[\]<>=|\\`*_#@$%^~]")


def prose_paragraphs(doc: str, min_words: int = 20) -> list[str]:
    """Paragraphs of a docstring that read as prose (one line each)."""
    out = []
    for para in re.split(r"\n\s*\n", inspect.cleandoc(doc)):
        lines = para.split("\n")
        if any(line.startswith((" ", "\t", ">>>", "...")) for line in lines):
            continue  # code, doctest or an indented argument list
        text = " ".join(line.strip() for line in lines)
        words = text.split()
        if len(words) < min_words or not text.endswith(".") or ":" in words[0]:
            continue
        if len(_SYMBOLS.findall(text)) > len(words) * 0.02:
            continue
        out.append(text)
    return out


def _objects(module) -> Iterator[tuple[str, str]]:
    yield module.__name__, module.__doc__ or ""
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj.__doc__ or ""


def _import(name: str):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except Exception:  # noqa: BLE001  (missing optional C extensions, platform-only modules)
        return None


def _stdlib_modules() -> Iterator:
    for top in sorted(sys.stdlib_module_names):
        if top in SKIP or top.startswith("_") or (module := _import(top)) is None:
            continue
        yield module
        for info in pkgutil.walk_packages(getattr(module, "__path__", []), prefix=f"{top}."):
            private = any(part.startswith("_") or part in ("test", "tests") for part in info.name.split("."))
            if not private and (sub := _import(info.name)) is not None:
                yield sub


def _texts() -> Iterator[tuple[str, str]]:
    """(where, docstring): the Language Reference topics shipped as pydoc_data, then docstrings."""
    topics = _import("pydoc_data.topics")
    for key, text in sorted(getattr(topics, "topics", {}).items()):
        yield f"pydoc_data.topics:{key}", text
    for module in _stdlib_modules():
        yield from _objects(module)


def build_reference(max_chars: int = 900_000, min_words: int = 20) -> list[dict[str, str]]:
    """One document per docstring/topic with prose, up to `max_chars` of text."""
    docs, total, seen = [], 0, set()
    tag = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for where, doc in _texts():
        paras = [p for p in prose_paragraphs(doc, min_words) if p not in seen]
        if not paras:
            continue
        seen.update(paras)
        text = "\n\n".join(paras)
        docs.append({"text": text, "source": f"{tag}:{where}", "license": "PSF-2.0"})
        total += len(text)
        if total >= max_chars:
            break
    return docs


def main(argv: list[str]) -> int:
    docs = build_reference()
    with open(argv[0], "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    print(f"{len(docs)} documents, {sum(len(d['text']) for d in docs):,} characters -> {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
