"""The `tokenize` stage (its entry file is pipeline/jobs/tokenize.py, which only re-exports it).

Inputs: document datasets (the `mix` output) and `synth` outputs (recognised by their manifest.json:
their synthetic pretrain documents join the shards, their SFT/RL records become sft/ and rl.jsonl).
The shard format (`llm-pipeline-tokens/1`) is written out in `pipeline/tokenize/shards.py`, the SFT
and RL files in `pipeline/tokenize/chat_data.py`, the chat template in `pipeline/tokenize/chat.py`.
"""

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import UsageError
from pipeline.stage import Stage, StageContext, StageResult

ENCODED = "id string, copy int, split string, domain string, order long, ntok long, special long, data binary"


@dataclass
class TokenizeConfig:
    vocab_size: int = 8192  # demo-sized; GPT-2 uses 50257, Llama 3 128256 (uint32 above 65535)
    # an existing tokenizer.json to use instead of training one: a base model's (trainer import-model writes
    # <model>/tokenizer.json), whose chat template beside it (chat_template.jinja / tokenizer_config.json)
    # then renders the SFT and RL records
    tokenizer_path: str = ""
    # extra verifiable RL prompts in GSM8K's format (pipeline/resources/eval/gsm8k_train.jsonl.gz), all train
    # split, appended to rl.jsonl; rl_extra_limit > 0 keeps the first N
    rl_extra_path: str = ""
    rl_extra_limit: int = 0
    train_sample_bytes: int = 50_000_000  # docs/facts.md: 8k vocab on 50 MB trains in 8.6 s on 2 threads
    min_frequency: int = 2  # merges seen once are noise (HF tokenizers' BpeTrainer option)
    shard_tokens: int = 100_000_000  # llm.c / nanoGPT FineWeb shards hold 100M tokens
    order_buckets: int = 8  # the seeded document order is hash buckets read in turn: fixed, so reruns match


def _is_synth(path: str) -> bool:
    from pipeline.storage import filesystem

    return filesystem(path).exists(f"{path.rstrip('/')}/manifest.json")


