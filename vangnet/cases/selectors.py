"""Reads of cases, always scoped to what the staff member may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.http import Http404

from vangnet.accounts.access import roles_granting
from vangnet.accounts.choices import Permission
from vangnet.accounts.models import Membership
from vangnet.accounts.selectors import permissions_for_user
from vangnet.audit.models import Event
from vangnet.audit.selectors import events_for_case
from vangnet.common.refcache import cached

from vangnet.intake.models import Report, ReportedUrl

from vangnet.notices.choices import NoticeStatus
from vangnet.notices.models import Notice

from .choices import OPEN_STATUSES, CaseStatus
from .models import Case, InternalNote, Referral, TriageOutcome, TriageRule


def visible_cases(*, user: User | AnonymousUser, permission: str = Permission.VIEW_CASES) -> QuerySet[Case]:
    """Cases of the organisations where ``user`` holds ``permission``; nothing else, ever.

    The rule is ``accounts.access``: it checks the permission, not only the membership, so
    an analyst sees no case, and a superuser only those of her own organisations.
    """
    return Case.objects.restrict(user, permission)


@dataclass(frozen=True)
class QueueFilters:
    status: str = "open"
    priority: int | None = None
    owner: str = ""  # "me", "none" or ""
    form: str = ""
    query: str = ""


def case_queue(*, user: User, filters: QueueFilters) -> QuerySet[Case]:
    """The work queue: most urgent first, then longest waiting."""
    cases = visible_cases(user=user).filter(merged_into__isnull=True)
    if filters.status == "open":
        cases = cases.filter(status__in=OPEN_STATUSES)
    elif filters.status:
        cases = cases.filter(status=filters.status)
    if filters.priority is not None:
        cases = cases.filter(priority=filters.priority)
    if filters.owner == "me":
        cases = cases.filter(owner=user)
    elif filters.owner == "none":
        cases = cases.filter(owner__isnull=True)
    # Filters on reports go through subqueries: a join would leave only the matching reports
    # for report_count to count (a case of three reports found by one receipt code showed 1).
    if filters.form:
        cases = cases.filter(pk__in=Case.objects.filter(reports__forms__slug=filters.form).values("pk"))
    if filters.query:
        query = filters.query.strip()
        cases = cases.filter(Q(reference__iexact=query) |
                             Q(pk__in=Case.objects.filter(reports__receipt_code__iexact=query).values("pk")))
    overdue = Notice.objects.filter(case=OuterRef("pk"), status__in=[NoticeStatus.SENT, NoticeStatus.ANSWERED],
                                    outcome="", deadline_at__lt=timezone.now())
    return (cases.select_related("owner", "organisation").annotate(report_count=Count("reports"),
                                                                   notice_overdue=Exists(overdue))
            .order_by("priority", "created_at"))


def get_case_for_user(*, user: User | AnonymousUser, case_id: int) -> Case:
    """The case if ``user`` may see it; 404 otherwise, so other organisations' cases stay invisible."""
    case = visible_cases(user=user).select_related("owner", "organisation", "merged_into").filter(pk=case_id).first()
    if case is None:
        raise Http404("No such case.")
    return case


def find_case_by_reference(*, user: User | AnonymousUser, reference: str) -> Case | None:
    """A case she may see, by its reference (any letter case); ``None`` when there is none for her."""
    return visible_cases(user=user).filter(reference__iexact=reference.strip()).first()


def case_reports(*, user: User | AnonymousUser, case: Case) -> QuerySet[Report]:
    """The reports of a case, as staff read them on the case page."""
    return Report.objects.restrict(user, Permission.VIEW_CASES).filter(case=case)


def get_report_of_case(*, user: User | AnonymousUser, case: Case, report_id: int | str) -> Report | None:
    """One report of this case that she may see; ``None`` for any other id."""
    if not str(report_id).isdigit():
        return None
    return case_reports(user=user, case=case).filter(pk=int(report_id)).first()


@dataclass(frozen=True)
class CaseFile:
    """Everything the case page shows of one case, each part scoped by ``restrict``."""

    reports: QuerySet[Report]
    outcomes: QuerySet[TriageOutcome]
    notes: QuerySet[InternalNote]
    referrals: QuerySet[Referral]
    timeline: QuerySet[Event]


def case_file(*, user: User | AnonymousUser, case: Case) -> CaseFile:
    """The parts of a case file for its page; ``case`` comes from ``get_case_for_user``."""
    return CaseFile(
        reports=(case_reports(user=user, case=case).prefetch_related("forms", "urls", "additions", "messages")
                 .select_related("consent_share_with")),
        outcomes=(TriageOutcome.objects.restrict(user, Permission.VIEW_CASES).filter(case=case)
                  .prefetch_related("suggested_referrals").select_related("report")),
        notes=InternalNote.objects.restrict(user, Permission.VIEW_CASES).filter(case=case).select_related("author"),
        referrals=(Referral.objects.restrict(user, Permission.VIEW_CASES).filter(case=case)
                   .select_related("organisation")),
        timeline=case_timeline(case=case),
    )


def case_timeline(*, case: Case) -> QuerySet[Event]:
    """Every event of this case and of cases merged into it."""
    merged_ids = list(case.merged_cases.values_list("pk", flat=True))
    return events_for_case(case_ids=[case.pk, *merged_ids])


