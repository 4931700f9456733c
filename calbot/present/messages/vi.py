"""Vietnamese. Codes missing here (why, warnings) are shown in English."""

from __future__ import annotations

DAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
HOUR_UNIT = "giờ"

TEXT: dict[str, str] = {
    "factor.day_load": "{day} có {hours} họp, giới hạn {limit}",
    "factor.day_count": "{day} có {count} cuộc họp, giới hạn {limit}",
    "factor.week_load": "tuần {week} có {hours} họp, giới hạn {limit}",
    "factor.no_focus_block": (
        "{day} không còn khoảng trống {minutes} phút (dài nhất {longest} phút)"
    ),
    "factor.long_meeting": "dài {minutes} phút, quá {limit} phút",
    "factor.in_person": "gặp trực tiếp tại {place}: mất thời gian đi lại",
    "factor.series": "cuộc họp định kỳ",
    "factor.repeated": "{count} cuộc họp với {client} trong tuần đó, giới hạn {limit}",
    "factor.no_agenda": "lời mời không có chương trình họp",
    "factor.optional": "bạn là người tham dự không bắt buộc",
    "factor.colleague": "{who} trong nhóm của bạn cũng tham dự",
    "factor.chatty": "các buổi họp với {client} hay kéo dài vì chuyện ngoài lề",
    "factor.outside_hours": "{day} lúc {time} nằm ngoài giờ làm việc của bạn",
    "factor.tier_key": "khách hàng chủ chốt: được bảo vệ, ×{weight:g}",
    "factor.tier_low": "khách hàng ưu tiên thấp, ×{weight:g}",
    "factor.tier_other": "hạng khách hàng, ×{weight:g}",
    "notes.why_line": "Lý do: {reasons} (điểm {score}/100, {action})",
    "review.why": "Lý do",
    "review.draft": "Bản nháp trả lời — chưa gửi, đang chờ bạn xem lại",
    "review.to": "Gửi tới",
    "review.cc": "Cc",
    "review.subject": "Tiêu đề",
    "review.notes": "Ghi chú riêng (chỉ bạn thấy)",
    "review.footer": "Chỉ bạn thấy lịch này. calbot không bao giờ tự gửi gì.",
    "review.untitled": "(không có tiêu đề)",
    "review.calendar": (
        "Đề xuất của calbot: mỗi bản nháp trả lời là một sự kiện, cạnh cuộc họp liên "
        "quan. Chỉ bạn thấy lịch này; calbot không bao giờ tự gửi gì."
    ),
}
