"""Load test: report submission through the partner API on PostgreSQL.

Starts vangnet (gunicorn, production-like settings) on loopback against PostgreSQL, sends
reports from N concurrent clients for a bounded time, checks that every 201 was stored,
and prints throughput and latency percentiles, the server's CPU milliseconds per report
(web processes and PostgreSQL, read from /proc) and its saturation rate (a closed-loop phase
after the timed one). The last line reads
``p95_ms=<number> rps=<number> cpu_ms_per_report=<number> saturation_rps=<number>``.

The load generator runs in a process of its own (not the one that starts and measures the
server), so its threads never compete with the measurement.

PostgreSQL: ``VANGNET_DATABASE_URL`` if set (the database is dropped and re-created);
otherwise a throw-away cluster is started from Debian's PostgreSQL binaries.

    python bench/report_submission.py [--clients 50] [--rate 50] [--duration 30] [--workers 3]

By default the 50 clients together offer 50 reports per second (each client one report a
second, an open-loop load); ``--rate 0`` makes every client send as fast as answers come
back (a closed loop), which measures saturation throughput rather than latency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 100.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def temporary_postgres() -> Iterator[str]:
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: [int(x) for x in p.parent.name.split(".")])
    if not bins:
        sys.exit("No PostgreSQL found: set VANGNET_DATABASE_URL or install Debian's postgresql package.")
    pgbin = bins[-1]
    data = Path(tempfile.mkdtemp(prefix="vangnet-bench-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([str(pgbin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(_as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "start",
                                 "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k /tmp -c max_connections=200"]),
                   check=True, stdout=subprocess.DEVNULL)
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/vangnet_bench"
    finally:
        subprocess.run(_as_postgres([str(pgbin / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(data, ignore_errors=True)


def with_postgres(run: Callable[[str], object], database: str = "vangnet_bench") -> None:
    """Call ``run(url)`` with ``VANGNET_DATABASE_URL`` if it names PostgreSQL, else with a throw-away cluster."""
    url = os.environ.get("VANGNET_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        run(url)
    else:
        with temporary_postgres() as url:
            run(url.replace("/vangnet_bench", f"/{database}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def count_reports(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM intake_report WHERE channel = 'api'").fetchone()[0]


def payload(i: int) -> bytes:
    return json.dumps({
        "immediate_danger": i % 20 == 0, "reporter_role": "victim",
        "forms": ["non-consensual-intimate-images", "doxing"] if i % 3 else ["threats"],
        "description": "Load test report. " * 10,
        # a third of the reports repeat a URL so that joining open cases is exercised too
        "urls": [f"https://bench.example/post/{i if i % 3 else i % 50}", f"https://bench.example/u/{i}"],
        "platform": "bench", "age_band": "18_plus", "relationship": "ex_partner",
        "contact_preference": "none", "consent_processing": True, "share_with": "helpwanted",
    }).encode()


def client(port: int, token: str, deadline: float, max_requests: int, counter: list[int], lock: threading.Lock,
           latencies: list[float], statuses: dict[int, int], interval: float = 0.0, offset: float = 0.0) -> None:
    """One partner client. With ``interval`` it sends on a fixed schedule (open loop) and
    measures from the scheduled moment, so a slow server cannot hide its queueing delay."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    next_send = time.perf_counter() + offset
    while time.monotonic() < deadline:
        with lock:
            if counter[0] >= max_requests:
                break
            counter[0] += 1
            i = counter[0]
        body = payload(i)
        if interval:
            delay = next_send - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            start = next_send
            next_send += interval
        else:
            start = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/reports", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            status = 0
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)
            statuses[status] = statuses.get(status, 0) + 1
    conn.close()


