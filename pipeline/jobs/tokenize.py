"""Train a byte-level BPE tokenizer and write packed token shards (+ SFT with loss masks, RL prompts).

The stage lives in `pipeline/tokenize/job.py`. This file only re-exports it, because its name is
also the standard library's `tokenize`: `python pipeline/jobs/<stage>.py` (how spark-submit runs
every stage) puts this folder first on sys.path, and linecache/inspect then import this file as
`tokenize`. When that happens it loads the real standard-library module in its place.
"""

import sys

if __name__ == "tokenize":
    import importlib.util as _util
    import os as _os

    _spec = _util.spec_from_file_location("tokenize", _os.path.join(_os.path.dirname(_os.__file__), "tokenize.py"))
    _stdlib = _util.module_from_spec(_spec)
    sys.modules["tokenize"] = _stdlib  # the importer returns sys.modules["tokenize"]: the real one
    _spec.loader.exec_module(_stdlib)
else:
    from pipeline.tokenize.job import STAGE, Tokenize, TokenizeConfig  # noqa: F401

    if __name__ == "__main__":
        from pipeline.cli import stage_main

        sys.exit(stage_main(STAGE.name))
