"""The `ganlab` command line."""

from ganlab.cli.main import main

__all__ = ["main"]
