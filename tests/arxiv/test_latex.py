"""LaTeX cleaning: main file, \\input inlining, comments, preamble, bibliography, figures, macros."""

from pipeline.arxiv.latex import collect_macros, expand_macros, find_main_file, paper_text, strip_comments
from pipeline.sample.arxiv.build import INTRO_TEX, MAIN_TEX, METHOD_TEX

FILES = {"ms.tex": MAIN_TEX, "sections/intro.tex": INTRO_TEX, "sections/method.tex": METHOD_TEX}


def test_input_and_include_are_inlined_in_order():
    paper = paper_text(FILES)
    assert paper.main_file == "ms.tex"
    text = paper.text
    assert "Mixtures of experts route each token" in text  # from \input{sections/intro}
    assert "Each expert is a feed-forward block" in text  # from \include{sections/method}
    assert text.index(r"\section{Introduction}") < text.index(r"\section{Method}") < text.index(
        r"\section{Results}")
    assert paper.missing_inputs == []


def test_comments_preamble_bibliography_and_figures_are_gone():
    text = paper_text(FILES).text
    for gone in ("reviewer 2", "TODO rerun", "sections/unused", r"\usepackage", r"\documentclass",
                 "Outrageously large", r"\bibliography", "thebibliography", "must be dropped",
                 "includegraphics", r"\maketitle", r"\newcommand"):
        assert gone not in text, gone
    assert r"50\%" in text  # an escaped percent is text, not a comment


def test_macros_expand_and_math_stays_latex():
    text = paper_text(FILES).text
    assert r"$\mathbb{R}^{512}$" in text
    assert r"\mathcal{L}\left(\theta\right)" in text
    assert r"\varepsilon" in text and r"\operatorname{Tr}(A)" in text
    assert r"\begin{equation}" in text and r"\sum_{i=1}^{k}" in text
    assert r"\loss" not in text and r"\eps" not in text


def test_title_from_preamble_without_thanks():
    assert paper_text(FILES).title == "Sparse Mixtures for Small Language Models"


def test_main_file_ignores_commented_documentclass():
    files = {"a.tex": "% \\documentclass{article}\n\\section{A}", "b.tex": "\\documentclass{article}\nB"}
    assert find_main_file(files) == "b.tex"
    assert find_main_file({"x.tex": "\\section{no class}"}) is None


def test_input_cycle_and_missing_file_do_not_hang():
    files = {"main.tex": "\\documentclass{x}\\begin{document}\\input{a}\\input{nope}\\end{document}",
             "a.tex": "A text \\input{main}"}
    paper = paper_text(files)
    assert "A text" in paper.text
    assert set(paper.missing_inputs) == {"main", "nope"}


def test_macro_with_optional_argument_and_def_with_parameters():
    macros, rest = collect_macros("\\newcommand{\\vect}[2][x]{#1_{#2}}\\def\\pair#1#2{(#1,#2)}body")
    assert rest == "body"
    assert expand_macros("\\vect{i} \\vect[y]{j} \\pair{a}{b}", macros) == "x_{i} y_{j} (a,b)"


def test_self_referencing_macro_stops():
    macros, _ = collect_macros("\\newcommand{\\loop}{\\loop\\loop}")
    assert len(expand_macros("\\loop", macros)) < 1_000_000


def test_strip_comments_keeps_escaped_percent_and_drops_comment_lines():
    assert strip_comments("a 5\\% b % c\n% whole line\nd") == "a 5\\% b \nd"
