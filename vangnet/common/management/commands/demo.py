"""``vangnet demo``: demo organisations, staff logins, a partner API token and sample reports."""

from __future__ import annotations

import io
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from vangnet.accounts.choices import Role
from vangnet.accounts.models import ApiToken, Membership, Organisation
from vangnet.accounts import services
from vangnet.accounts.services import hash_token
from vangnet.audit.services import Actor
from vangnet.directory import services as directory_services
from vangnet.directory.models import DigitalServicesCoordinator, Provider
from vangnet.intake.choices import Channel
from vangnet.intake.forms import ReportForm
from vangnet.intake.models import Report
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence
from vangnet.intake.services import submit_report

DEMO_PASSWORD = "vangnet-demo-2026"
STAFF = [
    ("supervisor", "vangnet-helpline", Role.SUPERVISOR),
    ("caseowner", "vangnet-helpline", Role.CASE_OWNER),
    ("handler", "vangnet-helpline", Role.HANDLER),
    ("partnerstaff", "partner-org", Role.SUPERVISOR),
    ("moderator", "demo-platform", Role.MODERATOR),
    ("moderator2", "demo-platform", Role.MODERATOR),
    ("policymanager", "demo-platform", Role.POLICY_MANAGER),
    ("analyst", "demo-platform", Role.ANALYST),
]
# Made-up posts on the demo platform, checked through the moderation engine so its queues have work.
DEMO_POSTS = [
    ("post-1", "u-101", "Wat een mooie foto van jullie vakantie, geniet ervan!"),
    ("post-2", "u-102", "Vrouwen horen niet in de politiek, ze moeten gewoon hun mond houden."),
    ("post-3", "u-103", "I know where you live and I will hurt you tonight."),
    ("post-4", "u-102", "Ze woont op de Voorbeeldstraat 12 in Voorbeeldstad, ga maar langs."),
    ("post-5", "u-104", "Thanks for sharing, this recipe looks great."),
    ("post-6", "u-105", "Stuur me een naaktfoto of ik vertel iedereen wat je gedaan hebt."),
    ("post-7", "u-102", "Feministen zijn allemaal gestoord en zouden opgesloten moeten worden."),
]
SAMPLE_REPORTS = [
    {"immediate_danger": "no", "reporter_role": "victim", "forms": ["non-consensual-intimate-images"],
     "description": "Mijn ex heeft een naaktfoto van mij in een groepsapp en op een website gezet.",
     "urls": "https://example-porn.invalid/v/12345", "platform": "WhatsApp", "age_band": "18_plus",
     "relationship": "ex_partner", "perpetrator_count": "one", "duration": "weeks", "contact_preference": "none",
     "consent_processing": True, "share_with": "helpwanted"},
    {"immediate_danger": "yes", "reporter_role": "victim", "forms": ["threats", "doxing"],
     "description": "Someone posted my home address and says he will come tonight.",
     "urls": "https://social.invalid/post/987", "age_band": "18_plus", "relationship": "ex_partner",
     "contact_preference": "none", "consent_processing": True, "share_with": "veilig-thuis"},
    {"immediate_danger": "no", "reporter_role": "parent", "forms": ["sextortion"],
     "description": "Mijn dochter wordt afgeperst met foto's.", "age_band": "12_15", "relationship": "stranger",
     "contact_preference": "none", "consent_processing": True, "share_with": ""},
    {"immediate_danger": "no", "reporter_role": "bystander", "forms": ["misogynist-hate-speech"],
     "urls": "https://social.invalid/thread/55", "age_band": "unknown", "contact_preference": "none",
     "consent_processing": True},
]

# Made-up providers for the sample reports' websites: reserved example names only (.invalid sites,
# example.org addresses), never a real company's contact. Upstream first: the others name it.
DEMO_PROVIDERS: list[dict[str, Any]] = [
    {"slug": "demo-hosting", "name": "Demo Hosting (example)", "domains": ["hosting.invalid"],
     "contact_email": "abuse@hosting.example.org", "country": "NL", "language": "nl", "coordinator": "acm",
     "notes": "Demo data: a hosting company that hosts the demo video site."},
    {"slug": "demo-social", "name": "Demo Social (example)", "domains": ["social.invalid"],
     "contact_email": "dsa-notices@social.example.org", "country": "NL", "language": "nl", "coordinator": "acm",
     "is_vlop": True, "notes": "Demo data: a social network taking notices by e-mail."},
    {"slug": "demo-video", "name": "Demo Video (example)", "domains": ["example-porn.invalid"],
     "webform_url": "https://example-porn.invalid/dsa-notice", "country": "US", "language": "en",
     "legal_representative": "Demo Representative (example), Voorbeeldstraat 1, 1234 AB Voorbeeldstad",
     "upstream": "demo-hosting", "notes": "Demo data: takes notices only through its web form."},
]


