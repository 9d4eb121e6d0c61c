"""Commands on ``flask``: accounts, frameworks, unit lists, the demo and the translation catalogues. Each
command is one transaction: it commits once at the end, or changes nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from questionnaires import FrameworkInvalid, read_workbook, read_yaml, to_workbook, to_yaml
from survey_app.accounts import operations as accounts
from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import describe_error, describe_issue
from survey_app.frameworks import operations as frameworks
from survey_app.units import operations as units

users_cli = AppGroup("users", help="Staff accounts.")
framework_cli = AppGroup("framework", help="Index frameworks.")
units_cli = AppGroup("units", help="Unit lists.")
demo_cli = AppGroup("demo", help="The demo data of `make run`.")
translate_cli = AppGroup("translate", help="Babel catalogues of the interface.")
privacy_cli = AppGroup("privacy", help="Personal data past its date.")
evidence_cli = AppGroup("evidence", help="The files of evidence documents.")
backup_cli = AppGroup("backup", help="Backups of the database and the evidence documents (PostgreSQL).")
outbox_cli = AppGroup("outbox", help="E-mails waiting to be sent.")
jobs_cli = AppGroup("jobs", help="Background jobs and their workers.")
reporting_cli = AppGroup("reporting", help="The units' reporting.")

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
PROJECT = Path(__file__).resolve().parents[2]


def _fail(lines: list[str]) -> None:
    db.session.rollback()
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default="")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.password_option(prompt=True)
def create_user(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account."""
    try:
        user = accounts.create_user(email, name, role, password)
    except ServiceError as error:
        _fail([describe_error(error)])
    db.session.commit()
    click.echo(_("Account %(email)s created with the role %(role)s.", email=user.email, role=user.role))


def _read_framework(path: Path):
    if path.suffix.lower() == ".xlsx":
        return read_workbook(path.read_bytes())
    return read_yaml(path)


@framework_cli.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_framework(path: Path) -> None:
    """Check a framework file (YAML or Excel) without loading it."""
    try:
        framework = _read_framework(path)
    except FrameworkInvalid as invalid:
        _fail([describe_issue(issue) for issue in invalid.issues])
    click.echo(
        _(
            "%(file)s is valid: %(name)s, %(points)s points, %(leaves)s scored leaves.",
            file=path.name,
            name=framework.name.vi,
            points=f"{framework.total_points:g}",
            leaves=len(framework.leaves()),
        )
    )


@framework_cli.command("load")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--shipped", is_flag=True, help="Load every framework that ships with the product.")
def load_framework(paths: tuple[Path, ...], shipped: bool) -> None:
    """Validate and load framework files (YAML or Excel); a file with errors changes nothing."""
    try:
        loaded = [frameworks.store_framework(_read_framework(path)) for path in paths]
        if shipped:
            loaded += frameworks.load_shipped_frameworks()
    except FrameworkInvalid as invalid:
        _fail([describe_issue(issue) for issue in invalid.issues])
    db.session.commit()
    for stored, outcome in loaded:
        click.echo(f"{stored.code} {stored.year} v{stored.version}: {outcome}")


@framework_cli.command("export")
@click.argument("code")
@click.argument("year", type=int)
@click.option("--version", "version", type=int, help="Default: the newest.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True, help="A .yaml or .xlsx file."
)
def export_framework(code: str, year: int, version: int | None, output: Path) -> None:
    """Write a stored framework as YAML or as an Excel workbook."""
    stored = frameworks.find_version(code, year, version)
    if stored is None:
        _fail([_("No framework %(code)s for %(year)s.", code=code, year=year)])
    framework = frameworks.framework_of(stored)
    if output.suffix.lower() == ".xlsx":
        output.write_bytes(to_workbook(framework))
    else:
        output.write_text(to_yaml(framework), encoding="utf-8")
    click.echo(str(output))


@framework_cli.command("freeze")
@click.argument("code")
@click.argument("year", type=int)
@click.argument("version", type=int)
def freeze_framework(code: str, year: int, version: int) -> None:
    """Freeze a version once its year's results are published."""
    stored = frameworks.find_version(code, year, version)
    if stored is None:
        _fail([_("No framework %(code)s for %(year)s.", code=code, year=year)])
    try:
        frameworks.freeze(stored, actor=None)
    except ServiceError as error:
        _fail([describe_error(error)])
    db.session.commit()


@units_cli.command("load")
def load_units() -> None:
    """Load the unit lists that ship with the product (lists already loaded are kept)."""
    lists = units.load_provincial_unit_lists()
    country = units.load_national_unit_list()
    lists[country.code] = country
    db.session.commit()
    for unit_list in lists.values():
        click.echo(f"{unit_list.code}: {len(unit_list.units)}")


