#!/usr/bin/env bats
# cove image pull/ls/rm/inspect: OCI layouts, docker-archive, registries (docker-registry
# with and without basic auth, a bearer-token fake), layer sharing, whiteouts through a real
# overlay mount, 60 layers, and failed pulls that leave nothing.

load helpers
load image_helpers

function setup() {
	setup_images
}

function teardown() {
	teardown_images
}

@test "image pull oci: three layers with a deletion and an opaque dir, seen through overlay" {
	busybox_image "$COVE_TESTDIR/oci" v1
	cove -0 image pull "oci:$COVE_TESTDIR/oci:v1"
	cove -0 image ls --format json
	[ "$(jq -r '.[0].name' <<<"$output")" = "localhost/oci:v1" ]
	mapfile -t dirs < <(layer_dirs localhost/oci:v1)
	[ "${#dirs[@]}" -eq 3 ]
	# The second layer holds an overlay whiteout and an opaque directory.
	[ -c "${dirs[1]}/etc/hello" ]
	[ "$(stat -c %t:%T "${dirs[1]}/etc/hello")" = 0:0 ]
	"$PYTHON" -c 'import os,sys; assert os.getxattr(sys.argv[1], "trusted.overlay.opaque") == b"y"' "${dirs[1]}/etc/d"
	[ -c "${dirs[0]}/dev/null" ]
	[ -p "${dirs[0]}/tmp/fifo" ]
	[ "$(stat -c %a "${dirs[0]}/tmp")" = 1777 ]
	[ "$(stat -c %h "${dirs[0]}/etc/hello")" = 2 ]
	# Through overlayfs: hello is gone, /etc/d has only b, l3 is there.
	mount_layers "$COVE_TESTDIR/mnt" localhost/oci:v1
	[ ! -e "$COVE_TESTDIR/mnt/etc/hello" ]
	[ "$(ls "$COVE_TESTDIR/mnt/etc/d")" = b ]
	[ "$(cat "$COVE_TESTDIR/mnt/etc/l3")" = three ]
	"$COVE_TESTDIR/mnt/bin/busybox" true
}

