#!/usr/bin/env bash
# Prints an import CSV: one customer (Lena Load, load@example.com, Berlin)
# with N open USD invoices (default 50), due across November 2026. The load
# figures and the browser tests' page-weight figure both measure her account.
#   scripts/open-invoices-csv.sh [N] > invoices.csv
set -euo pipefail
N=${1:-50}
echo "customer_ref,customer_name,customer_email,customer_time_zone,invoice_ref,invoice_number,currency,amount,tax,issued_on,due_on,status,memo"
for i in $(seq -w 1 "$N"); do
  day=$(printf '%02d' $((10#$i % 28 + 1)))
  echo "LOAD-1,Lena Load,load@example.com,Europe/Berlin,L-$i,LOAD-$i,USD,$((100 + 10#$i % 900)).50,,2026-10-$day,2026-11-$day,open,"
done
