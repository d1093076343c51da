"""Scripted Korean delivery-app dialogues for the offline batch backend. These are NOT LLM output.

:mod:`datagen.offline` answers each batch request with ``json.dumps(scripted_dialogue(scenario, defect))``
so the pipeline (parse, checks, review, publish) runs without an API key (ARCHITECTURE.md, "Batch backends").
Dialogues are composed from small data tables (shops and menus per food category, addresses, phrasing
per customer tone) by steps (search → detail → cart → checkout → order) whose tool results are computed
from the call, so a clean dialogue follows seed 001's gold-set rules (``config.GOLD_CATEGORIES``) and the
tool specs: grounded ids, optional arguments only when the customer said them, results that agree with
their call. ``defect`` then re-creates one bug from the original pipeline's post-mortems (ARCHITECTURE.md,
"Post-mortems"), so checks and reviewers have something to catch.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

from datagen import config
from datagen.errors import InputError

DEFECTS = ("unknown_tool", "missing_required_argument", "ungrounded_id", "result_contradicts_call", "cut_short")
"""Realistic defects (ARCHITECTURE.md, "Post-mortems"): a call to a tool not in ``config.TOOL_NAMES``; a call missing
a required argument; an id argument no earlier user turn or tool result gave; a result contradicting its
call (``only_open: true`` yet a closed shop, another category or quantity…); a dialogue that stops right
after a tool turn."""

# _FOOD: category → (가게 종류 말, 검색어들, 가게 이름들, 메뉴 "이름/가격/설명", 옵션 "이름/가격", 첫 검색어의 오타).
# The first three menu items are mains (with options), the rest sides and drinks.
_FOOD: dict[str, tuple[str, str, str, str, str, str]] = {
    "chicken": (
        "치킨집",
        "후라이드|양념치킨",
        "바삭한형제|꼬꼬댁치킨 망원점|황금닭 옛날통닭|치킨인더키친|두마리 치킨",
        "후라이드 치킨/19000/겉은 바삭 속은 촉촉한 기본 치킨|양념 치킨/20000/달콤매콤한 양념|반반 치킨/21000/후라이드 반 양념 반"
        "|치즈볼 5개/5000/쭉 늘어나는 치즈볼|콜라 1.25L/2500/탄산음료",
        "순살 변경/2000|양념 소스 추가/500",
        "후라이듸",
    ),
    "pizza": (
        "피자집",
        "페퍼로니 피자|고구마 피자",
        "피자마루 연남점|화덕공방|도우앤토핑|빅스트리트 피자|나폴리 화덕",
        "페퍼로니 피자 L/23900/짭짤한 페퍼로니 듬뿍|고구마 피자 L/25900/달콤한 고구마 무스|콤비네이션 피자 L/24900/토핑이 골고루"
        "|치즈 오븐 스파게티/8900/치즈 듬뿍 스파게티|콜라 1.25L/2500/탄산음료",
        "치즈 크러스트/3000|XL 사이즈업/5000",
        "패퍼로니 피쟈",
    ),
    "korean": (
        "한식집",
        "국밥|김치찌개",
        "할매순대국|종로 김치찌개|소담 한식당|엄마손 백반|든든 국밥집",
        "순대국밥/9000/진한 사골 육수 순대국|김치찌개/8500/돼지고기 듬뿍 김치찌개|제육볶음 정식/10000/밥과 반찬 포함"
        "|계란말이/6000/도톰한 계란말이|공기밥/1000/추가 밥",
        "고기 추가/2000|다대기 따로/0",
        "국빱",
    ),
    "chinese": (
        "중국집",
        "짜장면|짬뽕",
        "홍콩반점 합정점|만리장성|진짜루|황궁 중화요리|북경반점",
        "짜장면/7000/춘장에 볶은 기본 짜장|짬뽕/8500/얼큰한 해물 짬뽕|볶음밥/8000/짜장 소스가 함께 나와요"
        "|탕수육 소/16000/바삭한 찹쌀 탕수육|군만두/5000/바삭한 군만두 6개",
        "곱빼기/1000|소스 따로/0",
        "짜장먄",
    ),
    "japanese": (
        "일식집",
        "초밥|돈까스",
        "스시하루|카츠엔 연남|오늘초밥|돈까스 공방|사케동 식당",
        "모둠초밥 12pc/16000/연어·광어·참치 등 12피스|로스카츠/11000/두툼한 등심 돈까스|치즈카츠/12500/치즈가 흐르는 돈까스"
        "|미니 우동/4000/따끈한 우동|미소된장국/2000/따끈한 된장국",
        "밥 추가/1000|와사비 빼기/0",
        "쵸밥",
    ),
    "bunsik": (
        "분식집",
        "떡볶이|김밥",
        "신전 분식|엽기 떡볶이집|청년다방 떡볶이|김밥 천하|오빠네 분식",
        "떡볶이/5000/쌀떡 국물 떡볶이|로제 떡볶이/7000/크림 로제 소스|참치김밥/4500/참치마요 김밥"
        "|모둠튀김/5000/김말이·오징어·야채 튀김|쿨피스/1500/새콤한 음료",
        "순한맛 변경/0|치즈 추가/1500",
        "떡뽁이",
    ),
    "jokbal_bossam": (
        "족발집",
        "족발|보쌈",
        "원할매 보쌈|장충 족발|가장맛있는족발|옛날 왕족발|보쌈명가",
        "앞다리 족발 중/33000/야들야들한 앞다리|불족발 중/35000/매콤한 불맛 족발|보쌈 중/31000/수육과 보쌈김치"
        "|막국수/7000/새콤한 막국수|주먹밥/3000/김가루 주먹밥",
        "대 사이즈/7000|보쌈김치 추가/3000",
        "족팔",
    ),
    "fastfood": (
        "버거집",
        "햄버거|치즈버거",
        "버거하우스|프랭크 버거 망원|수제버거 빈스|맘스 버거|더블스택",
        "치즈버거 세트/8900/버거+감자튀김+음료|더블 패티 버거/9500/패티 두 장|치킨버거/6900/바삭한 치킨 패티|감자튀김 L/3000/바삭한 감튀|콜라 M/2000/탄산음료",
        "패티 추가/2000|제로콜라 변경/0",
        "햄버가",
    ),
    "western": (
        "양식집",
        "파스타|샐러드",
        "파스타 부티크|샐러디아|트라토리아 모모|그린볼 포케|봉골레하우스",
        "알리오올리오/12000/마늘과 올리브오일 파스타|연어 포케/11900/연어와 현미밥|닭가슴살 샐러드/9900/저칼로리 샐러드"
        "|마늘빵/3000/버터 마늘빵|탄산수/2000/레몬 탄산수",
        "면 곱빼기/2000|드레싱 따로/0",
        "파스탁",
    ),
    "asian": (
        "아시안 음식점",
        "마라탕|쌀국수",
        "라화쿵부|탕화쿵푸 마라탕|포메인|하노이 쌀국수|방콕 타이",
        "마라탕/12000/재료 골라 담는 마라탕|소고기 쌀국수/10500/진한 양지 육수|팟타이/11000/새우 팟타이"
        "|꿔바로우 소/12000/찹쌀 탕수육|짜조/5000/베트남식 튀김 만두",
        "맵기 2단계/0|고기 추가/3000",
        "마라탄",
    ),
    "cafe_dessert": (
        "카페",
        "케이크|크로플",
        "달콤 디저트 카페|베이커리 르뱅|크로플 하우스|설빙 망원점|케이크 스튜디오",
        "딸기 생크림 케이크/6500/생딸기 케이크 한 조각|티라미수/6000/마스카포네 티라미수|인절미 빙수/9500/고소한 인절미 빙수"
        "|크로플/5500/바삭한 크루아상 와플|아이스 아메리카노/3500/산미 있는 원두",
        "샷 추가/500|생크림 추가/1000",
        "케익크",
    ),
    "late_night": (
        "야식집",
        "닭발|곱창",
        "불타는 닭발|새벽 곱창|야식왕|밤도깨비 포차|심야식당 오늘",
        "국물 닭발/17000/매콤한 국물 닭발|뼈없는 닭발/18000/먹기 편한 무뼈 닭발|야채곱창/19000/곱창과 야채 볶음"
        "|계란찜/4000/폭신한 계란찜|주먹밥/3000/닭발과 찰떡",
        "순한맛 변경/0|치즈 추가/2000",
        "닭빨",
    ),
}

_TOPIC_FOOD = {
    "치킨": "chicken",
    "피자": "pizza",
    "중국집": "chinese",
    "짬뽕": "chinese",
    "짜장": "chinese",
    "버거": "fastfood",
    "분식": "bunsik",
    "떡볶이": "bunsik",
    "국물": "korean",
    "국밥": "korean",
    "한식": "korean",
    "초밥": "japanese",
    "돈까스": "japanese",
    "족발": "jokbal_bossam",
    "마라탕": "asian",
    "쌀국수": "asian",
    "샐러드": "western",
    "포케": "western",
    "파스타": "western",
    "케이크": "cafe_dessert",
    "디저트": "cafe_dessert",
    "야식": "late_night",
}
_QUERY_WORDS = ("짬뽕", "떡볶이", "초밥", "돈까스", "마라탕", "쌀국수", "샐러드", "파스타", "케이크")

_ADDRESSES = [
    ("집", "서울 마포구 월드컵로12길 8, 302호"),
    ("회사", "서울 강남구 테헤란로 231, 11층"),
    ("부모님 댁", "경기 성남시 분당구 내정로 55, 104동 1203호"),
    ("학교", "서울 동대문구 이문로 107, 기숙사 B동"),
    ("자취방", "서울 관악구 봉천로45길 3, 201호"),
    ("친구네", "인천 연수구 컨벤시아대로 24, 1502호"),
]

_PAY_WORDS = {"카카오페이": "kakao_pay", "만나서 현금": "meet_cash"}
_NOTES = {"문 앞에": "문 앞에 두고 가 주세요", "수저": "일회용 수저는 빼 주세요", "벨": "아기가 자고 있어요. 벨 누르지 말고 노크만 해 주세요"}

# Unsupported request → (customer's words, what can't be done, alternative, the tool a buggy model would invent)
_NO_CALL = {
    "환불 계좌 변경": (
        "환불받을 계좌를 다른 걸로 바꾸고 싶어요",
        "환불 계좌 변경",
        "최근 주문 내역과 상태는 바로 확인해 드릴 수 있어요",
        "update_refund_account",
    ),
    "라이더에게 직접 전화 연결": (
        "라이더분한테 전화 좀 연결해 줄 수 있어요?",
        "라이더와 직접 통화 연결",
        "주문번호를 알려주시면 배달 상태와 도착 예정 시간은 확인해 드릴게요",
        "call_rider",
    ),
    "작성한 리뷰 삭제": ("제가 쓴 리뷰 지우고 싶은데 여기서 돼요?", "리뷰 삭제", "리뷰는 앱의 '내 리뷰' 화면에서 직접 관리하실 수 있어요", "delete_review"),
    "다른 사람(가족) 주문 내역 조회": (
        "엄마가 시킨 주문 내역 좀 볼 수 있어요?",
        "다른 분 계정의 주문 조회",
        "로그인하신 계정의 주문이라면 바로 찾아 드릴 수 있어요",
        "get_family_orders",
    ),
    "음식 알레르기 의료 상담": (
        "땅콩 알레르기 있는데 이거 먹어도 괜찮을까요?",
        "알레르기에 대한 의료 상담",
        "가게 메뉴 설명은 보여드릴 수 있으니, 정확한 성분은 가게에 꼭 확인해 주세요",
        "medical_consult",
    ),
    "이미 접수된 주문 취소": ("방금 한 주문 취소해 주세요", "접수된 주문 취소", "주문이 지금 어느 단계인지는 확인해 드릴 수 있어요", "cancel_order"),
    "포인트 현금으로 전환": (
        "적립 포인트 현금으로 바꿀 수 있어요?",
        "포인트 현금 전환",
        "포인트는 주문할 때 결제 금액에서 사용하실 수 있어요",
        "convert_points",
    ),
    "회원 탈퇴 처리": ("회원 탈퇴하고 싶은데 처리해 주세요", "회원 탈퇴 처리", "탈퇴는 앱의 '설정 > 계정 관리'에서 직접 진행하실 수 있어요", "delete_account"),
    "가게 사장님께 메뉴 추가 요청 전달": (
        "사장님한테 메뉴 하나 추가해 달라고 전해 줄 수 있어요?",
        "가게에 건의 사항 전달",
        "대신 그 가게 메뉴판은 지금 바로 보여드릴 수 있어요",
        "send_message_to_store",
    ),
    "결제 카드 정보 변경": (
        "등록된 카드를 새 카드로 바꾸고 싶어요",
        "결제 카드 정보 변경",
        "주문할 때 카카오페이나 만나서 결제 같은 다른 결제 수단은 고르실 수 있어요",
        "update_payment_card",
    ),
    "쿠폰 새로 발급": ("할인 쿠폰 하나만 새로 발급해 주세요", "쿠폰 발급", "가지고 계신 쿠폰 코드가 있으면 결제할 때 적용해 드릴 수 있어요", "issue_coupon"),
    "배달 라이더 지원 방법": ("배달 라이더 하고 싶은데 어떻게 지원해요?", "라이더 지원 안내", "주문이나 가게 찾기는 언제든 도와드릴게요", "apply_rider"),
    "다른 배달 앱과 가격 비교": (
        "다른 배달 앱이랑 가격 비교해 줄 수 있어요?",
        "다른 앱과의 가격 비교",
        "이 앱 안에서 배달비 낮은 순으로 가게를 찾아 드릴 수는 있어요",
        "compare_prices",
    ),
    "오늘 날씨 문의": ("오늘 비 와요? 날씨 좀 알려주세요", "날씨 안내", "비 오는 날 먹기 좋은 국물 요리 가게는 찾아 드릴 수 있어요", "get_weather"),
    "가게 위생 신고 접수": (
        "어제 시킨 가게 음식에서 머리카락 나왔어요. 위생 신고해 주세요",
        "위생 신고 접수",
        "주문 내역은 확인해 드릴 수 있고, 신고는 앱의 고객센터 메뉴에서 접수하실 수 있어요",
        "report_store",
    ),
}

_STATUS_TEXT = {
    "pending": "가게에서 아직 접수하기 전이에요",
    "accepted": "가게에서 주문을 접수했어요",
    "cooking": "지금 조리 중이에요",
    "delivering": "라이더가 배달 중이에요",
    "delivered": "배달 완료로 표시돼 있어요",
    "cancelled": "취소된 주문으로 나와요",
}

# Customer phrasing per tone: (casual, short, polite) variants; {x} is filled in.
_SAY = {
    "find": (
        ["{x} 찾아줘", "{x} 어디가 괜찮아?", "근처에 {x} 뭐 있어?"],
        ["{x} 찾아주세요", "{x} 검색이요"],
        ["{x} 좀 찾아주실 수 있을까요?", "혹시 근처에 {x} 있을까요?", "{x} 시키려고 하는데 어디가 좋을까요?"],
    ),
    "menu": (["{x} 메뉴 보여줘", "{x} 뭐 팔아?"], ["{x} 메뉴요", "{x} 메뉴판 보여주세요"], ["{x} 메뉴 좀 보여주시겠어요?", "{x}에는 어떤 메뉴가 있나요?"]),
    "add": (["{x} 담아줘", "{x} 장바구니에 넣어줘"], ["{x} 담아주세요", "{x} 추가요"], ["{x} 장바구니에 담아 주세요.", "{x} 담아 주시겠어요?"]),
    "yes": (
        ["응 그렇게 해줘", "ㅇㅇ 주문 ㄱㄱ", "좋아 주문해줘"],
        ["네 진행해주세요", "네 주문이요"],
        ["네, 그렇게 주문해 주세요.", "네 좋아요. 주문 부탁드려요."],
    ),
    "thanks": (
        ["고마워!", "오 땡큐", "ㅇㅋ 알겠어"],
        ["네 감사", "확인했어요", "ㅇㅋ요"],
        ["감사합니다. 덕분에 편하네요.", "네, 고맙습니다.", "알겠습니다, 수고하세요."],
    ),
}
_TONES = ("casual", "short", "polite")
_FOUND = ["{n}곳 찾았어요.", "조건에 맞는 가게가 {n}곳 있어요.", "찾아보니 이런 곳들이 있어요.", "이런 가게들이 있어요."]
_NEXT = ["어느 가게 메뉴를 볼까요?", "마음에 드는 곳 있으세요?", "조건을 더 좁혀서 찾아드릴까요?", "궁금한 가게가 있으면 말씀해 주세요."]
_CLOSERS = [
    "맛있게 드세요!",
    "필요한 게 있으면 또 말씀해 주세요.",
    "맛있는 식사 되세요.",
    "다른 것도 도와드릴까요?",
    "주문하실 때 편하게 불러 주세요.",
    "즐거운 식사 시간 보내세요!",
    "오늘도 든든하게 드세요.",
]
_ORD = ("첫 번째", "두 번째", "세 번째", "네 번째")
_REFUSE = ["죄송하지만 {w} 제가 도와드릴 수 없어요.", "아쉽게도 {w} 이 채팅에서는 처리해 드릴 수 없어요.", "{w} 제가 가진 기능으로는 해 드리기 어려워요."]


def _won(n: int) -> str:
    return f"{n:,}원"


def _josa(word: str, with_final: str, without: str) -> str:
    """``word`` + the particle its last syllable takes (은/는, 이/가, 을/를, 이랑/랑, 으로/로; ㄹ + 로)."""
    code = ord(word[-1]) - 0xAC00
    final = code % 28 if 0 <= code < 11172 else 0
    return word + (without if not final or (with_final == "으로" and final == 8) else with_final)


def _turn(role: str, content: str | None, tool_calls=None, tool_call_id=None, name=None) -> dict:
    return {"role": role, "content": content, "tool_calls": tool_calls, "tool_call_id": tool_call_id, "name": name}


def _tone(persona: str) -> str:
    if any(w in persona for w in ("반말", "대학생", "고등학생", "친근")):
        return "casual"
    return "short" if any(w in persona for w in ("짧", "급한", "피곤", "직설", "간단")) else "polite"


def _fee(n: int) -> str:
    return _won(n) if n else "무료"


def _listing(items: list[dict]) -> str:
    return "\n".join(
        f"{i}. {s['name']} (평점 {s['rating']}, 배달비 {_fee(s['delivery_fee'])}, 약 {s['eta_minutes']}분{'' if s['is_open'] else ', 지금은 준비 중'})"
        for i, s in enumerate(items, 1)
    )


def _menu_text(d: dict, k: int = 4) -> str:
    lines = [f"- {m['name']} {_won(m['price'])}{' (오늘 품절)' if m['is_sold_out'] else ''}" for m in d["menu"][:k]]
    opts = ", ".join(f"{o['name']}(+{_won(o['price'])})" if o["price"] else o["name"] for o in d["menu"][0]["options"])
    return "\n".join(lines) + (f"\n옵션으로 {opts} 선택이 가능해요." if opts else "")


def _items_text(items: list[dict]) -> str:
    return ", ".join(f"{i['name']} {i['quantity']}개" for i in items)


def _cart_text(cart: dict) -> str:
    return (
        f"{cart['restaurant_name']} 장바구니에 {_items_text(cart['items'])}가 담겨 있어요. 상품 {_won(cart['subtotal'])}에 "
        f"배달비 {_fee(cart['delivery_fee'])}, 합쳐서 {_won(cart['total'])}이에요."
    )


def _checkout_text(ck: dict, addr: dict) -> str:
    money = f"상품 {_won(ck['subtotal'])} + 배달비 {_won(ck['delivery_fee'])}"
    money += f" - 쿠폰 할인 {_won(ck['discount'])}" if ck["discount"] else ""
    note = f"\n- 요청사항: {ck['delivery_note']}" if ck["delivery_note"] else ""
    return (
        f"{ck['restaurant_name']}에서 {_items_text(ck['items'])} 주문 준비가 됐어요.\n- 배송지: {addr['label']} ({ck['address']})\n"
        f"- 결제: {config.PAYMENT_METHODS[ck['payment_method']]}{note}\n- {money} = 총 {_won(ck['total'])}\n이대로 주문할까요?"
    )


def _compare_text(da: dict, db: dict) -> str:
    text = "\n\n".join(f"[{d['name']}] 배달비 {_fee(d['delivery_fee'])}, 약 {d['eta_minutes']}분\n{_menu_text(d, 3)}" for d in (da, db))
    return f"두 가게 메뉴를 나란히 볼게요.\n\n{text}"


def _status_text(topic: str, o: dict) -> str:
    text = f"{o['restaurant_name']}에 주문하신 {_items_text(o['items'])}, {_STATUS_TEXT[o['status']]}."
    text += f" 도착까지 약 {o['eta_minutes']}분 남았어요." if o["eta_minutes"] is not None else ""
    if "못 받" in topic:
        text += " 문 앞이나 경비실을 한번 확인해 보시고, 그래도 없으면 앱의 주문 상세 화면에서 문의를 남겨 주세요."
    elif "라이더" in topic:
        text += " 라이더의 실시간 위치는 제가 볼 수 없지만, 상태가 바뀌면 앱 알림으로 알려 드려요."
    return text


_SUMMARY_KEYS = ("restaurant_id", "name", "category", "rating", "is_open", "delivery_fee", "min_order_amount", "eta_minutes")
_ID_FORMATS = {
    "restaurant_id": ("R{:04d}", 1000, 8999),
    "menu_item_id": ("M{:05d}", 10000, 89999),
    "cart_item_id": ("CI{:04d}", 1, 8999),
    "address_id": ("A{:03d}", 1, 899),
    "checkout_id": ("CK{:06d}", 100000, 899999),
}
_SORT_KEYS = {"rating": lambda s: -s["rating"], "eta": lambda s: s["eta_minutes"], "delivery_fee": lambda s: s["delivery_fee"]}


class _Talk:
    """One dialogue under construction: turns, rng, and a small consistent world (shops, cart, addresses,
    orders) whose methods make a tool call and return the result computed from its arguments."""

    def __init__(self, scenario: dict, category: str, defect: str | None):
        self.rng = random.Random(str(scenario["custom_id"]))
        self.category, self.defect = category, defect
        topics = config.UNSUPPORTED_SCENARIOS if category == "no_call" else config.QUESTION_TOPICS[category]
        self.topic = str(scenario.get("topic") or self.rng.choice(topics))
        self.tone = _tone(str(scenario.get("persona") or config.PERSONAS[0]))
        want = scenario.get("user_turns")
        self.want = want if isinstance(want, int) and want > 0 else config.TURN_RANGE[0]
        date = str(scenario.get("date") or "")
        self.date = date if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else "2026-11-21"
        self.fc = next((v for k, v in _TOPIC_FOOD.items() if k in self.topic), None) or self.rng.choice(sorted(_FOOD))
        self.turns: list[dict] = []
        self.tail: list[dict] = []  # the closing thanks exchange, kept last when a defect appends a follow-up
        self.n_calls = 0
        self.used: set[str] = set()  # every id handed out (new_id)
        self.pools: dict[str, list[dict]] = {}  # food category → its 5 shops (pool)
        self.details: dict[str, dict] = {}  # restaurant_id → its detail (detail)
        self._cart: dict | None = None  # None until the first put
        self.addrs: list[dict] = []

    # -- turns ----------------------------------------------------------------------------------
    def pick(self, seq):
        return self.rng.choice(list(seq))

    def phrase(self, key: str, x: str = "") -> str:
        return self.pick(_SAY[key][_TONES.index(self.tone)]).format(x=x)

    def u(self, casual: str, polite: str) -> str:
        return casual if self.tone == "casual" else polite

    def user(self, text: str) -> None:
        self.turns.append(_turn("user", text))

    def say(self, text: str) -> None:
        self.turns.append(_turn("assistant", text))

    def call(self, *calls: tuple[str, dict, dict]):
        """One assistant turn making ``(name, args, result)`` calls (parallel when several), then one tool
        turn per call; returns the result, or the list of results."""
        tcs = []
        for name, args, _ in calls:
            self.n_calls += 1
            tcs.append({"id": f"call_{self.n_calls}", "name": name, "arguments_json": json.dumps(args, ensure_ascii=False)})
        self.turns.append(_turn("assistant", None, tool_calls=tcs))
        self.turns += [_turn("tool", json.dumps(r, ensure_ascii=False), tool_call_id=tc["id"], name=n) for tc, (n, _, r) in zip(tcs, calls)]
        return [c[2] for c in calls] if len(calls) > 1 else calls[0][2]

    def finish(self, text: str) -> None:
        """The last answer with a varied closing line, or, when the scenario wants more user turns, a thanks exchange."""
        if sum(t["role"] == "user" for t in self.turns) < self.want:
            self.say(text)
            self.tail = [_turn("user", self.phrase("thanks")), _turn("assistant", self.pick(_CLOSERS))]
            self.turns += self.tail
        else:
            self.say(f"{text}{chr(10) if chr(10) in text else ' '}{self.pick(_CLOSERS)}")

    # -- world ----------------------------------------------------------------------------------
    def new_id(self, kind: str) -> str:
        while True:
            if kind == "order_id":
                value = "O" + self.date[2:].replace("-", "") + f"{self.rng.randint(1, 89):02d}"
            else:
                fmt, lo, hi = _ID_FORMATS[kind]
                value = fmt.format(self.rng.randint(lo, hi))
            if value not in self.used:
                self.used.add(value)
                return value

    def pool(self, fc: str, args: dict | None = None) -> list[dict]:
        """The 5 shops of a food category, made once per dialogue (same id and figures in every result). The
        first two are open with low fees so refinements never come back empty; a first search's
        ``min_rating`` / ``max_delivery_fee`` hold for all five; min orders are below the cheapest main."""
        if fc not in self.pools:
            args = args or {}
            low = min(int(m.split("/")[1]) for m in _FOOD[fc][3].split("|")[:3]) - 1000
            fees = lambda i: [f for f in ((0, 1000, 1500) if i < 2 else (0, 1000, 2000, 2500, 3000, 3500)) if f <= args.get("max_delivery_fee", 10**6)]
            self.pools[fc] = [
                {
                    "restaurant_id": self.new_id("restaurant_id"),
                    "name": name,
                    "category": fc,
                    "rating": round(self.rng.uniform(max(args.get("min_rating") or 0, 3.9), 4.9), 1),
                    "is_open": i < 2 or self.rng.random() > 0.3,
                    "delivery_fee": self.pick(fees(i)),
                    "min_order_amount": self.pick([v for v in (0, 8000, 10000, 12000, 15000) if v <= low] or [0]),
                    "eta_minutes": self.rng.randrange(20, 55, 5),
                }
                for i, name in enumerate(self.rng.sample(_FOOD[fc][2].split("|"), 5))
            ]
        return self.pools[fc]

    def search_result(self, args: dict, fc: str | None = None, exclude=()) -> dict:
        """search_restaurants result honouring every filter; sorted results are the top of the sorted pool;
        page 2 shows the matches page 1 (``exclude``) did not."""
        ok = [
            s
            for s in self.pool(args.get("category") or fc or self.fc, args)
            if (s["is_open"] or not args.get("only_open"))
            and s["delivery_fee"] <= args.get("max_delivery_fee", 10**6)
            and s["rating"] >= (args.get("min_rating") or 0)
        ]
        rest = [s for s in ok if s["name"] not in exclude]
        n = len(rest) if args.get("page") else min(len(rest), self.pick((3, 3, 4)))
        if args.get("sort") in _SORT_KEYS:
            items = sorted(rest, key=_SORT_KEYS[args["sort"]])[:n]
        else:
            items = self.rng.sample(rest, n)
            if items and not any(s["is_open"] for s in items):
                items[-1] = next((s for s in rest if s["is_open"]), items[-1])
        return {"items": items, "total": len(ok)}

    def search(self, args: dict, fc: str | None = None, exclude=()) -> dict:
        return self.call(("search_restaurants", args, self.search_result(args, fc, exclude)))

    def detail(self, shop: dict) -> dict:
        rid = shop["restaurant_id"]
        if rid not in self.details:
            fc, delta = shop["category"], self.pick((-1000, -500, 0, 0, 500, 1000))
            opts = [{"name": o.split("/")[0], "price": int(o.split("/")[1])} for o in _FOOD[fc][4].split("|")]
            menu = [
                {
                    "menu_item_id": self.new_id("menu_item_id"),
                    "name": name,
                    "price": int(price) + (delta if i < 3 else 0),
                    "description": desc,
                    "is_sold_out": False,
                    "options": opts if i < 3 else [],
                }
                for i, (name, price, desc) in enumerate(m.split("/") for m in _FOOD[fc][3].split("|"))
            ]
            if self.rng.random() < 0.3:
                self.pick(menu[1:])["is_sold_out"] = True
            hours = self.pick(("11:00-22:00", "10:30-21:30", "11:30-23:00", "16:00-02:00"))
            self.details[rid] = {**{k: shop[k] for k in _SUMMARY_KEYS}, "opening_hours": hours, "menu": menu}
        return self.details[rid]

    def open_details(self, *shops: dict) -> list[dict]:
        """get_restaurant_detail for one shop, or for several in parallel (a comparison); returns the details."""
        res = self.call(*[("get_restaurant_detail", {"restaurant_id": s["restaurant_id"]}, self.detail(s)) for s in shops])
        return res if len(shops) > 1 else [res]

    # -- cart -----------------------------------------------------------------------------------
    @property
    def cart(self) -> dict:
        """The cart ``{"shop", "lines"}``: :meth:`put` makes it, and every script reads it only after a put
        (:meth:`prefill` or :meth:`add`)."""
        assert self._cart is not None, "the cart is read before anything was put in it"
        return self._cart

    def subtotal(self) -> int:
        return sum(line["line_total"] for line in self.cart["lines"])

    def cart_view(self) -> dict:
        shop, sub = self.cart["shop"], self.subtotal()
        return {
            "restaurant_id": shop["restaurant_id"],
            "restaurant_name": shop["name"],
            "items": self.cart["lines"],
            "subtotal": sub,
            "delivery_fee": shop["delivery_fee"],
            "total": sub + shop["delivery_fee"],
        }

    def change(self, line: dict) -> dict:
        return {"cart_item": line, "item_count": sum(x["quantity"] for x in self.cart["lines"]), "subtotal": self.subtotal()}

    def put(self, d: dict, item: dict, qty: int, options=(), note=None) -> dict:
        if self._cart is None or self._cart["shop"]["restaurant_id"] != d["restaurant_id"]:
            self._cart = {"shop": {k: d[k] for k in _SUMMARY_KEYS}, "lines": []}
        unit = item["price"] + sum(o["price"] for o in item["options"] if o["name"] in options)
        line = {
            "cart_item_id": self.new_id("cart_item_id"),
            "menu_item_id": item["menu_item_id"],
            "name": item["name"],
            "quantity": qty,
            "options": list(options),
            "special_request": note,
            "unit_price": unit,
            "line_total": unit * qty,
        }
        self.cart["lines"].append(line)
        return line

    def prefill(self, least: int = 1) -> None:
        """A cart filled before the chat: an open shop's first main plus ``least - 1`` to 2 more items."""
        d = self.detail(self.pool(self.fc)[0])
        for item in [d["menu"][0]] + self.rng.sample([m for m in d["menu"][1:] if not m["is_sold_out"]], self.rng.randint(least - 1, 2)):
            self.put(d, item, self.pick((1, 1, 2)))

    def get_cart(self, addresses: tuple | None = None) -> dict:
        """get_cart, or get_cart and list_addresses in parallel when ``addresses`` (labels to include) is given."""
        if addresses is None:
            return self.call(("get_cart", {}, self.cart_view()))
        return self.call(("get_cart", {}, self.cart_view()), ("list_addresses", {}, self.addresses(*addresses)))[0]

    def add(self, d: dict, item: dict, qty: int, options=(), note=None) -> dict:
        """add_to_cart (options / special_request only when given); returns the new cart line."""
        line = self.put(d, item, qty, options, note)
        args = {"restaurant_id": d["restaurant_id"], "menu_item_id": item["menu_item_id"], "quantity": qty}
        args.update({"options": list(options)} if options else {}, **({"special_request": note} if note else {}))
        return self.call(("add_to_cart", args, self.change(line)))["cart_item"]

    def set_qty(self, line: dict, qty: int) -> dict:
        line.update(quantity=qty, line_total=line["unit_price"] * qty)
        return self.call(("update_cart_item", {"cart_item_id": line["cart_item_id"], "quantity": qty}, self.change(line)))

    def remove(self, lines: list[dict]) -> dict:
        ids = [line["cart_item_id"] for line in lines]
        self.cart["lines"] = [x for x in self.cart["lines"] if x["cart_item_id"] not in ids]
        result = {"removed_cart_item_ids": ids, "item_count": sum(x["quantity"] for x in self.cart["lines"]), "subtotal": self.subtotal()}
        return self.call(("remove_cart_items", {"cart_item_ids": ids}, result))

    # -- checkout and orders --------------------------------------------------------------------
    def addresses(self, *labels: str) -> dict:
        chosen = [a for a in _ADDRESSES if a[0] in labels]
        chosen += self.rng.sample([a for a in _ADDRESSES if a[0] not in labels], max(0, self.rng.randint(2, 3) - len(chosen)))
        self.rng.shuffle(chosen)
        self.addrs = [{"address_id": self.new_id("address_id"), "label": lab, "address": addr, "is_default": i == 0} for i, (lab, addr) in enumerate(chosen)]
        return {"items": self.addrs}

    def address(self, label: str | None) -> dict:
        return next((a for a in self.addrs if a["label"] == label), self.addrs[0])

    def checkout(self, addr: dict, pay: str, note: str | None = None, coupon: str | None = None) -> dict:
        sub, shop, discount = self.subtotal(), self.cart["shop"], self.pick((1000, 2000, 3000)) if coupon else 0
        args = {"address_id": addr["address_id"], "payment_method": pay}
        args.update({"delivery_note": note} if note else {}, **({"coupon_code": coupon} if coupon else {}))
        return self.call(
            (
                "prepare_checkout",
                args,
                {
                    "checkout_id": self.new_id("checkout_id"),
                    "restaurant_name": shop["name"],
                    "address_id": addr["address_id"],
                    "address": addr["address"],
                    "payment_method": pay,
                    "items": [{k: x[k] for k in ("name", "quantity", "line_total")} for x in self.cart["lines"]],
                    "subtotal": sub,
                    "delivery_fee": shop["delivery_fee"],
                    "discount": discount,
                    "total": sub + shop["delivery_fee"] - discount,
                    "delivery_note": note,
                    "coupon_code": coupon,
                    "eta_minutes": shop["eta_minutes"],
                },
            )
        )

    def stamp(self, hour: int | None = None) -> str:
        return f"{self.date}T{hour or self.rng.randint(11, 21):02d}:{self.rng.randint(0, 59):02d}:00+09:00"

    def place(self, ck: dict) -> dict:
        result = {"order_id": self.new_id("order_id"), "status": "accepted", "total": ck["total"], "eta_minutes": ck["eta_minutes"], "ordered_at": self.stamp()}
        return self.call(("place_order", {"checkout_id": ck["checkout_id"]}, result))

    def past_order(self, status: str, hour: int | None = None, fc: str | None = None) -> dict:
        """An earlier order of the customer, as get_order_status returns it (list_orders shows a projection)."""
        fc = fc or self.fc
        picks = self.rng.sample([m.split("/") for m in _FOOD[fc][3].split("|")], self.rng.randint(1, 2))
        items = [{"name": name, "quantity": self.pick((1, 1, 2))} for name, _, _ in picks]
        return {
            "order_id": self.new_id("order_id"),
            "restaurant_name": self.pick(_FOOD[fc][2].split("|")),
            "status": status,
            "items": items,
            "total": sum(int(p[1]) * i["quantity"] for p, i in zip(picks, items)) + self.pick((0, 1000, 2000, 3000)),
            "ordered_at": self.stamp(hour),
            "eta_minutes": None if status in ("delivered", "cancelled") else self.rng.randint(5, 40),
        }

    def list_orders(self, orders: list[dict], status: str | None = None) -> list[dict]:
        rows = [
            {
                "order_id": o["order_id"],
                "restaurant_name": o["restaurant_name"],
                "summary": o["items"][0]["name"] + (f" 외 {len(o['items']) - 1}건" if len(o["items"]) > 1 else ""),
                "status": o["status"],
                "total": o["total"],
                "ordered_at": o["ordered_at"],
            }
            for o in orders
        ]
        return self.call(("list_orders", {"status": status} if status else {}, {"items": rows}))["items"]


