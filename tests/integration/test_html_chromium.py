"""The HTML report in a real browser (headless Debian chromium): it renders the table and the chart,
logs no console error and makes no network request; a screenshot is kept in test-artifacts/.

Chromium is not installed by this test: CI installs it (`apt-get install -y chromium`); without it
the test is skipped. Chromium makes requests of its own (component updates, account checks) even
with background networking disabled, so the net log is filtered to requests whose network
isolation key is the report's file:// origin; a control page that does load from the network (and
logs an error) proves the check can fail.
"""

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from theanogpu.cli import main

ROOT = Path(__file__).resolve().parents[2]
CLASSIC = ROOT / "tests" / "fixtures" / "classic"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]
CONTROL = ('<!DOCTYPE html><html><head><meta charset="utf-8"><link rel="stylesheet" '
           'href="https://fonts.example.invalid/a.css"></head><body><img src="http://example.invalid/x.png">'
           '<script>console.error("control page error")</script><table id="report"><tr><td>x</td></tr></table>'
           "</body></html>")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI: apt-get install -y "
                                                          "chromium); this test installs nothing itself")]


def browse(page: Path, tmp_path: Path, *extra: str) -> dict:
    """Open *page* in a fresh chromium profile: its DOM, console lines and the page's network requests."""
    profile = tmp_path / ("profile-" + page.stem)
    netlog = tmp_path / ("netlog-%s.json" % page.stem)
    proc = subprocess.run([CHROMIUM, *FLAGS, "--user-data-dir=%s" % profile, "--log-net-log=%s" % netlog, *extra,
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    console = [line for line in proc.stderr.splitlines() if re.search(r":CONSOLE[:(]", line)]
    return {"dom": proc.stdout, "console": console, "requests": page_requests(netlog)}


def page_requests(netlog: Path) -> list:
    """URLs the page itself asked the network for (chromium's own requests are not the page's)."""
    log = json.loads(netlog.read_text())
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start and "file://" in params.get("network_isolation_key", "") + params.get(
                "site_for_cookies", ""):
            urls.append(params["url"])
    return urls


class Dom(HTMLParser):
    """Table rows as lists of cell texts, with each <tr>'s attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows, self.cells, self.tags = [], [], []
        self.cell = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append(dict(attrs))
            self.cells.append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.cells[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "report.html"
    logs = tmp_path_factory.mktemp("logs")
    for name in ("cpu.log", "gpu.log", "gpu-cnmem.log"):
        shutil.copy(str(CLASSIC / name), str(logs / name))
    fallback = logs / "gpu-fallback.log"
    fallback.write_text("Using Theano backend.\n"
                        "ERROR (theano.sandbox.cuda): nvcc compiler not found on $PATH. Check your nvcc installation "
                        "and try again.\nEpoch 1/1\n50000/50000 [==============================] - 150s - loss: 1.9\n")
    code = main(["report", "--format", "html", "--output", str(page),
                 *(str(logs / name) for name in ("cpu.log", "gpu.log", "gpu-cnmem.log", "gpu-fallback.log"))])
    assert code == 0
    return page


def test_report_has_no_external_references(report_html):
    text = report_html.read_text()
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", text, re.I)
    assert "<script" not in text.lower() and "@import" not in text and "url(" not in text


def test_chromium_renders_the_table_without_console_errors_or_network(report_html, tmp_path):
    seen = browse(report_html, tmp_path, "--dump-dom")
    assert seen["console"] == [] and seen["requests"] == []
    dom = Dom()
    dom.feed(seen["dom"])
    assert "svg" in dom.tags and "rect" in dom.tags
    header = dom.cells[0]
    rows = [dict(zip(header, cells), tr=attrs) for attrs, cells in zip(dom.rows, dom.cells) if "data-status" in attrs]
    assert [row["name"] for row in rows] == ["cpu", "gpu", "gpu-cnmem", "gpu-fallback"]
    assert [(row["used"], row["CNMeM"], row["cuDNN"], row["speedup"]) for row in rows[:3]] == [
        ("cpu", "-", "-", "1.00x"), ("gpu", "off", "5105", "5.69x"), ("gpu", "80%", "5105", "7.67x")]
    fell = rows[3]
    assert (fell["asked"], fell["used"], fell["status"], fell["fallback"]) == ("gpu", "cpu", "FALLBACK", "yes")
    assert fell["tr"]["data-status"] == "fallback" and "alert" in fell["tr"]["class"]


def test_the_checks_catch_a_page_that_loads_from_the_network(tmp_path):
    control = tmp_path / "control.html"
    control.write_text(CONTROL)
    seen = browse(control, tmp_path, "--dump-dom")
    assert any("control page error" in line for line in seen["console"])
    assert sorted(seen["requests"]) == ["http://example.invalid/x.png", "https://fonts.example.invalid/a.css"]


def test_screenshot_is_kept(report_html, tmp_path):
    shot = ARTIFACTS / "report.png"
    if shot.exists():
        shot.unlink()
    browse(report_html, tmp_path, "--screenshot=%s" % shot, "--window-size=1100,900", "--hide-scrollbars")
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10000
