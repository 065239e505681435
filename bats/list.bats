#!/usr/bin/env bats
# `list`: table, -q, --format json.

load helpers

# Creates three containers: $CT-a (running), $CT-b (created), $CT-c (stopped).
function make_three() {
	set_cgroups_path a
	cove -0 run -d "$CT-a"
	set_cgroups_path b
	cove -0 create "$CT-b"
	set_cgroups_path c
	update_config '.process.args = ["true"]'
	cove -0 run -d "$CT-c"
	wait_for_container 50 0.1 "$CT-c" stopped
}

# Start offset of each whitespace-separated field in a line, as "0 12 24".
function field_offsets() {
	awk '{
		s = $0; off = 0; out = ""
		while (match(s, /[^ ]+/)) {
			out = out (out == "" ? "" : " ") (off + RSTART - 1)
			off += RSTART + RLENGTH - 1
			s = substr(s, RSTART + RLENGTH)
		}
		print out
	}' <<<"$1"
}

@test "list: empty root prints the header only" {
	cove -0 list
	# runc's tabwriter: min width 12, padding 3.
	[ "$output" = "ID          PID         STATUS      BUNDLE      CREATED     OWNER" ]
}

@test "list -q: empty root prints nothing" {
	cove -0 list -q
	[ -z "$output" ]
}

@test "list --format json: empty root" {
	cove -0 list --format json
	# runc prints null (a nil Go slice); [] means the same to every client.
	[ "$output" = null ] || [ "$output" = "[]" ]
}

@test "list: a root that does not exist yet is empty" {
	run -0 "$COVE" --root "$COVE_TESTDIR/not-yet" list
	[[ "${lines[0]}" =~ ^ID\ +PID\ +STATUS\ +BUNDLE\ +CREATED\ +OWNER$ ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "list: table of three containers" {
	make_three
	cove -0 list
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^ID\ +PID\ +STATUS\ +BUNDLE\ +CREATED\ +OWNER$ ]]
	local hdr
	hdr=$(field_offsets "${lines[0]}")
	local i
	for i in 1 2 3; do
		# Columns line up with the header.
		[ "$(field_offsets "${lines[$i]}")" = "$hdr" ] || fail "misaligned: ${lines[$i]}"
	done
	# Sorted by id.
	[[ "${lines[1]}" == "$CT-a "* ]]
	[[ "${lines[2]}" == "$CT-b "* ]]
	[[ "${lines[3]}" == "$CT-c "* ]]
	read -r -a f <<<"${lines[1]}"
	[ "${f[1]}" = "$(container_pid "$CT-a")" ]
	[ "${f[2]}" = running ]
	[ "${f[3]}" = "$BUNDLE" ]
	[[ "${f[4]}" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]]
	[ "${f[5]}" = root ]
	read -r -a f <<<"${lines[2]}"
	[ "${f[2]}" = created ]
	read -r -a f <<<"${lines[3]}"
	[ "${f[1]}" = 0 ]
	[ "${f[2]}" = stopped ]
}

@test "list -q prints the ids" {
	make_three
	cove -0 list -q
	[ "$output" = "$(printf '%s\n' "$CT-a" "$CT-b" "$CT-c")" ]
	cove -0 list --quiet
	[ "${#lines[@]}" -eq 3 ]
}

@test "list --format json" {
	make_three
	cove -0 list --format json
	[ "$(jq -r 'type' <<<"$output")" = array ]
	[ "$(jq -r 'length' <<<"$output")" = 3 ]
	[ "$(jq -r 'map(.id) | join(" ")' <<<"$output")" = "$CT-a $CT-b $CT-c" ]
	[ "$(jq -r 'map(.status) | join(" ")' <<<"$output")" = "running created stopped" ]
	[ "$(jq -r '.[0] | keys | join(" ")' <<<"$output")" = \
		"bundle created id ociVersion owner pid rootfs status" ]
	[ "$(jq -r '.[0].owner' <<<"$output")" = root ]
	[ "$(jq -r '.[0].rootfs' <<<"$output")" = "$BUNDLE/rootfs" ]
	[ "$(jq -r '.[2].pid' <<<"$output")" = 0 ]
	# One line, like runc.
	[ "${#lines[@]}" -eq 1 ]
	cove -0 list -f json
	[ "$(jq -r 'length' <<<"$output")" = 3 ]
}

@test "list --format table is the default" {
	make_three
	cove -0 list
	local default=$output
	cove -0 list --format table
	[ "$output" = "$default" ]
}

@test "list: annotations in json" {
	update_config '.annotations = {"k": "v"}'
	cove -0 create "$CT"
	cove -0 list --format json
	[ "$(jq -r '.[0].annotations.k' <<<"$output")" = v ]
}

@test "list --format with a bad value fails" {
	cove -1 list --format yaml
	[[ "$output" == *format* ]]
}
