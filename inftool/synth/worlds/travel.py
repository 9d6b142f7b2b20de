"""Stateful goals on BFCL's travel booking API (``travel_booking``): a traveller with one to three credit cards and
maybe a booking, and chains that authenticate first (every later call takes the access token the authentication
returned), then price a flight between two cities' airports before booking it with a card found by its last
digits, register a card before checking its balance, list bookings before cancelling one, or convert a budget
to dollars before setting it. Routes are only those the API prices (tried on the planning world).
"""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, Infeasible, chain
from .pools import full_name

ENV = "travel_booking"
CITIES = ("Rivermist", "Stonebrook", "Maplecrest", "Silverpine", "Shadowridge", "London", "Paris", "Sunset Valley",
          "Oakendale", "Willowbend", "Crescent Hollow", "Autumnville", "Pinehaven", "Greenfield", "San Francisco",
          "Los Angeles", "New York", "Chicago", "Boston", "Beijing", "Hong Kong", "Rome", "Tokyo")
"""The cities ``get_nearest_airport_by_city`` knows (its documented enum)."""
CURRENCIES = ("EUR", "GBP", "JPY", "CAD", "AUD", "INR", "RMB", "MXN")
CLASSES = ("economy", "economy", "business", "first")


def initial_state(rng: random.Random) -> dict[str, Any]:
    """One to three cards of the traveller, maybe an earlier booking on one of them, not authenticated."""
    first, last = full_name(rng)
    cards = {}
    for _ in range(rng.randint(1, 3)):
        cards[str(rng.randint(10**11, 10**12 - 1))] = {
            "card_number": str(rng.randint(10**15, 10**16 - 1)),
            "expiration_date": f"{rng.randint(1, 12):02d}/{rng.randint(2026, 2031)}",
            "cardholder_name": f"{first} {last}", "card_verification_number": rng.randint(100, 999),
            "balance": float(rng.randint(3_000, 40_000))}
    bookings = {}
    if rng.random() < 0.6:
        card = rng.choice(list(cards))
        bookings[str(rng.randint(10**6, 10**7 - 1))] = {
            "card_id": card, "travel_date": _date(rng), "travel_from": "SFO",
            "travel_to": rng.choice(("LAX", "JFK", "BOS")),
            "travel_class": "economy", "travel_cost": float(rng.choice((200, 400, 500, 900))),
            "transaction_id": str(rng.randint(10**7, 10**8 - 1))}
        cards[card]["balance"] -= bookings[next(iter(bookings))]["travel_cost"]
    return {"random_seed": rng.randint(1, 999_999), "credit_card_list": cards, "booking_record": bookings,
            "user_first_name": first, "user_last_name": last}


def _date(rng: random.Random) -> str:
    return f"{rng.choice((2024, 2025))}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _authenticate(d: Draft, then: str = "") -> str:
    """Turn: log in with the app's credentials (the user knows them); returns the access token it gave."""
    state = d.state()
    first, last = state["user_first_name"], state["user_last_name"]
    client = f"client_{d.rng.randint(1000, 9999)}"
    secret = "".join(d.rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))
    refresh = f"rt-{d.rng.randint(10**5, 10**6 - 1)}"
    grant = d.rng.choice(("read_write", "read_write", "read", "write"))
    d.turn("log me in to the travel system: client id {c}, secret {s}, refresh token {r}, {g} access, name {f} {l}{t}",
           "authenticate my travel account ({f} {l}) with client ID {c}, client secret {s}, refresh token {r} and "
           "grant type {g}{t}", c=client, s=secret, r=refresh, g=grant, f=first, l=last, t=then)
    answer = d.call("authenticate_travel", client_id=client, client_secret=secret, refresh_token=refresh,
                    grant_type=grant, user_first_name=first, user_last_name=last)
    return answer["access_token"]


def _card(d: Draft) -> tuple[str, dict[str, Any]]:
    return d.rng.choice(sorted(d.state()["credit_card_list"].items()))


@chain("authenticate_travel", "get_nearest_airport_by_city", "get_flight_cost", "get_all_credit_cards", "book_flight",
       extras=("retrieve_invoice", "purchase_insurance"))
