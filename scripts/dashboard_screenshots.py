"""Screenshots of the dashboard (docs/), after a run of the sample stream or CrisisLex T26.

    .venv/bin/python scripts/dashboard_screenshots.py                 # the sample stream
    .venv/bin/python scripts/dashboard_screenshots.py --data T26      # CrisisLex T26

Runs the stream with a classifier and the selection on (the labelling pipeline), serves
the dashboard of its output folder and saves a full-page screenshot taken with headless
chromium (Debian's chromium + chromium-driver).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from textcl.config import config_from_dict
from textcl.paths import sample_stream_path, shared_data_dir
from textcl.pipeline import Pipeline
from textcl.serve import DashboardServer

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"sample": "topic", "T26": "informativeness"}


def screenshot(url: str, path: Path, width: int = 1400, max_height: int = 3200) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     f"--window-size={width},1200", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(url)
        time.sleep(3)  # a few polls: every part drawn
        height = driver.execute_script("return document.body.scrollHeight")
        driver.set_window_size(width, min(max_height, int(height) + 40))
        time.sleep(1)
        driver.save_screenshot(str(path))
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=sorted(LABELS), default="sample")
    parser.add_argument("--out", type=Path, help="output folder (default: a temporary one)")
    parser.add_argument("--png", type=Path, help="default: docs/dashboard-<data>.png")
    args = parser.parse_args()
    source = (sample_stream_path() if args.data == "sample"
              else shared_data_dir(required=True) / "crisislex" / "T26")
    config = config_from_dict({"classifier": {"labels": [LABELS[args.data]]},
                               "selection": {"enabled": True, "budget": 10}},
                              "dashboard screenshots")
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "out"
        started = time.perf_counter()
        Pipeline(config).run(source, out)
        print(f"streamed {args.data} in {time.perf_counter() - started:.1f}s into {out}")
        server = DashboardServer(out, port=0)
        url = server.start()
        png = args.png or ROOT / "docs" / f"dashboard-{args.data.lower()}.png"
        try:
            screenshot(url, png)
        finally:
            server.stop()
        print(f"wrote {png}")


if __name__ == "__main__":
    main()
