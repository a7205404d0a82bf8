"""The demo's providers serve the sample reports' websites, on example names only."""

from io import StringIO

import pytest
from django.core.management import call_command

from vangnet.common.management.commands.demo import DEMO_PROVIDERS, SAMPLE_REPORTS
from vangnet.directory.models import Provider
from vangnet.directory.selectors import provider_for_url

pytestmark = pytest.mark.django_db


def test_demo_providers_resolve_the_sample_urls(monkeypatch) -> None:
    monkeypatch.setenv("VANGNET_DEMO_API_TOKEN", "demo-token-for-the-test-0123456789")
    call_command("demo", stdout=StringIO())
    call_command("demo", stdout=StringIO())  # again: nothing doubles
    assert Provider.objects.count() == len(DEMO_PROVIDERS)
    urls = [sample["urls"] for sample in SAMPLE_REPORTS if sample.get("urls")]
    assert all(provider_for_url(url) is not None for url in urls)
    video = provider_for_url("https://example-porn.invalid/v/12345")
    assert video.slug == "demo-video" and video.channels == ["webform"] and video.upstream.slug == "demo-hosting"
    social = provider_for_url("https://social.invalid/post/987")
    assert social.channels == ["email"] and social.coordinator.slug == "acm"
    for provider in Provider.objects.all():
        assert not provider.contact_email or provider.contact_email.endswith("example.org")
        assert all(d.endswith(".invalid") for d in provider.domains.values_list("domain", flat=True))
