#!/usr/bin/env python3
"""Builds the labelled training corpus in models/corpus/<label>/*.txt.

Deterministic (fixed seed): rerunning rewrites the same files. Each label has several
unrelated document layouts, random names, dates, amounts and line items, optional and
reordered sections, and free sentences drawn from pools that overlap between labels
(receipts and invoices both have totals, letters and contracts both have signatures),
so the classifier has to learn more than a single template.

    python3 models/generate_corpus.py
"""
import os
import random

R = random.Random(20261121)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
PER_LABEL = 60

FIRST = "Anna Ben Carla David Elena Farid Greta Hugo Ines Jonas Kira Luca Mona Nils Olga Pavel Rosa Sven Tara Umar Vera Yusuf Zoe".split()
LAST = "Schmidt Novak Rossi Dubois Lindqvist Okafor Tanaka Silva Kowalski Brennan Haddad Jensen Moreau Petrov Garcia Weber Nguyen Costa Fischer".split()
CORP = ["Acme Industrial", "Globex Logistics", "Initech Software", "Umbrella Foods", "Stark Components",
        "Wayne Textiles", "Hooli Cloud", "Vandelay Imports", "Soylent Labs", "Tyrell Robotics",
        "Cyberdyne Parts", "Wonka Confections", "Oceanic Freight", "Pied Piper Data", "Monarch Print"]
CITY = "Berlin Lyon Porto Gdansk Leeds Aarhus Turin Ghent Utrecht Graz Bilbao Tampere Brno Cork".split()
STREET = "Harbour Road|Mill Lane|Station Street|Market Square|Linden Allee|Canal Walk|Oak Avenue|Kings Parade".split("|")
ITEMS = ["consulting hours", "steel brackets", "printer toner", "cloud storage plan", "office chairs",
         "delivery fee", "laptop stand", "software licence", "cleaning service", "network cables",
         "training workshop", "spare parts kit", "paper reams", "maintenance visit", "design review"]
SHOP = ["coffee", "croissant", "sandwich", "bottled water", "newspaper", "bus ticket", "apples",
        "milk", "bread", "batteries", "shampoo", "pasta", "tomatoes", "chocolate bar", "tea"]
CUR = ["EUR", "USD", "GBP", "CHF"]


def person():
    return f"{R.choice(FIRST)} {R.choice(LAST)}"


def date():
    return f"{R.randint(2019, 2026)}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}"


def date_words():
    months = "January February March April May June July August September October November December".split()
    return f"{R.randint(1, 28)} {R.choice(months)} {R.randint(2019, 2026)}"


def money():
    return f"{R.randint(3, 9000)}.{R.randint(0, 99):02d}"


def address():
    return f"{R.randint(1, 140)} {R.choice(STREET)}, {R.randint(10000, 99999)} {R.choice(CITY)}"


def pick(pool, lo, hi):
    return R.sample(pool, R.randint(lo, min(hi, len(pool))))


SHARED = [
    "Please contact us if you have any questions.",
    "Thank you for your business.",
    "All amounts include applicable taxes.",
    "This document was generated electronically.",
    "Kind regards from the whole team.",
    "Reference numbers must be quoted in all correspondence.",
]


def invoice():
    cur = R.choice(CUR)
    lines = [(R.choice(ITEMS), R.randint(1, 40), money()) for _ in range(R.randint(1, 6))]
    body = "\n".join(f"{q} x {d} @ {p} {cur}" for d, q, p in lines)
    total = money()
    layouts = [
        f"INVOICE\nInvoice number: INV-{R.randint(1000, 99999)}\nInvoice date: {date()}\nDue date: {date()}\n"
        f"Bill to: {R.choice(CORP)}, {address()}\n\n{body}\n\nSubtotal: {money()} {cur}\nVAT {R.choice([7, 10, 19, 20, 21])}%: {money()} {cur}\n"
        f"Total due: {total} {cur}\nPayment terms: net {R.choice([14, 30, 45, 60])} days. IBAN DE{R.randint(10**15, 10**16 - 1)}",
        f"{R.choice(CORP)}\n{address()}\n\nTax invoice no. {R.randint(100, 9999)}/{R.randint(2019, 2026)}\nCustomer: {person()}\n"
        f"Services rendered in {date_words().split(' ', 1)[1]}:\n{body}\nAmount payable: {total} {cur}\nPlease remit payment by bank transfer before {date()}.",
        f"Billing statement / invoice\nAccount {R.randint(10000, 99999)}\nPeriod: {date()} to {date()}\n{body}\n"
        f"Balance due {total} {cur}. Late payments incur interest of {R.randint(1, 9)}% per month.",
        f"PRO FORMA INVOICE\nSeller: {R.choice(CORP)}\nBuyer: {R.choice(CORP)}\nPurchase order PO-{R.randint(1000, 9999)}\n{body}\n"
        f"Grand total {total} {cur}\nIncoterms: {R.choice(['EXW', 'FOB', 'DAP', 'DDP'])}",
        f"Invoice {R.randint(1, 999)} for {person()}\nDescription of work: {R.choice(ITEMS)} and {R.choice(ITEMS)}\n"
        f"Hours: {R.randint(2, 80)}\nRate: {money()} {cur} per hour\nTotal invoiced: {total} {cur}\nVAT number {R.choice(['DE', 'FR', 'NL'])}{R.randint(10**8, 10**9)}",
    ]
    return R.choice(layouts)


