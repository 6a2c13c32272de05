"""A scripted OpenAI Responses API (POST /v1/responses, streamed as SSE), for Codex CLI.

Codex sends the whole conversation as `input` items on every request: messages,
its own earlier tool calls and their outputs (`function_call_output`,
`custom_tool_call_output`). A Reply becomes `function_call` items, or a
`custom_tool_call` for a freeform tool such as apply_patch, and an assistant
message for its text.
"""

import itertools
import json

from scripted_model import ScriptedServer, send_json, send_sse

_ids = itertools.count(1)


class FakeResponses(ScriptedServer):
    def __init__(self, steps=(), input_tokens=10):
        super().__init__(steps)
        self.input_tokens = input_tokens  # what each answer reports: a large count makes Codex compact

    def is_model_request(self, method, path):
        return method == "POST" and path.rstrip("/").endswith("/responses")

    def other(self, handler, method, path, body):
        if method == "GET" and path.split("?")[0].rstrip("/").endswith("/models"):
            send_json(handler, 200, {"object": "list", "data": [], "models": []})
            return
        super().other(handler, method, path, body)

    def answer(self, handler, path, body, reply):
        n = next(_ids)
        items = []
        for call in reply.calls:
            if call.freeform is not None:
                items.append({"type": "custom_tool_call", "id": f"ctc_{n}_{call.id}", "call_id": call.id,
                              "name": call.name, "input": call.freeform, "status": "completed"})
            else:
                items.append({"type": "function_call", "id": f"fc_{n}_{call.id}", "call_id": call.id,
                              "name": call.name, "arguments": json.dumps(call.arguments), "status": "completed"})
        if reply.text is not None:
            items.append({"type": "message", "id": f"msg_{n}", "role": "assistant", "status": "completed",
                          "content": [{"type": "output_text", "text": reply.text, "annotations": []}]})
        events = [("response.created", {"type": "response.created", "response": {"id": f"resp_{n}"}})]
        for index, item in enumerate(items):
            events.append(("response.output_item.done",
                           {"type": "response.output_item.done", "output_index": index, "item": item}))
        events.append(("response.completed", {"type": "response.completed", "response": {
            "id": f"resp_{n}", "usage": {"input_tokens": self.input_tokens, "input_tokens_details": None,
                                         "output_tokens": 5, "output_tokens_details": None,
                                         "total_tokens": self.input_tokens + 5}}}))
        send_sse(handler, events)

    # What reached the model -------------------------------------------------

    def inputs(self):
        """Every input item of the latest request (each request carries the whole conversation)."""
        return self.requests[-1][1].get("input", []) if self.requests else []

    def tool_output(self, call):
        """The text Codex sent back for `call`, or None if it never did."""
        for _path, body in self.requests:
            for item in body.get("input", []):
                if item.get("type") in ("function_call_output", "custom_tool_call_output") \
                        and item.get("call_id") == call.id:
                    return _text(item.get("output"))
        return None

    def context_text(self):
        """All message text the model was shown in the latest request (instructions, hook context, prompts)."""
        return "\n".join(_text(item.get("content")) for item in self.inputs() if item.get("type") == "message")


def _text(value):
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(part) for part in value)
    if isinstance(value, dict):
        return _text(value.get("text") or value.get("output") or value.get("content") or "")
    return "" if value is None else str(value)
