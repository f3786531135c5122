"""The phrases the labelled posts are composed of: per sector, what people write about, with the
tone and urgency each phrase carries. ``{p}`` is where the place goes, ``{b}`` a village, ``{r}``
a road, ``{n}`` a number."""

from __future__ import annotations

# (tone, urgent, text): tone is negative, neutral or positive; urgent marks a possible incident.
Phrase = tuple[str, bool, str]

SECTOR_NAMES = {
    "health": "Y tế", "education": "Giáo dục", "transport": "Giao thông",
    "environment": "Môi trường", "public_order": "Trật tự, an ninh",
    "social_welfare": "An sinh xã hội", "other": "Khác",
}

PHRASES: dict[str, list[Phrase]] = {
    "transport": [
        ("negative", True, "sạt lở đất vùi lấp đường {r} đoạn qua {p}, xe cộ không đi được"),
        ("negative", True, "đá lăn từ taluy xuống mặt đường {r} ở {p}, rất nguy hiểm cho người đi"),
        ("negative", True, "vừa xảy ra tai nạn giữa xe tải và xe máy trên {r} gần {p}"),
        ("negative", True, "nước lũ cuốn trôi cầu tràn vào {b} {p}, bà con bị cô lập"),
        ("negative", False, "đường vào {b} {p} xuống cấp, ổ gà khắp nơi mà mãi chưa sửa"),
        ("negative", False, "cầu treo ở {p} hỏng mấy tấm ván, đi qua rất sợ"),
        ("negative", False, "xe khách chạy tuyến {r} qua {p} chở quá số người quy định"),
        ("neutral", False, "thông báo phân luồng giao thông trên {r} qua {p} từ ngày {n} tháng này"),
        ("neutral", False, "Sở Xây dựng khảo sát nâng cấp tuyến đường liên xã tại {p}"),
        ("neutral", False, "lịch xe buýt mới tuyến thành phố Lai Châu đi {p} áp dụng từ tuần sau"),
        ("positive", False, "đường bê tông mới về {b} {p} đã xong, đi lại thuận tiện lắm"),
        ("positive", False, "cảm ơn lực lượng chức năng đã thông đường {r} ở {p} rất nhanh"),
    ],
    "health": [
        ("negative", True, "{n} người ở {b} {p} bị ngộ độc sau khi ăn nấm rừng, đang cấp cứu"),
        ("negative", True, "nhiều trẻ em ở {p} sốt cao, nghi mắc sởi, trạm y tế quá tải"),
        ("negative", True, "phát hiện ổ dịch sốt xuất huyết tại {p}, cần phun thuốc gấp"),
        ("negative", False, "trạm y tế {p} thiếu thuốc, đi khám phải ra tận huyện"),
        ("negative", False, "bệnh viện đa khoa khu vực {p} đông quá, chờ khám cả buổi sáng"),
        ("negative", False, "bác sĩ trạm y tế {p} thái độ không tốt với bà con"),
        ("neutral", False, "trạm y tế {p} tổ chức tiêm chủng mở rộng cho trẻ em vào ngày {n}"),
        ("neutral", False, "Sở Y tế kiểm tra an toàn thực phẩm các quán ăn ở {p}"),
        ("neutral", False, "lịch khám sức khỏe định kỳ cho người cao tuổi tại {p} tháng này"),
        ("positive", False, "cảm ơn các y bác sĩ trạm y tế {p} đã cứu chữa kịp thời cho cháu bé"),
        ("positive", False, "trạm y tế {p} mới được đầu tư máy siêu âm, bà con rất phấn khởi"),
        ("positive", False, "đoàn bác sĩ tình nguyện khám bệnh miễn phí cho bà con {b} {p}"),
    ],
    "education": [
        ("negative", True, "mưa lớn làm sập tường lớp học điểm trường {b} {p}, may chưa ai bị thương"),
        ("negative", True, "học sinh điểm trường {p} phải lội suối đến lớp khi nước đang lên"),
        ("negative", False, "điểm trường {b} {p} thiếu giáo viên, các cháu học ghép mấy lớp"),
        ("negative", False, "phòng học ở {p} dột nát, mùa đông các cháu rét lắm"),
        ("negative", False, "trường bán trú {p} thiếu chăn màn cho học sinh nội trú"),
        ("negative", False, "thu nhiều khoản ngoài quy định ở trường tiểu học {p}, phụ huynh bức xúc"),
        ("neutral", False, "trường phổ thông dân tộc bán trú {p} tuyển sinh lớp 6 năm học mới"),
        ("neutral", False, "kế hoạch thi tốt nghiệp trung học phổ thông của học sinh {p} đã có"),
        ("neutral", False, "Sở Giáo dục và Đào tạo khảo sát cơ sở vật chất các trường ở {p}"),
        ("positive", False, "khai giảng năm học mới ở {p} trong không khí vui tươi, các cháu háo hức"),
        ("positive", False, "học sinh {p} đạt giải cao trong kỳ thi học sinh giỏi cấp tỉnh"),
        ("positive", False, "điểm trường {b} {p} vừa có phòng học mới khang trang"),
    ],
    "environment": [
        ("negative", True, "lũ quét tràn qua {b} {p}, nhiều ruộng lúa bị vùi lấp"),
        ("negative", True, "cháy rừng đang lan rộng trên đồi gần {p}, khói mù mịt"),
        ("negative", True, "nước suối ở {p} đục ngầu, cá chết hàng loạt, nghi do xả thải"),
        ("negative", False, "rác thải đổ bừa bãi ven suối ở {p}, bốc mùi hôi thối"),
        ("negative", False, "khai thác cát trái phép trên sông Nậm Na gần {p} gây sạt bờ"),
        ("negative", False, "chặt phá rừng phòng hộ ở {p} mà không thấy ai xử lý"),
        ("neutral", False, "Sở Nông nghiệp và Môi trường cảnh báo mưa lớn, nguy cơ sạt lở ở {p}"),
        ("neutral", False, "kế hoạch trồng rừng thay thế năm nay tại {p} đã được phê duyệt"),
        ("neutral", False, "dự báo {p} có mưa to đến rất to trong {n} giờ tới"),
        ("positive", False, "thanh niên {p} ra quân dọn rác, khơi thông dòng suối sạch đẹp"),
        ("positive", False, "diện tích rừng ở {p} tăng lên nhờ bà con chung tay bảo vệ"),
        ("positive", False, "{b} {p} giữ được suối trong, rừng xanh, du khách khen mãi"),
    ],
    "public_order": [
        ("negative", True, "đánh nhau ở chợ phiên {p}, có người bị thương phải đưa đi viện"),
        ("negative", True, "phát hiện đối tượng vận chuyển ma túy qua {p}, công an đang truy đuổi"),
        ("negative", True, "trộm cắp trâu bò liên tiếp ở {b} {p}, bà con rất hoang mang"),
        ("negative", False, "thanh niên tụ tập đua xe, nẹt pô ban đêm ở {p}, không ai ngủ được"),
        ("negative", False, "quán karaoke ở {p} mở nhạc to đến khuya, ảnh hưởng bà con"),
        ("negative", False, "lừa đảo qua mạng, giả danh công an gọi điện cho người dân {p}"),
        ("neutral", False, "Công an {p} tuyên truyền phòng chống ma túy cho bà con {b}"),
        ("neutral", False, "tổ an ninh trật tự cơ sở ở {p} ra mắt, trực đêm tại {b}"),
        ("neutral", False, "Công an tỉnh thông báo tìm chủ sở hữu xe máy bị thu giữ ở {p}"),
        ("positive", False, "công an {p} trả lại tài sản cho người đánh rơi, bà con cảm phục"),
        ("positive", False, "nhờ camera an ninh, tình hình trật tự ở {p} yên bình hơn hẳn"),
        ("positive", False, "công an {p} giúp bà con {b} khắc phục hậu quả mưa đá"),
    ],
    "social_welfare": [
        ("negative", True, "mưa đá làm tốc mái {n} ngôi nhà ở {b} {p}, bà con cần hỗ trợ gấp"),
        ("negative", True, "nhà của hộ nghèo ở {p} bị cháy rụi, cả gia đình không còn chỗ ở"),
        ("negative", False, "hộ nghèo ở {b} {p} chưa nhận được tiền hỗ trợ làm nhà"),
        ("negative", False, "danh sách hộ cận nghèo ở {p} xét không công bằng"),
        ("negative", False, "người già ở {p} chờ mãi chưa nhận được trợ cấp xã hội tháng này"),
        ("negative", False, "bảo hiểm y tế cho đồng bào ở {p} cấp chậm, đi khám bị từ chối"),
        ("neutral", False, "{p} chi trả trợ cấp xã hội tháng {n} tại nhà văn hóa {b}"),
        ("neutral", False, "danh sách hộ nghèo năm nay của {p} được niêm yết công khai"),
        ("neutral", False, "Sở Nội vụ hướng dẫn hồ sơ hỗ trợ nhà ở cho hộ nghèo tại {p}"),
        ("positive", False, "trao tặng {n} ngôi nhà đại đoàn kết cho hộ nghèo ở {p}"),
        ("positive", False, "hội chữ thập đỏ tặng quà, chăn ấm cho bà con {b} {p}"),
        ("positive", False, "nhờ vốn vay ưu đãi, nhiều hộ ở {p} đã thoát nghèo"),
    ],
    "other": [
        ("neutral", False, "lễ hội truyền thống của đồng bào ở {p} diễn ra vào cuối tuần"),
        ("neutral", False, "giá chè búp tươi ở {p} tuần này khoảng {n} nghìn đồng một cân"),
        ("neutral", False, "phiên chợ vùng cao {p} họp vào chủ nhật, ai muốn đi thì đi sớm"),
        ("neutral", False, "hội nghị tổng kết phong trào thi đua của {p} tổ chức hôm nay"),
        ("positive", False, "mùa hoa đào nở rộ ở {p} đẹp quá, mọi người lên chơi nhé"),
        ("positive", False, "đội bóng chuyền {p} vô địch giải thể thao các dân tộc"),
        ("positive", False, "sâm Lai Châu trồng ở {p} được mùa, giá bán cao"),
        ("positive", False, "ruộng bậc thang {p} mùa lúa chín vàng óng, du khách kéo đến"),
        ("negative", False, "giá phân bón tăng quá, bà con trồng chè ở {p} lo lắng"),
        ("negative", False, "sóng điện thoại ở {b} {p} chập chờn, gọi không được"),
        ("negative", False, "chợ {p} bán hàng chặt chém khách du lịch, mất hình ảnh quê mình"),
        ("neutral", False, "mời bà con {p} tham gia hội chợ nông sản của tỉnh"),
    ],
}

