"""CLI: `python -m pipeline.sample.web [build] --out DIR` or `python -m pipeline.sample.web serve DIR`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipeline.sample.web import SEED, build_sample, serve_directory


def main(argv: list[str]) -> int:
    if argv and argv[0] not in ("build", "serve", "-h", "--help"):
        argv = ["build", *argv]
    p = argparse.ArgumentParser(prog="python -m pipeline.sample.web")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write site/, warc/sample.warc.gz and manifest.jsonl")
    b.add_argument("--out", required=True)
    b.add_argument("--seed", type=int, default=SEED)
    s = sub.add_parser("serve", help="serve a built site on 127.0.0.1 until interrupted")
    s.add_argument("site")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port")
    s.add_argument("--seeds-out", help="write the seed URL to this file (for `crawl --input`)")
    args = p.parse_args(argv)
    if args.command == "build":
        print(build_sample(args.out, args.seed))
        return 0
    with serve_directory(args.site, args.port) as url:
        if args.seeds_out:
            Path(args.seeds_out).write_text(url + "\n")
        print(url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
