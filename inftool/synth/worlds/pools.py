"""Small word pools for procedurally generated worlds: people, folders and files, short texts.

Written for inftool (none of it comes from BFCL's questions or answers); every choice among them is made by the
episode's rng, so a world is the same for the same seed.
"""

from __future__ import annotations

import random

FIRST_NAMES = (
    "Alice", "Bruno", "Chen", "Dana", "Elif", "Farah", "Gabriel", "Hana", "Ivan", "Jonas", "Keiko", "Luis", "Maya",
    "Nikhil", "Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tara", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
    "Amara", "Boris", "Clara", "Diego", "Esther", "Felix", "Greta", "Hugo", "Ines", "Jamal", "Kira", "Leo",
)
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Rossi", "Novak", "Haddad", "Schmidt", "Kowalski", "Mendes", "Park",
    "Oyelaran", "Brennan", "Castillo", "Dubois", "Eriksen", "Fischer", "Gupta", "Horvat", "Ibarra", "Jensen",
)
HOMES = ("alex", "sam", "jordan", "taylor", "morgan", "casey", "riley", "jamie", "robin", "kim", "lee", "devon")
FOLDERS = (
    "documents", "projects", "reports", "archive", "backup", "notes", "photos", "invoices", "drafts", "research",
    "scripts", "data", "logs", "recipes", "taxes", "travel", "work", "school", "clients", "designs", "budget",
    "meetings", "assets", "exports", "shared", "letters", "contracts", "music", "training", "receipts",
)
FILE_STEMS = (
    "notes", "summary", "budget", "report", "todo", "ideas", "meeting_minutes", "expenses", "contacts", "schedule",
    "draft", "readme", "changelog", "results", "inventory", "plan", "checklist", "references", "outline", "agenda",
    "analysis", "feedback", "roadmap", "sales_q3", "receipts_2023", "grades", "packing_list", "training_log",
    "config", "setup", "cleanup", "timeline", "proposal", "minutes_june", "invoice_041", "survey", "quotes",
    "reading_list", "backlog", "retro",
)
EXTENSIONS = (".txt", ".md", ".csv", ".log", ".py", ".json")
WORDS = (
    "deadline", "invoice", "meeting", "budget", "review", "server", "backup", "client", "draft", "release",
    "schedule", "payment", "shipment", "contract", "update", "error", "summary", "travel", "order", "report",
)
SENTENCES = (
    "Confirm the venue for the spring workshop.", "Send the revised budget to finance by Friday.",
    "The client approved the second draft of the proposal.", "Book a review meeting with the design team.",
    "Renew the software licences before the end of the month.", "Ask Dana about the missing invoice.",
    "Shipment 214 was delayed by two days.", "Update the contact list with the new suppliers.",
    "Back up the shared drive every Sunday night.", "The release notes need one more pass.",
    "Payment for order 5531 cleared on Tuesday.", "Collect feedback from the pilot users.",
    "Move the archive to the new server after the migration.", "Check the travel schedule for the conference.",
    "Draft the summary for the quarterly report.", "Replace the old printer cartridges in room 4.",
)
LOG_LINES = (
    "2024-03-02 09:14:05 INFO server started on port 8080", "2024-03-02 09:15:41 WARN disk usage at 81%",
    "2024-03-02 09:20:13 ERROR backup job failed: timeout", "2024-03-02 09:21:00 INFO retrying backup job",
    "2024-03-02 09:25:37 INFO backup job finished", "2024-03-02 10:02:11 INFO 42 orders processed",
    "2024-03-02 10:30:59 ERROR payment gateway returned 502", "2024-03-02 11:00:00 INFO nightly report sent",
)
CSV_ROWS = (
    "date,item,amount", "2024-01-05,office chairs,420.00", "2024-01-12,printer paper,35.50",
    "2024-02-03,team lunch,128.75", "2024-02-17,software licence,299.00", "2024-03-01,train tickets,86.40",
    "2024-03-09,conference fee,450.00", "2024-03-22,coffee supplies,42.10",
)
CODE_LINES = (
    "import json", "def load(path):", "    with open(path) as handle:", "        return json.load(handle)",
    "def total(rows):", "    return sum(row['amount'] for row in rows)", "# empty files are skipped",
    "print('report ready')",
)
MESSAGES = (
    "Can we move our call to Thursday afternoon?", "The slides for tomorrow are in the shared folder.",
    "Thanks for sending the invoice so quickly!", "Please review the contract before Friday.",
    "Lunch meeting is confirmed for 12:30.", "I left the keys at the front desk.",
    "The shipment arrived this morning, all items accounted for.", "Could you share the budget numbers?",
    "Reminder: the team retro starts at 4 pm.", "Your order has been packed and is ready for pickup.",
    "Happy birthday! Hope you have a great day.", "The server maintenance is scheduled for Sunday.",
)
TWEETS = (
    "Just finished a 10k run along the river, new personal best!", "Our community garden harvested 40 kg of tomatoes",
    "Reading a great book on urban design this week", "Coffee tasting at the corner cafe was a hit",
    "Launching our volunteer program next month, sign up soon", "The night sky was incredibly clear tonight",
    "Trying a new sourdough recipe this weekend", "Big thanks to everyone who came to the meetup",
    "Our museum tour now has an audio guide in five languages", "Spring cleaning the garage, found my old bike",
    "Code review day: three pull requests merged before noon", "The farmers market opens at 8 this Saturday",
)
COMMENTS = (
    "Congratulations, well deserved!", "Thanks for sharing this.", "Great idea, count me in.",
    "This is really helpful.", "Love it, keep it up!", "Interesting, tell me more.", "See you there!",
)
TAGS = ("#running", "#garden", "#books", "#coffee", "#community", "#astronomy", "#baking", "#meetup", "#museum",
        "#weekend", "#coding", "#market")
TICKET_TOPICS = (
    ("Laptop will not boot", "The laptop shows a black screen after the logo appears."),
    ("VPN keeps disconnecting", "The VPN drops every ten minutes when working from home."),
    ("Printer out of toner", "The second floor printer reports an empty toner cartridge."),
    ("Password reset request", "I am locked out of my email account after a password change."),
    ("Monitor flickering", "My external monitor flickers when connected through the dock."),
    ("Software licence expired", "The design software says the licence expired yesterday."),
    ("Shared drive is slow", "Opening files on the shared drive takes more than a minute."),
    ("Broken office chair", "The chair at desk 14 has a broken armrest."),
    ("Email attachments blocked", "Attachments larger than 5 MB are rejected by the mail server."),
    ("Wi-Fi dead zone", "There is no Wi-Fi signal in meeting room B."),
)
RESOLUTIONS = (
    "Replaced the faulty part and tested it.", "Reset the account and confirmed access.",
    "Updated the driver; the issue is gone.", "Renewed the licence for another year.",
    "Reconfigured the network settings.", "Ordered a replacement and installed it.",
)


def pick(rng: random.Random, pool: tuple[str, ...], count: int) -> list[str]:
    """``count`` different items of ``pool``, in random order."""
    return rng.sample(pool, min(count, len(pool)))


def full_name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
