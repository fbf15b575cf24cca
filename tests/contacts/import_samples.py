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
