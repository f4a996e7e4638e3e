"""Kannel 1.4.5 from Debian's packages, run for real: bearerbox, smsbox, and Kannel's test
SMSC client `fakesmsc` standing in for the mobile network and the citizens' phones.

kannel.conf is written for each test in a temporary directory, on free ports of 127.0.0.1.
The core, smsc and smsbox groups are the fixture's (where the daemons listen); the
sms-service and sendsms-user groups, and the lines the README adds to the smsbox group, are
read from README.md's Kannel paragraph, with only the gateway's address and secret put in
for its placeholders. What the README tells an operator to paste is what these tests run.

fakesmsc, started without messages on its command line, reads one MO SMS a line from its
stdin, `sender receiver type [udh] data` (gw/smsc/smsc_fake.c: `text` is the 7-bit text
as it is, `ucs2` URL-encoded UTF-16BE, `udh-text` a URL-encoded UDH and then 7-bit text),
and logs every SMS Kannel hands the network, in the same format, as `Got message N: <…>`
(`udh <udh> data <text>` when it carries a UDH, both URL-encoded).
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, Self, TypeVar
from urllib.parse import quote_from_bytes, unquote_to_bytes

import aiohttp

from channels.sms.udh import concat_udh, parse_concat
from tests.conftest import eventually, free_port
from tests.processes import stop_child

BEARERBOX: Final = Path("/usr/sbin/bearerbox")
SMSBOX: Final = Path("/usr/sbin/smsbox")
FAKESMSC: Final = Path("/usr/lib/kannel/test/fakesmsc")
PACKAGES: Final = ("kannel", "kannel-extras")  # the boxes; fakesmsc

README: Final = Path(__file__).resolve().parents[4] / "README.md"
README_ADDRESS: Final = "127.0.0.1:8080"
README_SECRET: Final = "RAHASIA"

SHORT_CODE: Final = "1708"
ADMIN_PASSWORD: Final = "admin-kannel-uji"
START_WITHIN: Final = 20.0  # a box's start-up, bounded; about half a second here
STOP_WITHIN: Final = 15.0
PROBE_TIMEOUT: Final = aiohttp.ClientTimeout(total=2)
# fakesmsc reads its stdin with fgets into 256 bytes: a longer line would become two SMS.
FAKESMSC_MAX_LINE: Final = 254
_GOT: Final = re.compile(r"Got message \d+: <(.*)>$")
_SENT: Final = re.compile(r"fakesmsc: sent message (\d+)$")

T = TypeVar("T")


def missing_programs() -> list[Path]:
    return [program for program in (BEARERBOX, SMSBOX, FAKESMSC) if not program.exists()]


# -- what the README says --------------------------------------------------------------------


@dataclass(frozen=True)
class ReadmeKannel:
    """README.md's Kannel paragraph: its kannel.conf groups and its smsbox lines."""

    groups: str
    smsbox_lines: str

    @classmethod
    def read(cls, readme: Path = README) -> Self:
        text = readme.read_text(encoding="utf-8")
        if "**Kannel.**" not in text:
            raise AssertionError(f"{readme} has no **Kannel.** paragraph")
        # From the paragraph to the next gateway's (**Gammu SMSD …**).
        section = text.split("**Kannel.**", 1)[1].split("\n**", 1)[0]
        blocks = re.findall(r"^```[^\n]*\n(.*?)^```", section, flags=re.M | re.S)
        if len(blocks) != 2:
            raise AssertionError(
                "README's Kannel paragraph must have two code blocks (the kannel.conf groups, "
                f"then the smsbox group's lines); found {len(blocks)}"
            )
        return cls(groups=blocks[0], smsbox_lines=blocks[1])

    def without(self, line: str) -> Self:
        """These groups with every `line` left out, to show what the line is there for."""
        lines = self.groups.splitlines()
        if line not in lines:
            raise AssertionError(f"README's Kannel groups have no line {line!r}")
        return replace(self, groups="".join(f"{kept}\n" for kept in lines if kept != line))

    def group(self, name: str) -> dict[str, str]:
        """The settings of the README's `group = name`, values as Kannel reads them."""
        for block in self.groups.split("\n\n"):
            settings = dict(_setting(line) for line in block.splitlines() if line.strip())
            if settings.get("group") == name:
                return settings
        raise AssertionError(f"README's Kannel groups have no group = {name}")

    def for_gateway(self, port: int, secret: str) -> str:
        """The groups as an operator would paste them for a gateway on `port`."""
        for placeholder in (README_ADDRESS, README_SECRET):
            if self.groups.count(placeholder) != 1:
                raise AssertionError(f"README's Kannel groups must name {placeholder!r} once")
        return self.groups.replace(README_ADDRESS, f"127.0.0.1:{port}").replace(
            README_SECRET, secret
        )


