"""A scripted Anthropic Messages API (`POST /v1/messages`, SSE or JSON), for `ANTHROPIC_BASE_URL`.

Claude Code's main loop sends its tools with every turn; side requests it
makes on its own (titles, summaries, quota checks) carry no tools and get a
plain text answer without using up the script.
"""

import json

from harness import JSON_HEADERS, SSE_HEADERS, ModelServer, json_answer, sse

MODEL = "claude-sonnet-4-5"


SUMMARY = "<analysis>The scripted session.</analysis>\n<summary>The conversation so far, compacted.</summary>"


class FakeAnthropic(ModelServer):
    def __init__(self, *replies, **kw):
        super().__init__(*replies, **kw)
        self.compactions = []  # the summarisation requests Claude Code made when it compacted

    def answer(self, request):
        path = request.path.split("?", 1)[0]
        if request.method != "POST" or not path.endswith("/v1/messages"):
            if path.endswith("/count_tokens"):
                return json_answer({"input_tokens": 100})
            return json_answer({"type": "error", "error": {"type": "not_found_error", "message": path}}, 404)
        body = request.body or {}
        if not body.get("tools"):
            return self._message(body, [{"type": "text", "text": "ok"}], "end_turn")
        if is_compaction(request):
            self.compactions.append(request)
            return self._message(body, [{"type": "text", "text": SUMMARY}], "end_turn")
        return None

    def render(self, reply, request):
        content = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        for call in reply.calls:
            call.id = self.new_id("toolu_")
            content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.args})
        return self._message(request.body or {}, content, "tool_use" if reply.calls else "end_turn",
                             reply.extra.get("input_tokens", 10))

    def _message(self, body, content, stop_reason, input_tokens=10):
        """`input_tokens`: the context size reported back (a large one makes Claude Code compact)."""
        message = {"id": self.new_id("msg_"), "type": "message", "role": "assistant",
                   "model": body.get("model") or MODEL, "content": content, "stop_reason": stop_reason,
                   "stop_sequence": None, "usage": {"input_tokens": input_tokens, "output_tokens": 10}}
        if not body.get("stream"):
            return 200, dict(JSON_HEADERS), json.dumps(message)
        return 200, dict(SSE_HEADERS), sse(_stream(message))

    def tool_results(self, request):
        found = {}
        for message in (request.body or {}).get("messages", []):
            for block in _blocks(message):
                if block.get("type") == "tool_result":
                    found[block.get("tool_use_id")] = _text_of(block.get("content"))
        return found

    def texts(self, request):
        body = request.body or {}
        out = [_text_of(body.get("system"))]
        for message in body.get("messages", []):
            for block in _blocks(message):
                if block.get("type") == "text":
                    out.append(block.get("text", ""))
                elif block.get("type") == "tool_result":
                    out.append(_text_of(block.get("content")))
        return [t for t in out if t]


def _stream(message):
    start = dict(message, content=[], stop_reason=None)
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": {"type": "text", "text": ""}}
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "text_delta", "text": block["text"]}}
        else:
            yield "content_block_start", {"type": "content_block_start", "index": index,
                                          "content_block": dict(block, input={})}
            yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": {"type": "input_json_delta",
                                                    "partial_json": json.dumps(block["input"])}}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                            "usage": {"output_tokens": 10}}
    yield "message_stop", {"type": "message_stop"}


def _blocks(message):
    content = message.get("content")
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content or [] if isinstance(b, dict)]


def _text_of(content):
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def is_compaction(request):
    """Claude Code's request for a summary of the conversation (it keeps its tools, but wants text only)."""
    messages = (request.body or {}).get("messages") or [{}]
    last = "\n".join(b.get("text", "") for b in _blocks(messages[-1]) if b.get("type") == "text")
    return "Respond with TEXT ONLY" in last and "summary" in last


def first_user_text(request):
    """The first user message of the conversation (tells a subagent's turns from its parent's)."""
    for message in (request.body or {}).get("messages", []):
        if message.get("role") == "user":
            return "\n".join(b.get("text", "") for b in _blocks(message) if b.get("type") == "text")
    return ""
