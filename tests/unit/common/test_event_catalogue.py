"""The event catalogue and the services' handlers agree.

The relay declares a queue for every consumer the catalogue names, so a consumer
without a handler would let its queue fill up forever, and a handler the catalogue
does not name would miss events published before its queue existed.
"""

import importlib

import pytest
from nameko.events import EventHandler

from aixin import events

SERVICES = ("roster", "issuance", "redemption", "settlement", "reporting", "notify")


def handled_events(service: str) -> set[str]:
    """Return the event types that the service class has nameko handlers for."""
    module = importlib.import_module(f"services.{service}.service")
    service_class = next(value for value in vars(module).values()
                         if isinstance(value, type) and getattr(value, "name", None)
                         == service)
    handled = set()
    for attribute in dir(service_class):
        method = getattr(service_class, attribute)
        for entrypoint in getattr(method, "nameko_entrypoints", ()):
            if isinstance(entrypoint, EventHandler):
                handled.add(entrypoint.event_type)
    return handled


class TestEventCatalogue:
    @pytest.mark.parametrize("service", SERVICES)
    def test_handlers_match_catalogue(self, service):
        assert handled_events(service) == set(events.events_consumed_by(service))

    def test_every_producer_is_a_service(self):
        producers = {spec.producer for spec in events.CATALOGUE.values()}
        assert producers <= set(SERVICES)

    def test_every_event_has_a_consumer(self):
        for name, spec in events.CATALOGUE.items():
            assert spec.consumers, name
