from aixin.migration_env import run_migrations
from services.redemption.models import metadata

run_migrations(metadata)
