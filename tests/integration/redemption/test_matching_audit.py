"""Statement matching, the audit and its event, and the cash-out flags."""

import io
import json
import zipfile

import requests
from openpyxl import Workbook
from sqlalchemy import select

from aixin.plumbing import outbox
from aixin.vouchers import make_serial
from tests.integration.redemption.redemption_setup import (
    CAMPAIGN_ID, ISSUED_AT, MERCHANT, SHOPPING_AT, TOWNSHIP, wait_for)

HEADER = "serial,till_transaction_id,time,total_fen,items\n"


def upload(campaign, headers, content: bytes, filename="till.csv",
           merchant=MERCHANT, period=("2023-01-20", "2023-01-20")):
    return requests.post(
        f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/merchants/{merchant}/statements",
        files={"files": (filename, content)},
        data={"period_from": period[0], "period_to": period[1]},
        headers=headers, timeout=30)


def csv_row(serial, transaction, total_fen, items=2) -> str:
    return f"{serial},{transaction},2023-01-20 10:00:00,{total_fen},{items}\n"


def issue_unprinted(campaign, sequence) -> str:
    serial = make_serial(1, TOWNSHIP, sequence)
    campaign.publish("voucher_issued", {
        "campaign_id": CAMPAIGN_ID, "serial": serial, "beneficiary_id": "b-unprinted",
        "beneficiary_name": "李四", "masked_id": "411103********5678",
        "township_code": TOWNSHIP, "village": "红旗村", "institution": None,
        "recipient_kind": "self", "issued_at": ISSUED_AT, "late": False})
    wait_for(lambda: campaign.states([serial]) == {"issued"})
    return serial


def audit_events(campaign) -> list[dict]:
    with campaign.database.reading() as session:
        bodies = session.execute(select(outbox.c.body).where(
            outbox.c.event_type == "redemptions_audited")).scalars().all()
    return [json.loads(body)["data"] for body in bodies]


class TestMatchingAndAudit:
    def test_reconciliation_and_audit(self, campaign):
        merchant = campaign.headers["merchant"]
        commerce = campaign.headers["commerce"]
        s1, s2, s3, s4 = campaign.print_and_issue(TOWNSHIP, [21, 22, 23, 24])
        s5 = issue_unprinted(campaign, 25)
        ids = {}
        for serial in (s1, s2, s3, s4, s5):
            response = campaign.redeem(merchant, serial, total_fen=10000)
            assert response.status_code == 201, response.text
            ids[serial] = response.json()["redemption_id"]
        unknown = make_serial(1, TOWNSHIP, 26)
        content = (HEADER + csv_row(s1, f"T{s1[-6:]}", 10000)
                   + csv_row(s2, f"T{s2[-6:]}", 10500)
                   + csv_row(s4, f"T{s4[-6:]}", 10000)
                   + csv_row(s5, f"T{s5[-6:]}", 10000)
                   + csv_row(unknown, "T999", 5000)).encode()

        first = upload(campaign, merchant, content)
        again = upload(campaign, merchant, content)

        assert first.status_code == 201, first.text
        report = first.json()
        assert report["summary"]["matched"] == 3
        assert report["summary"]["mismatched"] == 1
        assert report["summary"]["not_in_statement"] == 1
        assert report["summary"]["not_recorded"] == 1
        assert report["summary"]["print_log"] == 1
        assert report["mismatched"][0]["serial"] == s2
        assert report["mismatched"][0]["problems"] == [
            {"field": "total_fen", "statement": 10500, "recorded": 10000}]
        assert report["not_in_statement"][0]["serial"] == s3
        assert report["not_recorded"][0]["serial"] == unknown
        assert report["print_log"] == [{
            "serial": s5, "problem": "never_printed", "redemption_id": ids[s5],
            "township_code": TOWNSHIP, "printed_township_code": None}]
        assert again.status_code == 201
        assert again.json()["duplicate"] is True
        assert again.json()["statement_id"] == report["statement_id"]

        audit = requests.post(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/merchants/{MERCHANT}/audits",
            json={"period_from": "2023-01-20", "period_to": "2023-01-20",
                  "rejections": [{"redemption_id": ids[s4], "reason": "连号集中核销"}]},
            headers=commerce, timeout=10)
        repeated = requests.post(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/merchants/{MERCHANT}/audits",
            json={"period_from": "2023-01-20", "period_to": "2023-01-20"},
            headers=commerce, timeout=10)

        assert audit.status_code == 201, audit.text
        assert repeated.status_code == 409
        assert repeated.json()["error"] == "nothing_to_audit"
        (event,) = audit_events(campaign)
        assert event["merchant_code"] == MERCHANT
        assert event["approved"] == [{
            "redemption_id": ids[s1], "serial": s1, "township_code": TOWNSHIP,
            "voucher_part_fen": 10000, "reason": None}]
        reasons = {item["serial"]: item["reason"] for item in event["rejected"]}
        assert reasons[s2].startswith("statement_mismatch")
        assert reasons[s3].startswith("not_in_statement")
        assert reasons[s4] == "rejected_by_commerce: 连号集中核销"
        assert reasons[s5].startswith("print_log_mismatch")
        approved = requests.get(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions",
            params={"audit_state": "approved"}, headers=commerce, timeout=10).json()
        assert [item["serial"] for item in approved] == [s1]

    def test_xlsx_export_matches(self, campaign):
        merchant = campaign.headers["merchant"]
        (serial,) = campaign.print_and_issue(TOWNSHIP, [31])
        assert campaign.redeem(merchant, serial, total_fen=6000).status_code == 201
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["券号", "交易号", "交易时间", "金额（分）"])
        sheet.append([serial, f"T{serial[-6:]}", SHOPPING_AT.replace(tzinfo=None), 6000])
        buffer = io.BytesIO()
        workbook.save(buffer)

        response = upload(campaign, merchant, buffer.getvalue(), filename="till.xlsx")

        assert response.status_code == 201, response.text
        assert response.json()["summary"]["matched"] == 1

    def test_other_merchant_cannot_upload(self, campaign):
        response = upload(campaign, campaign.headers["other_merchant"],
                          (HEADER + csv_row("1", "T1", 1)).encode())

        assert response.status_code == 404


