#!/usr/bin/env python3
"""Process start to first response of a Lambda function in cargo lambda's
runtime emulation (`cargo lambda watch --only-lambda-apis`: the Runtime API
and the HTTP front, the function started here, so the clock starts with
the function's process), then warm requests. Usage:
    lambda_coldstart.py CARGO_LAMBDA RUNS NAME=BINARY... (environment passed through)
Prints one line per function: median first response and warm p50, in ms."""

import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()


def measure(cargo_lambda: str, binary: str) -> tuple[float, float]:
    port = free_port()
    watch = subprocess.Popen(
        [cargo_lambda, "lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1",
         "--invoke-port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    function = None
    try:
        wait_listening(port)
        env = dict(os.environ,
                   AWS_LAMBDA_FUNCTION_VERSION="1", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="512",
                   AWS_LAMBDA_FUNCTION_NAME="_",
                   AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt",
                   LEPTOS_SITE_ADDR=f"127.0.0.1:{port}")
        started = time.perf_counter()
        function = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        get(f"http://127.0.0.1:{port}/health")
        first = time.perf_counter() - started
        warm = []
        for _ in range(50):
            t = time.perf_counter()
            get(f"http://127.0.0.1:{port}/health")
            warm.append(time.perf_counter() - t)
        return first * 1000, statistics.median(warm) * 1000
    finally:
        if function:
            function.kill()
        os.killpg(watch.pid, 9)


def main() -> None:
    cargo_lambda, runs, *functions = sys.argv[1:]
    for spec in functions:
        name, binary = spec.split("=", 1)
        results = [measure(cargo_lambda, binary) for _ in range(int(runs))]
        firsts = [r[0] for r in results]
        print(f"{name}: first response {statistics.median(firsts):.0f} ms after the process "
              f"started (median of {runs}, {min(firsts):.0f}-{max(firsts):.0f}), "
              f"warm p50 {statistics.median(r[1] for r in results):.1f} ms")


if __name__ == "__main__":
    main()