def possible_owners(*, user: User | AnonymousUser, case: Case) -> QuerySet[Membership]:
    """Who could own this case: active staff of its organisation who work on cases.

    Empty unless ``user`` may see the case, so the list of colleagues is scoped like the case.
    """
    roles = sorted(roles_granting(Permission.WORK_CASES))
    seen = visible_cases(user=user).filter(pk=case.pk).values("organisation_id")
    return (Membership.objects.filter(organisation_id__in=seen, role__in=roles, user__is_active=True)
            .select_related("user").order_by("user__username"))


def may_manage_legal_hold(*, user: User | AnonymousUser, case: Case) -> bool:
    """The case owner, while she still works on cases here, or whoever may assign case owners (supervisor, admin)."""
    if not user.is_authenticated:
        return False
    permissions = permissions_for_user(user=user, organisation_id=case.organisation_id)
    owner = case.owner_id is not None and case.owner_id == user.pk
    return (owner and Permission.WORK_CASES in permissions) or Permission.ASSIGN in permissions


def concerns_adult_sexual_imagery(*, case: Case) -> bool:
    """A case about sexual imagery of an adult: some report names a form of violence with sexual imagery,
    and none is about a minor. Only such a case may ask the victim's consent for the shared NCII bank;
    a minor's material goes the child-abuse hotline's way, never into a bank platforms read.
    """
    from vangnet.evidence.services import concerns_minor_sexual_imagery

    return (case.reports.filter(forms__involves_sexual_imagery=True).exists()
            and not concerns_minor_sexual_imagery(case))


def may_manage_ncii_consent(*, user: User | AnonymousUser, case: Case) -> bool:
    """Who records or withdraws the victim's consent to the NCII bank: the same people as for a legal hold."""
    return may_manage_legal_hold(user=user, case=case)


def cases_past_retention(*, closed_before: datetime) -> QuerySet[Case]:
    """Closed cases whose texts have not been erased yet, closed before the cut-off, not on legal hold.

    A read for the retention job, not for staff, so it is not restricted to a user.
    """
    return Case.objects.filter(status=CaseStatus.CLOSED, closed_at__lt=closed_before, texts_erased_at__isnull=True,
                               legal_hold_set_at__isnull=True)


def lock_case_for_retention(*, case_id: int) -> Case | None:
    """The case, locked until the transaction ends, if it is closed and not on legal hold; else None.

    For retention jobs, before they delete anything of a case. A legal hold set at the same
    moment either commits first (then the case is not returned: PostgreSQL re-reads the row)
    or waits for the job. A case another run (or a staff member) holds locked is passed over
    on PostgreSQL (``skip_locked``) and handled the next day; SQLite runs one writer at a time.
    """
    cases = Case.objects.filter(pk=case_id, status=CaseStatus.CLOSED, closed_at__isnull=False,
                                legal_hold_set_at__isnull=True)
    return cases.select_for_update(skip_locked=connection.features.has_select_for_update_skip_locked).first()


RULES_KEY = "cases:active-triage-rules"


@dataclass(frozen=True)
class ActiveRule:
    rule: TriageRule
    referral_ids: tuple[int, ...]


def active_rules() -> list[ActiveRule]:
    """The active triage rules with their suggested referrals (cached per process, see common.refcache)."""
    return cached(RULES_KEY, lambda: [
        ActiveRule(rule, tuple(o.pk for o in rule.suggest_referrals.all()))
        for rule in TriageRule.objects.filter(is_active=True).prefetch_related("suggest_referrals")])


def find_open_case_for_urls(*, organisation_id: int, url_hashes: list[str], lock: bool = False) -> Case | None:
    """The oldest open case of this organisation that already holds one of these URLs.

    A read for filing a new report (no staff member is asking, so nothing to restrict); with
    ``lock`` the case row stays locked until the filing commits. Written in SQL because the
    ORM spent more CPU building this three-table query than the database spent running it
    (py-spy on bench/report_submission.py); ``test_selectors`` pins what it finds.
    """
    if not url_hashes:
        return None
    quote = connection.ops.quote_name
    reports, urls = Report._meta.db_table, ReportedUrl._meta.db_table
    hashes = ", ".join(["%s"] * len(url_hashes))
    statuses = ", ".join(["%s"] * len(OPEN_STATUSES))
    lock_sql = " FOR UPDATE OF c" if lock and connection.features.has_select_for_update_of else ""
    sql = (f"SELECT c.* FROM {quote(Case._meta.db_table)} c WHERE c.organisation_id = %s "
           f"AND c.status IN ({statuses}) AND c.merged_into_id IS NULL AND EXISTS ("
           f"SELECT 1 FROM {quote(reports)} r JOIN {quote(urls)} u ON u.report_id = r.id "
           f"WHERE r.case_id = c.id AND r.withdrawn_at IS NULL AND u.normalized_hash IN ({hashes})) "
           f"ORDER BY c.created_at, c.id LIMIT 1{lock_sql}")
    found = list(Case.objects.raw(sql, [organisation_id, *sorted(OPEN_STATUSES), *url_hashes]))
    return found[0] if found else None
