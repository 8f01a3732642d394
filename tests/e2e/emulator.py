"""The telegram-test-api Bot API emulator, run as a Node subprocess, and a Python user that talks to it.

``Emulator`` starts ``node run-emulator.js`` on a free port, waits for its ready line and stops the
process by its PID (SIGTERM, then SIGKILL after a timeout). While it runs it plays the Telegram
servers: the bot calls its Bot API at ``bot_api_base_url`` (through the quirks adapter, see
``quirks_adapter.py``), and an ``EmulatorUser`` plays a person chatting with the bot through the
emulator's client endpoints (``/sendMessage``, ``/sendCommand``, ``/sendCallback`` and
``/getUpdatesHistory`` on the emulator, with the bot token in the JSON body)::

    async with Emulator() as emu:
        user = emu.user(TOKEN)
        await user.send_text("/start")
        reply = await user.wait_for_reply(lambda m: m.text == "Hi")
        await user.press_button("go", reply.message_id)

The emulator's npm package lives in ``tests/e2e/node_modules``; ``emulator_install_problem()`` says
what is missing when it is not installed (``npm ci --prefix tests/e2e``).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

JSONDict = dict[str, Any]

E2E_DIR = Path(__file__).resolve().parent
RUN_SCRIPT = E2E_DIR / "run-emulator.js"
PACKAGE = "telegram-test-api"
INSTALL_COMMAND = "npm ci --prefix tests/e2e"
HOST = "127.0.0.1"
# Any token does for the emulator; it keeps one conversation per token.
TEST_TOKEN = "123456:e2e-test-token"

# What the emulator's getMe describes (a constant in telegram-test-api), completed with the fields
# the real Bot API sends. The quirks adapter answers getMe with this and signs the bot's messages
# with it; the user puts it in the messages its button presses refer to.
EMULATOR_BOT_USER: JSONDict = {
    "id": 666,
    "is_bot": True,
    "first_name": "Test First name",
    "username": "TestNameBot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}


class EmulatorError(RuntimeError):
    """The emulator failed to start, or answered a client request with an error."""


def emulator_install_problem(e2e_dir: Path = E2E_DIR) -> str | None:
    """Why the emulator cannot run here (node or the npm package missing or stale), or None if it can."""
    fix = f"run `{INSTALL_COMMAND}` from the repository root"
    if shutil.which("node") is None:
        return f"the e2e tests need Node.js: `node` is not on PATH (install it, then {fix})"
    installed = e2e_dir / "node_modules" / PACKAGE / "package.json"
    if not installed.is_file():
        return f"the e2e tests need the npm package {PACKAGE}, which is not installed: {fix}"
    lock = e2e_dir / "package-lock.json"
    try:
        wanted = json.loads(lock.read_text())["packages"][f"node_modules/{PACKAGE}"]["version"]
        have = json.loads(installed.read_text())["version"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return f"cannot compare the installed {PACKAGE} with {lock.name} ({error!r}): {fix}"
    if have != wanted:
        return f"{PACKAGE} {have} is installed but {lock.name} pins {wanted}: {fix}"
    return None


@dataclass(frozen=True)
class InlineButton:
    """One button of an inline keyboard as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class BotMessage:
    """A message the bot sent, in its current state (edits included), as the emulator stores it."""

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: JSONDict | None
    date: int  # seconds since the epoch
    raw: JSONDict = field(repr=False, compare=False)

    @property
    def buttons(self) -> tuple[tuple[InlineButton, ...], ...]:
        """The inline keyboard, row by row; empty when there is none."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return tuple(
            tuple(
                InlineButton(text=str(b.get("text", "")), callback_data=b.get("callback_data"), url=b.get("url"))
                for b in row
            )
            for row in rows
        )

    def button(self, text: str) -> InlineButton:
        """The inline button with this label; LookupError if there is none."""
        for row in self.buttons:
            for candidate in row:
                if candidate.text == text:
                    return candidate
        raise LookupError(f"no button {text!r} on message {self.message_id}: {self.buttons}")

    def state(self) -> tuple[int, str | None, str]:
        """What makes one version of this message differ from another (for spotting edits)."""
        return (self.message_id, self.text, json.dumps(self.reply_markup, sort_keys=True))


def _inline_markup(markup: object) -> JSONDict | None:
    """The message's inline keyboard, or None; an empty keyboard counts as none (as in Telegram clients)."""
    if isinstance(markup, str):  # the emulator keeps reply_markup as the bot sent it, maybe JSON text
        markup = json.loads(markup)
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return markup
    return None


