"""Registry of XMLRPC actions: accepted classes and handler (action names are case-insensitive)."""

from __future__ import annotations

from .context import ActionSpec, Handler
from .xmlrpc_lookups import (
    appt_types,
    cancel_reasons,
    confirm_methods,
    lookup_facility,
    lookup_profile,
    lookup_provider,
    scheduler_setup,
    select_facility,
)
from .xmlrpc_patients import add_patient, get_demographic, lookup_patient, update_patient
from .xmlrpc_scheduler import get_appts, scheduler_update
from .xmlrpc_updated import (
    get_updated_patients,
    get_updated_visits,
    get_visits_by_id,
    updated_visits_template,
)
from .xmlrpc_visits import (
    add_visit,
    get_date_visits,
    get_patient_visits,
    get_visit_id_by_refid,
    update_visit_with_charges,
)


def _spec(classes: str, handler: Handler) -> ActionSpec:
    return ActionSpec(frozenset(classes.split()), handler)


ACTIONS: dict[str, ActionSpec] = {
    "lookupprofile": _spec("api lookup", lookup_profile),
    "lookupprovider": _spec("api lookup", lookup_provider),
    "lookupfacility": _spec("api lookup", lookup_facility),
    "selectfacility": _spec("masterfiles", select_facility),
    "getschedulersetup": _spec("masterfiles", scheduler_setup),
    "getappttypes": _spec("masterfiles", appt_types),
    "selectcancelreasons": _spec("masterfiles", cancel_reasons),
    "selectconfmethod": _spec("masterfiles", confirm_methods),
    "lookuppatient": _spec("api", lookup_patient),
    "getdemographic": _spec("api demographics", get_demographic),
    "addpatient": _spec("api", add_patient),
    "updatepatient": _spec("api", update_patient),
    "getdatevisits": _spec("api", get_date_visits),
    "getpatientvisits": _spec("api", get_patient_visits),
    "addvisit": _spec("chargeentry", add_visit),
    "updvisitwithnewcharges": _spec("chargeentry", update_visit_with_charges),
    "getvisitidbyrefid": _spec("api", get_visit_id_by_refid),
    "getupdatedvisits": _spec("api", get_updated_visits),
    "getupdatedvisitstemplate": _spec("api", updated_visits_template),
    "getvisitsbyid": _spec("api", get_visits_by_id),
    "getupdatedpatients": _spec("api", get_updated_patients),
    "getappts": _spec("scheduler", get_appts),
    "update": _spec("scheduler", scheduler_update),
}
