"""LaTeX sources of one paper -> the paper's text, the way arXiv corpora are cleaned.

Follows RedPajama's arXiv cleaner (Together, 2023) and the Pile's arXiv set (Gao et al., 2020):
find the main file (`\\documentclass`), inline `\\input`/`\\include`, strip comments, drop the
preamble, bibliography and figures, expand simple user macros (`\\newcommand`, `\\def`), and keep
section commands and math as LaTeX so structure and formulas survive.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

MAX_INPUT_DEPTH = 10  # \input chains deeper than this are cycles or generated files
MAX_EXPANSION_PASSES = 5  # macros defined through other macros need a few passes
MAX_GROWTH = 10  # a macro expansion may not grow the text beyond 10x (self-referencing macros)

_INPUT = re.compile(r"\\(input|include|subfile)(?![A-Za-z@])\s*(?:\{([^{}]+)\}|([^\s{}\\]+))")
_DOCCLASS = re.compile(r"^[ \t]*\\documentclass", re.M)
_BEGIN_DOC = re.compile(r"\\begin\s*\{document\}")
_END_DOC = re.compile(r"\\end\s*\{document\}")
_COMMENT = re.compile(r"(?<!\\)((?:\\\\)*)%.*")
_ENV_DROP = ("figure", "figure*", "wrapfigure", "thebibliography", "comment", "filecontents",
             "filecontents*")
_CMD_DROP = re.compile(
    r"\\(bibliography|bibliographystyle|includegraphics|maketitle|printbibliography|"
    r"tableofcontents|listoffigures|listoftables|nocite)\b\*?(\s*\[[^\]]*\])*(\s*\{[^{}]*\})?")
_BLANKS = re.compile(r"\n[ \t]*(\n[ \t]*){2,}")
TEX_SUFFIXES = (".tex", ".ltx", ".latex")


@dataclass
class Macro:
    nargs: int
    body: str
    default: str | None = None  # the optional first argument's default, `\newcommand\x[2][d]{..}`


@dataclass
class Paper:
    text: str
    title: str | None
    main_file: str
    missing_inputs: list[str] = field(default_factory=list)


def strip_comments(tex: str) -> str:
    """Drop `%` comments (not `\\%`); a line that was only a comment disappears entirely."""
    out = []
    for line in tex.split("\n"):
        if line.lstrip().startswith("%"):
            continue
        out.append(_COMMENT.sub(r"\1", line))
    return "\n".join(out)


def find_main_file(files: dict[str, str]) -> str | None:
    """The file with an uncommented `\\documentclass`; ties prefer `\\begin{document}`, then size."""
    candidates = []
    for name, tex in files.items():
        clean = strip_comments(tex)
        if _DOCCLASS.search(clean):
            candidates.append((bool(_BEGIN_DOC.search(clean)), len(clean), name))
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c[0], c[1], [-ord(ch) for ch in c[2]]))[2]


def _resolve(name: str, files: dict[str, str], base_dir: str) -> str | None:
    name = name.strip().strip('"')
    options = [name] if name.endswith(TEX_SUFFIXES) else [name + ".tex", name]
    for option in options:
        for candidate in (posixpath.normpath(posixpath.join(base_dir, option)), posixpath.normpath(option)):
            if candidate in files:
                return candidate
    return None


def inline_inputs(tex: str, files: dict[str, str], base_dir: str = "", missing: list[str] | None = None,
                  depth: int = 0, stack: tuple[str, ...] = ()) -> str:
    """Replace `\\input{x}`/`\\include{x}` with x's (comment-stripped) text, recursively."""
    missing = missing if missing is not None else []

    def replace(m: re.Match) -> str:
        target = m.group(2) or m.group(3)
        resolved = _resolve(target, files, base_dir)
        if resolved is None or resolved in stack or depth >= MAX_INPUT_DEPTH:
            missing.append(target.strip())
            return ""
        child = strip_comments(files[resolved])
        return "\n" + inline_inputs(child, files, base_dir, missing, depth + 1, (*stack, resolved)) + "\n"

    return _INPUT.sub(replace, tex)


def read_group(tex: str, i: int, open_ch: str = "{", close_ch: str = "}") -> tuple[str, int] | None:
    """The balanced group starting at tex[i] (after blanks): (content, index after it) or None."""
    while i < len(tex) and tex[i] in " \t\n":
        i += 1
    if i >= len(tex) or tex[i] != open_ch:
        return None
    level, j = 0, i
    while j < len(tex):
        ch = tex[j]
        if ch == "\\":
            j += 2
            continue
        if ch == open_ch:
            level += 1
        elif ch == close_ch:
            level -= 1
            if level == 0:
                return tex[i + 1:j], j + 1
        j += 1
    return None


_DEFINE = re.compile(r"\\(newcommand|renewcommand|providecommand|DeclareMathOperator)\*?\s*"
                     r"(?:\{\s*\\([A-Za-z@]+)\s*\}|\\([A-Za-z@]+))")
