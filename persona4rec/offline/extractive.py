"""The extractive backend: summaries, aspects, personas and alignment without an LLM.

Deterministic and review-grounded; every text it writes is either item metadata or a quoted review phrase.
- summarize: title and category, then the first sentences of the description (2-3 sentences in all); an
  item without metadata gets its reviews' most central sentences (nearest the mean of all of them).
- extract_aspects: each review sentence (title included) is embedded and assigned to the slot whose
  prototype phrasings (offline/slots.py) it is nearest, if that similarity passes `slot_threshold`; each
  slot keeps its best sentence, the reason quotes it. Slots without a sentence stay null.
- generate_personas: each review of the pool is the mean embedding of its slot values; the reviews are
  clustered (k in [2, max] chosen by silhouette; 1 for a single review or in single mode); each cluster is
  a persona whose name comes from its distinctive terms (class-based TF-IDF against the item's other
  clusters; stop words, generic review words and the title's words left out; the candidates ordered by
  closeness in meaning to the cluster's centroid) and whose description and rationale quote its most
  central phrases. `evidence` maps each persona id to its reviews' keys. Personas are ordered by cluster
  size (P1 is the largest).
- align: the persona nearest the user's profile embedding (decay-weighted mean, weight gamma^(l-1) for the
  l-th most recent entry, each entry = summary + aspect values); the justification quotes the closest pair
  of a past phrase and a persona phrase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..embedding import decayed_sum
from ..llm.usage import Usage
from .backend import AlignmentRequest, ItemInput, PersonaRequest, ReviewInput, UnitResult
from .persona_text import persona_text
from .schema import ASPECT_SLOTS, AspectTuple, ItemSummary, Persona, PersonaSelection, PersonaSet, ProfileEntry
from .slots import NO_EVIDENCE, PERSONA_NOUNS, slot_prototypes
from .text import clean, quote, quoted_phrases, sentences, trim

NO_SLOT = "no_evidence"
NAME_CANDIDATES = 6  # distinctive terms per cluster, reordered by closeness to its centroid for the name
SLOT_VALUE_WORDS = 30  # an aspect slot value is one review sentence, at most this long
SLOT_VERBS = {
    "category_preference": "like",
    "purchase_purpose": "buy it for",
    "quality_criteria": "judge it by",
    "usage_context": "use it",
}


class GroundedPersonaSet(PersonaSet):
    """A persona set that also says which reviews each persona was built from (persona id -> review keys)."""

    evidence: dict[str, list[str]] = {}


@dataclass
class ExtractiveConfig:
    slot_threshold: float = 0.20  # cosine below which a sentence is evidence for no slot
    silhouette_tolerance: float = 0.02  # take the fewest clusters whose silhouette is this close to the best
    max_sentences_per_review: int = 12
    cluster_sample: int = 300  # reviews used to choose and fit clusters on a very popular item
    decay: float = 0.9  # gamma of the user profile embedding
    summary_sentences: int = 3
    vector_cache_size: int = 200_000  # distinct texts kept embedded in memory (~1.5 KB each at 384-d)


@dataclass
class ExtractiveBackend:
    encoder: str | None = None
    domain: str = "generic"
    config: ExtractiveConfig = field(default_factory=ExtractiveConfig)
    batch_size: int = 32

    def __post_init__(self):
        from ..embedding import short_name

        self.name = f"extractive:{short_name(self.encoder)}"
        self._prototypes: tuple[list[str], np.ndarray] | None = None
        self._vectors: dict[str, np.ndarray] = {}

    # -- shared ------------------------------------------------------------------------------------
    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of `texts`, each distinct text encoded once per backend: review sentences recur as
        aspect values, persona phrases and profile entries across stages and batches. Exact (float64, see
        `embedding.encode`): a vector must not depend on which texts were encoded with it, or a record
        would depend on its batch, on the cache of the process that made it and on where a run resumed,
        and the Ray engine's workers would not write what the local engine writes."""
        from ..embedding import encode

        if not texts:
            return np.zeros((0, 1), dtype="float32")
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            if len(self._vectors) + len(missing) > self.config.vector_cache_size:
                self._vectors.clear()
            self._vectors.update(zip(missing, encode(missing, self.encoder, exact=True)))
        return np.stack([self._vectors[t] for t in texts])

    def estimate(self, task: str, inputs: Sequence) -> Usage:
        return Usage()  # no LLM: nothing to pay for

    # -- summaries ---------------------------------------------------------------------------------
    def summarize(self, items: Sequence[ItemInput]) -> list[UnitResult[ItemSummary]]:
        review_sentences = {
            it.item_id: [s for t in it.review_texts for s in sentences(clean(t), 4)] for it in items if it.review_texts
        }
        flat = [s for ss in review_sentences.values() for s in ss]
        vectors = self._encode(flat)
        results, offset = [], 0
        for item in items:
            pool = review_sentences.get(item.item_id, [])
            central = _most_central(pool, vectors[offset : offset + len(pool)], 2) if pool else []
            offset += len(pool)
            summary = self._summary_text(item, central)
            results.append(UnitResult(key=item.item_id, value=ItemSummary(summary=summary)))
        return results

    def _summary_text(self, item: ItemInput, central_review_sentences: list[str]) -> str:
        title = clean(item.title)
        categories = [c for c in dict.fromkeys(clean(c) for c in item.categories) if c]
        lead = title or f"Item {item.item_id}"
        if categories:
            lead += f" ({' > '.join(categories[-2:])})"
        parts = [lead.rstrip(".") + "."]
        description = sentences(clean(item.description), 3)
        if description:
            parts += [trim(s, 40) for s in description[: self.config.summary_sentences - 1]]
        elif central_review_sentences:
            parts.append("Reviewers describe it: " + "; ".join(quote(s, 25) for s in central_review_sentences) + ".")
        elif item.attributes:
            shown = [f"{k}: {clean(str(v))}" for k, v in sorted(item.attributes.items()) if clean(str(v))][:4]
            if shown:
                parts.append(trim("; ".join(shown), 40) + ".")
        return " ".join(parts)

    # -- aspects -----------------------------------------------------------------------------------
    def _slot_matrix(self) -> tuple[list[str], np.ndarray]:
        """Prototype embeddings and their labels: the four slots, then NO_SLOT for evidence-free remarks."""
        if self._prototypes is None:
            protos = slot_prototypes(self.domain)
            labels = [slot for slot in ASPECT_SLOTS for _ in protos[slot]] + [NO_SLOT] * len(NO_EVIDENCE)
            texts = [p for slot in ASPECT_SLOTS for p in protos[slot]] + NO_EVIDENCE
            self._prototypes = (labels, self._encode(texts))
        return self._prototypes

    def extract_aspects(self, reviews: Sequence[ReviewInput]) -> list[UnitResult[AspectTuple]]:
        per_review = [self._review_sentences(r) for r in reviews]
        flat = [s for ss in per_review for s in ss]
        labels, protos = self._slot_matrix()
        classes = (*ASPECT_SLOTS, NO_SLOT)
        per_class = np.zeros((len(flat), len(classes)))
        if flat:
            scores = self._encode(flat) @ protos.T
            for k, name in enumerate(classes):
                per_class[:, k] = scores[:, [j for j, label in enumerate(labels) if label == name]].max(axis=1)
        results, offset = [], 0
        for review, sents in zip(reviews, per_review):
            block = per_class[offset : offset + len(sents)]
            offset += len(sents)
            results.append(UnitResult(key=review.key, value=self._assign(sents, block)))
        return results

    def _review_sentences(self, review: ReviewInput) -> list[str]:
        found = sentences(clean(review.title), 3) + sentences(clean(review.text), 3)
        # Trimmed before embedding: the stored slot value is exactly the text embedded here, so later stages
        # find its vector in the cache, and very long sentences cost no more than 30 words.
        return [trim(s, SLOT_VALUE_WORDS) for s in dict.fromkeys(found)][: self.config.max_sentences_per_review]

    def _assign(self, sents: list[str], block: np.ndarray) -> AspectTuple:
        """Each sentence goes to its nearest slot (if near enough); each slot keeps its best sentence."""
        best: dict[str, tuple[float, str]] = {}
        for sentence, row in zip(sents, block):
            k = int(np.argmax(row))
            if k == len(ASPECT_SLOTS):
                continue  # nearest an evidence-free remark (shipping, packaging, ...)
            score = float(row[k])
            slot = ASPECT_SLOTS[k]
            if score >= self.config.slot_threshold and score > best.get(slot, (-1.0, ""))[0]:
                best[slot] = (score, sentence)
        fields: dict[str, str] = {}
        for slot, (score, sentence) in best.items():
            fields[slot] = sentence
            fields[f"{slot}_reason"] = (
                f"The review says {quote(sentence, 25)} (similarity {score:.2f} to {slot.replace('_', ' ')})."
            )
        return AspectTuple(**fields)

    # -- personas ----------------------------------------------------------------------------------
    def generate_personas(self, requests: Sequence[PersonaRequest]) -> list[UnitResult[PersonaSet]]:
        phrases = [[getattr(a, s) for s in ASPECT_SLOTS if getattr(a, s)] for r in requests for a in r.aspects]
        flat = [p for ps in phrases for p in ps]
        vectors = self._encode(flat)
        results, offset, row = [], 0, 0
        for request in requests:
            review_phrases = phrases[row : row + len(request.aspects)]
            row += len(request.aspects)
            n_flat = sum(len(ps) for ps in review_phrases)
            results.append(
                UnitResult(
                    key=request.item_id,
                    value=self._personas_for(request, review_phrases, vectors[offset : offset + n_flat]),
                )
            )
            offset += n_flat
        return results

    def _personas_for(
        self, request: PersonaRequest, review_phrases: list[list[str]], phrase_vectors: np.ndarray
    ) -> GroundedPersonaSet:
        bounds = np.cumsum([0] + [len(ps) for ps in review_phrases])
        review_vectors = _normalise(
            np.stack([phrase_vectors[a:b].mean(axis=0) for a, b in zip(bounds[:-1], bounds[1:])])
        )
        max_k = 1 if request.single else request.max_personas
        labels = cluster_reviews(review_vectors, max_k, self.config.cluster_sample, self.config.silhouette_tolerance)
        clusters = sorted(set(labels), key=lambda c: (-int((labels == c).sum()), int(np.flatnonzero(labels == c)[0])))
        cluster_docs = [" ".join(p for i in np.flatnonzero(labels == c) for p in review_phrases[i]) for c in clusters]
        terms = distinctive_terms(cluster_docs, stop_extra=request.item_title, top=NAME_CANDIDATES)
        self._encode([t for ts in terms for t in ts])  # one call for the item's new words; _compose then hits
        personas, evidence = [], {}
        for rank, c in enumerate(clusters, start=1):
            members = np.flatnonzero(labels == c)
            pid = f"P{rank}"
            personas.append(
                self._compose(
                    pid, request, members, review_phrases, phrase_vectors, bounds, review_vectors, terms[rank - 1]
                )
            )
            evidence[pid] = [request.reviews[i].key for i in members]
        return GroundedPersonaSet(personas=_distinct_names(personas), evidence=evidence)

    def _compose(
        self,
        pid: str,
        request: PersonaRequest,
        members: np.ndarray,
        review_phrases,
        phrase_vectors,
        bounds,
        review_vectors,
        terms: list[str],
    ) -> Persona:
        centroid = _normalise(review_vectors[members].mean(axis=0, keepdims=True))[0]
        terms = self._central_terms(terms, centroid)
        order = members[np.argsort(-(review_vectors[members] @ centroid), kind="stable")]
        ratings = [request.reviews[i].rating for i in members if request.reviews[i].rating is not None]
        mean_rating = float(np.mean(ratings)) if ratings else None
        noun = PERSONA_NOUNS.get(self.domain, "buyers")
        critical = mean_rating is not None and mean_rating <= 2.5
        name = persona_name(terms, noun, critical)
        slot_quotes = []
        for slot in ASPECT_SLOTS:
            value = next((getattr(request.aspects[i], slot) for i in order if getattr(request.aspects[i], slot)), None)
            if value:
                slot_quotes.append(f"{SLOT_VERBS[slot]} {quote(value, 15)}")
        share = f"{len(members)} of {len(request.reviews)} reviewer{'s' if len(request.reviews) != 1 else ''}"
        rating = f", rating it {mean_rating:.1f}/5 on average" if mean_rating is not None else ""
        description = f"{share}{rating}. They " + "; ".join(slot_quotes) + "."
        central = []
        for i in order[:3]:
            vecs = phrase_vectors[bounds[i] : bounds[i + 1]]
            central.append(review_phrases[i][int(np.argmax(vecs @ centroid))])
        rationale = (
            "Their reviews say "
            + ", ".join(quote(p, 20) for p in dict.fromkeys(central))
            + (f"; distinctive words: {', '.join(terms[:4])}." if terms else ".")
        )
        return Persona(id=pid, name=name, description=description, preference_rationale=rationale)

    def _central_terms(self, terms: list[str], centroid: np.ndarray, top: int = 4) -> list[str]:
        """The distinctive terms nearest in meaning to what the cluster's reviews say: a filler sentence
        many reviews share ("the price seemed fair") is frequent, but its words lie far from the centroid."""
        if len(terms) < 2:
            return terms
        sims = _normalise(self._encode(terms)) @ centroid
        return [terms[j] for j in np.argsort(-sims, kind="stable")[:top]]

    # -- alignment ---------------------------------------------------------------------------------
    def align(self, requests: Sequence[AlignmentRequest]) -> list[UnitResult[PersonaSelection]]:
        # The text the persona index embeds by default, so alignment compares what serving compares.
        persona_texts = [[persona_text(p) for p in r.personas] for r in requests]
        entry_phrases = [[ph for e in r.profile for ph in _entry_phrases(e)] for r in requests]
        persona_phrases = [
            [
                ph
                for p in r.personas
                for ph in (quoted_phrases(p.description + " " + p.preference_rationale) or [p.description])
            ]
            for r in requests
        ]
        summaries = [e.summary for r in requests for e in r.profile]
        values = [v for r in requests for e in r.profile for v in _aspect_values(e)]
        # One encode call for the whole batch; every lookup below is then a cache hit.
        self._encode(
            [t for group in (persona_texts, entry_phrases, persona_phrases) for ts in group for t in ts]
            + summaries
            + values
        )
        results = []
        for k, request in enumerate(requests):
            selection = self._select(
                request,
                self._entry_vectors(request.profile),
                self._encode(persona_texts[k]),
                self._encode(entry_phrases[k]),
                self._encode(persona_phrases[k]),
                entry_phrases[k],
                persona_phrases[k],
            )
            results.append(UnitResult(key=request.key, value=selection))
        return results

    def _entry_vectors(self, profile: Sequence[ProfileEntry]) -> np.ndarray:
        """One vector per history entry standing for concat(summary, aspects): the normalised sum of the
        summary's embedding and the mean embedding of the aspect values (both already cached)."""
        if not profile:
            return np.zeros((0, 1), dtype="float32")
        rows = []
        for entry in profile:
            vector = self._encode([entry.summary])[0].astype("float64")
            values = _aspect_values(entry)
            if values:
                vector = vector + self._encode(values).mean(axis=0)
            rows.append(vector)
        return _normalise(np.asarray(rows))

    def _select(
        self,
        request: AlignmentRequest,
        entry_vecs,
        persona_vecs,
        entry_phrase_vecs,
        persona_phrase_vecs,
        entry_phrases,
        persona_phrases,
    ) -> PersonaSelection:
        if not request.profile:
            first = request.personas[0]
            return PersonaSelection(
                persona_id=first.id,
                justification=(
                    f"The user has no earlier training history to compare with, so the item's most common persona, "
                    f"{first.id} ({first.name}), is taken."
                ),
            )
        user = profile_embedding(entry_vecs, self.config.decay)
        sims = persona_vecs @ user
        order = np.argsort(-sims, kind="stable")
        chosen = request.personas[int(order[0])]
        runner_up = f", next best {sims[order[1]]:.2f}" if len(order) > 1 else ""
        text = (
            f"{chosen.id} ({chosen.name}) is the persona nearest to the user's recent history "
            f"(similarity {sims[order[0]]:.2f}{runner_up})."
        )
        own = [j for j, ph in enumerate(persona_phrases) if _phrase_of(ph, chosen)]
        if own and len(entry_phrases):
            pair = entry_phrase_vecs @ persona_phrase_vecs[own].T
            a, b = np.unravel_index(int(np.argmax(pair)), pair.shape)
            text += (
                f" Earlier the user wrote or bought {quote(entry_phrases[a], 15)}, closest to this persona's "
                f"{quote(persona_phrases[own[b]], 15)}."
            )
        return PersonaSelection(persona_id=chosen.id, justification=text)


