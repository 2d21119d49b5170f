"""Background processing: documents leave ``wait`` when due, then callbacks are posted.

A single thread sleeps until the next due document. A report that arrives after the due
time settles the document itself (``settle``), so a client never sees ``wait`` once the
delay has passed, whatever the thread scheduling.
"""

import heapq
import itertools
import logging
import threading
import time
import urllib.error
import urllib.request

_logger = logging.getLogger("kkm_sandbox")


class Processor:
    def __init__(self, lock, finalize, after):
        self.cond = threading.Condition(lock)
        self.finalize = finalize  # (document) -> None, runs under the lock
        self.after = after  # (document) -> None, runs outside the lock (callbacks)
        self.heap = []
        self.counter = itertools.count()
        self.stopping = False
        self.thread = None

    def start(self):
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="kkm-sandbox-processor", daemon=True)
        self.thread.start()

    def stop(self):
        with self.cond:
            self.stopping = True
            self.cond.notify_all()
        if self.thread:
            self.thread.join(timeout=5)

    def schedule(self, document):
        with self.cond:
            heapq.heappush(self.heap, (document.due_at, next(self.counter), document))
            self.cond.notify_all()

    def clear(self):
        with self.cond:
            self.heap.clear()

    def settle(self, document):
        """Finish ``document`` now if it is due; returns True when this call finished it."""
        with self.cond:
            if document.status != "wait" or document.due_at > time.monotonic():
                return False
            self.finalize(document)
        self.after(document)
        return True

    def due_count(self):
        """Documents already due but not finished yet."""
        now = time.monotonic()
        with self.cond:
            return sum(1 for due, _n, doc in self.heap if due <= now and doc.status == "wait")

    def _run(self):
        while True:
            finished = []
            with self.cond:
                if self.stopping:
                    return
                now = time.monotonic()
                while self.heap and self.heap[0][0] <= now:
                    _due, _n, document = heapq.heappop(self.heap)
                    if document.status == "wait":
                        self.finalize(document)
                        finished.append(document)
                if not finished:
                    timeout = self.heap[0][0] - now if self.heap else None
                    self.cond.wait(timeout)
                    continue
            for document in finished:
                self.after(document)


class CallbackSender:
    """POSTs a result body to a client URL from a background thread; errors are only logged."""

    def __init__(self, timeout=3.0):
        self.timeout = timeout
        self.lock = threading.Lock()
        self.in_flight = 0

    def send(self, url, body, done):
        with self.lock:
            self.in_flight += 1
        thread = threading.Thread(
            target=self._post, args=(url, body, done), name="kkm-sandbox-callback", daemon=True
        )
        thread.start()

    def idle(self):
        with self.lock:
            return self.in_flight == 0

    def _post(self, url, body, done):
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                outcome = f"sent {answer.status}"
        except urllib.error.HTTPError as exc:
            outcome = f"sent {exc.code}"
        except (OSError, ValueError) as exc:
            outcome = f"error: {exc.__class__.__name__}: {exc}"
        _logger.info("CALLBACK POST %s -> %s", url.split("?")[0], outcome)
        try:
            done(outcome)
        finally:
            with self.lock:
                self.in_flight -= 1
