"""Demo data for recognition: peer recognitions, a few hundred patient comments, award cycles."""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timedelta, timezone


from portal.extensions import db
from portal.models import StaffMember
from portal.recognition import services
from portal.recognition.models import (
    CommitteeMember,
    CycleStatus,
    FeedbackStatus,
    Nomination,
    NominationCycle,
    NominationScore,
    PatientFeedback,
    Reaction,
    ReactionKind,
    RecognitionKind,
    Visibility,
)
from portal.recognition.scoring import Experience

PEER_MESSAGES = (
    "Took over my bay without being asked when I was stuck with a deteriorating patient. Calm, kind, brilliant.",
    "Stayed an extra half hour to settle a confused patient so the night team could start on time.",
    "Explained the new insulin chart to me three times without once making me feel slow. Thank you!",
    "Made a frightened daughter a cup of tea and sat with her while the doctors talked. She told me later it made all the difference.",
    "Spotted the early signs of sepsis and escalated straight away. Textbook, and it mattered.",
    "Organised the whole team's breaks on a horrendous shift so that everyone actually got one.",
    "Welcomed our new starter like an old friend and showed her where everything lives.",
    "Found a way to get a patient home for his granddaughter's wedding. Went above and beyond.",
    "Always the first to help with turns, and always with a joke that lifts the bay.",
    "Handled a very difficult conversation with a family with real compassion and honesty.",
)
PRAISE_TEMPLATES = (
    "{first} was wonderful with my mum, nothing was too much trouble.",
    "Huge thanks to {full} who explained everything so clearly before my operation.",
    "Nurse {first} made me feel safe on a really frightening night.",
    "{first} always had a smile and time to chat. My husband Derek says thank you too.",
    "Please thank {first} and {first2}, they were kindness itself.",
    "{full} went the extra mile to get me home in time for my daughter's birthday.",
    "I'd like to thank {first} for listening when I was scared. You can reach me on 07700 900{n3}.",
)
GENERAL_TEMPLATES = (
    "Very good. The ward was clean and everyone was kind.",
    "Excellent care from start to finish. Thank you all.",
    "The food could be warmer but the nursing care was great.",
    "Everyone was friendly and I always knew what was happening.",
    "",
)
NEGATIVE_TEMPLATES = (
    "I waited over an hour for pain relief and nobody came when I rang the bell.",
    "Staff on nights were rude to my wife Margaret and we felt ignored.",
    "Discharge took all day and nobody told us what was happening. Not happy.",
    "My dad's hearing aid was lost and nobody seemed to care. Please call 07700 900{n3}.",
)
HELD_TEMPLATES = (
    "The car park was a nightmare and cost a fortune, but {first} on the ward was lovely.",
    "Waited 9 hours in A&E before coming up. {first} on the ward was great though.",
)


def _when(hospital, days_ago: int, hour: int) -> datetime:
    day = hospital.today - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, hospital.rng.randrange(60)), tzinfo=timezone.utc)


