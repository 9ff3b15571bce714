"""A Vigil node (the real runtime, ``vigil.runtime.Vigil``) that owns the notification outbox and writes events
itself, for the crash tests: ``python event_pump.py vigil.yaml --cameras a,b --events 20 --every-s 0.05``.

It starts the node, writes the events (interleaved over the cameras), prints ``pumped N`` and keeps delivering
until it is killed (or SIGTERM: a clean stop)."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from vigil.config.loader import load_config
from vigil.runtime import Vigil


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--cameras", default="gate")
    parser.add_argument("--events", type=int, default=10, help="events per camera")
    parser.add_argument("--every-s", type=float, default=0.05)
    parser.add_argument("--start-at", type=int, default=0, help="number of the first event (in its data)")
    args = parser.parse_args()
    config_path = Path(args.config)
    node = Vigil(load_config(config_path), config_path.resolve().parent)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    node.start()
    try:
        cameras = args.cameras.split(",")
        for k in range(args.start_at, args.start_at + args.events):
            for cam in cameras:
                now = node.clock.now_us()
                node.catalog.add_event("line_cross", now, f"{cam} #{k}", camera_id=cam, end_us=now, data={"n": k})
            time.sleep(args.every_s)
        print(f"pumped {args.events * len(cameras)}", flush=True)
        while True:
            time.sleep(1)
    finally:
        node.stop()


if __name__ == "__main__":
    sys.exit(main())
