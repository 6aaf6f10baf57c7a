"""On a failed fault test, show the end of every service's log beside the failure.

The services run as processes that log to files in the test's temporary folder. A CI
run does not keep that folder, so the report is the only place the logs remain.
"""

import pytest

LOG_TAIL_CHARS = 6000


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    funcargs = getattr(item, "funcargs", {})
    for name, value in funcargs.items():
        logs_folder = getattr(value, "logs_folder", None)
        if logs_folder is None or not logs_folder.is_dir():
            continue
        for path in sorted(logs_folder.glob("*.log")):
            text = path.read_text(errors="replace")
            report.sections.append((f"{name}: {path.name} (end)", text[-LOG_TAIL_CHARS:]))
