"""Every noqa comment names its rules and says why (ruff itself rejects blanket and unused ones)."""

import re

from conftest import FIXTURES, PYTHON_DIR

# The form: "noqa: E402 - needs the sys.path entry above" — codes, then " - " and a reason.
_NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)$", re.IGNORECASE)
_EXPLAINED = re.compile(r"^: [A-Z]+[0-9]+(, [A-Z]+[0-9]+)* - \S.*$")


def _sources():
    for root in (PYTHON_DIR / "snakepit_bridge", PYTHON_DIR / "tests", FIXTURES):
        for path in sorted(root.rglob("*.py")):
            if "gen" not in path.relative_to(root).parts:
                yield path


def test_every_noqa_names_its_rules_and_a_reason():
    unexplained = []
    for path in _sources():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = _NOQA.search(line)
            if found and not _EXPLAINED.match(found.group("rest")):
                unexplained.append(f"{path}:{number}: {line.strip()}")
    assert not unexplained, "\n".join(unexplained)


def test_the_rule_catches_a_noqa_without_a_reason():
    assert _EXPLAINED.match(": E402 - needs the sys.path entry above")
    for bare in ("", ": E402", ": E402,F401 - x", ": E402 -"):
        assert not _EXPLAINED.match(bare), bare
