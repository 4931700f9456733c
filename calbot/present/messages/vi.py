"""Vietnamese: a text for every code English has, with the same placeholders."""

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
    "factor.tier_key": "khách hàng chủ chốt: điểm được giảm, nhân hệ số {weight:g}",
    "factor.tier_low": "khách hàng ưu tiên thấp: điểm nhân hệ số {weight:g}",
    "factor.tier_other": "hạng khách hàng: điểm nhân hệ số {weight:g}",
    "factor.capped": "{detail} (0-100)",
    # why a decision (`calbot explain`, `--json` "why"): the rules tried, in order
    "why.past": "đã bắt đầu hoặc đã qua",
    "why.below_act_at": "điểm {score} thấp hơn act_at {act_at}",
    "why.chosen": "{steps}",
    "why.nothing_fits": "không có cách nào phù hợp — {steps}",
    "why.step": "{action}: {reason}",
    "why.action_delegate": "nhờ đồng nghiệp",
    "why.action_call": "gọi điện",
    "why.action_email": "gửi email",
    "why.action_shorten": "rút ngắn",
    "why.action_reschedule": "dời lịch",
    "why.action_boundary": "giới hạn thời gian",
    "why.goodwill_spent": "{client} đã được nhờ dời hoặc bỏ một cuộc họp rồi",
    "why.delegate_fits": "{who} cũng tham dự và có thể dự thay bạn",
    "why.delegate_no": "không có đồng nghiệp nào tham dự, hoặc bạn là người tổ chức và phải có mặt",
    "why.call_fits": "họp trực tiếp, gọi điện sẽ đỡ phải đi lại",
    "why.call_no": "không phải họp trực tiếp",
    "why.email_key": "với khách hàng chủ chốt, không bao giờ thay cuộc họp bằng email",
    "why.email_fits": "cuộc họp định kỳ không có chương trình họp, cập nhật qua email là đủ",
    "why.email_no": "không phải cuộc họp định kỳ thiếu chương trình họp",
    "why.shorten_fits": "{minutes} phút có thể rút còn {length} phút",
    "why.shorten_no": "không dài quá {limit} phút",
    "why.reschedule_within": "ngày và tuần đó đều chưa vượt giới hạn",
    "why.reschedule_no_slots": "những ngày thưa lịch hơn còn chưa đến 2 khung giờ trống",
    "why.reschedule_too_soon": "cuộc họp bắt đầu trong thời hạn báo trước ({notice})",
    "why.reschedule_no_shared_hours": (
        "giờ làm việc của bạn và của {client} không trùng nhau vào ngày nào trong khoảng đã xét"
    ),
    "why.reschedule_fits": (
        "ngày đó đã quá giới hạn, tìm được {count} khung giờ vào những ngày thưa lịch hơn"
    ),
    "why.boundary_fits": "khách hàng hay nói chuyện ngoài lề, nên giới hạn thời gian",
    "why.boundary_no": "khách hàng không hay nói chuyện ngoài lề",
    "why.no_rule": "không có quy tắc nào",
    "notes.why_line": "Lý do: {reasons} (điểm {score}/100, {action})",
    "review.why": "Lý do",
    "review.draft": "Bản nháp trả lời — chưa gửi, đang chờ bạn xem lại",
    "review.to": "Gửi tới",
    "review.cc": "Cc",
    "review.subject": "Tiêu đề",
    "review.notes": "Ghi chú riêng (chỉ bạn thấy)",
    "review.footer": "Chỉ bạn thấy lịch này. calbot không bao giờ tự gửi gì.",
    "review.untitled": "(không có tiêu đề)",
    "review.held": "giữ chỗ cho",
    "review.held_note": (
        "Khung giờ này được đề xuất trong bản nháp bên dưới và đang được giữ cho bản nháp "
        "đó: calbot không đề xuất nó cho ai khác."
    ),
    "review.calendar": (
        "Đề xuất của calbot: mỗi bản nháp trả lời là một sự kiện, cạnh cuộc họp liên "
        "quan. Chỉ bạn thấy lịch này; calbot không bao giờ tự gửi gì."
    ),
    # the morning digest (`calbot digest`, its e-mail and HTML)
    "digest.title": "calbot — bản tin buổi sáng, {day}",
    "digest.since": "kể từ bản tin trước, {when}",
    "digest.new_since": "Bản nháp mới kể từ bản tin trước ({n})",
    "digest.new_first": "Bản nháp đang chờ bạn xem ({n})",
    "digest.waiting": "Vẫn đang chờ bạn xem ({n})",
    "digest.older": (
        "Còn {n} bản nháp cũ hơn đang chờ bạn xem — xem tất cả bằng `calbot digest --all`"
    ),
    "digest.older_one": "Còn 1 bản nháp cũ hơn đang chờ bạn xem — xem bằng `calbot digest --all`",
    "digest.nothing_new": "Không có bản nháp mới nào kể từ bản tin trước.",
    "digest.nothing_pending": "Không có bản nháp nào đang chờ bạn xem.",
    "digest.edited": "bạn đã sửa bản nháp này — calbot sẽ không động vào nó nữa",
    "digest.gone": "Bạn đã xoá hoặc đã gửi ({n})",
    "digest.chart": "Giờ họp mỗi ngày trong hai tuần tới (giới hạn {limit} mỗi ngày)",
    "digest.chart_key": (
        "sau: khi mọi bản nháp đã được gửi và được đồng ý (cuộc họp dời lịch tính vào "
        "khung giờ đề xuất đầu tiên)"
    ),
    "digest.after": "sau",
    "digest.calls": (
        "Chuyển sang gọi điện giúp bớt thời gian di chuyển, không bớt giờ họp: ngày đó giữ nguyên."
    ),
    "digest.holds": "đang giữ chỗ",
    "digest.held": (
        "{n} khung giờ đã đề xuất đang được giữ cho các bản nháp của bạn: calbot không đề "
        "xuất chúng cho ai khác."
    ),
    "digest.held_one": (
        "1 khung giờ đã đề xuất đang được giữ cho bản nháp của bạn: calbot không đề xuất "
        "nó cho ai khác."
    ),
    "digest.over": "quá giới hạn",
    "digest.today": "hôm nay",
    "digest.meetings": "{n} cuộc họp",
    "digest.meetings_one": "1 cuộc họp",
    "digest.win_this": "Nếu bạn gửi hết các bản nháp, tuần này bạn lấy lại được {hours}",
    "digest.win_next": "và {hours} vào tuần sau",
    "digest.win_only_next": "Nếu bạn gửi hết các bản nháp, tuần sau bạn lấy lại được {hours}",
    "digest.saves": "tiết kiệm {hours}",
    "digest.trouble": "Sự cố kể từ bản tin trước",
    "digest.trouble_first": "Sự cố trong 24 giờ qua",
    "digest.no_trouble": "Không có sự cố: cả {n} lần quét đều suôn sẻ.",
    "digest.no_trouble_one": "Không có sự cố: lần quét đã suôn sẻ.",
    "digest.fix": "cách xử lý",
    "digest.times": "{n} lần, lần cuối lúc {when}",
    "digest.at": "lúc {when}",
    "digest.last_scan": "Lần quét thành công gần nhất: {when}",
    "digest.event": "sự kiện",
    "digest.sink_gmail": "bản nháp Gmail",
    "digest.sink_outbox": "tệp",
    "digest.status_new": "mới",
    "digest.status_updated": "đã cập nhật",
    "digest.status_sent": "đã gửi",
    "digest.sink_imap": "bản nháp IMAP",
    "digest.action_delegate": "nhờ đồng nghiệp dự thay",
    "digest.action_call": "gọi điện thay vì gặp mặt",
    "digest.action_email": "trao đổi qua email thay vì họp",
    "digest.action_shorten": "rút ngắn",
    "digest.action_reschedule": "dời lịch",
    "digest.action_boundary": "giới hạn thời gian",
    "digest.trouble_failed": "một lần quét bị lỗi",
    "digest.trouble_auth": "quyền truy cập Google đã hết hạn hoặc bị thu hồi",
    "digest.trouble_auth_caldav": "máy chủ CalDAV đã từ chối mật khẩu của calbot",
    "digest.trouble_auth_imap": "máy chủ IMAP đã từ chối mật khẩu của calbot",
    "digest.trouble_google_down": "Google không phản hồi hoặc đang gặp lỗi",
    "digest.trouble_locked": "một tiến trình calbot khác đang giữ kho dữ liệu nên một lần quét"
    " đã bị bỏ qua",
    "digest.trouble_warning": "cảnh báo",
    "digest.trouble_expiry": "quyền truy cập Google sắp hết hạn",
    "digest.trouble_access_check": "không đọc được tệp token để kiểm tra khi nào quyền truy cập"
    " hết hạn",
    "digest.trouble_stale": "chưa có lần quét nào kể từ {when}",
    "digest.trouble_delivery": "không để được bản tin trong Gmail",
    "digest.fix_failed": "xem nhật ký, hoặc chạy `calbot scan` để thấy lỗi",
    "digest.fix_auth": "chạy `calbot auth`",
    "digest.fix_auth_caldav": "kiểm tra mật khẩu CalDAV (caldav.password_file hoặc"
    " $CALBOT_CALDAV_PASSWORD)",
    "digest.fix_auth_imap": "kiểm tra mật khẩu IMAP ([imap] password_file hoặc"
    " $CALBOT_IMAP_PASSWORD)",
    "digest.fix_google_down": "không cần làm gì: calbot sẽ tự thử lại ở lần quét sau",
    "digest.fix_locked": "không cần làm gì nếu chỉ xảy ra một lần; nếu cứ lặp lại, hãy xem có"
    " tiến trình calbot nào bị treo không",
    "digest.fix_expiry": "chạy lại `calbot auth`, hoặc xuất bản ứng dụng",
    "digest.fix_warning": "calbot đã bỏ qua mục này; hãy xem lại sự kiện đó trong lịch nếu nó"
    " quan trọng",
    "digest.fix_access_check": "chạy `calbot doctor`",
    "digest.fix_stale": "khởi động tiến trình chạy nền (`calbot run` hoặc dịch vụ systemd), hoặc"
    " chạy `calbot scan`",
    "digest.fix_delivery": "calbot sẽ thử lại với Gmail ở bản tin sau",
    "digest.fix_team": "quản trị viên calbot của bạn xem được nguyên nhân và cách khắc phục"
    " trong `calbot team status`",
    "digest.subject": "calbot: {n} thư trả lời cần bạn xem — {day}",
    "digest.subject_one": "calbot: 1 thư trả lời cần bạn xem — {day}",
    "digest.subject_none": "calbot: không có gì cần xem — {day}",
    "digest.saved_html": "Đã lưu bản tin tại {path}",
    "digest.saved_gmail": "Đã để bản tin trong mục Thư nháp Gmail: {subject}",
    "digest.updated_gmail": "Đã cập nhật bản tin trong mục Thư nháp Gmail: {subject}",
    "digest.edited_gmail": "Bạn đã sửa bản tin hôm nay trong Gmail nên calbot để nguyên",
    "digest.saved_outbox": "Đã ghi bản tin vào hộp thư đi: {path}",
    # a scan's warnings and the adapters' (stderr, `--json` "warnings", the run log, the
    # digest)
    "warn.no_draft": "{meeting}: không tạo được bản nháp: {error}",
    "warn.testing_expiry": "Google sẽ thu hồi quyền truy cập của calbot vào {when} (ứng dụng "
    "OAuth đang ở trạng thái Testing: refresh token chỉ dùng được 7 ngày) — hãy chạy lại "
    "`calbot auth`, hoặc xuất bản ứng dụng",
    "warn.ics_outputs": 'Bản nháp Gmail và ghi chú trên lịch cần source.kind = "google"; '
    "với lịch ICS, bản nháp chỉ được ghi vào hộp thư đi",
    "warn.nobody_to_write_to": "{meeting}: không có người nhận — không tạo bản nháp",
    "warn.not_written": "{meeting}: không ghi được: {error}",
    "warn.item_skipped": "{calendar}: đã bỏ qua {problem}",
    "warn.item_without_id": "đã bỏ qua {item}: không có id",
    "warn.calendar_not_found": (
        "{calendar}: không tìm thấy lịch, hoặc lịch chưa được chia sẻ với bạn — đã bỏ qua"
    ),
    "warn.no_busy_times": "{calendar}: phản hồi của Google không có giờ bận — không được tính",
    "warn.busy_unavailable": "{calendar}: không lấy được giờ bận ({reasons}) — không được tính",
    "warn.note_skipped": "đã bỏ qua ghi chú trên lịch cho {event}: {problem} ({status})",
    "warn.note_clearing_skipped": (
        "chưa xoá được ghi chú trên lịch của {event}: {problem} ({status})"
    ),
    "warn.event_gone": "sự kiện không còn tồn tại",
    "warn.copy_not_yours": "bạn không có quyền sửa bản sao này của sự kiện",
    "warn.note_refused": "Google đã từ chối thay đổi; sẽ thử lại ở lần quét sau",
    "warn.ics_skipped": "{calendar}: đã bỏ qua {event}: {why}",
    "warn.ics_unreadable_lines": "{calendar}: {event}: đã bỏ qua dòng {lines} vì không đọc được",
    "warn.ics_bad_value": "giá trị {name} không hợp lệ ({error})",
    "warn.ics_no_start": "thiếu DTSTART",
    "warn.ics_not_a_date": "{name} không phải là ngày hay ngày giờ",
    "warn.ics_not_a_duration": "DURATION không phải là một khoảng thời gian",
    "warn.ics_unusable_date": "ngày không dùng được ({error})",
    "warn.ics_cannot_expand": "không tính được các lần lặp lại ({error})",
    "warn.ics_bad_recurrence": "quy tắc lặp lại không hợp lệ ({error})",
    "warn.ics_unusable_time": "giờ của một lần lặp lại không dùng được ({error})",
    "warn.ics_too_many_occurrences": (
        "{calendar}: {event} lặp lại hơn {limit} lần trong những ngày được quét; "
        "chỉ {limit} lần đầu được đọc"
    ),
    "warn.ends_before_start": "giờ kết thúc sớm hơn giờ bắt đầu",
    "warn.event_unusable_times": (
        "đã bỏ qua {event}: thời gian của sự kiện không dùng được ({problem})"
    ),
}
