#!/usr/bin/env bash
# The whole job on the embedded default (a SQLite file under demo-data/), from an empty database to a
# drawn round whose bundle verifies with the standalone public_proof.py.
set -euo pipefail
rm -rf demo-data && mkdir -p demo-data
export JOINTCHECK_DATABASE_URL="sqlite+aiosqlite:///$PWD/demo-data/jointcheck.db"
say() { printf '\n== %s\n' "$*"; }
user_of() { sed -n 's/^user \([0-9]*\) .*/\1/p'; }

say "schema, departments, the item list and the two directories"
jointcheck db upgrade
jointcheck admin department add SCJG 市场监督管理局
jointcheck admin department add SWJ 税务局
jointcheck admin department add HBJ 生态环境局
python scripts/demo_data.py demo-data
jointcheck import items demo-data/items.csv
jointcheck import targets demo-data/targets.csv
jointcheck import inspectors demo-data/inspectors.xlsx

say "people: one-time invites (here redeemed by console users; in chat by /start <code>)"
code() { jointcheck admin invite "$@" | sed -n 1p; }
LEAD=$(jointcheck admin redeem "$(code --role officer --department SCJG)" --name 市场监管王科长 | user_of)
TAX=$(jointcheck admin redeem "$(code --role officer --department SWJ)" --name 税务李科长 | user_of)
ENV=$(jointcheck admin redeem "$(code --role officer --department HBJ)" --name 环保赵科长 | user_of)
CONV=$(jointcheck admin redeem "$(code --role convener --region 440100)" --name 联席会议办公室 | user_of)

say "the lead proposes, the invited departments answer"
jointcheck round propose --as "$LEAD" --lead SCJG --title "2026年第四季度食品经营联合抽查" --region 440100 \
  --items SCJG-2026-01,SCJG-2026-K1 --invite SWJ=1 --invite HBJ=1 --team 2 \
  --ratio A=30 --ratio B=50 --ratio C=100 --ratio D=200 --cooling-off A=365 --cooling-off B=180 \
  --batch-size 10 --due "$(date -d "+30 days" +%F)"
echo "-- a ratio above an item's cap is refused, naming the item:"
jointcheck round propose --as "$LEAD" --lead SCJG --title x --region 440100 --items SCJG-2026-01 \
  --invite SWJ=1 --ratio D=400 || true
jointcheck round confirm 1 --as "$TAX" --department SWJ --items SWJ-2026-01
jointcheck round decline 1 --as "$ENV" --department HBJ

say "the convener approves (freezing the population and publishing the commitment), enters the seed, draws"
jointcheck round approve 1 --as "$CONV"
jointcheck round seed 1 "8429 1735 0062 4918 7730 5561 28" --as "$CONV"
jointcheck round draw 1 --as "$CONV"
echo "-- there is no redraw:"
jointcheck round draw 1 --as "$CONV" || true

say "the bundle, checked by the standalone verifier (standard library only)"
jointcheck round archive 1 demo-data/round-1.zip --as "$LEAD"
python -I -S jointcheck/core/public_proof.py demo-data/round-1.zip
jointcheck audit verify

say "a second round with a draw time: the scheduler of 'jointcheck run' will draw it then"
jointcheck round propose --as "$LEAD" --lead SCJG --title "2026年特种设备安全专项联合抽查" --region 440100 \
  --items SCJG-2026-K1 --invite SWJ=1 --team 1 --ratio A=10 --ratio B=20 --ratio C=50 --ratio D=100 \
  --due "$(date -d "+30 days" +%F)"
jointcheck round confirm 2 --as "$TAX" --department SWJ --items SWJ-2026-01
jointcheck round approve 2 --as "$CONV"
jointcheck round seed 2 "2718 2818 2845 9045 2353 6028 74" --as "$CONV"
jointcheck round schedule 2 "$(date -d "+40 seconds" --iso-8601=seconds)" --as "$CONV"

say "the service in chat (bot, scheduler, notification sender, site) against the local Bot API emulator"
python scripts/demo_chat.py
jointcheck round show 2 --as "$CONV" | grep -E '"status"|"tasks"'
jointcheck audit verify
