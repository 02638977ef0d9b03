"""Platform adapters: translate platform events to bot.engine.events and replies back. No
domain logic lives here."""


class StartFailed(Exception):
    """A platform adapter could not start (its token refused, its API unreachable). The
    message is one line for the operator; `corecoach run` prints it and exits with 1, so a
    restart policy tries again."""
