"""Stateful goals on BFCL's ticket API (``ticket_api``): a support queue with tickets by the user and by others,
and chains that log in and list the user's tickets before resolving, closing or editing one, open a ticket and
then change it, or look a ticket up before closing it. Ticket ids come from the results that list them."""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, Infeasible, chain, quoted
from .pools import FIRST_NAMES, LAST_NAMES, RESOLUTIONS, TICKET_TOPICS, pick

ENV = "ticket_api"
STATUSES = ("Open", "Open", "In Progress", "Resolved", "Closed")
ACTIONS = ("resolve_ticket", "close_ticket", "edit_ticket", "get_ticket")


def initial_state(rng: random.Random) -> dict[str, Any]:
    """Two to six tickets (numbered from a random start), most by the user; nobody logged in."""
    people = [f"{f.lower()}.{l.lower()}" for f, l in zip(pick(rng, FIRST_NAMES, 3), pick(rng, LAST_NAMES, 3),
                                                          strict=True)]
    first = rng.randint(1, 400)
    queue = []
    for number, (title, description) in enumerate(pick(rng, TICKET_TOPICS, rng.randint(2, 6)), first):
        queue.append({"id": number, "title": title, "description": description, "status": rng.choice(STATUSES),
                      "priority": rng.randint(1, 5),
                      "created_by": people[0] if rng.random() < 0.7 else rng.choice(people[1:])})
    return {"ticket_queue": queue, "ticket_counter": first + len(queue), "current_user": None}


def _log_in(d: Draft, then: str = "") -> None:
    """Turn: log in as the user (who created most tickets), with a password they know (any is accepted)."""
    creators = [t["created_by"] for t in d.state()["ticket_queue"]]
    user = max(set(creators), key=lambda n: (creators.count(n), n))
    password = f"{d.rng.choice(('blue', 'tiger', 'cedar', 'harbor'))}-{d.rng.randint(100, 999)}"
    d.turn("log me in to the ticket system as {u} (password {p}){t}", "sign in to support tickets, user {u}, "
           "password {p}{t}", u=user, p=password, t=then)
    d.call("ticket_login", username=user, password=password)


def _act(d: Draft, ticket: dict[str, Any], op: str) -> None:
    """Turn: resolve, close, edit or show one ticket the user names by its title (its id from a result)."""
    title = quoted(d.rng, ticket["title"])
    if op == "resolve_ticket":
        note = d.rng.choice(RESOLUTIONS)
        d.turn("resolve the {t} ticket with the note '{n}'", "mark {t} as resolved: {n}", t=title, n=note)
        d.call(op, uses=("ticket_id",), ticket_id=ticket["id"], resolution=note)
    elif op == "close_ticket":
        d.turn("close the {t} ticket", "please close {t}", t=title)
        d.call(op, uses=("ticket_id",), ticket_id=ticket["id"])
    elif op == "edit_ticket":
        priority = d.rng.choice([p for p in range(1, 6) if p != ticket["priority"]])
        d.turn("change the priority of {t} to {p}", "set {t} to priority {p}", t=title, p=priority)
        d.call(op, uses=("ticket_id",), ticket_id=ticket["id"], updates={"priority": priority})
    else:
        d.turn("show me everything about the {t} ticket", "pull up the details of {t}", t=title)
        d.call(op, uses=("ticket_id",), ticket_id=ticket["id"])


@chain("ticket_login", "get_user_tickets", options=ACTIONS)
def triage(d: Draft) -> None:
    """log in and list my open tickets, then resolve, close, edit or show one of them."""
    status = d.rng.choice(("Open", None))
    _log_in(d, then=", and show me my open tickets" if status else ", and list all my tickets")
    tickets = d.call("get_user_tickets", **({"status": status} if status else {}))
    op = d.choose(ACTIONS)
    pool = [t for t in tickets if t["status"] != {"resolve_ticket": "Resolved", "close_ticket": "Closed"}.get(op)]
    if not pool:
        raise Infeasible("no ticket to act on")
    _act(d, d.rng.choice(pool), op)


@chain("ticket_login", "create_ticket", options=("edit_ticket", "get_ticket", "close_ticket"))
def open_ticket(d: Draft) -> None:
    """log in and open a ticket, then change its priority, look at it, or close it."""
    title, description = d.rng.choice(TICKET_TOPICS)
    priority = d.rng.randint(1, 5)
    _log_in(d)
    d.turn("open a ticket titled '{t}' saying \"{s}\" with priority {p}",
           "create a support ticket: {t}. Details: {s} Priority {p}.", t=title, s=description, p=priority)
    ticket = d.call("create_ticket", title=title, description=description, priority=priority)
    _act(d, ticket, d.choose(("edit_ticket", "get_ticket", "close_ticket")))


@chain("get_ticket", options=("close_ticket", "resolve_ticket"))
def look_up_and_close(d: Draft) -> None:
    """show a ticket by its number, then close or resolve it."""
    op = d.choose(("close_ticket", "resolve_ticket"))
    done = "Closed" if op == "close_ticket" else "Resolved"
    pool = [t for t in d.state()["ticket_queue"] if t["status"] != done]
    if not pool:
        raise Infeasible("every ticket is done")
    ticket = d.rng.choice(pool)
    d.turn("show me ticket {i}", "what does ticket number {i} say?", "pull up ticket #{i}", i=ticket["id"])
    found = d.call("get_ticket", ticket_id=ticket["id"])
    if op == "close_ticket":
        d.turn("close it", "that one can be closed now", "please close that ticket")
        d.call(op, uses=("ticket_id",), ticket_id=found["id"])
    else:
        note = d.rng.choice(RESOLUTIONS)
        d.turn("resolve it with the note '{n}'", "mark it resolved: {n}", n=note)
        d.call(op, uses=("ticket_id",), ticket_id=found["id"], resolution=note)


@chain("ticket_get_login_status", "ticket_login", extras=("logout", "get_user_tickets"))
def session(d: Draft) -> None:
    """ask whether I am logged in; I am not, so log in (and list my tickets, or log out again)."""
    d.turn("am I logged in to the ticket system?", "check my login status for support tickets")
    if d.call("ticket_get_login_status").get("login_status"):
        raise Infeasible("already logged in")
    _log_in(d)
    if d.has("get_user_tickets") and d.target != "logout" and d.rng.random() < 0.5:
        d.turn("how many tickets do I have?", "list my tickets")
        d.call("get_user_tickets")
    if d.has("logout") and (d.target == "logout" or d.rng.random() < 0.5):
        d.turn("now log me out", "sign me out again, thanks")
        d.call("logout")


CHAINS = (triage, open_ticket, look_up_and_close, session)
