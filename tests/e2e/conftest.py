"""One simulated campaign on a small generated roster, shared by the end-to-end tests.

The campaign runs the services as separate ``nameko run`` processes, exactly as
``make demo`` does, against the RabbitMQ at ``AMQP_URI`` in a virtual host of its own.
"""

import json
from datetime import date

import pytest

from deploy.sample.generate_roster import generate
from simulator.__main__ import main as run_simulator

PERSONS = 200
SEED = 7


@pytest.fixture(scope="session")
def campaign_run(tmp_path_factory):
    """Run a whole campaign once; return its output folder, exit code and summary."""
    folder = tmp_path_factory.mktemp("campaign")
    files = generate(folder / "roster", "411103", PERSONS, SEED, date(2022, 12, 1),
                     prefix="small")
    out = folder / "out"
    exit_code = run_simulator([
        "--roster", str(files.dibao_csv), str(files.tekun_xlsx),
        "--district", "411103", "--out", str(out), "--seed", str(SEED)])
    summary = json.loads((out / "summary.json").read_text())
    expected = json.loads(files.expected_json.read_text())
    return {"out": out, "exit_code": exit_code, "summary": summary,
            "expected_roster": expected}
