"""Fidelity of our rule statistics against datatrove's filters, on the same real documents.

Real English text: the standard library's pydoc pages (rendered by `pydoc`, extracted by our
`extract_page`, as benchmarks/extract.py builds them) and Debian's copyright files
(/usr/share/doc/*/copyright). datatrove runs in its own throwaway venv, never a project
dependency: a small driver written to a temp dir at run time computes each statistic with
datatrove's own functions and each filter's keep/drop with its `filter()`, defaults throughout
(Gopher repetition, Gopher quality and C4 on the text, FineWeb on C4's line-filtered text, as
in FineWeb's pipeline). Per statistic it prints the share of documents whose value agrees
within 1e-6 and whose threshold decision agrees; per filter, the share whose keep/drop agrees
with datatrove's `filter()`. Ours runs twice: `reference` (cjk_per_character=False) and our
default (CJK per character: only texts containing CJK differ).

    python3 -m venv /tmp/dt && /tmp/dt/bin/pip install 'datatrove==0.10.*' spacy regex
    .venv/bin/python benchmarks/filters.py [--reference-python /tmp/dt/bin/python] [--debian 0]

`--write-fixture OUT --documents DOCS.jsonl` instead stores datatrove's values for the documents
of DOCS.jsonl ({"id", "text"} per line) in OUT: how tests/score/fixtures/datatrove_reference.json
was made.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

DRIVER = r'''
import json, sys
import numpy as np
from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)
from datatrove.pipeline.filters.c4_filters import CITATION_REGEX, END_PUNCTUATION
from datatrove.pipeline.filters.gopher_quality_filter import STOP_WORDS
from datatrove.pipeline.filters.gopher_repetition_filter import (find_all_duplicate, find_duplicates,
                                                                 find_top_duplicate, get_n_grams)
from datatrove.utils.text import PUNCTUATION_SET, TERMINAL_PUNCTUATION, split_into_sentences, split_into_words
import re

def decide(f, text):
    doc = Document(text=text, id="x")
    return f.filter(doc) is True, doc.text

def c4_loop(text):
    # C4QualityFilter's loop with the document rules recorded instead of returning early.
    kept, sentences = [], 0
    for line in text.splitlines():
        line = line.strip()
        words = line.split()
        if any(len(w) > 1000 for w in words):
            continue
        line = CITATION_REGEX.sub("", line)
        if not line.endswith(END_PUNCTUATION) or line.endswith("..."):
            continue
        if len(words) < 3:
            continue
        low = line.lower()
        if "javascript" in low or any(p in low for p in ["terms of use", "privacy policy", "cookie policy",
                                                          "uses cookies", "use of cookies", "use cookies"]):
            continue
        sentences += len(split_into_sentences(line, "en"))
        kept.append(line)
    return sentences, "\n".join(kept).strip()

gq, gr, c4, fw = GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter()
for raw in sys.stdin:
    text = json.loads(raw)["text"]
    words = split_into_words(text, "en")
    ns = [w for w in words if any(ch not in PUNCTUATION_SET for ch in w)]
    lines = text.splitlines()
    s = {}
    s["rule_gopher_words"] = len(ns)
    s["rule_gopher_mean_word_length"] = float(np.mean([len(w) for w in ns])) if ns else None
    s["rule_gopher_hash_word_ratio"] = text.count("#") / len(words) if words else None
    s["rule_gopher_ellipsis_word_ratio"] = (text.count("...") + text.count("…")) / len(words) if words else None
    s["rule_gopher_bullet_lines_ratio"] = (sum(l.lstrip().startswith("•") or l.lstrip().startswith("-")
                                               for l in lines) / len(lines)) if lines else None
    s["rule_gopher_ellipsis_lines_ratio"] = (sum(l.rstrip().endswith("...") or l.rstrip().endswith("…")
                                                 for l in lines) / len(lines)) if lines else None
    s["rule_gopher_alpha_words_ratio"] = (sum(any(c.isalpha() for c in w) for w in words) / len(words)
                                          if words else None)
    s["rule_gopher_stop_words"] = len(set(STOP_WORDS).intersection(set(words)))
    if text:
        paras = re.split(r"\n{2,}", text.strip())
        d, c = find_duplicates(paras)
        s["rule_rep_dup_para_frac"], s["rule_rep_dup_para_char_frac"] = d / len(paras), c / len(text)
        rl = re.split("\n+", text)
        d, c = find_duplicates(rl)
        s["rule_rep_dup_line_frac"], s["rule_rep_dup_line_char_frac"] = d / len(rl), c / len(text)
        for n in (2, 3, 4):
            g = get_n_grams(words, n)
            s[f"rule_rep_top_{n}gram_char_frac"] = find_top_duplicate(g) / len(text) if g else None
        for n in range(5, 11):
            s[f"rule_rep_dup_{n}gram_char_frac"] = find_all_duplicate(words, n) / len(text)
    sentences, c4_text = c4_loop(text)
    s["rule_c4_sentences"] = sentences
    fl = [l for l in c4_text.split("\n") if l.strip() != ""]
    stops = tuple(TERMINAL_PUNCTUATION)
    s["rule_fineweb_line_punct_ratio"] = sum(l.endswith(stops) for l in fl) / len(fl) if fl else 0.0
    s["rule_fineweb_short_line_ratio"] = sum(len(l) <= 30 for l in fl) / len(fl) if fl else None
    s["rule_fineweb_dup_line_char_ratio"] = (find_duplicates(fl)[1] / len(c4_text.replace("\n", ""))
                                             if fl else None)
    fw_words = split_into_words(c4_text, "en")
    s["rule_fineweb_newlines_per_word"] = c4_text.count("\n") / len(fw_words) if fw_words else None
    dec = {"gopher_repetition": decide(gr, text)[0], "gopher": decide(gq, text)[0]}
    dec["c4"] = decide(c4, text)[0]
    dec["fineweb"] = decide(fw, c4_text)[0] if c4_text else False
    print(json.dumps({"stats": s, "decisions": dec}))
'''

RULE_SETS = ["gopher_repetition", "gopher", "c4", "fineweb"]


def build_corpus(cache: Path, debian: int) -> list[dict]:
    if cache.exists():
        return [json.loads(line) for line in cache.open()]
    from benchmarks.extract import pydoc_pages
    from pipeline.web.extraction import extract_page

    docs = []
    for url, body in pydoc_pages(1)[0]:
        text = extract_page(body.decode("utf-8"), url).text
        if text:
            docs.append({"id": url, "source": "pydoc", "text": text})
    for path in sorted(glob.glob("/usr/share/doc/*/copyright"))[:debian or None]:
        try:
            docs.append({"id": path, "source": "debian", "text": Path(path).read_text(encoding="utf-8")})
        except (UnicodeDecodeError, OSError):  # a Latin-1 or unreadable file: not in the corpus
            continue
    cache.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return docs


def reference(python: str, docs: list[dict]) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        driver = Path(tmp) / "datatrove_driver.py"
        driver.write_text(DRIVER)
        out = subprocess.run([python, str(driver)], input="".join(json.dumps(d) + "\n" for d in docs),
                             capture_output=True, text=True, check=False)
    if out.returncode != 0:
        sys.exit(f"datatrove driver failed: {out.stderr.strip().splitlines()[-1:]}")
    return [json.loads(line) for line in out.stdout.splitlines()]


def ours(docs: list[dict], cjk_per_character: bool) -> list[dict]:
    from pipeline.filter.rules import FilterConfig, _thresholds
    from pipeline.score.document import ScoreSettings, score_text

    s = ScoreSettings(cjk_per_character=cjk_per_character)
    cfg = FilterConfig()
    out = []
    for d in docs:
        _, m = score_text(d["text"], s, [])
        m["lang"] = "en"
        dec = {name: not any(t.applies("en") and t.fails(m.get(t.column)) for t in _thresholds(name, cfg, []))
               for name in RULE_SETS}
        out.append({"stats": m, "decisions": dec})
    return out


def write_fixture(python: str, docs_path: Path, out: Path) -> None:
    docs = [json.loads(line) for line in docs_path.open(encoding="utf-8")]
    ref = reference(python, docs)
    versions = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version(\"datatrove\"), m.version(\"spacy\"))"],
                              capture_output=True, text=True, check=True).stdout.split()
    fixture = {
        "note": (f"Statistics and filter() decisions computed once by datatrove {versions[0]} (spaCy {versions[1]}, "
                 "blank English tokenizer) on these documents, with default parameters. Regenerate with: "
                 ".venv/bin/python benchmarks/filters.py --write-fixture "
                 "tests/score/fixtures/datatrove_reference.json --documents DOCS.jsonl"),
        "documents": [{"id": d["id"], "text": d["text"], **r} for d, r in zip(docs, ref, strict=True)],
    }
    out.write_text(json.dumps(fixture, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _agree(a: float | None, b: float | None) -> bool:
    a = None if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = None if b is None or (isinstance(b, float) and math.isnan(b)) else b
    return a is b if a is None or b is None else abs(a - b) <= 1e-6


def report(docs: list[dict], ref: list[dict], runs: dict[str, list[dict]]) -> None:
    from pipeline.filter.rules import FilterConfig, _thresholds

    n = len(docs)
    names = list(runs)
    print(f"{n} documents ({sum(d['source'] == 'pydoc' for d in docs)} pydoc pages, "
          f"{sum(d['source'] == 'debian' for d in docs)} Debian copyright files)\n")
    print("| rule | statistic agrees | decision agrees | " + " | ".join(f"{k}: decision" for k in names[1:]) + " |")
    print("|---|---|---|" + "---|" * (len(names) - 1))
    cfg = FilterConfig()
    for name in RULE_SETS:
        for t in _thresholds(name, cfg, []):
            if t.column not in ref[0]["stats"] and not any(t.column in r["stats"] for r in ref):
                continue
            cells = []
            for k in names:
                stat = sum(_agree(o["stats"].get(t.column), r["stats"].get(t.column)) for o, r in zip(runs[k], ref, strict=True))
                dec = sum(t.fails(o["stats"].get(t.column)) == t.fails(r["stats"].get(t.column))
                          for o, r in zip(runs[k], ref, strict=True))
                cells.append((stat, dec))
            extra = " | ".join(f"{d / n:.2%}" for _, d in cells[1:])
            print(f"| {t.rule} | {cells[0][0] / n:.2%} | {cells[0][1] / n:.2%} | {extra} |")
        agree = [sum(o["decisions"][name] == r["decisions"][name] for o, r in zip(runs[k], ref, strict=True)) for k in names]
        keeps = sum(r["decisions"][name] for r in ref)
        print(f"| **{name} filter()** (datatrove keeps {keeps}) | | {agree[0] / n:.2%} | "
              + " | ".join(f"{a / n:.2%}" for a in agree[1:]) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference-python", default="/tmp/dt/bin/python", help="a venv with datatrove 0.10 + spacy")
    ap.add_argument("--debian", type=int, default=0, help="at most this many copyright files (0 = all)")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "filters_corpus.jsonl"))
    ap.add_argument("--write-fixture", help="write datatrove's values for --documents to this JSON file")
    ap.add_argument("--documents", help="JSONL of {id, text} for --write-fixture")
    args = ap.parse_args()
    if not Path(args.reference_python).exists():
        print(f"no reference interpreter at {args.reference_python}: see this script's docstring", file=sys.stderr)
        return 2
    if args.write_fixture:
        if not args.documents:
            print("--write-fixture needs --documents", file=sys.stderr)
            return 2
        write_fixture(args.reference_python, Path(args.documents), Path(args.write_fixture))
        return 0
    docs = build_corpus(Path(args.cache), args.debian)
    ref = reference(args.reference_python, docs)
    runs = {"reference": ours(docs, False), "default": ours(docs, True)}
    report(docs, ref, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
