#!/usr/bin/env bats
# `run --image`, `create --image`, `spec --image`: containers whose rootfs is an overlay of an
# image's layers, mounted by the init inside the container's mount namespace. The images are
# OCI layouts made here from busybox-static (tar + jq, nothing downloaded) and pulled with
# `cove image pull oci:...` into a store shared by this file's tests.

load helpers

# The store and the layouts live for the whole file; containers per test.
function setup_file() {
	export COVE_IMAGE_ROOT="$BATS_FILE_TMPDIR/images"
	export IMAGE_SKIP="$BATS_FILE_TMPDIR/skip-reason"
	if [ "$(id -u)" != 0 ]; then
		echo "needs root" >"$IMAGE_SKIP"
		return 0
	fi
	if ! "$COVE" image --help >/dev/null 2>&1; then
		echo "cove has no image commands yet (image-store not merged)" >"$IMAGE_SKIP"
		return 0
	fi
	__busybox_template
	local base="$BATS_RUN_TMPDIR/busybox-rootfs" extra="$BATS_FILE_TMPDIR/layer-extra"
	mkdir -p "$extra/home/bats/work" "$extra/etc"
	echo "from layer 2" >"$extra/etc/layer2"
	make_oci_image "$BATS_FILE_TMPDIR/oci-bb" latest '{
		"Env": ["GREETING=hello from the image", "PATH=/usr/bin:/bin"],
		"Cmd": ["sh", "-c", "echo $GREETING"],
		"WorkingDir": "/home/bats/work",
		"User": "bats"
	}' "$base" "$extra"
	local out
	if ! out=$("$COVE" image pull --name bb "oci:$BATS_FILE_TMPDIR/oci-bb:latest" 2>&1); then
		echo "cove image pull does not work yet: $out" >"$IMAGE_SKIP"
		return 0
	fi
	# 60 layers: busybox and 59 layers of one file each.
	local layers=("$base") i
	for i in $(seq 1 59); do
		mkdir -p "$BATS_FILE_TMPDIR/many/$i/layers"
		echo "$i" >"$BATS_FILE_TMPDIR/many/$i/layers/$i"
		layers+=("$BATS_FILE_TMPDIR/many/$i")
	done
	make_oci_image "$BATS_FILE_TMPDIR/oci-many" latest '{"Cmd": ["sh"]}' "${layers[@]}"
	"$COVE" image pull -q --name many "oci:$BATS_FILE_TMPDIR/oci-many:latest" >/dev/null
}

function teardown_file() {
	[ -d "$COVE_IMAGE_ROOT" ] && "$COVE" image rm bb many >/dev/null 2>&1
	return 0
}

function setup() {
	[ -s "$IMAGE_SKIP" ] && skip "$(cat "$IMAGE_SKIP")"
	setup_busybox
	# Outside the test dir, so teardown can check that delete emptied it.
	export COVE_CONTAINER_ROOT="$BATS_FILE_TMPDIR/containers.$BATS_TEST_NUMBER"
}

function teardown() {
	# teardown_bundle force-deletes every container under the state root.
	local rc=0 left=""
	teardown_bundle || rc=1
	if [ -d "$COVE_CONTAINER_ROOT" ]; then
		left=$(ls -A "$COVE_CONTAINER_ROOT")
		rm -rf "$COVE_CONTAINER_ROOT"
	fi
	[ -z "$left" ] || fail "container storage left after delete: $left" || rc=1
	return $rc
}

# make_oci_image LAYOUT TAG CONFIG_JSON LAYER_DIR...: an OCI image layout with one image
# (uncompressed tar layers, bottom first) tagged TAG; CONFIG_JSON is the image config's
# "config" object.
function make_oci_image() {
	local layout=$1 tag=$2 cfg=$3
	shift 3
	mkdir -p "$layout/blobs/sha256"
	echo '{"imageLayoutVersion": "1.0.0"}' >"$layout/oci-layout"
	local d digest size layers='[]' diffids='[]' tmp="$layout/tmp.blob"
	for d in "$@"; do
		tar --numeric-owner --sort=name -C "$d" -cf "$tmp" .
		digest=$(sha256sum "$tmp" | cut -d' ' -f1)
		size=$(stat -c %s "$tmp")
		mv "$tmp" "$layout/blobs/sha256/$digest"
		layers=$(jq -c --arg d "sha256:$digest" --argjson s "$size" \
			'. + [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $d, size: $s}]' \
			<<<"$layers")
		diffids=$(jq -c --arg d "sha256:$digest" '. + [$d]' <<<"$diffids")
	done
	__blob() {
		digest=$(sha256sum "$tmp" | cut -d' ' -f1)
		size=$(stat -c %s "$tmp")
		mv "$tmp" "$layout/blobs/sha256/$digest"
	}
	jq -n -c --argjson c "$cfg" --argjson ids "$diffids" --arg arch "$(dpkg --print-architecture)" \
		'{architecture: $arch, os: "linux", config: $c, rootfs: {type: "layers", diff_ids: $ids}}' \
		>"$tmp"
	__blob
	jq -n -c --arg d "sha256:$digest" --argjson s "$size" --argjson l "$layers" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $d, size: $s},
		  layers: $l}' >"$tmp"
	__blob
	jq -n -c --arg d "sha256:$digest" --argjson s "$size" --arg t "$tag" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
		  digest: $d, size: $s, annotations: {"org.opencontainers.image.ref.name": $t}}]}' \
		>"$layout/index.json"
}

