import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from vangnet.intake.normalization import TRACKING_PARAMS, UrlError, check_url


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


# --- What mutation testing showed no test pinned (scripts/mutation) ---------------------------
# Equivalent mutants that survive in check_url / _normalize_host, on purpose:
# - ``ord(ch) < 32`` -> ``<= 32`` / ``< 33``: chr(32) is a space, already refused by isspace().
# - ``parts.username is not None or parts.password is not None or "@" in parts.netloc`` with any
#   one ``or`` turned into ``and``, or "@" -> "XX@XX": urlsplit sets a user name (possibly "")
#   exactly when the netloc holds "@", so the first test alone decides.
# - ``.rstrip(".")`` -> ``.rstrip("XX.XX")``: ``parts.hostname`` is already lower-case.
# - ``encode("idna")`` -> ``encode("IDNA")``, ``decode("ascii")`` -> ``decode("ASCII")``: codec
#   names are case-insensitive.
# - ``quote(..., safe="XX/:@...XX")``: letters are never quoted anyway.
# - ``if len(path) > 1`` -> ``>= 1``: stripping "/" gives "" and that becomes "/" again.


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


LONGEST = "https://example.com/" + "a" * (2000 - len("https://example.com/"))


@pytest.mark.parametrize(("raw", "message"), [
    ("", "The address is empty."),
    ("  \n ", "The address is empty."),
    (LONGEST + "a", "This address is too long."),
    ("https://exa mple.com/", "An address cannot contain spaces."),
    ("https://example.com/a\tb", "An address cannot contain spaces."),
    ("https://example.com/a\x00b", "An address cannot contain spaces."),
    ("https://example.com/a\x1fb", "An address cannot contain spaces."),
    ("https://example.com/a\u00a0b", "An address cannot contain spaces."),
    ("javascript:alert(1)", "Only web addresses (http or https) can be reported."),
    ("JaVaScRiPt:alert(1)", "Only web addresses (http or https) can be reported."),
    ("JAVASCRIPT:alert(1)", "Only web addresses (http or https) can be reported."),
    ("mailto:her@example.com", "Only web addresses (http or https) can be reported."),
    ("data:text/html,<script>", "Only web addresses (http or https) can be reported."),
    ("ftp://example.com/file", "Only web addresses (http or https) can be reported."),
    ("file:///etc/passwd", "Only web addresses (http or https) can be reported."),
    ("https://[::1", "This is not a valid web address."),
    ("https://user:pw@example.com/", "Remove the user name or password from the address."),
    ("https://user@example.com/", "Remove the user name or password from the address."),
    ("https://@example.com/", "Remove the user name or password from the address."),
    ("https:///photo/1", "The address has no website name."),
    ("https://./photo/1", "The address has no website name."),
    ("https://example.com:99999/", "The address has an invalid port number."),
    ("example.com:http/x", "Only web addresses (http or https) can be reported."),
    ("https://example.com:http/x", "The address has an invalid port number."),
    ("https://localhost/", "The website name in the address is not valid."),
    ("localhost:8080/x", "The website name in the address is not valid."),
    ("https://-bad-.com/", "The website name in the address is not valid."),
    ("https://exa_mple.com/", "The website name in the address is not valid."),
    ("https://a..example.com/", "The website name in the address is not valid."),
    ("https://" + "a" * 64 + ".com/", "The website name in the address is not valid."),
    ("https://[v1.x]/", "The website name in the address is not valid."),
])
def test_a_refused_address_tells_the_reporter_why(raw: str, message: str) -> None:
    with pytest.raises(UrlError) as caught:
        check_url(raw)
    assert str(caught.value) == message


def test_the_reporter_reads_the_reason_in_her_language() -> None:
    with translation.override("nl"), pytest.raises(UrlError) as caught:
        check_url("javascript:alert(1)")
    assert str(caught.value) == "Alleen webadressen (http of https) kunnen worden gemeld."


def test_the_length_limit_is_inclusive() -> None:
    assert len(LONGEST) == 2000
    assert check_url(LONGEST).normalized == LONGEST
    assert check_url("  " + LONGEST + "\n").normalized == LONGEST, "surrounding blanks do not count"
    with pytest.raises(UrlError):
        check_url(LONGEST + "a")
    assert check_url("https://example.com/abc", max_length=23).normalized == "https://example.com/abc"
    with pytest.raises(UrlError):
        check_url("https://example.com/abcd", max_length=23)


