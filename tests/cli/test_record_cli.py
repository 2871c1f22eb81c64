"""``record``, ``query``, the record workflow and ``import labs`` as a user runs them:
subprocesses against a real database, SQLite and PostgreSQL (``tests/db_fixtures.py``).

The set-up is the one of ``test_data_cli.py`` (example study, sites A and B, one user per role,
subject A-0001 randomized) plus a monitor and a study-wide data manager.
"""

from __future__ import annotations

import datetime as dt
import inspect
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_data_cli import PASSWORD, RANDOMIZED, Cli, _copy_of, _set_up
from typer.testing import CliRunner

from db_fixtures import BACKENDS, fresh_database
from equitrial.cli import _fields, app
from equitrial.errors import InvalidInputError

TWO = f"{PASSWORD}\n{PASSWORD}\n"


def _set_up_more(cli: Cli) -> None:
    _set_up(cli)
    for user, role in (("mon", "monitor"), ("dm", "data-manager")):
        cli.ok(
            "user", "add", user, "--role", role, "--as", "admin", "--password-stdin", stdin=TWO
        )  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def template_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("template")
    with fresh_database(request.param, directory) as url:
        _set_up_more(Cli(url, directory))
        yield url


@pytest.fixture
def cli(template_url: str, tmp_path: Path) -> Iterator[Cli]:
    with _copy_of(template_url, tmp_path) as url:
        yield Cli(url, tmp_path)


def _as(cli: Cli, user: str, *args: str, stdin: str = PASSWORD + "\n") -> dict:
    out = cli.ok(*args, "--as", user, "--password-stdin", "--json", stdin=stdin)
    doc = json.loads(out.stdout)
    assert isinstance(doc, dict | list)
    return doc  # type: ignore[return-value]


def _refused(cli: Cli, user: str, *args: str, code: int = 2, stdin: str = PASSWORD + "\n") -> str:
    out = cli(*args, "--as", user, "--password-stdin", stdin=stdin)
    assert out.returncode == code, f"{args}: exit {out.returncode}\n{out.stdout}\n{out.stderr}"
    assert out.stderr.startswith("error:") and "Traceback" not in out.stderr, out.stderr
    assert out.stdout == ""
    return out.stderr


def _fields_of(*pairs: str) -> list[str]:
    return [arg for pair in pairs for arg in ("--field", pair)]


