"""Every query over a tenant's rows goes through `visible_to`, or says why not.

A lint over `app/services/`, `app/core/` and `app/workers/`: each `select(...)`
naming a model that has an `enterprise_id` column (or `Enterprise` itself) must
sit inside the first argument of a `visible_to(...)` call, or its function must
be in `ALLOWED` with the reason it may cross tenants.
"""

from __future__ import annotations

import ast
from pathlib import Path

from app.models.base import Base

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "app" / "services"
# The platform and the workers query too: the same rule holds there.
SCANNED = [*sorted(SERVICES.rglob("*.py")), *sorted((ROOT / "app" / "core").rglob("*.py"))]
SCANNED += sorted((ROOT / "app" / "workers").rglob("*.py"))

# "module:function" -> why that function's unscoped select is right.
ALLOWED: dict[str, str] = {
    # Service codes are unique across the whole carrier, so the duplicate check
    # must see every tenant (it answers only "taken"); the account lookup is
    # pinned to the enterprise just authorised by get_enterprise.
    "enterprises/service:create_service": "global uniqueness of service codes",
    # Existence check of enterprises the caller was already proven to act for
    # (caller.require_enterprise on each id just before).
    "identity/service:_check_grant": "ids already checked against the caller",
    # These two build the tenant filter of API clients and users themselves:
    # a client or user is visible when all its enterprises are the caller's.
    "identity/service:_clients_seen_by": "is the tenant filter for API clients",
    "identity/service:_users_seen_by": "is the tenant filter for users",
    # Link rows of clients/users the caller has already been allowed to see.
    "identity/service:_enterprise_ids_of_clients": "reads links of already visible clients",
    "identity/service:_user_enterprises": "reads links of already visible users",
    # The shared builders behind the four entries above.
    "identity/service:_identities_seen_by": "tenant filter: clients and users",
    "identity/service:_enterprises_held": "reads links of already visible clients or users",
    # --- tickets
    # The running clock of a ticket the calling use case already fetched
    # through visible_to (fetch_ticket), or that the SLA engine claimed.
    "tickets/clocks:open_clock": "clock of an already authorised ticket",
    # The events of a ticket authorised by fetch_ticket just before.
    "tickets/reads:ticket_events": "history of an already authorised ticket",
    # --- directory
    # The country of a contact just fetched through the caller's scope.
    "directory/contacts:update_contact": "country of an already authorised contact",
    # Delivery looks up whom to notify for an event of a known enterprise.
    "directory/contacts:contacts_for": "worker side: recipients of an event, by its enterprise",
    "directory/contacts:contacts_of_enterprises": "worker side: recipients of a batch's events",
    # --- delivery: the worker runs as the system, for every tenant,
    # claiming due rows with FOR UPDATE SKIP LOCKED; no caller exists there.
    "delivery/fanout:fan_out_batch": "worker: fans out the outbox of every tenant",
    "delivery/fanout:claim": "worker: claims one tenant's outbox rows found by fan_out_batch",
    "delivery/leases:lease_due": "worker: leases due mail and deliveries of every tenant",
    "delivery/notifications:endpoint_disabled_mails": "worker: mails owners of disabled endpoints",
    "delivery/notifications:_context": "worker: builds a mail for an event of a known enterprise",
    "delivery/notifications:_ticket_context": "worker: the ticket of an event being mailed",
    "delivery/notifications:_admin_recipients": "worker: owners of an endpoint being disabled",
    "delivery/mail_lookups:_tickets_of": "worker: the tickets of events being mailed",
    # --- orders, billing, changes, maintenance
    # The account is looked up inside the enterprise just authorised by visible_to.
    "billing/service:_check_account": "account of an already authorised enterprise",
    # The country of a change request already loaded through find_visible.
    "changes/scheduling:check_execution_time": "country of an already authorised change request",
    # The feed row of an enterprise authorised by _enterprise just before.
    "maintenance/feed:feed_of": "feed of an already authorised enterprise",
    # The secret in the feed URL is the credential: it names its enterprise.
    "maintenance/feed:_feed_enterprise": "the secret is the credential",
    # Either the feed's enterprise (by secret) or visible_to on the impacts.
    "maintenance/feed:calendar": "scoped by the feed's enterprise or visible_to",
    # Services of a maintenance loaded through the caller's scope (change managers).
    "maintenance/service:_codes": "services of an already authorised maintenance",
    # visible_to is applied whenever a customer is asking.
    "maintenance/service:_impacts": "applies visible_to for customers",
    # Provider staff naming impacted services of any enterprise (change managers only).
    "maintenance/service:_services": "staff-only: a GCR may touch every tenant's services",
    # The account team of the enterprise of an already authorised change request.
    "changes/referrals:referral_target": "team of an already authorised enterprise",
    # --- TMF621
    # The statement builder; every caller-facing use wraps it in visible_to, and
    # represent_tickets runs worker-side for hub events of known tickets.
    "tmf621/reads:_base": "builder: wrapped in visible_to by its callers",
    "tmf621/reads:_history": "history of tickets already authorised or claimed",
    # --- Sonata: the same two, over the same tickets
    "sonata/reads:_base": "builder: wrapped in visible_to by its callers",
    "sonata/reads:_history": "history of tickets just selected through visible_to",
    "delivery/webhook_sender:claim_due": "worker: claims due deliveries of every tenant",
    "delivery/webhook_sender:_heads": "worker: per-endpoint ordering heads",
    # The attempt id is only a subquery under an update pinned to a webhook
    # the caller was authorised for (get_webhook) just before.
    "delivery/webhooks:replay_delivery": "attempt lookup under an already authorised webhook",
}