# ---- Shared steps and category builders (config.GOLD_CATEGORIES) ----------------------------------
# Topic words that justify an optional search argument, and how the customer says it (seed 001 rules:
# only_open / min_rating / sort only when said; '평점 높은' is sort=rating, never a min_rating).
_TOPIC_ARGS = [
    ("영업 중", "only_open", True, "지금 영업 중인"),
    ("새벽", "only_open", True, "지금 문 연"),
    ("배달비 무료", "max_delivery_fee", 0, "배달비 무료인"),
    ("평점 4.5 이상", "min_rating", 4.5, "평점 4.5 이상인"),
    ("평점 높은", "sort", "rating", "평점 높은"),
    ("빨리", "sort", "eta", "빨리 오는"),
]


def _found(t: _Talk, res: dict) -> str:
    return f"{t.pick(_FOUND).format(n=len(res['items']))}\n{_listing(res['items'])}"


def _search_args(t: _Talk) -> tuple[dict, str]:
    """search_restaurants arguments the customer's words justify, and those words."""
    args, words = {}, []
    for key, arg, value, said in _TOPIC_ARGS:
        if key in t.topic and arg not in args:
            args[arg] = value
            words.append(said)
    query = next((w for w in _QUERY_WORDS if w in t.topic), None)
    if query or t.rng.random() < 0.35:
        args["query"] = query or t.pick(_FOOD[t.fc][1].split("|"))
        return args, " ".join(words + [t.pick(("{} 잘하는 곳", "{} 맛집", "{} 파는 데")).format(args["query"])])
    args["category"] = t.fc
    return args, " ".join(words + [_FOOD[t.fc][0]])