# -- helpers -----------------------------------------------------------------------------------------


def _normalise(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return (m / np.where(norms == 0, 1, norms)).astype("float32")


def _most_central(texts: list[str], vectors: np.ndarray, n: int) -> list[str]:
    centroid = _normalise(vectors.mean(axis=0, keepdims=True))[0]
    order = np.argsort(-(vectors @ centroid), kind="stable")
    return [texts[i] for i in order[:n]]


def _distinct_names(personas: list[Persona]) -> list[Persona]:
    """Two groups of one item may share a name (two clusters of generic "does the job" reviews are both
    "General Buyers"): a later one gets its id appended, so a reader can tell them apart."""
    seen: set[str] = set()
    out = []
    for persona in personas:
        if persona.name in seen:
            persona = persona.model_copy(update={"name": f"{persona.name} ({persona.id})"})
        seen.add(persona.name)
        out.append(persona)
    return out


def _aspect_values(entry: ProfileEntry) -> list[str]:
    if entry.aspects is None:
        return []
    return [getattr(entry.aspects, s) for s in ASPECT_SLOTS if getattr(entry.aspects, s)]


def _entry_phrases(entry: ProfileEntry) -> list[str]:
    return _aspect_values(entry) or [trim(entry.summary, 20)]


def _phrase_of(phrase: str, persona: Persona) -> bool:
    return phrase in persona.description or phrase in persona.preference_rationale


def profile_embedding(entry_vectors: np.ndarray, decay: float) -> np.ndarray:
    """Decay-weighted mean of a history (oldest first): weight decay^(l-1) for the l-th most recent."""
    return _normalise(decayed_sum(entry_vectors, decay)[None, :])[0]


def cluster_reviews(vectors: np.ndarray, max_k: int, sample: int = 300, tolerance: float = 0.0) -> np.ndarray:
    """Cluster labels for the item's reviews: 1 cluster for one review or max_k=1; else k in [2, max_k]
    (at most n-1, so silhouette is defined; 2 reviews give 2 clusters): the smallest k whose cosine
    silhouette is within `tolerance` of the best (fewer personas when reviews mostly agree).
    A very popular item is clustered on an evenly spaced sample, the rest joins the nearest centroid."""
    n = len(vectors)
    if n == 1 or max_k == 1:
        return np.zeros(n, dtype=int)
    if n == 2:
        return np.arange(2)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):  # tiny problems: OpenMP threads only contend on a busy machine
        return _cluster(vectors, max_k, sample, tolerance)


