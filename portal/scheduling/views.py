"""Manager-side scheduling views: ward set-up, optimise, review and edit drafts, publish, sick calls."""

from portal.scheduling import bp  # noqa: F401
