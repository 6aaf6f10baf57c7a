"""Generate a sample roster of one district: two export files and expected figures.

Writes ``PREFIX-dibao-sample.csv`` (low-income list), ``PREFIX-tekun-sample.xlsx``
(extreme-poverty list) and ``PREFIX-sample-expected.json`` (the figures a correct
import of both files reports). The files carry a small share of the defects real
exports have. The same arguments always give the same bytes. Run from the
repository root::

    python -m deploy.sample.generate_roster --district 411103 --persons 1200 \\
        --seed 2022 --prefix yancheng --output-dir deploy/sample
"""

import argparse
import calendar
import json
import logging
import random
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from deploy.sample.sample_files import write_dibao_csv, write_tekun_xlsx
from deploy.sample.sample_people import PersonFactory
from deploy.sample.sample_plan import (
    UNKNOWN_TOWNSHIP_NAMES,
    Row,
    RowPlanner,
    assign_defects,
    expected_figures,
)
from services.roster.domain.divisions import District, DivisionIndex

log = logging.getLogger("generate_roster")

MIN_PERSONS = 100


@dataclass(frozen=True)
class SampleFiles:
    dibao_csv: Path
    tekun_xlsx: Path
    expected_json: Path


def plan_rows(
    district: District, persons: int, seed: int, month: date, unknown_township: str
) -> list[Row]:
    """Draw the persons, plant defects and return every row, shuffled, in one list."""
    rng = random.Random(seed)
    snapshot_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    factory = PersonFactory(rng, district, snapshot_end)
    people = [factory.make() for _ in range(persons)]
    defects = assign_defects(rng, people)
    planner = RowPlanner(rng, district.townships, unknown_township)
    rows = []
    for index, person in enumerate(people):
        rows.extend(planner.rows_for(person, defects.get(index)))
    rng.shuffle(rows)
    return rows


def pick_unknown_township(index: DivisionIndex, district_code: str) -> str:
    """Return a township name that cannot be placed in the district."""
    for name in UNKNOWN_TOWNSHIP_NAMES:
        if index.resolve_township(district_code, name) is None:
            return name
    raise ValueError(
        f"district {district_code} has a township of every name in "
        "UNKNOWN_TOWNSHIP_NAMES: add a name it lacks"
    )


def generate(
    output_dir: Path,
    district_code: str,
    persons: int,
    seed: int,
    month: date,
    prefix: str | None = None,
) -> SampleFiles:
    """Write the two roster files and the expected figures; return their paths."""
    if persons < MIN_PERSONS:
        raise ValueError(f"persons must be at least {MIN_PERSONS}, got {persons}")
    index = DivisionIndex.load()
    district = index.district(district_code)
    unknown = pick_unknown_township(index, district_code)
    rows = plan_rows(district, persons, seed, month, unknown)

    prefix = prefix or district_code
    files = SampleFiles(
        dibao_csv=output_dir / f"{prefix}-dibao-sample.csv",
        tekun_xlsx=output_dir / f"{prefix}-tekun-sample.xlsx",
        expected_json=output_dir / f"{prefix}-sample-expected.json",
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    place = f"{district.city_name}{district.name}{month.year}年{month.month}月"
    write_dibao_csv(
        files.dibao_csv,
        [row for row in rows if row.roster == "dibao"],
        f"{place}城乡低保对象花名册",
    )
    write_tekun_xlsx(
        files.tekun_xlsx,
        [row for row in rows if row.roster == "tekun"],
        f"{place}特困人员花名册",
        datetime(month.year, month.month, 1),
    )
    expected = expected_figures(rows, [files.dibao_csv.name, files.tekun_xlsx.name])
    text = json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    files.expected_json.write_text(text, encoding="utf-8")
    log.info(
        "wrote sample of district %s: %d rows, %d beneficiaries, in %s",
        district_code, expected["rows_read"], expected["beneficiaries"], output_dir,
    )
    return files


def parse_month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid month {text!r}: expected YYYY-MM such as 2022-12"
        ) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--district", required=True, help="6-digit district division code"
    )
    parser.add_argument(
        "--persons", type=int, default=1200, help="number of distinct persons drawn"
    )
    parser.add_argument("--seed", type=int, default=2022, help="random seed")
    parser.add_argument(
        "--month", type=parse_month, default=date(2022, 12, 1),
        help="snapshot month YYYY-MM: titles and latest birth dates",
    )
    parser.add_argument(
        "--prefix", help="file name prefix (default: the district code)"
    )
    parser.add_argument(
        "--output-dir", type=Path, default=Path("."), help="folder to write to"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    generate(
        args.output_dir, args.district, args.persons, args.seed, args.month,
        args.prefix,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
