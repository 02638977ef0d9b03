"""The migrations and the models must describe the same schema, on every backend."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage.db import migrate
from bot.storage.models import Base


def _diff(sync_connection: Any) -> list[Any]:
    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_models(db: AsyncEngine) -> None:
    async with db.connect() as conn:
        diff = await conn.run_sync(_diff)
    assert diff == []


async def test_migrate_twice_is_a_no_op(db: AsyncEngine) -> None:
    await migrate(db)
    async with db.connect() as conn:
        assert await conn.run_sync(_diff) == []