def _open_search(t: _Talk) -> tuple[dict, dict]:
    """The customer asks for shops; search; list them. Returns (arguments, result)."""
    args, words = _search_args(t)
    t.user(t.phrase("find", words))
    res = t.search(args)
    t.say(f"{_found(t, res)}\n{t.pick(_NEXT)}")
    return args, res


def _choose_menu(t: _Talk, res: dict, say: str | None = "어떤 걸로 담아 드릴까요?") -> dict:
    """The customer names a listed open shop (by position or name); get_restaurant_detail; show the menu."""
    items = res["items"]
    s = t.pick([x for x in items if x["is_open"]] or items)
    t.user(t.phrase("menu", t.pick((f"{_ORD[items.index(s)]} 집", s["name"]))))
    d = t.open_details(s)[0]
    if say is not None:
        t.say(f"{d['name']} 메뉴예요.\n{_menu_text(d)}\n{say}".rstrip())
    return d


def _order_flow(t: _Talk, label: str | None, pay: str | None, note=None, coupon=None, lead: str = "", parallel=False) -> None:
    """Checkout: addresses (with get_cart in parallel, or alone if not listed yet) → ask what is missing →
    prepare_checkout → the customer confirms the total → place_order with the checkout_id."""
    if parallel:
        t.get_cart((label,) if label else ())
    elif not t.addrs:
        t.call(("list_addresses", {}, t.addresses(*([label] if label else []))))
    addr = t.address(label) if label else None
    if addr is None or pay is None:
        ask = [] if addr else ["배송지는 " + ", ".join(f"{a['label']}({a['address']})" for a in t.addrs) + " 중 어디로 할까요?"]
        ask += [] if pay else ["결제는 카드, 카카오페이, 네이버페이, 토스페이, 만나서 결제 중 어떤 걸로 하시겠어요?"]
        t.say(f"{lead} {' '.join(ask)}".strip())
        addr, pay = addr or t.pick(t.addrs), pay or t.pick(config.PAYMENT_METHODS)
        said = " ".join(([] if label else [_josa(addr["label"], "으로", "로")]) + [config.PAYMENT_METHODS[pay] + "로"])
        t.user(t.u(said + " 해줘", said + " 할게요"))
    ck = t.checkout(addr, pay, note, coupon)
    t.say(_checkout_text(ck, addr))
    t.user(t.u("생각보다 좀 나오네… 그래도 시킬게", "음, 생각보다 좀 나오네요. 그래도 주문할게요") if "망설" in t.topic else t.phrase("yes"))
    order = t.place(ck)
    t.finish(f"주문이 접수됐어요. 주문번호는 {order['order_id']}이고, 약 {order['eta_minutes']}분 뒤 도착 예정이에요.")