@demo_cli.command("seed")
def seed_demo() -> None:
    """Create the demo: accounts, frameworks, unit lists and a demo round (again: changes nothing)."""
    from survey_app.core import demo

    created = demo.seed()
    db.session.commit()
    click.echo(_("Demo ready. Accounts of the staff and of a province (for the demo only):"))
    for email, role, password in created.accounts:
        click.echo(f"  {email:<32} {role:<16} {password}")
    if created.expert_link:
        click.echo(_("A demo expert's personal link (shown once): %(path)s", path=f"/e/{created.expert_link}"))


@privacy_cli.command("erase-expired")
def erase_expired() -> None:
    """Erase invitees' contacts, nominees' names and contacts and the outbox's e-mails past their date (run daily
    from cron)."""
    from survey_app.core.types import utcnow
    from survey_app.privacy import operations as privacy

    erased = privacy.erase_expired(utcnow().date())
    db.session.commit()
    click.echo(
        _(
            "Erased: %(contacts)s invitee contacts, %(nominations)s nominations, %(messages)s e-mails.",
            contacts=erased.invitee_contacts,
            nominations=erased.nominations,
            messages=erased.outbox_messages,
        )
    )


@outbox_cli.command("send")
def send_outbox() -> None:
    """Send the e-mails still waiting in the outbox (run every few minutes from cron or a worker): those whose
    first try after their request failed. A failure stays for the next run, with its error."""
    from survey_app.core import mail

    if not mail.configured(current_app.config):
        _fail([_("SMTP_HOST is not set: nothing can be sent.")])
    delivery = mail.deliver(current_app.config)
    db.session.commit()
    click.echo(
        _("E-mails sent: %(sent)s; left for the next run: %(failed)s.", sent=delivery.sent, failed=delivery.failed)
    )
    if delivery.failed:
        _fail([delivery.error])


@jobs_cli.command("worker")
@click.option("--threads", default=1, show_default=True, help="Jobs this process runs at once.")
def jobs_worker(threads: int) -> None:
    """Run jobs until stopped (SIGTERM or Ctrl-C lets the running jobs finish). Run as many as the load needs,
    on any machine that reaches the database and JOBS_BROKER_URL's Redis."""
    import signal
    import threading

    from survey_app.core import jobs

    queue = jobs.queue()
    if queue.embedded:
        _fail([_("JOBS_BROKER_URL is not set: `make run` runs jobs in its own process, no worker is needed.")])
    worker = queue.worker(threads)
    worker.start()
    # jobs stored while no worker or broker was there, or left by a worker that stopped: their claims decide
    for job_id in jobs.pending_job_ids(stale_after=current_app.config["JOBS_STALE_SECONDS"]):
        queue.actor.send(job_id)
    db.session.remove()
    click.echo(_("Job worker started with %(threads)s thread(s).", threads=threads))
    stopping = threading.Event()
    presence = jobs.announce_worker(current_app.config["JOBS_BROKER_URL"], threads, stopping)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    stopping.wait()
    worker.stop()
    presence.join(5)


@click.command("doctor")
def doctor() -> None:
    """Check this deployment (secret key, database and its migrations, Redis, storage, job workers, clocks) and
    say what is wrong, one line each; exits 1 when anything is."""
    from survey_app.core import doctor as checks

    found = checks.examine(current_app)
    for check in found:
        mark = {"ok": "ok  ", "warning": "WARN", "failed": "FAIL"}[check.status]
        click.echo(f"{mark} {check.name}: {check.detail}")
    if any(check.status == "failed" for check in found):
        sys.exit(1)


@reporting_cli.command("remind-due")
def remind_due() -> None:
    """Remind the units not signed off whose period's deadline is 7 or 1 days away (run daily, from a timer); the
    e-mails leave through the outbox."""
    from survey_app.reporting import appraisals, reminders

    queued = reminders.remind_due(appraisals.today())
    db.session.commit()
    click.echo(_("Reminders queued: %(count)s.", count=queued))


@jobs_cli.command("expire-files")
def expire_job_files() -> None:
    """Delete the export files past their date (EXPORT_FILE_DAYS; run daily, from a timer)."""
    from survey_app.survey import operations as collection

    deleted = collection.expire_export_files()
    db.session.commit()
    click.echo(_("Export files deleted: %(count)s.", count=deleted))


@jobs_cli.command("probe")
@click.option("--steps", default=3, show_default=True)
@click.option("--seconds", default=0.1, show_default=True, help="Each step's length.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for a worker to finish it.")
def jobs_probe(steps: int, seconds: float, wait: bool) -> None:
    """Send a probe job through the queue: says whether a worker takes jobs, and how soon."""
    import time

    from survey_app.core import jobs

    job = jobs.enqueue("core.probe", subject="probe", params={"steps": steps, "seconds": seconds})
    db.session.commit()
    click.echo(_("Probe job %(id)s sent.", id=job.id))
    if not wait:
        return
    deadline = time.monotonic() + 30 + steps * seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(jobs.Job, job.id)
        if job.finished:
            break
        time.sleep(0.2)
    db.session.commit()
    if job.state != jobs.JobState.DONE:
        _fail([_("Probe job %(id)s is %(state)s: no worker finished it.", id=job.id, state=job.state)])
    click.echo(_("Probe job %(id)s done by %(worker)s.", id=job.id, worker=job.result["worker"]))


