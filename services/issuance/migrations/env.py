from aixin.migration_env import run_migrations
from services.issuance.models import metadata

run_migrations(metadata)
