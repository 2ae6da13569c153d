"""State and JSON shapes of the Discourse simulator, kept apart from its HTTP side.

The shapes follow the official description field by field: most of its
response schemas forbid extra properties, and each endpoint serialises a post
a little differently, hence one field set per endpoint.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.discourse.markup import HTML_COMMENT
from continuum.simkit.state import Table

JSON = dict[str, Any]

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CHUNK_SIZE = 20  # posts in one topic-view chunk

_COMMON = (
    "id", "name", "username", "avatar_template", "created_at", "cooked", "post_number", "post_type",
    "updated_at", "reply_count", "reply_to_post_number", "quote_count", "incoming_link_count", "reads",
    "readers_count", "score", "yours", "topic_id", "topic_slug", "display_username", "primary_group_name",
    "flair_name", "flair_url", "flair_bg_color", "flair_color", "version", "can_edit", "can_delete",
    "can_recover", "can_see_hidden_post", "can_wiki", "user_title", "bookmarked", "actions_summary",
    "moderator", "admin", "staff", "user_id", "hidden", "trust_level", "deleted_at", "user_deleted",
    "edit_reason", "can_view_edit_history", "wiki", "reviewable_id", "reviewable_score_count",
    "reviewable_score_pending_count",
)
LIST_FIELDS = (*_COMMON, "posts_count", "topic_title", "topic_html_title", "category_id", "flair_group_id",
               "badges_granted", "raw", "excerpt", "truncated", "post_url")
CREATE_FIELDS = (*_COMMON, "posts_count", "raw", "flair_group_id", "badges_granted", "draft_sequence",
                 "post_url", "mentioned_users")
GET_FIELDS = (*_COMMON, "posts_count", "raw", "flair_group_id", "post_url", "mentioned_users")
TOPIC_FIELDS = (*_COMMON, "link_counts", "read")


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return slug or "topic"


def cook(raw: str) -> str:
    """A stand-in for Discourse's cooking: comments dropped, text escaped, paragraphs."""
    text = HTML_COMMENT.sub("", raw).strip()
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join(f"<p>{html.escape(p.strip(), quote=False).replace(chr(10), '<br>')}</p>" for p in paragraphs)


@dataclass
class SimUser:
    id: int
    username: str
    name: str
    email: str | None = None
    admin: bool = False
    trust_level: int = 1


@dataclass
class SimCategory:
    id: int
    name: str
    slug: str
    color: str
    description: str
    parent_id: int | None = None


@dataclass
class SimTopic:
    id: int
    title: str
    slug: str
    category_id: int
    user_id: int
    created_at: str
    post_ids: list[int] = field(default_factory=list)


@dataclass
class SimPost:
    id: int
    topic_id: int
    post_number: int
    user_id: int
    raw: str
    created_at: str
    updated_at: str
    reply_to_post_number: int | None = None
    version: int = 1
    post_type: int = 1  # 1 regular, 4 whisper: the latest feed lists only regular posts
    hidden: bool = False
    user_deleted: bool = False  # its author deleted it: the text is replaced, the post stays until purged
    deleted_at: str | None = None  # destroyed (by staff, or the author's deletion after its grace period)
    overrides: JSON = field(default_factory=dict)  # planted odd values, served verbatim


@dataclass
class SimState:
    """Everything the forum holds, keyed by id; the first ids are those of a site already in use."""

    users: Table[int, SimUser] = field(default_factory=lambda: Table("user"))
    categories: Table[int, SimCategory] = field(default_factory=lambda: Table("category"))
    topics: Table[int, SimTopic] = field(default_factory=lambda: Table("topic", first_id=8))
    posts: Table[int, SimPost] = field(default_factory=lambda: Table("post", first_id=11))


def avatar(user: SimUser) -> str:
    shade = user.id * 2654435 % 0xFFFFFF
    return f"/letter_avatar_proxy/v4/letter/{user.username[:1].lower()}/{shade:06x}/{{size}}.png"


def serialize_post(state: SimState, post: SimPost, fields: tuple[str, ...], viewer: SimUser | None = None) -> JSON:
    """One post as an endpoint serialises it: ``fields`` picks that endpoint's keys."""
    user, topic = state.users[post.user_id], state.topics[post.topic_id]
    cooked = cook(post.raw)
    text = re.sub(r"<[^>]+>", "", cooked)
    staff = user.admin
    full: JSON = {
        "id": post.id, "name": user.name, "username": user.username, "avatar_template": avatar(user),
        "created_at": post.created_at, "cooked": cooked, "post_number": post.post_number,
        "post_type": post.post_type, "posts_count": len(topic.post_ids), "updated_at": post.updated_at,
        "reply_count": sum(1 for pid in topic.post_ids
                           if state.posts[pid].reply_to_post_number == post.post_number),
        # The description says string|null; live sites send an integer.
        "reply_to_post_number": None if post.reply_to_post_number is None else str(post.reply_to_post_number),
        "quote_count": 0, "incoming_link_count": 0, "reads": 1, "readers_count": 0, "score": 0.2,
        "yours": viewer is not None and viewer.id == user.id, "topic_id": topic.id, "topic_slug": topic.slug,
        "topic_title": topic.title, "topic_html_title": html.escape(topic.title, quote=False),
        "category_id": topic.category_id, "display_username": user.name, "primary_group_name": None,
        "flair_name": None, "flair_url": None, "flair_bg_color": None, "flair_color": None,
        "flair_group_id": None, "badges_granted": [], "version": post.version, "can_edit": staff,
        "can_delete": staff, "can_recover": staff, "can_see_hidden_post": True, "can_wiki": staff,
        "user_title": None, "bookmarked": False, "raw": post.raw,
        "actions_summary": [{"id": 2, "can_act": True}], "moderator": False, "admin": staff,
        "staff": staff, "user_id": user.id, "hidden": post.hidden, "trust_level": user.trust_level,
        "deleted_at": post.deleted_at, "user_deleted": post.user_deleted, "edit_reason": None,
        "can_view_edit_history": True,
        "wiki": False, "excerpt": text[:300], "truncated": len(text) > 300, "reviewable_id": None,
        "reviewable_score_count": 0, "reviewable_score_pending_count": 0,
        "post_url": f"/t/{topic.slug}/{topic.id}/{post.post_number}", "link_counts": [], "read": True,
        "draft_sequence": 0, "mentioned_users": [],
    }
    if fields is TOPIC_FIELDS:
        full["reviewable_id"] = 0  # an integer, never null, in the topic view's description
    full.update(post.overrides)
    return {key: full[key] for key in fields if key in full}


