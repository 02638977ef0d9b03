"""The base of every dialog's typed state: `feature.dialog(kind, state=SomeState)`.

The engine validates the stored JSON into the model its kind registered when a turn loads the
row, and dumps the model back when the turn saves it; handlers change the model in place
(`ctx.state(SomeState)`), and never the step, which the engine alone moves on.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StateModel(BaseModel):
    # extra="forbid": a key this release does not know means a row in an older shape, which
    # the engine ends politely instead of guessing what it meant. validate_assignment: a wrong
    # value fails in the handler that set it, not at the next turn's load.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)
