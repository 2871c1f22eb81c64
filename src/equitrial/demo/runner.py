"""The virtual trial's clock: every site's entries, the drug supply and the central lab, in date
order, through the services.

:class:`Trial` keeps a queue of dated entries. Screening puts each patient's enrolment,
eligibility and randomization on it; randomization draws the patient's course
(:func:`equitrial.demo.flow.follow_patient`) and puts the rest of its entries on it. The supply
manager resupplies the sites every Monday from what their coming visits need, shipments arrive
two days after they leave, expired kits are withdrawn on the first of each month, and the
central laboratory sends each site's results of the month in one transfer. Queries the edit
checks open are answered by the site (with the correction when one is needed) and closed by
the data manager.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import heapq
import io
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from equitrial.demo.disease import survival_inverse
from equitrial.demo.flow import PatientTruth, follow_patient
from equitrial.demo.patients import ScreenedPatient, checklist, demographics, medical_history
from equitrial.demo.study import DEPOT, DemoStudy
from equitrial.errors import ConflictError, InvalidInputError
from equitrial.services import (
    baseline,
    dispensing,
    forms,
    lab_import,
    outcomes,
    queries,
    randomize,
    subjects,
    supply,
)
from equitrial.services.sites import list_sites

__all__ = ["Advance", "Progress", "Trial"]

Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]
"""``progress(phase, total)`` starts a phase of ``total`` steps and returns ``advance(n)``."""

_ORDER_SUPPLY, _ORDER_SCREEN, _ORDER_LABS = 0, 4, 9


class Trial:
    """The queue of dated entries of the demo trial, and what it counted."""

    def __init__(self, demo: DemoStudy, end: dt.date, *, true_ratio: float | None) -> None:
        protocol = demo.protocol
        self.demo = demo
        self.engine = demo.engine
        self.protocol = protocol
        self.end = end
        self.true_ratio = true_ratio
        self.pfs_inverse = survival_inverse(protocol.assumptions.pfs.survival)
        self.os_inverse = survival_inverse(protocol.assumptions.os.survival)
        self.scan_weeks = list(protocol.schedule_weeks("tumour-imaging", 52.0 * 6))
        self.eoi_weeks = sorted(
            w
            for item in protocol.schedule
            if item.kind == "pk" and item.timing == "end-of-infusion"
            for w in item.times(protocol.max_treatment_weeks)
        )
        reference = next(a.code for a in protocol.arms if a.role == "reference")
        self.reference_rate = protocol.assumptions.response_rate[reference]
        self.truth: dict[str, PatientTruth] = {}
        self.arms: dict[str, str] = {}
        self.counts: Counter[str] = Counter()
        self.labs: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self._queue: list[tuple[dt.date, int, int, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self._today = dt.date.min
        codes = {spec.code: i for i, spec in enumerate(demo.sites)}
        self.site_index = {
            v.id: codes[v.values["code"]] for v in list_sites(demo.engine, demo.actors["admin"])
        }

    # -- the queue ---------------------------------------------------------------------------

    def at(
        self, day: dt.date, order: int, entry: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> None:
        """Queue ``entry(*args, **kwargs)`` on ``day`` (``order`` within the day); a day already
        past (the baseline scan, queued at randomization) is entered next."""
        call: Callable[[], Any] = functools.partial(entry, *args, **kwargs)
        heapq.heappush(self._queue, (day, order, next(self._seq), call))

    def run(self, advance: Advance, start: dt.date) -> None:
        """Enter everything queued, in date order (entries queue further entries), then send
        the central lab's last results; ``advance`` moves by the days passed."""
        shown = start
        while self._queue:
            day, _, _, entry = heapq.heappop(self._queue)
            self._today = max(self._today, day)
            if self._today > shown:
                advance((self._today - shown).days)
                shown = self._today
            entry()
        for site in range(len(self.demo.sites)):
            self._transfer(site, self.end + dt.timedelta(days=1))

    # -- what a site does --------------------------------------------------------------------

    def call(
        self,
        kind: str,
        site: int,
        use_case: Callable[..., Any],
        *args: Any,
        who: str = "nurse",
        answer: str = "confirmed against the source document",
        fix: tuple[str, dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run a use case as the site's user ``who`` (``nurse``, ``inv``, ``pharm``); count it.
        Each query it opens is answered by the site with ``answer`` (after the correction
        ``fix``: form and changes, when there is one) and closed by the data manager."""
        actor = self.demo.site_actor(who, site)
        result = use_case(self.engine, actor, *args, **kwargs)
        self.counts[kind] += 1
        opened = getattr(result, "query_ids", ())
        if opened:
            self.counts["queries opened"] += len(opened)
            correction = None if fix is None else (fix[0], result.id, fix[1])
            self.follow_queries(site, tuple(opened), answer, correction)
        return result

    def mistake(self, site: int, use_case: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """An entry with a slip the edit checks must refuse (then the site enters it again)."""
        try:
            use_case(self.engine, self.demo.site_actor("nurse", site), *args, **kwargs)
        except InvalidInputError:
            self.counts["entries refused by edit checks"] += 1
            return
        raise ConflictError(f"demo: a wrong entry was not refused by {use_case.__name__}")

    def follow_queries(
        self,
        site: int,
        query_ids: tuple[int, ...],
        answer: str,
        fix: tuple[str, int, dict[str, Any]] | None = None,
    ) -> None:
        """The site answers each query three days later (correcting the record first when
        ``fix`` says how: form, record id, changes), and the data manager closes it five days
        after that."""
        for query_id in query_ids:
            today = self._today

            def respond(query_id: int = query_id) -> None:
                if fix is not None:
                    form, record_id, changes = fix
                    self.call("correction", site, forms.update_form, form, record_id, changes,
                              reason=answer)  # fmt: skip
                self.call("query answered", site, queries.answer_query, query_id, answer)

            def close(query_id: int = query_id) -> None:
                queries.close_query(
                    self.engine, self.demo.actors["dm"], query_id, "answer accepted"
                )
                self.counts["query closed"] += 1

            self.at(today + dt.timedelta(days=3), 8, respond)
            self.at(today + dt.timedelta(days=8), 8, close)

    def dispense(self, site: int, code: str, on: dt.date, kits: int) -> list[Any] | None:
        """The site pharmacist dispenses the kits of the dose; ``None`` if the site has none."""
        try:
            given: list[Any] = self.call(
                "kits dispensed", site, dispensing.dispense, code, on, kits=kits, who="pharm"
            )
        except ConflictError:
            self.counts["doses missed for want of a kit"] += 1
            return None
        return given

    def lab(self, site: int, row: dict[str, Any]) -> None:
        """A sample sent to the central laboratory (in the next monthly transfer)."""
        self.labs[site].append(row)

    # -- screening ---------------------------------------------------------------------------

    def screen(self, patients: list[ScreenedPatient]) -> None:
        """Queue each patient's enrolment, eligibility and randomization or screen failure."""
        for p in patients:
            self.at(p.consent_date, _ORDER_SCREEN, self._enrol, p)

    def _enrol(self, p: ScreenedPatient) -> None:
        """Consent and enrolment, demographics and medical history, then (days later) the
        investigator's eligibility checklist, and the randomization or the screen failure."""
        spec = self.demo.sites[p.site]
        view = self.call("enrolment", p.site, subjects.enrol, spec.code, str(p.number),
                         consent_date=p.consent_date, sex=p.sex,
                         birth_year=p.consent_date.year - p.age, strata=p.strata)  # fmt: skip
        code = view.subject_code
        self.call("informed consent", p.site, baseline.record_consent, code,
                  consent_date=p.consent_date, version=self.protocol.study.version)  # fmt: skip
        self.call("demographics", p.site, baseline.record_demographics, code,
                  **demographics(p, spec))  # fmt: skip
        for condition in medical_history(p):
            self.call("medical history", p.site, baseline.record_medical_history, code,
                      **condition)  # fmt: skip
        decide = subjects.confirm_eligibility
        if p.randomization_date is None:
            assert p.screen_failure is not None
            day = p.consent_date + dt.timedelta(days=10)
            reason, details = p.screen_failure
            if reason == "FAILED ELIGIBILITY CRITERIA":
                failed = checklist(self.protocol, p)
                self.at(day, _ORDER_SCREEN, self.call, "eligibility", p.site, decide, code,
                        False, checklist=failed, who="inv")  # fmt: skip
            self.at(day + dt.timedelta(days=1), _ORDER_SCREEN, self.call, "screen failure",
                    p.site, outcomes.record_screen_failure, code, date=day, reason=reason,
                    details=details)  # fmt: skip
            return
        day = p.randomization_date - dt.timedelta(days=1)
        self.at(day, _ORDER_SCREEN, self.call, "eligibility", p.site, decide, code, True,
                checklist=checklist(self.protocol, p), who="inv")  # fmt: skip
        self.at(p.randomization_date, _ORDER_SCREEN, self._randomize, p, code)

    def _randomize(self, p: ScreenedPatient, code: str) -> None:
        """Randomize; a site without kits of every arm for the first dose waits for its next
        delivery (the RTSM refuses, nothing is written) and tries again two days later."""
        try:
            allocation = self.call("randomization", p.site, randomize.randomize, code,
                                   regimen=p.regimen, day1=p.randomization_date)  # fmt: skip
        except ConflictError as refused:
            if refused.field != "kits" or p.randomization_date is None:
                raise
            self.counts["randomizations waiting for kits"] += 1
            day = p.randomization_date + dt.timedelta(days=2)
            later = dataclasses.replace(p, randomization_date=day)
            self.at(day, _ORDER_SCREEN, self._randomize, later, code)
            return
        rate = self.reference_rate
        if self.true_ratio is not None:
            # nature knows the arm: read from the unblinded list by the DSMB statistician
            if code not in self.arms:
                rows = randomize.list_allocations(self.engine, self.demo.actors["dsmb-stat"])
                self.arms.update({r.subject: r.arm for r in rows})
            test = next(a.code for a in self.protocol.arms if a.role == "test")
            if self.arms[code] == test:
                rate = min(rate * self.true_ratio, 1.0)
        follow_patient(self, p, code, allocation.kit, rate)

    # -- drug supply and the central lab ---------------------------------------------------------

    def supply_chain(self, start: dt.date) -> None:
        """Queue the supply manager's work: a first shipment to each site when it opens, then a
        resupply every other Monday, the expiry check and the central lab's transfers on the
        first of each month."""
        for spec in self.demo.sites:
            self.at(spec.activated, _ORDER_SUPPLY, self._ship, spec.activated, spec.code)
        monday = start + dt.timedelta(days=7 - start.weekday())
        while monday <= self.end:
            self.at(monday, _ORDER_SUPPLY, self._ship, monday, None)
            monday += dt.timedelta(days=14)
        month = dt.date(start.year, start.month, 1)
        while month <= self.end:
            month = (month + dt.timedelta(days=32)).replace(day=1)
            if month <= self.end:
                self.at(month, _ORDER_SUPPLY, self._expire, month)
                for index in range(len(self.demo.sites)):
                    self.at(month, _ORDER_LABS, self._transfer, index, month)

    def _ship(self, on: dt.date, first_to: str | None) -> None:
        """The first shipment to site ``first_to`` (4 kits of each arm), or the resupply of
        every site that needs kits over the next five weeks; each shipment leaves the next day
        and arrives two days later."""
        manager = self.demo.actors["supply"]
        if first_to is not None:
            arms = {a.code: 4 for a in self.protocol.arms}
            views = [supply.request_shipment(self.engine, manager, DEPOT, first_to, arms, on,
                                             reason="initial supply")]  # fmt: skip
        else:
            views = dispensing.resupply(self.engine, manager, DEPOT, on, horizon_days=35)
        for view in views:
            number = view.values["shipment_number"]
            site = self.site_index[view.values["site_id"]]
            shipped = on + dt.timedelta(days=1)
            self.at(shipped, _ORDER_SUPPLY, supply.ship_shipment, self.engine, manager, number,
                    shipped)  # fmt: skip
            arrived = shipped + dt.timedelta(days=2)
            self.at(arrived, _ORDER_SUPPLY, self.call, "shipments received", site,
                    supply.receive_shipment, number, arrived, who="pharm")  # fmt: skip
            self.counts["shipments"] += 1

    def _expire(self, on: dt.date) -> None:
        self.counts["kits expired"] += dispensing.expire_kits(
            self.engine, self.demo.actors["supply"], on
        )

    def _transfer(self, site: int, month: dt.date) -> None:
        """The central laboratory's transfer of the site's results collected before ``month``:
        one CSV file imported by the data manager, all or nothing, graded on import."""
        rows = [r for r in self.labs[site] if r["collected_at"].date() < month]
        if not rows:
            return
        self.labs[site] = [r for r in self.labs[site] if r["collected_at"].date() >= month]
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(("subject", "test", "value", "unit", "collected_at", "lln", "uln"))
        for r in rows:
            taken = r["collected_at"].isoformat()
            writer.writerow((r["subject"], r["test"], r["value"], r["unit"], taken,
                             _blank(r["lln"]), _blank(r["uln"])))  # fmt: skip
        text.seek(0)
        code = self.demo.sites[site].code
        summary = lab_import.import_lab_transfer(
            self.engine, self.demo.actors["dm"], text, transfer_id=f"CL-{code}-{month:%Y%m}"
        )
        self.counts["lab_result"] += len(rows)
        self.counts["lab transfers"] += 1
        self.counts["queries opened"] += len(summary.query_ids)
        self.follow_queries(site, summary.query_ids, "confirmed with the central laboratory")


def _blank(value: float | None) -> str:
    return "" if value is None else repr(value)
