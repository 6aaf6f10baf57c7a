from aixin.migration_env import run_migrations
from services.reporting.models import metadata

run_migrations(metadata)