def _b_search(t: _Talk) -> None:
    """1–2 search_restaurants calls: the request, then (turns allowing) a refinement the customer asks for."""
    args, words = _search_args(t)
    t.user(t.phrase("find", words))
    res = t.search(args)
    if t.want < 2:
        return t.finish(_found(t, res))
    t.say(f"{_found(t, res)}\n{t.pick(_NEXT)}")
    fc2 = t.pick(f for f in sorted(_FOOD) if f != t.fc)
    q2 = _FOOD[fc2][1].split("|")[0]
    base = {k: v for k, v in args.items() if k not in ("query", "category")}
    options = {
        "sort": ({**args, "sort": "rating"}, t.u("평점 높은 순으로 다시 보여줘", "평점 높은 순으로 다시 보여주세요"), "평점 높은 순이에요."),
        "only_open": ({**args, "only_open": True}, t.u("지금 문 연 데만 보여줘", "지금 영업 중인 곳만 보여주세요"), "지금 영업 중인 곳이에요."),
        "max_delivery_fee": (
            {**args, "max_delivery_fee": 2000},
            t.u("배달비 2천원 이하인 데만", "배달비 2천원 이하인 곳만 볼 수 있을까요?"),
            "다시 찾아봤어요.",
        ),
        "page": ({**args, "page": 2}, t.u("더 보여줘", "다른 곳도 더 보여주세요"), "다음 결과예요."),
        "other": ({**base, "query": q2}, t.u(f"{q2}도 찾아줘", f"같은 조건으로 {q2}도 찾아 주세요"), f"{q2} 검색 결과예요."),
    }
    keys = [k for k in options if k not in args and (k != "page" or res["total"] > len(res["items"]))]
    key = "page" if "더 보기" in t.topic and "page" in keys else "other" if "다른 메뉴" in t.topic else t.pick(keys)
    args2, ask, lead = options[key]
    t.user(ask)
    res2 = t.search(args2, fc2 if key == "other" else None, [s["name"] for s in res["items"]] if key == "page" else ())
    t.finish(f"{lead}\n{_listing(res2['items'])}")


