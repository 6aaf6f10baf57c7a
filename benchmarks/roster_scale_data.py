"""Streamed input of the roster scale benchmark: a large CSV roster and its townships.

One real county has a few dozen townships, and the importer rejects a township that
lies outside the campaign's district. So 2,000 townships of one campaign cannot come
from the shipped division data. The benchmark writes a division override file
(``AIXIN_DIVISIONS_OVERRIDE``) that gives the real district 411103 (郾城区) 2,000
generated townships. Their codes are ``411103`` + a 4-digit number + ``00``: 12 digits
as the importer and the events require, but not real NBS codes, because the 3-digit
township part of a real code allows at most 999 townships per county.

Rows are written as they are drawn, so memory does not grow with the roster size.
"""

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from services.roster.domain.idnumber import check_character

DISTRICT_CODE = "411103"
FIRST_BIRTH_DATE = date(1930, 1, 1)
# Birth dates are spread over this many days (1930 to 2006), so every ID number
# stays before the snapshot month.
BIRTH_DAYS = 28_000
HEADER = ("序号", "身份证号码", "姓名", "乡镇（街道）", "村（社区）", "保障类别")
CATEGORIES = ("城市低保", "农村低保", "特困人员")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红建国建华志强桂兰秀珍文凤兰玉梅海燕春梅翠兰淑珍"


def township_code(number: int) -> str:
    """Return the generated 12-digit code of township ``number`` (1-based)."""
    return f"{DISTRICT_CODE}{number:04d}00"


def township_name(number: int) -> str:
    return f"基准第{number}镇"


def write_divisions_override(path: Path, townships: int) -> None:
    """Write the ``code,name`` override file of the generated townships."""
    if not 1 <= townships <= 9999:
        raise ValueError(f"townships must be between 1 and 9999, got {townships}")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("code", "name"))
        for number in range(1, townships + 1):
            writer.writerow((township_code(number), township_name(number)))


def id_number(index: int) -> str:
    """Return a distinct valid 18-character ID number for person ``index``."""
    born = FIRST_BIRTH_DATE + timedelta(days=index % BIRTH_DAYS)
    sequence = index // BIRTH_DAYS
    if sequence > 999:
        raise ValueError(f"at most {BIRTH_DAYS * 1000} distinct persons, got {index}")
    first17 = f"{DISTRICT_CODE}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def write_roster_csv(path: Path, persons: int, townships: int, seed: int) -> int:
    """Write one UTF-8 CSV roster of ``persons`` valid rows; return its size in bytes.

    Each person is one row in a township drawn at random, so every row is accepted
    and the import stores ``persons`` beneficiaries.
    """
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for index in range(persons):
            number = rng.randrange(1, townships + 1)
            name = rng.choice(SURNAMES) + "".join(
                rng.choice(GIVEN) for _ in range(rng.randrange(1, 3)))
            writer.writerow((
                index + 1, id_number(index), name, township_name(number),
                f"第{rng.randrange(1, 30)}村", rng.choice(CATEGORIES)))
    return path.stat().st_size
