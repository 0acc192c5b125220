"""A model-based test of the sync: hypothesis generates what the EHR, the front desk and the
world do; the real product (Intake, the SQS worker's handle_record/JobProcessor, PullRun; moto
and the AMD simulator) works through it; after every settle it must agree with a small
reference model (model_reference.py; the product side is model_harness.py).

Rules:
* the EHR: appointment PUTs (new, newer with any version step, a burst of 2-5 versions
  arriving in any order, stale, repeated, a reused version -> 409), status changes with
  `ehrVersion` (the EHR) and without (staff), patient PUTs (newer, bursts, stale, repeated,
  two racing PUTs), in three time zones;
* the front desk in AMD (simulator admin API): time, provider, duration, check-in, roomed,
  seen, cancel, delete, no-show, charges;
* meanwhile: the worker alone, or the scheduled pull alone, some time on;
* trouble: AMD answers 500, times out, commits then drops the connection, says 429, expires
  the token (fault, or every token); queue messages delivered twice; a worker that dies right
  after its k-th port call (its message comes back after a pull ran: the crash window);
* settle: drain the queue and pull until quiet, optionally while the EHR sends a newer
  version of the appointment or patient the worker is writing to AMD; then check.

Checked after every settle and at the end of every example (model_harness.check): AMD equals
the model for every appointment (start instant, provider, duration, status, cancelled) and
patient (name, date of birth, phone, address), and so does our record, `ehrVersion` included;
no duplicate in AMD (simulator report, per reference id, per EHR patient id); every AMD-side
change in the change feed, none invented, no `unlinked` entry, charges seen; `conflict`
exactly where both sides changed a field differently; nothing pending, dead-lettered or
rate-limited by AMD, no protocol violation. The last tests here break the product on purpose
and show that these checks fail.

Profiles: quick (`make test`: 5 examples x 20 steps, derandomized, no example database; so
few examples need not draw every kind of trouble, so `test_every_kind_of_trouble_is_survived`
scripts each kind once) and full (`AMDSYNC_RELIABILITY=full`, `make reliability`: 200
examples x 40 steps, random; a failure prints the shrunk steps and a `@reproduce_failure`
blob). The quick profile steers around the failures in KNOWN_BUGS (found by this test, not
fixed yet); the full profile does not, so it fails until they are fixed.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, note, settings
from hypothesis import event as hypothesis_event
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from amdsync.domain.concurrency import VersionReusedError
from local.amdsim.handle import SimHandle
from local.runner.stack import LocalStack
from tests.reliability.model_harness import PRACTICE_ZONE, Harness, Race, check
from tests.reliability.model_reference import (
    AMD_NEXT,
    CANCEL_REASON,
    EHR_NEXT,
    MODEL_PROVIDERS,
    NO_SHOW_REASON,
    STATUS_OF_CODE,
    TERMINAL,
    ZONES,
    ApptModel,
    Model,
    PatientModel,
    Value,
    instant,
    wall,
)
from tests.reliability.world import APPT_TYPE, FACILITY, PROVIDERS

COMMON = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
QUICK = settings(COMMON, max_examples=5, stateful_step_count=20, derandomize=True)
LONG = settings(COMMON, max_examples=200, stateful_step_count=40, print_blob=True)

# Failures this test finds on main that nobody has fixed yet. The quick profile steers around
# them (the rule that would set them up does something else) so `make test` stays green; the
# full profile does not. Remove an entry once its fix lands.
KNOWN_BUGS: dict[str, str] = {}

DURATIONS = (50, 45, 60)
# What the EHR or staff ask for (an illegal one becomes the first legal one); mostly not final.
STATUS_TARGETS = ("CONFIRMED", "CHECKED_IN", "COMPLETED", "CONFIRMED", "CHECKED_IN", "NO_SHOW",
                  "CANCELLED")  # fmt: skip
CHANGES = ("time", "provider", "duration", "zone")
PATIENT_CHANGES = ("name", "phone", "address")
FAULT_KINDS = ("http500", "timeout", "drop", "429", "expired")
TROUBLE = (*FAULT_KINDS, "token_expiry", "redeliver", "worker_dies")
# Which AMD call a fault hits: mostly the next one, whatever it is.
FAULT_ACTIONS = (None, None, None, None, "getupdatedvisits", "appointments.get",
                 "appointments.create", "appointments.edit", "appointments.checkin",
                 "appointments.cancel", "addpatient", "updatepatient",
                 "getdemographic")  # fmt: skip
STATUS_EDITS = {"checkin": 1, "other": 2, "seen": 3, "cancel": 10, "delete": 11, "noshow": 12}
FRONT_DESK = ("time", "provider", "duration", *STATUS_EDITS, "charges")
EDIT_OF_CODE = {code: edit for edit, code in STATUS_EDITS.items()}
COLUMN_OF = {p: 201 + PROVIDERS[p] for p in MODEL_PROVIDERS}
SLOT_FIELDS = ("start", "providerId", "durationMinutes")

_examples = itertools.count(1)
# What the examples exercised, printed after a run (hypothesis keeps events per example only).
STATS: Counter[str] = Counter()


def event(name: str, amount: int = 1) -> None:
    if currently_in_test_context():
        hypothesis_event(name)
    STATS[name] += amount


def booked(machine: SyncMachine) -> bool:
    return any(a.booked and not a.frozen for a in machine.model.appts.values())


class Draws:
    """Answers a rule's `data.draw` calls in order (a rule calling another, a scripted run)."""

    def __init__(self, *values: Any) -> None:
        self._values = list(values)

    def draw(self, strategy: Any, label: str | None = None) -> Any:
        return self._values.pop(0)


