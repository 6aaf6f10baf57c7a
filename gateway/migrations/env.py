from aixin.migration_env import run_migrations
from gateway.models import metadata

run_migrations(metadata)