def _cluster(vectors: np.ndarray, max_k: int, sample: int, tolerance: float) -> np.ndarray:
    import warnings

    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import silhouette_score

    n = len(vectors)
    fit_idx = np.linspace(0, n - 1, num=min(n, sample)).round().astype(int)
    fit = vectors[fit_idx]
    candidates = []  # (k, silhouette, labels, centres)
    for k in range(2, min(max_k, len(fit) - 1) + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # duplicates: fewer distinct clusters, handled below
            model = KMeans(n_clusters=k, n_init=4, random_state=0).fit(fit)
        if len(set(model.labels_)) < k:
            break  # duplicate points: no more distinct clusters to find
        candidates.append(
            (k, silhouette_score(fit, model.labels_, metric="cosine"), model.labels_, model.cluster_centers_)
        )
    if not candidates:
        return np.zeros(n, dtype=int)
    best = max(score for _, score, _, _ in candidates)
    _, _, labels, centres = next(c for c in candidates if c[1] >= best - tolerance - 1e-9)
    if len(fit) == n:
        return np.asarray(labels)
    return np.argmax(vectors @ _normalise(centres).T, axis=1)


_TOKEN = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z'’-]{2,}\b")
_POSSESSIVE = re.compile(r"['’]s$")

# Words any review uses whatever its reviewer cares about: generic verbs, verdicts, fillers and the words
# of shopping itself. A persona named after them ("Does & Job", "Described & Works") says nothing of what
# its group wants, so names and distinctive words skip them (with the stop words and the item's title).
GENERIC_REVIEW_WORDS = frozenset(
    """
    able actually advertised allow allowing also anymore appear appears arrive arrived ask asked bad best
    better bit bought buy buying buys came come comes coming compare compared comparing completely decent
    definitely describe described did disappointed does doing don done easily enjoy enjoyed especially
    exactly excellent expect expectations expected far fine gave getting give gives glad goes going gone
    good got great guess happy highly hope issue issues item items job just kind know like liked lot lots
    love loved lovely make makes making month months need needed needs new nice okay option options order
    ordered overall perfect perfectly pleased pretty problem problems product products purchase purchased
    quite real really received recommend recommended return returned review reviews right said satisfied
    say says seem seemed seems sure special star stars stuff thing things think thought time times tried
    try trying use used uses using want wanted wants way week weeks went work worked working works worse
    worst worth wow year years
    """.split()
)


def _base_form(word: str, vocabulary: frozenset[str] | set[str]) -> str:
    """One key for a word's plural and singular ("cables" -> "cable" when "cable" is also seen), so the
    two are counted as one term and a title's "Guitar" also stops "guitars"."""
    if word.endswith("ies") and word[:-3] + "y" in vocabulary:
        return word[:-3] + "y"
    if word.endswith("es") and word[:-2].endswith(("s", "x", "z", "ch", "sh")) and word[:-2] in vocabulary:
        return word[:-2]  # boxes, glasses, switches (but notes -> note, not "not")
    if word.endswith("s") and not word.endswith("ss") and word[:-1] in vocabulary:
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    """Lower-case words of at least three letters, possessives cut ("Enya's" -> "enya"), contractions
    ("doesn't", "I've") dropped: they are verbs and pronouns, never what a group cares about."""
    out = []
    for token in _TOKEN.findall(text.lower()):
        token = _POSSESSIVE.sub("", token)
        if "'" not in token and "’" not in token and len(token) > 2:
            out.append(token)
    return out


def uninformative_words(title: str = "") -> set[str]:
    """Stop words, generic review words and the item's own title words: never a persona's name."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return set(ENGLISH_STOP_WORDS) | GENERIC_REVIEW_WORDS | set(_words(title))


def distinctive_terms(docs: list[str], stop_extra: str = "", top: int = 4) -> list[list[str]]:
    """Class-based TF-IDF: for each cluster document, the terms frequent in it and rare in the other
    clusters (weight tf * log(1 + mean words per cluster / term frequency over all clusters)).

    Uninformative words (`uninformative_words`, with `stop_extra` the item's title) are left out, and a
    word's plural and singular count as one term, shown in its more frequent form."""
    words = [_words(doc) for doc in docs]
    vocabulary = {w for ws in words for w in ws}
    stop = uninformative_words(stop_extra)
    known = vocabulary | stop
    stop |= {_base_form(w, known) for w in stop}  # the singular of a stopped plural: "Strings" stops "string"
    counts: dict[str, np.ndarray] = {}
    forms: dict[str, dict[str, int]] = {}
    for k, doc_words in enumerate(words):
        for word in doc_words:
            base = _base_form(word, known)
            if word in stop or base in stop:
                continue  # also the plural of a stopped word: a title's "Guitar" stops "guitars"
            counts.setdefault(base, np.zeros(len(docs)))[k] += 1
            forms.setdefault(base, {}).setdefault(word, 0)
            forms[base][word] += 1
    if not counts:  # nothing but uninformative words
        return [[] for _ in docs]
    bases = sorted(counts)
    # the form shown: the more frequent one, then the shorter (the singular on a tie)
    shown = [min(forms[b], key=lambda w: (-forms[b][w], len(w), w)) for b in bases]
    matrix = np.stack([counts[b] for b in bases], axis=1)
    tf = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    avg_words = matrix.sum() / max(len(docs), 1)
    weights = tf * np.log1p(avg_words / np.maximum(matrix.sum(axis=0), 1))
    out = []
    for row, raw in zip(weights, matrix):
        order = sorted(range(len(bases)), key=lambda j: (-row[j], shown[j]))
        out.append([shown[j] for j in order[:top] if raw[j] > 0])
    return out


def _capitalised(term: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in term.split("-"))


def persona_name(terms: Sequence[str], noun: str = "buyers", critical: bool = False) -> str:
    """A persona's name from its cluster's two most distinctive terms ("Noise & Commute Buyers"); "General
    Buyers" when the cluster has none; "Critical ..." for a group whose mean rating is 2.5 or less."""
    head = " & ".join(_capitalised(t) for t in terms[:2]) or "General"
    return f"{'Critical ' if critical else ''}{head} {_capitalised(noun)}"
