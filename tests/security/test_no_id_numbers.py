"""After a whole simulated campaign, no full resident ID number is left outside the roster.

The campaign runs on a small generated roster with the services as separate processes,
as ``make demo`` does. Then every log file, report, export and event body is searched
for an 18-character GB 11643 number with a valid check character and a real birth
date. Only the roster service's own database may hold ID numbers (encrypted), and the
uploaded roster files themselves are the input, so neither is searched.
"""

import json
from datetime import date

import pytest

from deploy.sample.generate_roster import generate
from id_numbers import find_in_file, find_in_tables, is_id_number, table_names
from simulator.__main__ import main as run_simulator

PERSONS = 100
SEED = 5
# Tables that carry event bodies out of a service or into the read model.
EVENT_TABLES = ("outbox", "event_log", "parked_messages", "parked_events")


@pytest.fixture(scope="module")
def campaign_output(tmp_path_factory):
    folder = tmp_path_factory.mktemp("id-numbers")
    files = generate(folder / "roster", "411103", PERSONS, SEED, date(2022, 12, 1),
                     prefix="leak")
    out = folder / "out"
    exit_code = run_simulator([
        "--roster", str(files.dibao_csv), str(files.tekun_xlsx), "--district",
        "411103", "--out", str(out), "--seed", str(SEED)])
    assert exit_code == 0, f"the simulated campaign failed; logs in {out / 'run/logs'}"
    return out


def test_checker_tells_ids_from_serials():
    assert is_id_number("11010519491231002X")
    assert not is_id_number("11010519491231002Y")
    assert not is_id_number("014111030010000017")  # a voucher serial
    assert not is_id_number("110105194913310021")  # no such birth date


def test_outputs_have_no_id_numbers(campaign_output):
    searched = [path for path in campaign_output.rglob("*") if path.is_file()
                and path.suffix != ".db" and "uploads" not in path.parts]
    assert any(path.suffix == ".log" for path in searched)
    assert any(path.suffix == ".xlsx" for path in searched)
    leaks = {str(path.relative_to(campaign_output)): len(found)
             for path in searched if (found := find_in_file(path))}
    assert not leaks, f"full ID numbers found (file: count): {leaks}"


def test_event_bodies_have_no_id_numbers(campaign_output):
    databases = sorted(campaign_output.glob("run/data-*/*.db"))
    assert len(databases) >= 7
    leaks = {}
    for database in databases:
        tables = EVENT_TABLES
        if database.stem != "roster":
            # Every other service receives only masked numbers, so all its tables count.
            tables = tuple(table_names(database))
        for table, found in find_in_tables(database, tables).items():
            leaks[f"{database.name}:{table}"] = len(found)
    assert not leaks, f"full ID numbers found (table: count): {json.dumps(leaks)}"
