"""Import roster files: one reason per rejected row, one beneficiary per person.

The import runs in two passes over very different amounts of data:

1. Every row is read once, normalised and checked (:data:`ROW_CHECKS` of
   :mod:`.rejections`, first failure wins). A row that passes is folded into a
   small per-person state keyed by its ID number; the row itself is dropped.
   The state is a few typed arrays and lists indexed by the person's position
   (about 65 bytes a person in the million-person benchmark, names included; see
   :mod:`.person_index`), so a million persons fit in the roster service's memory
   limit.
2. When every file is read, each person's state is settled: rows that place one
   ID number in two townships (or under two names) are all rejected, the others
   become one beneficiary whose extra rows count as ``merged_duplicates``.

Nothing is dropped silently: ``rows_read == accepted_rows + rejected_rows`` and
``beneficiaries == accepted_rows - merged_duplicates`` hold for every import.
"""

import calendar
import logging
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Iterable, Iterator, NamedTuple

from . import rejections as reasons
from .idnumber import (
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
from .person_index import PersonIndex
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


class PersonFields(NamedTuple):
    """A beneficiary's fields without its source rows: cheap to make by the million."""

    id_number: str
    name: str
    township_code: str
    township_name: str
    village: str | None
    categories: frozenset
    support_mode: str
    institution: str | None


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
    _person_fields: Callable[[], Iterator[PersonFields]] = field(repr=False)

    def iter_beneficiaries(self) -> Iterator[Beneficiary]:
        """Yield the beneficiaries one at a time, in order of first appearance."""
        return self._beneficiaries()

    def iter_person_fields(self) -> Iterator[PersonFields]:
        """Yield what iter_beneficiaries does, without source rows, faster."""
        return self._person_fields()

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


# Cleaned cells cached per column (village, institution, township, category and
# support mode repeat on most rows) until a column has this many distinct values.
_CACHED_CELLS = 100_000
_UNCACHED = object()
_CACHEABLE_TYPES = frozenset({str, bool, type(None)})


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
        # Per column, raw cell (or cells) -> cleaned value.
        self._cells = {column: {} for column in (TOWNSHIP, CATEGORY, INSTITUTION,
                                                 VILLAGE)}
        # Persons: the first 17 digits of the ID number -> position, and by position
        # the ID number's check character, the first row's township (index into
        # _township_list), name, village, institution, flags and source row;
        # further rows in _more_rows.
        self._persons = PersonIndex()
        self._township_list: list = []
        self._township_index: dict[int, int] = {}  # id(Township) -> index
        self._person_township = array("I")
        self._person_name: list[str] = []
        self._person_village: list[str | None] = []
        self._person_institution: list[str | None] = []
        self._person_flags = array("B")
        self._person_row = array("q")
        self._person_check = bytearray()  # the check character, as its code
        self._more_rows: dict[int, list] = {}  # position -> refs after the first
        self._conflicts: dict[int, list] = {}  # position -> [(ref, township, name)]
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
                self._accept(ref, *checked)

    def finish(self) -> ImportResult:
        """Settle every person and return the figures, rejections and beneficiaries."""
        if self._result is not None:
            return self._result
        conflict_rows = sum(self._reject_conflicts())
        merged = sum(
            len(refs)
            for position, refs in self._more_rows.items()
            if position not in self._conflicts
        )
        rejected_rows = sum(self._rejected.values())
        accepted_rows = self._rows_read - rejected_rows
        beneficiaries = len(self._persons) - len(self._conflicts)
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
            _person_fields=self._iter_person_fields,
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

    def _check(self, row: RosterRow) -> tuple | None:
        """Return the checked row, or None after recording why it is rejected.

        A checked row is ``(id18, township, name, village, flags, institution)``.
        """
        values = row.values
        raw_id = values.get(ID_NUMBER)
        reason, id18 = classify_id(normalize_id_text(raw_id), self._snapshot_end)
        if reason is None and not isinstance(raw_id, str):
            if looks_like_spreadsheet_number(raw_id):  # a number cell lost digits
                reason = reasons.INVALID_ID_FORMAT
        if reason is not None:
            return self._reject_id(row, reason, raw_id, id18)

        township, reason = self._cell(
            TOWNSHIP, (values.get(TOWNSHIP), values.get(TOWNSHIP_CODE)),
            self._township)
        if reason is not None:
            return self._reject(row, TOWNSHIP, reason, values.get(TOWNSHIP))

        category, mode = self._cell(
            CATEGORY, (values.get(CATEGORY), values.get(SUPPORT_MODE),
                       CATEGORY in row.layout.columns), self._category)
        institution = self._cell(INSTITUTION, values.get(INSTITUTION),
                                 self._cleaned_or_none)
        if category == TEKUN and mode is None:
            mode = INSTITUTIONAL if institution else DISPERSED
        if mode == INSTITUTIONAL and category == TEKUN and institution is None:
            return self._reject(row, INSTITUTION, reasons.MISSING_INSTITUTION, "")

        name = clean_name(values.get(NAME))
        if not name:
            return self._reject(row, NAME, reasons.MISSING_NAME, "")
        if category is None:
            return self._reject(
                row, CATEGORY, reasons.UNKNOWN_CATEGORY, values.get(CATEGORY)
            )

        flags = _BITS[category]
        if category == TEKUN and mode == INSTITUTIONAL:
            flags |= _INSTITUTIONAL
        else:
            institution = None  # only an institution-supported person has one
        village = self._cell(VILLAGE, values.get(VILLAGE), self._cleaned_or_none)
        return id18, township, self._intern(name), village, flags, institution

    def _cell(self, column: str, raw, clean):
        """Return ``clean(raw)``, cached when ``raw`` is text, None or bool.

        ``raw`` is a cell or a tuple of cells. Numbers and dates are cleaned every
        time: 1 and 1.0 are equal dictionary keys but clean to different text (True
        is equal to them too, but they are never looked up).
        """
        for item in raw if type(raw) is tuple else (raw,):
            if type(item) not in _CACHEABLE_TYPES:
                return clean(raw)
        cache = self._cells[column]
        cleaned = cache.get(raw, _UNCACHED)
        if cleaned is _UNCACHED:
            cleaned = clean(raw)
            if len(cache) < _CACHED_CELLS:
                cache[raw] = cleaned
        return cleaned

    def _cleaned_or_none(self, raw) -> str | None:
        return self._intern(clean_text(raw)) or None

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

    def _township(self, cells: tuple) -> tuple[object, str | None]:
        """Return ``(Township, None)``, or ``(None, reason)`` when it has none.

        ``cells`` are the raw township and township code cells of a row.
        """
        name = clean_text(cells[0])
        code = clean_text(cells[1])
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

    def _category(self, cells: tuple) -> tuple[str | None, str | None]:
        """Category and support mode; a list without 保障类别 lists extreme poverty.

        ``cells`` are the raw category and support mode cells of a row and whether
        its file has a category column.
        """
        raw_category, raw_mode, has_category_column = cells
        written_mode = parse_support_mode(raw_mode)
        if clean_text(raw_category):
            category, mode = parse_category(raw_category)
        elif written_mode or not has_category_column:
            category, mode = TEKUN, None
        else:
            return None, None
        if category == TEKUN and written_mode:
            mode = written_mode  # the 供养方式 column is the more specific source
        return category, mode

    # -- pass 1: fold an accepted row into its person ----------------------------

    def _accept(self, ref: int, id18: str, township, name: str, village, flags: int,
                institution) -> None:
        position, added = self._persons.add(int(id18[:17]))
        if added:
            self._person_check.append(ord(id18[17]))
            self._person_township.append(self._township_number(township))
            self._person_name.append(name)
            self._person_village.append(village)
            self._person_institution.append(institution)
            self._person_flags.append(flags)
            self._person_row.append(ref)
            return
        if self._person_flags[position] & _CONFLICT:
            self._conflicts[position].append((ref, township, name))
            return
        first_township = self._township_list[self._person_township[position]]
        first_name = self._person_name[position]
        if first_township.code != township.code or first_name != name:
            # Until now every row of this person agreed: rebuild them for the report.
            self._conflicts[position] = [
                (old_ref, first_township, first_name)
                for old_ref in self._refs(position)
            ] + [(ref, township, name)]
            self._person_flags[position] |= _CONFLICT
            self._more_rows.pop(position, None)
            return
        self._person_flags[position] |= flags
        self._person_village[position] = self._person_village[position] or village
        self._person_institution[position] = (
            self._person_institution[position] or institution
        )
        self._more_rows.setdefault(position, []).append(ref)

    def _township_number(self, township) -> int:
        # By identity: hashing the dataclass is slow, and the list keeps it alive.
        number = self._township_index.get(id(township))
        if number is None:
            number = self._township_index[id(township)] = len(self._township_list)
            self._township_list.append(township)
        return number

    def _refs(self, position: int) -> list:
        return [self._person_row[position], *self._more_rows.get(position, ())]

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
        townships = self._township_list
        for number, flags in zip(self._person_township, self._person_flags,
                                 strict=True):
            if flags & _CONFLICT:
                continue
            township = townships[number]
            counts = figures.get(township.code)
            if counts is None:
                counts = figures[township.code] = TownshipFigures(township.name)
            counts.eligible += 1
            if flags & _INSTITUTIONAL:
                counts.institutional += 1
            elif flags & _BITS[TEKUN]:
                counts.dispersed += 1
            else:
                counts.dibao += 1
        return figures

    def _iter_beneficiaries(self) -> Iterator[Beneficiary]:
        for position, person in self._iter_settled():
            yield Beneficiary(
                *person,
                source_rows=tuple(self._source(ref) for ref in self._refs(position)),
            )

    def _iter_person_fields(self) -> Iterator[PersonFields]:
        for _, person in self._iter_settled():
            yield person

    def _iter_settled(self) -> Iterator[tuple[int, PersonFields]]:
        """Yield ``(position, fields)`` of every person not rejected as conflicting."""
        townships = self._township_list
        persons = zip(
            self._persons.keys, self._person_check, self._person_township,
            self._person_name, self._person_village, self._person_institution,
            self._person_flags, strict=True,
        )
        make = PersonFields._make
        for position, person in enumerate(persons):
            key, check, township, name, village, institution, flags = person
            if flags & _CONFLICT:
                continue
            township = townships[township]
            yield position, make((
                f"{key:017d}{chr(check)}", name, township.code, township.name,
                village, _CATEGORY_SETS[flags & 7],
                INSTITUTIONAL if flags & _INSTITUTIONAL else DISPERSED, institution,
            ))

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


# The categories of each combination of category bits, shared by every person.
_CATEGORY_SETS = {
    flags: frozenset(category for category, bit in _BITS.items() if flags & bit)
    for flags in range(8)
}


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
