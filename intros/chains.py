"""Referral chains: an introduction whose outcome opened the next one (`parent`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .models import IntroRequest
from .states import Outcome

MAX_DEPTH = 25  # a chain longer than this is a data error, not a network


@dataclass
class Node:
    intro: IntroRequest
    children: list[Node] = field(default_factory=list)


def chain_root(intro: IntroRequest, viewer) -> IntroRequest:
    current = intro
    for _ in range(MAX_DEPTH):
        if current.parent_id is None:
            return current
        parent = IntroRequest.objects.shown_in_chain_to(viewer).with_people().filter(pk=current.parent_id).first()
        if parent is None:
            return current
        current = parent
    return current


def chain_tree(intro: IntroRequest, viewer) -> tuple[Node, list[IntroRequest]]:
    """The whole chain `intro` belongs to, as `viewer` may see it (no one else's draft), as a
    tree from its root, one query per generation."""
    shown = IntroRequest.objects.shown_in_chain_to(viewer).with_people()
    root = Node(chain_root(intro, viewer))
    level = [root]
    everyone = [root.intro]
    for _ in range(MAX_DEPTH):
        by_parent: dict[int, Node] = {node.intro.pk: node for node in level}
        children = list(shown.filter(parent_id__in=by_parent).order_by("created_at"))
        if not children:
            break
        level = []
        for child in children:
            node = Node(child)
            by_parent[child.parent_id].children.append(node)
            level.append(node)
            everyone.append(child)
    return root, everyone


def credits(intros: list[IntroRequest]) -> list[tuple[object, int, int]]:
    """Each connector on the chain with the introductions they made and the hires/offers those led to."""
    table: dict[int, list] = {}
    for intro in intros:
        row = table.setdefault(intro.connector_id, [intro.connector, 0, 0])
        row[1] += 1
        row[2] += intro.outcome in {Outcome.HIRED, Outcome.OFFER}
    return [tuple(row) for row in table.values()]