def _setting(line: str) -> tuple[str, str]:
    name, equals, value = line.partition("=")
    if not equals:
        raise AssertionError(f"not a Kannel setting: {line!r}")
    value = value.strip()
    if len(value) > 1 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return name.strip(), value


# -- kannel.conf -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What a test varies on Kannel's side; the defaults are a deployment's."""

    readme: ReadmeKannel = field(default_factory=ReadmeKannel.read)
    combine_parts: bool = True
    """`sms-combine-concatenated-mo`: bearerbox joins a long SMS (Kannel's default)."""
    combine_timeout: int | None = None
    """`sms-combine-concatenated-mo-timeout`: how long bearerbox holds a part whose
    siblings do not come before passing it on alone; None keeps Kannel's 1800 s."""


@dataclass(frozen=True)
class Ports:
    admin: int
    box: int
    smsc: int
    sendsms: int

    @classmethod
    def free(cls) -> Self:
        return cls(free_port(), free_port(), free_port(), free_port())

    @property
    def sendsms_url(self) -> str:
        return f"http://127.0.0.1:{self.sendsms}/cgi-bin/sendsms"


def kannel_conf(setup: Setup, ports: Ports, gateway_port: int, secret: str) -> str:
    core = f"""\
group = core
admin-port = {ports.admin}
admin-interface = 127.0.0.1
admin-password = {ADMIN_PASSWORD}
smsbox-port = {ports.box}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
sms-combine-concatenated-mo = {str(setup.combine_parts).lower()}
"""
    if setup.combine_timeout is not None:
        core += f"sms-combine-concatenated-mo-timeout = {setup.combine_timeout}\n"
    smsc = f"""\
group = smsc
smsc = fake
smsc-id = fake
our-host = 127.0.0.1
port = {ports.smsc}
connect-allow-ip = 127.0.0.1
"""
    smsbox = f"""\
group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports.box}
sendsms-interface = 127.0.0.1
sendsms-port = {ports.sendsms}
{setup.readme.smsbox_lines}"""
    return "\n".join([core, smsc, smsbox, setup.readme.for_gateway(gateway_port, secret)])


# -- the daemons ----------------------------------------------------------------------------


@dataclass
class Box:
    """bearerbox or smsbox, logging at debug level to a file of its own."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, program: Path, conf: Path) -> Self:
        log = conf.parent / f"{program.name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(program), "-v", "0", str(conf)],
                cwd=conf.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return cls(program.name, process, log)

    def check_running(self) -> None:
        if (code := self.process.poll()) is not None:
            raise AssertionError(f"{self.name} exited with {code}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, Kannel's orderly shutdown; SIGKILL if it lingers."""
        stop_child(self.process, STOP_WITHIN)


@dataclass(frozen=True)
class Status:
    """What bearerbox's status page says of the boxes and SMSCs connected to it."""

    boxes: tuple[str, ...]
    smscs: tuple[str, ...]

    @classmethod
    def parse(cls, xml: str) -> Self:
        root = ET.fromstring(xml)
        return cls(
            tuple(box.findtext("type", "") for box in root.iter("box")),
            tuple(smsc.findtext("status", "") for smsc in root.iter("smsc")),
        )

    @property
    def smsc_online(self) -> bool:
        return any(status.startswith("online") for status in self.smscs)


