"""``python -m datagen``: list the CLI steps."""

STEPS = [
    ("generate_batch", "1단계: 학습용 요청 JSONL"),
    ("generate_gold_batch", "1단계 (골드): 8 x 10 요청 JSONL"),
    ("submit_batch", "2단계: 업로드하고 배치 만들기 (--wait)"),
    ("retrieve_batch", "3단계: 결과 받기"),
    ("preprocess", "4단계: 대화로 파싱, dataset.jsonl 쓰기"),
    ("render_txt", "5단계: Qwen 채팅 템플릿 .txt 파일"),
    ("push_to_hub", "6단계: 승인된 레코드 게시"),
    ("import_file", "다른 곳에서 만든 대화 가져오기"),
    ("stats", "종류·카테고리·상태별 건수"),
    ("retry_failed", "작업의 실패한 요청 다시 제출"),
    ("validate", "모든 검사, 중복, 평가셋 오염 다시 실행"),
    ("review", "샘플 승인 / 거절, 작업에서 검사 결과 없는 샘플 승인"),
]

if __name__ == "__main__":
    for name, text in STEPS:
        print(f"python -m datagen.{name:20} {text}")
