"""Stateful goals on BFCL's posting API (``posting_api``, Twitter-like): an account, a few tweets by it and by
others, and chains that log in, then post, search, comment, retweet, mention, follow and unfollow. Tweet ids come
from ``post_tweet``, ``search_tweets`` or ``get_user_tweets`` results.

``post_tweet(content, tags=[], mentions=[])`` keeps its default lists in the tweet (BFCL's quirk, see
``inftool.envs.bfcl``): a planned ``post_tweet`` always passes both lists, so a later ``mention`` extends the
tweet's own list and never the shared default, and every world of the process stays independent.
"""

from __future__ import annotations

import random
from typing import Any

from .base import Draft, Infeasible, chain, quoted
from .pools import COMMENTS, FIRST_NAMES, TAGS, TWEETS, pick

ENV = "posting_api"


def initial_state(rng: random.Random) -> dict[str, Any]:
    """An account (not logged in), three to six tweets by it and by people it may follow."""
    names = [n.lower() for n in pick(rng, FIRST_NAMES, 6)]
    me, others = f"{names[0]}_{rng.randint(10, 99)}", names[1:]
    tweets = {}
    for i, text in enumerate(pick(rng, TWEETS, rng.randint(3, 6))):
        author = me if rng.random() < 0.4 else rng.choice(others)
        tweets[str(i)] = {"id": i, "username": author, "content": text, "tags": pick(rng, TAGS, rng.randint(0, 2)),
                          "mentions": [f"@{m}" for m in pick(rng, others, rng.randint(0, 1))]}
    return {"username": me, "password": f"{rng.choice(('sun', 'kite', 'maple', 'river'))}{rng.randint(1000, 9999)}",
            "authenticated": False, "tweets": tweets, "comments": {}, "retweets": {},
            "following_list": pick(rng, others, rng.randint(1, 3)), "tweet_counter": len(tweets)}


def _log_in(d: Draft, then: str = "") -> None:
    """Turn: log in with the account's username and password (the user knows them)."""
    state = d.state()
    d.turn("log me in to my social account (username {u}, password {p}){t}",
           "sign in as {u} with password {p}{t}", "authenticate me: user {u}, password {p}{t}",
           u=state["username"], p=state["password"], t=then)
    d.call("authenticate_twitter", username=state["username"], password=state["password"])


def _others(d: Draft) -> list[str]:
    me = d.state()["username"]
    return sorted({t["username"] for t in d.state()["tweets"].values()} - {me})


def _react(d: Draft, tweet: int) -> None:
    """Turn: do something with a tweet whose id an earlier result gave."""
    op = d.choose(("retweet", "comment", "mention", "get_tweet_comments"))
    if op == "retweet":
        d.turn("retweet it", "share that tweet on my profile", "please retweet that one")
        d.call("retweet", uses=("tweet_id",), tweet_id=tweet)
    elif op == "comment":
        text = d.rng.choice(COMMENTS)
        d.turn("comment '{c}' on it", "reply to it with \"{c}\"", "leave the comment: {c}", c=text)
        d.call("comment", uses=("tweet_id",), tweet_id=tweet, comment_content=text)
    elif op == "mention":
        people = [f"@{n.lower()}" for n in pick(d.rng, FIRST_NAMES, d.rng.randint(1, 2))]
        d.turn("mention {m} in it", "tag {m} in that tweet", m=" and ".join(people))
        d.call("mention", uses=("tweet_id",), tweet_id=tweet, mentioned_usernames=people)
    else:
        d.turn("show me the comments on it", "what have people commented on that tweet?")
        d.call("get_tweet_comments", uses=("tweet_id",), tweet_id=tweet)


@chain("authenticate_twitter", "post_tweet", options=("retweet", "comment", "mention", "get_tweet_comments"))
def post_and_follow_up(d: Draft) -> None:
    """log in and post a tweet, then retweet, comment on, mention people in, or read the comments of it."""
    text = d.rng.choice(TWEETS)
    tags = pick(d.rng, TAGS, d.rng.randint(1, 2))
    mentions = [f"@{n}" for n in pick(d.rng, _others(d) or ["sam"], d.rng.randint(0, 1))]
    extra = f" tagging {' '.join(mentions)}" if mentions else ""
    _log_in(d, then=", then post \"{}\" with {}{}".format(text, " and ".join(tags), extra))
    posted = d.call("post_tweet", content=text, tags=tags, mentions=mentions)
    _react(d, posted["id"])