def receipt():
    cur = R.choice(CUR)
    lines = "\n".join(f"{R.choice(SHOP)}  {money()}" for _ in range(R.randint(1, 7)))
    layouts = [
        f"{R.choice(CORP).split()[0].upper()} MARKET\n{address()}\n{date()} {R.randint(7, 22)}:{R.randint(0, 59):02d}\n{lines}\n"
        f"TOTAL {money()} {cur}\nCASH {money()}\nCHANGE {money()}\nThank you for shopping with us!",
        f"Receipt #{R.randint(10000, 999999)}\nCashier: {R.choice(FIRST)}\n{lines}\nCard payment VISA **** {R.randint(1000, 9999)}\n"
        f"Amount paid: {money()} {cur}\nKeep this receipt for returns within {R.choice([14, 30])} days.",
        f"Payment received\nReceived from {person()} the sum of {money()} {cur} for {R.choice(ITEMS)}.\n"
        f"Date: {date()}\nPaid by {R.choice(['cash', 'card', 'bank transfer'])}. Signed: {person()}",
        f"Till {R.randint(1, 12)}  Store {R.randint(100, 999)}\n{lines}\nItems: {R.randint(1, 9)}\nSubtotal {money()}\n"
        f"Tax {money()}\nTotal {money()} {cur}\nApproved - contactless\nCustomer copy",
        f"Parking receipt\nEntry {R.randint(6, 12)}:{R.randint(0, 59):02d} Exit {R.randint(13, 23)}:{R.randint(0, 59):02d}\n"
        f"Fee paid {money()} {cur}\nTicket {R.randint(10**6, 10**7)}\nNo refunds.",
    ]
    return R.choice(layouts)


def contract():
    a, b = R.sample(CORP, 2)
    clauses = pick([
        "The term of this agreement shall be {n} months from the effective date.",
        "Either party may terminate this agreement with {n} days written notice.",
        "The Supplier shall indemnify the Customer against all claims arising from the services.",
        "This agreement shall be governed by the laws of {c}.",
        "All confidential information shall remain the property of the disclosing party.",
        "Neither party shall be liable for delays caused by force majeure.",
        "The Contractor shall maintain liability insurance of at least {m} {cur}.",
        "Disputes shall be settled by arbitration in {c}.",
        "No amendment to this agreement is effective unless made in writing and signed by both parties.",
        "The Client shall pay the fees set out in Schedule {n} within thirty days.",
    ], 3, 7)
    text = "\n".join(f"{i + 1}. " + c.format(n=R.randint(1, 36), c=R.choice(CITY), m=money(), cur=R.choice(CUR)) for i, c in enumerate(clauses))
    layouts = [
        f"SERVICE AGREEMENT\nThis Agreement is made on {date_words()} between {a} (the Supplier) and {b} (the Customer).\n\n{text}\n\n"
        f"IN WITNESS WHEREOF the parties have executed this Agreement.\nSigned for {a}: {person()}\nSigned for {b}: {person()}",
        f"Non-disclosure agreement\nParties: {a} and {person()}\nEffective date: {date()}\n{text}\nSignature of recipient: ____________",
        f"EMPLOYMENT CONTRACT\nEmployer: {a}\nEmployee: {person()}\nPosition: {R.choice(['analyst', 'engineer', 'designer', 'accountant'])}\n"
        f"Start date: {date()}\nAnnual salary: {money()} {R.choice(CUR)}\n{text}\nThe employee agrees to the terms above.",
        f"LEASE AGREEMENT\nLandlord: {person()}\nTenant: {person()}\nPremises: {address()}\nMonthly rent: {money()} {R.choice(CUR)}\n{text}",
        f"Master services contract between {a} and {b}\nWhereas the parties wish to cooperate, they hereby agree as follows:\n{text}\nExecuted in {R.choice(CITY)} on {date()}.",
    ]
    return R.choice(layouts)