def bot_message_from_history(entry: JSONDict) -> BotMessage | None:
    """The bot message in one getUpdatesHistory entry, or None for the user's own messages and presses.

    The emulator stores a bot message as the bot's sendMessage parameters (``chat_id``, ``text``, ...)
    with the edits merged in, next to ``messageId`` and ``time`` (milliseconds); user messages have
    ``chat``/``from`` instead of ``chat_id``.
    """
    message = entry.get("message")
    if not isinstance(message, dict) or "chat_id" not in message:
        return None
    text = message.get("text")
    return BotMessage(
        message_id=int(entry["messageId"]),
        chat_id=int(message["chat_id"]),
        text=None if text is None else str(text),
        reply_markup=_inline_markup(message.get("reply_markup")),
        date=int(entry["time"]) // 1000,
        raw=entry,
    )


def command_entities(text: str) -> list[JSONDict]:
    """The bot_command entity Telegram adds to a message that starts with a command ("/start foo")."""
    if not text.startswith("/"):
        return []
    length = len(text.split(maxsplit=1)[0])
    # Offsets and lengths count UTF-16 code units.
    length = len(text[:length].encode("utf-16-le")) // 2
    return [{"type": "bot_command", "offset": 0, "length": length}]


class EmulatorUser:
    """A person in a private chat with the bot, talking through the emulator's client endpoints."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        token: str,
        *,
        user_id: int = 1,
        chat_id: int | None = None,
        first_name: str = "Tess",
        username: str = "tess_tester",
        language_code: str = "en",
    ) -> None:
        self._session = session
        self._url = url
        self.token = token
        self.user_id = user_id
        self.chat_id = user_id if chat_id is None else chat_id
        self.first_name = first_name
        self.username = username
        self.language_code = language_code
        self._seen: set[tuple[int, str | None, str]] = set()

    @property
    def user(self) -> JSONDict:
        """This user as a Bot API User object."""
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.first_name,
            "username": self.username,
            "language_code": self.language_code,
        }

    @property
    def chat(self) -> JSONDict:
        """The private chat with the bot as a Bot API Chat object."""
        return {"id": self.chat_id, "type": "private", "first_name": self.first_name, "username": self.username}

    async def _post(self, route: str, body: JSONDict) -> Any:
        async with self._session.post(f"{self._url}{route}", json=body) as response:
            text = await response.text()
            if response.status != 200:
                raise EmulatorError(f"emulator {route} answered {response.status}: {text}")
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("ok") is not True:
            raise EmulatorError(f"emulator {route} answered {text}")
        return data.get("result")

    async def send_text(self, text: str) -> None:
        """Send a text message to the bot; a leading "/command" gets its bot_command entity like in Telegram.

        Quirk: the emulator adds no entities itself (its /sendMessage stores the text as is), and
        PTB's CommandHandler only sees a command with a bot_command entity at offset 0, so commands go
        through /sendCommand with the entity that the Telegram servers would add.
        """
        body: JSONDict = {
            "botToken": self.token,
            "date": int(time.time()),
            "from": self.user,
            "chat": self.chat,
            "text": text,
        }
        entities = command_entities(text)
        if entities:
            body["entities"] = entities
            await self._post("/sendCommand", body)
        else:
            await self._post("/sendMessage", body)

    async def press_button(self, callback_data: str, message_id: int) -> None:
        """Press the inline button with this callback data on the bot's message ``message_id``.

        Like a Telegram client, this only presses a button that is on the message as it is now
        (LookupError otherwise). The callback query carries the whole message, as Telegram's does:
        the emulator's own client (makeCallbackQuery) sends one without message_id and date, which
        PTB cannot parse.
        """
        message = await self.bot_message(message_id)
        if callback_data not in {b.callback_data for row in message.buttons for b in row}:
            raise LookupError(f"message {message_id} has no button with callback_data {callback_data!r}: {message}")
        self._seen.add(message.state())  # the user has seen the version of the message they press on
        shown: JSONDict = {
            "message_id": message.message_id,
            "from": EMULATOR_BOT_USER,
            "chat": self.chat,
            "date": message.date,
            "text": message.text or "",
        }
        if message.reply_markup is not None:
            shown["reply_markup"] = message.reply_markup
        await self._post(
            "/sendCallback",
            {
                "botToken": self.token,
                "date": int(time.time()),
                "from": self.user,
                "message": shown,
                "data": callback_data,
            },
        )

    async def history(self) -> list[JSONDict]:
        """The emulator's raw record of this bot's conversation (user and bot messages), oldest first."""
        result = await self._post("/getUpdatesHistory", {"token": self.token})
        return list(result or [])

    async def bot_messages(self) -> list[BotMessage]:
        """The bot's messages in this chat, in their current (edited) state, oldest first."""
        messages = (bot_message_from_history(entry) for entry in await self.history())
        mine = [m for m in messages if m is not None and m.chat_id == self.chat_id]
        return sorted(mine, key=lambda m: m.message_id)

    async def bot_message(self, message_id: int) -> BotMessage:
        """The bot's message ``message_id`` as it is now; LookupError if the bot sent none such here."""
        for message in await self.bot_messages():
            if message.message_id == message_id:
                return message
        raise LookupError(f"the bot sent no message {message_id} to chat {self.chat_id}")

    async def wait_for_reply(
        self,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - a polling deadline, reported with what did arrive
        *,
        interval: float = 0.02,
    ) -> BotMessage:
        """The first bot message, new or newly edited, that this user has not been shown yet and matches.

        Each version a call returns counts as shown, so the next call waits for the next message or
        edit. Quirk: the emulator's client /getUpdates only returns unread new messages and never an
        edit of one already read, so this polls /getUpdatesHistory, which holds the edited state.
        Raises TimeoutError, listing what the bot did send, when nothing matches in time.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            messages = await self.bot_messages()
            for message in messages:
                state = message.state()
                if state not in self._seen and (predicate is None or predicate(message)):
                    self._seen.add(state)
                    return message
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(f"no matching bot reply within {timeout} s; the bot's messages: {messages}")
            await asyncio.sleep(interval)


class Emulator:
    """The telegram-test-api emulator running as a Node subprocess on 127.0.0.1 and a free port."""

    def __init__(
        self,
        *,
        store_timeout: int = 600,
        start_timeout: float = 10.0,
        stop_timeout: float = 3.0,
        node: str = "node",
    ) -> None:
        self.store_timeout = store_timeout  # seconds the emulator keeps messages
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.node = node
        self.port: int | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)
        self._readers: list[asyncio.Task[None]] = []

    @property
    def pid(self) -> int:
        if self._process is None:
            raise EmulatorError("the emulator is not running")
        return self._process.pid

    @property
    def url(self) -> str:
        """The emulator's root URL; its client endpoints hang off it (``/sendMessage``, ...)."""
        if self.port is None:
            raise EmulatorError("the emulator is not running")
        return f"http://{HOST}:{self.port}"

    @property
    def bot_api_base_url(self) -> str:
        """The emulator's own Bot API base URL (``base_url`` for PTB), without the quirks adapter."""
        return f"{self.url}/bot"

    @property
    def output(self) -> str:
        """The last lines the emulator printed (stdout and stderr), for diagnostics."""
        return "\n".join(self._output)

    def user(self, token: str, **kwargs: Any) -> EmulatorUser:
        """A user chatting with the bot of this token; keyword arguments go to EmulatorUser."""
        if self._session is None:
            raise EmulatorError("the emulator is not running")
        return EmulatorUser(self._session, self.url, token, **kwargs)

    async def start(self) -> None:
        problem = emulator_install_problem()
        if problem is not None:
            raise EmulatorError(problem)
        self._process = await asyncio.create_subprocess_exec(
            self.node,
            str(RUN_SCRIPT),
            "--port",
            "0",
            "--store-timeout",
            str(self.store_timeout),
            cwd=E2E_DIR,
            stdin=asyncio.subprocess.PIPE,  # the script exits when this closes, should we die
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            self.port = await asyncio.wait_for(self._read_ready_line(), self.start_timeout)
        except BaseException as error:
            await self.stop()
            if isinstance(error, TimeoutError):
                raise EmulatorError(f"the emulator was not ready in {self.start_timeout} s:\n{self.output}") from None
            raise
        assert self._process.stdout is not None
        assert self._process.stderr is not None
        self._readers = [
            asyncio.create_task(self._keep_output(self._process.stdout)),
            asyncio.create_task(self._keep_output(self._process.stderr)),
        ]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def _read_ready_line(self) -> int:
        assert self._process is not None
        assert self._process.stdout is not None
        while True:
            line = (await self._process.stdout.readline()).decode(errors="replace")
            if not line:
                assert self._process.stderr is not None
                errors = (await self._process.stderr.read()).decode(errors="replace")
                raise EmulatorError(f"the emulator exited before it was ready:\n{self.output}\n{errors}")
            self._output.append(line.rstrip())
            with contextlib.suppress(ValueError):
                ready = json.loads(line)
                if isinstance(ready, dict) and ready.get("event") == "ready":
                    return int(ready["port"])

    async def _keep_output(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self._output.append(line.decode(errors="replace").rstrip())

    async def stop(self) -> None:
        """Stop the emulator by its PID: SIGTERM, then SIGKILL if it is still there after stop_timeout."""
        if self._session is not None:
            await self._session.close()
            self._session = None
        process, self._process = self._process, None
        if process is not None:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)  # sent to process.pid only
                try:
                    await asyncio.wait_for(process.wait(), self.stop_timeout)
                except TimeoutError:
                    process.kill()
                    await process.wait()
            if process.stdin is not None:
                process.stdin.close()
        for reader in self._readers:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(reader, 1.0)
        self._readers = []
        self.port = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
