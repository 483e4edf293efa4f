"""The planted vocabulary of the synthetic demo catalogue: categories and their latent reasons to like.

Each reason carries the words a review uses when it is the reason that drew its user (`keywords`: every
positive and negative template below contains at least one of them, which the tests check), several
templates and elaborations so the wording varies, complaints for negative reviews, and `features`:
how a product listing would state it. The item descriptions are built from `features`, never from the
review templates, so an encoder cannot match a review to an item by copying.

Placeholders: {thing} is the category's noun phrase ("these headphones"), {name} the item's short name
("the K4"). A sentence that starts with a placeholder is capitalised after formatting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    key: str
    label: str
    description: str
    features: tuple[str, ...]
    keywords: tuple[str, ...]
    positive: tuple[str, ...]
    extra: tuple[str, ...]
    negative: tuple[str, ...]
    titles: tuple[str, ...]


@dataclass(frozen=True)
class Category:
    key: str
    name: str
    product: str  # noun used in titles: "Wireless Headphones"
    things: tuple[str, ...]  # noun phrases used in reviews: "these headphones"
    base_description: str
    brands: tuple[str, ...]
    reasons: tuple[Reason, ...]


HEADPHONES = Category(
    key="hp",
    name="Headphones",
    product="Wireless Headphones",
    things=("these headphones", "this pair", "the headphones"),
    base_description="Over-ear Bluetooth headphones with a folding headband and a carry case.",
    brands=("Norvik", "Aurelle", "Kestrel", "Solenne", "Marlowe", "Tessary"),
    reasons=(
        Reason(
            "noise_cancelling",
            "noise cancelling for commuting",
            "Shuts out engines, traffic and office chatter so commuters can listen in peace.",
            ("adaptive active noise cancellation", "a transparency mode for hearing announcements"),
            ("noise", "quiet", "commute", "train", "subway", "cancel"),
            (
                "The noise cancelling on {name} makes my train commute actually peaceful.",
                "I ride the subway every day and {thing} shut out the rumble completely.",
                "Bought {thing} for my commute and the cancelling is superb, the bus engine just disappears.",
                "Finally some quiet on my daily commute.",
                "Office chatter and train noise vanish the moment I switch on the cancelling.",
            ),
            (
                "I can listen at low volume because the outside noise is gone.",
                "Even the announcements on the train become a faint murmur.",
                "My commute feels shorter now that it is quiet.",
            ),
            (
                "The noise cancelling on {name} barely does anything on my train commute.",
                "I bought {thing} for a quiet commute but I still hear every subway screech.",
            ),
            ("Quiet commute at last", "Silences the train", "The noise just disappears"),
        ),
        Reason(
            "deep_bass",
            "deep bass for workouts",
            "Punchy low end and a secure fit for people who listen while they exercise.",
            ("an extended low-frequency driver", "sweat-resistant ear cushions"),
            ("bass", "gym", "workout", "running", "beat", "punch"),
            (
                "The bass on {name} is deep and punchy, perfect for my gym sessions.",
                "I go running every morning and {thing} keep the beat thumping without slipping.",
                "Heavy bass that pushes me through a hard workout.",
                "Lifting weights with {thing} on is great, the low end really has punch.",
                "Punchy bass and they stay put while I train at the gym.",
            ),
            (
                "Hip hop and electronic tracks sound huge through them.",
                "Sweat hasn't bothered them after months of workouts.",
                "The beat keeps my running pace up.",
            ),
            (
                "The bass on {name} is thin and weak, no punch for my workouts.",
                "{thing} sound flat at the gym, the beat just doesn't hit.",
            ),
            ("Bass for the gym", "Workout beast", "Punchy low end"),
        ),
        Reason(
            "comfort_calls",
            "comfort for long calls",
            "Light, soft and with a clear microphone for people who spend the day in meetings.",
            ("memory-foam ear cushions", "a beamforming microphone for calls"),
            ("comfortable", "calls", "meeting", "cushions", "mic"),
            (
                "{thing} are so comfortable that I wear them through back-to-back meetings.",
                "The cushions are soft and after six hours of calls my ears don't hurt.",
                "Comfortable all day and the mic makes my calls crystal clear.",
                "I spend my workday on calls and {name} is the first pair that is comfortable the whole time.",
                "Light and comfortable, I forget I'm wearing them during long meetings.",
            ),
            (
                "Colleagues say my voice sounds clear on calls.",
                "No headache even after a full day of meetings.",
                "The headband pressure is gentle on long calls.",
            ),
            (
                "{thing} pinch my ears after an hour of calls, not comfortable at all.",
                "The cushions on {name} get hot and uncomfortable during long meetings.",
            ),
            ("Comfortable for all-day calls", "Meeting marathon approved", "Soft cushions"),
        ),
        Reason(
            "battery_travel",
            "long battery for travel",
            "Battery that outlasts long flights and trips without a charger.",
            ("a rated 40-hour battery", "fast charging over USB-C"),
            ("battery", "charge", "flight", "travel", "trip"),
            (
                "The battery on {name} lasted my entire long-haul flight and then some.",
                "I travel a lot and {thing} only need a charge once a week.",
                "Over thirty hours of battery, perfect for trips.",
                "Took {thing} on a two-week trip and never worried about the battery.",
                "Battery life is outstanding for travel, a whole flight to Tokyo on one charge.",
            ),
            (
                "A ten minute charge gives me several hours.",
                "They fold flat into my travel bag.",
                "Charging at the hotel on a trip is an afterthought.",
            ),
            (
                "The battery on {name} died halfway through my flight.",
                "I have to charge {thing} every night when I travel, the battery is poor.",
            ),
            ("Battery for days", "Great travel companion", "Lasted the whole flight"),
        ),
        Reason(
            "studio_sound",
            "studio-accurate sound for mixing",
            "A neutral, detailed response for people who record, edit and mix audio.",
            ("a neutral tuning measured against a studio reference", "a detachable wired cable"),
            ("mixing", "mixes", "studio", "accurate", "neutral", "detail"),
            (
                "The sound on {name} is flat and accurate, exactly what I need for mixing.",
                "I use {thing} in my home studio and the detail is honest, no hyped bass.",
                "Neutral response that makes my mixes translate to other speakers.",
                "For recording and editing, {thing} reveal every detail.",
                "Accurate studio sound, I can hear the reverb tails and panning clearly.",
            ),
            (
                "My mixes finally sound the same in the car.",
                "Vocals sit exactly where they are in the recording, every detail intact.",
                "Nothing is coloured or boosted, it is neutral.",
            ),
            (
                "The sound on {name} is too coloured for mixing, the bass is boosted.",
                "{thing} hide detail, useless for studio work.",
            ),
            ("Honest studio sound", "A mixing reference", "Accurate and detailed"),
        ),
        Reason(
            "gaming_latency",
            "low latency for gaming",
            "Low-lag audio and positional sound for people who play games.",
            ("a low-latency 2.4 GHz dongle", "virtual surround sound"),
            ("gaming", "game", "lag", "latency", "footsteps", "console"),
            (
                "No lag at all when gaming on {name}, I hear footsteps before I see enemies.",
                "Plugged {thing} into my console and the latency is unnoticeable.",
                "Great for gaming, positional audio is sharp.",
                "Competitive shooters feel fair with {thing}, zero lag.",
                "My gaming nights got better, every footstep is clear.",
            ),
            ("Voice chat with my team is clear during a game.", "Switching between PC and console is painless."),
            (
                "There is noticeable lag when gaming with {name}.",
                "{thing} muddle footsteps, bad for competitive gaming.",
            ),
            ("Gamer approved", "No lag", "Hear every footstep"),
        ),
    ),
)

COFFEE = Category(
    key="cf",
    name="Coffee Makers",
    product="Coffee Maker",
    things=("this coffee maker", "the machine", "this brewer"),
    base_description="Countertop coffee maker with a removable water tank.",
    brands=("Brightfield", "Caldera", "Mornhaus", "Pellow", "Quillan", "Ristra"),
    reasons=(
        Reason(
            "fast_mornings",
            "speed for busy mornings",
            "Brews fast enough for people who are out of the door in minutes.",
            ("a rapid-heat element", "a brew cycle under three minutes"),
            ("fast", "quick", "morning", "minutes", "rush"),
            (
                "{thing} brews a full mug in about two minutes, perfect for rushed mornings.",
                "I'm always late in the morning and {name} is fast enough to keep up.",
                "Fast brewing, coffee is ready before my toast.",
                "On busy mornings {thing} is quick and never makes me wait.",
                "From switch-on to coffee in a few minutes, my mornings are less of a rush.",
            ),
            ("I am out of the door ten minutes earlier.", "The heat-up is quick even on cold mornings."),
            (
                "{thing} takes forever to heat up, useless on a rushed morning.",
                "Far from quick, {name} needs ten minutes each morning.",
            ),
            ("Fast mornings", "Quick brew", "Beats the morning rush"),
        ),
        Reason(
            "espresso_crema",
            "rich espresso for coffee enthusiasts",
            "Proper pressure and temperature for people who care about espresso.",
            ("a 15-bar pump", "a steam wand for milk"),
            ("espresso", "crema", "shot", "latte", "barista"),
            (
                "{name} pulls espresso with a thick golden crema, like my favourite cafe.",
                "As a coffee nerd I'm impressed, the shots from {thing} are rich and balanced.",
                "Real espresso at home, the crema holds for minutes.",
                "My lattes from {thing} taste barista-made.",
                "Dialing in shots on {name} is a joy, the espresso is syrupy and sweet.",
            ),
            ("The steam wand makes silky milk for a latte.", "I've stopped buying espresso at the cafe."),
            (
                "The espresso from {name} is thin and sour, no crema at all.",
                "{thing} can't pull a decent shot, very disappointing for espresso.",
            ),
            ("Cafe-quality espresso", "Crema heaven", "A real espresso machine"),
        ),
        Reason(
            "easy_cleaning",
            "easy to clean",
            "Few parts, dishwasher-safe pieces and simple descaling for people who hate cleanup.",
            ("dishwasher-safe removable parts", "a one-button descale program"),
            ("clean", "cleaning", "rinse", "dishwasher", "descale"),
            (
                "Cleaning {thing} takes a minute, everything goes in the dishwasher.",
                "I hate scrubbing and {name} is the easiest machine to clean I've owned.",
                "Just rinse the basket and you're done, cleaning is painless.",
                "The descale program on {thing} does everything for me, super easy to keep clean.",
                "Few parts, all of them rinse clean under the tap.",
            ),
            ("No coffee gunk hiding in corners.", "Descaling is one button once a month."),
            (
                "Cleaning {thing} is a nightmare, grounds get stuck everywhere.",
                "The parts of {name} are not dishwasher safe and hard to clean.",
            ),
            ("So easy to clean", "Cleanup in a minute", "Dishwasher friendly"),
        ),
        Reason(
            "large_batch",
            "large carafe for families and offices",
            "Brews many cups at once for households and offices.",
            ("a 12-cup thermal carafe", "a keep-warm plate"),
            ("carafe", "cups", "office", "family", "guests", "batch"),
            (
                "The big carafe of {name} serves our whole family of six in one go.",
                "We use {thing} at the office and one batch covers the morning meeting.",
                "Twelve cups at once, perfect when guests stay over.",
                "The thermal carafe keeps a full batch hot for hours for the family.",
                "Finally a machine that makes enough cups for everyone at the office.",
            ),
            ("No more brewing three rounds for guests.", "The carafe doesn't drip when pouring cups."),
            (
                "The carafe of {name} is far too small for our family.",
                "{thing} claims twelve cups but the batch is barely enough for the office.",
            ),
            ("Coffee for the whole family", "Great for the office", "Big batch brewer"),
        ),
        Reason(
            "quiet_operation",
            "quiet brewing that wakes nobody",
            "A quiet pump and grinder for early risers in shared homes.",
            ("an insulated low-noise pump", "a soft-close lid"),
            ("quiet", "silent", "wake", "noise", "sleeping"),
            (
                "{thing} is so quiet I can brew at 5am without waking the kids.",
                "My partner sleeps in and {name} is quiet enough not to wake them.",
                "Almost silent, just a soft gurgle while it brews.",
                "Our old machine sounded like a jet, {thing} is whisper quiet.",
                "I brew before dawn in a small flat and the noise is barely there.",
            ),
            (
                "Nobody in the house is sleeping badly because of my coffee anymore.",
                "The quiet brew is a small luxury.",
            ),
            (
                "{thing} is loud enough to wake the whole house.",
                "The pump on {name} makes a horrible noise, not quiet at all.",
            ),
            ("Whisper quiet", "Wakes nobody", "Silent mornings"),
        ),
        Reason(
            "programmable",
            "programmable timer to wake up to coffee",
            "A timer and schedule so coffee is ready when people get up.",
            ("a 24-hour programmable timer", "an app for scheduling brews"),
            ("timer", "schedule", "program", "ready", "wake up"),
            (
                "I set the timer on {name} at night and wake up to fresh coffee.",
                "The schedule feature means coffee is ready when my alarm goes off.",
                "Programming {thing} is simple and it starts brewing right on time.",
                "I program the brew from the app and it's ready when I get home.",
                "Waking up to coffee that's already ready is the best feature of {thing}.",
            ),
            ("The timer has never missed a morning.", "Setting a weekday schedule took a minute."),
            (
                "The timer on {name} is confusing and never starts on schedule.",
                "{thing} forgets its program after every power cut, so nothing is ready.",
            ),
            ("Wake up to coffee", "Set it and forget it", "Great timer"),
        ),
    ),
)

BOOTS = Category(
    key="hb",
    name="Hiking Boots",
    product="Hiking Boots",
    things=("these boots", "this pair of boots", "the boots"),
    base_description="Mid-cut hiking boots with a lace-up closure and a padded collar.",
    brands=("Tamarack", "Scarlow", "Ridgeway", "Fenwick", "Alpenrue", "Corrie"),
    reasons=(
        Reason(
            "waterproof",
            "waterproof for wet trails",
            "Keeps feet dry through rain, streams and mud.",
            ("a waterproof breathable membrane", "a gusseted tongue"),
            ("waterproof", "dry", "rain", "puddle", "stream", "wet", "mud"),
            (
                "Hiked all day in the rain and my feet stayed completely dry in {thing}.",
                "I walked straight through streams with {name} and they are truly waterproof.",
                "Waterproof as promised, puddles and mud are no problem.",
                "Wet spring trails used to soak me, {thing} keep my socks dry.",
                "Proper waterproofing, I crossed a stream and stayed dry.",
            ),
            ("Boggy moorland is no longer a worry.", "After a wet weekend they dried overnight."),
            (
                "{thing} leaked the first time I hit a wet trail.",
                "So much for waterproof, my socks were soaked after light rain in {name}.",
            ),
            ("Dry feet in the rain", "Truly waterproof", "Stream crossing champion"),
        ),
        Reason(
            "ankle_support",
            "ankle support on rocky terrain",
            "A stiff collar and shank for stability on rocks and scree.",
            ("a supportive high collar", "a stiff nylon shank"),
            ("ankle", "support", "rocky", "rocks", "scree", "stable"),
            (
                "After spraining my ankle last year, the support in {thing} gives me real confidence.",
                "On rocky descents {name} keeps my ankles stable.",
                "Great ankle support on loose scree.",
                "{thing} lock my heel and ankle in place on rocks.",
                "Stable and supportive, exactly what I need on rocky mountain trails.",
            ),
            ("My weak ankle hasn't rolled once this season.", "They feel stable with a heavy pack on rough ground."),
            (
                "The collar of {name} gives almost no ankle support on rocks.",
                "I rolled my ankle twice in {thing}, they are not stable at all.",
            ),
            ("Solid ankle support", "Stable on rocks", "Confidence on scree"),
        ),
        Reason(
            "no_break_in",
            "comfortable out of the box",
            "Soft uppers that need no break-in and cause no blisters.",
            ("a pre-softened nubuck upper", "a cushioned removable footbed"),
            ("break-in", "blister", "comfortable", "out of the box"),
            (
                "{thing} were comfortable out of the box, no break-in at all.",
                "I did a 15 km hike on the first day in {name} without a single blister.",
                "Zero break-in period and no blisters, amazing.",
                "Comfortable right out of the box, like slippers with a sole.",
                "My heels usually blister in new boots but not in {thing}.",
            ),
            (
                "I skipped the usual weeks of wearing them around the house.",
                "The footbed is soft and comfortable even on hard paths.",
            ),
            (
                "{thing} gave me blisters on both heels, the break-in is brutal.",
                "Weeks later {name} still aren't comfortable, endless break-in.",
            ),
            ("No break-in needed", "Blister free", "Comfortable from day one"),
        ),
        Reason(
            "lightweight",
            "lightweight for long distances",
            "Low weight for people who cover many miles a day.",
            ("a lightweight synthetic upper", "a low-density foam midsole"),
            ("lightweight", "light", "miles", "weight", "long distance"),
            (
                "{thing} are so lightweight that 25 miles felt easy.",
                "I thru-hike and the low weight of {name} makes a huge difference.",
                "Light on the feet, I can cover more miles.",
                "After a long distance day my legs are less tired thanks to the light weight.",
                "Lightweight without feeling flimsy, great for big-mile days.",
            ),
            ("I barely notice the weight on long climbs.", "My pace on long distance days improved."),
            (
                "{thing} are heavy and clunky, my legs are dead after a few miles.",
                "Far from lightweight, {name} weigh a ton on long distance days.",
            ),
            ("Featherweight", "Made for big miles", "Light and fast"),
        ),
        Reason(
            "grip",
            "grip on slippery surfaces",
            "A sticky outsole with deep lugs for wet rock and slick mud.",
            ("a sticky rubber outsole", "deep multidirectional lugs"),
            ("grip", "traction", "slippery", "slick", "lugs"),
            (
                "The grip on {name} is incredible on wet, slippery rock.",
                "{thing} have great traction even on slick mud.",
                "Sticky soles with real grip, I never slipped on icy bridges.",
                "The lugs bite into slippery slopes and give me grip.",
                "Best traction I've had on slick granite.",
            ),
            ("I trust the grip on steep descents.", "Wet roots are no longer slippery traps."),
            (
                "The grip on {name} is poor, I slipped on every wet rock.",
                "{thing} have almost no traction on slick mud.",
            ),
            ("Grips like glue", "Great traction", "No more slipping"),
        ),
        Reason(
            "winter_warmth",
            "warmth for winter hikes",
            "Insulation for hiking in snow and cold weather.",
            ("200 g synthetic insulation", "a thermal footbed"),
            ("warm", "cold", "winter", "snow", "insulated", "toes"),
            (
                "My toes stayed warm in {thing} on a snowy winter hike.",
                "{name} are well insulated, perfect for cold winter trails.",
                "Warm enough for minus ten and deep snow.",
                "Winter hikes are finally enjoyable, {thing} keep the cold out.",
                "Insulated and warm, I wore them all winter in the snow.",
            ),
            ("No more numb toes at the summit.", "They are warm enough that I skip the second pair of socks."),
            (
                "My toes froze in {thing} on the first cold day of winter.",
                "{name} claim insulation but they are not warm in snow.",
            ),
            ("Warm winter boots", "Toasty toes", "Snow ready"),
        ),
    ),
)

GAMES = Category(
    key="bg",
    name="Board Games",
    product="Board Game",
    things=("this game", "the game", "this box"),
    base_description="Tabletop board game with a rulebook and all pieces in the box.",
    brands=("Gilded Meeple", "Hearthstone Play", "Lantern Tables", "Oakleaf Games", "Pinwheel", "Thistle"),
    reasons=(
        Reason(
            "family_kids",
            "easy to teach for family game night",
            "Simple rules that children and mixed-age families can learn quickly.",
            ("rules that fit on a single page", "a recommended age of 7 and up"),
            ("kids", "family", "children", "teach", "rules"),
            (
                "{thing} is easy to teach and our kids ask for it every family night.",
                "My children, aged 7 and 10, learned the rules of {name} in five minutes.",
                "A perfect family game, simple rules and the kids can beat the adults.",
                "Family game night has a new favourite, easy for children to follow.",
                "Simple to teach to kids and grandparents alike.",
            ),
            ("The kids set it up without help now.", "The whole family laughs through every round."),
            (
                "The rules of {name} are far too complicated for kids.",
                "{thing} is marketed for families but our children were lost and bored.",
            ),
            ("Family night hit", "Kids love it", "Easy to teach"),
        ),
        Reason(
            "deep_strategy",
            "deep strategy for experienced gamers",
            "Meaningful decisions and long-term planning for people who love strategy.",
            ("multiple paths to victory", "variable setup for replayability"),
            ("strategy", "strategic", "decisions", "depth", "plan"),
            (
                "{name} has real strategic depth, every decision matters.",
                "As a heavy gamer I love the long-term planning {thing} demands.",
                "Deep strategy with many paths to victory.",
                "Twenty plays in and {thing} still rewards a careful plan.",
                "Tough decisions every turn, a strategy lover's dream.",
            ),
            (
                "Our group debates strategy for days after.",
                "No two games unfold the same way, so the decisions stay fresh.",
            ),
            (
                "{thing} looks deep but the strategy is shallow, decisions feel random.",
                "After two plays {name} had no depth left, no real strategy.",
            ),
            ("Brain burner", "Real strategic depth", "Strategy heaven"),
        ),
        Reason(
            "party_groups",
            "party game for big groups",
            "Plays with many people at once and gets everyone laughing.",
            ("support for 4 to 12 players", "team play"),
            ("party", "group", "friends", "laugh", "players"),
            (
                "{thing} is the hit of every party, ten players laughing at once.",
                "We play {name} with a big group of friends and everyone joins in.",
                "Perfect party game, no one sits out.",
                "Brought {thing} to a party and the whole group was laughing all night.",
                "Great with a big group of friends, the more players the better.",
            ),
            ("Even friends who hate board games join in.", "It keeps a party going for hours."),
            (
                "{thing} falls flat at a party, the group got bored fast.",
                "{name} claims 12 players but with a big group it drags.",
            ),
            ("Party hit", "Great for groups", "Laughs all night"),
        ),
        Reason(
            "two_player",
            "great with two players",
            "Plays tightly with exactly two people, for couples and duels.",
            ("a dedicated two-player mode", "a compact table footprint"),
            ("two players", "two-player", "partner", "couple", "duel"),
            (
                "My partner and I play {name} every evening, it's perfect with two players.",
                "A tense two-player duel that never gets old.",
                "Most games are weak for a couple, but {thing} shines with two players.",
                "Great two-player game for date night with my partner.",
                "{thing} plays brilliantly as a duel between two players.",
            ),
            ("We keep a running score between the two of us.", "It fits on our small table for two."),
            (
                "{thing} is dull with two players, it needs more people.",
                "The two-player mode of {name} is an afterthought, my partner and I gave up.",
            ),
            ("Perfect for couples", "Great duel", "Best with two"),
        ),
        Reason(
            "components",
            "beautiful components and artwork",
            "Striking art and high-quality pieces for people who love a table presence.",
            ("illustrated cards and board", "sculpted miniatures and wooden tokens"),
            ("components", "art", "artwork", "pieces", "miniatures"),
            (
                "The components of {name} are gorgeous, thick cardboard and wooden pieces.",
                "The artwork in {thing} is stunning, every card is a painting.",
                "Beautiful miniatures and art, it looks amazing on the table.",
                "I bought {thing} for the components alone and they're top quality.",
                "Stunning artwork and pieces that feel premium.",
            ),
            ("Friends take photos of the table every time.", "The insert keeps all the components organised."),
            (
                "The components of {name} are flimsy and the art is bland.",
                "{thing} has cheap pieces, the cardboard warped after a week.",
            ),
            ("Gorgeous components", "Stunning art", "Table presence"),
        ),
        Reason(
            "quick_play",
            "quick to play",
            "Short games that fit into a lunch break or a weeknight.",
            ("a play time of 15-20 minutes", "a two-minute setup"),
            ("quick", "short", "minutes", "lunch", "filler"),
            (
                "{name} plays in 15 minutes, perfect for a quick game.",
                "We play {thing} on our lunch break, it's short and fun.",
                "Quick setup and a short play time.",
                "A great filler, we fit three quick games into an evening.",
                "{thing} is quick, we finish a game in under twenty minutes.",
            ),
            ("Setup takes barely two minutes.", "Ideal when we only have half an hour."),
            (
                "{thing} says 20 minutes but every game drags past an hour.",
                "Nothing quick about {name}, setup alone takes ages.",
            ),
            ("Quick and fun", "Perfect filler", "Lunch break game"),
        ),
    ),
)

CATEGORIES: tuple[Category, ...] = (HEADPHONES, COFFEE, BOOTS, GAMES)

# Sentences any review may carry. None contains a reason keyword: they are noise, not evidence.
FILLERS: tuple[str, ...] = (
    "Delivery was prompt.",
    "I've had {thing} for about a month now.",
    "Packaging was fine.",
    "The price seemed fair for what you get.",
    "My sister has the same one.",
    "Customer service answered an email within a day.",
    "It arrived a day early.",
    "I compared a few options before picking this one.",
    "Would buy from this seller again.",
    "The colour is nicer in person.",
)
NOISE_TEXTS: tuple[str, ...] = (
    "Works as described.",
    "Does the job.",
    "It's okay, nothing special.",
    "Bought it as a gift and they seem happy with it.",
    "Good value overall.",
    "No complaints so far.",
    "Exactly what the listing says.",
)
NOISE_TITLES: tuple[str, ...] = ("Fine", "As expected", "Okay", "Good value", "Does the job", "Solid")
NEGATIVE_TITLES: tuple[str, ...] = ("Disappointed", "Not as advertised", "Returning it", "Let down")
NEGATIVE_TAILS: tuple[str, ...] = ("Expected more for the price.", "I'm returning it.", "Two stars for looks.")
