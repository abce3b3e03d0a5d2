"""`make bench`: run every benchmark of the project on the real routines and print their figures."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from starts import USER_ENVIRONMENT  # (bench/starts.py): every bench and what it starts, as a user's Python

HERE = Path(__file__).resolve().parent
BENCHES = ("plan.py", "render.py", "export.py", "play.py", "serve.py", "publish.py", "music.py", "cards.py", "player.py", "soak.py")
OWN_ARGUMENTS = {"soak.py": ["--minutes", "1"]}  # `make soak` runs it for 10


def main() -> int:
    """Run each bench script in turn; fail if any fails."""
    failed = []
    for name in BENCHES:
        script = HERE / name
        print(f"== {name[:-3]} ==", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script), *OWN_ARGUMENTS.get(name, sys.argv[1:])], cwd=HERE.parent, env=USER_ENVIRONMENT)
        print(f"({name[:-3]} bench took {time.perf_counter() - started:.1f} s)\n", flush=True)
        if result.returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
