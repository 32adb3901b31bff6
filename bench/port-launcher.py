"""The oracle of bench/ready.bench.mjs: a minimal launcher that starts a server and polls its
port every 0.5 ms, as a careful hand-written script would. No sampler, no event loop.

    python3 bench/port-launcher.py RUNS PORT -- COMMAND [ARG...]

Per run: the clock (CLOCK_MONOTONIC) just before Popen, a TCP connect to 127.0.0.1:PORT
every 0.5 ms until one succeeds, the clock as it did; then SIGTERM, wait, and the next run.
Prints one JSON list of the runs' spawn-to-accepting times, ms.
"""
import json
import signal
import socket
import subprocess
import sys
import time

runs, port = int(sys.argv[1]), int(sys.argv[2])
command = sys.argv[sys.argv.index('--') + 1:]


def accepting():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()


times = []
for _ in range(runs):
    t0 = time.monotonic()
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = t0
    while not accepting():
        if child.poll() is not None:
            sys.exit(f'{command[0]} exited ({child.returncode}) before it listened')
        deadline += 0.0005  # absolute deadlines, as procprobe's poll thread keeps
        time.sleep(max(0.0, deadline - time.monotonic()))
    times.append((time.monotonic() - t0) * 1e3)
    child.send_signal(signal.SIGTERM)
    child.wait()
print(json.dumps(times))
