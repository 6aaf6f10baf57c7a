"""The simulated world: the actors, their tokens and what the simulation has learnt."""

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from simulator.client import Actor, Rejections
from simulator.settle import wait_until_settled

log = logging.getLogger(__name__)

BUREAUS = {"commerce": "区商务局", "civil_affairs": "区民政局", "finance": "区财政局",
           "leading_group": "领导小组"}


@dataclass
class Township:
    code: str
    name: str
    actor: Actor
    merchants: list = field(default_factory=list)
    beneficiaries: list = field(default_factory=list)
    stock: list = field(default_factory=list)  # (serial, check_code) not yet handed out
    issued: dict = field(default_factory=dict)  # beneficiary_id -> (serial, check_code)
    unreachable: list = field(default_factory=list)  # beneficiary ids never reached
    issued_on: dict = field(default_factory=dict)  # beneficiary_id -> date handed out


@dataclass
class Merchant:
    code: str
    name: str
    township_codes: list
    actor: Actor


class World:
    """Everything the actors share during one simulated campaign."""

    def __init__(self, gateway_url: str, admin_token: str, amqp_uri: str, rng, out: Path):
        self.gateway_url = gateway_url
        self.amqp_uri = amqp_uri
        self.rng = rng
        self.out = out
        self.admin = Actor(gateway_url, admin_token, "admin")
        self.bureaus = {role: self._actor(role, None, name)
                        for role, name in BUREAUS.items()}
        self.rejections = Rejections()
        self.campaign = None
        self.townships: dict[str, Township] = {}
        self.merchants: dict[str, Merchant] = {}
        self.roster_report = None
        self.reminders_sent = 0
        self.now = None
        self.till_records = {}
        # Planted cash-out cases (simulator.cashout_cases) and the vouchers they use,
        # which ordinary shoppers never spend.
        self.cashout_cases = []
        self.cashout_refused = []  # cases the till must refuse instead
        self.cashout_skipped = {}
        self.planted_serials = set()
        # The running processes, when this simulator started them (pausing one
        # simulates a lagging service).
        self.system = None

    def _actor(self, role: str, scope: str | None, name: str) -> Actor:
        issued = self.admin.post("/v1/tokens", json={"role": role, "scope": scope,
                                                      "name": name})
        return Actor(self.gateway_url, issued["token"], name, self.admin.session)

    def township_actor(self, code: str, name: str) -> Actor:
        return self._actor("township", code, name)

    def merchant_actor(self, code: str, name: str) -> Actor:
        return self._actor("merchant", code, name)

    @property
    def campaign_path(self) -> str:
        return f"/v1/campaigns/{self.campaign['campaign_id']}"

    def set_clock(self, moment: datetime) -> None:
        self.admin.put("/v1/clock", json={"now": moment.isoformat()})
        self.now = moment

    def settle(self) -> None:
        started = time.monotonic()
        wait_until_settled(self.gateway_url, self.amqp_uri)
        log.debug("settled in %.2f s", time.monotonic() - started)

    def send_due_reminders(self) -> None:
        result = self.admin.post("/v1/reminders/send-due")
        self.reminders_sent += int(result.get("sent", 0))

    def save(self, relative: str, response) -> Path:
        path = self.out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(response.content)
        return path