TRADES = ["barista", "HGV driver", "chef", "electrician", "care assistant", "warehouse operative", "hairdresser",
          "carpenter", "retail supervisor", "dental nurse", "plumber", "receptionist"]
TRADE_LINES = ["Served customers and ran the till at a busy cafe.", "Trained new starters and wrote the rota.",
               "Clean licence, no points, own tools.", "Opened and closed the shop, handled cash and stock.",
               "Looked after elderly residents, personal care and medication rounds."]
CERTS = ["food hygiene level 2", "forklift licence", "first aid at work", "CSCS card", "Driver CPC", "NVQ level 3"]


def resume():
    name = person()
    jobs = "\n".join(f"{R.randint(2008, 2025)} - {R.choice(['present', str(R.randint(2010, 2026))])}: {R.choice(['Software engineer', 'Project manager', 'Sales lead', 'Data analyst', 'Nurse', 'Teacher', 'Accountant', 'Designer'])} at {R.choice(CORP)}"
                     for _ in range(R.randint(1, 4)))
    skills = ", ".join(pick(["Python", "Rust", "SQL", "negotiation", "Excel", "public speaking", "German", "French",
                             "project management", "Kubernetes", "bookkeeping", "first aid", "UX research", "Spanish"], 3, 7))
    edu = f"{R.choice(['BSc', 'MSc', 'BA', 'PhD', 'Diploma'])} {R.choice(['Computer Science', 'Economics', 'Nursing', 'Physics', 'History', 'Design'])}, University of {R.choice(CITY)}, {R.randint(2000, 2022)}"
    layouts = [
        f"{name}\n{R.choice(CITY)} | {name.split()[0].lower()}@example.com | +49 {R.randint(10**8, 10**9)}\n\nPROFESSIONAL EXPERIENCE\n{jobs}\n\nEDUCATION\n{edu}\n\nSKILLS\n{skills}",
        f"Curriculum vitae\nName: {name}\nDate of birth: {date()}\nNationality: {R.choice(['German', 'Polish', 'Irish', 'Italian', 'Danish'])}\n"
        f"Work history\n{jobs}\nEducation\n{edu}\nLanguages and skills: {skills}\nReferences available on request.",
        f"{name.upper()}\nProfile: motivated {R.choice(['engineer', 'manager', 'graduate', 'specialist'])} with {R.randint(1, 20)} years of experience.\n"
        f"Experience\n{jobs}\nQualifications\n{edu}\nCore competencies: {skills}\nHobbies: {R.choice(['running', 'chess', 'photography', 'climbing'])}",
        f"Resume - {name}\nObjective: to join a team where I can grow.\nEmployment\n{jobs}\nTraining\n{edu}\nTechnical skills: {skills}",
        f"{name} - {R.choice(TRADES)}\n{R.randint(2, 30)} years' experience. {R.choice(TRADE_LINES)}\n"
        f"Previously: {R.choice(TRADES)} at {R.choice(CORP)} ({R.randint(2000, 2020)}-{R.randint(2021, 2025)}).\n"
        f"Certificates: {R.choice(CERTS)}. Available {R.choice(['immediately', 'from next month', 'weekends and evenings'])}.",
        f"{name}\n{R.choice(TRADES)}\nWork: {R.choice(TRADES)} @ {R.choice(CORP)}, {R.randint(2015, 2023)}-now; {R.choice(TRADES)} @ {R.choice(CORP)}\n"
        f"School: {edu}\nGood at: {skills}\nContact: {name.split()[0].lower()}@mail.com",
        f"Hi, I'm {name.split()[0]}. I'm looking for {R.choice(['a weekend job', 'a summer job', 'an apprenticeship', 'part-time work'])}.\n"
        f"Experience: {R.choice(TRADE_LINES)}\nSchool: {R.choice(CITY)} Academy, exams in {R.choice(['Maths', 'Art', 'History', 'Biology'])} and English.\n"
        f"Things I'm good at: {skills}.",
    ]
    return R.choice(layouts)