def add_demo_data(hospital) -> None:
    rng = hospital.rng
    org = hospital.organisation
    labels = [v.key for v in services.DEFAULT_VALUES]
    everyone: list[StaffMember] = [s for staff in hospital.staff_by_ward.values() for s in staff]

    # Peer recognitions over four months, a few of them private.
    recognitions = []
    for _ in range(160):
        ward_staff = hospital.staff_by_ward[rng.choice(list(hospital.staff_by_ward))]
        sender, *recipients = rng.sample(ward_staff, 1 + rng.choice((1, 1, 1, 2)))
        rec = services._create_recognition(
            org, RecognitionKind.PEER, sender.user, rng.choice(PEER_MESSAGES), recipients,
            value_keys=rng.sample(labels, rng.choice((1, 1, 2))),
            visibility=Visibility.PRIVATE if rng.random() < 0.08 else Visibility.EVERYONE,
            created_at=_when(hospital, rng.randrange(1, 120), rng.randrange(7, 21)),
        )
        recognitions.append(rec)
    nurse = hospital.nurse
    for days_ago, message in ((3, PEER_MESSAGES[4]), (20, PEER_MESSAGES[2])):
        sender = rng.choice([s for s in hospital.staff_by_ward[hospital.wards[0].id] if s is not nurse])
        recognitions.append(services._create_recognition(
            org, RecognitionKind.PEER, sender.user, message, [nurse], value_keys=["patient-first", "teamwork"],
            created_at=_when(hospital, days_ago, 14)))
    for rec in rng.sample(recognitions, 60):
        for reactor in rng.sample(everyone, rng.randrange(1, 5)):
            db.session.add(Reaction(recognition_id=rec.id, user_id=reactor.user.id,
                                    kind=rng.choice(list(ReactionKind))))

    # A few hundred patient comments through the real pipeline, over six months.
    matcher = services.build_matcher(org, hospital.today)
    for index in range(320):
        ward = rng.choice(hospital.wards)
        staff = hospital.staff_by_ward[ward.id]
        person, person2 = rng.sample(staff, 2)
        roll = rng.random()
        if roll < 0.30:
            template, experience, recommend = rng.choice(PRAISE_TEMPLATES), rng.choice((1, 1, 2)), rng.choice((9, 10, 10))
        elif roll < 0.78:
            template, experience, recommend = rng.choice(GENERAL_TEMPLATES), rng.choice((1, 1, 2, 2, 3)), rng.choice((7, 8, 9, 10))
        elif roll < 0.94:
            template, experience, recommend = rng.choice(NEGATIVE_TEMPLATES), rng.choice((4, 5, 3)), rng.choice((0, 2, 4, 5))
        else:
            template, experience, recommend = rng.choice(HELD_TEMPLATES), 2, 8
        comment = template.format(first=person.full_name.split()[0], first2=person2.full_name.split()[0],
                                  full=person.full_name, n3=rng.randrange(100, 999))
        received_on = hospital.today - timedelta(days=rng.randrange(1, 180))
        outcome = services.run_pipeline(matcher, ward.id, (), thanks="", comment=comment,
                                        experience=Experience(experience), recommend=recommend)
        feedback = PatientFeedback(
            organisation_id=org.id, ward_id=ward.id, source="Demo FFT vendor",
            fingerprint=hashlib.sha256(f"demo:{index}".encode()).hexdigest(), received_on=received_on,
            experience=experience, recommend=recommend, original_comment=comment,
            redacted_comment=outcome.redacted_comment, status=outcome.status, flags=outcome.flags,
            is_negative=outcome.is_negative, named_staff_ids=outcome.named_staff_ids, ambiguous=outcome.ambiguous,
        )
        db.session.add(feedback)
        db.session.flush()
        # Older praise has been approved already; the last few weeks wait in the queue.
        if outcome.status == FeedbackStatus.PENDING and outcome.named_staff_ids and received_on < hospital.today - timedelta(days=21):
            recipients = [s for s in staff if s.id in outcome.named_staff_ids] or [person]
            services._create_recognition(org, RecognitionKind.PATIENT, None, services.praise_message(feedback),
                                         recipients, feedback_id=feedback.id,
                                         created_at=_when(hospital, (hospital.today - received_on).days - 1, 10))
            feedback.status = FeedbackStatus.APPROVED
            feedback.moderated_by_id = hospital.manager.user.id

    # The award committee, a past award with its winner, and one open for nominations.
    charge_nurses = [s for s in everyone if s.grade.code == "CN" and s is not hospital.manager]
    committee = [hospital.manager.user] + [s.user for s in charge_nurses[:2]]
    for user in committee:
        db.session.add(CommitteeMember(organisation_id=org.id, user_id=user.id))
    criteria = ["Compassion shown to patients and families", "Going beyond what the job asks",
                "A lasting difference to patients or colleagues"]
    past = NominationCycle(organisation_id=org.id, title="Compassion award, winter", criteria=criteria,
                           opens_on=hospital.today - timedelta(days=100), closes_on=hospital.today - timedelta(days=70),
                           status=CycleStatus.ANNOUNCED)
    current = NominationCycle(organisation_id=org.id, title="Compassion award, spring", criteria=criteria,
                              opens_on=hospital.today - timedelta(days=10), closes_on=hospital.today + timedelta(days=20),
                              status=CycleStatus.OPEN)
    db.session.add_all([past, current])
    db.session.flush()
    past_nominations = []
    for nominee in rng.sample(everyone, 5):
        nominator = rng.choice([s for s in everyone if s is not nominee])
        nomination = Nomination(cycle_id=past.id, nominee_id=nominee.id, nominator_id=nominator.user.id,
                                reason=rng.choice(PEER_MESSAGES))
        db.session.add(nomination)
        db.session.flush()
        for scorer in committee:
            if scorer.id != nominator.user.id and scorer.staff is not nominee:
                scores = [rng.randint(2, 5) for _ in criteria]
                db.session.add(NominationScore(nomination_id=nomination.id, scorer_id=scorer.id, scores=scores,
                                               total=sum(scores)))
        past_nominations.append(nomination)
    db.session.flush()
    winner = max(past_nominations, key=lambda n: n.average_total or 0)
    past.winner_id = winner.id
    services._create_recognition(org, RecognitionKind.AWARD, hospital.admin, f"Winner of {past.title}.\n\n{winner.reason}",
                                 [winner.nominee], created_at=_when(hospital, 65, 12))
    for nominee in rng.sample(everyone, 4):
        nominator = rng.choice([s for s in everyone if s is not nominee])
        db.session.add(Nomination(cycle_id=current.id, nominee_id=nominee.id, nominator_id=nominator.user.id,
                                  reason=rng.choice(PEER_MESSAGES)))
    db.session.flush()