def _b_menu(t: _Talk) -> None:
    """search, then get_restaurant_detail with an id from the result (two in parallel for a comparison)."""
    res = _open_search(t)[1]
    a, b = (res["items"] + [None])[:2]
    if b and ("비교" in t.topic or t.rng.random() < 0.3):
        t.user(t.u(f"{_josa(a['name'], '이랑', '랑')} {b['name']} 메뉴 비교해줘", f"{a['name']}하고 {b['name']} 메뉴를 비교해 주실 수 있나요?"))
        return t.finish(_compare_text(*t.open_details(a, b)))
    d = _choose_menu(t, res, None)
    menu = f"{d['name']} 메뉴예요.\n{_menu_text(d)}"
    if sum(x["role"] == "user" for x in t.turns) + 1 >= t.want:
        return t.finish(menu)
    t.say(menu)
    m = d["menu"][0]
    name = _josa(m["name"], "은", "는")
    t.user(t.u(f"{name} 어떤 거야?", f"{name} 어떤 메뉴인가요?"))
    extra = f" 옵션으로 {m['options'][0]['name']}도 고르실 수 있어요." if m["options"] else ""
    t.finish(f"{name} '{m['description']}' 메뉴이고 {_won(m['price'])}이에요.{extra}")


def _b_cart(t: _Talk) -> None:
    """Cart work: search → detail → add_to_cart with options / a request, or get_cart then update / remove / add."""
    topic = t.topic
    if any(w in topic for w in ("옵션", "요청사항", "세트", "다시 담기")):
        d = _choose_menu(t, _open_search(t)[1])
        item, qty = d["menu"][0], t.pick((1, 1, 2))
        opts = [item["options"][-1]["name"]] if "옵션" in topic else []
        note = t.pick(("덜 맵게 해 주세요", "소스 넉넉히 주세요", "양념은 따로 주세요")) if "요청" in topic else None
        t.user(t.phrase("add", f"{item['name']} {qty}개" + (f" {_josa(opts[0], '으로', '로')}" if opts else "") + (f", {note}" if note else "")))
        line = t.add(d, item, qty, opts, note)
        return t.finish(f"{line['name']} {qty}개 담았어요(개당 {_won(line['unit_price'])}). 지금 장바구니 합계는 {_won(t.subtotal())}이에요.")
    op = next(
        (
            op
            for words, op in (("다른 가게", "other"), ("빼기 정리", "remove"), ("수량 한 마리", "update"), ("사이드 최소", "add"), ("확인", "view"))
            if any(w in topic for w in words.split())
        ),
        None,
    ) or t.pick(("remove", "update", "add"))
    t.prefill(2 if op == "remove" else 1)
    t.user(t.u("장바구니에 뭐 들어 있어?", "장바구니에 담긴 거 좀 확인해 주세요"))
    cart, lines = t.get_cart(), t.cart["lines"]
    if op == "view":
        return t.finish(_cart_text(cart))
    t.say(_cart_text(cart) + " 바꾸실 게 있으면 말씀해 주세요.")
    if op == "other":
        t.user(t.u("다른 가게 메뉴도 같이 담을 수 있어?", "다른 가게 메뉴도 같이 담을 수 있나요?"))
        return t.finish(
            f"장바구니에는 한 가게 메뉴만 담을 수 있어서, 다른 가게 메뉴를 담으려면 지금 담긴 {cart['restaurant_name']} 메뉴를 먼저 빼야 해요. 비워 드릴까요?"
        )
    if op == "update":
        line, qty = lines[0], lines[0]["quantity"] + 1
        t.user(t.u(f"{line['name']} {qty}개로 바꿔줘", f"{line['name']} {qty}개로 바꿔 주세요"))
        return t.finish(f"{line['name']} 수량을 {qty}개로 바꿨어요. 장바구니 합계는 {_won(t.set_qty(line, qty)['subtotal'])}이에요.")
    if op == "remove":
        gone = lines[-2:] if "여러" in topic and len(lines) > 2 else lines[-1:]
        names = ", ".join(x["name"] for x in gone)
        t.user(t.u(f"{names} 빼줘", f"{names} 빼 주세요"))
        return t.finish(f"{names} 뺐어요. 남은 합계는 {_won(t.remove(gone)['subtotal'])}이에요.")
    t.user(t.u("사이드 뭐 있어? 하나 추가하고 싶어", "사이드 메뉴 하나 더 추가하고 싶은데 뭐가 있나요?"))
    d = t.open_details(t.cart["shop"])[0]
    sides = [m for m in d["menu"][3:] if not m["is_sold_out"]] or d["menu"][:1]
    t.say("추가하실 만한 메뉴예요.\n" + "\n".join(f"- {m['name']} {_won(m['price'])}" for m in sides))
    side = t.pick(sides)
    t.user(t.phrase("add", f"{side['name']} 1개"))
    t.add(d, side, 1)
    t.finish(f"{side['name']} 1개 담았어요. 장바구니 합계는 {_won(t.subtotal())}이에요.")


