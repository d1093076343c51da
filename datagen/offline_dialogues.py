"""Scripted Korean delivery-app dialogues for the offline batch backend. These are NOT LLM output.

:mod:`datagen.offline` answers every batch request with ``json.dumps(scripted_dialogue(scenario,
defect))``, so the whole pipeline (parse, checks, review, publish) can run without an API key
(DESIGN.md, "Batch backends"). A dialogue is built from small data tables (shops and menus per food
category, addresses, phrasing pools per customer tone) by composable steps (search → detail → cart →
checkout → order), with ids drawn per dialogue and results computed from the call, so a clean
dialogue follows the rules of ``config.GOLD_CATEGORIES`` and the tool specs: grounded ids, optional
arguments only when the customer said them, results consistent with the call.

``defect`` re-creates one bug of the original pipeline's post-mortems (DESIGN.md, "What went
wrong"), so the checks and reviewers have something to catch: see :data:`DEFECTS`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re

from datagen import config

DEFECTS = ("unknown_tool", "missing_required_argument", "ungrounded_id", "result_contradicts_call", "cut_short")
"""Realistic defects (DESIGN.md post-mortems): a call to a tool not in ``config.TOOL_NAMES``; a call
missing a required argument; an id argument no earlier user turn or tool result gave; a result that
contradicts its call (``only_open: true`` yet a closed shop, another category, another quantity…);
a dialogue that stops right after a tool turn."""

# --------------------------------------------------------------------------------------------
# Data tables. _FOOD: category → (가게 종류 말, 검색어들, 가게 이름들, 메뉴 "이름/가격/설명", 옵션 "이름/가격",
# 첫 검색어의 오타). The first three menu items are mains (with options), the rest sides / drinks.
# --------------------------------------------------------------------------------------------

_FOOD: dict[str, tuple[str, str, str, str, str, str]] = {
    "chicken": ("치킨집", "후라이드|양념치킨", "바삭한형제|꼬꼬댁치킨 망원점|황금닭 옛날통닭|치킨인더키친|두마리 치킨",
                "후라이드 치킨/19000/겉은 바삭 속은 촉촉한 기본 치킨|양념 치킨/20000/달콤매콤한 양념|반반 치킨/21000/후라이드 반 양념 반"
                "|치즈볼 5개/5000/쭉 늘어나는 치즈볼|콜라 1.25L/2500/탄산음료", "순살 변경/2000|양념 소스 추가/500", "후라이듸"),
    "pizza": ("피자집", "페퍼로니 피자|고구마 피자", "피자마루 연남점|화덕공방|도우앤토핑|빅스트리트 피자|나폴리 화덕",
              "페퍼로니 피자 L/23900/짭짤한 페퍼로니 듬뿍|고구마 피자 L/25900/달콤한 고구마 무스|콤비네이션 피자 L/24900/토핑이 골고루"
              "|치즈 오븐 스파게티/8900/치즈 듬뿍 스파게티|콜라 1.25L/2500/탄산음료", "치즈 크러스트/3000|XL 사이즈업/5000", "패퍼로니 피쟈"),
    "korean": ("한식집", "국밥|김치찌개", "할매순대국|종로 김치찌개|소담 한식당|엄마손 백반|든든 국밥집",
               "순대국밥/9000/진한 사골 육수 순대국|김치찌개/8500/돼지고기 듬뿍 김치찌개|제육볶음 정식/10000/밥과 반찬 포함"
               "|계란말이/6000/도톰한 계란말이|공기밥/1000/추가 밥", "고기 추가/2000|다대기 따로/0", "국빱"),
    "chinese": ("중국집", "짜장면|짬뽕", "홍콩반점 합정점|만리장성|진짜루|황궁 중화요리|북경반점",
                "짜장면/7000/춘장에 볶은 기본 짜장|짬뽕/8500/얼큰한 해물 짬뽕|볶음밥/8000/짜장 소스가 함께 나와요"
                "|탕수육 소/16000/바삭한 찹쌀 탕수육|군만두/5000/바삭한 군만두 6개", "곱빼기/1000|소스 따로/0", "짜장먄"),
    "japanese": ("일식집", "초밥|돈까스", "스시하루|카츠엔 연남|오늘초밥|돈까스 공방|사케동 식당",
                 "모둠초밥 12pc/16000/연어·광어·참치 등 12피스|로스카츠/11000/두툼한 등심 돈까스|치즈카츠/12500/치즈가 흐르는 돈까스"
                 "|미니 우동/4000/따끈한 우동|미소된장국/2000/따끈한 된장국", "밥 추가/1000|와사비 빼기/0", "쵸밥"),
    "bunsik": ("분식집", "떡볶이|김밥", "신전 분식|엽기 떡볶이집|청년다방 떡볶이|김밥 천하|오빠네 분식",
               "떡볶이/5000/쌀떡 국물 떡볶이|로제 떡볶이/7000/크림 로제 소스|참치김밥/4500/참치마요 김밥"
               "|모둠튀김/5000/김말이·오징어·야채 튀김|쿨피스/1500/새콤한 음료", "순한맛 변경/0|치즈 추가/1500", "떡뽁이"),
    "jokbal_bossam": ("족발집", "족발|보쌈", "원할매 보쌈|장충 족발|가장맛있는족발|옛날 왕족발|보쌈명가",
                      "앞다리 족발 중/33000/야들야들한 앞다리|불족발 중/35000/매콤한 불맛 족발|보쌈 중/31000/수육과 보쌈김치"
                      "|막국수/7000/새콤한 막국수|주먹밥/3000/김가루 주먹밥", "대 사이즈/7000|보쌈김치 추가/3000", "족팔"),
    "fastfood": ("버거집", "햄버거|치즈버거", "버거하우스|프랭크 버거 망원|수제버거 빈스|맘스 버거|더블스택",
                 "치즈버거 세트/8900/버거+감자튀김+음료|더블 패티 버거/9500/패티 두 장|치킨버거/6900/바삭한 치킨 패티"
                 "|감자튀김 L/3000/바삭한 감튀|콜라 M/2000/탄산음료", "패티 추가/2000|제로콜라 변경/0", "햄버가"),
    "western": ("양식집", "파스타|샐러드", "파스타 부티크|샐러디아|트라토리아 모모|그린볼 포케|봉골레하우스",
                "알리오올리오/12000/마늘과 올리브오일 파스타|연어 포케/11900/연어와 현미밥|닭가슴살 샐러드/9900/저칼로리 샐러드"
                "|마늘빵/3000/버터 마늘빵|탄산수/2000/레몬 탄산수", "면 곱빼기/2000|드레싱 따로/0", "파스탁"),
    "asian": ("아시안 음식점", "마라탕|쌀국수", "라화쿵부|탕화쿵푸 마라탕|포메인|하노이 쌀국수|방콕 타이",
              "마라탕/12000/재료 골라 담는 마라탕|소고기 쌀국수/10500/진한 양지 육수|팟타이/11000/새우 팟타이"
              "|꿔바로우 소/12000/찹쌀 탕수육|짜조/5000/베트남식 튀김 만두", "맵기 2단계/0|고기 추가/3000", "마라탄"),
    "cafe_dessert": ("카페", "케이크|크로플", "달콤 디저트 카페|베이커리 르뱅|크로플 하우스|설빙 망원점|케이크 스튜디오",
                     "딸기 생크림 케이크/6500/생딸기 케이크 한 조각|티라미수/6000/마스카포네 티라미수|인절미 빙수/9500/고소한 인절미 빙수"
                     "|크로플/5500/바삭한 크루아상 와플|아이스 아메리카노/3500/산미 있는 원두", "샷 추가/500|생크림 추가/1000", "케익크"),
    "late_night": ("야식집", "닭발|곱창", "불타는 닭발|새벽 곱창|야식왕|밤도깨비 포차|심야식당 오늘",
                   "국물 닭발/17000/매콤한 국물 닭발|뼈없는 닭발/18000/먹기 편한 무뼈 닭발|야채곱창/19000/곱창과 야채 볶음"
                   "|계란찜/4000/폭신한 계란찜|주먹밥/3000/닭발과 찰떡", "순한맛 변경/0|치즈 추가/2000", "닭빨"),
}

_TOPIC_FOOD = {"치킨": "chicken", "피자": "pizza", "중국집": "chinese", "짬뽕": "chinese", "짜장": "chinese", "버거": "fastfood",
               "분식": "bunsik", "떡볶이": "bunsik", "국물": "korean", "국밥": "korean", "한식": "korean", "초밥": "japanese",
               "돈까스": "japanese", "족발": "jokbal_bossam", "마라탕": "asian", "쌀국수": "asian", "샐러드": "western",
               "포케": "western", "파스타": "western", "케이크": "cafe_dessert", "디저트": "cafe_dessert", "야식": "late_night"}
_QUERY_WORDS = ("짬뽕", "떡볶이", "초밥", "돈까스", "마라탕", "쌀국수", "샐러드", "파스타", "케이크")

_ADDRESSES = [("집", "서울 마포구 월드컵로12길 8, 302호"), ("회사", "서울 강남구 테헤란로 231, 11층"),
              ("부모님 댁", "경기 성남시 분당구 내정로 55, 104동 1203호"), ("학교", "서울 동대문구 이문로 107, 기숙사 B동"),
              ("자취방", "서울 관악구 봉천로45길 3, 201호"), ("친구네", "인천 연수구 컨벤시아대로 24, 1502호")]

_PAY_WORDS = {"카카오페이": "kakao_pay", "네이버페이": "naver_pay", "토스": "toss_pay", "만나서 현금": "meet_cash",
              "만나서 카드": "meet_card", "카드": "card"}
_NOTES = {"문 앞에": "문 앞에 두고 가 주세요", "수저": "일회용 수저는 빼 주세요",
          "벨": "아기가 자고 있어요. 벨 누르지 말고 노크만 해 주세요"}

# Unsupported request → (customer's words, what can't be done, alternative, the tool a buggy model would invent)
_NO_CALL = {
    "환불 계좌 변경": ("환불받을 계좌를 다른 걸로 바꾸고 싶어요", "환불 계좌 변경", "최근 주문 내역과 상태는 바로 확인해 드릴 수 있어요", "update_refund_account"),
    "라이더에게 직접 전화 연결": ("라이더분한테 전화 좀 연결해 줄 수 있어요?", "라이더와 직접 통화 연결", "주문번호를 알려주시면 배달 상태와 도착 예정 시간은 확인해 드릴게요", "call_rider"),
    "작성한 리뷰 삭제": ("제가 쓴 리뷰 지우고 싶은데 여기서 돼요?", "리뷰 삭제", "리뷰는 앱의 '내 리뷰' 화면에서 직접 관리하실 수 있어요", "delete_review"),
    "다른 사람(가족) 주문 내역 조회": ("엄마가 시킨 주문 내역 좀 볼 수 있어요?", "다른 분 계정의 주문 조회", "로그인하신 계정의 주문이라면 바로 찾아 드릴 수 있어요", "get_family_orders"),
    "음식 알레르기 의료 상담": ("땅콩 알레르기 있는데 이거 먹어도 괜찮을까요?", "알레르기에 대한 의료 상담", "가게 메뉴 설명은 보여드릴 수 있으니, 정확한 성분은 가게에 꼭 확인해 주세요", "medical_consult"),
    "이미 접수된 주문 취소": ("방금 한 주문 취소해 주세요", "접수된 주문 취소", "주문이 지금 어느 단계인지는 확인해 드릴 수 있어요", "cancel_order"),
    "포인트 현금으로 전환": ("적립 포인트 현금으로 바꿀 수 있어요?", "포인트 현금 전환", "포인트는 주문할 때 결제 금액에서 사용하실 수 있어요", "convert_points"),
    "회원 탈퇴 처리": ("회원 탈퇴하고 싶은데 처리해 주세요", "회원 탈퇴 처리", "탈퇴는 앱의 '설정 > 계정 관리'에서 직접 진행하실 수 있어요", "delete_account"),
    "가게 사장님께 메뉴 추가 요청 전달": ("사장님한테 메뉴 하나 추가해 달라고 전해 줄 수 있어요?", "가게에 건의 사항 전달", "대신 그 가게 메뉴판은 지금 바로 보여드릴 수 있어요", "send_message_to_store"),
    "결제 카드 정보 변경": ("등록된 카드를 새 카드로 바꾸고 싶어요", "결제 카드 정보 변경", "주문할 때 카카오페이나 만나서 결제 같은 다른 결제 수단은 고르실 수 있어요", "update_payment_card"),
    "쿠폰 새로 발급": ("할인 쿠폰 하나만 새로 발급해 주세요", "쿠폰 발급", "가지고 계신 쿠폰 코드가 있으면 결제할 때 적용해 드릴 수 있어요", "issue_coupon"),
    "배달 라이더 지원 방법": ("배달 라이더 하고 싶은데 어떻게 지원해요?", "라이더 지원 안내", "주문이나 가게 찾기는 언제든 도와드릴게요", "apply_rider"),
    "다른 배달 앱과 가격 비교": ("다른 배달 앱이랑 가격 비교해 줄 수 있어요?", "다른 앱과의 가격 비교", "이 앱 안에서 배달비 낮은 순으로 가게를 찾아 드릴 수는 있어요", "compare_prices"),
    "오늘 날씨 문의": ("오늘 비 와요? 날씨 좀 알려주세요", "날씨 안내", "비 오는 날 먹기 좋은 국물 요리 가게는 찾아 드릴 수 있어요", "get_weather"),
    "가게 위생 신고 접수": ("어제 시킨 가게 음식에서 머리카락 나왔어요. 위생 신고해 주세요", "위생 신고 접수", "주문 내역은 확인해 드릴 수 있고, 신고는 앱의 고객센터 메뉴에서 접수하실 수 있어요", "report_store"),
}

_STATUS_TEXT = {"pending": "가게에서 아직 접수하기 전이에요", "accepted": "가게에서 주문을 접수했어요", "cooking": "지금 조리 중이에요",
                "delivering": "라이더가 배달 중이에요", "delivered": "배달 완료로 표시돼 있어요", "cancelled": "취소된 주문으로 나와요"}

# Customer phrasing per tone: (casual, short, polite) variants; {x} is filled in.
_SAY = {
    "find": (["{x} 찾아줘", "{x} 어디가 괜찮아?", "근처에 {x} 뭐 있어?"], ["{x} 찾아주세요", "{x} 검색이요"],
             ["{x} 좀 찾아주실 수 있을까요?", "혹시 근처에 {x} 있을까요?", "{x} 시키려고 하는데 어디가 좋을까요?"]),
    "menu": (["{x} 메뉴 보여줘", "{x} 뭐 팔아?"], ["{x} 메뉴요", "{x} 메뉴판 보여주세요"], ["{x} 메뉴 좀 보여주시겠어요?", "{x}에는 어떤 메뉴가 있나요?"]),
    "add": (["{x} 담아줘", "{x} 장바구니에 넣어줘"], ["{x} 담아주세요", "{x} 추가요"], ["{x} 장바구니에 담아 주세요.", "{x} 담아 주시겠어요?"]),
    "yes": (["응 그렇게 해줘", "ㅇㅇ 주문 ㄱㄱ", "좋아 주문해줘"], ["네 진행해주세요", "네 주문이요"], ["네, 그렇게 주문해 주세요.", "네 좋아요. 주문 부탁드려요."]),
    "thanks": (["고마워!", "오 땡큐", "ㅇㅋ 알겠어"], ["네 감사", "확인했어요", "ㅇㅋ요"], ["감사합니다. 덕분에 편하네요.", "네, 고맙습니다.", "알겠습니다, 수고하세요."]),
}
_TONES = ("casual", "short", "polite")
_FOUND = ["{n}곳 찾았어요.", "조건에 맞는 가게가 {n}곳 있어요.", "찾아보니 이런 곳들이 있어요.", "지금 주문 가능한 곳 위주로 보여드릴게요."]
_NEXT = ["어느 가게 메뉴를 볼까요?", "마음에 드는 곳 있으세요?", "조건을 더 좁혀서 찾아드릴까요?", "궁금한 가게가 있으면 말씀해 주세요."]
_CLOSERS = ["맛있게 드세요!", "필요한 게 있으면 또 말씀해 주세요.", "맛있는 식사 되세요.", "다른 것도 도와드릴까요?",
            "주문하실 때 편하게 불러 주세요.", "즐거운 식사 시간 보내세요!", "오늘도 든든하게 드세요."]


def _won(n: int) -> str:
    return f"{n:,}원"


def _josa(word: str, with_final: str, without: str) -> str:
    """Korean particle after ``word``: 은/는, 이/가, 으로/로 by the last syllable's final consonant."""
    last = word[-1]
    has = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0
    if with_final == "으로" and has and (ord(last) - 0xAC00) % 28 == 8:  # ㄹ받침 + 로
        return word + "로"
    return word + (with_final if has else without)


