"""Data DAG: raw sources to curated documents and token shards, one SparkSubmitOperator per stage.

Wiring only: stages, their inputs and the Params form. Each task runs the same
`pipeline/jobs/<stage>.py` a user would `spark-submit` by hand against `spark_default`
(`local[*]` embedded, the Spark master in compose). Defaults run the bundled sample.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import yaml
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import DAG, Asset, Param, task

from pipeline.config import CURATED_ASSET_NAME, TOKENS_ASSET_NAME
from pipeline.orchestration import StageStep, default_data_root, safe_run_id
from pipeline.registry import job_path

RUN_ID = "{{ params.run_id or safe_run_id(run_id) }}"
RUN_DIR = "{{ params.data_root }}/" + RUN_ID
SAMPLE = "ti.xcom_pull(task_ids='sample_inputs')"
# Param defaults sized for the bundled sample (dags/demo.yaml); the stage dataclasses hold the real-run ones.
GSM8K_TRAIN = str(Path(__file__).resolve().parent.parent / "pipeline" / "resources" / "eval" / "gsm8k_train.jsonl.gz")
DEMO = yaml.safe_load((Path(__file__).resolve().parent / "demo.yaml").read_text())["llm_data_pipeline"]


def source_input(param: str, key: str) -> str:
    """A source's input: the Param when set, else the bundled sample's path."""
    return "{{ params." + param + " or " + SAMPLE + "['" + key + "'] }}"


# a base model's tokenizer.json (the import_base task's return value), else ""
BASE_TOKENIZER = "{{ ti.xcom_pull(task_ids='import_base') or '' }}"
STEPS = [
    StageStep("crawl", toggle="run_crawl", overrides=(
        ("crawl.seeds", "{{ params.crawl_seeds | tojson }}"), ("crawl.max_pages", "{{ params.crawl_max_pages }}"),
        ("crawl.allow_networks", "{{ params.crawl_allow_networks | tojson }}"))),
    StageStep("ingest-warc", after=("crawl",), raw_inputs=source_input("warc_inputs", "warc")
              + "{{ ',' ~ params.data_root ~ '/' ~ (params.run_id or safe_run_id(run_id)) ~ '/crawl'"
              " if params.run_crawl else '' }}"),
    StageStep("extract", reads=("ingest-warc",)),
    StageStep("ingest-jsonl", raw_inputs=source_input("jsonl_inputs", "jsonl"), toggle="use_jsonl"),
    StageStep("ingest-arxiv", raw_inputs=source_input("arxiv_inputs", "arxiv"), toggle="use_arxiv",
              overrides=(("ingest-arxiv.metadata_path",
                          "{{ " + SAMPLE + "['arxiv_metadata'] if not params.arxiv_inputs else '' }}"),)),
    StageStep("ingest-github", raw_inputs=source_input("github_inputs", "github"), toggle="use_github"),
    StageStep("ingest-books", raw_inputs=source_input("books_inputs", "books"), toggle="use_books"),
    StageStep("normalize", reads=("extract", "ingest-jsonl", "ingest-arxiv", "ingest-github", "ingest-books")),
    StageStep("score-rules", reads=("normalize",)),
    StageStep("train-quality", reads=("normalize",)),
    StageStep("quality", reads=("score-rules",), after=("train-quality",),
              overrides=(("quality.model", RUN_DIR + "/train-quality/model.bin"),)),
    StageStep("train-domain", reads=("normalize",)),
    StageStep("domain", reads=("quality",), after=("train-domain",),
              overrides=(("domain.model", RUN_DIR + "/train-domain/model.bin"),)),
    StageStep("filter", reads=("domain",), toggle="run_filter",
              overrides=(("filter.min_quality_score", "{{ params.min_quality_score }}"),
                         ("filter.quality_keep_fraction", "{{ params.quality_keep_fraction }}"),
                         ("filter.gopher.min_words", "{{ params.gopher_min_words }}"))),
    StageStep("decontaminate", reads=("filter",), toggle="run_decontaminate",
              overrides=(("decontaminate.eval_path", source_input("eval_path", "eval")),)),
    StageStep("pii", reads=("decontaminate",)),
    StageStep("dedup-exact", reads=("pii",), toggle="run_dedup"),
    StageStep("dedup-minhash", reads=("dedup-exact",), toggle="run_dedup",
              overrides=(("dedup-minhash.threshold", "{{ params.minhash_threshold }}"),)),
    StageStep("dedup-semantic", reads=("dedup-minhash",), toggle="run_dedup"),
    StageStep("mix", reads=("dedup-semantic",), overrides=(("mix.weights", "{{ params.mix_weights | tojson }}"),
                                                          # token counts in the tokenizer tokenize will use
                                                          ("mix.tokenizer_path", BASE_TOKENIZER))),
    # run.val_fraction goes to both: the split is decided once per document id, before synthesis
    StageStep("synth", reads=("mix",), toggle="run_synth",
              overrides=(("synth.long_pretrain.target_tokens", "{{ params.long_context_tokens }}"),
                         # a model name or HF folder: synth serves it with vLLM for the task; "": templates
                         # a running server (compose's `llm` service) wins over serving one for the task
                         ("synth.backend",
                          "{{ 'openai' if params.synth_llm_model or params.synth_llm_endpoint else 'template' }}"),
                         ("synth.llm.model_path", "{{ params.synth_llm_model }}"),
                         ("synth.llm.endpoint", "{{ params.synth_llm_endpoint }}"),
                         ("synth.short_pretrain.max_records", "{{ params.synth_llm_records }}"),
                         ("synth.short_sft.max_records", "{{ params.synth_llm_records }}"),
                         ("run.val_fraction", "{{ params.val_fraction }}"))),
    StageStep("tokenize", reads=("mix", "synth"), output="tokens",
              overrides=(("tokenize.vocab_size", "{{ params.vocab_size }}"),
                         # a base model's tokenizer.json (the import_base task's return value), else "": train one
                         ("tokenize.tokenizer_path", BASE_TOKENIZER),
                         # GSM8K train items as extra GRPO prompts (bundled, MIT), rendered in the base's template
                         ("tokenize.rl_extra_path", "{{ '" + GSM8K_TRAIN + "' if params.gsm8k_rl_items else '' }}"),
                         ("tokenize.rl_extra_limit", "{{ params.gsm8k_rl_items }}"),
                         ("run.val_fraction", "{{ params.val_fraction }}"))),
]
FOLDERS = {step.stage: step.folder for step in STEPS}
CURATED_FROM = "mix"
TOKENS_FROM = "tokenize"
REPORT_FILE = "report.html"  # <run dir>/report.html: written by the `report` task, named in the Asset extras

curated = Asset(name=CURATED_ASSET_NAME)
tokens = Asset(name=TOKENS_ASSET_NAME)

with DAG(
    dag_id="llm_data_pipeline",
    description="Raw sources to curated documents and token shards (PySpark stages).",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    is_paused_upon_creation=True,  # the daily schedule is off until a user switches it on
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": timedelta(seconds=20)},
    user_defined_macros={"safe_run_id": safe_run_id},
    tags=["llm-pipeline", "data"],
    params={
        "data_root": Param(default_data_root(), type="string", title="Data root",
                           description="Local path or Hadoop URI (s3a://...) holding run folders."),
        "run_id": Param("", type="string", title="Run id",
                        description="Folder name of this run; empty: derived from Airflow's run id."),
        "config_file": Param("", type="string", title="Config file",
                             description="Optional YAML of stage settings (see README, Configuration)."),
        "warc_inputs": Param("", type="string", title="WARC/WET inputs",
                             description="Comma-separated files/folders/URIs; empty: the bundled web sample."),
        "run_crawl": Param(False, type="boolean", title="Crawl seed URLs"),
        "crawl_seeds": Param([], type="array", items={"type": "string"}, title="Crawl seeds"),
        "crawl_max_pages": Param(DEMO["crawl_max_pages"], type="integer", minimum=1, title="Crawl: max pages",
                                 description="Demo-sized (dags/demo.yaml); real-run default 1000."),
        "crawl_allow_networks": Param([], type="array", items={"type": "string"},
                                      title="Crawl: allowed private networks",
                                      description="CIDRs the SSRF guard lets through, e.g. 127.0.0.1/32."),
        "use_jsonl": Param(True, type="boolean", title="Ingest JSONL"),
        "jsonl_inputs": Param("", type="string", title="JSONL inputs", description="Empty: bundled sample."),
        "use_arxiv": Param(True, type="boolean", title="Ingest arXiv"),
        "arxiv_inputs": Param("", type="string", title="arXiv inputs", description="Empty: bundled sample."),
        "use_github": Param(True, type="boolean", title="Ingest GitHub"),
        "github_inputs": Param("", type="string", title="GitHub inputs", description="Empty: bundled sample."),
        "use_books": Param(True, type="boolean", title="Ingest books"),
        "books_inputs": Param("", type="string", title="Books inputs", description="Empty: bundled sample."),
        "run_filter": Param(True, type="boolean", title="Filter by rules and quality"),
        "min_quality_score": Param(0.5, type="number", minimum=0, maximum=1, title="Min quality score"),
        "quality_keep_fraction": Param(DEMO["quality_keep_fraction"], type="number", minimum=0, maximum=1, title="Keep top quality fraction",
                                       description="DCLM-style: keep this share of English web docs by "
                                                   "quality score (0: use the min score instead). Demo-sized "
                                                   "(dags/demo.yaml); real-run default 0."),
        "gopher_min_words": Param(50, type="integer", minimum=0, title="Gopher: min words"),
        "run_decontaminate": Param(True, type="boolean", title="Decontaminate against eval data"),
        "eval_path": Param("", type="string", title="Evaluation JSONL",
                           description="Items that must not leak into training; empty: the demo's."),
        "run_dedup": Param(True, type="boolean", title="Deduplicate (exact, MinHash, semantic)"),
        "minhash_threshold": Param(0.8, type="number", minimum=0.1, maximum=1, title="MinHash Jaccard threshold"),
        "mix_weights": Param({}, type="object", title="Mix weights per domain",
                             description='Target token shares, e.g. {"science": 0.3, "technology": 0.3}.'),
        "run_synth": Param(True, type="boolean", title="Synthesize data"),
        "long_context_tokens": Param(DEMO["long_context_tokens"], type="integer", minimum=128, title="Synth: long-context length",
                                     description="Target tokens of long pretraining samples. Demo-sized "
                                                 "(dags/demo.yaml); real-run default 8192."),
        "synth_llm_model": Param("", type="string", title="Synth: LLM (served with vLLM)",
                                 description="Empty: template generators (offline). smollm2-135m-instruct or an HF "
                                             "folder: rephrasings, SFT pairs, word problems and long-context "
                                             "questions written by that model, served for the synth task "
                                             "(.venv-llm, make setup). make demo sets smollm2-135m-instruct."),
        "synth_llm_endpoint": Param(os.environ.get("PIPELINE_SYNTH_LLM_ENDPOINT", ""), type="string",
                                    title="Synth: LLM endpoint (a running server)",
                                    description="An OpenAI-compatible base URL, e.g. http://llm:8000/v1 (compose's "
                                                "`llm` profile). Set: synth sends its requests there instead of "
                                                "starting an engine. Default: $PIPELINE_SYNTH_LLM_ENDPOINT."),
        "synth_llm_records": Param(DEMO["synth_llm_records"], type="integer", minimum=1,
                                   title="Synth: rephrasings and SFT pairs (each)",
                                   description="Demo-sized (dags/demo.yaml); real-run default 1000."),
        "vocab_size": Param(DEMO["vocab_size"], type="integer", minimum=256, title="Tokenizer vocabulary size",
                            description="Demo-sized (dags/demo.yaml); real-run default 8192."),
        "base_model": Param("", type="string", title="Base model (its tokenizer and chat template)",
                            description="Empty: train a BPE tokenizer. smollm2-135m-instruct, an HF Llama folder or a "
                                        ".gguf: imported once (python -m trainer import-model, cached under "
                                        "<data_root>/models/) and its tokenizer.json and chat template used; "
                                        "then vocab_size plays no part. The training DAG's base_model must match."),
        "gsm8k_rl_items": Param(0, type="integer", minimum=0, title="GSM8K train items as RL prompts",
                                description="0: only the synthesized RL items. N: also the first N of GSM8K train "
                                            "(pipeline/resources/eval/gsm8k_train.jsonl.gz, 7,473 items, MIT)."),
        "val_fraction": Param(DEMO["val_fraction"], type="number", minimum=0, maximum=0.5, title="Validation fraction",
                              description="Share of documents (by id hash) held out: val shards and held-out "
                                          "SFT/RL items; records made from val documents stay val. "
                                          "Demo-sized (dags/demo.yaml); real-run default 0.01."),
    },
) as dag:

    @task
    def sample_inputs(params=None):
        """Paths of the bundled sample (the web WARC is generated on first use)."""
        from pipeline.orchestration import sample_inputs as paths

        return paths(params["data_root"])

    inputs_ready = sample_inputs()

    @task
    def import_base(params=None) -> str:
        """The base model's tokenizer.json ("" without a base), importing the model on first use."""
        import subprocess

        from trainer.base_orchestration import base_model_dir

        if not params["base_model"]:
            return ""
        out = base_model_dir(params["base_model"], params["data_root"])
        if Path(out) != Path(params["base_model"]):  # not already an imported run: import it (a finished import is reused)
            subprocess.run([sys.executable, "-m", "trainer", "import-model", "--source", params["base_model"],
                            "--out", out], check=True)
        return f"{out}/tokenizer.json"

    base_tokenizer = import_base()
    tasks = {}
    for step in STEPS:
        args = ["--output", f"{RUN_DIR}/{step.folder}", "--run-id", RUN_ID,
                "--config", "{{ params.config_file }}", "--set", "run.data_root={{ params.data_root }}"]
        for upstream in step.reads:
            args += ["--input", f"{RUN_DIR}/{FOLDERS[upstream]}"]
        if step.raw_inputs:
            args += ["--input", step.raw_inputs]
        if step.toggle:
            args += ["--skip", "{{ 'false' if params." + step.toggle + " else 'true' }}"]
        for key, value in step.overrides:
            args += ["--set", f"{key}={value}"]
        op = SparkSubmitOperator(
            task_id=step.stage.replace("-", "_"),
            application=str(job_path(step.stage)),
            conn_id="spark_default",
            name=f"llm-pipeline-{step.stage}",
            application_args=args,
            # PYTHONSAFEPATH: job files live beside e.g. `tokenize.py`, which must not shadow the stdlib.
            env_vars={"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
                      "PYTHONSAFEPATH": "1"},
        )
        upstream_tasks = [tasks[u] for u in (*step.reads, *step.after)]
        (upstream_tasks or [inputs_ready]) >> op
        if step.raw_inputs:
            inputs_ready >> op
        tasks[step.stage] = op

    @task(outlets=[curated, tokens])
    def publish(params=None, run_id=None, outlet_events=None):
        """Mark the run done in the catalog; the Asset events carry where the data and its report are."""
        from pipeline.orchestration import finish_run

        info = finish_run(params["data_root"], params["run_id"] or safe_run_id(run_id), TOKENS_FROM)
        run_dir = info["path"].rsplit("/", 1)[0]
        info["report"] = f"{run_dir}/{REPORT_FILE}"  # written by `report`, the next and last task
        outlet_events[curated].extra = {**info, "path": f"{run_dir}/{CURATED_FROM}"}
        outlet_events[tokens].extra = {**info, "tokens_dir": info["path"]}
        return info

    @task
    def report(info: dict, params=None):
        """`python -m pipeline report` for the run; logs where the HTML report is."""
        import subprocess

        argv = [sys.executable, "-m", "pipeline", "report", "--run", info["run_id"],
                "--data-root", params["data_root"], "--out", info["report"]]
        if params["config_file"]:
            argv += ["--config", params["config_file"]]
        subprocess.run(argv, check=True)
        print(f"run report: {info['report']}", flush=True)
        return info["report"]

    base_tokenizer >> [tasks[CURATED_FROM], tasks[TOKENS_FROM]]
    published = publish()
    tasks[TOKENS_FROM] >> published
    report(published)