class SyncMachine(RuleBasedStateMachine):
    aws: ClassVar[LocalStack]
    sim: ClassVar[SimHandle]
    steer: ClassVar[bool] = False  # steer around KNOWN_BUGS (quick profile)

    appointments = Bundle("appointments")

    def __init__(self) -> None:
        super().__init__()
        self.h = Harness.start(self.aws, self.sim)
        self.model = Model()
        self.tag = f"{os.getpid() % 1000}x{next(_examples)}"
        self.variant = itertools.count(1)
        self.trouble_pending = 0
        self.feed_head = self.h.plain.feed.head()  # at the last check

    # ------------------------------------------------------------------ setup

    @initialize(
        target=appointments,
        first=st.lists(
            st.tuples(
                st.integers(0, 1),
                st.sampled_from(MODEL_PROVIDERS),
                st.sampled_from(ZONES),
                st.sampled_from(DURATIONS),
                st.sampled_from(("SCHEDULED", "CONFIRMED")),
            ),
            min_size=2,
            max_size=3,
        ),
    )
    def begin(self, first: list[tuple[int, str, str, int, str]]) -> MultipleResults[str]:
        """Two patients and a few appointments, synced: the front desk has work at once."""
        for index in range(2):
            content = {
                "first": f"QUIXOTELLA{chr(65 + index)}",
                "last": "VANTREMBLAY",
                "dob": (date(1937, 11, 23) + timedelta(days=index)).isoformat(),
                "phone": f"555555014{index}",
                "line1": "7 Lark Lane",
                "city": "Ogden",
                "zip": "84401",
            }
            patient = PatientModel(f"P{self.tag}-{index}", 1, content)
            self.model.patients.append(patient)
            assert self.h.put_patient(patient.patient_id, self._patient_body(patient)).applied
        ids = [self._create(*spec) for spec in first]
        self._settle()
        return multiple(*ids)

    # ------------------------------------------------------------------ the EHR: appointments

    @rule(
        target=appointments,
        patient=st.integers(0, 1),
        provider=st.sampled_from(MODEL_PROVIDERS),
        zone=st.sampled_from(ZONES),
        duration=st.sampled_from(DURATIONS),
        status=st.sampled_from(("SCHEDULED", "CONFIRMED")),
        repeat=st.booleans(),
    )
    def create(
        self, patient: int, provider: str, zone: str, duration: int, status: str, repeat: bool
    ) -> str:
        appointment_id = self._create(patient, provider, zone, duration, status)
        if repeat:  # the EHR retries its request: a harmless repeat
            _, body = self.model.appts[appointment_id].last_request or ("put", {})
            assert not self.h.put_appointment(appointment_id, body).applied
        return appointment_id

    @rule(
        appointment_id=appointments,
        kind=st.sampled_from(("newer", "newer", "burst", "burst", "stale", "repeat", "reuse")),
        change=st.sampled_from(CHANGES),
        data=st.data(),
    )
    def ehr_put(self, appointment_id: str, kind: str, change: str, data: st.DataObject) -> None:
        """PUT /appointments/{id}: newer (the version may jump), a burst of 2-5 versions in any
        order before the worker runs, stale, a repeat, or a reused version (-> 409)."""
        appt = self._pick(
            appointment_id, lambda a: kind == "repeat" or a.ehr["status"] not in TERMINAL
        )
        if appt is None:
            return
        appointment_id = appt.appointment_id
        if kind == "repeat":
            assert appt.last_request is not None
            what, body = appt.last_request
            send = self.h.put_appointment if what == "put" else self.h.change_status
            assert not send(appointment_id, body).applied, "a repeated request was applied again"
            event("ehr: repeat")
            return
        if not appt.pre_visit():
            change = "zone"  # the visit has begun: only how the EHR writes the time changes
        if kind == "reuse":
            ehr, zone = self._changed(appt, "time")
            with pytest.raises(VersionReusedError):
                self.h.put_appointment(appointment_id, self._body(appt, appt.version, ehr, zone))
            event("ehr: reused version refused")
            return
        if kind == "stale":
            if appt.version > 1:
                ehr, zone = self._changed(appt, change)
                body = self._body(appt, appt.version - 1, ehr, zone)
                assert not self.h.put_appointment(appointment_id, body).applied, "stale applied"
                event("ehr: stale")
            return
        count = data.draw(st.integers(2, 5), label="versions") if kind == "burst" else 1
        jump = data.draw(st.integers(1, 3), label="version step") if kind == "newer" else 1
        versions = []
        work = dataclasses.replace(appt, ehr=dict(appt.ehr))
        for offset in range(count):
            if offset:
                change = data.draw(st.sampled_from(CHANGES), label=f"change {offset + 1}")
            work.ehr, work.zone = self._changed(work, change if appt.pre_visit() else "zone")
            versions.append((appt.version + jump + offset, dict(work.ehr), work.zone))
        if self._steer("slot_overwrite", appt.base, versions[-1][1], appt.amd):
            return
        order = data.draw(st.permutations(range(count)), label="arrival order")
        highest = appt.version
        for index in order:
            version, ehr, zone = versions[index]
            applied = self.h.put_appointment(
                appointment_id, self._body(appt, version, ehr, zone)
            ).applied
            assert applied == (version > highest), f"v{version} after v{highest}: {applied}"
            highest = max(highest, version)
        appt.version, appt.ehr, appt.zone = versions[-1]
        appt.last_request = ("put", self._body(appt, appt.version, appt.ehr, appt.zone))
        appt.dirty = True
        event(f"ehr: {kind}")

    @rule(
        appointment_id=appointments,
        status=st.sampled_from(
            (
                "CONFIRMED",
                "CHECKED_IN",
                "COMPLETED",
                "CONFIRMED",
                "CHECKED_IN",
                "NO_SHOW",
                "CANCELLED",
            )
        ),
        by=st.sampled_from(("ehr", "staff")),
    )
    def change_status(self, appointment_id: str, status: str, by: str) -> None:
        """POST .../status by the EHR (next ehrVersion) or staff (none: SPEC §9.1). A status
        that is not legal from the current one becomes the first one that is."""
        appt = self._pick(appointment_id, lambda a: str(a.ehr["status"]) in EHR_NEXT)
        if appt is None:
            return
        appointment_id = appt.appointment_id
        legal = EHR_NEXT[str(appt.ehr["status"])]
        if status not in legal:
            status = legal[0]
        reason = {"CANCELLED": CANCEL_REASON, "NO_SHOW": NO_SHOW_REASON}.get(status)
        body: dict[str, Any] = {"status": status, "reason": reason}
        if by == "ehr":
            body["ehrVersion"] = appt.version + 1
        assert self.h.change_status(appointment_id, body).applied
        appt.ehr["status"], appt.reason, appt.dirty = status, reason, True
        if by == "ehr":
            appt.version += 1
            appt.last_request = ("status", body)
        event(f"status by {by}")

    # ------------------------------------------------------------------ the EHR: patients

    @rule(
        patient=st.integers(0, 1),
        kind=st.sampled_from(("newer", "burst", "stale", "repeat", "race")),
        change=st.sampled_from(PATIENT_CHANGES),
        data=st.data(),
    )
    def patient_put(self, patient: int, kind: str, change: str, data: st.DataObject) -> None:
        """PUT /patients/{id}: newer, a burst in any order, stale, a repeat, or two racing
        PUTs (the older one read the record before the newer one wrote)."""
        p = self.model.patients[patient]
        if kind == "repeat":
            self.h.put_patient(p.patient_id, self._patient_body(p))
            event("patient: repeat")
            return
        if kind == "stale":
            if p.version > 1:
                old = dataclasses.replace(
                    p, content=self._patient_change(p, change), version=p.version - 1
                )
                accepted = self.h.put_patient(p.patient_id, self._patient_body(old))
                assert not accepted.applied, "a stale patient ehrVersion was applied"
                event("patient: stale")
            return
        if kind == "race":
            older, newer = self._patient_versions(p, change, 2)
            ctx = dataclasses.replace(
                self.h.plain,
                patients=AfterFirstRead(
                    self.h.plain.patients,
                    lambda: self.h.put_patient(p.patient_id, self._patient_body(newer)),
                ),
            )
            self.h.put_patient(p.patient_id, self._patient_body(older), ctx)
            p.version, p.content = newer.version, newer.content
            event("patient: race")
            return
        count = data.draw(st.integers(2, 4), label="versions") if kind == "burst" else 1
        versions = self._patient_versions(p, change, count)
        for index in data.draw(st.permutations(range(count)), label="arrival order"):
            self.h.put_patient(p.patient_id, self._patient_body(versions[index]))
        p.version, p.content = versions[-1].version, versions[-1].content
        event(f"patient: {kind}")

    # ------------------------------------------------------------------ the front desk in AMD

    @precondition(booked)
    @rule(appointment_id=appointments, edit=st.sampled_from(FRONT_DESK))
    def front_desk(self, appointment_id: str, edit: str) -> None:
        """A person changes the appointment in AMD. An edit that does not fit the status AMD
        shows becomes one that does (a time change before the visit, else the next status)."""
        appt = self._pick(
            appointment_id, lambda a: a.booked and (edit == "charges" or a.amd_code in AMD_NEXT)
        )
        if appt is None:
            return
        appointment_id = appt.appointment_id
        visit = self.h.visit_of(appointment_id)
        assert visit is not None, f"{appointment_id} was booked but AMD has no single visit"
        admin = self.h.sim.admin
        if edit == "charges":
            admin.post_charges(visit.id, [{"proccode": "90834", "fee": "150.00", "units": "1"}])
            if not appt.charged:
                appt.charged = True
                self.model.new_charges.append(appointment_id)
            event("front desk: charges")
            return
        allowed = AMD_NEXT.get(appt.amd_code, ())
        if edit in STATUS_EDITS and STATUS_EDITS[edit] not in allowed:
            edit = "time"
        if edit not in STATUS_EDITS and appt.amd_code != 0:
            if not allowed:
                return  # seen, cancelled or no-show: nothing left to change at the desk
            edit = EDIT_OF_CODE[allowed[0]]
        amd = dict(appt.amd)
        fields: dict[str, Any] = {}
        if edit in STATUS_EDITS:
            fields["status"] = STATUS_EDITS[edit]
            amd["status"] = STATUS_OF_CODE[STATUS_EDITS[edit]]
        elif edit == "duration":
            fields["duration"] = next(d for d in DURATIONS if d != amd["durationMinutes"])
            amd["durationMinutes"] = fields["duration"]
        else:
            provider = str(amd["providerId"])
            if edit == "provider":
                others = [p for p in MODEL_PROVIDERS if p != provider]
                provider = others[next(self.variant) % len(others)]
                fields["columnid"] = COLUMN_OF[provider]
            provider, fields["start"] = self.h.take_slot(provider)
            amd["providerId"] = provider
            amd["start"] = instant(fields["start"], str(PRACTICE_ZONE))
        self._desk_edit(appt, visit.id, fields, amd, edit)

    def _desk_edit(
        self, appt: ApptModel, visit_id: int, fields: dict[str, Any], amd: dict[str, Value],
        label: str,
    ) -> None:  # fmt: skip
        if self._steer("slot_overwrite", appt.base, appt.ehr, amd):
            return
        self.h.sim.admin.edit_appointment(visit_id, **fields)
        appt.amd = amd
        appt.amd_code = fields.get("status", appt.amd_code)
        event(f"front desk: {label}")

    @precondition(booked)
    @rule(
        appointment_id=appointments,
        what=st.sampled_from(("time", "duration", "provider", "status")),
        same=st.booleans(),
    )
    def both_sides(self, appointment_id: str, what: str, same: bool) -> None:
        """The EHR and the front desk change the same thing before the next sync, to the same
        value (they agree) or differently (a conflict; but AMD's "seen" is further along than
        the EHR's check-in, so it wins)."""
        appt = self._pick(appointment_id, lambda a: a.booked and a.pre_visit() and a.amd_code == 0)
        if appt is None:
            return
        visit = self.h.visit_of(appt.appointment_id)
        assert visit is not None
        if what == "status":
            self.change_status(appt.appointment_id, "CHECKED_IN", "ehr")
            code = 1 if same else (3, 10)[next(self.variant) % 2]  # seen wins; cancel conflicts
            amd = {**appt.amd, "status": STATUS_OF_CODE[code]}
            self._desk_edit(appt, visit.id, {"status": code}, amd, f"both sides: {what}")
            return
        change = {"duration": "duration", "provider": "provider"}.get(what, "time")
        self.ehr_put(appt.appointment_id, "newer", change, Draws(1, [0]))  # type: ignore[arg-type]
        amd = dict(appt.amd)
        fields: dict[str, Any] = {}
        if what == "duration":
            wanted = appt.ehr["durationMinutes"]
            taken = (wanted, amd["durationMinutes"])
            fields["duration"] = wanted if same else next(d for d in DURATIONS if d not in taken)
            amd["durationMinutes"] = fields["duration"]
        else:
            provider, start = str(appt.ehr["providerId"]), str(appt.ehr["start"])
            if not same:
                if what == "provider":
                    provider = next(
                        p for p in MODEL_PROVIDERS if p not in (provider, amd["providerId"])
                    )
                provider, local = self.h.take_slot(provider)
                start = instant(local, str(PRACTICE_ZONE))
            fields["start"] = wall(start, PRACTICE_ZONE)
            if provider != amd["providerId"]:
                fields["columnid"] = COLUMN_OF[provider]
            amd["providerId"], amd["start"] = provider, start
        self._desk_edit(appt, visit.id, fields, amd, f"both sides: {what}")

    # ------------------------------------------------------------------ the product between settles

    @rule(what=st.sampled_from(("worker", "pull")), wait=st.sampled_from((0, 30, 301)))
    def meanwhile(self, what: str, wait: int) -> None:
        """`wait` seconds on (after 5 minutes SQS forgets the deduplication ids it saw), the
        worker runs before the next pull (every appointment with a job is pushed), or the
        scheduled pull runs before the worker has pushed what the EHR changed. A pull only
        with no fault pending: one that failed half-way would leave the model guessing."""
        if what == "pull" and self.h.sim.sim.faults.describe():
            return
        self.h.clock.sleep(wait)
        if what == "worker":
            self.h.work()
            self.model.drain()
        else:
            assert self.h.pull_now(), "a pull failed with no fault injected"
            self.model.pull()
        event(f"{what} alone")

    # ------------------------------------------------------------------ trouble

    @rule(trouble=st.sampled_from(TROUBLE), action=st.sampled_from(FAULT_ACTIONS),
          count=st.integers(1, 3))  # fmt: skip
    def trouble(self, trouble: str, action: str | None, count: int) -> None:
        """For the next settle: AMD faults on the next matching call(s), all tokens expire, the
        next handled message(s) are delivered again, or the next job's worker dies right after
        its `count`-th port call (or later). At most two per settle, so that no job exhausts
        its retry budget on injected faults alone."""
        if self.trouble_pending >= 2:
            return
        self.trouble_pending += 1
        event(f"trouble: {trouble}")
        if trouble == "token_expiry":
            self.h.sim.admin.expire_tokens()
        elif trouble == "redeliver":
            self.h.redeliver_budget += count
        elif trouble == "worker_dies":
            self.h.crash_at = count + 2 * (next(self.variant) % 4)  # 1 ... 9
        else:
            spec: dict[str, Any] = {"kind": trouble, "count": min(count, 2)}
            if action:
                spec["action"] = action
            if trouble == "timeout":
                spec["delay_ms"] = 20
            self.h.inject(spec)

    # ------------------------------------------------------------------ settling

    @rule(
        appointment_id=appointments,
        race=st.sampled_from((None, None, "appointment", "patient")),
        change=st.sampled_from(("time", "provider", "duration")),
        patient=st.integers(0, 1),
    )
    def settle(self, appointment_id: str, race: str | None, change: str, patient: int) -> None:
        """Drain and pull until quiet, then check. With a race, the EHR first changes the
        appointment (or patient) and sends a newer version again while the worker is writing
        that change to AMD (or, if the worker never does, right after the queue drained)."""
        if race == "appointment":
            self._race_appointment(appointment_id, change)
        elif race == "patient":
            self._race_patient(patient, PATIENT_CHANGES[CHANGES.index(change)])
        self._settle()

    def _race_appointment(self, appointment_id: str, change: str) -> None:
        appt = self._usable(appointment_id)
        if appt is None or not appt.pre_visit() or appt.amd != appt.base:
            return  # (pending AMD-side edits would make the race's outcome a merge question)
        first, zone = self._changed(appt, change)
        second, second_zone = self._changed(dataclasses.replace(appt, ehr=first), change)
        if self._steer("slot_overwrite", appt.base, second, appt.amd):
            return
        appt.ehr, appt.zone, appt.version, appt.dirty = first, zone, appt.version + 1, True
        assert self.h.put_appointment(
            appointment_id, self._body(appt, appt.version, first, zone)
        ).applied
        appt.ehr, appt.zone, appt.version = second, second_zone, appt.version + 1
        body = self._body(appt, appt.version, second, second_zone)
        appt.last_request = ("put", body)
        send = self.h.put_appointment
        self.h.races.append(Race("appointment", appointment_id, lambda: send(appointment_id, body)))
        event("settle: EHR writes during the push")

    def _race_patient(self, patient: int, change: str) -> None:
        p = self.model.patients[patient]
        first, second = self._patient_versions(p, change, 2)
        self.h.put_patient(p.patient_id, self._patient_body(first))
        body = self._patient_body(second)
        self.h.races.append(
            Race("patient", p.patient_id, lambda: self.h.put_patient(p.patient_id, body))
        )
        p.version, p.content = second.version, second.content
        event("settle: EHR writes during the patient sync")

    def teardown(self) -> None:
        if hasattr(self, "h"):
            self._settle()

    def _settle(self) -> None:
        self.trouble_pending = 0
        frozen = sum(a.frozen for a in self.model.appts.values())
        fired = sum(self.h.sim.admin.report()["faults_injected"].values())
        crashes, redelivered = self.h.plan.fired.total(), self.h.redelivered
        report = self.h.settle()
        expected = self.model.settle()
        event("settles")
        event("settle: AMD-side changes expected in the feed", len(expected.feed))
        event("settle: conflicts", sum(a.frozen for a in self.model.appts.values()) - frozen)
        fired = sum(self.h.sim.admin.report()["faults_injected"].values()) - fired
        event("settle: faults fired", fired)
        event("settle: worker crashes", self.h.plan.fired.total() - crashes)
        event("settle: redeliveries", self.h.redelivered - redelivered)
        event("settle: failed pulls (retried)", report.pulls_failed)
        problems = check(self.h, self.model, expected, self.feed_head)
        assert not problems, "\n".join(problems[:30])
        self.feed_head = self.h.plain.feed.head()

    # ------------------------------------------------------------------ helpers

    def _steer(self, bug: str, base: Any = None, ehr: Any = None, amd: Any = None,
               crash: int = 0) -> bool:  # fmt: skip
        """True (and the caller does nothing) when the quick profile must not set up `bug`."""
        if not self.steer:
            return False
        if bug not in KNOWN_BUGS:
            return False  # fixed: the quick profile sets it up like anything else
        hit = bool(crash)
        if hit:
            event(f"steered around {bug}")
        return hit

    def _usable(self, appointment_id: str) -> ApptModel | None:
        appt = self.model.appts[appointment_id]
        return None if appt.frozen else appt

    def _pick(self, appointment_id: str, fits: Callable[[ApptModel], bool]) -> ApptModel | None:
        """The appointment, or, when it no longer fits the rule (in conflict, finished, not in
        AMD yet), the first one that does: fewer steps that do nothing."""
        appts = self.model.appts
        chosen = appts[appointment_id]
        if not chosen.frozen and fits(chosen):
            return chosen
        other = next((a for a in appts.values() if not a.frozen and fits(a)), None)
        if other is not None and currently_in_test_context():
            note(f"{appointment_id} does not fit: {other.appointment_id} instead")
        return other

    def _create(self, patient: int, provider: str, zone: str, duration: int, status: str) -> str:
        appointment_id = f"A{self.tag}-{len(self.model.appts) + 1}"
        provider, local = self.h.take_slot(provider)
        ehr: dict[str, Value] = {
            "start": instant(local, str(PRACTICE_ZONE)),
            "providerId": provider,
            "durationMinutes": duration,
            "status": status,
        }
        appt = ApptModel(appointment_id, patient, zone, 1, ehr)
        body = self._body(appt, 1, ehr, zone)
        assert self.h.put_appointment(appointment_id, body).applied
        appt.last_request = ("put", body)
        self.model.appts[appointment_id] = appt
        event("ehr: create")
        return appointment_id

    def _body(
        self, appt: ApptModel, version: int, ehr: dict[str, Value], zone: str
    ) -> dict[str, Any]:
        status = str(ehr["status"])
        return {
            "patientId": self.model.patients[appt.patient].patient_id,
            "providerId": ehr["providerId"],
            "facilityId": FACILITY[0],
            "appointmentType": APPT_TYPE[0],
            "start": wall(str(ehr["start"]), zone),
            "timeZone": zone,
            "durationMinutes": ehr["durationMinutes"],
            "status": status,
            "cancelReason": appt.reason if status in ("CANCELLED", "NO_SHOW") else None,
            "ehrVersion": version,
        }

    def _changed(self, appt: ApptModel, change: str) -> tuple[dict[str, Value], str]:
        """The EHR's desired fields with one change (a fresh slot for time and provider; a
        zone change writes the same instant in another zone)."""
        ehr, zone = dict(appt.ehr), appt.zone
        if change == "time":
            _, local = self.h.take_slot(str(ehr["providerId"]))
            ehr["start"] = instant(local, str(PRACTICE_ZONE))
        elif change == "provider":
            others = [p for p in MODEL_PROVIDERS if p != ehr["providerId"]]
            provider, local = self.h.take_slot(others[next(self.variant) % len(others)])
            ehr["providerId"], ehr["start"] = provider, instant(local, str(PRACTICE_ZONE))
        elif change == "duration":
            ehr["durationMinutes"] = next(d for d in DURATIONS if d != ehr["durationMinutes"])
        else:
            zone = ZONES[(ZONES.index(zone) + 1) % len(ZONES)]
        return ehr, zone

    def _patient_body(self, patient: PatientModel) -> dict[str, Any]:
        c = patient.content
        return {
            "firstName": c["first"],
            "lastName": c["last"],
            "dateOfBirth": c["dob"],
            "sex": "F",
            "phone": c["phone"],
            "address": {"line1": c["line1"], "city": c["city"], "state": "UT", "zip": c["zip"]},
            "ehrVersion": patient.version,
        }

    def _patient_change(self, patient: PatientModel, change: str) -> dict[str, str]:
        n = next(self.variant)
        content = dict(patient.content)
        if change == "name":
            content["last"] = "VANTREMBLAY" + "".join(chr(65 + int(d)) for d in str(n))
        elif change == "phone":
            content["phone"] = f"801555{n:04d}"
        else:
            content.update(line1=f"{n} Larkspur Lane", city=f"Ogden{chr(65 + n % 26)}",
                           zip=f"84{n % 1000:03d}")  # fmt: skip
        return content

    def _patient_versions(self, p: PatientModel, change: str, count: int) -> list[PatientModel]:
        versions, work = [], p
        for offset in range(1, count + 1):
            work = dataclasses.replace(
                work, content=self._patient_change(work, change), version=p.version + offset
            )
            versions.append(work)
        return versions


