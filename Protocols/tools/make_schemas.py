#!/usr/bin/env python3
"""Writes Protocols/schemas/*.json, the JSON Schemas (draft 2020-12) of AGENTBROKER-RPC,
of the worker bodies of AGENTBROKER-WORKERS and of the documents of AGENTBROKER-PORTABILITY.

The schema files are generated: edit this script, then run
    python3 Protocols/tools/make_schemas.py
and commit both. Every file is self-contained (shared shapes are copied into
its own `$defs`), so any validator can load one file without a resolver.

Params schemas are closed (`additionalProperties: false`) because the broker
refuses unknown parameters. Result and event schemas are closed too, so the
interop test notices a member the spec does not document; clients SHOULD
still ignore members they do not know (see the spec, "Compatibility").
"""
import json
import pathlib
import sys

OUT = pathlib.Path(__file__).resolve().parent.parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
BASE = "urn:agentbroker:rpc:1:"

KINDS = {
    "parse_error": -32700,
    "invalid_request": -32600,
    "method_not_found": -32601,
    "invalid_params": -32602,
    "internal": -32603,
    "not_found": -32001,
    "conflict": -32002,
    "too_large": -32003,
    "unauthorized": -32004,
    "unavailable": -32005,
}

# ---------------------------------------------------------------- building blocks

TIMESTAMP = {
    "type": "string",
    "pattern": r"^([0-9]{4}|[+-][0-9]{4,6})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$",
    "description": "UTC, millisecond precision, e.g. 2026-11-23T15:28:42.123Z (RFC 3339); a year outside "
    "0000-9999 (only in imported data) takes ISO 8601's expanded form, e.g. +10000-01-01T00:00:00.000Z",
}
COUNT = {"type": "integer", "minimum": 0}
SEQ = {"type": "integer", "minimum": 1}
# A client-chosen id (sessionId on create, messageId, toolCallId, requestId): printable ASCII, no space.
CLIENT_ID = {"type": "string", "pattern": r"^[\x21-\x7e]{1,128}$"}
# A non-empty identifier (sessionId, type, featureId, taskId, state, name): at most 256 UTF-8 bytes.
# maxLength counts characters, so it can only bound the byte limit from above.
IDENT = {"type": "string", "minLength": 1, "maxLength": 256}
# Broker-made ids: "ses_" / "msg_" and 20 base-32 characters, or the client's own id.
SESSION_ID = {"type": "string", "minLength": 1}
DOCUMENT = {
    "description": "A context or agent description: any JSON object, or a string.",
    "type": ["object", "string"],
}
ROLE = {"enum": ["system", "user", "assistant", "tool"]}
STRINGS = {"type": "array", "items": {"type": "string"}, "maxItems": 10000}
TOKEN_LIMIT = {"type": "integer", "minimum": 256, "maximum": 10000000}
REASON = {"enum": ["auto", "manual"], "description": "auto: the threshold was reached; manual: session:compact"}
SUMMARIZER = {"type": "string", "minLength": 1, "description": "the summarizer whose checkpoint was used"}
# Compaction instructions for the summarizer: at most 64 KiB (maxLength bounds the byte limit from above).
INSTRUCTIONS = {"type": "string", "maxLength": 65536}


def nullable(schema):
    """Optional parameters may also be given as null, which means absent."""
    out = dict(schema)
    t = out.get("type")
    if isinstance(t, str):
        out["type"] = [t, "null"]
    elif isinstance(t, list):
        out["type"] = t + ["null"]
    elif "enum" in out:
        out["enum"] = out["enum"] + [None]
    return out


