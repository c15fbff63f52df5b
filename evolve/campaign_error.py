"""The one error a campaign reports to its user as a single line (kept apart so that reading commands need not
import the campaign loop, with torch and Ray behind it)."""


class CampaignError(RuntimeError):
    """The campaign cannot go on (seed program fails, name taken, ...); one line for the user."""