@chain("authenticate_twitter", "search_tweets", options=("retweet", "comment", "mention", "get_tweet_comments"))
def search_and_react(d: Draft) -> None:
    """log in and search the tweets for a word only one tweet has, then act on that tweet."""
    tweets = list(d.state()["tweets"].values())
    words = {w.strip(".,!?").lower() for t in tweets for w in t["content"].split()}
    unique = sorted(w for w in words if len(w) >= 5 and w.isalpha()
                    and sum(w in t["content"].lower() or w in [g.lower() for g in t["tags"]] for t in tweets) == 1)
    if not unique:
        raise Infeasible("no word only one tweet has")
    keyword = d.rng.choice(unique)
    _log_in(d)
    d.turn("search for tweets about '{k}'", "find the tweet that mentions {k}", "look up tweets with the word {k}",
           k=keyword)
    found = d.call("search_tweets", keyword=keyword)
    _react(d, found[0]["id"])


@chain("authenticate_twitter", "list_all_following", options=("follow_user", "unfollow_user"))
def manage_following(d: Draft) -> None:
    """log in and list whom I follow, then unfollow one of them or follow someone new."""
    _log_in(d, then=d.rng.choice((", and show me who I'm following", " and list the accounts I follow")))
    following = d.call("list_all_following")["following_list"]
    if d.choose(("follow_user", "unfollow_user")) == "unfollow_user":
        name = d.rng.choice(following)
        d.turn("unfollow {n}", "stop following {n}", "please unfollow {n} for me", n=quoted(d.rng, name))
        d.call("unfollow_user", uses=("username_to_unfollow",), username_to_unfollow=name)
    else:
        new = d.rng.choice([n.lower() for n in FIRST_NAMES if n.lower() not in following])
        d.turn("follow {n} too", "also follow {n}", "start following {n}", n=quoted(d.rng, new))
        d.call("follow_user", username_to_follow=new)


@chain("get_user_tweets", options=("get_tweet", "get_user_stats", "comment", "retweet"),
       extras=("authenticate_twitter",))
def read_someone(d: Draft) -> None:
    """list someone's tweets, then open one of them, or get their stats, or (logged in) comment or retweet."""
    others = _others(d)
    if not others:
        raise Infeasible("no other author")
    name = d.rng.choice(others)
    d.turn("show me {n}'s tweets", "what has {n} been posting?", "list the tweets by {q}", n=name,
           q=quoted(d.rng, name))
    tweets = d.call("get_user_tweets", username=name)
    op = d.choose(("get_tweet", "get_user_stats", "comment", "retweet"))
    if op == "get_user_stats":
        d.turn("how many tweets and retweets does {n} have?", "get {n}'s stats", n=name)
        d.call("get_user_stats", uses=("username",), username=name)
    elif op == "get_tweet":
        tweet = d.rng.choice(tweets)
        d.turn("get me the full details of the one that says \"{c}\"", "open the tweet \"{c}\"", c=tweet["content"])
        d.call("get_tweet", uses=("tweet_id",), tweet_id=tweet["id"])
    else:
        if not d.has("authenticate_twitter"):
            raise Infeasible("cannot log in")
        _log_in(d)
        _react_to_first(d, tweets[0]["id"], op)


def _react_to_first(d: Draft, tweet: int, op: str) -> None:
    if op == "retweet":
        d.turn("retweet their first one", "share the first of those tweets")
        d.call("retweet", uses=("tweet_id",), tweet_id=tweet)
    else:
        text = d.rng.choice(COMMENTS)
        d.turn("comment '{c}' on their first tweet", "reply \"{c}\" to the first one", c=text)
        d.call("comment", uses=("tweet_id",), tweet_id=tweet, comment_content=text)


@chain("posting_get_login_status", "authenticate_twitter", "post_tweet")
def check_then_post(d: Draft) -> None:
    """ask whether I am logged in; I am not, so log in and post."""
    d.turn("am I logged in to my social account?", "check if I'm signed in on the posting app")
    if d.call("posting_get_login_status").get("login_status"):
        raise Infeasible("already logged in")
    text, tags = d.rng.choice(TWEETS), pick(d.rng, TAGS, 1)
    _log_in(d, then=f" and post \"{text}\" tagged {tags[0]}")
    d.call("post_tweet", content=text, tags=tags, mentions=[])


CHAINS = (post_and_follow_up, search_and_react, manage_following, read_someone, check_then_post)
