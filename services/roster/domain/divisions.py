"""Statistical division codes of China: districts and their townships.

The shipped data (``services/roster/data/divisions.tsv.gz``, built by
``deploy/tools/build_divisions.py``) contains every province, city, district and
township with its NBS statistical division code. A district whose townships changed
after that release is corrected with an override CSV of ``code12,name`` rows.
"""

import csv
import functools
import gzip
import logging
import os
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DATA_FILE = Path(__file__).resolve().parents[1] / "data" / "divisions.tsv.gz"
OVERRIDE_ENV = "AIXIN_DIVISIONS_OVERRIDE"

# Suffixes a roster may add to or drop from a township name, longest first, and the
# kind of township each one names.
_SUFFIX_KINDS = (
    ("街道办事处", "subdistrict"),
    ("街道办", "subdistrict"),
    ("办事处", "subdistrict"),
    ("街道", "subdistrict"),
    ("镇", "town"),
    ("乡", "township"),
)


@dataclass(frozen=True)
class Township:
    """A town (镇), township (乡) or subdistrict (街道) with its 12-digit code."""

    code: str
    name: str


@dataclass(frozen=True)
class District:
    """A county-level division (区/县/县级市) with its 6-digit code and townships."""

    code: str
    name: str
    city_name: str
    province_name: str
    townships: tuple[Township, ...]


def clean_name(text: str) -> str:
    """Return ``text`` in NFKC form without any whitespace (U+3000 included)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def split_suffix(name: str) -> tuple[str, str | None]:
    """Split a township name into its stem and the kind its suffix names."""
    for suffix, kind in _SUFFIX_KINDS:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], kind
    return name, None


class _DistrictNames:
    """Lookup tables for the townships of one district."""

    def __init__(self, townships: tuple[Township, ...]):
        self.by_code = {township.code: township for township in townships}
        self.by_name = {clean_name(township.name): township for township in townships}
        self.by_stem: dict[str, list[Township]] = defaultdict(list)
        for township in townships:
            stem, _ = split_suffix(clean_name(township.name))
            self.by_stem[stem].append(township)

    def match_stem(self, name: str) -> Township | None:
        """Match a name by its stem, and by its suffix kind when the stem is shared."""
        stem, kind = split_suffix(name)
        candidates = self.by_stem.get(stem, [])
        if kind is not None:
            candidates = [
                township
                for township in candidates
                if split_suffix(clean_name(township.name))[1] == kind
            ]
        if len(candidates) == 1:
            return candidates[0]
        return None


class DivisionIndex:
    """Districts and townships by code, with tolerant township name matching."""

    def __init__(self, names: dict[str, str]):
        """Index ``names``, a map of 2/4/6/12-digit codes to names."""
        self._names = names
        self._townships: dict[str, list[Township]] = defaultdict(list)
        for code in sorted(names):
            if len(code) == 12:
                self._townships[code[:6]].append(Township(code, names[code]))
        self._lookups: dict[str, _DistrictNames] = {}

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "DivisionIndex":
        """Return the shipped index merged with an override CSV, cached per process.

        The override file is ``path`` or else the file named by the environment
        variable ``AIXIN_DIVISIONS_OVERRIDE``. Every district named in it gets the
        override's townships in place of the shipped ones. The cache is keyed by
        the override path, so an override file changed on disk is read again only
        in a new process.
        """
        override = path or os.environ.get(OVERRIDE_ENV) or None
        return _load_cached(str(override) if override else None)

    def district(self, code6: str) -> District:
        """Return the district with this 6-digit code, or raise KeyError."""
        code6 = str(code6).strip()
        name = self._names.get(code6) if len(code6) == 6 else None
        if name is None:
            raise KeyError(
                f"unknown district code {code6!r}: expected a 6-digit county-level "
                "statistical division code such as 411103"
            )
        return District(
            code=code6,
            name=name,
            city_name=self._names.get(code6[:4], ""),
            province_name=self._names.get(code6[:2], ""),
            townships=tuple(self._townships.get(code6, ())),
        )

    def resolve_township(self, district_code6: str, name: str) -> Township | None:
        """Find the township of one district that a roster cell names.

        Tries the exact name first, then a 12-digit code of a township of the
        district. Then it compares stems, the names without a suffix (镇, 乡, 街道,
        街道办事处, 办事处): the stem must pick exactly one township, of the same kind
        (town, township or subdistrict) when the cell has a suffix. Spaces are
        ignored. Returns None when nothing matches in this district,
        even if another district has a township of that name.
        """
        lookup = self._district_names(district_code6)
        text = clean_name(name or "")
        if not text:
            return None
        township = lookup.by_name.get(text) or lookup.by_code.get(text)
        if township is None:
            township = lookup.match_stem(text)
            if township is not None:
                log.debug("township %r matched %s by its stem", text, township.code)
        return township

    def _district_names(self, district_code6: str) -> _DistrictNames:
        lookup = self._lookups.get(district_code6)
        if lookup is None:
            lookup = _DistrictNames(self.district(district_code6).townships)
            self._lookups[district_code6] = lookup
        return lookup


@functools.lru_cache(maxsize=None)
def _load_cached(override: str | None) -> DivisionIndex:
    names = read_shipped(DATA_FILE)
    if override:
        apply_override(names, read_override(Path(override)))
    log.info(
        "loaded %d division names from %s, override %s",
        len(names), DATA_FILE.name, override or "none",
    )
    return DivisionIndex(names)


def read_shipped(path: Path) -> dict[str, str]:
    """Read the gzip TSV written by ``deploy/tools/build_divisions.py``."""
    names = {}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#") or not line.strip():
                continue
            code, name = line.rstrip("\n").split("\t")
            names[code] = name
    return names


def read_override(path: Path) -> dict[str, str]:
    """Read ``code12,name`` rows (UTF-8, an optional header row) into a dict."""
    rows = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            code = clean_name(row[0])
            name = clean_name(row[1]) if len(row) > 1 else ""
            if number == 1 and not code.isdigit():
                continue
            if len(code) != 12 or not code.isdigit() or not name:
                raise ValueError(
                    f"{path} line {number}: invalid row {row!r}: "
                    "expected a 12-digit township code and a name"
                )
            if code in rows:
                raise ValueError(f"{path} line {number}: township {code} listed twice")
            rows[code] = name
    return rows


def apply_override(names: dict[str, str], townships: dict[str, str]) -> None:
    """Replace the townships of every district named in ``townships``."""
    districts = {code[:6] for code in townships}
    unknown = sorted(code6 for code6 in districts if code6 not in names)
    if unknown:
        raise ValueError(
            f"division override names unknown districts {unknown}: "
            "only districts in the shipped data can be overridden"
        )
    for code in [code for code in names if len(code) == 12 and code[:6] in districts]:
        del names[code]
    names.update(townships)
    log.info(
        "division override replaced the townships of districts %s", sorted(districts)
    )
