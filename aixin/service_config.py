"""Logging shared by every service's config.yaml and the command-line tools."""

import logging.config

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def logging_config(level: str = "INFO") -> dict:
    """Return a dictConfig that masks resident ID numbers in every record."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"mask_id_numbers": {"()": "aixin.personal.MaskIdNumbers"}},
        "formatters": {"plain": {"format": LOG_FORMAT}},
        "handlers": {"console": {"class": "logging.StreamHandler",
                                 "formatter": "plain",
                                 "filters": ["mask_id_numbers"]}},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {"kombu": {"level": "WARNING"}, "amqp": {"level": "WARNING"},
                    "alembic": {"level": "WARNING"}, "nameko": {"level": "WARNING"}},
    }


def configure_logging(level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(level))