PERSONAL = ["It was so lovely to see you at the weekend.", "Thank you for the beautiful flowers.",
            "The garden is full of apples this year.", "I'm sorry it has taken me so long to write.",
            "We are all thinking of you.", "The children ask about you every day.", "Write back soon and tell me all your news."]
NOTICES = ["We are writing to let you know about changes from {d}.", "Please note that the office will be closed on {d}.",
           "I am pleased to confirm the arrangements for {d}.", "Thank you for your letter of {d}."]


def letter():
    to, frm = person(), person()
    topics = pick([
        "I am writing to inform you about the changes to our opening hours.",
        "Following our conversation last week, I would like to confirm our meeting.",
        "We regret to inform you that your application was not successful.",
        "I would like to express my gratitude for your support during the project.",
        "Please find enclosed the documents you requested.",
        "I am writing to complain about the service I received on {d}.",
        "We are pleased to offer you the position starting on {d}.",
        "I hope this letter finds you well.",
        "Your subscription will be renewed automatically unless you cancel it.",
        "I look forward to hearing from you at your earliest convenience.",
    ], 2, 5)
    text = " ".join(t.format(d=date_words()) for t in topics)
    layouts = [
        f"{frm}\n{address()}\n\n{date_words()}\n\nDear {to},\n\n{text}\n\n{R.choice(SHARED)}\n\nYours sincerely,\n{frm}",
        f"{R.choice(CORP)}\n{address()}\n{date()}\nRe: your letter of {date_words()}\n\nDear Sir or Madam,\n{text}\nYours faithfully,\n{frm}, {R.choice(['Customer Service', 'Human Resources', 'Director'])}",
        f"Dear {to.split()[0]},\n{text}\nBest wishes,\n{frm.split()[0]}",
        f"To whom it may concern,\n{text}\nSincerely,\n{frm}\n{R.choice(CORP)}",
        f"Dear {R.choice(['Mum', 'Grandma', 'Uncle ' + R.choice(FIRST), R.choice(FIRST)])},\n{R.choice(PERSONAL)} {R.choice(PERSONAL)}\n{R.choice(['Love', 'All my love', 'Lots of love', 'Warm wishes', 'Take care'])},\n{frm.split()[0]}",
        f"Dear {R.choice(['Parents and Carers', 'Customer', 'Resident', 'Member', 'Colleagues'])},\n{R.choice(NOTICES).format(d=date_words())} {R.choice(topics)}\n{R.choice(['Yours faithfully', 'Kind regards', 'With best wishes'])},\n{R.choice(['The Headteacher', 'Customer Services', 'The Committee', frm])}",
    ]
    return R.choice(layouts)


INCIDENTS = ["checkout outage", "database failover", "payment delays", "login errors", "data pipeline backlog",
             "warehouse fire alarm", "network outage at head office", "email delivery failure"]
IMPACT = ["For {m} minutes, {n}% of requests failed.", "About {n} customers were affected over {m} minutes.",
          "Orders were delayed by up to {m} minutes for {n}% of customers."]
CAUSES = ["A configuration change exhausted the connection pool.", "An expired certificate was not renewed.",
          "A disk filled up because log rotation had stopped.", "A deployment skipped the staging checks.",
          "A supplier's system was unavailable and retries overloaded the queue."]
EVENTS = ["alert fired", "on-call engineer paged", "change rolled back", "service recovered", "root cause identified",
          "customers notified", "incident declared"]
ACTIONS = ["Add monitoring and alerting for the failure mode.", "Review the change process before the next release.",
           "Repeat the audit in six months.", "Train staff on the revised procedure.", "Repair the defects before occupation.",
           "Fund a second phase of the programme.", "Update the runbook and the contact list."]
EXPERIMENTS = ["Specific heat capacity of copper", "Rate of reaction with temperature", "Acceleration due to gravity",
               "Osmosis in potato cells", "Resistance of a wire", "Enzyme activity and pH"]
