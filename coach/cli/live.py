"""Commands: placeholder until its owner fills it."""
from coach.cli.app import app  # noqa: F401
