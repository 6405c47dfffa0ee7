"""Questions too long for a button, kept on the server under a short reference (layer: bot runtime).

Slack caps a button's ``value`` at 2000 characters. A question that fits travels in the button itself
(``render.button_value``); a longer one is kept here and the button carries ``{"ref": ..., "as_of": ...}``:

    refs = QuestionRefs()
    key = refs.put("win_rate last-quarter where region=... (3,600 characters)")   # "q1f3a9c0..."
    refs.get(key)          # the full question; None once forgotten (bot restarted, or evicted)

Keys are content digests, so the same question always gets the same key. At most ``size`` questions
are kept, least recently used first out; a click on a forgotten one is told to ask again.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict


class QuestionRefs:
    def __init__(self, size: int = 20_000) -> None:
        self._size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, question: str) -> str:
        key = "q" + hashlib.sha256(question.encode("utf-8", "surrogatepass")).hexdigest()[:31]
        with self._lock:
            self._items[key] = question
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return key

    def get(self, key: str) -> str | None:
        with self._lock:
            question = self._items.get(key)
            if question is not None:
                self._items.move_to_end(key)
            return question
