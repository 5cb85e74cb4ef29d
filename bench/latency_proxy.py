"""A TCP proxy that delays every chunk in each direction: a stand-in for the network between
the shop's processes and a PostgreSQL on another host (this VM's database is on loopback, where
a round trip costs ~0.1 ms and saving round trips hardly shows).

    python bench/latency_proxy.py --listen 5433 --to 5432 --delay-ms 0.25 &
    python bench/pg_roundtrips.py --url postgresql://postgres@127.0.0.1:5433/test

It prints the round trip it adds (a `SELECT 1` through it and direct), since a thread's sleep
overshoots: 0.25 ms each way gave ~0.8 ms per round trip here.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import threading
import time


def pump(source: socket.socket, target: socket.socket, delay: float) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            time.sleep(delay)
            target.sendall(data)
    for end in (source, target):  # one side closed: close the other
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


def serve(listen: int, to: int, delay: float) -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen))
    server.listen(64)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", to))
        for end in (client, upstream):
            end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b, delay), daemon=True).start()


def round_trip_us(port: int, database: str = "test") -> float:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/{database}") as connection:
        for _ in range(50):
            connection.execute("SELECT 1").fetchone()
        started = time.perf_counter()
        for _ in range(500):
            connection.execute("SELECT 1").fetchone()
        return (time.perf_counter() - started) / 500 * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, default=5433)
    parser.add_argument("--to", type=int, default=5432)
    parser.add_argument("--delay-ms", type=float, default=0.25)
    args = parser.parse_args()
    threading.Thread(target=serve, args=(args.listen, args.to, args.delay_ms / 1000),
                     daemon=True).start()
    time.sleep(0.2)
    print(f"round trip: direct {round_trip_us(args.to):.0f} µs, "
          f"through the proxy {round_trip_us(args.listen):.0f} µs", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
