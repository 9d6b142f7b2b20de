"""Realistic values by kind (city, currency, ticker, person, ...) and which kind a parameter name asks for.

Static kinds are curated lists of real-world values (real cities, ISO codes, IANA zones); Faker
kinds are drawn once per sampler into pools of ``POOL_SIZE`` values from a Faker seeded with the
sampler's seed and the kind's name, so a pool does not depend on which kinds were built first.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Any

POOL_SIZE = 100


def _split(text: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in text.split("|") if v.strip())


STATIC: dict[str, tuple[str, ...]] = {k: _split(v) for k, v in {
    "city": "Boston|Chicago|Seattle|Austin|Denver|Miami|Atlanta|Portland|San Diego|Nashville|Paris|London|Berlin|"
            "Madrid|Rome|Lisbon|Amsterdam|Vienna|Prague|Dublin|Tokyo|Osaka|Seoul|Singapore|Sydney|Toronto|"
            "Vancouver|Mexico City|Cape Town|Nairobi|Mumbai|Bangkok|Istanbul|Buenos Aires|Lima|Oslo",
    "city_state": "Boston, MA|Chicago, IL|Seattle, WA|Austin, TX|Denver, CO|Miami, FL|Atlanta, GA|Portland, OR|"
                  "San Diego, CA|Nashville, TN|New York, NY|San Francisco, CA|Los Angeles, CA|Phoenix, AZ|"
                  "Minneapolis, MN|Philadelphia, PA|Salt Lake City, UT|Raleigh, NC|Columbus, OH|Madison, WI|"
                  "Baltimore, MD|Las Vegas, NV|Houston, TX|Detroit, MI|Pittsburgh, PA|Albuquerque, NM",
    "city_country": "Paris, France|London, UK|Berlin, Germany|Madrid, Spain|Rome, Italy|Lisbon, Portugal|"
                    "Tokyo, Japan|Seoul, South Korea|Sydney, Australia|Toronto, Canada|Mumbai, India|"
                    "Nairobi, Kenya|Lima, Peru|Oslo, Norway|Vienna, Austria|Cairo, Egypt|Bangkok, Thailand",
    "country": "France|Germany|Japan|Brazil|Canada|India|Kenya|Mexico|Spain|Italy|Australia|Norway|Portugal|"
               "South Korea|Egypt|Argentina|Thailand|Netherlands|Ireland|New Zealand|United States|"
               "United Kingdom|Peru|Vietnam|Chile|Sweden",
    "country_code": "US|GB|FR|DE|JP|BR|CA|IN|KE|MX|ES|IT|AU|NO|PT|KR|EG|AR|TH|NL|IE|NZ|SE|CH|SG",
    "state": "California|Texas|New York|Florida|Washington|Colorado|Oregon|Illinois|Georgia|Arizona|Ohio|"
             "Massachusetts|Michigan|Minnesota|Virginia|North Carolina|Tennessee|Utah",
    "region": "Europe|North America|South America|Southeast Asia|East Africa|Scandinavia|the Middle East|"
              "Pacific Northwest|New England|Western Europe|Central Asia|the Caribbean",
    "currency_code": "USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|BRL|MXN|SEK|NOK|SGD|KRW|ZAR|NZD|CNY|HKD",
    "ticker": "AAPL|MSFT|NVDA|AMZN|GOOGL|META|TSLA|JPM|V|KO|PEP|DIS|NFLX|INTC|AMD|IBM|ORCL|NKE|SBUX|WMT",
    "company": "Apple|Microsoft|Tesla|Amazon|Google|Nvidia|Netflix|Spotify|Airbnb|Toyota|Samsung|Nike|"
               "Starbucks|Boeing|Pfizer|Intel|Adobe|Siemens|Unilever|IKEA|Shopify|Salesforce",
    "language": "English|Spanish|French|German|Japanese|Portuguese|Italian|Korean|Hindi|Arabic|Dutch|Swedish|"
                "Mandarin|Turkish|Polish|Greek",
    "language_code": "en|es|fr|de|ja|pt|it|ko|hi|ar|nl|sv|zh|tr|pl|el",
    "clock_time": "|".join(f"{h:02d}:{m:02d}" for h in range(6, 23) for m in (0, 15, 30, 45)),
    "timezone": "America/New_York|America/Chicago|America/Denver|America/Los_Angeles|America/Toronto|"
                "America/Sao_Paulo|America/Mexico_City|Europe/London|Europe/Paris|Europe/Berlin|Europe/Madrid|"
                "Europe/Rome|Europe/Amsterdam|Europe/Stockholm|Europe/Warsaw|Europe/Istanbul|Africa/Cairo|"
                "Africa/Lagos|Africa/Nairobi|Africa/Johannesburg|Asia/Dubai|Asia/Kolkata|Asia/Singapore|"
                "Asia/Shanghai|Asia/Tokyo|Asia/Seoul|Asia/Bangkok|Australia/Sydney|Pacific/Auckland|UTC",
    "airport": "SFO|JFK|LAX|ORD|SEA|BOS|ATL|DEN|LHR|CDG|FRA|AMS|MAD|FCO|NRT|HND|ICN|SIN|SYD|YYZ|DXB|LIS|ZRH",
    "airline": "UA|AA|DL|BA|AF|LH|KL|NH|JL|SQ|QF|EK|AC|IB",
    "music_genre": "jazz|rock|pop|hip hop|classical|blues|country|electronic|reggae|folk|soul|metal|R&B",
    "genre": "drama|comedy|thriller|science fiction|documentary|horror|romance|animation|mystery|fantasy",
    "cuisine": "Italian|Mexican|Japanese|Thai|Indian|French|Greek|Korean|Vietnamese|Ethiopian|Lebanese|Spanish",
    "dish": "pad thai|lasagna|chicken tikka masala|ramen|paella|beef stew|caesar salad|mushroom risotto|"
            "fish tacos|vegetable curry|pancakes|shakshuka",
    "food": "apple|banana|spinach|salmon|brown rice|almonds|broccoli|avocado|chicken breast|oatmeal|lentils|tofu",
    "team": "Boston Celtics|Los Angeles Lakers|Golden State Warriors|Chicago Bulls|Manchester United|"
            "Real Madrid|FC Barcelona|Bayern Munich|New York Yankees|Dallas Cowboys|Liverpool|Arsenal",
    "league": "NBA|NFL|MLB|NHL|Premier League|La Liga|Bundesliga|Serie A|UEFA Champions League|MLS",
    "sport": "basketball|football|soccer|tennis|baseball|golf|cricket|hockey|volleyball|rugby",
    "player": "LeBron James|Lionel Messi|Serena Williams|Stephen Curry|Cristiano Ronaldo|Roger Federer|"
              "Virat Kohli|Shohei Ohtani|Kylian Mbappe|Simone Biles|Tom Brady|Naomi Osaka",
    "artist": "Taylor Swift|The Beatles|Beyonce|Miles Davis|Adele|Coldplay|Kendrick Lamar|Billie Eilish|"
              "Pablo Picasso|Frida Kahlo|Claude Monet|Vincent van Gogh|Ed Sheeran|Radiohead",
    "museum": "the Louvre|the Metropolitan Museum of Art|the British Museum|the Prado|the Uffizi Gallery|"
              "the Rijksmuseum|MoMA|the Smithsonian|the Art Institute of Chicago|Tate Modern",
    "book": "Dune|Pride and Prejudice|1984|The Hobbit|Beloved|Moby-Dick|The Great Gatsby|Sapiens|Educated|"
            "The Road|Middlemarch|Circe",
    "movie": "Inception|The Godfather|Parasite|Spirited Away|Casablanca|Arrival|Amelie|Interstellar|"
             "Get Out|Coco|Heat|Alien",
    "game": "The Legend of Zelda|Minecraft|Elden Ring|Fortnite|Stardew Valley|Halo|Tetris|Hades|"
            "Red Dead Redemption 2|Animal Crossing|Chess|Catan",
    "platform": "PC|Xbox|PlayStation|Nintendo Switch|iOS|Android|Steam",
    "instrument": "piano|guitar|violin|cello|drums|flute|saxophone|trumpet|bass|clarinet",
    "species": "red fox|gray wolf|African elephant|bald eagle|monarch butterfly|blue whale|snow leopard|"
               "giant panda|green sea turtle|honey bee|koala|bottlenose dolphin",
    "plant": "tomato|basil|lavender|fern|sunflower|orchid|rosemary|snake plant|oak|maple",
    "substance": "water|ice|ethanol|iron|copper|aluminum|lead|mercury|nitrogen|oxygen|carbon dioxide|salt|"
                 "sugar|glycerol|acetone|benzene|methane|ammonia|gold|silver",
    "ecosystem": "coral reef|tropical rainforest|temperate forest|grassland|wetland|tundra|desert|savanna|"
                 "mangrove|freshwater lake|river delta|kelp forest|boreal forest|alpine meadow",
    "element": "Hydrogen|Helium|Carbon|Nitrogen|Oxygen|Iron|Copper|Gold|Silver|Sodium|Calcium|Uranium",
    "particle": "electron|proton|neutron|photon|muon|neutrino",
    "planet": "Mercury|Venus|Earth|Mars|Jupiter|Saturn|Uranus|Neptune",
    "condition": "asthma|type 2 diabetes|hypertension|migraine|seasonal allergies|influenza|anemia|eczema",
    "medication": "ibuprofen|amoxicillin|metformin|lisinopril|atorvastatin|cetirizine|omeprazole|levothyroxine",
    "product": "wireless headphones|running shoes|coffee maker|standing desk|yoga mat|backpack|"
               "mechanical keyboard|water bottle|winter jacket|smartwatch|desk lamp|air purifier",
    "brand": "Nike|Adidas|Sony|Samsung|Apple|Patagonia|Bose|Canon|Lego|Yamaha|Dyson|Levi's",
    "material": "steel|aluminum|copper|glass|wood|concrete|titanium|plastic|cotton|granite",
    "color": "red|blue|green|yellow|black|white|navy|teal|orange|purple|gray|beige",
    "unit": "meters|kilometers|miles|feet|inches|centimeters|kilograms|pounds|liters|celsius|fahrenheit",
    "length_unit": "meters|kilometers|miles|feet|inches|centimeters|yards",
    "temperature_unit": "celsius|fahrenheit|kelvin",
    "mass_unit": "kilograms|grams|pounds|ounces|tonnes",
    "volume_unit": "liters|milliliters|gallons|cubic meters",
    "time_unit": "seconds|minutes|hours|days",
    "speed_unit": "km/h|mph|m/s|knots",
    "month": "January|February|March|April|May|June|July|August|September|October|November|December",
    "weekday": "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday",
    "topic": "climate change|machine learning|renewable energy|ancient Rome|space exploration|nutrition|"
             "quantum computing|urban planning|the French Revolution|ocean conservation|personal finance",
    "category": "electronics|books|home and garden|sports|clothing|toys|groceries|health|music|travel",
    "query": "waterproof hiking boots|best pizza nearby|noise cancelling headphones|vegan lasagna recipe|"
             "cheap flights to Lisbon|python tutorial|used bikes|quiet cafes to work from|kids science kits",
    "message": "Running about ten minutes late, sorry!|Can we move our call to Thursday?|"
               "The package arrived this morning, thanks.|Please review the attached draft.|"
               "Happy birthday! Hope you have a great day.|Reminder: team lunch at noon tomorrow.",
    "title": "Quarterly planning review|Weekly sync|Project kickoff|Budget proposal|Trip itinerary|"
             "Product launch checklist|Onboarding notes|Research summary",
    "reason": "customer requested a change|duplicate entry|follow-up after the last visit|"
              "clearing a stuck connection pool|planned maintenance|item arrived damaged|schedule conflict",
    "service": "checkout-api|payments-worker|auth-service|search-indexer|user-profile|notification-gateway|"
               "inventory-sync|billing-api|web-frontend|order-processor",
    "event": "music festival|tech conference|food fair|marathon|art exhibition|book signing|film premiere",
    "hotel": "Grand Plaza Hotel|Harbor View Inn|The Riverside|Hotel Aurora|Seaside Suites|Park Lane Lodge",
    "restaurant": "Blue Door Bistro|Trattoria Roma|Sakura Sushi|The Green Table|Casa Lupe|Golden Wok",
    "car": "Toyota Camry|Honda Civic|Tesla Model 3|Ford F-150|Subaru Outback|BMW X5|Hyundai Ioniq 5",
    "religion": "Buddhism|Christianity|Hinduism|Islam|Judaism|Sikhism",
    "song": "Bohemian Rhapsody|Imagine|Hey Jude|Halo|Shape of You|Rolling in the Deep|Hotel California|"
            "Yesterday|Blinding Lights|Respect|Clair de Lune|Smells Like Teen Spirit",
    "word": "standard|premium|basic|summary|report|archive|north|harbor|garden|summit|classic|modern|river|"
            "silver|forest|meadow|central|express|deluxe|compact|annual|weekly|primary|advanced|family|studio|"
            "outdoor|indoor|historic|coastal|urban|regional|national|digital|organic|seasonal|local|global",
    "version": "v1.4.2|v2.0.0|v2.14.3|v3.1.0|v0.9.7|v1.12.5",
    "landmark": "the Eiffel Tower|Central Park|the Colosseum|Shibuya Crossing|the Golden Gate Bridge|"
                "the city centre|the convention center|the old town|the main train station|the harbour",
    "insurance": "Blue Shield PPO|Aetna Choice POS II|Kaiser Permanente HMO|UnitedHealthcare Choice Plus|"
                 "Cigna Open Access Plus|Medicare Part B",
    "request": "late check-in around 23:00|quiet room away from the elevator|extra pillows|airport pickup|"
               "ground floor room if possible|crib for a toddler|early breakfast",
}.items()}

FAKER: dict[str, Callable[[Any], str]] = {
    "person": lambda f: f"{f.first_name()} {f.last_name()}",
    "first_name": lambda f: f.first_name(),
    "last_name": lambda f: f.last_name(),
    "username": lambda f: f.user_name(),
    "email": lambda f: f.email(),
    "phone": lambda f: f.phone_number().split("x")[0] if f.random.random() < 0.6 else f"+1{f.msisdn()[3:]}",
    "street": lambda f: f.street_address(),
    "address": lambda f: f.address().replace("\n", ", "),
    "postal_code": lambda f: f.postcode(),
    "domain": lambda f: f.domain_name(),
    "url": lambda f: f.url() + f.uri_path(),
    "ipv6": lambda f: f.ipv6(),
    "job": lambda f: f.job(),
    "sentence": lambda f: f.sentence(nb_words=8),
    "business": lambda f: f.company(),
}

# Parameter names (normalised: snake_case, lower) that name a kind outright.
EXACT: dict[str, str] = {
    "first_name": "first_name", "given_name": "first_name", "last_name": "last_name", "family_name": "last_name",
    "surname": "last_name", "full_name": "person", "user_name": "username", "username": "username",
    "login": "username", "handle": "username", "country_code": "country_code", "currency_code": "currency_code",
    "postal_code": "postal_code", "zip_code": "postal_code", "zip": "postal_code", "zipcode": "postal_code",
    "postcode": "postal_code", "line1": "street", "address_line1": "street", "street_address": "street",
    "time_zone": "timezone", "tz": "timezone", "symbol": "ticker", "stock": "ticker", "language_code": "language_code",
    "lang": "language_code", "locale": "language_code", "airport_code": "airport", "from_airport": "airport",
    "to_airport": "airport", "origin": "city", "destination": "city", "start_location": "city",
    "end_location": "city", "website": "url", "homepage": "url", "link": "url", "host": "domain",
    "hostname": "domain", "domain": "domain", "company_name": "company", "business_name": "business",
    "search_term": "query", "keyword": "query", "keywords": "query", "q": "query", "text": "message",
    "body": "message", "content": "message", "note": "reason", "notes": "reason", "comment": "reason",
    "description": "reason", "summary": "reason", "details": "reason", "reference": "id", "sku": "id",
    "dish_name": "dish", "recipe": "dish", "meal": "dish", "phone_number": "phone",
    "mobile_number": "phone", "contact_phone": "phone", "contact_email": "email",
}

TOKEN: dict[str, str] = {
    "city": "city", "town": "city", "location": "location", "place": "location", "venue": "location",
    "country": "country", "nationality": "country_code", "state": "state", "province": "state",
    "region": "state", "address": "address", "street": "street", "name": "person", "person": "person",
    "author": "person", "owner": "person", "recipient": "person", "customer": "person", "user": "username",
    "email": "email", "mail": "email", "phone": "phone", "mobile": "phone", "telephone": "phone",
    "company": "company", "employer": "business", "organization": "business", "firm": "business",
    "url": "url", "uri": "url", "currency": "currency_code", "ticker": "ticker", "language": "language",
    "timezone": "timezone", "zone": "timezone", "time": "clock_time", "airport": "airport", "airline": "airline", "carrier": "airline",
    "genre": "music_genre", "cuisine": "cuisine", "dish": "dish", "food": "food", "ingredient": "food",
    "item": "product", "team": "team", "club": "team", "league": "league", "competition": "league",
    "sport": "sport", "player": "player", "athlete": "player", "artist": "artist", "painter": "artist",
    "band": "artist", "singer": "artist", "museum": "museum", "book": "book", "novel": "book", "song": "song", "track": "song", "movie": "movie",
    "film": "movie", "show": "movie", "game": "game", "platform": "platform", "instrument": "instrument",
    "species": "species", "animal": "species", "plant": "plant", "element": "element", "particle": "particle",
    "substance": "substance", "chemical": "substance", "liquid": "substance", "ecosystem": "ecosystem",
    "habitat": "ecosystem", "biome": "ecosystem", "waypoint": "city",
    "planet": "planet", "condition": "condition", "disease": "condition", "symptom": "condition",
    "illness": "condition", "medication": "medication", "drug": "medication", "medicine": "medication",
    "product": "product", "brand": "brand", "manufacturer": "brand", "material": "material",
    "color": "color", "colour": "color", "unit": "unit", "units": "unit", "month": "month", "weekday": "weekday",
    "topic": "topic", "subject": "topic", "category": "category", "query": "query", "search": "query",
    "message": "message", "title": "title", "reason": "reason", "purpose": "reason", "service": "service",
    "event": "event", "hotel": "hotel", "restaurant": "restaurant", "car": "car", "vehicle": "car",
    "religion": "religion", "version": "version", "job": "job", "occupation": "job", "profession": "job",
    "domain": "domain", "host": "domain", "website": "url", "site": "url", "token": "id", "sku": "id",
    "near": "landmark", "landmark": "landmark", "insurance": "insurance", "insurer": "insurance",
    "request": "request", "requests": "request", "merchant": "business", "vendor": "business",
    "supplier": "business", "store": "business", "shop": "business",
}

# Description phrases that pin a kind whatever the parameter is called.
DESCRIPTION_HINTS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(p, re.IGNORECASE), k) for p, k in (
    (r"\bHH:MM\b|\b24-hour\b", "clock_time"), (r"\biata airport|\bairport code", "airport"), (r"\biata airline|\bairline code", "airline"),
    (r"\biso 4217|\bcurrency code", "currency_code"), (r"alpha-2|\bcountry code", "country_code"),
    (r"\biso 639|\blanguage code", "language_code"), (r"\biana\b|\btime ?zone", "timezone"),
    (r"\bticker|\bstock symbol", "ticker"), (r"\bcity and state\b|\bcity, state\b", "city_state"),
    (r"\bcity and country\b", "city_country"), (r"\be-?mail address", "email"),
))


_DESCRIPTION_NOUNS = frozenset(("city", "location", "country", "address", "company", "team", "player", "artist",
                                "language", "currency", "email", "book", "movie", "song", "game", "species",
                                "restaurant", "hotel", "museum", "instrument", "product", "brand", "ingredient", "dish",
                                "cuisine", "genre", "sport", "league", "planet", "element", "medication", "disease",
                                "substance", "ecosystem"))
"""Nouns that, early in a description, say what a vaguely named parameter holds."""


_EXPRESSION_NAMES = frozenset(("expression", "expr", "equation", "formula", "polynomial", "function", "func"))
_MATH = re.compile(r"mathemat|polynomial|equation|integrat|derivative|\bcurve\b|x\^|x\*\*|\bf\(x\)", re.IGNORECASE)
"""A parameter named like a formula holds one (``function`` only when its description speaks of mathematics)."""


RANGE_NAME = re.compile(r"^(interval|range|bounds|limits|domain|x_range|span)$")
"""A (normalised) parameter name for a range: as an array of numbers, its two ends in order ('from 1 to 3')."""
POINT_NAME = re.compile(r"^(point|coordinates?|coords?|position)(_?[a-z0-9])?$")
"""A (normalised) parameter name for a point: as an array of numbers, its two coordinates (now and then three)."""


def normalise(name: str) -> str:
    """``propertyType`` -> ``property_type``; ``X-Request-Id`` -> ``x_request_id``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


