"""Tone and urgency: a social-media-aware sentiment score (VADER) and cues that something is on fire.

VADER was built for tweets (emoji, capitals, "!!!", slang, negation), so it
reads our shortest messages best.  It knows English only; for other
languages the classifier's character n-grams carry the tone, and the urgency
cues below are multilingual on purpose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

URGENCY_CUES = re.compile(
    r"\b(?:outage|is down|are down|went down|not working at all|no (?:service|signal|internet|connection)|"
    r"charged (?:me )?(?:twice|double|two times)|double[- ]charged|overcharged|refund|fraud|stolen|scam|"
    r"can'?t (?:log ?in|sign ?in|access)|cannot (?:log ?in|sign ?in|access)|locked out|lost (?:all )?my|"
    r"urgent|asap|immediately|right now|emergency|cancel(?:ling|led)?|lawyer|legal action|"
    r"panne|en panne|remboursement|annuler|urgence|débité deux fois|"
    r"ausfall|störung|geht nicht|kündigen|dringend|zweimal abgebucht|erstattung|"
    r"caído|no funciona|reembolso|cancelar|urgente|cobrado dos veces|"
    r"guasto|rimborso|disdire|storing|terugbetaling|opzeggen|reembolso)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Signals:
    sentiment: float  # VADER compound, -1 (angry) .. 1 (delighted)
    positive: float
    negative: float
    urgency: int  # how many urgency cues the text holds


@cache
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


@lru_cache(maxsize=8192)
def signals(text: str) -> Signals:
    # Cached: triage reads a message's tone for the rules and the classifier reads it again as features.
    scores = _analyzer().polarity_scores(text or "")
    return Signals(sentiment=float(scores["compound"]), positive=float(scores["pos"]),
                   negative=float(scores["neg"]), urgency=len(URGENCY_CUES.findall(text or "")))
