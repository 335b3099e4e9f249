"""Bytes per token measured per language on a sample of the run's documents, for mix's token counts.

A fixed 3.4 UTF-8 bytes per token (English web text, docs/facts.md) is ~3x wrong for Chinese, whose
characters are 3 bytes each and often one token. Mix runs before tokenize, so unless a tokenizer is given
(a base model's tokenizer.json, the one tokenize will use), a byte-level BPE of the run's vocabulary size is
trained on half of a per-language sample and measured on the other half (held out, so the ratio is not
inflated by merges learned from the very texts it is measured on). The sample is picked on the executors
(at most `docs_per_lang` documents per language, texts cut to `max_chars`): the driver holds a bounded
amount whatever the input size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_SAMPLE_BYTES = 2000  # a language with less held-out text than this uses the all-language ratio


@dataclass
class Calibration:
    default: float  # bytes per token over the whole held-out sample
    by_lang: dict[str, float] = field(default_factory=dict)
    sample_docs: int = 0
    tokenizer: str = ""  # "given <path>" or "trained on the sample (vocab N)"

    def as_stats(self) -> dict:
        return {"default": round(self.default, 4), "by_lang": {k: round(v, 4) for k, v in self.by_lang.items()},
                "sample_docs": self.sample_docs, "tokenizer": self.tokenizer}


def lang_column(cols: set[str]):
    from pyspark.sql import functions as F

    return F.coalesce(F.col("lang"), F.lit("unknown")) if "lang" in cols else F.lit("unknown")


def calibrate(docs, seed: int, tokenizer_path: str = "", vocab_size: int = 8192, docs_per_lang: int = 100,
              max_chars: int = 4000, fallback: float = 3.4) -> Calibration:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from pipeline.tokenize.bpe import load_tokenizer, train_bpe

    order = Window.partitionBy("_lang").orderBy(F.xxhash64(F.lit(seed), F.col("id")), F.col("id"))
    sample = (docs.select("id", lang_column(set(docs.columns)).alias("_lang"),
                          F.substring("text", 1, max_chars).alias("_text"))
              .withColumn("_rank", F.row_number().over(order)).filter(F.col("_rank") <= docs_per_lang)
              .select("_lang", "_text", "_rank").collect())
    if tokenizer_path:
        tok, held, how = load_tokenizer(tokenizer_path), sample, f"given {tokenizer_path}"
    else:
        train = [r["_text"] for r in sample if r["_rank"] % 2 == 1]
        held = [r for r in sample if r["_rank"] % 2 == 0] or sample
        tok, how = train_bpe(train or [r["_text"] for r in sample], vocab_size), f"trained on the sample (vocab {vocab_size})"
    if not held:
        return Calibration(fallback, {}, 0, "no documents: fixed ratio")
    enc = tok.encode_batch([r["_text"] for r in held], add_special_tokens=False)
    nbytes: dict[str, int] = {}
    ntok: dict[str, int] = {}
    for r, e in zip(held, enc, strict=True):
        nbytes[r["_lang"]] = nbytes.get(r["_lang"], 0) + len(r["_text"].encode("utf-8"))
        ntok[r["_lang"]] = ntok.get(r["_lang"], 0) + len(e.ids)
    total_tok = sum(ntok.values())
    default = sum(nbytes.values()) / total_tok if total_tok else fallback
    by_lang = {lang: nbytes[lang] / ntok[lang] for lang in sorted(nbytes)
               if nbytes[lang] >= MIN_SAMPLE_BYTES and ntok[lang]}
    return Calibration(default, by_lang, len(sample), how)


def spark_calibrated_tokens(text_col, lang_col, cal: Calibration):
    """ceil(UTF-8 bytes / the document's language's bytes per token), as a Spark column (no Python per row)."""
    from pyspark.sql import functions as F

    ratio = F.lit(cal.default)
    if cal.by_lang:
        table = F.create_map(*[x for k, v in cal.by_lang.items() for x in (F.lit(k), F.lit(float(v)))])
        ratio = F.coalesce(table[lang_col], F.lit(cal.default))
    return F.ceil(F.octet_length(text_col) / ratio).cast("long")
