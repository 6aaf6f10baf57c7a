from aixin.migration_env import run_migrations
from services.settlement.models import metadata

run_migrations(metadata)
