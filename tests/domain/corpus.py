"""Topical documents (English and Chinese) for domain tests, seeded."""

from __future__ import annotations

import random

TOPICS = {
    "cooking": (["recipe", "flour", "oven", "garlic", "sauce", "simmer", "butter", "teaspoon", "dough", "onion"],
                ["菜谱", "面粉", "烹饪", "食材", "厨房", "做法"]),
    "sports": (["league", "coach", "tournament", "football", "players", "stadium", "season", "goal", "fans",
                "referee"], ["比赛", "球队", "联赛", "冠军", "足球", "教练"]),
    "finance": (["stocks", "investors", "inflation", "bonds", "dividend", "portfolio", "earnings", "bank",
                 "currency", "lender"], ["股票", "投资", "利率", "基金", "银行", "通胀"]),
}
FILLER = ["the", "a", "of", "and", "was", "in", "for", "with", "on", "after", "new", "this", "week", "said"]


def topical_documents(n_per_topic: int, seed: int = 3) -> list[tuple[str, str]]:
    """(topic, text) pairs; about a quarter in Chinese."""
    rng = random.Random(seed)
    out = []
    for topic, (en, zh) in TOPICS.items():
        for i in range(n_per_topic):
            if i % 4 == 3:
                text = "，".join("".join(rng.sample(zh, 2)) + "的" + rng.choice(["新闻", "故事", "消息"])
                                for _ in range(12)) + "。"
            else:
                text = " ".join(rng.choice(en) if rng.random() < 0.3 else rng.choice(FILLER)
                                for _ in range(60)) + "."
            out.append((topic, text))
    rng.shuffle(out)
    return out