class AfterFirstRead:
    """A patient store whose first `get` lets another request run before the caller goes on."""

    def __init__(self, inner: Any, meanwhile: Any) -> None:
        self._inner = inner
        self._meanwhile = meanwhile
        self._done = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get(self, patient_id: str) -> Any:
        stored = self._inner.get(patient_id)
        if not self._done:
            self._done = True
            self._meanwhile()
        return stored


def assert_profile_holds(
    aws: LocalStack, sim: SimHandle, profile: settings, *, steer: bool
) -> None:
    SyncMachine.aws, SyncMachine.sim, SyncMachine.steer = aws, sim, steer
    STATS.clear()
    started = time.monotonic()
    try:
        run_state_machine_as_test(SyncMachine, settings=profile)
    finally:
        print(f"model-based: {time.monotonic() - started:.1f}s")
        print("\n".join(f"  {name}: {count}" for name, count in sorted(STATS.items())))


@pytest.mark.timeout(900)
def test_model_quick(aws: LocalStack, amd_sim: SimHandle) -> None:
    assert_profile_holds(aws, amd_sim, QUICK, steer=True)


@pytest.mark.full
@pytest.mark.timeout(6 * 3600)
def test_model_full(aws: LocalStack, amd_sim: SimHandle) -> None:
    assert_profile_holds(aws, amd_sim, LONG, steer=False)


