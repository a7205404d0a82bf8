"""Staff page: how providers respond to notices (``notices.performance``), as a table and a chart.

The chart is drawn by matplotlib on the server as an SVG and shown as an ``<img>`` from a
``data:`` address: it needs no JavaScript, the Content-Security-Policy already allows
``data:`` images, and an SVG shown as an image runs no script and loads nothing. The table
holds the same figures and is the accessible version; the chart has a text alternative.
"""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import ngettext

from vangnet.common.forms import UnicodeSafeForm

from . import performance
from .performance import ProviderPerformance

# Providers in the chart, most notices first; the table lists them all.
CHART_PROVIDERS = 12
CHART_LABEL_CHARS = 36
MEDIAN_COLOUR, P90_COLOUR, INK = "#3e0f4b", "#a77bb5", "#1b1b1b"  # contrast >= 3:1 to white and to each other


class PeriodForm(UnicodeSafeForm):
    period = forms.ChoiceField(label=gettext_lazy("Notices sent in"), choices=[
        ("30", gettext_lazy("the last 30 days")),
        ("90", gettext_lazy("the last 90 days")),
        ("365", gettext_lazy("the last 365 days")),
        ("all", gettext_lazy("all time")),
    ])


def duration_text(value: timedelta | None) -> str:
    """A time to action in words: minutes under an hour, hours under two days, else days."""
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 3600:
        minutes = round(seconds / 60)
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    if seconds < 48 * 3600:
        hours = round(seconds / 3600)
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return _("%(days)s days") % {"days": number_format(seconds / 86400, decimal_pos=1)}


def percent_text(value: float | None) -> str:
    return "—" if value is None else _("%(percent)s%%") % {"percent": number_format(100 * value, decimal_pos=0)}


def _chart_label(name: str) -> str:
    """A provider's name for an axis: shortened, and never read as matplotlib's maths (``$...$``)."""
    if len(name) > CHART_LABEL_CHARS:
        name = name[:CHART_LABEL_CHARS - 1].rstrip() + "…"
    return name.replace("$", r"\$")


def chart_svg(rows: list[ProviderPerformance]) -> tuple[str, str] | None:
    """The chart of median and 90th-percentile time to action, as SVG text, with its text alternative.

    None when no provider acted on a notice in the period (nothing to draw).
    """
    shown = [row for row in rows if row.median is not None and row.p90 is not None][:CHART_PROVIDERS]
    if not shown:
        return None
    import matplotlib

    matplotlib.use("Agg")  # never a GUI backend; the figure is drawn without pyplot's global state
    from matplotlib.figure import Figure

    in_days = max(row.p90.total_seconds() for row in shown if row.p90) >= 48 * 3600
    unit = 86400 if in_days else 3600
    medians = [row.median.total_seconds() / unit for row in shown if row.median]
    p90s = [row.p90.total_seconds() / unit for row in shown if row.p90]
    positions = list(range(len(shown)))

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "vangnet", "font.size": 10,
                                "font.family": "sans-serif", "text.color": INK, "axes.labelcolor": INK,
                                "xtick.color": INK, "ytick.color": INK, "axes.edgecolor": INK}):
        # Narrow enough to stay legible on a 320 px phone; the names stand above their bars.
        figure = Figure(figsize=(3.4, 0.9 + 0.55 * len(shown)), layout="constrained")
        axes = figure.add_subplot()
        axes.barh(positions, p90s, height=0.5, color=P90_COLOUR, label=_("90th percentile"))
        axes.barh(positions, medians, height=0.26, color=MEDIAN_COLOUR, label=_("Median"))
        for position, row in zip(positions, shown, strict=True):
            axes.text(0, position - 0.3, _chart_label(row.name), va="bottom", ha="left")
        axes.set_yticks([])
        axes.set_ylim(len(shown) - 0.5, -0.9)  # top to bottom, room for the first name
        axes.set_xlabel(_("Time to action (days)") if in_days else _("Time to action (hours)"))
        axes.set_xlim(left=0)
        axes.spines[["top", "right"]].set_visible(False)
        figure.legend(loc="outside upper center", ncols=2, frameon=False)
        out = io.StringIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
    alternative = ngettext(
        "Bar chart of the time %(count)d provider took to act on notices: the median and the 90th percentile, "
        "in %(unit)s. The table on this page gives the same figures.",
        "Bar chart of the time %(count)d providers took to act on notices: the median and the 90th percentile, "
        "in %(unit)s. The table on this page gives the same figures.", len(shown)) % {
        "count": len(shown), "unit": _("days") if in_days else _("hours")}
    return out.getvalue(), alternative


def _data_address(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")


@login_required
def providers(request: HttpRequest) -> HttpResponse:
    """Per provider: notices sent, median and p90 time to action, removal rate, open past deadline."""
    if not performance.may_view(request.user):
        raise PermissionDenied  # neither case staff nor an analyst anywhere
    form = PeriodForm(request.GET if "period" in request.GET else {"period": performance.DEFAULT_PERIOD})
    period = form.cleaned_data["period"] if form.is_valid() else performance.DEFAULT_PERIOD
    rows = performance.provider_performance(request.user, period=period)
    chart = chart_svg(rows)
    context: dict[str, Any] = {
        "form": form,
        "period": period,
        "rows": [{"figures": row, "median": duration_text(row.median), "p90": duration_text(row.p90),
                  "removal_rate": percent_text(row.removal_rate)} for row in rows],
        "totals": performance.totals(rows),
        "chart_src": _data_address(chart[0]) if chart else "",
        "chart_alt": chart[1] if chart else "",
        "chart_providers": CHART_PROVIDERS,
    }
    return render(request, "notices/performance.html", context)
