"""A scripted OpenAI-style chat completions API (`POST .../chat/completions`, SSE or JSON).

GitHub Copilot CLI talks to it through its bring-your-own-model variables
(`COPILOT_PROVIDER_BASE_URL`, wire API "completions"). Requests without
tools (titles, summaries) get a short text without using up the script.
"""

import json
import time

from harness import JSON_HEADERS, SSE_HEADERS, ModelServer, json_answer, sse

MODEL = "gpt-4.1"


class FakeOpenAIChat(ModelServer):
    def answer(self, request):
        path = request.path.split("?", 1)[0]
        if request.method == "GET" and path.endswith("/models"):
            return json_answer({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "tier"}]})
        if request.method != "POST" or not path.endswith("/chat/completions"):
            return json_answer({"error": {"message": f"no route {request.method} {path}"}}, 404)
        body = request.body or {}
        if not body.get("tools"):
            return self._completion(body, "ok", [])
        return None

    def render(self, reply, request):
        calls = []
        for call in reply.calls:
            call.id = self.new_id("call_")
            calls.append({"id": call.id, "type": "function",
                          "function": {"name": call.name, "arguments": json.dumps(call.args)}})
        return self._completion(request.body or {}, reply.text if not calls else None, calls)

    def _completion(self, body, text, calls):
        finish = "tool_calls" if calls else "stop"
        ident = self.new_id("chatcmpl-")
        model = body.get("model") or MODEL
        usage = {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}
        if not body.get("stream"):
            message = {"role": "assistant", "content": text}
            if calls:
                message["tool_calls"] = calls
            doc = {"id": ident, "object": "chat.completion", "created": int(time.time()), "model": model,
                   "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": usage}
            return 200, dict(JSON_HEADERS), json.dumps(doc)

        def chunk(delta, reason=None):
            return None, {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
                          "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

        events = [chunk({"role": "assistant", "content": text or ""})]
        for index, call in enumerate(calls):
            events.append(chunk({"tool_calls": [dict(call, index=index)]}))
        events.append(chunk({}, finish))
        events.append((None, {"id": ident, "object": "chat.completion.chunk", "created": int(time.time()),
                              "model": model, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        return 200, dict(SSE_HEADERS), sse(events)

    def tool_results(self, request):
        found = {}
        for message in (request.body or {}).get("messages", []):
            if message.get("role") == "tool":
                found[message.get("tool_call_id")] = _text_of(message.get("content"))
        return found

    def texts(self, request):
        out = []
        for message in (request.body or {}).get("messages", []):
            out.append(_text_of(message.get("content")))
        return [t for t in out if t]


def _text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def first_user_text(request):
    for message in (request.body or {}).get("messages", []):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""