# ---------------------------------------------------------------------- the checks can fail
# Short scripted runs with the product broken on purpose (one port of the worker's context
# loses a call): the settle's checks must say so.


class Without:
    """A port whose `method` does nothing: the break."""

    def __init__(self, inner: Any, method: str) -> None:
        self._inner = inner
        self._method = method

    def __getattr__(self, name: str) -> Any:
        if name == self._method:
            return lambda *_args, **_kwargs: None
        return getattr(self._inner, name)


def _broken(aws: LocalStack, sim: SimHandle, port: str, method: str) -> tuple[SyncMachine, str]:
    SyncMachine.aws, SyncMachine.sim, SyncMachine.steer = aws, sim, False
    machine = SyncMachine()
    first = [(0, "DR-5", "America/New_York", 50, "SCHEDULED")]
    (appointment_id,) = machine.begin(first).values
    h = machine.h
    h.ctx = dataclasses.replace(h.ctx, **{port: Without(getattr(h.ctx, port), method)})
    return machine, appointment_id


def _settle_fails(machine: SyncMachine, appointment_id: str) -> str:
    with pytest.raises(AssertionError) as failure:
        machine.settle(appointment_id, None, "time", 0)
    return str(failure.value)


def test_a_lost_feed_entry_is_caught(aws: LocalStack, amd_sim: SimHandle) -> None:
    # The pull publishes through append_once (once per visit and piece).
    machine, appointment_id = _broken(aws, amd_sim, "feed", "append_once")
    machine.front_desk(appointment_id, "duration")
    assert "durationMinutes=45 missing from the feed" in _settle_fails(machine, appointment_id)


