"""Self-service scheduling views: requests, leave, availability, my roster, swaps, open shifts, calendar."""

from portal.scheduling import bp  # noqa: F401
