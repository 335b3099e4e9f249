"""Build the arXiv demo sample: a bulk-style source tar and a metadata snapshot, byte-for-byte reproducible.

The papers below were written for this project (licence: CC0-1.0, like the rest of the sample);
they only imitate the shape of arXiv sources. Run `python -m pipeline.sample.arxiv.build` to
rewrite `arXiv_src_sample.tar` and `arxiv-metadata.jsonl` next to this file.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

MAIN_TEX = r"""\documentclass[11pt]{article}
% Internal note: reviewer 2 wanted more baselines. This comment must not reach the corpus.
\usepackage{amsmath,graphicx}
\newcommand{\R}{\mathbb{R}}
\newcommand{\loss}[1]{\mathcal{L}\left(#1\right)}
\def\eps{\varepsilon}
\DeclareMathOperator{\Tr}{Tr}
\title{Sparse Mixtures for Small Language Models\thanks{Written for the pipeline sample.}}
\author{A. Author}
\begin{document}
\maketitle
\begin{abstract}
We study sparse mixtures of experts for language models with parameters in $\R^{d}$.
\end{abstract}
\input{sections/intro}
\include{sections/method}
\section{Results}
The loss $\loss{\theta}$ falls below $\eps$ after $\Tr(A)$ steps. % TODO rerun seeds
Fifty percent (50\%) of the experts stay idle.
\begin{figure}[t]
\centering\includegraphics[width=\linewidth]{figures/loss.png}
\caption{Training loss of the figure that must be dropped.}
\end{figure}
\bibliographystyle{plain}
\bibliography{refs}
\begin{thebibliography}{1}
\bibitem{shazeer} N. Shazeer. Outrageously large neural networks. 2017.
\end{thebibliography}
\end{document}
"""

INTRO_TEX = r"""\section{Introduction}
\label{sec:intro}
Mixtures of experts route each token to a few experts, so compute grows slower than parameters.
%\input{sections/unused}
We ask whether the same holds at small scale in $\R^{512}$.
"""

METHOD_TEX = r"""\section{Method}
Each expert is a feed-forward block; the router minimises $\loss{x} + \lambda \|w\|_2^2$.
\begin{equation}
  y = \sum_{i=1}^{k} g_i(x)\, E_i(x)
\end{equation}
"""

SINGLE_TEX = r"""\documentclass{revtex4}
\begin{document}
\title{A Note on Counting Tokens}
\section{Counting}
Byte pair encoding merges frequent pairs; the vocabulary size $V$ bounds the merges by $V - 256$.
\end{document}
"""

OLD_STYLE_TEX = r"""\documentclass{article}
\begin{document}
\section{Strings}
Old submissions used Latin-1: Schr""" + "\u00f6" + r"""dinger and na""" + "\u00ef" + r"""ve strings.
\end{document}
"""

METADATA = [
    {"id": "2301.00001", "title": "Sparse Mixtures for Small\n  Language Models", "categories": "cs.CL cs.LG",
     "versions": [{"version": "v1"}, {"version": "v2"}], "license": "http://creativecommons.org/publicdomain/zero/1.0/"},
    {"id": "2301.00002", "title": "A Note on Counting Tokens", "categories": "cs.CL",
     "versions": [{"version": "v1"}], "license": "http://creativecommons.org/publicdomain/zero/1.0/"},
    {"id": "hep-th/9901001", "title": "Strings in Latin-1", "categories": "hep-th",
     "versions": [{"version": "v1"}], "license": "http://creativecommons.org/publicdomain/zero/1.0/"},
]


def gzip_bytes(data: bytes) -> bytes:
    """gzip with mtime 0 and no file name, so the bytes never change between builds."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0, filename="") as f:
        f.write(data)
    return buf.getvalue()


def add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def tar_bytes(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            add_file(tar, name, data)
    return buf.getvalue()


def multi_file_paper() -> bytes:
    """A gzipped tar: main file, two `\\input` sections, a .bib and a figure (as e-prints ship)."""
    return gzip_bytes(tar_bytes({
        "ms.tex": MAIN_TEX.encode(), "sections/intro.tex": INTRO_TEX.encode(),
        "sections/method.tex": METHOD_TEX.encode(), "refs.bib": b"@article{shazeer, title={MoE}}\n",
        "figures/loss.png": b"\x89PNG\r\n\x1a\n" + bytes(64),
    }))


def sample_papers() -> dict[str, bytes]:
    """Bundle member name -> paper payload, in bulk-tar naming (`<yymm>/<id>.gz`)."""
    return {
        "2301/2301.00001v2.gz": multi_file_paper(),
        "2301/2301.00002v1.gz": gzip_bytes(SINGLE_TEX.encode()),
        "9901/hep-th9901001.gz": gzip_bytes(OLD_STYLE_TEX.encode("latin-1")),
        "2301/2301.00003v1.gz": gzip_bytes(b"%PDF-1.4\n% a PDF-only submission has no LaTeX\n"),
    }


def build(out_dir: Path = HERE) -> list[Path]:
    bundle = out_dir / "arXiv_src_sample.tar"
    bundle.write_bytes(tar_bytes(sample_papers()))
    meta = out_dir / "arxiv-metadata.jsonl"
    meta.write_text("".join(json.dumps(m, sort_keys=True) + "\n" for m in METADATA))
    return [bundle, meta]


if __name__ == "__main__":
    for path in build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE):
        print(path)
