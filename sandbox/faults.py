"""Fault injection: seeded, reproducible, per request kind.

Configuration (Python dict or JSON), one entry per fault kind::

    {"drop": {"probability": 0.1, "targets": ["register"]},
     "latency": {"next": 3, "seconds": 0.5},
     "http_5xx": {"probability": 0.05, "status": 502, "body": "html"}}

Each entry fires for the next ``next`` matching requests, then with ``probability``. Targets
are request kinds: get_token, register, report (ATOL), complex (Checkonline), and mark_info,
mark_health, mark_check, local_check (the marking check); by default
every kind the fault makes sense for. Draws come from one RNG seeded with the sandbox seed and
are made in a fixed order, so the same sequence of requests meets the same faults.

Kinds, in the order they act on a request:
  token_expiry  every issued ATOL token expires now (before the request is processed)
  latency       sleep ``seconds`` before processing
  drop          close the connection before processing: nothing is registered
  http_5xx      answer ``status`` (500/502/503...) with an html, json or empty body, unprocessed
  lost_answer   process the request (the document IS registered), then close without answering
  malformed     process the request, answer HTTP 200 with the real body cut in half (invalid JSON)
  long_wait     the registered ATOL document stays in ``wait`` for ``seconds``
  fiscal_fail   the document fails: ATOL driver/agent ``code`` in the report; Checkonline
                device error ``code`` (HTTP 200) or FCE error ``fce`` (HTTP 500, ``fatal``)
"""

import copy
import random
import threading
from dataclasses import dataclass, field

TARGETS = (
    "get_token",
    "register",
    "report",
    "complex",
    # the marking check (marking.py): the host list, health checks, checks, the local module
    "mark_info",
    "mark_health",
    "mark_check",
    "local_check",
)
KINDS = (
    "token_expiry",
    "latency",
    "drop",
    "http_5xx",
    "lost_answer",
    "malformed",
    "long_wait",
    "fiscal_fail",
)
APPLIES_TO = dict.fromkeys(KINDS, TARGETS)
APPLIES_TO["long_wait"] = ("register",)
APPLIES_TO["fiscal_fail"] = ("register", "complex")
PARAMETERS = {
    "latency": {"seconds": 1.0},
    "http_5xx": {"status": 503, "body": "html"},
    "long_wait": {"seconds": 3600.0},
    "fiscal_fail": {"code": None, "fce": None, "fatal": False},
}
BODIES = ("html", "json", "empty")
LOG_SIZE = 1000


def normalize(config):
    """Validated copy of a fault configuration; raises ValueError/TypeError on nonsense."""
    if not isinstance(config, dict):
        raise TypeError("fault configuration must be an object")
    result = {}
    for kind, spec in config.items():
        if kind == "seed":
            continue
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(KINDS)}")
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise TypeError(f"{kind}: expected an object")
        known = {"probability", "next", "targets"} | set(PARAMETERS.get(kind, {}))
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"{kind}: unknown keys {sorted(unknown)}")
        probability = float(spec.get("probability", 0.0))
        count = int(spec.get("next", 0))
        if not 0.0 <= probability <= 1.0 or count < 0:
            raise ValueError(f"{kind}: probability must be in 0..1 and next >= 0")
        targets = spec.get("targets") or list(APPLIES_TO[kind])
        if isinstance(targets, str):
            targets = [targets]
        bad = [target for target in targets if target not in APPLIES_TO[kind]]
        if bad:
            raise ValueError(f"{kind}: targets {bad} not in {list(APPLIES_TO[kind])}")
        entry = {"probability": probability, "next": count, "targets": list(targets)}
        for name, default in PARAMETERS.get(kind, {}).items():
            entry[name] = spec.get(name, default)
        if kind == "http_5xx":
            entry["status"] = int(entry["status"])
            if not 500 <= entry["status"] <= 599 or entry["body"] not in BODIES:
                raise ValueError("http_5xx: status must be 5xx and body one of html, json, empty")
        if kind in ("latency", "long_wait"):
            entry["seconds"] = float(entry["seconds"])
        result[kind] = entry
    return result


@dataclass
class Decision:
    """The faults chosen for one request: kind -> parameters."""

    seq: int
    target: str
    fired: dict = field(default_factory=dict)

    def __contains__(self, kind):
        return kind in self.fired

    def get(self, kind):
        return self.fired.get(kind)


class Faults:
    def __init__(self, seed=0, config=None):
        self.lock = threading.Lock()
        self.seed = seed
        self.rng = random.Random(f"faults:{seed}")
        self.config = {}
        self.seq = 0
        self.log = []
        if config:
            self.configure(config)

    def configure(self, config):
        """Replace the configuration; a ``seed`` key restarts the RNG with that seed."""
        entries = normalize(config)
        with self.lock:
            if "seed" in config:
                self.seed = int(config["seed"])
                self.rng = random.Random(f"faults:{self.seed}")
            self.config = entries

    def clear(self):
        with self.lock:
            self.config = {}

    def reset(self, seed):
        with self.lock:
            self.seed = seed
            self.rng = random.Random(f"faults:{seed}")
            self.config = {}
            self.seq = 0
            self.log = []

    def snapshot(self):
        with self.lock:
            return {"seed": self.seed, "config": copy.deepcopy(self.config), "fired": list(self.log)}

    def decide(self, target):
        """Draw the faults for one request of kind ``target``."""
        with self.lock:
            self.seq += 1
            decision = Decision(self.seq, target)
            for kind in KINDS:
                spec = self.config.get(kind)
                if not spec or target not in spec["targets"]:
                    continue
                fire = False
                if spec["next"] > 0:
                    spec["next"] -= 1
                    fire = True
                elif spec["probability"] > 0.0:
                    fire = self.rng.random() < spec["probability"]
                if fire:
                    decision.fired[kind] = {
                        name: value
                        for name, value in spec.items()
                        if name not in ("probability", "next", "targets")
                    }
            if decision.fired:
                self.log.append({"seq": decision.seq, "target": target, "faults": sorted(decision.fired)})
                del self.log[:-LOG_SIZE]
            return decision


def parse_cli(text):
    """``KIND=P[,key=value...]`` (the --fault flag) -> (kind, spec)."""
    kind, _, rest = text.partition("=")
    if not rest:
        raise ValueError(f"--fault {text!r}: expected KIND=PROBABILITY[,key=value...]")
    parts = rest.split(",")
    spec = {"probability": float(parts[0])}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key == "targets":
            spec[key] = value.split("+")
        elif key in ("next", "status"):
            spec[key] = int(value)
        elif key in ("seconds", "probability"):
            spec[key] = float(value)
        elif key == "fatal":
            spec[key] = value.lower() in ("1", "true", "yes")
        elif key in ("code", "fce"):
            spec[key] = int(value)
        else:
            spec[key] = value
    return kind.strip(), spec
