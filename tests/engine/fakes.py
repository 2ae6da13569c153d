"""In-memory connectors for engine tests: a forum (source) and a tracker (target).

They keep the same promises real connectors keep — keyed creates found again
on retry, pages with cursors — so the engine's invariants can be tested
without HTTP.  End-to-end tests use the real connectors and simulators.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from continuum.connector import JSON, Capabilities, Effect, EffectResult, Page, SourceRecord


@dataclass
class FakeForum:
    system: str = "forum"
    account: str | None = "company"
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(("posts",), ("reply",), {}))
    posts: list[JSON] = field(default_factory=list)
    page_size: int = 3
    replies: int = 0

    def post(self, author: str, topic: int, text: str, category: str = "ideas", **extra: Any) -> int:
        post_id = len(self.posts) + 1
        first = not any(p["topic"] == topic for p in self.posts)
        self.posts.append({"id": post_id, "topic": topic, "author": author, "text": text, "category": category,
                           "first": first, "created": "2026-11-20T10:00:00Z", **extra})
        return post_id

    def check(self) -> None:
        return None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        last = (cursor or {}).get("last", 0)
        fresh = [p for p in self.posts if p["id"] > last]
        for start in range(0, len(fresh), self.page_size):
            chunk = fresh[start:start + self.page_size]
            records = [SourceRecord("posts", "post", str(p["id"]), dict(p), parent_id=str(p["topic"])) for p in chunk]
            yield Page(records, {"last": chunk[-1]["id"]})

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results = []
        for effect in effects:
            existing = next((p for p in self.posts if p.get("key") == effect.key), None)
            if existing is not None:
                results.append(EffectResult(effect.key, True, str(existing["id"]), "post", found_existing=True))
                continue
            post_id = self.post(self.account or "company", int(effect.target_id or 0), effect.fields["body"],
                                key=effect.key)
            self.replies += 1
            results.append(EffectResult(effect.key, True, str(post_id), "post"))
        return results

    def escape_text(self, text: str) -> str:
        return text.replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class FakeTracker:
    system: str = "tracker"
    account: str | None = "hub-bot"
    capabilities: Capabilities = field(
        default_factory=lambda: Capabilities(("issues",), ("create", "comment"), {"create": 2}))
    issues: dict[str, JSON] = field(default_factory=dict)
    created: int = 0
    comments_added: int = 0
    clock: int = 0

    def _tick(self) -> int:
        self.clock += 1
        return self.clock

    def staff_comment(self, issue_id: str, text: str, public: bool = True) -> None:
        issue = self.issues[issue_id]
        issue["comments"].append({"id": f"{issue_id}-{len(issue['comments']) + 1}", "author": "staff",
                                  "text": text, "public": public})
        issue["updated"] = self._tick()

    def check(self) -> None:
        return None

    def read_changes(self, stream: str, cursor: JSON | None) -> Iterator[Page]:
        since = (cursor or {}).get("updated", 0)
        changed = sorted((i for i in self.issues.values() if i["updated"] >= since), key=lambda i: i["updated"])
        if not changed:
            return
        records: list[SourceRecord] = []
        for issue in changed:
            records.append(SourceRecord("issues", "issue", issue["id"], {k: v for k, v in issue.items()
                                                                          if k != "comments"}))
            records += [SourceRecord("issues", "comment", c["id"], dict(c), parent_id=issue["id"])
                        for c in issue["comments"]]
        yield Page(records, {"updated": changed[-1]["updated"]})

    def write(self, effects: Sequence[Effect]) -> list[EffectResult]:
        results = []
        for effect in effects:
            if effect.action == "create":
                found = next((i for i in self.issues.values() if effect.key in i["labels"]), None)
                if found is not None:
                    results.append(EffectResult(effect.key, True, found["id"], "issue", found_existing=True))
                    continue
                issue_id = str(100 + len(self.issues))
                self.issues[issue_id] = {"id": issue_id, "summary": effect.fields["summary"], "status": "Open",
                                         "labels": [effect.key], "comments": [], "updated": self._tick()}
                self.created += 1
                results.append(EffectResult(effect.key, True, issue_id, "issue"))
            elif effect.action == "comment":
                issue = self.issues[str(effect.target_id)]
                comment_id = f"{issue['id']}-{len(issue['comments']) + 1}"
                issue["comments"].append({"id": comment_id, "author": self.account, "text": effect.fields["body"],
                                          "public": True, "key": effect.key})
                issue["updated"] = self._tick()
                self.comments_added += 1
                results.append(EffectResult(effect.key, True, comment_id, "comment"))
        return results

    def escape_text(self, text: str) -> str:
        return text
