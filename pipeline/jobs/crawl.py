"""Crawl seed URLs politely (robots.txt, crawl-delay, SSRF guard) into gzip WARC files.

Output (files): OUT/crawl-NNNNN.warc.gz, request + response records, one gzip member each.
The frontier and the WARC files being written live in a state directory outside the atomic
output (default: `<parent of OUT>/_crawl_state/<name of OUT>/`), so a killed crawl resumes on
rerun without refetching pages it already wrote; the finished WARCs are copied into OUT.
"""

import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.stage import Stage, StageContext, StageResult


@dataclass
class CrawlConfig:
    seeds: list[str] = field(default_factory=list)  # seed URLs; also read from --input files (one per line)
    state_dir: str = ""  # empty: <parent of OUT>/_crawl_state/<name of OUT>
    user_agent: str = "llm-pipeline-crawler/0.1 (+https://example.invalid/bot)"
    max_pages: int = 1000
    max_depth: int = 3
    same_host: bool = True  # follow links only to the seeds' hosts ...
    allowed_domains: list[str] = field(default_factory=list)  # ... or these domains (and subdomains)
    concurrency: int = 8  # global limit of requests in flight (one per host at a time)
    min_delay: float = 1.0  # seconds between requests to one host (common polite default, e.g. Heritrix)
    max_crawl_delay: float = 30.0  # cap on a site's robots Crawl-delay (keeps one host from stalling a crawl)
    max_bytes: int = 1_048_576  # per response body; Common Crawl truncates at 1 MiB the same way
    max_seconds: float = 30.0  # one wall-clock deadline per fetch: DNS, connect, headers and body together
    connect_timeout: float = 10.0
    max_redirects: int = 5  # RFC 9110 15.4 suggests clients detect loops; 5 is the robots.txt RFC 9309 limit
    max_retries: int = 3  # transient errors (429/5xx/timeouts), exponential backoff
    backoff_base: float = 1.0  # seconds; retry n waits backoff_base * 2**n
    accept_types: list[str] = field(default_factory=lambda: ["text/html", "application/xhtml+xml", "text/plain"])
    allow_networks: list[str] = field(default_factory=list)  # e.g. ["127.0.0.1/32"] for tests and the demo
    respect_robots: bool = True


def read_seeds(paths: list[str], extra: list[str]) -> list[str]:
    seeds = list(extra)
    for path in paths:
        p = Path(path)
        if not p.is_file():
            raise UsageError(f"seed file not found: {path}")
        try:
            text = p.read_text()
        except UnicodeDecodeError as exc:
            raise UsageError(f"seed file is not UTF-8 text: {path} (byte {exc.start})") from None
        seeds += [line.strip() for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#")]
    return seeds


def settings_from(cfg: CrawlConfig):
    from pipeline.web.crawler import CrawlSettings
    from pipeline.web.fetch import FetchLimits

    limits = FetchLimits(max_bytes=cfg.max_bytes, max_seconds=cfg.max_seconds,
                         connect_timeout=cfg.connect_timeout, max_redirects=cfg.max_redirects,
                         accept_types=tuple(t.lower() for t in cfg.accept_types))
    return CrawlSettings(user_agent=cfg.user_agent, max_pages=cfg.max_pages, max_depth=cfg.max_depth,
                         same_host=cfg.same_host, allowed_domains=tuple(cfg.allowed_domains),
                         concurrency=cfg.concurrency, min_delay=cfg.min_delay,
                         max_crawl_delay=cfg.max_crawl_delay, limits=limits, max_retries=cfg.max_retries,
                         backoff_base=cfg.backoff_base, allow_networks=tuple(cfg.allow_networks),
                         respect_robots=cfg.respect_robots)


def default_state_dir(tmp_output: str) -> Path:
    # The runner hands us OUT's temporary sibling `_tmp-<name>-<attempt>`; the state must outlive it.
    tmp = Path(tmp_output)
    name = tmp.name.removeprefix("_tmp-").rsplit("-", 2)[0]
    return tmp.parent / "_crawl_state" / name


class Crawl(Stage):
    name = "crawl"
    config_class = CrawlConfig
    input_kind = "none"  # seed files are optional (--input), seeds may come from config alone
    output_kind = "files"

    def run(self, ctx: StageContext) -> StageResult:
        from pipeline.storage import is_local
        from pipeline.web.crawler import crawl, warc_dir
        from pipeline.web.warc_write import reconcile

        cfg = ctx.settings
        seeds = read_seeds(ctx.inputs, cfg.seeds)
        if not seeds:
            raise UsageError("crawl needs seed URLs: --input SEEDS_FILE or --set crawl.seeds=[...]")
        if not is_local(ctx.output):
            raise UsageError("crawl writes WARC files locally; copy them to remote storage afterwards")
        state = Path(cfg.state_dir) if cfg.state_dir else default_state_dir(ctx.output)
        stats = crawl(seeds, state, settings_from(cfg))
        out = Path(ctx.output)
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted(warc_dir(state).glob("crawl-*.warc.gz")):
            shutil.copy2(path, out / path.name)
        responses = reconcile(out)
        return StageResult(rows_in=len(seeds), stats={
            **stats, "rows_out": sum(responses.values()), "warc_files": len(list(out.glob("*.warc.gz"))),
            "state_dir": str(state)})


STAGE = Crawl()

if __name__ == "__main__":
    from pipeline.cli import stage_main

    sys.exit(stage_main(STAGE.name))
