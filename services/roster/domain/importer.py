"""Import roster files: one reason per rejected row, one beneficiary per person.

The import runs in two passes over very different amounts of data:

1. Every row is read once, normalised and checked (:data:`ROW_CHECKS` of
   :mod:`.rejections`, first failure wins). A row that passes is folded into a
   small per-person state keyed by its ID number; the row itself is dropped.
2. When every file is read, each person's state is settled: rows that place one
   ID number in two townships (or under two names) are all rejected, the others
   become one beneficiary whose extra rows count as ``merged_duplicates``.

Nothing is dropped silently: ``rows_read == accepted_rows + rejected_rows`` and
``beneficiaries == accepted_rows - merged_duplicates`` hold for every import.
"""

import calendar
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterable, Iterator

from . import rejections as reasons
from .idnumber import (
    check_character,
    classify_id,
    looks_like_spreadsheet_number,
    mask_id,
    normalize_id_text,
)
from .normalize import (
    DISPERSED,
    INSTITUTIONAL,
    RURAL_DIBAO,
    TEKUN,
    URBAN_DIBAO,
    clean_name,
    clean_text,
    parse_category,
    parse_support_mode,
)
from .readers import (
    CATEGORY,
    ID_NUMBER,
    INSTITUTION,
    NAME,
    SUPPORT_MODE,
    TOWNSHIP,
    TOWNSHIP_CODE,
    VILLAGE,
    Layout,
    RosterRow,
    read_roster,
)
from .rejections import Rejection, message_for

log = logging.getLogger(__name__)

# A person's categories and support mode, as bits of one int.
_BITS = {URBAN_DIBAO: 1, RURAL_DIBAO: 2, TEKUN: 4}
_INSTITUTIONAL = 8
_CONFLICT = 16
# A source row is one int: layout index in the high bits, row number in the low.
_ROW_BITS = 32
_ROW_MASK = (1 << _ROW_BITS) - 1
# How many places a conflict message lists before "等".
_PLACES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class SourceRow:
    file: str
    row: int
    sheet: str | None = None


@dataclass(frozen=True)
class Beneficiary:
    """One person on the roster, however many rows and lists named them."""

    id_number: str  # full and normalised: exists only inside the roster service
    name: str
    township_code: str
    township_name: str
    village: str | None
    categories: frozenset  # of 'urban_dibao', 'rural_dibao', 'tekun'
    support_mode: str  # 'dispersed' (own voucher) or 'institutional'
    institution: str | None  # receives the voucher when institutional
    source_rows: tuple  # of SourceRow


@dataclass
class TownshipFigures:
    name: str
    eligible: int = 0
    dibao: int = 0
    dispersed: int = 0
    institutional: int = 0

    def to_dict(self) -> dict:
        """The figures as in the expected-figures file: zero counts left out."""
        figures = {"name": self.name, "eligible": self.eligible}
        for support in ("dibao", "dispersed", "institutional"):
            if getattr(self, support):
                figures[support] = getattr(self, support)
        return figures


@dataclass
class ImportResult:
    files: list
    rows_read: int
    accepted_rows: int
    rejected_rows: int
    merged_duplicates: int
    rejected: dict  # reason code -> rows, only reasons that occurred
    beneficiary_count: int
    townships: dict  # 12-digit code -> TownshipFigures
    rejections: list  # of Rejection, in file and row order
    _beneficiaries: Callable[[], Iterator[Beneficiary]] = field(repr=False)

    def iter_beneficiaries(self) -> Iterator[Beneficiary]:
        """Yield the beneficiaries one at a time, in order of first appearance."""
        return self._beneficiaries()

    @property
    def beneficiaries(self) -> list:
        """Every beneficiary as a list; prefer iter_beneficiaries for large imports."""
        return list(self._beneficiaries())

    def summary(self) -> dict:
        """The figures in the shape of ``yancheng-expected.json``."""
        return {
            "files": list(self.files),
            "rows_read": self.rows_read,
            "accepted_rows": self.accepted_rows,
            "merged_duplicates": self.merged_duplicates,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_rows": self.rejected_rows,
            "beneficiaries": self.beneficiary_count,
            "townships": {
                code: figures.to_dict()
                for code, figures in sorted(self.townships.items())
            },
        }


class _Person:
    """What the import keeps of one accepted ID number: a few references."""

    __slots__ = ("township", "name", "village", "flags", "institution", "rows")

    def __init__(self, township, name, village, flags, institution, row):
        self.township = township
        self.name = name
        self.village = village
        self.flags = flags
        self.institution = institution
        self.rows = row  # an int for one row, a list of ints for more


