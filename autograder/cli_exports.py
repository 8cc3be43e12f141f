"""CLI commands for exports and reports (registered on the ``nngrade`` group)."""

from __future__ import annotations

from autograder.cli import main  # noqa: F401
