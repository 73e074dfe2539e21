#!/usr/bin/env python3
"""An invented archive for benchmarks: STORIES stories of about WORDS words each, spread
over the demo edition's sections, in the import format of `newsdesk import` (JSON with
`authors` and `items`, see crates/services/src/import.rs). Every word comes from the lists
below, written for this script; sentences are assembled from them by a seeded generator,
so the same arguments always give the same file. Standard library only.

    archive.py OUT.json URLS.txt [STORIES] [WORDS] [SEED] [PER_FILE]

Writes the archive to OUT.json and each story's address (`/section/slug`, the default
language's form) to URLS.txt, one a line, newest first, for wrk to walk. With PER_FILE, the
stories go PER_FILE to a file, OUT-001.json, OUT-002.json, … (the authors in each), since
`newsdesk import` reads files of at most 64 MiB; stories are made one file at a time, so a
100,000-story archive never sits in memory whole."""

import json
import random
import sys
from datetime import datetime, timedelta, timezone

SECTIONS = ["world", "politics", "business", "science", "sport"]

PLACES = [
    "Port Halden", "Almaro", "Velmira", "North Kessa", "Dunmere", "Ostrava Bay", "Calder Ridge",
    "Sarnoth", "Lindqvist Island", "the Teral Valley", "Brennick", "Fairholm", "Meriden Coast",
    "Ravensby", "the Oskan Plateau", "Tolvey", "Greywater", "Solvang Heights",
]
PEOPLE = [
    "Elif Ranta", "Oskar Vell", "Mira Dashti", "Tomas Iber", "Leyla Aros", "Jonah Pell",
    "Sana Korvi", "Hugo Melnik", "Ada Strand", "Ravi Okonjo", "Nadia Ferro", "Pavel Lund",
    "Inga Sorel", "Karim Vasko", "Greta Holm", "Dario Mesk",
]
ROLES = [
    "the finance minister", "a harbour engineer", "the council's deputy leader",
    "a senior economist", "the team's head coach", "a marine biologist", "the mayor",
    "an opposition spokesperson", "the agency's director", "a union representative",
    "a researcher at the national institute", "the club's captain", "a local shopkeeper",
]
BODIES = {
    "world": ["the regional assembly", "the coastal authority", "relief agencies",
              "the border commission", "neighbouring governments", "the river board"],
    "politics": ["the national assembly", "the cabinet", "the budget committee",
                 "three opposition parties", "the electoral board", "the ministry"],
    "business": ["the central bank", "the port operator", "exporters", "the shipping group",
                 "the retail federation", "small manufacturers"],
    "science": ["the observatory", "the research council", "the university team",
                "the climate institute", "the survey vessel's crew", "the laboratory"],
    "sport": ["the league", "the national federation", "the home side", "the visiting club",
              "the selectors", "the stadium's owners"],
}
SUBJECTS = {
    "world": ["flood barrier", "ferry service", "water supply", "bridge repair", "storm warning",
              "rail link", "harvest", "evacuation plan"],
    "politics": ["budget vote", "coalition talks", "election reform", "housing bill",
                 "transport plan", "tax proposal", "pension review", "inquiry"],
    "business": ["export figures", "interest rates", "shipyard order", "grain prices",
                 "wage agreement", "energy tariff", "merger", "quarterly results"],
    "science": ["telescope survey", "seabed mapping", "vaccine trial", "glacier study",
                "soil experiment", "satellite launch", "bird census", "battery research"],
    "sport": ["cup final", "transfer window", "marathon", "relay squad", "title race",
              "youth tournament", "stadium plan", "sailing regatta"],
}
VERBS = [
    "approved", "delayed", "questioned", "announced", "reviewed", "welcomed", "criticised",
    "extended", "postponed", "defended", "confirmed", "rejected", "outlined", "completed",
]
ADJECTIVES = [
    "unexpected", "lengthy", "careful", "modest", "ambitious", "disputed", "long-awaited",
    "cautious", "sweeping", "narrow", "overdue", "detailed", "early", "costly", "fragile",
]
NOUNS = [
    "plan", "report", "agreement", "timetable", "estimate", "proposal", "decision", "survey",
    "warning", "schedule", "forecast", "settlement", "assessment", "programme", "review",
]
CONNECTORS = [
    "after weeks of debate", "despite objections from residents", "ahead of the winter",
    "for the second time this year", "according to figures released on Monday",
    "in a statement shortly before midday", "following a late-night session",
    "while the weather remained unsettled", "as crowds gathered outside",
    "once the final figures were checked", "before the end of the month",
]
NUMBERS = ["two", "three", "four", "five", "seven", "nine", "twelve", "fifteen", "twenty"]
UNITS = ["million euros", "kilometres", "per cent", "households", "days", "tonnes", "seats"]
QUOTES = [
    "Nobody here needed to be told why this matters",
    "We will keep working until the job is done",
    "The numbers speak for themselves",
    "This is a good start, but only a start",
    "People deserve a clear answer and they will get one",
    "We planned for this and the plan held",
    "It has been a difficult season for everyone",
    "The evidence is stronger than we expected",
]
TAGS = {
    "world": ["floods", "infrastructure", "coast", "weather", "transport"],
    "politics": ["budget", "elections", "housing", "parliament", "taxes"],
    "business": ["trade", "energy", "shipping", "jobs", "markets"],
    "science": ["climate", "space", "oceans", "health", "research"],
    "sport": ["football", "athletics", "sailing", "tennis", "cycling"],
}
AUTHORS = [
    {"slug": "bench-reporter-%d" % n, "name": name, "bio": "A reporter for the benchmark archive."}
    for n, name in enumerate(["Ines Valtor", "Marek Odel", "Suri Takam", "Bo Lindahl",
                              "Aziz Remo", "Clara Wend"])
]


