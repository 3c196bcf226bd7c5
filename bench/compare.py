"""Before/after of two runs: `python -m bench.compare before.json after.json` prints Markdown.

One line per target of the newer run (1 worker; the hot-path round's since the ladder, the
first round's before), with the measured value and the CPU-based ratio of each run.
"""

import json
import sys
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _holds(met: bool | None) -> str:
    return {True: "yes", False: "no", None: "-"}[met]


def compare(before: dict[str, Any], after: dict[str, Any]) -> str:
    """A Markdown table of every target in `after`, beside the same target in `before`."""
    old = {t["name"]: t for t in before["targets"]}
    lines = [
        f"| target (1 worker) | before ({before['run']['finished']}) | CPU | "
        f"after ({after['run']['finished']}) | CPU | holds after |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for target in after["targets"]:
        was = old.get(target["name"], {})
        lines.append(
            f"| {target['name']} | {_fmt(was.get('value'))} | {_fmt(was.get('cpu_value'))} "
            f"| {_fmt(target['value'])} | {_fmt(target['cpu_value'])} | {_holds(target['met'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m bench.compare BEFORE.json AFTER.json", file=sys.stderr)
        return 2
    before, after = (json.loads(Path(p).read_text()) for p in argv)
    print(compare(before, after))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