@evidence_cli.command("prune")
def prune_evidence() -> None:
    """Delete stored evidence files no document names any more (those of deleted reports)."""
    from survey_app.scoring import evidence

    click.echo(_("Deleted %(count)s evidence files that no document names.", count=evidence.prune_orphans()))


@backup_cli.command("create")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_create(folder: Path) -> None:
    """Write a backup (pg_dump's custom format, the evidence files, a manifest) into an empty FOLDER."""
    from survey_app.core import backups

    try:
        manifest = backups.create(folder)
    except ServiceError as error:
        _fail([describe_error(error)])
    click.echo(
        _(
            "Backup written to %(folder)s: %(responses)s responses, checksum %(checksum)s.",
            folder=str(folder),
            responses=manifest["fingerprint"]["counts"]["responses"],
            checksum=manifest["fingerprint"]["responses_sha256"][:16],
        )
    )


@backup_cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def backup_restore(folder: Path) -> None:
    """Restore the backup in FOLDER into this service's empty database, and check it against its manifest."""
    from survey_app.core import backups

    try:
        restored = backups.restore(folder)
    except ServiceError as error:
        _fail([describe_error(error)])
    click.echo(
        _(
            "Restored and checked: %(responses)s responses, checksum %(checksum)s.",
            responses=restored["counts"]["responses"],
            checksum=restored["responses_sha256"][:16],
        )
    )


@backup_cli.command("fingerprint")
def backup_fingerprint() -> None:
    """Print the row counts and the checksums of the answers and evidence files, as JSON."""
    import json

    from survey_app.core import backups

    click.echo(json.dumps(backups.fingerprint(), indent=2))


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=PROJECT)


@translate_cli.command("update")
@click.option(
    "--vietnamese",
    "tables",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON file of new Vietnamese translations: {\"English message\": \"Vietnamese\"}.",
)
def translate_update(tables: tuple[Path, ...]) -> None:
    """Extract the interface's messages and rebuild both catalogues from them: English is the message itself,
    Vietnamese what the catalogue had or a table gives. Lists what is still untranslated (and exits 1)."""
    import json

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    _pybabel(
        "extract",
        "-F",
        "babel.cfg",
        "-k",
        "_l",
        "-k",
        "N_",
        "--no-location",
        "--sort-output",
        "-o",
        str(TRANSLATIONS / "messages.pot"),
        ".",
    )
    given: dict[str, str] = {}
    for table in tables:
        given.update(json.loads(table.read_text(encoding="utf-8")))
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        template = read_po(handle)
    untranslated = []
    for language in ("vi", "en"):
        path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        with open(path, "rb") as handle:
            old = read_po(handle, locale=language)
        catalogue = Catalog(locale=language, project="dti-survey", version="0.1", charset="utf-8", fuzzy=False)
        for message in template:
            if not message.id:
                continue
            if language == "en":
                text = message.id
            else:
                kept = old.get(message.id)
                # a plural message is given by its singular; Vietnamese has one form for every count
                key = message.id[0] if isinstance(message.id, tuple) else message.id
                text = given.get(key) or (kept.string if kept else "")
                if isinstance(message.id, tuple) and isinstance(text, str):
                    text = (text,)
            catalogue.add(message.id, text, flags=message.flags - {"fuzzy"}, auto_comments=message.auto_comments)
            if not text or (isinstance(text, tuple) and not all(text)):
                untranslated.append(f"{language}: {message.id}")
        with open(path, "wb") as handle:
            write_po(handle, catalogue, width=110, sort_output=True)
    _pybabel("compile", "-d", str(TRANSLATIONS))
    for line in untranslated:
        click.echo(line)
    if untranslated:
        raise SystemExit(1)


@translate_cli.command("init")
@click.argument("language")
def translate_init(language: str) -> None:
    """Start the catalogue of a new language."""
    _pybabel("init", "-i", str(TRANSLATIONS / "messages.pot"), "-d", str(TRANSLATIONS), "-l", language)


@translate_cli.command("compile")
def translate_compile() -> None:
    """Compile the catalogues for the running service."""
    _pybabel("compile", "-d", str(TRANSLATIONS))


def init_app(app: Flask) -> None:
    for group in (
        users_cli,
        framework_cli,
        units_cli,
        demo_cli,
        translate_cli,
        privacy_cli,
        evidence_cli,
        backup_cli,
        outbox_cli,
        jobs_cli,
        reporting_cli,
    ):
        app.cli.add_command(group)
    app.cli.add_command(doctor)
