"""Core Coach: the platform-agnostic engine, storage, content loader, adapters and CLI."""