def test_an_ehr_change_not_pushed_is_caught(aws: LocalStack, amd_sim: SimHandle) -> None:
    machine, appointment_id = _broken(aws, amd_sim, "scheduler", "edit")
    machine.ehr_put(appointment_id, "newer", "duration", Draws(1, [0]))  # type: ignore[arg-type]
    assert "AMD durationMinutes=50, expected 45" in _settle_fails(machine, appointment_id)


def test_a_patient_change_not_sent_is_caught(aws: LocalStack, amd_sim: SimHandle) -> None:
    machine, appointment_id = _broken(aws, amd_sim, "amd_patients", "update_patient")
    machine.patient_put(0, "newer", "phone", Draws([0]))  # type: ignore[arg-type]
    assert "phone differs" in _settle_fails(machine, appointment_id)


# ---------------------------------------------------------------------- every kind of trouble
# The quick profile's few random examples need not draw every kind of trouble: each kind once,
# scripted, with the settle's checks and proof that it happened.


def _trouble_seen(h: Harness) -> dict[str, int]:
    """What each kind of trouble leaves behind once it happened."""
    report = h.sim.admin.report()
    return {
        **{kind: report["faults_injected"].get(kind, 0) for kind in FAULT_KINDS},
        "logins": report["logins"],  # an expired token is followed by a login
        "redeliver": h.redelivered,
        "worker_dies": h.plan.fired.total(),
    }


