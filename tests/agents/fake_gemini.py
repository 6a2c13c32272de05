"""A scripted Gemini API (`models/*:generateContent` and `:streamGenerateContent`), for Gemini CLI.

Gemini CLI sends the conversation as `contents`: user turns with text parts,
model turns with `functionCall` parts, and user turns with `functionResponse`
parts that carry each tool's result. A Reply becomes one candidate with a
functionCall part per call and a text part for its text; a streaming request
(`alt=sse`) gets it as a single SSE event.

The CLI's own small requests (routing, summaries: they offer no tools and want
JSON back) and token counting get neutral answers without using up the script.
"""

import json

from harness import JSON_HEADERS, SSE_HEADERS, ModelServer, json_answer, sse

MODEL = "gemini-2.5-pro"


class FakeGemini(ModelServer):
    def answer(self, request):
        path = request.path.split("?", 1)[0]
        if ":countTokens" in path:
            return json_answer({"totalTokens": 10})
        if request.method != "POST" or not (":generateContent" in path or ":streamGenerateContent" in path):
            return json_answer({"error": {"message": f"no route {request.method} {path}"}}, 404)
        body = request.body or {}
        if not body.get("tools") and (body.get("generationConfig") or {}).get("responseMimeType") == "application/json":
            return self._answer_with(request, [{"text": "{}"}])
        return None

    def render(self, reply, request):
        parts = []
        for call in reply.calls:
            call.id = self.new_id("call_")
            parts.append({"functionCall": {"name": call.name, "args": call.args, "id": call.id}})
        if reply.text is not None:
            parts.append({"text": reply.text})
        return self._answer_with(request, parts)

    def _answer_with(self, request, parts):
        doc = {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
               "modelVersion": MODEL,
               "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15}}
        if ":streamGenerateContent" in request.path:
            return 200, dict(SSE_HEADERS), sse([(None, doc)])
        return 200, dict(JSON_HEADERS), json.dumps(doc)

    def tool_results(self, request):
        found = {}
        for part in _parts(request):
            response = part.get("functionResponse")
            if isinstance(response, dict):
                found[response.get("id")] = _flatten(response.get("response"))
        return found

    def texts(self, request):
        body = request.body or {}
        texts = [_flatten(body.get("systemInstruction"))]
        for part in _parts(request):  # what the user said, and what tools returned (hook context rides on those)
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif isinstance(part.get("functionResponse"), dict):
                texts.append(_flatten(part["functionResponse"].get("response")))
        return texts


def _parts(request):
    contents = (request.body or {}).get("contents")
    return [part for content in (contents if isinstance(contents, list) else []) if isinstance(content, dict)
            for part in content.get("parts") or [] if isinstance(part, dict)]


def _flatten(value):
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return "\n".join(_flatten(v) for v in value)
    return "" if value is None else str(value)
