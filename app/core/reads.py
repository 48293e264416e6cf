"""A response body read from a row, naming only the fields the row does not hold as they are.

Response bodies read rows by attribute (`ResponseBody` has `from_attributes`), so a read
whose every field is a column is `XRead.model_validate(row)`. A read with a nested part
built from several columns, or a field from elsewhere (the enterprises a user holds, an
event's body as the caller may see it), is `read_of(XRead, row, that_field=...)`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Read = TypeVar("Read", bound=BaseModel)


def read_of(shape: type[Read], row: Any, **given: Any) -> Read:
    """`shape` validated from `row`'s attributes of the same names, but for the fields in
    `given`, which are taken as given (the row's attribute of that name is not read)."""
    taken = {name: getattr(row, name) for name in shape.model_fields if name not in given}
    return shape.model_validate({**taken, **given})