def topic_view(state: SimState, topic: SimTopic, viewer: SimUser) -> JSON:
    """``GET /t/{id}.json``: the first chunk of posts plus every post id in ``stream``."""
    visible = [state.posts[pid] for pid in topic.post_ids if not state.posts[pid].hidden]
    first_user, last_user = state.users[topic.user_id], state.users[visible[-1].user_id if visible else topic.user_id]
    brief = {u.id: {"id": u.id, "username": u.username, "name": u.name, "avatar_template": avatar(u)}
             for u in (first_user, last_user)}
    return {
        "post_stream": {"posts": [serialize_post(state, p, TOPIC_FIELDS, viewer) for p in visible[:CHUNK_SIZE]],
                        "stream": [p.id for p in visible]},
        "timeline_lookup": [[1, 0]], "suggested_topics": [], "tags": [], "tags_descriptions": {},
        "id": topic.id, "title": topic.title, "fancy_title": html.escape(topic.title, quote=False),
        "posts_count": len(visible), "created_at": topic.created_at, "views": 3 * len(visible),
        "reply_count": max(len(visible) - 1, 0), "like_count": 0,
        "last_posted_at": visible[-1].created_at if visible else None, "visible": True, "closed": False,
        "archived": False, "has_summary": False, "archetype": "regular", "slug": topic.slug,
        "category_id": topic.category_id, "word_count": sum(len(p.raw.split()) for p in visible),
        "deleted_at": None, "user_id": topic.user_id, "featured_link": None, "pinned_globally": False,
        "pinned_at": None, "pinned_until": None, "image_url": None, "slow_mode_seconds": 0, "draft": None,
        "draft_key": f"topic_{topic.id}", "draft_sequence": 0, "unpinned": None, "pinned": False,
        "highest_post_number": len(topic.post_ids), "deleted_by": None, "has_deleted": False,
        "actions_summary": [], "chunk_size": CHUNK_SIZE, "bookmarked": False, "bookmarks": [],
        "topic_timer": None, "message_bus_last_id": 0, "participant_count": len({p.user_id for p in visible}),
        "show_read_indicator": False, "thumbnails": None, "slow_mode_enabled_until": None,
        "details": {
            "can_edit": viewer.admin, "notification_level": 1, "can_move_posts": viewer.admin,
            "can_delete": viewer.admin, "can_remove_allowed_users": viewer.admin, "can_create_post": True,
            "can_reply_as_new_topic": True, "can_convert_topic": viewer.admin, "can_review_topic": viewer.admin,
            "can_close_topic": viewer.admin, "can_archive_topic": viewer.admin,
            "can_split_merge_topic": viewer.admin, "can_edit_staff_notes": viewer.admin,
            "can_toggle_topic_visibility": viewer.admin, "can_pin_unpin_topic": viewer.admin,
            "can_moderate_category": viewer.admin, "can_remove_self_id": viewer.id,
            "created_by": brief[first_user.id], "last_poster": brief[last_user.id],
        },
    }


def category_json(state: SimState, category: SimCategory) -> JSON:
    topics = [t for t in state.topics.values() if t.category_id == category.id]
    children = [c.id for c in state.categories.values() if c.parent_id == category.id]
    return {
        "id": category.id, "name": category.name, "color": category.color, "text_color": "FFFFFF",
        "style_type": "square", "emoji": None, "icon": None, "slug": category.slug, "topic_count": len(topics),
        "post_count": sum(len(t.post_ids) for t in topics), "position": category.id,
        "description": html.escape(category.description), "description_text": category.description,
        "description_excerpt": category.description, "topic_url": None, "read_restricted": False,
        "permission": 1, "notification_level": 1, "can_edit": True, "topic_template": None,
        "topic_title_placeholder": None, "has_children": bool(children), "subcategory_count": len(children),
        "sort_order": None, "sort_ascending": None, "show_subcategory_list": False, "num_featured_topics": 3,
        "default_view": None, "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all", "default_list_filter": "all", "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False, "topics_day": 0, "topics_week": 0, "topics_month": 0,
        "topics_year": len(topics), "topics_all_time": len(topics), "is_uncategorized": category.id == 1,
        "subcategory_ids": children, "uploaded_logo": None, "uploaded_logo_dark": None,
        "uploaded_background": None, "uploaded_background_dark": None,
    }
