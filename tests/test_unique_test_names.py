"""Test modules live in folders without __init__.py, so their names must be unique."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_module_basenames_are_unique():
    names = Counter(path.name for path in TESTS.rglob("*.py")
                    if path.name not in ("conftest.py", "__init__.py"))
    duplicates = sorted(name for name, count in names.items() if count > 1)
    assert duplicates == []