def assert_trouble_happened(trouble: str, before: dict[str, int], after: dict[str, int]) -> None:
    # The simulator does not count a `drop` (it answers, then closes): its rule was used up.
    key = {"token_expiry": "logins", "drop": None}.get(trouble, trouble)
    if key is not None:
        assert after[key] > before[key], (trouble, before, after)


def test_every_kind_of_trouble_is_survived(aws: LocalStack, amd_sim: SimHandle) -> None:
    SyncMachine.aws, SyncMachine.sim, SyncMachine.steer = aws, amd_sim, False
    machine = SyncMachine()
    (appointment_id,) = machine.begin([(0, "DR-5", "America/Denver", 50, "SCHEDULED")]).values
    h = machine.h
    for trouble in TROUBLE:
        before = _trouble_seen(h)
        machine.trouble(trouble, None, 1)
        if trouble == "worker_dies":
            h.crash_at = 1  # right after the first port call: a short job has few of them
        machine.ehr_put(appointment_id, "newer", "duration", Draws(1, [0]))  # type: ignore[arg-type]
        h.drain()  # the worker meets the trouble (a crashed job comes back in the settle)
        assert h.sim.sim.faults.describe() == [], f"{trouble}: the fault never fired"
        assert_trouble_happened(trouble, before, _trouble_seen(h))
        machine._settle()  # AMD, our records and the feed agree with the model


