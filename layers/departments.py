"""Departments that own layers (after the 2025 reorganisation of provincial departments)."""

DEPARTMENTS: dict[str, dict[str, str]] = {
    "so_nn_mt": {"vi": "Sở Nông nghiệp và Môi trường", "en": "Department of Agriculture and Environment"},
    "so_xay_dung": {"vi": "Sở Xây dựng", "en": "Department of Construction"},
    "so_y_te": {"vi": "Sở Y tế", "en": "Department of Health"},
    "so_gd_dt": {"vi": "Sở Giáo dục và Đào tạo", "en": "Department of Education and Training"},
    "so_cong_thuong": {"vi": "Sở Công Thương", "en": "Department of Industry and Trade"},
    "so_khcn": {"vi": "Sở Khoa học và Công nghệ", "en": "Department of Science and Technology"},
    "so_noi_vu": {"vi": "Sở Nội vụ", "en": "Department of Home Affairs"},
}
