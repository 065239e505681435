#!/bin/bash
# Helpers of images.bats: a temp image store per test ($COVE_IMAGE_ROOT), OCI layouts built
# at test time from busybox-static (tests/fixtures/image/mkimage.py), registries started on
# 127.0.0.1:<free port> and stopped by PID, and checks that a failed pull left nothing.

IMAGE_FIXTURES=$(dirname "$BATS_DIR")/tests/fixtures/image
REG_PIDS=()
IMG_MOUNTS=()

function setup_images() {
	requires root python3
	[ -x "$COVE" ] || skip "no runtime at $COVE (set COVE=...)"
	"$COVE" image --help >/dev/null 2>&1 || skip "$COVE has no image commands"
	COVE_TESTDIR=$(mktemp -d "$BATS_RUN_TMPDIR/cove-img.XXXXXX")
	COVE_ROOT="$COVE_TESTDIR/state"
	export COVE_IMAGE_ROOT="$COVE_TESTDIR/images"
	mkdir -p "$COVE_ROOT"
	: >"$COVE_TESTDIR/ids"
	cd "$COVE_TESTDIR" || return 1
}

function teardown_images() {
	[ -z "$COVE_TESTDIR" ] && return 0
	local m pid
	for m in "${IMG_MOUNTS[@]}"; do
		umount "$m" 2>/dev/null || true
	done
	for pid in "${REG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	cd "$BATS_DIR" || true
	local left
	left=$(grep -F "$COVE_TESTDIR" /proc/self/mountinfo || true)
	rm -rf "$COVE_TESTDIR"
	[ -z "$left" ] || fail "mounts left: $left"
}

# mkimage LAYOUT TAG [mkimage.py options] LAYERDIR...
function mkimage() {
	"$PYTHON" "$IMAGE_FIXTURES/mkimage.py" "$@" >/dev/null
}

# busybox_layers DIR: DIR/l1 a busybox rootfs (+ /etc/hello, /etc/d/{a,c}), DIR/l2 deleting
# /etc/hello and making /etc/d opaque (with /etc/d/b), DIR/l3 adding /etc/l3.
function busybox_layers() {
	local d=$1
	mkdir -p "$d/l1/bin" "$d/l1/etc/d" "$d/l1/tmp" "$d/l1/dev" "$d/l2/etc/d" "$d/l3/etc"
	cp "$BUSYBOX" "$d/l1/bin/busybox"
	local a
	for a in sh ls cat echo; do
		ln -s busybox "$d/l1/bin/$a"
	done
	echo hello >"$d/l1/etc/hello"
	ln "$d/l1/etc/hello" "$d/l1/etc/hello.link"
	echo a >"$d/l1/etc/d/a"
	echo c >"$d/l1/etc/d/c"
	mknod "$d/l1/dev/null" c 1 3
	mkfifo "$d/l1/tmp/fifo"
	chmod 1777 "$d/l1/tmp"
	touch "$d/l2/etc/.wh.hello" "$d/l2/etc/d/.wh..wh..opq"
	echo b >"$d/l2/etc/d/b"
	echo three >"$d/l3/etc/l3"
}

# busybox_image LAYOUT TAG [mkimage options]: the three busybox layers as an image.
function busybox_image() {
	local layout=$1 tag=$2
	shift 2
	[ -d "$COVE_TESTDIR/layers/l1" ] || busybox_layers "$COVE_TESTDIR/layers"
	mkimage "$layout" "$tag" "$@" "$COVE_TESTDIR"/layers/l{1,2,3}
}

function free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: until something listens on 127.0.0.1:PORT.
function wait_port() {
	local i
	for i in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "nothing listens on 127.0.0.1:$1"
}

# start_registry [HTPASSWD [TLSDIR]]: Debian's docker-registry on 127.0.0.1:$REG_PORT, basic
# auth with the htpasswd file when given, https with TLSDIR/{cert,key}.pem when given.
function start_registry() {
	command -v docker-registry >/dev/null || skip "test requires docker-registry"
	REG_PORT=$(free_port)
	local dir="$COVE_TESTDIR/registry"
	mkdir -p "$dir/data"
	cat >"$dir/config.yml" <<-EOC
		version: 0.1
		log:
		  level: error
		storage:
		  filesystem:
		    rootdirectory: $dir/data
		http:
		  addr: 127.0.0.1:$REG_PORT
	EOC
	if [ -n "$1" ]; then
		printf 'auth:\n  htpasswd:\n    realm: cove-test\n    path: %s\n' "$1" >>"$dir/config.yml"
	fi
	if [ -n "$2" ]; then
		# Under http: in the YAML (tls must be a key of http).
		sed -i "/^  addr:/a\\  tls:\\n    certificate: $2/cert.pem\\n    key: $2/key.pem" "$dir/config.yml"
	fi
	docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
	REG_PIDS+=($!)
	wait_port "$REG_PORT"
}

# htpasswd_file USER PASS: a bcrypt htpasswd file (via crypt(3); no apache2-utils needed).
function htpasswd_file() {
	local f="$COVE_TESTDIR/htpasswd"
	"$PYTHON" -W ignore -c 'import crypt,sys; print(sys.argv[1]+":"+crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))' "$1" "$2" >"$f"
	grep -q '^[^:]*:\$2' "$f" || skip "crypt(3) has no bcrypt"
	echo "$f"
}

# make_cert DIR: a self-signed certificate for 127.0.0.1 (DIR/cert.pem, DIR/key.pem).
function make_cert() {
	command -v openssl >/dev/null || skip "test requires openssl"
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
}

# start_fake_registry LAYOUT [--user U:P]: the bearer-token registry of fake_registry.py.
function start_fake_registry() {
	local pf="$COVE_TESTDIR/fake.port"
	"$PYTHON" "$IMAGE_FIXTURES/fake_registry.py" "$1" "$pf" "${@:2}" &
	REG_PIDS+=($!)
	local i
	for i in $(seq 100); do
		[ -s "$pf" ] && break
		sleep 0.1
	done
	FAKE_PORT=$(cat "$pf")
	wait_port "$FAKE_PORT"
}

# The store holds nothing: no blob, layer, temp entry or record.
function assert_store_empty() {
	local left
	left=$(ls -A "$COVE_IMAGE_ROOT/blobs/sha256" "$COVE_IMAGE_ROOT/layers" "$COVE_IMAGE_ROOT/tmp" 2>/dev/null | grep -v -e '^$' -e ':$' || true)
	[ -z "$left" ] || fail "left in the store: $left" || return 1
	if [ -e "$COVE_IMAGE_ROOT/images.json" ]; then
		[ "$(jq '.images | length' "$COVE_IMAGE_ROOT/images.json")" = 0 ] || fail "records left" || return 1
	fi
}

# layer_dirs NAME: the image's unpacked layer paths, bottom first, one per line.
function layer_dirs() {
	"$COVE" image inspect "$1" | jq -r '.layers[].path'
}

# mount_layers MNT NAME: a read-only overlay of the image's layers on MNT (lowerdirs given
# relative to the layer store, so 60 layers fit the one-page mount data).
function mount_layers() {
	local mnt=$1 name=$2 lower="" d
	mkdir -p "$mnt"
	for d in $(layer_dirs "$name" | tac); do
		lower+="${lower:+:}$(basename "$d")"
	done
	(cd "$COVE_IMAGE_ROOT/layers" && mount -t overlay overlay -o "lowerdir=$lower" "$mnt") || return 1
	IMG_MOUNTS+=("$mnt")
}
