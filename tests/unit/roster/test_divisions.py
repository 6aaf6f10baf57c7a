import pytest

from services.roster.domain.divisions import DivisionIndex, Township

# The ten townships of Yancheng District (郾城区), NBS statistical division codes.
YANCHENG = {
    "411103001000": "沙北街道",
    "411103002000": "龙塔街道",
    "411103003000": "淞江街道",
    "411103101000": "孟庙镇",
    "411103102000": "商桥镇",
    "411103103000": "裴城镇",
    "411103104000": "新店镇",
    "411103105000": "龙城镇",
    "411103106000": "李集镇",
    "411103107000": "黑龙潭镇",
}


@pytest.fixture(scope="module")
def index():
    return DivisionIndex.load()


@pytest.fixture
def no_override_env(monkeypatch):
    monkeypatch.delenv("AIXIN_DIVISIONS_OVERRIDE", raising=False)


class TestDistrict:
    def test_yancheng_names(self, index):
        district = index.district("411103")
        assert district.name == "郾城区"
        assert district.city_name == "漯河市"
        assert district.province_name == "河南省"

    def test_yancheng_townships(self, index):
        townships = index.district("411103").townships
        assert {t.code: t.name for t in townships} == YANCHENG

    def test_townships_sorted_by_code(self, index):
        codes = [t.code for t in index.district("411103").townships]
        assert codes == sorted(codes)

    def test_every_code_has_twelve_digits(self, index):
        for township in index.district("441900").townships:
            assert len(township.code) == 12, township

    @pytest.mark.parametrize("code", ["999999", "4111", "41110301", "", "4111031"])
    def test_unknown_code_raises(self, index, code):
        with pytest.raises(KeyError, match="unknown district code"):
            index.district(code)

    def test_city_is_no_district(self, index):
        with pytest.raises(KeyError):
            index.district("411100")


class TestResolveTownship:
    @pytest.mark.parametrize(
        "written, code",
        [
            ("孟庙镇", "411103101000"),
            ("孟庙", "411103101000"),
            ("沙北街道", "411103001000"),
            ("沙北", "411103001000"),
            ("沙北街道办事处", "411103001000"),
            ("沙北办事处", "411103001000"),
            (" 黑龙潭镇\u3000", "411103107000"),
            ("黑 龙 潭", "411103107000"),
            ("411103105000", "411103105000"),
            ("４１１１０３１０５０００", "411103105000"),
        ],
    )
    def test_matches(self, index, written, code):
        assert index.resolve_township("411103", written).code == code

    @pytest.mark.parametrize(
        "written",
        ["城关镇", "城关", "", "   ", "孟庙乡", "镇", "410102001000", "4111031010"],
    )
    def test_no_match(self, index, written):
        assert index.resolve_township("411103", written) is None

    def test_none_name(self, index):
        assert index.resolve_township("411103", None) is None

    def test_other_district_name(self, index):
        # 城关镇 exists in many districts, for example 410325 (嵩县).
        assert index.resolve_township("410325", "城关镇") is not None
        assert index.resolve_township("411103", "城关镇") is None

    def test_other_district_code(self, index):
        assert index.resolve_township("411102", "411103101000") is None

    def test_unknown_district_raises(self, index):
        with pytest.raises(KeyError):
            index.resolve_township("999999", "孟庙镇")

    def test_shared_stem_without_suffix(self, index):
        # 开平区 (130205) has both 开平街道 and 开平镇.
        assert index.resolve_township("130205", "开平") is None

    def test_shared_stem_by_suffix_kind(self, index):
        township = index.resolve_township("130205", "开平街道办事处")
        assert township.name == "开平街道"

    def test_shared_stem_exact(self, index):
        assert index.resolve_township("130205", "开平镇").name == "开平镇"


def _write_override(tmp_path, text):
    path = tmp_path / "override.csv"
    path.write_text(text, encoding="utf-8")
    return path


class TestOverride:
    def test_replaces_district_townships(self, tmp_path, no_override_env):
        path = _write_override(
            tmp_path, "code12,name\n411103001000,沙北街道\n411103201000,新区街道\n"
        )
        townships = DivisionIndex.load(path).district("411103").townships
        assert townships == (
            Township("411103001000", "沙北街道"),
            Township("411103201000", "新区街道"),
        )

    def test_removed_township_unresolved(self, tmp_path, no_override_env):
        path = _write_override(tmp_path, "411103001000,沙北街道\n")
        index = DivisionIndex.load(path)
        assert index.resolve_township("411103", "孟庙镇") is None

    def test_other_districts_kept(self, tmp_path, no_override_env):
        path = _write_override(tmp_path, "411103001000,沙北街道\n")
        townships = DivisionIndex.load(path).district("411102").townships
        assert townships == DivisionIndex.load().district("411102").townships

    def test_from_environment(self, tmp_path, monkeypatch):
        path = _write_override(tmp_path, "411103009000,测试街道\n")
        monkeypatch.setenv("AIXIN_DIVISIONS_OVERRIDE", str(path))
        index = DivisionIndex.load()
        assert index.resolve_township("411103", "测试").code == "411103009000"

    def test_load_is_cached(self, no_override_env):
        assert DivisionIndex.load() is DivisionIndex.load()

    @pytest.mark.parametrize(
        "text, message",
        [
            ("41110300100,沙北街道\n", "12-digit"),
            ("411103001000,\n", "12-digit"),
            ("411103001000,甲\n411103001000,乙\n", "listed twice"),
            ("999999001000,甲\n", "unknown districts"),
        ],
    )
    def test_invalid_file(self, tmp_path, no_override_env, text, message):
        path = _write_override(tmp_path, text)
        with pytest.raises(ValueError, match=message):
            DivisionIndex.load(path)
