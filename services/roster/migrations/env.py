from aixin.migration_env import run_migrations
from services.roster.models import metadata

run_migrations(metadata)
