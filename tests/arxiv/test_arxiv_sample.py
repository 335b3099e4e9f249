"""The committed arXiv demo sample is exactly what its build script writes."""

from pipeline.sample.arxiv.build import HERE, build


def test_sample_is_reproducible(tmp_path):
    for path in build(tmp_path):
        assert path.read_bytes() == (HERE / path.name).read_bytes(), path.name