def _b_order_status(t: _Talk) -> None:
    """get_order_status with the order id the customer typed, or found first with list_orders."""
    status = next(
        (
            v
            for k, v in (("배달 완료", "delivered"), ("취소", "cancelled"), ("조리 중", "cooking"), ("접수", "accepted"), ("라이더", "delivering"))
            if k in t.topic
        ),
        None,
    ) or t.pick(("cooking", "delivering", "accepted"))
    order = t.past_order(status, t.rng.randint(17, 21))
    if "주문번호로" in t.topic or (not any(w in t.topic for w in ("모르", "두 건", "어제", "진행 중"))) and t.rng.random() < 0.5:
        t.user(t.u(f"주문번호 {order['order_id']}인데 어디쯤 왔어?", f"주문번호 {order['order_id']} 주문, 지금 어떻게 됐나요?"))
    else:
        filt = "in_progress" if "진행 중" in t.topic else None
        t.user(
            t.u("진행 중인 주문 좀 봐줘", "진행 중인 주문 확인해 주세요")
            if filt
            else t.u("아까 시킨 거 언제 와? 주문번호는 몰라", "최근에 주문한 거 어떻게 됐는지 알 수 있을까요? 주문번호는 모르겠어요")
        )
        other = t.past_order("cooking" if "두 건" in t.topic or filt else "delivered", t.rng.randint(11, 16), t.pick(sorted(_FOOD)))
        rows = t.list_orders([order, other], filt)
        if "두 건" in t.topic:
            t.say("진행 중인 주문이 두 건 있어요. " + ", ".join(f"{r['restaurant_name']}({r['summary']})" for r in rows) + " 중 어떤 주문을 볼까요?")
            t.user(t.u(f"{order['restaurant_name']} 거", f"{order['restaurant_name']} 주문이요"))
    t.call(("get_order_status", {"order_id": order["order_id"]}, order))
    t.finish(_status_text(t.topic, order))


def _b_checkout(t: _Talk) -> None:
    """get_cart → list_addresses (or both in parallel) → prepare_checkout → confirmation → place_order."""
    pay = next((v for k, v in _PAY_WORDS.items() if k in t.topic), None)
    label = "회사" if "회사" in t.topic else None
    note = next((v for k, v in _NOTES.items() if k in t.topic), None)
    coupon = t.pick(("WELCOME3000", "HELLO2026", "YUMMY1000")) if "쿠폰" in t.topic else None
    t.prefill()
    said = [
        t.u("장바구니 담은 거 주문할래.", "장바구니에 담아 둔 거 주문하고 싶어요."),
        f"{label}로 보내 주세요." if label else "",
        f"결제는 {config.PAYMENT_METHODS[pay]}로요." if pay else "",
        f"요청사항은 '{note}'로 남겨 주세요." if note else "",
        f"쿠폰 코드 {coupon}도 써 주세요." if coupon else "",
    ]
    t.user(" ".join(x for x in said if x))
    parallel = t.rng.random() < 0.5
    lead = "" if parallel else _cart_text(t.get_cart())
    _order_flow(t, label, pay, note, coupon, lead, parallel)


def _b_multi_turn(t: _Talk) -> None:
    """search (→ refined search) → detail (→ comparison) → add_to_cart → list_addresses → prepare_checkout → place_order."""
    args, res = _open_search(t)
    if "조건 바꿔" in t.topic:
        t.user(t.u("음 배달비 싼 순으로 다시 찾아줘", "배달비 낮은 순으로 다시 찾아 주시겠어요?"))
        res = t.search({**args, "sort": "delivery_fee"})
        t.say(f"{_found(t, res)}\n{t.pick(_NEXT)}")
    opened = [s for s in res["items"] if s["is_open"]]
    if "비교" in t.topic and len(opened) >= 2:
        t.user(
            t.u(
                f"{_josa(opened[0]['name'], '이랑', '랑')} {opened[1]['name']} 메뉴 비교해줘", f"{opened[0]['name']}하고 {opened[1]['name']} 메뉴 비교해 주세요"
            )
        )
        t.say(_compare_text(*t.open_details(*opened[:2])) + "\n어느 가게로 하시겠어요?")
        d = t.details[t.pick(opened[:2])["restaurant_id"]]
        t.user(t.u(f"{_josa(d['name'], '으로', '로')} 할래", f"{_josa(d['name'], '으로', '로')} 할게요"))
        t.say(f"네, {d['name']}에서 어떤 메뉴를 담아 드릴까요?")
    else:
        d = _choose_menu(t, res)
    item = t.pick(m for m in d["menu"][:3] if not m["is_sold_out"])
    qty = 2 if any(w in t.topic for w in ("두 판", "친구들")) else 1
    opts = [item["options"][0]["name"]] if "옵션" in t.topic else []
    t.user(t.phrase("add", f"{item['name']} {qty}개" + (f" {_josa(opts[0], '으로', '로')}" if opts else "")))
    t.add(d, item, qty, opts)
    t.say(f"{item['name']} {qty}개 담았어요. 장바구니 합계는 {_won(t.subtotal())}이에요. 바로 주문하시겠어요? 배송지와 결제 수단을 알려 주세요.")
    label = "회사" if "회사" in t.topic else "부모님 댁" if "부모님" in t.topic else "집"
    pay, to = t.pick(config.PAYMENT_METHODS), _josa(label, "으로", "로")
    t.user(t.u(f"응 {to}, {config.PAYMENT_METHODS[pay]}로 해줘", f"네, {to} 보내 주시고 {config.PAYMENT_METHODS[pay]}로 할게요"))
    _order_flow(t, label, pay)


def _b_no_call(t: _Talk) -> None:
    """Refuse politely and offer an alternative, calling nothing. Defects that need a call happen here: the
    model invents a tool for the request, or looks an order up with no / an invented order id."""
    ask, what, alt, fake = _NO_CALL.get(t.topic) or (
        f"{t.topic} 좀 도와주실 수 있어요?",
        t.topic,
        "가게 찾기, 장바구니, 주문 상태 확인은 도와드릴 수 있어요",
        "connect_agent",
    )
    t.user(t.pick({"casual": ("", "아 ", "혹시 "), "short": ("", "급한데 "), "polite": ("안녕하세요. ", "문의 좀 드릴게요. ", "")}[t.tone]) + ask)
    if t.defect == "unknown_tool":
        t.call((fake, {"request": what}, {"success": True, "message": "요청이 접수되었습니다."}))
        return t.finish(f"요청하신 {_josa(what, '은', '는')} 처리해 드렸어요.")
    if t.defect == "missing_required_argument":
        t.call(("get_order_status", {}, {"error": {"code": "INVALID_ARGUMENT", "message": "order_id는 필수 값입니다."}}))
        return t.finish("주문 정보를 불러오지 못했어요. 잠시 후 다시 시도해 주세요.")
    if t.defect == "ungrounded_id":
        order = {**t.past_order("accepted"), "order_id": _invent(t, "order_id")}
        t.call(("get_order_status", {"order_id": order["order_id"]}, order))
        return t.finish(_status_text(t.topic, order) + " 요청하신 내용도 함께 전달해 둘게요.")
    t.finish(f"{t.pick(_REFUSE).format(w=_josa(what, '은', '는'))} 대신 {alt}.")


def _e_typo(t: _Talk) -> None:
    typo, query = _FOOD[t.fc][5], _FOOD[t.fc][1].split("|")[0]
    t.user(t.pick((f"{typo} 시켜먹을대 어디가 괜찬아?", f"{typo}집찾아주세요급해요", f"{typo} 맛집 ㅊㅊ 좀")))
    t.finish(f"'{query}' 찾으시는 거죠? " + _found(t, t.search({"query": query})))


