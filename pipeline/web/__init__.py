"""Web ingest, pure logic: URL normalisation and scope, robots.txt, the SSRF guard, the persistent
frontier, fetching, the crawl loop, WARC reading/writing, charset decoding, extraction, language id.

The Spark/CLI layer is pipeline/jobs/{crawl,ingest_warc,extract}.py.
"""