@pytest.mark.parametrize(("spellings", "normalized"), [
    (["https://example.com/a", "https://example.com:443/a", "http://example.com/a", "http://example.com:80/a",
      "https://example.com:80/a", "example.com:443/a", "example.com/a", "HTTPS://Example.COM/a",
      "https://example.com./a", "https://www.example.com/a/", "https://m.example.com/a#top",
      "https://mobile.example.com/a?igshid=1&si=2&T=3", "example.com/a?utm_source=x&UTM_Medium=y&fbclid=z",
      " https://example.com/a// "], "https://example.com/a"),
    (["https://[2001:db8::1]/a", "http://[2001:DB8:0:0::1]:443/a", "[2001:db8::1]/a",
      "[2001:0db8:0000:0000:0000:0000:0000:0001]:80/a/"], "https://[2001:db8::1]/a"),
    (["https://[::1]/", "https://[0:0:0:0:0:0:0:1]", "[::1]"], "https://[::1]/"),
    (["https://192.0.2.7/x", "192.0.2.7:443/x"], "https://192.0.2.7/x"),
    (["example.com:8443/x", "https://example.com:8443/x/", "http://www.example.com:8443/x"],
     "https://example.com:8443/x"),
    (["[2001:db8::1]:8080/p", "https://[2001:0db8::1]:8080/p/"], "https://[2001:db8::1]:8080/p"),
    (["https://example.com/a?b=&a=1", "https://example.com/a?a=1&b", "https://example.com/a?b&utm_medium=x&a=1"],
     "https://example.com/a?a=1&b="),
    (["https://example.com/caf%C3%A9", "https://example.com/café", "https://example.com/caf%c3%a9"],
     "https://example.com/caf%C3%A9"),
    (["https://example.com", "https://example.com/", "https://example.com//", "https://example.com?",
      "https://example.com/#x", "https://example.com/?fbclid=1"], "https://example.com/"),
    (["https://bücher.example/pad", "https://BÜCHER.example/pad", "https://www.xn--bcher-kva.example/pad"],
     "https://xn--bcher-kva.example/pad"),
])
def test_spellings_of_one_address_meet(spellings: list[str], normalized: str) -> None:
    assert {check_url(s).normalized for s in spellings} == {normalized}


@pytest.mark.parametrize(("one", "other"), [
    ("https://[2001:db8::1]:8080/p", "https://[2001:db8::1:8080]/p"),
    ("https://example.com/a?b=", "https://example.com/a"),
    ("https://example.com/Photo", "https://example.com/photo"),
    ("https://example.com:8443/", "https://example.com/"),
    ("https://example.com/a?x=1", "https://example.com/a?x=2"),
    ("https://example.com/a?x=1&x=2", "https://example.com/a?x=1"),
    ("https://m.example.com/x", "https://m.example.org/x"),
])
def test_different_addresses_stay_apart(one: str, other: str) -> None:
    assert check_url(one).normalized != check_url(other).normalized


def test_a_short_name_keeps_its_www_or_m() -> None:
    assert check_url("https://www.co/").normalized == "https://www.co/"
    assert check_url("https://m.co/x").normalized == "https://m.co/x"
    assert check_url("https://www.m.example.com/").normalized == "https://m.example.com/", "one prefix goes"


def test_the_path_keeps_its_case_and_its_reserved_characters() -> None:
    raw = "https://example.com/p/a:b@c!$&'()*+,;=-._~/X/"
    assert check_url(raw).normalized == "https://example.com/p/a:b@c!$&'()*+,;=-._~/X"
    assert check_url("https://example.com/Photo/XX/").normalized == "https://example.com/Photo/XX"
    assert check_url("https://example.com/a%20b").normalized == "https://example.com/a%20b"
    assert check_url("https://example.com/a b".replace(" ", "%20")).normalized == "https://example.com/a%20b"


def test_the_original_is_kept_as_typed_with_a_scheme_added_when_missing() -> None:
    assert check_url("  Example.com/Photo?utm_source=x ").original == "https://Example.com/Photo?utm_source=x"
    assert check_url("http://WWW.Example.com/A#b").original == "http://WWW.Example.com/A#b"


_LABEL = st.from_regex(r"[a-z][a-z0-9]{0,9}", fullmatch=True)
_SEGMENT = st.from_regex(r"[A-Za-z0-9._~-]{1,8}", fullmatch=True)
_KEY = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(lambda k: k not in TRACKING_PARAMS and k != "utm")
_VALUE = st.from_regex(r"[A-Za-z0-9]{0,5}", fullmatch=True)


@st.composite
def _hosts(draw) -> tuple[str, list[str]]:
    """A host in its normal form and other ways to write it."""
    if draw(st.booleans()):
        address = draw(st.ip_addresses(v=6))
        spellings = [address.compressed, address.exploded, address.exploded.upper()]
        return f"[{address.compressed}]", [f"[{s}]" for s in spellings]
    labels = draw(st.lists(_LABEL, min_size=2, max_size=4).filter(lambda ls: ls[0] not in {"www", "m", "mobile"}))
    host = ".".join(labels)
    return host, [host, host.upper(), "www." + host, "m." + host, host + ".", "mobile." + host.title()]


@given(host=_hosts(), segments=st.lists(_SEGMENT, max_size=4), query=st.lists(st.tuples(_KEY, _VALUE), max_size=4),
       data=st.data())
def test_any_spelling_of_an_address_meets_its_normal_form(host, segments, query, data) -> None:
    normal_host, host_spellings = host
    path = "/" + "/".join(segments)
    canonical = check_url(f"https://{normal_host}{path}?" + "&".join(f"{k}={v}" for k, v in query))
    assert canonical.normalized.startswith(f"https://{normal_host}/")

    spelled_host = data.draw(st.sampled_from(host_spellings))
    scheme = data.draw(st.sampled_from(["https://", "http://", "HTTP://", ""]))
    port = data.draw(st.sampled_from(["", ":443", ":80"]))
    trailing = data.draw(st.sampled_from(["", "/"])) if segments else ""
    pairs = [f"{k}={v}" if v or data.draw(st.booleans()) else k for k, v in data.draw(st.permutations(query))]
    pairs += data.draw(st.lists(st.sampled_from(["utm_source=x", "fbclid=1", "igshid=2", "utm_campaign="]), max_size=2))
    fragment = data.draw(st.sampled_from(["", "#", "#comments"]))
    spelled = f"{scheme}{spelled_host}{port}{path}{trailing}?{'&'.join(pairs)}{fragment}"
    assert check_url(spelled).normalized == canonical.normalized, spelled
