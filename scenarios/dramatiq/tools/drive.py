"""Drives leakbench_worker.py the way leakbench does, to test it by hand.

Starts the worker, then per attempt (a round of K messages for Concurrent)
enqueues the messages exactly as ``RedisBroker.enqueue`` does, waits until
each is settled (dead-lettered or acked) and every thread of the worker is
asleep, and samples its RSS.  Then ``paths`` and ``stop``.  Prints one line
per attempt and a JSON summary last.

    /usr/bin/python3 tools/drive.py --url unix:///tmp/x/redis.sock \\
        --dramatiq /tmp/dq/b0e96f9/dramatiq-b0e96f9 --scenario Single \\
        --payload 4MiB --attempts 8
"""

import argparse
import json
import os
import subprocess
import sys
import time
import uuid

import redis

WORKER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "leakbench_worker.py")
PAGE = os.sysconf("SC_PAGE_SIZE")


def size(text):
    units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    for unit, factor in units.items():
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


def rss(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def all_asleep(pid):
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue  # a thread that just ended
        if state != "S":
            return False
    return True


def quiesce(pid):
    """Waits until every thread is asleep on two reads in a row."""
    while True:
        if all_asleep(pid):
            time.sleep(0.001)
            if all_asleep(pid):
                return
        time.sleep(0.001)


def enqueue(client, namespace, actor, kwargs):
    """One message, as RedisBroker.enqueue stores it; returns its Redis id."""
    redis_id = str(uuid.uuid4())
    message = {
        "queue_name": "default",
        "actor_name": actor,
        "args": [],
        "kwargs": kwargs,
        "options": {"redis_message_id": redis_id},
        "message_id": str(uuid.uuid4()),
        "message_timestamp": int(time.time() * 1000),
    }
    pipe = client.pipeline(transaction=True)  # MULTI/EXEC
    pipe.hset(f"{namespace}:default.msgs", redis_id, json.dumps(message, separators=(",", ":")))
    pipe.rpush(f"{namespace}:default", redis_id)
    pipe.execute()
    return redis_id


def settle(client, namespace, ids):
    """Waits until every message left the queue's hash; returns how many failed."""
    while client.hmget(f"{namespace}:default.msgs", ids) != [None] * len(ids):
        time.sleep(0.001)
    scores = [client.zscore(f"{namespace}:default.XQ", i) for i in ids]
    return sum(s is not None for s in scores)


def slope(ys):
    n = len(ys)
    if n < 2:
        return 0.0
    mx = (n - 1) / 2
    my = sum(ys) / n
    return sum((x - mx) * (y - my) for x, y in enumerate(ys)) / sum((x - mx) ** 2 for x in range(n))


class Worker:
    def __init__(self, argv, env, stderr):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=stderr, env=env, text=True)

    def line(self):
        text = self.proc.stdout.readline()
        if not text:
            raise SystemExit(f"worker exited: {self.proc.wait()}")
        return json.loads(text)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.line()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--dramatiq", required=True, help="the folder holding dramatiq/")
    parser.add_argument("--scenario", required=True)
    parser.add_argument("--payload", type=size, default=4 << 20)
    parser.add_argument("--attempts", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=5, help="K, for Concurrent")
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--gc", default="off")
    parser.add_argument("--collect-every", type=int, default=0)
    parser.add_argument("--worker-timeout", type=int, default=1000)
    parser.add_argument("--status", action="store_true", help="ask `status` after each attempt")
    parser.add_argument("--gap", type=float, default=0, help="seconds idle before each attempt")
    parser.add_argument("--stderr", default=os.devnull, help="where the worker's stderr goes")
    args = parser.parse_args()

    namespace = f"leakbench-py-{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(args.url)
    k = args.threads if args.scenario == "Concurrent" else 1
    env = dict(os.environ, PYTHONPATH=args.dramatiq)
    argv = [sys.executable, "-u", WORKER, "--url", args.url, "--namespace", namespace,
            "--scenario", args.scenario, "--threads", str(k), "--gc", args.gc,
            "--worker-timeout", str(args.worker_timeout), "--expect-dir", args.dramatiq]
    knobs = {"payload": args.payload, "depth": args.depth,
             "chunk": max(1, min(args.payload // 8, 1 << 20))}
    with open(args.stderr, "a") as stderr:
        worker = Worker(argv, env, stderr)
        ready = worker.line()
        assert ready["event"] == "ready", ready
        pid = ready["pid"]
        quiesce(pid)
        print(f"ready pid {pid}, rss {rss(pid) / 2**20:.2f} MiB", flush=True)

        samples, times, failed, payloads = [], [], 0, []
        for attempt in range(args.warmup + args.attempts):
            time.sleep(args.gap)  # leakbench's own work between attempts
            start = time.monotonic()
            ids = [enqueue(client, namespace, args.scenario, knobs) for _ in range(k)]
            failed += settle(client, namespace, ids)
            quiesce(pid)
            elapsed = time.monotonic() - start
            value = rss(pid)
            status = worker.ask("status") if args.status else None
            line = (f"attempt {attempt + 1:3d} rss {value / 2**20:9.3f} MiB"
                    f"  {elapsed * 1000:7.1f} ms")
            if args.collect_every and (attempt + 1) % args.collect_every == 0:
                line += f"  collected {worker.ask('collect')['objects']} objects"
            if status:
                line += f"  payloads alive {status['payloads']:3d} gc {status['gc_collections']}"
                payloads.append(status["payloads"])
            print(line, flush=True)
            if attempt >= args.warmup:
                samples.append(value)
                times.append(elapsed)

        paths = worker.ask("paths")
        started = time.monotonic()
        stopped = worker.ask("stop")
        code = worker.proc.wait()
        stop_seconds = time.monotonic() - started
    keys = client.keys(f"{namespace}:*")
    if keys:
        client.delete(*keys)

    per_retry = slope(samples)
    summary = {
        "scenario": args.scenario,
        "dramatiq": ready["dramatiq_commit"],
        "gc": args.gc,
        "payload": args.payload,
        "messages_per_attempt": k,
        "attempts": args.attempts,
        "failed": failed,
        "rss_per_retry": per_retry,
        "rss_per_retry_mib": round(per_retry / 2**20, 4),
        "first_to_last_per_retry_mib": round((samples[-1] - samples[0]) / max(1, len(samples) - 1)
                                             / 2**20, 4),
        "attempt_ms_median": round(sorted(times)[len(times) // 2] * 1000, 1),
        "attempt_ms_max": round(max(times) * 1000, 1),
        "paths": paths,
        "stopped": stopped,
        "stop_seconds_outside": round(stop_seconds, 3),
        "exit_code": code,
        "payloads_alive": payloads,
    }
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