class Kannel:
    """bearerbox and smsbox, each started once the one before it is ready."""

    def __init__(self, conf: Path, ports: Ports) -> None:
        self.conf, self.ports = conf, ports
        self.boxes: list[Box] = []

    async def start(self) -> None:
        self.boxes.append(Box.start(BEARERBOX, self.conf))
        await self.wait_for("bearerbox's admin page", lambda status: True)
        self.boxes.append(Box.start(SMSBOX, self.conf))
        await self.wait_for("smsbox connected", lambda status: "smsbox" in status.boxes)
        # smsbox opens its sendsms port before it connects; wait for both all the same.
        await self.until("smsbox's sendsms port", self._sendsms_answers, bool)

    async def wait_for(self, what: str, accept: Callable[[Status], bool]) -> None:
        """Until bearerbox's status page says what `accept` wants."""
        await self.until(what, self._status, lambda status: status is not None and accept(status))

    async def wait_logged(self, name: str, text: str, count: int) -> None:
        """Until box `name` has logged `text` `count` times: what smsbox does with a
        get-url that fails shows nowhere else."""
        (log,) = [box.log for box in self.boxes if box.name == name]

        async def logged() -> int:
            return log.read_text(errors="replace").count(text)

        await self.until(f"{name} logging {text!r}", logged, lambda n: n >= count)

    async def until(
        self, what: str, probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool]
    ) -> T:
        """`eventually`, failing with the boxes' logs, and at once if a box has exited."""

        async def checked() -> T:
            for box in self.boxes:
                box.check_running()
            return await probe()

        try:
            return await eventually(checked, accept, START_WITHIN)
        except AssertionError as exc:
            raise AssertionError(f"{what}: {exc}\n{self.logs()}") from None

    async def _status(self) -> Status | None:
        url = f"http://127.0.0.1:{self.ports.admin}/status.xml?password={ADMIN_PASSWORD}"
        try:
            async with aiohttp.request("GET", url, timeout=PROBE_TIMEOUT) as response:
                return Status.parse(await response.text())
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def _sendsms_answers(self) -> bool:
        try:
            async with aiohttp.request("GET", self.ports.sendsms_url, timeout=PROBE_TIMEOUT):
                return True  # with its refusal: no username
        except (aiohttp.ClientError, TimeoutError):
            return False

    def logs(self) -> str:
        return "\n".join(f"--- {box.name}:\n{box.log_tail()}" for box in self.boxes)

    def stop(self) -> None:
        for box in reversed(self.boxes):
            box.stop()


# -- the phones ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sms:
    """One SMS as Kannel handed it to the network for a phone."""

    sender: str
    receiver: str
    text: str
    udh: bytes = b""

    @classmethod
    def parse(cls, line: str) -> Self:
        sender, receiver, kind, data = line.split(" ", 3)
        if kind == "udh":
            udh, _, text = data.partition(" data ")
            return cls(sender, receiver, _url_decoded(text).decode(), _url_decoded(udh))
        if kind == "ucs-2":
            return cls(sender, receiver, _url_decoded(data).decode("utf-16-be"))
        if kind != "text":
            raise AssertionError(f"fakesmsc got an SMS of a kind we never send: {line!r}")
        return cls(sender, receiver, data)


def _url_decoded(value: str) -> bytes:
    # Kannel's octstr_url_encode writes a space as "+" and a "+" as %2B.
    return unquote_to_bytes(value.replace("+", " "))


def shown(inbox: list[Sms]) -> list[str]:
    """The messages a phone shows: the parts of a long SMS (concatenation UDH) joined in
    order once all have come, every other SMS on its own, in the order they came."""
    messages: list[str] = []
    parts: dict[int, dict[int, str]] = {}
    for sms in inbox:
        part = parse_concat(sms.udh) if sms.udh else None
        if part is None:
            messages.append(sms.text)
            continue
        pieces = parts.setdefault(part.reference, {})
        pieces[part.seq] = sms.text
        if len(pieces) == part.total:
            messages.append("".join(pieces[seq] for seq in sorted(pieces)))
    return messages


