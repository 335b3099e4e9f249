"""Retrieval over a run's curated corpus: chunking, the index files, hybrid search, cited answers.

Shared by the `index` stage (pipeline/jobs/index.py writes the index), `python -m trainer rag`
(reads it and answers through the served model) and the MCP server's search tool. Nothing here
imports pipeline/ or trainer/, so both may use it.
"""
