"""Stateful goals on BFCL's trading bot (``trading_bot``): an account with a balance, a few orders and a watchlist,
and chains that log in and look a company's symbol and price up before placing an order, list order ids before
opening and cancelling one, check the balance before funding or withdrawing, and filter a sector's stocks by price
before watching one. Symbols, prices and order ids come from earlier results.

The companies, symbols and sectors are the ones the API's own lookups know (``get_symbol_by_name``,
``get_available_stocks``); prices, balances, orders and watchlists are drawn per world.
"""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, Infeasible, chain, quoted
from .pools import FIRST_NAMES

ENV = "trading_bot"
COMPANIES = (("Apple", "AAPL", 227.0), ("Google", "GOOG", 2840.0), ("Tesla", "TSLA", 668.0),
             ("Microsoft", "MSFT", 310.0), ("Nvidia", "NVDA", 220.0), ("Zeta Corp", "ZETA", 22.0),
             ("Alpha Tech", "ALPH", 1320.0), ("Omega Industries", "OMEG", 457.0), ("Quasar Ltd.", "QUAS", 726.0),
             ("Neptune Systems", "NEPT", 88.0), ("Synex Solutions", "SYNX", 346.0))
SECTORS = ("Technology", "Automobile")
ORDER_STATUSES = ("Open", "Pending", "Completed", "Completed", "Cancelled")


def initial_state(rng: random.Random) -> dict[str, Any]:
    """Every company's stock at a drawn price, two to four orders, a balance, a watchlist, a market open or closed."""
    stocks = {}
    for _, symbol, base in COMPANIES:
        price = round(base * rng.uniform(0.9, 1.1), 2)
        stocks[symbol] = {"price": price, "percent_change": round(rng.uniform(-3, 3), 2),
                          "volume": round(rng.uniform(0.5, 4), 3), "MA(5)": round(price * rng.uniform(0.98, 1.02), 2),
                          "MA(20)": round(price * rng.uniform(0.95, 1.05), 2)}
    first = rng.randint(10_000, 90_000)
    orders = {}
    last = first + rng.randint(1, 3)
    for number in range(first, last + 1):
        symbol = rng.choice(list(stocks))
        newest = number == last and rng.random() < 0.6  # the newest order is often still open
        orders[str(number)] = {"id": number, "order_type": rng.choice(("Buy", "Sell")), "symbol": symbol,
                               "price": stocks[symbol]["price"], "amount": rng.randint(1, 50),
                               "status": rng.choice(("Open", "Pending") if newest else ORDER_STATUSES)}
    return {"orders": orders, "account_info": {"account_id": rng.randint(10_000, 99_999),
                                               "balance": round(rng.uniform(5_000, 60_000), 2),
                                               "binding_card": rng.randint(10**15, 10**16 - 1)},
            "authenticated": False, "market_status": "Open" if rng.random() < 0.8 else "Closed",
            "order_counter": first + len(orders), "stocks": stocks, "watch_list": rng.sample(list(stocks), 2),
            "transaction_history": [], "random_seed": rng.randint(1, 999_999)}


def _log_in(d: Draft, then: str = "") -> None:
    user = f"{d.rng.choice(FIRST_NAMES).lower()}{d.rng.randint(1, 99)}"
    password = f"{d.rng.choice(('stock', 'bull', 'ledger', 'alpha'))}{d.rng.randint(1000, 9999)}"
    d.turn("log me in to my trading account (username {u}, password {p}){t}",
           "sign in to trading as {u}, password {p}{t}", u=user, p=password, t=then)
    d.call("trading_login", username=user, password=password)