def wait_for(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("The server did not start.")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def _process_tree_cpu_seconds(root_pids: list[int]) -> float:
    """User + system CPU seconds of these processes and all their descendants (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    wanted = set(root_pids)
    changed = True
    while changed:
        children = {pid for pid, parent in parents.items() if parent in wanted and pid not in wanted}
        wanted |= children
        changed = bool(children)
    return sum(cpu.get(pid, 0.0) for pid in wanted)


def _postmaster_pid(database_url: str) -> int | None:
    """The PostgreSQL server's pid when it listens on this machine (found by its port), else None."""
    port = urlsplit(database_url).port or 5432
    for pid_file in Path("/tmp").glob(f".s.PGSQL.{port}.lock"):
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return None


def generate_load(port: int, token: str, clients: int, rate: float, duration: float, max_requests: int,
                  results: Any) -> None:
    """The load generator, run in its own process: N clients, open loop at ``rate`` (or closed loop at 0)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = [0]
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + duration
    interval = clients / rate if rate else 0.0
    threads = [threading.Thread(target=client, args=(port, token, deadline, max_requests, counter, lock,
                                                     latencies, statuses, interval, interval * n / clients))
               for n in range(clients)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    results.put({"latencies": latencies, "statuses": statuses, "wall": time.monotonic() - start})


def load_phase(port: int, token: str, *, clients: int, rate: float, duration: float,
               max_requests: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=generate_load, args=(port, token, clients, rate, duration, max_requests,
                                                          results))
    process.start()
    outcome = results.get(timeout=duration + 120)
    process.join(timeout=30)
    return outcome


def run(args: argparse.Namespace, database_url: str) -> float:
    recreate_database(database_url)
    token = secrets.token_urlsafe(32)
    port = free_port()
    env = {**os.environ, "VANGNET_DATABASE_URL": database_url, "VANGNET_DEMO_API_TOKEN": token,
           "VANGNET_API_REPORTS_PER_MINUTE": os.environ.get("VANGNET_API_REPORTS_PER_MINUTE", "1000000"),
           "DJANGO_SETTINGS_MODULE": "vangnet.config.dev", "VANGNET_LOG_LEVEL": "WARNING",
           "VANGNET_DATA_DIR": tempfile.mkdtemp(prefix="vangnet-bench-")}
    vangnet = [sys.executable, "-m", "vangnet.cli"]
    subprocess.run([*vangnet, "migrate", "--noinput", "-v", "0"], env=env, check=True, cwd=ROOT)
    subprocess.run([*vangnet, "demo"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    before = count_reports(database_url)
    server = subprocess.Popen([*vangnet, "serve", "--no-worker", "--port", str(port), "--workers", str(args.workers)],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    postmaster = _postmaster_pid(database_url)
    try:
        wait_for(port)
        # Warm up every worker process and connection before measuring.
        warm = load_phase(port, token, clients=4, rate=0, duration=3, max_requests=100)
        web_cpu = _process_tree_cpu_seconds([server.pid])
        db_cpu = _process_tree_cpu_seconds([postmaster]) if postmaster else 0.0
        timed = load_phase(port, token, clients=args.clients, rate=args.rate, duration=args.duration,
                           max_requests=args.max_requests)
        web_cpu = _process_tree_cpu_seconds([server.pid]) - web_cpu
        db_cpu = (_process_tree_cpu_seconds([postmaster]) - db_cpu) if postmaster else 0.0
        saturation = (load_phase(port, token, clients=args.clients, rate=0, duration=args.saturation_duration,
                                 max_requests=args.max_requests) if args.saturation_duration > 0 else None)
    finally:
        server.terminate()
        server.wait(timeout=30)
    latencies, statuses, wall = timed["latencies"], {int(k): v for k, v in timed["statuses"].items()}, timed["wall"]
    extra_201 = warm["statuses"].get(201, 0) + (saturation["statuses"].get(201, 0) if saturation else 0)
    stored = count_reports(database_url) - before - extra_201
    accepted = statuses.get(201, 0)
    ms = [x * 1000 for x in latencies]
    rps = len(latencies) / wall
    p50, p95, p99 = percentile(ms, 50), percentile(ms, 95), percentile(ms, 99)
    cpu_ms = (web_cpu + db_cpu) * 1000 / max(accepted, 1)
    saturation_rps = (len(saturation["latencies"]) / saturation["wall"]) if saturation else 0.0
    mode = f"open loop, offered {args.rate:g} req/s" if args.rate else "closed loop, as fast as possible"
    print(f"clients={args.clients} ({mode}) duration_s={wall:.1f} gunicorn_workers={args.workers} "
          f"requests={len(latencies)} cores={os.cpu_count()}")
    print(f"statuses={dict(sorted(statuses.items()))} accepted={accepted} stored={stored}")
    print(f"latency_ms p50={p50:.1f} p95={p95:.1f} p99={p99:.1f} mean={statistics.fmean(ms):.1f} max={max(ms):.1f}")
    print(f"server cpu per report: web {web_cpu * 1000 / max(accepted, 1):.1f} ms + "
          f"postgres {db_cpu * 1000 / max(accepted, 1):.1f} ms"
          + ("" if postmaster else " (PostgreSQL is not local: not counted)"))
    if saturation:
        print(f"saturation (closed loop, {args.clients} clients, {saturation['wall']:.1f} s): "
              f"{saturation_rps:.1f} reports/s, statuses={saturation['statuses']}")
    print(f"target p95<= {TARGET_P95_MS:.0f} ms: ratio p95/target={p95 / TARGET_P95_MS:.2f}")
    if stored != accepted:
        print(f"ERROR: {accepted} reports were answered 201 but {stored} are stored", file=sys.stderr)
        sys.exit(1)
    if accepted == 0 or accepted != len(latencies):
        print("ERROR: some requests failed", file=sys.stderr)
        sys.exit(1)
    print(f"p95_ms={p95:.1f} rps={rps:.1f} cpu_ms_per_report={cpu_ms:.1f} saturation_rps={saturation_rps:.1f}")
    return p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load (bounded)")
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1), help="gunicorn worker processes")
    parser.add_argument("--saturation-duration", type=float, default=10.0,
                        help="seconds of closed-loop load after the timed phase, to find the saturation rate (0: skip)")
    parser.add_argument("--rate", type=float, default=50.0,
                        help="total offered reports per second across all clients (open loop); 0 = closed loop")
    args = parser.parse_args()
    with_postgres(lambda url: run(args, url))


if __name__ == "__main__":
    main()
