"""Peak memory: of this process (VmHWM), and of a process tree (a command and its workers) sampled from /proc."""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05


@dataclass(frozen=True)
class TreeRun:
    """What a command printed, and its process tree's peak memory: proportional (shared pages split) and the largest process."""

    stdout: str
    returncode: int
    peak_pss_mb: float  # the whole tree at its peak: each shared page counted once, split between its sharers
    peak_processes: int
    largest_rss_mb: float


def run_tree(command: list[str], cwd: Path, stdin: str = "") -> TreeRun:
    """Run `command` to the end with `stdin` as its input, sampling its tree's memory every 50 ms (Linux /proc)."""
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    assert process.stdin is not None
    process.stdin.write(stdin)
    process.stdin.close()
    peak_pss = largest = 0.0
    peak_processes = 1
    while process.poll() is None:
        pids = _tree(process.pid)
        pss = sum(_kilobytes(pid, "Pss") for pid in pids) / 1024
        if pss > peak_pss:
            peak_pss, peak_processes = pss, len(pids)
        largest = max(largest, *(_kilobytes(pid, "Rss") / 1024 for pid in pids))
        time.sleep(SAMPLE_SECONDS)
    out, err = process.stdout.read(), process.stderr.read()
    if process.returncode:
        raise RuntimeError(f"{' '.join(command[:4])}... failed ({process.returncode}): {err[-500:]}")
    return TreeRun(out, process.returncode, peak_pss, peak_processes, largest)


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def _kilobytes(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return 0.0


def peak_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's ru_maxrss of a child started by subprocess also counts its parent's peak (exec keeps the
    high-water mark of the memory it replaces, and the child was the parent until exec): after this bench
    had mapped a 400 MB stereo mix, every child reported 480 MB. VmHWM is the child's own memory only.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return usage / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS, KB elsewhere