def obj(properties, required=(), closed=True, description=None, defs=None):
    schema = {"type": "object", "properties": properties, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    if defs:
        schema["$defs"] = defs
    return schema


def params(properties, required=(), description=None):
    """A params object: required members as given, optional ones also accept null."""
    props = {k: (v if k in required else nullable(v)) for k, v in properties.items()}
    return obj(props, required, description=description)


SESSION_SUMMARY = obj(
    {
        "sessionId": SESSION_ID,
        "type": IDENT,
        "featureId": IDENT,
        "taskId": {"type": ["string", "null"], "minLength": 1},
        "state": IDENT,
        "tokenLimit": TOKEN_LIMIT,
        "messageCount": {**COUNT, "description": "active (not archived) messages"},
        "archivedCount": COUNT,
        "tokens": {**COUNT, "description": "tokens of the active messages"},
        "requestTokens": {**COUNT, "description": "stored size of the next built request without its user message"},
        "checkpointVersion": COUNT,
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
        "metrics": obj(
            {
                "compactions": COUNT,
                "tokensSaved": COUNT,
                "lastCompactionMs": {"type": ["integer", "null"], "minimum": 0,
                                     "description": "duration of the last compaction"},
                "lastCompactionAt": {**nullable(TIMESTAMP), "description": "commit time of the last compaction"},
            },
            ["compactions", "tokensSaved", "lastCompactionMs", "lastCompactionAt"],
        ),
    },
    [
        "sessionId", "type", "featureId", "taskId", "state", "tokenLimit", "messageCount", "archivedCount",
        "tokens", "requestTokens", "checkpointVersion", "createdAt", "updatedAt", "metrics",
    ],
)

SESSION_DETAIL = dict(SESSION_SUMMARY)
SESSION_DETAIL["properties"] = {
    **SESSION_SUMMARY["properties"], "context": DOCUMENT, "agentDescription": DOCUMENT,
}
SESSION_DETAIL["required"] = SESSION_SUMMARY["required"] + ["context", "agentDescription"]

MESSAGE = obj(
    {
        "seq": SEQ,
        "messageId": CLIENT_ID,
        "role": ROLE,
        "content": {"type": "string"},
        "name": IDENT,
        "toolCallId": CLIENT_ID,
        "metadata": {"type": "object"},
        "tokens": {"type": "integer", "minimum": 4},
        "archived": {"type": "boolean"},
        "createdAt": TIMESTAMP,
    },
    ["seq", "messageId", "role", "content", "tokens", "archived", "createdAt"],
    description="A stored message; name, toolCallId and metadata appear only when they were given.",
)

CHECKPOINT_ITEMS = {
    "summary": {"type": "string"},
    "completed": {"type": "array", "items": {"type": "string"}},
    "pending": {"type": "array", "items": {"type": "string"}},
    "decisions": {"type": "array", "items": {"type": "string"}},
    "blockers": {"type": "array", "items": {"type": "string"}},
}

CHECKPOINT = obj(
    {"sessionId": SESSION_ID, "version": COUNT, **CHECKPOINT_ITEMS, "updatedAt": TIMESTAMP},
    ["sessionId", "version", "summary", "completed", "pending", "decisions", "blockers", "updatedAt"],
)

# The members session:buildRequest and session:previewRequest share (spec section 17).
BUILT_REQUEST = {
    "sessionId": SESSION_ID,
    "systemPrompt": {"type": "string", "description": "the session's sections as markdown (spec 17.1)"},
    "userPrompt": {"type": "string", "description": "the user message, as given"},
    "omittedMessages": {**COUNT, "description": "oldest active messages left out to stay within tokenLimit"},
    "includedMessages": COUNT,
    "tokenLimit": TOKEN_LIMIT,
    "checkpointVersion": {**COUNT, "description": "the checkpoint version rendered"},
    "exact": {"type": "boolean", "description": "true when counted with cl100k_base, false for the approximation"},
}
BUILT_REQUEST_REQUIRED = [
    "sessionId", "systemPrompt", "userPrompt", "omittedMessages", "includedMessages", "tokenLimit",
    "checkpointVersion", "exact",
]

COMPACTION = obj(
    {
        "checkpointVersion": {**SEQ, "description": "the checkpoint version the compaction wrote"},
        "reason": REASON,
        "summarizer": SUMMARIZER,
        "fromSeq": {**COUNT, "description": "first archived seq (0: none archived)"},
        "throughSeq": {**COUNT, "description": "last archived seq (0: none archived)"},
        "messageCount": {**COUNT, "description": "messages archived"},
        "tokensBefore": COUNT,
        "tokensAfter": COUNT,
        "tokensSaved": COUNT,
        "durationMs": COUNT,
        "instructions": {"type": ["string", "null"]},
        "createdAt": TIMESTAMP,
    },
    ["checkpointVersion", "reason", "summarizer", "fromSeq", "throughSeq", "messageCount", "tokensBefore",
     "tokensAfter", "tokensSaved", "durationMs", "instructions", "createdAt"],
    description="One committed compaction (session:listCompactions).",
)


# ---------------------------------------------------------------- jobs, workers, tasks (spec 7.8, 7.9)

JOB_STATE = {"enum": ["queued", "running", "completed", "failed", "cancelled"]}
# A jobId: the client's (a client-made id) or a broker-made one; both fit the client-made id pattern.
JOB_ID = {**CLIENT_ID, "description": "the client's jobId, or a broker-made id"}
TASK_ID = {**CLIENT_ID, "description": "the client's taskId, or a broker-made id"}
JOB_TIMEOUT = {"type": "integer", "minimum": 1000, "maximum": 86400000,
               "description": "milliseconds from submission to the job's deadline"}
MAX_ATTEMPTS = {"type": "integer", "minimum": 1, "maximum": 10}
WORKER_ID = {"type": "string", "minLength": 1, "description": "a broker-made id, opaque"}
ANY_JSON = {"description": "any JSON value"}
ATTEMPT_RUN = {**SEQ, "description": "the attempt, 1 to maxAttempts"}
ATTEMPT_NEXT = {**SEQ, "description": "the attempt the job is queued for (1 when submitted)"}
ATTEMPT_MADE = {**COUNT, "description": "the attempts made (0: the job was never dispatched)"}
CHECK_TIMEOUT = {"type": "integer", "minimum": 1000, "maximum": 86400000}

JOB_SUMMARY = obj(
    {
        "jobId": JOB_ID,
        "service": IDENT,
        "state": JOB_STATE,
        "attempts": {**COUNT, "description": "dispatches to a worker so far"},
        "maxAttempts": MAX_ATTEMPTS,
        "timeoutMs": JOB_TIMEOUT,
        "worker": {"type": ["string", "null"], "minLength": 1,
                   "description": "the workerId of the last attempt (null: never dispatched)"},
        "error": {"type": ["string", "null"], "description": "why the job failed (null unless failed)"},
        "createdAt": TIMESTAMP,
        "startedAt": {**nullable(TIMESTAMP), "description": "when the last attempt was dispatched"},
        "finishedAt": {**nullable(TIMESTAMP), "description": "when the job reached a terminal state"},
        "deadlineAt": {**TIMESTAMP, "description": "createdAt + timeoutMs"},
    },
    ["jobId", "service", "state", "attempts", "maxAttempts", "timeoutMs", "worker", "error", "createdAt",
     "startedAt", "finishedAt", "deadlineAt"],
    description="A job without its payload and result (job:list).",
)
JOB = dict(JOB_SUMMARY)
JOB["properties"] = {**JOB_SUMMARY["properties"], "payload": ANY_JSON,
                     "result": {**ANY_JSON, "description": "the worker's result (null unless completed)"}}
JOB["required"] = JOB_SUMMARY["required"] + ["payload", "result"]
JOB["description"] = "A job (job:get)."


def job_with(name, schema, description):
    out = dict(JOB)
    out["properties"] = {**JOB["properties"], name: schema}
    out["required"] = JOB["required"] + [name]
    out["description"] = description
    return out


WORKER = obj(
    {
        "workerId": WORKER_ID,
        "service": IDENT,
        "name": {"type": "string", "description": "the name from READY, else the workerId"},
        "state": {"enum": ["idle", "busy"]},
        "jobId": {**nullable(JOB_ID), "description": "the job the worker holds (null when idle)"},
        "attachedAt": TIMESTAMP,
        "lastSeenAt": {**TIMESTAMP, "description": "when the broker last received a frame from it"},
    },
    ["workerId", "service", "name", "state", "jobId", "attachedAt", "lastSeenAt"],
)
SERVICE = obj(
    {"service": IDENT, "workers": COUNT, "idle": COUNT, "queued": {**COUNT, "description": "jobs queued"}},
    ["service", "workers", "idle", "queued"],
)

TASK_STATE = {"enum": ["planning", "in_dev", "in_qa", "in_review", "done", "failed"]}
CHECK = obj(
    {"name": {"type": "string", "minLength": 1}, "command": {"type": "string", "minLength": 1},
     "timeoutMs": CHECK_TIMEOUT},
    ["name", "command", "timeoutMs"],
)
CHECK_PARAM = {"oneOf": [
    {"type": "string", "minLength": 1, "description": "a command; the check is named after it"},
    obj({"name": {"type": "string", "minLength": 1, "description": "default: the command"},
         "command": {"type": "string", "minLength": 1},
         "timeoutMs": {**CHECK_TIMEOUT, "description": "default 300000"}}, ["command"]),
]}
TITLE = {"type": "string", "minLength": 1, "maxLength": 4096}
WORKSPACE = obj(
    {"repo": {"type": "string", "minLength": 1}, "baseBranch": {"type": "string", "minLength": 1},
     "branch": {"type": "string", "minLength": 1}},
    ["repo", "baseBranch", "branch"],
)
TASK = obj(
    {
        "taskId": TASK_ID,
        "featureId": IDENT,
        "title": TITLE,
        "description": {"type": "string"},
        "checks": {"type": "array", "items": CHECK},
        "dependsOn": {"type": "array", "items": TASK_ID},
        "workspace": {"oneOf": [WORKSPACE, {"type": "null"}]},
        "state": TASK_STATE,
        "iteration": {**COUNT, "description": "0 before the first iteration"},
        "sessions": {
            "type": "object",
            "propertyNames": TASK_STATE,
            "additionalProperties": {"type": "array", "items": {"type": "string", "minLength": 1}},
            "description": "sessionIds by the state they were recorded in",
        },
        "failureReason": {"type": ["string", "null"]},
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    },
    ["taskId", "featureId", "title", "description", "checks", "dependsOn", "workspace", "state", "iteration",
     "sessions", "failureReason", "createdAt", "updatedAt"],
    description="A task (task:create, task:update, task:list).",
)
ITERATION = obj(
    {"iteration": SEQ, "passed": {"type": "boolean"}, "results": {"type": "object"}, "at": TIMESTAMP},
    ["iteration", "passed", "results", "at"],
)
TASK_DETAIL = dict(TASK)
TASK_DETAIL["properties"] = {**TASK["properties"], "iterations": {
    "type": "array", "items": ITERATION, "description": "recorded iterations, by iteration number"}}
TASK_DETAIL["required"] = TASK["required"] + ["iterations"]
TASK_DETAIL["description"] = "A task with its recorded iterations (task:get)."

# Worker protocol bodies (AGENTBROKER-WORKERS.md): the JSON frames of READY, REQUEST and REPLY.
WORKER_BODIES = {
    "worker.ready": (obj(
        {"name": {"type": "string", "minLength": 1}, "pid": {"type": "integer", "minimum": 0},
         "host": {"type": "string", "minLength": 1}},
        description="The optional last frame of READY (worker to broker); every member is optional.",
    ), "READY body"),
    "worker.request": (obj(
        {"jobId": JOB_ID, "service": IDENT, "payload": ANY_JSON, "attempt": ATTEMPT_RUN,
         "maxAttempts": MAX_ATTEMPTS, "timeoutMs": JOB_TIMEOUT, "deadlineAt": TIMESTAMP},
        ["jobId", "service", "payload", "attempt", "maxAttempts", "timeoutMs", "deadlineAt"],
        description="The body frame of REQUEST (broker to worker).",
    ), "REQUEST body"),
    "worker.reply": ({
        "description": "The body frame of REPLY (worker to broker): a result, or a failure.",
        "oneOf": [
            obj({"ok": {"const": True}, "result": ANY_JSON}, ["ok", "result"]),
            obj({"ok": {"const": False}, "error": {"type": "string", "minLength": 1}}, ["ok", "error"]),
        ],
    }, "REPLY body"),
}


# ---------------------------------------------------------------- portability (AGENTBROKER-PORTABILITY.md)

FORMAT_BASE = "urn:agentbroker:format:"
# The sections of a backup, in the order they are written; also the sources of a trace bundle.
SECTIONS = ["sessions", "messages", "checkpoints", "compactions", "jobs", "tasks", "taskIterations", "events"]
SESSION_SECTIONS = ["sessions", "messages", "checkpoints", "compactions"]
SECTION = {"enum": SECTIONS}
KIND = {"enum": ["backup", "traces", "session"]}
DOC_FORMAT = {"enum": ["json", "markdown", "packet"]}
SECTION_COUNTS = {
    "type": "object",
    "propertyNames": SECTION,
    "additionalProperties": COUNT,
    "description": "rows by section",
}
EXPORTED_BY = {"type": "string", "maxLength": 256, "description": "who exported it (free text; empty when not given)"}
BROKER_VERSION = {"type": "string", "minLength": 1, "description": "the release of the broker that wrote it"}
UNREPRESENTABLE = {"type": "string", "minLength": 1,
                   "description": "why the row could not be carried faithfully; the row was repaired, not dropped"}
NULLABLE_TIMESTAMP = nullable(TIMESTAMP)
# A stored JSON column. A record flagged unrepresentable may carry it as a JSON string instead (see `record`).
JSON_TEXT_ITEMS = {"type": "array", "items": {"type": "string"}}


def record(properties, description):
    """A record of a backup, session document or trace bundle: every member REQUIRED (null where allowed),
    plus `unrepresentable` when the row was repaired. A repaired record is checked for its members only,
    because a repaired column holds a JSON string where a value of another type was stored."""
    props = {**properties, "unrepresentable": UNREPRESENTABLE}
    required = list(properties)
    strict = obj(props, required)
    repaired = obj({k: {} for k in props}, required + ["unrepresentable"])
    return {
        "type": "object",
        "description": description,
        "if": {"required": ["unrepresentable"]},
        "then": repaired,
        "else": strict,
    }


RECORDS = {
    "session": record({
        "id": {"type": "string", "minLength": 1},
        "type": IDENT,
        "featureId": IDENT,
        "taskId": {"type": ["string", "null"], "minLength": 1},
        "state": IDENT,
        "tokenLimit": TOKEN_LIMIT,
        "context": DOCUMENT,
        "agentDescription": DOCUMENT,
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
        "firstActiveSeq": {**SEQ, "description": "messages with a lower seq are archived"},
        "checkpointVersion": {**COUNT, "description": "the current checkpoint version (0: none written)"},
        "compactions": COUNT,
        "tokensSaved": COUNT,
        "lastCompactionMs": {"type": ["integer", "null"], "minimum": 0},
        "lastCompactionAt": NULLABLE_TIMESTAMP,
    }, "A session (labels, limit, documents, archive boundary and compaction metrics); counts and token "
       "totals are not carried: import recomputes them from the messages."),
    "message": record({
        "sessionId": {"type": "string", "minLength": 1},
        "seq": SEQ,
        "messageId": {"type": "string", "minLength": 1},
        "role": ROLE,
        "content": {"type": "string"},
        "name": {"type": ["string", "null"], "minLength": 1},
        "toolCallId": {"type": ["string", "null"], "minLength": 1},
        "metadata": {"type": ["object", "null"]},
        "tokens": {**COUNT, "description": "the message's chat tokens (RPC section 14)"},
        "promptTokens": {"type": ["integer", "null"], "minimum": 0,
                         "description": "its block in a built request (RPC 17.6); null: count it again"},
        "sessionTokens": {**COUNT, "description": "the session's active tokens when it was stored"},
        "createdAt": TIMESTAMP,
        "archived": {"type": "boolean", "description": "informative: seq < the session's firstActiveSeq"},
    }, "A chat message, active or archived."),
    "checkpoint": record({
        "sessionId": {"type": "string", "minLength": 1},
        "version": SEQ,
        **CHECKPOINT_ITEMS,
        "createdAt": TIMESTAMP,
    }, "One checkpoint version (version 0, the empty one every session starts with, is not a record)."),
    "compaction": record({
        "sessionId": {"type": "string", "minLength": 1},
        "checkpointVersion": SEQ,
        "reason": REASON,
        "summarizer": SUMMARIZER,
        "fromSeq": COUNT,
        "throughSeq": COUNT,
        "messageCount": COUNT,
        "tokensBefore": COUNT,
        "tokensAfter": COUNT,
        "durationMs": COUNT,
        "instructions": {"type": ["string", "null"]},
        "createdAt": TIMESTAMP,
    }, "One committed compaction."),
    "job": record({
        "id": JOB_ID,
        "service": IDENT,
        "payload": ANY_JSON,
        "state": JOB_STATE,
        "attempts": COUNT,
        "maxAttempts": MAX_ATTEMPTS,
        "timeoutMs": JOB_TIMEOUT,
        "deadlineAt": TIMESTAMP,
        "worker": {"type": ["string", "null"], "minLength": 1},
        "result": ANY_JSON,
        "error": {"type": ["string", "null"]},
        "createdAt": TIMESTAMP,
        "startedAt": NULLABLE_TIMESTAMP,
        "finishedAt": NULLABLE_TIMESTAMP,
    }, "A job; on import, queued and running jobs are queued again."),
    "task": record({
        "id": TASK_ID,
        "featureId": IDENT,
        "title": TITLE,
        "description": {"type": "string"},
        "checks": {"type": "array", "items": CHECK},
        "dependsOn": {"type": "array", "items": TASK_ID},
        "workspace": {"oneOf": [WORKSPACE, {"type": "null"}]},
        "state": TASK_STATE,
        "iteration": COUNT,
        "sessions": TASK["properties"]["sessions"],
        "failureReason": {"type": ["string", "null"]},
        "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }, "A task of the Ralph Loop."),
    "taskIteration": record({
        "taskId": TASK_ID,
        "iteration": SEQ,
        "passed": {"type": "boolean"},
        "results": {"type": "object"},
        "at": TIMESTAMP,
    }, "The recorded check results of one Dev iteration of a task."),
    "event": record({
        "seq": SEQ,
        "topic": {"type": "string", "minLength": 1},
        "body": {"type": "object", "description": "the event body as published (it starts with seq, topic, at)"},
        "at": TIMESTAMP,
    }, "A logged event."),
}
# section name -> record name
SECTION_RECORD = {
    "sessions": "session", "messages": "message", "checkpoints": "checkpoint", "compactions": "compaction",
    "jobs": "job", "tasks": "task", "taskIterations": "taskIteration", "events": "event",
}


def document_schema(format_name, sections, description):
    """A backup or session document, format version 2, as the broker writes it."""
    props = {
        "format": {"const": format_name},
        "formatVersion": {"const": 2, "description": "the record format version this broker writes"},
        "exportedAt": TIMESTAMP,
        "exportedBy": EXPORTED_BY,
        "brokerVersion": BROKER_VERSION,
    }
    if format_name == "agentbroker.backup":
        props["schemaVersion"] = {"type": "integer", "minimum": 1,
                                  "description": "informative: the database schema version of the broker"}
    props["stats"] = obj({s: COUNT for s in sections}, sections,
                         description="the number of records of each section, checked on import")
    for section in sections:
        props[section] = {"type": "array", "items": {"$ref": f"#/$defs/{SECTION_RECORD[section]}"}}
    if format_name == "agentbroker.session":
        props["sessions"] = {**props["sessions"], "minItems": 1, "maxItems": 1}
    defs = {SECTION_RECORD[s]: RECORDS[SECTION_RECORD[s]] for s in sections}
    return obj(props, list(props), description=description, defs=defs)


PACKET = obj(
    {
        "format": {"const": "agentbroker.packet"},
        "packetVersion": {"const": 1},
        "exportedAt": TIMESTAMP,
        "exportedBy": EXPORTED_BY,
        "brokerVersion": BROKER_VERSION,
        "session": obj({
            "id": {"type": "string", "minLength": 1},
            "type": IDENT,
            "featureId": IDENT,
            "taskId": {"type": ["string", "null"], "minLength": 1},
            "state": IDENT,
            "tokenLimit": TOKEN_LIMIT,
            "createdAt": TIMESTAMP,
            "updatedAt": TIMESTAMP,
        }, ["id", "type", "featureId", "taskId", "state", "tokenLimit", "createdAt", "updatedAt"]),
        "agentDescription": DOCUMENT,
        "context": DOCUMENT,
        "checkpoint": obj({"version": {**COUNT, "description": "0: no checkpoint written"}, **CHECKPOINT_ITEMS},
                          ["version", "summary", "completed", "pending", "decisions", "blockers"]),
        "trace": obj({
            "messages": {**COUNT, "description": "chat messages, archived ones included"},
            "archivedMessages": COUNT,
            "compactions": COUNT,
            "tokens": obj({"total": {**COUNT, "description": "tokens of every message"},
                           "active": {**COUNT, "description": "tokens of the active messages"},
                           "saved": {**COUNT, "description": "tokens saved by compactions"}},
                          ["total", "active", "saved"]),
            "inputTokens": {**COUNT, "description": "model input tokens reported by the provider (0: none reported)"},
            "outputTokens": {**COUNT, "description": "model output tokens reported by the provider (0: none reported)"},
            "costUsd": {"type": "number", "minimum": 0, "description": "cost reported by the provider (0: none)"},
        }, ["messages", "archivedMessages", "compactions", "tokens", "inputTokens", "outputTokens", "costUsd"]),
        "agentPath": {"type": "array", "items": {"type": "string", "minLength": 1},
                      "description": "agents in the order they first wrote in the session: a message's name, else its role"},
    },
    ["format", "packetVersion", "exportedAt", "exportedBy", "brokerVersion", "session", "agentDescription",
     "context", "checkpoint", "trace", "agentPath"],
    description="A session packet: one session's outcome, self-contained, for sharing (packetVersion 1).",
)

TRACES_MANIFEST = obj(
    {
        "type": {"const": "manifest"},
        "version": {"const": 1, "description": "the bundle layout version"},
        "exportedAt": TIMESTAMP,
        "exportedBy": EXPORTED_BY,
        "brokerVersion": BROKER_VERSION,
        "recordFormatVersion": {"const": 2, "description": "the version of the records in the entries"},
        "filter": obj({"since": {**NULLABLE_TIMESTAMP, "description": "rows at or after this time (null: all)"},
                       "sessionId": {"type": ["string", "null"], "minLength": 1,
                                     "description": "one session's rows (null: all)"}},
                      ["since", "sessionId"]),
        "sources": {"type": "array", "items": SECTION, "uniqueItems": True,
                    "description": "the sources the bundle covers, in the order of their lines"},
        "counts": {**SECTION_COUNTS, "description": "lines of each source"},
        "totalCount": {**COUNT, "description": "lines after the manifest"},
    },
    ["type", "version", "exportedAt", "brokerVersion", "recordFormatVersion", "filter", "sources", "counts",
     "totalCount"],
    description="Line 1 of a trace bundle (gunzip -c FILE | head -1).",
)

TRACES_ENVELOPE = obj(
    {"source": SECTION, "entry": {"type": "object"}, "unrepresentable": UNREPRESENTABLE},
    ["source", "entry"],
    description="Every line of a trace bundle after the first: one row, its record in entry.",
    defs=dict(RECORDS),
)
TRACES_ENVELOPE["allOf"] = [
    {"if": {"properties": {"source": {"const": section}}, "required": ["source"]},
     "then": {"properties": {"entry": {"$ref": f"#/$defs/{name}"}}}}
    for section, name in SECTION_RECORD.items()
]

FORMATS = {
    "format.backup": (document_schema(
        "agentbroker.backup", SECTIONS,
        "A whole-database backup, format version 2 (AGENTBROKER-PORTABILITY section 6). Readers ignore unknown "
        "top-level members; this schema is closed to catch undocumented ones."), "backup document"),
    "format.session": (document_schema(
        "agentbroker.session", SESSION_SECTIONS,
        "One session with its messages, checkpoint versions and compactions, format version 2 "
        "(AGENTBROKER-PORTABILITY section 9)."), "session document"),
    "format.packet": (PACKET, "session packet"),
    "format.traces.manifest": (TRACES_MANIFEST, "trace bundle manifest line"),
    "format.traces.envelope": (TRACES_ENVELOPE, "trace bundle row line"),
}


def event(topic, fields, required, description):
    props = {
        "seq": {**SEQ, "description": "persisted, increasing, gap-free across all topics"},
        "topic": {"const": topic},
        "at": {**TIMESTAMP, "description": "commit time of the write that produced the event"},
        **fields,
    }
    return obj(props, ["seq", "topic", "at"] + required, description=description)


EVENTS = {
    "session:created": event(
        "session:created",
        {"sessionId": SESSION_ID, "type": IDENT, "featureId": IDENT,
         "taskId": {"type": ["string", "null"], "minLength": 1}, "state": IDENT},
        ["sessionId", "type", "featureId", "taskId", "state"],
        "A session was created (session:create).",
    ),
    "session:message": event(
        "session:message",
        {"sessionId": SESSION_ID, "messageId": CLIENT_ID, "messageSeq": SEQ, "role": ROLE,
         "tokens": {"type": "integer", "minimum": 4}, "sessionTokens": COUNT},
        ["sessionId", "messageId", "messageSeq", "role", "tokens", "sessionTokens"],
        "A message was stored (session:addMessage); not sent again for an idempotent retry.",
    ),
    "session:cleared": event(
        "session:cleared",
        {"sessionId": SESSION_ID, "archivedCount": COUNT, "reason": {"enum": ["clear", "reset"]}},
        ["sessionId", "archivedCount", "reason"],
        "The active messages were archived (session:clearMessages, or session:reset with reason reset).",
    ),
    "session:updated": event(
        "session:updated",
        {"sessionId": SESSION_ID, "field": {"enum": ["context", "agentDescription"]}},
        ["sessionId", "field"],
        "A document of the session was replaced (session:setContext, session:setAgentDescription).",
    ),
    "session:deleted": event(
        "session:deleted",
        {"sessionId": SESSION_ID},
        ["sessionId"],
        "A session and its messages and checkpoints were deleted (session:delete).",
    ),
    "checkpoint:updated": event(
        "checkpoint:updated",
        {"sessionId": SESSION_ID, "version": SEQ},
        ["sessionId", "version"],
        "A new checkpoint version was written (session:updateCheckpoint, session:reset, or a compaction).",
    ),
    "compaction:start": event(
        "compaction:start",
        {"sessionId": SESSION_ID, "reason": REASON,
         "tokensBefore": {**COUNT, "description": "the session's requestTokens at the snapshot"},
         "messageCount": {**COUNT, "description": "active messages at the snapshot"}},
        ["sessionId", "reason", "tokensBefore", "messageCount"],
        "A compaction of the session started (automatic, or session:compact).",
    ),
    "compaction:complete": event(
        "compaction:complete",
        {"sessionId": SESSION_ID, "reason": REASON, "tokensBefore": COUNT, "tokensAfter": COUNT,
         "tokensSaved": COUNT, "durationMs": COUNT,
         "checkpointVersion": {**COUNT, "description": "the version written; with kept, the current one (0: none yet)"}, "summarizer": SUMMARIZER,
         "messageCount": {**COUNT, "description": "messages archived"},
         "kept": {"type": "string", "minLength": 1,
                  "description": "present when the compaction was not applied: the new checkpoint would not have "
                                 "made the request smaller, so the messages were kept (tokensSaved 0)"}},
        ["sessionId", "reason", "tokensBefore", "tokensAfter", "tokensSaved", "durationMs", "checkpointVersion",
         "summarizer", "messageCount"],
        "A compaction was committed: new checkpoint version, messages archived (sent after checkpoint:updated); "
        "or, with `kept`, a compaction that was not applied because it would not have helped.",
    ),
    "compaction:error": event(
        "compaction:error",
        {"sessionId": SESSION_ID, "reason": REASON, "error": {"type": "string", "minLength": 1},
         "willRetry": {"type": "boolean"}, "attempt": {"type": "integer", "minimum": 1},
         "summarizer": {**SUMMARIZER, "description": "the summarizer that failed"}},
        ["sessionId", "reason", "error", "willRetry", "attempt", "summarizer"],
        "One attempt of a compaction failed (a summary refused, or a swap that could not be applied).",
    ),
    "job:queued": event(
        "job:queued",
        {"jobId": JOB_ID, "service": IDENT, "attempt": ATTEMPT_NEXT,
         "reason": {"enum": ["submitted", "worker lost", "broker restart"]}},
        ["jobId", "service", "attempt", "reason"],
        "A job was queued: submitted, or queued again after its worker was lost or the broker restarted.",
    ),
    "job:started": event(
        "job:started",
        {"jobId": JOB_ID, "service": IDENT, "worker": WORKER_ID, "attempt": ATTEMPT_RUN},
        ["jobId", "service", "worker", "attempt"],
        "A job was dispatched to a worker (REQUEST sent).",
    ),
    "job:completed": event(
        "job:completed",
        {"jobId": JOB_ID, "service": IDENT, "worker": WORKER_ID, "attempt": ATTEMPT_RUN,
         "durationMs": {**COUNT, "description": "from the dispatch of this attempt to the REPLY"}},
        ["jobId", "service", "worker", "attempt", "durationMs"],
        "A worker replied with a result.",
    ),
    "job:failed": event(
        "job:failed",
        {"jobId": JOB_ID, "service": IDENT, "attempt": ATTEMPT_MADE, "error": {"type": "string", "minLength": 1}},
        ["jobId", "service", "attempt", "error"],
        "A job failed: the worker replied ok false, its last attempt's worker was lost, or its deadline passed.",
    ),
    "job:cancelled": event(
        "job:cancelled",
        {"jobId": JOB_ID, "service": IDENT},
        ["jobId", "service"],
        "A job was cancelled (job:cancel).",
    ),
    "worker:attached": event(
        "worker:attached",
        {"workerId": WORKER_ID, "service": IDENT, "name": {"type": "string", "minLength": 1}},
        ["workerId", "service", "name"],
        "A worker sent READY and was registered.",
    ),
    "worker:detached": event(
        "worker:detached",
        {"workerId": WORKER_ID, "service": IDENT, "name": {"type": "string", "minLength": 1},
         "reason": {"enum": ["disconnect", "heartbeat lost", "protocol error", "key no longer authorized",
                             "service no longer in this key's services"]}},
        ["workerId", "service", "name", "reason"],
        "A worker was dropped: it sent DISCONNECT, went silent, or broke the protocol.",
    ),
    "task:created": event(
        "task:created",
        {"taskId": TASK_ID, "featureId": IDENT, "title": TITLE},
        ["taskId", "featureId", "title"],
        "A task was created (task:create); not sent again for a retry.",
    ),
    "task:updated": event(
        "task:updated",
        {"taskId": TASK_ID, "featureId": IDENT, "state": TASK_STATE, "previousState": TASK_STATE,
         "iteration": COUNT},
        ["taskId", "featureId", "state", "previousState", "iteration"],
        "A task was updated (task:update); state and previousState are equal when the state did not change.",
    ),
    "task:iteration": event(
        "task:iteration",
        {"taskId": TASK_ID, "featureId": IDENT, "iteration": SEQ, "passed": {"type": "boolean"}},
        ["taskId", "featureId", "iteration", "passed"],
        "An iteration's results were recorded (task:recordIteration).",
    ),
    "broker:imported": event(
        "broker:imported",
        {"kind": KIND,
         "stats": {**SECTION_COUNTS, "description": "rows written, by section"},
         "sessionId": {**SESSION_ID, "description": "kind session: the new session"}},
        ["kind", "stats"],
        "An import committed (import:commit); the rows it wrote send no events of their own.",
    ),
    # The security layer (brokers with CURVE keys only).
    "auth:denied": event(
        "auth:denied",
        {"endpoint": {"enum": ["api", "events", "workers"], "description": "the endpoint that refused"},
         "key": {"type": "string", "minLength": 1,
                 "description": "who was refused, never a whole key: an authorized key's name and the start "
                                "of its key, e.g. 'dev1 (AbCdEfGh)'; the first 8 characters of an unknown or "
                                "removed key; '(plain peer)' for a peer without CURVE; '(no key)'; or the name of "
                                "a worker whose key was removed"},
         "method": {"type": "string", "minLength": 1, "description": "the method refused (api endpoint)"},
         "service": {**IDENT, "description": "the service the worker asked to serve or served (workers endpoint)"},
         "reason": {"type": "string", "minLength": 1,
                    "description": "why, e.g. unknown key, or: not allowed for role 'reader'"},
         "suppressed": {**COUNT, "description": "refusals before this one that were only counted, not "
                                                "reported (the rate limit)"}},
        ["endpoint", "key", "reason", "suppressed"],
        "A handshake, request or worker was refused: an unknown key, a method or service its role does not "
        "allow, or a key removed from the clients directory. Rate-limited; method and service appear only "
        "when the refusal concerns one.",
    ),
    "auth:reloaded": event(
        "auth:reloaded",
        {"keys": {**COUNT, "description": "authorized keys after the reload"},
         "added": {**COUNT, "description": "keys that were not authorized before"},
         "removed": {**COUNT, "description": "keys no longer authorized"},
         "changed": {**COUNT, "description": "keys still authorized whose name, role or services changed"}},
        ["keys", "added", "removed", "changed"],
        "The clients directory was read again (SIGHUP), whether or not anything changed; not sent when it could "
        "not be read (the keys in force are kept).",
    ),
}


def event_defs():
    return {topic.replace(":", "_"): body for topic, body in EVENTS.items()}


ANY_EVENT = {"oneOf": [{"$ref": f"#/$defs/{t.replace(':', '_')}"} for t in EVENTS]}

# ---------------------------------------------------------------- methods

SESSION_ONLY = params({"sessionId": IDENT}, ["sessionId"])
ACTION = params({"sessionId": IDENT, "requestId": CLIENT_ID}, ["sessionId"])

METHODS = {
    "broker:ping": (
        params({}),
        obj({"version": {"type": "string", "minLength": 1},
             "protocolVersion": {"type": "integer", "minimum": 1},
             "uptimeMs": COUNT},
            ["version", "protocolVersion", "uptimeMs"]),
    ),
    "broker:stats": (
        params({}),
        obj({
            "sessions": COUNT,
            "messages": {**COUNT, "description": "stored messages, active and archived"},
            "activeMessages": COUNT,
            "archivedMessages": COUNT,
            "activeTokens": COUNT,
            "lastEventSeq": COUNT,
            "requestsServed": {**COUNT, "description": "replies sent since start, errors included"},
            "repliesDropped": COUNT,
            "errors": obj({k: COUNT for k in KINDS}, list(KINDS), description="error replies since start, by kind"),
            "uptimeMs": COUNT,
            "databaseBytes": {**COUNT, "description": "database file plus its WAL"},
            "commits": {**COUNT, "description": "write transactions committed since start"},
            "writesCommitted": {**COUNT, "description": "writes in those transactions (their ratio is the group-commit batch size)"},
        }, ["sessions", "messages", "activeMessages", "archivedMessages", "activeTokens", "lastEventSeq",
            "requestsServed", "repliesDropped", "errors", "uptimeMs", "databaseBytes", "commits", "writesCommitted"]),
    ),
    "session:create": (
        params({
            "sessionId": CLIENT_ID,
            "type": IDENT,
            "featureId": IDENT,
            "taskId": IDENT,
            "state": IDENT,
            "context": DOCUMENT,
            "agentDescription": DOCUMENT,
            "tokenLimit": TOKEN_LIMIT,
        }, ["type", "featureId"]),
        SESSION_SUMMARY,
    ),
    "session:get": (SESSION_ONLY, SESSION_DETAIL),
    "session:list": (
        params({
            "type": IDENT, "featureId": IDENT, "taskId": IDENT, "state": IDENT,
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "cursor": {"type": "string", "maxLength": 64, "description": "a nextCursor from an earlier page"},
        }),
        obj({"sessions": {"type": "array", "items": {"$ref": "#/$defs/sessionSummary"}},
             "nextCursor": {"type": ["string", "null"], "minLength": 1}},
            ["sessions", "nextCursor"], defs={"sessionSummary": SESSION_SUMMARY}),
    ),
    "session:delete": (
        ACTION,
        obj({"sessionId": SESSION_ID, "deleted": {"const": True}, "messagesDeleted": COUNT},
            ["sessionId", "deleted", "messagesDeleted"]),
    ),
    "session:addMessage": (
        params({
            "sessionId": IDENT,
            "role": ROLE,
            "content": {"type": "string"},
            "messageId": CLIENT_ID,
            "name": IDENT,
            "toolCallId": CLIENT_ID,
            "metadata": {"type": "object"},
        }, ["sessionId", "role", "content"]),
        obj({"messageId": CLIENT_ID, "seq": SEQ, "tokens": {"type": "integer", "minimum": 4},
             "sessionTokens": COUNT},
            ["messageId", "seq", "tokens", "sessionTokens"]),
    ),
    "session:getMessages": (
        params({
            "sessionId": IDENT,
            "afterSeq": COUNT,
            "limit": {"type": "integer", "minimum": 1, "maximum": 50000},
            "includeArchived": {"type": "boolean"},
        }, ["sessionId"]),
        obj({"sessionId": SESSION_ID,
             "messages": {"type": "array", "items": {"$ref": "#/$defs/message"}},
             "nextSeq": {**COUNT, "description": "pass as afterSeq to read the next page"},
             "hasMore": {"type": "boolean"}},
            ["sessionId", "messages", "nextSeq", "hasMore"], defs={"message": MESSAGE}),
    ),
    "session:getCheckpoint": (
        params({"sessionId": IDENT, "version": COUNT}, ["sessionId"]),
        CHECKPOINT,
    ),
    "session:updateCheckpoint": (
        params({
            "sessionId": IDENT,
            "summary": {"type": "string"},
            "completed": STRINGS,
            "pending": STRINGS,
            "decisions": STRINGS,
            "blockers": STRINGS,
            "expectedVersion": COUNT,
            "requestId": CLIENT_ID,
        }, ["sessionId"]),
        CHECKPOINT,
    ),
    "session:getContext": (
        SESSION_ONLY,
        obj({"sessionId": SESSION_ID, "context": DOCUMENT}, ["sessionId", "context"]),
    ),
    "session:setContext": (
        params({"sessionId": IDENT, "context": nullable(DOCUMENT), "requestId": CLIENT_ID},
               ["sessionId", "context"]),
        obj({"sessionId": SESSION_ID, "context": DOCUMENT, "updatedAt": TIMESTAMP},
            ["sessionId", "context", "updatedAt"]),
    ),
    "session:getAgentDescription": (
        SESSION_ONLY,
        obj({"sessionId": SESSION_ID, "agentDescription": DOCUMENT}, ["sessionId", "agentDescription"]),
    ),
    "session:setAgentDescription": (
        params({"sessionId": IDENT, "agentDescription": nullable(DOCUMENT), "requestId": CLIENT_ID},
               ["sessionId", "agentDescription"]),
        obj({"sessionId": SESSION_ID, "agentDescription": DOCUMENT, "updatedAt": TIMESTAMP},
            ["sessionId", "agentDescription", "updatedAt"]),
    ),
    "session:estimateSize": (
        SESSION_ONLY,
        obj({
            "sessionId": SESSION_ID,
            "tokens": {**COUNT, "description": "messageTokens + checkpointTokens + contextTokens + agentDescriptionTokens"},
            "messageTokens": COUNT,
            "checkpointTokens": COUNT,
            "contextTokens": COUNT,
            "agentDescriptionTokens": COUNT,
            "messageCount": COUNT,
            "tokenLimit": {"type": "integer", "minimum": 256},
            "exact": {"type": "boolean", "description": "true when counted with cl100k_base, false for the approximation"},
        }, ["sessionId", "tokens", "messageTokens", "checkpointTokens", "contextTokens", "agentDescriptionTokens",
            "messageCount", "tokenLimit", "exact"]),
    ),
    "session:clearMessages": (
        ACTION,
        obj({"sessionId": SESSION_ID, "archivedCount": COUNT, "fromSeq": SEQ, "toSeq": COUNT},
            ["sessionId", "archivedCount", "fromSeq", "toSeq"]),
    ),
    "session:reset": (
        ACTION,
        obj({"sessionId": SESSION_ID, "archivedCount": COUNT, "fromSeq": SEQ, "toSeq": COUNT,
             "checkpointVersion": SEQ},
            ["sessionId", "archivedCount", "fromSeq", "toSeq", "checkpointVersion"]),
    ),
    "session:buildRequest": (
        params({"sessionId": IDENT, "userMessage": {"type": "string"}}, ["sessionId", "userMessage"]),
        obj({**BUILT_REQUEST,
             "totalTokens": {**COUNT, "description": "count(systemPrompt) + count(userPrompt), never over tokenLimit"}},
            BUILT_REQUEST_REQUIRED + ["totalTokens"]),
    ),
    "session:previewRequest": (
        params({"sessionId": IDENT, "userMessage": {"type": "string"}}, ["sessionId"]),
        obj({**BUILT_REQUEST,
             "breakdown": obj({
                 "agentDescTokens": {**COUNT, "description": "the agent description section"},
                 "contextTokens": {**COUNT, "description": "the context section"},
                 "checkpointTokens": {**COUNT, "description": "the checkpoint section"},
                 "messagesTokens": {**COUNT, "description": "the conversation section"},
                 "userPromptTokens": {**COUNT, "description": "the user prompt"},
                 "total": {**COUNT, "description": "the sum of the five parts: count(systemPrompt) + count(userPrompt)"},
             }, ["agentDescTokens", "contextTokens", "checkpointTokens", "messagesTokens", "userPromptTokens",
                 "total"])},
            BUILT_REQUEST_REQUIRED + ["breakdown"]),
    ),
    "session:compact": (
        params({"sessionId": IDENT, "instructions": INSTRUCTIONS, "requestId": CLIENT_ID}, ["sessionId"]),
        obj({
            "sessionId": SESSION_ID,
            "reason": {"const": "manual"},
            "checkpointVersion": {**SEQ, "description": "the version written"},
            "archivedCount": COUNT,
            "fromSeq": {**COUNT, "description": "first archived seq (0: none archived)"},
            "throughSeq": {**COUNT, "description": "last archived seq (0: none archived)"},
            "tokensBefore": {**COUNT, "description": "requestTokens before the swap"},
            "tokensAfter": {**COUNT, "description": "requestTokens after the swap"},
            "tokensSaved": {**COUNT, "description": "max(0, tokensBefore - tokensAfter)"},
            "durationMs": COUNT,
            "summarizer": SUMMARIZER,
        }, ["sessionId", "reason", "checkpointVersion", "archivedCount", "fromSeq", "throughSeq", "tokensBefore",
            "tokensAfter", "tokensSaved", "durationMs", "summarizer"]),
    ),
    "session:previewCompaction": (
        params({"sessionId": IDENT, "instructions": INSTRUCTIONS}, ["sessionId"]),
        obj({
            "sessionId": SESSION_ID,
            "archive": obj({
                "fromSeq": {**COUNT, "description": "first seq that would be archived (0: none)"},
                "throughSeq": {**COUNT, "description": "last seq that would be archived (0: none)"},
                "messageCount": COUNT,
                "tokens": {**COUNT, "description": "prompt tokens of those messages"},
            }, ["fromSeq", "throughSeq", "messageCount", "tokens"]),
            "keptMessages": {**COUNT, "description": "active messages that would stay active"},
            "checkpoint": obj({"version": {**SEQ, "description": "the version it would get"}, **CHECKPOINT_ITEMS},
                              ["version", "summary", "completed", "pending", "decisions", "blockers"]),
            "tokensBefore": COUNT,
            "tokensAfter": COUNT,
            "summarizer": SUMMARIZER,
            "kept": {"type": "string", "minLength": 1,
                     "description": "present when session:compact would not apply it: tokensAfter is not below "
                                    "tokensBefore"},
        }, ["sessionId", "archive", "keptMessages", "checkpoint", "tokensBefore", "tokensAfter", "summarizer"]),
    ),
    "session:listCompactions": (
        params({"sessionId": IDENT, "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}, ["sessionId"]),
        obj({"sessionId": SESSION_ID,
             "compactions": {"type": "array", "items": {"$ref": "#/$defs/compaction"},
                             "description": "newest first"}},
            ["sessionId", "compactions"], defs={"compaction": COMPACTION}),
    ),
    "job:submit": (
        params({
            "service": IDENT,
            "payload": ANY_JSON,
            "timeoutMs": JOB_TIMEOUT,
            "maxAttempts": MAX_ATTEMPTS,
            "jobId": CLIENT_ID,
        }, ["service"]),
        job_with("created", {"type": "boolean", "description": "false when the jobId existed (a retry)"},
                 "The job, and whether this request created it."),
    ),
    "job:get": (params({"jobId": IDENT}, ["jobId"]), JOB),
    "job:wait": (
        params({"jobId": IDENT,
                "timeoutMs": {"type": "integer", "minimum": 0, "maximum": 60000,
                              "description": "how long to wait for the job to end (default 30000)"}},
               ["jobId"]),
        job_with("done", {"type": "boolean", "description": "true when the job is completed, failed or cancelled"},
                 "The job when it ended, or at the time-out."),
    ),
    "job:cancel": (params({"jobId": IDENT}, ["jobId"]), JOB),
    "job:list": (
        params({"service": IDENT, "state": JOB_STATE, "limit": {"type": "integer", "minimum": 1, "maximum": 1000}}),
        obj({"jobs": {"type": "array", "items": {"$ref": "#/$defs/jobSummary"}, "description": "newest first"}},
            ["jobs"], defs={"jobSummary": JOB_SUMMARY}),
    ),
    "worker:list": (
        params({}),
        obj({"workers": {"type": "array", "items": {"$ref": "#/$defs/worker"}},
             "services": {"type": "array", "items": {"$ref": "#/$defs/service"}}},
            ["workers", "services"], defs={"worker": WORKER, "service": SERVICE}),
    ),
    "task:create": (
        params({
            "featureId": IDENT,
            "title": TITLE,
            "description": {"type": "string", "maxLength": 262144, "description": "default empty"},
            "checks": {"type": "array", "items": CHECK_PARAM, "description": "default none"},
            "dependsOn": {"type": "array", "items": IDENT, "maxItems": 1000,
                          "description": "taskIds of existing tasks"},
            "workspace": WORKSPACE,
            "taskId": CLIENT_ID,
        }, ["featureId", "title"]),
        TASK,
    ),
    "task:get": (params({"taskId": IDENT}, ["taskId"]), TASK_DETAIL),
    "task:list": (
        params({"featureId": IDENT, "state": TASK_STATE}),
        obj({"tasks": {"type": "array", "items": {"$ref": "#/$defs/task"}, "description": "in creation order"}},
            ["tasks"], defs={"task": TASK}),
    ),
    "task:update": (
        params({
            "taskId": IDENT,
            "state": TASK_STATE,
            "iteration": {"type": "integer", "minimum": 0, "maximum": 1000000},
            "sessionId": IDENT,
            "failureReason": {"type": "string", "maxLength": 65536},
            "requestId": CLIENT_ID,
        }, ["taskId"]),
        TASK,
    ),
    "task:recordIteration": (
        params({
            "taskId": IDENT,
            "iteration": {"type": "integer", "minimum": 1, "maximum": 1000000},
            "results": {"type": "object", "description": "any object; its member passed (boolean) is read"},
            "requestId": CLIENT_ID,
        }, ["taskId", "iteration", "results"]),
        obj({"taskId": TASK_ID, "iteration": SEQ, "passed": {"type": "boolean"}},
            ["taskId", "iteration", "passed"]),
    ),
    "events:since": (
        params({
            "seq": {**COUNT, "description": "return events after this seq (0: from the start)"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10000},
            "topic": {"type": "string", "maxLength": 256, "description": "topic prefix filter"},
        }, ["seq"]),
        obj({"events": {"type": "array", "items": ANY_EVENT},
             "nextSeq": {**COUNT, "description": "seq of the last event returned, or the seq asked for"},
             "lastSeq": {**COUNT, "description": "newest seq in the log, whatever the filter"},
             "hasMore": {"type": "boolean"}},
            ["events", "nextSeq", "lastSeq", "hasMore"], defs=event_defs()),
    ),
    # Portability (spec 8.33 to 8.40; formats in AGENTBROKER-PORTABILITY.md).
    "export:open": (
        params({
            "kind": KIND,
            "sessionId": {**IDENT, "description": "kind session: REQUIRED; kind traces: only this session's rows"},
            "format": {**DOC_FORMAT, "description": "kind session: json (default), markdown or packet; "
                                                    "kind backup: json only; kind traces: none"},
            "since": {"type": "string", "minLength": 1,
                      "description": "kind traces: rows at or after this RFC 3339 time"},
            "exportedBy": EXPORTED_BY,
        }, ["kind"]),
        obj({
            "exportId": {"type": "string", "minLength": 1, "description": "opaque; names the export in export:read"},
            "kind": KIND,
            "format": {"enum": ["json", "markdown", "packet", "jsonl"], "description": "jsonl for kind traces"},
            "formatVersion": {"type": "integer", "minimum": 1,
                              "description": "backup and session json: 2; packet: 1; markdown: 1; traces: 1"},
            "stats": {**SECTION_COUNTS, "description": "rows the export will read, by section (source)"},
            "totalRows": {**COUNT, "description": "the sum of stats"},
        }, ["exportId", "kind", "format", "formatVersion", "stats", "totalRows"]),
    ),
    "export:read": (
        params({
            "exportId": IDENT,
            "maxBytes": {"type": "integer", "minimum": 4096, "maximum": 8388608,
                         "description": "the size of a piece: data stops at the first record boundary at or after "
                                        "this many UTF-8 bytes (default 1048576)"},
            "dataFrame": {"type": "boolean",
                          "description": "true: the piece comes as a second reply frame of raw UTF-8 bytes and the "
                                         "result carries dataBytes instead of data (default false)"},
        }, ["exportId"]),
        {
            **obj({
                "exportId": {"type": "string", "minLength": 1},
                "data": {"type": "string", "description": "the next piece of the document text; may be empty"},
                "dataBytes": {**COUNT, "description": "with dataFrame: the size of the piece in the data frame"},
                "rows": {**COUNT, "description": "rows written to the document so far"},
                "bytes": {**COUNT, "description": "UTF-8 bytes of document text sent so far, this piece included"},
                "done": {"type": "boolean", "description": "true: this is the last piece, and the export is closed"},
                "unrepresentable": {**COUNT, "description": "rows flagged unrepresentable so far"},
            }, ["exportId", "rows", "bytes", "done", "unrepresentable"]),
            "oneOf": [{"required": ["data"]}, {"required": ["dataBytes"]}],
        },
    ),
    "export:close": (
        params({"exportId": IDENT}, ["exportId"]),
        obj({"exportId": {"type": "string", "minLength": 1}, "closed": {"const": True}}, ["exportId", "closed"]),
    ),
    "session:export": (
        params({"sessionId": IDENT, "format": DOC_FORMAT, "exportedBy": EXPORTED_BY}, ["sessionId"]),
        obj({
            "sessionId": SESSION_ID,
            "format": DOC_FORMAT,
            "formatVersion": {"type": "integer", "minimum": 1, "description": "json: 2; packet: 1; markdown: 1"},
            "document": {"type": "string", "description": "the whole document text (at most 64 MiB)"},
        }, ["sessionId", "format", "formatVersion", "document"]),
    ),
    "import:begin": (
        params({"kind": KIND,
                "clear": {"type": "boolean",
                          "description": "kind backup only: replace everything the broker holds (default false)"}},
               ["kind"]),
        obj({"importId": {"type": "string", "minLength": 1, "description": "opaque; names the import"}},
            ["importId"]),
    ),
    "import:write": (
        params({
            "importId": IDENT,
            "seq": {**COUNT, "description": "0 for the first piece, then 1, 2, ...; the last seq again is a retry"},
            "data": {"type": "string",
                     "description": "the next piece of the file's text; left out when the piece is sent as a "
                                    "data frame after the request frame (whole UTF-8 characters)"},
        }, ["importId", "seq"]),
        obj({"importId": {"type": "string", "minLength": 1},
             "seq": COUNT,
             "bytes": {**COUNT, "description": "UTF-8 bytes spooled so far"}},
            ["importId", "seq", "bytes"]),
    ),
    "import:commit": (
        params({"importId": IDENT}, ["importId"]),
        {
            **obj({
                "importId": {"type": "string", "minLength": 1},
                "kind": KIND,
                "formatVersion": {"type": "integer", "minimum": 1,
                                  "description": "the file's: formatVersion (1 for a legacy file), packetVersion "
                                                 "for a packet, recordFormatVersion for a trace bundle"},
                "migrated": {"type": "boolean", "description": "true when the records were migrated to version 2"},
                "stats": {**SECTION_COUNTS, "description": "rows written, by section"},
                "skipped": {**SECTION_COUNTS, "description": "kind traces: rows already present, by section"},
                "unrepresentable": {**COUNT, "description": "records of the file flagged unrepresentable"},
                "sessionId": {**SESSION_ID, "description": "kind session: the new session's id"},
                "source": {"enum": ["packet", "session"], "description": "kind session: what the file was"},
                "durationMs": {**COUNT, "description": "milliseconds the writer took to write the import"},
            }, ["importId", "kind", "formatVersion", "migrated", "stats", "skipped", "unrepresentable"]),
            "if": {"properties": {"kind": {"const": "session"}}, "required": ["kind"]},
            "then": {"required": ["sessionId", "source"]},
            "else": {"not": {"anyOf": [{"required": ["sessionId"]}, {"required": ["source"]}]}},
        },
    ),
    "import:abort": (
        params({"importId": IDENT}, ["importId"]),
        obj({"importId": {"type": "string", "minLength": 1}, "aborted": {"const": True}}, ["importId", "aborted"]),
    ),
}

# ---------------------------------------------------------------- envelopes

REQUEST_ID = {"type": ["string", "integer"], "description": "echoed in the reply; fractions are refused"}

REQUEST = obj(
    {"jsonrpc": {"const": "2.0"}, "id": REQUEST_ID,
     "method": {"enum": sorted(METHODS)},
     "params": {"type": ["object", "null"]}},
    ["jsonrpc", "id", "method"],
    description="A request frame on the api endpoint. Validate params with <method>.params.json.",
)

ERROR = obj(
    {
        "jsonrpc": {"const": "2.0"},
        "id": {"type": ["string", "integer", "null"],
               "description": "the request's id, or null when it could not be read"},
        "error": obj(
            {
                "code": {"enum": sorted(set(KINDS.values()))},
                "message": {"type": "string", "minLength": 1},
                "data": obj(
                    {
                        "kind": {"enum": list(KINDS)},
                        "field": {"type": "string", "description": "the parameter at fault"},
                        "limit": {"type": "integer", "minimum": 0, "description": "the limit exceeded (too_large)"},
                        "id": {"type": "string", "description": "the id that does not exist (not_found)"},
                        "method": {"type": "string",
                                   "description": "the unknown method (method_not_found), or the method refused "
                                                  "(unauthorized)"},
                        "role": {"enum": ["admin", "controller", "agent", "reader"],
                                 "description": "the caller's role, which may not call the method (unauthorized)"},
                        "currentVersion": {"type": "integer", "minimum": 0,
                                           "description": "the session's checkpoint version (conflict, not_found)"},
                        "messageId": {"type": "string", "description": "the messageId used elsewhere (conflict)"},
                        "requestId": {"type": "string",
                                      "description": "the requestId used with another method or session (conflict)"},
                        "jobId": {"type": "string", "description": "the job in conflict (conflict)"},
                        "tokensBefore": {"type": "integer", "minimum": 0,
                                         "description": "session:compact not applied: the request's tokens now "
                                                        "(conflict)"},
                        "tokensAfter": {"type": "integer", "minimum": 0,
                                        "description": "session:compact not applied: the tokens it would have had "
                                                       "(conflict)"},
                        "taskId": {"type": "string", "description": "the task in conflict (conflict)"},
                        "state": {"type": "string",
                                  "description": "the job's or task's current state, which refuses the change (conflict)"},
                        "part": {"enum": ["agentDescription", "context", "checkpoint", "userMessage"],
                                 "description": "the largest part of a request over its session's tokenLimit (too_large)"},
                        "partTokens": {**COUNT, "description": "that part's tokens (too_large)"},
                        "requiredTokens": {**COUNT, "description": "tokens the request needs before any message (too_large)"},
                        "tokenLimit": {**COUNT, "description": "the session's tokenLimit (too_large)"},
                        "problem": {"type": "string", "minLength": 1,
                                    "description": "what is wrong with an imported file, without its location "
                                                   "(invalid_params from import:commit)"},
                        "location": obj({
                            "byte": {**COUNT, "description": "0-based offset in the file's UTF-8 text"},
                            "line": {**SEQ, "description": "1-based line"},
                            "column": {**SEQ, "description": "1-based column, in bytes from the start of the line"},
                            "path": {"type": "string",
                                     "description": "the value at fault, e.g. messages[41].content ('': the document)"},
                        }, ["byte", "line", "column", "path"],
                            description="where the problem is in the imported file (invalid_params from import:commit)"),
                        "section": {"enum": SECTIONS,
                                    "description": "the section of the row whose id the broker already holds (conflict)"},
                    },
                    ["kind"],
                ),
            },
            ["code", "message", "data"],
        ),
    },
    ["jsonrpc", "id", "error"],
    description="An error reply. error.code is fixed by error.data.kind.",
)
# A request over its session's tokenLimit names its largest part and all the figures.
ERROR["properties"]["error"]["properties"]["data"]["dependentRequired"] = {
    "part": ["partTokens", "requiredTokens", "tokenLimit"],
    "location": ["problem"],
    "section": ["id"],
    "role": ["method"],
}
ERROR["allOf"] = [
    {
        "if": {"properties": {"error": {"properties": {"data": {"properties": {"kind": {"const": kind}}}}}}},
        "then": {"properties": {"error": {"properties": {"code": {"const": code}}}}},
    }
    for kind, code in KINDS.items()
]

SUCCESS = obj(
    {"jsonrpc": {"const": "2.0"}, "id": {"type": ["string", "integer"]}, "result": {}},
    ["jsonrpc", "id", "result"],
    description="A successful reply. Validate result with <method>.result.json.",
)


def finish(name, schema, title, base=BASE):
    out = {"$schema": DIALECT, "$id": base + name, "title": title}
    out.update(schema)
    return out


def main():
    files = {}
    for method, (p, r) in METHODS.items():
        stem = method.replace(":", ".")
        files[f"{stem}.params.json"] = finish(f"{stem}.params", p, f"{method} params")
        files[f"{stem}.result.json"] = finish(f"{stem}.result", r, f"{method} result")
    for topic, body in EVENTS.items():
        stem = "event." + topic.replace(":", ".")
        files[f"{stem}.json"] = finish(stem, body, f"{topic} event body")
    files["event.json"] = finish("event", {**ANY_EVENT, "$defs": event_defs()}, "any event body")
    for stem, (body, title) in WORKER_BODIES.items():
        files[f"{stem}.json"] = finish(stem, body, f"worker protocol {title}")
    for stem, (body, title) in FORMATS.items():
        files[f"{stem}.json"] = finish(stem, body, title, base=FORMAT_BASE)
    files["request.json"] = finish("request", REQUEST, "request envelope")
    files["response.json"] = finish("response", SUCCESS, "success reply envelope")
    files["error.json"] = finish("error", ERROR, "error reply")
    check = "--check" in sys.argv
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, schema in sorted(files.items()):
        text = json.dumps(schema, indent=2, ensure_ascii=True) + "\n"
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if check:
        if stale:
            print("out of date:", ", ".join(stale))
            return 1
        print(f"{len(files)} schema files up to date")
    else:
        print(f"wrote {len(files)} schema files to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
