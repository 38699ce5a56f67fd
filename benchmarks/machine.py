"""What the benchmarks record about the machine they ran on."""

from pathlib import Path


def cpu_model(default: str = "unknown CPU") -> str:
    """Return the CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return default
