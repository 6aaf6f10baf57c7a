"""The roster service: the Civil Affairs Bureau's list of who receives a voucher."""

import logging

from nameko.dependency_providers import Config
from nameko.rpc import rpc

from aixin import nameko_kit
from aixin.commands import record_audit, run_command
from aixin.errors import DomainError, InvalidInput
from aixin.nameko_kit import CampaignClock, Storage, consume
from aixin.validation import load
from services.roster import (
    amendments,
    campaigns,
    current,
    deaths,
    imports,
    publishing,
    reads,
    schemas,
)
from services.roster import snapshots as snapshot_store
from services.roster.death_files import read_death_file
from services.roster.domain.readers import RosterFileError
from services.roster.keys import Keys

log = logging.getLogger(__name__)

# 2,000 delivered a million persons faster than 500 (docs/benchmarks.md).
DEFAULT_BATCH_SIZE = 2000
DEFAULT_NOTICE_DAYS = 7


class RosterService(nameko_kit.HealthCheck):
    name = "roster"

    db = Storage("roster")
    clock = CampaignClock()
    keys = Keys()
    config = Config()

    @consume("campaign_created")
    def on_campaign_created(self, session, event):
        campaigns.store_campaign(session, event.data, self.clock.now())

    # -- commands ------------------------------------------------------------------

    @rpc(expected_exceptions=DomainError)
    def import_roster(self, actor: dict, campaign_id: str, payload: dict,
                      idempotency_key: str):
        """Import uploaded files as one draft snapshot; the same files are a no-op."""
        request = load(schemas.UploadedFiles(), payload)
        uploads = imports.check_uploads(request["files"])
        with imports.uploads_discarded(uploads):
            return self._import_uploads(actor, campaign_id, uploads, idempotency_key)

    def _import_uploads(self, actor, campaign_id, uploads, idempotency_key):
        digest = imports.content_hash(uploads)
        with self.db.reading() as session:
            campaign = campaigns.load_campaign(session, campaign_id)
            existing = snapshot_store.find_by_content(session, campaign_id, digest)
            if existing is not None:
                log.info("roster files already imported campaign_id=%s snapshot_id=%s",
                         campaign_id, existing.snapshot_id)
                return {**snapshot_store.snapshot_summary(existing), "replayed": True}
        # Reading yields to other green threads every 1,000 rows, but it is still
        # CPU work in this process, so other RPCs run slower while a file is read.
        try:
            result = imports.read_files(uploads, campaign)
        except RosterFileError as error:
            # nameko rebuilds only the registered shared classes at the gateway; a
            # RosterFileError would reach the client as a 502 upstream error.
            raise InvalidInput(error.code, error.message, error.details) from None
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "import_roster", [campaign_id, digest], now,
            lambda session: imports.store_snapshot(
                session, campaign, result, uploads, digest, self.keys, actor, now))

    @rpc(expected_exceptions=DomainError)
    def publish(self, actor: dict, campaign_id: str, snapshot_id: str, payload: dict,
                idempotency_key: str):
        """Publish a reviewed draft snapshot to every bureau, in batches of events."""
        batch_size = int(self.config.get("ROSTER_BATCH_SIZE") or DEFAULT_BATCH_SIZE)
        now = self.clock.now()
        return run_command(
            self.db, idempotency_key, "publish_roster", [campaign_id, snapshot_id], now,
            lambda session: publishing.publish(
                session, campaign_id, snapshot_id, batch_size, actor, now))

    @rpc(expected_exceptions=DomainError)
    def amend(self, actor: dict, campaign_id: str, payload: dict,
              idempotency_key: str):
        """Remove, add or change one person on the published roster."""
        request = load(schemas.Amendment(), payload)
        now = self.clock.now()

        def execute(session):
            campaign = campaigns.load_campaign(session, campaign_id)
            return amendments.amend(session, campaign, request, self.keys, actor, now)

        return run_command(self.db, idempotency_key, "amend_roster",
                           [campaign_id, payload], now, execute)

    @rpc(expected_exceptions=DomainError)
    def register_deaths(self, actor: dict, campaign_id: str, payload: dict,
                        idempotency_key: str):
        """Remove persons who died before the snapshot month ended; flag the rest."""
        request = load(schemas.DeathRegistrations(), payload)
        uploads = imports.check_uploads(request["files"])
        records = []
        with imports.uploads_discarded(uploads):
            for upload in uploads:
                records += read_death_file(upload["path"], upload["filename"])
        now = self.clock.now()

        def execute(session):
            campaign = campaigns.load_campaign(session, campaign_id)
            return deaths.apply_deaths(session, campaign, request["snapshot_id"],
                                       records, self.keys, actor, now)

        fingerprint = [campaign_id, request["snapshot_id"],
                       imports.content_hash(uploads)]
        return run_command(self.db, idempotency_key, "register_deaths", fingerprint,
                           now, execute)

    # -- reads ---------------------------------------------------------------------

    @rpc(expected_exceptions=DomainError)
    def list_snapshots(self, actor: dict, campaign_id: str):
        with self.db.reading() as session:
            campaigns.load_campaign(session, campaign_id)
            rows = snapshot_store.campaign_snapshots(session, campaign_id)
            return [snapshot_store.snapshot_summary(row) for row in rows]

    @rpc(expected_exceptions=DomainError)
    def get_import_report(self, actor: dict, campaign_id: str, snapshot_id: str,
                          offset: int = 0, limit: int = 1000):
        with self.db.reading() as session:
            snapshot = snapshot_store.load_snapshot(session, campaign_id, snapshot_id)
            return reads.import_report(session, snapshot, max(int(offset), 0),
                                       min(max(int(limit), 0), 10000))

    @rpc(expected_exceptions=DomainError)
    def import_report_xlsx(self, actor: dict, campaign_id: str, snapshot_id: str):
        with self.db.reading() as session:
            campaign = campaigns.load_campaign(session, campaign_id)
            snapshot = snapshot_store.load_snapshot(session, campaign_id, snapshot_id)
            return reads.import_report_xlsx(session, snapshot, campaign)

    @rpc(expected_exceptions=DomainError)
    def list_beneficiaries(self, actor: dict, campaign_id: str, township_code: str,
                           village: str | None = None, snapshot_id: str | None = None,
                           original: bool = False):
        """List one township's beneficiaries, masked; the current roster by default."""
        reads.check_township(actor, township_code)
        with self.db.reading() as session:
            snapshot = snapshot_store.current_snapshot(session, campaign_id,
                                                       snapshot_id)
            return reads.township_list(session, snapshot, township_code, village,
                                       bool(original))

    @rpc(expected_exceptions=DomainError)
    def reveal_id_number(self, actor: dict, campaign_id: str, beneficiary_id: str,
                         reason: str | None = None):
        """Return one full ID number to civil affairs and record it in the audit log."""
        reads.require_civil_affairs(actor)
        now = self.clock.now()
        with self.db.transaction() as session:
            snapshot = snapshot_store.current_snapshot(session, campaign_id)
            row = current.load_person(session, snapshot.snapshot_id, beneficiary_id)
            record_audit(session, now, actor["name"], "reveal_id_number",
                         beneficiary_id, reason=reason, campaign_id=campaign_id,
                         token_id=actor.get("token_id"))
            id_number = self.keys.decrypt(row.id_encrypted)
        log.info("full ID number revealed campaign_id=%s beneficiary_id=%s actor=%s",
                 campaign_id, beneficiary_id, actor["name"])
        return {"beneficiary_id": beneficiary_id, "name": row.name,
                "id_number": id_number}

    @rpc(expected_exceptions=DomainError)
    def public_notice(self, actor: dict, campaign_id: str, township_code: str,
                      kind: str = "xlsx", village: str | None = None):
        """Render the public notice (公示) of a township or one of its villages."""
        reads.check_township(actor, township_code)
        notice_days = int(self.config.get("ROSTER_NOTICE_DAYS") or DEFAULT_NOTICE_DAYS)
        with self.db.reading() as session:
            campaign = campaigns.load_campaign(session, campaign_id)
            snapshot = snapshot_store.require_published(session, campaign_id)
            return reads.notice_document(session, snapshot, campaign, township_code,
                                         village, kind, notice_days)

    @rpc(expected_exceptions=DomainError)
    def list_amendments(self, actor: dict, campaign_id: str):
        with self.db.reading() as session:
            snapshot = snapshot_store.current_snapshot(session, campaign_id)
            return {"snapshot_id": snapshot.snapshot_id,
                    "amendments": reads.amendment_list(session, snapshot),
                    "death_reviews": deaths.list_reviews(session,
                                                         snapshot.snapshot_id)}
