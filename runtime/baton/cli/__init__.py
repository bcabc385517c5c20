"""The ``baton`` command line."""

from baton.cli.main import main

__all__ = ["main"]
