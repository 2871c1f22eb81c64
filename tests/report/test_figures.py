"""Figures are written as real image files."""

from pathlib import Path

from equitrial.report.figures import plot_power_curve


def test_power_curve_writes_a_png(tmp_path: Path) -> None:
    out = plot_power_curve(
        [0.7, 0.85, 1.0, 1.2, 1.4],
        {"n = 150/arm": [0.03, 0.1, 0.19, 0.12, 0.04], "n = 367/arm": [0.05, 0.45, 0.8, 0.6, 0.05]},
        tmp_path / "power.png",
        xlabel="true risk ratio",
        margin=(0.73, 1.36),
        target_power=0.8,
        alpha_line=0.05,
        title="ORR equivalence",
        log_x=True,
    )
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000  # a drawn figure, not an empty canvas


def test_infinite_margin_bound_is_not_drawn(tmp_path: Path) -> None:
    out = plot_power_curve(
        [-0.1, 0.0, 0.1],
        {"n = 100": [0.1, 0.5, 0.9]},
        tmp_path / "ni.png",
        xlabel="true risk difference",
        margin=(-0.1, float("inf")),
    )
    assert out.exists()
