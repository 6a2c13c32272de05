"""A scripted Gemini API (models/*:generateContent and :streamGenerateContent), for Gemini CLI.

Gemini CLI sends the conversation as `contents`: user turns with text parts,
model turns with `functionCall` parts, and user turns with `functionResponse`
parts that carry each tool's result. A Reply becomes one model candidate with a
functionCall part per call and a text part for its text. Streaming requests
(`alt=sse`) get the same candidate as a single SSE event.

Requests that are not the conversation (token counting, and the small JSON
requests the CLI makes to route or summarise) get neutral answers and are not
counted as model turns: see `is_side_request`.
"""

from scripted_model import ScriptedServer, send_json, send_sse


class FakeGemini(ScriptedServer):
    def __init__(self, steps=()):
        super().__init__(steps)
        self.side_requests = []

    def is_model_request(self, method, path):
        return method == "POST" and (":generateContent" in path or ":streamGenerateContent" in path)

    def next_reply(self, path, body):
        if is_side_request(body):
            self.side_requests.append((path, body))
            return None
        return super().next_reply(path, body)

    def other(self, handler, method, path, body):
        if ":countTokens" in path:
            send_json(handler, 200, {"totalTokens": 10})
            return
        super().other(handler, method, path, body)

    def answer(self, handler, path, body, reply):
        if reply is None:
            candidate = _candidate([{"text": "{}"}])
        else:
            parts = [{"functionCall": {"name": call.name, "args": call.arguments, "id": call.id}} for call in reply.calls]
            if reply.text is not None:
                parts.append({"text": reply.text})
            candidate = _candidate(parts)
        response = {"candidates": [candidate], "modelVersion": "gemini-2.5-pro",
                    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}}
        if ":streamGenerateContent" in path:
            send_sse(handler, [("message", response)], named=False)
        else:
            send_json(handler, 200, response)

    # What reached the model -------------------------------------------------

    def contents(self):
        """The conversation of the latest model request."""
        return self.requests[-1][1].get("contents", []) if self.requests else []

    def tool_output(self, call):
        """The response Gemini sent back for `call` (as text), or None if it never did."""
        for _path, body in self.requests:
            for content in body.get("contents", []):
                for part in content.get("parts", []):
                    response = part.get("functionResponse")
                    if response and (response.get("id") == call.id or
                                     (response.get("id") is None and response.get("name") == call.name)):
                        return _flatten(response.get("response"))
        return None

    def context_text(self):
        """All text the model was shown in the latest request: system instruction and every text part."""
        if not self.requests:
            return ""
        body = self.requests[-1][1]
        texts = [_flatten(body.get("systemInstruction"))]
        for content in body.get("contents", []):
            texts.extend(part["text"] for part in content.get("parts", []) if isinstance(part.get("text"), str))
        return "\n".join(texts)


def is_side_request(body):
    """True for the CLI's own small requests (routing, summaries, next-speaker checks), not the agent's turn.

    Those ask for JSON (`generationConfig.responseMimeType`) and offer no tools.
    """
    config = body.get("generationConfig") or {}
    return not body.get("tools") and config.get("responseMimeType") == "application/json"


def _candidate(parts):
    return {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}


def _flatten(value):
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_flatten(v) for v in value)
    return "" if value is None else str(value)
