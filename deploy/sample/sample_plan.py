"""Plant defects into sample roster rows and count what a correct import reports.

Each planted row carries the outcome the import rules give it: a rejection reason,
or None for an accepted row of its person. The expected figures are counted from
those planted outcomes, not by running the importer, so a test can compare the
two.
"""

import random
from collections import Counter
from dataclasses import dataclass, replace
from itertools import zip_longest

from deploy.sample import sample_ids as ids
from deploy.sample.sample_people import Person, is_subdistrict

# Share of persons that get each defect, at least one person per defect.
REJECTED_DEFECTS = (
    ("missing_id", 0.01),
    ("spreadsheet_number", 0.005),
    ("wrong_length", 0.0025),
    ("invalid_id_birthdate", 0.01),
    ("invalid_id_checksum", 0.015),
    ("unknown_township", 0.01),
)
GROUP_DEFECTS = (
    ("duplicate", 0.02),
    ("conflicting_township", 0.005),
    ("conflicting_name", 0.0025),
)
ACCEPTED_VARIANTS = (
    ("fifteen_digits", 0.01),
    ("full_width", 0.01),
    ("stray_spaces", 0.01),
)
MISSING_INSTITUTION_SHARE = 0.005
BOTH_LISTS_SHARE = 0.015
LOWERCASE_X_SHARE = 0.2
# Only an all-digit ID number can become a spreadsheet number, and only people born
# in the 1900s have a 15-digit one.
DEFECT_REQUIREMENTS = {
    "spreadsheet_number": lambda person: person.id18[-1] != "X",
    "fifteen_digits": lambda person: person.id18[6:8] == "19",
}
# Township names that no longer exist. The first one the district lacks is used.
UNKNOWN_TOWNSHIP_NAMES = ("城关镇", "城郊乡", "老城街道", "新区办事处")


@dataclass(frozen=True)
class Row:
    """One planted roster row and the outcome the import rules give it."""

    roster: str  # "dibao" (CSV) or "tekun" (XLSX)
    person: Person
    id_cell: object  # str, a float for a number cell, or "" when missing
    name: str
    township: str
    institution: str | None
    institutional: bool  # 集中供养 written in the 供养方式 column
    reason: str | None  # planted rejection reason, or None for an accepted row


def count_for(share: float, persons: int) -> int:
    return max(1, round(share * persons))


def assign_defects(rng: random.Random, persons: list[Person]) -> dict[int, str]:
    """Return person index -> defect. Each person gets at most one defect."""
    order = list(range(len(persons)))
    rng.shuffle(order)
    defects: dict[int, str] = {}

    def take(defect: str, share: float, pool: list[int]) -> None:
        free = [index for index in pool if index not in defects]
        if defect == "spreadsheet_number":
            free = alternate_lists(free, persons)
        for index in free[: count_for(share, len(persons))]:
            defects[index] = defect

    institutional = [i for i in order if persons[i].institution]
    take("missing_institution", MISSING_INSTITUTION_SHARE, institutional)
    dibao = [i for i in order if persons[i].category != "tekun"]
    take("both_lists", BOTH_LISTS_SHARE, dibao)
    for defect, share in REJECTED_DEFECTS + GROUP_DEFECTS + ACCEPTED_VARIANTS:
        fits = DEFECT_REQUIREMENTS.get(defect)
        take(defect, share, [i for i in order if fits is None or fits(persons[i])])
    return defects


def alternate_lists(pool: list[int], persons: list[Person]) -> list[int]:
    """Reorder ``pool`` to take from both lists in turn, so each file gets a share."""
    tekun = [i for i in pool if persons[i].category == "tekun"]
    dibao = [i for i in pool if persons[i].category != "tekun"]
    alternated = []
    for pair in zip_longest(tekun, dibao):
        alternated.extend(index for index in pair if index is not None)
    return alternated


