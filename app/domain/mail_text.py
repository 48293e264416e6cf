"""Words the notification templates need in each language (es, pt, en)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

LANGUAGES = ("es", "pt", "en")

STAGE_NAMES: dict[str, dict[str, str]] = {
    "es": {
        "reception": "Recepción",
        "registration": "Registro",
        "diagnosis": "Diagnóstico",
        "dispatch": "Despacho de personal técnico",
        "field_repair": "Reparación en sitio",
        "verification": "Verificación",
        "stability": "Estabilidad",
        "closure": "Cierre",
        "closed": "Cerrado",
        "cancelled": "Cancelado",
    },
    "pt": {
        "reception": "Recepção",
        "registration": "Registro",
        "diagnosis": "Diagnóstico",
        "dispatch": "Despacho de técnico",
        "field_repair": "Reparo em campo",
        "verification": "Verificação",
        "stability": "Estabilidade",
        "closure": "Encerramento",
        "closed": "Encerrado",
        "cancelled": "Cancelado",
    },
    "en": {
        "reception": "Reception",
        "registration": "Registration",
        "diagnosis": "Diagnosis",
        "dispatch": "Dispatch",
        "field_repair": "Field repair",
        "verification": "Verification",
        "stability": "Stability",
        "closure": "Closure",
        "closed": "Closed",
        "cancelled": "Cancelled",
    },
}

SEVERITY_NAMES: dict[str, dict[str, str]] = {
    "es": {"critical": "Crítica", "major": "Mayor", "minor": "Menor"},
    "pt": {"critical": "Crítica", "major": "Maior", "minor": "Menor"},
    "en": {"critical": "Critical", "major": "Major", "minor": "Minor"},
}

MAINTENANCE_STATES: dict[str, dict[str, str]] = {
    "es": {"maintenance.updated": "Actualización", "maintenance.cancelled": "Cancelación"},
    "pt": {"maintenance.updated": "Atualização", "maintenance.cancelled": "Cancelamento"},
    "en": {"maintenance.updated": "Update", "maintenance.cancelled": "Cancellation"},
}

IMPACT_NAMES: dict[str, dict[str, str]] = {
    "es": {"outage": "Corte del servicio", "degradation": "Degradación"},
    "pt": {"outage": "Interrupção do serviço", "degradation": "Degradação"},
    "en": {"outage": "Service outage", "degradation": "Degradation"},
}


# The handbook titles the order touchpoints in English and Spanish only.
TOUCHPOINT_PT = {
    "technical_details_request": "Solicitação de detalhes técnicos do pedido",
    "order_details_confirmation": "Confirmação dos detalhes do pedido",
    "expected_delivery_date": "Data prevista de entrega do serviço",
    "installation_reminder": "Lembrete de instalação do serviço",
    "activation_planning": "Planejamento da ativação",
    "connectivity_notice": "Aviso de conectividade",
}


def language_or_default(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def word(table: dict[str, dict[str, str]], language: str, key: str | None) -> str:
    if key is None:
        return ""
    return table[language_or_default(language)].get(key, key.replace("_", " "))


def local_time(at: datetime | None, zone: str | None) -> str:
    """`2026-11-23 10:04 (America/Guayaquil)`: the site's wall clock, and which zone it is."""
    if at is None:
        return ""
    try:
        tz = ZoneInfo(zone) if zone else None
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        return at.strftime("%Y-%m-%d %H:%M UTC")
    return f"{at.astimezone(tz).strftime('%Y-%m-%d %H:%M')} ({zone})"
