"""Site-wide pages: error pages in the address's language with the quick exit, favicon, language switch."""

import pytest
from django.test import Client
from django.urls import path

from vangnet.config import urls as root_urls

pytestmark = pytest.mark.django_db


def _boom(request):  # a view that fails, to see the 500 page
    raise RuntimeError("boom")


urlpatterns = [*root_urls.urlpatterns, path("boom/", _boom)]
handler500 = root_urls.handler500


@pytest.mark.parametrize(("lang", "heading"), [("nl", "We kunnen deze pagina niet vinden"),
                                               ("en", "We cannot find this page")])
def test_404_is_vangnets_page_in_the_language_of_the_address(client, lang, heading) -> None:
    response = client.get(f"/{lang}/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert f'lang="{lang}"' in page and heading in page
    assert "data-quick-exit" in page and 'href="tel:112"' in page


def test_500_is_vangnets_page_with_the_quick_exit(settings) -> None:
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and "data-quick-exit" in page
    assert 'data-target="' + settings.VANGNET_QUICK_EXIT_URL in page, "the quick exit leaves for the neutral site"
    assert "RuntimeError" not in page, "nothing of the failure is shown"


def test_favicon_is_served(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    icon = client.get(response.url)
    assert icon.status_code == 200 and b"".join(icon.streaming_content)[:4] == b"\x00\x00\x01\x00"


def test_language_switch_keeps_the_page(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/nl/followup/"})
    assert response.status_code == 302 and response.url == "/en/followup/"
    back = client.post("/i18n/setlang/", {"language": "nl", "next": "/en/help/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert back.url == "/nl/help/"


def test_language_switch_refuses_other_sites(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "https://evil.example/nl/"})
    assert response.status_code == 302 and "evil.example" not in response.url
