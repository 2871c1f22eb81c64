"""The one save and edit path of every case report form.

Each form is registered here as a :class:`Form` (its table, model, derivation and the
re-derivation of the records that depend on it): the clinical forms of
:mod:`equitrial.services.clinical` (visit, dose, adverse event, lab result, lesion measurement)
and those of issue 9 (samples, questionnaires, con-meds, subsequent therapy, disposition,
death). :func:`new_record` saves and :func:`update_form` edits a record of any of them, in the
same steps:

1. refuse derived fields typed by hand and impossible values (:func:`~equitrial.services.
   checks.enforce`) before touching the database;
2. one transaction: the actor's role at the subject's site (:func:`~equitrial.services.auth.
   require`), the study-open check, the subject row locked;
3. the form's checks under its context (:attr:`Form.context`: today's date, for a dose its
   visit window and regimens), then its derivation: derived values computed, cross-record rules
   checked (impossible -> :class:`~equitrial.errors.InvalidInputError` or
   :class:`~equitrial.errors.ConflictError`, implausible -> a finding);
4. the insert (or the change, with its reason) and its audit rows; one query per implausible
   finding;
5. the records that depend on the one saved derived again (:attr:`Form.rederive`, see
   :mod:`equitrial.services._derivation`), in the same transaction.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from equitrial.errors import InvalidInputError
from equitrial.services._base import (
    RecordView,
    audited_insert,
    check_fields,
    check_version,
    ensure_editable,
    ensure_study_open,
    get,
    lock_row,
    lock_subject,
    revise_record,
    subject_of,
    today,
    view_of,
)
from equitrial.services.auth import Actor, require
from equitrial.services.checks import CheckContext, Finding, enforce
from equitrial.services.queries import open_queries_for
from equitrial.services.subjects import SITE_STAFF, subject_for_write
from equitrial.store import models as m
from equitrial.store.db import transaction

__all__ = [
    "FORMS",
    "ContextOf",
    "Derivation",
    "Form",
    "Rederivation",
    "change_in",
    "insert_in",
    "new_record",
    "prevalidate",
    "register",
    "update_form",
]

Derivation = Callable[[Session, Any, m.Subject], list[Finding]]
"""Computes a record's derived values in place, refuses what is impossible across records and
returns the implausible findings (cross-record rules) of the record."""

ContextOf = Callable[[Session, Any, m.Subject], CheckContext]
"""The context the form's checks run under (may refuse what is impossible across records)."""

Rederivation = Callable[[Session, Actor, Any, m.Subject, Mapping[str, Any] | None], None]
"""Derives again the records that depend on a record just saved; the mapping holds the changed
fields' old values (``None`` for a new record)."""


@dataclass(frozen=True)
class Form:
    """A case report form: its table (also the name of its checks), model and derivation.

    Attributes
    ----------
    name
        The table name, the key of its checks in :data:`~equitrial.services.checks.CHECKS`.
    model
        The ORM class (a :class:`~equitrial.store.models.ClinicalRecordMixin`).
    derive
        The :data:`Derivation` run on every save and edit.
    derived
        Fields computed by ``derive``: never typed, never edited.
    fixed
        Fields that cannot be edited after the first save (besides subject and status).
    context
        The :data:`ContextOf` of the checks (``None``: today's date only).
    rederive
        The :data:`Rederivation` of the dependent records (``None``: nothing depends on it).
    """

    name: str
    model: type[Any]
    derive: Derivation
    derived: frozenset[str] = field(default_factory=frozenset)
    fixed: frozenset[str] = field(default_factory=frozenset)
    context: ContextOf | None = None
    rederive: Rederivation | None = None


FORMS: dict[str, Form] = {}
"""The forms saved through this module, by table name (filled by :func:`register`)."""

_FORM_MODULES = (
    "equitrial.services.clinical",
    "equitrial.services.samples",
    "equitrial.services.questionnaires",
    "equitrial.services.conmeds",
    "equitrial.services.outcomes",
    "equitrial.services.baseline",
)
"""The modules that register forms (imported before an edit looks a form up)."""


def register(form: Form) -> Form:
    """Add ``form`` to :data:`FORMS` (at import of the module that defines it)."""
    FORMS[form.name] = form
    return form


def _values(obj: Any) -> dict[str, Any]:
    return {a.key: getattr(obj, a.key) for a in sa_inspect(type(obj)).column_attrs}


def _checked(session: Session, form: Form, obj: Any, subject: m.Subject) -> list[Finding]:
    context = CheckContext(today()) if form.context is None else form.context(session, obj, subject)
    implausible = enforce(form.name, _values(obj), context)
    return implausible + form.derive(session, obj, subject)


def _rederive(
    session: Session,
    actor: Actor,
    form: Form,
    obj: Any,
    subject: m.Subject,
    before: Mapping[str, Any] | None,
) -> None:
    if form.rederive is not None:
        form.rederive(session, actor, obj, subject, before)