RELATED: dict[str, tuple[str, ...]] = {
    "country": ("country_code",), "language": ("language_code",), "city": ("airport",), "currency_code": (),
    "state": ("country_code",), "person": ("username",),
}
"""Kinds to try, in order, when no value of a kind satisfies a parameter's pattern or lengths."""


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) > 3:
        return word[:-1]
    return word


def plural(phrase: str) -> str:
    """'number' -> 'numbers', 'mass' -> 'masses', 'body' -> 'bodies' (the last word of a phrase)."""
    if phrase.endswith("y") and phrase[-2:-1] not in tuple("aeiou"):
        return phrase[:-1] + "ies"
    if phrase.endswith(("s", "x", "z", "ch", "sh")):
        return phrase + "es"
    return phrase + "s"


def kind_for(name: str, description: str = "") -> str | None:
    """The realistic-value kind a string parameter asks for, or None."""
    for pattern, kind in DESCRIPTION_HINTS:
        if pattern.search(description):
            return kind
    norm = normalise(name)
    if norm in EXACT:
        return EXACT[norm]
    last = norm.split("_")[-1]
    if last in _EXPRESSION_NAMES and (last != "function" or _MATH.search(description)):
        return "expression"
    if norm == "id" or norm.endswith(("_id", "_ids", "_number", "_ref", "_reference")):
        return "id"
    tokens = [t.rstrip("0123456789") or t for t in norm.split("_") if t]
    for i in range(len(tokens) - 1, -1, -1):
        token = tokens[i]
        if token in ("name", "title") and i > 0:
            continue
        kind = TOKEN.get(token) or TOKEN.get(singular(token))
        if kind:
            return _measured(f"{norm.replace('_', ' ')} {description}") if kind == "unit" else kind
    words = re.findall(r"[a-z]+", description.lower().split(",")[0])[:8]
    words = [singular(w) for w in words]  # 'Additional cities or points of interest' -> city
    return next((TOKEN[w] for w in words if w in _DESCRIPTION_NOUNS), None)  # 'Starting location' -> location


