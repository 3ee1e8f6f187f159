"""The CPU-dependent runtime choice, decided on sample /proc/cpuinfo flag sets from real machines."""

from __future__ import annotations

import pytest

from rag.llm.cpu import build_has_amx, choose_repack, parse_cpuinfo, read_cpu_info

EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni vaes vpclmulqdq
processor\t: 1
model name\t: AMD EPYC
flags\t\t: fpu vme sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c avx2 bmi2 sha_ni vaes vpclmulqdq
"""
SAPPHIRE_RAPIDS = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8488C
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 avx512_fp16 amx_tile amx_int8
"""
ICE_LAKE = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx512_vnni
"""
SYSINFO_AMX = (
    "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 |"
)
SYSINFO_AVX2 = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | REPACK = 1 |"


def test_parse_cpuinfo_reads_model_flags_and_cores():
    cpu = parse_cpuinfo(EPYC)
    assert cpu.model == "AMD EPYC" and cpu.cores == 2 and "avx2" in cpu.flags
    assert not cpu.has_amx and cpu.vendor == "amd"
    assert "avx2" in cpu.summary() and "AMD EPYC" in cpu.summary()


@pytest.mark.parametrize(
    ("cpuinfo", "sysinfo", "enabled"),
    [
        (EPYC, SYSINFO_AVX2, True),
        (ICE_LAKE, SYSINFO_AVX2, True),  # AVX-512 without AMX: repacking is safe
        (SAPPHIRE_RAPIDS, SYSINFO_AMX, False),
        (SAPPHIRE_RAPIDS, SYSINFO_AVX2, False),  # the CPU has AMX even if this build's info hides it
        (EPYC, SYSINFO_AMX, False),  # a build that runs AMX kernels: never repack
    ],
)
def test_repack_is_off_exactly_where_amx_is_in_play(cpuinfo, sysinfo, enabled):
    choice = choose_repack(parse_cpuinfo(cpuinfo), sysinfo)
    assert choice.enabled is enabled
    assert ("segfaults" in choice.reason) is (not enabled)


def test_settings_force_the_choice_and_bad_values_say_what_is_allowed():
    amx = parse_cpuinfo(SAPPHIRE_RAPIDS)
    assert choose_repack(amx, SYSINFO_AMX, "on").enabled is True
    assert choose_repack(parse_cpuinfo(EPYC), SYSINFO_AVX2, "off").enabled is False
    with pytest.raises(ValueError, match="auto, on, off"):
        choose_repack(amx, "", "sometimes")


def test_build_info_detection():
    assert build_has_amx(SYSINFO_AMX) and not build_has_amx(SYSINFO_AVX2) and not build_has_amx("")


def test_this_machine_is_read(capsys):
    cpu = read_cpu_info()
    assert cpu.model and cpu.cores >= 1
    print("CPU:", cpu.summary())  # shows in -s runs; the choice below is this machine's
    print("repack:", choose_repack(cpu).reason)


def test_missing_cpuinfo_falls_back(tmp_path):
    cpu = read_cpu_info(tmp_path / "absent")
    assert cpu.cores == 1 and not cpu.flags
