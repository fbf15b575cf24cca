"""Contact files as the real exporters write them, built by the tests.

LinkedIn's Connections.csv starts with a "Notes:" preamble, carries a BOM and leaves
most emails empty. vCards come in 2.1 (Outlook, old Android: quoted-printable,
base64 photos that run until a blank line), 3.0 (Apple, Google: folded lines,
escaped commas) and 4.0.
"""

from __future__ import annotations

LINKEDIN_PREAMBLE = (
    "Notes:\r\n"
    '"When exporting your connection data, you may notice that some of the email addresses are missing. '
    "You will only see email addresses for connections who have allowed their connections to see or download "
    "their email address using this setting https://www.linkedin.com/psettings/privacy/email. You can learn more "
    'about your data at https://www.linkedin.com/help/linkedin/answer/66844"\r\n'
    "\r\n"
)
LINKEDIN_HEADER = "First Name,Last Name,URL,Email Address,Company,Position,Connected On\r\n"

LINKEDIN_ROWS = [
    'Ann,Lee,https://www.linkedin.com/in/ann-lee-1234,,"Acme, Inc.",Chief Technology Officer,21 Nov 2023',
    "Bo,Chen,https://www.linkedin.com/in/bochen,bo.chen@example.com,Beta Labs,Engineer,03 Jan 2022",
    'Zoë,Ångström,https://www.linkedin.com/in/zoe-angstrom,,Nordic Design,"Head of Design, Nordics",7 Feb 2019',
]


def linkedin_csv(rows: list[str] | None = None, *, bom: bool = True, preamble: bool = True) -> bytes:
    text = (LINKEDIN_PREAMBLE if preamble else "") + LINKEDIN_HEADER
    text += "".join(row + "\r\n" for row in (LINKEDIN_ROWS if rows is None else rows))
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def linkedin_rows(count: int, *, start: int = 0) -> list[str]:
    """`count` distinct connections; every third has an email, as in a real export."""
    rows = []
    for n in range(start, start + count):
        email = f"person{n}@example.net" if n % 3 == 0 else ""
        rows.append(
            f"First{n},Last{n},https://www.linkedin.com/in/person-{n},{email},Company {n % 97},Role {n % 13},21 Nov 2023"
        )
    return rows


# Outlook / old Android: quoted-printable with soft line breaks, a charset parameter,
# a base64 photo that is not indented and ends at a blank line.
VCARD_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller\r\n"
    "ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller & S=C3=B6hne;Vertrieb\r\n"
    "TITLE:Sales Director\r\n"
    "EMAIL;PREF;INTERNET:juergen@example.de\r\n"
    "NOTE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Met at the Hannover fair; wants an intro to a =\r\n"
    "logistics firm=0D=0ASpeaks German and English\r\n"
    "PHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n"
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRof\r\n"
    "HRwcICQuJyAiLCMcHCg3KSwwMTQ0NB8nOT04MjwuMzQy\r\n"
    "\r\n"
    "END:VCARD\r\n"
)

# Apple Contacts / Google Contacts: folded lines, escaped commas, grouped properties,
# an indented base64 photo, Google's "myContacts" group.
VCARD_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "PRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n"
    "N:Okafor;Adaeze;;;\r\n"
    "FN:Adaeze Okafor\r\n"
    "ORG:Lagos Municipal Transport Authority and Partners in Urban Mobility Consultin\r\n"
    " g;Planning\r\n"
    "TITLE:Director\\, Planning\r\n"
    "item1.EMAIL;type=INTERNET;type=WORK;type=pref:adaeze@example.ng\r\n"
    "EMAIL;type=INTERNET;type=HOME:ada.home@example.com\r\n"
    "item2.URL;type=pref:https://www.linkedin.com/in/adaeze-okafor\r\n"
    "item2.X-ABLabel:_$!<HomePage>!$_\r\n"
    "CATEGORIES:myContacts,mentors,transport\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQN\r\n"
    " DAsLDBkSEw8UHRofHRwcICQuJyAiLCMcHCg3KSwwMTQ0NB8nOT04MjwuMzQy\r\n"
    "END:VCARD\r\n"
)

