"""Journeys: multi-step automations per person (docs/journeys.md)."""