@dataclass(frozen=True, slots=True)
class _Checked:
    """A row that passed every row check, in the form the grouping needs."""

    key: int
    township: object
    name: str
    village: str | None
    flags: int
    institution: str | None


class RosterImport:
    """Import one district's roster files; call :meth:`finish` for the result.

    ``divisions`` is a :class:`~.divisions.DivisionIndex` (anything with
    ``resolve_township(district_code, name)``) or a callable ``name -> Township or
    None``. ``snapshot_month`` is any date in the roster month: an ID number whose
    birth date falls after that month is rejected.
    """

    def __init__(
        self, district_code: str, divisions, snapshot_month: date | None = None
    ):
        if not (len(district_code) == 6 and district_code.isdigit()):
            raise ValueError(f"district code must be 6 digits, got {district_code!r}")
        self.district_code = district_code
        self._resolve, self.district_name = _resolver(divisions, district_code)
        self._snapshot_end = _month_end(snapshot_month) if snapshot_month else None
        self._snapshot_label = (
            f"{snapshot_month.year}年{snapshot_month.month}月" if snapshot_month else ""
        )
        self._files: list[str] = []
        self._layouts: list[Layout] = []
        self._layout_index: dict[Layout, int] = {}
        self._townships: dict[str, object] = {}
        self._interned: dict[str, str] = {}
        self._persons: dict[int, _Person] = {}
        self._conflicts: dict[int, list] = {}
        self._rejections: list[tuple[int, Rejection]] = []  # (source row, rejection)
        self._rejected = Counter()
        self._rows_read = 0
        self._result: ImportResult | None = None

    def add_file(self, source, name: str | None = None) -> None:
        """Read and check every row of one CSV or XLSX file."""
        rows = read_roster(source, name)
        self.add_rows(rows)

    def add_rows(self, rows: Iterable[RosterRow]) -> None:
        """Check rows from a reader; the import keeps none of them."""
        if self._result is not None:
            raise RuntimeError("this import is finished: start a new RosterImport")
        for row in rows:
            self._rows_read += 1
            ref = self._ref(row)
            checked = self._check(row)
            if checked is not None:
                self._accept(checked, ref)

    def finish(self) -> ImportResult:
        """Settle every person and return the figures, rejections and beneficiaries."""
        if self._result is not None:
            return self._result
        conflict_rows = sum(self._reject_conflicts())
        persons = self._persons
        merged = sum(
            len(person.rows) - 1
            for person in persons.values()
            if not person.flags & _CONFLICT and isinstance(person.rows, list)
        )
        rejected_rows = sum(self._rejected.values())
        accepted_rows = self._rows_read - rejected_rows
        beneficiaries = len(persons) - len(self._conflicts)
        self._rejections.sort(key=lambda pair: pair[0])
        result = self._result = ImportResult(
            files=list(self._files),
            rows_read=self._rows_read,
            accepted_rows=accepted_rows,
            rejected_rows=rejected_rows,
            merged_duplicates=merged,
            rejected=dict(self._rejected),
            beneficiary_count=beneficiaries,
            townships=self._township_figures(),
            rejections=[rejection for _, rejection in self._rejections],
            _beneficiaries=self._iter_beneficiaries,
        )
        log.info(
            "roster import finished: district=%s files=%d rows_read=%d accepted=%d "
            "rejected=%d (of which conflicting=%d) merged=%d beneficiaries=%d",
            self.district_code,
            len(self._files),
            self._rows_read,
            accepted_rows,
            rejected_rows,
            conflict_rows,
            merged,
            beneficiaries,
        )
        return result

    # -- pass 1: one row ---------------------------------------------------------

    def _check(self, row: RosterRow) -> _Checked | None:
        """Return the checked row, or None after recording why it is rejected."""
        raw_id = row.get(ID_NUMBER)
        reason, id18 = classify_id(normalize_id_text(raw_id), self._snapshot_end)
        if reason is None and not isinstance(raw_id, str):
            if looks_like_spreadsheet_number(raw_id):  # a number cell lost digits
                reason = reasons.INVALID_ID_FORMAT
        if reason is not None:
            return self._reject_id(row, reason, raw_id, id18)

        township, reason = self._township(row)
        if reason is not None:
            return self._reject(row, TOWNSHIP, reason, row.get(TOWNSHIP))

        category, mode = self._category(row)
        institution = self._intern(clean_text(row.get(INSTITUTION))) or None
        if category == TEKUN and mode is None:
            mode = INSTITUTIONAL if institution else DISPERSED
        if mode == INSTITUTIONAL and category == TEKUN and institution is None:
            return self._reject(row, INSTITUTION, reasons.MISSING_INSTITUTION, "")

        name = clean_name(row.get(NAME))
        if not name:
            return self._reject(row, NAME, reasons.MISSING_NAME, "")
        if category is None:
            return self._reject(
                row, CATEGORY, reasons.UNKNOWN_CATEGORY, row.get(CATEGORY)
            )

        flags = _BITS[category]
        if category == TEKUN and mode == INSTITUTIONAL:
            flags |= _INSTITUTIONAL
        else:
            institution = None  # only an institution-supported person has one
        return _Checked(
            key=int(id18[:17]),
            township=township,
            name=self._intern(name),
            village=self._intern(clean_text(row.get(VILLAGE))) or None,
            flags=flags,
            institution=institution,
        )

    def _reject_id(self, row, reason, raw_id, id18):
        context = {"value": mask_id(id18), "snapshot": self._snapshot_label}
        if reason == reasons.INVALID_ID_FORMAT and looks_like_spreadsheet_number(
            raw_id
        ):
            message = message_for("spreadsheet_number")
        else:
            message = message_for(reason, **context)
        self._record(row, ID_NUMBER, mask_id(id18), reason, message)
        return None

    def _reject(self, row, column, reason, raw_value):
        value = clean_text(raw_value)
        message_key = reason
        if reason == reasons.UNKNOWN_TOWNSHIP and not value:
            message_key = "missing_township"
        elif reason == reasons.UNKNOWN_CATEGORY and not value:
            message_key = "missing_category"
        message = message_for(message_key, value=value, district=self.district_name)
        self._record(row, column, value, reason, message)
        return None

    def _township(self, row) -> tuple[object, str | None]:
        """Return ``(Township, None)``, or ``(None, reason)`` when it has none."""
        name = clean_text(row.get(TOWNSHIP))
        code = clean_text(row.get(TOWNSHIP_CODE))
        if name.isdigit() and len(name) == 12:
            code = name  # a division code written in the township column
        if code and not code.startswith(self.district_code):
            return None, reasons.TOWNSHIP_OUTSIDE_DISTRICT
        if name not in self._townships:
            self._townships[name] = self._resolve(name) if name else None
        township = self._townships[name]
        if township is None:
            return None, reasons.UNKNOWN_TOWNSHIP
        if not township.code.startswith(self.district_code):
            return None, reasons.TOWNSHIP_OUTSIDE_DISTRICT
        return township, None

    def _category(self, row) -> tuple[str | None, str | None]:
        """Category and support mode; a list without 保障类别 lists extreme poverty."""
        written_mode = parse_support_mode(row.get(SUPPORT_MODE))
        if clean_text(row.get(CATEGORY)):
            category, mode = parse_category(row.get(CATEGORY))
        elif written_mode or CATEGORY not in row.layout.columns:
            category, mode = TEKUN, None
        else:
            return None, None
        if category == TEKUN and written_mode:
            mode = written_mode  # the 供养方式 column is the more specific source
        return category, mode

    # -- pass 1: fold an accepted row into its person ----------------------------

    def _accept(self, checked: _Checked, ref: int) -> None:
        key = checked.key
        person = self._persons.get(key)
        if person is None:
            self._persons[key] = _Person(
                checked.township,
                checked.name,
                checked.village,
                checked.flags,
                checked.institution,
                ref,
            )
            return
        if person.flags & _CONFLICT:
            self._conflicts[key].append((ref, checked.township, checked.name))
            return
        if person.township.code != checked.township.code or person.name != checked.name:
            # Until now every row of this person agreed: rebuild them for the report.
            self._conflicts[key] = [
                (old_ref, person.township, person.name) for old_ref in _refs(person)
            ] + [(ref, checked.township, checked.name)]
            person.flags |= _CONFLICT
            person.rows = None
            return
        person.flags |= checked.flags
        person.village = person.village or checked.village
        person.institution = person.institution or checked.institution
        if isinstance(person.rows, list):
            person.rows.append(ref)
        else:
            person.rows = [person.rows, ref]

    # -- pass 2: settle conflicts and count ----------------------------------------

    def _reject_conflicts(self) -> Iterator[int]:
        for rows in self._conflicts.values():
            townships = {township.code for _, township, _ in rows}
            if len(townships) > 1:
                reason, column = reasons.CONFLICTING_TOWNSHIP, TOWNSHIP
                places = [(ref, township.name) for ref, township, _ in rows]
            else:
                reason, column = reasons.CONFLICTING_NAME, NAME
                places = [(ref, name) for ref, _, name in rows]
            message = message_for(reason, places=self._describe(places))
            for ref, value in places:
                self._record_ref(ref, column, value, reason, message)
            yield len(rows)

    def _describe(self, places) -> str:
        described = []
        for ref, value in places[:_PLACES_SHOWN]:
            source = self._source(ref)
            described.append(f"“{value}”（{source.file} 第{source.row}行）")
        more = "等" if len(places) > _PLACES_SHOWN else ""
        return "、".join(described) + more

    def _township_figures(self) -> dict:
        figures: dict[str, TownshipFigures] = {}
        for person in self._persons.values():
            if person.flags & _CONFLICT:
                continue
            township = person.township
            counts = figures.get(township.code)
            if counts is None:
                counts = figures[township.code] = TownshipFigures(township.name)
            counts.eligible += 1
            if person.flags & _INSTITUTIONAL:
                counts.institutional += 1
            elif person.flags & _BITS[TEKUN]:
                counts.dispersed += 1
            else:
                counts.dibao += 1
        return figures

    def _iter_beneficiaries(self) -> Iterator[Beneficiary]:
        for key, person in self._persons.items():
            if person.flags & _CONFLICT:
                continue
            first17 = f"{key:017d}"
            yield Beneficiary(
                id_number=first17 + check_character(first17),
                name=person.name,
                township_code=person.township.code,
                township_name=person.township.name,
                village=person.village,
                categories=frozenset(
                    category for category, bit in _BITS.items() if person.flags & bit
                ),
                support_mode=(
                    INSTITUTIONAL if person.flags & _INSTITUTIONAL else DISPERSED
                ),
                institution=person.institution,
                source_rows=tuple(self._source(ref) for ref in _refs(person)),
            )

    # -- bookkeeping ------------------------------------------------------------

    def _ref(self, row: RosterRow) -> int:
        index = self._layout_index.get(row.layout)
        if index is None:
            index = self._layout_index[row.layout] = len(self._layouts)
            self._layouts.append(row.layout)
            if row.file not in self._files:
                self._files.append(row.file)
        return index << _ROW_BITS | row.row

    def _source(self, ref: int) -> SourceRow:
        layout = self._layouts[ref >> _ROW_BITS]
        return SourceRow(layout.file, ref & _ROW_MASK, layout.sheet)

    def _record(self, row: RosterRow, column, value, reason, message) -> None:
        self._record_ref(self._ref(row), column, value, reason, message)

    def _record_ref(self, ref: int, column, value, reason, message) -> None:
        layout = self._layouts[ref >> _ROW_BITS]
        rejection = Rejection(
            file=layout.file,
            row=ref & _ROW_MASK,
            column=layout.header(column),
            value=value,
            reason=reason,
            message=message,
            sheet=layout.sheet,
        )
        self._rejected[reason] += 1
        self._rejections.append((ref, rejection))

    def _intern(self, text: str) -> str:
        """Share one string object among the many rows that repeat it."""
        return self._interned.setdefault(text, text)


def import_roster(
    sources: Iterable,
    *,
    district_code: str,
    divisions,
    snapshot_month: date | None = None,
) -> ImportResult:
    """Import the given roster files (paths or binary files) together."""
    roster_import = RosterImport(district_code, divisions, snapshot_month)
    for source in sources:
        roster_import.add_file(source)
    return roster_import.finish()


def _refs(person: _Person) -> list:
    return person.rows if isinstance(person.rows, list) else [person.rows]


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _resolver(divisions, district_code: str):
    """Return (name -> Township or None, the district's name for messages)."""
    if hasattr(divisions, "resolve_township"):
        district = (
            divisions.district(district_code)
            if hasattr(divisions, "district")
            else None
        )
        district_name = getattr(district, "name", None) or f"行政区划{district_code}"

        def resolve(name):
            return divisions.resolve_township(district_code, name)

        return resolve, district_name
    if callable(divisions):
        return divisions, f"行政区划{district_code}"
    raise TypeError("divisions must have resolve_township() or be a callable")
