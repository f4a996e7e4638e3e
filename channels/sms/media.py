"""Photos and videos of an MMS (Twilio's `MediaUrl{N}`): which ones are ours to fetch, and
the loop that fetches them into the blob store and attaches them to the complaint.

The webhook only records the media, with its SMS and in its transaction: Twilio waits about
15 s for the answer, and a photo may take longer to fetch. This loop (in the dispatching
process) fetches them afterwards. Only Twilio's own API is asked: a MediaUrl on
https://api.twilio.com is fetched from LAPOR_TWILIO_API_URL with the same path and the
account's credentials; any other URL is refused when the SMS is taken and never requested,
so the credentials go nowhere else and a delivery cannot make the gateway fetch an address
of its choosing. Twilio answers with a redirect to its CDN; aiohttp drops the credentials
when a redirect leaves the API's origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlsplit

import aiohttp

from channels.plugin import ChannelHost
from channels.sms.models import MediaRef
from channels.sms.outbound_http import basic_auth, retry_may_help
from channels.sms.sending import Backoff
from channels.webform.media import NotMedia, keep_media, read_head
from normalizer.models import Attachment
from store.base import Store
from store.blobs import BlobStore, BlobTooLarge, Uploads
from store.sms import MediaOutcome, MediaState, NewMedia, SmsMedia

log = logging.getLogger(__name__)

TWILIO_API_HOST: Final = "api.twilio.com"
MAX_REDIRECTS: Final = 3
BATCH: Final = 10
"""Media fetched at once (each of another complaint)."""
FETCH_TIMEOUT: Final = aiohttp.ClientTimeout(total=180, sock_connect=30)
LEASE: Final = timedelta(minutes=5)
"""A claimed media is not claimed again before this, longer than any fetch may take: a
fetch cut short by a crash is tried again after it."""
CHUNK: Final = 64 * 1024
POLL_SECONDS: Final = 1.0
"""How soon media recorded by another (intake-only) process are fetched."""
_MEDIA_PATH: Final = re.compile(
    r"/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Messages/(?:MM|SM)[0-9a-fA-F]{32}"
    r"/Media/ME[0-9a-fA-F]{32}",
    re.ASCII,
)


def new_media(ref: MediaRef) -> NewMedia:
    """What an SMS records of one MediaUrl: to fetch, or refused and why."""
    return NewMedia(url=ref.url, content_type=ref.content_type, refused=_refusal(ref.url))


def _refusal(url: str) -> str | None:
    parts = urlsplit(url)
    # The whole netloc: a port or user info on the right host is not Twilio's API either.
    if parts.scheme != "https" or parts.netloc.lower() != TWILIO_API_HOST:
        return f"not on https://{TWILIO_API_HOST}"
    if not _MEDIA_PATH.fullmatch(parts.path):
        return "not a Twilio media URL"
    return None


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int
    """Per file (LAPOR_MAX_UPLOAD_BYTES, as on the web form)."""
    max_files: int
    """Per complaint (LAPOR_MAX_UPLOAD_FILES)."""
    max_attempts: int
    """Tries while Twilio answers "later" (LAPOR_SMS_SEND_MAX_ATTEMPTS)."""


class _NotFetched(Exception):
    """Why a media was not fetched. `transient`: worth trying again (a 5xx, a 429, a
    connection or time-out); otherwise `state` (failed or refused) is final."""

    def __init__(
        self, reason: str, state: MediaState = MediaState.FAILED, *, transient: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state
        self.transient = transient


class TwilioMedia:
    """The `sms-media` loop: fetches pending media, one at a time per complaint."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        clock: Callable[[], datetime],
        *,
        api_url: str,
        account_sid: str,
        auth_token: str,
        limits: MediaLimits,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._clock = clock
        self._api_url = api_url.rstrip("/")
        self._auth = basic_auth(account_sid, auth_token)
        self._limits = limits
        self._backoff = Backoff()  # as for SMS to send: Twilio's "later" is the same
        self._rng = random.Random()
        self._recorded = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_host(cls, host: ChannelHost) -> TwilioMedia:
        s = host.settings
        assert s.twilio_auth_token is not None  # media come only by the webhook it opens
        limits = MediaLimits(
            max_bytes=s.max_upload_bytes,
            max_files=s.max_upload_files,
            max_attempts=s.sms_send_max_attempts,
        )
        return cls(
            host.store,
            host.blobs,
            host.clock,
            api_url=s.twilio_api_url,
            account_sid=s.twilio_account_sid,
            auth_token=s.twilio_auth_token.get_secret_value(),
            limits=limits,
        )

    def wake(self) -> None:
        """Media were just recorded in this process: fetch them now, not at the next poll."""
        self._recorded.set()

    async def idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(POLL_SECONDS):
                await self._recorded.wait()
        self._recorded.clear()

    async def run_once(self) -> int:
        now = self._clock()
        due = await self._store.claim_sms_media(now, BATCH, now + LEASE, self._limits.max_files)
        results = await asyncio.gather(*(self._fetch(m) for m in due), return_exceptions=True)
        for media, result in zip(due, results, strict=True):
            if isinstance(result, Exception):
                log.error(
                    "MMS media %d: fetching failed unexpectedly; tried again in %s",
                    media.id,
                    LEASE,
                    exc_info=result,
                )
        return len(due)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _fetch(self, media: SmsMedia) -> None:
        # The file is held from its arrival until its complaint references it (committed),
        # so no refused upload of the same bytes removes it meanwhile.
        uploads = Uploads(self._blobs)
        try:
            outcome = await self._attempt(media, uploads)
            state = await self._store.finish_sms_media(
                media.id, outcome, self._clock(), self._limits.max_files
            )
            if state is not MediaState.FETCHED:  # the complaint had its files meanwhile
                await uploads.discard(self._store.referenced_blobs)
        finally:
            uploads.close()
        log.info("MMS media %d: %s %s", media.id, state.value, outcome.error or "")

    async def _attempt(self, media: SmsMedia, uploads: Uploads) -> MediaOutcome:
        try:
            attachment = await self._download(media, uploads)
        except _NotFetched as problem:
            return self._not_fetched(media, problem)
        return MediaOutcome(state=MediaState.FETCHED, attachment=attachment)

    def _not_fetched(self, media: SmsMedia, problem: _NotFetched) -> MediaOutcome:
        if problem.transient and media.attempts < self._limits.max_attempts:
            delay = self._backoff.delay(media.attempts, self._rng)
            retry_at = self._clock() + timedelta(seconds=delay)
            return MediaOutcome(state=MediaState.PENDING, error=problem.reason, retry_at=retry_at)
        return MediaOutcome(state=problem.state, error=problem.reason)

    async def _download(self, media: SmsMedia, uploads: Uploads) -> Attachment:
        path = urlsplit(media.url).path
        try:
            # aiohttp gives up on the redirect that reaches max_redirects, not after it.
            async with self._client().get(
                self._api_url + path, headers=self._auth, max_redirects=MAX_REDIRECTS + 1
            ) as response:
                if response.status != 200:
                    reason = f"HTTP {response.status} {response.reason or ''}".rstrip()
                    raise _NotFetched(reason, transient=retry_may_help(response.status))
                return await self._keep(response.content, path.rsplit("/", 1)[-1], uploads)
        except aiohttp.TooManyRedirects:
            raise _NotFetched(f"more than {MAX_REDIRECTS} redirects") from None
        except (aiohttp.InvalidURL, aiohttp.RedirectClientError):
            raise _NotFetched("no usable URL (LAPOR_TWILIO_API_URL, or a redirect)") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The exception's own message may quote the URL; its type is enough.
            reason = (
                "no answer in time"
                if isinstance(exc, TimeoutError)
                else f"connection failed ({type(exc).__name__})"
            )
            raise _NotFetched(reason, transient=True) from None

    async def _keep(
        self, body: aiohttp.StreamReader, media_sid: str, uploads: Uploads
    ) -> Attachment:
        """Into the blob store if its first bytes are a photo or video, as the web form
        takes uploads: the type Twilio announced is the sender's phone's word."""
        head = await read_head(lambda: body.read(CHUNK))
        try:
            content_type, sha256, size = await keep_media(
                head, lambda: body.read(CHUNK), uploads, self._limits.max_bytes
            )
        except (NotMedia, BlobTooLarge) as exc:
            raise _NotFetched(str(exc), MediaState.REFUSED) from None
        extension = mimetypes.guess_extension(content_type) or ""
        return Attachment(
            filename=f"{media_sid}{extension}", content_type=content_type, size=size, sha256=sha256
        )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=FETCH_TIMEOUT)
        return self._session
