"""A small random-web corpus like the demo's web sample: spam, boilerplate, menus, listings.

Built here (seeded) so the tests do not depend on pipeline/sample/web; the page kinds mirror
that sample's junk: keyword-stuffed deal pages, cookie/newsletter/nav boilerplate around a
few lines of text, menu-only pages, link listings and shouty ads.
"""

from __future__ import annotations

import random

PRODUCTS = ["cheap watches", "casino bonus", "weight loss pills", "crypto signals", "replica bags",
            "free spins", "payday loans", "seo backlinks", "vpn deal", "phone cases", "cbd gummies"]
NAV = ["Home", "News", "Sports", "Weather", "Contact", "About us", "Login", "Register", "Shop", "Deals",
       "Blog", "Careers", "Help", "FAQ", "Sitemap", "Privacy", "Terms"]
BOILER = ["We use cookies to personalise content and ads. Accept all cookies?",
          "Sign up for our weekly newsletter!", "Share on Facebook | Tweet | Pin it",
          "Copyright 2024 All rights reserved.", "Advertisement", "Related posts:", "Read more >>",
          "Click here to subscribe", "Follow us on Instagram", "Posted by admin", "Leave a comment",
          "Skip to content", "Search ...", "Previous | Next", "Download our app now"]
HOOKS = ["BEST PRICE", "BUY NOW", "LIMITED OFFER", "100% FREE", "ACT FAST", "!!!", "$$$", "WIN BIG",
         "HOT DEAL", "ORDER TODAY"]
SNIPPETS = ["Top 10 tips you will not believe", "Local team wins again", "Weather today sunny",
            "New phone launched", "Celebrity spotted downtown", "Prices going up", "Shocking video",
            "Sale ends soon", "Best recipes of the week", "You won a prize"]


def spam(rng: random.Random) -> str:
    kws = rng.sample(PRODUCTS, 3)
    lines = [f"{rng.choice(HOOKS)} {kw} {rng.choice(HOOKS)}" for kw in kws for _ in range(rng.randint(2, 4))]
    lines += [" ".join(rng.choice(kws) for _ in range(rng.randint(6, 14))) for _ in range(3)]
    rng.shuffle(lines)
    return "\n".join(lines)


def boilerplate(rng: random.Random) -> str:
    lines = [" | ".join(rng.sample(NAV, rng.randint(5, 9)))]
    lines += rng.sample(BOILER, rng.randint(4, 8))
    lines += [rng.choice(SNIPPETS) for _ in range(rng.randint(2, 5))]
    lines.append(" | ".join(rng.sample(NAV, rng.randint(4, 8))))
    return "\n".join(lines)


def menu(rng: random.Random) -> str:
    return "\n".join(rng.sample(NAV, rng.randint(8, 14)))


def listing(rng: random.Random) -> str:
    return "\n".join(f"{rng.choice(SNIPPETS)} - {rng.randint(1, 28)} Jan 2024 - {rng.randint(2, 900)} comments"
                     for _ in range(rng.randint(6, 15)))


KINDS = [spam, boilerplate, menu, listing]


def web_documents(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(KINDS)(rng) for _ in range(n)]
