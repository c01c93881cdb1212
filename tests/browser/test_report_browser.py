"""The HTML report in headless Chromium: no console error, no network request, charts drawn, the
layer table sorts on a click, and a layer named `<img src=x onerror=alert(1)>` stays text.

Needs Debian's chromium and chromium-driver (`make browser`). Skipped when they are missing,
unless ZOOPROF_REQUIRE_BROWSER=1 (as `make test` sets), which turns the skip into a failure.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.renderers.hostile_model import EVIL_LAYER
from tests.renderers.results import COMPARE_ROWS, real_hostile, with_measurements
from zooprof.renderers.html import render_compare_html, render_html

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OPTIONS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1280,1000",
)

pytestmark = pytest.mark.browser


def _missing() -> str:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            return f"{path} not found (make browser: apt-get install chromium chromium-driver)"
    return ""


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    reason = _missing()
    if reason:
        if os.environ.get("ZOOPROF_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {reason}")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in OPTIONS:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield d
    d.quit()


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(render_html(with_measurements(real_hostile())), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def compare_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "compare.html"
    path.write_text(render_compare_html([with_measurements(real_hostile())], COMPARE_ROWS), encoding="utf-8")
    return path


def open_page(driver: Any, path: Path) -> dict[str, list[Any]]:
    """Load `path`, wait until the script is done; the console messages and requested URLs."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser")
    driver.get_log("performance")  # drain what earlier pages left
    driver.get(path.as_uri())
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.documentElement.getAttribute('data-rendered')") == "1"
    )
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return {"console": driver.get_log("browser"), "urls": urls}


def rows(driver: Any) -> list[list[str]]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#layer-table tbody tr'))"
        ".map(tr => Array.from(tr.cells).map(td => td.textContent));"
    )


def heading(driver: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    (th,) = [th for th in driver.find_elements(By.CSS_SELECTOR, "#layer-table thead th") if th.text == text]
    return th


def colours(png: bytes) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    found = image.getcolors(maxcolors=1 << 16)
    return len(found) if found is not None else 1 << 16


def test_report_has_no_console_error_and_requests_nothing(driver: Any, report_file: Path) -> None:
    seen = open_page(driver, report_file)
    assert seen["console"] == []
    assert seen["urls"], "the performance log recorded no request at all (not even the page)"
    assert all(u == report_file.as_uri() or u.startswith("data:") for u in seen["urls"]), seen["urls"]


def test_charts_are_drawn(driver: Any, report_file: Path) -> None:
    from selenium.webdriver.common.by import By

    open_page(driver, report_file)
    counts = driver.execute_script("""
        const n = (sel) => document.querySelectorAll(sel).length;
        return {macs: n('#chart-macs svg rect.bar'), layer: n('#chart-layer-latency svg rect.bar'),
                strips: n('#chart-latency svg path'), rf: n('#chart-rf svg circle'),
                power: n('.power-chart svg path'), legends: n('.power-chart .legend span')};""")
    layers = with_measurements(real_hostile()).layers
    assert counts["macs"] == sum(1 for x in layers if x["macs"] > 0)
    assert counts["layer"] == len(layers)  # every layer timed in the fake per-layer data
    assert counts["strips"] == 2  # torch and onnxruntime; the failed tflite row has no samples
    assert counts["rf"] == sum(1 for x in layers if isinstance((x.get("rf") or {}).get("size"), int))
    assert counts["power"] == 3 and counts["legends"] == 3  # total + two rails
    assert colours(driver.get_screenshot_as_png()) > 2
    for chart in ("chart-macs", "chart-latency", "chart-rf"):
        assert colours(driver.find_element(By.ID, chart).screenshot_as_png) > 2, chart


def test_layer_table_sorts_on_click(driver: Any, report_file: Path) -> None:
    open_page(driver, report_file)
    names = [r[0] for r in rows(driver)]
    layers = with_measurements(real_hostile()).layers
    assert names == [x["name"] for x in layers]  # execution order first
    macs = heading(driver, "MACs")
    macs.click()
    assert heading(driver, "MACs").get_attribute("aria-sort") == "descending"
    values = [int(r[6].replace(",", "")) for r in rows(driver)]
    assert values == sorted(values, reverse=True) and values[0] == max(x["macs"] for x in layers)
    heading(driver, "MACs").click()
    values = [int(r[6].replace(",", "")) for r in rows(driver)]
    assert values == sorted(values)
    heading(driver, "Layer").click()
    expected = driver.execute_script(
        "return arguments[0].slice().sort((a, b) => a.localeCompare(b, 'en', {numeric: true}))", names
    )
    assert [r[0] for r in rows(driver)] == expected != names


def test_filter_and_depth(driver: Any, report_file: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(driver, report_file)
    driver.find_element(By.ID, "layer-filter").send_keys("conv")
    assert [r[1] for r in rows(driver)] == ["conv", "conv"]
    driver.find_element(By.ID, "layer-filter").clear()
    driver.execute_script("document.getElementById('layer-filter').dispatchEvent(new Event('input'))")
    Select(driver.find_element(By.ID, "layer-view")).select_by_index(1)
    got = rows(driver)
    assert [r[0] for r in got] == ["block", "pool", "flatten", "head"]
    assert got[0][6] == "83,520"  # the group's MACs: 55,296 + 28,224


def test_hostile_layer_name_is_text(driver: Any, report_file: Path) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    open_page(driver, report_file)
    names = [r[0] for r in rows(driver)]
    assert f"block.{EVIL_LAYER}" in names and "block.</script><!--" in names
    assert driver.execute_script("return document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert driver.execute_script("return document.querySelectorAll('script').length") == 2
    with pytest.raises(NoAlertPresentException):
        driver.switch_to.alert.text  # noqa: B018
    # the chart tooltip takes the name as text too
    hit = driver.find_element(By.CSS_SELECTOR, "#chart-macs svg rect.hit")
    width = hit.size["width"]
    ActionChains(driver).move_to_element_with_offset(hit, -width // 2 + 3, 0).perform()
    tip = driver.execute_script(
        "const t = document.querySelector('.tip');return [t.style.display, t.textContent, t.children.length];"
    )
    assert tip[0] == "block" and tip[1].startswith(f"block.{EVIL_LAYER}\nMACs 55,296") and tip[2] == 0


def test_compare_page(driver: Any, compare_file: Path) -> None:
    seen = open_page(driver, compare_file)
    assert seen["console"] == []
    assert all(u == compare_file.as_uri() or u.startswith("data:") for u in seen["urls"]), seen["urls"]
    found = driver.execute_script("""return {points: document.querySelectorAll('#chart-scatter circle.point').length,
        front: Array.from(document.querySelectorAll('#chart-scatter path.pareto')).map(p => p.getAttribute('d')),
        imgs: document.querySelectorAll('img').length};""")
    assert found["points"] == 3 and found["imgs"] == 0  # the failed and the static row have no latency
    (front,) = found["front"]
    assert re.fullmatch(r"M[\d.]+,[\d.]+H[\d.]+V[\d.]+", front)  # a step from one front point to the other
    assert [r[0] for r in rows(driver)][0] == "<img src=x onerror=alert(1)>"
    median = [h.text for h in driver.find_elements("css selector", "#layer-table thead th")].index("Median ms")
    heading(driver, "Median ms").click()
    assert [r[median] for r in rows(driver)] == ["120.250", "0.500", "0.300", "n/a", "n/a"]  # n/a stays last
    heading(driver, "Median ms").click()
    assert [r[median] for r in rows(driver)] == ["0.300", "0.500", "120.250", "n/a", "n/a"]
