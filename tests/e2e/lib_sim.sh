# lib_sim.sh — start, stop and administer m365sim from bash tests.
#
#   source "$SOURCE_DIR/tests/e2e/lib_sim.sh"
#   sim_start --messages 100          # sets SIM_URL, SIM_PID, SIM_INFO
#   trap sim_stop EXIT
#   sim_admin POST /_sim/auto-approve '{"email":"adele@contoso.com"}'
#   token=$(sim_token adele@contoso.com)
#   curl -s -H "Authorization: Bearer $token" "$SIM_URL/v1.0/me"
#
# Needs curl and jq. The binary is $M365SIM_BIN (else $BUILD_DIR/m365sim).
# sim_admin prints the response body and returns non-zero for HTTP >= 400.

SIM_URL=""
SIM_PID=""
SIM_INFO=""
SIM_CLIENT_ID=""
SIM_CLIENT_SECRET=""
_SIM_DIR=""

# sim_start [m365sim args...] — start on a free port and wait for it.
sim_start() {
	local bin="${M365SIM_BIN:-${BUILD_DIR:-.}/m365sim}"
	_SIM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/m365sim.XXXXXX")
	"$bin" --listen 127.0.0.1:0 --port-file "$_SIM_DIR/port" "$@" \
		>"$_SIM_DIR/stdout" 2>"$_SIM_DIR/stderr" &
	SIM_PID=$!
	local i
	for i in $(seq 1 300); do
		if [ -s "$_SIM_DIR/stdout" ] && grep -q '}' "$_SIM_DIR/stdout"; then
			SIM_INFO=$(head -n1 "$_SIM_DIR/stdout")
			SIM_URL=$(printf '%s' "$SIM_INFO" | jq -r .url)
			SIM_CLIENT_ID=$(printf '%s' "$SIM_INFO" | jq -r .client_id)
			SIM_CLIENT_SECRET=$(printf '%s' "$SIM_INFO" | jq -r .client_secret)
			export SIM_URL SIM_PID SIM_INFO SIM_CLIENT_ID SIM_CLIENT_SECRET
			return 0
		fi
		if ! kill -0 "$SIM_PID" 2>/dev/null; then
			echo "sim_start: m365sim exited early:" >&2
			cat "$_SIM_DIR/stderr" >&2
			return 1
		fi
		sleep 0.05
	done
	echo "sim_start: m365sim did not start within 15 s" >&2
	return 1
}

# sim_stop — SIGTERM, wait up to 10 s, then SIGKILL; returns m365sim's exit
# status (0 = clean shutdown). Safe under `set -e`.
sim_stop() {
	local rc=0 i state
	if [ -n "$SIM_PID" ]; then
		kill -TERM "$SIM_PID" 2>/dev/null || true
		for i in $(seq 1 200); do
			state=$(awk '{print $3}' "/proc/$SIM_PID/stat" 2>/dev/null || echo gone)
			if [ "$state" = Z ] || [ "$state" = gone ]; then break; fi
			sleep 0.05
		done
		if [ "$state" != Z ] && [ "$state" != gone ]; then
			kill -KILL "$SIM_PID" 2>/dev/null || true
		fi
		wait "$SIM_PID" 2>/dev/null || rc=$?
	fi
	SIM_PID=""
	if [ -n "$_SIM_DIR" ]; then rm -rf "$_SIM_DIR"; fi
	_SIM_DIR=""
	return $rc
}

# sim_admin METHOD PATH [JSON] — call the admin API; prints the body.
sim_admin() {
	local method=$1 path=$2 body=${3:-}
	local out code
	out=$(mktemp)
	if [ -n "$body" ]; then
		code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" \
			-H 'Content-Type: application/json' --data-binary "$body" "$SIM_URL$path")
	else
		code=$(curl -s -o "$out" -w '%{http_code}' -X "$method" "$SIM_URL$path")
	fi
	cat "$out"
	rm -f "$out"
	[ "$code" -lt 400 ]
}

# sim_login EMAIL [SCOPE] — sign EMAIL in (auto-approve + authorization
# code + PKCE) for the default app; sets SIM_ACCESS_TOKEN and
# SIM_REFRESH_TOKEN. Call it directly (not in $(...)) to keep the variables.
sim_login() {
	local email=$1 scope=${2:-"openid profile email offline_access Mail.ReadWrite Mail.Send User.Read"}
	local verifier="lib-sim-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
	local challenge loc code resp
	challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
	sim_admin POST /_sim/auto-approve "{\"email\":\"$email\"}" >/dev/null || return 1
	loc=$(curl -s -o /dev/null -w '%{redirect_url}' -G "$SIM_URL/common/oauth2/v2.0/authorize" \
		--data-urlencode "client_id=$SIM_CLIENT_ID" --data-urlencode response_type=code \
		--data-urlencode redirect_uri=http://127.0.0.1:1/cb --data-urlencode "scope=$scope" \
		--data-urlencode state=s --data-urlencode "code_challenge=$challenge" \
		--data-urlencode code_challenge_method=S256)
	sim_admin POST /_sim/auto-approve '{"email":null}' >/dev/null
	code=$(printf '%s' "$loc" | sed -n 's/.*[?&]code=\([^&]*\).*/\1/p')
	[ -n "$code" ] || return 1
	resp=$(curl -s "$SIM_URL/common/oauth2/v2.0/token" --data-urlencode grant_type=authorization_code \
		--data-urlencode "client_id=$SIM_CLIENT_ID" --data-urlencode "client_secret=$SIM_CLIENT_SECRET" \
		--data-urlencode "code=$code" --data-urlencode redirect_uri=http://127.0.0.1:1/cb \
		--data-urlencode "code_verifier=$verifier")
	SIM_ACCESS_TOKEN=$(printf '%s' "$resp" | jq -r '.access_token // empty')
	SIM_REFRESH_TOKEN=$(printf '%s' "$resp" | jq -r '.refresh_token // empty')
	export SIM_ACCESS_TOKEN SIM_REFRESH_TOKEN
	[ -n "$SIM_ACCESS_TOKEN" ]
}

# sim_token EMAIL [SCOPE] — print an access token for EMAIL (see sim_login).
sim_token() {
	sim_login "$@" && printf '%s' "$SIM_ACCESS_TOKEN"
}
