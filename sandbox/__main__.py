"""Command line: ``python3 -m sandbox --host 127.0.0.1 --port 8090 [options]``.

Serves until Ctrl-C or SIGTERM; one log line per exchange on stderr.
"""

import argparse
import json
import signal
import sys
import threading

from .faults import parse_cli
from .server import Sandbox


def _parser():
    parser = argparse.ArgumentParser(
        prog="python3 -m sandbox",
        description="Loopback emulator of ATOL Online v4/v5 and Checkonline, with fault injection.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port (0 = any free port; default 8090)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    parser.add_argument(
        "--done-delay", type=float, default=2.0, help="seconds a document stays in wait (default 2)"
    )
    parser.add_argument(
        "--fail-share", type=float, default=0.0, help="share 0..1 of documents ending in fail"
    )
    parser.add_argument(
        "--token-ttl", type=float, default=86400.0, help="ATOL token lifetime in seconds (default 24 h)"
    )
    parser.add_argument("--tls-cert", help="server certificate (PEM): serve HTTPS")
    parser.add_argument("--tls-key", help="server private key (PEM)")
    parser.add_argument(
        "--tls-client-ca", help="CA (PEM) that must have signed the client certificate (mutual TLS)"
    )
    parser.add_argument(
        "--faults", help='fault configuration as JSON or @file.json, e.g. \'{"drop": {"probability": 0.1}}\''
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="KIND=P[,key=value...]",
        help="one fault, repeatable: e.g. lost_answer=0.05,targets=register  latency=0.2,seconds=0.5",
    )
    return parser


def _faults(args):
    config = {}
    if args.faults:
        text = args.faults
        if text.startswith("@"):
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        config = json.loads(text)
    for item in args.fault:
        kind, spec = parse_cli(item)
        config[kind] = spec
    return config


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        sandbox = Sandbox(
            args.host,
            args.port,
            seed=args.seed,
            done_delay=args.done_delay,
            fail_share=args.fail_share,
            token_ttl=args.token_ttl,
            faults=_faults(args),
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            tls_client_ca=args.tls_client_ca,
        )
    except (ValueError, OSError) as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    # Both set explicitly: a shell starting us in the background may have ignored SIGINT.
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())
    try:
        sandbox.start()
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    try:
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