METHODS = ["The sample was heated for {n} minutes and the temperature recorded every minute.",
           "Measurements were repeated {n} times and the mean was taken.",
           "A data logger recorded readings every {n} seconds."]
RESULTS = ["The measured value was {p}% above the accepted value.", "Scores improved by {p}% across {n} participants.",
           "{p}% of respondents agreed, up from the previous year.", "The mean fell by {p}% in the treatment group of {n}."]
DISCUSSION = ["Heat losses to the surroundings explain most of the error.", "The sample was small, so the result is uncertain.",
              "Results varied between sites, which needs further investigation.", "The trend is consistent with earlier studies."]
CONCLUSIONS = ["The hypothesis was supported.", "The results were within experimental error of the accepted value.",
               "Further experiments are needed."]
FINDINGS = ["Fire exits were obstructed on the second floor.", "Invoices were paid without a purchase order.",
            "Records of training were incomplete.", "Cleaning schedules were not signed off.", "Guard rails were missing on the mezzanine.",
            "Supplier checks had not been carried out.", "Temperature logs were complete and in range."]
TOPICS = ["remote working and productivity", "reading programme in primary schools", "air quality near the bus station",
          "customer satisfaction with delivery", "use of the new cycle lanes", "patient waiting times"]


def report():
    findings = pick([
        "Revenue grew by {p}% compared with the previous quarter.",
        "Operating costs decreased by {p}% due to process improvements.",
        "Customer satisfaction reached {p}% in the annual survey.",
        "The sample size was {n} participants across {k} sites.",
        "Figure {k} shows the distribution of response times.",
        "The analysis indicates a significant correlation between the variables.",
        "Risks identified include supply delays and currency fluctuations.",
        "We recommend further investigation before the next review.",
        "Methodology: data was collected from {n} sensors over {k} weeks.",
        "Table {k} summarises the key performance indicators.",
    ], 3, 7)
    text = "\n".join(f.format(p=R.randint(1, 60), n=R.randint(20, 5000), k=R.randint(1, 12)) for f in findings)
    layouts = [
        f"QUARTERLY REPORT Q{R.randint(1, 4)} {R.randint(2019, 2026)}\n{R.choice(CORP)}\n\nExecutive summary\n{text}\n\nConclusion\nThe outlook for next quarter remains {R.choice(['positive', 'cautious', 'stable'])}.",
        f"Technical report TR-{R.randint(100, 999)}\nAuthors: {person()}, {person()}\nAbstract\n{text}\n1 Introduction\n2 Results\n3 Discussion",
        f"Annual report {R.randint(2019, 2026)}\nChairman's statement\n{text}\nFinancial highlights and outlook follow in section {R.randint(2, 6)}.",
        f"Incident report\nPrepared by {person()} on {date()}\nSummary of findings:\n{text}\nRecommendations and next steps are listed below.",
        f"Status report - project {R.choice(['Apollo', 'Orion', 'Atlas', 'Nova'])}\nReporting period ending {date()}\n{text}\nOverall status: {R.choice(['green', 'amber', 'red'])}",
        f"{R.choice(['Postmortem', 'Post-incident review', 'Incident review'])}: {R.choice(INCIDENTS)}\n"
        f"Summary\n{R.choice(IMPACT).format(n=R.randint(2, 95), m=R.randint(5, 300))}\nRoot cause\n{R.choice(CAUSES)}\n"
        f"Timeline\n" + "\n".join(f"{R.randint(0, 23):02d}:{R.randint(0, 59):02d} {R.choice(EVENTS)}" for _ in range(R.randint(2, 5)))
        + f"\nAction items\n" + "\n".join(f"{i + 1}. {a}" for i, a in enumerate(pick(ACTIONS, 1, 3))),
        f"{R.choice(['Lab report', 'Experiment report', 'Practical write-up'])}: {R.choice(EXPERIMENTS)}\nAim: to {R.choice(['measure', 'determine', 'investigate'])} {R.choice(EXPERIMENTS).lower()}.\n"
        f"Method: {R.choice(METHODS).format(n=R.randint(3, 60))}\nResults: {R.choice(RESULTS).format(p=R.randint(1, 40), n=R.randint(5, 500))}\n"
        f"Discussion: {R.choice(DISCUSSION)}\nConclusion: {R.choice(CONCLUSIONS)}",
        f"{R.choice(['Inspection report', 'Audit report', 'Site visit report', 'Survey report'])}\n{R.choice(['Site', 'Premises', 'Area audited', 'Scope'])}: {R.choice(CORP)}, {R.choice(CITY)}\n"
        f"Date of visit: {date()}\nFindings\n" + "\n".join(f"- {f}" for f in pick(FINDINGS, 2, 4))
        + f"\nOverall opinion: {R.choice(['satisfactory', 'limited assurance', 'requires improvement', 'good'])}\nRecommendations: {R.choice(ACTIONS)}",
        f"{R.choice(['Study findings', 'Survey results', 'Evaluation report', 'Research summary'])}: {R.choice(TOPICS)}\n"
        f"We {R.choice(['surveyed', 'interviewed', 'analysed data from', 'followed'])} {R.randint(12, 4000)} {R.choice(['respondents', 'households', 'patients', 'pupils', 'employees'])}. "
        f"{R.choice(RESULTS).format(p=R.randint(1, 70), n=R.randint(5, 900))} {R.choice(DISCUSSION)}\nRecommendation: {R.choice(ACTIONS)}",
    ]
    return R.choice(layouts)


