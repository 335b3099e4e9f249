"""The committed books demo sample is exactly what its build script writes."""

from pipeline.sample.books.build import HERE, build


def test_sample_is_reproducible(tmp_path):
    mirror = build(tmp_path)
    built = sorted(p.relative_to(mirror) for p in mirror.rglob("*") if p.is_file())
    committed = HERE / "mirror"
    assert built == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file())
    for rel in built:
        assert (mirror / rel).read_bytes() == (committed / rel).read_bytes(), rel
