"""Platform adapters: translate platform events to bot.engine.events and replies back. No
domain logic lives here."""
