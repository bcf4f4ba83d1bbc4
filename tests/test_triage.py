"""Safety triage as a person would notice it: danger signs raise the level, in any wording."""

from __future__ import annotations

import pytest

from bot.core.engine import Engine, Profile

EMERGENCY = [
    # seizure, first and third person, misspelt, lay words, buried in a story
    "I think I'm having a seizure right now",
    "my son is having a fit and wont stop shaking",
    "help my dad is siezing on the floor",
    "We were at my sister's house for lunch and everything was normal, then my husband "
    "suddenly went stiff and started convulsing on the kitchen floor, he has a baclofen "
    "pump, what do I do",
    # cannot be woken
    "I cant wake him up, he took his baclofen an hour ago",
    "she's out cold and not responding",
    # breathing
    "my breathing is really slow and shallow since I took my tablets",
    "his lips are going blue",
    "she can't breath properly",
    # high fever with stiffness or confusion
    "he is burning up and stiff as a board",
    "temp of 40 and her muscles are rigid, pump refill was missed",
    # hallucinations, delirium
    "mum is seeing things that are not there and talking nonsense",
    "i keep hearing voices since i stopped my baclofen",
    # overdose
    "my toddler got into the bottle and swallowed some tablets",
    "I took a whole bottle of baclofen on purpose",
    # self-harm
    "i want to kill myself",
    "my daughter says she wants to hurt herself",
    # chest pain, swelling, collapse, urine, newborn, post-surgery
    "crushing chest pain on baclofen",
    "his face and lips are swelling up after the first tablet",
    "she collapsed and isn't waking properly",
    "my pee is dark like cola and my muscles are really painful",
    "fever and a stiff neck 5 days after his pump surgery",
    "our 4 day old baby keeps jerking and twitching, I took baclofen in pregnancy",
    # everyday phone wording found by trying it out
    "he's fitting",
    "sezier right now",
    "dad isn't breathing properly",
    "can't catch my breath after my dose",
    "she looks blue",
    "i keep passing out",
    "my daughter drank the baclofen liquid",
    "I've taken a load of baclofen, feel weird",
    "peeing dark brown and my legs are really painful",
    "I don't want to live anymore",
    "please help my husband is making gurgling noises and his breathing sounds wrong",
    "i took like 15 of my baclofen tablets an hour ago",
    "my toddler took my tablets",
]

URGENT = [
    "the pump alarm is going off",
    "my son's pump keeps beeping",
    "we missed the pump refill appointment yesterday",
    "itching all over but no rash, I have a baclofen pump",
    "his legs are getting stiffer since the refill was late",
    "I ran out of baclofen two days ago",
    "I stopped taking my baclofen suddenly on monday",
    "the skin over the pump is red and leaking fluid",
    "headache when I sit up that goes away when I lie down, pump put in last week",
    "I fell on my pump this morning",
    "she's very sleepy and dizzy since the dose went up",
    "my husband on dialysis is confused since starting baclofen",
    "since we started lowering the dose he is anxious and shaky",
    "theres a noise coming from her stomach where the pump is",
    "i've been out of baclofen since saturday",
    "i forgot to pack my baclofen and im away till sunday",
    "pharmacy had no stock so i havent taken any for 2 days",
    "goosebumps and tingling all over and i'm on the pump",
]

ROUTINE = [
    "no fever, no seizures, just asking",
    "what are the signs of an overdose?",
    "what are the signs of baclofen withdrawal",
    "what happens if someone takes too much baclofen",
    "can baclofen cause seizures?",
    "I had a seizure 20 years ago, is baclofen ok for me",
    "if he ever has a fit what should i do",
    "what does it mean when the pump beeps",
    "he isn't itchy or stiff, I just want to know what to watch for",
    "is baclofen safe to take with alcohol",
    "how often do pump refills happen",
    "forgot my baclofen this morning, what is the usual advice",
    "what's the difference between the two pump alarms",
    "can I go in a sauna with my pump",
    "he has taken 30mg of baclofen a day for years",
    "my son took his tablets with juice",
    "my daughter has seizures controlled with keppra, can she have baclofen",
    "my son's pump refill is tomorrow, what do I bring",
]


@pytest.mark.parametrize("text", EMERGENCY)
def test_emergency_signs_are_emergencies(engine: Engine, text: str) -> None:
    assert engine.classify(text).safety.value == "emergency"


@pytest.mark.parametrize("text", URGENT)
def test_urgent_signs_are_at_least_urgent(engine: Engine, text: str) -> None:
    assert engine.classify(text).safety.value in ("urgent", "emergency")


@pytest.mark.parametrize("text", ROUTINE)
def test_general_negated_and_past_mentions_stay_routine(engine: Engine, text: str) -> None:
    assert engine.classify(text).safety.value == "routine"


def test_hypothetical_danger_adds_a_line_without_raising_the_level(engine: Engine) -> None:
    decision = engine.classify("what should I do if she has a seizure")
    assert decision.safety.value == "routine"
    assert decision.maybe_now


def test_the_profile_counts_like_the_message_does(engine: Engine) -> None:
    text = "itchy all over, no rash"
    assert engine.classify(text).safety.value == "routine"
    assert engine.classify(text, Profile(route="pump")).safety.value == "urgent"
    assert engine.classify(text, Profile(route="oral")).safety.value == "routine"


def test_recent_seizure_is_an_emergency_but_a_distant_one_is_not(engine: Engine) -> None:
    assert engine.classify("he had a seizure 10 minutes ago").safety.value == "emergency"
    assert engine.classify("he had a seizure 10 years ago").safety.value == "routine"


def test_emergency_answer_follows_the_situation(engine: Engine) -> None:
    assert engine.classify("my mum took a whole week of tablets and is drowsy").intent == "overdose"
    stopped = engine.classify("he stopped his baclofen and now he is hallucinating")
    assert (stopped.safety.value, stopped.intent) == ("emergency", "withdrawal")
