#!/usr/bin/env python3
"""AgentBroker wire-protocol interop test (Protocols/AGENTBROKER-RPC.md).

Drives a running broker end to end over its api (ROUTER) and events (PUB)
endpoints with a REQ socket, a DEALER socket and a SUB socket, using nothing
but pyzmq and jsonschema, and validates every request it sends and every
reply and event it receives against Protocols/schemas/. Given the workers
endpoint, it also attaches 7/MDP workers (DEALER sockets,
Protocols/AGENTBROKER-WORKERS.md) and runs jobs through them. It also exports
and imports sessions, a trace bundle and a backup (export:*, session:export,
import:*) and validates each document against the format.*.json schemas
(Protocols/AGENTBROKER-PORTABILITY.md).

    python3 Tests/Interop/interop_test.py --api tcp://127.0.0.1:5555 --events tcp://127.0.0.1:5556 \
        --workers tcp://127.0.0.1:5557

Against a broker with CURVE keys, give the client's secret certificate and the
broker's public one (loaded with pyzmq's zmq.auth.load_certificate): every
socket of the test is then a CURVE client, and the run starts by checking that
the api endpoint answers that key and ignores a plain peer and an unknown key.

    python3 Tests/Interop/interop_test.py ... --curve-key client.key_secret --curve-server-key broker.key

Prints one line per check and ends with "N passed, M failed"; the exit
status is 0 only when nothing failed. Every receive has a timeout, so it
never hangs on a broker that stopped answering. It makes its own sessions
(ids carry a per-run tag) and deletes them, so it can run against a broker
that already holds data, and more than once.
"""
import argparse
import datetime
import json
import os
import pathlib
import queue
import re
import socket
import sys
import threading
import time
import traceback
from collections import namedtuple

import zmq
import zmq.auth
from jsonschema import Draft202012Validator

METHODS = [
    "broker:ping", "broker:stats", "session:create", "session:get", "session:list", "session:delete",
    "session:addMessage", "session:getMessages", "session:getCheckpoint", "session:updateCheckpoint",
    "session:getContext", "session:setContext", "session:getAgentDescription", "session:setAgentDescription",
    "session:estimateSize", "session:clearMessages", "session:reset", "events:since",
    "session:buildRequest", "session:previewRequest", "session:compact", "session:previewCompaction",
    "session:listCompactions", "job:submit", "job:get", "job:wait", "job:cancel", "job:list", "worker:list",
    "task:create", "task:get", "task:list", "task:update", "task:recordIteration",
    "export:open", "export:read", "export:close", "session:export",
    "import:begin", "import:write", "import:commit", "import:abort",
]
TOPICS = ["session:created", "session:message", "session:cleared", "session:updated", "session:deleted",
          "checkpoint:updated", "compaction:start", "compaction:complete", "compaction:error",
          "job:queued", "job:started", "job:completed", "job:failed", "job:cancelled",
          "worker:attached", "worker:detached", "task:created", "task:updated", "task:iteration",
          "broker:imported", "auth:denied", "auth:reloaded"]
KIND_CODES = {
    "parse_error": -32700, "invalid_request": -32600, "method_not_found": -32601, "invalid_params": -32602,
    "internal": -32603, "not_found": -32001, "conflict": -32002, "too_large": -32003, "unauthorized": -32004,
    "unavailable": -32005,
}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# Broker-made ids: a prefix, 10 characters of creation time (ms), 16 random ones, Crockford-style base 32.
BROKER_ID = r"_[0-9a-hjkmnp-tv-z]{26}$"
# The worker protocol (AGENTBROKER-WORKERS): frame 1 and the command bytes of frame 2.
MDPW = b"MDPW01"
READY, REQUEST, REPLY, HEARTBEAT, DISCONNECT = b"\x01", b"\x02", b"\x03", b"\x04", b"\x05"
# The CURVE keys of --curve-key and --curve-server-key, Z85 text as zmq.auth.load_certificate returns them.
CurveKeys = namedtuple("CurveKeys", "public secret server")


def millis(timestamp):
    """Milliseconds since the epoch of a broker timestamp (2026-11-23T15:28:42.123Z)."""
    parsed = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(parsed.timestamp() * 1000)


class Failed(Exception):
    """Stops one scenario after a failed check its later steps depend on."""


