"""Bot API methods of the fake server, and the chat state they act on.

Every method here is synchronous and runs with the server's condition lock held, so a
method sees and leaves the state consistent; the server notifies waiters after each call.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from typing import Any

from fake_bot_protocol import (
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    QUERY_INVALID,
    Params,
    bad_request,
    utf16_length,
    validate_reply_markup,
)
from fake_bot_records import (
    CallbackAnswer,
    ChatMessage,
    FakePoll,
    FakeUser,
    JsonDict,
    MessageEdit,
    StoredFile,
)


class BotApiMethods:
    """The chats, messages, polls, files and commands a bot changes through the API."""

    def __init__(self, bot_user: JsonDict) -> None:
        self.bot_user = bot_user
        # Recorded state, for assertions.
        self.edits: list[MessageEdit] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.polls: dict[str, FakePoll] = {}
        self.commands: dict[tuple[str, str], list[JsonDict]] = {}
        self.webhook_url: str | None = None
        self.files: dict[str, StoredFile] = {}
        self.chat_actions: list[tuple[int, str]] = []
        # Guards all state; notified after every change.
        self._changed = asyncio.Condition()
        self._messages: dict[tuple[int, int], ChatMessage] = {}
        self._chat_order: dict[int, list[ChatMessage]] = {}
        self._users: dict[int, FakeUser] = {}
        self._updates: list[JsonDict] = []
        self._update_ids = itertools.count(1000)
        self._ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._methods: dict[str, Callable[[Params], Any]] = {
            "getme": self._get_me,
            "logout": self._acknowledge,
            "close": self._acknowledge,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendpoll": self._send_poll,
            "stoppoll": self._stop_poll,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getfile": self._get_file,
            "sendchataction": self._send_chat_action,
        }

    def _push_update(self, payload: JsonDict) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._changed.notify_all()
        return update_id

    # ------------------------------------------------------------------ messages

    def _user(self, user: FakeUser | int) -> FakeUser:
        if isinstance(user, int):
            user = self._users.get(user) or FakeUser(id=user)
        self._users[user.id] = user
        return user

    def _chat_to_api(self, chat_id: int) -> JsonDict:
        if chat_id > 0:
            user = self._users.get(chat_id) or FakeUser(id=chat_id)
            return {"id": chat_id, "type": "private", "first_name": user.first_name}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _new_message(
        self, chat_id: int, sender_id: int, *, from_bot: bool, kind: str, **fields: Any
    ) -> ChatMessage:
        chat_messages = self._chat_order.setdefault(chat_id, [])
        message = ChatMessage(
            chat_id=chat_id,
            message_id=len(chat_messages) + 1,
            date=int(time.time()),
            sender_id=sender_id,
            from_bot=from_bot,
            kind=kind,
            **fields,
        )
        chat_messages.append(message)
        self._messages[(chat_id, message.message_id)] = message
        return message

    def _bot_message(self, params: Params, kind: str, **fields: Any) -> ChatMessage:
        chat_id = params.integer("chat_id", required=True)
        assert chat_id is not None
        markup = validate_reply_markup(params.decoded("reply_markup"))
        return self._new_message(
            chat_id,
            self.bot_user["id"],
            from_bot=True,
            kind=kind,
            reply_markup=markup,
            params=dict(params.values),
            **fields,
        )

    def _message_to_api(self, message: ChatMessage) -> JsonDict:
        data: JsonDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat_to_api(message.chat_id),
        }
        if message.from_bot:
            data["from"] = {k: self.bot_user[k] for k in ("id", "is_bot", "first_name", "username")}
        if message.edit_count:
            data["edit_date"] = int(time.time())
        if message.text is not None:
            data["text"] = message.text
        if message.caption is not None:
            data["caption"] = message.caption
        if message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.poll_id is not None:
            data["poll"] = self.polls[message.poll_id].to_api()
        if message.file_id is not None:
            stored = self.files[message.file_id]
            file_fields = {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
            }
            if message.kind == "photo":
                # The fake does not decode images; sizes are placeholders.
                data["photo"] = [{**file_fields, "width": 1, "height": 1}]
            else:
                data["document"] = {
                    **file_fields,
                    "file_name": stored.file_name,
                    "mime_type": stored.mime_type,
                }
        return data

    def _editable(self, params: Params) -> ChatMessage:
        if params.string("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        chat_id = params.integer("chat_id", required=True)
        message_id = params.integer("message_id", required=True)
        assert chat_id is not None and message_id is not None
        message = self._messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    # ------------------------------------------------------------------ methods

    def _acknowledge(self, params: Params) -> bool:
        return True

    def _get_me(self, params: Params) -> JsonDict:
        return dict(self.bot_user)

    def _set_webhook(self, params: Params) -> bool:
        self.webhook_url = params.string("url") or None
        if params.boolean("drop_pending_updates", False):
            self._updates.clear()
        return True

    def _delete_webhook(self, params: Params) -> bool:
        self.webhook_url = None
        if params.boolean("drop_pending_updates", False):
            self._updates.clear()
        return True

    def _get_webhook_info(self, params: Params) -> JsonDict:
        return {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def _send_message(self, params: Params) -> JsonDict:
        text = params.string("text")
        if not text:
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        message = self._bot_message(
            params, "text", text=text, parse_mode=params.string("parse_mode")
        )
        return self._message_to_api(message)

    def _edit_message_text(self, params: Params) -> JsonDict:
        message = self._editable(params)
        text = params.string("text")
        if not text:
            raise bad_request("message text is empty")
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        # Telegram drops the inline keyboard when an edit does not repeat it.
        markup = validate_reply_markup(params.decoded("reply_markup"))
        if text == message.text and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.reply_markup = text, markup
        message.parse_mode = params.string("parse_mode")
        return self._record_edit("editMessageText", message)

    def _edit_message_reply_markup(self, params: Params) -> JsonDict:
        message = self._editable(params)
        markup = validate_reply_markup(params.decoded("reply_markup"))
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.reply_markup = markup
        return self._record_edit("editMessageReplyMarkup", message)

    def _record_edit(self, method: str, message: ChatMessage) -> JsonDict:
        message.edit_count += 1
        self.edits.append(
            MessageEdit(
                method, message.chat_id, message.message_id, message.text, message.reply_markup
            )
        )
        return self._message_to_api(message)

    def _delete_message(self, params: Params) -> bool:
        chat_id = params.integer("chat_id", required=True)
        message_id = params.integer("message_id", required=True)
        assert chat_id is not None and message_id is not None
        message = self._messages.get((chat_id, message_id))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.string("callback_query_id", required=True)
        assert query_id is not None
        if query_id not in self._open_queries:
            raise bad_request(QUERY_INVALID.removeprefix("Bad Request: "))
        self._open_queries.discard(query_id)
        self.callback_answers.append(
            CallbackAnswer(query_id, params.string("text"), params.boolean("show_alert", False))
        )
        return True

    def _send_poll(self, params: Params) -> JsonDict:
        question = params.string("question")
        if not question or len(question) > 300:
            raise bad_request("poll question must be non-empty and at most 300 characters")
        raw_options = params.decoded("options") or []
        options = [o["text"] if isinstance(o, dict) else str(o) for o in raw_options]
        if not 2 <= len(options) <= 12:
            raise bad_request("poll must have 2-12 options")
        poll = FakePoll(
            id=str(5_000_000_000_000_000_000 + next(self._ids)),
            chat_id=0,
            message_id=0,
            question=question,
            options=options,
            is_anonymous=params.boolean("is_anonymous", True),
            allows_multiple_answers=params.boolean("allows_multiple_answers", False),
            type=params.string("type") or "regular",
        )
        self.polls[poll.id] = poll
        message = self._bot_message(params, "poll", poll_id=poll.id)
        poll.chat_id, poll.message_id = message.chat_id, message.message_id
        return self._message_to_api(message)

    def _stop_poll(self, params: Params) -> JsonDict:
        message = self._editable(params)
        if message.poll_id is None:
            raise bad_request("message with poll to stop not found")
        poll = self.polls[message.poll_id]
        if poll.is_closed:
            raise bad_request("poll has already been closed")
        poll.is_closed = True
        markup = params.decoded("reply_markup")
        if markup is not None:
            message.reply_markup = validate_reply_markup(markup)
        self._push_update({"poll": poll.to_api()})
        return poll.to_api()

    @staticmethod
    def _scope_key(scope: Any) -> str:
        return json.dumps(scope or {"type": "default"}, sort_keys=True)

    def _set_my_commands(self, params: Params) -> bool:
        commands = params.decoded("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 commands")
        for command in commands:
            name = command.get("command", "")
            valid_name = 1 <= len(name) <= 32 and all(
                c.isdigit() or c == "_" or ("a" <= c <= "z") for c in name
            )
            if not valid_name or not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("BOT_COMMAND_INVALID")
        key = (self._scope_key(params.decoded("scope")), params.string("language_code") or "")
        self.commands[key] = commands
        return True

    def _get_my_commands(self, params: Params) -> list[JsonDict]:
        key = (self._scope_key(params.decoded("scope")), params.string("language_code") or "")
        return self.commands.get(key, [])

    def _delete_my_commands(self, params: Params) -> bool:
        key = (self._scope_key(params.decoded("scope")), params.string("language_code") or "")
        self.commands.pop(key, None)
        return True

    def _store_upload(self, params: Params, name: str, folder: str) -> str:
        upload = params.upload(name)
        if isinstance(upload, str):
            if upload not in self.files:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return upload
        number = next(self._ids)
        file_name = upload.filename or f"file_{number}"
        stored = StoredFile(
            file_id=f"FILE-{folder}-{number}",
            file_unique_id=f"U{number}",
            file_path=f"{folder}/{number}_{file_name}",
            file_name=file_name,
            mime_type=upload.content_type,
            content=upload.file.read(),
        )
        self.files[stored.file_id] = stored
        return stored.file_id

    def _send_document(self, params: Params) -> JsonDict:
        file_id = self._store_upload(params, "document", "documents")
        message = self._bot_message(
            params, "document", file_id=file_id, caption=params.string("caption")
        )
        return self._message_to_api(message)

    def _send_photo(self, params: Params) -> JsonDict:
        file_id = self._store_upload(params, "photo", "photos")
        message = self._bot_message(
            params, "photo", file_id=file_id, caption=params.string("caption")
        )
        return self._message_to_api(message)

    def _get_file(self, params: Params) -> JsonDict:
        file_id = params.string("file_id", required=True)
        stored = self.files.get(file_id or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _send_chat_action(self, params: Params) -> bool:
        chat_id = params.integer("chat_id", required=True)
        action = params.string("action", required=True)
        assert chat_id is not None and action is not None
        self.chat_actions.append((chat_id, action))
        return True