def sentence(rng, section):
    kind = rng.randrange(5)
    place = rng.choice(PLACES)
    body = rng.choice(BODIES[section])
    subject = rng.choice(SUBJECTS[section])
    if kind == 0:
        text = (f"{body.capitalize()} {rng.choice(VERBS)} the {rng.choice(ADJECTIVES)} "
                f"{subject} {rng.choice(NOUNS)} for {place} {rng.choice(CONNECTORS)}")
    elif kind == 1:
        text = (f"The {subject} in {place} will cost about {rng.choice(NUMBERS)} "
                f"{rng.choice(UNITS)}, and {body} {rng.choice(VERBS)} a "
                f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(CONNECTORS)}")
    elif kind == 2:
        text = (f"\u201c{rng.choice(QUOTES)},\u201d said {rng.choice(PEOPLE)}, "
                f"{rng.choice(ROLES)}, who {rng.choice(VERBS)} the {rng.choice(NOUNS)} "
                f"{rng.choice(CONNECTORS)}")
    elif kind == 3:
        text = (f"Residents of {place} said the {rng.choice(ADJECTIVES)} {subject} had been "
                f"{rng.choice(VERBS)} {rng.choice(CONNECTORS)}, and that {body} owed them a "
                f"{rng.choice(NOUNS)}")
    else:
        text = (f"{rng.choice(PEOPLE)}, {rng.choice(ROLES)}, {rng.choice(VERBS)} the "
                f"{rng.choice(NOUNS)} on the {subject}, saying {rng.choice(NUMBERS)} "
                f"{rng.choice(UNITS)} were at stake in {place}")
    return text + "."


def story(rng, n, words, now):
    section = SECTIONS[n % len(SECTIONS)]
    subject = rng.choice(SUBJECTS[section])
    place = rng.choice(PLACES)
    headline = (f"{place}: {rng.choice(ADJECTIVES)} {subject} {rng.choice(NOUNS)} "
                f"{rng.choice(VERBS)}")
    headline = headline[0].upper() + headline[1:]
    paragraphs, count = [], 0
    while count < words:
        para = " ".join(sentence(rng, section) for _ in range(rng.randint(2, 4)))
        paragraphs.append(para)
        count += len(para.split())
    published = now - timedelta(minutes=30 + n * 97)
    return {
        "kind": "story",
        "language": "en",
        "section": section,
        # The number keeps every slug distinct however the words fall.
        "slug": f"bench-{n:05d}-{subject.replace(' ', '-')}-{section}",
        "headline": headline,
        "standfirst": sentence(rng, section),
        "body": "\n\n".join(paragraphs),
        "tags": rng.sample(TAGS[section], 2),
        "authors": [rng.choice(AUTHORS)["slug"]],
        "status": "published",
        "published_at": published.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, urls = sys.argv[1], sys.argv[2]
    stories = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    words = int(sys.argv[4]) if len(sys.argv) > 4 else 600
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else 16)
    per_file = int(sys.argv[6]) if len(sys.argv) > 6 else stories
    now = datetime.now(timezone.utc).replace(microsecond=0)
    total = 0
    with open(urls, "w", encoding="utf-8") as addresses:
        for first in range(0, stories, per_file):
            items = [story(rng, n, words, now) for n in range(first, min(first + per_file, stories))]
            name = out if per_file >= stories else out.replace(".json", "-%03d.json" % (first // per_file + 1))
            with open(name, "w", encoding="utf-8") as f:
                json.dump({"authors": AUTHORS, "items": items}, f, ensure_ascii=False)
            for item in items:
                addresses.write(f"/{item['section']}/{item['slug']}\n")
            total += sum(len(i["body"].split()) for i in items)
    print(f"{stories} stories, {total // stories} words each on average", file=sys.stderr)


if __name__ == "__main__":
    main()