def _turn(role: str, content: str | None, tool_calls: list | None = None, tool_call_id: str | None = None,
          name: str | None = None) -> dict:
    return {"role": role, "content": content, "tool_calls": tool_calls, "tool_call_id": tool_call_id, "name": name}


def _tone(persona: str) -> str:
    if any(w in persona for w in ("반말", "대학생", "고등학생", "친근")):
        return "casual"
    if any(w in persona for w in ("짧", "급한", "피곤", "직설", "간단")):
        return "short"
    return "polite"


def _shop_text(s: dict) -> str:
    fee = _won(s["delivery_fee"]) if s["delivery_fee"] else "무료"
    return f"{s['name']} (평점 {s['rating']}, 배달비 {fee}, 약 {s['eta_minutes']}분{'' if s['is_open'] else ', 지금은 준비 중'})"


def _listing(items: list[dict]) -> str:
    return "\n".join(f"{i}. {_shop_text(s)}" for i, s in enumerate(items, 1))


def _menu_text(d: dict, k: int = 4) -> str:
    lines = [f"- {m['name']} {_won(m['price'])}{' (오늘 품절)' if m['is_sold_out'] else ''}" for m in d["menu"][:k]]
    opts = ", ".join(f"{o['name']}(+{_won(o['price'])})" if o["price"] else o["name"] for o in d["menu"][0]["options"])
    return "\n".join(lines) + (f"\n옵션으로 {opts} 선택이 가능해요." if opts else "")