def zip_bomb() -> bytes:
    """An XLSX-named zip whose 4 MB sheet of zeros compresses about 1000:1."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (4 * 1024 * 1024))
    return buffer.getvalue()


class TestRejectedUploads:
    def test_rejected_exports_leave_no_file(self, campaign, tmp_path):
        merchant = campaign.headers["merchant"]
        folder = tmp_path / "uploads"
        valid = (HEADER + csv_row(make_serial(1, TOWNSHIP, 51), "T1", 100)).encode()
        statements = (f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/merchants/"
                      f"{MERCHANT}/statements")
        period = {"period_from": "2023-01-20", "period_to": "2023-01-20"}
        gbk = "券号,交易号,交易时间,金额（分）\n".encode("gbk")
        cases = {
            "xlsx_compression_suspicious": lambda: upload(
                campaign, merchant, zip_bomb(), filename="till.xlsx"),
            "invalid_statement_file": lambda: upload(
                campaign, merchant, gbk, filename="gbk.csv"),
            "invalid_request": lambda: upload(
                campaign, merchant, valid, period=("", "2023-01-20")),
            "invalid_period": lambda: upload(
                campaign, merchant, valid, period=("2023-01-21", "2023-01-20")),
            "unsupported_file_type": lambda: requests.post(statements, files=[
                ("files", ("till.csv", valid)), ("files", ("notes.txt", b"x"))],
                data=period, headers=merchant, timeout=30),
            "one_file_expected": lambda: requests.post(statements, files=[
                ("files", ("a.csv", valid)), ("files", ("b.csv", valid + b"\n"))],
                data=period, headers=merchant, timeout=30),
        }
        for code, send in cases.items():
            response = send()
            assert response.status_code in (400, 409, 422), response.text
            assert response.json()["error"] == code, response.text
            assert list(folder.iterdir()) == [], code

        accepted = upload(campaign, merchant, valid)
        assert accepted.status_code == 201, accepted.text
        [kept] = folder.iterdir()
        assert kept.name == f"{accepted.json()['sha256']}.csv"
        # The same content rejected later must not take the accepted file with it.
        again = upload(campaign, merchant, valid, period=("2023-01-21", "2023-01-20"))
        assert again.status_code != 201
        assert list(folder.iterdir()) == [kept]


class TestCashoutFlags:
    def test_flags_explain_themselves(self, campaign):
        merchant = campaign.headers["merchant"]
        face, ordinary, removed = campaign.print_and_issue(TOWNSHIP, [41, 42, 43])
        campaign.publish("roster_amended", {
            "campaign_id": CAMPAIGN_ID, "amendment_id": "a-1", "kind": "remove",
            "beneficiary": {
                "beneficiary_id": f"b-{removed[-7:]}", "name": "王五",
                "masked_id": "411103********9012", "township_code": TOWNSHIP,
                "township_name": "城关镇", "village": "红旗村",
                "categories": ["rural_dibao"], "support_mode": "dispersed"},
            "reason": "死亡", "operator": "民政局"}, producer="roster")
        single_line = [{"item": "购物袋装礼包", "category": "grocery", "quantity": 1,
                        "unit_price_fen": 30000, "amount_fen": 30000}]
        assert campaign.redeem(merchant, face, total_fen=30000,
                               lines=single_line).status_code == 201
        assert campaign.redeem(merchant, ordinary, total_fen=8000).status_code == 201

        assert campaign.redeem(merchant, removed, total_fen=7000).status_code == 201

        wait_for(lambda: any(flag["rule"] == "removed_from_roster"
                             for flag in flags_of(campaign)["flags"]))
        flags = flags_of(campaign)["flags"]

        by_rule = {flag["rule"]: flag for flag in flags}
        assert set(by_rule) == {"single_line_face_value", "removed_from_roster"}
        assert by_rule["single_line_face_value"]["figures"]["amount_fen"] == 30000
        assert "恰好等于面值" in by_rule["single_line_face_value"]["explanation"]
        assert by_rule["removed_from_roster"]["label"] == "已移出名单人员的消费券被核销"
        flagged_ids = {rid for flag in flags for rid in flag["redemption_ids"]}
        ordinary_id = [item for item in requests.get(
            f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/redemptions",
            headers=campaign.headers["commerce"], timeout=10).json()
            if item["serial"] == ordinary][0]["redemption_id"]
        assert ordinary_id not in flagged_ids


def flags_of(campaign) -> dict:
    response = requests.get(
        f"{campaign.base}/v1/campaigns/{CAMPAIGN_ID}/cashout-flags",
        headers=campaign.headers["commerce"], timeout=10)
    assert response.status_code == 200, response.text
    return response.json()