def _e_quantity(t: _Talk) -> None:
    t.prefill()
    line = t.cart["lines"][0]
    n = line["quantity"] + 1
    t.user(t.u(f"장바구니 {line['name']} {n}개로 해줘", f"장바구니에 있는 {line['name']} {n}개로 바꿔 주세요"))
    t.get_cart()
    t.say(f"{line['name']} {n}개로 바꿨어요. 합계는 {_won(t.set_qty(line, n)['subtotal'])}이에요.")
    t.user(f"아 잠깐, {n}개 말고 1개로 해주세요")
    t.finish(f"네, 다시 1개로 바꿨어요. 장바구니 합계는 {_won(t.set_qty(line, 1)['subtotal'])}이에요.")


def _e_swap_menu(t: _Talk) -> None:
    t.prefill()
    old, d = t.cart["lines"][0], t.detail(t.cart["shop"])
    new = t.pick(m for m in d["menu"] if not m["is_sold_out"] and m["name"] not in {x["name"] for x in t.cart["lines"]})
    to = _josa(new["name"], "으로", "로")
    t.user(t.u(f"장바구니에 {old['name']} 말고 {to} 바꿔줘", f"장바구니에 {old['name']} 대신 {to} 바꿔 주세요"))
    t.get_cart()
    t.open_details(t.cart["shop"])
    t.remove([old])
    t.add(d, new, old["quantity"])
    t.finish(f"{_josa(old['name'], '을', '를')} 빼고 {new['name']} {old['quantity']}개를 담았어요. 장바구니 합계는 {_won(t.subtotal())}이에요.")


def _e_address(t: _Talk) -> None:
    pay = t.pick(config.PAYMENT_METHODS)
    t.prefill()
    t.user(
        t.u(
            f"장바구니 거 주문해줘. 집으로, {config.PAYMENT_METHODS[pay]}로",
            f"장바구니 주문할게요. 집으로 보내 주시고 {config.PAYMENT_METHODS[pay]}로 결제할게요",
        )
    )
    t.get_cart(("집", "회사"))
    t.say(_checkout_text(t.checkout(t.address("집"), pay), t.address("집")))
    t.user(t.u("아 잠깐 회사로 바꿔줘", "아 잠깐만요, 배송지 회사로 바꿔 주세요"))
    _order_flow(t, "회사", pay)


def _e_vague(t: _Talk) -> None:
    rating = "평점" in t.topic
    t.user(
        t.u("평점 높은 데 아무 데나 찾아줘", "평점 높은 곳 좀 찾아 주세요")
        if rating
        else t.u("아무거나 맛있는 거 추천해줘", "뭘 먹을지 모르겠는데 아무거나 추천해 주세요")
    )
    kinds = [_FOOD[f][0] for f in t.rng.sample([f for f in sorted(_FOOD) if f != t.fc], 2) + [t.fc]]
    t.say(f"어떤 음식이 당기세요? 예를 들어 {', '.join(t.rng.sample(kinds, 3))} 중에 말씀해 주시면 바로 찾아볼게요.")
    t.user(t.u(f"음 {_FOOD[t.fc][0]}", f"{_josa(_FOOD[t.fc][0], '으로', '로')} 찾아 주세요"))
    t.finish(_found(t, t.search({"category": t.fc, **({"sort": "rating"} if rating else {})})))


def _e_no_order_id(t: _Talk) -> None:
    t.user(t.u("배달 언제 와?", "제 배달 언제 오나요?"))
    t.say("어떤 주문을 말씀하시는 걸까요? 주문번호를 알려 주시면 바로 확인하고, 모르시면 최근 주문 목록에서 찾아 드릴게요.")
    t.user(t.u("번호 몰라 목록에서 찾아줘", "주문번호는 모르겠어요. 목록에서 찾아 주세요"))
    order = t.past_order(t.pick(("cooking", "delivering")), 19)
    t.list_orders([order, t.past_order("delivered", 12, t.pick(sorted(_FOOD)))])
    t.call(("get_order_status", {"order_id": order["order_id"]}, order))
    t.finish(_status_text(t.topic, order))


def _e_which_shop(t: _Talk) -> None:
    """'그거' with no clear referent is asked back; '가게 선택 번복' opens a second shop after the first."""
    res = _open_search(t)[1]
    if "그거" in t.topic or t.rng.random() < 0.5:
        t.user(t.u("그거 메뉴 보여줘", "그거 메뉴 좀 보여 주세요"))
        t.say("어느 가게를 말씀하시는 걸까요? " + ", ".join(s["name"] for s in res["items"]) + " 중에 골라 주세요.")
        d = _choose_menu(t, res, None)
    else:
        a = _choose_menu(t, res, "")
        b = t.pick([s for s in res["items"] if s["restaurant_id"] != a["restaurant_id"]])
        t.user(t.u(f"아 아니다 {b['name']} 메뉴 보여줘", f"아, 아니에요. {b['name']} 메뉴로 보여 주세요"))
        d = t.open_details(b)[0]
    t.finish(f"{d['name']} 메뉴예요.\n{_menu_text(d)}")


def _e_two_requests(t: _Talk) -> None:
    t.prefill()
    t.user(t.u(f"{_FOOD[t.fc][0]} 찾아주고 장바구니도 좀 봐줘", f"{_FOOD[t.fc][0]} 좀 찾아 주시고, 장바구니도 확인해 주세요"))
    res, cart = t.call(("search_restaurants", {"category": t.fc}, t.search_result({"category": t.fc})), ("get_cart", {}, t.cart_view()))
    t.finish(f"{_found(t, res)}\n\n그리고 {_cart_text(cart)}")


_EDGES = {
    "오타": _e_typo,
    "띄어쓰기": _e_typo,
    "줄임말": _e_typo,
    "수량": _e_quantity,
    "메뉴 변경": _e_swap_menu,
    "가게 선택": _e_which_shop,
    "그거": _e_which_shop,
    "배송지": _e_address,
    "아무거나": _e_vague,
    "평점 높은": _e_vague,
    "주문번호": _e_no_order_id,
    "여러 요청": _e_two_requests,
}


def _b_edge_case(t: _Talk) -> None:
    """Typos, a reversal ('아 잠깐, 2개 말고 1개로'), or a vague request asked back before any call."""
    build = next((f for k, f in _EDGES.items() if k in t.topic), None) or t.pick(sorted(set(_EDGES.values()), key=lambda f: f.__name__))
    build(t)


_BUILDERS = {
    "search": _b_search,
    "menu": _b_menu,
    "cart": _b_cart,
    "order_status": _b_order_status,
    "checkout": _b_checkout,
    "multi_turn": _b_multi_turn,
    "no_call": _b_no_call,
    "edge_case": _b_edge_case,
}


# ---- Defects (ARCHITECTURE.md, "Post-mortems") ------------------------------
_REQUIRED = {t["function"]["name"]: t["function"]["parameters"]["required"] for t in config.TOOLS}
_INVENTED = {
    "restaurant_id": "R9{:03d}",
    "menu_item_id": "M9{:04d}",
    "cart_item_id": "CI9{:03d}",
    "address_id": "A9{:02d}",
    "checkout_id": "CK9{:05d}",
}  # ranges new_id never draws


def _invent(t: _Talk, kind: str) -> str:
    """An id of the right format that appears nowhere in the dialogue so far."""
    seen = json.dumps(t.turns, ensure_ascii=False)
    while True:
        n = t.rng.randint(0, 99)
        value = "O" + t.date[2:].replace("-", "") + f"9{n % 10}" if kind == "order_id" else _INVENTED[kind].format(n)
        if value not in seen:
            return value


def _follow_up(t: _Talk, ask: str, name: str, args: dict, result: dict, reply: str) -> None:
    """One more exchange (customer asks, assistant calls, answers), placed before the closing thanks."""
    del t.turns[len(t.turns) - len(t.tail) :]
    t.user(ask)
    t.call((name, args, result))
    t.say(reply)
    t.turns += t.tail


def _contradict(name: str, args: dict, res: dict) -> bool:
    """Make ``res`` contradict ``args`` in place, as the original generator did; False if there is no natural way."""
    if "error" in res:
        return False
    if name == "search_restaurants" and res["items"]:
        changes = {
            "only_open": {"is_open": False},
            "category": {"category": "pizza" if args.get("category") != "pizza" else "chicken"},
            "min_rating": {"rating": round((args.get("min_rating") or 0) - 0.4, 1)},
            "max_delivery_fee": {"delivery_fee": (args.get("max_delivery_fee") or 0) + 1500},
        }
        key = next((k for k in changes if args.get(k) not in (None, False)), None)
        res["items"][-1].update(changes[key] if key is not None else {})
        return key is not None
    if name in ("add_to_cart", "update_cart_item"):
        line = res["cart_item"]
        line.update(quantity=args["quantity"] + 1, line_total=line["unit_price"] * (args["quantity"] + 1))
    elif name == "prepare_checkout":
        res["payment_method"] = next(p for p in config.PAYMENT_METHODS if p != args["payment_method"])
    return name in ("add_to_cart", "update_cart_item", "prepare_checkout")


