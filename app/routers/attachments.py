"""Files on tickets and billing requests: upload (multipart/form-data), list, download."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.core.deps import ClockDep, CurrentCaller, SessionDep, SettingsDep, Write
from app.core.errors import Unprocessable, field_error
from app.core.idempotency import IdempotencyClaim, IdempotencyKey, claim_request
from app.core.pagination import Page, Paging
from app.services.attachments import service
from app.services.attachments.policy import (
    BillingFileAdder,
    BillingFileReader,
    TicketFileAdder,
    TicketFileReader,
)
from app.services.attachments.rules import MalformedForm, parse_form
from app.services.attachments.schemas import (
    AttachmentRead,
    AttachmentVisibility,
    Download,
    Upload,
)
from app.services.attachments.service import OwnerRef, attachment_limits

router = APIRouter(tags=["attachments"])

FORM_FIELDS = ("file", "visibility")

UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "visibility": {
                            "type": "string",
                            "enum": [v.value for v in AttachmentVisibility],
                            "default": AttachmentVisibility.public.value,
                        },
                    },
                    "additionalProperties": False,
                }
            }
        },
    }
}

UPLOAD_DESCRIPTION = """Attach one file, sent as `multipart/form-data`: the part `file` (its
`filename` and `Content-Type` are kept) and optionally `visibility` (`public`, the default, or
`internal`: provider staff only, never shown to customers).

The name is made safe (its last path segment, no control or direction-changing characters, at
most 200 characters); a `Content-Type` that is not a well-formed media type is kept as
`application/octet-stream`. A file holds at most 25 MiB, and the files of one ticket or request
together at most 25 MiB (both set by the operator): beyond that, `413` naming the limit. An empty
file or a missing `file` part is a `422`. Files are stored as sent and never opened or
unpacked. With `Idempotency-Key`, a retry of the same upload receives the first answer."""

DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes, with the type it was stored with and a "
        "`Content-Disposition` naming it (RFC 6266, `filename*` in UTF-8)",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def uploaded_file(request: Request) -> Upload:
    """The form's `file` part and its `visibility`; a malformed form is a 422 naming why."""
    try:
        parts = parse_form(request.headers.get("content-type", ""), await request.body())
    except MalformedForm as malformed:
        raise Unprocessable(
            str(malformed), errors=[{"field": "body", "message": str(malformed)}]
        ) from None
    unknown = sorted(set(parts) - set(FORM_FIELDS))
    if unknown:
        raise field_error(unknown[0], f"unknown form field; send {' and '.join(FORM_FIELDS)}")
    file = parts.get("file")
    if file is None:
        raise field_error("file", "required: the file, as the form part named file")
    visibility = AttachmentVisibility.public
    if "visibility" in parts:
        text = parts["visibility"].data.decode("utf-8", "replace").strip()
        try:
            visibility = AttachmentVisibility(text)
        except ValueError:
            choices = ", ".join(v.value for v in AttachmentVisibility)
            raise field_error("visibility", f"one of {choices}") from None
    return Upload(
        filename=file.filename,
        content_type=file.content_type,
        data=file.data,
        visibility=visibility,
    )


UploadedFile = Annotated[Upload, Depends(uploaded_file)]


async def upload_claim(
    request: Request,
    session: SessionDep,
    caller: CurrentCaller,
    clock: ClockDep,
    upload: UploadedFile,
    idempotency_key: IdempotencyKey = None,
) -> IdempotencyClaim | None:
    """`Idempotency-Key` on an upload: a retry is the same upload when its form says the same
    (name, type, visibility, bytes), whatever boundary the client drew for it this time."""
    if idempotency_key is None:
        return None
    said = [upload.filename, upload.content_type, upload.visibility.value]
    digest = json.dumps([*said, hashlib.sha256(upload.data).hexdigest()]).encode()
    return await claim_request(
        session, caller, clock, idempotency_key, request.method, request.url.path, digest
    )


UploadClaim = Annotated[IdempotencyClaim | None, Depends(upload_claim)]


def _file_response(download: Download) -> Response:
    return Response(
        content=download.data,
        headers={
            "Content-Type": download.content_type,
            "Content-Disposition": download.content_disposition,
            # The browser takes the type we say, and a file never runs as a page of ours.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "ETag": f'"{download.sha256}"',
            "Cache-Control": "private",
        },
    )


@router.post(
    "/v1/tickets/{ticket_id}/attachments",
    status_code=201,
    summary="Attach a file to a ticket",
    description=UPLOAD_DESCRIPTION,
    openapi_extra=UPLOAD_BODY,
)
async def attach_to_ticket(
    ticket_id: uuid.UUID,
    caller: TicketFileAdder,
    upload: UploadedFile,
    write: Write,
    settings: SettingsDep,
    claim: UploadClaim,
) -> AttachmentRead:
    return await service.upload_attachment(
        write.session,
        caller,
        write.clock,
        claim,
        OwnerRef.ticket(ticket_id),
        upload,
        attachment_limits(settings),
    )


@router.get("/v1/tickets/{ticket_id}/attachments", summary="A ticket's files, oldest first")
async def ticket_attachments(
    ticket_id: uuid.UUID, caller: TicketFileReader, session: SessionDep, paging: Paging
) -> Page[AttachmentRead]:
    return await service.list_attachments(session, caller, OwnerRef.ticket(ticket_id), paging)


@router.get(
    "/v1/tickets/{ticket_id}/attachments/{attachment_id}",
    summary="Download one of a ticket's files",
    response_class=Response,
    responses=DOWNLOAD_RESPONSES,
)
async def ticket_attachment(
    ticket_id: uuid.UUID, attachment_id: uuid.UUID, caller: TicketFileReader, session: SessionDep
) -> Response:
    return _file_response(
        await service.attachment_content(session, caller, OwnerRef.ticket(ticket_id), attachment_id)
    )


@router.post(
    "/v1/billing-requests/{request_id}/attachments",
    status_code=201,
    summary="Attach a file to a billing request",
    description=UPLOAD_DESCRIPTION,
    openapi_extra=UPLOAD_BODY,
)
async def attach_to_billing_request(
    request_id: uuid.UUID,
    caller: BillingFileAdder,
    upload: UploadedFile,
    write: Write,
    settings: SettingsDep,
    claim: UploadClaim,
) -> AttachmentRead:
    return await service.upload_attachment(
        write.session,
        caller,
        write.clock,
        claim,
        OwnerRef.billing_request(request_id),
        upload,
        attachment_limits(settings),
    )


@router.get(
    "/v1/billing-requests/{request_id}/attachments",
    summary="A billing request's files, oldest first",
)
async def billing_request_attachments(
    request_id: uuid.UUID, caller: BillingFileReader, session: SessionDep, paging: Paging
) -> Page[AttachmentRead]:
    return await service.list_attachments(
        session, caller, OwnerRef.billing_request(request_id), paging
    )


@router.get(
    "/v1/billing-requests/{request_id}/attachments/{attachment_id}",
    summary="Download one of a billing request's files",
    response_class=Response,
    responses=DOWNLOAD_RESPONSES,
)
async def billing_request_attachment(
    request_id: uuid.UUID,
    attachment_id: uuid.UUID,
    caller: BillingFileReader,
    session: SessionDep,
) -> Response:
    return _file_response(
        await service.attachment_content(
            session, caller, OwnerRef.billing_request(request_id), attachment_id
        )
    )
