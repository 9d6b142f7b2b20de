"""Stateful goals on BFCL's messaging API (``message_api``): a workspace of a few people and an inbox, and chains
that look a user id up before logging in or messaging someone, search messages before deleting one, and add a
contact before writing to them. User ids always come from ``get_user_id`` or ``add_contact`` results."""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, Infeasible, chain, quoted
from .pools import FIRST_NAMES, MESSAGES, pick

ENV = "message_api"


def initial_state(rng: random.Random) -> dict[str, Any]:
    """Four to seven people (``USR001``...), one to five messages in the inbox, nobody logged in."""
    people = pick(rng, FIRST_NAMES, rng.randint(4, 7))
    user_map = {name: f"USR{i:03d}" for i, name in enumerate(people, 1)}
    inbox = [{rng.choice(list(user_map.values())): rng.choice(MESSAGES)} for _ in range(rng.randint(1, 5))]
    return {"user_count": len(people), "user_map": user_map, "inbox": inbox, "message_count": len(inbox),
            "current_user": None, "random_seed": rng.randint(1, 999_999)}


def _people(d: Draft) -> list[str]:
    return list(d.state()["user_map"])


def _log_in(d: Draft, me: str, *, ask: bool = True) -> None:
    """Turn (when ``ask``): the user asks to be logged in under their name; get_user_id, then message_login."""
    if ask:
        d.turn("log me into the messaging app, I'm {me}", "sign me in to messaging as {me}",
               "I'm {me}; please log me in to the message system", me=me)
    found = d.call("get_user_id", user=me)
    d.call("message_login", uses=("user_id",), user_id=found["user_id"])


@chain("get_user_id", "message_login", "send_message")
def log_in_and_send(d: Draft) -> None:
    """log in (looking my id up), then look a colleague's id up and send them a message."""
    me, friend = d.rng.sample(_people(d), 2)
    _log_in(d, me)
    text = d.rng.choice(MESSAGES)
    d.turn("send {f} a message saying '{t}'", "message {f}: \"{t}\"", "tell {f} \"{t}\" via message",
           f=friend, t=text)
    found = d.call("get_user_id", user=friend)
    d.call("send_message", uses=("receiver_id",), receiver_id=found["user_id"], message=text)


@chain("get_user_id", "message_login", "search_messages", "delete_message")
def search_and_delete(d: Draft) -> None:
    """log in, search the messages for a word, then delete the latest message to whoever the match went to."""
    inbox = d.state()["inbox"]
    texts = [next(iter(m.values())) for m in inbox]
    words = sorted({w.strip(".,:;!?'\"").lower() for t in texts for w in t.split()})
    unique = [w for w in words if len(w) >= 5 and w.isalpha() and sum(w in t.lower() for t in texts) == 1]
    if not unique:
        raise Infeasible("no word only one message has")
    keyword = d.rng.choice(unique)
    _log_in(d, d.rng.choice(_people(d)))
    d.turn("find the messages that mention '{k}'", "search my messages for \"{k}\"", "which messages talk about {k}?",
           k=keyword)
    found = d.call("search_messages", keyword=keyword)
    d.turn("delete the latest message sent to that person", "remove the most recent message to that receiver",
           "please delete the last message that went to them")
    d.call("delete_message", uses=("receiver_id",), receiver_id=found["results"][0]["receiver_id"])


@chain("get_user_id", "message_login", options=("view_messages_sent", "get_message_stats"))
def review_messages(d: Draft) -> None:
    """log in, then list every message sent or get the messaging statistics."""
    _log_in(d, d.rng.choice(_people(d)))
    if d.choose(("view_messages_sent", "get_message_stats")) == "view_messages_sent":
        d.turn("show me all the messages I've sent", "list every message I sent, grouped by person",
               "what messages have I sent so far?")
        d.call("view_messages_sent")
    else:
        d.turn("give me my messaging stats", "how many messages have been received, and by how many contacts?",
               "show me the message statistics")
        d.call("get_message_stats")


@chain("add_contact", "get_user_id", "message_login", "send_message")
def add_and_message(d: Draft) -> None:
    """add a new contact, then log in and send them a message (their id comes from add_contact)."""
    names = _people(d)
    newcomer = d.rng.choice([n for n in FIRST_NAMES if n not in names])
    d.turn("add {n} to my contacts", "add a new contact named {n}", "please create a contact for {n}", n=newcomer)
    added = d.call("add_contact", user_name=newcomer)
    me = d.rng.choice(names)
    text = d.rng.choice(MESSAGES)
    d.turn("log me in as {me} and send them '{t}'", "I'm {me}: sign me in and message them \"{t}\"",
           me=me, t=text)
    _log_in(d, me, ask=False)
    d.call("send_message", uses=("receiver_id",), receiver_id=added["user_id"], message=text)


@chain("list_users", "get_user_id")
def who_is_here(d: Draft) -> None:
    """list the workspace's users, then look up the id of one of them."""
    d.turn("who is in the workspace?", "list all the users in the messaging workspace",
           "show me everyone I can message")
    users = d.call("list_users")
    name = d.rng.choice(users["user_list"])
    d.turn("what's {n}'s user ID?", "get me the user ID of {q}", "look up {n}'s ID", n=name, q=quoted(d.rng, name))
    d.call("get_user_id", uses=("user",), user=name)


@chain("message_get_login_status", "get_user_id", "message_login")
def check_and_log_in(d: Draft) -> None:
    """ask whether I am logged in; I am not, so log in."""
    d.turn("am I logged into the messaging app?", "check whether I'm signed in to messaging",
           "is anyone logged in to the message system right now?")
    status = d.call("message_get_login_status")
    if status.get("login_status"):
        raise Infeasible("already logged in")
    me = d.rng.choice(_people(d))
    d.turn("then log me in, I'm {me}", "okay, sign me in as {me}", "please log in for me, my name is {me}", me=me)
    _log_in(d, me, ask=False)


CHAINS = (log_in_and_send, search_and_delete, review_messages, add_and_message, who_is_here, check_and_log_in)
