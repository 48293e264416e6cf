"""TMF621 Trouble Ticket v4 shapes (camelCase and `@type`, as TM Forum writes them)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import RequestBody
from app.services.tmf621.rules import TmfStatus

Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200)]

Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100)]

LongText = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


class TmfBody(RequestBody):
    """TMF request bodies may carry TM Forum's polymorphism attributes; they are accepted."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    type_: str | None = Field(default=None, alias="@type")
    base_type: str | None = Field(default=None, alias="@baseType")
    schema_location: str | None = Field(default=None, alias="@schemaLocation")


class RelatedPartyIn(TmfBody):
    """TMF621 requires `id` and `@referredType` of a related party."""

    id: Text200
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referred_type: Text100 = Field(alias="@referredType")


class RelatedEntityIn(TmfBody):
    """TMF621 requires `id`, `role` and `@referredType` of a related entity."""

    id: Text200
    href: str | None = None
    name: str | None = None
    role: Text100
    referred_type: Text100 = Field(alias="@referredType")


class NoteIn(TmfBody):
    id: str | None = None
    author: str | None = None
    date: str | None = None
    text: LongText


class TroubleTicketCreate(TmfBody):
    """`description`, `severity` and `ticketType` are required (400 otherwise). The affected
    service (`relatedEntity`) may be left out: the TSC names it while registering the case.

    Attributes the provider sets (`status`, the dates, `statusChange`...) are accepted as TMF621
    lists them and ignored: every ticket starts `acknowledged`. `status` is accepted whatever
    its value (TM Forum's R18 kit sends one outside the enumeration and expects 201)."""

    description: LongText
    severity: Text100 = Field(description="Free text, mapped by the documented table")
    ticketType: Text100 = Field(description="Free text, kept as given")
    name: Text200 | None = Field(default=None, description="Becomes the ticket's summary")
    externalId: Text100 | None = Field(default=None, description="The carrier's own ticket number")
    priority: Text100 | None = None
    relatedEntity: list[RelatedEntityIn] = Field(
        default_factory=list,
        description="The affected service: `@referredType` `Service`, `id` its id or code",
    )
    relatedParty: list[RelatedPartyIn] = Field(
        default_factory=list,
        description="`Organization`: the enterprise (when the caller has several); "
        "`Individual` (or role `reporter`): the reporting contact's name",
    )
    note: list[NoteIn] = Field(default_factory=list)
    requestedResolutionDate: str | None = None
    channel: dict[str, Any] | None = None
    attachment: list[dict[str, Any]] = Field(default_factory=list)
    troubleTicketRelationship: list[dict[str, Any]] = Field(default_factory=list)
    # Set by the provider: accepted, ignored.
    status: Text100 | None = Field(default=None, description="Ignored: tickets start acknowledged")
    statusChangeReason: str | None = None
    statusChangeDate: str | None = None
    statusChange: list[dict[str, Any]] = Field(default_factory=list)
    creationDate: str | None = None
    lastUpdate: str | None = None
    expectedResolutionDate: str | None = None
    resolutionDate: str | None = None


class TroubleTicketUpdate(TmfBody):
    """Merge patch: the attributes named change; `note` items are added to the history."""

    description: LongText | None = None
    severity: Text100 | None = None
    ticketType: Text100 | None = None
    priority: Text100 | None = None
    note: list[NoteIn] | None = None
    status: TmfStatus | None = Field(
        default=None, description="Read-only here: the provider's TSC moves the ticket"
    )


class TroubleTicket(BaseModel):
    """A Carrier Desk ticket as TMF621 shows it (`fields` may trim it to the attributes named,
    `id` and `href` included only when named)."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    href: str | None = None


class EventSubscriptionInput(TmfBody):
    callback: Annotated[str, StringConstraints(min_length=1, max_length=2048)]
    query: Annotated[str, StringConstraints(max_length=1000)] | None = Field(
        default=None,
        description="`eventType=TroubleTicketCreateEvent,TroubleTicketStatusChangeEvent`; "
        "empty: every event",
    )


class EventSubscription(BaseModel):
    id: str
    callback: str
    query: str | None = None


class TmfError(BaseModel):
    code: str
    reason: str
    message: str | None = None
    status: str | None = None
