"""report.html of a real forecasting run, opened in headless Chromium: no console errors, every image decoded."""

from __future__ import annotations

import shutil

import pytest

from rnnlab.cli import main

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (Debian package 'chromium'; .ci/run installs it)"
)
def test_forecast_report_opens_in_chromium_without_errors_and_with_decoded_images(tmp_path, capsys):
    sync_api = pytest.importorskip("playwright.sync_api")
    run = tmp_path / "run"
    args = ["forecast", "train", "--data", "two-sines", "--hidden-size", "8", "--epochs", "2", "--no-progress",
            "--run-dir", str(run)]  # fmt: skip
    assert main(args) == 0
    capsys.readouterr()
    report = run / "report.html"
    assert report.is_file()

    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on(
                "console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None
            )
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate("[...document.images].map(i => [i.alt, i.complete, i.naturalWidth])")
            title = page.title()
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        finally:
            browser.close()
    assert problems == []
    assert title == "forecast: two-sines, lstm"
    assert len(images) >= 4  # training curves, forecasts, gate heatmaps, hidden state
    assert all(complete and width > 0 for _, complete, width in images), images
    assert (tmp_path / "report.png").stat().st_size > 10_000