@chain("trading_login", "get_symbol_by_name", "get_stock_info", "place_order")
def buy_by_name(d: Draft) -> None:
    """log in and look up a company's symbol, then its price, then buy shares at that price."""
    company = d.rng.choice(COMPANIES)[0]
    _log_in(d, then=f", and find the stock symbol of {company}")
    symbol = d.call("get_symbol_by_name", name=company)["symbol"]
    d.turn("what's its current price?", "get me the latest stock details for it", "how is that stock doing today?")
    price = d.call("get_stock_info", uses=("symbol",), symbol=symbol)["price"]
    balance = d.state()["account_info"]["balance"]
    most = int(balance // price)
    if most < 1:
        raise Infeasible("cannot afford one share")
    amount = d.rng.randint(1, min(most, 50))
    d.turn("buy {n} shares of it at that price", "place a buy order for {n} shares at the current price",
           "put in an order for {n} shares at that price", n=amount)
    d.call("place_order", uses=("symbol", "price"), order_type="Buy", symbol=symbol, price=price, amount=amount)


@chain("trading_login", "get_order_history", "get_order_details", extras=("cancel_order",))
def review_latest_order(d: Draft) -> None:
    """log in and list my order ids, then open the latest order, then cancel it if it is still open."""
    _log_in(d, then=d.rng.choice((", and list my order IDs", " and show me my order history")))
    history = d.call("get_order_history")["history"]
    d.turn("show me the details of the most recent one", "what's in my latest order?",
           "open the last order on that list")
    order = d.call("get_order_details", uses=("order_id",), order_id=history[-1])
    if order["status"] in ("Open", "Pending") and d.has("cancel_order") \
            and (d.target == "cancel_order" or d.rng.random() < 0.6):
        d.turn("cancel it", "please cancel that order", "I changed my mind, cancel that one")
        d.call("cancel_order", uses=("order_id",), order_id=order["id"])
    elif d.target == "cancel_order":
        raise Infeasible("the latest order cannot be cancelled")


@chain("trading_login", "get_account_info", options=("fund_account", "withdraw_funds"),
       extras=("get_transaction_history",))
def move_money(d: Draft) -> None:
    """log in and check the balance, then fund the account or withdraw from it (and see the transactions)."""
    _log_in(d, then=d.rng.choice((", and tell me my balance", " and show me my account info")))
    balance = d.call("get_account_info")["balance"]
    op = d.choose(("fund_account", "withdraw_funds"))
    if op == "withdraw_funds" and d.state()["market_status"] != "Open":
        raise Infeasible("withdrawals need an open market")
    amount = float(d.rng.choice((100, 250, 500, 1000, 1500, 2000)))
    if amount > balance:
        raise Infeasible("not enough money")
    if op == "fund_account":
        d.turn("add ${a:.0f} to it", "deposit ${a:.0f} into the account", "top the account up by {a:.0f} dollars",
               a=amount)
    else:
        d.turn("withdraw ${a:.0f}", "take ${a:.0f} out of the account", a=amount)
    d.call(op, amount=amount)
    if d.has("get_transaction_history") and (d.target == "get_transaction_history" or d.rng.random() < 0.4):
        d.turn("now show me my transaction history", "list my transactions")
        d.call("get_transaction_history")


@chain("get_available_stocks", "filter_stocks_by_price", options=("add_to_watchlist", "notify_price_change"))
def screen_a_sector(d: Draft) -> None:
    """list a sector's stocks, keep those in a price range, then watch one or check them for big moves."""
    sector = d.rng.choice(SECTORS)
    d.turn("which {s} stocks are available?", "list the stocks in the {s} sector", s=sector)
    symbols = d.call("get_available_stocks", sector=sector)["stock_list"]
    prices = sorted(d.state()["stocks"][s]["price"] for s in symbols if s in d.state()["stocks"])
    if not prices:
        raise Infeasible("no known prices in the sector")
    low = float(int(d.rng.choice(prices) * 0.8 // 10 * 10))
    high = float(int(max(prices) * 1.1 // 10 * 10 + 10))
    d.turn("which of those trade between ${lo:.0f} and ${hi:.0f}?", "keep the ones priced from {lo:.0f} to {hi:.0f} "
           "dollars", lo=low, hi=high)
    kept = d.call("filter_stocks_by_price", uses=("stocks",), stocks=symbols, min_price=low, max_price=high)
    kept = kept["filtered_stocks"]
    if not kept:
        raise Infeasible("nothing in the range")
    if d.choose(("add_to_watchlist", "notify_price_change")) == "add_to_watchlist":
        d.turn("add the first of them to my watchlist", "put the first one on my watchlist")
        d.call("add_to_watchlist", uses=("stock",), stock=kept[0])
    else:
        threshold = float(d.rng.choice((0.5, 1, 1.5, 2)))
        d.turn("tell me if any of them moved more than {t}%", "check those for price changes above {t} percent",
               t=threshold)
        d.call("notify_price_change", uses=("stocks",), stocks=kept, threshold=threshold)


@chain("trading_login", "get_watchlist", options=("remove_stock_from_watchlist", "notify_price_change",
                                                  "get_stock_info"))
def tend_watchlist(d: Draft) -> None:
    """log in and show the watchlist, then drop a stock from it, check it for moves, or look one up."""
    _log_in(d, then=d.rng.choice((", and show me my watchlist", " and list the stocks I'm watching")))
    watched = d.call("get_watchlist")["watchlist"]
    op = d.choose(("remove_stock_from_watchlist", "notify_price_change", "get_stock_info"))
    symbol = d.rng.choice(watched)
    if op == "remove_stock_from_watchlist":
        d.turn("remove {s} from it", "take {s} off my watchlist", s=quoted(d.rng, symbol))
        d.call(op, uses=("symbol",), symbol=symbol)
    elif op == "get_stock_info":
        d.turn("how is {s} doing?", "get me the details on {s}", s=symbol)
        d.call(op, uses=("symbol",), symbol=symbol)
    else:
        threshold = float(d.rng.choice((0.5, 1, 2)))
        d.turn("alert me if any of them changed by {t}% or more", "check them for moves of at least {t} percent",
               t=threshold)
        d.call(op, uses=("stocks",), stocks=watched, threshold=threshold)


@chain("trading_get_login_status", "trading_login", options=("get_current_time", "trading_logout"))
def session(d: Draft) -> None:
    """ask whether I am logged in; I am not, so log in; then ask the market time or log out."""
    d.turn("am I logged in to the trading app?", "check whether my trading session is active")
    if d.call("trading_get_login_status").get("status"):
        raise Infeasible("already logged in")
    _log_in(d)
    if d.choose(("get_current_time", "trading_logout")) == "get_current_time":
        d.turn("what time is it now?", "tell me the current time")
        d.call("get_current_time")
    else:
        d.turn("okay, log me out now", "sign me out of trading")
        d.call("trading_logout")


CHAINS = (buy_by_name, review_latest_order, move_money, screen_a_sector, tend_watchlist, session)