def _screenshot(text: str) -> bytes:
    """A made-up screenshot (drawn here, so the demo ships no real person's picture)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (360, 160), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 359, 28), fill=(59, 89, 152))
    draw.text((10, 8), "social.invalid", fill="white")
    draw.text((10, 50), text, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# Per sample report (by position): evidence she added. The third is about a minor and sextortion:
# its image is hashed and discarded, which the case page then explains.
SAMPLE_EVIDENCE = {
    1: [("screenshot-post.png", lambda: _screenshot("I know where you live. Tonight.")),
        ("chat.txt", lambda: "[21:14] X: ik weet waar je woont\n[21:15] X: vanavond\n".encode())],
    2: [("screenshot.png", lambda: _screenshot("Pay or everyone sees the photos."))],
}


class Command(BaseCommand):
    help = "Load demo staff, a partner API token and sample reports (safe to run again)."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        actor = Actor.system("vangnet demo")
        helpline = Organisation.objects.filter(slug="vangnet-helpline").first() or services.save_organisation(
            organisation=Organisation(slug="vangnet-helpline", name="Vangnet meldpunt"), actor=actor)
        if not Organisation.objects.filter(receives_web_reports=True).exists():
            helpline.receives_web_reports = True
            services.save_organisation(organisation=helpline, actor=actor)
        partner = Organisation.objects.filter(slug="partner-org").first() or services.save_organisation(
            organisation=Organisation(slug="partner-org", name="Demo partner"), actor=actor)
        platform = Organisation.objects.filter(slug="demo-platform").first() or services.save_organisation(
            organisation=Organisation(slug="demo-platform", name="Demo platform (Praatplein)", is_platform=True,
                                      handles_reports=False), actor=actor)
        orgs = {helpline.slug: helpline, partner.slug: partner, platform.slug: platform}
        User = get_user_model()
        for username, org_slug, role in STAFF:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(username=username, password=DEMO_PASSWORD,
                                                is_staff=(role == Role.SUPERVISOR and org_slug == "vangnet-helpline"))
            if not Membership.objects.filter(user=user, organisation=orgs[org_slug]).exists():
                services.set_membership(user=user, organisation=orgs[org_slug], role=role, actor=actor)
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser(username="admin", password=DEMO_PASSWORD, email="")

        wanted = os.environ.get("VANGNET_DEMO_API_TOKEN", "")
        token_note = "(existing token kept)"
        if wanted:
            if not ApiToken.objects.filter(token_hash=hash_token(wanted)).exists():
                for old in ApiToken.objects.filter(organisation=partner, name="demo", revoked_at__isnull=True):
                    services.revoke_api_token(token=old, actor=actor)
                services.create_api_token(organisation=partner, name="demo", actor=actor, token=wanted)
            token_note = wanted
            if len(wanted) < 24:
                self.stderr.write("Warning: VANGNET_DEMO_API_TOKEN is short; use a long random token outside demos.")
        elif not ApiToken.objects.filter(organisation=partner, name="demo", revoked_at__isnull=True).exists():
            _token, token_note = services.create_api_token(organisation=partner, name="demo", actor=actor)

        for spec in DEMO_PROVIDERS:
            if Provider.objects.filter(slug=spec["slug"]).exists():
                continue
            fields = {k: v for k, v in spec.items() if k not in {"domains", "coordinator", "upstream"}}
            provider = Provider(**fields,
                                coordinator=DigitalServicesCoordinator.objects.filter(slug=spec.get("coordinator", ""))
                                .first(),
                                upstream=Provider.objects.filter(slug=spec.get("upstream", "")).first())
            directory_services.save_provider(provider=provider, actor=actor)
            for domain in spec["domains"]:
                directory_services.add_provider_domain(provider=provider, domain=domain, actor=actor)

        if not Report.objects.exists():
            for number, sample in enumerate(SAMPLE_REPORTS):
                form = ReportForm(data=sample)
                if not form.is_valid():
                    raise RuntimeError(f"demo report invalid: {form.errors.as_json()}")
                report = submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.WEB,
                                       actor=Actor.reporter()).report
                for name, data in SAMPLE_EVIDENCE.get(number, []):
                    add_evidence(case=report.case, report=report, data=data(), actor=Actor.reporter(),
                                 source=Source.REPORTER, original_name=name)

        platform_key = self._moderation(platform, actor)

        self.stdout.write("Demo logins (password for all: %s)" % DEMO_PASSWORD)
        for username, org_slug, role in STAFF:
            self.stdout.write(f"  {username:<13} {role:<11} at {org_slug}")
        self.stdout.write(f"  {'admin':<13} superuser   (admin site /admin/)")
        self.stdout.write(f"Partner API token for {partner.slug}: {token_note}")
        self.stdout.write(f"Platform key for {platform.slug} (moderation API): {platform_key}")

    def _moderation(self, platform: Organisation, actor: Actor) -> str:
        """A key, a policy and a few checked posts for the demo platform; the key is shown once."""
        from vangnet.moderation import checking, keys
        from vangnet.moderation.choices import Action
        from vangnet.moderation.models import Item, PlatformKey, Policy
        from vangnet.moderation.policy import save_policy

        key_note = "(existing key kept)"
        if not PlatformKey.objects.filter(organisation=platform, revoked_at__isnull=True).exists():
            _row, key_note = keys.create_key(organisation=platform, name="demo", scopes=["check", "notices", "appeals"],
                                             actor=actor)
        if not Policy.objects.filter(organisation=platform).exists():
            policy = Policy(organisation=platform, terms_url="https://platform.example.org/terms",
                            dispute_body="Demo geschillencommissie (example)", authority_name="Politie (demo)",
                            authority_email="meldingen@politie.example.org")
            save_policy(policy=policy, actor=actor, rules=[
                {"label": "threat", "review_threshold": 0.4, "terms_clause": "Art. 3.1: no threats"},
                {"label": "doxing", "review_threshold": 0.5, "action_threshold": 0.95, "action": Action.DISABLE,
                 "strike_weight": 2, "terms_clause": "Art. 3.2: no personal data of others"},
            ])
        if not Item.objects.filter(organisation=platform).exists():
            checking.check_items(organisation=platform, actor=actor, items=[
                checking.ItemIn(external_id=ident, text=text, author_id=author) for ident, author, text in DEMO_POSTS])
        return key_note
