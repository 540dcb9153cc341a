#!/usr/bin/env bash
# Every example of the README and the rest of the tour, ready to run against a running Chairside
# (`npm start`; the demo data is there on a fresh start):
#
#   bash docs/examples.sh                       # http://localhost:3000, keys from .data/demo-keys.env
#   CHAIRSIDE_URL=http://localhost:3102 CHAIRSIDE_DATA_DIR=/elsewhere bash docs/examples.sh
#
# Needs bash, curl and node (no GNU-only date, no python, no jq). It writes to the database: run
# it on a demo database. Each answer is printed after a `==>` line naming the request.
set -euo pipefail
cd "$(dirname "$0")/.."
URL=${CHAIRSIDE_URL:-http://localhost:3000}
source "${CHAIRSIDE_DATA_DIR:-.data}/demo-keys.env"

# pick: reads JSON on stdin and prints one expression of it (j is the document)
pick() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=new Function("j","return "+process.argv[1])(JSON.parse(s));console.log(typeof v==="string"?v:JSON.stringify(v))})' "$1"; }
# call: one request, its status and (shortened) answer; fails the script on a status it did not expect
call() {
  local expect=$1; shift
  echo "==> $*" | cut -c1-160 >&2
  local out status
  out=$(curl -s -w '\n%{http_code}' "$@")
  status=${out##*$'\n'}
  out=${out%$'\n'*}
  echo "$status ${out:0:300}" >&2
  [[ " $expect " == *" $status "* ]] || { echo "expected $expect, got $status" >&2; exit 1; }
  printf '%s' "$out"
}
FD="Authorization: Bearer $CHAIRSIDE_FRONT_DESK_KEY"
CL="Authorization: Bearer $CHAIRSIDE_CLINICIAN_KEY"
AD="Authorization: Bearer $CHAIRSIDE_ADMIN_KEY"
JSON='Content-Type: application/json'
day() { node -p "new Date(Date.now() + $1 * 86400e3).toISOString().slice(0, 10)"; }   # today + n days, UTC

# ---- Quick start -----------------------------------------------------------------------------
call 200 "$URL/health" >/dev/null
P=$(call 200 "$URL/v1/patients?q=ellis" -H "$FD" | pick 'j.items[0].id')
call 200 -X POST "$URL/v1/plans/preview" -H "$FD" -H "$JSON" -d "{\"patientId\":\"$P\",\"protocolId\":\"$CHAIRSIDE_PROTOCOL_ID\"}" >/dev/null
PLAN=$(call "201 200" -X POST "$URL/v1/plans" -H "$FD" -H "$JSON" -H 'Idempotency-Key: ellis-series-1' \
  -d "{\"patientId\":\"$P\",\"protocolId\":\"$CHAIRSIDE_PROTOCOL_ID\"}" | pick 'j.id')
call 200 "$URL/v1/plans/$PLAN" -H "$FD" | pick 'j.sessions.map(s => s.start + "  " + s.label).join("\n")'

# ---- A day in the clinic ---------------------------------------------------------------------
session() { curl -s "$URL/v1/plans/$PLAN" -H "$FD" | pick "j.sessions.find(s => s.ref === '$1').$2"; }
DAY=$(session 'intake#1' localDate)
call 200 "$URL/v1/sessions?from=$DAY&to=$DAY" -H "$FD" >/dev/null
call 200 -X PATCH "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID" -H "$AD" -H "$JSON" -d '{"checkInOpensDaysBefore":7}' >/dev/null
AGO=$(node -p 'new Date(Date.now() - 60e3).toISOString()')
call 200 -X POST "$URL/v1/sessions/$(session 'intake#1' id)/check-in" -H "$FD" >/dev/null
call 200 -X POST "$URL/v1/sessions/$(session 'intake#1' id)/complete" -H "$CL" -H "$JSON" -d "{\"actualStart\":\"$AGO\"}" >/dev/null
call 200 -X POST "$URL/v1/sessions/$(session 'infusion#1' id)/check-in" -H "$FD" >/dev/null
call 200 -X POST "$URL/v1/sessions/$(session 'infusion#1' id)/complete" -H "$CL" -H "$JSON" -d "{\"actualStart\":\"$AGO\",\"doseGiven\":{\"amount\":0.5,\"unit\":\"mg/kg\"}}" >/dev/null
ETAG=$(curl -s -o /dev/null -D - "$URL/v1/plans/$PLAN" -H "$FD" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
MOVE="{\"type\":\"reschedule\",\"sessionId\":\"$(session 'infusion#2' id)\",\"start\":\"$(session 'infusion#2' start | sed 's/T[0-9][0-9]:[0-9][0-9]/T14:00/')\"}"
call 200 -X POST "$URL/v1/plans/$PLAN/adjustments" -H "$FD" -H "If-Match: $ETAG" -H "$JSON" -d "$MOVE" >/dev/null
call 412 -X POST "$URL/v1/plans/$PLAN/adjustments" -H "$FD" -H "If-Match: $ETAG" -H "$JSON" -d "$MOVE" >/dev/null   # stale ETag
call 200 -X POST "$URL/v1/sessions/$(session 'infusion#3' id)/cancel" -H "$FD" -H "$JSON" -d '{"reason":"Patient has the flu"}' >/dev/null
call 200 "$URL/v1/plans/$PLAN/adjustments" -H "$FD" >/dev/null

# ---- Tenancy: an id of another clinic (here: of none) ----------------------------------------
call 404 "$URL/v1/patients/00000000-0000-4000-8000-000000000000" -H "$FD" >/dev/null
call 200 "$URL/v1/sessions?from=$DAY&to=$DAY&patientId=00000000-0000-4000-8000-000000000000" -H "$FD" | pick 'j.items.length'   # 0: an empty page

# ---- The clinic ------------------------------------------------------------------------------
# The demo clinic: Fort Lauderdale, America/New_York, open Mon–Fri 08–18 and Sat 09–14
call 200 "$URL/v1/clinics" -H "$FD" >/dev/null
call 200 "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID/chairs" -H "$FD" >/dev/null
call 200 "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID/staff" -H "$FD" >/dev/null
# Close the clinic for a day next month (admins only)
call 201 -X POST "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID/closures" -H "$AD" -H "$JSON" -d "{\"startDate\":\"$(day 40)\",\"reason\":\"Staff training\"}" >/dev/null
# A mistake comes back as RFC 9457 problem+json naming the field
call 403 -X POST "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID/chairs" -H "$FD" -H "$JSON" -d '{"name":"Chair 9"}' >/dev/null
call 400 -X PATCH "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID" -H "$AD" -H "$JSON" -d '{"timezone":"Mars/Base"}' >/dev/null

# ---- Patients --------------------------------------------------------------------------------
call 201 -X POST "$URL/v1/patients" -H "$FD" -H "$JSON" \
  -d '{"fullName":"Riley Moore","dateOfBirth":"1990-05-17","weightKg":70,
       "unavailable":[{"weekday":3,"start":"08:00","end":"12:00"}],
       "preferredTimes":[{"weekday":1,"start":"09:00","end":"12:00"}]}' >/dev/null
RILEY=$(call 200 "$URL/v1/patients?q=moore" -H "$FD" | pick 'j.items[0].id')
# The front desk's weight is pending (it never doses) until a clinician confirms it
call 200 "$URL/v1/patients/$RILEY" -H "$FD" | pick 'j.pendingWeightKg'
call 200 -X PATCH "$URL/v1/patients/$RILEY" -H "$CL" -H "$JSON" -d '{"weightKg":70}' | pick 'j.weightKg'

# ---- Protocols -------------------------------------------------------------------------------
# The demo protocol: its draft (ETag "d1") and published version 1
DRAFT_ETAG=$(curl -s -o /dev/null -D - "$URL/v1/protocols/$CHAIRSIDE_PROTOCOL_ID" -H "$CL" | tr -d '\r' | awk 'tolower($1) == "etag:" {print $2}')
call 200 "$URL/v1/protocols/$CHAIRSIDE_PROTOCOL_ID/versions/1" -H "$FD" >/dev/null
# Edit the draft (clinicians): fetch it, change it, PUT it back with If-Match, publish the next version
call 200 "$URL/v1/protocols/$CHAIRSIDE_PROTOCOL_ID" -H "$CL" \
  | pick 'JSON.stringify({ name: j.name, indication: j.indication, description: j.description, steps: j.draft.steps.map((s, i) => i === 1 ? { ...s, spacing: { ...s.spacing, max: 3 } } : s) })' > "${TMPDIR:-/tmp}/draft.json"
call 200 -X PUT "$URL/v1/protocols/$CHAIRSIDE_PROTOCOL_ID/draft" -H "$CL" -H "If-Match: $DRAFT_ETAG" -H "$JSON" -d @"${TMPDIR:-/tmp}/draft.json" >/dev/null
call 412 -X PUT "$URL/v1/protocols/$CHAIRSIDE_PROTOCOL_ID/draft" -H "$CL" -H "If-Match: $DRAFT_ETAG" -H "$JSON" -d @"${TMPDIR:-/tmp}/draft.json" >/dev/null   # stale
call "200 201" -X POST "$URL/v1/protocols/$CHAIRSIDE_PROTOCOL_ID/publish" -H "$CL" >/dev/null

# ---- Tailoring and free slots ----------------------------------------------------------------
# Tailoring (dose, count, spacing) is a clinician's: the front desk books the template as it is
call "201 200" -X POST "$URL/v1/plans" -H "$CL" -H 'Idempotency-Key: moore-series-1' -H "$JSON" \
  -d "{\"patientId\":\"$RILEY\",\"protocolId\":\"$CHAIRSIDE_PROTOCOL_ID\",\"tailoring\":{\"steps\":[{\"step\":\"infusion\",\"amount\":0.6,\"occurrences\":5}]}}" >/dev/null
call 200 "$URL/v1/patients/$RILEY/plans" -H "$CL" >/dev/null
# Where could a 40-minute infusion with 60 minutes of recovery go in the next two weeks?
call 200 "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID/availability?from=$(day 0)&to=$(day 13)&durationMinutes=40&recoveryMinutes=60&role=nurse&needsChair=true" -H "$FD" >/dev/null

# ---- Calendars, sync, webhooks ---------------------------------------------------------------
# A subscription URL for chair 1 (paste it into Google, Apple or Outlook calendar)
CHAIR=$(call 200 "$URL/v1/clinics/$CHAIRSIDE_CLINIC_ID/chairs" -H "$FD" | pick 'j.items[0].id')
FEED=$(call 201 -X POST "$URL/v1/calendar/feeds" -H "$FD" -H "$JSON" -d "{\"scope\":\"chair\",\"chairId\":\"$CHAIR\"}" | pick 'j.url')
call 200 "$FEED" >/dev/null              # text/calendar, no API key: the token in the URL is the key
# Sync: everything once, then only what changed since (keep nextSyncToken)
TOKEN=$(call 200 "$URL/v1/sync/sessions?limit=500" -H "$FD" | pick 'j.nextSyncToken')
call 200 "$URL/v1/sync/sessions?syncToken=$TOKEN" -H "$FD" >/dev/null   # {"items":[],...}
# Webhooks (admins): signed POSTs for every session change (the secret is shown once)
call 201 -X POST "$URL/v1/webhooks" -H "$AD" -H "$JSON" \
  -d '{"url":"https://example.org/chairside-hook","eventTypes":["session.created","session.updated","session.cancelled","plan.adjusted"]}' >/dev/null

# ---- The audit trail and keys (admins) -------------------------------------------------------
# Who read Morgan Ellis's data?
call 200 "$URL/v1/audit?patientId=$P&limit=5" -H "$AD" >/dev/null
# A key for a new front-desk tablet (the answer shows it once), the list, and revoking it
KEY_ID=$(call 201 -X POST "$URL/v1/api-keys" -H "$AD" -H "$JSON" -d '{"name":"Front desk tablet","role":"front_desk"}' | pick 'j.id')
call 200 "$URL/v1/api-keys" -H "$AD" >/dev/null
call 200 -X DELETE "$URL/v1/api-keys/$KEY_ID" -H "$AD" >/dev/null     # the revoked key, with revokedAt
echo "every example answered as expected" >&2
