"""Synthetic people for sample rosters: names, villages, phones and categories.

No person is real: names are drawn from common characters, ID numbers are generated
with valid check characters, phone numbers are random.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta

from deploy.sample.sample_ids import make_id18
from services.roster.domain.divisions import District, Township

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
)
MALE_GIVEN = (
    "建国 国强 志强 建华 国庆 保国 长海 得胜 海 新 明 伟 军 德明 学文 永强 卫东 小明 "
    "文华 红旗 大 长山 建军 振华 金生 铁柱 小龙 子豪 浩然 宇轩"
).split()
FEMALE_GIVEN = (
    "秀英 桂兰 玉梅 凤兰 秀兰 玉珍 桂英 翠花 红霞 海燕 丽娟 春梅 小红 二妮 大妮 凤英 "
    "玉芳 小妮 翠 丽 玉 红 秀珍 淑芬 桂芝 欣怡 梓涵 雨萱"
).split()
# Names of Uyghur and other minorities, written with a middle dot (·).
MINORITY_GIVEN = "阿依古丽 艾力 买买提 古丽娜尔 热依拉 迪丽拜尔 艾山 帕提古丽".split()
MINORITY_FAMILY = "买买提 吐尔逊 阿不都 艾山 托乎提 吾斯曼 热合曼 伊明".split()

# Relation to the head of household, by gender.
MALE_RELATIONS = "户主 户主 户主 配偶 子 父亲 孙子".split()
FEMALE_RELATIONS = "户主 户主 配偶 配偶 女 母亲 孙女".split()
PHONE_PREFIXES = (
    "130 131 132 133 135 136 137 138 139 150 151 152 153 155 156 157 158 159 "
    "170 173 177 180 181 182 183 185 186 187 188 189"
).split()
ROADS = "人民路 黄河路 嵩山路 淞江路 文化路 解放路 湘江路 太行山路 沙北 龙塔".split()
VILLAGE_SIDES = "前 后 东 西 南 北 大 小".split()
VILLAGE_ENDINGS = "庄 屯 营 湾 集 楼 寨 店 岗 洼".split()
MINORITY_SHARE = 0.01


@dataclass
class Person:
    """One synthetic person with their clean roster fields."""

    id18: str
    name: str
    male: bool
    township: Township
    village: str
    phone: str
    relation: str
    category: str  # urban_dibao, rural_dibao or tekun
    institution: str | None  # set for an institution-supported tekun person


def is_subdistrict(township: Township) -> bool:
    return township.name.endswith(("街道", "办事处"))


def make_villages(rng: random.Random, township: Township, count: int = 8) -> list:
    """Return ``count`` distinct village or community names for one township."""
    names: list[str] = []
    while len(names) < count:
        if is_subdistrict(township):
            name = rng.choice(ROADS) + rng.choice(("", "东", "西", "南", "北")) + "社区"
        else:
            name = (
                rng.choice(VILLAGE_SIDES)
                + rng.choice(SURNAMES)
                + rng.choice(VILLAGE_ENDINGS)
                + "村"
            )
        if name not in names:
            names.append(name)
    return names


def make_name(rng: random.Random, male: bool) -> str:
    if rng.random() < MINORITY_SHARE:
        return rng.choice(MINORITY_GIVEN) + "·" + rng.choice(MINORITY_FAMILY)
    given = MALE_GIVEN if male else FEMALE_GIVEN
    return rng.choice(SURNAMES) + rng.choice(given)


def make_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


class PersonFactory:
    """Draw persons of one district with unique, valid ID numbers."""

    def __init__(self, rng: random.Random, district: District, snapshot_end: date):
        self.rng = rng
        self.district = district
        self.snapshot_end = snapshot_end
        self.villages = {t.code: make_villages(rng, t) for t in district.townships}
        self.weights = [1.0 if is_subdistrict(t) else 1.6 for t in district.townships]
        self.used_ids: set[str] = set()

    def make(self) -> Person:
        rng = self.rng
        township = rng.choices(self.district.townships, weights=self.weights)[0]
        category = self.draw_category(township)
        male = rng.random() < 0.5
        return Person(
            id18=self.make_unique_id(category, male),
            name=make_name(rng, male),
            male=male,
            township=township,
            village=rng.choice(self.villages[township.code]),
            phone=make_phone(rng),
            relation=rng.choice(MALE_RELATIONS if male else FEMALE_RELATIONS),
            category=category,
            institution=self.draw_institution(township, category),
        )

    def draw_category(self, township: Township) -> str:
        urban = is_subdistrict(township)
        if self.rng.random() < (0.08 if urban else 0.12):
            return "tekun"
        local, other = ("urban", "rural") if urban else ("rural", "urban")
        return f"{local if self.rng.random() < 0.85 else other}_dibao"

    def draw_institution(self, township: Township, category: str) -> str | None:
        """Return the care home of an institution-supported person, else None."""
        if category != "tekun":
            return None
        if is_subdistrict(township):
            if self.rng.random() < 0.1:
                return f"{self.district.name}社会福利院"
            return None
        if self.rng.random() < 0.3:
            return f"{township.name}敬老院"
        return None

    def make_unique_id(self, category: str, male: bool) -> str:
        oldest = date(1925, 1, 1)
        youngest = self.snapshot_end - timedelta(days=30)
        if category == "tekun":
            youngest = min(youngest, date(1975, 12, 31))
        areas = (self.district.code, self.district.code[:4] + "00")
        while True:
            born = random_day(self.rng, oldest, youngest)
            area = self.rng.choices(areas, weights=(0.75, 0.25))[0]
            id18 = make_id18(self.rng, area, born, male)
            if id18 not in self.used_ids:
                self.used_ids.add(id18)
                return id18
