#!/usr/bin/env bash
# The end-to-end path that exists today, on the embedded default (a SQLite file under demo-data/).
set -euo pipefail
rm -rf demo-data && mkdir -p demo-data
export JOINTCHECK_DATABASE_URL="sqlite+aiosqlite:///$PWD/demo-data/jointcheck.db"

jointcheck db upgrade
jointcheck admin department add SCJG 市场监督管理局
jointcheck admin department add SWJ 税务局
jointcheck admin department add HBJ 生态环境局
echo "-- invite for the convener of Guangzhou (440100):"
jointcheck admin invite --role convener --region 440100
echo "-- invite for an officer of SCJG:"
jointcheck admin invite --role officer --department SCJG
echo "-- a wrong invite is refused with one line:"
jointcheck admin invite --role officer || true
jointcheck audit verify
