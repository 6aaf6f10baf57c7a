from aixin.migration_env import run_migrations
from services.notify.models import metadata

run_migrations(metadata)