_SUMMARY_KEYS = ("restaurant_id", "name", "category", "rating", "is_open", "delivery_fee", "min_order_amount", "eta_minutes")
_ID_FORMATS = {"restaurant_id": ("R{:04d}", 1000, 8999), "menu_item_id": ("M{:05d}", 10000, 89999),
               "cart_item_id": ("CI{:04d}", 1, 8999), "address_id": ("A{:03d}", 1, 899), "checkout_id": ("CK{:06d}", 100000, 899999)}


class _Talk:
    """One dialogue under construction: its turns, its rng and the scripted world (shops, cart, orders).

    World methods return tool results computed from the arguments, so results agree with calls.
    """

    def __init__(self, scenario: dict, category: str):
        self.rng = random.Random(str(scenario["custom_id"]))
        self.category = category
        topics = config.UNSUPPORTED_SCENARIOS if category == "no_call" else config.QUESTION_TOPICS[category]
        self.topic = str(scenario.get("topic") or self.rng.choice(topics))
        self.tone = _tone(str(scenario.get("persona") or config.PERSONAS[0]))
        want = scenario.get("user_turns")
        self.want = want if isinstance(want, int) and want > 0 else config.TURN_RANGE[0]
        date = str(scenario.get("date") or "")
        self.date = date if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else "2026-11-21"
        self.fc = next((v for k, v in _TOPIC_FOOD.items() if k in self.topic), None) or self.rng.choice(sorted(_FOOD))
        self.turns: list[dict] = []
        self.n_calls = 0
        self.used: set[str] = set()
        self.details: dict[str, dict] = {}
        self.cart: dict | None = None
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
        """One assistant turn with the calls ``(name, args, result)`` (parallel when several), then one
        tool turn per call; returns the result (a list of results for several calls)."""
        tcs = []
        for name, args, _ in calls:
            self.n_calls += 1
            tcs.append({"id": f"call_{self.n_calls}", "name": name, "arguments_json": json.dumps(args, ensure_ascii=False)})
        self.turns.append(_turn("assistant", None, tool_calls=tcs))
        for tc, (name, _, result) in zip(tcs, calls):
            self.turns.append(_turn("tool", json.dumps(result, ensure_ascii=False), tool_call_id=tc["id"], name=name))
        return [c[2] for c in calls] if len(calls) > 1 else calls[0][2]

    def users(self) -> int:
        return sum(t["role"] == "user" for t in self.turns)

    def finish(self, text: str) -> None:
        """Close: the last answer plus a varied closing line, or a thanks exchange if turns are left."""
        if self.users() < self.want:
            self.say(text)
            self.user(self.phrase("thanks"))
            self.say(self.pick(_CLOSERS))
        else:
            self.say(f"{text} {self.pick(_CLOSERS)}")

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

    def shops(self, n: int, fc: str | None = None, *, only_open=False, max_fee=None, min_rating=None, sort=None,
              exclude=()) -> list[dict]:
        fc = fc or self.fc
        names = [s for s in _FOOD[fc][2].split("|") if s not in exclude]
        low = min(int(m.split("/")[1]) for m in _FOOD[fc][3].split("|")[:3]) - 1000
        out = [{"restaurant_id": self.new_id("restaurant_id"), "name": name, "category": fc,
                "rating": round(self.rng.uniform(max(min_rating or 0, 3.9), 4.9), 1),
                "is_open": bool(only_open) or self.rng.random() > 0.25,
                "delivery_fee": self.pick(f for f in (0, 1000, 1500, 2000, 2500, 3000, 3500) if max_fee is None or f <= max_fee),
                "min_order_amount": self.pick([v for v in (0, 8000, 10000, 12000, 15000) if v <= low] or [0]),
                "eta_minutes": self.rng.randrange(20, 55, 5)} for name in self.rng.sample(names, min(n, len(names)))]
        if out and not any(s["is_open"] for s in out):
            out[0]["is_open"] = True
        keys = {"rating": lambda s: -s["rating"], "eta": lambda s: s["eta_minutes"], "delivery_fee": lambda s: s["delivery_fee"]}
        if sort in keys:
            out.sort(key=keys[sort])
        return out

    def search(self, args: dict, fc: str | None = None, exclude=()) -> list[dict]:
        """Call search_restaurants; the result honours every filter (5 shops in all, page 1 shows 3–4)."""
        fc = args.get("category") or fc or self.fc
        n = 5 - len(exclude) if args.get("page") else self.pick((3, 3, 4))
        items = self.shops(n, fc, only_open=args.get("only_open"), max_fee=args.get("max_delivery_fee"),
                           min_rating=args.get("min_rating"), sort=args.get("sort"), exclude=exclude)
        return self.call(("search_restaurants", args, {"items": items, "total": 5}))["items"]

    def detail(self, shop: dict) -> dict:
        rid = shop["restaurant_id"]
        if rid not in self.details:
            fc, delta = shop["category"], self.pick((-1000, -500, 0, 0, 500, 1000))
            opts = [{"name": o.split("/")[0], "price": int(o.split("/")[1])} for o in _FOOD[fc][4].split("|")]
            menu = []
            for i, raw in enumerate(_FOOD[fc][3].split("|")):
                name, price, desc = raw.split("/")
                menu.append({"menu_item_id": self.new_id("menu_item_id"), "name": name, "price": int(price) + (delta if i < 3 else 0),
                             "description": desc, "is_sold_out": False, "options": opts if i < 3 else []})
            if self.rng.random() < 0.3:
                self.pick(menu[1:])["is_sold_out"] = True
            hours = self.pick(("11:00-22:00", "10:30-21:30", "11:30-23:00", "16:00-02:00"))
            self.details[rid] = {**{k: shop[k] for k in _SUMMARY_KEYS}, "opening_hours": hours, "menu": menu}
        return self.details[rid]

    def open_details(self, *shops: dict) -> list[dict]:
        """get_restaurant_detail for one shop, or for several in parallel; returns the details."""
        res = self.call(*[("get_restaurant_detail", {"restaurant_id": s["restaurant_id"]}, self.detail(s)) for s in shops])
        return res if len(shops) > 1 else [res]

    @staticmethod
    def available(d: dict, mains: bool = True) -> list[dict]:
        part = d["menu"][:3] if mains else d["menu"][3:]
        return [m for m in part if not m["is_sold_out"]]

    def line(self, item: dict, qty: int, options=(), note=None) -> dict:
        unit = item["price"] + sum(o["price"] for o in item["options"] if o["name"] in options)
        return {"cart_item_id": self.new_id("cart_item_id"), "menu_item_id": item["menu_item_id"], "name": item["name"],
                "quantity": qty, "options": list(options), "special_request": note, "unit_price": unit, "line_total": unit * qty}

    def subtotal(self) -> int:
        return sum(l["line_total"] for l in self.cart["lines"])

    def cart_view(self) -> dict:
        shop = self.cart["shop"]
        sub = self.subtotal()
        return {"restaurant_id": shop["restaurant_id"], "restaurant_name": shop["name"], "items": self.cart["lines"],
                "subtotal": sub, "delivery_fee": shop["delivery_fee"], "total": sub + shop["delivery_fee"]}

    def change(self, line: dict) -> dict:
        return {"cart_item": line, "item_count": sum(l["quantity"] for l in self.cart["lines"]), "subtotal": self.subtotal()}

    def prefill(self) -> None:
        """A cart the customer filled before the chat (one open shop, a main plus 0–2 more items)."""
        shop = self.shops(1)[0]
        shop["is_open"] = True
        d = self.detail(shop)
        self.cart = {"shop": shop, "lines": []}
        rest = [m for m in d["menu"][1:] if not m["is_sold_out"]]
        for item in [d["menu"][0]] + self.rng.sample(rest, self.rng.randint(0, 2)):
            self.cart["lines"].append(self.line(item, self.pick((1, 1, 2))))

    def get_cart(self, with_addresses: tuple | None = None) -> dict:
        """get_cart, or get_cart and list_addresses in parallel when ``with_addresses`` is given."""
        if with_addresses is None:
            return self.call(("get_cart", {}, self.cart_view()))
        cart, _ = self.call(("get_cart", {}, self.cart_view()), ("list_addresses", {}, self.addresses(*with_addresses)))
        return cart

    def add(self, d: dict, item: dict, qty: int, options=(), note=None) -> dict:
        """add_to_cart (options / special_request only when given); returns the new cart line."""
        if self.cart is None or self.cart["shop"]["restaurant_id"] != d["restaurant_id"]:
            self.cart = {"shop": {k: d[k] for k in _SUMMARY_KEYS}, "lines": []}
        line = self.line(item, qty, options, note)
        self.cart["lines"].append(line)
        args = {"restaurant_id": d["restaurant_id"], "menu_item_id": item["menu_item_id"], "quantity": qty}
        args.update({"options": list(options)} if options else {}, **({"special_request": note} if note else {}))
        return self.call(("add_to_cart", args, self.change(line)))["cart_item"]

    def set_qty(self, line: dict, qty: int) -> dict:
        line.update(quantity=qty, line_total=line["unit_price"] * qty)
        return self.call(("update_cart_item", {"cart_item_id": line["cart_item_id"], "quantity": qty}, self.change(line)))

    def remove(self, lines: list[dict]) -> dict:
        ids = [l["cart_item_id"] for l in lines]
        self.cart["lines"] = [l for l in self.cart["lines"] if l["cart_item_id"] not in ids]
        result = {"removed_cart_item_ids": ids, "item_count": sum(l["quantity"] for l in self.cart["lines"]), "subtotal": self.subtotal()}
        return self.call(("remove_cart_items", {"cart_item_ids": ids}, result))

    def addresses(self, *labels: str) -> dict:
        want = [a for a in _ADDRESSES if a[0] in labels]
        rest = [a for a in _ADDRESSES if a[0] not in labels]
        chosen = want + self.rng.sample(rest, max(0, self.rng.randint(2, 3) - len(want)))
        self.rng.shuffle(chosen)
        self.addrs = [{"address_id": self.new_id("address_id"), "label": lab, "address": addr, "is_default": i == 0}
                      for i, (lab, addr) in enumerate(chosen)]
        return {"items": self.addrs}

    def address(self, label: str | None) -> dict:
        return next((a for a in self.addrs if a["label"] == label), self.addrs[0])

    def checkout(self, addr: dict, pay: str, note: str | None = None, coupon: str | None = None) -> dict:
        """prepare_checkout on the current cart; returns the result."""
        sub, shop = self.subtotal(), self.cart["shop"]
        discount = self.pick((1000, 2000, 3000)) if coupon else 0
        args = {"address_id": addr["address_id"], "payment_method": pay}
        args.update({"delivery_note": note} if note else {}, **({"coupon_code": coupon} if coupon else {}))
        result = {"checkout_id": self.new_id("checkout_id"), "restaurant_name": shop["name"], "address_id": addr["address_id"],
                  "address": addr["address"], "payment_method": pay,
                  "items": [{"name": l["name"], "quantity": l["quantity"], "line_total": l["line_total"]} for l in self.cart["lines"]],
                  "subtotal": sub, "delivery_fee": shop["delivery_fee"], "discount": discount,
                  "total": sub + shop["delivery_fee"] - discount, "delivery_note": note, "coupon_code": coupon,
                  "eta_minutes": shop["eta_minutes"]}
        return self.call(("prepare_checkout", args, result))

    def stamp(self, hour: int | None = None) -> str:
        return f"{self.date}T{hour or self.rng.randint(11, 21):02d}:{self.rng.randint(0, 59):02d}:00+09:00"

    def place(self, ck: dict) -> dict:
        result = {"order_id": self.new_id("order_id"), "status": "accepted", "total": ck["total"],
                  "eta_minutes": ck["eta_minutes"], "ordered_at": self.stamp()}
        return self.call(("place_order", {"checkout_id": ck["checkout_id"]}, result))

    def fake_order(self, status: str, hour: int | None = None, fc: str | None = None) -> dict:
        """A past order of the customer: the full record get_order_status and list_orders project."""
        fc = fc or self.fc
        menu = [m.split("/") for m in _FOOD[fc][3].split("|")]
        picks = self.rng.sample(menu, self.rng.randint(1, 2))
        items = [{"name": name, "quantity": self.pick((1, 1, 2))} for name, _, _ in picks]
        total = sum(int(p[1]) * i["quantity"] for p, i in zip(picks, items)) + self.pick((0, 1000, 2000, 3000))
        eta = None if status in ("delivered", "cancelled") else self.rng.randint(5, 40)
        return {"order_id": self.new_id("order_id"), "restaurant_name": self.pick(_FOOD[fc][2].split("|")), "status": status,
                "items": items, "total": total, "ordered_at": self.stamp(hour), "eta_minutes": eta}

    def order_status(self, order: dict) -> dict:
        return self.call(("get_order_status", {"order_id": order["order_id"]}, order))

    def list_orders(self, orders: list[dict], status: str | None = None) -> list[dict]:
        rows = [{"order_id": o["order_id"], "restaurant_name": o["restaurant_name"],
                 "summary": o["items"][0]["name"] + (f" 외 {len(o['items']) - 1}건" if len(o["items"]) > 1 else ""),
                 "status": o["status"], "total": o["total"], "ordered_at": o["ordered_at"]} for o in orders]
        return self.call(("list_orders", {"status": status} if status else {}, {"items": rows}))["items"]
