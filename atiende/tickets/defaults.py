"""The default Support pipeline of guide 000: the English keys stay, people read Spanish.

Names and meanings are marked with gettext_noop so the catalogues carry them; the stored values are
the Spanish ones and the UI translates them at render time.
"""

from django.utils.translation import gettext_noop

SUPPORT_PIPELINE_KEY = "support"
SUPPORT_PIPELINE_NAME = gettext_noop("Pipeline de soporte")
SUPPORT_TEAM_NAME = "Servicio"
TECH_TEAM_NAME = "Tech"

# (key, name, meaning, colour, is_closed, pauses_sla, is_escalation) in the guide's order.
SUPPORT_STAGES = [
    ("new", gettext_noop("Nuevo"), gettext_noop("Correos electrónicos recibidos del cliente."),
     "#0d6efd", False, False, False),
    ("follow_up", gettext_noop("Seguimiento"),
     gettext_noop("Consultas realizadas por agentes digitales en espera de respuestas."),
     "#6f42c1", False, False, False),
    ("retention", gettext_noop("Retención"),
     gettext_noop("Llamadas a clientes de pólizas canceladas por falta de pago o expiradas."),
     "#d63384", False, False, False),
    ("change_request", gettext_noop("Solicitud de cambio"),
     gettext_noop("Solicitudes de cambio por parte del cliente."),
     "#fd7e14", False, False, False),
    ("waiting_on_customer", gettext_noop("Esperando al cliente"),
     gettext_noop("Tickets en espera de respuesta por el cliente."),
     "#ffc107", False, True, False),
    ("waiting_on_us", gettext_noop("Esperando por nosotros"),
     gettext_noop("Tickets en espera de completarse la solicitud por parte del agente."),
     "#20c997", False, False, False),
    ("tech_issues", gettext_noop("Incidencias técnicas"),
     gettext_noop("Tickets con áreas de oportunidad a trabajarse por los ingenieros."),
     "#dc3545", False, False, True),
    ("closed", gettext_noop("Cerrado"), gettext_noop("Solicitudes trabajadas."),
     "#198754", True, False, False),
]  # fmt: skip
