"""The one place that decides which tenants' rows a caller may see.

Every query over customer rows goes through `visible_to`; a lint test keeps
it so. Provider staff see every enterprise; a customer sees its own, and to
it another enterprise's row simply does not exist (404, never 403).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Select, false
from sqlalchemy.orm import InstrumentedAttribute

from app.core.caller import Caller

S = TypeVar("S", bound=Select[Any])


def visible_to(stmt: S, caller: Caller, enterprise_column: InstrumentedAttribute[uuid.UUID]) -> S:
    if caller.is_provider:
        return stmt
    if not caller.enterprise_ids:
        return stmt.where(false())
    return stmt.where(enterprise_column.in_(caller.enterprise_ids))