# vCard 4.0 (Google's newer export, Thunderbird): data-URI photo, lower-case types.
VCARD_40 = (
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Bo Chen\r\n"
    "N:Chen;Bo;;;\r\n"
    "EMAIL;TYPE=work:bo.chen@example.com\r\n"
    "ORG:Beta Labs\r\n"
    "URL:https://www.linkedin.com/in/bochen\r\n"
    "PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQN\r\n"
    " DAsLDBkSEw8UHRof\r\n"
    "NOTE:Introduced by Priya\\, 2021\r\n"
    "END:VCARD\r\n"
)


def vcard_file(*cards: str) -> bytes:
    return "".join(cards or (VCARD_21, VCARD_30, VCARD_40)).encode("utf-8")


# --- A real-looking export with the people an ASCII-only importer loses ----------------------
#
# From LinkedIn exports seen in the wild: addresses with accents before the @ (refused by
# Django's EmailValidator and by mail servers without SMTPUTF8, but real, and the person
# behind them is real), internationalised domains (valid: sent as IDNA), several people of
# the same name at the same company told apart by their profiles or their addresses, a
# member whose name LinkedIn leaves out, a date LinkedIn never wrote, and a row with
# nothing in it but the date.
INTERNATIONAL_ROWS = {
    "lea": "Léa,Müller,https://www.linkedin.com/in/lea-muller-7a1b2c,léa.müller@example.fr,Société Générale,Analyste crédit,12 Mar 2024",
    "jose": "José,García Pérez,https://www.linkedin.com/in/jose-garcia-perez,josé@correo.es,Telefónica,Ingeniero de datos,05 Jan 2023",
    "chloe": 'Chloé,Dubois,https://www.linkedin.com/in/chloe-dubois-0b9,chloé@exämple.fr,"L\'Oréal",Cheffe de projet,7 Feb 2019',
    "jurgen": "Jürgen,Groß,https://www.linkedin.com/in/juergen-gross,juergen@bücher.de,Bücher GmbH,Einkauf,30 Sep 2021",
    "sanjay1": "Sanjay,Patel,https://www.linkedin.com/in/sanjay-patel-1a2b3c,,Infosys,Senior Engineer,14 Jun 2022",
    "sanjay2": "Sanjay,Patel,https://www.linkedin.com/in/sanjay-patel-77f0e1,,Infosys,Senior Engineer,02 Feb 2020",
    "wei1": "Wei,Zhang,,wei.zhang@example.cn,Huawei,Product Manager,11 Nov 2021",
    "wei2": "Wei,Zhang,,zhangwei88@example.cn,Huawei,Product Manager,03 Apr 2022",
    "ana": "Ana,Souza,https://www.linkedin.com/in/ana-souza,ana.souza@example.com.br,Itaú Unibanco,Gerente,31 Feb 2023",
    "typo": "Tom,Baker,https://www.linkedin.com/in/tom-baker-uk,tom.baker(at)example.co.uk,BBC,Producer,01 Jun 2020",
    "nameless": ",,https://www.linkedin.com/in/anonymous-member-4f2,,,,18 Aug 2022",
    "empty": ",,,,,,21 Nov 2023",
}


def international_csv(*keys: str) -> bytes:
    return linkedin_csv([INTERNATIONAL_ROWS[key] for key in (keys or INTERNATIONAL_ROWS)])


# A header is there, just not one we know: LinkedIn's columns in German (as a member's
# spreadsheet program saved them), and Google Contacts' own CSV.
GERMAN_HEADER_CSV = (
    "Vorname,Nachname,URL,E-Mail-Adresse,Unternehmen,Position,Verbunden am\r\n"
    "Jürgen,Groß,https://www.linkedin.com/in/juergen-gross,juergen@bücher.de,Bücher GmbH,Einkauf,30 Sep 2021\r\n"
).encode()
GOOGLE_CSV = (
    b"Name,Given Name,Additional Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,Organization 1 - Name\r\n"
    b"Ann Lee,Ann,,Lee,* Work,ann@example.com,Acme\r\n"
)
