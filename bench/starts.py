"""How the benches start coach: as a user's Python would, with its compiled modules cached."""

from __future__ import annotations

import os

# Some machines (this one among them) set PYTHONDONTWRITEBYTECODE, which makes every start compile coach's modules
# again: 0.1 s or more on each timed command that a user, whose Python keeps its bytecode, never pays.
USER_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
