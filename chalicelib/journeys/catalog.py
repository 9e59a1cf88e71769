"""Journeys and their versions as the tick and the consumers read them: one GetItem each per
invocation (a version never changes; a journey's status is read fresh per invocation)."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from chalicelib.journeys import graph
from chalicelib.journeys.models import Journey


class Catalog:
    def __init__(self) -> None:
        self._journeys: dict[tuple[str, str], Journey | None] = {}
        self._versions: dict[tuple[str, str, int], dict] = {}
        self._timezones: dict[str, str] = {}
        self._triggers: dict[tuple[str, str], list[str]] = {}

    def triggered(self, tenant_id: str, trigger: str) -> list[str]:
        """The ids of the journeys a trigger enters (the trigger index; one Query per batch)."""
        key = (tenant_id, trigger)
        if key not in self._triggers:
            self._triggers[key] = [t.journey_id or "" for t in Journey.query(
                tenant_id, Journey.sk.startswith(Journey.trigger_key(trigger)))]
        return self._triggers[key]

    def journey(self, tenant_id: str, journey_id: str) -> Journey | None:
        key = (tenant_id, journey_id)
        if key not in self._journeys:
            try:
                self._journeys[key] = Journey.get(tenant_id, Journey.journey_key(journey_id),
                                                  consistent_read=True)
            except DoesNotExist:
                self._journeys[key] = None
        return self._journeys[key]

    def version(self, tenant_id: str, journey_id: str, version: int) -> dict:
        """``{"steps": {id: step}, "first": id, "goal": ...}`` of one version."""
        key = (tenant_id, journey_id, version)
        if key not in self._versions:
            item = Journey.get(tenant_id, Journey.version_key(journey_id, version))
            steps = list(item.steps or [])
            self._versions[key] = {"steps": graph.index(steps), "first": steps[0]["id"],
                                   "goal": item.goal}
        return self._versions[key]

    def timezone(self, tenant_id: str, journey: Journey | None) -> str:
        if journey is not None and journey.timezone:
            return journey.timezone
        if tenant_id not in self._timezones:
            from chalicelib.campaigns import planning

            self._timezones[tenant_id] = planning.tenant_timezone(tenant_id)
        return self._timezones[tenant_id]
