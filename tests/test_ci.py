"""CI runs exactly README's test command (instructor-only: the student kit has no CI script)."""
from pathlib import Path

from test_readme import _readme_commands

ROOT = Path(__file__).resolve().parents[1]


def _ci_test_command():
    lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [l for l in lines if l and not l.startswith("#")]
    return commands[-1]


def test_ci_runs_readme_test_command():
    cmd = _ci_test_command()
    assert "pytest" in cmd
    assert cmd in _readme_commands(), f"README does not show the CI test command {cmd!r}"