class Report:
    def __init__(self, verbose):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def check(self, name, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok   {name}")
        else:
            self.failed += 1
            print(f"FAIL {name}" + (f": {detail}" if detail else ""))
        sys.stdout.flush()
        return bool(condition)

    def require(self, name, condition, detail=""):
        if not self.check(name, condition, detail):
            raise Failed(name)


def short(value, limit=300):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "..."


class Schemas:
    def __init__(self, folder):
        self.folder = pathlib.Path(folder)
        self.validators = {}

    def validator(self, name):
        if name not in self.validators:
            with open(self.folder / name, encoding="utf-8") as handle:
                schema = json.load(handle)
            Draft202012Validator.check_schema(schema)
            self.validators[name] = Draft202012Validator(
                schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        return self.validators[name]

    def errors(self, name, document):
        """The validation errors of `document` against schema file `name`, as one string ('' when valid)."""
        found = sorted(self.validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
        return "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found[:5])

    @staticmethod
    def stem(method):
        return method.replace(":", ".")


class Client:
    """A REQ socket and a DEALER socket on the api endpoint, with reply validation."""

    def __init__(self, context, api, timeout_ms, report, schemas):
        self.context = context
        self.api = api
        self.timeout_ms = timeout_ms
        self.report = report
        self.schemas = schemas
        self.next_id = 0
        self.sent = 0
        self.errors_caused = {kind: 0 for kind in KIND_CODES}
        self.req = self._socket(zmq.REQ)
        self.dealer = self._socket(zmq.DEALER)

    def _socket(self, kind):
        sock = self.context.socket(kind)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.RCVTIMEO, self.timeout_ms)
        sock.setsockopt(zmq.SNDTIMEO, self.timeout_ms)
        if kind == zmq.REQ:
            # A timed-out request must not wedge the socket; correlation also checks that the
            # broker echoes the whole routing envelope (the REQ adds a request-id frame to it).
            sock.setsockopt(zmq.REQ_RELAXED, 1)
            sock.setsockopt(zmq.REQ_CORRELATE, 1)
        sock.connect(self.api)
        return sock

    def new_id(self, via):
        self.next_id += 1
        # REQ requests use integer ids, DEALER requests string ids: both are legal and echoed.
        return self.next_id if via == "req" else f"d-{self.next_id}"

    # -------------------------------------------------------------- transport

    def exchange(self, frames, via="req"):
        """Sends body frames; returns the reply's body frames (the DEALER gets its envelope too), or None."""
        sock = self.req if via == "req" else self.dealer
        self.sent += 1
        try:
            sock.send_multipart(frames)
            return sock.recv_multipart()
        except zmq.Again:
            return None

    # -------------------------------------------------------------- JSON-RPC

    def request(self, method, params=None, via="req", request_id=None, validate_params=True):
        """Sends one request; returns (reply document or None, request id)."""
        request_id = self.new_id(via) if request_id is None else request_id
        document = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            document["params"] = params
        if validate_params:
            problems = self.schemas.errors("request.json", document)
            if not problems and method in METHODS:
                problems = self.schemas.errors(f"{Schemas.stem(method)}.params.json", params or {})
            self.report.check(f"  request {method} matches its schema", not problems, problems)
        frames = self.exchange([json.dumps(document, ensure_ascii=False).encode("utf-8")], via)
        if frames is None:
            self.report.check(f"  reply to {method} within {self.timeout_ms} ms", False, "timed out")
            return None, request_id
        if via == "dealer" and len(frames) != 1:
            self.report.check(f"  {method}: DEALER reply is one frame", False, f"{len(frames)} frames")
            return None, request_id
        return self.parse(frames[-1], method), request_id

    def parse(self, body, label):
        try:
            reply = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.report.check(f"  {label}: reply is UTF-8 JSON", False, str(error))
            return None
        if isinstance(reply, dict) and "error" in reply:
            problems = self.schemas.errors("error.json", reply)
            self.report.check(f"  {label}: error reply matches error.json", not problems, problems)
            kind = reply.get("error", {}).get("data", {}).get("kind")
            if kind in self.errors_caused:
                self.errors_caused[kind] += 1
        else:
            problems = self.schemas.errors("response.json", reply)
            self.report.check(f"  {label}: reply matches response.json", not problems, problems)
        return reply

    def ok(self, name, method, params=None, via="req"):
        """A call that must succeed; validates the result against <method>.result.json and returns it."""
        reply, request_id = self.request(method, params, via)
        if reply is None:
            self.report.check(name, False, "no reply")
            return None
        if "error" in reply:
            self.report.check(name, False, f"error reply {short(reply['error'])}")
            return None
        problems = self.schemas.errors(f"{Schemas.stem(method)}.result.json", reply.get("result"))
        if problems:
            problems += f" in {short(reply.get('result'))}"
        same_id = reply.get("id") == request_id
        self.report.check(name, not problems and same_id,
                          problems or f"id {reply.get('id')!r} is not the request's {request_id!r}")
        return reply.get("result")

    def fails(self, name, method, params, kind, field=None, via="req", schema_rejects=None):
        """A call that must fail with error kind `kind` (and data.field when given); returns error.data."""
        params_problems = None
        if schema_rejects is not None and isinstance(params, dict) and method in METHODS:
            params_problems = self.schemas.errors(f"{Schemas.stem(method)}.params.json", params)
        reply, request_id = self.request(method, params, via, validate_params=False)
        if params_problems is not None:
            self.report.check(f"  {method} params schema also rejects them", bool(params_problems) == schema_rejects,
                              "schema accepts params the broker refuses" if schema_rejects else params_problems)
        return self.expect_error(name, reply, kind, field, expected_id=request_id)

    def expect_error(self, name, reply, kind, field=None, expected_id="any"):
        if reply is None:
            self.report.check(name, False, "no reply")
            return None
        error = reply.get("error")
        if not isinstance(error, dict):
            self.report.check(name, False, f"expected a {kind} error, got {short(reply)}")
            return None
        data = error.get("data") or {}
        problems = []
        if data.get("kind") != kind:
            problems.append(f"kind {data.get('kind')!r}, expected {kind!r}")
        if error.get("code") != KIND_CODES[kind]:
            problems.append(f"code {error.get('code')}, expected {KIND_CODES[kind]}")
        if field is not None and data.get("field") != field:
            problems.append(f"data.field {data.get('field')!r}, expected {field!r}")
        if expected_id != "any" and reply.get("id") != expected_id:
            problems.append(f"id {reply.get('id')!r}, expected {expected_id!r}")
        self.report.check(name, not problems, "; ".join(problems) + f" ({error.get('message')})")
        return data

    def raw(self, name, frames, kind, via="req", expected_id=None):
        """Sends raw body frames that must be refused with error kind `kind` and id `expected_id`."""
        reply_frames = self.exchange(frames, via)
        if reply_frames is None:
            self.report.check(name, False, "no reply")
            return None
        reply = self.parse(reply_frames[-1], name)
        return self.expect_error(name, reply, kind, expected_id=expected_id)


class Subscriber:
    """A SUB socket that collects event frames and validates each against its topic's schema."""

    def __init__(self, context, endpoint, report, schemas, prefixes):
        self.report = report
        self.schemas = schemas
        self.sock = context.socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        for prefix in prefixes:
            self.sock.setsockopt(zmq.SUBSCRIBE, prefix.encode())
        self.sock.connect(endpoint)
        self.events = []  # (topic frame, body dict, raw body bytes)
        self.malformed = []

    def drain(self, wait_ms, until=None):
        """Collects events for up to wait_ms, returning early once until(events) is true."""
        deadline = time.monotonic() + wait_ms / 1000
        while True:
            if until is not None and until(self.events):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return until is None
            if not self.sock.poll(int(left * 1000) + 1, zmq.POLLIN):
                continue
            frames = self.sock.recv_multipart()
            if len(frames) != 2:
                self.malformed.append(f"{len(frames)} frames")
                continue
            topic = frames[0].decode("utf-8", "replace")
            try:
                body = json.loads(frames[1].decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                self.malformed.append(f"{topic}: {error}")
                continue
            self.events.append((topic, body, frames[1]))

    def validate_all(self, session_ids):
        mine = [(t, b, r) for t, b, r in self.events if isinstance(b, dict) and b.get("sessionId") in session_ids]
        self.report.check("events: every PUB message has 2 frames and a JSON body", not self.malformed,
                          "; ".join(self.malformed[:3]))
        bad = []
        for topic, body, _ in mine:
            if topic not in TOPICS:
                bad.append(f"unknown topic {topic}")
                continue
            problems = self.schemas.errors(f"event.{topic.replace(':', '.')}.json", body)
            if problems:
                bad.append(f"{topic} seq {body.get('seq')}: {problems}")
            if body.get("topic") != topic:
                bad.append(f"topic frame {topic} but body topic {body.get('topic')}")
            problems = self.schemas.errors("event.json", body)
            if problems:
                bad.append(f"event.json: {problems}")
        self.report.check(f"events: all {len(mine)} events of this run match their topic schemas", not bad,
                          "; ".join(bad[:3]))
        seqs = [b["seq"] for _, b, _ in mine if isinstance(b.get("seq"), int)]
        self.report.check("events: this run's events arrive in strictly increasing seq order",
                          all(a < b for a, b in zip(seqs, seqs[1:])), f"seqs {seqs}")
        return mine


class Worker:
    """A 7/MDP worker on a DEALER socket (Protocols/AGENTBROKER-WORKERS.md), driven step by step by the test.

    A WorkerPump thread heartbeats for it every `beat_ms` and moves what the broker sends into `inbox`
    (counting the broker's HEARTBEATs), so the worker stays alive whatever the test is doing; the lock
    hands the socket between that thread and the test's.
    """

    def __init__(self, context, endpoint, service, name, beat_ms):
        self.service = service
        self.name = name
        self.beat = beat_ms / 1000
        self.sock = context.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(endpoint)
        self.lock = threading.Lock()
        self.inbox = queue.Queue()
        self.heartbeats = 0  # HEARTBEATs received from the broker
        self.heartbeating = False  # from READY on: a HEARTBEAT before READY would get DISCONNECT
        self.last_sent = time.monotonic()
        self.closed = False

    def send(self, command, *frames):
        with self.lock:
            if not self.closed:
                self.sock.send_multipart([b"", MDPW, command, *frames])
                self.last_sent = time.monotonic()

    def send_raw(self, frames):
        with self.lock:
            self.sock.send_multipart(frames)

    def ready(self, body):
        self.send(READY, self.service.encode("utf-8"), json.dumps(body).encode("utf-8"))
        self.heartbeating = True

    def reply(self, job_id, body):
        self.send(REPLY, job_id.encode("utf-8"), b"", json.dumps(body).encode("utf-8"))

    def service_socket(self):
        """WorkerPump: a HEARTBEAT when one is due, then everything the broker sent."""
        with self.lock:
            if self.closed:
                return
            if self.heartbeating and time.monotonic() - self.last_sent >= self.beat:
                self.sock.send_multipart([b"", MDPW, HEARTBEAT])
                self.last_sent = time.monotonic()
            while self.sock.poll(0, zmq.POLLIN):
                frames = self.sock.recv_multipart()
                if frames == [b"", MDPW, HEARTBEAT]:
                    self.heartbeats += 1
                else:
                    self.inbox.put(frames)

    def receive(self, timeout_ms):
        """The next command other than HEARTBEAT, as its frames; None at the time-out."""
        try:
            return self.inbox.get(timeout=timeout_ms / 1000)
        except queue.Empty:
            return None

    def close(self, disconnect=True):
        with self.lock:
            if self.closed:
                return
            if disconnect:
                self.sock.send_multipart([b"", MDPW, DISCONNECT])
            self.closed = True
            self.sock.close()


class WorkerPump(threading.Thread):
    """Services every Worker's socket every 10 ms until stopped."""

    def __init__(self):
        super().__init__(name="worker-pump", daemon=True)
        self.workers = []
        self.stopping = threading.Event()

    def add(self, worker):
        self.workers.append(worker)
        return worker

    def run(self):
        while not self.stopping.wait(0.01):
            for worker in list(self.workers):
                try:
                    worker.service_socket()
                except zmq.ZMQError:
                    pass

    def stop(self):
        self.stopping.set()
        if self.is_alive():
            self.join(2)
        for worker in self.workers:
            try:
                worker.close()
            except zmq.ZMQError:
                pass


# ====================================================================== scenarios

class Run:
    def __init__(self, args):
        self.args = args
        self.report = Report(args.verbose)
        self.schemas = Schemas(args.schemas)
        self.context = zmq.Context()
        if args.curve is not None:
            # pyzmq sets a context's default options on every socket it makes, before the test connects it: so
            # every socket of the run (REQ, DEALER, SUB, workers, throwaway ones) is a CURVE client of the broker.
            self.context.setsockopt(zmq.CURVE_PUBLICKEY, args.curve.public)
            self.context.setsockopt(zmq.CURVE_SECRETKEY, args.curve.secret)
            self.context.setsockopt(zmq.CURVE_SERVERKEY, args.curve.server)
        self.client = Client(self.context, args.api, args.timeout_ms, self.report, self.schemas)
        self.tag = f"interop-{os.getpid()}-{int(time.time() * 1000)}"
        self.feature = f"{self.tag}-feature"
        self.sessions = []  # ids this run created, deleted at the end
        self.subscriber = Subscriber(self.context, args.events, self.report, self.schemas,
                                     ["session:", "checkpoint:", "compaction:", "job:", "worker:", "task:",
                                      "broker:"])
        self.pump = WorkerPump()  # heartbeats for the worker scenario's workers, closes them at the end
        self.exact = None
        self.b_messages = 0
        self.a = self.b = self.c = None
        self.m2 = None
        self.sent_messages, self.all_messages, self.total_tokens = [], [], 0

    def section(self, title):
        print(f"-- {title}")

    def scenario(self, function, needs_sessions=True):
        if needs_sessions and None in (self.a, self.b, self.c):
            print(f"     (skipped {function.__name__}: the sessions it needs were not created)")
            return
        try:
            function()
        except Failed as failed:
            print(f"     (skipped the rest of {function.__name__} after: {failed})")
        except Exception:  # a crash in the test is a failure, not a hang or a traceback exit
            self.report.check(f"{function.__name__} ran without raising", False, traceback.format_exc(limit=3))

    def main(self):
        c = self.client
        if self.args.curve is not None:
            self.scenario(self.curve, needs_sessions=False)
        self.section("connect")
        ping = c.ok("broker:ping over REQ", "broker:ping")
        if ping is None:
            return
        self.report.check("broker:ping protocolVersion is 1", ping.get("protocolVersion") == 1, short(ping))
        c.ok("broker:ping over DEALER (string id)", "broker:ping", via="dealer")
        self.scenario(self.warm_up_subscriber, needs_sessions=False)
        self.scenario(self.sessions_and_messages, needs_sessions=False)
        self.scenario(self.checkpoints)
        self.scenario(self.documents)
        self.scenario(self.clear_and_reset)
        self.scenario(self.listing)
        self.scenario(self.dealer_pipelining)
        self.scenario(self.bad_input)
        self.scenario(self.limits)
        self.scenario(self.requests_and_compaction, needs_sessions=False)
        self.scenario(self.jobs, needs_sessions=False)
        self.scenario(self.tasks, needs_sessions=False)
        self.scenario(self.workers, needs_sessions=False)
        self.scenario(self.replay)
        self.scenario(self.portability, needs_sessions=False)
        self.scenario(self.stats, needs_sessions=False)
        self.scenario(self.deletion)
        self.scenario(self.events_on_pub)

    # ------------------------------------------------------------------ steps

    def probe(self, context, keys=None, wait_ms=1000):
        """Whether a broker:ping from a new DEALER of `context` is answered within wait_ms.

        keys: (public, secret) to make it a CURVE client with these keys; None leaves the socket as the context
        makes it (CURVE with the run's keys for self.context, plain for a plain context)."""
        sock = context.socket(zmq.DEALER)
        try:
            sock.setsockopt(zmq.LINGER, 0)
            if keys is not None:
                sock.curve_publickey, sock.curve_secretkey = keys
                sock.curve_serverkey = self.args.curve.server
            sock.connect(self.args.api)
            sock.send(json.dumps({"jsonrpc": "2.0", "id": "curve-probe", "method": "broker:ping"}).encode(), zmq.NOBLOCK)
            return bool(sock.poll(wait_ms, zmq.POLLIN))
        except zmq.Again:
            return False
        finally:
            sock.close()

    def quiet(self, method, params):
        """A request whose reply is only read (no checks counted); its result, or None."""
        frames = self.client.exchange([json.dumps({"jsonrpc": "2.0", "id": "curve", "method": method,
                                                   "params": params}).encode("utf-8")], via="dealer")
        try:
            return json.loads(frames[-1].decode("utf-8")).get("result") if frames else None
        except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            return None

    def curve(self):
        """With --curve-key: the api endpoint answers the given key, and neither a plain peer nor an unknown key."""
        c = self.client
        self.section("CURVE")
        sockets = {"REQ": c.req, "DEALER": c.dealer, "SUB": self.subscriber.sock}
        plain = [name for name, sock in sockets.items() if sock.getsockopt(zmq.MECHANISM) != zmq.CURVE]
        self.report.check("the test's sockets are CURVE clients", not plain, f"not CURVE: {plain}")
        self.report.require("a new DEALER with the given key gets a reply to broker:ping",
                            self.probe(self.context, wait_ms=self.args.timeout_ms), "no reply")
        before = self.quiet("events:since", {"seq": 0, "limit": 1, "topic": "auth:"})
        plain_context = zmq.Context()
        try:
            self.report.check("a plain (NULL mechanism) DEALER gets no reply within 1 s", not self.probe(plain_context))
            unknown = zmq.curve_keypair()
            self.report.check("a DEALER with an unknown key pair gets no reply within 1 s",
                              not self.probe(plain_context, keys=unknown))
        finally:
            plain_context.destroy(linger=0)
        if before is None:
            self.report.check("events:since answers (to find the auth:denied event)", False, "no result")
            return
        prefix = unknown[0][:8].decode("ascii")
        found, result, deadline = [], None, time.monotonic() + 3
        while not found and time.monotonic() < deadline:
            result = self.quiet("events:since", {"seq": before["lastSeq"], "topic": "auth:denied"})
            found = [e for e in (result or {}).get("events", [])
                     if e.get("endpoint") == "api" and e.get("key") == prefix and "method" not in e]
            if not found:
                time.sleep(0.1)
        self.report.check(f"the unknown key is reported: auth:denied on api, key {prefix!r} (its first 8 characters)",
                          found and found[0].get("reason") == "unknown key", short(found or result))
        problems = [self.schemas.errors("events.since.result.json", result)] if result else ["no result"]
        for event in found:
            problems += [self.schemas.errors(name, event) for name in ("event.auth.denied.json", "event.json")]
        problems = [p for p in problems if p]
        self.report.check("the auth:denied events match event.auth.denied.json, event.json and events:since's result",
                          found and not problems, "; ".join(problems[:3]))

    def warm_up_subscriber(self):
        """PUB drops what is sent before a subscription reaches it: wait until one probe event arrives."""
        self.section("events subscription")
        for attempt in range(10):
            probe = self.client.ok(f"session:create probe {attempt}", "session:create",
                                   {"type": "probe", "featureId": f"{self.tag}-probe"})
            if probe is None:
                raise Failed("cannot create a probe session")
            self.sessions.append(probe["sessionId"])
            if self.subscriber.drain(500, until=lambda events: any(
                    b.get("sessionId") == probe["sessionId"] for _, b, _ in events)):
                self.report.check("SUB socket receives session:created", True)
                return
        self.report.require("SUB socket receives session:created", False, "no event within 5 s")

    def sessions_and_messages(self):
        c = self.client
        self.section("sessions and messages")
        self.a = f"{self.tag}-A"
        create_a = {"sessionId": self.a, "type": "dev", "featureId": self.feature, "taskId": "T-1",
                    "context": {"repo": "agentbroker", "files": ["a.swift"]},
                    "agentDescription": "You write Swift.", "tokenLimit": 4096}
        a = c.ok("session:create with a client sessionId", "session:create", create_a)
        self.report.require("create returns the given sessionId and attributes",
                            a is not None and a["sessionId"] == self.a and a["type"] == "dev" and a["taskId"] == "T-1"
                            and a["state"] == "planning" and a["tokenLimit"] == 4096 and a["messageCount"] == 0
                            and a["checkpointVersion"] == 0, short(a))
        self.sessions.append(self.a)
        again = c.ok("session:create retried with the same sessionId", "session:create", create_a, via="dealer")
        self.report.check("retried create returns the same session, not a second one",
                          again is not None and again["sessionId"] == self.a and again["createdAt"] == a["createdAt"],
                          short(again))
        c.fails("session:create same sessionId, other featureId -> conflict", "session:create",
                {**create_a, "featureId": f"{self.feature}-other"}, "conflict")

        b = c.ok("session:create without sessionId (broker-made id)", "session:create",
                 {"type": "qa", "featureId": self.feature})
        self.report.require("session:create without sessionId succeeds", b is not None)
        self.b = b["sessionId"]
        self.sessions.append(self.b)
        self.report.check("broker-made session id (ses_ + 26 base-32 characters), taskId null, state planning",
                          re.match("^ses" + BROKER_ID, b["sessionId"]) is not None
                          and b["taskId"] is None and b["state"] == "planning", short(b))
        cc = c.ok("session:create with state", "session:create",
                  {"type": "dev", "featureId": self.feature, "state": "review", "taskId": None, "context": None})
        self.report.require("create with state review", cc is not None and cc["state"] == "review", short(cc))
        self.c = cc["sessionId"]
        self.sessions.append(self.c)
        self.report.check("broker-made ids start with their creation time (they sort by it)",
                          self.b[4:14] <= self.c[4:14], f"{self.b} then {self.c}")

        detail = c.ok("session:get", "session:get", {"sessionId": self.a})
        self.report.check("session:get returns context and agentDescription as given",
                          detail is not None and detail["context"] == create_a["context"]
                          and detail["agentDescription"] == create_a["agentDescription"], short(detail))
        empty = c.ok("session:get (defaults)", "session:get", {"sessionId": self.c}, via="dealer")
        self.report.check("context and agentDescription default to {}",
                          empty is not None and empty["context"] == {} and empty["agentDescription"] == {}, short(empty))

        size = c.ok("session:estimateSize on an empty session", "session:estimateSize", {"sessionId": self.a})
        self.report.require("estimateSize reports exact as a boolean", size is not None, short(size))
        self.exact = size["exact"]
        print(f"     (token counts are {'exact cl100k_base' if self.exact else 'APPROXIMATE'})")

        self.m2 = f"{self.tag}-m2"
        adds = [
            {"role": "system", "content": "You are a helpful agent."},
            {"role": "user", "content": "hello world", "messageId": self.m2, "name": "bob",
             "metadata": {"source": "interop", "n": [1, 2]}},
            {"role": "assistant", "content": "Calling a tool.", "toolCallId": "call-1"},
            {"role": "tool", "content": "{\"ok\":true}", "toolCallId": "call-1", "name": "checker"},
            {"role": "user", "content": "hello world"},
            {"role": "user", "content": "h\u00e9llo \u4e16\u754c \U0001f389 \"quoted\" \\ back\nslash\ttab"},
            {"role": "assistant", "content": ""},
        ]
        self.sent_messages = []
        total = 0
        for index, add in enumerate(adds, start=1):
            via = "dealer" if index % 2 == 0 else "req"
            r = c.ok(f"session:addMessage #{index} ({add['role']})", "session:addMessage",
                     {"sessionId": self.a, **add}, via=via)
            self.report.require(f"addMessage #{index}: seq {index}, sessionTokens is the running total",
                                r is not None and r["seq"] == index and r["sessionTokens"] == total + r["tokens"],
                                short(r))
            total += r["tokens"]
            if "messageId" in add:
                self.report.check("addMessage returns the client messageId", r["messageId"] == add["messageId"])
            else:
                self.report.check(f"addMessage #{index}: broker-made messageId",
                                  re.match("^msg" + BROKER_ID, r["messageId"]) is not None, r["messageId"])
            self.sent_messages.append((add, r))
        self.total_tokens = total
        first_m2 = self.sent_messages[1][1]
        retry = c.ok("session:addMessage retried with the same messageId", "session:addMessage",
                     {"sessionId": self.a, **adds[1]})
        self.report.check("retry returns the first result (same seq and counts)", retry == first_m2,
                          f"{short(retry)} vs {short(first_m2)}")
        retry2 = c.ok("session:addMessage retried over DEALER with other content", "session:addMessage",
                      {"sessionId": self.a, "role": "user", "content": "different", "messageId": self.m2},
                      via="dealer")
        self.report.check("retry is keyed by messageId alone: first result again", retry2 == first_m2, short(retry2))
        c.fails("same messageId in another session -> conflict", "session:addMessage",
                {"sessionId": self.b, "role": "user", "content": "x", "messageId": self.m2}, "conflict")

        if self.exact:
            # cl100k_base: "hello world" is 2 tokens, "bob" is 1. Framing: +4, name: +tokens(name)+1.
            self.report.check("token framing: 'hello world' named 'bob' costs 2+4+1+1 = 8",
                              first_m2["tokens"] == 8, short(first_m2))
            self.report.check("token framing: 'hello world' costs 2+4 = 6",
                              self.sent_messages[4][1]["tokens"] == 6, short(self.sent_messages[4][1]))
            self.report.check("token framing: empty content costs the 4 framing tokens",
                              self.sent_messages[6][1]["tokens"] == 4, short(self.sent_messages[6][1]))
        else:
            self.report.check("approximate counts still include the framing (>= 4 per message)",
                              all(r["tokens"] >= 4 for _, r in self.sent_messages))

        page = c.ok("session:getMessages (all)", "session:getMessages", {"sessionId": self.a})
        self.report.require("getMessages returns the 7 messages in seq order",
                            page is not None and [m["seq"] for m in page["messages"]] == list(range(1, 8))
                            and page["nextSeq"] == 7 and page["hasMore"] is False, short(page))
        problems = []
        for (add, result), message in zip(self.sent_messages, page["messages"]):
            for key in ("role", "content", "name", "toolCallId", "metadata"):
                if add.get(key) != message.get(key):
                    problems.append(f"seq {message['seq']} {key}: {message.get(key)!r} != {add.get(key)!r}")
            if message["messageId"] != result["messageId"] or message["tokens"] != result["tokens"]:
                problems.append(f"seq {message['seq']} id/tokens differ from the addMessage result")
            if message["archived"]:
                problems.append(f"seq {message['seq']} archived")
        self.report.check("messages round-trip (UTF-8 content, name, toolCallId, metadata; absent when not given)",
                          not problems, "; ".join(problems[:3]))
        self.all_messages = page["messages"]

        collected, after, pages = [], 0, 0
        while pages < 10:
            pages += 1
            part = c.ok(f"session:getMessages page {pages} (limit 3, afterSeq {after})", "session:getMessages",
                        {"sessionId": self.a, "afterSeq": after, "limit": 3}, via="dealer" if pages % 2 else "req")
            if part is None:
                break
            collected += part["messages"]
            if not part["hasMore"]:
                break
            self.report.require("a page with hasMore advances nextSeq", part["nextSeq"] > after, short(part))
            after = part["nextSeq"]
        self.report.check("paging with afterSeq/limit yields the same 7 messages in 3 pages",
                          collected == self.all_messages and pages == 3, f"{pages} pages, {len(collected)} messages")

        size = c.ok("session:estimateSize", "session:estimateSize", {"sessionId": self.a})
        if size is not None:
            parts = size["messageTokens"] + size["checkpointTokens"] + size["contextTokens"] + size["agentDescriptionTokens"]
            self.report.check("estimateSize: messageTokens is the sum of message tokens, tokens the sum of parts",
                              size["messageTokens"] == self.total_tokens and size["tokens"] == parts
                              and size["messageCount"] == 7 and size["tokenLimit"] == 4096, short(size))
        detail = c.ok("session:get after adds", "session:get", {"sessionId": self.a})
        if detail is not None:
            self.report.check("session counts: messageCount 7, tokens = running total",
                              detail["messageCount"] == 7 and detail["tokens"] == self.total_tokens, short(detail))

    def checkpoints(self):
        c = self.client
        self.section("checkpoints")
        zero = c.ok("session:getCheckpoint (version 0)", "session:getCheckpoint", {"sessionId": self.a})
        self.report.check("a new session has the empty checkpoint version 0",
                          zero is not None and zero["version"] == 0 and zero["summary"] == "" and zero["pending"] == [],
                          short(zero))
        update = {"sessionId": self.a, "summary": "Parser done; writer next.", "completed": ["parser"],
                  "pending": ["writer", "tests"], "decisions": ["use SQLite WAL"], "blockers": [],
                  "expectedVersion": 0, "requestId": f"{self.tag}-ckpt-1"}
        one = c.ok("session:updateCheckpoint expectedVersion 0", "session:updateCheckpoint", update)
        self.report.require("updateCheckpoint writes version 1",
                            one is not None and one["version"] == 1 and one["pending"] == ["writer", "tests"], short(one))
        retry = c.ok("session:updateCheckpoint retried with the same requestId", "session:updateCheckpoint", update,
                     via="dealer")
        self.report.check("retry returns the first result (still version 1)", retry == one, short(retry))
        data = c.fails("stale expectedVersion -> conflict", "session:updateCheckpoint",
                       {"sessionId": self.a, "summary": "lost update", "expectedVersion": 0}, "conflict")
        self.report.check("conflict reports currentVersion 1", data is not None and data.get("currentVersion") == 1,
                          short(data))
        two = c.ok("session:updateCheckpoint expectedVersion 1, pending only", "session:updateCheckpoint",
                   {"sessionId": self.a, "pending": ["tests"], "expectedVersion": 1})
        self.report.check("fields not given carry over from the previous version",
                          two is not None and two["version"] == 2 and two["summary"] == update["summary"]
                          and two["completed"] == ["parser"] and two["pending"] == ["tests"], short(two))
        old = c.ok("session:getCheckpoint version 1", "session:getCheckpoint", {"sessionId": self.a, "version": 1})
        self.report.check("an older version stays readable", old == one, short(old))
        current = c.ok("session:getCheckpoint (current)", "session:getCheckpoint", {"sessionId": self.a},
                       via="dealer")
        self.report.check("the current checkpoint is version 2", current == two, short(current))
        data = c.fails("session:getCheckpoint version 99 -> not_found", "session:getCheckpoint",
                       {"sessionId": self.a, "version": 99}, "not_found")
        self.report.check("not_found reports currentVersion 2", data is not None and data.get("currentVersion") == 2)

    def documents(self):
        c = self.client
        self.section("context and agent description")
        got = c.ok("session:getContext", "session:getContext", {"sessionId": self.a})
        self.report.check("getContext returns the context given at create",
                          got is not None and got["context"] == {"repo": "agentbroker", "files": ["a.swift"]}, short(got))
        context = {"repo": "agentbroker", "branch": "main", "nested": {"list": [1, 2.5, True, None, "\u00e9"]}}
        r = c.ok("session:setContext (object, requestId)", "session:setContext",
                 {"sessionId": self.a, "context": context, "requestId": f"{self.tag}-ctx-1"})
        self.report.check("setContext echoes the new context", r is not None and r["context"] == context, short(r))
        got = c.ok("session:getContext after set", "session:getContext", {"sessionId": self.a}, via="dealer")
        self.report.check("getContext returns the object set", got is not None and got["context"] == context, short(got))
        r = c.ok("session:setContext (string)", "session:setContext", {"sessionId": self.c, "context": "plain text"})
        got = c.ok("session:getContext (string)", "session:getContext", {"sessionId": self.c})
        self.report.check("a string context round-trips", got is not None and got["context"] == "plain text", short(got))
        r = c.ok("session:setContext null", "session:setContext", {"sessionId": self.c, "context": None})
        self.report.check("a null context is stored as {}", r is not None and r["context"] == {}, short(r))
        got = c.ok("session:getAgentDescription", "session:getAgentDescription", {"sessionId": self.a})
        self.report.check("getAgentDescription returns the string given at create",
                          got is not None and got["agentDescription"] == "You write Swift.", short(got))
        description = {"role": "dev-agent", "skills": ["swift", "sqlite"]}
        r = c.ok("session:setAgentDescription (object)", "session:setAgentDescription",
                 {"sessionId": self.a, "agentDescription": description, "requestId": f"{self.tag}-desc-1"},
                 via="dealer")
        self.report.check("setAgentDescription echoes it", r is not None and r["agentDescription"] == description)
        got = c.ok("session:getAgentDescription after set", "session:getAgentDescription", {"sessionId": self.a})
        self.report.check("getAgentDescription returns the object set",
                          got is not None and got["agentDescription"] == description, short(got))
        c.fails("session:setContext without context -> invalid_params", "session:setContext",
                {"sessionId": self.a}, "invalid_params", field="context", schema_rejects=True)
        c.fails("session:setContext with an array -> invalid_params", "session:setContext",
                {"sessionId": self.a, "context": [1, 2]}, "invalid_params", field="context", schema_rejects=True)

    def clear_and_reset(self):
        c = self.client
        self.section("clear and reset")
        r = c.ok("session:clearMessages (requestId)", "session:clearMessages",
                 {"sessionId": self.a, "requestId": f"{self.tag}-clear-1"})
        self.report.require("clearMessages archives seq 1..7",
                            r is not None and r["archivedCount"] == 7 and r["fromSeq"] == 1 and r["toSeq"] == 7, short(r))
        retry = c.ok("session:clearMessages retried with the same requestId", "session:clearMessages",
                     {"sessionId": self.a, "requestId": f"{self.tag}-clear-1"})
        self.report.check("retried clear returns the first result", retry == r, short(retry))
        active = c.ok("session:getMessages after clear", "session:getMessages", {"sessionId": self.a})
        self.report.check("no active messages after clear", active is not None and active["messages"] == []
                          and active["hasMore"] is False, short(active))
        archived = c.ok("session:getMessages includeArchived", "session:getMessages",
                        {"sessionId": self.a, "includeArchived": True}, via="dealer")
        self.report.check("includeArchived returns the 7 messages, archived: true",
                          archived is not None and len(archived["messages"]) == 7
                          and all(m["archived"] for m in archived["messages"])
                          and [m["content"] for m in archived["messages"]] == [m["content"] for m in self.all_messages],
                          short(archived))
        detail = c.ok("session:get after clear", "session:get", {"sessionId": self.a})
        self.report.check("after clear: messageCount 0, archivedCount 7, tokens 0",
                          detail is not None and detail["messageCount"] == 0 and detail["archivedCount"] == 7
                          and detail["tokens"] == 0, short(detail))
        size = c.ok("session:estimateSize after clear", "session:estimateSize", {"sessionId": self.a})
        self.report.check("estimateSize after clear: messageTokens 0",
                          size is not None and size["messageTokens"] == 0 and size["messageCount"] == 0, short(size))
        add = c.ok("session:addMessage after clear", "session:addMessage",
                   {"sessionId": self.a, "role": "user", "content": "after the clear"})
        self.report.check("seq continues after a clear (8), session tokens restart",
                          add is not None and add["seq"] == 8 and add["sessionTokens"] == add["tokens"], short(add))
        mixed = c.ok("session:getMessages includeArchived after a new message", "session:getMessages",
                     {"sessionId": self.a, "includeArchived": True, "afterSeq": 6})
        self.report.check("afterSeq 6 with archived: seq 7 archived, seq 8 active",
                          mixed is not None and [(m["seq"], m["archived"]) for m in mixed["messages"]]
                          == [(7, True), (8, False)], short(mixed))
        r = c.ok("session:reset", "session:reset", {"sessionId": self.a, "requestId": f"{self.tag}-reset-1"},
                 via="dealer")
        self.report.check("reset archives seq 8 and writes checkpoint version 3",
                          r is not None and r["archivedCount"] == 1 and r["fromSeq"] == 8 and r["toSeq"] == 8
                          and r["checkpointVersion"] == 3, short(r))
        checkpoint = c.ok("session:getCheckpoint after reset", "session:getCheckpoint", {"sessionId": self.a})
        self.report.check("after reset the checkpoint is empty at version 3",
                          checkpoint is not None and checkpoint["version"] == 3 and checkpoint["summary"] == ""
                          and checkpoint["pending"] == [], short(checkpoint))
        got = c.ok("session:getContext after reset", "session:getContext", {"sessionId": self.a})
        self.report.check("reset keeps the context", got is not None and got["context"].get("branch") == "main",
                          short(got))
        r = c.ok("session:clearMessages with nothing active", "session:clearMessages", {"sessionId": self.a})
        self.report.check("clearing an empty session archives 0 (fromSeq = toSeq + 1)",
                          r is not None and r["archivedCount"] == 0 and r["fromSeq"] == r["toSeq"] + 1, short(r))

    def listing(self):
        c = self.client
        self.section("session:list")
        everything = c.ok("session:list featureId", "session:list", {"featureId": self.feature})
        ids = [s["sessionId"] for s in everything["sessions"]] if everything else None
        self.report.check("list by featureId returns this run's 3 sessions in creation order",
                          ids == [self.a, self.b, self.c] and everything["nextCursor"] is None, short(everything))
        dev = c.ok("session:list featureId + type", "session:list", {"featureId": self.feature, "type": "dev"},
                   via="dealer")
        self.report.check("type filter", dev is not None and [s["sessionId"] for s in dev["sessions"]] == [self.a, self.c],
                          short(dev))
        task = c.ok("session:list taskId", "session:list", {"featureId": self.feature, "taskId": "T-1"})
        self.report.check("taskId filter", task is not None and [s["sessionId"] for s in task["sessions"]] == [self.a])
        state = c.ok("session:list state", "session:list", {"featureId": self.feature, "state": "review"})
        self.report.check("state filter", state is not None and [s["sessionId"] for s in state["sessions"]] == [self.c])
        none = c.ok("session:list with no match", "session:list", {"featureId": f"{self.tag}-nothing"})
        self.report.check("no match: empty page, nextCursor null",
                          none is not None and none["sessions"] == [] and none["nextCursor"] is None, short(none))
        paged, cursor, pages = [], None, 0
        while pages < 10:
            pages += 1
            params = {"featureId": self.feature, "limit": 1}
            if cursor is not None:
                params["cursor"] = cursor
            part = c.ok(f"session:list page {pages} (limit 1)", "session:list", params)
            if part is None:
                break
            paged += [s["sessionId"] for s in part["sessions"]]
            cursor = part["nextCursor"]
            if cursor is None:
                break
        self.report.check("cursor paging visits the 3 sessions once each, then nextCursor is null",
                          paged == [self.a, self.b, self.c], f"{paged} in {pages} pages")
        everyone = c.ok("session:list without filters", "session:list", {"limit": 1000})
        self.report.check("an unfiltered list includes this run's sessions",
                          everyone is not None and {self.a, self.b, self.c} <= {s["sessionId"] for s in everyone["sessions"]}
                          or (everyone is not None and everyone["nextCursor"] is not None))
        c.fails("session:list with a made-up cursor -> invalid_params", "session:list", {"cursor": "not-a-cursor"},
                "invalid_params", field="cursor")

    def dealer_pipelining(self):
        """A DEALER may send many requests before reading; replies carry the ids to match them."""
        c = self.client
        self.section("DEALER pipelining")
        sent = {}
        for index in range(1, 21):
            request_id = f"pipe-{self.tag}-{index}"
            if index % 4 == 0:
                method, params = "session:get", {"sessionId": self.b}
            else:
                method, params = "session:addMessage", {"sessionId": self.b, "role": "user",
                                                        "content": f"pipelined {index}",
                                                        "messageId": f"{self.tag}-pipe-{index}"}
            document = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
            c.dealer.send(json.dumps(document).encode())
            sent[request_id] = (method, params)
        replies = {}
        for _ in sent:
            try:
                frames = c.dealer.recv_multipart()
            except zmq.Again:
                break
            reply = c.parse(frames[-1], "pipelined reply")
            if reply is not None:
                replies[reply.get("id")] = reply
        self.report.require("20 pipelined requests get 20 replies with their ids", set(replies) == set(sent),
                            f"{len(replies)} replies")
        bad, seqs = [], []
        for request_id, (method, params) in sent.items():
            reply = replies[request_id]
            if "error" in reply:
                bad.append(f"{request_id}: {short(reply['error'])}")
                continue
            problems = self.schemas.errors(f"{Schemas.stem(method)}.result.json", reply["result"])
            if problems:
                bad.append(f"{request_id}: {problems}")
            if method == "session:addMessage":
                seqs.append(reply["result"]["seq"])
        self.report.check("every pipelined reply is a valid result", not bad, "; ".join(bad[:3]))
        self.report.check("pipelined writes are applied in the order sent (seq 1..15)", seqs == list(range(1, 16)),
                          str(seqs))
        self.b_messages = len(seqs)

    def bad_input(self):
        c = self.client
        self.section("bad input")
        ok_request = {"jsonrpc": "2.0", "id": 7, "method": "broker:ping"}
        c.raw("invalid JSON -> parse_error, id null", [b'{"jsonrpc":"2.0","id":1,'], "parse_error")
        c.raw("invalid UTF-8 inside a string -> parse_error", [
            b'{"jsonrpc":"2.0","id":2,"method":"session:get","params":{"sessionId":"\xff\xfe"}}'], "parse_error")
        c.raw("a stray 0xC0 byte -> parse_error (DEALER)", [b"\xc0"], "parse_error", via="dealer")
        c.raw("empty frame -> parse_error", [b""], "parse_error")
        c.raw("JSON array (batch) -> invalid_request", [json.dumps([ok_request, ok_request]).encode()],
              "invalid_request")
        c.raw("a JSON string -> invalid_request", [b'"broker:ping"'], "invalid_request")
        c.raw("missing id -> invalid_request, id null",
              [b'{"jsonrpc":"2.0","method":"broker:ping"}'], "invalid_request")
        c.raw("id null -> invalid_request", [b'{"jsonrpc":"2.0","id":null,"method":"broker:ping"}'],
              "invalid_request")
        c.raw("fractional id -> invalid_request", [b'{"jsonrpc":"2.0","id":1.5,"method":"broker:ping"}'],
              "invalid_request")
        c.raw("jsonrpc 1.0 -> invalid_request with the id echoed",
              [b'{"jsonrpc":"1.0","id":"v1","method":"broker:ping"}'], "invalid_request", expected_id="v1")
        c.raw("unknown top-level member -> invalid_request with the id echoed",
              [b'{"jsonrpc":"2.0","id":"x1","method":"broker:ping","extra":true}'], "invalid_request",
              expected_id="x1")
        c.raw("positional params (array) -> invalid_request",
              [b'{"jsonrpc":"2.0","id":"p1","method":"session:get","params":["a"]}'], "invalid_request",
              via="dealer", expected_id="p1")
        c.raw("empty method -> invalid_request", [b'{"jsonrpc":"2.0","id":"m1","method":""}'], "invalid_request",
              expected_id="m1")
        reply, request_id = c.request("session:teleport", {}, validate_params=False)
        data = c.expect_error("unknown method -> method_not_found", reply, "method_not_found", expected_id=request_id)
        self.report.check("method_not_found names the method", data is not None and data.get("method") == "session:teleport")
        c.fails("wrong param type (sessionId number) -> invalid_params", "session:get", {"sessionId": 42},
                "invalid_params", field="sessionId", schema_rejects=True)
        c.fails("wrong param type (limit string) -> invalid_params", "session:getMessages",
                {"sessionId": self.a, "limit": "10"}, "invalid_params", field="limit", schema_rejects=True,
                via="dealer")
        c.fails("wrong param type (includeArchived string) -> invalid_params", "session:getMessages",
                {"sessionId": self.a, "includeArchived": "yes"}, "invalid_params", field="includeArchived",
                schema_rejects=True)
        c.fails("wrong param type (pending not strings) -> invalid_params", "session:updateCheckpoint",
                {"sessionId": self.a, "pending": ["ok", 3]}, "invalid_params", field="pending", schema_rejects=True)
        c.fails("wrong param type (metadata array) -> invalid_params", "session:addMessage",
                {"sessionId": self.a, "role": "user", "content": "x", "metadata": [1]}, "invalid_params",
                field="metadata", schema_rejects=True)
        c.fails("unknown param (misspelt sessionID) -> invalid_params", "session:get",
                {"sessionId": self.a, "sessionID": self.a}, "invalid_params", field="sessionID", schema_rejects=True)
        c.fails("unknown param on a write -> invalid_params", "session:addMessage",
                {"sessionId": self.a, "role": "user", "content": "x", "priority": 1}, "invalid_params",
                field="priority", schema_rejects=True, via="dealer")
        c.fails("params on broker:ping -> invalid_params", "broker:ping", {"verbose": True}, "invalid_params",
                field="verbose", schema_rejects=True)
        c.fails("missing required param -> invalid_params", "session:create", {"type": "dev"}, "invalid_params",
                field="featureId", schema_rejects=True)
        c.fails("events:since without seq -> invalid_params", "events:since", {}, "invalid_params", field="seq",
                schema_rejects=True)
        c.fails("limit out of range -> invalid_params", "session:getMessages", {"sessionId": self.a, "limit": 0},
                "invalid_params", field="limit", schema_rejects=True)
        c.fails("tokenLimit out of range -> invalid_params", "session:create",
                {"type": "dev", "featureId": self.feature, "tokenLimit": 10}, "invalid_params", field="tokenLimit",
                schema_rejects=True)
        c.fails("unknown role -> invalid_params", "session:addMessage",
                {"sessionId": self.a, "role": "robot", "content": "x"}, "invalid_params", field="role",
                schema_rejects=True)
        c.fails("messageId with a space -> invalid_params", "session:addMessage",
                {"sessionId": self.a, "role": "user", "content": "x", "messageId": "has space"}, "invalid_params",
                field="messageId", schema_rejects=True)
        c.fails("empty sessionId -> invalid_params", "session:get", {"sessionId": ""}, "invalid_params",
                field="sessionId", schema_rejects=True)
        c.fails("negative expectedVersion -> invalid_params", "session:updateCheckpoint",
                {"sessionId": self.a, "expectedVersion": -1}, "invalid_params", field="expectedVersion",
                schema_rejects=True)
        missing = f"{self.tag}-no-such-session"
        for method, params, via in [
            ("session:get", {}, "req"),
            ("session:getMessages", {}, "dealer"),
            ("session:getCheckpoint", {}, "req"),
            ("session:getContext", {}, "req"),
            ("session:getAgentDescription", {}, "dealer"),
            ("session:estimateSize", {}, "req"),
            ("session:addMessage", {"role": "user", "content": "x"}, "req"),
            ("session:updateCheckpoint", {"summary": "x"}, "dealer"),
            ("session:setContext", {"context": {}}, "req"),
            ("session:setAgentDescription", {"agentDescription": "x"}, "req"),
            ("session:clearMessages", {}, "dealer"),
            ("session:reset", {}, "req"),
            ("session:delete", {}, "req"),
        ]:
            data = c.fails(f"{method} on an unknown session -> not_found", method, {"sessionId": missing, **params},
                           "not_found", via=via, schema_rejects=False)
            self.report.check(f"  not_found names the id ({method})", data is not None and data.get("id") == missing,
                              short(data))
        body = json.dumps({"jsonrpc": "2.0", "id": "extra", "method": "broker:ping"}).encode()
        c.raw("two body frames (DEALER) -> invalid_request", [body, b"extra frame"], "invalid_request", via="dealer")
        c.raw("two body frames after a delimiter (DEALER) -> invalid_request", [b"", body, body], "invalid_request",
              via="dealer")
        c.raw("REQ message with two body frames -> invalid_request", [body, b"{}"], "invalid_request")
        frames = c.exchange([b""], via="dealer")
        reply = c.parse(frames[-1], "empty message") if frames else None
        c.expect_error("DEALER message with only a delimiter -> invalid_request", reply, "invalid_request")
        self.report.check("  the reply keeps the delimiter", frames is not None and len(frames) == 2 and frames[0] == b"")
        frames = c.exchange([b"", body], via="dealer")
        self.report.check("DEALER with an empty delimiter frame gets [\"\", reply]",
                          frames is not None and len(frames) == 2 and frames[0] == b""
                          and json.loads(frames[1]).get("id") == "extra", short(str(frames)))
        frames = c.exchange([b"hop-1", b"", body], via="dealer")
        self.report.check("a routing envelope before the delimiter is echoed back unchanged",
                          frames is not None and frames[:2] == [b"hop-1", b""] and len(frames) == 3
                          and json.loads(frames[2]).get("id") == "extra", short(str(frames)))
        c.ok("the broker still serves after bad input (REQ)", "broker:ping")
        c.ok("the broker still serves after bad input (DEALER)", "broker:ping", via="dealer")

    def limits(self):
        c = self.client
        self.section("limits")
        limit = self.args.max_request_bytes
        head = b'{"jsonrpc":"2.0","id":"big","method":"broker:ping","params":{"pad":"'
        tail = b'"}}'
        frame = head + b"a" * (limit + 1 - len(head) - len(tail)) + tail
        data = c.raw(f"a {len(frame)}-byte request (limit + 1) -> too_large", [frame], "too_large")
        self.report.check("too_large reports the limit", data is not None and data.get("limit") == limit, short(data))
        exact_fit = head + b"a" * (limit - len(head) - len(tail)) + tail
        reply_frames = c.exchange([exact_fit], via="dealer")
        reply = c.parse(reply_frames[-1], "limit-sized request") if reply_frames else None
        c.expect_error("a request of exactly the limit is parsed (unknown param 'pad')", reply, "invalid_params",
                       field="pad", expected_id="big")
        data = c.fails("a 300-byte identifier -> too_large", "session:get", {"sessionId": "s" * 300}, "too_large",
                       field="sessionId", schema_rejects=True)
        self.report.check("  too_large names the field and limit 256", data is not None and data.get("limit") == 256)
        data = c.fails("a 129-byte requestId -> too_large", "session:clearMessages",
                       {"sessionId": self.a, "requestId": "r" * 129}, "too_large", field="requestId",
                       schema_rejects=True)
        self.report.check("  too_large for client ids says 128", data is not None and data.get("limit") == 128)
        transport = 4 * limit + (1 << 20)
        if self.args.skip_oversize or transport > (64 << 20):
            print("     (skipped the transport-limit check)")
            return
        # Beyond ZMQ_MAXMSGSIZE libzmq drops the connection: no reply, by design. Use a throwaway DEALER.
        victim = c._socket(zmq.DEALER)
        victim.setsockopt(zmq.RCVTIMEO, 1500)
        victim.send(b" " * (transport + 1))
        try:
            victim.recv_multipart()
            got_reply = True
        except zmq.Again:
            got_reply = False
        victim.close()
        self.report.check(f"a frame over ZMQ_MAXMSGSIZE ({transport + 1} bytes) gets no reply", not got_reply)
        c.ok("the broker still serves others after dropping that peer", "broker:ping")

    def requests_and_compaction(self):
        """session:buildRequest/previewRequest under a token limit, then a manual compaction (spec 17, 18).

        The session is sized so that its messages overflow tokenLimit while holding fewer prompt tokens
        than the default compaction.minGainTokens (1000): with the default configuration no automatic
        compaction starts, so every compaction seen here is the manual one.
        """
        c = self.client
        self.section("request building and compaction")
        limit = 2000
        sid = f"{self.tag}-R"
        created = c.ok("session:create tokenLimit 2000", "session:create",
                       {"sessionId": sid, "type": "dev", "featureId": f"{self.tag}-requests",
                        "agentDescription": "You keep the parser and the writer in step.",
                        "context": {"repo": "agentbroker"}, "tokenLimit": limit})
        self.report.require("create: tokenLimit 2000, no compaction yet (lastCompactionAt null), requestTokens > 0",
                            created is not None and created["tokenLimit"] == limit and created["requestTokens"] > 0
                            and created["metrics"]["compactions"] == 0
                            and created["metrics"]["lastCompactionAt"] is None, short(created))
        self.sessions.append(sid)
        first = {"sessionId": sid, "summary": "Parser done; writer next.", "completed": ["parser"],
                 "pending": ["writer", "tests"], "decisions": ["use SQLite WAL"], "blockers": ["no CI runner yet"],
                 "expectedVersion": 0}
        one = c.ok("session:updateCheckpoint (items a compaction must keep)", "session:updateCheckpoint", first)
        self.report.require("checkpoint version 1 written", one is not None and one["version"] == 1, short(one))

        # Size the context so that the fixed sections hold 1250 to 1450 tokens, whatever the counter: measure a
        # context well under the limit, then scale it.
        words = "the parser reads each frame and the writer commits every batch to disk before it answers".split()
        n, fixed, preview = 300, None, None
        for attempt in range(6):
            notes = " ".join(words[i % len(words)] for i in range(n))
            context = {"repo": "agentbroker", "files": ["Parser.swift", "Writer.swift"], "notes": notes}
            c.ok(f"session:setContext ({n} words of notes)", "session:setContext", {"sessionId": sid, "context": context})
            preview = c.ok("session:previewRequest (no messages, no userMessage)", "session:previewRequest",
                           {"sessionId": sid}, via="dealer" if attempt % 2 else "req")
            self.report.require("previewRequest answers", preview is not None)
            b = preview["breakdown"]
            fixed = b["agentDescTokens"] + b["contextTokens"] + b["checkpointTokens"]
            if 1250 <= fixed <= 1450:
                break
            n = max(50, round(n * (1350 - (fixed - b["contextTokens"])) / max(1, b["contextTokens"])))
        self.report.require("the fixed sections can be sized to 1250..1450 tokens", 1250 <= fixed <= 1450,
                            f"{fixed} tokens with {n} words")
        exact = preview["exact"]
        b = preview["breakdown"]
        parts = (b["agentDescTokens"] + b["contextTokens"] + b["checkpointTokens"] + b["messagesTokens"]
                 + b["userPromptTokens"])
        prompt = preview["systemPrompt"]
        self.report.check("previewRequest: the five parts add up to total, total <= tokenLimit",
                          parts == b["total"] and b["total"] <= limit and preview["tokenLimit"] == limit, short(b))
        self.report.check("previewRequest without messages: no conversation, userPrompt '', nothing omitted",
                          b["messagesTokens"] == 0 and b["userPromptTokens"] == 0 and preview["userPrompt"] == ""
                          and preview["includedMessages"] == 0 and preview["omittedMessages"] == 0
                          and "# Conversation" not in prompt, short(preview))
        self.report.check("systemPrompt: sections in order (agent description, context, checkpoint), each ends with a blank line",
                          prompt.startswith("# Agent description\n\nYou keep the parser and the writer in step.\n\n# Context\n\n")
                          and "\n\n## notes\n\n" in prompt and "\n\n## files\n\n- Parser.swift\n- Writer.swift\n\n" in prompt
                          and "\n\n# Checkpoint\n\nVersion 1.\n\nParser done; writer next.\n\n" in prompt
                          and "\n\n## Pending\n\n- writer\n- tests\n\n" in prompt and prompt.endswith("\n\n")
                          and preview["checkpointVersion"] == 1, short(prompt[:200]) + " ... " + short(prompt[-200:]))
        detail = c.ok("session:get (requestTokens)", "session:get", {"sessionId": sid})
        if exact and detail is not None:
            self.report.check("requestTokens is the previewed total (exact counts, no messages)",
                              detail["requestTokens"] == b["total"], f"{detail['requestTokens']} vs {b['total']}")

        # Messages until the next request no longer fits.
        sentence = ("we checked the frame sizes again and the replies still arrive in order, so the next step is "
                    "the writer and its tests, which the team will review tomorrow morning")
        sent, request_tokens, checked_sum = [], 0, False
        for index in range(1, 41):
            add = {"sessionId": sid, "role": "user" if index % 2 else "assistant",
                   "content": f"note m{index:02d}: {sentence}"}
            if index == 4:
                add["metadata"] = {"toolCalls": [{"id": f"{self.tag}-call-r1", "name": "run_tests"}]}
            if index == 5:
                add.update(role="tool", name="runner", toolCallId=f"{self.tag}-call-r1")
            r = c.ok(f"session:addMessage m{index:02d} ({add['role']})", "session:addMessage", add,
                     via="dealer" if index % 2 else "req")
            self.report.require(f"m{index:02d} stored with seq {index}", r is not None and r["seq"] == index, short(r))
            sent.append(add)
            detail = c.ok(f"session:get after m{index:02d}", "session:get", {"sessionId": sid})
            self.report.require("session:get answers", detail is not None)
            self.report.require("requestTokens grows with each message", detail["requestTokens"] > request_tokens,
                                f"{detail['requestTokens']} after {request_tokens}")
            request_tokens = detail["requestTokens"]
            if index == 3:
                small = c.ok("session:previewRequest with 3 messages", "session:previewRequest", {"sessionId": sid})
                if small is not None:
                    sb = small["breakdown"]
                    self.report.check("3 messages fit: all included, parts add up, conversation section present",
                                      small["includedMessages"] == 3 and small["omittedMessages"] == 0
                                      and sb["messagesTokens"] > 0 and sum(sb[k] for k in (
                                          "agentDescTokens", "contextTokens", "checkpointTokens", "messagesTokens",
                                          "userPromptTokens")) == sb["total"]
                                      and small["systemPrompt"].endswith(
                                          f"# Conversation\n\n### user\n\nnote m01: {sentence}\n\n### assistant\n\n"
                                          f"note m02: {sentence}\n\n### user\n\nnote m03: {sentence}\n\n"), short(small))
                    if exact:
                        self.report.check("requestTokens is the previewed total (exact counts, nothing omitted)",
                                          request_tokens == sb["total"], f"{request_tokens} vs {sb['total']}")
                    checked_sum = True
            if request_tokens > limit:
                break
        count = len(sent)
        self.report.require("the messages take the session's next request over tokenLimit within 40 messages",
                            request_tokens > limit and checked_sum, f"requestTokens {request_tokens} after {count}")
        self.report.require("no automatic compaction (the messages hold less than minGainTokens)",
                            detail["metrics"]["compactions"] == 0 and detail["messageCount"] == count,
                            "the broker's compaction settings differ from the defaults? " + short(detail))

        question = "What is left to do?"
        preview = c.ok("session:previewRequest over the limit", "session:previewRequest",
                       {"sessionId": sid, "userMessage": question}, via="dealer")
        self.report.require("previewRequest answers", preview is not None)
        b = preview["breakdown"]
        parts = (b["agentDescTokens"] + b["contextTokens"] + b["checkpointTokens"] + b["messagesTokens"]
                 + b["userPromptTokens"])
        self.report.check("previewRequest: parts add up to total <= tokenLimit, oldest messages omitted",
                          parts == b["total"] and b["total"] <= limit and preview["omittedMessages"] > 0
                          and preview["omittedMessages"] + preview["includedMessages"] == count
                          and preview["userPrompt"] == question and b["userPromptTokens"] > 0, short(b))
        built = c.ok("session:buildRequest over the limit", "session:buildRequest",
                     {"sessionId": sid, "userMessage": question})
        self.report.require("buildRequest answers", built is not None)
        omitted, included = built["omittedMessages"], built["includedMessages"]
        self.report.check("buildRequest: totalTokens <= tokenLimit, omittedMessages > 0, omitted + included = messages",
                          built["totalTokens"] <= limit and omitted > 0 and omitted + included == count
                          and built["tokenLimit"] == limit and built["userPrompt"] == question, short(built))
        self.report.check("buildRequest builds what previewRequest previewed",
                          built["systemPrompt"] == preview["systemPrompt"] and built["totalTokens"] == b["total"]
                          and omitted == preview["omittedMessages"] and built["exact"] == preview["exact"],
                          f"{built['totalTokens']} vs {b['total']}")
        prompt = built["systemPrompt"]
        present = [i for i in range(1, count + 1) if f"note m{i:02d}:" in prompt]
        self.report.check("the included messages are the newest ones, oldest first",
                          present == list(range(omitted + 1, count + 1))
                          and prompt.index(f"note m{count:02d}:") > prompt.index(f"note m{omitted + 1:02d}:"),
                          f"{omitted} omitted, present {present}")
        note = f"# Conversation\n\n({omitted} earlier messages omitted to stay within the token limit.)\n\n### "
        after_note = prompt.split(note, 1)[1] if note in prompt else ""
        self.report.check("the conversation opens with the omission note, and not with a tool message",
                          after_note != "" and not after_note.startswith("tool"), short(prompt[-600:]))
        if omitted < 5:  # the tool message and its call are both included
            self.report.check("a tool message's block names it and its toolCallId",
                              f"### tool (runner) [{self.tag}-call-r1]\n\nnote m05: {sentence}\n\n" in prompt)
        empty = c.ok("session:buildRequest with an empty userMessage", "session:buildRequest",
                     {"sessionId": sid, "userMessage": ""}, via="dealer")
        self.report.check("an empty userMessage is allowed: userPrompt ''",
                          empty is not None and empty["userPrompt"] == "" and empty["totalTokens"] <= limit, short(empty))
        c.fails("session:buildRequest without userMessage -> invalid_params", "session:buildRequest",
                {"sessionId": sid}, "invalid_params", field="userMessage", schema_rejects=True)
        huge = " ".join(["word"] * 20000)
        for method in ("session:buildRequest", "session:previewRequest"):
            data = c.fails(f"{method} with a huge userMessage -> too_large", method,
                           {"sessionId": sid, "userMessage": huge}, "too_large", schema_rejects=False)
            self.report.check(f"  too_large names the part userMessage and the figures ({method})",
                              data is not None and data.get("part") == "userMessage"
                              and data.get("tokenLimit") == limit and data.get("requiredTokens", 0) > limit
                              and 0 < data.get("partTokens", 0) <= data.get("requiredTokens", 0), short(data))

        # A dry run changes nothing.
        before = c.ok("session:getMessages before previewCompaction", "session:getMessages", {"sessionId": sid})
        dry = c.ok("session:previewCompaction", "session:previewCompaction",
                   {"sessionId": sid, "instructions": "Keep the decisions."})
        self.report.require("previewCompaction answers", dry is not None and before is not None)
        archive = dry["archive"]
        self.report.check("previewCompaction: the whole conversation would be archived, as version 2",
                          archive["messageCount"] == count and dry["keptMessages"] == 0 and archive["fromSeq"] == 1
                          and archive["throughSeq"] == count and archive["tokens"] > 0
                          and dry["checkpoint"]["version"] == 2, short(dry))
        kept = set(dry["checkpoint"]["pending"] + dry["checkpoint"]["completed"] + dry["checkpoint"]["decisions"]
                   + dry["checkpoint"]["blockers"])
        self.report.check("the previewed checkpoint keeps every pending item, decision and blocker",
                          set(first["pending"] + first["decisions"] + first["blockers"]) <= kept, short(dry["checkpoint"]))
        after = c.ok("session:getMessages after previewCompaction", "session:getMessages", {"sessionId": sid},
                     via="dealer")
        detail = c.ok("session:get after previewCompaction", "session:get", {"sessionId": sid})
        listed = c.ok("session:listCompactions before any compaction", "session:listCompactions", {"sessionId": sid})
        self.report.check("previewCompaction changes nothing (messages, checkpoint version, compactions)",
                          after is not None and len(after["messages"]) == len(before["messages"]) == count
                          and detail is not None and detail["checkpointVersion"] == 1
                          and detail["metrics"]["compactions"] == 0
                          and listed is not None and listed["compactions"] == [], short(listed))

        instructions = "Keep the decisions and what the tests showed."
        done = c.ok("session:compact", "session:compact",
                    {"sessionId": sid, "instructions": instructions, "requestId": f"{self.tag}-compact-1"})
        self.report.require("session:compact answers", done is not None)
        archived = done["archivedCount"]
        self.report.check("compact: manual, archives the conversation, checkpointVersion 1 -> 2",
                          done["reason"] == "manual" and archived > 0 and archived == archive["messageCount"]
                          and done["checkpointVersion"] == 2 and done["fromSeq"] == 1
                          and done["throughSeq"] == archived and done["sessionId"] == sid, short(done))
        self.report.check("compact: tokensSaved = max(0, tokensBefore - tokensAfter)",
                          done["tokensSaved"] == max(0, done["tokensBefore"] - done["tokensAfter"]), short(done))
        active = c.ok("session:getMessages after compact", "session:getMessages", {"sessionId": sid})
        everything = c.ok("session:getMessages includeArchived after compact", "session:getMessages",
                          {"sessionId": sid, "includeArchived": True}, via="dealer")
        self.report.check("after compact getMessages returns fewer messages (the unarchived ones)",
                          active is not None and len(active["messages"]) == count - archived
                          and len(active["messages"]) < count, short(active))
        self.report.check("with includeArchived all messages, the compacted ones archived",
                          everything is not None and [m["seq"] for m in everything["messages"]] == list(range(1, count + 1))
                          and all(m["archived"] == (m["seq"] <= done["throughSeq"]) for m in everything["messages"]),
                          short(everything))
        checkpoint = c.ok("session:getCheckpoint after compact", "session:getCheckpoint", {"sessionId": sid})
        if checkpoint is not None:
            items = set(checkpoint["pending"] + checkpoint["completed"] + checkpoint["decisions"] + checkpoint["blockers"])
            self.report.check("the new checkpoint (version 2) keeps every pending item, decision and blocker",
                              checkpoint["version"] == 2
                              and set(first["pending"] + first["decisions"] + first["blockers"]) <= items,
                              short(checkpoint))
        detail = c.ok("session:get after compact", "session:get", {"sessionId": sid})
        if detail is not None:
            metrics = detail["metrics"]
            self.report.check("session after compact: counters and metrics updated",
                              detail["checkpointVersion"] == 2 and detail["archivedCount"] == archived
                              and detail["messageCount"] == count - archived
                              and detail["requestTokens"] == done["tokensAfter"] and metrics["compactions"] == 1
                              and metrics["tokensSaved"] == done["tokensSaved"]
                              and metrics["lastCompactionMs"] == done["durationMs"]
                              and TIMESTAMP.match(metrics["lastCompactionAt"] or "") is not None, short(detail))
        history = c.ok("session:listCompactions", "session:listCompactions", {"sessionId": sid}, via="dealer")
        entries = history["compactions"] if history else []
        self.report.check("listCompactions: one entry, reason manual, matching the compact result",
                          len(entries) == 1 and entries[0]["reason"] == "manual"
                          and entries[0]["checkpointVersion"] == 2 and entries[0]["messageCount"] == archived
                          and entries[0]["fromSeq"] == done["fromSeq"] and entries[0]["throughSeq"] == done["throughSeq"]
                          and entries[0]["tokensSaved"] == done["tokensSaved"]
                          and entries[0]["summarizer"] == done["summarizer"]
                          and entries[0]["instructions"] == instructions, short(history))
        c.fails("session:listCompactions limit 0 -> invalid_params", "session:listCompactions",
                {"sessionId": sid, "limit": 0}, "invalid_params", field="limit", schema_rejects=True)

        missing = f"{self.tag}-no-such-session"
        for method, params, via in [
            ("session:compact", {}, "req"),
            ("session:buildRequest", {"userMessage": ""}, "dealer"),
            ("session:previewRequest", {}, "req"),
            ("session:previewCompaction", {}, "dealer"),
            ("session:listCompactions", {}, "req"),
        ]:
            data = c.fails(f"{method} on an unknown session -> not_found", method, {"sessionId": missing, **params},
                           "not_found", via=via, schema_rejects=False)
            self.report.check(f"  not_found names the id ({method})", data is not None and data.get("id") == missing,
                              short(data))
            c.fails(f"{method} with an unknown param -> invalid_params", method,
                    {"sessionId": sid, **params, "sessionID": sid}, "invalid_params", field="sessionID", via=via,
                    schema_rejects=True)

        # Events: compaction:start, then checkpoint:updated and compaction:complete, for the manual one only.
        def compaction_events(events):
            return [(t, b) for t, b, _ in events if b.get("sessionId") == sid
                    and (t.startswith("compaction:") or t == "checkpoint:updated")]
        self.subscriber.drain(3000, until=lambda events: any(t == "compaction:complete" for t, _ in compaction_events(events)))
        seen = compaction_events(self.subscriber.events)
        topics = [t for t, _ in seen]
        self.report.check("events: compaction:start, then checkpoint:updated 2 and compaction:complete, in that order",
                          topics == ["checkpoint:updated", "compaction:start", "checkpoint:updated", "compaction:complete"]
                          and seen[2][1].get("version") == 2, str(topics))
        bad = [f"{t}: {p}" for t, body in seen if (p := self.schemas.errors(f"event.{t.replace(':', '.')}.json", body))]
        self.report.check("events: the compaction events match their schemas", not bad, "; ".join(bad[:3]))
        start = [body for t, body in seen if t == "compaction:start"]
        complete = [body for t, body in seen if t == "compaction:complete"]
        if start and complete:
            s, e = start[0], complete[0]
            self.report.check("compaction:start: manual, tokensBefore and messageCount of the snapshot",
                              s["reason"] == "manual" and s["messageCount"] == count and s["tokensBefore"] > 0, short(s))
            self.report.check("compaction:complete repeats the compact result",
                              all(e[k] == done[k] for k in ("reason", "checkpointVersion", "tokensBefore", "tokensAfter",
                                                             "tokensSaved", "durationMs", "summarizer"))
                              and e["messageCount"] == archived and s["seq"] < e["seq"], short(e))

    # ------------------------------------------------------------------ jobs, tasks, workers

    def job_events(self, job_ids, until=None, wait_ms=3000):
        """This run's job:* events for job_ids, as (topic, body), after waiting up to wait_ms for until(list)."""
        def mine(events):
            return [(t, b) for t, b, _ in events if t.startswith("job:") and b.get("jobId") in job_ids]
        self.subscriber.drain(wait_ms, until=(lambda events: until(mine(events))) if until else None)
        return mine(self.subscriber.events)

    def check_event_schemas(self, label, events):
        bad = []
        for topic, body in events:
            if topic not in TOPICS:
                bad.append(f"unknown topic {topic}")
                continue
            problems = self.schemas.errors(f"event.{topic.replace(':', '.')}.json", body)
            if problems:
                bad.append(f"{topic} seq {body.get('seq')}: {problems}")
            problems = self.schemas.errors("event.json", body)
            if problems:
                bad.append(f"event.json: {problems}")
            if body.get("topic") != topic:
                bad.append(f"topic frame {topic} but body topic {body.get('topic')}")
        self.report.check(f"events: the {len(events)} {label} events match their topic schemas", events and not bad,
                          "; ".join(bad[:3]) or "no events")

    def jobs(self):
        """job:submit/get/wait/list/cancel and worker:list, with no worker for the service (spec 8.22 to 8.27)."""
        c = self.client
        self.section("jobs (no worker)")
        service = f"nobody-{self.tag}"
        j1 = f"{self.tag}-job-1"
        submit = {"service": service, "payload": {"task": "T-1", "list": [1, 2.5, None, True], "text": "h\u00e9llo"},
                  "jobId": j1}
        a = c.ok("job:submit with a client jobId", "job:submit", submit)
        self.report.require("submit: created, queued, no attempt yet, defaults maxAttempts 3 and timeoutMs 1800000",
                            a is not None and a["created"] is True and a["jobId"] == j1 and a["state"] == "queued"
                            and a["service"] == service and a["payload"] == submit["payload"] and a["attempts"] == 0
                            and a["maxAttempts"] == 3 and a["timeoutMs"] == 1800000 and a["worker"] is None
                            and a["result"] is None and a["error"] is None and a["startedAt"] is None
                            and a["finishedAt"] is None, short(a))
        self.report.check("deadlineAt = createdAt + timeoutMs",
                          millis(a["deadlineAt"]) - millis(a["createdAt"]) == a["timeoutMs"], short(a))
        again = c.ok("job:submit retried with the same jobId", "job:submit", submit, via="dealer")
        self.report.check("the retry returns the same job with created false",
                          again is not None and again["created"] is False and again["jobId"] == j1
                          and again["createdAt"] == a["createdAt"] and again["state"] == "queued", short(again))
        data = c.fails("job:submit same jobId, other service -> conflict", "job:submit",
                       {**submit, "service": f"{service}-other"}, "conflict")
        self.report.check("  conflict names the jobId", data is not None and data.get("jobId") == j1, short(data))
        got = c.ok("job:get", "job:get", {"jobId": j1}, via="dealer")
        expected = {k: v for k, v in a.items() if k != "created"}
        self.report.check("job:get returns the job as submitted", got == expected, short(got))

        started = time.monotonic()
        waited = c.ok("job:wait timeoutMs 200 on a job no worker serves", "job:wait", {"jobId": j1, "timeoutMs": 200})
        elapsed = time.monotonic() - started
        self.report.check("job:wait answers done false after about 200 ms, the job still queued",
                          waited is not None and waited["done"] is False and waited["state"] == "queued"
                          and 0.15 <= elapsed < 3, f"{elapsed:.3f} s, {short(waited)}")

        b = c.ok("job:submit without jobId or payload", "job:submit", {"service": service})
        self.report.require("a broker-made job id (job_ + 26 base-32 characters), payload null",
                            b is not None and re.match("^job" + BROKER_ID, b["jobId"]) is not None
                            and b["payload"] is None and b["created"] is True, short(b))
        j2 = b["jobId"]
        j3 = f"{self.tag}-job-3"
        short_job = c.ok("job:submit timeoutMs 1000, maxAttempts 1", "job:submit",
                         {"service": service, "jobId": j3, "timeoutMs": 1000, "maxAttempts": 1, "payload": "short"})
        self.report.check("timeoutMs and maxAttempts as given",
                          short_job is not None and short_job["timeoutMs"] == 1000 and short_job["maxAttempts"] == 1,
                          short(short_job))

        workers = c.ok("worker:list", "worker:list", via="dealer")
        entry = [s for s in workers["services"] if s["service"] == service] if workers else []
        self.report.check("worker:list: the service has no worker and 3 queued jobs",
                          len(entry) == 1 and entry[0]["workers"] == 0 and entry[0]["idle"] == 0
                          and entry[0]["queued"] == 3
                          and not any(w["service"] == service for w in workers["workers"]), short(workers))

        listed = c.ok("job:list by service", "job:list", {"service": service})
        ids = [j["jobId"] for j in listed["jobs"]] if listed else []
        order = [(j["createdAt"], j["jobId"]) for j in listed["jobs"]] if listed else []
        self.report.check("job:list returns this service's 3 jobs, newest first, without payload and result",
                          sorted(ids) == sorted([j1, j2, j3]) and order == sorted(order, reverse=True)
                          and all("payload" not in j and "result" not in j for j in listed["jobs"]), short(listed))
        one = c.ok("job:list limit 1", "job:list", {"service": service, "limit": 1}, via="dealer")
        self.report.check("limit 1 returns the newest one", one is not None and len(one["jobs"]) == 1
                          and one["jobs"][0]["jobId"] == ids[0], short(one))

        failed = c.ok("job:wait for a job that times out waiting for a worker", "job:wait",
                      {"jobId": j3, "timeoutMs": 4000})
        self.report.check("at its deadline a queued job fails: 'timed out after 1000 ms waiting for a ... worker'",
                          failed is not None and failed["done"] is True and failed["state"] == "failed"
                          and failed["error"] == f"timed out after 1000 ms waiting for a '{service}' worker"
                          and failed["attempts"] == 0 and failed["finishedAt"] is not None, short(failed))
        queued = c.ok("job:list state queued", "job:list", {"service": service, "state": "queued"})
        self.report.check("the state filter: j1 and j2 are queued, j3 is not",
                          queued is not None and sorted(j["jobId"] for j in queued["jobs"]) == sorted([j1, j2]),
                          short(queued))

        cancelled = c.ok("job:cancel a queued job", "job:cancel", {"jobId": j1})
        self.report.check("cancel: state cancelled, finishedAt set",
                          cancelled is not None and cancelled["state"] == "cancelled"
                          and cancelled["finishedAt"] is not None and cancelled["payload"] == submit["payload"],
                          short(cancelled))
        data = c.fails("job:cancel again -> conflict", "job:cancel", {"jobId": j1}, "conflict", via="dealer")
        self.report.check("  conflict names the job and its state", data is not None and data.get("jobId") == j1
                          and data.get("state") == "cancelled", short(data))
        c.fails("job:cancel a failed job -> conflict", "job:cancel", {"jobId": j3}, "conflict")
        started = time.monotonic()
        over = c.ok("job:wait on a cancelled job", "job:wait", {"jobId": j1, "timeoutMs": 4000})
        self.report.check("job:wait on a final job answers at once with done true",
                          over is not None and over["done"] is True and over["state"] == "cancelled"
                          and time.monotonic() - started < 2, short(over))
        c.ok("job:cancel the second job", "job:cancel", {"jobId": j2})

        missing = f"{self.tag}-no-such-job"
        for method, params in [("job:get", {}), ("job:wait", {"timeoutMs": 0}), ("job:cancel", {})]:
            data = c.fails(f"{method} on an unknown job -> not_found", method, {"jobId": missing, **params},
                           "not_found", schema_rejects=False)
            self.report.check(f"  not_found names the id ({method})", data is not None and data.get("id") == missing,
                              short(data))
        for name, method, params, field in [
            ("job:submit without service", "job:submit", {"payload": 1}, "service"),
            ("job:submit timeoutMs 999", "job:submit", {"service": service, "timeoutMs": 999}, "timeoutMs"),
            ("job:submit maxAttempts 11", "job:submit", {"service": service, "maxAttempts": 11}, "maxAttempts"),
            ("job:submit jobId with a space", "job:submit", {"service": service, "jobId": "a b"}, "jobId"),
            ("job:submit unknown param", "job:submit", {"service": service, "priority": 1}, "priority"),
            ("job:wait timeoutMs 60001", "job:wait", {"jobId": j1, "timeoutMs": 60001}, "timeoutMs"),
            ("job:wait without jobId", "job:wait", {}, "jobId"),
            ("job:list state done", "job:list", {"state": "done"}, "state"),
            ("job:list limit 0", "job:list", {"limit": 0}, "limit"),
            ("worker:list with a param", "worker:list", {"service": service}, "service"),
        ]:
            c.fails(f"{name} -> invalid_params", method, params, "invalid_params", field=field, schema_rejects=True,
                    via="dealer" if len(name) % 2 else "req")

        events = self.job_events({j1, j2, j3}, until=lambda seen: sum(t == "job:cancelled" for t, _ in seen) >= 2)
        self.check_event_schemas("job", events)
        by_job = {j: [(t, b) for t, b in events if b["jobId"] == j] for j in (j1, j2, j3)}
        self.report.check("events: queued (submitted, attempt 1) then cancelled, once each (not for the retry)",
                          [t for t, _ in by_job[j1]] == ["job:queued", "job:cancelled"]
                          and [t for t, _ in by_job[j2]] == ["job:queued", "job:cancelled"]
                          and all(b["reason"] == "submitted" and b["attempt"] == 1 and b["service"] == service
                                  for t, b in by_job[j1] + by_job[j2] if t == "job:queued"), short(events))
        self.report.check("events: the timed-out job: queued, then failed with attempt 0 and its error",
                          [t for t, _ in by_job[j3]] == ["job:queued", "job:failed"]
                          and by_job[j3][1][1]["attempt"] == 0 and by_job[j3][1][1]["error"] == failed["error"],
                          short(by_job[j3]))

    def tasks(self):
        """task:create/get/list/update/recordIteration and the task state machine (spec 7.9, 8.28 to 8.32)."""
        c = self.client
        self.section("tasks")
        feature = f"{self.tag}-tasks"
        t1 = f"{self.tag}-t1"
        create = {
            "taskId": t1, "featureId": feature, "title": "Add the add command",
            "description": "calc add 2 3 prints 5.",
            "checks": ["sh tests/test_add.sh", {"name": "mul", "command": "sh tests/test_mul.sh", "timeoutMs": 60000},
                       {"command": "sh tests/lint.sh"}],
            "workspace": {"repo": "/srv/repo", "baseBranch": f"feature/{feature}", "branch": f"task/{t1}"},
        }
        one = c.ok("task:create with a client taskId", "task:create", create)
        self.report.require("create: planning, iteration 0, no sessions, no failure, no dependencies",
                            one is not None and one["taskId"] == t1 and one["state"] == "planning"
                            and one["iteration"] == 0 and one["sessions"] == {} and one["failureReason"] is None
                            and one["dependsOn"] == [] and one["workspace"] == create["workspace"]
                            and one["title"] == create["title"] and one["description"] == create["description"],
                            short(one))
        self.report.check("checks in their full form (a string is named after itself; timeoutMs 300000 by default)",
                          one["checks"] == [
                              {"name": "sh tests/test_add.sh", "command": "sh tests/test_add.sh", "timeoutMs": 300000},
                              {"name": "mul", "command": "sh tests/test_mul.sh", "timeoutMs": 60000},
                              {"name": "sh tests/lint.sh", "command": "sh tests/lint.sh", "timeoutMs": 300000}],
                          short(one["checks"]))
        again = c.ok("task:create retried with the same fields", "task:create", create, via="dealer")
        self.report.check("the retry returns the task, not a second one", again == one, short(again))
        data = c.fails("task:create same taskId, other title -> conflict", "task:create",
                       {**create, "title": "Something else"}, "conflict")
        self.report.check("  conflict names the taskId", data is not None and data.get("taskId") == t1, short(data))
        t2 = f"{self.tag}-t2"
        two = c.ok("task:create depending on the first", "task:create",
                   {"taskId": t2, "featureId": feature, "title": "Add the mul command", "description": "",
                    "checks": [], "dependsOn": [t1]}, via="dealer")
        self.report.require("the second task depends on the first and has no workspace",
                            two is not None and two["dependsOn"] == [t1] and two["workspace"] is None
                            and two["checks"] == [], short(two))
        three = c.ok("task:create with only featureId and title", "task:create",
                     {"featureId": feature, "title": "Write the README"})
        self.report.require("a broker-made task id (task_ + 26 characters), description '' and checks [] by default",
                            three is not None and re.match("^task" + BROKER_ID, three["taskId"]) is not None
                            and three["description"] == "" and three["checks"] == [] and three["dependsOn"] == [],
                            short(three))
        t3 = three["taskId"]

        got = c.ok("task:get", "task:get", {"taskId": t1})
        self.report.check("task:get: the task and no iterations yet",
                          got is not None and got == {**one, "iterations": []}, short(got))
        listed = c.ok("task:list by featureId", "task:list", {"featureId": feature}, via="dealer")
        self.report.check("task:list: the 3 tasks in creation order, without iterations",
                          listed is not None and [t["taskId"] for t in listed["tasks"]] == [t1, t2, t3]
                          and listed["tasks"][0] == one and all("iterations" not in t for t in listed["tasks"]),
                          short(listed))

        session_dev = f"{self.tag}-ses-dev"
        update_id = f"{self.tag}-task-up-1"
        moved = c.ok("task:update planning -> in_dev with a sessionId", "task:update",
                     {"taskId": t1, "state": "in_dev", "sessionId": session_dev, "iteration": 1,
                      "requestId": update_id})
        self.report.require("the task is in_dev, iteration 1, the session recorded under in_dev",
                            moved is not None and moved["state"] == "in_dev" and moved["iteration"] == 1
                            and moved["sessions"] == {"in_dev": [session_dev]}, short(moved))
        retry = c.ok("task:update retried with the same requestId", "task:update",
                     {"taskId": t1, "state": "in_dev", "sessionId": session_dev, "iteration": 1,
                      "requestId": update_id}, via="dealer")
        self.report.check("the retry returns the first result", retry == moved, short(retry))
        data = c.fails("task:update in_dev -> done (not allowed) -> conflict", "task:update",
                       {"taskId": t1, "state": "done"}, "conflict")
        self.report.check("  the invalid move's error: kind conflict, the task and its current state",
                          data is not None and data.get("kind") == "conflict" and data.get("taskId") == t1
                          and data.get("state") == "in_dev", short(data))
        same = c.ok("task:update with the same sessionId again (no state)", "task:update",
                    {"taskId": t1, "sessionId": session_dev})
        self.report.check("a sessionId is recorded once; the state stays",
                          same is not None and same["state"] == "in_dev" and same["sessions"] == {"in_dev": [session_dev]},
                          short(same))

        results = {"passed": False, "checks": [{"name": "mul", "passed": False, "exitCode": 1}]}
        r = c.ok("task:recordIteration 1 (failed checks)", "task:recordIteration",
                 {"taskId": t1, "iteration": 1, "results": results})
        self.report.check("recordIteration answers passed false", r == {"taskId": t1, "iteration": 1, "passed": False},
                          short(r))
        results_ok = {"passed": True, "checks": [{"name": "mul", "passed": True, "exitCode": 0}]}
        record_id = f"{self.tag}-task-it-1"
        r = c.ok("task:recordIteration 1 again (passed), requestId", "task:recordIteration",
                 {"taskId": t1, "iteration": 1, "results": results_ok, "requestId": record_id}, via="dealer")
        self.report.check("recording the same iteration again replaces it: passed true",
                          r == {"taskId": t1, "iteration": 1, "passed": True}, short(r))
        r2 = c.ok("task:recordIteration retried with the same requestId", "task:recordIteration",
                  {"taskId": t1, "iteration": 1, "results": results_ok, "requestId": record_id})
        self.report.check("the retry returns the first result", r2 == r, short(r2))
        r = c.ok("task:recordIteration 2 with passed 'yes' (not a boolean)", "task:recordIteration",
                 {"taskId": t1, "iteration": 2, "results": {"passed": "yes"}})
        self.report.check("only the boolean true passes", r is not None and r["passed"] is False, short(r))
        detail = c.ok("task:get with iterations", "task:get", {"taskId": t1})
        its = detail["iterations"] if detail else []
        self.report.check("task:get: iterations 1 (replaced, passed) and 2, by number; state and iteration unchanged",
                          [(i["iteration"], i["passed"]) for i in its] == [(1, True), (2, False)]
                          and its[0]["results"] == results_ok and detail["state"] == "in_dev"
                          and detail["iteration"] == 1, short(detail))

        session_qa = f"{self.tag}-ses-qa"
        path = [("in_qa", session_qa), ("in_review", None), ("done", None)]
        for state, session in path:
            params = {"taskId": t1, "state": state}
            if session:
                params["sessionId"] = session
            moved = c.ok(f"task:update -> {state}", "task:update", params)
            self.report.require(f"the task is {state}", moved is not None and moved["state"] == state, short(moved))
        self.report.check("sessions are kept by state", moved["sessions"] == {"in_dev": [session_dev],
                                                                             "in_qa": [session_qa]}, short(moved))
        data = c.fails("task:update done -> in_dev -> conflict (done is final)", "task:update",
                       {"taskId": t1, "state": "in_dev"}, "conflict")
        self.report.check("  the error names the state done", data is not None and data.get("state") == "done",
                          short(data))
        down = c.ok("task:update planning -> failed with a failureReason", "task:update",
                    {"taskId": t2, "state": "failed", "failureReason": "blocked by the first task"}, via="dealer")
        self.report.check("failed with its failureReason", down is not None and down["state"] == "failed"
                          and down["failureReason"] == "blocked by the first task", short(down))
        up = c.ok("task:update failed -> planning", "task:update", {"taskId": t2, "state": "planning"})
        self.report.check("leaving failed clears failureReason",
                          up is not None and up["state"] == "planning" and up["failureReason"] is None, short(up))
        by_state = c.ok("task:list by featureId and state", "task:list", {"featureId": feature, "state": "planning"})
        self.report.check("the state filter returns the planning tasks",
                          by_state is not None and [t["taskId"] for t in by_state["tasks"]] == [t2, t3], short(by_state))

        missing = f"{self.tag}-no-such-task"
        for method, params in [("task:get", {}), ("task:update", {"state": "in_dev"}),
                               ("task:recordIteration", {"iteration": 1, "results": {}})]:
            data = c.fails(f"{method} on an unknown task -> not_found", method, {"taskId": missing, **params},
                           "not_found", schema_rejects=False)
            self.report.check(f"  not_found names the id ({method})", data is not None and data.get("id") == missing,
                              short(data))
        for name, method, params, field, rejects in [
            ("task:create without title", "task:create", {"featureId": feature}, "title", True),
            ("task:create dependsOn a task that does not exist", "task:create",
             {"featureId": feature, "title": "x", "dependsOn": [missing]}, "dependsOn", False),
            ("task:create a check without command", "task:create",
             {"featureId": feature, "title": "x", "checks": [{"name": "n"}]}, "checks", True),
            ("task:create a workspace without branch", "task:create",
             {"featureId": feature, "title": "x", "workspace": {"repo": "/r", "baseBranch": "main"}}, "workspace", True),
            ("task:update to an unknown state", "task:update", {"taskId": t2, "state": "shipped"}, "state", True),
            ("task:recordIteration iteration 0", "task:recordIteration",
             {"taskId": t1, "iteration": 0, "results": {}}, "iteration", True),
            ("task:recordIteration without results", "task:recordIteration", {"taskId": t1, "iteration": 3},
             "results", True),
            ("task:list state bogus", "task:list", {"state": "bogus"}, "state", True),
        ]:
            c.fails(f"{name} -> invalid_params", method, params, "invalid_params", field=field, schema_rejects=rejects)

        def mine(events):
            return [(t, b) for t, b, _ in events if t.startswith("task:") and b.get("featureId") == feature]
        self.subscriber.drain(3000, until=lambda events: sum(
            t == "task:updated" and b["taskId"] == t2 for t, b in mine(events)) >= 2)
        events = mine(self.subscriber.events)
        self.check_event_schemas("task", events)
        created = [b["taskId"] for t, b in events if t == "task:created"]
        self.report.check("task:created once per task (not for the retry)", created == [t1, t2, t3], str(created))
        moves = [(b["taskId"], b["previousState"], b["state"]) for t, b in events
                 if t == "task:updated" and b["previousState"] != b["state"]]
        self.report.check("task:updated moves in order", moves == [
            (t1, "planning", "in_dev"), (t1, "in_dev", "in_qa"), (t1, "in_qa", "in_review"), (t1, "in_review", "done"),
            (t2, "planning", "failed"), (t2, "failed", "planning")], str(moves))
        updates = [b for t, b in events if t == "task:updated" and b["taskId"] == t1]
        self.report.check("one task:updated per applied update of the first task (5), none for the retry",
                          len(updates) == 5 and updates[0]["iteration"] == 1, short(updates))
        iterations = [(b["iteration"], b["passed"]) for t, b in events if t == "task:iteration"]
        self.report.check("task:iteration per recording (not for the retry)",
                          iterations == [(1, False), (1, True), (2, False)], str(iterations))

    def wait_for_worker(self, name, present=True, timeout_ms=3000):
        """Polls worker:list until the worker named `name` is (or is no longer) attached; returns the last list."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            listed = self.client.ok(f"worker:list (waiting for {name} {'to attach' if present else 'to go'})",
                                    "worker:list")
            found = [w for w in listed["workers"] if w["name"] == name] if listed else []
            if bool(found) == present or time.monotonic() > deadline:
                return listed, (found[0] if found else None)
            time.sleep(0.05)

    def wait_job(self, job_id, state):
        """job:get until the job is in `state` (its change is committed)."""
        deadline = time.monotonic() + 3
        while True:
            got = self.client.ok(f"job:get {job_id} (waiting for {state})", "job:get", {"jobId": job_id})
            if got is None or got["state"] == state or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    def expect_request(self, worker, job_id, label):
        """The worker's next command must be a REQUEST for job_id; returns its body."""
        frames = worker.receive(5000)
        self.report.require(f"{label}: the worker receives a REQUEST within 5 s", frames is not None, "nothing came")
        self.report.check(f"{label}: REQUEST frames: '', MDPW01, 0x02, jobId, '', body",
                          len(frames) == 6 and frames[0] == b"" and frames[1] == MDPW and frames[2] == REQUEST
                          and frames[3] == job_id.encode() and frames[4] == b"", short(repr(frames)))
        try:
            body = json.loads(frames[-1].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            self.report.require(f"{label}: the REQUEST body is JSON", False, str(error))
        problems = self.schemas.errors("worker.request.json", body)
        self.report.check(f"{label}: the REQUEST body matches worker.request.json", not problems, problems)
        return body

    def workers(self):
        """Python workers on the workers endpoint: READY, REQUEST/REPLY, HEARTBEAT, DISCONNECT (AGENTBROKER-WORKERS)."""
        c = self.client
        self.section("workers")
        if not self.args.workers:
            print("     (skipped: no --workers endpoint given)")
            return
        beat = self.args.heartbeat_ms
        # The workers heartbeat more often than the broker's interval asks: harmless, and safe whatever it is.
        worker_beat = min(beat, 100)
        service = f"echo-{self.tag}"
        name = f"{self.tag}-echo-1"
        w = self.pump.add(Worker(self.context, self.args.workers, service, name, worker_beat))
        if not self.pump.is_alive():
            self.pump.start()
        ready = {"name": name, "pid": os.getpid(), "host": socket.gethostname()}
        self.report.check("the READY body matches worker.ready.json", not self.schemas.errors("worker.ready.json", ready))
        w.ready(ready)
        listed, entry = self.wait_for_worker(name)
        self.report.require("worker:list shows the worker after its READY", entry is not None, short(listed))
        wid = entry["workerId"]
        self.report.check("the worker is idle, holds no job, workerId w-<hex>, attachedAt and lastSeenAt set",
                          entry["service"] == service and entry["state"] == "idle" and entry["jobId"] is None
                          and re.match(r"^w-[0-9a-f]+$", wid) is not None
                          and TIMESTAMP.match(entry["attachedAt"]) is not None, short(entry))
        services = [s for s in listed["services"] if s["service"] == service]
        self.report.check("worker:list services: 1 worker, 1 idle, 0 queued",
                          services == [{"service": service, "workers": 1, "idle": 1, "queued": 0}], short(services))

        job_id = f"{self.tag}-job-echo"
        payload = {"text": "h\u00e9llo \U0001f389", "n": [1, 2.5, None, True], "nested": {"a": {}}}
        submitted = c.ok("job:submit to the worker's service", "job:submit",
                         {"service": service, "payload": payload, "jobId": job_id, "timeoutMs": 60000,
                          "maxAttempts": 2})
        self.report.require("submit: created", submitted is not None and submitted["created"] is True
                            and submitted["state"] in ("queued", "running"), short(submitted))
        body = self.expect_request(w, job_id, "echo job")
        self.report.check("the REQUEST body: jobId, service, payload as submitted, attempt 1 of 2, timeoutMs, deadlineAt",
                          body == {"jobId": job_id, "service": service, "payload": payload, "attempt": 1,
                                   "maxAttempts": 2, "timeoutMs": 60000, "deadlineAt": submitted["deadlineAt"]},
                          short(body))
        running = self.wait_job(job_id, "running")
        self.report.check("job:get while the worker holds it: running, worker, attempts 1, startedAt",
                          running is not None and running["state"] == "running" and running["worker"] == wid
                          and running["attempts"] == 1 and running["startedAt"] is not None
                          and running["finishedAt"] is None, short(running))
        listed = c.ok("worker:list while the worker is busy", "worker:list", via="dealer")
        mine = [x for x in listed["workers"] if x["workerId"] == wid] if listed else []
        self.report.check("the worker is busy with the job",
                          len(mine) == 1 and mine[0]["state"] == "busy" and mine[0]["jobId"] == job_id, short(mine))

        w.send(HEARTBEAT)
        result = {"echo": payload, "by": name}
        reply = {"ok": True, "result": result}
        self.report.check("the REPLY body matches worker.reply.json", not self.schemas.errors("worker.reply.json", reply))
        w.reply(job_id, reply)
        done = c.ok("job:wait for the echo job", "job:wait", {"jobId": job_id, "timeoutMs": 3000})
        self.report.check("job:wait: done, completed, with the worker's result",
                          done is not None and done["done"] is True and done["state"] == "completed"
                          and done["result"] == result and done["error"] is None and done["attempts"] == 1
                          and done["worker"] == wid and done["finishedAt"] is not None
                          and done["payload"] == payload, short(done))
        got = c.ok("job:get after the reply", "job:get", {"jobId": job_id}, via="dealer")
        self.report.check("job:get returns the completed job", got is not None and done is not None
                          and got == {k: v for k, v in done.items() if k != "done"}, short(got))
        listed, entry = self.wait_for_worker(name)
        self.report.check("after its REPLY the worker is idle again",
                          entry is not None and entry["state"] == "idle" and entry["jobId"] is None, short(entry))

        fail_id = f"{self.tag}-job-fail"
        c.ok("job:submit a job the worker will fail", "job:submit",
             {"service": service, "payload": {"text": ""}, "jobId": fail_id})
        self.expect_request(w, fail_id, "failing job")
        w.reply(fail_id, {"ok": False, "error": "nothing to echo"})
        failed = c.ok("job:wait for the failed job", "job:wait", {"jobId": fail_id, "timeoutMs": 3000})
        self.report.check("a REPLY ok false fails the job at once, without retry (attempts 1 of 3)",
                          failed is not None and failed["done"] is True and failed["state"] == "failed"
                          and failed["error"] == "nothing to echo" and failed["attempts"] == 1
                          and failed["maxAttempts"] == 3 and failed["result"] is None, short(failed))

        # A worker that breaks the protocol while it holds a job: DISCONNECT, dropped, the job re-queued.
        flaky = f"flaky-{self.tag}"
        b = self.pump.add(Worker(self.context, self.args.workers, flaky, f"{self.tag}-flaky-b", worker_beat))
        b.ready({"name": b.name})
        _, entry_b = self.wait_for_worker(b.name)
        self.report.require("the second worker attaches", entry_b is not None)
        requeue_id = f"{self.tag}-job-requeue"
        c.ok("job:submit maxAttempts 2 to the second worker's service", "job:submit",
             {"service": flaky, "payload": {"n": 3}, "jobId": requeue_id, "maxAttempts": 2})
        first = self.expect_request(b, requeue_id, "re-queued job, attempt 1")
        self.report.check("attempt 1", first.get("attempt") == 1, short(first))
        b.heartbeating = False
        b.send_raw([b"", b"MDPW99", HEARTBEAT])  # a wrong protocol frame
        frames = b.receive(3000)
        self.report.check("a wrong protocol frame gets DISCONNECT ('', MDPW01, 0x05)",
                          frames == [b"", MDPW, DISCONNECT], short(repr(frames)))
        b.close(disconnect=False)
        requeued = self.wait_job(requeue_id, "queued")
        self.report.check("the job is queued again: attempts 1, no worker",
                          requeued is not None and requeued["state"] == "queued" and requeued["attempts"] == 1
                          and requeued["worker"] is None, short(requeued))
        c2 = self.pump.add(Worker(self.context, self.args.workers, flaky, f"{self.tag}-flaky-c", worker_beat))
        c2.ready({"name": c2.name})
        second = self.expect_request(c2, requeue_id, "re-queued job, attempt 2")
        self.report.check("the next worker gets it as attempt 2 of 2",
                          second.get("attempt") == 2 and second.get("maxAttempts") == 2
                          and second.get("payload") == {"n": 3}, short(second))
        c2.reply(requeue_id, {"ok": True, "result": 6})
        finished = c.ok("job:wait for the re-queued job", "job:wait", {"jobId": requeue_id, "timeoutMs": 3000})
        listed, entry_c = self.wait_for_worker(c2.name)
        self.report.check("the re-queued job completes on attempt 2 with the new worker",
                          finished is not None and finished["state"] == "completed" and finished["result"] == 6
                          and finished["attempts"] == 2 and entry_c is not None
                          and finished["worker"] == entry_c["workerId"], short(finished))

        # The broker heartbeats its workers.
        deadline = time.monotonic() + (2 * beat + 500) / 1000
        while w.heartbeats == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.report.check(f"the broker sent the worker HEARTBEATs (every {beat} ms)", w.heartbeats > 0,
                          "none received")

        # DISCONNECT: the broker forgets the workers at once.
        w.close()
        c2.close()
        _, gone_w = self.wait_for_worker(name, present=False)
        _, gone_c = self.wait_for_worker(c2.name, present=False)
        self.report.check("after DISCONNECT worker:list no longer shows the workers", gone_w is None and gone_c is None)

        ids = {wid, entry_b["workerId"], entry_c["workerId"] if entry_c else None}

        def worker_events(events):
            return [(t, b) for t, b, _ in events if t.startswith("worker:") and b.get("workerId") in ids]
        self.subscriber.drain(3000, until=lambda events: sum(t == "worker:detached" for t, _ in worker_events(events)) >= 3)
        seen = worker_events(self.subscriber.events)
        self.check_event_schemas("worker", seen)
        story = [(t, b["workerId"], b.get("reason")) for t, b in seen]
        expected = [("worker:attached", wid, None), ("worker:attached", entry_b["workerId"], None),
                    ("worker:detached", entry_b["workerId"], "protocol error")]
        if entry_c is not None:
            expected += [("worker:attached", entry_c["workerId"], None),
                         ("worker:detached", wid, "disconnect"), ("worker:detached", entry_c["workerId"], "disconnect")]
        # The two DISCONNECTs come from two sockets: the broker may read them in either order.
        self.report.check("worker events: attached, detached with reasons protocol error and disconnect",
                          story[:4] == expected[:4] and sorted(story[4:]) == sorted(expected[4:])
                          and all(b["name"] for _, b in seen), str(story))

        events = self.job_events({job_id, fail_id, requeue_id})
        self.check_event_schemas("job (with workers)", events)
        story = {j: [(t, b.get("attempt"), b.get("worker"), b.get("reason")) for t, b in events if b["jobId"] == j]
                 for j in (job_id, fail_id, requeue_id)}
        self.report.check("the echo job: queued (submitted), started and completed by the worker, attempt 1",
                          story[job_id] == [("job:queued", 1, None, "submitted"), ("job:started", 1, wid, None),
                                            ("job:completed", 1, wid, None)], str(story[job_id]))
        self.report.check("the failed job: queued, started, failed (attempt 1) with the worker's error",
                          [s[:2] for s in story[fail_id]] == [("job:queued", 1), ("job:started", 1), ("job:failed", 1)]
                          and [b["error"] for t, b in events if t == "job:failed" and b["jobId"] == fail_id]
                          == ["nothing to echo"], str(story[fail_id]))
        c_id = entry_c["workerId"] if entry_c else None
        self.report.check("the re-queued job: started on the dropped worker, queued again ('worker lost', attempt 2), "
                          "completed on the next",
                          story[requeue_id] == [("job:queued", 1, None, "submitted"),
                                                ("job:started", 1, entry_b["workerId"], None),
                                                ("job:queued", 2, None, "worker lost"), ("job:started", 2, c_id, None),
                                                ("job:completed", 2, c_id, None)], str(story[requeue_id]))
        durations = [b["durationMs"] for t, b in events if t == "job:completed"]
        self.report.check("job:completed durationMs >= 0", durations and all(d >= 0 for d in durations), str(durations))

    def replay(self):
        """events:since returns the persisted events after a seq, in order, page by page."""
        c = self.client
        self.section("events:since")
        self.subscriber.drain(300)
        mine = [b for _, b, _ in self.subscriber.events if b.get("sessionId") == self.a]
        self.report.require("the SUB socket has events of session A to compare with", len(mine) > 0)
        start = min(b["seq"] for b in mine) - 1
        head = c.ok("events:since at the head (limit 1)", "events:since", {"seq": start, "limit": 1})
        self.report.require("events:since reports lastSeq >= every seq seen",
                            head is not None and head["lastSeq"] >= max(b["seq"] for b in mine), short(head))
        replayed, after, pages, problems = [], start, 0, []
        while pages < 200:
            pages += 1
            page = c.ok(f"events:since seq {after} limit 7", "events:since", {"seq": after, "limit": 7},
                        via="dealer" if pages % 2 else "req")
            if page is None:
                break
            seqs = [e["seq"] for e in page["events"]]
            if any(s <= after for s in seqs):
                problems.append(f"asked for events after {after}, got seqs {seqs}")
                break
            if seqs != sorted(set(seqs)):
                problems.append(f"page not in increasing seq order: {seqs}")
            if len(seqs) > 7:
                problems.append(f"page over the limit: {len(seqs)}")
            replayed += page["events"]
            if not page["hasMore"]:
                break
            if page["nextSeq"] <= after or (seqs and page["nextSeq"] != seqs[-1]):
                problems.append(f"nextSeq {page['nextSeq']} does not advance past {after} (seqs {seqs})")
                break
            after = page["nextSeq"]
        self.report.check("events:since returns only events after seq, oldest first, and pages forward",
                          not problems, "; ".join(problems[:2]))
        seqs = [e["seq"] for e in replayed]
        self.report.check("replayed seqs are consecutive (the log has no gaps)",
                          seqs == list(range(start + 1, start + 1 + len(seqs))), f"{seqs[:12]}...")
        by_seq = {e["seq"]: e for e in replayed}
        differing = [b["seq"] for b in mine if by_seq.get(b["seq"]) != b]
        self.report.check("every PUB event of session A is replayed with the same body",
                          not differing, f"missing or different: {differing[:10]}")
        only = c.ok("events:since with topic prefix checkpoint:", "events:since",
                    {"seq": start, "topic": "checkpoint:", "limit": 10000})
        if only is not None:
            expected = [e["seq"] for e in replayed if e["topic"].startswith("checkpoint:")]
            got = [e["seq"] for e in only["events"]]
            self.report.check("the topic prefix filter returns only checkpoint events (all of them)",
                              all(e["topic"] == "checkpoint:updated" for e in only["events"])
                              and got[:len(expected)] == expected and all(s > start for s in got), f"{got} vs {expected}")
        future = c.ok("events:since past the head", "events:since", {"seq": head["lastSeq"] + 1000})
        self.report.check("asking past the head returns no events, nextSeq = the seq asked for",
                          future is not None and future["events"] == [] and future["hasMore"] is False
                          and future["nextSeq"] == head["lastSeq"] + 1000, short(future))

    # ------------------------------------------------------------------ portability

    def read_export(self, opened, label, max_bytes=None):
        """Reads an open export with export:read until done; returns (document text, number of reads).

        Checks the running totals of every reply: bytes counts the UTF-8 text so far, rows never go back,
        only the last piece may be empty, and, for JSON documents and trace bundles (whose every row is a
        record), rows ends at the totalRows export:open announced."""
        c = self.client
        pieces, problems, total, rows, reads = [], [], 0, 0, 0
        while True:
            reads += 1
            self.report.require(f"{label}: the export ends within 1000 reads", reads <= 1000)
            params = {"exportId": opened["exportId"]}
            if max_bytes is not None:
                params["maxBytes"] = max_bytes
            piece = c.ok(f"export:read {label} #{reads}", "export:read", params, via="dealer" if reads % 2 else "req")
            self.report.require(f"export:read {label} #{reads} answers", piece is not None)
            pieces.append(piece["data"])
            total += len(piece["data"].encode("utf-8"))
            if piece["exportId"] != opened["exportId"]:
                problems.append(f"read #{reads}: exportId {piece['exportId']!r}")
            if piece["bytes"] != total:
                problems.append(f"read #{reads}: bytes {piece['bytes']}, the text so far has {total}")
            if piece["rows"] < rows:
                problems.append(f"read #{reads}: rows went back from {rows} to {piece['rows']}")
            if piece["data"] == "" and not piece["done"]:
                problems.append(f"read #{reads}: an empty piece before the end")
            rows = piece["rows"]
            if piece["done"]:
                break
        if opened["format"] in ("json", "jsonl") and rows != opened["totalRows"]:
            problems.append(f"rows {rows} at the end, totalRows {opened['totalRows']} at export:open")
        self.report.check(f"{label}: bytes and rows add up, only the last piece may be empty", not problems,
                          "; ".join(problems[:3]))
        c.fails(f"export:read {label} after done -> not_found", "export:read", {"exportId": opened["exportId"]},
                "not_found")
        return "".join(pieces), reads

    def export_document(self, label, params, max_bytes=None):
        """export:open with params, then read_export; returns (export:open result, document text, reads)."""
        opened = self.client.ok(f"export:open {label}", "export:open", params)
        self.report.require(f"export:open {label} answers", opened is not None)
        self.report.check(f"export:open {label}: totalRows is the sum of stats",
                          opened["totalRows"] == sum(opened["stats"].values()), short(opened))
        text, reads = self.read_export(opened, label, max_bytes)
        return opened, text, reads

    def document_problems(self, schema, label, document):
        problems = self.schemas.errors(schema, document)
        self.report.check(f"{label} matches {schema}", not problems, problems)

    def upload(self, label, kind, text, pieces=1, clear=None):
        """import:begin and import:write of `text` in `pieces` pieces; returns the importId."""
        c = self.client
        begin = {"kind": kind} if clear is None else {"kind": kind, "clear": clear}
        started = c.ok(f"import:begin {label}", "import:begin", begin)
        self.report.require(f"import:begin {label} answers", started is not None)
        import_id = started["importId"]
        size = max(1, -(-len(text) // pieces))
        spooled = 0
        for seq, start in enumerate(range(0, max(len(text), 1), size)):
            data = text[start:start + size]
            wrote = c.ok(f"import:write {label} seq {seq}", "import:write",
                         {"importId": import_id, "seq": seq, "data": data})
            spooled += len(data.encode("utf-8"))
            self.report.require(f"import:write {label} seq {seq}: bytes is the total spooled",
                                wrote is not None and wrote["seq"] == seq and wrote["bytes"] == spooled, short(wrote))
        return import_id

    def refused_import(self, label, kind, text, kind_of_error="invalid_params"):
        """Uploads `text` and expects import:commit to refuse it; returns (error.data, error.message)."""
        import_id = self.upload(label, kind, text)
        reply, request_id = self.client.request("import:commit", {"importId": import_id})
        data = self.client.expect_error(f"import:commit {label} -> {kind_of_error}", reply, kind_of_error,
                                        expected_id=request_id)
        message = reply.get("error", {}).get("message", "") if isinstance(reply, dict) else ""
        self.client.fails(f"import:commit {label} again -> not_found (the import is closed)", "import:commit",
                          {"importId": import_id}, "not_found")
        return data or {}, message

    def data_frames(self, sid, document):
        """export:read with dataFrame and import:write with a data frame (spec 4.5), over REQ and DEALER:
        the pieces arrive raw in a second frame and add up to the same document; a piece sent raw imports."""
        c = self.client
        opened = c.ok("export:open for data frames", "export:open",
                      {"kind": "session", "sessionId": sid, "format": "json", "exportedBy": "interop-test"})
        self.report.require("export:open for data frames answers", opened is not None)
        pieces, problems = [], []
        for n in range(1, 1000):
            via = "req" if n % 2 else "dealer"
            request = {"jsonrpc": "2.0", "id": c.new_id(via), "method": "export:read",
                       "params": {"exportId": opened["exportId"], "maxBytes": 4096, "dataFrame": True}}
            frames = c.exchange([json.dumps(request).encode("utf-8")], via)
            if frames is None or len(frames) != 2:
                problems.append(f"read {n} ({via}): {None if frames is None else len(frames)} frames, expected 2")
                break
            reply = c.parse(frames[0], "export:read with dataFrame")
            result = (reply or {}).get("result") or {}
            schema = self.schemas.errors("export.read.result.json", result)
            if schema or "data" in result or result.get("dataBytes") != len(frames[1]):
                problems.append(f"read {n}: {schema or short(result)}")
            pieces.append(frames[1])
            if result.get("done"):
                break
        text = b"".join(pieces).decode("utf-8", errors="replace")
        try:
            streamed = json.loads(text)
        except json.JSONDecodeError as error:
            streamed, problems = None, problems + [f"not one JSON document: {error}"]
        same = streamed is not None and {k: v for k, v in streamed.items() if k != "exportedAt"} == {
            k: v for k, v in document.items() if k != "exportedAt"}
        self.report.check("export:read with dataFrame: two frames, dataBytes, the same document as data strings",
                          not problems and same and len(pieces) > 1, "; ".join(problems[:3]))

        started = c.ok("import:begin for data frames", "import:begin", {"kind": "session"})
        self.report.require("import:begin for data frames answers", started is not None)
        raw = text.encode("utf-8")
        cut = len(raw) // 2
        while raw[cut] & 0xC0 == 0x80:
            cut -= 1
        def write(seq, data, via):
            request = {"jsonrpc": "2.0", "id": c.new_id(via), "method": "import:write",
                       "params": {"importId": started["importId"], "seq": seq}}
            frames = c.exchange([json.dumps(request).encode("utf-8"), data], via)
            return None if frames is None else c.parse(frames[-1], "import:write with a data frame")
        bad = write(0, b"\xc3", "req")
        c.expect_error("import:write with half a UTF-8 character in its data frame -> invalid_params", bad,
                       "invalid_params", field="data")
        first, second = write(0, raw[:cut], "req"), write(1, raw[cut:], "dealer")
        self.report.check("import:write with a data frame spools the raw bytes",
                          first is not None and second is not None
                          and (second.get("result") or {}).get("bytes") == len(raw), short(second))
        committed = c.ok("import:commit of data frames", "import:commit", {"importId": started["importId"]})
        self.report.check("the raw pieces import as a new session", committed is not None
                          and committed.get("source") == "session" and committed.get("sessionId") != sid,
                          short(committed))
        if committed and committed.get("sessionId"):
            self.sessions.append(committed["sessionId"])

    def portability(self):
        """Export and import (spec 8.33 to 8.40; formats in AGENTBROKER-PORTABILITY.md): one session as JSON,
        packet and Markdown, streamed and one-shot; session imports (in pieces, with a retried piece, legacy
        and refused files); a trace bundle and its merge back; a backup; errors, snapshots and limits."""
        c = self.client
        self.section("portability: export and import")
        sid = f"{self.tag}-P"
        create = {"sessionId": sid, "type": "dev", "featureId": self.feature, "taskId": "T-P",
                  "context": {"repo": "agentbroker", "files": ["Package.swift"]},
                  "agentDescription": "You write Swift.", "tokenLimit": 100000}
        created = c.ok("session:create for export", "session:create", create)
        self.report.require("the session to export is created", created is not None and created["sessionId"] == sid)
        self.sessions.append(sid)
        # Long enough that the compaction makes the request smaller (a broker keeps the messages otherwise).
        filler = " How does the parser recover from a missing closing brace in the third record?" * 6
        before = [{"role": "user", "content": "archived question alpha" + filler},
                  {"role": "assistant", "content": "archived answer beta" + filler, "name": "planner"}]
        for add in before:
            self.report.require("addMessage (to be archived)", c.ok(
                "session:addMessage (to be archived)", "session:addMessage", {"sessionId": sid, **add}) is not None)
        compacted = c.ok("session:compact (archives the first two messages)", "session:compact",
                         {"sessionId": sid, "instructions": "keep it short"})
        self.report.require("the compaction archives 2 messages", compacted is not None
                            and compacted["archivedCount"] == 2, short(compacted))
        checkpoint = {"summary": "Parser done; writer next.", "completed": ["parser"], "pending": ["writer"],
                      "decisions": ["use SQLite WAL"], "blockers": ["CI is down"]}
        self.report.require("checkpoint version 2 written", c.ok(
            "session:updateCheckpoint (version 2)", "session:updateCheckpoint", {"sessionId": sid, **checkpoint})
            is not None)
        long_text = "\u00dcn\u00efc\u00f6d\u00e9 \u2713 \u4e16\u754c \U0001f389 " * 200  # 5,600 UTF-8 bytes
        after = [
            {"role": "user", "content": long_text},
            {"role": "assistant", "content": "Calling the checker.", "name": "planner", "toolCallId": "call-p1",
             "metadata": {"toolCalls": [{"id": "call-p1"}], "usage": {"inputTokens": 100, "outputTokens": 20,
                                                                      "costUsd": 0.5}}},
            {"role": "tool", "content": "{\"ok\":true}", "toolCallId": "call-p1", "name": "checker",
             "metadata": {"exit": 0}},
            {"role": "assistant", "content": "All checks pass.\nDONE: parser", "name": "coder",
             "metadata": {"usage": {"inputTokens": 50, "outputTokens": 5}}},
            {"role": "user", "content": long_text[::-1] + "\n# not a heading \"quoted\" \\ back\ttab"},
        ]
        for add in after:
            self.report.require("addMessage", c.ok(f"session:addMessage ({add['role']})", "session:addMessage",
                                                   {"sessionId": sid, **add}) is not None)
        page = c.ok("session:getMessages includeArchived", "session:getMessages",
                    {"sessionId": sid, "includeArchived": True})
        self.report.require("the session holds 7 messages, 2 archived", page is not None
                            and len(page["messages"]) == 7 and sum(m["archived"] for m in page["messages"]) == 2,
                            short(page))
        messages = page["messages"]
        detail = c.ok("session:get (to compare)", "session:get", {"sessionId": sid})
        self.report.require("session:get answers", detail is not None)

        # ---- the session document, streamed in small pieces
        opened, text, reads = self.export_document(
            "session json", {"kind": "session", "sessionId": sid, "format": "json", "exportedBy": "interop-test"},
            max_bytes=4096)
        self.report.check("export:open session json: kind, format json, formatVersion 2, the four sections",
                          opened["kind"] == "session" and opened["format"] == "json" and opened["formatVersion"] == 2
                          and opened["stats"] == {"sessions": 1, "messages": 7, "checkpoints": 2, "compactions": 1},
                          short(opened))
        self.report.check("a document over 8 KiB read with maxBytes 4096 takes several pieces", reads > 1,
                          f"{reads} reads for {len(text.encode('utf-8'))} bytes")
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            self.report.require("the concatenated pieces are one JSON document", False, str(error))
        self.document_problems("format.session.json", "the session document", document)
        self.data_frames(sid, document)
        self.report.check("header: format agentbroker.session, version 2, exportedBy as given, stats as announced",
                          document.get("format") == "agentbroker.session" and document.get("formatVersion") == 2
                          and document.get("exportedBy") == "interop-test" and document.get("stats") == opened["stats"]
                          and all(len(document.get(k, [])) == n for k, n in opened["stats"].items()),
                          short({k: v for k, v in document.items() if not isinstance(v, list)}))
        record = (document.get("sessions") or [{}])[0]
        self.report.check("the session record: id, labels, documents, limit, archive boundary, metrics",
                          record.get("id") == sid and record.get("type") == "dev" and record.get("taskId") == "T-P"
                          and record.get("context") == create["context"]
                          and record.get("agentDescription") == create["agentDescription"]
                          and record.get("tokenLimit") == 100000 and record.get("firstActiveSeq") == 3
                          and record.get("checkpointVersion") == 2 and record.get("compactions") == 1
                          and record.get("createdAt") == detail["createdAt"], short(record))
        differing = []
        for message, exported in zip(messages, document.get("messages", [])):
            for key in ("seq", "messageId", "role", "content", "name", "toolCallId", "metadata", "tokens",
                        "archived", "createdAt"):
                if message.get(key) != exported.get(key):
                    differing.append(f"seq {message['seq']} {key}")
            if exported.get("sessionId") != sid:
                differing.append(f"seq {message['seq']} sessionId")
        self.report.check("message records equal session:getMessages (archived ones included)",
                          not differing and len(document.get("messages", [])) == 7, "; ".join(differing[:5]))
        versions = [(k.get("version"), k.get("decisions")) for k in document.get("checkpoints", [])]
        self.report.check("checkpoint records: versions 1 (the compaction's) and 2 (as written)",
                          [v for v, _ in versions] == [1, 2] and versions[1][1] == ["use SQLite WAL"], str(versions))
        compaction = (document.get("compactions") or [{}])[0]
        self.report.check("the compaction record: manual, checkpoint version 1, messages 1 to 2, instructions",
                          compaction.get("reason") == "manual" and compaction.get("checkpointVersion") == 1
                          and compaction.get("fromSeq") == 1 and compaction.get("throughSeq") == 2
                          and compaction.get("instructions") == "keep it short", short(compaction))

        one_shot = c.ok("session:export json (one shot)", "session:export",
                        {"sessionId": sid, "format": "json", "exportedBy": "interop-test"})
        if one_shot is not None:
            same = json.loads(one_shot["document"])
            self.report.check("session:export json equals the streamed document apart from exportedAt",
                              one_shot["formatVersion"] == 2 and one_shot["format"] == "json"
                              and {**same, "exportedAt": None} == {**document, "exportedAt": None})

        # ---- the packet
        opened, packet_text, _ = self.export_document(
            "session packet", {"kind": "session", "sessionId": sid, "format": "packet"})
        self.report.check("export:open packet: format packet, formatVersion 1",
                          opened["format"] == "packet" and opened["formatVersion"] == 1, short(opened))
        packet = json.loads(packet_text)
        self.document_problems("format.packet.json", "the packet", packet)
        tokens_all = sum(m["tokens"] for m in messages)
        tokens_active = sum(m["tokens"] for m in messages if not m["archived"])
        trace = packet.get("trace", {})
        self.report.check("packet: session, current checkpoint, exportedBy '' when not given",
                          packet.get("session", {}).get("id") == sid and packet.get("exportedBy") == ""
                          and packet.get("checkpoint") == {"version": 2, **checkpoint}
                          and packet.get("context") == create["context"], short(packet))
        self.report.check("packet trace: 7 messages, 2 archived, 1 compaction, tokens total/active",
                          trace.get("messages") == 7 and trace.get("archivedMessages") == 2
                          and trace.get("compactions") == 1 and trace.get("tokens", {}).get("total") == tokens_all
                          and trace.get("tokens", {}).get("active") == tokens_active, short(trace))
        self.report.check("packet trace: usage summed from metadata.usage (150 in, 25 out, $0.5)",
                          trace.get("inputTokens") == 150 and trace.get("outputTokens") == 25
                          and abs(trace.get("costUsd", -1) - 0.5) < 1e-9, short(trace))
        named = [n for n in packet.get("agentPath", []) if n in ("planner", "checker", "coder")]
        self.report.check("packet agentPath: the agents in the order they first wrote",
                          named == ["planner", "checker", "coder"], str(packet.get("agentPath")))
        one_shot = c.ok("session:export packet (one shot)", "session:export", {"sessionId": sid, "format": "packet"})
        if one_shot is not None:
            self.report.check("session:export packet equals the streamed packet apart from exportedAt",
                              one_shot["formatVersion"] == 1
                              and {**json.loads(one_shot["document"]), "exportedAt": None} == {**packet, "exportedAt": None})

        # ---- Markdown
        opened, markdown, _ = self.export_document(
            "session markdown", {"kind": "session", "sessionId": sid, "format": "markdown"})
        self.report.check("export:open markdown: format markdown", opened["format"] == "markdown", short(opened))
        self.report.check("markdown names the session and has a Checkpoint heading",
                          sid in markdown and re.search(r"^#{1,6} .*Checkpoint", markdown, re.M) is not None,
                          markdown[:300])
        self.report.check("markdown: [x] completed, [ ] pending, archived and active messages",
                          "[x] parser" in markdown and "[ ] writer" in markdown
                          and "archived question alpha" in markdown and "All checks pass." in markdown, markdown[:300])
        one_shot = c.ok("session:export markdown (one shot)", "session:export", {"sessionId": sid, "format": "markdown"})
        if one_shot is not None:
            a, b = one_shot["document"].split("\n"), markdown.split("\n")
            differ = [x for x, y in zip(a, b) if x != y]
            self.report.check("session:export markdown equals the streamed one (apart from export-time lines)",
                              len(a) == len(b) and len(differ) <= 2, f"{len(differ)} lines differ: {differ[:2]}")

        # ---- import the session document as a new session, in 3 pieces, one resent
        started = c.ok("import:begin session", "import:begin", {"kind": "session"})
        self.report.require("import:begin answers", started is not None)
        import_id = started["importId"]
        third = len(text) // 3
        parts = [text[:third], text[third:2 * third], text[2 * third:]]
        sizes = [len(part.encode("utf-8")) for part in parts]
        w0 = c.ok("import:write seq 0", "import:write", {"importId": import_id, "seq": 0, "data": parts[0]})
        w1 = c.ok("import:write seq 1", "import:write", {"importId": import_id, "seq": 1, "data": parts[1]})
        again = c.ok("import:write seq 1 again (a retry)", "import:write",
                     {"importId": import_id, "seq": 1, "data": parts[1]}, via="dealer")
        self.report.require("import:write: bytes is the running total; a repeat of the last seq is acknowledged, "
                            "not appended",
                            w0 is not None and w1 is not None and again is not None and w0["bytes"] == sizes[0]
                            and w1["bytes"] == sizes[0] + sizes[1] and again["seq"] == 1
                            and again["bytes"] == w1["bytes"], f"{short(w0)} {short(w1)} {short(again)}")
        c.fails("import:write with a gap (seq 3) -> invalid_params", "import:write",
                {"importId": import_id, "seq": 3, "data": "x"}, "invalid_params", field="seq")
        w2 = c.ok("import:write seq 2", "import:write", {"importId": import_id, "seq": 2, "data": parts[2]})
        self.report.require("the gap changed nothing: the spool holds exactly the file",
                            w2 is not None and w2["bytes"] == sum(sizes), short(w2))
        done = c.ok("import:commit session", "import:commit", {"importId": import_id})
        self.report.require("import:commit answers", done is not None)
        new_id = done.get("sessionId")
        if new_id:
            self.sessions.append(new_id)
        self.report.check("import:commit: a new session (broker-made id), source session, version 2, not migrated",
                          new_id != sid and re.match("^ses" + BROKER_ID, new_id or "") is not None
                          and done["source"] == "session" and done["kind"] == "session"
                          and done["formatVersion"] == 2 and done["migrated"] is False
                          and done["unrepresentable"] == 0, short(done))
        self.report.check("import:commit stats: the rows written",
                          {k: v for k, v in done["stats"].items() if v}
                          == {"sessions": 1, "messages": 7, "checkpoints": 2, "compactions": 1}, short(done))
        self.compare_imported(sid, new_id, messages, detail)
        self.subscriber.drain(3000, until=lambda events: any(
            t == "broker:imported" and b.get("sessionId") == new_id for t, b, _ in events))
        imported = [(t, b) for t, b, _ in self.subscriber.events
                    if t == "broker:imported" and b.get("sessionId") == new_id]
        self.check_event_schemas("broker:imported", imported)
        self.report.check("broker:imported: kind session, the commit's stats",
                          len(imported) == 1 and imported[0][1]["kind"] == "session"
                          and imported[0][1]["stats"] == done["stats"], str(imported))

        # ---- a legacy (version-less) document with the version 1 session shape
        legacy = json.loads(text)
        del legacy["formatVersion"]
        legacy["sessions"][0]["limit"] = legacy["sessions"][0].pop("tokenLimit")
        import_id = self.upload("legacy session document", "session", json.dumps(legacy), pieces=2)
        old = c.ok("import:commit legacy session document", "import:commit", {"importId": import_id})
        if old is not None and old.get("sessionId"):
            self.sessions.append(old["sessionId"])
            self.report.check("a file without formatVersion is version 1, migrated (limit -> tokenLimit)",
                              old["formatVersion"] == 1 and old["migrated"] is True, short(old))
            got = c.ok("session:get of the migrated session", "session:get", {"sessionId": old["sessionId"]})
            self.report.check("the migrated session has the token limit of the file",
                              got is not None and got["tokenLimit"] == 100000, short(got))

        # ---- the packet imported: a new session with checkpoint version 1 and no messages
        import_id = self.upload("packet", "session", packet_text)
        from_packet = c.ok("import:commit packet", "import:commit", {"importId": import_id})
        if from_packet is not None and from_packet.get("sessionId"):
            self.sessions.append(from_packet["sessionId"])
            self.report.check("import of a packet: source packet, a new session",
                              from_packet["source"] == "packet" and from_packet["sessionId"] not in (sid, new_id),
                              short(from_packet))
            got = c.ok("session:get of the packet's session", "session:get", {"sessionId": from_packet["sessionId"]})
            point = c.ok("session:getCheckpoint of the packet's session", "session:getCheckpoint",
                         {"sessionId": from_packet["sessionId"]})
            self.report.check("the packet's session: labels and documents, no messages, checkpoint version 1",
                              got is not None and point is not None and got["type"] == "dev"
                              and got["featureId"] == self.feature and got["taskId"] == "T-P"
                              and got["context"] == create["context"] and got["messageCount"] == 0
                              and got["archivedCount"] == 0 and point["version"] == 1
                              and {k: point[k] for k in checkpoint} == checkpoint, f"{short(got)} {short(point)}")

        # ---- refused files: nothing is written
        listed_before = c.ok("session:list (before refused imports)", "session:list",
                             {"featureId": self.feature, "limit": 1000})
        truncated = text[:len(text) * 6 // 10]
        data, message = self.refused_import("truncated session document", "session", truncated)
        location = data.get("location") or {}
        self.report.check("the refusal has data.problem and data.location {byte, line, column, path}",
                          isinstance(data.get("problem"), str)
                          and all(isinstance(location.get(k), int) for k in ("byte", "line", "column"))
                          and isinstance(location.get("path"), str)
                          and 0 <= location.get("byte", -1) <= len(truncated.encode("utf-8")), short(data))
        future = json.loads(text)
        future["formatVersion"] = 99
        data, message = self.refused_import("document of format version 99", "session", json.dumps(future))
        self.report.check("a newer format version: the message says to upgrade, path formatVersion",
                          "upgrade" in message.lower() and "99" in message
                          and (data.get("location") or {}).get("path") == "formatVersion", message)
        listed_after = c.ok("session:list (after refused imports)", "session:list",
                            {"featureId": self.feature, "limit": 1000})
        self.report.check("refused imports created no session",
                          listed_before is not None and listed_after is not None
                          and len(listed_after["sessions"]) == len(listed_before["sessions"]))

        # ---- abort
        import_id = self.upload("to abort", "backup", "{")
        aborted = c.ok("import:abort", "import:abort", {"importId": import_id})
        self.report.check("import:abort reports aborted", aborted is not None and aborted["aborted"] is True
                          and aborted["importId"] == import_id, short(aborted))
        c.fails("import:write after abort -> not_found", "import:write",
                {"importId": import_id, "seq": 1, "data": "}"}, "not_found")
        c.fails("import:abort again -> not_found", "import:abort", {"importId": import_id}, "not_found")
        c.fails("import:begin kind everything -> invalid_params", "import:begin", {"kind": "everything"},
                "invalid_params", field="kind", schema_rejects=True)
        c.fails("import:begin clear with kind session -> invalid_params", "import:begin",
                {"kind": "session", "clear": True}, "invalid_params", field="clear")

        # ---- the trace bundle of this session, and its merge back (every row already present)
        self.trace_bundle(sid)

        # ---- the whole database
        opened, backup_text, _ = self.export_document("backup", {"kind": "backup"}, max_bytes=8388608)
        self.report.check("export:open backup: format json, version 2, all eight sections",
                          opened["format"] == "json" and opened["formatVersion"] == 2
                          and set(opened["stats"]) == {"sessions", "messages", "checkpoints", "compactions", "jobs",
                                                       "tasks", "taskIterations", "events"}, short(opened))
        backup = json.loads(backup_text)
        self.document_problems("format.backup.json", "the backup", backup)
        self.report.check("the backup holds this run's sessions, stats equal the sections",
                          sid in {s["id"] for s in backup.get("sessions", [])}
                          and new_id in {s["id"] for s in backup.get("sessions", [])}
                          and all(len(backup.get(k, [])) == n for k, n in backup.get("stats", {}).items())
                          and backup.get("stats") == opened["stats"], short(backup.get("stats")))

        # ---- bad export requests
        c.fails("export:open backup with a sessionId -> invalid_params", "export:open",
                {"kind": "backup", "sessionId": sid}, "invalid_params", field="sessionId")
        c.fails("export:open backup as markdown -> invalid_params", "export:open",
                {"kind": "backup", "format": "markdown"}, "invalid_params", field="format")
        c.fails("export:open session without sessionId -> invalid_params", "export:open",
                {"kind": "session"}, "invalid_params", field="sessionId")
        c.fails("export:open session with since -> invalid_params", "export:open",
                {"kind": "session", "sessionId": sid, "since": "2026-01-01T00:00:00.000Z"}, "invalid_params",
                field="since")
        c.fails("export:open kind everything -> invalid_params", "export:open", {"kind": "everything"},
                "invalid_params", field="kind", schema_rejects=True)
        c.fails("export:open of an unknown session -> not_found", "export:open",
                {"kind": "session", "sessionId": f"{self.tag}-nobody"}, "not_found")
        c.fails("session:export of an unknown session -> not_found", "session:export",
                {"sessionId": f"{self.tag}-nobody"}, "not_found")
        data = c.fails("export:read of an unknown exportId -> not_found", "export:read",
                       {"exportId": f"{self.tag}-no-export"}, "not_found")
        self.report.check("  not_found names the exportId", data is not None and data.get("id") == f"{self.tag}-no-export",
                          short(data))
        c.fails("export:read maxBytes 100 -> invalid_params", "export:read",
                {"exportId": f"{self.tag}-no-export", "maxBytes": 100}, "invalid_params", field="maxBytes",
                schema_rejects=True)

        # ---- a snapshot: what is written after export:open is not in the export
        snapshot = c.ok("export:open session json (snapshot)", "export:open", {"kind": "session", "sessionId": sid})
        self.report.require("export:open (snapshot) answers", snapshot is not None)
        c.ok("session:addMessage after export:open", "session:addMessage",
             {"sessionId": sid, "role": "user", "content": "written after the snapshot"})
        later, _ = self.read_export(snapshot, "snapshot")
        later = json.loads(later)
        self.report.check("the export holds the session as it was at export:open",
                          len(later.get("messages", [])) == 7 and later.get("stats", {}).get("messages") == 7
                          and "written after the snapshot" not in json.dumps(later), short(later.get("stats")))

        # ---- export:close, and the limit of 8 open exports
        exports = []
        for index in range(8):
            opened = c.ok(f"export:open #{index + 1} of 8", "export:open", {"kind": "session", "sessionId": sid})
            if opened is not None:
                exports.append(opened["exportId"])
        c.fails("a 9th open export -> unavailable", "export:open", {"kind": "session", "sessionId": sid},
                "unavailable")
        for index, export_id in enumerate(exports):
            closed = c.ok(f"export:close #{index + 1}", "export:close", {"exportId": export_id})
            self.report.check(f"export:close #{index + 1} reports closed",
                              closed is not None and closed["closed"] is True and closed["exportId"] == export_id)
        if exports:
            c.fails("export:read after export:close -> not_found", "export:read", {"exportId": exports[0]},
                    "not_found")
            c.fails("export:close again -> not_found", "export:close", {"exportId": exports[0]}, "not_found")
        reopened = c.ok("export:open after closing them", "export:open", {"kind": "session", "sessionId": sid})
        if reopened is not None:
            c.ok("export:close it", "export:close", {"exportId": reopened["exportId"]})

    def compare_imported(self, sid, new_id, messages, detail):
        """The imported copy of a session has the same labels, documents, messages, checkpoint and compactions."""
        c = self.client
        copy = c.ok("session:get of the imported session", "session:get", {"sessionId": new_id})
        same = ("type", "featureId", "taskId", "state", "tokenLimit", "context", "agentDescription", "messageCount",
                "archivedCount", "tokens", "requestTokens", "checkpointVersion")
        self.report.check("the imported session: same labels, documents, counts and checkpoint version",
                          copy is not None and all(copy[k] == detail[k] for k in same)
                          and copy["metrics"]["compactions"] == detail["metrics"]["compactions"],
                          f"{short(copy)} vs {short(detail)}")
        page = c.ok("session:getMessages of the imported session", "session:getMessages",
                    {"sessionId": new_id, "includeArchived": True})
        keys = ("seq", "role", "content", "name", "toolCallId", "metadata", "tokens", "archived", "createdAt")
        self.report.check("the imported messages have the same contents, seqs and archive state",
                          page is not None and [{k: m.get(k) for k in keys} for m in page["messages"]]
                          == [{k: m.get(k) for k in keys} for m in messages], short(page))
        self.report.check("the imported messages have new messageIds",
                          page is not None and not {m["messageId"] for m in page["messages"]}
                          & {m["messageId"] for m in messages})
        for version in (1, 2):
            a = c.ok(f"session:getCheckpoint version {version} (original)", "session:getCheckpoint",
                     {"sessionId": sid, "version": version})
            b = c.ok(f"session:getCheckpoint version {version} (imported)", "session:getCheckpoint",
                     {"sessionId": new_id, "version": version})
            self.report.check(f"checkpoint version {version} imported as it was",
                              a is not None and b is not None
                              and {**a, "sessionId": None} == {**b, "sessionId": None}, f"{short(a)} vs {short(b)}")
        a = c.ok("session:listCompactions (original)", "session:listCompactions", {"sessionId": sid})
        b = c.ok("session:listCompactions (imported)", "session:listCompactions", {"sessionId": new_id})
        self.report.check("the compaction history is imported", a is not None and b is not None
                          and a["compactions"] == b["compactions"] and len(a["compactions"]) == 1,
                          f"{short(a)} vs {short(b)}")

    def trace_bundle(self, sid):
        """export:open kind traces for one session: a manifest line, then one envelope per row; importing the
        bundle back into the broker it came from skips every row."""
        c = self.client
        opened, text, _ = self.export_document("traces of one session", {"kind": "traces", "sessionId": sid})
        self.report.check("export:open traces: format jsonl, version 1, no jobs, tasks or iterations",
                          opened["format"] == "jsonl" and opened["formatVersion"] == 1
                          and not {"jobs", "tasks", "taskIterations"} & set(opened["stats"]), short(opened))
        self.report.require("the bundle is lines ending with a line break", text.endswith("\n"), text[-200:])
        lines = text[:-1].split("\n")
        try:
            rows = [json.loads(line) for line in lines]
        except json.JSONDecodeError as error:
            self.report.require("every line of the bundle is JSON", False, str(error))
        manifest = rows[0]
        self.document_problems("format.traces.manifest.json", "line 1 (the manifest)", manifest)
        self.report.check("the manifest: filter as asked, counts as announced, totalCount the lines after it",
                          manifest.get("type") == "manifest"
                          and manifest.get("filter") == {"since": None, "sessionId": sid}
                          and manifest.get("counts") == opened["stats"] and manifest.get("totalCount") == len(rows) - 1,
                          short(manifest))
        bad, seen, order = [], {}, []
        for number, row in enumerate(rows[1:], start=2):
            problems = self.schemas.errors("format.traces.envelope.json", row)
            if problems:
                bad.append(f"line {number}: {problems}")
            source = row.get("source")
            seen[source] = seen.get(source, 0) + 1
            if not order or order[-1] != source:
                order.append(source)
        self.report.check(f"the other {len(rows) - 1} lines are envelopes matching format.traces.envelope.json",
                          not bad and len(rows) > 1, "; ".join(bad[:3]))
        self.report.check("lines by source match the manifest counts, in the order of its sources",
                          {k: v for k, v in manifest.get("counts", {}).items() if v} == seen
                          and order == [s for s in manifest.get("sources", []) if seen.get(s)],
                          f"{seen} vs {manifest.get('counts')}; {order}")
        entries = [r["entry"] for r in rows[1:] if r.get("source") == "messages"]
        events = [r["entry"] for r in rows[1:] if r.get("source") == "events"]
        self.report.check("the bundle holds the session's 7 messages and its events (session:created among them)",
                          len(entries) == 7 and all(e.get("sessionId") == sid for e in entries)
                          and any(e.get("topic") == "session:created" for e in events)
                          and all(e.get("body", {}).get("sessionId") == sid for e in events), f"{len(entries)} messages")
        import_id = self.upload("trace bundle (back into its broker)", "traces", text, pieces=2)
        merged = c.ok("import:commit trace bundle", "import:commit", {"importId": import_id})
        if merged is not None:
            self.report.check("importing the bundle back writes nothing and skips every row",
                              merged["kind"] == "traces" and sum(merged["stats"].values()) == 0
                              and {k: v for k, v in merged["skipped"].items() if v}
                              == {k: v for k, v in manifest.get("counts", {}).items() if v}
                              and "sessionId" not in merged, short(merged))

    def stats(self):
        c = self.client
        self.section("broker:stats")
        before = dict(c.errors_caused)
        s = c.ok("broker:stats", "broker:stats")
        if s is None:
            return
        self.report.check("stats counts at least this run's live sessions and their messages",
                          s["sessions"] >= len(self.sessions) and s["messages"] >= 8 + self.b_messages
                          and s["messages"] == s["activeMessages"] + s["archivedMessages"], short(s))
        self.report.check("stats: requestsServed covers this run's requests",
                          s["requestsServed"] >= c.sent - 1, f"{s['requestsServed']} served, {c.sent} sent")
        low = [k for k, n in before.items() if s["errors"][k] < n]
        self.report.check("stats: errors by kind are at least the errors this run caused", not low,
                          f"{low}: {short(s['errors'])} vs {short(before)}")
        self.report.check("stats: databaseBytes > 0 and lastEventSeq > 0",
                          s["databaseBytes"] > 0 and s["lastEventSeq"] > 0, short(s))
        s2 = c.ok("broker:stats over DEALER", "broker:stats", via="dealer")
        self.report.check("requestsServed grows", s2 is not None and s2["requestsServed"] > s["requestsServed"])

    def deletion(self):
        c = self.client
        self.section("delete")
        request_id = f"{self.tag}-delete-b"
        r = c.ok("session:delete (requestId)", "session:delete", {"sessionId": self.b, "requestId": request_id})
        self.report.check("delete reports deleted and the messages removed",
                          r is not None and r["deleted"] is True and r["messagesDeleted"] == self.b_messages, short(r))
        retry = c.ok("session:delete retried with the same requestId", "session:delete",
                     {"sessionId": self.b, "requestId": request_id}, via="dealer")
        self.report.check("retried delete returns the first result", retry == r, short(retry))
        c.fails("session:get after delete -> not_found", "session:get", {"sessionId": self.b}, "not_found")
        c.fails("session:getMessages after delete -> not_found", "session:getMessages", {"sessionId": self.b},
                "not_found")
        c.fails("session:delete again without requestId -> not_found", "session:delete", {"sessionId": self.b},
                "not_found")
        for session in self.sessions:
            if session == self.b:
                continue
            c.ok(f"session:delete {session}", "session:delete", {"sessionId": session})
        listed = c.ok("session:list after deleting", "session:list", {"featureId": self.feature})
        self.report.check("deleted sessions are gone from the list",
                          listed is not None and listed["sessions"] == [], short(listed))

    def events_on_pub(self):
        self.section("events on PUB")
        self.subscriber.drain(3000, until=lambda events: any(
            t == "session:deleted" and b.get("sessionId") == self.a for t, b, _ in events))
        mine = self.subscriber.validate_all(set(self.sessions))
        of_a = [(t, b) for t, b, _ in mine if b["sessionId"] == self.a]
        counts = {topic: n for topic in TOPICS if (n := sum(1 for t, _ in of_a if t == topic))}
        expected = {"session:created": 1, "session:message": 8, "checkpoint:updated": 3, "session:updated": 2,
                    "session:cleared": 3, "session:deleted": 1}
        self.report.check("session A's events: one per committed change, none for idempotent retries",
                          counts == expected, f"got {counts}, expected {expected}")
        m2 = [b for t, b in of_a if t == "session:message" and b.get("messageId") == self.m2]
        self.report.check("the retried message was announced once", len(m2) == 1 and m2[0]["messageSeq"] == 2,
                          short(m2))
        first = of_a[0] if of_a else None
        self.report.check("session A's first event is session:created with its attributes",
                          first is not None and first[0] == "session:created" and first[1]["taskId"] == "T-1"
                          and first[1]["featureId"] == self.feature, short(first))
        cleared = [b["reason"] for t, b in of_a if t == "session:cleared"]
        self.report.check("session:cleared reasons in order: clear, reset, clear (the retried clear is not announced)",
                          cleared == ["clear", "reset", "clear"], str(cleared))
        updated = [b["field"] for t, b in of_a if t == "session:updated"]
        self.report.check("session:updated names the field", updated == ["context", "agentDescription"], str(updated))
        versions = [b["version"] for t, b in of_a if t == "checkpoint:updated"]
        self.report.check("checkpoint:updated versions 1, 2, 3", versions == [1, 2, 3], str(versions))
        b_events = [b for t, b, _ in mine if b["sessionId"] == self.b and t == "session:message"]
        self.report.check("pipelined messages were announced in order",
                          [b["messageSeq"] for b in b_events] == list(range(1, self.b_messages + 1)),
                          str([b["messageSeq"] for b in b_events]))
        timestamps = [b["at"] for _, b, _ in mine]
        self.report.check("event timestamps are ISO 8601 UTC and never go backwards",
                          all(TIMESTAMP.match(t) for t in timestamps) and timestamps == sorted(timestamps))

    def close(self):
        self.pump.stop()
        self.context.destroy(linger=0)


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api", required=True, help="the broker's api endpoint, e.g. tcp://127.0.0.1:5555")
    parser.add_argument("--events", required=True, help="the broker's events endpoint, e.g. tcp://127.0.0.1:5556")
    parser.add_argument("--workers", help="the broker's workers endpoint, e.g. tcp://127.0.0.1:5557 "
                                          "(without it the worker scenario is skipped)")
    parser.add_argument("--heartbeat-ms", type=int, default=2500,
                        help="the broker's dispatch.heartbeatMs: how long to wait for its HEARTBEAT "
                             "(default 2500; the test's workers heartbeat every 100 ms whatever it is)")
    parser.add_argument("--schemas", default=str(here.parent.parent / "Protocols" / "schemas"),
                        help="folder of the JSON Schemas (default: Protocols/schemas of this repository)")
    parser.add_argument("--timeout-ms", type=int, default=5000, help="receive timeout per reply (default 5000)")
    parser.add_argument("--max-request-bytes", type=int, default=8 << 20,
                        help="the broker's maxRequestBytes (default 8 MiB)")
    parser.add_argument("--skip-oversize", action="store_true",
                        help="skip sending a frame over the transport limit (4 x maxRequestBytes + 1 MiB)")
    parser.add_argument("--curve-key", metavar="FILE",
                        help="the client's CURVE secret certificate (a .key_secret file): every socket of the test "
                             "is then a CURVE client with these keys (needs --curve-server-key)")
    parser.add_argument("--curve-server-key", metavar="FILE",
                        help="the broker's CURVE public certificate (a .key file)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    args.curve = None
    if args.curve_key or args.curve_server_key:
        if not (args.curve_key and args.curve_server_key):
            parser.error("--curve-key and --curve-server-key go together")
        if not zmq.has("curve"):
            parser.error("this libzmq has no CURVE support")
        try:
            public, secret = zmq.auth.load_certificate(args.curve_key)
            server, _ = zmq.auth.load_certificate(args.curve_server_key)
        except (OSError, ValueError) as error:
            parser.error(f"cannot load a CURVE certificate: {error}")
        if secret is None:
            parser.error(f"{args.curve_key} holds no secret-key: give the client's .key_secret file")
        args.curve = CurveKeys(public, secret, server)
    run = Run(args)
    try:
        run.main()
    except Exception:
        run.report.check("the test ran to its end", False, traceback.format_exc(limit=5))
    finally:
        run.close()
    print(f"{run.report.passed} passed, {run.report.failed} failed")
    return 1 if run.report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
