"""README tells the truth: its commands exist and its test selectors select tests."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme():
    return (ROOT / "README.md").read_text(encoding="utf-8")


def _readme_commands():
    blocks = re.findall(r"```(?:bash|sh|console)?\n(.*?)```", _readme(), flags=re.S)
    return [line.strip() for b in blocks for line in b.splitlines() if line.strip()]


def _test_names():
    names = set()
    for f in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^\s*def (test_\w+)", f.read_text(encoding="utf-8"), flags=re.M))
    return names


def test_readme_has_install_and_main_job_command():
    cmds = _readme_commands()
    setup = [c for c in cmds if "pip install" in c and "python -m cs231n experiment" in c]
    assert setup, "README must show one command that installs the kit and runs the main job"


def test_readme_shows_how_to_run_the_suite_and_one_part():
    cmds = [c.split("#")[0].strip() for c in _readme_commands()]
    assert "python -m pytest" in cmds
    one_part = [c for c in cmds if re.fullmatch(r"python -m pytest -x -k \w+", c)]
    assert one_part, "README must suggest `python -m pytest -x -k NAME` for one part"


def test_every_test_selector_readme_names_selects_a_test():
    text = _readme()
    start = text.index("To work on one part, `-k` takes")
    paragraph = text[start:text.index("\n\n", start)]
    selectors = re.findall(r"`(\w+)`", paragraph)
    commands = [c.split("#")[0].split() for c in _readme_commands() if " -k " in c]
    selectors += [c[c.index("-k") + 1] for c in commands]
    assert len(selectors) >= 10, selectors
    names = _test_names()
    missing = [s for s in selectors if not any(s in n for n in names)]
    assert not missing, f"README names -k selectors that match no test: {missing}"
