"""Providers with their domains as CSV, for administrators who keep the list in a spreadsheet.

One row per provider; ``domains`` holds its domains separated by spaces; ``coordinator`` and
``upstream`` name a coordinator's and a provider's slug; yes/no for flags. An import is all or
nothing: every row is checked and saved inside one transaction, and any error (reported with
its line number) leaves the database as it was. A column left out of the file leaves that field
as it is for existing providers.

Spreadsheet formula injection: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return is run as a formula by spreadsheet programs. The export puts an apostrophe in
front of such a cell (and of a cell that already begins with one); the import removes one leading
apostrophe from every cell, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from vangnet.audit.services import Actor

from . import services
from .domains import DomainError, normalize_domain
from .models import DigitalServicesCoordinator, Provider

COLUMNS = ["slug", "name", "contact_email", "webform_url", "api_channel", "api_endpoint", "country",
           "legal_representative", "is_vlop", "language", "coordinator", "upstream", "is_active", "domains", "notes"]
TEXT_COLUMNS = ["name", "contact_email", "webform_url", "api_channel", "api_endpoint", "country",
                "legal_representative", "language", "notes"]
BOOLEAN_COLUMNS = ["is_vlop", "is_active"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_BYTES = 5 * 1024 * 1024
_TRUE = {"yes", "y", "true", "1", "ja", "j"}
_FALSE = {"no", "n", "false", "0", "nee", ""}
_DOMAIN_SPLIT = re.compile(r"[\s,;]+")


class ProviderImportError(Exception):
    """An import that changed nothing; ``errors`` are messages for the administrator, with line numbers."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportSummary:
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def neutralise(value: str) -> str:
    """A cell as exported: an apostrophe in front of anything a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def restore(value: str) -> str:
    """A cell as imported: one leading apostrophe (added by ``neutralise`` or a spreadsheet) removed."""
    return value[1:] if value.startswith("'") else value


def export_providers_csv(providers: Iterable[Provider]) -> str:
    """The providers (with their domains) as CSV text; write it with a BOM (``utf-8-sig``) for spreadsheets."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for provider in providers:
        row: dict[str, str] = {column: str(getattr(provider, column)) for column in TEXT_COLUMNS}
        row["slug"] = provider.slug
        row["is_vlop"] = "yes" if provider.is_vlop else "no"
        row["is_active"] = "yes" if provider.is_active else "no"
        row["coordinator"] = provider.coordinator.slug if provider.coordinator else ""
        row["upstream"] = provider.upstream.slug if provider.upstream else ""
        row["domains"] = " ".join(sorted(d.domain for d in provider.domains.all()))
        writer.writerow([neutralise(row[column]) for column in COLUMNS])
    return out.getvalue()


def exportable_providers() -> Any:
    return Provider.objects.select_related("coordinator", "upstream").prefetch_related("domains").order_by("slug")


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    provider: Provider | None = None


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if len(data) > MAX_BYTES:
        raise ProviderImportError([_("The file is larger than 5 MB.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProviderImportError([_("The file is not UTF-8 text; save it as \"CSV UTF-8\".")]) from exc


