"""The e-mail a notification becomes: plain text and HTML (English; Chinese first and English after it when the
site's language is ``zh``), the event's snapshot attached, and ``Message-ID: <notification id@sender's domain>``
so a retried message is the same message to the receiving side (the bytes are made once and stored).

Only the words Vigil puts around an event are translated; the event's own description is English.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

from vigil.domain.timeutil import US_PER_S

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "camera": "Camera",
        "time": "Time",
        "severity": "Severity",
        "type": "What",
        "zone": "Zone or line",
        "labels": "Objects",
        "state": "State",
        "link": "Details",
        "snapshot": "The snapshot is attached.",
        "footer": "Sent by Vigil. Notification id {id} (the same id means the same notification).",
        "info": "information",
        "warning": "warning",
        "critical": "critical",
        "online": "online",
        "offline": "offline",
        "camera_state": "Camera {camera} is {state}",
    },
    "zh": {
        "camera": "摄像机",
        "time": "时间",
        "severity": "级别",
        "type": "事件",
        "zone": "区域或线",
        "labels": "目标",
        "state": "状态",
        "link": "详情",
        "snapshot": "快照见附件。",
        "footer": "由 Vigil 发送。通知编号 {id}（编号相同即为同一通知）。",  # noqa: RUF001 (Chinese punctuation)
        "info": "提示",
        "warning": "警告",
        "critical": "严重",
        "online": "在线",
        "offline": "离线",
        "camera_state": "摄像机 {camera}：{state}",  # noqa: RUF001 (Chinese punctuation)
    },
}
EVENT_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "motion": "Motion",
        "object": "Object seen",
        "line_cross": "Line crossed",
        "zone_enter": "Zone entered",
        "zone_exit": "Zone left",
        "loiter": "Loitering",
        "crowd": "Crowd",
        "left_behind": "Object left behind",
        "removed": "Object removed",
        "camera_offline": "Camera offline",
        "camera_online": "Camera back online",
        "fault": "Picture fault",
        "analysis": "Analysis stopped",
        "storage_capacity": "Storage below the legal minimum",
        "ticket_overdue": "Maintenance ticket overdue",
        "stream_fault": "Frame rate or bitrate low",
    },
    "zh": {
        "motion": "移动侦测",
        "object": "发现目标",
        "line_cross": "越线",
        "zone_enter": "进入区域",
        "zone_exit": "离开区域",
        "loiter": "徘徊",
        "crowd": "人员聚集",
        "left_behind": "物品遗留",
        "removed": "物品被移走",
        "camera_offline": "摄像机离线",
        "camera_online": "摄像机恢复在线",
        "fault": "画面故障",
        "analysis": "分析中断",
        "storage_capacity": "存储不足法定保留期",
        "ticket_overdue": "维修工单超时",
        "stream_fault": "帧率或码率过低",
    },
}


class EmailFormat:
    """Renders documents into whole e-mail messages for one channel."""

    def __init__(self, sender: str, to: list[str], language: str, timezone: str, attach_snapshot: bool) -> None:
        self.sender, self.to = sender, to
        self.languages = ["zh", "en"] if language == "zh" else ["en"]
        self.tz = ZoneInfo(timezone)
        self.attach_snapshot = attach_snapshot
        self.domain = sender.rsplit("@", 1)[1]

    def render(self, doc: Mapping[str, Any], snapshot: bytes | None) -> bytes:
        msg = EmailMessage(policy=SMTP)
        msg["Message-ID"] = f"<{doc['id']}@{self.domain}>"
        msg["Date"] = format_datetime(datetime.fromtimestamp(doc["created_us"] / US_PER_S, tz=self.tz))
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = f"[{doc.get('site', 'Vigil')}] {self._title(doc, self.languages[0])}"
        msg["X-Vigil-Notification-Id"] = str(doc["id"])
        attached = snapshot is not None and self.attach_snapshot
        texts = [self._text(doc, lang, attached) for lang in self.languages]
        pages = [self._html(doc, lang, attached) for lang in self.languages]
        msg.set_content("\n\n".join(texts))
        msg.add_alternative("<html><body>" + "<hr>".join(pages) + "</body></html>", subtype="html")
        if attached and snapshot is not None:
            msg.add_attachment(snapshot, maintype="image", subtype="jpeg", filename="snapshot.jpg")
        for k, part in enumerate(p for p in msg.walk() if p.is_multipart()):
            part.set_boundary(f"vigil-{doc['id']}-{k}")  # the same document makes the same bytes
        return msg.as_bytes()

    # --- pieces ------------------------------------------------------------------------------------------
    def _title(self, doc: Mapping[str, Any], lang: str) -> str:
        words = WORDS[lang]
        event = doc.get("event")
        if isinstance(event, dict):
            name = EVENT_NAMES[lang].get(str(event.get("type")), str(event.get("type", "")))
            camera = event.get("camera") or event.get("camera_id")
            return f"{name}: {camera}" if camera else name
        if "state" in doc and "camera" in doc:
            return words["camera_state"].format(camera=doc["camera"], state=words.get(doc["state"], doc["state"]))
        return str(doc.get("title", ""))

    def _rows(self, doc: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
        words = WORDS[lang]
        event = doc.get("event") if isinstance(doc.get("event"), dict) else None
        rows: list[tuple[str, str]] = []
        if event is not None:
            rows.append((words["type"], EVENT_NAMES[lang].get(event["type"], event["type"])))
            if event.get("camera") or event.get("camera_id"):
                rows.append((words["camera"], str(event.get("camera") or event.get("camera_id"))))
            rows.append((words["time"], self._when(event["start_us"])))
            rows.append((words["severity"], words.get(event["severity"], event["severity"])))
            if event.get("zone"):
                rows.append((words["zone"], str(event["zone"])))
            if event.get("labels"):
                rows.append((words["labels"], ", ".join(event["labels"])))
            if event.get("url"):
                rows.append((words["link"], str(event["url"])))
        elif "state" in doc:
            rows += [
                (words["camera"], str(doc.get("camera", ""))),
                (words["state"], words.get(doc["state"], doc["state"])),
                (words["time"], self._when(doc["since_us"])),
            ]
        return rows

    def _when(self, at_us: int) -> str:
        return datetime.fromtimestamp(at_us / US_PER_S, tz=self.tz).strftime("%Y-%m-%d %H:%M:%S %Z")

    def _text(self, doc: Mapping[str, Any], lang: str, attached: bool) -> str:
        words = WORDS[lang]
        lines = [self._title(doc, lang), "", str(doc.get("text", ""))]
        lines += ["", *(f"{name}: {value}" for name, value in self._rows(doc, lang))]
        if attached:
            lines += ["", words["snapshot"]]
        lines += ["", words["footer"].format(id=doc["id"])]
        return "\n".join(lines)

    def _html(self, doc: Mapping[str, Any], lang: str, attached: bool) -> str:
        words = WORDS[lang]
        e = html.escape
        cells = "".join(f"<tr><th align='left'>{e(n)}</th><td>{e(v)}</td></tr>" for n, v in self._rows(doc, lang))
        parts = [
            f"<section lang='{'zh-CN' if lang == 'zh' else 'en'}'>",
            f"<h2>{e(self._title(doc, lang))}</h2>",
            f"<p>{e(str(doc.get('text', '')))}</p>",
            f"<table>{cells}</table>",
            f"<p>{e(words['snapshot'])}</p>" if attached else "",
            f"<p><small>{e(words['footer'].format(id=doc['id']))}</small></p>",
            "</section>",
        ]
        return "".join(parts)