def book_a_trip(d: Draft) -> None:
    """authenticate; price a flight between two cities' airports; book it with a card found by its last digits;
    then get the invoice or buy insurance on the booking."""
    token = _authenticate(d)
    route = _route(d)
    if route is None:
        raise Infeasible("no priced route found")
    (origin, source), (destination, target), date, kind = route
    d.turn("how much is a {k} flight from {a} to {b} on {t}?", "check the {k} fare from {a} to {b} for {t}",
           k=kind, a=origin, b=destination, t=date)
    d.call("get_nearest_airport_by_city", location=origin)
    d.call("get_nearest_airport_by_city", location=destination)
    cost = d.call("get_flight_cost", uses=("travel_from", "travel_to"), travel_from=source, travel_to=target,
                  travel_date=date, travel_class=kind)["travel_cost_list"][0]
    card_id, card = _card(d)
    if card["balance"] < cost:
        raise Infeasible("the card cannot pay")
    d.turn("book it with my card ending in {n}", "go ahead and book that, pay with the card that ends in {n}",
           n=card["card_number"][-4:])
    cards = d.call("get_all_credit_cards")
    if card_id not in cards["credit_card_list"]:
        raise Infeasible("card missing")
    booking = d.call("book_flight", uses=("access_token", "card_id", "travel_from", "travel_to"), access_token=token,
                     card_id=card_id, travel_date=date, travel_from=source, travel_to=target, travel_class=kind)
    _after_booking(d, token, booking["booking_id"], card_id)


def _route(d: Draft) -> tuple[tuple[str, str], tuple[str, str], str, str] | None:
    """Two cities whose airports the API prices a flight between, a date and a class (tried, never guessed)."""
    for _ in range(12):
        origin, destination = d.rng.sample(CITIES, 2)
        source = (d.peek("get_nearest_airport_by_city", location=origin) or {}).get("nearest_airport")
        target = (d.peek("get_nearest_airport_by_city", location=destination) or {}).get("nearest_airport")
        date, kind = _date(d.rng), d.rng.choice(CLASSES)
        if source and target and d.peek("get_flight_cost", travel_from=source, travel_to=target, travel_date=date,
                                        travel_class=kind):
            return (origin, source), (destination, target), date, kind
    return None


def _after_booking(d: Draft, token: str, booking: str, card_id: str) -> None:
    wants = [m for m in ("retrieve_invoice", "purchase_insurance") if d.has(m)]
    if not wants or (d.target not in wants and d.rng.random() < 0.4):
        return
    op = d.target if d.target in wants else d.rng.choice(wants)
    if op == "retrieve_invoice":
        d.turn("send me the invoice for that booking", "can I see the invoice?")
        d.call(op, uses=("access_token", "booking_id"), access_token=token, booking_id=booking)
    else:
        cost = float(d.rng.choice((30, 45, 60, 80)))
        kind = d.rng.choice(("comprehensive", "cancellation", "baggage"))
        d.turn("add {k} insurance for ${c:.0f} on the same card", "buy {k} travel insurance for that trip, ${c:.0f}, "
               "same card", k=kind, c=cost)
        d.call(op, uses=("access_token", "booking_id", "card_id"), access_token=token, insurance_type=kind,
               booking_id=booking, insurance_cost=cost, card_id=card_id)


@chain("authenticate_travel", "get_all_credit_cards", "get_credit_card_balance")
def card_balance(d: Draft) -> None:
    """authenticate; find a card by its last digits and check its balance."""
    token = _authenticate(d)
    card_id, card = _card(d)
    d.turn("what's the balance on my card ending in {n}?", "how much is left on the card that ends with {n}?",
           n=card["card_number"][-4:])
    d.call("get_all_credit_cards")
    d.call("get_credit_card_balance", uses=("access_token", "card_id"), access_token=token, card_id=card_id)


@chain("authenticate_travel", "register_credit_card", extras=("get_credit_card_balance",))
def register_card(d: Draft) -> None:
    """authenticate; register a new card; then check the new card's balance."""
    token = _authenticate(d)
    state = d.state()
    number = str(d.rng.randint(10**15, 10**16 - 1))
    expiry = f"{d.rng.randint(1, 12):02d}/{d.rng.randint(2027, 2032)}"
    cvv = d.rng.randint(100, 999)
    holder = f"{state['user_first_name']} {state['user_last_name']}"
    d.turn("register my new card {n}, expiring {e}, CVV {v}, name on card {h}",
           "add a credit card: number {n}, expiry {e}, security code {v}, cardholder {h}", n=number, e=expiry, v=cvv,
           h=holder)
    card = d.call("register_credit_card", uses=("access_token",), access_token=token, card_number=number,
                  expiration_date=expiry, cardholder_name=holder, card_verification_number=cvv)
    if d.has("get_credit_card_balance") and (d.target == "get_credit_card_balance" or d.rng.random() < 0.6):
        d.turn("what's the balance on it?", "how much credit does that new card have?")
        d.call("get_credit_card_balance", uses=("access_token", "card_id"), access_token=token, card_id=card["card_id"])


