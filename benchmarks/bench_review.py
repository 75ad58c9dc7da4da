"""How fast the review page answers: server calls, and key press to next row in Chromium.

    .venv/bin/python benchmarks/bench_review.py [--rows 5000] [--decisions 40]

Builds a campaign of drawn rows (half needing review) in a temporary folder,
then times the queue and decision calls through Flask's test client and,
when /usr/bin/chromium exists, the time from Enter to the next row shown.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "review"))

from review_data import CHROMIUM, CHROMIUM_ARGS, TOKEN, CampaignBuilder, login

from petitionscan.review import ReviewServer, create_app


def build(path: Path, rows: int) -> list[int]:
    b = CampaignBuilder(path, seed=3)
    per_sheet = 20
    for s in range(0, rows, per_sheet):
        sheet = b.sheet(f"PS-{s // per_sheet:06d}", split=bool((s // per_sheet) % 2))
        for i in range(min(per_sheet, rows - s)):
            if i % 2:
                b.row(sheet, b.random_name(), "needs_review", round(b.rng.uniform(0.1, 0.89), 4), misread=True)
            else:
                b.row(sheet, b.random_name(), "auto", 0.97)
    return b.finish().queue


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.1f} ms (p90 {sorted(values)[int(len(values) * 0.9)] * 1000:.1f})"


def server_calls(path: Path, decisions: int) -> list[tuple[str, str]]:
    client = create_app(path, TOKEN).test_client()
    headers = login(client, "Bench")
    fetch, decide, crop = [], [], []
    for _ in range(decisions):
        t = time.perf_counter()
        rows = client.get("/api/queue?limit=10").get_json()["rows"]
        fetch.append(time.perf_counter() - t)
        row = rows[0]
        t = time.perf_counter()
        client.get(f"/crop/{row['id']}.png?w=1100")
        crop.append(time.perf_counter() - t)
        t = time.perf_counter()
        r = client.post(
            f"/api/rows/{row['id']}/decision",
            json={"version": row["version"], "decision": "confirm", "values": {}},
            headers=headers,
        )
        decide.append(time.perf_counter() - t)
        assert r.status_code == 200
    t = time.perf_counter()
    client.get("/duplicates")
    dup = time.perf_counter() - t
    return [
        ("queue, next 10 rows", ms(fetch)),
        ("crop image, 1100 px wide", ms(crop)),
        ("decision stored", ms(decide)),
        ("duplicates page", f"{dup * 1000:7.1f} ms"),
    ]


def browser(path: Path, decisions: int) -> list[tuple[str, str]]:
    from playwright.sync_api import sync_playwright

    server = ReviewServer(path, port=0, reviewer="Bench")
    server.start_in_thread()
    waits: list[float] = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = b.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server.url)
            page.wait_for_selector("#card:not([hidden])")
            for _ in range(decisions):
                shown = page.get_attribute("#card", "data-row-id")
                t = time.perf_counter()
                page.keyboard.press("Enter")
                page.wait_for_function(
                    "id => document.getElementById('card').dataset.rowId !== id", arg=shown, polling="raf"
                )
                waits.append(time.perf_counter() - t)
            b.close()
    finally:
        server.shutdown()
    rate = 60 / statistics.median(waits)
    return [("Enter to next row shown", ms(waits)), ("rows/minute the page allows", f"{rate:7.0f}")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--decisions", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        t = time.perf_counter()
        queue = build(path, args.rows)
        print(f"campaign: {args.rows} rows, {len(queue)} to review (built in {time.perf_counter() - t:.1f} s)")
        lines = server_calls(path, args.decisions)
        if CHROMIUM.exists():
            lines += browser(path, args.decisions)
        else:
            lines.append(("browser", "skipped: no /usr/bin/chromium"))
    width = max(len(name) for name, _ in lines)
    print(f"{'measure':<{width}}  median")
    for name, value in lines:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
