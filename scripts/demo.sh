#!/usr/bin/env bash
# The demo, end to end: print sheets, simulate signed and scanned returns,
# read them, count unique signatures, export CSV files. Everything stays in demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
ps=.venv/bin/petitionscan
rm -rf demo && mkdir -p demo
echo "== 1. print 6 signature sheets for a branch"
$ps generate --sheets 6 --branch "Demo branch" --out demo/sheets.pdf --layout demo/layout.json
echo "== 2. simulate the returned sheets, filled by hand and scanned in several ways"
$ps simulate demo/sheets.pdf --layout demo/layout.json --out demo/scans --profile mixed --seed 7
echo "== 3. read the scans into demo/campaign.db"
status=0
$ps scan demo/scans --db demo/campaign.db || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 10 ]; then exit "$status"; fi
echo "== 4. count unique signatures"
$ps tally --db demo/campaign.db --by branch --out demo/tally.csv
echo "== 5. export"
$ps export --db demo/campaign.db --out demo/rows.csv
$ps export --db demo/campaign.db --unique --out demo/signatures.csv --duplicates demo/duplicates.csv
$ps report --db demo/campaign.db --out demo/report.pdf --target 40
$ps report --db demo/campaign.db --signatories --out demo/signatories.pdf
echo
echo "Done. The printable sheets:      demo/sheets.pdf"
echo "      the simulated scans:       demo/scans/ (truth.csv says what was written)"
echo "      the database:              demo/campaign.db"
echo "      rows, unique signers:      demo/rows.csv, demo/signatures.csv"
echo "      tally, report, list:       demo/tally.csv, demo/report.pdf, demo/signatories.pdf"
echo "Check the uncertain names in your browser with:"
echo "      $ps review --db demo/campaign.db"
