"""One whole campaign, phase by phase, and the figures it ends with."""

import logging
import random
from pathlib import Path

from simulator import (
    cashout_cases,
    closing_phase,
    handout_phase,
    redemption_phase,
    setup_phase,
)
from simulator.dates import campaign_dates
from simulator.invariants import check_invariants, collect_summary
from simulator.world import World

log = logging.getLogger(__name__)


def run_campaign(gateway_url: str, admin_token: str, amqp_uri: str, args,
                 out: Path, system=None) -> dict:
    """Play every actor from the roster snapshot to the end of clearing.

    ``system`` is the RunningSystem when this simulator started the services; a
    planted cash-out case pauses one of them.
    """
    world = World(gateway_url, admin_token, amqp_uri, random.Random(args.seed), out)
    world.system = system
    dates = campaign_dates(args.snapshot_month)
    steps = [
        ("creating the campaign", lambda: setup_phase.create_campaign(
            world, args.district, dates)),
        # The roster comes first so that each supermarket's stores fit its township.
        ("importing and publishing the roster", lambda: (
            setup_phase.import_and_publish_roster(world, args.roster))),
        ("designating merchants", lambda: setup_phase.designate_merchants(world, dates)),
        ("funding the townships", lambda: setup_phase.fund_the_townships(world, dates)),
        ("printing vouchers", lambda: setup_phase.print_vouchers(world)),
        ("handing out vouchers", lambda: handout_phase.hand_out_vouchers(world, dates)),
        ("reissuing a lost voucher", lambda: handout_phase.lose_and_reissue_one(world)),
        ("trying invalid hand-outs", lambda: handout_phase.try_invalid_handouts(world)),
        ("ending hand-out", lambda: handout_phase.end_handout(world, dates)),
        ("choosing the planted cash-out cases", lambda: (
            cashout_cases.choose_cases(world, dates))),
        ("spending vouchers", lambda: redemption_phase.spend_vouchers(world, dates)),
        ("trying invalid redemptions", lambda: (
            redemption_phase.try_invalid_redemptions(world, dates))),
        ("uploading till exports", lambda: (
            closing_phase.upload_till_exports(world, dates))),
        ("auditing redemptions", lambda: closing_phase.audit_redemptions(world, dates)),
        ("producing the joint report", lambda: closing_phase.joint_report(world, dates)),
        ("reimbursing and clearing", lambda: (
            closing_phase.reimburse_and_clear(world, dates))),
    ]
    for number, (title, step) in enumerate(steps, start=1):
        log.info("[%d/%d] %s", number, len(steps), title)
        step()
    summary = collect_summary(world)
    summary["invariants"] = check_invariants(world, summary, args.roster)
    return summary