def form():
    fields = pick(["Full name: ____________", "Date of birth: __/__/____", "Address: ____________________",
                   "Phone number: ____________", "Email: ____________", "Signature: ____________",
                   "[ ] I agree to the terms and conditions", "[ ] Yes  [ ] No", "Policy number: ________",
                   "Reason for request (tick one): [ ] A  [ ] B  [ ] C", "Office use only: ________",
                   "Emergency contact: ____________", "Tax identification number: ________"], 4, 9)
    title = R.choice(["APPLICATION FORM", "Registration form", "Change of address form", "Insurance claim form",
                      "Membership application", "Patient intake form", "Expense claim form", "Leave request form"])
    layouts = [
        f"{title}\nPlease complete all fields in BLOCK CAPITALS.\n" + "\n".join(fields) + "\nReturn this form to the office.",
        f"{R.choice(CORP)}\n{title}\nSection 1 - personal details\n" + "\n".join(fields[:3]) + "\nSection 2 - declaration\n" + "\n".join(fields[3:]),
        f"{title} (form {R.choice('ABCDEFG')}-{R.randint(1, 99)})\nFields marked * are mandatory.\n" + "\n".join("* " + f for f in fields),
        f"{title}\nInstructions: fill in, sign and date this form.\n" + "\n".join(fields) + f"\nDate: ____  Revision {date()}",
    ]
    return R.choice(layouts)


INGREDIENTS = ["flour", "butter", "sugar", "eggs", "onions", "garlic", "olive oil", "rice", "lentils",
               "tomatoes", "chicken thighs", "lemon", "spinach", "potatoes", "cumin", "paprika", "honey",
               "oats", "milk", "carrots", "ginger", "coconut milk", "parsley", "chickpeas"]
STEPS = ["Preheat the oven to {n}0 degrees.", "Chop the {i} finely.", "Fry the {i} until golden.",
         "Stir in the {i} and simmer for {n} minutes.", "Whisk the {i} with a pinch of salt.",
         "Bake for {n}5 minutes until risen.", "Season to taste and serve warm.", "Leave to cool before slicing."]
LANGS = {
    "python": "def {f}({a}):\n    result = []\n    for item in {a}:\n        if item.{g}():\n            result.append(item)\n    return result\n",
    "rust": "pub fn {f}({a}: &[Item]) -> Vec<&Item> {{\n    {a}.iter().filter(|i| i.{g}()).collect()\n}}\n",
    "js": "export function {f}({a}) {{\n  return {a}.filter((x) => x.{g}());\n}}\n",
    "go": "func {f}({a} []Item) []Item {{\n\tvar out []Item\n\tfor _, i := range {a} {{\n\t\tif i.{g}() {{\n\t\t\tout = append(out, i)\n\t\t}}\n\t}}\n\treturn out\n}}\n",
}
NAMES = ["active", "visible", "expired", "pending", "valid", "ready", "dirty", "cached"]
PLACES = ["the river", "the old mill", "the harbour", "the forest road", "the station", "the hills", "the market"]
NEWS = ["Storms cause travel disruption across {c}", "{c} council approves new housing plan",
        "Local team wins cup final in {c}", "Museum in {c} reopens after renovation",
        "Heatwave expected in {c} this weekend", "New bridge opens in {c}"]