# ---------------------------------------------------------------------- findings, replayed
# What this test found on main (once KNOWN_BUGS), as fixed scripts: they fail if a fix regresses.


def test_a_crash_behind_our_write_while_the_ehr_sets_it_back(
    aws: LocalStack, amd_sim: SimHandle
) -> None:
    """own_write_after_crash: the worker writes the EHR's new duration to AMD, the EHR sets it
    back, the worker dies before storing the new base; the pull in the crash window must not
    publish our own write nor take it for the EHR's."""
    SyncMachine.aws, SyncMachine.sim, SyncMachine.steer = aws, amd_sim, False
    machine = SyncMachine()
    (appointment_id,) = machine.begin([(0, "DR-5", "America/Denver", 50, "SCHEDULED")]).values
    machine.h.plan.arm(1, only="amd.edit")  # dies right after AMD took the edit
    machine.settle(appointment_id, "appointment", "duration", 0)  # checks AMD, record, feed
    assert machine.h.plan.fired["amd.edit"] == 1
    assert machine.model.appts[appointment_id].ehr["durationMinutes"] == 50


def test_a_new_patient_renamed_while_the_worker_dies_behind_addpatient(
    aws: LocalStack, amd_sim: SimHandle
) -> None:
    """patient_crash_rename: AMD creates a new patient, the EHR renames it, the worker dies
    before storing the AMD id; the retry must find that patient, not create a second one."""
    SyncMachine.aws, SyncMachine.sim, SyncMachine.steer = aws, amd_sim, False
    machine = SyncMachine()
    machine.begin([(0, "DR-5", "America/Denver", 50, "SCHEDULED")])
    h = machine.h
    first = {**machine.model.patients[0].content, "first": "QUIXOTELLAC", "dob": "1937-11-26"}
    patient = PatientModel(f"P{machine.tag}-2", 1, first)
    machine.model.patients.append(patient)
    assert h.put_patient(patient.patient_id, machine._patient_body(patient)).applied
    renamed = dataclasses.replace(
        patient, content=machine._patient_change(patient, "name"), version=2
    )
    body = machine._patient_body(renamed)
    h.races.append(
        Race("patient", patient.patient_id, lambda: h.put_patient(renamed.patient_id, body))
    )
    patient.version, patient.content = renamed.version, renamed.content
    h.plan.arm(1, only="amd.add_patient")  # dies right after AMD created the patient
    machine._settle()  # checks: one AMD patient per EHR patient, with the newest name
    assert h.plan.fired["amd.add_patient"] == 1