class Phones:
    """fakesmsc connected to bearerbox's fake SMSC: it sends what citizens type and keeps
    what reaches their phones."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.log: list[str] = []
        self.delivered: list[Sms] = []
        self._written = self._sent = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, port: int) -> Self:
        # -v 0: what reaches a phone is logged at debug level.
        process = await asyncio.create_subprocess_exec(
            str(FAKESMSC), "-H", "127.0.0.1", "-r", str(port), "-i", "0", "-v", "0",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(process)

    async def _read(self) -> None:
        assert self._process.stderr is not None
        async for raw in self._process.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.log.append(line)
            if got := _GOT.search(line):
                self.delivered.append(Sms.parse(got.group(1)))
            elif sent := _SENT.search(line):
                self._sent = int(sent.group(1))

    async def text(self, sender: str, text: str) -> None:
        """A 7-bit SMS (Kannel takes the line's bytes as UTF-8 text)."""
        await self._send(f"{sender} {SHORT_CODE} text {text}")

    async def ucs2(self, sender: str, text: str) -> None:
        await self._send(f"{sender} {SHORT_CODE} ucs2 {_url_encoded(text.encode('utf-16-be'))}")

    async def part(self, sender: str, text: str, reference: int, total: int, seq: int) -> None:
        """Part `seq` of a long 7-bit SMS, with its concatenation UDH."""
        udh = _url_encoded(concat_udh(reference, total, seq))
        await self._send(f"{sender} {SHORT_CODE} udh-text {udh} {text}")

    async def _send(self, line: str) -> None:
        data = line.encode() + b"\n"
        if len(data) > FAKESMSC_MAX_LINE:
            raise ValueError(f"fakesmsc would read this {len(data)}-byte line as two SMS")
        assert self._process.stdin is not None
        self._process.stdin.write(data)
        await self._process.stdin.drain()
        self._written += 1
        # fakesmsc waits on its stdin with select() but reads it with fgets(): a second line
        # written before it has taken the first sits in stdio's buffer, unseen by select(),
        # until more input comes. So one line at a time, each until fakesmsc has sent it.
        await self._wait(lambda: self._sent >= self._written, "fakesmsc to send the SMS", 5.0)

    def inbox(self, number: str) -> list[Sms]:
        return [sms for sms in self.delivered if sms.receiver == number]

    async def messages(self, number: str, count: int, within: float = 10.0) -> list[str]:
        """What `number`'s phone shows once it shows `count` messages. fakesmsc looks at
        its connection at least once a second, so an SMS shows up to a second late."""
        what = f"{count} message(s) on {number}"
        await self._wait(lambda: len(shown(self.inbox(number))) >= count, what, within)
        return shown(self.inbox(number))

    async def message(self, number: str, within: float = 10.0) -> str:
        """The one message `number`'s phone shows: a reply that reaches it as several SMS
        shown apart fails here."""
        shows = await self.messages(number, 1, within)
        assert len(shows) == 1, f"{number}'s phone shows {len(shows)} messages: {shows!r}"
        return shows[0]

    async def _wait(self, condition: Callable[[], bool], what: str, within: float) -> None:
        async def probe() -> bool:
            return condition()

        try:
            await eventually(probe, bool, within)
        except AssertionError:
            log = "\n".join(self.log[-20:])
            raise AssertionError(f"{what}: not within {within}s\n--- fakesmsc:\n{log}") from None

    async def close(self) -> None:
        # SIGKILL: fakesmsc has nothing to flush, and its own way out (end of stdin,
        # SIGINT) frees its last message twice and aborts.
        if self._process.returncode is None:
            self._process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self._process.wait(), STOP_WITHIN)
        await self._reader


def _url_encoded(data: bytes) -> str:
    return quote_from_bytes(data, safe="")