@test "image ls: table, -q, json; inspect: name, digest, config, layers" {
	busybox_image "$COVE_TESTDIR/bb" latest --cmd /bin/echo --cmd hi
	cove -0 image pull -q "oci:$COVE_TESTDIR/bb"
	local id=$output
	[ ${#id} -eq 64 ]
	cove -0 image ls
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "${lines[1]}" =~ ^localhost/bb\ +latest\ +${id:0:12}\ + ]]
	cove -0 image ls -q
	[ "$output" = "${id:0:12}" ]
	cove -0 image inspect bb
	[ "$(jq -r .name <<<"$output")" = localhost/bb:latest ]
	[ "$(jq -r .id <<<"$output")" = "$id" ]
	[[ "$(jq -r .digest <<<"$output")" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "$(jq -c .config.config.Cmd <<<"$output")" = '["/bin/echo","hi"]' ]
	[ "$(jq '.layers | length' <<<"$output")" = 3 ]
	# By id prefix too.
	cove -0 image inspect "${id:0:12}"
}

@test "image pull: zstd and uncompressed layers" {
	busybox_image "$COVE_TESTDIR/z" v1 --compress zstd
	busybox_image "$COVE_TESTDIR/n" v1 --compress none
	cove -0 image pull "oci:$COVE_TESTDIR/z:v1"
	cove -0 image pull "oci:$COVE_TESTDIR/n:v1"
	# Same diffIDs: the layers are shared, not unpacked twice.
	[ "$(ls "$COVE_IMAGE_ROOT/layers" | wc -l)" -eq 3 ]
	[[ "$output" == *"already present"* ]]
	[ -x "$(layer_dirs z:v1 | head -1)/bin/busybox" ]
}

@test "image pull: a multi-arch index picks linux/amd64; --platform for one it lacks fails cleanly" {
	busybox_image "$COVE_TESTDIR/multi" v1 --platform-index
	cove ! image pull --platform linux/arm64 "oci:$COVE_TESTDIR/multi:v1"
	[[ "$output" == *"no such file"* || "$output" == *"No such file"* ]]
	assert_store_empty
	cove ! image pull --platform linux/s390x "oci:$COVE_TESTDIR/multi:v1"
	[[ "$output" == *"linux/arm64"* ]]
	assert_store_empty
	cove -0 image pull "oci:$COVE_TESTDIR/multi:v1"
	[[ "$output" == *"choosing sha256:"* ]]
}

@test "image pull: a 60-layer image with deletions in every other layer" {
	local i args=()
	for i in $(seq 1 60); do
		mkdir -p "$COVE_TESTDIR/layers60/$i/n"
		echo "$i" >"$COVE_TESTDIR/layers60/$i/n/$i"
		if [ $((i % 2)) -eq 0 ]; then
			touch "$COVE_TESTDIR/layers60/$i/n/.wh.$((i - 1))"
		fi
		args+=("$COVE_TESTDIR/layers60/$i")
	done
	mkimage "$COVE_TESTDIR/sixty" v1 "${args[@]}"
	cove -0 image pull --name sixty "oci:$COVE_TESTDIR/sixty:v1"
	[ "$(cove image inspect sixty >/dev/null; jq '.layers | length' <<<"$output")" = 60 ]
	mount_layers "$COVE_TESTDIR/mnt" sixty
	[ "$(ls "$COVE_TESTDIR/mnt/n" | wc -l)" -eq 30 ]
	[ "$(cat "$COVE_TESTDIR/mnt/n/60")" = 60 ]
	[ ! -e "$COVE_TESTDIR/mnt/n/59" ]
}

@test "image pull docker-archive: from skopeo, same layers as the OCI layout" {
	command -v skopeo >/dev/null || skip "test requires skopeo"
	busybox_image "$COVE_TESTDIR/oci" v1
	skopeo copy -q "oci:$COVE_TESTDIR/oci:v1" "docker-archive:$COVE_TESTDIR/bb.tar:busybox:1"
	cove -0 image pull "docker-archive:$COVE_TESTDIR/bb.tar"
	cove -0 image inspect busybox:1
	[ "$(jq -r .name <<<"$output")" = docker.io/library/busybox:1 ]
	local diffs
	diffs=$(jq -c '[.layers[].diffID]' <<<"$output")
	cove -0 image pull "oci:$COVE_TESTDIR/oci:v1"
	cove -0 image inspect oci:v1
	[ "$(jq -c '[.layers[].diffID]' <<<"$output")" = "$diffs" ]
	cove -0 image pull --name mine "docker-archive:$COVE_TESTDIR/bb.tar"
	cove -0 image inspect mine
}

@test "image pull docker://: from docker-registry on loopback" {
	command -v skopeo >/dev/null || skip "test requires skopeo"
	busybox_image "$COVE_TESTDIR/oci" v1
	start_registry
	skopeo copy -q --dest-tls-verify=false "oci:$COVE_TESTDIR/oci:v1" "docker://127.0.0.1:$REG_PORT/busybox:1"
	cove -0 image pull "docker://127.0.0.1:$REG_PORT/busybox:1"
	[[ "$output" == *"copying blob sha256:"* ]]
	cove -0 image ls --format json
	[ "$(jq -r '.[0].name' <<<"$output")" = "127.0.0.1:$REG_PORT/busybox:1" ]
	# By digest too, and a missing tag fails with the registry's word for it.
	local digest
	digest=$(jq -r '.[0].digest' <<<"$output")
	cove -0 image pull "docker://127.0.0.1:$REG_PORT/busybox@$digest"
	cove ! image pull "docker://127.0.0.1:$REG_PORT/busybox:nope"
	[[ "$output" == *"MANIFEST_UNKNOWN"* ]]
}

@test "image pull docker://: basic auth with --creds" {
	command -v skopeo >/dev/null || skip "test requires skopeo"
	local pw
	pw=$(htpasswd_file alice s3cret)
	busybox_image "$COVE_TESTDIR/oci" v1
	start_registry "$pw"
	skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$COVE_TESTDIR/oci:v1" "docker://127.0.0.1:$REG_PORT/busybox:1"
	cove ! image pull "docker://127.0.0.1:$REG_PORT/busybox:1"
	[[ "$output" == *"--creds"* ]]
	assert_store_empty
	cove ! image pull --creds alice:wrong "docker://127.0.0.1:$REG_PORT/busybox:1"
	[[ "$output" == *"authentication failed"* ]]
	assert_store_empty
	cove -0 image pull --creds alice:s3cret "docker://127.0.0.1:$REG_PORT/busybox:1"
}

@test "image pull docker://: https with --ca-file" {
	command -v skopeo >/dev/null || skip "test requires skopeo"
	make_cert "$COVE_TESTDIR/tls"
	make_cert "$COVE_TESTDIR/other"
	busybox_image "$COVE_TESTDIR/oci" v1
	start_registry "" "$COVE_TESTDIR/tls"
	grep -q 'tls:' "$COVE_TESTDIR/registry/config.yml"
	skopeo copy -q --dest-cert-dir "$COVE_TESTDIR/tls" --dest-tls-verify=false "oci:$COVE_TESTDIR/oci:v1" "docker://127.0.0.1:$REG_PORT/busybox:1"
	cove ! image pull --ca-file "$COVE_TESTDIR/other/cert.pem" "docker://127.0.0.1:$REG_PORT/busybox:1"
	[[ "$output" == *"https://127.0.0.1:$REG_PORT"* ]]
	[[ "$output" == *"certificate"* || "$output" == *"SSL"* ]]
	assert_store_empty
	cove -0 image pull --ca-file "$COVE_TESTDIR/tls/cert.pem" "docker://127.0.0.1:$REG_PORT/busybox:1"
	cove -0 image inspect "127.0.0.1:$REG_PORT/busybox:1"
}

@test "image pull docker://: bearer token auth and blob redirects" {
	busybox_image "$COVE_TESTDIR/oci" v1 --platform-index
	rm -f "$COVE_TESTDIR/oci/blobs/sha256/$(printf '0%.0s' {1..64})"
	start_fake_registry "$COVE_TESTDIR/oci" --user bob:pw
	cove ! image pull "docker://127.0.0.1:$FAKE_PORT/busybox:v1"
	[[ "$output" == *"token"* ]]
	assert_store_empty
	cove -0 image pull --creds bob:pw "docker://127.0.0.1:$FAKE_PORT/busybox:v1"
	[[ "$output" == *"choosing sha256:"* ]]
	cove -0 image inspect "127.0.0.1:$FAKE_PORT/busybox:v1"
}

@test "image rm: removes records, then blobs and layers no image uses" {
	busybox_image "$COVE_TESTDIR/a" v1
	mkdir -p "$COVE_TESTDIR/extra/x"
	echo x >"$COVE_TESTDIR/extra/x/x"
	mkimage "$COVE_TESTDIR/a" v2 "$COVE_TESTDIR"/layers/l{1,2,3} "$COVE_TESTDIR/extra"
	cove -0 image pull "oci:$COVE_TESTDIR/a:v1"
	cove -0 image pull "oci:$COVE_TESTDIR/a:v2"
	[ "$(ls "$COVE_IMAGE_ROOT/layers" | wc -l)" -eq 4 ]
	cove -0 image rm a:v2
	# v1's layers stay; the extra layer and v2's manifest and config go.
	[ "$(ls "$COVE_IMAGE_ROOT/layers" | wc -l)" -eq 3 ]
	[ "$(ls "$COVE_IMAGE_ROOT/blobs/sha256" | wc -l)" -eq 5 ]
	cove -0 image inspect a:v1
	cove ! image rm a:v2
	[[ "$output" == *"not found"* ]]
	[ "${#lines[@]}" -eq 1 ]
	cove -0 image rm localhost/a:v1
	assert_store_empty
	cove -0 image ls -q
	[ -z "$output" ]
}

@test "image pull: bad sources fail with one line and leave nothing" {
	busybox_image "$COVE_TESTDIR/oci" v1
	cove ! image pull "oci:$COVE_TESTDIR/missing"
	[ "${#lines[@]}" -eq 1 ]
	cove ! image pull "oci:$COVE_TESTDIR/oci:nope"
	[[ "$output" == *'no image tagged "nope"'* ]]
	cove ! image pull "docker://Bad"
	[[ "$output" == *"invalid"* ]]
	cove ! image pull "docker-archive:$COVE_TESTDIR/none.tar"
	cove ! image pull --name 'Bad Name' "oci:$COVE_TESTDIR/oci:v1"
	[[ "$output" == *"Bad Name"* ]]
	# A corrupted layer blob: digest mismatch, nothing kept.
	local blob
	blob=$(jq -r '.layers[1].digest' "$COVE_TESTDIR/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$COVE_TESTDIR/oci/index.json" | cut -d: -f2)" | cut -d: -f2)
	echo garbage >>"$COVE_TESTDIR/oci/blobs/sha256/$blob"
	cove ! image pull -q "oci:$COVE_TESTDIR/oci:v1"
	[[ "$output" == *"digest mismatch"* || "$output" == *"size mismatch"* ]]
	[ "${#lines[@]}" -eq 1 ]
	assert_store_empty
	cove ! image inspect nothere
	cove ! image ls --format yaml
}

@test "image pull docker-archive: the OCI-layout-inside form of newer docker save" {
	busybox_image "$COVE_TESTDIR/oci" v1
	local m="$COVE_TESTDIR/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$COVE_TESTDIR/oci/index.json" | cut -d: -f2)"
	jq -c '[{Config: ("blobs/sha256/" + (.config.digest | ltrimstr("sha256:"))),
		RepoTags: ["ocish:1"],
		Layers: [.layers[].digest | "blobs/sha256/" + ltrimstr("sha256:")]}]' "$m" >"$COVE_TESTDIR/oci/manifest.json"
	tar -C "$COVE_TESTDIR/oci" -czf "$COVE_TESTDIR/new.tar.gz" manifest.json index.json oci-layout blobs
	cove -0 image pull "docker-archive:$COVE_TESTDIR/new.tar.gz"
	cove -0 image inspect ocish:1
	[ "$(jq -r .name <<<"$output")" = localhost/ocish:1 ]
	[ "$(jq '.layers | length' <<<"$output")" = 3 ]
	# A member whose bytes do not match its blobs/sha256 name is refused.
	local l="$COVE_TESTDIR/oci/blobs/sha256/$(jq -r '.layers[2].digest' "$m" | cut -d: -f2)"
	echo junk >>"$l"
	tar -C "$COVE_TESTDIR/oci" -cf "$COVE_TESTDIR/bad.tar" manifest.json blobs
	cove -0 image rm ocish:1
	cove ! image pull -q "docker-archive:$COVE_TESTDIR/bad.tar"
	[[ "$output" == *"digest mismatch"* ]]
	assert_store_empty
}
