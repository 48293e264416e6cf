"""MEF LSO Sonata Trouble Ticket v4 bodies: what a buyer sends, and what it reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.schemas import Instant
from app.services.sonata.rules import (
    IncidentStatusType,
    ObservedImpact,
    SonataPriority,
    SonataSeverity,
    SonataStatus,
    SonataTicketType,
)

Text = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SonataBody(BaseModel):
    """A Sonata request body: unknown attributes are refused (`unexpectedProperty`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class SonataNoteIn(SonataBody):
    """A buyer's note; the seller assigns `id`, `date`, `author` and `source`."""

    text: Text
    author: Short | None = None
    date: Instant | None = None
    id: Short | None = None
    source: str | None = None


class SonataRelatedContactInformation(SonataBody):
    name: Short
    emailAddress: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    role: Short
    numberExtension: Short | None = None
    organization: Short | None = None


class SonataRelatedEntity(SonataBody):
    """The product the ticket is about: a Carrier Desk service, by its id or code."""

    id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    role: Short
    referredType: str = Field(default="Product", alias="@referredType", max_length=100)
    href: str | None = Field(default=None, max_length=2048)


class SonataTroubleTicketCreate(SonataBody):
    description: Text
    externalId: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    issueStartDate: Instant | None = None
    note: list[SonataNoteIn] = Field(default_factory=list, max_length=100)
    observedImpact: ObservedImpact
    priority: SonataPriority
    relatedContactInformation: list[SonataRelatedContactInformation] = Field(
        min_length=1, max_length=20
    )
    relatedEntity: list[SonataRelatedEntity] = Field(min_length=1, max_length=1)
    severity: SonataSeverity
    ticketType: SonataTicketType


class SonataTroubleTicketUpdate(SonataBody):
    """What the buyer may change (`TroubleTicket_Update`); a note is added, never replaced."""

    externalId: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    issueStartDate: Instant | None = None
    observedImpact: ObservedImpact | None = None
    note: list[SonataNoteIn] | None = Field(default=None, max_length=100)
    priority: SonataPriority | None = None
    relatedContactInformation: list[SonataRelatedContactInformation] | None = Field(
        default=None, min_length=1, max_length=20
    )
    severity: SonataSeverity | None = None


class SonataEventSubscriptionInput(SonataBody):
    callback: Annotated[str, StringConstraints(min_length=1, max_length=1800)]
    query: Annotated[str, StringConstraints(max_length=1000)] | None = None


class SonataEventSubscription(BaseModel):
    id: str
    callback: str
    query: str | None = None


class SonataNote(BaseModel):
    id: str
    author: str
    date: datetime
    source: str
    text: str


class SonataStatusChange(BaseModel):
    status: str
    changeDate: datetime
    changeReason: str | None = None


class SonataEntityRef(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    role: str
    referredType: str = Field(alias="@referredType")
    href: str | None = None


class SonataIssueRef(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    href: str
    referredType: str = Field(alias="@referredType")
    relationshipType: str
    source: str


class SonataContactOut(BaseModel):
    name: str
    emailAddress: str
    number: str
    role: str
    organization: str | None = None


class SonataTroubleTicket(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    href: str
    externalId: str | None = None
    description: str
    status: SonataStatus
    severity: SonataSeverity
    priority: SonataPriority
    sellerSeverity: SonataSeverity
    sellerPriority: SonataPriority
    ticketType: SonataTicketType
    observedImpact: ObservedImpact
    creationDate: datetime
    issueStartDate: datetime | None = None
    resolutionDate: datetime | None = None
    relatedContactInformation: list[SonataContactOut]
    relatedEntity: list[SonataEntityRef]
    relatedIssue: list[SonataIssueRef]
    note: list[SonataNote]
    statusChange: list[SonataStatusChange]


class SonataIncident(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    href: str
    description: str
    status: IncidentStatusType
    severity: SonataSeverity
    priority: SonataPriority
    impact: ObservedImpact
    incidentType: str
    creationDate: datetime
    situationStartDate: datetime
    expectedClosedDate: datetime | None = None
    closedDate: datetime | None = None
    relatedEntity: list[SonataEntityRef] = Field(
        description="The buyer's own affected products only"
    )
    relatedIssue: list[SonataIssueRef] = Field(description="The buyer's own tickets only")
    relatedContactInformation: list[SonataContactOut]
    statusChange: list[dict[str, Any]]
