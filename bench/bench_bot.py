"""Benchmark of the Slack bot: signed slash command in -> ack body out, over HTTP on loopback.

    .venv/bin/python -m bench bot [--deals 1000000] [--requests 30] [--seconds 10] [--users 10]
    .venv/bin/python -m bench bot --burst 200     # N commands at once, HTTP and Socket Mode (bench_bot_burst.py)

What it measures, on the M dataset (1,000,000 deals; built once into bench/.data/ by bench.core):
* per shipped metric: p50 / p95 of request -> ack over the real waitress server, real bolt signature
  check and the real core on DuckDB (`/kpi <metric> <period>`, periods rotated), and how many were
  answered in the ack (vs. "working on it" + response_url);
* throughput: 10 concurrent users firing commands for ``--seconds``, requests/s and p95 under load.
Target: p95 <= 400 ms. Results are printed as a Markdown table and saved to bench/results/bot.json.
Not a test: nothing here runs in CI.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # bench.core's dataset; the loopback fake Slack API

from slack_sdk.signature import SignatureVerifier  # noqa: E402

SECRET = "bench-secret"
PERIODS = ("last-quarter", "this-month", "ytd", "last-month", "last-12-months")


def definitions_for(data: Path) -> Path:
    """The shipped definitions.yaml pointed at ``data`` (written beside it)."""
    text = (ROOT / "definitions.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s+url:\s*).*$", rf"\1duckdb:///{data.resolve()}", text, count=1)
    defs = data.parent / "bot_definitions.yaml"
    defs.write_text(text, encoding="utf-8")
    return defs


RESPONSE_URL = ["http://127.0.0.1:9/none"]  # set to the fake Slack's response_url in main()


def command(text: str, n: int) -> tuple[bytes, dict[str, str]]:
    body = urlencode({"token": "x", "team_id": "T1", "team_domain": "b", "channel_id": "C1", "channel_name": "b",
                      "user_id": f"U{n % 10}", "user_name": "b", "command": "/kpi", "text": text,
                      "response_url": RESPONSE_URL[0], "trigger_id": f"t.{n}.{time.time_ns()}",
                      "api_app_id": "A1"}).encode()
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body.decode())
    return body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                  "Content-Type": "application/x-www-form-urlencoded"}


LATE = {"count": 0}  # answers still to come through response_url
_late_lock = threading.Lock()


def send(url: str, text: str, n: int) -> tuple[float, bool]:
    """Seconds from request to ack body, and whether the answer was in the ack."""
    body, headers = command(text, n)
    start = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=10) as resp:
        ack = json.loads(resp.read())
    took, in_ack = time.perf_counter() - start, not ack["text"].startswith("Working on")
    if not in_ack:
        with _late_lock:
            LATE["count"] += 1
    return took, in_ack


def pct(xs: list[float], q: float) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[q - 1] if len(xs) > 1 else xs[0]


def core_ms(kpi: object, metric: str, n: int) -> float:
    """p50 of the core alone (in process, no Slack, no HTTP) for the same questions."""
    times = []
    for i in range(n):
        start = time.perf_counter()
        kpi.query(f"{metric} {PERIODS[i % len(PERIODS)]}")  # type: ignore[attr-defined]
        times.append(time.perf_counter() - start)
    return pct(times, 50) * 1000


def per_metric(url: str, kpi: object, metrics: list[str], n: int) -> list[dict]:
    rows = []
    for m in metrics:
        for w in range(2):  # warm-up
            send(url, f"{m} {PERIODS[w]}", w)
        times, in_ack = [], 0
        for i in range(n):
            took, ok = send(url, f"{m} {PERIODS[i % len(PERIODS)]}", i)
            times.append(took)
            in_ack += ok
        rows.append({"metric": m, "p50_ms": pct(times, 50) * 1000, "p95_ms": pct(times, 95) * 1000,
                     "in_ack": f"{in_ack}/{n}", "core_p50_ms": core_ms(kpi, m, max(5, n // 4))})
        r = rows[-1]
        print(f"  {m:22s} p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  in ack {in_ack}/{n}  "
              f"core alone p50 {r['core_p50_ms']:7.1f} ms", flush=True)
    return rows


def throughput(url: str, metrics: list[str], users: int, seconds: float) -> dict:
    stop = time.perf_counter() + seconds
    times: list[float] = []
    lock = threading.Lock()

    def user(u: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            took, _ = send(url, f"{metrics[(u + i) % len(metrics)]} {PERIODS[i % len(PERIODS)]}", u * 10_000 + i)
            with lock:
                times.append(took)
            i += 1
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(user, range(users)))
    return {"users": users, "seconds": seconds, "requests": len(times), "rps": len(times) / seconds,
            "p50_ms": pct(times, 50) * 1000, "p95_ms": pct(times, 95) * 1000, "max_ms": max(times) * 1000}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=None, help="a DuckDB file with the demo CRM (default: M dataset)")
    ap.add_argument("--deals", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--users", type=int, default=10)
    ap.add_argument("--burst", type=int, default=None, help="N commands at once instead (bench_bot_burst.py)")
    ap.add_argument("--transports", default="http,socket", help="with --burst: http, socket or both")
    args = ap.parse_args(argv)
    if args.data is None:
        from bench.core import dataset

        args.data = dataset(args.deals)
    if args.burst:
        from bench.bench_bot_burst import main as burst

        return burst(["--burst", str(args.burst), "--transports", args.transports], args.data)

    from fakes.slack_api import FakeSlack
    from metrics_core.api import KPI

    from bot.app import create_app, make_client
    from bot.serve import http_server, stop_http
    from bot.settings import Settings

    kpi = KPI.from_path(definitions_for(args.data))
    fake = FakeSlack().start()
    RESPONSE_URL[0] = fake.response_url()
    settings = Settings(bot_token="xoxb-bench", signing_secret=SECRET, api_url=fake.api_url)
    server = http_server(create_app(kpi, client=make_client(settings), settings=settings), host="127.0.0.1", port=0)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    metrics = [m.name for m in kpi.metrics()]
    try:
        print(f"per metric ({args.requests} requests each, periods rotated):")
        rows = per_metric(url, kpi, metrics, args.requests)
        print(f"throughput: {args.users} concurrent users for {args.seconds:.0f}s ...")
        load = throughput(url, metrics, args.users, args.seconds)
    finally:
        fake.wait_for("response_url", count=LATE["count"], timeout=300)  # let late answers land first
        stop_http(server)
        fake.stop(check=False)
    report(rows, load, args)


def report(rows: list[dict], load: dict, args: argparse.Namespace) -> None:
    print("\n| metric | p50 ms | p95 ms | answered in ack | core alone p50 ms |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['metric']} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['in_ack']} | {r['core_p50_ms']:.0f} |")
    print(f"\n{load['users']} concurrent users: {load['rps']:.1f} requests/s, p50 {load['p50_ms']:.0f} ms, "
          f"p95 {load['p95_ms']:.0f} ms, max {load['max_ms']:.0f} ms ({load['requests']} requests in "
          f"{load['seconds']:.0f}s); target p95 <= 400 ms, every ack < 3000 ms")
    out = ROOT / "bench" / "results" / "bot.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data": str(args.data), "per_metric": rows, "throughput": load}, indent=2))


if __name__ == "__main__":
    main()
