"""README tells the truth: CI runs exactly README's test command."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", text, flags=re.S)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


def _ci_test_command():
    lines = [l.strip() for l in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [l for l in lines if l and not l.startswith("#")]
    return commands[-1]


def test_ci_runs_readme_test_command():
    cmd = _ci_test_command()
    assert "pytest" in cmd
    assert cmd in _readme_commands(), f"README does not show the CI test command {cmd!r}"


def test_readme_has_install_and_main_job_command():
    cmds = _readme_commands()
    setup = [c for c in cmds if "pip install" in c and "python -m cs231n experiment" in c]
    assert setup, "README must show one command that installs the kit and runs the main job"
