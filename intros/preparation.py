"""What makes a request's preparation real enough to submit."""

from __future__ import annotations

import re

# (field, fewest words, what to say when it is missing or thin)
RULES: dict[str, tuple[int, str]] = {
    "goal": (8, "Say what you hope to get from the conversation — a specific outcome, not “to connect”."),
    "research_company": (
        12,
        "Show what you learned about their organisation: what it does, recent news, the team.",
    ),
    "research_person": (
        8,
        "Show what you know about them: their role, their path, something they wrote or said.",
    ),
    "questions": (8, "List at least two questions you will ask them."),
    "followup_plan": (6, "Say how and when you will follow up, and how you will thank them."),
    "fit": (8, "Say why you fit: the experience or skills that make this worth their time."),
    "blurb": (20, "Write a short paragraph about yourself the connector can forward as it stands."),
}
PLACEHOLDERS = {"tbd", "todo", "n/a", "na", "none", "nothing", "-", "...", "?", "x", "asdf", "test"}


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]{2,}", text or "")


def check_preparation(values: dict[str, str]) -> dict[str, str]:
    problems: dict[str, str] = {}
    for field, (fewest, message) in RULES.items():
        text = (values.get(field) or "").strip()
        if text.lower() in PLACEHOLDERS or not text:
            problems[field] = f"Missing. {message}"
            continue
        words = _words(text)
        if len(words) < fewest:
            problems[field] = f"Too thin ({len(words)} words; at least {fewest}). {message}"
            continue
        if len({w.lower() for w in words}) < max(3, fewest // 2):
            problems[field] = f"This repeats itself. {message}"
            continue
        if field == "questions" and text.count("?") < 2 and len([ln for ln in text.splitlines() if ln.strip()]) < 2:
            problems[field] = f"Only one question found. {message}"
    return problems
