"""Author the hand-made results of the events evaluation set (run once; its output is committed).

    .venv/bin/python tests/data/events/author_results.py

Each item below is what a careful reader (or a capable model) would extract from the article:
speakers as written, the quote verbatim, a one-sentence summary in its own words. Evidence
offsets are found in the article text; an evidence quote that is not verbatim stops the run.
The results go to results/<article id>.json next to the authored reference results
(which `extractor extract --provider replay` produced for the other articles).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

HERE = Path(__file__).parent
META = {
    "provider": "hand-made",
    "model": "none",
    "prompt_version": "1",
    "fingerprint": "hand-made",
    "extracted_at": "2026-11-25T00:00:00Z",
    "warnings": [],
}


def person(name, country=None, canonical=None):
    return {"name": name, "canonical_name": canonical, "country": country, "kind": "person"}


def org(name, country=None, canonical=None, kind="organization"):
    return {"name": name, "canonical_name": canonical, "country": country, "kind": kind}


HAYAT = person("Imran Hayat", "PAK")
BLA = org("Baloch Liberation Army", "PAK", "Baloch Liberation Army")
RIND = person("Shahid Rind", "PAK")
SECURITY_SOURCES = org("security sources", "PAK", kind="military")
CHAUDHRY = person("Ahmed Sharif Chaudhry", "PAK")
BALKHI = person("Abdul Qahar Balkhi", "AFG")
BUGTI = person("Sarfraz Bugti", "PAK")
SHARIF = person("Shehbaz Sharif", "PAK")
CAVUSOGLU = person("Mevlut Cavusoglu", "TUR")
NISA = org(
    "National Intelligence and Security Agency", "SOM", "National Intelligence and Security Agency", "government"
)
PAKISTAN, AFGHANISTAN, INDIA = (
    org("Pakistan", "PAK", kind="state"),
    org("Afghanistan", "AFG", kind="state"),
    org("India", "IND", kind="state"),
)


def st(speaker, summary, stance, evidence, quote=None, date=None, targets=()):
    return dict(
        speaker=speaker,
        summary=summary,
        stance=stance,
        evidence=evidence,
        quote=quote,
        date=date,
        targets=list(targets),
    )


ARTICLES = {
    "voa-8006651": [
        st(
            HAYAT,
            "The Quetta railway superintendent said officials could not reach the scene of the attack.",
            "neutral",
            ['"So far, it\'s no foot on the ground," Imran Hayat'],
            quote="So far, it's no foot on the ground",
        ),
        st(
            HAYAT,
            "Hayat said the attackers stopped the train where there is no mobile signal.",
            "neutral",
            ["It's a no-signal area. They [attackers] stopped the train at a spot where there is no signal support"],
            quote="It's a no-signal area. They [attackers] stopped the train at a spot where there is no signal support",
        ),
        st(
            BLA,
            "The BLA claimed responsibility and said it had blown up tracks and taken more than 100 passengers hostage.",
            "threaten",
            [
                "In a statement to media, the banned separatist militant outfit said it had blown up tracks and taken more than 100 passengers hostage."
            ],
            date="2025-03-11",
        ),
        st(
            RIND,
            "Provincial spokesperson Shahid Rind said security forces, a rescue train and ambulances had been dispatched.",
            "neutral",
            [
                "Provincial spokesperson Shahid Rind earlier told media that security forces, a rescue train and ambulances had been dispatched."
            ],
        ),
        st(
            person("Muhammad Sharifullah", "PAK"),
            "A railway deputy controller said signals were down and the crew could not be reached.",
            "neutral",
            [
                "Mobile and wireless signals are not working and, unfortunately, we are not able to get in touch with the crew"
            ],
            quote="Mobile and wireless signals are not working and, unfortunately, we are not able to get in touch with the crew",
        ),
        st(
            SECURITY_SOURCES,
            "Security sources said the handlers of the attack are based in Afghanistan.",
            "criticize",
            ["Security sources have said the handlers of Tuesday's attack are based in Afghanistan."],
            targets=[AFGHANISTAN],
        ),
    ],
    "voa-8007760": [
        st(
            HAYAT,
            "Railway official Hayat said railway staff were unable to reach the scene.",
            "neutral",
            ['"So far, it\'s no foot on the ground," railway official Hayat told VOA'],
            quote="So far, it's no foot on the ground",
        ),
        st(
            HAYAT,
            "Hayat said the train was stopped at a spot with no signal.",
            "neutral",
            ["It's a no signal area. They [attackers] stopped the train at a spot where there is no signal support"],
            quote="It's a no signal area. They [attackers] stopped the train at a spot where there is no signal support",
        ),
        st(
            BLA,
            "The BLA claimed to be holding more than 200 hostages, whom it called security and intelligence personnel.",
            "threaten",
            [
                "In a statement to media, the banned separatist militant group claimed to be holding more than 200 hostages, which it said were security and intelligence personnel."
            ],
            date="2025-03-11",
        ),
        st(
            RIND,
            "Provincial spokesperson Shahid Rind told media that security forces, a rescue train and ambulances were dispatched.",
            "neutral",
            [
                "Provincial spokesperson Shahid Rind, earlier, told media that security forces, a rescue train and ambulances had been dispatched."
            ],
        ),
        st(
            BUGTI,
            "Balochistan's chief minister condemned the attack and vowed a forceful response.",
            "threaten",
            ["The attack on Jaffar Express is an attack on national security and will be responded to with full force"],
            quote="The attack on Jaffar Express is an attack on national security and will be responded to with full force",
        ),
        st(
            SHARIF,
            "Prime Minister Sharif said the terrorists have no link with Islam, Pakistan or Balochistan.",
            "criticize",
            ["terrorists have no link with Islam, Pakistan or Balochistan."],
            quote="terrorists have no link with Islam, Pakistan or Balochistan.",
        ),
        st(
            SECURITY_SOURCES,
            "Security sources said those involved in the attack are based in Afghanistan.",
            "criticize",
            ["Security sources have said those involved in Tuesday's attack are based in Afghanistan."],
            targets=[AFGHANISTAN],
        ),
    ],
    "voa-8009314": [
        st(
            CHAUDHRY,
            "The ISPR director general said all hostages were rescued.",
            "neutral",
            [
                "Lt. Gen. Ahmed Sharif Chaudhry, director general of military’s media wing, Inter Services Public Relations, said that all hostages were rescued."
            ],
            date="2025-03-12",
        ),
        st(
            CHAUDHRY,
            "Chaudhry said the operation was conducted with caution because the terrorists used passengers as human shields.",
            "neutral",
            [
                "Since terrorists were holding passengers as human shields, the operation was conducted with skill and caution"
            ],
            quote="Since terrorists were holding passengers as human shields, the operation was conducted with skill and caution",
            date="2025-03-12",
        ),
        st(
            CHAUDHRY,
            "Chaudhry warned that the attack changes the rules of the game and terrorists will not be spared.",
            "threaten",
            ["This incident of Jaffar Express changes the rules of the game"],
            quote="This incident of Jaffar Express changes the rules of the game",
            date="2025-03-12",
        ),
        st(
            person("Chaundry", "PAK"),
            "The military spokesperson claimed the attackers were in touch with planners in Afghanistan.",
            "criticize",
            ["Military spokesperson Chaundry claimed Tuesday's attacker were in touch with planners in Afghanistan."],
            targets=[AFGHANISTAN],
        ),
    ],
    "voa-8009976": [
        st(
            BALKHI,
            "The Afghan foreign ministry spokesperson rejected as baseless Pakistan's allegation linking the train attack to Afghanistan.",
            "reject",
            [
                "We categorically reject baseless allegations by Pakistani army spokesperson linking attack on a passenger train in Balochistan province with Afghanistan"
            ],
            quote="We categorically reject baseless allegations by Pakistani army spokesperson linking attack on a passenger train in Balochistan province with Afghanistan",
            date="2025-03-13",
            targets=[PAKISTAN],
        ),
        st(
            CHAUDHRY,
            "Chaudhry said the attackers were in contact with masterminds in Afghanistan by satellite phone.",
            "criticize",
            [
                "During the operation, these terrorists were in contact with their supporters and masterminds in Afghanistan via satellite phone"
            ],
            quote="During the operation, these terrorists were in contact with their supporters and masterminds in Afghanistan via satellite phone",
            date="2025-03-12",
            targets=[AFGHANISTAN],
        ),
        st(
            org("ISPR", "PAK", "Inter-Services Public Relations", "military"),
            "The military's media wing said intelligence confirmed the attack was directed from Afghanistan.",
            "criticize",
            [
                "Intelligence reports have unequivocally confirmed that the attack was orchestrated and directed by terrorist ringleaders operating from Afghanistan"
            ],
            quote="Intelligence reports have unequivocally confirmed that the attack was orchestrated and directed by terrorist ringleaders operating from Afghanistan, who were in direct communication with terrorists throughout the incident",
            targets=[AFGHANISTAN],
        ),
        st(
            BALKHI,
            "Balkhi urged Pakistan to focus on its own security and internal problems.",
            "demand",
            [
                "[We] urge Pakistani side to focus on resolving their own security and internal problems instead of such irresponsible remarks"
            ],
            quote="[We] urge Pakistani side to focus on resolving their own security and internal problems instead of such irresponsible remarks",
            targets=[PAKISTAN],
        ),
        st(
            org("Pakistani military", "PAK", kind="military"),
            "The military demanded that the Afghan government deny use of its soil for terrorism against Pakistan.",
            "demand",
            [
                "Pakistan expects the Interim Afghan Government to uphold its responsibilities and deny use of its soil for terrorist activities against Pakistan"
            ],
            quote="Pakistan expects the Interim Afghan Government to uphold its responsibilities and deny use of its soil for terrorist activities against Pakistan",
            date="2025-03-12",
            targets=[AFGHANISTAN],
        ),
        st(
            person("Shafqat Ali Khan", "PAK"),
            "The foreign ministry spokesperson urged Afghanistan to hold the perpetrators accountable.",
            "demand",
            [
                "We urge Afghanistan to hold perpetrators, organizers, financiers, of this reprehensible act of terrorism accountable"
            ],
            quote="We urge Afghanistan to hold perpetrators, organizers, financiers, of this reprehensible act of terrorism accountable",
            date="2025-03-13",
            targets=[AFGHANISTAN],
        ),
        st(
            BALKHI,
            "Balkhi said Baloch separatists have no presence in Afghanistan.",
            "reject",
            [
                "No members of Balouch opposition have presence in Afghanistan, nor have they ever had or have any links with the Islamic Emirate"
            ],
            quote="No members of Balouch opposition have presence in Afghanistan, nor have they ever had or have any links with the Islamic Emirate",
        ),
        st(
            person("Munir Akram", "PAK"),
            "Pakistan's UN envoy said Kabul had failed to rein in terrorist groups present in Afghanistan.",
            "criticize",
            [
                "The Kabul authorities have failed to address the threat posed to the region and beyond by other terrorist groups"
            ],
            quote="The Kabul authorities have failed to address the threat posed to the region and beyond by other terrorist groups",
            date="2025-03-10",
            targets=[AFGHANISTAN],
        ),
        st(
            SHARIF,
            "Prime Minister Sharif said 339 passengers were rescued.",
            "neutral",
            ["Pakistan’s Prime Minister Shehbaz Sharif told media 339 passengers were rescued."],
            date="2025-03-13",
        ),
    ],
    "voa-8011076": [
        st(
            CHAUDHRY,
            "Chaudhry said 18 off-duty soldiers, three railway staff and five civilians were among those killed in the initial attack.",
            "neutral",
            [
                "In a news briefing, Lieutenant General Ahmed Sharif Chaudhry said 18 off-duty military and paramilitary Frontier Corps personnel, three railway staff and five civilian passengers were among those killed in the initial attack."
            ],
            date="2025-03-14",
        ),
        st(
            BUGTI,
            "Bugti said some ticket holders may not have travelled, boarded later, got lost or been caught by the attackers.",
            "neutral",
            ["Maybe some did not travel; some were boarding later"],
            quote="Maybe some did not travel; some were boarding later, maybe some of those who ran [from the terrorists] lost their way, and maybe some got caught [by the terrorists],",
            date="2025-03-14",
        ),
        st(
            person("Randhir Jaiswal", "IND"),
            "India's foreign ministry spokesperson rejected Pakistan's allegations as baseless.",
            "reject",
            ["We strongly reject the baseless allegations made by Pakistan"],
            quote="We strongly reject the baseless allegations made by Pakistan",
            targets=[PAKISTAN],
        ),
        st(
            BALKHI,
            "Afghan foreign ministry spokesperson Balkhi rejected the claim that the attack was orchestrated from Afghanistan.",
            "reject",
            ["a charge Afghan foreign ministry spokesperson Abdul Qahar Balkhi rejected Thursday"],
            date="2025-03-13",
            targets=[PAKISTAN],
        ),
        st(
            CHAUDHRY,
            "Chaudhry reiterated that the attack was orchestrated by militants with bases in Afghanistan.",
            "criticize",
            [
                "Bugti and Chaudhry reiterated the claim that Tuesday’s attack was orchestrated by militants with bases in Afghanistan"
            ],
            date="2025-03-14",
            targets=[AFGHANISTAN],
        ),
        st(
            CHAUDHRY,
            "Chaudhry said there was a general threat in the area but not a specific one against the train.",
            "neutral",
            ["There was a threat in the general area"],
            quote="There was a threat in the general area",
            date="2025-03-14",
        ),
    ],
    "voa-8006503": [
        st(
            person("Dahir Amin Jesow", "SOM"),
            "A federal lawmaker said gunmen stormed the hotel after an explosion, killing at least five people.",
            "neutral",
            ["They attacked the hotel at dawn this morning, with an explosion and then gunmen stormed it."],
            quote="They attacked the hotel at dawn this morning, with an explosion and then gunmen stormed it. At least five people including two well-respected elders were killed, and five others were injured,",
        ),
        st(
            org("al-Shabab", "SOM", "al-Shabaab"),
            "Al-Shabab claimed responsibility for the hotel attack and said it had killed more than 10 people.",
            "threaten",
            [
                "The Islamist militant group al-Shabab immediately claimed responsibility for the attack.",
                "In a statement, the group said it had killed more than 10 people.",
            ],
        ),
        st(
            NISA,
            "NISA said its operation killed 16 al-Shabab militants including key leaders and destroyed combat vehicles.",
            "criticize",
            ["The operation dealt a significant blow to al-Shabab, eliminating key members of the group."],
            quote="The operation dealt a significant blow to al-Shabab, eliminating key members of the group.",
            targets=[org("al-Shabab", "SOM", "al-Shabaab")],
        ),
    ],
    "voa-6180932": [
        st(
            CAVUSOGLU,
            "Turkey's foreign minister warned US lawmakers that impositions will get them nowhere and Turkey will retaliate.",
            "threaten",
            [
                '"U.S. lawmakers must understand they will get nowhere with impositions," Turkish Foreign Minister Mevlut Cavusoglu said Wednesday'
            ],
            quote="U.S. lawmakers must understand they will get nowhere with impositions,",
            date="2019-12-11",
        ),
        st(
            CAVUSOGLU,
            "Cavusoglu warned that the Incirlik and Kurecik bases could be on the agenda if Turkey is sanctioned.",
            "threaten",
            ["Both Incirlik (air base) and Kürecik (radar base) may come to our agenda."],
            quote="Both Incirlik (air base) and Kürecik (radar base) may come to our agenda. We don't want to talk about the bad scenario over assumptions,",
        ),
        st(
            CAVUSOGLU,
            "Cavusoglu said the US administration's decision matters as much as Congress's.",
            "neutral",
            ["What is important is not only the decision of Congress but the decision of the administration"],
            quote="What is important is not only the decision of Congress but the decision of the administration,",
        ),
        st(
            person("Mithat Rende", "TUR"),
            "Former ambassador Rende said a stable region is in Washington's interest.",
            "neutral",
            ["It is in [Washington's] interest also to have a stable region."],
            quote="It is in [Washington's] interest also to have a stable region. If they continue with these proposed policies today, this region will not only continue to be a hotbed, but even more with an unstable Turkey,",
        ),
    ],
}


def locate(text: str, quote: str) -> dict:
    start = text.find(quote)
    if start < 0:
        raise SystemExit(f"not verbatim: {quote!r}")
    return {"quote": quote, "start": start, "end": start + len(quote), "match": "exact"}


def main() -> None:
    metadata = json.loads((HERE / "articles" / "metadata.json").read_text(encoding="utf-8"))
    for article_id, statements in ARTICLES.items():
        text = (HERE / "articles" / f"{article_id}.txt").read_text(encoding="utf-8")
        items = []
        for s in statements:
            if s["quote"] and s["quote"].rstrip(",") not in text:
                raise SystemExit(f"{article_id}: quote not verbatim: {s['quote']!r}")
            items.append(
                {
                    "speaker": s["speaker"],
                    "speaker_title": None,
                    "on_behalf_of": None,
                    "channel": None,
                    "quote": s["quote"],
                    "summary": s["summary"],
                    "stance": s["stance"],
                    "targets": s["targets"],
                    "date": s["date"],
                    "evidence": [locate(text, quote) for quote in s["evidence"]],
                }
            )
        result = {
            "schema_version": "1",
            "article": {
                "id": article_id,
                **metadata[article_id],
                "sha256": hashlib.sha256(text.encode()).hexdigest(),
                "chars": len(text),
            },
            "exercises": [],
            "aircraft": [],
            "statements": items,
            "meta": META,
        }
        path = HERE / "results" / f"{article_id}.json"
        path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