class RowPlanner:
    """Turn persons and their defects into roster rows with planted outcomes."""

    def __init__(self, rng: random.Random, townships: tuple, unknown_township: str):
        self.rng = rng
        self.townships = townships
        self.unknown_township = unknown_township

    def rows_for(self, person: Person, defect: str | None) -> list[Row]:
        base = self.base_row(person)
        if defect is None:
            return [self.maybe_lowercase_x(base)]
        return getattr(self, f"plant_{defect}")(base)

    def base_row(self, person: Person) -> Row:
        return Row(
            roster="tekun" if person.category == "tekun" else "dibao",
            person=person,
            id_cell=person.id18,
            name=person.name,
            township=person.township.name,
            institution=person.institution,
            institutional=person.institution is not None,
            reason=None,
        )

    def maybe_lowercase_x(self, row: Row) -> Row:
        if row.person.id18.endswith("X") and self.rng.random() < LOWERCASE_X_SHARE:
            return replace(row, id_cell=ids.as_lowercase_x(row.person.id18))
        return row

    def variant_id(self, id18: str) -> str:
        """Return another accepted spelling of the ID: 15 digits or full width."""
        if id18[6:8] == "19" and self.rng.random() < 0.5:
            return ids.as_fifteen(id18)
        return ids.as_full_width(id18)

    # -- rows rejected one by one ------------------------------------------------

    def plant_missing_id(self, row: Row) -> list[Row]:
        cell = ids.expect(self.rng.choice(("", "  ", "\u3000")), "missing_id")
        return [replace(row, id_cell=cell, reason="missing_id")]

    def plant_spreadsheet_number(self, row: Row) -> list[Row]:
        id18 = row.person.id18
        if row.roster == "tekun":
            cell = ids.as_spreadsheet_number(id18)
        else:
            cell = ids.as_spreadsheet_text(id18)
        return [replace(row, id_cell=cell, reason="invalid_id_format")]

    def plant_wrong_length(self, row: Row) -> list[Row]:
        cell = ids.with_wrong_length(self.rng, row.person.id18)
        return [replace(row, id_cell=cell, reason="invalid_id_format")]

    def plant_invalid_id_birthdate(self, row: Row) -> list[Row]:
        cell = ids.with_bad_birthdate(self.rng, row.person.id18)
        return [replace(row, id_cell=cell, reason="invalid_id_birthdate")]

    def plant_invalid_id_checksum(self, row: Row) -> list[Row]:
        cell = ids.with_bad_checksum(self.rng, row.person.id18)
        return [replace(row, id_cell=cell, reason="invalid_id_checksum")]

    def plant_unknown_township(self, row: Row) -> list[Row]:
        return [replace(row, township=self.unknown_township, reason="unknown_township")]

    def plant_missing_institution(self, row: Row) -> list[Row]:
        return [replace(row, institution=None, reason="missing_institution")]

    # -- rows judged together by ID number ----------------------------------------

    def plant_duplicate(self, row: Row) -> list[Row]:
        """Return the row and one or two copies, some with another ID spelling."""
        copies = 2 if self.rng.random() < 0.2 else 1
        rows = [row]
        for _ in range(copies):
            copy = row
            if self.rng.random() < 0.25:
                copy = replace(row, id_cell=self.variant_id(row.person.id18))
            rows.append(copy)
        return rows

    def plant_both_lists(self, row: Row) -> list[Row]:
        """Return a low-income row and an extreme-poverty row of the same person."""
        township = row.person.township
        institution = None
        if not is_subdistrict(township) and self.rng.random() < 0.3:
            institution = f"{township.name}敬老院"
        tekun = replace(
            row,
            roster="tekun",
            institution=institution,
            institutional=institution is not None,
        )
        return [row, tekun]

    def plant_conflicting_township(self, row: Row) -> list[Row]:
        others = [t for t in self.townships if t.name != row.township]
        other = self.rng.choice(others)
        first = replace(row, reason="conflicting_township")
        return [first, replace(first, township=other.name)]

    def plant_conflicting_name(self, row: Row) -> list[Row]:
        first = replace(row, reason="conflicting_name")
        other_name = row.name[0] + ("秀兰" if row.name[1:] != "秀兰" else "桂英")
        return [first, replace(first, name=other_name)]

    # -- rows accepted after normalising ------------------------------------------

    def plant_fifteen_digits(self, row: Row) -> list[Row]:
        return [replace(row, id_cell=self.variant_id(row.person.id18))]

    def plant_full_width(self, row: Row) -> list[Row]:
        return [replace(row, id_cell=ids.as_full_width(row.person.id18))]

    def plant_stray_spaces(self, row: Row) -> list[Row]:
        cell = ids.with_stray_spaces(self.rng, row.person.id18)
        return [replace(row, id_cell=cell, name=row.name + "\u3000")]


def expected_figures(rows: list[Row], files: list[str]) -> dict:
    """Count the figures of a correct import, in the expected-figures file shape."""
    rejected = Counter(row.reason for row in rows if row.reason)
    accepted = [row for row in rows if row.reason is None]
    persons: dict[str, list[Row]] = {}
    for row in accepted:
        persons.setdefault(row.person.id18, []).append(row)
    return {
        "files": files,
        "rows_read": len(rows),
        "accepted_rows": len(accepted),
        "merged_duplicates": len(accepted) - len(persons),
        "rejected": dict(sorted(rejected.items())),
        "rejected_rows": sum(rejected.values()),
        "beneficiaries": len(persons),
        "townships": township_figures(persons),
    }


def township_figures(persons: dict[str, list[Row]]) -> dict:
    """Count beneficiaries per township, each under the support they receive."""
    figures: dict[str, Counter] = {}
    names = {}
    for rows in persons.values():
        township = rows[0].person.township
        names[township.code] = township.name
        counts = figures.setdefault(township.code, Counter())
        counts["eligible"] += 1
        if any(row.roster == "tekun" and row.institutional for row in rows):
            counts["institutional"] += 1
        elif any(row.roster == "tekun" for row in rows):
            counts["dispersed"] += 1
        else:
            counts["dibao"] += 1
    result = {}
    for code in sorted(figures):
        counts = figures[code]
        entry = {"name": names[code], "eligible": counts["eligible"]}
        for support in ("dibao", "dispersed", "institutional"):
            if counts[support]:
                entry[support] = counts[support]
        result[code] = entry
    return result