def _count(cli: Cli, table: str) -> int:
    engine = sa.create_engine(cli.url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


# --- the form table ------------------------------------------------------------------------------


@pytest.mark.parametrize("form", list(_fields.FORMS))
def test_the_fields_read_from_the_source_are_the_service_signature(form: str) -> None:
    import importlib

    module, _, name = _fields.FORMS[form].partition(".")
    function = getattr(importlib.import_module(f"equitrial.services.{module}"), name)
    params = [  # after engine, actor, subject; a **catch-all (refusing unknown names) is no field
        p for p in list(inspect.signature(function).parameters.values())[3:]
        if p.kind is not inspect.Parameter.VAR_KEYWORD
    ]  # fmt: skip
    fields = _fields.form_fields(form)
    assert fields is not None
    assert [(f.name, f.required) for f in fields] == [
        (p.name, p.default is inspect.Parameter.empty and not str(p.annotation).endswith("| None"))
        for p in params
    ]


def test_values_are_parsed_by_type_and_errors_name_the_field() -> None:
    values = _fields.parse_fields(
        "dose",
        ["cycle=2", "date=2024-03-01", "dose_mg=200", "interrupted=yes", "reason="],
    )
    assert values == {
        "cycle": 2,
        "date": dt.date(2024, 3, 1),
        "dose_mg": 200.0,
        "interrupted": True,
        "reason": None,
    }
    at = _fields.parse_fields("lab_result", [
        "test=Anemia", "value=9.5", "unit=g/dL", "collected_at=2024-03-02T08:15:00+01:00"
    ])["collected_at"]  # fmt: skip
    assert at.utcoffset() == dt.timedelta(hours=1)
    for pairs, field in (
        (("cycle=two",), "cycle"),
        (("cycle=1", "date=2024-13-01"), "date"),
        (("cycle=1", "date=2024-03-01", "dose_mg=inf"), "dose_mg"),
        (("cycle=1", "date=2024-03-01", "dose_mg=200", "delayed=maybe"), "delayed"),
        (("cycle=1", "date=2024-03-01"), "dose_mg"),  # required, missing
        (("cycle=1", "date=2024-03-01", "dose_mg=200", "colour=red"), "colour"),
    ):
        with pytest.raises(InvalidInputError) as refused:
            _fields.parse_fields("dose", list(pairs))
        assert getattr(refused.value, "field", None) == field, (pairs, refused.value)
    with pytest.raises(InvalidInputError, match="collected_at"):
        _fields.parse_fields("lab_result", ["collected_at=2024-03-02T08:15:00"])
    answers = _fields.parse_fields("qlq_c30", ["date=2024-03-01", 'items={"1": 2, "2": null}'])[
        "items"
    ]
    assert answers == {1: 2, 2: None}


def test_record_form_help_lists_its_fields() -> None:
    out = CliRunner().invoke(app, ["record", "lab_result", "--help"], env={"COLUMNS": "120"})
    assert out.exit_code == 0
    for line in ("* test: text", "* value: number", "- lln: number", "* collected_at: date"):
        assert line in out.output
    listing = CliRunner().invoke(app, ["record", "--help"], env={"COLUMNS": "120"}).output
    assert all(form in listing for form in _fields.FORMS) and "edit" in listing


# --- record and edit -----------------------------------------------------------------------------


def test_record_forms_edit_them_and_refuse_bad_values(cli: Cli) -> None:
    ae = _as(cli, "coord_a", "record", "adverse_event", "--subject", RANDOMIZED, *_fields_of(
        "term=Colitis", "grade=2", "start_date=2024-03-01"
    ))  # fmt: skip
    assert ae["table"] == "adverse_event" and ae["values"]["grade"] == 2
    assert ae["values"]["immune_category"] is not None  # derived on save
    lab = _as(cli, "coord_a", "record", "lab_result", "--subject", RANDOMIZED, *_fields_of(
        "test=Anemia", "value=9.5", "unit=g/dL", "lln=12", "uln=16",
        "collected_at=2024-03-02T08:15:00+01:00",
    ))  # fmt: skip
    assert lab["values"]["ctcae_grade"] == 2  # Hgb < 10.0 - 8.0 g/dL
    qlq = _as(cli, "coord_a", "record", "qlq_c30", "--subject", RANDOMIZED, *_fields_of(
        "date=2024-03-01", *(f"q{i}={1 if i <= 28 else 6}" for i in range(1, 31))
    ))  # fmt: skip
    scores = json.loads(qlq["values"]["scores_json"])
    answers = [f"q{i}={4 if i == 1 else 1 if i <= 28 else 6}" for i in range(1, 31)]
    edited = _as(cli, "coord_a", "record", "edit", "qlq_c30", str(qlq["id"]),
                 *_fields_of(*answers), "--reason", "item 1 misread")  # fmt: skip
    assert json.loads(edited["values"]["scores_json"]) != scores  # scored again on the edit
    therapy = _as(cli, "coord_a", "record", "subsequent_therapy", "--subject", RANDOMIZED,
        *_fields_of("name=ipilimumab", "therapy_type=IMMUNOTHERAPY", "start_date=2024-03-01"),
    )  # fmt: skip
    changed = _as(cli, "coord_a", "record", "edit", "adverse_event", str(ae["id"]),
        "--field", "grade=3", "--reason", "re-read the source")  # fmt: skip
    assert changed["values"]["grade"] == 3 and changed["values"]["version"] == 2
    renamed = _as(cli, "coord_a", "record", "edit", "subsequent_therapy", str(therapy["id"]),
        "--field", "name=nivolumab", "--reason", "source says nivolumab")  # fmt: skip
    assert renamed["values"]["name"] == "nivolumab"
    # bad values: exit 2 naming the field, nothing on stdout
    stderr = _refused(cli, "coord_a", "record", "lab_result", "--subject", RANDOMIZED,
        *_fields_of("test=Anemia", "value=9.5", "unit=g/dL",
                    "collected_at=2024-03-02T08:15:00"))  # fmt: skip
    assert "collected_at" in stderr
    assert "grade" in _refused(cli, "coord_a", "record", "adverse_event", "--subject", RANDOMIZED,
        *_fields_of("term=Fatigue", "grade=9", "start_date=2024-03-01"))  # fmt: skip
    assert "start_date" in _refused(cli, "coord_a", "record", "adverse_event", "--subject",
        RANDOMIZED, *_fields_of("term=Fatigue", "grade=1"))  # fmt: skip
    assert "reason" in _refused(cli, "coord_a", "record", "edit", "adverse_event", str(ae["id"]),
        "--field", "grade=2", "--reason", " ")  # fmt: skip
    # another site's coordinator: permission denied, exit 3
    _refused(cli, "coord_b", "record", "adverse_event", "--subject", RANDOMIZED,
        *_fields_of("term=Fatigue", "grade=1", "start_date=2024-03-01"), code=3)  # fmt: skip
    assert _count(cli, "adverse_event") == 1


def test_record_demographics_and_medical_history(cli: Cli) -> None:
    demographics = _as(cli, "coord_a", "record", "demographics", "--subject", RANDOMIZED,
        *_fields_of("age=61", "sex=F", "race=WHITE", "ethnicity=NOT HISPANIC OR LATINO",
                    "country=DEU", "region=EUROPE", "ecog_ps=0", "braf_v600=MUTANT",
                    "m_stage=M1b", "ldh_value=300", "ldh_uln=250", "brain_metastases=N",
                    "prior_adjuvant=N"))  # fmt: skip
    assert demographics["values"]["ldh_elevated"] is True  # derived: 300 > 250 U/L
    history = _as(cli, "coord_a", "record", "medical_history", "--subject", RANDOMIZED,
        *_fields_of("term=HYPERTENSION", "category=GENERAL", "start_date=2015-01-01",
                    "ongoing=yes"))  # fmt: skip
    assert history["values"]["ongoing"] is True
    assert "ldh_elevated" in _refused(cli, "coord_a", "record", "demographics", "--subject",
        RANDOMIZED, *_fields_of("ldh_elevated=yes"))  # fmt: skip


# --- queries -------------------------------------------------------------------------------------


def test_an_implausible_value_opens_a_query_answered_and_closed_on_the_command_line(
    cli: Cli,
) -> None:
    sample = _as(cli, "coord_a", "record", "pk_sample", "--subject", RANDOMIZED, *_fields_of(
        "timing=POST-DOSE", "nominal_hours=2000", "collected_at=2024-03-02T08:00:00+00:00",
        "concentration=12.5",
    ))  # fmt: skip
    ((opened),) = sample["queries"]
    assert opened["field"] == "nominal_hours"
    listed = _as(cli, "coord_a", "query", "list", "--status", "open")
    assert [(q["id"], q["subject"], q["status"]) for q in listed] == [
        (opened["id"], RANDOMIZED, "open")
    ]
    assert _as(cli, "coord_b", "query", "list") == []  # site B sees none of site A's
    qid = str(opened["id"])
    assert _as(cli, "coord_a", "query", "answer", qid, "drawn at day 83")["status"] == "answered"
    _refused(cli, "coord_a", "query", "close", qid, "ok", code=3)  # site staff do not close
    assert _as(cli, "mon", "query", "close", qid, "accepted")["status"] == "closed"
    shown = _as(cli, "dm", "query", "show", qid)
    assert [m["text"] for m in shown["thread"]] == ["drawn at day 83", "accepted"]
    assert "closed" in _refused(cli, "mon", "query", "reopen", qid, "again")
    assert _as(cli, "mon", "query", "list", "--status", "open") == []
    assert "status" in _refused(cli, "mon", "query", "list", "--status", "pending")


# --- the record workflow, the lock, data cut, unblinding -----------------------------------------


def test_verify_sign_freeze_lock_then_cut_unblind_and_lock_the_database(cli: Cli) -> None:
    ae = _as(cli, "coord_a", "record", "adverse_event", "--subject", RANDOMIZED, *_fields_of(
        "term=Fatigue", "grade=1", "start_date=2024-03-01"
    ))  # fmt: skip
    ref = ("adverse_event", str(ae["id"]))
    _refused(cli, "coord_a", "verify", *ref, code=3)
    assert _as(cli, "mon", "verify", *ref)["values"]["status"] == "verified"
    wrong = f"{PASSWORD}\nnot the password\n"
    _refused(cli, "inv_a", "sign", *ref, "--meaning", "I approve", code=3, stdin=wrong)
    signed = _as(cli, "inv_a", "sign", *ref, "--meaning", "I approve these data", stdin=TWO)
    assert signed["values"]["status"] == "signed"
    assert _as(cli, "dm", "freeze", *ref)["values"]["status"] == "frozen"
    assert "frozen" in _refused(cli, "coord_a", "record", "edit", *ref, "--field", "grade=2",
                                "--reason", "typo")  # fmt: skip
    _as(cli, "dm", "unfreeze", *ref, "--reason", "grade to correct")
    assert _as(cli, "coord_a", "record", "edit", *ref, "--field", "grade=2", "--reason",
               "typo")["values"]["status"] == "entered"  # fmt: skip
    for user, step, *extra in (("mon", "verify"), ("inv_a", "sign", "--meaning", "ok"),
                               ("dm", "freeze"), ("dm", "lock")):  # fmt: skip
        _as(cli, user, step, *ref, *extra, stdin=TWO)
    assert "locked" in _refused(cli, "dm", "unfreeze", *ref, "--reason", "x")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    cut = _as(cli, "dm", "datacut", "interim-1", "--date", today)
    assert cut["counts"]["adverse_event"] == 1 and len(cut["sha256"]) == 64
    assert "date" in _refused(cli, "dm", "datacut", "interim-2", "--date", "2024-02-30")
    out = cli.ok("unblind", RANDOMIZED, "--reason", "grade 4 colitis", "--as", "inv_a",
                 "--password-stdin", stdin=PASSWORD)  # fmt: skip
    assert "arm BIO" in out.stdout or "arm REF" in out.stdout
    events = _as(cli, "dsmb", "unblinding", "list")
    assert [(e["subject"], e["user"], e["reason"]) for e in events] == [
        (RANDOMIZED, "inv_a", "grade 4 colitis")
    ]
    _refused(cli, "blind_stat", "unblinding", "list", code=3)
    _refused(cli, "coord_a", "db", "lock", "--reason", "final", code=3)
    locked = cli.ok("db", "lock", "--reason", "final analysis", "--as", "dm", "--password-stdin",
                    stdin=PASSWORD)  # fmt: skip
    assert "database locked" in locked.stdout
    assert "audit verify: everything holds" in cli.ok("audit", "verify").stdout
    assert "locked" in _refused(cli, "coord_a", "record", "adverse_event", "--subject",
        RANDOMIZED, *_fields_of("term=Nausea", "grade=1", "start_date=2024-03-01"))  # fmt: skip


# --- the central-lab transfer --------------------------------------------------------------------

HEADER = "subject,test,value,unit,collected_at,lln,uln,accession"


def _transfer(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def test_import_labs_all_or_nothing_once_per_file_and_within_the_sites(
    cli: Cli, tmp_path: Path
) -> None:
    # Platelet count decreased (10^9/L, LLN 150): 200 -> 0; 100 -> 1 (< LLN - 75); 60 -> 2
    # (< 75 - 50); 30 -> 3 (< 50 - 25); 20 -> 4 (< 25)
    rows = [
        f"{RANDOMIZED},Platelet count decreased,{v},10^9/L,2024-03-0{i + 1}T08:00:00+01:00,150,400,"
        f"X{i}"
        for i, v in enumerate((200, 100, 60, 30, 20))
    ]
    bad = _transfer(tmp_path / "bad.csv", [*rows[:3], rows[3].replace(",30,", ",thirty,"),
                                           rows[4]])  # fmt: skip
    stderr = _refused(cli, "coord_a", "import", "labs", str(bad))
    assert "row 4 (line 5), column value" in stderr and "nothing imported" in stderr
    assert _count(cli, "lab_result") == 0
    good = _transfer(tmp_path / "good.csv", rows)
    doc = _as(cli, "coord_a", "import", "labs", str(good), "--transfer-id", "CL-0001")
    assert (doc["rows"], doc["subjects"]) == (5, 1)
    assert doc["grades"] == {"0": 1, "1": 1, "2": 1, "3": 1, "4": 1}
    assert "imported already" in _refused(cli, "dm", "import", "labs", str(good))
    assert _count(cli, "lab_result") == 5
    other = _transfer(tmp_path / "other.csv", [rows[0].replace("2024-03-01", "2024-04-01")])
    _refused(cli, "coord_b", "import", "labs", str(other), code=3)  # a site-A subject
    text = cli.ok("import", "labs", str(other), "--as", "dm", "--password-stdin",
                  stdin=PASSWORD).stdout  # fmt: skip
    assert "imported 1 lab results of 1 subject(s)" in text
    assert _count(cli, "lab_result") == 6
    # the chain holds and every imported row is what its audit rows say
    assert "audit verify: everything holds" in cli.ok("audit", "verify").stdout


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "adverse_event", "99999999999999999999"),
        ("sign", "adverse_event", "0", "--meaning", "ok"),
        ("query", "show", "99999999999999999999"),
        ("record", "edit", "dose", "99999999999999999999", "--field", "cycle=2", "--reason", "x"),
        ("record", "dose", "--subject", "1", "--field", "visit_id=99999999999999999999"),
        ("record", "edit", "qlq_c30", "1", "--field", "q1=2", "--reason", "partial answers"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_bad_ids_and_partial_answers_are_refused_before_the_database(args, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "EQUITRIAL_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    out = subprocess.run(
        [sys.executable, "-m", "equitrial", *args, "--as", "x", "--password-stdin"],
        capture_output=True, text=True, env=env, input=PASSWORD, timeout=120,
    )  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error:") and "Traceback" not in out.stderr
    assert not (tmp_path / "none.db").exists()  # refused before any database was opened
