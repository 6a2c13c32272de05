"""A scripted OpenAI Responses API (`POST .../responses`, streamed as SSE), for Codex CLI.

Codex sends the whole conversation as `input` items on every request: messages,
its own earlier tool calls and their outputs (`function_call_output`,
`custom_tool_call_output`). A Reply becomes `function_call` items, or a
`custom_tool_call` for a Call whose args are a string (a freeform tool such as
apply_patch takes the patch text itself), and an assistant message for its text.
"""

import json

from harness import SSE_HEADERS, ModelServer, json_answer, sse

OUTPUTS = ("function_call_output", "custom_tool_call_output")


class FakeResponses(ModelServer):
    def __init__(self, *replies, input_tokens=10, **kw):
        super().__init__(*replies, **kw)
        self.input_tokens = input_tokens  # what every answer reports: a large count makes Codex compact

    def answer(self, request):
        path = request.path.split("?", 1)[0].rstrip("/")
        if request.method == "GET" and path.endswith("/models"):
            return json_answer({"object": "list", "data": [], "models": []})
        if request.method != "POST" or not path.endswith("/responses"):
            return json_answer({"error": {"message": f"no route {request.method} {path}"}}, 404)
        return None

    def render(self, reply, request):
        n = self.new_id("resp_")
        items = []
        for call in reply.calls:
            call.id = self.new_id("call_")
            if isinstance(call.args, str):
                items.append({"type": "custom_tool_call", "id": f"ctc_{call.id}", "call_id": call.id,
                              "name": call.name, "input": call.args, "status": "completed"})
            else:
                items.append({"type": "function_call", "id": f"fc_{call.id}", "call_id": call.id,
                              "name": call.name, "arguments": json.dumps(call.args), "status": "completed"})
        if reply.text is not None:
            items.append({"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                          "content": [{"type": "output_text", "text": reply.text, "annotations": []}]})
        events = [("response.created", {"type": "response.created", "response": {"id": n}})]
        events += [("response.output_item.done", {"type": "response.output_item.done", "output_index": i, "item": item})
                   for i, item in enumerate(items)]
        usage = {"input_tokens": self.input_tokens, "input_tokens_details": None, "output_tokens": 5,
                 "output_tokens_details": None, "total_tokens": self.input_tokens + 5}
        events.append(("response.completed", {"type": "response.completed", "response": {"id": n, "usage": usage}}))
        return 200, dict(SSE_HEADERS), sse(events)

    def tool_results(self, request):
        return {item.get("call_id"): _text(item.get("output")) for item in _inputs(request)
                if item.get("type") in OUTPUTS}

    def texts(self, request):
        return [_text(item.get("content")) for item in _inputs(request) if item.get("type") == "message"]


def _inputs(request):
    items = (request.body or {}).get("input")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(part) for part in value)
    if isinstance(value, dict):
        return _text(value.get("text") or value.get("output") or value.get("content") or "")
    return "" if value is None else str(value)