_MEASURES = tuple((re.compile(p, re.IGNORECASE), k) for p, k in (
    (r"\b(?:temp|temperature|celsius|fahrenheit|kelvin|heat)\b", "temperature_unit"),
    (r"\b(?:speed|velocity)", "speed_unit"),
    (r"\b(?:mass|weight)", "mass_unit"), (r"\b(?:volume|capacity|liquid)", "volume_unit"),
    (r"\b(?:time|duration|period)\b", "time_unit"),
    (r"\b(?:radius|length|distance|sides?|height|width|depth|diameter|area|perimeter|circumference|base)\b",
     "length_unit"),
))


def _measured(text: str) -> str:
    """The unit pool of what a ``unit`` parameter measures, by its name and description ('distance_unit', 'the
    unit of the radius': lengths); every kind of unit when neither says."""
    return next((kind for pattern, kind in _MEASURES if pattern.search(text)), "unit")


def faker_pool(kind: str, faker: Any, seed: int) -> list[str]:
    """``POOL_SIZE`` distinct values of a Faker kind, from the Faker reseeded for this kind."""
    faker.seed_instance(seed * 1_000_003 + zlib.crc32(kind.encode()))
    make, values = FAKER[kind], []
    for _ in range(POOL_SIZE * 2):
        value = make(faker)
        if value not in values:
            values.append(value)
        if len(values) == POOL_SIZE:
            break
    return values