class Tokenize(Stage):
    name = "tokenize"
    config_class = TokenizeConfig
    output_kind = "files"

    def input_dataset(self, path: str) -> str:
        return f"{path.rstrip('/')}/pretrain" if _is_synth(path) else path

    def run(self, ctx: StageContext) -> StageResult:
        from pyspark.sql import functions as F

        from pipeline.parquet_input import read_parquet_dataset
        from pipeline.schema import validate_columns
        from pipeline.splits import check_val_fraction
        from pipeline.storage import is_local, local_path

        started = time.time()
        cfg: TokenizeConfig = ctx.settings
        if not is_local(ctx.output):
            raise UsageError("tokenize writes memory-mappable shards: --output must be a local or mounted path")
        try:
            check_val_fraction(ctx.config.run.val_fraction)
        except ValueError as e:
            raise UsageError(str(e)) from None
        out = local_path(ctx.output)
        out.mkdir(parents=True, exist_ok=True)
        frames, synth_dirs, has_copies = [], [p for p in ctx.inputs if _is_synth(p)], False
        for path in ctx.inputs:
            # a broken dataset exits 2 naming it; rows no stage can use (null id/text, invalid UTF-8) are
            # set aside into _rejected/ and counted, as read_documents does for the other stages
            df = read_parquet_dataset(ctx.spark, f"{path.rstrip('/')}/pretrain" if path in synth_dirs else path)
            validate_columns([(f.name, f.dataType.simpleString()) for f in df.schema.fields], path)
            df = ctx.set_aside_invalid(df)
            cols = set(df.columns)
            has_copies = has_copies or "mix_copy" in cols
            frames.append(df.select(
                "id", "text", (F.coalesce("domain", F.lit("unknown")) if "domain" in cols else F.lit("unknown"))
                .alias("domain"), (F.col("mix_copy").cast("int") if "mix_copy" in cols else F.lit(0)).alias("copy"),
                # a synthetic document's split comes from the documents it was made from
                (F.col("synth_source_ids") if "synth_source_ids" in cols else F.array(F.col("id"))).alias("sources")))
        docs = frames[0]
        for df in frames[1:]:
            docs = docs.unionByName(df)
        if not cfg.tokenizer_path:  # read twice (tokenizer sample, then encoding): keep it in memory
            docs = docs.cache()
        rows_in = docs.count()
        t0 = time.time()
        tok, tok_stats = self._tokenizer(ctx, cfg, docs)
        tok.save(str(out / "tokenizer.json"))
        template = self._tokenizer_config(out, cfg)
        t1 = time.time()
        stats = {**tok_stats, **self._shards(ctx, cfg, docs, tok, out, has_copies)}
        t2 = time.time()
        stats.update(self._chat(ctx, cfg, synth_dirs, tok, out, stats, template))
        stats["phase_seconds"] = {"read": round(t0 - started, 3), "tokenizer": round(t1 - t0, 3),
                                  "encode_and_write_shards": round(t2 - t1, 3),
                                  "sft_rl": round(time.time() - t2, 3)}
        docs.unpersist()
        return StageResult(stats=stats, rows_in=rows_in)

    @staticmethod
    def _tokenizer(ctx, cfg: TokenizeConfig, docs):
        from pyspark.sql import functions as F

        from pipeline.tokenize.bpe import load_tokenizer, strip_special_text, train_bpe

        if cfg.tokenizer_path:
            return load_tokenizer(cfg.tokenizer_path), {"tokenizer": f"loaded {cfg.tokenizer_path}"}
        sample, size = [], 0
        ordered = docs.filter(F.col("copy") == 0).orderBy(F.xxhash64(F.lit(ctx.seed), F.col("id")))
        for row in ordered.select("text").toLocalIterator():
            sample.append(strip_special_text(row["text"])[0])
            size += len(sample[-1].encode())
            if size >= cfg.train_sample_bytes:
                break
        tok = train_bpe(sample, cfg.vocab_size, cfg.min_frequency)
        return tok, {"tokenizer": "trained", "tokenizer_sample_docs": len(sample), "tokenizer_sample_bytes": size}

    @staticmethod
    def _tokenizer_config(out: Path, cfg: TokenizeConfig):
        from pipeline.tokenize.bpe import EOS
        from pipeline.tokenize.chat import ChatTemplate

        # a base's tokenizer brings its own template (SmolLM2's adds a default system prompt): the records
        # must be rendered as the base was tuned, not in our ChatML
        template = ChatTemplate.beside(cfg.tokenizer_path) if cfg.tokenizer_path else ChatTemplate()
        config = {"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": EOS, "bos_token": None,
                  "pad_token": EOS, "chat_template": template.source, "model_max_length": 1 << 30}
        (out / "tokenizer_config.json").write_text(json.dumps(config, indent=2))
        return template

    @staticmethod
    def _shards(ctx, cfg: TokenizeConfig, docs, tok, out: Path, has_copies: bool) -> dict:
        import numpy as np
        import pandas as pd
        from pyspark.sql import functions as F

        from pipeline.tokenize.bpe import EOS, strip_special_text, token_dtype
        from pipeline.tokenize.parallel_shards import META, PARTS_DIR, merge_shards, write_partition_shards
        from pipeline.tokenize.shards import FORMAT

        vocab = tok.get_vocab_size()
        dtype, eos_id, tok_json = token_dtype(vocab), tok.token_to_id(EOS), tok.to_str()
        from pipeline.splits import MIXED, VAL, sources_split_column

        # one row per document (a doc given twice stays one row here, with two copies below); the split
        # is the run's rule on the ids (pipeline/splits.py), never a choice made here, so a held-out
        # document's text cannot reach the train shards through a synthetic record.
        vf = ctx.config.run.val_fraction
        base = (docs.filter(F.col("copy") == 0).dropDuplicates(["id"])
                .withColumn("split", sources_split_column(F.col("sources"), ctx.seed, vf)))
        mixed = base.filter(F.col("split") == MIXED).count()  # synth never makes these; never let one train
        base = base.filter(F.col("split") != MIXED)
        if has_copies:  # `mix` repeated some documents: encode once, write each copy
            base = base.join(docs.groupBy("id").agg(F.count("*").alias("_n")), "id")
        else:
            base = base.withColumn("_n", F.lit(1).cast("long"))

        def encode(batches):
            from tokenizers import Tokenizer

            t = Tokenizer.from_str(tok_json)
            for pdf in batches:
                cleaned = [strip_special_text(x) for x in pdf["text"]]
                enc = t.encode_batch([c for c, _ in cleaned], add_special_tokens=False)
                data = [np.asarray(e.ids, dtype=dtype).astype(np.dtype(dtype).newbyteorder("<")).tobytes()
                        for e in enc]
                yield pd.DataFrame({"id": pdf["id"].astype(object), "n": pdf["_n"].astype("int64"),
                                    "split": pdf["split"].astype(object), "domain": pdf["domain"].astype(object),
                                    "ntok": np.array([len(e.ids) for e in enc], dtype="int64"),
                                    "special": np.array([n for _, n in cleaned], dtype="int64"), "data": data})

        schema = "id string, n long, split string, domain string, ntok long, special long, data binary"
        encoded = base.select("id", "text", "domain", "split", "_n").mapInPandas(encode, schema)
        rows = (encoded.withColumn("copy", F.explode(F.sequence(F.lit(0), F.col("n").cast("int") - 1)))
                .withColumn("order", F.xxhash64(F.lit(ctx.seed), F.col("id"), F.col("copy")))
                # a seeded shuffle without orderBy's sampling pass (which would encode everything twice):
                # hash buckets in a fixed number, each sorted, read back bucket by bucket
                .repartition(cfg.order_buckets, "order").sortWithinPartitions("order", "id", "copy"))
        # the executors write the shards, bucket by bucket; the driver only merges their metadata (issue 21)
        shutil.rmtree(out / PARTS_DIR, ignore_errors=True)
        meta = [r.asDict() for r in rows.select("split", "domain", "ntok", "special", "data", "copy")
                .mapInPandas(write_partition_shards(str(out), dtype, eos_id, cfg.shard_tokens), META).collect()]
        shards, totals = merge_shards(out, meta, dtype, eos_id)
        tokens, docs_n, special, empty = totals["tokens"], totals["docs"], totals["special"], totals["empty"]
        index = {"format": FORMAT, "dtype": dtype, "vocab_size": vocab, "eos_id": eos_id,
                 "tokenizer": "tokenizer.json", "shards": shards, "seed": ctx.seed,
                 "val_fraction": vf, "split_rule": "crc32(seed\\0id) < val_fraction; derived: all sources val",
                 "tokens_by_domain": tokens,
                 "special_tokens": {t: tok.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>")},
                 "chat_template": "tokenizer_config.json", "sft": "sft/index.json", "sft_jsonl": "sft.jsonl",
                 "rl": "rl.jsonl"}
        (out / "index.json").write_text(json.dumps(index, indent=2))
        return {"rows_out": docs_n["train"] + docs_n["val"], "docs": docs_n, "vocab_size": vocab, "dtype": dtype,
                "tokens": {s: sum(d.values()) for s, d in tokens.items()}, "tokens_by_domain": tokens,
                "shards": len(shards), "special_token_text_removed": special, "empty_docs_skipped": empty,
                "dropped_mixed_split_records": mixed, "val_docs": docs_n[VAL]}

    @staticmethod
    def _chat(ctx, cfg: TokenizeConfig, synth_dirs: list[str], tok, out: Path, stats: dict, template) -> dict:
        from pipeline.storage import filesystem
        from pipeline.tokenize.bpe import EOS
        from pipeline.tokenize.chat_data import gsm8k_rl_records, write_rl, write_sft

        sft, rl = [], []
        for path in synth_dirs:
            fs = filesystem(path, ctx.spark)
            for kind, bucket in (("sft", sft), ("rl", rl)):
                text = fs.read_text(f"{path.rstrip('/')}/{kind}.jsonl") if fs.exists(f"{path}/{kind}.jsonl") else ""
                bucket.extend(json.loads(line) for line in text.splitlines() if line.strip())
        if cfg.rl_extra_path:
            rl.extend(gsm8k_rl_records(cfg.rl_extra_path, cfg.rl_extra_limit))
        vf = ctx.config.run.val_fraction
        return {**write_sft(sft, tok, out, stats["dtype"], tok.token_to_id(EOS), ctx.seed, vf, cfg.shard_tokens,
                            template),
                **write_rl(rl, tok, out, ctx.seed, vf, template)}


STAGE = Tokenize()
