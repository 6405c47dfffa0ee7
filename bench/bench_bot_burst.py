"""Slack's 3 s under a burst: N signed ``/kpi`` commands at once, over HTTP and over Socket Mode.

    .venv/bin/python -m bench bot --burst 200 [--deals 1000000] [--transports http,socket]

The bot runs as in production, ``kpi slack serve`` in its own process, on the M dataset (1,000,000
deals; bench.core builds it once), against the loopback fake Slack of the tests in this process.
Half the commands are slow series questions ("<metric> last-12-months by segment grain month"), half
"<metric> last-quarter", over every shipped metric. Before the burst, one command of each kind per
metric warms the engine, as a running bot would be.

Measured per transport (clock: this process; HTTP from just before the request is sent to its
response; Socket Mode from just before the envelope is written to the websocket to the fake reading
the ack): acks within 3 s (target N/N), p50/p95/max ack, how the acks answered (the answer itself /
"working on it" / "busy"), and the final answer's time (the ack itself, or the response_url post),
with a check that every command got exactly one final answer. Results: a Markdown table, and
bench/results/bot_burst.json. Not a test: nothing here runs in CI.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-secret"
KPI = str(Path(sys.executable).with_name("kpi"))


def questions(metrics: list[str], n: int) -> list[str]:
    kinds = ("{m} last-12-months by segment grain month", "{m} last-quarter")
    return [kinds[i % 2].format(m=metrics[(i // 2) % len(metrics)]) for i in range(n)]


def form(text: str, response_url: str, n: int) -> dict[str, str]:
    return {"token": "x", "team_id": "T1", "team_domain": "b", "channel_id": "C1", "channel_name": "leadership",
            "user_id": f"U{n % 50}", "user_name": "b", "command": "/kpi", "text": text, "response_url": response_url,
            "trigger_id": f"t.{n}.{time.time_ns()}", "api_app_id": "A1"}


def post_command(url: str, fields: dict[str, str]) -> str:
    body = urlencode(fields).encode()
    ts = str(int(time.time()))
    sig = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body.decode())
    req = urllib.request.Request(url, body, {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                                             "Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())["text"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Bot:
    """``kpi slack serve`` in a child process, HTTP or Socket Mode, against ``fake``."""

    def __init__(self, transport: str, defs: Path, fake: object, state: Path) -> None:
        self.transport, self.fake = transport, fake
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(SLACK_BOT_TOKEN="xoxb-bench", SLACK_API_URL=fake.api_url, KPI_STATE_DIR=str(state))  # type: ignore[attr-defined]
        if transport == "http":
            self.port = free_port()
            env.update(SLACK_SIGNING_SECRET=SECRET, KPI_BOT_PORT=str(self.port))
        else:
            env.update(SLACK_APP_TOKEN="xapp-bench")
        self.log = state / f"bot-{transport}.log"
        self.proc = subprocess.Popen([KPI, "slack", "serve", "-d", str(defs)], env=env, cwd=defs.parent,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.envelopes = 0
        self._ready()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def _ready(self) -> None:
        deadline = time.monotonic() + 120
        if self.transport == "socket":
            self.fake.wait_ws_client(timeout=120)  # type: ignore[attr-defined]
            return
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"the bot did not start; see {self.log}") from None
                time.sleep(0.2)

    def send(self, text: str, n: int) -> tuple[float, str, str | None]:
        """(sent_at, response_url path, ack text or None when it arrives on the websocket)."""
        url = self.fake.response_url()  # type: ignore[attr-defined]
        fields = form(text, url, n)
        path = url.removeprefix(self.fake.base)  # type: ignore[attr-defined]
        if self.transport == "http":
            sent = time.monotonic()
            return sent, path, post_command(self.url, fields)
        self.envelopes += 1
        sent = time.monotonic()
        self.fake.ws_send({"envelope_id": f"e{n}", "type": "slash_commands", "payload": fields,  # type: ignore[attr-defined]
                           "accepts_response_payload": True})
        return sent, path, None

    def stop(self) -> str:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.log.read_text(errors="replace")


def socket_acks(fake: object, count: int, timeout: float) -> dict[str, tuple[float, str]]:
    calls = fake.wait_for("ws", count=count, timeout=timeout)  # type: ignore[attr-defined]
    return {c.params["envelope_id"]: (c.at, c.params.get("payload", {}).get("text", ""))
            for c in calls if "envelope_id" in c.params}


def burst(bot: Bot, texts: list[str], base: int) -> list[dict]:
    """Send every text at once; one record per command: sent, ack_at, ack text, response_url path."""
    n = len(texts)
    records: list[dict] = [{} for _ in range(n)]
    gate = threading.Barrier(n if bot.transport == "http" else 1)

    def one(i: int) -> None:
        if bot.transport == "http":
            gate.wait()
        sent, path, ack = bot.send(texts[i], base + i)
        records[i] = {"sent": sent, "path": path, "id": f"e{base + i}", "ack": ack,
                      "ack_at": time.monotonic() if ack is not None else None}
    if bot.transport == "http":
        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(n):
            one(i)
        acks = socket_acks(bot.fake, bot.envelopes + 1, timeout=120)  # + the hello frame's connection record
        for r in records:
            r["ack_at"], r["ack"] = acks.get(r["id"], (None, None))
    return records


def finals(fake: object, records: list[dict], timeout: float = 900) -> None:
    """Wait for every "working on it" to be answered; add final_at and the number of answers."""
    late = [r for r in records if r["ack"] and r["ack"].startswith("Working on")]
    paths = {r["path"] for r in records}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = [c for c in fake.calls_to("response_url") if c.params["_url"] in paths]  # type: ignore[attr-defined]
        if len(got) >= len(late):
            break
        time.sleep(0.5)
    time.sleep(1.0)  # a duplicate answer would arrive now
    by_path: dict[str, list[float]] = {}
    for c in fake.calls_to("response_url"):  # type: ignore[attr-defined]
        by_path.setdefault(c.params["_url"], []).append(c.at)
    for r in records:
        posts = by_path.get(r["path"], [])
        r["answers"] = len(posts) + (1 if r["ack"] and not r["ack"].startswith("Working on") else 0)
        r["final_at"] = r["ack_at"] if not posts else min(posts)


def pct(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100, method="inclusive")[q - 1] if len(xs) > 1 else (xs[0] if xs else float("nan"))


def summarize(transport: str, records: list[dict], log: str) -> dict:
    acks = [r["ack_at"] - r["sent"] for r in records if r["ack_at"] is not None]
    final = [r["final_at"] - r["sent"] for r in records if r.get("final_at") is not None and r["answers"]]
    kinds = Counter("none" if not r["ack"] else "working" if r["ack"].startswith("Working on")
                    else "busy" if "busy right now" in r["ack"] else "answer" for r in records)
    return {"transport": transport, "commands": len(records), "acked": len(acks),
            "acked_within_3s": sum(a < 3.0 for a in acks),
            "ack_p50_ms": pct(acks, 50) * 1000, "ack_p95_ms": pct(acks, 95) * 1000, "ack_max_ms": max(acks) * 1000,
            "in_ack": kinds["answer"], "working": kinds["working"], "busy": kinds["busy"], "unacked": kinds["none"],
            "answered_once": sum(r["answers"] == 1 for r in records),
            "final_p50_s": pct(final, 50), "final_p95_s": pct(final, 95), "final_max_s": max(final) if final else None,
            "bolt_no_ack_warnings": log.count("didn't call ack()"), "tracebacks": log.count("Traceback")}


def run(transport: str, defs: Path, metrics: list[str], n: int) -> dict:
    sys.path[:0] = [str(ROOT / "tests")]
    from fakes.slack_api import FakeSlack

    fake = FakeSlack().start()
    with tempfile.TemporaryDirectory() as state:
        bot = Bot(transport, defs, fake, Path(state))
        try:
            warm = burst(bot, questions(metrics, 2 * len(metrics)), 0) if transport == "socket" else [
                {"ack": post_command(bot.url, form(t, fake.response_url(), i))} for i, t in
                enumerate(questions(metrics, 2 * len(metrics)))]
            fake.wait_for("response_url", count=sum(str(r["ack"]).startswith("Working on") for r in warm), timeout=600)
            print(f"  {transport}: warmed up with {len(warm)} commands; burst of {n} ...", flush=True)
            records = burst(bot, questions(metrics, n), 10_000)
            finals(fake, records)
        finally:
            log = bot.stop()
            fake.stop(check=False)
    return summarize(transport, records, log)


def main(argv: list[str], data: Path) -> None:
    from bench.bench_bot import definitions_for

    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--burst", type=int, default=200)
    ap.add_argument("--transports", default="http,socket")
    args, _ = ap.parse_known_args(argv)
    defs = definitions_for(data)
    from metrics_core.api import KPI as Facade

    metrics = [m.name for m in Facade.from_path(defs).metrics()]
    load_before = os.getloadavg()[0]
    rows = [run(t, defs, metrics, args.burst) for t in args.transports.split(",")]
    report(rows, data)
    print(f"load average (1 min) on {os.cpu_count()} cores: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")


def report(rows: list[dict], data: Path) -> None:
    print("\n| transport | acked within 3 s | ack p50 | ack p95 | ack max | answer in ack / working / busy | "
          "answered exactly once | final answer p50 / p95 / max |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['transport']} | {r['acked_within_3s']}/{r['commands']} | {r['ack_p50_ms']:.0f} ms | "
              f"{r['ack_p95_ms']:.0f} ms | {r['ack_max_ms']:.0f} ms | {r['in_ack']} / {r['working']} / {r['busy']} | "
              f"{r['answered_once']}/{r['commands']} | {r['final_p50_s']:.1f} / {r['final_p95_s']:.1f} / "
              f"{r['final_max_s']:.1f} s |")
    for r in rows:
        print(f"{r['transport']}: unacked {r['unacked']}, bolt 'didn't call ack()' warnings "
              f"{r['bolt_no_ack_warnings']}, tracebacks in the bot's log {r['tracebacks']}")
    out = ROOT / "bench" / "results" / "bot_burst.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"data": str(data), "rows": rows}, indent=2))
