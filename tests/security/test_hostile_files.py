"""Hostile files: oversized uploads, zip bombs, path tricks and formula injection."""

import io
import re
import uuid
import zipfile
from pathlib import Path

import openpyxl
import pytest
import requests

import gateway.service
from aixin import xlsx_guard
from aixin.errors import InvalidInput
from aixin.spreadsheet import FORMULA_PREFIXES
from gateway import routes  # noqa: F401 - registers every route
from gateway.routing import ROUTES
from gateway.uploads import safe_filename
from route_requests import Requests
from services.redemption.domain.uscc import make_uscc

REPO_ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
FORMULA = "=HYPERLINK(\"http://127.0.0.1/\",\"点我\")"


def minimal_xlsx() -> bytes:
    workbook = openpyxl.Workbook()
    workbook.active.append(["姓名", "身份证号码"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def inflated_xlsx(sheet_bytes: int) -> bytes:
    """Return a small XLSX whose first sheet XML inflates to ``sheet_bytes`` bytes."""
    source = zipfile.ZipFile(io.BytesIO(minimal_xlsx()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for member in source.infolist():
            if member.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(member, source.read(member))
                continue
            with bomb.open(member.filename, "w", force_zip64=True) as sheet:
                chunk = b" " * (1024 * 1024)
                for _ in range(sheet_bytes // len(chunk)):
                    sheet.write(chunk)
    return buffer.getvalue()


def declared_size_bomb() -> bytes:
    """Return a valid XLSX whose central directory declares a 4 GiB sheet XML."""
    content = bytearray(minimal_xlsx())
    archive = zipfile.ZipFile(io.BytesIO(bytes(content)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    directory = content.find(b"PK\x01\x02")
    while directory != -1:
        name_length = int.from_bytes(content[directory + 28:directory + 30], "little")
        name = bytes(content[directory + 46:directory + 46 + name_length])
        if name == info.filename.encode():
            content[directory + 24:directory + 28] = (0xFFFF_FFF0).to_bytes(4, "little")
        directory = content.find(b"PK\x01\x02", directory + 4)
    return bytes(content)


@pytest.fixture(scope="module")
def gigabyte_bomb() -> bytes:
    return inflated_xlsx(1024 * 1024 * 1024)


class TestXlsxGuard:
    def test_gigabyte_sheet_is_rejected(self, gigabyte_bomb):
        assert len(gigabyte_bomb) < 2 * 1024 * 1024
        with pytest.raises(InvalidInput) as raised:
            xlsx_guard.check_xlsx(io.BytesIO(gigabyte_bomb), "bomb.xlsx")
        assert raised.value.code == "xlsx_too_large"
        assert CHINESE.search(raised.value.message)

    def test_declared_size_is_checked(self):
        with pytest.raises(InvalidInput) as raised:
            xlsx_guard.check_xlsx(io.BytesIO(declared_size_bomb()), "bomb.xlsx")
        assert raised.value.code in ("xlsx_too_large", "xlsx_compression_suspicious")

    def test_high_ratio_is_rejected(self):
        bomb = inflated_xlsx(64 * 1024 * 1024)
        with pytest.raises(InvalidInput) as raised:
            xlsx_guard.check_xlsx(io.BytesIO(bomb), "ratio.xlsx")
        assert raised.value.code == "xlsx_compression_suspicious"

    def test_not_a_zip_is_rejected(self):
        with pytest.raises(InvalidInput) as raised:
            xlsx_guard.open_workbook(io.BytesIO(b"name,id\n"), "fake.xlsx")
        assert raised.value.code == "xlsx_invalid"

    def test_real_workbook_opens(self):
        workbook = xlsx_guard.open_workbook(io.BytesIO(minimal_xlsx()), "ok.xlsx")
        try:
            assert workbook.worksheets[0].max_column >= 2
        finally:
            workbook.close()

    def test_every_reader_uses_the_guard(self):
        callers = [path.relative_to(REPO_ROOT) for folder in ("aixin", "gateway",
                                                             "services")
                   for path in (REPO_ROOT / folder).rglob("*.py")
                   if "load_workbook" in path.read_text(encoding="utf-8")]
        assert callers == [Path("aixin/xlsx_guard.py")]


class TestSafeFilename:
    @pytest.mark.parametrize("name, expected", [
        ("../../etc/cron.d/roster.csv", "roster.csv"),
        ("/etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\clerk\\花名册.xlsx", "花名册.xlsx"),
        ("..\\..\\windows\\win.xlsx", "win.xlsx"),
        ("roster\x00.xlsx.csv", "roster_.xlsx.csv"),
        ("..", "upload"),
        ("", "upload"),
    ])
    def test_name_is_neutralised(self, name, expected):
        assert safe_filename(name) == expected


def post_files(campaign, path: str, token: str, files, data=None):
    return requests.post(campaign.base_url + path, files=files, data=data,
                         headers={**campaign.headers(token),
                                  "Idempotency-Key": uuid.uuid4().hex}, timeout=120)


def assert_rejected(response, status: int, code: str):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == code, body
    assert CHINESE.search(body["message"]), body


class TestUploadRoutes:
    def roster_path(self, campaign) -> str:
        return f"/v1/campaigns/{campaign.campaign_id}/roster/imports"

    def statement_path(self, campaign) -> str:
        return (f"/v1/campaigns/{campaign.campaign_id}/merchants/"
                f"{campaign.merchants['A'].code}/statements")

    def test_oversized_upload_is_413(self, campaign, monkeypatch):
        monkeypatch.setattr(gateway.service, "MAX_UPLOAD_BYTES", 1024 * 1024)
        response = post_files(campaign, self.roster_path(campaign),
                              campaign.tokens["civil_affairs"],
                              [("files", ("big.csv", b"x" * (2 * 1024 * 1024)))])
        assert_rejected(response, 413, "upload_too_large")

    def test_oversized_json_is_413(self, campaign, monkeypatch):
        monkeypatch.setattr(gateway.service, "MAX_UPLOAD_BYTES", 1024 * 1024)
        response = requests.post(
            campaign.base_url + f"/v1/campaigns/{campaign.campaign_id}/merchants",
            data=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            headers={**campaign.headers(campaign.tokens["commerce"]),
                     "Content-Type": "application/json"}, timeout=60)
        assert_rejected(response, 413, "upload_too_large")

    def test_roster_zip_bomb_is_400(self, campaign, gigabyte_bomb):
        response = post_files(campaign, self.roster_path(campaign),
                              campaign.tokens["civil_affairs"],
                              [("files", ("bomb.xlsx", gigabyte_bomb))])
        assert_rejected(response, 400, "xlsx_too_large")

    def test_death_file_zip_bomb_is_400(self, campaign, gigabyte_bomb):
        response = post_files(
            campaign, f"/v1/campaigns/{campaign.campaign_id}/roster/deaths",
            campaign.tokens["civil_affairs"],
            [("files", ("deaths.xlsx", gigabyte_bomb))])
        assert_rejected(response, 400, "xlsx_too_large")

    def test_statement_zip_bomb_is_400(self, campaign, gigabyte_bomb):
        response = post_files(campaign, self.statement_path(campaign),
                              campaign.merchants["A"].token,
                              [("files", ("till.xlsx", gigabyte_bomb))],
                              data={"period_from": "2023-01-13",
                                    "period_to": "2023-01-13"})
        assert_rejected(response, 400, "xlsx_too_large")

    def test_fake_xlsx_is_400(self, campaign):
        response = post_files(campaign, self.roster_path(campaign),
                              campaign.tokens["civil_affairs"],
                              [("files", ("fake.xlsx", b"not a zip at all"))])
        assert_rejected(response, 400, "xlsx_invalid")

    @pytest.mark.parametrize("name", ["../../../../tmp/aixin-evil.csv",
                                      "/tmp/aixin-evil.csv",
                                      "..\\..\\aixin-evil.csv",
                                      "aixin-evil\x00.csv"])
    def test_path_tricks_stay_in_upload_folder(self, campaign, name):
        before = set(Path("/tmp").glob("aixin-evil*"))
        response = post_files(campaign, self.roster_path(campaign),
                              campaign.tokens["civil_affairs"],
                              [("files", (name, "姓名,身份证号码\n".encode()))])
        assert response.status_code < 500, response.text
        assert set(Path("/tmp").glob("aixin-evil*")) == before
        stored = [path for path in campaign.upload_dir.rglob("*") if path.is_file()]
        assert all(campaign.upload_dir in path.parents for path in stored)
        assert all("evil" not in path.name for path in stored)
        assert "../" not in response.text
        assert "\\u0000" not in response.text


class TestFormulaInjection:
    """Text a user typed reaches every XLSX document as text, never as a formula."""

    def test_exported_cells_are_not_formulas(self, campaign):
        merchant_code, batch_id = inject_formulas(campaign)
        builder = Requests(campaign)
        checked = neutralised = 0
        for route in ROUTES:
            if not route.produces_file:
                continue
            token = token_for(campaign, route)
            values = builder.values("township", "A")
            values["merchant_code"] = merchant_code
            values["batch_id"] = batch_id
            extra = {"format": "xlsx"} if "format" in route.query else {}
            response = builder.send(route, token, values, extra_query=extra)
            if "spreadsheetml" not in response.headers.get("Content-Type", ""):
                continue
            checked += 1
            neutralised += assert_no_formulas(route.operation_id, response.content)
        assert checked >= 5, f"only {checked} XLSX documents were produced"
        assert neutralised > 0, "no injected text reached any document"


def token_for(campaign, route) -> str:
    for role in ("commerce", "civil_affairs", "finance", "leading_group", "admin"):
        if role in route.roles:
            return campaign.tokens[role]
    if "township" in route.roles:
        return campaign.townships["A"].token
    return campaign.merchants["A"].token


def inject_formulas(campaign) -> tuple[str, str]:
    """Put formula-like text in a merchant's name and a batch's operator.

    Returns the new merchant's code and the id of the batch printed by it.
    """
    world = campaign.world
    township = campaign.townships["A"]
    code = make_uscc("411103", 77)
    world.bureaus["commerce"].post(f"{world.campaign_path}/merchants", json={
        "merchant_code": code, "name": FORMULA, "above_size": True, "stores": 1,
        "contact": "+8613800000000", "township_codes": [township.code],
        "valid_from": "2023-01-01", "valid_to": "2023-03-31"})
    world.settle()
    actor = next(t.actor for t in world.townships.values() if t.code == township.code)
    batch = actor.post(
        f"{world.campaign_path}/townships/{township.code}/print-batches",
        json={"merchant_code": code, "count": 1, "operator": "@SUM(1,2)"})
    world.settle()
    return code, batch["batch_id"]


def assert_no_formulas(operation: str, content: bytes) -> int:
    """Assert no cell is or looks like a formula; count cells neutralised by a quote."""
    neutralised = 0
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                where = f"{operation} {sheet.title}!{cell.coordinate}"
                assert cell.data_type != "f", f"{where} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    neutralised += cell.value.startswith(("'=", "'@", "'+", "'-"))
                    assert not cell.value.startswith(FORMULA_PREFIXES), (
                        f"{where} starts like a formula: {cell.value!r}")
    return neutralised
