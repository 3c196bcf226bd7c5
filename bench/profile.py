"""Sample a worker with py-spy while wrk loads it, and summarise where the time goes.

py-spy (bench/requirements.txt) attaches to the running worker from outside, so the app runs
unmodified. `--format raw` writes collapsed stacks (`frame;frame;... count`), which we fold
into the functions with the most inclusive and self samples.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")


def py_spy_binary() -> str | None:
    """py-spy next to our interpreter (installed from bench/requirements.txt), or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _short(frame: str) -> str:
    """`func (path/to/site-packages/pkg/mod.py:12)` → `pkg/mod.py:func`."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{match['func']}"


PROJECT = ("core/", "app/", "routers/", "main.py")


def package(name: str) -> str:
    """`sqlalchemy/orm/state.py:f` → `sqlalchemy`; the project's own code keeps its folder."""
    head = name.split(":", 1)[0]
    if head.startswith(PROJECT):
        return head.split("/", 1)[0] + "/"
    first = head.split("/", 1)[0]
    return first.removesuffix(".py") if "/" in head or first.endswith(".py") else head


@dataclass(frozen=True)
class Profile:
    samples: int
    inclusive: list[tuple[str, int]]
    leaf: list[tuple[str, int]]
    packages: list[tuple[str, int]]

    def render(self, top: int = 25) -> str:
        def pct(n: int) -> str:
            return f"{100 * n / self.samples:5.1f}%"

        project = [(name, n) for name, n in self.inclusive if name.startswith(PROJECT)]
        lines = [f"{self.samples} samples holding the GIL (one worker)", ""]
        lines += ["self time by package (where the CPU goes):"]
        lines += [f"  {pct(n)}  {name}" for name, n in self.packages[:15]]
        lines += ["", "project code, inclusive (a function and everything it calls):"]
        lines += [f"  {pct(n)}  {name}" for name, n in project[:top]]
        lines += ["", "self (leaf frames):"]
        lines += [f"  {pct(n)}  {name}" for name, n in self.leaf[:top]]
        return "\n".join(lines)


def summarise(raw: str) -> Profile:
    """Fold py-spy's collapsed stacks into inclusive and self counts per function."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_short(f) for f in stack.split(";") if "(" in f]
        if not frames:
            continue
        total += count
        for name in set(frames):
            inclusive[name] += count
        leaf[frames[-1]] += count
        packages[package(frames[-1])] += count
    return Profile(total, inclusive.most_common(), leaf.most_common(), packages.most_common())


def record(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """Start py-spy sampling `pid` for `seconds` into `output` (raw collapsed stacks).

    `--gil` keeps only samples of the thread holding the GIL: where Python time goes, without
    the idle thread-pool threads (py-spy's idle detection does not work on every kernel).
    """
    binary = py_spy_binary()
    if binary is None:
        raise RuntimeError("py-spy is not installed: pip install -r bench/requirements.txt")
    command = [binary, "record", "--pid", str(pid), "--duration", str(int(seconds))]
    command += ["--rate", "200", "--gil", "--format", "raw", "--output", str(output)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