def new_record(
    engine: Engine, actor: Actor, form: Form, subject: int | str, fields: Mapping[str, Any]
) -> RecordView:
    """Save a new record of ``form`` for ``subject`` (site staff of its site), audited.

    Raises
    ------
    PermissionDeniedError
        The actor is not investigator or coordinator at the subject's site.
    StudyLockedError
        The study database is locked.
    InvalidInputError
        A derived field typed, an impossible value (nothing is written).
    ConflictError
        A record that may exist once exists already.
    """
    prevalidate(form, fields)  # refuse the obvious before the database
    with transaction(engine) as session:
        row = subject_for_write(session, actor, subject, SITE_STAFF)
        return insert_in(session, actor, form, row, fields)


def prevalidate(form: Form, fields: Mapping[str, Any]) -> None:
    """Step 1 of :func:`new_record`: refuse a derived field typed by hand and the values the
    form's checks refuse on their own (before the database is touched)."""
    typed = sorted(set(fields) & form.derived)
    if typed:
        raise InvalidInputError(f"{typed[0]} is derived, not entered", field=typed[0])
    enforce(form.name, fields, CheckContext(today()))


def insert_in(
    session: Session, actor: Actor, form: Form, subject: m.Subject, fields: Mapping[str, Any]
) -> RecordView:
    """Steps 3 to 5 of :func:`new_record` in the caller's transaction, which has run
    :func:`prevalidate` on ``fields`` and checked the actor's role at ``subject``'s site and
    that the study is open (a use case that saves a record after reading others in the same
    transaction, such as :func:`equitrial.services.clinical.record_visit`)."""
    lock_subject(session, subject)
    obj = form.model(subject_id=subject.id, **fields)
    with session.no_autoflush:
        implausible = _checked(session, form, obj, subject)
    audited_insert(session, actor, obj)
    _rederive(session, actor, form, obj, subject, None)
    return view_of(obj, open_queries_for(session, actor, obj, implausible))


def _editable(form_name: str, changes: Mapping[str, Any]) -> Form:
    for module in _FORM_MODULES:
        importlib.import_module(module)
    form = FORMS.get(form_name)
    if form is None:
        raise InvalidInputError(
            f"unknown form {form_name!r}; expected one of {', '.join(sorted(FORMS))}",
            field="form",
        )
    check_fields(form.model, changes)
    typed = sorted(set(changes) & (form.derived | form.fixed | {"subject_id", "status"}))
    if typed:
        raise InvalidInputError(f"{typed[0]} cannot be edited", field=typed[0])
    return form


def update_form(
    engine: Engine,
    actor: Actor,
    form: str,
    record_id: int,
    changes: Mapping[str, Any],
    *,
    reason: str,
    expected_version: int | None = None,
) -> RecordView:
    """Change a saved record of a form of :data:`FORMS` (site staff of the subject).

    A reason is required and audited with each changed field; derived values are recomputed
    and the checks run again, and so are the derived values of the subject's records that
    depend on this one (:attr:`Form.rederive`); a verified or signed record goes back to
    "entered" (its verification and signature no longer cover the new values; the signature is
    marked superseded).

    Concurrent edits of one record are serialized: the record is read under a row lock
    (PostgreSQL ``FOR UPDATE``), so ``expected_version`` is compared with the last committed
    version and an edit made on a stale copy is refused with :class:`ConflictError`.

    Raises
    ------
    LockedRecordError
        The record is frozen or locked, or the study is locked.
    ConflictError
        The record changed since ``expected_version`` was read; a cross-record conflict.
    InvalidInputError
        No reason, an unknown, derived or fixed field, an impossible value.
    """
    if not (reason and reason.strip()):
        raise InvalidInputError(
            f"{form} {record_id}: a reason is required for any change after first entry",
            field="reason",
        )
    spec = _editable(form, changes)
    with transaction(engine) as session:
        obj = get(session, spec.model, record_id, form)
        subject = subject_of(session, obj)
        require(actor, roles=SITE_STAFF, site=subject.site_id)
        ensure_study_open(session, subject.study_id)
        return change_in(session, actor, spec, obj, subject, changes, reason, expected_version)


def change_in(
    session: Session,
    actor: Actor,
    spec: Form,
    obj: Any,
    subject: m.Subject,
    changes: Mapping[str, Any],
    reason: str,
    expected_version: int | None = None,
) -> RecordView:
    """The change of :func:`update_form` in the caller's transaction, which has checked the
    actor's role at ``subject``'s site, that the study is open and the fields of ``changes``
    (:func:`update_form` does all three)."""
    form = spec.name
    lock_subject(session, subject)
    lock_row(session, obj)
    ensure_editable(obj, form)
    check_version(obj, expected_version, form)
    before = {name: getattr(obj, name) for name in changes}
    # no autoflush: the derivations query the database, and a flush before the audit would
    # write the change without its audit rows being able to see it
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(obj, name, value)
        implausible = _checked(session, spec, obj, subject)
        revise_record(session, actor, obj, changes, reason=reason)
    _rederive(session, actor, spec, obj, subject, before)
    return view_of(obj, open_queries_for(session, actor, obj, implausible))
