"""What this CPU is, and which llama.cpp runtime choices are safe and fast on it.

The decision is a pure function of the CPU's flags and llama.cpp's system-info string, so it
is unit-tested on sample flag sets from any machine (tests/llm/test_cpu.py).

Weight repacking (llama.cpp's "extra buffer types": CPU_REPACK, and AMX on Intel CPUs that
have it) rearranges Q4_K weights for faster matrix multiplies. On CPUs with AMX the AMX path
segfaults in ``ggml_backend_amx_mul_mat`` for Q4_K_M models (ggml-org/llama.cpp#20824; dspy
removed its AMX variant for the same crash). Measured on a Sapphire Rapids Xeon, 2 threads,
480-token prompt: repacking off 168 prompt tok/s and 12.0 gen tok/s; AMX compiled out (repack
kept) 115 and 13.8. So on AMX CPUs we turn repacking off: it is both the safe and the faster
prompt path. Elsewhere repacking stays on where measured faster (docs/SCALING.md, `rag bench llm`).
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from pathlib import Path

AMX_FLAGS = frozenset({"amx_tile", "amx_int8", "amx_bf16"})
_SYSINFO_AMX = re.compile(r"\bAMX_INT8\s*=\s*1\b")
REPACK_SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True)
class CpuInfo:
    model: str
    flags: frozenset[str]
    cores: int

    @property
    def has_amx(self) -> bool:
        return bool(AMX_FLAGS & self.flags)

    @property
    def vendor(self) -> str:
        low = self.model.lower()
        return "intel" if "intel" in low else "amd" if "amd" in low else "other"

    def summary(self) -> str:
        """One line for benchmark output: model, cores and the SIMD features that matter."""
        simd = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8") if f in self.flags]
        return f"{self.model} ({self.cores} cores; {' '.join(simd) or 'no AVX2'})"


def parse_cpuinfo(text: str) -> CpuInfo:
    """CpuInfo from the text of /proc/cpuinfo (first processor's model and flags)."""
    model, flags, cores = "", frozenset(), 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key == "processor":
            cores += 1
        elif key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "Features") and not flags:
            flags = frozenset(value.split())
    return CpuInfo(model or platform.processor() or platform.machine(), flags, max(cores, 1))


def read_cpu_info(path: str | Path = "/proc/cpuinfo") -> CpuInfo:
    try:
        return parse_cpuinfo(Path(path).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return CpuInfo(platform.processor() or platform.machine(), frozenset(), 1)


def build_has_amx(system_info: str) -> bool:
    """Whether this llama.cpp build runs the AMX kernels (its system info says AMX_INT8 = 1)."""
    return bool(_SYSINFO_AMX.search(system_info or ""))


@dataclass(frozen=True)
class RepackChoice:
    enabled: bool
    reason: str


def choose_repack(cpu: CpuInfo, system_info: str = "", setting: str = "auto") -> RepackChoice:
    """Whether llama.cpp may repack weights (``use_extra_bufts``) on this CPU."""
    setting = (setting or "auto").lower()
    if setting not in REPACK_SETTINGS:
        raise ValueError(f"RAG_LLM_REPACK={setting!r}: use one of {', '.join(REPACK_SETTINGS)}")
    if setting == "on":
        return RepackChoice(True, "RAG_LLM_REPACK=on")
    if setting == "off":
        return RepackChoice(False, "RAG_LLM_REPACK=off")
    if cpu.has_amx or build_has_amx(system_info):
        return RepackChoice(
            False,
            "CPU has AMX: llama.cpp's AMX repack path segfaults on Q4_K (llama.cpp#20824); repacking off",
        )
    return RepackChoice(True, "CPU without AMX: CPU_REPACK is safe here")