# Keep this empty: a new unscoped select fails the lint until it is wrapped in visible_to
# or listed in ALLOWED with its reason.
UNREVIEWED: set[str] = set()


def tenant_models() -> set[str]:
    names = set()
    for mapper in Base.registry.mappers:
        if "enterprise_id" in mapper.columns or mapper.class_.__name__ == "Enterprise":
            names.add(mapper.class_.__name__)
    return names


def _selected_models(call: ast.Call, models: set[str]) -> set[str]:
    found = set()
    for arg in call.args:
        node = arg
        while isinstance(node, ast.Attribute):
            node = node.value
        if isinstance(node, ast.Name) and node.id in models:
            found.add(node.id)
    return found


def _is_call_to(node: ast.AST, name: str) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == name) or (
        isinstance(func, ast.Attribute) and func.attr == name
    )


def unscoped_selects() -> list[str]:
    models = tenant_models()
    problems = []
    for path in SCANNED:
        base = SERVICES if path.is_relative_to(SERVICES) else ROOT / "app"
        module = path.relative_to(base).with_suffix("").as_posix()
        tree = ast.parse(path.read_text())
        scoped: set[int] = set()
        for node in ast.walk(tree):
            if _is_call_to(node, "visible_to") and isinstance(node, ast.Call) and node.args:
                scoped.update(id(n) for n in ast.walk(node.args[0]))
        functions = [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        for function in functions:
            key = f"{module}:{function.name}"
            if module in ALLOWED or key in ALLOWED or key in UNREVIEWED:
                continue
            for node in ast.walk(function):
                if not (_is_call_to(node, "select") and isinstance(node, ast.Call)):
                    continue
                over = _selected_models(node, models)
                if over and id(node) not in scoped:
                    problems.append(
                        f"{path.relative_to(ROOT)}:{node.lineno} {key} selects "
                        f"{', '.join(sorted(over))} without visible_to"
                    )
    return sorted(set(problems))


def test_models_with_tenants_are_found() -> None:
    assert {"Enterprise", "Service", "Account"} <= tenant_models()


def test_every_select_over_tenant_rows_goes_through_visible_to() -> None:
    problems = unscoped_selects()
    assert not problems, (
        "wrap these in app.core.tenancy.visible_to, or add the function to ALLOWED in "
        "tests/test_scoping_lint.py with the reason it may see every tenant:\n"
        + "\n".join(problems)
    )