# The host-side dir of a layer that holds PATH (relative to the layer root).
function layer_with() {
	local d
	for d in "$COVE_IMAGE_ROOT"/layers/*/; do
		[ -e "$d$1" ] && echo "${d%/}" && return 0
	done
	return 1
}

@test "run --image: the image's Cmd runs and prints from inside; --rm leaves nothing" {
	cove -0 run --rm --image bb "$CT"
	[ "$output" = "hello from the image" ]
	cove -1 state "$CT"
	[ ! -e "$COVE_CONTAINER_ROOT/$CT" ]
	assert_nothing_left
}

@test "run --image: exit code of the command; the stopped container stays without --rm" {
	cove -3 run --image bb "$CT" -- sh -c 'exit 3'
	cove -0 state "$CT"
	[ "$(jq -r .status <<<"$output")" = stopped ]
	[ -d "$COVE_CONTAINER_ROOT/$CT/upper" ]
	cove -0 delete "$CT"
	[ ! -e "$COVE_CONTAINER_ROOT/$CT" ]
}

@test "run --image: a command after -- replaces the image's Cmd" {
	cove -0 run --rm --image bb "$CT" -- echo overridden '$GREETING'
	[ "$output" = 'overridden $GREETING' ]
}

@test "run --image: env, working dir and user come from the image config" {
	cove -0 run --rm --image bb "$CT" -- sh -c \
		'echo "$GREETING|$PATH|$TERM|$(pwd)|$(id -u):$(id -g)|$(id -G)|$HOME"'
	[ "$output" = "hello from the image|/usr/bin:/bin|xterm|/home/bats/work|1000:1000|1000 100|/home/bats" ]
}

@test "run -t --image: the process gets a terminal" {
	cove -0 run -t --rm --image bb "$CT" -- sh -c 'tty; echo done' </dev/null
	[[ "$output" == /dev/pts/* ]]
	[[ "$output" == *done* ]]
}

@test "run --image: the rootfs is the image's layers merged, and writable" {
	cove -0 run --rm --image bb "$CT" -- sh -c \
		'cat /etc/layer2; echo new >/tmp/new && cat /tmp/new; grep " / / " /proc/self/mountinfo'
	[ "${lines[0]}" = "from layer 2" ]
	[ "${lines[1]}" = new ]
	[[ "${lines[2]}" == *" - overlay "* ]]
}

@test "create --image: two containers share the layer dirs, and see each other's writes nowhere" {
	cove -0 create --image bb "$CT-a" -- sleep 100
	cove -0 create --image bb "$CT-b" -- sleep 100
	cove -0 start "$CT-a"
	cove -0 start "$CT-b"
	# Overlay reports a lower file's own inode: the same layer file for both.
	local host_ino
	host_ino=$(stat -c %i "$(layer_with bin/busybox)/bin/busybox")
	cove -0 exec "$CT-a" stat -c %i /bin/busybox
	[ "$output" = "$host_ino" ]
	cove -0 exec "$CT-b" stat -c %i /bin/busybox
	[ "$output" = "$host_ino" ]

	cove -0 exec --user 0:0 "$CT-a" sh -c 'echo a >/tmp/only-a && rm /etc/layer2'
	cove -0 exec "$CT-b" sh -c 'cat /etc/layer2; ls /tmp'
	[ "$output" = "from layer 2" ]
	[ -e "$COVE_CONTAINER_ROOT/$CT-a/upper/tmp/only-a" ]
	[ ! -e "$COVE_CONTAINER_ROOT/$CT-b/upper/tmp/only-a" ]
	[ -c "$COVE_CONTAINER_ROOT/$CT-a/upper/etc/layer2" ] # a's whiteout, in a's upper only
	# The layer itself is untouched.
	[ -e "$(layer_with etc/layer2)/etc/layer2" ]
	[ -z "$(find "$COVE_IMAGE_ROOT/layers" -name only-a)" ]

	cove -0 delete --force "$CT-a"
	cove -0 delete --force "$CT-b"
	[ ! -e "$COVE_CONTAINER_ROOT/$CT-a" ]
	[ ! -e "$COVE_CONTAINER_ROOT/$CT-b" ]
}

@test "create --image: the host sees no overlay mount; delete leaves no upper or work" {
	cove -0 create --image bb "$CT" -- sleep 100
	[ -d "$COVE_CONTAINER_ROOT/$CT/upper" ]
	[ -d "$COVE_CONTAINER_ROOT/$CT/work" ]
	# The overlay is in the container's mount namespace only.
	local pid
	pid=$(__cove state "$CT" | jq -r .pid)
	run ! grep -F "$COVE_CONTAINER_ROOT" /proc/self/mountinfo
	run ! grep -F "$COVE_IMAGE_ROOT" /proc/self/mountinfo
	grep -F "$COVE_CONTAINER_ROOT/$CT/upper" "/proc/$pid/mountinfo" | grep -q ' - overlay '
	cove -0 start "$CT"
	cove -0 exec --user 0:0 "$CT" sh -c 'echo x >/written'
	[ -e "$COVE_CONTAINER_ROOT/$CT/upper/written" ]
	cove -0 delete --force "$CT"
	[ ! -e "$COVE_CONTAINER_ROOT/$CT" ]
	assert_nothing_left
}

@test "image rm while a container uses the image keeps its layers until delete" {
	local own="$BATS_TEST_TMPDIR/own-layer"
	mkdir -p "$own" && echo "$BATS_TEST_TMPDIR" >"$own/unique"
	make_oci_image "$BATS_TEST_TMPDIR/oci-held" latest '{"Cmd": ["sh"]}' \
		"$BATS_RUN_TMPDIR/busybox-rootfs" "$own"
	"$COVE" image pull -q --name held "oci:$BATS_TEST_TMPDIR/oci-held:latest" >/dev/null
	local layer
	layer=$("$COVE" image inspect held | jq -r '.layers[1].path')
	[ -e "$layer/unique" ]
	cove -0 create --image held "$CT" -- sleep 100
	[ -e "$COVE_IMAGE_ROOT/holds/$CT" ]
	"$COVE" image rm held
	[ -e "$layer/unique" ]
	cove -0 start "$CT"
	cove -0 exec "$CT" cat /unique
	cove -0 delete --force "$CT"
	[ ! -e "$COVE_IMAGE_ROOT/holds/$CT" ]
}

@test "run --image: an image of 60 layers runs" {
	[ "$("$COVE" image inspect many | jq '.layers | length')" = 60 ]
	cove -0 run --rm --image many "$CT" -- sh -c 'ls /layers | wc -l; cat /layers/1 /layers/59'
	[ "${lines[0]}" = 59 ]
	[ "${lines[1]}" = 1 ]
	[ "${lines[2]}" = 59 ]
}

@test "run --image: a bad image name is a clear error and leaves nothing" {
	cove -1 run --image no-such-image "$CT"
	[[ "$output" == *'image "no-such-image": not found'* ]]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$COVE_CONTAINER_ROOT/$CT" ]
	assert_nothing_left
}

@test "create --image: a command that does not exist fails the create; nothing is left" {
	cove ! create --image bb "$CT" -- /no/such/program
	[[ "$output" == *"/no/such/program"* ]]
	[ -z "$(ls -A "$COVE_CONTAINER_ROOT" 2>/dev/null)" ]
	assert_nothing_left
}

@test "run --image: an id already taken is an error that leaves the other container alone" {
	cove -0 create --image bb "$CT" -- sleep 100
	cove -1 create --image bb "$CT" -- sleep 100
	[[ "$output" == *"exists"* ]]
	cove -0 state "$CT"
	[ -d "$COVE_CONTAINER_ROOT/$CT/upper" ]
	cove -0 delete --force "$CT"
}

@test "run --image: flags that need --image, and --bundle with --image, are errors" {
	cove -1 run "$CT" -- echo hi
	[[ "$output" == *"only taken with --image"* ]]
	cove -1 run --bundle "$BUNDLE" --image bb "$CT"
	[[ "$output" == *"--bundle and --image"* ]]
	cove -1 run -d --rm --image bb "$CT"
	assert_nothing_left
}

@test "spec --image: writes the config.json create --image would use" {
	local dir="$COVE_TESTDIR/spec"
	mkdir -p "$dir"
	"$COVE" spec --image bb --bundle "$dir"
	[ "$(jq -r .root.path "$dir/config.json")" = rootfs ]
	[ "$(jq -r .root.readonly "$dir/config.json")" = false ]
	[ "$(jq -c .process.args "$dir/config.json")" = '["sh","-c","echo $GREETING"]' ]
	[ "$(jq -c .process.user "$dir/config.json")" = '{"uid":1000,"gid":1000,"additionalGids":[100]}' ]
	[ "$(jq -r .process.cwd "$dir/config.json")" = /home/bats/work ]
	jq -e '.process.env | index("GREETING=hello from the image")' "$dir/config.json"
	run ! "$COVE" spec --image bb --bundle "$dir"
}