_DEF = re.compile(r"\\(?:def|gdef|edef)\s*\\([A-Za-z@]+)((?:#\d)*)\s*(?=\{)")


def collect_macros(tex: str) -> tuple[dict[str, Macro], str]:
    """User macros defined with `\\newcommand`-family or simple `\\def`; returns (macros, tex without them)."""
    macros: dict[str, Macro] = {}
    spans: list[tuple[int, int]] = []
    for m in _DEFINE.finditer(tex):
        name = m.group(2) or m.group(3)
        i, nargs, default = m.end(), 0, None
        if (count := read_group(tex, i, "[", "]")) is not None:
            if not count[0].strip().isdigit():
                continue
            nargs, i = int(count[0]), count[1]
            if (opt := read_group(tex, i, "[", "]")) is not None:
                default, i = opt
        body = read_group(tex, i)
        if body is None:
            continue
        text = body[0]
        if m.group(1) == "DeclareMathOperator":
            text = f"\\operatorname{{{text}}}"
        macros[name] = Macro(nargs, text, default)
        spans.append((m.start(), body[1]))
    for m in _DEF.finditer(tex):
        body = read_group(tex, m.end())
        if body is None:
            continue
        macros[m.group(1)] = Macro(len(m.group(2)) // 2, body[0])
        spans.append((m.start(), body[1]))
    out, last = [], 0
    for start, end in sorted(spans):
        if start >= last:
            out.append(tex[last:start])
            last = end
    out.append(tex[last:])
    return macros, "".join(out)


def expand_macros(tex: str, macros: dict[str, Macro]) -> str:
    """Expand user macros in place; arguments are brace groups, `#n` in the body takes the n-th."""
    if not macros:
        return tex
    pattern = re.compile(r"\\(" + "|".join(sorted(map(re.escape, macros), key=len, reverse=True))
                         + r")(?![A-Za-z@])")
    limit = max(len(tex) * MAX_GROWTH, 10_000)
    for _ in range(MAX_EXPANSION_PASSES):
        out, last, changed = [], 0, False
        for m in pattern.finditer(tex):
            if m.start() < last:
                continue
            macro = macros[m.group(1)]
            i, args = m.end(), []
            if macro.default is not None:
                opt = read_group(tex, i, "[", "]")
                args.append(opt[0] if opt else macro.default)
                i = opt[1] if opt else i
            while len(args) < macro.nargs:
                group = read_group(tex, i)
                if group is None:
                    break
                args.append(group[0])
                i = group[1]
            if len(args) < macro.nargs:
                continue
            body = re.sub(r"#(\d)", lambda a, args=args: args[int(a.group(1)) - 1]
                          if 0 < int(a.group(1)) <= len(args) else "", macro.body)
            out.append(tex[last:m.start()] + body)
            last, changed = i, True
        out.append(tex[last:])
        tex = "".join(out)
        if not changed or len(tex) > limit:
            break
    return tex


def drop_environments(tex: str, names: tuple[str, ...] = _ENV_DROP) -> str:
    for name in names:
        env = re.escape(name)
        tex = re.sub(rf"\\begin\s*\{{{env}\}}.*?\\end\s*\{{{env}\}}", "", tex, flags=re.S)
    return tex


def title_of(tex: str) -> str | None:
    m = re.search(r"\\title\s*(\[[^\]]*\])?\s*(?=\{)", tex)
    if not m:
        return None
    group = read_group(tex, m.end())
    if group is None:
        return None
    title = re.sub(r"\\thanks\s*\{[^{}]*\}", "", group[0])
    title = re.sub(r"\\\\|\\newline", " ", title)
    return re.sub(r"\s+", " ", title).strip() or None


def paper_text(files: dict[str, str]) -> Paper | None:
    """The cleaned text of a paper given its source files (name -> text); None without a main file."""
    main = find_main_file(files)
    if main is None:
        return None
    missing: list[str] = []
    tex = inline_inputs(strip_comments(files[main]), files, posixpath.dirname(main), missing,
                        stack=(main,))
    tex = drop_environments(tex, ("comment",))
    macros, tex = collect_macros(tex)
    begin = _BEGIN_DOC.search(tex)
    preamble, body = (tex[:begin.start()], tex[begin.end():]) if begin else ("", tex)
    end = _END_DOC.search(body)
    body = body[:end.start()] if end else body
    title = title_of(preamble) or title_of(body)
    body = re.sub(r"\\(title|author|date|affiliation|address|email|thanks)\s*(\[[^\]]*\])?\s*\{[^{}]*\}",
                  "", body)
    body = drop_environments(expand_macros(body, macros))
    body = _CMD_DROP.sub("", body)
    body = re.sub(r"[ \t]+\n", "\n", body)
    body = _BLANKS.sub("\n\n", body).strip()
    return Paper(text=body, title=expand_macros(title, macros) if title else None, main_file=main,
                 missing_inputs=missing)
