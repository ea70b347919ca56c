#!/usr/bin/env python3
"""A slow link for ssh's ProxyCommand: relays stdin and stdout to HOST:PORT,
holding every chunk DELAY seconds in each direction (these kernels have no
netem), and counts the bytes that cross each way. With --cut-after N it cuts
the connection (both ways at once, as a pulled cable or a dead link would)
once N bytes have crossed in all: a cut at a chosen byte, not a chosen moment.

    ssh -o ProxyCommand='python3 slow-link.py --delay 0.025 --count FILE 127.0.0.1 %p' ...

FILE gets one line per connection: "SENT RECEIVED" (client to server, back),
followed by " cut" when --cut-after cut it.
"""
import argparse
import collections
import os
import signal
import socket
import threading
import time


def pump(read, write, finish, delay, totals, index, crossed):
    """Copies read() to write() until EOF, each chunk delivered `delay` seconds after it arrived."""
    queue, ready = collections.deque(), threading.Condition()

    def deliver():
        while True:
            with ready:
                while not queue:
                    ready.wait()
                arrived, data = queue.popleft()
            late = arrived + delay - time.monotonic()
            if late > 0:
                time.sleep(late)
            if not data:
                return finish()
            write(data)

    courier = threading.Thread(target=deliver)
    courier.start()
    while True:
        try:
            data = read()
        except OSError:
            data = b""
        with ready:
            queue.append((time.monotonic(), data))
            ready.notify()
        if not data:
            break
        totals[index] += len(data)
        crossed()
    courier.join()


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=0.025, help="seconds each chunk is held, each way")
    parser.add_argument("--count", help="append 'SENT RECEIVED' to this file at the end")
    parser.add_argument("--cut-after", type=int, help="cut the connection once this many bytes have crossed, both ways together")
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    options = parser.parse_args()
    peer = socket.create_connection((options.host, options.port))
    totals = [0, 0]

    def report(*_, cut=False):
        # ssh ends its ProxyCommand with SIGHUP as it exits: the counts are written then too.
        if options.count:
            with open(options.count, "a") as out:
                out.write(f"{totals[0]} {totals[1]}{' cut' if cut else ''}\n")
        os._exit(0)

    def crossed():
        # The cut: the process ends, and the kernel closes both sockets at once.
        if options.cut_after is not None and sum(totals) >= options.cut_after:
            report(cut=True)

    signal.signal(signal.SIGHUP, report)
    signal.signal(signal.SIGTERM, report)
    outbound = threading.Thread(target=pump, daemon=True, args=(lambda: os.read(0, 65536), peer.sendall,
                                                                lambda: peer.shutdown(socket.SHUT_WR), options.delay, totals, 0, crossed))
    outbound.start()
    pump(lambda: peer.recv(65536), lambda data: write_all(1, data), lambda: os.close(1), options.delay, totals, 1, crossed)
    outbound.join()
    report()


if __name__ == "__main__":
    main()
