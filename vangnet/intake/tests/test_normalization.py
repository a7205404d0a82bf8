import pytest
from hypothesis import given
from hypothesis import strategies as st

from vangnet.intake.normalization import UrlError, check_url


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://www.Example.com/a/b/", "https://example.com/a/b"),
    ("http://example.com:80/x?b=2&a=1#frag", "https://example.com/x?a=1&b=2"),
    ("example.com/photo?utm_source=share&fbclid=abc&id=7", "https://example.com/photo?id=7"),
    ("https://m.facebook.com/story.php?id=1&igshid=x", "https://facebook.com/story.php?id=1"),
    ("https://bücher.example/pad", "https://xn--bcher-kva.example/pad"),
    ("https://example.com:8443/x", "https://example.com:8443/x"),
    ("https://example.com", "https://example.com/"),
])
def test_urls_are_normalised(raw: str, expected: str) -> None:
    assert check_url(raw).normalized == expected


@pytest.mark.parametrize("raw", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>", "ftp://example.com/file",
    "https://user:pw@example.com/", "https://user@example.com/", "https://exa mple.com/", "",
    "https://localhost/", "https://-bad-.com/", "https://example.com:99999/", "file:///etc/passwd",
    "https://" + "a" * 2100 + ".com/",
])
def test_dangerous_or_broken_urls_are_refused(raw: str) -> None:
    with pytest.raises(UrlError):
        check_url(raw)


def test_the_same_content_meets_whatever_the_spelling() -> None:
    spellings = ["https://www.instagram.com/p/ABC/?igshid=1", "instagram.com/p/ABC", "http://m.instagram.com/p/ABC/"]
    assert len({check_url(s).digest for s in spellings}) == 1


@given(st.text(max_size=300))
def test_any_text_either_normalises_to_https_or_is_refused(text: str) -> None:
    try:
        checked = check_url(text)
    except UrlError:
        return
    assert checked.normalized.startswith("https://")
    assert "@" not in checked.normalized.split("/")[2]
    assert check_url(checked.normalized).normalized == checked.normalized  # idempotent