def _apply_defect(t: _Talk, defect: str) -> None:
    """Re-create one post-mortem bug in a finished dialogue: in place where the dialogue has a natural spot,
    else as a follow-up exchange (e.g. a search-only dialogue gets a detail call without restaurant_id)."""
    calls = [(i, c) for i, turn in enumerate(t.turns) for c in turn["tool_calls"] or []]
    if defect == "cut_short":
        del t.turns[max((i for i, x in enumerate(t.turns) if x["role"] == "tool"), default=0) + 1 :]
    elif defect == "unknown_tool":
        oids = re.findall(r"\bO\d{8}\b", json.dumps(t.turns, ensure_ascii=False))
        if oids:
            _follow_up(
                t,
                t.u("아 근데 이 주문 취소해줘", "아, 그런데 이 주문 취소해 주실 수 있나요?"),
                "cancel_order",
                {"order_id": oids[-1]},
                {"order_id": oids[-1], "status": "cancelled", "refunded": True},
                "주문을 취소해 드렸어요. 결제 금액은 곧 환불될 거예요.",
            )
        elif t._cart:  # a cart was filled (put)
            _follow_up(
                t,
                t.u("쓸 수 있는 쿠폰 있으면 적용해줘", "쓸 수 있는 쿠폰 있으면 적용해 주세요"),
                "apply_coupon",
                {},
                {"coupon_code": "WELCOME3000", "discount": 3000},
                "3,000원 할인 쿠폰(WELCOME3000)을 적용했어요.",
            )
        else:
            shop = t.pool(t.fc)[0]
            _follow_up(
                t,
                t.u(f"{shop['name']} 리뷰도 보여줘", f"{shop['name']} 리뷰도 볼 수 있을까요?"),
                "get_reviews",
                {"restaurant_id": shop["restaurant_id"]},
                {"reviews": [{"rating": 5, "text": "양 많고 맛있어요"}, {"rating": 4, "text": "배달이 조금 늦었어요"}]},
                "최근 리뷰는 '양 많고 맛있어요', '배달이 조금 늦었어요'처럼 대체로 좋아요.",
            )
    elif defect == "missing_required_argument":
        cands = [c for _, c in calls if _REQUIRED.get(c["name"])]
        if not cands:
            return _follow_up(
                t,
                t.phrase("menu", "첫 번째 집"),
                "get_restaurant_detail",
                {},
                {"error": {"code": "INVALID_ARGUMENT", "message": "restaurant_id는 필수 값입니다."}},
                "죄송해요, 메뉴를 불러오지 못했어요. 다시 시도해 볼까요?",
            )
        c = t.pick(cands)
        args = json.loads(c["arguments_json"])
        del args[t.pick(_REQUIRED[c["name"]])]
        c["arguments_json"] = json.dumps(args, ensure_ascii=False)
    elif defect == "ungrounded_id":
        cands = [(i, c, k) for i, c in calls for k in json.loads(c["arguments_json"]) if k in config.ID_PATTERNS or k == "cart_item_ids"]
        if not cands:  # a shop the customer "ordered before", looked up with an id the model made up
            shop = {**t.pool(t.pick(f for f in sorted(_FOOD) if f != t.fc))[0], "restaurant_id": _invent(t, "restaurant_id")}
            d = t.detail(shop)
            return _follow_up(
                t,
                t.u(f"전에 시켜 먹은 {shop['name']} 메뉴도 보여줘", f"예전에 시켜 먹었던 {shop['name']} 메뉴도 보여 주세요"),
                "get_restaurant_detail",
                {"restaurant_id": shop["restaurant_id"]},
                d,
                f"{d['name']} 메뉴예요.\n{_menu_text(d)}",
            )
        i, c, key = t.pick(cands)  # the model typed its own id instead of copying one: it runs through the rest
        old = json.loads(c["arguments_json"])[key]
        old = old[0] if key == "cart_item_ids" else old
        new = _invent(t, "cart_item_id" if key == "cart_item_ids" else key)
        pattern = re.compile(rf"(?<![A-Za-z0-9]){re.escape(old)}(?![0-9])")
        for turn in t.turns[i:]:
            turn["content"] = turn["content"] and pattern.sub(new, turn["content"])
            for tc in turn["tool_calls"] or []:
                tc["arguments_json"] = pattern.sub(new, tc["arguments_json"])
    elif defect == "result_contradicts_call":
        answers = {x["tool_call_id"]: x for x in t.turns if x["role"] == "tool"}
        for _, c in sorted(calls, key=lambda ic: ic[1]["name"] != "search_restaurants"):  # search filters first
            res = json.loads(answers[c["id"]]["content"])
            if _contradict(c["name"], json.loads(c["arguments_json"]), res):
                answers[c["id"]]["content"] = json.dumps(res, ensure_ascii=False)
                return
        args = {"category": t.fc, "only_open": True}  # no natural spot: the customer asks for open shops, a closed one is listed
        res = t.search_result(args)
        res["items"] = res["items"][:-1] + [{**res["items"][-1], "is_open": False}]
        kind = _FOOD[t.fc][0]
        _follow_up(t, t.u(f"아 그리고 지금 문 연 {kind}도 찾아줘", f"참, 지금 영업 중인 {kind}도 찾아 주세요"), "search_restaurants", args, res, _found(t, res))


# ---- Public API -----------------------------------------------------------------------------------


def choose_defect(custom_id: str, defect_rate: float) -> str | None:
    """Whether, and which, defect the scripted answer for ``custom_id`` gets.

    Deterministic: ``u = sha256("defect:" + custom_id)`` read as a number in [0, 1); ``None`` when
    ``u >= defect_rate`` (probability ``1 - defect_rate``), else ``DEFECTS[int(u / defect_rate * 5)]``, each
    defect equally likely. The salt differs from :mod:`datagen.offline`'s ``"fault"`` draw, so defects are
    independent of simulated HTTP errors and truncation.

    Raises:
        InputError: ``defect_rate`` (``DATAGEN_OFFLINE_DEFECT_RATE``) is not a number in [0, 1].
    """
    if isinstance(defect_rate, bool) or not isinstance(defect_rate, (int, float)) or not 0 <= defect_rate <= 1:
        raise InputError(f"defect_rate(DATAGEN_OFFLINE_DEFECT_RATE)는 0과 1 사이의 수여야 합니다: {defect_rate!r}")
    u = int.from_bytes(hashlib.sha256(f"defect:{custom_id}".encode()).digest()[:8], "big") / 2**64
    return None if u >= defect_rate else DEFECTS[min(int(u / defect_rate * len(DEFECTS)), len(DEFECTS) - 1)]


def scripted_dialogue(scenario: dict, defect: str | None = None) -> dict:
    """A scripted Korean dialogue for one scenario, in the generator's answer shape.

    Args:
        scenario: a :func:`datagen.scenarios.make_scenarios` dict; only ``custom_id`` is required. A
            missing or unknown ``category`` is read from the custom_id (``kind-category-00001``), else
            ``"search"``; a missing topic is drawn from ``config.QUESTION_TOPICS`` (``no_call``:
            ``UNSUPPORTED_SCENARIOS``), a missing persona is ``config.PERSONAS[0]``, missing ``user_turns``
            is ``config.TURN_RANGE[0]`` (followed approximately).
        defect: ``None`` for a clean dialogue, or one of :data:`DEFECTS`.

    Returns:
        ``{"turns": [...]}`` valid against ``generator_schema.GENERATOR_SCHEMA``: every turn has role,
        content, tool_calls, tool_call_id, name; calls are ``{"id": "call_N", "name", "arguments_json"}``.
        A clean dialogue follows ``config.GOLD_CATEGORIES[category]`` (seed 001's gold-set table) and the
        tool specs: arguments and results valid, ids grounded in earlier user turns or tool results,
        optional arguments only when the customer said them, results consistent with their call; it starts
        with a user turn and ends with assistant text. Same input, same output (``random.Random(custom_id)``).

    Raises:
        ValueError: no ``custom_id``, or an unknown ``defect``.
    """
    if defect is not None and defect not in DEFECTS:
        raise ValueError(f"unknown defect {defect!r}; expected None or one of {DEFECTS}")
    if not scenario.get("custom_id"):
        raise ValueError("scenario has no custom_id")
    category = scenario.get("category")
    if category not in _BUILDERS:
        m = re.match(r"^[a-z]+-([a-z_]+)-\d+$", str(scenario["custom_id"]))
        category = m[1] if m and m[1] in _BUILDERS else "search"
    t = _Talk(scenario, category, defect)
    _BUILDERS[category](t)
    if defect and _applies(category, defect):
        _apply_defect(t, defect)
    return {"turns": t.turns}


def _applies(category: str, defect: str) -> bool:
    """Whether :func:`scripted_dialogue` plants ``defect`` in a dialogue of ``category``: a no-call
    dialogue has no call to break, so the call defects are left out there."""
    return not (category == "no_call" and defect in ("unknown_tool", "missing_required_argument", "ungrounded_id"))


def planted_defect(custom_id: str, defect_rate: float) -> str | None:
    """The defect the offline backend's answer for ``custom_id`` really carries: :func:`choose_defect`,
    unless :func:`scripted_dialogue` leaves it out for the custom_id's category (``kind-category-seq``;
    another form counts as ``search``, as there). What the offline judge (:mod:`datagen.judge`) takes
    as the truth.

    Raises:
        ValueError: ``defect_rate`` is not a number in [0, 1].
    """
    defect = choose_defect(custom_id, defect_rate)
    m = re.match(r"^[a-z]+-([a-z_]+)-\d+$", str(custom_id))
    category = m[1] if m and m[1] in _BUILDERS else "search"
    return defect if defect and _applies(category, defect) else None