@chain("authenticate_travel", "get_booking_history", options=("cancel_booking", "retrieve_invoice",
                                                              "contact_customer_support"))
def manage_booking(d: Draft) -> None:
    """authenticate; list my bookings; then cancel one, get its invoice, or write to support about it."""
    if not d.state()["booking_record"]:
        raise Infeasible("no booking yet")
    token = _authenticate(d, then=d.rng.choice((", and show me my bookings", " and list my booking history")))
    history = d.call("get_booking_history", uses=("access_token",), access_token=token)["booking_history"]
    booking, details = next(iter(history.items()))
    where = details["travel_to"]
    op = d.choose(("cancel_booking", "retrieve_invoice", "contact_customer_support"))
    if op == "cancel_booking":
        d.turn("cancel the booking to {w}", "I can't make the {w} trip, cancel it", w=where)
        d.call(op, uses=("access_token", "booking_id"), access_token=token, booking_id=booking)
    elif op == "retrieve_invoice":
        d.turn("get me the invoice for the {w} booking", "show the invoice of my trip to {w}", w=where)
        d.call(op, uses=("access_token", "booking_id"), access_token=token, booking_id=booking)
    else:
        note = d.rng.choice(("I need to change my seat.", "Can I add a checked bag?", "My name is misspelled."))
        d.turn("tell customer support about the {w} booking: \"{n}\"", "contact support for my {w} trip and say {n}",
               w=where, n=note)
        d.call(op, uses=("booking_id",), booking_id=booking, message=note)


@chain("authenticate_travel", "compute_exchange_rate", "set_budget_limit", extras=("get_budget_fiscal_year",))
def set_budget(d: Draft) -> None:
    """authenticate; convert a budget in another currency to dollars; set it as the budget limit."""
    token = _authenticate(d)
    currency, amount = d.rng.choice(CURRENCIES), float(d.rng.choice((500, 800, 1000, 1500, 2000, 5000)))
    d.turn("my travel budget is {a:.0f} {c}; how much is that in US dollars?", "convert {a:.0f} {c} to USD for my "
           "budget", a=amount, c=currency)
    value = d.call("compute_exchange_rate", base_currency=currency, target_currency="USD", value=amount)
    d.turn("set that as my budget limit", "use that dollar amount as my travel budget limit")
    d.call("set_budget_limit", uses=("access_token", "budget_limit"), access_token=token,
           budget_limit=value["exchanged_value"])
    if d.has("get_budget_fiscal_year") and (d.target == "get_budget_fiscal_year" or d.rng.random() < 0.3):
        d.turn("which fiscal year does the budget belong to?", "what's the budget fiscal year?")
        d.call("get_budget_fiscal_year")


@chain("travel_get_login_status", "authenticate_travel",
       options=("verify_traveler_information", "list_all_airports", "get_budget_fiscal_year"))
def check_in_first(d: Draft) -> None:
    """ask whether I am logged in; I am not, so authenticate; then verify my details or list the airports."""
    d.turn("am I logged in to the travel system?", "check my travel login status")
    if d.call("travel_get_login_status").get("status"):
        raise Infeasible("already logged in")
    _authenticate(d)
    op = d.choose(("verify_traveler_information", "list_all_airports", "get_budget_fiscal_year"))
    if op == "verify_traveler_information":
        state = d.state()
        born = f"{d.rng.randint(1950, 1995)}-{d.rng.randint(1, 12):02d}-{d.rng.randint(1, 28):02d}"
        passport = f"US{d.rng.randint(10**6, 10**7 - 1)}"
        d.turn("verify my traveler details: born {b}, passport {p}", "check that I can travel: date of birth {b}, "
               "passport number {p}", b=born, p=passport)
        d.call(op, first_name=state["user_first_name"], last_name=state["user_last_name"], date_of_birth=born,
               passport_number=passport)
    elif op == "list_all_airports":
        d.turn("which airports can I fly from?", "list every airport you support")
        d.call(op)
    else:
        d.turn("what's the budget fiscal year?", "which fiscal year is my budget for?")
        d.call(op)


CHAINS = (book_a_trip, card_balance, register_card, manage_booking, set_budget, check_in_first)
