"""What each aspect slot sounds like: prototype phrasings the extractive backend compares review
sentences against. Several phrasings per slot (positive, negative, varied wording), so a sentence is
matched on meaning rather than on one template. Domains add their own phrasings to the generic ones."""

from __future__ import annotations

GENERIC: dict[str, list[str]] = {
    "category_preference": [
        "I love this kind of product and this style",
        "I am a big fan of this genre and of this artist",
        "this is exactly the type and brand I always buy",
        "right up my alley, my favorite kind of thing",
        "I prefer this style over the other ones",
        "not my kind of thing, I usually like something different",
    ],
    "purchase_purpose": [
        "I bought this as a gift for my husband",
        "I needed it to replace my old broken one",
        "I purchased this for a specific project",
        "I got it for my son who is just starting out as a beginner",
        "I ordered it because I wanted to upgrade",
        "the reason I bought it was to save money",
    ],
    "quality_criteria": [
        "the quality is excellent and it is very well made",
        "it broke quickly, poor quality and cheaply made",
        "great value for the money, worth the price",
        "the sound is clear and the performance is great",
        "it works exactly as described and is reliable",
        "disappointing, it does not hold up and feels flimsy",
    ],
    "usage_context": [
        "I use it every day at home",
        "I take it with me when I travel",
        "we use it at work and in the studio",
        "perfect for playing live on stage with my band",
        "I listen to it in the car while driving",
        "good for relaxing in the evening or at parties",
    ],
}

# Remarks that say nothing about why the reviewer wanted the item (shipping, packaging, the seller, small
# talk). A sentence nearest one of these is evidence for no slot: it stays out of the aspect tuple, as an
# LLM extractor would leave it out.
NO_EVIDENCE: list[str] = [
    "Delivery was fast and it arrived on time.",
    "The packaging was fine.",
    "Would buy from this seller again.",
    "Customer service answered my email quickly.",
    "I have had it for a few weeks now.",
    "Five stars, no complaints.",
    "My friend has the same one.",
    "It looks nicer in person than in the photos.",
]

DOMAIN_EXTRAS: dict[str, dict[str, list[str]]] = {
    "books": {
        "category_preference": ["I love mystery novels and thrillers", "a fan of this author's series"],
        "purchase_purpose": ["I bought it for my book club", "needed it for a class I am taking"],
        "quality_criteria": ["the writing and the characters are well developed", "the plot was slow and predictable"],
        "usage_context": ["I read it on vacation at the beach", "a good book to read before bed"],
    },
    "restaurants": {
        "category_preference": ["I love authentic Italian food", "a big fan of spicy Thai dishes"],
        "purchase_purpose": ["we came here for a birthday dinner", "stopped by for a quick bite"],
        "quality_criteria": ["the food was fresh and the service friendly", "overpriced and the staff was rude"],
        "usage_context": ["great spot for lunch with coworkers", "a nice place for a date night"],
    },
}

PERSONA_NOUNS = {"generic": "buyers", "books": "readers", "restaurants": "diners"}


def slot_prototypes(domain: str = "generic") -> dict[str, list[str]]:
    out = {slot: list(phrases) for slot, phrases in GENERIC.items()}
    for slot, phrases in DOMAIN_EXTRAS.get(domain, {}).items():
        out[slot].extend(phrases)
    return out
