"""The `inftool` command line. Thin: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 ok, 1 a stage failed, 2 bad recipe or usage. Heavy modules are imported inside
the commands that need them, so `inftool --help` starts fast. Commands live by topic in
``recipes`` (validate, compile, schema, ls, cp), ``catalogs`` (catalog show), ``mcp`` (serve-mcp) and
``runs`` (run, synth, sql, gaps, export); ``base`` holds the group, error handling and shared helpers.
"""

from inftool.cli import catalogs, evaluate, mcp, recipes, report, runs  # noqa: F401  (registers the commands)
from inftool.cli.base import main

__all__ = ["main"]