def id_prefix(name: str) -> str:
    """``order_id`` -> ``ORD``; ``patient_id`` -> ``PTN``: a short upper-case stem for made-up identifiers."""
    stem = next((t for t in normalise(name).split("_") if t not in ("id", "ids", "the", "x")), "id")
    consonants = stem[0] + "".join(c for c in stem[1:] if c not in "aeiou")
    return (consonants if len(consonants) >= 3 else stem)[:3].upper()


def refine_kind(kind: str | None, examples: list[str]) -> str | None:
    """Cities and countries follow the shape of the description's example ('Boston, MA', 'DE')."""
    first = examples[0] if examples else ""
    if kind in ("location", "city"):
        if re.search(r", [A-Z]{2}$", first):
            return "city_state"
        if re.search(r", [A-Z][a-z]", first):
            return "city_country"
        return "city_state" if kind == "location" and not first else "city"
    if kind == "country" and first and re.fullmatch(r"[A-Z]{2}", first):
        return "country_code"
    if kind == "language" and first and re.fullmatch(r"[a-z]{2}", first):
        return "language_code"
    return kind


def shape(text: str) -> str:
    """A string's look: 'slug' (payments-core), 'code' (USD), 'symbolic' (a=b{c}) or 'words'."""
    if re.fullmatch(r"[a-z0-9]+(?:[-_.][a-z0-9]+)+", text):
        return "slug"
    if re.fullmatch(r"[A-Z0-9]{2,6}", text):
        return "code"
    return "symbolic" if re.search(r"[^\w\s,.'&()-]", text) else "words"
