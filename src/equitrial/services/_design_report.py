"""The documents ``equitrial design`` writes: the JSON dict and the self-contained HTML report.

The JSON never holds an infinite or NaN number: an infinite boundary is ``null`` with a
``critical_values_note`` saying why, an infinite margin bound ``null`` (no bound). The HTML
report is plain, well-formed HTML5 rendered with Jinja2 (autoescaped), the figures embedded as
base64 PNG, so the one file can be archived with the protocol.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from equitrial.services._design_sequential import SequentialSummary, StoppingScenario
    from equitrial.services.design import DesignSummary, HypothesisDesign

__all__ = ["design_document", "design_html"]

INFLATION_NOTE = (
    "the group-sequential design needs inflation_factor times the information of the fixed "
    "design for the same power: the fixed-design exact evaluable size per arm times the factor, "
    "rounded up to the allocation, is the evaluable size of the group-sequential trial"
)
INFINITE_NOTE = (
    "null: the spending function spends no alpha at this look, so its boundary is infinite "
    "(the look cannot stop the trial)"
)
STOPPING_NOTE = (
    "per one-sided test of the TOST pair (lower: H0 effect <= lower margin; upper: H0 effect "
    ">= upper margin), normal approximation with the unrestricted variance at the planned "
    "evaluable size; efficacy = P(first crossing of that test's boundary at look k); the "
    "equivalence trial stops only when both tests have crossed, so its expected size is at "
    "least expected_evaluable_lower_bound (Jennison & Turnbull 2000, ch. 6)"
)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _hypothesis_dict(h: HypothesisDesign) -> dict[str, Any]:
    return {
        "endpoint": h.endpoint_id,
        "endpoint_name": h.endpoint_name,
        "kind": h.kind,
        "scale": h.scale,
        "margin": {"lower": _finite(h.margin.lower), "upper": _finite(h.margin.upper)},
        "interval_method": h.method,
        "level": h.level,
        "response_rate": {"test": h.p_test, "reference": h.p_reference},
        "planned_per_arm": {"test": h.n_test, "reference": h.n_reference},
        "exact_power_at_planned": h.power_at_planned,
        "target_power": h.target_power,
        "dropout_fraction_by_timepoint": h.dropout_fraction,
        "normal_approximation": {
            "formula": h.normal.formula,
            "evaluable_per_arm": [h.normal.n1, h.normal.n2],
            "enrolled_per_arm": [h.normal.n1_enrolled, h.normal.n2_enrolled],
        },
        "exact": {
            "smallest_per_arm": [h.exact.n1, h.exact.n2],
            "power": h.exact.power,
            "stable_per_arm": (
                None if h.exact.n1_stable is None else [h.exact.n1_stable, h.exact.n2_stable]
            ),
            "enrolled_per_arm": [h.exact.n1_enrolled, h.exact.n2_enrolled],
        },
        "power_curve": {
            "reference_rate_held_fixed": h.p_reference,
            "true_effect": list(h.curve_planned.effects),
            "power_at_planned": list(h.curve_planned.power),
            "power_at_exact_n": list(h.curve_exact.power),
        },
        "sensitivity_reference_rate": {
            "note": "exact power at the planned size; the assumed true effect is kept",
            "reference_rate": [p.p_reference for p in h.sensitivity],
            "test_rate": [p.p_test for p in h.sensitivity],
            "exact_power_at_planned": [p.power for p in h.sensitivity],
        },
    }


def _scenario_dict(s: StoppingScenario) -> dict[str, Any]:
    return {
        "scenario": s.name,
        "true_effect": s.true_effect,
        "expected_evaluable_lower_bound": s.expected_evaluable_lower_bound,
        "tests": {
            t.test: {
                "drift": t.drift,
                "efficacy_by_look": t.probabilities.efficacy.tolist(),
                "futility_by_interim": t.probabilities.futility.tolist(),
                "rejection": t.probabilities.rejection,
                "expected_information_rate": t.probabilities.expected_information_rate,
                "expected_evaluable": t.expected_evaluable,
            }
            for t in s.tests
        },
    }


def _sequential_dict(s: SequentialSummary) -> dict[str, Any]:
    d = s.design
    formal = [x for x in s.looks if x.formal]
    out: dict[str, Any] = {
        "design": "one group-sequential design over every formal look (interims that spend "
        "alpha, then the final); each one-sided test of the equivalence pair uses it",
        "time_origin": "months after the first patient in",
        "spending": s.spending,
        "alpha_one_sided": s.alpha,
        "looks": [x.name for x in formal],
        "information_rates": [x.information_rate for x in formal],
        "months_after_first_patient": [x.months_after_first_patient for x in formal],
        "critical_values": None,
        "critical_values_note": None,
        "cumulative_alpha_spent": None,
        "stage_levels": None,
        "futility_bounds": [x.futility_bound for x in formal[:-1]],
        "futility_note": "non-binding, z-scale of each one-sided test, one per formal interim; "
        "null where the interim has none; applied to the power, the inflation factor and the "
        "stopping probabilities, not to the efficacy boundaries",
        "inflation_factor": s.inflation_factor,
        "inflation_note": INFLATION_NOTE,
        "fixed_evaluable_per_arm": list(s.fixed_evaluable_per_arm),
        "inflated_evaluable_per_arm": _list(s.inflated_evaluable_per_arm),
        "inflated_enrolled_per_arm": _list(s.inflated_enrolled_per_arm),
        "planned_evaluable": s.planned_evaluable,
        "stopping_probabilities": [_scenario_dict(x) for x in s.scenarios],
        "stopping_note": STOPPING_NOTE,
        "problems": list(s.problems),
    }
    if d is not None:
        crit = [float(c) for c in d.critical_values]
        out["critical_values"] = [_finite(c) for c in crit]
        if not all(math.isfinite(c) for c in crit):
            out["critical_values_note"] = INFINITE_NOTE
        out["cumulative_alpha_spent"] = d.alpha_spent.tolist()
        out["stage_levels"] = d.stage_levels.tolist()
    else:
        out["critical_values_note"] = "null: no design, " + "; ".join(s.problems)
    return out


def _list(x: tuple[int, int] | None) -> list[int] | None:
    return None if x is None else list(x)


def _interims(s: SequentialSummary) -> list[dict[str, Any]]:
    rows = []
    for x in s.looks[:-1]:
        rows.append(
            {
                "name": x.name,
                "purpose": x.purpose,
                "formal": x.formal,
                "months_after_first_patient": x.months_after_first_patient,
                "information_fraction": x.information_rate,
                "expected_enrolled": x.expected_enrolled,
                "expected_evaluable": x.expected_evaluable,
                "critical_value": _finite(x.critical_value),
                "cumulative_alpha_spent": x.cumulative_alpha_spent,
                "stage_level": x.stage_level,
                "futility_bound": x.futility_bound,
                "spending": x.spending,
                "binding": x.binding,
                "note": (
                    "formal look of the joint design"
                    if x.formal
                    else "descriptive look: no formal test, no alpha spent"
                ),
            }
        )
    return rows


def design_document(summary: DesignSummary) -> dict[str, Any]:
    """The ``--json`` document (also ``design.json`` of ``--out``)."""
    return {
        "study_id": summary.study_id,
        "title": summary.title,
        "sample_size": summary.sample_size,
        "arms": {"test": summary.test_arm, "reference": summary.reference_arm},
        "time_origin": "months after the first patient in",
        "expected_accrual_months": summary.expected_accrual_months,
        "hypotheses": [_hypothesis_dict(h) for h in summary.hypotheses],
        "sequential": _sequential_dict(summary.sequential),
        "interim_analyses": _interims(summary.sequential),
        "warnings": list(summary.warnings),
    }


_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{ s.study_id }}: design</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;padding:.2em .5em}
td.n{text-align:right}.warn{color:#8a4b00}</style></head><body>
<h1>{{ s.study_id }}: design</h1><p>{{ s.title }}</p>
<p>{{ s.sample_size }} patients ({{ s.test_arm }} vs {{ s.reference_arm }}); expected accrual
{{ "%.1f"|format(s.expected_accrual_months) }} months after the first patient in (every month
below is counted from the first patient in).</p>
{% for h in s.hypotheses %}
<h2>Sample size and exact power: {{ h.endpoint_id }}</h2>
<table id="sample-size-{{ h.endpoint_id }}"><tr><th></th><th>per arm (test / reference)</th>
<th>power</th></tr>
<tr><td>planned, exact power</td><td class="n">{{ h.n_test }} / {{ h.n_reference }}</td>
<td class="n">{{ "%.3f"|format(h.power_at_planned) }}</td></tr>
<tr><td>fixed design, normal approximation ({{ h.normal.formula }})</td>
<td class="n">{{ h.normal.n1 }} / {{ h.normal.n2 }}</td>
<td class="n">{{ h.target_power }} (target)</td></tr>
<tr><td>fixed design, exact search</td><td class="n">{{ h.exact.n1 }} / {{ h.exact.n2 }}</td>
<td class="n">{{ "%.3f"|format(h.exact.power) }}</td></tr>
{% if loop.first and q.inflated_evaluable_per_arm %}
<tr><td>group-sequential: exact search &times; inflation factor
{{ "%.4f"|format(q.inflation_factor) }}, rounded up to the allocation</td>
<td class="n">{{ q.inflated_evaluable_per_arm[0] }} / {{ q.inflated_evaluable_per_arm[1] }}
(enrol {{ q.inflated_enrolled_per_arm[0] }} / {{ q.inflated_enrolled_per_arm[1] }})</td>
<td class="n">{{ h.target_power }} (target)</td></tr>{% endif %}
</table>
<p>{{ "%g"|format(h.level * 100) }} % {{ h.method }} interval, margin on the risk {{ h.scale }};
assumed response rates {{ h.p_test }} / {{ h.p_reference }}.</p>
<table id="sensitivity-{{ h.endpoint_id }}"><tr><th>reference ORR</th><th>test ORR</th>
<th>exact power at {{ h.n_test }} / {{ h.n_reference }}</th></tr>
{% for p in h.sensitivity %}<tr><td class="n">{{ "%.2f"|format(p.p_reference) }}</td>
<td class="n">{{ "%.4f"|format(p.p_test) }}</td><td class="n">{{ "%.3f"|format(p.power) }}</td>
</tr>{% endfor %}</table>
{% endfor %}
<h2>Looks and boundaries (one joint design)</h2>
<table id="boundaries"><tr><th>look</th><th>purpose</th><th>month</th>
<th>expected enrolled</th><th>expected evaluable</th><th>information</th>
<th>critical value (z)</th><th>cumulative alpha</th><th>stage level</th>
<th>futility bound (z, non-binding)</th></tr>
{% for x in q.looks %}<tr><td>{{ x.name }}</td><td>{{ x.purpose }}{% if not x.formal %}
(descriptive){% endif %}</td><td class="n">{{ "%.1f"|format(x.months_after_first_patient) }}</td>
<td class="n">{{ "%.1f"|format(x.expected_enrolled) }}</td>
<td class="n">{{ "%.1f"|format(x.expected_evaluable) }}</td>
<td class="n">{{ "%.3f"|format(x.information_rate) }}</td>
<td class="n">{{ fmt(x.critical_value, 4) }}</td>
<td class="n">{{ fmt(x.cumulative_alpha_spent, 6) }}</td>
<td class="n">{{ fmt(x.stage_level, 6) }}</td>
<td class="n">{{ fmt(x.futility_bound, 3) }}</td></tr>{% endfor %}</table>
<p>Spending: {{ q.spending or "none (single final look)" }}, one-sided alpha
{{ "%g"|format(q.alpha) }} per one-sided test.</p>
{% if q.scenarios %}<h2>Stopping probabilities</h2><p>{{ note }}</p>
<table id="stopping"><tr><th>scenario</th><th>test</th><th>drift</th>
{% for x in formal %}<th>P(cross at {{ x.name }})</th>{% endfor %}<th>P(reject)</th>
<th>expected evaluable</th></tr>
{% for c in q.scenarios %}{% for t in c.tests %}<tr><td>{{ c.name }}
({{ "%.3g"|format(c.true_effect) }})</td><td>{{ t.test }}</td>
<td class="n">{{ "%.3f"|format(t.drift) }}</td>
{% for e in t.probabilities.efficacy %}<td class="n">{{ "%.4f"|format(e) }}</td>{% endfor %}
<td class="n">{{ "%.4f"|format(t.probabilities.rejection) }}</td>
<td class="n">{{ "%.1f"|format(t.expected_evaluable) }}</td></tr>{% endfor %}{% endfor %}
</table>{% endif %}
<h2>Warnings</h2>{% if s.warnings %}<ul>{% for w in s.warnings %}<li class="warn">{{ w }}</li>
{% endfor %}</ul>{% else %}<p>None.</p>{% endif %}
<h2>Figures</h2>{% for name, data in images %}<figure><img alt="{{ name }}"
src="data:image/png;base64,{{ data }}"><figcaption>{{ name }}</figcaption></figure>{% endfor %}
</body></html>
"""


def _fmt(x: float | None, digits: int) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "none (infinite)"
    return f"{x:.{digits}f}"


def design_html(summary: DesignSummary, figures: Sequence[Path]) -> str:
    """The self-contained HTML report: tables, warnings, the PNG figures as base64."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    images = [(f.name, base64.b64encode(f.read_bytes()).decode("ascii")) for f in figures]
    q = summary.sequential
    return env.from_string(_TEMPLATE).render(
        s=summary,
        q=q,
        formal=[x for x in q.looks if x.formal],
        note=STOPPING_NOTE,
        images=images,
        fmt=_fmt,
    )
