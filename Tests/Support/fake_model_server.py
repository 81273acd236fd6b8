#!/usr/bin/env python3
"""A real HTTP server on loopback that answers like the OpenAI chat-completions and Anthropic
Messages APIs, for the ModelProviders tests.

The request's `model` picks the behaviour: "ok" answers in the API's shape, with a text that
echoes what the server received (auth header, system prompt, messages); "status-NNN" answers
that HTTP status with an API-style error body; "slow" waits 3 s; "malformed" sends a body that
is not JSON; "wrong-shape" sends JSON without the answer fields. Prints its port, then serves
until killed.
"""
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        model = request.get("model", "")
        anthropic = self.path.endswith("/v1/messages")
        if not anthropic and not self.path.endswith("/chat/completions"):
            return self.reply(404, {"error": {"message": "no route " + self.path}})
        if model.startswith("status-"):
            status = int(model.split("-")[1])
            return self.reply(status, {"error": {"message": "simulated %d" % status, "type": "test"}})
        if model == "slow":
            time.sleep(3)
        if model == "malformed":
            return self.reply(200, b"this is not json {")
        if model == "wrong-shape":
            return self.reply(200, {"id": "x", "object": "nothing here"})
        if anthropic:
            seen = {"auth": self.headers.get("x-api-key"), "version": self.headers.get("anthropic-version"),
                    "system": request.get("system"), "messages": request.get("messages"),
                    "max_tokens": request.get("max_tokens")}
            return self.reply(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": model,
                                    "content": [{"type": "text", "text": json.dumps(seen)}],
                                    "usage": {"input_tokens": 11, "output_tokens": 7}})
        seen = {"auth": self.headers.get("Authorization"), "messages": request.get("messages"),
                "max_tokens": request.get("max_tokens")}
        return self.reply(200, {"id": "chatcmpl-1", "object": "chat.completion", "model": model,
                                "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(seen)},
                                             "finish_reason": "stop"}],
                                "usage": {"prompt_tokens": 13, "completion_tokens": 5, "total_tokens": 18}})


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