def other():
    """Documents of none of the seven kinds, for the `other` label: recipes, code, stories,
    news, chat, logs and tables of numbers."""
    ing = pick(INGREDIENTS, 4, 8)
    recipe = "\n".join(f"- {R.randint(1, 500)} g {i}" for i in ing) + "\n" + "\n".join(
        R.choice(STEPS).format(n=R.randint(1, 9), i=R.choice(ing)) for _ in range(R.randint(3, 6)))
    lang = R.choice(sorted(LANGS))
    code = LANGS[lang].format(f=f"only_{R.choice(NAMES)}", a=R.choice(["items", "rows", "users", "jobs"]), g=R.choice(NAMES))
    who = R.choice(FIRST)
    layouts = [
        f"{R.choice(['Easy', 'Weeknight', 'Grandma' + chr(39) + 's', 'Quick'])} {R.choice(ing)} {R.choice(['stew', 'cake', 'soup', 'bake', 'salad'])}\nServes {R.randint(2, 8)}\n{recipe}",
        f"// {lang}\n{code}",
        f"{who} walked down to {R.choice(PLACES)} as the light was going. "
        f"{R.choice(['The wind had dropped', 'It had stopped raining', 'The bells were ringing'])}, and somewhere a dog barked. "
        f"{R.choice(['She thought of her brother', 'He remembered the letter he had never sent', 'Nobody else was about'])}. "
        f"{R.choice(['By the time she reached the water it was dark.', 'He did not turn back.', 'The first stars came out over the roofs.'])}",
        R.choice(NEWS).format(c=R.choice(CITY)) + f"\n{R.choice(['Officials said', 'Residents said', 'Police said'])} on {R.choice(['Monday', 'Tuesday', 'Friday'])} that "
        f"{R.choice(['the work would take several months', 'nobody was hurt', 'more details would follow', 'the decision was welcome'])}. "
        f"{R.randint(2, 900)} people {R.choice(['attended', 'were affected', 'signed a petition', 'took part'])}.",
        "\n".join(f"[{R.randint(8, 22):02d}:{R.randint(0, 59):02d}] {R.choice(FIRST).lower()}: {R.choice(['lol', 'on my way', 'who has the charger', 'did you see the game', 'brb', 'ok', 'sounds good', 'running late sorry'])}"
                  for _ in range(R.randint(3, 8))),
        "\n".join(f"{date()}T{R.randint(0, 23):02d}:{R.randint(0, 59):02d}:00 {R.choice(['INFO', 'WARN', 'ERROR', 'DEBUG'])} {R.choice(['request served', 'cache miss', 'retrying connection', 'job finished', 'disk usage high'])} {R.randint(1, 999)}ms"
                  for _ in range(R.randint(4, 9))),
        "city," + ",".join(f"m{m}" for m in range(1, R.randint(4, 8))) + "\n" + "\n".join(
            R.choice(CITY) + "," + ",".join(f"{R.uniform(-5, 30):.1f}" for _ in range(R.randint(3, 7))) for _ in range(R.randint(3, 7))),
    ]
    return R.choice(layouts)


def noise(text):
    """Adds a shared sentence or two, so labels overlap in vocabulary."""
    extra = [s for s in SHARED if R.random() < 0.25]
    return text + ("\n" + " ".join(extra) if extra else "") + "\n"


def main():
    # Hand-written documents (hand-*.txt) live beside the generated ones and are kept.
    gens = {"invoice": invoice, "receipt": receipt, "contract": contract, "resume": resume,
            "letter": letter, "report": report, "form": form, "other": other}
    for label, gen in gens.items():
        folder = os.path.join(OUT, label)
        os.makedirs(folder, exist_ok=True)
        for old in os.listdir(folder):
            if old.startswith(f"{label}-"):
                os.remove(os.path.join(folder, old))
        for i in range(PER_LABEL):
            text = gen()
            # Out-of-scope documents get no business boilerplate.
            text = noise(text) if label != "other" else text + "\n"
            with open(os.path.join(folder, f"{label}-{i:03d}.txt"), "w") as f:
                f.write(text)
    print(f"wrote {PER_LABEL * len(gens)} documents to {OUT}")


if __name__ == "__main__":
    main()