def _read(text: str) -> tuple[list[str], list[_Row]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ProviderImportError([_("The file is empty.")]) from None
    except csv.Error as exc:
        raise ProviderImportError([_("Line 1: %(message)s") % {"message": exc}]) from exc
    unknown = [h for h in header if h not in COLUMNS]
    errors = []
    if unknown:
        errors.append(_("Line 1: unknown columns: %(columns)s (known: %(known)s).")
                      % {"columns": ", ".join(unknown), "known": ", ".join(COLUMNS)})
    if "slug" not in header or "name" not in header:
        errors.append(_("Line 1: the columns slug and name are required."))
    if len(set(header)) != len(header):
        errors.append(_("Line 1: a column appears twice."))
    if errors:
        raise ProviderImportError(errors)
    rows = []
    start = reader.line_num + 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                errors.append(_("Line %(line)s: %(found)s cells where the header has %(expected)s.")
                              % {"line": line, "found": len(cells), "expected": len(header)})
                continue
            rows.append(_Row(line, {h: restore(c).strip() for h, c in zip(header, cells, strict=True)}))
    except csv.Error as exc:
        errors.append(_("Line %(line)s: %(message)s") % {"line": reader.line_num, "message": exc})
    if errors:
        raise ProviderImportError(errors)
    return header, rows


def _boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(_("Use yes or no."))


def _messages(exc: ValidationError) -> list[tuple[str, str]]:
    if hasattr(exc, "error_dict"):
        return [(name, str(message)) for name, errors in exc.error_dict.items()
                for error in errors for message in error.messages]
    return [("", str(message)) for message in exc.messages]


def import_providers_csv(*, data: bytes | str, actor: Actor) -> ImportSummary:
    """Create or update providers (matched by slug) and their domains from CSV; all rows or none.

    Raises ``ProviderImportError`` with every problem found, each with its line number.
    """
    header, rows = _read(_decode(data))
    errors: list[str] = []

    def error(row: _Row, column: str, message: str) -> None:
        if column and column != "__all__":
            errors.append(_("Line %(line)s, %(column)s: %(message)s")
                          % {"line": row.line, "column": column, "message": message})
        else:
            errors.append(_("Line %(line)s: %(message)s") % {"line": row.line, "message": message})

    slugs: dict[str, int] = {}
    domains: dict[str, int] = {}
    for row in rows:
        slug = row.values["slug"]
        if slug in slugs:
            error(row, "slug", _("%(slug)s already appears on line %(line)s.") % {"slug": slug, "line": slugs[slug]})
        slugs.setdefault(slug, row.line)
        for text in _DOMAIN_SPLIT.split(row.values.get("domains", "")):
            if not text:
                continue
            try:
                name = normalize_domain(text)
            except DomainError as exc:
                error(row, "domains", f"{text}: {exc}")
                continue
            if domains.get(name, row.line) != row.line:
                error(row, "domains", _("%(domain)s already appears on line %(line)s.")
                      % {"domain": name, "line": domains[name]})
            domains.setdefault(name, row.line)
    if errors:
        raise ProviderImportError(errors)

    coordinators = {c.slug: c for c in DigitalServicesCoordinator.objects.all()}
    summary = ImportSummary()
    with transaction.atomic():
        existing = {p.slug: p for p in Provider.objects.select_for_update().filter(slug__in=slugs)}
        pending = list(rows)
        # Save providers whose upstream exists already first; an upstream named further down the file waits.
        while pending:
            waiting = []
            for row in pending:
                upstream_slug = row.values.get("upstream", "")
                if upstream_slug and upstream_slug in slugs and upstream_slug not in existing:
                    waiting.append(row)
                    continue
                _save_row(row, header, existing, coordinators, actor, summary, error)
            if len(waiting) == len(pending):
                for row in waiting:
                    error(row, "upstream", _("Provider %(slug)s could not be saved before this row (a loop, or an "
                                             "error on its own row).") % {"slug": row.values["upstream"]})
                break
            pending = waiting
        if errors:
            transaction.set_rollback(True)
            raise ProviderImportError(errors)
    return summary


def _save_row(row: _Row, header: list[str], existing: dict[str, Provider],
              coordinators: dict[str, DigitalServicesCoordinator], actor: Actor, summary: ImportSummary,
              error: Any) -> None:
    values = row.values
    slug = values["slug"]
    provider = existing.get(slug)
    created = provider is None
    if provider is None:
        provider = Provider(slug=slug)
    problems = 0
    for column in TEXT_COLUMNS:
        if column in header:
            setattr(provider, column, values[column])
    if "language" in header and not values["language"]:
        provider.language = Provider._meta.get_field("language").get_default()
    if "country" in header:
        provider.country = values["country"].upper()
    for column in BOOLEAN_COLUMNS:
        if column in header:
            try:
                setattr(provider, column, _boolean(values[column]))
            except ValueError as exc:
                error(row, column, str(exc))
                problems += 1
    if "coordinator" in header:
        coordinator_slug = values["coordinator"]
        if coordinator_slug and coordinator_slug not in coordinators:
            error(row, "coordinator", _("No coordinator with slug %(slug)s.") % {"slug": coordinator_slug})
            problems += 1
        provider.coordinator = coordinators.get(coordinator_slug)
    if "upstream" in header:
        upstream_slug = values["upstream"]
        upstream = existing.get(upstream_slug) if upstream_slug else None
        if upstream_slug and upstream is None:
            upstream = Provider.objects.filter(slug=upstream_slug).first()
            if upstream is None:
                error(row, "upstream", _("No provider with slug %(slug)s.") % {"slug": upstream_slug})
                problems += 1
        provider.upstream = upstream
    if problems:
        return
    try:
        with transaction.atomic():
            services.save_provider(provider=provider, actor=actor)
            if "domains" in header:
                services.set_provider_domains(
                    provider=provider, domains=[d for d in _DOMAIN_SPLIT.split(values["domains"]) if d], actor=actor)
    except ValidationError as exc:
        for column, message in _messages(exc):
            error(row, column, message)
        if created:
            provider.pk = None
        return
    existing[slug] = provider
    (summary.created if created else summary.changed).append(slug)