OPENINGS = ("", "", "", "Mọi người ơi, ", "Bà con chú ý: ", "Cho mình hỏi, ", "Phản ánh: ",
            "Chia sẻ: ", "[Tin địa phương] ", "Thông tin: ")
# What people put first, and last, when something is happening now (most urgent posts say so).
URGENT_OPENINGS = ("Khẩn cấp: ", "Tin nóng: ", "Cảnh báo: ", "Nóng: ", "Mọi người ơi, gấp: ",
                   "SOS: ")
URGENT_CLOSINGS = (" Cần hỗ trợ gấp!", " Ai ở gần đó giúp với!", " Đang rất nguy hiểm.",
                   " Mọi người tránh khu vực này.")
CLOSINGS = {
    "negative": ("", " Mong chính quyền sớm xử lý.", " Đề nghị các cơ quan vào cuộc.",
                 " Ai biết thì chia sẻ giúp.", " Bức xúc quá!", " Khổ cho bà con."),
    "neutral": ("", " Mời bà con theo dõi.", " Thông tin để mọi người biết.", " #LaiChau"),
    "positive": ("", " Rất đáng ghi nhận!", " Cảm ơn nhiều!", " Tự hào quê mình!", " #LaiChau"),
}
ROADS = ("QL4D", "QL12", "QL32", "QL279", "QL100", "ĐT128", "ĐT129", "ĐT132", "tỉnh lộ 127")
VILLAGES = ("bản Thẩm Phé", "bản Phiêng Pát", "bản Nà Khum", "bản Cò Ký", "bản Hua Pầu",
            "bản Chu Va", "bản Sì Choang", "bản Lở Thàng", "bản Nà Ít", "bản Pá Khôm")
UNPLACED = ("trên địa bàn tỉnh", "ở bản mình", "khu vực vùng cao", "quê mình", "ở Lai Châu",
            "mấy xã vùng sâu")
